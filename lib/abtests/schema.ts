// Input of the A/B test form and of the test's moves (start, pause, resume, complete, cancel,
// declare a winner). Shared by the form (field names, limits) and the server actions, which parse
// with these schemas before anything is read or written. Every message names its field.
// Client-safe: no database, no 'server-only'.
import { z } from 'zod';
import { PLATFORMS, type Platform } from '@/lib/performance/metrics';
import { AB_TEST_TYPES, DB_METRICS, MAX_TOTAL, parsePerformance, PERFORMANCE_KEYS, type AbTestType, type DbMetric, type PerformanceJson } from './model';

export const NAME_MAX = 200;
export const HYPOTHESIS_MAX = 2000;
export const VARIANT_NAME_MAX = 200;
/** The most platform ids that may carry one variant. */
export const IDS_PER_VARIANT_MAX = 50;
/** A test runs at most this many days after its start (end date included in the count from the start). */
export const MAX_TEST_DAYS = 180;
/** The earliest start date: this many days before the tenant's today (a test already running on the platform). */
export const START_BACK_DAYS = 90;
/** The latest start date: this many days after the tenant's today. */
export const START_AHEAD_DAYS = 365;
/** The planned share of B, in percent, and the default. */
export const SHARE_MIN = 5;
export const SHARE_MAX = 95;
export const SHARE_DEFAULT = 50;
/** The minimum detectable effect, in percent, and the default. */
export const MDE_MIN = 1;
export const MDE_MAX = 100;
export const MDE_DEFAULT = 10;

export const ARMS = ['A', 'B'] as const;
export type Arm = (typeof ARMS)[number];

export const SOURCES = ['ids', 'entered'] as const;
/** ids: the platform ids of the ad sets, ads or campaigns that carry the variant; entered: measured elsewhere, totals typed in. */
export type VariantSource = (typeof SOURCES)[number];

/** ads.entity_level: the levels a platform id can be at. */
export const ENTITY_LEVELS = ['campaign', 'adset', 'ad'] as const;
export type EntityLevel = (typeof ENTITY_LEVELS)[number];

export const LEVEL_LABEL: Readonly<Record<EntityLevel, { one: string; many: string }>> = {
  campaign: { one: 'campaign', many: 'campaigns' },
  adset: { one: 'ad set', many: 'ad sets' },
  ad: { one: 'ad', many: 'ads' },
};

export const ALLOCATION_UNITS = ['spend', 'impressions'] as const;
export type AllocationUnit = (typeof ALLOCATION_UNITS)[number];

export const ALLOCATION_LABEL: Readonly<Record<AllocationUnit, string>> = {
  spend: 'Budget (spend)',
  impressions: 'Audience (impressions)',
};

/** The form's names of the entered totals of a variant: a_impressions, …, b_conversion_value. */
export type TotalsField = `${'a' | 'b'}_${(typeof PERFORMANCE_KEYS)[number]}`;
export const totalsField = (arm: Arm, key: (typeof PERFORMANCE_KEYS)[number]): TotalsField => `${arm === 'A' ? 'a' : 'b'}_${key}`;

export const TOTALS_LABEL: Readonly<Record<(typeof PERFORMANCE_KEYS)[number], string>> = {
  impressions: 'impressions',
  clicks: 'clicks',
  conversions: 'conversions',
  spend: 'spend',
  conversion_value: 'conversion value',
};

/** One platform id as the form sends it: `level:platform_id` (a level has no colon, an id may). */
export function entityKey(level: EntityLevel, platformId: string): string {
  return `${level}:${platformId}`;
}

export interface EntityRef {
  level: EntityLevel;
  platformId: string;
}

// A platform id as ads_engine.ab_test_variants accepts it: 1 to 200 characters, no space or control character,
// and no half of an emoji (it would be stored as another character, an id no platform has).
const PLATFORM_ID_RE = /^[^\s\p{Cc}\p{Cs}]{1,200}$/u;

export function parseEntityKey(key: string): EntityRef | null {
  const i = key.indexOf(':');
  if (i < 0) return null;
  const level = key.slice(0, i);
  const platformId = key.slice(i + 1);
  if (!(ENTITY_LEVELS as readonly string[]).includes(level) || !PLATFORM_ID_RE.test(platformId)) return null;
  return { level: level as EntityLevel, platformId };
}

// ---------------------------------------------------------------------------------------------
// Text, numbers and days as people type them

// Control characters (C0, DEL, C1); a multi-line text keeps tab, line feed and carriage return.
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f]/;
const CONTROL_BUT_LINES_RE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;

/** Text typed on one line (a name): trimmed, min..max characters, no control character, well-formed. */
function lineText(field: string, min: number, max: number) {
  const size = min > 0 ? `${field}: ${min} to ${max} characters.` : `${field}: at most ${max} characters.`;
  return z
    .string({ error: `${field}: write it as text.` })
    .refine((s) => !CONTROL_RE.test(s), { error: `${field}: remove the control character (a tab, a line break or an invisible code) it contains.`, abort: true })
    .refine((s) => s.isWellFormed(), { error: `${field}: it contains a broken character (half of an emoji?): type it again.`, abort: true })
    .trim()
    .min(min, { error: min === 1 ? `${field}: required (1 to ${max} characters).` : size })
    .max(max, { error: size });
}

/** Text that may run over lines (the hypothesis): as lineText, but tabs and line breaks are kept. */
function longText(field: string, max: number) {
  return z
    .string({ error: `${field}: write it as text.` })
    .refine((s) => !CONTROL_BUT_LINES_RE.test(s), { error: `${field}: remove the invisible control character it contains.`, abort: true })
    .refine((s) => s.isWellFormed(), { error: `${field}: it contains a broken character (half of an emoji?): type it again.`, abort: true })
    .trim()
    .max(max, { error: `${field}: at most ${max} characters.` });
}

const isBlank = (v: unknown) => v === undefined || v === null || (typeof v === 'string' && v.trim() === '');
const blankToUndefined = (v: unknown) => (isBlank(v) ? undefined : v);

// A number as typed: digits with a decimal point, or a decimal comma followed by one or two digits
// ("12,5" is 12.5; "1,200" is refused rather than read as 1.2), an optional trailing %.
const NUMBER_RE = /^\d+(?:\.\d+|,\d{1,2})?$/;

/** The typed number, NaN when it is not one, undefined when blank. */
export function typedNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (isBlank(v)) return undefined;
  if (typeof v !== 'string') return Number.NaN;
  const s = v.replace(/[\s\u00a0\u202f]/g, '').replace(/%$/, '');
  if (!NUMBER_RE.test(s)) return Number.NaN;
  return Number(s.replace(',', '.'));
}

const decimals = (n: number) => {
  const s = String(n);
  const i = s.indexOf('.');
  return i < 0 ? 0 : s.length - i - 1;
};

/** A percentage from min to max with at most `places` decimals; blank is the default. */
function percent(field: string, min: number, max: number, places: number, fallback: number) {
  const message = `${field}: a percentage from ${min} to ${max}${places ? ` (at most ${places} decimal${places > 1 ? 's' : ''})` : ''}.`;
  return z.preprocess(
    (v) => typedNumber(v) ?? fallback,
    z
      .number({ error: message })
      .refine((n) => Number.isFinite(n) && n >= min && n <= max && decimals(n) <= places, { error: message }),
  );
}

const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Whether s is a real calendar day 'YYYY-MM-DD' (2000 to 2099). */
export function isCalendarDay(s: string): boolean {
  const m = DAY_RE.exec(s);
  if (!m) return false;
  const y = Number(m[1]);
  if (y < 2000 || y > 2099) return false;
  const d = new Date(Date.UTC(y, Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === s;
}

/** day + n days (calendar arithmetic, no time zone). */
export function addDays(day: string, n: number): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

/** Days from `from` to `to` (to − from). */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

/** A calendar day; `missing` is the message when it is left blank (required), else blank is undefined. */
function day(field: string, missing?: string) {
  const schema = z
    .string({ error: (iss) => (iss.input === undefined && missing ? missing : `${field}: a date (YYYY-MM-DD).`) })
    .trim()
    .refine(isCalendarDay, {
      // a well-formed day outside the years a test can run in (2126-01-01) is named as such
      error: (iss) => {
        const m = typeof iss.input === 'string' ? DAY_RE.exec(iss.input) : null;
        return m && (Number(m[1]) < 2000 || Number(m[1]) > 2099) ? `${field}: a date from 2000 to 2099.` : `${field}: a date (YYYY-MM-DD).`;
      },
    });
  return z.preprocess(blankToUndefined, missing ? schema : schema.optional());
}

// A checkbox sends 'on' when ticked and nothing otherwise.
const checkbox = z.preprocess((v) => v === 'on' || v === 'true' || v === '1' || v === true, z.boolean());

const toList = (v: unknown) => (v === undefined || v === null || v === '' ? [] : Array.isArray(v) ? v : [v]);

/** The version token of a test: its updated_at in UTC, to the microsecond as the forms carry it (or the millisecond). */
export const VERSION_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z$/;

const testId = z.preprocess(
  (v) => (typeof v === 'string' ? v.trim().toLowerCase() : v),
  z.uuid({ error: 'Test: not an A/B test id.' }),
);

// ---------------------------------------------------------------------------------------------
// The test form

export const VARIANT_FIELD: Readonly<Record<Arm, { name: 'variantA' | 'variantB'; source: 'sourceA' | 'sourceB'; ids: 'idsA' | 'idsB' }>> = {
  A: { name: 'variantA', source: 'sourceA', ids: 'idsA' },
  B: { name: 'variantB', source: 'sourceB', ids: 'idsB' },
};

const totalsShape = Object.fromEntries(
  ARMS.flatMap((arm) => PERFORMANCE_KEYS.map((k) => [totalsField(arm, k), z.unknown().optional()])),
) as Record<TotalsField, z.ZodOptional<z.ZodUnknown>>;

const fieldsShape = {
  name: lineText('Name', 1, NAME_MAX),
  type: z.enum(AB_TEST_TYPES, { error: 'Type: choose creative, audience, bidding, landing page, placement or other.' }),
  hypothesis: z.preprocess((v) => (v === undefined || v === null ? '' : v), longText('Hypothesis', HYPOTHESIS_MAX)),
  platform: z.enum(PLATFORMS, { error: 'Platform: choose one of the platforms.' }),
  campaign: z.preprocess(
    blankToUndefined,
    z
      .string({ error: 'Campaign: not a campaign id.' })
      .trim()
      .regex(PLATFORM_ID_RE, { error: 'Campaign: not a campaign id.' })
      .optional(),
  ),
  variantA: lineText('Variant A name', 1, VARIANT_NAME_MAX),
  variantB: lineText('Variant B name', 1, VARIANT_NAME_MAX),
  sourceA: z.enum(SOURCES, { error: 'Variant A source: choose the ids that carry it, or “measured elsewhere”.' }),
  sourceB: z.enum(SOURCES, { error: 'Variant B source: choose the ids that carry it, or “measured elsewhere”.' }),
  idsA: z.preprocess(toList, z.array(z.string({ error: 'Variant A ids: not a platform id.' }), { error: 'Variant A ids: not a list of platform ids.' })),
  idsB: z.preprocess(toList, z.array(z.string({ error: 'Variant B ids: not a platform id.' }), { error: 'Variant B ids: not a list of platform ids.' })),
  ...totalsShape,
  metric: z.enum(DB_METRICS, { error: 'Primary metric: choose conversion rate, CTR, CPA, ROAS or CPC.' }),
  shareB: percent('Share of B', SHARE_MIN, SHARE_MAX, 1, SHARE_DEFAULT),
  allocationUnit: z.preprocess(
    (v) => (isBlank(v) ? 'spend' : v),
    z.enum(ALLOCATION_UNITS, { error: 'What is split: the budget (spend) or the audience (impressions).' }),
  ),
  startDate: day('Start date'),
  endDate: day('End date', 'End date: choose the last day of the test.'),
  mde: percent('Minimum detectable effect', MDE_MIN, MDE_MAX, 2, MDE_DEFAULT),
  startNow: checkbox,
};

export type VariantInput =
  | { name: string; source: 'ids'; entities: EntityRef[] }
  | { name: string; source: 'entered'; totals: PerformanceJson };

export interface AbTestFields {
  name: string;
  type: AbTestType;
  /** null when blank. */
  hypothesis: string | null;
  platform: Platform;
  /** null: no campaign (the variants are whole campaigns, or measured elsewhere). */
  campaignId: string | null;
  variants: Record<Arm, VariantInput>;
  metric: DbMetric;
  /** Planned share of B, a fraction with three decimals (0.5). */
  shareB: number;
  allocationUnit: AllocationUnit;
  /** Minimum detectable effect, a fraction with four decimals (0.1). */
  mde: number;
  /** null: the day the test starts. */
  startDate: string | null;
  endDate: string;
  startNow: boolean;
}

type RawFields = z.output<z.ZodObject<typeof fieldsShape>>;

const COUNT_KEYS = new Set(['impressions', 'clicks']);

/** A variant's entered totals, each field checked and named, then the model's own rules (parsePerformance). */
function checkTotals(arm: Arm, raw: RawFields, ctx: z.RefinementCtx): PerformanceJson | null {
  const out: Record<string, number> = {};
  let ok = true;
  for (const key of PERFORMANCE_KEYS) {
    const field = totalsField(arm, key);
    const label = `Variant ${arm} ${TOTALS_LABEL[key]}`;
    const n = typedNumber(raw[field]) ?? 0;
    const whole = COUNT_KEYS.has(key);
    const rule = whole ? 'a whole number, 0 or more' : 'a number, 0 or more, with at most 2 decimals';
    let message: string | null = null;
    if (!Number.isFinite(n)) message = `${label}: ${rule} (without thousands separators).`;
    // a number sent as a number (not typed) can be negative
    else if (n < 0) message = `${label}: ${rule}.`;
    else if (n >= MAX_TOTAL) message = `${label}: too large (below ${MAX_TOTAL.toExponential()}).`;
    else if (whole && !Number.isInteger(n)) message = `${label}: ${rule}.`;
    else if (!whole && decimals(n) > 2) message = `${label}: ${rule}.`;
    if (message) {
      ctx.addIssue({ code: 'custom', path: [field], message });
      ok = false;
    }
    out[key] = n;
  }
  if (!ok) return null;
  const parsed = parsePerformance(out, `Variant ${arm} totals`);
  if (!parsed.ok) {
    // The model's cross-field rules: clicks within impressions, conversions within clicks.
    const field = /conversions \(/.test(parsed.message) ? totalsField(arm, 'conversions') : totalsField(arm, 'clicks');
    const message = /conversions \(/.test(parsed.message)
      ? `Variant ${arm} conversions: cannot exceed its clicks (${out.clicks}).`
      : /clicks \(/.test(parsed.message)
        ? `Variant ${arm} clicks: cannot exceed its impressions (${out.impressions}).`
        : parsed.message;
    ctx.addIssue({ code: 'custom', path: [field], message });
    return null;
  }
  return out as PerformanceJson;
}

/** A variant's platform ids: each `level:id`, at most IDS_PER_VARIANT_MAX, each once. */
function checkIds(arm: Arm, raw: RawFields, ctx: z.RefinementCtx): EntityRef[] | null {
  const field = VARIANT_FIELD[arm].ids;
  const keys = raw[field];
  if (keys.length === 0) {
    ctx.addIssue({
      code: 'custom',
      path: [field],
      message: `Variant ${arm}: choose at least one ad set, ad or campaign that carries it, or choose “measured elsewhere” and enter its totals.`,
    });
    return null;
  }
  if (keys.length > IDS_PER_VARIANT_MAX) {
    ctx.addIssue({ code: 'custom', path: [field], message: `Variant ${arm}: at most ${IDS_PER_VARIANT_MAX} ids.` });
    return null;
  }
  const refs: EntityRef[] = [];
  for (const k of keys) {
    const ref = parseEntityKey(k.trim());
    if (!ref) {
      ctx.addIssue({ code: 'custom', path: [field], message: `Variant ${arm}: “${k.slice(0, 60)}” is not a platform id (level:id).` });
      return null;
    }
    refs.push(ref);
  }
  if (new Set(refs.map((r) => entityKey(r.level, r.platformId))).size !== refs.length) {
    ctx.addIssue({ code: 'custom', path: [field], message: `Variant ${arm}: each id only once.` });
    return null;
  }
  return refs;
}

function checkFields(raw: RawFields, ctx: z.RefinementCtx): Omit<AbTestFields, 'startNow'> | null {
  if (raw.variantA.toLocaleLowerCase() === raw.variantB.toLocaleLowerCase()) {
    ctx.addIssue({ code: 'custom', path: ['variantB'], message: 'Variant B name: give it a name different from variant A’s.' });
  }
  const variants: Partial<Record<Arm, VariantInput>> = {};
  for (const arm of ARMS) {
    const f = VARIANT_FIELD[arm];
    const name = raw[f.name];
    if (raw[f.source] === 'ids') {
      const entities = checkIds(arm, raw, ctx);
      if (entities) variants[arm] = { name, source: 'ids', entities };
    } else {
      const totals = checkTotals(arm, raw, ctx);
      if (totals) variants[arm] = { name, source: 'entered', totals };
    }
  }
  const a = variants.A;
  const b = variants.B;
  if (a?.source === 'ids' && b?.source === 'ids') {
    const inA = new Set(a.entities.map((e) => entityKey(e.level, e.platformId)));
    const both = b.entities.filter((e) => inA.has(entityKey(e.level, e.platformId)));
    if (both.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['idsB'],
        message: `Variant B: ${both.map((e) => e.platformId).slice(0, 5).join(', ')} ${both.length === 1 ? 'is' : 'are'} also in variant A: an id carries one variant only.`,
      });
    }
  }
  // One level for the whole test: an ad set and one of its own ads would count the same delivery twice.
  const levels = new Set([...(a?.source === 'ids' ? a.entities : []), ...(b?.source === 'ids' ? b.entities : [])].map((e) => e.level));
  if (levels.size > 1) {
    const which = a?.source === 'ids' && new Set(a.entities.map((e) => e.level)).size > 1 ? 'idsA' : 'idsB';
    ctx.addIssue({
      code: 'custom',
      path: [which],
      message: `Variant ${which === 'idsA' ? 'A' : 'B'}: all ids of a test are at one level (${[...levels].map((l) => LEVEL_LABEL[l].many).join(' or ')}, not both), so that no delivery counts twice.`,
    });
  }
  const endDate = raw.endDate as string;
  if (raw.startDate) {
    if (endDate < raw.startDate) {
      ctx.addIssue({ code: 'custom', path: ['endDate'], message: `End date: on or after the start date (${raw.startDate}).` });
    } else if (daysBetween(raw.startDate, endDate) > MAX_TEST_DAYS) {
      ctx.addIssue({
        code: 'custom',
        path: ['endDate'],
        message: `End date: within ${MAX_TEST_DAYS} days of the start date (${addDays(raw.startDate, MAX_TEST_DAYS)} at the latest).`,
      });
    }
  }
  if (!a || !b) return null;
  return {
    name: raw.name,
    type: raw.type,
    hypothesis: raw.hypothesis === '' ? null : raw.hypothesis,
    platform: raw.platform,
    campaignId: raw.campaign ?? null,
    variants: { A: a, B: b },
    metric: raw.metric,
    shareB: Math.round(raw.shareB * 10) / 1000,
    allocationUnit: raw.allocationUnit,
    mde: Math.round(raw.mde * 100) / 10_000,
    startDate: raw.startDate ?? null,
    endDate,
  };
}

/** The form's fields to the test they describe, or z.NEVER with every problem named on its field. */
function toFields(raw: RawFields, ctx: z.RefinementCtx): AbTestFields {
  let problems = 0;
  const counting: z.RefinementCtx = Object.assign(Object.create(ctx) as z.RefinementCtx, {
    addIssue: (issue: Parameters<z.RefinementCtx['addIssue']>[0]) => {
      problems++;
      ctx.addIssue(issue);
    },
  });
  const fields = checkFields(raw, counting);
  if (!fields || problems > 0) return z.NEVER;
  return { ...fields, startNow: raw.startNow };
}

/** A new test (a draft; with startNow ticked, started at once). */
export const createAbTestSchema = z.object(fieldsShape).transform((raw, ctx) => toFields(raw, ctx));
export type CreateAbTestInput = z.output<typeof createAbTestSchema>;

const versionMessage = 'Version: the form lost the version it was opened on: reload the page.';

/**
 * A change to a test, with the version the form was opened on (a stale one is refused). Every field is
 * sent: those fixed since the test started come back as they are, and any difference is refused.
 */
export const updateAbTestSchema = z
  .object({
    ...fieldsShape,
    id: testId,
    expectedUpdatedAt: z.string({ error: versionMessage }).regex(VERSION_RE, { error: versionMessage }),
  })
  .transform((raw, ctx) => {
    const fields = toFields(raw, ctx);
    return { ...fields, id: raw.id, expectedUpdatedAt: raw.expectedUpdatedAt };
  });
export type UpdateAbTestInput = z.output<typeof updateAbTestSchema>;

// ---------------------------------------------------------------------------------------------
// Moves

export const MOVES = ['start', 'pause', 'resume', 'complete', 'cancel', 'declare_winner'] as const;
export type AbTestMove = (typeof MOVES)[number];

export const moveAbTestSchema = z
  .object({
    id: testId,
    move: z.enum(MOVES, { error: 'Move: choose start, pause, resume, complete, cancel or declare a winner.' }),
    winner: z.preprocess(blankToUndefined, z.enum(ARMS, { error: 'Winner: choose variant A or B.' }).optional()),
    /** Declaring a winner the decision rule has not reached: the buyer says so explicitly. */
    confirmNoSignificance: checkbox,
    /** The version the buttons were shown with; when sent, a test changed since is refused. */
    expectedUpdatedAt: z.preprocess(
      blankToUndefined,
      z.string({ error: 'Version: reload the page.' }).regex(VERSION_RE, { error: 'Version: reload the page.' }).optional(),
    ),
  })
  .superRefine((v, ctx) => {
    if (v.move === 'declare_winner' && !v.winner) ctx.addIssue({ code: 'custom', path: ['winner'], message: 'Winner: choose variant A or B.' });
  })
  .transform((v) => ({ ...v, winner: v.move === 'declare_winner' ? v.winner : undefined }));
export type MoveAbTestInput = z.output<typeof moveAbTestSchema>;

/** The statuses a move starts from (each also a move TRANSITIONS allows). */
export const MOVE_FROM: Readonly<Record<AbTestMove, readonly ('draft' | 'running' | 'paused')[]>> = {
  start: ['draft'],
  pause: ['running'],
  resume: ['paused'],
  complete: ['running', 'paused'],
  cancel: ['draft', 'running', 'paused'],
  declare_winner: ['running', 'paused'],
};

export const MOVE_TO: Readonly<Record<AbTestMove, 'running' | 'paused' | 'completed' | 'cancelled'>> = {
  start: 'running',
  pause: 'paused',
  resume: 'running',
  complete: 'completed',
  cancel: 'cancelled',
  declare_winner: 'completed',
};

export const STATUS_LABEL = {
  draft: 'a draft',
  running: 'running',
  paused: 'paused',
  completed: 'completed',
  cancelled: 'cancelled',
} as const;

/** The one line the form shows beside the design fixed at the start. */
export const FROZEN_REASON = 'fixed when the test started, so that looking every day keeps the false-winner rate at 5 %';
