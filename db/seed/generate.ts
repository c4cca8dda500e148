// Pure generation of the demo data set: no database here. Given "today" it
// returns every row the seeder writes, the same rows on every run.
//
// Model, per ad set and day: spend follows the campaign's level, a slow trend,
// the vertical's weekday profile and bounded noise; impressions = spend / CPM;
// clicks = impressions x CTR; conversions = clicks x conversion rate (plus
// count noise); value = conversions x value per conversion. Campaign rows are
// the sums of their ad set rows. All randomness comes from seeded streams
// (random.ts), one per campaign and purpose.
//
// Random data has streaks: now and then an ordinary day scores above 3 on a
// robust z-score. The last four weeks are therefore checked (findViolations)
// and any day that stands out gets its noise searched again until it looks
// ordinary, so that an anomaly detector finds only the planted situations.

import {
  AB_TESTS,
  BENCHMARK_MEDIANS,
  BENCHMARK_SOURCE,
  CAMPAIGNS,
  DEMO_TENANTS,
  TYPE_PROFILES,
  WEEKDAY,
  adsetPlatformId,
  campaignName,
  campaignPlatformId,
  demoUuid,
  type AllocationStrategy,
  type BenchmarkMetric,
  type CampaignDef,
  type DemoTenant,
  type Platform,
  type PlantedKind,
  type TypeProfile,
  type Vertical,
} from './catalog';
import { Rng } from './random';
import { median, twoProportionZTest } from './stats';

/** Days of history, ending yesterday. */
export const HISTORY_DAYS = 120;

// ---------------------------------------------------------------------------
// Calendar days as integers (days since 1970-01-01, UTC).
// ---------------------------------------------------------------------------
const DAY_MS = 86_400_000;

export function parseDay(day: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) throw new Error(`invalid day '${day}': expected YYYY-MM-DD`);
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  const back = new Date(ms).toISOString().slice(0, 10);
  if (back !== day) throw new Error(`invalid day '${day}'`);
  return ms / DAY_MS;
}

export function formatDay(epochDay: number): string {
  return new Date(epochDay * DAY_MS).toISOString().slice(0, 10);
}

export function utcToday(): string {
  return new Date().toISOString().slice(0, 10);
}

/** 0 = Sunday, like Date.getUTCDay(). 1970-01-01 was a Thursday. */
export function weekdayOf(epochDay: number): number {
  return (((epochDay + 4) % 7) + 7) % 7;
}

// ---------------------------------------------------------------------------
// Output rows. Money is in cents (integers) until it is written.
// ---------------------------------------------------------------------------
export interface MetricRow {
  platform: Platform;
  level: 'campaign' | 'adset';
  platformId: string;
  day: string;
  entityName: string;
  campaignId: string;
  campaignName: string;
  spendCents: number;
  impressions: number;
  clicks: number;
  conversions: number;
  valueCents: number;
}

export interface BudgetRow {
  id: string;
  platform: Platform;
  campaignId: string;
  campaignName: string;
  dailyBudget: number;
  minBudget: number;
  maxBudget: number;
  strategy: AllocationStrategy;
  targetRoas: number | null;
  targetCpa: number | null;
  createdDay: string;
}

export interface PlatformConfigRow {
  platform: Platform;
  maxCpa: number;
  targetRoas: number | null;
}

export interface VariantTotals {
  impressions: number;
  clicks: number;
  conversions: number;
  spend: number;
  conversion_value: number;
}

export interface AbTestRow {
  id: string;
  testName: string;
  platform: Platform;
  campaignId: string;
  testType: string;
  hypothesis: string;
  primaryMetric: 'conversion_rate';
  variantA: string;
  variantB: string;
  performanceA: VariantTotals;
  performanceB: VariantTotals;
  winner: 'A' | 'B' | 'none' | null;
  statisticalSignificance: number;
  status: 'running' | 'completed';
  startDate: string;
  endDate: string | null;
}

export interface BenchmarkRow {
  platform: Platform;
  industryVertical: Vertical;
  campaignType: 'all';
  metricName: BenchmarkMetric;
  benchmarkValue: number;
  p10: number;
  p25: number;
  p50: number;
  p75: number;
  p90: number;
  sampleSize: number;
  source: string;
  validFrom: string;
}

export interface CampaignSummary {
  platform: Platform;
  campaignId: string;
  campaignName: string;
  adsetIds: string[];
  planted: PlantedKind | null;
  dailyBudget: number;
  /** Ratios of sums over the last 30 days (today-30 .. today-1). */
  cpa30: number;
  roas30: number;
}

export interface Violation {
  campaignId: string;
  entityId: string;
  level: 'campaign' | 'adset';
  day: string;
  metric: MetricName;
  window: WindowName;
  z: number;
}

export interface TenantData {
  tenant: DemoTenant;
  campaigns: CampaignSummary[];
  metrics: MetricRow[];
  budgets: BudgetRow[];
  platformConfigs: PlatformConfigRow[];
  abTests: AbTestRow[];
  /** Unusual recent values left on steady campaigns after damping (expected empty). */
  violations: Violation[];
}

export interface DemoData {
  today: string;
  firstDay: string;
  lastDay: string;
  tenants: TenantData[];
  benchmarks: BenchmarkRow[];
}

// ---------------------------------------------------------------------------
// Campaign layout (ids, names, ad sets) - cheap and pure, shared with planted.ts.
// ---------------------------------------------------------------------------
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

// ---------------------------------------------------------------------------
// Simulation
// ---------------------------------------------------------------------------
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

interface CampaignModel {
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
interface Series {
  spend: Float64Array;
  impressions: Float64Array;
  clicks: Float64Array;
  conversions: Float64Array;
  value: Float64Array;
}

function emptySeries(): Series {
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

function buildModel(layout: CampaignLayout): CampaignModel {
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

const LAST = HISTORY_DAYS - 1;
/** Planted windows, as day indexes (LAST = yesterday). */
const CPA_DOUBLED_FROM = HISTORY_DAYS - 7;
const TRACKING_DROP_FROM = HISTORY_DAYS - 2;
const SPIKE_DAY = LAST;
export const SPEND_SPIKE_FACTOR = 3.5;
/** cpa_doubled: CPA of the last 7 days over CPA of the 30 days before. */
export const CPA_FACTOR = 2;

/** Relative noise of channel ch for ad set a on day i: campaign-wide plus the ad set's own, damped by calm. */
function noiseAt(model: CampaignModel, a: AdsetModel, ch: number, i: number): number {
  const calm = model.calm[i] ?? 1;
  return calm * ((COMMON[ch] ?? 0) * (model.common[ch]?.[i] ?? 0) + (OWN[ch] ?? 0) * (a.noise[ch]?.[i] ?? 0));
}

function simulate(model: CampaignModel, weekdays: readonly number[]): Series[] {
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

function sumSeries(parts: readonly Series[]): Series {
  const total = emptySeries();
  for (const s of parts) {
    for (let i = 0; i < HISTORY_DAYS; i++) {
      total.spend[i] = (total.spend[i] ?? 0) + (s.spend[i] ?? 0);
      total.impressions[i] = (total.impressions[i] ?? 0) + (s.impressions[i] ?? 0);
      total.clicks[i] = (total.clicks[i] ?? 0) + (s.clicks[i] ?? 0);
      total.conversions[i] = (total.conversions[i] ?? 0) + (s.conversions[i] ?? 0);
      total.value[i] = (total.value[i] ?? 0) + (s.value[i] ?? 0);
    }
  }
  return total;
}

/** Recomputes day i of every ad set and of the campaign total, in place. */
function recomputeDay(model: CampaignModel, weekdays: readonly number[], adsets: readonly Series[], campaign: Series, i: number): void {
  simulateDays(model, weekdays, adsets, i, i);
  campaign.spend[i] = 0;
  campaign.impressions[i] = 0;
  campaign.clicks[i] = 0;
  campaign.conversions[i] = 0;
  campaign.value[i] = 0;
  for (const s of adsets) {
    campaign.spend[i] = (campaign.spend[i] ?? 0) + (s.spend[i] ?? 0);
    campaign.impressions[i] = (campaign.impressions[i] ?? 0) + (s.impressions[i] ?? 0);
    campaign.clicks[i] = (campaign.clicks[i] ?? 0) + (s.clicks[i] ?? 0);
    campaign.conversions[i] = (campaign.conversions[i] ?? 0) + (s.conversions[i] ?? 0);
    campaign.value[i] = (campaign.value[i] ?? 0) + (s.value[i] ?? 0);
  }
}

// ---------------------------------------------------------------------------
// Steadiness check: robust z-score of each recent day against the windows a
// detector is likely to use. Planted days and metrics are left out.
// ---------------------------------------------------------------------------
export type MetricName =
  | 'spend'
  | 'impressions'
  | 'clicks'
  | 'conversions'
  | 'conversion_value'
  | 'cpa'
  | 'roas'
  | 'cpc'
  | 'cpm'
  | 'ctr'
  | 'conversion_rate';
export type WindowName = 'same_weekday_8w' | 'previous_28d';

const METRICS: readonly MetricName[] = [
  'spend',
  'impressions',
  'clicks',
  'conversions',
  'conversion_value',
  'cpa',
  'roas',
  'cpc',
  'cpm',
  'ctr',
  'conversion_rate',
];
const CONVERSION_METRICS: ReadonlySet<MetricName> = new Set(['conversions', 'conversion_value', 'cpa', 'roas', 'conversion_rate']);
const WINDOWS: Readonly<Record<WindowName, readonly number[]>> = {
  same_weekday_8w: [7, 14, 21, 28, 35, 42, 49, 56],
  previous_28d: Array.from({ length: 28 }, (_, k) => k + 1),
};
/**
 * Days checked: campaigns over the last four weeks (what a detector, or a
 * backfill of it, looks at), ad sets over the last week (their smaller
 * counts are lumpier; detectors mostly judge campaigns).
 */
const CHECK_FROM = HISTORY_DAYS - 28;
const ADSET_CHECK_FROM = HISTORY_DAYS - 7;
const CHECK_DAYS = Array.from({ length: HISTORY_DAYS - CHECK_FROM }, (_, k) => CHECK_FROM + k);
/** A steady day stays below this robust z (detectors default to 3.5). */
export const STEADY_Z = 3.0;
/**
 * Floors of the robust z's scale, so that the check does not demand the
 * impossible. The MAD counts as at least MAD_FLOOR x the median: otherwise a
 * run of equal integer counts (six Mondays at exactly 199 clicks happens)
 * gives MAD = 0 and an infinite score to any other value. And the scale is
 * at least POISSON_SHARE of the Poisson noise of the day's count behind the
 * metric (sqrt(n) for n conversions): eight quiet weeks in a row do not make
 * an ordinary count unusual.
 */
export const MAD_FLOOR = 0.005;
export const POISSON_SHARE = 0.5;

function ratio(a: number, b: number): number {
  return b === 0 ? Number.NaN : a / b;
}

function metricValue(s: Series, metric: MetricName, i: number): number {
  const spend = (s.spend[i] ?? 0) / 100;
  const imp = s.impressions[i] ?? 0;
  const clicks = s.clicks[i] ?? 0;
  const conv = s.conversions[i] ?? 0;
  const value = (s.value[i] ?? 0) / 100;
  switch (metric) {
    case 'spend':
      return spend;
    case 'impressions':
      return imp;
    case 'clicks':
      return clicks;
    case 'conversions':
      return conv;
    case 'conversion_value':
      return value;
    case 'cpa':
      return ratio(spend, conv);
    case 'roas':
      return ratio(value, spend);
    case 'cpc':
      return ratio(spend, clicks);
    case 'cpm':
      return ratio(spend * 1000, imp);
    case 'ctr':
      return ratio(clicks, imp);
    case 'conversion_rate':
      return ratio(conv, clicks);
  }
}

/** Whether (day, metric) is part of a planted situation, so not expected to look normal. */
function isPlanted(kind: PlantedKind | null, i: number, metric: MetricName): boolean {
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

const WINDOW_LIST = Object.entries(WINDOWS) as [WindowName, readonly number[]][];
const LONGEST_WINDOW = Math.max(...WINDOW_LIST.flatMap(([, offsets]) => offsets));
// Scratch buffers: this check runs a few hundred thousand times per seed, so
// it avoids allocating (and closures) in its inner loops.
const valuesBuf = new Float64Array(HISTORY_DAYS);
const historyBuf = new Float64Array(64);
const deviationBuf = new Float64Array(64);

/**
 * Robust z of x against historyBuf[0..n): (x - median) / scale, where scale
 * is 1.4826 MAD but at least relFloor x |median|. Sorts the buffer.
 */
function robustZOfBuffer(x: number, n: number, relFloor: number): number {
  const h = historyBuf.subarray(0, n);
  h.sort();
  const mid = n >> 1;
  const med = n % 2 === 1 ? (h[mid] ?? 0) : ((h[mid - 1] ?? 0) + (h[mid] ?? 0)) / 2;
  const d = deviationBuf.subarray(0, n);
  for (let k = 0; k < n; k++) d[k] = Math.abs((h[k] ?? 0) - med);
  d.sort();
  const mad = n % 2 === 1 ? (d[mid] ?? 0) : ((d[mid - 1] ?? 0) + (d[mid] ?? 0)) / 2;
  const scale = Math.max(1.4826 * mad, relFloor * Math.abs(med));
  const dev = x - med;
  if (scale === 0) return dev === 0 ? 0 : dev > 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  return dev / scale;
}

/** The count behind a metric, whose Poisson noise no detector should call unusual. */
function eventsBehind(s: Series, metric: MetricName, i: number): number {
  switch (metric) {
    case 'spend':
      return Number.POSITIVE_INFINITY;
    case 'impressions':
    case 'cpm':
      return s.impressions[i] ?? 0;
    case 'clicks':
    case 'ctr':
    case 'cpc':
      return s.clicks[i] ?? 0;
    default:
      return s.conversions[i] ?? 0;
  }
}

function findViolations(
  layout: CampaignLayout,
  campaign: Series,
  adsets: readonly Series[],
  days: readonly string[],
  checkDays: readonly number[] = CHECK_DAYS,
  threshold: number = STEADY_Z,
): Violation[] {
  const kind = layout.def.planted ?? null;
  const found: Violation[] = [];
  let firstNeeded = HISTORY_DAYS;
  let lastNeeded = 0;
  for (const t of checkDays) {
    firstNeeded = Math.min(firstNeeded, Math.max(0, t - LONGEST_WINDOW));
    lastNeeded = Math.max(lastNeeded, t);
  }
  for (let e = 0; e <= layout.adsets.length; e++) {
    const series = e === 0 ? campaign : (adsets[e - 1] ?? emptySeries());
    const entityId = e === 0 ? layout.id : (layout.adsets[e - 1]?.id ?? '');
    const level = e === 0 ? 'campaign' : 'adset';
    for (const metric of METRICS) {
      for (let i = firstNeeded; i <= lastNeeded; i++) valuesBuf[i] = metricValue(series, metric, i);
      for (const t of checkDays) {
        if (e > 0 && t < ADSET_CHECK_FROM) continue;
        if (isPlanted(kind, t, metric)) continue;
        const x = valuesBuf[t] ?? Number.NaN;
        if (Number.isNaN(x)) continue;
        for (const [window, offsets] of WINDOW_LIST) {
          let n = 0;
          for (const k of offsets) {
            const j = t - k;
            if (j < 0 || isPlanted(kind, j, metric)) continue;
            const v = valuesBuf[j] ?? Number.NaN;
            if (!Number.isNaN(v)) historyBuf[n++] = v;
          }
          if (n < 4) continue;
          const events = eventsBehind(series, metric, t);
          const relFloor = Math.max(1.4826 * MAD_FLOOR, POISSON_SHARE / Math.sqrt(Math.max(events, 1)));
          const z = robustZOfBuffer(x, n, relFloor);
          if (Math.abs(z) > threshold) {
            found.push({ campaignId: layout.id, entityId, level, day: days[t] ?? '', metric, window, z });
          }
        }
      }
    }
  }
  return found;
}

// ---------------------------------------------------------------------------
// Tenant generation
// ---------------------------------------------------------------------------
const round2 = (x: number) => Math.round(x * 100) / 100;
const round1 = (x: number) => Math.round(x * 10) / 10;
const ceilTo = (x: number, step: number) => Math.ceil(x / step - 1e-9) * step;

interface GeneratedCampaign {
  layout: CampaignLayout;
  adsetSeries: Series[];
  campaignSeries: Series;
}

function totalsOver(s: Series, from: number, to: number): { spend: number; conversions: number; value: number } {
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

/** Search budget per unusual day. */
const MAX_SEARCH_STEPS = 300;

function worstZ(found: readonly Violation[]): number {
  let worst = 0;
  for (const v of found) worst = Math.max(worst, Math.abs(v.z));
  return worst;
}

/** All noise values of day i: the campaign's channels, each ad set's, the cap position and the noise scale. */
function snapshotDay(model: CampaignModel, i: number): number[] {
  const values: number[] = [];
  for (const ch of model.common) values.push(ch[i] ?? 0);
  for (const a of model.adsets) for (const ch of a.noise) values.push(ch[i] ?? 0);
  values.push(model.capNoise[i] ?? 0.5, model.calm[i] ?? 1);
  return values;
}

function restoreDay(model: CampaignModel, i: number, values: readonly number[]): void {
  let k = 0;
  for (const ch of model.common) ch[i] = values[k++] ?? 0;
  for (const a of model.adsets) for (const ch of a.noise) ch[i] = values[k++] ?? 0;
  model.capNoise[i] = values[k++] ?? 0.5;
  model.calm[i] = values[k++] ?? 1;
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

/** A random step from a snapshot: every noise value moves by up to `step`; the scale stays in [0.2, 1]. */
function perturb(values: readonly number[], rng: Rng, step: number): number[] {
  const out = values.slice();
  const last = out.length - 1;
  for (let k = 0; k < last - 1; k++) out[k] = clamp((out[k] ?? 0) + step * rng.symmetric(), -1, 1);
  out[last - 1] = clamp((out[last - 1] ?? 0.5) + step * rng.symmetric(), 0, 1);
  out[last] = clamp((out[last] ?? 1) + 0.5 * step * rng.symmetric(), 0.2, 1);
  return out;
}

function generateTenant(tenant: DemoTenant, firstDay: number, today: number): TenantData {
  const days = Array.from({ length: HISTORY_DAYS }, (_, i) => formatDay(firstDay + i));
  const weekdays = Array.from({ length: HISTORY_DAYS }, (_, i) => weekdayOf(firstDay + i));

  const generated: GeneratedCampaign[] = [];
  const violations: Violation[] = [];
  for (const layout of tenantLayouts(tenant)) {
    const model = buildModel(layout);
    const adsetSeries = simulate(model, weekdays);
    const campaignSeries = sumSeries(adsetSeries);
    // Each recent day, in order, must look ordinary against its history. When
    // one does not, search nearby noise for that day (a seeded random walk
    // that keeps only improvements: deterministic) until every metric of the
    // campaign and its ad sets scores at most STEADY_Z, or the budget runs out.
    for (const t of CHECK_DAYS) {
      let bestScore = worstZ(findViolations(layout, campaignSeries, adsetSeries, days, [t], 0));
      if (bestScore <= STEADY_Z) continue;
      let best = snapshotDay(model, t);
      const rng = Rng.stream(`${tenant.id}|${layout.id}|steady|${t}`);
      for (let step = 0; step < MAX_SEARCH_STEPS && bestScore > STEADY_Z; step++) {
        const size = 0.05 + 0.45 * (1 - step / MAX_SEARCH_STEPS);
        const candidate = perturb(best, rng, size);
        restoreDay(model, t, candidate);
        recomputeDay(model, weekdays, adsetSeries, campaignSeries, t);
        const score = worstZ(findViolations(layout, campaignSeries, adsetSeries, days, [t], 0));
        if (score < bestScore) {
          bestScore = score;
          best = candidate;
        }
      }
      restoreDay(model, t, best);
      recomputeDay(model, weekdays, adsetSeries, campaignSeries, t);
    }
    // The spike is relative to the previous same weekdays, which the search may have moved.
    if (layout.def.planted === 'spend_spike') recomputeDay(model, weekdays, adsetSeries, campaignSeries, SPIKE_DAY);
    // Halving the conversion rate doubles CPA only on average: tune the factor
    // until CPA of the last 7 days is 2x that of the 30 days before.
    if (layout.def.planted === 'cpa_doubled') {
      for (let round = 0; round < 4; round++) {
        const last7 = totalsOver(campaignSeries, CPA_DOUBLED_FROM, LAST);
        const before = totalsOver(campaignSeries, CPA_DOUBLED_FROM - 30, CPA_DOUBLED_FROM - 1);
        const ratio = last7.spend / last7.conversions / (before.spend / before.conversions);
        if (Math.abs(ratio - CPA_FACTOR) < 0.01) break;
        model.plantedCvrFactor *= ratio / CPA_FACTOR;
        for (let i = CPA_DOUBLED_FROM; i <= LAST; i++) recomputeDay(model, weekdays, adsetSeries, campaignSeries, i);
      }
    }
    violations.push(...findViolations(layout, campaignSeries, adsetSeries, days));
    generated.push({ layout, adsetSeries, campaignSeries });
  }

  // Metric rows: ad sets, then their campaign (the sum).
  const metrics: MetricRow[] = [];
  for (const g of generated) {
    const { layout } = g;
    const push = (level: 'campaign' | 'adset', platformId: string, entityName: string, s: Series) => {
      for (let i = 0; i < HISTORY_DAYS; i++) {
        metrics.push({
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
  }

  // Budgets: comfortably above recent spend, except the capped winner, which spends it all.
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
        targetRoas = def.targetRoas ?? round1(roas30 / rng.uniform(0.92, 1.2));
        break;
      case 'lead_generation':
        strategy = def.strategy ?? 'target_cpa';
        targetCpa = Math.round(cpa30 * rng.uniform(0.92, 1.15));
        break;
      case 'apps':
        strategy = def.strategy ?? 'target_cpa';
        targetCpa = Math.round(cpa30 * rng.uniform(0.92, 1.15) * 20) / 20;
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
      createdDay: days[0] ?? '',
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

  const abTests = AB_TESTS[tenant.vertical].map((t, k): AbTestRow => {
    const campaign = generated[t.campaignIndex]?.layout;
    if (!campaign) throw new Error(`A/B test '${t.name}': no campaign ${t.campaignIndex}`);
    const totals = (v: (typeof t)['a']): VariantTotals => {
      const conversions = Math.round(v.clicks * v.cvr);
      return {
        impressions: Math.round(v.clicks / v.ctr),
        clicks: v.clicks,
        conversions,
        spend: round2(v.clicks * v.cpc),
        conversion_value: round2(conversions * v.valuePerConversion),
      };
    };
    const a = totals(t.a);
    const b = totals(t.b);
    const test = twoProportionZTest(a.conversions, a.clicks, b.conversions, b.clicks);
    const significance = Math.round(test.significance * 1e5) / 1e5;
    let winner: AbTestRow['winner'] = null;
    if (t.status === 'completed') {
      winner = significance >= 0.95 ? (test.rateB > test.rateA ? 'B' : 'A') : 'none';
      if (winner !== t.expectWinner) throw new Error(`A/B test '${t.name}': computed winner ${winner}, catalogue says ${t.expectWinner}`);
    }
    return {
      id: demoUuid('ab_test', tenant.no, k + 1),
      testName: t.name,
      platform: campaign.def.platform,
      campaignId: campaign.id,
      testType: t.testType,
      hypothesis: t.hypothesis,
      primaryMetric: 'conversion_rate',
      variantA: t.variantA,
      variantB: t.variantB,
      performanceA: a,
      performanceB: b,
      winner,
      statisticalSignificance: significance,
      status: t.status,
      startDate: formatDay(today - t.startDaysAgo),
      endDate: t.endDaysAgo === null ? null : formatDay(today - t.endDaysAgo),
    };
  });

  return { tenant, campaigns, metrics, budgets, platformConfigs, abTests, violations };
}

// ---------------------------------------------------------------------------
// Benchmarks: log-normal spread around each median.
// ---------------------------------------------------------------------------
const Z10 = -1.2815516;
const Z25 = -0.6744898;
const SPREAD: Readonly<Record<BenchmarkMetric, number>> = {
  ctr: 0.45,
  cpc: 0.45,
  cpm: 0.4,
  cpa: 0.5,
  roas: 0.45,
  conversion_rate: 0.5,
};
const DECIMALS: Readonly<Record<BenchmarkMetric, number>> = {
  ctr: 5,
  cpc: 2,
  cpm: 2,
  cpa: 2,
  roas: 3,
  conversion_rate: 5,
};

export function generateBenchmarks(validFrom: string): BenchmarkRow[] {
  const rows: BenchmarkRow[] = [];
  for (const [vertical, byPlatform] of Object.entries(BENCHMARK_MEDIANS) as [Vertical, (typeof BENCHMARK_MEDIANS)[Vertical]][]) {
    for (const [platform, medians] of Object.entries(byPlatform) as [Platform, Record<BenchmarkMetric, number>][]) {
      for (const [metric, med] of Object.entries(medians) as [BenchmarkMetric, number][]) {
        const rng = Rng.stream(`benchmark|${vertical}|${platform}|${metric}`);
        const f = 10 ** DECIMALS[metric];
        const at = (z: number) => Math.round(med * Math.exp(z * SPREAD[metric]) * f) / f;
        const p = [at(Z10), at(Z25), at(0), at(-Z25), at(-Z10)] as const;
        for (let k = 1; k < p.length; k++) {
          if (!((p[k] ?? 0) > (p[k - 1] ?? 0))) throw new Error(`benchmark ${vertical}/${platform}/${metric}: percentiles not increasing`);
        }
        rows.push({
          platform,
          industryVertical: vertical,
          campaignType: 'all',
          metricName: metric,
          benchmarkValue: p[2],
          p10: p[0],
          p25: p[1],
          p50: p[2],
          p75: p[3],
          p90: p[4],
          sampleSize: rng.int(400, 4800),
          source: BENCHMARK_SOURCE,
          validFrom,
        });
      }
    }
  }
  return rows;
}

/** Every row of the demo, for `today` (YYYY-MM-DD, UTC): HISTORY_DAYS days ending the day before. */
export function generateDemoData(today: string): DemoData {
  const t = parseDay(today);
  const firstDay = t - HISTORY_DAYS;
  const firstDayText = formatDay(firstDay);
  return {
    today,
    firstDay: firstDayText,
    lastDay: formatDay(t - 1),
    tenants: DEMO_TENANTS.map((tenant) => generateTenant(tenant, firstDay, t)),
    benchmarks: generateBenchmarks(firstDayText),
  };
}
