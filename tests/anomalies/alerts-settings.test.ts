// Alert channel settings through the action wrapper on the real database:
// validation naming the field and changing nothing, the admin-only server
// check, another tenant's channel id, secrets kept out of the audit log and of
// what the page reads, rotation, and "Send test" to a loopback receiver.
import { createHmac } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CHANNEL_NOT_FOUND,
  deleteChannelHandler,
  rotateSecretHandler,
  sendTestHandler,
  setChannelEnabledHandler,
  type SavedChannel,
} from '../../lib/alerts/mutations';
import { alertSettings } from '../../lib/alerts/queries';
import { channelEnabledSchema, channelIdSchema } from '../../lib/alerts/schema';
import { INVALID_INPUT, roleRefusal, runTenantAction, type ActionHandler } from '../../lib/request/action-core';
import { appKysely, rolledBackAsApp } from '../helpers/app-db';
import { appPool, errorOf, inTenant, ownerPool } from '../helpers/db';
import { count, createTeam } from '../auth/fixtures';
import { ALL_TYPES, allowPrivateUrls, deliveries, saveChannel, startReceiver, type Receiver } from './alerts-fixtures';

const app = appKysely(4);
const owner = ownerPool();
const raw = appPool();
let hook: Receiver;

beforeAll(async () => {
  hook = await startReceiver();
  allowPrivateUrls(true);
});
afterAll(async () => {
  allowPrivateUrls(false);
  await hook.close();
});

const byId = <T>(handler: unknown, schema: typeof channelIdSchema | typeof channelEnabledSchema, userId: string, input: unknown) =>
  runTenantAction({ schema, minRole: 'admin', handler: handler as ActionHandler<typeof schema, T>, userId, preferredTenantId: null, input, db: app.db });

const channels = (t: string) => count(owner, 'select 1 from ads_engine.alert_channels where tenant_id = $1', [t]);
const audits = (t: string) => count(owner, `select 1 from saas.audit_log where tenant_id = $1 and action like 'alert_channel.%'`, [t]);
const auditText = async (t: string) =>
  (await inTenant(owner, t, (c) => c.query<{ t: string }>(`select coalesce(string_agg(row_to_json(a)::text, '\n'), '') as t from saas.audit_log a where tenant_id = $1`, [t]))).rows[0]!.t;

const valid = (url: string) => ({ name: 'Hook', kind: 'webhook', url, severities: ['critical'], types: ALL_TYPES, mode: 'immediate' });

describe('validation', () => {
  it('refuses bad input naming the field, and changes nothing', async () => {
    const team = await createTeam(owner, 'Alerts validation');
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ ...valid('ftp://example.com/x') }, 'url', /^Webhook URL: must start with https:\/\/\.$/],
      [{ ...valid('not a url') }, 'url', /^Webhook URL: /],
      [{ ...valid(`https://example.com/${'a'.repeat(2100)}`) }, 'url', /^Webhook URL: keep it under 2048 characters\.$/],
      [{ ...valid('https://user:pw@example.com/x') }, 'url', /^Webhook URL: must not hold a user name or password/],
      [{ ...valid('https://example.com/x'), name: '' }, 'name', /^Name: /],
      [{ ...valid('https://example.com/x'), name: 'x'.repeat(81) }, 'name', /^Name: keep it under 80 characters\.$/],
      [{ ...valid('https://example.com/x'), severities: [] }, 'severities', /^Severities: choose at least one\.$/],
      [{ ...valid('https://example.com/x'), severities: ['urgent'] }, 'severities', /^Severities: /],
      [{ ...valid('https://example.com/x'), types: [] }, 'types', /^Anomaly types: choose at least one\.$/],
      [{ ...valid('https://example.com/x'), mode: 'digest' }, 'digestHour', /^Digest hour: /],
      [{ ...valid('https://example.com/x'), mode: 'digest', digestHour: '24' }, 'digestHour', /^Digest hour: a whole hour from 0 to 23\.$/],
      [{ name: 'Mail', kind: 'email', severities: ['low'], types: ['spike'], mode: 'immediate' }, 'addresses', /^Recipients: choose at least one member/],
      [
        { name: 'Mail', kind: 'email', addresses: Array.from({ length: 21 }, (_, i) => `p${i}@x.test`).join(', '), severities: ['low'], types: ['spike'], mode: 'immediate' },
        'addresses',
        /^Email addresses: at most 20 \(there are 21\)\.$/,
      ],
      [{ name: 'Mail', kind: 'email', addresses: 'ok@x.test, not-an-address', severities: ['low'], types: ['spike'], mode: 'immediate' }, 'addresses', /^Email addresses: "not-an-address" is not a valid email address\.$/],
      [{ ...valid('https://example.com/x'), kind: 'sms' }, 'kind', /^Kind: /],
    ];
    for (const [input, field, message] of cases) {
      const r = await saveChannel(app.db, team.admin.id, input);
      expect(r.ok, field).toBe(false);
      expect(!r.ok && r.message, field).toBe(INVALID_INPUT);
      const errors = (!r.ok && r.fieldErrors?.[field]) || [];
      expect(errors.some((e) => message.test(e)), `${field}: ${JSON.stringify(r)}`).toBe(true);
    }
    expect(await channels(team.tenantId)).toBe(0);
    expect(await audits(team.tenantId)).toBe(0);
  });

  it('outside development, requires https and refuses private addresses', async () => {
    const team = await createTeam(owner, 'Alerts strict');
    allowPrivateUrls(false);
    try {
      for (const [url, message] of [
        ['http://example.com/hook', /^Webhook URL: must start with https:\/\/\.$/],
        ['https://10.0.0.1/hook', /^Webhook URL: points to a private \(10\.0\.0\.0\/8\) address/],
        ['https://169.254.169.254/latest/meta-data', /^Webhook URL: points to a link-local \/ cloud metadata/],
        ['https://[::1]/hook', /^Webhook URL: points to a loopback/],
        ['https://metadata.google.internal/x', /^Webhook URL: names a local host/],
      ] as const) {
        const r = await saveChannel(app.db, team.admin.id, valid(url));
        expect(!r.ok && r.fieldErrors?.url?.[0], url).toMatch(message);
      }
      expect(await channels(team.tenantId)).toBe(0);
    } finally {
      allowPrivateUrls(true);
    }
  });
});

describe('who may change channels', () => {
  it('refuses buyers and viewers on the server, and the database refuses a non-admin write too', async () => {
    const team = await createTeam(owner, 'Alerts roles');
    for (const u of [team.buyer, team.viewer]) {
      const r = await saveChannel(app.db, u.id, valid(`${hook.url}/x`));
      expect(r).toEqual({ ok: false, message: roleRefusal('admin', u === team.buyer ? 'buyer' : 'viewer') });
    }
    const created = await saveChannel(app.db, team.admin.id, valid(`${hook.url}/x`));
    const id = created.ok ? created.data!.channelId : '';
    for (const [handler, schema, input] of [
      [deleteChannelHandler, channelIdSchema, { id }],
      [rotateSecretHandler, channelIdSchema, { id }],
      [sendTestHandler, channelIdSchema, { id }],
      [setChannelEnabledHandler, channelEnabledSchema, { id, enabled: 'false' }],
    ] as const) {
      const r = await byId(handler, schema, team.buyer.id, input);
      expect(r).toEqual({ ok: false, message: roleRefusal('admin', 'buyer') });
    }
    expect(await channels(team.tenantId)).toBe(1);
    // Under the app's check, the policy: the app role with a buyer as saas.user_id cannot write a channel.
    const c = await raw.connect();
    try {
      await c.query('begin');
      await c.query("select set_config('saas.tenant_id', $1, true), set_config('saas.user_id', $2, true)", [team.tenantId, team.buyer.id]);
      expect(await errorOf(c, `update ads_engine.alert_channels set enabled = false where tenant_id = $1`, [team.tenantId])).toBeNull();
      expect((await c.query(`select enabled from ads_engine.alert_channels where tenant_id = $1`, [team.tenantId])).rows[0].enabled).toBe(true);
      expect(
        await errorOf(c, `insert into ads_engine.alert_channels (tenant_id, name, kind, webhook_url, severities, anomaly_types, mode) values ($1, 'x', 'webhook', 'https://e.com/x', '{low}', '{spike}', 'immediate')`, [team.tenantId]),
      ).toMatch(/row-level security/);
      expect(await errorOf(c, `select ads_engine.alert_set_secret($1, $2, $3)`, [team.tenantId, id, 'x'.repeat(40)])).toMatch(/only an admin/);
    } finally {
      await c.query('rollback');
      c.release();
    }
  });

  it("answers not found for another tenant's channel id, and changes nothing there", async () => {
    const a = await createTeam(owner, 'Alerts tenant A');
    const b = await createTeam(owner, 'Alerts tenant B');
    const theirs = await saveChannel(app.db, b.admin.id, valid(`${hook.url}/b`));
    const id = theirs.ok ? theirs.data!.channelId : '';
    expect(await saveChannel(app.db, a.admin.id, { ...valid(`${hook.url}/a`), id, name: 'Taken over' })).toEqual({ ok: false, message: CHANNEL_NOT_FOUND });
    for (const [handler, schema, input] of [
      [deleteChannelHandler, channelIdSchema, { id }],
      [rotateSecretHandler, channelIdSchema, { id }],
      [sendTestHandler, channelIdSchema, { id }],
      [setChannelEnabledHandler, channelEnabledSchema, { id, enabled: 'false' }],
    ] as const) {
      expect(await byId(handler, schema, a.admin.id, input)).toEqual({ ok: false, message: CHANNEL_NOT_FOUND });
    }
    const row = await inTenant(owner, b.tenantId, (c) => c.query(`select name, enabled from ads_engine.alert_channels where tenant_id = $1 and id = $2`, [b.tenantId, id]));
    expect(row.rows).toEqual([{ name: 'Hook', enabled: true }]);
    expect(await deliveries(owner, b.tenantId, id)).toEqual([]);
    expect(hook.received.filter((r) => r.url === '/b')).toHaveLength(0);
  });
});

describe('secrets', () => {
  it('are shown once: never in the audit log, the page, nor readable by the app role; rotation replaces the key', async () => {
    const team = await createTeam(owner, 'Alerts secrets');
    const url = `${hook.url}/secret-path-token-ABCD`;
    const r = await saveChannel(app.db, team.admin.id, valid(url));
    expect(r).toMatchObject({ ok: true, message: 'Channel created. Copy the signing secret now: it is not shown again.' });
    const { channelId, secret } = (r.ok ? r.data : undefined) as SavedChannel;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);

    const rotated = await byId<SavedChannel>(rotateSecretHandler, channelIdSchema, team.admin.id, { id: channelId });
    const secret2 = rotated.ok ? rotated.data!.secret! : '';
    expect(secret2).toMatch(/^whsec_/);
    expect(secret2).not.toBe(secret);

    const audit = await auditText(team.tenantId);
    expect(audit).toContain('alert_channel.create');
    expect(audit).toContain('alert_channel.rotate_secret');
    expect(audit).not.toContain(secret!);
    expect(audit).not.toContain(secret2);
    expect(audit).not.toContain('whsec_');
    // The URL is audited masked.
    expect(audit).not.toContain('secret-path-token');

    const page = await rolledBackAsApp(app.db, team.tenantId, (trx) => alertSettings(trx, team.tenantId));
    const shown = JSON.stringify(page);
    expect(shown).not.toContain(secret!);
    expect(shown).not.toContain(secret2);
    expect(shown).not.toContain('secret-path-token');
    expect(page.channels).toMatchObject([{ id: channelId, kind: 'webhook', maskedUrl: `${hook.url}/…ABCD`, severities: ['critical'], mode: 'immediate', deliveries: [] }]);

    // The table is closed to the app role; only the signer function reads it.
    const c = await raw.connect();
    try {
      await c.query('begin');
      await c.query("select set_config('saas.tenant_id', $1, true)", [team.tenantId]);
      expect(await errorOf(c, 'select * from ads_engine.alert_webhook_secrets')).toMatch(/permission denied/);
      expect((await c.query('select ads_engine.alert_signing_secret($1, $2) as s', [team.tenantId, channelId])).rows[0].s).toBe(secret2);
      expect(await errorOf(c, 'select * from ads_engine.alert_tenants()')).toMatch(/for the scheduler/);
    } finally {
      await c.query('rollback');
      c.release();
    }

    // Send test signs with the new secret and reports the outcome.
    hook.received.length = 0;
    const test = await byId<{ deliveryId: string }>(sendTestHandler, channelIdSchema, team.admin.id, { id: channelId });
    expect(test).toMatchObject({ ok: true, message: 'Test message sent. The delivery log below shows the answer.' });
    expect(hook.received).toHaveLength(1);
    const req = hook.received[0]!;
    const ts = req.headers['x-aegis-timestamp'] as string;
    expect(req.headers['x-aegis-signature']).toBe('sha256=' + createHmac('sha256', secret2).update(`${ts}.${req.raw}`).digest('hex'));
    expect(JSON.parse(req.raw)).toMatchObject({ type: 'aegis.test', anomaly_count: 1, text: expect.stringMatching(/^AEGIS test alert for Alerts secrets/) });
    const after = await rolledBackAsApp(app.db, team.tenantId, (trx) => alertSettings(trx, team.tenantId));
    expect(after.channels[0]!.deliveries).toMatchObject([{ kind: 'test', status: 'sent', responseCode: 200, attempts: 1 }]);
    expect(JSON.stringify(after)).not.toContain(secret2);
    expect(await auditText(team.tenantId)).not.toContain(secret2);
  });

  it('a failed test says why, once, without retrying', async () => {
    const team = await createTeam(owner, 'Alerts failed test');
    const r = await saveChannel(app.db, team.admin.id, valid(`${hook.url}/down`));
    const id = r.ok ? r.data!.channelId : '';
    hook.respond = (_q, res) => {
      res.writeHead(503);
      res.end('maintenance');
    };
    try {
      const test = await byId(sendTestHandler, channelIdSchema, team.admin.id, { id });
      expect(test).toMatchObject({ ok: true, message: 'The test message was not delivered: HTTP 503: maintenance.' });
      expect(await deliveries(owner, team.tenantId, id)).toMatchObject([{ kind: 'test', status: 'failed', attempts: 1, response_code: 503, next_attempt_at: null }]);
    } finally {
      hook.respond = (_q, res) => {
        res.writeHead(200);
        res.end('ok');
      };
    }
  });
});

describe('edit, disable, delete', () => {
  it('an edit keeps the URL when left blank, a delete takes the channel and its log; each is audited', async () => {
    const team = await createTeam(owner, 'Alerts edit');
    const r = await saveChannel(app.db, team.admin.id, valid(`${hook.url}/keep`));
    const id = r.ok ? r.data!.channelId : '';
    const edited = await saveChannel(app.db, team.admin.id, { ...valid(''), id, name: 'Renamed', severities: ['high', 'critical'] });
    expect(edited).toMatchObject({ ok: true, message: 'Channel saved.' });
    const page = await rolledBackAsApp(app.db, team.tenantId, (trx) => alertSettings(trx, team.tenantId));
    expect(page.channels).toMatchObject([{ name: 'Renamed', maskedUrl: `${hook.url}/…`, severities: ['high', 'critical'] }]);
    const stored = await inTenant(owner, team.tenantId, (c: pg.PoolClient) => c.query(`select webhook_url from ads_engine.alert_channels where id = $1`, [id]));
    expect(stored.rows[0].webhook_url).toBe(`${hook.url}/keep`);
    expect(await byId(setChannelEnabledHandler, channelEnabledSchema, team.admin.id, { id, enabled: 'false' })).toMatchObject({ ok: true, message: 'Channel disabled: nothing is sent to it.' });
    expect(await byId(deleteChannelHandler, channelIdSchema, team.admin.id, { id })).toMatchObject({ ok: true, message: 'Channel “Renamed” deleted, with its delivery log.' });
    expect(await channels(team.tenantId)).toBe(0);
    const actions = await inTenant(owner, team.tenantId, (c) => c.query(`select action from saas.audit_log where tenant_id = $1 and action like 'alert_channel.%' order by id`, [team.tenantId]));
    expect(actions.rows.map((x) => x.action)).toEqual(['alert_channel.create', 'alert_channel.update', 'alert_channel.disable', 'alert_channel.delete']);
  });
});
