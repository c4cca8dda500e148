// Industry benchmarks: the placement of a figure among percentiles (log-linear
// between known percentiles, worked by hand below), the volume a figure needs
// before it is placed, and the page's read on the real database as the app
// role: the tenant's own 30-day sums equal an independent query, another
// tenant's delivery never counts, and a tenant without a vertical gets no
// benchmark rows.
import { describe, expect, it } from 'vitest';
import { figureOf, percentileOf, place, placementText, type Totals } from '../../lib/benchmarks/place';
import { benchmarksPage } from '../../lib/benchmarks/queries';
import { appKysely, rolledBackAsApp } from '../helpers/app-db';
import { createTenant, ownerPool } from '../helpers/db';
import { loadMetricLines } from '../helpers/metrics';

const P = { p10: 1, p25: 2, p50: 4, p75: 8, p90: 16 };
const volume: Totals = { spend: 10_000, impressions: 1_000_000, clicks: 20_000, conversions: 400, value: 30_000 };

describe('percentileOf', () => {
  it('interpolates in the log between known percentiles', () => {
    expect(percentileOf(P, 4)).toEqual({ percentile: 50, band: 'within' });
    // ln(2√2) is halfway between ln 2 and ln 4: halfway between the 25th and the 50th
    expect(percentileOf(P, 2 * Math.SQRT2)!.percentile).toBeCloseTo(37.5, 10);
    // 12 between 8 and 16: 75 + 15 * ln(1.5)/ln(2) = 75 + 15 * 0.5849625 = 83.774
    expect(percentileOf(P, 12)!.percentile).toBeCloseTo(83.774, 3);
    expect(percentileOf(P, 16)).toEqual({ percentile: 90, band: 'within' });
  });

  it('does not extrapolate beyond p10 and p90', () => {
    expect(percentileOf(P, 0.5)).toEqual({ percentile: 10, band: 'below_p10' });
    expect(percentileOf(P, 40)).toEqual({ percentile: 90, band: 'above_p90' });
  });

  it('leaves out missing, non-positive and out-of-order percentiles', () => {
    expect(percentileOf({ p10: null, p25: null, p50: 4, p75: null, p90: 16 }, 8)!.percentile).toBeCloseTo(70, 10); // ln 8 halfway between ln 4 and ln 16
    // p10 = 0 and the median 4 (below p25 = 5) are left out: 6 lies between p25 = 5 and p75 = 8
    expect(percentileOf({ p10: 0, p25: 5, p50: 4, p75: 8, p90: 16 }, 6)!.percentile).toBeCloseTo(25 + 50 * (Math.log(6 / 5) / Math.log(8 / 5)), 10);
    // only a median: below it is not "below p10"
    expect(percentileOf({ p10: null, p25: null, p50: 4, p75: null, p90: null }, 3)).toEqual({ percentile: 50, band: 'within' });
    expect(percentileOf({ p10: null, p25: null, p50: null, p75: null, p90: null }, 3)).toBeNull();
    expect(percentileOf(P, 0)).toBeNull();
    expect(percentileOf(P, Number.NaN)).toBeNull();
  });
});

describe('place', () => {
  it('turns the percentile into "better than" in the metric\'s good direction', () => {
    // ROAS 75 000 / 10 000 = 7.5 on P: 50 + 25 ln(7.5/4)/ln 2 = 50 + 25 * 0.906891 = 72.67; higher is better
    const roas = place('roas', P, { ...volume, value: 75_000 });
    expect(roas.kind).toBe('placed');
    if (roas.kind === 'placed') expect(roas.betterThan).toBeCloseTo(72.672, 2);
    // CPA 10 000 / 400 = 25 on a CPA benchmark 10/20/40/80/160: 25 + 25 ln(25/20)/ln 2 = 25 + 25 * 0.321928 = 33.048th
    // percentile; lower is better, so better than 66.95 %
    const cpa = place('cpa', { p10: 10, p25: 20, p50: 40, p75: 80, p90: 160 }, { ...volume, spend: 10_000, conversions: 400 });
    expect(cpa).toEqual({ kind: 'placed', percentile: expect.closeTo(33.048, 3), betterThan: expect.closeTo(66.952, 3), band: 'within' });
    expect(placementText('cpa', cpa)).toBe('Better than about 67 % of the benchmark (33rd percentile, lower is better).');
  });

  it('names the best and weakest tenth by direction', () => {
    const lowCpa = place('cpa', P, { ...volume, spend: 100, conversions: 400 });
    expect(placementText('cpa', lowCpa)).toBe('In the best 10 % of the benchmark (below the 10th percentile).');
    const lowRoas = place('roas', P, { ...volume, value: 100 });
    expect(placementText('roas', lowRoas)).toBe('In the weakest 10 % of the benchmark (below the 10th percentile).');
  });

  it('does not place a figure on too little volume, and says how much is missing', () => {
    const thin = place('cpa', P, { ...volume, conversions: 12 });
    expect(thin).toEqual({ kind: 'too_little_data', have: 12, need: 20, unit: 'conversions' });
    expect(placementText('cpa', thin)).toBe('Too little data to place: 12 conversions, 20 needed.');
    expect(place('cpa', P, { ...volume, conversions: 0 })).toEqual({ kind: 'no_figure' });
    expect(place('ctr', null, volume)).toEqual({ kind: 'no_benchmark' });
    expect(figureOf('cpm', { ...volume, spend: 25, impressions: 10_000 })).toBe(2.5);
    expect(figureOf('ctr', { ...volume, impressions: 0 })).toBeNull();
  });
});

describe('the page read', () => {
  const owner = ownerPool();
  const app = appKysely(2);

  it("places the tenant's own 30-day campaign totals on its vertical's benchmark, and nothing of another tenant", async () => {
    const tenant = await createTenant(owner, 'Bench own');
    const other = await createTenant(owner, 'Bench other');
    await owner.query("update saas.tenants set vertical = 'apps' where id = any($1)", [[tenant, other]]);
    await owner.query(
      `insert into ads.performance_benchmarks (platform, industry_vertical, campaign_type, metric_name, benchmark_value,
                                               percentile_10, percentile_25, percentile_50, percentile_75, percentile_90, sample_size, source)
       values ('amazon', 'apps', 'all', 'cpa', 40, 10, 20, 40, 80, 160, 900, 'Test panel')
       on conflict (platform, industry_vertical, campaign_type, metric_name) do update
         set benchmark_value = 40, percentile_10 = 10, percentile_25 = 20, percentile_50 = 40, percentile_75 = 80, percentile_90 = 160,
             sample_size = 900, source = 'Test panel'`,
    );
    // 35 days of one campaign: only the last 30 count; an ad set row and another tenant's delivery never do
    await loadMetricLines(owner, tenant, [
      { platform: 'amazon', id: 'A1', name: 'Sponsored', fromAgo: 34, toAgo: 0, spend: 97.13, impressions: 41_000, clicks: 310, conversions: 3.5, value: 410 },
      { platform: 'amazon', id: 'S1', name: 'Set', level: 'adset', campaignId: 'A1', fromAgo: 29, toAgo: 0, spend: 50, impressions: 1, clicks: 1, conversions: 1, value: 1 },
    ]);
    await loadMetricLines(owner, other, [
      { platform: 'amazon', id: 'A1', name: 'Sponsored', fromAgo: 29, toAgo: 0, spend: 5000, impressions: 1, clicks: 1, conversions: 1, value: 1 },
    ]);
    const independent = (
      await owner.query(
        `select sum(spend)::float8 as spend, sum(conversions)::float8 as conversions, to_char(ads_engine.tenant_yesterday($1), 'YYYY-MM-DD') as last
         from ads.metrics_daily where tenant_id = $1 and level = 'campaign' and day > ads_engine.tenant_yesterday($1) - 30`,
        [tenant],
      )
    ).rows[0];
    const page = await rolledBackAsApp(app.db, tenant, (trx) => benchmarksPage(trx, tenant, 'apps', independent.last));
    expect(page.platforms.map((p) => p.platform)).toEqual(['amazon']);
    const amazon = page.platforms[0]!;
    expect(amazon.totals.spend).toBeCloseTo(independent.spend, 6);
    expect(amazon.totals.spend).toBeCloseTo(30 * 97.13, 6);
    expect(amazon.totals.conversions).toBeCloseTo(105, 6);
    const cpa = amazon.lines.find((l) => l.metric === 'cpa')!;
    // CPA 2913.9 / 105 = 27.751; percentile 25 + 25 * ln(27.751/20)/ln 2 = 25 + 25 * 0.47256 = 36.81
    expect(cpa.own).toBeCloseTo(2913.9 / 105, 6);
    expect(cpa.placement).toMatchObject({ kind: 'placed', percentile: expect.closeTo(25 + 25 * Math.log2(2913.9 / 105 / 20), 6) });
    expect(cpa.sampleSize).toBe(900);
    expect(amazon.lines.find((l) => l.metric === 'ctr')!.placement).toEqual({ kind: 'no_benchmark' });

    const noVertical = await rolledBackAsApp(app.db, tenant, (trx) => benchmarksPage(trx, tenant, null, independent.last));
    expect(noVertical.platforms[0]!.lines.every((l) => l.placement.kind === 'no_benchmark')).toBe(true);
  });
});
