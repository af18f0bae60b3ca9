import { describe, expect, it } from 'vitest';
import {
  InvalidationTracker,
  type InvalidationTrackerLike,
  SharedInvalidationTracker,
  SharedMmuLock,
} from '../src/index.js';

const makers: Array<[string, (initialSeq?: number) => InvalidationTrackerLike]> = [
  ['InvalidationTracker', (initialSeq) => new InvalidationTracker({ initialSeq })],
  ['SharedInvalidationTracker', (initialSeq) => SharedInvalidationTracker.create({ initialSeq })],
];

const bad = (value: unknown) => value as never;

describe.each(makers)('%s input checks', (name, make) => {
  it('names initialSeq when it is not a sequence number', () => {
    expect(() => make(bad('1'))).toThrow(new TypeError('initialSeq must be a number, got string'));
    expect(() => make(-2)).toThrow(
      new RangeError('initialSeq must be a non-negative safe integer, got -2'),
    );
  });

  it('names seq or gfn in every check method', () => {
    const t = make();
    expect(() => t.retry(bad('0'))).toThrow(new TypeError('seq must be a number, got string'));
    expect(() => t.retryCache(bad(null))).toThrow(
      new TypeError('seq must be a number, got object'),
    );
    for (const method of ['retryGfn', 'retryGfnUnsafe'] as const) {
      expect(() => t[method](bad('0'), 0)).toThrow(
        new TypeError('seq must be a number, got string'),
      );
      expect(() => t[method](0, -1)).toThrow(
        new RangeError('gfn must be a non-negative safe integer, got -1'),
      );
    }
  });

  it('refuses to move seq past Number.MAX_SAFE_INTEGER, leaving the invalidation open', () => {
    const t = make(Number.MAX_SAFE_INTEGER);
    t.begin();
    expect(() => t.end()).toThrow(
      new RangeError('seq would pass Number.MAX_SAFE_INTEGER; sequences do not wrap'),
    );
    expect(t.seq).toBe(Number.MAX_SAFE_INTEGER);
    expect(t.inProgress).toBe(1);
  });

  it('treats the range as half-open: the gfn at its end does not retry', () => {
    const t = make();
    const seq = t.snapshot();
    t.begin();
    t.rangeAdd(10, 20);
    expect(t.retryGfnUnsafe(seq, 19)).toBe(true);
    expect(t.retryGfnUnsafe(seq, 20)).toBe(false);
    expect(t.retryGfn(seq, 20)).toBe(false);
    expect(t.retryGfnUnsafe(seq, 9)).toBe(false);
    t.end();
    expect(t.retryGfnUnsafe(seq, 20)).toBe(true);
  });

  it(`checks a seq above 2^32 exactly (${name})`, () => {
    const t = make(2 ** 32 + 5);
    const seq = t.snapshot();
    expect(seq).toBe(2 ** 32 + 5);
    expect(t.retryGfn(seq, 3)).toBe(false);
    expect(t.retryGfn(5, 3)).toBe(true);
    t.begin();
    t.end();
    expect(t.retryGfn(seq + 1, 3)).toBe(false);
  });
});

describe('shared regions', () => {
  it('names SharedInvalidationTracker when its region is too small', () => {
    expect(() => new SharedInvalidationTracker(new SharedArrayBuffer(8))).toThrow(
      /SharedInvalidationTracker/,
    );
  });

  it('names SharedMmuLock when its region is too small', () => {
    expect(() => new SharedMmuLock(new SharedArrayBuffer(2))).toThrow(/SharedMmuLock/);
  });

  it('refuses a 2^31st invalidation in progress, state unchanged', () => {
    const made = SharedInvalidationTracker.create();
    new Int32Array(made.buffer, made.byteOffset, 4)[3] = 0x7fffffff;
    expect(() => made.begin()).toThrow(
      new RangeError('too many invalidations in progress (2^31 - 1)'),
    );
    expect(made.inProgress).toBe(0x7fffffff);
  });

  it('a release function called twice throws LockNotHeldError naming it', async () => {
    const lock = new SharedMmuLock(new SharedArrayBuffer(SharedMmuLock.BYTE_LENGTH));
    const release = await lock.acquire();
    release();
    expect(lock.tryLock()).toBe(true);
    expect(() => release()).toThrow(
      'the release function (a second time) called on a SharedMmuLock that is not locked',
    );
    expect(lock.tryLock()).toBe(false);
    lock.unlock();
    expect(() => lock.unlock()).toThrow('unlock() called on a SharedMmuLock that is not locked');
  });
});
