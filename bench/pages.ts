// The database time of the dashboard's pages, as the benchmark suite measures
// it: the statements a page's reader runs are captured from one run (a Kysely
// logger on the app role's pool), then replayed in rolled-back tenant
// transactions, each statement timed, median of several runs. The same
// statements, with the same explicit tenant filters, also run as the
// superuser (row-level security is forced, so only a superuser or a BYPASSRLS
// role skips it): the difference is what the policies cost.
import { Kysely, PostgresDialect, type CompiledQuery, type LogEvent } from 'kysely';
import pg from 'pg';
import type { Database, Tx } from '../lib/db/pool';
import { median, r2, rolledBack, SET_TENANT } from './measure';

// The readers start with `import 'server-only'`, which throws outside React Server Components: the marker is
// stubbed before they load (vitest aliases it away for the same reason).
require.cache[require.resolve('server-only')] = { exports: {} } as NodeJS.Module;
const perf = require('../lib/performance/queries') as typeof import('../lib/performance/queries');
const { parseView } = require('../lib/performance/filters') as typeof import('../lib/performance/filters');
const recs = require('../lib/recommendations/queries') as typeof import('../lib/recommendations/queries');
const { scoreFor } = require('../lib/recommendations/score-data') as typeof import('../lib/recommendations/score-data');
const autoApply = require('../lib/recommendations/auto-apply') as typeof import('../lib/recommendations/auto-apply');
const { evidenceSeries } = require('../lib/recommendations/evidence-series') as typeof import('../lib/recommendations/evidence-series');
const { recentOptimizerRuns } = require('../lib/engine/queries') as typeof import('../lib/engine/queries');
const { boardPage } = require('../lib/anomalies/page-data') as typeof import('../lib/anomalies/page-data');
const { boardFilterSchema } = require('../lib/anomalies/schema') as typeof import('../lib/anomalies/schema');

export interface PageSpec {
  name: string;
  path: string;
  /** What the page's tenantRead runs, with the data's last day for "yesterday" (the data may be older than the clock). */
  read: (trx: Tx, tenant: string, lastDay: string) => Promise<unknown>;
  /** One plain read of what the page lists: its floor. */
  floor: { text: string; sql: string; params: (tenant: string, lastDay: string) => unknown[] };
}

const addDays = (day: string, n: number) => new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

export const PAGES: readonly PageSpec[] = [
  {
    name: 'performance (30 days, campaigns)',
    path: '/performance?range=30d',
    read: async (trx, tenant, lastDay) => {
      const { lastDay: _clock, ...style } = await perf.tenantStyle(trx, tenant);
      return perf.performancePage(trx, tenant, parseView({ range: '30d' }, lastDay), style, lastDay);
    },
    floor: {
      text: "one read of the tenant's campaign rows of the 30 days",
      sql: `select sum(spend), sum(impressions), sum(clicks), sum(conversions), sum(conversion_value) from ads.metrics_daily
            where tenant_id = $1 and level = 'campaign' and day between $2::date and $3::date`,
      params: (tenant, lastDay) => [tenant, addDays(lastDay, -29), lastDay],
    },
  },
  {
    // app/(app)/recommendations/page.tsx: the reader of its tenantRead, in the same order
    name: 'recommendation queue',
    path: '/recommendations',
    read: async (trx, tenant) => {
      const { lastDay: _clock, timezone: _tz, ...style } = await perf.tenantStyle(trx, tenant);
      const queue = await recs.listPending(trx, tenant, {});
      await scoreFor(trx, tenant);
      await autoApply.autoApplyPolicies(trx, tenant);
      await autoApply.recentAutoApplications(trx, tenant);
      await recs.databaseNow(trx);
      await recentOptimizerRuns(trx, tenant);
      return evidenceSeries(trx, tenant, queue.rows, { locale: style.locale });
    },
    floor: {
      text: "one read of the tenant's pending recommendations",
      sql: `select * from ads.optimization_recommendations where tenant_id = $1 and status = 'pending' and expires_at > now()`,
      params: (tenant) => [tenant],
    },
  },
  {
    name: 'anomaly board',
    path: '/anomalies',
    read: (trx, tenant) => boardPage(trx, tenant, boardFilterSchema.parse({})),
    floor: {
      text: "one read of the tenant's anomalies",
      sql: 'select * from ads.anomalies where tenant_id = $1',
      params: (tenant) => [tenant],
    },
  },
];

/** Statements the page runs itself: not the transaction's own, nor withTenant's setting. */
const isPageStatement = (text: string) => !/^\s*(begin|commit|rollback)\b/i.test(text) && !/set_config\('saas\.tenant_id'/.test(text);

/** The statements one run of the page's reader sends, in order. */
export async function capture(pool: pg.Pool, page: PageSpec, tenant: string, lastDay: string): Promise<CompiledQuery[]> {
  let seen: CompiledQuery[] | null = null;
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool }),
    log: (e: LogEvent) => {
      if (seen && e.level === 'query' && isPageStatement(e.query.sql)) seen.push(e.query);
    },
  });
  await rolledBack(db, tenant, (trx) => page.read(trx, tenant, lastDay)); // warm-up: caches and plans
  seen = [];
  const captured = seen;
  await rolledBack(db, tenant, (trx) => page.read(trx, tenant, lastDay));
  seen = null;
  // a Kysely instance on a shared pool: destroying it would end the pool
  return captured;
}

export interface StatementFigure {
  text: string;
  app_ms: number;
  bypass_ms: number;
  ratio: number;
  rows: number;
  /** The superuser saw other rows than the app role: the statement leans on the policies for its tenant filter. */
  rows_differ: boolean;
}

export interface PageFigure {
  page: string;
  path: string;
  statements: number;
  /** Sum of the statements' medians as the app role (row-level security on). */
  database_ms: number;
  /** The same statements as the superuser (policies skipped). */
  bypass_ms: number;
  rls_ratio: number;
  floor: { text: string; ms: number };
  by_statement: StatementFigure[];
}

/** A statement to replay: its text and parameters (a captured CompiledQuery is one). */
export interface Statement {
  sql: string;
  parameters: readonly unknown[];
}

const firstLine = (text: string) => text.replace(/\s+/g, ' ').trim().slice(0, 120);

/**
 * The settings the app role's own connections start with (ALTER ROLE ... SET, e.g. jit = off): they apply at login,
 * not at SET ROLE, so the replay states them in each of its transactions, for both runs.
 */
async function roleSettings(su: pg.ClientBase, role: string): Promise<[string, string][]> {
  const r = await su.query<{ setting: string }>(
    `select unnest(s.setconfig) as setting from pg_db_role_setting s join pg_roles r on r.oid = s.setrole
      where r.rolname = $1 and s.setdatabase in (0, (select oid from pg_database where datname = current_database()))
      order by s.setdatabase`,
    [role],
  );
  return r.rows.map(({ setting }) => {
    const at = setting.indexOf('=');
    return [setting.slice(0, at), setting.slice(at + 1)];
  });
}

/**
 * Replays the statements `repeat` times (after one warm-up) on one superuser connection, alternating a run as the app
 * role (SET LOCAL ROLE aegis_app) and a run as the superuser itself, each in a rolled-back transaction with the tenant
 * set and the app role's own settings: the two see the same server, caches, settings and load, statement by statement.
 */
export async function replay(su: pg.ClientBase, tenant: string, statements: readonly Statement[], repeat: number, appRole = 'aegis_app') {
  const settings = await roleSettings(su, appRole);
  const times = { app: statements.map(() => [] as number[]), bypass: statements.map(() => [] as number[]) };
  const rows = { app: statements.map(() => 0), bypass: statements.map(() => 0) };
  for (let i = 0; i < 1 + repeat; i++) {
    for (const mode of ['app', 'bypass'] as const) {
      await su.query('begin');
      try {
        for (const [name, value] of settings) await su.query('select set_config($1, $2, true)', [name, value]);
        if (mode === 'app') await su.query(`set local role ${su.escapeIdentifier(appRole)}`);
        await su.query(SET_TENANT, [tenant]);
        for (const [k, q] of statements.entries()) {
          const t0 = performance.now();
          const r = await su.query(q.sql, [...q.parameters]);
          if (i > 0) times[mode][k]!.push(performance.now() - t0);
          rows[mode][k] = r.rowCount ?? 0;
        }
      } finally {
        await su.query('rollback');
      }
    }
  }
  return { times, rows };
}

/** One page for one tenant: its statements' database time as the app role, as the superuser, and its floor. */
export async function measurePage(appPool: pg.Pool, su: pg.ClientBase, page: PageSpec, tenant: string, lastDay: string, repeat: number): Promise<PageFigure> {
  const statements = await capture(appPool, page, tenant, lastDay);
  const { times, rows } = await replay(su, tenant, statements, repeat);
  const floor = await replay(su, tenant, [{ sql: page.floor.sql, parameters: page.floor.params(tenant, lastDay) }], repeat);
  const by: StatementFigure[] = statements.map((q, k) => {
    const app = median(times.app[k]!);
    const bypass = median(times.bypass[k]!);
    return {
      text: firstLine(q.sql),
      app_ms: r2(app),
      bypass_ms: r2(bypass),
      ratio: r2(app / bypass),
      rows: rows.app[k]!,
      rows_differ: rows.app[k] !== rows.bypass[k],
    };
  });
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const database = sum(statements.map((_, k) => median(times.app[k]!)));
  const bypass = sum(statements.map((_, k) => median(times.bypass[k]!)));
  return {
    page: page.name,
    path: page.path,
    statements: statements.length,
    database_ms: r2(database),
    bypass_ms: r2(bypass),
    rls_ratio: r2(database / bypass),
    floor: { text: page.floor.text, ms: r2(median(floor.times.app[0]!)) },
    by_statement: by,
  };
}
