// Numbers the shell shows: the counts beside Recommendations and Anomalies,
// and the account's optimization score.
import 'server-only';
import { sql } from 'kysely';
import type { Tx } from '@/lib/db';
import { criticalActiveCountSql } from '@/lib/anomalies/queries';
import { scoreFor } from '@/lib/recommendations/score-data';

export interface NavCounts {
  pendingRecommendations: number;
  activeAnomalies: number;
  /** Active critical anomalies neither acknowledged nor snoozed: the shell's banner (lib/anomalies/queries.ts). */
  criticalAnomalies: number;
  /** 0..1, or null when no campaign spent in the last 7 days (lib/recommendations/score.ts). */
  optimizationScore: number | null;
}

export async function navCounts(trx: Tx, tenantId: string): Promise<NavCounts> {
  const r = await sql<{ pending: number; active: number; critical: number }>`
    select (select count(*) from ads.optimization_recommendations
             where tenant_id = ${tenantId} and status = 'pending' and expires_at > now())::int as pending,
           -- what the board shows in Active and Investigating: a snoozed card is out of sight until its time is up
           (select count(*) from ads.anomalies a
             where a.tenant_id = ${tenantId} and a.status in ('active', 'investigating')
               and not exists (select 1 from ads_engine.anomaly_snoozes s
                               where s.tenant_id = a.tenant_id and s.anomaly_id = a.id and s.snoozed_until > now()))::int as active,
           ${criticalActiveCountSql(tenantId)} as critical`.execute(trx);
  const row = r.rows[0];
  const score = await scoreFor(trx, tenantId);
  return {
    pendingRecommendations: row?.pending ?? 0,
    activeAnomalies: row?.active ?? 0,
    criticalAnomalies: row?.critical ?? 0,
    optimizationScore: score.account,
  };
}
