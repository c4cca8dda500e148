// The deployment guide's INSERT, UPDATE and SELECT examples, run verbatim
// (with its elided tenant '12345678...' spelled out in full), as the app role
// inside a tenant transaction, with the numbers worked out by hand.
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { appPool, errorOf, ownerPool, rollback } from '../helpers/db';

const TENANT = '12345678-1234-1234-1234-567812345678';
const full = (sqlText: string) => sqlText.replaceAll("'12345678...'", `'${TENANT}'`);

let owner: pg.Pool;
let app: pg.Pool;

beforeAll(async () => {
  owner = ownerPool();
  app = appPool();
  // "A tenant can be created with a plain INSERT INTO saas.tenants (id, name)".
  await owner.query(`INSERT INTO saas.tenants (id, name) VALUES ('${TENANT}', 'Guide tenant') ON CONFLICT DO NOTHING`);
  // Benchmarks are shared reference data written by the owner.
  await owner.query(`insert into ads.performance_benchmarks (platform, industry_vertical, metric_name, benchmark_value, percentile_10, percentile_50, percentile_90)
                     values ('tiktok', 'guide-test', 'ctr', 0.011, 0.004, 0.011, 0.021) on conflict do nothing`);
});

/** psql's SET LOCAL inside an explicit transaction, as the guide writes it. */
async function asGuide<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  return rollback(app, async (c) => {
    await c.query(`SET LOCAL saas.tenant_id = '${TENANT}'`);
    return fn(c);
  });
}

describe('guide examples', () => {
  it('1. inserts daily metrics; the database derives roas, cpa, cpc, cpm, ctr', async () => {
    await asGuide(async (c) => {
      await c.query(`INSERT INTO ads.metrics_daily (
  tenant_id, platform, level, platform_id, day,
  spend, impressions, clicks, conversions, conversion_value
)
VALUES (
  '12345678-1234-1234-1234-567812345678',
  'meta',
  'campaign',
  'meta_campaign_123',
  CURRENT_DATE,
  150.50,
  25000,
  750,
  25,
  625.00
);`);
      const r = await c.query(
        full(`SELECT 
  day, platform, platform_id, 
  spend, impressions, clicks, conversions, conversion_value,
  roas, cpa, cpc, cpm, ctr
FROM ads.metrics_daily
WHERE tenant_id = '12345678...'
  AND platform = 'meta'
  AND day >= CURRENT_DATE - 7;`),
      );
      expect(r.rows).toHaveLength(1);
      const row = r.rows[0];
      // 625 / 150.50 = 4.15282...; 150.50 / 25 = 6.02; 150.50 / 750 = 0.200666...;
      // 150.50 * 1000 / 25000 = 6.02; 750 / 25000 = 0.03.
      expect(row).toMatchObject({ roas: '4.1528', cpa: '6.0200', cpc: '0.2007', cpm: '6.0200', ctr: '0.030000' });
      // Campaign rows are their own campaign.
      const parent = await c.query('select campaign_id from ads.metrics_daily');
      expect(parent.rows).toEqual([{ campaign_id: 'meta_campaign_123' }]);
    });
  });

  it('derived rates are NULL, not an error, where the divisor is zero, and cannot be written', async () => {
    await asGuide(async (c) => {
      await c.query(`INSERT INTO ads.metrics_daily (tenant_id, platform, level, platform_id, day, spend, impressions, clicks, conversions, conversion_value)
                     VALUES ($1, 'google', 'campaign', 'zero', CURRENT_DATE - 1, 0, 0, 0, 0, 0)`, [TENANT]);
      const r = await c.query("select roas, cpa, cpc, cpm, ctr, conversion_rate from ads.metrics_daily where platform_id = 'zero'");
      expect(r.rows[0]).toEqual({ roas: null, cpa: null, cpc: null, cpm: null, ctr: null, conversion_rate: null });
      expect(
        await errorOf(c, `INSERT INTO ads.metrics_daily (tenant_id, platform, level, platform_id, day, spend, roas) VALUES ($1, 'meta', 'campaign', 'x', CURRENT_DATE, 10, 99)`, [TENANT]),
      ).toMatch(/generated column "roas"|cannot insert a non-DEFAULT value into column "roas"/);
      expect(await errorOf(c, `INSERT INTO ads.metrics_daily (tenant_id, platform, level, platform_id, day, spend) VALUES ($1, 'meta', 'campaign', 'x', CURRENT_DATE, -1)`, [TENANT])).toMatch(
        /metrics_daily_spend_check/,
      );
      expect(await errorOf(c, `INSERT INTO ads.metrics_daily (tenant_id, platform, level, platform_id, day) VALUES ($1, 'myspace', 'campaign', 'x', CURRENT_DATE)`, [TENANT])).toMatch(
        /platform_check/,
      );
    });
  });

  it('loads upsert on (tenant, platform, level, platform_id, day)', async () => {
    await asGuide(async (c) => {
      const upsert = `INSERT INTO ads.metrics_daily (tenant_id, platform, level, platform_id, day, spend, conversions)
                      VALUES ($1, 'meta', 'campaign', 'c1', CURRENT_DATE - 1, $2, $3)
                      ON CONFLICT (tenant_id, platform, level, platform_id, day)
                      DO UPDATE SET spend = excluded.spend, conversions = excluded.conversions`;
      await c.query(upsert, [TENANT, 100, 4]);
      await c.query(upsert, [TENANT, 120, 5]);
      const r = await c.query("select spend, conversions, cpa from ads.metrics_daily where platform_id = 'c1'");
      expect(r.rows).toEqual([{ spend: '120.00', conversions: '5.00', cpa: '24.0000' }]);
    });
  });

  it('2. creates a budget allocation and reads it back', async () => {
    await asGuide(async (c) => {
      await c.query(`INSERT INTO ads.budget_allocation (
  tenant_id, platform, campaign_id, daily_budget,
  allocation_strategy, target_roas, status
)
VALUES (
  '12345678-1234-1234-1234-567812345678',
  'meta',
  'campaign_123',
  100.00,
  'performance',
  2.5,
  'active'
);`);
      const r = await c.query(
        full(`SELECT campaign_id, daily_budget, recommended_budget,
       allocation_strategy, target_roas, status
FROM ads.budget_allocation
WHERE tenant_id = '12345678...'
  AND platform = 'meta';`),
      );
      expect(r.rows).toEqual([
        { campaign_id: 'campaign_123', daily_budget: '100.00', recommended_budget: null, allocation_strategy: 'performance', target_roas: '2.5000', status: 'active' },
      ]);
    });
  });

  it('3 & 4. pending recommendations sort by meaning (critical first), and approving one applies it once', async () => {
    await asGuide(async (c) => {
      const ids: Record<string, string> = {};
      for (const [priority, confidence] of [['low', 0.9], ['critical', 0.5], ['medium', 0.7], ['high', 0.8], ['high', 0.95]] as const) {
        const r = await c.query(
          `insert into ads.optimization_recommendations (tenant_id, platform, entity_id, recommendation_type, description, estimated_impact, priority, confidence_score)
           values ($1, 'meta', $2, 'pause', $3, 10, $4, $5) returning id`,
          [TENANT, `${priority}-${confidence}`, `Pause ${priority}`, priority, confidence],
        );
        ids[`${priority}-${confidence}`] = r.rows[0].id;
      }
      // An expired one is not listed.
      await c.query(
        `insert into ads.optimization_recommendations (tenant_id, recommendation_type, description, priority, expires_at)
         values ($1, 'timing', 'old', 'critical', now() - interval '1 day')`,
        [TENANT],
      );
      const r = await c.query(`SELECT 
  id, recommendation_type, description, 
  estimated_impact, priority, confidence_score
FROM ads.optimization_recommendations
WHERE status = 'pending'
  AND expires_at > now()
ORDER BY priority DESC, confidence_score DESC;`);
      expect(r.rows.map((x) => `${x.priority}/${x.confidence_score}`)).toEqual(['critical/0.500', 'high/0.950', 'high/0.800', 'medium/0.700', 'low/0.900']);

      const urgent = await c.query(`SELECT * FROM ads.optimization_recommendations
WHERE priority IN ('high', 'critical')
  AND status = 'pending'
  AND expires_at > now();`);
      expect(urgent.rowCount).toBe(3);

      const approve = `UPDATE ads.optimization_recommendations
SET status = 'applied', applied_at = now()
WHERE id = $1
  AND status = 'pending';`;
      expect((await c.query(approve, [ids['critical-0.5']])).rowCount).toBe(1);
      expect((await c.query(approve, [ids['critical-0.5']])).rowCount).toBe(0); // not twice
      const after = await c.query('select status, applied_at is not null as stamped from ads.optimization_recommendations where id = $1', [ids['critical-0.5']]);
      expect(after.rows).toEqual([{ status: 'applied', stamped: true }]);
    });
  });

  it('one pending recommendation per entity and type', async () => {
    await asGuide(async (c) => {
      const ins = `insert into ads.optimization_recommendations (tenant_id, platform, level, entity_id, recommendation_type, description)
                   values ($1, 'meta', 'campaign', 'dup', 'pause', 'Pause dup')`;
      await c.query(ins, [TENANT]);
      expect(await errorOf(c, ins, [TENANT])).toMatch(/optimization_recommendations_one_pending/);
      await c.query("update ads.optimization_recommendations set status = 'dismissed' where entity_id = 'dup'");
      expect(await errorOf(c, ins, [TENANT])).toBeNull();
    });
  });

  it('5. A/B tests, anomalies (by severity), campaign performance, platform configs and benchmarks read as the guide shows', async () => {
    await asGuide(async (c) => {
      await c.query(
        `insert into ads.ab_tests (tenant_id, test_name, variant_a, variant_b, performance_a, performance_b, winner, statistical_significance, status)
         values ($1, 'Hook test', 'Hook A', 'Hook B', '{"conversions": 50}', '{"conversions": 80}', 'B', 0.99, 'completed')`,
        [TENANT],
      );
      const ab = await c.query(full(`SELECT test_name, variant_a, variant_b, 
       performance_a, performance_b, winner,
       statistical_significance
FROM ads.ab_tests
WHERE tenant_id = '12345678...'
  AND status = 'completed';`));
      expect(ab.rows).toEqual([
        { test_name: 'Hook test', variant_a: 'Hook A', variant_b: 'Hook B', performance_a: { conversions: 50 }, performance_b: { conversions: 80 }, winner: 'B', statistical_significance: '0.99000' },
      ]);

      for (const [severity, metric] of [['medium', 'ctr'], ['critical', 'conversions'], ['low', 'cpc'], ['high', 'spend']]) {
        await c.query(
          `insert into ads.anomalies (tenant_id, platform, entity_id, day, metric_name, anomaly_type, severity) values ($1, 'meta', 'c1', current_date - 1, $2, 'spike', $3)`,
          [TENANT, metric, severity],
        );
      }
      await c.query("update ads.anomalies set status = 'investigating' where metric_name = 'ctr'");
      await c.query("update ads.anomalies set status = 'resolved', resolved_at = now() where metric_name = 'cpc'");
      const an = await c.query(full(`SELECT anomaly_type, metric_name, baseline_value, actual_value,
       deviation_percent, severity
FROM ads.anomalies
WHERE tenant_id = '12345678...'
  AND status IN ('active', 'investigating')
ORDER BY severity DESC;`));
      expect(an.rows.map((r) => r.severity)).toEqual(['critical', 'high', 'medium']);

      await c.query(
        `insert into ads.campaign_performance (tenant_id, platform, campaign_id, campaign_name, period_start, period_end, spend, conversions, conversion_value, efficiency_score)
         values ($1, 'google', 'g1', 'Search brand', current_date - 7, current_date - 1, 200, 10, 700, 72.5)`,
        [TENANT],
      );
      const cp = await c.query(full(`SELECT campaign_name, period_start, period_end,
       spend, conversions, roas, efficiency_score
FROM ads.campaign_performance
WHERE tenant_id = '12345678...'
  AND platform = 'google'
ORDER BY period_end DESC;`));
      expect(cp.rows[0]).toMatchObject({ campaign_name: 'Search brand', spend: '200.00', conversions: '10.00', roas: '3.5000', efficiency_score: '72.50' });

      // A platform config from tenant and platform alone takes sensible defaults.
      await c.query(`INSERT INTO ads.platform_configs (tenant_id, platform) VALUES ($1, 'meta')`, [TENANT]);
      const cfg = await c.query(full(`SELECT platform, max_cpa, target_roas, 
       auto_pause_threshold, optimization_frequency
FROM ads.platform_configs
WHERE tenant_id = '12345678...';`));
      expect(cfg.rows).toEqual([{ platform: 'meta', max_cpa: null, target_roas: null, auto_pause_threshold: '2.000', optimization_frequency: 'daily' }]);
      await c.query('UPDATE ads.platform_configs\nSET anomaly_detection_enabled = true;');
      await c.query('UPDATE ads.platform_configs SET recommendations_enabled = true;');
      await c.query('UPDATE ads.platform_configs SET auto_apply_recommendations = true;');
      const flags = await c.query('select recommendations_enabled, auto_apply_recommendations, anomaly_detection_enabled from ads.platform_configs');
      expect(flags.rows).toEqual([{ recommendations_enabled: true, auto_apply_recommendations: true, anomaly_detection_enabled: true }]);

      const bm = await c.query(`SELECT platform, industry_vertical, campaign_type, metric_name,
       benchmark_value, percentile_10, percentile_50, percentile_90
FROM ads.performance_benchmarks;`);
      expect(bm.rows).toContainEqual({
        platform: 'tiktok', industry_vertical: 'guide-test', campaign_type: 'all', metric_name: 'ctr',
        benchmark_value: '0.011', percentile_10: '0.004', percentile_50: '0.011', percentile_90: '0.021',
      });

      // The guide's weekly maintenance statements run as written.
      await c.query(`DELETE FROM ads.anomalies
WHERE status = 'resolved'
  AND resolved_at < now() - interval '30 days';`);
      await c.query(`UPDATE ads.ab_tests SET status = 'completed'
WHERE status = 'running'
  AND end_date < CURRENT_DATE;`);
    });
  });

  it('"Performance vs Baselines" compares yesterday with the baselines', async () => {
    await asGuide(async (c) => {
      await c.query(
        `insert into ads.metrics_daily (tenant_id, platform, level, platform_id, day, spend, conversion_value) values ($1, 'meta', 'campaign', 'c9', CURRENT_DATE - 1, 100, 300)`,
        [TENANT],
      );
      await c.query(`insert into ads.baselines (tenant_id, platform, level, window_days, roas) values ($1, 'meta', 'campaign', 7, 2.5)`, [TENANT]);
      const r = await c.query(`SELECT 
  m.platform,
  m.platform_id,
  m.roas as current_roas,
  b.roas as baseline_roas,
  ROUND((m.roas - b.roas) / b.roas * 100, 2) as variance_percent
FROM ads.metrics_daily m
LEFT JOIN ads.baselines b ON m.platform = b.platform
WHERE m.day = CURRENT_DATE - 1
  AND m.roas IS NOT NULL;`);
      // (3.0 - 2.5) / 2.5 * 100 = 20.00
      expect(r.rows).toEqual([{ platform: 'meta', platform_id: 'c9', current_roas: '3.0000', baseline_roas: '2.5', variance_percent: '20.00' }]);
    });
  });

  it('"Les requêtes sont automatiquement filtrées": with SET LOCAL only the tenant\'s rows come back', async () => {
    const other = '87654321-4321-4321-4321-876543218765';
    await owner.query(`INSERT INTO saas.tenants (id, name) VALUES ($1, 'Other') ON CONFLICT DO NOTHING`, [other]);
    await owner.query(
      `insert into ads.metrics_daily (tenant_id, platform, level, platform_id, day, spend) values ($1, 'meta', 'campaign', 'theirs', current_date - 1, 5) on conflict do nothing`,
      [other],
    );
    await asGuide(async (c) => {
      const all = await c.query('SELECT * FROM ads.metrics_daily;');
      expect(all.rows.every((r) => r.tenant_id === TENANT)).toBe(true);
      expect(all.rows.find((r) => r.platform_id === 'theirs')).toBeUndefined();
    });
    const asOwner = await owner.query("select count(*)::int as n from ads.metrics_daily where platform_id = 'theirs'");
    expect(asOwner.rows[0].n).toBe(1);
  });
});
