/**
 * Storage (src/storage.ts): a removed node's slot is reused, storage doubles when full and
 * shrinks only on clear(), clear() detaches every handle, and a tree at the slot limit refuses
 * insert with the documented RangeError, changing nothing.
 */
import { describe, expect, it } from 'vitest';
import { IntervalTree, NodeNotInTreeError } from '../src/index.js';
import { checkInvariants } from '../src/invariants.js';
import { MAX_SLOTS } from '../src/layout.js';
import { snapshot } from './helpers.js';

/** Slots of a new or cleared tree, slot 0 (the sentinel) included. */
const INITIAL_SLOTS = 16;

describe('storage', () => {
  it('reuses the slots of removed nodes: insert/remove churn does not grow it', () => {
    const t = new IntervalTree<number>();
    const kept = [t.insert(-10, -5, -1), t.insert(-3, -3, -2)];
    for (let i = 0; i < 1000; i++) {
      const n = t.insert(i, i + 3, i);
      expect(t.iterFirst(i + 3, i + 3)).toBe(n);
      t.remove(n);
    }
    // Slots 1 and 2 hold the kept nodes; every churned node reused slot 3.
    expect(t._used).toBe(4);
    expect(t._p.length).toBe(INITIAL_SLOTS);
    expect(t.size).toBe(2);
    expect([...t]).toEqual(kept);
    checkInvariants(t);
  });

  it('reuses freed slots before taking new ones, keeping the data of every handle', () => {
    const t = new IntervalTree<string>();
    const a = t.insert(1, 2, 'a');
    const b = t.insert(3, 4, 'b');
    const c = t.insert(5, 6, 'c');
    t.remove(a);
    t.remove(c);
    const d = t.insert(7, 8, 'd');
    const e = t.insert(9, 10, 'e');
    const f = t.insert(11, 12, 'f');
    expect(t._used).toBe(5); // d and e took c's and a's slots; only f needed a new one
    expect([...t].map((n) => [n.start, n.last, n.value])).toEqual([
      [3, 4, 'b'],
      [7, 8, 'd'],
      [9, 10, 'e'],
      [11, 12, 'f'],
    ]);
    expect([a, c].map((n) => [t.has(n), n.start, n.last, n.value])).toEqual([
      [false, 1, 2, 'a'],
      [false, 5, 6, 'c'],
    ]);
    expect([b, d, e, f].every((n) => t.has(n))).toBe(true);
    checkInvariants(t);
  });

  it('doubles when full, keeping every interval', () => {
    const t = new IntervalTree<number>();
    const nodes = [];
    for (let i = 0; i < INITIAL_SLOTS - 1; i++) nodes.push(t.insert(i * 2, i * 2 + 1, i));
    expect(t._p.length).toBe(INITIAL_SLOTS);
    nodes.push(t.insert(100, 100, 99));
    expect(t._p.length).toBe(2 * INITIAL_SLOTS);
    expect([...t]).toEqual(nodes);
    expect(nodes.map((n) => [n.start, n.last])).toEqual([
      ...Array.from({ length: INITIAL_SLOTS - 1 }, (_, i) => [i * 2, i * 2 + 1]),
      [100, 100],
    ]);
    expect([...t.overlaps(3, 5)].map((n) => n.value)).toEqual([1, 2]);
    checkInvariants(t);
  });

  it('clear() of a tree with freed slots detaches every handle and shrinks the storage', () => {
    const t = new IntervalTree<string>();
    const nodes = Array.from({ length: 40 }, (_, i) => t.insert(i, i + 2, `v${i}`));
    const removed = nodes.filter((_, i) => i % 3 === 0);
    for (const n of removed) t.remove(n);
    expect(t._free).not.toBe(0);
    expect(t._p.length).toBe(64);
    t.clear();
    expect(t.size).toBe(0);
    expect([...t]).toEqual([]);
    expect(t._p.length).toBe(INITIAL_SLOTS);
    expect([t._used, t._free]).toEqual([1, 0]);
    expect(nodes.every((n) => !t.has(n))).toBe(true);
    expect(nodes.map((n) => [n.start, n.last, n.value])).toEqual(
      Array.from({ length: 40 }, (_, i) => [i, i + 2, `v${i}`]),
    );
    for (const n of [nodes[1]!, removed[0]!]) {
      expect(() => t.remove(n)).toThrow(NodeNotInTreeError);
      expect(() => t.remove(n)).toThrow(/was already removed from its tree/);
    }
    checkInvariants(t);
    const again = t.insert(1, 2, 'again');
    expect([...t.overlaps(0, 100)]).toEqual([again]);
  });

  it('refuses insert into a tree at the slot limit with a RangeError, changing nothing', () => {
    const t = new IntervalTree<number>();
    t.insert(1, 5, 1);
    const before = snapshot(t);
    // A tree whose storage holds MAX_SLOTS slots, all used, simulated through what allocation
    // reads (the parent array's length and the used-slot count): the real one takes 8 GiB.
    const parents = t._p;
    const used = t._used;
    Object.defineProperty(parents, 'length', { value: MAX_SLOTS, configurable: true });
    t._used = MAX_SLOTS;
    let err: unknown;
    try {
      t.insert(2, 3, 2);
    } catch (e) {
      err = e;
    }
    Reflect.deleteProperty(parents, 'length');
    t._p = parents;
    t._used = used;
    expect(err).toBeInstanceOf(RangeError);
    expect((err as Error).message).toBe(
      'IntervalTree.insert: the tree is full (268435455 intervals)',
    );
    expect(snapshot(t)).toEqual(before);
    expect(t.size).toBe(1);
  });
});
