// Where a tenant's own figure sits among an industry benchmark's percentiles.
// Pure; client-safe.
//
// A benchmark row gives up to five percentiles of the metric over the
// benchmark's sample of advertisers (p10, p25, p50, p75, p90). Between two
// known percentiles the rank is interpolated linearly in the metric's log (the
// percentiles of these metrics are spread log-normally: CPA, CTR and the rest
// are ratios of positive amounts, so their logs are close to symmetric).
// Outside p10..p90 nothing is extrapolated: the figure is "below the 10th" or
// "above the 90th percentile". A figure is placed only when the volume under
// it makes it meaningful (a CPA on 3 conversions is noise).

import { metricOf, type Totals } from '../performance/metrics';

export const BENCHMARK_METRICS = ['roas', 'cpa', 'conversion_rate', 'ctr', 'cpc', 'cpm'] as const;
export type BenchmarkMetric = (typeof BENCHMARK_METRICS)[number];

export interface BenchmarkMetricInfo {
  label: string;
  higherIsBetter: boolean;
  kind: 'money' | 'ratio' | 'percent';
  definition: string;
}

export const BENCHMARK_INFO: Readonly<Record<BenchmarkMetric, BenchmarkMetricInfo>> = {
  roas: { label: 'ROAS', higherIsBetter: true, kind: 'ratio', definition: 'Conversion value / spend.' },
  cpa: { label: 'CPA', higherIsBetter: false, kind: 'money', definition: 'Spend / conversions.' },
  conversion_rate: { label: 'Conversion rate', higherIsBetter: true, kind: 'percent', definition: 'Conversions / clicks.' },
  ctr: { label: 'CTR', higherIsBetter: true, kind: 'percent', definition: 'Clicks / impressions.' },
  cpc: { label: 'CPC', higherIsBetter: false, kind: 'money', definition: 'Spend / clicks.' },
  cpm: { label: 'CPM', higherIsBetter: false, kind: 'money', definition: 'Spend per 1,000 impressions.' },
};

export function isBenchmarkMetric(v: unknown): v is BenchmarkMetric {
  return typeof v === 'string' && (BENCHMARK_METRICS as readonly string[]).includes(v);
}

export interface Percentiles {
  p10: number | null;
  p25: number | null;
  p50: number | null;
  p75: number | null;
  p90: number | null;
}

export type { Totals };

/** The volume under a figure before it is placed, and why. */
export const MIN_VOLUME: Readonly<Record<BenchmarkMetric, { field: keyof Totals; min: number; unit: string }>> = {
  roas: { field: 'conversions', min: 20, unit: 'conversions' },
  cpa: { field: 'conversions', min: 20, unit: 'conversions' },
  conversion_rate: { field: 'clicks', min: 500, unit: 'clicks' },
  ctr: { field: 'impressions', min: 5000, unit: 'impressions' },
  cpc: { field: 'clicks', min: 200, unit: 'clicks' },
  cpm: { field: 'impressions', min: 5000, unit: 'impressions' },
};

/** The figure from totals (ratio of sums, as the performance pages compute it); null without a denominator. */
export function figureOf(metric: BenchmarkMetric, t: Totals): number | null {
  if (metric === 'conversion_rate') return t.clicks > 0 ? t.conversions / t.clicks : null;
  return metricOf(t, metric);
}

export type Placement =
  | { kind: 'placed'; percentile: number; betterThan: number; band: 'below_p10' | 'above_p90' | 'within' }
  | { kind: 'too_little_data'; have: number; need: number; unit: string }
  | { kind: 'no_figure' }
  | { kind: 'no_benchmark' };

const KNOTS: readonly [keyof Percentiles, number][] = [
  ['p10', 10],
  ['p25', 25],
  ['p50', 50],
  ['p75', 75],
  ['p90', 90],
];

/**
 * The percentile of value among the benchmark's knots (strictly increasing positive values are
 * expected; knots that are missing, not positive or out of order are left out). Below the lowest
 * known knot: that knot's rank with band below_p10 when it is p10; likewise above.
 */
export function percentileOf(p: Percentiles, value: number): { percentile: number; band: 'below_p10' | 'above_p90' | 'within' } | null {
  const knots: [number, number][] = [];
  for (const [key, rank] of KNOTS) {
    const v = p[key];
    if (v === null || !Number.isFinite(v) || v <= 0) continue;
    if (knots.length > 0 && v <= knots[knots.length - 1]![0]) continue;
    knots.push([v, rank]);
  }
  if (knots.length === 0 || !Number.isFinite(value) || value <= 0) return null;
  const first = knots[0]!;
  const last = knots[knots.length - 1]!;
  if (value < first[0]) return { percentile: first[1], band: first[1] === 10 ? 'below_p10' : 'within' };
  if (value > last[0]) return { percentile: last[1], band: last[1] === 90 ? 'above_p90' : 'within' };
  for (let k = 1; k < knots.length; k++) {
    const [v0, r0] = knots[k - 1]!;
    const [v1, r1] = knots[k]!;
    if (value <= v1) {
      const t = (Math.log(value) - Math.log(v0)) / (Math.log(v1) - Math.log(v0));
      return { percentile: r0 + t * (r1 - r0), band: 'within' };
    }
  }
  return { percentile: first[1], band: 'within' }; // one knot, equal to it
}

export function place(metric: BenchmarkMetric, p: Percentiles | null, totals: Totals): Placement {
  if (!p || [p.p10, p.p25, p.p50, p.p75, p.p90].every((v) => v === null)) return { kind: 'no_benchmark' };
  const need = MIN_VOLUME[metric];
  const have = totals[need.field];
  const value = figureOf(metric, totals);
  if (value === null || value <= 0) return have > 0 && have < need.min ? { kind: 'too_little_data', have, need: need.min, unit: need.unit } : { kind: 'no_figure' };
  if (have < need.min) return { kind: 'too_little_data', have, need: need.min, unit: need.unit };
  const at = percentileOf(p, value);
  if (!at) return { kind: 'no_benchmark' };
  const betterThan = BENCHMARK_INFO[metric].higherIsBetter ? at.percentile : 100 - at.percentile;
  return { kind: 'placed', percentile: at.percentile, betterThan, band: at.band };
}

/** One line a buyer reads: "Better than about 62 % of the benchmark", "In the best 10 %". */
export function placementText(metric: BenchmarkMetric, placement: Placement): string {
  const info = BENCHMARK_INFO[metric];
  switch (placement.kind) {
    case 'no_benchmark':
      return 'No industry benchmark for this metric.';
    case 'no_figure':
      return `No ${info.label} in the last 30 days.`;
    case 'too_little_data':
      return `Too little data to place: ${placement.have.toLocaleString('en')} ${placement.unit}, ${placement.need.toLocaleString('en')} needed.`;
    case 'placed': {
      const good = info.higherIsBetter ? placement.band === 'above_p90' : placement.band === 'below_p10';
      const bad = info.higherIsBetter ? placement.band === 'below_p10' : placement.band === 'above_p90';
      if (good) return `In the best 10 % of the benchmark (${info.higherIsBetter ? 'above the 90th' : 'below the 10th'} percentile).`;
      if (bad) return `In the weakest 10 % of the benchmark (${info.higherIsBetter ? 'below the 10th' : 'above the 90th'} percentile).`;
      const pct = Math.round(placement.betterThan);
      return `Better than about ${pct} % of the benchmark (${ordinal(Math.round(placement.percentile))} percentile${info.higherIsBetter ? '' : ', lower is better'}).`;
    }
  }
}

function ordinal(n: number): string {
  const mod100 = n % 100;
  if (mod100 >= 11 && mod100 <= 13) return `${n}th`;
  return `${n}${n % 10 === 1 ? 'st' : n % 10 === 2 ? 'nd' : n % 10 === 3 ? 'rd' : 'th'}`;
}
