// Budgets and platform thresholds, from the simulated spend: each campaign's
// budget row, its 30-day summary, and per platform a max CPA and, for
// e-commerce, a target ROAS.
//
// Budgets as in real accounts: most campaigns are held by their budget and
// spend close to it, a month at 96-100 % of it (DELIVERY.onBudget); a few do
// not (OFF_BUDGET, by name, two or three per tenant): they under-deliver, at
// about 70 % of their budget, or spend beyond the budget the product knows,
// about 125 % of it. The capped winner keeps its fixed budget and spends it
// all. The generated spend does not react to the budget (series.ts): each
// budget is derived from the spend, at the level that would have held it.

import { demoUuid, type AllocationStrategy, type DemoTenant, type Vertical } from './catalog';
import { HISTORY_DAYS, LAST } from './dates';
import { SPIKE_DAY } from './planted';
import { Rng } from './random';
import type { BudgetRow, CampaignSummary, PlatformConfigRow } from './rows';
import { totalsOver, type GeneratedCampaign } from './series';
import { ceilTo, median, round1, round2 } from './stats';

/** How a campaign's spend stands to its daily budget: its mean daily spend over the last 30 days / the budget, drawn in [min, max). */
export const DELIVERY = {
  /** Held by its budget: most days near it, some above (platforms deliver up to twice a daily budget on a day), a month within ±5 % of it. */
  onBudget: { min: 0.965, max: 0.995 },
  /** Under-delivers: its bids or its audience hold it back, not its budget. */
  under: { min: 0.68, max: 0.76 },
  /** Spends beyond the budget the product knows (raised on the platform itself, not here). */
  over: { min: 1.22, max: 1.28 },
} as const;

export type Delivery = keyof typeof DELIVERY;

/**
 * The campaigns that do not spend their budget, by vertical and label (CampaignDef.label); every other campaign is on
 * budget. Chosen for a reason a buyer would recognise, and none of them planted or with a budget raise due:
 *
 * - Northwind: "Prospecting | Interests Outdoor & Hiking" under (an interest audience it has exhausted at its target
 *   ROAS, which it beats); "Shopping | Outerwear" over (raised on Google for the season, not here).
 * - Harbor Lending: "Lead Gen Forms | Business Loans | Owners & CFOs" under (B2B: it spends under half as much at the
 *   weekend); "Lead Gen Forms | SBA Loans | Small Business" under (its CPA bidding finds no more leads at its target);
 *   "Lead Ads | Auto Refinance" over (raised in Meta's Ads Manager, not here).
 * - Pixel Quest: "App Installs | Smart+ | Broad" under (TikTok's Smart+ holds back at its target CPI, which it
 *   beats); "App Campaign | Engagement | Lapsed Players" over (raised on Google for an event, not here).
 */
export const OFF_BUDGET: Readonly<Record<Vertical, Readonly<Record<string, Exclude<Delivery, 'onBudget'>>>>> = {
  ecommerce: { 'Prospecting | Interests Outdoor & Hiking': 'under', 'Shopping | Outerwear': 'over' },
  lead_generation: {
    'Lead Gen Forms | Business Loans | Owners & CFOs': 'under',
    'Lead Gen Forms | SBA Loans | Small Business': 'under',
    'Lead Ads | Auto Refinance': 'over',
  },
  apps: { 'App Installs | Smart+ | Broad': 'under', 'App Campaign | Engagement | Lapsed Players': 'over' },
};

/** The campaign's delivery against its budget (the capped winner aside: its budget is fixed). */
export function deliveryOf(vertical: Vertical, label: string): Delivery {
  return OFF_BUDGET[vertical][label] ?? 'onBudget';
}

/** A daily budget rounded to the nearest 5 (10 from 500 on), as buyers set them. */
function roundBudget(x: number): number {
  const step = x >= 500 ? 10 : 5;
  return Math.max(step, Math.round(x / step) * step);
}

export interface Budgets {
  campaigns: CampaignSummary[];
  budgets: BudgetRow[];
  platformConfigs: PlatformConfigRow[];
}

const TARGETS_FROM = HISTORY_DAYS - 37;
const TARGETS_TO = HISTORY_DAYS - 8;

/** createdDay: the first day of history, when the budgets were set. */
export function generateBudgets(tenant: DemoTenant, generated: readonly GeneratedCampaign[], createdDay: string): Budgets {
  const campaigns: CampaignSummary[] = [];
  const budgets: BudgetRow[] = [];
  const last30From = HISTORY_DAYS - 30;
  for (const g of generated) {
    const { layout } = g;
    const def = layout.def;
    const rng = Rng.stream(`${tenant.id}|${layout.id}|budget`);
    const t30 = totalsOver(g.campaignSeries, last30From, LAST);
    const cpa30 = t30.conversions > 0 ? t30.spend / t30.conversions : Number.NaN;
    const roas30 = t30.spend > 0 ? t30.value / t30.spend : Number.NaN;
    // Targets were set on the 30 days before the last week (today-37 .. today-8):
    // what the buyer knew then, before this week's planted changes.
    const ref = totalsOver(g.campaignSeries, TARGETS_FROM, TARGETS_TO);
    const refCpa = ref.conversions > 0 ? ref.spend / ref.conversions : Number.NaN;
    const refRoas = ref.spend > 0 ? ref.value / ref.spend : Number.NaN;
    let dailyBudget: number;
    if (def.planted === 'budget_capped_winner') {
      dailyBudget = def.dailyBudget ?? 0;
    } else {
      // Mean daily spend of the last 30 days (the spike of the planted spend spike left out: it is not what the budget was set for).
      let spend = 0;
      let days = 0;
      for (let i = last30From; i <= LAST; i++) {
        if (def.planted === 'spend_spike' && i === SPIKE_DAY) continue;
        spend += (g.campaignSeries.spend[i] ?? 0) / 100;
        days++;
      }
      // One draw, as many as before: the targets below come from the same stream and stay as they were.
      const range = DELIVERY[deliveryOf(tenant.vertical, def.label)];
      dailyBudget = roundBudget(spend / days / rng.uniform(range.min, range.max));
    }
    let strategy: AllocationStrategy;
    let targetRoas: number | null = null;
    let targetCpa: number | null = null;
    switch (tenant.vertical) {
      case 'ecommerce':
        strategy = def.strategy ?? 'target_roas';
        targetRoas = def.targetRoas ?? round1(refRoas / rng.uniform(0.92, 1.2));
        break;
      case 'lead_generation':
        strategy = def.strategy ?? 'target_cpa';
        targetCpa = Math.round(refCpa * rng.uniform(0.92, 1.15));
        break;
      case 'apps':
        strategy = def.strategy ?? 'target_cpa';
        targetCpa = Math.round(refCpa * rng.uniform(0.92, 1.15) * 20) / 20;
        break;
    }
    budgets.push({
      id: demoUuid('budget', tenant.no, layout.index + 1),
      platform: def.platform,
      campaignId: layout.id,
      campaignName: layout.name,
      dailyBudget,
      minBudget: round2(dailyBudget * 0.5),
      maxBudget: round2(dailyBudget * 2),
      strategy,
      targetRoas,
      targetCpa,
      createdDay,
    });
    campaigns.push({
      platform: def.platform,
      campaignId: layout.id,
      campaignName: layout.name,
      adsetIds: layout.adsets.map((a) => a.id),
      planted: def.planted ?? null,
      dailyBudget,
      cpa30,
      roas30,
    });
  }

  // Platform thresholds: max CPA above every steady campaign's CPA; e-commerce
  // also gets a target ROAS a little under the platform's median campaign.
  const platformConfigs: PlatformConfigRow[] = tenant.platforms.map((platform) => {
    const mine = campaigns.filter((c) => c.platform === platform);
    const steady = mine.filter((c) => c.planted === null);
    const worstCpa = Math.max(...steady.map((c) => c.cpa30));
    const maxCpa = tenant.vertical === 'apps' ? ceilTo(worstCpa * 1.3, 0.5) : ceilTo(worstCpa * 1.3, 5);
    const targetRoas = tenant.vertical === 'ecommerce' ? round1(median(mine.map((c) => c.roas30)) * 0.85) : null;
    return { platform, maxCpa, targetRoas };
  });

  // The capped winner must beat both its own and the platform's target by 1.5x.
  for (const g of generated) {
    if (g.layout.def.planted !== 'budget_capped_winner') continue;
    const t14 = totalsOver(g.campaignSeries, HISTORY_DAYS - 14, LAST);
    const roas14 = t14.value / t14.spend;
    const cfg = platformConfigs.find((p) => p.platform === g.layout.def.platform);
    const target = Math.max(g.layout.def.targetRoas ?? 0, cfg?.targetRoas ?? 0);
    if (roas14 < 1.5 * target) throw new Error(`demo data: capped winner ROAS ${roas14.toFixed(2)} is not 1.5x its target ${target}`);
  }

  for (const label of Object.keys(OFF_BUDGET[tenant.vertical])) {
    const def = generated.find((g) => g.layout.def.label === label)?.layout.def;
    if (!def || def.planted) throw new Error(`demo data: off-budget campaign "${label}" is not a steady campaign of ${tenant.name}`);
  }

  return { campaigns, budgets, platformConfigs };
}
