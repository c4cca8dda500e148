// lib/db: withTenant is one transaction that starts by setting the tenant,
// the app-role safety check, the pool surviving a killed connection, and the
// Kysely types matching the SQL.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { generateSchemaSource } from '../../db/tools/codegen';
import { checkAppRole, createDb, withTenant, withUser, type DbHandle } from '../../lib/db/pool';
import { createTenant, ownerPool } from '../helpers/db';

let app: DbHandle;
let ownerDb: DbHandle;
let tenantA: string;
let tenantB: string;

beforeAll(async () => {
  app = createDb(inject('appUrl'), { max: 2 });
  ownerDb = createDb(inject('ownerUrl'), { max: 1 });
  const owner = ownerPool();
  tenantA = await createTenant(owner, 'Data layer A');
  tenantB = await createTenant(owner, 'Data layer B');
  for (const [t, id] of [[tenantA, 'a-1'], [tenantB, 'b-1']]) {
    await owner.query(
      `insert into ads.budget_allocation (tenant_id, platform, campaign_id, daily_budget) values ($1, 'meta', $2, 50)`,
      [t, id],
    );
  }
});

afterAll(async () => {
  await app.db.destroy();
  await ownerDb.db.destroy();
});

describe('withTenant', () => {
  it('sees only the tenant it was given', async () => {
    const rows = await withTenant(tenantA, (trx) => trx.selectFrom('ads.budget_allocation').select(['tenant_id', 'campaign_id']).execute(), {}, app.db);
    expect(rows).toEqual([{ tenant_id: tenantA, campaign_id: 'a-1' }]);
    const rowsB = await withTenant(tenantB, (trx) => trx.selectFrom('ads.budget_allocation').select('campaign_id').execute(), {}, app.db);
    expect(rowsB).toEqual([{ campaign_id: 'b-1' }]);
  });

  it('sets the tenant transaction-locally: the setting is gone afterwards on the same connection', async () => {
    const single = createDb(inject('appUrl'), { max: 1 });
    try {
      const inside = await withTenant(
        tenantA,
        async (trx) => (await sql<{ t: string; u: string; pid: number }>`select current_setting('saas.tenant_id') as t, current_setting('saas.user_id') as u, pg_backend_pid() as pid`.execute(trx)).rows[0],
        { userId: tenantB },
        single.db,
      );
      expect(inside).toMatchObject({ t: tenantA, u: tenantB });
      const after = (await sql<{ t: string; pid: number }>`select current_setting('saas.tenant_id', true) as t, pg_backend_pid() as pid`.execute(single.db)).rows[0];
      expect(after).toEqual({ t: '', pid: inside!.pid });
    } finally {
      await single.db.destroy();
    }
  });

  it('rolls back everything when the callback fails half-way', async () => {
    await expect(
      withTenant(
        tenantA,
        async (trx) => {
          await trx.updateTable('ads.budget_allocation').set({ daily_budget: 999 }).where('campaign_id', '=', 'a-1').execute();
          throw new Error('boom');
        },
        {},
        app.db,
      ),
    ).rejects.toThrow('boom');
    const r = await withTenant(tenantA, (trx) => trx.selectFrom('ads.budget_allocation').select('daily_budget').executeTakeFirstOrThrow(), {}, app.db);
    expect(r.daily_budget).toBe(50);
  });

  it('refuses ids that are not uuids before reaching the database', async () => {
    await expect(withTenant("x' or true --", async () => 1, {}, app.db)).rejects.toThrow(/tenantId must be a uuid/);
    await expect(withTenant(tenantA, async () => 1, { userId: 'nope' }, app.db)).rejects.toThrow(/userId must be a uuid/);
    await expect(withUser('nope', async () => 1, app.db)).rejects.toThrow(/userId must be a uuid/);
  });

  it('a query outside withTenant sees no tenant rows', async () => {
    const rows = await app.db.selectFrom('ads.budget_allocation').select('campaign_id').execute();
    expect(rows).toEqual([]);
  });
});

describe('app role safety check', () => {
  it('accepts aegis_app and refuses a superuser or owner', async () => {
    expect(await checkAppRole(app.db)).toEqual({ role: 'aegis_app', problems: [] });
    const owner = await checkAppRole(ownerDb.db);
    expect(owner.problems).toContain('it is a superuser');
  });

  /** Check a throwaway login role created with the given options (dropped afterwards). */
  async function problemsOfRole(name: string, options: string): Promise<string[]> {
    const owner = ownerPool();
    const role = `${name}_${process.pid}`;
    await owner.query(`drop role if exists ${role}`);
    await owner.query(`create role ${role} login password 'probe' ${options}`);
    try {
      const u = new URL(inject('ownerUrl'));
      u.username = role;
      u.password = 'probe';
      const probe = createDb(u.toString(), { max: 1 });
      try {
        return (await checkAppRole(probe.db)).problems;
      } finally {
        await probe.db.destroy();
      }
    } finally {
      await owner.query(`drop role ${role}`);
    }
  }

  it('refuses a member of the owner role even when it does not inherit its rights (it could SET ROLE)', async () => {
    expect(await problemsOfRole('aegis_probe_ni', 'noinherit in role aegis_owner')).toEqual(['it is a member of aegis_owner']);
  });

  it('refuses a role that owns the tables or holds BYPASSRLS', async () => {
    expect(await problemsOfRole('aegis_probe', 'bypassrls in role aegis_owner')).toEqual(['it has BYPASSRLS', 'it is a member of aegis_owner']);
  });
});

describe('server start', () => {
  it('exits with a message when connected as a role that bypasses RLS, and starts as aegis_app', async () => {
    const { refuseUnsafeRole } = await import('../../instrumentation-node');
    const codes: number[] = [];
    const errors: string[] = [];
    const original = console.error;
    console.error = (m: string) => errors.push(m);
    try {
      await refuseUnsafeRole(ownerDb.db, (c) => codes.push(c));
      await refuseUnsafeRole(app.db, (c) => codes.push(c));
    } finally {
      console.error = original;
    }
    expect(codes).toEqual([1]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/Refusing to start: the database role "postgres" could bypass row-level security \(it is a superuser/);
  });
});

describe('pool resilience', () => {
  it('a killed connection gives an error event, not a crash, and the next query reconnects', async () => {
    const errors: string[] = [];
    const h = createDb(inject('appUrl'), { max: 1, onError: (e) => errors.push(e.message) });
    try {
      const pid = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(h.db)).rows[0]!.pid;
      await ownerPool().query('select pg_terminate_backend($1)', [pid]);
      await new Promise((r) => setTimeout(r, 300));
      expect(errors.length).toBe(1);
      expect(errors[0]).toMatch(/terminat/i);
      const again = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(h.db)).rows[0]!.pid;
      expect(again).not.toBe(pid);
    } finally {
      await h.db.destroy();
    }
  });
});

describe('Kysely types', () => {
  it('lib/db/schema.generated.ts matches the migrated schema (regenerate with npm run db:types)', async () => {
    const committed = readFileSync(path.join(__dirname, '..', '..', 'lib', 'db', 'schema.generated.ts'), 'utf8');
    expect(await generateSchemaSource(inject('ownerUrl'))).toEqual(committed);
  });
});
