// The one pool, the one Kysely instance, and withTenant(): the only road to
// tenant data. Every call runs in a transaction whose first statement sets
// saas.tenant_id with set_config(..., true), so the setting dies with the
// transaction and never reaches the next user of a pooled connection.
import { CompiledQuery, Kysely, PostgresDialect, sql, type Transaction } from 'kysely';
import pg from 'pg';
import { appDatabaseUrl } from './config';
import type { Database } from './schema.generated';
import { noteDatabaseUnavailable } from './health';
import { isDatabaseUnavailable, markDatabaseUnavailable } from './unavailable';

export type { Database };
export type Tx = Transaction<Database>;
export type Db = Kysely<Database>;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (v: unknown): v is string => typeof v === 'string' && UUID_RE.test(v);

// numeric and bigint come back as strings by default; the app shows and
// computes with numbers. Amounts are numeric(14,2)/(16,2): below 2^53 cents a
// double holds them with cents intact; ids (bigint identity) stay far below
// 2^53 too. Note these parsers are global to the pg module in this process.
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
// A date is a calendar day, not an instant: keep 'YYYY-MM-DD'.
pg.types.setTypeParser(pg.types.builtins.DATE, (v) => v);

export interface DbHandle {
  pool: pg.Pool;
  db: Db;
}

export function createDb(connectionString: string, opts: { max?: number; onError?: (err: Error) => void } = {}): DbHandle {
  const pool = new pg.Pool({
    connectionString,
    max: opts.max ?? Number(process.env.DATABASE_POOL_MAX ?? 10),
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 10_000,
    application_name: 'aegis-web',
  });
  // An idle client that loses its server (restart, killed backend) emits
  // 'error' on the pool; without a listener Node would crash the process.
  // The pool drops that client and opens a fresh one on the next query.
  pool.on('error', opts.onError ?? ((err) => console.error(`[db] idle connection lost: ${err.message}`)));
  // A client checked out (inside a transaction) has no pool listener: when
  // its connection is cut mid-query, the query rejects and the client then
  // emits 'error' too, which would crash the process. This listener keeps
  // the process up and stays silent: the caller already has the query's
  // error, the transaction's rollback fails, and the client is discarded
  // instead of going back to the pool.
  pool.on('connect', (client) => client.on('error', ignoreCheckedOutError));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { pool, db };
}

function ignoreCheckedOutError(): void {}

let shared: DbHandle | undefined;

/** The process-wide handle for the app role (DATABASE_URL or the embedded server). */
export function appDb(): DbHandle {
  shared ??= createDb(appDatabaseUrl());
  return shared;
}

export interface TenantContext {
  /** Signed-in user, exposed to policies as saas.user_id. */
  userId?: string | null;
}

/**
 * Run fn in one transaction scoped to tenantId. Nothing else reaches tenant
 * tables: row-level security returns no rows and refuses writes without it.
 */
export async function withTenant<T>(
  tenantId: string,
  fn: (trx: Tx) => Promise<T>,
  ctx: TenantContext = {},
  db: Db = appDb().db,
): Promise<T> {
  if (!isUuid(tenantId)) throw new Error('withTenant: tenantId must be a uuid');
  if (ctx.userId != null && !isUuid(ctx.userId)) throw new Error('withTenant: userId must be a uuid');
  return db
    .transaction()
    .execute(async (trx) => {
      await sql`select set_config('saas.tenant_id', ${tenantId}, true), set_config('saas.user_id', ${ctx.userId ?? ''}, true)`.execute(trx);
      return fn(trx);
    })
    .catch(rethrowMarked);
}

/**
 * A database that is away reaches the pages' error boundaries with a digest of its own (lib/db/unavailable.ts),
 * and is recorded so the next pages are answered 503 by the proxy while it stays away (lib/db/health.ts).
 */
function rethrowMarked(err: unknown): never {
  if (isDatabaseUnavailable(err)) noteDatabaseUnavailable();
  throw markDatabaseUnavailable(err);
}

/** A transaction for the signed-in user alone (no tenant): their own account and memberships. */
export async function withUser<T>(userId: string, fn: (trx: Tx) => Promise<T>, db: Db = appDb().db): Promise<T> {
  if (!isUuid(userId)) throw new Error('withUser: userId must be a uuid');
  return db
    .transaction()
    .execute(async (trx) => {
      await sql`select set_config('saas.user_id', ${userId}, true)`.execute(trx);
      return fn(trx);
    })
    .catch(rethrowMarked);
}

export interface RoleSafety {
  role: string;
  problems: string[];
}

/**
 * The app must connect as a role that row-level security applies to: not a
 * superuser, not BYPASSRLS, not the owner of the tables (nor a member of
 * the owner role). Returns what is wrong; empty means safe. Takes the app's
 * Kysely instance or anything with pg's query(text) (a pg Client or Pool:
 * the demo seed refuses exactly what the app refuses).
 */
export async function checkAppRole(db: Db | { query(text: string): Promise<{ rows: unknown[] }> }): Promise<RoleSafety> {
  const text = `
    select current_user as role, r.rolsuper, r.rolbypassrls,
           exists (select 1 from pg_tables t where t.schemaname in ('ads', 'saas') and t.tableowner = current_user) as owns,
           exists (select 1 from pg_roles o where o.rolname = 'aegis_owner' and pg_has_role(current_user, o.oid, 'MEMBER')) as owner_member
    from pg_roles r where r.rolname = current_user`;
  // A constant query with no parameter: compiled as it is, never built from input.
  const { rows } = db instanceof Kysely ? await db.executeQuery(CompiledQuery.raw(text)) : await db.query(text);
  const row = rows[0] as { role: string; rolsuper: boolean; rolbypassrls: boolean; owns: boolean; owner_member: boolean } | undefined;
  const problems: string[] = [];
  if (!row) return { role: 'unknown', problems: ['cannot read the current role'] };
  if (row.rolsuper) problems.push('it is a superuser');
  if (row.rolbypassrls) problems.push('it has BYPASSRLS');
  if (row.owns) problems.push('it owns tables in the ads or saas schema');
  if (row.owner_member) problems.push('it is a member of aegis_owner');
  return { role: row.role, problems };
}

export async function assertAppRoleIsSafe(db: Db): Promise<void> {
  const { role, problems } = await checkAppRole(db);
  if (problems.length) {
    throw new Error(
      `Refusing to start: the database role "${role}" could bypass row-level security (${problems.join('; ')}). ` +
        'Set DATABASE_URL to the aegis_app role; migrations use DATABASE_OWNER_URL.',
    );
  }
}

export { sql };
