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

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('Rng.pick: empty list');
    return item;
  }
}
