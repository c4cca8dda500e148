// The small ads_engine helpers that give one home to a rule used in several
// places: the six anomaly metrics of a day (history and judged day alike),
// and the "as of" day when none is given (the tenant's yesterday).
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { errorOf, rollback, setTenant, tenantPair } from '../helpers/db';
import { AS_OF } from './fixtures';

let app: pg.Pool;
let tenant: string;
let other: string;
beforeAll(async () => void ({ app, tenant, other } = await tenantPair('Helpers')));

const metrics = async (c: pg.ClientBase, args: (number | null)[]) =>
  Object.fromEntries(
    (await c.query('select metric, value::float8 as value from ads_engine.anomaly_metrics($1, $2, $3, $4, $5)', args)).rows.map((r) => [r.metric, r.value]),
  );

describe('ads_engine.anomaly_metrics', () => {
  it('a day of spend 120, 4000 impressions, 60 clicks, 4 conversions, value 300: the six metrics, hand-computed', async () => {
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      const r = await c.query('select metric from ads_engine.anomaly_metrics(120, 4000, 60, 4, 300)');
      expect(r.rows.map((x) => x.metric)).toEqual(['spend', 'conversions', 'cpa', 'roas', 'ctr', 'cpc']);
      // cpa 120 / 4, roas 300 / 120, ctr 60 / 4000, cpc 120 / 60
      expect(await metrics(c, [120, 4000, 60, 4, 300])).toEqual({ spend: 120, conversions: 4, cpa: 30, roas: 2.5, ctr: 0.015, cpc: 2 });
    });
  });

  it('no row for a metric whose divisor is zero, or whose input is NULL', async () => {
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      expect(await metrics(c, [0, 0, 0, 0, 0])).toEqual({ spend: 0, conversions: 0 });
      // spend but no conversions and no clicks: no cpa, no cpc; roas 0
      expect(await metrics(c, [50, 1000, 0, 0, 0])).toEqual({ spend: 50, conversions: 0, roas: 0, ctr: 0 });
      expect(await metrics(c, [null, 1000, 10, 2, 40])).toEqual({ conversions: 2, ctr: 0.01 });
    });
  });
});

describe('ads_engine.tenant_as_of', () => {
  it("the day given, else the tenant's yesterday (ads_engine.tenant_yesterday)", async () => {
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      const r = await c.query(
        `select ads_engine.tenant_as_of($1, $2::date)::text as given,
                ads_engine.tenant_as_of($1, null)::text as omitted,
                ads_engine.tenant_yesterday($1)::text as yesterday`,
        [tenant, AS_OF],
      );
      expect(r.rows[0].given).toBe(AS_OF);
      expect(r.rows[0].omitted).toBe(r.rows[0].yesterday);
    });
  });

  it("another tenant's yesterday is not readable from inside a tenant transaction", async () => {
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      expect(await errorOf(c, 'select ads_engine.tenant_as_of($1, null)', [other])).toBe(
        `tenant ${other} does not exist (or is not the current tenant)`,
      );
    });
  });
});
