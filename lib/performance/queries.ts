// Reads of the performance pages, in the tenant's transaction (RLS applies;
// every query also names the tenant, so the planner uses the tenant's index
// range). Two grouped reads of ads.metrics_daily carry everything: totals per
// platform and day (cards, sparklines, chart, band) and totals per entity
// (table, ratings, contributors). The model behind each figure is written in
// docs/performance.md.
import 'server-only';
import { sql, type RawBuilder } from 'kysely';
import type { Tx } from '@/lib/db';
import { whatMoved, type EntityTotals } from './decompose';
import { entitySums } from './entity-sums';
import { addDays, daysInclusive, type Period, type PerformanceView } from './filters';
import {
  addTotals,
  changePercent,
  isPlatform,
  METRIC_INFO,
  METRICS,
  metricOf,
  PLATFORMS,
  ZERO_TOTALS,
  type Level,
  type Metric,
  type Platform,
  type Totals,
} from './metrics';
import type { AnomalyMark, ChartData, EntityRow, KpiCard, PerformancePage, Rating, SeriesPoint, TenantStyle } from './types';

/** Which rows a read covers: platforms (empty = all), the level, and optionally one campaign (its row, or its ad sets). */
export interface Scope {
  platforms: Platform[];
  level: Level;
  campaignId?: string;
}

/** Days of history behind each day's expected value in the chart. */
export const BAND_DAYS = 28;
/** A day whose conversions are below this share of their final count is provisional. */
export const PROVISIONAL_BELOW = 0.95;

export async function tenantStyle(trx: Tx, tenantId: string): Promise<TenantStyle & { lastDay: string }> {
  const r = await sql<{ currency: string; locale: string; timezone: string; vertical: string | null; last_day: string }>`
    select t.currency::text as currency, t.locale, ads_engine.valid_timezone(t.timezone) as timezone, t.vertical,
           to_char(ads_engine.tenant_yesterday(t.id), 'YYYY-MM-DD') as last_day
    from saas.tenants t where t.id = ${tenantId}`.execute(trx);
  const row = r.rows[0];
  if (!row) throw new Error('tenant not visible in its own transaction');
  return { currency: row.currency, locale: row.locale, timezone: row.timezone, vertical: row.vertical, lastDay: row.last_day };
}

function scopeFilter(scope: Scope): RawBuilder<unknown> {
  const parts: RawBuilder<unknown>[] = [];
  // Every platform named when none is chosen: the index (tenant, platform, level, ...) then reads only the
  // range of days of each platform instead of the tenant's whole history.
  parts.push(sql`and m.platform = any(${scope.platforms.length > 0 ? scope.platforms : [...PLATFORMS]}::text[])`);
  if (scope.campaignId !== undefined) {
    // A campaign's own row is keyed by its id; its ad sets name it as their parent.
    parts.push(scope.level === 'campaign' ? sql`and m.platform_id = ${scope.campaignId}` : sql`and m.campaign_id = ${scope.campaignId}`);
  }
  return sql.join(parts, sql` `);
}

interface DailyRow extends Totals {
  platform: Platform;
  day: string;
}

type NumRow = { spend: number; impressions: number; clicks: number; conversions: number; value: number };

function totalsOf(r: NumRow): Totals {
  return { spend: r.spend, impressions: r.impressions, clicks: r.clicks, conversions: r.conversions, value: r.value };
}

/**
 * Totals per platform and day over [from, to]. Without a campaign, from the rollup the triggers keep exact
 * (ads_engine.metrics_platform_daily: one row per platform and day instead of one per entity); for one
 * campaign, from its own rows.
 */
export async function readDaily(trx: Tx, tenantId: string, scope: Scope, from: string, to: string): Promise<DailyRow[]> {
  if (scope.campaignId === undefined) {
    const r = await sql<NumRow & { platform: string; day: string }>`
      select m.platform::text as platform, to_char(m.day, 'YYYY-MM-DD') as day,
             m.spend::float8 as spend, m.impressions::float8 as impressions, m.clicks::float8 as clicks,
             m.conversions::float8 as conversions, m.conversion_value::float8 as value
      from ads_engine.metrics_platform_daily m
      where m.tenant_id = ${tenantId} and m.level = ${scope.level}
        and m.day between ${from}::date and ${to}::date ${scopeFilter(scope)}`.execute(trx);
    return r.rows.filter((x) => isPlatform(x.platform)).map((x) => ({ ...totalsOf(x), platform: x.platform as Platform, day: x.day }));
  }
  const r = await sql<NumRow & { platform: string; day: string }>`
    select m.platform::text as platform, to_char(m.day, 'YYYY-MM-DD') as day,
           sum(m.spend)::float8 as spend, sum(m.impressions)::float8 as impressions, sum(m.clicks)::float8 as clicks,
           sum(m.conversions)::float8 as conversions, sum(m.conversion_value)::float8 as value
    from ads.metrics_daily m
    where m.tenant_id = ${tenantId} and m.level = ${scope.level}
      and m.day between ${from}::date and ${to}::date ${scopeFilter(scope)}
    group by m.platform, m.day`.execute(trx);
  return r.rows.filter((x) => isPlatform(x.platform)).map((x) => ({ ...totalsOf(x), platform: x.platform as Platform, day: x.day }));
}

function daysOf(p: Period): string[] {
  return Array.from({ length: p.days }, (_, i) => addDays(p.from, i));
}

/** Totals per day (all platforms of the rows), and per platform per day. */
function indexDaily(rows: DailyRow[]) {
  const byDay = new Map<string, Totals>();
  const byPlatformDay = new Map<string, Totals>();
  for (const r of rows) {
    byDay.set(r.day, addTotals(byDay.get(r.day) ?? ZERO_TOTALS, r));
    byPlatformDay.set(`${r.platform}|${r.day}`, r);
  }
  return { byDay, byPlatformDay };
}

function sumDays(byDay: Map<string, Totals>, from: string, to: string): { totals: Totals; daysWithData: number } {
  let totals: Totals = { ...ZERO_TOTALS };
  let daysWithData = 0;
  for (let d = from; d <= to; d = addDays(d, 1)) {
    const t = byDay.get(d);
    if (t) {
      totals = addTotals(totals, t);
      if (t.spend > 0 || t.impressions > 0) daysWithData++;
    }
  }
  return { totals, daysWithData };
}

/** Volumes of the comparison, brought to the range's length (a 28-day baseline against 7 days counts 7/28 of its volumes); rates are unchanged by it. */
function scaleVolumes(t: Totals, factor: number): Totals {
  return {
    spend: t.spend * factor,
    impressions: t.impressions * factor,
    clicks: t.clicks * factor,
    conversions: t.conversions * factor,
    value: t.value * factor,
  };
}

/** Expected value and range for one day from the BAND_DAYS before it (see docs/performance.md); the anomaly detail draws the same. */
export function band(metric: Metric, byDay: Map<string, Totals>, day: string): Pick<SeriesPoint, 'expected' | 'low' | 'high'> {
  const from = addDays(day, -BAND_DAYS);
  const to = addDays(day, -1);
  const values: number[] = [];
  let totals: Totals = { ...ZERO_TOTALS };
  for (let d = from; d <= to; d = addDays(d, 1)) {
    const t = byDay.get(d);
    if (!t || (t.spend <= 0 && t.impressions <= 0)) continue;
    totals = addTotals(totals, t);
    const v = metricOf(t, metric);
    if (v !== null) values.push(v);
  }
  // Under a week of history says nothing about a normal day.
  if (values.length < 7) return { expected: null, low: null, high: null };
  const expected = METRIC_INFO[metric].volume ? (metricOf(totals, metric) ?? 0) / values.length : metricOf(totals, metric);
  if (expected === null) return { expected: null, low: null, high: null };
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1));
  return { expected, low: Math.max(0, expected - 1.96 * sd), high: expected + 1.96 * sd };
}

/** Each platform's conversion completeness by age in days, as the engine learnt it (docs/engine.md). */
async function completeness(trx: Tx, tenantId: string, lastDay: string): Promise<Map<string, number>> {
  type Lag = { platform: string; age_days: number; completeness: number };
  // What the daily loop stored in the last week (ads_engine.store_conversion_lag): the lag moves slowly, and
  // learning it again reads 90 days of rows. Nothing stored (no loop yet, or nothing learnt): learn it now.
  const stored = await sql<Lag>`
    select l.platform::text as platform, l.age_days, l.completeness::float8 as completeness
    from ads_engine.conversion_lag l
    where l.tenant_id = ${tenantId} and l.as_of >= ${lastDay}::date - 7`.execute(trx);
  const rows =
    stored.rows.length > 0
      ? stored.rows
      : (
          await sql<Lag>`
            select c.platform, c.age_days, c.completeness::float8 as completeness
            from ads_engine.conversion_completeness(${tenantId}, ${lastDay}::date) c`.execute(trx)
        ).rows;
  return new Map(rows.map((x) => [`${x.platform}|${x.age_days}`, x.completeness]));
}

/** Days of the period whose conversions are still coming in on some platform in view. */
function provisionalDays(period: Period, lastDay: string, platforms: Platform[], learnt: Map<string, number>): Set<string> {
  const out = new Set<string>();
  for (const day of daysOf(period)) {
    // Data of a day is (lastDay + 1 - day) days old today.
    const age = daysInclusive(day, lastDay);
    if (age >= 14) continue;
    if (platforms.some((p) => (learnt.get(`${p}|${age}`) ?? 1) < PROVISIONAL_BELOW)) out.add(day);
  }
  return out;
}

const ANOMALY_METRICS: Readonly<Record<Metric, string[]>> = {
  spend: ['spend'],
  conversions: ['conversions', 'cpa'],
  // A tracking loss is raised on conversions, and takes value and ROAS down with them.
  value: ['roas', 'conversions'],
  roas: ['roas', 'conversions'],
  cpa: ['cpa', 'conversions'],
  ctr: ['ctr'],
  cpc: ['cpc'],
  cpm: ['cpm'],
};

export async function anomaliesIn(trx: Tx, tenantId: string, scope: Scope, period: Period, metric: Metric): Promise<AnomalyMark[]> {
  const r = await sql<{
    id: string;
    day: string;
    platform: string;
    entity_name: string | null;
    entity_id: string;
    metric_name: string;
    severity: AnomalyMark['severity'];
    anomaly_type: string;
  }>`
    select a.id::text as id, to_char(a.day, 'YYYY-MM-DD') as day, a.platform::text as platform, a.entity_name, a.entity_id,
           a.metric_name, a.severity::text as severity, a.anomaly_type
    from ads.anomalies a
    where a.tenant_id = ${tenantId} and a.level = ${scope.level}
      and a.day between ${period.from}::date and ${period.to}::date
      and a.metric_name = any(${ANOMALY_METRICS[metric]}::text[])
      and a.status <> 'dismissed'
      ${scope.platforms.length > 0 ? sql`and a.platform = any(${scope.platforms}::text[])` : sql``}
      ${scope.campaignId !== undefined ? (scope.level === 'campaign' ? sql`and a.entity_id = ${scope.campaignId}` : sql`and a.campaign_id = ${scope.campaignId}`) : sql``}
    order by a.day, case a.severity when 'critical' then 0 when 'high' then 1 when 'medium' then 2 else 3 end, a.entity_name
    limit 200`.execute(trx);
  return r.rows
    .filter((x) => isPlatform(x.platform))
    .map((x) => ({
      id: x.id,
      day: x.day,
      platform: x.platform as Platform,
      entityName: x.entity_name ?? x.entity_id,
      metricName: x.metric_name,
      severity: x.severity,
      anomalyType: x.anomaly_type,
      href: `/anomalies?anomaly=${encodeURIComponent(x.id)}`,
    }));
}

function buildChart(
  metric: Metric,
  period: Period,
  rows: DailyRow[],
  platforms: Platform[],
  provisional: Set<string>,
  anomalies: AnomalyMark[],
): ChartData {
  const { byDay, byPlatformDay } = indexDaily(rows);
  const days = daysOf(period);
  const lagged = METRIC_INFO[metric].lagged;
  const series: SeriesPoint[] = days.map((day) => {
    const t = byDay.get(day);
    return {
      day,
      value: t ? metricOf(t, metric) : null,
      ...band(metric, byDay, day),
      provisional: lagged && provisional.has(day),
    };
  });
  const byPlatform = platforms.map((platform) => ({
    platform,
    values: days.map((day) => {
      const t = byPlatformDay.get(`${platform}|${day}`);
      return t ? metricOf(t, metric) : null;
    }),
  }));
  return { metric, series, byPlatform, anomalies, provisionalFrom: series.find((p) => p.provisional)?.day ?? null };
}

/**
 * The daily chart for any scope: the metric per day of the period, its expected range, anomalies, provisional days.
 * `lastDay` is the tenant's last complete day (tenantStyle), which the caller has already read.
 */
export async function chartData(trx: Tx, tenantId: string, scope: Scope, period: Period, metric: Metric, lastDay: string): Promise<ChartData> {
  const [rows, learnt, anomalies] = await Promise.all([
    readDaily(trx, tenantId, scope, addDays(period.from, -BAND_DAYS), period.to),
    completeness(trx, tenantId, lastDay),
    anomaliesIn(trx, tenantId, scope, period, metric),
  ]);
  const platforms = [...new Set(rows.map((r) => r.platform))].sort();
  return buildChart(metric, period, rows, platforms, provisionalDays(period, lastDay, platforms, learnt), anomalies);
}

type EntitySql = {
  platform: string;
  platform_id: string;
  name: string | null;
  campaign_id: string | null;
  campaign_name: string | null;
  s1: number;
  i1: number;
  c1: number;
  k1: number;
  v1: number;
  s0: number;
  i0: number;
  c0: number;
  k0: number;
  v0: number;
  rating: Rating | null;
  daily_budget: number | null;
  budget_status: EntityRow['budgetStatus'];
};

/** The path segment that carries the campaign id in the query instead (`?id=`). */
export const ID_IN_QUERY = '~';

/**
 * The campaign's detail page. Ids that URL normalisation would eat ('.', '..': "%2e" is a dot to it too)
 * and '~' itself travel in the query, behind the '~' segment.
 */
export function campaignHref(platform: string, campaignId: string): string {
  const p = encodeURIComponent(platform);
  if (campaignId === '.' || campaignId === '..' || campaignId === ID_IN_QUERY) return `/performance/${p}/${ID_IN_QUERY}?id=${encodeURIComponent(campaignId)}`;
  return `/performance/${p}/${encodeURIComponent(campaignId)}`;
}

/**
 * One row per entity with delivery in the period or the comparison. The
 * rating compares the entity with the rest of its platform in the same scope
 * and period (leave-one-out, ads_engine.rate_metric: the rule of
 * ads.analyze_campaign_performance), on ROAS where the platform has value,
 * else on CPA.
 */
export async function entityRows(trx: Tx, tenantId: string, scope: Scope, period: Period, comparison: Period): Promise<EntityRow[]> {
  const from = comparison.from < period.from ? comparison.from : period.from;
  const scale = period.days / comparison.days;
  // An ad set without a name is shown by its id, never by its campaign's name.
  const nameColumn = scope.level === 'campaign' ? sql`coalesce(x.entity_name, x.campaign_name)` : sql`x.entity_name`;
  // The sums from the weekly rollup plus the edge days (entity-sums.ts), exact; an entity counts when any figure
  // is non-zero (conversions reported on a day without delivery included), so the rows add up to the cards.
  const sums = [...(await entitySums(trx, tenantId, scope.level, scope.platforms, scope.campaignId, [period, comparison])).values()].filter((e) =>
    e.ranges.some((t) => t.spend > 0 || t.impressions > 0 || t.clicks > 0 || t.conversions > 0 || t.value > 0),
  );
  if (sums.length === 0) return [];
  const col = (i: 0 | 1, k: keyof Totals) => sums.map((e) => e.ranges[i]![k]);
  const r = await sql<EntitySql>`
    with e as (
      select * from unnest(${sums.map((e) => e.platform)}::text[], ${sums.map((e) => e.platformId)}::text[],
                           ${col(0, 'spend')}::numeric[], ${col(0, 'impressions')}::numeric[], ${col(0, 'clicks')}::numeric[],
                           ${col(0, 'conversions')}::numeric[], ${col(0, 'value')}::numeric[],
                           ${col(1, 'spend')}::numeric[], ${col(1, 'impressions')}::numeric[], ${col(1, 'clicks')}::numeric[],
                           ${col(1, 'conversions')}::numeric[], ${col(1, 'value')}::numeric[])
        as e(platform, platform_id, s1, i1, c1, k1, v1, s0, i0, c0, k0, v0)
    ),
    p as (select e.platform, sum(e.s1) as ps, sum(e.k1) as pk, sum(e.v1) as pv from e group by e.platform)
    select e.platform, e.platform_id,
           -- the latest row's name, or when it has none the latest name the entity had (evaluated only then)
           coalesce(n.name, (select ${nameColumn} from ads.metrics_daily x
                             where x.tenant_id = ${tenantId} and x.platform = e.platform and x.level = ${scope.level}
                               and x.platform_id = e.platform_id and x.day between ${from}::date and ${period.to}::date
                               and ${nameColumn} is not null
                             order by x.day desc limit 1)) as name,
           n.campaign_id, n.campaign_name,
           e.s1::float8 as s1, e.i1::float8 as i1, e.c1::float8 as c1, e.k1::float8 as k1, e.v1::float8 as v1,
           e.s0::float8 as s0, e.i0::float8 as i0, e.c0::float8 as c0, e.k0::float8 as k0, e.v0::float8 as v0,
           case when e.s1 <= 0 then 'Insufficient data'
                when p.pv > 0 then (ads_engine.rate_metric(
                       e.v1 / nullif((p.pv - e.v1) / nullif(p.pk - e.k1, 0), 0), e.s1,
                       case when p.pv - e.v1 > 0 then p.pk - e.k1 end, p.ps - e.s1, e.k1, p.pk - e.k1, 5)).rating
                else (ads_engine.rate_metric(e.k1, e.s1, p.pk - e.k1, p.ps - e.s1, e.k1, p.pk - e.k1, 5)).rating
           end as rating,
           b.daily_budget::float8 as daily_budget, b.status as budget_status
    from e
    join p on p.platform = e.platform
    -- Names and parent from the entity's latest row: one backward index probe per entity (three ordered
    -- array_agg over every row cost more than all the sums).
    left join lateral (
      select ${nameColumn} as name, x.campaign_id, x.campaign_name
      from ads.metrics_daily x
      where x.tenant_id = ${tenantId} and x.platform = e.platform and x.level = ${scope.level} and x.platform_id = e.platform_id
        and x.day between ${from}::date and ${period.to}::date
      order by x.day desc
      limit 1) n on true
    left join ads.budget_allocation b
      on ${scope.level} = 'campaign' and b.tenant_id = ${tenantId} and b.platform = e.platform and b.campaign_id = e.platform_id`.execute(trx);
  return r.rows
    .filter((x) => isPlatform(x.platform))
    .map((x): EntityRow => {
      const platform = x.platform as Platform;
      // An ad set that names no campaign has no campaign page to open.
      const campaignId = scope.level === 'campaign' ? x.platform_id : x.campaign_id;
      const name = x.name ?? x.platform_id;
      const current = { spend: x.s1, impressions: x.i1, clicks: x.c1, conversions: x.k1, value: x.v1 };
      return {
        id: `${platform}|${scope.level}|${x.platform_id}`,
        platform,
        level: scope.level,
        entityId: x.platform_id,
        name,
        campaignId: campaignId ?? '',
        campaignName: scope.level === 'campaign' ? name : (x.campaign_name ?? campaignId ?? ''),
        href: campaignId === null ? null : campaignHref(platform, campaignId),
        current,
        comparison: scaleVolumes({ spend: x.s0, impressions: x.i0, clicks: x.c0, conversions: x.k0, value: x.v0 }, scale),
        rating: x.rating ?? 'Insufficient data',
        dailyBudget: x.daily_budget,
        budgetStatus: x.budget_status,
        pacing: x.daily_budget !== null && x.daily_budget > 0 ? current.spend / period.days / x.daily_budget : null,
      };
    });
}

interface BenchmarkRow {
  platform: string;
  metric_name: string;
  p10: number | null;
  p50: number;
  p90: number | null;
}

const BENCHMARKED: Partial<Record<Metric, string>> = { roas: 'roas', cpa: 'cpa', ctr: 'ctr', cpc: 'cpc', cpm: 'cpm' };

async function benchmarks(trx: Tx, platform: Platform, vertical: string): Promise<BenchmarkRow[]> {
  const r = await sql<BenchmarkRow>`
    select b.platform::text as platform, b.metric_name, b.percentile_10::float8 as p10,
           coalesce(b.percentile_50, b.benchmark_value)::float8 as p50, b.percentile_90::float8 as p90
    from ads.performance_benchmarks b
    where b.platform = ${platform} and b.industry_vertical = ${vertical} and b.campaign_type = 'all'`.execute(trx);
  return r.rows;
}

/**
 * Platforms with any metrics for the tenant (at any date): one index probe per known platform. Written as a
 * lateral LIMIT 1: as EXISTS, PostgreSQL planned a semi-join over all the tenant's rows (400 ms on 500,000).
 */
async function platformsWithData(trx: Tx, tenantId: string): Promise<Platform[]> {
  const r = await sql<{ platform: string }>`
    select p.platform from unnest(${[...PLATFORMS]}::text[]) as p(platform)
    cross join lateral (select 1 from ads.metrics_daily m
                        where m.tenant_id = ${tenantId} and m.platform = p.platform
                        limit 1) x
    order by p.platform`.execute(trx);
  return r.rows.map((x) => x.platform).filter(isPlatform);
}

function thinNote(metric: Metric, cmp: Totals, daysWithData: number, comparisonDays: number): string | null {
  if (cmp.spend <= 0 && cmp.impressions <= 0) return 'No delivery in the comparison period.';
  if (daysWithData * 2 < comparisonDays) return `Only ${daysWithData} of ${comparisonDays} comparison days have data.`;
  const info = METRIC_INFO[metric];
  if (info.lagged && cmp.conversions < 10) return 'Under 10 conversions in the comparison: a wide margin of noise.';
  if ((metric === 'ctr' || metric === 'cpc') && cmp.clicks < 50) return 'Under 50 clicks in the comparison: a wide margin of noise.';
  return null;
}

/** Everything the performance page shows, for one view. */
export async function performancePage(trx: Tx, tenantId: string, view: PerformanceView, style: TenantStyle, lastDay: string): Promise<PerformancePage> {
  const scope: Scope = { platforms: view.platforms, level: view.level };
  const { period, comparison } = view;
  const earliest = comparison.from < period.from ? comparison.from : period.from;
  const bandFrom = addDays(period.from, -BAND_DAYS);
  const [available, daily, entities, learnt, anomalies] = await Promise.all([
    platformsWithData(trx, tenantId),
    readDaily(trx, tenantId, scope, earliest < bandFrom ? earliest : bandFrom, period.to),
    entityRows(trx, tenantId, scope, period, comparison),
    completeness(trx, tenantId, lastDay),
    anomaliesIn(trx, tenantId, scope, period, view.metric),
  ]);
  const inView = view.platforms.length > 0 ? view.platforms.filter((p) => available.includes(p)) : available;
  const industryPlatform = inView.length === 1 && style.vertical ? inView[0] : undefined;
  const bench = industryPlatform && style.vertical ? await benchmarks(trx, industryPlatform, style.vertical) : [];

  const { byDay } = indexDaily(daily);
  const scale = period.days / comparison.days;
  const cur = sumDays(byDay, period.from, period.to).totals;
  const cmpRaw = sumDays(byDay, comparison.from, comparison.to);
  const cmp = scaleVolumes(cmpRaw.totals, scale);
  const perPlatformTotals = inView.map((platform) => {
    const only = indexDaily(daily.filter((d) => d.platform === platform)).byDay;
    return { platform, cur: sumDays(only, period.from, period.to).totals, cmp: scaleVolumes(sumDays(only, comparison.from, comparison.to).totals, scale) };
  });
  const days = daysOf(period);

  const kpis: KpiCard[] = METRICS.map((metric) => {
    const c = metricOf(cur, metric);
    const b = metricOf(cmp, metric);
    const bm = BENCHMARKED[metric] ? bench.find((x) => x.metric_name === BENCHMARKED[metric]) : undefined;
    return {
      metric,
      current: c,
      comparison: b,
      changePct: changePercent(c, b),
      thinNote: thinNote(metric, cmpRaw.totals, cmpRaw.daysWithData, comparison.days),
      spark: days.map((d) => {
        const t = byDay.get(d);
        return t ? metricOf(t, metric) : null;
      }),
      perPlatform: perPlatformTotals.map((p) => {
        const pc = metricOf(p.cur, metric);
        const pb = metricOf(p.cmp, metric);
        return { platform: p.platform, current: pc, comparison: pb, changePct: changePercent(pc, pb) };
      }),
      industry:
        bm && industryPlatform && style.vertical
          ? { platform: industryPlatform, vertical: style.vertical, p10: bm.p10, p50: bm.p50, p90: bm.p90 }
          : null,
    };
  });

  const entityTotals: EntityTotals[] = entities.map((e) => ({
    platform: e.platform,
    level: e.level,
    entityId: e.entityId,
    name: e.name,
    href: e.href,
    current: e.current,
    comparison: e.comparison,
  }));

  return {
    view,
    style,
    lastDay,
    availablePlatforms: available,
    empty: available.length === 0,
    comparisonPeriod: comparison,
    kpis,
    chart: buildChart(view.metric, period, daily, inView, provisionalDays(period, lastDay, inView, learnt), anomalies),
    // Both sides at the range's length: the entity rows' comparison is scaled as cmp is.
    whatMoved: whatMoved(cur, cmp, entityTotals),
    rows: entities,
  };
}
