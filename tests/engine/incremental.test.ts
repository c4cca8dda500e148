// The daily loop's second pass: with nothing new since the last pass for the
// same day it creates and changes nothing and says it skipped; each kind of
// change it reads makes the next pass redo the work; what is due with time
// alone (expiries, A/B end dates, cooldowns, outcome measurements) still
// happens. These tests commit (the loop opens its own transactions), each on
// a tenant of its own.
import type pg from 'pg';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDb, withTenant, type DbHandle } from '../../lib/db/pool';
import { loopInTransaction, runDailyLoop, type LoopSummary } from '../../lib/engine/loop';
import { appPool, createTenant, inTenant, ownerPool, setTenant } from '../helpers/db';
import { AS_OF, addDays, daily, insertMetrics, type MetricRow } from './fixtures';

let owner: pg.Pool;
let app: pg.Pool;
let handle: DbHandle;

beforeAll(() => {
  owner = ownerPool();
  app = appPool();
  handle = createDb(inject('appUrl'), { max: 2 });
});

afterAll(async () => {
  await handle.db.destroy();
});

const run = (t: string): Promise<LoopSummary> => runDailyLoop(handle.db, t, { asOf: AS_OF, trigger: 'cli' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A steady campaign, a budget-capped winner (its budget_increase) and a tracking loss on AS_OF (its anomaly), committed. */
async function seedTenant(name: string): Promise<string> {
  const t = await createTenant(owner, name);
  const rows: MetricRow[] = [
    ...daily(addDays(AS_OF, -56), AS_OF, () => ({ id: 'steady', spend: 100, impressions: 20000, clicks: 200, conversions: 10, value: 300 })),
    ...daily(addDays(AS_OF, -56), AS_OF, () => ({ id: 'winner', spend: 99, impressions: 19800, clicks: 198, conversions: 10, value: 600 })),
    ...daily(addDays(AS_OF, -56), AS_OF, (day) => ({ id: 'lost', spend: 300, impressions: 60000, clicks: 600, conversions: day === AS_OF ? 0 : 20, value: day === AS_OF ? 0 : 600 })),
  ];
  await inTenant(owner, t, async (c) => {
    await insertMetrics(c, t, rows);
    await c.query(`insert into ads.budget_allocation (tenant_id, platform, campaign_id, daily_budget) values ($1, 'meta', 'winner', 100)`, [t]);
    await c.query(`insert into ads.platform_configs (tenant_id, platform, target_roas) values ($1, 'meta', 3)`, [t]);
  });
  return t;
}

/** A tenant whose first pass ran and whose second pass skipped: the state every test of a change starts from. */
async function settledTenant(name: string): Promise<{ t: string; first: LoopSummary }> {
  const t = await seedTenant(name);
  const first = await run(t);
  expect(first).toMatchObject({ skipped: false, changes: ['no earlier pass'] });
  expect(await run(t)).toMatchObject({ skipped: true, changes: [] });
  return { t, first };
}

/** SQL as the owner in the tenant's transaction, committed (a buyer's change, an import, psql). */
const write = (t: string, text: string, values: unknown[] = []) => inTenant(owner, t, (c) => c.query(text, [t, ...values]));
/** The same without the change log's triggers: as if only time had passed (the superuser's session_replication_role). */
const writeUnseen = (t: string, text: string, values: unknown[] = []) =>
  inTenant(owner, t, async (c) => {
    await c.query('set local session_replication_role = replica');
    return c.query(text, [t, ...values]);
  });

async function rows<T = Record<string, unknown>>(t: string, text: string, values: unknown[] = []): Promise<T[]> {
  return inTenant(app, t, async (c) => (await c.query(text, [t, ...values])).rows as T[], false);
}

const TABLES = [
  'ads.optimization_recommendations', 'ads.anomalies', 'ads.baselines', 'ads.campaign_performance', 'ads.budget_allocation',
  'ads.platform_configs', 'ads.ab_tests', 'ads_engine.examined_days', 'ads_engine.conversion_lag', 'ads_engine.recommendation_outcomes',
  'ads_engine.auto_applications', 'ads_engine.ab_test_state', 'ads_engine.ab_test_looks', 'ads_engine.loop_state', 'saas.audit_log',
];

/** Every row the loop writes or reads for the tenant, as text (timestamps included). */
async function everything(t: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const table of TABLES) {
    const r = await rows<{ j: unknown }>(t, `select coalesce(jsonb_agg(to_jsonb(x) order by to_jsonb(x)::text), '[]') as j from ${table} x where x.tenant_id = $1`);
    out[table] = r[0]!.j;
  }
  return out;
}

/** The same without the times a recomputation writes anew, and without the loop's own record of its passes. */
function results(all: Record<string, unknown>): Record<string, unknown> {
  const strip = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(strip)
      : v && typeof v === 'object'
        ? Object.fromEntries(Object.entries(v).filter(([k]) => !['computed_at', 'evaluated_at', 'examined_at'].includes(k)).map(([k, x]) => [k, strip(x)]))
        : v;
  const { 'ads_engine.loop_state': _state, ...rest } = all;
  return strip(rest) as Record<string, unknown>;
}

const pendingOf = (t: string, type: string) =>
  rows<{ id: string; status: string }>(t, `select id, status from ads.optimization_recommendations where tenant_id = $1 and recommendation_type = $2 order by created_at, id`, [type]);

describe('a second pass with nothing new', () => {
  it('creates and changes nothing, reports itself skipped in its summary and in optimizer_runs, and is what a full pass would give', async () => {
    const t = await seedTenant('Incremental: nothing new');
    const first = await run(t);
    expect(first).toMatchObject({ skipped: false, changes: ['no earlier pass'], baselines: 5, campaigns_analyzed: 3, anomalies: 1 });
    expect(first.recommendations).toBeGreaterThanOrEqual(1);
    const before = await everything(t);

    const second = await run(t);
    expect(second).toMatchObject({
      skipped: true, changes: [], as_of: AS_OF, data_arrived: true, baselines: 5, campaigns_analyzed: 3,
      recommendations: 0, anomalies: 0, recommendations_expired: 0, anomalies_deleted: 0, ab_tests_completed: 0, outcomes_measured: 0,
    });
    expect(await everything(t)).toEqual(before);
    const log = await rows<{ skipped: boolean; changes: string[] }>(
      t, `select (summary ->> 'skipped')::boolean as skipped, summary -> 'changes' as changes from ads_engine.optimizer_runs where tenant_id = $1 order by id`);
    expect(log).toEqual([{ skipped: false, changes: ['no earlier pass'] }, { skipped: true, changes: [] }]);

    // Forgetting the last pass forces the work: it finds exactly what is written already.
    await write(t, 'delete from ads_engine.loop_state where tenant_id = $1');
    const full = await run(t);
    expect(full).toMatchObject({ skipped: false, changes: ['no earlier pass'], recommendations: 0, anomalies: 0, baselines: 5, campaigns_analyzed: 3 });
    expect(results(await everything(t))).toEqual(results(before));
  });

  it('a pass run from SQL alone is reused unless it left A/B tests unread', async () => {
    const sqlPass = (t: string) => inTenant(app, t, (c) => c.query(`select ads_engine.run_daily_loop($1, $2::date, 'cli')`, [t, AS_OF]));
    const plain = await seedTenant('Incremental: SQL pass');
    await sqlPass(plain);
    expect(await run(plain)).toMatchObject({ skipped: true });
    const tested = await seedTenant('Incremental: SQL pass, A/B test');
    await write(tested, `insert into ads.ab_tests (tenant_id, test_name, performance_a, performance_b, status, start_date)
                         values ($1, 'landing page', '{"clicks": 4000, "conversions": 100}', '{"clicks": 4000, "conversions": 160}', 'running', $2::date - 20)`, [AS_OF]);
    await sqlPass(tested);
    expect(await run(tested)).toMatchObject({ skipped: false, changes: ['earlier pass not finished'], ab_tests_to_read: 1 });
    expect(await run(tested)).toMatchObject({ skipped: true, ab_tests_evaluated: { evaluated: 1 } });
  });

  it("redoes the work for another day, and takes in the changes its own transaction made before it", async () => {
    const { t } = await settledTenant('Incremental: day and own transaction');
    expect(await runDailyLoop(handle.db, t, { asOf: addDays(AS_OF, -1), trigger: 'cli' })).toMatchObject({ skipped: false, changes: ['another day'] });
    expect(await run(t)).toMatchObject({ skipped: false, changes: ['another day'] });
    // the UI's way: a change and the loop in one transaction
    const s = await withTenant(t, async (trx) => {
      await sql`update ads.platform_configs set anomaly_sensitivity = 3 where tenant_id = ${t}::uuid`.execute(trx);
      return loopInTransaction(trx, t, { asOf: AS_OF, trigger: 'manual' });
    }, {}, handle.db);
    expect(s).toMatchObject({ skipped: false, changes: ['ads.platform_configs'] });
    expect(await run(t)).toMatchObject({ skipped: true });
  });
});

describe('each kind of change makes the next pass redo the work', () => {
  it('metrics inserted: a new campaign is analysed', async () => {
    const { t, first } = await settledTenant('Incremental: metrics inserted');
    // (days before the one examined: no anomaly sits on them)
    await inTenant(owner, t, (c) => insertMetrics(c, t, daily(addDays(AS_OF, -6), addDays(AS_OF, -1), () => ({ id: 'fresh', spend: 50, impressions: 9000, clicks: 90, conversions: 4, value: 160 }))));
    const s = await run(t);
    expect(s).toMatchObject({ skipped: false, changes: ['ads.metrics_daily'], campaigns_analyzed: first.campaigns_analyzed + 1 });
    expect(await rows(t, `select campaign_id from ads.campaign_performance where tenant_id = $1 and campaign_id = 'fresh'`)).toHaveLength(1);
  });

  it("metrics updated: the day's restated conversions are in the baselines", async () => {
    const { t } = await settledTenant('Incremental: metrics updated');
    const oneDay = async () =>
      Number((await rows<{ k: string }>(t, `select conversions as k from ads.baselines where tenant_id = $1 and platform = 'meta' and level = 'campaign' and window_days = 1`))[0]!.k);
    expect(await oneDay()).toBe(20); // 10 + 10 + 0 on AS_OF
    await write(t, `update ads.metrics_daily set conversions = 4 where tenant_id = $1 and platform_id = 'steady' and day = $2::date`, [AS_OF]);
    expect(await run(t)).toMatchObject({ skipped: false, changes: ['ads.metrics_daily'] });
    expect(await oneDay()).toBe(14);
  });

  it("metrics deleted: a campaign without rows in the week is no longer analysed and its advice is withdrawn", async () => {
    const { t, first } = await settledTenant('Incremental: metrics deleted');
    expect(await pendingOf(t, 'budget_increase')).toMatchObject([{ status: 'pending' }]);
    await write(t, `delete from ads.metrics_daily where tenant_id = $1 and platform_id = 'winner' and day > $2::date - 7`, [AS_OF]);
    expect(await run(t)).toMatchObject({ skipped: false, changes: ['ads.metrics_daily'], campaigns_analyzed: first.campaigns_analyzed - 1 });
    expect(await pendingOf(t, 'budget_increase')).toMatchObject([{ status: 'withdrawn' }]);
  });

  it('metrics of days no step reads change nothing, unless an open anomaly sits on them', async () => {
    const { t } = await settledTenant('Incremental: old metrics');
    const old = addDays(AS_OF, -200);
    await inTenant(owner, t, (c) => insertMetrics(c, t, [{ id: 'steady', day: old, spend: 80, impressions: 15000, clicks: 150, conversions: 8, value: 240 }]));
    // and a day after the one examined (tomorrow's early figures)
    await inTenant(owner, t, (c) => insertMetrics(c, t, [{ id: 'steady', day: addDays(AS_OF, 1), spend: 30, impressions: 5000, clicks: 40, conversions: 1, value: 30 }]));
    expect(await run(t)).toMatchObject({ skipped: true });
    await write(t, `insert into ads.anomalies (tenant_id, platform, entity_id, day, metric_name, anomaly_type) values ($1, 'meta', 'steady', $2::date, 'spend', 'spike')`, [old]);
    expect(await run(t)).toMatchObject({ skipped: false, changes: ['ads.anomalies'] });
    await write(t, `update ads.metrics_daily set spend = 81 where tenant_id = $1 and platform_id = 'steady' and day = $2::date`, [old]);
    expect(await run(t)).toMatchObject({ skipped: false, changes: ['ads.metrics_daily'] });
  });

  it('platform configuration: a ROAS target the winner no longer beats withdraws its budget increase', async () => {
    const { t } = await settledTenant('Incremental: config');
    await write(t, `update ads.platform_configs set target_roas = 8 where tenant_id = $1`);
    expect(await run(t)).toMatchObject({ skipped: false, changes: ['ads.platform_configs'] });
    expect(await pendingOf(t, 'budget_increase')).toMatchObject([{ status: 'withdrawn' }]);
  });

  it('budget: a campaign no longer held by its budget loses its budget increase', async () => {
    const { t } = await settledTenant('Incremental: budget');
    await write(t, `update ads.budget_allocation set daily_budget = 500 where tenant_id = $1 and campaign_id = 'winner'`);
    expect(await run(t)).toMatchObject({ skipped: false, changes: ['ads.budget_allocation'] });
    expect(await pendingOf(t, 'budget_increase')).toMatchObject([{ status: 'withdrawn' }]);
  });

  it('auto-apply settings: the pass is redone, and advice made before the switch stays for a buyer', async () => {
    const { t } = await settledTenant('Incremental: auto-apply');
    await inTenant(app, t, (c) => c.query(`select ads_engine.set_auto_apply_policy($1, 'meta', 'budget_increase', true, 0.5, 'test')`, [t]));
    expect(await run(t)).toMatchObject({ skipped: false, changes: ['ads_engine.auto_apply_policies'] });
    await write(t, `update ads.platform_configs set auto_apply_recommendations = true where tenant_id = $1`);
    expect(await run(t)).toMatchObject({ skipped: false, changes: ['ads.platform_configs'] });
    expect(await pendingOf(t, 'budget_increase')).toMatchObject([{ status: 'pending' }]);
    expect(await run(t)).toMatchObject({ skipped: true });
  });

  it('recommendation decisions: a dismissal is kept for its cooldown; one older than the cooldown lets the advice come back', async () => {
    const { t } = await settledTenant('Incremental: recommendation decision');
    const [rec] = await pendingOf(t, 'budget_increase');
    await write(t, `update ads.optimization_recommendations set status = 'dismissed', dismissed_at = now() where tenant_id = $1 and id = $2`, [rec!.id]);
    expect(await run(t)).toMatchObject({ skipped: false, changes: ['ads.optimization_recommendations'], recommendations: 0 });
    expect(await pendingOf(t, 'budget_increase')).toMatchObject([{ status: 'dismissed' }]);
    await write(t, `update ads.optimization_recommendations set dismissed_at = now() - interval '8 days' where tenant_id = $1 and id = $2`, [rec!.id]);
    expect(await run(t)).toMatchObject({ skipped: false, changes: ['ads.optimization_recommendations'], recommendations: 1 });
    expect(await pendingOf(t, 'budget_increase')).toMatchObject([{ status: 'dismissed' }, { status: 'pending' }]);
  });

  it('anomaly decisions: a resolved tracking loss is re-decided and stays resolved', async () => {
    const { t } = await settledTenant('Incremental: anomaly decision');
    await write(t, `update ads.anomalies set status = 'resolved', resolved_at = now() where tenant_id = $1 and anomaly_type = 'tracking_loss'`);
    expect(await run(t)).toMatchObject({ skipped: false, changes: ['ads.anomalies'], anomalies: 0 });
    expect(await rows(t, `select status from ads.anomalies where tenant_id = $1`)).toEqual([{ status: 'resolved' }]);
  });

  it('A/B tests: a new running test is read, and nothing else is redone (no other step reads the tests)', async () => {
    const { t } = await settledTenant('Incremental: A/B test');
    await write(t, `insert into ads.ab_tests (tenant_id, test_name, performance_a, performance_b, status, start_date)
                    values ($1, 'landing page', '{"clicks": 4000, "conversions": 100}', '{"clicks": 4000, "conversions": 160}', 'running', $2::date - 20)`, [AS_OF]);
    const s = await run(t);
    expect(s).toMatchObject({ skipped: true, ab_tests_to_read: 1, ab_tests_evaluated: { evaluated: 1 } });
    const readAt = async () => (await rows<{ at: Date }>(t, `select evaluated_at as at from ads_engine.ab_test_state where tenant_id = $1`))[0]!.at.getTime();
    const first = await readAt();
    // read again on a skipped pass, which changes nothing but when it was read, and stays skipped after
    expect(await run(t)).toMatchObject({ skipped: true, ab_tests_evaluated: { evaluated: 1, winners: 0 } });
    expect(await readAt()).toBeGreaterThan(first);
    expect(await run(t)).toMatchObject({ skipped: true });
  });

  it("the tenant's time zone and currency", async () => {
    const { t } = await settledTenant('Incremental: time zone');
    await write(t, `update saas.tenants set timezone = 'Europe/Paris' where id = $1`);
    expect(await run(t)).toMatchObject({ skipped: false, changes: ['saas.tenants'] });
    await write(t, `update saas.tenants set name = 'Incremental: renamed' where id = $1`);
    expect(await run(t)).toMatchObject({ skipped: true });
    await write(t, `update saas.tenants set currency = 'JPY' where id = $1`);
    expect(await run(t)).toMatchObject({ skipped: false, changes: ['saas.tenants'] });
  });

  it('a write that commits while a pass runs is not taken as seen', async () => {
    const { t } = await settledTenant('Incremental: concurrent write');
    await write(t, `update ads.platform_configs set anomaly_sensitivity = 3 where tenant_id = $1`);
    const c = await owner.connect();
    try {
      // An import open when the pass starts; it holds a baseline row, so the pass waits for it half-way and sees it
      // committed in its later statements, not in its first ones.
      await c.query('begin');
      await setTenant(c, t);
      await c.query(`update ads.metrics_daily set spend = 120 where tenant_id = $1 and platform_id = 'steady' and day = $2::date`, [t, AS_OF]);
      await c.query(`select 1 from ads.baselines where tenant_id = $1 for update`, [t]);
      const pass = run(t);
      for (let i = 0; i < 200; i++) {
        const waiting = await owner.query(`select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()`);
        if (waiting.rows[0].n > 0) break;
        await sleep(50);
      }
      await c.query('commit');
      expect(await pass).toMatchObject({ skipped: false, changes: ['ads.platform_configs'] });
    } finally {
      c.release();
    }
    expect(await run(t)).toMatchObject({ skipped: false, changes: ['ads.metrics_daily'] });
    expect(await run(t)).toMatchObject({ skipped: true });
  });

  it('a truncated table makes every tenant redo the work', async () => {
    const { t } = await settledTenant('Incremental: truncate');
    await owner.query('truncate ads_engine.conversion_lag');
    expect(await run(t)).toMatchObject({ skipped: false, changes: ['a table was truncated'] });
    expect((await rows(t, `select 1 from ads_engine.conversion_lag where tenant_id = $1`)).length).toBeGreaterThan(0);
  });

  it("a pass that applied a budget by itself is redone once, on the budget it set", async () => {
    const t = await seedTenant('Incremental: auto-applied');
    await write(t, `update ads.platform_configs set auto_apply_recommendations = true where tenant_id = $1`);
    const first = await run(t);
    expect(first.skipped).toBe(false);
    expect(await pendingOf(t, 'budget_increase')).toMatchObject([{ status: 'applied' }]);
    expect(await run(t)).toMatchObject({ skipped: false, changes: ['earlier pass changed what it reads'], recommendations: 0 });
    expect(await run(t)).toMatchObject({ skipped: true });
  });
});

describe('what is due with time alone still happens on a pass that would skip', () => {
  it('a recommendation reaching its expiry is expired, and the advice comes back fresh', async () => {
    const { t } = await settledTenant('Incremental: expiry');
    await write(t, `update ads.optimization_recommendations set expires_at = clock_timestamp() + interval '2 seconds' where tenant_id = $1 and status = 'pending'`);
    expect(await run(t)).toMatchObject({ skipped: false, changes: ['ads.optimization_recommendations'] });
    expect(await run(t)).toMatchObject({ skipped: true, recommendations_expired: 0 });
    await sleep(2100);
    const s = await run(t);
    expect(s).toMatchObject({ skipped: false, changes: ['maintenance'], recommendations_expired: 1 });
    expect(s.recommendations).toBeGreaterThanOrEqual(1);
    expect((await pendingOf(t, 'budget_increase')).map((r) => r.status)).toEqual(['expired', 'pending']);
  });

  it('an A/B test past its end date is completed and read', async () => {
    const { t } = await settledTenant('Incremental: A/B end');
    await writeUnseen(t, `insert into ads.ab_tests (tenant_id, test_name, performance_a, performance_b, status, start_date, end_date)
                          values ($1, 'ended', '{"clicks": 4000, "conversions": 100}', '{"clicks": 4000, "conversions": 100}', 'running', $2::date - 30, $2::date - 2)`, [AS_OF]);
    const s = await run(t);
    expect(s).toMatchObject({ skipped: true, ab_tests_completed: 1, ab_tests_evaluated: { evaluated: 1, completedWithoutWinner: 1 } });
    expect(await rows(t, `select status, winner from ads.ab_tests where tenant_id = $1`)).toEqual([{ status: 'completed', winner: 'none' }]);
  });

  it("a cooldown's end is a change: the pass made before it is not reused after it", async () => {
    const { t } = await settledTenant('Incremental: cooldown');
    const [rec] = await pendingOf(t, 'budget_increase');
    // dismissed long enough ago that the pass's validity (a day before the cooldown ends) runs out in two seconds
    await write(t, `update ads.optimization_recommendations set status = 'dismissed', dismissed_at = clock_timestamp() - interval '6 days' + interval '2 seconds'
                    where tenant_id = $1 and id = $2`, [rec!.id]);
    expect(await run(t)).toMatchObject({ skipped: false, recommendations: 0 });
    expect(await run(t)).toMatchObject({ skipped: true });
    await sleep(2100);
    expect(await run(t)).toMatchObject({ skipped: false, changes: ['a cooldown ended'], recommendations: 0 });
  });

  it('an outcome due for measurement is measured on a skipped pass, and the next pass redoes the advice it feeds', async () => {
    const { t } = await settledTenant('Incremental: outcome');
    const applied = addDays(AS_OF, -8);
    await writeUnseen(
      t,
      `with r as (
         insert into ads.optimization_recommendations (tenant_id, platform, level, entity_id, recommendation_type, description, current_value, recommended_value, status, applied_at)
         values ($1, 'meta', 'campaign', 'steady', 'creative', 'refresh', 0.01, 0.012, 'applied', $2::date + time '12:00' at time zone 'UTC') returning id)
       insert into ads_engine.recommendation_outcomes (tenant_id, recommendation_id, recommendation_type, platform, level, entity_id, applied_at, applied_day,
                                                      metric, expected_change, unit, horizon_days, prediction_source, pre_from, pre_to)
       select $1, r.id, 'creative', 'meta', 'campaign', 'steady', $2::date + time '12:00' at time zone 'UTC', $2::date, 'ctr', 0.2, 'relative', 7, 'evidence',
              $2::date - 7, $2::date - 1
       from r`,
      [applied],
    );
    expect(await run(t)).toMatchObject({ skipped: true, outcomes_measured: 1, recommendations: 0 });
    expect(await rows(t, `select (measured_at_7 is not null) as measured from ads_engine.recommendation_outcomes where tenant_id = $1`)).toEqual([{ measured: true }]);
    expect(await run(t)).toMatchObject({ skipped: false, changes: ['earlier pass changed what it reads'], outcomes_measured: 0 });
    expect(await run(t)).toMatchObject({ skipped: true });
  });
});
