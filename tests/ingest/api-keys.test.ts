// API keys on the real database: create, list and revoke through the same
// schema, role and handler the server actions wrap (admins only; buyers and
// viewers refused, nothing written), the key kept only as a hash (the whole
// database searched for the secret), audits without secret or hash, and the
// look-up: a SECURITY DEFINER function the app role may only execute, that
// answers for a well-formed, unrevoked key alone, counts the rate limit in
// PostgreSQL and never lets the app role read another tenant's hash.
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { dbDir, readSqlFile } from '../../db/tools/migrate';
import {
  API_KEY_ACTIONS,
  API_KEY_NOT_FOUND,
  API_KEY_ROLE,
  authenticateApiKey,
  generateApiKey,
  hashApiKey,
  listApiKeys,
  MAX_ACTIVE_KEYS,
  parseApiKey,
  type CreatedApiKey,
} from '../../lib/ingest/api-keys';
import { INVALID_INPUT, roleRefusal, runTenantAction } from '../../lib/request/action-core';
import type { ActionResult } from '../../lib/request/result';
import { appKysely, rolledBackAsApp } from '../helpers/app-db';
import { appPool, errorOf, inTenant, ownerPool, rollback, runSql, setTenant } from '../helpers/db';
import { factories, type Team } from '../helpers/factories';

const app = appKysely(6);
const owner = ownerPool();
const raw = appPool();
const { createTeam } = factories({ password: 'api keys password 1', emailPrefix: 'k', domain: 'api-keys.test', namePrefix: 'Key user' });

type Who = 'admin' | 'buyer' | 'viewer';

const createKey = (team: Team, who: Who, input: unknown) =>
  runTenantAction({ ...API_KEY_ACTIONS.create, userId: team[who].id, preferredTenantId: team.tenantId, input, db: app.db }) as Promise<
    ActionResult<CreatedApiKey>
  >;
const revokeKey = (team: Team, who: Who, input: unknown) =>
  runTenantAction({ ...API_KEY_ACTIONS.revoke, userId: team[who].id, preferredTenantId: team.tenantId, input, db: app.db });

async function newKey(team: Team, name = 'Nightly export'): Promise<CreatedApiKey> {
  const r = await createKey(team, 'admin', { name });
  if (!r.ok || !r.data) throw new Error(`create failed: ${JSON.stringify(r)}`);
  return r.data;
}

const keyRows = async (tenantId: string) =>
  (await owner.query('select * from saas.api_keys where tenant_id = $1 order by created_at', [tenantId])).rows as {
    id: string;
    name: string;
    key_prefix: string;
    key_hash: string;
    role: string;
    created_by: string;
    last_used_at: Date | null;
    revoked_at: Date | null;
  }[];
const audits = async (tenantId: string) =>
  (await owner.query(`select action, entity_id, actor_user_id, before, after from saas.audit_log where tenant_id = $1 and entity_type = 'api_key' order by id`, [tenantId]))
    .rows as { action: string; entity_id: string; actor_user_id: string; before: Record<string, unknown> | null; after: Record<string, unknown> | null }[];

/** Every row of every table of the product's schemas (as the owner: no row-level security), as text, holding `needle`. */
async function findEverywhere(pool: pg.Pool, needle: string): Promise<string[]> {
  const tables = (
    await pool.query<{ t: string }>(
      `select format('%I.%I', table_schema, table_name) as t from information_schema.tables
        where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')`,
    )
  ).rows.map((r) => r.t);
  const hits: string[] = [];
  for (const t of tables) {
    const r = await pool.query<{ n: number }>(`select count(*)::int as n from ${t} x where strpos(x::text, $1) > 0`, [needle]);
    if (r.rows[0]!.n > 0) hits.push(t);
  }
  return hits;
}

describe('creating a key', () => {
  it('an admin creates a buyer key: shown once in the answer, stored as the SHA-256 of the whole key, audited without it', async () => {
    const team = await createTeam(owner, 'Keys create');
    const r = await createKey(team, 'admin', { name: '  Nightly Meta export  ' });
    expect(r.ok).toBe(true);
    const made = r.ok ? r.data! : null!;
    expect(made.key).toMatch(/^aegis_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(made.name).toBe('Nightly Meta export');
    const prefix = made.key.slice(6, 18);
    expect(made.prefix).toBe(`aegis_${prefix}_…`);

    const [row] = await keyRows(team.tenantId);
    expect(row).toMatchObject({ id: made.id, name: 'Nightly Meta export', key_prefix: prefix, role: 'buyer', created_by: team.admin.id, last_used_at: null, revoked_at: null });
    expect(API_KEY_ROLE).toBe('buyer');
    // Hash computed here independently of the module.
    expect(row!.key_hash).toBe(createHash('sha256').update(made.key).digest('hex'));

    expect(await audits(team.tenantId)).toEqual([
      {
        action: 'api_key.create',
        entity_id: made.id,
        actor_user_id: team.admin.id,
        before: null,
        after: { name: 'Nightly Meta export', key_prefix: prefix, role: 'buyer', revoked_at: null },
      },
    ]);
  });

  it('the secret is nowhere in the database, and neither secret nor hash in the audit log', async () => {
    const team = await createTeam(owner, 'Keys secret');
    const made = await newKey(team);
    // Use it too, so the look-up's own writes (last use, the rate limit's count) are searched as well.
    expect((await authenticateApiKey(app.db, made.key)).ok).toBe(true);
    const secret = made.key.slice(19);
    expect(secret).toHaveLength(43);
    expect(await findEverywhere(owner, secret)).toEqual([]);
    expect(await findEverywhere(owner, made.key)).toEqual([]);
    const hash = hashApiKey(made.key);
    expect(await findEverywhere(owner, hash)).toEqual(['saas.api_keys']);
    const auditText = JSON.stringify(await audits(team.tenantId));
    expect(auditText).not.toContain(secret);
    expect(auditText).not.toContain(hash);
    expect(auditText).not.toMatch(/key_hash|"secret"/);
  });

  it('buyers and viewers are refused by the server, and nothing is written', async () => {
    const team = await createTeam(owner, 'Keys roles');
    for (const who of ['buyer', 'viewer'] as const) {
      const r = await createKey(team, who, { name: 'Sneaky' });
      expect(r).toEqual({ ok: false, message: roleRefusal('admin', who) });
    }
    expect(await keyRows(team.tenantId)).toEqual([]);
    expect(await audits(team.tenantId)).toEqual([]);
  });

  it('refuses a bad name naming the field, and writes nothing', async () => {
    const team = await createTeam(owner, 'Keys names');
    const cases: [unknown, RegExp][] = [
      [{}, /^Name: /],
      [{ name: '' }, /^Name: enter a name/],
      [{ name: '   ' }, /^Name: enter a name/],
      [{ name: 'x'.repeat(101) }, /^Name: keep it under 100 characters\.$/],
      [{ name: 'two\nlines' }, /^Name: must be a single line\.$/],
      [{ name: 'nul\u0000' }, /^Name: must be a single line\.$/],
      [{ name: 'half \ud83d' }, /^Name: contains a broken character/],
      [{ name: 42 }, /^Name: /],
    ];
    for (const [input, message] of cases) {
      const r = await createKey(team, 'admin', input);
      expect(r.ok, JSON.stringify(input)).toBe(false);
      expect(!r.ok && r.message).toBe(INVALID_INPUT);
      expect(!r.ok && r.fieldErrors?.name?.some((m) => message.test(m)), JSON.stringify(r)).toBe(true);
    }
    // 100 characters is the limit, inclusive (the table's check agrees).
    expect((await createKey(team, 'admin', { name: 'x'.repeat(100) })).ok).toBe(true);
    expect((await keyRows(team.tenantId)).map((k) => k.name.length)).toEqual([100]);
  });

  it(`at most ${MAX_ACTIVE_KEYS} active keys a tenant; a revoked one frees its place`, async () => {
    const team = await createTeam(owner, 'Keys cap');
    const ids: string[] = [];
    for (let i = 0; i < MAX_ACTIVE_KEYS; i++) ids.push((await newKey(team, `key ${i}`)).id);
    const over = await createKey(team, 'admin', { name: 'one more' });
    expect(over).toEqual({ ok: false, message: `A tenant has at most ${MAX_ACTIVE_KEYS} active API keys: revoke one first.` });
    expect((await revokeKey(team, 'admin', { id: ids[0], confirm: 'revoke' })).ok).toBe(true);
    expect((await createKey(team, 'admin', { name: 'one more' })).ok).toBe(true);
    expect((await keyRows(team.tenantId)).length).toBe(MAX_ACTIVE_KEYS + 1);
  });

  it('the server actions wrap exactly these definitions', () => {
    const source = readFileSync(path.join(__dirname, '..', '..', 'lib', 'ingest', 'api-key-actions.ts'), 'utf8');
    expect(source.startsWith("'use server';")).toBe(true);
    for (const a of ['create', 'revoke']) {
      expect(source).toContain(`tenantAction(API_KEY_ACTIONS.${a}.schema, API_KEY_ACTIONS.${a}.minRole, API_KEY_ACTIONS.${a}.handler)`);
    }
    expect(API_KEY_ACTIONS.create.minRole).toBe('admin');
    expect(API_KEY_ACTIONS.revoke.minRole).toBe('admin');
  });
});

describe('listing keys', () => {
  it('by name, active first, with the public prefix only, the creator, last use and revocation', async () => {
    const team = await createTeam(owner, 'Keys list');
    const b = await newKey(team, 'beta');
    const a = await newKey(team, 'Alpha');
    const c = await newKey(team, 'charlie');
    await revokeKey(team, 'admin', { id: a.id, confirm: 'revoke' });
    await authenticateApiKey(app.db, c.key);
    const list = await rolledBackAsApp(app.db, team.tenantId, (trx) => listApiKeys(trx, team.tenantId));
    expect(list.map((k) => k.name)).toEqual(['beta', 'charlie', 'Alpha']);
    for (const k of list) {
      expect(Object.keys(k).sort()).toEqual(['createdAt', 'createdBy', 'id', 'lastUsedAt', 'name', 'prefix', 'revokedAt', 'role']);
      expect(k.prefix).toMatch(/^aegis_[0-9a-f]{12}_…$/);
      expect(k.createdBy).toBe(`Key user ${team.admin.id.slice(0, 8)}`);
    }
    const byName = Object.fromEntries(list.map((k) => [k.name, k]));
    expect(byName.beta!.prefix).toBe(b.prefix);
    expect(byName.beta!.lastUsedAt).toBeNull();
    expect(byName.charlie!.lastUsedAt).not.toBeNull();
    expect(byName.Alpha!.revokedAt).not.toBeNull();
    expect(JSON.stringify(list)).not.toContain(hashApiKey(b.key));
  });

  it("another tenant's keys are not listed", async () => {
    const team = await createTeam(owner, 'Keys list A');
    const other = await createTeam(owner, 'Keys list B');
    await newKey(other, 'theirs');
    expect(await rolledBackAsApp(app.db, team.tenantId, (trx) => listApiKeys(trx, other.tenantId))).toEqual([]);
    expect((await keyRows(other.tenantId)).length).toBe(1);
  });
});

describe('revoking a key', () => {
  it('an admin revokes with the confirmation: audited before and after, and the key stops working at once', async () => {
    const team = await createTeam(owner, 'Keys revoke');
    const made = await newKey(team, 'to revoke');
    expect((await authenticateApiKey(app.db, made.key)).ok).toBe(true);

    const unconfirmed = await revokeKey(team, 'admin', { id: made.id });
    expect(unconfirmed.ok).toBe(false);
    expect(!unconfirmed.ok && unconfirmed.fieldErrors?.confirm).toEqual(['Confirm: revoking cannot be undone; confirm it.']);
    expect((await keyRows(team.tenantId))[0]!.revoked_at).toBeNull();

    const r = await revokeKey(team, 'admin', { id: made.id, confirm: 'revoke' });
    expect(r).toEqual({ ok: true, message: '“to revoke” revoked: requests with it are refused from now on.', data: undefined });
    const [row] = await keyRows(team.tenantId);
    expect(row!.revoked_at).toBeInstanceOf(Date);
    expect(await authenticateApiKey(app.db, made.key)).toEqual({ ok: false });

    const revoke = (await audits(team.tenantId)).find((a) => a.action === 'api_key.revoke')!;
    const prefix = made.key.slice(6, 18);
    expect(revoke.entity_id).toBe(made.id);
    expect(revoke.before).toEqual({ name: 'to revoke', key_prefix: prefix, role: 'buyer', revoked_at: null });
    expect(revoke.after).toEqual({ name: 'to revoke', key_prefix: prefix, role: 'buyer', revoked_at: row!.revoked_at!.toISOString() });

    // Again: nothing changes, nothing more is audited.
    expect(await revokeKey(team, 'admin', { id: made.id, confirm: 'revoke' })).toMatchObject({ ok: true, message: '“to revoke” was revoked already.' });
    expect((await audits(team.tenantId)).length).toBe(2);
  });

  it('buyers and viewers are refused; a key of another tenant is not found and stays active', async () => {
    const team = await createTeam(owner, 'Keys revoke roles');
    const other = await createTeam(owner, 'Keys revoke other');
    const mine = await newKey(team);
    const theirs = await newKey(other);
    for (const who of ['buyer', 'viewer'] as const) {
      expect(await revokeKey(team, who, { id: mine.id, confirm: 'revoke' })).toEqual({ ok: false, message: roleRefusal('admin', who) });
    }
    expect(await revokeKey(team, 'admin', { id: theirs.id, confirm: 'revoke' })).toEqual({ ok: false, message: API_KEY_NOT_FOUND });
    expect(await revokeKey(team, 'admin', { id: randomUUID(), confirm: 'revoke' })).toEqual({ ok: false, message: API_KEY_NOT_FOUND });
    expect((await keyRows(team.tenantId))[0]!.revoked_at).toBeNull();
    expect((await keyRows(other.tenantId))[0]!.revoked_at).toBeNull();
    expect((await authenticateApiKey(app.db, theirs.key)).ok).toBe(true);
    expect((await audits(team.tenantId)).map((a) => a.action)).toEqual(['api_key.create']);
  });
});

describe('the look-up', () => {
  it('finds the tenant and key of a good key and sets its last use; a wrong secret, a malformed or an unknown key find nothing', async () => {
    const team = await createTeam(owner, 'Keys lookup');
    const made = await newKey(team);
    const before = Date.now();
    const auth = await authenticateApiKey(app.db, made.key);
    expect(auth).toEqual({ ok: true, tenantId: team.tenantId, keyId: made.id, role: 'buyer', allowed: true, remaining: 59 });
    const used = (await keyRows(team.tenantId))[0]!.last_used_at!;
    expect(used.getTime()).toBeGreaterThanOrEqual(before - 1000);

    const prefix = made.key.slice(6, 18);
    const wrongSecret = `aegis_${prefix}_${'A'.repeat(43)}`;
    const unknown = generateApiKey().key;
    for (const k of [wrongSecret, unknown, '', 'aegis_', made.key.slice(0, -1), `${made.key}x`, made.key.toUpperCase(), ` ${made.key}`, `aegis_${prefix.toUpperCase()}_${made.key.slice(19)}`]) {
      expect(await authenticateApiKey(app.db, k), k).toEqual({ ok: false });
    }
    expect(parseApiKey(made.key)).toEqual({ prefix, hash: createHash('sha256').update(made.key).digest() });
    expect(parseApiKey(wrongSecret.replace('_A', '_!'))).toBeNull();
  });

  it('compares the hash of each key sharing a prefix, in any tenant', async () => {
    const a = await createTeam(owner, 'Keys shared prefix A');
    const b = await createTeam(owner, 'Keys shared prefix B');
    const prefix = 'abcdef012345';
    const keyA = `aegis_${prefix}_${'a'.repeat(43)}`;
    const keyB = `aegis_${prefix}_${'b'.repeat(43)}`;
    for (const [t, k] of [[a, keyA], [b, keyB]] as const) {
      await inTenant(owner, t.tenantId, (c) =>
        c.query(`insert into saas.api_keys (tenant_id, name, key_prefix, key_hash, role) values ($1, 'shared', $2, $3, 'buyer')`, [t.tenantId, prefix, hashApiKey(k)]),
      );
    }
    expect(await authenticateApiKey(app.db, keyA)).toMatchObject({ ok: true, tenantId: a.tenantId });
    expect(await authenticateApiKey(app.db, keyB)).toMatchObject({ ok: true, tenantId: b.tenantId });
    expect(await authenticateApiKey(app.db, `aegis_${prefix}_${'c'.repeat(43)}`)).toEqual({ ok: false });
  });

  it('the definer answers for a well-formed key only, outside any tenant or signed-in transaction, in READ COMMITTED', async () => {
    const team = await createTeam(owner, 'Keys definer checks');
    const made = await newKey(team);
    const p = parseApiKey(made.key)!;
    await rollback(raw, async (c) => {
      const call = (prefix: unknown, hash: unknown, extra = '') =>
        errorOf(c, `select * from ads_engine.api_key_authenticate($1, $2${extra})`, [prefix, hash]);
      expect(await call('ABCDEF012345', p.hash)).toMatch(/12-character hex prefix/);
      expect(await call(p.prefix, Buffer.alloc(31))).toMatch(/SHA-256 \(32 bytes\)/);
      expect(await call(null, p.hash)).toMatch(/12-character hex prefix/);
      expect(await call(p.prefix, p.hash, ", interval '2 hours'")).toMatch(/window must be within an hour/);
      expect(await call(p.prefix, p.hash, ", interval '1 minute', 0")).toMatch(/limit from 1/);
      await setTenant(c, team.tenantId);
      expect(await call(p.prefix, p.hash)).toMatch(/outside any tenant transaction/);
      await setTenant(c, null);
      await c.query("select set_config('saas.user_id', $1, true)", [team.admin.id]);
      expect(await call(p.prefix, p.hash)).toMatch(/without a signed-in user/);
    });
    const c = await raw.connect();
    try {
      await c.query('begin isolation level repeatable read');
      expect(await errorOf(c, 'select * from ads_engine.api_key_authenticate($1, $2)', [p.prefix, p.hash])).toMatch(/READ COMMITTED/);
      await c.query('rollback');
    } finally {
      c.release();
    }
  });

  it('is executable by the app role and not by PUBLIC, SECURITY DEFINER with a fixed search_path', async () => {
    const r = await owner.query(
      `select p.prosecdef as definer, p.proconfig as config, pg_get_userbyid(p.proowner) as owner,
              has_function_privilege('public', p.oid, 'EXECUTE') as public, has_function_privilege('aegis_app', p.oid, 'EXECUTE') as app
         from pg_proc p where p.oid = 'ads_engine.api_key_authenticate(text, bytea, interval, integer)'::regprocedure`,
    );
    expect(r.rows).toEqual([{ definer: true, config: ['search_path=pg_catalog, pg_temp'], owner: 'aegis_owner', public: false, app: true }]);
  });

  it("the app role reads no other tenant's hash (even with the look-up's scope set) and nothing of the rate limit's table", async () => {
    const a = await createTeam(owner, 'Keys hash A');
    const b = await createTeam(owner, 'Keys hash B');
    const mine = await newKey(a);
    const theirs = await newKey(b);
    await authenticateApiKey(app.db, theirs.key);
    // Both exist, as the owner sees them.
    expect((await keyRows(a.tenantId)).length).toBe(1);
    expect((await keyRows(b.tenantId)).length).toBe(1);
    const requestsOfB = await owner.query('select count(*)::int as n from saas.api_key_requests where tenant_id = $1', [b.tenantId]);
    expect(requestsOfB.rows[0].n).toBe(1);

    await rollback(raw, async (c) => {
      await setTenant(c, a.tenantId);
      await c.query("select set_config('saas.api_key_scope', 'lookup', true)");
      const seen = await c.query('select tenant_id, key_hash from saas.api_keys');
      expect(seen.rows).toEqual([{ tenant_id: a.tenantId, key_hash: hashApiKey(mine.key) }]);
      const byHash = await c.query('select 1 from saas.api_keys where key_hash = $1', [hashApiKey(theirs.key)]);
      expect(byHash.rowCount).toBe(0);
      expect(await errorOf(c, 'select * from saas.api_key_requests')).toMatch(/permission denied/);
      expect(await errorOf(c, `insert into saas.api_key_requests (tenant_id, key_id) values ($1, $2)`, [a.tenantId, mine.id])).toMatch(/permission denied/);
      // Nor does it forge another tenant's key.
      expect(await errorOf(c, `insert into saas.api_keys (tenant_id, name, key_prefix, key_hash) values ($1, 'x', 'abcabcabcabc', $2)`, [b.tenantId, '0'.repeat(64)])).toMatch(
        /row-level security/,
      );
      await setTenant(c, null);
      expect((await c.query('select 1 from saas.api_keys')).rowCount).toBe(0);
    });
  });

  it('compares bytes in constant time and correctly', async () => {
    const eq = async (a: Buffer, b: Buffer) => (await owner.query('select ads_engine.bytes_equal_constant_time($1, $2) as v', [a, b])).rows[0].v;
    const h = createHash('sha256').update('x').digest();
    expect(await eq(h, Buffer.from(h))).toBe(true);
    for (const i of [0, 15, 31]) {
      const other = Buffer.from(h);
      other[i] = other[i]! ^ 1;
      expect(await eq(h, other)).toBe(false);
    }
    expect(await eq(h, h.subarray(0, 31))).toBe(false);
    expect(await eq(Buffer.alloc(0), Buffer.alloc(0))).toBe(true);
  });
});

describe('the rate limit, counted in PostgreSQL', () => {
  it('allows max requests a window, then refuses (not counted) with the wait until the oldest leaves', async () => {
    const team = await createTeam(owner, 'Keys rate');
    const made = await newKey(team);
    const limit = { max: 3, windowSeconds: 60 };
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await authenticateApiKey(app.db, made.key, limit));
    expect(results.map((r) => r.ok && r.allowed)).toEqual([true, true, true, false, false]);
    expect(results.slice(0, 3).map((r) => r.ok && r.allowed && r.remaining)).toEqual([2, 1, 0]);
    const refused = results[3]!;
    expect(refused.ok && !refused.allowed && refused.retryAfterSeconds).toBeGreaterThanOrEqual(58);
    expect(refused.ok && !refused.allowed && refused.retryAfterSeconds).toBeLessThanOrEqual(60);
    const n = await owner.query('select count(*)::int as n from saas.api_key_requests where tenant_id = $1 and key_id = $2', [team.tenantId, made.id]);
    expect(n.rows[0].n).toBe(3);

    // Move the window on by ageing the counted requests: the next is allowed, and the old rows are gone.
    await inTenant(owner, team.tenantId, (c) => c.query(`update saas.api_key_requests set requested_at = requested_at - interval '61 seconds' where key_id = $1`, [made.id]));
    expect(await authenticateApiKey(app.db, made.key, limit)).toMatchObject({ ok: true, allowed: true, remaining: 2 });
    const left = await owner.query('select count(*)::int as n from saas.api_key_requests where key_id = $1', [made.id]);
    expect(left.rows[0].n).toBe(1);
  });

  it('simultaneous requests of one key take turns: exactly max get through', async () => {
    const team = await createTeam(owner, 'Keys rate race');
    const made = await newKey(team);
    const results = await Promise.all(Array.from({ length: 12 }, () => authenticateApiKey(app.db, made.key, { max: 5, windowSeconds: 60 })));
    expect(results.filter((r) => r.ok && r.allowed).length).toBe(5);
    expect(results.filter((r) => r.ok && !r.allowed).length).toBe(7);
  });

  it('each key has its own count', async () => {
    const team = await createTeam(owner, 'Keys rate per key');
    const one = await newKey(team, 'one');
    const two = await newKey(team, 'two');
    const limit = { max: 1, windowSeconds: 60 };
    expect(await authenticateApiKey(app.db, one.key, limit)).toMatchObject({ allowed: true });
    expect(await authenticateApiKey(app.db, one.key, limit)).toMatchObject({ allowed: false });
    expect(await authenticateApiKey(app.db, two.key, limit)).toMatchObject({ allowed: true });
  });
});

describe('db/migrations/015_api_keys.sql', () => {
  it('runs again and changes nothing: same policies, grants, functions, indexes; the keys and counts stay', async () => {
    const team = await createTeam(owner, 'Keys migration twice');
    const made = await newKey(team);
    await authenticateApiKey(app.db, made.key);
    const catalog = async () =>
      (
        await owner.query<{ line: string }>(`
          select 'policy ' || polrelid::regclass || ' ' || polname || ' ' || pg_get_expr(polqual, polrelid) as line
            from pg_policy where polrelid in ('saas.api_keys'::regclass, 'saas.api_key_requests'::regclass)
          union all
          select 'fn ' || p.oid::regprocedure || ' ' || md5(p.prosrc) || ' ' || coalesce(p.proacl::text, '') || ' ' || coalesce(p.proconfig::text, '')
            from pg_proc p where p.oid in ('ads_engine.api_key_authenticate(text, bytea, interval, integer)'::regprocedure,
                                           'ads_engine.bytes_equal_constant_time(bytea, bytea)'::regprocedure)
          union all
          select 'idx ' || indexdef from pg_indexes where schemaname = 'saas' and tablename in ('api_keys', 'api_key_requests')
          union all
          select 'acl ' || c.relname || ' ' || coalesce(c.relacl::text, '') || ' ' || c.relrowsecurity || c.relforcerowsecurity
            from pg_class c where c.oid in ('saas.api_keys'::regclass, 'saas.api_key_requests'::regclass)
          order by 1`)
      ).rows.map((r) => r.line);
    const before = await catalog();
    expect(before.some((l) => l.startsWith('policy saas.api_key_requests tenant_isolation'))).toBe(true);
    await runSql(inject('ownerUrl'), readSqlFile(path.join(dbDir, 'migrations', '015_api_keys.sql')));
    expect(await catalog()).toEqual(before);
    expect((await keyRows(team.tenantId)).length).toBe(1);
    const n = await owner.query('select count(*)::int as n from saas.api_key_requests where key_id = $1', [made.id]);
    expect(n.rows[0].n).toBe(1);
    expect((await authenticateApiKey(app.db, made.key)).ok).toBe(true);
  });
});
