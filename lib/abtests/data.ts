// The A/B tests of a tenant as the page and the daily loop read them: the test with its design, the
// platform ids of its variants and the loop's last reading (loadAbTests), each arm's daily totals from
// ads.metrics_daily (loadArmDaily), and the reading of a test now (readTestNow / readTest). The loop
// (lib/abtests/evaluate.ts) writes what readTest computes, so the page and the database agree.
// Not server-only: the scripts import it through the loop. Every function takes the tenant transaction.
import { sql } from 'kysely';
import { isUuid, type Tx } from '../db/pool';
import {
  DB_TO_METRIC,
  DEFAULT_DESIGN,
  addTotals,
  lookOf,
  lookSeries,
  parsePerformance,
  readLooks,
  zeroTotals,
  type AbTestStatus,
  type AbTestType,
  type DbMetric,
  type Look,
  type Reading,
} from './model';
import {
  METRICS,
  analyzeAbTest,
  checkSplit,
  normalCdf,
  normalQuantile,
  type AbOptions,
  type AbTestAnalysis,
  type DailyTotals,
  type DecisionStatus,
  type VariantTotals,
} from './stats';

export type Arm = 'A' | 'B';
export type VariantLevel = 'campaign' | 'adset' | 'ad';
export type AllocationUnit = 'spend' | 'impressions';

export interface AbTestDesign {
  plannedShareB: number;
  mde: number;
  allocationUnit: AllocationUnit;
  /** When the design was fixed (the test started, or the loop first read it); null while it may change. */
  frozenAt: Date | null;
  /** False when the test has no design row and is read with DEFAULT_DESIGN. */
  stored: boolean;
}

export interface AbTestVariant {
  arm: Arm;
  level: VariantLevel;
  platformId: string;
  /** The entity's name on its latest metrics row that has one. */
  name: string | null;
}

export interface AbTestState {
  /** Last day of data the loop read (yyyy-mm-dd). */
  asOf: string;
  decision: DecisionStatus;
  message: string;
  minPSeq: number | null;
  winnerDay: string | null;
  evaluatedAt: Date;
}

export interface AbTestRecord {
  id: string;
  name: string;
  platform: string | null;
  campaignId: string | null;
  type: AbTestType;
  hypothesis: string | null;
  metric: DbMetric;
  variantA: string;
  variantB: string;
  status: AbTestStatus;
  startDate: string | null;
  endDate: string | null;
  winner: 'A' | 'B' | 'none' | null;
  significance: number | null;
  performanceA: unknown;
  performanceB: unknown;
  createdAt: Date;
  updatedAt: Date;
  design: AbTestDesign;
  variants: AbTestVariant[];
  state: AbTestState | null;
}

export interface AbTestFilter {
  ids?: string[];
  statuses?: AbTestStatus[];
  /**
   * What the daily loop reads: running tests and completed ones whose winner is not written yet
   * (combined with the other filters by AND).
   */
  unsettled?: boolean;
}

// pg's parsers (lib/db/pool) give numbers and 'yyyy-mm-dd' strings; these keep the record's types
// whatever connection read the row.
const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));
const dayOf = (v: unknown): string => (v instanceof Date ? v.toISOString().slice(0, 10) : String(v).slice(0, 10));
const dayOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : dayOf(v));

const WINNERS = new Set(['A', 'B', 'none']);

/**
 * The tenant's tests matching the filter, newest first, with design, variants and state: two
 * queries whatever their number (the tests with their design and state, then every variant).
 */
export async function loadAbTests(trx: Tx, tenantId: string, filter: AbTestFilter = {}): Promise<AbTestRecord[]> {
  const ids = filter.ids?.filter(isUuid);
  if (filter.ids && ids!.length === 0) return [];
  if (filter.statuses && filter.statuses.length === 0) return [];
  let q = trx
    .selectFrom('ads.ab_tests as t')
    .leftJoin('ads_engine.ab_test_designs as d', (j) => j.onRef('d.tenant_id', '=', 't.tenant_id').onRef('d.test_id', '=', 't.id'))
    .leftJoin('ads_engine.ab_test_state as s', (j) => j.onRef('s.tenant_id', '=', 't.tenant_id').onRef('s.test_id', '=', 't.id'))
    .where('t.tenant_id', '=', tenantId)
    .select([
      't.id',
      't.test_name',
      't.platform',
      't.campaign_id',
      't.test_type',
      't.hypothesis',
      't.primary_metric',
      't.variant_a',
      't.variant_b',
      't.status',
      't.start_date',
      't.end_date',
      't.winner',
      't.statistical_significance',
      't.performance_a',
      't.performance_b',
      't.created_at',
      't.updated_at',
      'd.test_id as design_test_id',
      'd.planned_share_b',
      'd.mde',
      'd.allocation_unit',
      'd.frozen_at',
      's.test_id as state_test_id',
      's.as_of',
      's.decision',
      's.message',
      's.min_p_seq',
      's.winner_day',
      's.evaluated_at',
    ])
    .orderBy('t.created_at', 'desc')
    .orderBy('t.id');
  if (ids) q = q.where('t.id', 'in', ids);
  if (filter.statuses) q = q.where('t.status', 'in', filter.statuses);
  if (filter.unsettled) {
    q = q.where((eb) => eb.or([eb('t.status', '=', 'running'), eb.and([eb('t.status', '=', 'completed'), eb('t.winner', 'is', null)])]));
  }
  const rows = await q.execute();
  if (rows.length === 0) return [];

  const variants = await trx
    .selectFrom('ads_engine.ab_test_variants as v')
    .innerJoin('ads.ab_tests as t', (j) => j.onRef('t.tenant_id', '=', 'v.tenant_id').onRef('t.id', '=', 'v.test_id'))
    .where('v.tenant_id', '=', tenantId)
    .where(
      'v.test_id',
      'in',
      rows.map((r) => r.id),
    )
    .select(['v.test_id', 'v.arm', 'v.level', 'v.platform_id'])
    .select((eb) =>
      eb
        .selectFrom('ads.metrics_daily as m')
        .select('m.entity_name')
        .whereRef('m.tenant_id', '=', 'v.tenant_id')
        .whereRef('m.platform', '=', 't.platform')
        .whereRef('m.level', '=', 'v.level')
        .whereRef('m.platform_id', '=', 'v.platform_id')
        .where('m.entity_name', 'is not', null)
        .orderBy('m.day', 'desc')
        .limit(1)
        .as('name'),
    )
    .orderBy('v.test_id')
    .orderBy('v.arm')
    .orderBy('v.level')
    .orderBy('v.platform_id')
    .execute();
  const byTest = new Map<string, AbTestVariant[]>();
  for (const v of variants) {
    const list = byTest.get(v.test_id) ?? [];
    list.push({ arm: v.arm as Arm, level: v.level as VariantLevel, platformId: v.platform_id, name: v.name ?? null });
    byTest.set(v.test_id, list);
  }

  return rows.map((r) => ({
    id: r.id,
    name: r.test_name,
    platform: r.platform,
    campaignId: r.campaign_id,
    type: r.test_type as AbTestType,
    hypothesis: r.hypothesis,
    metric: r.primary_metric as DbMetric,
    variantA: r.variant_a,
    variantB: r.variant_b,
    status: r.status as AbTestStatus,
    startDate: dayOrNull(r.start_date),
    endDate: dayOrNull(r.end_date),
    winner: r.winner !== null && WINNERS.has(r.winner) ? (r.winner as 'A' | 'B' | 'none') : null,
    significance: numOrNull(r.statistical_significance),
    performanceA: r.performance_a,
    performanceB: r.performance_b,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    design:
      r.design_test_id === null
        ? { ...DEFAULT_DESIGN, frozenAt: null, stored: false }
        : {
            plannedShareB: num(r.planned_share_b),
            mde: num(r.mde),
            allocationUnit: r.allocation_unit === 'impressions' ? 'impressions' : 'spend',
            frozenAt: r.frozen_at,
            stored: true,
          },
    variants: byTest.get(r.id) ?? [],
    state:
      r.state_test_id === null
        ? null
        : {
            asOf: dayOf(r.as_of),
            decision: r.decision as DecisionStatus,
            message: r.message ?? '',
            minPSeq: numOrNull(r.min_p_seq),
            winnerDay: dayOrNull(r.winner_day),
            evaluatedAt: r.evaluated_at!,
          },
  }));
}

// ---------------------------------------------------------------------------------------------
// Each arm's daily data

export interface ArmDaily {
  a: DailyTotals[];
  b: DailyTotals[];
}

/**
 * A test closed for good: completed with its winner written (A, B or 'none'), or cancelled. It is
 * shown as it stood when it was closed: read to that day, with no winner found after it.
 */
export function isSettled(test: Pick<AbTestRecord, 'status' | 'winner'>): boolean {
  return test.status === 'cancelled' || (test.status === 'completed' && test.winner !== null);
}

/**
 * The last day a reading on `asOf` covers: asOf, or the end date when the test ended before it, or,
 * for a settled test, the last day it was read before it was closed (its state's as_of, written by the
 * daily loop or by the move that closed it).
 */
export function readingDay(test: Pick<AbTestRecord, 'endDate' | 'status' | 'winner' | 'state'>, asOf: string): string {
  let day = test.endDate !== null && test.endDate < asOf ? test.endDate : asOf;
  if (isSettled(test) && test.state && test.state.asOf < day) day = test.state.asOf;
  return day;
}

/** Whether the test's first day is after `day`: nothing is read before it starts. */
export function notStartedBy(test: Pick<AbTestRecord, 'startDate'>, day: string): boolean {
  return test.startDate !== null && test.startDate > day;
}

/**
 * Per test, per arm, per day: the sum over the arm's platform ids of their ads.metrics_daily rows
 * (the test's platform, the id's level), from the test's start date to its reading day on `to`
 * (readingDay: `to`, or its end date, or the day a settled test was closed), sorted by day. One query for all the tests. A test without a start date or platform, and an arm without
 * ids, get no days.
 *
 * The query starts from the variants' ids, given as arrays, and reads each id's days through the
 * (tenant, platform_id, day) index (a lateral lookup per id). Joined the plain way, the planner chose
 * its order from the statistics of the tables, and with statistics a little stale (a tenant whose
 * rows had grown since the last analyze) it read all of the tenant's rows once per test: 15 s
 * instead of 30 ms for 50 tests of 180 days.
 */
export async function loadArmDailyMany(trx: Tx, tenantId: string, tests: readonly AbTestRecord[], to: string): Promise<Map<string, ArmDaily>> {
  const out = new Map<string, ArmDaily>(tests.map((t) => [t.id, { a: [], b: [] }]));
  const wanted = tests.filter((t) => t.startDate !== null && t.platform !== null && t.variants.length > 0 && t.startDate <= readingDay(t, to));
  if (wanted.length === 0) return out;
  const keys = wanted.flatMap((t) =>
    t.variants.map((v) => ({ test: t.id, arm: v.arm, level: v.level, id: v.platformId, platform: t.platform!, from: t.startDate!, to: readingDay(t, to) })),
  );
  const r = await sql<{ test_id: string; arm: string; day: unknown; impressions: unknown; clicks: unknown; conversions: unknown; spend: unknown; conversion_value: unknown }>`
    select x.test_id, x.arm, m.day,
           sum(m.impressions) as impressions, sum(m.clicks) as clicks, sum(m.conversions) as conversions,
           sum(m.spend) as spend, sum(m.conversion_value) as conversion_value
    from unnest(${keys.map((k) => k.test)}::uuid[], ${keys.map((k) => k.arm)}::text[], ${keys.map((k) => k.level)}::text[], ${keys.map((k) => k.id)}::text[],
                ${keys.map((k) => k.platform)}::text[], ${keys.map((k) => k.from)}::date[], ${keys.map((k) => k.to)}::date[])
         as x(test_id, arm, level, platform_id, platform, from_day, to_day)
    cross join lateral (
      select d.day, d.impressions, d.clicks, d.conversions, d.spend, d.conversion_value
      from ads.metrics_daily d
      where d.tenant_id = ${tenantId}::uuid and d.platform_id = x.platform_id and d.day between x.from_day and x.to_day
        and d.platform = x.platform::ads.platform and d.level = x.level::ads.entity_level
    ) m
    group by x.test_id, x.arm, m.day
    order by x.test_id, x.arm, m.day`.execute(trx);
  for (const row of r.rows) {
    const arms = out.get(row.test_id);
    if (!arms) continue;
    (row.arm === 'A' ? arms.a : arms.b).push({
      day: dayOf(row.day),
      impressions: num(row.impressions),
      clicks: num(row.clicks),
      conversions: num(row.conversions),
      spend: num(row.spend),
      conversionValue: num(row.conversion_value),
    });
  }
  return out;
}

/** One test's arms day by day (see loadArmDailyMany). */
export async function loadArmDaily(trx: Tx, tenantId: string, test: AbTestRecord, to: string): Promise<ArmDaily> {
  return (await loadArmDailyMany(trx, tenantId, [test], to)).get(test.id) ?? { a: [], b: [] };
}

// ---------------------------------------------------------------------------------------------
// How a test is read

export type ArmSource = 'platform_ids' | 'entered';
/** 'mixed': one arm has platform ids, the other entered totals. */
export type ReadSource = ArmSource | 'mixed';

/** Where each arm's figures come from: its platform ids' metrics, or the totals entered on the test. */
export function armSource(test: Pick<AbTestRecord, 'variants'>): { a: ArmSource; b: ArmSource } {
  const has = (arm: Arm) => test.variants.some((v) => v.arm === arm);
  return { a: has('A') ? 'platform_ids' : 'entered', b: has('B') ? 'platform_ids' : 'entered' };
}

/** The statistics options from the test's design (the defaults when it has no design row). */
export function analysisOptions(test: Pick<AbTestRecord, 'design'>): AbOptions {
  return { mde: test.design.mde, plannedShareB: test.design.plannedShareB, allocationUnit: test.design.allocationUnit };
}

export interface TestReading {
  totalsA: VariantTotals;
  totalsB: VariantTotals;
  /** The arm's days from its platform ids ([] for an arm with entered totals). */
  dailyA: DailyTotals[];
  dailyB: DailyTotals[];
  /** The analysis of all the data up to `day`. */
  analysis: AbTestAnalysis;
  /** The test day after day: recomputed from the days (platform ids), else the loop's looks and the reading of `day`. */
  looks: Look[];
  /** The latched winner, the running minimum of the always-valid p-value and the significance. */
  reading: Reading;
  source: ReadSource;
  /** The last day the reading covers: the asked day, or the end date when the test ended before it. */
  day: string;
  /** Why the entered totals cannot be read (names the field, e.g. performance_a.clicks); null when they can. */
  invalid: string | null;
}

const isArm = (w: AbTestRecord['winner']): w is Arm => w === 'A' || w === 'B';

/** A not-computable analysis of totals that cannot be read, with the parser's message. */
function unreadable(test: AbTestRecord, message: string): AbTestAnalysis {
  const options = analysisOptions(test);
  const zero = zeroTotals();
  return {
    metric: DB_TO_METRIC[test.metric],
    estimate: { computable: false, reason: 'invalid_input', message },
    fixed: null,
    bayes: null,
    sequential: null,
    split: checkSplit(zero, zero, options.plannedShareB, options.allocationUnit),
    minSampleReached: false,
    decision: { status: 'not_computable', message },
  };
}

/** The analysis of a test whose start date is still ahead: nothing read, the day it starts named. */
function notStarted(test: AbTestRecord): AbTestAnalysis {
  const zero = zeroTotals();
  const none = analyzeAbTest(DB_TO_METRIC[test.metric], { totals: zero, daily: [] }, { totals: zero, daily: [] }, analysisOptions(test));
  return { ...none, decision: { status: 'not_enough_data', message: `Not started yet: the test starts on ${test.startDate}, and its data are read from that day.` } };
}

const sum = (days: readonly DailyTotals[]): VariantTotals => days.reduce<VariantTotals>((s, d) => addTotals(s, d), zeroTotals());

interface Current {
  day: string;
  source: ReadSource;
  totalsA: VariantTotals;
  totalsB: VariantTotals;
  dailyA: DailyTotals[];
  dailyB: DailyTotals[];
  analysis: AbTestAnalysis;
  invalid: string | null;
  /** The test had not started by `day`. */
  pending: boolean;
}

/** The test's figures and analysis on its reading day (what the list shows; readTest adds the looks). */
function current(test: AbTestRecord, arms: ArmDaily, asOf: string): Current {
  const metric = DB_TO_METRIC[test.metric];
  const options = analysisOptions(test);
  const src = armSource(test);
  const day = readingDay(test, asOf);
  const source: ReadSource = src.a === 'platform_ids' && src.b === 'platform_ids' ? 'platform_ids' : src.a === 'entered' && src.b === 'entered' ? 'entered' : 'mixed';
  // A settled test's days stop on the day it was settled (a caller may pass days beyond it).
  const upTo = (days: readonly DailyTotals[]) => (days.length > 0 && days[days.length - 1]!.day > day ? days.filter((d) => d.day <= day) : [...days]);
  const dailyA = src.a === 'platform_ids' ? upTo(arms.a) : [];
  const dailyB = src.b === 'platform_ids' ? upTo(arms.b) : [];
  if (notStartedBy(test, day)) {
    const zero = zeroTotals();
    return { day, source, totalsA: zero, totalsB: zeroTotals(), dailyA: [], dailyB: [], analysis: notStarted(test), invalid: null, pending: true };
  }
  if (source === 'platform_ids') {
    const totalsA = sum(dailyA);
    const totalsB = sum(dailyB);
    const analysis = analyzeAbTest(metric, { totals: totalsA, daily: dailyA }, { totals: totalsB, daily: dailyB }, options);
    return { day, source, totalsA, totalsB, dailyA, dailyB, analysis, invalid: null, pending: false };
  }
  const pa = src.a === 'entered' ? parsePerformance(test.performanceA, 'performance_a') : { ok: true as const, totals: sum(dailyA), empty: dailyA.length === 0 };
  const pb = src.b === 'entered' ? parsePerformance(test.performanceB, 'performance_b') : { ok: true as const, totals: sum(dailyB), empty: dailyB.length === 0 };
  if (!pa.ok || !pb.ok) {
    const message = !pa.ok ? pa.message : !pb.ok ? pb.message : '';
    const totalsA = pa.ok ? pa.totals : zeroTotals();
    const totalsB = pb.ok ? pb.totals : zeroTotals();
    return { day, source, totalsA, totalsB, dailyA, dailyB, analysis: unreadable(test, message), invalid: message, pending: false };
  }
  const analysis = analyzeAbTest(metric, { totals: pa.totals }, { totals: pb.totals }, options);
  return { day, source, totalsA: pa.totals, totalsB: pb.totals, dailyA, dailyB, analysis, invalid: null, pending: false };
}

/** The analysis of a test on `asOf`, as readTest computes it, without the looks (the list's leader column). */
export function readTestAnalysis(test: AbTestRecord, arms: ArmDaily, asOf: string): AbTestAnalysis {
  return current(test, arms, asOf).analysis;
}

/**
 * The reading of a test on `asOf` from its data, pure: the page shows it and the loop writes it.
 *
 * - Both arms on platform ids: totals and days from the metrics, the looks recomputed day by day
 *   (lookSeries) and folded from the start; a winner already written on the test is never unlatched,
 *   and keeps the significance it was latched with (the running minimum of the p-value carries the
 *   loop's earlier readings, so data restated downwards later do not leave a winner without one).
 * - An arm with entered totals: the test is read from totals only, with no days (a mixed test cannot
 *   pair days across an arm it has no days for): the id arm's totals are its metrics summed, the
 *   entered arm's are parsed (invalid ones give a not-computable analysis naming the field). The
 *   reading of `day` is one more look on top of the loop's history (`history`, ads_engine.ab_test_looks),
 *   folded with what the loop had latched (ads_engine.ab_test_state and the test's winner).
 * - A settled test (completed with its winner written, or cancelled) is read to the day it was settled
 *   and finds no new winner: a test completed without one stays without one.
 * - A test whose start date is after the reading day has no data and no look yet.
 */
export function readTest(test: AbTestRecord, arms: ArmDaily, history: readonly Look[], asOf: string): TestReading {
  const metric = DB_TO_METRIC[test.metric];
  const options = analysisOptions(test);
  const now = current(test, arms, asOf);
  const { day, source, totalsA, totalsB, dailyA, dailyB, analysis, invalid } = now;
  const latched = isArm(test.winner) ? test.winner : null;
  const settled = isSettled(test);
  const prior: Partial<Reading> = {
    winner: latched,
    winnerDay: latched ? (test.state?.winnerDay ?? null) : null,
    minPSeq: source === 'platform_ids' && !latched ? null : (test.state?.minPSeq ?? null),
  };
  const close = (r: Reading): Reading => (settled ? { ...r, winner: latched, winnerDay: latched ? r.winnerDay : null } : r);
  const base = { totalsA, totalsB, dailyA, dailyB, analysis, source, day, invalid };

  if (now.pending) return { ...base, looks: [], reading: close(readLooks([], prior)) };
  if (source === 'platform_ids') {
    const looks = lookSeries(metric, dailyA, dailyB, options, { to: day });
    return { ...base, looks, reading: close(readLooks(looks, prior)) };
  }
  const past = history.filter((l) => l.day < day);
  if (invalid !== null) return { ...base, looks: past, reading: close(readLooks([], prior)) };
  const look = lookOf(day, analysis);
  return { ...base, looks: [...past, look], reading: close(readLooks([look], prior)) };
}

/**
 * The loop's stored looks of tests read from entered totals, oldest first. The chance that B is
 * better is not stored: it is Phi(sign * ln(1 + lift) / se), with se from the stored 95 % interval
 * (the analysis uses alpha = 0.05).
 */
export async function loadLooks(trx: Tx, tenantId: string, tests: readonly Pick<AbTestRecord, 'id' | 'metric'>[]): Promise<Map<string, Look[]>> {
  const out = new Map<string, Look[]>(tests.map((t) => [t.id, []]));
  if (tests.length === 0) return out;
  const sign = new Map(tests.map((t) => [t.id, METRICS[DB_TO_METRIC[t.metric]].sign]));
  const rows = await trx
    .selectFrom('ads_engine.ab_test_looks')
    .select(['test_id', 'look_day', 'lift', 'lower', 'upper', 'seq_lower', 'seq_upper', 'p_value', 'p_seq', 'decision'])
    .where('tenant_id', '=', tenantId)
    .where(
      'test_id',
      'in',
      tests.map((t) => t.id),
    )
    .orderBy('test_id')
    .orderBy('look_day')
    .execute();
  const z = normalQuantile(0.975);
  for (const r of rows) {
    const lift = numOrNull(r.lift);
    const lower = numOrNull(r.lower);
    const upper = numOrNull(r.upper);
    const decision = r.decision as DecisionStatus;
    let probBBetter: number | null = null;
    if (lift !== null && lower !== null && upper !== null && lower > -1 && upper > lower) {
      const se = (Math.log1p(upper) - Math.log1p(lower)) / (2 * z);
      probBBetter = normalCdf(((sign.get(r.test_id) ?? 1) * Math.log1p(lift)) / se);
    }
    out.get(r.test_id)?.push({
      day: dayOf(r.look_day),
      lift,
      lower,
      upper,
      seqLower: numOrNull(r.seq_lower),
      seqUpper: numOrNull(r.seq_upper),
      pValue: numOrNull(r.p_value),
      pSeq: numOrNull(r.p_seq),
      probBBetter,
      decision,
      // eligible = computable, healthy split, minimum sample: exactly the decisions past those gates
      eligible: decision === 'winner_a' || decision === 'winner_b' || decision === 'no_winner_yet',
    });
  }
  return out;
}

/** What the page shows of a test on `asOf` (see readTest): its data loaded in the tenant transaction, then read. */
export async function readTestNow(trx: Tx, tenantId: string, test: AbTestRecord, asOf: string): Promise<TestReading> {
  const src = armSource(test);
  const arms = src.a === 'platform_ids' || src.b === 'platform_ids' ? await loadArmDaily(trx, tenantId, test, asOf) : { a: [], b: [] };
  const history = src.a === 'entered' || src.b === 'entered' ? ((await loadLooks(trx, tenantId, [test])).get(test.id) ?? []) : [];
  return readTest(test, arms, history, asOf);
}
