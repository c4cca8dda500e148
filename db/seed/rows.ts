// The rows generation returns, as the seeder writes them. Money is in cents
// (integers) in metric rows until it is written.

import type { DecisionStatus as AbDecisionStatus } from '../../lib/abtests/stats';
import type { AbTestMetric, AllocationStrategy, BenchmarkMetric, DemoTenant, Platform, PlantedKind, Vertical } from './catalog';

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

/** ads.ab_tests.performance_a / performance_b: a variant's totals, money and conversions to the cent. */
export interface VariantTotals {
  impressions: number;
  clicks: number;
  conversions: number;
  spend: number;
  conversion_value: number;
}

/** ads_engine.ab_test_designs: frozen on the test's first day (frozen_at, midnight UTC of frozenDay). */
export interface AbTestDesignRow {
  plannedShareB: number;
  mde: number;
  allocationUnit: 'spend' | 'impressions';
  frozenDay: string;
}

/** ads_engine.ab_test_variants: a platform id carrying one arm. */
export interface AbTestVariantRow {
  arm: 'A' | 'B';
  level: 'adset';
  platformId: string;
}

/** ads_engine.ab_test_state: the reading of the test as the daily loop leaves it (as of the last day of data read). */
export interface AbTestStateRow {
  asOf: string;
  decision: AbDecisionStatus;
  message: string;
  /** Running minimum of the always-valid p-value over the looks that could decide; null before any. */
  minPSeq: number | null;
  /** The day the winner was first reached (latched). */
  winnerDay: string | null;
}

export interface AbTestRow {
  id: string;
  testName: string;
  platform: Platform;
  campaignId: string;
  testType: string;
  hypothesis: string;
  primaryMetric: AbTestMetric;
  variantA: string;
  variantB: string;
  /** Test cells: the sums of their metric rows from start to end; entered tests: the entered totals. */
  performanceA: VariantTotals;
  performanceB: VariantTotals;
  /** Completed: the latched winner or 'none'; running: the latched winner or null. */
  winner: 'A' | 'B' | 'none' | null;
  /** 1 - minPSeq of the state, to 5 decimals; null before any look that could decide. */
  statisticalSignificance: number | null;
  status: 'running' | 'completed';
  startDate: string;
  endDate: string | null;
  design: AbTestDesignRow;
  /** Empty for a test whose totals are entered. */
  variants: AbTestVariantRow[];
  state: AbTestStateRow;
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

export type DecisionType = 'budget_increase' | 'budget_decrease' | 'pause' | 'bid_adjustment' | 'creative' | 'audience';
export type DecisionStatus = 'applied' | 'dismissed' | 'withdrawn' | 'expired';

/** A past recommendation and what became of it (decisions.ts). Times are tenant-local, 'YYYY-MM-DD HH:MM:SS'. */
export interface DecisionRow {
  id: string;
  platform: Platform;
  level: 'campaign' | 'adset';
  entityId: string;
  entityName: string;
  campaignId: string;
  type: DecisionType;
  description: string;
  currentValue: number;
  recommendedValue: number;
  /** The figures it was decided on, its prediction, and for a withdrawn one the figures at withdrawal. */
  evidence: Record<string, unknown>;
  estimatedImpact: number;
  impactUnit: string;
  priority: 'critical' | 'high' | 'medium' | 'low';
  confidence: number;
  status: DecisionStatus;
  createdAt: string;
  expiresAt: string;
  /** applied_at, dismissed_at or withdrawn_at; null for an expired one. */
  decidedAt: string | null;
  /** Its calendar day (applied_day for an applied one). */
  decidedDay: string | null;
  /** The member who applied or dismissed it (email); null when the optimiser applied it or the engine withdrew it. */
  decidedBy: string | null;
  dismissReason: string | null;
  withdrawalReason: string | null;
  /** Applied by the daily loop under the tenant's auto-apply policy (applied_by NULL). */
  autoApplied: boolean;
}

/** The tenant's auto-apply settings: one platform switched on, budget steps up to maxStep, pauses as given. */
export interface AutoApplySetting {
  platform: Platform;
  maxStep: number;
  pause: boolean;
}

export interface TenantData {
  tenant: DemoTenant;
  campaigns: CampaignSummary[];
  metrics: MetricRow[];
  budgets: BudgetRow[];
  platformConfigs: PlatformConfigRow[];
  abTests: AbTestRow[];
  decisions: DecisionRow[];
  autoApply: AutoApplySetting | null;
}

export interface DemoData {
  today: string;
  firstDay: string;
  lastDay: string;
  tenants: TenantData[];
  benchmarks: BenchmarkRow[];
}
