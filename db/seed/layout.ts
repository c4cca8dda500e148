// Campaign layout: ids, names, cost per conversion and ad sets with their
// shares, and the test-cell ad sets of the A/B tests measured in cells
// (catalog.ts). Cheap and pure, so planted.ts can name the planted campaigns
// without generating any data.

import {
  AB_TESTS,
  CAMPAIGNS,
  TYPE_PROFILES,
  adsetPlatformId,
  campaignName,
  campaignPlatformId,
  FIFTH_ADSET_NAME,
  type CampaignDef,
  type DemoTenant,
  type TypeProfile,
  type VariantDef,
} from './catalog';
import { HISTORY_DAYS } from './dates';
import { Rng } from './random';

export interface AdsetLayout {
  id: string;
  name: string;
  share: number;
}

/**
 * One arm of an A/B test measured in cells: an ad set of its own in the
 * campaign, a copy of the campaign's largest ad set (the base) with the
 * variant's rates. The base is paused from the test's first day to its last
 * and the two cells share its budget.
 */
export interface TestCellLayout {
  id: string;
  name: string;
  /** Index of the test in AB_TESTS[vertical]. */
  test: number;
  arm: 'A' | 'B';
  /** Index in adsets of the ad set it copies. */
  base: number;
  /** Its share of the base's budget (the planned share of B, or the rest). */
  share: number;
  variant: VariantDef;
  /** Days before today of its first and last day (1 = yesterday, for a test still running). */
  startDaysAgo: number;
  endDaysAgo: number;
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
  /** The cells of the campaign's A/B tests measured in cells, two per test (A, then B); numbered after the ad sets. */
  testCells: TestCellLayout[];
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
  const layout = { tenant, def, index, id, name: campaignName(tenant, def), profile, conversions, cpa, adsets, testCells: [] as TestCellLayout[] };
  layout.testCells = testCells(layout);
  return layout;
}

/**
 * The test cells of a campaign. Ids as the ad sets' (the campaign's id with
 * its last two digits the cell's number, after the ad sets'); names as
 * "<base ad set> | Test A: <variant>". Only a steady campaign carries cells:
 * the planted and the quiet ones are the engine's to judge as they are.
 */
function testCells(layout: CampaignLayout): TestCellLayout[] {
  const cells: TestCellLayout[] = [];
  AB_TESTS[layout.tenant.vertical].forEach((t, test) => {
    if (t.campaignIndex !== layout.index || t.measuredBy !== 'cells') return;
    if (layout.def.planted !== undefined || layout.def.b2b) throw new Error(`A/B test '${t.name}': its campaign ${layout.name} is planted or quiet`);
    if (cells.some((c) => !(t.startDaysAgo < c.endDaysAgo || (t.endDaysAgo ?? 1) > c.startDaysAgo))) {
      throw new Error(`A/B test '${t.name}': its cells overlap another test's in ${layout.name}`);
    }
    if (!(t.startDaysAgo <= HISTORY_DAYS && t.startDaysAgo > (t.endDaysAgo ?? 1))) throw new Error(`A/B test '${t.name}': its days are outside the history`);
    let base = 0;
    layout.adsets.forEach((a, k) => {
      if (a.share > (layout.adsets[base]?.share ?? 0)) base = k;
    });
    const baseName = layout.adsets[base]?.name ?? '';
    for (const arm of ['A', 'B'] as const) {
      cells.push({
        id: adsetPlatformId(layout.id, layout.adsets.length + cells.length + 1),
        name: `${baseName} | Test ${arm}: ${arm === 'A' ? t.variantA : t.variantB}`,
        test,
        arm,
        base,
        share: arm === 'A' ? 1 - t.plannedShareB : t.plannedShareB,
        variant: arm === 'A' ? t.a : t.b,
        startDaysAgo: t.startDaysAgo,
        endDaysAgo: t.endDaysAgo ?? 1,
      });
    }
  });
  return cells;
}

export function tenantLayouts(tenant: DemoTenant): CampaignLayout[] {
  return CAMPAIGNS[tenant.vertical].map((def, i) => campaignLayout(tenant, def, i));
}
