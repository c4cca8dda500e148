// The performance page's reads on the real database, as the app role in the
// tenant's transaction, against totals worked out by hand from the rows the
// test inserts (every figure's arithmetic is in a comment). Another tenant
// holds rows with the same ids and far larger figures: any leak would change
// every total below, and the owner's view proves those rows exist.
import { describe, expect, it } from 'vitest';
import { withTenant } from '../../lib/db/pool';
import { parseView } from '../../lib/performance/filters';
import { entityRows, performancePage, tenantStyle } from '../../lib/performance/queries';
import { appKysely } from '../helpers/app-db';
import { createTenant, ownerPool, setTenant } from '../helpers/db';
import { loadMetricLines, type MetricLine } from '../helpers/metrics';

const app = appKysely();
const owner = ownerPool();

type Daily = MetricLine;

async function lastDayOf(tenant: string): Promise<string> {
  const c = await owner.connect();
  try {
    await c.query('begin');
    await setTenant(c, tenant);
    const r = await c.query("select to_char(ads_engine.tenant_yesterday($1), 'YYYY-MM-DD') as d", [tenant]);
    await c.query('commit');
    return r.rows[0].d;
  } finally {
    c.release();
  }
}

const load = (tenant: string, rows: Daily[]) => loadMetricLines(owner, tenant, rows);

// Range: the last 7 days (ago 0..6). Baseline: the 28 days before (ago 7..34).
const BOOK: Daily[] = [
  // baseline days
  { platform: 'meta', id: 'C1', name: 'Meta one', fromAgo: 34, toAgo: 7, spend: 100, impressions: 10000, clicks: 200, conversions: 10, value: 400 },
  { platform: 'meta', id: 'C2', name: 'Meta two', fromAgo: 34, toAgo: 7, spend: 50, impressions: 4000, clicks: 100, conversions: 5, value: 150 },
  { platform: 'google', id: 'G1', name: 'Google one', fromAgo: 34, toAgo: 7, spend: 200, impressions: 8000, clicks: 400, conversions: 20, value: 1000 },
  // the range
  { platform: 'meta', id: 'C1', name: 'Meta one', fromAgo: 6, toAgo: 0, spend: 100, impressions: 10000, clicks: 150, conversions: 5, value: 250 },
  { platform: 'meta', id: 'C2', name: 'Meta two', fromAgo: 6, toAgo: 0, spend: 80, impressions: 5000, clicks: 120, conversions: 8, value: 320 },
  { platform: 'google', id: 'G1', name: 'Google one', fromAgo: 6, toAgo: 0, spend: 200, impressions: 8000, clicks: 400, conversions: 20, value: 1000 },
];

async function pageFor(tenant: string, params: Record<string, string>) {
  return withTenant(
    tenant,
    async (trx) => {
      const { lastDay, ...style } = await tenantStyle(trx, tenant);
      return performancePage(trx, tenant, parseView(params, lastDay), style, lastDay);
    },
    {},
    app.db,
  );
}

describe('performance page reads', () => {
  it('totals are ratios of sums over the range, against the baseline brought to 7 days; no other tenant leaks in', async () => {
    const tenant = await createTenant(owner, 'Perf book');
    const other = await createTenant(owner, 'Perf book, other tenant');
    await load(tenant, BOOK);
    // The other tenant: the same ids with 1000x the spend.
    await load(other, BOOK.map((r) => ({ ...r, spend: r.spend * 1000, value: r.value * 1000 })));
    const seen = await owner.query('select count(*)::int as n from ads.metrics_daily where tenant_id = $1', [other]);
    expect(seen.rows[0].n).toBe(3 * 35);

    const p = await pageFor(tenant, {});
    expect(p.view.period.days).toBe(7);
    expect(p.comparisonPeriod.days).toBe(28);
    const kpi = Object.fromEntries(p.kpis.map((k) => [k.metric, k]));
    // Range: spend 7*(100+80+200) = 2660; impressions 7*(10000+5000+8000) = 161000; clicks 7*(150+120+400) = 4690;
    // conversions 7*(5+8+20) = 231; value 7*(250+320+1000) = 10990.
    expect(kpi.spend!.current).toBeCloseTo(2660, 6);
    expect(kpi.conversions!.current).toBeCloseTo(231, 6);
    expect(kpi.value!.current).toBeCloseTo(10990, 6);
    expect(kpi.roas!.current).toBeCloseTo(10990 / 2660, 9); // 4.1316
    expect(kpi.cpa!.current).toBeCloseTo(2660 / 231, 9); // 11.515
    expect(kpi.ctr!.current).toBeCloseTo(4690 / 161000, 12);
    expect(kpi.cpc!.current).toBeCloseTo(2660 / 4690, 9);
    expect(kpi.cpm!.current).toBeCloseTo(2660000 / 161000, 9);
    // Baseline: 28 days of spend 350, value 1550 a day = 9800 and 43400; brought to 7 days: 2450 and 10850.
    expect(kpi.spend!.comparison).toBeCloseTo(2450, 6);
    expect(kpi.value!.comparison).toBeCloseTo(10850, 6);
    expect(kpi.roas!.comparison).toBeCloseTo(43400 / 9800, 9); // 4.4286
    expect(kpi.spend!.changePct).toBeCloseTo((2660 / 2450 - 1) * 100, 6); // +8.57 %
    expect(kpi.roas!.changePct).toBeCloseTo((10990 / 2660 / (43400 / 9800) - 1) * 100, 6); // -6.71 %
    // Conversions per platform: meta 7*(5+8) = 91, google 140; the card's total is their labelled sum.
    expect(kpi.conversions!.perPlatform.map((x) => [x.platform, x.current])).toEqual([
      ['google', 140],
      ['meta', 91],
    ]);
    expect(kpi.roas!.thinNote).toBeNull();
    expect(kpi.roas!.spark).toHaveLength(7);
    expect(kpi.roas!.spark[6]).toBeCloseTo(1570 / 380, 9);

    // One row per campaign, comparison volumes brought to the range: C1 baseline 28*100 spend -> 700.
    const c1 = p.rows.find((r) => r.entityId === 'C1')!;
    expect(p.rows.map((r) => r.entityId).sort()).toEqual(['C1', 'C2', 'G1']);
    expect(c1.current).toEqual({ spend: 700, impressions: 70000, clicks: 1050, conversions: 35, value: 1750 });
    expect(c1.comparison).toEqual({ spend: 700, impressions: 70000, clicks: 1400, conversions: 70, value: 2800 });
    expect(c1.href).toBe('/performance/meta/C1');
  });

  it('what moved: the factors multiply back to the ROAS change and the contributions sum to it', async () => {
    const tenant = await createTenant(owner, 'Perf moved');
    await load(tenant, BOOK);
    const { whatMoved: w } = await pageFor(tenant, {});
    expect(w.target).toBe('roas');
    const ratio = 10990 / 2660 / (43400 / 9800); // 0.93294
    const f = Object.fromEntries(w.factors.map((x) => [x.factor, x]));
    // CPM 16.5217 (2660000/161000) against 15.9091 (9800000/616000): an effect of 15.9091/16.5217 = 0.96292 on ROAS.
    expect(f.cpm!.current).toBeCloseTo(2660000 / 161000, 9);
    expect(f.cpm!.comparison).toBeCloseTo(9800000 / 616000, 9);
    expect(f.cpm!.effect).toBeCloseTo(9800000 / 616000 / (2660000 / 161000), 9);
    // CTR 4690/161000 = 0.029130 against 19600/616000 = 0.031818; CVR 231/4690 against 980/19600 = 0.05; AOV 10990/231 = 47.576 against 44.286.
    expect(f.ctr!.effect).toBeCloseTo(4690 / 161000 / (19600 / 616000), 9);
    expect(f.cvr!.effect).toBeCloseTo(231 / 4690 / 0.05, 9);
    expect(f.aov!.effect).toBeCloseTo(10990 / 231 / (43400 / 980), 9);
    const product = w.factors.reduce((a, x) => a * x.effect!, 1);
    expect(product).toBeCloseTo(ratio, 12);
    expect(w.factors.reduce((a, x) => a + x.sharePct!, 0)).toBeCloseTo(100, 9);
    // CTR fell most: ln(0.91553)/ln(0.93294) = 127 % of the (negative) change.
    expect(f.ctr!.sharePct).toBeCloseTo((Math.log(4690 / 161000 / (19600 / 616000)) / Math.log(ratio)) * 100, 6);

    // Contributions with R0 = 43400/9800 = 4.428571:
    //   C1: (1750 - R0*700)/2660 - (11200 - R0*2800)/9800 = -0.507519 + 0.122449 = -0.385070
    //   C2: (2240 - R0*560)/2660 - (4200 - R0*1400)/9800 = -0.090226 + 0.204082 = +0.113856
    //   G1: (7000 - R0*1400)/2660 - (28000 - R0*5600)/9800 = 0.300752 - 0.326531 = -0.025779
    const r0 = 43400 / 9800;
    expect(w.up.map((c) => c.entityId)).toEqual(['C2']);
    expect(w.up[0]!.contribution).toBeCloseTo((2240 - r0 * 560) / 2660 - (4200 - r0 * 1400) / 9800, 9);
    expect(w.down.map((c) => c.entityId)).toEqual(['C1', 'G1']);
    expect(w.down[0]!.contribution).toBeCloseTo(-0.38507, 5);
    const sum = [...w.up, ...w.down].reduce((a, c) => a + c.contribution, 0);
    expect(sum).toBeCloseTo(10990 / 2660 - r0, 12);
    expect([...w.up, ...w.down].reduce((a, c) => a + c.sharePct!, 0)).toBeCloseTo(100, 9);
  });

  it('the previous period, a platform filter and ratios of sums on days of unequal spend', async () => {
    const tenant = await createTenant(owner, 'Perf previous');
    await load(tenant, [
      // Previous 2 days (ago 2..3): ROAS 2 each day.
      { platform: 'meta', id: 'M', name: 'M', fromAgo: 3, toAgo: 2, spend: 50, impressions: 1000, clicks: 10, conversions: 1, value: 100 },
      // The range, 2 days: ago 1 spends 100 for 100 (ROAS 1), ago 0 spends 300 for 900 (ROAS 3).
      { platform: 'meta', id: 'M', name: 'M', fromAgo: 1, toAgo: 1, spend: 100, impressions: 1000, clicks: 10, conversions: 1, value: 100 },
      { platform: 'meta', id: 'M', name: 'M', fromAgo: 0, toAgo: 0, spend: 300, impressions: 3000, clicks: 30, conversions: 3, value: 900 },
      { platform: 'google', id: 'G', name: 'G', fromAgo: 3, toAgo: 0, spend: 10, impressions: 100, clicks: 1, conversions: 0, value: 0 },
    ]);
    const last = await lastDayOf(tenant);
    const from = new Date(Date.parse(`${last}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
    const p = await pageFor(tenant, { range: 'custom', from, to: last, compare: 'previous', platform: 'meta' });
    expect(p.view.period.days).toBe(2);
    expect(p.comparisonPeriod.days).toBe(2);
    const roas = p.kpis.find((k) => k.metric === 'roas')!;
    // 1000 / 400 = 2.5, not the average of the daily ROAS (1 + 3) / 2 = 2.
    expect(roas.current).toBeCloseTo(2.5, 12);
    expect(roas.comparison).toBeCloseTo(2, 12);
    expect(roas.changePct).toBeCloseTo(25, 9);
    // 2 conversions in the previous period: a thin comparison says so.
    expect(roas.thinNote).toMatch(/Under 10 conversions/);
    expect(p.rows.map((r) => r.entityId)).toEqual(['M']);
    expect(p.availablePlatforms).toEqual(['google', 'meta']);
  });

  it('the expected range of a day is the 28 days before it: ratio of sums ± 1.96 sd of the daily values', async () => {
    const tenant = await createTenant(owner, 'Perf band');
    // 28 days before yesterday: spend alternates 90 and 110 (ago 1..28); yesterday 150.
    const rows: Daily[] = [];
    for (let ago = 1; ago <= 28; ago++) {
      const spend = ago % 2 === 0 ? 90 : 110;
      rows.push({ platform: 'meta', id: 'B', name: 'B', fromAgo: ago, toAgo: ago, spend, impressions: 1000, clicks: 20, conversions: 2, value: spend * 2 });
    }
    rows.push({ platform: 'meta', id: 'B', name: 'B', fromAgo: 0, toAgo: 0, spend: 150, impressions: 1000, clicks: 20, conversions: 2, value: 300 });
    await load(tenant, rows);
    const p = await pageFor(tenant, { range: 'yesterday', metric: 'spend' });
    const point = p.chart.series[0]!;
    // mean 100; sample sd over 14 x 90 and 14 x 110: sqrt(28 * 100 / 27) = 10.1835; band 100 ± 19.960.
    const sd = Math.sqrt((28 * 100) / 27);
    expect(point.value).toBe(150);
    expect(point.expected).toBeCloseTo(100, 9);
    expect(point.low).toBeCloseTo(100 - 1.96 * sd, 9);
    expect(point.high).toBeCloseTo(100 + 1.96 * sd, 9);
    // ROAS was exactly 2 every day: a band of width 0 at 2.
    const r = await pageFor(tenant, { range: 'yesterday', metric: 'roas' });
    expect(r.chart.series[0]!.expected).toBeCloseTo(2, 12);
    expect(r.chart.series[0]!.high! - r.chart.series[0]!.low!).toBeCloseTo(0, 12);
  });

  it('the table rating is the one ads.analyze_campaign_performance gives for the same 7 days', async () => {
    const tenant = await createTenant(owner, 'Perf rating');
    await load(tenant, [
      ...BOOK,
      { platform: 'meta', id: 'C3', name: 'Meta three', fromAgo: 6, toAgo: 0, spend: 120, impressions: 9000, clicks: 180, conversions: 1, value: 30 },
    ]);
    const got = await withTenant(
      tenant,
      async (trx) => {
        const { lastDay } = await tenantStyle(trx, tenant);
        const view = parseView({}, lastDay);
        return entityRows(trx, tenant, { platforms: [], level: 'campaign' }, view.period, view.comparison);
      },
      {},
      app.db,
    );
    const c = await owner.connect();
    try {
      await c.query('begin');
      await setTenant(c, tenant);
      for (const id of ['C1', 'C2', 'C3', 'G1']) {
        const row = got.find((r) => r.entityId === id)!;
        const platform = id.startsWith('G') ? 'google' : 'meta';
        const a = await c.query("select performance_rating from ads.analyze_campaign_performance($1, $2, $3, 7) where metric_name = 'ROAS'", [
          tenant,
          id,
          platform,
        ]);
        expect([id, row.rating]).toEqual([id, a.rows[0].performance_rating]);
      }
      await c.query('rollback');
    } finally {
      c.release();
    }
    // C3 converts far below the rest of meta; G1 is alone on google.
    expect(got.find((r) => r.entityId === 'C3')!.rating).toMatch(/Poor|Critical/);
    expect(got.find((r) => r.entityId === 'G1')!.rating).toBe('Insufficient data');
  });

  it('industry medians show for one platform of a tenant with a vertical, and a tenant without data is empty', async () => {
    const tenant = await createTenant(owner, 'Perf industry');
    await owner.query("update saas.tenants set vertical = 'b2b' where id = $1", [tenant]);
    await owner.query(
      `insert into ads.performance_benchmarks (platform, industry_vertical, campaign_type, metric_name, benchmark_value, percentile_10, percentile_50, percentile_90)
       values ('pinterest', 'b2b', 'all', 'roas', 3.1, 1.2, 3.1, 6.4)
       on conflict (platform, industry_vertical, campaign_type, metric_name) do nothing`,
    );
    const bench = await owner.query("select percentile_50::float8 as p50 from ads.performance_benchmarks where platform = 'pinterest' and industry_vertical = 'b2b' and campaign_type = 'all' and metric_name = 'roas'");
    await load(tenant, [
      { platform: 'pinterest', id: 'P', name: 'P', fromAgo: 34, toAgo: 0, spend: 10, impressions: 1000, clicks: 10, conversions: 1, value: 30 },
      { platform: 'meta', id: 'M', name: 'M', fromAgo: 34, toAgo: 0, spend: 10, impressions: 1000, clicks: 10, conversions: 1, value: 30 },
    ]);
    const one = await pageFor(tenant, { platform: 'pinterest' });
    expect(one.kpis.find((k) => k.metric === 'roas')!.industry).toMatchObject({ platform: 'pinterest', vertical: 'b2b', p50: bench.rows[0].p50 });
    expect(one.kpis.find((k) => k.metric === 'spend')!.industry).toBeNull();
    const both = await pageFor(tenant, {});
    expect(both.kpis.find((k) => k.metric === 'roas')!.industry).toBeNull();

    const empty = await createTenant(owner, 'Perf empty');
    const e = await pageFor(empty, { range: 'nonsense', platform: 'myspace', level: 'ad' });
    expect(e.empty).toBe(true);
    expect(e.view).toMatchObject({ range: '7d', platforms: [], level: 'campaign' });
    expect(e.rows).toEqual([]);
    expect(e.whatMoved.unavailable).toMatch(/No spend/);
  });

  it('days whose conversions are still coming in, by the lag the engine learnt, are provisional for conversion metrics only', async () => {
    const tenant = await createTenant(owner, 'Perf lag');
    const c = await owner.connect();
    try {
      await c.query('begin');
      await setTenant(c, tenant);
      // Days 14..103 before yesterday, each first loaded the next day carrying half its final 10 conversions:
      // the learnt completeness at age 1 is 5/10 = 0.5 (90 days, 900 final conversions); no other age is known.
      await c.query(
        `insert into ads.metrics_daily (tenant_id, platform, level, platform_id, day, spend, impressions, clicks, conversions, conversion_value,
                                        first_conversions, first_loaded_at)
         select $1, 'meta', 'campaign', 'L', d, 100, 10000, 200, 10, 300, 5, (d + 1)::timestamp at time zone 'UTC'
         from (select ads_engine.tenant_yesterday($1) - g as d from generate_series(0, 103) g) x`,
        [tenant],
      );
      await c.query('commit');
    } finally {
      c.release();
    }
    const last = await lastDayOf(tenant);
    const conv = await pageFor(tenant, { metric: 'conversions' });
    // Yesterday's data is 1 day old (completeness 0.5 < 0.95): provisional. The day before is 2 days old: no lag known, so final.
    expect(conv.chart.series.filter((p) => p.provisional).map((p) => p.day)).toEqual([last]);
    expect(conv.chart.provisionalFrom).toBe(last);
    const spend = await pageFor(tenant, { metric: 'spend' });
    expect(spend.chart.series.some((p) => p.provisional)).toBe(false);

    // The daily loop keeps what it learnt; the page then reads the stored lag instead of learning it again.
    const o = await owner.connect();
    try {
      await o.query('begin');
      await setTenant(o, tenant);
      await o.query("select ads_engine.run_daily_loop($1, null, 'cli')", [tenant]);
      const lag = await o.query(
        'select platform, age_days, completeness::float8 as c from ads_engine.conversion_lag where tenant_id = $1 and completeness < 1',
        [tenant],
      );
      expect(lag.rows).toEqual([{ platform: 'meta', age_days: 1, c: 0.5 }]);
      // The other 13 ages are written as complete, so a page knows the loop has looked.
      const all = await o.query('select count(*)::int as n from ads_engine.conversion_lag where tenant_id = $1', [tenant]);
      expect(all.rows[0].n).toBe(14);
      // Proof that the stored row is what the page reads: marked complete, yesterday is no longer provisional.
      await o.query('update ads_engine.conversion_lag set completeness = 1 where tenant_id = $1', [tenant]);
      await o.query('commit');
    } finally {
      o.release();
    }
    const after = await pageFor(tenant, { metric: 'conversions' });
    expect(after.chart.series.some((p) => p.provisional)).toBe(false);
  });
});
