// Daily metrics for test tenants, written as the owner in the tenant's own
// transaction: each line repeats one day's figures over a run of days counted
// back from the tenant's yesterday (ads_engine.tenant_yesterday), so expected
// totals are a multiplication. Shared by the integration tests and e2e.
import type pg from 'pg';

export interface MetricLine {
  platform: string;
  id: string;
  name: string;
  level?: 'campaign' | 'adset';
  /** The parent campaign of an ad set (campaign rows: their own id). */
  campaignId?: string;
  /** The parent's name written on ad-set rows (default `Campaign <campaignId>`). */
  campaignName?: string;
  /** Days before the tenant's yesterday, both included: 0 is yesterday. */
  fromAgo: number;
  toAgo: number;
  spend: number;
  impressions: number;
  clicks: number;
  conversions: number;
  value: number;
}

export async function loadMetricLines(owner: pg.Pool, tenant: string, lines: MetricLine[]): Promise<void> {
  const c = await owner.connect();
  try {
    await c.query('begin');
    await c.query("select set_config('saas.tenant_id', $1, true)", [tenant]);
    for (const r of lines) {
      const adset = r.level === 'adset';
      await c.query(
        `insert into ads.metrics_daily (tenant_id, platform, level, platform_id, day, entity_name, campaign_id, campaign_name,
                                        spend, impressions, clicks, conversions, conversion_value)
         select $1, $2, $3, $4, ads_engine.tenant_yesterday($1) - g, $5, $6, $7, $8, $9, $10, $11, $12
         from generate_series($13::int, $14::int) g`,
        [tenant, r.platform, r.level ?? 'campaign', r.id, r.name, r.campaignId ?? r.id,
          adset ? (r.campaignName ?? `Campaign ${r.campaignId}`) : r.name,
          r.spend, r.impressions, r.clicks, r.conversions, r.value, r.toAgo, r.fromAgo],
      );
    }
    await c.query('commit');
  } catch (err) {
    await c.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    c.release();
  }
}
