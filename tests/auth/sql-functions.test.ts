// The SQL behind sign-in (db/functions/auth.sql): the head of an email's hash
// and the check of a computed hash (the stored one never returned; unknown
// emails answered alike, with a stable derived salt),
// a user's memberships, the admin-only account look-up (refusing accounts
// pending activation elsewhere), temporary-password resets, the self-only
// update rule on accounts (which survives a re-applied deploy.sql), login rate
// limiting (counting, the retry delay, expiry, purge), the last-admin trigger
// and the deletion of never-activated accounts with their last membership.
import { createHash } from 'node:crypto';
import path from 'node:path';
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { dbDir, migrate, readSqlFile } from '../../db/tools/migrate';
import { hashWithParams, PASSWORD_PARAMS } from '../../lib/auth/password-hash';
import { appPool, errorOf, ownerPool, queryRows, rollback, runSql, scratchDatabase, setTenant } from '../helpers/db';
import { addMembership, createTeam, createUser, PASSWORD } from './fixtures';

let owner: pg.Pool;
let app: pg.Pool;

beforeAll(() => {
  owner = ownerPool();
  app = appPool();
});

const setUser = (c: pg.ClientBase, id: string | null) => c.query("select set_config('saas.user_id', $1, true)", [id ?? '']);

const DEFINERS = [
  'saas.auth_params(text)',
  'saas.auth_check(text,text)',
  'saas.user_memberships(uuid)',
  'saas.sso_lookup(text,text,text)',
  'saas.sso_link(uuid,text,text,text)',
  'saas.sso_create(text,text,text,text)',
  'saas.login_attempt_begin(text,text,bytea,interval,integer,integer,integer)',
  'saas.login_attempt_succeeded(text,bigint,bytea)',
  'saas.login_forgive(text)',
];

describe('function hygiene', () => {
  it.each(DEFINERS)('%s is SECURITY DEFINER, has search_path pg_catalog, pg_temp, a comment, and only aegis_app may call it', async (fn) => {
    const r = await owner.query(
      `select p.prosecdef, p.proconfig, obj_description(p.oid, 'pg_proc') as comment,
              has_function_privilege('aegis_app', p.oid, 'execute') as app,
              exists (select 1 from aclexplode(p.proacl) a where a.grantee = 0 and a.privilege_type = 'EXECUTE') as public
       from pg_proc p where p.oid = $1::regprocedure`,
      [fn],
    );
    expect(r.rows[0]).toMatchObject({ prosecdef: true, proconfig: ['search_path=pg_catalog, pg_temp'], app: true, public: false });
    expect(String(r.rows[0].comment).length).toBeGreaterThan(40);
  });

  it('the app role cannot read or write saas.login_attempts or saas.known_devices directly', async () => {
    await rollback(app, async (c) => {
      expect(await errorOf(c, 'select * from saas.login_attempts')).toMatch(/permission denied/);
      expect(await errorOf(c, "insert into saas.login_attempts (scope, key) values ('account', 'x')")).toMatch(/permission denied/);
      expect(await errorOf(c, 'select * from saas.known_devices')).toMatch(/permission denied/);
      expect(await errorOf(c, "insert into saas.known_devices (user_id, token_hash) values (gen_random_uuid(), '\\x00')")).toMatch(/permission denied/);
    });
  });

  it('the old throttle functions are gone', async () => {
    const r = await owner.query("select proname from pg_proc where proname in ('login_throttle', 'login_failed', 'login_succeeded')");
    expect(r.rows).toEqual([]);
  });
});

const markTemporary = (id: string, interval = '1 day') =>
  owner.query('update saas.users set password_must_change = true, password_expires_at = now() + $2::interval where id = $1', [id, interval]);

const HEAD_RE = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]{22})$/;
const storedHash = async (id: string) =>
  (await owner.query<{ h: string | null }>('select password_hash as h from saas.users where id = $1', [id])).rows[0]!.h;
const headOf = (hash: string) => hash.slice(0, hash.lastIndexOf('$'));
const params = async (c: pg.ClientBase, email: string) => (await c.query<{ h: string }>('select saas.auth_params($1) as h', [email])).rows[0]!.h;
const check = async (c: pg.ClientBase, email: string, hash: string) => (await c.query('select * from saas.auth_check($1, $2)', [email, hash])).rows;
/** The same hash with one character of its digest changed: the right shape, the wrong digest. */
const tamper = (hash: string) => hash.slice(0, -2) + (hash.at(-2) === 'A' ? 'B' : 'A') + hash.slice(-1);

describe('saas.auth_params and saas.auth_check', () => {
  it('give the head of the hash (never the digest) and the account only for its exact hash, whatever the case and spaces of the email', async () => {
    const u = await createUser(owner, { email: `lookup-${Date.now()}@auth.test` });
    const hash = (await storedHash(u.id))!;
    await rollback(app, async (c) => {
      const head = await params(c, `  ${u.email.toUpperCase()} `);
      expect(head).toBe(headOf(hash));
      expect(head).toMatch(HEAD_RE);
      expect(hash.startsWith(`${head}$`)).toBe(true);
      // The password typed, hashed with that head: the stored hash, so the account.
      const computed = await hashWithParams(head, PASSWORD);
      expect(computed).toBe(hash);
      expect(await check(c, ` ${u.email.toUpperCase()}`, computed)).toEqual([
        { id: u.id, disabled: false, name: u.name, password_temporary: false, password_expired: false },
      ]);
      // A wrong password, a hash of the right shape with a wrong digest, one cut short: nothing.
      expect(await check(c, u.email, await hashWithParams(head, 'not the password'))).toEqual([]);
      expect(await check(c, u.email, tamper(hash))).toEqual([]);
      expect(await check(c, u.email, hash.slice(0, -1))).toEqual([]);
      // Another account's right hash is not this one's (the factory gives one hash per password: another password).
      const other = await createUser(owner, { password: 'another passphrase entirely' });
      expect(await check(c, u.email, (await storedHash(other.id))!)).toEqual([]);
      // The account is invisible to a plain query without a tenant: the functions are the only way in.
      expect((await c.query('select 1 from saas.users where email = $1', [u.email])).rowCount).toBe(0);
    });
  });

  it('say a disabled account is disabled, and a temporary password temporary, then expired', async () => {
    const off = await createUser(owner, { disabled: true });
    const temp = await createUser(owner);
    await markTemporary(temp.id, '1 hour');
    await rollback(app, async (c) => {
      expect(await params(c, off.email)).toBe(headOf((await storedHash(off.id))!));
      expect(await check(c, off.email, (await storedHash(off.id))!)).toMatchObject([{ id: off.id, disabled: true }]);
      expect(await check(c, temp.email, (await storedHash(temp.id))!)).toMatchObject([{ id: temp.id, password_temporary: true, password_expired: false }]);
    });
    await markTemporary(temp.id, '-1 second');
    await rollback(app, async (c) => {
      expect(await check(c, temp.email, (await storedHash(temp.id))!)).toMatchObject([{ id: temp.id, password_temporary: true, password_expired: true }]);
    });
  });

  it('answer an email without a password (none, or single sign-on only) alike: the same shape and parameters, a salt stable for the email', async () => {
    const real = await createUser(owner);
    const sso = await createUser(owner);
    await owner.query("update saas.users set password_hash = null, sso_issuer = 'https://idp.example', sso_subject = $2 where id = $1", [sso.id, `s-${sso.id}`]);
    const unknown = `nobody-${Date.now()}@auth.test`;
    const [h1, h2, again, spaced, realHead, ssoHead, ssoAgain] = await rollback(app, async (c) => [
      await params(c, unknown),
      await params(c, `other-${unknown}`),
      await params(c, unknown),
      await params(c, ` ${unknown.toUpperCase()}`),
      await params(c, real.email),
      await params(c, sso.email),
      await params(c, sso.email),
    ]);
    // From another connection as well: derived, not remembered.
    const fresh = appPool();
    const later = (await fresh.query<{ h: string }>('select saas.auth_params($1) as h', [unknown])).rows[0]!.h;
    expect([again, spaced, later]).toEqual([h1, h1, h1]);
    expect(ssoAgain).toBe(ssoHead);
    expect(new Set([h1, h2, realHead, ssoHead]).size).toBe(4);
    // The same shape as a real head, with the app's parameters (what a new hash gets: lib/auth/password-hash.ts).
    for (const h of [h1, h2, realHead, ssoHead]) {
      const m = HEAD_RE.exec(h);
      expect(m, h).not.toBeNull();
      expect(m!.slice(1, 4).map(Number)).toEqual([PASSWORD_PARAMS.memoryCost, PASSWORD_PARAMS.timeCost, PASSWORD_PARAMS.parallelism]);
      expect(Buffer.from(m![4]!, 'base64')).toHaveLength(16);
    }
    // Hashing with a derived head is the same work, and nothing matches it.
    await rollback(app, async (c) => {
      expect(await check(c, unknown, await hashWithParams(h1, PASSWORD))).toEqual([]);
      expect(await check(c, sso.email, await hashWithParams(ssoHead, PASSWORD))).toEqual([]);
    });
  });

  it('derive the salt of an unknown email from a key only the owner reads', async () => {
    const unknown = `keyed-${Date.now()}@auth.test`;
    const before = (await app.query<{ h: string }>('select saas.auth_params($1) as h', [unknown])).rows[0]!.h;
    // Not a digest of the email alone: another key gives another salt (rolled back).
    const other = await rollback(owner, async (c) => {
      await c.query("update aegis_deploy.auth_decoy_key set key = sha256('another key'::bytea)");
      return (await c.query<{ h: string }>('select saas.auth_params($1) as h', [unknown])).rows[0]!.h;
    });
    expect(other).not.toBe(before);
    expect(other).toMatch(HEAD_RE);
    const key = await owner.query<{ n: number; len: number }>('select count(*)::int as n, max(length(key)) as len from aegis_deploy.auth_decoy_key');
    expect(key.rows).toEqual([{ n: 1, len: 32 }]);
    await rollback(app, async (c) => {
      expect(await errorOf(c, 'select key from aegis_deploy.auth_decoy_key')).toMatch(/permission denied/);
    });
  });

  it('refuse an empty or over-long email and a p_hash that is not an argon2id PHC string, naming what is wrong', async () => {
    const u = await createUser(owner);
    const hash = (await storedHash(u.id))!;
    await rollback(app, async (c) => {
      for (const email of ['', '   ', `${'a'.repeat(316)}@x.test`]) {
        expect(await errorOf(c, 'select saas.auth_params($1)', [email]), email).toMatch(/auth_params: an email of 1 to 320 characters/);
        expect(await errorOf(c, 'select * from saas.auth_check($1, $2)', [email, hash]), email).toMatch(/auth_check: an email of 1 to 320/);
      }
      expect(await errorOf(c, 'select saas.auth_params(null)')).toMatch(/auth_params: an email/);
      for (const bad of [
        null,
        '',
        'not a hash',
        headOf(hash),
        hash.replace('$argon2id$', '$argon2i$'),
        hash.replace('$v=19$', '$v=16$'),
        hash.replace(',p=1$', ',p=0$'),
        `${headOf(hash)}$${'A'.repeat(300)}`,
        `${hash}$extra`,
        hash.replace(/\$[^$]*$/, '$short'),
      ]) {
        const err = await errorOf(c, 'select * from saas.auth_check($1, $2)', [u.email, bad]);
        expect(err, String(bad)).toMatch(/auth_check: p_hash must be an argon2id PHC string/);
      }
    });
    const code = await app.query('select * from saas.auth_check($1, $2)', [u.email, 'x']).catch((e: { code: string }) => e.code);
    expect(code).toBe('22023');
  });

  it('saas.auth_lookup, which returned whole hashes, is gone, and a database deployed with it ends without it', async () => {
    expect((await owner.query("select to_regprocedure('saas.auth_lookup(text)') as f")).rows).toEqual([{ f: null }]);
    const url = await scratchDatabase('auth_params');
    await migrate(url);
    const keyOf = async () => (await queryRows<{ k: string }>(url, "select encode(key, 'hex') as k from aegis_deploy.auth_decoy_key"))[0]!.k;
    const key = await keyOf();
    // As a database deployed before: the old function, granted to the app role.
    await runSql(
      url,
      `create function saas.auth_lookup(p_email text)
       returns table (id uuid, password_hash text, disabled boolean, name text, password_temporary boolean, password_expired boolean)
       language sql stable security definer set search_path = pg_catalog, pg_temp
       as $$ select u.id, u.password_hash, false, u.name, false, false from saas.users u where u.email = p_email $$;
       alter function saas.auth_lookup(text) owner to aegis_owner;
       grant execute on function saas.auth_lookup(text) to aegis_app;`,
    );
    const authSql = readSqlFile(path.join(dbDir, 'functions', 'auth.sql'));
    await runSql(url, authSql);
    await runSql(url, authSql);
    const fns = await queryRows<{ f: string }>(
      url,
      "select p.oid::regprocedure::text as f from pg_proc p where p.proname in ('auth_lookup', 'auth_params', 'auth_check') order by 1",
    );
    expect(fns.map((r) => r.f)).toEqual(['saas.auth_check(text,text)', 'saas.auth_params(text)']);
    // Applied again, the key stays: unknown emails keep their salts across deployments.
    expect(await keyOf()).toBe(key);
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


describe('saas.users: an account is updated by its owner only', () => {
  const tryUpdate = (c: pg.ClientBase, id: string) =>
    errorOf(c, "update saas.users set email = 'taken-over-' || id || '@evil.test', password_hash = 'x' where id = $1 returning id", [id]);
  const rowCount = async (c: pg.ClientBase, id: string) =>
    (await c.query("update saas.users set name = 'Renamed' where id = $1", [id])).rowCount;

  it('the app role updates no account directly, not even its own: changes go through the functions', async () => {
    const t = await createTeam(owner, 'Update refused');
    await rollback(app, async (c) => {
      await setTenant(c, t.tenantId);
      await setUser(c, t.viewer.id);
      expect(await errorOf(c, "update saas.users set name = 'Renamed' where id = $1", [t.viewer.id])).toMatch(/permission denied/);
      expect(await tryUpdate(c, t.viewer.id)).toMatch(/permission denied/);
    });
  });

  it('were an UPDATE granted, another member of a shared tenant, even its admin, would update nothing; the user only their own row', async () => {
    const t = await createTeam(owner, 'Update policy');
    const other = await createTeam(owner, 'Update policy other');
    await addMembership(owner, other.tenantId, t.viewer.id, 'viewer');
    await rollback(owner, async (c) => {
      // Rolled back with the rest: the policies are what would still hold.
      await c.query('grant update (id, email, name, password_hash) on saas.users to aegis_app');
      await c.query('set local role aegis_app');
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
    expect((await owner.query("select has_column_privilege('aegis_app', 'saas.users', 'name', 'UPDATE') as u")).rows).toEqual([{ u: false }]);
  });

  it('stays so after deploy.sql is applied again (its policies come back, and still no UPDATE nor password_hash for the app role)', async () => {
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
      expect(await errorOf(c, "update saas.users set email = 'stolen@evil.test' where id = $1", [victim])).toMatch(/permission denied/);
      expect(await errorOf(c, "update saas.users set name = 'Me' where id = $1", [admin])).toMatch(/permission denied/);
      expect(await errorOf(c, 'select password_hash from saas.users where id = $1', [admin])).toMatch(/permission denied/);
      expect((await c.query('select email from saas.users where id = $1', [admin])).rows).toEqual([{ email: 'admin@redeploy.test' }]);
      await c.query('rollback');
    } finally {
      await c.end();
    }
  });
});

describe('admins no longer attach accounts or set passwords', () => {
  it('find_user_by_email and reset_member_password are gone', async () => {
    const r = await owner.query("select to_regprocedure('saas.find_user_by_email(text)') as a, to_regprocedure('saas.reset_member_password(uuid,text)') as b");
    expect(r.rows[0]).toEqual({ a: null, b: null });
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
  /** As the owner (superuser), seed attempts at given ages, then act as the app role; all rolled back. */
  async function withFailures<T>(rows: { scope: string; key: string; minutesAgo: number; secondsAgo?: number }[], fn: (c: pg.PoolClient) => Promise<T>) {
    return rollback(owner, async (c) => {
      await c.query("delete from saas.login_attempts where key like '%@rate.test' or key like '10.0.%' or scope = 'device'");
      for (const r of rows) {
        await c.query("insert into saas.login_attempts (scope, key, attempted_at) values ($1, $2, now() - make_interval(secs => $3))", [
          r.scope,
          r.key,
          r.secondsAgo ?? r.minutesAgo * 60,
        ]);
      }
      await c.query('set local role aegis_app');
      return fn(c);
    });
  }
  type Begun = { allowed: boolean; retry_after_seconds: number; scope: string; attempt_id: number | string | null };
  const begin = async (c: pg.ClientBase, account: string, address: string | null, o: { device?: Buffer; maxAccount?: number; maxAddress?: number; free?: number } = {}) =>
    (
      await c.query("select * from saas.login_attempt_begin($1, $2, $3, interval '15 minutes', $4, $5, $6)", [
        account,
        address,
        o.device ?? null,
        o.maxAccount ?? 5,
        o.maxAddress ?? 50,
        o.free ?? 5,
      ])
    ).rows[0] as Begun;
  const verdict = (b: Begun) => ({ allowed: b.allowed, retry_after_seconds: b.retry_after_seconds });
  const acct = (minutesAgo: number, key = 'ann@rate.test') => ({ scope: 'account', key, minutesAgo });
  const counted = async (c: pg.ClientBase, scope: string, key: string) => {
    await c.query('reset role');
    const n = (await c.query('select count(*)::int as n from saas.login_attempts where scope = $1 and key = $2', [scope, key])).rows[0].n as number;
    await c.query('set local role aegis_app');
    return n;
  };

  it('allows the fifth attempt after four failures in 15 minutes and refuses the sixth, until the oldest leaves the window', async () => {
    await withFailures([acct(10), acct(8), acct(6), acct(4)], async (c) => {
      const fifth = await begin(c, 'ann@rate.test', '10.0.0.1');
      expect(fifth).toMatchObject({ allowed: true, retry_after_seconds: 0, scope: 'account' });
      // The allowed attempt is already counted (a failure until it succeeds): the next is refused.
      // Oldest failure 10 minutes ago leaves the 15-minute window in 5 minutes: 300 s.
      expect(verdict(await begin(c, 'ANN@rate.test ', '10.0.0.1'))).toEqual({ allowed: false, retry_after_seconds: 300 });
      // A refused attempt is not counted.
      expect(await counted(c, 'account', 'ann@rate.test')).toBe(5);
      // Another account from the same address is not blocked.
      expect((await begin(c, 'bob@rate.test', '10.0.0.1')).allowed).toBe(true);
    });
  });

  it('with six failures waits for the second oldest (two must leave the window)', async () => {
    await withFailures([acct(14), acct(11), acct(8), acct(6), acct(4), acct(2)], async (c) => {
      // 11 minutes ago + 15 minutes = 4 minutes from now.
      expect(verdict(await begin(c, 'ann@rate.test', null))).toEqual({ allowed: false, retry_after_seconds: 240 });
    });
  });

  it('does not count failures older than the window, and purges those older than a day', async () => {
    await withFailures([acct(16), acct(17), acct(20), acct(30), acct(60), acct(1), acct(2 * 24 * 60, 'old@rate.test')], async (c) => {
      expect(verdict(await begin(c, 'ann@rate.test', null))).toEqual({ allowed: true, retry_after_seconds: 0 });
      expect(await counted(c, 'account', 'old@rate.test')).toBe(0);
    });
  });

  it('counts per address across accounts, up to the cap', async () => {
    const rows = [1, 2, 3].map((m) => ({ scope: 'address', key: '10.0.0.9', minutesAgo: m }));
    await withFailures(rows, async (c) => {
      expect(verdict(await begin(c, 'new@rate.test', '10.0.0.9', { maxAddress: 3 }))).toEqual({ allowed: false, retry_after_seconds: 12 * 60 });
      expect((await begin(c, 'new@rate.test', '10.0.0.10', { maxAddress: 3 })).allowed).toBe(true);
    });
  });

  it('past five failures from an address, each further attempt from it waits 2^(n-5) seconds after its last, at most the window', async () => {
    const at = (n: number, lastSecondsAgo: number) =>
      Array.from({ length: n }, (_, i) => ({ scope: 'address', key: '10.0.0.7', minutesAgo: 10, secondsAgo: i === 0 ? lastSecondsAgo : undefined }));
    // Four failures: no delay.
    await withFailures(at(4, 0), async (c) => expect((await begin(c, 'a@rate.test', '10.0.0.7')).allowed).toBe(true));
    // Five, the last just now: 2^0 = 1 second; a second later, allowed.
    await withFailures(at(5, 0), async (c) => expect(verdict(await begin(c, 'a@rate.test', '10.0.0.7'))).toEqual({ allowed: false, retry_after_seconds: 1 }));
    await withFailures(at(5, 1.5), async (c) => expect((await begin(c, 'a@rate.test', '10.0.0.7')).allowed).toBe(true));
    // Eight, the last 3 seconds ago: 2^3 = 8 seconds, 5 to go.
    await withFailures(at(8, 3), async (c) => expect(verdict(await begin(c, 'b@rate.test', '10.0.0.7'))).toEqual({ allowed: false, retry_after_seconds: 5 }));
    // Twenty: 2^15 seconds, capped at the 15-minute window.
    await withFailures(at(20, 0), async (c) => expect(verdict(await begin(c, 'c@rate.test', '10.0.0.7'))).toEqual({ allowed: false, retry_after_seconds: 900 }));
    // Another address is not slowed.
    await withFailures(at(20, 0), async (c) => expect((await begin(c, 'c@rate.test', '10.0.0.8')).allowed).toBe(true));
  });

  it('login_attempt_succeeded forgives the account and its own address row only; login_forgive the account', async () => {
    await withFailures([{ scope: 'address', key: '10.0.0.5', minutesAgo: 1 }], async (c) => {
      // (No per-address delay here: free = 50.)
      for (let i = 0; i < 4; i++) expect((await begin(c, ' Cat@Rate.test', '10.0.0.5', { free: 50 })).allowed).toBe(true);
      const ok = await begin(c, 'cat@rate.test', '10.0.0.5', { free: 50 });
      expect(ok).toMatchObject({ allowed: true, attempt_id: expect.anything() });
      expect(await counted(c, 'account', 'cat@rate.test')).toBe(5);
      expect((await begin(c, 'cat@rate.test', null)).allowed).toBe(false);
      await c.query('select saas.login_attempt_succeeded($1, $2)', ['CAT@rate.test', ok.attempt_id]);
      expect(await counted(c, 'account', 'cat@rate.test')).toBe(0);
      // The address keeps the seeded failure and the four failed attempts; the successful one is no failure.
      expect(await counted(c, 'address', '10.0.0.5')).toBe(5);
      for (let i = 0; i < 2; i++) await begin(c, 'dan@rate.test', null);
      await c.query('select saas.login_forgive($1)', [' DAN@rate.test']);
      expect(await counted(c, 'account', 'dan@rate.test')).toBe(0);
    });
  });

  it('a known device of the account is counted apart: strangers lock the account, not its owner’s browser', async () => {
    const u = await createUser(owner, { email: `dev-${Date.now()}@rate.test` });
    const device = createHash('sha256').update('device token').digest();
    const stranger = createHash('sha256').update('someone else').digest();
    await withFailures([acct(1, u.email), acct(2, u.email), acct(3, u.email), acct(4, u.email), acct(5, u.email)], async (c) => {
      // Locked for a stranger, with or without a device token the account does not know.
      expect((await begin(c, u.email, '10.0.1.1')).allowed).toBe(false);
      expect(await begin(c, u.email, '10.0.1.1', { device: stranger })).toMatchObject({ allowed: false, scope: 'account' });
      // The owner signs in from a browser the account will know (as after a password sign-in).
      await c.query('select saas.login_attempt_succeeded($1, null, $2)', [u.email, device]);
      await withFailuresAgain(c, u.email);
      expect((await begin(c, u.email, '10.0.1.1')).allowed).toBe(false);
      // The known browser is counted under its own key, and limited to five failures too.
      for (let i = 0; i < 5; i++) expect(await begin(c, u.email, '10.0.2.2', { device })).toMatchObject({ allowed: true, scope: 'device' });
      expect(await begin(c, u.email, '10.0.2.2', { device })).toMatchObject({ allowed: false, scope: 'device', retry_after_seconds: 900 });
      // A token known for this account means nothing for another.
      expect(await begin(c, 'other@rate.test', null, { device })).toMatchObject({ scope: 'account' });
      // Forgiving the account forgives its devices.
      await c.query('select saas.login_forgive($1)', [u.email]);
      expect(await begin(c, u.email, '10.0.2.2', { device })).toMatchObject({ allowed: true, scope: 'device' });
    });
    // Refuses a device that is not a SHA-256.
    await rollback(app, async (c) => {
      expect(await errorOf(c, 'select * from saas.login_attempt_begin($1, null, $2)', [u.email, Buffer.from('short')])).toMatch(/SHA-256/);
    });
  });

  /** Five fresh account failures (the successful sign-in forgave the seeded ones). */
  async function withFailuresAgain(c: pg.ClientBase, email: string) {
    for (let i = 0; i < 5; i++) await begin(c, email, `10.0.3.${i}`);
  }

  it('remembers a device only for an enabled account, stores only the hash, and forgets it with the account', async () => {
    const u = await createUser(owner);
    const off = await createUser(owner, { disabled: true });
    const device = createHash('sha256').update(`token ${u.id}`).digest();
    await withFailures([], async (c) => {
      await c.query('select saas.login_attempt_succeeded($1, null, $2)', [u.email, device]);
      await c.query('select saas.login_attempt_succeeded($1, null, $2)', [u.email, device]);
      await c.query('select saas.login_attempt_succeeded($1, null, $2)', [off.email, device]);
      expect(await errorOf(c, 'select * from saas.known_devices')).toMatch(/permission denied/);
      await c.query('reset role');
      const rows = await c.query('select user_id, token_hash from saas.known_devices where user_id = any($1)', [[u.id, off.id]]);
      expect(rows.rows).toEqual([{ user_id: u.id, token_hash: device }]);
      await c.query('delete from saas.users where id = $1', [u.id]);
      expect((await c.query('select 1 from saas.known_devices where user_id = $1', [u.id])).rowCount).toBe(0);
    });
  });

  it('concurrent callers take turns: of 20 simultaneous attempts on one account, exactly five are allowed', async () => {
    const email = `race-${Date.now()}@rate.test`;
    const results = await Promise.all(
      Array.from({ length: 20 }, () => app.query('select allowed from saas.login_attempt_begin($1, null)', [email]).then((r) => r.rows[0].allowed as boolean)),
    );
    expect(results.filter(Boolean)).toHaveLength(5);
    await owner.query('select saas.login_forgive($1)', [email]);
  });

  it('refuses to run under REPEATABLE READ, where it could not see the previous holder’s attempt', async () => {
    const c = await app.connect();
    try {
      await c.query('begin isolation level repeatable read');
      expect(await errorOf(c, 'select * from saas.login_attempt_begin($1, null)', ['rr@rate.test'])).toMatch(/READ COMMITTED/);
    } finally {
      await c.query('rollback');
      c.release();
    }
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
