// The daily series of an anomaly's metric around its day (28 days before, up
// to 7 after when the data exist), with the expected range of each day drawn
// as the performance page draws it (docs/performance.md): the metric over the
// 28 days before the day (a ratio of sums for rates, the daily mean for
// volumes) +- 1.96 x the day-to-day spread of those days. The engine's own
// expectation for the anomaly's day is marked apart (baseline_value).
import 'server-only';
import { sql } from 'kysely';
import type { Tx } from '@/lib/db';
import { addDays } from '@/lib/performance/filters';
import { metricOf, type Metric, type Totals } from '@/lib/performance/metrics';
import { BAND_DAYS, band } from '@/lib/performance/queries';
import type { AnomalyRow } from './queries';

export const DAYS_BEFORE = 28;
export const DAYS_AFTER = 7;

export interface SeriesDay {
  day: string;
  value: number | null;
  expected: number | null;
  low: number | null;
  high: number | null;
}

export interface AnomalySeries {
  metric: Metric;
  day: string;
  points: SeriesDay[];
  /** The engine's expected value on the day (the anomaly's baseline), when it is the metric drawn. */
  engineExpected: number | null;
}

/** The performance metric an anomaly's metric_name is drawn as. */
export function seriesMetric(metricName: string): Metric {
  switch (metricName) {
    case 'cpa':
    case 'roas':
    case 'ctr':
    case 'cpc':
    case 'cpm':
    case 'spend':
    case 'conversions':
      return metricName;
    default:
      return 'conversions';
  }
}

export async function anomalySeries(trx: Tx, tenantId: string, a: AnomalyRow, lastDay: string): Promise<AnomalySeries> {
  const metric = seriesMetric(a.metric);
  const to = a.day > lastDay ? a.day : addDays(a.day, DAYS_AFTER) < lastDay ? addDays(a.day, DAYS_AFTER) : lastDay;
  const from = addDays(a.day, -(DAYS_BEFORE + BAND_DAYS));
  // The engine's platform row is about the whole platform: its campaigns' sum.
  const entity = a.platformRow ? sql`` : sql`and m.platform_id = ${a.entityId}`;
  const r = await sql<{ day: string; spend: number; impressions: number; clicks: number; conversions: number; value: number }>`
    select to_char(m.day, 'YYYY-MM-DD') as day, sum(m.spend)::float8 as spend, sum(m.impressions)::float8 as impressions,
           sum(m.clicks)::float8 as clicks, sum(m.conversions)::float8 as conversions, sum(m.conversion_value)::float8 as value
    from ads.metrics_daily m
    where m.tenant_id = ${tenantId} and m.platform = ${a.platform}::ads.platform and m.level = ${a.level}::ads.entity_level
      and m.day between ${from}::date and ${to}::date ${entity}
    group by m.day`.execute(trx);
  const byDay = new Map<string, Totals>(r.rows.map((x) => [x.day, x]));
  const points: SeriesDay[] = [];
  for (let d = addDays(a.day, -DAYS_BEFORE); d <= to; d = addDays(d, 1)) {
    const t = byDay.get(d);
    points.push({ day: d, value: t ? metricOf(t, metric) : null, ...band(metric, byDay, d) });
  }
  // A tracking loss is raised on conversions with the CPA as its baseline: its expected count is in details.
  const expectedCount = a.details.expected == null ? Number.NaN : Number(a.details.expected);
  const engineExpected = metric === 'conversions' ? (Number.isFinite(expectedCount) ? expectedCount : null) : seriesMetric(a.metric) === a.metric ? a.baseline : null;
  return { metric, day: a.day, points, engineExpected };
}
