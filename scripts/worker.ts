// npm run worker: the scheduled optimiser on graphile-worker (its queue lives
// in PostgreSQL, schema graphile_worker: no other infrastructure). Every hour
// a cron job asks ads_engine.tenants_due which tenants are due (per their
// optimization_frequency) and queues one job per tenant; job keys collapse
// duplicates, so several workers can run side by side.
import { run, type Task, type TaskList } from 'graphile-worker';
import { createDb, isUuid } from '../lib/db/pool';
import { formatResult, listTenants, runDailyLoop } from '../lib/engine/loop';
import { openTarget, prepare, requireOwner } from './db';

async function main(): Promise<void> {
  const target = await openTarget();
  await prepare(target, (l) => console.log(`[worker] ${l}`));
  // Tenant work runs as the app role (row-level security applies); the queue
  // needs to create its own schema, so it uses the owner connection.
  const { db } = createDb(target.appUrl, { max: 4 });

  const tick: Task = async (_payload, helpers) => {
    const due = await listTenants(db, { now: new Date() });
    for (const t of due) {
      await helpers.addJob('optimize_tenant', { tenantId: t.tenantId }, { jobKey: `optimize:${t.tenantId}`, maxAttempts: 3 });
    }
    helpers.logger.info(`${due.length} tenant(s) due`);
  };

  const optimizeTenant: Task = async (payload, helpers) => {
    const tenantId = (payload as { tenantId?: unknown } | null)?.tenantId;
    if (!isUuid(tenantId)) throw new Error('optimize_tenant: payload.tenantId must be a uuid');
    const started = performance.now();
    const summary = await runDailyLoop(db, tenantId, { trigger: 'schedule' });
    helpers.logger.info(formatResult({ tenantId, ok: true, summary, ms: Math.round(performance.now() - started) }));
  };

  const taskList: TaskList = { optimizer_tick: tick, optimize_tenant: optimizeTenant };
  const runner = await run({
    connectionString: requireOwner(target),
    concurrency: 2,
    taskList,
    // Hourly; tenants_due decides who is due. ?fill=1h runs a missed tick after a restart.
    crontab: '0 * * * * optimizer_tick ?fill=1h&max=1\n',
  });
  console.log('[worker] running: optimizer_tick every hour. Ctrl-C to stop.');
  // Check at start too, so a fresh worker does not wait up to an hour.
  await runner.addJob('optimizer_tick', {}, { jobKey: 'optimizer_tick:startup' });
  try {
    await runner.promise;
  } finally {
    await db.destroy();
    await target.stop();
  }
}

main().catch((err: Error) => {
  console.error(`[worker] error: ${err.message}`);
  process.exit(1);
});
