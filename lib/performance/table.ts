// The figures of the campaign / ad set table: each row's rates and their
// changes against the comparison, and the totals row over the rows in view.
// Rates of several rows are ratios of their sums (ROAS = Σ value / Σ spend),
// never averages of the rows' rates. Pure; the table component shows these.
import { addTotals, changePercent, changeTone, metricOf, platformLabel, ZERO_TOTALS, type Platform, type Totals } from './metrics';
import type { EntityRow, Rating } from './types';

export type Tone = 'good' | 'bad' | 'neutral';

/** The metrics of the table that carry a change against the comparison. */
export const DELTA_METRICS = ['spend', 'roas', 'cpa', 'ctr'] as const;
export type DeltaMetric = (typeof DELTA_METRICS)[number];

export interface RowFigures {
  spend: number;
  conversions: number;
  value: number;
  /** Null where the denominator is 0 (no spend, no conversions, no impressions). */
  roas: number | null;
  cpa: number | null;
  /** A fraction (0.0123 is 1.23 %). */
  ctr: number | null;
  /** Changes in percent against the comparison (12.5 is +12.5 %); null without a comparison figure. */
  delta: Readonly<Record<DeltaMetric, number | null>>;
  /** good / bad / neutral for each change: up is good for ROAS and CTR, bad for CPA, neither for spend. */
  tone: Readonly<Record<DeltaMetric, Tone>>;
}

/** The figures of some current totals against their comparison totals. */
export function figuresOf(current: Totals, comparison: Totals): RowFigures {
  const delta = {} as Record<DeltaMetric, number | null>;
  const tone = {} as Record<DeltaMetric, Tone>;
  for (const m of DELTA_METRICS) {
    delta[m] = changePercent(metricOf(current, m), metricOf(comparison, m));
    tone[m] = changeTone(m, delta[m]);
  }
  return {
    spend: current.spend,
    conversions: current.conversions,
    value: current.value,
    roas: metricOf(current, 'roas'),
    cpa: metricOf(current, 'cpa'),
    ctr: metricOf(current, 'ctr'),
    delta,
    tone,
  };
}

export function rowFigures(row: Pick<EntityRow, 'current' | 'comparison'>): RowFigures {
  return figuresOf(row.current, row.comparison);
}

export interface TotalsFigures extends RowFigures {
  /** How many rows were summed. */
  rows: number;
  /** The platforms among them, in order of first appearance. */
  platforms: Platform[];
  current: Totals;
  comparison: Totals;
  /** "Total (12 rows)", or with several platforms "Total (12 rows), 3 platforms (each attributes conversions its own way)". */
  label: string;
}

/** The totals label: conversions summed across platforms are each platform's own attribution, and say so. */
export function totalsLabel(rows: number, platforms: number): string {
  const base = `Total (${rows} ${rows === 1 ? 'row' : 'rows'})`;
  return platforms > 1 ? `${base}, ${platforms} platforms (each attributes conversions its own way)` : base;
}

/** The totals row: sums of the volumes, then every rate and change from those sums. */
export function totalsOf(rows: readonly Pick<EntityRow, 'platform' | 'current' | 'comparison'>[]): TotalsFigures {
  let current: Totals = ZERO_TOTALS;
  let comparison: Totals = ZERO_TOTALS;
  const platforms: Platform[] = [];
  for (const r of rows) {
    current = addTotals(current, r.current);
    comparison = addTotals(comparison, r.comparison);
    if (!platforms.includes(r.platform)) platforms.push(r.platform);
  }
  return {
    ...figuresOf(current, comparison),
    rows: rows.length,
    platforms,
    current,
    comparison,
    label: totalsLabel(rows.length, platforms.length),
  };
}

/** The platforms of a totals row as written in its platform cell. */
export function platformsText(platforms: readonly Platform[]): string {
  return platforms.map(platformLabel).join(', ');
}

/** Best first; "Insufficient data" is no rank at all (it sorts last either way). */
export const RATINGS: readonly Rating[] = ['Excellent', 'Good', 'Average', 'Poor', 'Critical', 'Insufficient data'];

/** Higher is better: Excellent 5 … Critical 1; null for "Insufficient data". */
export function ratingRank(r: Rating): number | null {
  switch (r) {
    case 'Excellent':
      return 5;
    case 'Good':
      return 4;
    case 'Average':
      return 3;
    case 'Poor':
      return 2;
    case 'Critical':
      return 1;
    case 'Insufficient data':
      return null;
  }
}

/** The badge colour of a rating (its text is always shown too). */
export type RatingTone = 'best' | 'good' | 'neutral' | 'warn' | 'bad' | 'none';

export function ratingTone(r: Rating): RatingTone {
  switch (r) {
    case 'Excellent':
      return 'best';
    case 'Good':
      return 'good';
    case 'Average':
      return 'neutral';
    case 'Poor':
      return 'warn';
    case 'Critical':
      return 'bad';
    case 'Insufficient data':
      return 'none';
  }
}

/** The muted label of a campaign's budget status; null when active or unknown. */
export function statusLabel(status: EntityRow['budgetStatus']): string | null {
  return status === 'paused' ? 'Paused' : status === 'ended' ? 'Ended' : null;
}
