// The demo data: realistic shapes, planted situations with the numbers the
// engine must find, determinism, and respect for other tenants. Checked by
// independent SQL over a freshly seeded scratch database.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { APP_ROLE, withCredentials } from '../../lib/db/config';
import { migrate } from '../../db/tools/migrate';
import { DEMO_TENANTS, PLANTED, PLANTED_EXPECT, QUIET, seedDemo } from '../../db/seed/seed';
import { queryRows, scratchDatabase } from '../helpers/db';

const TODAY = '2026-11-29';
let url: string;
let appUrl: string;

const one = async <T>(text: string, values: unknown[] = []): Promise<T> => (await queryRows<T & Record<string, unknown>>(url, text, values))[0] as T;
const num = (v: unknown) => Number(v);

/** A digest of everything seeded, independent of insertion times. */
async function digest(): Promise<string> {
  const r = await one<{ d: string }>(`
    select md5(string_agg(x, '|' order by x)) as d from (
      select concat_ws(',', tenant_id, platform, level, platform_id, day, entity_name, campaign_id, spend, impressions, clicks, conversions, conversion_value) as x from ads.metrics_daily
      union all select concat_ws(',', tenant_id, platform, campaign_id, daily_budget, target_roas, target_cpa, allocation_strategy, status) from ads.budget_allocation
      union all select concat_ws(',', tenant_id, test_name, performance_a::text, performance_b::text, winner, statistical_significance, status) from ads.ab_tests
      union all select concat_ws(',', tenant_id, platform, max_cpa, target_roas) from ads.platform_configs
      union all select concat_ws(',', platform, industry_vertical, metric_name, percentile_10, percentile_50, percentile_90) from ads.performance_benchmarks
      union all select concat_ws(',', m.tenant_id, u.email, m.role) from saas.memberships m join saas.users u on u.id = m.user_id
    ) s`);
  return r.d;
}

beforeAll(async () => {
  url = await scratchDatabase('seed');
  await migrate(url);
  appUrl = withCredentials(url, APP_ROLE, inject('appPassword'));
  await seedDemo({ ownerUrl: url, appUrl, today: TODAY });
}, 180_000);

describe('demo data', () => {
  it('three tenants in three verticals, 15-30 campaigns each with ad sets, 120 days ending yesterday', async () => {
    const tenants = await queryRows<{ vertical: string; campaigns: number; adsets: number; first: string; last: string; days: number }>(
      url,
      `select t.vertical,
              count(distinct m.platform_id) filter (where m.level = 'campaign')::int as campaigns,
              count(distinct m.platform_id) filter (where m.level = 'adset')::int as adsets,
              min(m.day)::text as first, max(m.day)::text as last, count(distinct m.day)::int as days
       from saas.tenants t join ads.metrics_daily m on m.tenant_id = t.id group by t.vertical order by t.vertical`,
    );
    expect(tenants.map((t) => t.vertical)).toEqual(['apps', 'ecommerce', 'lead_generation']);
    for (const t of tenants) {
      expect(t.campaigns).toBeGreaterThanOrEqual(15);
      expect(t.campaigns).toBeLessThanOrEqual(30);
      expect(t.adsets).toBeGreaterThanOrEqual(3 * t.campaigns);
      expect(t.adsets).toBeLessThanOrEqual(5 * t.campaigns);
      // Aug 1..31 (31) + Sep (30) + Oct (31) + Nov 1..28 (28) = 120 days ending the day before TODAY.
      expect(t).toMatchObject({ first: '2026-08-01', last: '2026-11-28', days: 120 });
    }
    const platforms = await queryRows<{ platform: string }>(url, 'select distinct platform from ads.metrics_daily order by 1');
    expect(platforms.map((p) => p.platform)).toEqual(['google', 'linkedin', 'meta', 'tiktok']);
  });

  it('every campaign row is the sum of its ad-set rows', async () => {
    const mismatches = await one<{ n: number }>(`
      select count(*)::int as n from ads.metrics_daily c
      join (select tenant_id, platform, campaign_id, day, sum(spend) s, sum(impressions) i, sum(clicks) k, sum(conversions) v, sum(conversion_value) w
            from ads.metrics_daily where level = 'adset' group by 1, 2, 3, 4) a
        on a.tenant_id = c.tenant_id and a.platform = c.platform and a.campaign_id = c.platform_id and a.day = c.day
      where c.level = 'campaign' and (c.spend, c.impressions, c.clicks, c.conversions, c.conversion_value) is distinct from (a.s, a.i, a.k, a.v, a.w)`);
    expect(mismatches.n).toBe(0);
    const orphans = await one<{ n: number }>(`
      select count(*)::int as n from ads.metrics_daily c where c.level = 'campaign'
        and not exists (select 1 from ads.metrics_daily a where a.level = 'adset' and a.tenant_id = c.tenant_id and a.campaign_id = c.platform_id and a.day = c.day)`);
    expect(orphans.n).toBe(0);
  });

  it('plausible rates per vertical over the whole period (ratios of sums)', async () => {
    const r = await queryRows<{ vertical: string; roas: number; cpa: number; ctr: number; cpm: number }>(
      url,
      `select t.vertical, sum(conversion_value) / sum(spend) as roas, sum(spend) / sum(conversions) as cpa,
              sum(clicks)::numeric / sum(impressions) as ctr, sum(spend) * 1000 / sum(impressions) as cpm
       from ads.metrics_daily m join saas.tenants t on t.id = m.tenant_id where m.level = 'campaign' group by 1 order by 1`,
    );
    const by = Object.fromEntries(r.map((x) => [x.vertical, x]));
    expect(num(by.ecommerce!.roas)).toBeGreaterThan(1.5);
    expect(num(by.ecommerce!.roas)).toBeLessThan(5);
    expect(num(by.lead_generation!.cpa)).toBeGreaterThan(20);
    expect(num(by.lead_generation!.cpa)).toBeLessThan(120);
    expect(num(by.apps!.cpa)).toBeGreaterThan(2);
    expect(num(by.apps!.cpa)).toBeLessThan(10);
    for (const x of r) {
      expect(num(x.ctr)).toBeGreaterThan(0.005);
      expect(num(x.ctr)).toBeLessThan(0.03);
      expect(num(x.cpm)).toBeGreaterThan(5);
      expect(num(x.cpm)).toBeLessThan(40);
    }
  });

  it('plants a campaign whose CPA doubled over the last 7 days at the same spend, on enough conversions to see it', async () => {
    const p = PLANTED.cpa_doubled;
    const r = await one<{ cpa_ratio: number; spend_ratio: number }>(
      `with w as (
         select sum(spend) filter (where day >= $2::date - 7) as s_new, sum(conversions) filter (where day >= $2::date - 7) as c_new,
                sum(spend) filter (where day between $2::date - 37 and $2::date - 8) as s_old,
                sum(conversions) filter (where day between $2::date - 37 and $2::date - 8) as c_old
         from ads.metrics_daily where level = 'campaign' and platform_id = $1)
       select (s_new / c_new) / (s_old / c_old) as cpa_ratio, (s_new / 7) / (s_old / 30) as spend_ratio from w`,
      [p.campaignId, TODAY],
    );
    // The true ratio is 2; the realised one carries the noise of ~170 conversions (about +-10 % at 1 sd).
    expect(num(r.cpa_ratio)).toBeGreaterThan(1.6);
    expect(num(r.cpa_ratio)).toBeLessThan(2.5);
    const before = await one<{ c: number }>(
      `select avg(conversions) as c from ads.metrics_daily where level = 'campaign' and platform_id = $1 and day between $2::date - 37 and $2::date - 8`,
      [p.campaignId, TODAY],
    );
    expect(num(before.c)).toBeGreaterThan(PLANTED_EXPECT.cpaDoubled.minConversionsPerDay);
    expect(num(r.spend_ratio)).toBeGreaterThan(0.9);
    expect(num(r.spend_ratio)).toBeLessThan(1.1);
  });

  it('plants a spend spike yesterday, conversions flat', async () => {
    const p = PLANTED.spend_spike;
    const r = await one<{ spend_ratio: number; conv_ratio: number }>(
      `select max(spend) filter (where day = $2::date - 1) / avg(spend) filter (where day in ($2::date - 8, $2::date - 15, $2::date - 22, $2::date - 29)) as spend_ratio,
              max(conversions) filter (where day = $2::date - 1) / avg(conversions) filter (where day in ($2::date - 8, $2::date - 15, $2::date - 22, $2::date - 29)) as conv_ratio
       from ads.metrics_daily where level = 'campaign' and platform_id = $1`,
      [p.campaignId, TODAY],
    );
    expect(num(r.spend_ratio)).toBeCloseTo(PLANTED_EXPECT.spendSpike.spendRatio, 1);
    expect(num(r.conv_ratio)).toBeGreaterThan(0.6);
    expect(num(r.conv_ratio)).toBeLessThan(1.6);
  });

  it('plants a tracking drop: zero conversions two days running with normal spend and clicks', async () => {
    const p = PLANTED.tracking_drop;
    const rows = await queryRows<{ level: string; conversions: number; conversion_value: number; clicks: number }>(
      url,
      `select level, conversions, conversion_value, clicks from ads.metrics_daily
       where tenant_id = $1 and (platform_id = $2 or campaign_id = $2) and day >= $3::date - 2 order by level, platform_id, day`,
      [p.tenantId, p.campaignId, TODAY],
    );
    expect(rows).toHaveLength(2 * (1 + p.adsetIds.length));
    for (const r of rows) {
      expect(num(r.conversions)).toBe(0);
      expect(num(r.conversion_value)).toBe(0);
      expect(num(r.clicks)).toBeGreaterThan(0);
    }
    const before = await one<{ c: number }>(
      `select min(conversions) as c from ads.metrics_daily where level = 'campaign' and platform_id = $1 and day < $2::date - 2`,
      [p.campaignId, TODAY],
    );
    expect(num(before.c)).toBeGreaterThan(10);
  });

  it('plants a winner capped by budget: ROAS well above target, spend at the budget for 14 days', async () => {
    const p = PLANTED.budget_capped_winner;
    const e = PLANTED_EXPECT.budgetCappedWinner;
    const b = await one<{ daily_budget: number; target_roas: number }>(
      'select daily_budget, target_roas from ads.budget_allocation where tenant_id = $1 and campaign_id = $2',
      [p.tenantId, p.campaignId],
    );
    expect(num(b.daily_budget)).toBe(e.dailyBudget);
    expect(num(b.target_roas)).toBe(e.targetRoas);
    const r = await one<{ min_u: number; max_u: number; roas: number }>(
      `select min(m.spend / $3) as min_u, max(m.spend / $3) as max_u, sum(m.conversion_value) / sum(m.spend) as roas
       from ads.metrics_daily m where m.level = 'campaign' and m.platform_id = $1 and m.day >= $2::date - 14`,
      [p.campaignId, TODAY, e.dailyBudget],
    );
    expect(num(r.min_u)).toBeGreaterThanOrEqual(0.98);
    expect(num(r.max_u)).toBeLessThanOrEqual(1);
    expect(num(r.roas)).toBeGreaterThanOrEqual(1.5 * e.targetRoas);
    // No other campaign sits at its budget every one of the last 14 days.
    const capped = await queryRows<{ campaign_id: string }>(
      url,
      `select b.campaign_id from ads.budget_allocation b join ads.metrics_daily m
         on m.tenant_id = b.tenant_id and m.platform = b.platform and m.platform_id = b.campaign_id and m.level = 'campaign'
       where m.day >= $1::date - 14 group by b.campaign_id having bool_and(m.spend >= 0.98 * b.daily_budget)`,
      [TODAY],
    );
    expect(capped.map((c) => c.campaign_id)).toEqual([p.campaignId]);
  });

  it('plants an ad set spending about 250 a day with zero conversions for 7 days inside a healthy campaign', async () => {
    const p = PLANTED.adset_zero_conversions;
    const e = PLANTED_EXPECT.adsetZeroConversions;
    expect(p.affectedAdsetIds).toHaveLength(1);
    const zero = p.affectedAdsetIds[0];
    const r = await one<{ spend_7: number; conv_7: number; min_clicks_7: number; conv_before: number; spend_before: number }>(
      `select avg(spend) filter (where day >= $3::date - 7) as spend_7, sum(conversions) filter (where day >= $3::date - 7) as conv_7,
              min(clicks) filter (where day >= $3::date - 7) as min_clicks_7,
              sum(conversions) filter (where day between $3::date - 37 and $3::date - 8) as conv_before,
              sum(spend) filter (where day between $3::date - 37 and $3::date - 8) as spend_before
       from ads.metrics_daily where tenant_id = $1 and level = 'adset' and platform_id = $2`,
      [p.tenantId, zero, TODAY],
    );
    expect(num(r.spend_7)).toBeGreaterThan(e.dailySpend * 0.8);
    expect(num(r.spend_7)).toBeLessThan(e.dailySpend * 1.2);
    expect(num(r.conv_7)).toBe(0);
    expect(num(r.min_clicks_7)).toBeGreaterThan(0);
    // At its earlier rate the week would have brought 15+ conversions.
    expect((num(r.conv_before) / num(r.spend_before)) * num(r.spend_7) * e.days).toBeGreaterThan(15);
    // The other ad sets and the campaign carry on as before.
    const c = await one<{ conv_7: number; min_other: number }>(
      `select (select sum(conversions) from ads.metrics_daily where tenant_id = $1 and level = 'campaign' and platform_id = $2 and day >= $4::date - 7) as conv_7,
              (select min(conversions) from ads.metrics_daily where tenant_id = $1 and level = 'adset' and campaign_id = $2 and platform_id <> $3 and day >= $4::date - 7) as min_other`,
      [p.tenantId, p.campaignId, zero, TODAY],
    );
    expect(num(c.conv_7)).toBeGreaterThan(7 * 15);
    expect(num(c.min_other)).toBeGreaterThan(0);
  });

  it('has a steady LinkedIn B2B campaign that converts on business days only', async () => {
    const q = QUIET.b2b_no_weekend;
    expect(q.platform).toBe('linkedin');
    const r = await one<{ weekend_conv: number; weekend_min_spend: number; weekday_min_conv: number; days: number }>(
      `select sum(conversions) filter (where extract(isodow from day) >= 6) as weekend_conv,
              min(spend) filter (where extract(isodow from day) >= 6) as weekend_min_spend,
              min(conversions) filter (where extract(isodow from day) < 6) as weekday_min_conv, count(*)::int as days
       from ads.metrics_daily where tenant_id = $1 and level = 'campaign' and platform_id = $2`,
      [q.tenantId, q.campaignId],
    );
    expect(r.days).toBe(120);
    expect(num(r.weekend_conv)).toBe(0);
    expect(num(r.weekend_min_spend)).toBeGreaterThan(0);
    expect(num(r.weekday_min_conv)).toBeGreaterThan(0);
  });

  it('completed A/B tests carry a significance that a two-proportion z-test reproduces', async () => {
    const tests = await queryRows<{ a: { clicks: number; conversions: number }; b: { clicks: number; conversions: number }; winner: string; sig: number }>(
      url,
      `select performance_a as a, performance_b as b, winner, statistical_significance as sig from ads.ab_tests where status = 'completed'`,
    );
    expect(tests.length).toBeGreaterThanOrEqual(3);
    for (const t of tests) {
      // Pooled two-proportion z-test on conversions / clicks, two-sided; significance = 1 - p.
      const [x1, n1, x2, n2] = [t.a.conversions, t.a.clicks, t.b.conversions, t.b.clicks];
      const pooled = (x1 + x2) / (n1 + n2);
      const z = (x2 / n2 - x1 / n1) / Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
      const p = 2 * (1 - phi(Math.abs(z)));
      expect(num(t.sig)).toBeCloseTo(1 - p, 3);
      const expectedWinner = 1 - p >= 0.95 ? (z > 0 ? 'B' : 'A') : 'none';
      expect(t.winner).toBe(expectedWinner);
    }
  });

  it('benchmarks: ordered percentiles with the median as benchmark value', async () => {
    const bad = await one<{ n: number; total: number }>(
      `select count(*) filter (where not (percentile_10 < percentile_25 and percentile_25 < percentile_50 and percentile_50 < percentile_75
                                          and percentile_75 < percentile_90 and benchmark_value = percentile_50))::int as n,
              count(*)::int as total from ads.performance_benchmarks`,
    );
    expect(bad.n).toBe(0);
    expect(bad.total).toBeGreaterThanOrEqual(36);
  });

  it('demo logins: one user per role in the first tenant', async () => {
    const r = await queryRows<{ email: string; role: string; hash: string }>(
      url,
      `select u.email, m.role::text as role, u.password_hash as hash from saas.memberships m join saas.users u on u.id = m.user_id
       where m.tenant_id = $1 order by m.role`,
      [DEMO_TENANTS[0].id],
    );
    expect(r.map((x) => [x.email, x.role])).toEqual([
      ['viewer@demo.test', 'viewer'],
      ['buyer@demo.test', 'buyer'],
      ['admin@demo.test', 'admin'],
    ]);
    for (const x of r) expect(x.hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it('is deterministic and idempotent, and leaves other tenants alone', async () => {
    const other = randomUUID();
    await queryRows(url, `insert into saas.tenants (id, name) values ($1, 'Not a demo tenant')`, [other]);
    await queryRows(url, `insert into ads.budget_allocation (tenant_id, platform, campaign_id, daily_budget) values ($1, 'meta', 'mine', 10)`, [other]);
    const before = await digest();
    await seedDemo({ ownerUrl: url, appUrl, today: TODAY });
    expect(await digest()).toBe(before);
    expect(await queryRows(url, 'select campaign_id from ads.budget_allocation where tenant_id = $1', [other])).toEqual([{ campaign_id: 'mine' }]);
  }, 180_000);

  it('refuses an appUrl whose role could bypass row-level security, as the app does, before writing anything', async () => {
    const before = await digest();
    await expect(seedDemo({ ownerUrl: url, appUrl: url, today: TODAY })).rejects.toThrow(/appUrl must connect as the application role.*it is a superuser/);
    // A member of aegis_owner (it could SET ROLE to the owner): neither superuser nor BYPASSRLS.
    const role = `aegis_seed_probe_${process.pid}`;
    await queryRows(url, `drop role if exists ${role}`);
    await queryRows(url, `create role ${role} login password 'probe' noinherit in role aegis_owner`);
    try {
      const probeUrl = withCredentials(url, role, 'probe');
      await expect(seedDemo({ ownerUrl: url, appUrl: probeUrl, today: TODAY })).rejects.toThrow(/not aegis_seed_probe_\d+ \(it is a member of aegis_owner\)/);
    } finally {
      await queryRows(url, `drop role ${role}`);
    }
    expect(await digest()).toBe(before);
  }, 60_000);
});

/** Standard normal CDF by the Abramowitz-Stegun 7.1.26 erf approximation (|error| < 1.5e-7). */
function phi(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
}
