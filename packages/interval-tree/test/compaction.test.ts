/**
 * Compaction (src/compact.ts): once enough has been inserted, the records move into tree order
 * as a freshly balanced tree, and nothing observable changes: same intervals, order, handles and
 * values; walks stopped before it continue from their handles.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { COMPACT_MIN, COMPACT_SHARE, compact } from '../src/compact.js';
import { type IntervalNode, IntervalTree } from '../src/index.js';
import { checkInvariants } from '../src/invariants.js';
import type { TreeNode } from '../src/storage.js';
import { op, run } from './model.js';
import { mutant, removeMutants } from './mutant.js';

const slotOf = (n: IntervalNode<unknown>) => (n as TreeNode<unknown>)._i;

/** n intervals inserted in descending start order, with every third start repeated. */
function descending(n: number): [IntervalTree<number>, IntervalNode<number>[]] {
  const t = new IntervalTree<number>();
  const nodes: IntervalNode<number>[] = [];
  for (let i = 0; i < n; i++) {
    const s = n - i - (i % 3 === 1 ? 1 : 0);
    nodes.push(t.insert(s * 10, s * 10 + (i % 7) * 15, i));
  }
  return [t, nodes];
}

/** The handles in tree order: by start, equal starts in insertion order. */
const treeOrder = (nodes: IntervalNode<number>[]) =>
  [...nodes].sort((a, b) => a.start - b.start || a.value - b.value);

describe('compaction', () => {
  afterAll(removeMutants);

  it('is not triggered below COMPACT_MIN inserts', () => {
    const [t, nodes] = descending(COMPACT_MIN - 1);
    // Inserted in descending order: the lowest start sits in the highest slot.
    expect(slotOf(treeOrder(nodes)[0]!)).toBe(COMPACT_MIN - 1);
    expect(t._inserted).toBe(COMPACT_MIN - 1);
  });

  it('the insert that reaches the threshold moves every record to its rank', () => {
    const [t, nodes] = descending(COMPACT_MIN);
    expect(t._inserted).toBe(0);
    const ordered = treeOrder(nodes);
    expect(ordered.map(slotOf)).toEqual(ordered.map((_, r) => r + 1));
    expect([...t]).toEqual(ordered);
    expect([t._used, t._free, t._leftmost]).toEqual([COMPACT_MIN + 1, 0, 1]);
    checkInvariants(t);
  });

  it('keeps every handle, value and query result, and makes the tree as low as possible', () => {
    const [t, nodes] = descending(3000);
    for (let i = 0; i < 3000; i += 4) t.remove(nodes[i]!);
    const live = nodes.filter((_, i) => i % 4 !== 0);
    live[5]!.value = -5;
    const hits = (s: number, l: number) => [...t.overlaps(s, l)];
    const before = [hits(0, 5000), hits(12_345, 12_345), [...t]];
    compact(t);
    checkInvariants(t);
    expect([hits(0, 5000), hits(12_345, 12_345), [...t]]).toEqual(before);
    expect(live.every((n) => t.has(n))).toBe(true);
    expect(nodes.filter((_, i) => i % 4 === 0).some((n) => t.has(n))).toBe(false);
    expect(live[5]!.value).toBe(-5);
    const values: number[] = [];
    t.forEachOverlapValue(0, Number.MAX_SAFE_INTEGER, (_s, _l, v) => void values.push(v));
    expect(values).toEqual(treeOrder(live).map((n) => n.value));
    // Height: floor(log2 n) + 1 levels.
    const depth = (s: number): number =>
      s === 0 ? 0 : 1 + Math.max(depth(t._w[s * 8 + 6]!), depth(t._w[s * 8 + 7]!));
    expect(depth(t._root)).toBe(Math.floor(Math.log2(t.size)) + 1);
  });

  it('is triggered again once size / COMPACT_SHARE more intervals were inserted', () => {
    const size = 4 * COMPACT_MIN;
    const [t] = descending(size);
    expect(t._inserted).toBe(0); // the last insert compacted: COMPACT_MIN = size / 4
    let k = 0;
    do t.insert(k, k, k++);
    while (t._inserted !== 0);
    // The k-th insert since then is the first with k * COMPACT_SHARE >= size + k.
    expect(k).toBe(Math.ceil(size / (COMPACT_SHARE - 1)));
    checkInvariants(t);
  });

  it('a walk stopped before a compaction continues with iterNext from its handle', () => {
    const [t] = descending(COMPACT_MIN - 1);
    const all = [...t.overlaps(0, 10_000)];
    let stop: IntervalNode<number> | undefined;
    t.forEachOverlap(0, 10_000, (n) => {
      stop = n;
      return n === all[3] ? false : undefined;
    });
    compact(t);
    const rest: IntervalNode<number>[] = [];
    for (let n = t.iterNext(stop!, 0, 10_000); n; n = t.iterNext(n, 0, 10_000)) rest.push(n);
    expect(rest).toEqual(all.slice(4));
  });

  it('the oracle property holds on a tree that compacts after every few inserts', async () => {
    const { IntervalTree: Compacting } = await mutant(
      'compact.ts',
      `export const COMPACT_MIN = ${COMPACT_MIN};`,
      'export const COMPACT_MIN = 2;',
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => run(ops, () => new Compacting())),
      { numRuns: 150 },
    );
  });
});
