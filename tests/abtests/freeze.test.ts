// The frozen design of an A/B test (db/migrations/013_ab_tests.sql), as the app role under row-level
// security, each test rolled back: once started, the planned split, the MDE, the allocation unit and
// the variants' platform ids cannot change (SQLSTATE 55000) and stay as they were; deleting the test
// takes everything with it; a draft can still change; another tenant's rows are out of sight and reach.
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { appPool, createTenant, inTenant, ownerPool, rollback, setTenant } from '../helpers/db';

const owner = ownerPool();
const app = appPool();

let tenant: string;
let other: string;
beforeAll(async () => {
  tenant = await createTenant(owner, 'A/B freeze');
  other = await createTenant(owner, 'A/B freeze, other tenant');
});

/** SQLSTATE of a failing statement (inside a savepoint), or null when it succeeds. */
async function codeOf(c: pg.ClientBase, text: string, values: unknown[] = []): Promise<string | null> {
  await c.query('savepoint s');
  try {
    await c.query(text, values);
    await c.query('release savepoint s');
    return null;
  } catch (e) {
    await c.query('rollback to savepoint s');
    return (e as { code?: string }).code ?? 'unknown';
  }
}

/** A test with two ad sets on each arm and a design, as a draft; started unless `draft`. */
async function makeTest(c: pg.ClientBase, tenantId: string, opts: { draft?: boolean } = {}): Promise<string> {
  const id = (
    await c.query(`insert into ads.ab_tests (tenant_id, test_name, platform, status, start_date) values ($1, 'Frozen', 'meta', 'draft', current_date) returning id`, [tenantId])
  ).rows[0].id as string;
  await c.query(
    `insert into ads_engine.ab_test_variants (tenant_id, test_id, arm, level, platform_id)
     values ($1, $2, 'A', 'adset', 'a1'), ($1, $2, 'A', 'adset', 'a2'), ($1, $2, 'B', 'adset', 'b1'), ($1, $2, 'B', 'adset', 'b2')`,
    [tenantId, id],
  );
  await c.query(`insert into ads_engine.ab_test_designs (tenant_id, test_id, planned_share_b, mde, allocation_unit) values ($1, $2, 0.5, 0.1, 'spend')`, [tenantId, id]);
  if (!opts.draft) {
    await c.query(`update ads_engine.ab_test_designs set frozen_at = now() where test_id = $1`, [id]);
    await c.query(`update ads.ab_tests set status = 'running' where id = $1`, [id]);
  }
  return id;
}

const design = async (c: pg.ClientBase, id: string) =>
  (await c.query(`select planned_share_b::float8 as share, mde::float8 as mde, allocation_unit as unit, frozen_at is not null as frozen from ads_engine.ab_test_designs where test_id = $1`, [id])).rows[0];
const variants = async (c: pg.ClientBase, id: string) =>
  (await c.query(`select arm || ':' || platform_id as v from ads_engine.ab_test_variants where test_id = $1 order by 1`, [id])).rows.map((r) => r.v as string);

describe('a started test', () => {
  it('refuses changes to its split, MDE, allocation unit and freeze time, and keeps them', async () => {
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      const id = await makeTest(c, tenant);
      expect(await codeOf(c, `update ads_engine.ab_test_designs set mde = 0.05 where test_id = $1`, [id])).toBe('55000');
      expect(await codeOf(c, `update ads_engine.ab_test_designs set planned_share_b = 0.7 where test_id = $1`, [id])).toBe('55000');
      expect(await codeOf(c, `update ads_engine.ab_test_designs set allocation_unit = 'impressions' where test_id = $1`, [id])).toBe('55000');
      expect(await codeOf(c, `update ads_engine.ab_test_designs set frozen_at = null where test_id = $1`, [id])).toBe('55000');
      expect(await codeOf(c, `delete from ads_engine.ab_test_designs where test_id = $1`, [id])).toBe('55000');
      expect(await design(c, id)).toEqual({ share: 0.5, mde: 0.1, unit: 'spend', frozen: true });
      // setting a figure to what it already is changes nothing and goes through
      expect(await codeOf(c, `update ads_engine.ab_test_designs set mde = 0.1 where test_id = $1`, [id])).toBeNull();
    });
  });

  it("refuses adding, moving or removing its variants' platform ids, running or paused", async () => {
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      const id = await makeTest(c, tenant);
      const all = ['A:a1', 'A:a2', 'B:b1', 'B:b2'];
      expect(await codeOf(c, `insert into ads_engine.ab_test_variants (tenant_id, test_id, arm, level, platform_id) values ($1, $2, 'B', 'adset', 'b3')`, [tenant, id])).toBe('55000');
      expect(await codeOf(c, `delete from ads_engine.ab_test_variants where test_id = $1 and platform_id = 'a2'`, [id])).toBe('55000');
      expect(await codeOf(c, `update ads_engine.ab_test_variants set arm = 'B' where test_id = $1 and platform_id = 'a1'`, [id])).toBe('55000');
      expect(await codeOf(c, `update ads_engine.ab_test_variants set platform_id = 'a9' where test_id = $1 and platform_id = 'a1'`, [id])).toBe('55000');
      expect(await variants(c, id)).toEqual(all);
      await c.query(`update ads.ab_tests set status = 'paused' where id = $1`, [id]);
      expect(await codeOf(c, `insert into ads_engine.ab_test_variants (tenant_id, test_id, arm, level, platform_id) values ($1, $2, 'A', 'adset', 'a3')`, [tenant, id])).toBe('55000');
      expect(await codeOf(c, `delete from ads_engine.ab_test_variants where test_id = $1`, [id])).toBe('55000');
      expect(await variants(c, id)).toEqual(all);
    });
  });

  it('can be deleted: its design, variants, state and looks go with it', async () => {
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      const id = await makeTest(c, tenant);
      await c.query(`insert into ads_engine.ab_test_state (tenant_id, test_id, as_of, decision, message) values ($1, $2, current_date - 1, 'no_winner_yet', 'No winner yet.')`, [tenant, id]);
      await c.query(
        `insert into ads_engine.ab_test_looks (tenant_id, test_id, look_day, performance_a, performance_b, decision) values ($1, $2, current_date - 1, '{}', '{}', 'not_computable')`,
        [tenant, id],
      );
      expect(await codeOf(c, `delete from ads.ab_tests where id = $1`, [id])).toBeNull();
      const left = await c.query(
        `select (select count(*)::int from ads_engine.ab_test_designs where test_id = $1) as designs, (select count(*)::int from ads_engine.ab_test_variants where test_id = $1) as variants,
                (select count(*)::int from ads_engine.ab_test_state where test_id = $1) as states, (select count(*)::int from ads_engine.ab_test_looks where test_id = $1) as looks`,
        [id],
      );
      expect(left.rows[0]).toEqual({ designs: 0, variants: 0, states: 0, looks: 0 });
    });
  });
});

describe('a draft', () => {
  it('can change its design and its variants until it starts', async () => {
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      const id = await makeTest(c, tenant, { draft: true });
      await c.query(`update ads_engine.ab_test_designs set mde = 0.05, planned_share_b = 0.3, allocation_unit = 'impressions' where test_id = $1`, [id]);
      expect(await design(c, id)).toEqual({ share: 0.3, mde: 0.05, unit: 'impressions', frozen: false });
      await c.query(`insert into ads_engine.ab_test_variants (tenant_id, test_id, arm, level, platform_id) values ($1, $2, 'B', 'adset', 'b3')`, [tenant, id]);
      await c.query(`delete from ads_engine.ab_test_variants where test_id = $1 and platform_id = 'a2'`, [id]);
      await c.query(`update ads_engine.ab_test_variants set platform_id = 'a7' where test_id = $1 and platform_id = 'a1'`, [id]);
      expect(await variants(c, id)).toEqual(['A:a7', 'B:b1', 'B:b2', 'B:b3']);
      // an unfrozen design can be removed (the test is then read with the defaults)
      expect(await codeOf(c, `delete from ads_engine.ab_test_designs where test_id = $1`, [id])).toBeNull();
      // once its design is frozen, its variants are fixed even before the status moves
      await c.query(`insert into ads_engine.ab_test_designs (tenant_id, test_id, frozen_at) values ($1, $2, now())`, [tenant, id]);
      expect(await codeOf(c, `delete from ads_engine.ab_test_variants where test_id = $1 and platform_id = 'b3'`, [id])).toBe('55000');
    });
  });
});

describe("another tenant's test", () => {
  it('cannot be seen or touched; the owner sees it is there and unchanged', async () => {
    const theirs = await inTenant(app, other, (c) => makeTest(c, other));
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      const seen = await c.query(
        `select (select count(*)::int from ads.ab_tests where id = $1) as tests, (select count(*)::int from ads_engine.ab_test_designs where test_id = $1) as designs,
                (select count(*)::int from ads_engine.ab_test_variants where test_id = $1) as variants`,
        [theirs],
      );
      expect(seen.rows[0]).toEqual({ tests: 0, designs: 0, variants: 0 });
      expect((await c.query(`update ads_engine.ab_test_designs set frozen_at = null, mde = 0.5 where test_id = $1`, [theirs])).rowCount).toBe(0);
      expect((await c.query(`delete from ads_engine.ab_test_variants where test_id = $1`, [theirs])).rowCount).toBe(0);
      expect((await c.query(`delete from ads.ab_tests where id = $1`, [theirs])).rowCount).toBe(0);
      // writing rows in its name is refused by the policy
      expect(await codeOf(c, `insert into ads_engine.ab_test_variants (tenant_id, test_id, arm, level, platform_id) values ($1, $2, 'A', 'adset', 'x1')`, [other, theirs])).toBe('42501');
      expect(await codeOf(c, `insert into ads_engine.ab_test_state (tenant_id, test_id, as_of, decision, message) values ($1, $2, current_date, 'winner_b', 'B wins.')`, [other, theirs])).toBe('42501');
    });
    const there = await inTenant(owner, other, async (c) => ({
      design: await design(c, theirs),
      variants: await variants(c, theirs),
      states: (await c.query(`select count(*)::int as n from ads_engine.ab_test_state where test_id = $1`, [theirs])).rows[0].n,
    }));
    expect(there).toEqual({ design: { share: 0.5, mde: 0.1, unit: 'spend', frozen: true }, variants: ['A:a1', 'A:a2', 'B:b1', 'B:b2'], states: 0 });
  });
});
