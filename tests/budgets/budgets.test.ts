// The budgets page on the real database, through the app role and the action
// wrapper (runTenantAction with real accounts and roles): the page's
// month-to-date and yesterday spend against independent SQL sums in the
// tenant's own time zone, and on the 1st the previous month closed, its whole
// spend against its budget; every validation rule refuses and saves nothing;
// two buyers saving one budget (one after the other, and at once on two
// connections); accepting the recommended budget; adding an allocation for a
// campaign that delivers without one, its default checked by an independent
// query; a viewer refused by the server; another tenant's allocation not found
// and unchanged. Audit rows carry before and after.
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { acceptRecommendedHandler, BUDGET_NOT_FOUND, createBudgetHandler, updateBudgetHandler, type BudgetChange } from '../../lib/budgets/mutations';
import { budgetsPage, type BudgetsPage } from '../../lib/budgets/queries';
import { acceptRecommendedSchema, budgetFilterSchema, createBudgetSchema, updateBudgetSchema } from '../../lib/budgets/schema';
import { INVALID_INPUT, runTenantAction, type ActionHandler } from '../../lib/request/action-core';
import { appKysely, rolledBackAsApp } from '../helpers/app-db';
import { inTenant, ownerPool } from '../helpers/db';
import { count, createTeam } from '../auth/fixtures';
import type { Team } from '../helpers/factories';

const app = appKysely(6);
const owner = ownerPool();

type Update = ActionHandler<typeof updateBudgetSchema, BudgetChange>;
const update = (userId: string, input: unknown, handler: Update = updateBudgetHandler) =>
  runTenantAction({ schema: updateBudgetSchema, minRole: 'buyer', handler, userId, preferredTenantId: null, input, db: app.db });
const accept = (userId: string, input: unknown) =>
  runTenantAction({ schema: acceptRecommendedSchema, minRole: 'buyer', handler: acceptRecommendedHandler, userId, preferredTenantId: null, input, db: app.db });
const create = (userId: string, input: unknown) =>
  runTenantAction({ schema: createBudgetSchema, minRole: 'buyer', handler: createBudgetHandler, userId, preferredTenantId: null, input, db: app.db });

const asOwner = <T>(tenant: string, fn: (c: pg.PoolClient) => Promise<T>) => inTenant(owner, tenant, fn);
const one = async <T = Record<string, unknown>>(tenant: string, text: string, values: unknown[] = []) =>
  asOwner(tenant, async (c) => (await c.query(text, values)).rows[0] as T);

const page = (tenant: string, params: Record<string, string> = {}): Promise<BudgetsPage> =>
  rolledBackAsApp(app.db, tenant, (trx) => budgetsPage(trx, tenant, budgetFilterSchema.parse(params)));

const ZONE = 'Pacific/Kiritimati'; // UTC+14: its today is often not UTC's

/** A team whose tenant keeps its days in ZONE, with the tenant's yesterday as the database computes it there. */
async function team(name: string): Promise<Team & { yesterday: string }> {
  const t = await createTeam(owner, name);
  const y = await asOwner(t.tenantId, async (c) => {
    await c.query('update saas.tenants set timezone = $2 where id = $1', [t.tenantId, ZONE]);
    return (await c.query<{ y: string }>("select to_char((now() at time zone $1)::date - 1, 'YYYY-MM-DD') as y", [ZONE])).rows[0]!.y;
  });
  return { ...t, yesterday: y };
}

interface NewAllocation {
  platform?: string;
  campaign: string;
  name?: string | null;
  daily: number;
  recommended?: number | null;
  min?: number | null;
  max?: number | null;
  strategy?: string;
  targetRoas?: number | null;
  targetCpa?: number | null;
  status?: string;
}

async function allocate(tenant: string, a: NewAllocation): Promise<string> {
  const r = await one<{ id: string }>(
    tenant,
    `insert into ads.budget_allocation (tenant_id, platform, campaign_id, campaign_name, daily_budget, recommended_budget, min_budget, max_budget,
                                        allocation_strategy, target_roas, target_cpa, status)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) returning id`,
    [tenant, a.platform ?? 'meta', a.campaign, a.name === undefined ? `Campaign ${a.campaign}` : a.name, a.daily, a.recommended ?? null, a.min ?? null,
      a.max ?? null, a.strategy ?? 'performance', a.targetRoas ?? null, a.targetCpa ?? null, a.status ?? 'active'],
  );
  return r.id;
}

/**
 * Campaign-level rows for `campaign` on each of the `days` days back from the tenant's yesterday (0 = yesterday),
 * spending `spend(ago)`; written as the owner in the tenant's transaction.
 */
async function deliver(tenant: string, opts: { platform?: string; campaign: string; name?: string; level?: 'campaign' | 'adset'; days: number; spend: (ago: number) => number; parent?: string }) {
  await asOwner(tenant, async (c) => {
    const agos = Array.from({ length: opts.days }, (_, i) => i);
    await c.query(
      `insert into ads.metrics_daily (tenant_id, platform, level, platform_id, day, entity_name, campaign_id, spend, impressions, clicks)
       select $1, $2, $3, $4, (now() at time zone $5)::date - 1 - g, $6, $7, s, 1000, 10
       from unnest($8::int[], $9::numeric[]) as t(g, s)`,
      [tenant, opts.platform ?? 'meta', opts.level ?? 'campaign', opts.campaign, ZONE, opts.name ?? `Campaign ${opts.campaign}`, opts.parent ?? opts.campaign,
        agos, agos.map(opts.spend)],
    );
  });
}

const row = (tenant: string, id: string) =>
  one<{
    daily_budget: number;
    recommended_budget: number | null;
    min_budget: number | null;
    max_budget: number | null;
    allocation_strategy: string;
    target_roas: number | null;
    target_cpa: number | null;
    status: string;
    version: string;
  }>(
    tenant,
    `select daily_budget::float8 as daily_budget, recommended_budget::float8 as recommended_budget, min_budget::float8 as min_budget,
            max_budget::float8 as max_budget, allocation_strategy, target_roas::float8 as target_roas, target_cpa::float8 as target_cpa, status,
            to_char(updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as version
     from ads.budget_allocation where id = $1`,
    [id],
  );

const budgetAudits = (tenant: string, id: string) =>
  asOwner(tenant, async (c) =>
    (
      await c.query<{ action: string; actor_user_id: string | null; before: Record<string, unknown> | null; after: Record<string, unknown> | null }>(
        `select action, actor_user_id, before, after from saas.audit_log where tenant_id = $1 and entity_type = 'budget_allocation' and entity_id = $2 order by id`,
        [tenant, id],
      )
    ).rows,
  );

/** The page's edit token of one allocation. */
async function versionOf(tenant: string, id: string): Promise<string> {
  const r = (await page(tenant)).rows.find((x) => x.id === id);
  if (!r) throw new Error(`allocation ${id} not on the page`);
  return r.version;
}

/** A full, valid edit of an allocation: the fields the form sends. */
const edit = (id: string, version: string, over: Record<string, unknown> = {}) => ({
  id,
  version,
  dailyBudget: '150',
  minBudget: '50',
  maxBudget: '300',
  strategy: 'target_roas',
  targetRoas: '3.5',
  targetCpa: '',
  status: 'active',
  ...over,
});

describe('the page read', () => {
  it('month-to-date and yesterday spend equal independent SQL sums in the tenant’s zone; ad sets, other platforms and other tenants do not count', async () => {
    const t = await team('Budgets read');
    const other = await team('Budgets read, other tenant');
    const id = await allocate(t.tenantId, { campaign: 'alpha', name: 'Alpha', daily: 100 });
    // 45 days of uneven spend (12.34 + ago): the month paced, whatever today is, falls inside
    await deliver(t.tenantId, { campaign: 'alpha', days: 45, spend: (ago) => 12.34 + ago });
    // what must not count: the campaign's ad set, the same id on another platform, the same id in another tenant
    await deliver(t.tenantId, { campaign: 'alpha-as1', level: 'adset', parent: 'alpha', days: 45, spend: () => 1000 });
    await deliver(t.tenantId, { platform: 'google', campaign: 'alpha', days: 45, spend: () => 2000 });
    await deliver(other.tenantId, { campaign: 'alpha', days: 45, spend: () => 3000 });
    await allocate(other.tenantId, { campaign: 'alpha', daily: 999 });

    const independent = await one<{ mtd: number; yesterday: number; today: string }>(
      t.tenantId,
      `with d as (select (now() at time zone $2)::date as today)
       -- the month of the last complete day (on the 1st, the previous month, closed)
       select coalesce(sum(m.spend) filter (where m.day >= date_trunc('month', d.today - 1)::date and m.day < d.today), 0)::float8 as mtd,
              coalesce(sum(m.spend) filter (where m.day = d.today - 1), 0)::float8 as yesterday,
              to_char(d.today, 'YYYY-MM-DD') as today
       from d left join ads.metrics_daily m
         on m.tenant_id = $1 and m.platform = 'meta' and m.level = 'campaign' and m.platform_id = 'alpha'
       group by d.today`,
      [t.tenantId, ZONE],
    );
    const p = await page(t.tenantId);
    expect(p.calendar.today).toBe(independent.today);
    expect(p.rows).toHaveLength(1);
    const r = p.rows[0]!;
    expect(r.id).toBe(id);
    expect(r.budgetMovedOn).toBeNull();
    expect(r.pacing.mtdSpend).toBeCloseTo(independent.mtd, 6);
    expect(r.pacing.yesterdaySpend).toBeCloseTo(independent.yesterday, 6);
    // yesterday is ago 0: 12.34
    expect(r.pacing.yesterdaySpend).toBeCloseTo(12.34, 6);
    // the totals are the same sums (one allocation)
    expect(p.totals.overall.mtdSpend).toBeCloseTo(independent.mtd, 6);
    expect(p.totals.overall.dailyBudget).toBe(100);
    // the rate: the last 7 days (ago 0..6) = 7 × 12.34 + (0 + … + 6) = 86.38 + 21 = 107.38, over 7 days
    expect(r.pacing.rateDays).toBe(7);
    expect(r.pacing.rate).toBeCloseTo(Math.round((107.38 / 7) * 100) / 100, 6);
    // the other tenant's allocation is not on the page; the owner sees it there
    expect(p.allocationCount).toBe(1);
    expect(await count(owner, 'select 1 from ads.budget_allocation where tenant_id = $1', [other.tenantId])).toBe(1);
  });

  it('counts and lists the campaigns off pace, and keeps them whatever the filter', async () => {
    const t = await team('Budgets alerts');
    // Spending 10 times its daily budget of 10 for 40 days: over (on the 1st too: the month just closed is over budget).
    await allocate(t.tenantId, { campaign: 'hot', name: 'Hot', daily: 10 });
    await deliver(t.tenantId, { campaign: 'hot', days: 40, spend: () => 100 });
    // On budget every day: on track.
    await allocate(t.tenantId, { campaign: 'calm', name: 'Calm', daily: 100 });
    await deliver(t.tenantId, { campaign: 'calm', days: 40, spend: () => 100 });
    // Paused: not paced.
    await allocate(t.tenantId, { campaign: 'rest', name: 'Rest', daily: 100, status: 'paused' });
    const p = await page(t.tenantId, { show: 'paused' });
    expect(p.rows.map((r) => r.label)).toEqual(['Rest']);
    expect(p.rows[0]!.pacing).toMatchObject({ state: 'not_paced', reason: 'paused' });
    expect(p.alerts.map((a) => [a.label, a.pacing.state])).toEqual([['Hot', 'over']]);
    const all = await page(t.tenantId);
    expect(all.rows.find((r) => r.label === 'Calm')!.pacing.state).toBe('on_track');
    expect(all.judgedCount).toBe(2);
    expect((await page(t.tenantId, { show: 'off_pace' })).rows.map((r) => r.label)).toEqual(['Hot']);
  });

  it('on the 1st: the previous month closed, its whole spend against its budget, an independent sum in the tenant’s zone', async () => {
    const t = await team('Budgets closed month');
    // 70 days of delivery back from the tenant's yesterday: the previous month is covered whatever today is.
    await allocate(t.tenantId, { campaign: 'over', name: 'Over', daily: 10 });
    await deliver(t.tenantId, { campaign: 'over', days: 70, spend: () => 100 });
    await allocate(t.tenantId, { campaign: 'even', name: 'Even', daily: 100 });
    await deliver(t.tenantId, { campaign: 'even', days: 70, spend: (ago) => 97 + (ago % 7) });
    await allocate(t.tenantId, { campaign: 'short', name: 'Short', daily: 100 });
    await deliver(t.tenantId, { campaign: 'short', days: 70, spend: () => 80 });
    // Pinned to the 1st of the tenant's current month: the month paced is the previous one, every day of it complete.
    const first = `${t.yesterday.slice(0, 8)}01`;
    const p = await rolledBackAsApp(app.db, t.tenantId, (trx) => budgetsPage(trx, t.tenantId, budgetFilterSchema.parse({}), { today: first }));
    const independent = await one<{ from: string; to: string; days: number; spend: number }>(
      t.tenantId,
      `select to_char(date_trunc('month', $2::date - 1), 'YYYY-MM-DD') as from, to_char($2::date - 1, 'YYYY-MM-DD') as to,
              ($2::date - date_trunc('month', $2::date - 1)::date)::int as days,
              (select sum(spend)::float8 from ads.metrics_daily
               where tenant_id = $1 and platform = 'meta' and level = 'campaign' and platform_id = 'even'
                 and day between date_trunc('month', $2::date - 1)::date and $2::date - 1) as spend`,
      [t.tenantId, first],
    );
    expect(p.calendar).toMatchObject({ today: first, yesterday: independent.to, monthStart: independent.from, monthEnd: independent.to, closed: true, remainingDays: 0, band: 0.05 });
    expect(p.calendar.daysInMonth).toBe(independent.days);
    const even = p.rows.find((r) => r.label === 'Even')!;
    // The month's spend (the days of this month after it not counted), and the projection is that spend.
    expect(even.pacing.mtdSpend).toBeCloseTo(independent.spend, 6);
    expect(even.pacing.projected).toBeCloseTo(independent.spend, 2);
    expect(even.pacing).toMatchObject({ monthBudget: 100 * independent.days, toDateBudget: 100 * independent.days, state: 'on_track' });
    expect(even.paceLabel).toBe('On budget');
    expect(even.paceSentence).toMatch(/^Spent €[\d,.]+ in [A-Z][a-z]+ \(month closed\), against the month budget of €[\d,]+ \(\d+ × €100\): /);
    // 80 a day against 100: 80 %, under; 100 against 10: over. Furthest from the budget first.
    expect(p.alerts.map((a) => [a.label, a.pacing.state, a.paceLabel])).toEqual([
      ['Over', 'over', 'Over budget'],
      ['Short', 'under', 'Under budget'],
    ]);
    expect(p.rows.find((r) => r.label === 'Short')!.pacing.ratio).toBeCloseTo(0.8, 6);
    // The totals: the month's spend of every allocation, the projection the same.
    expect(p.totals.overall.projected).toBeCloseTo(p.totals.overall.mtdSpend, 2);
  });
});

describe('editing an allocation', () => {
  it('saves every field, audits before and after, and gives the new token', async () => {
    const t = await team('Budgets edit');
    const id = await allocate(t.tenantId, { campaign: 'c1', name: 'Brand search', daily: 100, recommended: 120, targetCpa: 20 });
    const v1 = await versionOf(t.tenantId, id);
    const r = await update(t.buyer.id, edit(id, v1, { dailyBudget: '150,50' }));
    expect(r).toMatchObject({ ok: true });
    if (!r.ok) return;
    expect(r.message).toBe(
      'Saved Brand search on Meta: daily budget €100 → €150.50, minimum none → €50, maximum none → €300, strategy Performance → Target ROAS, target ROAS none → 3.50, target CPA €20 → none.',
    );
    const now = await row(t.tenantId, id);
    expect(now).toMatchObject({ daily_budget: 150.5, min_budget: 50, max_budget: 300, allocation_strategy: 'target_roas', target_roas: 3.5, target_cpa: null, status: 'active', recommended_budget: 120 });
    expect(r.data).toEqual({ id, version: now.version });
    expect(now.version).not.toBe(v1);
    const au = await budgetAudits(t.tenantId, id);
    expect(au).toHaveLength(1);
    expect(au[0]).toMatchObject({
      action: 'budget.update',
      actor_user_id: t.buyer.id,
      before: { campaign_id: 'c1', platform: 'meta', daily_budget: 100, min_budget: null, max_budget: null, allocation_strategy: 'performance', target_roas: null, target_cpa: 20, status: 'active', recommended_budget: 120 },
      after: { campaign_id: 'c1', platform: 'meta', daily_budget: 150.5, min_budget: 50, max_budget: 300, allocation_strategy: 'target_roas', target_roas: 3.5, target_cpa: null, status: 'active', recommended_budget: 120 },
    });
    // the page notes the day the daily budget moved (today, in the tenant's zone: the day after its yesterday)
    const after = await page(t.tenantId);
    expect(after.rows[0]!.budgetMovedOn).toBe(after.calendar.today);
    expect(after.calendar.yesterday).toBe(t.yesterday);
    // the same values again: nothing written
    const again = await update(t.admin.id, edit(id, now.version, { dailyBudget: '150.50' }));
    expect(again).toMatchObject({ ok: true, message: 'Nothing to save: Brand search on Meta already has these values.' });
    expect(await budgetAudits(t.tenantId, id)).toHaveLength(1);
    expect((await row(t.tenantId, id)).version).toBe(now.version);
  });

  it('refuses each wrong field by name and saves nothing', async () => {
    const t = await team('Budgets validation');
    const id = await allocate(t.tenantId, { campaign: 'c1', daily: 100, min: 40, max: 200, strategy: 'manual' });
    const before = await row(t.tenantId, id);
    const v = before.version;
    const cases: [Record<string, unknown>, Record<string, string[]>][] = [
      [{ dailyBudget: '' }, { dailyBudget: ['Daily budget: enter an amount, e.g. 120 or 120.50.'] }],
      [{ dailyBudget: '-1' }, { dailyBudget: ['Daily budget: cannot be negative.'] }],
      [{ dailyBudget: '10000000.01', maxBudget: '' }, { dailyBudget: ['Daily budget: at most 10,000,000.'] }],
      [{ dailyBudget: '12.345' }, { dailyBudget: ['Daily budget: at most 2 decimals.'] }],
      [{ dailyBudget: 'lots' }, { dailyBudget: ['Daily budget: enter an amount in digits, e.g. 120 or 120.50 (no thousands separators).'] }],
      [{ dailyBudget: '1,234.50', maxBudget: '' }, { dailyBudget: ['Daily budget: enter an amount in digits, e.g. 120 or 120.50 (no thousands separators).'] }],
      [{ minBudget: '-5' }, { minBudget: ['Minimum budget: cannot be negative.'] }],
      [{ maxBudget: '10000001' }, { maxBudget: ['Maximum budget: at most 10,000,000.'] }],
      [{ minBudget: '151' }, { minBudget: ['Minimum budget: must not be above the daily budget (150).'] }],
      [{ maxBudget: '149.99' }, { maxBudget: ['Maximum budget: must not be below the daily budget (150).'] }],
      [{ dailyBudget: 'x', minBudget: '300', maxBudget: '200' }, {
        dailyBudget: ['Daily budget: enter an amount in digits, e.g. 120 or 120.50 (no thousands separators).'],
        maxBudget: ['Maximum budget: must not be below the minimum budget (300).'],
      }],
      [{ targetRoas: '0' }, { targetRoas: ['Target ROAS: must be above 0.'] }],
      [{ targetRoas: '1000.5' }, { targetRoas: ['Target ROAS: at most 1,000.'] }],
      [{ targetRoas: '2.12345' }, { targetRoas: ['Target ROAS: at most 4 decimals.'] }],
      [{ targetRoas: '' }, { targetRoas: ['Target ROAS: required with the Target ROAS strategy (e.g. 3 for 300 %).'] }],
      [{ strategy: 'target_cpa', targetCpa: '' }, { targetCpa: ['Target CPA: required with the Target CPA strategy.'] }],
      [{ strategy: 'target_cpa', targetCpa: '0' }, { targetCpa: ['Target CPA: must be above 0.'] }],
      [{ strategy: 'target_cpa', targetCpa: '-3' }, { targetCpa: ['Target CPA: cannot be negative.'] }],
      [{ strategy: 'target_cpa', targetCpa: '12.001' }, { targetCpa: ['Target CPA: at most 2 decimals.'] }],
      [{ strategy: 'aggressive' }, { strategy: ['Strategy: choose Performance, Even, Manual, Target ROAS or Target CPA.'] }],
      [{ status: 'deleted' }, { status: ['Status: choose Active, Paused or Ended.'] }],
      [{ version: 'yesterday' }, { version: ['Version: reload the page and try again.'] }],
      [{ id: 'not-an-id' }, { id: ['Budget: not a budget id.'] }],
      // one wrong field among right ones: the right ones are not saved either
      [{ dailyBudget: '120', status: 'paused', targetRoas: '-1' }, { targetRoas: ['Target ROAS: cannot be negative.'] }],
    ];
    for (const [over, fieldErrors] of cases) {
      const r = await update(t.buyer.id, edit(id, v, over));
      expect(r, JSON.stringify(over)).toEqual({ ok: false, message: INVALID_INPUT, fieldErrors });
    }
    expect(await row(t.tenantId, id)).toEqual(before);
    expect(await budgetAudits(t.tenantId, id)).toHaveLength(0);
    // the limits themselves are accepted: 0 and 10,000,000, a comma for the decimal point
    expect(await update(t.buyer.id, edit(id, v, { dailyBudget: '10000000', minBudget: '0', maxBudget: '10 000 000,00', targetRoas: '0.0001' }))).toMatchObject({ ok: true });
    expect(await row(t.tenantId, id)).toMatchObject({ daily_budget: 10_000_000, min_budget: 0, max_budget: 10_000_000, target_roas: 0.0001 });
  });

  it('two buyers on one budget: the later save is refused with the current values, nothing overwritten', async () => {
    const t = await team('Budgets conflict');
    const id = await allocate(t.tenantId, { campaign: 'c1', name: 'Shared', daily: 100 });
    const shown = await versionOf(t.tenantId, id);
    // the buyer saves first
    expect(await update(t.buyer.id, edit(id, shown, { dailyBudget: '180', minBudget: '', maxBudget: '', strategy: 'manual', targetRoas: '' }))).toMatchObject({ ok: true });
    // the admin, who opened the same version, saves second
    const late = await update(t.admin.id, edit(id, shown, { dailyBudget: '90', minBudget: '', maxBudget: '', strategy: 'even', targetRoas: '' }));
    expect(late).toMatchObject({ ok: false, fieldErrors: { version: ['Changed since you opened it: load the current values.'] } });
    if (late.ok) return;
    expect(late.message).toMatch(new RegExp(`^Not saved: the budget of Shared on Meta was changed by ${t.buyer.email.replace('.', '\\.')} \\(.+\\) after you opened it\\. `));
    expect(late.message).toContain(
      'It is now: daily budget €180, minimum none, maximum none, strategy Manual, status active, recommended budget none. Load the current values, then make your change again.',
    );
    expect(await row(t.tenantId, id)).toMatchObject({ daily_budget: 180, allocation_strategy: 'manual' });
    expect((await budgetAudits(t.tenantId, id)).map((a) => [a.action, a.actor_user_id])).toEqual([['budget.update', t.buyer.id]]);
    // with the current token the admin's change goes through
    expect(await update(t.admin.id, edit(id, await versionOf(t.tenantId, id), { dailyBudget: '90', minBudget: '', maxBudget: '', strategy: 'even', targetRoas: '' }))).toMatchObject({ ok: true });
    expect(await row(t.tenantId, id)).toMatchObject({ daily_budget: 90, allocation_strategy: 'even' });
  });

  it('two saves at once on two connections: one wins, the other waits on the lock and is refused', async () => {
    const t = await team('Budgets race');
    for (let round = 0; round < 6; round++) {
      const id = await allocate(t.tenantId, { campaign: `c${round}`, daily: 100 });
      const shown = await versionOf(t.tenantId, id);
      let arrived = 0;
      let open!: () => void;
      const both = new Promise<void>((resolve) => (open = resolve));
      const gated: Update = async (trx, input, ctx) => {
        if (++arrived === 2) open();
        await both;
        return updateBudgetHandler(trx, input, ctx);
      };
      const plain = { minBudget: '', maxBudget: '', strategy: 'manual', targetRoas: '' };
      const [x, y] = await Promise.all([
        update(t.buyer.id, edit(id, shown, { ...plain, dailyBudget: '111' }), gated),
        update(t.admin.id, edit(id, shown, { ...plain, dailyBudget: '222' }), gated),
      ]);
      expect([x, y].filter((r) => r.ok), `round ${round}`).toHaveLength(1);
      const loser = [x, y].find((r) => !r.ok)!;
      const won = x.ok ? 111 : 222;
      expect(loser.message).toContain(`It is now: daily budget €${won}`);
      expect((await row(t.tenantId, id)).daily_budget).toBe(won);
      expect(await budgetAudits(t.tenantId, id)).toHaveLength(1);
    }
  });
});

describe('accepting the recommended budget', () => {
  it('sets the daily budget to it, audited, and marks the pending recommendation advising it approved', async () => {
    const t = await team('Budgets accept');
    const id = await allocate(t.tenantId, { campaign: 'win', name: 'Winner', daily: 100, recommended: 125.5, max: 200 });
    const rec = await one<{ id: string }>(
      t.tenantId,
      `insert into ads.optimization_recommendations (tenant_id, platform, level, entity_id, entity_name, campaign_id, recommendation_type, description,
                                                     current_value, recommended_value)
       values ($1, 'meta', 'campaign', 'win', 'Winner', 'win', 'budget_increase', 'Raise the daily budget of Winner', 100, 125.5) returning id`,
      [t.tenantId],
    );
    const shown = (await page(t.tenantId)).rows[0]!;
    expect(shown).toMatchObject({ recommendedBudget: 125.5, recommendedDiff: 25.5, recommendedDiffShare: 0.255, acceptBlocked: null, pending: { id: rec.id, type: 'budget_increase', value: 125.5 } });
    const r = await accept(t.buyer.id, { id, version: shown.version, recommended: '125.50' });
    expect(r).toMatchObject({
      ok: true,
      message: 'Accepted: the daily budget of Winner on Meta is now €125.50 (was €100). The pending budget increase recommendation is marked approved.',
    });
    expect(await row(t.tenantId, id)).toMatchObject({ daily_budget: 125.5, recommended_budget: 125.5, max_budget: 200 });
    const au = await budgetAudits(t.tenantId, id);
    expect(au).toHaveLength(1);
    expect(au[0]).toMatchObject({
      action: 'budget.accept_recommended',
      actor_user_id: t.buyer.id,
      before: { daily_budget: 100, recommended_budget: 125.5 },
      after: { daily_budget: 125.5, recommended_budget: 125.5 },
    });
    expect(await one(t.tenantId, 'select status, applied_by from ads.optimization_recommendations where id = $1', [rec.id])).toEqual({ status: 'applied', applied_by: t.buyer.id });
    expect(
      await one(t.tenantId, "select action, after ->> 'via' as via from saas.audit_log where entity_type = 'recommendation' and entity_id = $1", [rec.id]),
    ).toEqual({ action: 'recommendation.approve', via: 'budget.accept_recommended' });
    // nothing left to accept
    const again = await accept(t.buyer.id, { id, version: (await row(t.tenantId, id)).version, recommended: '125.5' });
    expect(again).toEqual({ ok: false, message: 'Nothing to accept: the daily budget of Winner on Meta is already €125.50.' });
  });

  it('refuses without a recommended budget, when it changed since shown, outside min / max, or on a stale view, changing nothing', async () => {
    const t = await team('Budgets accept refusals');
    const none = await allocate(t.tenantId, { campaign: 'none', name: 'None', daily: 100 });
    expect(await accept(t.buyer.id, { id: none, version: await versionOf(t.tenantId, none), recommended: '120' })).toEqual({
      ok: false,
      message: 'Not accepted: the engine has no recommended budget for None on Meta now.',
    });

    const moved = await allocate(t.tenantId, { campaign: 'moved', name: 'Moved', daily: 100, recommended: 130 });
    const shown = await versionOf(t.tenantId, moved);
    // the engine's next run moves the recommendation (and updated_at) after the page was read
    await asOwner(t.tenantId, (c) => c.query('update ads.budget_allocation set recommended_budget = 110, updated_at = now() where id = $1', [moved]));
    expect(await accept(t.buyer.id, { id: moved, version: shown, recommended: '130' })).toEqual({
      ok: false,
      message: 'Not accepted: the recommended budget of Moved on Meta is now €110, not the €130 you saw. Review it, then accept again.',
    });
    // the same amount, but the row moved otherwise (a colleague's edit): the conflict, with the current values
    await asOwner(t.tenantId, (c) => c.query('update ads.budget_allocation set min_budget = 10, updated_at = now() where id = $1', [moved]));
    const stale = await accept(t.buyer.id, { id: moved, version: shown, recommended: '110' });
    expect(stale).toMatchObject({ ok: false, fieldErrors: { version: ['Changed since you opened it: load the current values.'] } });
    expect(!stale.ok && stale.message).toMatch(/^Not accepted: the budget of Moved on Meta was changed \(.+\) after you opened it\. /);
    expect(!stale.ok && stale.message).toContain(
      'It is now: daily budget €100, minimum €10, maximum none, strategy Performance, status active, recommended budget €110. Load the current values, then accept again.',
    );

    const capped = await allocate(t.tenantId, { campaign: 'capped', name: 'Capped', daily: 100, recommended: 250, max: 200 });
    expect(await accept(t.buyer.id, { id: capped, version: await versionOf(t.tenantId, capped), recommended: '250' })).toEqual({
      ok: false,
      message: 'Not accepted: the recommended €250 is above the maximum of €200 for Capped on Meta. Raise the maximum first if you want it.',
    });
    const floored = await allocate(t.tenantId, { campaign: 'floored', name: 'Floored', daily: 100, recommended: 40, min: 50 });
    expect(await accept(t.buyer.id, { id: floored, version: await versionOf(t.tenantId, floored), recommended: '40' })).toEqual({
      ok: false,
      message: 'Not accepted: the recommended €40 is below the minimum of €50 for Floored on Meta. Lower the minimum first if you want it.',
    });
    expect((await page(t.tenantId)).rows.find((r) => r.id === capped)!.acceptBlocked).toBe('The recommended budget is above the maximum: raise the maximum first.');

    for (const id of [none, moved, capped, floored]) expect(await budgetAudits(t.tenantId, id)).toHaveLength(0);
    expect((await row(t.tenantId, moved)).daily_budget).toBe(100);
    expect((await row(t.tenantId, capped)).daily_budget).toBe(100);
    expect((await row(t.tenantId, floored)).daily_budget).toBe(100);
  });
});

describe('adding an allocation', () => {
  it('lists the campaigns that delivered in 30 days without one, suggests their 7-day average, and adds one, audited', async () => {
    const t = await team('Budgets create');
    // 'fresh' delivered 20 days with spend 10.37 × (ago + 1): 7-day sum 10.37 × 28 = 290.36, average 41.48, suggested 41
    await deliver(t.tenantId, { campaign: 'fresh', name: 'Fresh', days: 20, spend: (ago) => 10.37 * (ago + 1) });
    // 'gone' last delivered 31 days ago: not listed
    await asOwner(t.tenantId, (c) =>
      c.query(
        `insert into ads.metrics_daily (tenant_id, platform, level, platform_id, day, spend) values ($1, 'meta', 'campaign', 'gone', (now() at time zone $2)::date - 32, 50)`,
        [t.tenantId, ZONE],
      ),
    );
    // 'kept' has an allocation: not listed; an ad set row alone does not make a campaign
    await allocate(t.tenantId, { campaign: 'kept', daily: 10 });
    await deliver(t.tenantId, { campaign: 'kept', days: 5, spend: () => 9 });
    await deliver(t.tenantId, { campaign: 'adset-only', level: 'adset', parent: 'parentless', days: 5, spend: () => 9 });

    const independent = await one<{ suggested: number; spend_30d: number }>(
      t.tenantId,
      `select round(coalesce(sum(spend) filter (where day >= (now() at time zone $2)::date - 7), 0) / 7)::float8 as suggested,
              sum(spend)::float8 as spend_30d
       from ads.metrics_daily
       where tenant_id = $1 and platform = 'meta' and level = 'campaign' and platform_id = 'fresh'
         and day between (now() at time zone $2)::date - 30 and (now() at time zone $2)::date - 1`,
      [t.tenantId, ZONE],
    );
    expect(independent.suggested).toBe(41);
    const p = await page(t.tenantId);
    expect(p.unallocated.map((u) => [u.platform, u.campaignId, u.campaignName, u.suggested])).toEqual([['meta', 'fresh', 'Fresh', independent.suggested]]);
    expect(p.unallocated[0]!.spend30d).toBeCloseTo(independent.spend_30d, 6);
    expect(p.unallocatedTotal).toBe(1);

    const r = await create(t.buyer.id, { platform: 'meta', campaignId: 'fresh', dailyBudget: String(p.unallocated[0]!.suggested), strategy: 'target_cpa', targetCpa: '25' });
    expect(r).toMatchObject({ ok: true, message: 'Added Fresh on Meta: daily budget €41, strategy Target CPA, active.' });
    if (!r.ok) return;
    const made = await row(t.tenantId, r.data!.id);
    expect(made).toMatchObject({ daily_budget: 41, allocation_strategy: 'target_cpa', target_cpa: 25, status: 'active', recommended_budget: null, min_budget: null });
    expect(r.data!.version).toBe(made.version);
    expect(await budgetAudits(t.tenantId, r.data!.id)).toMatchObject([
      { action: 'budget.create', actor_user_id: t.buyer.id, before: null, after: { campaign_id: 'fresh', platform: 'meta', campaign_name: 'Fresh', daily_budget: 41, suggested_daily_budget: 41 } },
    ]);
    // it now has one: listed no more, and a second add is refused
    expect((await page(t.tenantId)).unallocated).toEqual([]);
    expect(await create(t.admin.id, { platform: 'meta', campaignId: 'fresh', dailyBudget: '50' })).toEqual({
      ok: false,
      message: 'Fresh on Meta already has a budget allocation: edit it in the table.',
    });
    // no delivery in 30 days, or none at all: refused by name
    expect(await create(t.buyer.id, { platform: 'meta', campaignId: 'gone', dailyBudget: '50' })).toEqual({
      ok: false,
      message: 'Campaign gone on Meta has no campaign-level delivery in the last 30 days: nothing to allocate a budget to.',
      fieldErrors: { campaignId: ['Campaign: gone has no delivery on Meta in the last 30 days.'] },
    });
    expect((await create(t.buyer.id, { platform: 'meta', campaignId: 'adset-only', dailyBudget: '50' })).ok).toBe(false);
    // the same field rules as an edit
    expect(await create(t.buyer.id, { platform: 'meta', campaignId: 'gone', dailyBudget: '-1', strategy: 'target_roas' })).toEqual({
      ok: false,
      message: INVALID_INPUT,
      fieldErrors: { dailyBudget: ['Daily budget: cannot be negative.'], targetRoas: ['Target ROAS: required with the Target ROAS strategy (e.g. 3 for 300 %).'] },
    });
    expect(await count(owner, 'select 1 from ads.budget_allocation where tenant_id = $1', [t.tenantId])).toBe(2);
  });
});

describe('who may change what', () => {
  it('a viewer is refused by the server and changes nothing', async () => {
    const t = await team('Budgets viewer');
    const id = await allocate(t.tenantId, { campaign: 'c1', daily: 100, recommended: 120 });
    await deliver(t.tenantId, { campaign: 'new', days: 3, spend: () => 10 });
    const v = await versionOf(t.tenantId, id);
    const refused = { ok: false, message: 'This needs the Buyer role; you are Viewer.' };
    expect(await update(t.viewer.id, edit(id, v))).toEqual(refused);
    expect(await accept(t.viewer.id, { id, version: v, recommended: '120' })).toEqual(refused);
    expect(await create(t.viewer.id, { platform: 'meta', campaignId: 'new', dailyBudget: '10' })).toEqual(refused);
    expect(await row(t.tenantId, id)).toMatchObject({ daily_budget: 100, version: v });
    expect(await count(owner, 'select 1 from ads.budget_allocation where tenant_id = $1', [t.tenantId])).toBe(1);
    expect(await count(owner, "select 1 from saas.audit_log where tenant_id = $1 and entity_type = 'budget_allocation'", [t.tenantId])).toBe(0);
  });

  it("another tenant's allocation id is not found and stays as it was", async () => {
    const a = await team('Budgets tenant A');
    const b = await team('Budgets tenant B');
    const theirs = await allocate(b.tenantId, { campaign: 'b1', daily: 100, recommended: 150 });
    const before = await row(b.tenantId, theirs);
    const notFound = { ok: false, message: BUDGET_NOT_FOUND };
    expect(await update(a.buyer.id, edit(theirs, before.version))).toEqual(notFound);
    expect(await accept(a.admin.id, { id: theirs, version: before.version, recommended: '150' })).toEqual(notFound);
    // the owner's view: the row is there, unchanged, with no audit row in either tenant
    expect(await row(b.tenantId, theirs)).toEqual(before);
    expect(await count(owner, "select 1 from saas.audit_log where entity_type = 'budget_allocation' and entity_id = $1", [theirs])).toBe(0);
    // and B's own buyer can change it
    expect(await update(b.buyer.id, edit(theirs, before.version))).toMatchObject({ ok: true });
  });
});
