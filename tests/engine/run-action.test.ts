// "Run the optimiser now" through the action wrapper: a viewer is refused and
// nothing runs; a buyer's run finds the planted anomaly, logs the run and
// writes an audit row in the same transaction.
import { describe, expect, it } from 'vitest';
import { runTenantAction } from '../../lib/request/action-core';
import { runOptimizerHandler } from '../../lib/engine/mutations';
import { runOptimizerSchema } from '../../lib/engine/schema';
import { appKysely } from '../helpers/app-db';
import { ownerPool } from '../helpers/db';
import { count, createTeam } from '../auth/fixtures';

const app = appKysely();
const owner = ownerPool();

const run = (userId: string) =>
  runTenantAction({ schema: runOptimizerSchema, minRole: 'buyer', handler: runOptimizerHandler, userId, preferredTenantId: null, input: new FormData(), db: app.db });

/** 28 steady days of one Meta campaign, then yesterday's spend at 5x with conversions flat. */
async function plantSpike(tenantId: string): Promise<void> {
  await owner.query(
    `insert into ads.metrics_daily (tenant_id, platform, level, platform_id, entity_name, day, spend, impressions, clicks, conversions, conversion_value)
     select $1, 'meta', 'campaign', 'spiky', 'Spiky', d::date,
            case when d::date = current_date - 1 then 2000 else 400 + (extract(isodow from d) * 3) end,
            40000, 800, 20, 1000
     from generate_series(current_date - 56, current_date - 1, interval '1 day') d`,
    [tenantId],
  );
}

describe('run the optimiser from the dashboard', () => {
  it('a viewer is refused and nothing runs', async () => {
    const t = await createTeam(owner, 'Optimiser viewer');
    await plantSpike(t.tenantId);
    const r = await run(t.viewer.id);
    expect(r).toEqual({ ok: false, message: 'This needs the Buyer role; you are Viewer.' });
    expect(await count(owner, 'select 1 from ads_engine.optimizer_runs where tenant_id = $1', [t.tenantId])).toBe(0);
    expect(await count(owner, 'select 1 from ads.baselines where tenant_id = $1', [t.tenantId])).toBe(0);
    expect(await count(owner, 'select 1 from saas.audit_log where tenant_id = $1', [t.tenantId])).toBe(0);
  });

  it('a buyer runs it: the spike is found, the run logged and audited', async () => {
    const t = await createTeam(owner, 'Optimiser buyer');
    await plantSpike(t.tenantId);
    const r = await run(t.buyer.id);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.data?.anomalies).toBeGreaterThanOrEqual(1);
    const spend = await owner.query(
      `select anomaly_type, actual_value from ads.anomalies where tenant_id = $1 and entity_id = 'spiky' and metric_name = 'spend'`,
      [t.tenantId],
    );
    // lib/db/pool's type parsers (global to pg) read numeric as numbers.
    expect(spend.rows).toEqual([{ anomaly_type: 'spike', actual_value: 2000 }]);
    const runs = await owner.query('select trigger, status, requested_by from ads_engine.optimizer_runs where tenant_id = $1', [t.tenantId]);
    expect(runs.rows).toEqual([{ trigger: 'manual', status: 'success', requested_by: t.buyer.id }]);
    const audit = await owner.query(
      `select action, actor_user_id, (after ->> 'anomalies')::int as anomalies from saas.audit_log where tenant_id = $1`,
      [t.tenantId],
    );
    expect(audit.rows).toEqual([{ action: 'optimizer.run', actor_user_id: t.buyer.id, anomalies: r.data!.anomalies }]);
    // A second run finds nothing new.
    const again = await run(t.buyer.id);
    expect(again.ok && again.data).toMatchObject({ anomalies: 0, recommendations: 0 });
  });
});
