// Test access to the database built by global-setup. Tests follow one rule:
// each runs inside a transaction that is rolled back, as the app role with
// the tenant set by set_config(..., true), and checks the owner's view too.
import pg from 'pg';
import { afterAll, inject } from 'vitest';
import { createTenant } from './factories';

const pools: pg.Pool[] = [];

export function ownerPool(): pg.Pool {
  const p = new pg.Pool({ connectionString: inject('ownerUrl'), max: 4 });
  p.on('error', () => undefined);
  pools.push(p);
  return p;
}

export function appPool(): pg.Pool {
  const p = new pg.Pool({ connectionString: inject('appUrl'), max: 4 });
  p.on('error', () => undefined);
  pools.push(p);
  return p;
}

afterAll(async () => {
  await Promise.all(pools.splice(0).map((p) => p.end()));
});

/** An app-role pool and two fresh tenants, `label` and `label, other tenant` (the second to prove isolation). */
export async function tenantPair(label: string): Promise<{ owner: pg.Pool; app: pg.Pool; tenant: string; other: string }> {
  const owner = ownerPool();
  return { owner, app: appPool(), tenant: await createTenant(owner, label), other: await createTenant(owner, `${label}, other tenant`) };
}

/** Run fn in a transaction that is always rolled back. */
export async function rollback<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    await c.query('begin');
    return await fn(c);
  } finally {
    await c.query('rollback').catch(() => undefined);
    c.release();
  }
}

export { createTenant, setTenant } from './factories';

/** Error message of a failing query, or null when it succeeds (inside a savepoint). */
export async function errorOf(c: pg.ClientBase, text: string, values: unknown[] = []): Promise<string | null> {
  await c.query('savepoint t');
  try {
    await c.query(text, values);
    await c.query('release savepoint t');
    return null;
  } catch (e) {
    await c.query('rollback to savepoint t');
    return (e as Error).message;
  }
}

/** A fresh, empty database on the test server; dropped after the calling file. */
export async function scratchDatabase(label: string): Promise<string> {
  const { withDatabase } = await import('../../lib/db/config');
  const adminUrl = inject('adminUrl');
  const name = `aegis_scratch_${label}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${admin.escapeIdentifier(name)}`);
  await admin.end();
  scratch.push(name);
  return withDatabase(adminUrl, name);
}

const scratch: string[] = [];
afterAll(async () => {
  if (!scratch.length) return;
  const admin = new pg.Client({ connectionString: inject('adminUrl') });
  await admin.connect();
  for (const name of scratch.splice(0)) {
    await admin.query(`drop database if exists ${admin.escapeIdentifier(name)} with (force)`).catch(() => undefined);
  }
  await admin.end();
});

/** Run SQL text on a fresh connection (like `psql -f`), ignoring notices. */
export async function runSql(url: string, text: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  c.on('notice', () => undefined);
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

export async function queryRows<T extends pg.QueryResultRow = Record<string, unknown>>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(text, values)).rows;
  } finally {
    await c.end();
  }
}

/** fn on a connection of `pool` in one transaction with the tenant set (RLS is forced on the owner too); committed unless `commit` is false. */
export async function inTenant<T>(pool: pg.Pool, tenant: string, fn: (c: pg.PoolClient) => Promise<T>, commit = true): Promise<T> {
  const c = await pool.connect();
  try {
    await c.query('begin');
    await c.query("select set_config('saas.tenant_id', $1, true)", [tenant]);
    const out = await fn(c);
    await c.query(commit ? 'commit' : 'rollback');
    return out;
  } catch (err) {
    await c.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    c.release();
  }
}
