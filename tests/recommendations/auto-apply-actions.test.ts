// Undoing an automatic change and saving a platform's auto-apply, through the
// action wrapper on the real database: the roles the server demands, another
// tenant's id, bad input naming its field and changing nothing, the
// confirmation that turning auto-apply on needs, and what the queue lists.
import { describe, expect, it } from 'vitest';
import { INVALID_INPUT, runTenantAction, type ActionHandler } from '../../lib/request/action-core';
import { recentAutoApplications, saveAutoApplyHandler, undoAutoApplyHandler } from '../../lib/recommendations/auto-apply';
import { autoApplySettingsSchema, undoSchema } from '../../lib/recommendations/auto-apply-schema';
import { appKysely, rolledBackAsApp } from '../helpers/app-db';
import { inTenant, ownerPool } from '../helpers/db';
import { count, createTeam } from '../auth/fixtures';
import type { Team } from '../helpers/factories';
import { AS_OF, addDays, daily, insertMetrics } from '../engine/fixtures';

const app = appKysely(4);
const owner = ownerPool();

const run = <S extends typeof undoSchema | typeof autoApplySettingsSchema>(schema: S, handler: ActionHandler<S, unknown>, userId: string, input: unknown) =>
  runTenantAction({ schema, minRole: 'buyer', handler, userId, preferredTenantId: null, input, db: app.db });
const undo = (userId: string, input: unknown) => run(undoSchema, undoAutoApplyHandler as ActionHandler<typeof undoSchema, unknown>, userId, input);
const save = (userId: string, input: unknown) =>
  run(autoApplySettingsSchema, saveAutoApplyHandler as ActionHandler<typeof autoApplySettingsSchema, unknown>, userId, input);

const one = async <T = Record<string, unknown>>(tenant: string, text: string, values: unknown[] = []) =>
  inTenant(owner, tenant, async (c) => (await c.query(text, values)).rows[0] as T);

/**
 * Meta, target ROAS 3: "winner" spends 99 of its daily budget of 100 every day at ROAS 6.06 (the engine backs
 * a raise), "steady" has no case. With auto-apply on, the loop raises winner's budget by itself.
 */
async function autoApplied(label: string, switchedOn = true): Promise<{ team: Team; id: string | null }> {
  const team = await createTeam(owner, label);
  const t = team.tenantId;
  const id = await inTenant(owner, t, async (c) => {
    c.on('notice', () => undefined);
    await insertMetrics(c, t, [
      ...daily(addDays(AS_OF, -56), AS_OF, () => ({ id: 'winner', name: 'Winner', spend: 99, impressions: 19800, clicks: 198, conversions: 10, value: 600 })),
      ...daily(addDays(AS_OF, -56), AS_OF, () => ({ id: 'steady', name: 'Steady', spend: 100, impressions: 20000, clicks: 200, conversions: 10, value: 300 })),
    ]);
    await c.query(`insert into ads.platform_configs (tenant_id, platform, target_roas, auto_apply_recommendations) values ($1, 'meta', 3, $2)`, [t, switchedOn]);
    await c.query(
      `insert into ads.budget_allocation (tenant_id, platform, campaign_id, campaign_name, daily_budget) values ($1, 'meta', 'winner', 'Winner', 100), ($1, 'meta', 'steady', 'Steady', 200)`,
      [t],
    );
    await c.query(`select ads_engine.generate_recommendations($1, $2::date)`, [t, AS_OF]);
    return ((await c.query(`select id from ads.optimization_recommendations where tenant_id = $1 and entity_id = 'winner' and status = 'applied'`, [t])).rows[0]?.id as string) ?? null;
  });
  return { team, id };
}

/** The raise the engine chose for winner (its size is tested in tests/engine): 1.1 to 1.5 x the budget. */
const RAISED = async (t: string) =>
  (await one<{ v: number }>(t, `select recommended_value::float8 as v from ads.optimization_recommendations where tenant_id = $1 and entity_id = 'winner'`, [t])).v;

const budget = async (t: string) => (await one<{ b: number }>(t, `select daily_budget::float8 as b from ads.budget_allocation where tenant_id = $1 and campaign_id = 'winner'`, [t])).b;

describe('undo an automatic change', () => {
  it('a buyer undoes it: the budget is back, the queue lists it undone by them, a second undo says who did', async () => {
    const { team, id } = await autoApplied('Undo');
    expect(id).not.toBeNull();
    const raised = await RAISED(team.tenantId);
    expect(raised).toBeGreaterThanOrEqual(110);
    expect(raised).toBeLessThanOrEqual(150);
    expect(await budget(team.tenantId)).toBe(raised);
    const listed = await rolledBackAsApp(app.db, team.tenantId, (trx) => recentAutoApplications(trx, team.tenantId));
    expect(listed).toMatchObject([{ recommendationId: id, type: 'budget_increase', campaignName: 'Winner', before: { dailyBudget: 100 }, after: { dailyBudget: raised }, undone: null, noUndo: null }]);

    const r = await undo(team.buyer.id, { id });
    expect(r).toMatchObject({ ok: true, message: `Undone: the daily budget was set back from ${raised.toFixed(2)} to 100.00 for winner. The engine will not propose it again for 7 days.` });
    expect(await budget(team.tenantId)).toBe(100);
    const after = await rolledBackAsApp(app.db, team.tenantId, (trx) => recentAutoApplications(trx, team.tenantId));
    expect(after).toMatchObject([{ recommendationId: id, undone: { by: team.buyer.name }, noUndo: 'Undone.' }]);
    const audit = await one<{ actor_label: string; actor_user_id: string }>(team.tenantId, `select actor_label, actor_user_id from saas.audit_log where tenant_id = $1 and action = 'recommendation.undo'`, [team.tenantId]);
    expect(audit).toEqual({ actor_label: team.buyer.email, actor_user_id: team.buyer.id });

    const again = await undo(team.admin.id, { id });
    expect(again.ok).toBe(false);
    expect(!again.ok && again.message).toMatch(new RegExp(`^Already undone by ${team.buyer.name} at \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC\\.$`));
    expect(await count(owner, `select 1 from saas.audit_log where tenant_id = $1 and action = 'recommendation.undo'`, [team.tenantId])).toBe(1);
  });

  it('a viewer is refused by the server, another tenant gets not found, a bad id names the field; nothing changes', async () => {
    const { team, id } = await autoApplied('Undo refusals');
    const stranger = await createTeam(owner, 'Undo stranger');
    const viewer = await undo(team.viewer.id, { id });
    expect(viewer).toEqual({ ok: false, message: 'This needs the Buyer role; you are Viewer.' });
    expect(await undo(stranger.buyer.id, { id })).toEqual({ ok: false, message: 'That automatic change was not found in this tenant.' });
    const bad = await undo(team.buyer.id, { id: "1'; drop table ads.budget_allocation; --" });
    expect(bad).toMatchObject({ ok: false, message: INVALID_INPUT, fieldErrors: { id: ['Change: not a recommendation id.'] } });
    expect(await budget(team.tenantId)).toBe(await RAISED(team.tenantId));
    expect(await count(owner, `select 1 from saas.audit_log where action = 'recommendation.undo' and tenant_id = any($1)`, [[team.tenantId, stranger.tenantId]])).toBe(0);
  });

  it('after a buyer changed the budget, or past 24 hours, the queue offers no undo and the server refuses one', async () => {
    const { team, id } = await autoApplied('Undo too late');
    const raised = await RAISED(team.tenantId);
    await one(team.tenantId, `update ads.budget_allocation set daily_budget = 110 where tenant_id = $1 and campaign_id = 'winner'`, [team.tenantId]);
    const listed = await rolledBackAsApp(app.db, team.tenantId, (trx) => recentAutoApplications(trx, team.tenantId));
    expect(listed[0]!.noUndo).toBe('Its daily budget was changed since: undo would overwrite that change.');
    const r = await undo(team.buyer.id, { id });
    expect(!r.ok && r.message).toBe(`The daily budget of winner is 110.00 now, changed since the optimiser set it to ${raised.toFixed(2)}: undo would overwrite that change.`);
    await one(team.tenantId, `update ads.budget_allocation set daily_budget = $2 where tenant_id = $1 and campaign_id = 'winner'`, [team.tenantId, raised]);
    await one(team.tenantId, `update ads_engine.auto_applications set applied_at = now() - interval '2 days', undo_until = now() - interval '1 day' where tenant_id = $1`, [team.tenantId]);
    expect((await rolledBackAsApp(app.db, team.tenantId, (trx) => recentAutoApplications(trx, team.tenantId)))[0]!.noUndo).toBe('The 24 hours to undo it are over.');
    const late = await undo(team.buyer.id, { id });
    expect(!late.ok && late.message).toMatch(/^The 24 hours to undo it ended at .*: change the budget on the budgets page instead\.$/);
    expect(await budget(team.tenantId)).toBe(raised);
  });
});

describe('save a platform’s auto-apply', () => {
  const form = (over: Record<string, unknown> = {}) => ({
    platform: 'meta',
    switchedOn: 'on',
    budget_increase_enabled: 'on',
    budget_increase_step: '20',
    budget_decrease_enabled: 'on',
    budget_decrease_step: '',
    ...over,
  });
  const state = async (t: string) => ({
    switch: (await one<{ on: boolean }>(t, `select auto_apply_recommendations as on from ads.platform_configs where tenant_id = $1 and platform = 'meta'`, [t])).on,
    policies: await inTenant(owner, t, async (c) =>
      (await c.query(`select recommendation_type, enabled, max_step::float8 from ads_engine.auto_apply_policies where tenant_id = $1 order by 1`, [t])).rows,
    ),
    audits: await count(owner, `select 1 from saas.audit_log where tenant_id = $1 and action in ('auto_apply.policy', 'platform_config.update')`, [t]),
  });

  it('turning it on needs the confirmation; with it, the switch and each type are saved and audited; the same form again writes nothing', async () => {
    const { team } = await autoApplied('Auto-apply settings', false);
    const t = team.tenantId;
    const refused = await save(team.buyer.id, form());
    expect(refused).toMatchObject({ ok: false, fieldErrors: { confirm: ['Confirm: tick the box to agree that the daily loop will change budgets without asking.'] } });
    expect(await state(t)).toEqual({ switch: false, policies: [], audits: 0 });

    expect(await save(team.buyer.id, form({ confirm: 'on', pause_enabled: 'on' }))).toMatchObject({ ok: true, message: 'Saved.' });
    const s = await state(t);
    // budget decreases kept their default (on, any step): no row written for them
    expect(s).toEqual({
      switch: true,
      policies: [
        { recommendation_type: 'budget_increase', enabled: true, max_step: 0.2 },
        { recommendation_type: 'pause', enabled: true, max_step: null },
      ],
      audits: 3,
    });
    expect(await save(team.buyer.id, form({ pause_enabled: 'on' }))).toMatchObject({ ok: true });
    expect((await state(t)).audits).toBe(3);
  });

  it('every bad field is named and nothing is saved; a viewer is refused; a platform without settings is refused', async () => {
    const { team } = await autoApplied('Auto-apply refusals', false);
    const t = team.tenantId;
    const cases: [Record<string, unknown>, string, string][] = [
      [{ budget_increase_step: '0' }, 'budget_increase_step', 'Budget increases step: a percentage from 1 to 100.'],
      [{ budget_increase_step: '150' }, 'budget_increase_step', 'Budget increases step: a percentage from 1 to 100.'],
      [{ budget_decrease_step: 'ten' }, 'budget_decrease_step', 'Budget decreases step: a percentage from 1 to 100.'],
      [{ budget_decrease_step: '12.34' }, 'budget_decrease_step', 'Budget decreases step: at most one decimal.'],
      [{ budget_decrease_step: 'NaN' }, 'budget_decrease_step', 'Budget decreases step: a percentage from 1 to 100.'],
      [{ budget_increase_step: '1e3' }, 'budget_increase_step', 'Budget increases step: a percentage from 1 to 100.'],
      [{ platform: 'myspace' }, 'platform', 'Platform: not a platform.'],
    ];
    for (const [over, field, msg] of cases) {
      const r = await save(team.buyer.id, form({ confirm: 'on', ...over }));
      expect(r, JSON.stringify(over)).toMatchObject({ ok: false, fieldErrors: { [field]: [msg] } });
    }
    expect(await save(team.viewer.id, form({ confirm: 'on' }))).toEqual({ ok: false, message: 'This needs the Buyer role; you are Viewer.' });
    expect(await save(team.buyer.id, form({ confirm: 'on', platform: 'tiktok' }))).toMatchObject({ ok: false, fieldErrors: { platform: ['Platform: not configured in this tenant.'] } });
    expect(await state(t)).toEqual({ switch: false, policies: [], audits: 0 });
    // "12,5 %" as a French buyer types it is 12.5
    expect(await save(team.buyer.id, form({ confirm: 'on', budget_increase_step: '12,5 %' }))).toMatchObject({ ok: true });
    expect((await state(t)).policies).toEqual([{ recommendation_type: 'budget_increase', enabled: true, max_step: 0.125 }]);
  });
});
