/**
 * Compaction: rewrites the records in tree order, as a freshly balanced tree.
 *
 * Inserts take whatever slot is free, so after many of them neighbours in tree order live at
 * unrelated addresses and an in-order walk jumps through memory. Compaction moves the record of
 * the node of rank r (0-based, tree order) to slot r + 1, with its value and handle, and links the
 * slots as the balanced tree that splits every range at its middle (the layout of a static
 * implicit interval tree: sorted by start, each node the middle of its subtree). A walk then reads
 * consecutive records for consecutive hits, and the tree's height is the minimum,
 * floor(log2 n) + 1.
 *
 * Nothing observable changes: same intervals, same order (equal starts keep insertion order, as
 * ranks do), same handles (each handle's slot is updated), same values. The tree version (`_mod`)
 * is bumped because walk state that holds slots (the cursor, iterators) is no longer valid; the
 * cursor is cleared, and `iterNext` from a handle rebuilds its walk from the new slot.
 *
 * Cost O(n), paid by the insert that triggers it: the `COMPACT_SHARE`-th part of the tree must
 * have been inserted since the previous compaction, so the cost is O(1) amortised per insert.
 */
import { clearCursor } from './cursor.js';
import type { IntervalTree } from './interval-tree.js';
import { F64, I32 } from './layout.js';
import { Color } from './red-black.js';
import { alloc, writeSentinel } from './storage.js';

/** Trees below this size are never compacted: their records fit in the CPU caches anyway. */
export const COMPACT_MIN = 2048;

/** Compact once the inserts since the last compaction exceed size / COMPACT_SHARE. */
export const COMPACT_SHARE = 4;

/** True when `t` should be compacted now (called after each insert). */
export function shouldCompact<T>(t: IntervalTree<T>): boolean {
  const k = t._inserted;
  return k >= COMPACT_MIN && k * COMPACT_SHARE >= t.size;
}

/**
 * Moves every record of `t` to its rank's slot (rank + 1) and relinks them as a balanced
 * red-black tree. The storage keeps its capacity; the free list ends up empty.
 */
export function compact<T>(t: IntervalTree<T>): void {
  const n = t.size;
  const order = inOrderSlots(t, n);
  const oldF = t._f;
  // The handle and value arrays are rewritten in place, from copies.
  const nodes = t._nodes;
  const vals = t._vals;
  const oldNodes = nodes.slice();
  const oldVals = vals.slice();
  alloc(t, t._p.length);
  const F = t._f;
  writeSentinel(F);
  for (let r = 0; r < n; r++) {
    const s = order[r]!;
    const d = r + 1;
    // Stryker disable next-line ArithmeticOperator: equivalent: F64.START is 0, so + and - give the same word.
    F[(d << F64.SHIFT) + F64.START] = oldF[(s << F64.SHIFT) + F64.START]!;
    F[(d << F64.SHIFT) + F64.LAST] = oldF[(s << F64.SHIFT) + F64.LAST]!;
    const h = oldNodes[s]!;
    h._i = d;
    nodes[d] = h;
    vals[d] = oldVals[s];
  }
  // Slots past the last rank held nodes that moved down, or freed slots: drop them.
  nodes.length = n + 1;
  vals.length = n + 1;
  // Nodes at the deepest level are red, all others black: every path from the root to a nil
  // link then holds floor(log2 n) black nodes (the middle split leaves every nil link at depth
  // floor(log2 n) or one deeper). A lone root stays black.
  const redDepth = n > 1 ? Math.floor(Math.log2(n)) : -1;
  t._root = link(t, 1, n + 1, 0, 0, redDepth);
  t._leftmost = n > 0 ? 1 : 0;
  t._used = n + 1;
  t._free = 0;
  t._inserted = 0;
  t._mod++;
  clearCursor(t);
}

/** The slots of `t`'s n nodes in tree order. */
function inOrderSlots<T>(t: IntervalTree<T>, n: number): Int32Array {
  const W = t._w;
  const order = new Int32Array(n);
  // A red-black tree of at most 2^28 nodes is less than 58 levels deep.
  const stack = new Int32Array(64);
  let sp = 0;
  let k = 0;
  let x = t._root;
  for (;;) {
    while (x !== 0) {
      stack[sp++] = x;
      x = W[(x << I32.SHIFT) + I32.LEFT]!;
    }
    if (sp === 0) return order;
    x = stack[--sp]!;
    order[k++] = x;
    x = W[(x << I32.SHIFT) + I32.RIGHT]!;
  }
}

/**
 * Links slots [lo, hi) as the subtree rooted at their middle slot, under `parent`, at `depth`;
 * fills in children, parents, colours and subtree maxima. Returns the subtree's root (0 if
 * empty). Recursion depth is the tree height, at most 29.
 */
function link<T>(
  t: IntervalTree<T>,
  lo: number,
  hi: number,
  parent: number,
  depth: number,
  redDepth: number,
): number {
  if (lo >= hi) return 0;
  const m = (lo + hi) >>> 1;
  const F = t._f;
  const W = t._w;
  const l = link(t, lo, m, m, depth + 1, redDepth);
  const r = link(t, m + 1, hi, m, depth + 1, redDepth);
  W[(m << I32.SHIFT) + I32.LEFT] = l;
  W[(m << I32.SHIFT) + I32.RIGHT] = r;
  t._p[m] = parent;
  t._c[m] = depth === redDepth ? Color.RED : Color.BLACK;
  let max = F[(m << F64.SHIFT) + F64.LAST]!;
  const a = F[(l << F64.SHIFT) + F64.MAX]!;
  const b = F[(r << F64.SHIFT) + F64.MAX]!;
  if (a > max) max = a;
  if (b > max) max = b;
  F[(m << F64.SHIFT) + F64.MAX] = max;
  return m;
}
