// npm run optimize [-- --tenant <uuid>] [--as-of YYYY-MM-DD]: the daily loop
// from the command line, for every tenant or one, printing what it did per
// tenant. Exits 1 when any tenant failed (the others still ran).
// Each tenant's loop runs as the app role (row-level security applies); the
// list of every tenant is read over the owner's connection, as the app role
// may not enumerate tenants. Without --as-of each tenant gets its own
// yesterday (its time zone). After a tenant's run succeeds, its new anomalies
// go to its alert channels (dispatchAlerts, docs/alerts.md), unless
// --no-alerts; failed deliveries are retried later by the worker.
import { failureText } from './failure';
import { dispatchAlerts, formatDispatch } from '../lib/alerts/dispatch';
import { createDb, isUuid, type DbHandle } from '../lib/db/pool';
import { formatResult, LIST_NEEDS_OWNER, runAllTenants } from '../lib/engine/loop';
import { isDayString } from '../lib/format/time';
import { openTarget, prepare } from '../db/tools/target';

interface Args {
  tenants: string[];
  asOf?: string;
  alerts: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { tenants: [], alerts: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--tenant' || a === '-t') {
      const t = value();
      if (!isUuid(t)) throw new Error(`--tenant: "${t}" is not a uuid`);
      args.tenants.push(t);
    } else if (a === '--as-of') {
      const d = value();
      if (!isDayString(d)) throw new Error(`--as-of: "${d}" is not a day (YYYY-MM-DD)`);
      args.asOf = d;
    } else if (a === '--no-alerts') {
      args.alerts = false;
    } else if (a === '--help' || a === '-h') {
      console.log('usage: npm run optimize [-- --tenant <uuid> ...] [--as-of YYYY-MM-DD] [--no-alerts]');
      console.log('Every tenant (no --tenant) needs DATABASE_OWNER_URL besides DATABASE_URL: only the owner may list tenants.');
      process.exit(0);
    } else {
      throw new Error(`unknown argument ${a} (try --help)`);
    }
  }
  return args;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const target = await openTarget();
  if (!target.ownerUrl && args.tenants.length === 0) {
    await target.stop();
    throw new Error(`${LIST_NEEDS_OWNER} (e.g. npm run optimize -- --tenant <uuid>)`);
  }
  const { db } = createDb(target.appUrl, { max: 2 });
  let owner: DbHandle | undefined;
  try {
    // With only the app role's URL (DATABASE_URL without DATABASE_OWNER_URL) the schema is taken as deployed.
    if (target.ownerUrl) {
      await prepare(target, () => undefined);
      if (args.tenants.length === 0) owner = createDb(target.ownerUrl, { max: 1 });
    }
    const results = await runAllTenants(db, {
      trigger: 'cli',
      tenantIds: args.tenants,
      listDb: owner?.db,
      asOf: args.asOf,
      onResult: (r) => console.log(formatResult(r)),
    });
    if (args.alerts) {
      for (const r of results.filter((x) => x.ok)) {
        try {
          console.log(formatDispatch(await dispatchAlerts(db, r.tenantId)));
        } catch (err) {
          console.error(`alerts ${r.tenantId}: ${failureText(err)}`);
        }
      }
    }
    const failed = results.filter((r) => !r.ok).length;
    console.log(`${results.length} tenant(s): ${results.length - failed} ok, ${failed} failed`);
    return failed ? 1 : 0;
  } finally {
    await db.destroy();
    await owner?.db.destroy();
    await target.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`error: ${failureText(err)}`);
    process.exit(1);
  },
);
