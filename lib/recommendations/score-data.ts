// The optimization score's inputs, read in the tenant's transaction: every
// campaign's spend and value over the 7 days ending on the tenant's yesterday (the
// engine's decision window), and each pending recommendation's money per week
// and confidence. The model is in ./score.ts.
import 'server-only';
import { sql } from 'kysely';
import type { Tx } from '@/lib/db';
import { optimizationScore, type OptimizationScore } from './score';

export async function scoreFor(trx: Tx, tenantId: string): Promise<OptimizationScore> {
  // A campaign's own rows; a campaign loaded as ad sets only is the sum of its ad sets, as the engine judges it.
  const campaigns = await sql<{ platform: string; campaign_id: string; name: string | null; spend7: number; value7: number }>`
    with w as (select ads_engine.tenant_yesterday(${tenantId}::uuid) as last),
    rows as (
      select m.platform, m.level, case when m.level = 'campaign' then m.platform_id else m.campaign_id end as campaign_id,
             coalesce(m.campaign_name, case when m.level = 'campaign' then m.entity_name end) as name, m.spend, m.conversion_value
      from ads.metrics_daily m, w
      where m.tenant_id = ${tenantId}::uuid and m.level in ('campaign', 'adset') and m.day between w.last - 6 and w.last
    ),
    own as (select distinct platform, campaign_id from rows where level = 'campaign')
    select r.platform, r.campaign_id, max(r.name) as name, sum(r.spend)::float8 as spend7, sum(r.conversion_value)::float8 as value7
    from rows r
    where r.campaign_id is not null
      and (r.level = 'campaign' or not exists (select 1 from own o where o.platform = r.platform and o.campaign_id = r.campaign_id))
    group by r.platform, r.campaign_id
    having sum(r.spend) > 0`.execute(trx);
  const recs = await sql<{ id: string; type: string; platform: string; campaign_id: string; money: number | null; unit: string | null; confidence: number }>`
    select o.id, o.recommendation_type as type, o.platform,
           case when o.level = 'campaign' then coalesce(o.entity_id, o.campaign_id) else o.campaign_id end as campaign_id,
           -- the engine's money per week; else an impact stated in money (a recommendation written by hand or by psql)
           coalesce(case when jsonb_typeof(o.evidence -> 'money_per_week') = 'number' then (o.evidence ->> 'money_per_week')::float8 end,
                    case when o.impact_unit in ('spend_saved_per_week', 'value_per_week', 'value_lost_per_week') then o.estimated_impact::float8 end) as money,
           o.impact_unit as unit, o.confidence_score::float8 as confidence
    from ads.optimization_recommendations o
    where o.tenant_id = ${tenantId}::uuid and o.status = 'pending' and o.expires_at > now() and o.platform is not null`.execute(trx);
  return optimizationScore(
    campaigns.rows.map((c) => ({ platform: c.platform, campaignId: c.campaign_id, name: c.name, spend7: c.spend7, value7: c.value7 })),
    recs.rows
      .filter((r) => r.campaign_id !== null)
      .map((r) => ({ id: r.id, type: r.type, platform: r.platform, campaignId: r.campaign_id, moneyPerWeek: r.money ?? 0,
        // a raise judged on ROAS states its gain as value (impact value_per_week); on CPA, as the spend it adds
        moneyOf: r.type === 'budget_increase' && r.unit === 'value_per_week' ? ('value' as const) : ('spend' as const),
        confidence: r.confidence,
      })),
  );
}
