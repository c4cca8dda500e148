// Benchmark data: N tenants x M campaigns x D days of ads.metrics_daily in a
// database of its own, made by INSERT ... SELECT over generate_series (the
// server does the work; nothing streams through Node).
//
//   npm run bench:generate -- --tenants 1000 --campaigns 20 --days 500 [--large 200] [--db aegis_bench] [--fresh]
//
// --large N adds one more tenant, 'Bench large tenant' (tenant number 0,
// LARGE_TENANT_SQL), with N campaigns on meta, google and tiktok over the same
// days, each of 4 ad sets: the ad-set rows are drawn, the campaign rows are
// their sums (the performance page's benchmark, bench/performance-page.ts).
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
}

export const adminUrl = () => process.env.BENCH_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function parseArgs(argv: string[]): BenchArgs {
  const a: BenchArgs = { tenants: 100, campaigns: 20, days: 120, db: 'aegis_bench', fresh: false, end: null, batch: 20, large: 0 };
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
    else throw new Error(`unknown argument ${k}`);
  }
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
  await c.query(
    `with camp as (
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
     ),
     d as (
       select based.*, day::date as day,
              (1 + 0.15 * cos(2 * pi() * extract(isodow from day) / 7)) * (0.8 + 0.4 * random()) as f
       from based, generate_series($3::date - ($4::int - 1), $3::date, interval '1 day') day
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
    [args.large, LARGE_ADSETS, end, args.days],
  );
  // The campaign rows: the sums of their ad sets, day by day.
  await c.query(
    `insert into ads.metrics_daily (tenant_id, platform, level, platform_id, day, entity_name, spend, impressions, clicks, conversions, conversion_value)
     select a.tenant_id, a.platform, 'campaign', a.campaign_id, a.day, max(a.campaign_name),
            sum(a.spend), sum(a.impressions), sum(a.clicks), sum(a.conversions), sum(a.conversion_value)
     from ads.metrics_daily a
     where a.tenant_id = ${LARGE_TENANT_SQL} and a.level = 'adset'
     group by a.tenant_id, a.platform, a.campaign_id, a.day
     on conflict do nothing`,
  );
  await c.query('commit');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  const exists = (await admin.query('select 1 from pg_database where datname = $1', [args.db])).rowCount === 1;
  if (exists && args.fresh) await admin.query(`drop database ${admin.escapeIdentifier(args.db)} with (force)`);
  if (!exists || args.fresh) await admin.query(`create database ${admin.escapeIdentifier(args.db)}`);
  await admin.end();

  const url = withDatabase(adminUrl(), args.db);
  await migrate(url);
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  c.on('notice', () => undefined);
  const started = performance.now();
  const end = args.end ?? (await c.query<{ d: string }>("select (current_date - 1)::text as d")).rows[0]!.d;
  console.log(`generating ${args.tenants} tenants x ${args.campaigns} campaigns x ${args.days} days = ${(args.tenants * args.campaigns * args.days).toLocaleString()} rows, ending ${end}, into ${args.db}`);
  if (args.large > 0) {
    const rows = args.large * (1 + LARGE_ADSETS) * args.days;
    console.log(
      `  + 'Bench large tenant' (tenant ${LARGE_TENANT_NUMBER}): ${args.large} campaigns x ${LARGE_ADSETS} ad sets on ${LARGE_PLATFORMS.join(', ')} x ${args.days} days = ${rows.toLocaleString()} rows (ad sets and their campaign sums)`,
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
  // (setseed per tenant keeps it reproducible); every 7th campaign is budget-capped.
  await c.query(
    `insert into ads.budget_allocation (tenant_id, platform, campaign_id, daily_budget)
     select ${BENCH_TENANT_SQL}, case when m % 2 = 0 then 'meta' else 'google' end, 'cmp-' || m,
            case when m % 7 = 0 then 50 + (m * 37 % 200) else 2000 end
     from generate_series(1, $1) t, generate_series(1, $2) m on conflict do nothing`,
    [args.tenants, args.campaigns],
  );

  let done = 0;
  for (let first = 1; first <= args.tenants; first += args.batch) {
    const last = Math.min(args.tenants, first + args.batch - 1);
    await c.query('begin');
    await c.query(`select setseed(${(first % 1000) / 1000})`);
    // The owner is subject to forced RLS unless it is a superuser: insert tenant by tenant then.
    const superuser = (await c.query<{ s: boolean }>('select rolsuper as s from pg_roles where rolname = current_user')).rows[0]!.s;
    const tenantsOf = superuser ? [[first, last]] : Array.from({ length: last - first + 1 }, (_, i) => [first + i, first + i]);
    for (const [lo, hi] of tenantsOf) {
      if (!superuser) await c.query(`select set_config('saas.tenant_id', (select ${BENCH_TENANT_SQL} from (select $1::int as t) x)::text, true)`, [lo]);
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
    await c.query('commit');
    done = last;
    const rate = (done * args.campaigns * args.days) / ((performance.now() - started) / 1000);
    process.stdout.write(`\r  ${done}/${args.tenants} tenants, ${Math.round(rate).toLocaleString()} rows/s   `);
  }
  process.stdout.write('\n');
  if (args.large > 0) {
    const t0 = performance.now();
    const superuser = (await c.query<{ s: boolean }>('select rolsuper as s from pg_roles where rolname = current_user')).rows[0]!.s;
    await generateLarge(c, args, end, superuser);
    console.log(`  large tenant: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  await c.query('analyze ads.metrics_daily');
  const n = (await c.query<{ n: string }>('select count(*) as n from ads.metrics_daily')).rows[0]!.n;
  const size = (await c.query<{ s: string }>("select pg_size_pretty(pg_total_relation_size('ads.metrics_daily')) as s")).rows[0]!.s;
  console.log(`${Number(n).toLocaleString()} metric rows (${size} with indexes) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  await c.end();
}

if (require.main === module) {
  main().catch((err: Error) => {
    console.error(`error: ${err.message}`);
    process.exit(1);
  });
}
