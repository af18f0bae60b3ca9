import { describe, expect, it } from 'vitest';
import {
  ConcurrentModificationError,
  IntervalTree,
  IntervalTreeError,
  NodeNotInTreeError,
} from '../src/index.js';
import { sample, snapshot } from './helpers.js';

const badEndpoints: [string, unknown, unknown, ErrorConstructor, RegExp][] = [
  ['a string start', '1', 5, TypeError, /must be numbers/],
  ['an undefined last', 1, undefined, TypeError, /must be numbers/],
  ['a bigint', 1n, 5, TypeError, /must be numbers/],
  ['NaN', Number.NaN, 5, RangeError, /safe integers/],
  ['Infinity', 0, Number.POSITIVE_INFINITY, RangeError, /safe integers/],
  ['a fraction', 1.5, 5, RangeError, /safe integers/],
  ['2^53', 0, 2 ** 53, RangeError, /safe integers/],
  ['-2^53', -(2 ** 53), 0, RangeError, /safe integers/],
  ['start > last', 6, 5, RangeError, /start \(6\) is greater than last \(5\)/],
];

describe('bad endpoints', () => {
  for (const [what, s, l, type, msg] of badEndpoints) {
    it(`insert rejects ${what} and changes nothing`, () => {
      const t = sample();
      const before = snapshot(t);
      expect(() => t.insert(s as number, l as number, 'x')).toThrow(type);
      expect(() => t.insert(s as number, l as number, 'x')).toThrow(msg);
      expect(snapshot(t)).toEqual(before);
    });

    it(`queries reject ${what} and change nothing`, () => {
      const t = sample();
      const first = t.iterFirst(0, 100)!;
      const before = snapshot(t);
      const S = s as number;
      const L = l as number;
      expect(() => t.iterFirst(S, L)).toThrow(type);
      expect(() => t.iterNext(first, S, L)).toThrow(type);
      expect(() => t.overlaps(S, L)).toThrow(type);
      expect(() => t.forEachOverlap(S, L, () => {})).toThrow(type);
      expect(() => t.forEachOverlapValue(S, L, () => {})).toThrow(type);
      expect(() => t.overlaps(S, L)).toThrow(msg);
      expect(snapshot(t)).toEqual(before);
    });
  }

  it('accepts the extreme safe integers', () => {
    const t = new IntervalTree<number>();
    const n = t.insert(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 0);
    expect([n.start, n.last]).toEqual([Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER]);
    expect(t.iterFirst(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)).toBe(n);
  });

  it('forEachOverlap rejects a non-function callback and changes nothing', () => {
    const t = sample();
    const before = snapshot(t);
    expect(() => t.forEachOverlap(0, 9, 42 as never)).toThrow(TypeError);
    expect(() => t.forEachOverlapValue(0, 9, 42 as never)).toThrow(TypeError);
    expect(snapshot(t)).toEqual(before);
  });
});

describe('bad node handles', () => {
  it('remove of a node from another tree throws NodeNotInTreeError and changes neither', () => {
    const t = sample();
    const other = sample();
    const foreign = other.iterFirst(10, 10)!;
    const before = snapshot(t);
    const otherBefore = snapshot(other);
    expect(() => t.remove(foreign)).toThrow(NodeNotInTreeError);
    expect(() => t.remove(foreign)).toThrow(/belongs to another IntervalTree/);
    expect(t.has(foreign)).toBe(false);
    expect(snapshot(t)).toEqual(before);
    expect(snapshot(other)).toEqual(otherBefore);
  });

  it('remove of an already removed node throws NodeNotInTreeError and changes nothing', () => {
    const t = sample();
    const n = t.iterFirst(3, 3)!;
    t.remove(n);
    t.insert(4, 4, 'reuses the freed slot');
    const before = snapshot(t);
    expect(() => t.remove(n)).toThrow(NodeNotInTreeError);
    expect(() => t.remove(n)).toThrow(/\[1, 5\] was already removed/);
    expect(snapshot(t)).toEqual(before);
  });

  it('remove of a node dropped by clear() throws NodeNotInTreeError', () => {
    const t = sample();
    const n = t.iterFirst(10, 10)!;
    t.clear();
    t.insert(10, 20, 'c');
    const before = snapshot(t);
    expect(t.has(n)).toBe(false);
    expect(() => t.remove(n)).toThrow(NodeNotInTreeError);
    expect(snapshot(t)).toEqual(before);
    expect([n.start, n.last, n.value]).toEqual([10, 20, 'c']);
  });

  it('remove of something that is not a handle throws TypeError and changes nothing', () => {
    const t = sample();
    const before = snapshot(t);
    const fake = { start: 1, last: 5, value: 'a' };
    expect(() => t.remove(fake)).toThrow(TypeError);
    expect(() => t.remove(null as never)).toThrow(TypeError);
    expect(t.has(fake)).toBe(false);
    expect(t.has(null as never)).toBe(false);
    expect(snapshot(t)).toEqual(before);
  });

  it('iterNext with no node at all throws TypeError, also right after a walk ended', () => {
    const t = sample();
    expect(t.iterNext(t.iterFirst(10, 10)!, 10, 10)).toBeUndefined();
    const before = snapshot(t);
    expect(() => t.iterNext(undefined as never, 10, 10)).toThrow(TypeError);
    expect(() => t.iterNext(null as never, 10, 10)).toThrow(TypeError);
    expect(snapshot(t)).toEqual(before);
  });

  it('iterNext from the node a walk stopped at throws once that node is removed', () => {
    const t = sample();
    const n = t.iterFirst(0, 100)!;
    t.remove(n);
    expect(() => t.iterNext(n, 0, 100)).toThrow(NodeNotInTreeError);
  });

  it('iterNext with a foreign or removed node throws NodeNotInTreeError', () => {
    const t = sample();
    const foreign = sample().iterFirst(1, 1)!;
    const gone = t.iterFirst(10, 10)!;
    t.remove(gone);
    const before = snapshot(t);
    expect(() => t.iterNext(foreign, 0, 100)).toThrow(NodeNotInTreeError);
    expect(() => t.iterNext(gone, 0, 100)).toThrow(NodeNotInTreeError);
    expect(snapshot(t)).toEqual(before);
  });
});

describe('modification during a walk', () => {
  it('an overlaps() iterator throws on its next step after an insert', () => {
    const t = sample();
    const it = t.overlaps(0, 100);
    expect(it.next().value?.value).toBe('a');
    t.insert(2, 2, 'new');
    expect(() => it.next()).toThrow(ConcurrentModificationError);
    expect(() => it.next()).toThrow(/modified during the iteration/);
  });

  it('an overlaps() iterator throws after a remove, even before its first step', () => {
    const t = sample();
    const it = t.overlaps(0, 100);
    t.remove(t.iterFirst(10, 10)!);
    expect(() => it.next()).toThrow(ConcurrentModificationError);
  });

  it('an overlaps() iterator throws after clear()', () => {
    const t = sample();
    const it = t.overlaps(0, 100);
    it.next();
    t.clear();
    expect(() => it.next()).toThrow(ConcurrentModificationError);
  });

  it('a for-of over the whole tree throws when the body removes a node', () => {
    const t = sample();
    expect(() => {
      for (const n of t) t.remove(n);
    }).toThrow(ConcurrentModificationError);
    expect(t.size).toBe(2);
  });

  it('a failed (rejected) insert does not invalidate iterators', () => {
    const t = sample();
    const it = t.overlaps(0, 100);
    it.next();
    expect(() => t.insert(5, 1, 'bad')).toThrow(RangeError);
    expect(it.next().value?.value).toBe('b');
  });

  it('an exhausted iterator stays done even if the tree changes later', () => {
    const t = sample();
    const it = t.overlaps(100, 200);
    expect(it.next().done).toBe(true);
    t.insert(150, 150, 'late');
    expect(it.next().done).toBe(true);
  });

  it('forEachOverlap throws when the callback modifies the tree and continues', () => {
    const t = sample();
    expect(() => t.forEachOverlap(0, 100, () => void t.insert(50, 50, 'x'))).toThrow(
      ConcurrentModificationError,
    );
    expect(t.size).toBe(4);
  });

  it('forEachOverlapValue throws when the callback modifies the tree and continues', () => {
    const t = sample();
    expect(() => t.forEachOverlapValue(0, 100, () => void t.insert(50, 50, 'x'))).toThrow(
      ConcurrentModificationError,
    );
    expect(t.size).toBe(4);
  });

  it('forEachOverlapValue allows a modification by a callback that then returns false', () => {
    const t = sample();
    const count = t.forEachOverlapValue(0, 100, () => {
      t.remove(t.iterFirst(0, 100)!);
      return false;
    });
    expect(count).toBe(1);
    expect([...t].map((n) => n.value)).toEqual(['b', 'c']);
  });

  it('forEachOverlap allows a modification by a callback that then returns false', () => {
    const t = sample();
    const count = t.forEachOverlap(0, 100, (n) => {
      t.remove(n);
      return false;
    });
    expect(count).toBe(1);
    expect([...t].map((n) => n.value)).toEqual(['b', 'c']);
  });
});

describe('error classes and messages', () => {
  it('every named error extends IntervalTreeError, and each has its own name', () => {
    for (const E of [NodeNotInTreeError, ConcurrentModificationError]) {
      const e = new E('m');
      expect(e).toBeInstanceOf(IntervalTreeError);
      expect(e).toBeInstanceOf(Error);
      expect(e.name).toBe(E.name);
    }
    expect(new IntervalTreeError('m').name).toBe('IntervalTreeError');
  });

  it('every message starts with the method that refused', () => {
    const t = sample();
    const n = t.iterFirst(1, 1)!;
    const foreign = sample().iterFirst(1, 1)!;
    const starts = (fn: () => unknown, method: string) => {
      let err: unknown;
      try {
        fn();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message.startsWith(`${method}: `)).toBe(true);
    };
    starts(() => t.insert(2, 1, 'x'), 'IntervalTree.insert');
    starts(() => t.insert('1' as never, 1, 'x'), 'IntervalTree.insert');
    starts(() => t.iterFirst(2, 1), 'IntervalTree.iterFirst');
    starts(() => t.iterNext(n, 2, 1), 'IntervalTree.iterNext');
    starts(() => t.iterNext(foreign, 1, 1), 'IntervalTree.iterNext');
    starts(() => t.iterNext({} as never, 1, 1), 'IntervalTree.iterNext');
    starts(() => t.overlaps(2, 1), 'IntervalTree.overlaps');
    starts(() => t.forEachOverlap(2, 1, () => {}), 'IntervalTree.forEachOverlap');
    starts(() => t.forEachOverlap(1, 1, null as never), 'IntervalTree.forEachOverlap');
    starts(
      () => t.forEachOverlap(0, 9, () => void t.insert(0, 0, 'y')),
      'IntervalTree.forEachOverlap',
    );
    starts(() => t.forEachOverlapValue(2, 1, () => {}), 'IntervalTree.forEachOverlapValue');
    starts(() => t.forEachOverlapValue(1, 1, null as never), 'IntervalTree.forEachOverlapValue');
    starts(
      () => t.forEachOverlapValue(0, 9, () => void t.insert(0, 0, 'y')),
      'IntervalTree.forEachOverlapValue',
    );
    starts(() => t.remove(foreign), 'IntervalTree.remove');
    starts(() => t.remove({} as never), 'IntervalTree.remove');
    const it1 = t.overlaps(0, 100);
    const it2 = t[Symbol.iterator]();
    t.insert(7, 7, 'z');
    starts(() => it1.next(), 'IntervalTree.overlaps() iterator.next');
    starts(() => it2.next(), 'IntervalTree[Symbol.iterator]() iterator.next');
  });
});
