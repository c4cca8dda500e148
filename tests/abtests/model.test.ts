// The pure half of an A/B test's life (lib/abtests/model.ts): entered totals read or refused with the
// field named, the looks of a test day after day checked against analyzeAbTest called directly on
// totals summed by hand (and one look's lift and always-valid p-value worked out from the formulas),
// and the latched reading: the first winner kept, ineligible looks ignored, an earlier run carried.
import { describe, expect, it } from 'vitest';
import { lookOf, lookSeries, parsePerformance, readLooks, toPerformanceJson, type Look } from '@/lib/abtests/model';
import { analyzeAbTest, type DailyTotals, type VariantTotals } from '@/lib/abtests/stats';

const t = (impressions: number, clicks: number, conversions: number, spend: number, conversionValue: number): VariantTotals => ({
  impressions,
  clicks,
  conversions,
  spend,
  conversionValue,
});
const d = (day: string, ...v: Parameters<typeof t>): DailyTotals => ({ day, ...t(...v) });

describe('parsePerformance: the entered totals', () => {
  it('reads numbers and numbers written as strings; missing keys are 0', () => {
    expect(parsePerformance({ impressions: '1200', clicks: ' 30 ', conversions: '2.5', spend: '99.90', conversion_value: 0 }, 'performance_a')).toEqual({
      ok: true,
      empty: false,
      totals: t(1200, 30, 2.5, 99.9, 0),
    });
    expect(parsePerformance({ clicks: 40, conversions: 3 })).toEqual({ ok: true, empty: false, totals: t(0, 40, 3, 0, 0) });
  });

  it('an empty object or no value is a variant without data yet', () => {
    expect(parsePerformance({})).toEqual({ ok: true, empty: true, totals: t(0, 0, 0, 0, 0) });
    expect(parsePerformance({ clicks: 0, spend: '0' })).toEqual({ ok: true, empty: true, totals: t(0, 0, 0, 0, 0) });
    expect(parsePerformance(null)).toEqual({ ok: true, empty: true, totals: t(0, 0, 0, 0, 0) });
  });

  it('refuses what is not a count or an amount, naming the field', () => {
    const bad = (value: unknown, label = 'performance_a') => {
      const r = parsePerformance(value, label);
      expect(r.ok).toBe(false);
      return r.ok ? '' : r.message;
    };
    expect(bad({ clicks: 'lots' })).toBe('performance_a.clicks must be a number (got "lots")');
    expect(bad({ conversions: -3 })).toBe('performance_a.conversions cannot be negative (got -3)');
    expect(bad({ spend: '-1.50' }, 'performance_b')).toBe('performance_b.spend cannot be negative (got -1.5)');
    expect(bad({ spend: Number.NaN })).toBe('performance_a.spend must be a number (got null)');
    // Fixed after review: a JSON number beyond a double (1e400 from psql) arrives as Infinity and is named too large, not "got null".
    expect(bad({ impressions: Number.POSITIVE_INFINITY })).toBe('performance_a.impressions is too large (beyond what a number can hold)');
    expect(bad({ clicks: [12] })).toBe('performance_a.clicks must be a number (got [12])');
    expect(bad({ clicks: true })).toBe('performance_a.clicks must be a number (got true)');
    expect(bad({ conversion_value: '1e5' })).toBe('performance_a.conversion_value must be a number (got "1e5")');
    expect(bad({ impressions: 1e13 })).toBe('performance_a.impressions is too large (10000000000000)');
    expect(bad({ clicks: 10.5 })).toBe('performance_a.clicks must be a whole number (got 10.5)');
    expect(bad({ impressions: '999.5' })).toBe('performance_a.impressions must be a whole number (got 999.5)');
    expect(bad([1, 2, 3])).toBe('performance_a must be a JSON object');
    expect(bad('{"clicks": 3}', 'performance_b')).toBe('performance_b must be a JSON object');
    expect(bad({ impressions: 100, clicks: 101 })).toBe('performance_a: clicks (101) exceed impressions (100)');
    expect(bad({ clicks: 10, conversions: 11 })).toBe('performance_a: conversions (11) exceed clicks (10)');
  });

  it('writes totals back to the cent, counts whole', () => {
    expect(toPerformanceJson(t(1000.4, 20.6, 3.333, 10.005, 99.999))).toEqual({ impressions: 1000, clicks: 21, conversions: 3.33, spend: 10.01, conversion_value: 100 });
  });
});

// Three days of each arm (and a day before the range), conversion rate.
const A3 = [d('2025-02-28', 9000, 200, 90, 100, 100), d('2025-03-01', 50000, 1000, 30, 400, 1800), d('2025-03-02', 55000, 1100, 35, 440, 2100), d('2025-03-03', 45000, 900, 28, 360, 1680)];
const B3 = [d('2025-02-28', 9000, 200, 1, 100, 100), d('2025-03-01', 49000, 1000, 40, 410, 2400), d('2025-03-02', 52000, 1050, 44, 430, 2600), d('2025-03-03', 47000, 950, 41, 380, 2500)];

// The loop's default design splits the budget: the split is checked on spend.
const SPEND = { allocationUnit: 'spend' } as const;

describe('lookSeries: the test read at the end of every day', () => {
  it('one look per day in range, each the analysis of the days up to it', () => {
    const looks = lookSeries('cvr', A3, B3, SPEND, { from: '2025-03-01' });
    expect(looks.map((l) => l.day)).toEqual(['2025-03-01', '2025-03-02', '2025-03-03']);
    // cumulative totals summed by hand
    const cumA = [t(50000, 1000, 30, 400, 1800), t(105000, 2100, 65, 840, 3900), t(150000, 3000, 93, 1200, 5580)];
    const cumB = [t(49000, 1000, 40, 410, 2400), t(101000, 2050, 84, 840, 5000), t(148000, 3000, 125, 1220, 7500)];
    for (let i = 0; i < 3; i++) {
      const direct = analyzeAbTest('cvr', { totals: cumA[i]!, daily: A3.slice(1, i + 2) }, { totals: cumB[i]!, daily: B3.slice(1, i + 2) }, SPEND);
      expect(looks[i]).toEqual(lookOf(looks[i]!.day, direct));
    }
    // The third look from the formulas (fewer than 7 days: binomial variance of each rate):
    // lift = (125/3000) / (93/3000) - 1; V = (1 - pA)/93 + (1 - pB)/125; tau = ln 1.1;
    // Lambda = sqrt(V/(V+tau^2)) exp(tau^2 theta^2 / (2 V (V+tau^2))), p = 1/Lambda.
    const pA = 93 / 3000;
    const pB = 125 / 3000;
    const theta = Math.log(pB / pA);
    const V = (1 - pA) / 93 + (1 - pB) / 125;
    const tau2 = Math.log(1.1) ** 2;
    const lambda = Math.sqrt(V / (V + tau2)) * Math.exp((tau2 * theta * theta) / (2 * V * (V + tau2)));
    const last = looks[2]!;
    expect(last.lift).toBeCloseTo(125 / 93 - 1, 12); // +34.4 %
    expect(last.lower).toBeCloseTo(Math.exp(theta - 1.959964 * Math.sqrt(V)) - 1, 5);
    expect(last.pSeq).toBeCloseTo(1 / lambda, 10);
    // three days and 93 conversions on A: below the minimum sample, so it cannot decide
    expect(last.decision).toBe('not_enough_data');
    expect(last.eligible).toBe(false);
    // Read as an audience split, the impressions 150,000 against 148,000 fail the chi-squared check
    // (statistic 2 * 1000^2 / 149000 = 13.4, p = 0.00025 < 0.001): that look cannot decide either.
    expect(lookSeries('cvr', A3, B3, { allocationUnit: 'impressions' }, { from: '2025-03-01' })[2]!.decision).toBe('check_split');
  });

  it('days are the union of both arms: a day B has no row for reads B as it stood', () => {
    const b = [B3[1]!, B3[3]!];
    const looks = lookSeries('cvr', A3.slice(1), b, SPEND);
    expect(looks.map((l) => l.day)).toEqual(['2025-03-01', '2025-03-02', '2025-03-03']);
    const second = analyzeAbTest('cvr', { totals: t(105000, 2100, 65, 840, 3900), daily: A3.slice(1, 3) }, { totals: t(49000, 1000, 40, 410, 2400), daily: [B3[1]!] }, SPEND);
    expect(looks[1]).toEqual(lookOf('2025-03-02', second));
    expect(looks[1]!.lift).toBeCloseTo(40 / 1000 / (65 / 2100) - 1, 12);
  });

  it('from the seventh day the per-day variance is used and the look can decide', () => {
    const days = Array.from({ length: 10 }, (_, i) => `2025-04-${String(i + 1).padStart(2, '0')}`);
    const a = days.map((day, i) => d(day, 40000 + 1000 * i, 1000 + 13 * i, 30 + ((i * 7) % 11), 400, 1800));
    const b = days.map((day, i) => d(day, 41000 + 700 * i, 1010 + 11 * i, 45 + ((i * 5) % 9), 405, 2500));
    const looks = lookSeries('cvr', a, b, SPEND);
    expect(looks).toHaveLength(10);
    const sumUpTo = (xs: DailyTotals[], n: number) =>
      xs.slice(0, n).reduce((s, x) => t(s.impressions + x.impressions, s.clicks + x.clicks, s.conversions + x.conversions, s.spend + x.spend, s.conversionValue + x.conversionValue), t(0, 0, 0, 0, 0));
    for (const n of [6, 7, 10]) {
      const direct = analyzeAbTest('cvr', { totals: sumUpTo(a, n), daily: a.slice(0, n) }, { totals: sumUpTo(b, n), daily: b.slice(0, n) }, SPEND);
      expect(direct.estimate.computable && direct.estimate.varianceModel).toBe(n >= 7 ? 'per_day' : 'totals');
      expect(looks[n - 1]).toEqual(lookOf(days[n - 1]!, direct));
    }
    expect(looks[9]!.eligible).toBe(true);
  });
});

const look = (day: string, decision: Look['decision'], pSeq: number | null, eligible = decision === 'winner_a' || decision === 'winner_b' || decision === 'no_winner_yet'): Look => ({
  day,
  lift: 0.1,
  lower: null,
  upper: null,
  seqLower: null,
  seqUpper: null,
  pValue: null,
  pSeq,
  probBBetter: null,
  decision,
  eligible,
});

describe('readLooks: the latched winner and the running minimum', () => {
  it('keeps the first winner through a later reversal; the minimum runs on', () => {
    const r = readLooks([
      look('2025-03-01', 'no_winner_yet', 0.4),
      look('2025-03-02', 'winner_b', 0.03),
      look('2025-03-03', 'no_winner_yet', 0.2),
      look('2025-03-04', 'winner_a', 0.0123456),
    ]);
    expect(r).toEqual({ winner: 'B', winnerDay: '2025-03-02', minPSeq: 0.0123456, significance: 0.98765 });
  });

  it('ignores looks that could not decide, however small their p-value', () => {
    const r = readLooks([look('2025-03-01', 'not_enough_data', 0.0001), look('2025-03-02', 'check_split', 0.0002), look('2025-03-03', 'not_computable', null), look('2025-03-04', 'no_winner_yet', 0.25)]);
    expect(r).toEqual({ winner: null, winnerDay: null, minPSeq: 0.25, significance: 0.75 });
    expect(readLooks([look('2025-03-01', 'not_enough_data', 0.001)])).toEqual({ winner: null, winnerDay: null, minPSeq: null, significance: null });
    expect(readLooks([])).toEqual({ winner: null, winnerDay: null, minPSeq: null, significance: null });
  });

  it('carries what an earlier run latched: its winner and day stay, its minimum is the floor', () => {
    const prior = { winner: 'A' as const, winnerDay: '2025-03-05', minPSeq: 0.004 };
    expect(readLooks([look('2025-03-09', 'winner_b', 0.01)], prior)).toEqual({ winner: 'A', winnerDay: '2025-03-05', minPSeq: 0.004, significance: 0.996 });
    expect(readLooks([look('2025-03-09', 'no_winner_yet', 0.001)], prior)).toMatchObject({ winner: 'A', minPSeq: 0.001, significance: 0.999 });
    expect(readLooks([look('2025-03-09', 'winner_b', 0.02)], { minPSeq: 0.3 })).toEqual({ winner: 'B', winnerDay: '2025-03-09', minPSeq: 0.02, significance: 0.98 });
    expect(readLooks([], { minPSeq: 0.3 })).toEqual({ winner: null, winnerDay: null, minPSeq: 0.3, significance: 0.7 });
  });
});
