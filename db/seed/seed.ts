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

import { hash, verify, type Algorithm } from '@node-rs/argon2';
import pg from 'pg';
import { DEMO_PASSWORD, DEMO_TENANTS, DEMO_USERS, type DemoTenant } from './catalog';
import {
  generateDemoData,
  utcToday,
  type AbTestRow,
  type BenchmarkRow,
  type BudgetRow,
  type MetricRow,
  type PlatformConfigRow,
  type TenantData,
} from './generate';

export { DEMO_PASSWORD, DEMO_TENANTS, DEMO_USERS } from './catalog';
export type { DemoTenant, DemoUser, PlantedKind } from './catalog';
export { PLANTED, PLANTED_EXPECT } from './planted';
export type { PlantedSituation } from './planted';
export { generateDemoData, HISTORY_DAYS } from './generate';

export interface SeedOptions {
  /** Schema owner (or superuser): users and benchmarks. */
  ownerUrl: string;
  /** Application role (aegis_app): all tenant data, under row-level security. */
  appUrl: string;
  log?: (line: string) => void;
  /** 'YYYY-MM-DD'; the data ends the day before. Default: the current UTC date. */
  today?: string;
}

export interface SeedSummary {
  tenants: { id: string; name: string; vertical: string; campaigns: number; metricRows: number }[];
  logins: { email: string; role: string; tenant: string }[];
}

/**
 * argon2id, 19 MiB, 2 passes, 1 lane: the parameters of lib/auth/password.ts
 * (not imported: that module is server-only). Algorithm is an ambient const
 * enum that isolatedModules cannot inline; 2 is Argon2id.
 */
const ARGON2_OPTIONS = { algorithm: 2 as Algorithm, memoryCost: 19456, timeCost: 2, parallelism: 1 };

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

    const tenants: SeedSummary['tenants'] = [];
    for (const t of data.tenants) {
      const t0 = Date.now();
      const metricRows = await seedTenant(app, t, userIds);
      const adsets = t.campaigns.reduce((n, c) => n + c.adsetIds.length, 0);
      tenants.push({ id: t.tenant.id, name: t.tenant.name, vertical: t.tenant.vertical, campaigns: t.campaigns.length, metricRows });
      log(
        `${t.tenant.name} (${t.tenant.vertical}, ${t.tenant.currency}): ${t.campaigns.length} campaigns, ${adsets} ad sets, ` +
          `${metricRows.toLocaleString('en-US')} metric rows, ${t.budgets.length} budgets, ${t.platformConfigs.length} platform configs, ` +
          `${t.abTests.length} A/B tests in ${elapsed(t0)}`,
      );
      if (t.violations.length > 0) {
        log(`warning: ${t.violations.length} recent values of steady ${t.tenant.name} campaigns look unusual (robust z > 3)`);
      }
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

/** The seed proves the app's road to tenant data: refuse a role that row-level security would not apply to. */
async function assertSubjectToRls(app: pg.Client): Promise<void> {
  const r = await app.query<{ rolname: string; rolsuper: boolean; rolbypassrls: boolean }>(
    'select rolname, rolsuper, rolbypassrls from pg_roles where rolname = current_user',
  );
  const role = r.rows[0];
  if (!role || role.rolsuper || role.rolbypassrls) {
    throw new Error(`seedDemo: appUrl must connect as the application role (subject to row-level security), not ${role?.rolname ?? 'an unknown role'}`);
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
        const passwordHash = await hash(DEMO_PASSWORD, ARGON2_OPTIONS);
        await owner.query('insert into saas.users (id, email, name, password_hash) values ($1, $2, $3, $4)', [
          user.id,
          user.email,
          user.name,
          passwordHash,
        ]);
        ids.set(user.email, user.id);
        continue;
      }
      const keep = existing.password_hash !== null && (await verify(existing.password_hash, DEMO_PASSWORD).catch(() => false));
      const passwordHash = keep ? existing.password_hash : await hash(DEMO_PASSWORD, ARGON2_OPTIONS);
      await owner.query(
        `update saas.users set name = $2, password_hash = $3, disabled_at = null
          where id = $1 and (name, password_hash, disabled_at) is distinct from ($2, $3, null)`,
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

/** Upserts on (platform, industry_vertical, campaign_type, metric_name); rows from another source are left alone. */
async function upsertBenchmarks(owner: pg.Client, rows: readonly BenchmarkRow[]): Promise<void> {
  await owner.query(
    `insert into ads.performance_benchmarks
       (platform, industry_vertical, campaign_type, metric_name, benchmark_value,
        percentile_10, percentile_25, percentile_50, percentile_75, percentile_90, sample_size, source, valid_from)
     select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::numeric[],
                          $6::numeric[], $7::numeric[], $8::numeric[], $9::numeric[], $10::numeric[], $11::int[], $12::text[], $13::date[])
     on conflict (platform, industry_vertical, campaign_type, metric_name) do update
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
    [
      rows.map((r) => r.platform),
      rows.map((r) => r.industryVertical),
      rows.map((r) => r.campaignType),
      rows.map((r) => r.metricName),
      rows.map((r) => String(r.benchmarkValue)),
      rows.map((r) => String(r.p10)),
      rows.map((r) => String(r.p25)),
      rows.map((r) => String(r.p50)),
      rows.map((r) => String(r.p75)),
      rows.map((r) => String(r.p90)),
      rows.map((r) => r.sampleSize),
      rows.map((r) => r.source),
      rows.map((r) => r.validFrom),
    ],
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

async function seedTenant(app: pg.Client, data: TenantData, userIds: ReadonlyMap<string, string>): Promise<number> {
  const { tenant } = data;
  try {
    return await inTransaction(app, async () => {
      await app.query("select set_config('saas.tenant_id', $1, true)", [tenant.id]);
      await app.query(
        `insert into saas.tenants (id, name, vertical, currency, slug) values ($1, $2, $3, $4, $5)
         on conflict (id) do update
           set name = excluded.name, vertical = excluded.vertical, currency = excluded.currency, slug = excluded.slug
           where (tenants.name, tenants.vertical, tenants.currency, tenants.slug)
                 is distinct from (excluded.name, excluded.vertical, excluded.currency, excluded.slug)`,
        [tenant.id, tenant.name, tenant.vertical, tenant.currency, tenant.slug],
      );
      await upsertMemberships(app, tenant, userIds);
      for (const table of TENANT_TABLES) {
        // Table names come from the constant list above, never from input.
        await app.query(`delete from ${table} where tenant_id = $1`, [tenant.id]);
      }
      const metricRows = await insertMetrics(app, tenant.id, data.metrics);
      await insertBudgets(app, tenant.id, data.budgets);
      await insertPlatformConfigs(app, tenant.id, data.platformConfigs);
      await insertAbTests(app, tenant.id, data.abTests);
      return metricRows;
    });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(`seeding demo tenant ${tenant.name} failed: ${message}`, { cause: err });
  }
}

async function upsertMemberships(app: pg.Client, tenant: DemoTenant, userIds: ReadonlyMap<string, string>): Promise<void> {
  const members = DEMO_USERS.flatMap((u) =>
    u.memberships.filter((m) => m.tenantId === tenant.id).map((m) => ({ userId: userIds.get(u.email), role: m.role })),
  );
  const missing = members.find((m) => m.userId === undefined);
  if (missing) throw new Error('a demo user has no id');
  await app.query(
    `insert into saas.memberships (tenant_id, user_id, role)
     select $1, m.user_id, m.role::saas.member_role from unnest($2::uuid[], $3::text[]) as m(user_id, role)
     on conflict (tenant_id, user_id) do update set role = excluded.role
       where memberships.role is distinct from excluded.role`,
    [tenant.id, members.map((m) => m.userId), members.map((m) => m.role)],
  );
}

/** Cents (integer) as a numeric literal. */
function money(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(Math.round(cents));
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

async function insertMetrics(app: pg.Client, tenantId: string, rows: readonly MetricRow[]): Promise<number> {
  let inserted = 0;
  for (let from = 0; from < rows.length; from += METRIC_BATCH) {
    const batch = rows.slice(from, from + METRIC_BATCH);
    const r = await app.query(
      `insert into ads.metrics_daily
         (tenant_id, platform, level, platform_id, day, entity_name, campaign_id, campaign_name,
          spend, impressions, clicks, conversions, conversion_value)
       select $1, u.platform, u.level, u.platform_id, u.day, u.entity_name, u.campaign_id, u.campaign_name,
              u.spend, u.impressions, u.clicks, u.conversions, u.conversion_value
         from unnest($2::text[], $3::text[], $4::text[], $5::date[], $6::text[], $7::text[], $8::text[],
                     $9::numeric[], $10::bigint[], $11::bigint[], $12::numeric[], $13::numeric[])
              as u(platform, level, platform_id, day, entity_name, campaign_id, campaign_name,
                   spend, impressions, clicks, conversions, conversion_value)`,
      [
        tenantId,
        batch.map((m) => m.platform),
        batch.map((m) => m.level),
        batch.map((m) => m.platformId),
        batch.map((m) => m.day),
        batch.map((m) => m.entityName),
        batch.map((m) => m.campaignId),
        batch.map((m) => m.campaignName),
        batch.map((m) => money(m.spendCents)),
        batch.map((m) => m.impressions),
        batch.map((m) => m.clicks),
        batch.map((m) => m.conversions),
        batch.map((m) => money(m.valueCents)),
      ],
    );
    inserted += r.rowCount ?? 0;
  }
  return inserted;
}

async function insertBudgets(app: pg.Client, tenantId: string, rows: readonly BudgetRow[]): Promise<void> {
  await app.query(
    `insert into ads.budget_allocation
       (tenant_id, id, platform, campaign_id, campaign_name, daily_budget, min_budget, max_budget,
        allocation_strategy, target_roas, target_cpa, status, created_at, updated_at)
     select $1, u.id, u.platform, u.campaign_id, u.campaign_name, u.daily_budget, u.min_budget, u.max_budget,
            u.strategy, u.target_roas, u.target_cpa, 'active', u.created_day::timestamp at time zone 'UTC', u.created_day::timestamp at time zone 'UTC'
       from unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::numeric[], $7::numeric[], $8::numeric[],
                   $9::text[], $10::numeric[], $11::numeric[], $12::date[])
            as u(id, platform, campaign_id, campaign_name, daily_budget, min_budget, max_budget,
                 strategy, target_roas, target_cpa, created_day)`,
    [
      tenantId,
      rows.map((b) => b.id),
      rows.map((b) => b.platform),
      rows.map((b) => b.campaignId),
      rows.map((b) => b.campaignName),
      rows.map((b) => b.dailyBudget.toFixed(2)),
      rows.map((b) => b.minBudget.toFixed(2)),
      rows.map((b) => b.maxBudget.toFixed(2)),
      rows.map((b) => b.strategy),
      rows.map((b) => (b.targetRoas === null ? null : b.targetRoas.toFixed(4))),
      rows.map((b) => (b.targetCpa === null ? null : b.targetCpa.toFixed(2))),
      rows.map((b) => b.createdDay),
    ],
  );
}

async function insertPlatformConfigs(app: pg.Client, tenantId: string, rows: readonly PlatformConfigRow[]): Promise<void> {
  await app.query(
    `insert into ads.platform_configs (tenant_id, platform, max_cpa, target_roas)
     select $1, u.platform, u.max_cpa, u.target_roas
       from unnest($2::text[], $3::numeric[], $4::numeric[]) as u(platform, max_cpa, target_roas)`,
    [
      tenantId,
      rows.map((c) => c.platform),
      rows.map((c) => c.maxCpa.toFixed(2)),
      rows.map((c) => (c.targetRoas === null ? null : c.targetRoas.toFixed(4))),
    ],
  );
}

async function insertAbTests(app: pg.Client, tenantId: string, rows: readonly AbTestRow[]): Promise<void> {
  await app.query(
    `insert into ads.ab_tests
       (tenant_id, id, test_name, platform, campaign_id, test_type, hypothesis, primary_metric,
        variant_a, variant_b, performance_a, performance_b, winner, statistical_significance,
        status, start_date, end_date, created_at, updated_at)
     select $1, u.id, u.test_name, u.platform, u.campaign_id, u.test_type, u.hypothesis, u.primary_metric,
            u.variant_a, u.variant_b, u.performance_a, u.performance_b, u.winner, u.significance,
            u.status, u.start_date, u.end_date,
            u.start_date::timestamp at time zone 'UTC', coalesce(u.end_date, u.start_date)::timestamp at time zone 'UTC'
       from unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                   $9::text[], $10::text[], $11::jsonb[], $12::jsonb[], $13::text[], $14::numeric[],
                   $15::text[], $16::date[], $17::date[])
            as u(id, test_name, platform, campaign_id, test_type, hypothesis, primary_metric,
                 variant_a, variant_b, performance_a, performance_b, winner, significance,
                 status, start_date, end_date)`,
    [
      tenantId,
      rows.map((t) => t.id),
      rows.map((t) => t.testName),
      rows.map((t) => t.platform),
      rows.map((t) => t.campaignId),
      rows.map((t) => t.testType),
      rows.map((t) => t.hypothesis),
      rows.map((t) => t.primaryMetric),
      rows.map((t) => t.variantA),
      rows.map((t) => t.variantB),
      rows.map((t) => JSON.stringify(t.performanceA)),
      rows.map((t) => JSON.stringify(t.performanceB)),
      rows.map((t) => t.winner),
      rows.map((t) => t.statisticalSignificance.toFixed(5)),
      rows.map((t) => t.status),
      rows.map((t) => t.startDate),
      rows.map((t) => t.endDate),
    ],
  );
}
