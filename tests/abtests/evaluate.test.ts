// The daily loop reads every A/B test (lib/abtests/evaluate.ts through lib/engine/loop.ts), on the real
// database as the app role: two ad sets as arms with over-dispersed daily metrics from a fixed seed
// (weekday rhythm, shared traffic and conversion-rate shocks, gamma-Poisson conversions, basket
// spread), a +40 % challenger found and an A/A test left without a winner, the arms' totals checked
// against independent sums of ads.metrics_daily and the significance against the looks recomputed
// from independently queried days; tests completed by end date or by hand, a latched winner kept
// through a reversal and a restatement, entered totals the guide's way (valid, invalid, mixed with
// platform ids), the minimum sample, what is never touched, another tenant, and a second run the same
// day. These tests commit (the loop opens its own transactions), each on tenants of its own.
import { randomUUID } from 'node:crypto';
import type { KyselyPlugin } from 'kysely';
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadAbTests, readTest, readTestNow } from '@/lib/abtests/data';
import { evaluateAbTests } from '@/lib/abtests/evaluate';
import { lookSeries, readLooks, toPerformanceJson } from '@/lib/abtests/model';
import type { AbOptions, DailyTotals } from '@/lib/abtests/stats';
import { runDailyLoop, type LoopSummary } from '@/lib/engine/loop';
import { Rng } from '@/db/seed/random';
import { appKysely, rolledBackAsApp } from '../helpers/app-db';
import { appPool, createTenant, inTenant, ownerPool } from '../helpers/db';
import { addDays, insertMetrics, isoDow, type MetricRow } from '../engine/fixtures';

const kdb = appKysely(2);
const owner = ownerPool();
const app = appPool();

// ---------------------------------------------------------------------------------------------
// Simulated delivery

const WEEK = [1.0, 1.04, 1.06, 1.02, 0.96, 0.82, 0.88]; // Monday .. Sunday
const round2 = (x: number) => Math.round(x * 100) / 100;

interface ArmPlan {
  id: string;
  cvr: number;
}

/**
 * Ad-set rows for each arm and day. Shared by the arms each day: the weekday, the cost per click
 * (lognormal sd 0.15) and a conversion-rate shock (sd 0.10). Each arm's own: its paced spend (sd 3 %),
 * Poisson clicks, conversions Poisson on a gamma(50) rate (over-dispersed), impressions at a jittered
 * CTR, and the value a gamma sum of baskets (mean 60, CV 0.71).
 */
function simulate(seed: number, from: string, to: string, arms: ArmPlan[], spendPerDay = 400): MetricRow[] {
  const r = new Rng(seed);
  const rows: MetricRow[] = [];
  for (let day = from; day <= to; day = addDays(day, 1)) {
    const week = WEEK[isoDow(day) - 1]!;
    const cpc = 0.4 * Math.exp(0.15 * r.normal());
    const market = Math.exp(0.1 * r.normal());
    for (const arm of arms) {
      const spend = round2(spendPerDay * week * Math.exp(0.03 * r.normal()));
      const clicks = r.poisson(spend / cpc);
      const conversions = r.poisson(clicks * arm.cvr * market * r.gamma(50) / 50);
      const impressions = Math.round(clicks / (0.012 * Math.exp(0.08 * r.normal())));
      const value = conversions > 0 ? round2(r.gamma(2 * conversions) * 30) : 0;
      rows.push({ platform: 'meta', level: 'adset', id: arm.id, day, spend, impressions, clicks, conversions, value, name: `Ad set ${arm.id}` });
    }
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Tests written the app's way and the guide's way

interface IdTest {
  id?: string;
  name: string;
  a: string[];
  b: string[];
  start: string;
  end?: string | null;
  /** A design row (frozen when the test starts); none: read with the defaults. */
  design?: { share: number; mde: number; unit: 'spend' | 'impressions' };
  status?: 'draft' | 'running' | 'paused' | 'cancelled';
}

/** As the app does it: a draft with its ad sets (and design), then started. */
async function createIdTest(c: pg.ClientBase, tenant: string, o: IdTest): Promise<string> {
  const id = o.id ?? randomUUID();
  await c.query(
    `insert into ads.ab_tests (tenant_id, id, test_name, platform, campaign_id, test_type, primary_metric, variant_a, variant_b, status, start_date, end_date)
     values ($1, $2, $3, 'meta', 'camp-1', 'audience', 'conversion_rate', 'Broad', 'Lookalike', 'draft', $4, $5)`,
    [tenant, id, o.name, o.start, o.end ?? null],
  );
  for (const [arm, ids] of [['A', o.a], ['B', o.b]] as const) {
    for (const pid of ids) await c.query(`insert into ads_engine.ab_test_variants (tenant_id, test_id, arm, level, platform_id) values ($1, $2, $3, 'adset', $4)`, [tenant, id, arm, pid]);
  }
  if (o.design) {
    await c.query(`insert into ads_engine.ab_test_designs (tenant_id, test_id, planned_share_b, mde, allocation_unit) values ($1, $2, $3, $4, $5)`, [tenant, id, o.design.share, o.design.mde, o.design.unit]);
  }
  const status = o.status ?? 'running';
  if (status !== 'draft') {
    if (o.design) await c.query(`update ads_engine.ab_test_designs set frozen_at = now() where tenant_id = $1 and test_id = $2`, [tenant, id]);
    await c.query(`update ads.ab_tests set status = $3 where tenant_id = $1 and id = $2`, [tenant, id, status]);
  }
  return id;
}

/** As the guide does it from psql: one INSERT with the entered totals, no design, no ids. */
async function guideInsert(c: pg.ClientBase, tenant: string, name: string, a: string, b: string, status: string, start: string): Promise<string> {
  const r = await c.query(
    `INSERT INTO ads.ab_tests (tenant_id, test_name, variant_a, variant_b, performance_a, performance_b, status, start_date)
     VALUES ($1, $2, 'Short page', 'Long page', $3::jsonb, $4::jsonb, $5, $6) RETURNING id`,
    [tenant, name, a, b, status, start],
  );
  return r.rows[0].id as string;
}

const yesterdayOf = async (tenant: string): Promise<string> =>
  inTenant(app, tenant, async (c) => (await c.query('select ads_engine.tenant_yesterday($1)::text as y', [tenant])).rows[0].y as string);

const loadRows = (tenant: string, rows: MetricRow[]) => inTenant(owner, tenant, (c) => insertMetrics(c, tenant, rows));

/** Reads as the app role in the tenant, rolled back. */
const asApp = <T>(tenant: string, fn: (c: pg.PoolClient) => Promise<T>) => inTenant(app, tenant, fn, false);

interface Perf {
  impressions: number;
  clicks: number;
  conversions: number;
  spend: number;
  conversion_value: number;
}

interface TestRow {
  id: string;
  status: string;
  winner: string | null;
  statistical_significance: number | null;
  performance_a: Perf;
  performance_b: Perf;
  updated_at: Date;
}
const testRow = (tenant: string, id: string) =>
  asApp(tenant, async (c) => (await c.query('select * from ads.ab_tests where id = $1', [id])).rows[0] as TestRow);
const stateRow = (tenant: string, id: string) =>
  asApp(tenant, async (c) => (await c.query('select as_of::text, decision, message, min_p_seq::float8, winner_day::text, evaluated_at from ads_engine.ab_test_state where test_id = $1', [id])).rows[0]);

/** Independent sums of an arm's ad sets over the days, straight from ads.metrics_daily. */
async function sqlTotals(tenant: string, ids: readonly string[], from: string, to: string): Promise<Perf> {
  return asApp(tenant, async (c) => {
    const r = await c.query(
      `select coalesce(sum(impressions), 0)::float8 as impressions, coalesce(sum(clicks), 0)::float8 as clicks, coalesce(sum(conversions), 0)::float8 as conversions,
              coalesce(sum(spend), 0)::float8 as spend, coalesce(sum(conversion_value), 0)::float8 as conversion_value
       from ads.metrics_daily where platform = 'meta' and level = 'adset' and platform_id = any($1) and day between $2 and $3`,
      [[...ids], from, to],
    );
    return r.rows[0] as Perf;
  });
}

/** The arm's days queried here, apart from the code under test. */
async function sqlDays(tenant: string, ids: string[], from: string, to: string): Promise<DailyTotals[]> {
  return asApp(tenant, async (c) => {
    const r = await c.query(
      `select day::text as day, sum(impressions)::float8 as i, sum(clicks)::float8 as k, sum(conversions)::float8 as c, sum(spend)::float8 as s, sum(conversion_value)::float8 as v
       from ads.metrics_daily where platform = 'meta' and level = 'adset' and platform_id = any($1) and day between $2 and $3 group by day order by day`,
      [ids, from, to],
    );
    return r.rows.map((x) => ({ day: x.day, impressions: x.i, clicks: x.k, conversions: x.c, spend: x.s, conversionValue: x.v }));
  });
}

const DEFAULTS: AbOptions = { mde: 0.1, plannedShareB: 0.5, allocationUnit: 'spend' };
const Z = 1.959964;

// ---------------------------------------------------------------------------------------------

describe('one loop run over a tenant with every kind of test', () => {
  let tenant: string;
  let other: string;
  let Y: string;
  let first: LoopSummary;
  const id = {} as Record<'lift' | 'aa' | 'ended' | 'psql' | 'small' | 'draft' | 'paused' | 'guide' | 'bad' | 'cancelled' | 'decided' | 'mixed', string>;
  let untouchedBefore: unknown[];
  let otherBefore: unknown;
  let mixedA: Perf;
  let badBefore: TestRow;

  const untouchedSnapshot = () =>
    asApp(tenant, async (c) => (await c.query(`select to_jsonb(t) as row from ads.ab_tests t where id = any($1) order by test_name`, [[id.draft, id.paused, id.cancelled, id.decided]])).rows);

  beforeAll(async () => {
    tenant = await createTenant(owner, 'A/B loop');
    other = await createTenant(owner, 'A/B loop, other tenant');
    Y = await yesterdayOf(tenant);
    const from = addDays(Y, -27);
    await loadRows(tenant, [
      ...simulate(101, from, Y, [{ id: 'lift-a', cvr: 0.03 }, { id: 'lift-b', cvr: 0.042 }]),
      ...simulate(202, from, Y, [{ id: 'aa-a', cvr: 0.03 }, { id: 'aa-b', cvr: 0.03 }]),
      ...simulate(303, from, Y, [{ id: 'end-a', cvr: 0.03 }, { id: 'end-b', cvr: 0.03 }]),
      ...simulate(404, from, Y, [{ id: 'psql-a', cvr: 0.03 }, { id: 'psql-b', cvr: 0.042 }]),
      ...simulate(505, addDays(Y, -9), Y, [{ id: 'small-a', cvr: 0.03 }, { id: 'small-b', cvr: 0.09 }], 40),
      ...simulate(606, from, Y, [{ id: 'mix-a', cvr: 0.03 }]),
      ...simulate(707, from, Y, [{ id: 'draft-a', cvr: 0.03 }, { id: 'draft-b', cvr: 0.06 }]),
    ]);
    // the other tenant: the same ad-set ids and data, and a test with the same id as `lift`
    await loadRows(other, simulate(101, from, Y, [{ id: 'lift-a', cvr: 0.03 }, { id: 'lift-b', cvr: 0.042 }]));
    const mix = await sqlTotals(tenant, ['mix-a'], from, Y);
    mixedA = mix;

    await inTenant(app, tenant, async (c) => {
      id.lift = await createIdTest(c, tenant, { name: 'lift', a: ['lift-a'], b: ['lift-b'], start: from, design: { share: 0.5, mde: 0.1, unit: 'spend' } });
      id.aa = await createIdTest(c, tenant, { name: 'aa', a: ['aa-a'], b: ['aa-b'], start: from });
      id.psql = await createIdTest(c, tenant, { name: 'psql', a: ['psql-a'], b: ['psql-b'], start: from, end: addDays(Y, -1) });
      id.small = await createIdTest(c, tenant, { name: 'small', a: ['small-a'], b: ['small-b'], start: addDays(Y, -9) });
      id.draft = await createIdTest(c, tenant, { name: 'draft', a: ['draft-a'], b: ['draft-b'], start: from, status: 'draft' });
      id.paused = await createIdTest(c, tenant, { name: 'paused', a: ['p-a'], b: ['p-b'], start: from, status: 'paused' });
      // the guide's tests: entered totals (numbers on A, numbers written as strings on B)
      id.guide = await guideInsert(
        c,
        tenant,
        'guide',
        '{"impressions": 200000, "clicks": 4000, "conversions": 160, "spend": 2000, "conversion_value": 9600}',
        '{"impressions": "200000", "clicks": "4000", "conversions": "240", "spend": "2000", "conversion_value": "14400"}',
        'running',
        addDays(Y, -20),
      );
      id.bad = await guideInsert(c, tenant, 'bad', '{"clicks": "lots"}', '{"clicks": 900, "conversions": 40}', 'running', addDays(Y, -20));
      id.cancelled = await guideInsert(c, tenant, 'cancelled', '{"clicks": 4000, "conversions": 100, "spend": 100}', '{"clicks": 4000, "conversions": 300, "spend": 100}', 'cancelled', addDays(Y, -20));
      id.decided = await guideInsert(c, tenant, 'decided', '{"clicks": 4000, "conversions": 100, "spend": 100}', '{"clicks": 4000, "conversions": 300, "spend": 100}', 'completed', addDays(Y, -20));
      await c.query(`update ads.ab_tests set winner = 'A', statistical_significance = 0.5 where id = $1`, [id.decided]);
      // mixed: A on its ad set, B entered with A's rate (no difference)
      id.mixed = await createIdTest(c, tenant, { name: 'mixed', a: ['mix-a'], b: [], start: from });
      await c.query(`update ads.ab_tests set performance_b = $2::jsonb where id = $1`, [
        id.mixed,
        JSON.stringify({ impressions: mix.impressions, clicks: mix.clicks, conversions: mix.conversions, spend: mix.spend, conversion_value: mix.conversion_value }),
      ]);
      // the guide's weekly maintenance, by hand: tests past their end date completed, no winner written
      await c.query(`UPDATE ads.ab_tests SET status = 'completed' WHERE status = 'running' AND end_date < CURRENT_DATE`);
      // ends on the tenant's yesterday: the loop's own maintenance completes it
      id.ended = await createIdTest(c, tenant, { name: 'ended', a: ['end-a'], b: ['end-b'], start: from, end: Y });
    });
    await inTenant(app, other, (c) => createIdTest(c, other, { id: id.lift, name: 'theirs', a: ['lift-a'], b: ['lift-b'], start: from }));
    untouchedBefore = await untouchedSnapshot();
    otherBefore = await asApp(other, async (c) => (await c.query('select to_jsonb(t) as row from ads.ab_tests t')).rows);
    badBefore = await testRow(tenant, id.bad);

    first = await runDailyLoop(kdb.db, tenant, { asOf: Y, trigger: 'cli' });
  });

  it('counts what it read: 8 tests, 3 winners, 1 completed without one, 1 unreadable', () => {
    // running: lift, aa, small, guide, bad, mixed; completed without winner: ended (by the loop's maintenance), psql (by hand)
    expect(first.ab_tests_completed).toBe(1);
    expect(first.ab_tests_evaluated).toEqual({ evaluated: 8, winners: 3, completedWithoutWinner: 1, invalid: 1 });
  });

  it('B converting 40 % better on its ad set: winner B, significance from the looks, totals = the sums of metrics_daily', async () => {
    const from = addDays(Y, -27);
    const row = await testRow(tenant, id.lift);
    const state = await stateRow(tenant, id.lift);
    expect(row.status).toBe('running');
    expect(row.winner).toBe('B');
    expect(Number(row.statistical_significance)).toBeGreaterThanOrEqual(0.95);
    for (const [arm, ids] of [['performance_a', ['lift-a']], ['performance_b', ['lift-b']]] as const) {
      const sums = await sqlTotals(tenant, ids, from, Y);
      expect(row[arm]).toEqual({ impressions: sums.impressions, clicks: sums.clicks, conversions: sums.conversions, spend: round2(sums.spend), conversion_value: round2(sums.conversion_value) });
    }
    // recomputed here from days queried apart, folded from the first look
    const a = await sqlDays(tenant, ['lift-a'], from, Y);
    const b = await sqlDays(tenant, ['lift-b'], from, Y);
    expect(a).toHaveLength(28);
    const reading = readLooks(lookSeries('cvr', a, b, DEFAULTS));
    expect(reading.winner).toBe('B');
    expect(Number(row.statistical_significance)).toBe(reading.significance);
    expect(state).toMatchObject({ as_of: Y, winner_day: reading.winnerDay });
    expect(state!.min_p_seq).toBeCloseTo(reading.minPSeq!, 12);
    const pa = row.performance_a;
    const pb = row.performance_b;
    const lift = pb.conversions / pb.clicks / (pa.conversions / pa.clicks) - 1;
    console.log(
      `[ab loop] +40 % test: lift ${(100 * lift).toFixed(1)} %, conversions ${pa.conversions} / ${pb.conversions}, ` +
        `winner B on ${reading.winnerDay} (day ${a.findIndex((d) => d.day === reading.winnerDay) + 1} of 28), significance ${row.statistical_significance}, decision ${state!.decision}`,
    );
    // the design was frozen when the test started; the loop kept it
    const design = await asApp(tenant, async (c) => (await c.query('select planned_share_b::float8 as s, mde::float8 as m, allocation_unit as u, frozen_at from ads_engine.ab_test_designs where test_id = $1', [id.lift])).rows[0]);
    expect(design).toMatchObject({ s: 0.5, m: 0.1, u: 'spend' });
  });

  it('the page reads the same: readTestNow gives the winner, significance and totals the loop wrote', async () => {
    const now = await rolledBackAsApp(kdb.db, tenant, async (trx) => {
      const [t] = await loadAbTests(trx, tenant, { ids: [id.lift] });
      return { t: t!, r: await readTestNow(trx, tenant, t!, Y) };
    });
    const row = await testRow(tenant, id.lift);
    const state = await stateRow(tenant, id.lift);
    expect(now.t).toMatchObject({ name: 'lift', status: 'running', winner: 'B', platform: 'meta', metric: 'conversion_rate', startDate: addDays(Y, -27), endDate: null });
    expect(now.t.design).toMatchObject({ plannedShareB: 0.5, mde: 0.1, allocationUnit: 'spend', stored: true });
    expect(now.t.variants).toEqual([
      { arm: 'A', level: 'adset', platformId: 'lift-a', name: 'Ad set lift-a' },
      { arm: 'B', level: 'adset', platformId: 'lift-b', name: 'Ad set lift-b' },
    ]);
    expect(now.r.source).toBe('platform_ids');
    expect(now.r.looks).toHaveLength(28);
    expect(now.r.reading).toMatchObject({ winner: 'B', significance: Number(row.statistical_significance), winnerDay: state!.winner_day });
    expect(now.r.analysis.decision.status).toBe(state!.decision);
    expect(toPerformanceJson(now.r.totalsA)).toEqual(row.performance_a);
    expect(toPerformanceJson(now.r.totalsB)).toEqual(row.performance_b);
  });

  it('identical arms over 28 days: no winner, significance under 0.95', async () => {
    const row = await testRow(tenant, id.aa);
    const state = await stateRow(tenant, id.aa);
    expect(row.winner).toBeNull();
    expect(Number(row.statistical_significance)).toBeLessThan(0.95);
    expect(state!.decision).toBe('no_winner_yet');
    console.log(`[ab loop] A/A test: significance ${row.statistical_significance}; ${state!.message}`);
    // no design row before: the defaults, frozen by this first reading
    const design = await asApp(tenant, async (c) => (await c.query('select planned_share_b::float8 as s, mde::float8 as m, allocation_unit as u, frozen_at from ads_engine.ab_test_designs where test_id = $1', [id.aa])).rows[0]);
    expect(design).toMatchObject({ s: 0.5, m: 0.1, u: 'spend' });
    expect(design!.frozen_at).toBeInstanceOf(Date);
  });

  it('an A/A test completed by its end date gets winner none; one completed by hand is read too', async () => {
    const ended = await testRow(tenant, id.ended);
    expect(ended).toMatchObject({ status: 'completed', winner: 'none' });
    console.log(`[ab loop] A/A completed by end date: significance ${ended.statistical_significance}`);
    // completed by the guide's UPDATE the day before yesterday: read through its end date, B found
    const psql = await testRow(tenant, id.psql);
    expect(psql).toMatchObject({ status: 'completed', winner: 'B' });
    const sums = await sqlTotals(tenant, ['psql-b'], addDays(Y, -27), addDays(Y, -1));
    expect(psql.performance_b.clicks).toBe(sums.clicks);
    expect((await stateRow(tenant, id.psql))!.as_of).toBe(addDays(Y, -1));
  });

  it('below the minimum sample no winner is written, however large the lift', async () => {
    const row = await testRow(tenant, id.small);
    const state = await stateRow(tenant, id.small);
    const pa = row.performance_a;
    const pb = row.performance_b;
    expect(pb.conversions / pb.clicks / (pa.conversions / pa.clicks)).toBeGreaterThan(2);
    expect(pa.conversions).toBeLessThan(100);
    expect(row.winner).toBeNull();
    expect(row.statistical_significance).toBeNull();
    expect(state).toMatchObject({ decision: 'not_enough_data', min_p_seq: null, winner_day: null });
    expect(state!.message).toMatch(/^Not enough data yet: \d+ conversions on the smaller variant, 100 needed per variant\.$/);
  });

  it("the guide's INSERT with entered totals gets a design row, a look for the day, and its winner", async () => {
    // Worked out by hand: A 160 / 4000 = 4 %, B 240 / 4000 = 6 %; lift +50 %; totals variance
    // V = 0.96/160 + 0.94/240; tau = ln 1.1; Lambda = sqrt(V/(V+tau^2)) exp(tau^2 theta^2 / (2V(V+tau^2))) = 38.0; p = 1/Lambda = 0.0263.
    const theta = Math.log(1.5);
    const V = 0.96 / 160 + 0.94 / 240;
    const tau2 = Math.log(1.1) ** 2;
    const p = 1 / (Math.sqrt(V / (V + tau2)) * Math.exp((tau2 * theta * theta) / (2 * V * (V + tau2))));
    expect(p).toBeCloseTo(0.0263, 4);
    const row = await testRow(tenant, id.guide);
    expect(row).toMatchObject({ status: 'running', winner: 'B', statistical_significance: Math.round((1 - p) * 1e5) / 1e5 });
    // entered totals stay as entered (strings and all)
    expect(row.performance_b).toEqual({ impressions: '200000', clicks: '4000', conversions: '240', spend: '2000', conversion_value: '14400' });
    const design = await asApp(tenant, async (c) => (await c.query('select planned_share_b::float8 as s, mde::float8 as m, allocation_unit as u, frozen_at from ads_engine.ab_test_designs where test_id = $1', [id.guide])).rows);
    expect(design).toHaveLength(1);
    expect(design[0]).toMatchObject({ s: 0.5, m: 0.1, u: 'spend' });
    expect(design[0].frozen_at).toBeInstanceOf(Date);
    const looks = await asApp(tenant, async (c) => (await c.query('select look_day::text as day, performance_a, performance_b, lift::float8, lower::float8, p_seq::float8, decision from ads_engine.ab_test_looks where test_id = $1', [id.guide])).rows);
    expect(looks).toHaveLength(1);
    expect(looks[0]).toMatchObject({
      day: Y,
      decision: 'winner_b',
      performance_a: { impressions: 200000, clicks: 4000, conversions: 160, spend: 2000, conversion_value: 9600 },
      performance_b: { impressions: 200000, clicks: 4000, conversions: 240, spend: 2000, conversion_value: 14400 },
    });
    expect(looks[0].lift).toBeCloseTo(0.5, 12);
    expect(looks[0].lower).toBeCloseTo(Math.exp(theta - Z * Math.sqrt(V)) - 1, 5);
    expect(looks[0].p_seq).toBeCloseTo(p, 10);
    expect(await stateRow(tenant, id.guide)).toMatchObject({ as_of: Y, decision: 'winner_b', winner_day: Y });
    // the page: the loop's look for the day, read again from the entered totals
    const now = await rolledBackAsApp(kdb.db, tenant, async (trx) => readTestNow(trx, tenant, (await loadAbTests(trx, tenant, { ids: [id.guide] }))[0]!, Y));
    expect(now.source).toBe('entered');
    expect(now.looks.map((l) => [l.day, l.decision])).toEqual([[Y, 'winner_b']]);
    expect(now.reading).toMatchObject({ winner: 'B', winnerDay: Y });
  });

  it('unreadable entered totals: counted invalid, the state names the field, nothing else changes', async () => {
    expect(await stateRow(tenant, id.bad)).toMatchObject({ as_of: Y, decision: 'not_computable', message: 'performance_a.clicks must be a number (got "lots")', min_p_seq: null });
    expect(await testRow(tenant, id.bad)).toEqual(badBefore);
    const counts = await asApp(tenant, async (c) =>
      (await c.query(`select (select count(*)::int from ads_engine.ab_test_looks where test_id = $1) as looks, (select count(*)::int from ads_engine.ab_test_designs where test_id = $1) as designs`, [id.bad])).rows[0],
    );
    expect(counts).toEqual({ looks: 0, designs: 0 });
    // the page shows the same, without throwing
    const now = await rolledBackAsApp(kdb.db, tenant, async (trx) => readTestNow(trx, tenant, (await loadAbTests(trx, tenant, { ids: [id.bad] }))[0]!, Y));
    expect(now).toMatchObject({ source: 'entered', invalid: 'performance_a.clicks must be a number (got "lots")' });
    expect(now.analysis.decision).toEqual({ status: 'not_computable', message: 'performance_a.clicks must be a number (got "lots")' });
  });

  it('an ad-set arm against entered totals is read from totals: A refreshed from metrics, B as entered, a look kept', async () => {
    const row = await testRow(tenant, id.mixed);
    expect(row.performance_a).toEqual({ ...mixedA, spend: round2(mixedA.spend), conversion_value: round2(mixedA.conversion_value) });
    expect(row.winner).toBeNull();
    const look = await asApp(tenant, async (c) => (await c.query('select look_day::text as day, lift::float8, decision from ads_engine.ab_test_looks where test_id = $1', [id.mixed])).rows);
    expect(look).toEqual([{ day: Y, lift: expect.closeTo(0, 9), decision: 'no_winner_yet' }]);
    const now = await rolledBackAsApp(kdb.db, tenant, async (trx) => readTestNow(trx, tenant, (await loadAbTests(trx, tenant, { ids: [id.mixed] }))[0]!, Y));
    expect(now.source).toBe('mixed');
    expect(now.dailyA).toHaveLength(28);
    expect(now.analysis.estimate.computable && now.analysis.estimate.varianceModel).toBe('totals');
  });

  it('draft, paused, cancelled tests and a completed test with a winner are not touched', async () => {
    expect(await untouchedSnapshot()).toEqual(untouchedBefore);
    const n = await asApp(tenant, async (c) =>
      (await c.query(`select (select count(*)::int from ads_engine.ab_test_state where test_id = any($1)) as states, (select count(*)::int from ads_engine.ab_test_looks where test_id = any($1)) as looks`, [[id.draft, id.paused, id.cancelled, id.decided]])).rows[0],
    );
    expect(n).toEqual({ states: 0, looks: 0 });
    expect((await testRow(tenant, id.decided)).winner).toBe('A');
  });

  it("another tenant's test with the same id is untouched by this tenant's loop and invisible to it", async () => {
    expect(await asApp(other, async (c) => (await c.query('select to_jsonb(t) as row from ads.ab_tests t')).rows)).toEqual(otherBefore);
    // the owner's view: both tests exist under the one id, only this tenant's was read
    const both = await inTenant(owner, other, async (c) =>
      (
        await c.query(
          `select t.tenant_id, t.winner, (select count(*)::int from ads_engine.ab_test_state s where s.tenant_id = t.tenant_id and s.test_id = t.id) as states,
                  (select count(*)::int from ads_engine.ab_test_designs d where d.tenant_id = t.tenant_id and d.test_id = t.id) as designs
           from ads.ab_tests t where t.id = $1 and t.tenant_id = any($2) order by t.tenant_id = $3`,
          [id.lift, [tenant, other], other],
        )
      ).rows,
    );
    expect(both).toEqual([
      { tenant_id: tenant, winner: 'B', states: 1, designs: 1 },
      { tenant_id: other, winner: null, states: 0, designs: 0 },
    ]);
    // the same id, read in this tenant: this tenant's test only
    const mine = await rolledBackAsApp(kdb.db, tenant, (trx) => loadAbTests(trx, tenant, { ids: [id.lift] }));
    expect(mine.map((t) => t.name)).toEqual(['lift']);
    // naming the other tenant from this tenant's transaction reaches nothing
    expect(await rolledBackAsApp(kdb.db, tenant, (trx) => loadAbTests(trx, other, {}))).toEqual([]);
    expect(await rolledBackAsApp(kdb.db, tenant, (trx) => evaluateAbTests(trx, other, Y))).toEqual({ evaluated: 0, winners: 0, completedWithoutWinner: 0, invalid: 0 });
  });

  it('a second run the same day changes nothing but the evaluation time', async () => {
    const snapshot = () =>
      asApp(tenant, async (c) => ({
        tests: (await c.query('select to_jsonb(t) as row from ads.ab_tests t order by id')).rows,
        designs: (await c.query('select to_jsonb(d) as row from ads_engine.ab_test_designs d order by test_id')).rows,
        looks: (await c.query('select to_jsonb(l) as row from ads_engine.ab_test_looks l order by test_id, look_day')).rows,
        states: (await c.query(`select to_jsonb(s) - 'evaluated_at' as row, evaluated_at from ads_engine.ab_test_state s order by test_id`)).rows,
      }));
    const before = await snapshot();
    const second = await runDailyLoop(kdb.db, tenant, { asOf: Y, trigger: 'cli' });
    const after = await snapshot();
    // the completed ones now have their winner: only the six running tests are read again
    expect(second.ab_tests_evaluated).toEqual({ evaluated: 6, winners: 0, completedWithoutWinner: 0, invalid: 1 });
    expect(after.tests).toEqual(before.tests);
    expect(after.designs).toEqual(before.designs);
    expect(after.looks).toEqual(before.looks);
    expect(after.states.map((s) => s.row)).toEqual(before.states.map((s) => s.row));
    const stamps = new Map(before.states.map((s) => [s.row.test_id, (s.evaluated_at as Date).getTime()]));
    const running = new Set([id.lift, id.aa, id.small, id.guide, id.bad, id.mixed]);
    expect(after.states).toHaveLength(8);
    for (const s of after.states) {
      const at = (s.evaluated_at as Date).getTime();
      if (running.has(s.row.test_id)) expect(at).toBeGreaterThan(stamps.get(s.row.test_id)!);
      else expect(at).toBe(stamps.get(s.row.test_id)); // settled: not read again
    }
  });
});

describe('a latched winner', () => {
  it('stays when later data reverse the lift, and when earlier days are restated', async () => {
    const tenant = await createTenant(owner, 'A/B latch');
    const Y = await yesterdayOf(tenant);
    const start = addDays(Y, -41);
    const mid = addDays(Y, -14);
    await loadRows(tenant, simulate(808, start, mid, [{ id: 'l-a', cvr: 0.03 }, { id: 'l-b', cvr: 0.042 }]));
    const testId = await inTenant(app, tenant, (c) => createIdTest(c, tenant, { name: 'latch', a: ['l-a'], b: ['l-b'], start }));

    const one = await runDailyLoop(kdb.db, tenant, { asOf: mid, trigger: 'cli' });
    expect(one.ab_tests_evaluated).toMatchObject({ evaluated: 1, winners: 1 });
    const latched = await stateRow(tenant, testId);
    expect((await testRow(tenant, testId)).winner).toBe('B');

    // two more weeks where A converts twice as well as B
    await loadRows(tenant, simulate(909, addDays(mid, 1), Y, [{ id: 'l-a', cvr: 0.06 }, { id: 'l-b', cvr: 0.03 }]));
    const two = await runDailyLoop(kdb.db, tenant, { asOf: Y, trigger: 'cli' });
    expect(two.ab_tests_evaluated).toMatchObject({ evaluated: 1, winners: 0 });
    const after = await testRow(tenant, testId);
    const state = await stateRow(tenant, testId);
    expect(after.winner).toBe('B');
    expect(state!.winner_day).toBe(latched!.winner_day);
    expect(state!.decision).not.toBe('winner_b');
    const pa = after.performance_a;
    const pb = after.performance_b;
    console.log(
      `[ab loop] latch: B won on ${latched!.winner_day} (significance ${Number(1 - latched!.min_p_seq).toFixed(5)}); 42 days later the lift is ` +
        `${(100 * (pb.conversions / pb.clicks / (pa.conversions / pa.clicks) - 1)).toFixed(1)} %, decision now ${state!.decision}; winner still B`,
    );

    // the platform restates B's first four weeks down to A's figures: read afresh, B never wins
    await inTenant(owner, tenant, (c) =>
      c.query(
        `update ads.metrics_daily b set conversions = a.conversions, conversion_value = a.conversion_value, clicks = a.clicks
         from ads.metrics_daily a
         where b.tenant_id = $1 and a.tenant_id = $1 and b.platform_id = 'l-b' and a.platform_id = 'l-a' and a.day = b.day and b.day <= $2`,
        [tenant, mid],
      ),
    );
    await runDailyLoop(kdb.db, tenant, { asOf: Y, trigger: 'cli' });
    const restated = await testRow(tenant, testId);
    expect(restated.winner).toBe('B');
    expect((await stateRow(tenant, testId))!.winner_day).toBe(latched!.winner_day);
    const a = await sqlDays(tenant, ['l-a'], start, Y);
    const b = await sqlDays(tenant, ['l-b'], start, Y);
    const fresh = readLooks(lookSeries('cvr', a, b, DEFAULTS));
    expect(fresh.winner).not.toBe('B');
    // and the code under test says the same of the record without its written winner
    const unlatched = await rolledBackAsApp(kdb.db, tenant, async (trx) => {
      const [t] = await loadAbTests(trx, tenant, { ids: [testId] });
      return readTest({ ...t!, winner: null }, { a, b }, [], Y).reading.winner;
    });
    expect(unlatched).toBe(fresh.winner);
    console.log(`[ab loop] latch after restatement: read afresh the winner would be ${fresh.winner ?? 'none yet'}; written winner stays B`);
  });
});

describe('many tests', () => {
  it('forty tests are read and written in eight statements', async () => {
    const tenant = await createTenant(owner, 'A/B many');
    const Y = await yesterdayOf(tenant);
    const from = addDays(Y, -27);
    await loadRows(tenant, simulate(1111, from, Y, [{ id: 'm-a', cvr: 0.03 }, { id: 'm-b', cvr: 0.036 }]));
    await inTenant(app, tenant, async (c) => {
      await c.query(
        `with t as (insert into ads.ab_tests (tenant_id, test_name, platform, status, start_date)
                    select $1, 'ids ' || g, 'meta', 'draft', $2::date + (g % 5) from generate_series(1, 30) g returning id)
         insert into ads_engine.ab_test_variants (tenant_id, test_id, arm, level, platform_id)
         select $1, t.id, v.arm, 'adset', v.pid from t, (values ('A', 'm-a'), ('B', 'm-b')) v(arm, pid)`,
        [tenant, from],
      );
      await c.query(`update ads.ab_tests set status = 'running' where tenant_id = $1`, [tenant]);
      await c.query(
        `insert into ads.ab_tests (tenant_id, test_name, status, start_date, performance_a, performance_b)
         select $1, 'entered ' || g, 'running', $2, jsonb_build_object('clicks', 3000, 'conversions', 90 + g, 'spend', 900),
                jsonb_build_object('clicks', 3000, 'conversions', 100 + 2 * g, 'spend', 900)
         from generate_series(1, 10) g`,
        [tenant, from],
      );
    });
    let statements = 0;
    const counter: KyselyPlugin = {
      transformQuery: (args) => {
        statements++;
        return args.node;
      },
      transformResult: async (args) => args.result,
    };
    const started = performance.now();
    const result = await rolledBackAsApp(kdb.db, tenant, (trx) => evaluateAbTests(trx.withPlugin(counter), tenant, Y));
    const ms = performance.now() - started;
    expect(result.evaluated).toBe(40);
    expect(result.invalid).toBe(0);
    // lock, tests, variants, days, designs, tests' update, looks, states
    expect(statements).toBe(8);
    console.log(`[ab loop] 40 tests (30 on ad sets, 10 entered): ${statements} statements, ${ms.toFixed(0)} ms, ${result.winners} winners`);
  });
});
