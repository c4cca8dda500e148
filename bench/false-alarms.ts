// False alarms and power of the CURRENT engine on simulated, realistically
// noisy data (the baseline for issue 9, "The engine, second pass").
//
//   npm run bench:false-alarms        # embedded PostgreSQL; DATABASE_URL's server when set
//
// Two tenants in one throwaway database, with the same seeded data: "steady"
// (nothing planted: every alarm is false) and "planted" (20 of the campaigns
// changed). Data arrive day by day; the daily loop runs for each of the last
// AS_OF_DAYS days with that day as as_of. Before each run the pending
// recommendations are marked expired, so each day counts what the rules fire
// that day (not what the one-pending-per-type rule lets through).
// Results: a table on stdout and bench/results/false-alarms.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { hash32, Rng } from '../db/seed/random';
import { createThrowawayDatabase } from '../db/tools/throwaway';

const SEED = 0x0fa1_5e00;
const CAMPAIGNS = Number(process.env.FA_CAMPAIGNS ?? 200);
const DAYS = 60;
const AS_OF_DAYS = 21; // as-of days evaluated: the last 21 (so a change 3 weeks old is seen from its start)
const START = '2026-08-01'; // day 0; day 59 = 2026-09-29
const CONV_CV = 0.18; // day-to-day coefficient of variation of the conversion rate (Gamma)
const VALUE_CV = 0.8; // coefficient of variation of one order's value (log-normal)

interface PlatformTruth { platform: 'meta' | 'google'; cpm: number; ctr: number; cvr: number; aov: number }
// True CPA = cpm / 1000 / (ctr * cvr); true ROAS = aov / CPA.
const PLATFORMS: PlatformTruth[] = [
  { platform: 'meta', cpm: 12, ctr: 0.015, cvr: 0.04, aov: 60 }, // CPA 20, ROAS 3
  { platform: 'google', cpm: 30, ctr: 0.03, cvr: 0.04, aov: 100 }, // CPA 25, ROAS 4
];
const trueCpa = (p: PlatformTruth) => p.cpm / 1000 / (p.ctr * p.cvr);

type Situation = 'cpa_up_60pct_7d' | 'conversions_down_third_21d' | 'spend_3x_one_day' | 'zero_conversions_5d';
interface Plant { situation: Situation; from: number; to: number; expect: string }
const SITUATIONS: Plant[] = [
  { situation: 'cpa_up_60pct_7d', from: 53, to: 59, expect: 'rec pause/budget_decrease/bid_adjustment, or unfavourable cpa/conversions/roas anomaly' },
  { situation: 'conversions_down_third_21d', from: 39, to: 59, expect: 'rec pause/budget_decrease/bid_adjustment, or unfavourable cpa/conversions/roas anomaly' },
  { situation: 'spend_3x_one_day', from: 49, to: 49, expect: 'spend spike anomaly' },
  { situation: 'zero_conversions_5d', from: 47, to: 51, expect: 'tracking_loss or conversions drop anomaly, or pause rec' },
];
/** 20 campaigns (3, 8, 13, ..., 98: both platforms), 5 consecutive ones per situation. */
function plantOf(campaign: number): Plant | null {
  if (campaign >= 100 || (campaign % 10 !== 3 && campaign % 10 !== 8)) return null;
  return SITUATIONS[Math.floor(Math.floor(campaign / 5) / 5)] ?? null;
}

// ---- samplers -------------------------------------------------------------
class Sampler {
  constructor(private readonly rng: Rng) {}
  normal(): number {
    const u = 1 - this.rng.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.rng.float());
  }
  /** Marsaglia-Tsang, shape >= 1. */
  gamma(shape: number, scale: number): number {
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      const x = this.normal();
      const v = (1 + c * x) ** 3;
      if (v <= 0) continue;
      if (Math.log(1 - this.rng.float()) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v * scale;
    }
  }
  /** Exact (Knuth) below 50, else the normal approximation ("Poisson-ish"). */
  poisson(lambda: number): number {
    if (lambda <= 0) return 0;
    if (lambda >= 50) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * this.normal()));
    const l = Math.exp(-lambda);
    let k = 0;
    for (let p = this.rng.float(); p > l; p *= this.rng.float()) k++;
    return k;
  }
  binomial(n: number, p: number): number {
    const m = n * p;
    if (m < 50) return Math.min(n, this.poisson(m));
    return Math.max(0, Math.min(n, Math.round(m + Math.sqrt(m * (1 - p)) * this.normal())));
  }
  lognormal(mean: number, cv: number): number {
    const s2 = Math.log(1 + cv * cv);
    return Math.exp(Math.log(mean) - s2 / 2 + Math.sqrt(s2) * this.normal());
  }
}

// ---- data -----------------------------------------------------------------
function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}
const dayOf = (i: number) => addDays(START, i);

interface Row { platform: string; id: string; day: number; spend: number; impressions: number; clicks: number; conversions: number; value: number }
interface Campaign { n: number; id: string; truth: PlatformTruth; base: number; plant: Plant | null }

function campaigns(): Campaign[] {
  return Array.from({ length: CAMPAIGNS }, (_, n) => {
    const r = new Rng((hash32(`level-${n}`) ^ SEED) >>> 0);
    const truth = PLATFORMS[n % 2]!;
    return { n, id: `cmp-${n}`, truth, base: Math.exp(r.uniform(Math.log(60), Math.log(600))), plant: plantOf(n) };
  });
}

/** All 60 days of one campaign; `planted` applies its plant (same noise stream either way). */
function series(c: Campaign, planted: boolean): Row[] {
  const s = new Sampler(new Rng((hash32(`series-${c.n}`) ^ SEED) >>> 0));
  const { cpm, ctr, cvr, aov } = c.truth;
  const shape = 1 / (CONV_CV * CONV_CV);
  const rows: Row[] = [];
  for (let d = 0; d < DAYS; d++) {
    const dow = new Date(`${dayOf(d)}T00:00:00Z`).getUTCDay();
    const level = c.base * (1 + 0.15 * Math.cos((2 * Math.PI * dow) / 7));
    const p = planted && c.plant && d >= c.plant.from && d <= c.plant.to ? c.plant.situation : null;
    const scale = p === 'spend_3x_one_day' ? 3 : 1;
    const rate = cvr * (p === 'cpa_up_60pct_7d' ? 1 / 1.6 : p === 'conversions_down_third_21d' ? 2 / 3 : 1);
    const spend = Math.round(level * scale * Math.max(0.5, 1 + 0.05 * s.normal()) * 100) / 100;
    const impressions = s.poisson((level * scale * 1000) / cpm);
    const clicks = s.binomial(impressions, ctr);
    let conversions = s.poisson(clicks * rate * s.gamma(shape, 1 / shape));
    if (p === 'zero_conversions_5d') conversions = 0;
    let value = 0;
    for (let k = 0; k < conversions; k++) value += s.lognormal(aov, VALUE_CV);
    rows.push({ platform: c.truth.platform, id: c.id, day: d, spend, impressions, clicks, conversions, value: Math.round(value * 100) / 100 });
  }
  return rows;
}

async function insertRows(c: pg.ClientBase, tenant: string, rows: Row[]): Promise<void> {
  await c.query(
    `insert into ads.metrics_daily (tenant_id, platform, level, platform_id, day, entity_name, spend, impressions, clicks, conversions, conversion_value)
     select $1, p::ads.platform, 'campaign', id, d::date, 'Campaign ' || id, s, i, k, v, w
     from unnest($2::text[], $3::text[], $4::text[], $5::numeric[], $6::bigint[], $7::bigint[], $8::numeric[], $9::numeric[]) as t(p, id, d, s, i, k, v, w)`,
    [tenant, rows.map((r) => r.platform), rows.map((r) => r.id), rows.map((r) => dayOf(r.day)), rows.map((r) => r.spend),
      rows.map((r) => r.impressions), rows.map((r) => r.clicks), rows.map((r) => r.conversions), rows.map((r) => r.value)],
  );
}

async function inTenant<T>(c: pg.ClientBase, tenant: string, fn: () => Promise<T>): Promise<T> {
  await c.query('begin');
  try {
    await c.query(`select set_config('saas.tenant_id', $1, true)`, [tenant]);
    const out = await fn();
    await c.query('commit');
    return out;
  } catch (err) {
    await c.query('rollback').catch(() => undefined);
    throw err;
  }
}

// ---- run ------------------------------------------------------------------
interface Alarm { asOf: number; id: string; kind: 'rec' | 'anomaly'; type: string; metric: string; favourable: boolean }

async function main(): Promise<void> {
  const started = performance.now();
  const tdb = await createThrowawayDatabase('aegis-false-alarms', process.env.DATABASE_URL || undefined);
  const c = new pg.Client({ connectionString: tdb.ownerUrl });
  await c.connect();
  c.on('notice', () => undefined);
  // On PostgreSQL 18 (the embedded server) the planner picks nested loops for
  // the engine's queries whose cost grows with campaigns squared: 8 s a loop
  // at 200 campaigns instead of 0.1 s. Plans do not change results; set
  // FA_PLANNER_DEFAULTS=1 to measure with the default planner anyway.
  if (!process.env.FA_PLANNER_DEFAULTS) await c.query('set enable_nestloop = off');
  try {
    const camps = campaigns();
    const data: Record<'steady' | 'planted', Row[][]> = {
      steady: camps.map((x) => series(x, false)),
      planted: camps.map((x) => series(x, true)),
    };
    const tenants: Record<'steady' | 'planted', string> = { steady: '', planted: '' };
    for (const k of ['steady', 'planted'] as const) {
      const id = (await c.query<{ id: string }>('select gen_random_uuid()::text as id')).rows[0]!.id;
      tenants[k] = id;
      await inTenant(c, id, async () => {
        await c.query('insert into saas.tenants (id, name) values ($1, $2)', [id, `False-alarm bench, ${k}`]);
        for (const p of PLATFORMS) {
          await c.query('insert into ads.platform_configs (tenant_id, platform, max_cpa, target_roas) values ($1, $2, $3, $4)',
            [id, p.platform, trueCpa(p), p.aov / trueCpa(p)]);
        }
        await c.query(
          `insert into ads.budget_allocation (tenant_id, platform, campaign_id, campaign_name, daily_budget)
           select $1, p::ads.platform, id, 'Campaign ' || id, b from unnest($2::text[], $3::text[], $4::numeric[]) as t(p, id, b)`,
          [id, camps.map((x) => x.truth.platform), camps.map((x) => x.id), camps.map((x) => Math.round(x.base * 2))],
        );
        await insertRows(c, id, data[k].flat().filter((r) => r.day < DAYS - AS_OF_DAYS));
      });
    }
    await c.query('analyze');

    const alarms: Record<'steady' | 'planted', Alarm[]> = { steady: [], planted: [] };
    const loopMs: number[] = [];
    for (let d = DAYS - AS_OF_DAYS; d < DAYS; d++) {
      for (const k of ['steady', 'planted'] as const) {
        const t = tenants[k];
        await inTenant(c, t, async () => {
          await insertRows(c, t, data[k].map((rows) => rows[d]!));
          await c.query(`update ads.optimization_recommendations set status = 'expired' where tenant_id = $1 and status = 'pending'`, [t]);
          const t0 = performance.now();
          await c.query(`select ads_engine.run_daily_loop($1, $2::date, 'cli')`, [t, dayOf(d)]);
          loopMs.push(performance.now() - t0);
          if (process.env.FA_VERBOSE) console.error(`${k} ${dayOf(d)} ${Math.round(performance.now() - t0)} ms`);
          const recs = await c.query<{ id: string; type: string }>(
            `select entity_id as id, recommendation_type as type from ads.optimization_recommendations where tenant_id = $1 and status = 'pending'`, [t]);
          const ans = await c.query<{ id: string; type: string; metric: string; fav: boolean | null }>(
            `select entity_id as id, anomaly_type as type, metric_name as metric, (details->>'favourable')::boolean as fav
             from ads.anomalies where tenant_id = $1 and day = $2::date`, [t, dayOf(d)]);
          for (const r of recs.rows) alarms[k].push({ asOf: d, id: r.id, kind: 'rec', type: r.type, metric: '', favourable: false });
          for (const a of ans.rows) alarms[k].push({ asOf: d, id: a.id, kind: 'anomaly', type: a.type, metric: a.metric, favourable: a.fav === true });
        });
      }
    }

    // False alarms: the steady tenant, every campaign.
    const campaignDays = CAMPAIGNS * AS_OF_DAYS;
    const per100 = (n: number) => Math.round((n / campaignDays) * 100 * 100) / 100;
    const countBy = (xs: Alarm[], key: (a: Alarm) => string) => {
      const m: Record<string, number> = {};
      for (const a of xs) m[key(a)] = (m[key(a)] ?? 0) + 1;
      return Object.fromEntries(Object.entries(m).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, per100(v)]));
    };
    const steady = alarms.steady;
    const anomalies = steady.filter((a) => a.kind === 'anomaly');
    const recs = steady.filter((a) => a.kind === 'rec');
    const daysWithAlarm = (id: string) => new Set(steady.filter((a) => a.id === id).map((a) => a.asOf)).size;
    const falseAlarms = {
      campaign_days: campaignDays,
      anomalies_per_100_campaign_days: per100(anomalies.length),
      anomalies_unfavourable_per_100_campaign_days: per100(anomalies.filter((a) => !a.favourable).length),
      anomalies_by_metric_type: countBy(anomalies, (a) => `${a.metric} ${a.type}`),
      recommendations_per_100_campaigns_per_day: per100(recs.length),
      recommendations_by_type: countBy(recs, (a) => a.type),
      campaigns_with_any_alarm_pct: Math.round((camps.filter((x) => daysWithAlarm(x.id) > 0).length / CAMPAIGNS) * 1000) / 10,
      budget_cut_or_pause_campaigns_pct:
        Math.round((new Set(recs.filter((a) => a.type === 'budget_decrease' || a.type === 'pause').map((a) => a.id)).size / CAMPAIGNS) * 1000) / 10,
    };

    // Power: the planted tenant's 20 campaigns; the same rule on the same campaigns of the steady tenant is the null rate.
    const matches = (p: Plant, a: Alarm): boolean => {
      if (a.asOf < p.from) return false;
      if (p.situation === 'spend_3x_one_day') return a.kind === 'anomaly' && a.metric === 'spend' && a.type === 'spike';
      if (p.situation === 'zero_conversions_5d') {
        return (a.kind === 'anomaly' && a.metric === 'conversions' && (a.type === 'tracking_loss' || a.type === 'drop')) || (a.kind === 'rec' && a.type === 'pause');
      }
      return (a.kind === 'rec' && ['pause', 'budget_decrease', 'bid_adjustment'].includes(a.type))
        || (a.kind === 'anomaly' && ['cpa', 'conversions', 'roas'].includes(a.metric) && !a.favourable);
    };
    const power = SITUATIONS.map((p) => {
      const ids = camps.filter((x) => x.plant === p).map((x) => x.id);
      const firstDay = (xs: Alarm[], id: string) => {
        const hits = xs.filter((a) => a.id === id && matches(p, a)).map((a) => a.asOf);
        return hits.length ? Math.min(...hits) - p.from : null;
      };
      const lags = ids.map((id) => firstDay(alarms.planted, id));
      const found = lags.filter((x): x is number => x !== null).sort((a, b) => a - b);
      const nullHits = ids.filter((id) => firstDay(alarms.steady, id) !== null).length;
      return {
        situation: p.situation, start_day: dayOf(p.from), end_day: dayOf(p.to), expected: p.expect, campaigns: ids.length,
        found: found.length, found_pct: Math.round((found.length / ids.length) * 100),
        days_to_detect: lags, median_days_to_detect: found.length ? found[Math.floor((found.length - 1) / 2)]! : null,
        same_rule_on_unplanted_data_pct: Math.round((nullHits / ids.length) * 100),
      };
    });

    const runtimeS = Math.round((performance.now() - started) / 100) / 10;
    const results = {
      recorded: new Date().toISOString(),
      server: tdb.description,
      model: {
        seed: SEED, campaigns: CAMPAIGNS, days: DAYS, first_day: dayOf(0), last_day: dayOf(DAYS - 1),
        as_of_days: `${dayOf(DAYS - AS_OF_DAYS)}..${dayOf(DAYS - 1)} (${AS_OF_DAYS})`,
        platforms: PLATFORMS.map((p) => ({ ...p, true_cpa: trueCpa(p), true_roas: p.aov / trueCpa(p) })),
        conversion_rate_cv: CONV_CV, order_value_cv: VALUE_CV,
        targets: 'platform_configs.max_cpa and target_roas = the true CPA and ROAS (equal for all campaigns of a platform)',
      },
      false_alarms: falseAlarms,
      power,
      loop_ms_median: Math.round([...loopMs].sort((a, b) => a - b)[Math.floor(loopMs.length / 2)]!),
      runtime_s: runtimeS,
    };

    console.log(`False alarms and power of the current engine (${tdb.description}; ${CAMPAIGNS} campaigns, ${DAYS} days, loop on the last ${AS_OF_DAYS})`);
    const table: [string, string][] = [
      ['anomalies / 100 campaign-days', String(falseAlarms.anomalies_per_100_campaign_days)],
      ['  of which unfavourable', String(falseAlarms.anomalies_unfavourable_per_100_campaign_days)],
      ...Object.entries(falseAlarms.anomalies_by_metric_type).map(([k, v]): [string, string] => [`  ${k}`, String(v)]),
      ['recommendations / 100 campaigns / day', String(falseAlarms.recommendations_per_100_campaigns_per_day)],
      ...Object.entries(falseAlarms.recommendations_by_type).map(([k, v]): [string, string] => [`  ${k}`, String(v)]),
      [`steady campaigns with any alarm in ${AS_OF_DAYS} days`, `${falseAlarms.campaigns_with_any_alarm_pct} %`],
      ['steady campaigns given a budget cut or pause', `${falseAlarms.budget_cut_or_pause_campaigns_pct} %`],
      ...power.map((p): [string, string] => [
        `power: ${p.situation}`,
        `${p.found}/${p.campaigns} found, days to detect ${p.days_to_detect.map((x) => (x === null ? '-' : x)).join(',')} (same rule, unplanted: ${p.same_rule_on_unplanted_data_pct} %)`,
      ]),
      ['loop per tenant-day, median', `${results.loop_ms_median} ms`],
      ['runtime', `${runtimeS} s`],
    ];
    const w = Math.max(...table.map(([k]) => k.length));
    for (const [k, v] of table) console.log(`${k.padEnd(w)}  ${v}`);

    const out = path.join(__dirname, 'results');
    mkdirSync(out, { recursive: true });
    writeFileSync(path.join(out, 'false-alarms.json'), `${JSON.stringify(results, null, 2)}\n`);
    console.log(`written to ${path.relative(process.cwd(), path.join(out, 'false-alarms.json'))}`);
  } finally {
    await c.end();
    await tdb.drop();
  }
}

main().catch((err: Error) => {
  console.error(`error: ${err.message}`);
  process.exit(1);
});
