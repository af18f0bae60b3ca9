/**
 * The reference the benchmark measures the tree against: a static implicit interval tree in the
 * style of cgranges (H. Li, https://github.com/lh3/cgranges). Built once from all intervals, never
 * changed: the intervals sorted by start (equal starts in input order) in typed arrays, with an
 * implicit balanced tree laid over the sorted array (node i at level k = number of trailing one
 * bits of i; children i -/+ 2^(k-1)) in which each node holds the largest `last` of its subtree.
 * A query is an iterative stack walk, with a linear scan once a subtree has at most 15 nodes.
 *
 * Closed intervals, like the package: `[a, b]` overlaps `[s, l]` iff a <= l && b >= s. Hits come
 * in start order, equal starts in input order, the tree's own order, and the benchmark checks
 * that both report the same hits.
 */
export class StaticIntervalTree<T> {
  readonly size: number;
  private readonly start: Float64Array;
  private readonly last: Float64Array;
  private readonly max: Float64Array;
  private readonly values: T[];
  private readonly levels: number;
  private readonly stackX = new Int32Array(64);
  private readonly stackK = new Int32Array(64);

  constructor(start: Float64Array, last: Float64Array, values: T[], n = start.length) {
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    // Stable: equal starts keep input order (the tree's insertion order).
    order.sort((a, b) => start[a]! - start[b]! || a - b);
    this.size = n;
    this.start = new Float64Array(n);
    this.last = new Float64Array(n);
    this.max = new Float64Array(n);
    this.values = new Array<T>(n);
    for (let i = 0; i < n; i++) {
      const j = order[i]!;
      this.start[i] = start[j]!;
      this.last[i] = last[j]!;
      this.values[i] = values[j]!;
    }
    this.levels = this.index();
  }

  /** cgranges' cr_index_core: the subtree maxima, level by level; returns the root's level. */
  private index(): number {
    const n = this.size;
    const L = this.last;
    const M = this.max;
    if (n === 0) return -1;
    let lastI = 0;
    let lastMax = 0;
    for (let i = 0; i < n; i += 2) {
      lastI = i;
      lastMax = M[i] = L[i]!;
    }
    let k = 1;
    for (; 2 ** k <= n; k++) {
      const x = 2 ** (k - 1);
      const step = x * 4;
      for (let i = x * 2 - 1; i < n; i += step) {
        const el = M[i - x]!;
        const er = i + x < n ? M[i + x]! : lastMax;
        let e = L[i]!;
        if (el > e) e = el;
        if (er > e) e = er;
        M[i] = e;
      }
      lastI = (lastI >> k) & 1 ? lastI - x : lastI + x; // its parent, one level up
      if (lastI < n && M[lastI]! > lastMax) lastMax = M[lastI]!;
    }
    return k - 1;
  }

  /**
   * Calls `fn(start, last, value)` for every interval overlapping `[s, l]`, in order; returns
   * the number of hits. cgranges' cr_overlap_int, for closed intervals.
   */
  forEachOverlap(
    s: number,
    l: number,
    fn: (start: number, last: number, value: T) => void,
  ): number {
    const n = this.size;
    if (n === 0) return 0;
    const S = this.start;
    const L = this.last;
    const M = this.max;
    const V = this.values;
    const X = this.stackX;
    const K = this.stackK; // level * 2 + (1 once the left child is done)
    let count = 0;
    let t = 0;
    X[t] = 2 ** this.levels - 1;
    K[t++] = this.levels * 2;
    while (t > 0) {
      --t;
      const x = X[t]!;
      const k = K[t]! >> 1;
      if (k <= 3) {
        // At most 15 nodes below: scan them in order.
        const i0 = (x >> k) << k;
        let i1 = i0 + (1 << (k + 1)) - 1;
        if (i1 > n) i1 = n;
        for (let i = i0; i < i1 && S[i]! <= l; i++) {
          if (s <= L[i]!) {
            count++;
            fn(S[i]!, L[i]!, V[i]!);
          }
        }
      } else if ((K[t]! & 1) === 0) {
        const y = x - (1 << (k - 1)); // left child; beyond n, its subtree may still hold nodes
        K[t++] = k * 2 + 1; // x again, left done
        if (y >= n || M[y]! >= s) {
          X[t] = y;
          K[t++] = (k - 1) * 2;
        }
      } else if (x < n && S[x]! <= l) {
        if (s <= L[x]!) {
          count++;
          fn(S[x]!, L[x]!, V[x]!);
        }
        X[t] = x + (1 << (k - 1));
        K[t++] = (k - 1) * 2;
      }
    }
    return count;
  }
}
