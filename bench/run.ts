// Times the daily loop on the data of bench/generate.ts: for one tenant, for
// every tenant, and compute_baselines against its floor, one plain aggregate
// scan of the same rows (same tenant transaction, same RLS, same index).
//
//   npm run bench -- [--db aegis_bench] [--repeat 7] [--concurrency 2] [--skip-all]
//
// Writes bench/out/results.json too. The app role connects like the web tier
// (BENCH_APP_URL, default aegis_app on BENCH_ADMIN_URL's server).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { withDatabase, withCredentials } from '../lib/db/config';
import { createDb } from '../lib/db/pool';
import { runDailyLoop } from '../lib/engine/loop';
import { adminUrl, BENCH_TENANT_SQL } from './generate';

interface Args {
  db: string;
  repeat: number;
  concurrency: number;
  skipAll: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { db: 'aegis_bench', repeat: 7, concurrency: 2, skipAll: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => argv[++i] ?? '';
    if (k === '--db') a.db = v();
    else if (k === '--repeat') a.repeat = Math.max(1, Number(v()) || 1);
    else if (k === '--concurrency') a.concurrency = Math.max(1, Number(v()) || 1);
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

/** ms of fn run `repeat` times inside a tenant transaction that is rolled back (state unchanged). */
async function timeInTenant(pool: pg.Pool, tenant: string, repeat: number, fn: (c: pg.PoolClient) => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  const c = await pool.connect();
  try {
    await fn(c).catch(() => undefined); // warm-up: caches and plans
    for (let i = 0; i < repeat; i++) {
      await c.query('begin');
      await c.query("select set_config('saas.tenant_id', $1, true)", [tenant]);
      const t0 = performance.now();
      await fn(c);
      times.push(performance.now() - t0);
      await c.query('rollback');
    }
  } finally {
    c.release();
  }
  return times;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const ownerUrl = withDatabase(adminUrl(), args.db);
  const appUrl = process.env.BENCH_APP_URL ?? withCredentials(ownerUrl, 'aegis_app', null);
  const owner = new pg.Client({ connectionString: ownerUrl });
  await owner.connect();
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
  const report = (name: string, times: number[]) => {
    const m = median(times);
    results[name] = { median_ms: Number(m.toFixed(2)), runs: times.map((t) => Number(t.toFixed(2))) };
    console.log(`${name.padEnd(46)} median ${m.toFixed(2).padStart(9)} ms   (${times.length} runs)`);
    return m;
  };

  // The floor: one aggregate scan of the rows compute_baselines reads for one window.
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
  const cb30 = report(
    "compute_baselines(meta, campaign, 30)",
    await timeInTenant(pool, tenant, args.repeat, (c) => c.query(`select ads_engine.compute_baselines($1, 'meta', 'campaign', 30, $2::date)`, [tenant, asOf])),
  );
  const scan90 = report(
    'plain aggregate scan, all platforms, 90 days',
    await timeInTenant(pool, tenant, args.repeat, (c) =>
      c.query(
        `select count(*), sum(spend), sum(impressions), sum(clicks), sum(conversions), sum(conversion_value)
         from ads.metrics_daily where tenant_id = $1 and day between $2::date - 89 and $2::date`,
        [tenant, asOf],
      ),
    ),
  );
  const cbAll = report(
    'compute_baselines(tenant): all windows, levels',
    await timeInTenant(pool, tenant, args.repeat, (c) => c.query(`select ads_engine.compute_baselines($1, $2::date)`, [tenant, asOf])),
  );
  report(
    'analyze_campaign_performance(7 days)',
    await timeInTenant(pool, tenant, args.repeat, (c) => c.query(`select * from ads_engine.analyze_campaign_performance($1, 'cmp-2', 'meta', 7, $2::date)`, [tenant, asOf])),
  );
  report(
    'generate_recommendations',
    await timeInTenant(pool, tenant, args.repeat, (c) => c.query(`select ads_engine.generate_recommendations($1, $2::date)`, [tenant, asOf])),
  );
  report(
    'detect_anomalies',
    await timeInTenant(pool, tenant, args.repeat, (c) => c.query(`select ads_engine.detect_anomalies($1, $2::date)`, [tenant, asOf])),
  );
  const loop1 = report(
    'daily loop, one tenant (rolled back)',
    await timeInTenant(pool, tenant, args.repeat, (c) => c.query(`select ads_engine.run_daily_loop($1, $2::date, 'cli')`, [tenant, asOf])),
  );
  const ratio30 = cb30 / scan30;
  const ratioAll = cbAll / scan90;
  results.ratio_compute_baselines_to_scan = Number(ratio30.toFixed(2));
  results.ratio_all_windows_to_scan90 = Number(ratioAll.toFixed(2));
  console.log(`\nratio compute_baselines / plain scan (same rows):          ${ratio30.toFixed(2)}`);
  console.log(`ratio all windows and levels / one 90-day scan:            ${ratioAll.toFixed(2)}`);

  if (!args.skipAll) {
    // Every tenant, committed, as the command line and the scheduler run it. Cleared first: a first run of the day.
    await owner.query('truncate ads.optimization_recommendations, ads.anomalies, ads.campaign_performance, ads.baselines, ads_engine.optimizer_runs');
    const ids = (await owner.query<{ id: string }>('select id from saas.tenants order by id')).rows.map((r) => r.id);
    const { db } = createDb(appUrl, { max: args.concurrency });
    for (const pass of ['first', 'second']) {
      const t0 = performance.now();
      let next = 0;
      const created = { recommendations: 0, anomalies: 0 };
      const worker = async () => {
        while (next < ids.length) {
          const id = ids[next++]!;
          const s = await runDailyLoop(db, id, { asOf, trigger: 'cli' });
          created.recommendations += s.recommendations;
          created.anomalies += s.anomalies;
        }
      };
      await Promise.all(Array.from({ length: args.concurrency }, worker));
      const secs = (performance.now() - t0) / 1000;
      results[`all_tenants_${pass}_pass`] = { seconds: Number(secs.toFixed(2)), tenants: ids.length, concurrency: args.concurrency, ...created };
      console.log(
        `daily loop, all ${ids.length} tenants, ${pass} pass (concurrency ${args.concurrency}): ${secs.toFixed(1)} s, ` +
          `${(ids.length / secs).toFixed(1)} tenants/s; ${created.recommendations} recommendations, ${created.anomalies} anomalies created`,
      );
    }
    await db.destroy();
    results.loop_one_tenant_ms = Number(loop1.toFixed(2));
  }

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
