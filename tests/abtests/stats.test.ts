// Known values for the A/B test statistics: hand-worked lifts, intervals and p-values, a CPA case
// whose variance is recomputed here from the covariance matrix, and properties (symmetry, zeros).
import { describe, expect, it } from 'vitest';
import {
  analyzeAbTest,
  bayesian,
  checkSplit,
  chiSquaredSurvival,
  estimateLift,
  fixedHorizon,
  mixingVariance,
  normalCdf,
  normalPdf,
  normalQuantile,
  sequential,
  studentTQuantile,
  type AbMetric,
  type DailyTotals,
  type VariantData,
  type VariantTotals,
} from '@/lib/abtests/stats';
import { dailyLogVarianceFromRecent, sampleSize } from '@/lib/abtests/sample-size';

const T = (p: Partial<VariantTotals>): VariantTotals => ({ impressions: 0, clicks: 0, conversions: 0, spend: 0, conversionValue: 0, ...p });

function computable<T extends { computable: boolean }>(r: T): Extract<T, { computable: true }> {
  if (!r.computable) throw new Error(`expected computable, got ${JSON.stringify(r)}`);
  return r as Extract<T, { computable: true }>;
}

describe('normal and chi-squared distributions (published table values)', () => {
  it('normalCdf', () => {
    expect(normalCdf(0)).toBe(0.5);
    expect(normalCdf(1)).toBeCloseTo(0.8413447460685429, 14);
    expect(normalCdf(1.96)).toBeCloseTo(0.9750021048517795, 14);
    expect(normalCdf(-3) / 0.0013498980316301).toBeCloseTo(1, 10);
    expect(normalCdf(-5) / 2.866515718791939e-7).toBeCloseTo(1, 9);
    expect(normalCdf(-8) / 6.220960574271785e-16).toBeCloseTo(1, 8);
  });
  it('normalQuantile', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 12);
    expect(normalQuantile(0.8)).toBeCloseTo(0.8416212335729143, 12);
    expect(normalQuantile(0.5)).toBeCloseTo(0, 14);
    expect(normalQuantile(1e-10)).toBeCloseTo(-6.361340902404056, 9);
  });
  it('Student t quantiles (Cornish-Fisher) against tables', () => {
    expect(studentTQuantile(0.975, 6)).toBeCloseTo(2.446912, 3);
    expect(studentTQuantile(0.975, 27)).toBeCloseTo(2.051831, 5);
    expect(studentTQuantile(0.975, 1000)).toBeCloseTo(1.962339, 6);
  });
  it('chi-squared 5 % critical values', () => {
    expect(chiSquaredSurvival(3.841458820694124, 1)).toBeCloseTo(0.05, 12);
    expect(chiSquaredSurvival(5.991464547107979, 2)).toBeCloseTo(0.05, 12);
    expect(chiSquaredSurvival(7.814727903251178, 3)).toBeCloseTo(0.05, 12);
    expect(chiSquaredSurvival(9.487729036781154, 4)).toBeCloseTo(0.05, 12);
  });
});

describe('CTR lift, by hand', () => {
  // A: 200 clicks / 10,000 impressions (2.0 %); B: 240 / 10,000 (2.4 %).
  // ln lift = ln(1.2) = 0.1823216
  // Var = (1 - 0.02)/200 + (1 - 0.024)/240 = 0.0049 + 0.0040667 = 0.0089667, se = 0.094692
  // z = 1.92541, p = 2 (1 - Phi(1.92541)) = 0.0542 (Phi(1.925) = 0.97289, Phi(1.93) = 0.97320)
  // 95 %: exp(0.1823216 +- 1.959964 * 0.094692) - 1 = exp(-0.003273) - 1, exp(0.367916) - 1 = -0.33 %, +44.47 %
  const a: VariantData = { totals: T({ impressions: 10_000, clicks: 200 }) };
  const b: VariantData = { totals: T({ impressions: 10_000, clicks: 240 }) };

  it('log lift, variance, interval and p-value', () => {
    const e = computable(estimateLift('ctr', a, b));
    expect(e.logLift).toBeCloseTo(Math.log(1.2), 12);
    expect(e.variance).toBeCloseTo(0.0049 + 0.976 / 240, 14);
    expect(e.se).toBeCloseTo(0.094692, 5);
    expect(e.varianceModel).toBe('totals');
    const f = fixedHorizon(e.logLift, e.variance);
    expect(f.z).toBeCloseTo(1.92541, 4);
    expect(f.pValue).toBeCloseTo(0.0542, 3);
    expect(f.interval.lower).toBeCloseTo(-0.00327, 4);
    expect(f.interval.upper).toBeCloseTo(0.44474, 4);
  });

  it('always-valid interval with tau = ln(1.1)', () => {
    // tau^2 = 0.0953102^2 = 0.00908403; (V + tau^2)/V = 2.01309, ln = 0.69967; 2 ln 20 = 5.99146
    // half-width = sqrt(0.0089667 * 0.0180507 / 0.00908403 * 6.69113) = sqrt(0.119220) = 0.34528
    const e = computable(estimateLift('ctr', a, b));
    const s = sequential(e.logLift, e.variance, mixingVariance(0.1));
    expect(s.halfWidth).toBeCloseTo(0.34528, 4);
    expect(s.halfWidth).toBeGreaterThan(1.959964 * e.se); // wider than the fixed-horizon interval
    // Lambda(0) = sqrt(V/(V+tau^2)) exp(tau^2 theta^2 / (2 V (V + tau^2)))
    //          = 0.704809 * exp(0.00908403 * 0.0332412 / (2 * 0.0089667 * 0.0180507)) = 0.704809 * exp(0.93284)
    expect(s.pValue).toBeCloseTo(1 / (0.704809 * Math.exp(0.93284)), 4);
  });

  it('Bayesian chance to beat and losses', () => {
    const e = computable(estimateLift('ctr', a, b));
    const r = bayesian(e.logLift, e.variance, 1);
    expect(r.probBBetter).toBeCloseTo(1 - 0.0542 / 2, 3);
    // Independent check by quadrature of E[(1 - e^x)^+] and E[(e^x - 1)^+] over N(mu, s^2).
    const mu = e.logLift;
    const s = e.se;
    let lossB = 0;
    let lossA = 0;
    const h = s / 2000;
    for (let x = mu - 12 * s; x <= mu + 12 * s; x += h) {
      const w = (normalPdf((x - mu) / s) / s) * h;
      lossB += Math.max(0, 1 - Math.exp(x)) * w;
      lossA += Math.max(0, Math.exp(x) - 1) * w;
    }
    expect(r.expectedLossB).toBeCloseTo(lossB, 6);
    expect(r.expectedLossA).toBeCloseTo(lossA, 6);
    expect(r.expectedLossA - r.expectedLossB).toBeCloseTo(Math.exp(mu + e.variance / 2) - 1, 12);
  });
});

describe('CPA', () => {
  it('totals model: spend fixed by the budget, conversions Poisson', () => {
    // A: 1,000 / 50 = 20; B: 1,000 / 40 = 25. ln lift = ln 1.25 = 0.2231436; Var = 1/50 + 1/40 = 0.045
    // z = 0.2231436 / 0.2121320 = 1.051909; p = 2 Phi(-1.051909) = 0.2928 (Phi(1.05) = 0.85314, Phi(1.06) = 0.85543)
    const a: VariantData = { totals: T({ spend: 1000, conversions: 50, clicks: 2000, impressions: 100_000 }) };
    const b: VariantData = { totals: T({ spend: 1000, conversions: 40, clicks: 2000, impressions: 100_000 }) };
    const e = computable(estimateLift('cpa', a, b));
    expect(e.logLift).toBeCloseTo(Math.log(1.25), 12);
    expect(e.variance).toBeCloseTo(0.045, 14);
    expect(fixedHorizon(e.logLift, e.variance).pValue).toBeCloseTo(0.2928, 3);
    // Lower is better: B's higher CPA makes A the likely better one.
    expect(bayesian(e.logLift, e.variance, -1).probBBetter).toBeCloseTo(0.2928 / 2, 3);
  });

  it('per-day model equals g\u2032 S g / n from the covariance matrix of the daily (spend, conversions) of both variants', () => {
    const spendA = [300, 120, 500, 250, 80, 410, 340];
    const convA = [22, 3, 12, 20, 9, 8, 15];
    const spendB = [280, 150, 460, 300, 60, 390, 360];
    const convB = [8, 16, 30, 7, 2, 25, 12];
    const mk = (spend: number[], conv: number[]): VariantData => {
      const daily: DailyTotals[] = spend.map((s, i) => ({ day: `2025-03-0${i + 1}`, impressions: 50 * s, clicks: 2 * s, conversions: conv[i]!, spend: s, conversionValue: 40 * conv[i]! }));
      const sum = (k: keyof VariantTotals) => daily.reduce((acc, d) => acc + d[k], 0);
      return { totals: T({ impressions: sum('impressions'), clicks: sum('clicks'), conversions: sum('conversions'), spend: sum('spend'), conversionValue: sum('conversionValue') }), daily };
    };
    const a = mk(spendA, convA);
    const b = mk(spendB, convB);
    const n = 7;
    const cols = [spendB, convB, spendA, convA];
    const mean = cols.map((c) => c.reduce((s, v) => s + v, 0) / n);
    const cov = (i: number, j: number) => cols[i]!.reduce((s, _, d) => s + (cols[i]![d]! - mean[i]!) * (cols[j]![d]! - mean[j]!), 0) / (n - 1);
    // ln CPA_B - ln CPA_A = ln xB - ln yB - ln xA + ln yA  ->  g = (1/xbarB, -1/ybarB, -1/xbarA, 1/ybarA)
    const g = [1 / mean[0]!, -1 / mean[1]!, -1 / mean[2]!, 1 / mean[3]!];
    let quad = 0;
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) quad += g[i]! * g[j]! * cov(i, j);
    // widened by the t factor for 6 df: (t_6,0.975 / z_0.975)^2 = (2.446912 / 1.959964)^2 = 1.558640
    const expected = (quad / n) * (2.446912 / 1.959964) ** 2;
    const e = computable(estimateLift('cpa', a, b));
    expect(e.varianceModel).toBe('per_day');
    expect(e.days).toBe(7);
    expect(expected).toBeGreaterThan(5 * (1 / 89 + 1 / 100)); // above the Poisson floor, so the floor does not bind
    expect(e.variance / expected).toBeCloseTo(1, 3);
    expect(e.logLift).toBeCloseTo(Math.log((2000 / 100) / (2000 / 89)), 12);
  });

  it('per-day variance falls back to totals under 7 days and is floored at sampling noise', () => {
    const days = (k: number, conv: number): DailyTotals[] =>
      Array.from({ length: k }, (_, i) => ({ day: `2025-04-${String(i + 1).padStart(2, '0')}`, impressions: 10_000, clicks: 200, conversions: conv, spend: 100, conversionValue: 0 }));
    const v = (k: number, conv: number): VariantData => ({ daily: days(k, conv), totals: T({ impressions: 10_000 * k, clicks: 200 * k, conversions: conv * k, spend: 100 * k }) });
    expect(computable(estimateLift('cpa', v(6, 10), v(6, 12))).varianceModel).toBe('totals');
    // Perfectly steady days: per-day variance 0, floored at 1/70 + 1/84.
    const e = computable(estimateLift('cpa', v(7, 10), v(7, 12)));
    expect(e.varianceModel).toBe('per_day');
    expect(e.variance).toBeCloseTo(1 / 70 + 1 / 84, 14);
  });
});

describe('ROAS totals model', () => {
  it('value compound Poisson: Var(ln V) = (1 + cv^2)/N', () => {
    const a: VariantData = { totals: T({ spend: 1000, conversions: 100, conversionValue: 3000 }) };
    const b: VariantData = { totals: T({ spend: 1000, conversions: 80, conversionValue: 3300 }) };
    const e = computable(estimateLift('roas', a, b, { valueCv: 0.5 }));
    expect(e.logLift).toBeCloseTo(Math.log(3.3 / 3), 12);
    expect(e.variance).toBeCloseTo(1.25 / 100 + 1.25 / 80, 14);
  });
});

describe('properties', () => {
  const daily = (seed: number): DailyTotals[] =>
    Array.from({ length: 10 }, (_, i) => {
      const f = 1 + 0.3 * Math.sin(seed + i * 1.7);
      const clicks = Math.round(900 * f);
      return { day: `2025-05-${String(i + 1).padStart(2, '0')}`, impressions: Math.round(40_000 * f), clicks, conversions: Math.round(clicks * (0.03 + 0.004 * Math.cos(seed * 3 + i))), spend: Math.round(clicks * 0.8 * 100) / 100, conversionValue: Math.round(clicks * 1.5) };
    });
  const data = (seed: number): VariantData => {
    const d = daily(seed);
    const sum = (k: keyof VariantTotals) => d.reduce((acc, x) => acc + x[k], 0);
    return { daily: d, totals: T({ impressions: sum('impressions'), clicks: sum('clicks'), conversions: sum('conversions'), spend: sum('spend'), conversionValue: sum('conversionValue') }) };
  };
  const metrics: AbMetric[] = ['ctr', 'cvr', 'cpa', 'roas', 'cpc'];

  it.each(metrics)('%s: swapping A and B negates the log lift and mirrors every read-out', (metric) => {
    for (const perDay of [true, false]) {
      const a = data(1);
      const b = data(2);
      const strip = (v: VariantData): VariantData => (perDay ? v : { totals: v.totals });
      const ab = analyzeAbTest(metric, strip(a), strip(b));
      const ba = analyzeAbTest(metric, strip(b), strip(a));
      const e1 = computable(ab.estimate);
      const e2 = computable(ba.estimate);
      expect(e1.varianceModel).toBe(perDay ? 'per_day' : 'totals');
      expect(e2.logLift).toBeCloseTo(-e1.logLift, 12);
      expect(e2.variance).toBeCloseTo(e1.variance, 14);
      expect(ba.fixed!.pValue).toBeCloseTo(ab.fixed!.pValue, 12);
      expect(ba.bayes!.probBBetter).toBeCloseTo(1 - ab.bayes!.probBBetter, 12);
      expect(ba.bayes!.expectedLossA).toBeGreaterThanOrEqual(0);
      expect(ba.sequential!.pValue).toBeCloseTo(ab.sequential!.pValue, 12);
      expect(ba.sequential!.logInterval.lower).toBeCloseTo(-ab.sequential!.logInterval.upper, 12);
    }
  });

  it('A against itself: zero lift, p = 1, chance to beat 1/2', () => {
    const a = data(3);
    const r = analyzeAbTest('cvr', a, a);
    expect(computable(r.estimate).logLift).toBe(0);
    expect(r.fixed!.pValue).toBe(1);
    expect(r.bayes!.probBBetter).toBe(0.5);
    expect(r.decision.status).toBe('no_winner_yet');
  });

  it.each(metrics)('%s: the currency unit does not matter (spend and value x 100)', (metric) => {
    const a = data(4);
    const b = data(5);
    const cents = (v: VariantData): VariantData => ({
      totals: { ...v.totals, spend: v.totals.spend * 100, conversionValue: v.totals.conversionValue * 100 },
      daily: v.daily!.map((d) => ({ ...d, spend: d.spend * 100, conversionValue: d.conversionValue * 100 })),
    });
    const e1 = computable(estimateLift(metric, a, b));
    const e2 = computable(estimateLift(metric, cents(a), cents(b)));
    expect(e2.logLift).toBeCloseTo(e1.logLift, 12);
    expect(e2.variance / e1.variance).toBeCloseTo(1, 10);
  });

  it('zeros give a reason, never NaN or Infinity', () => {
    const ok = T({ impressions: 1000, clicks: 50, conversions: 5, spend: 40, conversionValue: 200 });
    const cases: [AbMetric, VariantTotals, string][] = [
      ['ctr', T({}), 'zero_denominator'],
      ['ctr', T({ impressions: 1000 }), 'zero_numerator'],
      ['cvr', T({ impressions: 1000 }), 'zero_denominator'],
      ['cpa', T({ impressions: 1000, clicks: 20, spend: 30 }), 'zero_denominator'],
      ['cpa', T({ impressions: 1000, clicks: 20, conversions: 2 }), 'zero_numerator'],
      ['roas', T({ impressions: 1000, clicks: 20, conversions: 2, conversionValue: 100 }), 'zero_denominator'],
      ['cpc', T({ impressions: 1000, spend: 10 }), 'zero_denominator'],
      ['cvr', T({ impressions: 1000, clicks: 3, conversions: 3 }), 'no_variance'],
      ['cpa', T({ spend: Number.NaN, conversions: 3 }), 'invalid_input'],
    ];
    for (const [metric, bad, reason] of cases) {
      for (const r of [analyzeAbTest(metric, { totals: ok }, { totals: bad }), analyzeAbTest(metric, { totals: bad }, { totals: ok })]) {
        expect(r.estimate.computable).toBe(false);
        expect(r.estimate.computable ? '' : r.estimate.reason).toBe(reason);
        expect(r.decision.status).toBe('not_computable');
        expect(r.decision.message).toMatch(/variant|finite|variance|100 %/i);
        expect(JSON.stringify(r)).not.toMatch(/NaN|Infinity/);
      }
    }
  });

  it('daily rows that do not add up to the totals are refused', () => {
    const a = data(6);
    const broken: VariantData = { ...a, totals: { ...a.totals, conversions: a.totals.conversions + 5 } };
    const r = estimateLift('cvr', broken, data(7));
    expect(r.computable ? '' : r.reason).toBe('daily_totals_mismatch');
  });
});

describe('decision', () => {
  it('never a winner before the minimum sample, however large the lift', () => {
    // 90 vs 200 conversions on 2,000 clicks each: the interval clears 0, but A has < 100 conversions.
    const a: VariantData = { totals: T({ impressions: 100_000, clicks: 2000, conversions: 90 }) };
    const b: VariantData = { totals: T({ impressions: 100_000, clicks: 2000, conversions: 200 }) };
    const r = analyzeAbTest('cvr', a, b);
    expect(r.sequential!.interval.lower).toBeGreaterThan(0);
    expect(r.decision.status).toBe('not_enough_data');
    expect(r.decision.message).toContain('100 needed');
  });

  it('winner when the always-valid interval excludes 0 and the sample is reached; lower-is-better metrics point the right way', () => {
    const a: VariantData = { totals: T({ impressions: 200_000, clicks: 5000, conversions: 150, spend: 4000 }) };
    const b: VariantData = { totals: T({ impressions: 200_000, clicks: 5000, conversions: 260, spend: 4000 }) };
    expect(analyzeAbTest('cvr', a, b).decision.status).toBe('winner_b');
    expect(analyzeAbTest('cpa', a, b).decision.status).toBe('winner_b'); // B's CPA is lower
    expect(analyzeAbTest('cpa', b, a).decision.status).toBe('winner_a');
    expect(analyzeAbTest('cvr', a, b).decision.message).toMatch(/^B wins: B's conversion rate is \+73\.3 %/);
  });

  it('a significant fixed-horizon p is not enough: the always-valid interval decides', () => {
    // 1,000 vs 1,100 conversions on 20,000 clicks: p = 0.026, but the always-valid interval holds 0.
    const a: VariantData = { totals: T({ impressions: 1e6, clicks: 20_000, conversions: 1000 }) };
    const b: VariantData = { totals: T({ impressions: 1e6, clicks: 20_000, conversions: 1100 }) };
    const r = analyzeAbTest('cvr', a, b);
    expect(r.fixed!.pValue).toBeLessThan(0.05);
    expect(r.decision.status).toBe('no_winner_yet');
  });

  it('a broken split blocks the winner', () => {
    const a: VariantData = { totals: T({ impressions: 110_000, clicks: 5000, conversions: 150 }) };
    const b: VariantData = { totals: T({ impressions: 90_000, clicks: 5000, conversions: 260 }) };
    expect(analyzeAbTest('cvr', a, b).decision.status).toBe('check_split');
  });
});

describe('sample-ratio and spend-split check', () => {
  it('chi-squared on impressions, warned under p = 0.001', () => {
    // 50,500 / 49,500 against 50/50: chi2 = 2 * 500^2 / 50,000 = 10, p = 2 Phi(-sqrt 10) = 0.001565
    const c1 = checkSplit(T({ impressions: 50_500 }), T({ impressions: 49_500 }));
    expect(c1.pValue).toBeCloseTo(0.001565, 5);
    expect(c1.ok).toBe(true);
    // 50,600 / 49,400: chi2 = 2 * 600^2 / 50,000 = 14.4, p = 0.000148
    const c2 = checkSplit(T({ impressions: 50_600 }), T({ impressions: 49_400 }));
    expect(c2.pValue).toBeCloseTo(0.000148, 5);
    expect(c2.ok).toBe(false);
    expect(c2.message).toMatch(/less than once in a thousand/);
    // A planned 70/30 split: 70,000 / 30,000 is exact.
    expect(checkSplit(T({ impressions: 70_000 }), T({ impressions: 30_000 }), 0.3).pValue).toBe(1);
  });

  it('spend split against a tolerance', () => {
    expect(checkSplit(T({ spend: 520 }), T({ spend: 480 }), 0.5, 'spend').ok).toBe(true);
    expect(checkSplit(T({ spend: 600 }), T({ spend: 400 }), 0.5, 'spend').ok).toBe(false);
    expect(checkSplit(T({}), T({}), 0.5, 'spend').ok).toBe(true);
  });
});

describe('sample size', () => {
  it('conversion rate 5 %, +10 %: n = (z_.975 + z_.8)^2 [(1-p1)/p1 + (1-p2)/p2] / ln(1.1)^2', () => {
    // (1.959964 + 0.841621)^2 = 7.848879; 0.95/0.05 + 0.945/0.055 = 19 + 17.181818 = 36.181818
    // ln(1.1)^2 = 0.00908403 -> n = 7.848879 * 36.181818 / 0.00908403 = 31,262.2 -> 31,263 clicks
    // (the classic difference-of-proportions formula gives about 31,200: same to 0.2 %)
    const r = sampleSize({ metric: 'cvr', mde: 0.1, dailyPerVariant: T({ clicks: 2000, conversions: 100 }) });
    if ('computable' in r) throw new Error(r.message);
    expect(r.unit).toBe('clicks');
    expect(r.perVariant).toBe(31_263);
    expect(r.daysForPower).toBe(Math.ceil(31_262.2 / 2000));
    expect(r.sequentialDays).toBeGreaterThan(r.daysForPower);
    expect(r.daysNeeded).toBe(r.sequentialDays);
  });

  it('CPA: 1 per conversion by the model, the daily spread when recent days are given', () => {
    // 2 * 7.848879 / ln(1.2)^2 = 15.697758 / 0.03324115 = 472.24 conversions
    const base = { metric: 'cpa' as const, mde: 0.2, dailyPerVariant: T({ clicks: 1000, conversions: 20, spend: 500 }) };
    const m = sampleSize(base);
    if ('computable' in m) throw new Error(m.message);
    expect(m.perVariant).toBe(473);
    expect(m.varianceSource).toBe('model');
    const recent = [14, 25, 31, 18, 22, 9, 21].map((c, i) => T({ conversions: c, spend: 500 + 20 * i }));
    const vDay = dailyLogVarianceFromRecent('cpa', recent);
    const r = sampleSize({ ...base, recentDaily: recent });
    if ('computable' in r) throw new Error(r.message);
    expect(vDay).toBeGreaterThan(1 / 20);
    expect(r.varianceSource).toBe('recent_days');
    expect(Math.abs(r.perVariant - (2 * 7.848879 * vDay * 20) / Math.log(1.2) ** 2)).toBeLessThan(1);
  });

  it('the minimum sample sets the floor of the days', () => {
    const r = sampleSize({ metric: 'ctr', mde: 0.5, dailyPerVariant: T({ impressions: 1e6, clicks: 100 }) });
    if ('computable' in r) throw new Error(r.message);
    expect(r.daysNeeded).toBe(10); // 1,000 clicks at 100 a day
  });
});
