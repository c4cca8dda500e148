// The shapes the performance page's server reads hand to its components:
// plain, serialisable data (numbers, strings, nulls), nothing computed on the
// client that the server could get wrong differently.
import type { NumberStyle } from '@/lib/format/number';
import type { Level, Metric, Platform, Totals } from './metrics';
import type { Period, PerformanceView } from './filters';

/** How the tenant writes numbers and days, and which benchmarks apply. */
export interface TenantStyle extends NumberStyle {
  timezone: string;
  /** saas.tenants.vertical; null when not set (no industry benchmarks then). */
  vertical: string | null;
}

export interface PlatformFigure {
  platform: Platform;
  current: number | null;
  comparison: number | null;
  changePct: number | null;
}

export interface KpiCard {
  metric: Metric;
  current: number | null;
  comparison: number | null;
  changePct: number | null;
  /** Muted note where the comparison has too little data to mean much (e.g. "Under 10 conversions in the baseline"); null otherwise. */
  thinNote: string | null;
  /** The metric per day of the range, oldest first (null where undefined that day). */
  spark: (number | null)[];
  /** Each platform's own figure; for conversions and value the total is the labelled sum of these. */
  perPlatform: PlatformFigure[];
  /** Industry median and p10/p90 of this metric, when exactly one platform is in view and the tenant has a vertical; null otherwise. */
  industry: { platform: Platform; vertical: string; p10: number | null; p50: number; p90: number | null } | null;
}

export interface AnomalyMark {
  id: string;
  day: string;
  platform: Platform;
  entityName: string;
  metricName: string;
  severity: 'low' | 'medium' | 'high' | 'critical';
  anomalyType: string;
  /** Where the anomaly opens (the board, on this card). */
  href: string;
}

export interface SeriesPoint {
  day: string;
  value: number | null;
  /** The expected value: the metric over the 28 days before this day (ratio of sums); null without history. */
  expected: number | null;
  /** The expected range for one day: expected ± 1.96 × the day-to-day spread of those 28 days (low floored at 0). */
  low: number | null;
  high: number | null;
  /** Conversions of this day are still coming in (conversion metrics only). */
  provisional: boolean;
}

export interface ChartData {
  metric: Metric;
  series: SeriesPoint[];
  /** The metric per day for each platform in view. */
  byPlatform: { platform: Platform; values: (number | null)[] }[];
  /** Anomalies of the metric (any entity of the level in view) on days of the range. */
  anomalies: AnomalyMark[];
  /** First provisional day, or null. */
  provisionalFrom: string | null;
}

export type FunnelFactor = 'cpm' | 'ctr' | 'cvr' | 'aov';

export interface FactorChange {
  factor: FunnelFactor;
  current: number | null;
  comparison: number | null;
  /** current / comparison. */
  ratio: number | null;
  /** The factor's multiplicative effect on the target (1/ratio for CPM under ROAS, ...); the effects multiply to the target's ratio. */
  effect: number | null;
  /** Share of the target's log change, in percent (signed; shares sum to 100); null when the target moved under 1 %. */
  sharePct: number | null;
}

export interface Contributor {
  platform: Platform;
  level: Level;
  entityId: string;
  name: string;
  href: string | null;
  /** In target units (ROAS points or money of CPA); contributions of all entities sum to the change of the target. */
  contribution: number;
  /** contribution / the target's change, in percent; null when the target moved under 1 %. */
  sharePct: number | null;
}

export interface WhatMoved {
  /** ROAS when the view has conversion value, CPA otherwise. */
  target: 'roas' | 'cpa';
  current: number | null;
  comparison: number | null;
  changePct: number | null;
  factors: FactorChange[];
  /** Largest contributions to the change: up (raised the target) and down, at most 5 each. */
  up: Contributor[];
  down: Contributor[];
  /** Why no decomposition is possible (no comparison data, ...), or null. */
  unavailable: string | null;
}

export type Rating = 'Excellent' | 'Good' | 'Average' | 'Poor' | 'Critical' | 'Insufficient data';

export interface EntityRow {
  /** platform|level|entityId. */
  id: string;
  platform: Platform;
  level: Level;
  entityId: string;
  name: string;
  campaignId: string;
  campaignName: string;
  /** The campaign's detail page; null for an ad set that names no campaign. */
  href: string | null;
  current: Totals;
  /** The comparison period's totals, volumes brought to the range's length (a 28-day baseline counts days/28 of its volumes). */
  comparison: Totals;
  /** Against the rest of its platform over the range (leave-one-out), on ROAS where the platform has value, else CPA. */
  rating: Rating;
  /** The campaign's daily budget (campaign rows only). */
  dailyBudget: number | null;
  budgetStatus: 'active' | 'paused' | 'ended' | null;
  /** Average daily spend in the range / daily budget (campaign rows with a budget only). */
  pacing: number | null;
}

export interface PerformancePage {
  view: PerformanceView;
  style: TenantStyle;
  /** The tenant's last complete day. */
  lastDay: string;
  /** Platforms with any data (the filter's choices). */
  availablePlatforms: Platform[];
  /** No metrics at all for the tenant. */
  empty: boolean;
  comparisonPeriod: Period;
  kpis: KpiCard[];
  chart: ChartData;
  whatMoved: WhatMoved;
  rows: EntityRow[];
}
