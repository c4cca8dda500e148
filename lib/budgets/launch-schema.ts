// Input of the campaign launch (/budgets/launch): one form, four steps, as the
// guide's "Workflow 2: Campaign Launch" orders them: (1) the campaign and its
// budget allocation, (2) the platform's engine settings, (3) an optional A/B
// test on the campaign, (4) anomaly detection on for the platform.
//
// Each step is checked by its own feature's schema (createBudgetSchema,
// createAbTestSchema; the settings fields by platformConfigSchema inside the
// transaction, where the tenant's currency is known). This schema never
// refuses the post by itself: it gathers every step's problems, keyed
// `step.field`, so that the handler can add what only the data can tell (a
// budget already there, settings changed since the page was opened, an end
// date before today) and answer with every problem at once. Client-safe.
import { z } from 'zod';
import { createAbTestSchema, entityKey, isCalendarDay, type CreateAbTestInput } from '@/lib/abtests/schema';
import { isPlatform, type Platform } from '@/lib/performance/metrics';
import type { FieldErrors } from '@/lib/request/result';
import { checkboxValue } from '@/lib/settings/platform-config-schema';
import { createBudgetSchema, type CreateBudgetInput } from './schema';

export const LAUNCH_STEPS = ['campaign', 'settings', 'abtest', 'anomaly'] as const;
export type LaunchStep = (typeof LAUNCH_STEPS)[number];

export const STEP_TITLE: Readonly<Record<LaunchStep, string>> = {
  campaign: 'Campaign and budget',
  settings: 'Platform settings',
  abtest: 'A/B test',
  anomaly: 'Anomaly detection',
};

export const stepNumber = (s: LaunchStep) => LAUNCH_STEPS.indexOf(s) + 1;

/** "Step 3, A/B test". */
export const stepName = (s: LaunchStep) => `Step ${stepNumber(s)}, ${STEP_TITLE[s]}`;

/** The key a problem is reported under: `step.field`, or the step alone for what concerns the step as a whole. */
export const errorKey = (step: LaunchStep, field?: string) => (field ? `${step}.${field}` : step);

/** The step of an error key (null for a key of no step). */
export function stepOfKey(key: string): LaunchStep | null {
  const step = key.split('.', 1)[0];
  return (LAUNCH_STEPS as readonly string[]).includes(step ?? '') ? (step as LaunchStep) : null;
}

/** One step's problems: by field (the field's name in the form), and those of the step as a whole. */
export function errorsOfStep(errors: FieldErrors, step: LaunchStep): { byField: FieldErrors; general: string[] } {
  const byField: FieldErrors = {};
  const general: string[] = [];
  for (const [key, messages] of Object.entries(errors)) {
    if (!messages?.length || stepOfKey(key) !== step) continue;
    if (key === step) general.push(...messages);
    else byField[key.slice(step.length + 1)] = messages;
  }
  return { byField, general };
}

/** Every problem, step by step in the flow's order, each with its field (null for the step as a whole). */
export function problemList(errors: FieldErrors): { step: LaunchStep; field: string | null; message: string }[] {
  return LAUNCH_STEPS.flatMap((step) => {
    const { byField, general } = errorsOfStep(errors, step);
    return [
      ...Object.entries(byField).flatMap(([field, messages]) => (messages ?? []).map((message) => ({ step, field, message }))),
      ...general.map((message) => ({ step, field: null, message })),
    ];
  });
}

export const countProblems = (errors: FieldErrors) => Object.values(errors).reduce((n, m) => n + (m?.length ?? 0), 0);

/** "Nothing was launched: 3 problems to fix (step 1, Campaign and budget; step 3, A/B test). Nothing was saved." */
export function nothingLaunched(errors: FieldErrors): string {
  const n = countProblems(errors);
  const steps = LAUNCH_STEPS.filter((s) => Object.keys(errors).some((k) => stepOfKey(k) === s && errors[k]?.length));
  const where = steps.map((s) => `step ${stepNumber(s)}, ${STEP_TITLE[s]}`).join('; ');
  return `Nothing was launched: ${n} ${n === 1 ? 'problem' : 'problems'} to fix${where ? ` (${where})` : ''}. No step was saved; what you typed is kept.`;
}

/** The levels a variant's ids can be at within the launched campaign. */
export const ID_LEVELS = ['adset', 'ad'] as const;
export type IdLevel = (typeof ID_LEVELS)[number];
export const ID_LEVEL_LABEL: Readonly<Record<IdLevel, string>> = { adset: 'Ad sets', ad: 'Ads' };

export const CAMPAIGN_NAME_MAX = 200;

/** The form's names of the A/B step that are not the A/B schema's own (the schema's `name` and `type`). */
export const AB_FIELD = { name: 'abName', type: 'abType' } as const;

/** Ids typed one per line, or separated by spaces or commas. */
export function splitIds(raw: unknown): string[] {
  const parts = (Array.isArray(raw) ? raw : [raw]).filter((v): v is string => typeof v === 'string');
  return parts.flatMap((p) => p.split(/[\s,]+/u)).filter((s) => s !== '');
}

export interface LaunchInput {
  /** Null when the post does not name a platform of the product (reported under campaign.platform). */
  platform: Platform | null;
  /** Trimmed; null when blank. */
  campaignId: string | null;
  /** The name typed for a new campaign; null when blank. */
  campaignName: string | null;
  /** Step 1, as createBudgetSchema reads it; null when it has a problem. */
  budget: CreateBudgetInput | null;
  /** Step 2: the version of the platform's settings the page showed, and the fields typed for settings to create (checked in the transaction). */
  settings: { token: string | null; maxCpa: unknown; targetRoas: unknown };
  /** Step 3: whether a test is wanted, and the test as createAbTestSchema reads it (null when not wanted or with a problem). */
  wantsAbTest: boolean;
  abTest: CreateAbTestInput | null;
  /** The test's end date when it is a date, even if another field of the test has a problem (so its rule against today is checked too). */
  abEndDate: string | null;
  /** Step 4: anomaly detection on for the platform. */
  anomaly: boolean;
  /** Every problem found in the fields, by `step.field`. */
  problems: FieldErrors;
}

const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f]/;

const single = (v: unknown): unknown => (Array.isArray(v) ? v[0] : v);
const textOf = (v: unknown): string | undefined => {
  const s = single(v);
  return typeof s === 'string' ? s : undefined;
};

function readLaunch(raw: Record<string, unknown>): LaunchInput {
  const problems: FieldErrors = {};
  const add = (key: string, message: string) => {
    const list = (problems[key] ??= []);
    if (!list.includes(message)) list.push(message);
  };

  // Step 1: the campaign and its allocation, by the budgets' own schema.
  const campaignText = textOf(raw.campaignId)?.trim() || null;
  // An id with a control character or half of an emoji is no platform's (and PostgreSQL refuses a NUL): refused, never queried.
  const unusable = campaignText !== null && (CONTROL_RE.test(campaignText) || !campaignText.isWellFormed());
  const campaignId = unusable ? null : campaignText;
  const platformText = textOf(raw.platform)?.trim().toLowerCase();
  const platform = isPlatform(platformText) ? platformText : null;
  const budgetRaw = {
    platform: raw.platform,
    // A blank id is reported below in the launch's words; a stand-in lets the amounts be checked all the same.
    campaignId: campaignId ?? '-',
    dailyBudget: single(raw.dailyBudget),
    minBudget: single(raw.minBudget),
    maxBudget: single(raw.maxBudget),
    strategy: single(raw.strategy),
    targetRoas: single(raw.targetRoas),
    targetCpa: single(raw.targetCpa),
    status: single(raw.status),
  };
  const budget = createBudgetSchema.safeParse(budgetRaw);
  if (!budget.success) for (const i of budget.error.issues) add(errorKey('campaign', String(i.path[0] ?? '') || undefined), i.message);
  if (unusable) add(errorKey('campaign', 'campaignId'), 'Campaign id: remove the control character or broken character (half of an emoji) it contains.');
  else if (!campaignId) add(errorKey('campaign', 'campaignId'), 'Campaign id: choose a campaign, or type the id of the new one as the platform shows it.');

  const nameText = textOf(raw.campaignName)?.trim() ?? '';
  if (CONTROL_RE.test(nameText)) add(errorKey('campaign', 'campaignName'), 'Campaign name: remove the control character (a tab or an invisible code) it contains.');
  else if (!nameText.isWellFormed()) add(errorKey('campaign', 'campaignName'), 'Campaign name: it contains a broken character (half of an emoji?): type it again.');
  else if (nameText.length > CAMPAIGN_NAME_MAX) add(errorKey('campaign', 'campaignName'), `Campaign name: at most ${CAMPAIGN_NAME_MAX} characters.`);
  const campaignName = nameText === '' ? null : nameText;

  // Step 2: the version the page showed; the fields themselves need the tenant's currency.
  const tokenText = textOf(raw.settingsToken);
  const token = tokenText && tokenText.length <= 200 ? tokenText : null;
  if (!token) add(errorKey('settings'), 'Platform settings: the page did not say which settings it showed: reload it and launch again.');

  // Step 3: the A/B test, by the A/B tests' own schema, on the campaign of step 1.
  const wants = checkboxValue(single(raw.abtest));
  if (wants === null) add(errorKey('abtest'), 'A/B test: add one or not.');
  let abTest: CreateAbTestInput | null = null;
  const endText = textOf(raw.endDate)?.trim() ?? '';
  const abEndDate = wants && isCalendarDay(endText) ? endText : null;
  if (wants) {
    const levelText = textOf(raw.idsLevel) ?? 'adset';
    const level: IdLevel = (ID_LEVELS as readonly string[]).includes(levelText) ? (levelText as IdLevel) : 'adset';
    const bySource = (arm: 'A' | 'B') => textOf(arm === 'A' ? raw.sourceA : raw.sourceB) === 'ids';
    if (level !== levelText && (bySource('A') || bySource('B'))) add(errorKey('abtest', 'idsLevel'), 'The ids are: choose ad sets or ads.');
    const keys = (v: unknown) => splitIds(v).map((id) => entityKey(level, id));
    const parsed = createAbTestSchema.safeParse({
      name: single(raw[AB_FIELD.name]) ?? '',
      type: single(raw[AB_FIELD.type]),
      hypothesis: '',
      platform: platformText,
      campaign: campaignId ?? '',
      variantA: single(raw.variantA) ?? '',
      variantB: single(raw.variantB) ?? '',
      sourceA: single(raw.sourceA),
      sourceB: single(raw.sourceB),
      idsA: keys(raw.idsA),
      idsB: keys(raw.idsB),
      metric: single(raw.metric),
      mde: single(raw.mde),
      shareB: '',
      allocationUnit: '',
      // No start date: the test starts the day it is started (now, or later from its draft).
      startDate: '',
      endDate: single(raw.endDate),
      startNow: single(raw.startNow),
    });
    if (parsed.success) abTest = parsed.data;
    else {
      for (const i of parsed.error.issues) {
        const field = String(i.path[0] ?? '');
        // The platform and the campaign are step 1's: their own problems are reported there.
        if (field === 'platform' && (!platform || problems[errorKey('campaign', 'platform')])) continue;
        if (field === 'campaign' && !campaignId) continue;
        const formField = field === 'name' ? AB_FIELD.name : field === 'type' ? AB_FIELD.type : field === 'platform' || field === 'campaign' ? '' : field;
        add(errorKey('abtest', formField || undefined), field === 'campaign' ? `A/B test on campaign ${campaignId}: ${i.message}` : i.message);
      }
    }
  }

  // Step 4.
  const anomaly = checkboxValue(single(raw.anomaly));
  if (anomaly === null) add(errorKey('anomaly'), 'Anomaly detection: on or off.');

  return {
    platform,
    campaignId,
    campaignName,
    budget: budget.success && campaignId ? budget.data : null,
    settings: { token, maxCpa: single(raw.max_cpa), targetRoas: single(raw.target_roas) },
    wantsAbTest: wants === true,
    abTest,
    abEndDate,
    anomaly: anomaly === true,
    problems,
  };
}

/**
 * The launch form's post. It always parses: the problems travel in `problems`, and the handler refuses
 * the launch, with every one of them, before it writes anything.
 */
export const launchSchema = z.looseObject({}).transform((raw) => readLaunch(raw));
export type LaunchSchema = typeof launchSchema;
