import { describe, expect, it } from 'vitest';
import { SharedInvalidationTracker } from '../src/index.js';

describe('SharedInvalidationTracker specifics', () => {
  it('a zero-filled region is an idle tracker with seq 0 and no range', () => {
    const t = SharedInvalidationTracker.from(new SharedArrayBuffer(64), 32);
    expect([t.seq, t.inProgress, t.rangeStart, t.rangeEnd]).toEqual([0, 0, undefined, undefined]);
    expect(t.byteOffset).toBe(32);
  });

  it('two views of one buffer share the state (as a worker would see it)', () => {
    const a = SharedInvalidationTracker.create({ initialSeq: 5 });
    const b = SharedInvalidationTracker.from(a.buffer);
    const seq = b.snapshot();
    a.begin();
    a.rangeAdd(3, 9);
    expect([b.inProgress, b.rangeStart, b.rangeEnd]).toEqual([1, 3, 9]);
    expect(b.retryGfn(seq, 4)).toBe(true);
    a.end();
    expect(b.seq).toBe(6);
    expect(b.retryGfn(seq, 100)).toBe(true);
  });

  it('carries seq exactly across 2^32 and keeps the high word copies equal', () => {
    const t = SharedInvalidationTracker.create({ initialSeq: 2 ** 32 - 2 });
    const words = new Int32Array(t.buffer, 0, 3); // hi1, lo, hi2
    expect([...words]).toEqual([0, -2, 0]);
    for (const expected of [2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1]) {
      t.begin();
      t.end();
      expect(t.snapshot()).toBe(expected);
    }
    expect([...words]).toEqual([1, 1, 1]);
    const far = SharedInvalidationTracker.create({ initialSeq: 3 * 2 ** 40 + 7 });
    expect(far.seq).toBe(3 * 2 ** 40 + 7);
  });

  it('begin() refuses to pass 2^31 - 1 invalidations in progress, state unchanged', () => {
    const buffer = new SharedArrayBuffer(32);
    new Int32Array(buffer)[3] = 0x7fffffff;
    const t = SharedInvalidationTracker.from(buffer);
    expect(() => t.begin()).toThrow(RangeError);
    expect(t.inProgress).toBe(0x7fffffff);
  });

  it.each([
    [new ArrayBuffer(32), 0, TypeError, /SharedArrayBuffer/],
    [new SharedArrayBuffer(64), 4, RangeError, /multiple of 8/],
    [new SharedArrayBuffer(64), -8, RangeError, /multiple of 8/],
    [new SharedArrayBuffer(64), 40, RangeError, /needs 32 bytes/],
    [new SharedArrayBuffer(16), 0, RangeError, /needs 32 bytes/],
    [new SharedArrayBuffer(64), 1.5, RangeError, /multiple of 8/],
    [new SharedArrayBuffer(64), null, TypeError, /byteOffset must be a number/],
  ])('from(%o, %o) throws', (buffer, offset, type, message) => {
    const make = () =>
      SharedInvalidationTracker.from(buffer as SharedArrayBuffer, offset as unknown as number);
    expect(make).toThrow(type);
    expect(make).toThrow(message);
  });
});
