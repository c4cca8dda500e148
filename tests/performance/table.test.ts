// The campaign table's figures: each row's rates and changes, and the totals
// row as ratios of sums over the rows in view (never averages of row rates).
// Every expected number is worked out by hand in the comments.
import { describe, expect, it } from 'vitest';
import { ZERO_TOTALS, type Platform, type Totals } from '@/lib/performance/metrics';
import { figuresOf, platformsText, ratingRank, ratingTone, RATINGS, rowFigures, statusLabel, totalsLabel, totalsOf } from '@/lib/performance/table';

function t(spend: number, impressions: number, clicks: number, conversions: number, value: number): Totals {
  return { spend, impressions, clicks, conversions, value };
}

// A (Meta): spend 100, 10 000 impressions, 200 clicks, 4 conversions, value 400; compared with 80, 8 000, 120, 4, 240.
const A = { platform: 'meta' as Platform, current: t(100, 10_000, 200, 4, 400), comparison: t(80, 8_000, 120, 4, 240) };
// B (Google): spend 300, 20 000 impressions, 200 clicks, 2 conversions, value 300; compared with 300, 20 000, 300, 3, 600.
const B = { platform: 'google' as Platform, current: t(300, 20_000, 200, 2, 300), comparison: t(300, 20_000, 300, 3, 600) };

describe('rowFigures', () => {
  it('computes the rates of a row and their changes against the comparison', () => {
    const f = rowFigures(A);
    expect(f.spend).toBe(100);
    expect(f.conversions).toBe(4);
    expect(f.value).toBe(400);
    // ROAS 400 / 100 = 4; CPA 100 / 4 = 25; CTR 200 / 10 000 = 0.02.
    expect(f.roas).toBe(4);
    expect(f.cpa).toBe(25);
    expect(f.ctr).toBe(0.02);
    // Comparison: ROAS 240 / 80 = 3 -> (4 - 3) / 3 = +33.33 %; CPA 80 / 4 = 20 -> (25 - 20) / 20 = +25 %;
    // CTR 120 / 8 000 = 0.015 -> (0.02 - 0.015) / 0.015 = +33.33 %; spend (100 - 80) / 80 = +25 %.
    expect(f.delta.roas).toBeCloseTo(33.3333333, 6);
    expect(f.delta.cpa).toBeCloseTo(25, 9);
    expect(f.delta.ctr).toBeCloseTo(33.3333333, 6);
    expect(f.delta.spend).toBeCloseTo(25, 9);
    // ROAS and CTR up is good; CPA up is bad; spend is neither.
    expect(f.tone).toEqual({ spend: 'neutral', roas: 'good', cpa: 'bad', ctr: 'good' });
  });

  it('colours falling ROAS and CTR and rising CPA as bad', () => {
    const f = rowFigures(B);
    // ROAS 300 / 300 = 1 against 600 / 300 = 2 -> -50 %; CPA 300 / 2 = 150 against 300 / 3 = 100 -> +50 %;
    // CTR 200 / 20 000 = 0.01 against 300 / 20 000 = 0.015 -> -33.33 %; spend unchanged -> 0 %.
    expect(f.roas).toBe(1);
    expect(f.cpa).toBe(150);
    expect(f.ctr).toBe(0.01);
    expect(f.delta.roas).toBeCloseTo(-50, 9);
    expect(f.delta.cpa).toBeCloseTo(50, 9);
    expect(f.delta.ctr).toBeCloseTo(-33.3333333, 6);
    expect(f.delta.spend).toBe(0);
    expect(f.tone).toEqual({ spend: 'neutral', roas: 'bad', cpa: 'bad', ctr: 'bad' });
  });

  it('leaves a rate without its denominator, and a change without its base, empty', () => {
    // Spend 50, nothing else, no comparison: ROAS 0 / 50 = 0; no conversions -> no CPA; no impressions -> no CTR.
    const f = figuresOf(t(50, 0, 0, 0, 0), ZERO_TOTALS);
    expect(f.roas).toBe(0);
    expect(f.cpa).toBeNull();
    expect(f.ctr).toBeNull();
    // The comparison has no spend: no comparison ROAS, no change; spend from 0 has no percent change either.
    expect(f.delta).toEqual({ spend: null, roas: null, cpa: null, ctr: null });
    expect(f.tone).toEqual({ spend: 'neutral', roas: 'neutral', cpa: 'neutral', ctr: 'neutral' });
  });
});

describe('totalsOf', () => {
  it('sums the volumes and takes the rates as ratios of the sums', () => {
    const s = totalsOf([A, B]);
    // Sums: spend 100 + 300 = 400, impressions 30 000, clicks 400, conversions 6, value 400 + 300 = 700.
    expect(s.current).toEqual(t(400, 30_000, 400, 6, 700));
    expect(s.comparison).toEqual(t(380, 28_000, 420, 7, 840));
    expect(s.spend).toBe(400);
    expect(s.conversions).toBe(6);
    expect(s.value).toBe(700);
    // ROAS 700 / 400 = 1.75, not the mean of the rows' ROAS (4 + 1) / 2 = 2.5.
    expect(s.roas).toBe(1.75);
    expect(s.roas).not.toBe(2.5);
    // CPA 400 / 6 = 66.67, not (25 + 150) / 2 = 87.5; CTR 400 / 30 000 = 0.013333, not (0.02 + 0.01) / 2 = 0.015.
    expect(s.cpa).toBeCloseTo(66.6666667, 6);
    expect(s.ctr).toBeCloseTo(0.0133333333, 9);
  });

  it('takes the changes from the summed comparison', () => {
    const s = totalsOf([A, B]);
    // Comparison sums: spend 380, impressions 28 000, clicks 420, conversions 7, value 840.
    // ROAS 840 / 380 = 2.2105; 1.75 / 2.2105 - 1 = 665 / 840 - 1 = -0.208333 -> -20.83 %.
    expect(s.delta.roas).toBeCloseTo(-20.8333333, 6);
    // CPA 380 / 7 = 54.29; (400 / 6) / (380 / 7) - 1 = 2800 / 2280 - 1 = 0.228070 -> +22.81 %.
    expect(s.delta.cpa).toBeCloseTo(22.8070175, 6);
    // CTR 420 / 28 000 = 0.015; 0.013333 / 0.015 - 1 = -0.111111 -> -11.11 %.
    expect(s.delta.ctr).toBeCloseTo(-11.1111111, 6);
    // Spend 400 / 380 - 1 = +5.26 %.
    expect(s.delta.spend).toBeCloseTo(5.2631579, 6);
    expect(s.tone).toEqual({ spend: 'neutral', roas: 'bad', cpa: 'bad', ctr: 'bad' });
  });

  it('labels the row count, and conversions summed across platforms', () => {
    const two = totalsOf([A, B]);
    expect(two.rows).toBe(2);
    expect(two.platforms).toEqual(['meta', 'google']);
    expect(two.label).toBe('Total (2 rows), 2 platforms (each attributes conversions its own way)');
    expect(platformsText(two.platforms)).toBe('Meta, Google');

    // Two Meta rows: one platform, no note.
    const meta = totalsOf([A, { ...A }]);
    expect(meta.platforms).toEqual(['meta']);
    expect(meta.label).toBe('Total (2 rows)');
    expect(meta.roas).toBe(4);

    expect(totalsOf([A]).label).toBe('Total (1 row)');
    expect(totalsLabel(143, 3)).toBe('Total (143 rows), 3 platforms (each attributes conversions its own way)');
  });

  it('gives empty rates, not zero or NaN, over no rows', () => {
    const s = totalsOf([]);
    expect(s.rows).toBe(0);
    expect(s.spend).toBe(0);
    expect(s.roas).toBeNull();
    expect(s.cpa).toBeNull();
    expect(s.ctr).toBeNull();
    expect(s.delta).toEqual({ spend: null, roas: null, cpa: null, ctr: null });
    expect(s.label).toBe('Total (0 rows)');
  });
});

describe('ratings and status', () => {
  it('ranks ratings best first, with no rank for insufficient data', () => {
    expect(RATINGS.map(ratingRank)).toEqual([5, 4, 3, 2, 1, null]);
  });

  it('gives every rating its own colour', () => {
    const tones = RATINGS.map(ratingTone);
    expect(tones).toEqual(['best', 'good', 'neutral', 'warn', 'bad', 'none']);
    expect(new Set(tones).size).toBe(RATINGS.length);
  });

  it('labels paused and ended budgets only', () => {
    expect(statusLabel('paused')).toBe('Paused');
    expect(statusLabel('ended')).toBe('Ended');
    expect(statusLabel('active')).toBeNull();
    expect(statusLabel(null)).toBeNull();
  });
});
