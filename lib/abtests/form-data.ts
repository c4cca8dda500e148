// What the A/B test form needs, read inside the tenant's transaction: the tenant's days and number
// style, its platforms and campaigns with recent data, the entities that can carry a variant (with
// their last 28 days of daily totals, from which the form computes the sample size as the buyer picks
// them), and a stored test as the edit form shows it. Also the test's row as the mutations lock it,
// so the form and the writes read one shape.
import 'server-only';
import { sql } from 'kysely';
import type { Tx } from '@/lib/db';
import type { NumberStyle } from '@/lib/format/number';
import { isPlatform, PLATFORM_LABELS, PLATFORMS, type Platform } from '@/lib/performance/metrics';
import { tenantStyle } from '@/lib/performance/queries';
import { DEFAULT_DESIGN, parsePerformance, toPerformanceJson, type AbTestStatus, type PerformanceJson } from './model';
import {
  addDays,
  ARMS,
  entityKey,
  ENTITY_LEVELS,
  parseEntityKey,
  START_AHEAD_DAYS,
  START_BACK_DAYS,
  type AllocationUnit,
  type Arm,
  type EntityLevel,
  type VariantSource,
} from './schema';
import type { DailyTotals } from './stats';

/** Entities and campaigns are offered from the last this-many days of data. */
export const CANDIDATE_WINDOW_DAYS = 90;
/** The traffic the sample size is computed from: the last this-many complete days. */
export const TRAFFIC_DAYS = 28;
/** The most entities one campaign offers (the largest by recent spend; a test's own ids always). */
export const CANDIDATES_MAX = 200;
/** The most campaigns offered per platform (the largest by recent spend). */
export const CAMPAIGNS_MAX = 300;

// ---------------------------------------------------------------------------------------------
// The tenant's calendar

export interface TenantDays {
  /** The tenant's today in its time zone. */
  today: string;
  /** Its last complete day (ads_engine.tenant_yesterday): the last day of data the pages read. */
  yesterday: string;
}

export async function tenantDays(trx: Tx, tenantId: string): Promise<TenantDays & { style: NumberStyle }> {
  const s = await tenantStyle(trx, tenantId);
  return { today: addDays(s.lastDay, 1), yesterday: s.lastDay, style: { currency: s.currency, locale: s.locale } };
}

// ---------------------------------------------------------------------------------------------
// A stored test

/** A test's version as the forms carry it: updated_at to the microsecond, in UTC. */
const VERSION = sql<string>`to_char(t.updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

export interface TestRow {
  id: string;
  test_name: string;
  platform: string | null;
  campaign_id: string | null;
  test_type: string;
  hypothesis: string | null;
  primary_metric: string;
  variant_a: string;
  variant_b: string;
  performance_a: unknown;
  performance_b: unknown;
  winner: 'A' | 'B' | 'none' | null;
  statistical_significance: number | null;
  status: AbTestStatus;
  start_date: string | null;
  end_date: string | null;
  version: string;
  updated_at: Date;
  /** Whether the test has a design row (a test inserted from psql has none: it is read with DEFAULT_DESIGN). */
  has_design: boolean;
  planned_share_b: number | null;
  mde: number | null;
  allocation_unit: AllocationUnit | null;
  frozen_at: Date | null;
}

export interface VariantRow {
  arm: Arm;
  level: EntityLevel;
  platform_id: string;
}

/** The test's row with its design, or null when it is not in this tenant; `lock` takes the row for update. */
export async function readTest(trx: Tx, tenantId: string, id: string, opts: { lock?: boolean } = {}): Promise<TestRow | null> {
  const r = await sql<TestRow>`
    select t.id::text as id, t.test_name, t.platform::text as platform, t.campaign_id, t.test_type, t.hypothesis, t.primary_metric,
           t.variant_a, t.variant_b, t.performance_a, t.performance_b, t.winner, t.statistical_significance, t.status,
           t.start_date, t.end_date, ${VERSION} as version, t.updated_at,
           (d.test_id is not null) as has_design, d.planned_share_b, d.mde, d.allocation_unit, d.frozen_at
    from ads.ab_tests t
    left join ads_engine.ab_test_designs d on d.tenant_id = t.tenant_id and d.test_id = t.id
    where t.tenant_id = ${tenantId} and t.id = ${id}::uuid
    ${opts.lock ? sql`for update of t` : sql``}`.execute(trx);
  return r.rows[0] ?? null;
}

export async function readVariants(trx: Tx, tenantId: string, id: string): Promise<VariantRow[]> {
  const r = await trx
    .selectFrom('ads_engine.ab_test_variants')
    .select(['arm', 'level', 'platform_id'])
    .where('tenant_id', '=', tenantId)
    .where('test_id', '=', id)
    .orderBy('arm')
    .orderBy('level')
    .orderBy('platform_id')
    .execute();
  return r as VariantRow[];
}

export interface AbTestFormValue {
  id: string;
  status: AbTestStatus;
  /** The version the form was opened on (sent back as expectedUpdatedAt). */
  version: string;
  /** Set once the test started: the design and the variants' ids are fixed. */
  frozenAt: string | null;
  name: string;
  type: string;
  hypothesis: string;
  platform: string | null;
  campaignId: string | null;
  variantA: string;
  variantB: string;
  sources: Record<Arm, VariantSource>;
  /** The variants' ids as the form sends them (level:platform_id). */
  ids: Record<Arm, string[]>;
  totals: Record<Arm, PerformanceJson>;
  /** What is wrong with stored totals the form cannot show as they are (written from psql), else null. */
  totalsProblem: Record<Arm, string | null>;
  metric: string;
  /** In percent, as the form shows them. */
  shareB: number;
  allocationUnit: AllocationUnit;
  mde: number;
  startDate: string | null;
  endDate: string | null;
}

const EMPTY_TOTALS: PerformanceJson = { impressions: 0, clicks: 0, conversions: 0, spend: 0, conversion_value: 0 };

/** The test's arm: its ids when some carry it, else measured elsewhere (its entered totals). */
export function sourceOf(variants: readonly VariantRow[], arm: Arm): VariantSource {
  return variants.some((v) => v.arm === arm) ? 'ids' : 'entered';
}

export function formValueOf(t: TestRow, variants: readonly VariantRow[]): AbTestFormValue {
  const totals = {} as Record<Arm, PerformanceJson>;
  const totalsProblem = {} as Record<Arm, string | null>;
  for (const arm of ARMS) {
    const parsed = parsePerformance(arm === 'A' ? t.performance_a : t.performance_b, `Variant ${arm} totals`);
    totals[arm] = parsed.ok ? toPerformanceJson(parsed.totals) : EMPTY_TOTALS;
    totalsProblem[arm] = parsed.ok ? null : parsed.message;
  }
  return {
    id: t.id,
    status: t.status,
    version: t.version,
    frozenAt: t.frozen_at ? t.frozen_at.toISOString() : null,
    name: t.test_name,
    type: t.test_type,
    hypothesis: t.hypothesis ?? '',
    platform: t.platform,
    campaignId: t.campaign_id,
    variantA: t.variant_a,
    variantB: t.variant_b,
    sources: { A: sourceOf(variants, 'A'), B: sourceOf(variants, 'B') },
    ids: {
      A: variants.filter((v) => v.arm === 'A').map((v) => entityKey(v.level, v.platform_id)),
      B: variants.filter((v) => v.arm === 'B').map((v) => entityKey(v.level, v.platform_id)),
    },
    totals,
    totalsProblem,
    metric: t.primary_metric,
    shareB: Math.round((t.planned_share_b ?? DEFAULT_DESIGN.plannedShareB) * 1000) / 10,
    allocationUnit: t.allocation_unit ?? DEFAULT_DESIGN.allocationUnit,
    mde: Math.round((t.mde ?? DEFAULT_DESIGN.mde) * 10_000) / 100,
    startDate: t.start_date,
    endDate: t.end_date,
  };
}

export async function loadAbTestForEdit(trx: Tx, tenantId: string, id: string): Promise<AbTestFormValue | null> {
  const t = await readTest(trx, tenantId, id);
  if (!t) return null;
  return formValueOf(t, await readVariants(trx, tenantId, id));
}

// ---------------------------------------------------------------------------------------------
// Platforms, campaigns and the entities that can carry a variant

export interface CampaignOption {
  platform: Platform;
  id: string;
  name: string | null;
  /** Spend over the last TRAFFIC_DAYS days (its campaign rows, else its ad sets', else its ads'). */
  spend: number;
}

export interface Candidate {
  /** level:platform_id, as the form sends it. */
  key: string;
  level: EntityLevel;
  platformId: string;
  name: string | null;
  /** Spend over the last TRAFFIC_DAYS days. */
  spend: number;
  /** Its last day with data in the last CANDIDATE_WINDOW_DAYS days; null for a test's own id without recent data. */
  lastDay: string | null;
  /** Its daily totals over the last TRAFFIC_DAYS days: one per day with a row, in day order. */
  daily: DailyTotals[];
}

export interface CandidateSet {
  platform: Platform;
  campaignId: string | null;
  /** The days the daily totals cover (both included). */
  from: string;
  to: string;
  entities: Candidate[];
  /** How many entities the campaign has in the window (more than shown when it exceeds CANDIDATES_MAX). */
  total: number;
}

/** The window of offered entities and of their traffic, ending at the tenant's yesterday. */
export function windows(yesterday: string) {
  return { from90: addDays(yesterday, -(CANDIDATE_WINDOW_DAYS - 1)), from28: addDays(yesterday, -(TRAFFIC_DAYS - 1)), to: yesterday };
}

/** Platforms with data in the window: one index probe per platform. */
export async function platformsWithMetrics(trx: Tx, tenantId: string, yesterday: string): Promise<Platform[]> {
  const w = windows(yesterday);
  const r = await sql<{ platform: string }>`
    select p.platform
    from unnest(${[...PLATFORMS]}::text[]) with ordinality as p(platform, n)
    where exists (select 1 from ads.metrics_daily m
                  where m.tenant_id = ${tenantId} and m.platform = p.platform and m.day between ${w.from90}::date and ${w.to}::date)
    order by p.n`.execute(trx);
  return r.rows.map((x) => x.platform).filter(isPlatform);
}

/** The campaigns with data in the window, per platform the largest CAMPAIGNS_MAX by recent spend. */
export async function campaignOptions(trx: Tx, tenantId: string, yesterday: string): Promise<CampaignOption[]> {
  const w = windows(yesterday);
  const r = await sql<{ platform: string; id: string; name: string | null; spend: number }>`
    with per as (
      select m.platform::text as platform, m.campaign_id as id,
             -- the name on its own rows first (its ad sets may carry an older one), the latest
             (array_agg(m.campaign_name order by (m.level = 'campaign') desc, m.day desc) filter (where m.campaign_name is not null))[1] as name,
             coalesce(sum(m.spend) filter (where m.level = 'campaign' and m.day >= ${w.from28}::date), 0) as c_spend,
             coalesce(sum(m.spend) filter (where m.level = 'adset' and m.day >= ${w.from28}::date), 0) as s_spend,
             coalesce(sum(m.spend) filter (where m.level = 'ad' and m.day >= ${w.from28}::date), 0) as a_spend,
             bool_or(m.level = 'campaign') as has_campaign_rows, bool_or(m.level = 'adset') as has_adset_rows
      from ads.metrics_daily m
      where m.tenant_id = ${tenantId} and m.day between ${w.from90}::date and ${w.to}::date and m.campaign_id is not null
      group by 1, 2
    ), ranked as (
      -- the campaign's own rows when it has some (its ad sets and ads are within them), else its ad sets', else its ads'
      select p.platform, p.id, p.name,
             case when p.has_campaign_rows then p.c_spend when p.has_adset_rows then p.s_spend else p.a_spend end as spend
      from per p
    ), numbered as (
      select r.*, row_number() over (partition by r.platform order by r.spend desc, r.id) as rn from ranked r
    )
    select platform, id, name, spend from numbered where rn <= ${CAMPAIGNS_MAX} order by platform, rn`.execute(trx);
  return r.rows.filter((x) => isPlatform(x.platform)).map((x) => ({ platform: x.platform as Platform, id: x.id, name: x.name, spend: Number(x.spend) }));
}

/**
 * The entities that can carry a variant: with a campaign, its ad sets and ads; without, the platform's
 * campaigns. Those seen in the last CANDIDATE_WINDOW_DAYS days, ad sets first, the largest by recent
 * spend, at most CANDIDATES_MAX, each with its daily totals of the last TRAFFIC_DAYS days: one query.
 * `include` (a test's own ids) are always in the set, with no traffic when they have no recent data.
 */
export async function candidateEntities(
  trx: Tx,
  tenantId: string,
  yesterday: string,
  scope: { platform: Platform; campaignId: string | null; include?: readonly string[] },
): Promise<CandidateSet> {
  const w = windows(yesterday);
  const include = (scope.include ?? []).map(parseEntityKey).filter((x) => x !== null);
  const where = scope.campaignId === null ? sql`m.level = 'campaign'` : sql`m.level <> 'campaign' and m.campaign_id = ${scope.campaignId}`;
  const r = await sql<{ level: string; platform_id: string; name: string | null; spend: number; last_day: string; total: number; daily: DailyTotals[] }>`
    with ent as (
      select m.level::text as level, m.platform_id,
             (array_agg(m.entity_name order by m.day desc) filter (where m.entity_name is not null))[1] as name,
             coalesce(sum(m.spend) filter (where m.day >= ${w.from28}::date), 0) as spend,
             max(m.day) as last_day
      from ads.metrics_daily m
      where m.tenant_id = ${tenantId} and m.platform = ${scope.platform}
        and m.day between ${w.from90}::date and ${w.to}::date and ${where}
      group by m.level, m.platform_id
    ), ranked as (
      select e.*, count(*) over () as total,
             row_number() over (order by case e.level when 'adset' then 0 when 'ad' then 1 else 2 end, e.spend desc, e.platform_id) as rn
      from ent e
    )
    select r.level, r.platform_id, r.name, r.spend, to_char(r.last_day, 'YYYY-MM-DD') as last_day, r.total,
           coalesce((
             select json_agg(json_build_object('day', to_char(d.day, 'YYYY-MM-DD'), 'impressions', d.impressions, 'clicks', d.clicks,
                                               'conversions', d.conversions, 'spend', d.spend, 'conversionValue', d.conversion_value)
                             order by d.day)
             from ads.metrics_daily d
             where d.tenant_id = ${tenantId} and d.platform = ${scope.platform} and d.level = r.level and d.platform_id = r.platform_id
               and d.day between ${w.from28}::date and ${w.to}::date), '[]'::json) as daily
    from ranked r
    where r.rn <= ${CANDIDATES_MAX}
       or (r.level, r.platform_id) in (select * from unnest(${include.map((i) => i.level)}::text[], ${include.map((i) => i.platformId)}::text[]))
    order by r.rn`.execute(trx);
  const entities: Candidate[] = r.rows
    .filter((x) => (ENTITY_LEVELS as readonly string[]).includes(x.level))
    .map((x) => ({
      key: entityKey(x.level as EntityLevel, x.platform_id),
      level: x.level as EntityLevel,
      platformId: x.platform_id,
      name: x.name,
      spend: Number(x.spend),
      lastDay: x.last_day,
      daily: x.daily.map((d) => ({
        day: d.day,
        impressions: Number(d.impressions),
        clicks: Number(d.clicks),
        conversions: Number(d.conversions),
        spend: Number(d.spend),
        conversionValue: Number(d.conversionValue),
      })),
    }));
  // A test's own ids without data in the window (or elsewhere than the scope) are still shown, without traffic.
  const seen = new Set(entities.map((e) => e.key));
  for (const i of include) {
    const key = entityKey(i.level, i.platformId);
    if (!seen.has(key)) entities.push({ key, level: i.level, platformId: i.platformId, name: null, spend: 0, lastDay: null, daily: [] });
  }
  return { platform: scope.platform, campaignId: scope.campaignId, from: w.from28, to: w.to, entities, total: Number(r.rows[0]?.total ?? 0) };
}

// ---------------------------------------------------------------------------------------------
// The form's data, for the new and edit pages

export interface PlatformOption {
  value: Platform;
  label: string;
  hasMetrics: boolean;
}

export interface AbTestFormData {
  style: NumberStyle;
  today: string;
  yesterday: string;
  /** The earliest start date the form accepts. */
  minStart: string;
  /** The latest start date the form accepts. */
  maxStart: string;
  /** Whether the tenant has any data in the window (without, only totals entered by hand can measure a test). */
  hasMetrics: boolean;
  /** The platforms with data first; every platform when there is none (a test measured elsewhere). */
  platforms: PlatformOption[];
  campaigns: CampaignOption[];
  /** The platform and campaign whose entities are offered. */
  platform: Platform | null;
  campaignId: string | null;
  candidates: CandidateSet | null;
  /** The test being edited, or null for a new one. */
  test: AbTestFormValue | null;
}

export interface FormScope {
  /** From the URL: the platform chosen in the form (unchecked). */
  platform?: string;
  /** From the URL: the campaign chosen ('' = none); undefined when the URL does not say. */
  campaign?: string;
  /** The test being edited. */
  testId?: string;
}

/**
 * Everything the form shows: for a new test, or (testId) for a test being edited; null when that test
 * is not in this tenant. The platform and campaign come from the URL when it names them (the form
 * writes them there to load their entities), else from the test, else the platform with most spend.
 */
export async function abTestFormData(trx: Tx, tenantId: string, scope: FormScope = {}): Promise<AbTestFormData | null> {
  const test = scope.testId ? await loadAbTestForEdit(trx, tenantId, scope.testId) : null;
  if (scope.testId && !test) return null;
  const days = await tenantDays(trx, tenantId);
  const withData = await platformsWithMetrics(trx, tenantId, days.yesterday);
  const campaigns = withData.length ? await campaignOptions(trx, tenantId, days.yesterday) : [];
  const hasMetrics = withData.length > 0;
  const listed = hasMetrics ? withData : [...PLATFORMS];
  const testPlatform = test?.platform && isPlatform(test.platform) ? test.platform : null;
  if (testPlatform && !listed.includes(testPlatform)) listed.push(testPlatform);
  const platforms = listed.map((p) => ({ value: p, label: PLATFORM_LABELS[p], hasMetrics: withData.includes(p) }));

  const fromUrl = scope.platform && isPlatform(scope.platform) && listed.includes(scope.platform) ? scope.platform : null;
  const bySpend = [...campaigns].sort((a, b) => b.spend - a.spend)[0]?.platform ?? withData[0] ?? null;
  const platform: Platform | null = fromUrl ?? testPlatform ?? bySpend;

  const known = (id: string | null | undefined) =>
    id ? campaigns.some((c) => c.platform === platform && c.id === id) || (test?.campaignId === id && testPlatform === platform) : false;
  let campaignId: string | null;
  // A campaign in the URL counts with the platform it came with: a platform the URL names wrongly drops it.
  if (scope.platform !== undefined && !fromUrl) campaignId = null;
  else if (fromUrl || scope.campaign !== undefined) campaignId = scope.campaign && known(scope.campaign) ? scope.campaign : null;
  else campaignId = test?.campaignId && known(test.campaignId) ? test.campaignId : null;
  // The test's own campaign without recent data is offered all the same.
  if (test?.campaignId && testPlatform && !campaigns.some((c) => c.platform === testPlatform && c.id === test.campaignId)) {
    campaigns.push({ platform: testPlatform, id: test.campaignId, name: null, spend: 0 });
  }

  const ownIds =
    test && platform === testPlatform && campaignId === test.campaignId ? [...test.ids.A, ...test.ids.B] : [];
  const candidates =
    platform && (withData.includes(platform) || ownIds.length)
      ? await candidateEntities(trx, tenantId, days.yesterday, { platform, campaignId, include: ownIds })
      : null;
  return {
    style: days.style,
    today: days.today,
    yesterday: days.yesterday,
    minStart: addDays(days.today, -START_BACK_DAYS),
    maxStart: addDays(days.today, START_AHEAD_DAYS),
    hasMetrics,
    platforms,
    campaigns,
    platform,
    campaignId,
    candidates,
    test,
  };
}
