/**
 * sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, 32-bit): a seeded PRNG with a
 * 128-bit state. Every random choice of the simulation comes from one of these, so one seed gives
 * one run, bit for bit. Nothing in the simulation calls Math.random().
 */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** Seeds from a 32-bit integer (any safe integer is folded to 32 bits) and warms up. */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed))
      throw new RangeError(`seed must be a safe integer, got ${seed}`);
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = (seed ^ Math.floor(seed / 0x100000000)) >>> 0;
    for (let i = 0; i < 15; i++) this.next();
  }

  /** Next 32-bit unsigned integer. */
  next(): number {
    const a = this.a;
    const b = this.b;
    const c = this.c;
    const d = this.d;
    const t = (((a + b) | 0) + d) | 0;
    this.d = (d + 1) | 0;
    this.a = b ^ (b >>> 9);
    this.b = (c + (c << 3)) | 0;
    this.c = ((c << 21) | (c >>> 11)) + t;
    this.c |= 0;
    return t >>> 0;
  }

  /** Uniform float in [0, 1). */
  float(): number {
    return this.next() / 0x100000000;
  }

  /** Uniform integer in [0, n) for 1 <= n <= 2^32. */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** Uniform integer in [lo, hi] (inclusive). */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** A uniformly chosen element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  /** Index chosen with the given non-negative weights (at least one > 0). */
  weighted(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += w;
    let x = this.float() * total;
    for (let i = 0; i < weights.length; i++) {
      x -= weights[i] as number;
      if (x < 0) return i;
    }
    return weights.length - 1;
  }

  /** A new generator derived from this one (for independent streams). */
  fork(): Prng {
    return new Prng(this.next());
  }
}
