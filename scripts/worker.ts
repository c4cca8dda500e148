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
import { sql } from 'kysely';
import { run, type Task, type TaskList } from 'graphile-worker';
import { dispatchAlerts, formatDispatch } from '../lib/alerts/dispatch';
import { createDb, isUuid } from '../lib/db/pool';
import { formatResult, listTenants, runDailyLoop } from '../lib/engine/loop';
import { isDayString } from '../lib/format/time';
import { openTarget, prepare, requireOwner } from '../db/tools/target';


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
  const owner = createDb(ownerUrl, { max: 1 });

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
    const asOf = isDayString(p.asOf) ? p.asOf : undefined;
    const started = performance.now();
    const summary = await runDailyLoop(app.db, p.tenantId, { trigger: 'schedule', asOf });
    helpers.logger.info(formatResult({ tenantId: p.tenantId, ok: true, summary, ms: Math.round(performance.now() - started) }));
    // Its own job: a channel that is down must not make the loop run again.
    await helpers.addJob('dispatch_alerts', { tenantId: p.tenantId }, { jobKey: `alerts:${p.tenantId}`, maxAttempts: 3 });
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
  const runner = await run({
    connectionString: ownerUrl,
    concurrency: 2,
    taskList,
    // Hourly; tenants_due decides who is due. ?fill=1h runs a missed tick after a restart.
    crontab: '0 * * * * optimizer_tick ?fill=1h&max=1\n*/5 * * * * alerts_tick\n',
  });
  console.log(`[worker] running: optimizer_tick every hour (grace ${grace} h after local midnight), alerts_tick every 5 minutes. Ctrl-C to stop.`);
  // Check at start too, so a fresh worker does not wait up to an hour.
  await runner.addJob('optimizer_tick', {}, { jobKey: 'optimizer_tick:startup' });
  try {
    await runner.promise;
  } finally {
    await app.db.destroy();
    await owner.db.destroy();
    await target.stop();
  }
}

main().catch((err: Error) => {
  console.error(`[worker] error: ${err.message}`);
  process.exit(1);
});
