/**
 * Red-black balancing with the interval augmentation: CLRS insert and delete with their fix-ups,
 * plus the kernel's augment callbacks for the subtree max of `last` (include/linux/
 * interval_tree_generic.h): raised on the way down during insert (as `INTERVAL_TREE_DEFINE`'s
 * insert does), moved by each rotation (augment->rotate), inherited by the successor that takes
 * a removed node's place (augment->copy), and recomputed upwards until it stops changing
 * (augment->propagate).
 *
 * Everything works on slots of `t`'s records (layout.ts): W child words, P parents, C colours,
 * F subtree maxima. Slot 0 is the black nil sentinel; its parent word is written by transplant
 * and read by the delete fix-up (as CLRS uses T.nil), and is meaningless otherwise.
 */
import type { IntervalTree } from './interval-tree.js';
import { F64, I32 } from './layout.js';

/** Node colours, as stored in `t._c` (zero-filled storage is black, like the sentinel). */
export enum Color {
  BLACK = 0,
  RED = 1,
}

/**
 * Links slot `s`, whose record holds nothing yet, into the tree as the interval
 * `[start, last]`, and rebalances. Among equal starts it goes after the existing ones (an equal
 * start descends right). Like `interval_tree_insert()`.
 */
export function insertSlot<T>(t: IntervalTree<T>, s: number, start: number, last: number): void {
  const F = t._f;
  const W = t._w;
  // Stryker disable next-line ArithmeticOperator: equivalent: F64.START is 0, so + and - give the same word.
  F[(s << F64.SHIFT) + F64.START] = start;
  F[(s << F64.SHIFT) + F64.LAST] = last;
  F[(s << F64.SHIFT) + F64.MAX] = last;
  W[(s << I32.SHIFT) + I32.LEFT] = 0;
  W[(s << I32.SHIFT) + I32.RIGHT] = 0;
  t._c[s] = Color.RED;
  // Walk down raising each ancestor's subtree max on the way, as the kernel does.
  let parent = 0;
  let link = 0; // Int32 index of the child word to set in `parent`
  let n = t._root;
  let leftmost = true;
  while (n !== 0) {
    parent = n;
    const mi = (n << F64.SHIFT) + F64.MAX;
    // Stryker disable next-line EqualityOperator: equivalent: on equality the assignment writes the same value.
    if (F[mi]! < last) F[mi] = last;
    // Stryker disable next-line ArithmeticOperator: equivalent: F64.START is 0, so + and - give the same word.
    if (start < F[(n << F64.SHIFT) + F64.START]!) {
      link = (n << I32.SHIFT) + I32.LEFT;
    } else {
      link = (n << I32.SHIFT) + I32.RIGHT;
      leftmost = false;
    }
    n = W[link]!;
  }
  t._p[s] = parent;
  if (parent === 0) t._root = s;
  else W[link] = s;
  if (leftmost) t._leftmost = s;
  insertFixup(t, s);
}

/**
 * Unlinks slot `z` from the tree and rebalances (CLRS RB-DELETE with the augment upkeep). The
 * slot's record is left as it was; `t._leftmost` is the caller's to update.
 * Like `interval_tree_remove()`.
 */
export function eraseSlot<T>(t: IntervalTree<T>, z: number): void {
  const W = t._w;
  const P = t._p;
  const C = t._c;
  const F = t._f;
  const zl = W[(z << I32.SHIFT) + I32.LEFT]!;
  const zr = W[(z << I32.SHIFT) + I32.RIGHT]!;
  let x: number;
  let removedColor = C[z]!;
  if (zl === 0 || zr === 0) {
    x = zl === 0 ? zr : zl;
    const zp = P[z]!;
    transplant(t, z, x);
    propagate(t, zp, 0);
  } else {
    // Two children: the successor y (leftmost of the right subtree) takes z's place.
    let y = zr;
    for (let l = W[(y << I32.SHIFT) + I32.LEFT]!; l !== 0; l = W[(y << I32.SHIFT) + I32.LEFT]!) {
      y = l;
    }
    removedColor = C[y]!;
    x = W[(y << I32.SHIFT) + I32.RIGHT]!;
    const yp = P[y]!;
    if (yp === z) {
      P[x] = y;
    } else {
      transplant(t, y, x);
      W[(y << I32.SHIFT) + I32.RIGHT] = zr;
      P[zr] = y;
    }
    transplant(t, z, y);
    W[(y << I32.SHIFT) + I32.LEFT] = zl;
    P[zl] = y;
    C[y] = C[z]!;
    // Kernel's augment->copy: y inherits z's subtree max, so the upward propagation from y
    // may stop as soon as a recomputed value matches what the ancestors already hold.
    F[(y << F64.SHIFT) + F64.MAX] = F[(z << F64.SHIFT) + F64.MAX]!;
    // Stryker disable next-line ConditionalExpression: equivalent: when yp is z, propagate(t, z, y) stops at once: z's recomputed max is its stored one, which y has just copied.
    if (yp !== z) propagate(t, yp, y);
    propagate(t, y, 0);
  }
  if (removedColor === Color.BLACK) eraseFixup(t, x);
}

/** In-order successor slot of `n`, or 0. */
export function successor<T>(t: IntervalTree<T>, n: number): number {
  const W = t._w;
  const P = t._p;
  let r = W[(n << I32.SHIFT) + I32.RIGHT]!;
  if (r !== 0) {
    for (let l = W[(r << I32.SHIFT) + I32.LEFT]!; l !== 0; l = W[(r << I32.SHIFT) + I32.LEFT]!) {
      r = l;
    }
    return r;
  }
  let prev: number;
  do {
    prev = n;
    n = P[n]!;
  } while (n !== 0 && W[(n << I32.SHIFT) + I32.LEFT] !== prev);
  return n;
}

/** max(last(n), max(left(n)), max(right(n))): the subtree max `n` should hold. */
function computeMax<T>(t: IntervalTree<T>, n: number): number {
  const F = t._f;
  const W = t._w;
  let m = F[(n << F64.SHIFT) + F64.LAST]!;
  const a = F[(W[(n << I32.SHIFT) + I32.LEFT]! << F64.SHIFT) + F64.MAX]!;
  const b = F[(W[(n << I32.SHIFT) + I32.RIGHT]! << F64.SHIFT) + F64.MAX]!;
  // Stryker disable next-line EqualityOperator: equivalent: on equality the assignment writes the same value.
  if (a > m) m = a;
  // Stryker disable next-line EqualityOperator: equivalent: on equality the assignment writes the same value.
  if (b > m) m = b;
  return m;
}

/**
 * Recomputes the subtree max from `n` upwards until `stop`, stopping early at the first node
 * whose value does not change (its ancestors cannot change either). Kernel: augment->propagate.
 */
function propagate<T>(t: IntervalTree<T>, n: number, stop: number): void {
  const F = t._f;
  const P = t._p;
  while (n !== stop) {
    const m = computeMax(t, n);
    // Stryker disable next-line ConditionalExpression: equivalent: the early stop only saves work: above an unchanged node, every recomputed max is the stored one.
    if (m === F[(n << F64.SHIFT) + F64.MAX]) break;
    F[(n << F64.SHIFT) + F64.MAX] = m;
    n = P[n]!;
  }
}

/**
 * One rotation at x. `up` is the child word (I32.LEFT or I32.RIGHT) whose node y rises into x's
 * place: I32.RIGHT rotates left, I32.LEFT rotates right. y's inner child (the other word) moves
 * under x, and y takes x's subtree max (augment->rotate).
 */
function rotate<T>(t: IntervalTree<T>, x: number, up: I32.LEFT | I32.RIGHT): void {
  const W = t._w;
  const P = t._p;
  const F = t._f;
  const down = I32.LEFT + I32.RIGHT - up;
  const y = W[(x << I32.SHIFT) + up]!;
  const inner = W[(y << I32.SHIFT) + down]!;
  W[(x << I32.SHIFT) + up] = inner;
  // Stryker disable next-line ConditionalExpression: equivalent: P[0] is scratch, read only by eraseFixup for x = 0, and its rotations with a nil inner child (cases 3 and 4) end its loop.
  if (inner !== 0) P[inner] = x;
  const xp = P[x]!;
  P[y] = xp;
  if (xp === 0) t._root = y;
  else if (W[(xp << I32.SHIFT) + I32.LEFT] === x) W[(xp << I32.SHIFT) + I32.LEFT] = y;
  else W[(xp << I32.SHIFT) + I32.RIGHT] = y;
  W[(y << I32.SHIFT) + down] = x;
  P[x] = y;
  F[(y << F64.SHIFT) + F64.MAX] = F[(x << F64.SHIFT) + F64.MAX]!;
  F[(x << F64.SHIFT) + F64.MAX] = computeMax(t, x);
}

/** Left rotation at x: its right child takes its place. */
function rotateLeft<T>(t: IntervalTree<T>, x: number): void {
  rotate(t, x, I32.RIGHT);
}

/** Right rotation at x: its left child takes its place. */
function rotateRight<T>(t: IntervalTree<T>, x: number): void {
  rotate(t, x, I32.LEFT);
}

/** CLRS RB-INSERT-FIXUP from the new red node z. */
function insertFixup<T>(t: IntervalTree<T>, z: number): void {
  const W = t._w;
  const P = t._p;
  const C = t._c;
  for (;;) {
    let p = P[z]!;
    if (C[p] !== Color.RED) break; // also stops at the root (parent 0 is the black sentinel)
    const g = P[p]!;
    if (p === W[(g << I32.SHIFT) + I32.LEFT]) {
      const u = W[(g << I32.SHIFT) + I32.RIGHT]!;
      if (C[u] === Color.RED) {
        C[p] = Color.BLACK;
        C[u] = Color.BLACK;
        C[g] = Color.RED;
        z = g;
        continue;
      }
      // Stryker disable next-line ConditionalExpression,ArithmeticOperator,BlockStatement: equivalent: without this rotation the next one leaves z red under a red parent, which the loop then repairs from z (and (p << I32.SHIFT) - I32.RIGHT reads the high half of the previous slot's start, never a slot number).
      if (z === W[(p << I32.SHIFT) + I32.RIGHT]) {
        z = p;
        rotateLeft(t, z);
        p = P[z]!;
      }
      C[p] = Color.BLACK;
      C[g] = Color.RED;
      rotateRight(t, g);
    } else {
      const u = W[(g << I32.SHIFT) + I32.LEFT]!;
      if (C[u] === Color.RED) {
        C[p] = Color.BLACK;
        C[u] = Color.BLACK;
        C[g] = Color.RED;
        z = g;
        continue;
      }
      // Stryker disable next-line ConditionalExpression,BlockStatement: equivalent: without this rotation the next one leaves z red under a red parent, which the loop then repairs from z.
      if (z === W[(p << I32.SHIFT) + I32.LEFT]) {
        z = p;
        rotateRight(t, z);
        p = P[z]!;
      }
      C[p] = Color.BLACK;
      C[g] = Color.RED;
      rotateLeft(t, g);
    }
  }
  C[t._root] = Color.BLACK;
}

/** Replaces the subtree at `u` by the one at `v` (v may be the sentinel: its parent is set). */
function transplant<T>(t: IntervalTree<T>, u: number, v: number): void {
  const W = t._w;
  const up = t._p[u]!;
  if (up === 0) t._root = v;
  else if (u === W[(up << I32.SHIFT) + I32.LEFT]) W[(up << I32.SHIFT) + I32.LEFT] = v;
  else W[(up << I32.SHIFT) + I32.RIGHT] = v;
  t._p[v] = up;
}

/** CLRS RB-DELETE-FIXUP from x, the node (or sentinel) that took the removed black's place. */
function eraseFixup<T>(t: IntervalTree<T>, x: number): void {
  const W = t._w;
  const P = t._p;
  const C = t._c;
  while (x !== t._root && C[x] === Color.BLACK) {
    const xp = P[x]!;
    if (x === W[(xp << I32.SHIFT) + I32.LEFT]) {
      let w = W[(xp << I32.SHIFT) + I32.RIGHT]!;
      if (C[w] === Color.RED) {
        C[w] = Color.BLACK;
        C[xp] = Color.RED;
        rotateLeft(t, xp);
        w = W[(xp << I32.SHIFT) + I32.RIGHT]!;
      }
      const wl = W[(w << I32.SHIFT) + I32.LEFT]!;
      const wr = W[(w << I32.SHIFT) + I32.RIGHT]!;
      if (C[wl] === Color.BLACK && C[wr] === Color.BLACK) {
        C[w] = Color.RED;
        x = xp;
      } else {
        if (C[wr] === Color.BLACK) {
          C[wl] = Color.BLACK;
          C[w] = Color.RED;
          rotateRight(t, w);
          w = W[(xp << I32.SHIFT) + I32.RIGHT]!;
        }
        C[w] = C[xp]!;
        C[xp] = Color.BLACK;
        C[W[(w << I32.SHIFT) + I32.RIGHT]!] = Color.BLACK;
        rotateLeft(t, xp);
        x = t._root;
      }
    } else {
      let w = W[(xp << I32.SHIFT) + I32.LEFT]!;
      if (C[w] === Color.RED) {
        C[w] = Color.BLACK;
        C[xp] = Color.RED;
        rotateRight(t, xp);
        w = W[(xp << I32.SHIFT) + I32.LEFT]!;
      }
      const wl = W[(w << I32.SHIFT) + I32.LEFT]!;
      const wr = W[(w << I32.SHIFT) + I32.RIGHT]!;
      if (C[wr] === Color.BLACK && C[wl] === Color.BLACK) {
        C[w] = Color.RED;
        x = xp;
      } else {
        if (C[wl] === Color.BLACK) {
          C[wr] = Color.BLACK;
          C[w] = Color.RED;
          rotateLeft(t, w);
          w = W[(xp << I32.SHIFT) + I32.LEFT]!;
        }
        C[w] = C[xp]!;
        C[xp] = Color.BLACK;
        C[W[(w << I32.SHIFT) + I32.LEFT]!] = Color.BLACK;
        rotateRight(t, xp);
        x = t._root;
      }
    }
  }
  C[x] = Color.BLACK;
}
