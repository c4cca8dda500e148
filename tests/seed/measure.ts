// Measuring the noise of generated demo rows, by moments, knowing only what a
// buyer knows from the rows themselves (plus the weekday profile the campaign
// follows). No database: generateDemoData is pure.
import { tenantLayouts, type CampaignLayout } from '../../db/seed/layout';
import type { MetricRow, TenantData } from '../../db/seed/rows';
import { weekdayProfile } from '../../db/seed/series';

export interface EntitySeries {
  tenantId: string;
  level: 'campaign' | 'adset';
  id: string;
  layout: CampaignLayout;
  /** 0 = Sunday, per day. */
  weekday: number[];
  spend: number[];
  impressions: number[];
  clicks: number[];
  conversions: number[];
  value: number[];
}

const weekdayOfDay = (day: string) => new Date(`${day}T00:00:00Z`).getUTCDay();

/** Rows of one tenant grouped by entity, days in order. */
export function entitySeries(t: TenantData): EntitySeries[] {
  const layouts = new Map(tenantLayouts(t.tenant).map((l) => [l.id, l]));
  const by = new Map<string, MetricRow[]>();
  for (const r of t.metrics) {
    const key = `${r.level}|${r.platformId}`;
    let list = by.get(key);
    if (!list) by.set(key, (list = []));
    list.push(r);
  }
  return [...by.values()].map((rows) => {
    rows.sort((a, b) => a.day.localeCompare(b.day));
    const first = rows[0]!;
    const layout = layouts.get(first.campaignId);
    if (!layout) throw new Error(`no layout for ${first.campaignId}`);
    return {
      tenantId: t.tenant.id,
      level: first.level,
      id: first.platformId,
      layout,
      weekday: rows.map((r) => weekdayOfDay(r.day)),
      spend: rows.map((r) => r.spendCents / 100),
      impressions: rows.map((r) => r.impressions),
      clicks: rows.map((r) => r.clicks),
      conversions: rows.map((r) => r.conversions),
      value: rows.map((r) => r.valueCents / 100),
    };
  });
}

/** Days [from, to) of the series, all by default. */
export interface Span {
  from?: number;
  to?: number;
}

/**
 * Excess dispersion of conversions given clicks, pooled over entities: with
 * mu_i = clicks_i x w(weekday_i) x r (r the entity's own rate over the span),
 * Var(k) = mu + c^2 mu^2 for a Poisson count whose rate has CV c day to day,
 * so c^2 = sum((k - mu)^2 - mu) / sum(mu^2). Returns c.
 */
export function conversionRateCv(entities: readonly EntitySeries[], span: Span = {}): number {
  let num = 0;
  let den = 0;
  for (const e of entities) {
    const w = weekdayProfile(e.layout).cvr;
    const from = span.from ?? 0;
    const to = span.to ?? e.conversions.length;
    let k = 0;
    let exposure = 0;
    for (let i = from; i < to; i++) {
      k += e.conversions[i]!;
      exposure += e.clicks[i]! * w[e.weekday[i]!]!;
    }
    if (exposure === 0) continue;
    const r = k / exposure;
    for (let i = from; i < to; i++) {
      const mu = e.clicks[i]! * w[e.weekday[i]!]! * r;
      if (mu === 0) continue;
      num += (e.conversions[i]! - mu) ** 2 - mu;
      den += mu * mu;
    }
  }
  return Math.sqrt(Math.max(0, num / den));
}

/**
 * The raw day-to-day CV of an entity's weekday-adjusted conversion rate
 * (conversions / clicks / w(weekday)), Poisson noise included: what a chart
 * of the rate shows. Days with no expected conversion are left out.
 */
export function rawConversionRateCv(e: EntitySeries, span: Span = {}): number {
  const w = weekdayProfile(e.layout).cvr;
  const rates: number[] = [];
  for (let i = span.from ?? 0; i < (span.to ?? e.conversions.length); i++) {
    const x = e.clicks[i]! * w[e.weekday[i]!]!;
    if (x > 0) rates.push(e.conversions[i]! / x);
  }
  const mean = rates.reduce((a, b) => a + b, 0) / rates.length;
  const sd = Math.sqrt(rates.reduce((a, b) => a + (b - mean) ** 2, 0) / (rates.length - 1));
  return sd / mean;
}

/**
 * CV of one order's value, pooled over entities: a day's value V is the sum
 * of its k orders, so E[(V - k m)^2 | k] = k m^2 kappa^2 with m the entity's
 * mean order value; kappa^2 = sum((V - k m)^2) / (m^2 sum(k)), per entity,
 * averaged with weights sum(k).
 */
export function orderValueCv(entities: readonly EntitySeries[]): number {
  let num = 0;
  let den = 0;
  for (const e of entities) {
    const k = e.conversions.reduce((a, b) => a + b, 0);
    const v = e.value.reduce((a, b) => a + b, 0);
    if (k === 0) continue;
    const m = v / k;
    let ss = 0;
    for (let i = 0; i < e.value.length; i++) ss += (e.value[i]! - e.conversions[i]! * m) ** 2;
    num += ss / (m * m);
    den += k;
  }
  return Math.sqrt(num / den);
}

/**
 * Dispersion index of a count given its exposure, pooled: sum((y - m)^2) /
 * sum(m), m = exposure x the entity's own ratio. 1 for Poisson, above 1 for
 * an over-dispersed count, below 1 for one quieter than Poisson.
 */
export function dispersionIndex(entities: readonly EntitySeries[], count: 'clicks' | 'impressions' | 'conversions', exposure: 'impressions' | 'spend' | 'clicks'): number {
  let num = 0;
  let den = 0;
  for (const e of entities) {
    const y = e[count];
    const x = e[exposure];
    const ratio = y.reduce((a, b) => a + b, 0) / x.reduce((a, b) => a + b, 0);
    for (let i = 0; i < y.length; i++) {
      const m = x[i]! * ratio;
      num += (y[i]! - m) ** 2;
      den += m;
    }
  }
  return num / den;
}

/**
 * Standardised residuals of conversions given clicks under the negative
 * binomial with rate CV c: (k - mu) / sqrt(mu + c^2 mu^2), mu as in
 * conversionRateCv, for days in span.
 */
export function conversionResiduals(e: EntitySeries, c: number, span: Span = {}): number[] {
  const w = weekdayProfile(e.layout).cvr;
  const from = span.from ?? 0;
  const to = span.to ?? e.conversions.length;
  let k = 0;
  let exposure = 0;
  for (let i = 0; i < e.conversions.length; i++) {
    k += e.conversions[i]!;
    exposure += e.clicks[i]! * w[e.weekday[i]!]!;
  }
  const r = k / exposure;
  const out: number[] = [];
  for (let i = from; i < to; i++) {
    const mu = e.clicks[i]! * w[e.weekday[i]!]! * r;
    if (mu > 0) out.push((e.conversions[i]! - mu) / Math.sqrt(mu + c * c * mu * mu));
  }
  return out;
}
