// The SQL behind sign-in (db/migrations/001_auth.sql): look-up by email,
// a user's memberships, the admin-only account look-up (refusing accounts
// pending activation elsewhere), temporary-password resets, the self-only
// update rule on accounts (which survives a re-applied deploy.sql), login rate
// limiting (counting, the retry delay, expiry, purge), the last-admin trigger
// and the deletion of never-activated accounts with their last membership.
import path from 'node:path';
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../lib/auth/password';
import { dbDir, migrate, readSqlFile } from '../../db/tools/migrate';
import { appPool, errorOf, ownerPool, rollback, runSql, scratchDatabase, setTenant } from '../helpers/db';
import { addMembership, createTeam, createUser } from './fixtures';

let owner: pg.Pool;
let app: pg.Pool;

beforeAll(() => {
  owner = ownerPool();
  app = appPool();
});

const setUser = (c: pg.ClientBase, id: string | null) => c.query("select set_config('saas.user_id', $1, true)", [id ?? '']);

const DEFINERS = [
  'saas.auth_lookup(text)',
  'saas.user_memberships(uuid)',
  'saas.find_user_by_email(text)',
  'saas.reset_member_password(uuid,text)',
  'saas.sso_lookup(text,text,text)',
  'saas.sso_link(uuid,text,text,text)',
  'saas.login_throttle(text,text,interval,integer,integer)',
  'saas.login_failed(text,text)',
  'saas.login_succeeded(text)',
];

describe('function hygiene', () => {
  it.each(DEFINERS)('%s is SECURITY DEFINER, has an empty search_path, a comment, and only aegis_app may call it', async (fn) => {
    const r = await owner.query(
      `select p.prosecdef, p.proconfig, obj_description(p.oid, 'pg_proc') as comment,
              has_function_privilege('aegis_app', p.oid, 'execute') as app,
              exists (select 1 from aclexplode(p.proacl) a where a.grantee = 0 and a.privilege_type = 'EXECUTE') as public
       from pg_proc p where p.oid = $1::regprocedure`,
      [fn],
    );
    expect(r.rows[0]).toMatchObject({ prosecdef: true, proconfig: ['search_path=""'], app: true, public: false });
    expect(String(r.rows[0].comment).length).toBeGreaterThan(40);
  });

  it('the app role cannot read or write saas.login_attempts directly', async () => {
    await rollback(app, async (c) => {
      expect(await errorOf(c, 'select * from saas.login_attempts')).toMatch(/permission denied/);
      expect(await errorOf(c, "insert into saas.login_attempts (scope, key) values ('account', 'x')")).toMatch(/permission denied/);
    });
  });
});

describe('saas.auth_lookup', () => {
  it('finds an account by email whatever the case and spaces, with its hash and disabled flag', async () => {
    const u = await createUser(owner, { email: `Lookup-${Date.now()}@auth.test`.toLowerCase() });
    const off = await createUser(owner, { disabled: true });
    await rollback(app, async (c) => {
      const r = await c.query('select * from saas.auth_lookup($1)', [`  ${u.email.toUpperCase()} `]);
      expect(r.rows).toHaveLength(1);
      expect(r.rows[0]).toMatchObject({ id: u.id, disabled: false });
      expect(r.rows[0].password_hash).toMatch(/^\$argon2id\$/);
      const d = await c.query('select id, disabled from saas.auth_lookup($1)', [off.email]);
      expect(d.rows).toEqual([{ id: off.id, disabled: true }]);
      expect((await c.query('select * from saas.auth_lookup($1)', ['nobody@auth.test'])).rowCount).toBe(0);
      // The same account is invisible to a plain query without a tenant: the function is the only way in.
      expect((await c.query('select 1 from saas.users where email = $1', [u.email])).rowCount).toBe(0);
    });
  });
});

describe('saas.user_memberships', () => {
  it("lists the user's tenants with name, currency and role, and only for the current user", async () => {
    const a = await createTeam(owner, 'Alpha memberships');
    const b = await createTeam(owner, 'Beta memberships');
    await owner.query("update saas.tenants set currency = 'USD' where id = $1", [b.tenantId]);
    await addMembership(owner, b.tenantId, a.viewer.id, 'buyer');
    await rollback(app, async (c) => {
      await setUser(c, a.viewer.id);
      const r = await c.query('select * from saas.user_memberships($1)', [a.viewer.id]);
      expect(r.rows).toEqual([
        { tenant_id: a.tenantId, tenant_name: 'Alpha memberships', currency: 'EUR', role: 'viewer' },
        { tenant_id: b.tenantId, tenant_name: 'Beta memberships', currency: 'USD', role: 'buyer' },
      ]);
      // Another user's memberships: refused.
      expect(await errorOf(c, 'select * from saas.user_memberships($1)', [a.admin.id])).toMatch(/not the current user/);
      // No user set: refused too.
      await setUser(c, null);
      expect(await errorOf(c, 'select * from saas.user_memberships($1)', [a.viewer.id])).toMatch(/not the current user/);
    });
  });

  it('returns nothing for a disabled account, and reflects a removed membership at once', async () => {
    const t = await createTeam(owner, 'Gamma memberships');
    await rollback(app, async (c) => {
      await setUser(c, t.buyer.id);
      expect((await c.query('select role from saas.user_memberships($1)', [t.buyer.id])).rows).toEqual([{ role: 'buyer' }]);
    });
    await owner.query('delete from saas.memberships where tenant_id = $1 and user_id = $2', [t.tenantId, t.buyer.id]);
    await owner.query('update saas.users set disabled_at = now() where id = $1', [t.viewer.id]);
    await rollback(app, async (c) => {
      await setUser(c, t.buyer.id);
      expect((await c.query('select * from saas.user_memberships($1)', [t.buyer.id])).rowCount).toBe(0);
      await setUser(c, t.viewer.id);
      expect((await c.query('select * from saas.user_memberships($1)', [t.viewer.id])).rowCount).toBe(0);
    });
  });
});

describe('saas.find_user_by_email', () => {
  it('answers an admin of the current tenant, and refuses a buyer, a viewer or no tenant', async () => {
    const t = await createTeam(owner, 'Find by email');
    const outsider = await createUser(owner);
    await rollback(app, async (c) => {
      await setTenant(c, t.tenantId);
      await setUser(c, t.admin.id);
      expect((await c.query('select saas.find_user_by_email($1) as id', [outsider.email.toUpperCase()])).rows[0].id).toBe(outsider.id);
      expect((await c.query('select saas.find_user_by_email($1) as id', ['missing@auth.test'])).rows[0].id).toBeNull();
      for (const who of [t.buyer.id, t.viewer.id]) {
        await setUser(c, who);
        expect(await errorOf(c, 'select saas.find_user_by_email($1)', [outsider.email])).toMatch(/only an admin/);
      }
      await setTenant(c, null);
      await setUser(c, t.admin.id);
      expect(await errorOf(c, 'select saas.find_user_by_email($1)', [outsider.email])).toMatch(/only an admin/);
    });
  });

  it('refuses (AEG02) an account still on a temporary password unless it is already a member here', async () => {
    const a = await createTeam(owner, 'Pending A');
    const b = await createTeam(owner, 'Pending B');
    await markTemporary(a.viewer.id);
    await rollback(app, async (c) => {
      await setTenant(c, b.tenantId);
      await setUser(c, b.admin.id);
      await c.query('savepoint s');
      const err = await c.query('select saas.find_user_by_email($1)', [a.viewer.email]).catch((e: { code: string; message: string }) => e);
      expect(err).toMatchObject({ code: 'AEG02', message: expect.stringMatching(/pending activation/) });
      await c.query('rollback to savepoint s');
      await setTenant(c, a.tenantId);
      await setUser(c, a.admin.id);
      expect((await c.query('select saas.find_user_by_email($1) as id', [a.viewer.email])).rows[0].id).toBe(a.viewer.id);
    });
  });
});

const markTemporary = (id: string, interval = '1 day') =>
  owner.query('update saas.users set password_must_change = true, password_expires_at = now() + $2::interval where id = $1', [id, interval]);

describe('saas.users: an account is updated by its owner only', () => {
  const tryUpdate = (c: pg.ClientBase, id: string) =>
    errorOf(c, "update saas.users set email = 'taken-over-' || id || '@evil.test', password_hash = 'x' where id = $1 returning id", [id]);
  const rowCount = async (c: pg.ClientBase, id: string) =>
    (await c.query("update saas.users set name = 'Renamed' where id = $1", [id])).rowCount;

  it('another member of a shared tenant, even its admin, updates nothing; the user updates their own row', async () => {
    const t = await createTeam(owner, 'Update policy');
    const other = await createTeam(owner, 'Update policy other');
    await addMembership(owner, other.tenantId, t.viewer.id, 'viewer');
    await rollback(app, async (c) => {
      await setTenant(c, t.tenantId);
      await setUser(c, t.admin.id);
      // The admin sees the viewer's row (a member here) but cannot change it.
      expect((await c.query('select 1 from saas.users where id = $1', [t.viewer.id])).rowCount).toBe(1);
      expect(await rowCount(c, t.viewer.id)).toBe(0);
      expect(await tryUpdate(c, t.viewer.id)).toBeNull();
      await setUser(c, t.viewer.id);
      expect(await rowCount(c, t.viewer.id)).toBe(1);
      // Nor can the owner of the row move it onto another id.
      expect(await errorOf(c, "update saas.users set id = gen_random_uuid() where id = $1", [t.viewer.id])).toMatch(/row-level security/);
    });
    const r = await owner.query('select email, password_hash from saas.users where id = $1', [t.viewer.id]);
    expect(r.rows[0]).toEqual({ email: t.viewer.email, password_hash: expect.stringMatching(/^\$argon2id\$/) });
  });

  it('stays so after deploy.sql is applied again (its own user_update policy comes back, the restrictive one holds)', async () => {
    const url = await scratchDatabase('users_policy');
    await migrate(url);
    await runSql(url, readSqlFile(path.join(dbDir, 'deploy.sql')));
    const c = new (await import('pg')).default.Client({ connectionString: url });
    await c.connect();
    try {
      const policies = await c.query("select polname, polpermissive from pg_policy where polrelid = 'saas.users'::regclass and polcmd = 'w' order by 1");
      expect(policies.rows).toEqual(
        expect.arrayContaining([
          { polname: 'user_update', polpermissive: true },
          { polname: 'user_update_self_only', polpermissive: false },
        ]),
      );
      const tenant = '6b2f4a52-0000-4000-8000-000000000001';
      const admin = '6b2f4a52-0000-4000-8000-0000000000a1';
      const victim = '6b2f4a52-0000-4000-8000-0000000000b2';
      await c.query('begin');
      await c.query('insert into saas.tenants (id, name) values ($1, $2)', [tenant, 'Redeployed']);
      await c.query("insert into saas.users (id, email) values ($1, 'admin@redeploy.test'), ($2, 'victim@redeploy.test')", [admin, victim]);
      await c.query("insert into saas.memberships (tenant_id, user_id, role) values ($1, $2, 'admin'), ($1, $3, 'viewer')", [tenant, admin, victim]);
      await c.query('set local role aegis_app');
      await setTenant(c, tenant);
      await setUser(c, admin);
      expect((await c.query("update saas.users set email = 'stolen@evil.test' where id = $1", [victim])).rowCount).toBe(0);
      expect((await c.query("update saas.users set name = 'Me' where id = $1", [admin])).rowCount).toBe(1);
      await c.query('rollback');
    } finally {
      await c.end();
    }
  });
});

describe('saas.reset_member_password', () => {
  let hash: string;
  beforeAll(async () => {
    hash = await hashPassword('temporary password 1');
  });
  const reset = (c: pg.ClientBase, id: string, h = hash) => errorOf(c, 'select saas.reset_member_password($1, $2)', [id, h]);

  it('sets a temporary password valid 24 hours for a member of this tenant only', async () => {
    const t = await createTeam(owner, 'Reset SQL');
    await rollback(app, async (c) => {
      await setTenant(c, t.tenantId);
      await setUser(c, t.admin.id);
      // now() is the transaction's start: exactly 24 hours later.
      const r = await c.query('select extract(epoch from saas.reset_member_password($1, $2) - now())::int as seconds', [t.buyer.id, hash]);
      expect(r.rows[0].seconds).toBe(24 * 3600);
      const row = await c.query('select password_hash, password_must_change from saas.users where id = $1', [t.buyer.id]);
      expect(row.rows[0]).toEqual({ password_hash: hash, password_must_change: true });
    });
  });

  it('refuses a non-admin caller, a non-member, oneself, an admin, a member of another tenant, and a non-argon2id hash', async () => {
    const t = await createTeam(owner, 'Reset SQL refusals');
    const other = await createTeam(owner, 'Reset SQL other');
    await addMembership(owner, other.tenantId, t.viewer.id, 'viewer');
    await rollback(app, async (c) => {
      await setTenant(c, t.tenantId);
      await setUser(c, t.buyer.id);
      expect(await reset(c, t.viewer.id)).toMatch(/only an admin/);
      await setUser(c, t.admin.id);
      expect(await reset(c, other.buyer.id)).toMatch(/not a member of the current tenant/);
      expect(await reset(c, t.admin.id)).toMatch(/own password/);
      await c.query("update saas.memberships set role = 'admin' where tenant_id = $1 and user_id = $2", [t.tenantId, t.buyer.id]);
      expect(await reset(c, t.buyer.id)).toMatch(/an admin's password/);
      expect(await reset(c, t.viewer.id)).toMatch(/belongs to another tenant/);
      expect(await reset(c, t.buyer.id, 'plain text')).toMatch(/argon2id hash is required/);
    });
    const r = await owner.query('select password_must_change from saas.users where id = any($1)', [[t.viewer.id, t.buyer.id]]);
    expect(r.rows.every((x) => x.password_must_change === false)).toBe(true);
  });
});

describe('never-activated accounts', () => {
  it('are deleted with their last membership (and with their tenant); activated ones stay', async () => {
    const t = await createTeam(owner, 'Forget pending');
    await markTemporary(t.viewer.id);
    await markTemporary(t.buyer.id);
    await rollback(app, async (c) => {
      await setTenant(c, t.tenantId);
      await c.query('delete from saas.memberships where tenant_id = $1 and user_id = $2', [t.tenantId, t.viewer.id]);
    });
    expect((await owner.query('select 1 from saas.users where id = $1', [t.viewer.id])).rowCount).toBe(1); // rolled back
    const c = await app.connect();
    try {
      await c.query('begin');
      await setTenant(c, t.tenantId);
      await c.query('delete from saas.memberships where tenant_id = $1 and user_id = $2', [t.tenantId, t.viewer.id]);
      await c.query('commit');
    } finally {
      c.release();
    }
    expect((await owner.query('select 1 from saas.users where id = $1', [t.viewer.id])).rowCount).toBe(0);
    await owner.query('delete from saas.tenants where id = $1', [t.tenantId]);
    const left = await owner.query('select id from saas.users where id = any($1) order by id', [[t.buyer.id, t.admin.id]]);
    expect(left.rows.map((r) => r.id)).toEqual([t.admin.id]);
  });
});

describe('login rate limit', () => {
  /** As the owner (superuser), seed failures at given ages, then act as the app role; all rolled back. */
  async function withFailures<T>(rows: { scope: string; key: string; minutesAgo: number }[], fn: (c: pg.PoolClient) => Promise<T>) {
    return rollback(owner, async (c) => {
      await c.query("delete from saas.login_attempts where key like '%@rate.test' or key like '10.0.%'");
      for (const r of rows) {
        await c.query("insert into saas.login_attempts (scope, key, attempted_at) values ($1, $2, now() - make_interval(mins => $3))", [
          r.scope,
          r.key,
          r.minutesAgo,
        ]);
      }
      await c.query('set local role aegis_app');
      return fn(c);
    });
  }
  const throttle = async (c: pg.ClientBase, account: string, address: string | null, maxAccount = 5, maxAddress = 50) =>
    (await c.query("select * from saas.login_throttle($1, $2, interval '15 minutes', $3, $4)", [account, address, maxAccount, maxAddress]))
      .rows[0] as { blocked: boolean; retry_after_seconds: number };
  const acct = (minutesAgo: number, key = 'ann@rate.test') => ({ scope: 'account', key, minutesAgo });

  it('allows four failures in 15 minutes and blocks at the fifth, until the oldest leaves the window', async () => {
    await withFailures([acct(10), acct(8), acct(6), acct(4)], async (c) => {
      expect(await throttle(c, 'ann@rate.test', '10.0.0.1')).toEqual({ blocked: false, retry_after_seconds: 0 });
    });
    await withFailures([acct(10), acct(8), acct(6), acct(4), acct(2)], async (c) => {
      // Oldest failure 10 minutes ago leaves the 15-minute window in 5 minutes: 300 s.
      expect(await throttle(c, 'ANN@rate.test ', '10.0.0.1')).toEqual({ blocked: true, retry_after_seconds: 300 });
      // Another account from the same address is not blocked.
      expect((await throttle(c, 'bob@rate.test', '10.0.0.1')).blocked).toBe(false);
    });
  });

  it('with six failures waits for the second oldest (two must leave the window)', async () => {
    await withFailures([acct(14), acct(11), acct(8), acct(6), acct(4), acct(2)], async (c) => {
      // 11 minutes ago + 15 minutes = 4 minutes from now.
      expect(await throttle(c, 'ann@rate.test', null)).toEqual({ blocked: true, retry_after_seconds: 240 });
    });
  });

  it('does not count failures older than the window', async () => {
    await withFailures([acct(16), acct(17), acct(20), acct(30), acct(60), acct(1)], async (c) => {
      expect(await throttle(c, 'ann@rate.test', null)).toEqual({ blocked: false, retry_after_seconds: 0 });
    });
  });

  it('counts per address across accounts', async () => {
    const rows = [1, 2, 3].map((m) => ({ scope: 'address', key: '10.0.0.9', minutesAgo: m }));
    await withFailures(rows, async (c) => {
      expect(await throttle(c, 'new@rate.test', '10.0.0.9', 5, 3)).toEqual({ blocked: true, retry_after_seconds: 12 * 60 });
      expect((await throttle(c, 'new@rate.test', '10.0.0.10', 5, 3)).blocked).toBe(false);
    });
  });

  it('login_failed records the account (lower-cased) and the address; login_succeeded forgives the account only', async () => {
    await withFailures([{ scope: 'account', key: 'old@rate.test', minutesAgo: 2 * 24 * 60 }], async (c) => {
      for (let i = 0; i < 5; i++) await c.query('select saas.login_failed($1, $2)', [' Cat@Rate.test', '10.0.0.5']);
      expect(await throttle(c, 'cat@rate.test', null)).toMatchObject({ blocked: true, retry_after_seconds: 900 });
      expect(await throttle(c, 'other@rate.test', '10.0.0.5', 5, 5)).toMatchObject({ blocked: true });
      await c.query('select saas.login_succeeded($1)', ['CAT@rate.test']);
      expect(await throttle(c, 'cat@rate.test', null)).toEqual({ blocked: false, retry_after_seconds: 0 });
      expect(await throttle(c, 'other@rate.test', '10.0.0.5', 5, 5)).toMatchObject({ blocked: true });
      await c.query('reset role');
      const left = await c.query("select scope, key from saas.login_attempts where key in ('cat@rate.test', '10.0.0.5', 'old@rate.test') order by 1");
      // The two-day-old row was purged; the address rows stay; the account rows were forgiven.
      expect(left.rows).toEqual(Array.from({ length: 5 }, () => ({ scope: 'address', key: '10.0.0.5' })));
    });
  });
});

describe('the last admin', () => {
  it('cannot be demoted or removed; with a second admin both are allowed', async () => {
    const t = await createTeam(owner, 'Last admin');
    await rollback(app, async (c) => {
      await setTenant(c, t.tenantId);
      const demote = "update saas.memberships set role = 'buyer' where tenant_id = $1 and user_id = $2";
      const remove = 'delete from saas.memberships where tenant_id = $1 and user_id = $2';
      expect(await errorOf(c, demote, [t.tenantId, t.admin.id])).toMatch(/at least one admin/);
      expect(await errorOf(c, remove, [t.tenantId, t.admin.id])).toMatch(/at least one admin/);
      // Other members come and go freely.
      expect(await errorOf(c, remove, [t.tenantId, t.viewer.id])).toBeNull();
      await c.query("update saas.memberships set role = 'admin' where tenant_id = $1 and user_id = $2", [t.tenantId, t.buyer.id]);
      expect(await errorOf(c, demote, [t.tenantId, t.admin.id])).toBeNull();
      // Now the buyer-turned-admin is the last one.
      expect(await errorOf(c, remove, [t.tenantId, t.buyer.id])).toMatch(/at least one admin/);
    });
    const r = await owner.query('select role from saas.memberships where tenant_id = $1 and user_id = $2', [t.tenantId, t.admin.id]);
    expect(r.rows).toEqual([{ role: 'admin' }]);
  });

  it('raises SQLSTATE AEG01, and does not stop deleting the whole tenant', async () => {
    const t = await createTeam(owner, 'Deleted tenant');
    await rollback(app, async (c) => {
      await setTenant(c, t.tenantId);
      await c.query('savepoint s');
      const err = await c.query('delete from saas.memberships where tenant_id = $1', [t.tenantId]).catch((e: { code: string }) => e);
      expect((err as { code: string }).code).toBe('AEG01');
      await c.query('rollback to savepoint s');
    });
    await owner.query('delete from saas.tenants where id = $1', [t.tenantId]);
    expect((await owner.query('select 1 from saas.memberships where tenant_id = $1', [t.tenantId])).rowCount).toBe(0);
  });
});
