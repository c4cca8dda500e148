// Measured outcomes of applied recommendations (db/media_buying/105_outcomes.sql,
// table from db/migrations/006): the trigger records the prediction when a
// recommendation is applied, ads_engine.measure_outcomes measures it 7 and 14
// days later against comparable campaigns (difference in differences on the
// log of the metric), ads_engine.track_record summarises each type.
// The data are noisy like real data: log-normal spend with a day shock shared
// by every campaign, negative binomial clicks and conversions, order values
// drawn one by one. Every expected figure is recomputed here from the rows.
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { errorOf, rollback, setTenant, tenantPair } from '../helpers/db';
import { AS_OF, addDays, daily, insertMetrics, isoDow, type MetricRow } from './fixtures';

let app: pg.Pool;
let tenant: string;
let other: string;
beforeAll(async () => void ({ app, tenant, other } = await tenantPair('Outcomes')));

// ---------------------------------------------------------------------------
// A seeded generator and the distributions of the data
// ---------------------------------------------------------------------------
function generator(seed: number) {
  let s = seed >>> 0;
  const uniform = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = (): number => {
    const u = Math.max(uniform(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
  };
  // Marsaglia-Tsang, shape >= 1 (the shapes used here are 1 / phi >= 5).
  const gamma = (shape: number): number => {
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      const x = normal();
      const v = (1 + c * x) ** 3;
      if (v <= 0) continue;
      if (Math.log(Math.max(uniform(), 1e-12)) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
    }
  };
  const poisson = (lambda: number): number => {
    if (lambda <= 0) return 0;
    if (lambda > 60) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * normal()));
    const limit = Math.exp(-lambda);
    let k = 0;
    let p = uniform();
    while (p > limit) {
      k++;
      p *= uniform();
    }
    return k;
  };
  /** Negative binomial: mean mu, variance mu + phi mu^2 (a Poisson of a gamma-distributed mean). */
  const negBinomial = (mu: number, phi: number): number => poisson((mu * gamma(1 / phi)) * phi);
  return { uniform, normal, poisson, negBinomial };
}

const CAMPAIGNS = Array.from({ length: 12 }, (_, i) => `C${String(i + 1).padStart(2, '0')}`);
const FIRST = addDays(AS_OF, -39);
/** The day the recommendations are applied (tenant's local day): 14 post days end on AS_OF. */
const APPLIED = addDays(AS_OF, -14);
const WEEKDAY = [0, 1.05, 1.1, 1.0, 1.0, 0.95, 0.85, 0.9]; // ISO weekday profile of spend
const TREATED = 'C03'; // budget cut by 40 % after APPLIED
const PLACEBO = 'C07'; // applied, nothing changes

/** 40 days of 12 campaigns on meta. */
function fixture(seed: number, treatedFactor = 0.6): MetricRow[] {
  const g = generator(seed);
  const profile = CAMPAIGNS.map(() => ({
    budget: 80 + 320 * g.uniform(),
    cpm: 6 + 6 * g.uniform(),
    ctr: 0.008 + 0.012 * g.uniform(),
    cpa: 18 + 20 * g.uniform(),
  }));
  const shock = new Map<string, number>();
  const rows: MetricRow[] = [];
  for (const [i, id] of CAMPAIGNS.entries()) {
    const p = profile[i]!;
    rows.push(
      ...daily(FIRST, AS_OF, (day) => {
        if (!shock.has(day)) shock.set(day, Math.exp(0.06 * g.normal()));
        const cut = id === TREATED && day > APPLIED ? treatedFactor : 1;
        const spend = Math.round(p.budget * WEEKDAY[isoDow(day)]! * shock.get(day)! * Math.exp(0.15 * g.normal()) * cut * 100) / 100;
        const impressions = g.poisson((spend * 1000) / p.cpm);
        const clicks = g.negBinomial(impressions * p.ctr, 0.05);
        const conversions = g.negBinomial(spend / p.cpa, 0.15);
        let value = 0;
        for (let k = 0; k < conversions; k++) value += 60 * Math.exp(0.5 * g.normal() - 0.125);
        return { id, spend, impressions, clicks, conversions, value: Math.round(value * 100) / 100 };
      }),
    );
  }
  return rows;
}

// ---------------------------------------------------------------------------
// The estimate, recomputed from the rows
// ---------------------------------------------------------------------------
type Metric = 'spend' | 'conversions' | 'cpa' | 'cpc';

function periodFigures(rows: MetricRow[], id: string, from: string, to: string, metric: Metric): { value: number; support: number | null } {
  const days = rows.filter((r) => r.id === id && r.day >= from && r.day <= to);
  const sum = (f: (r: MetricRow) => number) => days.reduce((a, r) => a + f(r), 0);
  const n = Math.round((Date.parse(to) - Date.parse(from)) / 86_400_000) + 1;
  const spend = sum((r) => r.spend ?? 0);
  const conversions = sum((r) => r.conversions ?? 0);
  const clicks = sum((r) => r.clicks ?? 0);
  switch (metric) {
    case 'spend':
      return { value: spend / n, support: null };
    case 'conversions':
      return { value: conversions / n, support: conversions };
    case 'cpa':
      return { value: spend / conversions, support: conversions };
    case 'cpc':
      return { value: spend / clicks, support: clicks };
  }
}

interface Estimate {
  pre: number;
  post: number;
  entityChange: number;
  controlChange: number;
  did: number;
  lower: number;
  upper: number;
  controls: number;
}

/** DiD of `id` against `controls` for horizon h: the noise of log(post/pre) from a count k is 1/k. */
function estimate(rows: MetricRow[], id: string, controls: string[], metric: Metric, h: number): Estimate {
  const pre = (x: string) => periodFigures(rows, x, addDays(APPLIED, -7), addDays(APPLIED, -1), metric);
  const post = (x: string) => periodFigures(rows, x, addDays(APPLIED, 1), addDays(APPLIED, h), metric);
  const noise = (a: { support: number | null }, b: { support: number | null }) =>
    a.support === null ? 0 : 1 / Math.max(a.support, 1) + 1 / Math.max(b.support ?? 1, 1);
  const d = controls.map((x) => Math.log(post(x).value / pre(x).value));
  const meanD = d.reduce((a, b) => a + b, 0) / d.length;
  const varD = d.reduce((a, b) => a + (b - meanD) ** 2, 0) / (d.length - 1);
  const meanNoise = controls.map((x) => noise(pre(x), post(x))).reduce((a, b) => a + b, 0) / controls.length;
  const e0 = pre(id);
  const e1 = post(id);
  const did = Math.log(e1.value / e0.value) - meanD;
  const se = Math.sqrt(Math.max(0, varD - meanNoise) + noise(e0, e1) + varD / controls.length);
  return {
    pre: e0.value,
    post: e1.value,
    entityChange: e1.value / e0.value - 1,
    controlChange: Math.exp(meanD) - 1,
    did,
    lower: did - 1.959964 * se,
    upper: did + 1.959964 * se,
    controls: controls.length,
  };
}

// ---------------------------------------------------------------------------
// SQL helpers
// ---------------------------------------------------------------------------
interface Rec {
  id: string;
  type: string;
  current?: number | null;
  recommended?: number | null;
  evidence?: Record<string, unknown>;
  status?: string;
  appliedAt?: string | null;
}

async function insertRec(c: pg.ClientBase, entity: string, r: Omit<Rec, 'id'>): Promise<string> {
  const res = await c.query(
    `insert into ads.optimization_recommendations
       (tenant_id, platform, level, entity_id, campaign_id, recommendation_type, description, current_value, recommended_value, evidence, status, applied_at)
     values ($1, 'meta', 'campaign', $2, $2, $3, 'test recommendation', $4, $5, $6, $7, $8) returning id`,
    [tenant, entity, r.type, r.current ?? null, r.recommended ?? null, JSON.stringify(r.evidence ?? {}), r.status ?? 'pending', r.appliedAt ?? null],
  );
  return res.rows[0].id as string;
}

const apply = (c: pg.ClientBase, id: string, at: string) =>
  c.query(`update ads.optimization_recommendations set status = 'applied', applied_at = $2 where tenant_id = $1 and id = $3`, [tenant, at, id]);

const measure = async (c: pg.ClientBase, asOf: string, t = tenant) =>
  (await c.query('select ads_engine.measure_outcomes($1, $2::date) as n', [t, asOf])).rows[0].n as number;

const NUMERIC = [
  'expected_change', 'pre_value', 'pre_support', 'post_value_7', 'entity_change_7', 'control_change_7', 'did_7', 'did_lower_7', 'did_upper_7',
  'post_value_14', 'entity_change_14', 'control_change_14', 'did_14', 'did_lower_14', 'did_upper_14',
] as const;

async function outcome(c: pg.ClientBase, id: string): Promise<Record<string, unknown>> {
  const r = await c.query(
    `select *, applied_day::text as applied_day, pre_from::text as pre_from, pre_to::text as pre_to
     from ads_engine.recommendation_outcomes where tenant_id = $1 and recommendation_id = $2`,
    [tenant, id],
  );
  expect(r.rows).toHaveLength(1);
  const row = { ...r.rows[0] } as Record<string, unknown>;
  for (const k of NUMERIC) row[k] = row[k] === null ? null : Number(row[k]);
  return row;
}

/** Applied at 03:30 UTC the day after APPLIED: 20:30 on APPLIED in Los Angeles (UTC-7 in March after the DST change). */
const APPLIED_AT = `${addDays(APPLIED, 1)}T03:30:00Z`;

async function seedExperiment(c: pg.ClientBase, rows: MetricRow[]): Promise<{ treated: string; placebo: string }> {
  await setTenant(c, tenant);
  await c.query(`update saas.tenants set timezone = 'America/Los_Angeles' where id = $1`, [tenant]);
  await insertMetrics(c, tenant, rows);
  const treated = await insertRec(c, TREATED, { type: 'budget_decrease', current: 200, recommended: 120 });
  const placebo = await insertRec(c, PLACEBO, {
    type: 'timing',
    current: 30,
    recommended: 27,
    evidence: { prediction: { metric: 'conversions', expected_change: 0.2, unit: 'conversions_per_day', horizon_days: 14 } },
  });
  await apply(c, treated, APPLIED_AT);
  await apply(c, placebo, APPLIED_AT);
  return { treated, placebo };
}

describe('measured outcomes: difference in differences against campaigns with nothing applied', () => {
  it('measures a 40 % budget cut near log(0.6) inside its interval, a placebo at 0, each horizon once, audited', async () => {
    const rows = fixture(20250331);
    await rollback(app, async (c) => {
      const { treated, placebo } = await seedExperiment(c, rows);

      // The trigger recorded both predictions on the tenant's local day.
      const t0 = await outcome(c, treated);
      expect(t0).toMatchObject({
        recommendation_type: 'budget_decrease', platform: 'meta', level: 'campaign', entity_id: TREATED, applied_day: APPLIED,
        metric: 'spend', expected_change: -0.4, unit: 'relative_change', horizon_days: 7, prediction_source: 'default',
        pre_from: addDays(APPLIED, -7), pre_to: addDays(APPLIED, -1), measured_at_7: null, measured_at_14: null,
      });
      expect(new Date(t0.applied_at as string).toISOString()).toBe(new Date(APPLIED_AT).toISOString());
      const preSpend = periodFigures(rows, TREATED, addDays(APPLIED, -7), addDays(APPLIED, -1), 'spend').value;
      expect(t0.pre_value as number).toBeCloseTo(preSpend, 6);
      expect(t0.pre_support).toBeNull();
      expect(await outcome(c, placebo)).toMatchObject({
        metric: 'conversions', expected_change: 0.2, unit: 'conversions_per_day', horizon_days: 14, prediction_source: 'evidence',
      });

      // Nothing is due before 7 days; then each horizon once.
      expect(await measure(c, addDays(APPLIED, 6))).toBe(0);
      expect(await measure(c, addDays(APPLIED, 7))).toBe(2);
      expect(await measure(c, addDays(APPLIED, 7))).toBe(0);
      const t7 = await outcome(c, treated);
      expect(t7.measured_at_7).not.toBeNull();
      expect(t7.measured_at_14).toBeNull();
      expect(await measure(c, AS_OF)).toBe(2);
      expect(await measure(c, AS_OF)).toBe(0);
      expect(await measure(c, addDays(AS_OF, 30))).toBe(0);

      // Controls: the 10 other campaigns (the placebo had something applied in the window).
      const controls = CAMPAIGNS.filter((x) => x !== TREATED && x !== PLACEBO);
      const t = await outcome(c, treated);
      for (const h of [7, 14] as const) {
        const want = estimate(rows, TREATED, controls, 'spend', h);
        expect(t[`controls_${h}`]).toBe(10);
        expect(t[`post_value_${h}`] as number).toBeCloseTo(want.post, 6);
        expect(t[`entity_change_${h}`] as number).toBeCloseTo(want.entityChange, 5);
        expect(t[`control_change_${h}`] as number).toBeCloseTo(want.controlChange, 5);
        expect(t[`did_${h}`] as number).toBeCloseTo(want.did, 5);
        expect(t[`did_lower_${h}`] as number).toBeCloseTo(want.lower, 5);
        expect(t[`did_upper_${h}`] as number).toBeCloseTo(want.upper, 5);
        // The truth, log(0.6) = -0.511, is inside the interval, the estimate near it, and the cut is significant.
        expect(t[`did_lower_${h}`] as number).toBeLessThan(Math.log(0.6));
        expect(t[`did_upper_${h}`] as number).toBeGreaterThan(Math.log(0.6));
        expect(Math.abs((t[`did_${h}`] as number) - Math.log(0.6))).toBeLessThan(0.15);
        expect(t[`did_upper_${h}`] as number).toBeLessThan(0);
        expect(t[`direction_held_${h}`]).toBe(true);
      }

      // The placebo: conversions over the same days, count noise included; its interval holds 0.
      const p = await outcome(c, placebo);
      for (const h of [7, 14] as const) {
        const want = estimate(rows, PLACEBO, controls, 'conversions', h);
        expect(p[`controls_${h}`]).toBe(10);
        expect(p[`did_${h}`] as number).toBeCloseTo(want.did, 5);
        expect(p[`did_lower_${h}`] as number).toBeCloseTo(want.lower, 5);
        expect(p[`did_upper_${h}`] as number).toBeCloseTo(want.upper, 5);
        expect(p[`did_lower_${h}`] as number).toBeLessThan(0);
        expect(p[`did_upper_${h}`] as number).toBeGreaterThan(0);
        expect(p[`direction_held_${h}`]).toBe(want.did > 0);
      }
      expect(p.pre_support).toBe(periodFigures(rows, PLACEBO, addDays(APPLIED, -7), addDays(APPLIED, -1), 'conversions').support);

      // One audit row per measurement, with the figures.
      const audit = await c.query(
        `select entity_id, actor_label, after from saas.audit_log
         where tenant_id = $1 and action = 'recommendation.outcome' order by (after ->> 'horizon_days')::int, entity_id`,
        [tenant],
      );
      expect(audit.rows).toHaveLength(4);
      expect(audit.rows.every((a) => a.actor_label === 'optimizer')).toBe(true);
      const a14 = audit.rows.find((a) => a.entity_id === treated && a.after.horizon_days === 14)!;
      expect(a14.after).toMatchObject({ metric: 'spend', controls: 10, direction_held: true, as_of: AS_OF });
      expect(Number(a14.after.did)).toBeCloseTo(t.did_14 as number, 6);

      // The other tenant sees no outcome and measures nothing.
      await setTenant(c, other);
      expect((await c.query('select count(*)::int as n from ads_engine.recommendation_outcomes')).rows[0].n).toBe(0);
      expect(await measure(c, AS_OF, other)).toBe(0);
      expect(await errorOf(c, 'select ads_engine.record_prediction($1, $2)', [tenant, treated])).toMatch(/does not match the current tenant/);
      expect(await errorOf(c, 'select ads_engine.record_prediction($1, $2)', [other, treated])).toMatch(/is not a recommendation of tenant/);
    });
  });

  it('leaves the estimate at 0 when nothing changed, and excludes an entity with something applied from the controls', async () => {
    // The same world without the cut: the "treated" campaign is a placebo too.
    const rows = fixture(7, 1);
    await rollback(app, async (c) => {
      const { treated } = await seedExperiment(c, rows);
      expect(await measure(c, AS_OF)).toBe(4);
      const t = await outcome(c, treated);
      const controls = CAMPAIGNS.filter((x) => x !== TREATED && x !== PLACEBO);
      const want = estimate(rows, TREATED, controls, 'spend', 14);
      expect(t.did_14 as number).toBeCloseTo(want.did, 5);
      expect(t.did_lower_14 as number).toBeLessThan(0);
      expect(t.did_upper_14 as number).toBeGreaterThan(0);
      // A recommendation applied to a control outside the window does not exclude it; inside, it does.
      const late = await insertRec(c, 'C11', { type: 'creative', current: 0.01, recommended: 0.012 });
      await apply(c, late, `${addDays(APPLIED, 20)}T12:00:00Z`);
      const early = await insertRec(c, 'C12', { type: 'creative', current: 0.01, recommended: 0.012 });
      await apply(c, early, `${addDays(APPLIED, 5)}T12:00:00Z`);
      await c.query(`update ads_engine.recommendation_outcomes set measured_at_7 = null, measured_at_14 = null where recommendation_id = $1`, [treated]);
      // the treated outcome's two horizons, and the 7 days of the early one (applied on APPLIED + 5, due on APPLIED + 12)
      expect(await measure(c, AS_OF)).toBe(3);
      const again = await outcome(c, treated);
      expect(again.controls_7).toBe(9);
      expect(again.controls_14).toBe(9);
      expect(again.did_14 as number).toBeCloseTo(estimate(rows, TREATED, controls.filter((x) => x !== 'C12'), 'spend', 14).did, 5);
    });
  });

  it('a pause that took spend to zero: the change is -100 %, no log estimate, the direction held', async () => {
    const rows = fixture(11, 0);
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      await insertMetrics(c, tenant, rows.filter((r) => !(r.id === TREATED && r.day > APPLIED)));
      // Inserted already applied (a path without an UPDATE): recorded too.
      const id = await insertRec(c, TREATED, { type: 'pause', current: 150, recommended: 0, status: 'applied', appliedAt: `${APPLIED}T09:00:00Z` });
      expect(await outcome(c, id)).toMatchObject({ metric: 'spend', expected_change: -1, applied_day: APPLIED });
      expect(await measure(c, AS_OF)).toBe(2);
      const o = await outcome(c, id);
      expect(o).toMatchObject({ post_value_14: 0, entity_change_14: -1, did_14: null, did_lower_14: null, direction_held_14: true, controls_14: 11 });
    });
  });
});

describe('recording a prediction', () => {
  it('defaults per type, evidence first, idempotent, and refuses bad arguments by name', async () => {
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      const cases: [string, number, number, string, number][] = [
        ['budget_increase', 100, 150, 'conversion_value', 0.25],
        ['budget_decrease', 200, 120, 'spend', -0.4],
        ['pause', 80, 0, 'spend', -1],
        ['bid_adjustment', 1.5, 1.2, 'cpc', -0.2],
        ['creative', 0.008, 0.012, 'ctr', 0.5],
        ['audience', 12, 9, 'cpm', -0.25],
        ['timing', 40, 30, 'cpa', -0.1],
      ];
      for (const [i, [type, current, recommended, metric, change]] of cases.entries()) {
        const id = await insertRec(c, `D${i}`, { type, current, recommended });
        await apply(c, id, `${APPLIED}T12:00:00Z`);
        expect(await outcome(c, id), type).toMatchObject({ metric, expected_change: change, prediction_source: 'default', applied_day: APPLIED });
      }
      // A malformed prediction falls back to the default of the type.
      const bad = await insertRec(c, 'E1', { type: 'budget_decrease', current: 100, recommended: 70, evidence: { prediction: { metric: 'likes', expected_change: -0.3 } } });
      await apply(c, bad, `${APPLIED}T12:00:00Z`);
      expect(await outcome(c, bad)).toMatchObject({ metric: 'spend', expected_change: -0.3, prediction_source: 'default' });

      // Idempotent: the trigger wrote it, a second call does nothing.
      const again = await c.query('select ads_engine.record_prediction($1, $2) as ok', [tenant, bad]);
      expect(again.rows[0].ok).toBe(false);
      expect((await c.query('select count(*)::int as n from ads_engine.recommendation_outcomes where recommendation_id = $1', [bad])).rows[0].n).toBe(1);
      // Re-applying (an update that keeps the status) records nothing new.
      await apply(c, bad, `${APPLIED}T13:00:00Z`);
      expect((await outcome(c, bad)).applied_day).toBe(APPLIED);

      // Entities of a platform with no metrics for the post period's last day: not measured yet (a horizon is
      // measured once, so a partial one would stay wrong), and no track record.
      expect(await measure(c, AS_OF)).toBe(0);
      const empty = await c.query(
        `select count(*)::int as n from ads_engine.recommendation_outcomes where tenant_id = $1 and (measured_at_7 is not null or measured_at_14 is not null)`,
        [tenant],
      );
      expect(empty.rows[0]).toEqual({ n: 0 });
      expect((await c.query('select * from ads_engine.track_record($1)', [tenant])).rows).toEqual([]);

      const pending = await insertRec(c, 'E2', { type: 'pause', current: 50, recommended: 0 });
      expect(await errorOf(c, 'select ads_engine.record_prediction(NULL, $1)', [pending])).toBe('tenant_id must not be NULL');
      expect(await errorOf(c, 'select ads_engine.record_prediction($1, NULL)', [tenant])).toBe('recommendation_id must not be NULL');
      expect(await errorOf(c, 'select ads_engine.record_prediction($1, $2)', [tenant, pending])).toMatch(
        /^recommendation_id [0-9a-f-]+: its status is pending, not applied/,
      );
      expect(await errorOf(c, 'select ads_engine.record_prediction($1, gen_random_uuid())', [tenant])).toMatch(/is not a recommendation of tenant/);
      expect(await errorOf(c, 'select ads_engine.measure_outcomes(NULL, $1::date)', [AS_OF])).toBe('tenant_id must not be NULL');
      expect(await errorOf(c, 'select ads_engine.measure_outcomes($1, NULL)', [tenant])).toMatch(/as_of .* must not be NULL/);
      expect(await errorOf(c, 'select * from ads_engine.track_record(NULL)')).toBe('tenant_id must not be NULL');
      const codes = await c.query(
        `select ads_engine.default_prediction('budget_decrease', 0, 10) as zero, ads_engine.default_prediction('budget_decrease', NULL, 10) as missing`,
      );
      expect(codes.rows[0]).toEqual({ zero: '(spend,)', missing: '(spend,)' });
    });
  });
});

describe('track record per recommendation type', () => {
  it('uses the 14-day horizon when measured, else the 7-day; medians and the shrunk factor by hand', async () => {
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      // Outcomes with chosen measurements (no metrics needed: the figures are set as measure_outcomes would).
      const set = async (id: string, f: { d7?: number; h7?: boolean; d14?: number | null; h14?: boolean; e14?: number }) =>
        c.query(
          `update ads_engine.recommendation_outcomes set
             did_7 = $2, direction_held_7 = $3, measured_at_7 = case when $3::boolean is null then null else now() end,
             did_14 = $4, direction_held_14 = $5, entity_change_14 = $6, measured_at_14 = case when $5::boolean is null then null else now() end
           where tenant_id = $1 and recommendation_id = $7`,
          [tenant, f.d7 === undefined ? null : Math.log(f.d7), f.h7 ?? null, f.d14 == null ? null : Math.log(f.d14), f.h14 ?? null, f.e14 ?? null, id],
        );
      const rec = (entity: string, type: string, current: number, recommended: number) =>
        insertRec(c, entity, { type, current, recommended, status: 'applied', appliedAt: `${APPLIED}T12:00:00Z` });

      // budget_decrease predicts -0.4 (100 -> 60). Realised exp(did) - 1 over -0.4:
      const b: string[] = [];
      for (const e of ['B1', 'B2', 'B3', 'B4', 'B5', 'B6', 'B7']) b.push(await rec(e, 'budget_decrease', 100, 60));
      await set(b[0]!, { d14: 0.5, h14: true }); // -0.5 / -0.4 = 1.25
      await set(b[1]!, { d14: 0.7, h14: true }); // 0.75
      await set(b[2]!, { d7: 0.9, h7: true, d14: 0.6, h14: true }); // 1.0 (the 14-day figure)
      await set(b[3]!, { d7: 0.8, h7: true, d14: 1.1, h14: false }); // -0.25, not held (the 14-day figure)
      await set(b[4]!, { d14: 0.8, h14: true }); // 0.5
      await set(b[5]!, { d7: 0.65, h7: true }); // 0.875 (only the 7-day horizon is measured)
      // b[6]: not measured, not counted.
      // creative predicts +0.5 (0.01 -> 0.015).
      const cr = [await rec('K1', 'creative', 0.01, 0.015), await rec('K2', 'creative', 0.01, 0.015)];
      await set(cr[0]!, { d14: 1.3, h14: true }); // 0.3 / 0.5 = 0.6
      await set(cr[1]!, { d7: 0.9, h7: false }); // -0.1 / 0.5 = -0.2
      // pause to zero: entity change -1, no log estimate: realised -1 over predicted -1.
      const pz = await rec('Q1', 'pause', 50, 0);
      await set(pz, { h14: true, e14: -1 });

      const r = await c.query('select * from ads_engine.track_record($1)', [tenant]);
      const rows = r.rows.map((x) => ({ ...x, direction_held_rate: Number(x.direction_held_rate), realised_over_predicted: Number(x.realised_over_predicted), confidence_factor: Number(x.confidence_factor) }));
      // budget_decrease: n = 6, held 5; ratios -0.25, 0.5, 0.75, 0.875, 1.0, 1.25: median (0.75 + 0.875) / 2 = 0.8125;
      // factor 0.5 + 0.5 (5 + 2) / (6 + 2) = 0.9375.
      expect(rows).toEqual([
        { recommendation_type: 'budget_decrease', measured: 6, direction_held_rate: 0.8333, realised_over_predicted: 0.8125, confidence_factor: 0.9375 },
        // creative: n = 2 < 5, factor 1; median of 0.6 and -0.2 = 0.2.
        { recommendation_type: 'creative', measured: 2, direction_held_rate: 0.5, realised_over_predicted: 0.2, confidence_factor: 1 },
        { recommendation_type: 'pause', measured: 1, direction_held_rate: 1, realised_over_predicted: 1, confidence_factor: 1 },
      ]);

      // Another tenant has no track record.
      await setTenant(c, other);
      expect((await c.query('select * from ads_engine.track_record($1)', [other])).rows).toEqual([]);
    });
  });
});

describe('the outcomes table and its trigger in the catalogue', () => {
  it('is a tenant table of ads_engine with forced row-level security, no DELETE for the app, and the trigger on applied', async () => {
    await rollback(app, async (c) => {
      const t = await c.query(
        `select c.relrowsecurity as rls, c.relforcerowsecurity as forced, obj_description(c.oid, 'pg_class') is not null as commented,
                (select array_agg(p.polname::text) from pg_policy p where p.polrelid = c.oid) as policies,
                has_table_privilege('aegis_app', c.oid, 'SELECT') as sel, has_table_privilege('aegis_app', c.oid, 'INSERT') as ins,
                has_table_privilege('aegis_app', c.oid, 'UPDATE') as upd, has_table_privilege('aegis_app', c.oid, 'DELETE') as del,
                (select array_agg(a.attname::text order by k.ord) from unnest(i.indkey) with ordinality k(attnum, ord)
                   join pg_attribute a on a.attrelid = c.oid and a.attnum = k.attnum) as pkey
         from pg_class c join pg_index i on i.indrelid = c.oid and i.indisprimary
         where c.oid = 'ads_engine.recommendation_outcomes'::regclass`,
      );
      expect(t.rows[0]).toEqual({
        rls: true, forced: true, commented: true, policies: ['tenant_isolation'], sel: true, ins: true, upd: true, del: false,
        pkey: ['tenant_id', 'recommendation_id'],
      });
      expect((await c.query(`select to_regclass('ads.recommendation_outcomes') as t`)).rows[0].t).toBeNull();
      const trg = await c.query(
        `select pg_get_triggerdef(t.oid) as def from pg_trigger t
         where t.tgrelid = 'ads.optimization_recommendations'::regclass and t.tgname = 'recommendation_outcome_on_apply'`,
      );
      expect(trg.rows[0].def).toMatch(/AFTER INSERT OR UPDATE OF status ON ads\.optimization_recommendations FOR EACH ROW WHEN \(\(new\.status = 'applied'::text\)\) EXECUTE FUNCTION ads_engine\.tg_record_prediction\(\)/);
      // No tenant set: the app role sees no outcome and may not write one.
      expect((await c.query('select count(*)::int as n from ads_engine.recommendation_outcomes')).rows[0].n).toBe(0);
      expect(await errorOf(c, 'select ads_engine.measure_outcomes($1, $2::date)', [tenant, AS_OF])).toMatch(/saas.tenant_id is not set/);
    });
  });
});
