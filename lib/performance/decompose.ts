// What moved ROAS (or CPA) between two periods, in two exact decompositions.
//
// Funnel factors. With S spend, I impressions, C clicks, K conversions and V
// conversion value,
//   ROAS = V/S = (I/S) · (C/I) · (K/C) · (V/K) = (1000 / CPM) · CTR · CVR · AOV / 1000
//   CPA  = S/K = (S/I) · (I/C) · (C/K)         = (CPM / 1000) / (CTR · CVR)
// so the ratio of the target between the periods is the product of each
// factor's effect: for ROAS 1/(CPM ratio), the CTR, CVR and AOV ratios; for
// CPA the CPM ratio, 1/(CTR ratio), 1/(CVR ratio). A factor's share is its
// part of the log change: ln(effect) / ln(target ratio); the shares sum to 100 %.
//
// Contributors. Let R0 = V0/S0 be the comparison ROAS. Because
// Σ(v0_i − R0·s0_i) = 0 and Σ(v1_i − R0·s1_i)/S1 = R1 − R0,
//   c_i = (v1_i − R0·s1_i)/S1 − (v0_i − R0·s0_i)/S0
// sums exactly to R1 − R0 over the entities: what entity i adds to the change,
// counting both its own efficiency and its weight in the spend. Scaling the
// comparison period's totals (a 28-day baseline against 7 days) leaves every
// c_i unchanged. CPA is the same with spend and conversions in the roles of
// value and spend: c_i = (s1_i − A0·k1_i)/K1 − (s0_i − A0·k0_i)/K0.
import { metricOf, changePercent, type Level, type Platform, type Totals } from './metrics';
import type { Contributor, FactorChange, FunnelFactor, WhatMoved } from './types';

export interface EntityTotals {
  platform: Platform;
  level: Level;
  entityId: string;
  name: string;
  href: string | null;
  current: Totals;
  comparison: Totals;
}

const TOP = 5;
/**
 * Shares divide by the change: under a 1 % move they are ratios of noise to
 * almost nothing (a factor "explaining 290 %" of -0.4 %). They are left out
 * then; the effects and contributions, in the target's own units, stay.
 */
export const MIN_CHANGE_FOR_SHARES = 0.01;

function factorValue(t: Totals, f: FunnelFactor): number | null {
  switch (f) {
    case 'cpm':
      return t.impressions > 0 ? (t.spend * 1000) / t.impressions : null;
    case 'ctr':
      return t.impressions > 0 ? t.clicks / t.impressions : null;
    case 'cvr':
      return t.clicks > 0 ? t.conversions / t.clicks : null;
    case 'aov':
      return t.conversions > 0 ? t.value / t.conversions : null;
  }
}

/** ROAS when either period has conversion value, CPA otherwise. */
export function decompositionTarget(current: Totals, comparison: Totals): 'roas' | 'cpa' {
  return current.value > 0 || comparison.value > 0 ? 'roas' : 'cpa';
}

export function funnelFactors(target: 'roas' | 'cpa', current: Totals, comparison: Totals): FactorChange[] {
  const factors: FunnelFactor[] = target === 'roas' ? ['cpm', 'ctr', 'cvr', 'aov'] : ['cpm', 'ctr', 'cvr'];
  const t1 = metricOf(current, target);
  const t0 = metricOf(comparison, target);
  const logTarget = t1 !== null && t0 !== null && t1 > 0 && t0 > 0 ? Math.log(t1 / t0) : null;
  const shares = logTarget !== null && Math.abs(logTarget) >= Math.log1p(MIN_CHANGE_FOR_SHARES) * (1 - 1e-9);
  return factors.map((factor) => {
    const cur = factorValue(current, factor);
    const cmp = factorValue(comparison, factor);
    const ratio = cur !== null && cmp !== null && cmp > 0 ? cur / cmp : null;
    // CPM raises costs: under ROAS its effect is inverted; CTR and CVR lower CPA.
    const inverted = target === 'roas' ? factor === 'cpm' : factor !== 'cpm';
    const effect = ratio !== null && ratio > 0 ? (inverted ? 1 / ratio : ratio) : null;
    const sharePct = effect !== null && logTarget !== null && shares ? (Math.log(effect) / logTarget) * 100 : null;
    return { factor, current: cur, comparison: cmp, ratio, effect, sharePct };
  });
}

export function contributions(target: 'roas' | 'cpa', entities: EntityTotals[], current: Totals, comparison: Totals): Contributor[] {
  // ROAS: numerator value, denominator spend; CPA: numerator spend, denominator conversions.
  const num = (t: Totals) => (target === 'roas' ? t.value : t.spend);
  const den = (t: Totals) => (target === 'roas' ? t.spend : t.conversions);
  const d1 = den(current);
  const d0 = den(comparison);
  if (!(d1 > 0) || !(d0 > 0)) return [];
  const r0 = num(comparison) / d0;
  const change = num(current) / d1 - r0;
  const shares = r0 > 0 && Math.abs(change / r0) >= MIN_CHANGE_FOR_SHARES;
  return entities.map((e) => {
    const contribution = (num(e.current) - r0 * den(e.current)) / d1 - (num(e.comparison) - r0 * den(e.comparison)) / d0;
    return {
      platform: e.platform,
      level: e.level,
      entityId: e.entityId,
      name: e.name,
      href: e.href,
      contribution,
      sharePct: shares ? (contribution / change) * 100 : null,
    };
  });
}

export function whatMoved(current: Totals, comparison: Totals, entities: EntityTotals[]): WhatMoved {
  const target = decompositionTarget(current, comparison);
  const cur = metricOf(current, target);
  const cmp = metricOf(comparison, target);
  const base: WhatMoved = {
    target,
    current: cur,
    comparison: cmp,
    changePct: changePercent(cur, cmp),
    factors: [],
    up: [],
    down: [],
    unavailable: null,
  };
  // Spend is what both targets need; the funnel factors are simply undefined without impressions or clicks.
  if (comparison.spend <= 0) return { ...base, unavailable: 'No spend in the comparison period to compare with.' };
  if (current.spend <= 0) return { ...base, unavailable: 'No spend in this range.' };
  if (cur === null || cmp === null || cur <= 0 || cmp <= 0) {
    return {
      ...base,
      unavailable: target === 'roas' ? 'ROAS is zero in one of the periods: no factors to compare.' : 'No conversions in one of the periods: CPA cannot be compared.',
    };
  }
  const all = contributions(target, entities, current, comparison);
  const byWeight = (a: Contributor, b: Contributor) => Math.abs(b.contribution) - Math.abs(a.contribution) || a.name.localeCompare(b.name);
  return {
    ...base,
    factors: funnelFactors(target, current, comparison),
    up: all.filter((c) => c.contribution > 0).sort(byWeight).slice(0, TOP),
    down: all.filter((c) => c.contribution < 0).sort(byWeight).slice(0, TOP),
  };
}
