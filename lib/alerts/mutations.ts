// Changes to alert channels (admins only, through tenantAction): create,
// edit, enable or disable, delete, rotate a webhook secret, send a test.
// Every change writes an audit row in the same transaction; no audit row,
// log line or page ever holds a secret (the URL is audited masked too). A
// new or rotated secret goes back to the admin once, in the action's answer.
import 'server-only';
import { sql } from 'kysely';
import type { Tx } from '@/lib/db';
import { recordAudit } from '@/lib/audit/mutations';
import { ActionError, type ActionHandler } from '@/lib/request/action-core';
import { createTestDelivery, sendTestDelivery } from './dispatch';
import { maskWebhookUrl } from './policy';
import { lockChannel, type ChannelRow } from './queries';
import { DISABLED_ERROR, testsSince } from './store';
import { channelEnabledSchema, channelIdSchema, channelSchema, MAX_CHANNELS, TESTS_PER_HOUR, TESTS_PER_TENANT_HOUR, TEST_INTERVAL_MS, type ChannelInput } from './schema';
import { generateWebhookSecret } from './sign';

export const CHANNEL_NOT_FOUND = 'That alert channel was not found in this tenant.';

export interface SavedChannel {
  channelId: string;
  /** A new webhook's signing secret: shown once, never again. */
  secret?: string;
}

/** What the audit log keeps of a channel: the rules and recipients, the URL masked, never the secret. */
function auditView(c: Pick<ChannelRow, 'name' | 'kind' | 'enabled' | 'webhook_url' | 'email_addresses' | 'member_ids' | 'severities' | 'anomaly_types' | 'mode' | 'digest_hour'>) {
  return {
    name: c.name,
    kind: c.kind,
    enabled: c.enabled,
    url: c.webhook_url ? maskWebhookUrl(c.webhook_url) : null,
    addresses: c.email_addresses,
    members: c.member_ids,
    severities: c.severities,
    types: c.anomaly_types,
    mode: c.mode,
    digest_hour: c.digest_hour,
  };
}

const fromInput = (i: ChannelInput, url: string | null, enabled: boolean) => ({
  name: i.name,
  kind: i.kind,
  enabled,
  webhook_url: url,
  email_addresses: i.addresses,
  member_ids: i.members,
  severities: i.severities,
  anomaly_types: i.types,
  mode: i.mode,
  digest_hour: i.digestHour,
});

async function checkMembers(trx: Tx, tenantId: string, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  const found = await trx.selectFrom('saas.memberships').select('user_id').where('tenant_id', '=', tenantId).where('user_id', 'in', ids).execute();
  if (found.length !== ids.length) {
    throw new ActionError('Members: some of the chosen people are not members of this tenant.', { members: ['Members: some of the chosen people are not members of this tenant.'] });
  }
}

async function setSecret(trx: Tx, tenantId: string, channelId: string): Promise<string> {
  const secret = generateWebhookSecret();
  await sql`select ads_engine.alert_set_secret(${tenantId}::uuid, ${channelId}::uuid, ${secret})`.execute(trx);
  return secret;
}

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x) => b.includes(x));

export const saveChannelHandler: ActionHandler<typeof channelSchema, SavedChannel> = async (trx, input, ctx) => {
  const tenantId = ctx.tenant.tenantId;
  await checkMembers(trx, tenantId, input.members);

  if (!input.id) {
    const { n } = (await sql<{ n: number }>`select count(*)::int as n from ads_engine.alert_channels where tenant_id = ${tenantId}::uuid`.execute(trx)).rows[0]!;
    if (n >= MAX_CHANNELS) throw new ActionError(`A tenant has at most ${MAX_CHANNELS} alert channels: delete one first.`);
    const values = fromInput(input, input.url, input.enabled);
    const { id } = (
      await sql<{ id: string }>`
        insert into ads_engine.alert_channels
          (tenant_id, name, kind, enabled, webhook_url, email_addresses, member_ids, severities, anomaly_types, mode, digest_hour, created_by, updated_by)
        values (${tenantId}::uuid, ${values.name}, ${values.kind}, ${values.enabled}, ${values.webhook_url}, ${values.email_addresses}::text[],
                ${values.member_ids}::uuid[], ${values.severities}::ads.severity_level[], ${values.anomaly_types}::text[], ${values.mode},
                ${values.digest_hour}, ${ctx.user.id}::uuid, ${ctx.user.id}::uuid)
        returning id`.execute(trx)
    ).rows[0]!;
    const secret = input.kind === 'webhook' ? await setSecret(trx, tenantId, id) : undefined;
    await recordAudit(trx, { action: 'alert_channel.create', entityType: 'alert_channel', entityId: id, after: { ...auditView(values), secret: secret ? 'generated' : undefined } });
    return {
      message: secret ? 'Channel created. Copy the signing secret now: it is not shown again.' : 'Channel created.',
      data: { channelId: id, secret },
    };
  }

  const before = await lockChannel(trx, tenantId, input.id);
  if (!before) throw new ActionError(CHANNEL_NOT_FOUND);
  if (before.kind !== input.kind) {
    throw new ActionError('Kind: a channel keeps its kind; create a new channel instead.', { kind: ['Kind: a channel keeps its kind; create a new channel instead.'] });
  }
  const values = fromInput(input, input.kind === 'webhook' ? (input.url ?? before.webhook_url) : null, before.enabled);
  const rulesChanged =
    !sameSet(before.severities, values.severities) ||
    !sameSet(before.anomaly_types, values.anomaly_types) ||
    before.mode !== values.mode ||
    before.digest_hour !== values.digest_hour;
  await sql`
    update ads_engine.alert_channels
       set name = ${values.name}, webhook_url = ${values.webhook_url}, email_addresses = ${values.email_addresses}::text[],
           member_ids = ${values.member_ids}::uuid[], severities = ${values.severities}::ads.severity_level[],
           anomaly_types = ${values.anomaly_types}::text[], mode = ${values.mode}, digest_hour = ${values.digest_hour},
           alerts_from = case when ${rulesChanged} then now() else alerts_from end,
           updated_at = now(), updated_by = ${ctx.user.id}::uuid
     where tenant_id = ${tenantId}::uuid and id = ${input.id}::uuid`.execute(trx);
  if (rulesChanged) {
    // Waiting anomalies the new rules no longer take are dropped (those still taken wait for their message).
    await sql`
      delete from ads_engine.alert_items i using ads.anomalies a
       where i.tenant_id = ${tenantId}::uuid and i.channel_id = ${input.id}::uuid and i.delivery_id is null
         and a.tenant_id = i.tenant_id and a.id = i.anomaly_id
         and not (a.severity = any (${values.severities}::ads.severity_level[]) and a.anomaly_type = any (${values.anomaly_types}::text[]))`.execute(trx);
  }
  await recordAudit(trx, { action: 'alert_channel.update', entityType: 'alert_channel', entityId: input.id, before: auditView(before), after: auditView(values) });
  return { message: 'Channel saved.', data: { channelId: input.id } };
};

export const setChannelEnabledHandler: ActionHandler<typeof channelEnabledSchema, undefined> = async (trx, input, ctx) => {
  const tenantId = ctx.tenant.tenantId;
  const before = await lockChannel(trx, tenantId, input.id);
  if (!before) throw new ActionError(CHANNEL_NOT_FOUND);
  if (before.enabled === input.enabled) return { message: input.enabled ? 'The channel is enabled already.' : 'The channel is disabled already.' };
  await sql`
    update ads_engine.alert_channels
       set enabled = ${input.enabled}, updated_at = now(), updated_by = ${ctx.user.id}::uuid,
           alerts_from = case when ${input.enabled} then now() else alerts_from end
     where tenant_id = ${tenantId}::uuid and id = ${input.id}::uuid`.execute(trx);
  let cancelled = 0;
  if (!input.enabled) {
    // Nothing more goes to a disabled channel: its waiting messages are given up, its waiting anomalies dropped.
    const r = await sql`
      update ads_engine.alert_deliveries
         set status = 'gave_up', next_attempt_at = null, claimed_until = null,
             last_error = ${DISABLED_ERROR}
       where tenant_id = ${tenantId}::uuid and channel_id = ${input.id}::uuid and status in ('queued', 'failed') and next_attempt_at is not null`.execute(trx);
    cancelled = Number(r.numAffectedRows ?? 0);
    await sql`delete from ads_engine.alert_items where tenant_id = ${tenantId}::uuid and channel_id = ${input.id}::uuid and delivery_id is null`.execute(trx);
  }
  await recordAudit(trx, {
    action: input.enabled ? 'alert_channel.enable' : 'alert_channel.disable',
    entityType: 'alert_channel',
    entityId: input.id,
    before: { enabled: before.enabled },
    after: { enabled: input.enabled, ...(cancelled ? { deliveries_given_up: cancelled } : {}) },
  });
  return { message: input.enabled ? 'Channel enabled: anomalies from now on are alerted.' : 'Channel disabled: nothing is sent to it.' };
};

export const deleteChannelHandler: ActionHandler<typeof channelIdSchema, undefined> = async (trx, input, ctx) => {
  const tenantId = ctx.tenant.tenantId;
  const before = await lockChannel(trx, tenantId, input.id);
  if (!before) throw new ActionError(CHANNEL_NOT_FOUND);
  await sql`delete from ads_engine.alert_channels where tenant_id = ${tenantId}::uuid and id = ${input.id}::uuid`.execute(trx);
  await recordAudit(trx, { action: 'alert_channel.delete', entityType: 'alert_channel', entityId: input.id, before: auditView(before) });
  return { message: `Channel “${before.name}” deleted, with its delivery log.` };
};

export const rotateSecretHandler: ActionHandler<typeof channelIdSchema, SavedChannel> = async (trx, input, ctx) => {
  const tenantId = ctx.tenant.tenantId;
  const before = await lockChannel(trx, tenantId, input.id);
  if (!before) throw new ActionError(CHANNEL_NOT_FOUND);
  if (before.kind !== 'webhook') throw new ActionError('Only a webhook channel has a signing secret.');
  const secret = await setSecret(trx, tenantId, input.id);
  await recordAudit(trx, { action: 'alert_channel.rotate_secret', entityType: 'alert_channel', entityId: input.id, after: { secret: 'rotated' } });
  return { message: 'New signing secret made; the old one no longer signs. Copy it now: it is not shown again.', data: { channelId: input.id, secret } };
};

export const TEST_DISABLED = 'This channel is disabled: nothing is sent to it, tests included. Enable it first.';

/**
 * Send test's limit, per channel: one test a minute and TESTS_PER_HOUR an
 * hour, counted from the channel's test deliveries in the log (so it holds
 * across servers and restarts); per tenant, TESTS_PER_TENANT_HOUR an hour. Email addresses are typed, never confirmed:
 * the limit is what bounds mail sent to someone who did not ask for it.
 */
async function checkTestRate(trx: Tx, tenantId: string, channelId: string, now: Date): Promise<void> {
  const lastMinute = await testsSince(trx, tenantId, channelId, new Date(now.getTime() - TEST_INTERVAL_MS));
  if (lastMinute.count > 0) {
    const wait = Math.max(1, Math.ceil((lastMinute.latest!.getTime() + TEST_INTERVAL_MS - now.getTime()) / 1000));
    throw new ActionError(`Send test: at most one test a minute per channel. Try again in ${wait} s.`);
  }
  const lastHour = await testsSince(trx, tenantId, channelId, new Date(now.getTime() - 60 * 60_000));
  if (lastHour.count >= TESTS_PER_HOUR) {
    throw new ActionError(`Send test: at most ${TESTS_PER_HOUR} tests an hour per channel. Try again later.`);
  }
  // Tenant-wide, from the audit log (it outlives a deleted channel, whose test deliveries go with it): deleting and
  // re-creating channels does not reset the count. The advisory lock serialises tests on different channels.
  await sql`select pg_advisory_xact_lock(hashtext('aegis.alert_test'), hashtext(${tenantId}))`.execute(trx);
  const { n } = (
    await sql<{ n: number }>`
      select count(*)::int as n from saas.audit_log
      where tenant_id = ${tenantId}::uuid and action = 'alert_channel.test' and occurred_at > now() - interval '1 hour'`.execute(trx)
  ).rows[0]!;
  if (n >= TESTS_PER_TENANT_HOUR) {
    throw new ActionError(`Send test: at most ${TESTS_PER_TENANT_HOUR} tests an hour in a tenant, all channels together. Try again later.`);
  }
}

export const sendTestHandler: ActionHandler<typeof channelIdSchema, { deliveryId: string }> = async (trx, input, ctx) => {
  const tenantId = ctx.tenant.tenantId;
  // The lock also serialises two Send tests of one channel, so the limit below counts both.
  const channel = await lockChannel(trx, tenantId, input.id);
  if (!channel) throw new ActionError(CHANNEL_NOT_FOUND);
  if (!channel.enabled) throw new ActionError(TEST_DISABLED);
  const now = new Date();
  await checkTestRate(trx, tenantId, channel.id, now);
  const deliveryId = await createTestDelivery(trx, tenantId, { id: channel.id, name: channel.name }, now);
  await recordAudit(trx, { action: 'alert_channel.test', entityType: 'alert_channel', entityId: input.id, after: { delivery_id: deliveryId } });
  return {
    data: { deliveryId },
    // Sent after the commit: the delivery row must exist on its own before the network is touched.
    afterCommit: async (db) => (await sendTestDelivery(db, tenantId, deliveryId)).message,
  };
};
