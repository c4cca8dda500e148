// Whose tenant, whose day: the engine functions name their tenant by
// argument only for an operator in psql (a superuser or a member of
// aegis_owner); the app role must be inside a tenant transaction. And
// "yesterday" is the tenant's, in its own time zone (saas.tenants.timezone).
// Some of these tests commit, each on tenants of its own.
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDb, type DbHandle } from '../../lib/db/pool';
import { runDailyLoop } from '../../lib/engine/loop';
import { appPool, createTenant, errorOf, ownerPool, rollback, setTenant } from '../helpers/db';
import { AS_OF, addDays, daily, insertMetrics } from './fixtures';

let owner: pg.Pool;
let app: pg.Pool;
let handle: DbHandle;

beforeAll(() => {
  owner = ownerPool();
  app = appPool();
  handle = createDb(inject('appUrl'), { max: 2 });
});

afterAll(async () => {
  await handle.db.destroy();
});

const NOT_SET = 'saas.tenant_id is not set: call inside a tenant transaction';

const countAsOwner = async (sqlText: string, tenant: string) => (await owner.query(sqlText, [tenant])).rows[0].n as number;

/** A committed tenant with 14 days of one campaign (so a baseline has something to write). */
async function tenantWithData(name: string): Promise<string> {
  const t = await createTenant(owner, name);
  const c = await owner.connect();
  try {
    await insertMetrics(c, t, daily(addDays(AS_OF, -13), AS_OF, () => ({ id: 'c1', spend: 100, impressions: 10000, clicks: 100, conversions: 5, value: 300 })));
  } finally {
    c.release();
  }
  return t;
}

describe('ads_engine.enter_tenant: who may name the tenant by argument', () => {
  it('the app role without a tenant setting is refused, and nothing is written (checked as the owner)', async () => {
    const t = await tenantWithData('No setting, app role');
    // Autocommit statements: before the fix each of these committed rows into the named tenant.
    const calls: [string, unknown[]][] = [
      [`select ads_engine.compute_baselines($1, 'meta', 'campaign', 7, $2::date)`, [t, AS_OF]],
      [`select ads_engine.compute_baselines($1, $2::date)`, [t, AS_OF]],
      [`select ads.compute_baselines($1, 'meta', 'campaign', 7)`, [t]],
      [`select * from ads_engine.analyze_campaign_performance($1, 'c1', 'meta', 7, $2::date)`, [t, AS_OF]],
      [`select ads_engine.generate_recommendations($1, $2::date)`, [t, AS_OF]],
      [`select ads_engine.detect_anomalies($1, $2::date)`, [t, AS_OF]],
      [`select ads_engine.run_daily_loop($1, $2::date, 'cli')`, [t, AS_OF]],
      [`select ads_engine.run_maintenance($1)`, [t]],
      [`select ads_engine.record_run_failure($1, $2::date, 'cli', 'forged')`, [t, AS_OF]],
    ];
    for (const [text, values] of calls) {
      await expect(app.query(text, values), text).rejects.toThrow(NOT_SET);
    }
    expect(await countAsOwner('select count(*)::int as n from ads.baselines where tenant_id = $1', t)).toBe(0);
    expect(await countAsOwner('select count(*)::int as n from ads.campaign_performance where tenant_id = $1', t)).toBe(0);
    expect(await countAsOwner('select count(*)::int as n from ads_engine.optimizer_runs where tenant_id = $1', t)).toBe(0);
    // The same calls inside the tenant's transaction work.
    await rollback(app, async (c) => {
      await setTenant(c, t);
      expect((await c.query(`select ads_engine.compute_baselines($1, 'meta', 'campaign', 7, $2::date) as n`, [t, AS_OF])).rows[0].n).toBe(1);
    });
  });

  it('a superuser without a tenant setting (psql, as in the guide) names the tenant for the call only', async () => {
    const t = await tenantWithData('No setting, superuser');
    const r = await owner.query(`select ads_engine.compute_baselines($1, 'meta', 'campaign', 7, $2::date) as n`, [t, AS_OF]);
    expect(r.rows[0].n).toBe(1);
    expect(await countAsOwner('select count(*)::int as n from ads.baselines where tenant_id = $1 and window_days = 7', t)).toBe(1);
  });

  it('a member of aegis_owner without a tenant setting may too; the setting is cleared again after the call', async () => {
    const t = await tenantWithData('No setting, owner role');
    await rollback(owner, async (c) => {
      await c.query('set local role aegis_owner');
      expect((await c.query(`select ads_engine.compute_baselines($1, 'meta', 'campaign', 7, $2::date) as n`, [t, AS_OF])).rows[0].n).toBe(1);
      expect((await c.query(`select ads.detect_anomalies($1) as n`, [t])).rows[0].n).toBe(0);
      expect((await c.query("select current_setting('saas.tenant_id', true) as s")).rows[0].s).toBe('');
      // aegis_app is no member of aegis_owner.
      expect((await c.query(`select pg_has_role('aegis_app', 'aegis_owner', 'MEMBER') as m`)).rows[0].m).toBe(false);
    });
  });
});

/** The calendar day in a time zone, as YYYY-MM-DD (computed by ICU, independently of the database). */
function localDay(timeZone: string, at: Date): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

describe("the tenant's yesterday", () => {
  it('ads_engine.local_yesterday: the day before the local date of an instant (hand-computed); an unknown zone counts as UTC', async () => {
    // 10:30 UTC on April 1st: 00:30 on April 2nd in Kiritimati (UTC+14), 23:30 on March 31st in Pago Pago (UTC-11).
    const r = await owner.query(`
      select ads_engine.local_yesterday('Pacific/Kiritimati', '2025-04-01T10:30:00Z')::text as kiritimati,
             ads_engine.local_yesterday('UTC', '2025-04-01T10:30:00Z')::text as utc,
             ads_engine.local_yesterday('Pacific/Pago_Pago', '2025-04-01T10:30:00Z')::text as pago_pago,
             ads_engine.local_yesterday('Europe/Paris', '2025-03-31T22:30:00Z')::text as paris,
             ads_engine.local_yesterday('Mars/Olympus_Mons', '2025-04-01T10:30:00Z')::text as unknown,
             ads_engine.local_yesterday(null, '2025-04-01T10:30:00Z')::text as missing`);
    expect(r.rows[0]).toEqual({
      kiritimati: '2025-04-01',
      utc: '2025-03-31',
      pago_pago: '2025-03-30',
      paris: '2025-03-31', // 00:30 on April 1st in Paris (UTC+2 in summer time)
      unknown: '2025-03-31',
      missing: '2025-03-31',
    });
  });

  it('the loop, the guide signatures and compute_baselines(tenant) default to the tenant\'s yesterday, not the server\'s', async () => {
    const now = new Date();
    const zones = ['Pacific/Kiritimati', 'Pacific/Pago_Pago'];
    const expected = zones.map((z) => addDays(localDay(z, now), -1));
    // At any hour at least one of the two differs from the UTC yesterday.
    expect(expected.some((d) => d !== addDays(localDay('UTC', now), -1))).toBe(true);
    for (const [n, zone] of zones.entries()) {
      const t = await createTenant(owner, `Yesterday in ${zone}`);
      await owner.query('update saas.tenants set timezone = $2 where id = $1', [t, zone]);
      const yesterday = expected[n]!;
      await rollback(app, async (c) => {
        await setTenant(c, t);
        expect((await c.query('select ads_engine.tenant_yesterday($1)::text as d', [t])).rows[0].d).toBe(yesterday);
        await insertMetrics(c, t, [{ id: 'c1', day: yesterday, spend: 10, impressions: 100, clicks: 1 }]);
        await c.query(`select ads.compute_baselines($1, 'meta', 'campaign', 1)`, [t]);
        await c.query(`select ads_engine.compute_baselines($1)`, [t]);
        const b = await c.query(`select distinct period_end::text as d, days_with_data from ads.baselines where window_days = 1`);
        expect(b.rows).toEqual([{ d: yesterday, days_with_data: 1 }]);
      });
      const summary = await runDailyLoop(handle.db, t, { trigger: 'cli' });
      expect(summary).toMatchObject({ as_of: yesterday, data_arrived: false });
      const logged = await owner.query('select as_of::text from ads_engine.optimizer_runs where tenant_id = $1', [t]);
      expect(logged.rows).toEqual([{ as_of: yesterday }]);
    }
  });

  it('tenant_yesterday reads the tenant under row-level security: another tenant is not found', async () => {
    const a = await createTenant(owner, 'Yesterday A');
    const b = await createTenant(owner, 'Yesterday B');
    await rollback(app, async (c) => {
      await setTenant(c, a);
      expect(await errorOf(c, 'select ads_engine.tenant_yesterday($1)', [b])).toBe(`tenant ${b} does not exist (or is not the current tenant)`);
    });
  });
});
