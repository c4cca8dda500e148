// The optimization score (lib/recommendations/score.ts) on a fixture worked
// out by hand, then read from the database (score-data.ts) for a tenant whose
// rows give the same figures, with what must not count around it: a day
// outside the window, an expired and a dismissed recommendation, a campaign
// without spend, and another tenant's recommendations on the same ids.
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { scoreFor } from '@/lib/recommendations/score-data';
import { attainable, joint, optimizationScore, type ScoreCampaign, type ScoreRecommendation } from '@/lib/recommendations/score';
import { addDays, insertMetrics } from '../engine/fixtures';
import { appKysely, rolledBackAsApp } from '../helpers/app-db';
import { createTenant, ownerPool } from '../helpers/db';

// A 1000, B 500, C 500 spent over the 7 days (2000 in all); value A 1000, B 2000, C none.
// A budget increase's money is value gained, a part of the value; the others' a part of the spend.
//  A: pause, confidence 0.8, 500 a week     -> r = 0.8 x 500 / 1000 = 0.40 (lower)
//     bid,   confidence 0.5, 200 a week     -> r = 0.10 (neutral)
//     raise, confidence 0.9, 100 a week     -> r = 0.9 x 100 / 1000 (value) = 0.09 (raise: conflicts with the pause)
//     raise side: 1 - 0.91 x 0.90 = 0.181; lower side: 1 - 0.60 x 0.90 = 0.46; F_A = 0.46
//  B: creative, confidence 0.6, 250 a week  -> r = 0.30; F_B = 0.30
//  C: nothing; D: a recommendation but no spend in the window (not counted)
//  account: 1 - (1000 x 0.46 + 500 x 0.30) / 2000 = 1 - 610 / 2000 = 0.695
//  uplifts, what approving each alone adds (F_A with it minus F_A without it):
//     pause: without it max(0.181, 0.10) = 0.181: 1000 x (0.46 - 0.181) / 2000 = 0.1395;
//     bid: without it max(0.09, 0.40) = 0.40: 1000 x 0.06 / 2000 = 0.03;
//     raise: without it still 0.46: 0 (the pause's plan is the larger); creative 500 x 0.30 / 2000 = 0.075
const CAMPAIGNS: ScoreCampaign[] = [
  { platform: 'meta', campaignId: 'A', name: 'A', spend7: 1000, value7: 1000 },
  { platform: 'meta', campaignId: 'B', name: 'B', spend7: 500, value7: 2000 },
  { platform: 'google', campaignId: 'C', name: 'C', spend7: 500, value7: 0 },
];
const RECS: ScoreRecommendation[] = [
  { id: 'pause', type: 'pause', platform: 'meta', campaignId: 'A', moneyPerWeek: 500, confidence: 0.8 },
  { id: 'bid', type: 'bid_adjustment', platform: 'meta', campaignId: 'A', moneyPerWeek: 200, confidence: 0.5 },
  { id: 'raise', type: 'budget_increase', platform: 'meta', campaignId: 'A', moneyPerWeek: 100, confidence: 0.9, moneyOf: 'value' },
  { id: 'creative', type: 'creative', platform: 'meta', campaignId: 'B', moneyPerWeek: 250, confidence: 0.6 },
  { id: 'nospend', type: 'creative', platform: 'meta', campaignId: 'D', moneyPerWeek: 250, confidence: 0.6 },
];

describe('the model', () => {
  it('joint shares: never above 1, order free, 0 for none', () => {
    expect(joint([])).toBe(0);
    expect(joint([0.4, 0.1])).toBeCloseTo(0.46, 12);
    expect(joint([0.1, 0.4])).toBeCloseTo(0.46, 12);
    expect(joint([1, 0.5])).toBe(1);
    expect(joint([2, Number.NaN, -1])).toBe(1);
    expect(attainable([{ side: 'raise', share: 0.09 }, { side: 'lower', share: 0.4 }, { side: 'neutral', share: 0.1 }])).toBeCloseTo(0.46, 12);
  });

  it('the account, its campaigns and each uplift, as worked out by hand', () => {
    const s = optimizationScore(CAMPAIGNS, RECS);
    expect(s.account).toBeCloseTo(0.695, 12);
    expect(s.spend7).toBe(2000);
    expect(s.campaigns.map((c) => [c.campaignId, Number(c.score.toFixed(12)), c.pending])).toEqual([
      ['A', 0.54, 3],
      ['B', 0.7, 1],
    ]);
    const u = Object.fromEntries([...s.uplift].map(([k, v]) => [k, Number(v.toFixed(12))]));
    expect(u).toEqual({ pause: 0.1395, bid: 0.03, raise: 0, creative: 0.075, nospend: 0 });
    // a joint estimate: the uplifts (0.2445) add up to less than the gap (0.305)
    expect(Object.values(u).reduce((a, b) => a + b, 0)).toBeLessThan(1 - 0.695);
    // and an uplift is exactly what approving it does to the score
    const without = (id: string) => optimizationScore(CAMPAIGNS, RECS.filter((r) => r.id !== id)).account!;
    for (const id of ['pause', 'bid', 'raise', 'creative']) expect(without(id) - s.account!, id).toBeCloseTo(u[id]!, 12);
  });

  it('100 % with nothing pending; nothing to score without spend; a share is capped at the whole week', () => {
    expect(optimizationScore(CAMPAIGNS, []).account).toBe(1);
    expect(optimizationScore([], RECS).account).toBeNull();
    const big = optimizationScore([{ platform: 'meta', campaignId: 'A', name: null, spend7: 100, value7: 0 }], [
      { id: 'x', type: 'pause', platform: 'meta', campaignId: 'A', moneyPerWeek: 1e9, confidence: 1 },
    ]);
    expect(big.account).toBe(0);
    expect(big.uplift.get('x')).toBe(1);
    // a raise brings value: its share is of the campaign's value (here 0.98 x 10240 / 34270), of its spend only without value
    const gain = (value7: number) =>
      optimizationScore([{ platform: 'meta', campaignId: 'P', name: null, spend7: 8328, value7 }], [
        { id: 'r', type: 'budget_increase', platform: 'meta', campaignId: 'P', moneyPerWeek: 10240, confidence: 0.98, moneyOf: 'value' },
      ]).account!;
    expect(gain(34270)).toBeCloseTo(1 - (0.98 * 10240) / 34270, 12);
    expect(gain(0)).toBe(0);
    // garbage from the evidence counts as nothing, never NaN
    const bad = optimizationScore(CAMPAIGNS, [{ id: 'y', type: 'pause', platform: 'meta', campaignId: 'A', moneyPerWeek: Number.NaN, confidence: Number.POSITIVE_INFINITY }]);
    expect(bad.account).toBe(1);
  });
});

describe('read from the database', () => {
  const app = appKysely(2);
  const owner = ownerPool();

  it('gives the hand-worked figures; outside the window, expired, dismissed and another tenant do not count', async () => {
    const tenant = await createTenant(owner, 'Score');
    const other = await createTenant(owner, 'Score, other tenant');
    const s = await rolledBackAsApp(app.db, tenant, async (trx) => {
      const { rows } = await sql<{ y: string }>`select to_char(ads_engine.tenant_yesterday(${tenant}::uuid), 'YYYY-MM-DD') as y`.execute(trx);
      const y = rows[0]!.y;
      const days = Array.from({ length: 7 }, (_, i) => addDays(y, -i));
      // 7 days summing to the week: the first day carries the remainder (the column has cents)
      const spread = (week: number, i: number) => (i === 0 ? week - 6 * Math.floor(week / 7) : Math.floor(week / 7));
      const metric = (platform: string, id: string, week: number, value: number) =>
        days.map((day, i) => ({ platform, id, day, spend: spread(week, i), value: spread(value, i) }));
      await insertViaTrx(trx, tenant, [
        ...metric('meta', 'A', 1000, 1000),
        ...metric('meta', 'B', 500, 2000),
        ...metric('google', 'C', 500, 0),
        // the day before the window, and an ad set's rows (its campaign's spend is the campaign row's)
        { platform: 'meta', id: 'A', day: addDays(y, -7), spend: 99999 },
        { platform: 'meta', level: 'adset', id: 'A-1', day: y, spend: 5000 },
      ]);
      const rec = (
        type: string,
        entity: string,
        money: number,
        confidence: number,
        extra: { level?: string; campaign?: string; status?: string; expires?: string; unit?: string } = {},
      ) =>
        sql`insert into ads.optimization_recommendations
              (tenant_id, platform, level, entity_id, campaign_id, recommendation_type, description, confidence_score, status, expires_at, evidence, impact_unit)
            values (${tenant}::uuid, ${entity === 'C' ? 'google' : 'meta'}, ${extra.level ?? 'campaign'}, ${entity}, ${extra.campaign ?? entity}, ${type}, 'test',
                    ${confidence}, ${extra.status ?? 'pending'}, now() + ${extra.expires ?? '7 days'}::interval, jsonb_build_object('money_per_week', ${money}::numeric), ${extra.unit ?? null})`.execute(trx);
      await rec('pause', 'A', 500, 0.8);
      // an ad set's recommendation acts on its campaign's week
      await rec('bid_adjustment', 'A-1', 200, 0.5, { level: 'adset', campaign: 'A' });
      await rec('budget_increase', 'A', 100, 0.9, { unit: 'value_per_week' });
      await rec('creative', 'B', 250, 0.6);
      await rec('creative', 'D', 250, 0.6);
      await rec('audience', 'C', 400, 0.9, { expires: '-1 hour' });
      await rec('timing', 'C', 400, 0.9, { status: 'dismissed' });
      return scoreFor(trx, tenant);
    });
    expect(s.spend7).toBeCloseTo(2000, 6);
    expect(s.account).toBeCloseTo(0.695, 6);
    expect(s.campaigns.map((c) => [c.platform, c.campaignId, Number(c.score.toFixed(6))])).toEqual([
      ['meta', 'A', 0.54],
      ['meta', 'B', 0.7],
    ]);
    expect([...s.uplift.values()].map((v) => Number(v.toFixed(6))).sort((a, b) => a - b)).toEqual([0, 0, 0.03, 0.075, 0.1395]);

    // The other tenant, with spend on the same campaign id, sees none of the first tenant's recommendations.
    const o = await rolledBackAsApp(app.db, other, async (trx) => {
      const { rows } = await sql<{ y: string }>`select to_char(ads_engine.tenant_yesterday(${other}::uuid), 'YYYY-MM-DD') as y`.execute(trx);
      await insertViaTrx(trx, other, [{ platform: 'meta', id: 'A', day: rows[0]!.y, spend: 100 }]);
      return scoreFor(trx, other);
    });
    expect(o).toMatchObject({ account: 1, spend7: 100, campaigns: [] });
  });
});

describe('campaigns loaded as ad sets, impacts written by hand', () => {
  const app = appKysely(2);
  const owner = ownerPool();
  it('a campaign with only ad-set rows is their sum; a recommendation without money_per_week counts its impact in money', async () => {
    const tenant = await createTenant(owner, 'Score, ad sets');
    const s = await rolledBackAsApp(app.db, tenant, async (trx) => {
      const { rows } = await sql<{ y: string }>`select to_char(ads_engine.tenant_yesterday(${tenant}::uuid), 'YYYY-MM-DD') as y`.execute(trx);
      const y = rows[0]!.y;
      // E: two ad sets of 50 a day each (700 a week), no campaign row; F: its own rows (100 a day) and an ad set's (not added)
      const days = Array.from({ length: 7 }, (_, i) => addDays(y, -i));
      for (const day of days) {
        for (const [level, id, campaign, spend] of [['adset', 'E-1', 'E', 50], ['adset', 'E-2', 'E', 50], ['campaign', 'F', null, 100], ['adset', 'F-1', 'F', 60]] as const) {
          await sql`insert into ads.metrics_daily (tenant_id, platform, level, platform_id, campaign_id, day, spend)
                    values (${tenant}::uuid, 'meta', ${level}, ${id}, ${campaign}, ${day}::date, ${spend})`.execute(trx);
        }
      }
      // a pause of E written by hand: no evidence, 350 of spend saved a week, confidence 1 -> a share of 350 / 700 = 0.5
      await sql`insert into ads.optimization_recommendations (tenant_id, platform, level, entity_id, campaign_id, recommendation_type, description,
                  confidence_score, estimated_impact, impact_unit)
                values (${tenant}::uuid, 'meta', 'campaign', 'E', 'E', 'pause', 'pause E', 1, 350, 'spend_saved_per_week')`.execute(trx);
      return scoreFor(trx, tenant);
    });
    // account: 1 - 700 x 0.5 / (700 + 700) = 0.75
    expect(s.spend7).toBe(1400);
    expect(s.account).toBeCloseTo(0.75, 12);
    expect(s.campaigns.map((c) => [c.campaignId, c.spend7, c.score])).toEqual([['E', 700, 0.5]]);
  });
});

/** insertMetrics of the engine fixtures, through the Kysely transaction. */
async function insertViaTrx(trx: Parameters<typeof scoreFor>[0], tenant: string, rows: Parameters<typeof insertMetrics>[2]): Promise<void> {
  for (const r of rows) {
    await sql`insert into ads.metrics_daily (tenant_id, platform, level, platform_id, day, entity_name, spend, conversion_value)
              values (${tenant}::uuid, ${r.platform ?? 'meta'}, ${r.level ?? 'campaign'}, ${r.id}, ${r.day}::date, ${`Campaign ${r.id}`}, ${r.spend ?? 0}, ${r.value ?? 0})`.execute(trx);
  }
}
