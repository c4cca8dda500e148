// ads.compute_baselines: a small fixture whose baselines are worked out by
// hand below (volumes per day with delivery, rates as ratios of sums, the
// day-to-day spread, the confidence formula), for fixed and guide dates.
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { errorOf, rollback, setTenant, tenantPair } from '../helpers/db';
import { AS_OF, addDays, insertMetrics, stddevSamp, type MetricRow } from './fixtures';

let owner: pg.Pool;
let app: pg.Pool;
let tenant: string;
let other: string;
beforeAll(async () => void ({ owner, app, tenant, other } = await tenantPair('Baselines')));

/**
 * Window 7 ending on D: A on D-2, D-1, D; B on D; C a zero row on D-3 (no
 * delivery); B on D-8 falls in window 14 only. Rows that must not count:
 * google, ad-set level, and (written by the owner) another tenant.
 */
function fixture(d: string): MetricRow[] {
  return [
    { id: 'A', day: addDays(d, -2), spend: 100, impressions: 10000, clicks: 200, conversions: 5, value: 400 },
    { id: 'A', day: addDays(d, -1), spend: 50, impressions: 5000, clicks: 100, conversions: 0, value: 0 },
    { id: 'A', day: d, spend: 150, impressions: 15000, clicks: 300, conversions: 10, value: 600 },
    { id: 'B', day: d, spend: 50, impressions: 10000, clicks: 50, conversions: 5, value: 100 },
    { id: 'C', day: addDays(d, -3) },
    { id: 'B', day: addDays(d, -8), spend: 1000, impressions: 100000, clicks: 1000, conversions: 50, value: 5000 },
    { id: 'G', day: d, platform: 'google', spend: 999, impressions: 1, clicks: 1, conversions: 1, value: 1 },
    { id: 'A-set', day: d, level: 'adset', spend: 777, impressions: 1, clicks: 1, conversions: 1, value: 1 },
    { id: 'A', day: addDays(d, 1), spend: 5000, impressions: 1, clicks: 1, conversions: 1, value: 1 }, // today: not complete
  ];
}

async function withFixture<T>(d: string, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  return rollback(app, async (c) => {
    await setTenant(c, tenant);
    await insertMetrics(c, tenant, fixture(d));
    await setTenant(c, other);
    await insertMetrics(c, other, [{ id: 'A', day: d, spend: 12345, impressions: 1, clicks: 1, conversions: 1, value: 1 }]);
    await setTenant(c, tenant);
    return fn(c);
  });
}

const baselineRow = async (c: pg.ClientBase, window: number) =>
  (
    await c.query(
      `select days_with_data, entity_count, entity_days, period_start::text, period_end::text,
              spend::float8, impressions::float8, clicks::float8, conversions::float8, conversion_value::float8,
              roas::float8, cpa::float8, cpc::float8, cpm::float8, ctr::float8, conversion_rate::float8,
              spend_stddev::float8, roas_stddev::float8, cpa_stddev::float8, conversions_stddev::float8,
              avg_entity_spend::float8, avg_entity_conversions::float8, confidence_score::float8
       from ads.baselines where platform = 'meta' and level = 'campaign' and window_days = $1`,
      [window],
    )
  ).rows[0];

describe('ads.compute_baselines', () => {
  it('window 7: volumes per day with data, rates as ratios of sums, spread, entities and confidence (hand-computed)', async () => {
    await withFixture(AS_OF, async (c) => {
      const r = await c.query(`select ads_engine.compute_baselines($1, 'meta', 'campaign', 7, $2::date) as n`, [tenant, AS_OF]);
      expect(r.rows[0].n).toBe(1);
      const b = await baselineRow(c, 7);
      // Daily totals: D-2 (100, 10000, 200, 5, 400), D-1 (50, 5000, 100, 0, 0), D (200, 25000, 350, 15, 700).
      // D-3 has only a zero row: 3 days with data. Sums 350 / 40000 / 650 / 20 / 1100.
      expect(b).toMatchObject({ days_with_data: 3, entity_count: 2, entity_days: 4, period_start: '2025-03-25', period_end: AS_OF });
      expect(b.spend).toBeCloseTo(350 / 3, 4);
      expect(b.impressions).toBeCloseTo(40000 / 3, 4);
      expect(b.clicks).toBeCloseTo(650 / 3, 4);
      expect(b.conversions).toBeCloseTo(20 / 3, 4);
      expect(b.conversion_value).toBeCloseTo(1100 / 3, 4);
      // ROAS = 1100 / 350 = 3.142857, not the mean of daily ROAS (4 + 0 + 3.5) / 3 = 2.5.
      expect(b.roas).toBeCloseTo(3.142857, 6);
      expect(b.cpa).toBeCloseTo(17.5, 6);
      expect(b.cpc).toBeCloseTo(350 / 650, 6);
      expect(b.cpm).toBeCloseTo(8.75, 6);
      expect(b.ctr).toBeCloseTo(0.01625, 8);
      expect(b.conversion_rate).toBeCloseTo(20 / 650, 8);
      expect(b.spend_stddev).toBeCloseTo(stddevSamp([100, 50, 200]), 3); // 76.3763
      expect(b.roas_stddev).toBeCloseTo(stddevSamp([4, 0, 3.5]), 5); // 2.179449
      expect(b.cpa_stddev).toBeCloseTo(stddevSamp([20, 200 / 15]), 5); // the zero-conversion day has no CPA
      expect(b.conversions_stddev).toBeCloseTo(stddevSamp([5, 0, 15]), 3);
      // Per entity-day: A, A, A + B = 4 entity-days.
      expect(b.avg_entity_spend).toBeCloseTo(87.5, 4);
      expect(b.avg_entity_conversions).toBeCloseTo(5, 4);
      // least(1, 3/7) * (1 - 1/sqrt(1 + 20)) = 0.428571 * 0.781782 = 0.335
      expect(b.confidence_score).toBe(0.335);
    });
  });

  it('windows 14 and 1 take their own days; confidence grows with days and conversions', async () => {
    await withFixture(AS_OF, async (c) => {
      await c.query(`select ads_engine.compute_baselines($1, 'meta', 'campaign', 14, $2::date)`, [tenant, AS_OF]);
      await c.query(`select ads_engine.compute_baselines($1, 'meta', 'campaign', 1, $2::date)`, [tenant, AS_OF]);
      const b14 = await baselineRow(c, 14);
      expect(b14.days_with_data).toBe(4);
      expect(b14.spend).toBeCloseTo(1350 / 4, 4);
      expect(b14.roas).toBeCloseTo(6100 / 1350, 6);
      // least(1, 4/7) * (1 - 1/sqrt(71)) = 0.571429 * 0.881322 = 0.504
      expect(b14.confidence_score).toBe(0.504);
      const b1 = await baselineRow(c, 1);
      expect(b1).toMatchObject({ days_with_data: 1, entity_count: 2, period_start: AS_OF, period_end: AS_OF });
      expect(b1.roas).toBeCloseTo(3.5, 6);
      // A single day: no spread.
      expect(b1.spend_stddev).toBeNull();
      // 1/7 * (1 - 1/sqrt(16)) = 0.107
      expect(b1.confidence_score).toBe(0.107);
      expect(b14.confidence_score).toBeGreaterThan(0.335);
    });
  });

  it("the guide signature works on the tenant's last complete days and returns the guide text", async () => {
    // The tenant's yesterday in its time zone (UTC here), read by the superuser.
    const yesterday = (await owner.query('select ads_engine.tenant_yesterday($1)::text as d', [tenant])).rows[0].d as string;
    await withFixture(yesterday, async (c) => {
      const r = await c.query(`SELECT ads.compute_baselines($1, 'meta', 'campaign', 7) as msg`, [tenant]);
      expect(r.rows[0].msg).toBe('Baselines computed: 1 records updated');
      const b = await baselineRow(c, 7);
      expect(b.period_end).toBe(yesterday);
      expect(b.days_with_data).toBe(3);
      expect(b.roas).toBeCloseTo(3.142857, 6); // today's row (D + 1) is left out
    });
  });

  it('named arguments use the guide parameter names (no clash with column names)', async () => {
    await withFixture(AS_OF, async (c) => {
      const r = await c.query(
        `select ads.compute_baselines(tenant_id => $1, platform => 'meta', level => 'campaign', window_days => 30) as msg`,
        [tenant],
      );
      expect(r.rows[0].msg).toBe('Baselines computed: 1 records updated');
      const again = await c.query(`select ads.compute_baselines(tenant_id => $1, platform => 'meta', level => 'campaign', window_days => 30) as msg`, [tenant]);
      expect(again.rows[0].msg).toBe('Baselines computed: 1 records updated');
      expect((await c.query('select count(*)::int as n from ads.baselines where window_days = 30')).rows[0].n).toBe(1);
    });
  });

  it('upserts: a recomputation after new data replaces the row', async () => {
    await withFixture(AS_OF, async (c) => {
      await c.query(`select ads_engine.compute_baselines($1, 'meta', 'campaign', 7, $2::date)`, [tenant, AS_OF]);
      await insertMetrics(c, tenant, [{ id: 'C', day: addDays(AS_OF, -4), spend: 50, impressions: 100, clicks: 10, conversions: 1, value: 150 }]);
      await c.query(`select ads_engine.compute_baselines($1, 'meta', 'campaign', 7, $2::date)`, [tenant, AS_OF]);
      const b = await baselineRow(c, 7);
      expect(b.days_with_data).toBe(4);
      expect(b.roas).toBeCloseTo(1250 / 400, 6);
      expect(b.spend).toBeCloseTo(100, 4);
    });
  });

  it('no data in the window: one row that says so (0 days, no values, confidence 0)', async () => {
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      const r = await c.query(`select ads.compute_baselines($1, 'tiktok', 'ad', 90) as msg`, [tenant]);
      expect(r.rows[0].msg).toBe('Baselines computed: 1 records updated');
      const b = (await c.query("select days_with_data, spend, roas, cpa, confidence_score::float8 from ads.baselines where platform = 'tiktok'")).rows[0];
      expect(b).toEqual({ days_with_data: 0, spend: null, roas: null, cpa: null, confidence_score: 0 });
    });
  });

  it('every window of every platform and level in one call (ads_engine.compute_baselines(tenant, as_of))', async () => {
    await withFixture(AS_OF, async (c) => {
      const r = await c.query('select ads_engine.compute_baselines($1, $2::date) as n', [tenant, AS_OF]);
      // (meta, campaign), (google, campaign), (meta, adset) x windows 1, 7, 14, 30, 90
      expect(r.rows[0].n).toBe(15);
      const rows = await c.query('select platform, level, window_days from ads.baselines order by 1, 2, 3');
      expect(rows.rowCount).toBe(15);
      // The same numbers as the single call.
      const b = await baselineRow(c, 7);
      expect(b.roas).toBeCloseTo(3.142857, 6);
      expect(b.confidence_score).toBe(0.335);
    });
  });

  it('as the owner with no tenant set (the guide in psql): sets the tenant for the call only', async () => {
    // Owner data is committed by the superuser helper; the owner role itself is subject to forced RLS.
    await rollback(owner, async (c) => {
      await setTenant(c, tenant);
      await insertMetrics(c, tenant, fixture(AS_OF));
      await setTenant(c, null);
      await c.query('set local role aegis_owner');
      const r = await c.query(`select ads_engine.compute_baselines($1, 'meta', 'campaign', 7, $2::date) as n`, [tenant, AS_OF]);
      expect(r.rows[0].n).toBe(1);
      expect((await c.query("select current_setting('saas.tenant_id', true) as s")).rows[0].s).toBe('');
      // Without a tenant the owner sees nothing (forced RLS); with it, the row computed above.
      expect((await c.query('select 1 from ads.baselines')).rowCount).toBe(0);
      await setTenant(c, tenant);
      expect((await baselineRow(c, 7)).roas).toBeCloseTo(3.142857, 6);
    });
  });

  it("the guide's daily maintenance form: one statement over several tenants, as the superuser in psql", async () => {
    await rollback(owner, async (c) => {
      await setTenant(c, tenant);
      await insertMetrics(c, tenant, fixture(AS_OF));
      await setTenant(c, other);
      await insertMetrics(c, other, [{ id: 'A', day: AS_OF, spend: 10, impressions: 1000, clicks: 10, conversions: 1, value: 40 }]);
      await setTenant(c, null);
      // Each call sets the tenant for itself and clears it again, so the next row's tenant is not refused.
      const r = await c.query(
        `select t.tenant_id, ads_engine.compute_baselines(t.tenant_id, 'meta', 'campaign', 7, $2::date) as n
         from (select distinct tenant_id from ads.metrics_daily where tenant_id = any($1)) t order by 1`,
        [[tenant, other], AS_OF],
      );
      expect(r.rows.map((x) => x.n)).toEqual([1, 1]);
      const b = await c.query(`select tenant_id, roas::float8 from ads.baselines where tenant_id = any($1) and window_days = 7`, [[tenant, other]]);
      expect(Object.fromEntries(b.rows.map((x) => [x.tenant_id, x.roas]))).toEqual({ [tenant]: 3.142857, [other]: 4 });
    });
  });

  it('conversions reported on a day without delivery (late attribution) count in the sums, not as a day (hand-computed)', async () => {
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      await insertMetrics(c, tenant, [
        { id: 'A', day: AS_OF, spend: 100, impressions: 10000, clicks: 100, conversions: 5, value: 400 },
        // No spend, no impressions on D-1, but 3 conversions worth 150 attributed to it afterwards.
        { id: 'A', day: addDays(AS_OF, -1), conversions: 3, value: 150 },
      ]);
      await c.query(`select ads_engine.compute_baselines($1, 'meta', 'campaign', 7, $2::date)`, [tenant, AS_OF]);
      const b = await baselineRow(c, 7);
      // One day with delivery; the window's results are 8 conversions worth 550 for 100 of spend
      // (dropping D-1 would give 5 conversions, ROAS 4, CPA 20).
      expect(b).toMatchObject({ days_with_data: 1, entity_days: 1, spend: 100, conversions: 8, conversion_value: 550 });
      expect(b.roas).toBeCloseTo(5.5, 6);
      expect(b.cpa).toBeCloseTo(12.5, 6);
      expect(b.conversion_rate).toBeCloseTo(0.08, 8);
      expect(b.avg_entity_conversions).toBeCloseTo(8, 4);
      // A single day with delivery: no spread; 1/7 x (1 - 1/sqrt(9)) = 0.095.
      expect(b.spend_stddev).toBeNull();
      expect(b.confidence_score).toBe(0.095);
    });
  });

  it('huge values stay exact and zero-spend days do not divide by zero', async () => {
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      await insertMetrics(c, tenant, [
        { id: 'H', day: AS_OF, spend: 999999999999.99, impressions: 9e15, clicks: 9e14, conversions: 999999999999.99, value: 99999999999999.99 },
        { id: 'Z', day: addDays(AS_OF, -1), spend: 0, impressions: 1000, clicks: 10 },
      ]);
      await c.query(`select ads_engine.compute_baselines($1, 'meta', 'campaign', 7, $2::date)`, [tenant, AS_OF]);
      const b = (await c.query("select days_with_data, roas, cpa, spend from ads.baselines where window_days = 7")).rows[0];
      expect(b.days_with_data).toBe(2);
      expect(b.spend).toBe('499999999999.9950');
      expect(Number(b.roas)).toBeCloseTo(99999999999999.99 / 999999999999.99, 4);
      expect(Number(b.cpa)).toBeCloseTo(1, 6);
    });
  });

  it('refuses bad arguments with clear errors', async () => {
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      expect(await errorOf(c, `select ads.compute_baselines(null, 'meta', 'campaign', 7)`)).toBe('tenant_id must not be NULL');
      expect(await errorOf(c, `select ads.compute_baselines($1, 'meta', 'campaign', 7)`, [other])).toMatch(
        /does not match the current tenant setting/,
      );
      expect(await errorOf(c, `select ads.compute_baselines($1, 'myspace', 'campaign', 7)`, [tenant])).toBe('unknown platform "myspace"');
      expect(await errorOf(c, `select ads.compute_baselines($1, 'Meta', 'campaign', 7)`, [tenant])).toBe('unknown platform "Meta"');
      expect(await errorOf(c, `select ads.compute_baselines($1, null, 'campaign', 7)`, [tenant])).toBe('platform must not be NULL');
      expect(await errorOf(c, `select ads.compute_baselines($1, 'meta', 'keyword', 7)`, [tenant])).toBe('unknown level "keyword"');
      expect(await errorOf(c, `select ads.compute_baselines($1, 'meta', null, 7)`, [tenant])).toBe('level must not be NULL');
      for (const w of [0, 3, 8, 365, -7]) {
        expect(await errorOf(c, `select ads.compute_baselines($1, 'meta', 'campaign', $2)`, [tenant, w])).toBe(
          `window_days must be one of 1, 7, 14, 30, 90 (got ${w})`,
        );
      }
      expect(await errorOf(c, `select ads.compute_baselines($1, 'meta', 'campaign', null)`, [tenant])).toBe(
        'window_days must be one of 1, 7, 14, 30, 90 (got NULL)',
      );
      expect(await errorOf(c, `select ads_engine.compute_baselines($1, 'meta', 'campaign', 7, null)`, [tenant])).toBe(
        'as_of (the last complete day) must not be NULL',
      );
    });
    await rollback(app, async (c) => {
      // The app role with no tenant set is refused (see tenancy.test.ts); a tenant that does not exist is named.
      expect(await errorOf(c, `select ads.compute_baselines('00000000-0000-0000-0000-000000000000', 'meta', 'campaign', 7)`)).toBe(
        'saas.tenant_id is not set: call inside a tenant transaction',
      );
      await setTenant(c, '00000000-0000-0000-0000-000000000000');
      expect(await errorOf(c, `select ads.compute_baselines('00000000-0000-0000-0000-000000000000', 'meta', 'campaign', 7)`)).toBe(
        'tenant 00000000-0000-0000-0000-000000000000 does not exist',
      );
    });
  });
});
