// ads.analyze_campaign_performance: ratings with direction, significance and
// "Insufficient data", the stored period with its efficiency score; the
// expected numbers are worked out by hand in the comments. A campaign is
// compared with the rest of its platform (leave-one-out), never with itself.
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { errorOf, rollback, setTenant, tenantPair } from '../helpers/db';
import { AS_OF, addDays, insertMetrics, type MetricRow } from './fixtures';

let app: pg.Pool;
let tenant: string;
let other: string;
beforeAll(async () => void ({ app, tenant, other } = await tenantPair('Analyze')));

interface Row {
  metric_name: string;
  current_value: number | null;
  baseline_value: number | null;
  performance_rating: string;
  recommendation: string | null;
  priority: string;
}

async function analyze(c: pg.ClientBase, campaign: string, days = 7, asOf = AS_OF): Promise<Record<string, Row>> {
  const r = await c.query(`select * from ads_engine.analyze_campaign_performance($1, $2, 'meta', $3, $4::date)`, [tenant, campaign, days, asOf]);
  const out: Record<string, Row> = {};
  for (const row of r.rows) {
    out[row.metric_name] = {
      ...row,
      current_value: row.current_value === null ? null : Number(row.current_value),
      baseline_value: row.baseline_value === null ? null : Number(row.baseline_value),
    };
  }
  return out;
}

/**
 * Seven days ending on D. O (the rest of the platform): 1000 spend, 200000
 * impressions, 2000 clicks, 100 conversions, 3000 value a day. T: 100, 20000,
 * 200, 5, 100 a day. T's reference is the rest of the platform, O alone over
 * 7 days: spend 7000, impressions 1,400,000, clicks 14,000, conversions 700,
 * value 21,000: ROAS 3, CPA 10, CPC 0.5, CPM 5, CTR 0.01, conversion rate 0.05.
 * (The platform baseline with T in it would be ROAS 21700 / 7700 = 2.818182,
 * CPA 7700 / 735 = 10.476190: T would be partly compared with itself.)
 */
const fixture = (d: string, extra: (day: string) => { id: string; spend: number; impressions: number; clicks: number; conversions: number; value: number }[] = () => []) =>
  ([] as MetricRow[]).concat(
    ...Array.from({ length: 7 }, (_, n) => {
      const day = addDays(d, -n);
      return [
        { id: 'O', day, spend: 1000, impressions: 200000, clicks: 2000, conversions: 100, value: 3000 },
        { id: 'T', day, spend: 100, impressions: 20000, clicks: 200, conversions: 5, value: 100 },
        ...extra(day).map((e) => ({ ...e, day })),
      ];
    }),
  );

describe('ads.analyze_campaign_performance', () => {
  it('rates a weak campaign against the platform baseline, knowing direction (hand-computed)', async () => {
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      await insertMetrics(c, tenant, fixture(AS_OF));
      const r = await analyze(c, 'T');
      expect(Object.keys(r)).toEqual(['ROAS', 'CPA', 'CPC', 'CPM', 'CTR', 'Conversion rate', 'Spend', 'Conversions']);
      // ROAS 700 / 700 = 1 against 21000 / 7000 = 3: ratio 0.3333, Critical.
      // Significance: value in the reference's order-value units (21000 / 700 = 30): n = 23.333,
      // expected 700 * 700 / 7000 = 70; z = 2 (sqrt(23.708) - sqrt(70.375)) / sqrt(1 + 70 / 700) = -6.71.
      expect(r.ROAS).toMatchObject({ current_value: 1, baseline_value: 3, performance_rating: 'Critical', priority: 'critical' });
      // CPA 700 / 35 = 20 against 10: higher CPA is bad. Ratio (35/700) / (700/7000) = 0.5,
      // z = 2 (sqrt(35.375) - sqrt(70.375)) / sqrt(1.1) = -4.66.
      expect(r.CPA).toMatchObject({ current_value: 20, baseline_value: 10, performance_rating: 'Critical', priority: 'critical' });
      expect(r.CPA!.recommendation).toMatch(/CPA far above baseline/);
      // CPC, CPM, CTR equal the baseline's: Average, no recommendation.
      expect(r.CPC).toMatchObject({ current_value: 0.5, baseline_value: 0.5, performance_rating: 'Average', recommendation: null, priority: 'low' });
      expect(r.CPM).toMatchObject({ current_value: 5, baseline_value: 5, performance_rating: 'Average' });
      expect(r.CTR).toMatchObject({ current_value: 0.01, baseline_value: 0.01, performance_rating: 'Average' });
      // Conversion rate 35 / 1400 = 0.025 against 700 / 14000 = 0.05: ratio 0.5, Critical, high.
      expect(r['Conversion rate']).toMatchObject({ current_value: 0.025, baseline_value: 0.05, performance_rating: 'Critical', priority: 'high' });
      // Volumes per day with delivery, against the other campaigns' average entity-day (7000 / 7 = 1000; 700 / 7 = 100), rated neutrally.
      expect(r.Spend).toMatchObject({ current_value: 100, baseline_value: 1000, performance_rating: 'Below average', recommendation: null, priority: 'low' });
      expect(r.Conversions).toMatchObject({ current_value: 5, baseline_value: 100, performance_rating: 'Below average' });
    });
  });

  it('writes the period into ads.campaign_performance with its efficiency score (hand-computed)', async () => {
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      await insertMetrics(c, tenant, fixture(AS_OF));
      await analyze(c, 'T');
      const cp = await c.query(
        `select campaign_name, period_start::text, period_end::text, spend::float8, conversions::float8, roas::float8, efficiency_score::float8
         from ads.campaign_performance where campaign_id = 'T'`,
      );
      // Against the rest of the platform (O): n = 700 / 30 = 23.33333 value units, lambda = 700 * 700 / 7000 = 70;
      // p = (n + 5) / (lambda + 5) = 28.33333 / 75 = 0.377778; 100 p / (1 + p) = 27.42.
      expect(cp.rows).toEqual([
        { campaign_name: 'Campaign T', period_start: '2025-03-25', period_end: AS_OF, spend: 700, conversions: 35, roas: 1, efficiency_score: 27.42 },
      ]);
      // A second analysis updates the same period, it does not add one.
      await analyze(c, 'T');
      expect((await c.query("select count(*)::int as n from ads.campaign_performance where campaign_id = 'T'")).rows[0].n).toBe(1);
    });
  });

  it('a strong campaign is Excellent on ROAS and CPA (lower CPA is good)', async () => {
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      // W: 100 spend, 20000 impressions, 200 clicks, 20 conversions, 800 value a day: ROAS 8, CPA 5.
      await insertMetrics(c, tenant, fixture(AS_OF, () => [{ id: 'W', spend: 100, impressions: 20000, clicks: 200, conversions: 20, value: 800 }]));
      const r = await analyze(c, 'W');
      expect(r.ROAS).toMatchObject({ current_value: 8, performance_rating: 'Excellent', recommendation: 'Monitor; candidate for more budget', priority: 'low' });
      expect(r.CPA).toMatchObject({ current_value: 5, performance_rating: 'Excellent' });
      expect(r.CPA!.baseline_value!).toBeGreaterThan(5);
      const eff = (await c.query("select efficiency_score::float8 as e from ads.campaign_performance where campaign_id = 'W'")).rows[0].e;
      expect(eff).toBeGreaterThan(50);
    });
  });

  it('a difference within noise is Average; a handful of clicks is Insufficient data', async () => {
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      await insertMetrics(
        c,
        tenant,
        fixture(AS_OF, (day) =>
          day === AS_OF
            ? [
                // N: 6 conversions where 100 spend would buy 9.5 at the baseline CPA: z = -1.2, Average.
                { id: 'N', spend: 100, impressions: 20000, clicks: 200, conversions: 6, value: 180 },
                // S: 3 clicks, no conversion, 2 of spend: nothing can be judged.
                { id: 'S', spend: 2, impressions: 300, clicks: 3, conversions: 0, value: 0 },
              ]
            : [],
        ),
      );
      const n = await analyze(c, 'N');
      expect(n.CPA!.performance_rating).toBe('Average');
      expect(n.CPA!.current_value).toBeCloseTo(16.6667, 4);
      const s = await analyze(c, 'S');
      for (const m of ['ROAS', 'CPA', 'CPC', 'CPM', 'CTR', 'Conversion rate']) {
        expect(s[m]).toMatchObject({ performance_rating: 'Insufficient data', recommendation: 'Wait for more data before judging', priority: 'low' });
      }
      // Zero conversions: CPA has no value, and is not judged on 2 of spend.
      expect(s.CPA!.current_value).toBeNull();
    });
  });

  it('zero conversions after real spend is Critical, not "no value"', async () => {
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      // Z: 100 a day for 7 days, no conversion, where 700 * 735 / 7700 = 66.82 were expected at the rate of the rest (O + T).
      await insertMetrics(c, tenant, fixture(AS_OF, () => [{ id: 'Z', spend: 100, impressions: 20000, clicks: 200, conversions: 0, value: 0 }]));
      const r = await analyze(c, 'Z');
      expect(r.CPA).toMatchObject({ current_value: null, performance_rating: 'Critical', priority: 'critical' });
      expect(r.ROAS).toMatchObject({ current_value: 0, performance_rating: 'Critical' });
      expect(r['Conversion rate']).toMatchObject({ current_value: 0, performance_rating: 'Critical' });
    });
  });

  it('a period that is not a window uses the next larger baseline window; a campaign with no data gets rows, not an error', async () => {
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      await insertMetrics(c, tenant, fixture(AS_OF));
      const r = await analyze(c, 'T', 10);
      // The reference is the rest of the platform over the 14-day window: O's 21000 / 7000 = 3.
      expect(r.ROAS!.baseline_value).toBe(3);
      // The platform's 14-day baseline (T included: 21700 / 7700) was computed on the way.
      const b14 = (await c.query("select roas::float8 from ads.baselines where window_days = 14 and level = 'campaign'")).rows[0];
      expect(b14.roas).toBeCloseTo(2.818182, 6);
      const none = await analyze(c, 'no-such-campaign');
      expect(Object.values(none).every((x) => x.performance_rating === 'Insufficient data' && x.current_value === null)).toBe(true);
      expect((await c.query("select 1 from ads.campaign_performance where campaign_id = 'no-such-campaign'")).rowCount).toBe(0);
    });
  });

  it("the guide signature analyses the tenant's last complete days, with named arguments too", async () => {
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      const yesterday = (await c.query('select ads_engine.tenant_yesterday($1)::text as d', [tenant])).rows[0].d as string;
      await insertMetrics(c, tenant, fixture(yesterday));
      const r = await c.query(`SELECT * FROM ads.analyze_campaign_performance(current_setting('saas.tenant_id')::uuid, 'T', 'meta', 7)`);
      expect(r.rows.map((x) => x.metric_name)).toEqual(['ROAS', 'CPA', 'CPC', 'CPM', 'CTR', 'Conversion rate', 'Spend', 'Conversions']);
      expect(r.rows[1]).toMatchObject({ metric_name: 'CPA', current_value: '20.0000', baseline_value: '10.0000', performance_rating: 'Critical' });
      const named = await c.query(
        `select metric_name, performance_rating from ads.analyze_campaign_performance(tenant_id => $1, campaign_id => 'T', platform => 'meta', days => 7)`,
        [tenant],
      );
      expect(named.rows[0]).toEqual({ metric_name: 'ROAS', performance_rating: 'Critical' });
    });
  });

  it('a campaign alone on its platform has nothing to be compared with: Insufficient data, no baseline, no efficiency score', async () => {
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      // T alone on meta (O is on google): the platform baseline would be T itself, ratio 1, z 0, "Average".
      await insertMetrics(
        c,
        tenant,
        fixture(AS_OF).map((m) => (m.id === 'O' ? { ...m, platform: 'google' } : m)),
      );
      const r = await analyze(c, 'T');
      for (const m of ['ROAS', 'CPA', 'CPC', 'CPM', 'CTR', 'Conversion rate', 'Spend', 'Conversions']) {
        expect(r[m], m).toMatchObject({ performance_rating: 'Insufficient data', baseline_value: null });
      }
      expect(r.ROAS!.current_value).toBe(1);
      const eff = (await c.query("select efficiency_score from ads.campaign_performance where campaign_id = 'T'")).rows[0];
      expect(eff).toEqual({ efficiency_score: null });
    });
  });

  it('a campaign that is most of its platform is judged against the others, not against itself (hand-computed)', async () => {
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      // Big: 9000 spend, 450 conversions a day (CPA 20); Small: 1000 spend, 100 conversions (CPA 10).
      // With Big inside the baseline: CPA 70000 / 3850 = 18.18, ratio 0.909 (z = -3.97): only "Poor".
      // Against Small alone: CPA 20 vs 10, ratio 0.5, 3150 conversions where 6300 were due: Critical.
      const rows: MetricRow[] = [];
      for (let n = 0; n < 7; n++) {
        const day = addDays(AS_OF, -n);
        rows.push({ id: 'Big', day, spend: 9000, impressions: 1800000, clicks: 18000, conversions: 450, value: 13500 });
        rows.push({ id: 'Small', day, spend: 1000, impressions: 200000, clicks: 2000, conversions: 100, value: 3000 });
      }
      await insertMetrics(c, tenant, rows);
      const r = await analyze(c, 'Big');
      expect(r.CPA).toMatchObject({ current_value: 20, baseline_value: 10, performance_rating: 'Critical' });
      expect(r.ROAS).toMatchObject({ current_value: 1.5, baseline_value: 3, performance_rating: 'Critical' });
    });
  });

  it('refuses bad arguments with clear errors', async () => {
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      const call = (args: string, values: unknown[]) => errorOf(c, `select * from ads.analyze_campaign_performance(${args})`, values);
      expect(await call(`null, 'T', 'meta', 7`, [])).toBe('tenant_id must not be NULL');
      expect(await call(`$1, 'T', 'meta', 7`, [other])).toMatch(/does not match the current tenant setting/);
      expect(await call(`$1, '', 'meta', 7`, [tenant])).toBe('campaign_id must not be empty');
      expect(await call(`$1, null, 'meta', 7`, [tenant])).toBe('campaign_id must not be empty');
      expect(await call(`$1, 'T', 'orkut', 7`, [tenant])).toBe('unknown platform "orkut"');
      for (const d of [0, -1, 367]) expect(await call(`$1, 'T', 'meta', $2`, [tenant, d])).toBe(`days must be between 1 and 366 (got ${d})`);
      expect(await call(`$1, 'T', 'meta', null`, [tenant])).toBe('days must be between 1 and 366 (got NULL)');
    });
  });
});
