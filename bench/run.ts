// Times the daily loop on the data of bench/generate.ts against its floors:
// for one tenant, each step of the loop and compute_baselines against one
// plain aggregate read of the same rows (same tenant transaction, same RLS);
// for every tenant, the loop as `npm run optimize` runs it (a first pass, then
// a second pass with nothing new) against one read of every tenant's last 90
// days, made the same way (one tenant transaction each, same connections).
//
//   npm run bench -- [--db aegis_bench] [--repeat 7] [--concurrency 2] [--passes 3] [--no-daily] [--skip-all]
//
// Each of the `passes` rounds empties what the loop writes, times a first pass
// over every tenant (a fresh start: the 7 days to examine each), a second pass
// with nothing new, and (unless --no-daily) a first pass of a new day: the
// loop is run for the day before (untimed), then for the day itself.
//
// Writes bench/out/results.json too. The app role connects like the web tier
// (BENCH_APP_URL, default aegis_app on BENCH_ADMIN_URL's server).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { withDatabase, withCredentials } from '../lib/db/config';
import { createDb, withTenant, type Db } from '../lib/db/pool';
import { runDailyLoop } from '../lib/engine/loop';
import { adminUrl, BENCH_TENANT_SQL } from './generate';

interface Args {
  db: string;
  repeat: number;
  concurrency: number;
  passes: number;
  daily: boolean;
  skipAll: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { db: 'aegis_bench', repeat: 7, concurrency: 2, passes: 3, daily: true, skipAll: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => argv[++i] ?? '';
    if (k === '--db') a.db = v();
    else if (k === '--repeat') a.repeat = Math.max(1, Number(v()) || 1);
    else if (k === '--concurrency') a.concurrency = Math.max(1, Number(v()) || 1);
    else if (k === '--passes') a.passes = Math.max(1, Number(v()) || 1);
    else if (k === '--no-daily') a.daily = false;
    else if (k === '--skip-all') a.skipAll = true;
    else throw new Error(`unknown argument ${k}`);
  }
  return a;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
/** A median, wall (ms or s), with the server's CPU in ms when it was measured. */
interface Figure {
  m: number;
  cpu: number | null;
  unit: string;
}
const spread = (xs: number[]) => `${Math.min(...xs).toFixed(2)}..${Math.max(...xs).toFixed(2)}`;

/** The loop's 90-day read: every row of the tenant's last 90 days, aggregated once. */
const SCAN_90 = `select count(*), sum(spend), sum(impressions), sum(clicks), sum(conversions), sum(conversion_value)
                 from ads.metrics_daily where tenant_id = $1 and day between $2::date - 89 and $2::date`;

/** The guide's per-platform, per-window use of compute_baselines (its maintenance section), for one tenant. */
const PLATFORMS = ['meta', 'google', 'tiktok', 'linkedin'];
const WINDOWS = [1, 7, 14, 30, 90];

/** ms of CPU the server process has used so far, when it runs on this machine (NaN otherwise): steadier than wall time on a loaded machine. */
function backendCpu(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return NaN;
  }
}

/** ms of fn run `repeat` times inside a tenant transaction that is rolled back (state unchanged), wall and the server's CPU. */
async function timeInTenant(
  pool: pg.Pool,
  tenant: string,
  repeat: number,
  fn: (c: pg.PoolClient) => Promise<unknown>,
): Promise<number[] & { cpu: number[] }> {
  const times = Object.assign([] as number[], { cpu: [] as number[] });
  const c = await pool.connect();
  try {
    const pid = (await c.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
    // warm-up: caches, and enough calls for the plan cache to settle on its plans
    for (let i = 0; i < 6; i++) {
      await c.query('begin');
      await c.query("select set_config('saas.tenant_id', $1, true)", [tenant]);
      await fn(c).catch(() => undefined);
      await c.query('rollback');
    }
    for (let i = 0; i < repeat; i++) {
      await c.query('begin');
      await c.query("select set_config('saas.tenant_id', $1, true)", [tenant]);
      const t0 = performance.now();
      const c0 = backendCpu(pid);
      await fn(c);
      times.push(performance.now() - t0);
      times.cpu.push(backendCpu(pid) - c0);
      await c.query('rollback');
    }
  } finally {
    c.release();
  }
  return times;
}

/** Seconds to run fn for every tenant, `concurrency` at a time, as runAllTenants would with that many connections. */
async function overTenants(ids: string[], concurrency: number, fn: (id: string) => Promise<void>): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < ids.length) await fn(ids[next++]!);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return (performance.now() - t0) / 1000;
}

/** What the loop writes, emptied: the next pass is a first pass on fresh data. */
async function clearLoopOutputs(owner: pg.Client): Promise<void> {
  const tables = [
    'ads.optimization_recommendations', 'ads.anomalies', 'ads.campaign_performance', 'ads.baselines', 'ads_engine.optimizer_runs',
    'ads_engine.examined_days', 'ads_engine.conversion_lag', 'ads_engine.recommendation_outcomes', 'ads_engine.auto_applications',
    'ads_engine.loop_state', 'ads_engine.loop_changes',
  ];
  const present = (await owner.query<{ t: string }>('select t from unnest($1::text[]) t where to_regclass(t) is not null', [tables])).rows.map((r) => r.t);
  // CASCADE: the anomalies' events, snoozes and alert items go with them
  await owner.query(`truncate ${present.join(', ')} cascade`);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const ownerUrl = withDatabase(adminUrl(), args.db);
  const appUrl = process.env.BENCH_APP_URL ?? withCredentials(ownerUrl, 'aegis_app', null);
  const owner = new pg.Client({ connectionString: ownerUrl });
  await owner.connect();
  owner.on('notice', () => undefined);
  const facts = (
    await owner.query<{ rows: string; tenants: string; as_of: string; size: string; version: string }>(`
      select (select count(*) from ads.metrics_daily) as rows, (select count(*) from saas.tenants) as tenants,
             (select max(day)::text from ads.metrics_daily) as as_of,
             pg_size_pretty(pg_total_relation_size('ads.metrics_daily')) as size, current_setting('server_version') as version`)
  ).rows[0]!;
  const tenant = (await owner.query<{ id: string }>(`select ${BENCH_TENANT_SQL} as id from (select 1 as t) x`)).rows[0]!.id;
  const perTenant = (await owner.query<{ n: string }>('select count(*) as n from ads.metrics_daily where tenant_id = $1', [tenant])).rows[0]!.n;
  console.log(`PostgreSQL ${facts.version}; ${Number(facts.rows).toLocaleString()} metric rows (${facts.size}), ${facts.tenants} tenants, as of ${facts.as_of}`);
  console.log(`one tenant: ${tenant} (${Number(perTenant).toLocaleString()} rows)\n`);

  const pool = new pg.Pool({ connectionString: appUrl, max: args.concurrency + 1 });
  const asOf = facts.as_of;
  const results: Record<string, unknown> = { facts: { ...facts, tenant, perTenantRows: Number(perTenant) } };
  const report = (name: string, times: number[] & { cpu?: number[] }, unit = 'ms'): Figure => {
    const m = median(times);
    const cpu = times.cpu && times.cpu.every(Number.isFinite) ? median(times.cpu) : null;
    results[name] = { median: Number(m.toFixed(3)), unit, runs: times.map((t) => Number(t.toFixed(3))), ...(cpu !== null ? { cpu_median: Number(cpu.toFixed(3)) } : {}) };
    console.log(
      `${name.padEnd(58)} median ${m.toFixed(2).padStart(9)} ${unit}  (${times.length} runs, ${spread(times)})` +
        (cpu !== null ? `, server CPU ${cpu.toFixed(2)} ms` : ''),
    );
    return { m, cpu, unit };
  };
  const table: { figure: string; now: Figure; floor: Figure }[] = [];
  // The steps of one tenant are timed from the same state as a first pass: nothing written by an earlier run.
  await clearLoopOutputs(owner);

  // The floors: one aggregate read of the rows a step reads.
  const scan30 = report(
    'plain aggregate scan, meta, 30 days',
    await timeInTenant(pool, tenant, args.repeat, (c) =>
      c.query(
        `select count(*), sum(spend), sum(impressions), sum(clicks), sum(conversions), sum(conversion_value)
         from ads.metrics_daily where tenant_id = $1 and platform = 'meta' and level = 'campaign' and day between $2::date - 29 and $2::date`,
        [tenant, asOf],
      ),
    ),
  );
  const scan90 = report('plain aggregate scan, all platforms, 90 days (floor)', await timeInTenant(pool, tenant, args.repeat, (c) => c.query(SCAN_90, [tenant, asOf])));
  const cb30 = report(
    'compute_baselines(meta, campaign, 30)',
    await timeInTenant(pool, tenant, args.repeat, (c) => c.query(`select ads_engine.compute_baselines($1, 'meta', 'campaign', 30, $2::date)`, [tenant, asOf])),
  );
  const cb20 = report(
    `compute_baselines x ${PLATFORMS.length * WINDOWS.length} (${PLATFORMS.length} platforms x ${WINDOWS.length} windows)`,
    await timeInTenant(pool, tenant, args.repeat, async (c) => {
      for (const p of PLATFORMS) for (const w of WINDOWS) await c.query(`select ads_engine.compute_baselines($1, $2, 'campaign', $3, $4::date)`, [tenant, p, w, asOf]);
    }),
  );
  table.push({ figure: `compute_baselines x ${PLATFORMS.length * WINDOWS.length}, one tenant`, now: cb20, floor: scan90 });
  const cbAll = report(
    'compute_baselines(tenant): all windows, levels',
    await timeInTenant(pool, tenant, args.repeat, (c) => c.query(`select ads_engine.compute_baselines($1, $2::date)`, [tenant, asOf])),
  );
  report(
    'analyze_campaign_performance(7 days)',
    await timeInTenant(pool, tenant, args.repeat, (c) => c.query(`select * from ads_engine.analyze_campaign_performance($1, 'cmp-2', 'meta', 7, $2::date)`, [tenant, asOf])),
  );
  const rec = report(
    'generate_recommendations',
    await timeInTenant(pool, tenant, args.repeat, (c) => c.query(`select ads_engine.generate_recommendations($1, $2::date)`, [tenant, asOf])),
  );
  table.push({ figure: 'generate_recommendations, one tenant', now: rec, floor: scan90 });
  // each run rolled back: the ledger is empty again, so every run examines the 7 days to as_of
  const det = report(
    'detect_anomalies (7 days to examine)',
    await timeInTenant(pool, tenant, args.repeat, (c) => c.query(`select ads_engine.detect_anomalies($1, $2::date)`, [tenant, asOf])),
  );
  table.push({ figure: 'detect_anomalies, one tenant', now: det, floor: scan90 });
  report(
    'daily loop, one tenant (rolled back)',
    await timeInTenant(pool, tenant, args.repeat, (c) => c.query(`select ads_engine.run_daily_loop($1, $2::date, 'cli')`, [tenant, asOf])),
  );
  results.ratio_compute_baselines_to_scan30 = Number((cb30.m / scan30.m).toFixed(2));
  results.ratio_all_windows_to_scan90 = Number((cbAll.m / scan90.m).toFixed(2));

  if (!args.skipAll) {
    const ids = (await owner.query<{ id: string }>('select id from saas.tenants order by id')).rows.map((r) => r.id);
    const { db } = createDb(appUrl, { max: args.concurrency });
    const floorRead = async (dbh: Db, id: string) => {
      await withTenant(id, (trx) => sql`select count(*), sum(spend), sum(impressions), sum(clicks), sum(conversions), sum(conversion_value)
        from ads.metrics_daily where tenant_id = ${id}::uuid and day between ${asOf}::date - 89 and ${asOf}::date`.execute(trx), {}, dbh);
    };
    await overTenants(ids, args.concurrency, (id) => floorRead(db, id)); // warm-up
    const floors: number[] = [];
    const first: number[] = [];
    const second: number[] = [];
    const daily: number[] = [];
    const created: Record<string, { recommendations: number; anomalies: number; skipped: number }>[] = [];
    const dayBefore = new Date(Date.parse(`${asOf}T00:00:00Z`) - 86400e3).toISOString().slice(0, 10);
    // Every tenant, committed, as the command line and the scheduler run it.
    const allTenants = async (day: string, label: string, times: number[] | null, counts: Record<string, unknown>) => {
      const c = { recommendations: 0, anomalies: 0, skipped: 0 };
      const secs = await overTenants(ids, args.concurrency, async (id) => {
        const s = await runDailyLoop(db, id, { asOf: day, trigger: 'cli' });
        c.recommendations += s.recommendations;
        c.anomalies += s.anomalies;
        if (s.skipped) c.skipped++;
      });
      times?.push(secs);
      counts[label] = c;
      console.log(`  ${label}: ${secs.toFixed(2)} s; ${c.recommendations} recommendations, ${c.anomalies} anomalies created, ${c.skipped} tenants skipped`);
    };
    for (let pass = 0; pass < args.passes; pass++) {
      const counts: Record<string, { recommendations: number; anomalies: number; skipped: number }> = {};
      floors.push(await overTenants(ids, args.concurrency, (id) => floorRead(db, id)));
      console.log(`  round ${pass + 1}: floor ${floors[floors.length - 1]!.toFixed(2)} s`);
      await clearLoopOutputs(owner);
      await allTenants(asOf, 'first pass', first, counts);
      await allTenants(asOf, 'second pass', second, counts);
      if (args.daily) {
        await clearLoopOutputs(owner);
        await allTenants(dayBefore, 'the day before (untimed)', null, counts);
        await allTenants(asOf, 'first pass of the new day', daily, counts);
      }
      created.push(counts);
    }
    await db.destroy();
    const floorAll = report(`one read of every tenant's 90 days (${ids.length}, concurrency ${args.concurrency}) (floor)`, floors, 's');
    const firstAll = report(`daily loop, all ${ids.length} tenants, first pass`, first, 's');
    const secondAll = report(`daily loop, all ${ids.length} tenants, second pass (nothing new)`, second, 's');
    results.created = created;
    table.push({ figure: `daily loop, all ${ids.length} tenants (first pass, 7 days to examine)`, now: firstAll, floor: floorAll });
    if (args.daily) {
      const dailyAll = report(`daily loop, all ${ids.length} tenants, first pass of a new day`, daily, 's');
      table.push({ figure: `daily loop, all ${ids.length} tenants (a new day: 1 day to examine)`, now: dailyAll, floor: floorAll });
    }
    table.push({ figure: `daily loop again, nothing new`, now: secondAll, floor: floorAll });
    // one tenant's pass with nothing new, rolled back (the state above is a second pass's: settled)
    table.push({
      figure: 'daily loop again, nothing new, one tenant',
      now: report(
        'daily loop again, nothing new, one tenant (rolled back)',
        await timeInTenant(pool, tenant, args.repeat, (c) => c.query(`select ads_engine.run_daily_loop($1, $2::date, 'cli')`, [tenant, asOf])),
      ),
      floor: scan90,
    });
  }

  // per tenant, also the ratio of server CPU (the one a loaded machine moves least)
  console.log('\n| figure | now | floor | ratio | CPU ratio |\n| --- | ---: | ---: | ---: | ---: |');
  for (const { figure, now, floor } of table) {
    const cpu = now.cpu !== null && floor.cpu !== null ? (now.cpu / floor.cpu).toFixed(2) : '';
    console.log(`| ${figure} | ${now.m.toFixed(2)} ${now.unit} | ${floor.m.toFixed(2)} ${floor.unit} | ${(now.m / floor.m).toFixed(2)} | ${cpu} |`);
  }
  results.table = table.map(({ figure, now, floor }) => ({ figure, now, floor, ratio: Number((now.m / floor.m).toFixed(2)) }));

  const out = path.join(__dirname, 'out');
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'results.json'), JSON.stringify(results, null, 2));
  await pool.end();
  await owner.end();
}

main().catch((err: Error) => {
  console.error(`error: ${err.message}`);
  process.exit(1);
});
