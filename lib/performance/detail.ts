// The campaign detail page's read: who the campaign is, the engine's analysis
// of it over 7, 14 and 30 days, its open recommendations and anomalies, its
// industry benchmarks and its efficiency history. Runs inside the tenant's
// transaction: another tenant's campaign is invisible (RLS) and reads as null.
import 'server-only';
import { sql, type Tx } from '@/lib/db';
import type { PriorityLevel, SeverityLevel } from '@/lib/db/schema.generated';
import { addDays, isValidDay, type Period } from './filters';
import { isPlatform, metricOf, type MetricKind, type Platform, type Totals } from './metrics';

/** The periods the engine's analysis is run for. */
export const ANALYSIS_DAYS = [7, 14, 30] as const;
export type AnalysisDays = (typeof ANALYSIS_DAYS)[number];

/** Days of the benchmark comparison (and of the page's daily chart). */
export const BENCHMARK_DAYS = 30;
/** Closed anomalies are listed this many days after they were closed. */
export const CLOSED_ANOMALY_DAYS = 30;
export const HISTORY_LIMIT = 50;
export const MAX_CAMPAIGN_ID_LENGTH = 200;

/** A campaign id as the database accepts one (ads.metrics_daily.platform_id: 1..200 characters). */
export function isCampaignId(v: unknown): v is string {
  // Characters as the database counts them (code points, not UTF-16 units); a blank id is refused by the engine's analysis.
  return typeof v === 'string' && v.trim() !== '' && [...v].length <= MAX_CAMPAIGN_ID_LENGTH;
}

// ---------------------------------------------------------------------------
// Shapes handed to the page (plain, serialisable).
// ---------------------------------------------------------------------------

export interface CampaignBudget {
  dailyBudget: number;
  recommendedBudget: number | null;
  status: 'active' | 'paused' | 'ended';
  strategy: 'performance' | 'even' | 'manual' | 'target_roas' | 'target_cpa';
  targetRoas: number | null;
  targetCpa: number | null;
}

export interface CampaignIdentity {
  platform: Platform;
  campaignId: string;
  /** The latest campaign name reported (falls back to the id when none was). */
  name: string;
  /** First and last day with a row in ads.metrics_daily (campaign or ad set level). */
  firstDay: string;
  lastDataDay: string;
  /** custom_metrics->>'campaign_type' of its latest campaign row that has one. */
  campaignType: string | null;
  budget: CampaignBudget | null;
}

/** The metric names ads.analyze_campaign_performance returns, in its order. */
export const ANALYSIS_METRICS = ['ROAS', 'CPA', 'CPC', 'CPM', 'CTR', 'Conversion rate', 'Spend', 'Conversions'] as const;
export type AnalysisMetric = (typeof ANALYSIS_METRICS)[number];

export const ANALYSIS_METRIC_INFO: Readonly<Record<AnalysisMetric, { kind: MetricKind; higherIsBetter: boolean | null; note: string }>> = {
  ROAS: { kind: 'ratio', higherIsBetter: true, note: 'Conversion value / spend.' },
  CPA: { kind: 'money', higherIsBetter: false, note: 'Spend / conversions.' },
  CPC: { kind: 'money', higherIsBetter: false, note: 'Spend / clicks.' },
  CPM: { kind: 'money', higherIsBetter: false, note: 'Spend × 1000 / impressions.' },
  CTR: { kind: 'percent', higherIsBetter: true, note: 'Clicks / impressions.' },
  'Conversion rate': { kind: 'percent', higherIsBetter: true, note: 'Conversions / clicks.' },
  Spend: { kind: 'money', higherIsBetter: null, note: 'Per day with delivery, against the other campaigns’ average campaign-day.' },
  Conversions: { kind: 'count', higherIsBetter: null, note: 'Per day with delivery, against the other campaigns’ average campaign-day.' },
};

export function isAnalysisMetric(v: unknown): v is AnalysisMetric {
  return typeof v === 'string' && (ANALYSIS_METRICS as readonly string[]).includes(v);
}

export interface AnalysisCell {
  current: number | null;
  /** The rest of the platform over the baseline window (leave-one-out); null when the campaign is alone on its platform. */
  baseline: number | null;
  /** current / baseline, null where either is missing or the baseline is 0. */
  ratio: number | null;
  rating: string;
  recommendation: string | null;
  priority: PriorityLevel;
}

export interface AnalysisRow {
  metric: AnalysisMetric;
  cells: Record<AnalysisDays, AnalysisCell | null>;
}

export interface AnalysisTable {
  /** Each period as the engine counts it: the last `days` complete days ending on the tenant's yesterday. */
  periods: { days: AnalysisDays; from: string; to: string }[];
  rows: AnalysisRow[];
}

export interface DetailRecommendation {
  id: string;
  level: 'campaign' | 'adset';
  entityId: string | null;
  entityName: string | null;
  type: string;
  description: string;
  priority: PriorityLevel;
  confidence: number;
  estimatedImpact: number | null;
  impactUnit: string | null;
  createdAt: string;
  expiresAt: string;
  href: string;
}

export interface DetailAnomaly {
  id: string;
  level: 'campaign' | 'adset';
  entityId: string;
  entityName: string | null;
  day: string;
  metricName: string;
  anomalyType: string;
  severity: SeverityLevel;
  status: 'active' | 'investigating' | 'resolved' | 'dismissed';
  /** Still to be worked (active or investigating). */
  open: boolean;
  actual: number | null;
  baseline: number | null;
  deviationPercent: number | null;
  moneyAtStake: number | null;
  resolvedAt: string | null;
  href: string;
}

export const BENCHMARK_METRICS = ['roas', 'cpa', 'ctr', 'cpc', 'cpm', 'conversion_rate'] as const;
export type BenchmarkMetric = (typeof BENCHMARK_METRICS)[number];
export const BENCHMARK_LABELS: Readonly<Record<BenchmarkMetric, string>> = {
  roas: 'ROAS',
  cpa: 'CPA',
  ctr: 'CTR',
  cpc: 'CPC',
  cpm: 'CPM',
  conversion_rate: 'Conversion rate',
};

export interface BenchmarkFigure {
  metric: BenchmarkMetric;
  /** The campaign's own figure over the benchmark period (a ratio of sums); null where its denominator is 0. */
  value: number | null;
  /** Null when ads.performance_benchmarks has no row for this metric. */
  benchmark: {
    p10: number | null;
    p25: number | null;
    /** percentile_50, or benchmark_value when the row has no median. */
    p50: number;
    p75: number | null;
    p90: number | null;
    sampleSize: number | null;
    source: string | null;
    validFrom: string;
  } | null;
}

export interface CampaignBenchmarks {
  period: Period;
  /** The campaign's totals over the period (campaign-level rows). */
  totals: Totals;
  vertical: string | null;
  /** The campaign type of the rows used ('all' when the campaign's own type has none), or null when none were found. */
  campaignType: string | null;
  /** Why there is nothing to compare with (no vertical, no rows), or null. */
  unavailable: string | null;
  figures: BenchmarkFigure[];
}

export interface PerformanceHistoryRow {
  periodStart: string;
  periodEnd: string;
  days: number;
  spend: number;
  conversions: number;
  value: number;
  roas: number | null;
  cpa: number | null;
  efficiencyScore: number | null;
}

export interface CampaignDetail {
  identity: CampaignIdentity;
  analysis: AnalysisTable;
  recommendations: DetailRecommendation[];
  anomalies: DetailAnomaly[];
  benchmarks: CampaignBenchmarks;
  history: PerformanceHistoryRow[];
}

// ---------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const iso = (v: Date | string): string => (v instanceof Date ? v.toISOString() : new Date(v).toISOString());

const DAY_MS = 86_400_000;
function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS) + 1;
}

interface IdentityRow {
  first_day: string | null;
  last_day: string | null;
  name: string | null;
  campaign_type: string | null;
  [key: string]: unknown;
}

async function readIdentity(trx: Tx, tenantId: string, platform: Platform, campaignId: string) {
  // Campaign rows carry campaign_id = platform_id (the insert trigger fills
  // it), so campaign_id finds both levels. A campaign-level name wins over an
  // ad set row's campaign_name of the same day.
  const r = await sql<IdentityRow>`
    select min(m.day) as first_day, max(m.day) as last_day,
           (array_agg(m.campaign_name order by m.day desc, (m.level = 'campaign') desc)
              filter (where m.campaign_name is not null))[1] as name,
           (array_agg(m.custom_metrics ->> 'campaign_type' order by m.day desc)
              filter (where m.level = 'campaign' and nullif(btrim(m.custom_metrics ->> 'campaign_type'), '') is not null))[1] as campaign_type
    from ads.metrics_daily m
    where m.tenant_id = ${tenantId} and m.platform = ${platform} and m.campaign_id = ${campaignId}
  `.execute(trx);
  const row = r.rows[0];
  if (!row || row.first_day === null || row.last_day === null) return null;
  const budget = await trx
    .selectFrom('ads.budget_allocation')
    .select(['daily_budget', 'recommended_budget', 'status', 'allocation_strategy', 'target_roas', 'target_cpa'])
    .where('tenant_id', '=', tenantId)
    .where('platform', '=', platform)
    .where('campaign_id', '=', campaignId)
    .executeTakeFirst();
  return {
    platform,
    campaignId,
    name: row.name ?? campaignId,
    firstDay: row.first_day,
    lastDataDay: row.last_day,
    campaignType: row.campaign_type,
    budget: budget
      ? {
          dailyBudget: num(budget.daily_budget),
          recommendedBudget: numOrNull(budget.recommended_budget),
          status: budget.status as CampaignBudget['status'],
          strategy: budget.allocation_strategy as CampaignBudget['strategy'],
          targetRoas: numOrNull(budget.target_roas),
          targetCpa: numOrNull(budget.target_cpa),
        }
      : null,
  } satisfies CampaignIdentity;
}

interface AnalysisSqlRow {
  metric_name: string;
  current_value: number | string | null;
  baseline_value: number | string | null;
  performance_rating: string;
  recommendation: string | null;
  priority: PriorityLevel;
  [key: string]: unknown;
}

async function readAnalysis(trx: Tx, tenantId: string, platform: Platform, campaignId: string, lastDay: string): Promise<AnalysisTable> {
  const byMetric = new Map<AnalysisMetric, AnalysisRow>(
    ANALYSIS_METRICS.map((m) => [m, { metric: m, cells: { 7: null, 14: null, 30: null } }]),
  );
  // One call per period, in order: each also upserts that period's row of
  // ads.campaign_performance, which the history below then includes.
  for (const days of ANALYSIS_DAYS) {
    const r = await sql<AnalysisSqlRow>`
      select a.metric_name, a.current_value, a.baseline_value, a.performance_rating, a.recommendation, a.priority
      from ads.analyze_campaign_performance(${tenantId}::uuid, ${campaignId}::text, ${platform}::text, ${days}::integer) as a
    `.execute(trx);
    for (const x of r.rows) {
      if (!isAnalysisMetric(x.metric_name)) continue;
      const current = numOrNull(x.current_value);
      const baseline = numOrNull(x.baseline_value);
      byMetric.get(x.metric_name)!.cells[days] = {
        current,
        baseline,
        ratio: current !== null && baseline !== null && baseline !== 0 ? current / baseline : null,
        rating: x.performance_rating,
        recommendation: x.recommendation,
        priority: x.priority,
      };
    }
  }
  return {
    periods: ANALYSIS_DAYS.map((days) => ({ days, from: addDays(lastDay, -(days - 1)), to: lastDay })),
    rows: [...byMetric.values()],
  };
}

async function readRecommendations(trx: Tx, tenantId: string, platform: Platform, campaignId: string): Promise<DetailRecommendation[]> {
  const rows = await trx
    .selectFrom('ads.optimization_recommendations')
    .select([
      'id',
      'level',
      'entity_id',
      'entity_name',
      'recommendation_type',
      'description',
      'priority',
      'confidence_score',
      'estimated_impact',
      'impact_unit',
      'created_at',
      'expires_at',
    ])
    .where('tenant_id', '=', tenantId)
    .where('platform', '=', platform)
    .where('status', '=', 'pending')
    .where('expires_at', '>', sql<Date>`now()`)
    .where((eb) =>
      eb.or([
        eb.and([eb('level', '=', 'campaign'), eb('entity_id', '=', campaignId)]),
        eb.and([eb('level', '=', 'adset'), eb('campaign_id', '=', campaignId)]),
      ]),
    )
    .orderBy('priority', 'desc')
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .limit(100)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    level: r.level as DetailRecommendation['level'],
    entityId: r.entity_id,
    entityName: r.entity_name,
    type: r.recommendation_type,
    description: r.description,
    priority: r.priority,
    confidence: num(r.confidence_score),
    estimatedImpact: numOrNull(r.estimated_impact),
    impactUnit: r.impact_unit,
    createdAt: iso(r.created_at),
    expiresAt: iso(r.expires_at),
    href: `/recommendations?${new URLSearchParams({ id: r.id })}`,
  }));
}

async function readAnomalies(trx: Tx, tenantId: string, platform: Platform, campaignId: string, lastDay: string): Promise<DetailAnomaly[]> {
  // Open ones always; closed ones while they are recent: closed in the last
  // 30 days, or (closed without a date) of a day in the last 30 days.
  const since = addDays(lastDay, -(CLOSED_ANOMALY_DAYS - 1));
  const rows = await trx
    .selectFrom('ads.anomalies')
    .select([
      'id',
      'level',
      'entity_id',
      'entity_name',
      'day',
      'metric_name',
      'anomaly_type',
      'severity',
      'status',
      'actual_value',
      'baseline_value',
      'deviation_percent',
      'money_at_stake',
      'resolved_at',
    ])
    .where('tenant_id', '=', tenantId)
    .where('platform', '=', platform)
    .where((eb) =>
      eb.or([
        eb.and([eb('level', '=', 'campaign'), eb('entity_id', '=', campaignId)]),
        eb.and([eb('level', '=', 'adset'), eb('campaign_id', '=', campaignId)]),
      ]),
    )
    .where((eb) =>
      eb.or([
        eb('status', 'in', ['active', 'investigating']),
        eb.and([
          eb('status', 'in', ['resolved', 'dismissed']),
          eb.or([
            eb('resolved_at', '>=', sql<Date>`now() - make_interval(days => ${CLOSED_ANOMALY_DAYS})`),
            eb.and([eb('resolved_at', 'is', null), eb('day', '>=', since)]),
          ]),
        ]),
      ]),
    )
    .orderBy(sql`status in ('active', 'investigating')`, 'desc')
    .orderBy('day', 'desc')
    .orderBy('severity', 'desc')
    .orderBy('id')
    .limit(100)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    level: r.level as DetailAnomaly['level'],
    entityId: r.entity_id,
    entityName: r.entity_name,
    day: r.day,
    metricName: r.metric_name,
    anomalyType: r.anomaly_type,
    severity: r.severity,
    status: r.status as DetailAnomaly['status'],
    open: r.status === 'active' || r.status === 'investigating',
    actual: numOrNull(r.actual_value),
    baseline: numOrNull(r.baseline_value),
    deviationPercent: numOrNull(r.deviation_percent),
    moneyAtStake: numOrNull(r.money_at_stake),
    resolvedAt: r.resolved_at ? iso(r.resolved_at) : null,
    href: `/anomalies?${new URLSearchParams({ anomaly: r.id })}`,
  }));
}

interface TotalsRow {
  spend: number | string | null;
  impressions: number | string | null;
  clicks: number | string | null;
  conversions: number | string | null;
  value: number | string | null;
  campaign_rows: number | string;
  [key: string]: unknown;
}

async function readBenchmarks(
  trx: Tx,
  tenantId: string,
  platform: Platform,
  campaignId: string,
  campaignType: string | null,
  lastDay: string,
): Promise<CampaignBenchmarks> {
  const period: Period = { from: addDays(lastDay, -(BENCHMARK_DAYS - 1)), to: lastDay, days: BENCHMARK_DAYS };
  // Campaign-level rows only: its ad sets' rows are the same delivery split
  // up, and adding them would count it twice.
  const t = await sql<TotalsRow>`
    select sum(m.spend) as spend, sum(m.impressions) as impressions, sum(m.clicks) as clicks,
           sum(m.conversions) as conversions, sum(m.conversion_value) as value, count(*) as campaign_rows
    from ads.metrics_daily m
    where m.tenant_id = ${tenantId} and m.platform = ${platform} and m.level = 'campaign'
      and m.platform_id = ${campaignId} and m.day between ${period.from}::date and ${period.to}::date
  `.execute(trx);
  const row = t.rows[0];
  const totals: Totals = {
    spend: num(row?.spend),
    impressions: num(row?.impressions),
    clicks: num(row?.clicks),
    conversions: num(row?.conversions),
    value: num(row?.value),
  };
  const valueOf = (m: BenchmarkMetric): number | null =>
    m === 'conversion_rate' ? (totals.clicks > 0 ? totals.conversions / totals.clicks : null) : metricOf(totals, m);
  const tenant = await trx.selectFrom('saas.tenants').select('vertical').where('id', '=', tenantId).executeTakeFirst();
  const vertical = tenant?.vertical ?? null;
  const empty = (unavailable: string): CampaignBenchmarks => ({
    period,
    totals,
    vertical,
    campaignType: null,
    unavailable,
    figures: BENCHMARK_METRICS.map((metric) => ({ metric, value: valueOf(metric), benchmark: null })),
  });

  if (!vertical) return empty('The tenant has no industry vertical set, so there are no industry benchmarks to compare with.');

  const types = campaignType && campaignType !== 'all' ? [campaignType, 'all'] : ['all'];
  const rows = await trx
    .selectFrom('ads.performance_benchmarks')
    .select([
      'campaign_type',
      'metric_name',
      'benchmark_value',
      'percentile_10',
      'percentile_25',
      'percentile_50',
      'percentile_75',
      'percentile_90',
      'sample_size',
      'source',
      'valid_from',
    ])
    .where('platform', '=', platform)
    .where('industry_vertical', '=', vertical)
    .where('campaign_type', 'in', types)
    .where('metric_name', 'in', [...BENCHMARK_METRICS])
    .execute();
  // The campaign's own type when any row has it, else 'all': one set, never mixed.
  const used = types.find((ty) => rows.some((r) => r.campaign_type === ty)) ?? null;
  if (!used) return empty(`No industry benchmarks for ${platform} in the ${vertical} vertical.`);
  const picked = new Map(rows.filter((r) => r.campaign_type === used).map((r) => [r.metric_name, r]));
  return {
    period,
    totals,
    vertical,
    campaignType: used,
    unavailable: null,
    figures: BENCHMARK_METRICS.map((metric) => {
      const b = picked.get(metric);
      return {
        metric,
        value: valueOf(metric),
        benchmark: b
          ? {
              p10: numOrNull(b.percentile_10),
              p25: numOrNull(b.percentile_25),
              p50: numOrNull(b.percentile_50) ?? num(b.benchmark_value),
              p75: numOrNull(b.percentile_75),
              p90: numOrNull(b.percentile_90),
              sampleSize: numOrNull(b.sample_size),
              source: b.source,
              validFrom: b.valid_from,
            }
          : null,
      };
    }),
  };
}

async function readHistory(trx: Tx, tenantId: string, platform: Platform, campaignId: string): Promise<PerformanceHistoryRow[]> {
  const rows = await trx
    .selectFrom('ads.campaign_performance')
    .select(['period_start', 'period_end', 'spend', 'conversions', 'conversion_value', 'roas', 'cpa', 'efficiency_score'])
    .where('tenant_id', '=', tenantId)
    .where('platform', '=', platform)
    .where('campaign_id', '=', campaignId)
    .orderBy('period_end', 'desc')
    .orderBy('period_start', 'desc')
    .limit(HISTORY_LIMIT)
    .execute();
  return rows.map((r) => ({
    periodStart: r.period_start,
    periodEnd: r.period_end,
    days: daysBetween(r.period_start, r.period_end),
    spend: num(r.spend),
    conversions: num(r.conversions),
    value: num(r.conversion_value),
    roas: numOrNull(r.roas),
    cpa: numOrNull(r.cpa),
    efficiencyScore: numOrNull(r.efficiency_score),
  }));
}

/**
 * Everything the campaign detail page shows, or null when there is no such
 * campaign for this tenant (no row in ads.metrics_daily under RLS) or the
 * inputs are not a platform and a campaign id: checked before any query.
 * `lastDay` is the tenant's last complete day.
 */
export async function campaignDetail(
  trx: Tx,
  tenantId: string,
  platform: string,
  campaignId: string,
  lastDay: string,
): Promise<CampaignDetail | null> {
  if (!isPlatform(platform) || !isCampaignId(campaignId) || !isValidDay(lastDay)) return null;
  const identity = await readIdentity(trx, tenantId, platform, campaignId);
  if (!identity) return null;
  const analysis = await readAnalysis(trx, tenantId, platform, campaignId, lastDay);
  const recommendations = await readRecommendations(trx, tenantId, platform, campaignId);
  const anomalies = await readAnomalies(trx, tenantId, platform, campaignId, lastDay);
  const benchmarks = await readBenchmarks(trx, tenantId, platform, campaignId, identity.campaignType, lastDay);
  const history = await readHistory(trx, tenantId, platform, campaignId);
  return { identity, analysis, recommendations, anomalies, benchmarks, history };
}
