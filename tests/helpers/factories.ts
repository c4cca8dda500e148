// Committed test data shared by the vitest suites and the Playwright fixtures:
// tenants, accounts with real argon2id hashes (the app's own parameters) and
// memberships, written as the owner. Plain pg, no test runner imported, so
// both runners can use it.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { hashPassword } from '../../lib/auth/password-hash';
import type { Role } from '../../lib/tenancy/roles';

export type { Role };

export async function setTenant(c: pg.ClientBase, tenantId: string | null): Promise<void> {
  await c.query("select set_config('saas.tenant_id', $1, true)", [tenantId ?? '']);
}

/** Create a tenant as the owner (committed), returning its id. The tenant is set, so a non-superuser owner passes the policy too. */
export async function createTenant(owner: pg.Pool, name = 'Test tenant', currency?: string): Promise<string> {
  const id = randomUUID();
  const c = await owner.connect();
  try {
    await c.query('begin');
    await setTenant(c, id);
    if (currency) await c.query('insert into saas.tenants (id, name, currency) values ($1, $2, $3)', [id, name, currency]);
    else await c.query('insert into saas.tenants (id, name) values ($1, $2)', [id, name]);
    await c.query('commit');
  } catch (err) {
    await c.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    c.release();
  }
  return id;
}

// argon2id costs ~20 ms a hash: one per distinct password per process.
const hashes = new Map<string, Promise<string>>();
function hashOf(password: string): Promise<string> {
  let h = hashes.get(password);
  if (!h) hashes.set(password, (h = hashPassword(password)));
  return h;
}

export interface UserStyle {
  /** Password of the accounts this suite creates. */
  password: string;
  /** Emails are `<prefix>-<tag>@<domain>`. */
  emailPrefix: string;
  domain: string;
  /** Display names are `<namePrefix> <tag>`. */
  namePrefix: string;
}

export interface NewUser {
  email?: string;
  name?: string;
  password?: string;
  disabled?: boolean;
  /** Whether the owner proved the email (default true: the accounts of tests are people's own). */
  verified?: boolean;
}

export interface CreatedUser {
  id: string;
  email: string;
  name: string;
}

export interface Team {
  tenantId: string;
  name: string;
  admin: CreatedUser;
  buyer: CreatedUser;
  viewer: CreatedUser;
}

/** Factories bound to one suite's style of accounts. */
export function factories(style: UserStyle) {
  async function createUser(owner: pg.Pool, opts: NewUser = {}): Promise<CreatedUser> {
    const id = randomUUID();
    const tag = id.slice(0, 8);
    const user = { id, email: opts.email ?? `${style.emailPrefix}-${tag}@${style.domain}`, name: opts.name ?? `${style.namePrefix} ${tag}` };
    await owner.query(
      'insert into saas.users (id, email, name, password_hash, disabled_at, email_verified_at) values ($1, $2, $3, $4, $5, $6)',
      [id, user.email, user.name, await hashOf(opts.password ?? style.password), opts.disabled ? new Date() : null, opts.verified === false ? null : new Date()],
    );
    return user;
  }

  async function addMembership(owner: pg.Pool, tenantId: string, userId: string, role: Role): Promise<void> {
    await owner.query('insert into saas.memberships (tenant_id, user_id, role) values ($1, $2, $3)', [tenantId, userId, role]);
  }

  /** A tenant with one admin, one buyer and one viewer. */
  async function createTeam(owner: pg.Pool, name: string): Promise<Team> {
    const tenantId = await createTenant(owner, name);
    const [admin, buyer, viewer] = await Promise.all([createUser(owner), createUser(owner), createUser(owner)]);
    await addMembership(owner, tenantId, admin.id, 'admin');
    await addMembership(owner, tenantId, buyer.id, 'buyer');
    await addMembership(owner, tenantId, viewer.id, 'viewer');
    return { tenantId, name, admin, buyer, viewer };
  }

  return { createUser, addMembership, createTeam };
}
