// The performance page's database time on the data of bench/generate.ts
// (made with --large N: one large tenant with ad sets), against its floor:
// one plain read of the tenant's rows for the range, in the same kind of
// tenant transaction, on the same connection pool, in the same run.
//
//   npm run bench:performance -- [--db aegis_bench] [--repeat 15] [--tenant 1]
//
// As the app role (BENCH_APP_URL, default aegis_app on BENCH_ADMIN_URL's
// server), each run inside withTenant (RLS on) and rolled back:
//   - page: tenantStyle + parseView + performancePage for the 30-day view
//     (every query the page runs and the JS that shapes them), wall time;
//   - floor: select sum(...) of the tenant's rows at the view's level for the
//     30 days of the range (and, for reference, for all the days the page reads);
//   - each query of the page alone: its SQL and parameters are captured from
//     one page run (a Kysely logger), then replayed one by one (median wall
//     time) and explained (EXPLAIN ANALYZE, BUFFERS); the statements inside
//     functions are explained through auto_explain (nested statements) on an
//     owner connection that SETs ROLE aegis_app.
// Median and p90 of --repeat runs after 2 warm-up runs. Writes
// bench/out/performance-page.json. The target, 10 ms of database time (the
// page's statements, each with its round trip) for the large tenant, is
// printed as met or not; nothing fails on it.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kysely, PostgresDialect, sql, type CompiledQuery, type LogEvent } from 'kysely';
import pg from 'pg';
import { withCredentials, withDatabase } from '../lib/db/config';
import { createDb, withTenant, type Database, type Tx } from '../lib/db/pool';
import { PLATFORMS, type Level } from '../lib/performance/metrics';
import { adminUrl, BENCH_TENANT_SQL, LARGE_TENANT_NUMBER } from './generate';

// lib/performance/queries.ts starts with `import 'server-only'`, which throws
// outside React Server Components (vitest aliases it away for the same
// reason). The marker is stubbed before the module is loaded.
require.cache[require.resolve('server-only')] = { exports: {} } as NodeJS.Module;
const { BAND_DAYS, performancePage, tenantStyle } = require('../lib/performance/queries') as typeof import('../lib/performance/queries');
const { addDays, parseView } = require('../lib/performance/filters') as typeof import('../lib/performance/filters');

const TARGET_MS = 10;
const SET_TENANT = "select set_config('saas.tenant_id', $1, true)";
const WARMUP = 2;

interface Args {
  db: string;
  repeat: number;
  tenant: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { db: 'aegis_bench', repeat: 15, tenant: 1 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => argv[++i] ?? '';
    if (k === '--db') a.db = v();
    else if (k === '--repeat') a.repeat = Math.max(1, Number(v()) || 1);
    else if (k === '--tenant') a.tenant = Math.max(1, Number(v()) || 1);
    else throw new Error(`unknown argument ${k}`);
  }
  return a;
}

const sorted = (xs: number[]) => [...xs].sort((x, y) => x - y);
const median = (xs: number[]) => {
  const s = sorted(xs);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
/** Nearest rank. */
const p90 = (xs: number[]) => sorted(xs)[Math.max(0, Math.ceil(0.9 * xs.length) - 1)]!;
const r2 = (x: number) => Number(x.toFixed(2));
const summary = (times: number[]) => ({ median_ms: r2(median(times)), p90_ms: r2(p90(times)), runs: times.map(r2) });

/** Thrown to roll a benchmark transaction back. */
class Rollback extends Error {}

/** ms of fn in a tenant transaction (withTenant, as the app does), rolled back; WARMUP runs first, then `repeat` timed ones. */
async function timeInTenant(db: Kysely<Database>, tenant: string, repeat: number, fn: (trx: Tx) => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < WARMUP + repeat; i++) {
    let ms = 0;
    await withTenant(
      tenant,
      async (trx) => {
        const t0 = performance.now();
        await fn(trx);
        ms = performance.now() - t0;
        throw new Rollback();
      },
      {},
      db,
    ).catch((err: unknown) => {
      if (!(err instanceof Rollback)) throw err;
    });
    if (i >= WARMUP) times.push(ms);
  }
  return times;
}

/** Which function of lib/performance/queries.ts a captured statement comes from. */
function queryName(text: string): string {
  if (/set_config\('saas\.tenant_id'/.test(text)) return 'withTenant set_config';
  if (/from saas\.tenants t/.test(text)) return 'tenantStyle';
  if (/unnest\(/.test(text) && /exists \(select 1 from ads\.metrics_daily/.test(text)) return 'platformsWithData';
  if (/group by m\.platform, m\.day/.test(text)) return 'readDaily';
  if (/with e as \(/.test(text)) return 'entityRows';
  if (/conversion_completeness/.test(text)) return 'completeness';
  if (/from ads\.anomalies/.test(text)) return 'anomaliesIn';
  if (/performance_benchmarks/.test(text)) return 'benchmarks';
  return 'other';
}

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Relation Name'?: string;
  'Actual Rows'?: number;
  'Actual Total Time'?: number;
  'Actual Loops'?: number;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  'Heap Fetches'?: number;
  Plans?: PlanNode[];
}
interface Explained {
  Plan: PlanNode;
  'Planning Time': number;
  'Execution Time': number;
  /** Present when the statement's cost passed jit_above_cost. */
  JIT?: { Timing?: { Total?: number } };
}

/** The plan's nodes that touch tables, as one line each: node, index, rows, ms. */
function scans(plan: PlanNode): string[] {
  const out: string[] = [];
  const walk = (n: PlanNode) => {
    if (n['Relation Name'] || n['Index Name']) {
      const rows = (n['Actual Rows'] ?? 0) * (n['Actual Loops'] ?? 1);
      const heap = n['Heap Fetches'] !== undefined ? `, heap fetches ${n['Heap Fetches']}` : '';
      out.push(
        `${n['Node Type']}${n['Index Name'] ? ` using ${n['Index Name']}` : ` on ${n['Relation Name']}`}: ${rows} rows x${n['Actual Loops'] ?? 1}, ` +
          `${(n['Actual Total Time'] ?? 0).toFixed(2)} ms, buffers hit ${n['Shared Hit Blocks'] ?? 0} read ${n['Shared Read Blocks'] ?? 0}${heap}`,
      );
    }
    for (const c of n.Plans ?? []) walk(c);
  };
  walk(plan);
  return out;
}

interface QueryFigure {
  name: string;
  wall: ReturnType<typeof summary>;
  execution_ms: number;
  planning_ms: number;
  /** JIT compilation inside execution_ms (0: not compiled). */
  jit_ms: number;
  rows: number;
  shared_hit: number;
  shared_read: number;
  scans: string[];
  /** Statements run inside functions the query calls (auto_explain), slowest first. */
  nested: { duration_ms: number; text: string; scans: string[] }[];
}

/** Each captured statement alone: median wall time over `repeat` runs, then EXPLAIN (ANALYZE, BUFFERS) and the nested statements' plans. */
async function perQuery(pool: pg.Pool, ownerUrl: string, tenant: string, captured: CompiledQuery[], repeat: number): Promise<QueryFigure[]> {
  const out: QueryFigure[] = [];
  const c = await pool.connect();
  const owner = new pg.Client({ connectionString: ownerUrl });
  await owner.connect();
  let notices: string[] = [];
  owner.on('notice', (n) => notices.push(n.message ?? ''));
  try {
    // auto_explain (a superuser LOAD), then the app role for the statements; without it, no nested plans.
    const nestedPlans = await owner
      .query("load 'auto_explain'")
      .then(() => true)
      .catch((err: Error) => {
        console.log(`  (no plans of nested statements: ${err.message})`);
        return false;
      });
    // Transaction-local, like every setting of the project: set again in each rolled-back run below.
    const autoExplain =
      "set local auto_explain.log_min_duration = 0; set local auto_explain.log_analyze = on; set local auto_explain.log_buffers = on; " +
      "set local auto_explain.log_timing = on; set local auto_explain.log_nested_statements = on; set local auto_explain.log_format = 'json'; " +
      "set local auto_explain.log_level = 'notice'; set local client_min_messages = 'notice'";
    for (const q of captured) {
      const name = queryName(q.sql);
      const params = [...q.parameters];
      const times: number[] = [];
      await c.query('begin');
      await c.query(SET_TENANT, [tenant]);
      for (let i = 0; i < WARMUP + repeat; i++) {
        const t0 = performance.now();
        await c.query(q.sql, params);
        if (i >= WARMUP) times.push(performance.now() - t0);
      }
      const ex = (await c.query<{ 'QUERY PLAN': Explained[] }>(`explain (analyze, buffers, format json) ${q.sql}`, params)).rows[0]!['QUERY PLAN'][0]!;
      await c.query('rollback');

      notices = [];
      if (nestedPlans) {
        await owner.query('begin');
        await owner.query(autoExplain);
        await owner.query('set local role aegis_app');
        await owner.query(SET_TENANT, [tenant]);
        await owner.query(q.sql, params);
        await owner.query('rollback');
      }
      const nested: QueryFigure['nested'] = [];
      for (const m of notices) {
        const hit = /^duration: ([\d.]+) ms\s+plan:\s*([\s\S]*)$/.exec(m);
        if (!hit) continue;
        const p = JSON.parse(hit[2]!) as { 'Query Text': string; Plan: PlanNode };
        // the statement itself, and the set_config before it (an unnamed portal's plan is logged when the next statement replaces it)
        if (p['Query Text'] === q.sql || p['Query Text'] === SET_TENANT) continue;
        nested.push({ duration_ms: r2(Number(hit[1])), text: p['Query Text'].replace(/\s+/g, ' ').trim().slice(0, 160), scans: scans(p.Plan) });
      }
      nested.sort((a, b) => b.duration_ms - a.duration_ms);
      out.push({
        name,
        wall: summary(times),
        execution_ms: r2(ex['Execution Time']),
        planning_ms: r2(ex['Planning Time']),
        jit_ms: r2(ex.JIT?.Timing?.Total ?? 0),
        rows: ex.Plan['Actual Rows'] ?? 0,
        shared_hit: ex.Plan['Shared Hit Blocks'] ?? 0,
        shared_read: ex.Plan['Shared Read Blocks'] ?? 0,
        scans: scans(ex.Plan),
        nested,
      });
    }
  } finally {
    c.release();
    await owner.end();
  }
  return out;
}

const daysBetween = (from: string, to: string) => Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000) + 1;

type Summary = ReturnType<typeof summary>;
interface CaseResult {
  case: string;
  tenant: string;
  level: Level;
  view: { range: string; period: { from: string; to: string; days: number }; comparison: { from: string; to: string; days: number }; page_reads_from: string };
  rows_in_range: number;
  rows_page_days: number;
  entities: number;
  statements: number;
  page: Summary;
  floor: Summary;
  floor_platform_ranges: Summary;
  floor_page_days: Summary;
  ratio_page_to_floor: number;
  ratio_page_to_floor_platform_ranges: number;
  target_ms: number;
  database_ms: number;
  target_met: boolean;
  queries: QueryFigure[];
}

interface Case {
  name: string;
  tenantNumber: number;
  level: Level;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const load0 = os.loadavg()[0]!;
  const ownerUrl = withDatabase(adminUrl(), args.db);
  const appUrl = process.env.BENCH_APP_URL ?? withCredentials(ownerUrl, 'aegis_app', null);
  const owner = new pg.Client({ connectionString: ownerUrl });
  await owner.connect();
  const tenantId = async (t: number) => (await owner.query<{ id: string }>(`select ${BENCH_TENANT_SQL}::text as id from (select $1::int as t) x`, [t])).rows[0]!.id;
  const largeId = await tenantId(LARGE_TENANT_NUMBER);
  const hasLarge = (await owner.query('select 1 from saas.tenants where id = $1', [largeId])).rowCount === 1;
  if (!hasLarge) throw new Error(`no large tenant in ${args.db}: generate with --large N (npm run bench:generate -- ... --large 200)`);
  const facts = (
    await owner.query<{
      rows: string;
      tenants: string;
      size: string;
      version: string;
      shared_buffers: string;
      work_mem: string;
      jit: string;
      all_visible: number | null;
      last_vacuum: string | null;
    }>(`
      select (select count(*) from ads.metrics_daily) as rows, (select count(*) from saas.tenants) as tenants,
             -- index-only scans need the visibility map: the share of the table's pages marked all-visible, and the last vacuum
             (select round(relallvisible::numeric / nullif(relpages, 0), 3)::float8 from pg_class where oid = 'ads.metrics_daily'::regclass) as all_visible,
             (select greatest(last_vacuum, last_autovacuum)::text from pg_stat_user_tables where relid = 'ads.metrics_daily'::regclass) as last_vacuum,
             pg_size_pretty(pg_total_relation_size('ads.metrics_daily')) as size, current_setting('server_version') as version,
             current_setting('shared_buffers') as shared_buffers, current_setting('work_mem') as work_mem, current_setting('jit') as jit`)
  ).rows[0]!;
  console.log(
    `PostgreSQL ${facts.version} (shared_buffers ${facts.shared_buffers}, work_mem ${facts.work_mem}, jit ${facts.jit}); ` +
      `${Number(facts.rows).toLocaleString()} metric rows (${facts.size}), ${facts.tenants} tenants; ${os.cpus().length} CPUs, ` +
      `${Math.round(os.totalmem() / 2 ** 30)} GB RAM; --repeat ${args.repeat} after ${WARMUP} warm-up runs\n` +
      `metrics_daily pages all-visible: ${facts.all_visible ?? 'unknown'} (last vacuum ${facts.last_vacuum ?? 'never'})\n`,
  );

  // The app's own pool (createDb sets the type parsers), with a Kysely instance that can also log what it runs.
  const { pool } = createDb(appUrl, { max: 2 });
  let capture: CompiledQuery[] | null = null;
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool }),
    log: (e: LogEvent) => {
      // the page's statements: not begin / rollback, not withTenant's set_config
      if (capture && e.level === 'query' && /^\s*(select|with)\b/i.test(e.query.sql) && queryName(e.query.sql) !== 'withTenant set_config') capture.push(e.query);
    },
  });

  const cases: Case[] = [
    { name: 'large tenant, campaigns', tenantNumber: LARGE_TENANT_NUMBER, level: 'campaign' },
    { name: 'large tenant, ad sets', tenantNumber: LARGE_TENANT_NUMBER, level: 'adset' },
    { name: `regular tenant ${args.tenant}, campaigns`, tenantNumber: args.tenant, level: 'campaign' },
  ];
  const results: CaseResult[] = [];
  for (const cs of cases) {
    const tenant = await tenantId(cs.tenantNumber);
    const page = async (trx: Tx) => {
      if (capture) capture.length = 0; // keep the last run's statements only
      const { lastDay, ...style } = await tenantStyle(trx, tenant);
      const view = parseView({ range: '30d', level: cs.level }, lastDay);
      return { view, page: await performancePage(trx, tenant, view, style, lastDay) };
    };
    // One run to learn the view (its days) and to capture the statements.
    capture = [];
    let view: Awaited<ReturnType<typeof page>>['view'] | undefined;
    let entities = 0;
    await timeInTenant(db, tenant, 1, async (trx) => {
      const r = await page(trx);
      view = r.view;
      entities = r.page.rows.length;
    });
    const captured: CompiledQuery[] = capture;
    capture = null;
    const v = view!;
    // The days readDaily reads (as performancePage works them out): the comparison, the range, and the band's history before it.
    const pageFrom = [v.comparison.from, v.period.from, addDays(v.period.from, -BAND_DAYS)].sort()[0]!;
    const count = async (from: string) =>
      Number(
        (
          await owner.query<{ n: string }>('select count(*) as n from ads.metrics_daily where tenant_id = $1 and level = $2 and day between $3::date and $4::date', [
            tenant,
            cs.level,
            from,
            v.period.to,
          ])
        ).rows[0]!.n,
      );
    const rowsInRange = await count(v.period.from);
    const rowsPageDays = await count(pageFrom);

    const pageTimes = await timeInTenant(db, tenant, args.repeat, page);
    // The floor as the issue states it; the same read with every platform named (so the (tenant_id, platform, level, day)
    // index gives one exact range per platform: the cheapest way to the same rows); and the floor over all the days the page reads.
    const floorSql = (from: string, ranges: boolean) => (trx: Tx) =>
      sql`select sum(spend), sum(impressions), sum(clicks), sum(conversions), sum(conversion_value)
          from ads.metrics_daily where tenant_id = ${tenant} and level = ${cs.level} and day between ${from}::date and ${v.period.to}::date
          ${ranges ? sql`and platform = any(${[...PLATFORMS]}::text[])` : sql``}`.execute(trx);
    const floorTimes = await timeInTenant(db, tenant, args.repeat, floorSql(v.period.from, false));
    const floorRangesTimes = await timeInTenant(db, tenant, args.repeat, floorSql(v.period.from, true));
    const floorPageDaysTimes = await timeInTenant(db, tenant, args.repeat, floorSql(pageFrom, false));
    const queries = await perQuery(pool, ownerUrl, tenant, captured, args.repeat);

    const pageMs = median(pageTimes);
    const floorMs = median(floorTimes);
    const floorRangesMs = median(floorRangesTimes);
    const res: CaseResult = {
      case: cs.name,
      tenant,
      level: cs.level,
      view: { range: v.range, period: v.period, comparison: v.comparison, page_reads_from: pageFrom },
      rows_in_range: rowsInRange,
      rows_page_days: rowsPageDays,
      entities,
      statements: captured.length,
      page: summary(pageTimes),
      floor: summary(floorTimes),
      floor_platform_ranges: summary(floorRangesTimes),
      floor_page_days: summary(floorPageDaysTimes),
      ratio_page_to_floor: r2(pageMs / floorMs),
      ratio_page_to_floor_platform_ranges: r2(pageMs / floorRangesMs),
      target_ms: TARGET_MS,
      // The issue's target is the page's DATABASE time: its statements, each as the server runs it with its round
      // trip (replayed one by one). The page's wall time adds the driver and the JS that shapes the result.
      database_ms: r2(queries.reduce((a, q) => a + q.wall.median_ms, 0)),
      target_met: queries.reduce((a, q) => a + q.wall.median_ms, 0) < TARGET_MS,
      queries,
    };
    results.push(res);

    console.log(`${cs.name}: ${tenant}, ${v.period.from}..${v.period.to} (compared with ${v.comparison.from}..${v.comparison.to}; the page reads from ${pageFrom})`);
    console.log(`  ${rowsInRange.toLocaleString()} rows in the range, ${rowsPageDays.toLocaleString()} in the days the page reads; ${entities} entities on the page`);
    console.log(`  page  median ${pageMs.toFixed(2).padStart(8)} ms  p90 ${p90(pageTimes).toFixed(2).padStart(8)} ms  (${res.statements} statements)`);
    console.log(`  floor median ${floorMs.toFixed(2).padStart(8)} ms  p90 ${p90(floorTimes).toFixed(2).padStart(8)} ms`);
    console.log(
      `        (every platform named: ${floorRangesMs.toFixed(2)} ms; over the ${daysBetween(pageFrom, v.period.to)} days the page reads: ${median(floorPageDaysTimes).toFixed(2)} ms)`,
    );
    console.log(
      `  ratio page / floor ${(pageMs / floorMs).toFixed(1)} (to the platform-ranges floor ${(pageMs / floorRangesMs).toFixed(1)}); ` +
        `database time ${res.database_ms.toFixed(2)} ms: target ${TARGET_MS} ms ${res.target_met ? 'met' : 'NOT met'}`,
    );
    console.log(`  ${'query'.padEnd(20)} ${'alone'.padStart(9)} ${'execute'.padStart(9)} ${'jit'.padStart(7)} ${'plan'.padStart(7)} ${'rows'.padStart(7)} ${'buffers'.padStart(9)}`);
    for (const q of queries) {
      console.log(
        `  ${q.name.padEnd(20)} ${q.wall.median_ms.toFixed(2).padStart(9)} ${q.execution_ms.toFixed(2).padStart(9)} ${q.jit_ms.toFixed(2).padStart(7)} ` +
          `${q.planning_ms.toFixed(2).padStart(7)} ${String(q.rows).padStart(7)} ${String(q.shared_hit + q.shared_read).padStart(9)}`,
      );
      for (const s of q.scans) console.log(`      ${s}`);
      for (const n of q.nested.slice(0, 2)) {
        console.log(`      inside: ${n.duration_ms.toFixed(2)} ms  ${n.text.slice(0, 90)}...`);
        for (const s of n.scans) console.log(`        ${s}`);
      }
    }
    console.log(`  sum of the queries alone ${queries.reduce((a, q) => a + q.wall.median_ms, 0).toFixed(2)} ms\n`);
  }

  const load1 = os.loadavg()[0]!;
  console.log(
    `${'case'.padEnd(30)} ${'rows in range'.padStart(13)} ${'page ms'.padStart(9)} ${'p90'.padStart(8)} ${'floor ms'.padStart(9)} ${'ratio'.padStart(7)} ` +
      `${'floor* ms'.padStart(9)} ${'ratio*'.padStart(7)} ${'db ms'.padStart(7)}  target ${TARGET_MS} ms (db)`,
  );
  for (const r of results) {
    console.log(
      `${r.case.padEnd(30)} ${r.rows_in_range.toLocaleString().padStart(13)} ${r.page.median_ms.toFixed(2).padStart(9)} ${r.page.p90_ms.toFixed(2).padStart(8)} ` +
        `${r.floor.median_ms.toFixed(2).padStart(9)} ${r.ratio_page_to_floor.toFixed(1).padStart(7)} ` +
        `${r.floor_platform_ranges.median_ms.toFixed(2).padStart(9)} ${r.ratio_page_to_floor_platform_ranges.toFixed(1).padStart(7)} ${r.database_ms.toFixed(2).padStart(7)}  ${r.target_met ? 'met' : 'NOT met'}`,
    );
  }
  console.log(`floor*: the same read with every platform named. Load average ${load0.toFixed(2)} at the start, ${load1.toFixed(2)} at the end (${os.cpus().length} CPUs).`);
  // The run itself keeps about one CPU busy (node and the server in turn): the start shows what else was running.
  if (load0 > 1) console.log('warning: the machine was busy with other work when the run started; figures vary with it');

  const out = path.join(__dirname, 'out');
  mkdirSync(out, { recursive: true });
  writeFileSync(
    path.join(out, 'performance-page.json'),
    JSON.stringify(
      {
        recorded_at: new Date().toISOString(),
        database: args.db,
        repeat: args.repeat,
        warmup: WARMUP,
        machine: {
          cpus: os.cpus().length,
          cpu_model: os.cpus()[0]?.model ?? null,
          ram_gb: Math.round(os.totalmem() / 2 ** 30),
          node: process.version,
          load_average: { start: r2(load0), end: r2(load1) },
        },
        facts: { ...facts, rows: Number(facts.rows), tenants: Number(facts.tenants) },
        cases: results,
      },
      null,
      2,
    ),
  );
  await db.destroy();
  await owner.end();
}

main().catch((err: Error) => {
  console.error(`error: ${err.message}`);
  process.exit(1);
});
