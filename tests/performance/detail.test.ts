// campaignDetail on the real database, through the app role inside the
// tenant's transaction (rolled back): identity, the engine's analysis, the
// 30-day benchmark figures as ratios of sums, the benchmark rows picked, the
// open recommendations and anomalies, the efficiency history, and the other
// tenant's campaign reading as null (while the owner sees it exists).
// Expected numbers are worked out by hand in the comments.
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, type Tx } from '../../lib/db/pool';
import { addDays } from '../../lib/performance/filters';
import { campaignDetail, type CampaignDetail } from '../../lib/performance/detail';
import { appKysely, rolledBackAsApp } from '../helpers/app-db';
import { createTenant, ownerPool, inTenant } from '../helpers/db';

const app = appKysely();
const owner = ownerPool();

// A platform and vertical no other suite writes benchmarks for, and a source
// that marks this suite's rows (deleted afterwards: the table is shared).
const PLATFORM = 'snapchat';
const VERTICAL = 'b2b';
const TYPE = 'detail_test_type';
const SOURCE = 'detail-test';

let tenantA: string;
let tenantB: string;
let lastDay: string;
const ids: Record<string, string> = {};

/** As the owner, in one committed transaction with the tenant set (RLS is forced on the owner too). */
const asOwner = <T>(tenant: string, fn: (c: pg.PoolClient) => Promise<T>) => inTenant(owner, tenant, fn);

const asApp = <T>(tenant: string, fn: (trx: Tx) => Promise<T>) => rolledBackAsApp(app.db, tenant, fn);

interface Row {
  level?: 'campaign' | 'adset';
  platform?: string;
  id: string;
  campaignId?: string;
  day: string;
  name: string;
  spend: number;
  impressions: number;
  clicks: number;
  conversions: number;
  value: number;
  type?: string;
}

async function insertMetrics(c: pg.ClientBase, tenant: string, rows: Row[]): Promise<void> {
  await c.query(
    `insert into ads.metrics_daily (tenant_id, platform, level, platform_id, campaign_id, day, entity_name, campaign_name,
                                    spend, impressions, clicks, conversions, conversion_value, custom_metrics)
     select $1, p, l, id, cid, d::date, n, cn, s, i, k, cv, v,
            case when ty is null then '{}'::jsonb else jsonb_build_object('campaign_type', ty) end
     from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                 $9::numeric[], $10::bigint[], $11::bigint[], $12::numeric[], $13::numeric[], $14::text[])
          as t(p, l, id, cid, d, n, cn, s, i, k, cv, v, ty)`,
    [
      tenant,
      rows.map((r) => r.platform ?? PLATFORM),
      rows.map((r) => r.level ?? 'campaign'),
      rows.map((r) => r.id),
      rows.map((r) => r.campaignId ?? r.id),
      rows.map((r) => r.day),
      rows.map((r) => r.name),
      rows.map((r) => (r.level === 'adset' ? 'Spring sale' : r.name)),
      rows.map((r) => r.spend),
      rows.map((r) => r.impressions),
      rows.map((r) => r.clicks),
      rows.map((r) => r.conversions),
      rows.map((r) => r.value),
      rows.map((r) => r.type ?? null),
    ],
  );
}

/**
 * Tenant A, platform snapchat, days D-39 .. D (D = the tenant's yesterday):
 *
 * camp-A (campaign rows, type detail_test_type), day D-i:
 *   i < 30, even i: spend 100, impressions 10,000, clicks 100, conversions 2, value 300
 *   i < 30, odd i:  spend 200, impressions 30,000, clicks 300, conversions 8, value 400
 *   i >= 30:        spend 1000, impressions 10,000, clicks 10, conversions 1, value 50 (outside the 30 days)
 *   named "Old name" for i >= 20, "Spring sale" after.
 * Its 30 days (15 even, 15 odd): spend 4500, impressions 600,000, clicks 6000, conversions 150, value 10,500:
 *   ROAS 10500/4500 = 2.333333, CPA 4500/150 = 30, CTR 6000/600000 = 0.01, CPC 4500/6000 = 0.75,
 *   CPM 4500*1000/600000 = 7.5, conversion rate 150/6000 = 0.025.
 *   (The mean of the daily ROAS would be (3 + 2) / 2 = 2.5, of the daily CPA (50 + 25) / 2 = 37.5.)
 * Its 7 days (i = 0..6: 4 even, 3 odd): spend 1000, value 2400, conversions 32: ROAS 2.4, CPA 31.25.
 * Two ad sets AS-1, AS-2 of camp-A, every day: spend 50, impressions 5000, clicks 50, conversions 1, value 500
 *   (ROAS 10: counted with the campaign rows, they would move every figure).
 * camp-O (campaign rows, type no_such_type), i < 30: spend 1000, impressions 100,000, clicks 1000, conversions 20,
 *   value 4000: the rest of the platform for camp-A, ROAS 4, CPA 50.
 * camp-A on meta too (same id, another platform), 5 days of spend 5000: never part of the snapchat campaign.
 *
 * Tenant B (no vertical): camp-B, and a camp-A of its own, 10 days each.
 */
beforeAll(async () => {
  tenantA = await createTenant(owner, 'Detail tenant A');
  tenantB = await createTenant(owner, 'Detail tenant B');
  lastDay = await asOwner(tenantA, async (c) => {
    await c.query('update saas.tenants set vertical = $2 where id = $1', [tenantA, VERTICAL]);
    return (await c.query<{ d: string }>('select ads_engine.tenant_yesterday($1)::text as d', [tenantA])).rows[0]!.d;
  });
  const day = (i: number) => addDays(lastDay, -i);

  const rowsA: Row[] = [];
  for (let i = 0; i < 40; i++) {
    const name = i >= 20 ? 'Old name' : 'Spring sale';
    const c =
      i >= 30
        ? { spend: 1000, impressions: 10000, clicks: 10, conversions: 1, value: 50 }
        : i % 2 === 0
          ? { spend: 100, impressions: 10000, clicks: 100, conversions: 2, value: 300 }
          : { spend: 200, impressions: 30000, clicks: 300, conversions: 8, value: 400 };
    rowsA.push({ id: 'camp-A', day: day(i), name, type: TYPE, ...c });
    for (const as of ['AS-1', 'AS-2']) {
      rowsA.push({ level: 'adset', id: as, campaignId: 'camp-A', day: day(i), name: `Ad set ${as}`, spend: 50, impressions: 5000, clicks: 50, conversions: 1, value: 500 });
    }
    if (i < 30) rowsA.push({ id: 'camp-O', day: day(i), name: 'Other', type: 'no_such_type', spend: 1000, impressions: 100000, clicks: 1000, conversions: 20, value: 4000 });
    if (i < 5) rowsA.push({ platform: 'meta', id: 'camp-A', day: day(i), name: 'Meta twin', spend: 5000, impressions: 1000, clicks: 10, conversions: 1, value: 1 });
  }

  await asOwner(tenantA, async (c) => {
    await insertMetrics(c, tenantA, rowsA);
    await c.query(
      `insert into ads.budget_allocation (tenant_id, platform, campaign_id, campaign_name, daily_budget, allocation_strategy, target_roas, status)
       values ($1, $2, 'camp-A', 'Spring sale', 150, 'target_roas', 3, 'active')`,
      [tenantA, PLATFORM],
    );
    // Older analysed periods: 60 weeks of 2023, so the history is capped at 50 rows.
    await c.query(
      `insert into ads.campaign_performance (tenant_id, platform, campaign_id, period_start, period_end, spend)
       select $1, $2, 'camp-A', date '2023-01-01' + 7 * k, date '2023-01-01' + 7 * k + 6, 10 from generate_series(0, 59) k`,
      [tenantA, PLATFORM],
    );
    const rec = async (key: string, platform: string, level: string, entity: string, campaign: string, type: string, status: string, expires: string, priority: string) => {
      const r = await c.query<{ id: string }>(
        `insert into ads.optimization_recommendations (tenant_id, platform, level, entity_id, entity_name, campaign_id, recommendation_type, description,
                                                       priority, status, expires_at)
         values ($1, $2, $3, $4, $4, $5, $6, $7, $8, $9, now() + $10::interval) returning id`,
        [tenantA, platform, level, entity, campaign, type, `${key} description`, priority, status, expires],
      );
      ids[key] = r.rows[0]!.id;
    };
    await rec('R1', PLATFORM, 'campaign', 'camp-A', 'camp-A', 'budget_decrease', 'pending', '7 days', 'high'); // in
    await rec('R2', PLATFORM, 'adset', 'AS-1', 'camp-A', 'creative', 'pending', '3 days', 'medium'); // in: its ad set
    await rec('R3', PLATFORM, 'campaign', 'camp-A', 'camp-A', 'pause', 'dismissed', '7 days', 'critical'); // out: dismissed
    await rec('R4', PLATFORM, 'campaign', 'camp-A', 'camp-A', 'bid_adjustment', 'pending', '-1 hour', 'critical'); // out: expired
    await rec('R5', PLATFORM, 'campaign', 'camp-O', 'camp-O', 'audience', 'pending', '7 days', 'critical'); // out: another campaign
    await rec('R6', 'meta', 'campaign', 'camp-A', 'camp-A', 'timing', 'pending', '7 days', 'critical'); // out: another platform

    const anomaly = async (key: string, platform: string, level: string, entity: string, i: number, metric: string, status: string, resolvedAgo: string | null) => {
      const r = await c.query<{ id: string }>(
        `insert into ads.anomalies (tenant_id, platform, level, entity_id, entity_name, campaign_id, day, metric_name, anomaly_type,
                                    baseline_value, actual_value, deviation_percent, severity, status, resolved_at)
         values ($1, $2, $3, $4, $4, 'camp-A', $5::date, $6, 'spike', 10, 20, 100, 'high', $7, now() - $8::interval) returning id`,
        [tenantA, platform, level, entity, day(i), metric, status, resolvedAgo],
      );
      ids[key] = r.rows[0]!.id;
    };
    await anomaly('A1', PLATFORM, 'campaign', 'camp-A', 1, 'cpa', 'active', null); // in
    await anomaly('A2', PLATFORM, 'adset', 'AS-2', 2, 'roas', 'investigating', null); // in: its ad set
    await anomaly('A3', PLATFORM, 'campaign', 'camp-A', 10, 'spend', 'resolved', '5 days'); // in: closed 5 days ago
    await anomaly('A4', PLATFORM, 'campaign', 'camp-A', 35, 'ctr', 'dismissed', '40 days'); // out: closed 40 days ago
    await anomaly('A5', PLATFORM, 'campaign', 'camp-O', 1, 'cpa', 'active', null); // out: another campaign
    await anomaly('A6', 'meta', 'campaign', 'camp-A', 1, 'cpa', 'active', null); // out: another platform
  });

  const rowsB: Row[] = [];
  for (let i = 0; i < 10; i++) {
    rowsB.push({ id: 'camp-B', day: day(i), name: 'B campaign', spend: 10, impressions: 1000, clicks: 10, conversions: 1, value: 20 });
    rowsB.push({ id: 'camp-A', day: day(i), name: 'B twin', spend: 999, impressions: 1000, clicks: 10, conversions: 1, value: 1 });
  }
  await asOwner(tenantB, (c) => insertMetrics(c, tenantB, rowsB));

  // Percentiles (p10 / p50 / p90): the campaign's own type, and 'all' (whose CPA has no median: benchmark_value stands in).
  const bench = [
    [TYPE, 'roas', 2, 1, 2, 4],
    [TYPE, 'cpa', 40, 20, 40, 80],
    [TYPE, 'ctr', 0.01, 0.005, 0.01, 0.02],
    [TYPE, 'cpc', 1, 0.5, 1, 2],
    [TYPE, 'cpm', 10, 5, 10, 20],
    [TYPE, 'conversion_rate', 0.02, 0.01, 0.02, 0.04],
    ['all', 'roas', 3, 1.5, 3, 6],
    ['all', 'cpa', 45, 25, null, 90],
    ['all', 'ctr', 0.012, 0.006, 0.012, 0.024],
    ['all', 'cpc', 1.2, 0.6, 1.2, 2.4],
    ['all', 'cpm', 12, 6, 12, 24],
    ['all', 'conversion_rate', 0.03, 0.015, 0.03, 0.06],
  ] as const;
  for (const [type, metric, value, p10, p50, p90] of bench) {
    await owner.query(
      `insert into ads.performance_benchmarks (platform, industry_vertical, campaign_type, metric_name, benchmark_value, percentile_10, percentile_50, percentile_90, source)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       on conflict (platform, industry_vertical, campaign_type, metric_name) do update
         set benchmark_value = excluded.benchmark_value, percentile_10 = excluded.percentile_10, percentile_50 = excluded.percentile_50,
             percentile_90 = excluded.percentile_90, source = excluded.source`,
      [PLATFORM, VERTICAL, type, metric, value, p10, p50, p90, SOURCE],
    );
  }
});

afterAll(async () => {
  await owner.query('delete from ads.performance_benchmarks where platform = $1 and industry_vertical = $2 and source = $3', [PLATFORM, VERTICAL, SOURCE]);
});

const detailOf = (tenant: string, platform: string, campaign: string) => asApp(tenant, (trx) => campaignDetail(trx, tenant, platform, campaign, lastDay));

function cell(d: CampaignDetail, metric: string, days: 7 | 14 | 30) {
  return d.analysis.rows.find((r) => r.metric === metric)!.cells[days]!;
}

describe('campaignDetail', () => {
  let a: CampaignDetail;
  beforeAll(async () => {
    a = (await detailOf(tenantA, PLATFORM, 'camp-A'))!;
  });

  it('names the campaign by its latest name, with its days and budget', () => {
    expect(a).not.toBeNull();
    expect(a.identity).toEqual({
      platform: PLATFORM,
      campaignId: 'camp-A',
      name: 'Spring sale',
      firstDay: addDays(lastDay, -39),
      lastDataDay: lastDay,
      campaignType: TYPE,
      budget: { dailyBudget: 150, recommendedBudget: null, status: 'active', strategy: 'target_roas', targetRoas: 3, targetCpa: null },
    });
  });

  it('the 30-day figures are ratios of the sums of its campaign rows (hand-computed)', () => {
    const b = a.benchmarks;
    expect(b.period).toEqual({ from: addDays(lastDay, -29), to: lastDay, days: 30 });
    expect(b.totals).toEqual({ spend: 4500, impressions: 600000, clicks: 6000, conversions: 150, value: 10500 });
    const v = Object.fromEntries(b.figures.map((f) => [f.metric, f.value]));
    expect(v.roas).toBeCloseTo(10500 / 4500, 10);
    expect(v.roas).not.toBeCloseTo(2.5, 2); // not the mean of daily ratios
    expect(v.cpa).toBe(30);
    expect(v.ctr).toBeCloseTo(0.01, 12);
    expect(v.cpc).toBeCloseTo(0.75, 12);
    expect(v.cpm).toBeCloseTo(7.5, 12);
    expect(v.conversion_rate).toBeCloseTo(0.025, 12);
  });

  it("the engine's analysis for 7, 14 and 30 days, against the rest of its platform", () => {
    expect(a.analysis.periods).toEqual([
      { days: 7, from: addDays(lastDay, -6), to: lastDay },
      { days: 14, from: addDays(lastDay, -13), to: lastDay },
      { days: 30, from: addDays(lastDay, -29), to: lastDay },
    ]);
    expect(a.analysis.rows.map((r) => r.metric)).toEqual(['ROAS', 'CPA', 'CPC', 'CPM', 'CTR', 'Conversion rate', 'Spend', 'Conversions']);
    // 30 days: camp-A 10500/4500 = 2.3333 (rounded to 4 places by the function) against camp-O's 120000/30000 = 4.
    expect(cell(a, 'ROAS', 30)).toMatchObject({ current: 2.3333, baseline: 4 });
    expect(cell(a, 'ROAS', 30).ratio).toBeCloseTo(2.3333 / 4, 10);
    expect(cell(a, 'CPA', 30)).toMatchObject({ current: 30, baseline: 50 });
    // 7 days: 2400/1000 = 2.4 and 1000/32 = 31.25; 14 days: 4900/2100 = 2.3333 and 2100/70 = 30.
    expect(cell(a, 'ROAS', 7)).toMatchObject({ current: 2.4, baseline: 4 });
    expect(cell(a, 'CPA', 7)).toMatchObject({ current: 31.25, baseline: 50 });
    expect(cell(a, 'ROAS', 14)).toMatchObject({ current: 2.3333, baseline: 4 });
    // 150 conversions against 600 expected-rate ones: far beyond noise, worse ROAS, better CPA.
    expect(['Poor', 'Critical']).toContain(cell(a, 'ROAS', 30).rating);
    expect(['Good', 'Excellent']).toContain(cell(a, 'CPA', 30).rating);
  });

  it('picks the benchmark rows of its own campaign type, and falls back to all types when its type has none', async () => {
    expect(a.benchmarks).toMatchObject({ vertical: VERTICAL, campaignType: TYPE, unavailable: null });
    const roas = a.benchmarks.figures.find((f) => f.metric === 'roas')!.benchmark;
    expect(roas).toMatchObject({ p10: 1, p50: 2, p90: 4, source: SOURCE });
    expect(a.benchmarks.figures.find((f) => f.metric === 'conversion_rate')!.benchmark).toMatchObject({ p10: 0.01, p50: 0.02, p90: 0.04 });

    const o = (await detailOf(tenantA, PLATFORM, 'camp-O'))!;
    expect(o.identity.campaignType).toBe('no_such_type');
    expect(o.benchmarks).toMatchObject({ vertical: VERTICAL, campaignType: 'all', unavailable: null });
    expect(o.benchmarks.figures.find((f) => f.metric === 'roas')!.benchmark).toMatchObject({ p10: 1.5, p50: 3, p90: 6 });
    // No median on the row: its benchmark_value (45) is the middle mark.
    expect(o.benchmarks.figures.find((f) => f.metric === 'cpa')!.benchmark).toMatchObject({ p10: 25, p50: 45, p90: 90 });
    // camp-O's own 30 days: 120000 / 30000.
    expect(o.benchmarks.figures.find((f) => f.metric === 'roas')!.value).toBe(4);
  });

  it('lists its open recommendations and its recent anomalies, its ad sets included, each with its link', () => {
    expect(a.recommendations.map((r) => r.id)).toEqual([ids.R1, ids.R2]);
    expect(a.recommendations[0]).toMatchObject({ level: 'campaign', type: 'budget_decrease', priority: 'high', href: `/recommendations?id=${ids.R1}` });
    expect(a.recommendations[1]).toMatchObject({ level: 'adset', entityId: 'AS-1', priority: 'medium' });

    expect(a.anomalies.map((x) => x.id)).toEqual([ids.A1, ids.A2, ids.A3]);
    expect(a.anomalies.map((x) => [x.status, x.open])).toEqual([
      ['active', true],
      ['investigating', true],
      ['resolved', false],
    ]);
    expect(a.anomalies[0]).toMatchObject({ day: addDays(lastDay, -1), metricName: 'cpa', actual: 20, baseline: 10, href: `/anomalies?anomaly=${ids.A1}` });
    expect(a.anomalies[1]).toMatchObject({ level: 'adset', entityId: 'AS-2' });
  });

  it('its efficiency history, newest first, at most 50 rows, with the periods the analysis just recorded', () => {
    expect(a.history).toHaveLength(50);
    expect(a.history.slice(0, 3).map((h) => [h.periodStart, h.periodEnd, h.days])).toEqual([
      [addDays(lastDay, -6), lastDay, 7],
      [addDays(lastDay, -13), lastDay, 14],
      [addDays(lastDay, -29), lastDay, 30],
    ]);
    expect(a.history[2]).toMatchObject({ spend: 4500, conversions: 150, value: 10500, roas: 2.3333, cpa: 30 });
    // camp-O is there to compare with, so the period has a score.
    expect(a.history[2]!.efficiencyScore).not.toBeNull();
    // Then the 2023 weeks, the latest first: week 59 ends 2023-01-01 + 419 days.
    expect(a.history[3]).toMatchObject({ periodStart: addDays('2023-01-01', 413), periodEnd: addDays('2023-01-01', 419), spend: 10 });
    expect(a.history[49]!.periodEnd).toBe(addDays('2023-01-01', 7 * 13 + 6));
  });

  it("the other tenant's campaign reads as null, though the owner sees it exists", async () => {
    expect(await detailOf(tenantA, PLATFORM, 'camp-B')).toBeNull();
    const seen = await asOwner(tenantB, (c) =>
      c.query<{ n: number }>("select count(*)::int as n from ads.metrics_daily where tenant_id = $1 and platform_id = 'camp-B'", [tenantB]),
    );
    expect(seen.rows[0]!.n).toBe(10);
    // Its own tenant reads it, with no vertical: said, and no benchmark figures made up.
    const b = (await detailOf(tenantB, PLATFORM, 'camp-B'))!;
    expect(b.identity.name).toBe('B campaign');
    expect(b.benchmarks.vertical).toBeNull();
    expect(b.benchmarks.unavailable).toMatch(/no industry vertical/);
    expect(b.benchmarks.figures.every((f) => f.benchmark === null)).toBe(true);
    expect(b.recommendations).toEqual([]);
    expect(b.anomalies).toEqual([]);
    // The same campaign id in tenant B is B's alone: 10 days of 999.
    const twin = (await detailOf(tenantB, PLATFORM, 'camp-A'))!;
    expect(twin.benchmarks.totals.spend).toBe(9990);
    expect(twin.identity.budget).toBeNull();
  });

  it('a campaign without rows is null, and bad inputs are null before any query', async () => {
    expect(await detailOf(tenantA, PLATFORM, 'no-such-campaign')).toBeNull();
    // camp-A exists on snapchat and meta, not on google.
    expect(await detailOf(tenantA, 'google', 'camp-A')).toBeNull();
    const untouchable = new Proxy({}, {
      get() {
        throw new Error('queried');
      },
    }) as Tx;
    expect(await campaignDetail(untouchable, tenantA, 'facebook', 'camp-A', lastDay)).toBeNull();
    expect(await campaignDetail(untouchable, tenantA, PLATFORM, '', lastDay)).toBeNull();
    expect(await campaignDetail(untouchable, tenantA, PLATFORM, 'x'.repeat(201), lastDay)).toBeNull();
    // A valid one does reach the database (so the nulls above came from the checks).
    await expect(campaignDetail(untouchable, tenantA, PLATFORM, 'x'.repeat(200), lastDay)).rejects.toThrow('queried');
  });

  it('the reads go through the tenant transaction: the setting is the tenant', async () => {
    const t = await asApp(tenantA, async (trx) => (await sql<{ t: string }>`select current_setting('saas.tenant_id') as t`.execute(trx)).rows[0]!.t);
    expect(t).toBe(tenantA);
  });
});
