// The evidence chart of a recommendation: what the engine tested (the metric,
// the value it saw, its baseline and the line it announced, from the evidence
// db/media_buying/090_recommendations.sql writes), and the entity's daily
// figures around the decision, read in one query for a page of the queue.
// chartSpec is pure; the client component imports only the types.
import 'server-only';
import { sql } from 'kysely';
import { z } from 'zod';
import type { Tx } from '@/lib/db';
import { formatNumber } from '@/lib/format/number';
import { addDays, daysInclusive, isValidDay } from '@/lib/performance/filters';
import { isPlatform, LEVELS } from '@/lib/performance/metrics';

/** The ratios a rule tests. Rates are ratios of sums, as the engine computes them. */
export type ChartMetric = 'cpa' | 'roas' | 'cpc' | 'ctr' | 'cpm';

export interface ChartLine {
  value: number;
  label: string;
}

/** A decision tested on a ratio over a window of days: the chart is the metric per day. */
export interface DailySpec {
  kind: 'daily';
  metric: ChartMetric;
  /** The value the rule saw over its window (the evidence's own figure); null where it was infinite (spend, no conversion). */
  tested: number | null;
  testedLabel: string;
  /** What the line is drawn from (max CPA, target ROAS, the entity's own previous 21 days); null when the line is the reference itself. */
  baseline: ChartLine | null;
  /** The line the rule announced and tested against. */
  threshold: ChartLine;
  /** The rule fires when the tested value is on this side of the threshold. */
  direction: 'above' | 'below';
  /** Whether being past the line is good news (a budget increase) or bad (a pause). */
  favourable: boolean;
  /** The 7 days ending on the last complete day the decision was made on. */
  window: { from: string; to: string };
  /** Days the winning test spanned: 28 for the rules that judge a CPA or ROAS persistently beyond the line. */
  spanDays: number;
  /** One sentence the chart cannot show by itself; null when it needs none. */
  note: string | null;
}

export interface WeekdayBar {
  /** ISO weekday, 1 = Monday. */
  isodow: number;
  spend: number;
  conversions: number;
  /** spend / conversions; null with no conversion that weekday. */
  cpa: number | null;
  weak: boolean;
}

/** The timing rule tests a 28-day weekday pattern, not a daily series: CPA by weekday against the 28-day CPA. */
export interface WeekdaySpec {
  kind: 'weekday';
  metric: 'cpa';
  bars: WeekdayBar[];
  baseline: ChartLine;
  threshold: ChartLine;
  direction: 'above';
  favourable: false;
  window: { from: string; to: string };
}

/** No honest chart: the reason, said to the buyer in place of the chart. */
export interface NoChart {
  kind: 'none';
  reason: string;
}

export type ChartSpec = DailySpec | WeekdaySpec | NoChart;

export interface DailyPoint {
  day: string;
  /** That day's ratio of sums; null when its divisor is 0 (no delivery, or no conversion for a CPA). */
  value: number | null;
  /** The ratio of the sums of the 7 days ending that day: what the engine tests on the window's last day. */
  rolling: number | null;
  /** Spend or impressions that day (the engine's "active" day). */
  delivered: boolean;
  /** The divisor was 0 but the numerator was not: the ratio is infinite (spent, no conversion), not missing. */
  unbounded: boolean;
  rollingUnbounded: boolean;
}

/** What the queue shows for one recommendation: the spec and, for a daily spec, CHART_DAYS points ending on its window's last day. */
export interface EvidenceChartData {
  spec: ChartSpec;
  points: DailyPoint[];
}

/** Days of the chart: the 28 days the engine reads (its history and the window), ending on the window's last day. */
export const CHART_DAYS = 28;
/** The rolling ratio: the engine's window. */
export const ROLLING_DAYS = 7;
/** The most recommendations one call charts: a page of the queue. */
export const MAX_ROWS = 100;

type Evidence = Record<string, unknown>;

const none = (reason: string): NoChart => ({ kind: 'none', reason });

/** A finite number of the evidence (numbers come as JSON numbers; numeric strings accepted), within a sane bound. */
function num(v: unknown): number | null {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' && v.length <= 40 ? Number(v) : NaN;
  return Number.isFinite(n) && Math.abs(n) < 1e15 ? n : null;
}

const positive = (v: unknown): number | null => {
  const n = num(v);
  return n !== null && n > 0 ? n : null;
};

function obj(v: unknown): Evidence | null {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Evidence) : null;
}

/** A calendar day the date arithmetic can take (Postgres dates reach far wider than a chart needs). */
const isChartDay = (v: unknown): v is string => isValidDay(v) && v >= '2000-01-01' && v <= '2999-12-31';

/**
 * The decision window: evidence.window (pause, budgets, bids, timing) or evidence.recent (creative,
 * audience), from..to inclusive, at most 28 days. null when missing or malformed.
 */
function windowOf(e: Evidence, maxDays: number): { from: string; to: string } | null {
  const w = obj(e.window) ?? obj(e.recent);
  if (!w || !isChartDay(w.from) || !isChartDay(w.to) || w.from > w.to) return null;
  return daysInclusive(w.from, w.to) <= maxDays ? { from: w.from, to: w.to } : null;
}

/** A factor as a buyer reads it: 2, 2.5, 1.75 (locale digits, no trailing zeros). */
function factor(x: number, locale: string): string {
  const decimals = [0, 1].find((d) => Math.abs(x * 10 ** d - Math.round(x * 10 ** d)) < 1e-9) ?? 2;
  return formatNumber(x, { locale }, decimals);
}

/** Where the pause rule's CPA limit came from (evidence.reference_source), in words. */
const REFERENCE_LABEL: Readonly<Record<string, string>> = {
  'platform_configs.max_cpa': 'max CPA',
  'budget_allocation.target_cpa': 'target CPA',
  tenant_cpa_90d: "the account's 90-day CPA",
};

const NO_WINDOW = 'No chart: the evidence names no decision window.';
const NO_LINE = 'No chart: the evidence does not hold the line it was tested against.';

function spanNote(e: Evidence, metric: string): { spanDays: number; note: string | null } {
  return num(e.span_days) === 28
    ? { spanDays: 28, note: `Tested over all 28 days (its ${metric} persistently past the line), and the last 7 past it too.` }
    : { spanDays: 7, note: null };
}

function pauseSpec(e: Evidence, locale: string): ChartSpec {
  if (e.reference_source === 'none' || e.test === 'none') {
    return none('No chart: no conversion in 28 days and no CPA target to draw a line from. The figures below are all the evidence.');
  }
  const window = windowOf(e, ROLLING_DAYS);
  if (!window) return none(NO_WINDOW);
  const line = positive(e.pause_line);
  if (line === null) return none(NO_LINE);
  const ref = positive(e.cpa_reference);
  const refLabel = typeof e.reference_source === 'string' ? (REFERENCE_LABEL[e.reference_source] ?? 'CPA limit') : 'CPA limit';
  const f = positive(e.auto_pause_threshold);
  const tracking = e.possible_cause === 'tracking';
  const streak = num(e.days_without_conversion);
  const span = spanNote(e, 'CPA');
  return {
    kind: 'daily',
    metric: 'cpa',
    tested: num(e.cpa_7d),
    testedLabel: '7-day CPA',
    baseline: ref !== null ? { value: ref, label: refLabel } : null,
    threshold: { value: line, label: f !== null ? `pause line: ${factor(f, locale)} × ${refLabel}` : 'pause line' },
    direction: 'above',
    favourable: false,
    window,
    spanDays: tracking ? ROLLING_DAYS : span.spanDays,
    note: tracking
      ? `No conversion in its last ${streak ?? 'few'} active days where its own rate promised some: check its conversion tracking before pausing.`
      : span.note,
  };
}

function budgetSpec(type: 'budget_increase' | 'budget_decrease', e: Evidence): ChartSpec {
  const window = windowOf(e, ROLLING_DAYS);
  if (!window) return none(NO_WINDOW);
  const line = positive(e.line);
  if (line === null) return none(NO_LINE);
  const up = type === 'budget_increase';
  // value_* tests are on ROAS; nb_* on conversions against a CPA target (no ROAS target set)
  const onRoas = typeof e.test === 'string' ? e.test.startsWith('value_') : positive(e.target_roas) !== null;
  if (onRoas) {
    const target = positive(e.target_roas);
    const fromBudget = e.target_roas_source === 'budget_allocation.target_roas';
    const span = spanNote(e, 'ROAS');
    return {
      kind: 'daily',
      metric: 'roas',
      tested: num(e.roas_7d),
      testedLabel: '7-day ROAS',
      baseline: target !== null ? { value: target, label: fromBudget ? "the budget's target ROAS" : 'target ROAS' } : null,
      threshold: { value: line, label: up ? 'increase line: 1.2 × target ROAS' : 'decrease line: 0.8 × target ROAS' },
      direction: up ? 'above' : 'below',
      favourable: up,
      window,
      ...span,
    };
  }
  const target = positive(e.target_cpa);
  return {
    kind: 'daily',
    metric: 'cpa',
    tested: num(e.cpa_7d),
    testedLabel: '7-day CPA',
    baseline: target !== null ? { value: target, label: 'target CPA' } : null,
    threshold: { value: line, label: up ? 'increase line: target CPA ÷ 1.2' : 'decrease line: target CPA ÷ 0.8' },
    direction: up ? 'below' : 'above',
    favourable: up,
    window,
    spanDays: ROLLING_DAYS,
    note: null,
  };
}

function bidSpec(e: Evidence): ChartSpec {
  const window = windowOf(e, ROLLING_DAYS);
  if (!window) return none(NO_WINDOW);
  if (e.rule === 'cpa_above_max_7d') {
    const max = positive(e.max_cpa);
    if (max === null) return none(NO_LINE);
    return {
      kind: 'daily',
      metric: 'cpa',
      tested: num(e.cpa_7d),
      testedLabel: '7-day CPA',
      baseline: null,
      threshold: { value: max, label: 'max CPA' },
      direction: 'above',
      favourable: false,
      window,
      spanDays: ROLLING_DAYS,
      note: 'The rule asks for a CPA above the max CPA on each of the 7 days: the dots in the shaded window.',
    };
  }
  const line = positive(e.line);
  const history = positive(e.cpc_history);
  if (line === null) return none(NO_LINE);
  return {
    kind: 'daily',
    metric: 'cpc',
    tested: num(e.cpc_7d),
    testedLabel: '7-day CPC',
    baseline: history !== null ? { value: history, label: 'CPC, 21 days before' } : null,
    threshold: { value: line, label: 'line: 1.3 × CPC before' },
    direction: 'above',
    favourable: false,
    window,
    spanDays: ROLLING_DAYS,
    note: null,
  };
}

function creativeSpec(e: Evidence): ChartSpec {
  const window = windowOf(e, ROLLING_DAYS);
  if (!window) return none(NO_WINDOW);
  const line = positive(e.line);
  if (line === null) return none(NO_LINE);
  const history = positive(e.ctr_history);
  return {
    kind: 'daily',
    metric: 'ctr',
    tested: num(e.ctr_7d),
    testedLabel: '7-day CTR',
    baseline: history !== null ? { value: history, label: 'CTR, 21 days before' } : null,
    threshold: { value: line, label: 'line: 0.75 × CTR before' },
    direction: 'below',
    favourable: false,
    window,
    spanDays: ROLLING_DAYS,
    note: null,
  };
}

/** CPM of a {spend, impressions} part of the evidence. */
function cpmOf(part: unknown): number | null {
  const p = obj(part);
  const s = p ? num(p.spend) : null;
  const i = p ? positive(p.impressions) : null;
  return s !== null && i !== null ? (1000 * s) / i : null;
}

function audienceSpec(e: Evidence, locale: string): ChartSpec {
  const window = windowOf(e, ROLLING_DAYS);
  if (!window) return none(NO_WINDOW);
  const line = positive(e.line);
  if (line === null) return none(NO_LINE);
  // The evidence keeps the sums, not the CPMs: the line is 1.3 x its CPM before x the rest of the platform's move.
  const before = cpmOf(e.history);
  const move = before !== null && before > 0 ? line / (1.3 * before) : null;
  return {
    kind: 'daily',
    metric: 'cpm',
    tested: cpmOf(e.recent),
    testedLabel: '7-day CPM',
    baseline: before !== null ? { value: before, label: 'CPM, 21 days before' } : null,
    threshold: {
      value: line,
      label: move !== null ? `line: 1.3 × CPM before × ${factor(Math.round(move * 100) / 100, locale)} (the platform's move)` : 'line: 1.3 × CPM before',
    },
    direction: 'above',
    favourable: false,
    window,
    spanDays: ROLLING_DAYS,
    note: null,
  };
}

/** The timing rule's share: a weekday converting at <= 0.6 x the average per spend is weak. */
const WEAK_EFFICIENCY = 0.6;

function timingSpec(e: Evidence): ChartSpec {
  const window = windowOf(e, CHART_DAYS);
  if (!window) return none(NO_WINDOW);
  const cpa28 = positive(e.cpa_28d);
  const list = Array.isArray(e.by_weekday) ? e.by_weekday : [];
  if (cpa28 === null || list.length !== 7) return none('No chart: the evidence does not hold the weekday figures it was tested on.');
  const weak = new Set(Array.isArray(e.weak_weekdays) ? e.weak_weekdays.slice(0, 7).map(num) : []);
  const bars: WeekdayBar[] = [];
  for (const item of list) {
    const w = obj(item);
    const dow = w ? num(w.isodow) : null;
    const spend = w ? num(w.spend) : null;
    const k = w ? num(w.conversions) : null;
    if (dow === null || !Number.isInteger(dow) || dow < 1 || dow > 7 || spend === null || spend < 0 || k === null || k < 0) {
      return none('No chart: the weekday figures of the evidence are malformed.');
    }
    bars.push({ isodow: dow, spend, conversions: k, cpa: k > 0 ? spend / k : null, weak: weak.has(dow) });
  }
  if (new Set(bars.map((b) => b.isodow)).size !== 7) return none('No chart: the weekday figures of the evidence are malformed.');
  bars.sort((a, b) => a.isodow - b.isodow);
  // efficiency = conversions / (K x spend / S) = cpa_28d / the weekday's CPA, so "<= 0.6 x" is a CPA at or above cpa_28d / 0.6
  return {
    kind: 'weekday',
    metric: 'cpa',
    bars,
    baseline: { value: cpa28, label: '28-day CPA' },
    threshold: { value: cpa28 / WEAK_EFFICIENCY, label: 'weak line: 28-day CPA ÷ 0.6' },
    direction: 'above',
    favourable: false,
    window,
  };
}

/**
 * The chart of one recommendation from its type and evidence: which metric was tested, its value,
 * the baseline and the line with its label, the side that fires, the window. A NoChart with its
 * reason where the evidence has nothing honest to draw. `locale` writes the factors of the labels.
 */
export function chartSpec(type: string, evidence: unknown, locale = 'en-GB'): ChartSpec {
  const e = obj(evidence);
  if (!e) return none('No chart: this recommendation has no evidence.');
  switch (type) {
    case 'pause':
      return pauseSpec(e, locale);
    case 'budget_increase':
    case 'budget_decrease':
      return budgetSpec(type, e);
    case 'bid_adjustment':
      return bidSpec(e);
    case 'creative':
      return creativeSpec(e);
    case 'audience':
      return audienceSpec(e, locale);
    case 'timing':
      return timingSpec(e);
    default:
      return none('No chart for this type of recommendation.');
  }
}

// ---------------------------------------------------------------------------
// The daily figures
// ---------------------------------------------------------------------------

/** One day's sums of an entity (a campaign loaded only as ad sets: theirs). */
export interface DaySums {
  spend: number;
  impressions: number;
  clicks: number;
  conversions: number;
  value: number;
}

const ZERO: DaySums = { spend: 0, impressions: 0, clicks: 0, conversions: 0, value: 0 };

/** numerator / divisor of each metric, and its scale (CPM per thousand). */
function parts(metric: ChartMetric, t: DaySums): [number, number] {
  switch (metric) {
    case 'cpa':
      return [t.spend, t.conversions];
    case 'roas':
      return [t.value, t.spend];
    case 'cpc':
      return [t.spend, t.clicks];
    case 'ctr':
      return [t.clicks, t.impressions];
    case 'cpm':
      return [1000 * t.spend, t.impressions];
  }
}

/** The ratio of some sums: null when the divisor is 0 (never NaN or Infinity); unbounded when only the divisor is. */
function ratio(metric: ChartMetric, t: DaySums): { value: number | null; unbounded: boolean } {
  const [n, d] = parts(metric, t);
  const v = d > 0 ? n / d : NaN;
  return Number.isFinite(v) ? { value: v, unbounded: false } : { value: null, unbounded: !(d > 0) && n > 0 };
}

const add = (a: DaySums, b: DaySums): DaySums => ({
  spend: a.spend + b.spend,
  impressions: a.impressions + b.impressions,
  clicks: a.clicks + b.clicks,
  conversions: a.conversions + b.conversions,
  value: a.value + b.value,
});

/**
 * CHART_DAYS points ending on lastDay from the sums per day ('YYYY-MM-DD'; a missing day had no
 * delivery): each day's ratio, and the ratio of the sums of the ROLLING_DAYS ending that day (the
 * first ones reach into the 6 days before the chart, which byDay should hold). Pure.
 */
export function dailyPoints(metric: ChartMetric, byDay: ReadonlyMap<string, DaySums>, lastDay: string): DailyPoint[] {
  const first = addDays(lastDay, -(CHART_DAYS - 1));
  const out: DailyPoint[] = [];
  for (let i = 0; i < CHART_DAYS; i++) {
    const day = addDays(first, i);
    const t = byDay.get(day) ?? ZERO;
    let week = ZERO;
    for (let j = 0; j < ROLLING_DAYS; j++) week = add(week, byDay.get(addDays(day, -j)) ?? ZERO);
    const d = ratio(metric, t);
    const w = ratio(metric, week);
    out.push({ day, value: d.value, rolling: w.value, delivered: t.spend > 0 || t.impressions > 0, unbounded: d.unbounded, rollingUnbounded: w.unbounded });
  }
  return out;
}

/** A row of the queue as far as its chart goes. */
const rowSchema = z.object({
  id: z.string().min(1).max(100),
  type: z.string().max(64),
  platform: z.string().max(32).nullable(),
  level: z.string().max(32),
  entityId: z.string().max(200).nullable(),
  evidence: z.unknown(),
});
export type ChartRow = z.input<typeof rowSchema>;
const rowsSchema = z.array(rowSchema).max(MAX_ROWS, { error: `evidenceSeries: at most ${MAX_ROWS} recommendations at once` });

interface Target {
  platform: string;
  level: string;
  entityId: string;
  lastDay: string;
}
const keyOf = (t: Target) => JSON.stringify([t.platform, t.level, t.entityId, t.lastDay]);

/** Days read before a chart's last day: its CHART_DAYS and the ROLLING_DAYS - 1 its first rolling value reaches back. */
const READ_BACK = CHART_DAYS + ROLLING_DAYS - 2;

/**
 * The chart of each recommendation of a page (at most MAX_ROWS), keyed by its id: the spec from its
 * evidence and, for a daily spec, its target's figures over the CHART_DAYS to the end of its
 * decision window, read in one query of ads.metrics_daily. Runs in the tenant's transaction;
 * the tenant is named too. A row naming no valid entity gets a NoChart, not an error.
 */
export async function evidenceSeries(
  trx: Tx,
  tenantId: string,
  rows: readonly ChartRow[],
  opts: { locale?: string } = {},
): Promise<Map<string, EvidenceChartData>> {
  const list = rowsSchema.parse(rows);
  const out = new Map<string, EvidenceChartData>();
  const wanted = new Map<string, Target>();
  const pending: { id: string; spec: DailySpec; key: string }[] = [];
  for (const r of list) {
    const spec = chartSpec(r.type, r.evidence, opts.locale);
    if (spec.kind !== 'daily') {
      out.set(r.id, { spec, points: [] });
      continue;
    }
    const level = r.level;
    if (!isPlatform(r.platform) || !(LEVELS as readonly string[]).includes(level) || !r.entityId) {
      out.set(r.id, { spec: none('No chart: it names no campaign or ad set to read the figures of.'), points: [] });
      continue;
    }
    const target = { platform: r.platform, level, entityId: r.entityId, lastDay: spec.window.to };
    const key = keyOf(target);
    wanted.set(key, target);
    pending.push({ id: r.id, spec, key });
  }
  if (wanted.size === 0) return out;

  const targets = [...wanted.values()];
  // One statement for the page. A campaign with no row of its own in the days read is the sum of its
  // ad sets, as the engine judges it (recommendation_candidates: "a campaign loaded only as ad sets").
  const result = await sql<{ platform: string; level: string; entity_id: string; last_day: string; day: string } & DaySums>`
    with t as (
      select distinct t.platform, t.level, t.entity_id, t.last_day
      from unnest(${targets.map((t) => t.platform)}::text[], ${targets.map((t) => t.level)}::text[],
                  ${targets.map((t) => t.entityId)}::text[], ${targets.map((t) => t.lastDay)}::date[]) as t(platform, level, entity_id, last_day)
    ),
    own as (
      select t.platform, t.level, t.entity_id, t.last_day, m.day,
             m.spend::float8 as spend, m.impressions::float8 as impressions, m.clicks::float8 as clicks,
             m.conversions::float8 as conversions, m.conversion_value::float8 as value
      from t
      join ads.metrics_daily m
        on m.tenant_id = ${tenantId} and m.platform = t.platform and m.level = t.level and m.platform_id = t.entity_id
       and m.day between t.last_day - ${READ_BACK}::int and t.last_day
    ),
    adsets as (
      select t.platform, t.level, t.entity_id, t.last_day, m.day,
             sum(m.spend)::float8 as spend, sum(m.impressions)::float8 as impressions, sum(m.clicks)::float8 as clicks,
             sum(m.conversions)::float8 as conversions, sum(m.conversion_value)::float8 as value
      from t
      join ads.metrics_daily m
        on m.tenant_id = ${tenantId} and m.platform = t.platform and m.level = 'adset' and m.campaign_id = t.entity_id
       and m.day between t.last_day - ${READ_BACK}::int and t.last_day
      where t.level = 'campaign'
        and not exists (select 1 from own o where o.platform = t.platform and o.level = t.level
                                              and o.entity_id = t.entity_id and o.last_day = t.last_day)
      group by t.platform, t.level, t.entity_id, t.last_day, m.day
    )
    select x.platform, x.level, x.entity_id, to_char(x.last_day, 'YYYY-MM-DD') as last_day, to_char(x.day, 'YYYY-MM-DD') as day,
           x.spend, x.impressions, x.clicks, x.conversions, x.value
    from (select * from own union all select * from adsets) x`.execute(trx);

  const byTarget = new Map<string, Map<string, DaySums>>();
  for (const r of result.rows) {
    const key = keyOf({ platform: r.platform, level: r.level, entityId: r.entity_id, lastDay: r.last_day });
    let days = byTarget.get(key);
    if (!days) byTarget.set(key, (days = new Map()));
    days.set(r.day, { spend: r.spend, impressions: r.impressions, clicks: r.clicks, conversions: r.conversions, value: r.value });
  }
  for (const p of pending) out.set(p.id, { spec: p.spec, points: dailyPoints(p.spec.metric, byTarget.get(p.key) ?? new Map(), p.spec.window.to) });
  return out;
}
