// Reads about the optimiser for the pages: its latest runs for the tenant.
import 'server-only';
import type { Tx } from '@/lib/db';
import type { LoopSummary } from './loop';

export interface OptimizerRun {
  id: number;
  trigger: string;
  asOf: string;
  finishedAt: Date;
  status: 'success' | 'error';
  summary: Partial<LoopSummary>;
  error: string | null;
}

export async function recentOptimizerRuns(trx: Tx, tenantId: string, limit = 5): Promise<OptimizerRun[]> {
  const rows = await trx
    .selectFrom('ads_engine.optimizer_runs')
    .select(['id', 'trigger', 'as_of', 'finished_at', 'status', 'summary', 'error'])
    .where('tenant_id', '=', tenantId)
    .orderBy('started_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    trigger: r.trigger,
    asOf: r.as_of,
    finishedAt: r.finished_at,
    status: r.status === 'error' ? 'error' : 'success',
    summary: (r.summary ?? {}) as Partial<LoopSummary>,
    error: r.error,
  }));
}
