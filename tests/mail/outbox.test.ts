// saas.mail_outbox under row-level security, as the app role: a tenant sees
// and writes its own rows only; system mail (tenant_id NULL) may be written
// but never read; no direct UPDATE or DELETE, only saas.mail_mark, which
// marks a row of the caller's own scope. Each case checks the owner's view,
// so it cannot pass by seeing nothing. Then the page's read (listOutbox) and
// the migration's frame (log rows, idempotent).
import path from 'node:path';
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { dbDir, migrate, readSqlFile } from '../../db/tools/migrate';
import { withTenant, type Db } from '../../lib/db/pool';
import { listOutbox } from '../../lib/mail/queries';
import { OUTBOX_PAGE_SIZE } from '../../lib/mail/schema';
import { appKysely } from '../helpers/app-db';
import { appPool, createTenant, errorOf, ownerPool, queryRows, rollback, runSql, scratchDatabase, setTenant } from '../helpers/db';

let owner: pg.Pool;
let app: pg.Pool;
let tenantA: string;
let tenantB: string;
/** One smtp row each for A, B and no tenant, and an outbox row for A (ids). */
const ids = { a: 0, b: 0, system: 0, aKept: 0 };

const INSERT = `insert into saas.mail_outbox (tenant_id, kind, to_address, subject, body_text, transport)
                values ($1, 'invitation', 'someone@outbox.test', 'Subject', $2, $3) returning id`;

async function ownerInsert(tenant: string | null, transport: 'smtp' | 'outbox' = 'smtp'): Promise<number> {
  const r = await owner.query<{ id: string }>(INSERT, [tenant, transport === 'outbox' ? 'Body' : null, transport]);
  return Number(r.rows[0]!.id);
}

async function ownerRow(id: number): Promise<{ tenant_id: string | null; sent_at: Date | null; attempts: number; last_error: string | null } | undefined> {
  const r = await owner.query('select tenant_id, sent_at, attempts, last_error from saas.mail_outbox where id = $1', [id]);
  return r.rows[0];
}

const visibleIds = async (c: pg.PoolClient) => (await c.query<{ id: string }>('select id from saas.mail_outbox order by id')).rows.map((r) => Number(r.id));
const mark = async (c: pg.PoolClient, id: number, sent: boolean, error: string | null = null) =>
  (await c.query<{ m: boolean }>('select saas.mail_mark($1, $2, $3) as m', [id, sent, error])).rows[0]!.m;

beforeAll(async () => {
  owner = ownerPool();
  app = appPool();
  tenantA = await createTenant(owner, 'Outbox tenant A');
  tenantB = await createTenant(owner, 'Outbox tenant B');
  ids.a = await ownerInsert(tenantA);
  ids.b = await ownerInsert(tenantB);
  ids.system = await ownerInsert(null);
  ids.aKept = await ownerInsert(tenantA, 'outbox');
});

describe('saas.mail_outbox: reads', () => {
  it('the owner sees every row, system mail included', async () => {
    for (const id of Object.values(ids)) expect(await ownerRow(id)).toBeDefined();
    expect((await ownerRow(ids.system))!.tenant_id).toBeNull();
  });

  it("a tenant sees its own rows only: not the other tenant's, not system mail", async () => {
    await rollback(app, async (c) => {
      await setTenant(c, tenantA);
      expect(await visibleIds(c)).toEqual([ids.a, ids.aKept]);
      await setTenant(c, tenantB);
      expect(await visibleIds(c)).toEqual([ids.b]);
      expect((await c.query('select 1 from saas.mail_outbox where tenant_id is null')).rowCount).toBe(0);
    });
  });

  it('with no tenant set the app sees nothing, system mail included', async () => {
    await rollback(app, async (c) => {
      expect(await visibleIds(c)).toEqual([]);
      await setTenant(c, null);
      expect(await visibleIds(c)).toEqual([]);
    });
  });
});

describe('saas.mail_outbox: writes', () => {
  it("a tenant writes its own rows and system mail, never another tenant's", async () => {
    await rollback(app, async (c) => {
      await setTenant(c, tenantA);
      const plain = INSERT.replace(' returning id', '');
      expect(await errorOf(c, plain, [tenantA, null, 'smtp'])).toBeNull();
      expect(await errorOf(c, plain, [null, null, 'smtp'])).toBeNull();
      expect(await errorOf(c, plain, [tenantB, null, 'smtp'])).toMatch(/row-level security/);
      // A system row cannot be read back, not even by RETURNING: hence nextval() first in lib/mail/send.ts.
      expect(await errorOf(c, INSERT, [null, null, 'smtp'])).toMatch(/row-level security/);
      const { rows } = await c.query<{ id: string }>("select nextval('saas.mail_outbox_id_seq') as id");
      expect(
        await errorOf(
          c,
          `insert into saas.mail_outbox (id, tenant_id, kind, to_address, subject, transport) values ($1, null, 'password_reset', 'a@b.test', 'Reset', 'smtp')`,
          [rows[0]!.id],
        ),
      ).toBeNull();
      expect((await c.query('select 1 from saas.mail_outbox where id = $1', [rows[0]!.id])).rowCount).toBe(0);
    });
  });

  it('with no tenant set the app writes system mail only', async () => {
    await rollback(app, async (c) => {
      const plain = INSERT.replace(' returning id', '');
      expect(await errorOf(c, plain, [null, null, 'smtp'])).toBeNull();
      expect(await errorOf(c, plain, [tenantA, null, 'smtp'])).toMatch(/row-level security/);
    });
  });

  it('the app may not update or delete rows directly, its own included', async () => {
    await rollback(app, async (c) => {
      await setTenant(c, tenantA);
      expect(await errorOf(c, 'update saas.mail_outbox set sent_at = now() where id = $1', [ids.a])).toMatch(/permission denied/);
      expect(await errorOf(c, 'update saas.mail_outbox set body_text = null where id = $1', [ids.aKept])).toMatch(/permission denied/);
      expect(await errorOf(c, 'delete from saas.mail_outbox where id = $1', [ids.a])).toMatch(/permission denied/);
      expect(await errorOf(c, 'truncate saas.mail_outbox')).toMatch(/permission denied/);
    });
    expect(await ownerRow(ids.a)).toMatchObject({ sent_at: null, attempts: 0 });
  });

  it('the table refuses a kept body on a row that went to a mail server, and header-breaking values', async () => {
    await rollback(owner as unknown as pg.Pool, async (c) => {
      expect(await errorOf(c, INSERT, [tenantA, 'Body with a link', 'smtp'])).toMatch(/mail_outbox_redacted_check/);
      expect(
        await errorOf(c, `insert into saas.mail_outbox (tenant_id, kind, to_address, subject, transport) values ($1, 'invitation', 'a@b.test', $2, 'smtp')`, [
          tenantA,
          'Hi\r\nBcc: x@y.test',
        ]),
      ).toMatch(/mail_outbox_subject_check/);
      expect(
        await errorOf(c, `insert into saas.mail_outbox (tenant_id, kind, to_address, subject, transport) values ($1, 'invitation', $2, 'Hi', 'smtp')`, [
          tenantA,
          'a@b.test\nBcc: x@y.test',
        ]),
      ).toMatch(/mail_outbox_to_address_check/);
      expect(
        await errorOf(c, `insert into saas.mail_outbox (tenant_id, kind, to_address, subject, transport) values ($1, 'Invitation', 'a@b.test', 'Hi', 'smtp')`, [tenantA]),
      ).toMatch(/mail_outbox_kind_check/);
    });
  });
});

describe('saas.mail_mark', () => {
  it("marks a row of the caller's tenant, and not another tenant's nor system mail", async () => {
    await rollback(app, async (c) => {
      await setTenant(c, tenantA);
      expect(await mark(c, ids.b, true)).toBe(false);
      expect(await mark(c, ids.system, true)).toBe(false);
      expect(await mark(c, ids.aKept, true)).toBe(false); // kept in the outbox: nothing was sent
      expect(await mark(c, ids.a, false, 'connect ECONNREFUSED')).toBe(true);
      expect(await mark(c, ids.a, true)).toBe(true);
      expect(await mark(c, ids.a, false, 'too late')).toBe(false); // a sent row stays sent
      const own = await c.query('select sent_at is not null as sent, attempts, last_error from saas.mail_outbox where id = $1', [ids.a]);
      expect(own.rows).toEqual([{ sent: true, attempts: 2, last_error: null }]);
    });
    // Rolled back; the other rows were never touched.
    expect(await ownerRow(ids.a)).toMatchObject({ sent_at: null, attempts: 0 });
    expect(await ownerRow(ids.b)).toMatchObject({ sent_at: null, attempts: 0 });
  });

  it('marks system mail with no tenant set, and no tenant row then', async () => {
    await rollback(app, async (c) => {
      expect(await mark(c, ids.a, true)).toBe(false);
      expect(await mark(c, ids.system, false, 'connect ECONNREFUSED')).toBe(true);
      // An empty setting (what a finished set_config(..., true) leaves) is no tenant too.
      await setTenant(c, null);
      expect(await mark(c, ids.system, true)).toBe(true);
    });
    expect(await ownerRow(ids.system)).toMatchObject({ sent_at: null, attempts: 0 });
  });

  it('bounds and fills the error it records', async () => {
    const id = await ownerInsert(null);
    const c = await app.connect();
    try {
      expect(await mark(c, id, false, `  ${'x'.repeat(3000)}  `)).toBe(true);
      expect(await ownerRow(id)).toMatchObject({ attempts: 1, last_error: 'x'.repeat(2000), sent_at: null });
      expect(await mark(c, id, false, '   ')).toBe(true);
      expect(await ownerRow(id)).toMatchObject({ attempts: 2, last_error: 'unknown error' });
    } finally {
      c.release();
    }
  });

  it('is SECURITY DEFINER with search_path pg_catalog, pg_temp, executable by the app role and not by PUBLIC', async () => {
    const r = await owner.query(
      `select p.prosecdef as definer, p.proconfig as config, pg_get_userbyid(p.proowner) as owner, p.provolatile as volatility,
              has_function_privilege('aegis_app', p.oid, 'EXECUTE') as app_execute,
              exists (select 1 from aclexplode(p.proacl) a where a.grantee = 0 and a.privilege_type = 'EXECUTE') as public_execute,
              obj_description(p.oid, 'pg_proc') is not null as commented
       from pg_proc p where p.oid = 'saas.mail_mark(bigint, boolean, text)'::regprocedure`,
    );
    expect(r.rows).toEqual([
      { definer: true, config: ['search_path=pg_catalog, pg_temp'], owner: 'aegis_owner', volatility: 'v', app_execute: true, public_execute: false, commented: true },
    ]);
  });
});

describe('listOutbox (the outbox page)', () => {
  let db: Db;
  let tenantC: string;
  beforeAll(async () => {
    db = appKysely().db;
    tenantC = await createTenant(owner, 'Outbox tenant C');
    // 51 rows a second apart, the newest last; and one for tenant A at the same times.
    await owner.query(
      `insert into saas.mail_outbox (tenant_id, kind, to_address, subject, transport, created_at)
       select $1, 'invitation', 'c' || g || '@outbox.test', 'Message ' || g, 'smtp', now() - interval '1 hour' + g * interval '1 second'
       from generate_series(1, 51) g`,
      [tenantC],
    );
  });

  it('pages newest first, 50 a page, plain objects; a page past the end shows the last', async () => {
    const first = await withTenant(tenantC, (trx) => listOutbox(trx, tenantC, { page: 1 }), {}, db);
    expect(OUTBOX_PAGE_SIZE).toBe(50);
    expect(first).toMatchObject({ total: 51, page: 1, pages: 2 });
    expect(first.rows).toHaveLength(50);
    expect(first.rows[0]).toEqual({
      id: expect.any(Number),
      kind: 'invitation',
      to: 'c51@outbox.test',
      subject: 'Message 51',
      body: null,
      createdAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      sentAt: null,
      transport: 'smtp',
      attempts: 0,
      lastError: null,
    });
    const second = await withTenant(tenantC, (trx) => listOutbox(trx, tenantC, { page: 2 }), {}, db);
    expect(second.rows.map((r) => r.to)).toEqual(['c1@outbox.test']);
    const beyond = await withTenant(tenantC, (trx) => listOutbox(trx, tenantC, { page: 99 }), {}, db);
    expect(beyond.page).toBe(2);
  });

  it("shows a kept body, and nothing of another tenant even when asked for it", async () => {
    const a = await withTenant(tenantA, (trx) => listOutbox(trx, tenantA, { page: 1 }), {}, db);
    expect(a.rows.map((r) => r.id).sort((x, y) => x - y)).toEqual([ids.a, ids.aKept]);
    expect(a.rows.find((r) => r.id === ids.aKept)).toMatchObject({ body: 'Body', transport: 'outbox' });
    // Tenant C's rows, read in tenant A's transaction: row-level security returns none.
    const cross = await withTenant(tenantA, (trx) => listOutbox(trx, tenantC, { page: 1 }), {}, db);
    expect(cross).toMatchObject({ total: 0, rows: [], page: 1, pages: 1 });
  });
});

describe('db/migrations/002_mail.sql and db/functions/mail.sql', () => {
  it('log their phase, and a second run changes nothing', async () => {
    const url = await scratchDatabase('mail');
    await migrate(url, () => undefined);
    const snapshot = () =>
      queryRows<{ item: string }>(
        url,
        `select 'pol ' || polname || ' ' || polcmd::text || ' ' || polroles::text || ' ' || coalesce(pg_get_expr(polqual, polrelid), '') || ' ' || coalesce(pg_get_expr(polwithcheck, polrelid), '') as item
           from pg_policy where polrelid = 'saas.mail_outbox'::regclass
         union all select 'con ' || conname || ' ' || pg_get_constraintdef(oid) from pg_constraint where conrelid = 'saas.mail_outbox'::regclass
         union all select 'rel ' || relname || ' ' || relrowsecurity || relforcerowsecurity || ' ' || coalesce(relacl::text, '') from pg_class where oid in ('saas.mail_outbox'::regclass, 'saas.mail_outbox_id_seq'::regclass)
         union all select 'idx ' || indexdef from pg_indexes where tablename = 'mail_outbox'
         union all select 'fn ' || md5(prosrc) || ' ' || coalesce(proacl::text, '') from pg_proc where oid = 'saas.mail_mark(bigint, boolean, text)'::regprocedure
         union all select 'comment ' || a.attname from pg_attribute a where a.attrelid = 'saas.mail_outbox'::regclass and a.attnum > 0 and col_description(a.attrelid, a.attnum) is null
         order by 1`,
      );
    const before = await snapshot();
    expect(before.some((r) => r.item.startsWith('comment '))).toBe(false); // every column has a comment
    expect(before.filter((r) => r.item.startsWith('pol ')).length).toBe(4);
    await runSql(url, `insert into saas.tenants (id, name) values ('${tenantA}', 'Kept'); insert into saas.mail_outbox (tenant_id, kind, to_address, subject, body_text, transport) values ('${tenantA}', 'invitation', 'a@b.test', 'Hi', 'Body', 'outbox');`);
    await runSql(url, readSqlFile(path.join(dbDir, 'migrations', '002_mail.sql')));
    await runSql(url, readSqlFile(path.join(dbDir, 'functions', 'mail.sql')));
    expect(await snapshot()).toEqual(before);
    expect(await queryRows(url, 'select body_text from saas.mail_outbox')).toEqual([{ body_text: 'Body' }]);
    const log = await queryRows<{ phase: string; status: string }>(url, "select phase, status from public.deployment_log where phase like 'CORE_MAIL%' order by id");
    expect(log).toEqual([
      { phase: 'CORE_MAIL_START', status: 'started' },
      { phase: 'CORE_MAIL', status: 'success' },
      { phase: 'CORE_MAIL_START', status: 'started' },
      { phase: 'CORE_MAIL', status: 'success' },
    ]);
  });
});
