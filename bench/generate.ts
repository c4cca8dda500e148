// Benchmark data: N tenants x M campaigns x D days of ads.metrics_daily in a
// database of its own, made by INSERT ... SELECT over generate_series (the
// server does the work; nothing streams through Node).
//
//   npm run bench:generate -- --tenants 1000 --campaigns 20 --days 500 [--large 200] [--adsets] [--vacuum] [--db aegis_bench] [--fresh | --reuse]
//
// --large N adds one more tenant, 'Bench large tenant' (tenant number 0,
// LARGE_TENANT_SQL), with N campaigns on meta, google and tiktok over the same
// days, each of 4 ad sets: the ad-set rows are drawn, the campaign rows are
// their sums (the performance page's benchmark, bench/performance-page.ts).
//
// --adsets gives the regular tenants' campaigns 3 to 5 ad sets each (4 on
// average) the same way: the ad-set rows are drawn, the campaign rows are
// their sums. --vacuum ends with VACUUM (ANALYZE), as a live table under
// autovacuum would be, instead of ANALYZE alone.
//
// The parameters of a finished generation are recorded in the database
// (public.bench_dataset); --reuse keeps a database whose record matches and
// regenerates it from scratch otherwise (the suite, bench/suite.ts, relies on it).
//
// BENCH_ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres) must
// be allowed to create databases; the database is migrated with the
// project's own SQL files first. Data ends yesterday (or --end YYYY-MM-DD).
import pg from 'pg';
import { withDatabase } from '../lib/db/config';
import { isDayString } from '../lib/format/time';
import { migrate } from '../db/tools/migrate';

export interface BenchArgs {
  tenants: number;
  campaigns: number;
  days: number;
  db: string;
  fresh: boolean;
  end: string | null;
  batch: number;
  /** Campaigns of the one large tenant (4 ad sets each); 0: no large tenant. */
  large: number;
  /** Regular tenants' campaigns get ad sets (3 to 5, 4 on average); their campaign rows are the sums. */
  adsets: boolean;
  /** VACUUM (ANALYZE) at the end instead of ANALYZE. */
  vacuum: boolean;
  /** Keep an existing database whose recorded parameters are these; regenerate it otherwise. */
  reuse: boolean;
}

export const adminUrl = () => process.env.BENCH_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function parseArgs(argv: string[]): BenchArgs {
  const a: BenchArgs = {
    tenants: 100,
    campaigns: 20,
    days: 120,
    db: 'aegis_bench',
    fresh: false,
    end: null,
    batch: 20,
    large: 0,
    adsets: false,
    vacuum: false,
    reuse: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${k} needs a value`);
      return x;
    };
    const int = (name: string) => {
      const n = Number(v());
      if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer`);
      return n;
    };
    if (k === '--tenants') a.tenants = int('--tenants');
    else if (k === '--campaigns') a.campaigns = int('--campaigns');
    else if (k === '--days') a.days = int('--days');
    else if (k === '--batch') a.batch = int('--batch');
    else if (k === '--large') a.large = int('--large');
    else if (k === '--db') {
      a.db = v();
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(a.db)) throw new Error('--db must be a plain lower-case database name');
    } else if (k === '--end') {
      a.end = v();
      if (!isDayString(a.end)) throw new Error('--end must be YYYY-MM-DD');
    } else if (k === '--fresh') a.fresh = true;
    else if (k === '--reuse') a.reuse = true;
    else if (k === '--adsets') a.adsets = true;
    else if (k === '--vacuum') a.vacuum = true;
    else throw new Error(`unknown argument ${k}`);
  }
  if (a.fresh && a.reuse) throw new Error('--fresh and --reuse exclude each other');
  return a;
}

/** Deterministic tenant ids, so run.ts and repeated generations agree. */
export const BENCH_TENANT_SQL = `('00000000-0000-4000-8000-' || lpad(to_hex(t), 12, '0'))::uuid`;

/** The large tenant of --large is tenant number 0: never one of the regular tenants 1..N. */
export const LARGE_TENANT_NUMBER = 0;
export const LARGE_TENANT_SQL = `(select ${BENCH_TENANT_SQL} from (select ${LARGE_TENANT_NUMBER} as t) x)`;
/** Ad sets per campaign of the large tenant. */
export const LARGE_ADSETS = 4;
/** Its platforms, campaign m on LARGE_PLATFORMS[m % 3]. */
export const LARGE_PLATFORMS = ['meta', 'google', 'tiktok'] as const;
const largePlatformSql = (m: string) => `(array['meta', 'google', 'tiktok'])[${m} % 3 + 1]`;

/**
 * Ad-set rows, day by day, for the large tenant and for the regular tenants of --adsets alike. `draws` are the
 * CTEs that end in `based`: one row per ad set with m (its campaign), k, tenant_id, platform, cap (a capped
 * campaign's daily budget, else null), base_spend and its cpm, ctr, cvr and aov; `values` are their parameters,
 * the last day and the number of days follow them. Each day gets a weekday rhythm and noise (a capped ad set
 * spends near its share of the budget every day), then impressions, clicks, conversions and their value.
 */
async function insertAdsetRows(c: pg.Client, draws: string, values: unknown[], end: string, days: number): Promise<void> {
  const last = `$${values.length + 1}::date`;
  const count = `$${values.length + 2}::int`;
  await c.query(
    `with ${draws},
     d as (
       select based.*, day::date as day,
              (1 + 0.15 * cos(2 * pi() * extract(isodow from day) / 7)) * (0.8 + 0.4 * random()) as f
       from based, generate_series(${last} - (${count} - 1), ${last}, interval '1 day') day
     ),
     s as (
       select d.*, round((case when cap is not null then base_spend * (0.97 + 0.03 * random()) else base_spend * f end)::numeric, 2) as spend
       from d
     ),
     i as (select s.*, greatest(1, round(s.spend * 1000 / s.cpm))::bigint as impressions from s),
     ck as (select i.*, round(i.impressions * i.ctr * (0.85 + 0.3 * random()))::bigint as clicks from i)
     insert into ads.metrics_daily (tenant_id, platform, level, platform_id, day, entity_name, campaign_id, campaign_name,
                                    spend, impressions, clicks, conversions, conversion_value)
     select tenant_id, platform, 'adset', 'as-' || m || '-' || k, day, 'Ad set ' || m || '-' || k, 'cmp-' || m, 'Campaign ' || m,
            spend, impressions, clicks,
            round((clicks * cvr * (0.7 + 0.6 * random()))::numeric, 0),
            round((clicks * cvr * aov * (0.6 + 0.8 * random()))::numeric, 2)
     from ck
     on conflict do nothing`,
    [...values, end, days],
  );
}

/** The campaign rows of the tenants whose id is `tenants` (an SQL condition, its parameters `values`): the sums of their ad sets, day by day. */
async function insertCampaignSums(c: pg.Client, tenants: string, values: unknown[] = []): Promise<void> {
  await c.query(
    `insert into ads.metrics_daily (tenant_id, platform, level, platform_id, day, entity_name, spend, impressions, clicks, conversions, conversion_value)
     select a.tenant_id, a.platform, 'campaign', a.campaign_id, a.day, max(a.campaign_name),
            sum(a.spend), sum(a.impressions), sum(a.clicks), sum(a.conversions), sum(a.conversion_value)
     from ads.metrics_daily a
     where a.tenant_id ${tenants} and a.level = 'adset'
     group by a.tenant_id, a.platform, a.campaign_id, a.day
     on conflict do nothing`,
    values,
  );
}

/**
 * The large tenant: its row, configs and budgets, then its ad-set rows drawn
 * in the style of the regular tenants (a base spend per ad set, CPM, CTR, CVR
 * and order value drawn once, a weekday rhythm and daily noise; every 7th
 * campaign capped by its budget, which its ad sets share), then the campaign
 * rows as the sums of their ad sets. One transaction, its own seed.
 */
async function generateLarge(c: pg.Client, args: BenchArgs, end: string, superuser: boolean): Promise<void> {
  await c.query(`insert into saas.tenants (id, name) select ${LARGE_TENANT_SQL}, 'Bench large tenant' on conflict do nothing`);
  await c.query('begin');
  await c.query('select setseed(-0.5)');
  if (!superuser) await c.query(`select set_config('saas.tenant_id', ${LARGE_TENANT_SQL}::text, true)`);
  await c.query(
    `insert into ads.platform_configs (tenant_id, platform, max_cpa, target_roas)
     select ${LARGE_TENANT_SQL}, p, 40, 2.5 from unnest(array['meta', 'google', 'tiktok']) p on conflict do nothing`,
  );
  await c.query(
    `insert into ads.budget_allocation (tenant_id, platform, campaign_id, daily_budget)
     select ${LARGE_TENANT_SQL}, ${largePlatformSql('m')}, 'cmp-' || m,
            case when m % 7 = 0 then 50 + (m * 37 % 200) else 2000 end
     from generate_series(1, $1::int) m on conflict do nothing`,
    [args.large],
  );
  await insertAdsetRows(
    c,
    `camp as (
       select m, ${LARGE_TENANT_SQL} as tenant_id, ${largePlatformSql('m')} as platform,
              case when m % 7 = 0 then 50 + (m * 37 % 200) end as cap
       from generate_series(1, $1::int) m
     ),
     aset as (
       select camp.*, k, 0.5 + random() as w, 10 + 150 * random() as free_spend,
              3 + 10 * random() as cpm, 0.004 + 0.03 * random() as ctr, 0.01 + 0.06 * random() as cvr, 20 + 120 * random() as aov
       from camp, generate_series(1, $2::int) k
     ),
     -- a capped campaign's budget is shared by its ad sets
     based as (
       select aset.*, case when cap is not null then cap * w / sum(w) over (partition by m) else free_spend end as base_spend from aset
     )`,
    [args.large, LARGE_ADSETS],
    end,
    args.days,
  );
  await insertCampaignSums(c, `= ${LARGE_TENANT_SQL}`);
  await c.query('commit');
}

/** Where a finished generation records its parameters, in the generated database itself. */
export const DATASET_TABLE = 'public.bench_dataset';
/** Bumped whenever the generator's SQL changes what it writes: a recorded data set of another shape is not reused. */
export const GENERATOR_SHAPE = 2;

/** What identifies a data set: the same values give the same rows (the end day aside when it defaults to yesterday). */
export function datasetParams(a: BenchArgs): Record<string, unknown> {
  return {
    shape: GENERATOR_SHAPE,
    tenants: a.tenants,
    campaigns: a.campaigns,
    days: a.days,
    large: a.large,
    adsets: a.adsets,
    batch: a.batch,
    vacuum: a.vacuum,
    end: a.end,
  };
}

export interface Dataset {
  db: string;
  params: Record<string, unknown>;
  /** The last day of the data. */
  end: string;
  rows: number;
  bytes: number;
  /** How long the generation took (when reused: the recorded time of the generation that made it). */
  seconds: number;
  generatedAt: string;
  reused: boolean;
}

/** Rows per regular tenant and of the large tenant, as generated (the ad sets: 3 + m % 3 for campaign m). */
export function expectedRows(a: Pick<BenchArgs, 'tenants' | 'campaigns' | 'days' | 'large' | 'adsets'>): { perTenant: number; large: number; total: number } {
  let adsets = 0;
  if (a.adsets) for (let m = 1; m <= a.campaigns; m++) adsets += 3 + (m % 3);
  const perTenant = (a.campaigns + adsets) * a.days;
  const large = a.large * (1 + LARGE_ADSETS) * a.days;
  return { perTenant, large, total: a.tenants * perTenant + large };
}

/** The recorded data set of a database, or null (no database, no record, or an interrupted generation). */
export async function readDataset(db: string): Promise<Dataset | null> {
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    if ((await admin.query('select 1 from pg_database where datname = $1', [db])).rowCount !== 1) return null;
  } finally {
    await admin.end();
  }
  const c = new pg.Client({ connectionString: withDatabase(adminUrl(), db) });
  await c.connect();
  try {
    if (!(await c.query<{ t: string | null }>('select to_regclass($1)::text as t', [DATASET_TABLE])).rows[0]!.t) return null;
    const r = (
      await c.query<{ params: Record<string, unknown>; end_day: string; rows: string; bytes: string; seconds: number; generated_at: Date }>(
        `select params, end_day::text as end_day, rows, bytes, seconds::float8 as seconds, generated_at from ${DATASET_TABLE}`,
      )
    ).rows[0];
    if (!r) return null;
    return { db, params: r.params, end: r.end_day, rows: Number(r.rows), bytes: Number(r.bytes), seconds: r.seconds, generatedAt: r.generated_at.toISOString(), reused: true };
  } finally {
    await c.end();
  }
}

const sameParams = (a: Record<string, unknown>, b: Record<string, unknown>) =>
  Object.keys({ ...a, ...b }).every((k) => JSON.stringify(a[k] ?? null) === JSON.stringify(b[k] ?? null));

/**
 * The regular tenants lo..hi with ad sets: per campaign a base spend, CPM, CTR, CVR and order value drawn once, then
 * 3 to 5 ad sets, each with its share of the campaign's spend (a capped campaign's budget is shared) and rates
 * near the campaign's, a weekday rhythm and daily noise per ad set and day; then the campaign rows as their sums.
 */
async function insertRegularWithAdsets(c: pg.Client, lo: number, hi: number, args: BenchArgs, end: string): Promise<void> {
  await insertAdsetRows(
    c,
    `camp as (
       select t, m, ${BENCH_TENANT_SQL} as tenant_id,
              case when m % 2 = 0 then 'meta' else 'google' end as platform,
              case when m % 7 = 0 then 50 + (m * 37 % 200) end as cap,
              30 + 400 * random() as free_spend,
              3 + 10 * random() as cpm, 0.004 + 0.03 * random() as ctr, 0.01 + 0.06 * random() as cvr, 20 + 120 * random() as aov
       from generate_series($1::int, $2::int) t, generate_series(1, $3::int) m
     ),
     aset as (
       select camp.t, camp.m, camp.tenant_id, camp.platform, camp.cap, camp.free_spend, k, 0.5 + random() as w,
              camp.cpm * (0.8 + 0.4 * random()) as cpm, camp.ctr * (0.8 + 0.4 * random()) as ctr,
              camp.cvr * (0.7 + 0.6 * random()) as cvr, camp.aov * (0.8 + 0.4 * random()) as aov
       from camp, generate_series(1, 3 + camp.m % 3) k
     ),
     based as (select aset.*, coalesce(cap, free_spend) * w / sum(w) over (partition by t, m) as base_spend from aset)`,
    [lo, hi, args.campaigns],
    end,
    args.days,
  );
  await insertCampaignSums(c, `in (select ${BENCH_TENANT_SQL} from generate_series($1::int, $2::int) t)`, [lo, hi]);
}

/** The regular tenants lo..hi, campaign rows only. */
async function insertRegular(c: pg.Client, lo: number, hi: number, args: BenchArgs, end: string): Promise<void> {
  await c.query(
    `with camp as (
       select t, m, ${BENCH_TENANT_SQL} as tenant_id,
              case when m % 2 = 0 then 'meta' else 'google' end as platform,
              case when m % 7 = 0 then 50 + (m * 37 % 200) else 30 + 400 * random() end as base_spend,
              3 + 10 * random() as cpm, 0.004 + 0.03 * random() as ctr, 0.01 + 0.06 * random() as cvr, 20 + 120 * random() as aov
       from generate_series($1::int, $2::int) t, generate_series(1, $3::int) m
     ),
     d as (
       select camp.*, day::date as day,
              -- weekday rhythm and day-to-day noise
              (1 + 0.15 * cos(2 * pi() * extract(isodow from day) / 7)) * (0.8 + 0.4 * random()) as f
       from camp, generate_series($4::date - ($5::int - 1), $4::date, interval '1 day') day
     ),
     s as (
       select d.*, round((case when m % 7 = 0 then base_spend * (0.97 + 0.03 * random()) else base_spend * f end)::numeric, 2) as spend
       from d
     ),
     i as (select s.*, greatest(1, round(s.spend * 1000 / s.cpm))::bigint as impressions from s),
     k as (select i.*, round(i.impressions * i.ctr * (0.85 + 0.3 * random()))::bigint as clicks from i)
     insert into ads.metrics_daily (tenant_id, platform, level, platform_id, day, entity_name, spend, impressions, clicks, conversions, conversion_value)
     select tenant_id, platform, 'campaign', 'cmp-' || m, day, 'Campaign ' || m, spend, impressions, clicks,
            round((clicks * cvr * (0.7 + 0.6 * random()))::numeric, 0) as conv,
            round((clicks * cvr * aov * (0.6 + 0.8 * random()))::numeric, 2)
     from k
     on conflict do nothing`,
    [lo, hi, args.campaigns, end, args.days],
  );
}

/** Generates the data set of args (or, with --reuse, keeps the database when its record matches). */
export async function generate(args: BenchArgs, log: (line: string) => void = console.log): Promise<Dataset> {
  const params = datasetParams(args);
  if (args.reuse) {
    const found = await readDataset(args.db);
    if (found && sameParams(found.params, params)) return found;
    if (found) log(`${args.db} holds another data set (${JSON.stringify(found.params)}): regenerating`);
  }
  const fresh = args.fresh || args.reuse;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  const exists = (await admin.query('select 1 from pg_database where datname = $1', [args.db])).rowCount === 1;
  if (exists && fresh) await admin.query(`drop database ${admin.escapeIdentifier(args.db)} with (force)`);
  if (!exists || fresh) await admin.query(`create database ${admin.escapeIdentifier(args.db)}`);
  await admin.end();

  const url = withDatabase(adminUrl(), args.db);
  await migrate(url);
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  c.on('notice', () => undefined);
  try {
    const started = performance.now();
    // A record left by an earlier generation no longer describes what this one adds.
    await c.query(`drop table if exists ${DATASET_TABLE}`);
    const end = args.end ?? (await c.query<{ d: string }>('select (current_date - 1)::text as d')).rows[0]!.d;
    const expected = expectedRows(args);
    log(
      `generating ${args.tenants} tenants x ${args.campaigns} campaigns${args.adsets ? ` (+ ${expected.perTenant / args.days - args.campaigns} ad sets)` : ''} x ${args.days} days = ` +
        `${(args.tenants * expected.perTenant).toLocaleString('en')} rows, ending ${end}, into ${args.db}`,
    );
    if (args.large > 0) {
      log(
        `  + 'Bench large tenant' (tenant ${LARGE_TENANT_NUMBER}): ${args.large} campaigns x ${LARGE_ADSETS} ad sets on ${LARGE_PLATFORMS.join(', ')} x ${args.days} days = ` +
          `${expected.large.toLocaleString('en')} rows (ad sets and their campaign sums)`,
      );
    }

    // Tenants, configs and budgets first (small).
    await c.query(
      `insert into saas.tenants (id, name) select ${BENCH_TENANT_SQL}, 'Bench tenant ' || t from generate_series(1, $1) t on conflict do nothing`,
      [args.tenants],
    );
    await c.query(
      `insert into ads.platform_configs (tenant_id, platform, max_cpa, target_roas)
       select ${BENCH_TENANT_SQL}, p, 40, 2.5 from generate_series(1, $1) t, unnest(array['meta', 'google']) p on conflict do nothing`,
      [args.tenants],
    );
    // Per campaign: a base daily spend, CPM, CTR, CVR and order value drawn once
    // (setseed per batch keeps it reproducible); every 7th campaign is budget-capped.
    await c.query(
      `insert into ads.budget_allocation (tenant_id, platform, campaign_id, daily_budget)
       select ${BENCH_TENANT_SQL}, case when m % 2 = 0 then 'meta' else 'google' end, 'cmp-' || m,
              case when m % 7 = 0 then 50 + (m * 37 % 200) else 2000 end
       from generate_series(1, $1) t, generate_series(1, $2) m on conflict do nothing`,
      [args.tenants, args.campaigns],
    );

    // The owner is subject to forced RLS unless it is a superuser: insert tenant by tenant then.
    const superuser = (await c.query<{ s: boolean }>('select rolsuper as s from pg_roles where rolname = current_user')).rows[0]!.s;
    const insert = args.adsets ? insertRegularWithAdsets : insertRegular;
    for (let first = 1; first <= args.tenants; first += args.batch) {
      const last = Math.min(args.tenants, first + args.batch - 1);
      await c.query('begin');
      await c.query(`select setseed(${(first % 1000) / 1000})`);
      const tenantsOf = superuser ? [[first, last]] : Array.from({ length: last - first + 1 }, (_, i) => [first + i, first + i]);
      for (const [lo, hi] of tenantsOf) {
        if (!superuser) await c.query(`select set_config('saas.tenant_id', (select ${BENCH_TENANT_SQL} from (select $1::int as t) x)::text, true)`, [lo]);
        await insert(c, lo!, hi!, args, end);
      }
      await c.query('commit');
      const rate = (last * expected.perTenant) / ((performance.now() - started) / 1000);
      const line = `  ${last}/${args.tenants} tenants, ${Math.round(rate).toLocaleString('en')} rows/s`;
      // a log file gets a line per tenth of the work, a terminal one line kept up to date
      if (process.stdout.isTTY) process.stdout.write(`\r${line}   `);
      else if (Math.floor((last * 10) / args.tenants) > Math.floor(((first - 1) * 10) / args.tenants)) log(line);
    }
    if (process.stdout.isTTY) process.stdout.write('\n');
    if (args.large > 0) {
      const t0 = performance.now();
      await generateLarge(c, args, end, superuser);
      log(`  large tenant: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
    if (args.vacuum) await c.query('vacuum (analyze) ads.metrics_daily, ads_engine.metrics_platform_daily, ads_engine.metrics_entity_weekly');
    else await c.query('analyze ads.metrics_daily');
    const facts = (
      await c.query<{ n: string; bytes: string }>(`select count(*) as n, pg_total_relation_size('ads.metrics_daily') as bytes from ads.metrics_daily`)
    ).rows[0]!;
    const seconds = (performance.now() - started) / 1000;
    await c.query(
      `create table ${DATASET_TABLE} (params jsonb not null, end_day date not null, rows bigint not null, bytes bigint not null,
                                      seconds numeric not null, generated_at timestamptz not null default now())`,
    );
    await c.query(`comment on table ${DATASET_TABLE} is 'The parameters of the benchmark generation that made this database (bench/generate.ts): a rerun with the same ones reuses it.'`);
    const rec = (
      await c.query<{ generated_at: Date }>(`insert into ${DATASET_TABLE} (params, end_day, rows, bytes, seconds) values ($1, $2, $3, $4, $5) returning generated_at`, [
        JSON.stringify(params),
        end,
        facts.n,
        facts.bytes,
        seconds.toFixed(1),
      ])
    ).rows[0]!;
    log(`${Number(facts.n).toLocaleString('en')} metric rows (${(Number(facts.bytes) / 2 ** 20).toFixed(0)} MB with indexes) in ${seconds.toFixed(1)} s`);
    return { db: args.db, params, end, rows: Number(facts.n), bytes: Number(facts.bytes), seconds, generatedAt: rec.generated_at.toISOString(), reused: false };
  } finally {
    await c.end();
  }
}

if (require.main === module) {
  (async () => {
    const d = await generate(parseArgs(process.argv.slice(2)));
    if (d.reused) console.log(`${d.db} already holds this data set (${d.rows.toLocaleString('en')} rows, generated ${d.generatedAt}): kept`);
  })().catch((err: Error) => {
    console.error(`error: ${err.message}`);
    process.exit(1);
  });
}
