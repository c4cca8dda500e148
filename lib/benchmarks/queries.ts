// The industry benchmarks page: the percentiles of ads.performance_benchmarks
// for the tenant's vertical and the platforms it advertises on, with the
// tenant's own figures over its last 30 complete days placed on them. Two
// reads in the tenant transaction: the campaign-level sums per platform, and
// the shared benchmark rows (readable by every tenant, written by the owner).
import { sql } from 'kysely';
import type { Tx } from '../db/pool';
import { addDays } from '../performance/filters';
import { isPlatform, PLATFORMS, type Platform } from '../performance/metrics';
import { BENCHMARK_METRICS, figureOf, isBenchmarkMetric, place, type BenchmarkMetric, type Percentiles, type Placement, type Totals } from './place';

/** The window of the tenant's own figures. */
export const OWN_DAYS = 30;

export interface BenchmarkLine {
  metric: BenchmarkMetric;
  percentiles: Percentiles | null;
  sampleSize: number | null;
  own: number | null;
  placement: Placement;
}

export interface PlatformBenchmarks {
  platform: Platform;
  totals: Totals;
  lines: BenchmarkLine[];
  source: string | null;
  validFrom: string | null;
}

export interface BenchmarksPage {
  vertical: string | null;
  from: string;
  to: string;
  platforms: PlatformBenchmarks[];
}

interface OwnRow {
  platform: string;
  spend: number;
  impressions: number;
  clicks: number;
  conversions: number;
  value: number;
}

interface BenchRow {
  platform: string;
  metric_name: string;
  p10: number | null;
  p25: number | null;
  p50: number | null;
  p75: number | null;
  p90: number | null;
  sample_size: number | null;
  source: string | null;
  valid_from: string;
}

/** lastDay: the tenant's last complete day (yyyy-mm-dd). */
export async function benchmarksPage(trx: Tx, tenantId: string, vertical: string | null, lastDay: string): Promise<BenchmarksPage> {
  const own = await sql<OwnRow>`
    select m.platform::text as platform, sum(m.spend)::float8 as spend, sum(m.impressions)::float8 as impressions,
           sum(m.clicks)::float8 as clicks, sum(m.conversions)::float8 as conversions, sum(m.conversion_value)::float8 as value
    from ads.metrics_daily m
    where m.tenant_id = ${tenantId} and m.platform = any(${[...PLATFORMS]}::text[]) and m.level = 'campaign'
      and m.day between ${lastDay}::date - ${OWN_DAYS - 1}::int and ${lastDay}::date
    group by m.platform
    order by m.platform`.execute(trx);
  const platforms = own.rows.map((r) => r.platform).filter(isPlatform);
  const bench =
    vertical && platforms.length > 0
      ? (
          await sql<BenchRow>`
            select b.platform::text as platform, b.metric_name, b.percentile_10::float8 as p10, b.percentile_25::float8 as p25,
                   coalesce(b.percentile_50, b.benchmark_value)::float8 as p50, b.percentile_75::float8 as p75,
                   b.percentile_90::float8 as p90, b.sample_size, b.source, to_char(b.valid_from, 'YYYY-MM-DD') as valid_from
            from ads.performance_benchmarks b
            where b.industry_vertical = ${vertical} and b.campaign_type = 'all' and b.platform = any(${platforms}::text[])`.execute(trx)
        ).rows
      : [];
  return {
    vertical,
    from: addDays(lastDay, -(OWN_DAYS - 1)),
    to: lastDay,
    platforms: own.rows
      .filter((r) => isPlatform(r.platform))
      .map((r) => {
        const totals: Totals = { spend: r.spend, impressions: r.impressions, clicks: r.clicks, conversions: r.conversions, value: r.value };
        const rows = bench.filter((b) => b.platform === r.platform && isBenchmarkMetric(b.metric_name));
        const lines = BENCHMARK_METRICS.map((metric): BenchmarkLine => {
          const b = rows.find((x) => x.metric_name === metric);
          const percentiles = b ? { p10: b.p10, p25: b.p25, p50: b.p50, p75: b.p75, p90: b.p90 } : null;
          return { metric, percentiles, sampleSize: b?.sample_size ?? null, own: figureOf(metric, totals), placement: place(metric, percentiles, totals) };
        });
        return {
          platform: r.platform as Platform,
          totals,
          lines,
          source: rows[0]?.source ?? null,
          validFrom: rows.map((x) => x.valid_from).sort().at(-1) ?? null,
        };
      }),
  };
}
