// The per-platform engine settings (ads.platform_configs): what the settings
// page reads, and saving one platform's form, all inside the tenant's
// transaction. Nothing is cached: a change made in psql (the guide's FAQ)
// shows on the next page load.
import 'server-only';
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { z } from 'zod';
import { recordAudit } from '@/lib/audit/mutations';
import type { Tx } from '@/lib/db';
import { formatNumber, formatPercent } from '@/lib/format/number';
import { formatInZone } from '@/lib/format/time';
import { isPlatform, platformLabel, PLATFORMS, type Platform } from '@/lib/performance/metrics';
import { autoApplyPolicies, type PlatformAutoApply } from '@/lib/recommendations/auto-apply';
import { ActionError, INVALID_INPUT, type ActionHandler } from '@/lib/request/action-core';
import type { FieldErrors } from '@/lib/request/result';
import {
  autoApplyConsequence,
  checkboxValue,
  CONFIG_FIELDS,
  CONFIRM_FIELD,
  decimalsOf,
  DEFAULT_AUTO_APPLY,
  DEFAULTS,
  describeChanges,
  FREQUENCIES,
  FREQUENCY_LABEL,
  minSpendInCurrency,
  moneyText,
  NEW_TOKEN,
  platformConfigSchema,
  type AutoApplyTypePolicy,
  type ConfigField,
  type Frequency,
  type MoneyUnit,
  type PlatformConfigValues,
  type platformConfigFormSchema,
} from './platform-config-schema';

export const STALE = (platform: string) =>
  `${platformLabel(platform)} settings: changed by someone else since you opened it. Reload the page to see the current values; nothing was saved.`;
export const NO_VERSION = 'This form does not say which version of the settings it edits: reload the page and try again. Nothing was saved.';

interface StoredConfig {
  platform: Platform;
  values: PlatformConfigValues;
  updatedAt: Date;
  /** updated_at to the microsecond, as the database holds it (a JS Date keeps milliseconds). */
  version: string;
}

/** The tenant's money: its currency, locale and the engine's scale of the currency; and its time zone. */
async function tenantMoney(trx: Tx, tenantId: string): Promise<MoneyUnit & { timezone: string }> {
  const r = await sql<{ currency: string; locale: string; scale: number; timezone: string }>`
    select t.currency::text as currency, t.locale, ads_engine.currency_scale(t.currency::text)::float8 as scale,
           ads_engine.valid_timezone(t.timezone) as timezone
    from saas.tenants t where t.id = ${tenantId}`.execute(trx);
  const row = r.rows[0];
  if (!row) throw new Error('tenant not visible in its own transaction');
  return { style: { currency: row.currency, locale: row.locale }, scale: row.scale, timezone: row.timezone };
}

function selectConfigs(trx: Tx, tenantId: string) {
  return trx
    .selectFrom('ads.platform_configs')
    .where('tenant_id', '=', tenantId)
    .select([
      'platform',
      'max_cpa',
      'target_roas',
      'auto_pause_threshold',
      'min_spend_for_decision',
      'anomaly_sensitivity',
      'optimization_frequency',
      'recommendations_enabled',
      'anomaly_detection_enabled',
      'auto_apply_recommendations',
      'updated_at',
    ])
    .select(sql<string>`to_char(updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')`.as('version'));
}

type ConfigRow = Awaited<ReturnType<ReturnType<typeof selectConfigs>['execute']>>[number];

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

function toStored(r: ConfigRow): StoredConfig {
  if (!isPlatform(r.platform)) throw new Error(`unknown platform ${r.platform}`);
  return {
    platform: r.platform,
    values: {
      max_cpa: num(r.max_cpa),
      target_roas: num(r.target_roas),
      auto_pause_threshold: Number(r.auto_pause_threshold),
      min_spend_for_decision: Number(r.min_spend_for_decision),
      anomaly_sensitivity: Number(r.anomaly_sensitivity),
      optimization_frequency: r.optimization_frequency as Frequency,
      recommendations_enabled: r.recommendations_enabled,
      anomaly_detection_enabled: r.anomaly_detection_enabled,
      auto_apply_recommendations: r.auto_apply_recommendations,
    },
    updatedAt: r.updated_at,
    version: r.version,
  };
}

/**
 * The version a form carries and a save must match: updated_at and the
 * values themselves. The values count too because a change from psql (the
 * guide's UPDATE ... SET recommendations_enabled = true) leaves updated_at
 * as it was, and must still make an open form stale.
 */
export function versionToken(c: StoredConfig): string {
  return createHash('sha256')
    .update(JSON.stringify([c.version, ...CONFIG_FIELDS.map((f) => c.values[f])]))
    .digest('base64url')
    .slice(0, 32);
}

// ---------------------------------------------------------------------------
// The settings page
// ---------------------------------------------------------------------------

export interface PlatformConfigView {
  platform: Platform;
  label: string;
  /** A row exists; otherwise the engine runs on the defaults and the form creates the row. */
  exists: boolean;
  /** Whether the tenant has metrics for the platform. */
  hasMetrics: boolean;
  /** The version the form sends back (NEW_TOKEN without a row). */
  token: string;
  /** When the row last changed through the app, in the tenant's zone (null without a row). */
  updatedAt: string | null;
  values: PlatformConfigValues;
  /** What the saved values mean now, under some fields. */
  notes: Partial<Record<ConfigField, string>>;
  /** What turning auto-apply on would do, from the platform's auto-apply policy. */
  autoApplyConsequence: string;
  /** The per-type auto-apply policy (AutoApplyForm); null without a row, where it cannot be saved yet. */
  autoApply: PlatformAutoApply | null;
}

export interface PlatformSettings {
  unit: MoneyUnit;
  /** The account's schedule: the most frequent optimization_frequency of its platforms (daily with none), as the scheduler reads it. */
  schedule: Frequency;
  platforms: PlatformConfigView[];
}

const mostFrequent = (fs: Frequency[]): Frequency =>
  fs.length ? FREQUENCIES[Math.min(...fs.map((f) => FREQUENCIES.indexOf(f)))]! : 'daily';

function policyOf(policies: PlatformAutoApply[], platform: string): AutoApplyTypePolicy[] {
  return policies.find((p) => p.platform === platform)?.types ?? [...DEFAULT_AUTO_APPLY];
}

/** Every platform the tenant uses: with a settings row, or with metrics and no row yet (offered with the defaults). */
export async function platformSettings(trx: Tx, tenantId: string): Promise<PlatformSettings> {
  const unit = await tenantMoney(trx, tenantId);
  const rows = (await selectConfigs(trx, tenantId).execute()).map(toStored);
  const withMetrics = await sql<{ platform: string }>`
    select p.platform from unnest(${[...PLATFORMS]}::text[]) as p(platform)
    where exists (select 1 from ads.metrics_daily m where m.tenant_id = ${tenantId} and m.platform = p.platform)`.execute(trx);
  const metricSet = new Set(withMetrics.rows.map((r) => r.platform));
  const policies = await autoApplyPolicies(trx, tenantId);
  const present = PLATFORMS.filter((p) => metricSet.has(p) || rows.some((r) => r.platform === p));

  const sensitivities = [...new Set([DEFAULTS.anomaly_sensitivity, ...rows.map((r) => r.values.anomaly_sensitivity)])];
  const fdr = await sql<{ s: number; q: number }>`
    select s::float8 as s, ads_engine.fdr_level(s)::float8 as q from unnest(${sensitivities}::numeric[]) as s`.execute(trx);
  const levelOf = (s: number) => fdr.rows.find((r) => r.s === s)?.q ?? null;

  const money = (n: number) => moneyText(n, unit);
  const plain = (n: number, most: number) => formatNumber(n, unit.style, decimalsOf(n, most));

  const platforms = present.map((platform): PlatformConfigView => {
    const row = rows.find((r) => r.platform === platform);
    const v = row?.values ?? { ...DEFAULTS };
    const notes: Partial<Record<ConfigField, string>> = {};
    notes.max_cpa =
      v.max_cpa === null
        ? `No max CPA: pauses are judged at ${plain(v.auto_pause_threshold, 3)} × the budget’s target CPA, else × the account’s 90-day CPA.`
        : `Pause line now: ${plain(v.auto_pause_threshold, 3)} × ${money(v.max_cpa)} = ${money(Math.round(v.auto_pause_threshold * v.max_cpa * 100) / 100)}.`;
    if (v.target_roas !== null) {
      notes.target_roas = `Lower the budget below ROAS ${formatNumber(0.8 * v.target_roas, unit.style, 2)}; raise it above ${formatNumber(1.2 * v.target_roas, unit.style, 2)}.`;
    }
    if (unit.scale !== 1) {
      notes.min_spend_for_decision = `Stored as ${plain(v.min_spend_for_decision, 2)}: the engine keeps this floor in euro-equivalent units and multiplies it by ${plain(unit.scale, 2)} for ${unit.style.currency}, so it applies ${money(minSpendInCurrency(v.min_spend_for_decision, unit))}.`;
    }
    const q = levelOf(v.anomaly_sensitivity);
    if (q !== null) {
      notes.anomaly_sensitivity = `At ${plain(v.anomaly_sensitivity, 2)}: a false-discovery level of ${formatPercent(q, unit.style, q < 0.01 ? 2 : 1)} a run, half for anomalies, half for recommendations.`;
    }
    notes.optimization_frequency = `The account runs ${FREQUENCY_LABEL[mostFrequent(rows.map((r) => r.values.optimization_frequency))].toLowerCase()} now.`;
    const label = platformLabel(platform);
    const policy = policies.find((p) => p.platform === platform) ?? null;
    return {
      platform,
      label,
      exists: row !== undefined,
      hasMetrics: metricSet.has(platform),
      token: row ? versionToken(row) : NEW_TOKEN,
      updatedAt: row ? formatInZone(row.updatedAt, unit.timezone, unit.style.locale) : null,
      values: v,
      notes,
      autoApplyConsequence: autoApplyConsequence(label, policyOf(policies, platform)),
      autoApply: row && policy ? policy : null,
    };
  });
  return {
    unit: { style: unit.style, scale: unit.scale },
    schedule: mostFrequent(rows.map((r) => r.values.optimization_frequency)),
    platforms,
  };
}

// ---------------------------------------------------------------------------
// Saving one platform's form
// ---------------------------------------------------------------------------

export interface SavedPlatformConfig {
  platform: Platform;
  /** The version the form carries from now on. */
  token: string;
  values: PlatformConfigValues;
}

const pick = (v: PlatformConfigValues, fields: ConfigField[]) => Object.fromEntries(fields.map((f) => [f, v[f]]));

/**
 * Creates or updates one platform's settings, all or nothing: refused when
 * the row changed since the form was opened, when any field is wrong (every
 * field's error at once), or when auto-apply is turned on without the
 * confirmation. Audited with the fields before and after.
 */
export const savePlatformConfigHandler: ActionHandler<typeof platformConfigFormSchema, SavedPlatformConfig> = async (trx, input, ctx) => {
  const tenantId = ctx.tenant.tenantId;
  const platform = input.platform;
  if (!input.expected) throw new ActionError(NO_VERSION);

  // Locked: a second save of the same platform waits here, then finds a new version.
  const locked = await selectConfigs(trx, tenantId).where('platform', '=', platform).forUpdate().executeTakeFirst();
  const row = locked ? toStored(locked) : null;
  if (input.expected !== (row ? versionToken(row) : NEW_TOKEN)) throw new ActionError(STALE(platform));

  const unit = await tenantMoney(trx, tenantId);
  const parsed = platformConfigSchema(unit).safeParse(input);
  const errors: FieldErrors = parsed.success ? {} : { ...(z.flattenError(parsed.error).fieldErrors as FieldErrors) };

  const wasOn = row?.values.auto_apply_recommendations ?? false;
  const turningOn = checkboxValue(input.auto_apply_recommendations) === true && !wasOn;
  if (turningOn && checkboxValue(input[CONFIRM_FIELD]) !== true) {
    const consequence = autoApplyConsequence(platformLabel(platform), policyOf(await autoApplyPolicies(trx, tenantId), platform));
    errors[CONFIRM_FIELD] = [`Confirm: tick the box to turn auto-apply on. ${consequence}`];
  }
  if (!parsed.success || Object.keys(errors).length > 0) {
    const onlyConfirm = Object.keys(errors).length === 1 && errors[CONFIRM_FIELD];
    throw new ActionError(onlyConfirm ? 'Confirm turning auto-apply on: nothing was saved.' : INVALID_INPUT, errors);
  }
  const next = parsed.data.values;

  if (!row) {
    const inserted = await trx
      .insertInto('ads.platform_configs')
      .values({ tenant_id: tenantId, platform, ...next })
      .onConflict((oc) => oc.columns(['tenant_id', 'platform']).doNothing())
      .returning('platform')
      .executeTakeFirst();
    // Created by someone else a moment ago: theirs stays.
    if (!inserted) throw new ActionError(STALE(platform));
    await recordAudit(trx, { action: 'platform_config.create', entityType: 'platform_config', entityId: platform, before: null, after: next });
    const changed = describeChanges(DEFAULTS, next, unit);
    return {
      message: `Saved: settings for ${platformLabel(platform)} created${changed.length ? ` (${changed.join(', ')}, against the defaults)` : ' with the defaults'}.`,
      data: await savedState(trx, tenantId, platform),
    };
  }

  const fields = CONFIG_FIELDS.filter((f) => row.values[f] !== next[f]);
  if (fields.length === 0) return { message: 'Saved: nothing changed.', data: { platform, token: versionToken(row), values: row.values } };
  await trx
    .updateTable('ads.platform_configs')
    .set({ ...(pick(next, fields) as Partial<PlatformConfigValues>), updated_at: sql<Date>`now()` })
    .where('tenant_id', '=', tenantId)
    .where('platform', '=', platform)
    .execute();
  await recordAudit(trx, {
    action: 'platform_config.update',
    entityType: 'platform_config',
    entityId: platform,
    before: pick(row.values, fields),
    after: pick(next, fields),
  });
  return { message: `Saved: ${describeChanges(row.values, next, unit).join(', ')}.`, data: await savedState(trx, tenantId, platform) };
};

async function savedState(trx: Tx, tenantId: string, platform: Platform): Promise<SavedPlatformConfig> {
  const r = await selectConfigs(trx, tenantId).where('platform', '=', platform).executeTakeFirstOrThrow();
  const c = toStored(r);
  return { platform, token: versionToken(c), values: c.values };
}
