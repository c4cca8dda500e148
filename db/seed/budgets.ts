// Budgets and platform thresholds, from the simulated spend: each campaign's
// budget row (comfortably above recent spend, except the capped winner, which
// spends it all), its 30-day summary, and per platform a max CPA and, for
// e-commerce, a target ROAS.

import { demoUuid, type AllocationStrategy, type DemoTenant } from './catalog';
import { HISTORY_DAYS, LAST } from './dates';
import { SPIKE_DAY } from './planted';
import { Rng } from './random';
import type { BudgetRow, CampaignSummary, PlatformConfigRow } from './rows';
import { totalsOver, type GeneratedCampaign } from './series';
import { ceilTo, median, round1, round2 } from './stats';

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
      let maxSpend = 0;
      for (let i = last30From; i <= LAST; i++) {
        if (def.planted === 'spend_spike' && i === SPIKE_DAY) continue;
        maxSpend = Math.max(maxSpend, (g.campaignSeries.spend[i] ?? 0) / 100);
      }
      const raw = maxSpend / rng.uniform(0.8, 0.9);
      dailyBudget = ceilTo(raw, raw >= 500 ? 10 : 5);
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

  return { campaigns, budgets, platformConfigs };
}
