// ads.analyze_campaign_performance: ratings with direction, significance and
// "Insufficient data", the stored period with its efficiency score; the
// expected numbers are worked out by hand in the comments.
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { appPool, createTenant, errorOf, ownerPool, rollback, setTenant } from '../helpers/db';
import { AS_OF, addDays, insertMetrics, type MetricRow } from './fixtures';

let app: pg.Pool;
let tenant: string;
let other: string;

beforeAll(async () => {
  const owner = ownerPool();
  app = appPool();
  tenant = await createTenant(owner, 'Analyze');
  other = await createTenant(owner, 'Analyze, other tenant');
});

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
 * 200, 5, 100 a day. Baseline (O + T over 7 days): spend 7700, impressions
 * 1,540,000, clicks 15,400, conversions 735, value 21,700: ROAS 2.818182,
 * CPA 10.476190, CPC 0.5, CPM 5, CTR 0.01, conversion rate 0.047727.
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
      // ROAS 700 / 700 = 1 against 21700 / 7700 = 2.818182: ratio 0.3548, Critical.
      // Significance: value in baseline order-value units (21700 / 735 = 29.5238): n = 23.71,
      // expected 700 * 735 / 7700 = 66.82; z = 2 (sqrt(24.085) - sqrt(67.193)) / sqrt(1 + 66.82 / 735) = -6.30.
      expect(r.ROAS).toMatchObject({ current_value: 1, baseline_value: 2.8182, performance_rating: 'Critical', priority: 'critical' });
      // CPA 700 / 35 = 20 against 10.4762: higher CPA is bad. Ratio (35/700) / (735/7700) = 0.5238, z = -4.31.
      expect(r.CPA).toMatchObject({ current_value: 20, baseline_value: 10.4762, performance_rating: 'Critical', priority: 'critical' });
      expect(r.CPA!.recommendation).toMatch(/CPA far above baseline/);
      // CPC, CPM, CTR equal the baseline's: Average, no recommendation.
      expect(r.CPC).toMatchObject({ current_value: 0.5, baseline_value: 0.5, performance_rating: 'Average', recommendation: null, priority: 'low' });
      expect(r.CPM).toMatchObject({ current_value: 5, baseline_value: 5, performance_rating: 'Average' });
      expect(r.CTR).toMatchObject({ current_value: 0.01, baseline_value: 0.01, performance_rating: 'Average' });
      // Conversion rate 35 / 1400 = 0.025 against 735 / 15400 = 0.047727: Critical, high.
      expect(r['Conversion rate']).toMatchObject({ current_value: 0.025, baseline_value: 0.047727, performance_rating: 'Critical', priority: 'high' });
      // Volumes per day with delivery, against the average entity-day (7700 / 14 = 550; 735 / 14 = 52.5), rated neutrally.
      expect(r.Spend).toMatchObject({ current_value: 100, baseline_value: 550, performance_rating: 'Below average', recommendation: null, priority: 'low' });
      expect(r.Conversions).toMatchObject({ current_value: 5, baseline_value: 52.5, performance_rating: 'Below average' });
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
      // p = (n + 5) / (lambda + 5) = (23.70968 + 5) / (66.81818 + 5) = 0.399755; 100 p / (1 + p) = 28.56.
      expect(cp.rows).toEqual([
        { campaign_name: 'Campaign T', period_start: '2025-03-25', period_end: AS_OF, spend: 700, conversions: 35, roas: 1, efficiency_score: 28.56 },
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
      // Z: 100 a day for 7 days, no conversion, where 700 * 735 / 8400 = 61.25 were expected at the baseline rate.
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
      const b14 = (await c.query("select roas from ads.baselines where window_days = 14 and level = 'campaign'")).rows[0];
      expect(r.ROAS!.baseline_value).toBe(Number(Number(b14.roas).toFixed(4)));
      const none = await analyze(c, 'no-such-campaign');
      expect(Object.values(none).every((x) => x.performance_rating === 'Insufficient data' && x.current_value === null)).toBe(true);
      expect((await c.query("select 1 from ads.campaign_performance where campaign_id = 'no-such-campaign'")).rowCount).toBe(0);
    });
  });

  it('the guide signature analyses the last complete days before CURRENT_DATE, with named arguments too', async () => {
    const yesterday = (await app.query('select (current_date - 1)::text as d')).rows[0].d as string;
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      await insertMetrics(c, tenant, fixture(yesterday));
      const r = await c.query(`SELECT * FROM ads.analyze_campaign_performance(current_setting('saas.tenant_id')::uuid, 'T', 'meta', 7)`);
      expect(r.rows.map((x) => x.metric_name)).toEqual(['ROAS', 'CPA', 'CPC', 'CPM', 'CTR', 'Conversion rate', 'Spend', 'Conversions']);
      expect(r.rows[1]).toMatchObject({ metric_name: 'CPA', current_value: '20.0000', baseline_value: '10.4762', performance_rating: 'Critical' });
      const named = await c.query(
        `select metric_name, performance_rating from ads.analyze_campaign_performance(tenant_id => $1, campaign_id => 'T', platform => 'meta', days => 7)`,
        [tenant],
      );
      expect(named.rows[0]).toEqual({ metric_name: 'ROAS', performance_rating: 'Critical' });
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
