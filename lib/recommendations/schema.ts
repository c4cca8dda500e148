// Input of the recommendation queue: one decision, a set of decisions, and the
// queue's filters (from the URL). Shared by the forms and the server actions.
import { z } from 'zod';
import { typedText } from '@/lib/anomalies/schema';
import { PLATFORMS } from '@/lib/performance/metrics';

export const RECOMMENDATION_TYPES = ['budget_increase', 'budget_decrease', 'pause', 'bid_adjustment', 'audience', 'creative', 'timing'] as const;
export type RecommendationType = (typeof RECOMMENDATION_TYPES)[number];

export const PRIORITIES = ['critical', 'high', 'medium', 'low'] as const;
export const ENTITY_LEVELS = ['campaign', 'adset', 'ad'] as const;

export const DECISIONS = ['approve', 'dismiss'] as const;
export type Decision = (typeof DECISIONS)[number];

export const DISMISS_REASONS = ['not_relevant', 'already_done', 'disagree_with_data', 'seasonal', 'other'] as const;
export type DismissReason = (typeof DISMISS_REASONS)[number];

export const DISMISS_REASON_LABEL: Readonly<Record<DismissReason, string>> = {
  not_relevant: 'Not relevant',
  already_done: 'Already done',
  disagree_with_data: 'Disagree with the data',
  seasonal: 'Seasonal',
  other: 'Other',
};

/** Free text of a dismissal: trimmed; required (at least this long) when the reason is Other. */
export const DETAILS_MIN = 3;
export const DETAILS_MAX = 500;
/** The most a bulk decision takes at once. */
export const BULK_MAX = 100;

// A form sends '' for an untouched select or textarea: that is "not given".
const blank = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const lowerTrim = (v: unknown) => (typeof v === 'string' ? v.trim().toLowerCase() : v);

const id = z.preprocess(lowerTrim, z.uuid({ error: 'Recommendation: not a recommendation id.' }));

const decisionFields = {
  decision: z.enum(DECISIONS, { error: 'Decision: choose Approve or Dismiss.' }),
  reason: z.preprocess(blank, z.enum(DISMISS_REASONS, { error: 'Reason: choose one of the listed reasons.' }).optional()),
  // Stored as text and in the audit log's JSON, which refuse a NUL and half of an emoji: typedText names them.
  details: z.preprocess(blank, typedText('Details', DETAILS_MAX).optional()),
};

type DecisionFields = { decision: Decision; reason?: DismissReason; details?: string };

/** What a decision is once checked: an approval carries nothing else; a dismissal its reason. */
export type DecisionInput =
  | { decision: 'approve' }
  | { decision: 'dismiss'; reason: DismissReason; details?: string };

function checkReason(v: DecisionFields, ctx: z.RefinementCtx) {
  if (v.decision !== 'dismiss') return;
  if (!v.reason) ctx.addIssue({ code: 'custom', path: ['reason'], message: 'Reason: choose why you dismiss it.' });
  if (v.reason === 'other' && (v.details ?? '').length < DETAILS_MIN) {
    ctx.addIssue({ code: 'custom', path: ['details'], message: `Details: say why in at least ${DETAILS_MIN} characters (the reason is Other).` });
  }
}

function toDecision(v: DecisionFields): DecisionInput {
  // An approval's stray reason is dropped: it would be stored nowhere.
  if (v.decision === 'approve') return { decision: 'approve' };
  return v.details ? { decision: 'dismiss', reason: v.reason!, details: v.details } : { decision: 'dismiss', reason: v.reason! };
}

export const decideSchema = z
  .object({ id, ...decisionFields })
  .superRefine(checkReason)
  .transform((v): DecisionInput & { id: string } => ({ id: v.id, ...toDecision(v) }));

export const decideManySchema = z
  .object({
    // One checkbox ticked arrives as a string, several as an array.
    ids: z.preprocess(
      (v) => (typeof v === 'string' ? [v] : v),
      z
        .array(id, { error: 'Recommendations: choose at least one.' })
        .min(1, { error: 'Recommendations: choose at least one.' })
        .max(BULK_MAX, { error: `Recommendations: at most ${BULK_MAX} at a time.` })
        .refine((ids) => new Set(ids).size === ids.length, { error: 'Recommendations: each one only once.' }),
    ),
    ...decisionFields,
  })
  .superRefine(checkReason)
  .transform((v): DecisionInput & { ids: string[] } => ({ ids: v.ids, ...toDecision(v) }));

export type DecideInput = z.output<typeof decideSchema>;
export type DecideManyInput = z.output<typeof decideManySchema>;

/** The stored dismiss_reason: the preset's label, then the buyer's words. */
export function dismissReasonText(reason: DismissReason, details?: string): string {
  const label = DISMISS_REASON_LABEL[reason];
  return details ? `${label}: ${details}` : label;
}

// ---------------------------------------------------------------------------
// The queue's filters, read from the URL: anything unknown is dropped, never refused.
// ---------------------------------------------------------------------------
export const SEARCH_MAX = 100;
export const PAGE_SIZE_DEFAULT = 25;
export const PAGE_SIZE_MAX = 100;

// Out of range is brought into range (a page past the end shows the last one).
const clamp = (lo: number, hi: number, fallback: number) =>
  z.coerce
    .number()
    .int()
    .catch(fallback)
    .default(fallback)
    .transform((n) => Math.min(hi, Math.max(lo, n)));
const page = clamp(1, 100_000, 1);
const pageSize = clamp(1, PAGE_SIZE_MAX, PAGE_SIZE_DEFAULT);

export const pendingFilterSchema = z.object({
  type: z.enum(RECOMMENDATION_TYPES).optional().catch(undefined),
  platform: z.enum(PLATFORMS).optional().catch(undefined),
  priority: z.enum(PRIORITIES).optional().catch(undefined),
  level: z.enum(ENTITY_LEVELS).optional().catch(undefined),
  q: z
    .string()
    .optional()
    .catch(undefined)
    .transform((v) => v?.trim().slice(0, SEARCH_MAX) || undefined),
  page,
  pageSize,
});
export type PendingFilter = z.input<typeof pendingFilterSchema>;
export type PendingFilterParsed = z.output<typeof pendingFilterSchema>;

export const DECIDED_STATUSES = ['applied', 'dismissed', 'expired', 'withdrawn'] as const;
export type DecidedStatus = (typeof DECIDED_STATUSES)[number];

export const decidedFilterSchema = z.object({
  status: z.enum(DECIDED_STATUSES).catch('applied').default('applied'),
  decidedBy: z.uuid().optional().catch(undefined),
  page,
  pageSize,
});
export type DecidedFilter = z.input<typeof decidedFilterSchema>;

/** The first value of each search param, as the filter schemas want. */
export function firstValues(params: Record<string, string | string[] | undefined>): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]));
}
