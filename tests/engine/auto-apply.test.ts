// Auto-apply per type and its 24-hour undo (db/media_buying/092_auto_apply.sql):
// the guide's switch auto_apply_recommendations gates everything; each type
// follows its policy (budget changes up to a step, pauses never by default);
// what the loop applied is recorded and can be undone while nobody changed
// the budget since. The fixture is the planted budget and pause campaigns of
// recommendations.test.ts, on noisy negative-binomial series.
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTenant, errorOf, inTenant as committedIn, rollback, setTenant, tenantPair } from '../helpers/db';
import { configure, generate, load, series, setBudget, type Row } from './findings-data';
import { AS_OF, addDays } from './fixtures';

let app: pg.Pool;
let owner: pg.Pool;
let tenant: string;
let other: string;
beforeAll(async () => void ({ app, owner, tenant, other } = await tenantPair('Auto-apply')));

const D = AS_OF;
const from = addDays(D, -41);
const recent = (day: string) => day > addDays(D, -7) && day <= D;

// Dec: ROAS far under 0.8 x target 3 (decrease); Inc: ROAS far above 1.2 x 3 with spend at its budget (increase);
// Steady: nothing; P7: CPA 100 over the last 7 days against a pause line of 2 x 60 (pause).
const rows: Row[] = [
  ...series({ seed: 'rec-budget', id: 'Dec', from, to: D, spend: 1500, budget: 3000, cpa: (day) => 60 / (recent(day) ? 1.5 : 3.3) }),
  ...series({ seed: 'rec-budget', id: 'Inc', from, to: D, spend: 700, budget: 500, cpa: 10 }),
  ...series({ seed: 'rec-budget', id: 'Steady', from, to: D, spend: 500, budget: 1000, cpa: 20 }),
  ...series({ seed: 'rec-pause', id: 'P7', from, to: D, spend: 300, cpa: (day) => (recent(day) ? 250 : 30) }),
];

async function seed(c: pg.ClientBase, autoApply = true): Promise<void> {
  await load(c, tenant, rows);
  await configure(c, tenant, 'meta', { target_roas: 3, max_cpa: 60, auto_apply_recommendations: autoApply });
  for (const [id, b] of [['Dec', 3000], ['Inc', 500], ['Steady', 1000], ['P7', 400]] as const) await setBudget(c, tenant, 'meta', id, b);
}

async function inTenant<T>(fn: (c: pg.PoolClient) => Promise<T>, id = tenant): Promise<T> {
  return rollback(app, async (c) => {
    c.on('notice', () => undefined);
    await setTenant(c, id);
    return fn(c);
  });
}

interface RecRow {
  id: string;
  entity_id: string;
  recommendation_type: string;
  status: string;
  current_value: number;
  recommended_value: number;
  dismiss_reason: string | null;
}
const recs = async (c: pg.ClientBase): Promise<RecRow[]> =>
  (
    await c.query(
      `select id, entity_id, recommendation_type, status, current_value::float8, recommended_value::float8, dismiss_reason
       from ads.optimization_recommendations order by entity_id, recommendation_type`,
    )
  ).rows;
const budgets = async (c: pg.ClientBase) =>
  Object.fromEntries(
    (await c.query(`select campaign_id, daily_budget::float8 as b, recommended_budget::float8 as r, status from ads.budget_allocation`)).rows.map((x) => [
      x.campaign_id,
      { daily: x.b as number, recommended: x.r as number | null, status: x.status as string },
    ]),
  );
const step = (r: RecRow) => Math.abs(r.recommended_value / r.current_value - 1);
const policy = (c: pg.ClientBase, type: string, enabled: boolean, maxStep: number | null = null) =>
  c.query(`select ads_engine.set_auto_apply_policy($1, 'meta', $2, $3, $4, 'test')`, [tenant, type, enabled, maxStep]);

describe('which recommendations apply themselves', () => {
  it('off by the guide switch: everything waits for a buyer, whatever the policies say', async () => {
    await inTenant(async (c) => {
      await seed(c, false);
      await policy(c, 'pause', true);
      await generate(c, tenant, D);
      expect((await recs(c)).map((r) => `${r.entity_id}:${r.recommendation_type}:${r.status}`)).toEqual([
        'Dec:budget_decrease:pending',
        'Inc:budget_increase:pending',
        'P7:pause:pending',
      ]);
      expect((await c.query('select count(*)::int as n from ads_engine.auto_applications')).rows[0].n).toBe(0);
    });
  });

  it('the switch alone: every budget change applied and recorded for undo, the pause left to a buyer', async () => {
    await inTenant(async (c) => {
      await seed(c);
      await generate(c, tenant, D);
      const rs = await recs(c);
      expect(rs.map((r) => `${r.entity_id}:${r.status}`)).toEqual(['Dec:applied', 'Inc:applied', 'P7:pending']);
      const b = await budgets(c);
      expect(b.Dec!.daily).toBe(rs[0]!.recommended_value);
      expect(b.Inc!.daily).toBe(rs[1]!.recommended_value);
      expect(b.P7!.status).toBe('active');
      const aa = await c.query(
        `select r.entity_id, a.recommendation_type, (a.before->>'daily_budget')::float8 as before, (a.after->>'daily_budget')::float8 as after,
                (extract(epoch from a.undo_until - a.applied_at) / 3600)::float8 as hours, a.applied_at = r.applied_at as same_time
         from ads_engine.auto_applications a join ads.optimization_recommendations r on r.id = a.recommendation_id order by 1`,
      );
      expect(aa.rows).toEqual([
        { entity_id: 'Dec', recommendation_type: 'budget_decrease', before: 3000, after: rs[0]!.recommended_value, hours: 24, same_time: true },
        { entity_id: 'Inc', recommendation_type: 'budget_increase', before: 500, after: rs[1]!.recommended_value, hours: 24, same_time: true },
      ]);
    });
  });

  it('a step limit splits the budget changes by the size of their step; a pause applies once its policy allows it', async () => {
    // The steps the engine proposes on this data, from a run without auto-apply.
    const steps = await inTenant(async (c) => {
      await seed(c, false);
      await generate(c, tenant, D);
      return Object.fromEntries((await recs(c)).filter((r) => r.recommendation_type !== 'pause').map((r) => [r.entity_id, step(r)]));
    });
    expect(steps.Dec).not.toBeCloseTo(steps.Inc!, 2);
    const limit = (steps.Dec! + steps.Inc!) / 2;
    const small = steps.Dec! < steps.Inc! ? 'Dec' : 'Inc';
    const large = small === 'Dec' ? 'Inc' : 'Dec';
    await inTenant(async (c) => {
      await seed(c);
      await policy(c, 'budget_increase', true, Math.floor(limit * 1000) / 1000);
      await policy(c, 'budget_decrease', true, Math.floor(limit * 1000) / 1000);
      await policy(c, 'pause', true);
      await generate(c, tenant, D);
      const status = Object.fromEntries((await recs(c)).map((r) => [r.entity_id, r.status]));
      expect(status).toEqual({ [small]: 'applied', [large]: 'pending', P7: 'applied' });
      const b = await budgets(c);
      expect(b.P7!.status).toBe('paused');
      expect(b[large]!.daily).toBe(large === 'Dec' ? 3000 : 500);
      const audit = await c.query(
        `select actor_label, after->>'campaign_id' as campaign, before->>'status' as before, after->>'status' as after
         from saas.audit_log where action = 'recommendation.auto_apply' and after ? 'status'`,
      );
      expect(audit.rows).toEqual([{ actor_label: 'optimizer', campaign: 'P7', before: 'active', after: 'paused' }]);
    });
  });

  it('a type turned off stays pending; a pause without an active budget to mark waits for a buyer', async () => {
    await inTenant(async (c) => {
      await seed(c);
      await policy(c, 'budget_increase', false);
      await policy(c, 'pause', true);
      await c.query(`update ads.budget_allocation set status = 'ended' where campaign_id = 'P7'`);
      await generate(c, tenant, D);
      expect(Object.fromEntries((await recs(c)).map((r) => [r.entity_id, r.status]))).toEqual({ Dec: 'applied', Inc: 'pending', P7: 'pending' });
    });
  });
});

describe('the policies', () => {
  it('reads the defaults, then what was set, audited with before and after', async () => {
    await inTenant(async (c) => {
      await seed(c);
      const read = async () =>
        (await c.query(`select recommendation_type, switched_on, enabled, max_step::float8, is_default from ads_engine.auto_apply_policy($1) where platform = 'meta'`, [tenant]))
          .rows;
      expect(await read()).toEqual([
        { recommendation_type: 'budget_decrease', switched_on: true, enabled: true, max_step: 1, is_default: true },
        { recommendation_type: 'budget_increase', switched_on: true, enabled: true, max_step: 1, is_default: true },
        { recommendation_type: 'pause', switched_on: true, enabled: false, max_step: null, is_default: true },
      ]);
      await policy(c, 'budget_increase', true, 0.2);
      await policy(c, 'budget_increase', true, 0.15);
      expect((await read())[1]).toEqual({ recommendation_type: 'budget_increase', switched_on: true, enabled: true, max_step: 0.15, is_default: false });
      const audit = await c.query(`select actor_label, entity_id, before, after from saas.audit_log where action = 'auto_apply.policy' order by id`);
      expect(audit.rows).toEqual([
        { actor_label: 'test', entity_id: 'meta:budget_increase', before: null, after: { enabled: true, max_step: 0.2 } },
        { actor_label: 'test', entity_id: 'meta:budget_increase', before: { enabled: true, max_step: 0.2 }, after: { enabled: true, max_step: 0.15 } },
      ]);
    });
  });

  it('refuses what cannot be applied or measured, naming the argument, and changes nothing', async () => {
    await inTenant(async (c) => {
      const bad: [string, boolean | null, number | null, RegExp][] = [
        ['bid_adjustment', true, null, /recommendation_type must be budget_increase, budget_decrease or pause/],
        ['budget_increase', true, 0, /max_step must be above 0 and at most 1/],
        ['budget_increase', true, 1.5, /max_step must be above 0 and at most 1/],
        ['budget_increase', true, -0.1, /max_step must be above 0/],
        ['pause', true, 0.2, /max_step applies to budget changes only/],
        ['pause', null, null, /enabled must not be NULL/],
      ];
      for (const [type, enabled, maxStep, msg] of bad) {
        expect(await errorOf(c, `select ads_engine.set_auto_apply_policy($1, 'meta', $2, $3, $4)`, [tenant, type, enabled, maxStep])).toMatch(msg);
      }
      expect(await errorOf(c, `select ads_engine.set_auto_apply_policy($1, 'meta', 'pause', true)`, [other])).toMatch(/tenant/);
      expect((await c.query('select count(*)::int as n from ads_engine.auto_apply_policies')).rows[0].n).toBe(0);
      expect((await c.query(`select count(*)::int as n from saas.audit_log where action = 'auto_apply.policy'`)).rows[0].n).toBe(0);
    });
  });
});

describe('undo within 24 hours', () => {
  const undo = (c: pg.ClientBase, id: string) => c.query(`select ads_engine.undo_auto_apply($1, $2, 'test') as r`, [tenant, id]);
  const idOf = async (c: pg.ClientBase, entity: string) => (await recs(c)).find((r) => r.entity_id === entity)!.id;

  it('sets the budget back, dismisses the recommendation, leaves its outcome unmeasured, audits; the engine does not propose it again at once', async () => {
    await inTenant(async (c) => {
      await seed(c);
      await generate(c, tenant, D);
      const id = await idOf(c, 'Inc');
      const before = await budgets(c);
      expect((await c.query('select count(*)::int as n from ads_engine.recommendation_outcomes where recommendation_id = $1', [id])).rows[0].n).toBe(1);
      const r = (await undo(c, id)).rows[0].r;
      expect(r).toMatchObject({ recommendation_type: 'budget_increase', campaign_id: 'Inc', before: { daily_budget: before.Inc!.daily }, after: { daily_budget: 500 } });
      const after = await budgets(c);
      // the engine's recommended budget stays what it recommends; the budget is the buyer's again
      expect(after.Inc).toEqual({ daily: 500, recommended: before.Inc!.recommended, status: 'active' });
      expect(after.Dec).toEqual(before.Dec);
      const rec = (await recs(c)).find((x) => x.id === id)!;
      expect(rec.status).toBe('dismissed');
      expect(rec.dismiss_reason).toBe(`Undone: the daily budget was set back from ${before.Inc!.daily.toFixed(2)} to 500.00`);
      // its outcome is no longer measured, however late
      await c.query(`update ads_engine.recommendation_outcomes set applied_day = $2::date - 20, pre_from = $2::date - 27, pre_to = $2::date - 21 where recommendation_id = $1`, [id, D]);
      expect((await c.query(`select ads_engine.measure_outcomes($1, $2::date) as n`, [tenant, D])).rows[0].n).toBe(0);
      const audit = await c.query(`select actor_label, (before->>'daily_budget')::float8 as b, (after->>'daily_budget')::float8 as a from saas.audit_log where action = 'recommendation.undo'`);
      expect(audit.rows).toEqual([{ actor_label: 'test', b: before.Inc!.daily, a: 500 }]);
      // dismissed by the undo: 7 days before the same advice comes back
      expect(await generate(c, tenant, D)).toBe(0);
      expect((await budgets(c)).Inc!.daily).toBe(500);
    });
  });

  it('a pause undone puts the budget back to active', async () => {
    await inTenant(async (c) => {
      await seed(c);
      await policy(c, 'pause', true);
      await generate(c, tenant, D);
      expect((await budgets(c)).P7!.status).toBe('paused');
      await undo(c, await idOf(c, 'P7'));
      expect((await budgets(c)).P7).toEqual({ daily: 400, recommended: null, status: 'active' });
    });
  });

  it('refuses twice, past 24 hours, after a buyer changed the budget, for a manual approval and for another tenant; nothing changes', async () => {
    await inTenant(async (c) => {
      await seed(c);
      await generate(c, tenant, D);
      const inc = await idOf(c, 'Inc');
      const dec = await idOf(c, 'Dec');
      await undo(c, inc);
      const snapshot = await budgets(c);
      expect(await errorOf(c, `select ads_engine.undo_auto_apply($1, $2)`, [tenant, inc])).toMatch(/^Already undone at \d{4}-\d\d-\d\d \d\d:\d\d UTC$/);

      await c.query(`update ads.budget_allocation set daily_budget = 2500 where campaign_id = 'Dec'`);
      expect(await errorOf(c, `select ads_engine.undo_auto_apply($1, $2)`, [tenant, dec])).toMatch(
        /^The daily budget of Dec is 2500\.00 now, changed since the optimiser set it to [\d.]+: undo would overwrite that change$/,
      );
      expect(await budgets(c)).toEqual({ ...snapshot, Dec: { ...snapshot.Dec!, daily: 2500 } });
      // Past 24 hours: tests/recommendations/auto-apply-actions.test.ts, on committed rows the owner ages. The app role
      // cannot stretch the window or plant a change: it may only read the record.
      expect(await errorOf(c, `update ads_engine.auto_applications set undo_until = now() + interval '10 years' where recommendation_id = $1`, [dec])).toMatch(/permission denied/);
      expect(
        await errorOf(c, `insert into ads_engine.auto_applications (tenant_id, recommendation_id, recommendation_type, platform, campaign_id, budget_id, undo_until, before, after)
                          select tenant_id, id, 'pause', platform, entity_id, gen_random_uuid(), now() + interval '1 day', '{}', '{}' from ads.optimization_recommendations where entity_id = 'P7'`),
      ).toMatch(/permission denied/);
      // and the definer records only what the optimiser applied in this transaction, not a buyer's approval
      expect((await c.query(`select ads_engine.record_auto_application($1, $2) as r`, [tenant, await idOf(c, 'P7')])).rows[0].r).toBe(false);

      const pause = await idOf(c, 'P7');
      expect(await errorOf(c, `select ads_engine.undo_auto_apply($1, $2)`, [tenant, pause])).toMatch(/was not applied automatically in this tenant/);
    });
    // Another tenant's id: as that tenant, not found; as this one, the other tenant is refused outright.
    await inTenant(async (c) => {
      await seed(c);
      await generate(c, tenant, D);
      const id = await idOf(c, 'Inc');
      await setTenant(c, other);
      expect(await errorOf(c, `select ads_engine.undo_auto_apply($1, $2)`, [other, id])).toMatch(/was not applied automatically in this tenant/);
      expect(await errorOf(c, `select ads_engine.undo_auto_apply($1, $2)`, [tenant, id])).toMatch(/tenant/);
      await setTenant(c, tenant);
      expect((await budgets(c)).Inc!.daily).toBeGreaterThan(500);
    });
  });

  it('two undos at once on two real connections: one wins, the other is told, one audit row', async () => {
    // committed data in a tenant of its own (the database is a throwaway one)
    const t = await createTenant(owner, 'Auto-apply race');
    const committed = <T>(fn: (c: pg.PoolClient) => Promise<T>) => committedIn(app, t, fn);
    const id = await committed(async (c) => {
      c.on('notice', () => undefined);
      await load(c, t, rows);
      await configure(c, t, 'meta', { target_roas: 3, max_cpa: 60, auto_apply_recommendations: true });
      for (const [e, b] of [['Dec', 3000], ['Inc', 500]] as const) await setBudget(c, t, 'meta', e, b);
      await generate(c, t, D);
      return (await c.query(`select id from ads.optimization_recommendations where entity_id = 'Inc' and status = 'applied'`)).rows[0].id as string;
    });
    const [a, b] = [await app.connect(), await app.connect()];
    try {
      for (const x of [a, b]) {
        await x.query('begin');
        await setTenant(x, t);
      }
      await a.query(`select ads_engine.undo_auto_apply($1, $2)`, [t, id]);
      // b waits on a's lock, then reads the row a committed
      const second = b.query(`select ads_engine.undo_auto_apply($1, $2)`, [t, id]).then(
        () => null,
        (e: Error) => e.message,
      );
      await a.query('commit');
      expect(await second).toMatch(/^Already undone at \d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
      await b.query('rollback');
    } finally {
      a.release();
      b.release();
    }
    await committed(async (c) => {
      expect((await c.query(`select count(*)::int as n from saas.audit_log where action = 'recommendation.undo'`)).rows[0].n).toBe(1);
      expect((await c.query(`select daily_budget::float8 as b from ads.budget_allocation where campaign_id = 'Inc'`)).rows[0].b).toBe(500);
    });
  });
});
