// The benchmark suite's saved engine state (bench/state.ts) on a database of
// its own: a copy put back is exactly what was saved, a clear leaves what a
// database that never ran the loop has, and the loop runs on after either.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../db/tools/migrate';
import { clearState, readSaved, restoreState, saveState, stateKey, STATE_TABLES, writtenOutputs } from '../../bench/state';
import { scratchDatabase } from '../helpers/db';
import { createTenant } from '../helpers/factories';
import { loadMetricLines } from '../helpers/metrics';

let url: string;
let su: pg.Client;
let pool: pg.Pool;
let tenant: string;

const ENGINE = ['ads.baselines', 'ads.campaign_performance', 'ads.optimization_recommendations', 'ads.anomalies', 'ads_engine.optimizer_runs', 'ads_engine.examined_days', 'ads_engine.conversion_lag'];

/** Every row of a table as text, in a fixed order: equal fingerprints, equal contents. */
async function fingerprint(table: string): Promise<{ rows: number; md5: string }> {
  const r = await su.query<{ rows: string; md5: string }>(`select count(*) as rows, coalesce(md5(string_agg(t::text, '|' order by t::text)), '') as md5 from ${table} t`);
  return { rows: Number(r.rows[0]!.rows), md5: r.rows[0]!.md5 };
}
async function fingerprints() {
  const out: Record<string, { rows: number; md5: string }> = {};
  for (const t of [...ENGINE, 'ads.budget_allocation']) out[t] = await fingerprint(t);
  return out;
}

async function loop(asOf: string | null) {
  await su.query('begin');
  await su.query("select set_config('saas.tenant_id', $1, true)", [tenant]);
  const r = await su.query<{ s: Record<string, number> }>("select ads_engine.run_daily_loop($1, $2::date, 'cli') as s", [tenant, asOf]);
  await su.query('commit');
  return r.rows[0]!.s;
}

beforeAll(async () => {
  url = await scratchDatabase('bench_state');
  await migrate(url);
  su = new pg.Client({ connectionString: url });
  await su.connect();
  su.on('notice', () => undefined);
  pool = new pg.Pool({ connectionString: url, max: 2 });
  tenant = await createTenant(pool, 'Bench state');
  await su.query('begin');
  await su.query("select set_config('saas.tenant_id', $1, true)", [tenant]);
  await su.query("insert into ads.platform_configs (tenant_id, platform, max_cpa, target_roas) values ($1, 'meta', 40, 2.5)", [tenant]);
  await su.query(
    `insert into ads.budget_allocation (tenant_id, platform, campaign_id, daily_budget)
     select $1, 'meta', c, 1000 from unnest(array['c1', 'c2', 'c3']) c`,
    [tenant],
  );
  await su.query('commit');
  const base = { platform: 'meta', impressions: 10_000, clicks: 300 };
  await loadMetricLines(pool, tenant, [
    { ...base, id: 'c1', name: 'Steady', fromAgo: 59, toAgo: 0, spend: 100, conversions: 10, value: 400 },
    // 12 conversions a day at 500 a day: a CPA of 42 against a limit of 40, then 1 a day for the last week
    { ...base, id: 'c3', name: 'Costly', fromAgo: 59, toAgo: 7, spend: 500, conversions: 12, value: 600 },
    { ...base, id: 'c3', name: 'Costly', fromAgo: 6, toAgo: 0, spend: 500, conversions: 1, value: 50 },
  ]);
}, 120_000);

afterAll(async () => {
  await su?.end();
  await pool?.end();
});

describe('the saved engine state of the benchmark suite', () => {
  it('puts back exactly what it saved, after a clear and after more loop runs', async () => {
    const yesterday = (await su.query<{ d: string }>("select ((now() at time zone 'UTC')::date - 1)::text as d")).rows[0]!.d;
    const dayBefore = (await su.query<{ d: string }>('select ($1::date - 1)::text as d', [yesterday])).rows[0]!.d;
    const first = await loop(dayBefore);
    expect(first.baselines).toBeGreaterThan(0);
    const saved = await fingerprints();
    expect(saved['ads.optimization_recommendations']!.rows).toBeGreaterThan(0);
    expect(saved['ads_engine.examined_days']!.rows).toBeGreaterThan(0);

    await saveState(su, 'key-1', STATE_TABLES, { seconds: 1 });
    const meta = (await readSaved(su))!;
    expect(meta.key).toBe('key-1');
    expect(meta.tables).toContain('ads.budget_allocation');
    expect(meta.catchup).toEqual({ seconds: 1 });

    // the next day's pass changes the state; a clear empties it
    await loop(yesterday);
    expect(await fingerprints()).not.toEqual(saved);
    const cleared = await clearState(su);
    expect(cleared).toEqual(expect.arrayContaining(ENGINE));
    for (const t of ENGINE) expect((await fingerprint(t)).rows, t).toBe(0);
    expect(Number((await su.query('select count(*) as n from ads.budget_allocation where recommended_budget is not null')).rows[0]!.n)).toBe(0);
    expect((await fingerprint('ads.budget_allocation')).rows).toBe(3);

    await restoreState(su, meta);
    const back = await fingerprints();
    // expiries move with the copy's age (under a second here): compare the recommendations without them
    const recs = (table: string) => su.query(`select md5(string_agg((to_jsonb(o) - 'expires_at')::text, '|' order by o.id)) as m from ${table} o`);
    expect((await recs('ads.optimization_recommendations')).rows[0]!.m).toBe((await recs('bench_state."ads__optimization_recommendations"')).rows[0]!.m);
    for (const t of [...ENGINE, 'ads.budget_allocation'].filter((t) => t !== 'ads.optimization_recommendations')) expect(back[t], t).toEqual(saved[t]);

    // the loop goes on from the restored state: new ids after the restored ones
    const maxRun = Number((await su.query('select max(id) as m from ads_engine.optimizer_runs')).rows[0]!.m);
    await loop(yesterday);
    expect(Number((await su.query('select min(id) as m from ads_engine.optimizer_runs where id > $1', [maxRun])).rows[0]!.m)).toBeGreaterThan(maxRun);
  });

  it('moves expiries by the age of the copy', async () => {
    const before = await su.query<{ id: string; e: Date }>('select id::text, expires_at as e from bench_state."ads__optimization_recommendations" order by id');
    expect(before.rows.length).toBeGreaterThan(0);
    await su.query("update bench_state.meta set created_at = now() - interval '2 days'");
    await restoreState(su, (await readSaved(su))!);
    const after = await su.query<{ id: string; e: Date }>('select id::text, expires_at as e from ads.optimization_recommendations order by id');
    expect(after.rows.map((r) => r.id)).toEqual(before.rows.map((r) => r.id));
    for (const [i, r] of after.rows.entries()) {
      const moved = r.e.getTime() - before.rows[i]!.e.getTime();
      expect(moved).toBeGreaterThanOrEqual(2 * 86_400_000);
      expect(moved).toBeLessThan(2 * 86_400_000 + 60_000);
    }
  });

  it('keys a copy by the data set and the applied SQL', async () => {
    const ds = { params: { tenants: 10 }, end: '2026-11-30' };
    const k = await stateKey(su, ds);
    expect(await stateKey(su, ds)).toBe(k);
    expect(await stateKey(su, { ...ds, end: '2026-12-01' })).not.toBe(k);
    expect(await stateKey(su, { ...ds, params: { tenants: 11 } })).not.toBe(k);
    // the same parameters in another order (as jsonb gives them back) are the same data set
    expect(await stateKey(su, { ...ds, params: { b: 1, a: 2 } })).toBe(await stateKey(su, { ...ds, params: { a: 2, b: 1 } }));
    await su.query('begin');
    await su.query("update public.schema_migrations set checksum = 'changed' where name = (select min(name) from public.schema_migrations)");
    expect(await stateKey(su, ds)).not.toBe(k);
    await su.query('rollback');
  });

  it('takes the tables a pass wrote as outputs, never its inputs', () => {
    const before = new Map([
      ['ads.metrics_daily', 10],
      ['ads.baselines', 5],
      ['ads_engine.something_new', 0],
      ['ads.budget_allocation', 3],
    ]);
    const after = new Map([
      ['ads.metrics_daily', 20],
      ['ads.baselines', 5],
      ['ads_engine.something_new', 4],
      ['ads.budget_allocation', 9],
      ['ads_engine.created_since', 1],
    ]);
    expect(writtenOutputs(before, after)).toEqual(['ads_engine.created_since', 'ads_engine.something_new']);
  });
});
