// The optimiser as the UI runs it: for the signed-in user's current tenant.
// The action wrapper (session, membership, role, validation) calls this with
// a tenant taken from the session, never from the request.
import 'server-only';
import { appDb, isUuid } from '../db/pool';
import { runDailyLoop, type LoopSummary } from './loop';

export type RunOptimizerResult = { ok: true; summary: LoopSummary } | { ok: false; message: string };

export async function runOptimizerForTenant(tenantId: string, userId: string): Promise<RunOptimizerResult> {
  if (!isUuid(tenantId)) return { ok: false, message: 'Unknown tenant.' };
  if (!isUuid(userId)) return { ok: false, message: 'Unknown user.' };
  try {
    const summary = await runDailyLoop(appDb().db, tenantId, { trigger: 'manual', userId });
    return { ok: true, summary };
  } catch (err) {
    // Logged in ads_engine.optimizer_runs by runDailyLoop; the page gets a plain message.
    console.error(`[optimizer] tenant ${tenantId}: ${err instanceof Error ? err.message : String(err)}`);
    return { ok: false, message: 'The optimiser could not finish; nothing was changed. Try again, or contact support if it persists.' };
  }
}
