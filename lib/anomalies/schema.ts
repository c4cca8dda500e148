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
/** The most anomalies one move takes (an incident's members). */
export const MOVE_MAX = 200;

const blank = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const lowerTrim = (v: unknown) => (typeof v === 'string' ? v.trim().toLowerCase() : v);

const id = z.preprocess(lowerTrim, z.uuid({ error: 'Anomaly: not an anomaly id.' }));

export const moveSchema = z
  .object({
    // One card sends one id; an incident sends each of its members.
    ids: z.preprocess(
      (v) => (typeof v === 'string' ? [v] : v),
      z
        .array(id, { error: 'Anomaly: choose at least one.' })
        .min(1, { error: 'Anomaly: choose at least one.' })
        .max(MOVE_MAX, { error: `Anomaly: at most ${MOVE_MAX} at a time.` })
        .refine((ids) => new Set(ids).size === ids.length, { error: 'Anomaly: each one only once.' }),
    ),
    move: z.enum(MOVES, { error: 'Move: choose acknowledge, resolve, reopen, dismiss or snooze.' }),
    // The status the card showed: a card someone else moved meanwhile is refused, not moved twice.
    expected: z.enum(STATUSES, { error: 'Expected status: active, investigating, resolved or dismissed.' }),
    note: z.preprocess(
      blank,
      z
        .string({ error: 'Note: write it as text.' })
        .trim()
        .max(NOTE_MAX, { error: `Note: at most ${NOTE_MAX} characters.` })
        .optional(),
    ),
    snooze: z.preprocess(blank, z.enum(SNOOZES, { error: 'Snooze: choose 1 hour, 1 day, 3 days or 1 week.' }).optional()),
    // The incident the members were grouped in (shown in the history); only a label.
    incident: z.preprocess(blank, z.string().trim().max(200, { error: 'Incident: at most 200 characters.' }).optional()),
  })
  .superRefine((v, ctx) => {
    if (v.move === 'resolve' && (v.note ?? '').length < RESOLUTION_MIN) {
      ctx.addIssue({ code: 'custom', path: ['note'], message: `Note: say how it was resolved (at least ${RESOLUTION_MIN} characters).` });
    }
    if (v.move === 'snooze' && !v.snooze) ctx.addIssue({ code: 'custom', path: ['snooze'], message: 'Snooze: choose for how long.' });
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
