// The alerts' fixes of the review (tests/anomalies/review.test.ts, alerts part)
// pinned where the review's own tests do not: text is cut by code point and
// stored well formed everywhere; an attempt is always counted; one failing
// delivery never stops the others; a closed delivery stays closed; Send test's
// limit and its refusal of a disabled channel; the https port; the mask of a
// host name; the signing secret closed to any member's request.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dispatchAlerts } from '../../lib/alerts/dispatch';
import { buildMessage, sampleAnomaly, SUBJECT_MAX } from '../../lib/alerts/message';
import { sendTestHandler, setChannelEnabledHandler, TEST_DISABLED } from '../../lib/alerts/mutations';
import { maskWebhookUrl, webhookUrlProblem } from '../../lib/alerts/policy';
import { alertSettings } from '../../lib/alerts/queries';
import { channelEnabledSchema, channelIdSchema, TESTS_PER_HOUR, TESTS_PER_TENANT_HOUR } from '../../lib/alerts/schema';
import { recordAttempt, ERROR_MAX } from '../../lib/alerts/store';
import { cutText, storableJson, storableText } from '../../lib/alerts/text';
import { postWebhook } from '../../lib/alerts/webhook';
import { withTenant } from '../../lib/db/pool';
import { runTenantAction, type ActionHandler } from '../../lib/request/action-core';
import { appKysely, rolledBackAsApp } from '../helpers/app-db';
import { appPool, errorOf, inTenant, ownerPool } from '../helpers/db';
import { count, createTeam } from '../auth/fixtures';
import type { Team } from '../helpers/factories';
import { ALL_TYPES, DEV_POLICY, STRICT_POLICY, allowPrivateUrls, deliveries, insertAnomaly, saveChannel, startReceiver, type Receiver } from './alerts-fixtures';

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
beforeEach(() => {
  hook.received.length = 0;
  hook.respond = (_r, res) => {
    res.writeHead(200);
    res.end('ok');
  };
});

const MIN = 60_000;
const at = (base: Date, ms: number) => new Date(base.getTime() + ms);
const byId = <T>(handler: unknown, schema: typeof channelIdSchema | typeof channelEnabledSchema, userId: string, input: unknown) =>
  runTenantAction({ schema, minRole: 'admin', handler: handler as ActionHandler<typeof schema, T>, userId, preferredTenantId: null, input, db: app.db });

async function webhookChannel(team: Team, name = 'Ops webhook', path = '/hook') {
  const r = await saveChannel(app.db, team.admin.id, { name, kind: 'webhook', url: `${hook.url}${path}`, severities: ['critical'], types: ALL_TYPES, mode: 'immediate' });
  if (!r.ok || !r.data) throw new Error(`channel not created: ${JSON.stringify(r)}`);
  return r.data.channelId;
}

const codePoints = (s: string) => Array.from(s).length;

describe('text is cut by code point and stored well formed', () => {
  it('cutText never splits a pair, counts code points, marks a cut; storable* mend lone surrogates and NUL', () => {
    const fire = '🔥'.repeat(10);
    for (let n = 0; n <= 12; n++) {
      const cut = cutText('x' + fire, n);
      expect(cut.isWellFormed(), String(n)).toBe(true);
      expect(codePoints(cut)).toBe(Math.min(n, 11));
    }
    expect(cutText('abcdef', 4, '…')).toBe('abc…');
    expect(cutText('abcd', 4, '…')).toBe('abcd');
    expect(cutText('a\ud83db', 10)).toBe('a\ufffdb');
    expect(storableText('a\u0000b\udc00')).toBe('a\ufffdb\ufffd');
    const json = storableJson({ text: 'x\ud83d', ['k\ud83d']: ['\u0000'], n: 1, d: new Date(0) });
    expect(json).not.toMatch(/\\ud[89a-f]|\\u0000/i);
    expect(JSON.parse(json)).toEqual({ text: 'x\ufffd', 'k\ufffd': ['\ufffd'], n: 1, d: '1970-01-01T00:00:00.000Z' });
  });

  it('a long subject and text of emoji are cut well formed, within their limits, marked', () => {
    const name = '😀'.repeat(250);
    const anomalies = Array.from({ length: 30 }, () => ({ ...sampleAnomaly(new Date()), id: randomUUID(), entityName: '🔥'.repeat(400) }));
    const msg = buildMessage(
      { deliveryId: randomUUID(), kind: 'immediate', tenant: { id: randomUUID(), name, currency: 'EUR' }, channel: { id: randomUUID(), name: 'c' }, digestDay: null, generatedAt: new Date(), boardUrl: null },
      anomalies,
    );
    expect(msg.subject.isWellFormed()).toBe(true);
    expect(codePoints(msg.subject)).toBe(SUBJECT_MAX);
    expect(msg.subject.endsWith('…')).toBe(true);
    expect(msg.text.isWellFormed()).toBe(true);
    expect(codePoints(msg.text)).toBeLessThanOrEqual(19_000);
  });

  it('a channel name or URL with a lone surrogate is refused naming its field (the audit row is JSON)', async () => {
    const team = await createTeam(owner, 'Alerts broken names');
    const r = await saveChannel(app.db, team.admin.id, { name: 'ops \ud83d', kind: 'webhook', url: `${hook.url}/h`, severities: ['critical'], types: ALL_TYPES, mode: 'immediate' });
    expect(r).toMatchObject({ ok: false, fieldErrors: { name: [expect.stringMatching(/^Name: /)] } });
    const u = await saveChannel(app.db, team.admin.id, { name: 'ops', kind: 'webhook', url: `${hook.url}/h\udc00`, severities: ['critical'], types: ALL_TYPES, mode: 'immediate' });
    expect(u).toMatchObject({ ok: false, fieldErrors: { url: [expect.stringMatching(/^Webhook URL: /)] } });
    expect(await count(owner, 'select 1 from ads_engine.alert_channels where tenant_id = $1', [team.tenantId])).toBe(0);
  });
});

describe('every attempt is counted, whatever its error text', () => {
  it('an error of lone surrogates, NUL and 1,000 emoji, and an odd code: counted, backoff scheduled, text cut well formed', async () => {
    const team = await createTeam(owner, 'Alerts odd error');
    const ch = await webhookChannel(team);
    await insertAnomaly(owner, team.tenantId, { severity: 'critical' });
    const now = new Date(Date.now() + 1000);
    await dispatchAlerts(app.db, team.tenantId, { now, policy: DEV_POLICY, maxDeliveries: 0 });
    const [d] = await deliveries(owner, team.tenantId, ch);
    const error = '\ud83d\u0000' + '😀'.repeat(1000) + '\udc00';
    const r = await withTenant(team.tenantId, (trx) => recordAttempt(trx, team.tenantId, d!.id, { ok: false, code: 42, error, permanent: false }, now), {}, app.db);
    expect(r).toMatchObject({ status: 'failed', attempts: 1, nextAttemptAt: at(now, MIN) });
    const [after] = await deliveries(owner, team.tenantId, ch);
    expect(after).toMatchObject({ status: 'failed', attempts: 1, response_code: null, next_attempt_at: at(now, MIN) });
    expect(after!.last_error!.isWellFormed()).toBe(true);
    expect(codePoints(after!.last_error!)).toBe(ERROR_MAX);
    expect(after!.history).toHaveLength(1);
  });

  it('should the full record be refused by the database, the attempt is still counted, without its text', async () => {
    const team = await createTeam(owner, 'Alerts refused record');
    const ch = await webhookChannel(team);
    await insertAnomaly(owner, team.tenantId, { severity: 'critical' });
    const now = new Date(Date.now() + 1000);
    await dispatchAlerts(app.db, team.tenantId, { now, policy: DEV_POLICY, maxDeliveries: 0 });
    const [d] = await deliveries(owner, team.tenantId, ch);
    const fn = `ads_engine.test_refuse_${randomUUID().replace(/-/g, '')}`;
    await owner.query(`create function ${fn}() returns trigger language plpgsql as $$ begin raise exception 'refused by the test trigger'; end $$`);
    await owner.query(
      `create trigger test_refuse_text before update on ads_engine.alert_deliveries for each row
       when (new.id = '${d!.id}' and new.last_error like '%MARKER%') execute function ${fn}()`,
    );
    try {
      const r = await withTenant(team.tenantId, (trx) => recordAttempt(trx, team.tenantId, d!.id, { ok: false, code: 500, error: 'HTTP 500: MARKER', permanent: false }, now), {}, app.db);
      expect(r).toMatchObject({ status: 'failed', attempts: 1 });
    } finally {
      await owner.query('drop trigger test_refuse_text on ads_engine.alert_deliveries');
      await owner.query(`drop function ${fn}()`);
    }
    const [after] = await deliveries(owner, team.tenantId, ch);
    expect(after).toMatchObject({ status: 'failed', attempts: 1, response_code: 500, next_attempt_at: at(now, MIN) });
    expect(after!.last_error).toMatch(/^the error text could not be stored \(refused by the test trigger\)/);
  });

  it('one delivery that cannot be recorded does not stop the others; it goes once its claim runs out', async () => {
    const team = await createTeam(owner, 'Alerts one breaks');
    const a = await webhookChannel(team, 'A', '/a');
    const b = await webhookChannel(team, 'B', '/b');
    await insertAnomaly(owner, team.tenantId, { severity: 'critical' });
    const now = new Date(Date.now() + 1000);
    expect(await dispatchAlerts(app.db, team.tenantId, { now, policy: DEV_POLICY, maxDeliveries: 0 })).toMatchObject({ created: 2 });
    const [da] = await deliveries(owner, team.tenantId, a);
    const fn = `ads_engine.test_refuse_${randomUUID().replace(/-/g, '')}`;
    await owner.query(`create function ${fn}() returns trigger language plpgsql as $$ begin raise exception 'refused by the test trigger'; end $$`);
    await owner.query(
      `create trigger test_refuse_all before update on ads_engine.alert_deliveries for each row
       when (new.id = '${da!.id}' and new.attempts > old.attempts) execute function ${fn}()`,
    );
    let summary;
    try {
      summary = await dispatchAlerts(app.db, team.tenantId, { now, policy: DEV_POLICY });
    } finally {
      await owner.query('drop trigger test_refuse_all on ads_engine.alert_deliveries');
      await owner.query(`drop function ${fn}()`);
    }
    expect(summary).toMatchObject({ attempted: 1, sent: 1, errors: 1 });
    expect((await deliveries(owner, team.tenantId, b))[0]).toMatchObject({ status: 'sent', attempts: 1 });
    expect((await deliveries(owner, team.tenantId, a))[0]).toMatchObject({ status: 'queued', attempts: 0 });
    // Held for 10 minutes, then sent.
    expect(await dispatchAlerts(app.db, team.tenantId, { now: at(now, 5 * MIN), policy: DEV_POLICY })).toMatchObject({ attempted: 0 });
    expect(await dispatchAlerts(app.db, team.tenantId, { now: at(now, 11 * MIN), policy: DEV_POLICY })).toMatchObject({ attempted: 1, sent: 1 });
    expect(hook.received.map((r) => r.url).sort()).toEqual(['/a', '/a', '/b']);
  });

  it('a delivery sent already is left as it is by a late attempt', async () => {
    const team = await createTeam(owner, 'Alerts late attempt');
    const ch = await webhookChannel(team);
    await insertAnomaly(owner, team.tenantId, { severity: 'critical' });
    const now = new Date(Date.now() + 1000);
    await dispatchAlerts(app.db, team.tenantId, { now, policy: DEV_POLICY });
    const [d] = await deliveries(owner, team.tenantId, ch);
    expect(d).toMatchObject({ status: 'sent', attempts: 1 });
    const r = await withTenant(team.tenantId, (trx) => recordAttempt(trx, team.tenantId, d!.id, { ok: false, code: 503, error: 'HTTP 503', permanent: false }, at(now, MIN)), {}, app.db);
    expect(r).toMatchObject({ status: 'sent', attempts: 1 });
    expect((await deliveries(owner, team.tenantId, ch))[0]).toMatchObject({ status: 'sent', attempts: 1, response_code: 200, next_attempt_at: null });
  });
});

describe('the digest and closed anomalies', () => {
  it('drops a resolved anomaly from the queue and sends the open ones', async () => {
    const team = await createTeam(owner, 'Alerts digest resolved');
    const r = await saveChannel(app.db, team.admin.id, { name: 'Digest', kind: 'webhook', url: `${hook.url}/d`, severities: ['critical'], types: ALL_TYPES, mode: 'digest', digestHour: '8' });
    const ch = r.ok ? r.data!.channelId : '';
    const closed = await insertAnomaly(owner, team.tenantId, { severity: 'critical' });
    const open = await insertAnomaly(owner, team.tenantId, { severity: 'critical' });
    const d = new Date();
    const base = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
    expect(await dispatchAlerts(app.db, team.tenantId, { now: new Date(base + 7 * 60 * MIN), policy: DEV_POLICY })).toMatchObject({ queued: 2, created: 0 });
    await inTenant(owner, team.tenantId, (c) => c.query(`update ads.anomalies set status = 'resolved', resolved_at = now() where id = $1`, [closed]));
    expect(await dispatchAlerts(app.db, team.tenantId, { now: new Date(base + 8.5 * 60 * MIN), policy: DEV_POLICY })).toMatchObject({ created: 1, sent: 1 });
    const sent = (JSON.parse(hook.received[0]!.raw) as { anomalies: { id: string }[]; anomaly_count: number });
    expect(sent.anomalies.map((a) => a.id)).toEqual([open]);
    expect(sent.anomaly_count).toBe(1);
    expect((await deliveries(owner, team.tenantId, ch))[0]).toMatchObject({ anomaly_count: 1 });
    expect(await count(owner, 'select 1 from ads_engine.alert_items where tenant_id = $1 and anomaly_id = $2', [team.tenantId, closed])).toBe(0);
  });
});

describe('Send test', () => {
  it('refuses a disabled channel, saying so, and makes no delivery', async () => {
    const team = await createTeam(owner, 'Alerts test disabled');
    const ch = await webhookChannel(team);
    await byId(setChannelEnabledHandler, channelEnabledSchema, team.admin.id, { id: ch, enabled: 'false' });
    expect(await byId(sendTestHandler, channelIdSchema, team.admin.id, { id: ch })).toEqual({ ok: false, message: TEST_DISABLED });
    expect(await deliveries(owner, team.tenantId, ch)).toEqual([]);
    expect(hook.received).toHaveLength(0);
  });

  it('is limited per channel: one a minute, ten an hour, counted from the log; another channel is not held up', async () => {
    const team = await createTeam(owner, 'Alerts test limit');
    const ch = await webhookChannel(team, 'One', '/one');
    const other = await webhookChannel(team, 'Two', '/two');
    expect(await byId(sendTestHandler, channelIdSchema, team.admin.id, { id: ch })).toMatchObject({ ok: true });
    const again = await byId(sendTestHandler, channelIdSchema, team.admin.id, { id: ch });
    expect(again).toMatchObject({ ok: false, message: expect.stringMatching(/^Send test: at most one test a minute per channel\. Try again in \d+ s\.$/) });
    expect(await byId(sendTestHandler, channelIdSchema, team.admin.id, { id: other })).toMatchObject({ ok: true });
    expect(hook.received.map((r) => r.url)).toEqual(['/one', '/two']);

    // Ten tests in the last hour, none in the last minute (written as the owner, back-dated): the hour's limit.
    await inTenant(owner, team.tenantId, (c) =>
      c.query(
        `update ads_engine.alert_deliveries set created_at = now() - interval '2 minutes' where tenant_id = $1 and channel_id = $2`,
        [team.tenantId, ch],
      ),
    );
    await inTenant(owner, team.tenantId, (c) =>
      c.query(
        `insert into ads_engine.alert_deliveries (tenant_id, channel_id, kind, status, payload, attempts, max_attempts, created_at)
         select $1, $2, 'test', 'failed', '{}'::jsonb, 1, 1, now() - make_interval(mins => 3 + g * 5) from generate_series(1, $3::int) g`,
        [team.tenantId, ch, TESTS_PER_HOUR - 1],
      ),
    );
    expect(await byId(sendTestHandler, channelIdSchema, team.admin.id, { id: ch })).toEqual({
      ok: false,
      message: `Send test: at most ${TESTS_PER_HOUR} tests an hour per channel. Try again later.`,
    });
    expect(hook.received).toHaveLength(2);
  });
});

describe('Send test, tenant-wide', () => {
  it('is limited for the tenant, all channels together, from the audit log (a deleted channel does not reset it)', async () => {
    const team = await createTeam(owner, 'Alerts test tenant limit');
    const first = await webhookChannel(team, 'First', '/first');
    expect(await byId(sendTestHandler, channelIdSchema, team.admin.id, { id: first })).toMatchObject({ ok: true });
    // The channel and its test delivery are deleted; the audit row of the test stays, and counts.
    await inTenant(owner, team.tenantId, (c) => c.query(`delete from ads_engine.alert_channels where tenant_id = $1 and id = $2`, [team.tenantId, first]));
    await inTenant(owner, team.tenantId, (c) =>
      c.query(
        `insert into saas.audit_log (tenant_id, occurred_at, actor_user_id, action, entity_type, entity_id)
         select $1, now() - make_interval(mins => g), $2, 'alert_channel.test', 'alert_channel', gen_random_uuid()::text from generate_series(1, $3::int) g`,
        [team.tenantId, team.admin.id, TESTS_PER_TENANT_HOUR - 1],
      ),
    );
    const fresh = await webhookChannel(team, 'Fresh', '/fresh');
    expect(await byId(sendTestHandler, channelIdSchema, team.admin.id, { id: fresh })).toEqual({
      ok: false,
      message: `Send test: at most ${TESTS_PER_TENANT_HOUR} tests an hour in a tenant, all channels together. Try again later.`,
    });
    expect(hook.received.map((r) => r.url)).toEqual(['/first']);
  });
});

describe('webhook ports and the mask', () => {
  it('outside development, only 443 (or no port); the form names the field; the sender refuses before connecting', async () => {
    expect(webhookUrlProblem('https://hooks.example.com:443/x', false)).toBeNull();
    expect(webhookUrlProblem('https://hooks.example.com/x', false)).toBeNull();
    for (const port of [25, 22, 80, 5432, 8443]) {
      expect(webhookUrlProblem(`https://hooks.example.com:${port}/x`, false)).toBe(`must use the standard https port (443, or none), not ${port}.`);
    }
    expect(webhookUrlProblem(`${hook.url}/x`, true)).toBeNull();
    const team = await createTeam(owner, 'Alerts port');
    allowPrivateUrls(false);
    try {
      const r = await saveChannel(app.db, team.admin.id, { name: 'p', kind: 'webhook', url: 'https://db.example.com:5432/', severities: ['critical'], types: ALL_TYPES, mode: 'immediate' });
      expect(r).toMatchObject({ ok: false, fieldErrors: { url: ['Webhook URL: must use the standard https port (443, or none), not 5432.'] } });
    } finally {
      allowPrivateUrls(true);
    }
    // A public address literal: no DNS, refused for good before any connection.
    expect(await postWebhook('https://1.1.1.1:25/', '{}', {}, STRICT_POLICY)).toEqual({
      ok: false,
      status: null,
      error: 'refused: the URL must use the standard https port (443, or none), not 25.',
      permanent: true,
    });
  });

  it('shows the registrable domain and the last 4 characters, in the page, the audit and the delivery log', async () => {
    expect(maskWebhookUrl('https://hooks.slack.com/services/T0/B0/abcdefgh1234')).toBe('https://….slack.com/…1234');
    expect(maskWebhookUrl('https://eo9x4k2m7q1w8z3.m.pipedream.net/')).toBe('https://….pipedream.net/');
    expect(maskWebhookUrl('https://a1b2c3.ngrok.app/hook')).toBe('https://….ngrok.app/…');
    expect(maskWebhookUrl('https://tok.hooks.example.co.uk/x')).toBe('https://….example.co.uk/…');
    expect(maskWebhookUrl('https://example.com/')).toBe('https://example.com/');
    expect(maskWebhookUrl('https://1.2.3.4/very/long/path/wxyz')).toBe('https://1.2.3.4/…wxyz');
    expect(maskWebhookUrl('https://[2606:4700::1111]:443/')).toBe('https://[2606:4700::1111]/');

    const token = 'zz7q4k2m9x1w8p3';
    const team = await createTeam(owner, 'Alerts host mask');
    const r = await saveChannel(app.db, team.admin.id, { name: 'm', kind: 'webhook', url: `https://${token}.invalid.example/hook-path`, severities: ['critical'], types: ALL_TYPES, mode: 'immediate' });
    expect(r.ok).toBe(true);
    const page = await rolledBackAsApp(app.db, team.tenantId, (trx) => alertSettings(trx, team.tenantId));
    expect(page.channels[0]!.maskedUrl).toBe('https://….invalid.example/…');
    const audit = await inTenant(owner, team.tenantId, (c) => c.query(`select coalesce(string_agg(row_to_json(a)::text, ''), '') as t from saas.audit_log a where tenant_id = $1`, [team.tenantId]));
    expect(audit.rows[0].t).toContain('alert_channel.create');
    expect(audit.rows[0].t).not.toContain(token);
    // The name does not resolve: the error (the resolver's message names the host) is masked too.
    const sent = await postWebhook(`https://${token}.invalid.example/x`, '{}', {}, { ...DEV_POLICY, timeoutMs: 1500 });
    expect(sent).toMatchObject({ ok: false, status: null });
    expect(!sent.ok && sent.error).not.toContain(token);
  });
});

describe('the signing secret', () => {
  it('is refused in a transaction with a signed-in user (any page or action, a viewer\'s or an admin\'s)', async () => {
    const team = await createTeam(owner, 'Alerts secret reader');
    const ch = await webhookChannel(team);
    const c = await raw.connect();
    try {
      await c.query('begin');
      for (const user of [team.viewer, team.admin]) {
        await c.query("select set_config('saas.tenant_id', $1, true), set_config('saas.user_id', $2, true)", [team.tenantId, user.id]);
        expect(await errorOf(c, 'select ads_engine.alert_signing_secret($1, $2)', [team.tenantId, ch])).toMatch(/for the sender only/);
      }
      await c.query("select set_config('saas.user_id', '', true)");
      expect((await c.query('select ads_engine.alert_signing_secret($1, $2) as s', [team.tenantId, ch])).rows[0].s).toMatch(/^whsec_/);
    } finally {
      await c.query('rollback');
      c.release();
    }
  });
});
