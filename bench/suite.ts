// npm run bench: every performance figure of the product in one run, each
// against its floor measured in the same run, with the targets, a growth
// curve (1, 3 and 10 million rows) and the daily loop's scaling with workers.
//
//   npx tsx bench/suite.ts [--quick] [--skip-http] [--skip-growth] [--skip-import] [--fresh] [--fresh-state] [--build]
//
// Data: bench/generate.ts, once per data set, reused while its recorded
// parameters match (--fresh regenerates). The engine's state of the day
// before (a catch-up pass of every tenant) is saved once per data set and SQL
// version and put back at every run (--fresh-state makes it again): see
// bench/state.ts. Results: bench/results/<time>.json and latest.json, and a
// markdown table on stdout. How to read it: bench/README.md.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CompiledQuery } from 'kysely';
import pg from 'pg';
import { migrate } from '../db/tools/migrate';
import { projectRoot, withCredentials, withDatabase } from '../lib/db/config';
import { createDb, withTenant, type DbHandle } from '../lib/db/pool';
import { loopInTransaction, runDailyLoop } from '../lib/engine/loop';
import { firstLoadJs, type BuildJs } from './build-size';
import { adminUrl, generate, LARGE_TENANT_NUMBER, parseArgs as generatorArgs, type Dataset } from './generate';
import { build, httpUnderLoad, type HttpOutcome, type LoadOptions } from './http';
import { drain, median, r2, rolledBack, since, spread, timeInTenant, timing, type Spread, type Timing } from './measure';
import { measurePage, PAGES, type PageFigure } from './pages';
import { fileStamp, figuresTable, floorLegend, formatNumber, linearFit, markdownTable, workersReading, type Figure, type Target } from './report';
import { clearState, readSaved, removeOtherTenants, restoreState, saveState, sqlVersion, stateKey, STATE_TABLES, vacuum, writeCounters, writtenOutputs } from './state';

interface Options {
  quick: boolean;
  skipHttp: boolean;
  skipGrowth: boolean;
  skipImport: boolean;
  fresh: boolean;
  freshState: boolean;
  build: boolean;
}

const USAGE = 'usage: npx tsx bench/suite.ts [--quick] [--skip-http] [--skip-growth] [--skip-import] [--fresh] [--fresh-state] [--build]';

export function parseOptions(argv: readonly string[]): Options {
  const o: Options = { quick: false, skipHttp: false, skipGrowth: false, skipImport: false, fresh: false, freshState: false, build: false };
  const flags: Record<string, keyof Options> = {
    '--quick': 'quick',
    '--skip-http': 'skipHttp',
    '--skip-growth': 'skipGrowth',
    '--skip-import': 'skipImport',
    '--fresh': 'fresh',
    '--fresh-state': 'freshState',
    '--build': 'build',
  };
  for (const a of argv) {
    const k = flags[a];
    if (!k) throw new Error(`unknown option ${a}\n${USAGE}`);
    o[k] = true;
  }
  return o;
}

/** Every data set has the same shape; only the number of regular tenants differs, so a tenant's data is the same size in each. */
const SHAPE = ['--campaigns', '10', '--days', '200', '--large', '200', '--adsets', '--vacuum', '--batch', '20'];
const SETS = [
  { label: '1 M', db: 'aegis_bench_suite_1m', tenants: 100 },
  { label: '3 M', db: 'aegis_bench_suite_3m', tenants: 300 },
  { label: '10 M', db: 'aegis_bench_suite_10m', tenants: 1000 },
] as const;
type DataSet = (typeof SETS)[number];

interface Sizes {
  /** Runs of each statement, page and function (after a warm-up). */
  repeat: number;
  /** Runs of the loop for one tenant (regular; the large tenant's take longer). */
  loopRepeat: number;
  largeLoopRepeat: number;
  /** Tenants of the worker-scaling runs. */
  scalingTenants: number;
  /** Rows of the import benchmark (undefined: its own default). */
  importRows?: number;
  http: LoadOptions;
}
// 200,000 rows: the import's ratio to its COPY floor without the 7 minutes a million rows take on this machine
const FULL: Sizes = { repeat: 9, loopRepeat: 5, largeLoopRepeat: 3, scalingTenants: 40, importRows: 200_000, http: { users: 20, durationSeconds: 30 } };
const QUICK: Sizes = { repeat: 3, loopRepeat: 2, largeLoopRepeat: 1, scalingTenants: 8, importRows: 100_000, http: { users: 20, durationSeconds: 10 } };

/** The scheduler's concurrency on this 2-core machine, for both the loop and its floor. */
const WORKERS = 2;
const SCALING_WORKERS = [1, 2, 4];
const APP_ROLE = 'aegis_app';
const tenantId = (t: number) => `00000000-0000-4000-8000-${t.toString(16).padStart(12, '0')}`;
const LARGE = tenantId(LARGE_TENANT_NUMBER);
const REGULAR = tenantId(1);
const addDays = (day: string, n: number) => new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

/** The engine's floor: one read of the tenant's last 90 days, summed per entity (what every step starts from). */
const FLOOR_90 = `select platform, level, platform_id, count(*), sum(spend), sum(impressions), sum(clicks), sum(conversions), sum(conversion_value)
  from ads.metrics_daily where tenant_id = $1 and day between $2::date - 89 and $2::date group by platform, level, platform_id`;

const log = (line: string) => console.log(line);

// ---------------------------------------------------------------------------
// One data set: generated or reused, migrated, its day-before state in place
// ---------------------------------------------------------------------------
interface SetContext {
  set: DataSet;
  dataset: Dataset;
  su: pg.Client;
  app: DbHandle;
  tenants: string[];
  /** The data's last day: the day every pass processes. */
  end: string;
  /** Whether the data ends on the tenants' yesterday (UTC): the guide's calls then mean the same days. */
  current: boolean;
  /** The catch-up pass, when this run made the state. */
  catchup: LoopPass | null;
  stateFrom: string;
  /** The engine's SQL as applied (bench/state.ts, sqlVersion): sets measured with different SQL do not compare. */
  sql: string;
}

interface LoopPass {
  seconds: number;
  tenants: number;
  workers: number;
  tenants_per_s: number;
  per_tenant_ms: Spread;
  recommendations: number;
  anomalies: number;
  failed: number;
  first_error: string | null;
}

/** Every tenant's loop for asOf, committed, as the scheduler runs them: one job (transaction) per tenant, `workers` at a time. */
async function loopPass(ctx: SetContext, asOf: string, workers = WORKERS): Promise<LoopPass> {
  const made = { recommendations: 0, anomalies: 0, failed: 0, first_error: null as string | null };
  const q = await drain(ctx.tenants, workers, async (t) => {
    try {
      const s = await runDailyLoop(ctx.app.db, t, { asOf, trigger: 'cli' });
      made.recommendations += s.recommendations;
      made.anomalies += s.anomalies;
    } catch (err) {
      made.failed++;
      made.first_error ??= `${t}: ${(err as Error).message}`;
    }
  });
  const seconds = q.ms / 1000;
  return { seconds: r2(seconds), tenants: ctx.tenants.length, workers, tenants_per_s: r2(ctx.tenants.length / seconds), per_tenant_ms: spread(q.each), ...made };
}

async function openSet(set: DataSet, opts: Options): Promise<SetContext> {
  const t0 = performance.now();
  const dataset = await generate(generatorArgs(['--tenants', String(set.tenants), ...SHAPE, '--db', set.db, opts.fresh ? '--fresh' : '--reuse']), (l) => log(`  ${l}`));
  log(
    dataset.reused
      ? `  ${set.db}: reused (${dataset.rows.toLocaleString('en')} rows, generated ${dataset.generatedAt} in ${Math.round(dataset.seconds)} s)`
      : `  ${set.db}: generated in ${Math.round(dataset.seconds)} s`,
  );
  const ownerUrl = withDatabase(adminUrl(), set.db);
  const appUrl = process.env.BENCH_APP_URL ? withDatabase(process.env.BENCH_APP_URL, set.db) : withCredentials(ownerUrl, APP_ROLE, null);
  const m = await migrate(ownerUrl).catch((err: Error) => {
    // A numbered migration edited after this database applied it (one not landed yet, still being written): it cannot be undone here.
    if (/was changed after it was applied/.test(err.message)) throw new Error(`${set.db}: ${err.message} Regenerate the data sets with --fresh.`);
    throw err;
  });
  if (m.applied.length) log(`  migrated: ${m.applied.join(', ')}`);
  const su = new pg.Client({ connectionString: ownerUrl });
  await su.connect();
  su.on('notice', () => undefined);
  const app = createDb(appUrl, { max: Math.max(...SCALING_WORKERS) });
  const others = await removeOtherTenants(su);
  if (others) log(`  removed ${others} tenants the generator did not make (an interrupted load test's)`);
  const tenants = (await su.query<{ id: string }>("select id::text as id from saas.tenants where name like 'Bench %' order by id")).rows.map((r) => r.id);
  const yesterday = (await su.query<{ d: string }>("select ((now() at time zone 'UTC')::date - 1)::text as d")).rows[0]!.d;
  const ctx: SetContext = {
    set,
    dataset,
    su,
    app,
    tenants,
    end: dataset.end,
    current: dataset.end === yesterday,
    catchup: null,
    stateFrom: '',
    sql: await sqlVersion(su),
  };

  // The state of the day before: put back, or made by a catch-up pass from nothing (every day of the week not yet examined).
  const key = await stateKey(su, dataset);
  const saved = await readSaved(su);
  if (saved && saved.key === key && !opts.freshState && !opts.fresh) {
    await restoreState(su, saved);
    ctx.stateFrom = `saved ${saved.createdAt}`;
    log(`  engine state of ${addDays(ctx.end, -1)} put back (saved ${saved.createdAt})`);
  } else {
    await clearState(su, saved?.tables ?? []);
    log(`  catch-up pass as of ${addDays(ctx.end, -1)} for ${tenants.length} tenants (makes the state of the day before; saved for later runs)...`);
    const before = await writeCounters(su);
    ctx.catchup = await loopPass(ctx, addDays(ctx.end, -1));
    await new Promise((r) => setTimeout(r, 1500)); // the backends' statistics reach the shared counters within a second
    const tables = [...new Set([...STATE_TABLES, ...writtenOutputs(before, await writeCounters(su))])];
    await vacuum(su, tables);
    await saveState(su, key, tables, { ...ctx.catchup });
    ctx.stateFrom = 'made by this run';
    log(`  catch-up: ${ctx.catchup.seconds} s (${ctx.catchup.tenants_per_s} tenants/s), state saved`);
  }
  log(`  ready in ${since(t0)} s`);
  return ctx;
}

async function closeSet(ctx: SetContext): Promise<void> {
  await ctx.app.db.destroy();
  await ctx.su.end();
}

// ---------------------------------------------------------------------------
// Measurements
// ---------------------------------------------------------------------------

/** The guide's indexed query for one tenant, and its own execution on the server (EXPLAIN ANALYZE) as its floor. */
async function guideQuery(ctx: SetContext, tenant: string, repeat: number) {
  const today = ctx.current ? 'CURRENT_DATE' : `'${addDays(ctx.end, 1)}'::date`;
  const text = `SELECT * FROM ads.metrics_daily WHERE tenant_id = $1 AND platform = 'meta' AND day >= ${today} - 7`;
  let rows = 0;
  const wall = await timeInTenant(ctx.su, tenant, { repeat, role: APP_ROLE }, async (c) => {
    rows = (await c.query(text, [tenant])).rowCount ?? 0;
  });
  const exec: number[] = [];
  await timeInTenant(ctx.su, tenant, { repeat, role: APP_ROLE }, async (c) => {
    const plan = (await c.query<{ 'QUERY PLAN': { 'Execution Time': number }[] }>(`explain (analyze, format json) ${text}`, [tenant])).rows[0]!['QUERY PLAN'][0]!;
    exec.push(plan['Execution Time']);
  });
  return { text, rows, wall: timing(wall), execution_ms: r2(median(exec)) };
}

async function floor90(ctx: SetContext, tenant: string, repeat: number): Promise<Timing> {
  return timing(await timeInTenant(ctx.su, tenant, { repeat, role: APP_ROLE }, (c) => c.query(FLOOR_90, [tenant, ctx.end])));
}

/** The loop for one tenant in its transaction, rolled back: a first pass of the day or (second) the pass after it. */
async function loopOne(ctx: SetContext, tenant: string, repeat: number, second: boolean): Promise<Timing> {
  const runs: number[] = [];
  for (let i = 0; i < repeat; i++) {
    await rolledBack(ctx.app.db, tenant, async (trx) => {
      if (second) await loopInTransaction(trx, tenant, { asOf: ctx.end, trigger: 'cli' });
      const t0 = performance.now();
      await loopInTransaction(trx, tenant, { asOf: ctx.end, trigger: 'cli' });
      runs.push(performance.now() - t0);
    });
  }
  return timing(runs);
}

/** The guide's four functions for the large tenant, each in a rolled-back tenant transaction as the app role (seconds each: few runs). */
async function guideFunctions(ctx: SetContext, repeat: number) {
  const t = LARGE;
  // The guide's own calls when the data ends on the tenant's yesterday; otherwise the functions they call, with the data's last day.
  const day = `'${ctx.end}'::date`;
  const calls = ctx.current
    ? {
        baselines: (p: string, l: string, w: number) => `select ads.compute_baselines($1, '${p}', '${l}', ${w})`,
        analyze: `select * from ads.analyze_campaign_performance($1, 'cmp-3', 'meta', 7)`,
        recommendations: 'select ads.generate_recommendations($1)',
        anomalies: 'select ads.detect_anomalies($1)',
      }
    : {
        baselines: (p: string, l: string, w: number) => `select ads_engine.compute_baselines($1, '${p}', '${l}', ${w}, ${day})`,
        analyze: `select * from ads_engine.analyze_campaign_performance($1, 'cmp-3', 'meta', 7, ${day})`,
        recommendations: `select ads_engine.generate_recommendations($1, ${day})`,
        anomalies: `select ads_engine.detect_anomalies($1, ${day})`,
      };
  const baselineCalls = ['meta', 'google', 'tiktok'].flatMap((p) => ['campaign', 'adset'].flatMap((l) => [1, 7, 14, 30, 90].map((w) => calls.baselines(p, l, w))));
  const run = async (texts: string[]) =>
    timing(
      await timeInTenant(ctx.su, t, { repeat, role: APP_ROLE }, async (c) => {
        for (const text of texts) await c.query(text, [t]);
      }),
    );
  return {
    form: ctx.current ? "the guide's calls" : `the functions they call, as of ${ctx.end} (the data's last day)`,
    compute_baselines: { calls: baselineCalls.length, ...(await run(baselineCalls)) },
    analyze_campaign_performance: await run([calls.analyze]),
    generate_recommendations: await run([calls.recommendations]),
    detect_anomalies: await run([calls.anomalies]),
  };
}

/** The floor of the all-tenants loop: the same per-tenant transactions and workers, each doing one 90-day read. */
async function floorAll(ctx: SetContext): Promise<{ seconds: number; per_tenant_ms: Spread }> {
  const q = await drain(ctx.tenants, WORKERS, (t) =>
    withTenant(t, (trx) => trx.executeQuery(CompiledQuery.raw(FLOOR_90, [t, ctx.end])), {}, ctx.app.db).then(() => undefined),
  );
  return { seconds: r2(q.ms / 1000), per_tenant_ms: spread(q.each) };
}

/** For reference: the same rows as one superuser query over every tenant. */
async function floorOneQuery(ctx: SetContext): Promise<number> {
  const t0 = performance.now();
  await ctx.su.query(`select tenant_id, platform, level, platform_id, count(*), sum(spend), sum(impressions), sum(clicks), sum(conversions), sum(conversion_value)
    from ads.metrics_daily where day between $1::date - 89 and $1::date group by 1, 2, 3, 4`, [ctx.end]);
  return r2((performance.now() - t0) / 1000);
}

/** Throughput of the day's pass (rolled back, so each worker count sees the same state) with 1, 2 and 4 concurrent workers. */
async function workerScaling(ctx: SetContext, n: number) {
  const subset = ctx.tenants.filter((t) => t !== LARGE).slice(0, n);
  const out: { workers: number; seconds: number; tenants_per_s: number }[] = [];
  for (const w of SCALING_WORKERS) {
    const q = await drain(subset, w, (t) => rolledBack(ctx.app.db, t, (trx) => loopInTransaction(trx, t, { asOf: ctx.end, trigger: 'cli' })));
    out.push({ workers: w, seconds: r2(q.ms / 1000), tenants_per_s: r2(subset.length / (q.ms / 1000)) });
  }
  return { tenants: subset.length, runs: out };
}

interface ChildCase {
  case: string;
  database_ms: number;
  floor: { median_ms: number };
  rows_in_range: number;
  target_met: boolean;
  queries: { name: string; wall: { median_ms: number } }[];
}

/** bench/performance-page.ts as a child process: of its JSON report, each case's totals and its statements' medians. */
async function performanceChild(ctx: SetContext, repeat: number): Promise<{ cases: ChildCase[] } | { error: string }> {
  const out = path.join(projectRoot, 'bench', 'out', 'performance-page.json');
  const started = Date.now();
  const code = await runChild(['bench/performance-page.ts', '--db', ctx.set.db, '--repeat', String(repeat)], { BENCH_ADMIN_URL: adminUrl() }, true);
  if (code !== 0 || !existsSync(out) || statSync(out).mtimeMs < started) return { error: `bench/performance-page.ts exited with ${code}` };
  const report = JSON.parse(readFileSync(out, 'utf8')) as { cases: ChildCase[] };
  return {
    cases: report.cases.map((c) => ({
      case: c.case,
      database_ms: c.database_ms,
      floor: { median_ms: c.floor.median_ms },
      rows_in_range: c.rows_in_range,
      target_met: c.target_met,
      queries: c.queries.map((q) => ({ name: q.name, wall: { median_ms: q.wall.median_ms } })),
    })),
  };
}

/** bench/import.ts as a child process (its own throwaway embedded server); its JSON report. */
async function importChild(rows: number | undefined) {
  const candidates = [path.join(projectRoot, 'bench', 'out', 'import.json'), path.join(projectRoot, 'bench', 'results', 'import.json')];
  const started = Date.now();
  const env: Record<string, string> = rows ? { IMPORT_ROWS: String(rows) } : {};
  // An external server would have the app role's password set for the test: the embedded one keeps that to itself.
  const code = await runChild(['bench/import.ts'], env, false, ['DATABASE_URL']);
  const file = candidates.filter((f) => existsSync(f) && statSync(f).mtimeMs >= started).sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  if (code !== 0 || !file) return { error: `bench/import.ts exited with ${code}` };
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
}

function runChild(args: string[], env: Record<string, string>, quiet: boolean, unset: string[] = []): Promise<number | null> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const k of unset) delete childEnv[k];
  return new Promise((resolve) => {
    const child = spawn(path.join(projectRoot, 'node_modules', '.bin', 'tsx'), args, { cwd: projectRoot, env: childEnv, stdio: ['ignore', quiet ? 'ignore' : 'inherit', 'inherit'] });
    child.once('exit', (c) => resolve(c));
  });
}

async function pages(ctx: SetContext, repeat: number): Promise<PageFigure[]> {
  const out: PageFigure[] = [];
  for (const p of PAGES) out.push(await measurePage(ctx.app.pool, ctx.su, p, LARGE, ctx.end, repeat));
  return out;
}

// ---------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------
interface SetResult {
  label: string;
  db: string;
  rows: number;
  bytes: number;
  tenants: number;
  end: string;
  current: boolean;
  generated: { seconds: number; at: string; reused: boolean };
  state: string;
  sql: string;
  /** The 1-minute load average when the set's measurements began and ended: sets measured under other loads do not compare. */
  load: { start: number; end: number };
  rows_regular_tenant: number;
  rows_large_tenant: number;
  guide_query: { regular: Awaited<ReturnType<typeof guideQuery>>; large: Awaited<ReturnType<typeof guideQuery>> };
  floor_90: { regular: Timing; large: Timing };
  loop_one: { first: Timing; second: Timing; large_first?: Timing; large_second?: Timing };
  guide_functions?: Awaited<ReturnType<typeof guideFunctions>>;
  scaling?: Awaited<ReturnType<typeof workerScaling>>;
  catchup: LoopPass | null;
  floor_all: Awaited<ReturnType<typeof floorAll>>;
  floor_one_query_s?: number;
  first_pass: LoopPass;
  second_pass: LoopPass;
  pages: PageFigure[];
  performance_page?: Awaited<ReturnType<typeof performanceChild>>;
}

const sections: { name: string; seconds: number }[] = [];
async function section<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  log(`\n[${name}]`);
  try {
    return await fn();
  } finally {
    const s = since(t0);
    sections.push({ name, seconds: s });
    log(`[${name}] ${s} s`);
  }
}

async function measureSet(set: DataSet, opts: Options, sizes: Sizes, main: boolean): Promise<SetResult> {
  const ctx = await section(`${set.label}: data and state`, () => openSet(set, opts));
  const load = os.loadavg()[0]!;
  try {
    const count = async (t: string) => Number((await ctx.su.query<{ n: string }>('select count(*) as n from ads.metrics_daily where tenant_id = $1', [t])).rows[0]!.n);
    const perTenant = await section(`${set.label}: per tenant`, async () => {
      const r = {
        guide_query: { regular: await guideQuery(ctx, REGULAR, sizes.repeat), large: await guideQuery(ctx, LARGE, sizes.repeat) },
        floor_90: { regular: await floor90(ctx, REGULAR, sizes.repeat), large: await floor90(ctx, LARGE, sizes.repeat) },
        loop_one: {
          first: await loopOne(ctx, REGULAR, sizes.loopRepeat, false),
          second: await loopOne(ctx, REGULAR, sizes.loopRepeat, true),
          ...(main ? { large_first: await loopOne(ctx, LARGE, sizes.largeLoopRepeat, false), large_second: await loopOne(ctx, LARGE, sizes.largeLoopRepeat, true) } : {}),
        },
      };
      log(`  guide query ${r.guide_query.regular.wall.median_ms} ms (large tenant ${r.guide_query.large.wall.median_ms}); loop one tenant ${r.loop_one.first.median_ms} ms, second pass ${r.loop_one.second.median_ms} ms`);
      return r;
    });
    const functions = main ? await section(`${set.label}: guide functions`, () => guideFunctions(ctx, sizes.largeLoopRepeat)) : undefined;
    const scaling = main ? await section(`${set.label}: worker scaling`, () => workerScaling(ctx, sizes.scalingTenants)) : undefined;
    const passes = await section(`${set.label}: all tenants`, async () => {
      const floor_all = await floorAll(ctx);
      const floor_one_query_s = main ? await floorOneQuery(ctx) : undefined;
      const first_pass = await loopPass(ctx, ctx.end);
      const second_pass = await loopPass(ctx, ctx.end);
      log(`  floor ${floor_all.seconds} s; first pass ${first_pass.seconds} s (${first_pass.failed} failed), second pass ${second_pass.seconds} s`);
      // what a live server's autovacuum would have done to the tables the pages read
      await vacuum(ctx.su, STATE_TABLES);
      return { floor_all, floor_one_query_s, first_pass, second_pass };
    });
    // the growth sets need the pages' totals only: fewer runs
    const pageFigures = await section(`${set.label}: pages`, () => pages(ctx, main ? sizes.repeat : Math.min(sizes.repeat, 5)));
    const performance_page = main ? await section(`${set.label}: performance page (bench/performance-page.ts)`, () => performanceChild(ctx, sizes.repeat)) : undefined;
    return {
      label: set.label,
      db: set.db,
      rows: ctx.dataset.rows,
      bytes: ctx.dataset.bytes,
      tenants: ctx.tenants.length,
      end: ctx.end,
      current: ctx.current,
      generated: { seconds: Math.round(ctx.dataset.seconds), at: ctx.dataset.generatedAt, reused: ctx.dataset.reused },
      state: ctx.stateFrom,
      sql: ctx.sql,
      load: { start: r2(load), end: r2(os.loadavg()[0]!) },
      rows_regular_tenant: await count(REGULAR),
      rows_large_tenant: await count(LARGE),
      ...perTenant,
      guide_functions: functions,
      scaling,
      catchup: ctx.catchup,
      ...passes,
      pages: pageFigures,
      performance_page,
    };
  } finally {
    await closeSet(ctx);
  }
}

// ---------------------------------------------------------------------------
// The tables
// ---------------------------------------------------------------------------
const under = (value: number, limit: number, text: string): Target => ({ text, met: value < limit });
const within = (value: number, floor: number, factor: number): Target => ({ text: `<= ${formatNumber(factor)}x floor`, met: value <= factor * floor });

function figures(main: SetResult, http: HttpOutcome | null, imp: Record<string, unknown> | null, js: BuildJs | null): { figures: Figure[]; floors: Record<string, string> } {
  const f: Figure[] = [];
  const floors: Record<string, string> = {
    F0: "the statement's own execution on the server (EXPLAIN ANALYZE): the rest is the round trip and sending the rows",
    F1: "one read of the tenant's last 90 days, summed per entity, in the same kind of rolled-back tenant transaction as the app role",
    F2:
      `one read of every tenant's last 90 days: per tenant as the app role, the same query as F1 in its own transaction, ` +
      `${WORKERS} connections, like the loop (as one superuser query over all tenants: ${main.floor_one_query_s ?? '?'} s)`,
  };
  const g = main.guide_query;
  f.push({ section: 'guide', name: `indexed query (tenant, meta, 7 days), large tenant: ${g.large.rows} rows`, value: g.large.wall.median_ms, unit: 'ms', floor: { key: 'F0', value: g.large.execution_ms }, target: under(g.large.wall.median_ms, 50, '< 50 ms') });
  f.push({ section: 'guide', name: `indexed query, regular tenant: ${g.regular.rows} rows`, value: g.regular.wall.median_ms, unit: 'ms', floor: { key: 'F0', value: g.regular.execution_ms }, target: under(g.regular.wall.median_ms, 50, '< 50 ms') });
  const fl = main.floor_90.large.median_ms;
  const fr = main.floor_90.regular.median_ms;
  const fn = main.guide_functions;
  if (fn) {
    f.push({ section: 'guide', name: `ads.compute_baselines x 3 platforms x 2 levels x 5 windows (${fn.compute_baselines.calls} calls), large tenant`, value: fn.compute_baselines.median_ms, unit: 'ms', floor: { key: 'F1', value: fl } });
    f.push({ section: 'guide', name: 'ads.analyze_campaign_performance (one campaign, 7 days), large tenant', value: fn.analyze_campaign_performance.median_ms, unit: 'ms', floor: { key: 'F1', value: fl } });
    f.push({ section: 'guide', name: 'ads.generate_recommendations, large tenant', value: fn.generate_recommendations.median_ms, unit: 'ms', floor: { key: 'F1', value: fl } });
    f.push({ section: 'guide', name: 'ads.detect_anomalies, large tenant', value: fn.detect_anomalies.median_ms, unit: 'ms', floor: { key: 'F1', value: fl } });
  }
  const l = main.loop_one;
  f.push({ section: 'loop', name: 'one regular tenant, first pass of the day', value: l.first.median_ms, unit: 'ms', floor: { key: 'F1', value: fr } });
  f.push({ section: 'loop', name: 'one regular tenant, second pass (nothing new)', value: l.second.median_ms, unit: 'ms', floor: { key: 'F1', value: fr } });
  if (l.large_first && l.large_second) {
    f.push({ section: 'loop', name: 'large tenant, first pass of the day', value: l.large_first.median_ms, unit: 'ms', floor: { key: 'F1', value: fl } });
    f.push({ section: 'loop', name: 'large tenant, second pass', value: l.large_second.median_ms, unit: 'ms', floor: { key: 'F1', value: fl } });
  }
  const fa = main.floor_all.seconds;
  const p1 = main.first_pass;
  const p2 = main.second_pass;
  f.push({ section: 'loop', name: `all ${p1.tenants} tenants, first pass (${p1.workers} workers; ${p1.recommendations} recommendations, ${p1.anomalies} anomalies)`, value: p1.seconds, unit: 's', floor: { key: 'F2', value: fa }, target: within(p1.seconds, fa, 5) });
  f.push({ section: 'loop', name: `all tenants, second pass (${p2.recommendations + p2.anomalies} new)`, value: p2.seconds, unit: 's', floor: { key: 'F2', value: fa }, target: within(p2.seconds, fa, 0.5) });
  if (main.catchup) f.push({ section: 'loop', name: 'all tenants, catch-up from nothing (the day before, a week unexamined)', value: main.catchup.seconds, unit: 's', floor: { key: 'F2', value: fa } });

  const child = main.performance_page && 'cases' in main.performance_page ? main.performance_page.cases : [];
  if (child.length) floors.F3 = "one read of the tenant's rows of the view's 30 days at its level (bench/performance-page.ts)";
  for (const c of child) {
    const large = c.case.startsWith('large');
    f.push({ section: 'pages', name: `/performance 30 days, ${c.case}`, value: c.database_ms, unit: 'ms', floor: { key: 'F3', value: c.floor.median_ms }, target: large ? under(c.database_ms, 10, '< 10 ms') : undefined });
  }
  main.pages.forEach((p, i) => {
    // The performance page's own figures come from bench/performance-page.ts when it ran.
    if (i === 0 && child.length) return;
    const key = `F${4 + i}`;
    floors[key] = p.floor.text;
    f.push({ section: 'pages', name: `${p.path} (${p.page}), large tenant: ${p.statements} statements`, value: p.database_ms, unit: 'ms', floor: { key, value: p.floor.ms }, target: under(p.database_ms, 10, '< 10 ms') });
  });
  floors.S = 'the same statements with the same explicit tenant filters as the superuser, which row-level security does not apply to';
  for (const p of main.pages) {
    const leaning = p.by_statement.filter((s) => s.rows_differ).length;
    f.push({
      section: 'rls',
      name: `${p.path}: its ${p.statements} statements as the app role`,
      value: p.database_ms,
      unit: 'ms',
      floor: { key: 'S', value: p.bypass_ms },
      target: within(p.database_ms, p.bypass_ms, 1.1),
      note: leaning ? `${leaning} statement(s) without their own tenant filter` : undefined,
    });
  }

  if (http?.ran) {
    const r = http.report;
    const note = `${r.users} users in ${r.tenants} tenants of its own, ${r.elapsedS} s`;
    f.push({ section: 'http', name: `requests/s (${note})`, value: r.requestsPerSecond, unit: 'req/s' });
    f.push({ section: 'http', name: 'latency p50, all requests', value: r.overall.p50, unit: 'ms' });
    f.push({ section: 'http', name: 'latency p95, all requests', value: r.overall.p95, unit: 'ms', target: under(r.overall.p95, 200, '< 200 ms') });
    f.push({ section: 'http', name: 'latency p99, all requests', value: r.overall.p99, unit: 'ms' });
    f.push({ section: 'http', name: `errors (of ${r.requests.toLocaleString('en')} requests; ${r.otherTenant} showing another tenant)`, value: r.errors, unit: 'count', target: { text: '0', met: r.errors === 0 && r.otherTenant === 0 } });
  }
  if (imp && !('error' in imp)) {
    const copy = Math.min(...((imp.floor_copy_s as number[] | undefined) ?? [Number.NaN]));
    floors.C = `a bare COPY of the same file into a plain table (bench/import.ts, ${String(imp.server ?? '')})`;
    const table = Number(imp.reference_metrics_daily_insert_s);
    if (Number.isFinite(table)) {
      f.push({ section: 'import', name: "for reference: ads.metrics_daily's own INSERT ... SELECT of the same rows, typed (its indexes and triggers)", value: table, unit: 's', floor: { key: 'C', value: copy } });
    }
    for (const [i, run] of ((imp.imports as { label: string; seconds: number }[] | undefined) ?? []).entries()) {
      f.push({ section: 'import', name: `${run.label}, ${Number(imp.rows).toLocaleString('en')} rows`, value: run.seconds, unit: 's', floor: { key: 'C', value: copy }, target: i === 0 ? within(run.seconds, copy, 2) : undefined });
    }
  }
  if (js) {
    floors.J = 'the JavaScript every page loads: the framework and the root layout';
    for (const route of ['/performance', '/recommendations', '/anomalies']) {
      const r = js.routes.find((x) => x.route === route);
      if (r) f.push({ section: 'js', name: `first-load JS of ${route}, gzip (${formatNumber(r.raw / 1024)} kB raw)`, value: r.gzip / 1024, unit: 'kB', floor: { key: 'J', value: js.shared.gzip / 1024 } });
    }
    const big = [...js.routes].sort((a, b) => b.gzip - a.gzip)[0];
    if (big) f.push({ section: 'js', name: `largest: ${big.route}, gzip`, value: big.gzip / 1024, unit: 'kB', floor: { key: 'J', value: js.shared.gzip / 1024 } });
  }
  return { figures: f, floors };
}

function growthTable(sets: SetResult[]): string {
  const col = (fn: (s: SetResult) => string) => sets.map(fn);
  const page = (s: SetResult, i: number) => formatNumber(s.pages[i]?.database_ms ?? Number.NaN);
  const rows = [
    ['rows (tenants)', ...col((s) => `${(s.rows / 1e6).toFixed(1)} M (${s.tenants})`)],
    ['rows of a regular tenant / of the large tenant', ...col((s) => `${s.rows_regular_tenant.toLocaleString('en')} / ${s.rows_large_tenant.toLocaleString('en')}`)],
    ['guide query, regular tenant, ms', ...col((s) => formatNumber(s.guide_query.regular.wall.median_ms))],
    ['guide query, large tenant, ms', ...col((s) => formatNumber(s.guide_query.large.wall.median_ms))],
    ['floor F1, regular tenant, ms', ...col((s) => formatNumber(s.floor_90.regular.median_ms))],
    ['loop, one regular tenant, first pass, ms', ...col((s) => formatNumber(s.loop_one.first.median_ms))],
    ['loop, one regular tenant, second pass, ms', ...col((s) => formatNumber(s.loop_one.second.median_ms))],
    ...PAGES.map((p, i) => [`${p.path} database time, large tenant, ms`, ...col((s) => page(s, i))]),
    ['loop, all tenants, first pass, s', ...col((s) => formatNumber(s.first_pass.seconds))],
    ['  per tenant, ms', ...col((s) => formatNumber((1000 * s.first_pass.seconds) / s.first_pass.tenants))],
    ['loop, all tenants, second pass, s', ...col((s) => formatNumber(s.second_pass.seconds))],
    ['floor F2, s', ...col((s) => formatNumber(s.floor_all.seconds))],
    ['engine SQL (as applied)', ...col((s) => s.sql)],
    ['load average, start to end', ...col((s) => `${formatNumber(s.load.start)} to ${formatNumber(s.load.end)}`)],
  ];
  const fit = linearFit(sets.map((s) => ({ x: s.first_pass.tenants, y: s.first_pass.seconds })));
  const table = markdownTable(['', ...sets.map((s) => s.label)], rows, ['l', ...sets.map(() => 'r' as const)]);
  const mixed = new Set(sets.map((s) => s.sql)).size > 1 ? '\n\n**The engine\'s SQL changed during the run: the sets do not compare.**' : '';
  return fit
    ? `${table}${mixed}\n\nFirst pass against the number of tenants: ${formatNumber(fit.slope * 1000)} ms per tenant + ${formatNumber(fit.intercept)} s; ` +
        `the points lie within ${formatNumber(fit.maxDeviation * 100)} % of the line.`
    : `${table}${mixed}`;
}

// ---------------------------------------------------------------------------
async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const sizes = opts.quick ? QUICK : FULL;
  const started = new Date();
  const t0 = performance.now();
  const load0 = os.loadavg();
  const mainSet = opts.quick ? SETS[0] : SETS[2];
  const growth = opts.quick || opts.skipGrowth ? [] : SETS.filter((s) => s !== mainSet);
  log(`benchmark suite${opts.quick ? ' (quick)' : ''}: ${mainSet.db}${growth.length ? `, growth on ${growth.map((s) => s.db).join(', ')}` : ''}; load average ${load0.map((x) => x.toFixed(2)).join(' ')} on ${os.cpus().length} CPUs`);

  const server = new pg.Client({ connectionString: adminUrl() });
  await server.connect();
  const settings = (
    await server.query<{ version: string; shared_buffers: string; work_mem: string; jit: string; autovacuum: string }>(
      `select current_setting('server_version') as version, current_setting('shared_buffers') as shared_buffers, current_setting('work_mem') as work_mem,
              current_setting('jit') as jit, current_setting('autovacuum') as autovacuum`,
    )
  ).rows[0]!;
  await server.end();

  const results: SetResult[] = [];
  for (const set of growth) results.push(await measureSet(set, opts, sizes, false));
  const mainResult = await measureSet(mainSet, opts, sizes, true);
  results.push(mainResult);

  let http: HttpOutcome | null = null;
  if (!opts.skipHttp) {
    http = await section('http', async () => {
      if (opts.build) build(log);
      const ownerUrl = withDatabase(adminUrl(), mainSet.db);
      const appUrl = process.env.BENCH_APP_URL ? withDatabase(process.env.BENCH_APP_URL, mainSet.db) : withCredentials(ownerUrl, APP_ROLE, null);
      const r = await httpUnderLoad({ appUrl, ownerUrl }, sizes.http, log);
      log(r.ran ? `  used the build ${r.build} in .next${opts.build ? ' (just made)' : ' (as found)'}` : `  not measured: ${r.reason}`);
      if (!r.ran && r.serverLog) log(`  next start said:\n${r.serverLog.slice(-2000)}`);
      // the load test's tenants, accounts and metrics
      const su = new pg.Client({ connectionString: ownerUrl });
      await su.connect();
      try {
        log(`  removed the load test's ${await removeOtherTenants(su)} tenants`);
      } finally {
        await su.end();
      }
      return r;
    });
  }
  const imp = opts.skipImport ? null : await section('import', () => importChild(sizes.importRows));
  const js = await section('first-load JS', async () => firstLoadJs(path.join(projectRoot, '.next')));

  const load1 = os.loadavg();
  const busy = load0[0]! > 1;
  const { figures: rows, floors } = figures(mainResult, http, imp, js);
  const total = since(t0);
  const header =
    `Recorded ${started.toISOString()} on ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), ${Math.round(os.totalmem() / 2 ** 30)} GB, ` +
    `PostgreSQL ${settings.version} (shared_buffers ${settings.shared_buffers}, work_mem ${settings.work_mem}, jit ${settings.jit}, autovacuum ${settings.autovacuum}), Node ${process.version}; ` +
    `load average ${load0[0]!.toFixed(2)} at the start, ${load1[0]!.toFixed(2)} at the end${busy ? ' — **a loaded machine: not final figures**' : ''}. ` +
    `Data: ${mainResult.db}, ${mainResult.rows.toLocaleString('en')} rows, ${mainResult.tenants} tenants, ending ${mainResult.end}` +
    `${mainResult.current ? '' : ` (not the tenants' yesterday: the pages and HTTP show the days since empty)`}; engine state of the day before ${mainResult.state}. ` +
    `Medians of ${sizes.repeat} runs (the loop for one tenant: ${sizes.loopRepeat}; the large tenant's loop and guide functions: ${sizes.largeLoopRepeat}` +
    `${growth.length ? `; the growth sets' pages: ${Math.min(sizes.repeat, 5)}` : ''}).`;

  const md = [
    `## Benchmark suite${opts.quick ? ' (quick)' : ''}`,
    header,
    figuresTable(rows),
    'Floors:',
    floorLegend(floors),
  ];
  if (results.length > 1) md.push('### Growth', growthTable(results));
  if (mainResult.scaling) {
    const base = mainResult.scaling.runs[0]!.tenants_per_s;
    md.push(
      `### Workers (the day's pass, ${mainResult.scaling.tenants} regular tenants, rolled back)`,
      markdownTable(
        ['workers', 'tenants/s', 'speed-up'],
        mainResult.scaling.runs.map((r) => [String(r.workers), formatNumber(r.tenants_per_s), `${formatNumber(r.tenants_per_s / base)}x`]),
        ['r', 'r', 'r'],
      ),
      workersReading(mainResult.scaling.runs, os.cpus().length),
    );
  }
  md.push(
    '### RLS per statement (large tenant)',
    markdownTable(
      ['page', 'statement', 'app role ms', 'superuser ms', 'ratio', 'rows'],
      mainResult.pages.flatMap((p) => p.by_statement.map((s) => [p.path, s.text.slice(0, 70), formatNumber(s.app_ms), formatNumber(s.bypass_ms), `${formatNumber(s.ratio)}x`, `${s.rows}${s.rows_differ ? ' (differs)' : ''}`])),
      ['l', 'l', 'r', 'r', 'r', 'r'],
    ),
  );
  if (js) {
    md.push(
      `### First-load JavaScript per page (build ${js.buildId})`,
      markdownTable(['route', 'files', 'raw kB', 'gzip kB'], js.routes.map((r) => [r.route, String(r.files.length), formatNumber(r.raw / 1024), formatNumber(r.gzip / 1024)]), ['l', 'r', 'r', 'r']),
    );
  }
  if (http?.ran) {
    const r = http.report;
    md.push(
      `### HTTP per page (build ${http.build}, ${r.users} users, ${r.elapsedS} s)`,
      markdownTable(
        ['request', 'requests', 'errors', 'p50 ms', 'p95 ms', 'p99 ms'],
        [...Object.entries(r.pages), ['all', r.overall] as const].map(([k, v]) => [k, String(v.requests), String(v.errors), formatNumber(v.p50), formatNumber(v.p95), formatNumber(v.p99)]),
        ['l', 'r', 'r', 'r', 'r', 'r'],
      ),
      ...(r.firstErrors.length ? [`First errors: ${r.firstErrors.slice(0, 3).join('; ')}`] : []),
    );
  }
  if (!js) md.push('First-load JavaScript: not measured (no finished build in .next).');
  if (http && !http.ran) md.push(`HTTP: not measured (${http.reason}).`);
  if (imp && 'error' in imp) md.push(`Import: not measured (${String(imp.error)}).`);
  md.push('### Time per section', markdownTable(['section', 's'], [...sections.map((s) => [s.name, formatNumber(s.seconds)]), ['total', formatNumber(total)]], ['l', 'r']));
  const text = md.join('\n\n');
  log(`\n${text}\n`);

  const dir = path.join(projectRoot, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const json = JSON.stringify(
    {
      recorded_at: started.toISOString(),
      options: opts,
      sizes,
      machine: { cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model ?? null, ram_gb: Math.round(os.totalmem() / 2 ** 30), node: process.version, load_average: { start: load0, end: load1 }, busy },
      server: settings,
      floors,
      figures: rows,
      sets: results,
      http,
      import: imp,
      first_load_js: js,
      sections,
      total_seconds: total,
    },
    null,
    2,
  );
  const file = path.join(dir, `${fileStamp(started)}.json`);
  writeFileSync(file, `${json}\n`);
  writeFileSync(path.join(dir, 'latest.json'), `${json}\n`);
  log(`written to ${path.relative(process.cwd(), file)} and bench/results/latest.json; ${total} s in all`);
  if (total > 15 * 60) log(`warning: the run took ${Math.round(total / 60)} minutes, more than the 15 it should on this machine`);
}

if (require.main === module) {
  main().catch((err: Error) => {
    console.error(`error: ${err.message}`);
    process.exit(1);
  });
}
