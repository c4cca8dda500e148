// Every day examined once its data is in (the ledger ads_engine.examined_days
// and ads_engine.days_to_examine / mark_examined), each platform's conversion
// lag learnt from restatements (conversion_completeness, completeness_at),
// anomalies of restated days re-scored (rescore_restated), and the
// scheduler's readiness platform by platform (tenants_due).
//
// Inside one transaction now() does not move: loads "before" the present are
// written with explicit timestamps in the past, and a later load is an update
// (the trigger stamps updated_at = now()).
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { errorOf, rollback, setTenant, tenantPair } from '../helpers/db';
import { AS_OF, addDays } from './fixtures';
import { nbMidP, Phi } from './reference-stats';

let app: pg.Pool;
let owner: pg.Pool;
let tenant: string;
let other: string;
beforeAll(async () => void ({ app, owner, tenant, other } = await tenantPair('Readiness')));

/** A small deterministic generator (LCG), so "noisy" data is the same on every run. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

interface Load {
  platform?: string;
  level?: string;
  id: string;
  day: string;
  spend?: number;
  conversions?: number;
  value?: number;
  /** First report (defaults to the current figures). */
  firstConversions?: number;
  /** When the row was (first and last) loaded: an ISO instant or an SQL expression on now(). */
  loadedAt?: string;
}

/** Inserts rows with their load times (created_at = updated_at = first_loaded_at = loadedAt, default now()). */
async function load(c: pg.ClientBase, t: string, rows: Load[]): Promise<void> {
  if (!rows.length) return;
  await c.query(
    `insert into ads.metrics_daily (tenant_id, platform, level, platform_id, day, spend, impressions, clicks, conversions, conversion_value,
                                    first_conversions, created_at, updated_at, first_loaded_at)
     select $1, p, l, id, d::date, s, (s * 80)::bigint, (s * 1.5)::bigint, k, v, coalesce(fk, k),
            coalesce(at, now()), coalesce(at, now()), coalesce(at, now())
     from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::numeric[], $7::numeric[], $8::numeric[], $9::numeric[], $10::timestamptz[])
          as x(p, l, id, d, s, k, v, fk, at)`,
    [
      t,
      rows.map((r) => r.platform ?? 'meta'),
      rows.map((r) => r.level ?? 'campaign'),
      rows.map((r) => r.id),
      rows.map((r) => r.day),
      rows.map((r) => r.spend ?? 100),
      rows.map((r) => r.conversions ?? 0),
      rows.map((r) => r.value ?? 0),
      rows.map((r) => r.firstConversions ?? null),
      rows.map((r) => r.loadedAt ?? null),
    ],
  );
}

function days(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) out.push(d);
  return out;
}

interface ToExamine {
  platform: string;
  level: string;
  day: string;
  data_loaded_at: Date;
  rows_present: number;
}

/** The load time as PostgreSQL prints it (a JS Date keeps milliseconds only; now() has microseconds). */
type Listed = ToExamine & { loaded: string };

const toExamine = async (c: pg.ClientBase, asOf = AS_OF, lookback = 7) =>
  (
    await c.query<Listed>('select platform, level, day::text, data_loaded_at, data_loaded_at::text as loaded, rows_present from ads_engine.days_to_examine($1, $2::date, $3)', [
      tenant,
      asOf,
      lookback,
    ])
  ).rows.map(({ loaded, ...r }) => Object.defineProperty(r as ToExamine, LOADED, { value: loaded, enumerable: false }));

const LOADED = Symbol('loaded');

/** Marks every listed day examined, as the loop does after examining it. */
async function markAll(c: pg.ClientBase, list: ToExamine[], found = 0): Promise<void> {
  for (const d of list) {
    const loaded = (d as ToExamine & { [LOADED]: string })[LOADED];
    await c.query('select ads_engine.mark_examined($1, $2, $3, $4::date, $5::timestamptz, $6, $7)', [tenant, d.platform, d.level, d.day, loaded, d.rows_present, found]);
  }
}

const key = (r: { platform: string; level: string; day: string }) => `${r.platform}/${r.level}/${r.day}`;

describe('ads_engine.days_to_examine / mark_examined (the ledger)', () => {
  it('lists a late platform on the next run, and only it once the other was marked', async () => {
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      const twoDaysAgo = `${new Date(Date.now() - 2 * 86400e3).toISOString()}`;
      // Ten days of history for two platforms, two campaigns each, loaded two days ago and all examined.
      const history = days(addDays(AS_OF, -9), addDays(AS_OF, -1)).flatMap((day) =>
        ['m1', 'm2', 'g1', 'g2'].map((id) => ({ id, day, platform: id.startsWith('m') ? 'meta' : 'google', spend: 90 + id.length, loadedAt: twoDaysAgo })),
      );
      await load(c, tenant, history);
      const first = await toExamine(c, addDays(AS_OF, -1));
      expect(first.map(key)).toEqual(days(addDays(AS_OF, -7), addDays(AS_OF, -1)).flatMap((d) => [`google/campaign/${d}`, `meta/campaign/${d}`]));
      expect(first.every((r) => r.rows_present === 2 && r.data_loaded_at.getTime() === Date.parse(twoDaysAgo))).toBe(true);
      await markAll(c, first);
      expect(await toExamine(c, addDays(AS_OF, -1))).toEqual([]);

      // Yesterday: meta's rows are in, google's are not.
      await load(c, tenant, [
        { id: 'm1', day: AS_OF, spend: 97.4 },
        { id: 'm2', day: AS_OF, spend: 12.1 },
      ]);
      const metaOnly = await toExamine(c);
      expect(metaOnly.map(key)).toEqual([`meta/campaign/${AS_OF}`]);
      const now = (await c.query<{ now: Date }>('select now()')).rows[0]!.now;
      expect(metaOnly[0]).toMatchObject({ rows_present: 2, data_loaded_at: now });
      await markAll(c, metaOnly, 1);
      const ledger = (await c.query(`select rows_examined, anomalies_found, data_loaded_at from ads_engine.examined_days where platform = 'meta' and day = $1`, [AS_OF])).rows;
      expect(ledger).toEqual([{ rows_examined: 2, anomalies_found: 1, data_loaded_at: now }]);

      // Google's yesterday arrives (with an ad set row too): only google is listed, per level.
      await load(c, tenant, [
        { id: 'g1', day: AS_OF, platform: 'google', spend: 88.2 },
        { id: 'g2', day: AS_OF, platform: 'google', spend: 91.5 },
        { id: 'g2-a', day: AS_OF, platform: 'google', level: 'adset', spend: 40.3 },
        // ad rows are not examined
        { id: 'g2-a-1', day: AS_OF, platform: 'google', level: 'ad', spend: 20.1 },
      ]);
      const googleOnly = await toExamine(c);
      expect(googleOnly.map((r) => [key(r), r.rows_present])).toEqual([
        [`google/adset/${AS_OF}`, 1],
        [`google/campaign/${AS_OF}`, 2],
      ]);
      await markAll(c, googleOnly);
      expect(await toExamine(c)).toEqual([]);
    });
  });

  it('lists a restated day again, with its latest load', async () => {
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      const yesterdayLoad = new Date(Date.now() - 86400e3).toISOString();
      await load(
        c,
        tenant,
        days(addDays(AS_OF, -6), AS_OF).flatMap((day, i) => [
          { id: 'a', day, spend: 120 + i, conversions: 5 + (i % 3), loadedAt: yesterdayLoad },
          { id: 'b', day, spend: 60 - i, conversions: 2 + (i % 2), loadedAt: yesterdayLoad },
        ]),
      );
      await markAll(c, await toExamine(c));
      expect(await toExamine(c)).toEqual([]);
      // The platform restates campaign a's conversions of D-3 (late attribution).
      await c.query(`update ads.metrics_daily set conversions = conversions + 3 where platform_id = 'a' and day = $1`, [addDays(AS_OF, -3)]);
      const again = await toExamine(c);
      // A restatement is stamped with the wall clock (later than the transaction's start).
      const now = (await c.query<{ at: Date }>(`select max(updated_at) as at from ads.metrics_daily where day = $1`, [addDays(AS_OF, -3)])).rows[0]!.at;
      expect(now.getTime()).toBeGreaterThan(new Date(yesterdayLoad).getTime());
      expect(again).toEqual([{ platform: 'meta', level: 'campaign', day: addDays(AS_OF, -3), data_loaded_at: now, rows_present: 2 }]);
      // Re-examined: the ledger entry is replaced, not duplicated.
      await markAll(c, again);
      expect(await toExamine(c)).toEqual([]);
      const n = (await c.query(`select count(*)::int as n, max(data_loaded_at) as at from ads_engine.examined_days where day = $1`, [addDays(AS_OF, -3)])).rows[0];
      expect(n).toEqual({ n: 1, at: now });
    });
  });

  it('catches up a week of missed days (a weekly tenant, or downtime), in day order', async () => {
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      const r = rng(7);
      const rows: Load[] = days(addDays(AS_OF, -20), AS_OF).flatMap((day) => [
        { id: 'c1', day, spend: Math.round(200 * (0.8 + 0.4 * r()) * 100) / 100, conversions: Math.floor(8 * r()) },
        { id: 'c1-s1', day, level: 'adset', spend: Math.round(90 * (0.8 + 0.4 * r()) * 100) / 100 },
        { id: 't1', day, platform: 'tiktok', spend: Math.round(50 * (0.5 + r()) * 100) / 100 },
      ]);
      await load(c, tenant, rows);
      // The last run examined up to D-7 (everything before), then none ran for a week.
      await markAll(c, await toExamine(c, addDays(AS_OF, -7), 14));
      const week = await toExamine(c);
      const expected = days(addDays(AS_OF, -6), AS_OF).flatMap((d) => [`meta/adset/${d}`, `meta/campaign/${d}`, `tiktok/campaign/${d}`]);
      expect(week.map(key)).toEqual(expected);
      // Independently: the rows of each listed (platform, level, day).
      const counts = (
        await c.query(
          `select platform || '/' || level || '/' || day::text as k, count(*)::int as n from ads.metrics_daily
           where day between $1::date - 6 and $1::date and level in ('campaign', 'adset') group by 1`,
          [AS_OF],
        )
      ).rows;
      expect(Object.fromEntries(week.map((w) => [key(w), w.rows_present]))).toEqual(Object.fromEntries(counts.map((x) => [x.k, x.n])));
      // A shorter lookback lists fewer days; days before the window are not listed even when never examined.
      expect((await toExamine(c, AS_OF, 2)).map(key)).toEqual(expected.slice(-6));
    });
  });

  it('refuses bad arguments, and another tenant', async () => {
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      expect(await errorOf(c, 'select * from ads_engine.days_to_examine($1, $2::date, 0)', [tenant, AS_OF])).toMatch(/p_lookback must be between 1 and 366/);
      expect(await errorOf(c, 'select * from ads_engine.days_to_examine($1, $2::date, null)', [tenant, AS_OF])).toMatch(/p_lookback must not be NULL/);
      expect(await errorOf(c, 'select * from ads_engine.days_to_examine($1, null)', [tenant])).toMatch(/as_of .* must not be NULL/);
      expect(await errorOf(c, 'select * from ads_engine.days_to_examine($1, $2::date)', [other, AS_OF])).not.toBeNull();
      const mark = (args: unknown[]) => errorOf(c, 'select ads_engine.mark_examined($1, $2, $3, $4::date, $5, $6, $7)', [tenant, ...args]);
      expect(await mark(['meta', 'campaign', AS_OF, null, 3, 0])).toMatch(/p_loaded_at .* must not be NULL/);
      expect(await mark(['meta', 'campaign', AS_OF, new Date(), -1, 0])).toMatch(/p_rows must be a count >= 0/);
      expect(await mark(['meta', 'campaign', AS_OF, new Date(), 1, null])).toMatch(/p_found must be a count >= 0/);
      expect(await mark(['meta', 'campaign', null, new Date(), 1, 0])).toMatch(/p_day must not be NULL/);
      expect(await mark(['myspace', 'campaign', AS_OF, new Date(), 1, 0])).toMatch(/unknown platform "myspace"/);
      expect(await mark(['meta', 'account', AS_OF, new Date(), 1, 0])).toMatch(/unknown level "account"/);
    });
  });
});

describe('ads_engine.conversion_completeness / completeness_at (conversion lag)', () => {
  it('learns that first reports at age 1 carry about 70 % of the final conversions, in the tenant time zone', async () => {
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      await c.query(`update saas.tenants set timezone = 'America/New_York' where id = $1`, [tenant]);
      const r = rng(2024);
      const rows: Load[] = [];
      let first1 = 0;
      let final1 = 0;
      let first0 = 0;
      let final0 = 0;
      let days1 = 0;
      // Final days (D-60 .. D-14): three meta campaigns first loaded the next morning, 09:00 in New York (age 1).
      for (const day of days(addDays(AS_OF, -60), addDays(AS_OF, -14))) {
        days1++;
        for (const id of ['p1', 'p2', 'p3']) {
          const final = 6 + Math.floor(r() * 15);
          const first = Math.max(0, Math.min(final, Math.round(final * 0.7 + (r() - 0.5) * 4)));
          first1 += first;
          final1 += final;
          rows.push({ id, day, spend: 150 + Math.round(r() * 100), conversions: final, firstConversions: first, loadedAt: `${addDays(day, 1)} 09:00 America/New_York` });
        }
      }
      // Eight days first loaded late on the day itself, 23:30 in New York (already the next day in UTC): age 0, about 40 %.
      for (const day of days(addDays(AS_OF, -70), addDays(AS_OF, -63))) {
        const final = 10 + Math.floor(r() * 10);
        const first = Math.round(final * 0.4 + (r() - 0.5) * 2);
        first0 += first;
        final0 += final;
        rows.push({ id: 'late-night', day, conversions: final, firstConversions: first, loadedAt: `${day} 23:30 America/New_York` });
      }
      // Age 2 on only five days (too few to learn from).
      for (const day of days(addDays(AS_OF, -80), addDays(AS_OF, -76))) {
        rows.push({ id: 'age2', day, conversions: 30, firstConversions: 10, loadedAt: `${addDays(day, 2)} 10:00 America/New_York` });
      }
      // Not final yet (the last 13 days): reported in full so far, must not count.
      for (const day of days(addDays(AS_OF, -13), AS_OF)) {
        rows.push({ id: 'p1', day, conversions: 12, firstConversions: 12, loadedAt: `${addDays(day, 1)} 09:00 America/New_York` });
      }
      // Google: ten days at age 1, but only 15 conversions in all.
      for (const day of days(addDays(AS_OF, -40), addDays(AS_OF, -31))) {
        rows.push({ id: 'gx', platform: 'google', day, conversions: day.endsWith('5') ? 6 : 1, firstConversions: 0, loadedAt: `${addDays(day, 1)} 09:00 America/New_York` });
      }
      // Ad set rows repeat the campaigns' conversions: not counted.
      rows.push({ id: 'p1-s', level: 'adset', day: addDays(AS_OF, -20), conversions: 500, firstConversions: 0, loadedAt: `${addDays(AS_OF, -19)} 09:00 America/New_York` });
      await load(c, tenant, rows);
      // Some rows were restated since (the first report stays as it was).
      await c.query(`update ads.metrics_daily set spend = spend + 1 where platform_id = 'p2' and day < $1::date - 30`, [AS_OF]);

      const got = (await c.query('select platform, age_days, completeness::float8 as completeness, days from ads_engine.conversion_completeness($1, $2::date)', [tenant, AS_OF])).rows;
      const c1 = Math.round((first1 / final1) * 1e4) / 1e4;
      const c0 = Math.round((first0 / final0) * 1e4) / 1e4;
      expect(c1).toBeGreaterThan(0.65);
      expect(c1).toBeLessThan(0.75);
      expect(got).toEqual([
        { platform: 'meta', age_days: 0, completeness: c0, days: 8 },
        { platform: 'meta', age_days: 1, completeness: c1, days: days1 },
      ]);
      // In UTC the late-night loads would have been age 1: the tenant's zone is what counts.
      await c.query(`update saas.tenants set timezone = 'UTC' where id = $1`, [tenant]);
      const utc = (await c.query('select age_days, days from ads_engine.conversion_completeness($1, $2::date) order by age_days', [tenant, AS_OF])).rows;
      expect(utc).toEqual([{ age_days: 1, days: days1 + 8 }]);
      await c.query(`update saas.tenants set timezone = 'America/New_York' where id = $1`, [tenant]);

      const at = async (platform: string, age: number) =>
        Number((await c.query('select ads_engine.completeness_at($1, $2, $3, $4::date) as v', [tenant, platform, age, AS_OF])).rows[0].v);
      expect(await at('meta', 1)).toBeCloseTo(c1, 10);
      expect(await at('meta', 0)).toBeCloseTo(c0, 10);
      expect(await at('meta', 2)).toBe(1); // five days only
      expect(await at('meta', 14)).toBe(1);
      expect(await at('google', 1)).toBe(1); // 15 conversions only
      expect(await at('tiktok', 1)).toBe(1);
      expect(await errorOf(c, 'select ads_engine.completeness_at($1, $2, -1, $3::date)', [tenant, 'meta', AS_OF])).toMatch(/p_age must be >= 0/);
      expect(await errorOf(c, 'select ads_engine.completeness_at($1, $2, null, $3::date)', [tenant, 'meta', AS_OF])).toMatch(/p_age .* must not be NULL/);
      expect(await errorOf(c, 'select ads_engine.completeness_at($1, null, 1, $2::date)', [tenant, AS_OF])).toMatch(/platform must not be NULL/);
    });
  });

  it('clamps a learnt completeness to [0.05, 1]', async () => {
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      const rows: Load[] = days(addDays(AS_OF, -30), addDays(AS_OF, -21)).flatMap((day, i) => [
        // first reports above the final figure (the platform revised conversions down)
        { id: 'down', day, conversions: 5 + (i % 3), firstConversions: 9 + (i % 2), loadedAt: `${addDays(day, 1)} 12:00 UTC` },
        // almost nothing at first report, age 3
        { id: 'slow', platform: 'tiktok', day, conversions: 20 + i, firstConversions: i === 4 ? 1 : 0, loadedAt: `${addDays(day, 3)} 12:00 UTC` },
      ]);
      await load(c, tenant, rows);
      const got = (await c.query('select platform, age_days, completeness::float8 as completeness from ads_engine.conversion_completeness($1, $2::date)', [tenant, AS_OF])).rows;
      expect(got).toEqual([
        { platform: 'meta', age_days: 1, completeness: 1 },
        { platform: 'tiktok', age_days: 3, completeness: 0.05 },
      ]);
    });
  });
});

// Independent p-values (negative-binomial mid-p from log-gamma terms, not the
// recursion the SQL uses; the normal tail): ./reference-stats.ts.

describe('ads_engine.rescore_restated (anomalies of restated days)', () => {
  const D = addDays(AS_OF, -2);
  const PHI = 0.04;
  const THRESHOLD = 0.0031;

  interface HandAnomaly {
    entity: string;
    metric: string;
    type: string;
    actual: number;
    details: Record<string, unknown>;
  }

  async function anomaly(c: pg.ClientBase, t: string, a: HandAnomaly): Promise<string> {
    const expected = Number(a.details.expected);
    return (
      await c.query(
        `insert into ads.anomalies (tenant_id, platform, level, entity_id, entity_name, campaign_id, day, metric_name, anomaly_type,
                                    baseline_value, actual_value, deviation_percent, anomaly_score, money_at_stake, severity, details, created_at)
         values ($1, 'meta', 'campaign', $2, $2, $2, $3::date, $4, $5, $6, $7, round(100 * ($7::numeric - $6::numeric) / $6::numeric, 2), -4.2, 250, 'high', $8, now() - interval '20 hours')
         returning id`,
        [t, a.entity, D, a.metric, a.type, expected, a.actual, JSON.stringify(a.details)],
      )
    ).rows[0].id as string;
  }

  /** A conversions-drop anomaly as the detector writes it: expected = rate x spend. */
  function conversionsDrop(entity: string, spend: number, rate: number, actual: number): HandAnomaly {
    const expected = rate * spend;
    return {
      entity,
      metric: 'conversions',
      type: 'drop',
      actual,
      details: {
        test: 'nb_lower',
        p_value: nbMidP(actual, expected, PHI, 'lower'),
        p_threshold: THRESHOLD,
        expected,
        phi: PHI,
        rate,
        exposure_metric: 'spend',
        observed_metric: 'conversions',
        direction: 'lower',
      },
    };
  }

  it('closes an anomaly whose day was restated to normal, keeps one that still holds, audits both, leaves the rest alone', async () => {
    await rollback(app, async (c) => {
      // The other tenant: the same situation, which this tenant's call must not touch.
      await setTenant(c, other);
      const dayBefore = new Date(Date.now() - 2 * 86400e3).toISOString();
      await load(c, other, [{ id: 'drop', day: D, spend: 412.37, conversions: 9, loadedAt: dayBefore }]);
      const otherId = await anomaly(c, other, conversionsDrop('drop', 412.37, 0.0931, 9));
      await c.query(`update ads.metrics_daily set conversions = 37 where platform_id = 'drop'`);

      await setTenant(c, tenant);
      // As first loaded (two days ago): each campaign's day as the detector saw it.
      await load(c, tenant, [
        { id: 'drop', day: D, spend: 412.37, conversions: 9, value: 610, loadedAt: dayBefore },
        { id: 'still', day: D, spend: 655.2, conversions: 14, value: 900, loadedAt: dayBefore },
        { id: 'unchanged', day: D, spend: 310.0, conversions: 6, loadedAt: dayBefore },
        { id: 'legacy', day: D, spend: 280.5, conversions: 2, loadedAt: dayBefore },
        { id: 'spendy', day: D, spend: 251.8, conversions: 11, loadedAt: dayBefore },
        { id: 'pa', day: D, spend: 180.4, conversions: 3, loadedAt: dayBefore },
        { id: 'pb', day: D, spend: 221.9, conversions: 4, loadedAt: dayBefore },
        { id: 'pc', day: D, spend: 999, conversions: 99, loadedAt: dayBefore },
      ]);
      const drop = conversionsDrop('drop', 412.37, 0.0931, 9);
      const still = conversionsDrop('still', 655.2, 0.0712, 14);
      const unchanged = conversionsDrop('unchanged', 310.0, 0.08, 6);
      expect(Number(drop.details.p_value)).toBeLessThan(THRESHOLD);
      expect(Number(still.details.p_value)).toBeLessThan(THRESHOLD);
      const ids = {
        drop: await anomaly(c, tenant, drop),
        still: await anomaly(c, tenant, still),
        unchanged: await anomaly(c, tenant, unchanged),
        // an anomaly of the first engine: no test in its details
        legacy: await anomaly(c, tenant, { entity: 'legacy', metric: 'conversions', type: 'drop', actual: 2, details: { method: 'robust_z', expected: 21 } }),
        // spend far above its expected 100 (log_sd 0.25), restated to a normal 120 spend... on a day with 11 conversions
        spendy: await anomaly(c, tenant, {
          entity: 'spendy',
          metric: 'spend',
          type: 'spike',
          actual: 251.8,
          details: { test: 'spend', p_value: 1 - Phi(Math.log(2.518) / 0.25), p_threshold: THRESHOLD, expected: 100, log_sd: 0.25, observed_metric: 'spend', direction: 'upper' },
        }),
        // a platform-wide drop on pa + pb (pc is not a member)
        platform: await (async () => {
          const a = conversionsDrop('platform:meta', 180.4 + 221.9, 0.08, 7);
          a.details = { ...a.details, scope: 'platform', members: ['pa', 'pb'] };
          return anomaly(c, tenant, a);
        })(),
      };
      const investigating = ids.still;
      await c.query(`update ads.anomalies set status = 'investigating' where id = $1`, [investigating]);

      // The platform restates the day (late conversions, a spend correction): loaded again now.
      await c.query(`update ads.metrics_daily set conversions = 37, spend = 418.02 where platform_id = 'drop'`);
      await c.query(`update ads.metrics_daily set conversions = 19 where platform_id = 'still'`);
      await c.query(`update ads.metrics_daily set conversions = 30 where platform_id = 'legacy'`);
      await c.query(`update ads.metrics_daily set spend = 120.3 where platform_id = 'spendy'`);
      await c.query(`update ads.metrics_daily set conversions = 13 where platform_id = 'pa'`);
      await c.query(`update ads.metrics_daily set conversions = 17 where platform_id = 'pb'`);
      // 'unchanged' is not restated; pc is, but it is not a member.
      await c.query(`update ads.metrics_daily set conversions = 0 where platform_id = 'pc'`);

      const closed = (await c.query('select ads_engine.rescore_restated($1) as n', [tenant])).rows[0].n;
      expect(closed).toBe(3); // drop, spendy, platform

      const rows = new Map(
        (
          await c.query(
            `select id, status, resolved_at is not null as resolved, resolved_by, resolution_note, actual_value::float8, baseline_value::float8,
                    deviation_percent::float8, anomaly_score::float8, details from ads.anomalies`,
          )
        ).rows.map((r) => [r.id as string, r]),
      );

      // drop: 37 conversions for 418.02 of spend; expected now 0.0931 x 418.02.
      const e1 = 0.0931 * 418.02;
      // these hand-made rows say nb_lower: a one-sided test, re-scored one-sided
      const p1 = nbMidP(37, e1, PHI, 'lower');
      expect(p1).toBeGreaterThan(THRESHOLD);
      const d = rows.get(ids.drop)!;
      expect(d).toMatchObject({ status: 'resolved', resolved: true, resolved_by: null, actual_value: 9 });
      expect(d.resolution_note).toMatch(/^Restated: conversions on 2025-03-29 were 9\.00 when detected \(expected 38\.39, p = .*\); the figures now loaded say 37\.00 \(expected 38\.92, p = 0\.\d{3}\)/);
      expect(d.details.restated).toMatchObject({ old_actual: 9, new_actual: 37, still_holds: false });
      expect(d.details.restated.new_expected).toBeCloseTo(e1, 3);
      expect(d.details.restated.p_value).toBeCloseTo(p1, 6);
      expect(d.details.p_value).toBe(drop.details.p_value); // the detection's figures are kept

      // still: 19 conversions where 0.0712 x 655.2 = 46.65 were expected: still a drop; refreshed, still investigating.
      const e2 = 0.0712 * 655.2;
      const p2 = nbMidP(19, e2, PHI, 'lower');
      expect(p2).toBeLessThan(THRESHOLD);
      const s = rows.get(ids.still)!;
      expect(s).toMatchObject({ status: 'investigating', resolved: false, resolution_note: null, actual_value: 19 });
      expect(s.baseline_value).toBeCloseTo(e2, 3);
      expect(s.deviation_percent).toBeCloseTo((100 * (19 - e2)) / e2, 2);
      expect(s.anomaly_score).toBeCloseTo((19 - e2) / Math.sqrt(e2 + PHI * e2 * e2), 3);
      expect(s.details.restated).toMatchObject({ old_actual: 14, new_actual: 19, still_holds: true });
      expect(s.details.restated.p_value).toBeCloseTo(p2, 8);

      // spendy: ln(120.3 / 100) / 0.25 = 0.739: p = 0.23.
      // no side_share in these hand-made details: the even split of rows written before it (p = tail / 0.5)
      const p3 = Math.min(1, 2 * (1 - Phi(Math.log(1.203) / 0.25)));
      const sp = rows.get(ids.spendy)!;
      expect(sp.status).toBe('resolved');
      expect(sp.details.restated.p_value).toBeCloseTo(p3, 4);
      expect(sp.resolution_note).toMatch(/^Restated: spend on 2025-03-29 were 251\.80 .* say 120\.30 \(expected 100\.00, p = 0\.460\)/);

      // platform-wide: members now 30 conversions for 402.3 of spend (expected 32.18); pc's restatement is not counted.
      const e4 = 0.08 * 402.3;
      const pl = rows.get(ids.platform)!;
      expect(pl.status).toBe('resolved');
      expect(pl.details.restated).toMatchObject({ new_actual: 30, rows: 2 });
      expect(pl.details.restated.p_value).toBeCloseTo(nbMidP(30, e4, PHI, 'lower'), 6);

      // not restated, and without the details keys: untouched.
      expect(rows.get(ids.unchanged)).toMatchObject({ status: 'active', actual_value: 6 });
      expect(rows.get(ids.unchanged)!.details.restated).toBeUndefined();
      expect(rows.get(ids.legacy)).toMatchObject({ status: 'active', actual_value: 2, details: { method: 'robust_z', expected: 21 } });

      // One audit row per anomaly changed, as the optimizer.
      const audit = (
        await c.query(`select l.entity_id, l.actor_user_id, l.actor_label, l.entity_type, l.before, l.after from ads.anomalies a
                       join saas.audit_log l on l.entity_id = a.id::text and l.action = 'anomaly.restated' order by l.entity_id`)
      ).rows;
      expect(audit.map((x) => x.entity_id).sort()).toEqual([ids.drop, ids.still, ids.spendy, ids.platform].sort());
      expect(audit.every((x) => x.actor_label === 'optimizer' && x.entity_type === 'anomaly' && x.actor_user_id === null)).toBe(true);
      const dropAudit = audit.find((x) => x.entity_id === ids.drop)!;
      expect(dropAudit.before).toMatchObject({ status: 'active', actual_value: 9 });
      expect(dropAudit.after).toMatchObject({ status: 'resolved', actual_value: 37 });
      expect(audit.find((x) => x.entity_id === ids.still)!.after).toMatchObject({ status: 'investigating', actual_value: 19 });

      // A second call finds nothing new (the re-scoring saw that load).
      expect((await c.query('select ads_engine.rescore_restated($1) as n', [tenant])).rows[0].n).toBe(0);
      expect((await c.query(`select count(*)::int as n from saas.audit_log where action = 'anomaly.restated'`)).rows[0].n).toBe(4);

      // The other tenant's anomaly is untouched, and its audit log empty; its tenant cannot be named from here.
      expect(await errorOf(c, 'select ads_engine.rescore_restated($1)', [other])).not.toBeNull();
      await setTenant(c, other);
      expect((await c.query('select status, actual_value::float8, details ? $2 as r from ads.anomalies where id = $1', [otherId, 'restated'])).rows).toEqual([
        { status: 'active', actual_value: 9, r: false },
      ]);
      expect((await c.query(`select count(*)::int as n from saas.audit_log where action = 'anomaly.restated'`)).rows[0].n).toBe(0);
      // and its own call closes it (37 for 412.37 at 0.0931: p above the cut).
      expect((await c.query('select ads_engine.rescore_restated($1) as n', [other])).rows[0].n).toBe(1);
    });
  });
});

describe('ads_engine.tenants_due: data ready platform by platform', () => {
  it('waits for every platform seen in the week before yesterday, until the grace passes', async () => {
    const early = new Date('2025-04-01T06:00:00Z'); // UTC tenants: yesterday is 2025-03-31
    await rollback(owner, async (c) => {
      const make = async (name: string) => {
        const id = (await c.query<{ id: string }>('select gen_random_uuid()::text as id')).rows[0]!.id;
        await setTenant(c, id);
        await c.query('insert into saas.tenants (id, name) values ($1, $2)', [id, name]);
        return id;
      };
      const r = rng(11);
      const week = (from: string, to: string, platform: string, id: string): Load[] =>
        days(from, to).map((day) => ({ id, day, platform, spend: Math.round((40 + 80 * r()) * 100) / 100, conversions: Math.floor(r() * 6) }));
      const run = async (t: string, at: Date, asOf: string, dataArrived: boolean) =>
        c.query(`insert into ads_engine.optimizer_runs (tenant_id, trigger, as_of, started_at, status, summary) values ($1, 'schedule', $2, $3, 'success', $4)`, [
          t,
          asOf,
          at.toISOString(),
          JSON.stringify({ data_arrived: dataArrived }),
        ]);

      // Two platforms all week; yesterday only meta's so far.
      const both = await make('meta in, google late');
      await load(c, both, [...week('2025-03-24', '2025-03-31', 'meta', 'm'), ...week('2025-03-24', '2025-03-30', 'google', 'g')]);
      await run(both, new Date('2025-03-31T06:10:00Z'), '2025-03-30', true);
      // Google stopped two weeks ago: only meta is waited for.
      const stopped = await make('google stopped');
      await load(c, stopped, [...week('2025-03-10', '2025-03-31', 'meta', 'm'), ...week('2025-03-10', '2025-03-20', 'google', 'g')]);
      await run(stopped, new Date('2025-03-31T06:10:00Z'), '2025-03-30', true);
      // A run after the grace found nothing at all; then meta's day arrived (google still late).
      const rerun = await make('ran without data, one platform since');
      await load(c, rerun, [...week('2025-03-24', '2025-03-30', 'meta', 'm'), ...week('2025-03-24', '2025-03-30', 'google', 'g')]);
      await run(rerun, new Date('2025-04-01T12:05:00Z'), '2025-03-31', false);

      const due = async (at: Date) => {
        await setTenant(c, null);
        const rows = (await c.query('select tenant_id::text, due, as_of::text, data_arrived from ads_engine.tenants_due($1, true)', [at.toISOString()])).rows;
        return new Map(rows.map((x) => [x.tenant_id as string, { due: x.due as boolean, asOf: x.as_of as string, dataArrived: x.data_arrived as boolean }]));
      };
      let d = await due(early);
      expect(d.get(both)).toEqual({ due: false, asOf: '2025-03-31', dataArrived: false });
      expect(d.get(stopped)).toEqual({ due: true, asOf: '2025-03-31', dataArrived: true });
      // At noon the grace is over: it runs with meta's data alone (google's day is examined by the next run: the ledger).
      expect((await due(new Date('2025-04-01T12:00:00Z'))).get(both)).toEqual({ due: true, asOf: '2025-03-31', dataArrived: false });

      await setTenant(c, rerun);
      await load(c, rerun, week('2025-03-31', '2025-03-31', 'meta', 'm'));
      d = await due(new Date('2025-04-01T14:00:00Z'));
      expect(d.get(rerun)).toEqual({ due: true, asOf: '2025-03-31', dataArrived: false });

      // Google's yesterday arrives: ready before the grace.
      await setTenant(c, both);
      await load(c, both, week('2025-03-31', '2025-03-31', 'google', 'g'));
      expect((await due(early)).get(both)).toEqual({ due: true, asOf: '2025-03-31', dataArrived: true });
    });
  });
});
