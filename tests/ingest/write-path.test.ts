// The write path of ads.metrics_daily that the import relies on: the row
// trigger's defaults (db/media_buying/030_indexes.sql) are what the guide's
// INSERT gets, as before, while an insert stating them (the import core's)
// does not call it at all; every update still stamps updated_at and keeps the
// first report. Each test rolls back, as the app role in its tenant.
import { describe, expect, it } from 'vitest';
import { appPool, createTenant, ownerPool, rollback } from '../helpers/db';

const owner = ownerPool();
const app = appPool();

/** Calls of the row trigger in one statement, from EXPLAIN ANALYZE (no line: not called). */
async function triggerCalls(c: import('pg').ClientBase, text: string, values: unknown[]): Promise<{ insert: number; update: number }> {
  const plan = (await c.query<{ 'QUERY PLAN': string }>(`explain (analyze, costs off, timing off) ${text}`, values)).rows.map((r) => r['QUERY PLAN']);
  const calls = (name: string) => Number(plan.find((l) => l.startsWith(`Trigger ${name}:`))?.match(/calls=(\d+)/)?.[1] ?? 0);
  return { insert: calls('metrics_daily_defaults'), update: calls('metrics_daily_defaults_on_update') };
}

describe('ads.metrics_daily row trigger', () => {
  it("the guide's INSERT gets the defaults: campaign id and name from the row, the first report and its time", async () => {
    const tenant = await createTenant(owner, 'Write path: guide insert');
    await rollback(app, async (c) => {
      await c.query("select set_config('saas.tenant_id', $1, true)", [tenant]);
      const calls = await triggerCalls(
        c,
        `insert into ads.metrics_daily (tenant_id, platform, level, platform_id, day, entity_name, spend, impressions, clicks, conversions, conversion_value)
         values ($1, 'meta', 'campaign', 'meta_campaign_123', current_date - 1, 'Spring sale', 150.50, 25000, 750, 25, 625.00)`,
        [tenant],
      );
      expect(calls).toEqual({ insert: 1, update: 0 });
      const r = await c.query(
        `select campaign_id, campaign_name, first_conversions::text, first_conversion_value::text, first_loaded_at = now() as loaded_now
           from ads.metrics_daily where tenant_id = $1`,
        [tenant],
      );
      expect(r.rows).toEqual([{ campaign_id: 'meta_campaign_123', campaign_name: 'Spring sale', first_conversions: '25.00', first_conversion_value: '625.00', loaded_now: true }]);
    });
  });

  it('an insert that states what the trigger would fill in does not call it, and stores the same', async () => {
    const tenant = await createTenant(owner, 'Write path: stated');
    await rollback(app, async (c) => {
      await c.query("select set_config('saas.tenant_id', $1, true)", [tenant]);
      const calls = await triggerCalls(
        c,
        `insert into ads.metrics_daily (tenant_id, platform, level, platform_id, day, entity_name, campaign_id, campaign_name,
                                        spend, impressions, clicks, conversions, conversion_value, first_conversions, first_conversion_value, first_loaded_at)
         select $1, 'meta', 'campaign', 'c' || g, current_date - 1, 'Name ' || g, 'c' || g, 'Name ' || g, 10, 100, 5, 2, 40, 2, 40, now()
           from generate_series(1, 50) g`,
        [tenant],
      );
      expect(calls).toEqual({ insert: 0, update: 0 });
      // A campaign row without its campaign fields, or an insert leaving out the first report, still gets the defaults.
      const some = await triggerCalls(
        c,
        `insert into ads.metrics_daily (tenant_id, platform, level, platform_id, day, spend, impressions, clicks, conversions, conversion_value,
                                        first_conversions, first_conversion_value, first_loaded_at)
         values ($1, 'meta', 'campaign', 'no-parent', current_date - 1, 1, 1, 1, 1, 1, 1, 1, now()),
                ($1, 'meta', 'adset', 'set-1', current_date - 1, 1, 1, 1, 1, 1, null, 1, now())`,
        [tenant],
      );
      expect(some).toEqual({ insert: 2, update: 0 });
      const r = await c.query(
        "select platform_id, campaign_id, first_conversions::text from ads.metrics_daily where tenant_id = $1 and platform_id in ('no-parent', 'set-1', 'c7') order by 1",
        [tenant],
      );
      expect(r.rows).toEqual([
        { platform_id: 'c7', campaign_id: 'c7', first_conversions: '2.00' },
        { platform_id: 'no-parent', campaign_id: 'no-parent', first_conversions: '1.00' },
        { platform_id: 'set-1', campaign_id: null, first_conversions: '1.00' },
      ]);
    });
  });

  it('every update calls it: updated_at stamped with the clock, the first report kept whatever the update says', async () => {
    const tenant = await createTenant(owner, 'Write path: update');
    await rollback(app, async (c) => {
      await c.query("select set_config('saas.tenant_id', $1, true)", [tenant]);
      await c.query(
        `insert into ads.metrics_daily (tenant_id, platform, level, platform_id, day, spend, impressions, clicks, conversions, conversion_value)
         values ($1, 'google', 'campaign', 'g1', current_date - 2, 10, 100, 5, 2, 40)`,
        [tenant],
      );
      const calls = await triggerCalls(
        c,
        `update ads.metrics_daily set conversions = 3, first_conversions = 99, first_loaded_at = '2001-01-01', updated_at = '2001-01-01'
          where tenant_id = $1 and platform_id = 'g1'`,
        [tenant],
      );
      expect(calls).toEqual({ insert: 0, update: 1 });
      const r = await c.query(
        `select conversions::text, first_conversions::text, first_loaded_at = now() as first_kept, updated_at > now() as stamped
           from ads.metrics_daily where tenant_id = $1 and platform_id = 'g1'`,
        [tenant],
      );
      expect(r.rows).toEqual([{ conversions: '3.00', first_conversions: '2.00', first_kept: true, stamped: true }]);
    });
  });
});
