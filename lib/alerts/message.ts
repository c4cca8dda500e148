// The content of an alert: the webhook's JSON body (with a Slack-compatible
// top-level `text`), and the mail's subject and text, built once when a
// delivery is made and stored with it, so that every attempt sends the same.
// Pure; not server-only (the worker builds messages).
import { MESSAGE_MAX_ANOMALIES, SEVERITIES, type DeliveryKind, type Severity } from './schema';
import { cutText, storableText } from './text';

export interface AlertAnomaly {
  id: string;
  platform: string;
  level: string;
  entityId: string;
  entityName: string | null;
  campaignId: string | null;
  day: string;
  metric: string;
  type: string;
  severity: Severity;
  baselineValue: number | null;
  actualValue: number | null;
  deviationPercent: number | null;
  moneyAtStake: number | null;
  status: string;
  createdAt: string;
}

export interface MessageContext {
  deliveryId: string;
  kind: DeliveryKind;
  tenant: { id: string; name: string; currency: string };
  channel: { id: string; name: string };
  /** The digest's local day (digests only). */
  digestDay: string | null;
  generatedAt: Date;
  /** Where the anomaly board is (NEXTAUTH_URL + /anomalies), when known. */
  boardUrl: string | null;
}

/** The JSON body posted to a webhook (docs/alerts.md). */
export interface WebhookBody {
  text: string;
  type: 'aegis.anomalies' | 'aegis.digest' | 'aegis.test';
  delivery_id: string;
  generated_at: string;
  tenant: { id: string; name: string };
  channel: { id: string; name: string };
  digest_day: string | null;
  anomaly_count: number;
  anomalies: {
    id: string;
    severity: Severity;
    type: string;
    metric: string;
    platform: string;
    level: string;
    entity_id: string;
    entity_name: string | null;
    campaign_id: string | null;
    day: string;
    baseline_value: number | null;
    actual_value: number | null;
    deviation_percent: number | null;
    money_at_stake: number | null;
    currency: string;
    status: string;
    created_at: string;
  }[];
  /** Anomalies not listed (beyond MESSAGE_MAX_ANOMALIES). */
  more: number;
  board_url: string | null;
}

export interface AlertMessage {
  subject: string;
  text: string;
  body: WebhookBody;
}

const RANK: Record<Severity, number> = { low: 0, medium: 1, high: 2, critical: 3 };

const oneLine = (s: string) => storableText(s).replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();

function num(v: number | null, digits = 2): string {
  if (v === null || !Number.isFinite(v)) return '—';
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

const PLATFORM: Record<string, string> = { meta: 'Meta', google: 'Google', tiktok: 'TikTok', linkedin: 'LinkedIn' };
const TYPE: Record<string, string> = { spike: 'spike', drop: 'drop', tracking_loss: 'tracking loss', trend_change: 'trend change', outlier: 'outlier' };

/** One line per anomaly: what, where, the figures. */
export function describeAnomaly(a: AlertAnomaly, currency: string): string {
  const who = oneLine(a.entityName ?? a.entityId);
  const id = a.entityName && a.entityName !== a.entityId ? ` (${oneLine(a.entityId)})` : '';
  const dev = a.deviationPercent === null ? '' : ` (${a.deviationPercent > 0 ? '+' : ''}${num(a.deviationPercent, 0)} %)`;
  const money = a.moneyAtStake === null ? '' : `, ${num(a.moneyAtStake)} ${currency} at stake`;
  return (
    `${a.severity.toUpperCase()} · ${PLATFORM[a.platform] ?? a.platform} ${a.level} ${who}${id} · ${oneLine(a.metric)} ${TYPE[a.type] ?? a.type} on ${a.day}: ` +
    `${num(a.actualValue)} against ${num(a.baselineValue)} expected${dev}${money}`
  );
}

// Slack reads <, > and & as markup in `text`; escaped, a name cannot make a link or a mention.
const slackEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function severityCounts(list: AlertAnomaly[]): string {
  const parts = [...SEVERITIES].reverse().flatMap((s) => {
    const n = list.filter((a) => a.severity === s).length;
    return n ? [`${n} ${s}`] : [];
  });
  return parts.join(', ');
}

/** The anomalies in the order a buyer acts on them: severity, then money at stake. */
export function sortForAlert(list: AlertAnomaly[]): AlertAnomaly[] {
  return [...list].sort(
    (a, b) => RANK[b.severity] - RANK[a.severity] || (b.moneyAtStake ?? 0) - (a.moneyAtStake ?? 0) || a.day.localeCompare(b.day) || a.id.localeCompare(b.id),
  );
}

const TEXT_LINES = 20;
export const SUBJECT_MAX = 200;
export const TEXT_MAX = 19_000;

export function buildMessage(ctx: MessageContext, anomalies: AlertAnomaly[]): AlertMessage {
  const sorted = sortForAlert(anomalies);
  const listed = sorted.slice(0, MESSAGE_MAX_ANOMALIES);
  const tenantName = oneLine(ctx.tenant.name);
  const n = sorted.length;
  const noun = n === 1 ? 'anomaly' : 'anomalies';
  let headline: string;
  let subject: string;
  if (ctx.kind === 'test') {
    headline = `AEGIS test alert for ${tenantName} (channel “${oneLine(ctx.channel.name)}”): if you can read this, the channel works.`;
    subject = `[AEGIS] ${tenantName}: test alert`;
  } else if (ctx.kind === 'digest') {
    headline = `AEGIS daily digest for ${tenantName}, ${ctx.digestDay}: ${n} ${noun} (${severityCounts(sorted)}).`;
    subject = `[AEGIS] ${tenantName}: daily digest ${ctx.digestDay}, ${n} ${noun}`;
  } else {
    headline = `AEGIS: ${n} new ${noun} in ${tenantName} (${severityCounts(sorted)}).`;
    subject = `[AEGIS] ${tenantName}: ${n} new ${noun} (${severityCounts(sorted)})`;
  }
  const lines = sorted.slice(0, TEXT_LINES).map((a) => describeAnomaly(a, ctx.tenant.currency));
  if (n > TEXT_LINES) lines.push(`… and ${n - TEXT_LINES} more.`);
  const link = ctx.boardUrl ? `Open the anomaly board: ${ctx.boardUrl}` : null;
  const text = [headline, ...(lines.length ? ['', ...lines] : []), ...(link ? ['', link] : [])].join('\n');
  const slackText = [slackEscape(headline), ...lines.map((l) => `• ${slackEscape(l)}`), ...(ctx.boardUrl ? [`<${ctx.boardUrl}|Open the anomaly board>`] : [])].join('\n');
  const body: WebhookBody = {
    text: slackText,
    type: ctx.kind === 'test' ? 'aegis.test' : ctx.kind === 'digest' ? 'aegis.digest' : 'aegis.anomalies',
    delivery_id: ctx.deliveryId,
    generated_at: ctx.generatedAt.toISOString(),
    tenant: { id: ctx.tenant.id, name: storableText(ctx.tenant.name) },
    channel: { id: ctx.channel.id, name: storableText(ctx.channel.name) },
    digest_day: ctx.digestDay,
    anomaly_count: n,
    anomalies: listed.map((a) => ({
      id: a.id,
      severity: a.severity,
      type: a.type,
      metric: a.metric,
      platform: a.platform,
      level: a.level,
      entity_id: a.entityId,
      entity_name: a.entityName,
      campaign_id: a.campaignId,
      day: a.day,
      baseline_value: a.baselineValue,
      actual_value: a.actualValue,
      deviation_percent: a.deviationPercent,
      money_at_stake: a.moneyAtStake,
      currency: ctx.tenant.currency,
      status: a.status,
      created_at: a.createdAt,
    })),
    more: n - listed.length,
    board_url: ctx.boardUrl,
  };
    // Cut by code point (an emoji is never split: the payload must be valid for jsonb), marked when cut.
  return { subject: cutText(subject, SUBJECT_MAX, '…'), text: cutText(text, TEXT_MAX, '…'), body };
}

/** A made-up anomaly for "Send test": clearly labelled, never stored in ads.anomalies. */
export function sampleAnomaly(now: Date): AlertAnomaly {
  const day = new Date(now.getTime() - 86_400_000).toISOString().slice(0, 10);
  return {
    id: '00000000-0000-4000-8000-000000000000',
    platform: 'meta',
    level: 'campaign',
    entityId: 'test-campaign',
    entityName: 'Test campaign (sample data)',
    campaignId: 'test-campaign',
    day,
    metric: 'cpa',
    type: 'spike',
    severity: 'high',
    baselineValue: 42,
    actualValue: 63,
    deviationPercent: 50,
    moneyAtStake: 120,
    status: 'active',
    createdAt: now.toISOString(),
  };
}

/** NEXTAUTH_URL + /anomalies, when NEXTAUTH_URL is a usable http(s) URL. */
export function boardUrl(env: Record<string, string | undefined> = process.env): string | null {
  const raw = env.NEXTAUTH_URL?.trim();
  if (!raw) return null;
  try {
    const u = new URL(raw);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') return null;
    return `${u.origin}${u.pathname.replace(/\/$/, '')}/anomalies`;
  } catch {
    return null;
  }
}
