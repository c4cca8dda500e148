// The rows generation returns, as the seeder writes them. Money is in cents
// (integers) in metric rows until it is written.

import type { AllocationStrategy, BenchmarkMetric, DemoTenant, Platform, PlantedKind, Vertical } from './catalog';

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
