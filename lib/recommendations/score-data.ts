// The optimization score's inputs, read in the tenant's transaction: every
// campaign's spend and value over the 7 days ending on the tenant's yesterday (the
// engine's decision window), and each pending recommendation's money per week
// and confidence. The model is in ./score.ts.
import 'server-only';
import { sql } from 'kysely';
import type { Tx } from '@/lib/db';
import { optimizationScore, type OptimizationScore } from './score';

export async function scoreFor(trx: Tx, tenantId: string): Promise<OptimizationScore> {
  const campaigns = await sql<{ platform: string; campaign_id: string; name: string | null; spend7: number; value7: number }>`
    with w as (select ads_engine.tenant_yesterday(${tenantId}::uuid) as last)
    select m.platform, m.platform_id as campaign_id, max(coalesce(m.campaign_name, m.entity_name)) as name, sum(m.spend)::float8 as spend7,
           sum(m.conversion_value)::float8 as value7
    from ads.metrics_daily m, w
    where m.tenant_id = ${tenantId}::uuid and m.level = 'campaign' and m.day between w.last - 6 and w.last
    group by m.platform, m.platform_id
    having sum(m.spend) > 0`.execute(trx);
  const recs = await sql<{ id: string; type: string; platform: string; campaign_id: string; money: number | null; confidence: number }>`
    select o.id, o.recommendation_type as type, o.platform,
           case when o.level = 'campaign' then coalesce(o.entity_id, o.campaign_id) else o.campaign_id end as campaign_id,
           case when jsonb_typeof(o.evidence -> 'money_per_week') = 'number' then (o.evidence ->> 'money_per_week')::float8 end as money,
           o.confidence_score::float8 as confidence
    from ads.optimization_recommendations o
    where o.tenant_id = ${tenantId}::uuid and o.status = 'pending' and o.expires_at > now() and o.platform is not null`.execute(trx);
  return optimizationScore(
    campaigns.rows.map((c) => ({ platform: c.platform, campaignId: c.campaign_id, name: c.name, spend7: c.spend7, value7: c.value7 })),
    recs.rows
      .filter((r) => r.campaign_id !== null)
      .map((r) => ({ id: r.id, type: r.type, platform: r.platform, campaignId: r.campaign_id, moneyPerWeek: r.money ?? 0, confidence: r.confidence })),
  );
}
