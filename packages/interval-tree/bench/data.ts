/** Seeded workload generation: identical inputs on every run and for every library. */

/** mulberry32: small, fast, good enough for benchmark inputs. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SPACE = 2 ** 40;

export interface Intervals {
  start: Float64Array;
  last: Float64Array;
}

/** n intervals: starts uniform in [0, 2^40), lengths log-uniform in [1, 2^maxLog2]. */
export function intervals(n: number, rand: () => number, minLog2 = 0, maxLog2 = 20): Intervals {
  const start = new Float64Array(n);
  const last = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    // two draws for more than 32 bits of start
    const s = Math.floor((rand() + rand() * 2 ** -32) * SPACE);
    const len = Math.floor(2 ** (minLog2 + rand() * (maxLog2 - minLog2)));
    start[i] = s;
    last[i] = s + len - 1;
  }
  return { start, last };
}

/** A permutation of 0..n-1 (Fisher-Yates). */
export function permutation(n: number, rand: () => number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

/** k indexes uniform in [0, n). */
export function picks(k: number, n: number, rand: () => number): Int32Array {
  const p = new Int32Array(k);
  for (let i = 0; i < k; i++) p[i] = Math.floor(rand() * n);
  return p;
}

/** Everything one N needs. */
export interface Workload {
  n: number;
  data: Intervals;
  stab: Intervals; // points: start === last
  window: Intervals;
  removeOrder: Int32Array;
  churnPick: Int32Array;
  churnNew: Intervals;
}

export function workload(n: number, queries: number, churn: number, seed = 0x5eed): Workload {
  const rand = prng(seed ^ n);
  const data = intervals(n, rand);
  const stab = intervals(queries, rand, 0, 0);
  const window = intervals(queries, rand, 20, 28);
  return {
    n,
    data,
    stab,
    window,
    removeOrder: permutation(n, rand),
    churnPick: picks(churn, n, rand),
    churnNew: intervals(churn, rand),
  };
}
