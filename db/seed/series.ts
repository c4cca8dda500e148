// The metric time series of one campaign and its ad sets, simulated day by
// day. Model, per ad set and day: spend follows the campaign's level, a slow
// trend, the vertical's weekday profile and bounded noise; impressions =
// spend / CPM; clicks = impressions x CTR; conversions = clicks x conversion
// rate (plus count noise); value = conversions x value per conversion.
// Campaign rows are the sums of their ad set rows. All randomness comes from
// seeded streams (random.ts), one per campaign and purpose.

import { WEEKDAY, type Vertical } from './catalog';
import { HISTORY_DAYS, LAST } from './dates';
import type { AdsetLayout, CampaignLayout } from './layout';
import { CPA_DOUBLED_FROM, CPA_FACTOR, SPEND_SPIKE_FACTOR, SPIKE_DAY, TRACKING_DROP_FROM } from './planted';
import { Rng } from './random';
import type { MetricRow } from './rows';

/**
 * Uniform noise amplitudes (fractions) per channel: spend, cpm, ctr, cvr,
 * value per conversion. COMMON moves the whole campaign (auction pressure,
 * site conversion rate), OWN each ad set on its own, so campaign rows are as
 * lively as their ad sets. Counts get their own, Poisson-sized noise (COUNT),
 * and order values a basket-size noise (BASKET).
 */
const COMMON = [0.07, 0.05, 0.05, 0.05, 0.04] as const;
const OWN = [0.03, 0.03, 0.03, 0.03, 0.02] as const;
const [SPEND, CPM, CTR, CVR, VALUE, COUNT, BASKET] = [0, 1, 2, 3, 4, 5, 6] as const;
const CHANNELS = 7;
const SQRT3 = Math.sqrt(3);
/**
 * Conversions are counts: a day with n expected conversions varies by about
 * sqrt(n) (Poisson), by 0.8 sqrt(n) here, with bounded (uniform) noise. Order
 * values average over the day's orders, so their mean varies like 1/sqrt(n).
 */
const COUNT_SD = 0.8;
const ORDER_VALUE_SD = 0.45;

interface AdsetModel extends AdsetLayout {
  cpmMul: number;
  ctrMul: number;
  cvrMul: number;
  valueMul: number;
  /** noise[channel][day] in [-1, 1): spend, cpm, ctr, cvr, value, count, basket. */
  noise: Float64Array[];
}

export interface CampaignModel {
  layout: CampaignLayout;
  vertical: Vertical;
  cpm: number;
  ctr: number;
  cvr: number;
  valuePerConversion: number;
  baseSpend: number;
  spendTrend: number;
  cvrTrend: number;
  adsets: AdsetModel[];
  /** Campaign-wide noise[channel][day] in [-1, 1]. */
  common: Float64Array[];
  /** cpa_doubled: the conversion rate factor of the last 7 days (about 0.5, tuned so CPA doubles exactly). */
  plantedCvrFactor: number;
  /** Per-day scale of the noise: 1, unless the steadiness search lowered it for a day. */
  calm: Float64Array;
  /** Capped campaign: per-day position (0..1) of spend between 98.5 % and 99.8 % of the budget. */
  capNoise: Float64Array;
}

/** Per entity and day, integer counts; money in cents. */
export interface Series {
  spend: Float64Array;
  impressions: Float64Array;
  clicks: Float64Array;
  conversions: Float64Array;
  value: Float64Array;
}

export function emptySeries(): Series {
  return {
    spend: new Float64Array(HISTORY_DAYS),
    impressions: new Float64Array(HISTORY_DAYS),
    clicks: new Float64Array(HISTORY_DAYS),
    conversions: new Float64Array(HISTORY_DAYS),
    value: new Float64Array(HISTORY_DAYS),
  };
}

function uniformNoise(rng: Rng): Float64Array {
  return Float64Array.from({ length: HISTORY_DAYS }, () => rng.symmetric());
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
  const commonRng = Rng.stream(`${tenant.id}|${layout.id}|common`);
  const common = Array.from({ length: CHANNELS }, () => uniformNoise(commonRng));
  const adsets: AdsetModel[] = layout.adsets.map((a) => {
    const r = Rng.stream(`${tenant.id}|${a.id}|adset`);
    return {
      ...a,
      cpmMul: r.uniform(0.93, 1.07),
      ctrMul: r.uniform(0.9, 1.1),
      cvrMul: r.uniform(0.9, 1.1),
      valueMul: r.uniform(0.95, 1.05),
      noise: Array.from({ length: CHANNELS }, () => uniformNoise(r)),
    };
  });
  const capRng = Rng.stream(`${tenant.id}|${layout.id}|cap`);
  return {
    layout,
    vertical: tenant.vertical,
    cpm,
    ctr,
    cvr: cpc / layout.cpa,
    valuePerConversion,
    baseSpend: layout.conversions * layout.cpa,
    spendTrend,
    cvrTrend,
    adsets,
    common,
    plantedCvrFactor: 0.5,
    calm: new Float64Array(HISTORY_DAYS).fill(1),
    capNoise: Float64Array.from({ length: HISTORY_DAYS }, () => capRng.float()),
  };
}

/** Relative noise of channel ch for ad set a on day i: campaign-wide plus the ad set's own, damped by calm. */
function noiseAt(model: CampaignModel, a: AdsetModel, ch: number, i: number): number {
  const calm = model.calm[i] ?? 1;
  return calm * ((COMMON[ch] ?? 0) * (model.common[ch]?.[i] ?? 0) + (OWN[ch] ?? 0) * (a.noise[ch]?.[i] ?? 0));
}

export function simulate(model: CampaignModel, weekdays: readonly number[]): Series[] {
  const out: Series[] = [];
  for (let k = 0; k < model.adsets.length; k++) out.push(emptySeries());
  simulateDays(model, weekdays, out, 0, LAST);
  return out;
}

/** Computes days from..to (inclusive) of every ad set into out. Days are independent, except the planted spike. */
function simulateDays(model: CampaignModel, weekdays: readonly number[], out: readonly Series[], from: number, to: number): void {
  const { layout, vertical, adsets } = model;
  const planted = layout.def.planted ?? null;
  const wd = WEEKDAY[vertical];
  const spendCents = new Float64Array(adsets.length);

  for (let i = from; i <= to; i++) {
    const w = weekdays[i] ?? 0;
    const calm = model.calm[i] ?? 1;
    const trendPos = (i - LAST) / LAST;
    const spendLevel = model.baseSpend * Math.exp(model.spendTrend * trendPos) * (wd.spend[w] ?? 1);
    let cvr = model.cvr * Math.exp(model.cvrTrend * trendPos) * (wd.cvr[w] ?? 1);
    if (planted === 'cpa_doubled' && i >= CPA_DOUBLED_FROM) cvr *= model.plantedCvrFactor;

    // Ad set spend in cents. A capped campaign spends (almost) its whole
    // budget every day, shared out among its ad sets.
    if (planted === 'budget_capped_winner') {
      const budget = layout.def.dailyBudget ?? 0;
      const pos = 0.5 + ((model.capNoise[i] ?? 0.5) - 0.5) * calm;
      const total = Math.round(budget * 100 * (0.985 + 0.013 * pos));
      let wsum = 0;
      for (let k = 0; k < adsets.length; k++) {
        const a = adsets[k];
        const weight = a ? a.share * (1 + noiseAt(model, a, SPEND, i)) : 0;
        spendCents[k] = weight;
        wsum += weight;
      }
      let left = total;
      for (let k = 0; k < adsets.length; k++) {
        const c = k === adsets.length - 1 ? left : Math.round((total * (spendCents[k] ?? 0)) / wsum);
        spendCents[k] = c;
        left -= c;
      }
    } else {
      for (let k = 0; k < adsets.length; k++) {
        const a = adsets[k];
        spendCents[k] = a ? Math.round(spendLevel * a.share * (1 + noiseAt(model, a, SPEND, i)) * 100) : 0;
      }
    }

    for (let k = 0; k < adsets.length; k++) {
      const a = adsets[k];
      const s = out[k];
      if (!a || !s) continue;
      const spend = spendCents[k] ?? 0;
      const cpm = model.cpm * a.cpmMul * (1 + noiseAt(model, a, CPM, i));
      const impressions = Math.round((spend / 100 / cpm) * 1000);
      const clicks = Math.round(impressions * model.ctr * a.ctrMul * (1 + noiseAt(model, a, CTR, i)));
      const expected = clicks * cvr * a.cvrMul * (1 + noiseAt(model, a, CVR, i));
      const countNoise = calm * SQRT3 * COUNT_SD * Math.sqrt(expected) * (a.noise[COUNT]?.[i] ?? 0);
      let conversions = Math.max(0, Math.round(expected + countNoise));
      // Lead values are set per lead type by the advertiser and barely move;
      // order and in-app purchase values average over the day's conversions.
      const valueNoise =
        vertical === 'lead_generation'
          ? 0.4 * noiseAt(model, a, VALUE, i)
          : noiseAt(model, a, VALUE, i) +
            (calm * SQRT3 * ORDER_VALUE_SD * (a.noise[BASKET]?.[i] ?? 0)) / Math.sqrt(Math.max(conversions, 1));
      let value = Math.round(conversions * model.valuePerConversion * a.valueMul * Math.max(0.2, 1 + valueNoise) * 100);
      if (planted === 'tracking_drop' && i >= TRACKING_DROP_FROM) {
        conversions = 0;
        value = 0;
      }
      s.spend[i] = spend;
      s.impressions[i] = impressions;
      s.clicks[i] = clicks;
      s.conversions[i] = conversions;
      s.value[i] = value;
    }
  }

  if (planted === 'spend_spike' && from <= SPIKE_DAY && SPIKE_DAY <= to) {
    // Yesterday: spend jumps to SPEND_SPIKE_FACTOR x the mean of the four
    // previous same weekdays; delivery grows far less (the platform bought
    // dear impressions) and conversions stay where they were.
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
}

const FIELDS = ['spend', 'impressions', 'clicks', 'conversions', 'value'] as const;

/** Adds day i of s into total. */
function addDay(total: Series, s: Series, i: number): void {
  for (const f of FIELDS) total[f][i] = (total[f][i] ?? 0) + (s[f][i] ?? 0);
}

export function sumSeries(parts: readonly Series[]): Series {
  const total = emptySeries();
  for (const s of parts) {
    for (let i = 0; i < HISTORY_DAYS; i++) addDay(total, s, i);
  }
  return total;
}

/** Recomputes day i of every ad set and of the campaign total, in place. */
export function recomputeDay(model: CampaignModel, weekdays: readonly number[], adsets: readonly Series[], campaign: Series, i: number): void {
  simulateDays(model, weekdays, adsets, i, i);
  for (const f of FIELDS) campaign[f][i] = 0;
  for (const s of adsets) addDay(campaign, s, i);
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


/**
 * The planted situations' last touch, once the steadiness search has moved
 * the noise of recent days: the spike is relative to the previous same
 * weekdays, and halving the conversion rate doubles CPA only on average, so
 * its factor is tuned until CPA of the last 7 days is 2x that of the 30 days
 * before.
 */
export function settlePlanted(model: CampaignModel, weekdays: readonly number[], adsetSeries: readonly Series[], campaignSeries: Series): void {
  const planted = model.layout.def.planted;
  if (planted === 'spend_spike') recomputeDay(model, weekdays, adsetSeries, campaignSeries, SPIKE_DAY);
  if (planted === 'cpa_doubled') {
    for (let round = 0; round < 4; round++) {
      const last7 = totalsOver(campaignSeries, CPA_DOUBLED_FROM, LAST);
      const before = totalsOver(campaignSeries, CPA_DOUBLED_FROM - 30, CPA_DOUBLED_FROM - 1);
      const ratio = last7.spend / last7.conversions / (before.spend / before.conversions);
      if (Math.abs(ratio - CPA_FACTOR) < 0.01) break;
      model.plantedCvrFactor *= ratio / CPA_FACTOR;
      for (let i = CPA_DOUBLED_FROM; i <= LAST; i++) recomputeDay(model, weekdays, adsetSeries, campaignSeries, i);
    }
  }
}

export interface GeneratedCampaign {
  layout: CampaignLayout;
  adsetSeries: Series[];
  campaignSeries: Series;
}

/** Metric rows of one campaign: the campaign (the sum), then its ad sets. */
export function metricRows(g: GeneratedCampaign, days: readonly string[]): MetricRow[] {
  const { layout } = g;
  const rows: MetricRow[] = [];
  const push = (level: 'campaign' | 'adset', platformId: string, entityName: string, s: Series) => {
    for (let i = 0; i < HISTORY_DAYS; i++) {
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
  layout.adsets.forEach((a, k) => push('adset', a.id, a.name, g.adsetSeries[k] ?? emptySeries()));
  return rows;
}
