// The daily loop from TypeScript: one transaction per tenant, idempotent,
// a failing tenant logged and isolated; the scheduler's view of who is due;
// the guide's maintenance; the UI entry point. These tests commit (the loop
// opens its own transactions), each on tenants of its own.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDb, type DbHandle } from '../../lib/db/pool';
import { formatResult, listTenants, runAllTenants, runDailyLoop } from '../../lib/engine/loop';
import { appPool, createTenant, errorOf, ownerPool, rollback, setTenant } from '../helpers/db';
import { AS_OF, addDays, daily, insertMetrics, type MetricRow } from './fixtures';

let owner: pg.Pool;
let app: pg.Pool;
let handle: DbHandle;

beforeAll(async () => {
  owner = ownerPool();
  app = appPool();
  handle = createDb(inject('appUrl'), { max: 2 });
});

afterAll(async () => {
  await handle.db.destroy();
});

/** Committed data for a tenant: a steady campaign, a capped winner with a budget, and a tracking loss on D. */
async function seedTenant(name: string): Promise<string> {
  const t = await createTenant(owner, name);
  const rows: MetricRow[] = [
    ...daily(addDays(AS_OF, -56), AS_OF, () => ({ id: 'steady', spend: 100, impressions: 20000, clicks: 200, conversions: 10, value: 300 })),
    ...daily(addDays(AS_OF, -56), AS_OF, () => ({ id: 'winner', spend: 99, impressions: 19800, clicks: 198, conversions: 10, value: 600 })),
    ...daily(addDays(AS_OF, -56), AS_OF, (day) => ({ id: 'lost', spend: 300, impressions: 60000, clicks: 600, conversions: day === AS_OF ? 0 : 20, value: day === AS_OF ? 0 : 600 })),
  ];
  const c = await owner.connect();
  try {
    await c.query('begin');
    await setTenant(c, t);
    await insertMetrics(c, t, rows);
    await c.query(`insert into ads.budget_allocation (tenant_id, platform, campaign_id, daily_budget) values ($1, 'meta', 'winner', 100)`, [t]);
    await c.query(`insert into ads.platform_configs (tenant_id, platform, target_roas) values ($1, 'meta', 3)`, [t]);
    await c.query('commit');
  } finally {
    c.release();
  }
  return t;
}

async function countAs(tenant: string, sqlText: string): Promise<number> {
  return rollback(app, async (c) => {
    await setTenant(c, tenant);
    return (await c.query(sqlText)).rows[0].n as number;
  });
}

describe('runDailyLoop / runAllTenants', () => {
  it('runs every step in one tenant transaction; a second run creates nothing new', async () => {
    const t = await seedTenant('Loop tenant');
    const first = await runDailyLoop(handle.db, t, { asOf: AS_OF, trigger: 'cli' });
    // meta / campaign x 5 windows; 3 campaigns analysed; the winner's budget_increase; the tracking loss.
    expect(first).toMatchObject({ as_of: AS_OF, baselines: 5, campaigns_analyzed: 3, anomalies: 1 });
    expect(first.recommendations).toBeGreaterThanOrEqual(1);
    const second = await runDailyLoop(handle.db, t, { asOf: AS_OF, trigger: 'cli' });
    expect(second).toMatchObject({ baselines: 5, campaigns_analyzed: 3, recommendations: 0, anomalies: 0 });
    expect(await countAs(t, `select count(*)::int as n from ads.optimization_recommendations where recommendation_type = 'budget_increase' and entity_id = 'winner'`)).toBe(1);
    expect(await countAs(t, `select count(*)::int as n from ads.anomalies where anomaly_type = 'tracking_loss' and entity_id = 'lost'`)).toBe(1);
    expect(await countAs(t, `select count(*)::int as n from ads_engine.optimizer_runs where status = 'success' and trigger = 'cli'`)).toBe(2);
    expect(formatResult({ tenantId: t, ok: true, summary: second, ms: 5 })).toMatch(/ok {2}as of 2025-03-31: 5 baselines, 3 campaigns analysed, 0 new recommendations, 0 new anomalies/);
  });

  it("one tenant's failure is logged, changes nothing for it, and does not stop the others", async () => {
    const bad = await seedTenant('Failing tenant');
    const good = await seedTenant('Healthy tenant');
    // A planted failure for one tenant only: a trigger that refuses its baselines.
    await owner.query(`create or replace function public.engine_test_fail() returns trigger language plpgsql as $$
      begin if new.tenant_id = '${bad}' then raise exception 'planted failure for the test'; end if; return new; end $$`);
    await owner.query(`create trigger engine_test_fail before insert on ads.baselines for each row execute function public.engine_test_fail()`);
    try {
      const seen: string[] = [];
      const results = await runAllTenants(handle.db, { tenantIds: [bad, good], asOf: AS_OF, trigger: 'cli', onResult: (r) => seen.push(r.tenantId) });
      expect(seen).toEqual([bad, good]);
      expect(results[0]).toMatchObject({ tenantId: bad, ok: false, error: 'planted failure for the test' });
      expect(results[1]).toMatchObject({ tenantId: good, ok: true });
      expect(formatResult(results[0]!)).toMatch(/FAILED {2}planted failure for the test/);
    } finally {
      await owner.query('drop trigger engine_test_fail on ads.baselines');
      await owner.query('drop function public.engine_test_fail()');
    }
    // The failed tenant: nothing half-done, one error logged.
    expect(await countAs(bad, 'select count(*)::int as n from ads.baselines')).toBe(0);
    expect(await countAs(bad, 'select count(*)::int as n from ads.campaign_performance')).toBe(0);
    const log = await rollback(app, async (c) => {
      await setTenant(c, bad);
      return (await c.query(`select status, trigger, as_of::text, error from ads_engine.optimizer_runs`)).rows;
    });
    expect(log).toEqual([{ status: 'error', trigger: 'cli', as_of: AS_OF, error: 'planted failure for the test' }]);
    expect(await countAs(good, 'select count(*)::int as n from ads.baselines')).toBe(5);
  });

  it('refuses bad input before touching the database', async () => {
    await expect(runDailyLoop(handle.db, 'not-a-uuid')).rejects.toThrow(/tenantId must be a uuid/);
    await expect(runDailyLoop(handle.db, randomUUID(), { asOf: '31/03/2025' })).rejects.toThrow(/asOf must be a day/);
    await expect(runAllTenants(handle.db, { tenantIds: ['x'] })).rejects.toThrow(/not a tenant id: x/);
    const missing = randomUUID();
    await expect(runDailyLoop(handle.db, missing, { asOf: AS_OF })).rejects.toThrow(`tenant ${missing} does not exist`);
    await rollback(app, async (c) => {
      await setTenant(c, null);
      expect(await errorOf(c, `select ads_engine.run_daily_loop($1, $2::date, 'cron')`, [await createTenant(owner, 'Trigger check'), AS_OF])).toBe(
        'trigger must be schedule, manual or cli (got cron)',
      );
    });
  });
});

describe('ads_engine.tenants_due (the scheduler)', () => {
  const now = new Date('2025-04-01T12:00:00Z');
  const hoursAgo = (h: number) => new Date(now.getTime() - h * 3600e3).toISOString();

  async function tenantWith(name: string, frequency: string | null, runs: { hoursAgo: number; status: 'success' | 'error'; asOf: string }[]) {
    const t = await createTenant(owner, name);
    if (frequency) await owner.query(`insert into ads.platform_configs (tenant_id, platform, optimization_frequency) values ($1, 'meta', $2)`, [t, frequency]);
    for (const r of runs) {
      await owner.query(`insert into ads_engine.optimizer_runs (tenant_id, trigger, as_of, started_at, status) values ($1, 'schedule', $2, $3, $4)`, [
        t,
        r.asOf,
        hoursAgo(r.hoursAgo),
        r.status,
      ]);
    }
    return t;
  }

  it('honours each tenant optimization_frequency', async () => {
    const cases = {
      dailyDone: await tenantWith('daily, yesterday done', null, [{ hoursAgo: 6, status: 'success', asOf: '2025-03-31' }]),
      dailyDue: await tenantWith('daily, yesterday not done', 'daily', [{ hoursAgo: 26, status: 'success', asOf: '2025-03-30' }]),
      dailyNever: await tenantWith('daily, never run', 'daily', []),
      dailyBackoff: await tenantWith('daily, failed 10 min ago', 'daily', [{ hoursAgo: 1 / 6, status: 'error', asOf: '2025-03-31' }]),
      hourlyRecent: await tenantWith('hourly, ran 30 min ago', 'hourly', [{ hoursAgo: 0.5, status: 'success', asOf: '2025-03-31' }]),
      hourlyDue: await tenantWith('hourly, ran 2 h ago', 'hourly', [{ hoursAgo: 2, status: 'success', asOf: '2025-03-31' }]),
      weeklyRecent: await tenantWith('weekly, 3 days ago', 'weekly', [{ hoursAgo: 72, status: 'success', asOf: '2025-03-28' }]),
      weeklyDue: await tenantWith('weekly, 8 days ago', 'weekly', [{ hoursAgo: 192, status: 'success', asOf: '2025-03-23' }]),
      manual: await tenantWith('manual', 'manual', []),
    };
    // The most frequent schedule of a tenant's platforms wins.
    await owner.query(`insert into ads.platform_configs (tenant_id, platform, optimization_frequency) values ($1, 'google', 'hourly')`, [cases.weeklyRecent]);

    const due = new Map((await listTenants(handle.db, { now })).map((t) => [t.tenantId, t]));
    const isDue = (id: string) => due.has(id);
    expect(isDue(cases.dailyDone)).toBe(false);
    expect(isDue(cases.dailyDue)).toBe(true);
    expect(isDue(cases.dailyNever)).toBe(true);
    expect(isDue(cases.dailyBackoff)).toBe(false);
    expect(isDue(cases.hourlyRecent)).toBe(false);
    expect(isDue(cases.hourlyDue)).toBe(true);
    expect(isDue(cases.weeklyRecent)).toBe(true); // hourly on google
    expect(due.get(cases.weeklyRecent)!.frequency).toBe('hourly');
    expect(isDue(cases.weeklyDue)).toBe(true);
    expect(isDue(cases.manual)).toBe(false);

    const all = new Map((await listTenants(handle.db, { now, all: true })).map((t) => [t.tenantId, t]));
    expect(all.get(cases.manual)).toMatchObject({ frequency: 'manual', due: false, lastRunAt: null });
    expect(all.get(cases.dailyDone)).toMatchObject({ frequency: 'daily', due: false });
  });

  it('is for the scheduler only: refused inside a tenant transaction, and leaves no cross-tenant access behind', async () => {
    const t = await createTenant(owner, 'Scheduler check');
    await rollback(app, async (c) => {
      await setTenant(c, t);
      expect(await errorOf(c, 'select * from ads_engine.tenants_due()')).toMatch(/call it outside a tenant transaction/);
    });
    await rollback(app, async (c) => {
      const r = await c.query('select count(*)::int as n from ads_engine.tenants_due(now(), true)');
      expect(r.rows[0].n).toBeGreaterThan(0);
      // The app role sees no tenant afterwards, even with the scope variable set by hand.
      await c.query(`select set_config('ads_engine.scope', 'all_tenants', true)`);
      expect((await c.query('select 1 from saas.tenants')).rowCount).toBe(0);
      expect((await c.query('select 1 from ads.platform_configs')).rowCount).toBe(0);
    });
  });
});

describe('maintenance', () => {
  it('expires pending recommendations past expires_at, deletes resolved anomalies older than 30 days, completes finished A/B tests', async () => {
    const t = await createTenant(owner, 'Maintenance');
    await rollback(app, async (c) => {
      await setTenant(c, t);
      await c.query(`insert into ads.optimization_recommendations (tenant_id, platform, entity_id, recommendation_type, description, expires_at)
                     values ($1, 'meta', 'a', 'pause', 'old', now() - interval '1 hour'), ($1, 'meta', 'b', 'pause', 'fresh', now() + interval '1 day')`, [t]);
      await c.query(`insert into ads.anomalies (tenant_id, platform, entity_id, day, metric_name, anomaly_type, status, resolved_at)
                     values ($1, 'meta', 'a', current_date - 40, 'spend', 'spike', 'resolved', now() - interval '31 days'),
                            ($1, 'meta', 'b', current_date - 10, 'spend', 'spike', 'resolved', now() - interval '5 days'),
                            ($1, 'meta', 'c', current_date - 40, 'spend', 'spike', 'active', null)`, [t]);
      await c.query(`insert into ads.ab_tests (tenant_id, test_name, status, start_date, end_date)
                     values ($1, 'over', 'running', current_date - 30, current_date - 1), ($1, 'ongoing', 'running', current_date - 3, current_date + 3),
                            ($1, 'ends today', 'running', current_date - 3, current_date)`, [t]);
      const r = (await c.query('select ads_engine.run_maintenance($1) as m', [t])).rows[0].m;
      expect(r).toEqual({ recommendations_expired: 1, anomalies_deleted: 1, ab_tests_completed: 1 });
      expect((await c.query('select description, status from ads.optimization_recommendations order by 1')).rows).toEqual([
        { description: 'fresh', status: 'pending' },
        { description: 'old', status: 'expired' },
      ]);
      expect((await c.query('select entity_id from ads.anomalies order by 1')).rows.map((x) => x.entity_id)).toEqual(['b', 'c']);
      expect((await c.query('select test_name, status from ads.ab_tests order by 1')).rows).toEqual([
        { test_name: 'ends today', status: 'running' },
        { test_name: 'ongoing', status: 'running' },
        { test_name: 'over', status: 'completed' },
      ]);
      expect((await c.query('select ads_engine.run_maintenance($1) as m', [t])).rows[0].m).toEqual({
        recommendations_expired: 0,
        anomalies_deleted: 0,
        ab_tests_completed: 0,
      });
    });
  });
});

describe('runOptimizerForTenant (the UI entry point)', () => {
  const saved = process.env.DATABASE_URL;
  afterAll(async () => {
    const { appDb } = await import('../../lib/db/pool');
    await appDb().pool.end();
    if (saved === undefined) delete process.env.DATABASE_URL;
    else process.env.DATABASE_URL = saved;
  });

  it('runs the loop for the tenant as the signed-in user and answers plainly', async () => {
    process.env.DATABASE_URL = inject('appUrl');
    const { runOptimizerForTenant } = await import('../../lib/engine/actions-core');
    const t = await seedTenant('UI tenant');
    const user = randomUUID();
    const r = await runOptimizerForTenant(t, user);
    expect(r.ok).toBe(true);
    const runs = await rollback(app, async (c) => {
      await setTenant(c, t);
      return (await c.query('select trigger, requested_by, status from ads_engine.optimizer_runs')).rows;
    });
    expect(runs).toEqual([{ trigger: 'manual', requested_by: user, status: 'success' }]);
    expect(await runOptimizerForTenant('nope', user)).toEqual({ ok: false, message: 'Unknown tenant.' });
    const failed = await runOptimizerForTenant(randomUUID(), user);
    expect(failed.ok).toBe(false);
  });
});
