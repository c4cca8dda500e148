// Changing budget allocations, inside the tenant's transaction (the action
// wrapper has checked the session, the membership and the role: buyer or
// admin). Each change locks its row (select ... for update) and goes ahead
// only while the row is the one the buyer saw: its updated_at, to the
// microsecond, is the token the form carries. Of two buyers saving one budget,
// the second waits on the lock, then finds another token and is told what the
// budget is now; nothing of theirs is written. Every change writes its audit
// row (before / after) in the same transaction.
//
// Accepting the recommended budget follows the engine's own semantics
// (ads_engine.apply_budget_recommendation): daily_budget := the recommended
// value, which stays the recommended budget. A pending budget recommendation
// advising that very amount has then been carried out by the buyer: it is
// marked applied by them, as an approval in the queue would.
import 'server-only';
import { sql } from 'kysely';
import { recordAudit } from '@/lib/audit/mutations';
import type { Tx } from '@/lib/db';
import { formatMoney, formatNumber, type NumberStyle } from '@/lib/format/number';
import { formatInZone } from '@/lib/format/time';
import { platformLabel } from '@/lib/performance/metrics';
import { ActionError, type ActionHandler } from '@/lib/request/action-core';
import type { MonthCalendar } from './pacing';
import { budgetContext, readUnallocated, type AllocationFields } from './queries';
import {
  STATUS_LABEL,
  STRATEGY_LABEL,
  type AcceptRecommendedInput,
  type acceptRecommendedSchema,
  type AllocationStatusValue,
  type BudgetValues,
  type CreateBudgetInput,
  type createBudgetSchema,
  type Strategy,
  type UpdateBudgetInput,
  type updateBudgetSchema,
} from './schema';

export const BUDGET_NOT_FOUND = 'That budget allocation was not found in this tenant.';
/** The field a refused edit's conflict is reported under (the form offers to load the current values). */
export const CONFLICT_FIELD = 'version';

const BUDGET_TYPES = ['budget_increase', 'budget_decrease'] as const;

/** What the form needs after a change: the row and its new token. */
export interface BudgetChange {
  id: string;
  version: string;
}

interface LockedBudget extends AllocationFields {
  updated_at: Date;
}

interface Context {
  trx: Tx;
  tenantId: string;
  userId: string;
  style: NumberStyle;
  timeZone: string;
  calendar: MonthCalendar;
}

async function context(trx: Tx, tenantId: string, userId: string): Promise<Context> {
  const { style, timeZone, calendar } = await budgetContext(trx, tenantId);
  return { trx, tenantId, userId, style, timeZone, calendar };
}

const money = (v: number | null, style: NumberStyle) => (v === null ? 'none' : formatMoney(v, style, { decimals: Number.isInteger(v) ? 0 : 2 }));
const cents = (v: number) => Math.round(v * 100);
const labelOf = (b: Pick<LockedBudget, 'campaign_name' | 'campaign_id'>) => b.campaign_name?.trim() || b.campaign_id;
const strategyText = (s: string) => STRATEGY_LABEL[s as Strategy] ?? s;
const statusText = (s: string) => STATUS_LABEL[s as AllocationStatusValue] ?? s;

/** Locks the allocation; another tenant's is invisible (row-level security, and the tenant named too). */
async function lockBudget(c: Context, id: string): Promise<LockedBudget | null> {
  const row = await c.trx
    .selectFrom('ads.budget_allocation as b')
    .where('b.tenant_id', '=', c.tenantId)
    .where('b.id', '=', id)
    .select([
      'b.id',
      'b.platform',
      'b.campaign_id',
      'b.campaign_name',
      'b.daily_budget',
      'b.recommended_budget',
      'b.min_budget',
      'b.max_budget',
      'b.allocation_strategy',
      'b.target_roas',
      'b.target_cpa',
      'b.status',
      'b.updated_at',
      sql<string>`to_char(b.updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('version'),
    ])
    .forUpdate()
    .executeTakeFirst();
  return row ?? null;
}

/** The row's new token after an update in this transaction. */
async function versionNow(c: Context, id: string): Promise<string> {
  const r = await c.trx
    .selectFrom('ads.budget_allocation as b')
    .where('b.tenant_id', '=', c.tenantId)
    .where('b.id', '=', id)
    .select(sql<string>`to_char(b.updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('version'))
    .executeTakeFirstOrThrow();
  return r.version;
}

/** The allocation's fields as the audit rows hold them (the names of the table, as the engine's rows write them). */
function audited(b: LockedBudget) {
  return {
    campaign_id: b.campaign_id,
    platform: b.platform,
    daily_budget: b.daily_budget,
    recommended_budget: b.recommended_budget,
    min_budget: b.min_budget,
    max_budget: b.max_budget,
    allocation_strategy: b.allocation_strategy,
    target_roas: b.target_roas,
    target_cpa: b.target_cpa,
    status: b.status,
  };
}

function valuesText(c: Context, v: LockedBudget): string {
  const targets = [
    v.target_roas !== null ? `target ROAS ${formatNumber(v.target_roas, c.style, 2)}` : null,
    v.target_cpa !== null ? `target CPA ${money(v.target_cpa, c.style)}` : null,
  ].filter(Boolean);
  return [
    `daily budget ${money(v.daily_budget, c.style)}`,
    `minimum ${money(v.min_budget, c.style)}`,
    `maximum ${money(v.max_budget, c.style)}`,
    `strategy ${strategyText(v.allocation_strategy)}${targets.length ? ` (${targets.join(', ')})` : ''}`,
    `status ${statusText(v.status).toLowerCase()}`,
    `recommended budget ${money(v.recommended_budget, c.style)}`,
  ].join(', ');
}

/** Who made the row's last change: the audit row written with it (same transaction, same now(), to the microsecond), if any. */
async function lastChangedBy(c: Context, b: LockedBudget): Promise<string | null> {
  const r = await sql<{ actor_label: string | null }>`
    select a.actor_label
    from saas.audit_log a
    join ads.budget_allocation b on b.tenant_id = a.tenant_id and b.id::text = a.entity_id and b.updated_at = a.occurred_at
    where a.tenant_id = ${c.tenantId} and a.entity_type = 'budget_allocation' and b.id = ${b.id}
    order by a.id desc
    limit 1`.execute(c.trx);
  return r.rows[0]?.actor_label ?? null;
}

/** The refusal of a change made on a stale view: what the budget is now, and what to do. */
async function conflict(c: Context, b: LockedBudget, what: 'save' | 'accept' = 'save'): Promise<ActionError> {
  const who = await lastChangedBy(c, b);
  const when = formatInZone(b.updated_at, c.timeZone, c.style.locale);
  const by = who === 'optimizer' ? ' by the optimiser' : who ? ` by ${who}` : '';
  const message =
    `${what === 'save' ? 'Not saved' : 'Not accepted'}: the budget of ${labelOf(b)} on ${platformLabel(b.platform)} was changed${by} (${when}) after you opened it. ` +
    `It is now: ${valuesText(c, b)}. Load the current values, then ${what === 'save' ? 'make your change' : 'accept'} again.`;
  return new ActionError(message, { [CONFLICT_FIELD]: ['Changed since you opened it: load the current values.'] });
}

function columnsOf(v: BudgetValues) {
  return {
    daily_budget: v.dailyBudget,
    min_budget: v.minBudget,
    max_budget: v.maxBudget,
    allocation_strategy: v.strategy,
    target_roas: v.targetRoas,
    target_cpa: v.targetCpa,
    status: v.status,
  };
}

const FIELD_WORDS: Readonly<Record<keyof ReturnType<typeof columnsOf>, string>> = {
  daily_budget: 'daily budget',
  min_budget: 'minimum',
  max_budget: 'maximum',
  allocation_strategy: 'strategy',
  target_roas: 'target ROAS',
  target_cpa: 'target CPA',
  status: 'status',
};

function fieldText(c: Context, key: keyof ReturnType<typeof columnsOf>, v: number | string | null): string {
  if (v === null) return 'none';
  if (key === 'allocation_strategy') return strategyText(String(v));
  if (key === 'status') return statusText(String(v)).toLowerCase();
  if (key === 'target_roas') return formatNumber(Number(v), c.style, 2);
  return money(Number(v), c.style);
}

/** Edit an allocation's daily budget, bounds, strategy, targets and status. */
export async function updateBudget(trx: Tx, tenantId: string, userId: string, input: UpdateBudgetInput): Promise<{ message: string; change: BudgetChange }> {
  const c = await context(trx, tenantId, userId);
  const b = await lockBudget(c, input.id);
  if (!b) throw new ActionError(BUDGET_NOT_FOUND);
  if (b.version !== input.version) throw await conflict(c, b);

  const next = columnsOf(input);
  const changed = (Object.keys(next) as (keyof typeof next)[]).filter((k) => next[k] !== b[k]);
  const name = `${labelOf(b)} on ${platformLabel(b.platform)}`;
  if (changed.length === 0) return { message: `Nothing to save: ${name} already has these values.`, change: { id: b.id, version: b.version } };

  await trx
    .updateTable('ads.budget_allocation')
    .set({ ...next, updated_at: sql<Date>`now()` })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', b.id)
    .execute();
  const before = audited(b);
  await recordAudit(trx, {
    action: 'budget.update',
    entityType: 'budget_allocation',
    entityId: b.id,
    before,
    after: { ...before, ...next },
    actor: { id: userId },
  });
  const parts = changed.map((k) => `${FIELD_WORDS[k]} ${fieldText(c, k, b[k])} → ${fieldText(c, k, next[k])}`);
  return { message: `Saved ${name}: ${parts.join(', ')}.`, change: { id: b.id, version: await versionNow(c, b.id) } };
}

/** Set the daily budget to the engine's recommended budget, as shown to the buyer. */
export async function acceptRecommended(trx: Tx, tenantId: string, userId: string, input: AcceptRecommendedInput): Promise<{ message: string; change: BudgetChange }> {
  const c = await context(trx, tenantId, userId);
  const b = await lockBudget(c, input.id);
  if (!b) throw new ActionError(BUDGET_NOT_FOUND);
  const name = `${labelOf(b)} on ${platformLabel(b.platform)}`;
  const rec = b.recommended_budget;
  if (rec === null) throw new ActionError(`Not accepted: the engine has no recommended budget for ${name} now.`);
  if (cents(rec) !== cents(input.recommended)) {
    throw new ActionError(
      `Not accepted: the recommended budget of ${name} is now ${money(rec, c.style)}, not the ${money(input.recommended, c.style)} you saw. Review it, then accept again.`,
    );
  }
  if (b.version !== input.version) throw await conflict(c, b, 'accept');
  if (cents(rec) === cents(b.daily_budget)) throw new ActionError(`Nothing to accept: the daily budget of ${name} is already ${money(rec, c.style)}.`);
  if (b.min_budget !== null && rec < b.min_budget) {
    throw new ActionError(`Not accepted: the recommended ${money(rec, c.style)} is below the minimum of ${money(b.min_budget, c.style)} for ${name}. Lower the minimum first if you want it.`);
  }
  if (b.max_budget !== null && rec > b.max_budget) {
    throw new ActionError(`Not accepted: the recommended ${money(rec, c.style)} is above the maximum of ${money(b.max_budget, c.style)} for ${name}. Raise the maximum first if you want it.`);
  }

  await trx
    .updateTable('ads.budget_allocation')
    .set({ daily_budget: rec, updated_at: sql<Date>`now()` })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', b.id)
    .execute();
  const before = audited(b);
  await recordAudit(trx, {
    action: 'budget.accept_recommended',
    entityType: 'budget_allocation',
    entityId: b.id,
    before,
    after: { ...before, daily_budget: rec },
    actor: { id: userId },
  });

  // The queue's recommendation advising this amount is now done: applied, by this buyer.
  const done = await trx
    .updateTable('ads.optimization_recommendations')
    .set({ status: 'applied', applied_at: sql<Date>`now()`, applied_by: userId })
    .where('tenant_id', '=', tenantId)
    .where('status', '=', 'pending')
    .where('expires_at', '>', sql<Date>`now()`)
    .where('recommendation_type', 'in', [...BUDGET_TYPES])
    .where('level', '=', 'campaign')
    .where('platform', '=', b.platform)
    .where('entity_id', '=', b.campaign_id)
    .where('recommended_value', '=', rec)
    .returning(['id', 'recommendation_type', 'platform', 'level', 'entity_id', 'current_value', 'recommended_value'])
    .execute();
  for (const r of done) {
    const was = { status: 'pending', type: r.recommendation_type, platform: r.platform, level: r.level, entity_id: r.entity_id, current_value: r.current_value, recommended_value: r.recommended_value };
    await recordAudit(trx, {
      action: 'recommendation.approve',
      entityType: 'recommendation',
      entityId: r.id,
      before: was,
      after: { ...was, status: 'applied', via: 'budget.accept_recommended', budget_id: b.id, daily_budget_before: b.daily_budget, daily_budget_after: rec },
      actor: { id: userId },
    });
  }
  const queue = done.length ? ` The pending ${done[0]!.recommendation_type.replace('_', ' ')} recommendation is marked approved.` : '';
  return {
    message: `Accepted: the daily budget of ${name} is now ${money(rec, c.style)} (was ${money(b.daily_budget, c.style)}).${queue}`,
    change: { id: b.id, version: await versionNow(c, b.id) },
  };
}

/**
 * Add an allocation for a campaign that delivered in the last 30 days and has none. A campaign being
 * launched has no delivery yet: `launching` names it (the launch flow), and the delivery check is skipped.
 */
export async function createBudget(
  trx: Tx,
  tenantId: string,
  userId: string,
  input: CreateBudgetInput,
  launching?: { campaignName: string | null },
): Promise<{ message: string; change: BudgetChange }> {
  const c = await context(trx, tenantId, userId);
  const label = platformLabel(input.platform);
  const existing = await trx
    .selectFrom('ads.budget_allocation')
    .where('tenant_id', '=', tenantId)
    .where('platform', '=', input.platform)
    .where('campaign_id', '=', input.campaignId)
    .select(['id', 'campaign_name'])
    .executeTakeFirst();
  if (existing) {
    throw new ActionError(`${existing.campaign_name?.trim() || input.campaignId} on ${label} already has a budget allocation: edit it in the table.`);
  }
  const delivered = (await readUnallocated(trx, tenantId, c.calendar, { platform: input.platform, campaignId: input.campaignId })).campaigns[0];
  const found = delivered ?? (launching ? { campaignName: launching.campaignName, suggested: null } : undefined);
  if (!found) {
    throw new ActionError(`Campaign ${input.campaignId} on ${label} has no campaign-level delivery in the last 30 days: nothing to allocate a budget to.`, {
      campaignId: [`Campaign: ${input.campaignId} has no delivery on ${label} in the last 30 days.`],
    });
  }
  const values = columnsOf(input);
  // Two buyers adding the same campaign at once: the unique key keeps one, the other is told.
  const row = await trx
    .insertInto('ads.budget_allocation')
    .values({ tenant_id: tenantId, platform: input.platform, campaign_id: input.campaignId, campaign_name: found.campaignName, ...values })
    .onConflict((oc) => oc.columns(['tenant_id', 'platform', 'campaign_id']).doNothing())
    .returning(['id'])
    .executeTakeFirst();
  if (!row) throw new ActionError(`${found.campaignName ?? input.campaignId} on ${label} already has a budget allocation: edit it in the table.`);
  await recordAudit(trx, {
    action: 'budget.create',
    entityType: 'budget_allocation',
    entityId: row.id,
    before: null,
    after: { campaign_id: input.campaignId, platform: input.platform, campaign_name: found.campaignName, recommended_budget: null, ...values, suggested_daily_budget: found.suggested },
    actor: { id: userId },
  });
  const name = `${found.campaignName ?? input.campaignId} on ${label}`;
  return {
    message: `Added ${name}: daily budget ${money(input.dailyBudget, c.style)}, strategy ${strategyText(input.strategy)}, ${statusText(input.status).toLowerCase()}.`,
    change: { id: row.id, version: await versionNow(c, row.id) },
  };
}

// ---------------------------------------------------------------------------
// The handlers behind the server actions (lib/budgets/actions.ts); kept here
// so tests drive them through runTenantAction.
// ---------------------------------------------------------------------------
export const updateBudgetHandler: ActionHandler<typeof updateBudgetSchema, BudgetChange> = async (trx, input, ctx) => {
  const r = await updateBudget(trx, ctx.tenant.tenantId, ctx.user.id, input);
  return { message: r.message, data: r.change };
};

export const acceptRecommendedHandler: ActionHandler<typeof acceptRecommendedSchema, BudgetChange> = async (trx, input, ctx) => {
  const r = await acceptRecommended(trx, ctx.tenant.tenantId, ctx.user.id, input);
  return { message: r.message, data: r.change };
};

export const createBudgetHandler: ActionHandler<typeof createBudgetSchema, BudgetChange> = async (trx, input, ctx) => {
  const r = await createBudget(trx, ctx.tenant.tenantId, ctx.user.id, input);
  return { message: r.message, data: r.change };
};
