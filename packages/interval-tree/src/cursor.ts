/**
 * The walk cursor behind `iterFirst`/`iterNext` and the `overlaps()` iterator.
 *
 * Every overlap walk is the same pruned in-order depth-first walk: descend left while a subtree's
 * max reaches the query's start, pop the next node in order, stop once a node starts after the
 * query's last. Same results and order as the kernel's `_iter_first`/`_iter_next` (the property
 * tests compare against a brute-force oracle). The walk's state is its stack of pending
 * ancestors.
 *
 * The cursor keeps that state where the most recent step stopped (fields `_cur*` of the tree):
 * the slot and handle, the query, the tree version (`_mod`) and the pending ancestors. A step
 * from the very node the cursor stopped at, for the same query on an unmodified tree, resumes
 * it; any other step rebuilds the same stack by climbing parent links (O(log n)) and gives the
 * same result. So the cursor is only a shortcut, and any number of interleaved walks work.
 *
 * Slots are numbers; 0 means none (the nil sentinel).
 */
import type { IntervalTree } from './interval-tree.js';
import { F64, I32 } from './layout.js';

/** The first slot overlapping `[start, last]`, or 0; leaves the cursor on it. */
export function first<T>(t: IntervalTree<T>, start: number, last: number): number {
  const F = t._f;
  const root = t._root;
  // O(1) rejects: nothing reaches start, or everything begins after last.
  // Stryker disable ConditionalExpression,LogicalOperator,BlockStatement: equivalent: a shortcut: resume() finds nothing in the same cases, and clears the cursor too.
  if (
    F[(root << F64.SHIFT) + F64.MAX]! < start ||
    F[(t._leftmost << F64.SHIFT) + F64.START]! > last
  ) {
    clearCursor(t);
    return 0;
  }
  // Stryker restore ConditionalExpression,LogicalOperator,BlockStatement
  return resume(t, root, 0, start, last);
}

/**
 * The next slot after slot `n` in tree order overlapping `[start, last]`, or 0. Resumes the
 * cursor if it stopped at `n` for this query on an unmodified tree; otherwise rebuilds the walk's
 * stack from parent links first.
 */
export function next<T>(t: IntervalTree<T>, n: number, start: number, last: number): number {
  // Stryker disable BlockStatement: equivalent: a shortcut: the stack rebuilt below is the same.
  if (n === t._curSlot && start === t._curStart && last === t._curLast && t._mod === t._curMod) {
    return resume(t, t._w[(n << I32.SHIFT) + I32.RIGHT]!, t._curSp, start, last);
  }
  // Stryker restore BlockStatement
  // The pending ancestors of n in an in-order walk: those whose left subtree holds n, top first.
  const W = t._w;
  const P = t._p;
  const stack = t._curStack;
  let sp = 0;
  for (let c = n, p = P[n]!; p !== 0; c = p, p = P[p]!) {
    if (W[(p << I32.SHIFT) + I32.LEFT] === c) stack[sp++] = p;
  }
  // Stryker disable next-line EqualityOperator: equivalent: i <= j also swaps the middle entry with itself.
  for (let i = 0, j = sp - 1; i < j; i++, j--) {
    const s = stack[i]!;
    stack[i] = stack[j]!;
    stack[j] = s;
  }
  return resume(t, W[(n << I32.SHIFT) + I32.RIGHT]!, sp, start, last);
}

/**
 * The walk itself, from subtree `n` with `sp` pending ancestors on the cursor stack: the next
 * overlapping slot, or 0. Saves the cursor at the slot it returns (clears it on 0). The stack
 * never holds more than the tree height.
 */
export function resume<T>(
  t: IntervalTree<T>,
  n: number,
  sp: number,
  start: number,
  last: number,
): number {
  const F = t._f;
  const W = t._w;
  const stack = t._curStack;
  for (;;) {
    // Descend left while the subtree reaches start (the sentinel's max is -Infinity).
    while (start <= F[(n << F64.SHIFT) + F64.MAX]!) {
      stack[sp++] = n;
      n = W[(n << I32.SHIFT) + I32.LEFT]!;
    }
    // Stryker disable next-line ConditionalExpression: equivalent: popping an empty stack reads stack[-1], undefined, i.e. slot 0, whose start (+Infinity) breaks the loop below.
    if (sp === 0) break;
    n = stack[--sp]!;
    // In order, every later node starts at or after this one: nothing more can overlap.
    // Stryker disable next-line ArithmeticOperator: equivalent: F64.START is 0, so + and - give the same word.
    if (F[(n << F64.SHIFT) + F64.START]! > last) break;
    if (start <= F[(n << F64.SHIFT) + F64.LAST]!) {
      t._curSlot = n;
      t._curNode = t._nodes[n];
      t._curSp = sp;
      t._curStart = start;
      t._curLast = last;
      t._curMod = t._mod;
      return n;
    }
    n = W[(n << I32.SHIFT) + I32.RIGHT]!;
  }
  clearCursor(t);
  return 0;
}

// Stryker disable BlockStatement: equivalent: the cursor is a shortcut; left elsewhere, iterNext rebuilds the same stack.
/**
 * Points the cursor at slot `n` of a walk over `[start, last]` on tree version `mod`, with the
 * pending ancestors `stack[from, to)` (forEachOverlap's stack, when its callback stops it).
 */
export function saveCursor<T>(
  t: IntervalTree<T>,
  n: number,
  stack: Int32Array,
  from: number,
  to: number,
  start: number,
  last: number,
  mod: number,
): void {
  const c = t._curStack;
  // Stryker disable next-line EqualityOperator: equivalent: i <= to also copies the entry above the pending ones (_curSp excludes it), into room the stack has.
  for (let i = from; i < to; i++) c[i - from] = stack[i]!;
  t._curSp = to - from;
  t._curSlot = n;
  t._curNode = t._nodes[n];
  t._curStart = start;
  t._curLast = last;
  t._curMod = mod;
}
// Stryker restore BlockStatement

/** Leaves the cursor nowhere. */
export function clearCursor<T>(t: IntervalTree<T>): void {
  t._curSlot = 0;
  t._curNode = undefined;
}
