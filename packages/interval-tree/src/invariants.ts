import type { IntervalTree } from './interval-tree.js';
import { F64, I32 } from './layout.js';
import { Color } from './red-black.js';

/**
 * Test-only consistency check of a tree's internals; not exported from the package index.
 * Verifies: parent links, root and sentinel, red-black rules (red nodes have black children,
 * equal black height on every path), subtree max equals the true max of `last`, in-order
 * starts non-decreasing, the cached leftmost, size, handle/slot agreement and the free list
 * (whose slots hold no handle and no value).
 * Throws an Error describing the first violation found.
 */
export function checkInvariants<T>(tree: IntervalTree<T>): void {
  const { _f: f, _w: w, _p: P, _c: c, _nodes: nodes } = tree;
  // Stryker disable next-line ArithmeticOperator: equivalent: F64.START is 0, so + and - give the same word.
  const st = (n: number) => f[(n << F64.SHIFT) + F64.START]!;
  const la = (n: number) => f[(n << F64.SHIFT) + F64.LAST]!;
  const mx = (n: number) => f[(n << F64.SHIFT) + F64.MAX]!;
  const L = (n: number) => w[(n << I32.SHIFT) + I32.LEFT]!;
  const R = (n: number) => w[(n << I32.SHIFT) + I32.RIGHT]!;
  const { RED, BLACK } = Color;
  const fail = (msg: string): never => {
    throw new Error(`interval tree invariant violated: ${msg}`);
  };
  if (st(0) !== Number.POSITIVE_INFINITY || mx(0) !== Number.NEGATIVE_INFINITY) {
    fail('sentinel values changed');
  }
  if (la(0) !== Number.NEGATIVE_INFINITY || c[0] !== BLACK) fail('sentinel last/colour changed');
  if (L(0) !== 0 || R(0) !== 0) fail('sentinel has children');
  const root = tree._root;
  if (root !== 0 && P[root] !== 0) fail('root has a parent');
  if (root !== 0 && c[root] !== BLACK) fail('root is red');
  let count = 0;
  let prevStart = Number.NEGATIVE_INFINITY;
  let prevSlot = 0;
  const seen = new Set<number>();
  // Recursive check returning [black height, subtree max]; in-order visit for ordering.
  const visit = (n: number): [number, number] => {
    if (n === 0) return [1, Number.NEGATIVE_INFINITY];
    if (seen.has(n)) fail(`slot ${n} reachable twice`);
    seen.add(n);
    const l = L(n);
    const r = R(n);
    if (l !== 0 && P[l] !== n) fail(`left child ${l} of ${n} has parent ${P[l]}`);
    if (r !== 0 && P[r] !== n) fail(`right child ${r} of ${n} has parent ${P[r]}`);
    if (c[n] === RED && (c[l] === RED || c[r] === RED)) fail(`red node ${n} has a red child`);
    if (c[n] !== BLACK && c[n] !== RED) fail(`bad colour at ${n}`);
    const [bl, ml] = visit(l);
    // in-order position
    if (st(n) < prevStart) fail(`start order broken at slot ${n}`);
    if (st(n) > la(n)) fail(`start > last at slot ${n}`);
    if (prevSlot === 0 && tree._leftmost !== n) fail(`leftmost is ${tree._leftmost}, not ${n}`);
    prevStart = st(n);
    prevSlot = n;
    count++;
    const node = nodes[n];
    if (node === undefined || node._i !== n || node._o !== tree) fail(`handle of slot ${n}`);
    const [br, mr] = visit(r);
    if (bl !== br) fail(`black heights differ at ${n}: ${bl} vs ${br}`);
    const m = Math.max(la(n), ml, mr);
    if (mx(n) !== m) fail(`subtree max at ${n} is ${mx(n)}, expected ${m}`);
    return [bl + (c[n] === BLACK ? 1 : 0), m];
  };
  visit(root);
  if (root === 0 && tree._leftmost !== 0) fail('empty tree has a leftmost');
  if (count !== tree.size) fail(`size is ${tree.size}, counted ${count}`);
  // Free list + live slots account for every used slot.
  let free = 0;
  for (let s = tree._free; s !== 0; s = R(s)) {
    if (seen.has(s)) fail(`free slot ${s} is also in the tree`);
    if (nodes[s] !== undefined) fail(`free slot ${s} still has a handle`);
    if (tree._vals[s] !== undefined) fail(`free slot ${s} still holds a value`);
    free++;
    // Stryker disable next-line EqualityOperator: equivalent: a list without a cycle holds at most _used - 1 slots, so >= also fails only on cycles, one step earlier.
    if (free > tree._used) fail('free list cycles');
  }
  if (free + count !== tree._used - 1) {
    fail(`slots: ${count} live + ${free} free != ${tree._used - 1} used`);
  }
}
