// Small statistics used by the demo generator: the normal CDF (for the A/B
// tests' two-proportion z-test), the median, and rounding.

/**
 * Error function, Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7,
 * well under the 5 decimals ads.ab_tests.statistical_significance keeps).
 */
export function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const ax = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * ax);
  const poly = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t;
  return sign * (1 - poly * Math.exp(-ax * ax));
}

/** Standard normal cumulative distribution function. */
export function normalCdf(z: number): number {
  return 0.5 * (1 + erf(z / Math.SQRT2));
}

export interface TwoProportionResult {
  /** Rate of A and of B (successes / trials). */
  rateA: number;
  rateB: number;
  /** z statistic of B - A with the pooled standard error. */
  z: number;
  /** Two-sided p-value. */
  pValue: number;
  /** 1 - pValue, the confidence that the rates differ, in 0..1. */
  significance: number;
}

/** Two-proportion z-test (pooled), e.g. on conversions / clicks of two variants. */
export function twoProportionZTest(successesA: number, trialsA: number, successesB: number, trialsB: number): TwoProportionResult {
  if (trialsA <= 0 || trialsB <= 0) throw new Error('twoProportionZTest: trials must be positive');
  const rateA = successesA / trialsA;
  const rateB = successesB / trialsB;
  const pooled = (successesA + successesB) / (trialsA + trialsB);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / trialsA + 1 / trialsB));
  const z = se === 0 ? 0 : (rateB - rateA) / se;
  const pValue = Math.min(1, Math.max(0, 2 * (1 - normalCdf(Math.abs(z)))));
  return { rateA, rateB, z, pValue, significance: 1 - pValue };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const hi = s[mid] ?? Number.NaN;
  return s.length % 2 === 1 ? hi : ((s[mid - 1] ?? Number.NaN) + hi) / 2;
}

export const round1 = (x: number) => Math.round(x * 10) / 10;
export const round2 = (x: number) => Math.round(x * 100) / 100;
/** x rounded up to a multiple of step (a hair above a multiple counts as on it). */
export const ceilTo = (x: number, step: number) => Math.ceil(x / step - 1e-9) * step;
