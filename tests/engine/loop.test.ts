// The daily loop from TypeScript: one transaction per tenant, idempotent,
// a failing tenant logged and isolated; the scheduler's view of who is due
// (read over the owner's connection: the app role may not list tenants);
// the guide's maintenance. These tests commit (the loop opens its own
// transactions), each on tenants of its own.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDb, type DbHandle } from '../../lib/db/pool';
import { formatResult, LIST_NEEDS_OWNER, listTenants, runAllTenants, runDailyLoop } from '../../lib/engine/loop';
import { appPool, createTenant, errorOf, ownerPool, rollback, setTenant } from '../helpers/db';
import { AS_OF, addDays, daily, insertMetrics, type MetricRow } from './fixtures';

let owner: pg.Pool;
let app: pg.Pool;
let handle: DbHandle;
let ownerHandle: DbHandle;

beforeAll(async () => {
  owner = ownerPool();
  app = appPool();
  handle = createDb(inject('appUrl'), { max: 2 });
  ownerHandle = createDb(inject('ownerUrl'), { max: 1 });
});

afterAll(async () => {
  await handle.db.destroy();
  await ownerHandle.db.destroy();
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
    expect(first).toMatchObject({ as_of: AS_OF, data_arrived: true, baselines: 5, campaigns_analyzed: 3, anomalies: 1 });
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
    // Every tenant needs the owner's connection to list them.
    await expect(runAllTenants(handle.db, {})).rejects.toThrow(LIST_NEEDS_OWNER);
    await expect(runAllTenants(handle.db, { listDb: handle.db })).rejects.toThrow(/permission denied for function tenants_due/);
    const missing = randomUUID();
    await expect(runDailyLoop(handle.db, missing, { asOf: AS_OF })).rejects.toThrow(`tenant ${missing} does not exist`);
    const checked = await createTenant(owner, 'Trigger check');
    await rollback(app, async (c) => {
      await setTenant(c, checked);
      expect(await errorOf(c, `select ads_engine.run_daily_loop($1, $2::date, 'cron')`, [checked, AS_OF])).toBe(
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

    // 12:00 UTC: these UTC tenants are past the noon grace, so none waits for data here (see below).
    const due = new Map((await listTenants(ownerHandle.db, { now })).map((t) => [t.tenantId, t]));
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

    const all = new Map((await listTenants(ownerHandle.db, { now, all: true })).map((t) => [t.tenantId, t]));
    expect(all.get(cases.manual)).toMatchObject({ frequency: 'manual', due: false, lastRunAt: null, asOf: '2025-03-31', dataArrived: false });
    expect(all.get(cases.dailyDone)).toMatchObject({ frequency: 'daily', due: false });
  });

  it('waits for the day\'s data until noon in the tenant\'s time zone, and runs a day again when its data arrives late', async () => {
    const early = new Date('2025-04-01T06:00:00Z'); // 06:00 in UTC: yesterday is 2025-03-31
    const metricsOn = async (t: string, day: string) =>
      owner.query(`insert into ads.metrics_daily (tenant_id, platform, level, platform_id, day, spend) values ($1, 'meta', 'campaign', 'c', $2, 10)`, [t, day]);
    const run = async (t: string, hoursAgoAt: number, asOf: string, summary: object) =>
      owner.query(`insert into ads_engine.optimizer_runs (tenant_id, trigger, as_of, started_at, status, summary) values ($1, 'schedule', $2, $3, 'success', $4)`, [
        t,
        asOf,
        new Date(early.getTime() - hoursAgoAt * 3600e3).toISOString(),
        JSON.stringify(summary),
      ]);
    const waiting = await createTenant(owner, 'no data for yesterday yet');
    await run(waiting, 24, '2025-03-30', { data_arrived: true });
    const ready = await createTenant(owner, 'yesterday loaded');
    await run(ready, 24, '2025-03-30', { data_arrived: true });
    await metricsOn(ready, '2025-03-31');
    const late = await createTenant(owner, 'ran without data, data arrived since');
    await run(late, 3, '2025-03-31', { data_arrived: false });
    await metricsOn(late, '2025-03-31');
    const complete = await createTenant(owner, 'ran with data');
    await run(complete, 3, '2025-03-31', { data_arrived: true });
    await metricsOn(complete, '2025-03-31');
    const stillMissing = await createTenant(owner, 'ran without data, still none');
    await run(stillMissing, 3, '2025-03-31', { data_arrived: false });
    // Los Angeles (UTC-7 in April): at 06:00 UTC it is 23:00 on the 31st there, so yesterday is the 30th, done.
    const la = await createTenant(owner, 'Los Angeles');
    await owner.query(`update saas.tenants set timezone = 'America/Los_Angeles' where id = $1`, [la]);
    await run(la, 20, '2025-03-30', { data_arrived: true });
    await metricsOn(la, '2025-03-30');
    // Kiritimati (UTC+14): 20:00 on April 1st there, past its noon: due for the 31st without data.
    const kiri = await createTenant(owner, 'Kiritimati');
    await owner.query(`update saas.tenants set timezone = 'Pacific/Kiritimati' where id = $1`, [kiri]);

    const at = async (now: Date, graceHours?: number) =>
      new Map((await listTenants(ownerHandle.db, { now, all: true, graceHours })).map((t) => [t.tenantId, t]));
    const d = await at(early);
    expect(d.get(waiting)).toMatchObject({ due: false, asOf: '2025-03-31', dataArrived: false });
    expect(d.get(ready)).toMatchObject({ due: true, asOf: '2025-03-31', dataArrived: true });
    expect(d.get(late)).toMatchObject({ due: true, dataArrived: true });
    expect(d.get(complete)).toMatchObject({ due: false });
    expect(d.get(stillMissing)).toMatchObject({ due: false });
    expect(d.get(la)).toMatchObject({ due: false, asOf: '2025-03-30' });
    expect(d.get(kiri)).toMatchObject({ due: true, asOf: '2025-03-31', dataArrived: false });
    // At noon UTC the grace is over: the waiting tenant runs anyway (and its run records data_arrived = false).
    const noon = await at(new Date('2025-04-01T12:00:00Z'));
    expect(noon.get(waiting)).toMatchObject({ due: true, dataArrived: false });
    expect(noon.get(stillMissing)).toMatchObject({ due: false });
    // The grace is configurable: 4 hours after midnight.
    expect((await at(early, 4)).get(waiting)).toMatchObject({ due: true });
    await expect(listTenants(ownerHandle.db, { now: early, graceHours: 25 })).rejects.toThrow(/graceHours must be between 0 and 24/);
  });

  it('is for the scheduler only: the app role may not call it; refused inside a tenant transaction; no cross-tenant access left behind', async () => {
    const t = await createTenant(owner, 'Scheduler check');
    await rollback(app, async (c) => {
      expect(await errorOf(c, 'select * from ads_engine.tenants_due(now(), true)')).toBe('permission denied for function tenants_due');
      await setTenant(c, t);
      expect(await errorOf(c, 'select * from ads_engine.tenants_due()')).toBe('permission denied for function tenants_due');
    });
    await rollback(owner, async (c) => {
      await setTenant(c, t);
      expect(await errorOf(c, 'select * from ads_engine.tenants_due()')).toMatch(/call it outside a tenant transaction/);
    });
    await rollback(owner, async (c) => {
      const r = await c.query('select count(*)::int as n from ads_engine.tenants_due(now(), true)');
      expect(r.rows[0].n).toBeGreaterThan(0);
      expect((await c.query(`select current_setting('ads_engine.scope', true) as s`)).rows[0].s).toBe('');
    });
    await rollback(app, async (c) => {
      // The app role sees no tenant, even with the scope variable set by hand.
      await c.query(`select set_config('ads_engine.scope', 'all_tenants', true)`);
      expect((await c.query('select 1 from saas.tenants')).rowCount).toBe(0);
      expect((await c.query('select 1 from ads.platform_configs')).rowCount).toBe(0);
      expect((await c.query('select 1 from ads.metrics_daily')).rowCount).toBe(0);
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
      // Days in the tenant's calendar (UTC here): its yesterday y, its today y + 1.
      await c.query(`insert into ads.ab_tests (tenant_id, test_name, status, start_date, end_date)
                     select $1, n, 'running', y - 30, y + e
                     from (select ads_engine.tenant_yesterday($1) as y) d,
                          (values ('over', 0), ('ongoing', 4), ('ends today', 1)) v(n, e)`, [t]);
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
