// Input of the anomaly board: one move of one or more anomalies (a card, or an
// incident's members) and the board's filters from the URL. Shared by the
// forms and the server actions; every field's message names the field.
import { z } from 'zod';
import { LEVELS, PLATFORMS } from '@/lib/performance/metrics';

export const STATUSES = ['active', 'investigating', 'resolved', 'dismissed'] as const;
export type AnomalyStatus = (typeof STATUSES)[number];

export const STATUS_LABEL: Readonly<Record<AnomalyStatus, string>> = {
  active: 'Active',
  investigating: 'Investigating',
  resolved: 'Resolved',
  dismissed: 'Dismissed',
};

export const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const ANOMALY_TYPES = ['spike', 'drop', 'tracking_loss', 'trend_change', 'outlier'] as const;
export type AnomalyType = (typeof ANOMALY_TYPES)[number];

export const TYPE_LABEL: Readonly<Record<AnomalyType, string>> = {
  spike: 'Spike',
  drop: 'Drop',
  tracking_loss: 'Tracking loss',
  trend_change: 'Trend change',
  outlier: 'Outlier',
};

/** The metric_name values the engine writes (db/media_buying/100_anomalies.sql). */
export const ANOMALY_METRICS = ['conversions', 'cpa', 'roas', 'ctr', 'cpc', 'spend'] as const;
export type AnomalyMetric = (typeof ANOMALY_METRICS)[number];

export const MOVES = ['acknowledge', 'resolve', 'reopen', 'dismiss', 'snooze'] as const;
export type Move = (typeof MOVES)[number];

/** Which status each move leaves an anomaly in, and from which statuses it may start. */
export const TRANSITIONS: Readonly<Record<Move, { from: readonly AnomalyStatus[]; to: AnomalyStatus | 'same' }>> = {
  acknowledge: { from: ['active'], to: 'investigating' },
  resolve: { from: ['active', 'investigating'], to: 'resolved' },
  dismiss: { from: ['active', 'investigating'], to: 'dismissed' },
  reopen: { from: ['resolved', 'dismissed'], to: 'active' },
  snooze: { from: ['active'], to: 'same' },
};

/** The moves a card in `status` offers. */
export function movesFrom(status: AnomalyStatus): Move[] {
  return MOVES.filter((m) => TRANSITIONS[m].from.includes(status));
}

/** The move that takes a card from one column to another (drag and drop), or null when none does. */
export function moveBetween(from: AnomalyStatus, to: AnomalyStatus): Move | null {
  const m = MOVES.find((x) => x !== 'snooze' && TRANSITIONS[x].from.includes(from) && TRANSITIONS[x].to === to);
  return m ?? null;
}

export const MOVE_LABEL: Readonly<Record<Move, string>> = {
  acknowledge: 'Acknowledge (investigating)',
  resolve: 'Resolve',
  reopen: 'Reopen (active)',
  dismiss: 'Dismiss: not an anomaly',
  snooze: 'Snooze',
};

export const SNOOZES = ['1h', '1d', '3d', '1w'] as const;
export type Snooze = (typeof SNOOZES)[number];
export const SNOOZE_LABEL: Readonly<Record<Snooze, string>> = { '1h': '1 hour', '1d': '1 day', '3d': '3 days', '1w': '1 week' };
/** The interval each snooze means, as PostgreSQL reads it. */
export const SNOOZE_INTERVAL: Readonly<Record<Snooze, string>> = { '1h': '1 hour', '1d': '1 day', '3d': '3 days', '1w': '7 days' };

export const NOTE_MAX = 1000;
export const RESOLUTION_MIN = 3;
/** The most anomalies one move of cards takes. */
export const MOVE_MAX = 200;
/** The most members one incident move takes (an incident is one platform, level and day: bounded by its entities). */
export const INCIDENT_MAX = 5000;

const blank = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const lowerTrim = (v: unknown) => (typeof v === 'string' ? v.trim().toLowerCase() : v);

/**
 * Text a person typed, for a field named `field`: trimmed, at most `max` characters, and refused (naming the
 * field) when it holds a NUL character or is not well-formed UTF-16 (a lone surrogate: half of an emoji), which
 * PostgreSQL's text and jsonb cannot store.
 */
export function typedText(field: string, max: number) {
  return z
    .string({ error: `${field}: write it as text.` })
    .refine((s) => !s.includes('\0'), { error: `${field}: remove the NUL character (code 0) it contains.`, abort: true })
    .refine((s) => s.isWellFormed(), { error: `${field}: it contains a broken character (half of an emoji?): type it again.`, abort: true })
    .trim()
    .max(max, { error: `${field}: at most ${max} characters.` });
}

export interface IncidentKey {
  platform: (typeof PLATFORMS)[number];
  level: (typeof LEVELS)[number];
  day: string;
}

const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A board incident's key, platform|level|day (as the board writes it), or null when it is not one. */
export function parseIncidentKey(key: string): IncidentKey | null {
  const parts = key.split('|');
  if (parts.length !== 3) return null;
  const [platform, level, day] = parts as [string, string, string];
  if (!(PLATFORMS as readonly string[]).includes(platform) || !(LEVELS as readonly string[]).includes(level)) return null;
  const m = DAY_RE.exec(day);
  if (!m) return null;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== day) return null;
  return { platform: platform as IncidentKey['platform'], level: level as IncidentKey['level'], day };
}

export const incidentKeyOf = (k: IncidentKey) => `${k.platform}|${k.level}|${k.day}`;

const id = z.preprocess(lowerTrim, z.uuid({ error: 'Anomaly: not an anomaly id.' }));

export const moveSchema = z
  .object({
    // One card sends one id (or a few); an incident sends its key and each of the members its card showed.
    ids: z.preprocess(
      (v) => (typeof v === 'string' ? [v] : v),
      z
        .array(id, { error: 'Anomaly: choose at least one.' })
        .min(1, { error: 'Anomaly: choose at least one.' })
        .max(INCIDENT_MAX, { error: `Anomaly: at most ${INCIDENT_MAX} at a time.` })
        .refine((ids) => new Set(ids).size === ids.length, { error: 'Anomaly: each one only once.' }),
    ),
    move: z.enum(MOVES, { error: 'Move: choose acknowledge, resolve, reopen, dismiss or snooze.' }),
    // The status the card showed: a card someone else moved meanwhile is refused, not moved twice.
    expected: z.enum(STATUSES, { error: 'Expected status: active, investigating, resolved or dismissed.' }),
    note: z.preprocess(blank, typedText('Note', NOTE_MAX).optional()),
    snooze: z.preprocess(blank, z.enum(SNOOZES, { error: 'Snooze: choose 1 hour, 1 day, 3 days or 1 week.' }).optional()),
    // The incident card moved (platform|level|day): the server works its members out again and refuses the move
    // unless they are exactly the ids sent.
    incident: z.preprocess(
      blank,
      typedText('Incident', 200)
        .refine((k) => parseIncidentKey(k) !== null, { error: 'Incident: not an incident of the board (platform|level|day).' })
        .optional(),
    ),
  })
  .superRefine((v, ctx) => {
    if (v.move === 'resolve' && (v.note ?? '').length < RESOLUTION_MIN) {
      ctx.addIssue({ code: 'custom', path: ['note'], message: `Note: say how it was resolved (at least ${RESOLUTION_MIN} characters).` });
    }
    if (v.move === 'snooze' && !v.snooze) ctx.addIssue({ code: 'custom', path: ['snooze'], message: 'Snooze: choose for how long.' });
    if (!v.incident && v.ids.length > MOVE_MAX) {
      ctx.addIssue({ code: 'custom', path: ['ids'], message: `Anomaly: at most ${MOVE_MAX} at a time (an incident moves by its card).` });
    }
  })
  .transform((v) => ({ ...v, snooze: v.move === 'snooze' ? v.snooze : undefined }));

export type MoveInput = z.output<typeof moveSchema>;

// ---------------------------------------------------------------------------
// The board's filters, from the URL: anything unknown falls back, never refused.
// ---------------------------------------------------------------------------
export const CARDS_DEFAULT = 20;
export const CARDS_MORE = 200;

export const boardFilterSchema = z.object({
  severity: z.enum(SEVERITIES).optional().catch(undefined),
  platform: z.enum(PLATFORMS).optional().catch(undefined),
  metric: z.enum(ANOMALY_METRICS).optional().catch(undefined),
  type: z.enum(ANOMALY_TYPES).optional().catch(undefined),
  level: z.enum(LEVELS).optional().catch(undefined),
  /** Show the Dismissed column. */
  dismissed: z
    .enum(['1'])
    .optional()
    .catch(undefined)
    .transform((v) => v === '1'),
  /** Show snoozed cards in Active. */
  snoozed: z
    .enum(['1'])
    .optional()
    .catch(undefined)
    .transform((v) => v === '1'),
  /** The column shown with up to CARDS_MORE cards. */
  more: z.enum(STATUSES).optional().catch(undefined),
  /** The anomaly whose detail is open. */
  anomaly: z.uuid().optional().catch(undefined),
});
export type BoardFilter = z.output<typeof boardFilterSchema>;

/** The first value of each search param. */
export function firstValues(params: Record<string, string | string[] | undefined>): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]));
}

/** The board's URL for a filter (only what is set), with changes. */
export function boardHref(f: Partial<BoardFilter>, change: Partial<Record<keyof BoardFilter, string | boolean | undefined>> = {}): string {
  const merged: Record<string, unknown> = { ...f, ...change };
  const q = new URLSearchParams();
  for (const k of ['severity', 'platform', 'metric', 'type', 'level', 'dismissed', 'snoozed', 'more', 'anomaly'] as const) {
    const v = merged[k];
    if (v === true) q.set(k, '1');
    else if (typeof v === 'string' && v) q.set(k, v);
  }
  const s = q.toString();
  return s ? `/anomalies?${s}` : '/anomalies';
}
