// Auto-apply, as the queue and the settings show it: which types the daily
// loop applies by itself on each platform (ads_engine.auto_apply_policy), what
// it applied lately, and the undo of one of those within 24 hours
// (ads_engine.undo_auto_apply: db/media_buying/092_auto_apply.sql). All inside
// the tenant's transaction.
import 'server-only';
import { sql } from 'kysely';
import { recordAudit } from '@/lib/audit/mutations';
import type { Tx } from '@/lib/db';
import { ActionError, type ActionHandler } from '@/lib/request/action-core';
import { AUTO_APPLY_TYPES, type AutoApplyType, type autoApplySettingsSchema, type undoSchema } from './auto-apply-schema';

export interface PlatformAutoApply {
  platform: string;
  /** ads.platform_configs.auto_apply_recommendations: nothing applies by itself while it is off. */
  switchedOn: boolean;
  types: { type: AutoApplyType; enabled: boolean; maxStep: number | null; isDefault: boolean }[];
}

/** The effective policy of every platform the tenant configured. */
export async function autoApplyPolicies(trx: Tx, tenantId: string): Promise<PlatformAutoApply[]> {
  const r = await sql<{ platform: string; switched_on: boolean; recommendation_type: AutoApplyType; enabled: boolean; max_step: number | null; is_default: boolean }>`
    select platform, switched_on, recommendation_type, enabled, max_step::float8 as max_step, is_default
    from ads_engine.auto_apply_policy(${tenantId}::uuid)`.execute(trx);
  const by = new Map<string, PlatformAutoApply>();
  for (const row of r.rows) {
    const p = by.get(row.platform) ?? { platform: row.platform, switchedOn: row.switched_on, types: [] };
    p.types.push({ type: row.recommendation_type, enabled: row.enabled, maxStep: row.max_step, isDefault: row.is_default });
    by.set(row.platform, p);
  }
  for (const p of by.values()) p.types.sort((a, b) => AUTO_APPLY_TYPES.indexOf(a.type) - AUTO_APPLY_TYPES.indexOf(b.type));
  return [...by.values()];
}

export interface AutoApplication {
  recommendationId: string;
  type: AutoApplyType;
  platform: string;
  campaignId: string;
  campaignName: string | null;
  appliedAt: string;
  undoUntil: string;
  before: { dailyBudget: number | null; status: string | null };
  after: { dailyBudget: number | null; status: string | null };
  /** Undone: when and by whom (null label: not a member any more, or psql). */
  undone: { at: string; by: string | null } | null;
  /** Why no undo is offered, or null when it is (the database checks again on undo). */
  noUndo: string | null;
}

/** What the loop applied by itself in the last 7 days, newest first (at most 50). */
export async function recentAutoApplications(trx: Tx, tenantId: string): Promise<AutoApplication[]> {
  const r = await sql<{
    recommendation_id: string;
    recommendation_type: AutoApplyType;
    platform: string;
    campaign_id: string;
    campaign_name: string | null;
    applied_at: Date;
    undo_until: Date;
    before_budget: number | null;
    before_status: string | null;
    after_budget: number | null;
    after_status: string | null;
    undone_at: Date | null;
    undone_label: string | null;
    budget_now: number | null;
    status_now: string | null;
    window_open: boolean;
  }>`
    select a.recommendation_id, a.recommendation_type, a.platform, a.campaign_id, b.campaign_name, a.applied_at, a.undo_until,
           (a.before ->> 'daily_budget')::float8 as before_budget, a.before ->> 'status' as before_status,
           (a.after ->> 'daily_budget')::float8 as after_budget, a.after ->> 'status' as after_status,
           a.undone_at, coalesce(nullif(btrim(u.name), ''), u.email) as undone_label,
           b.daily_budget::float8 as budget_now, b.status as status_now, now() <= a.undo_until as window_open
    from ads_engine.auto_applications a
    left join ads.budget_allocation b on b.tenant_id = a.tenant_id and b.id = a.budget_id
    left join saas.users u on u.id = a.undone_by
    where a.tenant_id = ${tenantId}::uuid and a.applied_at > now() - interval '7 days'
    order by a.applied_at desc, a.recommendation_id
    limit 50`.execute(trx);
  return r.rows.map((x) => {
    const isPause = x.recommendation_type === 'pause';
    const changedSince = isPause ? x.status_now !== 'paused' : x.budget_now !== x.after_budget;
    return {
      recommendationId: x.recommendation_id,
      type: x.recommendation_type,
      platform: x.platform,
      campaignId: x.campaign_id,
      campaignName: x.campaign_name,
      appliedAt: x.applied_at.toISOString(),
      undoUntil: x.undo_until.toISOString(),
      before: { dailyBudget: x.before_budget, status: x.before_status },
      after: { dailyBudget: x.after_budget, status: x.after_status },
      undone: x.undone_at ? { at: x.undone_at.toISOString(), by: x.undone_label } : null,
      noUndo: x.undone_at
        ? 'Undone.'
        : !x.window_open
          ? 'The 24 hours to undo it are over.'
          : changedSince
            ? isPause
              ? 'Its budget is no longer paused: nothing to undo.'
              : 'Its daily budget was changed since: undo would overwrite that change.'
            : null,
    };
  });
}

interface UndoResult {
  recommendationId: string;
  reason: string;
}

/** Undo one auto-applied change: the database checks the window, a second undo and a budget changed since. */
export const undoAutoApplyHandler: ActionHandler<typeof undoSchema, UndoResult> = async (trx, input, ctx) => {
  try {
    const r = await sql<{ r: { reason: string; campaign_id: string } }>`
      select ads_engine.undo_auto_apply(${ctx.tenant.tenantId}::uuid, ${input.id}::uuid, ${ctx.user.email}) as r`.execute(trx);
    const out = r.rows[0]!.r;
    return {
      message: `${out.reason} for ${out.campaign_id}. The engine will not propose it again for 7 days.`,
      data: { recommendationId: input.id, reason: out.reason },
    };
  } catch (e) {
    const code = (e as { code?: string }).code;
    // Expected refusals (not found here, window over, done twice, changed since) become the form's message.
    if (code === 'P0002') throw new ActionError('That automatic change was not found in this tenant.');
    if (code === '55000') throw new ActionError(`${(e as Error).message}.`);
    throw e;
  }
};

/** Save one platform's auto-apply: the guide's switch and each type's policy, all or nothing, audited. */
export const saveAutoApplyHandler: ActionHandler<typeof autoApplySettingsSchema, undefined> = async (trx, input, ctx) => {
  const tenantId = ctx.tenant.tenantId;
  const cfg = await trx
    .selectFrom('ads.platform_configs')
    .where('tenant_id', '=', tenantId)
    .where('platform', '=', input.platform)
    .select(['auto_apply_recommendations'])
    .forUpdate()
    .executeTakeFirst();
  if (!cfg) throw new ActionError(`Platform: no settings exist for ${input.platform} in this tenant.`, { platform: ['Platform: not configured in this tenant.'] });
  if (input.switchedOn && !cfg.auto_apply_recommendations && !input.confirm) {
    throw new ActionError('Confirm turning auto-apply on.', {
      confirm: ['Confirm: tick the box to agree that the daily loop will change budgets without asking.'],
    });
  }
  if (cfg.auto_apply_recommendations !== input.switchedOn) {
    await trx
      .updateTable('ads.platform_configs')
      .set({ auto_apply_recommendations: input.switchedOn, updated_at: sql<Date>`now()` })
      .where('tenant_id', '=', tenantId)
      .where('platform', '=', input.platform)
      .execute();
    await recordAudit(trx, {
      action: 'platform_config.update',
      entityType: 'platform_config',
      entityId: input.platform,
      before: { auto_apply_recommendations: cfg.auto_apply_recommendations },
      after: { auto_apply_recommendations: input.switchedOn },
    });
  }
  const now = await autoApplyPolicies(trx, tenantId);
  const current = now.find((p) => p.platform === input.platform);
  for (const t of AUTO_APPLY_TYPES) {
    const want = input.types[t];
    const have = current?.types.find((x) => x.type === t);
    if (have && have.enabled === want.enabled && have.maxStep === want.maxStep) continue;
    await sql`select ads_engine.set_auto_apply_policy(${tenantId}::uuid, ${input.platform}, ${t}, ${want.enabled}, ${want.maxStep}::numeric, ${ctx.user.email})`.execute(trx);
  }
  return { message: 'Saved.' };
};
