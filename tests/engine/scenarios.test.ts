// The engine on the demo data set (db/seed): it must find the four planted
// situations (doubled CPA, spend spike, tracking drop, budget-capped winner)
// and raise nothing on the steady campaigns. The loop runs in transactions
// that are rolled back, so the seeded data stays as the seed left it.
import type pg from 'pg';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { DEMO_TENANTS, PLANTED, PLANTED_EXPECT, seedDemo } from '../../db/seed/seed';
import { appPool, rollback, setTenant } from '../helpers/db';
import { addDays } from './fixtures';

const TODAY = '2025-04-01';
const AS_OF = addDays(TODAY, -1);

let app: pg.Pool;

interface Found {
  recommendations: { platform: string; entity_id: string; recommendation_type: string; current_value: string; recommended_value: string; evidence: Record<string, unknown> }[];
  anomalies: { platform: string; entity_id: string; metric_name: string; anomaly_type: string; day: string; deviation_percent: string; severity: string }[];
  second: { recommendations: number; anomalies: number };
  cpaRating: string | null;
}

const found = new Map<string, Found>();

beforeAll(async () => {
  app = appPool();
  await seedDemo({ ownerUrl: inject('ownerUrl'), appUrl: inject('appUrl'), today: TODAY });
  for (const t of DEMO_TENANTS) {
    const f = await rollback(app, async (c) => {
      await setTenant(c, t.id);
      await c.query(`select ads_engine.run_daily_loop($1, $2::date, 'cli')`, [t.id, AS_OF]);
      const second = (await c.query(`select ads_engine.run_daily_loop($1, $2::date, 'cli') as s`, [t.id, AS_OF])).rows[0].s;
      const recommendations = (
        await c.query(`select platform, entity_id, recommendation_type, current_value, recommended_value, evidence
                       from ads.optimization_recommendations order by platform, entity_id, recommendation_type`)
      ).rows;
      const anomalies = (
        await c.query(`select platform, entity_id, metric_name, anomaly_type, day::text, deviation_percent, severity::text
                       from ads.anomalies order by platform, entity_id, metric_name`)
      ).rows;
      const p = PLANTED.cpa_doubled;
      const cpa =
        p.tenantId === t.id
          ? (await c.query(`select performance_rating from ads_engine.analyze_campaign_performance($1, $2, $3, 7, $4::date) where metric_name = 'CPA'`, [t.id, p.campaignId, p.platform, AS_OF])).rows[0].performance_rating
          : null;
      return { recommendations, anomalies, second, cpaRating: cpa } as Found;
    });
    found.set(t.id, f);
  }
});

const plantedIds = new Set(Object.values(PLANTED).map((p) => `${p.tenantId}|${p.platform}|${p.campaignId}`));

describe('the engine on the planted demo data', () => {
  it('finds the doubled CPA: a CPA spike yesterday, a Poor or Critical CPA, and a budget cut', () => {
    const p = PLANTED.cpa_doubled;
    const f = found.get(p.tenantId)!;
    const mine = f.anomalies.filter((a) => a.entity_id === p.campaignId);
    expect(mine).toContainEqual(expect.objectContaining({ metric_name: 'cpa', anomaly_type: 'spike', day: AS_OF }));
    const cpa = mine.find((a) => a.metric_name === 'cpa')!;
    // About twice the usual CPA (the seed halves the conversion rate).
    expect(Number(cpa.deviation_percent)).toBeGreaterThan((PLANTED_EXPECT.cpaDoubled.cpaRatio - 1) * 100 * 0.5);
    expect(['Poor', 'Critical']).toContain(f.cpaRating);
    expect(f.recommendations.filter((r) => r.entity_id === p.campaignId).map((r) => r.recommendation_type)).toEqual(['budget_decrease']);
  });

  it('finds the spend spike: spend about 3.5x its usual weekday, critical', () => {
    const p = PLANTED.spend_spike;
    const spike = found.get(p.tenantId)!.anomalies.find((a) => a.entity_id === p.campaignId && a.metric_name === 'spend');
    expect(spike).toMatchObject({ anomaly_type: 'spike', day: AS_OF, severity: 'critical' });
    const expected = (PLANTED_EXPECT.spendSpike.spendRatio - 1) * 100;
    expect(Number(spike!.deviation_percent)).toBeGreaterThan(expected * 0.8);
    expect(Number(spike!.deviation_percent)).toBeLessThan(expected * 1.2);
  });

  it('finds the tracking drop as tracking_loss, and gives no budget advice on broken data', () => {
    const p = PLANTED.tracking_drop;
    const f = found.get(p.tenantId)!;
    const mine = f.anomalies.filter((a) => a.entity_id === p.campaignId);
    expect(mine).toEqual([expect.objectContaining({ metric_name: 'conversions', anomaly_type: 'tracking_loss', day: AS_OF, severity: 'critical' })]);
    expect(f.recommendations.filter((r) => r.entity_id === p.campaignId)).toEqual([]);
  });

  it('finds the capped winner: a budget increase above its capped budget', () => {
    const p = PLANTED.budget_capped_winner;
    const rec = found.get(p.tenantId)!.recommendations.find((r) => r.entity_id === p.campaignId);
    expect(rec).toMatchObject({ recommendation_type: 'budget_increase' });
    expect(Number(rec!.current_value)).toBe(PLANTED_EXPECT.budgetCappedWinner.dailyBudget);
    expect(Number(rec!.recommended_value)).toBeGreaterThan(PLANTED_EXPECT.budgetCappedWinner.dailyBudget);
    expect(rec!.evidence.capped_days_7d).toBeGreaterThanOrEqual(5);
    expect(rec!.evidence.target_roas).toBe(PLANTED_EXPECT.budgetCappedWinner.targetRoas);
  });

  it('raises nothing on the steady campaigns of any demo tenant', () => {
    for (const t of DEMO_TENANTS) {
      const f = found.get(t.id)!;
      const steadyAnomalies = f.anomalies.filter((a) => !plantedIds.has(`${t.id}|${a.platform}|${a.entity_id}`));
      const steadyRecs = f.recommendations.filter((r) => !plantedIds.has(`${t.id}|${r.platform}|${r.entity_id}`));
      expect(steadyAnomalies, `${t.name}: anomalies on steady campaigns`).toEqual([]);
      expect(steadyRecs, `${t.name}: recommendations on steady campaigns`).toEqual([]);
    }
  });

  it('a second run of the loop creates nothing new', () => {
    for (const t of DEMO_TENANTS) {
      expect(found.get(t.id)!.second).toMatchObject({ recommendations: 0, anomalies: 0 });
    }
  });
});
