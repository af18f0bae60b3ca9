/**
 * The bodies of `forEachOverlap` and `forEachOverlapValue`: the walk of cursor.ts (same nodes,
 * same order) over an explicit stack, `t._stack` above `base`, which has room for one frame.
 *
 * Descend left while a subtree's max reaches the query's start, pop the next node in order, stop
 * once a node starts after the query's last. No parent links and no cursor are needed. After
 * compaction (compact.ts) consecutive nodes in order are consecutive records, so a walk over many
 * hits reads memory in order.
 */
import { saveCursor } from './cursor.js';
import { ConcurrentModificationError } from './errors.js';
import type { IntervalNode } from './interval-node.js';
import type { IntervalTree } from './interval-tree.js';
import { F64, I32 } from './layout.js';

/**
 * Stack entries one walk may need: the tree height, which for a red-black tree of at most
 * MAX_SLOTS = 2^28 nodes is at most 2 log2(2^28 + 1) < 58.
 */
export const STACK_FRAME = 64;

/** Calls `fn` with the handle of every overlap; leaves the cursor where `fn` stops the walk. */
export function walkNodes<T>(
  t: IntervalTree<T>,
  start: number,
  last: number,
  fn: (node: IntervalNode<T>) => void | false,
  base: number,
): number {
  const F = t._f;
  const W = t._w;
  const nodes = t._nodes;
  const mod = t._mod;
  let stack = t._stack;
  let sp = base;
  let count = 0;
  let n = t._root;
  for (;;) {
    // Descend left while the subtree reaches start (the nil sentinel's max is -Infinity).
    while (start <= F[(n << F64.SHIFT) + F64.MAX]!) {
      stack[sp++] = n;
      n = W[(n << I32.SHIFT) + I32.LEFT]!;
    }
    if (sp === base) return count;
    n = stack[--sp]!;
    // In order, every later node starts at or after this one: nothing more can overlap.
    // Stryker disable next-line ArithmeticOperator: equivalent: F64.START is 0, so + and - give the same word.
    if (F[(n << F64.SHIFT) + F64.START]! > last) return count;
    if (start <= F[(n << F64.SHIFT) + F64.LAST]!) {
      count++;
      t._sp = sp;
      if (fn(nodes[n]!) === false) {
        // Leave the cursor here, so iterNext(node) continues this walk without a climb.
        // It records the tree version the walk saw: if fn changed the tree, it won't match.
        saveCursor(t, n, t._stack, base, sp, start, last, mod);
        return count;
      }
      if (t._mod !== mod) {
        throw new ConcurrentModificationError(
          'IntervalTree.forEachOverlap: the callback modified the tree and did not return false',
        );
      }
      stack = t._stack; // a nested call may have grown it
    }
    n = W[(n << I32.SHIFT) + I32.RIGHT]!;
  }
}

/** Calls `fn` with the endpoints and value of every overlap; touches no handle. */
export function walkValues<T>(
  t: IntervalTree<T>,
  start: number,
  last: number,
  fn: (start: number, last: number, value: T) => void | false,
  base: number,
): number {
  const F = t._f;
  const W = t._w;
  const vals = t._vals;
  const mod = t._mod;
  let stack = t._stack;
  let sp = base;
  let count = 0;
  let n = t._root;
  for (;;) {
    while (start <= F[(n << F64.SHIFT) + F64.MAX]!) {
      stack[sp++] = n;
      n = W[(n << I32.SHIFT) + I32.LEFT]!;
    }
    if (sp === base) return count;
    n = stack[--sp]!;
    // Stryker disable next-line ArithmeticOperator: equivalent: F64.START is 0, so + and - give the same word.
    const s = F[(n << F64.SHIFT) + F64.START]!;
    if (s > last) return count;
    const l = F[(n << F64.SHIFT) + F64.LAST]!;
    if (start <= l) {
      count++;
      t._sp = sp;
      if (fn(s, l, vals[n] as T) === false) return count;
      if (t._mod !== mod) {
        throw new ConcurrentModificationError(
          'IntervalTree.forEachOverlapValue: the callback modified the tree and did not return false',
        );
      }
      stack = t._stack; // a nested call may have grown it
    }
    n = W[(n << I32.SHIFT) + I32.RIGHT]!;
  }
}

/** Replaces the walk stack by one of at least `min` entries, keeping its contents. */
export function growStack<T>(t: IntervalTree<T>, min: number): void {
  // Stryker disable next-line MethodExpression,ArithmeticOperator: equivalent: min <= twice the length, and any size of at least min holds the new frame; doubling only saves reallocations.
  const stack = new Int32Array(Math.max(min, t._stack.length * 2));
  stack.set(t._stack);
  t._stack = stack;
}
