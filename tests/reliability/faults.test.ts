// Faults on real connections: the app's pooled connections terminated while
// idle, mid-query and between two statements of a transaction; a private
// PostgreSQL stopped and started under one pool, with the API routes answering
// 503 while it is down; a scheduler worker killed (SIGKILL) in the middle of a
// tenant's run, its job taken over by a later worker and the day counted once.
// An import killed half-way is tests/ingest/failure.test.ts.
//
// What would crash the web server (an 'error' event nobody listens to, on a
// connection cut while checked out) is counted here and must not happen.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, inject, it, vi } from 'vitest';
import { POST as importsRoute } from '../../app/api/imports/route';
import { POST as metricsRoute } from '../../app/api/v1/metrics/route';
import { ensureDatabase, freePort, newSecret, setAppPassword, startEmbedded, type EmbeddedServer } from '../../db/tools/embedded';
import { migrate } from '../../db/tools/migrate';
import { APP_ROLE, projectRoot, withCredentials } from '../../lib/db/config';
import { appDb, createDb, withTenant, type DbHandle } from '../../lib/db/pool';
import { DATABASE_UNAVAILABLE_API, DATABASE_UNAVAILABLE_DIGEST, isDatabaseUnavailable, RETRY_AFTER_SECONDS } from '../../lib/db/unavailable';
import { runDailyLoop } from '../../lib/engine/loop';
import { generateApiKey } from '../../lib/ingest/api-keys';
import { FILE_NAME_HEADER } from '../../lib/ingest/upload-protocol';
import { loadAccess } from '../../lib/tenancy/membership';
import { createTenant, ownerPool, scratchDatabase } from '../helpers/db';
import { loadMetricLines, type MetricLine } from '../helpers/metrics';

// The imports route reads next-auth's session (no request scope in a test): a signed-in user id.
const session = vi.hoisted(() => ({ userId: '6f1d2c3b-0000-4000-8000-000000000001' }));
vi.mock('../../lib/tenancy/session', () => ({
  getSessionUserId: async () => session.userId,
  getPreferredTenantId: async () => null,
}));

const owner = ownerPool();
const crashes: unknown[] = [];
const onCrash = (err: unknown) => void crashes.push(err);
process.on('uncaughtException', onCrash);
afterAll(() => void process.off('uncaughtException', onCrash));
const handles: DbHandle[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.all(handles.splice(0).map((h) => h.db.destroy()));
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

/** The app's pool as the app makes it, counting the errors it reports for idle connections. */
function appPoolOf(url: string, max: number) {
  const lost: Error[] = [];
  const h = createDb(url, { max, onError: (e) => lost.push(e) });
  handles.push(h);
  return { ...h, lost };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 30_000, everyMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

const failureOf = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e as Error & { code?: string; digest?: string });

/** Every connection of the pool at once, as a raw query outside withTenant sees it: the tenant setting and whether a transaction is open. */
async function connectionsOf(pool: pg.Pool, size: number) {
  const clients = await Promise.all(Array.from({ length: size }, () => pool.connect()));
  try {
    return await Promise.all(
      clients.map(async (c) =>
        (
          await c.query<{ pid: number; tenant: string | null; in_transaction: boolean }>(
            "select pg_backend_pid() as pid, current_setting('saas.tenant_id', true) as tenant, now() <> statement_timestamp() as in_transaction",
          )
        ).rows[0]!,
      ),
    );
  } finally {
    for (const c of clients) c.release();
  }
}

describe('connections terminated under the app', () => {
  it('idle: the pool drops the dead connections and the next call works at once on fresh ones', async () => {
    const tenant = await createTenant(owner, 'Faults: idle');
    const h = appPoolOf(inject('appUrl'), 5);
    let arrived = 0;
    const pids = await Promise.all(
      Array.from({ length: 5 }, () =>
        withTenant(tenant, async (trx) => {
          arrived++;
          await until('five open transactions', async () => arrived === 5);
          return (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx)).rows[0]!.pid;
        }, {}, h.db),
      ),
    );
    expect(new Set(pids).size).toBe(5);
    expect(h.pool.idleCount).toBe(5);
    const killed = await owner.query<{ ok: boolean }>('select pg_terminate_backend(pid, 5000) as ok from unnest($1::int[]) as pid', [pids]);
    expect(killed.rows.map((r) => r.ok)).toEqual([true, true, true, true, true]);
    const t0 = performance.now();
    await until('the pool to see its five connections go', async () => h.lost.length === 5);
    const noticedMs = Math.round(performance.now() - t0);
    expect(h.pool.totalCount).toBe(0);
    expect(h.lost.every((e) => isDatabaseUnavailable(e))).toBe(true);
    const t1 = performance.now();
    const next = await withTenant(tenant, async (trx) => (await sql<{ pid: number; t: string }>`select pg_backend_pid() as pid, current_setting('saas.tenant_id') as t`.execute(trx)).rows[0]!, {}, h.db);
    const nextMs = Math.round(performance.now() - t1);
    expect(next.t).toBe(tenant);
    expect(pids).not.toContain(next.pid);
    expect(crashes).toEqual([]);
    console.log(`[faults] 5 idle connections terminated: the pool noticed in ${noticedMs} ms; the next call took ${nextMs} ms`);
  });

  it('mid-query: the call rejects as "unavailable" (marked for the error page), the process stays up, the next call works, nothing leaks', async () => {
    const tenant = await createTenant(owner, 'Faults: mid-query');
    const h = appPoolOf(inject('appUrl'), 3);
    // Warm the pool: its three connections have each run a tenant transaction before.
    await Promise.all([1, 2, 3].map(() => withTenant(tenant, (trx) => sql`select pg_sleep(0.05)`.execute(trx), {}, h.db)));
    const call = failureOf(withTenant(tenant, (trx) => sql`select pg_sleep(31)`.execute(trx), {}, h.db));
    const pid = await until('the sleep to run', async () => (await owner.query<{ pid: number }>("select pid from pg_stat_activity where usename = 'aegis_app' and state = 'active' and query like '%pg_sleep(31)%'")).rows[0]?.pid);
    await owner.query('select pg_terminate_backend($1)', [pid]);
    const t0 = performance.now();
    const err = await call;
    const rejectMs = Math.round(performance.now() - t0);
    expect(err).not.toBeNull();
    expect(isDatabaseUnavailable(err)).toBe(true);
    expect(err!.digest).toBe(DATABASE_UNAVAILABLE_DIGEST);
    const t1 = performance.now();
    const again = await withTenant(tenant, async (trx) => (await sql<{ t: string }>`select current_setting('saas.tenant_id') as t`.execute(trx)).rows[0]!.t, {}, h.db);
    const nextMs = Math.round(performance.now() - t1);
    expect(again).toBe(tenant);
    // Outside withTenant, on every connection the pool holds: no tenant, no transaction left open.
    const seen = await connectionsOf(h.pool, 3);
    expect(seen.map((s) => s.pid)).not.toContain(pid);
    expect(seen.map((s) => [s.tenant ?? '', s.in_transaction])).toEqual([['', false], ['', false], ['', false]]);
    expect(crashes).toEqual([]);
    console.log(`[faults] a query killed mid-way: rejected in ${rejectMs} ms; the next call took ${nextMs} ms`);
  });

  it('between two statements of a transaction: the next statement rejects as "unavailable" and the broken connection is not reused', async () => {
    const tenant = await createTenant(owner, 'Faults: idle in transaction');
    const h = appPoolOf(inject('appUrl'), 1);
    let pid = 0;
    let killed = false;
    const call = failureOf(
      withTenant(tenant, async (trx) => {
        pid = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx)).rows[0]!.pid;
        // The transaction is open and idle while the app does something else.
        await until('the connection to be killed', async () => killed);
        await sql`select 1`.execute(trx);
      }, {}, h.db),
    );
    await until('the transaction to open', async () => pid !== 0);
    await until('the backend to be idle in its transaction', async () => (await owner.query("select 1 from pg_stat_activity where pid = $1 and state = 'idle in transaction'", [pid])).rowCount);
    await owner.query('select pg_terminate_backend($1, 5000)', [pid]);
    await sleep(100);
    killed = true;
    const err = await call;
    expect(isDatabaseUnavailable(err)).toBe(true);
    // One connection in the pool: the next call had to open a new one.
    const [c] = await connectionsOf(h.pool, 1);
    expect(c!.pid).not.toBe(pid);
    expect([c!.tenant ?? '', c!.in_transaction]).toEqual(['', false]);
    expect(crashes).toEqual([]);
  });

  it('a failure inside a transaction that is not the connection’s (a statement timeout): rolled back, the same connection reused clean, not "unavailable"', async () => {
    const tenant = await createTenant(owner, 'Faults: statement timeout');
    const h = appPoolOf(inject('appUrl'), 1);
    let pid = 0;
    const err = await failureOf(
      withTenant(tenant, async (trx) => {
        pid = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx)).rows[0]!.pid;
        await sql`select set_config('statement_timeout', '50', true)`.execute(trx);
        await sql`select pg_sleep(2)`.execute(trx);
      }, {}, h.db),
    );
    expect(err?.code).toBe('57014');
    expect(isDatabaseUnavailable(err)).toBe(false);
    expect(err?.digest).toBeUndefined();
    const [c] = await connectionsOf(h.pool, 1);
    expect(c).toEqual({ pid, tenant: '', in_transaction: false });
  });
});

// ---------------------------------------------------------------------------
// PostgreSQL stopped and started under the same pool
// ---------------------------------------------------------------------------

describe('PostgreSQL restarted', () => {
  it('calls fail fast as "unavailable" while it is down (the API answers 503 with Retry-After), and the same pool works again once it is up', async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'aegis-restart-'));
    const dataDir = path.join(tmp, 'pg');
    const port = await freePort();
    const superPassword = newSecret();
    // Persistent: stopping it keeps the data for the second start.
    const start = () => startEmbedded({ dataDir, port, superPassword, persistent: true });
    let server: EmbeddedServer | null = await start();
    cleanups.push(async () => {
      await server?.stop();
      rmSync(tmp, { recursive: true, force: true });
    });
    await ensureDatabase(server.superUrl(), 'aegis');
    const ownerUrl = server.superUrl('aegis');
    await migrate(ownerUrl, () => undefined);
    const password = newSecret();
    await setAppPassword(ownerUrl, password);
    const appUrl = withCredentials(ownerUrl, APP_ROLE, password);
    // The route handlers use the app's own handle: this server.
    process.env.DATABASE_URL = appUrl;
    cleanups.push(() => appDb().db.destroy());

    const privateOwner = new pg.Pool({ connectionString: ownerUrl, max: 1 });
    privateOwner.on('error', () => undefined);
    const tenant = await createTenant(privateOwner, 'Faults: restart');
    await privateOwner.end();

    const h = appPoolOf(appUrl, 4);
    const probe = () => withTenant(tenant, async (trx) => (await sql<{ name: string }>`select name from saas.tenants where id = ${tenant}::uuid`.execute(trx)).rows[0]?.name, {}, h.db);
    expect(await probe()).toBe('Faults: restart');

    // A query running when the server stops (a fast shutdown terminates it).
    const running = failureOf(withTenant(tenant, (trx) => sql`select pg_sleep(30)`.execute(trx), {}, h.db));
    await sleep(300);
    const t0 = performance.now();
    await server.stop();
    server = null;
    const stopMs = Math.round(performance.now() - t0);
    const inFlight = await running;
    expect(isDatabaseUnavailable(inFlight)).toBe(true);

    // While it is down: each call fails at once, marked, for the pages and the API alike.
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      const err = await failureOf(probe());
      expect(Math.round(performance.now() - t)).toBeLessThan(3000);
      expect(isDatabaseUnavailable(err)).toBe(true);
      expect(err!.digest).toBe(DATABASE_UNAVAILABLE_DIGEST);
    }
    // The pages' first read (the session's account and memberships).
    expect((await failureOf(loadAccess(session.userId, null, h.db)))?.digest).toBe(DATABASE_UNAVAILABLE_DIGEST);
    const key = generateApiKey().key;
    const metricsRequest = () =>
      new Request('http://localhost:3000/api/v1/metrics', {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ rows: [] }),
      });
    const uploadRequest = () =>
      new Request('http://localhost:3000/api/imports?mode=preview&platform=detect&skipInvalid=0', {
        method: 'POST',
        headers: { origin: 'http://localhost:3000', 'sec-fetch-site': 'same-origin', host: 'localhost:3000', [FILE_NAME_HEADER]: 'export.csv', 'content-length': '5' },
        body: 'Day\n1',
        duplex: 'half',
      } as RequestInit);
    const errors: unknown[] = [];
    const log = console.error;
    console.error = (...a: unknown[]) => void errors.push(a);
    try {
      const m = await metricsRoute(metricsRequest());
      expect(m.status).toBe(503);
      expect(m.headers.get('retry-after')).toBe(String(RETRY_AFTER_SECONDS));
      expect(await m.json()).toEqual({ error: 'unavailable', message: DATABASE_UNAVAILABLE_API });
      const u = await importsRoute(uploadRequest());
      expect(u.status).toBe(503);
      expect(u.headers.get('retry-after')).toBe(String(RETRY_AFTER_SECONDS));
      expect(await u.json()).toEqual({ error: { code: 'unavailable', message: DATABASE_UNAVAILABLE_API } });
    } finally {
      console.error = log;
    }
    expect(errors.length).toBe(2);

    // Up again, same port and data: the same pool object recovers by itself.
    const t1 = performance.now();
    server = await start();
    const startMs = Math.round(performance.now() - t1);
    const t2 = performance.now();
    const name = await until('the pool to reach the server again', async () => probe().catch(() => null), 30_000, 100);
    const recoverMs = Math.round(performance.now() - t2);
    expect(name).toBe('Faults: restart');
    // The routes reach it too: an unknown key is a 401 again, an unknown account signed out.
    expect((await metricsRoute(metricsRequest())).status).toBe(401);
    expect((await importsRoute(uploadRequest())).status).toBe(401);
    expect(crashes).toEqual([]);
    console.log(`[faults] PostgreSQL stopped in ${stopMs} ms and started in ${startMs} ms; the same pool answered ${recoverMs} ms after the start`);
  }, 180_000);
});

// ---------------------------------------------------------------------------
// The scheduler: a worker killed in the middle of a tenant's run
// ---------------------------------------------------------------------------

interface WorkerProcess {
  child: ChildProcess;
  output: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startWorker(env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(projectRoot, 'scripts', 'worker.ts')], {
    cwd: projectRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const keep = (b: Buffer) => output.push(...b.toString().split('\n').filter((l) => l.trim()));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  return { child, output, exited };
}

/** The loop tests' account, dated from the tenant's yesterday: a steady campaign, a capped winner with a budget, a tracking loss yesterday. */
const ACCOUNT: MetricLine[] = [
  { platform: 'meta', id: 'steady', name: 'Steady', fromAgo: 56, toAgo: 0, spend: 100, impressions: 20000, clicks: 200, conversions: 10, value: 300 },
  { platform: 'meta', id: 'winner', name: 'Winner', fromAgo: 56, toAgo: 0, spend: 99, impressions: 19800, clicks: 198, conversions: 10, value: 600 },
  { platform: 'meta', id: 'lost', name: 'Lost', fromAgo: 56, toAgo: 1, spend: 300, impressions: 60000, clicks: 600, conversions: 20, value: 600 },
  { platform: 'meta', id: 'lost', name: 'Lost', fromAgo: 0, toAgo: 0, spend: 300, impressions: 60000, clicks: 600, conversions: 0, value: 0 },
];

describe('a scheduler worker killed in the middle of a tenant’s run', () => {
  it('SIGKILL mid-run: its work rolls back; a later worker unlocks the job at start, runs it to the end, and the day is counted once', async () => {
    const ownerUrl = await scratchDatabase('worker');
    await migrate(ownerUrl, () => undefined);
    const appUrl = withCredentials(ownerUrl, APP_ROLE, inject('appPassword'));
    const env = { DATABASE_URL: appUrl, DATABASE_OWNER_URL: ownerUrl };
    const scratchOwner = new pg.Pool({ connectionString: ownerUrl, max: 3 });
    scratchOwner.on('error', () => undefined);
    cleanups.push(() => scratchOwner.end());
    const app = appPoolOf(appUrl, 2);
    const q = async <T extends pg.QueryResultRow>(text: string, values: unknown[] = []) => (await scratchOwner.query<T>(text, values)).rows;
    /** One row of a query ($1 = the tenant) as the owner inside the tenant (row-level security is forced on the owner too). */
    const inTenantRow = async <T extends pg.QueryResultRow>(tenant: string, text: string) => {
      const c = await scratchOwner.connect();
      try {
        await c.query('begin');
        await c.query("select set_config('saas.tenant_id', $1, true)", [tenant]);
        const r = await c.query<T>(text, [tenant]);
        await c.query('commit');
        return r.rows[0]!;
      } finally {
        c.release();
      }
    };
    const footprint = (tenant: string) =>
      inTenantRow<Record<string, number>>(
        tenant,
        `select (select count(*) from ads.optimization_recommendations where tenant_id = $1)::int as recommendations,
                (select count(*) from ads.anomalies where tenant_id = $1)::int as anomalies,
                (select count(*) from ads.baselines where tenant_id = $1)::int as baselines,
                (select count(*) from ads.campaign_performance where tenant_id = $1)::int as campaign_performance,
                (select count(*) from ads_engine.optimizer_runs where tenant_id = $1 and status = 'success')::int as runs`,
      );
    const seed = async (name: string) => {
      const t = await createTenant(scratchOwner, name);
      await loadMetricLines(scratchOwner, t, ACCOUNT);
      const c = await scratchOwner.connect();
      try {
        await c.query('begin');
        await c.query("select set_config('saas.tenant_id', $1, true)", [t]);
        await c.query(`insert into ads.budget_allocation (tenant_id, platform, campaign_id, daily_budget) values ($1, 'meta', 'winner', 100)`, [t]);
        await c.query(`insert into ads.platform_configs (tenant_id, platform, target_roas) values ($1, 'meta', 3)`, [t]);
        await c.query('commit');
      } finally {
        c.release();
      }
      return t;
    };

    // What one run leaves, on a twin account run once by hand.
    const twin = await seed('Worker twin');
    const yesterday = (await inTenantRow<{ d: string }>(twin, 'select ads_engine.tenant_yesterday($1)::text as d')).d;
    await runDailyLoop(app.db, twin, { asOf: yesterday, trigger: 'cli' });
    const once = await footprint(twin);
    expect(once.recommendations).toBeGreaterThan(0);
    expect(once.anomalies).toBeGreaterThan(0);

    const tenant = await seed('Worker tenant');
    // The loop does its work, then waits to write its run log row: this lock keeps it there.
    const hold = await scratchOwner.connect();
    await hold.query('begin');
    await hold.query('lock table ads_engine.optimizer_runs in share mode');

    const a = startWorker(env);
    const stuck = await until(
      'worker A to be in the middle of the tenant’s run',
      async () =>
        (
          await q<{ pid: number }>(
            "select pid from pg_stat_activity where datname = current_database() and usename = 'aegis_app' and wait_event_type = 'Lock' and query like '%run_daily_loop%'",
          )
        )[0],
      90_000,
      100,
    );
    const [job] = await q<{ id: string; locked_by: string; attempts: number }>(
      "select id::text as id, locked_by, attempts from graphile_worker.jobs where task_identifier = 'optimize_tenant' and locked_by is not null",
    );
    expect(job?.locked_by).toMatch(/^worker-/);
    // Its work so far is in its open transaction: baselines written, invisible to anyone else.
    expect((await footprint(tenant)).runs).toBe(0);

    a.child.kill('SIGKILL');
    expect((await a.exited).signal).toBe('SIGKILL');
    const killedAt = performance.now();
    // The dead process's idle sessions end at once; its loop's backend, blocked, ends after its statement.
    await until('worker A’s liveness session to end', async () => (await q("select 1 from pg_stat_activity where application_name = 'aegis-worker-liveness'")).length === 0);
    await hold.query('commit');
    hold.release();
    await until('the orphaned loop to end', async () => (await q('select 1 from pg_stat_activity where pid = $1', [stuck.pid])).length === 0);
    expect(await footprint(tenant)).toEqual({ recommendations: 0, anomalies: 0, baselines: 0, campaign_performance: 0, runs: 0 });
    // The job is still locked by the dead worker: graphile-worker alone would leave it for 4 hours.
    expect((await q<{ locked_by: string | null }>('select locked_by from graphile_worker.jobs where id = $1', [job!.id]))[0]?.locked_by).toBe(job!.locked_by);

    const startedB = performance.now();
    const b = startWorker(env);
    await until('the day to be run by worker B', async () => (await footprint(tenant)).runs === 1, 90_000, 100);
    const recoveredMs = Math.round(performance.now() - startedB);
    // The same job, unlocked and run to completion (graphile-worker deletes a completed job).
    await until('the job to complete', async () => (await q('select 1 from graphile_worker.jobs where id = $1', [job!.id])).length === 0, 30_000, 100);
    expect(b.output.join('\n')).toMatch(new RegExp(`\\[worker\\] unlocked the jobs of [12] worker\\(s\\) that are gone: .*${job!.locked_by}`));
    // Settled: no optimize job left to run, and the day counted once, with what one run leaves.
    await until('the queue to settle', async () => (await q("select 1 from graphile_worker.jobs where task_identifier in ('optimize_tenant', 'optimizer_tick') and attempts < max_attempts")).length === 0, 30_000, 200);
    await sleep(1000);
    expect(await footprint(tenant)).toEqual(once);
    const runs = await inTenantRow(tenant, "select count(*)::int as n, min(as_of)::text as as_of, min(trigger) as trigger from ads_engine.optimizer_runs where tenant_id = $1 and status = 'success'");
    expect(runs).toEqual({ n: 1, as_of: yesterday, trigger: 'schedule' });
    console.log(`[faults] worker killed mid-run: the next worker finished the day ${recoveredMs} ms after it started (${Math.round(performance.now() - killedAt)} ms after the kill)`);

    // A live worker's job is not taken: a second tenant's run held the same way in B, a worker D started beside it.
    const second = await seed('Worker tenant 2');
    const hold2 = await scratchOwner.connect();
    await hold2.query('begin');
    await hold2.query('lock table ads_engine.optimizer_runs in share mode');
    // What the hourly tick would queue.
    await q("select graphile_worker.add_job('optimize_tenant', json_build_object('tenantId', $1::text, 'asOf', $2::text), job_key => 'optimize:' || $1, max_attempts => 3)", [second, yesterday]);
    const stuck2 = await until(
      'worker B to be in the middle of the second tenant’s run',
      async () =>
        (
          await q<{ pid: number }>(
            "select pid from pg_stat_activity where datname = current_database() and usename = 'aegis_app' and wait_event_type = 'Lock' and query like '%run_daily_loop%'",
          )
        )[0],
      60_000,
      100,
    );
    const [job2] = await q<{ id: string; locked_by: string }>(
      "select id::text as id, locked_by from graphile_worker.jobs where task_identifier = 'optimize_tenant' and locked_by is not null",
    );
    expect(job2?.locked_by).toMatch(/^worker-/);
    const d = startWorker(env);
    await until('worker D to run', async () => d.output.some((l) => l.startsWith('[worker] running:')), 90_000, 100);
    await sleep(2000);
    expect(d.output.join('\n')).not.toContain('unlocked the jobs');
    expect((await q<{ locked_by: string | null }>('select locked_by from graphile_worker.jobs where id = $1', [job2!.id]))[0]?.locked_by).toBe(job2!.locked_by);
    expect((await footprint(second)).runs).toBe(0);
    await hold2.query('commit');
    hold2.release();
    await until('the second tenant’s day', async () => (await footprint(second)).runs === 1, 60_000, 100);
    await until('the held loop to finish', async () => (await q('select 1 from pg_stat_activity where pid = $1 and wait_event_type = $2', [stuck2.pid, 'Lock'])).length === 0);
    // D's start tick found the tenant due while B ran it and queued it again: that job finds the day done.
    await until('the queue to settle again', async () => (await q("select 1 from graphile_worker.jobs where task_identifier in ('optimize_tenant', 'optimizer_tick') and attempts < max_attempts")).length === 0, 30_000, 200);
    await sleep(1000);
    expect(await footprint(second)).toEqual(once);

    for (const w of [b, d]) w.child.kill('SIGTERM');
    // graphile-worker ends a gracefully stopped process by raising the signal again.
    for (const w of [b, d]) {
      const end = await w.exited;
      expect(end.signal === 'SIGTERM' || end.code === 128 + 15, JSON.stringify(end)).toBe(true);
    }
  }, 300_000);
});
