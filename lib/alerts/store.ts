// The SQL of alert delivery, each on a tenant transaction the caller holds.
// The tables (db/migrations/012_alert_channels.sql) are not in
// lib/db/schema.generated.ts yet: the queries are typed by hand with sql<T>.
// Every query filters on the tenant explicitly and takes "now" as a
// parameter, so the clock is the caller's (tests move it; production passes
// the real time). Not server-only: the worker runs these.
import { sql } from 'kysely';
import type { Tx } from '../db/pool';
import type { AlertAnomaly } from './message';
import { cutText, storableJson } from './text';
import { BACKOFF_MS, LOOKBACK_DAYS, type AlertMode, type ChannelKind, type DeliveryKind, type DeliveryStatus, type Severity } from './schema';

/** How long a dispatcher holds a delivery it is sending (another one skips it until then). */
export const CLAIM_MS = 10 * 60_000;

/**
 * Takes every anomaly not yet taken for each enabled channel whose rules it
 * matches: created since the channel's alerts_from (and within the lookback),
 * still open. The ledger's primary key makes this idempotent; returns how many
 * (channel, anomaly) pairs are new.
 */
export async function enqueueNewAnomalies(trx: Tx, tenantId: string, now: Date): Promise<number> {
  const r = await sql`
    insert into ads_engine.alert_items (tenant_id, channel_id, anomaly_id, queued_at)
    select c.tenant_id, c.id, a.id, ${now}::timestamptz
    from ads_engine.alert_channels c
    join ads.anomalies a
      on a.tenant_id = c.tenant_id
     and a.created_at >= greatest(c.alerts_from, ${now}::timestamptz - make_interval(days => ${LOOKBACK_DAYS}))
     and a.severity = any (c.severities)
     and a.anomaly_type = any (c.anomaly_types)
     and a.status in ('active', 'investigating')
    where c.tenant_id = ${tenantId}::uuid and c.enabled
      and not exists (select 1 from ads_engine.alert_items i
                      where i.tenant_id = c.tenant_id and i.channel_id = c.id and i.anomaly_id = a.id)
    on conflict do nothing`.execute(trx);
  return Number(r.numAffectedRows ?? 0);
}

/**
 * Drops from the queue the waiting anomalies (not yet in a message) that are
 * closed now (resolved or dismissed since they were taken): a digest lists
 * only what is still open when it goes out. Rows another dispatcher holds are
 * left to it. Should the anomaly be reopened, the next dispatch takes it again
 * (it is no longer in the ledger) if it is still within the channel's window.
 */
export async function dropClosedPending(trx: Tx, tenantId: string): Promise<number> {
  const r = await sql`
    delete from ads_engine.alert_items i
     where i.tenant_id = ${tenantId}::uuid
       and (i.channel_id, i.anomaly_id) in (
         select x.channel_id, x.anomaly_id
         from ads_engine.alert_items x
         join ads.anomalies a on a.tenant_id = x.tenant_id and a.id = x.anomaly_id
         where x.tenant_id = ${tenantId}::uuid and x.delivery_id is null and a.status not in ('active', 'investigating')
         for update of x skip locked)`.execute(trx);
  return Number(r.numAffectedRows ?? 0);
}

export interface ChannelToServe {
  id: string;
  name: string;
  kind: ChannelKind;
  mode: AlertMode;
  digestHour: number | null;
  /** The tenant's local day and hour at "now" (saas.tenants.timezone). */
  localDay: string;
  localHour: number;
  digestDone: boolean;
  pending: number;
  tenantName: string;
  currency: string;
}

export async function channelsToServe(trx: Tx, tenantId: string, now: Date): Promise<ChannelToServe[]> {
  const r = await sql<{
    id: string;
    name: string;
    kind: ChannelKind;
    mode: AlertMode;
    digest_hour: number | null;
    local_day: string;
    local_hour: number;
    digest_done: boolean;
    pending: number;
    tenant_name: string;
    currency: string;
  }>`
    with l as (
      select t.id, t.name, t.currency, (${now}::timestamptz at time zone ads_engine.valid_timezone(t.timezone)) as local_now
      from saas.tenants t where t.id = ${tenantId}::uuid
    )
    select c.id, c.name, c.kind, c.mode, c.digest_hour,
           to_char(l.local_now, 'YYYY-MM-DD') as local_day, extract(hour from l.local_now)::int as local_hour,
           exists (select 1 from ads_engine.alert_deliveries d
                   where d.tenant_id = c.tenant_id and d.channel_id = c.id and d.digest_day = l.local_now::date) as digest_done,
           (select count(*)::int from ads_engine.alert_items i
             where i.tenant_id = c.tenant_id and i.channel_id = c.id and i.delivery_id is null) as pending,
           l.name as tenant_name, l.currency::text as currency
    from ads_engine.alert_channels c join l on l.id = c.tenant_id
    where c.tenant_id = ${tenantId}::uuid and c.enabled
    order by c.created_at, c.id`.execute(trx);
  return r.rows.map((x) => ({
    id: x.id,
    name: x.name,
    kind: x.kind,
    mode: x.mode,
    digestHour: x.digest_hour,
    localDay: x.local_day,
    localHour: x.local_hour,
    digestDone: x.digest_done,
    pending: x.pending,
    tenantName: x.tenant_name,
    currency: x.currency,
  }));
}

interface AnomalyRow {
  id: string;
  platform: string;
  level: string;
  entity_id: string;
  entity_name: string | null;
  campaign_id: string | null;
  day: string;
  metric_name: string;
  anomaly_type: string;
  severity: Severity;
  baseline_value: number | null;
  actual_value: number | null;
  deviation_percent: number | null;
  money_at_stake: number | null;
  status: string;
  created_at: Date;
}

/** The channel's waiting anomalies, locked for this transaction (a concurrent dispatcher skips them). */
export async function lockPendingAnomalies(trx: Tx, tenantId: string, channelId: string): Promise<AlertAnomaly[]> {
  const r = await sql<AnomalyRow>`
    select a.id, a.platform::text as platform, a.level::text as level, a.entity_id, a.entity_name, a.campaign_id, a.day, a.metric_name,
           a.anomaly_type, a.severity::text as severity, a.baseline_value, a.actual_value, a.deviation_percent, a.money_at_stake,
           a.status, a.created_at
    from ads_engine.alert_items i
    join ads.anomalies a on a.tenant_id = i.tenant_id and a.id = i.anomaly_id
    where i.tenant_id = ${tenantId}::uuid and i.channel_id = ${channelId}::uuid and i.delivery_id is null
      and a.status in ('active', 'investigating')
    order by a.created_at, a.id
    for update of i skip locked`.execute(trx);
  return r.rows.map((a) => ({
    id: a.id,
    platform: a.platform,
    level: a.level,
    entityId: a.entity_id,
    entityName: a.entity_name,
    campaignId: a.campaign_id,
    day: a.day,
    metric: a.metric_name,
    type: a.anomaly_type,
    severity: a.severity,
    baselineValue: a.baseline_value,
    actualValue: a.actual_value,
    deviationPercent: a.deviation_percent,
    moneyAtStake: a.money_at_stake,
    status: a.status,
    createdAt: a.created_at.toISOString(),
  }));
}

export interface NewDelivery {
  id: string;
  channelId: string;
  kind: DeliveryKind;
  digestDay: string | null;
  anomalyIds: string[];
  payload: unknown;
  maxAttempts: number;
  /** Made already held by its maker, who sends it at once (Send test). */
  claimed: boolean;
}

/** Writes the delivery and ties its anomalies to it; false when the channel's digest for that day exists already. */
export async function insertDelivery(trx: Tx, tenantId: string, d: NewDelivery, now: Date): Promise<boolean> {
  const r = await sql<{ id: string }>`
    insert into ads_engine.alert_deliveries
      (tenant_id, id, channel_id, kind, digest_day, status, anomaly_count, payload, max_attempts, next_attempt_at, claimed_until, created_at)
    values (${tenantId}::uuid, ${d.id}::uuid, ${d.channelId}::uuid, ${d.kind}, ${d.digestDay}::date, 'queued', ${d.anomalyIds.length},
            ${storableJson(d.payload)}::jsonb, ${d.maxAttempts}, ${now}::timestamptz,
            ${d.claimed ? new Date(now.getTime() + CLAIM_MS) : null}::timestamptz, ${now}::timestamptz)
    on conflict (tenant_id, channel_id, digest_day) do nothing
    returning id`.execute(trx);
  if (r.rows.length === 0) return false;
  if (d.anomalyIds.length) {
    await sql`
      update ads_engine.alert_items set delivery_id = ${d.id}::uuid
      where tenant_id = ${tenantId}::uuid and channel_id = ${d.channelId}::uuid and anomaly_id = any (${d.anomalyIds}::uuid[])
        and delivery_id is null`.execute(trx);
  }
  return true;
}

/** Holds up to `limit` deliveries due at "now" on enabled channels; returns their ids. */
export async function claimDue(trx: Tx, tenantId: string, now: Date, limit: number): Promise<string[]> {
  const r = await sql<{ id: string }>`
    update ads_engine.alert_deliveries d
       set claimed_until = ${new Date(now.getTime() + CLAIM_MS)}::timestamptz
     where d.tenant_id = ${tenantId}::uuid
       and d.id in (
         select x.id from ads_engine.alert_deliveries x
         join ads_engine.alert_channels c on c.tenant_id = x.tenant_id and c.id = x.channel_id and c.enabled
         where x.tenant_id = ${tenantId}::uuid and x.status in ('queued', 'failed') and x.next_attempt_at <= ${now}::timestamptz
           and (x.claimed_until is null or x.claimed_until <= ${now}::timestamptz)
         order by x.next_attempt_at, x.id
         limit ${limit}
         for update of x skip locked)
    returning d.id`.execute(trx);
  return r.rows.map((x) => x.id);
}

export interface DeliveryToSend {
  id: string;
  kind: DeliveryKind;
  status: DeliveryStatus;
  /** Whether its channel is enabled now (nothing is sent to a disabled channel). */
  channelEnabled: boolean;
  attempts: number;
  maxAttempts: number;
  payload: { subject: string; text: string; body: unknown };
  deliveredTo: string[];
  channelId: string;
  channelKind: ChannelKind;
  webhookUrl: string | null;
  /** Email: the typed addresses and the current emails of the chosen members who are still in the tenant. */
  recipients: string[];
}

export async function loadDelivery(trx: Tx, tenantId: string, id: string): Promise<DeliveryToSend | null> {
  const r = await sql<{
    id: string;
    kind: DeliveryKind;
    status: DeliveryStatus;
    channel_enabled: boolean;
    attempts: number;
    max_attempts: number;
    payload: DeliveryToSend['payload'];
    delivered_to: string[];
    channel_id: string;
    channel_kind: ChannelKind;
    webhook_url: string | null;
    recipients: string[];
  }>`
    select d.id, d.kind, d.status, c.enabled as channel_enabled, d.attempts, d.max_attempts, d.payload, d.delivered_to, c.id as channel_id, c.kind as channel_kind, c.webhook_url,
           array(select distinct e from unnest(c.email_addresses || array(
                   select u.email from saas.memberships m join saas.users u on u.id = m.user_id
                   where m.tenant_id = c.tenant_id and m.user_id = any (c.member_ids) and u.disabled_at is null)) e order by e) as recipients
    from ads_engine.alert_deliveries d
    join ads_engine.alert_channels c on c.tenant_id = d.tenant_id and c.id = d.channel_id
    where d.tenant_id = ${tenantId}::uuid and d.id = ${id}::uuid`.execute(trx);
  const x = r.rows[0];
  if (!x) return null;
  return {
    id: x.id,
    kind: x.kind,
    status: x.status,
    channelEnabled: x.channel_enabled,
    attempts: x.attempts,
    maxAttempts: x.max_attempts,
    payload: x.payload,
    deliveredTo: x.delivered_to,
    channelId: x.channel_id,
    channelKind: x.channel_kind,
    webhookUrl: x.webhook_url,
    recipients: x.recipients,
  };
}

/** The webhook's signing secret, through the SECURITY DEFINER reader (the app role cannot read the table). */
export async function signingSecret(trx: Tx, tenantId: string, channelId: string): Promise<string | null> {
  const r = await sql<{ secret: string | null }>`select ads_engine.alert_signing_secret(${tenantId}::uuid, ${channelId}::uuid) as secret`.execute(trx);
  return r.rows[0]?.secret ?? null;
}

export interface AttemptResult {
  ok: boolean;
  code: number | null;
  error: string | null;
  /** Retrying cannot help (the URL is refused by the rules, no recipient left). */
  permanent: boolean;
  /** Email: addresses that accepted the message in this attempt. */
  deliveredTo?: string[];
}

export interface Recorded {
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: Date | null;
}

/** What last_error keeps of an attempt's error (ads_engine.alert_deliveries.last_error: at most 500 characters). */
export const ERROR_MAX = 500;

/** A response code the table takes (100-999), else null (the error text says what happened). */
const storableCode = (code: number | null) => (code !== null && Number.isInteger(code) && code >= 100 && code <= 999 ? code : null);

/**
 * Records one attempt: sent; failed with the next attempt at now + the
 * backoff for that attempt (1 min, 5 min, 30 min, 2 h); or gave up after
 * max_attempts (or at once for a permanent failure). A test message is tried
 * once: failed, no retry. Releases the claim.
 *
 * A delivery that is no longer waiting (gave_up: its channel was disabled
 * while the attempt was on the wire; sent: recorded already) is left as it
 * is: an attempt never moves it back to failed or queued.
 *
 * The attempt is always counted and its backoff always scheduled: the error
 * text (anything a receiver or a mail server answered) is cut and made well
 * formed, and should the full record still be refused, it is written again
 * without the text.
 */
export async function recordAttempt(trx: Tx, tenantId: string, id: string, result: AttemptResult, now: Date): Promise<Recorded> {
  const cur = await sql<{ attempts: number; max_attempts: number; kind: DeliveryKind; status: DeliveryStatus; next_attempt_at: Date | null }>`
    select attempts, max_attempts, kind, status, next_attempt_at from ads_engine.alert_deliveries
    where tenant_id = ${tenantId}::uuid and id = ${id}::uuid for update`.execute(trx);
  const row = cur.rows[0];
  if (!row) throw new Error(`alert delivery ${id} is gone`);
  if (row.status !== 'queued' && row.status !== 'failed') {
    await sql`update ads_engine.alert_deliveries set claimed_until = null where tenant_id = ${tenantId}::uuid and id = ${id}::uuid`.execute(trx);
    return { status: row.status, attempts: row.attempts, nextAttemptAt: row.next_attempt_at };
  }
  // Never more than max_attempts (the table's check): an attempt beyond it (a claim that ran out while a slow
  // attempt was still going, and a second dispatcher tried too) is the last one.
  const attempt = Math.min(row.attempts + 1, row.max_attempts);
  let status: DeliveryStatus;
  let next: Date | null = null;
  if (result.ok) status = 'sent';
  else if (row.kind === 'test') status = 'failed';
  else if (result.permanent || attempt >= row.max_attempts) status = 'gave_up';
  else {
    status = 'failed';
    next = new Date(now.getTime() + BACKOFF_MS[Math.min(attempt - 1, BACKOFF_MS.length - 1)]!);
  }
  const code = storableCode(result.code);
  const error = result.ok ? null : cutText(result.error || 'unknown error', ERROR_MAX, '…');
  const write = (errorText: string | null) => {
    const entry = { attempt, at: now.toISOString(), code, error: errorText, next_attempt_at: next ? next.toISOString() : null };
    return sql`
      update ads_engine.alert_deliveries
         set attempts = ${attempt}, status = ${status}, next_attempt_at = ${next}::timestamptz, claimed_until = null,
             last_attempt_at = ${now}::timestamptz, sent_at = ${result.ok ? now : null}::timestamptz,
             response_code = ${code}, last_error = ${errorText},
             history = history || jsonb_build_array(${storableJson(entry)}::jsonb),
             delivered_to = array(select distinct e from unnest(delivered_to || ${result.deliveredTo ?? []}::text[]) e order by e)
       where tenant_id = ${tenantId}::uuid and id = ${id}::uuid`.execute(trx);
  };
  await sql`savepoint alert_record_attempt`.execute(trx);
  try {
    await write(error);
    await sql`release savepoint alert_record_attempt`.execute(trx);
  } catch (err) {
    // The text is the only part not made here: count the attempt and schedule the retry without it.
    await sql`rollback to savepoint alert_record_attempt`.execute(trx);
    const why = err instanceof Error ? err.message : String(err);
    await write(result.ok ? null : cutText(`the error text could not be stored (${why})`, ERROR_MAX, '…'));
  }
  return { status, attempts: attempt, nextAttemptAt: next };
}

/** Gives up, without an attempt, a waiting delivery whose channel is disabled (what disabling does to the others). */
export async function giveUpUnsent(trx: Tx, tenantId: string, id: string): Promise<void> {
  await sql`
    update ads_engine.alert_deliveries
       set status = 'gave_up', next_attempt_at = null, claimed_until = null, last_error = ${DISABLED_ERROR}
     where tenant_id = ${tenantId}::uuid and id = ${id}::uuid and status in ('queued', 'failed')`.execute(trx);
}

/** What the log says of a delivery given up because its channel was disabled. */
export const DISABLED_ERROR = 'The channel was disabled before this was delivered.';

/** How many test messages the channel got since `since` (Send test's rate limit). */
export async function testsSince(trx: Tx, tenantId: string, channelId: string, since: Date): Promise<{ count: number; latest: Date | null }> {
  const r = await sql<{ n: number; latest: Date | null }>`
    select count(*)::int as n, max(created_at) as latest from ads_engine.alert_deliveries
    where tenant_id = ${tenantId}::uuid and channel_id = ${channelId}::uuid and kind = 'test' and created_at > ${since}::timestamptz`.execute(trx);
  return { count: r.rows[0]?.n ?? 0, latest: r.rows[0]?.latest ?? null };
}

/** When the tenant's next retry is due (enabled channels only), or null. */
export async function nextAttemptAt(trx: Tx, tenantId: string): Promise<Date | null> {
  const r = await sql<{ at: Date | null }>`
    select min(d.next_attempt_at) as at
    from ads_engine.alert_deliveries d
    join ads_engine.alert_channels c on c.tenant_id = d.tenant_id and c.id = d.channel_id and c.enabled
    where d.tenant_id = ${tenantId}::uuid and d.status in ('queued', 'failed') and d.next_attempt_at is not null`.execute(trx);
  return r.rows[0]?.at ?? null;
}

/** The last error of a delivery (what "Send test" reports). */
export async function deliveryError(trx: Tx, tenantId: string, id: string): Promise<string | null> {
  const r = await sql<{ last_error: string | null }>`
    select last_error from ads_engine.alert_deliveries where tenant_id = ${tenantId}::uuid and id = ${id}::uuid`.execute(trx);
  return r.rows[0]?.last_error ?? null;
}
