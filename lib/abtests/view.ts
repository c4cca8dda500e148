// What the A/B test pages write about a test: lifts and intervals in words, the leader and its
// chance, the winner, the decision, the figures of each variant and the lift-over-time chart's data.
// Pure and client-safe: the list, the results page and the chart take these plain objects; no number
// here is ever NaN or Infinity on screen (a missing one is "—" or a sentence saying why).
import { formatCalendarDay, formatMoney, formatNumber, formatPercent, knownLocale, type NumberStyle } from '@/lib/format/number';
import { formatInZone } from '@/lib/format/time';
import { platformLabel } from '@/lib/performance/metrics';
import { AB_TEST_STATUSES, DB_TO_METRIC, METRIC_LABEL, TYPE_LABEL, type AbTestStatus, type AbTestType, type DbMetric, type Look, type Reading } from './model';
import { METRICS, MIN_SAMPLE, type AbMetric, type AbTestAnalysis, type DecisionStatus, type LiftEstimate, type VariantTotals } from './stats';

export const DASH = '—';
export const NOT_ENOUGH_DATA = 'not enough data yet';

export const STATUS_LABEL: Readonly<Record<AbTestStatus, string>> = {
  draft: 'Draft',
  running: 'Running',
  paused: 'Paused',
  completed: 'Completed',
  cancelled: 'Cancelled',
};

/** The badge colour of each status (components/tables BadgeTone); the label is always written too. */
export const STATUS_TONE: Readonly<Record<AbTestStatus, 'best' | 'good' | 'neutral' | 'warn' | 'none'>> = {
  draft: 'neutral',
  running: 'good',
  paused: 'warn',
  completed: 'best',
  cancelled: 'none',
};

/**
 * The list's ?status= value: a status, nothing (every test), or a value that is not one, which the
 * page names in a message and then shows every test (never an error page).
 */
export function parseStatusParam(value: string | string[] | undefined): { status: AbTestStatus | null; invalid: string | null } {
  const v = (Array.isArray(value) ? value[0] : value)?.trim() ?? '';
  if (v === '' || v.toLowerCase() === 'all') return { status: null, invalid: null };
  const lower = v.toLowerCase();
  if ((AB_TEST_STATUSES as readonly string[]).includes(lower)) return { status: lower as AbTestStatus, invalid: null };
  return { status: null, invalid: v.length > 40 ? `${v.slice(0, 40)}…` : v };
}

export function statusLabel(s: string): string {
  return STATUS_LABEL[s as AbTestStatus] ?? s;
}

export function typeLabel(t: string): string {
  return TYPE_LABEL[t as AbTestType] ?? t;
}

export function metricLabel(m: string): string {
  return METRIC_LABEL[m as DbMetric] ?? m;
}

// ---------------------------------------------------------------------------------------------
// Numbers in words

const formatters = new Map<string, Intl.NumberFormat>();

function digits(value: number, decimals: number, locale: string): string {
  const l = knownLocale(locale);
  const key = `${l}|${decimals}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.NumberFormat(l, { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
    formatters.set(key, f);
  }
  return f.format(value);
}

const finite = (x: number | null | undefined): x is number => typeof x === 'number' && Number.isFinite(x);

/**
 * A relative change (0.123) as a signed percent: "+12.3 %", "−4.1 %", "0.0 %"; one decimal under
 * 100 %, whole from there ("+240 %"). The minus is the typographic one, which screen readers say.
 */
export function signedPercent(fraction: number | null | undefined, locale = 'en-GB'): string {
  if (!finite(fraction)) return DASH;
  const pct = fraction * 100;
  const decimals = Math.abs(pct) >= 99.95 ? 0 : 1;
  const shown = digits(Math.abs(pct), decimals, locale);
  const zero = Number(Math.abs(pct).toFixed(decimals)) === 0;
  return `${zero ? '' : pct > 0 ? '+' : '\u2212'}${shown} %`;
}

/** An interval on the lift: "+4.1 % to +21.2 %". */
export function intervalText(lower: number | null | undefined, upper: number | null | undefined, locale = 'en-GB'): string {
  if (!finite(lower) || !finite(upper)) return DASH;
  return `${signedPercent(lower, locale)} to ${signedPercent(upper, locale)}`;
}

/** The lift with its interval: "+12.3 % (+4.1 % to +21.2 %)"; the lift alone when there is no interval. */
export function liftWithInterval(lift: number | null | undefined, lower: number | null | undefined, upper: number | null | undefined, locale = 'en-GB'): string {
  if (!finite(lift)) return DASH;
  const range = intervalText(lower, upper, locale);
  return range === DASH ? signedPercent(lift, locale) : `${signedPercent(lift, locale)} (${range})`;
}

/** A p-value: "p = 0.31", "p = 0.004", "p < 0.001". */
export function pValueText(p: number | null | undefined, locale = 'en-GB'): string {
  if (!finite(p)) return DASH;
  const q = Math.min(1, Math.max(0, p));
  if (q < 0.001) return `p < ${digits(0.001, 3, locale)}`;
  return `p = ${digits(q, q < 0.01 ? 3 : 2, locale)}`;
}

/** A probability as a chance: "87 %", "99.4 %", "> 99.9 %", "< 0.1 %". */
export function chanceText(p: number | null | undefined, locale = 'en-GB'): string {
  if (!finite(p)) return DASH;
  const q = Math.min(1, Math.max(0, p));
  if (q > 0.999) return `> ${digits(99.9, 1, locale)} %`;
  if (q < 0.001) return `< ${digits(0.1, 1, locale)} %`;
  const near = q >= 0.99 || q <= 0.01;
  return `${digits(q * 100, near ? 1 : 0, locale)} %`;
}

/** The always-valid significance of a winner (1 − p): "98.8 %", "> 99.9 %". */
export function significanceText(x: number | null | undefined, locale = 'en-GB'): string {
  if (!finite(x)) return DASH;
  const q = Math.min(1, Math.max(0, x));
  if (q > 0.9995) return `> ${digits(99.9, 1, locale)} %`;
  return `${digits(q * 100, 1, locale)} %`;
}

/** An expected loss, a fraction of A's performance: "0.42 %", "< 0.01 %". */
export function lossText(loss: number | null | undefined, locale = 'en-GB'): string {
  if (!finite(loss)) return DASH;
  const q = Math.max(0, loss);
  if (q < 0.0001) return `< ${digits(0.01, 2, locale)} %`;
  return `${digits(q * 100, q < 0.1 ? 2 : 1, locale)} %`;
}

/** A share (0.5) as "50 %" (a planned or observed split, an MDE). */
export function shareText(x: number | null | undefined, locale = 'en-GB'): string {
  if (!finite(x)) return DASH;
  const pct = x * 100;
  return `${digits(pct, Number.isInteger(Math.round(pct * 10) / 10) ? 0 : 1, locale)} %`;
}

// ---------------------------------------------------------------------------------------------
// The metric's good direction

export function metricOf(db: DbMetric | string): AbMetric {
  return DB_TO_METRIC[db as DbMetric] ?? 'cvr';
}

export function goodDirection(metric: AbMetric): 'higher' | 'lower' {
  return METRICS[metric].sign > 0 ? 'higher' : 'lower';
}

export function directionText(metric: AbMetric): string {
  return goodDirection(metric) === 'higher' ? 'higher is better' : 'lower is better';
}

/** Whether a lift of B over A is good news for B: a CPA lift of −10 % is (lower is better). */
export function liftTone(metric: AbMetric, lift: number | null | undefined): 'good' | 'bad' | 'neutral' {
  if (!finite(lift) || lift === 0) return 'neutral';
  return METRICS[metric].sign * lift > 0 ? 'good' : 'bad';
}

/** A value of the metric itself: CTR and conversion rate as percents, CPA and CPC as money, ROAS as a ratio. */
export function metricValueText(metric: AbMetric, value: number | null | undefined, style: NumberStyle): string {
  if (!finite(value)) return DASH;
  switch (metric) {
    case 'ctr':
    case 'cvr':
      return formatPercent(value, style, 2);
    case 'cpa':
    case 'cpc':
      return formatMoney(value, style);
    case 'roas':
      return formatNumber(value, style, 2);
  }
}

// ---------------------------------------------------------------------------------------------
// Leader and winner

export interface VariantNames {
  a: string;
  b: string;
}

/** "A · Blue button": the arm, then its name when it has one of its own. */
export function armName(arm: 'A' | 'B', names: VariantNames): string {
  const name = (arm === 'A' ? names.a : names.b).trim();
  return name && name !== arm ? `${arm} · ${name}` : arm;
}

export type LeaderState = 'no_data' | 'not_computable' | 'not_enough_data' | 'check_split' | 'tied' | 'leader';

export interface LeaderView {
  state: LeaderState;
  arm: 'A' | 'B' | null;
  /** The leader's arm and name, or "—", "not enough data yet", …. */
  text: string;
  /** Its chance to win (P(B better), or 1 − P for A), past the minimum sample only. */
  chance: number | null;
  /** "87 % chance to win", or why there is none. */
  note: string | null;
}

/**
 * The variant ahead on the primary metric (in its good direction) and its chance to win. Nothing
 * before the minimum sample: an early lead is mostly noise, so it reads "not enough data yet".
 */
export function leaderOf(analysis: AbTestAnalysis | null, names: VariantNames, locale = 'en-GB'): LeaderView {
  if (!analysis) return { state: 'no_data', arm: null, text: DASH, chance: null, note: null };
  const est = analysis.estimate;
  if (!est.computable) {
    const broken = est.reason === 'invalid_input' || est.reason === 'daily_totals_mismatch' || analysis.minSampleReached;
    return broken
      ? { state: 'not_computable', arm: null, text: DASH, chance: null, note: est.message }
      : { state: 'not_enough_data', arm: null, text: NOT_ENOUGH_DATA, chance: null, note: null };
  }
  if (!analysis.minSampleReached) return { state: 'not_enough_data', arm: null, text: NOT_ENOUGH_DATA, chance: null, note: null };
  if (!analysis.split.ok) return { state: 'check_split', arm: null, text: DASH, chance: null, note: 'the split is off plan: check the delivery first' };
  const p = analysis.bayes?.probBBetter;
  if (!finite(p)) return { state: 'not_computable', arm: null, text: DASH, chance: null, note: null };
  if (est.logLift === 0) return { state: 'tied', arm: null, text: 'tied', chance: 0.5, note: 'A and B are level' };
  const arm: 'A' | 'B' = p > 0.5 ? 'B' : 'A';
  const chance = arm === 'B' ? p : 1 - p;
  return { state: 'leader', arm, text: armName(arm, names), chance, note: `${chanceText(chance, locale)} chance to win` };
}

export interface WinnerView {
  text: string;
  note: string | null;
}

/** The recorded winner of a test: "B · Blue button" with its significance (1 − the always-valid p), "No winner", or "—". */
export function winnerOf(winner: string | null, significance: number | null, names: VariantNames, locale = 'en-GB'): WinnerView {
  const sig = finite(significance) ? `significance ${significanceText(significance, locale)}` : null;
  if (winner === 'A' || winner === 'B') return { text: armName(winner, names), note: sig };
  if (winner === 'none') return { text: 'No winner', note: sig };
  return { text: DASH, note: null };
}

// ---------------------------------------------------------------------------------------------
// Dates

/** A test's days in the tenant's locale: "3 Mar 2025 – 30 Mar 2025", "from 3 Mar 2025", "not scheduled". */
export function dateRangeText(start: string | null, end: string | null, locale = 'en-GB'): string {
  const d = (x: string) => formatCalendarDay(x, locale);
  if (start && end) return `${d(start)} – ${d(end)}`;
  if (start) return `from ${d(start)}`;
  if (end) return `until ${d(end)}`;
  return 'not scheduled';
}

// ---------------------------------------------------------------------------------------------
// The figures of each variant

export interface VariantFigures {
  impressions: number;
  clicks: number;
  conversions: number;
  spend: number;
  value: number;
  ctr: number | null;
  cvr: number | null;
  cpa: number | null;
  roas: number | null;
}

const ratio = (x: number, y: number): number | null => (y > 0 && Number.isFinite(x) && Number.isFinite(y) ? x / y : null);

export function figuresOf(t: VariantTotals): VariantFigures {
  return {
    impressions: t.impressions,
    clicks: t.clicks,
    conversions: t.conversions,
    spend: t.spend,
    value: t.conversionValue,
    ctr: ratio(t.clicks, t.impressions),
    cvr: ratio(t.conversions, t.clicks),
    cpa: ratio(t.spend, t.conversions),
    roas: ratio(t.conversionValue, t.spend),
  };
}

export interface FigureRow {
  key: keyof VariantFigures;
  label: string;
  a: string;
  b: string;
  /** B against A, relative ("+12.3 %"), or "—". */
  change: string;
  tone: 'good' | 'bad' | 'neutral';
  /** The test's primary metric. */
  primary: boolean;
}

const FIGURE_ROWS: readonly { key: keyof VariantFigures; label: string; metric: AbMetric | null; kind: 'count' | 'money' | 'percent' | 'ratio'; none: string }[] = [
  { key: 'impressions', label: 'Impressions', metric: null, kind: 'count', none: DASH },
  { key: 'clicks', label: 'Clicks', metric: null, kind: 'count', none: DASH },
  { key: 'conversions', label: 'Conversions', metric: null, kind: 'count', none: DASH },
  { key: 'spend', label: 'Spend', metric: null, kind: 'money', none: DASH },
  { key: 'value', label: 'Conversion value', metric: null, kind: 'money', none: DASH },
  { key: 'ctr', label: 'CTR', metric: 'ctr', kind: 'percent', none: 'no impressions' },
  { key: 'cvr', label: 'Conversion rate', metric: 'cvr', kind: 'percent', none: 'no clicks' },
  { key: 'cpa', label: 'CPA', metric: 'cpa', kind: 'money', none: 'no conversions' },
  { key: 'roas', label: 'ROAS', metric: 'roas', kind: 'ratio', none: 'no spend' },
];

function figureText(kind: 'count' | 'money' | 'percent' | 'ratio', v: number | null, none: string, style: NumberStyle): string {
  if (!finite(v)) return none;
  switch (kind) {
    case 'count':
      return formatNumber(v, style, Number.isInteger(v) ? 0 : 2);
    case 'money':
      return formatMoney(v, style);
    case 'percent':
      return formatPercent(v, style, 2);
    case 'ratio':
      return formatNumber(v, style, 2);
  }
}

/** The per-variant table: volumes and rates of A and B, and B against A on each (toned for the rates). */
export function figureRows(a: VariantTotals, b: VariantTotals, primary: AbMetric, style: NumberStyle): FigureRow[] {
  const fa = figuresOf(a);
  const fb = figuresOf(b);
  return FIGURE_ROWS.map((r) => {
    const va = fa[r.key];
    const vb = fb[r.key];
    const change = finite(va) && finite(vb) && va > 0 ? vb / va - 1 : null;
    return {
      key: r.key,
      label: r.label,
      a: figureText(r.kind, va, r.none, style),
      b: figureText(r.kind, vb, r.none, style),
      change: signedPercent(change, style.locale),
      tone: r.metric ? liftTone(r.metric, change) : 'neutral',
      primary: r.metric === primary,
    };
  });
}

// ---------------------------------------------------------------------------------------------
// What the minimum sample still lacks

/** One line per missing part of the minimum sample ("B: 58 of 100 conversions"); none once reached. */
export function missingSample(metric: AbMetric, a: VariantTotals, b: VariantTotals, days: number | null, locale = 'en-GB'): string[] {
  const unit = METRICS[metric].sampleUnit;
  const need = MIN_SAMPLE[unit];
  const n = (x: number) => formatNumber(x, { locale }, Number.isInteger(x) ? 0 : 1);
  const out: string[] = [];
  for (const [arm, t] of [['A', a], ['B', b]] as const) {
    if (t[unit] < need) out.push(`${arm}: ${n(t[unit])} of ${n(need)} ${unit}`);
  }
  if (days !== null && days < MIN_SAMPLE.days) out.push(`${days} of ${MIN_SAMPLE.days} days, so that every weekday is in`);
  return out;
}

// ---------------------------------------------------------------------------------------------
// One test's result, as the results page shows it

export interface ResultTestInput {
  id: string;
  name: string;
  status: AbTestStatus;
  platform: string | null;
  campaignId: string | null;
  campaignName: string | null;
  /** Where the campaign's performance opens, or null. */
  campaignHref: string | null;
  type: string;
  hypothesis: string | null;
  metric: DbMetric;
  variantA: string;
  variantB: string;
  startDate: string | null;
  endDate: string | null;
  winner: string | null;
  significance: number | null;
  design: { plannedShareB: number; mde: number; allocationUnit: 'spend' | 'impressions'; frozenAt: string | null; stored: boolean };
  variants: readonly { arm: 'A' | 'B'; level: string; platformId: string; name: string | null }[];
  state: { asOf: string; decision: string; message: string; minPSeq: number | null; winnerDay: string | null; evaluatedAt: string } | null;
}

export interface ResultNowInput {
  totalsA: VariantTotals;
  totalsB: VariantTotals;
  dailyA: readonly unknown[];
  dailyB: readonly unknown[];
  analysis: AbTestAnalysis;
  looks: readonly Look[];
  reading: Reading;
  source: 'platform_ids' | 'entered' | 'mixed';
  /** Why the entered totals cannot be read (the field named), or null. */
  invalid?: string | null;
  /** The last day the reading covers. */
  day?: string;
}

export interface DecisionView {
  status: DecisionStatus;
  /** win: a winner; warn: the split; info: not yet; error: not computable. */
  tone: 'win' | 'warn' | 'info' | 'error';
  headline: string;
  message: string;
  /** What the minimum sample still lacks (not_enough_data). */
  missing: string[];
  /** The winner latched by the daily loop (the first look meeting the rule), with its day. */
  latched: { arm: 'A' | 'B'; text: string } | null;
  /** The split check when it failed: observed vs planned share, its p-value (impressions). */
  splitWarning: { observed: string; planned: string; pValue: string | null; unit: string; message: string } | null;
  /** The record's own outcome for a completed or cancelled test. */
  outcome: string | null;
}

export interface LiftView {
  metric: AbMetric;
  metricLabel: string;
  /** The metric in a sentence: "conversion rate", "CTR". */
  metricWords: string;
  direction: string;
  computable: boolean;
  /** Why not, in words. */
  reason: string | null;
  valueA: string;
  valueB: string;
  lift: string;
  tone: 'good' | 'bad' | 'neutral';
  fixed: string;
  pValue: string;
  sequential: string;
  sequentialP: string;
  /** Which interval decides, and why, in one line. */
  decides: string;
  /** Before the minimum sample: the numbers are shown for information, nothing is read from them. */
  early: boolean;
  chance: string | null;
  lossB: string | null;
  lossA: string | null;
  /** The Bayesian read-out in one sentence, or why it is held back. */
  bayes: string;
  varianceModel: string;
}

export interface SourceView {
  kind: 'platform_ids' | 'entered' | 'mixed';
  text: string;
  arms: { arm: 'A' | 'B'; lines: string[] }[];
}

export interface ChartPoint {
  day: string;
  lift: number | null;
  lower: number | null;
  upper: number | null;
  seqLower: number | null;
  seqUpper: number | null;
  probBBetter: number | null;
  eligible: boolean;
  decision: DecisionStatus;
}

export interface LiftChartData {
  metricLabel: string;
  /** The minimum detectable effect (a fraction): its lines are drawn at ± it. */
  mde: number;
  points: ChartPoint[];
  winnerDay: string | null;
  winnerArm: 'A' | 'B' | null;
  /** Shown instead of the chart when there are no looks. */
  emptyText: string;
  locale: string;
}

export interface ResultView {
  id: string;
  name: string;
  status: AbTestStatus;
  statusLabel: string;
  statusTone: (typeof STATUS_TONE)[AbTestStatus];
  facts: { label: string; value: string; href?: string | null }[];
  hypothesis: string | null;
  design: { label: string; value: string }[];
  decision: DecisionView;
  figures: FigureRow[];
  names: { a: string; b: string };
  lift: LiftView;
  source: SourceView;
  chart: LiftChartData;
  /** When the daily loop last read it. */
  evaluated: string | null;
}

const DECIDES =
  'The always-valid interval decides: it stays valid however often the test is looked at, while the fixed-horizon one holds for a single planned look (checked daily, it names a false winner in about 1 test in 5).';

function varianceModelText(est: AbTestAnalysis['estimate'], source: ResultNowInput['source']): string {
  if (!est.computable) return 'None yet: the lift cannot be computed.';
  const e = est as LiftEstimate;
  if (e.varianceModel === 'per_day') {
    return `Per day over ${e.days} days: the days are the units, so day-to-day swings count and a shock shared by A and B cancels out (widened for a short run).`;
  }
  return source === 'platform_ids'
    ? `Totals only (fewer than ${MIN_SAMPLE.days} days of daily figures): sampling noise alone, which understates the spread when rates drift from day to day.`
    : 'Totals only (the figures were entered as totals): sampling noise alone, which understates the spread when rates drift from day to day.';
}

const LEVEL_WORD: Readonly<Record<string, string>> = { campaign: 'campaign', adset: 'ad set', ad: 'ad' };

function sourceView(test: ResultTestInput, source: ResultNowInput['source']): SourceView {
  const platform = test.platform ? platformLabel(test.platform) : null;
  const arms = (['A', 'B'] as const).map((arm) => {
    const ids = test.variants.filter((v) => v.arm === arm);
    const lines = ids.length
      ? ids.map((v) => `${LEVEL_WORD[v.level] ?? v.level} ${v.platformId}${v.name ? ` (${v.name})` : ''}${platform ? ` on ${platform}` : ''}`)
      : ['entered by hand'];
    return { arm, lines };
  });
  const text =
    source === 'entered'
      ? 'Entered by hand: the totals of each variant are in the test record.'
      : source === 'platform_ids'
        ? "The daily figures of the variants' platform ids, from the start day on."
        : "A variant's daily figures from its platform ids, the other's entered by hand.";
  return { kind: source, text, arms };
}

const noData = (now: ResultNowInput) =>
  [now.totalsA, now.totalsB].every((t) => t.impressions === 0 && t.clicks === 0 && t.conversions === 0 && t.spend === 0 && t.conversionValue === 0);

function decisionView(test: ResultTestInput, now: ResultNowInput, names: VariantNames, style: NumberStyle): DecisionView {
  const a = now.analysis;
  const metric = metricOf(test.metric);
  const split = a.split;
  const splitWarning = split.ok
    ? null
    : {
        observed: shareText(split.observedShareB, style.locale),
        planned: shareText(split.plannedShareB, style.locale),
        pValue: split.pValue === null ? null : pValueText(split.pValue, style.locale),
        unit: split.unit === 'spend' ? 'spend' : 'impressions',
        message: split.message,
      };
  const latchedArm = now.reading.winner ?? (test.state?.winnerDay && (test.winner === 'A' || test.winner === 'B') ? test.winner : null);
  const latchedDay = now.reading.winnerDay ?? test.state?.winnerDay ?? null;
  // A draft reads no winner: its design is not frozen yet.
  const latched =
    latchedArm && latchedDay && test.status !== 'draft'
      ? {
          arm: latchedArm,
          text: `The decision rule latched ${armName(latchedArm, names)} as the winner on ${formatCalendarDay(latchedDay, style.locale)}: the first day its always-valid interval no longer included zero (no difference). The guarantee is on that first crossing, so the winner stands whatever later days say.`,
        }
      : null;
  // Read by the loop or closed by a move (a state) without the rule's day: the winner was declared by hand.
  // A test recorded whole from psql (no state) is shown as recorded.
  const declared = test.status === 'completed' && (test.winner === 'A' || test.winner === 'B') && test.state !== null && !latched;
  let outcome: string | null = null;
  if (test.status === 'completed') {
    const w = winnerOf(test.winner, test.significance, names, style.locale);
    outcome =
      test.winner === 'A' || test.winner === 'B'
        ? declared
          ? `Completed with ${w.text} declared the winner by hand${w.note ? ` (${w.note})` : ''}: the decision rule did not latch it.`
          : `Completed with ${w.text} as the winner${w.note ? ` (${w.note})` : ''}.`
        : 'Completed without a winner.';
  } else if (test.status === 'cancelled') outcome = 'Cancelled: the figures are shown as they stood.';

  const status = a.decision.status;
  const missing = status === 'not_enough_data' ? missingSample(metric, now.totalsA, now.totalsB, now.source === 'platform_ids' ? Math.min(now.dailyA.length, now.dailyB.length) : null, style.locale) : [];
  const base = { status, message: a.decision.message, missing, latched, splitWarning, outcome };
  if (test.status === 'draft' && !now.invalid && noData(now)) {
    return { ...base, status, tone: 'info', headline: 'Not started yet', message: 'A draft has no data: its figures are read once the test starts, and its design is frozen then.', missing: [] };
  }
  if (test.status !== 'draft' && test.startDate !== null && now.day !== undefined && test.startDate > now.day) {
    return {
      ...base,
      tone: 'info',
      headline: 'Not started yet',
      message: `The test starts on ${formatCalendarDay(test.startDate, style.locale)}: its data are read from that day.`,
      missing: [],
      splitWarning: null,
    };
  }
  if (test.status !== 'draft' && !now.invalid && noData(now)) {
    return {
      ...base,
      tone: 'info',
      headline: 'No data yet',
      message:
        now.source === 'platform_ids'
          ? 'The variants’ ids have no delivery since the test started: the first reading comes with the next complete day of metrics.'
          : 'No totals have been entered for the variants yet: enter them on the edit page as they come in.',
      missing: [],
    };
  }
  if (now.invalid) {
    return { ...base, tone: 'error', headline: 'The entered totals cannot be read', message: `${now.invalid}. Correct them on the edit page; until then no result is computed.` };
  }
  if (test.status === 'draft') {
    return {
      ...base,
      tone: 'info',
      headline: 'Not started yet',
      message:
        'A draft: the figures since its start date are shown for information only. No winner is read until the test starts and its design is frozen, so that the design is not chosen after seeing them.',
      missing: [],
    };
  }
  if (test.status === 'completed' && (test.winner === 'A' || test.winner === 'B')) {
    return declared
      ? { ...base, tone: 'win', headline: `${armName(test.winner, names)} declared the winner` }
      : { ...base, tone: 'win', headline: `${armName(test.winner, names)} wins` };
  }
  if (test.status === 'completed' && test.winner === 'none') return { ...base, tone: 'info', headline: 'Completed without a winner' };
  if (test.status === 'cancelled') return { ...base, tone: 'info', headline: 'Cancelled' };
  if (latched) return { ...base, tone: 'win', headline: `${armName(latched.arm, names)} wins` };
  switch (status) {
    case 'winner_a':
    case 'winner_b': {
      const arm = status === 'winner_a' ? 'A' : 'B';
      return { ...base, tone: 'win', headline: `${armName(arm, names)} wins` };
    }
    case 'check_split':
      return { ...base, tone: 'warn', headline: 'Check the split before reading the result' };
    case 'not_enough_data':
      return { ...base, tone: 'info', headline: 'Not enough data yet' };
    case 'not_computable':
      return { ...base, tone: 'error', headline: 'The result cannot be computed yet' };
    case 'no_winner_yet':
      return { ...base, tone: 'info', headline: 'No winner yet' };
  }
}

function liftView(test: ResultTestInput, now: ResultNowInput, style: NumberStyle): LiftView {
  const a = now.analysis;
  const metric = metricOf(test.metric);
  const label = METRICS[metric].label;
  const est = a.estimate;
  const early = !a.minSampleReached;
  const common = { metric, metricLabel: metricLabel(test.metric), metricWords: label, direction: directionText(metric), decides: DECIDES, early, varianceModel: varianceModelText(est, now.source) };
  const fa = figuresOf(now.totalsA);
  const fb = figuresOf(now.totalsB);
  const key: Readonly<Record<AbMetric, keyof VariantFigures>> = { ctr: 'ctr', cvr: 'cvr', cpa: 'cpa', roas: 'roas', cpc: 'cpa' };
  const direct = (f: VariantFigures, t: VariantTotals) => (metric === 'cpc' ? ratio(t.spend, t.clicks) : (f[key[metric]] as number | null));
  if (!est.computable) {
    return {
      ...common,
      computable: false,
      reason: est.message,
      valueA: metricValueText(metric, direct(fa, now.totalsA), style),
      valueB: metricValueText(metric, direct(fb, now.totalsB), style),
      lift: DASH,
      tone: 'neutral',
      fixed: DASH,
      pValue: DASH,
      sequential: DASH,
      sequentialP: DASH,
      chance: null,
      lossB: null,
      lossA: null,
      bayes: `No chance to beat can be given: ${lowerFirst(est.message)}`,
    };
  }
  const lift = Math.expm1(est.logLift);
  const loc = style.locale;
  const held = early || !a.split.ok;
  const chance = !held && a.bayes ? chanceText(a.bayes.probBBetter, loc) : null;
  const lossB = !held && a.bayes ? lossText(a.bayes.expectedLossB, loc) : null;
  const lossA = !held && a.bayes ? lossText(a.bayes.expectedLossA, loc) : null;
  const bayes = early
    ? `Held back: ${NOT_ENOUGH_DATA}. Before the minimum sample an early lead is mostly noise.`
    : !a.split.ok
      ? 'Held back: the split is off plan, so the comparison may be biased.'
      : `B has a ${chance} chance to beat A on ${label} (${directionText(metric)}). Choosing B risks an expected ${lossB} of A's ${label}; keeping A forgoes an expected ${lossA}.`;
  return {
    ...common,
    computable: true,
    reason: null,
    valueA: metricValueText(metric, est.valueA, style),
    valueB: metricValueText(metric, est.valueB, style),
    lift: signedPercent(lift, loc),
    // no colour of good or bad news before the result can be read
    tone: held ? 'neutral' : liftTone(metric, lift),
    fixed: intervalText(a.fixed?.interval.lower, a.fixed?.interval.upper, loc),
    pValue: pValueText(a.fixed?.pValue, loc),
    sequential: intervalText(a.sequential?.interval.lower, a.sequential?.interval.upper, loc),
    sequentialP: pValueText(a.sequential?.pValue, loc),
    chance,
    lossB,
    lossA,
    bayes,
  };
}

function lowerFirst(s: string): string {
  return s ? s[0]!.toLowerCase() + s.slice(1) : s;
}

function chartEmptyText(test: ResultTestInput, now: ResultNowInput): string {
  if (test.status === 'draft' && noData(now)) return 'No readings yet: a draft has no data. The lift over time appears once the test runs.';
  if (now.looks.length > 0) {
    const est = now.analysis.estimate;
    return `No lift to draw yet: ${est.computable ? 'no reading so far could compute one.' : lowerFirst(est.message)}`;
  }
  if (test.status === 'draft') return 'No readings yet: a draft has no data. The lift over time appears once the test runs.';
  if (now.source === 'platform_ids') return "No daily figures yet for the variants' platform ids since the start day.";
  return 'No readings yet: totals entered by hand get one reading a day from the daily loop, and it has not read this test yet.';
}

export function chartData(test: ResultTestInput, now: ResultNowInput, locale: string): LiftChartData {
  const points: ChartPoint[] = now.looks.map((l) => ({
    day: l.day,
    lift: finite(l.lift) ? l.lift : null,
    lower: finite(l.lower) ? l.lower : null,
    upper: finite(l.upper) ? l.upper : null,
    seqLower: finite(l.seqLower) ? l.seqLower : null,
    seqUpper: finite(l.seqUpper) ? l.seqUpper : null,
    probBBetter: finite(l.probBBetter) ? l.probBBetter : null,
    eligible: l.eligible,
    decision: l.decision,
  }));
  return {
    // in a sentence: "conversion rate", "CTR"
    metricLabel: METRICS[metricOf(test.metric)].label,
    mde: test.design.mde,
    points,
    // a draft reads no winner (its design is not frozen yet)
    winnerDay: test.status === 'draft' ? null : (now.reading.winnerDay ?? test.state?.winnerDay ?? null),
    winnerArm: test.status === 'draft' ? null : (now.reading.winner ?? null),
    emptyText: chartEmptyText(test, now),
    locale,
  };
}

/** The results page of one test: header facts, design, the decision in words, figures, lift and chart. */
export function resultView(test: ResultTestInput, now: ResultNowInput, style: NumberStyle, timeZone: string): ResultView {
  const names = { a: test.variantA, b: test.variantB };
  const metric = metricOf(test.metric);
  const loc = style.locale;
  const unit = test.design.allocationUnit === 'spend' ? 'the budget (spend)' : 'the audience (impressions)';
  const facts: ResultView['facts'] = [
    { label: 'Platform', value: test.platform ? platformLabel(test.platform) : DASH },
    { label: 'Campaign', value: test.campaignName ?? test.campaignId ?? DASH, href: test.campaignHref },
    { label: 'Type', value: typeLabel(test.type) },
    { label: 'Dates', value: dateRangeText(test.startDate, test.endDate, loc) },
    { label: 'Variants', value: `${armName('A', names)} (control), ${armName('B', names)} (challenger)` },
  ];
  const design = [
    { label: 'Primary metric', value: `${metricLabel(test.metric)} (${directionText(metric)})` },
    { label: 'Planned split', value: `A ${shareText(1 - test.design.plannedShareB, loc)} / B ${shareText(test.design.plannedShareB, loc)} of ${unit}` },
    { label: 'Minimum detectable effect', value: `${shareText(test.design.mde, loc)} relative` },
    {
      label: 'Design',
      value: !test.design.stored
        ? 'No design stored: read with the defaults (half to B, 10 % minimum detectable effect).'
        : test.design.frozenAt
          ? `Frozen since ${formatInZone(test.design.frozenAt, timeZone, loc)}: the split and the MDE cannot change.`
          : 'Not frozen yet: it freezes when the test starts.',
    },
  ];
  return {
    id: test.id,
    name: test.name,
    status: test.status,
    statusLabel: statusLabel(test.status),
    statusTone: STATUS_TONE[test.status] ?? 'neutral',
    facts,
    hypothesis: test.hypothesis?.trim() ? test.hypothesis.trim() : null,
    design,
    decision: decisionView(test, now, names, style),
    figures: figureRows(now.totalsA, now.totalsB, metric, style),
    names,
    lift: liftView(test, now, style),
    source: sourceView(test, now.source),
    chart: chartData(test, now, loc),
    evaluated: test.state ? `Last read by the daily loop ${formatInZone(test.state.evaluatedAt, timeZone, loc)}, with the data to ${formatCalendarDay(test.state.asOf, loc)}.` : null,
  };
}

// ---------------------------------------------------------------------------------------------
// A row of the list

export interface ListTestInput {
  id: string;
  name: string;
  status: AbTestStatus;
  platform: string | null;
  campaignId: string | null;
  campaignName: string | null;
  type: string;
  metric: DbMetric;
  variantA: string;
  variantB: string;
  startDate: string | null;
  endDate: string | null;
  winner: string | null;
  significance: number | null;
  /** The winner of a completed test was declared by hand, not latched by the decision rule. */
  declared?: boolean;
}

/** The list's row (DataTable fields: strings, numbers, null). */
export interface ListRow {
  id: string;
  [key: string]: string | number | boolean | null;
  name: string;
  href: string;
  typeLabel: string;
  status: string;
  statusTone: string;
  statusRank: number;
  campaign: string;
  platform: string | null;
  dates: string;
  startDate: string | null;
  metric: string;
  leader: string;
  leaderNote: string | null;
  chance: number | null;
  winner: string;
  winnerNote: string | null;
}

/** Running first, then paused, drafts, completed and cancelled. */
export const STATUS_ORDER: readonly AbTestStatus[] = ['running', 'paused', 'draft', 'completed', 'cancelled'];

export function listRow(t: ListTestInput, analysis: AbTestAnalysis | null, locale = 'en-GB'): ListRow {
  const names = { a: t.variantA, b: t.variantB };
  // A draft or a closed test has no current leader to act on; a completed one shows its winner instead.
  const live = t.status === 'running' || t.status === 'paused';
  const leader = live ? leaderOf(analysis, names, locale) : { text: DASH, note: null, chance: null };
  const recorded = t.status === 'completed' ? winnerOf(t.winner, t.significance, names, locale) : { text: DASH, note: null };
  const winner = t.declared && (t.winner === 'A' || t.winner === 'B') ? { ...recorded, note: ['declared by hand', recorded.note].filter(Boolean).join(', ') } : recorded;
  return {
    id: t.id,
    name: t.name,
    href: `/ab-tests/${t.id}`,
    typeLabel: typeLabel(t.type),
    status: statusLabel(t.status),
    statusTone: STATUS_TONE[t.status] ?? 'neutral',
    statusRank: STATUS_ORDER.indexOf(t.status),
    campaign: t.campaignName ?? t.campaignId ?? DASH,
    platform: t.platform ? platformLabel(t.platform) : null,
    dates: dateRangeText(t.startDate, t.endDate, locale),
    startDate: t.startDate,
    metric: metricLabel(t.metric),
    leader: leader.text,
    leaderNote: leader.note,
    chance: leader.chance,
    winner: winner.text,
    winnerNote: winner.note,
  };
}
