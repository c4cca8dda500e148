// What an A/B test is, between the database and the statistics: its statuses and their moves, the
// primary metric's names, the design defaults, the entered totals (ads.ab_tests.performance_a / _b),
// and the readings of a test day after day (the looks), with the latched winner. Pure and
// client-safe: the daily loop (lib/abtests/evaluate.ts) and the pages use the same functions, so the
// winner written by the loop is the one the page would compute.
import { analyzeAbTest, type AbMetric, type AbOptions, type AbTestAnalysis, type DailyTotals, type DecisionStatus, type VariantTotals } from './stats';

export const AB_TEST_STATUSES = ['draft', 'running', 'paused', 'completed', 'cancelled'] as const;
export type AbTestStatus = (typeof AB_TEST_STATUSES)[number];

export const AB_TEST_TYPES = ['creative', 'audience', 'bidding', 'landing_page', 'placement', 'other'] as const;
export type AbTestType = (typeof AB_TEST_TYPES)[number];

/** ads.ab_tests.primary_metric. */
export const DB_METRICS = ['conversion_rate', 'ctr', 'cpa', 'roas', 'cpc'] as const;
export type DbMetric = (typeof DB_METRICS)[number];

export const DB_TO_METRIC: Readonly<Record<DbMetric, AbMetric>> = { conversion_rate: 'cvr', ctr: 'ctr', cpa: 'cpa', roas: 'roas', cpc: 'cpc' };

export const METRIC_LABEL: Readonly<Record<DbMetric, string>> = {
  conversion_rate: 'Conversion rate',
  ctr: 'CTR',
  cpa: 'CPA',
  roas: 'ROAS',
  cpc: 'CPC',
};

export const TYPE_LABEL: Readonly<Record<AbTestType, string>> = {
  creative: 'Creative',
  audience: 'Audience',
  bidding: 'Bidding',
  landing_page: 'Landing page',
  placement: 'Placement',
  other: 'Other',
};

/** A test without a design row (e.g. inserted from psql as the guide shows) is read with these. */
export const DEFAULT_DESIGN = { plannedShareB: 0.5, mde: 0.1, allocationUnit: 'spend' } as const;

/**
 * The moves a person can make. Start freezes the design; complete keeps the latched winner or writes
 * 'none'; declaring a winner completes the test with that winner.
 */
export const TRANSITIONS: Readonly<Record<AbTestStatus, readonly AbTestStatus[]>> = {
  draft: ['running', 'cancelled'],
  running: ['paused', 'completed', 'cancelled'],
  paused: ['running', 'completed', 'cancelled'],
  completed: [],
  cancelled: [],
};

export function canMove(from: AbTestStatus, to: AbTestStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

// ---------------------------------------------------------------------------------------------
// Entered totals: the guide's JSON objects {"impressions", "clicks", "conversions", "spend", "conversion_value"}

export const PERFORMANCE_KEYS = ['impressions', 'clicks', 'conversions', 'spend', 'conversion_value'] as const;
export type PerformanceJson = Record<(typeof PERFORMANCE_KEYS)[number], number>;

/** Largest figure accepted in a total (numeric(16,2) in ads.metrics_daily). */
export const MAX_TOTAL = 1e13;

export type ParsedPerformance = { ok: true; totals: VariantTotals; empty: boolean } | { ok: false; message: string };

/**
 * Reads an entered totals object. Missing keys count as 0 (an empty object is a variant with no data
 * yet); a key present must be a finite number, not negative, below MAX_TOTAL, and counts (impressions,
 * clicks) must be whole; clicks cannot exceed impressions nor conversions clicks when both are given.
 * Numbers written as strings ("1200") are accepted, as psql users write them.
 */
export function parsePerformance(value: unknown, label = 'performance'): ParsedPerformance {
  if (value === null || value === undefined) return { ok: true, totals: zeroTotals(), empty: true };
  if (typeof value !== 'object' || Array.isArray(value)) return { ok: false, message: `${label} must be a JSON object` };
  const v = value as Record<string, unknown>;
  const out: PerformanceJson = { impressions: 0, clicks: 0, conversions: 0, spend: 0, conversion_value: 0 };
  let empty = true;
  for (const key of PERFORMANCE_KEYS) {
    const raw = v[key];
    if (raw === undefined || raw === null) {
      out[key] = 0;
      continue;
    }
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isFinite(n)) return { ok: false, message: `${label}.${key} must be a number (got ${JSON.stringify(raw).slice(0, 40)})` };
    if (n < 0) return { ok: false, message: `${label}.${key} cannot be negative (got ${n})` };
    if (n >= MAX_TOTAL) return { ok: false, message: `${label}.${key} is too large (${n})` };
    if ((key === 'impressions' || key === 'clicks') && !Number.isInteger(n)) return { ok: false, message: `${label}.${key} must be a whole number (got ${n})` };
    out[key] = n;
    if (n > 0) empty = false;
  }
  if (out.impressions > 0 && out.clicks > out.impressions) return { ok: false, message: `${label}: clicks (${out.clicks}) exceed impressions (${out.impressions})` };
  if (out.clicks > 0 && out.conversions > out.clicks) return { ok: false, message: `${label}: conversions (${out.conversions}) exceed clicks (${out.clicks})` };
  return {
    ok: true,
    empty,
    totals: { impressions: out.impressions, clicks: out.clicks, conversions: out.conversions, spend: out.spend, conversionValue: out.conversion_value },
  };
}

export function zeroTotals(): VariantTotals {
  return { impressions: 0, clicks: 0, conversions: 0, spend: 0, conversionValue: 0 };
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** The JSON written to performance_a / performance_b (money and conversions to the cent, as ads.metrics_daily keeps them). */
export function toPerformanceJson(t: VariantTotals): PerformanceJson {
  return {
    impressions: Math.round(t.impressions),
    clicks: Math.round(t.clicks),
    conversions: round2(t.conversions),
    spend: round2(t.spend),
    conversion_value: round2(t.conversionValue),
  };
}

export function addTotals(a: VariantTotals, b: VariantTotals): VariantTotals {
  return {
    impressions: a.impressions + b.impressions,
    clicks: a.clicks + b.clicks,
    conversions: a.conversions + b.conversions,
    spend: a.spend + b.spend,
    conversionValue: a.conversionValue + b.conversionValue,
  };
}

// ---------------------------------------------------------------------------------------------
// Looks: the test read as it stood at the end of each day

export interface Look {
  /** Last day of data in this reading (yyyy-mm-dd). */
  day: string;
  /** Relative lift of B over A, e^theta - 1; null when not computable. */
  lift: number | null;
  /** Fixed-horizon 95 % interval on the lift. */
  lower: number | null;
  upper: number | null;
  /** Always-valid 95 % interval on the lift. */
  seqLower: number | null;
  seqUpper: number | null;
  pValue: number | null;
  /** Always-valid p-value at this look (not yet the running minimum). */
  pSeq: number | null;
  /** Chance that B is better (in the metric's good direction). */
  probBBetter: number | null;
  decision: DecisionStatus;
  /** Whether the look could decide: computable, healthy split, minimum sample reached. */
  eligible: boolean;
}

export function lookOf(day: string, analysis: AbTestAnalysis): Look {
  const est = analysis.estimate;
  const computable = est.computable;
  const eligible = computable && analysis.split.ok && analysis.minSampleReached;
  return {
    day,
    lift: computable ? Math.expm1(est.logLift) : null,
    lower: analysis.fixed?.interval.lower ?? null,
    upper: analysis.fixed?.interval.upper ?? null,
    seqLower: analysis.sequential?.interval.lower ?? null,
    seqUpper: analysis.sequential?.interval.upper ?? null,
    pValue: analysis.fixed?.pValue ?? null,
    pSeq: analysis.sequential?.pValue ?? null,
    probBBetter: analysis.bayes?.probBBetter ?? null,
    decision: analysis.decision.status,
    eligible,
  };
}

function sumDays(days: readonly DailyTotals[]): VariantTotals {
  return days.reduce<VariantTotals>((s, d) => addTotals(s, d), zeroTotals());
}

/**
 * The test read at the end of every day that has data, from its first day on: each look analyses
 * the days up to it (cumulative totals, per-day variance once there are enough days). daily* must
 * be sorted by day; days outside [from, to] are ignored. O(n^2) in days, a few ms for a year.
 */
export function lookSeries(
  metric: AbMetric,
  dailyA: readonly DailyTotals[],
  dailyB: readonly DailyTotals[],
  options: AbOptions = {},
  range: { from?: string; to?: string } = {},
): Look[] {
  const inRange = (d: DailyTotals) => (!range.from || d.day >= range.from) && (!range.to || d.day <= range.to);
  const a = dailyA.filter(inRange);
  const b = dailyB.filter(inRange);
  const days = [...new Set([...a.map((d) => d.day), ...b.map((d) => d.day)])].sort();
  const looks: Look[] = [];
  let ia = 0;
  let ib = 0;
  for (const day of days) {
    while (ia < a.length && a[ia]!.day <= day) ia++;
    while (ib < b.length && b[ib]!.day <= day) ib++;
    const da = a.slice(0, ia);
    const db = b.slice(0, ib);
    const analysis = analyzeAbTest(metric, { totals: sumDays(da), daily: da }, { totals: sumDays(db), daily: db }, options);
    looks.push(lookOf(day, analysis));
  }
  return looks;
}

export interface Reading {
  /** 'A' or 'B' from the first look that met the decision rule (latched), else null. */
  winner: 'A' | 'B' | null;
  winnerDay: string | null;
  /** Running minimum of the always-valid p-value over the looks that could decide; null before any. */
  minPSeq: number | null;
  /** ads.ab_tests.statistical_significance: 1 - minPSeq, to 5 decimals; null before any deciding look. */
  significance: number | null;
}

/**
 * Folds looks into the test's reading. The always-valid guarantee is on the first crossing, so the
 * first winner is kept whatever later looks say; `prior` carries what earlier runs had latched (a
 * test measured from entered totals has one new look per run).
 */
export function readLooks(looks: readonly Look[], prior: Partial<Reading> = {}): Reading {
  let winner = prior.winner ?? null;
  let winnerDay = prior.winnerDay ?? null;
  let minPSeq = prior.minPSeq ?? null;
  for (const look of looks) {
    if (!look.eligible || look.pSeq === null) continue;
    minPSeq = minPSeq === null ? look.pSeq : Math.min(minPSeq, look.pSeq);
    if (winner === null && (look.decision === 'winner_a' || look.decision === 'winner_b')) {
      winner = look.decision === 'winner_a' ? 'A' : 'B';
      winnerDay = look.day;
    }
  }
  const significance = minPSeq === null ? null : Math.round((1 - minPSeq) * 1e5) / 1e5;
  return { winner, winnerDay, minPSeq, significance };
}
