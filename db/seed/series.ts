// The metric time series of one campaign and its ad sets, simulated day by
// day the way real accounts behave: counts are counts, rates drift from day
// to day, baskets vary. Per ad set and day:
//
//   spend        = level x weekday x trend x log-normal noise (campaign-wide and the ad set's own)
//   impressions ~ Poisson(spend / CPM), CPM with a small log-normal day noise
//   clicks      ~ Poisson(impressions x CTR), CTR with a small log-normal day noise
//   conversions ~ Poisson(clicks x CVR x G), G = Gc x Ga: Gamma day factors of mean 1,
//                 one campaign-wide (the site converts better or worse that day), one the ad set's own
//   value        = the sum, over the day's conversions, of log-normal order values (CV ORDER_VALUE_CV)
//
// so conversions given spend are negative-binomial-like (variance mu + phi mu^2,
// phi about the squared CV of G) and a day's value is a compound sum. Campaign
// rows are the sums of their ad set rows. Nothing here looks at the result to
// make it quieter: what is drawn is what is written. All randomness comes from
// seeded streams (random.ts), one per campaign or ad set and purpose.
//
// A/B test cells (layout.ts) are ad sets like the others, drawn the same way
// on the days of their test with the campaign-wide day factors of the
// campaign they are in; their CPM, CTR, conversion rate and order value are
// the variant's (catalog.ts: CPM = CPC x CTR x 1000), their spend the base ad
// set's level x their share of its budget. The base is paused meanwhile: it
// has no row on those days (what it would have drawn is not written).

import { WEEKDAY, WEEKDAY_B2B, type Vertical, type WeekdayProfile } from './catalog';
import { HISTORY_DAYS, LAST } from './dates';
import type { AdsetLayout, CampaignLayout, TestCellLayout } from './layout';
import { CPA_CVR_FACTOR, CPA_DOUBLED_FROM, SPEND_SPIKE_FACTOR, SPIKE_DAY, TRACKING_DROP_FROM, ZERO_ADSET_FROM } from './planted';
import { Rng } from './random';
import type { MetricRow } from './rows';

/** Coefficients of variation of the day-to-day noise: campaign-wide (common) and per ad set (own). */
export const NOISE = {
  /** Spend around its weekday-adjusted level (log-normal). */
  spend: { common: 0.07, own: 0.05 },
  /** Cost per mille (log-normal): impressions ~ Poisson(spend / CPM). */
  cpm: { common: 0.04, own: 0.03 },
  /** Click-through rate (log-normal): clicks ~ Poisson(impressions x CTR). */
  ctr: { common: 0.04, own: 0.03 },
  /** Conversion rate (Gamma, mean 1): conversions ~ Poisson(clicks x CVR x Gc x Ga). */
  conversionRate: { common: 0.16, own: 0.1 },
} as const;

/**
 * CV of one order's value (log-normal). Baskets vary a lot; in-app purchase
 * revenue per install too; lead values are set per lead type by the
 * advertiser and vary less.
 */
export const ORDER_VALUE_CV: Readonly<Record<Vertical, number>> = {
  ecommerce: 0.8,
  apps: 0.8,
  lead_generation: 0.4,
};

/** CV of an ad set's day conversion-rate factor Gc x Ga (independent, mean 1). */
export const ADSET_RATE_CV = Math.sqrt((1 + NOISE.conversionRate.common ** 2) * (1 + NOISE.conversionRate.own ** 2) - 1);

/** The weekday profile a campaign follows: its vertical's, or the business-days-only B2B one. */
export function weekdayProfile(layout: CampaignLayout): WeekdayProfile {
  return layout.def.b2b ? WEEKDAY_B2B : WEEKDAY[layout.tenant.vertical];
}

interface AdsetModel extends AdsetLayout {
  cpmMul: number;
  ctrMul: number;
  cvrMul: number;
  /** Mean order value of the ad set. */
  orderValue: number;
  rng: Rng;
}

interface CellModel extends TestCellLayout {
  /** Day indexes of its first and last day. */
  from: number;
  to: number;
  cpm: number;
  rng: Rng;
}

export interface CampaignModel {
  layout: CampaignLayout;
  vertical: Vertical;
  weekday: WeekdayProfile;
  cpm: number;
  ctr: number;
  cvr: number;
  valuePerConversion: number;
  baseSpend: number;
  spendTrend: number;
  cvrTrend: number;
  adsets: AdsetModel[];
  cells: CellModel[];
  /** Campaign-wide day noise. */
  rng: Rng;
  /** Capped campaign: spend between 98.5 % and 99.8 % of the budget. */
  capRng: Rng;
}

/** Per entity and day, integer counts; money in cents. */
export interface Series {
  spend: Float64Array;
  impressions: Float64Array;
  clicks: Float64Array;
  conversions: Float64Array;
  value: Float64Array;
  /** 1 on the days the entity has a row (a paused ad set and a test cell outside its test have none; their figures are 0). */
  live: Uint8Array;
}

export function emptySeries(live = true): Series {
  return {
    spend: new Float64Array(HISTORY_DAYS),
    impressions: new Float64Array(HISTORY_DAYS),
    clicks: new Float64Array(HISTORY_DAYS),
    conversions: new Float64Array(HISTORY_DAYS),
    value: new Float64Array(HISTORY_DAYS),
    live: new Uint8Array(HISTORY_DAYS).fill(live ? 1 : 0),
  };
}

export function buildModel(layout: CampaignLayout): CampaignModel {
  const { tenant, def, profile } = layout;
  const rng = Rng.stream(`${tenant.id}|${layout.id}|model`);
  const cpm = profile.cpm * rng.uniform(0.92, 1.08);
  const ctr = profile.ctr * rng.uniform(0.9, 1.1);
  const cpc = cpm / (1000 * ctr);
  let valuePerConversion = profile.valuePerConversion * rng.uniform(0.95, 1.05);
  if (def.roas !== undefined) valuePerConversion = def.roas * layout.cpa;
  if (tenant.vertical === 'ecommerce') {
    // Keep every e-commerce campaign within a plausible ROAS band of 1.6 to 4.8.
    const roas = valuePerConversion / layout.cpa;
    valuePerConversion = Math.min(4.8, Math.max(1.6, roas)) * layout.cpa;
  }
  const steadyLevel = def.planted === 'cpa_doubled' || def.planted === 'budget_capped_winner';
  const spendTrend = steadyLevel ? 0 : rng.uniform(-0.08, 0.08);
  const cvrTrend = steadyLevel ? 0 : rng.uniform(-0.04, 0.04);
  const adsets: AdsetModel[] = layout.adsets.map((a) => {
    const r = Rng.stream(`${tenant.id}|${a.id}|adset`);
    return {
      ...a,
      cpmMul: r.uniform(0.93, 1.07),
      ctrMul: r.uniform(0.9, 1.1),
      cvrMul: r.uniform(0.9, 1.1),
      orderValue: valuePerConversion * r.uniform(0.95, 1.05),
      rng: Rng.stream(`${tenant.id}|${a.id}|days`),
    };
  });
  const cells: CellModel[] = layout.testCells.map((c) => ({
    ...c,
    from: HISTORY_DAYS - c.startDaysAgo,
    to: HISTORY_DAYS - c.endDaysAgo,
    cpm: c.variant.cpc * c.variant.ctr * 1000,
    rng: Rng.stream(`${tenant.id}|${c.id}|days`),
  }));
  return {
    layout,
    vertical: tenant.vertical,
    weekday: weekdayProfile(layout),
    cpm,
    ctr,
    cvr: cpc / layout.cpa,
    valuePerConversion,
    baseSpend: layout.conversions * layout.cpa,
    spendTrend,
    cvrTrend,
    adsets,
    cells,
    rng: Rng.stream(`${tenant.id}|${layout.id}|days`),
    capRng: Rng.stream(`${tenant.id}|${layout.id}|cap`),
  };
}

/** Log-normal factor of mean 1 for the campaign-wide and the ad set's own noise of one channel. */
const lognormal = (rng: Rng, cv: number) => rng.lognormalMeanOne(cv);

/** Sum of k order values, log-normal around mean with coefficient of variation cv, in cents. */
function basket(rng: Rng, k: number, mean: number, cv: number): number {
  let total = 0;
  for (let j = 0; j < k; j++) total += mean * rng.lognormalMeanOne(cv);
  return Math.round(total * 100);
}

export interface Simulated {
  /** Per ad set of the layout. */
  adsets: Series[];
  /** Per test cell of the layout. */
  cells: Series[];
}

/** Simulates every day of every ad set and test cell; the planted situations are part of the simulation. */
export function simulate(model: CampaignModel, weekdays: readonly number[]): Simulated {
  const { layout, adsets, cells, weekday } = model;
  const planted = layout.def.planted ?? null;
  const out = adsets.map(() => emptySeries());
  const cellOut = cells.map(() => emptySeries(false));
  const spendCents = new Float64Array(adsets.length);
  const valueCv = ORDER_VALUE_CV[model.vertical];

  for (let i = 0; i <= LAST; i++) {
    const w = weekdays[i] ?? 0;
    const trendPos = (i - LAST) / LAST;
    const spendLevel = model.baseSpend * Math.exp(model.spendTrend * trendPos) * (weekday.spend[w] ?? 1);
    let cvr = model.cvr * Math.exp(model.cvrTrend * trendPos) * (weekday.cvr[w] ?? 1);
    if (planted === 'cpa_doubled' && i >= CPA_DOUBLED_FROM) cvr *= CPA_CVR_FACTOR;

    // Campaign-wide factors of the day, drawn in a fixed order.
    const spendCommon = lognormal(model.rng, NOISE.spend.common);
    const cpmCommon = lognormal(model.rng, NOISE.cpm.common);
    const ctrCommon = lognormal(model.rng, NOISE.ctr.common);
    const cvrCommon = model.rng.gammaMeanOne(NOISE.conversionRate.common);
    const spendOwn = adsets.map((a) => lognormal(a.rng, NOISE.spend.own));

    if (planted === 'budget_capped_winner') {
      // Spends (almost) its whole budget every day, shared out among its ad sets.
      const budget = layout.def.dailyBudget ?? 0;
      const total = Math.round(budget * 100 * (0.985 + 0.013 * model.capRng.float()));
      let wsum = 0;
      for (let k = 0; k < adsets.length; k++) wsum += (adsets[k]?.share ?? 0) * (spendOwn[k] ?? 1);
      let left = total;
      for (let k = 0; k < adsets.length; k++) {
        const c = k === adsets.length - 1 ? left : Math.round((total * (adsets[k]?.share ?? 0) * (spendOwn[k] ?? 1)) / wsum);
        spendCents[k] = c;
        left -= c;
      }
    } else {
      for (let k = 0; k < adsets.length; k++) {
        spendCents[k] = Math.round(spendLevel * (adsets[k]?.share ?? 0) * spendCommon * (spendOwn[k] ?? 1) * 100);
      }
    }

    for (let k = 0; k < adsets.length; k++) {
      const a = adsets[k];
      const s = out[k];
      if (!a || !s) continue;
      const spend = spendCents[k] ?? 0;
      const cpm = model.cpm * a.cpmMul * cpmCommon * lognormal(a.rng, NOISE.cpm.own);
      const impressions = a.rng.poisson((spend / 100 / cpm) * 1000);
      const ctr = model.ctr * a.ctrMul * ctrCommon * lognormal(a.rng, NOISE.ctr.own);
      const clicks = Math.min(impressions, a.rng.poisson(impressions * ctr));
      const rate = cvr * a.cvrMul * cvrCommon * a.rng.gammaMeanOne(NOISE.conversionRate.own);
      let conversions = a.rng.poisson(clicks * rate);
      let value = basket(a.rng, conversions, a.orderValue, valueCv);
      const lost =
        (planted === 'tracking_drop' && i >= TRACKING_DROP_FROM) ||
        (planted === 'adset_zero_conversions' && k === adsets.length - 1 && i >= ZERO_ADSET_FROM);
      if (lost) {
        conversions = 0;
        value = 0;
      }
      s.spend[i] = spend;
      s.impressions[i] = impressions;
      s.clicks[i] = clicks;
      s.conversions[i] = conversions;
      s.value[i] = value;
    }

    for (let j = 0; j < cells.length; j++) {
      const c = cells[j];
      const s = cellOut[j];
      const base = out[c?.base ?? -1];
      if (!c || !s || !base || i < c.from || i > c.to) continue;
      // The base ad set is paused for the test; its budget goes to the cells.
      for (const f of FIELDS) base[f][i] = 0;
      base.live[i] = 0;
      const spend = Math.round(spendLevel * (adsets[c.base]?.share ?? 0) * c.share * spendCommon * lognormal(c.rng, NOISE.spend.own) * 100);
      const cpm = c.cpm * cpmCommon * lognormal(c.rng, NOISE.cpm.own);
      const impressions = c.rng.poisson((spend / 100 / cpm) * 1000);
      const ctr = c.variant.ctr * ctrCommon * lognormal(c.rng, NOISE.ctr.own);
      const clicks = Math.min(impressions, c.rng.poisson(impressions * ctr));
      const rate = c.variant.cvr * (weekday.cvr[w] ?? 1) * cvrCommon * c.rng.gammaMeanOne(NOISE.conversionRate.own);
      const conversions = c.rng.poisson(clicks * rate);
      s.spend[i] = spend;
      s.impressions[i] = impressions;
      s.clicks[i] = clicks;
      s.conversions[i] = conversions;
      s.value[i] = basket(c.rng, conversions, c.variant.valuePerConversion, valueCv);
      s.live[i] = 1;
    }
  }

  if (planted === 'spend_spike') plantSpendSpike(out);
  return { adsets: out, cells: cellOut };
}

/**
 * Yesterday: spend jumps to SPEND_SPIKE_FACTOR x the mean of the four
 * previous same weekdays; delivery grows far less (the platform bought dear
 * impressions) and conversions stay those drawn for a normal day.
 */
function plantSpendSpike(out: readonly Series[]): void {
  const total = sumSeries(out).spend;
  const usual = ((total[SPIKE_DAY - 7] ?? 0) + (total[SPIKE_DAY - 14] ?? 0) + (total[SPIKE_DAY - 21] ?? 0) + (total[SPIKE_DAY - 28] ?? 0)) / 4;
  const target = Math.round(usual * SPEND_SPIKE_FACTOR);
  const normal = total[SPIKE_DAY] ?? 1;
  let left = target;
  for (let k = 0; k < out.length; k++) {
    const s = out[k];
    if (!s) continue;
    const spend = k === out.length - 1 ? left : Math.round(((s.spend[SPIKE_DAY] ?? 0) * target) / normal);
    left -= spend;
    s.spend[SPIKE_DAY] = spend;
    s.impressions[SPIKE_DAY] = Math.round((s.impressions[SPIKE_DAY] ?? 0) * 1.35);
    s.clicks[SPIKE_DAY] = Math.round((s.clicks[SPIKE_DAY] ?? 0) * 1.3);
  }
}

const FIELDS = ['spend', 'impressions', 'clicks', 'conversions', 'value'] as const;

export function sumSeries(parts: readonly Series[]): Series {
  const total = emptySeries();
  for (const s of parts) {
    for (const f of FIELDS) {
      const t = total[f];
      const x = s[f];
      for (let i = 0; i < HISTORY_DAYS; i++) t[i] = (t[i] ?? 0) + (x[i] ?? 0);
    }
  }
  return total;
}

export function totalsOver(s: Series, from: number, to: number): { spend: number; conversions: number; value: number } {
  let spend = 0;
  let conversions = 0;
  let value = 0;
  for (let i = from; i <= to; i++) {
    spend += (s.spend[i] ?? 0) / 100;
    conversions += s.conversions[i] ?? 0;
    value += (s.value[i] ?? 0) / 100;
  }
  return { spend, conversions, value };
}

export interface GeneratedCampaign {
  layout: CampaignLayout;
  /** Per ad set of the layout. */
  adsetSeries: Series[];
  /** Per test cell of the layout. */
  cellSeries: Series[];
  /** The sum of the ad sets and the test cells. */
  campaignSeries: Series;
}

/** Metric rows of one campaign: the campaign (the sum), then its ad sets, then its test cells; days without a row skipped. */
export function metricRows(g: GeneratedCampaign, days: readonly string[]): MetricRow[] {
  const { layout } = g;
  const rows: MetricRow[] = [];
  const push = (level: 'campaign' | 'adset', platformId: string, entityName: string, s: Series) => {
    for (let i = 0; i < HISTORY_DAYS; i++) {
      if (!s.live[i]) continue;
      rows.push({
        platform: layout.def.platform,
        level,
        platformId,
        day: days[i] ?? '',
        entityName,
        campaignId: layout.id,
        campaignName: layout.name,
        spendCents: s.spend[i] ?? 0,
        impressions: s.impressions[i] ?? 0,
        clicks: s.clicks[i] ?? 0,
        conversions: s.conversions[i] ?? 0,
        valueCents: s.value[i] ?? 0,
      });
    }
  };
  push('campaign', layout.id, layout.name, g.campaignSeries);
  layout.adsets.forEach((a, k) => push('adset', a.id, a.name, g.adsetSeries[k] ?? emptySeries(false)));
  layout.testCells.forEach((c, k) => push('adset', c.id, c.name, g.cellSeries[k] ?? emptySeries(false)));
  return rows;
}
