// ads.detect_anomalies, second pass (docs/engine.md): each campaign and ad
// set judged on its own history. Conversions given spend, clicks given
// impressions (CTR) and given spend (CPC) are negative binomial with the
// entity's own dispersion; value given conversions is a compound sum of
// order values (log-normal on the log scale); spend is log-normal around its
// weekday-adjusted median. Two-sided p-values through a weighted
// Benjamini-Hochberg per tenant, platform and day at half the run's level.
// Every anomaly type here has a fixture planted for it on seeded noise
// (tests/engine/findings-data.ts); its p-value is recomputed in TypeScript
// from the rows (the model re-derived here, tails by summing probabilities or
// with a normal CDF of our own), and its values, score and severity follow.
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { errorOf, rollback, setTenant, tenantPair } from '../helpers/db';
import { configure, days, load, rollUp, series, type Row } from './findings-data';
import { nbMidP, Phi, qOf, sum, valueP } from './reference-stats';
import { AS_OF, addDays, isoDow, median } from './fixtures';

let app: pg.Pool;
let tenant: string;
let other: string;
beforeAll(async () => void ({ app, tenant, other } = await tenantPair('Anomalies')));

const D = AS_OF;
const H70 = addDays(D, -69);

// ---------------------------------------------------------------------------
// Independent statistics
// ---------------------------------------------------------------------------

// The tails (negative binomial, normal, log-normal) are in ./reference-stats.ts.

// ---------------------------------------------------------------------------
// The model of docs/engine.md, re-derived from the rows (one platform and level)
// ---------------------------------------------------------------------------

interface Model {
  n: number;
  k: number;
  c: number;
  v: number;
  /** conversions per weekday-adjusted spend, clicks per impression, clicks per spend, value per conversion */
  r: number;
  ctr: number;
  cps: number;
  aov: number;
  phiK: number;
  phiT: number;
  phiC: number;
  kappa2: number;
  sMed: number;
  sMad: number;
  /** weekday factor of conversions per spend, and of spend */
  f: (dow: number) => number;
  sf: (dow: number) => number;
  /** days of that weekday in the 8 weeks the spend profile comes from */
  sn: (dow: number) => number;
}

/**
 * For each entity judged on `day` (a row that day, or `missing`): weekday profiles from its active history
 * (conversions per spend over up to 83 days, shrunk with 10 pseudo-conversions; spend over 56 days, its own
 * with 4 or more of the weekday, else shrunk with 2 days), its 28 days before the day with the platform's rates worth 3 days, dispersions by moments
 * shrunk towards the platform's pooled value with 14 days, and the median and MAD of its weekday-adjusted
 * log spend.
 */
function model(rows: Row[], day: string, judged: string[]): Map<string, Model> {
  const hist = rows.filter((r) => judged.includes(r.id) && r.day < day && r.day >= addDays(day, -83) && (r.spend > 0 || r.impressions > 0));
  const pre = new Map<string, { sn: (d: number) => number; n84: number; kn84: number; kd84: number; n: number; s: number; i: number; c: number; k: number; v: number; a: number; sMed: number; h: (Row & { a: number; sAdj: number })[]; f: (d: number) => number; sf: (d: number) => number }>();
  for (const id of judged) {
    const h = hist.filter((r) => r.id === id);
    const K = sum(h.map((r) => r.conversions));
    const S = sum(h.map((r) => r.spend));
    const f = (dow: number): number => {
      const d = h.filter((r) => isoDow(r.day) === dow);
      return d.length && S > 0 ? (sum(d.map((r) => r.conversions)) + 10) / ((sum(d.map((r) => r.spend)) * K) / S + 10) : 1;
    };
    const h56 = h.filter((r) => r.day >= addDays(day, -56));
    const sall = sum(h56.map((r) => r.spend)) / h56.length;
    const sf = (dow: number): number => {
      const d = h56.filter((r) => isoDow(r.day) === dow);
      if (!d.length) return 1;
      const own = sum(d.map((r) => r.spend)) / d.length / sall;
      return d.length >= 4 ? own : (d.length * own + 2) / (d.length + 2);
    };
    const sn = (dow: number): number => h56.filter((r) => isoDow(r.day) === dow).length;
    const h28 = h.filter((r) => r.day >= addDays(day, -28)).map((r) => ({ ...r, a: r.spend * f(isoDow(r.day)), sAdj: r.spend / (sf(isoDow(r.day)) || 1) }));
    if (!h28.length) continue;
    // conversions' dispersion: moments over all 12 weeks, against their own (weekday-adjusted) rate
    const a84 = h.map((r) => r.spend * f(isoDow(r.day)));
    const r84 = K / sum(a84);
    const kn84 = sum(h.map((r, j) => (r.conversions - a84[j]! * r84) ** 2 - a84[j]! * r84));
    const kd84 = sum(a84.map((a) => (a * r84) ** 2));
    pre.set(id, { n84: h.length, kn84, kd84,
      n: h28.length, s: sum(h28.map((r) => r.spend)), i: sum(h28.map((r) => r.impressions)), c: sum(h28.map((r) => r.clicks)),
      k: sum(h28.map((r) => r.conversions)), v: sum(h28.map((r) => r.value)), a: sum(h28.map((r) => r.a)),
      sMed: median(h28.map((r) => r.sAdj)), h: h28, f, sf, sn,
    });
  }
  const all = [...pre.values()];
  const pr = sum(all.map((e) => e.k)) / sum(all.map((e) => e.a));
  const pctr = sum(all.map((e) => e.c)) / sum(all.map((e) => e.i));
  const pcps = sum(all.map((e) => e.c)) / sum(all.map((e) => e.s));
  const paov = sum(all.map((e) => e.v)) / sum(all.map((e) => e.k));
  const res = new Map<string, { kn: number; kd: number; tn: number; td: number; cn: number; cd: number; vn: number; vd: number; r: number; ctr: number; cps: number; aov: number; mad: number }>();
  for (const [id, e] of pre) {
    const r = (e.k + (3 * pr * e.a) / e.n) / (e.a + (3 * e.a) / e.n);
    const ctr = (e.c + (3 * pctr * e.i) / e.n) / (e.i + (3 * e.i) / e.n);
    const cps = (e.c + (3 * pcps * e.s) / e.n) / (e.s + (3 * e.s) / e.n);
    const aov = e.k > 0 ? e.v / e.k : paov;
    const x = { kn: 0, kd: 0, tn: 0, td: 0, cn: 0, cd: 0, vn: 0, vd: 0, r, ctr, cps, aov, mad: 0 };
    x.kn = e.kn84;
    x.kd = e.kd84;
    for (const h of e.h) {
      x.tn += (h.clicks - h.impressions * ctr) ** 2 - h.impressions * ctr;
      x.td += (h.impressions * ctr) ** 2;
      x.cn += (h.clicks - h.spend * cps) ** 2 - h.spend * cps;
      x.cd += (h.spend * cps) ** 2;
      if (h.conversions > 0) {
        x.vn += (h.value - h.conversions * aov) ** 2;
        x.vd += h.conversions * aov ** 2;
      }
    }
    x.mad = median(e.h.map((h) => Math.abs(Math.log(Math.max(h.sAdj, 0.01) / Math.max(e.sMed, 0.01)))));
    res.set(id, x);
  }
  const xs = [...res.values()];
  const pool = (n: (x: (typeof xs)[number]) => number, d: (x: (typeof xs)[number]) => number, floor: number) => Math.max(floor, sum(xs.map(n)) / sum(xs.map(d)));
  const pk = pool((x) => x.kn, (x) => x.kd, 0.02); // conversions: floor 0.02
  const pt = pool((x) => x.tn, (x) => x.td, 0.01);
  const pc = pool((x) => x.cn, (x) => x.cd, 0.01);
  const pv = pool((x) => x.vn, (x) => x.vd, 0.05);
  const shrink = (own: number, plat: number, n: number, lo: number, hi: number) =>
    Math.min(hi, Math.max(lo, (n * (Number.isFinite(own) ? own : plat) + 14 * plat) / (n + 14)));
  const out = new Map<string, Model>();
  for (const [id, e] of pre) {
    const x = res.get(id)!;
    if (e.n < 7) continue;
    out.set(id, {
      n: e.n, k: e.k, c: e.c, v: e.v, r: x.r, ctr: x.ctr, cps: x.cps, aov: x.aov,
      phiK: shrink(x.kn / x.kd, pk, e.n84, 0.02, 3), phiT: shrink(x.tn / x.td, pt, e.n, 0.01, 3), phiC: shrink(x.cn / x.cd, pc, e.n, 0.01, 3),
      kappa2: shrink(x.vn / x.vd, pv, e.n, 0.05, 9), sMed: e.sMed, sMad: x.mad, f: e.f, sf: e.sf, sn: e.sn,
    });
  }
  return out;
}

interface Expected {
  expected: number;
  observed: number;
  p: number;
  direction: 'lower' | 'upper';
}

/**
 * The day's tests of docs/engine.md for one entity and metric: two one-sided tests sharing the level, 0.8 of it
 * for bad news (fewer conversions, clicks or value), 0.2 for good news, 0.5 each way for spend: p = tail / share.
 */
function dayTest(m: Model, r: Row, metric: 'cpa' | 'roas' | 'ctr' | 'cpc' | 'spend'): Expected {
  const dow = isoDow(r.day);
  const two = (obs: number, mu: number, phi: number): Expected => {
    const direction = obs < mu ? 'lower' : 'upper';
    return { expected: mu, observed: obs, p: nbMidP(obs, mu, phi, direction) / (direction === 'lower' ? 0.8 : 0.2), direction };
  };
  switch (metric) {
    case 'cpa':
      return two(r.conversions, r.spend * m.r * m.f(dow), m.phiK * (1 + 1 / m.n) + 1 / (m.k + 1));
    case 'ctr':
      return two(r.clicks, r.impressions * m.ctr, m.phiT * (1 + 1 / m.n) + 1 / (m.c + 1));
    case 'cpc':
      return two(r.clicks, r.spend * m.cps, m.phiC * (1 + 1 / m.n) + 1 / (m.c + 1));
    case 'roas': {
      const e = r.conversions * m.aov;
      const v = r.conversions * m.aov ** 2 * m.kappa2 * (1 + r.conversions / m.k);
      const direction = r.value < e ? 'lower' : 'upper';
      return { expected: e, observed: r.value, p: valueP(r.value, e, v, 0, direction) / (direction === 'lower' ? 0.8 : 0.2), direction };
    }
    case 'spend': {
      const e = m.sMed * m.sf(dow);
      const sd = Math.max(1.4826 * m.sMad, 0.08) * Math.sqrt(1 + 1.57 / m.n + 1 / Math.max(m.sn(dow), 1));
      const direction = r.spend < e ? 'lower' : 'upper';
      return { expected: e, observed: r.spend, p: r.spend <= 0 ? 0 : 2 * (1 - Phi(Math.abs(Math.log(r.spend / e)) / sd)), direction };
    }
  }
}

/** The anomaly score: the p-value as a signed normal score. */
const scoreOf = (p: number, down: boolean): number => Math.round((down ? -1 : 1) * (p <= 0 ? 40 : Math.sqrt(-2 * Math.log(Math.min(p, 1) / 2 + 1e-300))) * 1e4) / 1e4;

/** Severity points: the strength of the evidence (1-3; 3 for a tracking loss) + the money against the tenant's daily spend (0-3), -2 when favourable. */
function severityOf(p: number, cut: number, money: number, daily: number, favourable: boolean, trackingLoss = false): string {
  const points = (trackingLoss || p <= cut / 100 ? 3 : p <= cut / 10 ? 2 : 1)
    + (money >= 0.2 * daily ? 3 : money >= 0.05 * daily ? 2 : money >= 0.01 * daily ? 1 : 0) - (favourable ? 2 : 0);
  return points >= 5 ? 'critical' : points === 4 ? 'high' : points >= 2 ? 'medium' : 'low';
}

/** The tenant's daily spend over campaign rows of the 28 days before the day. */
function dailySpend(rows: Row[], day: string): number {
  const h = rows.filter((r) => r.level === 'campaign' && r.day >= addDays(day, -28) && r.day < day);
  return sum(h.map((r) => r.spend)) / new Set(h.map((r) => r.day)).size;
}

function expectP(actual: unknown, expected: number, label: string): void {
  const a = Number(actual);
  expect(Math.abs(a - expected), `${label}: p ${a} vs ${expected}`).toBeLessThan(Math.max(1e-4 * expected, 5.1e-11));
}

// ---------------------------------------------------------------------------
// Reading back
// ---------------------------------------------------------------------------

interface Out {
  platform: string;
  level: string;
  entity_id: string;
  campaign_id: string;
  day: string;
  metric_name: string;
  anomaly_type: string;
  baseline_value: number;
  actual_value: number;
  deviation_percent: number;
  anomaly_score: number;
  money_at_stake: number;
  severity: string;
  details: Record<string, unknown> & { p_value: number; p_threshold: number };
}

async function found(c: pg.ClientBase): Promise<Out[]> {
  const r = await c.query(
    `select platform, level::text, entity_id, campaign_id, day::text, metric_name, anomaly_type, baseline_value::float8, actual_value::float8,
            deviation_percent::float8, anomaly_score::float8, money_at_stake::float8, severity::text, details
     from ads.anomalies order by platform, entity_id, metric_name, day`,
  );
  return r.rows as Out[];
}

const keys = (a: Out[]): string[] => a.map((x) => `${x.entity_id}:${x.metric_name}:${x.anomaly_type}`);

const detectDay = async (c: pg.ClientBase, day = D) => (await c.query('select ads_engine.detect_anomalies_day($1, $2::date) as n', [tenant, day])).rows[0].n as number;
const detect = async (c: pg.ClientBase, asOf = D) => (await c.query('select ads_engine.detect_anomalies($1, $2::date) as n', [tenant, asOf])).rows[0].n as number;

async function inTenant<T>(fn: (c: pg.PoolClient) => Promise<T>, id = tenant): Promise<T> {
  return rollback(app, async (c) => {
    c.on('notice', () => undefined);
    await setTenant(c, id);
    return fn(c);
  });
}

/** The row as reported once (its first report the same figures). */
const settled = (r: Row): Row => ({ ...r, firstConversions: r.conversions, firstValue: r.value });

/** Rows with the day D changed for one entity. */
const onD = (rows: Row[], id: string, fn: (r: Row) => Partial<Row>, day = D): Row[] => rows.map((r) => (r.id === id && r.day === day ? settled({ ...r, ...fn(r) }) : r));

const r2 = (x: number): number => Math.round(x * 100) / 100;

// ---------------------------------------------------------------------------
// The day's anomalies
// ---------------------------------------------------------------------------

type Metric = 'cpa' | 'roas' | 'ctr' | 'cpc' | 'spend';

/** Stored baseline and actual of a metric: CPA and CPC as cost per event, ROAS and CTR as ratios, spend as money. */
function values(m: Model, r: Row, metric: Metric, t: Expected): { baseline: number; actual: number; money: number } {
  switch (metric) {
    case 'cpa':
      return { baseline: 1 / (m.r * m.f(isoDow(r.day))), actual: r.spend / r.conversions, money: r.spend * Math.abs(1 - t.observed / t.expected) };
    case 'cpc':
      return { baseline: 1 / m.cps, actual: r.spend / r.clicks, money: r.spend * Math.abs(1 - t.observed / t.expected) };
    case 'roas':
      return { baseline: t.expected / r.spend, actual: r.value / r.spend, money: Math.abs(t.observed - t.expected) };
    case 'ctr':
      return { baseline: m.ctr, actual: r.clicks / r.impressions, money: (Math.abs(t.observed - t.expected) * r.spend) / r.clicks };
    case 'spend':
      return { baseline: t.expected, actual: r.spend, money: Math.abs(t.observed - t.expected) };
  }
}

describe('spikes and drops of the day', () => {
  // meta, 70 days. s1, s2: 500/day at CPA 20 (25 conversions a day). Planted on D (a Monday):
  //  CS: 1000/day, a tenth of its conversions (CPA x 10: spike).   CD: 1000/day, 2.5x its conversions (CPA drop, favourable).
  //  RD: 1000/day, its orders worth 0.3x (ROAS drop).                RS: orders worth 3x (ROAS spike, favourable).
  //  CT: 400/day, shown 2.5x as often for the same clicks (CTR drop). CP: 400/day, 0.4x the clicks and impressions (CPC spike).
  //  SP: 300/day, 3x the spend (spend spike; conversions and clicks follow). SD: 600/day, 0.3x (spend drop).
  const seed = 'ano-day';
  const base = { from: H70, to: D, cpa: 20 };
  let rows: Row[] = [
    ...series({ seed, id: 's1', ...base, spend: 500 }),
    ...series({ seed, id: 's2', ...base, spend: 500 }),
    ...['CS', 'CD', 'RD', 'RS'].flatMap((id) => series({ seed, id, ...base, spend: 1000 })),
    ...['CT', 'CP'].flatMap((id) => series({ seed, id, ...base, spend: 400, cpc: 0.5 })),
    ...series({ seed, id: 'SP', ...base, spend: (day) => (day === D ? 900 : 300) }),
    ...series({ seed, id: 'SD', ...base, spend: (day) => (day === D ? 180 : 600) }),
  ];
  rows = onD(rows, 'CS', (r) => ({ conversions: Math.round(r.conversions / 10), value: r2(r.value / 10) }));
  rows = onD(rows, 'CD', (r) => ({ conversions: Math.round(r.conversions * 2.5), value: r2(r.value * 2.5) }));
  rows = onD(rows, 'RD', (r) => ({ value: r2(r.value * 0.3) }));
  rows = onD(rows, 'RS', (r) => ({ value: r2(r.value * 3) }));
  rows = onD(rows, 'CT', (r) => ({ impressions: Math.round(r.impressions * 2.5) }));
  rows = onD(rows, 'CP', (r) => ({ impressions: Math.round(r.impressions * 0.4), clicks: Math.round(r.clicks * 0.4) }));
  const PLANTED: [string, Metric, string, boolean][] = [
    ['CD', 'cpa', 'drop', true], ['CP', 'cpc', 'spike', false], ['CS', 'cpa', 'spike', false], ['CT', 'ctr', 'drop', false],
    ['RD', 'roas', 'drop', false], ['RS', 'roas', 'spike', true], ['SD', 'spend', 'drop', false], ['SP', 'spend', 'spike', false],
  ];

  it('finds each planted change on its own metric and nothing else; p-values, values, score and severity by hand', async () => {
    await inTenant(async (c) => {
      await load(c, tenant, rows);
      const n = await detectDay(c);
      const a = await found(c);
      expect(keys(a)).toEqual(PLANTED.map(([id, metric, type]) => `${id}:${metric}:${type}`));
      expect(n).toBe(PLANTED.length);
      const ids = [...new Set(rows.map((r) => r.id))];
      const mod = model(rows, D, ids);
      const daily = dailySpend(rows, D);
      for (const [id, metric, , favourable] of PLANTED) {
        const o = a.find((x) => x.entity_id === id)!;
        const m = mod.get(id)!;
        const r = rows.find((x) => x.id === id && x.day === D)!;
        const t = dayTest(m, r, metric);
        expectP(o.details.p_value, t.p, `${id} ${metric}`);
        expect(o.details.p_value).toBeLessThanOrEqual(o.details.p_threshold);
        const v = values(m, r, metric, t);
        expect(o.baseline_value, id).toBeCloseTo(v.baseline, 5);
        expect(o.actual_value, id).toBeCloseTo(v.actual, 5);
        expect(o.deviation_percent, id).toBeCloseTo(((v.actual - v.baseline) / v.baseline) * 100, 1);
        expect(o.money_at_stake, id).toBeCloseTo(v.money, 1);
        expect(o.anomaly_score, id).toBeCloseTo(scoreOf(t.p, v.actual < v.baseline), 3);
        expect(o.severity, id).toBe(severityOf(t.p, o.details.p_threshold, v.money, daily, favourable));
        expect(o.details).toMatchObject({ direction: t.direction, favourable, missing_row: false, history_days: 28, fdr_level: Math.round(qOf() * 1e5) / 1e5 });
        expect(Number(o.details.expected), id).toBeCloseTo(t.expected, 3);
        if (metric !== 'spend' && metric !== 'roas') {
          const phi = metric === 'cpa' ? m.phiK * (1 + 1 / m.n) + 1 / (m.k + 1) : (metric === 'ctr' ? m.phiT : m.phiC) * (1 + 1 / m.n) + 1 / (m.c + 1);
          expect(Number(o.details.phi), id).toBeCloseTo(phi, 4);
        }
        expect(o.details.observed_metric).toBe({ cpa: 'conversions', roas: 'conversion_value', ctr: 'clicks', cpc: 'clicks', spend: 'spend' }[metric]);
      }
    });
  });

  it('a second run adds nothing, even with the first ones dismissed; nothing where anomaly_detection_enabled is off', async () => {
    await inTenant(async (c) => {
      await load(c, tenant, rows);
      // the week ending D (the ledger is empty: D-6 .. D are examined); the planted ones are on D
      expect(await detect(c)).toBeGreaterThanOrEqual(PLANTED.length);
      const first = await found(c);
      expect(keys(first.filter((x) => x.day === D))).toEqual(PLANTED.map(([id, metric, type]) => `${id}:${metric}:${type}`));
      expect(await detect(c)).toBe(0);
      expect(await detectDay(c)).toBe(0);
      await c.query(`update ads.anomalies set status = 'dismissed'`);
      expect(await detectDay(c)).toBe(0);
      expect(await found(c)).toHaveLength(first.length);
    });
    await inTenant(async (c) => {
      await load(c, tenant, rows);
      await configure(c, tenant, 'meta', {});
      await c.query(`update ads.platform_configs set anomaly_detection_enabled = false`);
      expect(await detectDay(c)).toBe(0);
      expect(await detect(c)).toBe(0);
      expect(await found(c)).toEqual([]);
    });
  });
});

// ---------------------------------------------------------------------------
// Tracking, sustained shifts, missing rows, ad sets, platforms
// ---------------------------------------------------------------------------

describe('tracking loss, trend change, zero delivery, an ad set explaining its campaign, a platform incident', () => {
  // google: TL 600/day at CPA 20 (~30 conversions due): none on D.  TV: 600/day: its ~30 conversions on D carry no value.
  //         LM: 300/day, delivered every day, no row at all on D while google reports.  g1, g2: 400/day, steady.
  // linkedin: LT: 500/day at CPA 20 (25 a day), then 0.6x the conversions over the last 10 days.  l1, l2: steady.
  // tiktok: t1..t4, 400/day each at CPA 20: all four get no conversion on D (one platform incident, ~80 due).
  // meta: campaign X reported as its three ad sets (and their sum): A1 1200/day, A2 and A3 200/day; on D A1 gets a
  //       twentieth of its conversions: the campaign's CPA spike is A1's.
  const seed = 'ano-more';
  const base = { from: H70, to: D, cpa: 20 };
  let rows: Row[] = [
    ...series({ seed, id: 'TL', platform: 'google', ...base, spend: 600 }),
    ...series({ seed, id: 'TV', platform: 'google', ...base, spend: 600 }),
    ...series({ seed, id: 'LM', platform: 'google', ...base, spend: 300 }).filter((r) => r.day < D),
    ...['g1', 'g2'].flatMap((id) => series({ seed, id, platform: 'google', ...base, spend: 400 })),
    ...series({ seed, id: 'LT', platform: 'linkedin', ...base, spend: 500 }).map((r) => (r.day > addDays(D, -10) ? settled({ ...r, conversions: Math.round(r.conversions * 0.6), value: r2(r.value * 0.6) }) : r)),
    ...['l1', 'l2'].flatMap((id) => series({ seed, id, platform: 'linkedin', ...base, spend: 500 })),
    ...['t1', 't2', 't3', 't4'].flatMap((id) => series({ seed, id, platform: 'tiktok', ...base, spend: 400 })).map((r) => (r.day === D ? settled({ ...r, conversions: 0, value: 0 }) : r)),
  ];
  rows = onD(rows, 'TL', () => ({ conversions: 0, value: 0 }));
  rows = onD(rows, 'TV', () => ({ value: 0 }));
  const adsets = onD(
    [['A1', 1200], ['A2', 200], ['A3', 200]].flatMap(([id, spend]) => series({ seed, id: id as string, level: 'adset', campaign: 'X', ...base, spend: spend as number })),
    'A1',
    (r) => ({ conversions: Math.round(r.conversions / 20), value: r2(r.value / 20) }),
  );
  rows = [...rows, ...adsets, ...rollUp(adsets)];

  it('each as its own row, p-values by hand', async () => {
    await inTenant(async (c) => {
      await load(c, tenant, rows);
      await detectDay(c);
      const a = await found(c);
      expect(keys(a).filter((k) => k !== 'TL:cpa:trend_change')).toEqual([
        'LM:spend:drop', 'TL:conversions:tracking_loss', 'TV:roas:tracking_loss',
        'LT:cpa:trend_change',
        'A1:cpa:spike',
        'platform:tiktok:conversions:tracking_loss',
      ]);
      const daily = dailySpend(rows, D);
      const by = (id: string) => a.find((x) => x.entity_id === id)!;
      const google = model(rows.filter((r) => r.platform === 'google'), D, ['TL', 'TV', 'LM', 'g1', 'g2']);

      // TL: 0 conversions where s x r x f(Monday) were due: two-sided p = 2 x P(0) / 2 = P(0) under the NB.
      const tl = by('TL');
      const rTL = rows.find((r) => r.id === 'TL' && r.day === D)!;
      const tTL = dayTest(google.get('TL')!, rTL, 'cpa');
      expectP(tl.details.p_value, tTL.p, 'TL');
      expect(tl).toMatchObject({ actual_value: null, money_at_stake: r2(rTL.spend) });
      expect(tl.details).toMatchObject({ observed_metric: 'conversions', direction: 'lower', observed: 0 });
      expect(tl.severity).toBe(severityOf(tTL.p, tl.details.p_threshold, rTL.spend, daily, false, true));

      // TV: ~30 conversions, value 0: the value test's p is 0 (no value is impossible for a compound sum of
      // positive orders): score -40, money the value expected (k x aov).
      const tv = by('TV');
      const rTV = rows.find((r) => r.id === 'TV' && r.day === D)!;
      const mTV = google.get('TV')!;
      expect(tv).toMatchObject({ actual_value: 0, anomaly_score: -40, severity: severityOf(0, 1, rTV.conversions * mTV.aov, daily, false, true) });
      expect(tv.money_at_stake).toBeCloseTo(rTV.conversions * mTV.aov, 1);
      expect(tv.baseline_value).toBeCloseTo((rTV.conversions * mTV.aov) / rTV.spend, 5);
      expect(tv.details).toMatchObject({ p_value: 0, observed_metric: 'conversion_value', exposure_metric: 'conversions' });

      // LM: no row on D but 7 of the 7 days before: judged as zero delivery; spend 0 has p 0; the money is the
      // spend expected (its weekday-adjusted median).
      const lm = by('LM');
      const mLM = google.get('LM')!;
      const eLM = mLM.sMed * mLM.sf(isoDow(D));
      expect(lm).toMatchObject({ actual_value: 0, deviation_percent: -100, anomaly_score: -40 });
      expect(lm.baseline_value).toBeCloseTo(eLM, 4);
      expect(lm.money_at_stake).toBeCloseTo(eLM, 1);
      expect(lm.details).toMatchObject({ missing_row: true, p_value: 0, observed_metric: 'spend' });

      // LT: the sustained shift. For windows of 7, 14, 21 days ending D: conversions of the window against the
      // 28 days before it (weekday-adjusted spend), NB with the pre-period's own phi (shrunk to the day's platform
      // phi, 14 days) and the pre-rate's uncertainty: phi_eff = (phi sum(a^2) r^2 + mu^2 (1/(k_p+1) + phi/n_p)) / mu^2.
      // The window of smallest p is kept; two-sided, x 3 windows (Bonferroni).
      const li = rows.filter((r) => r.platform === 'linkedin');
      const mLi = model(li, D, ['LT', 'l1', 'l2']);
      const lt = by('LT');
      const f = mLi.get('LT')!.f;
      const lrows = li.filter((r) => r.id === 'LT');
      const best = [7, 14, 21].map((w) => {
        const win = lrows.filter((r) => r.day > addDays(D, -w) && r.day <= D);
        const prev = lrows.filter((r) => r.day >= addDays(D, -w - 27) && r.day <= addDays(D, -w));
        const a = (r: Row) => r.spend * f(isoDow(r.day));
        const kW = sum(win.map((r) => r.conversions));
        const aW = sum(win.map(a));
        const a2W = sum(win.map((r) => a(r) ** 2));
        const kP = sum(prev.map((r) => r.conversions));
        const aP = sum(prev.map(a));
        const rP = kP / aP;
        const rn = sum(prev.map((r) => (r.conversions - a(r) * rP) ** 2 - a(r) * rP));
        const rd = sum(prev.map((r) => (a(r) * rP) ** 2));
        const platPhi = platformPhi(li, D, ['LT', 'l1', 'l2']);
        const phi = Math.min(3, Math.max(0.02, (prev.length * (rn / rd) + 14 * platPhi) / (prev.length + 14)));
        const mu = aW * rP;
        const phiEff = (phi * a2W * rP ** 2 + mu ** 2 * (1 / (kP + 1) + phi / prev.length)) / mu ** 2;
        const p1 = Math.min(nbMidP(kW, mu, phiEff, 'lower'), nbMidP(kW, mu, phiEff, 'upper'));
        return { w, kW, mu, phiEff, p1, ok: Math.abs(kW / mu - 1) >= 0.2 };
      }).filter((x) => x.ok).sort((x, y) => x.p1 - y.p1)[0]!;
      expectP(lt.details.p_value, Math.min(1, (3 * best.p1) / (best.kW < best.mu ? 0.8 : 0.2)), 'LT trend');
      expect(lt.details).toMatchObject({ window_days: best.w, start_day: addDays(D, -best.w + 1), test: 'nb_window', observed: best.kW });
      expect(Number(lt.details.expected)).toBeCloseTo(best.mu, 3);
      expect(Number(lt.details.phi)).toBeCloseTo(best.phiEff, 4);

      // A1 explains X: its CPA spike is raised with explains_campaign, the campaign's is not.
      const a1 = by('A1');
      expect(a1).toMatchObject({ level: 'adset', campaign_id: 'X' });
      expect(a1.details).toMatchObject({ explains_campaign: true });
      const mA = model(rows.filter((r) => r.platform === 'meta' && r.level === 'adset'), D, ['A1', 'A2', 'A3']);
      expectP(a1.details.p_value, dayTest(mA.get('A1')!, adsets.find((r) => r.id === 'A1' && r.day === D)!, 'cpa').p, 'A1');
      // the campaign's own test was a discovery too (else there would be nothing to explain)
      const mX = model(rows.filter((r) => r.platform === 'meta' && r.level === 'campaign'), D, ['X']);
      const tX = dayTest(mX.get('X')!, rows.find((r) => r.level === 'campaign' && r.id === 'X' && r.day === D)!, 'cpa');
      expect(tX.p).toBeLessThan(0.01);

      // tiktok: one incident row: the platform's conversions (0) against the sum of its campaigns' expectations,
      // NB with phi 0.01: p = P(0) / 2; no per-campaign conversion alarm.
      const inc = by('platform:tiktok');
      const tk = model(rows.filter((r) => r.platform === 'tiktok'), D, ['t1', 't2', 't3', 't4']);
      const due = sum(['t1', 't2', 't3', 't4'].map((id) => dayTest(tk.get(id)!, rows.find((r) => r.id === id && r.day === D)!, 'cpa').expected));
      expectP(inc.details.p_value, nbMidP(0, due, 0.01, 'lower'), 'tiktok incident');
      expect(inc.details).toMatchObject({ scope: 'platform', members: ['t1', 't2', 't3', 't4'], observed: 0 });
      expect(inc.baseline_value).toBeCloseTo(due, 1);
      expect(inc.money_at_stake).toBeCloseTo(sum(rows.filter((r) => r.platform === 'tiktok' && r.day === D).map((r) => r.spend)), 1);
      expect(inc.severity).toBe('critical');

      // TL's 7-day window (D-6 .. D) holds 175 conversions against ~245 due: -29 %, p ~ 1e-3, so a
      // trend_change starting D-6 is raised beside its tracking loss. But without D (0 where ~39 were due,
      // already the tracking_loss row) the six days hold 175 against ~206: -15 %, under the 20 % floor.
      // The "sustained shift" is the one-day outage counted twice; expected: no trend_change for TL.
      expect(keys(a), 'a one-day tracking loss is not also a sustained shift').not.toContain('TL:cpa:trend_change');

      // The score is "negative when the metric fell": TL's conversions fell to 0 (the platform row of the same
      // kind has -sqrt(-2 ln(p / 2)) < 0), but its actual value is a CPA of s / 0 = NULL, so "actual < baseline"
      // is NULL and the sign falls to +.
      expect(Math.abs(tl.anomaly_score)).toBeCloseTo(Math.abs(scoreOf(tTL.p, true)), 3);
      expect(inc.anomaly_score).toBeLessThan(0);
      expect(tl.anomaly_score, 'a tracking loss of conversions scores negative').toBeLessThan(0);
    });
  });
});

/** The platform's pooled conversion dispersion of the day: the moments of every judged entity's 12 weeks, pooled (floor 0.02). */
function platformPhi(rows: Row[], day: string, judged: string[]): number {
  const m = model(rows, day, judged);
  let kn = 0;
  let kd = 0;
  for (const id of judged) {
    const e = m.get(id)!;
    const h = rows.filter((r) => r.id === id && r.day < day && r.day >= addDays(day, -83) && (r.spend > 0 || r.impressions > 0));
    const a = h.map((r) => r.spend * e.f(isoDow(r.day)));
    const r84 = sum(h.map((r) => r.conversions)) / sum(a);
    h.forEach((r, j) => {
      const mu = a[j]! * r84;
      kn += (r.conversions - mu) ** 2 - mu;
      kd += mu * mu;
    });
  }
  return Math.max(0.02, kn / kd);
}

// ---------------------------------------------------------------------------
// The guide's signature, edge cases, tenancy, and staying quiet
// ---------------------------------------------------------------------------

describe('the run', () => {
  it("the guide signature checks the tenant's yesterday and refuses bad tenants; the other tenant sees none of it", async () => {
    const yesterday = await inTenant(async (c) => (await c.query('select ads_engine.tenant_yesterday($1)::text as d', [tenant])).rows[0].d as string);
    // One campaign losing its tracking on yesterday (whatever weekday it is), two steady ones.
    const seed = 'ano-guide';
    const from = addDays(yesterday, -59);
    const rows = onD([
      ...series({ seed, id: 'G', from, to: yesterday, spend: 800, cpa: 20 }),
      ...series({ seed, id: 'H1', from, to: yesterday, spend: 400, cpa: 20 }),
      ...series({ seed, id: 'H2', from, to: yesterday, spend: 400, cpa: 20 }),
    ], 'G', () => ({ conversions: 0, value: 0 }), yesterday);
    await inTenant(async (c) => {
      await load(c, tenant, rows);
      expect((await c.query(`select ads.detect_anomalies($1) as n`, [tenant])).rows[0].n).toBeGreaterThanOrEqual(1);
      const a = await found(c);
      // G: 0 conversions on yesterday where ~36 were due (p ~1e-9 under its own model, as on D in the test above).
      // At the time of writing the engine raises it when planted on yesterday - 1 but not on yesterday itself.
      expect(a.filter((x) => x.day === yesterday).map((x) => `${x.entity_id}:${x.metric_name}:${x.anomaly_type}`)).toContain('G:conversions:tracking_loss');
      expect((await c.query(`select ads.detect_anomalies(tenant_id => $1) as n`, [tenant])).rows[0].n).toBe(0);
      expect(await errorOf(c, `select ads.detect_anomalies(null)`)).toBe('tenant_id must not be NULL');
      expect(await errorOf(c, `select ads.detect_anomalies($1)`, [other])).toMatch(/does not match the current tenant setting/);
      expect(await errorOf(c, `select ads_engine.detect_anomalies($1, null)`, [tenant])).toBe('as_of (the last complete day) must not be NULL');
      // RLS: inside the other tenant's transaction none of it is visible
      await c.query(`select set_config('saas.tenant_id', $1, true)`, [other]);
      expect((await c.query(`select count(*)::int as n from ads.anomalies`)).rows[0].n).toBe(0);
      expect((await c.query(`select count(*)::int as n from ads.metrics_daily`)).rows[0].n).toBe(0);
      expect((await c.query(`select ads_engine.detect_anomalies_day($1, $2::date) as n`, [other, yesterday])).rows[0].n).toBe(0);
    });
  });

  it('edge cases: zero spend everywhere, a single day of data, NULL-heavy rows raise nothing and do not fail', async () => {
    await inTenant(async (c) => {
      await load(c, tenant, [
        ...series({ seed: 'ano-edge', id: 'Idle', from: H70, to: D, spend: 100, cpa: 20 }).map((r) => settled({ ...r, spend: 0, impressions: 0, clicks: 0, conversions: 0, value: 0 })),
        ...series({ seed: 'ano-edge', id: 'Once', from: D, to: D, spend: 1000, cpa: 20 }),
        // a week-old campaign: fewer than 7 days of history, no model yet
        ...series({ seed: 'ano-edge', id: 'New', from: addDays(D, -5), to: D, spend: (day) => (day === D ? 2000 : 100), cpa: 20 }),
      ]);
      await c.query(
        `insert into ads.metrics_daily (tenant_id, platform, level, platform_id, day, spend, impressions, clicks, conversions, conversion_value)
         select $1, 'google', 'campaign', 'Nul', d::date, 0, 0, 0, 0, 0 from generate_series($2::date - 40, $2::date, interval '1 day') d`,
        [tenant, D],
      );
      await c.query(`update ads.metrics_daily set entity_name = null, campaign_name = null where platform_id = 'Nul'`);
      expect(await detect(c)).toBe(0);
      expect(await detectDay(c, addDays(D, -100))).toBe(0);
      expect(await found(c)).toEqual([]);
    });
  });
});

describe('staying quiet on noisy steady accounts', () => {
  it('seven steady campaigns on two platforms, 70 days of seeded noise, judged on 7 days: nothing', async () => {
    // Conversions Poisson with a Gamma rate (CV 0.18), orders log-normal (CV 0.8), spend CV 0.08, clicks with
    // a 10 % spread; one with a real weekday pattern of spend and conversions (learnt, not an anomaly).
    const seed = 'ano-quiet';
    const rows = [
      ...series({ seed, id: 'q1', from: H70, to: D, spend: 300, cpa: 20 }),
      ...series({ seed, id: 'q2', from: H70, to: D, spend: 800, cpa: 25, cpc: 0.8 }),
      ...series({ seed, id: 'q3', from: H70, to: D, spend: 120, cpa: 15 }),
      ...series({ seed, id: 'q4', from: H70, to: D, spend: 500, cpa: 18, spendWeekday: (dow) => (dow >= 6 ? 0.6 : 1.15), convWeekday: (dow) => (dow >= 6 ? 0.7 : 1.1) }),
      ...series({ seed, id: 'r1', platform: 'google', from: H70, to: D, spend: 400, cpa: 30 }),
      ...series({ seed, id: 'r2', platform: 'google', from: H70, to: D, spend: 200, cpa: 22, aov: 90 }),
      ...series({ seed, id: 'r3', platform: 'google', from: H70, to: D, spend: 1000, cpa: 40, cpc: 1.2 }),
    ];
    await inTenant(async (c) => {
      await load(c, tenant, rows);
      for (const d of days(addDays(D, -6), D)) await detectDay(c, d);
      // With these draws r3 (1000/day at CPA 40) has 45 conversions on D-3 where 24.4 were due. Its 28 days
      // estimate phi at 0.0108 by moments, a 1-sigma low draw of the true 0.18^2 = 0.0324 (28 days cannot tell
      // them apart): at that estimate the two-sided p would be 0.00135, enough to raise a false alarm. The
      // engine's floor of 0.02 for conversions keeps it quiet; at the true dispersion p is ~0.008.
      const m = model(rows.filter((r) => r.platform === 'google'), addDays(D, -3), ['r1', 'r2', 'r3']);
      const r3 = rows.find((r) => r.id === 'r3' && r.day === addDays(D, -3))!;
      const t3 = dayTest(m.get('r3')!, r3, 'cpa');
      const truePhi = 0.0324 * (1 + 1 / 28) + 1 / (m.get('r3')!.k + 1);
      expect(2 * nbMidP(r3.conversions, t3.expected, truePhi, 'upper')).toBeGreaterThan(0.005);
      expect(m.get('r3')!.phiK).toBeGreaterThanOrEqual(0.02);
      expect(keys(await found(c)), 'steady noisy campaigns: nothing').toEqual([]);
    });
  });
});
