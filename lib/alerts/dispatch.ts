// dispatchAlerts(db, tenantId): what the job runner calls after each tenant's
// loop run and on its schedule (scripts/worker.ts, scripts/optimize.ts).
//   1. take the anomalies new for each enabled channel (the ledger, ./store.ts)
//   2. make one message per immediate channel with anything waiting, and one
//      digest per digest channel and local day once its hour has come
//   3. send every delivery due (new ones, and retries whose time has come),
//      each held by a claim while it goes, outside any transaction
//   4. record each attempt (sent / failed with its next attempt / gave up)
// Steps 1-2 are one transaction: a message and the anomalies it carries are
// written together or not at all. The clock is a parameter (opts.now) so that
// tests step through the backoff without waiting. Not server-only.
import { randomUUID } from 'node:crypto';
import { isUuid, withTenant, type Db, type Tx } from '../db/pool';
import { sendMail } from '../mail/send';
import { boardUrl, buildMessage, sampleAnomaly } from './message';
import { webhookPolicy, type WebhookPolicy } from './policy';
import { MAX_ATTEMPTS } from './schema';
import { ATTEMPT_HEADER, DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signBody } from './sign';
import {
  channelsToServe,
  claimDue,
  deliveryError,
  dropClosedPending,
  enqueueNewAnomalies,
  giveUpUnsent,
  insertDelivery,
  loadDelivery,
  lockPendingAnomalies,
  nextAttemptAt,
  recordAttempt,
  signingSecret,
  type AttemptResult,
  type DeliveryToSend,
  type Recorded,
} from './store';
import { cutText } from './text';
import { postWebhook } from './webhook';

export interface DispatchOptions {
  /** The clock (default: the real time). */
  now?: Date;
  /** The webhook safety rules (default: from the environment, ./policy.ts). */
  policy?: WebhookPolicy;
  /** Deliveries sent in one run at most (the rest go next run). */
  maxDeliveries?: number;
}

export interface DispatchSummary {
  tenantId: string;
  /** (channel, anomaly) pairs newly taken. */
  queued: number;
  /** Messages made (immediate and digests). */
  created: number;
  attempted: number;
  sent: number;
  failed: number;
  gaveUp: number;
  /** Deliveries whose send or record threw (logged; the claim runs out and they are tried again). */
  errors: number;
  /** When the next retry is due (the worker schedules a run then), or null. */
  nextAttemptAt: Date | null;
}

async function plan(trx: Tx, tenantId: string, now: Date): Promise<{ queued: number; created: number }> {
  const queued = await enqueueNewAnomalies(trx, tenantId, now);
  // Resolved or dismissed while waiting for a digest: not sent, dropped from the queue.
  await dropClosedPending(trx, tenantId);
  let created = 0;
  const board = boardUrl();
  for (const c of await channelsToServe(trx, tenantId, now)) {
    if (c.pending === 0) continue;
    const digest = c.mode === 'digest';
    if (digest && (c.digestDone || c.digestHour === null || c.localHour < c.digestHour)) continue;
    const anomalies = await lockPendingAnomalies(trx, tenantId, c.id);
    if (anomalies.length === 0) continue;
    const id = randomUUID();
    const message = buildMessage(
      {
        deliveryId: id,
        kind: digest ? 'digest' : 'immediate',
        tenant: { id: tenantId, name: c.tenantName, currency: c.currency },
        channel: { id: c.id, name: c.name },
        digestDay: digest ? c.localDay : null,
        generatedAt: now,
        boardUrl: board,
      },
      anomalies,
    );
    const made = await insertDelivery(
      trx,
      tenantId,
      {
        id,
        channelId: c.id,
        kind: digest ? 'digest' : 'immediate',
        digestDay: digest ? c.localDay : null,
        anomalyIds: anomalies.map((a) => a.id),
        payload: message,
        maxAttempts: MAX_ATTEMPTS,
        claimed: false,
      },
      now,
    );
    if (made) created++;
  }
  return { queued, created };
}

const describe = (err: unknown) => cutText(err instanceof Error && err.message ? err.message : String(err), 300, '…');

async function sendEmail(db: Db, tenantId: string, d: DeliveryToSend): Promise<AttemptResult> {
  const todo = d.recipients.filter((r) => !d.deliveredTo.includes(r));
  if (d.recipients.length === 0) return { ok: false, code: null, error: 'no recipient: the chosen members left the tenant and no address is set', permanent: true };
  const delivered: string[] = [];
  const errors: string[] = [];
  for (const to of todo) {
    const r = await sendMail({ tenantId, kind: 'alert', to, subject: d.payload.subject, text: d.payload.text }, db);
    if (r.ok && r.status !== 'failed') delivered.push(to);
    else errors.push(`${to}: ${r.ok ? r.error : r.message}`);
  }
  if (errors.length === 0) return { ok: true, code: null, error: null, permanent: false, deliveredTo: delivered };
  return { ok: false, code: null, error: `${errors.length} of ${todo.length} not delivered — ${errors.join('; ')}`, permanent: false, deliveredTo: delivered };
}

async function sendWebhook(d: DeliveryToSend, secret: string | null, policy: WebhookPolicy, now: Date): Promise<AttemptResult> {
  if (!d.webhookUrl) return { ok: false, code: null, error: 'the channel has no URL', permanent: true };
  if (!secret) return { ok: false, code: null, error: 'the channel has no signing secret: rotate it on the settings page', permanent: true };
  const raw = JSON.stringify(d.payload.body);
  const timestamp = Math.floor(now.getTime() / 1000);
  const outcome = await postWebhook(
    d.webhookUrl,
    raw,
    {
      'Content-Type': 'application/json; charset=utf-8',
      'User-Agent': 'AEGIS-Alerts/1.0',
      [DELIVERY_HEADER]: d.id,
      [ATTEMPT_HEADER]: String(d.attempts + 1),
      [TIMESTAMP_HEADER]: String(timestamp),
      [SIGNATURE_HEADER]: signBody(secret, timestamp, raw),
    },
    policy,
  );
  return outcome.ok
    ? { ok: true, code: outcome.status, error: null, permanent: false }
    : { ok: false, code: outcome.status, error: outcome.error, permanent: outcome.permanent };
}

/** Sends one delivery the caller holds (claimed), and records the attempt. */
async function sendOne(db: Db, tenantId: string, id: string, policy: WebhookPolicy, now: Date): Promise<Recorded | null> {
  const loaded = await withTenant(tenantId, async (trx) => {
    const d = await loadDelivery(trx, tenantId, id);
    // The secret is read just before sending and lives in this function only.
    const secret = d && d.channelKind === 'webhook' ? await signingSecret(trx, tenantId, d.channelId) : null;
    return d ? { d, secret } : null;
  }, {}, db);
  if (!loaded) return null;
  if (!loaded.d.channelEnabled || (loaded.d.status !== 'queued' && loaded.d.status !== 'failed')) {
    // Disabled (or given up) since it was claimed: nothing goes out; recordAttempt leaves a closed delivery as it is.
    if (loaded.d.status === 'queued' || loaded.d.status === 'failed') await withTenant(tenantId, (trx) => giveUpUnsent(trx, tenantId, id), {}, db);
    return null;
  }
  let result: AttemptResult;
  try {
    result = loaded.d.channelKind === 'webhook' ? await sendWebhook(loaded.d, loaded.secret, policy, now) : await sendEmail(db, tenantId, loaded.d);
  } catch (err) {
    result = { ok: false, code: null, error: describe(err), permanent: false };
  }
  return withTenant(tenantId, (trx) => recordAttempt(trx, tenantId, id, result, now), {}, db);
}

/**
 * One dispatch for a tenant, as the app role (row-level security applies).
 * Safe to run concurrently and as often as wanted: an anomaly goes to a
 * channel at most once, a digest at most once per channel and day, and a
 * delivery is sent by one dispatcher at a time.
 */
export async function dispatchAlerts(db: Db, tenantId: string, opts: DispatchOptions = {}): Promise<DispatchSummary> {
  if (!isUuid(tenantId)) throw new Error('dispatchAlerts: tenantId must be a uuid');
  const now = opts.now ?? new Date();
  const policy = opts.policy ?? webhookPolicy();
  const { queued, created } = await withTenant(tenantId, (trx) => plan(trx, tenantId, now), {}, db);
  const due = await withTenant(tenantId, (trx) => claimDue(trx, tenantId, now, opts.maxDeliveries ?? 50), {}, db);
  const summary: DispatchSummary = { tenantId, queued, created, attempted: 0, sent: 0, failed: 0, gaveUp: 0, errors: 0, nextAttemptAt: null };
  for (const id of due) {
    // One delivery's failure never stops the others: whatever it throws is logged and the loop goes on.
    let r: Recorded | null;
    try {
      r = await sendOne(db, tenantId, id, policy, now);
    } catch (err) {
      summary.errors++;
      console.error(`alerts ${tenantId}: delivery ${id} could not be sent or recorded: ${describe(err)}`);
      continue;
    }
    if (!r) continue;
    summary.attempted++;
    if (r.status === 'sent') summary.sent++;
    else if (r.status === 'gave_up') summary.gaveUp++;
    else summary.failed++;
  }
  summary.nextAttemptAt = await withTenant(tenantId, (trx) => nextAttemptAt(trx, tenantId), {}, db);
  return summary;
}

export function formatDispatch(s: DispatchSummary): string {
  return (
    `alerts ${s.tenantId}: ${s.queued} anomaly-channel pair(s) taken, ${s.created} message(s) made, ${s.attempted} attempt(s): ` +
    `${s.sent} sent, ${s.failed} to retry, ${s.gaveUp} given up` +
    (s.errors ? `, ${s.errors} error(s) (see above)` : '') +
    (s.nextAttemptAt ? `; next retry ${s.nextAttemptAt.toISOString()}` : '')
  );
}

export interface TestOutcome {
  deliveryId: string;
  status: Recorded['status'];
  /** What the page says. */
  message: string;
}

/**
 * Makes a test delivery (a sample anomaly, clearly marked) held by its maker,
 * inside the caller's transaction; send it with sendTestDelivery after commit.
 */
export async function createTestDelivery(trx: Tx, tenantId: string, channel: { id: string; name: string }, now: Date): Promise<string> {
  const t = await trx.selectFrom('saas.tenants').select(['name', 'currency']).where('id', '=', tenantId).executeTakeFirstOrThrow();
  const id = randomUUID();
  const message = buildMessage(
    {
      deliveryId: id,
      kind: 'test',
      tenant: { id: tenantId, name: t.name, currency: String(t.currency) },
      channel,
      digestDay: null,
      generatedAt: now,
      boardUrl: boardUrl(),
    },
    [sampleAnomaly(now)],
  );
  await insertDelivery(trx, tenantId, { id, channelId: channel.id, kind: 'test', digestDay: null, anomalyIds: [], payload: message, maxAttempts: 1, claimed: true }, now);
  return id;
}

/** Sends a test delivery made by createTestDelivery, now, once, and says how it went. */
export async function sendTestDelivery(db: Db, tenantId: string, deliveryId: string, opts: DispatchOptions = {}): Promise<TestOutcome> {
  const now = opts.now ?? new Date();
  const r = await sendOne(db, tenantId, deliveryId, opts.policy ?? webhookPolicy(), now);
  if (!r) return { deliveryId, status: 'failed', message: 'The test message could not be found.' };
  if (r.status === 'sent') return { deliveryId, status: r.status, message: 'Test message sent. The delivery log below shows the answer.' };
  const row = await withTenant(tenantId, (trx) => deliveryError(trx, tenantId, deliveryId), {}, db);
  return { deliveryId, status: r.status, message: `The test message was not delivered: ${row ?? 'unknown error'}.` };
}
