// Calibration by simulation (fixed seed): A/A tests with over-dispersed daily data, looked at every
// day for 28 days, and for 14. The sequential rule must keep its false-winner rate at or under 5 %;
// the naive fixed-horizon p < 0.05 checked daily does not. Power is measured at +20 % conversion
// rate over 28 days, and at +25 % over the days the sample-size calculator plans from 90 days of
// recent traffic (it must find at least 80 %). The printed figures are quoted in docs/ab-tests.md.
import { describe, expect, it } from 'vitest';
import { analyzeAbTest, fixedHorizon, type AbMetric, type DailyTotals, type VariantData, type VariantTotals } from '@/lib/abtests/stats';
import { sampleSize } from '@/lib/abtests/sample-size';
import { Rng } from '@/db/seed/random';


// --- The simulated test ---------------------------------------------------------------------

const DAYS = 28;
const WEEKDAY = [1.1, 1.05, 1.0, 1.0, 0.95, 0.85, 0.9];

interface World {
  clicksPerDay: number; // per variant, on an average day
  cvr: number;
  cvrLiftB: number; // 1 = A/A
}

/**
 * One test, 28 days, two variants on a 50/50 audience split. Each day has a market-wide traffic shock
 * (weekday rhythm x lognormal sd 0.15) and a market-wide conversion-rate shock (lognormal sd 0.10), both
 * shared by A and B; each variant has its own daily conversion-rate shock (lognormal sd 0.08) and
 * negative-binomial conversions (size 50), so its conversions are over-dispersed against the binomial.
 * CPC varies by day (common sd 0.05, own sd 0.03); order values are exponential (cv 1, mean 60).
 */
function simulate(rng: Rng, w: World, days = DAYS): { a: DailyTotals[]; b: DailyTotals[] } {
  const a: DailyTotals[] = [];
  const b: DailyTotals[] = [];
  const start = rng.int(0, 6);
  for (let d = 0; d < days; d++) {
    const day = new Date(Date.UTC(2025, 5, 1 + d)).toISOString().slice(0, 10);
    const traffic = w.clicksPerDay * WEEKDAY[(start + d) % 7]! * Math.exp(0.15 * rng.normal());
    const marketCvr = w.cvr * Math.exp(0.1 * rng.normal() - 0.005);
    const marketCpc = 0.8 * Math.exp(0.05 * rng.normal());
    for (const [out, lift] of [[a, 1], [b, w.cvrLiftB]] as const) {
      const clicks = rng.poisson(traffic);
      const impressions = rng.poisson(traffic / 0.02);
      const rate = marketCvr * lift * Math.exp(0.08 * rng.normal() - 0.0032);
      const conversions = Math.min(clicks, rng.negBin(clicks * rate, 50));
      const spend = Math.round(clicks * marketCpc * Math.exp(0.03 * rng.normal()) * 100) / 100;
      const conversionValue = conversions > 0 ? rng.gamma(conversions) * 60 : 0;
      out.push({ day, impressions, clicks, conversions, spend, conversionValue });
    }
  }
  return { a, b };
}

function upTo(days: DailyTotals[], n: number): VariantData {
  const daily = days.slice(0, n);
  const totals: VariantTotals = { impressions: 0, clicks: 0, conversions: 0, spend: 0, conversionValue: 0 };
  for (const d of daily) {
    totals.impressions += d.impressions;
    totals.clicks += d.clicks;
    totals.conversions += d.conversions;
    totals.spend += d.spend;
    totals.conversionValue += d.conversionValue;
  }
  return { totals, daily };
}

interface Run {
  /** First day the sequential rule names a winner (null: never), and which. */
  seqDay: number | null;
  seqWinner: 'a' | 'b' | null;
  /** First day a naive p < 0.05 (same minimum sample) would have named a winner. */
  naiveDay: number | null;
  /** Fixed-horizon p < 0.05 at day 28 only (per-day variance; and the binomial totals model). */
  finalSig: boolean;
  finalSigTotals: boolean;
  /** Naive daily peeking with the totals-only (binomial) variance. */
  naiveTotalsDay: number | null;
}

function runTest(rng: Rng, w: World, metric: AbMetric): Run {
  const { a, b } = simulate(rng, w);
  const run: Run = { seqDay: null, seqWinner: null, naiveDay: null, finalSig: false, finalSigTotals: false, naiveTotalsDay: null };
  for (let day = 1; day <= DAYS; day++) {
    const va = upTo(a, day);
    const vb = upTo(b, day);
    const r = analyzeAbTest(metric, va, vb, { mde: 0.2 });
    if (!r.estimate.computable) continue;
    const gated = r.minSampleReached && r.split.ok;
    if (run.seqDay === null && (r.decision.status === 'winner_a' || r.decision.status === 'winner_b')) {
      run.seqDay = day;
      run.seqWinner = r.decision.status === 'winner_b' ? 'b' : 'a';
    }
    if (run.naiveDay === null && gated && r.fixed!.pValue < 0.05) run.naiveDay = day;
    const t = analyzeAbTest(metric, { totals: va.totals }, { totals: vb.totals });
    const tp = t.estimate.computable ? fixedHorizon(t.estimate.logLift, t.estimate.variance).pValue : 1;
    if (run.naiveTotalsDay === null && gated && tp < 0.05) run.naiveTotalsDay = day;
    if (day === DAYS) {
      run.finalSig = r.fixed!.pValue < 0.05;
      run.finalSigTotals = tp < 0.05;
    }
  }
  return run;
}

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
const median = (xs: number[]) => {
  const s = [...xs].sort((p, q) => p - q);
  return s.length === 0 ? Number.NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

describe('simulation: 28 days, looked at every day', () => {
  const world: World = { clicksPerDay: 1000, cvr: 0.03, cvrLiftB: 1 };

  it.each(['cvr', 'cpa'] as const)('A/A on %s: sequential false-winner rate <= 5 %, naive daily p < 0.05 above it', (metric) => {
    const rng = new Rng(metric === 'cvr' ? 20250601 : 20250602);
    const n = 2000;
    const runs = Array.from({ length: n }, () => runTest(rng, world, metric));
    const rate = (f: (r: Run) => boolean) => runs.filter(f).length / n;
    const seq = rate((r) => r.seqDay !== null);
    const naive = rate((r) => r.naiveDay !== null);
    const naiveTotals = rate((r) => r.naiveTotalsDay !== null);
    const final = rate((r) => r.finalSig);
    const finalTotals = rate((r) => r.finalSigTotals);
    const se = Math.sqrt((seq * (1 - seq)) / n);
    console.log(
      `[A/A ${metric}] ${n} tests x ${DAYS} daily looks: sequential rule false winners ${pct(seq)} (s.e. ${pct(se)}); ` +
        `naive p < 0.05 checked daily ${pct(naive)}; same with the binomial/Poisson totals variance ${pct(naiveTotals)}; ` +
        `single look at day 28: per-day variance ${pct(final)}, totals variance ${pct(finalTotals)}`,
    );
    expect(seq).toBeLessThanOrEqual(0.05);
    expect(naive).toBeGreaterThan(0.05);
    expect(naive).toBeGreaterThan(2 * seq);
    // The per-day variance is calibrated at a single look (5 % nominal, within simulation error).
    expect(final).toBeGreaterThan(0.03);
    expect(final).toBeLessThan(0.075);
  });

  it.each([
    [1000, 0.4],
    [2000, 0.6],
  ])('power at +20 percent conversion rate, %i clicks/day/variant', (clicksPerDay, minPower) => {
    const rng = new Rng(20250603 + clicksPerDay);
    const n = 1000;
    const runs = Array.from({ length: n }, () => runTest(rng, { ...world, clicksPerDay, cvrLiftB: 1.2 }, 'cvr'));
    const detected = runs.filter((r) => r.seqWinner === 'b');
    const wrong = runs.filter((r) => r.seqWinner === 'a').length;
    const power = detected.length / n;
    const med = median(detected.map((r) => r.seqDay!));
    const finalPower = runs.filter((r) => r.finalSig).length / n;
    const byDay14 = detected.filter((r) => r.seqDay! <= 14).length / n;
    const plan = sampleSize({ metric: 'cvr', mde: 0.2, dailyPerVariant: { impressions: clicksPerDay / 0.02, clicks: clicksPerDay, conversions: 0.03 * clicksPerDay, spend: 0.8 * clicksPerDay, conversionValue: 0 } });
    const planned = 'computable' in plan ? 'n/a' : `${plan.daysForPower} days fixed-horizon, ${plan.sequentialDays} days sequential (binomial model)`;
    console.log(
      `[power cvr +20 %] ${n} tests, ${clicksPerDay.toLocaleString('en')} clicks/day/variant at 3 % CVR: sequential rule detects ${pct(power)} by day 28 ` +
        `(${pct(byDay14)} by day 14), median ${med} days to decision, wrong-direction winners ${wrong}; ` +
        `fixed-horizon single look at day 28: ${pct(finalPower)}; sample-size plan: ${planned}`,
    );
    expect(power).toBeGreaterThan(minPower);
    expect(wrong).toBeLessThanOrEqual(0.01 * n);
  });
});

describe('simulation: the sample-size calculator\'s plan, and 14 daily looks', () => {
  const MDE = 0.25;

  /** First look (1..looks) at which the rule names a winner, and which. */
  function decide(rng: Rng, w: World, looks: number): { day: number | null; winner: 'a' | 'b' | null } {
    const { a, b } = simulate(rng, w, looks);
    for (let day = 1; day <= looks; day++) {
      const r = analyzeAbTest('cvr', upTo(a, day), upTo(b, day), { mde: MDE });
      if (r.decision.status === 'winner_a' || r.decision.status === 'winner_b') return { day, winner: r.decision.status === 'winner_b' ? 'b' : 'a' };
    }
    return { day: null, winner: null };
  }

  it('A/A over 14 daily looks: at most 5 % name a winner at some look', () => {
    const rng = new Rng(20250610);
    const n = 2000;
    const world: World = { clicksPerDay: 2000, cvr: 0.03, cvrLiftB: 1 };
    const rate = Array.from({ length: n }, () => decide(rng, world, 14)).filter((r) => r.winner !== null).length / n;
    console.log(`[A/A cvr, 14 looks, MDE 25 %] ${n} tests at 2,000 clicks/day/variant: false winners ${pct(rate)} (s.e. ${pct(Math.sqrt((rate * (1 - rate)) / n))})`);
    expect(rate).toBeLessThanOrEqual(0.05);
  });

  it('a real +25 % run for the days the calculator plans from 90 days of recent traffic is found in at least 80 % of tests', () => {
    const rng = new Rng(20250611);
    const clicksPerDay = 3000;
    // The buyer's recent traffic: 90 simulated days of one arm, over-dispersed as the world is; the
    // calculator reads the over-dispersion from them.
    const recent = simulate(rng, { clicksPerDay, cvr: 0.03, cvrLiftB: 1 }, 90).a;
    const total = upTo(recent, recent.length).totals;
    const per = (x: number) => x / recent.length;
    const plan = sampleSize({
      metric: 'cvr',
      mde: MDE,
      dailyPerVariant: { impressions: per(total.impressions), clicks: per(total.clicks), conversions: per(total.conversions), spend: per(total.spend), conversionValue: per(total.conversionValue) },
      recentDaily: recent,
    });
    if (!('daysNeeded' in plan)) throw new Error(plan.message);
    expect(plan.varianceSource).toBe('recent_days');
    const n = 1000;
    const runs = Array.from({ length: n }, () => decide(rng, { clicksPerDay, cvr: 0.03, cvrLiftB: 1.25 }, plan.daysNeeded));
    const power = runs.filter((r) => r.winner === 'b').length / n;
    const wrong = runs.filter((r) => r.winner === 'a').length;
    const med = median(runs.filter((r) => r.winner === 'b').map((r) => r.day!));
    console.log(
      `[power cvr +25 %] the calculator plans ${plan.daysNeeded} days at ${clicksPerDay.toLocaleString('en')} clicks/day/variant ` +
        `(per-day log variance ${plan.dailyLogVariance.toFixed(4)} from 90 recent days); the rule finds B in ${pct(power)} of ${n} tests ` +
        `by then (median ${med} days), wrong-way winners ${wrong}`,
    );
    expect(power).toBeGreaterThanOrEqual(0.8);
    expect(wrong).toBeLessThanOrEqual(0.01 * n);
  });
});
