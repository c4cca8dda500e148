// The performance page's view, read from the URL: range, platforms, level,
// comparison and chart metric. Every value is checked; a bad or missing one
// falls back to its default, so a hand-edited or stale link still opens a
// page, never an error. Pure: the tenant's last complete day comes in.
import { isMetric, isPlatform, LEVELS, type Level, type Metric, type Platform } from './metrics';

export const RANGES = ['yesterday', '7d', '14d', '30d', '90d', 'custom'] as const;
export type RangeKey = (typeof RANGES)[number];
export const RANGE_LABELS: Readonly<Record<RangeKey, string>> = {
  yesterday: 'Yesterday',
  '7d': 'Last 7 days',
  '14d': 'Last 14 days',
  '30d': 'Last 30 days',
  '90d': 'Last 90 days',
  custom: 'Custom',
};
const RANGE_DAYS: Readonly<Record<Exclude<RangeKey, 'custom'>, number>> = { yesterday: 1, '7d': 7, '14d': 14, '30d': 30, '90d': 90 };

export const COMPARISONS = ['baseline', 'previous'] as const;
export type Comparison = (typeof COMPARISONS)[number];
export const COMPARISON_LABELS: Readonly<Record<Comparison, string>> = {
  baseline: 'Baseline',
  previous: 'Previous period',
};

/** Longest custom range, and how far back a custom range may start. */
export const MAX_RANGE_DAYS = 366;
export const MAX_HISTORY_DAYS = 2 * 366;
/** The baseline is the daily rate of at least this many days before the range: four whole weeks keep the weekday mix. */
export const BASELINE_MIN_DAYS = 28;

export interface Period {
  from: string;
  to: string;
  days: number;
}

export interface PerformanceView {
  range: RangeKey;
  /** The range shown, ending on or before the tenant's last complete day. */
  period: Period;
  /** What the range is compared with: the previous period of the same length, or the baseline window before the range. */
  compare: Comparison;
  comparison: Period;
  /** Empty: every platform. */
  platforms: Platform[];
  level: Level;
  metric: Metric;
}

export const DEFAULT_VIEW = { range: '7d', compare: 'baseline', level: 'campaign', metric: 'roas' } as const;

const DAY_MS = 86_400_000;

function toEpoch(day: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return null;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return new Date(ms).toISOString().slice(0, 10) === day ? ms / DAY_MS : null;
}

export function addDays(day: string, n: number): string {
  const e = toEpoch(day);
  if (e === null) throw new Error(`not a day: ${day}`);
  return new Date((e + n) * DAY_MS).toISOString().slice(0, 10);
}

/** Days from a to b inclusive (1 when a = b). */
export function daysInclusive(from: string, to: string): number {
  const a = toEpoch(from);
  const b = toEpoch(to);
  if (a === null || b === null) throw new Error(`not a day: ${from} / ${to}`);
  return b - a + 1;
}

export function isValidDay(day: unknown): day is string {
  return typeof day === 'string' && toEpoch(day) !== null;
}

type Params = Record<string, string | string[] | undefined>;

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** The comparison period for a range. */
export function comparisonPeriod(period: Period, compare: Comparison): Period {
  const days = compare === 'previous' ? period.days : Math.max(BASELINE_MIN_DAYS, period.days);
  const to = addDays(period.from, -1);
  return { from: addDays(to, -(days - 1)), to, days };
}

/**
 * Reads the view from search params. `lastDay` is the tenant's last complete
 * day (its yesterday in its time zone): ranges end there, and a custom range
 * is clamped into [lastDay - MAX_HISTORY_DAYS, lastDay], at most MAX_RANGE_DAYS long.
 */
export function parseView(params: Params, lastDay: string): PerformanceView {
  const rawRange = first(params.range);
  let range: RangeKey = (RANGES as readonly string[]).includes(rawRange ?? '') ? (rawRange as RangeKey) : DEFAULT_VIEW.range;
  let period: Period;
  if (range === 'custom') {
    const earliest = addDays(lastDay, -(MAX_HISTORY_DAYS - 1));
    const from = first(params.from);
    const to = first(params.to);
    if (isValidDay(from) && isValidDay(to) && from <= to && to <= lastDay && from >= earliest && daysInclusive(from, to) <= MAX_RANGE_DAYS) {
      period = { from, to, days: daysInclusive(from, to) };
    } else {
      range = DEFAULT_VIEW.range;
      period = { from: addDays(lastDay, -(RANGE_DAYS[range] - 1)), to: lastDay, days: RANGE_DAYS[range] };
    }
  } else {
    const days = RANGE_DAYS[range];
    period = { from: addDays(lastDay, -(days - 1)), to: lastDay, days };
  }

  const rawCompare = first(params.compare);
  const compare: Comparison = (COMPARISONS as readonly string[]).includes(rawCompare ?? '') ? (rawCompare as Comparison) : DEFAULT_VIEW.compare;

  // platform=meta,google or platform=meta&platform=google; unknown names dropped, order fixed, no repeats.
  const rawPlatforms = ([] as string[]).concat(params.platform ?? []).flatMap((p) => p.split(','));
  const platforms = [...new Set(rawPlatforms.map((p) => p.trim().toLowerCase()).filter(isPlatform))].sort();

  const rawLevel = first(params.level);
  const level: Level = (LEVELS as readonly string[]).includes(rawLevel ?? '') ? (rawLevel as Level) : DEFAULT_VIEW.level;
  const rawMetric = first(params.metric);
  const metric: Metric = isMetric(rawMetric) ? rawMetric : DEFAULT_VIEW.metric;

  return { range, period, compare, comparison: comparisonPeriod(period, compare), platforms, level, metric };
}

/** The search params of a view, defaults left out, so links stay short. */
export function viewParams(view: Pick<PerformanceView, 'range' | 'period' | 'compare' | 'platforms' | 'level' | 'metric'>): Record<string, string> {
  const out: Record<string, string> = {};
  if (view.range !== DEFAULT_VIEW.range) out.range = view.range;
  if (view.range === 'custom') {
    out.from = view.period.from;
    out.to = view.period.to;
  }
  if (view.platforms.length > 0) out.platform = view.platforms.join(',');
  if (view.level !== DEFAULT_VIEW.level) out.level = view.level;
  if (view.compare !== DEFAULT_VIEW.compare) out.compare = view.compare;
  if (view.metric !== DEFAULT_VIEW.metric) out.metric = view.metric;
  return out;
}

export function viewHref(path: string, view: Parameters<typeof viewParams>[0], extra: Record<string, string> = {}): string {
  const qs = new URLSearchParams({ ...viewParams(view), ...extra }).toString();
  return qs ? `${path}?${qs}` : path;
}
