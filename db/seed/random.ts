// Deterministic randomness for the demo data: a small PRNG (mulberry32) and
// named streams, so that each campaign's numbers depend only on its own key
// and adding a campaign to the catalogue does not reshuffle all the others.

/** The constant every stream is derived from. Change it and all demo numbers change. */
export const DEMO_SEED = 0x5eed_ae91;

/** mulberry32: a 32-bit state PRNG, good enough for demo data and tiny. Returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a over the UTF-16 code units of a string, 32 bits. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Poisson draws are exact below this mean (see Rng.poisson). */
export const POISSON_EXACT_BELOW = 200;

export class Rng {
  private readonly next: () => number;

  constructor(seed: number) {
    this.next = mulberry32(seed);
  }

  /** A stream named by key, derived from DEMO_SEED. */
  static stream(key: string): Rng {
    return new Rng((hash32(key) ^ DEMO_SEED) >>> 0);
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.next();
  }

  /** Uniform in [min, max). */
  uniform(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** Uniform in [-1, 1): the unit of every noise term. */
  symmetric(): number {
    return this.next() * 2 - 1;
  }

  /** Integer in [min, max], both ends included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** Standard normal (Box-Muller, one of the pair). */
  normal(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** Log-normal with mean 1 and coefficient of variation cv. */
  lognormalMeanOne(cv: number): number {
    if (cv <= 0) return 1;
    const s2 = Math.log(1 + cv * cv);
    return Math.exp(Math.sqrt(s2) * this.normal() - s2 / 2);
  }

  /**
   * Gamma with mean 1 and coefficient of variation cv (shape 1/cv^2), by
   * Marsaglia and Tsang's squeeze; shapes below 1 through the boost
   * Gamma(a) = Gamma(a + 1) U^(1/a).
   */
  gammaMeanOne(cv: number): number {
    if (cv <= 0) return 1;
    const shape = 1 / (cv * cv);
    return this.gamma(shape) / shape;
  }

  /** Gamma(shape, 1). */
  gamma(shape: number): number {
    if (shape < 1) return this.gamma(shape + 1) * Math.pow(1 - this.next(), 1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      const x = this.normal();
      const v = (1 + c * x) ** 3;
      if (v <= 0) continue;
      const u = 1 - this.next();
      if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
    }
  }

  /**
   * Poisson(lambda): exact by inversion (sequential search) below
   * POISSON_EXACT_BELOW; above it the normal limit with the continuity
   * correction (relative error of the variance far below 1 %).
   */
  poisson(lambda: number): number {
    if (!(lambda > 0)) return 0;
    if (lambda < POISSON_EXACT_BELOW) {
      const u = this.next();
      let k = 0;
      let p = Math.exp(-lambda);
      let cdf = p;
      while (u > cdf && k < 10_000) {
        k++;
        p *= lambda / k;
        cdf += p;
      }
      return k;
    }
    return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * this.normal()));
  }

  /** Negative binomial with mean mu and size k (variance mu + mu^2/k), drawn as a gamma-Poisson mixture. */
  negBin(mu: number, size: number): number {
    return mu > 0 ? this.poisson((this.gamma(size) * mu) / size) : 0;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('Rng.pick: empty list');
    return item;
  }
}
