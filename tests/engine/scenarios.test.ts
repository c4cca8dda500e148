// The engine on the demo data set (db/seed), whose noise is that of real
// accounts (over-dispersed counts, varied baskets, nothing redrawn: see
// tests/seed/noise.test.ts). The daily loop runs for each of the last
// EXAMINED days, as a tenant's data would arrive; it must find every planted
// situation (by type and entity) and keep within the false-alarm budget on
// the steady campaigns: at most 1 unfavourable anomaly per 100 campaign-days
// (and per 100 ad-set-days), at most 1 recommendation per 100 steady
// campaigns a day, and never a pause or a budget cut on a steady campaign.
// The loop runs in transactions that are rolled back, so the seeded data
// stays as the seed left it.
import type pg from 'pg';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { tenantLayouts } from '../../db/seed/layout';
import { DEMO_TENANTS, PLANTED, PLANTED_EXPECT, QUIET, seedDemo, type PlantedSituation } from '../../db/seed/seed';
import { appPool, rollback, setTenant } from '../helpers/db';
import { addDays } from './fixtures';

const TODAY = '2025-04-01';
const AS_OF = addDays(TODAY, -1);
/** As-of days the loop runs for, oldest first: the last week (a Tuesday .. a Monday, a weekend inside). */
const EXAMINED = 7;
const AS_OF_DAYS = Array.from({ length: EXAMINED }, (_, k) => addDays(AS_OF, k - EXAMINED + 1));
const FIRST_EXAMINED = AS_OF_DAYS[0]!;

let app: pg.Pool;

interface Recommendation {
  platform: string;
  level: string;
  entity_id: string;
  campaign_id: string | null;
  recommendation_type: string;
  status: string;
  current_value: string | null;
  recommended_value: string | null;
  evidence: Record<string, unknown>;
}
interface Anomaly {
  platform: string;
  level: string;
  entity_id: string;
  campaign_id: string | null;
  metric_name: string;
  anomaly_type: string;
  day: string;
  deviation_percent: string | null;
  severity: string;
  details: Record<string, unknown>;
}
interface Found {
  recommendations: Recommendation[];
  anomalies: Anomaly[];
  second: { recommendations: number; anomalies: number };
  cpaRating: string | null;
}

const found = new Map<string, Found>();

beforeAll(async () => {
  app = appPool();
  // The loop's own findings on the demo's metrics: without the seed's history of past decisions.
  await seedDemo({ ownerUrl: inject('ownerUrl'), appUrl: inject('appUrl'), today: TODAY, decisions: false });
  for (const t of DEMO_TENANTS) {
    const f = await rollback(app, async (c) => {
      await setTenant(c, t.id);
      for (const day of AS_OF_DAYS) await c.query(`select ads_engine.run_daily_loop($1, $2::date, 'cli')`, [t.id, day]);
      const second = (await c.query(`select ads_engine.run_daily_loop($1, $2::date, 'cli') as s`, [t.id, AS_OF])).rows[0].s;
      const recommendations = (
        await c.query(`select platform::text, level::text, entity_id, campaign_id, recommendation_type, status, current_value, recommended_value, evidence
                       from ads.optimization_recommendations order by platform, level, entity_id, recommendation_type`)
      ).rows;
      const anomalies = (
        await c.query(`select platform::text, level::text, entity_id, campaign_id, metric_name, anomaly_type, day::text, deviation_percent, severity::text, details
                       from ads.anomalies order by platform, level, entity_id, metric_name, day`)
      ).rows;
      const p = PLANTED.cpa_doubled;
      const cpa =
        p.tenantId === t.id
          ? (await c.query(`select performance_rating from ads_engine.analyze_campaign_performance($1, $2, $3, 7, $4::date) where metric_name = 'CPA'`, [t.id, p.campaignId, p.platform, AS_OF])).rows[0].performance_rating
          : null;
      return { recommendations, anomalies, second, cpaRating: cpa } as Found;
    });
    found.set(t.id, f);
    const days = (xs: readonly { day: string }[]) => [...new Set(xs.map((x) => x.day))].sort().join(' ');
    console.info(`${t.name}: ${f.anomalies.length} anomalies (days ${days(f.anomalies)}), ${f.recommendations.length} recommendations`);
  }
}, 900_000);

/** Metrics whose fall is bad news; for the others (spend, cpa, cpc, cpm) a rise is. */
const BAD_WHEN_LOWER = new Set(['conversions', 'conversion_value', 'roas', 'clicks', 'impressions', 'ctr', 'conversion_rate']);

/** Whether an anomaly reports a change for the worse (a tracking loss always is). */
function unfavourable(a: Anomaly): boolean {
  if (a.anomaly_type === 'tracking_loss') return true;
  // the engine says so (details.direction is that of the count it tested, e.g. conversions for a cpa anomaly)
  if (typeof a.details.favourable === 'boolean') return !a.details.favourable;
  const d = a.details.direction;
  const lower = d === 'lower' ? true : d === 'upper' ? false : a.anomaly_type === 'drop' ? true : a.anomaly_type === 'spike' ? false : null;
  if (lower === null) return true; // direction unknown: counted against the engine
  return BAD_WHEN_LOWER.has(a.metric_name) === lower;
}

/** Rows about a campaign: its own, its ad sets'. */
const about = <R extends { entity_id: string; campaign_id: string | null }>(rows: readonly R[], campaignId: string, adsetIds: readonly string[]) =>
  rows.filter((r) => r.entity_id === campaignId || r.campaign_id === campaignId || adsetIds.includes(r.entity_id));
const inWindow = (a: Anomaly, p: PlantedSituation) => p.daysAgo.includes(daysBefore(TODAY, a.day));
const daysBefore = (today: string, day: string) => Math.round((Date.parse(today) - Date.parse(day)) / 86_400_000);
const CONVERSION_METRICS = new Set(['conversions', 'conversion_value', 'cpa', 'roas', 'conversion_rate']);

/** The evidence contract (docs/engine.md): a p-value under the run's BH cut. */
function expectSoundEvidence(r: Recommendation) {
  expect(typeof r.evidence.p_value, `${r.recommendation_type} ${r.entity_id}: evidence.p_value`).toBe('number');
  expect(r.evidence.p_value as number).toBeLessThanOrEqual(r.evidence.p_threshold as number);
}

describe('the engine finds what is planted in the demo data', () => {
  it('the doubled CPA: an unfavourable conversion/CPA/ROAS anomaly this week, a Poor or Critical CPA, a cut or bid advice', () => {
    const p = PLANTED.cpa_doubled;
    const f = found.get(p.tenantId)!;
    const anomalies = about(f.anomalies, p.campaignId, p.adsetIds).filter((a) => inWindow(a, p) && CONVERSION_METRICS.has(a.metric_name) && unfavourable(a));
    expect(anomalies.length, 'unfavourable conversion anomalies in the last 7 days').toBeGreaterThan(0);
    expect(['Poor', 'Critical']).toContain(f.cpaRating);
    const recs = about(f.recommendations, p.campaignId, p.adsetIds);
    const acting = recs.filter((r) => ['budget_decrease', 'bid_adjustment', 'pause'].includes(r.recommendation_type));
    expect(acting.map((r) => r.recommendation_type), 'recommendations').not.toEqual([]);
    acting.forEach(expectSoundEvidence);
    expect(recs.map((r) => r.recommendation_type)).not.toContain('budget_increase');
  });

  it('the spend spike: a spend anomaly yesterday on the campaign, about 3.5x its usual weekday, high or critical', () => {
    const p = PLANTED.spend_spike;
    const spike = found.get(p.tenantId)!.anomalies.find((a) => a.level === 'campaign' && a.entity_id === p.campaignId && a.metric_name === 'spend' && a.day === AS_OF);
    expect(spike, 'spend anomaly yesterday').toBeDefined();
    expect(unfavourable(spike!)).toBe(true);
    expect(['high', 'critical']).toContain(spike!.severity);
    const expected = (PLANTED_EXPECT.spendSpike.spendRatio - 1) * 100;
    expect(Number(spike!.deviation_percent)).toBeGreaterThan(expected * 0.75);
    expect(Number(spike!.deviation_percent)).toBeLessThan(expected * 1.25);
  });

  it('the tracking drop: a tracking loss (or conversions drop) on its two days, and no budget or bid advice on broken data', () => {
    const p = PLANTED.tracking_drop;
    const f = found.get(p.tenantId)!;
    const mine = about(f.anomalies, p.campaignId, p.adsetIds).filter((a) => inWindow(a, p));
    expect(
      mine.filter((a) => a.anomaly_type === 'tracking_loss' || (a.metric_name === 'conversions' && unfavourable(a))),
      'tracking loss anomalies',
    ).not.toEqual([]);
    // Suspected tracking holds advice back for two or three days; a pause may only come naming tracking.
    for (const r of about(f.recommendations, p.campaignId, p.adsetIds)) {
      expect(r.recommendation_type, JSON.stringify(r)).toBe('pause');
      expect(JSON.stringify(r.evidence)).toMatch(/tracking/i);
    }
  });

  it('the capped winner: a budget increase above its capped budget', () => {
    const p = PLANTED.budget_capped_winner;
    const recs = found.get(p.tenantId)!.recommendations.filter((r) => r.level === 'campaign' && r.entity_id === p.campaignId);
    const rec = recs.find((r) => r.recommendation_type === 'budget_increase');
    expect(rec, JSON.stringify(recs)).toBeDefined();
    expect(Number(rec!.current_value)).toBe(PLANTED_EXPECT.budgetCappedWinner.dailyBudget);
    expect(Number(rec!.recommended_value)).toBeGreaterThan(PLANTED_EXPECT.budgetCappedWinner.dailyBudget);
    expectSoundEvidence(rec!);
    expect(recs.map((r) => r.recommendation_type)).not.toContain('budget_decrease');
  });

  it('the ad set spending with zero conversions for a week: an ad-set pause and an unfavourable anomaly on it, nothing drastic on its campaign', () => {
    const p = PLANTED.adset_zero_conversions;
    const f = found.get(p.tenantId)!;
    const zero = p.affectedAdsetIds[0]!;
    const anomalies = f.anomalies.filter((a) => a.level === 'adset' && a.entity_id === zero && inWindow(a, p) && unfavourable(a));
    expect(anomalies.length, 'unfavourable anomalies on the ad set').toBeGreaterThan(0);
    const pause = f.recommendations.find((r) => r.level === 'adset' && r.entity_id === zero && r.recommendation_type === 'pause');
    expect(pause, JSON.stringify(f.recommendations.filter((r) => r.entity_id === zero))).toBeDefined();
    expectSoundEvidence(pause!);
    // The campaign is healthy: its problem is the ad set's, named there.
    const campaignRecs = f.recommendations.filter((r) => r.level === 'campaign' && r.entity_id === p.campaignId);
    expect(campaignRecs.map((r) => r.recommendation_type)).not.toContain('pause');
    expect(campaignRecs.map((r) => r.recommendation_type)).not.toContain('budget_decrease');
    // The other ad sets are steady.
    const others = p.adsetIds.filter((id) => id !== zero);
    expect(f.recommendations.filter((r) => others.includes(r.entity_id) && ['pause', 'budget_decrease'].includes(r.recommendation_type))).toEqual([]);
  });
});

describe('the engine stays quiet on steady campaigns', () => {
  const planted = Object.values(PLANTED);
  const isPlanted = (tenantId: string, campaignId: string | null) => planted.some((p) => p.tenantId === tenantId && p.campaignId === campaignId);

  /** Steady rows of a tenant: about a campaign nothing is planted in (platform-wide incidents included: none is planted). */
  function steadyRows(tenantId: string) {
    const f = found.get(tenantId)!;
    const campaignOf = (r: { level: string; entity_id: string; campaign_id: string | null }) => (r.level === 'campaign' ? r.entity_id : r.campaign_id);
    return {
      anomalies: f.anomalies.filter((a) => !isPlanted(tenantId, campaignOf(a)) && a.day >= FIRST_EXAMINED),
      recommendations: f.recommendations.filter((r) => !isPlanted(tenantId, campaignOf(r))),
    };
  }

  it('the LinkedIn B2B campaign without weekend conversions: no anomaly, no advice but timing', () => {
    const q = QUIET.b2b_no_weekend;
    const f = found.get(q.tenantId)!;
    expect(about(f.anomalies, q.campaignId, q.adsetIds)).toEqual([]);
    // Spending at the weekend with nothing converting is worth a timing hint; nothing else is.
    expect(about(f.recommendations, q.campaignId, q.adsetIds).filter((r) => r.recommendation_type !== 'timing')).toEqual([]);
  });

  it('at most 1 unfavourable anomaly per 100 campaign-days and per 100 ad-set-days over the days examined', () => {
    let campaigns = 0;
    let adsets = 0;
    const atCampaign: Anomaly[] = [];
    const atAdset: Anomaly[] = [];
    for (const t of DEMO_TENANTS) {
      const rows = steadyRows(t.id).anomalies.filter(unfavourable);
      atCampaign.push(...rows.filter((a) => a.level !== 'adset'));
      atAdset.push(...rows.filter((a) => a.level === 'adset'));
      const counts = steadyCounts(t.id);
      campaigns += counts.campaigns;
      adsets += counts.adsets;
    }
    const campaignDays = campaigns * EXAMINED;
    const adsetDays = adsets * EXAMINED;
    const show = (xs: Anomaly[]) => xs.map((a) => `${a.platform} ${a.level} ${a.entity_id} ${a.day} ${a.metric_name} ${a.anomaly_type}`).join('\n');
    expect(atCampaign.length, `${atCampaign.length} in ${campaignDays} steady campaign-days:\n${show(atCampaign)}`).toBeLessThanOrEqual(Math.floor(campaignDays / 100));
    expect(atAdset.length, `${atAdset.length} in ${adsetDays} steady ad-set-days:\n${show(atAdset)}`).toBeLessThanOrEqual(Math.floor(adsetDays / 100));
  });

  it('no pause and no budget cut on a steady campaign or ad set, and at most 1 recommendation per 100 steady campaigns a day', () => {
    let campaigns = 0;
    const recs: (Recommendation & { tenant: string })[] = [];
    for (const t of DEMO_TENANTS) {
      campaigns += steadyCounts(t.id).campaigns;
      const q = QUIET.b2b_no_weekend;
      recs.push(
        ...steadyRows(t.id)
          .recommendations.filter((r) => !(t.id === q.tenantId && r.recommendation_type === 'timing' && about([r], q.campaignId, q.adsetIds).length > 0))
          .map((r) => ({ ...r, tenant: t.name })),
      );
    }
    const show = recs.map((r) => `${r.tenant} ${r.platform} ${r.level} ${r.entity_id} ${r.recommendation_type} ${r.status}`).join('\n');
    expect(recs.filter((r) => r.recommendation_type === 'pause' || r.recommendation_type === 'budget_decrease'), show).toEqual([]);
    expect(recs.length, `${recs.length} recommendations on ${campaigns} steady campaigns over ${EXAMINED} days:\n${show}`).toBeLessThanOrEqual(
      Math.floor((campaigns * EXAMINED) / 100),
    );
  });

  it('a second run of the loop creates nothing new', () => {
    for (const t of DEMO_TENANTS) {
      expect(found.get(t.id)!.second).toMatchObject({ recommendations: 0, anomalies: 0 });
    }
  });
});

/** Steady campaigns and ad sets of a demo tenant (nothing planted), from the seed's layout (pure, no database). */
function steadyCounts(tenantId: string): { campaigns: number; adsets: number } {
  const tenant = DEMO_TENANTS.find((t) => t.id === tenantId)!;
  const steady = tenantLayouts(tenant).filter((l) => l.def.planted === undefined);
  return { campaigns: steady.length, adsets: steady.reduce((n, l) => n + l.adsets.length, 0) };
}
