import { describe, expect, it } from 'vitest';
import { IntervalTree } from '../src/index.js';
import { checkInvariants } from '../src/invariants.js';

const values = <T>(it: Iterable<{ value: T }>): T[] => [...it].map((n) => n.value);

describe('IntervalTree semantics', () => {
  it('treats intervals as closed: touching intervals overlap', () => {
    const t = new IntervalTree<string>();
    t.insert(0, 5, 'left');
    t.insert(5, 9, 'right');
    t.insert(6, 9, 'after');
    expect(values(t.overlaps(5, 5))).toEqual(['left', 'right']);
    expect(values(t.overlaps(9, 100))).toEqual(['right', 'after']);
    expect(values(t.overlaps(-3, 0))).toEqual(['left']);
    expect(t.iterFirst(10, 20)).toBeUndefined();
    expect(t.iterFirst(-9, -1)).toBeUndefined();
  });

  it('keeps duplicates as separate nodes in insertion order', () => {
    const t = new IntervalTree<number>();
    const a = t.insert(1, 3, 7);
    const b = t.insert(1, 3, 7);
    const c = t.insert(1, 3, 7);
    expect(t.size).toBe(3);
    expect([...t]).toEqual([a, b, c]);
    expect([...t][0]).toBe(a);
    expect([...t.overlaps(2, 2)].map((n) => [a, b, c].indexOf(n))).toEqual([0, 1, 2]);
    t.remove(b);
    expect([...t].map((n) => [a, b, c].indexOf(n))).toEqual([0, 2]);
  });

  it('orders by start, equal starts by insertion, regardless of last', () => {
    const t = new IntervalTree<string>();
    t.insert(5, 100, 'p');
    t.insert(1, 2, 'q');
    t.insert(5, 5, 'r');
    t.insert(3, 50, 's');
    t.insert(5, 6, 't');
    expect(values(t)).toEqual(['q', 's', 'p', 'r', 't']);
  });

  it('iterates with iterFirst / iterNext like the kernel', () => {
    const t = new IntervalTree<number>();
    for (let i = 0; i < 100; i++) t.insert(i * 10, i * 10 + 15, i);
    const got: number[] = [];
    for (let n = t.iterFirst(95, 130); n; n = t.iterNext(n, 95, 130)) got.push(n.value);
    expect(got).toEqual([8, 9, 10, 11, 12, 13]);
  });

  it('lets value be reassigned, and keeps start/last/value after removal', () => {
    const t = new IntervalTree<string>();
    const n = t.insert(-(2 ** 50), 2 ** 52, 'x');
    n.value = 'y';
    expect(t.iterFirst(0, 0)?.value).toBe('y');
    t.remove(n);
    t.insert(1, 1, 'reuses the slot');
    expect([n.start, n.last, n.value]).toEqual([-(2 ** 50), 2 ** 52, 'y']);
    expect(t.size).toBe(1);
  });

  it('clear() empties the tree, detaches handles, and the tree stays usable', () => {
    const t = new IntervalTree<number>();
    const old = [t.insert(1, 2, 1), t.insert(3, 4, 2)];
    t.clear();
    expect(t.size).toBe(0);
    expect([...t]).toEqual([]);
    expect(t.iterFirst(0, 10)).toBeUndefined();
    expect(old.map((n) => [t.has(n), n.start, n.last])).toEqual([
      [false, 1, 2],
      [false, 3, 4],
    ]);
    const n = t.insert(3, 4, 3);
    expect(values(t.overlaps(0, 10))).toEqual([3]);
    expect(t.has(n)).toBe(true);
    checkInvariants(t);
  });

  it('stays balanced and consistent through growth, sorted inserts and removal of all', () => {
    const t = new IntervalTree<number>();
    const nodes = [];
    for (let i = 0; i < 5000; i++) nodes.push(t.insert(i, i + (i % 7), i)); // ascending: worst case for a plain BST
    checkInvariants(t);
    let h = 0;
    for (let n = t._leftmost, d = 0; n !== 0; n = t._p[n]!, d++) h = Math.max(h, d);
    expect(h).toBeLessThanOrEqual(2 * Math.log2(5001));
    for (let i = 0; i < nodes.length; i += 2) t.remove(nodes[i]!);
    checkInvariants(t);
    for (let i = 1; i < nodes.length; i += 2) t.remove(nodes[i]!);
    checkInvariants(t);
    expect(t.size).toBe(0);
    expect(t._root).toBe(0);
  });

  it('forEachOverlap returns the number of calls, including the one that returned false', () => {
    const t = new IntervalTree<number>();
    for (let i = 0; i < 10; i++) t.insert(i, i, i);
    expect(t.forEachOverlap(0, 9, () => {})).toBe(10);
    expect(t.forEachOverlap(0, 9, (n) => (n.value === 3 ? false : undefined))).toBe(4);
    expect(t.forEachOverlap(20, 30, () => false)).toBe(0);
  });

  it('forEachOverlap may be called re-entrantly from its own callback, to any depth', () => {
    const t = new IntervalTree<number>();
    for (let i = 0; i < 300; i++) t.insert(i, i + 3, i);
    const want = (s: number, l: number) => [...t.overlaps(s, l)].map((n) => n.value);
    // Every callback starts a nested walk; 20 levels deep needs more than the initial stack.
    const walk = (s: number, depth: number): number[] => {
      const got: number[] = [];
      t.forEachOverlap(s, s + 40, (n) => {
        got.push(n.value);
        if (depth < 20 && got.length === 1) {
          expect(walk(s + 7, depth + 1)).toEqual(want(s + 7, s + 47));
        }
      });
      return got;
    };
    expect(walk(0, 0)).toEqual(want(0, 40));
    expect(t._sp).toBe(0);
  });

  it('forEachOverlap releases its walk stack when the callback throws', () => {
    const t = new IntervalTree<number>();
    for (let i = 0; i < 100; i++) t.insert(i, i, i);
    for (let k = 0; k < 50; k++) {
      expect(() =>
        t.forEachOverlap(0, 99, (n) => {
          if (n.value === 50) throw new Error('boom');
        }),
      ).toThrow('boom');
    }
    expect(t._sp).toBe(0);
    expect(t._stack.length).toBeLessThanOrEqual(128);
    expect(t.forEachOverlap(0, 99, () => {})).toBe(100);
  });

  it('iterators are iterable themselves', () => {
    const t = new IntervalTree<number>();
    t.insert(1, 1, 1);
    const it = t.overlaps(0, 5);
    expect(it[Symbol.iterator]()).toBe(it);
    expect(values(it)).toEqual([1]);
  });
});
