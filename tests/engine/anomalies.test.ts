// ads.detect_anomalies: robust (median / MAD) scores against the same
// weekday, a past outlier that must not hide the next one, tracking loss,
// minimum volumes, new campaigns, and severity from size and money at stake.
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { errorOf, rollback, setTenant, tenantPair } from '../helpers/db';
import { AS_OF, addDays, daily, insertMetrics, isoDow, median, type MetricRow } from './fixtures';

let app: pg.Pool;
let tenant: string;
let other: string;
beforeAll(async () => void ({ app, tenant, other } = await tenantPair('Anomalies')));

// The eight previous same-weekday values of X's spend (D-7, D-14, ... D-56); D-42 was an outlier.
const X_MONDAYS = [100, 102, 98, 101, 99, 500, 100, 103];

/** 56 days of history and the day D (a Monday). */
function fixture(d: string): MetricRow[] {
  const start = addDays(d, -56);
  const sameDow = (day: string) => isoDow(day) === isoDow(d);
  const weeksBack = (day: string) => Math.round((Date.parse(d) - Date.parse(day)) / (7 * 86400e3));
  const byClicks = (spend: number) => ({ spend, impressions: spend * 100, clicks: spend });
  return [
    // google: X (spike yesterday, one old outlier) and Y (large, steady).
    ...daily(start, d, (day) => {
      const spend = day === d ? 200 : sameDow(day) ? X_MONDAYS[weeksBack(day) - 1]! : 100;
      return { id: 'X', platform: 'google', ...byClicks(spend) };
    }),
    ...daily(start, d, () => ({ id: 'Y', platform: 'google', spend: 5000, impressions: 500000, clicks: 5000, conversions: 100, value: 10000 })),
    // meta: T loses its conversion tracking yesterday.
    ...daily(start, d, (day) => ({ id: 'T', spend: 300, impressions: 30000, clicks: 300, conversions: day === d ? 0 : 20, value: day === d ? 0 : 1000 })),
    // Small: 3 clicks a day; tripled spend yesterday is still below the minimum volume.
    ...daily(start, d, (day) => ({ id: 'Small', spend: day === d ? 6 : 2, impressions: 300, clicks: day === d ? 9 : 3 })),
    // W: Mondays are always 3x: a Monday at 3x is normal.
    ...daily(start, d, (day) => ({ id: 'W', ...byClicks(sameDow(day) ? 300 : 100) })),
    // N: a new campaign, three days old.
    ...daily(addDays(d, -3), d, (day) => ({ id: 'N', ...byClicks(day === d ? 500 : 50) })),
    // Zs: stopped delivering yesterday.
    ...daily(start, d, (day) => ({ id: 'Zs', ...byClicks(day === d ? 0 : 400) })),
    // R: two weeks old (2 Mondays): weekday-adjusted history. Spend quadrupled yesterday.
    ...daily(addDays(d, -14), d, (day) => ({ id: 'R', ...byClicks(day === d ? 400 : 100) })),
  ];
}

const detect = async (c: pg.ClientBase, d = AS_OF) => (await c.query('select ads_engine.detect_anomalies($1, $2::date) as n', [tenant, d])).rows[0].n as number;

const anomalies = async (c: pg.ClientBase) =>
  (
    await c.query(
      `select entity_id, metric_name, anomaly_type, day::text, baseline_value::float8, actual_value::float8, deviation_percent::float8,
              anomaly_score::float8, money_at_stake::float8, severity::text, details
       from ads.anomalies order by entity_id, metric_name`,
    )
  ).rows;

/** The platform's daily spend reference (yesterday's total, or the history's mean if larger), computed independently. */
async function platformRef(c: pg.ClientBase, platform: string, d: string): Promise<number> {
  const r = await c.query(
    `select greatest((select sum(spend) from ads.metrics_daily where platform = $1 and day = $2::date),
                     (select avg(s) from (select sum(spend) as s from ads.metrics_daily
                                          where platform = $1 and day between $2::date - 56 and $2::date - 1 group by day) t))::float8 as ref`,
    [platform, d],
  );
  return r.rows[0].ref as number;
}

/** Severity from points (documented in the function's comment): size 1-3 + money share 0-3, minus 2 when favourable. */
function severity(sizePoints: number, money: number, ref: number): string {
  const share = money / ref;
  const points = sizePoints + (share >= 0.2 ? 3 : share >= 0.05 ? 2 : share >= 0.01 ? 1 : 0);
  return points >= 5 ? 'critical' : points === 4 ? 'high' : points >= 2 ? 'medium' : 'low';
}

describe('ads.detect_anomalies', () => {
  it('finds the spike, the tracking loss and the stop; nothing on steady, weekday-normal, tiny or new campaigns (hand-computed)', async () => {
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      await insertMetrics(c, tenant, fixture(AS_OF));
      expect(await detect(c)).toBe(4);
      const a = await anomalies(c);
      expect(a.map((x) => `${x.entity_id}:${x.metric_name}:${x.anomaly_type}`)).toEqual([
        'R:spend:spike',
        'T:conversions:tracking_loss',
        'X:spend:spike',
        'Zs:spend:drop',
      ]);
      const by = Object.fromEntries(a.map((x) => [x.entity_id, x]));

      // X against its Mondays: median (100 + 101) / 2 = 100.5; absolute deviations 2.5 1.5 0.5 0.5 0.5 1.5 2.5 399.5,
      // MAD = 1.5; scale = max(1.4826 x 1.5, 5 % of 100.5) = 5.025; z = (200 - 100.5) / 5.025 = 19.80.
      expect(median(X_MONDAYS)).toBe(100.5);
      expect(by.X).toMatchObject({ day: AS_OF, baseline_value: 100.5, actual_value: 200, deviation_percent: 99, money_at_stake: 99.5 });
      expect(by.X.anomaly_score).toBeCloseTo(19.801, 3);
      expect(by.X.details).toMatchObject({ method: 'same_weekday', history_points: 8, mad: 1.5 });
      // Mean and standard deviation would have missed it: the old outlier inflates both.
      const mean = X_MONDAYS.reduce((s, v) => s + v, 0) / 8;
      const sd = Math.sqrt(X_MONDAYS.reduce((s, v) => s + (v - mean) ** 2, 0) / 7);
      expect((200 - mean) / sd).toBeLessThan(1);
      // Severity: size 3 (19.8 >= 2.5 x 3.5) + money 99.5 / 5200 = 1.9 % (1 point) = 4: high.
      const gRef = await platformRef(c, 'google', AS_OF);
      expect(gRef).toBe(5200);
      expect(by.X.severity).toBe(severity(3, 99.5, gRef));
      expect(by.X.severity).toBe('high');

      // T: no conversions where 20 x 300 / 300 = 20 were expected (P(0) = e^-20); score 2 (sqrt(0.375) - sqrt(20.375)) = -7.8030.
      expect(by.T).toMatchObject({ baseline_value: 20, actual_value: 0, deviation_percent: -100, money_at_stake: 300 });
      expect(by.T.anomaly_score).toBeCloseTo(-7.803, 3);
      const mRef = await platformRef(c, 'meta', AS_OF);
      expect(by.T.severity).toBe(severity(3, 300, mRef));
      // Zs: 0 against a steady 400 (scale = 5 % of 400 = 20): z = -20, -100 %.
      expect(by.Zs).toMatchObject({ baseline_value: 400, actual_value: 0, deviation_percent: -100, anomaly_score: -20, money_at_stake: 400 });
      expect(by.Zs.severity).toBe(severity(3, 400, mRef));
      // R: only two Mondays, so its last 28 days scaled by the platform's weekday profile (Mondays are heavier on meta).
      expect(by.R.details.method).toBe('weekday_adjusted');
      expect(by.R.baseline_value).toBeGreaterThan(100);
      expect(by.R.actual_value).toBe(400);
    });
  });

  it('a second run adds nothing (one anomaly per entity, metric and day)', async () => {
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      await insertMetrics(c, tenant, fixture(AS_OF));
      expect(await detect(c)).toBe(4);
      expect(await detect(c)).toBe(0);
      await c.query(`update ads.anomalies set status = 'dismissed'`);
      expect(await detect(c)).toBe(0);
    });
  });

  it('nothing on a platform whose anomaly_detection_enabled is off; the sensitivity is the threshold', async () => {
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      await insertMetrics(c, tenant, fixture(AS_OF));
      await c.query(`insert into ads.platform_configs (tenant_id, platform, anomaly_detection_enabled) values ($1, 'meta', false), ($1, 'google', true)`, [tenant]);
      expect(await detect(c)).toBe(1);
      expect((await anomalies(c)).map((x) => x.entity_id)).toEqual(['X']);
    });
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      await insertMetrics(c, tenant, fixture(AS_OF));
      // At sensitivity 10 Zs (z = -20) and X (19.8) still stand out; R's weekday-adjusted spike too.
      await c.query(`insert into ads.platform_configs (tenant_id, platform, anomaly_sensitivity) values ($1, 'meta', 10), ($1, 'google', 10)`, [tenant]);
      const n = await detect(c);
      const a = await anomalies(c);
      expect(a.every((x) => x.anomaly_type === 'tracking_loss' || Math.abs(x.anomaly_score) >= 10)).toBe(true);
      expect(n).toBe(a.length);
    });
  });

  it('conversions that all lost their value: a roas tracking loss scored on the conversions observed (hand-computed)', async () => {
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      // V: 300 spend, 20 conversions worth 1000 a day; on D 15 conversions arrive, all without value.
      await insertMetrics(c, tenant, [
        ...daily(addDays(AS_OF, -56), AS_OF, (day) => ({ id: 'V', spend: 300, impressions: 30000, clicks: 300, conversions: day === AS_OF ? 15 : 20, value: day === AS_OF ? 0 : 1000 })),
      ]);
      expect(await detect(c)).toBe(1);
      const [v] = await anomalies(c);
      // Baseline ROAS 1000 / 300 = 3.3333; 1000 of value expected for the day's 300 of spend.
      expect(v).toMatchObject({ entity_id: 'V', metric_name: 'roas', anomaly_type: 'tracking_loss', baseline_value: 3.333333, actual_value: 0, money_at_stake: 1000 });
      // 0 valued conversions out of the 15 observed: 2 (sqrt(0.375) - sqrt(15.375)) = -6.6174,
      // not the score of 0 conversions where 20 were due (-7.8030): conversions did arrive.
      expect(v.anomaly_score).toBeCloseTo(2 * (Math.sqrt(0.375) - Math.sqrt(15.375)), 4);
      expect(v.details).toMatchObject({ method: 'conversions_without_value', conversions: 15, expected_value: 1000 });
      expect(v.details.p_zero).toBeUndefined();
    });
  });

  it('edge cases: zero spend everywhere, a single day of data, NULL-heavy rows', async () => {
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      await insertMetrics(c, tenant, [
        ...daily(addDays(AS_OF, -30), AS_OF, () => ({ id: 'Idle', name: null })),
        { id: 'Once', day: AS_OF, spend: 1000, impressions: 100000, clicks: 1000, conversions: 50, value: 5000 },
      ]);
      expect(await detect(c)).toBe(0);
      expect((await c.query(`select ads_engine.generate_recommendations($1, $2::date) as n`, [tenant, AS_OF])).rows[0].n).toBe(0);
      const r = await c.query(`select performance_rating from ads_engine.analyze_campaign_performance($1, 'Idle', 'meta', 7, $2::date)`, [tenant, AS_OF]);
      expect(r.rows.every((x) => x.performance_rating === 'Insufficient data')).toBe(true);
    });
  });

  it("the guide signature checks the tenant's yesterday and refuses bad tenants", async () => {
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      const yesterday = (await c.query('select ads_engine.tenant_yesterday($1)::text as d', [tenant])).rows[0].d as string;
      await insertMetrics(c, tenant, fixture(yesterday));
      const n = (await c.query(`SELECT ads.detect_anomalies($1) as n`, [tenant])).rows[0].n;
      // The same four, whatever weekday yesterday was (X's history is anchored on yesterday's weekday).
      expect(n).toBe(4);
      expect((await c.query(`select ads.detect_anomalies(tenant_id => $1) as n`, [tenant])).rows[0].n).toBe(0);
      expect(await errorOf(c, `select ads.detect_anomalies(null)`)).toBe('tenant_id must not be NULL');
      expect(await errorOf(c, `select ads.detect_anomalies($1)`, [other])).toMatch(/does not match the current tenant setting/);
      expect(await errorOf(c, `select ads_engine.detect_anomalies($1, null)`, [tenant])).toBe('as_of (the last complete day) must not be NULL');
    });
  });
});
