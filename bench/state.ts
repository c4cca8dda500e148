// The engine's state in a benchmark database: what the daily loop writes
// (baselines, recommendations, anomalies, the ledger of examined days, the
// run log...), cleared, or saved once and put back, so that every run of the
// suite starts its daily pass from the same day-before state without paying
// for the catch-up that makes it.
//
// The saved copy lives in the schema bench_state of the same database, keyed
// by the data set and by the checksums of the applied SQL
// (public.schema_migrations): any change to the engine's SQL makes a new one.
import { createHash } from 'node:crypto';
import pg from 'pg';

/** Tables the loop is known to write; the catch-up adds any other table it is seen writing. */
export const STATE_TABLES = [
  'ads.baselines',
  'ads.campaign_performance',
  'ads.optimization_recommendations',
  'ads.anomalies',
  'ads_engine.optimizer_runs',
  'ads_engine.examined_days',
  'ads_engine.conversion_lag',
  'ads_engine.recommendation_outcomes',
  'ads_engine.auto_applications',
  'ads_engine.anomaly_events',
  'ads_engine.anomaly_verdicts',
  'ads_engine.anomaly_snoozes',
  'ads_engine.loop_changes',
  'ads_engine.loop_state',
] as const;

/** The data the loop reads: never cleared (the rollups follow ads.metrics_daily by its triggers). */
const INPUT_TABLES = new Set([
  'ads.metrics_daily',
  'ads_engine.metrics_platform_daily',
  'ads_engine.metrics_entity_weekly',
  'ads.budget_allocation',
  'ads.platform_configs',
  'ads.performance_benchmarks',
  'ads.ab_tests',
  'saas.tenants',
]);
/** Input rows the loop changes (a recommended budget): saved and put back with the state, reset by a clear. */
const SAVED_INPUTS = ['ads.budget_allocation'];

const SCHEMA = 'bench_state';
const copyName = (table: string) => `${SCHEMA}."${table.replace('.', '__')}"`;
const qualified = (table: string) => {
  const [schema, name] = table.split('.');
  return `"${schema}"."${name}"`;
};

export interface SavedState {
  key: string;
  createdAt: string;
  tables: string[];
  /** What making it measured (the catch-up pass). */
  catchup: Record<string, unknown>;
}

/** Rows written so far per table of the ads and ads_engine schemas (cumulative statistics). */
export async function writeCounters(c: pg.ClientBase): Promise<Map<string, number>> {
  await c.query('select pg_stat_clear_snapshot()');
  const r = await c.query<{ t: string; n: string }>(
    `select schemaname || '.' || relname as t, n_tup_ins + n_tup_upd + n_tup_del as n
     from pg_stat_user_tables where schemaname in ('ads', 'ads_engine')`,
  );
  return new Map(r.rows.map((x) => [x.t, Number(x.n)]));
}

/** The tables written between two counter readings that are not the loop's input. */
export function writtenOutputs(before: Map<string, number>, after: Map<string, number>): string[] {
  return [...after]
    .filter(([t, n]) => n > (before.get(t) ?? 0) && !INPUT_TABLES.has(t))
    .map(([t]) => t)
    .sort();
}

/** The engine's SQL as applied: every applied file but functions/ (sign-in, invitations and mail), with its checksum. */
export async function sqlVersion(c: pg.ClientBase): Promise<string> {
  const files = (
    await c.query<{ s: string }>(
      "select coalesce(string_agg(name || ':' || checksum, ',' order by name), '') as s from public.schema_migrations where name not like 'functions/%'",
    )
  ).rows[0]!.s;
  return createHash('sha256').update(files).digest('hex').slice(0, 12);
}

/** The identity of a state: the data set and the engine's SQL. */
export async function stateKey(c: pg.ClientBase, dataset: { params: Record<string, unknown>; end: string }): Promise<string> {
  // keys sorted: a record read back from jsonb comes in another order than the one written
  const params = JSON.stringify(Object.fromEntries(Object.entries(dataset.params).sort(([a], [b]) => a.localeCompare(b))));
  return createHash('sha256').update(params).update(dataset.end).update(await sqlVersion(c)).digest('hex');
}

export async function readSaved(c: pg.ClientBase): Promise<SavedState | null> {
  if (!(await c.query<{ t: string | null }>(`select to_regclass('${SCHEMA}.meta')::text as t`)).rows[0]!.t) return null;
  const r = (await c.query<{ key: string; created_at: Date; tables: string[]; catchup: Record<string, unknown> }>(`select * from ${SCHEMA}.meta`)).rows[0];
  return r ? { key: r.key, createdAt: r.created_at.toISOString(), tables: r.tables, catchup: r.catchup } : null;
}

async function existing(c: pg.ClientBase, tables: readonly string[]): Promise<string[]> {
  const r = await c.query<{ t: string }>('select t from unnest($1::text[]) t where to_regclass(t) is not null', [[...new Set(tables)]]);
  return r.rows.map((x) => x.t);
}

/** Writable columns (not generated) of a table, quoted. */
async function columns(c: pg.ClientBase, table: string): Promise<string> {
  const r = await c.query<{ c: string }>(
    `select string_agg(quote_ident(attname), ', ' order by attnum) as c from pg_attribute
     where attrelid = $1::regclass and attnum > 0 and not attisdropped and attgenerated = ''`,
    [table],
  );
  return r.rows[0]!.c;
}

/** The loop's outputs emptied and the recommended budgets unset: the state of a database that never ran the loop. */
export async function clearState(c: pg.ClientBase, extra: readonly string[] = []): Promise<string[]> {
  const tables = await existing(c, [...STATE_TABLES, ...extra.filter((t) => !INPUT_TABLES.has(t))]);
  await c.query('begin');
  try {
    // As a superuser: row-level security does not apply, and replica mode skips the tables' own triggers.
    await c.query('set local session_replication_role = replica');
    for (const t of tables) await c.query(`delete from ${qualified(t)}`);
    await c.query('update ads.budget_allocation set recommended_budget = null where recommended_budget is not null');
    await c.query('commit');
  } catch (err) {
    await c.query('rollback');
    throw err;
  }
  await vacuum(c, [...tables, ...SAVED_INPUTS]);
  return tables;
}

/** Copies the current state into bench_state under key (replacing any earlier copy). */
export async function saveState(c: pg.ClientBase, key: string, tables: readonly string[], catchup: Record<string, unknown>): Promise<void> {
  const all = await existing(c, [...tables, ...SAVED_INPUTS]);
  await c.query('begin');
  try {
    await c.query(`drop schema if exists ${SCHEMA} cascade`);
    await c.query(`create schema ${SCHEMA}`);
    for (const t of all) await c.query(`create table ${copyName(t)} as select * from ${qualified(t)}`);
    await c.query(`create table ${SCHEMA}.meta (key text not null, created_at timestamptz not null default now(), tables text[] not null, catchup jsonb not null)`);
    await c.query(`insert into ${SCHEMA}.meta (key, tables, catchup) values ($1, $2, $3)`, [key, all, JSON.stringify(catchup)]);
    await c.query('commit');
  } catch (err) {
    await c.query('rollback');
    throw err;
  }
}

/** Puts the saved state back, every table in one transaction. */
export async function restoreState(c: pg.ClientBase, saved: SavedState): Promise<void> {
  await c.query('begin');
  try {
    await c.query('set local session_replication_role = replica');
    for (const t of saved.tables) {
      const cols = await columns(c, t);
      await c.query(`delete from ${qualified(t)}`);
      await c.query(`insert into ${qualified(t)} (${cols}) overriding system value select ${cols} from ${copyName(t)}`);
    }
    // Expiries count on the wall clock: moved by the copy's age, the recommendations are as far from expiring as when it was saved.
    if (saved.tables.includes('ads.optimization_recommendations')) {
      await c.query('update ads.optimization_recommendations set expires_at = expires_at + (now() - $1::timestamptz) where expires_at is not null', [saved.createdAt]);
    }
    await c.query('commit');
  } catch (err) {
    await c.query('rollback');
    throw err;
  }
  await vacuum(c, saved.tables);
}

/**
 * Removes every tenant the generator did not make (the load test makes its own, with accounts, keys and metrics), and
 * the accounts left without a membership that it made: the data set stays the one generated. Their memberships go
 * first, past the rule that keeps an admin in every tenant (a tenant being removed needs none).
 */
export async function removeOtherTenants(c: pg.ClientBase): Promise<number> {
  await c.query('begin');
  try {
    await c.query('set local session_replication_role = replica');
    await c.query("delete from saas.memberships m using saas.tenants t where m.tenant_id = t.id and t.name not like 'Bench %'");
    await c.query('set local session_replication_role = origin');
    const r = await c.query("delete from saas.tenants where name not like 'Bench %'");
    await c.query("delete from saas.users u where u.email like '%@load.test' and not exists (select 1 from saas.memberships m where m.user_id = u.id)");
    await c.query('commit');
    return r.rowCount ?? 0;
  } catch (err) {
    await c.query('rollback');
    throw err;
  }
}

/** Autovacuum may be off on a benchmark server: the tables the loop reads get their statistics as a live server would give them. */
export async function vacuum(c: pg.ClientBase, tables: readonly string[]): Promise<void> {
  for (const t of await existing(c, tables)) await c.query(`vacuum (analyze) ${qualified(t)}`);
}
