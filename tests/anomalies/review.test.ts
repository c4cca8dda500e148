// Hostile review of the anomaly board / workflow and of anomaly alerts.
// Tests marked `Fixed after review` demonstrated a defect of the code as first reviewed;
// the others prove a defence holds. Every tenant is fresh (createTeam), so
// the suites do not see each other's rows.
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { moveAnomaliesHandler, type MoveResult } from '../../lib/anomalies/mutations';
import { criticalActiveCount, feedbackFigures, feedbackKey, readBoard, readHistory } from '../../lib/anomalies/queries';
import { boardFilterSchema, moveSchema } from '../../lib/anomalies/schema';
import { dispatchAlerts } from '../../lib/alerts/dispatch';
import { buildMessage, sampleAnomaly } from '../../lib/alerts/message';
import { sendTestHandler, setChannelEnabledHandler } from '../../lib/alerts/mutations';
import { maskWebhookUrl, webhookUrlProblem } from '../../lib/alerts/policy';
import { channelEnabledSchema, channelIdSchema } from '../../lib/alerts/schema';
import { claimDue, recordAttempt } from '../../lib/alerts/store';
import { postWebhook } from '../../lib/alerts/webhook';
import { withTenant } from '../../lib/db/pool';
import { runTenantAction, type ActionHandler } from '../../lib/request/action-core';
import { appKysely, rolledBackAsApp } from '../helpers/app-db';
import { inTenant, ownerPool } from '../helpers/db';
import { count, createTeam } from '../auth/fixtures';
import type { Team } from '../helpers/factories';
import { anomalyState, DAY, events, insertAnomaly } from './fixtures';
import {
  ALL_TYPES,
  DEV_POLICY,
  STRICT_POLICY,
  allowPrivateUrls,
  deliveries,
  insertAnomaly as insertAlertAnomaly,
  saveChannel,
  startReceiver,
  type Receiver,
} from './alerts-fixtures';

const app = appKysely(6);
const owner = ownerPool();
let hook: Receiver;
const savedSmtp = process.env.SMTP_URL;

beforeAll(async () => {
  hook = await startReceiver();
  allowPrivateUrls(true);
  delete process.env.SMTP_URL; // mail is kept in the outbox: countable, nothing leaves
});
afterAll(async () => {
  allowPrivateUrls(false);
  if (savedSmtp !== undefined) process.env.SMTP_URL = savedSmtp;
  await hook.close();
});
beforeEach(() => {
  hook.received.length = 0;
  hook.respond = (_r, res) => {
    res.writeHead(200);
    res.end('ok');
  };
});

type Handler = ActionHandler<typeof moveSchema, MoveResult>;
const move = (userId: string, input: unknown) =>
  runTenantAction({ schema: moveSchema, minRole: 'buyer', handler: moveAnomaliesHandler as Handler, userId, preferredTenantId: null, input, db: app.db });
const byId = <T>(handler: unknown, schema: typeof channelIdSchema | typeof channelEnabledSchema, userId: string, input: unknown) =>
  runTenantAction({ schema, minRole: 'admin', handler: handler as ActionHandler<typeof schema, T>, userId, preferredTenantId: null, input, db: app.db });

const MIN = 60_000;
const at = (base: Date, ms: number) => new Date(base.getTime() + ms);

async function webhookChannel(team: Team, extra: Record<string, unknown> = {}) {
  const r = await saveChannel(app.db, team.admin.id, {
    name: 'Ops webhook',
    kind: 'webhook',
    url: `${hook.url}/hook`,
    severities: ['low', 'medium', 'high', 'critical'],
    types: ALL_TYPES,
    mode: 'immediate',
    ...extra,
  });
  if (!r.ok || !r.data) throw new Error(`channel not created: ${JSON.stringify(r)}`);
  return r.data.channelId;
}

/** n anomalies in one statement (owner, committed). */
async function bulkAnomalies(tenant: string, n: number, o: { level: string; metric: string; type: string; severity: string; prefix: string }) {
  await inTenant(owner, tenant, (c) =>
    c.query(
      `insert into ads.anomalies (tenant_id, platform, level, entity_id, entity_name, campaign_id, day, metric_name, anomaly_type,
                                  baseline_value, actual_value, money_at_stake, severity, status, details)
       select $1, 'meta', $2::ads.entity_level, $3 || g, 'Entity ' || g, 'c1', $4::date, $5, $6, 10, 2, 50, $7::ads.severity_level, 'active', '{}'::jsonb
       from generate_series(1, $8::int) g`,
      [tenant, o.level, o.prefix, DAY, o.metric, o.type, o.severity, n],
    ),
  );
}

// ===========================================================================
// Workflow
// ===========================================================================
describe('workflow: hostile input', () => {
  // Fixed after review: a NUL byte in the note passes zod and is an unexpected database error (a 500), not a field error.
  it('a note with a NUL byte is refused naming the Note field (not a server error)', async () => {
    const t = await createTeam(owner, 'Review NUL');
    const id = await insertAnomaly(owner, t.tenantId, { entity: 'c1' });
    await expect(move(t.buyer.id, { ids: id, move: 'acknowledge', expected: 'active', note: 'pixel\u0000fixed' })).resolves.toMatchObject({
      ok: false,
      fieldErrors: { note: [expect.stringMatching(/^Note: /)] },
    });
    expect((await anomalyState(owner, t.tenantId, id))!.status).toBe('active');
  });

  // Fixed after review: a lone UTF-16 surrogate in the note passes zod; the audit row's JSON ("\ud83d") is refused by jsonb: a 500.
  it('a note with a lone surrogate is refused naming the Note field (not a server error)', async () => {
    const t = await createTeam(owner, 'Review surrogate');
    const id = await insertAnomaly(owner, t.tenantId, { entity: 'c1' });
    await expect(move(t.buyer.id, { ids: id, move: 'dismiss', expected: 'active', note: 'promo \ud83d day' })).resolves.toMatchObject({
      ok: false,
      fieldErrors: { note: [expect.stringMatching(/^Note: /)] },
    });
  });

  it('defence: snooze lengths other than the four are refused; a mix with another tenant\'s id moves nothing on either side', async () => {
    const t = await createTeam(owner, 'Review snooze');
    const other = await createTeam(owner, 'Review other');
    const mine = await insertAnomaly(owner, t.tenantId, { entity: 'c1', severity: 'critical' });
    const theirs = await insertAnomaly(owner, other.tenantId, { entity: 'c1', severity: 'critical' });
    for (const snooze of ['10y', '-1h', '0', "1 hour'; drop table x; --", '']) {
      const r = await move(t.buyer.id, { ids: mine, move: 'snooze', expected: 'active', snooze });
      expect(r).toMatchObject({ ok: false, fieldErrors: { snooze: [expect.stringMatching(/^Snooze: /)] } });
    }
    const r = await move(t.buyer.id, { ids: [mine, theirs], move: 'dismiss', expected: 'active', incident: 'meta|campaign|2025-03-31' });
    expect(r).toMatchObject({ ok: false, message: 'Nothing was moved: 1 of 2 were not found in this tenant.' });
    expect((await anomalyState(owner, t.tenantId, mine))!.status).toBe('active');
    // the other side: the row exists for its owner and is untouched
    expect((await anomalyState(owner, other.tenantId, theirs))!.status).toBe('active');
    expect(await events(owner, other.tenantId, theirs)).toEqual([]);
    // the banner of each tenant counts its own critical anomaly only
    expect(await rolledBackAsApp(app.db, t.tenantId, (trx) => criticalActiveCount(trx, t.tenantId))).toBe(1);
    expect(await rolledBackAsApp(app.db, other.tenantId, (trx) => criticalActiveCount(trx, other.tenantId))).toBe(1);
  });

  // Fixed after review: the incident key is taken from the client as is: any set of ids (two platforms here) is recorded in the
  // history as one incident of a platform none of them is on. docs/anomalies.md: "Its history rows carry the incident's key".
  it('refuses an incident label that does not match its members (platform, level, day)', async () => {
    const t = await createTeam(owner, 'Review forged incident');
    const a = await insertAnomaly(owner, t.tenantId, { entity: 'c1', platform: 'meta' });
    const b = await insertAnomaly(owner, t.tenantId, { entity: 'c2', platform: 'google', day: '2025-03-01' });
    const r = await move(t.buyer.id, { ids: [a, b], move: 'acknowledge', expected: 'active', incident: 'tiktok|campaign|2020-01-01' });
    expect(r.ok).toBe(false);
    const history = await rolledBackAsApp(app.db, t.tenantId, (trx) => readHistory(trx, t.tenantId, a));
    expect(history.map((h) => h.incident)).not.toContain('tiktok|campaign|2020-01-01');
  });

  it('defence: two incident moves over the same members in opposite orders: one wins, the other is refused, no deadlock', async () => {
    const t = await createTeam(owner, 'Review lock order');
    for (let round = 0; round < 5; round++) {
      const ids = [
        await insertAnomaly(owner, t.tenantId, { entity: `r${round}a`, metric: 'conversions', type: 'drop' }),
        await insertAnomaly(owner, t.tenantId, { entity: `r${round}b`, metric: 'conversions', type: 'drop' }),
        await insertAnomaly(owner, t.tenantId, { entity: `r${round}c`, metric: 'conversions', type: 'drop' }),
      ];
      const results = await Promise.allSettled([
        move(t.buyer.id, { ids, move: 'acknowledge', expected: 'active' }),
        move(t.admin.id, { ids: [...ids].reverse(), move: 'dismiss', expected: 'active' }),
      ]);
      expect(results.map((x) => x.status)).toEqual(['fulfilled', 'fulfilled']);
      const oks = results.map((x) => (x.status === 'fulfilled' ? x.value.ok : null));
      expect(oks.filter(Boolean)).toHaveLength(1);
      const statuses = new Set(await Promise.all(ids.map(async (id) => (await anomalyState(owner, t.tenantId, id))!.status)));
      expect(statuses.size).toBe(1); // all or nothing
    }
  });
});

describe('workflow: the board under load', () => {
  // Fixed after review: a column reads its first 1,000 rows (most severe first) and the filters are applied afterwards in JS:
  // with 1,000 critical anomalies, ?severity=low counts 1 but shows no card, and says nothing is hidden.
  it('?severity=low shows the low anomaly a tenant with 1,000 critical ones has', async () => {
    const t = await createTeam(owner, 'Review 1000');
    await bulkAnomalies(t.tenantId, 1000, { level: 'campaign', metric: 'cpa', type: 'trend_change', severity: 'critical', prefix: 'crit-' });
    const low = await insertAnomaly(owner, t.tenantId, { entity: 'the-low-one', type: 'trend_change', severity: 'low' });
    const board = await rolledBackAsApp(app.db, t.tenantId, (trx) => readBoard(trx, t.tenantId, boardFilterSchema.parse({ severity: 'low' })));
    const active = board.columns.find((c) => c.status === 'active')!;
    expect(active.count).toBe(1);
    const shown = active.cards.flatMap((c) => (c.kind === 'single' ? [c.anomaly.id] : c.members.map((m) => m.id)));
    expect(shown).toEqual([low]);
  });

  // Fixed after review: the board groups any number of members into one incident card ("Move all 201…"), but a move takes at most
  // MOVE_MAX = 200 ids: the card the board offers cannot be moved at all.
  it('an incident card of 201 ad sets the board shows can be moved', async () => {
    const t = await createTeam(owner, 'Review 201');
    await bulkAnomalies(t.tenantId, 201, { level: 'adset', metric: 'conversions', type: 'tracking_loss', severity: 'high', prefix: 'as-' });
    const board = await rolledBackAsApp(app.db, t.tenantId, (trx) => readBoard(trx, t.tenantId, boardFilterSchema.parse({})));
    const card = board.columns.find((c) => c.status === 'active')!.cards[0]!;
    expect(card.kind).toBe('incident');
    const ids = card.kind === 'incident' ? card.members.map((m) => m.id) : [];
    expect(ids).toHaveLength(201);
    const r = await move(t.buyer.id, { ids, move: 'acknowledge', expected: 'active', incident: `meta|adset|${DAY}` });
    expect(r).toMatchObject({ ok: true });
  });
});

describe('workflow: snoozes, banner, feedback', () => {
  // Fixed after review: the engine's restatement closes an anomaly (status resolved, resolved_by NULL) without ending its snooze
  // (only the board's acknowledge/resolve/dismiss delete the row); reopened within the week, the critical card is
  // "active" yet hidden from Active and from the critical banner until the old snooze runs out.
  it('a critical anomaly reopened after the engine resolved it while snoozed is counted by the banner', async () => {
    const t = await createTeam(owner, 'Review restated snooze');
    const id = await insertAnomaly(owner, t.tenantId, { entity: 'c1', severity: 'critical' });
    expect((await move(t.buyer.id, { ids: id, move: 'snooze', expected: 'active', snooze: '1w' })).ok).toBe(true);
    // what ads_engine.rescore_restated does when the figures reloaded say it is no longer unusual
    await inTenant(owner, t.tenantId, (c) =>
      c.query(`update ads.anomalies set status = 'resolved', resolved_at = now(), resolved_by = null, resolution_note = 'Restated: no longer unusual.'
               where tenant_id = $1 and id = $2`, [t.tenantId, id]),
    );
    expect((await move(t.buyer.id, { ids: id, move: 'reopen', expected: 'resolved' })).ok).toBe(true);
    expect((await anomalyState(owner, t.tenantId, id))!.status).toBe('active');
    expect(await rolledBackAsApp(app.db, t.tenantId, (trx) => criticalActiveCount(trx, t.tenantId))).toBe(1);
  });

  // Fixed after review (was defence in depth, low): the app role may INSERT/UPDATE/DELETE ads_engine.anomaly_verdicts freely (no FK to an
  // anomaly, no check of decided_by) and INSERT anomaly_events with any actor: one SQL injection or a careless
  // query anywhere in the app rewrites the feedback figures ("50 of 51 dismissed") and the history ("resolved by …").
  it('the app role cannot forge verdicts for anomalies that do not exist, nor history rows in another person\'s name', async () => {
    const t = await createTeam(owner, 'Review forged feedback');
    const id = await insertAnomaly(owner, t.tenantId, { entity: 'c1', metric: 'cpc', type: 'spike' });
    const outcome = await rolledBackAsApp(app.db, t.tenantId, async (trx) => {
      const errors: string[] = [];
      try {
        await sql`insert into ads_engine.anomaly_verdicts (tenant_id, anomaly_id, platform, metric_name, anomaly_type, day, verdict)
                  select ${t.tenantId}::uuid, gen_random_uuid(), 'meta', 'cpc', 'spike', ads_engine.tenant_yesterday(${t.tenantId}::uuid), 'not_anomaly'
                  from generate_series(1, 50)`.execute(trx);
        await sql`insert into ads_engine.anomaly_events (tenant_id, anomaly_id, action, from_status, to_status, note, actor_user_id, actor_label)
                  values (${t.tenantId}::uuid, ${id}::uuid, 'resolve', 'active', 'resolved', 'signed off', ${t.admin.id}::uuid, 'the admin')`.execute(trx);
      } catch (e) {
        errors.push(String(e));
        return { errors, feedback: null, history: [] as string[] };
      }
      const f = await feedbackFigures(trx, t.tenantId);
      const h = await readHistory(trx, t.tenantId, id);
      return { errors, feedback: f.get(feedbackKey('meta', 'cpc', 'spike')) ?? null, history: h.map((x) => `${x.move} by ${x.who}`) };
    });
    // what it shows when the writes go through: "CPC spikes on Meta: 50 of 51 dismissed", and a resolve by the admin
    expect(outcome.history).toEqual([]);
    expect(outcome.feedback?.dismissed ?? 0).toBe(0);
    expect(outcome.errors.join(' ')).toMatch(/permission denied|violates/);
  });

  it('defence: the maintenance deletes a resolved anomaly with its history after 30 days but the verdict stays counted', async () => {
    const t = await createTeam(owner, 'Review maintenance');
    const old = await insertAnomaly(owner, t.tenantId, { entity: 'c1', metric: 'cpc', type: 'spike', day: undefined });
    expect((await move(t.buyer.id, { ids: old, move: 'resolve', expected: 'active', note: 'bid cap fixed' })).ok).toBe(true);
    const dismissed = await insertAnomaly(owner, t.tenantId, { entity: 'c2', metric: 'cpc', type: 'spike' });
    expect((await move(t.buyer.id, { ids: dismissed, move: 'dismiss', expected: 'active' })).ok).toBe(true);
    await inTenant(owner, t.tenantId, (c) => c.query(`update ads.anomalies set resolved_at = now() - interval '31 days' where tenant_id = $1 and id = $2`, [t.tenantId, old]));
    await inTenant(owner, t.tenantId, (c) => c.query('select ads_engine.run_maintenance($1)', [t.tenantId]));
    expect(await anomalyState(owner, t.tenantId, old)).toBeNull();
    expect(await events(owner, t.tenantId, old)).toEqual([]);
    expect((await anomalyState(owner, t.tenantId, dismissed))!.status).toBe('dismissed');
    expect(await events(owner, t.tenantId, dismissed)).toHaveLength(1);
    expect(await count(owner, 'select 1 from ads_engine.anomaly_verdicts where tenant_id = $1', [t.tenantId])).toBe(2);
  });
});

// ===========================================================================
// Alerts
// ===========================================================================
describe('alerts: webhook safety', () => {
  it('defence: every internal form of an address is refused by the form and again at sending', async () => {
    const internal = [
      'https://2130706433/',
      'https://0x7f000001/',
      'https://0177.0.0.1/',
      'https://127.1/',
      'https://[::ffff:127.0.0.1]/',
      'https://[::ffff:7f00:1]/',
      'https://[::]/',
      'https://[::1]/',
      'https://0.0.0.0/',
      'https://0/',
      'https://100.64.0.1/',
      'https://100.127.255.254/',
      'https://169.254.169.254/latest/meta-data/',
      'https://[::ffff:169.254.169.254]/',
      'https://[64:ff9b::a9fe:a9fe]/',
      'https://[2002:a9fe:a9fe::1]/',
      'https://[fd00::1]/',
      'https://[fe80::1]/',
      'https://10.0.0.1/',
      'https://192.168.1.1/',
      'https://172.31.255.255/',
      'https://localhost/',
      'https://localhost./',
      'https://LocalHost./',
      'https://api.localhost/',
      'https://metadata.google.internal./',
      'https://printer.local/',
      'https://user:pw@example.com/',
      'https://user@example.com/',
      'http://example.com/',
      `https://example.com/${'a'.repeat(2100)}`,
      'https://exa mple.com/',
      'https://example.com/\r\nX-Injected: 1',
    ];
    for (const url of internal) expect(webhookUrlProblem(url, false), url).not.toBeNull();
    // at sending, whatever got stored: refused before any connection, for good
    for (const url of internal.slice(0, 20)) {
      const r = await postWebhook(url, '{}', {}, STRICT_POLICY);
      expect(r, url).toMatchObject({ ok: false, status: null, permanent: true });
    }
    expect(webhookUrlProblem('https://hooks.slack.com/services/T0/B0/xyz', false)).toBeNull();
  });

  // Fixed after review (was low): any port is accepted, so a tenant can make the server POST to a public host's SMTP, SSH or
  // database port (cross-protocol requests, port probing through the delivery log's error text).
  it('refuses webhook ports other than the usual https ones', () => {
    expect(webhookUrlProblem('https://mail.example.com:25/', false)).not.toBeNull();
    expect(webhookUrlProblem('https://db.example.com:5432/', false)).not.toBeNull();
  });

  // Fixed after review (was low): the mask keeps the whole origin; for receivers whose host name is the credential
  // (https://<token>.m.pipedream.net, https://<id>.ngrok.app, Zapier-style subdomains) viewers and the audit log see it.
  it('does not show a credential that sits in the host name', () => {
    const token = 'eo9x4k2m7q1w8z3';
    expect(maskWebhookUrl(`https://${token}.m.pipedream.net/`)).not.toContain(token);
  });

  it('defence: a receiver that streams an endless 500 body is cut at 4 KB at once; one that never answers times out', async () => {
    let timer: NodeJS.Timeout | undefined;
    hook.respond = (_r, res: http.ServerResponse) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      timer = setInterval(() => res.write('A'.repeat(1024)), 5);
      res.on('close', () => clearInterval(timer));
    };
    const started = Date.now();
    const r = await postWebhook(`${hook.url}/endless`, '{}', {}, { ...DEV_POLICY, timeoutMs: 3000 });
    clearInterval(timer);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(r).toMatchObject({ ok: false, status: 500, permanent: false });
    if (!r.ok) expect(r.error.length).toBeLessThanOrEqual(300);

    hook.respond = () => undefined;
    const slow = await postWebhook(`${hook.url}/never`, '{}', {}, { ...DEV_POLICY, timeoutMs: 400 });
    expect(slow).toMatchObject({ ok: false, status: null, error: 'timed out after 0.4 s' });
  });
});

describe('alerts: a malicious receiver and odd names', () => {
  // Fixed after review: the error snippet is `text.slice(0, 200)`, which can split a surrogate pair; the attempt's history entry
  // (JSON.stringify -> "\ud83d") is then refused by jsonb, recordAttempt throws, the whole dispatch of the tenant
  // throws (deliveries after it are not sent), and the delivery stays claimed: re-sent every 10 minutes, for ever,
  // never counted as an attempt. Any receiver can trigger it with a 500 whose body is emoji.
  it('a 500 whose body is emoji is recorded as a failed attempt', async () => {
    const team = await createTeam(owner, 'Review emoji receiver');
    const ch = await webhookChannel(team);
    await insertAlertAnomaly(owner, team.tenantId, { severity: 'critical' });
    hook.respond = (_r, res) => {
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('x' + '😀'.repeat(300));
    };
    const now = new Date(Date.now() + 1000);
    await expect(dispatchAlerts(app.db, team.tenantId, { now, policy: DEV_POLICY })).resolves.toMatchObject({ attempted: 1, failed: 1 });
    expect((await deliveries(owner, team.tenantId, ch))[0]).toMatchObject({ status: 'failed', attempts: 1, response_code: 500 });
  });

  // Fixed after review: same cause, the consequence: every request the receiver gets is one the log does not count (attempts stay 0,
  // status queued), and each dispatch after the 10-minute claim sends it again: no backoff, no max_attempts, no give-up.
  it('every request an emoji-answering receiver got is counted as an attempt (no endless re-sends)', async () => {
    const team = await createTeam(owner, 'Review emoji loop');
    const ch = await webhookChannel(team);
    await insertAlertAnomaly(owner, team.tenantId, { severity: 'critical' });
    hook.respond = (_r, res) => {
      res.writeHead(500);
      res.end('x' + '😀'.repeat(300));
    };
    const t0 = new Date(Date.now() + 1000);
    for (const m of [0, 11, 22, 33, 44, 55]) await dispatchAlerts(app.db, team.tenantId, { now: at(t0, m * MIN), policy: DEV_POLICY }).catch(() => undefined);
    const [d] = await deliveries(owner, team.tenantId, ch);
    expect(hook.received.length).toBeGreaterThan(0);
    expect(d!.attempts).toBe(hook.received.length);
  });

  // Fixed after review: the subject is cut with `.slice(0, 200)`: a tenant name of emoji (100 characters, within saas.tenants'
  // limit of 200) leaves a lone surrogate, the payload's JSON is refused by jsonb, and every dispatch of the
  // tenant throws in plan(): no alert of that tenant ever goes out (nor Send test).
  it('a tenant named with emoji still gets its alerts', async () => {
    const name = 'x' + '🔥'.repeat(99);
    const team = await createTeam(owner, name);
    const ch = await webhookChannel(team);
    await insertAlertAnomaly(owner, team.tenantId, { severity: 'critical' });
    await expect(dispatchAlerts(app.db, team.tenantId, { now: new Date(Date.now() + 1000), policy: DEV_POLICY })).resolves.toMatchObject({ created: 1, sent: 1 });
    expect(await deliveries(owner, team.tenantId, ch)).toHaveLength(1);
    const msg = buildMessage(
      { deliveryId: randomUUID(), kind: 'test', tenant: { id: randomUUID(), name, currency: 'EUR' }, channel: { id: randomUUID(), name: 'c' }, digestDay: null, generatedAt: new Date(), boardUrl: null },
      [sampleAnomaly(new Date())],
    );
    expect(msg.subject.isWellFormed()).toBe(true);

  });

  it('defence: a channel name cannot carry a line break or control character into a header or the Slack text', async () => {
    const team = await createTeam(owner, 'Review names');
    for (const name of ['ops\r\nX-Evil: 1', 'ops\u0000', 'ops\u001b[31m']) {
      const r = await saveChannel(app.db, team.admin.id, { name, kind: 'webhook', url: `${hook.url}/h`, severities: ['critical'], types: ALL_TYPES, mode: 'immediate' });
      expect(r).toMatchObject({ ok: false, fieldErrors: { name: [expect.stringMatching(/^Name: /)] } });
    }
    expect(await count(owner, 'select 1 from ads_engine.alert_channels where tenant_id = $1', [team.tenantId])).toBe(0);
  });
});

describe('alerts: disabled channels, retries, concurrency', () => {
  // Fixed after review: docs/alerts.md: "A channel can be disabled: nothing is sent to it". Send test does not look at `enabled`.
  it('Send test does not post to a disabled channel', async () => {
    const team = await createTeam(owner, 'Review disabled test');
    const ch = await webhookChannel(team);
    expect((await byId(setChannelEnabledHandler, channelEnabledSchema, team.admin.id, { id: ch, enabled: 'false' })).ok).toBe(true);
    await byId(sendTestHandler, channelIdSchema, team.admin.id, { id: ch });
    expect(hook.received).toHaveLength(0);
  });

  // Fixed after review: disabling gives up the waiting deliveries, but one a dispatcher holds (claimed, on the wire) is then
  // recorded by recordAttempt without looking at its status: gave_up becomes failed with a next attempt, and
  // once the channel is enabled again the old message (made before the new alerts_from) is sent.
  it('a delivery given up by disabling stays given up, even if its in-flight attempt fails afterwards', async () => {
    const team = await createTeam(owner, 'Review resurrected');
    const ch = await webhookChannel(team);
    await insertAlertAnomaly(owner, team.tenantId, { severity: 'critical' });
    const now = new Date(Date.now() + 1000);
    // make the message, then hold it as a dispatcher does while it sends
    expect(await dispatchAlerts(app.db, team.tenantId, { now, policy: DEV_POLICY, maxDeliveries: 0 })).toMatchObject({ created: 1, attempted: 0 });
    const [held] = await withTenant(team.tenantId, (trx) => claimDue(trx, team.tenantId, now, 10), {}, app.db);
    expect(held).toBeTruthy();
    // the admin disables the channel meanwhile
    expect((await byId(setChannelEnabledHandler, channelEnabledSchema, team.admin.id, { id: ch, enabled: 'false' })).ok).toBe(true);
    expect((await deliveries(owner, team.tenantId, ch))[0]!.status).toBe('gave_up');
    // the in-flight attempt comes back with a 503
    await withTenant(team.tenantId, (trx) => recordAttempt(trx, team.tenantId, held!, { ok: false, code: 503, error: 'HTTP 503', permanent: false }, now), {}, app.db);
    expect((await byId(setChannelEnabledHandler, channelEnabledSchema, team.admin.id, { id: ch, enabled: 'true' })).ok).toBe(true);
    await dispatchAlerts(app.db, team.tenantId, { now: at(now, 2 * MIN), policy: DEV_POLICY });
    expect(hook.received).toHaveLength(0);
    expect((await deliveries(owner, team.tenantId, ch))[0]!.status).toBe('gave_up');
  });

  // Fixed after review (was low): the digest takes what was queued when the anomaly was open; an anomaly a buyer dismissed as
  // "not an anomaly" before the digest hour still goes out in it, listed with status "dismissed".
  it('a daily digest leaves out anomalies closed before it went out', async () => {
    const team = await createTeam(owner, 'Review digest dismissed');
    const ch = await webhookChannel(team, { mode: 'digest', digestHour: '8' });
    const id = await insertAlertAnomaly(owner, team.tenantId, { severity: 'critical' });
    const d = new Date();
    const base = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
    expect(await dispatchAlerts(app.db, team.tenantId, { now: new Date(base + 7 * 60 * MIN), policy: DEV_POLICY })).toMatchObject({ queued: 1, created: 0 });
    expect((await move(team.buyer.id, { ids: id, move: 'dismiss', expected: 'active', note: 'promo day' })).ok).toBe(true);
    await dispatchAlerts(app.db, team.tenantId, { now: new Date(base + 8.5 * 60 * MIN), policy: DEV_POLICY });
    const sentIds = hook.received.flatMap((r) => (JSON.parse(r.raw) as { anomalies: { id: string }[] }).anomalies.map((a) => a.id));
    expect(sentIds).not.toContain(id);
    expect(await deliveries(owner, team.tenantId, ch)).toHaveLength(0);
  });

  // Fixed after review (was medium, abuse): email recipients are typed addresses nobody confirmed, and Send test has no limit: an admin
  // of any (self-service) tenant makes the service mail 20 strangers per click, from the product's own domain.
  it('Send test to an email list is rate-limited', async () => {
    const team = await createTeam(owner, 'Review mail flood');
    const r = await saveChannel(app.db, team.admin.id, {
      name: 'Strangers',
      kind: 'email',
      addresses: 'victim1@example.com, victim2@example.com, victim3@example.com',
      severities: ['critical'],
      types: ALL_TYPES,
      mode: 'immediate',
    });
    const ch = r.ok ? r.data!.channelId : '';
    const results = [];
    for (let i = 0; i < 12; i++) results.push(await byId(sendTestHandler, channelIdSchema, team.admin.id, { id: ch }));
    const mails = await inTenant(owner, team.tenantId, async (c) =>
      Number((await c.query(`select count(*) as n from saas.mail_outbox where tenant_id = $1 and kind = 'alert'`, [team.tenantId])).rows[0].n),
    );
    expect(results.some((x) => !x.ok)).toBe(true);
    expect(mails).toBeLessThan(36);
  });

  it('defence: three dispatchers at once send each of several anomalies once', async () => {
    const team = await createTeam(owner, 'Review three dispatchers');
    await webhookChannel(team);
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push(await insertAlertAnomaly(owner, team.tenantId, { severity: 'high' }));
    const now = new Date(Date.now() + 1000);
    await Promise.all([0, 1, 2].map(() => dispatchAlerts(app.db, team.tenantId, { now, policy: DEV_POLICY })));
    await dispatchAlerts(app.db, team.tenantId, { now: at(now, 5 * MIN), policy: DEV_POLICY });
    const sent = hook.received.flatMap((r) => (JSON.parse(r.raw) as { anomalies: { id: string }[] }).anomalies.map((a) => a.id));
    expect(sent.sort()).toEqual([...ids].sort());
  });

  it('defence: a digest at 02:00 New York goes once on the spring-forward day (02:00 does not exist) and once on the fall-back day (01:00 twice)', async () => {
    const team = await createTeam(owner, 'Review DST');
    await inTenant(owner, team.tenantId, (c) => c.query(`update saas.tenants set timezone = 'America/New_York' where id = $1`, [team.tenantId]));
    const ch = await webhookChannel(team, { mode: 'digest', digestHour: '1' });
    await insertAlertAnomaly(owner, team.tenantId, { severity: 'high' });
    // 2025-11-02: 05:30Z is 01:30 EDT, 06:30Z is 01:30 EST (the hour again)
    expect(await dispatchAlerts(app.db, team.tenantId, { now: new Date('2025-11-02T04:30:00Z'), policy: DEV_POLICY })).toMatchObject({ created: 0 });
    expect(await dispatchAlerts(app.db, team.tenantId, { now: new Date('2025-11-02T05:30:00Z'), policy: DEV_POLICY })).toMatchObject({ created: 1, sent: 1 });
    await insertAlertAnomaly(owner, team.tenantId, { severity: 'high' });
    expect(await dispatchAlerts(app.db, team.tenantId, { now: new Date('2025-11-02T06:30:00Z'), policy: DEV_POLICY })).toMatchObject({ created: 0 });
    // 2026-03-08 (spring forward at 07:00Z, 02:00 -> 03:00 EDT): 06:30Z is 00:30... hour 1 at 06:xxZ, then 07:30Z is 03:30
    const ch2 = await webhookChannel(team, { name: 'two', mode: 'digest', digestHour: '2' });
    await insertAlertAnomaly(owner, team.tenantId, { severity: 'high' });
    expect(await dispatchAlerts(app.db, team.tenantId, { now: new Date('2026-03-08T06:30:00Z'), policy: DEV_POLICY })).toMatchObject({ created: 1 }); // channel 1's digest of the 8th (hour 1)
    expect((await deliveries(owner, team.tenantId, ch2)).length).toBe(0);
    await dispatchAlerts(app.db, team.tenantId, { now: new Date('2026-03-08T07:30:00Z'), policy: DEV_POLICY });
    await dispatchAlerts(app.db, team.tenantId, { now: new Date('2026-03-08T08:30:00Z'), policy: DEV_POLICY });
    expect((await deliveries(owner, team.tenantId, ch2)).map((d) => d.digest_day)).toEqual(['2026-03-08']);
    expect((await deliveries(owner, team.tenantId, ch)).map((d) => d.digest_day)).toEqual(['2025-11-02', '2026-03-08']);
  });
});
