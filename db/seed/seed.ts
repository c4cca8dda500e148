// Writes the demo data set (db/seed/generate.ts) into a migrated database.
//
// Tenant data goes through the application role, subject to row-level
// security, one transaction per tenant whose first statement sets the tenant
// with set_config(..., true), as the app itself does. The owner connection
// is used only for what the app role may not do: look accounts up by email
// (saas.users) and write the shared ads.performance_benchmarks.
//
// Idempotent: each demo tenant's ads data is deleted and rewritten in the
// same transaction, users and memberships are upserted, benchmarks upserted
// on their natural key. Other tenants are never touched.
//
// After the data, each tenant's history of decided recommendations
// (decisions.ts) is written as the app would have left it; the engine records
// the predictions of the applied ones itself (trigger
// recommendation_outcome_on_apply) and measures them on the last day of data
// (ads_engine.measure_outcomes). Northwind's auto-apply policy is set through
// ads_engine.set_auto_apply_policy.

import { verify } from '@node-rs/argon2';
import pg from 'pg';
import { hashPassword } from '../../lib/auth/password-hash';
import { checkAppRole } from '../../lib/db/pool';
import { DEMO_PASSWORD, DEMO_TENANTS, DEMO_USERS, type DemoTenant } from './catalog';
import { utcToday } from './dates';
import { generateDemoData } from './generate';
import type { AbTestRow, AbTestVariantRow, BenchmarkRow, BudgetRow, DecisionRow, MetricRow, PlatformConfigRow, TenantData } from './rows';

export { DEMO_PASSWORD, DEMO_TENANTS, DEMO_USERS } from './catalog';
export type { DemoTenant, DemoUser, PlantedKind } from './catalog';
export { PLANTED, PLANTED_EXPECT, QUIET } from './planted';
export type { PlantedSituation, QuietCampaign } from './planted';
export { HISTORY_DAYS } from './dates';
export { DEMO_AUTO_APPLY } from './decisions';
export { generateDemoData } from './generate';

export interface SeedOptions {
  /** Schema owner (or superuser): users and benchmarks. */
  ownerUrl: string;
  /** Application role (aegis_app): all tenant data, under row-level security. */
  appUrl: string;
  log?: (line: string) => void;
  /** 'YYYY-MM-DD'; the data ends the day before. Default: the current UTC date. */
  today?: string;
  /**
   * The history of decided recommendations and Northwind's auto-apply policy
   * (decisions.ts). Default true; false leaves the queue and its history empty
   * and auto-apply off, for tests that judge the engine on a clean slate.
   */
  decisions?: boolean;
}

export interface SeedSummary {
  tenants: { id: string; name: string; vertical: string; campaigns: number; metricRows: number; decisions: number; outcomesMeasured: number }[];
  logins: { email: string; role: string; tenant: string }[];
}

const METRIC_BATCH = 5000;

export async function seedDemo(opts: SeedOptions): Promise<SeedSummary> {
  const log = opts.log ?? (() => undefined);
  const today = opts.today ?? utcToday();
  const started = Date.now();
  const data = generateDemoData(today);
  log(`demo data for ${data.firstDay} .. ${data.lastDay} generated in ${elapsed(started)}`);

  const owner = await connect(opts.ownerUrl);
  let app: pg.Client | undefined;
  try {
    app = await connect(opts.appUrl);
    await assertSubjectToRls(app);

    const userIds = await upsertUsers(owner);
    await upsertBenchmarks(owner, data.benchmarks);
    await clearAutoApplyPolicies(owner, data.tenants.map((t) => t.tenant.id));

    const withDecisions = opts.decisions ?? true;
    const tenants: SeedSummary['tenants'] = [];
    for (const t of data.tenants) {
      const t0 = Date.now();
      const { metricRows, decisions, outcomesMeasured, decisionsMs } = await seedTenant(app, t, userIds, withDecisions ? data.lastDay : null);
      const adsets = t.campaigns.reduce((n, c) => n + c.adsetIds.length, 0);
      tenants.push({
        id: t.tenant.id,
        name: t.tenant.name,
        vertical: t.tenant.vertical,
        campaigns: t.campaigns.length,
        metricRows,
        decisions,
        outcomesMeasured,
      });
      const history = withDecisions
        ? `, ${decisions} past decisions (${outcomesMeasured} outcomes measured, ${(decisionsMs / 1000).toFixed(1)} s)` +
          (t.autoApply ? `, auto-apply on ${t.autoApply.platform} up to ${Math.round(t.autoApply.maxStep * 100)} %` : '')
        : '';
      log(
        `${t.tenant.name} (${t.tenant.vertical}, ${t.tenant.currency}): ${t.campaigns.length} campaigns, ${adsets} ad sets, ` +
          `${metricRows.toLocaleString('en-US')} metric rows, ${t.budgets.length} budgets, ${t.platformConfigs.length} platform configs, ` +
          `${t.abTests.length} A/B tests${history} in ${elapsed(t0)}`,
      );
    }

    const logins = DEMO_USERS.flatMap((u) =>
      u.memberships.map((m) => ({ email: u.email, role: m.role, tenant: tenantById(m.tenantId).name })),
    );
    log(`demo logins (password '${DEMO_PASSWORD}'): ${DEMO_USERS.map((u) => u.email).join(', ')}`);
    log(`demo seeded in ${elapsed(started)}`);
    return { tenants, logins };
  } finally {
    await Promise.allSettled([owner.end(), app?.end()]);
  }
}

function elapsed(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

function tenantById(id: string): DemoTenant {
  const t = DEMO_TENANTS.find((x) => x.id === id);
  if (!t) throw new Error(`unknown demo tenant ${id}`);
  return t;
}

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: 'aegis-seed' });
  // A dropped connection is reported by the failing query; without a
  // listener the 'error' event would also crash the process.
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** The seed proves the app's road to tenant data: refuse what the app refuses, a role that could bypass row-level security. */
async function assertSubjectToRls(app: pg.Client): Promise<void> {
  const { role, problems } = await checkAppRole(app);
  if (problems.length > 0) {
    throw new Error(
      `seedDemo: appUrl must connect as the application role (subject to row-level security), not ${role} (${problems.join('; ')})`,
    );
  }
}

async function inTransaction<T>(client: pg.Client, fn: () => Promise<T>): Promise<T> {
  await client.query('begin');
  try {
    const result = await fn();
    await client.query('commit');
    return result;
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  }
}

// ---------------------------------------------------------------------------
// Users (owner connection)
// ---------------------------------------------------------------------------

/**
 * Creates the demo accounts or resets them (name, demo password, enabled).
 * An existing hash that still verifies is kept, so a reseed does not rewrite
 * it. saas.user_id is set to the account's id for each statement, so this
 * also works for an owner role that row-level security applies to (as long
 * as existing demo accounts kept their demo ids); a superuser bypasses it.
 * Returns email -> user id.
 */
async function upsertUsers(owner: pg.Client): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  await inTransaction(owner, async () => {
    for (const user of DEMO_USERS) {
      await owner.query("select set_config('saas.user_id', $1, true)", [user.id]);
      const found = await owner.query<{ id: string; password_hash: string | null }>(
        'select id, password_hash from saas.users where email = $1',
        [user.email],
      );
      const existing = found.rows[0];
      if (!existing) {
        const passwordHash = await hashPassword(DEMO_PASSWORD);
        // Demo accounts count as proved (their mailboxes do not exist).
        await owner.query('insert into saas.users (id, email, name, password_hash, email_verified_at) values ($1, $2, $3, $4, now())', [
          user.id,
          user.email,
          user.name,
          passwordHash,
        ]);
        ids.set(user.email, user.id);
        continue;
      }
      const keep = existing.password_hash !== null && (await verify(existing.password_hash, DEMO_PASSWORD).catch(() => false));
      const passwordHash = keep ? existing.password_hash : await hashPassword(DEMO_PASSWORD);
      await owner.query(
        `update saas.users set name = $2, password_hash = $3, disabled_at = null, email_verified_at = coalesce(email_verified_at, now())
          where id = $1 and (name, password_hash, disabled_at, email_verified_at is null) is distinct from ($2, $3, null, false)`,
        [existing.id, user.name, passwordHash],
      );
      ids.set(user.email, existing.id);
    }
  });
  return ids;
}

// ---------------------------------------------------------------------------
// Benchmarks (owner connection): shared reference data, no tenant.
// ---------------------------------------------------------------------------

const BENCHMARK_COLUMNS: Columns<BenchmarkRow> = {
  platform: ['text', (r) => r.platform],
  industry_vertical: ['text', (r) => r.industryVertical],
  campaign_type: ['text', (r) => r.campaignType],
  metric_name: ['text', (r) => r.metricName],
  benchmark_value: ['numeric', (r) => String(r.benchmarkValue)],
  percentile_10: ['numeric', (r) => String(r.p10)],
  percentile_25: ['numeric', (r) => String(r.p25)],
  percentile_50: ['numeric', (r) => String(r.p50)],
  percentile_75: ['numeric', (r) => String(r.p75)],
  percentile_90: ['numeric', (r) => String(r.p90)],
  sample_size: ['int', (r) => r.sampleSize],
  source: ['text', (r) => r.source],
  valid_from: ['date', (r) => r.validFrom],
};

/** Upserts on (platform, industry_vertical, campaign_type, metric_name); rows from another source are left alone. */
async function upsertBenchmarks(owner: pg.Client, rows: readonly BenchmarkRow[]): Promise<void> {
  await insertRows(
    owner,
    'ads.performance_benchmarks',
    null,
    BENCHMARK_COLUMNS,
    rows,
    `on conflict (platform, industry_vertical, campaign_type, metric_name) do update
       set benchmark_value = excluded.benchmark_value,
           percentile_10 = excluded.percentile_10, percentile_25 = excluded.percentile_25,
           percentile_50 = excluded.percentile_50, percentile_75 = excluded.percentile_75,
           percentile_90 = excluded.percentile_90, sample_size = excluded.sample_size,
           valid_from = excluded.valid_from, updated_at = now()
       where performance_benchmarks.source = excluded.source
         and (performance_benchmarks.benchmark_value, performance_benchmarks.percentile_10, performance_benchmarks.percentile_25,
              performance_benchmarks.percentile_50, performance_benchmarks.percentile_75, performance_benchmarks.percentile_90,
              performance_benchmarks.sample_size, performance_benchmarks.valid_from)
             is distinct from
             (excluded.benchmark_value, excluded.percentile_10, excluded.percentile_25, excluded.percentile_50,
              excluded.percentile_75, excluded.percentile_90, excluded.sample_size, excluded.valid_from)`,
  );
}

// ---------------------------------------------------------------------------
// One tenant (app connection, one transaction)
// ---------------------------------------------------------------------------

/** Every ads table holding tenant data; engine outputs included, so a reseed starts clean. */
const TENANT_TABLES = [
  'ads.anomalies',
  'ads.optimization_recommendations',
  'ads.campaign_performance',
  'ads.baselines',
  'ads.ab_tests',
  'ads.budget_allocation',
  'ads.platform_configs',
  'ads.metrics_daily',
] as const;

interface TenantResult {
  metricRows: number;
  decisions: number;
  outcomesMeasured: number;
  decisionsMs: number;
}

/** lastDay: the last day of data, on which the history's outcomes are measured; null: no history. */
async function seedTenant(app: pg.Client, data: TenantData, userIds: ReadonlyMap<string, string>, lastDay: string | null): Promise<TenantResult> {
  const { tenant } = data;
  try {
    return await inTransaction(app, async () => {
      await app.query("select set_config('saas.tenant_id', $1, true)", [tenant.id]);
      await app.query(
        `insert into saas.tenants (id, name, vertical, currency, locale, slug) values ($1, $2, $3, $4, $5, $6)
         on conflict (id) do update
           set name = excluded.name, vertical = excluded.vertical, currency = excluded.currency, locale = excluded.locale, slug = excluded.slug
           where (tenants.name, tenants.vertical, tenants.currency, tenants.locale, tenants.slug)
                 is distinct from (excluded.name, excluded.vertical, excluded.currency, excluded.locale, excluded.slug)`,
        [tenant.id, tenant.name, tenant.vertical, tenant.currency, tenant.locale, tenant.slug],
      );
      await upsertMemberships(app, tenant, userIds);
      for (const table of TENANT_TABLES) {
        // Table names come from the constant list above, never from input.
        // Deleting the recommendations and budgets also deletes their measured outcomes
        // (ads_engine.recommendation_outcomes) and auto-applications (ads_engine.auto_applications): ON DELETE CASCADE.
        await app.query(`delete from ${table} where tenant_id = $1`, [tenant.id]);
      }
      const metricRows = await insertMetrics(app, tenant.id, data.metrics);
      await insertBudgets(app, tenant.id, data.budgets);
      await insertPlatformConfigs(app, tenant.id, data.platformConfigs);
      await insertAbTests(app, tenant.id, data.abTests);
      if (lastDay === null) return { metricRows, decisions: 0, outcomesMeasured: 0, decisionsMs: 0 };
      const t0 = Date.now();
      const { decisions, outcomesMeasured } = await insertDecisions(app, data, userIds, lastDay);
      return { metricRows, decisions, outcomesMeasured, decisionsMs: Date.now() - t0 };
    });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(`seeding demo tenant ${tenant.name} failed: ${message}`, { cause: err });
  }
}

interface Member {
  userId: string | undefined;
  role: string;
}

const MEMBER_COLUMNS: Columns<Member> = {
  user_id: ['uuid', (m) => m.userId],
  role: ['text', (m) => m.role, 'u.role::saas.member_role'],
};

async function upsertMemberships(app: pg.Client, tenant: DemoTenant, userIds: ReadonlyMap<string, string>): Promise<void> {
  const members: Member[] = DEMO_USERS.flatMap((u) =>
    u.memberships.filter((m) => m.tenantId === tenant.id).map((m) => ({ userId: userIds.get(u.email), role: m.role })),
  );
  const missing = members.find((m) => m.userId === undefined);
  if (missing) throw new Error('a demo user has no id');
  await insertRows(
    app,
    'saas.memberships',
    tenant.id,
    MEMBER_COLUMNS,
    members,
    `on conflict (tenant_id, user_id) do update set role = excluded.role
       where memberships.role is distinct from excluded.role`,
  );
}

/** Cents (integer) as a numeric literal. */
function money(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(Math.round(cents));
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

const METRIC_COLUMNS: Columns<MetricRow> = {
  platform: ['text', (m) => m.platform],
  level: ['text', (m) => m.level],
  platform_id: ['text', (m) => m.platformId],
  day: ['date', (m) => m.day],
  entity_name: ['text', (m) => m.entityName],
  campaign_id: ['text', (m) => m.campaignId],
  campaign_name: ['text', (m) => m.campaignName],
  spend: ['numeric', (m) => money(m.spendCents)],
  impressions: ['bigint', (m) => m.impressions],
  clicks: ['bigint', (m) => m.clicks],
  conversions: ['numeric', (m) => m.conversions],
  conversion_value: ['numeric', (m) => money(m.valueCents)],
};

async function insertMetrics(app: pg.Client, tenantId: string, rows: readonly MetricRow[]): Promise<number> {
  let inserted = 0;
  for (let from = 0; from < rows.length; from += METRIC_BATCH) {
    inserted += await insertRows(app, 'ads.metrics_daily', tenantId, METRIC_COLUMNS, rows.slice(from, from + METRIC_BATCH));
  }
  return inserted;
}

const utcMidnight = (column: string) => `u.${column}::timestamp at time zone 'UTC'`;

const BUDGET_COLUMNS: Columns<BudgetRow> = {
  id: ['uuid', (b) => b.id],
  platform: ['text', (b) => b.platform],
  campaign_id: ['text', (b) => b.campaignId],
  campaign_name: ['text', (b) => b.campaignName],
  daily_budget: ['numeric', (b) => b.dailyBudget.toFixed(2)],
  min_budget: ['numeric', (b) => b.minBudget.toFixed(2)],
  max_budget: ['numeric', (b) => b.maxBudget.toFixed(2)],
  allocation_strategy: ['text', (b) => b.strategy],
  target_roas: ['numeric', (b) => (b.targetRoas === null ? null : b.targetRoas.toFixed(4))],
  target_cpa: ['numeric', (b) => (b.targetCpa === null ? null : b.targetCpa.toFixed(2))],
  status: "'active'",
  created_at: ['date', (b) => b.createdDay, utcMidnight('created_at')],
  updated_at: ['date', (b) => b.createdDay, utcMidnight('updated_at')],
};

const PLATFORM_CONFIG_COLUMNS: Columns<PlatformConfigRow> = {
  platform: ['text', (c) => c.platform],
  max_cpa: ['numeric', (c) => c.maxCpa.toFixed(2)],
  target_roas: ['numeric', (c) => (c.targetRoas === null ? null : c.targetRoas.toFixed(4))],
};

const AB_TEST_COLUMNS: Columns<AbTestRow> = {
  id: ['uuid', (t) => t.id],
  test_name: ['text', (t) => t.testName],
  platform: ['text', (t) => t.platform],
  campaign_id: ['text', (t) => t.campaignId],
  test_type: ['text', (t) => t.testType],
  hypothesis: ['text', (t) => t.hypothesis],
  primary_metric: ['text', (t) => t.primaryMetric],
  variant_a: ['text', (t) => t.variantA],
  variant_b: ['text', (t) => t.variantB],
  performance_a: ['jsonb', (t) => JSON.stringify(t.performanceA)],
  performance_b: ['jsonb', (t) => JSON.stringify(t.performanceB)],
  winner: ['text', (t) => t.winner],
  statistical_significance: ['numeric', (t) => (t.statisticalSignificance === null ? null : t.statisticalSignificance.toFixed(5))],
  // Written as drafts, their variants' platform ids added, then started (insertAbTests).
  status: "'draft'",
  start_date: ['date', (t) => t.startDate],
  end_date: ['date', (t) => t.endDate],
  created_at: utcMidnight('start_date'),
  updated_at: `coalesce(u.end_date, u.start_date)::timestamp at time zone 'UTC'`,
};

async function insertBudgets(app: pg.Client, tenantId: string, rows: readonly BudgetRow[]): Promise<void> {
  await insertRows(app, 'ads.budget_allocation', tenantId, BUDGET_COLUMNS, rows);
}

async function insertPlatformConfigs(app: pg.Client, tenantId: string, rows: readonly PlatformConfigRow[]): Promise<void> {
  await insertRows(app, 'ads.platform_configs', tenantId, PLATFORM_CONFIG_COLUMNS, rows);
}

const AB_DESIGN_COLUMNS: Columns<AbTestRow> = {
  test_id: ['uuid', (t) => t.id],
  planned_share_b: ['numeric', (t) => t.design.plannedShareB.toFixed(3)],
  mde: ['numeric', (t) => t.design.mde.toFixed(4)],
  allocation_unit: ['text', (t) => t.design.allocationUnit],
  created_at: ['date', (t) => t.design.frozenDay, utcMidnight('created_at')],
  updated_at: ['date', (t) => t.design.frozenDay, utcMidnight('updated_at')],
};

type AbVariantInsert = AbTestVariantRow & { testId: string };

const AB_VARIANT_COLUMNS: Columns<AbVariantInsert> = {
  test_id: ['uuid', (v) => v.testId],
  arm: ['text', (v) => v.arm],
  level: ['text', (v) => v.level, 'u.level::ads.entity_level'],
  platform_id: ['text', (v) => v.platformId],
};

const AB_STATE_COLUMNS: Columns<AbTestRow> = {
  test_id: ['uuid', (t) => t.id],
  as_of: ['date', (t) => t.state.asOf],
  decision: ['text', (t) => t.state.decision],
  message: ['text', (t) => t.state.message],
  min_p_seq: ['numeric', (t) => (t.state.minPSeq === null ? null : String(t.state.minPSeq))],
  winner_day: ['date', (t) => t.state.winnerDay],
};

/**
 * The tests, their designs, the platform ids of their variants and the
 * daily loop's reading of them. The database takes variants only for a draft
 * whose design is not frozen (ads_engine.ab_test_variants_guard), so the
 * tests go in as drafts, get their variants, then their design is frozen on
 * their first day and they take their status, as a buyer starting them would.
 */
async function insertAbTests(app: pg.Client, tenantId: string, rows: readonly AbTestRow[]): Promise<void> {
  await insertRows(app, 'ads.ab_tests', tenantId, AB_TEST_COLUMNS, rows);
  await insertRows(app, 'ads_engine.ab_test_designs', tenantId, AB_DESIGN_COLUMNS, rows);
  const variants = rows.flatMap((t) => t.variants.map((v) => ({ ...v, testId: t.id })));
  await insertRows(app, 'ads_engine.ab_test_variants', tenantId, AB_VARIANT_COLUMNS, variants);
  await app.query(
    `update ads_engine.ab_test_designs d set frozen_at = u.day::timestamp at time zone 'UTC'
     from unnest($2::uuid[], $3::date[]) as u(id, day) where d.tenant_id = $1 and d.test_id = u.id`,
    [tenantId, rows.map((t) => t.id), rows.map((t) => t.design.frozenDay)],
  );
  await app.query(
    `update ads.ab_tests t set status = u.status
     from unnest($2::uuid[], $3::text[]) as u(id, status) where t.tenant_id = $1 and t.id = u.id`,
    [tenantId, rows.map((t) => t.id), rows.map((t) => t.status)],
  );
  await insertRows(app, 'ads_engine.ab_test_state', tenantId, AB_STATE_COLUMNS, rows);
}

// ---------------------------------------------------------------------------
// The history of decided recommendations, and auto-apply
// ---------------------------------------------------------------------------

/** A generated time is the tenant's wall-clock time: applied_day is its local day, as the engine counts it. */
const TENANT_ZONE = '(select ads_engine.valid_timezone(t.timezone) from saas.tenants t where t.id = $1)';
const localTime = (column: string) => `u.${column} at time zone ${TENANT_ZONE}`;

type DecisionInsert = DecisionRow & { deciderId: string | null };

const DECISION_COLUMNS: Columns<DecisionInsert> = {
  id: ['uuid', (d) => d.id],
  platform: ['text', (d) => d.platform],
  level: ['text', (d) => d.level],
  entity_id: ['text', (d) => d.entityId],
  entity_name: ['text', (d) => d.entityName],
  campaign_id: ['text', (d) => d.campaignId],
  recommendation_type: ['text', (d) => d.type],
  description: ['text', (d) => d.description],
  current_value: ['numeric', (d) => String(d.currentValue)],
  recommended_value: ['numeric', (d) => String(d.recommendedValue)],
  evidence: ['jsonb', (d) => JSON.stringify(d.evidence)],
  estimated_impact: ['numeric', (d) => String(d.estimatedImpact)],
  impact_unit: ['text', (d) => d.impactUnit],
  priority: ['text', (d) => d.priority, 'u.priority::ads.priority_level'],
  confidence_score: ['numeric', (d) => d.confidence.toFixed(3)],
  status: ['text', (d) => d.status],
  created_at: ['timestamp', (d) => d.createdAt, localTime('created_at')],
  expires_at: ['timestamp', (d) => d.expiresAt, localTime('expires_at')],
  applied_at: ['timestamp', (d) => (d.status === 'applied' ? d.decidedAt : null), localTime('applied_at')],
  applied_by: ['uuid', (d) => (d.status === 'applied' ? d.deciderId : null)],
  dismissed_at: ['timestamp', (d) => (d.status === 'dismissed' ? d.decidedAt : null), localTime('dismissed_at')],
  dismissed_by: ['uuid', (d) => (d.status === 'dismissed' ? d.deciderId : null)],
  dismiss_reason: ['text', (d) => d.dismissReason],
  withdrawn_at: ['timestamp', (d) => (d.status === 'withdrawn' ? d.decidedAt : null), localTime('withdrawn_at')],
  withdrawal_reason: ['text', (d) => d.withdrawalReason],
};

/**
 * Writes the tenant's past decisions with their final status. The applied
 * ones go in as 'applied', so the engine's trigger records their predictions
 * (applied_day: the local day of applied_at). Then the outcomes due by
 * lastDay are measured on the seeded metrics, and the tenant's auto-apply
 * policy (decisions.ts) is set. Budgets are not touched: the history is not
 * replayed onto them.
 */
async function insertDecisions(
  app: pg.Client,
  data: TenantData,
  userIds: ReadonlyMap<string, string>,
  lastDay: string,
): Promise<{ decisions: number; outcomesMeasured: number }> {
  const tenantId = data.tenant.id;
  const rows: DecisionInsert[] = data.decisions.map((d) => {
    const deciderId = d.decidedBy === null ? null : (userIds.get(d.decidedBy) ?? null);
    if (d.decidedBy !== null && deciderId === null) throw new Error(`demo history: no user ${d.decidedBy}`);
    return { ...d, deciderId };
  });
  // The ones the loop applied itself are applied with applied_by NULL ("the optimiser"). They get no
  // ads_engine.auto_applications row: only the loop writes one, in the transaction that applies (the undo acts on
  // it), and the queue lists those of the last 7 days, which these are not.
  const decisions = await insertRows(app, 'ads.optimization_recommendations', tenantId, DECISION_COLUMNS, rows);
  // The engine takes no day after tomorrow (ads_engine.check_as_of): a seed for a future day measures what is due by then.
  const measured = await app.query<{ n: number }>('select ads_engine.measure_outcomes($1, least($2::date, current_date + 1)) as n', [tenantId, lastDay]);

  const setting = data.autoApply;
  if (setting) {
    await app.query('update ads.platform_configs set auto_apply_recommendations = true, updated_at = now() where tenant_id = $1 and platform = $2', [
      tenantId,
      setting.platform,
    ]);
    for (const [type, enabled, maxStep] of [
      ['budget_increase', true, setting.maxStep],
      ['budget_decrease', true, setting.maxStep],
      ['pause', setting.pause, null],
    ] as const) {
      await app.query('select ads_engine.set_auto_apply_policy($1, $2, $3, $4, $5, $6)', [tenantId, setting.platform, type, enabled, maxStep, 'demo seed']);
    }
  }
  return { decisions, outcomesMeasured: Number(measured.rows[0]?.n ?? 0) };
}

/**
 * Removes the demo tenants' auto-apply policies, so a reseed starts from the
 * defaults: the app role may set a policy but not delete one, hence the owner
 * (with the tenant set, for row-level security).
 */
async function clearAutoApplyPolicies(owner: pg.Client, tenantIds: readonly string[]): Promise<void> {
  await inTransaction(owner, async () => {
    for (const id of tenantIds) {
      await owner.query("select set_config('saas.tenant_id', $1, true)", [id]);
      await owner.query('delete from ads_engine.auto_apply_policies where tenant_id = $1', [id]);
    }
  });
}

// ---------------------------------------------------------------------------
// Bulk writes: one statement per table and batch, one array parameter per column.
// ---------------------------------------------------------------------------

/**
 * A column written from unnest(): [array element type, value per row, and the
 * SQL that stores it when not u.<column>], or a SQL expression over the other
 * columns (u.<column>) alone.
 */
type Column<R> = readonly [type: string, value: (row: R) => unknown, expression?: string] | string;
type Columns<R> = Readonly<Record<string, Column<R>>>;

/**
 * insert into <table> (tenant_id, <columns>) select $1, <values> from
 * unnest($2::<type>[], ...) as u(<columns from arrays>) <tail>, without
 * tenant_id when tenantId is null. Table and column names are constants of
 * this file, never input. Returns the rows written.
 */
async function insertRows<R>(
  client: pg.Client,
  table: string,
  tenantId: string | null,
  columns: Columns<R>,
  rows: readonly R[],
  tail = '',
): Promise<number> {
  const names = tenantId === null ? [] : ['tenant_id'];
  const values = tenantId === null ? [] : ['$1'];
  const params: unknown[] = tenantId === null ? [] : [tenantId];
  const arrays: string[] = [];
  const fed: string[] = [];
  for (const [name, column] of Object.entries(columns)) {
    names.push(name);
    if (typeof column === 'string') {
      values.push(column);
      continue;
    }
    const [type, value, expression] = column;
    params.push(rows.map(value));
    arrays.push(`$${params.length}::${type}[]`);
    fed.push(name);
    values.push(expression ?? `u.${name}`);
  }
  const r = await client.query(
    `insert into ${table} (${names.join(', ')})
     select ${values.join(', ')} from unnest(${arrays.join(', ')}) as u(${fed.join(', ')})
     ${tail}`,
    params,
  );
  return r.rowCount ?? 0;
}
