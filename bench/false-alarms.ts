// False alarms and power of the engine on simulated, realistically noisy
// accounts (the contract is docs/engine.md).
//
//   npm run bench:false-alarms        # embedded PostgreSQL; DATABASE_URL's server when set
//   FA_CAMPAIGNS=80 npm run bench:false-alarms
//
// Two tenants in one throwaway database, from one seed (bench/simulate.ts):
// "steady" (nothing planted: every alarm is false) and "planted" (the same
// accounts with the planted situations). History is loaded first; then, for
// each of the last AS_OF days, that day's rows are loaded, the pending
// recommendations are marked expired (so each day counts what the rules fire
// that day) and the daily loop runs with that day as as_of.
// Results: a table on stdout and bench/results/false-alarms.json. The CI test
// tests/engine/false-alarms.test.ts runs the same code at a smaller size.
//
// FA_CAMPAIGNS (default 200), FA_DAYS (63), FA_AS_OF_DAYS (21), FA_VERBOSE=1
// (each loop's time on stderr), FA_PLANNER_DEFAULTS=1 (see below).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { createThrowawayDatabase } from '../db/tools/throwaway';
import { BENCH_CONFIG, formatReport, runWindow, setUpTenant, simulate, summarise, type SimConfig, type TenantKind } from './simulate';

const num = (name: string, fallback: number): number => {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer (got ${v})`);
  return n;
};

async function main(): Promise<void> {
  const started = performance.now();
  const cfg: SimConfig = {
    ...BENCH_CONFIG,
    campaigns: num('FA_CAMPAIGNS', BENCH_CONFIG.campaigns),
    days: num('FA_DAYS', BENCH_CONFIG.days),
    asOfDays: num('FA_AS_OF_DAYS', BENCH_CONFIG.asOfDays),
  };
  const sim = simulate(cfg);
  // On PostgreSQL 18 (the embedded server) the planner picks nested loops for
  // the engine's queries whose cost grows with the square of the entities
  // (8 s a loop at 200 campaigns on the first-pass engine instead of 0.1 s).
  // Plans do not change results; the harness turns enable_nestloop off in
  // each of its transactions. FA_PLANNER_DEFAULTS=1 measures the default plans.
  const plannerDefaults = Boolean(process.env.FA_PLANNER_DEFAULTS);
  const tdb = await createThrowawayDatabase('aegis-false-alarms', process.env.DATABASE_URL || undefined);
  const c = new pg.Client({ connectionString: tdb.ownerUrl });
  await c.connect();
  c.on('notice', () => undefined);
  try {
    const tenants: Record<TenantKind, string> = { steady: '', planted: '' };
    for (const kind of ['steady', 'planted'] as const) {
      const id = (await c.query<{ id: string }>('select gen_random_uuid()::text as id')).rows[0]!.id;
      await c.query('begin');
      await c.query(`select set_config('saas.tenant_id', $1, true)`, [id]);
      await c.query('insert into saas.tenants (id, name) values ($1, $2)', [id, `False-alarm bench, ${kind}`]);
      await c.query('commit');
      tenants[kind] = id;
      await setUpTenant(c, id, sim, kind, plannerDefaults);
    }
    const loadS = (performance.now() - started) / 1000;
    const run = await runWindow(c, tenants, sim, {
      plannerDefaults,
      onDay: process.env.FA_VERBOSE ? (kind, day, ms) => console.error(`${kind} ${day} ${Math.round(ms)} ms`) : undefined,
    });
    const report = summarise(sim, run);
    const runtimeS = Math.round((performance.now() - started) / 100) / 10;
    const results = {
      recorded: new Date().toISOString(),
      server: tdb.description,
      planner: plannerDefaults ? 'defaults' : 'enable_nestloop = off',
      ...report,
      plants: sim.plants.map((p) => ({ ...p, first_day: sim.dayOf(p.first_day), last_day: sim.dayOf(p.last_day), window: p.window.map(sim.dayOf) })),
      setup_s: Math.round(loadS * 10) / 10,
      runtime_s: runtimeS,
    };
    console.log(formatReport(report,
      `False alarms and power (${tdb.description}; ${cfg.campaigns} campaigns, ${report.model.adsets} ad sets, ${cfg.days} days, loop on the last ${cfg.asOfDays})`));
    console.log(`runtime ${runtimeS} s (setup ${results.setup_s} s)`);
    const out = path.join(__dirname, 'results');
    mkdirSync(out, { recursive: true });
    writeFileSync(path.join(out, 'false-alarms.json'), `${JSON.stringify(results, null, 2)}\n`);
    console.log(`written to ${path.relative(process.cwd(), path.join(out, 'false-alarms.json'))}`);
  } finally {
    await c.end();
    await tdb.drop();
  }
}

main().catch((err: Error) => {
  console.error(`error: ${err.message}`);
  process.exit(1);
});
