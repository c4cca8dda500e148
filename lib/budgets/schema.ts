// Input of the budgets page: editing an allocation, accepting the engine's
// recommended budget, adding an allocation for a campaign without one, and the
// page's filters from the URL. Shared by the forms and the server actions.
// Every message names its field; one wrong field refuses the whole input.
import { z } from 'zod';
import { PLATFORMS } from '@/lib/performance/metrics';

export const STRATEGIES = ['performance', 'even', 'manual', 'target_roas', 'target_cpa'] as const;
export type Strategy = (typeof STRATEGIES)[number];

export const STRATEGY_LABEL: Readonly<Record<Strategy, string>> = {
  performance: 'Performance',
  even: 'Even',
  manual: 'Manual',
  target_roas: 'Target ROAS',
  target_cpa: 'Target CPA',
};

export const ALLOCATION_STATUSES = ['active', 'paused', 'ended'] as const;
export type AllocationStatusValue = (typeof ALLOCATION_STATUSES)[number];

export const STATUS_LABEL: Readonly<Record<AllocationStatusValue, string>> = { active: 'Active', paused: 'Paused', ended: 'Ended' };

/** The largest amount a budget field takes (ads.budget_allocation holds numeric(14,2); this is the product's limit). */
export const MONEY_MAX = 10_000_000;
/** The largest target ROAS: a return of 1,000 times the spend is no target (3 means 300 %). */
export const ROAS_MAX = 1_000;

export const FIELD_LABEL = {
  dailyBudget: 'Daily budget',
  minBudget: 'Minimum budget',
  maxBudget: 'Maximum budget',
  strategy: 'Strategy',
  targetRoas: 'Target ROAS',
  targetCpa: 'Target CPA',
  status: 'Status',
} as const;
export type BudgetField = keyof typeof FIELD_LABEL;

/** What a checked set of allocation fields is: amounts as numbers (cents exact), bounds and targets null when not set. */
export interface BudgetValues {
  dailyBudget: number;
  minBudget: number | null;
  maxBudget: number | null;
  strategy: Strategy;
  targetRoas: number | null;
  targetCpa: number | null;
  status: AllocationStatusValue;
}

type Problem = 'format' | 'negative' | 'positive' | 'max' | 'decimals';

/**
 * A decimal typed by a buyer: digits with one optional decimal point or comma ("120", "120.50", "120,50"),
 * spaces ignored. Thousands separators are refused rather than guessed ("1,234" could be either).
 * '' and null are "not given" (undefined).
 */
export function parseDecimal(raw: unknown, opts: { decimals: number; max: number; positive: boolean }): { value: number | undefined } | { problem: Problem } {
  if (raw === undefined || raw === null) return { value: undefined };
  if (typeof raw !== 'string' && typeof raw !== 'number') return { problem: 'format' };
  const text = String(raw).replace(/[\s\u00a0\u202f]/g, '');
  if (text === '') return { value: undefined };
  const m = /^(-?)(\d+)(?:[.,](\d+))?$/.exec(text);
  if (!m) return { problem: 'format' };
  const fraction = (m[3] ?? '').replace(/0+$/, '');
  const value = Number(`${m[2]}.${fraction || '0'}`);
  if (m[1] === '-' && value !== 0) return { problem: 'negative' };
  if (fraction.length > opts.decimals) return { problem: 'decimals' };
  if (value > opts.max) return { problem: 'max' };
  if (opts.positive && value === 0) return { problem: 'positive' };
  return { value };
}

const MONEY = { decimals: 2, max: MONEY_MAX };
const plain = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2));

function problemText(label: string, p: Problem, kind: 'money' | 'ratio'): string {
  switch (p) {
    case 'format':
      return kind === 'money'
        ? `${label}: enter an amount in digits, e.g. 120 or 120.50 (no thousands separators).`
        : `${label}: enter a number in digits, e.g. 3 or 2.5.`;
    case 'negative':
      return `${label}: cannot be negative.`;
    case 'positive':
      return `${label}: must be above 0.`;
    case 'max':
      return `${label}: at most ${(kind === 'money' ? MONEY_MAX : ROAS_MAX).toLocaleString('en-GB')}.`;
    case 'decimals':
      return `${label}: at most ${kind === 'money' ? 2 : 4} decimals.`;
  }
}

/** The problems found, by field, in the order the form lists its fields. */
type Issues = { path: BudgetField; message: string }[];

function amount(issues: Issues, field: BudgetField, raw: unknown, opts: { required: boolean; positive: boolean; kind: 'money' | 'ratio' }): number | null {
  const label = FIELD_LABEL[field];
  const r = parseDecimal(raw, opts.kind === 'money' ? { ...MONEY, positive: opts.positive } : { decimals: 4, max: ROAS_MAX, positive: opts.positive });
  if ('problem' in r) {
    issues.push({ path: field, message: problemText(label, r.problem, opts.kind) });
    return null;
  }
  if (r.value === undefined) {
    if (opts.required) issues.push({ path: field, message: `${label}: enter an amount, e.g. 120 or 120.50.` });
    return null;
  }
  return r.value;
}

function choice<T extends string>(issues: Issues, field: BudgetField, raw: unknown, values: readonly T[], fallback: T | undefined, message: string): T | null {
  const v = typeof raw === 'string' ? raw.trim().toLowerCase() : raw;
  if ((v === undefined || v === '') && fallback !== undefined) return fallback;
  if (typeof v === 'string' && (values as readonly string[]).includes(v)) return v as T;
  issues.push({ path: field, message });
  return null;
}

// Raw here, checked together in checkValues (so every field's problem is reported at once).
const rawFields = {
  dailyBudget: z.unknown().optional(),
  minBudget: z.unknown().optional(),
  maxBudget: z.unknown().optional(),
  strategy: z.unknown().optional(),
  targetRoas: z.unknown().optional(),
  targetCpa: z.unknown().optional(),
  status: z.unknown().optional(),
};
type RawFields = { [K in keyof typeof rawFields]?: unknown };

/** Every field, then the rules between them; null (with the issues added to ctx) when any is wrong. */
function checkValues(v: RawFields, ctx: z.RefinementCtx, defaults: { strategy?: Strategy; status?: AllocationStatusValue } = {}): BudgetValues | null {
  const issues: Issues = [];
  const daily = amount(issues, 'dailyBudget', v.dailyBudget, { required: true, positive: false, kind: 'money' });
  const min = amount(issues, 'minBudget', v.minBudget, { required: false, positive: false, kind: 'money' });
  const max = amount(issues, 'maxBudget', v.maxBudget, { required: false, positive: false, kind: 'money' });
  const strategy = choice(issues, 'strategy', v.strategy, STRATEGIES, defaults.strategy, 'Strategy: choose Performance, Even, Manual, Target ROAS or Target CPA.');
  const targetRoas = amount(issues, 'targetRoas', v.targetRoas, { required: false, positive: true, kind: 'ratio' });
  const targetCpa = amount(issues, 'targetCpa', v.targetCpa, { required: false, positive: true, kind: 'money' });
  const status = choice(issues, 'status', v.status, ALLOCATION_STATUSES, defaults.status, 'Status: choose Active, Paused or Ended.');

  if (daily !== null && min !== null && min > daily) {
    issues.push({ path: 'minBudget', message: `Minimum budget: must not be above the daily budget (${plain(daily)}).` });
  }
  if (daily !== null && max !== null && max < daily) {
    issues.push({ path: 'maxBudget', message: `Maximum budget: must not be below the daily budget (${plain(daily)}).` });
  }
  // Without a valid daily budget to name, the bounds are still checked against each other.
  if (daily === null && min !== null && max !== null && min > max) {
    issues.push({ path: 'maxBudget', message: `Maximum budget: must not be below the minimum budget (${plain(min)}).` });
  }
  if (strategy === 'target_roas' && targetRoas === null && !isGiven(v.targetRoas)) {
    issues.push({ path: 'targetRoas', message: 'Target ROAS: required with the Target ROAS strategy (e.g. 3 for 300 %).' });
  }
  if (strategy === 'target_cpa' && targetCpa === null && !isGiven(v.targetCpa)) {
    issues.push({ path: 'targetCpa', message: 'Target CPA: required with the Target CPA strategy.' });
  }
  for (const i of issues) ctx.addIssue({ code: 'custom', path: [i.path], message: i.message });
  if (issues.length > 0 || daily === null || strategy === null || status === null) return null;
  return { dailyBudget: daily, minBudget: min, maxBudget: max, strategy, targetRoas, targetCpa, status };
}

const isGiven = (raw: unknown) => raw !== undefined && raw !== null && !(typeof raw === 'string' && raw.trim() === '');

const lowerTrim = (v: unknown) => (typeof v === 'string' ? v.trim().toLowerCase() : v);
const budgetId = z.preprocess(lowerTrim, z.uuid({ error: 'Budget: not a budget id.' }));

/** The row's updated_at as the page read it, to the microsecond (UTC): the edit is refused when the row moved since. */
export const VERSION_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const version = z.string({ error: 'Version: reload the page and try again.' }).regex(VERSION_PATTERN, { error: 'Version: reload the page and try again.' });

export const updateBudgetSchema = z
  .object({ id: budgetId, version, ...rawFields })
  .transform((v, ctx) => {
    const values = checkValues(v, ctx);
    return values === null ? z.NEVER : { id: v.id, version: v.version, ...values };
  });
export type UpdateBudgetInput = z.output<typeof updateBudgetSchema>;

export const acceptRecommendedSchema = z
  .object({ id: budgetId, version, recommended: z.unknown().optional() })
  .transform((v, ctx) => {
    const r = parseDecimal(v.recommended, { ...MONEY, positive: false });
    if ('problem' in r || r.value === undefined) {
      ctx.addIssue({ code: 'custom', path: ['recommended'], message: 'Recommended budget: reload the page and try again (the amount shown is missing).' });
      return z.NEVER;
    }
    return { id: v.id, version: v.version, recommended: r.value };
  });
export type AcceptRecommendedInput = z.output<typeof acceptRecommendedSchema>;

export const CAMPAIGN_ID_MAX = 200;

export const createBudgetSchema = z
  .object({
    platform: z.preprocess(lowerTrim, z.enum(PLATFORMS, { error: 'Platform: not a platform of this product.' })),
    campaignId: z
      .string({ error: 'Campaign: choose a campaign from the list.' })
      .trim()
      .min(1, { error: 'Campaign: choose a campaign from the list.' })
      .max(CAMPAIGN_ID_MAX, { error: `Campaign: at most ${CAMPAIGN_ID_MAX} characters.` })
      // No campaign id holds a control character or half of an emoji; PostgreSQL would refuse the NUL outright.
      .refine((v) => !/[\u0000-\u001f\u007f]/.test(v) && v.isWellFormed(), { error: 'Campaign: choose a campaign from the list.' }),
    ...rawFields,
  })
  .transform((v, ctx) => {
    const values = checkValues(v, ctx, { strategy: 'performance', status: 'active' });
    return values === null ? z.NEVER : { platform: v.platform, campaignId: v.campaignId, ...values };
  });
export type CreateBudgetInput = z.output<typeof createBudgetSchema>;

// ---------------------------------------------------------------------------
// The page's filters, read from the URL: anything unknown falls back, never refused.
// ---------------------------------------------------------------------------
export const SHOW = ['all', 'off_pace', 'active', 'paused', 'ended'] as const;
export type Show = (typeof SHOW)[number];
export const SHOW_LABEL: Readonly<Record<Show, string>> = {
  all: 'Every allocation',
  off_pace: 'Off pace only',
  active: 'Active',
  paused: 'Paused',
  ended: 'Ended',
};

export const budgetFilterSchema = z.object({
  platform: z.enum(PLATFORMS).optional().catch(undefined),
  show: z.enum(SHOW).catch('all').default('all'),
});
export type BudgetFilter = z.output<typeof budgetFilterSchema>;

export function budgetsHref(f: Partial<BudgetFilter>): string {
  const q = new URLSearchParams();
  if (f.platform) q.set('platform', f.platform);
  if (f.show && f.show !== 'all') q.set('show', f.show);
  const s = q.toString();
  return s ? `/budgets?${s}` : '/budgets';
}
