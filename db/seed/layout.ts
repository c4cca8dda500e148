// Campaign layout: ids, names, cost per conversion and ad sets with their
// shares. Cheap and pure, so planted.ts can name the planted campaigns
// without generating any data.

import {
  CAMPAIGNS,
  TYPE_PROFILES,
  adsetPlatformId,
  campaignName,
  campaignPlatformId,
  FIFTH_ADSET_NAME,
  type CampaignDef,
  type DemoTenant,
  type TypeProfile,
} from './catalog';
import { Rng } from './random';

export interface AdsetLayout {
  id: string;
  name: string;
  share: number;
}

export interface CampaignLayout {
  tenant: DemoTenant;
  def: CampaignDef;
  index: number;
  id: string;
  name: string;
  profile: TypeProfile;
  /** Expected conversions per day at today's level. */
  conversions: number;
  cpa: number;
  adsets: AdsetLayout[];
}

/** Ad sets per campaign: 3 to 5, four on average. */
const MIN_ADSETS = 3;
const MAX_ADSETS = 5;

export function campaignLayout(tenant: DemoTenant, def: CampaignDef, index: number): CampaignLayout {
  const profile = TYPE_PROFILES[tenant.vertical][def.type];
  if (!profile) throw new Error(`unknown campaign type ${def.type} for ${tenant.vertical}`);
  const id = campaignPlatformId(def.platform, tenant.no, index + 1);
  const rng = Rng.stream(`${tenant.id}|${id}|layout`);
  const cpa = profile.cpa * rng.uniform(0.9, 1.12);
  let conversions = def.conversions;
  if (def.planted === 'budget_capped_winner') {
    if (def.dailyBudget === undefined) throw new Error('budget_capped_winner needs dailyBudget');
    conversions = (def.dailyBudget * 0.992) / cpa;
  }
  // Ad sets differ in size: the largest is up to three times the smallest.
  const n = rng.int(MIN_ADSETS, MAX_ADSETS);
  const weights = Array.from({ length: n }, () => rng.uniform(0.6, 1.8));
  if (def.zeroAdsetSpend !== undefined) {
    // The ad set that stops converting spends zeroAdsetSpend a day: the last one, sized so.
    const share = def.zeroAdsetSpend / (conversions * cpa);
    if (!(share > 0 && share < 0.5)) throw new Error(`${def.label}: an ad set of ${def.zeroAdsetSpend} a day does not fit`);
    const rest = weights.slice(0, n - 1).reduce((a, b) => a + b, 0);
    weights[n - 1] = (share * rest) / (1 - share);
  }
  const total = weights.reduce((a, b) => a + b, 0);
  const adsets = weights.map((w, a) => ({
    id: adsetPlatformId(id, a + 1),
    name: profile.adsets[a] ?? FIFTH_ADSET_NAME,
    share: w / total,
  }));
  return { tenant, def, index, id, name: campaignName(tenant, def), profile, conversions, cpa, adsets };
}

export function tenantLayouts(tenant: DemoTenant): CampaignLayout[] {
  return CAMPAIGNS[tenant.vertical].map((def, i) => campaignLayout(tenant, def, i));
}
