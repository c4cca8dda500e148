// Reference statistics for the engine tests, written independently of the
// SQL (db/media_buying/065_statistics.sql): expected p-values are worked out
// here, never by calling the functions under test.

/** ln Gamma(x), Lanczos (g = 7, 9 terms). */
export function lnGamma(x: number): number {
  const g = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const y = x - 1;
  let a = g[0]!;
  const t = y + 7.5;
  for (let i = 1; i < 9; i++) a += g[i]! / (y + i);
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(a);
}

/** erfc by the Maclaurin series of erf below 2.5 and Laplace's continued fraction above. */
export function erfc(x: number): number {
  if (x < 0) return 2 - erfc(-x);
  if (x < 2.5) {
    let term = x;
    let sum = x;
    for (let n = 1; n < 200; n++) {
      term *= (-x * x) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17) break;
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * sum;
  }
  let f = x;
  for (let n = 120; n >= 1; n--) f = x + n / 2 / f;
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

export const Phi = (z: number): number => 0.5 * erfc(-z / Math.SQRT2);

/**
 * One-sided mid-p of k under a negative binomial of mean mu, variance mu + phi mu^2, by summing
 * probabilities; as the contract says, the normal approximation (same mean and variance) once mu > 500.
 */
export function nbMidP(kObs: number, mu: number, phi: number, dir: 'lower' | 'upper'): number {
  const k = Math.round(kObs);
  if (mu > 500 || k > 2000) {
    const z = (k - mu) / Math.sqrt(mu + phi * mu * mu);
    return dir === 'lower' ? Phi(z) : 1 - Phi(z);
  }
  const pmf = (j: number): number => {
    if (phi < 1e-9) return Math.exp(j * Math.log(mu) - mu - lnGamma(j + 1));
    const r = 1 / phi;
    return Math.exp(lnGamma(j + r) - lnGamma(r) - lnGamma(j + 1) + r * Math.log(r / (r + mu)) + j * Math.log(mu / (r + mu)));
  };
  let below = 0;
  for (let j = 0; j < k; j++) below += pmf(j);
  const at = pmf(k);
  return dir === 'lower' ? Math.min(1, below + at / 2) : Math.max(0, 1 - below - at / 2);
}

/** Log-normal (Fenton-Wilkinson) tail of a value with expectation e and variance v, atom pZero at 0. */
export function valueP(obs: number, e: number, v: number, pZero: number, dir: 'lower' | 'upper'): number {
  if (obs === 0) return dir === 'lower' ? pZero / 2 : 1 - pZero / 2;
  const s2 = Math.log(1 + v / (e * e));
  const z = (Math.log(obs) - (Math.log(e) - s2 / 2)) / Math.sqrt(s2);
  const below = pZero + (1 - pZero) * Phi(z);
  return dir === 'lower' ? below : 1 - below;
}

/** Half of the false-discovery level of a run, min(0.2, 200 (1 - Phi(s))): the anomalies' share, and the recommendations'. */
export const qOf = (s = 3.5): number => Math.min(0.2, 200 * (1 - Phi(s))) / 2;

export const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
