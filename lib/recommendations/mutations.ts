// Approving and dismissing recommendations, inside the tenant's transaction
// (the action wrapper has checked the session, the membership and the role).
//
// A decision locks the recommendation (select ... for update) and decides it
// only while it is pending and unexpired: of two buyers deciding at once, the
// second waits on the lock, then finds it decided and is told by whom.
// Budget changes go through ads_engine.apply_budget_recommendation, which
// re-tests the rule on the latest data and withdraws what they no longer
// support. Every decision is audited in the same transaction.
//
// A refusal (ActionError) rolls the transaction back. So a single approval
// that the engine withdraws (or marks expired: the budget moved) is answered
// as a success saying it was not applied: the withdrawal is the engine's
// finding and is kept. In a set, all or nothing: such a member refuses the
// whole set and the withdrawal goes with it.
import 'server-only';
import { sql } from 'kysely';
import { recordAudit } from '@/lib/audit/mutations';
import type { Tx } from '@/lib/db';
import { formatMoney, type NumberStyle } from '@/lib/format/number';
import { formatUtc } from '@/lib/format/time';
import { platformLabel } from '@/lib/performance/metrics';
import { ActionError, type ActionHandler } from '@/lib/request/action-core';
import {
  dismissReasonText,
  type DecideInput,
  type DecideManyInput,
  type decideManySchema,
  type decideSchema,
  type DecisionInput,
} from './schema';

export const RECOMMENDATION_NOT_FOUND = 'That recommendation was not found in this tenant.';
export const DATA_NO_LONGER_SUPPORT = 'The data no longer support this';

const BUDGET_TYPES = new Set(['budget_increase', 'budget_decrease']);

/** Why one recommendation of a set cannot be decided. */
export interface Refusal {
  id: string;
  /** The entity's name (or id), for the list the buyer reads. */
  label: string;
  reason: string;
}

/**
 * An expected refusal of one or more recommendations: the action turns it
 * into { ok: false, message } (and, for a set, fieldErrors.ids, one line per
 * refused id); the transaction is rolled back, so nothing of the set changes.
 */
export class DecisionRefused extends ActionError {
  readonly refusals: Refusal[];
  constructor(message: string, refusals: Refusal[], listInFields: boolean) {
    super(message, listInFields ? { ids: refusals.map((r) => `${r.id}: ${r.reason}`) } : undefined);
    this.name = 'DecisionRefused';
    this.refusals = refusals;
  }
}

export type DecisionOutcome =
  /** A budget recommendation applied: the campaign's daily budget moved. */
  | { kind: 'budget_changed'; budgetId: string; from: number; to: number }
  /** A pause approved: the campaign's budget row marked paused (or none to mark). */
  | { kind: 'paused'; budgetId: string | null; budgetStatusBefore: string | null }
  /** Bid, audience, creative, timing (or an ad-set pause): marked applied, the buyer makes the change on the platform. */
  | { kind: 'applied' }
  | { kind: 'dismissed'; reason: string }
  /** Approval asked, but the engine's re-test no longer supports it: withdrawn, nothing changed (single decisions only). */
  | { kind: 'withdrawn'; reason: string }
  /** Approval asked, but the budget moved since it was computed: marked expired, nothing changed (single decisions only). */
  | { kind: 'expired'; reason: string };

export interface DecisionResult {
  id: string;
  type: string;
  entityName: string | null;
  /** The recommendation's status after the decision. */
  status: 'applied' | 'dismissed' | 'withdrawn' | 'expired';
  outcome: DecisionOutcome;
  message: string;
}

export interface BulkResult {
  decisions: DecisionResult[];
  message: string;
}

interface LockedRow {
  id: string;
  platform: string | null;
  level: string;
  entity_id: string | null;
  entity_name: string | null;
  campaign_id: string | null;
  recommendation_type: string;
  current_value: number | null;
  recommended_value: number | null;
  status: string;
  expires_at: Date;
  is_expired: boolean;
  applied_at: Date | null;
  applied_by: string | null;
  dismissed_at: Date | null;
  dismissed_by: string | null;
  dismiss_reason: string | null;
  withdrawn_at: Date | null;
  withdrawal_reason: string | null;
}

interface BudgetRow {
  id: string;
  platform: string;
  campaign_id: string;
  daily_budget: number;
  status: string;
}

interface Context {
  trx: Tx;
  tenantId: string;
  userId: string;
  /** Who, as the audit rows name them (the email). */
  actorLabel: string;
  style: NumberStyle;
}

const labelOf = (r: Pick<LockedRow, 'entity_name' | 'entity_id'>) => r.entity_name ?? r.entity_id ?? 'this recommendation';
const sentence = (s: string) => (/[.!?]$/.test(s.trim()) ? s.trim() : `${s.trim()}.`);
const money = (v: number, style: NumberStyle) => formatMoney(v, style, { decimals: Number.isInteger(v) ? 0 : 2 });
const onPlatform = (p: string | null) => (p ? ` on ${platformLabel(p)}` : '');
const budgetKey = (platform: string, campaign: string) => `${platform}\u0000${campaign}`;

async function context(trx: Tx, tenantId: string, userId: string): Promise<Context> {
  const r = await sql<{ email: string | null; currency: string | null; locale: string | null }>`
    select (select u.email from saas.users u where u.id = ${userId}::uuid) as email,
           t.currency, t.locale
    from (select 1) one left join saas.tenants t on t.id = ${tenantId}::uuid`.execute(trx);
  const row = r.rows[0];
  return {
    trx,
    tenantId,
    userId,
    actorLabel: row?.email ?? `user ${userId.slice(0, 8)}`,
    style: { currency: row?.currency?.trim() || 'EUR', locale: row?.locale || 'en-GB' },
  };
}

/** Locks the recommendations (in id order, so two sets never wait on each other in a circle); another tenant's are invisible. */
async function lockRecommendations(c: Context, ids: string[]): Promise<Map<string, LockedRow>> {
  const rows = await c.trx
    .selectFrom('ads.optimization_recommendations as o')
    .where('o.tenant_id', '=', c.tenantId)
    .where('o.id', 'in', ids)
    .select([
      'o.id',
      'o.platform',
      'o.level',
      'o.entity_id',
      'o.entity_name',
      'o.campaign_id',
      'o.recommendation_type',
      'o.current_value',
      'o.recommended_value',
      'o.status',
      'o.expires_at',
      sql<boolean>`o.expires_at <= now()`.as('is_expired'),
      'o.applied_at',
      'o.applied_by',
      'o.dismissed_at',
      'o.dismissed_by',
      'o.dismiss_reason',
      'o.withdrawn_at',
      'o.withdrawal_reason',
    ])
    .orderBy('o.id')
    .forUpdate()
    .execute();
  return new Map(rows.map((r) => [r.id, r]));
}

/** The campaign budget rows an approval touches, locked in a fixed order. */
async function lockBudgets(c: Context, keys: { platform: string; campaign: string }[]): Promise<Map<string, BudgetRow>> {
  if (!keys.length) return new Map();
  const rows = await c.trx
    .selectFrom('ads.budget_allocation as b')
    .where('b.tenant_id', '=', c.tenantId)
    .where((eb) => eb.or(keys.map((k) => eb.and([eb('b.platform', '=', k.platform), eb('b.campaign_id', '=', k.campaign)]))))
    .select(['b.id', 'b.platform', 'b.campaign_id', 'b.daily_budget', 'b.status'])
    .orderBy('b.platform')
    .orderBy('b.campaign_id')
    .forUpdate()
    .execute();
  return new Map(rows.map((b) => [budgetKey(b.platform, b.campaign_id), b]));
}

/** The budget row an approval of r would change: budget moves and campaign pauses (what apply_budget_recommendation looks up). */
function budgetTarget(r: LockedRow): { platform: string; campaign: string } | null {
  if (!r.platform || !r.entity_id) return null;
  if (BUDGET_TYPES.has(r.recommendation_type)) return { platform: r.platform, campaign: r.entity_id };
  if (r.recommendation_type === 'pause' && r.level === 'campaign') return { platform: r.platform, campaign: r.entity_id };
  return null;
}

/** A member's display name; a former member's from the audit row of the decision. */
async function whoDecided(c: Context, r: LockedRow, userId: string, action: string): Promise<string> {
  const u = await c.trx.selectFrom('saas.users').where('id', '=', userId).select(['name', 'email']).executeTakeFirst();
  if (u) return u.name?.trim() || u.email;
  const a = await c.trx
    .selectFrom('saas.audit_log')
    .where('tenant_id', '=', c.tenantId)
    .where('entity_type', '=', 'recommendation')
    .where('entity_id', '=', r.id)
    .where('action', '=', action)
    .select('actor_label')
    .orderBy('id', 'desc')
    .executeTakeFirst();
  return a?.actor_label ?? 'a former member';
}

/** Why r cannot be decided now, in words, or null when it is pending and unexpired. */
async function notDecidable(c: Context, r: LockedRow): Promise<string | null> {
  switch (r.status) {
    case 'pending':
      return r.is_expired ? `Expired at ${formatUtc(r.expires_at)}.` : null;
    case 'applied':
    case 'approved': {
      const at = r.applied_at ? ` at ${formatUtc(r.applied_at)}` : '';
      // The optimiser's auto-apply runs with no user.
      if (!r.applied_by) return r.status === 'applied' ? `Already applied automatically by the optimiser${at}.` : `Already approved${at}.`;
      return `Already approved by ${await whoDecided(c, r, r.applied_by, 'recommendation.approve')}${at}.`;
    }
    case 'dismissed': {
      const at = r.dismissed_at ? ` at ${formatUtc(r.dismissed_at)}` : '';
      const why = r.dismiss_reason ? ` (${r.dismiss_reason})` : '';
      const who = r.dismissed_by ? await whoDecided(c, r, r.dismissed_by, 'recommendation.dismiss') : 'someone';
      return `Already dismissed by ${who}${at}${why}.`;
    }
    case 'expired':
      return r.is_expired
        ? `Expired at ${formatUtc(r.expires_at)}.`
        : `Expired before its time (${formatUtc(r.expires_at)}): the daily budget moved away from the value it was computed from.`;
    case 'withdrawn':
      return `Withdrawn${r.withdrawn_at ? ` at ${formatUtc(r.withdrawn_at)}` : ''}: ${sentence(r.withdrawal_reason ?? 'the data no longer support it')}`;
    case 'failed':
      return 'Applying it failed earlier; it can no longer be decided.';
    default:
      return `It is ${r.status}; only a pending recommendation can be decided.`;
  }
}

/** What refuses an approval before anything is written: no budget to change, or a budget that moved. */
function budgetRefusal(c: Context, r: LockedRow, budgets: Map<string, BudgetRow>, strict: boolean): string | null {
  if (!BUDGET_TYPES.has(r.recommendation_type)) return null;
  const target = budgetTarget(r);
  const bud = target ? budgets.get(budgetKey(target.platform, target.campaign)) : undefined;
  if (!bud) return `No daily budget is recorded for ${labelOf(r)}${onPlatform(r.platform)}: record one before approving a budget change.`;
  if (r.recommended_value === null) return 'It names no recommended budget.';
  // A single approval lets the engine mark it expired (kept); a set refuses it.
  if (strict && bud.daily_budget !== r.current_value) return staleReason(c, bud.daily_budget, r.current_value);
  return null;
}

function staleReason(c: Context, now: number, computedFrom: number | null): string {
  return `The daily budget is now ${money(now, c.style)}, not the ${computedFrom === null ? 'unknown value' : money(computedFrom, c.style)} it was computed from.`;
}

const audited = (r: LockedRow) => ({
  status: r.status,
  type: r.recommendation_type,
  platform: r.platform,
  level: r.level,
  entity_id: r.entity_id,
  current_value: r.current_value,
  recommended_value: r.recommended_value,
});

/** Decides one locked, decidable recommendation; writes the change and its audit row. */
async function apply(c: Context, r: LockedRow, input: DecisionInput, budgets: Map<string, BudgetRow>): Promise<DecisionResult> {
  const base = { id: r.id, type: r.recommendation_type, entityName: r.entity_name };
  const name = labelOf(r);

  if (input.decision === 'dismiss') {
    const reason = dismissReasonText(input.reason, input.details);
    await c.trx
      .updateTable('ads.optimization_recommendations')
      .set({ status: 'dismissed', dismissed_at: sql<Date>`now()`, dismissed_by: c.userId, dismiss_reason: reason })
      .where('tenant_id', '=', c.tenantId)
      .where('id', '=', r.id)
      .execute();
    await audit(c, 'recommendation.dismiss', r, { status: 'dismissed', dismiss_reason: reason, reason_code: input.reason });
    return { ...base, status: 'dismissed', outcome: { kind: 'dismissed', reason }, message: `Dismissed (${reason}).` };
  }

  const target = budgetTarget(r);
  const bud = target ? (budgets.get(budgetKey(target.platform, target.campaign)) ?? null) : null;

  if (BUDGET_TYPES.has(r.recommendation_type)) {
    const res = await sql<{ applied: boolean }>`
      select ads_engine.apply_budget_recommendation(${c.tenantId}::uuid, ${r.id}::uuid, ${c.actorLabel}, 'recommendation.approve', true) as applied`.execute(c.trx);
    const after = await c.trx
      .selectFrom('ads.optimization_recommendations')
      .where('tenant_id', '=', c.tenantId)
      .where('id', '=', r.id)
      .select(['status', 'withdrawal_reason'])
      .executeTakeFirstOrThrow();
    if (res.rows[0]?.applied && after.status === 'applied') {
      const from = bud!.daily_budget;
      const to = r.recommended_value!;
      // A later member of the same set sees the budget as it now is.
      bud!.daily_budget = to;
      // apply_budget_recommendation wrote the budget_allocation audit row; this one is the decision's.
      await audit(c, 'recommendation.approve', r, { status: 'applied', budget_id: bud!.id, daily_budget_before: from, daily_budget_after: to });
      return {
        ...base,
        status: 'applied',
        outcome: { kind: 'budget_changed', budgetId: bud!.id, from, to },
        message: `Approved: the daily budget of ${name}${onPlatform(r.platform)} is now ${money(to, c.style)} (was ${money(from, c.style)}).`,
      };
    }
    if (after.status === 'withdrawn') {
      const reason = after.withdrawal_reason ?? 'the latest data do not support it';
      await audit(c, 'recommendation.approve', r, { status: 'withdrawn', applied: false, withdrawal_reason: reason });
      return {
        ...base,
        status: 'withdrawn',
        outcome: { kind: 'withdrawn', reason },
        message: `${DATA_NO_LONGER_SUPPORT}: ${sentence(reason)} It was withdrawn, not applied.`,
      };
    }
    if (after.status === 'expired') {
      const reason = staleReason(c, bud!.daily_budget, r.current_value);
      await audit(c, 'recommendation.approve', r, { status: 'expired', applied: false, daily_budget: bud!.daily_budget });
      return {
        ...base,
        status: 'expired',
        outcome: { kind: 'expired', reason },
        message: `Not applied. ${reason} It is marked expired; the next run proposes a fresh one if the data still support it.`,
      };
    }
    // Locked and checked above: the function cannot find it decided by someone else.
    throw new Error(`apply_budget_recommendation left recommendation ${r.id} ${after.status}`);
  }

  await c.trx
    .updateTable('ads.optimization_recommendations')
    .set({ status: 'applied', applied_at: sql<Date>`now()`, applied_by: c.userId })
    .where('tenant_id', '=', c.tenantId)
    .where('id', '=', r.id)
    .execute();

  if (r.recommendation_type === 'pause' && r.level === 'campaign') {
    if (bud && bud.status === 'active') {
      await c.trx
        .updateTable('ads.budget_allocation')
        .set({ status: 'paused', updated_at: sql<Date>`now()` })
        .where('tenant_id', '=', c.tenantId)
        .where('id', '=', bud.id)
        .execute();
      bud.status = 'paused';
      await audit(c, 'recommendation.approve', r, { status: 'applied', budget_id: bud.id, budget_status_before: 'active', budget_status_after: 'paused' });
      return {
        ...base,
        status: 'applied',
        outcome: { kind: 'paused', budgetId: bud.id, budgetStatusBefore: 'active' },
        message: `Approved: ${name} is marked paused in its budget. Pause it${onPlatform(r.platform)} too.`,
      };
    }
    await audit(c, 'recommendation.approve', r, { status: 'applied', budget_id: bud?.id ?? null, budget_status: bud?.status ?? null });
    return {
      ...base,
      status: 'applied',
      outcome: { kind: 'paused', budgetId: bud?.id ?? null, budgetStatusBefore: bud?.status ?? null },
      message: bud
        ? `Approved and marked applied: the budget of ${name} was already ${bud.status}. Make sure it is paused${onPlatform(r.platform)}.`
        : `Approved and marked applied, but no budget is recorded for ${name}, so none was marked paused. Pause it${onPlatform(r.platform)}.`,
    };
  }

  await audit(c, 'recommendation.approve', r, { status: 'applied' });
  return {
    ...base,
    status: 'applied',
    outcome: { kind: 'applied' },
    message: `Approved and marked applied: make the change${onPlatform(r.platform)} (${r.recommendation_type.replace('_', ' ')} for ${name}).`,
  };
}

async function audit(c: Context, action: string, r: LockedRow, after: Record<string, unknown>) {
  await recordAudit(c.trx, {
    action,
    entityType: 'recommendation',
    entityId: r.id,
    before: audited(r),
    after: { ...audited(r), ...after },
    actor: { id: c.userId, label: c.actorLabel },
  });
}

/** Approve or dismiss one recommendation. Refusals throw DecisionRefused (an ActionError: nothing is written). */
export async function decideRecommendation(trx: Tx, tenantId: string, userId: string, input: DecideInput): Promise<DecisionResult> {
  const c = await context(trx, tenantId, userId);
  const r = (await lockRecommendations(c, [input.id])).get(input.id);
  if (!r) throw new DecisionRefused(RECOMMENDATION_NOT_FOUND, [{ id: input.id, label: input.id, reason: RECOMMENDATION_NOT_FOUND }], false);
  const target = input.decision === 'approve' ? budgetTarget(r) : null;
  const budgets = await lockBudgets(c, target ? [target] : []);
  const refusal = (await notDecidable(c, r)) ?? (input.decision === 'approve' ? budgetRefusal(c, r, budgets, false) : null);
  if (refusal) throw new DecisionRefused(refusal, [{ id: r.id, label: labelOf(r), reason: refusal }], false);
  return apply(c, r, input, budgets);
}

/** The campaign a recommendation is about (its own id at campaign level), per platform. */
function campaignOf(r: Pick<LockedRow, 'platform' | 'level' | 'entity_id' | 'campaign_id'>): string | null {
  const campaign = r.level === 'campaign' ? (r.entity_id ?? r.campaign_id) : r.campaign_id;
  return r.platform && campaign ? budgetKey(r.platform, campaign) : null;
}

const RAISES = new Set(['budget_increase']);
const LOWERS = new Set(['budget_decrease', 'pause']);

/** Approving in one set a budget increase and a decrease or pause of the same campaign: both refused, the buyer picks one. */
function conflictsInSet(rows: LockedRow[]): Refusal[] {
  const out: Refusal[] = [];
  for (const r of rows) {
    const key = campaignOf(r);
    if (!key || !(RAISES.has(r.recommendation_type) || LOWERS.has(r.recommendation_type))) continue;
    const opposite = rows.filter(
      (o) => o.id !== r.id && campaignOf(o) === key && (RAISES.has(r.recommendation_type) ? LOWERS : RAISES).has(o.recommendation_type),
    );
    if (opposite.length) {
      out.push({
        id: r.id,
        label: labelOf(r),
        reason: `It conflicts with ${opposite.map((o) => `${o.recommendation_type.replace('_', ' ')} ${o.id}`).join(', ')} in this set: one raises the budget, the other lowers or pauses it. Approve one of them.`,
      });
    }
  }
  return out;
}

function refusedSet(decision: DecisionInput['decision'], total: number, refusals: Refusal[], afterApplying: boolean): DecisionRefused {
  const verb = decision === 'approve' ? 'approved' : 'dismissed';
  const list = refusals.map((x) => `${x.label} (${x.id}): ${x.reason}`).join(' ');
  const head = afterApplying
    ? `Nothing was ${verb}: the whole set was rolled back, because ${refusals.length} of ${total} could not be.`
    : `Nothing was ${verb}: ${refusals.length} of ${total} cannot be.`;
  return new DecisionRefused(`${head} ${list}`, refusals, true);
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

function summary(decision: DecisionInput['decision'], results: DecisionResult[]): string {
  if (decision === 'dismiss') {
    const reasons = new Set(results.map((r) => (r.outcome.kind === 'dismissed' ? r.outcome.reason : '')));
    return reasons.size === 1 ? `${results.length} dismissed (${[...reasons][0]}).` : `${results.length} dismissed.`;
  }
  const count = (p: (r: DecisionResult) => boolean) => results.filter(p).length;
  const budgets = count((r) => r.outcome.kind === 'budget_changed');
  const paused = count((r) => r.outcome.kind === 'paused' && r.outcome.budgetStatusBefore === 'active');
  const pauseUnmarked = count((r) => r.outcome.kind === 'paused' && r.outcome.budgetStatusBefore !== 'active');
  const other = count((r) => r.outcome.kind === 'applied');
  const parts = [
    budgets && plural(budgets, 'budget changed', 'budgets changed'),
    paused && plural(paused, 'campaign paused', 'campaigns paused'),
    pauseUnmarked && `${plural(pauseUnmarked, 'pause', 'pauses')} with no active budget to mark`,
    other && `${plural(other, 'change', 'changes')} to make on the platform`,
  ].filter(Boolean);
  return `${results.length} approved (${parts.join(', ')}).`;
}

/**
 * Approve or dismiss a set, all or nothing: every refusal is collected and
 * thrown together (DecisionRefused; the transaction rolls back), including an
 * approval the engine's re-test withdraws.
 */
export async function decideMany(trx: Tx, tenantId: string, userId: string, input: DecideManyInput): Promise<BulkResult> {
  const c = await context(trx, tenantId, userId);
  const ids = [...input.ids].sort();
  const rows = await lockRecommendations(c, ids);
  const targets = input.decision === 'approve' ? [...rows.values()].map(budgetTarget).filter((t) => t !== null) : [];
  const unique = [...new Map(targets.map((t) => [budgetKey(t.platform, t.campaign), t])).values()];
  const budgets = await lockBudgets(c, unique);

  const refusals: Refusal[] = [];
  for (const id of input.ids) {
    const r = rows.get(id);
    if (!r) {
      refusals.push({ id, label: 'Unknown recommendation', reason: RECOMMENDATION_NOT_FOUND });
      continue;
    }
    const reason = (await notDecidable(c, r)) ?? (input.decision === 'approve' ? budgetRefusal(c, r, budgets, true) : null);
    if (reason) refusals.push({ id, label: labelOf(r), reason });
  }
  if (input.decision === 'approve') {
    const refused = new Set(refusals.map((x) => x.id));
    refusals.push(...conflictsInSet([...rows.values()].filter((r) => !refused.has(r.id))));
  }
  if (refusals.length) throw refusedSet(input.decision, input.ids.length, refusals, false);

  const results: DecisionResult[] = [];
  for (const id of input.ids) {
    const r = rows.get(id)!;
    const res = await apply(c, r, input, budgets);
    if (res.outcome.kind === 'withdrawn' || res.outcome.kind === 'expired') {
      refusals.push({ id, label: labelOf(r), reason: res.outcome.kind === 'withdrawn' ? `${DATA_NO_LONGER_SUPPORT}: ${sentence(res.outcome.reason)}` : res.outcome.reason });
    } else {
      results.push(res);
    }
  }
  if (refusals.length) throw refusedSet(input.decision, input.ids.length, refusals, true);
  return { decisions: results, message: summary(input.decision, results) };
}

// ---------------------------------------------------------------------------
// The handlers behind the server actions (lib/recommendations/actions.ts);
// kept here so tests drive them through runTenantAction.
// ---------------------------------------------------------------------------
export const decideRecommendationHandler: ActionHandler<typeof decideSchema, DecisionResult> = async (trx, input, ctx) => {
  const d = await decideRecommendation(trx, ctx.tenant.tenantId, ctx.user.id, input);
  return { message: d.message, data: d };
};

export const decideManyHandler: ActionHandler<typeof decideManySchema, BulkResult> = async (trx, input, ctx) => {
  const d = await decideMany(trx, ctx.tenant.tenantId, ctx.user.id, input);
  return { message: d.message, data: d };
};
