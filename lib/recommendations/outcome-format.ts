// Measured outcomes of applied recommendations in words, for the history page:
// signed relative changes ("+12 %", "−100 %") with their 95 % interval, when a
// horizon is due, and each type's track record as one sentence. Pure (no
// database): outcomes.ts reads the engine's figures (db/media_buying/105_outcomes.sql)
// and these helpers write them, so both can be tested apart.
import { formatCalendarDay, formatNumber, type NumberStyle } from '@/lib/format/number';
import { RECOMMENDATION_TYPES } from './schema';

type Locale = Pick<NumberStyle, 'locale'>;

export const OUTCOME_METRICS = ['spend', 'conversions', 'conversion_value', 'cpa', 'roas', 'cpc', 'ctr', 'cpm'] as const;
export type OutcomeMetric = (typeof OUTCOME_METRICS)[number];

/** The metric a prediction is about, as a buyer says it (spend, conversions and value are per day over the period). */
export const METRIC_NAME: Readonly<Record<OutcomeMetric, string>> = {
  spend: 'spend per day',
  conversions: 'conversions per day',
  conversion_value: 'value per day',
  cpa: 'CPA',
  roas: 'ROAS',
  cpc: 'CPC',
  ctr: 'CTR',
  cpm: 'CPM',
};

export function isOutcomeMetric(m: unknown): m is OutcomeMetric {
  return typeof m === 'string' && (OUTCOME_METRICS as readonly string[]).includes(m);
}

const MINUS = '\u2212';
const DASH = '—';

/**
 * A relative change (0.12 = +12 %) signed: whole percents, one decimal under 1 % so a small move does not read
 * as none; "0 %" when it rounds to nothing (never "−0 %"); "—" for a missing, NaN or infinite value.
 */
export function signedPercent(change: number | null, style: Locale): string {
  if (change === null || !Number.isFinite(change)) return DASH;
  const pct = change * 100;
  const digits = Math.abs(pct) < 1 ? 1 : 0;
  const scale = 10 ** digits;
  const rounded = Math.round(Math.abs(pct) * scale) / scale;
  if (rounded === 0) return '0 %';
  return `${pct < 0 ? MINUS : '+'}${formatNumber(rounded, style, digits)} %`;
}

/**
 * A change on the log scale (the engine's difference in differences and its interval) as a relative change:
 * exp(x) - 1. expm1 keeps small changes exact; a value too large to exponentiate gives null, not Infinity.
 */
export function relativeFromLog(x: number | null): number | null {
  if (x === null || !Number.isFinite(x)) return null;
  const r = Math.expm1(x);
  return Number.isFinite(r) ? r : null;
}

/** One horizon (7 or 14 days after the day it was applied) of one applied recommendation. */
export interface HorizonOutcome {
  horizon: 7 | 14;
  /** The last day of the post period: measured once the platform's figures of that day are in. */
  dueDay: string;
  measured: boolean;
  measuredAt: string | null;
  /** Realised change net of the controls, exp(did) - 1; -1 for a fall to zero (no log estimate then). */
  realised: number | null;
  /** 95 % interval of `realised` (exp of the engine's log-scale bounds, minus 1); null with fewer than 2 controls. */
  lower: number | null;
  upper: number | null;
  /** The entity's own change, post over pre minus 1, before netting out the controls. */
  entityChange: number | null;
  /** The controls' typical change, exp(mean log change) - 1. */
  controlChange: number | null;
  /** Comparable entities (same platform and level, nothing applied in the window). */
  controls: number | null;
  /** Whether it moved the way predicted; null when the prediction had no direction (0). */
  directionHeld: boolean | null;
}

/** An applied recommendation's prediction and what was measured; `recorded` false: nothing to measure. */
export interface RecommendationOutcome {
  id: string;
  /** False when the engine recorded no outcome: no platform entity, or no prediction it could make. */
  recorded: boolean;
  metric: OutcomeMetric | null;
  /** Predicted relative change of the metric (-0.4: a fall of 40 %). */
  expectedChange: number | null;
  /** The horizon the prediction names (7 unless its evidence says otherwise); both horizons are measured. */
  horizonDays: number | null;
  predictionSource: 'evidence' | 'default' | null;
  appliedDay: string | null;
  h7: HorizonOutcome | null;
  h14: HorizonOutcome | null;
}

export type HorizonState = 'due' | 'estimate' | 'no_interval' | 'fell_to_zero' | 'no_estimate';

export function horizonState(h: HorizonOutcome): HorizonState {
  if (!h.measured) return 'due';
  if (h.realised === null) return 'no_estimate';
  // No log estimate but a realised -1: the entity's metric went to zero (a pause that held).
  if (h.realised === -1 && h.entityChange === -1 && h.lower === null) return 'fell_to_zero';
  if (h.lower === null || h.upper === null) return 'no_interval';
  return 'estimate';
}

/** "value per day +25 %", or "nothing to measure". */
export function predictedText(o: RecommendationOutcome, style: Locale): string {
  if (!o.recorded || o.metric === null || o.expectedChange === null) return 'nothing to measure';
  return `${METRIC_NAME[o.metric]} ${signedPercent(o.expectedChange, style)}`;
}

/** The muted line under the prediction: why there is nothing to measure, or what it was measured against. */
export function predictedNote(o: RecommendationOutcome): string {
  if (!o.recorded) return 'no platform entity or no prediction';
  return o.predictionSource === 'default' ? 'the default for its type' : 'as the recommendation stated';
}

/**
 * A horizon in a cell: "+12 % (−3 % to +28 %)", "due 12 Dec", or why there is no interval or estimate. With the
 * tenant's last complete day, a due day already past says it is late, and a due day of another year names it.
 */
export function horizonText(h: HorizonOutcome | null, style: Locale, lastDay?: string): string {
  if (!h) return DASH;
  switch (horizonState(h)) {
    case 'due': {
      const day = formatCalendarDay(h.dueDay, style.locale, { year: lastDay !== undefined && lastDay.slice(0, 4) !== h.dueDay.slice(0, 4) });
      return lastDay !== undefined && h.dueDay <= lastDay ? `due ${day}, not measured yet` : `due ${day}`;
    }
    case 'estimate':
      return `${signedPercent(h.realised, style)} (${signedPercent(h.lower, style)} to ${signedPercent(h.upper, style)})`;
    case 'no_interval':
      return (h.controls ?? 0) < 2
        ? `${signedPercent(h.realised, style)}, no interval (fewer than 2 comparable entities)`
        : `${signedPercent(h.realised, style)}, no interval`;
    case 'fell_to_zero':
      return `${signedPercent(-1, style)} (fell to zero)`;
    case 'no_estimate':
      return 'measured, no estimate (no figures to compare)';
  }
}

/** The muted line under a measured horizon: direction, the entity's own change, how many it was compared with. */
export function horizonNote(h: HorizonOutcome | null, style: Locale): string | null {
  if (!h || !h.measured) return null;
  const parts: string[] = [];
  if (h.directionHeld !== null) parts.push(h.directionHeld ? 'direction right' : 'direction wrong');
  const own = h.entityChange !== null && Number.isFinite(h.entityChange) ? `own change ${signedPercent(h.entityChange, style)}` : null;
  const n = h.controls ?? 0;
  const against = n === 0 ? 'no comparable entity' : `${formatNumber(n, style)} comparable`;
  parts.push(own ? `${own}, ${against}` : against);
  return parts.join('; ');
}

// ---------------------------------------------------------------------------
// Track record
// ---------------------------------------------------------------------------

/** The engine ignores a type's record below this many measured outcomes (its confidence factor stays 1). */
export const TRACK_RECORD_MIN = 5;

const PLURAL: Readonly<Record<string, string>> = {
  budget_increase: 'Budget increases',
  budget_decrease: 'Budget decreases',
  pause: 'Pauses',
  bid_adjustment: 'Bid adjustments',
  // Not countable as such: the change is what there are several of.
  audience: 'Audience changes',
  creative: 'Creative refreshes',
  timing: 'Timing changes',
};

/** A type named as a group: "Budget increases", "Pauses"; an unknown type "<its words> recommendations". */
export function pluralTypeLabel(type: string): string {
  return PLURAL[type] ?? `${type.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase())} recommendations`;
}

export interface TrackRecordFigures {
  type: string;
  /** n: outcomes measured with a direction (the 14-day figure when measured, else the 7-day). */
  measured: number;
  /** k: of those, how many moved the predicted way. */
  held: number;
  /** The median of realised over predicted change; null when none could be computed. */
  realisedOverPredicted: number | null;
}

/**
 * "Budget increases: direction right 14 of 17, realised 70 % of predicted"; under 5 measured, the counts and
 * "too few measured to judge (under 5)", as the engine does not use them yet.
 */
export function trackRecordSentence(r: TrackRecordFigures, style: Locale): string {
  const head = `${pluralTypeLabel(r.type)}: direction right ${formatNumber(r.held, style)} of ${formatNumber(r.measured, style)}`;
  if (r.measured < TRACK_RECORD_MIN) return `${head}, too few measured to judge (under ${TRACK_RECORD_MIN})`;
  const ratio = r.realisedOverPredicted;
  if (ratio === null || !Number.isFinite(ratio)) return head;
  const pct = Math.round(ratio * 100);
  const amount = pct === 0 ? '0 %' : `${pct < 0 ? MINUS : ''}${formatNumber(Math.abs(pct), style)} %`;
  return `${head}, realised ${amount} of predicted`;
}

/** Types in the order the queue lists them; unknown ones after, by name. */
export function typeOrder(a: string, b: string): number {
  const rank = (t: string) => {
    const i = (RECOMMENDATION_TYPES as readonly string[]).indexOf(t);
    return i < 0 ? RECOMMENDATION_TYPES.length : i;
  };
  return rank(a) - rank(b) || a.localeCompare(b);
}
