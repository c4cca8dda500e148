// A history of decided recommendations for each demo tenant, so that the
// history page has outcomes and a track record to show: applied ones (by a
// member, or by the daily loop within the auto-apply policy), dismissed ones
// with the buyer's reason, ones the engine withdrew, ones that ran out. Pure,
// like the rest of generation: each is put on an entity whose figure stood
// out at the time, and every number it quotes comes from the generated
// metrics. seed.ts writes them; the engine then records the predictions of
// the applied ones (trigger recommendation_outcome_on_apply) and measures them.
//
// History only: a budget change applied weeks ago is not carried into
// ads.budget_allocation (the budgets stay as budgets.ts made them), and no
// metric reacts to any decision. The measured outcomes are whatever the
// generated data give.

import { dismissReasonText, type DismissReason } from '../../lib/recommendations/schema';
import { DEMO_TENANTS, DEMO_USERS, demoUuid, type DemoTenant, type Platform } from './catalog';
import { LAST, formatDay } from './dates';
import { PLANTED, QUIET } from './planted';
import { Rng } from './random';
import type { AutoApplySetting, BudgetRow, DecisionRow, DecisionStatus, DecisionType, PlatformConfigRow } from './rows';
import type { GeneratedCampaign, Series } from './series';
import { round2 } from './stats';

/**
 * Auto-apply in the demo: Northwind Outfitters lets the daily loop change Meta
 * budgets by up to 20 % either way, pauses left to a buyer. Every other tenant
 * and platform keeps it off.
 */
export const DEMO_AUTO_APPLY: Readonly<Partial<Record<string, AutoApplySetting>>> = {
  [DEMO_TENANTS[0].id]: { platform: 'meta', maxStep: 0.2, pause: false },
};

/** Days between two history rows on the same campaign: the outcome of one must not overlap the other's. */
const CAMPAIGN_GAP_DAYS = 15;

// ---------------------------------------------------------------------------
// The plan: which decisions, when (days before the last day of data).
// ---------------------------------------------------------------------------

interface Slot {
  type: DecisionType;
  status: DecisionStatus;
  /** Days before the last day of data: the decision (applied, dismissed) or, for withdrawn and expired ones, the creation. */
  daysAgo: readonly [number, number];
  /** Applied by the daily loop (auto-apply): on that platform, the step within the limit. */
  auto?: AutoApplySetting;
  dismissal?: Dismissal;
}

interface Dismissal {
  reason: DismissReason;
  details?: string;
}

/** Reasons buyers give, one per type (lib/recommendations/schema.ts writes them as the app does). */
const DISMISSALS: readonly (Dismissal & { type: DecisionType })[] = [
  { type: 'budget_increase', reason: 'seasonal', details: 'a sale week' },
  { type: 'bid_adjustment', reason: 'disagree_with_data', details: 'CPCs are up across the whole auction this week, not only here' },
  { type: 'creative', reason: 'already_done', details: 'new creatives went live on the platform this morning' },
  { type: 'pause', reason: 'other', details: 'a brand test that runs to the end of the month whatever its CPA' },
  { type: 'budget_decrease', reason: 'not_relevant' },
];

/**
 * Sixteen decisions a tenant: nine applied (seven decided 15 to 34 days before
 * the last day, so both horizons are measured; one 8 to 13 days before, its
 * 14 days still due; one 2 to 6 days before, both due), two or three
 * dismissed, three or two withdrawn, two expired.
 */
function plan(rng: Rng, auto: AutoApplySetting | null): Slot[] {
  const slots: Slot[] = [
    { type: 'budget_increase', status: 'applied', daysAgo: [24, 34], ...(auto ? { auto } : {}) },
    { type: 'budget_increase', status: 'applied', daysAgo: [17, 23], ...(auto ? { auto } : {}) },
    { type: 'budget_decrease', status: 'applied', daysAgo: [26, 34] },
    { type: 'bid_adjustment', status: 'applied', daysAgo: [19, 27] },
    { type: 'creative', status: 'applied', daysAgo: [15, 22] },
    { type: 'pause', status: 'applied', daysAgo: [24, 33] },
    { type: 'pause', status: 'applied', daysAgo: [15, 20] },
    { type: rng.pick(['bid_adjustment', 'creative'] as const), status: 'applied', daysAgo: [8, 13] },
    { type: rng.pick(['creative', 'bid_adjustment'] as const), status: 'applied', daysAgo: [2, 6] },
  ];
  const dismissed = rng.int(2, 3);
  for (const d of shuffle(rng, DISMISSALS).slice(0, dismissed)) {
    slots.push({ type: d.type, status: 'dismissed', daysAgo: [9, 33], dismissal: d });
  }
  for (const type of shuffle(rng, ['bid_adjustment', 'creative', 'budget_decrease'] as const).slice(0, 5 - dismissed)) {
    slots.push({ type, status: 'withdrawn', daysAgo: [12, 32] });
  }
  slots.push({ type: 'audience', status: 'expired', daysAgo: [12, 30] });
  slots.push({ type: rng.pick(['budget_increase', 'creative'] as const), status: 'expired', daysAgo: [12, 30] });
  return slots;
}

function shuffle<T>(rng: Rng, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

// ---------------------------------------------------------------------------
// Figures over a window of days, as the engine computes them (ratios of sums)
// ---------------------------------------------------------------------------

interface Totals {
  spend: number;
  impressions: number;
  clicks: number;
  conversions: number;
  value: number;
}

/** Sums over day indexes from..to (inclusive); money from cents. */
function totals(s: Series, from: number, to: number): Totals {
  let spend = 0;
  let impressions = 0;
  let clicks = 0;
  let conversions = 0;
  let value = 0;
  for (let i = from; i <= to; i++) {
    spend += s.spend[i] ?? 0;
    impressions += s.impressions[i] ?? 0;
    clicks += s.clicks[i] ?? 0;
    conversions += s.conversions[i] ?? 0;
    value += s.value[i] ?? 0;
  }
  return { spend: spend / 100, impressions, clicks, conversions, value: value / 100 };
}

const minus = (a: Totals, b: Totals): Totals => ({
  spend: round2(a.spend - b.spend),
  impressions: a.impressions - b.impressions,
  clicks: a.clicks - b.clicks,
  conversions: a.conversions - b.conversions,
  value: round2(a.value - b.value),
});

const ratio = (a: number, b: number): number | null => (b > 0 ? a / b : null);
const r3 = (x: number) => Math.round(x * 1e3) / 1e3;
const r4 = (x: number) => Math.round(x * 1e4) / 1e4;
const r6 = (x: number) => Math.round(x * 1e6) / 1e6;
const orNull = (x: number | null, round: (x: number) => number) => (x === null ? null : round(x));
const fixed = (x: number, d: number) => x.toFixed(d);

const cpaOf = (t: Totals) => ratio(t.spend, t.conversions);
const roasOf = (t: Totals) => ratio(t.value, t.spend);
const cpcOf = (t: Totals) => ratio(t.spend, t.clicks);
const ctrOf = (t: Totals) => ratio(t.clicks, t.impressions);
const cpmOf = (t: Totals) => ratio(1000 * t.spend, t.impressions);

// ---------------------------------------------------------------------------
// The entities history can be about
// ---------------------------------------------------------------------------

interface Entity {
  platform: Platform;
  level: 'campaign' | 'adset';
  id: string;
  name: string;
  campaignId: string;
  campaignName: string;
  series: Series;
  campaignSeries: Series;
  /** Campaigns only. */
  budget: BudgetRow | null;
}

interface Context {
  tenant: DemoTenant;
  /** Epoch day of day index 0. */
  firstDay: number;
  entities: Entity[];
  configs: ReadonlyMap<Platform, PlatformConfigRow>;
  campaignSeries: readonly Series[];
}

const dayText = (ctx: Context, i: number) => formatDay(ctx.firstDay + i);

/** How a description names the entity: an ad set with its campaign (ad set names repeat across campaigns). */
const label = (e: Entity) => (e.level === 'adset' ? `${e.name} in ${e.campaignName}` : e.name);

/** The last 7 days before day c (the window of a recommendation made on the morning of day c) and the 21 days before those. */
const recentOf = (e: Entity, c: number) => totals(e.series, c - 7, c - 1);
const historyOf = (e: Entity, c: number) => totals(e.series, c - 28, c - 8);

/** The engine's 'figures' of an entity: what it quotes when it withdraws a recommendation (db/media_buying/090). */
function figures(ctx: Context, t: Totals, c: number): Record<string, unknown> {
  return {
    window: { from: dayText(ctx, c - 7), to: dayText(ctx, c - 1) },
    spend_7d: round2(t.spend),
    conversions_7d: t.conversions,
    value_7d: round2(t.value),
    cpa_7d: orNull(cpaOf(t), r4),
    roas_7d: orNull(roasOf(t), r4),
    cpc_7d: orNull(cpcOf(t), r4),
    ctr_7d: orNull(ctrOf(t), r6),
  };
}

// ---------------------------------------------------------------------------
// Each type: who it can be about, how strongly an entity's figures point its
// way on a day (higher is stronger; above 1 they point its way at all), and
// the recommendation itself.
// ---------------------------------------------------------------------------

interface Built {
  description: string;
  currentValue: number;
  recommendedValue: number;
  evidence: Record<string, unknown>;
  impact: number;
  unit: string;
  /** Money per week at stake: what priority is judged on. */
  money: number;
}

interface Kind {
  eligible(e: Entity): boolean;
  score(ctx: Context, e: Entity, c: number): number | null;
  build(ctx: Context, e: Entity, c: number, rng: Rng, auto?: AutoApplySetting): Built;
}

/** A campaign's budget target: ROAS for e-commerce (the budget's, else the platform's), else the budget's CPA. */
function budgetTarget(ctx: Context, e: Entity): { kind: 'roas' | 'cpa'; value: number } | null {
  const b = e.budget;
  if (!b) return null;
  if (ctx.tenant.vertical === 'ecommerce') {
    const roas = b.targetRoas ?? ctx.configs.get(e.platform)?.targetRoas ?? null;
    return roas && roas > 0 ? { kind: 'roas', value: roas } : null;
  }
  return b.targetCpa && b.targetCpa > 0 ? { kind: 'cpa', value: b.targetCpa } : null;
}

/** Performance against the budget's target: above 1 better than the target. */
function againstTarget(ctx: Context, e: Entity, c: number): number | null {
  const target = budgetTarget(ctx, e);
  if (!target) return null;
  const t = recentOf(e, c);
  if (target.kind === 'roas') {
    const roas = roasOf(t);
    return roas === null ? null : roas / target.value;
  }
  const cpa = cpaOf(t);
  return cpa === null ? null : target.value / cpa;
}

function budgetBuilt(ctx: Context, e: Entity, c: number, up: boolean, newBudget: number): Built {
  const budget = e.budget!;
  const target = budgetTarget(ctx, e)!;
  const t = recentOf(e, c);
  const b = budget.dailyBudget;
  const spendPerDay = round2(t.spend / 7);
  const base = Math.min(b, spendPerDay);
  const headline =
    target.kind === 'roas'
      ? `ROAS ${fixed(roasOf(t) ?? 0, 2)} over the 7 days to ${dayText(ctx, c - 1)} against a target of ${fixed(target.value, 2)}`
      : `CPA ${fixed(cpaOf(t) ?? 0, 2)} over the 7 days to ${dayText(ctx, c - 1)} against a target of ${fixed(target.value, 2)}`;
  const description = up
    ? `Raise the daily budget of ${e.name} from ${fixed(b, 2)} to ${fixed(newBudget, 2)}: ${headline}`
    : `Lower the daily budget of ${e.name} from ${fixed(b, 2)} to ${fixed(newBudget, 2)}: ${headline}, spending ${fixed(spendPerDay, 2)} a day`;
  const roas = roasOf(t);
  const cpa = cpaOf(t);
  let impact: number;
  let unit: string;
  let money: number;
  if (!up) {
    impact = round2((base - newBudget) * 7);
    unit = 'spend_saved_per_week';
    money = impact;
  } else if (target.kind === 'roas') {
    impact = round2((newBudget - b) * 7 * (((roas ?? 0) + target.value) / 2));
    unit = 'value_per_week';
    money = impact;
  } else {
    impact = round2(((newBudget - b) * 7) / (cpa ?? target.value));
    unit = 'conversions_per_week';
    money = (newBudget - b) * 7;
  }
  return {
    description,
    currentValue: b,
    recommendedValue: newBudget,
    evidence: {
      ...figures(ctx, t, c),
      ...(target.kind === 'roas'
        ? { target_roas: target.value, target_roas_source: budget.targetRoas !== null ? 'budget_allocation.target_roas' : 'platform_configs.target_roas' }
        : { target_cpa: target.value }),
      daily_budget: b,
      recommended_budget: newBudget,
      average_daily_spend_7d: spendPerDay,
      // The metric of ads_engine.default_prediction for the type. A rise: conversion value by half the budget's
      // rise (diminishing returns), as the default has it. A cut: spend, by the new budget against what was spent
      // (as generate_recommendations predicts it), since these campaigns spend under their budget.
      prediction: up
        ? { metric: 'conversion_value', expected_change: r4((newBudget / b - 1) * 0.5), unit: 'relative', horizon_days: 7 }
        : { metric: 'spend', expected_change: r4(newBudget / base - 1), unit: 'relative', horizon_days: 7 },
    },
    impact,
    unit,
    money,
  };
}

const floor2 = (x: number) => Math.floor(x * 100 + 1e-9) / 100;

const KINDS: Readonly<Record<DecisionType, Kind>> = {
  budget_increase: {
    eligible: (e) => e.level === 'campaign' && e.budget !== null,
    score: (ctx, e, c) => againstTarget(ctx, e, c),
    build(ctx, e, c, rng, auto) {
      const b = e.budget!.dailyBudget;
      // The loop applies a step within the policy's limit only; a buyer approves larger ones.
      const step = rng.uniform(0.1, auto?.maxStep ?? 0.2);
      const newBudget = Math.min(e.budget!.maxBudget, floor2(b * (1 + step)));
      return budgetBuilt(ctx, e, c, true, newBudget);
    },
  },
  budget_decrease: {
    eligible: (e) => e.level === 'campaign' && e.budget !== null,
    score: (ctx, e, c) => {
      const s = againstTarget(ctx, e, c);
      return s === null || s <= 0 ? null : 1 / s;
    },
    build(ctx, e, c, rng) {
      const spendPerDay = round2(recentOf(e, c).spend / 7);
      const base = Math.min(e.budget!.dailyBudget, spendPerDay);
      const newBudget = Math.max(e.budget!.minBudget, round2(base * (1 - rng.uniform(0.05, 0.15))));
      return budgetBuilt(ctx, e, c, false, newBudget);
    },
  },
  bid_adjustment: {
    eligible: () => true,
    score: (_ctx, e, c) => {
      const t = recentOf(e, c);
      const h = historyOf(e, c);
      if (t.clicks < 30 || h.clicks < 50) return null;
      const now = cpcOf(t);
      const before = cpcOf(h);
      return now === null || before === null ? null : now / before;
    },
    build(ctx, e, c) {
      const t = recentOf(e, c);
      const h = historyOf(e, c);
      const cpc = cpcOf(t)!;
      const before = cpcOf(h)!;
      const saved = round2((cpc - before) * t.clicks);
      return {
        description: `Lower bids on ${label(e)}: CPC ${fixed(cpc, 2)} over the 7 days to ${dayText(ctx, c - 1)} against ${fixed(before, 2)} over the 21 days before`,
        currentValue: r4(cpc),
        recommendedValue: r4(before),
        evidence: {
          ...figures(ctx, t, c),
          rule: 'cpc_up',
          clicks_7d: t.clicks,
          cpc_history: r4(before),
          history: { from: dayText(ctx, c - 28), to: dayText(ctx, c - 8), clicks: h.clicks, spend: round2(h.spend) },
          prediction: { metric: 'cpc', expected_change: r4(before / cpc - 1), unit: 'relative', horizon_days: 7 },
        },
        impact: saved,
        unit: 'spend_saved_per_week',
        money: saved,
      };
    },
  },
  creative: {
    eligible: () => true,
    score: (_ctx, e, c) => {
      const t = recentOf(e, c);
      const h = historyOf(e, c);
      if (t.impressions < 5000 || h.clicks < 50) return null;
      const now = ctrOf(t);
      const before = ctrOf(h);
      return now === null || before === null || now <= 0 ? null : before / now;
    },
    build(ctx, e, c) {
      const t = recentOf(e, c);
      const h = historyOf(e, c);
      const ctr = ctrOf(t)!;
      const before = ctrOf(h)!;
      const clicks = Math.round((before - ctr) * t.impressions * 10) / 10;
      return {
        description:
          `Refresh the creatives of ${label(e)}: CTR ${fixed(ctr * 100, 2)}% over the 7 days to ${dayText(ctx, c - 1)} ` +
          `against ${fixed(before * 100, 2)}% over the 21 days before`,
        currentValue: r6(ctr),
        recommendedValue: r6(before),
        evidence: {
          ...figures(ctx, t, c),
          recent: { from: dayText(ctx, c - 7), to: dayText(ctx, c - 1), impressions: t.impressions, clicks: t.clicks },
          history: { from: dayText(ctx, c - 28), to: dayText(ctx, c - 8), impressions: h.impressions, clicks: h.clicks },
          ctr_history: r6(before),
          prediction: { metric: 'ctr', expected_change: r4(before / ctr - 1), unit: 'relative', horizon_days: 7 },
        },
        impact: clicks,
        unit: 'clicks_per_week',
        money: clicks * (cpcOf(h) ?? 0),
      };
    },
  },
  pause: {
    // An ad set: pausing it leaves its campaign's budget as it is.
    eligible: (e) => e.level === 'adset',
    score: (_ctx, e, c) => {
      const t = recentOf(e, c);
      const rest = minus(totals(e.campaignSeries, c - 7, c - 1), t);
      const own = cpaOf(t);
      const others = cpaOf(rest);
      return own === null || others === null ? null : own / others;
    },
    build(ctx, e, c) {
      const t = recentOf(e, c);
      const rest = minus(totals(e.campaignSeries, c - 7, c - 1), t);
      const cpa = cpaOf(t)!;
      const others = cpaOf(rest)!;
      const spendPerDay = round2(t.spend / 7);
      return {
        description:
          `Pause ${label(e)}: CPA ${fixed(cpa, 2)} over the 7 days to ${dayText(ctx, c - 1)} ` +
          `(${fixed(t.spend, 2)} spent, ${t.conversions} conversions) against ${fixed(others, 2)} for the rest of the campaign`,
        currentValue: spendPerDay,
        recommendedValue: 0,
        evidence: {
          ...figures(ctx, t, c),
          cpa_reference: r4(others),
          conversions_lost_per_week: t.conversions,
          value_lost_per_week: round2(t.value),
          prediction: { metric: 'spend', expected_change: -1, unit: 'relative', horizon_days: 7 },
        },
        impact: round2(spendPerDay * 7),
        unit: 'spend_saved_per_week',
        money: spendPerDay * 7,
      };
    },
  },
  audience: {
    eligible: () => true,
    score: (_ctx, e, c) => {
      const t = recentOf(e, c);
      const h = historyOf(e, c);
      if (t.impressions < 10_000 || h.impressions < 10_000) return null;
      const now = cpmOf(t);
      const before = cpmOf(h);
      return now === null || before === null ? null : now / before;
    },
    build(ctx, e, c) {
      const t = recentOf(e, c);
      const h = historyOf(e, c);
      const cpm = cpmOf(t)!;
      const before = cpmOf(h)!;
      const saved = round2(((cpm - before) * t.impressions) / 1000);
      return {
        description: `Review the audience of ${label(e)}: CPM ${fixed(cpm, 2)} over the 7 days to ${dayText(ctx, c - 1)} against ${fixed(before, 2)} over the 21 days before`,
        currentValue: r4(cpm),
        recommendedValue: r4(before),
        evidence: {
          ...figures(ctx, t, c),
          recent: { from: dayText(ctx, c - 7), to: dayText(ctx, c - 1), impressions: t.impressions, spend: round2(t.spend) },
          history: { from: dayText(ctx, c - 28), to: dayText(ctx, c - 8), impressions: h.impressions, spend: round2(h.spend) },
          prediction: { metric: 'cpm', expected_change: r4(before / cpm - 1), unit: 'relative', horizon_days: 7 },
        },
        impact: saved,
        unit: 'spend_saved_per_week',
        money: saved,
      };
    },
  },
};

// ---------------------------------------------------------------------------
// Generation
// ---------------------------------------------------------------------------

/** Members who decide (buyers and admins), the tenant's own first: they decide most. */
function deciders(tenant: DemoTenant): { main: string; others: string[] } {
  const mine = DEMO_USERS.filter((u) => u.memberships.some((m) => m.tenantId === tenant.id && (m.role === 'buyer' || m.role === 'admin')));
  // The one member only of this tenant decides most (Northwind: its buyer); the admin of all three now and then.
  const own = mine.filter((u) => u.memberships.length === 1);
  const main = (own.find((u) => u.memberships[0]?.role === 'buyer') ?? own[0] ?? mine[0])?.email;
  if (!main) throw new Error(`demo tenant ${tenant.name} has no member who decides`);
  return { main, others: mine.map((u) => u.email).filter((e) => e !== main) };
}

const pad2 = (n: number) => String(n).padStart(2, '0');
function clock(seconds: number): string {
  return `${pad2(Math.floor(seconds / 3600))}:${pad2(Math.floor(seconds / 60) % 60)}:${pad2(seconds % 60)}`;
}
/** The daily loop runs early in the morning. */
const loopTime = (rng: Rng) => 6 * 3600 + rng.int(0, 45 * 60);
/** Buyers decide in office hours. */
const officeTime = (rng: Rng) => rng.int(8 * 3600 + 30 * 60, 18 * 3600 + 30 * 60);

function priorityOf(money: number, tenantSpend7: number): DecisionRow['priority'] {
  if (money >= 0.1 * tenantSpend7) return 'critical';
  if (money >= 0.03 * tenantSpend7) return 'high';
  if (money >= 0.005 * tenantSpend7) return 'medium';
  return 'low';
}

interface Chosen {
  entity: Entity;
  /** Day index the recommendation was made (the loop's morning): its figures are those of the 7 days before. */
  created: number;
}

/**
 * The history of one tenant, from its generated campaigns. firstDay: the
 * epoch day of the first day of data (index 0; the last is index LAST).
 */
export function generateDecisions(
  tenant: DemoTenant,
  generated: readonly GeneratedCampaign[],
  budgets: readonly BudgetRow[],
  platformConfigs: readonly PlatformConfigRow[],
  firstDay: number,
): DecisionRow[] {
  const rng = Rng.stream(`${tenant.id}|decisions`);
  // Planted and quiet campaigns are left alone: their situations are the engine's to find today.
  const reserved = new Set<string>([
    ...Object.values(PLANTED).filter((p) => p.tenantId === tenant.id).map((p) => p.campaignId),
    ...Object.values(QUIET).filter((q) => q.tenantId === tenant.id).map((q) => q.campaignId),
  ]);
  const budgetOf = new Map(budgets.map((b) => [b.campaignId, b]));
  const entities: Entity[] = [];
  for (const g of generated) {
    const { layout } = g;
    if (reserved.has(layout.id)) continue;
    const common = { platform: layout.def.platform, campaignId: layout.id, campaignName: layout.name, campaignSeries: g.campaignSeries };
    entities.push({ ...common, level: 'campaign', id: layout.id, name: layout.name, series: g.campaignSeries, budget: budgetOf.get(layout.id) ?? null });
    layout.adsets.forEach((a, k) => {
      const series = g.adsetSeries[k];
      if (series) entities.push({ ...common, level: 'adset', id: a.id, name: a.name, series, budget: null });
    });
  }
  const ctx: Context = {
    tenant,
    firstDay,
    entities,
    configs: new Map(platformConfigs.map((p) => [p.platform, p])),
    campaignSeries: generated.map((g) => g.campaignSeries),
  };
  const tenantSpend7 = (c: number) => ctx.campaignSeries.reduce((n, s) => n + totals(s, c - 7, c - 1).spend, 0);

  const auto = DEMO_AUTO_APPLY[tenant.id] ?? null;
  const slots = plan(rng, auto);
  const who = deciders(tenant);
  const usedDays = new Map<string, number[]>();
  const free = (campaignId: string, day: number) => (usedDays.get(campaignId) ?? []).every((d) => Math.abs(d - day) >= CAMPAIGN_GAP_DAYS);

  /** The eligible entities free on day c, the strongest case first: only those whose figures point the type's way, when any do. */
  function choose(kind: Kind, c: number, platform?: Platform): Entity[] {
    const ranked = ctx.entities
      .filter((e) => kind.eligible(e) && (!platform || e.platform === platform) && free(e.campaignId, c))
      .map((e) => ({ e, s: kind.score(ctx, e, c) }))
      .filter((x): x is { e: Entity; s: number } => x.s !== null && Number.isFinite(x.s))
      .sort((a, b) => b.s - a.s || a.e.id.localeCompare(b.e.id));
    const pointing = ranked.filter((x) => x.s > 1);
    return (pointing.length > 0 ? pointing : ranked).map((x) => x.e);
  }

  const rows: Omit<DecisionRow, 'id'>[] = [];
  for (const slot of slots) {
    const kind = KINDS[slot.type];
    const day = LAST - rng.int(slot.daysAgo[0], slot.daysAgo[1]);
    let chosen: Chosen;
    let lag = 0;
    let withdrawAfter = 0;
    if (slot.status === 'applied' || slot.status === 'dismissed') {
      // Decided on the morning's run (the loop) or up to two days after it was made.
      lag = slot.auto ? 0 : rng.int(0, 2);
      const candidates = choose(kind, day - lag, slot.auto?.platform);
      chosen = { entity: pickTop(rng, candidates, `${slot.type} for ${tenant.name}`), created: day - lag };
    } else if (slot.status === 'withdrawn') {
      // Refreshed on the runs after it was made, then withdrawn by a run whose 7 days no longer support it:
      // of the strongest cases, the one whose figure moved back most by the next day.
      withdrawAfter = rng.int(1, 2);
      const last = day + withdrawAfter - 1;
      const candidates = choose(kind, last).slice(0, 5);
      const back = (e: Entity) => (kind.score(ctx, e, last) ?? 0) - (kind.score(ctx, e, last + 1) ?? Number.POSITIVE_INFINITY);
      const entity = [...candidates].sort((a, b) => back(b) - back(a) || a.id.localeCompare(b.id))[0];
      if (!entity) throw new Error(`no entity for a withdrawn ${slot.type} in ${tenant.name}`);
      chosen = { entity, created: day };
    } else {
      chosen = { entity: pickTop(rng, choose(kind, day), `${slot.type} for ${tenant.name}`), created: day };
    }
    const e = chosen.entity;
    const c = chosen.created;
    // The figures a withdrawn one was last shown with: the run before the one that withdrew it.
    const figuresDay = slot.status === 'withdrawn' ? c + withdrawAfter - 1 : c;
    const built = kind.build(ctx, e, figuresDay, rng, slot.auto);
    const createdSeconds = loopTime(rng);
    const createdAt = `${dayText(ctx, c)} ${clock(createdSeconds)}`;
    const expiresAt = `${dayText(ctx, c + 7)} ${clock(createdSeconds)}`;
    let decidedAt: string | null = null;
    let decidedDay: string | null = null;
    let decidedBy: string | null = null;
    let dismissReason: string | null = null;
    let withdrawalReason: string | null = null;
    const evidence: Record<string, unknown> = {
      ...built.evidence,
      money_per_week: round2(built.money),
      tenant_spend_7d: round2(tenantSpend7(figuresDay)),
      // Seeded history, not a run of the engine: it carries no test, hence no p-value.
      demo_history: true,
    };
    if (slot.status === 'applied' || slot.status === 'dismissed') {
      decidedDay = dayText(ctx, day);
      if (slot.auto) {
        // The loop applies in the run that makes it, in the same transaction.
        decidedAt = createdAt;
      } else {
        const t = lag === 0 ? Math.max(officeTime(rng), createdSeconds + 3600) : officeTime(rng);
        decidedAt = `${decidedDay} ${clock(t)}`;
        decidedBy = rng.float() < 0.7 || who.others.length === 0 ? who.main : rng.pick(who.others);
      }
      if (slot.dismissal) dismissReason = dismissReasonText(slot.dismissal.reason, slot.dismissal.details);
    } else if (slot.status === 'withdrawn') {
      const at = c + withdrawAfter;
      decidedDay = dayText(ctx, at);
      decidedAt = `${decidedDay} ${clock(loopTime(rng))}`;
      const w = recentOf(e, at);
      const now = figures(ctx, w, at);
      const text = (v: unknown, d: number) => (typeof v === 'number' ? fixed(v, d) : '-');
      // Worded and shaped as ads_engine.withdraw_recommendation and generate_recommendations write it.
      withdrawalReason =
        `No longer supported by the 7 days to ${dayText(ctx, at - 1)} (spend ${fixed(w.spend, 2)}, conversions ${fixed(w.conversions, 2)}, ` +
        `CPA ${text(now.cpa_7d, 2)}, ROAS ${text(now.roas_7d, 2)})`;
      evidence.withdrawal = { ...now, reason: withdrawalReason };
    }
    rows.push({
      platform: e.platform,
      level: e.level,
      entityId: e.id,
      entityName: e.name,
      campaignId: e.campaignId,
      type: slot.type,
      description: built.description,
      currentValue: built.currentValue,
      recommendedValue: built.recommendedValue,
      evidence,
      estimatedImpact: built.impact,
      impactUnit: built.unit,
      priority: priorityOf(built.money, tenantSpend7(figuresDay)),
      confidence: r3(rng.uniform(0.55, 0.95)),
      status: slot.status,
      createdAt,
      expiresAt,
      decidedAt,
      decidedDay,
      decidedBy,
      dismissReason,
      withdrawalReason,
      autoApplied: slot.auto !== undefined,
    });
    usedDays.set(e.campaignId, [...(usedDays.get(e.campaignId) ?? []), c]);
  }

  return rows
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.entityId.localeCompare(b.entityId))
    .map((r, k) => ({ id: demoUuid('recommendation', tenant.no, k + 1), ...r }));
}

function pickTop(rng: Rng, candidates: readonly Entity[], what: string): Entity {
  if (candidates.length === 0) throw new Error(`demo history: no entity for a ${what}`);
  return rng.pick(candidates.slice(0, 3));
}
