// Reads of the alert settings page (inside the tenant's transaction): the
// channels with their rules and recent deliveries, and the members an email
// channel may name. Never a secret: the secrets table is not readable by the
// app role at all, and webhook URLs are shown masked (a Slack URL is itself a
// credential). Typed by hand: the tables are not in schema.generated.ts yet.
import 'server-only';
import { sql } from 'kysely';
import type { Tx } from '@/lib/db';
import { isUuid } from '@/lib/db';
import { maskWebhookUrl } from './policy';
import type { AlertMode, AnomalyType, ChannelKind, DeliveryKind, DeliveryStatus, Severity } from './schema';

export const RECENT_DELIVERIES = 10;

export interface DeliveryView {
  id: string;
  kind: DeliveryKind;
  digestDay: string | null;
  status: DeliveryStatus;
  anomalyCount: number;
  attempts: number;
  maxAttempts: number;
  responseCode: number | null;
  lastError: string | null;
  createdAt: string;
  lastAttemptAt: string | null;
  nextAttemptAt: string | null;
  sentAt: string | null;
}

export interface ChannelMember {
  userId: string;
  email: string;
  name: string | null;
}

export interface ChannelView {
  id: string;
  name: string;
  kind: ChannelKind;
  enabled: boolean;
  /** Webhooks: origin and last characters only. */
  maskedUrl: string | null;
  addresses: string[];
  /** Chosen members still in the tenant. */
  members: ChannelMember[];
  /** Chosen members who left (they receive nothing). */
  goneMembers: number;
  severities: Severity[];
  types: AnomalyType[];
  mode: AlertMode;
  digestHour: number | null;
  createdAt: string;
  updatedAt: string;
  deliveries: DeliveryView[];
}

export interface AlertSettings {
  channels: ChannelView[];
  members: ChannelMember[];
  timezone: string;
}

interface ChannelRow {
  id: string;
  name: string;
  kind: ChannelKind;
  enabled: boolean;
  webhook_url: string | null;
  email_addresses: string[];
  member_ids: string[];
  severities: Severity[];
  anomaly_types: AnomalyType[];
  mode: AlertMode;
  digest_hour: number | null;
  created_at: Date;
  updated_at: Date;
}

interface DeliveryRow {
  id: string;
  channel_id: string;
  kind: DeliveryKind;
  digest_day: string | null;
  status: DeliveryStatus;
  anomaly_count: number;
  attempts: number;
  max_attempts: number;
  response_code: number | null;
  last_error: string | null;
  created_at: Date;
  last_attempt_at: Date | null;
  next_attempt_at: Date | null;
  sent_at: Date | null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function channelQuery(tenantId: string) {
  return sql<ChannelRow>`
    select c.id, c.name, c.kind, c.enabled, c.webhook_url, c.email_addresses, c.member_ids,
           c.severities::text[] as severities, c.anomaly_types, c.mode, c.digest_hour, c.created_at, c.updated_at
    from ads_engine.alert_channels c
    where c.tenant_id = ${tenantId}::uuid
    order by c.created_at, c.id`;
}

async function tenantMembers(trx: Tx, tenantId: string): Promise<ChannelMember[]> {
  const rows = await trx
    .selectFrom('saas.memberships as m')
    .innerJoin('saas.users as u', 'u.id', 'm.user_id')
    .where('m.tenant_id', '=', tenantId)
    .where('u.disabled_at', 'is', null)
    .select(['m.user_id', 'u.email', 'u.name'])
    .orderBy('u.email')
    .execute();
  return rows.map((r) => ({ userId: r.user_id, email: r.email, name: r.name }));
}

function toView(r: ChannelRow, members: Map<string, ChannelMember>, deliveries: DeliveryView[]): ChannelView {
  const chosen = r.member_ids.map((id) => members.get(id)).filter((m): m is ChannelMember => Boolean(m));
  return {
    id: r.id,
    name: r.name,
    kind: r.kind,
    enabled: r.enabled,
    maskedUrl: r.webhook_url ? maskWebhookUrl(r.webhook_url) : null,
    addresses: r.email_addresses,
    members: chosen,
    goneMembers: r.member_ids.length - chosen.length,
    severities: r.severities,
    types: r.anomaly_types,
    mode: r.mode,
    digestHour: r.digest_hour,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
    deliveries,
  };
}

/** Everything the settings page shows. */
export async function alertSettings(trx: Tx, tenantId: string): Promise<AlertSettings> {
  const [channels, members, tz] = await Promise.all([
    channelQuery(tenantId).execute(trx),
    tenantMembers(trx, tenantId),
    trx.selectFrom('saas.tenants').select('timezone').where('id', '=', tenantId).executeTakeFirst(),
  ]);
  const deliveries = await sql<DeliveryRow>`
    select d.id, d.channel_id, d.kind, d.digest_day, d.status, d.anomaly_count, d.attempts, d.max_attempts, d.response_code, d.last_error,
           d.created_at, d.last_attempt_at, d.next_attempt_at, d.sent_at
    from ads_engine.alert_channels c
    cross join lateral (
      select x.* from ads_engine.alert_deliveries x
      where x.tenant_id = c.tenant_id and x.channel_id = c.id
      order by x.created_at desc, x.id desc
      limit ${RECENT_DELIVERIES}) d
    where c.tenant_id = ${tenantId}::uuid
    order by d.created_at desc, d.id desc`.execute(trx);
  const byChannel = new Map<string, DeliveryView[]>();
  for (const d of deliveries.rows) {
    const list = byChannel.get(d.channel_id) ?? [];
    list.push({
      id: d.id,
      kind: d.kind,
      digestDay: d.digest_day,
      status: d.status,
      anomalyCount: d.anomaly_count,
      attempts: d.attempts,
      maxAttempts: d.max_attempts,
      responseCode: d.response_code,
      lastError: d.last_error,
      createdAt: d.created_at.toISOString(),
      lastAttemptAt: iso(d.last_attempt_at),
      nextAttemptAt: iso(d.next_attempt_at),
      sentAt: iso(d.sent_at),
    });
    byChannel.set(d.channel_id, list);
  }
  const byId = new Map(members.map((m) => [m.userId, m]));
  return {
    channels: channels.rows.map((r) => toView(r, byId, byChannel.get(r.id) ?? [])),
    members,
    timezone: tz?.timezone ?? 'UTC',
  };
}

/** One channel's stored row, locked for a change (null: not in this tenant). Includes the real URL: for handlers only, never a page. */
export async function lockChannel(trx: Tx, tenantId: string, id: string): Promise<ChannelRow | null> {
  if (!isUuid(id)) return null;
  const r = await sql<ChannelRow>`
    select c.id, c.name, c.kind, c.enabled, c.webhook_url, c.email_addresses, c.member_ids,
           c.severities::text[] as severities, c.anomaly_types, c.mode, c.digest_hour, c.created_at, c.updated_at
    from ads_engine.alert_channels c
    where c.tenant_id = ${tenantId}::uuid and c.id = ${id}::uuid
    for update`.execute(trx);
  return r.rows[0] ?? null;
}

export type { ChannelRow };
