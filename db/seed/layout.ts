// Campaign layout: ids, names, cost per conversion and ad sets with their
// shares. Cheap and pure, so planted.ts can name the planted campaigns
// without generating any data.

import {
  CAMPAIGNS,
  TYPE_PROFILES,
  adsetPlatformId,
  campaignName,
  campaignPlatformId,
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

/** Smallest expected daily conversions per ad set: below it integer counts get too lumpy to look steady. */
const MIN_ADSET_CONVERSIONS = 12;

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
  const wanted = rng.int(2, 4);
  const weights = Array.from({ length: 4 }, () => rng.uniform(0.75, 1.25));
  let n = wanted;
  let shares: number[] = [];
  for (; n >= 2; n--) {
    const w = weights.slice(0, n);
    const total = w.reduce((a, b) => a + b, 0);
    shares = w.map((x) => x / total);
    if (n === 2 || Math.min(...shares) * conversions >= MIN_ADSET_CONVERSIONS) break;
  }
  const adsets = shares.map((share, a) => ({
    id: adsetPlatformId(id, a + 1),
    name: profile.adsets[a] ?? `Ad set ${a + 1}`,
    share,
  }));
  return { tenant, def, index, id, name: campaignName(tenant, def), profile, conversions, cpa, adsets };
}

export function tenantLayouts(tenant: DemoTenant): CampaignLayout[] {
  return CAMPAIGNS[tenant.vertical].map((def, i) => campaignLayout(tenant, def, i));
}
