// The benchmark verdict: which side of p10/p50/p90 a value is on, and whether
// that is good, for metrics where higher is better (ROAS, CTR), lower is
// better (CPA, CPC, CPM), and neither (spend). Each case is worked out by hand
// from the numbers in its line.
import { describe, expect, it } from 'vitest';
import { benchmarkPosition, benchmarkVerdict } from '@/lib/performance/benchmark-verdict';

describe('benchmarkPosition', () => {
  // p10 1, p50 2, p90 4.
  it.each([
    [4.5, 'above-p90'],
    [4, 'above-median'], // exactly p90 is not beyond it
    [3, 'above-median'],
    [2, 'at-median'],
    [1.5, 'below-median'],
    [1, 'below-median'], // exactly p10 is not beyond it
    [0.5, 'below-p10'],
  ] as const)('value %s with p10 1, p50 2, p90 4 is %s', (value, position) => {
    expect(benchmarkPosition(1, 2, 4, value)).toBe(position);
  });

  it('never crosses a missing percentile', () => {
    // 10 is far above a median of 2, but without p90 it is only "above the median".
    expect(benchmarkPosition(1, 2, null, 10)).toBe('above-median');
    expect(benchmarkPosition(null, 2, 4, 0)).toBe('below-median');
    expect(benchmarkPosition(null, 2, null, 2)).toBe('at-median');
  });

  it('has no position without a value', () => {
    expect(benchmarkPosition(1, 2, 4, null)).toBe('no-value');
    expect(benchmarkPosition(1, 2, 4, Number.NaN)).toBe('no-value');
  });
});

describe('benchmarkVerdict, higher is better (ROAS, CTR)', () => {
  // ROAS p10 1.5, p50 2.8, p90 4.2.
  it('above p90 is the top 10 %', () => {
    expect(benchmarkVerdict('roas', 1.5, 2.8, 4.2, 5.1)).toEqual({
      position: 'above-p90',
      tone: 'good',
      text: 'Top 10 % of the industry: ROAS above the 90th percentile.',
    });
  });

  it('below p10 is the bottom 10 %', () => {
    expect(benchmarkVerdict('roas', 1.5, 2.8, 4.2, 0.9)).toEqual({
      position: 'below-p10',
      tone: 'bad',
      text: 'Bottom 10 % of the industry: ROAS below the 10th percentile.',
    });
  });

  it('between the median and p90 is better than the median', () => {
    expect(benchmarkVerdict('roas', 1.5, 2.8, 4.2, 3.3)).toEqual({
      position: 'above-median',
      tone: 'good',
      text: 'Better than the industry median: higher ROAS.',
    });
  });

  it('between p10 and the median is worse than the median (CTR 0.9 % against a median of 1.2 %)', () => {
    expect(benchmarkVerdict('ctr', 0.006, 0.012, 0.02, 0.009)).toEqual({
      position: 'below-median',
      tone: 'bad',
      text: 'Worse than the industry median: lower CTR.',
    });
  });

  it('at the median is neutral', () => {
    expect(benchmarkVerdict('ctr', 0.006, 0.012, 0.02, 0.012)).toEqual({
      position: 'at-median',
      tone: 'neutral',
      text: 'CTR at the industry median.',
    });
  });
});

describe('benchmarkVerdict, lower is better (CPA, CPC, CPM)', () => {
  // CPA p10 12, p50 25, p90 48.
  it('below p10 is the top 10 %', () => {
    expect(benchmarkVerdict('cpa', 12, 25, 48, 9.5)).toEqual({
      position: 'below-p10',
      tone: 'good',
      text: 'Top 10 % of the industry: CPA below the 10th percentile.',
    });
  });

  it('above p90 is the bottom 10 %', () => {
    expect(benchmarkVerdict('cpa', 12, 25, 48, 60)).toEqual({
      position: 'above-p90',
      tone: 'bad',
      text: 'Bottom 10 % of the industry: CPA above the 90th percentile.',
    });
  });

  it('under the median is better, over it worse', () => {
    // CPC p10 0.3, p50 0.8, p90 1.9: 0.5 is cheaper than the median, 1.2 dearer.
    expect(benchmarkVerdict('cpc', 0.3, 0.8, 1.9, 0.5)).toEqual({
      position: 'below-median',
      tone: 'good',
      text: 'Better than the industry median: lower CPC (lower is better).',
    });
    expect(benchmarkVerdict('cpc', 0.3, 0.8, 1.9, 1.2)).toEqual({
      position: 'above-median',
      tone: 'bad',
      text: 'Worse than the industry median: higher CPC (lower is better).',
    });
  });

  it('a high CPM is never called the top 10 %', () => {
    // CPM p10 4, p50 9, p90 20: 25 is above p90, which for a cost is the bottom.
    const v = benchmarkVerdict('cpm', 4, 9, 20, 25);
    expect(v.tone).toBe('bad');
    expect(v.text).toMatch(/^Bottom 10 %/);
  });
});

describe('benchmarkVerdict, missing p10 or p90', () => {
  it('without p10, a very low CPA is only better than the median', () => {
    expect(benchmarkVerdict('cpa', null, 25, 48, 3)).toEqual({
      position: 'below-median',
      tone: 'good',
      text: 'Better than the industry median: lower CPA (lower is better).',
    });
  });

  it('without p90, a very high ROAS is only better than the median', () => {
    expect(benchmarkVerdict('roas', 1.5, 2.8, null, 9)).toEqual({
      position: 'above-median',
      tone: 'good',
      text: 'Better than the industry median: higher ROAS.',
    });
  });

  it('with p90 but not p10, a high CPA is still the bottom 10 %', () => {
    expect(benchmarkVerdict('cpa', null, 25, 48, 50).text).toBe('Bottom 10 % of the industry: CPA above the 90th percentile.');
  });

  it('with neither, the median alone decides', () => {
    expect(benchmarkVerdict('ctr', null, 0.012, null, 0.03).position).toBe('above-median');
    expect(benchmarkVerdict('ctr', null, 0.012, null, 0.012).position).toBe('at-median');
  });
});

describe('benchmarkVerdict, no value or no direction', () => {
  it('says there is nothing to compare without a value', () => {
    expect(benchmarkVerdict('roas', 1.5, 2.8, 4.2, null)).toEqual({
      position: 'no-value',
      tone: 'neutral',
      text: 'No value in this range to compare with the industry.',
    });
  });

  it('spend has no good direction: where it is, with no praise or blame', () => {
    expect(benchmarkVerdict('spend', 100, 500, 2000, 3000)).toEqual({
      position: 'above-p90',
      tone: 'neutral',
      text: 'Spend above the 90th percentile of the industry.',
    });
    expect(benchmarkVerdict('spend', 100, 500, 2000, 300)).toEqual({
      position: 'below-median',
      tone: 'neutral',
      text: 'Spend below the industry median.',
    });
  });
});
