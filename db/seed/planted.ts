// The situations planted in the demo data for the optimisation engine to
// find, one campaign each: the days and metrics they cover (the simulation
// plants them there, the steadiness check leaves them out), and PLANTED, the
// campaigns they are in. Tests look them up here rather than by name.

import { CAMPAIGNS, DEMO_TENANTS, type DemoTenant, type Platform, type PlantedKind } from './catalog';
import { HISTORY_DAYS, LAST } from './dates';
import { tenantLayouts } from './layout';
import type { MetricName } from './rows';

/** Planted windows, as day indexes (LAST = yesterday). */
export const CPA_DOUBLED_FROM = HISTORY_DAYS - 7;
export const TRACKING_DROP_FROM = HISTORY_DAYS - 2;
export const SPIKE_DAY = LAST;
export const SPEND_SPIKE_FACTOR = 3.5;
/** cpa_doubled: CPA of the last 7 days over CPA of the 30 days before. */
export const CPA_FACTOR = 2;

const CONVERSION_METRICS: ReadonlySet<MetricName> = new Set(['conversions', 'conversion_value', 'cpa', 'roas', 'conversion_rate']);

/** Whether (day, metric) is part of a planted situation, so not expected to look normal. */
export function isPlanted(kind: PlantedKind | null, i: number, metric: MetricName): boolean {
  switch (kind) {
    case 'cpa_doubled':
      return i >= CPA_DOUBLED_FROM && CONVERSION_METRICS.has(metric);
    case 'tracking_drop':
      return i >= TRACKING_DROP_FROM && CONVERSION_METRICS.has(metric);
    case 'spend_spike':
      return i === SPIKE_DAY && metric !== 'conversions' && metric !== 'conversion_value';
    default:
      return false;
  }
}

export interface PlantedSituation {
  readonly kind: PlantedKind;
  readonly tenantId: string;
  readonly tenantName: string;
  readonly platform: Platform;
  readonly campaignId: string;
  readonly campaignName: string;
  readonly adsetIds: readonly string[];
  /** Days the situation shows on, counted back from today (1 = yesterday). */
  readonly daysAgo: readonly number[];
  readonly description: string;
}

function situation(tenant: DemoTenant, kind: PlantedKind, daysAgo: readonly number[], description: string): PlantedSituation {
  const index = CAMPAIGNS[tenant.vertical].findIndex((c) => c.planted === kind);
  const layout = tenantLayouts(tenant)[index];
  if (!layout) throw new Error(`no campaign planted with ${kind} in ${tenant.name}`);
  return {
    kind,
    tenantId: tenant.id,
    tenantName: tenant.name,
    platform: layout.def.platform,
    campaignId: layout.id,
    campaignName: layout.name,
    adsetIds: layout.adsets.map((a) => a.id),
    daysAgo,
    description,
  };
}

const [ECOMMERCE, LEAD_GEN] = [DEMO_TENANTS[0], DEMO_TENANTS[1]];
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, k) => from + k);

/** Expected numbers, for tests. */
export const PLANTED_EXPECT = {
  /** CPA of today-7..today-1 over CPA of today-37..today-8 (ratio of sums), and the same for spend per day. */
  cpaDoubled: { cpaRatio: CPA_FACTOR, spendRatio: 1 },
  /** Yesterday's campaign spend over the mean of the four previous same weekdays (today-8, -15, -22, -29). */
  spendSpike: { spendRatio: SPEND_SPIKE_FACTOR, impressionsFactor: 1.35, clicksFactor: 1.3 },
  /** Every day: campaign spend / daily_budget within [minUtilisation, maxUtilisation]. */
  budgetCappedWinner: { dailyBudget: 1200, targetRoas: 2.5, expectedRoas: 4.8, minUtilisation: 0.985, maxUtilisation: 0.998 },
} as const;

export const PLANTED: Readonly<Record<PlantedKind, PlantedSituation>> = {
  cpa_doubled: situation(
    ECOMMERCE,
    'cpa_doubled',
    range(1, 7),
    'From today-7 on the conversion rate is halved at unchanged spend and delivery: conversions and conversion value ' +
      'halve, so CPA over the last 7 days is twice (within 1 %) its CPA over the 30 days before, and ROAS about half.',
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
      'with normal spend, impressions and clicks; the campaign has 40+ conversions on a normal day.',
  ),
  budget_capped_winner: situation(
    ECOMMERCE,
    'budget_capped_winner',
    range(1, 120),
    'Every day spend is 98.5-99.8 % of its 1,200 EUR daily budget (budget_allocation) while ROAS is about 4.8 ' +
      'against a target_roas of 2.5 (budget_allocation) and above 1.5x the platform target_roas.',
  ),
};
