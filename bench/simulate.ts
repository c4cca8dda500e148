// The false-alarm and power harness of the engine's second pass
// (docs/engine.md), shared by `npm run bench:false-alarms` (bench/false-alarms.ts)
// and the CI test (tests/engine/false-alarms.test.ts):
//
//   1. simulate(): a deterministic simulator of realistically noisy accounts
//      (campaigns made of ad sets on meta, google and linkedin) and of the
//      situations planted on some of them, for two tenants from one seed:
//      "steady" (nothing planted: every alarm is false) and "planted";
//   2. setUpTenant() / runWindow(): load a tenant's targets and history, then
//      day by day load that day's rows and run the daily loop with that day
//      as as_of, recording what each run raised;
//   3. summarise() / formatReport(): false-alarm rates on the steady tenant,
//      power per planted situation, and the loop time.
//
// Plain pg, no test runner imported. Noise draws are keyed by entity and day
// (Rng seeded from hash32), so a plant changes only the days it covers and
// the steady and planted tenants share every other number.
import type pg from 'pg';
import { hash32, Rng } from '../db/seed/random';

// ---------------------------------------------------------------------------
// Configuration and truth
// ---------------------------------------------------------------------------
export interface SimConfig {
  seed: number;
  campaigns: number;
  /** Days of data in all; the loop runs on the last asOfDays of them. */
  days: number;
  asOfDays: number;
  /** Date of the last day (ISO). */
  lastDay: string;
  /** Entities per planted situation (the platform incident takes every campaign of its platform). */
  perSituation: number;
}

export const BENCH_CONFIG: SimConfig = { seed: 0x0fa1_5e01, campaigns: 200, days: 63, asOfDays: 21, lastDay: '2026-09-29', perSituation: 5 };

export type PlatformName = 'meta' | 'google' | 'linkedin';
export interface PlatformTruth {
  platform: PlatformName;
  cpm: number;
  ctr: number;
  cvr: number;
  aov: number;
  /** B2B: flat spend all week, no conversions on Saturday and Sunday. */
  b2b: boolean;
}
// True CPA = cpm / 1000 / (ctr x cvr); true ROAS = aov / CPA.
export const PLATFORMS: readonly PlatformTruth[] = [
  { platform: 'meta', cpm: 12, ctr: 0.015, cvr: 0.04, aov: 60, b2b: false }, // CPA 20, ROAS 3
  { platform: 'google', cpm: 30, ctr: 0.03, cvr: 0.04, aov: 100, b2b: false }, // CPA 25, ROAS 4
  { platform: 'linkedin', cpm: 45, ctr: 0.009, cvr: 0.05, aov: 350, b2b: true }, // CPA 100, ROAS 3.5
];
export const trueCpa = (p: PlatformTruth): number => p.cpm / 1000 / (p.ctr * p.cvr);
export const trueRoas = (p: PlatformTruth): number => p.aov / trueCpa(p);

/** Noise of the model (coefficients of variation). */
export const NOISE = {
  spend: [0.05, 0.08] as const, // day-to-day spend noise of an ad set, drawn per ad set in this range
  cpm: 0.05, // day-to-day CPM (impressions over-dispersed around spend / CPM)
  ctr: 0.06, // day-to-day CTR
  conversionRate: 0.18, // day-to-day conversion rate (Gamma): negative-binomial conversions
  orderValue: 0.8, // one order's value (log-normal)
  adsetRateSpread: 0.2, // each ad set's true rate: +-20 % around its campaign's
  aovSpread: 0.15, // each campaign's order value: +-15 % around its platform's
};
export const AUTO_PAUSE_THRESHOLD = 2;

export type Situation =
  | 'cpa_doubled_7d'
  | 'conversions_down_third_21d'
  | 'spend_3x_one_day'
  | 'tracking_loss_5d'
  | 'adset_zero_conversions_7d'
  | 'platform_incident'
  | 'cpa_1_5x_max_no_pause'
  | 'capped_winner_roas_1_6x';

/** What a campaign is for: an ordinary one, or the host of a situation. */
type Role = 'ordinary' | Exclude<Situation, 'platform_incident'>;

export interface AdsetSpec { id: string; name: string; level: number; rateFactor: number; spendCv: number }
export interface CampaignSpec {
  id: string;
  name: string;
  platform: PlatformName;
  role: Role;
  capped: boolean;
  adsets: AdsetSpec[];
  /** Nominal spend a day (the sum of the ad sets' levels). */
  level: number;
  dailyBudget: number;
  aov: number;
  /** Its true CPA and ROAS on the steady tenant (also its targets). */
  trueCpa: number;
  trueRoas: number;
}

export interface Plant {
  situation: Situation;
  /** 'detect': must be found; 'avoid': the listed alarm must not be raised (counted as a false pause). */
  kind: 'detect' | 'avoid';
  level: 'campaign' | 'adset';
  entity: string;
  campaign: string;
  platform: PlatformName;
  /** Day indices (0 = first day of data) the change covers. */
  first_day: number;
  last_day: number;
  /** As-of days on which a matching alarm counts. */
  window: [number, number];
  found_by: string;
}

export interface MetricRow {
  platform: PlatformName;
  level: 'campaign' | 'adset';
  id: string;
  name: string;
  campaignId: string;
  campaignName: string;
  day: number;
  spend: number;
  impressions: number;
  clicks: number;
  conversions: number;
  value: number;
}

export type TenantKind = 'steady' | 'planted';
export interface Simulation {
  config: SimConfig;
  campaigns: CampaignSpec[];
  plants: Plant[];
  /** rows[tenant][day]: both levels of every entity on that day. */
  rows: Record<TenantKind, MetricRow[][]>;
  firstAsOf: number;
  dayOf: (i: number) => string;
}

// ---------------------------------------------------------------------------
// Samplers on the project's Rng
// ---------------------------------------------------------------------------
class Sampler {
  constructor(private readonly rng: Rng) {}
  float(): number {
    return this.rng.float();
  }
  uniform(a: number, b: number): number {
    return this.rng.uniform(a, b);
  }
  normal(): number {
    const u = 1 - this.rng.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.rng.float());
  }
  /** Gamma with mean 1 and the given CV (Marsaglia-Tsang; shape >= 1 here). */
  gammaUnit(cv: number): number {
    const shape = 1 / (cv * cv);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      const x = this.normal();
      const v = (1 + c * x) ** 3;
      if (v <= 0) continue;
      if (Math.log(1 - this.rng.float()) < 0.5 * x * x + d - d * v + d * Math.log(v)) return (d * v) / shape;
    }
  }
  /** Exact (Knuth) below 40, else normal with continuity. */
  poisson(lambda: number): number {
    if (!(lambda > 0)) return 0;
    if (lambda >= 40) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * this.normal()));
    const l = Math.exp(-lambda);
    let k = 0;
    for (let p = this.rng.float(); p > l; p *= this.rng.float()) k++;
    return k;
  }
  binomial(n: number, p: number): number {
    const m = n * p;
    if (m < 40) return Math.min(n, this.poisson(m));
    return Math.max(0, Math.min(n, Math.round(m + Math.sqrt(m * (1 - p)) * this.normal())));
  }
  /** Log-normal with the given mean and CV. */
  lognormal(mean: number, cv: number): number {
    const s2 = Math.log(1 + cv * cv);
    return Math.exp(Math.log(mean) - s2 / 2 + Math.sqrt(s2) * this.normal());
  }
}
const stream = (seed: number, key: string) => new Sampler(new Rng((hash32(key) ^ seed) >>> 0));
const round2 = (x: number) => Math.round(x * 100) / 100;

function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

// ---------------------------------------------------------------------------
// Accounts
// ---------------------------------------------------------------------------
/** Conversions a day the host of a situation is given on its steady copy (it needs volume for a sound test to see it). */
const ROLE_CONVERSIONS: Partial<Record<Role, [number, number]>> = {
  cpa_doubled_7d: [15, 30],
  conversions_down_third_21d: [14, 26],
  tracking_loss_5d: [5, 15],
  cpa_1_5x_max_no_pause: [9, 20],
  capped_winner_roas_1_6x: [28, 42],
};
/** Which platform hosts which situation: google has the incident in the last 4 days, so only plants over by then go there. */
const ROLE_PLATFORM: Record<Exclude<Role, 'ordinary'>, PlatformName> = {
  cpa_doubled_7d: 'meta',
  conversions_down_third_21d: 'meta',
  cpa_1_5x_max_no_pause: 'meta',
  capped_winner_roas_1_6x: 'meta',
  spend_3x_one_day: 'google',
  tracking_loss_5d: 'google',
  adset_zero_conversions_7d: 'google',
};
const INCIDENT_PLATFORM: PlatformName = 'google';
const ZERO_ADSET_SPEND = 150;

function truthOf(p: PlatformName): PlatformTruth {
  const t = PLATFORMS.find((x) => x.platform === p);
  if (!t) throw new Error(`no platform ${p}`);
  return t;
}

function campaignsOf(cfg: SimConfig): CampaignSpec[] {
  const platformOf = (n: number): PlatformName => (['meta', 'meta', 'google', 'google', 'linkedin'] as const)[n % 5]!;
  // Roles: the campaigns of each platform in a seeded order, the first ones hosting its situations.
  const roles = new Map<number, Role>();
  for (const p of ['meta', 'google'] as const) {
    const order = stream(cfg.seed, `roles-${p}`);
    const ids = Array.from({ length: cfg.campaigns }, (_, n) => n).filter((n) => platformOf(n) === p);
    for (let i = ids.length - 1; i > 0; i--) {
      const j = Math.floor(order.float() * (i + 1));
      [ids[i], ids[j]] = [ids[j]!, ids[i]!];
    }
    const hosted = (Object.keys(ROLE_PLATFORM) as Exclude<Role, 'ordinary'>[]).filter((r) => ROLE_PLATFORM[r] === p);
    if (ids.length < hosted.length * cfg.perSituation + 2) {
      throw new Error(`${cfg.campaigns} campaigns are too few for ${cfg.perSituation} per situation on ${p}`);
    }
    hosted.forEach((r, k) => ids.slice(k * cfg.perSituation, (k + 1) * cfg.perSituation).forEach((n) => roles.set(n, r)));
  }
  return Array.from({ length: cfg.campaigns }, (_, n): CampaignSpec => {
    const s = stream(cfg.seed, `campaign-${n}`);
    const platform = platformOf(n);
    const truth = truthOf(platform);
    const role = roles.get(n) ?? 'ordinary';
    const id = `${platform.slice(0, 2)}-c${String(n).padStart(3, '0')}`;
    const count = s.uniform(0, 1) < 0.5 ? 4 : s.uniform(0, 1) < 0.5 ? 3 : 5;
    const [lo, hi] = platform === 'linkedin' ? [30, 260] : [8, 250];
    const adsets: AdsetSpec[] = Array.from({ length: count }, (_, k) => ({
      id: `${id}-a${k + 1}`,
      name: `Ad set ${k + 1} of campaign ${n}`,
      level: Math.exp(s.uniform(Math.log(lo), Math.log(hi))),
      rateFactor: Math.exp(s.uniform(Math.log(1 - NOISE.adsetRateSpread), Math.log(1 + NOISE.adsetRateSpread))),
      spendCv: s.uniform(NOISE.spend[0], NOISE.spend[1]),
    }));
    // Hosts that need volume: scale the ad sets to the conversions a day asked for.
    const want = ROLE_CONVERSIONS[role];
    if (want) {
      const total = s.uniform(want[0], want[1]) * trueCpa(truth);
      const sum = adsets.reduce((a, x) => a + x.level, 0);
      for (const a of adsets) a.level *= total / sum;
    }
    if (role === 'adset_zero_conversions_7d') adsets[0]!.level = ZERO_ADSET_SPEND;
    // The campaign's true rate is its platform's: the ad sets' spread is normalised, spend-weighted.
    const weighted = adsets.reduce((a, x) => a + x.level * x.rateFactor, 0) / adsets.reduce((a, x) => a + x.level, 0);
    for (const a of adsets) a.rateFactor /= weighted;
    const level = adsets.reduce((a, x) => a + x.level, 0);
    const capped = role === 'capped_winner_roas_1_6x' || (role === 'ordinary' && n % 7 === 3);
    const aov = truth.aov * Math.exp(s.uniform(Math.log(1 - NOISE.aovSpread), Math.log(1 + NOISE.aovSpread)));
    return {
      id, name: `Campaign ${n} (${platform})`, platform, role, capped, adsets, level,
      dailyBudget: round2(capped ? level : level * s.uniform(1.5, 2)),
      aov, trueCpa: trueCpa(truth), trueRoas: aov / trueCpa(truth),
    };
  });
}

function plantsOf(cfg: SimConfig, campaigns: CampaignSpec[]): Plant[] {
  const L = cfg.days - 1;
  const F = cfg.days - cfg.asOfDays;
  const plants: Plant[] = [];
  const add = (c: CampaignSpec, situation: Situation, first: number, last: number, window: [number, number], foundBy: string,
    opts: { kind?: 'detect' | 'avoid'; level?: 'campaign' | 'adset'; entity?: string } = {}) => {
    plants.push({
      situation, kind: opts.kind ?? 'detect', level: opts.level ?? 'campaign', entity: opts.entity ?? c.id, campaign: c.id,
      platform: c.platform, first_day: first, last_day: last, window: [Math.max(F, window[0]), Math.min(L, window[1])], found_by: foundBy,
    });
  };
  const worse = 'budget_decrease or bid_adjustment on the campaign or an ad set of it, or an unfavourable conversions/cpa/roas/conversion_value anomaly there';
  for (const c of campaigns) {
    switch (c.role) {
      case 'cpa_doubled_7d': add(c, c.role, L - 6, L, [L - 6, L], worse); break;
      case 'conversions_down_third_21d': add(c, c.role, L - 20, L, [L - 20, L], worse); break;
      case 'spend_3x_one_day': add(c, c.role, L - 9, L - 9, [L - 9, L - 7], 'an upper spend anomaly of that day on the campaign or an ad set of it'); break;
      case 'tracking_loss_5d':
        add(c, c.role, L - 11, L - 7, [L - 11, L - 5], 'a lower conversions (or conversion_value) anomaly of one of those days on the campaign or an ad set of it');
        break;
      case 'adset_zero_conversions_7d':
        add(c, c.role, L - 13, L - 7, [L - 13, L - 5], 'on that ad set: a pause or bid_adjustment, or an unfavourable conversions/cpa/roas anomaly',
          { level: 'adset', entity: c.adsets[0]!.id });
        break;
      case 'cpa_1_5x_max_no_pause':
        add(c, c.role, 0, L, [F, L], 'a pause on the campaign or an ad set of it (a false pause: 1.5x max CPA is under the 2x threshold)', { kind: 'avoid' });
        break;
      case 'capped_winner_roas_1_6x': add(c, c.role, 0, L, [F, L], 'budget_increase on the campaign'); break;
      default: break;
    }
    if (c.platform === INCIDENT_PLATFORM) {
      add(c, 'platform_incident', L - 3, L, [L - 3, L],
        `one platform-wide row (entity_id platform:${INCIDENT_PLATFORM}, details.scope platform) of one of those days whose details.members include the campaign`);
    }
  }
  return plants;
}

// ---------------------------------------------------------------------------
// Rows
// ---------------------------------------------------------------------------
function weekday(day: string): number {
  return new Date(`${day}T00:00:00Z`).getUTCDay(); // 0 = Sunday
}

/** Both levels of one campaign on one day, for one tenant. */
function campaignDay(cfg: SimConfig, c: CampaignSpec, d: number, date: string, planted: boolean): MetricRow[] {
  const truth = truthOf(c.platform);
  const dow = weekday(date);
  const active = (s: Situation) => planted && plantActive(cfg, c, s, d);
  // Consumer platforms: spend peaks on Sunday (+-15 %), the same conversions per spend every weekday (the timing
  // rule's H0 holds); B2B: flat spend all week, conversions on weekdays only (there, a timing rule is right to fire).
  const spendRhythm = truth.b2b ? 1 : 1 + 0.15 * Math.cos((2 * Math.PI * dow) / 7);
  const convRhythm = truth.b2b ? (dow === 0 || dow === 6 ? 0 : 7 / 5) : 1;
  const wanted = c.adsets.map((a) => a.level * spendRhythm * stream(cfg.seed, `spend|${a.id}|${d}`).lognormal(1, a.spendCv));
  let spends = wanted;
  if (c.capped) {
    // Held by its budget: delivers 95-100 % of it every day, split in the ad sets' proportions.
    const total = c.dailyBudget * stream(cfg.seed, `cap|${c.id}|${d}`).uniform(0.95, 1);
    const sum = wanted.reduce((a, x) => a + x, 0);
    spends = wanted.map((x) => (x / sum) * total);
  }
  if (active('spend_3x_one_day')) spends = spends.map((x) => x * 3);
  let rateFactor = 1;
  if (active('cpa_doubled_7d')) rateFactor = 0.5;
  if (active('conversions_down_third_21d')) rateFactor = 2 / 3;
  if (active('cpa_1_5x_max_no_pause')) rateFactor = 1 / 1.5;
  if (active('capped_winner_roas_1_6x')) rateFactor = 1.6;
  const campaignZero = active('tracking_loss_5d') || active('platform_incident');
  const rows = c.adsets.map((a, k): MetricRow => {
    const s = stream(cfg.seed, `outcome|${a.id}|${d}`);
    const spend = round2(spends[k]!);
    const impressions = s.poisson((spend * 1000) / (truth.cpm * s.gammaUnit(NOISE.cpm)));
    const clicks = s.binomial(impressions, Math.min(1, truth.ctr * s.gammaUnit(NOISE.ctr)));
    const rate = truth.cvr * a.rateFactor * convRhythm * rateFactor * s.gammaUnit(NOISE.conversionRate);
    let conversions = s.poisson(clicks * rate);
    if (campaignZero || (k === 0 && active('adset_zero_conversions_7d'))) conversions = 0;
    let value = 0;
    for (let i = 0; i < conversions; i++) value += s.lognormal(c.aov, NOISE.orderValue);
    return {
      platform: c.platform, level: 'adset', id: a.id, name: a.name, campaignId: c.id, campaignName: c.name, day: d,
      spend, impressions, clicks, conversions, value: round2(value),
    };
  });
  const sum = (f: (r: MetricRow) => number) => rows.reduce((a, r) => a + f(r), 0);
  rows.unshift({
    platform: c.platform, level: 'campaign', id: c.id, name: c.name, campaignId: c.id, campaignName: c.name, day: d,
    spend: round2(sum((r) => r.spend)), impressions: sum((r) => r.impressions), clicks: sum((r) => r.clicks),
    conversions: sum((r) => r.conversions), value: round2(sum((r) => r.value)),
  });
  return rows;
}

function plantActive(cfg: SimConfig, c: CampaignSpec, s: Situation, d: number): boolean {
  const L = cfg.days - 1;
  switch (s) {
    case 'cpa_doubled_7d': return c.role === s && d >= L - 6;
    case 'conversions_down_third_21d': return c.role === s && d >= L - 20;
    case 'spend_3x_one_day': return c.role === s && d === L - 9;
    case 'tracking_loss_5d': return c.role === s && d >= L - 11 && d <= L - 7;
    case 'adset_zero_conversions_7d': return c.role === s && d >= L - 13 && d <= L - 7;
    case 'platform_incident': return c.platform === INCIDENT_PLATFORM && d >= L - 3;
    case 'cpa_1_5x_max_no_pause': return c.role === s;
    case 'capped_winner_roas_1_6x': return c.role === s;
  }
}

export function simulate(cfg: SimConfig): Simulation {
  // The 3-week plant needs 4 clean weeks before it (the engine's own history).
  if (cfg.days < 49 || cfg.asOfDays < 14 || cfg.asOfDays > cfg.days - 28) throw new Error('need days >= 49 and 14 <= asOfDays <= days - 28');
  const campaigns = campaignsOf(cfg);
  const plants = plantsOf(cfg, campaigns);
  const start = addDays(cfg.lastDay, -(cfg.days - 1));
  const dayOf = (i: number) => addDays(start, i);
  const rows: Record<TenantKind, MetricRow[][]> = { steady: [], planted: [] };
  for (let d = 0; d < cfg.days; d++) {
    const date = dayOf(d);
    rows.steady.push(campaigns.flatMap((c) => campaignDay(cfg, c, d, date, false)));
    rows.planted.push(campaigns.flatMap((c) => campaignDay(cfg, c, d, date, true)));
  }
  return { config: cfg, campaigns, plants, rows, firstAsOf: cfg.days - cfg.asOfDays, dayOf };
}

// ---------------------------------------------------------------------------
// Loading and running
// ---------------------------------------------------------------------------
async function inTenant<T>(c: pg.ClientBase, tenant: string, plannerDefaults: boolean, fn: () => Promise<T>): Promise<T> {
  await c.query('begin');
  try {
    await c.query(`select set_config('saas.tenant_id', $1, true)`, [tenant]);
    // See bench/README.md: on PostgreSQL 18 the planner picks nested loops whose cost grows with the square of the entities.
    if (!plannerDefaults) await c.query(`select set_config('enable_nestloop', 'off', true)`);
    const out = await fn();
    await c.query('commit');
    return out;
  } catch (err) {
    await c.query('rollback').catch(() => undefined);
    throw err;
  }
}

async function insertRows(c: pg.ClientBase, tenant: string, sim: Simulation, rows: MetricRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 5000) {
    const part = rows.slice(i, i + 5000);
    const col = <T>(f: (r: MetricRow) => T) => part.map(f);
    await c.query(
      `insert into ads.metrics_daily (tenant_id, platform, level, platform_id, day, entity_name, campaign_id, campaign_name,
                                      spend, impressions, clicks, conversions, conversion_value)
       select $1, p::ads.platform, l, id, d::date, n, ci, cn, s, i, k, v, w
       from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                   $9::numeric[], $10::bigint[], $11::bigint[], $12::numeric[], $13::numeric[]) as t(p, l, id, d, n, ci, cn, s, i, k, v, w)`,
      [tenant, col((r) => r.platform), col((r) => r.level), col((r) => r.id), col((r) => sim.dayOf(r.day)), col((r) => r.name),
        col((r) => r.campaignId), col((r) => r.campaignName), col((r) => r.spend), col((r) => r.impressions), col((r) => r.clicks),
        col((r) => r.conversions), col((r) => r.value)],
    );
  }
}

/** Targets (platform configs at the platforms' true CPA and ROAS, budgets at each campaign's) and the history before the first as-of day. */
export async function setUpTenant(c: pg.ClientBase, tenant: string, sim: Simulation, kind: TenantKind, plannerDefaults = false): Promise<void> {
  await inTenant(c, tenant, plannerDefaults, async () => {
    for (const p of PLATFORMS) {
      await c.query(
        `insert into ads.platform_configs (tenant_id, platform, max_cpa, target_roas, auto_pause_threshold) values ($1, $2, $3, $4, $5)`,
        [tenant, p.platform, round2(trueCpa(p)), Math.round(trueRoas(p) * 1e4) / 1e4, AUTO_PAUSE_THRESHOLD],
      );
    }
    const cs = sim.campaigns;
    await c.query(
      `insert into ads.budget_allocation (tenant_id, platform, campaign_id, campaign_name, daily_budget, target_roas, target_cpa)
       select $1, p::ads.platform, id, n, b, r, a from unnest($2::text[], $3::text[], $4::text[], $5::numeric[], $6::numeric[], $7::numeric[]) as t(p, id, n, b, r, a)`,
      [tenant, cs.map((x) => x.platform), cs.map((x) => x.id), cs.map((x) => x.name), cs.map((x) => x.dailyBudget),
        cs.map((x) => Math.round(x.trueRoas * 1e4) / 1e4), cs.map((x) => round2(x.trueCpa))],
    );
    await insertRows(c, tenant, sim, sim.rows[kind].slice(0, sim.firstAsOf).flat());
  });
  await c.query('analyze ads.metrics_daily');
}

export interface Alarm {
  tenant: TenantKind;
  /** Index of the as-of day of the run that raised it. */
  asOf: number;
  /** The anomaly's day (the run's day for a recommendation). */
  day: number;
  kind: 'anomaly' | 'rec';
  level: string;
  entity: string;
  /** Campaigns it is an alarm on: its own, its ad set's campaign, or a platform row's members. */
  campaigns: string[];
  platform: string;
  type: string;
  metric: string;
  direction: 'upper' | 'lower' | null;
  scope: 'entity' | 'platform';
}

export interface RunRecord {
  alarms: Alarm[];
  loopMs: number[];
  /** The floor of each loop, in the same transaction: one grouped read of the tenant's last 90 days. */
  floorMs: number[];
  /** Anomaly rows raised for days before the first as-of day (a catch-up of history): not counted in the rates. */
  rowsBeforeWindow: Record<TenantKind, number>;
}

const COST_METRICS = new Set(['cpa', 'cpc', 'cpm']);
const COUNT_METRICS = new Set(['conversions', 'clicks', 'impressions']);
/** Which way the anomaly's metric moved: from its type, else details.direction (which is about details.observed_metric), else actual vs baseline. */
function directionOf(metric: string, type: string, details: Record<string, unknown>, actual: number | null, baseline: number | null): 'upper' | 'lower' | null {
  if (type === 'spike') return 'upper';
  if (type === 'drop' || type === 'tracking_loss') return 'lower';
  const d = details.direction;
  if (d === 'upper' || d === 'lower') {
    const observed = typeof details.observed_metric === 'string' ? details.observed_metric : metric;
    // A cost tested through its count (CPA through conversions given spend) moves the other way.
    if (COST_METRICS.has(metric) && COUNT_METRICS.has(observed)) return d === 'upper' ? 'lower' : 'upper';
    return d;
  }
  if (actual !== null && baseline !== null && actual !== baseline) return actual > baseline ? 'upper' : 'lower';
  return null;
}

/** Day by day over the as-of window: load the day, expire pending recommendations, run the loop, record what it raised. */
export async function runWindow(
  c: pg.ClientBase, tenants: Record<TenantKind, string>, sim: Simulation,
  opts: { plannerDefaults?: boolean; onDay?: (kind: TenantKind, day: string, ms: number) => void } = {},
): Promise<RunRecord> {
  const adsetCampaign = new Map(sim.campaigns.flatMap((x) => x.adsets.map((a) => [a.id, x.id] as const)));
  const platformCampaigns = (p: string) => sim.campaigns.filter((x) => x.platform === p).map((x) => x.id);
  const dayIndex = new Map(Array.from({ length: sim.config.days }, (_, i) => [sim.dayOf(i), i] as const));
  const seen: Record<TenantKind, Set<string>> = { steady: new Set(), planted: new Set() };
  const out: RunRecord = { alarms: [], loopMs: [], floorMs: [], rowsBeforeWindow: { steady: 0, planted: 0 } };
  const campaignsOf = (level: string, entity: string, campaignId: string | null, details: Record<string, unknown>): string[] => {
    if (details.scope === 'platform' || entity.startsWith('platform:')) {
      const members = Array.isArray(details.members) ? details.members.map(String) : [];
      return members.length ? members : platformCampaigns(entity.replace(/^platform:/, ''));
    }
    if (level === 'campaign') return [entity];
    return [adsetCampaign.get(entity) ?? campaignId ?? entity];
  };
  for (let d = sim.firstAsOf; d < sim.config.days; d++) {
    for (const kind of ['steady', 'planted'] as const) {
      const t = tenants[kind];
      await inTenant(c, t, opts.plannerDefaults ?? false, async () => {
        await insertRows(c, t, sim, sim.rows[kind][d]!);
        await c.query(`update ads.optimization_recommendations set status = 'expired' where tenant_id = $1 and status = 'pending'`, [t]);
        const t0 = performance.now();
        await c.query(`select ads_engine.run_daily_loop($1, $2::date, 'cli')`, [t, sim.dayOf(d)]);
        const ms = performance.now() - t0;
        out.loopMs.push(ms);
        const f0 = performance.now();
        await c.query(
          `select platform, level, platform_id, count(*), sum(spend), sum(impressions), sum(clicks), sum(conversions), sum(conversion_value)
             from ads.metrics_daily where tenant_id = $1 and day between $2::date - 89 and $2::date group by platform, level, platform_id`,
          [t, sim.dayOf(d)]);
        out.floorMs.push(performance.now() - f0);
        opts.onDay?.(kind, sim.dayOf(d), ms);
        const recs = await c.query<{ level: string; entity: string | null; campaign: string | null; platform: string | null; type: string }>(
          `select level, entity_id as entity, campaign_id as campaign, platform, recommendation_type as type
             from ads.optimization_recommendations where tenant_id = $1 and status = 'pending'`, [t]);
        for (const r of recs.rows) {
          const entity = r.entity ?? '';
          out.alarms.push({
            tenant: kind, asOf: d, day: d, kind: 'rec', level: r.level, entity, campaigns: campaignsOf(r.level, entity, r.campaign, {}),
            platform: r.platform ?? '', type: r.type, metric: '', direction: null, scope: 'entity',
          });
        }
        const ans = await c.query<{ id: string; level: string; entity: string; campaign: string | null; platform: string; day: string;
          metric: string; type: string; details: Record<string, unknown> | null; actual: string | null; baseline: string | null }>(
          `select id::text, level, entity_id as entity, campaign_id as campaign, platform, day::text, metric_name as metric,
                  anomaly_type as type, details, actual_value::text as actual, baseline_value::text as baseline
             from ads.anomalies where tenant_id = $1`, [t]);
        for (const a of ans.rows) {
          if (seen[kind].has(a.id)) continue;
          seen[kind].add(a.id);
          const day = dayIndex.get(a.day) ?? -1;
          if (day < sim.firstAsOf) {
            out.rowsBeforeWindow[kind]++;
            continue;
          }
          const details = a.details ?? {};
          out.alarms.push({
            tenant: kind, asOf: d, day, kind: 'anomaly', level: a.level, entity: a.entity,
            campaigns: campaignsOf(a.level, a.entity, a.campaign, details), platform: a.platform, type: a.type, metric: a.metric,
            direction: directionOf(a.metric, a.type, details, a.actual === null ? null : Number(a.actual), a.baseline === null ? null : Number(a.baseline)),
            scope: details.scope === 'platform' || a.entity.startsWith('platform:') ? 'platform' : 'entity',
          });
        }
      });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Figures
// ---------------------------------------------------------------------------
const UNFAVOURABLE_LOWER = new Set(['conversions', 'roas', 'conversion_value', 'ctr', 'conversion_rate']);
const UNFAVOURABLE_UPPER = new Set(['cpa', 'cpc', 'cpm']);
export const unfavourable = (a: Alarm): boolean =>
  (a.direction === 'lower' && UNFAVOURABLE_LOWER.has(a.metric)) || (a.direction === 'upper' && UNFAVOURABLE_UPPER.has(a.metric));

/** Whether an alarm is the one a plant's situation asks for (on its entity, in its window). */
export function matches(p: Plant, a: Alarm): boolean {
  if (a.asOf < p.window[0] || a.asOf > p.window[1]) return false;
  const onCampaign = a.scope === 'entity' && a.campaigns.includes(p.campaign);
  switch (p.situation) {
    case 'cpa_doubled_7d':
    case 'conversions_down_third_21d':
      return onCampaign && ((a.kind === 'rec' && (a.type === 'budget_decrease' || a.type === 'bid_adjustment'))
        || (a.kind === 'anomaly' && unfavourable(a) && ['conversions', 'cpa', 'roas', 'conversion_value'].includes(a.metric)));
    case 'spend_3x_one_day':
      return onCampaign && a.kind === 'anomaly' && a.metric === 'spend' && a.direction === 'upper' && a.day === p.first_day;
    case 'tracking_loss_5d':
      return onCampaign && a.kind === 'anomaly' && (a.metric === 'conversions' || a.metric === 'conversion_value')
        && a.direction === 'lower' && a.day >= p.first_day && a.day <= p.last_day;
    case 'adset_zero_conversions_7d':
      return a.level === 'adset' && a.entity === p.entity && ((a.kind === 'rec' && (a.type === 'pause' || a.type === 'bid_adjustment'))
        || (a.kind === 'anomaly' && unfavourable(a) && ['conversions', 'cpa', 'roas', 'conversion_value'].includes(a.metric)));
    case 'platform_incident':
      return a.kind === 'anomaly' && a.scope === 'platform' && a.platform === p.platform && a.campaigns.includes(p.campaign)
        && a.day >= p.first_day && a.day <= p.last_day;
    case 'cpa_1_5x_max_no_pause':
      return onCampaign && a.kind === 'rec' && a.type === 'pause';
    case 'capped_winner_roas_1_6x':
      return onCampaign && a.level === 'campaign' && a.kind === 'rec' && a.type === 'budget_increase';
  }
}

export interface SituationFigures {
  situation: Situation;
  kind: 'detect' | 'avoid';
  level: string;
  planted_days: string;
  found_by: string;
  entities: number;
  /** detect: entities found; avoid: entities given the forbidden alarm. */
  found: number;
  found_pct: number;
  /** Per entity: first as-of day of a match minus the first planted (or first as-of) day; null when none. */
  days_to_detect: (number | null)[];
  median_days_to_detect: number | null;
  /** The same rule, the same entities and as-of days, on the steady tenant. */
  same_rule_steady_pct: number;
  /** platform_incident: rows raised on its campaigns by the planted tenant in the incident days (one platform row is the contract). */
  rows?: { platform_rows: number; campaign_or_adset_conversion_rows: number };
}

export interface Report {
  model: Record<string, unknown>;
  false_alarms: {
    campaigns: number;
    campaign_days: number;
    anomalies_per_100_campaign_days: number;
    anomaly_campaign_days_per_100: number;
    anomalies_unfavourable_per_100_campaign_days: number;
    anomalies_by_metric_type: Record<string, number>;
    anomalies_by_level: Record<string, number>;
    anomalies_by_platform: Record<string, number>;
    recommendations_per_100_campaigns_per_day: number;
    recommendations_by_type_level: Record<string, number>;
    recommendations_by_platform: Record<string, number>;
    campaigns_with_any_alarm_pct: number;
    campaigns_paused_or_cut_pct: number;
    campaigns_paused_pct: number;
    anomaly_rows_before_window: number;
    /** Not false alarms: timing on B2B campaigns, which truly convert nothing at weekends. */
    b2b_timing_per_100_b2b_campaigns_per_day: number;
    b2b_campaigns_with_timing_pct: number;
  };
  power: SituationFigures[];
  /** Pauses (entity-days) anywhere but the zero-conversion ad sets, by the situation active on their campaign ('none': an ordinary one). */
  planted_tenant: { false_pauses: number; false_pauses_by_situation: Record<string, number>; false_pause_entities: string[] };
  loop_ms: { median: number; p90: number; max: number; runs: number; floor_median: number; ratio_to_floor: number };
}

const r2 = (x: number) => Math.round(x * 100) / 100;
const pct = (n: number, d: number) => (d ? Math.round((n / d) * 1000) / 10 : 0);
const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))]! : 0;
};

export function summarise(sim: Simulation, run: RunRecord): Report {
  const cfg = sim.config;
  const nCamp = sim.campaigns.length;
  const campaignDays = nCamp * cfg.asOfDays;
  const per100 = (n: number) => r2((n / campaignDays) * 100);
  const countBy = (xs: Alarm[], key: (a: Alarm) => string) => {
    const m: Record<string, number> = {};
    for (const a of xs) m[key(a)] = (m[key(a)] ?? 0) + a.campaigns.length;
    return Object.fromEntries(Object.entries(m).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, per100(v)]));
  };
  // An alarm counts once per campaign it is on (a platform row on each member).
  const weight = (xs: Alarm[]) => xs.reduce((a, x) => a + x.campaigns.length, 0);
  // Timing on a B2B campaign is true (no weekend conversions, flat spend): counted apart, not as a false alarm.
  const b2b = new Set(sim.campaigns.filter((x) => truthOf(x.platform).b2b).map((x) => x.id));
  const b2bTiming = (a: Alarm) => a.kind === 'rec' && a.type === 'timing' && a.campaigns.every((x) => b2b.has(x));
  const steadyAll = run.alarms.filter((a) => a.tenant === 'steady');
  const steady = steadyAll.filter((a) => !b2bTiming(a));
  const anomalies = steady.filter((a) => a.kind === 'anomaly');
  const recs = steady.filter((a) => a.kind === 'rec');
  const timingB2b = steadyAll.filter(b2bTiming);
  const anomalyCampaignDays = new Set(anomalies.flatMap((a) => a.campaigns.map((x) => `${x}|${a.day}`))).size;
  const campaignsWith = (xs: Alarm[]) => new Set(xs.flatMap((a) => a.campaigns)).size;

  const power: SituationFigures[] = [];
  const situations = [...new Set(sim.plants.map((p) => p.situation))];
  for (const s of situations) {
    const ps = sim.plants.filter((p) => p.situation === s);
    const firstMatch = (tenant: TenantKind, p: Plant) => {
      const hits = run.alarms.filter((a) => a.tenant === tenant && matches(p, a)).map((a) => a.asOf);
      return hits.length ? Math.min(...hits) - Math.max(p.first_day, sim.firstAsOf) : null;
    };
    const lags = ps.map((p) => firstMatch('planted', p));
    const found = lags.filter((x): x is number => x !== null).sort((a, b) => a - b);
    const p0 = ps[0]!;
    const fig: SituationFigures = {
      situation: s, kind: p0.kind, level: p0.level,
      planted_days: `${sim.dayOf(p0.first_day)}..${sim.dayOf(p0.last_day)}`,
      found_by: p0.found_by, entities: ps.length, found: found.length, found_pct: pct(found.length, ps.length),
      days_to_detect: lags, median_days_to_detect: found.length ? found[Math.floor((found.length - 1) / 2)]! : null,
      same_rule_steady_pct: pct(ps.filter((p) => firstMatch('steady', p) !== null).length, ps.length),
    };
    if (s === 'platform_incident') {
      const inIncident = run.alarms.filter((a) => a.tenant === 'planted' && a.kind === 'anomaly' && a.platform === p0.platform
        && a.day >= p0.first_day && a.day <= p0.last_day);
      fig.rows = {
        platform_rows: inIncident.filter((a) => a.scope === 'platform').length,
        campaign_or_adset_conversion_rows: inIncident.filter((a) => a.scope === 'entity' && (a.metric === 'conversions' || a.metric === 'conversion_value')).length,
      };
    }
    power.push(fig);
  }

  // False pauses on the planted tenant: a pause anywhere but the zero-conversion ad sets (tracking losses and the incident are not the campaigns' fault either).
  const legit = new Set(sim.plants.filter((p) => p.situation === 'adset_zero_conversions_7d').map((p) => p.entity));
  const falsePauses = run.alarms.filter((a) => a.tenant === 'planted' && a.kind === 'rec' && a.type === 'pause' && !legit.has(a.entity));
  const pauseLabel = (a: Alarm) => sim.plants.find((p) => a.campaigns.includes(p.campaign) && a.asOf >= p.window[0] && a.asOf <= p.window[1])?.situation ?? 'none';
  const pausesBy: Record<string, number> = {};
  for (const a of falsePauses) pausesBy[pauseLabel(a)] = (pausesBy[pauseLabel(a)] ?? 0) + 1;

  return {
    model: {
      seed: cfg.seed, campaigns: nCamp, adsets: sim.campaigns.reduce((a, x) => a + x.adsets.length, 0),
      days: cfg.days, first_day: sim.dayOf(0), last_day: sim.dayOf(cfg.days - 1),
      as_of_days: `${sim.dayOf(sim.firstAsOf)}..${sim.dayOf(cfg.days - 1)} (${cfg.asOfDays})`,
      platforms: PLATFORMS.map((p) => ({ ...p, true_cpa: trueCpa(p), true_roas: trueRoas(p), campaigns: sim.campaigns.filter((x) => x.platform === p.platform).length })),
      noise: NOISE, capped_campaigns: sim.campaigns.filter((x) => x.capped).length,
      targets: 'platform_configs max_cpa / target_roas = the platform\'s true CPA / ROAS (every campaign\'s true CPA is its platform\'s); '
        + 'budget_allocation target_roas / target_cpa = the campaign\'s own true values; auto_pause_threshold 2',
    },
    false_alarms: {
      campaigns: nCamp,
      campaign_days: campaignDays,
      anomalies_per_100_campaign_days: per100(weight(anomalies)),
      anomaly_campaign_days_per_100: per100(anomalyCampaignDays),
      anomalies_unfavourable_per_100_campaign_days: per100(weight(anomalies.filter(unfavourable))),
      anomalies_by_metric_type: countBy(anomalies, (a) => `${a.metric} ${a.type}${a.direction ? ` ${a.direction}` : ''}`),
      anomalies_by_level: countBy(anomalies, (a) => (a.scope === 'platform' ? 'platform' : a.level)),
      anomalies_by_platform: countBy(anomalies, (a) => a.platform),
      recommendations_per_100_campaigns_per_day: per100(weight(recs)),
      recommendations_by_type_level: countBy(recs, (a) => `${a.type} (${a.level})`),
      recommendations_by_platform: countBy(recs, (a) => a.platform),
      campaigns_with_any_alarm_pct: pct(campaignsWith(steady), nCamp),
      campaigns_paused_or_cut_pct: pct(campaignsWith(recs.filter((a) => a.type === 'pause' || a.type === 'budget_decrease')), nCamp),
      campaigns_paused_pct: pct(campaignsWith(recs.filter((a) => a.type === 'pause')), nCamp),
      anomaly_rows_before_window: run.rowsBeforeWindow.steady,
      b2b_timing_per_100_b2b_campaigns_per_day: b2b.size ? r2((weight(timingB2b) / (b2b.size * cfg.asOfDays)) * 100) : 0,
      b2b_campaigns_with_timing_pct: pct(campaignsWith(timingB2b), b2b.size),
    },
    power,
    planted_tenant: {
      false_pauses: falsePauses.length, false_pauses_by_situation: pausesBy,
      false_pause_entities: [...new Set(falsePauses.map((a) => a.entity))].sort(),
    },
    loop_ms: { median: Math.round(quantile(run.loopMs, 0.5)), p90: Math.round(quantile(run.loopMs, 0.9)), max: Math.round(Math.max(0, ...run.loopMs)), runs: run.loopMs.length,
      floor_median: r2(quantile(run.floorMs, 0.5)), ratio_to_floor: r2(quantile(run.loopMs, 0.5) / Math.max(quantile(run.floorMs, 0.5), 0.001)) },
  };
}

function daysText(xs: (number | null)[]): string {
  if (xs.length <= 10) return xs.map((x) => (x === null ? '-' : x)).join(',');
  const found = xs.filter((x): x is number => x !== null).sort((a, b) => a - b);
  return found.length ? `median ${found[Math.floor((found.length - 1) / 2)]} (${found[0]}..${found[found.length - 1]})` : '-';
}

/** The report as an aligned two-column table. */
export function formatReport(r: Report, title: string): string {
  const f = r.false_alarms;
  const lines: [string, string][] = [
    [`false alarms, steady tenant (${f.campaigns} campaigns, ${f.campaign_days} campaign-days)`, ''],
    ['anomalies / 100 campaign-days (ad set and platform rows on their campaigns)', String(f.anomalies_per_100_campaign_days)],
    ['  campaign-days with an anomaly / 100', String(f.anomaly_campaign_days_per_100)],
    ['  unfavourable', String(f.anomalies_unfavourable_per_100_campaign_days)],
    ...Object.entries(f.anomalies_by_metric_type).map(([k, v]): [string, string] => [`  ${k}`, String(v)]),
    ...Object.entries(f.anomalies_by_level).map(([k, v]): [string, string] => [`  level ${k}`, String(v)]),
    ...Object.entries(f.anomalies_by_platform).map(([k, v]): [string, string] => [`  platform ${k}`, String(v)]),
    ['recommendations / 100 campaigns / day', String(f.recommendations_per_100_campaigns_per_day)],
    ...Object.entries(f.recommendations_by_type_level).map(([k, v]): [string, string] => [`  ${k}`, String(v)]),
    ...Object.entries(f.recommendations_by_platform).map(([k, v]): [string, string] => [`  platform ${k}`, String(v)]),
    ['steady campaigns with any alarm in the window', `${f.campaigns_with_any_alarm_pct} %`],
    ['steady campaigns paused or cut (pause or budget_decrease)', `${f.campaigns_paused_or_cut_pct} %`],
    ['  of which paused', `${f.campaigns_paused_pct} %`],
    ['anomaly rows for days before the window (not counted)', String(f.anomaly_rows_before_window)],
    ['timing on B2B campaigns (true, not counted above) / 100 B2B campaigns / day', `${f.b2b_timing_per_100_b2b_campaigns_per_day} (${f.b2b_campaigns_with_timing_pct} % of them)`],
    ['power, planted tenant', 'found / planted, days to detect (- = not found); same rule on the steady copies'],
    ...r.power.map((p): [string, string] => [
      `  ${p.situation} (${p.level}${p.kind === 'avoid' ? ', must NOT' : ''})`,
      `${p.found}/${p.entities} ${p.kind === 'avoid' ? 'paused' : 'found'}, days ${daysText(p.days_to_detect)}`
        + `; steady ${p.same_rule_steady_pct} %${p.rows ? `; rows: ${p.rows.platform_rows} platform, ${p.rows.campaign_or_adset_conversion_rows} per-entity conversions` : ''}`,
    ]),
    ['false pauses, planted tenant (entity-days, by situation on the campaign)', `${r.planted_tenant.false_pauses}${r.planted_tenant.false_pauses
      ? ` (${Object.entries(r.planted_tenant.false_pauses_by_situation).map(([k, v]) => `${k} ${v}`).join(', ')})` : ''}`],
    ['loop per tenant-day, median / p90 / max', `${r.loop_ms.median} / ${r.loop_ms.p90} / ${r.loop_ms.max} ms (${r.loop_ms.runs} runs)`],
    ['floor: one grouped read of the tenant\'s last 90 days, median', `${r.loop_ms.floor_median} ms; loop / floor ${r.loop_ms.ratio_to_floor}`],
  ];
  const w = Math.max(...lines.map(([k]) => k.length));
  return [title, ...lines.map(([k, v]) => (v ? `${k.padEnd(w)}  ${v}` : k))].join('\n');
}
