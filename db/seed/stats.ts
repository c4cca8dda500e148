// Small statistics used by the demo generator and its tests: the normal CDF,
// the median, and rounding. (The A/B tests' statistics are the product's own,
// lib/abtests.)

/**
 * Error function, Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7,
 * ample for the generator's checks).
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
