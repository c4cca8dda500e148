// Numbers the navigation shows beside Recommendations and Anomalies.
import 'server-only';
import { sql } from 'kysely';
import type { Tx } from '@/lib/db';

export interface NavCounts {
  pendingRecommendations: number;
  activeAnomalies: number;
}

export async function navCounts(trx: Tx, tenantId: string): Promise<NavCounts> {
  const r = await sql<{ pending: number; active: number }>`
    select (select count(*) from ads.optimization_recommendations
             where tenant_id = ${tenantId} and status = 'pending' and expires_at > now())::int as pending,
           (select count(*) from ads.anomalies
             where tenant_id = ${tenantId} and status in ('active', 'investigating'))::int as active`.execute(trx);
  const row = r.rows[0];
  return { pendingRecommendations: row?.pending ?? 0, activeAnomalies: row?.active ?? 0 };
}
