// The campaign launch (/budgets/launch) on the real database, through the action wrapper as real users
// with roles: a full launch makes exactly the guide's four effects (the budget row, the platform's
// settings with anomaly detection on, the A/B test with its design and ids, the audit rows), each read
// back by independent SQL; a launch refused in any step (an invalid A/B step, a budget that exists, every
// step's problems at once) writes nothing in any table; existing settings stay as they are but for
// anomaly detection turned on (audited before / after); a database refusal in the A/B step and a
// colleague's change caught in the last step roll back the steps written before them; a campaign that
// delivers goes through the budgets' own createBudget; viewers and signed-out posts are refused; another
// tenant's rows are untouched.
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { addDays } from '../../lib/abtests/schema';
import { launchCampaignHandler, launchPageData, type LaunchSummary } from '../../lib/budgets/launch';
import { launchSchema, type LaunchInput } from '../../lib/budgets/launch-schema';
import { roleRefusal, runTenantAction, SIGNED_OUT, type ActionHandler } from '../../lib/request/action-core';
import { STALE } from '../../lib/settings/platform-config';
import { createTeam } from '../auth/fixtures';
import { appKysely, rolledBackAsApp } from '../helpers/app-db';
import { inTenant, ownerPool } from '../helpers/db';
import { loadMetricLines } from '../helpers/metrics';
import { LAUNCH_BOUNDS, launchAbStep } from './launch-input';

const app = appKysely(6);
const owner = ownerPool();

type Team = Awaited<ReturnType<typeof createTeam>>;

const launch = (userId: string | null, input: unknown, schema: z.ZodType<LaunchInput> = launchSchema) =>
  runTenantAction({
    schema,
    minRole: 'buyer',
    handler: launchCampaignHandler as ActionHandler<typeof schema, LaunchSummary>,
    userId,
    preferredTenantId: null,
    input,
    db: app.db,
  });

const page = (tenant: string) => rolledBackAsApp(app.db, tenant, (trx) => launchPageData(trx, tenant));

const asOwner = <T>(tenant: string, fn: (c: pg.PoolClient) => Promise<T>) => inTenant(owner, tenant, fn);
const rows = <T = Record<string, unknown>>(tenant: string, text: string, values: unknown[] = []) =>
  asOwner(tenant, async (c) => (await c.query(text, values)).rows as T[]);

async function todayOf(tenant: string): Promise<string> {
  const [r] = await rows<{ d: string }>(tenant, "select to_char(ads_engine.tenant_yesterday($1) + 1, 'YYYY-MM-DD') as d", [tenant]);
  return r!.d;
}

/** Rows of every table a launch writes, for this tenant. */
async function counts(tenant: string) {
  return asOwner(tenant, async (c) => {
    const n = async (table: string) => Number((await c.query(`select count(*) as n from ${table} where tenant_id = $1`, [tenant])).rows[0].n);
    return {
      budgets: await n('ads.budget_allocation'),
      configs: await n('ads.platform_configs'),
      tests: await n('ads.ab_tests'),
      designs: await n('ads_engine.ab_test_designs'),
      variants: await n('ads_engine.ab_test_variants'),
      audits: await n('saas.audit_log'),
    };
  });
}

/** Every row of those tables, as JSON text: "unchanged" means equal to the byte. */
async function everything(tenant: string) {
  return asOwner(tenant, async (c) => {
    const all = async (table: string, order: string) =>
      JSON.stringify((await c.query(`select to_jsonb(x) as r from ${table} x where tenant_id = $1 order by ${order}`, [tenant])).rows);
    return {
      budgets: await all('ads.budget_allocation', 'campaign_id'),
      configs: await all('ads.platform_configs', 'platform'),
      tests: await all('ads.ab_tests', 'id'),
      designs: await all('ads_engine.ab_test_designs', 'test_id'),
      variants: await all('ads_engine.ab_test_variants', 'test_id, platform_id'),
      audits: await all('saas.audit_log', 'id'),
    };
  });
}

interface AuditRow {
  action: string;
  entity_type: string;
  entity_id: string;
  actor_user_id: string | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}
const auditsOf = (tenant: string) =>
  rows<AuditRow>(tenant, 'select action, entity_type, entity_id, actor_user_id::text as actor_user_id, before, after from saas.audit_log where tenant_id = $1 order by id', [
    tenant,
  ]);

const configRow = async (tenant: string, platform = 'meta') =>
  (
    await rows<Record<string, unknown>>(
      tenant,
      `select max_cpa::float8 as max_cpa, target_roas::float8 as target_roas, auto_pause_threshold::float8 as auto_pause_threshold,
              min_spend_for_decision::float8 as min_spend_for_decision, anomaly_sensitivity::float8 as anomaly_sensitivity, optimization_frequency,
              recommendations_enabled, anomaly_detection_enabled, auto_apply_recommendations, created_at
       from ads.platform_configs where tenant_id = $1 and platform = $2`,
      [tenant, platform],
    )
  )[0];

/** Settings written as the owner (as a DBA would), last changed long ago. */
async function seedConfig(tenant: string, cols: Record<string, unknown>, platform = 'meta'): Promise<void> {
  const names = Object.keys(cols);
  await asOwner(tenant, (c) =>
    c.query(
      `insert into ads.platform_configs (tenant_id, platform, ${names.join(', ')}, updated_at)
       values ($1, $2, ${names.map((_, i) => `$${i + 3}`).join(', ')}, now() - interval '3 days')`,
      [tenant, platform, ...names.map((n) => cols[n])],
    ),
  );
}

/** The form as the page renders it for a new campaign on Meta, every step filled, with some fields changed: what a browser posts. */
async function formOf(tenant: string, over: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const data = await page(tenant);
  const platform = String(over.platform ?? 'meta');
  const p = data.platforms.find((x) => x.value === platform)!;
  return {
    platform,
    campaignId: 'launch-101',
    campaignName: 'Autumn launch',
    dailyBudget: '120',
    ...LAUNCH_BOUNDS,
    strategy: 'target_roas',
    targetRoas: '3',
    targetCpa: '',
    status: 'active',
    settingsToken: p.config.token,
    max_cpa: '25',
    target_roas: '3.5',
    ...launchAbStep(data.today),
    anomaly: 'on',
    ...over,
  };
}

const refusedKeys = (r: Awaited<ReturnType<typeof launch>>) => (r.ok ? [] : Object.keys(r.fieldErrors ?? {}).sort());

describe('a full launch', () => {
  it('creates exactly the budget row, the settings with anomaly detection on, the A/B test with its design and ids, and their audit rows', async () => {
    const t = await createTeam(owner, 'Launch full');
    const today = await todayOf(t.tenantId);
    const before = await counts(t.tenantId);
    const r = await launch(t.buyer.id, await formOf(t.tenantId, { endDate: addDays(today, 28) }));
    expect(r).toMatchObject({ ok: true });
    if (!r.ok) return;
    const s = r.data!;
    expect(r.message).toBe('Launched Autumn launch on Meta: budget added, settings created, A/B test started, anomaly detection on.');
    expect(s).toMatchObject({ platform: 'meta', campaignId: 'launch-101', campaignLabel: 'Autumn launch', settings: { created: true }, anomaly: { outcome: 'created_on' } });
    expect(s.abTest).toMatchObject({ name: 'Hook test', status: 'running' });

    // Exactly one row more in each table (three ids), five audit rows.
    expect(await counts(t.tenantId)).toEqual({
      budgets: before.budgets + 1,
      configs: before.configs + 1,
      tests: before.tests + 1,
      designs: before.designs + 1,
      variants: before.variants + 3,
      audits: before.audits + 5,
    });

    const [budget] = await rows(
      t.tenantId,
      `select id::text as id, platform::text as platform, campaign_id, campaign_name, daily_budget::float8 as daily_budget, recommended_budget,
              min_budget, max_budget::float8 as max_budget, allocation_strategy, target_roas::float8 as target_roas, target_cpa, status
       from ads.budget_allocation where tenant_id = $1`,
      [t.tenantId],
    );
    expect(budget).toEqual({
      id: s.budget.id,
      platform: 'meta',
      campaign_id: 'launch-101',
      campaign_name: 'Autumn launch',
      daily_budget: 120,
      recommended_budget: null,
      min_budget: null,
      max_budget: 300,
      allocation_strategy: 'target_roas',
      target_roas: 3,
      target_cpa: null,
      status: 'active',
    });

    const { created_at: _created, ...config } = (await configRow(t.tenantId))!;
    expect(config).toEqual({
      max_cpa: 25,
      target_roas: 3.5,
      auto_pause_threshold: 2,
      min_spend_for_decision: 50,
      anomaly_sensitivity: 3.5,
      optimization_frequency: 'daily',
      recommendations_enabled: true,
      anomaly_detection_enabled: true,
      auto_apply_recommendations: false,
    });

    const [test] = await rows(
      t.tenantId,
      `select t.id::text as id, t.test_name, t.platform::text as platform, t.campaign_id, t.test_type, t.primary_metric, t.variant_a, t.variant_b,
              t.performance_a, t.performance_b, t.status, to_char(t.start_date, 'YYYY-MM-DD') as start_date, to_char(t.end_date, 'YYYY-MM-DD') as end_date,
              d.planned_share_b::float8 as share, d.mde::float8 as mde, d.allocation_unit, d.frozen_at is not null as frozen, d.created_by::text as created_by
       from ads.ab_tests t join ads_engine.ab_test_designs d on d.tenant_id = t.tenant_id and d.test_id = t.id
       where t.tenant_id = $1`,
      [t.tenantId],
    );
    expect(test).toEqual({
      id: s.abTest!.id,
      test_name: 'Hook test',
      platform: 'meta',
      campaign_id: 'launch-101',
      test_type: 'creative',
      primary_metric: 'conversion_rate',
      variant_a: 'Video hook',
      variant_b: 'Carousel hook',
      performance_a: {},
      performance_b: {},
      status: 'running',
      start_date: today,
      end_date: addDays(today, 28),
      share: 0.5,
      mde: 0.1,
      allocation_unit: 'spend',
      frozen: true,
      created_by: t.buyer.id,
    });
    expect(
      await rows(t.tenantId, 'select arm, level::text as level, platform_id from ads_engine.ab_test_variants where tenant_id = $1 order by arm, platform_id', [t.tenantId]),
    ).toEqual([
      { arm: 'A', level: 'adset', platform_id: 'as-101' },
      { arm: 'A', level: 'adset', platform_id: 'as-102' },
      { arm: 'B', level: 'adset', platform_id: 'as-201' },
    ]);

    const audits = await auditsOf(t.tenantId);
    expect(audits.map((a) => [a.action, a.entity_type, a.entity_id])).toEqual([
      ['budget.create', 'budget_allocation', s.budget.id],
      ['platform_config.create', 'platform_config', 'meta'],
      ['ab_test.create', 'ab_test', s.abTest!.id],
      ['ab_test.start', 'ab_test', s.abTest!.id],
      ['campaign.launch', 'campaign', 'meta:launch-101'],
    ]);
    expect(audits.every((a) => a.actor_user_id === t.buyer.id)).toBe(true);
    expect(audits[0]!.before).toBeNull();
    expect(audits[0]!.after).toMatchObject({ campaign_id: 'launch-101', platform: 'meta', campaign_name: 'Autumn launch', daily_budget: 120, max_budget: 300 });
    expect(audits[1]!.after).toMatchObject({ max_cpa: 25, target_roas: 3.5, anomaly_detection_enabled: true });
    expect(audits[2]!.after).toMatchObject({ status: 'draft', campaign_id: 'launch-101', ids_a: ['adset:as-101', 'adset:as-102'], ids_b: ['adset:as-201'] });
    expect(audits[3]!.after).toMatchObject({ status: 'running', start_date: today });
    expect(audits[4]!.after).toEqual({
      platform: 'meta',
      campaign_id: 'launch-101',
      campaign_name: 'Autumn launch',
      budget_id: s.budget.id,
      platform_config: 'created',
      ab_test_id: s.abTest!.id,
      ab_test_status: 'running',
      anomaly_detection: 'created_on',
    });

    // The page now shows the settings as existing, with their version.
    const after = (await page(t.tenantId)).platforms.find((p) => p.value === 'meta')!;
    expect(after.config).toMatchObject({ exists: true, values: { max_cpa: 25, anomaly_detection_enabled: true } });
  });

  it('without an A/B test: the budget and the settings only, the launch row saying so', async () => {
    const t = await createTeam(owner, 'Launch without a test');
    const r = await launch(t.admin.id, await formOf(t.tenantId, { abtest: '', abName: '', max_cpa: '', target_roas: '' }));
    expect(r).toMatchObject({ ok: true, message: 'Launched Autumn launch on Meta: budget added, settings created, anomaly detection on.' });
    expect(await counts(t.tenantId)).toMatchObject({ budgets: 1, configs: 1, tests: 0, designs: 0, variants: 0, audits: 3 });
    expect((await configRow(t.tenantId))!).toMatchObject({ max_cpa: null, target_roas: null, anomaly_detection_enabled: true });
    const launchRow = (await auditsOf(t.tenantId)).at(-1)!;
    expect(launchRow).toMatchObject({ action: 'campaign.launch', after: { ab_test_id: null, ab_test_status: null, platform_config: 'created' } });
  });
});

describe('a refused launch writes nothing', () => {
  it('an invalid A/B step (the end before the start) leaves every table as it was', async () => {
    const t = await createTeam(owner, 'Launch bad test');
    const today = await todayOf(t.tenantId);
    const before = await everything(t.tenantId);
    const r = await launch(t.buyer.id, await formOf(t.tenantId, { endDate: addDays(today, -1) }));
    expect(r).toMatchObject({ ok: false });
    expect(refusedKeys(r)).toEqual(['abtest.endDate']);
    if (!r.ok) {
      expect(r.fieldErrors!['abtest.endDate']).toEqual([`End date: today (${today}) or later: the test starts the day it is started.`]);
      expect(r.message).toBe('Nothing was launched: 1 problem to fix (step 3, A/B test). No step was saved; what you typed is kept.');
    }
    expect(await everything(t.tenantId)).toEqual(before);
    expect(await counts(t.tenantId)).toMatchObject({ budgets: 0, configs: 0, tests: 0, designs: 0, variants: 0 });
  });

  it('a budget that already exists for the campaign: refused under the campaign id, nothing written', async () => {
    const t = await createTeam(owner, 'Launch existing budget');
    await asOwner(t.tenantId, (c) =>
      c.query(
        "insert into ads.budget_allocation (tenant_id, platform, campaign_id, campaign_name, daily_budget) values ($1, 'meta', 'launch-101', 'Autumn launch', 80)",
        [t.tenantId],
      ),
    );
    const before = await everything(t.tenantId);
    const r = await launch(t.buyer.id, await formOf(t.tenantId));
    expect(r).toMatchObject({ ok: false });
    expect(refusedKeys(r)).toEqual(['campaign.campaignId']);
    if (!r.ok) expect(r.fieldErrors!['campaign.campaignId']![0]).toMatch(/^Campaign id: Autumn launch on Meta already has a budget allocation/);
    expect(await everything(t.tenantId)).toEqual(before);
  });

  it('every step’s problems at once, each under its step and field, the data’s with the fields’', async () => {
    const t = await createTeam(owner, 'Launch every problem');
    const today = await todayOf(t.tenantId);
    await asOwner(t.tenantId, (c) =>
      c.query("insert into ads.budget_allocation (tenant_id, platform, campaign_id, daily_budget) values ($1, 'meta', 'launch-101', 80)", [t.tenantId]),
    );
    const before = await everything(t.tenantId);
    const r = await launch(
      t.buyer.id,
      await formOf(t.tenantId, {
        dailyBudget: '1,234',
        minBudget: '500',
        max_cpa: '-3',
        target_roas: 'lots',
        variantB: 'video HOOK',
        endDate: addDays(today, -2),
        anomaly: 'maybe',
      }),
    );
    expect(r).toMatchObject({ ok: false });
    expect(refusedKeys(r)).toEqual([
      'abtest.endDate',
      'abtest.variantB',
      'anomaly',
      'campaign.campaignId',
      'campaign.dailyBudget',
      'campaign.maxBudget',
      'settings.max_cpa',
      'settings.target_roas',
    ]);
    if (!r.ok) {
      const e = r.fieldErrors!;
      expect(e['campaign.dailyBudget']).toEqual(['Daily budget: at most 2 decimals.']);
      expect(e['settings.max_cpa']).toEqual(['Max CPA: must be above 0 (leave it empty for no limit).']);
      expect(e['settings.target_roas']).toEqual(['Target ROAS: a number such as 3 or 2.5, or leave it empty for no target.']);
      expect(e['abtest.variantB']).toEqual(['Variant B name: give it a name different from variant A’s.']);
      expect(e['campaign.maxBudget']).toEqual(['Maximum budget: must not be below the minimum budget (500).']);
      expect(e['abtest.endDate']).toEqual([`End date: today (${today}) or later: the test starts the day it is started.`]);
      expect(e.anomaly).toEqual(['Anomaly detection: on or off.']);
      expect(r.message).toMatch(/^Nothing was launched: 8 problems to fix \(step 1, Campaign and budget; step 2, Platform settings; step 3, A\/B test; step 4, Anomaly detection\)\./);
    }
    expect(await everything(t.tenantId)).toEqual(before);
  });

  it('free-text ids are checked as the A/B form checks them; a blank campaign id is named in the launch’s words', async () => {
    const t = await createTeam(owner, 'Launch ids');
    const before = await everything(t.tenantId);
    const r = await launch(t.buyer.id, await formOf(t.tenantId, { campaignId: '  ', idsA: 'as-101 as-101', idsB: '' }));
    expect(refusedKeys(r)).toEqual(['abtest.idsA', 'abtest.idsB', 'campaign.campaignId']);
    if (!r.ok) {
      expect(r.fieldErrors!['campaign.campaignId']).toEqual(['Campaign id: choose a campaign, or type the id of the new one as the platform shows it.']);
      expect(r.fieldErrors!['abtest.idsA']).toEqual(['Variant A: each id only once.']);
      expect(r.fieldErrors!['abtest.idsB']![0]).toMatch(/^Variant B: choose at least one/);
    }
    expect(await everything(t.tenantId)).toEqual(before);
  });
});

describe('settings that exist', () => {
  it('are left as they are but for anomaly detection turned on, on that platform only, audited before and after', async () => {
    const t = await createTeam(owner, 'Launch existing settings');
    await seedConfig(t.tenantId, { max_cpa: 40, target_roas: 2.5, auto_pause_threshold: 3, anomaly_sensitivity: 4, optimization_frequency: 'weekly', anomaly_detection_enabled: false });
    // Another platform of the tenant with it off: the guide's bare UPDATE would switch it on too.
    await seedConfig(t.tenantId, { anomaly_detection_enabled: false }, 'tiktok');
    const was = (await configRow(t.tenantId))!;
    const tiktok = (await configRow(t.tenantId, 'tiktok'))!;
    const data = await page(t.tenantId);
    expect(data.platforms[0]).toMatchObject({ value: 'meta', config: { exists: true, values: { max_cpa: 40, anomaly_detection_enabled: false } } });
    // The fields of settings to create are not used: the saved ones stay.
    const r = await launch(t.buyer.id, await formOf(t.tenantId, { max_cpa: '99', target_roas: '9' }));
    expect(r).toMatchObject({
      ok: true,
      message: 'Launched Autumn launch on Meta: budget added, settings kept, A/B test started, anomaly detection on.',
      data: { settings: { created: false, message: 'Meta had settings already: left as they are.' }, anomaly: { outcome: 'turned_on', message: 'Turned on for Meta (it was off).' } },
    });
    expect((await configRow(t.tenantId))!).toEqual({ ...was, anomaly_detection_enabled: true });
    expect((await configRow(t.tenantId, 'tiktok'))!).toEqual(tiktok);

    const audits = await auditsOf(t.tenantId);
    expect(audits.map((a) => a.action)).toEqual(['budget.create', 'ab_test.create', 'ab_test.start', 'platform_config.update', 'campaign.launch']);
    expect(audits[3]).toMatchObject({ entity_type: 'platform_config', entity_id: 'meta', before: { anomaly_detection_enabled: false }, after: { anomaly_detection_enabled: true } });
    expect(Object.keys(audits[3]!.after!)).toEqual(['anomaly_detection_enabled']);
    expect(audits[4]!.after).toMatchObject({ platform_config: 'existing', anomaly_detection: 'turned_on' });
  });

  it('already on: nothing changes in the settings and no settings audit row; left off when unticked', async () => {
    const t = await createTeam(owner, 'Launch settings on');
    await seedConfig(t.tenantId, { max_cpa: 40 });
    const was = await everything(t.tenantId);
    const r = await launch(t.buyer.id, await formOf(t.tenantId, { abtest: '' }));
    expect(r).toMatchObject({ ok: true, data: { anomaly: { outcome: 'already_on' } } });
    expect((await everything(t.tenantId)).configs).toEqual(was.configs);
    expect((await auditsOf(t.tenantId)).map((a) => a.action)).toEqual(['budget.create', 'campaign.launch']);

    const u = await createTeam(owner, 'Launch settings off');
    await seedConfig(u.tenantId, { anomaly_detection_enabled: false });
    const off = await everything(u.tenantId);
    const left = await launch(u.buyer.id, await formOf(u.tenantId, { abtest: '', anomaly: '' }));
    expect(left).toMatchObject({ ok: true, data: { anomaly: { outcome: 'left_off' } } });
    expect((await everything(u.tenantId)).configs).toEqual(off.configs);
  });

  it('settings created by a colleague after the page was opened: refused as stale, nothing written', async () => {
    const t = await createTeam(owner, 'Launch stale settings');
    const form = await formOf(t.tenantId);
    await seedConfig(t.tenantId, { max_cpa: 70 });
    const before = await everything(t.tenantId);
    const r = await launch(t.buyer.id, form);
    expect(refusedKeys(r)).toEqual(['settings']);
    if (!r.ok) expect(r.fieldErrors!.settings).toEqual([STALE('meta')]);
    expect(await everything(t.tenantId)).toEqual(before);
  });
});

describe('a failure in a later step rolls back the earlier ones', () => {
  it('the database refusing a variant id in step 3 (its CHECK) undoes the budget and the settings of steps 1 and 2', async () => {
    const t = await createTeam(owner, 'Launch database refusal');
    const before = await everything(t.tenantId);
    // A crafted post past the launch schema: an id with a space, which ads_engine.ab_test_variants' CHECK refuses.
    const crafted = launchSchema.transform((v): LaunchInput => {
      if (!v.abTest) throw new Error('the form has an A/B test');
      const B = { name: v.abTest.variants.B.name, source: 'ids' as const, entities: [{ level: 'adset' as const, platformId: 'as 201' }] };
      return { ...v, abTest: { ...v.abTest, variants: { ...v.abTest.variants, B } } };
    });
    const r = await launch(t.buyer.id, await formOf(t.tenantId), crafted);
    expect(r).toMatchObject({ ok: false });
    expect(refusedKeys(r)).toEqual(['abtest']);
    if (!r.ok) {
      expect(r.message).toBe(
        'Nothing was launched. Step 3, A/B test: the database refused it (a value is outside what the database accepts). No step of the launch was saved: launch again.',
      );
    }
    expect(await everything(t.tenantId)).toEqual(before);
  });

  it('a colleague changing the settings while step 4 waits for them: refused, steps 1 and 3 undone, their change kept', async () => {
    const t = await createTeam(owner, 'Launch race in step 4');
    await seedConfig(t.tenantId, { max_cpa: 40, anomaly_detection_enabled: false });
    const form = await formOf(t.tenantId);
    const before = await counts(t.tenantId);

    // The colleague's transaction holds the settings row; the launch writes steps 1 to 3, then waits for it in step 4.
    const colleague = await owner.connect();
    try {
      await colleague.query('begin');
      await colleague.query("select set_config('saas.tenant_id', $1, true)", [t.tenantId]);
      await colleague.query("select 1 from ads.platform_configs where tenant_id = $1 and platform = 'meta' for update", [t.tenantId]);
      const pid = (await colleague.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
      const pending = launch(t.buyer.id, form);
      const deadline = Date.now() + 20_000;
      for (;;) {
        const w = await owner.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where $1 = any(pg_blocking_pids(pid))', [pid]);
        if (w.rows[0]!.n > 0) break;
        if (Date.now() > deadline) throw new Error('the launch never waited for the settings row');
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      await colleague.query("update ads.platform_configs set max_cpa = 55, updated_at = now() where tenant_id = $1 and platform = 'meta'", [t.tenantId]);
      await colleague.query('commit');
      const r = await pending;
      expect(r).toMatchObject({ ok: false });
      expect(refusedKeys(r)).toEqual(['anomaly']);
      if (!r.ok) {
        expect(r.fieldErrors!.anomaly).toEqual([STALE('meta')]);
        expect(r.message).toBe(`Nothing was launched. Step 4, Anomaly detection: ${STALE('meta')} No step of the launch was saved.`);
      }
    } finally {
      await colleague.query('rollback').catch(() => undefined);
      colleague.release();
    }
    expect(await counts(t.tenantId)).toEqual(before);
    expect((await configRow(t.tenantId))!).toMatchObject({ max_cpa: 55, anomaly_detection_enabled: false });
  });
});

describe('a campaign that already delivers', () => {
  it('is offered on the page and allocated through the budgets’ own createBudget; a draft test measured elsewhere', async () => {
    const t = await createTeam(owner, 'Launch delivering campaign');
    await loadMetricLines(owner, t.tenantId, [
      { platform: 'google', id: 'g-77', name: 'Search brand', fromAgo: 13, toAgo: 0, spend: 70, impressions: 7000, clicks: 140, conversions: 7, value: 420 },
    ]);
    const data = await page(t.tenantId);
    expect(data.defaultPlatform).toBe('google');
    expect(data.platforms[0]).toMatchObject({ value: 'google', hasMetrics: true, config: { exists: false, token: 'new' } });
    expect(data.campaigns).toMatchObject([{ platform: 'google', campaignId: 'g-77', campaignName: 'Search brand', suggested: 70 }]);

    const r = await launch(
      t.buyer.id,
      await formOf(t.tenantId, {
        platform: 'google',
        campaignId: 'g-77',
        campaignName: 'Search brand',
        dailyBudget: '70',
        strategy: 'performance',
        targetRoas: '',
        max_cpa: '',
        target_roas: '',
        sourceA: 'entered',
        sourceB: 'entered',
        startNow: '',
        anomaly: '',
      }),
    );
    expect(r).toMatchObject({
      ok: true,
      message: 'Launched Search brand on Google: budget added, settings created, A/B test saved as a draft, anomaly detection off.',
      data: { campaignLabel: 'Search brand', anomaly: { outcome: 'created_off' }, abTest: { status: 'draft' } },
    });
    const audits = await auditsOf(t.tenantId);
    expect(audits.map((a) => a.action)).toEqual(['budget.create', 'platform_config.create', 'ab_test.create', 'campaign.launch']);
    // createBudget's own row: the campaign's suggestion from its delivery.
    expect(audits[0]!.after).toMatchObject({ campaign_id: 'g-77', campaign_name: 'Search brand', daily_budget: 70, suggested_daily_budget: 70 });
    expect((await configRow(t.tenantId, 'google'))!).toMatchObject({ anomaly_detection_enabled: false });
    const [test] = await rows(t.tenantId, 'select status, start_date, performance_a, performance_b from ads.ab_tests where tenant_id = $1', [t.tenantId]);
    const zero = { impressions: 0, clicks: 0, conversions: 0, spend: 0, conversion_value: 0 };
    expect(test).toEqual({ status: 'draft', start_date: null, performance_a: zero, performance_b: zero });
    expect(await counts(t.tenantId)).toMatchObject({ variants: 0, designs: 1 });
  });
});

describe('who may launch', () => {
  it('a viewer is refused by the server, and a post without a session; nothing written', async () => {
    const t = await createTeam(owner, 'Launch viewer');
    const form = await formOf(t.tenantId);
    const before = await everything(t.tenantId);
    expect(await launch(t.viewer.id, form)).toEqual({ ok: false, message: roleRefusal('buyer', 'viewer') });
    expect(await launch(null, form)).toEqual({ ok: false, message: SIGNED_OUT });
    expect(await everything(t.tenantId)).toEqual(before);
  });

  it('another tenant with the same campaign id and the same settings is untouched', async () => {
    const a: Team = await createTeam(owner, 'Launch tenant A');
    const b: Team = await createTeam(owner, 'Launch tenant B');
    await seedConfig(a.tenantId, { anomaly_detection_enabled: false });
    await seedConfig(b.tenantId, { anomaly_detection_enabled: false, max_cpa: 12 });
    await asOwner(b.tenantId, (c) =>
      c.query("insert into ads.budget_allocation (tenant_id, platform, campaign_id, daily_budget) values ($1, 'meta', 'launch-101', 80)", [b.tenantId]),
    );
    const theirs = await everything(b.tenantId);
    const r = await launch(a.buyer.id, await formOf(a.tenantId));
    expect(r).toMatchObject({ ok: true, data: { anomaly: { outcome: 'turned_on' } } });
    expect((await configRow(a.tenantId))!).toMatchObject({ anomaly_detection_enabled: true });
    expect(await everything(b.tenantId)).toEqual(theirs);
    // B's buyer launching in B is refused: its own budget exists.
    expect(refusedKeys(await launch(b.buyer.id, await formOf(b.tenantId)))).toEqual(['campaign.campaignId']);
  });
});
