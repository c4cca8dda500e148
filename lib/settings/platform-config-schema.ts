// One platform's engine settings (ads.platform_configs): the fields, what each
// one does to the engine, their defaults, and the validation shared by the
// settings form and its server action. Pure: no database, no server code.
import { z } from 'zod';
import { formatMoney, formatNumber, type NumberStyle } from '@/lib/format/number';
import { PLATFORMS, type Platform } from '@/lib/performance/metrics';
import type { AutoApplyType } from '@/lib/recommendations/auto-apply-schema';

export const FREQUENCIES = ['hourly', 'daily', 'weekly', 'manual'] as const;
export type Frequency = (typeof FREQUENCIES)[number];

export const FREQUENCY_LABEL: Readonly<Record<Frequency, string>> = {
  hourly: 'Hourly',
  daily: 'Daily',
  weekly: 'Weekly',
  manual: 'Manual only',
};

/** A platform's settings as stored (min_spend_for_decision in the engine's unit: see moneyUnit). */
export interface PlatformConfigValues {
  max_cpa: number | null;
  target_roas: number | null;
  auto_pause_threshold: number;
  min_spend_for_decision: number;
  anomaly_sensitivity: number;
  optimization_frequency: Frequency;
  recommendations_enabled: boolean;
  anomaly_detection_enabled: boolean;
  auto_apply_recommendations: boolean;
}
export type ConfigField = keyof PlatformConfigValues;

/** The form's order. */
export const CONFIG_FIELDS: readonly ConfigField[] = [
  'max_cpa',
  'target_roas',
  'auto_pause_threshold',
  'min_spend_for_decision',
  'anomaly_sensitivity',
  'optimization_frequency',
  'recommendations_enabled',
  'anomaly_detection_enabled',
  'auto_apply_recommendations',
];

/**
 * The column defaults of ads.platform_configs, which are also what the engine
 * assumes for a platform without a row (its coalesce(...) fallbacks).
 * tests/settings/platform-config.test.ts compares them with the table.
 */
export const DEFAULTS: Readonly<PlatformConfigValues> = {
  max_cpa: null,
  target_roas: null,
  auto_pause_threshold: 2,
  min_spend_for_decision: 50,
  anomaly_sensitivity: 3.5,
  optimization_frequency: 'daily',
  recommendations_enabled: true,
  anomaly_detection_enabled: true,
  auto_apply_recommendations: false,
};

/**
 * Label and one line on what the field does to the engine
 * (db/media_buying/090_recommendations.sql, 100_anomalies.sql, 092_auto_apply.sql, 095_readiness.sql).
 */
export const FIELD_INFO: Readonly<Record<ConfigField, { label: string; does: string }>> = {
  max_cpa: {
    label: 'Max CPA',
    does:
      'A pause is proposed for a campaign or ad set whose 7-day CPA is significantly above auto-pause threshold × this, and a bid cut when its CPA is above it on each of the last 7 days. Empty: no limit (pauses are then judged against the budget’s target CPA, else the account’s own 90-day CPA).',
  },
  target_roas: {
    label: 'Target ROAS',
    does:
      'A campaign with a budget whose 7-day ROAS is significantly below 0.8 × this is told to lower its budget; above 1.2 × while it spends at least 95 % of its budget on 5 of 7 days, to raise it. A budget’s own target ROAS comes first. Empty: no ROAS target.',
  },
  auto_pause_threshold: {
    label: 'Auto-pause threshold',
    does:
      'How far beyond max CPA a pause is proposed: the pause line is this × max CPA (2 = at twice the limit, 1 = at the limit itself). A pause applies by itself only where auto-apply includes pauses.',
  },
  min_spend_for_decision: {
    label: 'Min spend for decision',
    does:
      'A campaign or ad set that spent less than this over the last 7 days gets no pause, budget, bid or audience recommendation (timing advice needs it over 28 days), and a day’s spend is only checked for anomalies from a seventh of it.',
  },
  anomaly_sensitivity: {
    label: 'Anomaly sensitivity',
    does:
      'How strict every test on this platform is, anomalies and recommendations alike: higher means fewer alerts and fewer recommendations. It sets each run’s false-discovery level: 4.7 % at 3.5, 0.6 % at 4, and the loosest, 20 %, at 3.1 or below.',
  },
  optimization_frequency: {
    label: 'Optimisation frequency',
    does:
      'How often the scheduled run of the whole account happens; the most frequent choice among your platforms applies. Hourly: every hour; daily: once yesterday’s data is in (by noon at the latest); weekly: 7 days after the last run; manual: only when someone runs it.',
  },
  recommendations_enabled: {
    label: 'Recommendations',
    does: 'Off: the engine proposes nothing for this platform; recommendations already pending stay until they are decided or expire.',
  },
  anomaly_detection_enabled: {
    label: 'Anomaly detection',
    does: 'Off: no anomaly is raised for this platform’s campaigns and ad sets; those already raised stay on the board.',
  },
  auto_apply_recommendations: {
    label: 'Auto-apply',
    does:
      'On: each run applies by itself the campaign budget changes (and pauses, if ticked) chosen under Auto-apply choices below, as soon as it proposes them; each can be undone for 24 hours. Off: every recommendation waits for a buyer.',
  },
};

/** Field name of the confirmation that turning auto-apply on needs. */
export const CONFIRM_FIELD = 'confirm_auto_apply';

/** The expected version of a platform that has no settings yet. */
export const NEW_TOKEN = 'new';

// ---------------------------------------------------------------------------
// Auto-apply: what turning it on will do
// ---------------------------------------------------------------------------

export interface AutoApplyTypePolicy {
  type: AutoApplyType;
  enabled: boolean;
  maxStep: number | null;
}

/** What ads_engine.auto_apply_policy gives a platform without a policy row: budget changes of any step, pauses never. */
export const DEFAULT_AUTO_APPLY: readonly AutoApplyTypePolicy[] = [
  { type: 'budget_increase', enabled: true, maxStep: 1 },
  { type: 'budget_decrease', enabled: true, maxStep: 1 },
  { type: 'pause', enabled: false, maxStep: null },
];

const stepText = (s: number | null) => (s !== null && s < 1 ? `of up to ${Math.round(s * 1000) / 10} % a step` : 'of any step it proposes');

/** What auto-apply on a platform does under its current policy, as the confirmation says it. */
export function autoApplyConsequence(platformName: string, types: readonly AutoApplyTypePolicy[]): string {
  const on = (t: AutoApplyType) => types.find((x) => x.type === t && x.enabled);
  const inc = on('budget_increase');
  const dec = on('budget_decrease');
  const pause = on('pause');
  const parts = [
    inc ? `budget increases ${stepText(inc.maxStep)}` : null,
    dec ? `budget decreases ${stepText(dec.maxStep)}` : null,
    pause ? 'pauses (the campaign’s budget is marked paused; pause it on the platform too)' : null,
  ].filter((p): p is string => p !== null);
  if (parts.length === 0) {
    return `On ${platformName} nothing will apply by itself yet: every type is off under Auto-apply choices below, so recommendations keep waiting for a buyer.`;
  }
  const waiting = [inc ? null : 'budget increases', dec ? null : 'budget decreases', pause ? null : 'pauses'].filter((p): p is string => p !== null);
  const larger = (inc && inc.maxStep !== null && inc.maxStep < 1) || (dec && dec.maxStep !== null && dec.maxStep < 1) ? ' Larger steps wait in the queue.' : '';
  return (
    `On ${platformName} each run of the engine will apply by itself, without asking anyone: ${parts.join(', ')}.` +
    `${larger}${waiting.length ? ` ${capitalise(waiting.join(' and '))} still wait for a buyer.` : ''}` +
    ' Each automatic change can be undone for 24 hours on the recommendations page.'
  );
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

// ---------------------------------------------------------------------------
// Writing the values
// ---------------------------------------------------------------------------

/** The fewest decimals (up to `most`) that write n exactly: 2 -> 0, 2.5 -> 1, 2.125 -> 3. */
export const decimalsOf = (n: number, most: number) => {
  for (let d = 0; d < most; d++) if (Math.abs(n * 10 ** d - Math.round(n * 10 ** d)) < 1e-9) return d;
  return most;
};

export type SwitchField = 'recommendations_enabled' | 'anomaly_detection_enabled' | 'auto_apply_recommendations';
export type ValueField = Exclude<ConfigField, SwitchField>;

/** An amount in the tenant's currency, whole or to the cent: "€40", "€25.50". */
export const moneyText = (n: number, unit: MoneyUnit) => formatMoney(n, unit.style, { decimals: Number.isInteger(n) ? 0 : 2 });

/** A field's value as the page and the "Saved" message write it, money in the tenant's currency. */
export function formatFieldValue(field: ConfigField, v: PlatformConfigValues, unit: MoneyUnit): string {
  const money = (n: number) => moneyText(n, unit);
  const num = (n: number, most: number) => formatNumber(n, unit.style, decimalsOf(n, most));
  switch (field) {
    case 'max_cpa':
      return v.max_cpa === null ? 'no limit' : money(v.max_cpa);
    case 'target_roas':
      return v.target_roas === null ? 'no target' : num(v.target_roas, 4);
    case 'auto_pause_threshold':
      return num(v.auto_pause_threshold, 3);
    case 'min_spend_for_decision':
      return money(minSpendInCurrency(v.min_spend_for_decision, unit));
    case 'anomaly_sensitivity':
      return num(v.anomaly_sensitivity, 2);
    case 'optimization_frequency':
      return FREQUENCY_LABEL[v.optimization_frequency].toLowerCase();
    default:
      return v[field] ? 'on' : 'off';
  }
}

/** What a field's input holds: a plain number the form parses back to the same stored value ('' for none). */
export function inputValue(field: ValueField, v: PlatformConfigValues, unit: MoneyUnit): string {
  const plain = (n: number | null, most: number) => (n === null ? '' : n.toFixed(decimalsOf(n, most)));
  // money whole or to the cent, as the "Saved" message writes it
  const money = (n: number | null) => (n === null ? '' : n.toFixed(Number.isInteger(n) ? 0 : 2));
  switch (field) {
    case 'max_cpa':
      return money(v.max_cpa);
    case 'target_roas':
      return plain(v.target_roas, 4);
    case 'auto_pause_threshold':
      return plain(v.auto_pause_threshold, 3);
    case 'min_spend_for_decision':
      return money(minSpendInCurrency(v.min_spend_for_decision, unit));
    case 'anomaly_sensitivity':
      return plain(v.anomaly_sensitivity, 2);
    case 'optimization_frequency':
      return v.optimization_frequency;
  }
}

/** "max CPA €100 → €25, recommendations on → off": the fields that differ, as the "Saved" message lists them. */
export function describeChanges(before: PlatformConfigValues, after: PlatformConfigValues, unit: MoneyUnit): string[] {
  return CONFIG_FIELDS.filter((f) => before[f] !== after[f]).map(
    (f) => `${lowerFirst(FIELD_INFO[f].label)} ${formatFieldValue(f, before, unit)} → ${formatFieldValue(f, after, unit)}`,
  );
}

// "Max CPA" becomes "max CPA"; the capitals of CPA and ROAS stay.
const lowerFirst = (s: string) => (/^[A-Z][a-z]/.test(s) ? s.charAt(0).toLowerCase() + s.slice(1) : s);

// ---------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------

/**
 * The tenant's money: its style, and the engine's scale of the currency
 * (ads_engine.currency_scale: 1 for EUR, USD, GBP; 150 for JPY ...). The
 * engine multiplies the stored min_spend_for_decision by the scale, so the
 * form shows and takes it in the tenant's currency and stores it divided.
 * Money bounds scale the same way: 1,000,000 euros' worth in any currency.
 */
export interface MoneyUnit {
  style: NumberStyle;
  scale: number;
}

export const MONEY_MAX_EUR = 1_000_000;

const round2 = (n: number) => Math.round(n * 100) / 100;

/** The stored min_spend_for_decision as the engine applies it, in the tenant's currency. */
export const minSpendInCurrency = (stored: number, unit: MoneyUnit) => round2(stored * unit.scale);

/** A typed amount: spaces between digits dropped, a lone decimal comma read as a point. Null when it is not a plain number. */
function decimalText(v: unknown): { text: string; value: number; decimals: number } | null {
  if (typeof v === 'number' && Number.isFinite(v)) v = String(v);
  if (typeof v !== 'string' || v.length > 40) return null;
  let s = v.trim().replace(/(?<=\d)[\s\u00a0\u202f](?=\d)/g, '');
  if (/^-?\d+,\d+$/.test(s)) s = s.replace(',', '.');
  const m = /^(-?)(\d*)(?:\.(\d*))?$/.exec(s);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return null;
  const value = Number(s);
  if (!Number.isFinite(value)) return null;
  return { text: s, value, decimals: (m[3] ?? '').replace(/0+$/, '').length };
}

const isBlank = (v: unknown) => v === undefined || v === null || (typeof v === 'string' && v.trim() === '');

interface NumberRule {
  label: string;
  /** Blank input: null (an optional field), or refused with this message. */
  blank: null | string;
  notNumber: string;
  inRange: (n: number) => boolean;
  outOfRange: string;
  decimals: number;
  max?: { value: number; message: string };
}

// optional(): a field left out of a post (a crafted one) is blank, not a crash of the parse
function numberField(r: NumberRule) {
  return z.unknown().optional().transform((v, ctx): number | null => {
    if (isBlank(v)) {
      if (r.blank === null) return null;
      ctx.addIssue(r.blank);
      return z.NEVER;
    }
    const d = decimalText(v);
    if (!d) {
      ctx.addIssue(r.notNumber);
      return z.NEVER;
    }
    if (!r.inRange(d.value)) {
      ctx.addIssue(r.outOfRange);
      return z.NEVER;
    }
    if (d.decimals > r.decimals) {
      ctx.addIssue(`${r.label}: at most ${r.decimals} decimal${r.decimals === 1 ? '' : 's'}.`);
      return z.NEVER;
    }
    if (r.max && d.value > r.max.value) {
      ctx.addIssue(r.max.message);
      return z.NEVER;
    }
    return d.value;
  });
}

/** A checkbox sends 'on' when ticked and nothing otherwise; a crafted post may send true or false. Anything else is refused. */
export function checkboxValue(v: unknown): boolean | null {
  if (v === undefined || v === null || v === '' || v === false || v === 'false' || v === 'off') return false;
  if (v === true || v === 'on' || v === 'true') return true;
  return null;
}

const switchField = (label: string) =>
  z.unknown().optional().transform((v, ctx): boolean => {
    const b = checkboxValue(v);
    if (b === null) {
      ctx.addIssue(`${label}: on or off.`);
      return z.NEVER;
    }
    return b;
  });

/** Every field of the form, for a tenant's money; output: the values as stored, and the confirmation. */
export function platformConfigSchema(unit: MoneyUnit) {
  const moneyMax = MONEY_MAX_EUR * unit.scale;
  const maxText = formatMoney(moneyMax, unit.style, { decimals: 0 });
  return z
    .object({
      max_cpa: numberField({
        label: 'Max CPA',
        blank: null,
        notNumber: 'Max CPA: an amount such as 25.50, or leave it empty for no limit.',
        inRange: (n) => n > 0,
        outOfRange: 'Max CPA: must be above 0 (leave it empty for no limit).',
        decimals: 2,
        max: { value: moneyMax, message: `Max CPA: at most ${maxText}.` },
      }),
      target_roas: numberField({
        label: 'Target ROAS',
        blank: null,
        notNumber: 'Target ROAS: a number such as 3 or 2.5, or leave it empty for no target.',
        inRange: (n) => n > 0 && n <= 100,
        outOfRange: 'Target ROAS: above 0 and at most 100.',
        decimals: 4,
      }),
      auto_pause_threshold: numberField({
        label: 'Auto-pause threshold',
        blank: 'Auto-pause threshold: a factor from 1 to 10, such as 2.',
        notNumber: 'Auto-pause threshold: a factor from 1 to 10, such as 2.',
        inRange: (n) => n >= 1 && n <= 10,
        outOfRange: 'Auto-pause threshold: from 1 to 10 (1 = pause at the max CPA itself).',
        decimals: 3,
      }),
      min_spend_for_decision: numberField({
        label: 'Min spend for decision',
        blank: 'Min spend for decision: an amount of 0 or more, such as 50.',
        notNumber: 'Min spend for decision: an amount of 0 or more, such as 50.',
        inRange: (n) => n >= 0,
        outOfRange: 'Min spend for decision: 0 or more.',
        decimals: 2,
        max: { value: moneyMax, message: `Min spend for decision: at most ${maxText}.` },
      }),
      anomaly_sensitivity: numberField({
        label: 'Anomaly sensitivity',
        blank: 'Anomaly sensitivity: a number from 1 to 10, such as 3.5.',
        notNumber: 'Anomaly sensitivity: a number from 1 to 10, such as 3.5.',
        inRange: (n) => n >= 1 && n <= 10,
        outOfRange: 'Anomaly sensitivity: from 1 to 10.',
        decimals: 2,
      }),
      optimization_frequency: z.enum(FREQUENCIES, { error: 'Optimisation frequency: choose hourly, daily, weekly or manual.' }),
      recommendations_enabled: switchField('Recommendations'),
      anomaly_detection_enabled: switchField('Anomaly detection'),
      auto_apply_recommendations: switchField('Auto-apply'),
      [CONFIRM_FIELD]: switchField('Confirmation'),
    })
    .transform((v) => ({
      values: {
        max_cpa: v.max_cpa,
        target_roas: v.target_roas,
        // required fields: a blank was refused above
        auto_pause_threshold: v.auto_pause_threshold!,
        // kept in the engine's unit; two decimals, as the column holds it
        min_spend_for_decision: round2(v.min_spend_for_decision! / unit.scale),
        anomaly_sensitivity: v.anomaly_sensitivity!,
        optimization_frequency: v.optimization_frequency,
        recommendations_enabled: v.recommendations_enabled,
        anomaly_detection_enabled: v.anomaly_detection_enabled,
        auto_apply_recommendations: v.auto_apply_recommendations,
      } satisfies PlatformConfigValues,
      confirm: v[CONFIRM_FIELD],
    }));
}
export type PlatformConfigInput = z.output<ReturnType<typeof platformConfigSchema>>;

/**
 * What the action wrapper checks before the transaction: the platform and the
 * version the form was opened at. The fields themselves are checked by
 * platformConfigSchema inside the transaction, where the tenant's currency
 * (and so the money bounds) is known; every field's error comes back at once.
 */
export const platformConfigFormSchema = z.looseObject({
  platform: z.enum(PLATFORMS, { error: 'Platform: not a platform.' }),
  expected: z
    .string({ error: 'Version: reload the page and try again; nothing was saved.' })
    .max(200, { error: 'Version: reload the page and try again; nothing was saved.' })
    .optional(),
});
export type PlatformConfigForm = z.output<typeof platformConfigFormSchema> & { platform: Platform };
