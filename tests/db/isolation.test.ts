// The tenant isolation matrix: for every tenant table, select / insert /
// update / delete as the app role with tenant A set, with tenant B set and
// with no tenant set. Each case also checks, as the owner, that the other
// tenant's rows exist, so a test cannot pass by seeing nothing at all.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { appPool, createTenant, errorOf, ownerPool, rollback, setTenant } from '../helpers/db';

interface TableCase {
  table: string;
  /** Column holding the tenant (tenant_id, or id for saas.tenants). */
  key: string;
  /** An INSERT for tenant $1, with variant n (so several rows do not collide). */
  insert: (n: number) => string;
  /** A column safe to update to itself. */
  touch: string;
}

const users: string[] = [];
const platforms = ['meta', 'google', 'tiktok', 'linkedin', 'snapchat', 'pinterest'];
const windows = [1, 7, 14, 30, 90, 1];

const CASES: TableCase[] = [
  {
    table: 'ads.metrics_daily',
    key: 'tenant_id',
    touch: 'spend',
    insert: (n) => `insert into ads.metrics_daily (tenant_id, platform, level, platform_id, day, spend, impressions, clicks, conversions, conversion_value)
                    values ($1, 'meta', 'campaign', 'cmp-${n}', current_date - 1, 100, 10000, 200, 5, 400)`,
  },
  {
    table: 'ads.baselines',
    key: 'tenant_id',
    touch: 'confidence_score',
    insert: (n) => `insert into ads.baselines (tenant_id, platform, level, window_days) values ($1, 'meta', 'campaign', ${windows[n]})`,
  },
  {
    table: 'ads.budget_allocation',
    key: 'tenant_id',
    touch: 'daily_budget',
    insert: (n) => `insert into ads.budget_allocation (tenant_id, platform, campaign_id, daily_budget) values ($1, 'meta', 'cmp-${n}', 100)`,
  },
  {
    table: 'ads.optimization_recommendations',
    key: 'tenant_id',
    touch: 'description',
    insert: (n) => `insert into ads.optimization_recommendations (tenant_id, platform, entity_id, recommendation_type, description)
                    values ($1, 'meta', 'cmp-${n}', 'pause', 'Pause cmp-${n}')`,
  },
  {
    table: 'ads.ab_tests',
    key: 'tenant_id',
    touch: 'test_name',
    insert: (n) => `insert into ads.ab_tests (tenant_id, test_name) values ($1, 'test ${n}')`,
  },
  {
    table: 'ads.anomalies',
    key: 'tenant_id',
    touch: 'severity',
    insert: (n) => `insert into ads.anomalies (tenant_id, platform, entity_id, day, metric_name, anomaly_type)
                    values ($1, 'meta', 'cmp-${n}', current_date - 1, 'spend', 'spike')`,
  },
  {
    table: 'ads.campaign_performance',
    key: 'tenant_id',
    touch: 'spend',
    insert: (n) => `insert into ads.campaign_performance (tenant_id, platform, campaign_id, period_start, period_end)
                    values ($1, 'meta', 'cmp-${n}', current_date - 7, current_date - 1)`,
  },
  {
    table: 'ads.platform_configs',
    key: 'tenant_id',
    touch: 'max_cpa',
    insert: (n) => `insert into ads.platform_configs (tenant_id, platform) values ($1, '${platforms[n]}')`,
  },
  {
    table: 'saas.memberships',
    key: 'tenant_id',
    touch: 'role',
    insert: (n) => `insert into saas.memberships (tenant_id, user_id, role) values ($1, '${users[n]}', 'viewer')`,
  },
  {
    table: 'saas.audit_log',
    key: 'tenant_id',
    touch: 'action',
    insert: (n) => `insert into saas.audit_log (tenant_id, action, entity_type, entity_id) values ($1, 'test', 'thing', '${n}')`,
  },
  {
    table: 'saas.api_keys',
    key: 'tenant_id',
    touch: 'name',
    insert: (n) => `insert into saas.api_keys (tenant_id, name, key_prefix, key_hash) values ($1, 'key ${n}', 'pfx${n}', 'hash')`,
  },
  {
    table: 'saas.tenants',
    key: 'id',
    touch: 'name',
    insert: () => `insert into saas.tenants (id, name) values ($1, 'another tenant')`,
  },
];

// The audit log is append-only for the app: it may not update or delete at all.
const APPEND_ONLY = new Set(['saas.audit_log']);
// The app may not delete a tenant (a bug must not cascade a whole tenant away).
const NO_DELETE = new Set(['saas.tenants']);

let owner: pg.Pool;
let app: pg.Pool;
let tenantA: string;
let tenantB: string;

async function ownerCount(table: string, key: string, tenant: string): Promise<number> {
  const r = await owner.query<{ n: number }>(`select count(*)::int as n from ${table} where ${key} = $1`, [tenant]);
  return r.rows[0]!.n;
}

beforeAll(async () => {
  owner = ownerPool();
  app = appPool();
  tenantA = await createTenant(owner, 'Tenant A');
  tenantB = await createTenant(owner, 'Tenant B');
  for (let i = 0; i < 6; i++) {
    const id = randomUUID();
    users.push(id);
    await owner.query('insert into saas.users (id, email) values ($1, $2)', [id, `user${i}-${id}@test.test`]);
  }
  // One row per tenant in every table, as the owner (variant 0 for A, 1 for B).
  for (const t of CASES) {
    if (t.table === 'saas.tenants') continue;
    await owner.query(t.insert(0), [tenantA]);
    await owner.query(t.insert(1), [tenantB]);
  }
});

describe.each(CASES)('$table', (t) => {
  it('rows of both tenants exist (owner view)', async () => {
    expect(await ownerCount(t.table, t.key, tenantA)).toBe(1);
    expect(await ownerCount(t.table, t.key, tenantB)).toBe(1);
  });

  it.each([
    ['A', () => tenantA, () => tenantB],
    ['B', () => tenantB, () => tenantA],
  ])('with tenant %s set: sees only its own rows and cannot touch the other tenant', async (_label, self, other) => {
    await rollback(app, async (c) => {
      await setTenant(c, self());
      const all = await c.query(`select ${t.key} as k from ${t.table}`);
      expect(all.rows.map((r) => r.k)).toEqual([self()]);
      const theirs = await c.query(`select 1 from ${t.table} where ${t.key} = $1`, [other()]);
      expect(theirs.rowCount).toBe(0);

      if (APPEND_ONLY.has(t.table)) {
        expect(await errorOf(c, `update ${t.table} set ${t.touch} = ${t.touch}`)).toMatch(/permission denied/);
        expect(await errorOf(c, `delete from ${t.table}`)).toMatch(/permission denied/);
      } else {
        const upd = await c.query(`update ${t.table} set ${t.touch} = ${t.touch} where ${t.key} = $1`, [other()]);
        expect(upd.rowCount).toBe(0);
        if (NO_DELETE.has(t.table)) {
          expect(await errorOf(c, `delete from ${t.table} where ${t.key} = $1`, [self()])).toMatch(/permission denied/);
        } else {
          const del = await c.query(`delete from ${t.table} where ${t.key} = $1`, [other()]);
          expect(del.rowCount).toBe(0);
        }
        // Its own rows it can update.
        const own = await c.query(`update ${t.table} set ${t.touch} = ${t.touch} where ${t.key} = $1`, [self()]);
        expect(own.rowCount).toBe(1);
      }

      // Writing a row for the other tenant is refused by the policy.
      const otherTenantForInsert = t.table === 'saas.tenants' ? randomUUID() : other();
      expect(await errorOf(c, t.insert(2), [otherTenantForInsert])).toMatch(/row-level security/);
      // Moving an own row to the other tenant is refused too.
      if (!APPEND_ONLY.has(t.table) && t.table !== 'saas.tenants') {
        expect(await errorOf(c, `update ${t.table} set tenant_id = $1`, [other()])).toMatch(/row-level security/);
      }
      if (t.table !== 'saas.tenants') {
        // And writing its own is allowed.
        expect(await errorOf(c, t.insert(3), [self()])).toBeNull();
      }
    });
    // Nothing of the other tenant changed.
    expect(await ownerCount(t.table, t.key, other())).toBe(1);
  });

  it('with no tenant set: sees nothing and cannot write', async () => {
    await rollback(app, async (c) => {
      const all = await c.query(`select 1 from ${t.table}`);
      expect(all.rowCount).toBe(0);
      if (!APPEND_ONLY.has(t.table)) {
        expect((await c.query(`update ${t.table} set ${t.touch} = ${t.touch}`)).rowCount).toBe(0);
      }
      if (!APPEND_ONLY.has(t.table) && !NO_DELETE.has(t.table)) {
        expect((await c.query(`delete from ${t.table}`)).rowCount).toBe(0);
      }
      expect(await errorOf(c, t.insert(4), [t.table === 'saas.tenants' ? randomUUID() : tenantA])).toMatch(/row-level security/);
      // An empty setting (what a finished set_config(..., true) leaves) behaves the same.
      await setTenant(c, null);
      expect((await c.query(`select 1 from ${t.table}`)).rowCount).toBe(0);
    });
    expect(await ownerCount(t.table, t.key, tenantA)).toBe(1);
    expect(await ownerCount(t.table, t.key, tenantB)).toBe(1);
  });
});

describe('ads.performance_benchmarks (shared reference data)', () => {
  it('every tenant reads it, the app cannot write it, the owner can', async () => {
    await owner.query(`insert into ads.performance_benchmarks (platform, industry_vertical, metric_name, benchmark_value)
                       values ('meta', 'isolation-test', 'ctr', 0.012) on conflict do nothing`);
    for (const tenant of [tenantA, tenantB, null]) {
      await rollback(app, async (c) => {
        await setTenant(c, tenant);
        const r = await c.query("select benchmark_value from ads.performance_benchmarks where industry_vertical = 'isolation-test'");
        expect(r.rows).toEqual([{ benchmark_value: '0.012' }]);
        expect(
          await errorOf(c, `insert into ads.performance_benchmarks (platform, industry_vertical, metric_name, benchmark_value)
                            values ('meta', 'x', 'ctr', 1)`),
        ).toMatch(/permission denied/);
        expect(await errorOf(c, `update ads.performance_benchmarks set benchmark_value = 0`)).toMatch(/permission denied/);
        expect(await errorOf(c, `delete from ads.performance_benchmarks`)).toMatch(/permission denied/);
      });
    }
  });
});

describe('saas.users', () => {
  it('a user row is visible to itself and to tenants it belongs to, not to others', async () => {
    const member = users[0]!; // member of A (memberships variant 0)
    await rollback(app, async (c) => {
      await setTenant(c, tenantA);
      const seen = await c.query('select id from saas.users where id = any($1)', [users]);
      expect(seen.rows.map((r) => r.id)).toEqual([member]);
      await setTenant(c, tenantB);
      const seenB = await c.query('select id from saas.users where id = any($1)', [users]);
      expect(seenB.rows.map((r) => r.id)).toEqual([users[1]]);
      await setTenant(c, null);
      expect((await c.query('select id from saas.users where id = any($1)', [users])).rowCount).toBe(0);
      await c.query("select set_config('saas.user_id', $1, true)", [users[5]]);
      expect((await c.query('select id from saas.users where id = any($1)', [users])).rows).toEqual([{ id: users[5] }]);
      // No account is updated directly, visible or not (db/functions/accounts.sql).
      expect(await errorOf(c, "update saas.users set name = 'x' where id = $1", [member])).toMatch(/permission denied/);
    });
    const r = await owner.query('select count(*)::int as n from saas.users where id = any($1)', [users]);
    expect(r.rows[0].n).toBe(6);
  });
});

describe('the app role creates nothing', () => {
  it('no temporary table or function, nothing in public, whatever PUBLIC had', async () => {
    await rollback(appPool(), async (c) => {
      const privileges = (
        await c.query(
          `select has_database_privilege(current_user, current_database(), 'TEMP') as temp,
                  has_database_privilege('public', current_database(), 'TEMP') as public_temp,
                  has_schema_privilege(current_user, 'public', 'CREATE') as create_public`,
        )
      ).rows[0];
      expect(privileges).toEqual({ temp: false, public_temp: false, create_public: false });
      expect(await errorOf(c, 'create temp table t (x int)')).toMatch(/permission denied/);
      expect(await errorOf(c, 'create function pg_temp.f() returns int language sql as $$ select 1 $$')).toMatch(/permission denied/);
      expect(await errorOf(c, 'create table public.t (x int)')).toMatch(/permission denied/);
    });
  });
});

describe('pooled connections', () => {
  it('a tenant set in one transaction is not visible to the next user of the same connection', async () => {
    const { Pool } = await import('pg');
    const single = new Pool({ connectionString: (app.options as { connectionString: string }).connectionString, max: 1 });
    try {
      const c1 = await single.connect();
      const pid1 = (await c1.query('select pg_backend_pid() as p')).rows[0].p;
      await c1.query('begin');
      await setTenant(c1, tenantA);
      expect((await c1.query('select 1 from ads.metrics_daily')).rowCount).toBe(1);
      await c1.query('commit');
      c1.release();

      const c2 = await single.connect();
      const pid2 = (await c2.query('select pg_backend_pid() as p')).rows[0].p;
      expect(pid2).toBe(pid1); // the very same server session
      const setting = await c2.query("select current_setting('saas.tenant_id', true) as s, saas.current_tenant_id() as t");
      expect(setting.rows[0]).toEqual({ s: '', t: null });
      expect((await c2.query('select 1 from ads.metrics_daily')).rowCount).toBe(0);
      c2.release();
    } finally {
      await single.end();
    }
  });

  it('a malformed tenant setting is an error, not an empty result', async () => {
    await rollback(app, async (c) => {
      await c.query("select set_config('saas.tenant_id', 'not-a-uuid', true)");
      expect(await errorOf(c, 'select 1 from ads.metrics_daily')).toMatch(/invalid input syntax for type uuid/);
    });
  });
});
