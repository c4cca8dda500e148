// The metrics of the performance pages: what each one is, how it is computed
// from totals (rates are ratios of sums, never averages of daily ratios), and
// which direction is good. Pure; shared by server queries and client charts.

export const PLATFORMS = ['meta', 'google', 'tiktok', 'linkedin', 'snapchat', 'pinterest', 'microsoft', 'x', 'amazon'] as const;
export type Platform = (typeof PLATFORMS)[number];

export const PLATFORM_LABELS: Readonly<Record<Platform, string>> = {
  meta: 'Meta',
  google: 'Google',
  tiktok: 'TikTok',
  linkedin: 'LinkedIn',
  snapchat: 'Snapchat',
  pinterest: 'Pinterest',
  microsoft: 'Microsoft',
  x: 'X',
  amazon: 'Amazon',
};

export function isPlatform(v: unknown): v is Platform {
  return typeof v === 'string' && (PLATFORMS as readonly string[]).includes(v);
}

export function platformLabel(p: string): string {
  return isPlatform(p) ? PLATFORM_LABELS[p] : p;
}

export const LEVELS = ['campaign', 'adset'] as const;
export type Level = (typeof LEVELS)[number];

/** The eight figures of the KPI cards, the chart and the table. */
export const METRICS = ['spend', 'conversions', 'value', 'roas', 'cpa', 'ctr', 'cpc', 'cpm'] as const;
export type Metric = (typeof METRICS)[number];

export function isMetric(v: unknown): v is Metric {
  return typeof v === 'string' && (METRICS as readonly string[]).includes(v);
}

export type MetricKind = 'money' | 'count' | 'ratio' | 'percent';

export interface MetricInfo {
  label: string;
  /** How the value is written: money in the tenant currency, a count, a ratio (ROAS 3.21), a percent (CTR). */
  kind: MetricKind;
  /** true: up is good (ROAS); false: up is bad (CPA); null: neither (spend). */
  higherIsBetter: boolean | null;
  /** A volume sums over days and platforms; a rate is a ratio of sums. */
  volume: boolean;
  /** Needs conversions, which arrive late: the last days are provisional. */
  lagged: boolean;
  /** One line for a tooltip. */
  definition: string;
}

export const METRIC_INFO: Readonly<Record<Metric, MetricInfo>> = {
  spend: { label: 'Spend', kind: 'money', higherIsBetter: null, volume: true, lagged: false, definition: 'Amount spent.' },
  conversions: {
    label: 'Conversions',
    kind: 'count',
    higherIsBetter: true,
    volume: true,
    lagged: true,
    definition: 'Conversions as each platform attributes them.',
  },
  value: {
    label: 'Conversion value',
    kind: 'money',
    higherIsBetter: true,
    volume: true,
    lagged: true,
    definition: 'Value of the conversions, as each platform attributes it.',
  },
  roas: { label: 'ROAS', kind: 'ratio', higherIsBetter: true, volume: false, lagged: true, definition: 'Conversion value / spend.' },
  cpa: { label: 'CPA', kind: 'money', higherIsBetter: false, volume: false, lagged: true, definition: 'Spend / conversions.' },
  ctr: { label: 'CTR', kind: 'percent', higherIsBetter: true, volume: false, lagged: false, definition: 'Clicks / impressions.' },
  cpc: { label: 'CPC', kind: 'money', higherIsBetter: false, volume: false, lagged: false, definition: 'Spend / clicks.' },
  cpm: { label: 'CPM', kind: 'money', higherIsBetter: false, volume: false, lagged: false, definition: 'Spend × 1000 / impressions.' },
};

/** Sums over some rows: every metric is computed from these. */
export interface Totals {
  spend: number;
  impressions: number;
  clicks: number;
  conversions: number;
  value: number;
}

export const ZERO_TOTALS: Readonly<Totals> = { spend: 0, impressions: 0, clicks: 0, conversions: 0, value: 0 };

export function addTotals(a: Totals, b: Totals): Totals {
  return {
    spend: a.spend + b.spend,
    impressions: a.impressions + b.impressions,
    clicks: a.clicks + b.clicks,
    conversions: a.conversions + b.conversions,
    value: a.value + b.value,
  };
}

function ratio(num: number, den: number, scale = 1): number | null {
  return den > 0 ? (num * scale) / den : null;
}

/** A metric of some totals; null where its denominator is 0. */
export function metricOf(t: Totals, m: Metric): number | null {
  switch (m) {
    case 'spend':
      return t.spend;
    case 'conversions':
      return t.conversions;
    case 'value':
      return t.value;
    case 'roas':
      return ratio(t.value, t.spend);
    case 'cpa':
      return ratio(t.spend, t.conversions);
    case 'ctr':
      return ratio(t.clicks, t.impressions);
    case 'cpc':
      return ratio(t.spend, t.clicks);
    case 'cpm':
      return ratio(t.spend, t.impressions, 1000);
  }
}

/** Relative change in percent, null when either side is missing or the base is 0. */
export function changePercent(current: number | null, base: number | null): number | null {
  if (current === null || base === null || !Number.isFinite(current) || !Number.isFinite(base) || base === 0) return null;
  return ((current - base) / Math.abs(base)) * 100;
}

/** good / bad / neutral for a change of this metric (for colour). */
export function changeTone(m: Metric, pct: number | null): 'good' | 'bad' | 'neutral' {
  const dir = METRIC_INFO[m].higherIsBetter;
  if (pct === null || dir === null || Math.abs(pct) < 0.05) return 'neutral';
  return pct > 0 === dir ? 'good' : 'bad';
}
