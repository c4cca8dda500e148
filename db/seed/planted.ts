// The situations planted in the demo data for the optimisation engine to
// find, one campaign each, and PLANTED, the campaigns they are in; QUIET, the
// awkward-but-steady campaigns it must leave alone. Every planted change is a
// change of the true rate or level; the noise on top of it is drawn as on any
// other day (series.ts), so the realised size varies around the planted one.
// Tests look them up here rather than by name.

import { CAMPAIGNS, DEMO_TENANTS, type CampaignDef, type DemoTenant, type Platform, type PlantedKind } from './catalog';
import { HISTORY_DAYS, LAST } from './dates';
import { tenantLayouts } from './layout';

/** Planted windows, as day indexes (LAST = yesterday). */
export const CPA_DOUBLED_FROM = HISTORY_DAYS - 7;
export const TRACKING_DROP_FROM = HISTORY_DAYS - 2;
export const ZERO_ADSET_FROM = HISTORY_DAYS - 7;
export const SPIKE_DAY = LAST;
export const SPEND_SPIKE_FACTOR = 3.5;
/** cpa_doubled: the true CPA of the last 7 days is CPA_FACTOR x before (the conversion rate is multiplied by CPA_CVR_FACTOR). */
export const CPA_FACTOR = 2;
export const CPA_CVR_FACTOR = 1 / CPA_FACTOR;

export interface PlantedSituation {
  readonly kind: PlantedKind;
  readonly tenantId: string;
  readonly tenantName: string;
  readonly platform: Platform;
  readonly campaignId: string;
  readonly campaignName: string;
  readonly adsetIds: readonly string[];
  /** The ad sets the situation is in (all of them, except for adset_zero_conversions). */
  readonly affectedAdsetIds: readonly string[];
  /** Days the situation shows on, counted back from today (1 = yesterday). */
  readonly daysAgo: readonly number[];
  readonly description: string;
}

function layoutWhere(tenant: DemoTenant, what: string, pick: (c: CampaignDef) => boolean) {
  const index = CAMPAIGNS[tenant.vertical].findIndex(pick);
  const layout = tenantLayouts(tenant)[index];
  if (!layout) throw new Error(`no campaign ${what} in ${tenant.name}`);
  return layout;
}

function situation(tenant: DemoTenant, kind: PlantedKind, daysAgo: readonly number[], description: string): PlantedSituation {
  const layout = layoutWhere(tenant, `planted with ${kind}`, (c) => c.planted === kind);
  const adsetIds = layout.adsets.map((a) => a.id);
  return {
    kind,
    tenantId: tenant.id,
    tenantName: tenant.name,
    platform: layout.def.platform,
    campaignId: layout.id,
    campaignName: layout.name,
    adsetIds,
    affectedAdsetIds: kind === 'adset_zero_conversions' ? adsetIds.slice(-1) : adsetIds,
    daysAgo,
    description,
  };
}

const [ECOMMERCE, LEAD_GEN] = [DEMO_TENANTS[0], DEMO_TENANTS[1]];
const ZERO_ADSET_SPEND = CAMPAIGNS.lead_generation.find((c) => c.planted === 'adset_zero_conversions')?.zeroAdsetSpend ?? 0;
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, k) => from + k);

/** Expected numbers, for tests. */
export const PLANTED_EXPECT = {
  /**
   * CPA of today-7..today-1 over CPA of today-37..today-8 (ratio of sums), and the same for spend per day:
   * the true ratios; the realised CPA ratio varies with the noise (about +-10 % at 1 sd: 24 conversions a day).
   */
  cpaDoubled: { cpaRatio: CPA_FACTOR, spendRatio: 1, minConversionsPerDay: 40 },
  /** Yesterday's campaign spend over the mean of the four previous same weekdays (today-8, -15, -22, -29). */
  spendSpike: { spendRatio: SPEND_SPIKE_FACTOR, impressionsFactor: 1.35, clicksFactor: 1.3 },
  /** Every day: campaign spend / daily_budget within [minUtilisation, maxUtilisation]. */
  budgetCappedWinner: { dailyBudget: 1200, targetRoas: 2.5, expectedRoas: 4.8, minUtilisation: 0.985, maxUtilisation: 0.998 },
  /** The ad set's usual spend a day, and its expected conversions over the 7 zero days at its earlier rate (about). */
  adsetZeroConversions: { dailySpend: 250, days: 7 },
} as const;

export const PLANTED: Readonly<Record<PlantedKind, PlantedSituation>> = {
  cpa_doubled: situation(
    ECOMMERCE,
    'cpa_doubled',
    range(1, 7),
    'From today-7 on the true conversion rate is halved at unchanged spend and delivery (48 conversions a day before, ' +
      'about 24 after): the true CPA doubles and ROAS halves; the realised 7-day CPA ratio carries the count noise.',
  ),
  spend_spike: situation(
    ECOMMERCE,
    'spend_spike',
    [1],
    `Yesterday spend is ${SPEND_SPIKE_FACTOR}x the mean of the four previous same weekdays (impressions x1.35 and ` +
      'clicks x1.3 of a normal day); conversions and conversion value are those of a normal day. ' +
      'Yesterday is also above the daily budget.',
  ),
  tracking_drop: situation(
    LEAD_GEN,
    'tracking_drop',
    [2, 1],
    'Conversions and conversion value are exactly 0 on today-2 and today-1 (campaign and every ad set), ' +
      'with normal spend, impressions and clicks; the campaign has about 44 conversions on a normal day.',
  ),
  adset_zero_conversions: situation(
    LEAD_GEN,
    'adset_zero_conversions',
    range(1, 7),
    `One ad set (the last) spends about ${ZERO_ADSET_SPEND} a day and has exactly 0 conversions from today-7 on ` +
      '(clicks go on), inside a healthy campaign of about 28 conversions a day: about 3.5 expected a day, 25 over the week.',
  ),
  budget_capped_winner: situation(
    ECOMMERCE,
    'budget_capped_winner',
    range(1, 120),
    'Every day spend is 98.5-99.8 % of its 1,200 EUR daily budget (budget_allocation) while true ROAS is 4.8 ' +
      'against a target_roas of 2.5 (budget_allocation) and above 1.5x the platform target_roas.',
  ),
};

export interface QuietCampaign {
  readonly tenantId: string;
  readonly platform: Platform;
  readonly campaignId: string;
  readonly campaignName: string;
  readonly adsetIds: readonly string[];
  readonly description: string;
}

/** Steady campaigns shaped to trip a naive detector; the engine must raise nothing on them. */
export const QUIET: Readonly<Record<'b2b_no_weekend', QuietCampaign>> = {
  b2b_no_weekend: (() => {
    const layout = layoutWhere(LEAD_GEN, 'marked b2b', (c) => c.b2b === true);
    return {
      tenantId: LEAD_GEN.id,
      platform: layout.def.platform,
      campaignId: layout.id,
      campaignName: layout.name,
      adsetIds: layout.adsets.map((a) => a.id),
      description: 'A LinkedIn B2B lead-form campaign: no conversion on any Saturday or Sunday (spend goes on at under half), steady otherwise.',
    };
  })(),
};
