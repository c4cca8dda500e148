// Steadiness: random data has streaks, so now and then an ordinary day scores
// above 3 on a robust z-score. Each recent day is checked against the windows
// a detector is likely to use (planted days and metrics left out), and a day
// that stands out gets its noise searched again until it looks ordinary, so
// that an anomaly detector finds only the planted situations.

import { HISTORY_DAYS } from './dates';
import type { CampaignLayout } from './layout';
import { isPlanted } from './planted';
import { Rng } from './random';
import type { MetricName, Violation, WindowName } from './rows';
import { emptySeries, recomputeDay, type CampaignModel, type Series } from './series';

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

export function findViolations(
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
// The search: a seeded random walk over one day's noise.
// ---------------------------------------------------------------------------

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

/**
 * Each recent day, in order, must look ordinary against its history. When
 * one does not, search nearby noise for that day (a seeded random walk that
 * keeps only improvements: deterministic) until every metric of the campaign
 * and its ad sets scores at most STEADY_Z, or the budget runs out. Changes
 * the model and both series in place.
 */
export function steadyRecentDays(
  model: CampaignModel,
  weekdays: readonly number[],
  adsetSeries: readonly Series[],
  campaignSeries: Series,
  days: readonly string[],
): void {
  const { layout } = model;
  for (const t of CHECK_DAYS) {
    let bestScore = worstZ(findViolations(layout, campaignSeries, adsetSeries, days, [t], 0));
    if (bestScore <= STEADY_Z) continue;
    let best = snapshotDay(model, t);
    const rng = Rng.stream(`${layout.tenant.id}|${layout.id}|steady|${t}`);
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
}
