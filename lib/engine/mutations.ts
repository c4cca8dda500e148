// The handler behind "Run the optimiser now": the loop in the action's own
// tenant transaction, audited in it. Kept apart from the 'use server' module
// so tests can drive it through runTenantAction.
import 'server-only';
import { recordAudit } from '@/lib/audit/mutations';
import type { ActionHandler } from '@/lib/request/action-core';
import { loopInTransaction, type LoopSummary } from './loop';
import type { runOptimizerSchema } from './schema';

export const runOptimizerHandler: ActionHandler<typeof runOptimizerSchema, LoopSummary> = async (trx, _input, ctx) => {
  const summary = await loopInTransaction(trx, ctx.tenant.tenantId, { trigger: 'manual' });
  await recordAudit(trx, { action: 'optimizer.run', entityType: 'tenant', entityId: ctx.tenant.tenantId, after: summary });
  return {
    message:
      `Optimiser ran for ${summary.as_of}: ${summary.recommendations} new recommendation(s), ` +
      `${summary.anomalies} new anomaly(ies), ${summary.baselines} baselines updated.` +
      (summary.data_arrived === false ? ' No metrics are loaded for that day yet; the scheduled run checks it again once they arrive.' : ''),
    data: summary,
  };
};
