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

export interface TenantData {
  tenant: DemoTenant;
  campaigns: CampaignSummary[];
  metrics: MetricRow[];
  budgets: BudgetRow[];
  platformConfigs: PlatformConfigRow[];
  abTests: AbTestRow[];
}

export interface DemoData {
  today: string;
  firstDay: string;
  lastDay: string;
  tenants: TenantData[];
  benchmarks: BenchmarkRow[];
}
