/**
 * The fuzzer's random source: xoshiro128** over 32-bit integers, seeded through splitmix32,
 * so that a run is a pure function of its seed (no Math.random anywhere in the fuzzer).
 * Derived seeds (per worker, per sequence) come from `derive`, so sequence k of worker w
 * is the same whatever ran before it in another worker.
 */

/** Mixes a 32-bit state (splitmix32's finaliser). */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** A seed derived from a parent seed and a path of integers (worker, sequence, ...). */
export function derive(seed: number, ...path: number[]): number {
  let h = mix32(seed ^ 0x9e3779b9);
  for (const p of path) h = mix32(h ^ mix32((p >>> 0) + 0x7f4a7c15));
  return h;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0;
      return mix32(s);
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next() | 1;
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    const r = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return r;
  }

  /** An integer in [0, n) (n ≥ 1, below 2^32). */
  below(n: number): number {
    return n <= 1 ? 0 : Math.floor((this.u32() / 0x1_0000_0000) * n);
  }

  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.u32() < p * 0x1_0000_0000;
  }

  /** A uniform element (the list is not empty). */
  pick<T>(list: readonly T[]): T {
    return list[this.below(list.length)] as T;
  }

  /** An index chosen with these (non-negative) weights; -1 when all are 0. */
  weighted(weights: ArrayLike<number>): number {
    let total = 0;
    for (let i = 0; i < weights.length; i++) total += weights[i] as number;
    if (total <= 0) return -1;
    let x = (this.u32() / 0x1_0000_0000) * total;
    for (let i = 0; i < weights.length; i++) {
      x -= weights[i] as number;
      if (x < 0) return i;
    }
    return weights.length - 1;
  }

  /** A uniform unsigned value of `bits` bits (1..64). */
  bits(bits: number): bigint {
    if (bits <= 32) return BigInt(this.u32() >>> (32 - bits));
    return (BigInt(this.u32() >>> (64 - bits)) << 32n) | BigInt(this.u32());
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
