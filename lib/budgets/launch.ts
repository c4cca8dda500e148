// Launching a campaign (/budgets/launch), the guide's "Workflow 2: Campaign
// Launch", inside the tenant's one transaction (the action wrapper has checked
// the session, the membership and the buyer role):
//
//   1. the campaign's budget allocation (ads.budget_allocation);
//   2. the platform's engine settings (ads.platform_configs) when the tenant
//      has none yet: the defaults with the max CPA and target ROAS typed;
//   3. optionally an A/B test on the campaign (ads.ab_tests, its design and
//      the ids that carry its variants), started now or kept as a draft;
//   4. anomaly detection on for that platform: this tenant's row of that
//      platform only (the guide's bare UPDATE would switch all its platforms on).
//
// All or nothing. Every problem the fields or the data show is gathered first,
// before anything is written, and returned at once, keyed `step.field`. Then
// the steps are written in order through the features' own code (createBudget,
// savePlatformConfigHandler, createAbTest); any refusal on the way (a conflict
// with a colleague's save, a database check) throws, and the transaction rolls
// every step back. Each created thing writes its own audit row, with the same
// actions as its own page (budget.create, platform_config.create / .update,
// ab_test.create / .start), and a campaign.launch row ties them together.
import 'server-only';
import { recordAudit } from '@/lib/audit/mutations';
import { tenantDays } from '@/lib/abtests/form-data';
import type { AbTestStatus } from '@/lib/abtests/model';
import { createAbTest } from '@/lib/abtests/mutations';
import { addDays, daysBetween, MAX_TEST_DAYS, type CreateAbTestInput } from '@/lib/abtests/schema';
import type { Tx } from '@/lib/db';
import type { NumberStyle } from '@/lib/format/number';
import { PLATFORMS, platformLabel, type Platform } from '@/lib/performance/metrics';
import { ActionError, type ActionContext, type ActionHandler } from '@/lib/request/action-core';
import type { FieldErrors } from '@/lib/request/result';
import { platformSettings, savePlatformConfigHandler, STALE, type PlatformSettings } from '@/lib/settings/platform-config';
import {
  CONFIG_FIELDS,
  DEFAULTS,
  inputValue,
  NEW_TOKEN,
  platformConfigSchema,
  type MoneyUnit,
  type PlatformConfigForm,
  type PlatformConfigValues,
  type SwitchField,
  type ValueField,
} from '@/lib/settings/platform-config-schema';
import { createBudget } from './mutations';
import type { MonthCalendar } from './pacing';
import { budgetContext, readUnallocated, type UnallocatedCampaign } from './queries';
import { errorKey, nothingLaunched, stepName, type LaunchInput, type launchSchema, type LaunchStep } from './launch-schema';
import type { CreateBudgetInput } from './schema';

// ---------------------------------------------------------------------------
// The page
// ---------------------------------------------------------------------------

/** A platform's settings as the launch shows them: the saved row, or the defaults a launch would create. */
export interface LaunchConfig {
  exists: boolean;
  /** The version the form sends back (NEW_TOKEN without a row). */
  token: string;
  values: PlatformConfigValues;
  /** When the row last changed, in the tenant's zone; null without a row. */
  updatedAt: string | null;
}

export interface LaunchPlatform {
  value: Platform;
  label: string;
  hasMetrics: boolean;
  config: LaunchConfig;
}

export interface LaunchPageData {
  style: NumberStyle;
  unit: MoneyUnit;
  /** The tenant's today. */
  today: string;
  /** The A/B test's end date offered (four weeks on) and the latest accepted (MAX_TEST_DAYS from today). */
  defaultEnd: string;
  maxEnd: string;
  /** Every platform: those the tenant uses (metrics or settings) first. */
  platforms: LaunchPlatform[];
  defaultPlatform: Platform;
  /** Campaigns that delivered in the last 30 days without a budget: they can be picked (the largest spend first). */
  campaigns: UnallocatedCampaign[];
  campaignsTotal: number;
}

function configOf(settings: PlatformSettings, platform: Platform): LaunchConfig {
  const v = settings.platforms.find((p) => p.platform === platform);
  return v ? { exists: v.exists, token: v.token, values: v.values, updatedAt: v.updatedAt } : { exists: false, token: NEW_TOKEN, values: { ...DEFAULTS }, updatedAt: null };
}

export async function launchPageData(trx: Tx, tenantId: string): Promise<LaunchPageData> {
  const { style, calendar } = await budgetContext(trx, tenantId);
  const settings = await platformSettings(trx, tenantId);
  const unallocated = await readUnallocated(trx, tenantId, calendar);
  const used = new Set(settings.platforms.map((p) => p.platform));
  const ordered = [...PLATFORMS.filter((p) => used.has(p)), ...PLATFORMS.filter((p) => !used.has(p))];
  const platforms = ordered.map((p) => ({
    value: p,
    label: platformLabel(p),
    hasMetrics: settings.platforms.some((s) => s.platform === p && s.hasMetrics),
    config: configOf(settings, p),
  }));
  const top = unallocated.campaigns[0]?.platform;
  const defaultPlatform = (PLATFORMS as readonly string[]).includes(top ?? '') ? (top as Platform) : (ordered[0] ?? 'meta');
  return {
    style,
    unit: settings.unit,
    today: calendar.today,
    defaultEnd: addDays(calendar.today, 28),
    maxEnd: addDays(calendar.today, MAX_TEST_DAYS),
    platforms,
    defaultPlatform,
    campaigns: unallocated.campaigns,
    campaignsTotal: unallocated.total,
  };
}

// ---------------------------------------------------------------------------
// What a launch made
// ---------------------------------------------------------------------------

/** Step 4's outcome: settings created with it on (or off), turned on now, already on, or left off as the buyer chose. */
export type AnomalyOutcome = 'created_on' | 'created_off' | 'turned_on' | 'already_on' | 'left_off';

export interface LaunchSummary {
  platform: Platform;
  platformLabel: string;
  campaignId: string;
  /** The campaign's name, or its id without one. */
  campaignLabel: string;
  budget: { id: string; message: string };
  settings: { created: boolean; message: string };
  abTest: { id: string; name: string; status: AbTestStatus; message: string } | null;
  anomaly: { outcome: AnomalyOutcome; message: string };
}

// ---------------------------------------------------------------------------
// Steps
// ---------------------------------------------------------------------------

/** The reused handlers' field names that the launch form names otherwise. */
const FORM_FIELD: Readonly<Partial<Record<LaunchStep, Readonly<Record<string, string>>>>> = {
  abtest: { name: 'abName', type: 'abType', campaign: '', platform: '' },
  settings: { confirm_auto_apply: '', expected: '' },
};

/** A database refusal in words (constraint and conflict errors); null for any other error, which is not the buyer's to fix. */
function databaseRefusal(e: unknown): string | null {
  const code = typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : null;
  if (!code) return null;
  if (code === '23505') return 'a row it adds exists already: someone saved the same a moment ago';
  if (code.startsWith('23') || code.startsWith('22')) return 'a value is outside what the database accepts';
  if (code === '55000') return 'the row is no longer in a state that allows the change';
  if (code === '40001' || code === '40P01') return 'it collided with another change made at the same moment';
  return null;
}

/**
 * Runs one step's writes. A refusal is reported under the step (its fields' errors keyed `step.field`) and
 * thrown on, which rolls back every step written before it.
 */
async function inStep<T>(step: LaunchStep, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof ActionError) {
      const errors: FieldErrors = {};
      for (const [field, messages] of Object.entries(e.fieldErrors ?? {})) {
        if (!messages?.length) continue;
        const mapped = FORM_FIELD[step]?.[field];
        const key = errorKey(step, mapped === undefined ? field : mapped || undefined);
        errors[key] = [...(errors[key] ?? []), ...messages];
      }
      if (Object.keys(errors).length === 0) errors[errorKey(step)] = [e.message];
      throw new ActionError(`Nothing was launched. ${stepName(step)}: ${e.message} No step of the launch was saved.`, errors);
    }
    const refusal = databaseRefusal(e);
    if (refusal === null) throw e;
    const message = `${stepName(step)}: the database refused it (${refusal}).`;
    throw new ActionError(`Nothing was launched. ${message} No step of the launch was saved: launch again.`, { [errorKey(step)]: [message] });
  }
}

const alreadyAllocated = (label: string, platform: Platform) =>
  `Campaign id: ${label} on ${platformLabel(platform)} already has a budget allocation: change it on the budgets page, or launch another campaign.`;

/**
 * Step 1, by the budgets' own createBudget: a campaign that delivered in the last 30 days keeps its name
 * from the platform data; one with no delivery yet, the usual launch, is allocated under the name typed.
 */
async function writeBudget(
  trx: Tx,
  tenantId: string,
  userId: string,
  x: { platform: Platform; campaignId: string; campaignName: string | null; budget: CreateBudgetInput; calendar: MonthCalendar },
): Promise<{ id: string; name: string | null; label: string; message: string }> {
  const delivered = (await readUnallocated(trx, tenantId, x.calendar, { platform: x.platform, campaignId: x.campaignId })).campaigns[0];
  const name = delivered ? delivered.campaignName?.trim() || null : x.campaignName;
  const r = await createBudget(trx, tenantId, userId, x.budget, { campaignName: name });
  return { id: r.change.id, name, label: name ?? x.campaignId, message: r.message };
}

const SWITCHES: readonly SwitchField[] = ['recommendations_enabled', 'anomaly_detection_enabled', 'auto_apply_recommendations'];
const VALUE_FIELDS = CONFIG_FIELDS.filter((f): f is ValueField => !(SWITCHES as readonly string[]).includes(f));

/** A platform's settings form as the settings page posts it: every field as its input holds it, a ticked box as 'on'. */
function settingsForm(platform: Platform, token: string, values: PlatformConfigValues, unit: MoneyUnit): PlatformConfigForm {
  const form: PlatformConfigForm = { platform, expected: token };
  for (const f of VALUE_FIELDS) form[f] = inputValue(f, values, unit);
  for (const f of SWITCHES) if (values[f]) form[f] = 'on';
  return form;
}

/** Step 2's form for settings to create: the defaults, the max CPA and target ROAS typed, anomaly detection as step 4 says. */
function newSettingsForm(platform: Platform, input: LaunchInput, unit: MoneyUnit): PlatformConfigForm {
  const form = settingsForm(platform, NEW_TOKEN, { ...DEFAULTS, anomaly_detection_enabled: input.anomaly }, unit);
  form.max_cpa = input.settings.maxCpa ?? '';
  form.target_roas = input.settings.targetRoas ?? '';
  return form;
}

/** Step 3, by the A/B tests' own createAbTest, without the checks that its campaign and ids already have data. */
async function writeAbTest(trx: Tx, tenantId: string, userId: string, t: CreateAbTestInput): Promise<NonNullable<LaunchSummary['abTest']>> {
  const r = await createAbTest(trx, tenantId, userId, t, true);
  return { id: r.id, name: t.name, status: r.status, message: r.message };
}

const ANOMALY_MESSAGE: Readonly<Record<AnomalyOutcome, (platform: string) => string>> = {
  created_on: (p) => `On for ${p}: its new settings have anomaly detection on.`,
  created_off: (p) => `Off for ${p}, as you chose: its new settings have anomaly detection off.`,
  turned_on: (p) => `Turned on for ${p} (it was off).`,
  already_on: (p) => `Already on for ${p}: nothing to change.`,
  left_off: (p) => `Left off for ${p}, as you chose.`,
};

// ---------------------------------------------------------------------------
// The launch
// ---------------------------------------------------------------------------

export async function launchCampaign(trx: Tx, input: LaunchInput, ctx: ActionContext): Promise<{ message: string; summary: LaunchSummary }> {
  const tenantId = ctx.tenant.tenantId;
  const userId = ctx.user.id;
  const problems: FieldErrors = { ...input.problems };
  const add = (key: string, message: string) => {
    problems[key] = [...(problems[key] ?? []), message];
  };

  // Everything the data can refuse, read before anything is written.
  const { calendar } = await budgetContext(trx, tenantId);
  const settings = await platformSettings(trx, tenantId);
  const { platform, campaignId } = input;
  const config = platform ? configOf(settings, platform) : null;

  if (platform && campaignId) {
    const existing = await trx
      .selectFrom('ads.budget_allocation')
      .where('tenant_id', '=', tenantId)
      .where('platform', '=', platform)
      .where('campaign_id', '=', campaignId)
      .select(['campaign_name'])
      .executeTakeFirst();
    if (existing) add(errorKey('campaign', 'campaignId'), alreadyAllocated(existing.campaign_name?.trim() || campaignId, platform));
  }
  if (platform && config && input.settings.token) {
    if (input.settings.token !== config.token) add(errorKey('settings'), STALE(platform));
    else if (!config.exists) {
      const parsed = platformConfigSchema(settings.unit).safeParse(newSettingsForm(platform, input, settings.unit));
      if (!parsed.success) for (const i of parsed.error.issues) add(errorKey('settings', String(i.path[0] ?? '') || undefined), i.message);
    }
  }
  const end = input.abTest?.endDate ?? input.abEndDate;
  if (input.wantsAbTest && end && !problems[errorKey('abtest', 'endDate')]) {
    // Without a start date the test starts the day it is started: today at the earliest (as the A/B tests' own rule).
    const { today } = await tenantDays(trx, tenantId);
    if (end < today) add(errorKey('abtest', 'endDate'), `End date: today (${today}) or later: the test starts the day it is started.`);
    else if (daysBetween(today, end) > MAX_TEST_DAYS) {
      add(errorKey('abtest', 'endDate'), `End date: within ${MAX_TEST_DAYS} days of the start (${addDays(today, MAX_TEST_DAYS)} at the latest if it starts today).`);
    }
  }
  const budgetInput = input.budget;
  if (Object.keys(problems).length > 0 || !platform || !campaignId || !config || !budgetInput || (input.wantsAbTest && !input.abTest)) {
    if (Object.keys(problems).length === 0) add(errorKey('campaign'), 'Campaign: reload the page and launch again.');
    throw new ActionError(nothingLaunched(problems), problems);
  }

  // 1. The budget allocation.
  const budget = await inStep('campaign', () =>
    writeBudget(trx, tenantId, userId, { platform, campaignId, campaignName: input.campaignName, budget: budgetInput, calendar }),
  );

  // 2. The platform's settings, created when there are none (existing ones are left as they are).
  const label = platformLabel(platform);
  const created = await inStep('settings', async () => {
    if (config.exists) return { created: false, message: `${label} had settings already: left as they are.` };
    const r = await savePlatformConfigHandler(trx, newSettingsForm(platform, input, settings.unit), ctx);
    return { created: true, message: r?.message ?? `Settings for ${label} created.` };
  });

  // 3. The A/B test.
  const abInput = input.abTest;
  const abTest = abInput ? await inStep('abtest', () => writeAbTest(trx, tenantId, userId, abInput)) : null;

  // 4. Anomaly detection on, for this platform only, through the settings' own save (audited before / after).
  let outcome: AnomalyOutcome;
  if (!config.exists) outcome = input.anomaly ? 'created_on' : 'created_off';
  else if (config.values.anomaly_detection_enabled) outcome = 'already_on';
  else if (!input.anomaly) outcome = 'left_off';
  else {
    await inStep('anomaly', () =>
      savePlatformConfigHandler(trx, settingsForm(platform, config.token, { ...config.values, anomaly_detection_enabled: true }, settings.unit), ctx),
    );
    outcome = 'turned_on';
  }

  await recordAudit(trx, {
    action: 'campaign.launch',
    entityType: 'campaign',
    entityId: `${platform}:${campaignId}`,
    before: null,
    after: {
      platform,
      campaign_id: campaignId,
      campaign_name: budget.name,
      budget_id: budget.id,
      platform_config: created.created ? 'created' : 'existing',
      ab_test_id: abTest?.id ?? null,
      ab_test_status: abTest?.status ?? null,
      anomaly_detection: outcome,
    },
    actor: { id: userId },
  });

  const summary: LaunchSummary = {
    platform,
    platformLabel: label,
    campaignId,
    campaignLabel: budget.label,
    budget: { id: budget.id, message: budget.message },
    settings: created,
    abTest,
    anomaly: { outcome, message: ANOMALY_MESSAGE[outcome](label) },
  };
  const parts = [
    'budget added',
    created.created ? 'settings created' : 'settings kept',
    abTest ? (abTest.status === 'running' ? 'A/B test started' : 'A/B test saved as a draft') : null,
    outcome === 'created_on' || outcome === 'turned_on' || outcome === 'already_on' ? 'anomaly detection on' : 'anomaly detection off',
  ].filter((p): p is string => p !== null);
  return { message: `Launched ${budget.label} on ${label}: ${parts.join(', ')}.`, summary };
}

/** The handler behind the server action (lib/budgets/launch-actions.ts); kept here so tests drive it through runTenantAction. */
export const launchCampaignHandler: ActionHandler<typeof launchSchema, LaunchSummary> = async (trx, input, ctx) => {
  const r = await launchCampaign(trx, input, ctx);
  return { message: r.message, data: r.summary };
};
