/**
 * The iterators of overlaps() and [Symbol.iterator](): iterable themselves, done for good once
 * exhausted, and invalidated by every modification made after they were created, even by
 * modifications that seem to cancel out.
 */
import { describe, expect, it } from 'vitest';
import { ConcurrentModificationError } from '../src/index.js';
import { sample } from './helpers.js';

const values = (it: Iterable<{ value: string }>) => [...it].map((n) => n.value);

describe('tree iterators', () => {
  it('the whole-tree iterator is iterable itself and yields every node in order', () => {
    const t = sample();
    const it = t[Symbol.iterator]();
    expect(it[Symbol.iterator]()).toBe(it);
    expect(it.next().value?.value).toBe('a');
    // A for-of over the iterator object continues where next() left it.
    expect(values(it)).toEqual(['b', 'c']);
    expect(it.next()).toEqual({ done: true, value: undefined });
  });

  it('an exhausted whole-tree iterator stays done, even after the tree changes', () => {
    const t = sample();
    const it = t[Symbol.iterator]();
    expect(values(it)).toEqual(['a', 'b', 'c']);
    t.insert(0, 0, 'late');
    t.remove(t.iterFirst(10, 10)!);
    expect(it.next()).toEqual({ done: true, value: undefined });
    expect(it.next()).toEqual({ done: true, value: undefined });
  });

  it('an exhausted overlaps() iterator stays done, even after the tree changes', () => {
    const t = sample();
    const it = t.overlaps(2, 4);
    expect(values(it)).toEqual(['a', 'b']);
    t.clear();
    expect(it.next()).toEqual({ done: true, value: undefined });
  });

  it('clear() after an insert invalidates iterators created before both', () => {
    const t = sample();
    const overlaps = t.overlaps(0, 100);
    const all = t[Symbol.iterator]();
    t.insert(7, 7, 'x');
    t.clear();
    expect(() => overlaps.next()).toThrow(ConcurrentModificationError);
    expect(() => all.next()).toThrow(ConcurrentModificationError);
  });

  it('an insert after clear() invalidates iterators created before both', () => {
    const t = sample();
    const overlaps = t.overlaps(0, 100);
    const all = t[Symbol.iterator]();
    expect(overlaps.next().value?.value).toBe('a');
    expect(all.next().value?.value).toBe('a');
    t.clear();
    t.insert(1, 5, 'a2');
    expect(() => overlaps.next()).toThrow(ConcurrentModificationError);
    expect(() => all.next()).toThrow(ConcurrentModificationError);
  });

  it('a remove and a re-insert of the same interval still invalidate an iterator', () => {
    const t = sample();
    const overlaps = t.overlaps(0, 100);
    expect(overlaps.next().value?.value).toBe('a');
    const a = t.iterFirst(3, 3)!;
    expect([a.start, a.last, a.value]).toEqual([1, 5, 'a']);
    t.remove(a);
    t.insert(1, 5, 'a');
    expect(() => overlaps.next()).toThrow(ConcurrentModificationError);
  });

  it('an iterator created after the modifications walks the new contents', () => {
    const t = sample();
    t.insert(7, 7, 'x');
    t.clear();
    t.insert(2, 2, 'y');
    expect(values(t.overlaps(0, 100))).toEqual(['y']);
    expect(values(t)).toEqual(['y']);
  });
});
