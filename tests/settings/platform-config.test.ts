// The per-platform engine settings through the action wrapper on the real
// database, as real users: what the page reads, every validation rule
// (refused with its message, nothing written), exact writes with their audit
// row, the version check against concurrent edits and psql changes, the
// confirmation auto-apply needs, roles and tenants, and a saved max CPA
// changing what the engine proposes on noisy data.
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { saveAutoApplyHandler } from '../../lib/recommendations/auto-apply';
import { autoApplySettingsSchema } from '../../lib/recommendations/auto-apply-schema';
import { INVALID_INPUT, roleRefusal, runTenantAction, SIGNED_OUT, TENANT_CHANGED } from '../../lib/request/action-core';
import { NO_VERSION, platformSettings, savePlatformConfigHandler, STALE, type PlatformConfigView } from '../../lib/settings/platform-config';
import {
  CONFIRM_FIELD,
  DEFAULTS,
  inputValue,
  NEW_TOKEN,
  platformConfigFormSchema,
  type MoneyUnit,
  type PlatformConfigValues,
} from '../../lib/settings/platform-config-schema';
import { count, createTeam } from '../auth/fixtures';
import { appKysely, rolledBackAsApp } from '../helpers/app-db';
import { appPool, inTenant, ownerPool } from '../helpers/db';
import { addDays, insertMetrics, type MetricRow } from '../engine/fixtures';

const app = appKysely(4);
const owner = ownerPool();
const rawApp = appPool();

const save = (userId: string | null, input: Record<string, unknown>) =>
  runTenantAction({ schema: platformConfigFormSchema, minRole: 'buyer', handler: savePlatformConfigHandler, userId, preferredTenantId: null, input, db: app.db });

const read = (t: string) => rolledBackAsApp(app.db, t, (trx) => platformSettings(trx, t));
const viewOf = async (t: string, platform: string) => {
  const s = await read(t);
  const v = s.platforms.find((p) => p.platform === platform);
  if (!v) throw new Error(`${platform} not on the page`);
  return { view: v, unit: s.unit };
};

/** The form as the page renders it for a platform, with some fields changed: what a browser posts. */
async function formOf(t: string, platform: string, over: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const { view, unit } = await viewOf(t, platform);
  return { ...formFrom(view, unit), ...over };
}
function formFrom(view: PlatformConfigView, unit: MoneyUnit): Record<string, unknown> {
  const v = view.values;
  const f: Record<string, unknown> = { platform: view.platform, expected: view.token };
  for (const k of ['max_cpa', 'target_roas', 'auto_pause_threshold', 'min_spend_for_decision', 'anomaly_sensitivity', 'optimization_frequency'] as const) {
    f[k] = inputValue(k, v, unit);
  }
  // an unticked checkbox sends nothing
  for (const k of ['recommendations_enabled', 'anomaly_detection_enabled', 'auto_apply_recommendations'] as const) if (v[k]) f[k] = 'on';
  return f;
}

interface Row extends PlatformConfigValues {
  updated_at: Date;
}
const row = async (t: string, platform: string): Promise<Row | undefined> =>
  inTenant(owner, t, async (c) =>
    (
      await c.query(
        `select max_cpa, target_roas, auto_pause_threshold, min_spend_for_decision, anomaly_sensitivity, optimization_frequency,
                recommendations_enabled, anomaly_detection_enabled, auto_apply_recommendations, updated_at
         from ads.platform_configs where tenant_id = $1 and platform = $2`,
        [t, platform],
      )
    ).rows[0] as Row | undefined,
  );

const audits = (t: string) => count(owner, `select 1 from saas.audit_log where tenant_id = $1 and action like 'platform_config.%'`, [t]);

/** A settings row written as the owner (as a DBA or the guide would), last changed long ago. */
async function seedConfig(t: string, platform: string, cols: Partial<PlatformConfigValues> = {}): Promise<void> {
  const names = Object.keys(cols);
  await inTenant(owner, t, (c) =>
    c.query(
      `insert into ads.platform_configs (tenant_id, platform, ${names.join(', ')}${names.length ? ', ' : ''}updated_at)
       values ($1, $2, ${names.map((_, i) => `$${i + 3}`).join(', ')}${names.length ? ', ' : ''}'2025-01-01T00:00:00Z')`,
      [t, platform, ...Object.values(cols)],
    ),
  );
}

const yesterdayOf = async (t: string) =>
  (await owner.query<{ d: string }>(`select to_char(ads_engine.tenant_yesterday($1), 'YYYY-MM-DD') as d`, [t])).rows[0]!.d;

/** A few days of flat metrics, so that a platform counts as used. */
async function someMetrics(t: string, platform: string): Promise<void> {
  const y = await yesterdayOf(t);
  await inTenant(owner, t, (c) =>
    insertMetrics(c, t, [0, 1, 2].map((i) => ({ platform, id: `${platform}-c1`, day: addDays(y, -i), spend: 100, impressions: 10000, clicks: 100, conversions: 4, value: 300 }))),
  );
}

const meta: Partial<PlatformConfigValues> = {
  max_cpa: 40,
  target_roas: 3,
  auto_pause_threshold: 2,
  min_spend_for_decision: 50,
  anomaly_sensitivity: 3.5,
  optimization_frequency: 'daily',
};

describe('what the page reads', () => {
  it('lists the platforms with settings, then those with metrics only (offered with the defaults), and nothing of another tenant', async () => {
    const team = await createTeam(owner, 'Settings read');
    const other = await createTeam(owner, 'Settings read, other');
    await seedConfig(team.tenantId, 'tiktok', { ...meta, optimization_frequency: 'weekly' });
    await someMetrics(team.tenantId, 'google');
    await seedConfig(other.tenantId, 'meta', { max_cpa: 99, optimization_frequency: 'hourly' });

    const s = await read(team.tenantId);
    expect(s.platforms.map((p) => [p.platform, p.exists, p.hasMetrics])).toEqual([
      ['google', false, true],
      ['tiktok', true, false],
    ]);
    const [google, tiktok] = s.platforms;
    expect(google).toMatchObject({ label: 'Google', token: NEW_TOKEN, values: DEFAULTS, autoApply: null, updatedAt: null });
    expect(tiktok!.values).toEqual({ ...DEFAULTS, ...meta, optimization_frequency: 'weekly' });
    expect(tiktok!.autoApply).toMatchObject({ platform: 'tiktok', switchedOn: false });
    // the scheduler's rule: the most frequent choice of the rows there are (google has none)
    expect(s.schedule).toBe('weekly');
    expect(s.unit).toEqual({ style: { currency: 'EUR', locale: 'en-GB' }, scale: 1 });
    // pause line 2 x 40; fdr_level(3.5) = 200 (1 - Phi(3.5)) = 0.0465
    expect(tiktok!.notes.max_cpa).toBe('Pause line now: 2 × €40 = €80.');
    expect(tiktok!.notes.anomaly_sensitivity).toBe('At 3.5: a false-discovery level of 4.7% a run, half for anomalies, half for recommendations.');
    // the other tenant's row exists (as the owner sees it) but is not on this tenant's page
    expect(await count(owner, `select 1 from ads.platform_configs where tenant_id = $1 and platform = 'meta'`, [other.tenantId])).toBe(1);
    expect((await read(other.tenantId)).platforms.map((p) => p.platform)).toEqual(['meta']);
  });

  it('offers the defaults the table itself has (and the engine assumes without a row)', async () => {
    const cols = (
      await owner.query<{ column_name: string; column_default: string | null }>(
        `select column_name, column_default from information_schema.columns where table_schema = 'ads' and table_name = 'platform_configs'`,
      )
    ).rows;
    const parsed = Object.fromEntries(
      cols.map((c) => {
        const d = c.column_default;
        const v = d === null ? null : d === 'true' ? true : d === 'false' ? false : /^'(.*)'::text$/.exec(d)?.[1] ?? Number(d);
        return [c.column_name, v];
      }),
    );
    for (const [k, v] of Object.entries(DEFAULTS)) expect(parsed[k], k).toEqual(v);
  });
});

describe('validation', () => {
  it('refuses every wrong field with its message, and writes nothing', async () => {
    const team = await createTeam(owner, 'Settings validation');
    const t = team.tenantId;
    await seedConfig(t, 'meta', meta);
    const before = await row(t, 'meta');
    const notMoney = 'Max CPA: an amount such as 25.50, or leave it empty for no limit.';
    const cases: [string, unknown, string][] = [
      ['max_cpa', '0', 'Max CPA: must be above 0 (leave it empty for no limit).'],
      ['max_cpa', '-5', 'Max CPA: must be above 0 (leave it empty for no limit).'],
      ['max_cpa', 'abc', notMoney],
      ['max_cpa', '1e3', notMoney],
      ['max_cpa', 'NaN', notMoney],
      ['max_cpa', 'Infinity', notMoney],
      ['max_cpa', '25.5.1', notMoney],
      ['max_cpa', '12.345', 'Max CPA: at most 2 decimals.'],
      ['max_cpa', '1000000.01', 'Max CPA: at most €1,000,000.'],
      ['target_roas', '0', 'Target ROAS: above 0 and at most 100.'],
      ['target_roas', '100.01', 'Target ROAS: above 0 and at most 100.'],
      ['target_roas', '2.12345', 'Target ROAS: at most 4 decimals.'],
      ['target_roas', 'x', 'Target ROAS: a number such as 3 or 2.5, or leave it empty for no target.'],
      ['auto_pause_threshold', '0.99', 'Auto-pause threshold: from 1 to 10 (1 = pause at the max CPA itself).'],
      ['auto_pause_threshold', '10.5', 'Auto-pause threshold: from 1 to 10 (1 = pause at the max CPA itself).'],
      ['auto_pause_threshold', '', 'Auto-pause threshold: a factor from 1 to 10, such as 2.'],
      ['auto_pause_threshold', '1.2345', 'Auto-pause threshold: at most 3 decimals.'],
      ['min_spend_for_decision', '-1', 'Min spend for decision: 0 or more.'],
      ['min_spend_for_decision', '', 'Min spend for decision: an amount of 0 or more, such as 50.'],
      ['min_spend_for_decision', '5.555', 'Min spend for decision: at most 2 decimals.'],
      ['min_spend_for_decision', '1000001', 'Min spend for decision: at most €1,000,000.'],
      ['anomaly_sensitivity', '0.5', 'Anomaly sensitivity: from 1 to 10.'],
      ['anomaly_sensitivity', '11', 'Anomaly sensitivity: from 1 to 10.'],
      ['anomaly_sensitivity', '3.555', 'Anomaly sensitivity: at most 2 decimals.'],
      ['anomaly_sensitivity', 'high', 'Anomaly sensitivity: a number from 1 to 10, such as 3.5.'],
      ['optimization_frequency', 'monthly', 'Optimisation frequency: choose hourly, daily, weekly or manual.'],
      ['optimization_frequency', '', 'Optimisation frequency: choose hourly, daily, weekly or manual.'],
      ['recommendations_enabled', 'maybe', 'Recommendations: on or off.'],
      ['anomaly_detection_enabled', 'yes', 'Anomaly detection: on or off.'],
      ['auto_apply_recommendations', 1, 'Auto-apply: on or off.'],
    ];
    for (const [field, value, message] of cases) {
      const r = await save(team.buyer.id, await formOf(t, 'meta', { [field]: value }));
      expect(r, `${field}=${String(value)}`).toEqual({ ok: false, message: INVALID_INPUT, fieldErrors: { [field]: [message] } });
    }
    // every wrong field at once, each with its message
    const all = await save(team.buyer.id, await formOf(t, 'meta', { max_cpa: '0', target_roas: '101', auto_pause_threshold: '0.5', min_spend_for_decision: '-3', anomaly_sensitivity: '12', optimization_frequency: 'often' }));
    expect(all.ok).toBe(false);
    expect(!all.ok && Object.keys(all.fieldErrors ?? {}).sort()).toEqual(
      ['anomaly_sensitivity', 'auto_pause_threshold', 'max_cpa', 'min_spend_for_decision', 'optimization_frequency', 'target_roas'],
    );
    // no version, a platform that is not one
    expect(await save(team.buyer.id, await formOf(t, 'meta', { expected: undefined }))).toEqual({ ok: false, message: NO_VERSION });
    expect(await save(team.buyer.id, await formOf(t, 'meta', { platform: 'myspace' }))).toMatchObject({ ok: false, fieldErrors: { platform: ['Platform: not a platform.'] } });

    expect(await row(t, 'meta')).toEqual(before);
    expect(await audits(t)).toBe(0);
  });

  it('takes money in the tenant’s currency: min spend is the engine’s floor times its currency scale, bounds scale too', async () => {
    const team = await createTeam(owner, 'Settings yen');
    const t = team.tenantId;
    await inTenant(owner, t, (c) => c.query(`update saas.tenants set currency = 'JPY' where id = $1`, [t]));
    await someMetrics(t, 'google');
    const { view, unit } = await viewOf(t, 'google');
    expect(unit.scale).toBe(150);
    // the default floor 50 applies as 50 x 150 yen
    expect(inputValue('min_spend_for_decision', view.values, unit)).toBe('7500');
    expect(await save(team.buyer.id, { ...formFrom(view, unit), max_cpa: '200000000' })).toMatchObject({
      ok: false,
      fieldErrors: { max_cpa: ['Max CPA: at most JP¥150,000,000.'] },
    });
    const r = await save(team.buyer.id, { ...formFrom(view, unit), max_cpa: '2 000 000', min_spend_for_decision: '9000' });
    expect(r).toMatchObject({ ok: true, message: 'Saved: settings for Google created (max CPA no limit → JP¥2,000,000, min spend for decision JP¥7,500 → JP¥9,000, against the defaults).' });
    expect(await row(t, 'google')).toMatchObject({ max_cpa: 2_000_000, min_spend_for_decision: 60 });
  });
});

describe('saving', () => {
  it('writes exactly the fields that changed, with an audit row before and after; the same form again writes nothing', async () => {
    const team = await createTeam(owner, 'Settings save');
    const t = team.tenantId;
    await seedConfig(t, 'meta', meta);
    const old = (await row(t, 'meta'))!;
    // "25,5" as a French buyer types it; an empty target ROAS is no target; anomaly detection unticked
    const input = await formOf(t, 'meta', { max_cpa: '25,5', target_roas: '', optimization_frequency: 'weekly', anomaly_detection_enabled: undefined });
    const r = await save(team.buyer.id, input);
    expect(r).toMatchObject({
      ok: true,
      message: 'Saved: max CPA €40 → €25.50, target ROAS 3 → no target, optimisation frequency daily → weekly, anomaly detection on → off.',
    });
    const now = (await row(t, 'meta'))!;
    expect({ ...now, updated_at: undefined }).toEqual({
      ...DEFAULTS,
      ...meta,
      max_cpa: 25.5,
      target_roas: null,
      optimization_frequency: 'weekly',
      anomaly_detection_enabled: false,
      updated_at: undefined,
    });
    expect(now.updated_at.getTime()).toBeGreaterThan(old.updated_at.getTime());
    const log = await inTenant(owner, t, async (c) =>
      (await c.query(`select action, entity_type, entity_id, actor_user_id, actor_label, before, after from saas.audit_log where tenant_id = $1`, [t])).rows,
    );
    expect(log).toEqual([
      {
        action: 'platform_config.update',
        entity_type: 'platform_config',
        entity_id: 'meta',
        actor_user_id: team.buyer.id,
        actor_label: team.buyer.email,
        before: { max_cpa: 40, target_roas: 3, optimization_frequency: 'daily', anomaly_detection_enabled: true },
        after: { max_cpa: 25.5, target_roas: null, optimization_frequency: 'weekly', anomaly_detection_enabled: false },
      },
    ]);
    // the version handed back is the page's
    const { view, unit } = await viewOf(t, 'meta');
    expect(r.ok && (r.data as { token: string }).token).toBe(view.token);
    expect(await save(team.buyer.id, formFrom(view, unit))).toMatchObject({ ok: true, message: 'Saved: nothing changed.' });
    expect(await audits(t)).toBe(1);
    expect((await row(t, 'meta'))!.updated_at).toEqual(now.updated_at);
  });

  it('creates the settings of a platform that only has metrics, audited as platform_config.create; a second create is stale', async () => {
    const team = await createTeam(owner, 'Settings create');
    const t = team.tenantId;
    await someMetrics(t, 'google');
    const input = await formOf(t, 'google', { max_cpa: '30', auto_pause_threshold: '1.5' });
    expect(input.expected).toBe(NEW_TOKEN);
    const r = await save(team.admin.id, input);
    expect(r).toMatchObject({
      ok: true,
      message: 'Saved: settings for Google created (max CPA no limit → €30, auto-pause threshold 2 → 1.5, against the defaults).',
    });
    const expected = { ...DEFAULTS, max_cpa: 30, auto_pause_threshold: 1.5 };
    expect({ ...(await row(t, 'google')), updated_at: undefined }).toEqual({ ...expected, updated_at: undefined });
    const log = await inTenant(owner, t, async (c) => (await c.query(`select action, entity_id, before, after from saas.audit_log where tenant_id = $1`, [t])).rows);
    expect(log).toEqual([{ action: 'platform_config.create', entity_id: 'google', before: null, after: expected }]);
    // a form opened before the row existed
    expect(await save(team.buyer.id, { ...input, max_cpa: '45' })).toEqual({ ok: false, message: STALE('google') });
    expect((await row(t, 'google'))!.max_cpa).toBe(30);
    expect(await audits(t)).toBe(1);
  });
});

describe('who may save', () => {
  it('refuses a viewer’s crafted post and a request without a session on the server; nothing changes', async () => {
    const team = await createTeam(owner, 'Settings roles');
    const t = team.tenantId;
    await seedConfig(t, 'meta', meta);
    const before = await row(t, 'meta');
    const input = await formOf(t, 'meta', { max_cpa: '1' });
    expect(await save(team.viewer.id, input)).toEqual({ ok: false, message: roleRefusal('buyer', 'viewer') });
    expect(await save(null, input)).toEqual({ ok: false, message: SIGNED_OUT });
    expect(await row(t, 'meta')).toEqual(before);
    expect(await audits(t)).toBe(0);
  });

  it('never reaches another tenant’s settings: a stale tab for it is refused, its version means nothing here, and its row is untouched', async () => {
    const a = await createTeam(owner, 'Settings tenant A');
    const b = await createTeam(owner, 'Settings tenant B');
    await seedConfig(a.tenantId, 'meta', meta);
    await seedConfig(b.tenantId, 'meta', { ...meta, max_cpa: 77 });
    const theirs = await row(b.tenantId, 'meta');
    const theirForm = await formOf(b.tenantId, 'meta', { max_cpa: '1' });
    // A's buyer posting B's form (B's tenant id, B's version)
    expect(await save(a.buyer.id, { ...theirForm, _tenant: b.tenantId })).toEqual({ ok: false, message: TENANT_CHANGED });
    expect(await save(a.buyer.id, theirForm)).toEqual({ ok: false, message: STALE('meta') });
    // A's own save changes A's row only
    expect(await save(a.buyer.id, await formOf(a.tenantId, 'meta', { max_cpa: '1', _tenant: a.tenantId }))).toMatchObject({ ok: true });
    expect((await row(a.tenantId, 'meta'))!.max_cpa).toBe(1);
    expect(await row(b.tenantId, 'meta')).toEqual(theirs);
    expect(await audits(b.tenantId)).toBe(0);
  });
});

describe('the guide’s FAQ and concurrent edits', () => {
  it('UPDATE ads.platform_configs SET recommendations_enabled = true, as the app role in the tenant transaction, works and shows on the page', async () => {
    const team = await createTeam(owner, 'Settings FAQ');
    const other = await createTeam(owner, 'Settings FAQ, other');
    const t = team.tenantId;
    await seedConfig(t, 'meta', { ...meta, recommendations_enabled: false });
    await seedConfig(t, 'google', { recommendations_enabled: false });
    await seedConfig(other.tenantId, 'meta', { recommendations_enabled: false });
    const opened = await formOf(t, 'meta', { max_cpa: '33' });
    const before = await row(t, 'meta');

    const c = await rawApp.connect();
    try {
      await c.query('begin');
      await c.query("select set_config('saas.tenant_id', $1, true)", [t]);
      // the guide's two lines, word for word
      const r1 = await c.query('UPDATE ads.platform_configs SET recommendations_enabled = true;');
      const r2 = await c.query('UPDATE ads.platform_configs SET auto_apply_recommendations = true;');
      await c.query('commit');
      // row-level security: this tenant's two rows, not the other tenant's
      expect([r1.rowCount, r2.rowCount]).toEqual([2, 2]);
    } finally {
      c.release();
    }
    const s = await read(t);
    expect(s.platforms.map((p) => [p.platform, p.values.recommendations_enabled, p.values.auto_apply_recommendations])).toEqual([
      ['meta', true, true],
      ['google', true, true],
    ]);
    expect((await row(other.tenantId, 'meta'))!.recommendations_enabled).toBe(false);
    // psql left updated_at alone, yet the form opened before the change is stale
    const after = (await row(t, 'meta'))!;
    expect(after.updated_at).toEqual(before!.updated_at);
    expect(await save(team.buyer.id, opened)).toEqual({ ok: false, message: STALE('meta') });
    expect(await row(t, 'meta')).toEqual(after);
    expect(await audits(t)).toBe(0);
  });

  it('refuses a stale save, one after the other and at the same moment, writing only the first', async () => {
    const team = await createTeam(owner, 'Settings stale');
    const t = team.tenantId;
    await seedConfig(t, 'meta', meta);
    const buyerForm = await formOf(t, 'meta', { max_cpa: '20' });
    const adminForm = await formOf(t, 'meta', { max_cpa: '90' });
    expect(await save(team.buyer.id, buyerForm)).toMatchObject({ ok: true });
    expect(await save(team.admin.id, adminForm)).toEqual({ ok: false, message: 'Meta settings: changed by someone else since you opened it. Reload the page to see the current values; nothing was saved.' });
    expect((await row(t, 'meta'))!.max_cpa).toBe(20);
    expect(await audits(t)).toBe(1);

    // two saves of the same version at once: the row lock lets one through
    const a = await formOf(t, 'meta', { target_roas: '4' });
    const b = { ...a, target_roas: '5' };
    const results = await Promise.all([save(team.buyer.id, a), save(team.admin.id, b)]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok)).toEqual([{ ok: false, message: STALE('meta') }]);
    expect([4, 5]).toContain((await row(t, 'meta'))!.target_roas);
    expect(await audits(t)).toBe(2);
  });
});

describe('auto-apply', () => {
  it('turning it on without the confirmation is refused, saying what will happen; with it, saved; off needs none', async () => {
    const team = await createTeam(owner, 'Settings auto-apply');
    const t = team.tenantId;
    await seedConfig(t, 'meta', meta);
    // budget increases limited to 20 % a step through the auto-apply form
    const policy = await runTenantAction({
      schema: autoApplySettingsSchema,
      minRole: 'buyer',
      handler: saveAutoApplyHandler,
      userId: team.buyer.id,
      preferredTenantId: null,
      input: { platform: 'meta', budget_increase_enabled: 'on', budget_increase_step: '20', budget_decrease_enabled: 'on', budget_decrease_step: '' },
      db: app.db,
    });
    expect(policy).toMatchObject({ ok: true });
    const consequence =
      'On Meta each run of the engine will apply by itself, without asking anyone: budget increases of up to 20 % a step, budget decreases of any step it proposes. ' +
      'Larger steps wait in the queue. Pauses still wait for a buyer. Each automatic change can be undone for 24 hours on the recommendations page.';
    expect((await viewOf(t, 'meta')).view.autoApplyConsequence).toBe(consequence);
    const before = await row(t, 'meta');

    const refused = await save(team.buyer.id, await formOf(t, 'meta', { auto_apply_recommendations: 'on' }));
    expect(refused).toEqual({
      ok: false,
      message: 'Confirm turning auto-apply on: nothing was saved.',
      fieldErrors: { [CONFIRM_FIELD]: [`Confirm: tick the box to turn auto-apply on. ${consequence}`] },
    });
    // with another wrong field, both errors at once
    const both = await save(team.buyer.id, await formOf(t, 'meta', { auto_apply_recommendations: 'on', max_cpa: '-1' }));
    expect(!both.ok && Object.keys(both.fieldErrors ?? {}).sort()).toEqual([CONFIRM_FIELD, 'max_cpa']);
    // a confirmation sent alone changes nothing
    expect(await save(team.buyer.id, await formOf(t, 'meta', { [CONFIRM_FIELD]: 'on' }))).toMatchObject({ ok: true, message: 'Saved: nothing changed.' });
    expect(await row(t, 'meta')).toEqual(before);
    expect(await audits(t)).toBe(0);

    const on = await save(team.buyer.id, await formOf(t, 'meta', { auto_apply_recommendations: 'on', [CONFIRM_FIELD]: 'on' }));
    expect(on).toMatchObject({ ok: true, message: 'Saved: auto-apply off → on.' });
    expect((await row(t, 'meta'))!.auto_apply_recommendations).toBe(true);
    // already on: saving again needs no confirmation; turning it off neither
    expect(await save(team.buyer.id, await formOf(t, 'meta', { max_cpa: '41' }))).toMatchObject({ ok: true });
    expect(await save(team.buyer.id, await formOf(t, 'meta', { auto_apply_recommendations: undefined }))).toMatchObject({ ok: true, message: 'Saved: auto-apply on → off.' });
    const log = await inTenant(owner, t, async (c) =>
      (await c.query(`select before, after from saas.audit_log where tenant_id = $1 and action = 'platform_config.update' order by id`, [t])).rows,
    );
    expect(log).toEqual([
      { before: { auto_apply_recommendations: false }, after: { auto_apply_recommendations: true } },
      { before: { max_cpa: 40 }, after: { max_cpa: 41 } },
      { before: { auto_apply_recommendations: true }, after: { auto_apply_recommendations: false } },
    ]);
  });
});

// ---------------------------------------------------------------------------
// The engine on noisy data
// ---------------------------------------------------------------------------

/** mulberry32: a small seeded generator, so the fixture is the same on every run. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function sampler(seed: number) {
  const u = rng(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
  // Marsaglia and Tsang; shape below 1 through the boost u^(1/shape)
  const gamma = (shape: number): number => {
    if (shape < 1) return gamma(shape + 1) * u() ** (1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      const x = normal();
      const v = (1 + c * x) ** 3;
      if (v > 0 && Math.log(1 - u()) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
    }
  };
  const poisson = (lambda: number) => {
    const limit = Math.exp(-lambda);
    let k = 0;
    for (let p = u(); p > limit; p *= u()) k++;
    return k;
  };
  /** Negative binomial with mean mu and variance mu + phi mu^2 (a gamma-Poisson mixture). */
  const negBin = (mu: number, phi: number) => poisson(gamma(1 / phi) * mu * phi);
  return { u, normal, negBin };
}

/**
 * 56 days of two Google campaigns: "prospecting" spends about 400 a day at a
 * CPA around 60, "brand" about 300 at a CPA around 15. Spend is log-normal
 * around a weekday rhythm, conversions negative binomial (phi 0.08: a day's
 * count spreads about 1.5 times as much as a Poisson count), order values
 * log-normal.
 */
function noisyGoogle(yesterday: string): MetricRow[] {
  const s = sampler(20260201);
  const spendRhythm = [1.05, 1.1, 1.08, 1, 0.95, 0.85, 0.8]; // a working week, then a quieter weekend
  const convRhythm = [1, 1.05, 1, 1, 0.95, 0.9, 0.88];
  const rows: MetricRow[] = [];
  for (const c of [
    { id: 'prospecting', name: 'Prospecting', spend: 400, cpa: 60, cpm: 9, ctr: 0.011 },
    { id: 'brand', name: 'Brand', spend: 300, cpa: 15, cpm: 14, ctr: 0.045 },
  ]) {
    for (let ago = 55; ago >= 0; ago--) {
      const day = addDays(yesterday, -ago);
      // the rhythm follows the position in the series, so the figures are the same whatever day the test runs
      const dow = (55 - ago) % 7;
      const spend = Math.round(c.spend * spendRhythm[dow]! * Math.exp(0.15 * s.normal()) * 100) / 100;
      const impressions = Math.round((spend / c.cpm) * 1000 * Math.exp(0.1 * s.normal()));
      const clicks = s.negBin(impressions * c.ctr, 0.02);
      const conversions = s.negBin((spend / c.cpa) * convRhythm[dow]!, 0.08);
      let value = 0;
      for (let k = 0; k < conversions; k++) value += 90 * Math.exp(0.6 * s.normal() - 0.18);
      rows.push({ platform: 'google', id: c.id, name: c.name, day, spend, impressions, clicks, conversions, value: Math.round(value * 100) / 100 });
    }
  }
  return rows;
}

interface Proposed {
  entity_id: string;
  recommendation_type: string;
  evidence: Record<string, unknown>;
}

/** ads.generate_recommendations as the app runs it (app role, tenant transaction), rolled back: what it proposes. */
const proposals = (t: string) =>
  rolledBackAsApp(app.db, t, async (trx) => {
    await sql`select ads.generate_recommendations(${t}::uuid)`.execute(trx);
    return (
      await sql<Proposed>`select entity_id, recommendation_type, evidence from ads.optimization_recommendations
                          where tenant_id = ${t}::uuid and platform = 'google' and status = 'pending' order by entity_id, recommendation_type`.execute(trx)
    ).rows;
  });

describe('what a saved threshold does to the engine', () => {
  it('max CPA 100 gives no pause for a campaign at a CPA around 60; max CPA 25 saved through the form does; recommendations off gives none', async () => {
    const team = await createTeam(owner, 'Settings engine');
    const t = team.tenantId;
    const yesterday = await yesterdayOf(t);
    const rows = noisyGoogle(yesterday);
    await inTenant(owner, t, (c) => insertMetrics(c, t, rows));

    // The fixture is what it says: noisy, CPA around 60 over the week judged, converting on the last day.
    const last7 = rows.filter((r) => r.id === 'prospecting' && r.day > addDays(yesterday, -7));
    const spend7 = last7.reduce((a, r) => a + r.spend!, 0);
    const conv7 = last7.reduce((a, r) => a + r.conversions!, 0);
    const cpa7 = spend7 / conv7;
    expect(cpa7).toBeGreaterThan(45);
    expect(cpa7).toBeLessThan(80);
    expect(last7.at(-1)!.conversions).toBeGreaterThan(0);
    const daily = rows.filter((r) => r.id === 'prospecting').map((r) => r.conversions!);
    const mean = daily.reduce((a, b) => a + b, 0) / daily.length;
    const variance = daily.reduce((a, b) => a + (b - mean) ** 2, 0) / (daily.length - 1);
    expect(variance / mean).toBeGreaterThan(1.2); // over-dispersed, not Poisson-tidy

    // Google has metrics and no settings: created through the form, max CPA 100, pause at 1.2 x the limit (line 120)
    const created = await save(team.buyer.id, await formOf(t, 'google', { max_cpa: '100', auto_pause_threshold: '1.2' }));
    expect(created).toMatchObject({ ok: true });
    const first = await proposals(t);
    expect(first.filter((p) => p.recommendation_type === 'pause')).toEqual([]);

    // max CPA 25: the pause line is 1.2 x 25 = 30, half the campaign's CPA
    expect(await save(team.buyer.id, await formOf(t, 'google', { max_cpa: '25' }))).toMatchObject({ ok: true, message: 'Saved: max CPA €100 → €25.' });
    const second = await proposals(t);
    const pauses = second.filter((p) => p.recommendation_type === 'pause');
    expect(pauses.map((p) => p.entity_id)).toEqual(['prospecting']);
    expect(pauses[0]!.evidence).toMatchObject({
      reference_source: 'platform_configs.max_cpa',
      cpa_reference: 25,
      auto_pause_threshold: 1.2,
      pause_line: 30,
      conversions_7d: conv7,
    });
    expect(Number(pauses[0]!.evidence.cpa_7d)).toBeCloseTo(cpa7, 3);

    // recommendations off for Google through the same form: the engine proposes nothing there
    expect(await save(team.buyer.id, await formOf(t, 'google', { recommendations_enabled: undefined }))).toMatchObject({
      ok: true,
      message: 'Saved: recommendations on → off.',
    });
    expect(await proposals(t)).toEqual([]);
  });
});
