// The two identities of "what moved", on many random books of campaigns: the
// factors' effects multiply to the target's ratio, their shares sum to 100 %,
// and the contributions sum to the target's change, for ROAS and for CPA. The
// data are drawn with a seeded generator; nothing is redrawn.
import { describe, expect, it } from 'vitest';
import { contributions, funnelFactors, whatMoved, type EntityTotals } from '../../lib/performance/decompose';
import { addTotals, metricOf, ZERO_TOTALS, type Totals } from '../../lib/performance/metrics';
import { mulberry32 as rng } from '../../db/seed/random';

function totals(r: () => number, value: boolean): Totals {
  const impressions = Math.round(1000 + r() * 200000);
  const clicks = Math.round(impressions * (0.002 + r() * 0.04));
  const conversions = Math.round(clicks * (0.01 + r() * 0.1));
  return { spend: Math.round(impressions * (2 + r() * 20)) / 1000, impressions, clicks, conversions, value: value ? conversions * (10 + r() * 100) : 0 };
}

function book(seed: number, value: boolean): EntityTotals[] {
  const r = rng(seed);
  return Array.from({ length: 2 + Math.floor(r() * 12) }, (_, i) => ({
    platform: r() < 0.5 ? 'meta' : 'google',
    level: 'campaign',
    entityId: `c${i}`,
    name: `Campaign ${i}`,
    href: `/performance/meta/c${i}`,
    current: totals(r, value),
    comparison: totals(r, value),
  }));
}

const sum = (es: EntityTotals[], k: 'current' | 'comparison') => es.reduce((a, e) => addTotals(a, e[k]), { ...ZERO_TOTALS });

describe('what moved', () => {
  it.each([
    ['roas', true],
    ['cpa', false],
  ] as const)('%s: effects multiply back, shares sum to 100, contributions sum to the change (200 random books)', (target, value) => {
    for (let seed = 1; seed <= 200; seed++) {
      const es = book(seed * 7919 + (value ? 1 : 2), value);
      const cur = sum(es, 'current');
      const cmp = sum(es, 'comparison');
      const t1 = metricOf(cur, target)!;
      const t0 = metricOf(cmp, target)!;
      const factors = funnelFactors(target, cur, cmp);
      expect(factors).toHaveLength(target === 'roas' ? 4 : 3);
      expect(factors.reduce((a, f) => a * f.effect!, 1)).toBeCloseTo(t1 / t0, 10);
      const moved = Math.abs(Math.log(t1 / t0));
      if (moved >= 0.0100) expect(factors.reduce((a, f) => a + f.sharePct!, 0)).toBeCloseTo(100, 6);
      if (moved < 0.0099) expect(factors.every((f) => f.sharePct === null)).toBe(true);
      const cs = contributions(target, es, cur, cmp);
      expect(cs.reduce((a, c) => a + c.contribution, 0)).toBeCloseTo(t1 - t0, 9);
      // Scaling the comparison (a 28-day baseline against 7 days) changes no contribution.
      const scaled = es.map((e) => ({
        ...e,
        comparison: { ...e.comparison, spend: e.comparison.spend / 4, impressions: e.comparison.impressions / 4, clicks: e.comparison.clicks / 4, conversions: e.comparison.conversions / 4, value: e.comparison.value / 4 },
      }));
      const cs2 = contributions(target, scaled, cur, sum(scaled, 'comparison'));
      cs2.forEach((c, i) => expect(c.contribution).toBeCloseTo(cs[i]!.contribution, 9));
    }
  });

  it('a CPA rise from a CTR halving: CTR carries all of it', () => {
    const before: Totals = { spend: 1000, impressions: 100000, clicks: 2000, conversions: 100, value: 0 };
    // Same CPM and conversion rate; half the clicks, so half the conversions: CPA 10 -> 20.
    const after: Totals = { spend: 1000, impressions: 100000, clicks: 1000, conversions: 50, value: 0 };
    const w = whatMoved(after, before, []);
    expect(w.target).toBe('cpa');
    expect(w.changePct).toBeCloseTo(100, 9);
    const ctr = w.factors.find((f) => f.factor === 'ctr')!;
    expect(ctr.ratio).toBeCloseTo(0.5, 12);
    expect(ctr.effect).toBeCloseTo(2, 12);
    expect(ctr.sharePct).toBeCloseTo(100, 9);
    expect(w.factors.find((f) => f.factor === 'cpm')!.sharePct).toBeCloseTo(0, 9);
  });

  it('under a 1 % move no shares are given, only effects and contributions', () => {
    const before: Totals = { spend: 1000, impressions: 100000, clicks: 2000, conversions: 100, value: 3000 };
    // ROAS 3.00 -> 2.988 (-0.4 %): CTR +10 %, conversion rate -9.45 %.
    const after: Totals = { spend: 1000, impressions: 100000, clicks: 2200, conversions: 99.6, value: 2988 };
    const w = whatMoved(after, before, [
      { platform: 'meta', level: 'campaign', entityId: 'a', name: 'A', href: '/a', current: after, comparison: before },
    ]);
    expect(w.changePct).toBeCloseTo(-0.4, 9);
    expect(w.factors.every((f) => f.sharePct === null)).toBe(true);
    expect(w.factors.find((f) => f.factor === 'ctr')!.effect).toBeCloseTo(1.1, 12);
    expect(w.down[0]!.contribution).toBeCloseTo(2988 / 1000 - 3, 12);
    expect(w.down[0]!.sharePct).toBeNull();
  });

  it('says why when there is nothing to decompose', () => {
    const t: Totals = { spend: 100, impressions: 1000, clicks: 10, conversions: 1, value: 50 };
    expect(whatMoved(t, { ...ZERO_TOTALS }, []).unavailable).toMatch(/comparison/);
    expect(whatMoved({ ...ZERO_TOTALS }, t, []).unavailable).toMatch(/this range/);
    expect(whatMoved({ ...t, value: 0 }, t, []).unavailable).toMatch(/ROAS is zero/);
  });
});
