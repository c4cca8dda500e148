// The database's security contract, read from the catalog of the migrated test database: every tenant table under
// forced row-level security, no view that runs as its owner, a fixed search_path (pg_catalog first, pg_temp last)
// on every function of ours, an app role that can bypass nothing, own nothing and create nothing, and password
// hashes that the app role can neither read nor get from any function it may call: the definers compare a hash they
// are given, and return at most the head of one (up to its salt). (The definers themselves: tests/engine/catalog.test.ts.)
// Each check is a query listing offenders; a planted offender, rolled back, shows the check would catch it.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../lib/auth/password-hash';
import { appPool, errorOf, ownerPool, rollback, setTenant } from '../helpers/db';
import { createTenant, factories } from '../helpers/factories';

const OUR_SCHEMAS = ['ads', 'ads_engine', 'saas', 'aegis_deploy'];
const SYSTEM = `n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_(toast|temp)'`;

let owner: pg.Pool;
let app: pg.Pool;

beforeAll(() => {
  owner = ownerPool();
  app = appPool();
});

const setUser = (c: pg.ClientBase, id: string | null) => c.query("select set_config('saas.user_id', $1, true)", [id ?? '']);
/** A PHC string up to its salt, and its digest (after the last $). */
const headOf = (hash: string) => hash.slice(0, hash.lastIndexOf('$'));
const digestOf = (hash: string) => hash.slice(hash.lastIndexOf('$') + 1);
const f = factories({ password: 'a long catalog passphrase', emailPrefix: 'sec', domain: 'security.test', namePrefix: 'Security' });

/** Tables with a tenant_id column that forced row-level security does not cover, and the partitions let off. */
async function tenantTables(c: pg.ClientBase): Promise<{ uncovered: string[]; insertOnlyPartitions: string[] }> {
  const r = await c.query<{ name: string; covered: boolean; insert_only_partition: boolean }>(`
    select c.oid::regclass::text as name,
           c.relrowsecurity and c.relforcerowsecurity and exists (select 1 from pg_policy p where p.polrelid = c.oid) as covered,
           -- The import's COPY target: PostgreSQL refuses COPY FROM into a table under row-level security, so the app
           -- may only INSERT into this partition and reads it through its parent, under the parent's policy.
           c.relispartition
             and not has_table_privilege('aegis_app', c.oid, 'SELECT, UPDATE, DELETE, TRUNCATE')
             and exists (select 1 from pg_inherits i join pg_class p on p.oid = i.inhparent
                         where i.inhrelid = c.oid and p.relrowsecurity and p.relforcerowsecurity) as insert_only_partition
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where c.relkind in ('r', 'p', 'f', 'm') and ${SYSTEM}
      and exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped)
    order by 1`);
  return {
    uncovered: r.rows.filter((t) => !t.covered && !t.insert_only_partition).map((t) => t.name).sort(),
    insertOnlyPartitions: r.rows.filter((t) => !t.covered && t.insert_only_partition).map((t) => t.name).sort(),
  };
}

/** Views that run with their owner's rights (no security_invoker), and materialized views (they always do). */
async function ownerRightsViews(c: pg.ClientBase): Promise<string[]> {
  const r = await c.query<{ name: string }>(`
    select c.oid::regclass::text as name
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where ${SYSTEM} and (c.relkind = 'm' or (c.relkind = 'v' and not exists (
      select 1 from pg_options_to_table(c.reloptions) o
      where o.option_name = 'security_invoker' and lower(o.option_value) in ('true', 'on', 'yes', '1'))))
    order by 1`);
  return r.rows.map((v) => v.name).sort();
}

/** The search_path a function sets, as its list of schemas; null when it sets none. */
function fixedPath(config: string[] | null): string[] | null {
  const entry = (config ?? []).find((s) => s.startsWith('search_path='));
  if (entry === undefined) return null;
  return entry
    .slice('search_path='.length)
    .split(',')
    .map((s) => s.trim().replace(/^"(.*)"$/, '$1'))
    .filter((s) => s !== '');
}

/** Functions of our schemas without a search_path that starts with pg_catalog, ends with pg_temp and names only our schemas between. */
async function functionsWithoutFixedPath(c: pg.ClientBase): Promise<string[]> {
  const r = await c.query<{ name: string; config: string[] | null }>(
    `select p.oid::regprocedure::text as name, p.proconfig as config
     from pg_proc p join pg_namespace n on n.oid = p.pronamespace
     where n.nspname = any($1) and p.prokind <> 'a' order by 1`,
    [OUR_SCHEMAS],
  );
  return r.rows
    .filter((fn) => {
      const p = fixedPath(fn.config);
      return !p || p.length < 2 || p[0] !== 'pg_catalog' || p[p.length - 1] !== 'pg_temp' || !p.slice(1, -1).every((s) => OUR_SCHEMAS.includes(s));
    })
    .map((fn) => fn.name)
    .sort();
}

/** What the app role could use to get round row-level security or plant an object; empty when nothing. */
async function appRoleProblems(c: pg.ClientBase): Promise<string[]> {
  const r = await c.query<{ problem: string }>(`
    select 'superuser' as problem from pg_roles where rolname = 'aegis_app' and rolsuper
    union all select 'BYPASSRLS' from pg_roles where rolname = 'aegis_app' and rolbypassrls
    union all select 'CREATEROLE or CREATEDB' from pg_roles where rolname = 'aegis_app' and (rolcreaterole or rolcreatedb)
    union all select 'member of ' || g.rolname from pg_auth_members m join pg_roles g on g.oid = m.roleid
              where m.member = 'aegis_app'::regrole
    union all select 'owns ' || pg_describe_object(d.classid, d.objid, d.objsubid) from pg_shdepend d
              where d.refobjid = 'aegis_app'::regrole and d.deptype = 'o'
                and d.dbid in (0, (select oid from pg_database where datname = current_database()))
    union all select 'CREATE on schema ' || n.nspname from pg_namespace n
              where n.nspname !~ '^pg_(toast|temp)' and has_schema_privilege('aegis_app', n.oid, 'CREATE')
    union all select 'CREATE on the database' where has_database_privilege('aegis_app', current_database(), 'CREATE')
    union all select 'TEMP on the database' where has_database_privilege('aegis_app', current_database(), 'TEMP')
    union all select 'TEMP for PUBLIC' where has_database_privilege('public', current_database(), 'TEMP')
    union all select 'password_hash ' || p from unnest(array['SELECT', 'INSERT', 'UPDATE', 'REFERENCES']) p
              where has_column_privilege('aegis_app', 'saas.users', 'password_hash', p)
    order by 1`);
  return r.rows.map((x) => x.problem).sort();
}

/** Run fn as the owner (a superuser in tests) in a transaction that is rolled back: planted objects vanish. */
const planted = <T>(fn: (c: pg.PoolClient) => Promise<T>) => rollback(owner, fn);

describe('tenant tables', () => {
  it('every table with a tenant_id column has row-level security enabled, forced and a policy (the COPY partition aside)', async () => {
    const c = await owner.connect();
    try {
      const t = await tenantTables(c);
      expect(t.uncovered).toEqual([]);
      expect(t.insertOnlyPartitions).toEqual(['ads_engine.import_staging_load']);
    } finally {
      c.release();
    }
  });

  it('catches a tenant table without RLS, with RLS not forced, or with no policy, and a readable partition', async () => {
    await planted(async (c) => {
      await c.query('create table ads_engine.planted_open (tenant_id uuid not null, x int)');
      await c.query('create table ads_engine.planted_unforced (tenant_id uuid not null, x int)');
      await c.query('alter table ads_engine.planted_unforced enable row level security');
      await c.query("create policy p on ads_engine.planted_unforced using (tenant_id = (select saas.current_tenant_id()))");
      await c.query('create table ads_engine.planted_no_policy (tenant_id uuid not null, x int)');
      await c.query('alter table ads_engine.planted_no_policy enable row level security, force row level security');
      await c.query('grant select on ads_engine.import_staging_load to aegis_app');
      expect((await tenantTables(c)).uncovered.filter((n) => /planted_|import_staging_load/.test(n))).toEqual([
        'ads_engine.import_staging_load',
        'ads_engine.planted_no_policy',
        'ads_engine.planted_open',
        'ads_engine.planted_unforced',
      ]);
    });
  });
});

describe('views', () => {
  it('no view runs with its owner rights: each is security_invoker, and there is no materialized view', async () => {
    const c = await owner.connect();
    try {
      expect(await ownerRightsViews(c)).toEqual([]);
    } finally {
      c.release();
    }
  });

  it('catches a view without security_invoker and a materialized view, not an invoker view', async () => {
    await planted(async (c) => {
      await c.query('create view ads_engine.planted_definer as select tenant_id, spend from ads.metrics_daily');
      await c.query('create view ads_engine.planted_invoker with (security_invoker = true) as select tenant_id, spend from ads.metrics_daily');
      await c.query('create materialized view ads_engine.planted_snapshot as select tenant_id, spend from ads.metrics_daily with no data');
      expect((await ownerRightsViews(c)).filter((n) => n.includes('planted_'))).toEqual(['ads_engine.planted_definer', 'ads_engine.planted_snapshot']);
    });
  });
});

describe('functions', () => {
  it('every function of ads, ads_engine, saas and aegis_deploy sets search_path pg_catalog, ..., pg_temp', async () => {
    const c = await owner.connect();
    try {
      const all = await c.query<{ n: number }>(
        'select count(*)::int as n from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = any($1)',
        [OUR_SCHEMAS],
      );
      expect(all.rows[0]!.n).toBeGreaterThan(100);
      expect(await functionsWithoutFixedPath(c)).toEqual([]);
    } finally {
      c.release();
    }
  });

  it('reads the path as PostgreSQL stores it', () => {
    expect(fixedPath(['search_path=pg_catalog, pg_temp'])).toEqual(['pg_catalog', 'pg_temp']);
    expect(fixedPath(['enable_nestloop=off', 'search_path=pg_catalog, ads, pg_temp'])).toEqual(['pg_catalog', 'ads', 'pg_temp']);
    expect(fixedPath(['search_path=""'])).toEqual([]);
    expect(fixedPath(['jit=off'])).toBeNull();
    expect(fixedPath(null)).toBeNull();
  });

  it('catches a function with no path, an empty one, pg_catalog not first, pg_temp not last, or a foreign schema', async () => {
    await planted(async (c) => {
      const make = (name: string, set: string) =>
        c.query(`create function ads_engine.${name}() returns int language sql immutable ${set} as $$ select 1 $$`);
      await make('planted_none', '');
      await make('planted_empty', "set search_path = ''");
      await make('planted_public_first', 'set search_path = public, pg_catalog, pg_temp');
      await make('planted_temp_first', 'set search_path = pg_temp, pg_catalog');
      await make('planted_no_temp', 'set search_path = pg_catalog, ads');
      await make('planted_public_between', 'set search_path = pg_catalog, public, pg_temp');
      await make('planted_fine', 'set search_path = pg_catalog, ads, pg_temp');
      expect((await functionsWithoutFixedPath(c)).filter((n) => n.includes('planted_'))).toEqual([
        'ads_engine.planted_empty()',
        'ads_engine.planted_no_temp()',
        'ads_engine.planted_none()',
        'ads_engine.planted_public_between()',
        'ads_engine.planted_public_first()',
        'ads_engine.planted_temp_first()',
      ]);
    });
  });
});

describe('the app role', () => {
  it('is no superuser, no BYPASSRLS, a member of nothing, owns nothing, creates nothing, and has no privilege on password_hash', async () => {
    const c = await owner.connect();
    try {
      expect(await appRoleProblems(c)).toEqual([]);
    } finally {
      c.release();
    }
  });

  it('catches a grant of CREATE, TEMP, membership, ownership or a password_hash privilege', async () => {
    await planted(async (c) => {
      await c.query('grant create on schema ads to aegis_app');
      await c.query(`grant temporary on database ${c.escapeIdentifier((await c.query('select current_database() as d')).rows[0].d)} to aegis_app`);
      await c.query('grant select (password_hash) on saas.users to aegis_app');
      await c.query('create table ads_engine.planted_owned (x int)');
      await c.query('alter table ads_engine.planted_owned owner to aegis_app');
      await c.query('grant aegis_owner to aegis_app');
      expect(await appRoleProblems(c)).toEqual([
        'CREATE on schema ads',
        'TEMP on the database',
        'member of aegis_owner',
        'owns table ads_engine.planted_owned',
        'password_hash SELECT',
      ]);
    });
  });

  it('reads exactly the account columns the app needs, inserts and updates none (a first single sign-on goes through saas.sso_create)', async () => {
    const r = await owner.query<{ column: string; s: boolean; i: boolean; u: boolean }>(`
      select a.attname as column, has_column_privilege('aegis_app', a.attrelid, a.attnum, 'SELECT') as s,
             has_column_privilege('aegis_app', a.attrelid, a.attnum, 'INSERT') as i, has_column_privilege('aegis_app', a.attrelid, a.attnum, 'UPDATE') as u
      from pg_attribute a where a.attrelid = 'saas.users'::regclass and a.attnum > 0 and not a.attisdropped order by a.attnum`);
    const which = (k: 's' | 'i' | 'u') => r.rows.filter((x) => x[k]).map((x) => x.column).sort();
    expect(which('s')).toEqual(['disabled_at', 'email', 'id', 'name', 'password_expires_at', 'password_must_change', 'session_version']);
    expect(which('i')).toEqual([]);
    expect(which('u')).toEqual([]);
    const t = await owner.query(
      `select has_table_privilege('aegis_app', 'saas.users', 'SELECT') as s, has_table_privilege('aegis_app', 'saas.users', 'INSERT') as i,
              has_table_privilege('aegis_app', 'saas.users', 'UPDATE') as u`,
    );
    expect(t.rows[0]).toEqual({ s: false, i: false, u: false });
  });
});

describe('password_hash', () => {
  it('cannot be read or written by the app role in any statement', async () => {
    const u = await f.createUser(owner);
    await rollback(app, async (c) => {
      await setUser(c, u.id);
      for (const text of [
        'select password_hash from saas.users where id = $1',
        'select * from saas.users where id = $1',
        "select id from saas.users where id = $1 and password_hash like '$argon2id$%'",
        "update saas.users set password_hash = 'x' where id = $1",
        "insert into saas.users (id, email, password_hash) values (gen_random_uuid(), 'planted-' || $1 || '@security.test', 'x')",
      ]) {
        expect(await errorOf(c, text, [u.id]), text).toMatch(/permission denied/);
      }
      // The columns it may read still read (the row is its own).
      expect((await c.query('select email from saas.users where id = $1', [u.id])).rows).toEqual([{ email: u.email }]);
    });
  });

  it("saas.own_password_params returns the head of the signed-in account's own hash, never its digest, and refuses without an enabled account", async () => {
    const [a, b, off, sso] = await Promise.all([
      f.createUser(owner),
      f.createUser(owner, { password: 'another passphrase' }),
      f.createUser(owner, { disabled: true }),
      f.createUser(owner),
    ]);
    await owner.query('update saas.users set password_hash = null where id = $1', [sso.id]);
    const hashes = await owner.query<{ id: string; password_hash: string }>('select id, password_hash from saas.users where id = any($1)', [[a.id, b.id]]);
    const hashOf = (id: string) => hashes.rows.find((x) => x.id === id)!.password_hash;
    expect(hashOf(a.id)).not.toBe(hashOf(b.id));
    await rollback(app, async (c) => {
      for (const u of [a, b]) {
        await setUser(c, u.id);
        const h = (await c.query<{ h: string }>('select saas.own_password_params() as h')).rows[0]!.h;
        expect(h).toBe(headOf(hashOf(u.id)));
        expect(h).not.toContain(digestOf(hashOf(u.id)));
      }
      // An account without a password (single sign-on only) has no head.
      await setUser(c, sso.id);
      expect((await c.query('select saas.own_password_params() as h')).rows).toEqual([{ h: null }]);
      for (const who of [null, off.id, randomUUID()]) {
        await setUser(c, who);
        expect(await errorOf(c, 'select saas.own_password_params()'), String(who)).toMatch(/saas\.user_id/);
      }
      // The function that returned the whole hash is gone.
      expect((await c.query("select to_regprocedure('saas.own_password_hash()') as f")).rows).toEqual([{ f: null }]);
    });
  });

  it('saas.replace_own_password swaps only the caller\'s hash, only from the hash it verified, and keeps the account rules', async () => {
    const [a, b] = await Promise.all([f.createUser(owner), f.createUser(owner, { password: 'another passphrase' })]);
    const NEW = await hashPassword('the replacement passphrase');
    const before = await owner.query<{ id: string; password_hash: string; session_version: number }>(
      'select id, password_hash, session_version from saas.users where id = any($1)',
      [[a.id, b.id]],
    );
    const row = (id: string) => before.rows.find((x) => x.id === id)!;
    await owner.query("update saas.users set password_must_change = true, password_expires_at = now() + interval '1 day' where id = $1", [a.id]);
    await rollback(app, async (c) => {
      await setUser(c, a.id);
      // Another account's hash is not the caller's: nothing changes, for either.
      expect((await c.query('select saas.replace_own_password($1, $2) as v', [row(b.id).password_hash, NEW])).rows).toEqual([{ v: null }]);
      expect(await errorOf(c, "select saas.replace_own_password($1, 'not a hash')", [row(a.id).password_hash])).toMatch(/argon2id/);
      expect(await errorOf(c, 'select saas.replace_own_password(null, $1)', [NEW])).toMatch(/p_current_hash/);
      // The verified hash: swapped, the temporary flags cleared, the session version moved.
      expect((await c.query('select saas.replace_own_password($1, $2) as v', [row(a.id).password_hash, NEW])).rows).toEqual([
        { v: row(a.id).session_version + 1 },
      ]);
      // Its hash is now exactly NEW (compared in the database; the app role reads no hash).
      expect((await c.query('select id from saas.auth_check($1, $2)', [a.email, NEW])).rows).toEqual([{ id: a.id }]);
      expect((await c.query('select saas.own_password_params() as h')).rows).toEqual([{ h: headOf(NEW) }]);
      expect((await c.query('select password_must_change, password_expires_at, session_version from saas.users where id = $1', [a.id])).rows).toEqual([
        { password_must_change: false, password_expires_at: null, session_version: row(a.id).session_version + 1 },
      ]);
      // A second change from the old hash finds it gone.
      expect((await c.query('select saas.replace_own_password($1, $2) as v', [row(a.id).password_hash, NEW])).rows).toEqual([{ v: null }]);
      await setUser(c, null);
      expect(await errorOf(c, 'select saas.replace_own_password($1, $2)', [NEW, NEW])).toMatch(/saas\.user_id/);
    });
    const after = await owner.query('select id, password_hash from saas.users where id = any($1) order by id', [[a.id, b.id]]);
    expect(after.rows.map((x) => x.password_hash).sort()).toEqual([row(a.id).password_hash, row(b.id).password_hash].sort());
  });

  it('saas.replace_own_password leaves an expired temporary password and a disabled account alone', async () => {
    const [expired, off] = await Promise.all([f.createUser(owner), f.createUser(owner)]);
    await owner.query("update saas.users set password_must_change = true, password_expires_at = now() - interval '1 minute' where id = $1", [expired.id]);
    const hashes = await owner.query<{ id: string; password_hash: string }>('select id, password_hash from saas.users where id = any($1)', [[expired.id, off.id]]);
    const hashOf = (id: string) => hashes.rows.find((x) => x.id === id)!.password_hash;
    await owner.query('update saas.users set disabled_at = now() where id = $1', [off.id]);
    await rollback(app, async (c) => {
      for (const u of [expired, off]) {
        await setUser(c, u.id);
        expect((await c.query('select saas.replace_own_password($1, $2) as v', [hashOf(u.id), hashOf(u.id)])).rows, u.email).toEqual([{ v: null }]);
      }
    });
  });
});

interface Victim {
  id: string;
  email: string;
  tenantId: string;
  hash: string;
}

/**
 * Calls, as the app role, every function of our schemas it may execute (triggers and polymorphic ones aside), with
 * the victim's email for each text argument, its id for each uuid one and NULL for the rest, once as the victim
 * (saas.user_id and saas.tenant_id set to theirs: what an app role that sets them could do) and once as nobody. Lists
 * the functions whose answer, read as text, holds the digest of the victim's stored hash. Each call runs in its own
 * savepoint (errors are refusals, not leaks), bounded in time; the caller rolls everything back.
 */
async function functionsRevealingTheDigest(c: pg.ClientBase, v: Victim): Promise<{ leaks: string[]; answered: string[] }> {
  const fns = await c.query<{ sig: string; call: string; args: string[] }>(
    `select p.oid::regprocedure::text as sig, quote_ident(n.nspname) || '.' || quote_ident(p.proname) as call,
            array(select format_type(t, null) from unnest(p.proargtypes) t) as args
     from pg_proc p join pg_namespace n on n.oid = p.pronamespace
     where n.nspname = any($1) and p.prokind = 'f' and p.prorettype <> 'trigger'::regtype
       and has_function_privilege('aegis_app', p.oid, 'EXECUTE')
       and not exists (select 1 from unnest(p.proargtypes) t where format_type(t, null) like 'any%')
     order by 1`,
    [OUR_SCHEMAS],
  );
  const digest = digestOf(v.hash);
  const leaks = new Set<string>();
  const answered = new Set<string>();
  await c.query("set local statement_timeout = '5s'");
  await c.query("set local lock_timeout = '1s'");
  for (const asVictim of [true, false]) {
    for (const fn of fns.rows) {
      const values: unknown[] = [];
      const args = fn.args.map((type) => {
        if (type === 'text') return `$${values.push(v.email)}::text`;
        if (type === 'uuid') return `$${values.push(v.id)}::uuid`;
        return `NULL::${type}`;
      });
      await c.query('savepoint call');
      try {
        await setUser(c, asVictim ? v.id : null);
        await setTenant(c, asVictim ? v.tenantId : null);
        const r = await c.query<{ out: string | null }>(`select r::text as out from ${fn.call}(${args.join(', ')}) r`, values);
        answered.add(fn.sig);
        if (r.rows.some((row) => (row.out ?? '').includes(digest))) leaks.add(fn.sig);
        await c.query('release savepoint call');
      } catch {
        await c.query('rollback to savepoint call');
      }
    }
  }
  return { leaks: [...leaks].sort(), answered: [...answered].sort() };
}

describe('no function gives the app role a stored hash', () => {
  async function victim(): Promise<Victim> {
    const tenantId = await createTenant(owner, 'Hash victim');
    const u = await f.createUser(owner);
    await f.addMembership(owner, tenantId, u.id, 'admin');
    const hash = (await owner.query<{ h: string }>('select password_hash as h from saas.users where id = $1', [u.id])).rows[0]!.h;
    expect(hash).toMatch(/^\$argon2id\$.+\$[A-Za-z0-9+/]{43}$/);
    return { id: u.id, email: u.email, tenantId, hash };
  }

  it('calling every function the app role may execute, as the account or as nobody, never answers its digest', async () => {
    const v = await victim();
    const { leaks, answered } = await rollback(app, (c) => functionsRevealingTheDigest(c, v));
    expect(leaks).toEqual([]);
    // The sign-in and password-change functions did answer (with the head, or nothing), so they were looked at.
    expect(answered).toEqual(expect.arrayContaining(['saas.auth_params(text)', 'saas.own_password_params()', 'saas.user_memberships(uuid)']));
    expect(answered.length).toBeGreaterThan(20);
  });

  it('catches a planted function that returns a hash, or a digest inside a row', async () => {
    const v = await victim();
    const { leaks } = await planted(async (c) => {
      await c.query(`create function saas.planted_peek(p_email text) returns text language sql stable security definer
                       set search_path = pg_catalog, pg_temp as $$ select u.password_hash from saas.users u where u.email = p_email $$`);
      await c.query(`create function saas.planted_rows(p_id uuid) returns table (id uuid, tail text) language sql stable security definer
                       set search_path = pg_catalog, pg_temp
                       as $$ select u.id, pg_catalog.split_part(u.password_hash, '$', 6) from saas.users u where u.id = p_id $$`);
      await c.query(`create function saas.planted_own() returns text language sql stable security definer set search_path = pg_catalog, pg_temp
                       as $$ select u.password_hash from saas.users u where u.id = saas.current_user_id() $$`);
      await c.query('grant execute on function saas.planted_peek(text), saas.planted_rows(uuid), saas.planted_own() to aegis_app');
      await c.query('set local role aegis_app');
      return functionsRevealingTheDigest(c, v);
    });
    expect(leaks).toEqual(['saas.planted_own()', 'saas.planted_peek(text)', 'saas.planted_rows(uuid)']);
  });

  it('saas.auth_params answers the head of the hash (up to the salt) and saas.auth_check compares a whole hash, returning none', async () => {
    const v = await victim();
    await rollback(app, async (c) => {
      const head = (await c.query<{ h: string }>('select saas.auth_params($1) as h', [v.email])).rows[0]!.h;
      expect(head).toBe(headOf(v.hash));
      expect(head).not.toContain(digestOf(v.hash));
      const rows = (await c.query('select c::text as out from saas.auth_check($1, $2) c', [v.email, v.hash])).rows;
      expect(rows).toHaveLength(1);
      expect(rows[0].out).not.toContain(digestOf(v.hash));
    });
  });
});

describe('a planted function cannot capture a superuser call', () => {
  it('the app role can create a function in no schema, not even pg_temp, nor a temporary table', async () => {
    const schemas = (await owner.query<{ nspname: string }>(`select nspname from pg_namespace where nspname !~ '^pg_(toast|temp)' order by 1`)).rows.map(
      (r) => r.nspname,
    );
    expect(schemas).toEqual(expect.arrayContaining(['ads', 'ads_engine', 'aegis_deploy', 'pg_catalog', 'public', 'saas']));
    await rollback(app, async (c) => {
      for (const schema of [...schemas, 'pg_temp']) {
        const text = `create function ${c.escapeIdentifier(schema)}.current_setting(text, boolean) returns text language sql as $$ select 'x' $$`;
        expect(await errorOf(c, text), schema).toMatch(/permission denied/);
      }
      expect(await errorOf(c, 'create temporary table planted (x int)')).toMatch(/permission denied/);
    });
  });

  it('and one planted in public anyway does not reach our functions, whatever the caller puts first in its search_path', async () => {
    const tenant = await createTenant(owner, 'Planted lookalike');
    const forged = '00000000-0000-4000-8000-00000000dead';
    await planted(async (c) => {
      // A lookalike of pg_catalog.current_setting(text, boolean), found first by a caller whose path starts with public.
      await c.query(`create function public.current_setting(text, boolean) returns text language sql as $$ select '${forged}' $$`);
      // The same body as saas.current_tenant_id without the fixed path: the control, which the lookalike captures.
      await c.query(`create function public.tenant_unfixed() returns uuid language sql stable as
                       $$ select nullif(current_setting('saas.tenant_id', true), '')::uuid $$`);
      await c.query('set local search_path = public, pg_catalog');
      await setTenant(c, tenant);
      expect((await c.query('select public.tenant_unfixed() as t')).rows).toEqual([{ t: forged }]);
      expect((await c.query('select saas.current_tenant_id() as t')).rows).toEqual([{ t: tenant }]);
      expect((await c.query('select saas.assert_tenant($1) as t', [tenant])).rows).toEqual([{ t: tenant }]);
    });
  });
});
