// Committed test data for the auth tests: a fresh tenant and accounts per test,
// written as the owner, with real argon2id hashes.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { hashPassword } from '../../lib/auth/password';
import type { Role } from '../../lib/auth/roles';
import { createTenant } from '../helpers/db';

export const PASSWORD = 'correct horse battery staple';
let hashed: Promise<string> | undefined;

export async function createUser(owner: pg.Pool, opts: { email?: string; disabled?: boolean; password?: string } = {}) {
  const id = randomUUID();
  const email = opts.email ?? `u-${id.slice(0, 8)}@auth.test`;
  const hash = opts.password ? await hashPassword(opts.password) : await (hashed ??= hashPassword(PASSWORD));
  await owner.query('insert into saas.users (id, email, name, password_hash, disabled_at) values ($1, $2, $3, $4, $5)', [
    id,
    email,
    `User ${id.slice(0, 4)}`,
    hash,
    opts.disabled ? new Date() : null,
  ]);
  return { id, email };
}

export async function addMembership(owner: pg.Pool, tenantId: string, userId: string, role: Role): Promise<void> {
  await owner.query('insert into saas.memberships (tenant_id, user_id, role) values ($1, $2, $3)', [tenantId, userId, role]);
}

/** A tenant with one admin, one buyer and one viewer. */
export async function createTeam(owner: pg.Pool, name = 'Auth tenant') {
  const tenantId = await createTenant(owner, name);
  const admin = await createUser(owner);
  const buyer = await createUser(owner);
  const viewer = await createUser(owner);
  await addMembership(owner, tenantId, admin.id, 'admin');
  await addMembership(owner, tenantId, buyer.id, 'buyer');
  await addMembership(owner, tenantId, viewer.id, 'viewer');
  return { tenantId, admin, buyer, viewer };
}

export async function count(owner: pg.Pool, text: string, values: unknown[]): Promise<number> {
  const r = await owner.query<{ n: number }>(`select count(*)::int as n from (${text}) q`, values);
  return r.rows[0]!.n;
}
