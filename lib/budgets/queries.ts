// Reads of the budgets page, in the tenant's transaction: every allocation
// with its spend of yesterday, of the month to date and of the rate window
// (campaign-level rows of ads.metrics_daily, through the tenant's yesterday,
// its last complete day; the month is the one that day falls in, so on the
// 1st it is the previous month, closed),
// the day its daily budget last moved this month (from the audit trail), and
// the campaigns that deliver without an allocation. The pacing figures come
// from lib/budgets/pacing.ts; the model is in docs/budgets.md.
import 'server-only';
import { sql } from 'kysely';
import type { BadgeTone } from '@/components/tables/DataTable';
import type { Tx } from '@/lib/db';
import type { NumberStyle } from '@/lib/format/number';
import { PLATFORMS, platformLabel } from '@/lib/performance/metrics';
import { campaignHref, tenantStyle } from '@/lib/performance/queries';
import {
  monthCalendar,
  pace,
  paceLabel,
  paceSentence,
  paceTotals,
  shiftDay,
  type AllocationStatus,
  type MonthCalendar,
  type Pacing,
  type PacingTotals,
} from './pacing';
import { STRATEGIES, type BudgetFilter, type Strategy } from './schema';

/** Days of campaign-level delivery that make a campaign without an allocation worth listing. */
export const UNALLOCATED_DAYS = 30;
/** Days behind the suggested daily budget of a new allocation (their average daily spend, rounded). */
export const SUGGESTION_DAYS = 7;
/** The most campaigns without an allocation listed at once (largest spend first). */
export const UNALLOCATED_LIMIT = 100;

export interface BudgetContext {
  style: NumberStyle;
  timeZone: string;
  calendar: MonthCalendar;
}

/** The tenant's currency, locale and time zone, and the month paced as of its today (its yesterday + 1, in its zone). */
export async function budgetContext(trx: Tx, tenantId: string, today?: string): Promise<BudgetContext> {
  const t = await tenantStyle(trx, tenantId);
  return {
    style: { currency: t.currency, locale: t.locale },
    timeZone: t.timezone,
    calendar: monthCalendar(today ?? shiftDay(t.lastDay, 1)),
  };
}

/** An allocation's own columns as the page and the edits read them (version: updated_at to the microsecond, in UTC). */
export interface AllocationFields {
  id: string;
  platform: string;
  campaign_id: string;
  campaign_name: string | null;
  daily_budget: number;
  recommended_budget: number | null;
  min_budget: number | null;
  max_budget: number | null;
  allocation_strategy: string;
  target_roas: number | null;
  target_cpa: number | null;
  status: string;
  version: string;
}

interface AllocationRecord extends AllocationFields {
  yesterday_spend: number;
  mtd_spend: number;
  rate_spend: number;
  first_day: string | null;
  pending_id: string | null;
  pending_type: string | null;
  pending_value: number | null;
}

/** Every allocation of the tenant with its spend figures for the calendar's month (through the last complete day). */
async function readAllocations(trx: Tx, tenantId: string, cal: MonthCalendar): Promise<AllocationRecord[]> {
  const from = cal.monthStart < cal.rateFrom ? cal.monthStart : cal.rateFrom;
  // Each campaign's rows are read by the metrics primary key (tenant, platform, level, platform_id, day).
  const r = await sql<AllocationRecord>`
    select b.id, b.platform::text as platform, b.campaign_id, b.campaign_name,
           b.daily_budget, b.recommended_budget, b.min_budget, b.max_budget, b.allocation_strategy,
           b.target_roas, b.target_cpa, b.status,
           to_char(b.updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as version,
           coalesce(s.yesterday, 0)::float8 as yesterday_spend,
           coalesce(s.mtd, 0)::float8 as mtd_spend,
           coalesce(s.rate, 0)::float8 as rate_spend,
           to_char(f.first_day, 'YYYY-MM-DD') as first_day,
           pr.id as pending_id, pr.recommendation_type as pending_type, pr.recommended_value as pending_value
    from ads.budget_allocation b
    left join lateral (
      select sum(m.spend) filter (where m.day = ${cal.yesterday}::date) as yesterday,
             sum(m.spend) filter (where m.day >= ${cal.monthStart}::date) as mtd,
             sum(m.spend) filter (where m.day >= ${cal.rateFrom}::date) as rate
      from ads.metrics_daily m
      where m.tenant_id = b.tenant_id and m.platform = b.platform and m.level = 'campaign' and m.platform_id = b.campaign_id
        and m.day between ${from}::date and ${cal.yesterday}::date
    ) s on true
    left join lateral (
      select min(m.day) as first_day
      from ads.metrics_daily m
      where m.tenant_id = b.tenant_id and m.platform = b.platform and m.level = 'campaign' and m.platform_id = b.campaign_id
        and m.day <= ${cal.yesterday}::date
    ) f on true
    left join lateral (
      select o.id, o.recommendation_type, o.recommended_value
      from ads.optimization_recommendations o
      where o.tenant_id = b.tenant_id and o.status = 'pending' and o.expires_at > now()
        and o.recommendation_type in ('budget_increase', 'budget_decrease')
        and o.level = 'campaign' and o.platform = b.platform and o.entity_id = b.campaign_id
      order by o.created_at desc
      limit 1
    ) pr on true
    where b.tenant_id = ${tenantId}
    order by b.platform, lower(coalesce(b.campaign_name, b.campaign_id)), b.campaign_id`.execute(trx);
  return r.rows;
}

/**
 * The last day (in the tenant's zone) since the paced month began on which each allocation's daily budget was set or
 * moved (on the 1st, today's changes are after the closed month, and still said): any
 * audit row of the allocation whose before and after name different daily budgets (an edit, an accepted or approved
 * recommendation, the optimiser's auto-apply or its undo, a new allocation).
 */
async function readBudgetMoves(trx: Tx, tenantId: string, cal: MonthCalendar, timeZone: string): Promise<Map<string, string>> {
  const r = await sql<{ id: string; day: string }>`
    select a.entity_id as id, to_char(max(a.occurred_at) at time zone ${timeZone}::text, 'YYYY-MM-DD') as day
    from saas.audit_log a
    where a.tenant_id = ${tenantId} and a.entity_type = 'budget_allocation'
      and a.occurred_at >= (${cal.monthStart}::date)::timestamp at time zone ${timeZone}::text
      and a.after -> 'daily_budget' is not null
      and (case when jsonb_typeof(a.after -> 'daily_budget') = 'number' then (a.after ->> 'daily_budget')::numeric end)
          is distinct from
          (case when jsonb_typeof(a.before -> 'daily_budget') = 'number' then (a.before ->> 'daily_budget')::numeric end)
    group by a.entity_id`.execute(trx);
  return new Map(r.rows.map((x) => [x.id, x.day]));
}

export interface UnallocatedCampaign {
  platform: string;
  platformLabel: string;
  campaignId: string;
  campaignName: string | null;
  href: string;
  spend30d: number;
  spend7d: number;
  /** The suggested daily budget: spend of the last 7 days / 7, rounded to a whole unit (half away from zero). */
  suggested: number;
  lastDay: string;
}

interface UnallocatedRecord {
  platform: string;
  campaign_id: string;
  campaign_name: string | null;
  spend_30d: number;
  spend_7d: number;
  suggested: number;
  last_day: string;
  total: number;
}

/** Campaigns with campaign-level rows in the 30 days to yesterday and no allocation; one campaign when `only` is given. */
export async function readUnallocated(
  trx: Tx,
  tenantId: string,
  cal: MonthCalendar,
  only?: { platform: string; campaignId: string },
): Promise<{ campaigns: UnallocatedCampaign[]; total: number }> {
  const from30 = shiftDay(cal.yesterday, -(UNALLOCATED_DAYS - 1));
  const from7 = shiftDay(cal.yesterday, -(SUGGESTION_DAYS - 1));
  const one = only ? sql`and m.platform = ${only.platform} and m.platform_id = ${only.campaignId}` : sql``;
  const r = await sql<UnallocatedRecord>`
    select m.platform::text as platform, m.platform_id as campaign_id,
           (array_agg(coalesce(m.campaign_name, m.entity_name) order by m.day desc)
              filter (where coalesce(m.campaign_name, m.entity_name) is not null))[1] as campaign_name,
           sum(m.spend)::float8 as spend_30d,
           coalesce(sum(m.spend) filter (where m.day >= ${from7}::date), 0)::float8 as spend_7d,
           round(coalesce(sum(m.spend) filter (where m.day >= ${from7}::date), 0) / ${SUGGESTION_DAYS})::float8 as suggested,
           to_char(max(m.day), 'YYYY-MM-DD') as last_day,
           (count(*) over ())::int as total
    from ads.metrics_daily m
    where m.tenant_id = ${tenantId} and m.level = 'campaign'
      and m.platform = any(${[...PLATFORMS]}::text[])
      and m.day between ${from30}::date and ${cal.yesterday}::date ${one}
      and not exists (
        select 1 from ads.budget_allocation b
        where b.tenant_id = m.tenant_id and b.platform = m.platform and b.campaign_id = m.platform_id)
    group by m.platform, m.platform_id
    order by spend_30d desc, m.platform, m.platform_id
    limit ${UNALLOCATED_LIMIT}`.execute(trx);
  return {
    total: r.rows[0]?.total ?? 0,
    campaigns: r.rows.map((x) => ({
      platform: x.platform,
      platformLabel: platformLabel(x.platform),
      campaignId: x.campaign_id,
      campaignName: x.campaign_name,
      href: campaignHref(x.platform, x.campaign_id),
      spend30d: x.spend_30d,
      spend7d: x.spend_7d,
      suggested: x.suggested,
      lastDay: x.last_day,
    })),
  };
}

export interface BudgetRowView {
  id: string;
  platform: string;
  platformLabel: string;
  campaignId: string;
  campaignName: string | null;
  /** The name, or the id when the allocation has none. */
  label: string;
  href: string;
  dailyBudget: number;
  recommendedBudget: number | null;
  /** recommended - daily, and that as a share of the daily budget (null for a zero budget). */
  recommendedDiff: number | null;
  recommendedDiffShare: number | null;
  /** Why one-click accept is not offered, in words; null when it is. */
  acceptBlocked: string | null;
  minBudget: number | null;
  maxBudget: number | null;
  strategy: Strategy;
  targetRoas: number | null;
  targetCpa: number | null;
  status: AllocationStatus;
  /** The edit token (updated_at to the microsecond). */
  version: string;
  pacing: Pacing;
  paceLabel: string;
  paceTone: BadgeTone;
  paceSentence: string;
  /** The day the daily budget was last set or moved since the paced month began, or null. */
  budgetMovedOn: string | null;
  /** A pending budget recommendation behind the recommended budget, or null. */
  pending: { id: string; type: string; value: number | null } | null;
}

export interface TotalsRow extends PacingTotals {
  key: string;
  label: string;
}

export interface BudgetsPage {
  style: NumberStyle;
  timeZone: string;
  calendar: MonthCalendar;
  /** The rows the filter keeps, and how many allocations there are in all. */
  rows: BudgetRowView[];
  allocationCount: number;
  /** Per platform with an allocation, and every platform together. */
  totals: { platforms: TotalsRow[]; overall: TotalsRow };
  /** The off-pace campaigns (every platform, whatever the filter), furthest from their budget first. */
  alerts: BudgetRowView[];
  /** Allocations judged (active, with delivery): paced while the month runs, against their budget once it is closed. */
  judgedCount: number;
  unallocated: UnallocatedCampaign[];
  unallocatedTotal: number;
  /** Platforms with an allocation, for the filter. */
  platforms: string[];
}

function toneOf(p: Pacing): BadgeTone {
  switch (p.state) {
    case 'on_track':
      return 'good';
    case 'over':
      return 'bad';
    case 'under':
      return 'warn';
    default:
      return 'none';
  }
}

const asStrategy = (s: string): Strategy => ((STRATEGIES as readonly string[]).includes(s) ? (s as Strategy) : 'manual');
const asStatus = (s: string): AllocationStatus => (s === 'paused' || s === 'ended' ? s : 'active');

function acceptBlocked(r: AllocationRecord): string | null {
  const rec = r.recommended_budget;
  if (rec === null) return 'No recommended budget from the engine.';
  if (rec === r.daily_budget) return 'The daily budget is the recommended budget.';
  if (r.min_budget !== null && rec < r.min_budget) return 'The recommended budget is below the minimum: lower the minimum first.';
  if (r.max_budget !== null && rec > r.max_budget) return 'The recommended budget is above the maximum: raise the maximum first.';
  return null;
}

function rowView(r: AllocationRecord, cal: MonthCalendar, style: NumberStyle, moves: Map<string, string>): BudgetRowView {
  const status = asStatus(r.status);
  const pacing = pace(cal, {
    dailyBudget: r.daily_budget,
    status,
    yesterdaySpend: r.yesterday_spend,
    mtdSpend: r.mtd_spend,
    rateSpend: r.rate_spend,
    firstDay: r.first_day,
  });
  const diff = r.recommended_budget === null ? null : Math.round((r.recommended_budget - r.daily_budget) * 100) / 100;
  return {
    id: r.id,
    platform: r.platform,
    platformLabel: platformLabel(r.platform),
    campaignId: r.campaign_id,
    campaignName: r.campaign_name,
    label: r.campaign_name?.trim() || r.campaign_id,
    href: campaignHref(r.platform, r.campaign_id),
    dailyBudget: r.daily_budget,
    recommendedBudget: r.recommended_budget,
    recommendedDiff: diff,
    recommendedDiffShare: diff === null || r.daily_budget <= 0 ? null : diff / r.daily_budget,
    acceptBlocked: acceptBlocked(r),
    minBudget: r.min_budget,
    maxBudget: r.max_budget,
    strategy: asStrategy(r.allocation_strategy),
    targetRoas: r.target_roas,
    targetCpa: r.target_cpa,
    status,
    version: r.version,
    pacing,
    paceLabel: paceLabel(pacing, cal),
    paceTone: toneOf(pacing),
    paceSentence: paceSentence(pacing, cal, style),
    budgetMovedOn: moves.get(r.id) ?? null,
    pending: r.pending_id ? { id: r.pending_id, type: r.pending_type ?? '', value: r.pending_value } : null,
  };
}

function keep(row: BudgetRowView, f: BudgetFilter): boolean {
  if (f.platform && row.platform !== f.platform) return false;
  switch (f.show) {
    case 'off_pace':
      return row.pacing.state === 'over' || row.pacing.state === 'under';
    case 'active':
    case 'paused':
    case 'ended':
      return row.status === f.show;
    default:
      return true;
  }
}

/** Everything the page shows. `today` (the tenant's, 'YYYY-MM-DD') defaults to its own; tests pin it. */
export async function budgetsPage(trx: Tx, tenantId: string, filter: BudgetFilter, opts: { today?: string } = {}): Promise<BudgetsPage> {
  const { style, timeZone, calendar } = await budgetContext(trx, tenantId, opts.today);
  const [records, moves, unallocated] = await Promise.all([
    readAllocations(trx, tenantId, calendar),
    readBudgetMoves(trx, tenantId, calendar, timeZone),
    readUnallocated(trx, tenantId, calendar),
  ]);
  const all = records.map((r) => rowView(r, calendar, style, moves));
  const platforms = [...new Set(all.map((r) => r.platform))];
  const totals = {
    platforms: platforms.map((p) => ({ key: p, label: platformLabel(p), ...paceTotals(all.filter((r) => r.platform === p)) })),
    overall: { key: 'all', label: platforms.length === 1 ? 'Total' : 'All platforms', ...paceTotals(all) },
  };
  const distance = (r: BudgetRowView) => (r.pacing.ratio === null ? Number.POSITIVE_INFINITY : Math.abs(r.pacing.ratio - 1));
  const alerts = all.filter((r) => r.pacing.state === 'over' || r.pacing.state === 'under').sort((a, b) => distance(b) - distance(a));
  return {
    style,
    timeZone,
    calendar,
    rows: all.filter((r) => keep(r, filter)),
    allocationCount: all.length,
    totals,
    alerts,
    judgedCount: all.filter((r) => r.pacing.state !== 'not_paced').length,
    unallocated: unallocated.campaigns,
    unallocatedTotal: unallocated.total,
    platforms,
  };
}
