// What a hostile review of the engine's second pass broke, kept broken-proof:
// extreme counts, impossible days, a load that commits after the day was
// examined, and outcomes measured before their post period is in.
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { errorOf, rollback, setTenant, tenantPair } from '../helpers/db';
import { configure, load, runLoop, series } from './findings-data';
import { AS_OF, addDays } from './fixtures';

let app: pg.Pool;
let tenant: string;
beforeAll(async () => void ({ app, tenant } = await tenantPair('Review attacks')));

const D = AS_OF;

describe('count_p_value on extreme counts', () => {
  it('a count far in the upper tail is a tiny p-value, not a float underflow; counts beyond 2^31 and NaN do not fail', async () => {
    await rollback(app, async (c) => {
      const p = async (k: number | string, mu: number, phi: number, dir: string) =>
        (await c.query('select ads_engine.count_p_value($1::numeric, $2, $3, $4) as p', [k, mu, phi, dir])).rows[0].p as number | null;
      // P(X >= 400 | NB mean 5, phi 0.02) is far below 1e-100: the sum stops once its terms are negligible.
      expect(await p(400, 5, 0.02, 'upper')).toBeLessThan(1e-12);
      expect(await p(400, 5, 0.02, 'lower')).toBeCloseTo(1, 12);
      expect(await p(1999, 499, 0, 'upper')).toBeLessThan(1e-12);
      expect(await p(935, 50, 0.01, 'upper')).toBeLessThan(1e-12);
      // 3e9 clicks on 1e9 expected: the normal approximation, decided before any cast to integer.
      expect(await p(3e9, 1e9, 0.01, 'upper')).toBeLessThan(1e-12);
      expect(await p('NaN', 5, 0.02, 'upper')).toBeNull();
    });
  });

  it('a day with 400 conversions where 5 are usual: the loop runs and raises the spike', async () => {
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      const rows = series({ seed: 'rv1', id: 'c1', from: addDays(D, -89), to: addDays(D, -1), spend: 500, cpa: 100 });
      rows.push({ ...series({ seed: 'rv1b', id: 'c1', from: D, to: D, spend: 500, cpa: 100 })[0]!, conversions: 400, value: 40000 });
      rows.push(...series({ seed: 'rv1', id: 'c2', from: addDays(D, -89), to: D, spend: 500, cpa: 100 }));
      await load(c, tenant, rows);
      await configure(c, tenant, 'meta', { max_cpa: 150 });
      await runLoop(c, tenant, D);
      const a = await c.query(`select metric_name, anomaly_type from ads.anomalies where entity_id = 'c1' and day = $1`, [D]);
      // 400 conversions for 500 of spend: CPA 1.25 against ~100, a CPA drop (good news, but far beyond noise)
      expect(a.rows).toContainEqual({ metric_name: 'cpa', anomaly_type: 'drop' });
    });
  });
});

describe('impossible days', () => {
  it('the loop and the engine functions refuse an infinite, ancient or future as_of by name', async () => {
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      for (const d of ['infinity', '-infinity', '1900-01-01', '3000-01-01']) {
        expect(await errorOf(c, `select ads_engine.run_daily_loop($1, $2::date, 'cli')`, [tenant, d])).toMatch(/as_of must be a day between 2000-01-01 and tomorrow/);
      }
      expect(await errorOf(c, `select ads_engine.measure_outcomes($1, '2100-01-01')`, [tenant])).toMatch(/as_of must be a day between/);
      expect(await errorOf(c, `select ads_engine.generate_recommendations($1, '4713-01-05 BC')`, [tenant])).toMatch(/as_of must be a day between/);
      expect((await c.query('select count(*)::int as n from ads_engine.optimizer_runs where tenant_id = $1', [tenant])).rows[0].n).toBe(0);
    });
  });
});

describe('the ledger and a late commit', () => {
  it('rows that arrive for an examined day with an older timestamp are examined again (the row count grew)', async () => {
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      await load(c, tenant, series({ seed: 'rv2', id: 'cB', from: addDays(D, -40), to: D, spend: 300, cpa: 30 }));
      await c.query(`select ads_engine.detect_anomalies($1, $2::date)`, [tenant, D]);
      const before = (await c.query(`select count(*)::int as n from ads_engine.days_to_examine($1, $2::date, 7)`, [tenant, D])).rows[0].n;
      expect(before).toBe(0);
      // a second campaign's day, stamped before the examination (its transaction started first)
      await c.query(
        `insert into ads.metrics_daily (tenant_id, platform, level, platform_id, day, spend, impressions, clicks, conversions, updated_at)
         values ($1, 'meta', 'campaign', 'cA', $2, 300, 30000, 300, 10, '2000-01-01')`, [tenant, D]);
      const stamp = (await c.query(`select updated_at < (select data_loaded_at from ads_engine.examined_days where day = $1) as older
                                    from ads.metrics_daily where platform_id = 'cA'`, [D])).rows[0].older;
      expect(stamp, 'precondition: the late row carries an older timestamp').toBe(true);
      const again = (await c.query(`select day::text, rows_present from ads_engine.days_to_examine($1, $2::date, 7)`, [tenant, D])).rows;
      expect(again).toEqual([{ day: D, rows_present: 2 }]);
    });
  });
});

describe('outcomes wait for their post period', () => {
  it('an applied recommendation is not measured while the post period has no data', async () => {
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      await load(c, tenant, series({ seed: 'rv3', id: 'cP', from: addDays(D, -30), to: D, spend: 300, cpa: 30 }));
      const id = (await c.query(
        `insert into ads.optimization_recommendations (tenant_id, platform, level, entity_id, campaign_id, recommendation_type, description,
                                                       current_value, recommended_value, evidence)
         values ($1, 'meta', 'campaign', 'cP', 'cP', 'pause', 'test', 300, 0, jsonb_build_object('window', jsonb_build_object('to', $2::date)))
         returning id`, [tenant, D])).rows[0].id as string;
      await c.query(`update ads.optimization_recommendations set status = 'applied', applied_at = now() where id = $1`, [id]);
      // applied today (far after D): its post period has no rows, whatever day it is measured on
      expect((await c.query(`select ads_engine.measure_outcomes($1, current_date) as n`, [tenant])).rows[0].n).toBe(0);
    });
  });
});
