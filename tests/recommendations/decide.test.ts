// Approving and dismissing recommendations through the action wrapper, on the
// real database: a budget approval moves the budget in the same transaction
// as the decision and its audit rows (and a failure after it undoes all of
// it); two buyers deciding at once on real concurrent connections give one
// decision; what cannot be decided says why; viewers and other tenants change
// nothing; a set is all or nothing; the queue's order and conflicts.
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { INVALID_INPUT, runTenantAction, type ActionHandler } from '../../lib/request/action-core';
import { formatUtc } from '../../lib/format/time';
import {
  decideManyHandler,
  decideRecommendationHandler,
  RECOMMENDATION_NOT_FOUND,
  type DecisionResult,
} from '../../lib/recommendations/mutations';
import { listDecided, listPending } from '../../lib/recommendations/queries';
import { decideManySchema, decideSchema, pendingFilterSchema } from '../../lib/recommendations/schema';
import { appKysely, rolledBackAsApp } from '../helpers/app-db';
import { ownerPool, inTenant } from '../helpers/db';
import { count, createTeam } from '../auth/fixtures';
import type { Team } from '../helpers/factories';
import { AS_OF, addDays, daily, insertMetrics } from '../engine/fixtures';

const app = appKysely(6);
const owner = ownerPool();

type Decide = ActionHandler<typeof decideSchema, DecisionResult>;

const decide = (userId: string, input: unknown, handler: Decide = decideRecommendationHandler) =>
  runTenantAction({ schema: decideSchema, minRole: 'buyer', handler, userId, preferredTenantId: null, input, db: app.db });
const decideSet = (userId: string, input: unknown) =>
  runTenantAction({ schema: decideManySchema, minRole: 'buyer', handler: decideManyHandler, userId, preferredTenantId: null, input, db: app.db });

/** fn on the owner's connection inside the tenant (RLS is forced for the owner too), committed. */
const asOwner = <T>(tenant: string, fn: (c: pg.PoolClient) => Promise<T>) => inTenant(owner, tenant, fn);

const one = async <T = Record<string, unknown>>(tenant: string, text: string, values: unknown[] = []) =>
  asOwner(tenant, async (c) => (await c.query(text, values)).rows[0] as T);

/**
 * 57 days to AS_OF on Meta, target ROAS 3 (budget lines 2.4 and 3.6):
 *   winner: ROAS 6.06, spend 99 of a daily budget of 100 every day (capped): the engine backs a budget increase;
 *   steady: ROAS 3, budget 200 never reached: nothing backs a budget move;
 *   pauser: a campaign with an active budget of 50 (for pause approvals).
 */
async function seedAccount(tenant: string): Promise<void> {
  await asOwner(tenant, async (c) => {
    await insertMetrics(c, tenant, [
      ...daily(addDays(AS_OF, -56), AS_OF, () => ({ id: 'winner', name: 'Winner', spend: 99, impressions: 19800, clicks: 198, conversions: 10, value: 600 })),
      ...daily(addDays(AS_OF, -56), AS_OF, () => ({ id: 'steady', name: 'Steady', spend: 100, impressions: 20000, clicks: 200, conversions: 10, value: 300 })),
    ]);
    await c.query(`insert into ads.platform_configs (tenant_id, platform, target_roas) values ($1, 'meta', 3)`, [tenant]);
    await c.query(
      `insert into ads.budget_allocation (tenant_id, platform, campaign_id, campaign_name, daily_budget)
       values ($1, 'meta', 'winner', 'Winner', 100), ($1, 'meta', 'steady', 'Steady', 200), ($1, 'meta', 'pauser', 'Pauser', 50)`,
      [tenant],
    );
  });
}

interface NewRec {
  type: string;
  entity: string;
  name?: string;
  platform?: string;
  level?: string;
  campaign?: string | null;
  current?: number | null;
  recommended?: number | null;
  priority?: string;
  confidence?: number;
  status?: string;
  /** created_at as an offset from now, e.g. '-2 hours'. */
  created?: string;
  /** expires_at as an offset from now (default '+7 days'). */
  expires?: string;
  withdrawnReason?: string;
}

async function insertRec(tenant: string, r: NewRec): Promise<string> {
  const row = await one<{ id: string }>(
    tenant,
    `insert into ads.optimization_recommendations
       (tenant_id, platform, level, entity_id, entity_name, campaign_id, recommendation_type, description, current_value, recommended_value,
        estimated_impact, impact_unit, priority, confidence_score, status, created_at, expires_at, withdrawn_at, withdrawal_reason)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 12.5, 'conversions_per_week', $11, $12, $13,
             now() + $14::interval, now() + $15::interval, case when $16::text is null then null else now() end, $16)
     returning id`,
    [
      tenant,
      r.platform ?? 'meta',
      r.level ?? 'campaign',
      r.entity,
      r.name ?? r.entity,
      r.campaign === undefined ? (r.level && r.level !== 'campaign' ? null : r.entity) : r.campaign,
      r.type,
      `${r.type} for ${r.name ?? r.entity}`,
      r.current ?? null,
      r.recommended ?? null,
      r.priority ?? 'medium',
      r.confidence ?? 0.8,
      r.status ?? 'pending',
      r.created ?? '0 seconds',
      r.expires ?? '7 days',
      r.withdrawnReason ?? null,
    ],
  );
  return row.id;
}

/** The winner's budget increase, 100 -> 125.50, as the engine would word it. */
const winnerIncrease = (tenant: string) => insertRec(tenant, { type: 'budget_increase', entity: 'winner', name: 'Winner', current: 100, recommended: 125.5, priority: 'high' });

const recState = (tenant: string, id: string) =>
  one<{ status: string; applied_by: string | null; applied_at: Date | null; dismissed_by: string | null; dismiss_reason: string | null }>(
    tenant,
    'select status, applied_by, applied_at, dismissed_by, dismiss_reason from ads.optimization_recommendations where id = $1',
    [id],
  );
const budgetOf = async (tenant: string, campaign: string) =>
  one<{ daily_budget: number; recommended_budget: number | null; status: string }>(
    tenant,
    `select daily_budget::float8 as daily_budget, recommended_budget::float8 as recommended_budget, status from ads.budget_allocation where tenant_id = $1 and campaign_id = $2`,
    [tenant, campaign],
  );
const auditCount = (tenant: string) => count(owner, 'select 1 from saas.audit_log where tenant_id = $1', [tenant]);
const decisionAudits = (tenant: string, id: string) =>
  count(owner, `select 1 from saas.audit_log where tenant_id = $1 and entity_type = 'recommendation' and entity_id = $2 and action like 'recommendation.%'`, [tenant, id]);
const budgetAudits = (tenant: string, id: string) =>
  count(owner, `select 1 from saas.audit_log where tenant_id = $1 and entity_type = 'budget_allocation' and after ->> 'recommendation_id' = $2`, [tenant, id]);
const outcomes = (tenant: string, id: string) =>
  count(owner, 'select 1 from ads_engine.recommendation_outcomes where tenant_id = $1 and recommendation_id = $2', [tenant, id]);

async function account(label: string): Promise<Team> {
  const t = await createTeam(owner, label);
  await seedAccount(t.tenantId);
  return t;
}

describe('approving a budget recommendation', () => {
  it('the fixture is what the engine backs: a budget increase for the winner, none for steady', async () => {
    const t = await account('Recs fixture');
    const rows = await asOwner(t.tenantId, async (c) =>
      (await c.query(`select entity_id, recommendation_type from ads_engine.recommendation_candidates($1, $2::date) where kind = 'candidate' order by 1`, [t.tenantId, AS_OF])).rows,
    );
    expect(rows).toEqual([{ entity_id: 'winner', recommendation_type: 'budget_increase' }]);
  });

  it('moves the daily budget to the recommended value, marks it applied and audits it, in one transaction', async () => {
    const t = await account('Recs approve');
    const id = await winnerIncrease(t.tenantId);
    const r = await decide(t.buyer.id, { id, decision: 'approve' });
    expect(r).toMatchObject({ ok: true, message: 'Approved: the daily budget of Winner on Meta is now €125.50 (was €100).' });
    expect(r.ok && r.data).toMatchObject({ id, status: 'applied', outcome: { kind: 'budget_changed', from: 100, to: 125.5 } });
    // 125.50: the recommended_value inserted above, by hand; recommended_budget follows it.
    expect(await budgetOf(t.tenantId, 'winner')).toEqual({ daily_budget: 125.5, recommended_budget: 125.5, status: 'active' });
    const s = await recState(t.tenantId, id);
    expect(s).toMatchObject({ status: 'applied', applied_by: t.buyer.id });
    expect(s.applied_at).toBeInstanceOf(Date);
    const audit = await owner.query(
      `select action, entity_type, actor_user_id, actor_label, before ->> 'status' as b, after ->> 'status' as a,
              (after ->> 'daily_budget_after')::float8 as to_budget, (after ->> 'daily_budget')::float8 as budget
       from saas.audit_log where tenant_id = $1 order by entity_type`,
      [t.tenantId],
    );
    expect(audit.rows).toEqual([
      { action: 'recommendation.approve', entity_type: 'budget_allocation', actor_user_id: t.buyer.id, actor_label: t.buyer.email, b: null, a: null, to_budget: null, budget: 125.5 },
      { action: 'recommendation.approve', entity_type: 'recommendation', actor_user_id: t.buyer.id, actor_label: t.buyer.email, b: 'pending', a: 'applied', to_budget: 125.5, budget: null },
    ]);
    // the outcome trigger recorded the prediction of the applied recommendation
    expect(await outcomes(t.tenantId, id)).toBe(1);
  });

  it('a failure after the budget update rolls back the budget, the decision and the audit rows', async () => {
    const t = await account('Recs rollback');
    const id = await winnerIncrease(t.tenantId);
    let seenInside: number | null = null;
    const failing: Decide = async (trx, input, ctx) => {
      await decideRecommendationHandler(trx, input, ctx);
      const b = await trx.selectFrom('ads.budget_allocation').where('campaign_id', '=', 'winner').select('daily_budget').executeTakeFirstOrThrow();
      seenInside = b.daily_budget;
      throw new Error('forced failure after the budget update');
    };
    await expect(decide(t.buyer.id, { id, decision: 'approve' }, failing)).rejects.toThrow(/forced failure/);
    expect(seenInside).toBe(125.5);
    expect(await budgetOf(t.tenantId, 'winner')).toEqual({ daily_budget: 100, recommended_budget: null, status: 'active' });
    expect((await recState(t.tenantId, id)).status).toBe('pending');
    expect(await auditCount(t.tenantId)).toBe(0);
    expect(await outcomes(t.tenantId, id)).toBe(0);
    // and it can still be approved afterwards
    expect((await decide(t.buyer.id, { id, decision: 'approve' })).ok).toBe(true);
    expect((await budgetOf(t.tenantId, 'winner')).daily_budget).toBe(125.5);
  });

  it('withdrawn by the re-check when the data no longer support it: answered, kept, nothing changed', async () => {
    const t = await account('Recs withdraw');
    const id = await insertRec(t.tenantId, { type: 'budget_increase', entity: 'steady', name: 'Steady', current: 200, recommended: 250 });
    const r = await decide(t.buyer.id, { id, decision: 'approve' });
    const reason = `At approval the data up to ${AS_OF} no longer support it: nothing was changed`;
    expect(r).toMatchObject({ ok: true, message: `The data no longer support this: ${reason}. It was withdrawn, not applied.` });
    expect(r.ok && r.data?.outcome).toEqual({ kind: 'withdrawn', reason });
    const s = await one<{ status: string; withdrawal_reason: string; withdrawn_at: Date; applied_at: Date | null }>(
      t.tenantId,
      'select status, withdrawal_reason, withdrawn_at, applied_at from ads.optimization_recommendations where id = $1',
      [id],
    );
    expect(s).toMatchObject({ status: 'withdrawn', withdrawal_reason: reason, applied_at: null });
    expect((await budgetOf(t.tenantId, 'steady')).daily_budget).toBe(200);
    const actions = await owner.query(`select action, actor_label, after ->> 'status' as a from saas.audit_log where tenant_id = $1 order by id`, [t.tenantId]);
    expect(actions.rows).toEqual([
      { action: 'recommendation.withdraw', actor_label: 'optimizer', a: 'withdrawn' },
      { action: 'recommendation.approve', actor_label: t.buyer.email, a: 'withdrawn' },
    ]);
    // asked again: it is withdrawn, and says when and why
    expect(await decide(t.admin.id, { id, decision: 'approve' })).toEqual({ ok: false, message: `Withdrawn at ${formatUtc(s.withdrawn_at)}: ${reason}.` });
  });

  it('a budget moved since the recommendation was computed: marked expired, nothing else changes', async () => {
    const t = await account('Recs stale');
    const id = await winnerIncrease(t.tenantId);
    await asOwner(t.tenantId, (c) => c.query(`update ads.budget_allocation set daily_budget = 110 where tenant_id = $1 and campaign_id = 'winner'`, [t.tenantId]));
    const r = await decide(t.buyer.id, { id, decision: 'approve' });
    expect(r).toMatchObject({ ok: true, message: 'Not applied. The daily budget is now €110, not the €100 it was computed from. It is marked expired; the next run proposes a fresh one if the data still support it.' });
    expect((await recState(t.tenantId, id)).status).toBe('expired');
    expect((await budgetOf(t.tenantId, 'winner')).daily_budget).toBe(110);
  });

  it('no budget recorded for the campaign: refused, nothing changes', async () => {
    const t = await account('Recs no budget');
    const id = await insertRec(t.tenantId, { type: 'budget_decrease', entity: 'nobudget', name: 'No Budget', current: 80, recommended: 60 });
    expect(await decide(t.buyer.id, { id, decision: 'approve' })).toEqual({
      ok: false,
      message: 'No daily budget is recorded for No Budget on Meta: record one before approving a budget change.',
    });
    expect((await recState(t.tenantId, id)).status).toBe('pending');
    expect(await auditCount(t.tenantId)).toBe(0);
  });
});

describe('approving other types, dismissing', () => {
  it('a campaign pause marks its budget paused; without a budget it says so and is still applied', async () => {
    const t = await account('Recs pause');
    const withBudget = await insertRec(t.tenantId, { type: 'pause', entity: 'pauser', name: 'Pauser' });
    const without = await insertRec(t.tenantId, { type: 'pause', entity: 'ghost', name: 'Ghost' });
    expect(await decide(t.buyer.id, { id: withBudget, decision: 'approve' })).toMatchObject({
      ok: true,
      message: 'Approved: Pauser is marked paused in its budget. Pause it on Meta too.',
    });
    expect((await budgetOf(t.tenantId, 'pauser')).status).toBe('paused');
    expect(await recState(t.tenantId, withBudget)).toMatchObject({ status: 'applied', applied_by: t.buyer.id });
    expect(await decide(t.buyer.id, { id: without, decision: 'approve' })).toMatchObject({
      ok: true,
      message: 'Approved and marked applied, but no budget is recorded for Ghost, so none was marked paused. Pause it on Meta.',
    });
    expect(await recState(t.tenantId, without)).toMatchObject({ status: 'applied', applied_by: t.buyer.id });
    const a = await owner.query(
      `select entity_id, after ->> 'budget_status_after' as s from saas.audit_log where tenant_id = $1 and action = 'recommendation.approve' order by id`,
      [t.tenantId],
    );
    expect(a.rows).toEqual([{ entity_id: withBudget, s: 'paused' }, { entity_id: without, s: null }]);
  });

  it('bid, creative and the like are marked applied for the buyer to act on the platform', async () => {
    const t = await account('Recs creative');
    const id = await insertRec(t.tenantId, { type: 'creative', entity: 'steady', name: 'Steady' });
    expect(await decide(t.buyer.id, { id, decision: 'approve' })).toMatchObject({
      ok: true,
      message: 'Approved and marked applied: make the change on Meta (creative for Steady).',
    });
    expect(await recState(t.tenantId, id)).toMatchObject({ status: 'applied', applied_by: t.buyer.id });
    expect((await budgetOf(t.tenantId, 'steady')).daily_budget).toBe(200);
  });

  it('dismiss stores the preset and the words, and a second decision is told who and when', async () => {
    const t = await account('Recs dismiss');
    const id = await winnerIncrease(t.tenantId);
    const r = await decide(t.buyer.id, { id, decision: 'dismiss', reason: 'seasonal', details: '  Black Friday week  ' });
    expect(r).toMatchObject({ ok: true, message: 'Dismissed (Seasonal: Black Friday week).' });
    const s = await one<{ status: string; dismissed_by: string; dismiss_reason: string; dismissed_at: Date }>(
      t.tenantId,
      'select status, dismissed_by, dismiss_reason, dismissed_at from ads.optimization_recommendations where id = $1',
      [id],
    );
    expect(s).toMatchObject({ status: 'dismissed', dismissed_by: t.buyer.id, dismiss_reason: 'Seasonal: Black Friday week' });
    expect((await budgetOf(t.tenantId, 'winner')).daily_budget).toBe(100);
    const audit = await owner.query(`select action, after ->> 'dismiss_reason' as why, after ->> 'reason_code' as code from saas.audit_log where tenant_id = $1`, [t.tenantId]);
    expect(audit.rows).toEqual([{ action: 'recommendation.dismiss', why: 'Seasonal: Black Friday week', code: 'seasonal' }]);
    expect(await decide(t.admin.id, { id, decision: 'approve' })).toEqual({
      ok: false,
      message: `Already dismissed by ${t.buyer.name} at ${formatUtc(s.dismissed_at)} (Seasonal: Black Friday week).`,
    });
    // a preset alone is stored as its label
    const other = await insertRec(t.tenantId, { type: 'creative', entity: 'steady' });
    expect(await decide(t.buyer.id, { id: other, decision: 'dismiss', reason: 'not_relevant' })).toMatchObject({ ok: true, message: 'Dismissed (Not relevant).' });
  });

  it('dismiss without a reason, or Other without words: refused naming the field, nothing changes', async () => {
    const t = await account('Recs reasons');
    const id = await winnerIncrease(t.tenantId);
    const form = new FormData();
    form.append('id', id);
    form.append('decision', 'dismiss');
    form.append('reason', '');
    expect(await decide(t.buyer.id, form)).toEqual({ ok: false, message: INVALID_INPUT, fieldErrors: { reason: ['Reason: choose why you dismiss it.'] } });
    expect(await decide(t.buyer.id, { id, decision: 'dismiss', reason: 'other', details: ' no ' })).toEqual({
      ok: false,
      message: INVALID_INPUT,
      fieldErrors: { details: ['Details: say why in at least 3 characters (the reason is Other).'] },
    });
    expect(await decide(t.buyer.id, { id, decision: 'dismiss', reason: 'because' })).toMatchObject({ ok: false, fieldErrors: { reason: ['Reason: choose one of the listed reasons.'] } });
    expect(await decide(t.buyer.id, { id, decision: 'dismiss', reason: 'other', details: 'x'.repeat(501) })).toMatchObject({
      ok: false,
      fieldErrors: { details: ['Details: at most 500 characters.'] },
    });
    expect(await decide(t.buyer.id, { id: 'nope', decision: 'maybe' })).toMatchObject({
      ok: false,
      fieldErrors: { id: ['Recommendation: not a recommendation id.'], decision: ['Decision: choose Approve or Dismiss.'] },
    });
    expect((await recState(t.tenantId, id)).status).toBe('pending');
    expect(await auditCount(t.tenantId)).toBe(0);
    // Other with words goes through
    expect(await decide(t.buyer.id, { id, decision: 'dismiss', reason: 'other', details: 'Client paused the brand' })).toMatchObject({
      ok: true,
      message: 'Dismissed (Other: Client paused the brand).',
    });
  });
});

describe('what cannot be decided', () => {
  it('expired (past its time, or marked) and withdrawn: refused with when and why, nothing changes', async () => {
    const t = await account('Recs expired');
    const late = await insertRec(t.tenantId, { type: 'creative', entity: 'a', expires: '-1 hour' });
    const marked = await insertRec(t.tenantId, { type: 'creative', entity: 'b', status: 'expired', expires: '-2 hours' });
    const gone = await insertRec(t.tenantId, { type: 'creative', entity: 'c', status: 'withdrawn', withdrawnReason: `No longer supported: no delivery in the 7 days to ${AS_OF}` });
    const at = async (id: string, col: string) => formatUtc((await one<{ t: Date }>(t.tenantId, `select ${col} as t from ads.optimization_recommendations where id = $1`, [id])).t);
    expect(await decide(t.buyer.id, { id: late, decision: 'approve' })).toEqual({ ok: false, message: `Expired at ${await at(late, 'expires_at')}.` });
    expect(await decide(t.buyer.id, { id: marked, decision: 'dismiss', reason: 'seasonal' })).toEqual({ ok: false, message: `Expired at ${await at(marked, 'expires_at')}.` });
    expect(await decide(t.buyer.id, { id: gone, decision: 'approve' })).toEqual({
      ok: false,
      message: `Withdrawn at ${await at(gone, 'withdrawn_at')}: No longer supported: no delivery in the 7 days to ${AS_OF}.`,
    });
    for (const [id, status] of [[late, 'pending'], [marked, 'expired'], [gone, 'withdrawn']] as const) expect((await recState(t.tenantId, id)).status).toBe(status);
    expect(await auditCount(t.tenantId)).toBe(0);
  });

  it('a viewer is refused by the server and nothing changes', async () => {
    const t = await account('Recs viewer');
    const id = await winnerIncrease(t.tenantId);
    const refusal = { ok: false, message: 'This needs the Buyer role; you are Viewer.' };
    expect(await decide(t.viewer.id, { id, decision: 'approve' })).toEqual(refusal);
    expect(await decide(t.viewer.id, { id, decision: 'dismiss', reason: 'seasonal' })).toEqual(refusal);
    expect(await decideSet(t.viewer.id, { ids: [id], decision: 'approve' })).toEqual(refusal);
    expect((await recState(t.tenantId, id)).status).toBe('pending');
    expect((await budgetOf(t.tenantId, 'winner')).daily_budget).toBe(100);
    expect(await auditCount(t.tenantId)).toBe(0);
  });

  it("another tenant's id is not found, and nothing changes on either side", async () => {
    const a = await account('Recs victim');
    const b = await createTeam(owner, 'Recs intruder');
    const id = await winnerIncrease(a.tenantId);
    expect(await decide(b.buyer.id, { id, decision: 'approve' })).toEqual({ ok: false, message: RECOMMENDATION_NOT_FOUND });
    expect(await decide(b.admin.id, { id, decision: 'dismiss', reason: 'not_relevant' })).toEqual({ ok: false, message: RECOMMENDATION_NOT_FOUND });
    const set = await decideSet(b.buyer.id, { ids: [id], decision: 'approve' });
    expect(set).toMatchObject({ ok: false, message: `Nothing was approved: 1 of 1 cannot be. Unknown recommendation (${id}): ${RECOMMENDATION_NOT_FOUND}` });
    // the owner sees it exists, untouched
    expect(await recState(a.tenantId, id)).toMatchObject({ status: 'pending', applied_by: null, dismissed_by: null });
    expect((await budgetOf(a.tenantId, 'winner')).daily_budget).toBe(100);
    expect(await auditCount(a.tenantId)).toBe(0);
    expect(await auditCount(b.tenantId)).toBe(0);
    // and the intruder's queue does not list it
    expect((await rolledBackAsApp(app.db, b.tenantId, (trx) => listPending(trx, b.tenantId))).total).toBe(0);
  });
});

/** A promise all n callers wait on until the last arrives. */
function barrier(n: number): () => Promise<void> {
  let arrived = 0;
  let open!: () => void;
  const all = new Promise<void>((resolve) => (open = resolve));
  return async () => {
    if (++arrived === n) open();
    await all;
  };
}

describe('two buyers deciding at once', () => {
  it('20 rounds on two real connections: exactly one decision, one audit row, the budget changed once', async () => {
    const t = await account('Recs race');
    const tally = { applied: 0, dismissed: 0 };
    for (let round = 0; round < 20; round++) {
      await asOwner(t.tenantId, (c) => c.query(`update ads.budget_allocation set daily_budget = 100, recommended_budget = null where tenant_id = $1 and campaign_id = 'winner'`, [t.tenantId]));
      const id = await winnerIncrease(t.tenantId);
      // Both transactions are open (tenant set) before either locks the row.
      const wait = barrier(2);
      const gated: Decide = async (trx, input, ctx) => {
        await wait();
        return decideRecommendationHandler(trx, input, ctx);
      };
      const second = round % 2 === 0 ? { id, decision: 'approve' } : { id, decision: 'dismiss', reason: 'disagree_with_data' };
      const [x, y] = await Promise.all([decide(t.buyer.id, { id, decision: 'approve' }, gated), decide(t.admin.id, second, gated)]);
      const winners = [x, y].filter((r) => r.ok);
      const losers = [x, y].filter((r) => !r.ok);
      expect(winners, `round ${round}`).toHaveLength(1);
      expect(losers, `round ${round}`).toHaveLength(1);
      const s = await recState(t.tenantId, id);
      const winnerName = x.ok ? t.buyer.name : t.admin.name;
      expect(losers[0]!.message, `round ${round}`).toMatch(
        new RegExp(`^Already (approved|dismissed) by ${winnerName} at \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC`),
      );
      expect(await decisionAudits(t.tenantId, id), `round ${round}`).toBe(1);
      if (s.status === 'applied') {
        tally.applied++;
        expect(losers[0]!.message).toMatch(/^Already approved/);
        expect((await budgetOf(t.tenantId, 'winner')).daily_budget).toBe(125.5);
        expect(await budgetAudits(t.tenantId, id)).toBe(1);
        expect(await outcomes(t.tenantId, id)).toBe(1);
      } else {
        expect(s.status).toBe('dismissed');
        tally.dismissed++;
        expect(losers[0]!.message).toMatch(/^Already dismissed by .* \(Disagree with the data\)\.$/);
        expect((await budgetOf(t.tenantId, 'winner')).daily_budget).toBe(100);
        expect(await budgetAudits(t.tenantId, id)).toBe(0);
      }
    }
    // every approve-vs-approve round applied it; the others went either way
    expect(tally.applied + tally.dismissed).toBe(20);
    expect(tally.applied).toBeGreaterThanOrEqual(10);
    expect(await count(owner, `select 1 from saas.audit_log where tenant_id = $1 and entity_type = 'recommendation'`, [t.tenantId])).toBe(20);
  });
});

describe('a set of decisions', () => {
  it('all or nothing: one bad id and none is decided; without it all are, with a summary', async () => {
    const t = await account('Recs bulk');
    const budget = await winnerIncrease(t.tenantId);
    const pause = await insertRec(t.tenantId, { type: 'pause', entity: 'pauser', name: 'Pauser' });
    const creative = await insertRec(t.tenantId, { type: 'creative', entity: 'steady', name: 'Steady' });
    const done = await insertRec(t.tenantId, { type: 'bid_adjustment', entity: 'steady', name: 'Steady' });
    expect((await decide(t.admin.id, { id: done, decision: 'dismiss', reason: 'already_done' })).ok).toBe(true);
    const doneAt = (await one<{ t: Date }>(t.tenantId, 'select dismissed_at as t from ads.optimization_recommendations where id = $1', [done])).t;
    const before = await auditCount(t.tenantId);

    const refused = await decideSet(t.buyer.id, { ids: [budget, pause, done, creative], decision: 'approve' });
    const why = `Already dismissed by ${t.admin.name} at ${formatUtc(doneAt)} (Already done).`;
    expect(refused).toEqual({
      ok: false,
      message: `Nothing was approved: 1 of 4 cannot be. Steady (${done}): ${why}`,
      fieldErrors: { ids: [`${done}: ${why}`] },
    });
    for (const id of [budget, pause, creative]) expect((await recState(t.tenantId, id)).status).toBe('pending');
    expect((await budgetOf(t.tenantId, 'winner')).daily_budget).toBe(100);
    expect((await budgetOf(t.tenantId, 'pauser')).status).toBe('active');
    expect(await auditCount(t.tenantId)).toBe(before);

    // as a form: repeated ids fields
    const form = new FormData();
    for (const id of [budget, pause, creative]) form.append('ids', id);
    form.append('decision', 'approve');
    const r = await decideSet(t.buyer.id, form);
    expect(r).toMatchObject({ ok: true, message: '3 approved (1 budget changed, 1 campaign paused, 1 change to make on the platform).' });
    for (const id of [budget, pause, creative]) expect(await recState(t.tenantId, id)).toMatchObject({ status: 'applied', applied_by: t.buyer.id });
    expect((await budgetOf(t.tenantId, 'winner')).daily_budget).toBe(125.5);
    expect((await budgetOf(t.tenantId, 'pauser')).status).toBe('paused');
    expect(await count(owner, `select 1 from saas.audit_log where tenant_id = $1 and entity_type = 'recommendation' and action = 'recommendation.approve'`, [t.tenantId])).toBe(3);
  });

  it('a member the re-check withdraws fails the whole set, and the withdrawal is rolled back with it', async () => {
    const t = await account('Recs bulk withdraw');
    const good = await winnerIncrease(t.tenantId);
    const stale = await insertRec(t.tenantId, { type: 'budget_increase', entity: 'steady', name: 'Steady', current: 200, recommended: 250 });
    const r = await decideSet(t.buyer.id, { ids: [good, stale], decision: 'approve' });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toBe(
      `Nothing was approved: the whole set was rolled back, because 1 of 2 could not be. Steady (${stale}): The data no longer support this: At approval the data up to ${AS_OF} no longer support it: nothing was changed.`,
    );
    expect((await recState(t.tenantId, good)).status).toBe('pending');
    expect((await recState(t.tenantId, stale)).status).toBe('pending');
    expect((await budgetOf(t.tenantId, 'winner')).daily_budget).toBe(100);
    expect(await auditCount(t.tenantId)).toBe(0);
  });

  it('an increase and a pause of the same campaign in one set are refused as a conflict', async () => {
    const t = await account('Recs bulk conflict');
    const up = await winnerIncrease(t.tenantId);
    const stop = await insertRec(t.tenantId, { type: 'pause', entity: 'winner', name: 'Winner' });
    const r = await decideSet(t.buyer.id, { ids: [up, stop], decision: 'approve' });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.fieldErrors?.ids).toHaveLength(2);
    expect(!r.ok && r.message).toMatch(/^Nothing was approved: 2 of 2 cannot be\. .*conflicts with pause/);
    expect((await recState(t.tenantId, up)).status).toBe('pending');
    expect((await budgetOf(t.tenantId, 'winner')).daily_budget).toBe(100);
    // dismissing both together is fine
    expect(await decideSet(t.buyer.id, { ids: [up, stop], decision: 'dismiss', reason: 'not_relevant', details: 'brand freeze' })).toMatchObject({
      ok: true,
      message: '2 dismissed (Not relevant: brand freeze).',
    });
  });

  it('refuses a set with no id, a repeated id, too many ids, or a dismissal without reason', async () => {
    const t = await account('Recs bulk input');
    const id = await winnerIncrease(t.tenantId);
    expect(await decideSet(t.buyer.id, { ids: [], decision: 'approve' })).toMatchObject({ ok: false, fieldErrors: { ids: ['Recommendations: choose at least one.'] } });
    expect(await decideSet(t.buyer.id, { ids: [id, id.toUpperCase()], decision: 'approve' })).toMatchObject({ ok: false, fieldErrors: { ids: ['Recommendations: each one only once.'] } });
    const many = Array.from({ length: 101 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    expect(await decideSet(t.buyer.id, { ids: many, decision: 'approve' })).toMatchObject({ ok: false, fieldErrors: { ids: ['Recommendations: at most 100 at a time.'] } });
    expect(await decideSet(t.buyer.id, { ids: [id], decision: 'dismiss' })).toMatchObject({ ok: false, fieldErrors: { reason: ['Reason: choose why you dismiss it.'] } });
    expect((await recState(t.tenantId, id)).status).toBe('pending');
    expect(await auditCount(t.tenantId)).toBe(0);
  });
});

describe('the queue', () => {
  it('pending and unexpired, critical first, then confidence, then the oldest; conflicts of the same campaign', async () => {
    const t = await createTeam(owner, 'Recs queue');
    const other = await createTeam(owner, 'Recs queue other');
    const tn = t.tenantId;
    const A = await insertRec(tn, { type: 'budget_increase', entity: 'C1', name: 'Camp One', priority: 'critical', confidence: 0.6, current: 100, recommended: 120 });
    const B = await insertRec(tn, { type: 'pause', entity: 'C1', name: 'Camp One', priority: 'high', confidence: 0.9, created: '-1 hour' });
    const C = await insertRec(tn, { type: 'creative', entity: 'C2', name: 'Camp Two', priority: 'high', confidence: 0.9, created: '-2 hours' });
    const D = await insertRec(tn, { type: 'budget_decrease', entity: 'C3', name: 'Camp Three', priority: 'medium', confidence: 0.99 });
    const E = await insertRec(tn, { type: 'budget_increase', entity: 'C3', name: 'Camp Three G', platform: 'google', priority: 'low', confidence: 0.7 });
    const F = await insertRec(tn, { type: 'pause', entity: 'as1', name: 'Ad set 1', level: 'adset', campaign: 'C1', priority: 'low', confidence: 0.5 });
    // not in the queue, and no conflict: expired though pending, dismissed
    await insertRec(tn, { type: 'budget_decrease', entity: 'C1', name: 'Camp One', priority: 'critical', confidence: 1, expires: '-1 minute' });
    await insertRec(tn, { type: 'budget_decrease', entity: 'C1', name: 'Camp One', priority: 'critical', status: 'dismissed' });
    // another tenant's opposite recommendation on a campaign of the same id
    await insertRec(other.tenantId, { type: 'pause', entity: 'C3', name: 'Theirs', priority: 'critical' });

    const list = (filter: Record<string, unknown> = {}) => rolledBackAsApp(app.db, tn, (trx) => listPending(trx, tn, filter));
    const all = await list();
    // by hand: A critical; C and B high at 0.9 (C older); D medium; E low 0.7; F low 0.5
    expect(all.rows.map((r) => r.id)).toEqual([A, C, B, D, E, F]);
    expect(all).toMatchObject({ total: 6, page: 1, pages: 1, pageSize: 25 });
    const byId = new Map(all.rows.map((r) => [r.id, r.conflictsWith]));
    expect(byId.get(A)).toEqual([B, F].sort());
    expect(byId.get(B)).toEqual([A]);
    expect(byId.get(F)).toEqual([A]);
    for (const id of [C, D, E]) expect(byId.get(id)).toEqual([]);
    expect(all.rows[0]).toMatchObject({
      id: A, type: 'budget_increase', platform: 'meta', level: 'campaign', entityId: 'C1', entityName: 'Camp One', campaignId: 'C1',
      description: 'budget_increase for Camp One', currentValue: 100, recommendedValue: 120, estimatedImpact: 12.5, impactUnit: 'conversions_per_week',
      confidence: 0.6, priority: 'critical',
    });
    expect(all.rows[5]).toMatchObject({ id: F, level: 'adset', entityId: 'as1', campaignId: 'C1' });
    expect(typeof all.rows[0]!.createdAt).toBe('string');

    expect((await list({ type: 'pause' })).rows.map((r) => r.id)).toEqual([B, F]);
    expect((await list({ platform: 'google' })).rows.map((r) => r.id)).toEqual([E]);
    expect((await list({ level: 'adset' })).rows.map((r) => r.id)).toEqual([F]);
    expect((await list({ priority: 'high' })).rows.map((r) => r.id)).toEqual([C, B]);
    expect((await list({ q: 'camp three' })).rows.map((r) => r.id)).toEqual([D, E]);
    expect((await list({ q: 'pause for' })).rows.map((r) => r.id)).toEqual([B, F]);
    expect((await list({ q: '%' })).rows).toEqual([]);
    expect(pendingFilterSchema.parse({ q: `  ${'y'.repeat(150)}  ` }).q).toBe('y'.repeat(100));
    expect((await list({ type: 'nonsense', platform: 'myspace' })).total).toBe(6);
    const p2 = await list({ page: 2, pageSize: 2 });
    expect(p2).toMatchObject({ total: 6, page: 2, pages: 3, pageSize: 2 });
    expect(p2.rows.map((r) => r.id)).toEqual([B, D]);
    expect((await list({ pageSize: 100_000 })).pageSize).toBe(100);
    expect((await list({ page: 99, pageSize: 4 })).rows.map((r) => r.id)).toEqual([E, F]);
    // isolation, both sides: the other tenant lists only its own; the owner sees all of this tenant's rows
    expect((await rolledBackAsApp(app.db, other.tenantId, (trx) => listPending(trx, other.tenantId))).rows.map((r) => r.entityName)).toEqual(['Theirs']);
    expect(await count(owner, 'select 1 from ads.optimization_recommendations where tenant_id = $1', [tn])).toBe(8);
  });

  it('decided ones by status, newest first, with who and why', async () => {
    const t = await account('Recs decided');
    const tn = t.tenantId;
    const a = await insertRec(tn, { type: 'creative', entity: 'a', name: 'A' });
    const b = await insertRec(tn, { type: 'creative', entity: 'b', name: 'B' });
    const c = await insertRec(tn, { type: 'creative', entity: 'c', name: 'C' });
    await insertRec(tn, { type: 'creative', entity: 'd', name: 'D', expires: '-1 minute' });
    await insertRec(tn, { type: 'creative', entity: 'e', name: 'E', status: 'withdrawn', withdrawnReason: 'No longer supported' });
    expect((await decide(t.buyer.id, { id: a, decision: 'approve' })).ok).toBe(true);
    expect((await decide(t.admin.id, { id: b, decision: 'approve' })).ok).toBe(true);
    expect((await decide(t.buyer.id, { id: c, decision: 'dismiss', reason: 'seasonal' })).ok).toBe(true);
    const list = (filter: Record<string, unknown>) => rolledBackAsApp(app.db, tn, (trx) => listDecided(trx, tn, filter));
    const applied = await list({ status: 'applied' });
    expect(applied.rows.map((r) => [r.entityName, r.decidedBy?.label])).toEqual([['B', t.admin.name], ['A', t.buyer.name]]);
    expect((await list({ status: 'applied', decidedBy: t.buyer.id })).rows.map((r) => r.id)).toEqual([a]);
    expect((await list({ status: 'dismissed' })).rows).toMatchObject([{ id: c, reason: 'Seasonal', decidedBy: { id: t.buyer.id, label: t.buyer.name } }]);
    expect((await list({ status: 'expired' })).rows.map((r) => r.entityName)).toEqual(['D']);
    expect((await list({ status: 'withdrawn' })).rows).toMatchObject([{ entityName: 'E', reason: 'No longer supported', decidedBy: null }]);
    expect((await list({ status: 'withdrawn', decidedBy: t.buyer.id })).total).toBe(0);
  });
});
