// The words of the A/B test pages: lifts and intervals, p-values and chances, the leader in the
// metric's good direction (a lower CPA leads), nothing before the minimum sample, never NaN or
// Infinity whatever the input, and the result view of tests that cannot be computed.
import { describe, expect, it } from 'vitest';
import { lookSeries, readLooks, zeroTotals } from '../../lib/abtests/model';
import { formatCalendarDay } from '../../lib/format/number';
import { analyzeAbTest, type AbTestAnalysis, type DailyTotals, type VariantTotals } from '../../lib/abtests/stats';
import {
  chanceText,
  figureRows,
  intervalText,
  leaderOf,
  liftTone,
  liftWithInterval,
  listRow,
  lossText,
  missingSample,
  parseStatusParam,
  pValueText,
  resultView,
  signedPercent,
  winnerOf,
  type ListTestInput,
  type ResultNowInput,
  type ResultTestInput,
} from '../../lib/abtests/view';

const T = (t: Partial<VariantTotals>): VariantTotals => ({ ...zeroTotals(), ...t });
const names = { a: 'Control', b: 'New headline' };
const style = { currency: 'EUR', locale: 'en-GB' };
const MINUS = '\u2212';

/** Everything a view writes, flattened to one string: checked for NaN and Infinity. */
function allText(x: unknown): string {
  return JSON.stringify(x, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? `BAD:${v}` : v));
}

describe('numbers in words', () => {
  it('a lift with its interval, signed, one decimal', () => {
    expect(liftWithInterval(0.123, 0.041, 0.212)).toBe('+12.3 % (+4.1 % to +21.2 %)');
    expect(liftWithInterval(-0.1, -0.25, 0.08)).toBe(`${MINUS}10.0 % (${MINUS}25.0 % to +8.0 %)`);
    expect(signedPercent(0)).toBe('0.0 %');
    expect(signedPercent(0.00004)).toBe('0.0 %');
    expect(signedPercent(2.4)).toBe('+240 %');
    expect(intervalText(-0.5, 1.5)).toBe(`${MINUS}50.0 % to +150 %`);
    // the tenant's locale writes the digits
    expect(signedPercent(0.123, 'de-DE')).toBe('+12,3 %');
  });

  it('never NaN or Infinity: a missing number is a dash', () => {
    for (const bad of [Number.NaN, Infinity, -Infinity, null, undefined]) {
      expect(signedPercent(bad)).toBe('—');
      expect(pValueText(bad)).toBe('—');
      expect(chanceText(bad)).toBe('—');
      expect(lossText(bad)).toBe('—');
      expect(liftWithInterval(bad, 0.1, 0.2)).toBe('—');
    }
    expect(liftWithInterval(0.1, Number.NaN, 0.2)).toBe('+10.0 %');
    expect(intervalText(0.1, Infinity)).toBe('—');
  });

  it('p-values and chances at their edges', () => {
    expect(pValueText(0.3141)).toBe('p = 0.31');
    expect(pValueText(0.0042)).toBe('p = 0.004');
    expect(pValueText(0.00001)).toBe('p < 0.001');
    expect(chanceText(0.873)).toBe('87 %');
    expect(chanceText(0.9942)).toBe('99.4 %');
    expect(chanceText(0.99995)).toBe('> 99.9 %');
    expect(chanceText(0.0002)).toBe('< 0.1 %');
    expect(lossText(0.0042)).toBe('0.42 %');
    expect(lossText(0.00001)).toBe('< 0.01 %');
  });
});

describe('the leader', () => {
  // CPA: A 1,000 / 200 = 5.00, B 900 / 200 = 4.50: B's CPA is 10 % lower, and lower is better.
  const cpaA = T({ impressions: 200_000, clicks: 4000, conversions: 200, spend: 1000, conversionValue: 8000 });
  const cpaB = T({ impressions: 200_000, clicks: 4000, conversions: 200, spend: 900, conversionValue: 8000 });

  it('a CPA lift of −10 % makes B the leader; its chance is P(B better)', () => {
    const an = analyzeAbTest('cpa', { totals: cpaA }, { totals: cpaB }, { allocationUnit: 'impressions' });
    expect(an.estimate.computable && Math.expm1(an.estimate.logLift)).toBeCloseTo(-0.1, 12);
    expect(liftTone('cpa', -0.1)).toBe('good');
    expect(liftTone('roas', -0.1)).toBe('bad');
    const l = leaderOf(an, names);
    expect(l).toMatchObject({ state: 'leader', arm: 'B', text: 'B · New headline' });
    // Var = 1/200 + 1/200 = 0.01; P(B better) = Phi(-ln 0.9 / 0.1) = Phi(1.05361) = 0.85397
    expect(l.chance).toBeCloseTo(0.85397, 4);
    expect(l.note).toBe('85 % chance to win');
  });

  it("A leads with 1 − P(B better) when B's CPA is higher", () => {
    const an = analyzeAbTest('cpa', { totals: cpaB }, { totals: cpaA }, { allocationUnit: 'impressions' });
    const l = leaderOf(an, names);
    expect(l.arm).toBe('A');
    expect(l.chance).toBeCloseTo(1 - an.bayes!.probBBetter, 12);
    expect(l.chance).toBeCloseTo(0.85397, 4);
  });

  it('before the minimum sample: no leader, "not enough data yet"', () => {
    // 60 conversions each: under the 100 needed
    const an = analyzeAbTest('cpa', { totals: T({ impressions: 50_000, clicks: 1000, conversions: 60, spend: 300 }) }, { totals: T({ impressions: 50_000, clicks: 1000, conversions: 60, spend: 200 }) });
    expect(an.minSampleReached).toBe(false);
    expect(leaderOf(an, names)).toMatchObject({ state: 'not_enough_data', arm: null, text: 'not enough data yet', chance: null });
    expect(missingSample('cpa', T({ conversions: 60 }), T({ conversions: 100 }), 5)).toEqual(['A: 60 of 100 conversions', '5 of 7 days, so that every weekday is in']);
  });

  it('zero conversions in an arm: not computable, said in words, no NaN', () => {
    const an = analyzeAbTest('cvr', { totals: T({ impressions: 10_000, clicks: 2000, conversions: 120 }) }, { totals: T({ impressions: 10_000, clicks: 2000, conversions: 0 }) });
    expect(an.decision.status).toBe('not_computable');
    const l = leaderOf(an, names);
    expect(l.text).toBe('not enough data yet');
    expect(allText(l)).not.toMatch(/NaN|BAD|Infinity/);
  });

  it('a split off plan: no leader read', () => {
    const a = T({ impressions: 100_000, clicks: 3000, conversions: 300, spend: 1000 });
    const b = T({ impressions: 110_000, clicks: 3300, conversions: 360, spend: 1100 });
    const an = analyzeAbTest('cvr', { totals: a }, { totals: b }, { allocationUnit: 'impressions' });
    expect(an.split.ok).toBe(false);
    expect(leaderOf(an, names)).toMatchObject({ state: 'check_split', arm: null });
  });

  it('the winner of a completed test with its significance', () => {
    expect(winnerOf('B', 0.98765, names)).toEqual({ text: 'B · New headline', note: 'significance 98.8 %' });
    expect(winnerOf('none', null, names)).toEqual({ text: 'No winner', note: null });
    expect(winnerOf(null, null, names)).toEqual({ text: '—', note: null });
    expect(winnerOf('A', 0.99, { a: 'A', b: 'B' }).text).toBe('A');
  });

  it('the list row: a live test shows its leader, a completed one its winner', () => {
    const base: ListTestInput = {
      id: '00000000-0000-4000-8000-000000000001',
      name: 'Headline',
      status: 'running',
      platform: 'meta',
      campaignId: 'c1',
      campaignName: 'Spring sale',
      type: 'creative',
      metric: 'cpa',
      variantA: 'Control',
      variantB: 'New headline',
      startDate: '2025-03-03',
      endDate: '2025-03-30',
      winner: null,
      significance: null,
    };
    const an = analyzeAbTest('cpa', { totals: cpaA }, { totals: cpaB }, { allocationUnit: 'impressions' });
    expect(listRow(base, an)).toMatchObject({
      href: `/ab-tests/${base.id}`,
      campaign: 'Spring sale',
      platform: 'Meta',
      dates: '3 Mar 2025 – 30 Mar 2025',
      metric: 'CPA',
      leader: 'B · New headline',
      leaderNote: '85 % chance to win',
      winner: '—',
    });
    expect(listRow({ ...base, status: 'completed', winner: 'A', significance: 0.995 }, an)).toMatchObject({ leader: '—', winner: 'A · Control', winnerNote: 'significance 99.5 %' });
    expect(winnerOf('B', 0.99996, names).note).toBe('significance > 99.9 %');
    expect(listRow({ ...base, status: 'draft', startDate: null, endDate: null }, null)).toMatchObject({ leader: '—', dates: 'not scheduled' });
  });

  it('the ?status= value: a status, every test, or a clear refusal', () => {
    expect(parseStatusParam('running')).toEqual({ status: 'running', invalid: null });
    expect(parseStatusParam(['Completed', 'draft'])).toEqual({ status: 'completed', invalid: null });
    expect(parseStatusParam(undefined)).toEqual({ status: null, invalid: null });
    expect(parseStatusParam('all')).toEqual({ status: null, invalid: null });
    expect(parseStatusParam("'; drop table")).toEqual({ status: null, invalid: "'; drop table" });
  });
});

describe('the result view', () => {
  const test: ResultTestInput = {
    id: '00000000-0000-4000-8000-000000000002',
    name: 'Landing page',
    status: 'running',
    platform: null,
    campaignId: null,
    campaignName: null,
    campaignHref: null,
    type: 'landing_page',
    hypothesis: 'A shorter form converts more.',
    metric: 'conversion_rate',
    variantA: 'Long form',
    variantB: 'Short form',
    startDate: '2025-03-01',
    endDate: null,
    winner: null,
    significance: null,
    design: { plannedShareB: 0.5, mde: 0.1, allocationUnit: 'spend', frozenAt: '2025-03-01T08:00:00Z', stored: true },
    variants: [],
    state: null,
  };
  const now = (a: VariantTotals, b: VariantTotals, extra: Partial<ResultNowInput> = {}): ResultNowInput => {
    const analysis = analyzeAbTest('cvr', { totals: a }, { totals: b }, { allocationUnit: 'spend' });
    return { totalsA: a, totalsB: b, dailyA: [], dailyB: [], analysis, looks: [], reading: readLooks([]), source: 'entered', ...extra };
  };

  it('zero conversions in an arm: why, in words, everywhere; no NaN or Infinity', () => {
    const v = resultView(test, now(T({ clicks: 2000, conversions: 130, spend: 500 }), T({ clicks: 2000, conversions: 0, spend: 500 })), style, 'Europe/Paris');
    expect(v.decision).toMatchObject({ status: 'not_computable', tone: 'error' });
    expect(v.decision.message).toBe('Variant B has no conversions yet, so the relative lift of its conversion rate is not defined.');
    expect(v.lift).toMatchObject({ computable: false, lift: '—', fixed: '—', chance: null });
    expect(v.figures.find((f) => f.key === 'cpa')).toMatchObject({ a: '€3.85', b: 'no conversions', change: '—' });
    expect(v.chart.emptyText).toMatch(/^No readings yet/);
    expect(allText(v)).not.toMatch(/NaN|BAD|Infinity/);
  });

  it('invalid entered totals: the field named, no result', () => {
    const message = 'performance_b.clicks must be a number (got "many")';
    const analysis: AbTestAnalysis = {
      ...analyzeAbTest('cvr', { totals: zeroTotals() }, { totals: zeroTotals() }),
      estimate: { computable: false, reason: 'invalid_input', message },
      decision: { status: 'not_computable', message },
    };
    const v = resultView(test, { ...now(zeroTotals(), zeroTotals()), analysis, invalid: message }, style, 'UTC');
    expect(v.decision.headline).toBe('The entered totals cannot be read');
    expect(v.decision.message).toContain(message);
    expect(v.lift.reason).toBe(message);
    expect(allText(v)).not.toMatch(/NaN|BAD|Infinity/);
  });

  it('before the minimum sample: the lift is shown as early, no chance, no winner', () => {
    const v = resultView(test, now(T({ clicks: 1000, conversions: 40, spend: 300 }), T({ clicks: 1000, conversions: 70, spend: 300 })), style, 'UTC');
    expect(v.decision).toMatchObject({ status: 'not_enough_data', headline: 'Not enough data yet', latched: null });
    expect(v.decision.missing).toEqual(['A: 40 of 100 conversions', 'B: 70 of 100 conversions']);
    expect(v.lift).toMatchObject({ computable: true, early: true, chance: null, lossA: null, lossB: null, lift: '+75.0 %' });
    expect(v.lift.bayes).toMatch(/^Held back: not enough data yet/);
  });

  it('a winner latched by the loop on its day, from daily looks', () => {
    // 14 days of 1,000 clicks each; A converts 3 %, B 4.5 %
    const days = Array.from({ length: 14 }, (_, i) => `2025-03-${String(i + 1).padStart(2, '0')}`);
    const dA: DailyTotals[] = days.map((day) => ({ day, impressions: 40_000, clicks: 1000, conversions: 30, spend: 400, conversionValue: 1500 }));
    const dB: DailyTotals[] = days.map((day) => ({ day, impressions: 40_000, clicks: 1000, conversions: 45 + (day.endsWith('2') ? 2 : -1), spend: 400, conversionValue: 2200 }));
    const sum = (d: DailyTotals[]) => d.reduce((s, x) => T({ impressions: s.impressions + x.impressions, clicks: s.clicks + x.clicks, conversions: s.conversions + x.conversions, spend: s.spend + x.spend, conversionValue: s.conversionValue + x.conversionValue }), zeroTotals());
    const looks = lookSeries('cvr', dA, dB, { allocationUnit: 'spend' });
    const reading = readLooks(looks);
    expect(reading.winner).toBe('B');
    const analysis = analyzeAbTest('cvr', { totals: sum(dA), daily: dA }, { totals: sum(dB), daily: dB }, { allocationUnit: 'spend' });
    const v = resultView(
      { ...test, variants: [{ arm: 'A', level: 'adset', platformId: '111', name: 'Long' }, { arm: 'B', level: 'adset', platformId: '222', name: null }], platform: 'meta' },
      { totalsA: sum(dA), totalsB: sum(dB), dailyA: dA, dailyB: dB, analysis, looks, reading, source: 'platform_ids' },
      style,
      'UTC',
    );
    expect(v.decision).toMatchObject({ tone: 'win', headline: 'B · Short form wins' });
    expect(v.decision.latched?.text).toContain(`as the winner on ${formatCalendarDay(reading.winnerDay!, 'en-GB')}:`);
    expect(v.chart.winnerDay).toBe(reading.winnerDay);
    expect(v.chart.points).toHaveLength(14);
    // the first six looks could not decide (7 days needed)
    expect(v.chart.points.slice(0, 6).every((p) => !p.eligible && p.decision === 'not_enough_data')).toBe(true);
    expect(v.lift.varianceModel).toMatch(/^Per day over 14 days/);
    expect(v.source.arms).toEqual([
      { arm: 'A', lines: ['ad set 111 (Long) on Meta'] },
      { arm: 'B', lines: ['ad set 222 on Meta'] },
    ]);
    expect(v.lift.chance).not.toBeNull();
    expect(allText(v)).not.toMatch(/NaN|BAD|Infinity/);
  });

  it('the figures: B against A, toned in each rate’s good direction', () => {
    const rows = figureRows(T({ impressions: 1000, clicks: 100, conversions: 10, spend: 100, conversionValue: 400 }), T({ impressions: 1000, clicks: 100, conversions: 12, spend: 100, conversionValue: 300 }), 'cvr', style);
    expect(rows.find((r) => r.key === 'cpa')).toMatchObject({ a: '€10.00', b: '€8.33', change: `${MINUS}16.7 %`, tone: 'good', primary: false });
    expect(rows.find((r) => r.key === 'cvr')).toMatchObject({ a: '10.00%', b: '12.00%', change: '+20.0 %', tone: 'good', primary: true });
    expect(rows.find((r) => r.key === 'roas')).toMatchObject({ change: `${MINUS}25.0 %`, tone: 'bad' });
  });
});
