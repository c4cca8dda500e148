// npm run worker: the scheduled optimiser on graphile-worker (its queue lives
// in PostgreSQL, schema graphile_worker: no other infrastructure). Every hour
// a cron job asks ads_engine.tenants_due which tenants are due (per their
// optimization_frequency, their time zone and whether yesterday's metrics
// have arrived) and queues one job per tenant for the day it is due for; job
// keys collapse duplicates, so several workers can run side by side.
//
// Alerts (docs/alerts.md): after each tenant's loop run a dispatch_alerts job
// sends what the run found to the tenant's alert channels; an alerts_tick
// every 5 minutes queues one for every tenant with an enabled channel
// (digests at their hour, anything a failed job left); a delivery that failed
// gets a dispatch_alerts job at its next attempt's time (1 min, 5 min, 30 min,
// 2 h). Job keys collapse duplicates; the dispatch itself is idempotent.
//
// AEGIS_OPTIMIZER_GRACE_HOURS (0..24, default 12): hours after a tenant's
// local midnight after which its daily run goes ahead without yesterday's
// metrics (it runs again for that day when they arrive).
//
// A worker that dies (SIGKILL, out of memory, a lost machine) leaves the job
// it was running locked with its worker id, and graphile-worker hands such a
// job to another worker only 4 hours after locked_at: it cannot tell a dead
// worker from a slow one. This process gives it a way (docs/reliability.md):
// each of its worker ids holds a session advisory lock, on a connection of
// its own, from before that worker asks for its first job until the process
// ends. PostgreSQL releases a session's locks when the session ends: at once
// for a killed process (its sockets close), after the server's TCP keepalive
// (tcp_keepalives_idle) for a machine that vanished. So a worker id
// whose lock can be taken belongs to no live worker: at start and every
// minute, the jobs it holds are unlocked and run again. The dead worker's
// loop transaction is never committed (no one is left to send COMMIT), so
// nothing is doubled;
// and a tenant's optimize job runs one at a time and only while the tenant
// is still due for that day, so a job retried, or queued again by a tick
// while another ran, does not run the day twice. A process that loses its
// lock connection exits: it could no longer prove it is alive. Every worker
// on the database must be this script (one started otherwise holds no such
// lock and would be taken for dead).
import { sql } from 'kysely';
import { run, type Task, type TaskList } from 'graphile-worker';
import pg from 'pg';
import { dispatchAlerts, formatDispatch } from '../lib/alerts/dispatch';
import { createDb, isUuid } from '../lib/db/pool';
import { formatResult, listTenants, runDailyLoop } from '../lib/engine/loop';
import { isDayString } from '../lib/format/time';
import { openTarget, prepare, requireOwner } from '../db/tools/target';

// graphile-config knows its plugins by name in a global interface: this one's is added to it.
declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- the library's own global namespace, merged
  namespace GraphileConfig {
    interface Plugins {
      AegisWorkerLiveness: true;
    }
  }
}

/** The advisory lock key (text) a live worker id holds for the life of its process. */
const livenessKey = (workerId: string) => `aegis.worker:${workerId}`;
/** How often a running worker looks for jobs of workers that are gone. */
const SWEEP_MS = 60_000;

/** Unlocks the jobs of worker ids no live process holds the lock of (graphile-worker's force_unlock_workers); returns those ids. */
async function releaseJobsOfGoneWorkers(pool: pg.Pool): Promise<string[]> {
  const c = await pool.connect();
  const taken: string[] = [];
  try {
    // Before the first run() on a database the queue's schema does not exist yet: nothing is locked.
    const { rows } = await c.query<{ ready: boolean }>("select to_regclass('graphile_worker.jobs') is not null as ready");
    if (!rows[0]?.ready) return [];
    // A named queue is locked only with one of its jobs, by the same worker: the jobs name every holder.
    const held = await c.query<{ id: string }>('select distinct locked_by as id from graphile_worker.jobs where locked_by is not null');
    for (const { id } of held.rows) {
      const r = await c.query<{ free: boolean }>('select pg_try_advisory_lock(hashtextextended($1, 0)) as free', [livenessKey(id)]);
      if (r.rows[0]?.free) taken.push(id);
    }
    // Held while unlocking: no worker can come back under an id whose lock is here.
    if (taken.length) await c.query('select graphile_worker.force_unlock_workers($1::text[])', [taken]);
    return taken;
  } finally {
    for (const id of taken) await c.query('select pg_advisory_unlock(hashtextextended($1, 0))', [livenessKey(id)]).catch(() => undefined);
    c.release();
  }
}

function graceHours(): number {
  const raw = process.env.AEGIS_OPTIMIZER_GRACE_HOURS;
  if (raw === undefined || raw === '') return 12;
  const h = Number(raw);
  if (!Number.isFinite(h) || h < 0 || h > 24) throw new Error(`AEGIS_OPTIMIZER_GRACE_HOURS must be a number of hours between 0 and 24 (got "${raw}")`);
  return h;
}

async function main(): Promise<void> {
  const grace = graceHours();
  const target = await openTarget();
  await prepare(target, (l) => console.log(`[worker] ${l}`));
  const ownerUrl = requireOwner(target);
  // Tenant work runs as the app role (row-level security applies). Listing
  // the tenants (ads_engine.tenants_due) and the queue, which creates its own
  // schema, use the owner connection.
  const app = createDb(target.appUrl, { max: 4 });
  // Ticks, and each running optimize job's per-tenant lock and due check.
  const owner = createDb(ownerUrl, { max: 4 });

  // The session whose advisory locks say this process's workers are alive.
  const liveness = new pg.Client({ connectionString: ownerUrl, application_name: 'aegis-worker-liveness' });
  liveness.on('error', (err) => {
    console.error(`[worker] lost the connection that shows this worker is alive (${err.message}): exiting, so that its jobs are taken over safely.`);
    process.exit(1);
  });
  await liveness.connect();
  const alive: GraphileConfig.Plugin = {
    name: 'AegisWorkerLiveness',
    version: '1.0.0',
    description: 'Each worker holds a session advisory lock on its id before it takes a job',
    worker: {
      hooks: {
        startWorker: async (_ctx, event) => {
          const r = await liveness.query<{ ok: boolean }>('select pg_try_advisory_lock(hashtextextended($1, 0)) as ok', [livenessKey(event.worker.workerId)]);
          if (!r.rows[0]?.ok) throw new Error(`worker id ${event.worker.workerId} is held by another process`);
        },
      },
    },
  };
  const sweep = async () => {
    const gone = await releaseJobsOfGoneWorkers(owner.pool);
    if (gone.length) console.log(`[worker] unlocked the jobs of ${gone.length} worker(s) that are gone: ${gone.join(', ')}`);
  };

  const tick: Task = async (_payload, helpers) => {
    const due = await listTenants(owner.db, { now: new Date(), graceHours: grace });
    for (const t of due) {
      await helpers.addJob('optimize_tenant', { tenantId: t.tenantId, asOf: t.asOf }, { jobKey: `optimize:${t.tenantId}`, maxAttempts: 3 });
    }
    helpers.logger.info(`${due.length} tenant(s) due`);
  };

  const optimizeTenant: Task = async (payload, helpers) => {
    const p = (payload ?? {}) as { tenantId?: unknown; asOf?: unknown };
    if (!isUuid(p.tenantId)) throw new Error('optimize_tenant: payload.tenantId must be a uuid');
    const tenantId = p.tenantId;
    const asOf = isDayString(p.asOf) ? p.asOf : undefined;
    // One optimize job per tenant at a time (a session lock: it dies with a killed worker), and only while the
    // tenant is still due for the day: a retried job, or one a tick queued while another ran, finds it done.
    const key = `aegis.optimize_job:${tenantId}`;
    const lock = await owner.pool.connect();
    try {
      await lock.query('select pg_advisory_lock(hashtextextended($1, 0))', [key]);
      const due = (await listTenants(owner.db, { now: new Date(), graceHours: grace })).find((t) => t.tenantId === tenantId);
      if (!due || (asOf !== undefined && due.asOf !== asOf)) {
        helpers.logger.info(`${tenantId}  skipped: no longer due${asOf ? ` for ${asOf}` : ''} (another run did it)`);
        return;
      }
      const started = performance.now();
      const summary = await runDailyLoop(app.db, tenantId, { trigger: 'schedule', asOf });
      helpers.logger.info(formatResult({ tenantId, ok: true, summary, ms: Math.round(performance.now() - started) }));
    } finally {
      // A connection that cannot unlock is dropped: its session, and the lock with it, end.
      const unlocked = await lock.query('select pg_advisory_unlock(hashtextextended($1, 0))', [key]).then(
        () => undefined,
        (e: Error) => e,
      );
      lock.release(unlocked);
    }
    // Its own job: a channel that is down must not make the loop run again.
    await helpers.addJob('dispatch_alerts', { tenantId }, { jobKey: `alerts:${tenantId}`, maxAttempts: 3 });
  };

  const dispatch: Task = async (payload, helpers) => {
    const p = (payload ?? {}) as { tenantId?: unknown };
    if (!isUuid(p.tenantId)) throw new Error('dispatch_alerts: payload.tenantId must be a uuid');
    const summary = await dispatchAlerts(app.db, p.tenantId);
    if (summary.queued || summary.attempted) helpers.logger.info(formatDispatch(summary));
    if (summary.nextAttemptAt) {
      // The earliest retry of the tenant: 'replace' moves the one pending retry job to it.
      await helpers.addJob('dispatch_alerts', { tenantId: p.tenantId }, {
        jobKey: `alerts-retry:${p.tenantId}`,
        jobKeyMode: 'replace',
        runAt: summary.nextAttemptAt,
        maxAttempts: 3,
      });
    }
  };

  const alertsTick: Task = async (_payload, helpers) => {
    // Owner connection: the app role may not list tenants (ads_engine.alert_tenants checks its caller).
    const { rows } = await sql<{ tenant_id: string }>`select tenant_id from ads_engine.alert_tenants()`.execute(owner.db);
    for (const r of rows) {
      await helpers.addJob('dispatch_alerts', { tenantId: r.tenant_id }, { jobKey: `alerts:${r.tenant_id}`, maxAttempts: 3 });
    }
  };

  const taskList: TaskList = { optimizer_tick: tick, optimize_tenant: optimizeTenant, dispatch_alerts: dispatch, alerts_tick: alertsTick };
  // Before this process's workers exist: what a dead worker held is free for them at once.
  await sweep();
  const runner = await run({
    connectionString: ownerUrl,
    concurrency: 2,
    taskList,
    preset: { plugins: [alive] },
    // Hourly; tenants_due decides who is due. ?fill=1h runs a missed tick after a restart.
    crontab: '0 * * * * optimizer_tick ?fill=1h&max=1\n*/5 * * * * alerts_tick\n',
  });
  const sweeping = setInterval(() => sweep().catch((err: Error) => console.error(`[worker] looking for jobs of gone workers failed: ${err.message}`)), SWEEP_MS);
  console.log(`[worker] running: optimizer_tick every hour (grace ${grace} h after local midnight), alerts_tick every 5 minutes. Ctrl-C to stop.`);
  // Check at start too, so a fresh worker does not wait up to an hour.
  await runner.addJob('optimizer_tick', {}, { jobKey: 'optimizer_tick:startup' });
  try {
    await runner.promise;
  } finally {
    clearInterval(sweeping);
    await app.db.destroy();
    await owner.db.destroy();
    liveness.removeAllListeners('error');
    liveness.on('error', () => undefined);
    await liveness.end().catch(() => undefined);
    await target.stop();
  }
}

main().catch((err: Error) => {
  console.error(`[worker] error: ${err.message}`);
  process.exit(1);
});
