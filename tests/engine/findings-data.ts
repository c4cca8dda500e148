// Builders for the engine findings (tests/engine/findings.test.ts): noisy
// series shaped like real accounts, loads with the time they arrived, tenant
// configuration, and the engine's calls and read-backs.
//
// Noise: a day's conversions are Poisson with a Gamma-distributed rate (CV
// 0.15-0.2: negative binomial, phi = CV^2); a day's value is the sum of its
// orders, each log-normal with CV 0.8; spend is log-normal around its median
// (capped by a budget when one is given); clicks Poisson around spend / CPC
// with a 10 % spread in rate. Every stream is seeded by the fixture's name and
// the entity's id (db/seed/random.ts), so a fixture is the same on every run.
import type pg from 'pg';
import { hash32, Rng } from '../../db/seed/random';
import { addDays, isoDow } from './fixtures';

// ---------------------------------------------------------------------------
// Samplers
// ---------------------------------------------------------------------------

export class Noise {
  private readonly rng: Rng;
  private spare: number | null = null;

  constructor(key: string) {
    this.rng = new Rng(hash32(`findings:${key}`));
  }

  uniform(): number {
    return this.rng.float();
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    const u = Math.max(this.rng.float(), 1e-12);
    const v = this.rng.float();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Log-normal with the given mean and coefficient of variation. */
  logNormal(mean: number, cv: number): number {
    if (cv <= 0) return mean;
    const s2 = Math.log(1 + cv * cv);
    return Math.exp(Math.log(mean) - s2 / 2 + Math.sqrt(s2) * this.normal());
  }

  /** Gamma with mean 1 and the given CV (Marsaglia-Tsang; shape 1 / CV^2 >= 1 here). */
  gammaUnit(cv: number): number {
    if (cv <= 0) return 1;
    const shape = 1 / (cv * cv);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = Math.max(this.rng.float(), 1e-12);
      if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return (d * v) / shape;
    }
  }

  /** Poisson (Knuth's product method, in pieces of mean <= 30). */
  poisson(lambda: number): number {
    if (!(lambda > 0)) return 0;
    let n = 0;
    let rest = lambda;
    while (rest > 0) {
      const piece = Math.min(rest, 30);
      rest -= piece;
      const limit = Math.exp(-piece);
      let p = this.rng.float();
      while (p > limit) {
        n++;
        p *= this.rng.float();
      }
    }
    return n;
  }
}

// ---------------------------------------------------------------------------
// Series
// ---------------------------------------------------------------------------

export type Platform = 'meta' | 'google' | 'tiktok' | 'linkedin';
type PerDay<T> = T | ((day: string, i: number) => T);
const at = <T>(v: PerDay<T>, day: string, i: number): T => (typeof v === 'function' ? (v as (d: string, i: number) => T)(day, i) : v);

export interface EntitySpec {
  /** Seeds the noise together with the id: change it and the draws change. */
  seed: string;
  id: string;
  platform?: Platform;
  level?: 'campaign' | 'adset';
  /** Parent campaign of an ad set (a campaign row is its own). */
  campaign?: string;
  name?: string;
  from: string;
  to: string;
  /** Median daily spend (before the weekday factor); 0 or less: no row that day. */
  spend: PerDay<number>;
  spendCv?: number;
  /** Daily budget: spend is capped at it (platforms stop delivering there). */
  budget?: PerDay<number | null>;
  /** Spend factor per ISO weekday (default 1). */
  spendWeekday?: (dow: number) => number;
  /** True cost per conversion (conversions' mean = spend / cpa x conversion weekday factor); Infinity: none. */
  cpa: PerDay<number>;
  /** Conversion factor per ISO weekday (default 1). */
  convWeekday?: (dow: number) => number;
  /** CV of the day-to-day Gamma spread of the conversion rate (default 0.18). */
  rateCv?: number;
  /** Mean order value (default 60) and the CV of one order (default 0.8). */
  aov?: number;
  basketCv?: number;
  cpc?: number;
  ctr?: number;
  /** Share of a day's orders in its first report (age 1); default 1 (no lag). */
  firstShare?: number;
}

export interface Row {
  platform: Platform;
  level: 'campaign' | 'adset';
  id: string;
  campaign: string;
  name: string;
  day: string;
  spend: number;
  impressions: number;
  clicks: number;
  conversions: number;
  value: number;
  firstConversions: number;
  firstValue: number;
  /** When the row was first loaded; null: now() (a load arriving during the test). */
  firstLoadedAt: string | null;
  /** When it was last loaded; null: now(). */
  loadedAt: string | null;
}

/** A load time: `age` days after the day, at 06:00 UTC. */
export const loadTime = (day: string, age: number): string => `${addDays(day, age)}T06:00:00Z`;

/** Noisy daily rows of one entity from spec.from to spec.to (loaded the morning after; a lagged one restated a day later). */
export function series(spec: EntitySpec): Row[] {
  const noise = new Noise(`${spec.seed}:${spec.platform ?? 'meta'}:${spec.level ?? 'campaign'}:${spec.id}`);
  const out: Row[] = [];
  for (let day = spec.from, i = 0; day <= spec.to; day = addDays(day, 1), i++) {
    const median = at(spec.spend, day, i) * (spec.spendWeekday?.(isoDow(day)) ?? 1);
    // the draws happen on every day so that a change on one day does not reshuffle the others
    const spendDraw = noise.logNormal(Math.max(median, 1e-6), spec.spendCv ?? 0.08);
    const rateDraw = noise.gammaUnit(spec.rateCv ?? 0.18);
    const clickDraw = noise.gammaUnit(0.1);
    if (median <= 0) continue;
    const budget = spec.budget === undefined ? null : at(spec.budget, day, i);
    const spend = Math.round(Math.min(spendDraw, budget ?? Infinity) * 100) / 100;
    const cpa = at(spec.cpa, day, i);
    const mean = Number.isFinite(cpa) ? (spend / cpa) * (spec.convWeekday?.(isoDow(day)) ?? 1) * rateDraw : 0;
    const k = noise.poisson(mean);
    const aov = spec.aov ?? 60;
    let value = 0;
    let firstK = 0;
    let firstValue = 0;
    for (let j = 0; j < k; j++) {
      const order = noise.logNormal(aov, spec.basketCv ?? 0.8);
      value += order;
      if (noise.uniform() < (spec.firstShare ?? 1)) {
        firstK++;
        firstValue += order;
      }
    }
    const clicks = noise.poisson((spend / (spec.cpc ?? 0.5)) * clickDraw);
    const impressions = Math.round((clicks / (spec.ctr ?? 0.01)) * noise.logNormal(1, 0.05));
    const lagged = (spec.firstShare ?? 1) < 1;
    out.push({
      platform: spec.platform ?? 'meta',
      level: spec.level ?? 'campaign',
      id: spec.id,
      campaign: spec.campaign ?? spec.id,
      name: spec.name ?? `${spec.level === 'adset' ? 'Ad set' : 'Campaign'} ${spec.id}`,
      day,
      spend,
      impressions,
      clicks,
      conversions: k,
      value: Math.round(value * 100) / 100,
      firstConversions: firstK,
      firstValue: Math.round(firstValue * 100) / 100,
      firstLoadedAt: loadTime(day, 1),
      loadedAt: loadTime(day, lagged ? 2 : 1),
    });
  }
  return out;
}

/** The row as first reported (what a load on the morning after holds). */
export const asFirstReport = (r: Row): Row => ({ ...r, conversions: r.firstConversions, value: r.firstValue, loadedAt: r.firstLoadedAt });

/** An under-reported first load: each order kept with probability `share` (value in proportion), seeded by `key`. */
export function underReported(rows: Row[], share: number, key: string): Row[] {
  const noise = new Noise(`thin:${key}`);
  return rows.map((r) => {
    let k = 0;
    for (let j = 0; j < r.conversions; j++) if (noise.uniform() < share) k++;
    const value = r.conversions ? Math.round(((r.value * k) / r.conversions) * 100) / 100 : 0;
    return { ...r, conversions: k, value, firstConversions: k, firstValue: value };
  });
}

/** The row as a load arriving now (during the test). */
export const arrivingNow = (r: Row): Row => ({ ...r, firstLoadedAt: null, loadedAt: null });

/** Campaign rows as the sum of their ad sets' rows (what a platform reports at both levels). */
export function rollUp(adsets: Row[]): Row[] {
  const by = new Map<string, Row>();
  for (const r of adsets) {
    const key = `${r.platform}|${r.campaign}|${r.day}`;
    const c = by.get(key);
    if (!c) {
      by.set(key, { ...r, level: 'campaign', id: r.campaign, name: `Campaign ${r.campaign}` });
      continue;
    }
    c.spend = Math.round((c.spend + r.spend) * 100) / 100;
    c.impressions += r.impressions;
    c.clicks += r.clicks;
    c.conversions += r.conversions;
    c.value = Math.round((c.value + r.value) * 100) / 100;
    c.firstConversions += r.firstConversions;
    c.firstValue = Math.round((c.firstValue + r.firstValue) * 100) / 100;
  }
  return [...by.values()];
}

// ---------------------------------------------------------------------------
// Loads
// ---------------------------------------------------------------------------

/**
 * Loads rows as a connector does: an upsert on the primary key. A new row
 * keeps its stated first report and load times (null: now()); a row loaded
 * again is a restatement (the trigger keeps its first report, updated_at = now()).
 */
export async function load(c: pg.ClientBase, tenantId: string, rows: Row[]): Promise<void> {
  if (!rows.length) return;
  await c.query(
    `insert into ads.metrics_daily (tenant_id, platform, level, platform_id, campaign_id, day, entity_name, campaign_name,
                                    spend, impressions, clicks, conversions, conversion_value,
                                    first_conversions, first_conversion_value, first_loaded_at, created_at, updated_at)
     select $1, p, l, id, cid, d::date, n, 'Campaign ' || cid, s, i, c, k, v, fk, fv,
            coalesce(fl::timestamptz, now()), coalesce(fl::timestamptz, now()), coalesce(ll::timestamptz, now())
     from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::numeric[], $9::bigint[], $10::bigint[],
                 $11::numeric[], $12::numeric[], $13::numeric[], $14::numeric[], $15::text[], $16::text[])
          as t(p, l, id, cid, d, n, s, i, c, k, v, fk, fv, fl, ll)
     on conflict (tenant_id, platform, level, platform_id, day) do update
       set spend = excluded.spend, impressions = excluded.impressions, clicks = excluded.clicks,
           conversions = excluded.conversions, conversion_value = excluded.conversion_value`,
    [
      tenantId,
      rows.map((r) => r.platform),
      rows.map((r) => r.level),
      rows.map((r) => r.id),
      rows.map((r) => r.campaign),
      rows.map((r) => r.day),
      rows.map((r) => r.name),
      rows.map((r) => r.spend),
      rows.map((r) => r.impressions),
      rows.map((r) => r.clicks),
      rows.map((r) => r.conversions),
      rows.map((r) => r.value),
      rows.map((r) => r.firstConversions),
      rows.map((r) => r.firstValue),
      rows.map((r) => r.firstLoadedAt),
      rows.map((r) => r.loadedAt),
    ],
  );
}

export interface PlatformConfig {
  max_cpa?: number;
  target_roas?: number;
  auto_pause_threshold?: number;
  min_spend_for_decision?: number;
  anomaly_sensitivity?: number;
  optimization_frequency?: 'hourly' | 'daily' | 'weekly' | 'manual';
  auto_apply_recommendations?: boolean;
}

export async function configure(c: pg.ClientBase, tenantId: string, platform: Platform, cfg: PlatformConfig): Promise<void> {
  const cols = Object.keys(cfg) as (keyof PlatformConfig)[];
  await c.query(
    `insert into ads.platform_configs (tenant_id, platform${cols.map((k) => `, ${k}`).join('')})
     values ($1, $2${cols.map((_, i) => `, $${i + 3}`).join('')})`,
    [tenantId, platform, ...cols.map((k) => cfg[k])],
  );
}

export async function setBudget(c: pg.ClientBase, tenantId: string, platform: Platform, campaign: string, dailyBudget: number): Promise<void> {
  await c.query(
    `insert into ads.budget_allocation (tenant_id, platform, campaign_id, campaign_name, daily_budget) values ($1, $2, $3, $4, $5)`,
    [tenantId, platform, campaign, `Campaign ${campaign}`, dailyBudget],
  );
}

export async function dailyBudget(c: pg.ClientBase, platform: Platform, campaign: string): Promise<number> {
  const r = await c.query(`select daily_budget::float8 as b from ads.budget_allocation where platform = $1 and campaign_id = $2`, [platform, campaign]);
  return r.rows[0].b as number;
}

// ---------------------------------------------------------------------------
// The engine and what it wrote
// ---------------------------------------------------------------------------

export const generate = async (c: pg.ClientBase, tenantId: string, asOf: string): Promise<number> =>
  (await c.query('select ads_engine.generate_recommendations($1, $2::date) as n', [tenantId, asOf])).rows[0].n as number;

export const detect = async (c: pg.ClientBase, tenantId: string, asOf: string): Promise<number> =>
  (await c.query('select ads_engine.detect_anomalies($1, $2::date) as n', [tenantId, asOf])).rows[0].n as number;

export const runLoop = async (c: pg.ClientBase, tenantId: string, asOf: string): Promise<Record<string, unknown>> =>
  (await c.query(`select ads_engine.run_daily_loop($1, $2::date, 'cli') as s`, [tenantId, asOf])).rows[0].s as Record<string, unknown>;

export interface Rec {
  id: string;
  platform: string;
  level: string;
  entity_id: string;
  campaign_id: string | null;
  recommendation_type: string;
  status: string;
  priority: string;
  confidence_score: number;
  description: string;
  evidence: Record<string, unknown>;
  withdrawn_at: string | null;
  withdrawal_reason: string | null;
}

export async function recommendations(c: pg.ClientBase): Promise<Rec[]> {
  const r = await c.query(
    `select id, platform, level::text, entity_id, campaign_id, recommendation_type, status, priority::text,
            confidence_score::float8, description, evidence, to_jsonb(o) -> 'withdrawn_at' as withdrawn_at,
            to_jsonb(o) ->> 'withdrawal_reason' as withdrawal_reason
     from ads.optimization_recommendations o order by created_at, entity_id, recommendation_type`,
  );
  return r.rows as Rec[];
}

export interface Anomaly {
  id: string;
  platform: string;
  level: string;
  entity_id: string;
  campaign_id: string | null;
  day: string;
  metric_name: string;
  anomaly_type: string;
  status: string;
  severity: string;
  resolution_note: string | null;
  details: Record<string, unknown>;
}

export async function anomalies(c: pg.ClientBase): Promise<Anomaly[]> {
  const r = await c.query(
    `select id, platform, level::text, entity_id, campaign_id, day::text, metric_name, anomaly_type, status, severity::text,
            resolution_note, details
     from ads.anomalies order by day, entity_id, metric_name`,
  );
  return r.rows as Anomaly[];
}

/** Days from `from` to `to`, inclusive. */
export function days(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) out.push(d);
  return out;
}

/** Sums of a set of rows (one entity's window). */
export function totals(rows: Row[]): { spend: number; conversions: number; value: number; clicks: number } {
  return rows.reduce(
    (t, r) => ({ spend: t.spend + r.spend, conversions: t.conversions + r.conversions, value: t.value + r.value, clicks: t.clicks + r.clicks }),
    { spend: 0, conversions: 0, value: 0, clicks: 0 },
  );
}

/** The rows of entity `id` in the 7 days ending on `asOf`. */
export const week = (rows: Row[], id: string, asOf: string): Row[] => rows.filter((r) => r.id === id && r.day > addDays(asOf, -7) && r.day <= asOf);

/** P(X <= k) for X Poisson(lambda): a lower bound of the negative binomial's tail at the same mean (used in the fixtures' self-checks). */
export function poissonCdf(k: number, lambda: number): number {
  let term = Math.exp(-lambda);
  let sum = term;
  for (let j = 1; j <= k; j++) {
    term *= lambda / j;
    sum += term;
  }
  return Math.min(1, sum);
}
