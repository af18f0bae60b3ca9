import { describe, expect, it } from 'vitest';
import {
  InvalidationEndWithoutBeginError,
  InvalidationTracker,
  type InvalidationTrackerLike,
  RangeAddOutsideInvalidationError,
} from '../src/index.js';
import { trackerImplementations } from './implementations.js';

type State = Pick<InvalidationTrackerLike, 'seq' | 'inProgress' | 'rangeStart' | 'rangeEnd'>;
const state = (t: InvalidationTrackerLike): State => ({
  seq: t.seq,
  inProgress: t.inProgress,
  rangeStart: t.rangeStart,
  rangeEnd: t.rangeEnd,
});

describe.each(trackerImplementations)('$name: KVM invalidation rules', ({ create }) => {
  it('starts idle: seq 0, nothing in progress, no range (INVALID_GPA)', () => {
    expect(state(create())).toEqual({
      seq: 0,
      inProgress: 0,
      rangeStart: undefined,
      rangeEnd: undefined,
    });
    expect(create({ initialSeq: 41 }).seq).toBe(41);
  });

  it('stores the first range of a burst as given', () => {
    const t = create();
    t.begin();
    expect(state(t)).toMatchObject({ inProgress: 1, rangeStart: undefined, rangeEnd: undefined });
    t.rangeAdd(10, 20);
    expect([t.rangeStart, t.rangeEnd]).toEqual([10, 20]);
  });

  it('widens the range to the union hull while invalidations overlap', () => {
    const t = create();
    t.begin();
    t.rangeAdd(10, 20);
    t.begin();
    t.rangeAdd(30, 40); // disjoint: the hull covers the gap [20, 30) too
    expect([t.rangeStart, t.rangeEnd]).toEqual([10, 40]);
    t.rangeAdd(5, 6);
    expect([t.rangeStart, t.rangeEnd]).toEqual([5, 40]);
    t.rangeAdd(12, 13); // inside: no change
    expect([t.rangeStart, t.rangeEnd]).toEqual([5, 40]);
  });

  it('widens the range for several rangeAdd() calls of one invalidation (several memslots)', () => {
    const t = create();
    t.begin();
    t.rangeAdd(100, 110);
    t.rangeAdd(50, 60);
    expect([t.rangeStart, t.rangeEnd]).toEqual([50, 110]);
  });

  it('never shrinks the range while any invalidation of the burst is running', () => {
    const t = create();
    t.begin();
    t.rangeAdd(0, 4);
    t.begin();
    t.rangeAdd(100, 104);
    t.end();
    expect(state(t)).toEqual({ seq: 1, inProgress: 1, rangeStart: 0, rangeEnd: 104 });
    expect(t.retryGfn(1, 50)).toBe(true); // false positive from the hull, allowed
  });

  it('keeps the old range after the burst ends and resets it when a new burst starts', () => {
    const t = create();
    t.begin();
    t.rangeAdd(10, 20);
    t.end();
    expect(state(t)).toEqual({ seq: 1, inProgress: 0, rangeStart: 10, rangeEnd: 20 });
    t.begin(); // 0 -> 1: new burst
    expect([t.rangeStart, t.rangeEnd]).toEqual([undefined, undefined]);
    t.rangeAdd(30, 31);
    expect([t.rangeStart, t.rangeEnd]).toEqual([30, 31]);
  });

  it('bumps seq by exactly one per end(), also for nested invalidations', () => {
    const t = create({ initialSeq: 7 });
    t.begin();
    t.rangeAdd(0, 1);
    t.begin();
    t.rangeAdd(0, 1);
    t.end();
    t.end();
    expect(state(t)).toMatchObject({ seq: 9, inProgress: 0 });
  });

  it('allows end() without a rangeAdd() (the kernel only warns)', () => {
    const t = create();
    t.begin();
    t.end();
    expect(state(t)).toEqual({ seq: 1, inProgress: 0, rangeStart: undefined, rangeEnd: undefined });
  });

  it('retryGfn: retries only gfns inside the merged range [start, end) while in progress', () => {
    const t = create();
    const seq = t.snapshot();
    t.begin();
    t.rangeAdd(10, 20);
    expect(t.retryGfn(seq, 9)).toBe(false);
    expect(t.retryGfn(seq, 10)).toBe(true);
    expect(t.retryGfn(seq, 19)).toBe(true);
    expect(t.retryGfn(seq, 20)).toBe(false); // end is exclusive
  });

  it('retryGfn: retries every gfn once an invalidation ended after the snapshot', () => {
    const t = create();
    const seq = t.snapshot();
    t.begin();
    t.rangeAdd(10, 20);
    t.end();
    expect(t.retryGfn(seq, 500)).toBe(true);
    expect(t.retryGfn(t.snapshot(), 500)).toBe(false);
    expect(t.retryGfn(t.snapshot(), 15)).toBe(false); // range is stale once inProgress is 0
  });

  it('retryGfn: retries while in progress with no range added yet (kernel WARN path)', () => {
    const t = create();
    const seq = t.snapshot();
    t.begin();
    expect(t.retryGfn(seq, 0)).toBe(true);
    expect(t.retryGfnUnsafe(seq, 0)).toBe(false); // INVALID_GPA never contains a gfn
  });

  it('retry vs retryGfn: retry() is range-agnostic, retryGfn() ignores other ranges', () => {
    const t = create();
    const seq = t.snapshot();
    t.begin();
    t.rangeAdd(10, 20);
    expect(t.retry(seq)).toBe(true);
    expect(t.retryGfn(seq, 5)).toBe(false);
    t.end();
    expect(t.retry(seq)).toBe(true);
    expect(t.retryGfn(seq, 5)).toBe(true);
    expect(t.retry(t.snapshot())).toBe(false);
  });

  it('retryGfnUnsafe and retryCache agree with the locked checks when nothing races', () => {
    const t = create();
    const seq = t.snapshot();
    expect(t.retryCache(seq)).toBe(false);
    t.begin();
    t.rangeAdd(10, 20);
    expect(t.retryGfnUnsafe(seq, 15)).toBe(true);
    expect(t.retryGfnUnsafe(seq, 25)).toBe(false);
    expect(t.retryCache(seq)).toBe(true); // any invalidation in progress
    t.end();
    expect(t.retryGfnUnsafe(seq, 25)).toBe(true);
    expect(t.retryCache(seq)).toBe(true);
    expect(t.retryCache(t.snapshot())).toBe(false);
  });

  it('end() bumps seq before it drops inProgress: a check between the steps retries', () => {
    const seen: Array<{ seq: number; inProgress: number; retry: boolean }> = [];
    const t = create({
      betweenEndSteps: (tracker) =>
        seen.push({ seq: tracker.seq, inProgress: tracker.inProgress, retry: tracker.retry(0) }),
    });
    t.begin();
    t.rangeAdd(0, 1);
    t.end();
    // Between the steps a checker sees the new seq and still the old count.
    expect(seen).toEqual([{ seq: 1, inProgress: 1, retry: true }]);
    expect(state(t)).toMatchObject({ seq: 1, inProgress: 0 });
  });

  it('handles seq and gfns beyond 2^32 exactly', () => {
    const t = create({ initialSeq: 2 ** 32 - 1 });
    const big = 2 ** 40 + 3;
    t.begin();
    t.rangeAdd(big, big + 2);
    expect(t.retryGfn(2 ** 32 - 1, big + 1)).toBe(true);
    expect(t.retryGfn(2 ** 32 - 1, big + 2)).toBe(false);
    t.end();
    expect(t.seq).toBe(2 ** 32);
    expect(t.snapshot()).toBe(2 ** 32);
    expect([t.rangeStart, t.rangeEnd]).toEqual([big, big + 2]);
    const top = create({ initialSeq: Number.MAX_SAFE_INTEGER - 1 });
    top.begin();
    top.rangeAdd(Number.MAX_SAFE_INTEGER - 1, Number.MAX_SAFE_INTEGER);
    top.end();
    expect(top.seq).toBe(Number.MAX_SAFE_INTEGER);
  });
});

describe.each(trackerImplementations)(
  '$name: misuse is an error and changes nothing',
  ({ create }) => {
    function busy(): InvalidationTrackerLike {
      const t = create({ initialSeq: 3 });
      t.begin();
      t.rangeAdd(10, 20);
      return t;
    }

    it('end() without begin() throws InvalidationEndWithoutBeginError', () => {
      const t = create();
      expect(() => t.end()).toThrow(InvalidationEndWithoutBeginError);
      expect(state(t)).toEqual(state(create()));
      const u = busy();
      u.end();
      const before = state(u);
      expect(() => u.end()).toThrow(/without a matching begin/);
      expect(state(u)).toEqual(before);
    });

    it('rangeAdd() outside begin()/end() throws RangeAddOutsideInvalidationError', () => {
      const t = busy();
      t.end();
      const before = state(t);
      expect(() => t.rangeAdd(0, 5)).toThrow(RangeAddOutsideInvalidationError);
      expect(state(t)).toEqual(before);
    });

    it.each([
      [5, 5, RangeError, /empty or negative range/],
      [6, 5, RangeError, /empty or negative range/],
      [-1, 5, RangeError, /non-negative safe integer/],
      [0.5, 5, RangeError, /non-negative safe integer/],
      [0, 2 ** 53, RangeError, /non-negative safe integer/],
      [0, Number.NaN, RangeError, /non-negative safe integer/],
      [0, Number.POSITIVE_INFINITY, RangeError, /non-negative safe integer/],
      ['1', 5, TypeError, /must be a number/],
      [1, 5n, TypeError, /must be a number/],
    ])('rangeAdd(%s, %s) throws %s', (start, end, type, message) => {
      const t = busy();
      const before = state(t);
      expect(() => t.rangeAdd(start as number, end as number)).toThrow(type);
      expect(() => t.rangeAdd(start as number, end as number)).toThrow(message);
      expect(state(t)).toEqual(before);
    });

    it.each([
      [-1, RangeError],
      [1.5, RangeError],
      [2 ** 53, RangeError],
      [Number.NaN, RangeError],
      ['3', TypeError],
      [undefined, TypeError],
    ])('the checks reject seq/gfn %s with %s', (bad, type) => {
      const t = busy();
      const before = state(t);
      const x = bad as number;
      expect(() => t.retry(x)).toThrow(type);
      expect(() => t.retryCache(x)).toThrow(type);
      expect(() => t.retryGfn(x, 1)).toThrow(type);
      expect(() => t.retryGfn(3, x)).toThrow(type);
      expect(() => t.retryGfnUnsafe(x, 1)).toThrow(type);
      expect(() => t.retryGfnUnsafe(3, x)).toThrow(type);
      expect(state(t)).toEqual(before);
    });

    it('rejects a bad initialSeq', () => {
      expect(() => create({ initialSeq: -1 })).toThrow(RangeError);
      expect(() => create({ initialSeq: 1.5 })).toThrow(RangeError);
      expect(() => create({ initialSeq: '0' as unknown as number })).toThrow(TypeError);
    });

    it('refuses to bump seq past Number.MAX_SAFE_INTEGER and stays in progress', () => {
      const t = create({ initialSeq: Number.MAX_SAFE_INTEGER });
      t.begin();
      t.rangeAdd(0, 1);
      const before = state(t);
      expect(() => t.end()).toThrow(RangeError);
      expect(state(t)).toEqual(before);
    });
  },
);

describe('InvalidationTracker specifics', () => {
  it('is an InvalidationTracker and its state is read-only', () => {
    const t = new InvalidationTracker();
    expect(t).toBeInstanceOf(InvalidationTracker);
    expect(() => {
      (t as unknown as { seq: number }).seq = 5;
    }).toThrow(TypeError);
  });
});
