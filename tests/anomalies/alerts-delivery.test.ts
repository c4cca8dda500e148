// Alert delivery on the real database, to real servers on loopback: a
// node:http receiver (the signature checked here with node:crypto over the
// exact raw body and timestamp) and the SMTP server of tests/helpers/smtp.ts.
// The clock is injected (dispatchAlerts' now), so the backoff is stepped
// through without waiting.
import { createHmac } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dispatchAlerts } from '../../lib/alerts/dispatch';
import { blockedReason } from '../../lib/alerts/address';
import { postWebhook } from '../../lib/alerts/webhook';
import { setChannelEnabledHandler } from '../../lib/alerts/mutations';
import { channelEnabledSchema } from '../../lib/alerts/schema';
import { resetTransportForTests } from '../../lib/mail/transport';
import { runTenantAction, type ActionHandler } from '../../lib/request/action-core';
import { appKysely } from '../helpers/app-db';
import { inTenant, ownerPool } from '../helpers/db';
import { startSmtp, type TestSmtp } from '../helpers/smtp';
import { createTeam } from '../auth/fixtures';
import type { Team } from '../helpers/factories';
import {
  ALL_TYPES,
  DEV_POLICY,
  STRICT_POLICY,
  allowPrivateUrls,
  deliveries,
  insertAnomaly,
  saveChannel,
  startReceiver,
  type Receiver,
} from './alerts-fixtures';

const app = appKysely(4);
const owner = ownerPool();
let hook: Receiver;
let smtp: TestSmtp;
const savedEnv = { SMTP_URL: process.env.SMTP_URL, MAIL_FROM: process.env.MAIL_FROM };

beforeAll(async () => {
  hook = await startReceiver();
  smtp = await startSmtp();
  allowPrivateUrls(true);
});

afterAll(async () => {
  allowPrivateUrls(false);
  await hook.close();
  await smtp.close();
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  resetTransportForTests();
});

beforeEach(() => {
  hook.received.length = 0;
  smtp.received.length = 0;
  hook.respond = (_r, res) => {
    res.writeHead(200);
    res.end('ok');
  };
});

async function webhookChannel(team: Team, extra: Record<string, unknown> = {}, path = '/hook') {
  const r = await saveChannel(app.db, team.admin.id, {
    name: 'Ops webhook',
    kind: 'webhook',
    url: `${hook.url}${path}`,
    severities: ['high', 'critical'],
    types: ALL_TYPES,
    mode: 'immediate',
    ...extra,
  });
  if (!r.ok || !r.data?.secret) throw new Error(`channel not created: ${JSON.stringify(r)}`);
  return { id: r.data.channelId, secret: r.data.secret };
}

const at = (base: Date, ms: number) => new Date(base.getTime() + ms);
const MIN = 60_000;

describe('webhook delivery', () => {
  it('posts one signed JSON message with a Slack text; the signature verifies over the raw body and timestamp; never twice', async () => {
    const team = await createTeam(owner, 'Alerts webhook');
    const ch = await webhookChannel(team);
    const anomaly = await insertAnomaly(owner, team.tenantId, { severity: 'critical', type: 'spike' });
    const now = new Date(Date.now() + 1000);

    const s1 = await dispatchAlerts(app.db, team.tenantId, { now, policy: DEV_POLICY });
    expect(s1).toMatchObject({ queued: 1, created: 1, attempted: 1, sent: 1, failed: 0, gaveUp: 0, nextAttemptAt: null });
    expect(hook.received).toHaveLength(1);
    const req = hook.received[0]!;
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/hook');
    expect(req.headers['content-type']).toMatch(/^application\/json/);
    const ts = req.headers['x-aegis-timestamp'] as string;
    expect(ts).toBe(String(Math.floor(now.getTime() / 1000)));
    // Independently: HMAC-SHA256 keyed with the secret over "<timestamp>.<raw body>".
    const expected = 'sha256=' + createHmac('sha256', ch.secret).update(`${ts}.${req.raw}`).digest('hex');
    expect(req.headers['x-aegis-signature']).toBe(expected);
    // A replay with another timestamp does not verify.
    expect(createHmac('sha256', ch.secret).update(`${Number(ts) + 600}.${req.raw}`).digest('hex')).not.toBe(expected.slice(7));
    const body = JSON.parse(req.raw);
    expect(typeof body.text).toBe('string');
    expect(body.text).toMatch(/^AEGIS: 1 new anomaly in Alerts webhook \(1 critical\)\./);
    // Slack markup in names is escaped.
    expect(body.text).toContain('&lt;b&gt;&amp;&lt;/b&gt;');
    expect(body).toMatchObject({
      type: 'aegis.anomalies',
      tenant: { id: team.tenantId },
      channel: { id: ch.id, name: 'Ops webhook' },
      anomaly_count: 1,
      more: 0,
      anomalies: [{ id: anomaly, severity: 'critical', type: 'spike', metric: 'cpa', platform: 'meta', money_at_stake: 250 }],
    });
    expect(req.headers['x-aegis-delivery']).toBe(body.delivery_id);
    expect(req.headers['x-aegis-attempt']).toBe('1');
    expect(req.raw).not.toContain(ch.secret);

    const [d] = await deliveries(owner, team.tenantId, ch.id);
    expect(d).toMatchObject({ kind: 'immediate', status: 'sent', attempts: 1, response_code: 200, last_error: null, anomaly_count: 1 });

    // A second run: nothing new, nothing sent again.
    const s2 = await dispatchAlerts(app.db, team.tenantId, { now: at(now, MIN), policy: DEV_POLICY });
    expect(s2).toMatchObject({ queued: 0, created: 0, attempted: 0 });
    expect(hook.received).toHaveLength(1);

    // A new anomaly: only it goes, in a message of its own.
    const later = await insertAnomaly(owner, team.tenantId, { severity: 'high', type: 'drop' });
    await dispatchAlerts(app.db, team.tenantId, { now: at(now, 2 * MIN), policy: DEV_POLICY });
    expect(hook.received).toHaveLength(2);
    expect(JSON.parse(hook.received[1]!.raw).anomalies.map((a: { id: string }) => a.id)).toEqual([later]);
  });

  it('two dispatchers at once send a message once', async () => {
    const team = await createTeam(owner, 'Alerts concurrent');
    await webhookChannel(team);
    await insertAnomaly(owner, team.tenantId);
    const now = new Date(Date.now() + 1000);
    await Promise.all([
      dispatchAlerts(app.db, team.tenantId, { now, policy: DEV_POLICY }),
      dispatchAlerts(app.db, team.tenantId, { now, policy: DEV_POLICY }),
    ]);
    await dispatchAlerts(app.db, team.tenantId, { now: at(now, MIN), policy: DEV_POLICY });
    expect(hook.received).toHaveLength(1);
  });

  it('retries a 500 after 1 min, 5 min, 30 min and 2 h, recording each attempt, then gives up after 5', async () => {
    const team = await createTeam(owner, 'Alerts retries');
    const ch = await webhookChannel(team);
    await insertAnomaly(owner, team.tenantId);
    hook.respond = (_r, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('upstream down');
    };
    const t0 = new Date(Date.now() + 1000);
    const s1 = await dispatchAlerts(app.db, team.tenantId, { now: t0, policy: DEV_POLICY });
    expect(s1).toMatchObject({ attempted: 1, failed: 1, nextAttemptAt: at(t0, MIN) });
    let [d] = await deliveries(owner, team.tenantId, ch.id);
    expect(d).toMatchObject({ status: 'failed', attempts: 1, response_code: 500, last_error: 'HTTP 500: upstream down' });
    expect(d!.next_attempt_at!.getTime()).toBe(t0.getTime() + MIN);

    // Before the wait is over: nothing is tried.
    expect(await dispatchAlerts(app.db, team.tenantId, { now: at(t0, 59_000), policy: DEV_POLICY })).toMatchObject({ attempted: 0 });
    expect(hook.received).toHaveLength(1);

    // Each retry at exactly its time.
    let t = at(t0, MIN);
    for (const [attempt, wait] of [[2, 5 * MIN], [3, 30 * MIN], [4, 120 * MIN]] as const) {
      await dispatchAlerts(app.db, team.tenantId, { now: t, policy: DEV_POLICY });
      [d] = await deliveries(owner, team.tenantId, ch.id);
      expect(d).toMatchObject({ status: 'failed', attempts: attempt });
      expect(d!.next_attempt_at!.getTime()).toBe(t.getTime() + wait);
      t = at(t, wait);
    }
    const last = await dispatchAlerts(app.db, team.tenantId, { now: t, policy: DEV_POLICY });
    expect(last).toMatchObject({ attempted: 1, gaveUp: 1, nextAttemptAt: null });
    [d] = await deliveries(owner, team.tenantId, ch.id);
    expect(d).toMatchObject({ status: 'gave_up', attempts: 5, next_attempt_at: null, response_code: 500 });
    expect(hook.received.map((r) => r.headers['x-aegis-attempt'])).toEqual(['1', '2', '3', '4', '5']);
    // The schedule as recorded: the gap between each attempt and its next.
    const gaps = d!.history.map((h) => (h.next_attempt_at ? (Date.parse(h.next_attempt_at) - Date.parse(h.at)) / MIN : null));
    expect(gaps).toEqual([1, 5, 30, 120, null]);
    expect(d!.history.map((h) => h.code)).toEqual([500, 500, 500, 500, 500]);

    // Nothing after giving up.
    await dispatchAlerts(app.db, team.tenantId, { now: at(t, 24 * 60 * MIN), policy: DEV_POLICY });
    expect(hook.received).toHaveLength(5);
  });

  it('sends nothing to a disabled channel, nor what its rule does not take (severity, type)', async () => {
    const team = await createTeam(owner, 'Alerts rules');
    const off = await webhookChannel(team, { name: 'Disabled' }, '/off');
    const disabled = await runTenantAction({
      schema: channelEnabledSchema,
      minRole: 'admin',
      handler: setChannelEnabledHandler as ActionHandler<typeof channelEnabledSchema, unknown>,
      userId: team.admin.id,
      preferredTenantId: null,
      input: { id: off.id, enabled: 'false' },
      db: app.db,
    });
    expect(disabled).toMatchObject({ ok: true });
    const narrow = await webhookChannel(team, { name: 'Critical spikes', severities: ['critical'], types: ['spike'] }, '/narrow');
    await insertAnomaly(owner, team.tenantId, { severity: 'high', type: 'spike' });
    await insertAnomaly(owner, team.tenantId, { severity: 'critical', type: 'drop' });
    await insertAnomaly(owner, team.tenantId, { severity: 'critical', type: 'spike', status: 'resolved' });
    const s = await dispatchAlerts(app.db, team.tenantId, { now: new Date(Date.now() + 1000), policy: DEV_POLICY });
    expect(s).toMatchObject({ queued: 0, created: 0, attempted: 0 });
    expect(hook.received).toHaveLength(0);
    expect(await deliveries(owner, team.tenantId, off.id)).toEqual([]);
    expect(await deliveries(owner, team.tenantId, narrow.id)).toEqual([]);

    // The matching one does go, to the narrow channel only.
    await insertAnomaly(owner, team.tenantId, { severity: 'critical', type: 'spike' });
    await dispatchAlerts(app.db, team.tenantId, { now: new Date(Date.now() + 2000), policy: DEV_POLICY });
    expect(hook.received.map((r) => r.url)).toEqual(['/narrow']);
  });

  it('does not follow a 302: the redirect target gets nothing and the attempt fails with the code', async () => {
    const team = await createTeam(owner, 'Alerts redirect');
    const ch = await webhookChannel(team, {}, '/moved');
    hook.respond = (r, res) => {
      if (r.url === '/moved') {
        res.writeHead(302, { location: `${hook.url}/elsewhere` });
        res.end();
      } else {
        res.writeHead(200);
        res.end('ok');
      }
    };
    await insertAnomaly(owner, team.tenantId);
    const now = new Date(Date.now() + 1000);
    await dispatchAlerts(app.db, team.tenantId, { now, policy: DEV_POLICY });
    expect(hook.received.map((r) => r.url)).toEqual(['/moved']);
    const [d] = await deliveries(owner, team.tenantId, ch.id);
    expect(d).toMatchObject({ status: 'failed', attempts: 1, response_code: 302 });
    expect(d!.last_error).toMatch(/redirects are not followed/);
  });

  it('refuses a private address when the allowance is off: nothing reaches the server, the delivery gives up at once', async () => {
    const team = await createTeam(owner, 'Alerts private');
    const ch = await webhookChannel(team);
    await insertAnomaly(owner, team.tenantId);
    const s = await dispatchAlerts(app.db, team.tenantId, { now: new Date(Date.now() + 1000), policy: STRICT_POLICY });
    expect(s).toMatchObject({ attempted: 1, gaveUp: 1, nextAttemptAt: null });
    expect(hook.received).toHaveLength(0);
    const [d] = await deliveries(owner, team.tenantId, ch.id);
    expect(d).toMatchObject({ status: 'gave_up', attempts: 1, response_code: null });
    // http:// is the first thing refused outside development.
    expect(d!.last_error).toMatch(/^refused: the URL must start with https:\/\//);
  });

  it('without the allowance, refuses every private, loopback, link-local and metadata address, literal or resolved', async () => {
    const sent = hook.received.length;
    for (const host of ['127.0.0.1', '[::1]', '169.254.169.254', '10.1.2.3', '172.16.5.4', '192.168.1.1', '0.0.0.0', '[fd00::1]', '[fe80::1]', '[::ffff:127.0.0.1]']) {
      const r = await postWebhook(`https://${host}:${hook.port}/x`, '{}', {}, STRICT_POLICY);
      expect(r, host).toMatchObject({ ok: false, permanent: true, status: null });
      expect(!r.ok && r.error, host).toMatch(/^refused: the URL points to a .* address/);
    }
    expect(await postWebhook(`https://localhost:${hook.port}/x`, '{}', {}, STRICT_POLICY)).toMatchObject({ ok: false, permanent: true });
    // A name that resolves to a private address (this machine's host name, through /etc/hosts) is refused after resolution.
    const name = hostname();
    const addresses = await lookup(name, { all: true }).catch(() => []);
    if (addresses.length && addresses.some((a) => blockedReason(a.address))) {
      const r = await postWebhook(`https://${name}:${hook.port}/x`, '{}', {}, STRICT_POLICY);
      expect(r).toMatchObject({ ok: false, permanent: true });
      expect(!r.ok && r.error).toMatch(new RegExp(`^refused: ${name} resolves to .*, a .* address$`));
    }
    expect(hook.received.length).toBe(sent);
    // The ranges themselves, both families.
    for (const a of ['127.0.0.1', '10.0.0.1', '172.31.255.255', '192.168.0.1', '169.254.169.254', '0.0.0.0', '100.64.0.1', '::1', '::', 'fc00::1', 'fdff::1', 'fe80::1', '::ffff:10.0.0.1', '64:ff9b::a9fe:a9fe']) {
      expect(blockedReason(a), a).not.toBeNull();
    }
    for (const a of ['8.8.8.8', '172.32.0.1', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8']) expect(blockedReason(a), a).toBeNull();
  });

  it('times out a receiver that never answers', async () => {
    hook.respond = () => undefined;
    const r = await postWebhook(`${hook.url}/slow`, '{}', {}, { ...DEV_POLICY, timeoutMs: 300 });
    expect(r).toMatchObject({ ok: false, status: null, error: 'timed out after 0.3 s', permanent: false });
  });
});

describe('email delivery', () => {
  it('mails each recipient (an address and a member) with the subject naming the count and severities', async () => {
    process.env.SMTP_URL = `smtp://127.0.0.1:${smtp.port}`;
    process.env.MAIL_FROM = 'AEGIS Alerts <alerts@aegis.test>';
    resetTransportForTests();
    try {
      const team = await createTeam(owner, 'Alerts mail');
      const r = await saveChannel(app.db, team.admin.id, {
        name: 'Buyers',
        kind: 'email',
        addresses: 'oncall@alerts.test',
        members: [team.buyer.id],
        severities: ['critical'],
        types: ALL_TYPES,
        mode: 'immediate',
      });
      expect(r.ok).toBe(true);
      const channelId = r.ok ? r.data!.channelId : '';
      await insertAnomaly(owner, team.tenantId, { severity: 'critical' });
      const s = await dispatchAlerts(app.db, team.tenantId, { now: new Date(Date.now() + 1000), policy: DEV_POLICY });
      expect(s).toMatchObject({ created: 1, sent: 1 });
      const to = smtp.received.flatMap((m) => m.envelopeTo).sort();
      expect(to).toEqual([team.buyer.email, 'oncall@alerts.test'].sort());
      for (const m of smtp.received) {
        expect(m.headers.get('subject')).toBe('[AEGIS] Alerts mail: 1 new anomaly (1 critical)');
        expect(m.text).toMatch(/^AEGIS: 1 new anomaly in Alerts mail \(1 critical\)\./);
        expect(m.text).toContain('CRITICAL · Meta campaign');
      }
      const [d] = await deliveries(owner, team.tenantId, channelId);
      expect(d).toMatchObject({ status: 'sent', attempts: 1 });
    } finally {
      delete process.env.SMTP_URL;
      delete process.env.MAIL_FROM;
      resetTransportForTests();
    }
  });
});

describe('daily digest', () => {
  it('groups the anomalies into one message per channel and local day, at the hour of the tenant time zone', async () => {
    const team = await createTeam(owner, 'Alerts digest');
    await inTenant(owner, team.tenantId, (c) => c.query(`update saas.tenants set timezone = 'Asia/Tokyo' where id = $1`, [team.tenantId]));
    const ch = await webhookChannel(team, { mode: 'digest', digestHour: '8', severities: ['low', 'medium', 'high', 'critical'] });
    const ids = [
      await insertAnomaly(owner, team.tenantId, { severity: 'low' }),
      await insertAnomaly(owner, team.tenantId, { severity: 'critical', money: 900 }),
      await insertAnomaly(owner, team.tenantId, { severity: 'medium' }),
    ];
    // Tomorrow (UTC) 22:00 is 07:00 the day after in Tokyo (UTC+9, no summer time); 23:30 is 08:30.
    const d = new Date();
    const base = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
    const localDay = new Date(base + 86_400_000).toISOString().slice(0, 10);
    const before = new Date(base + 22 * 60 * MIN);
    const after = new Date(base + 23.5 * 60 * MIN);

    expect(await dispatchAlerts(app.db, team.tenantId, { now: before, policy: DEV_POLICY })).toMatchObject({ queued: 3, created: 0, attempted: 0 });
    expect(hook.received).toHaveLength(0);

    expect(await dispatchAlerts(app.db, team.tenantId, { now: after, policy: DEV_POLICY })).toMatchObject({ created: 1, sent: 1 });
    expect(hook.received).toHaveLength(1);
    const body = JSON.parse(hook.received[0]!.raw);
    expect(body).toMatchObject({ type: 'aegis.digest', digest_day: localDay, anomaly_count: 3 });
    // The most severe first.
    expect(body.anomalies.map((a: { id: string }) => a.id)).toEqual([ids[1], ids[2], ids[0]]);
    expect(body.text).toMatch(new RegExp(`^AEGIS daily digest for Alerts digest, ${localDay}: 3 anomalies \\(1 critical, 1 medium, 1 low\\)\\.`));

    // The same day again, even with a new anomaly: no second digest (it waits for tomorrow's).
    await insertAnomaly(owner, team.tenantId, { severity: 'high' });
    expect(await dispatchAlerts(app.db, team.tenantId, { now: new Date(after.getTime() + 60 * MIN), policy: DEV_POLICY })).toMatchObject({ created: 0, attempted: 0 });
    const next = await dispatchAlerts(app.db, team.tenantId, { now: new Date(after.getTime() + 24 * 60 * MIN), policy: DEV_POLICY });
    expect(next).toMatchObject({ created: 1, sent: 1 });
    expect(JSON.parse(hook.received[1]!.raw)).toMatchObject({ anomaly_count: 1 });
    const rows = await deliveries(owner, team.tenantId, ch.id);
    expect(rows.map((r) => [r.kind, r.digest_day, r.anomaly_count])).toEqual([
      ['digest', localDay, 3],
      ['digest', new Date(base + 2 * 86_400_000).toISOString().slice(0, 10), 1],
    ]);
  });
});
