import { Mutex } from '@mmukit/seqcount';
import { describe, expect, it } from 'vitest';
import {
  InvalidationTracker,
  type KvmMemslot,
  type KvmNotifierOptions,
  kvmNotifierOps,
  type UserLock,
} from '../src/index.js';

/** kvmNotifierOps(): every bad option, range and memslot is refused with an error naming it. */

function options(overrides: Partial<KvmNotifierOptions> = {}): KvmNotifierOptions {
  const mutex = new Mutex();
  const lock: UserLock = {
    tryLock: () => mutex.tryLock(),
    lock: () => mutex.lock(),
    unlock: () => mutex.unlock(),
  };
  return {
    tracker: new InvalidationTracker(),
    lock,
    memslots: [{ userspaceAddr: 100, baseGfn: 0, npages: 10 }],
    zap: () => {},
    ...overrides,
  };
}

const bad = (value: unknown) => value as never;

describe('kvmNotifierOps option checks', () => {
  it('refuses a missing options object', () => {
    expect(() => kvmNotifierOps(bad(null))).toThrow(
      new TypeError('kvmNotifierOps: options must be an object'),
    );
    expect(() => kvmNotifierOps(bad(1))).toThrow(
      new TypeError('kvmNotifierOps: options must be an object'),
    );
  });

  it('refuses a tracker that is not an object or lacks a method, naming the method', () => {
    const message = 'kvmNotifierOps: tracker must be an InvalidationTracker-like object';
    expect(() => kvmNotifierOps(options({ tracker: bad(null) }))).toThrow(new TypeError(message));
    expect(() => kvmNotifierOps(options({ tracker: bad('t') }))).toThrow(new TypeError(message));
    const t = new InvalidationTracker();
    const without = (name: string) => {
      const tracker = { begin: () => t.begin(), rangeAdd: () => {}, end: () => t.end() };
      delete (tracker as Record<string, unknown>)[name];
      return bad(tracker);
    };
    expect(() => kvmNotifierOps(options({ tracker: without('begin') }))).toThrow(
      new TypeError('kvmNotifierOps: tracker.begin must be a function, got undefined'),
    );
    expect(() => kvmNotifierOps(options({ tracker: without('rangeAdd') }))).toThrow(
      new TypeError('kvmNotifierOps: tracker.rangeAdd must be a function, got undefined'),
    );
    expect(() => kvmNotifierOps(options({ tracker: without('end') }))).toThrow(
      new TypeError('kvmNotifierOps: tracker.end must be a function, got undefined'),
    );
  });

  it('refuses a lock without tryLock(), lock() or unlock()', () => {
    const message = 'kvmNotifierOps: lock must have tryLock(), lock() and unlock()';
    const f = () => true;
    for (const lock of [
      undefined,
      null,
      'lock',
      { lock: f, unlock: f },
      { tryLock: f, unlock: f },
      { tryLock: f, lock: f },
    ]) {
      expect(() => kvmNotifierOps(options({ lock: bad(lock) }))).toThrow(new TypeError(message));
    }
    expect(() =>
      kvmNotifierOps(options({ lock: bad({ tryLock: f, lock: f, unlock: f }) })),
    ).not.toThrow();
  });

  it('takes memslots as an iterable or a function, nothing else', () => {
    const message = 'kvmNotifierOps: memslots must be an iterable or a function';
    for (const memslots of [null, 5, {}, 'abc']) {
      expect(() => kvmNotifierOps(options({ memslots: bad(memslots) }))).toThrow(
        new TypeError(message),
      );
    }
    const slots: KvmMemslot[] = [{ userspaceAddr: 100, baseGfn: 0, npages: 10 }];
    expect(() => kvmNotifierOps(options({ memslots: new Set(slots) }))).not.toThrow();
    expect(() => kvmNotifierOps(options({ memslots: () => slots }))).not.toThrow();
  });
});

describe('kvmNotifierOps range and memslot checks', () => {
  it('names the callback and the field of a bad range', () => {
    const kvm = kvmNotifierOps(options());
    expect(() => kvm.invalidateRangeStart(null, bad(null))).toThrow(
      new TypeError('invalidateRangeStart: range must be an object with start and end'),
    );
    expect(() => kvm.invalidateRangeStart(null, bad(7))).toThrow(
      new TypeError('invalidateRangeStart: range must be an object with start and end'),
    );
    expect(() => kvm.invalidateRangeStart(null, { start: -1, end: 5 })).toThrow(
      'invalidateRangeStart: range.start must be a non-negative safe integer, got -1',
    );
    expect(() => kvm.invalidateRangeStart(null, { start: 1, end: 'x' as never })).toThrow(
      'invalidateRangeStart: range.end must be a number, got string',
    );
    expect(() => kvm.invalidateRangeStart(null, { start: 5, end: 5 })).toThrow(
      new RangeError('invalidateRangeStart: empty range [5, 5)'),
    );
    expect(() => kvm.invalidateRangeEnd(null, { start: 6, end: 5 })).toThrow(
      new RangeError('invalidateRangeEnd: empty range [6, 5)'),
    );
    expect(() => kvm.invalidateRangeEnd(null, bad(undefined))).toThrow(
      new TypeError('invalidateRangeEnd: range must be an object with start and end'),
    );
    expect(kvm.activeInvalidations).toBe(0);
  });

  it('names the field of a bad memslot, and changes nothing', () => {
    const tracker = new InvalidationTracker();
    const check = (slot: unknown, error: Error) => {
      const kvm = kvmNotifierOps(options({ tracker, memslots: [bad(slot)] }));
      expect(() => kvm.invalidateRangeStart(null, { start: 0, end: 1000 })).toThrow(error);
      expect(kvm.activeInvalidations).toBe(0);
      expect(tracker.inProgress).toBe(0);
    };
    check(null, new TypeError('kvmNotifierOps: a memslot must be an object'));
    check(3, new TypeError('kvmNotifierOps: a memslot must be an object'));
    check(
      { userspaceAddr: -1, baseGfn: 0, npages: 1 },
      new RangeError('memslot.userspaceAddr must be a non-negative safe integer, got -1'),
    );
    check(
      { userspaceAddr: 0, baseGfn: 'x', npages: 1 },
      new TypeError('memslot.baseGfn must be a number, got string'),
    );
    check(
      { userspaceAddr: 0, baseGfn: 0, npages: 1.5 },
      new RangeError('memslot.npages must be a non-negative safe integer, got 1.5'),
    );
    check(
      { userspaceAddr: 0, baseGfn: 0, npages: 0 },
      new RangeError('memslot.npages must be at least 1'),
    );
    check(
      { userspaceAddr: 0, baseGfn: Number.MAX_SAFE_INTEGER - 1, npages: 2 },
      new RangeError('memslot ends past Number.MAX_SAFE_INTEGER'),
    );
  });

  it('accepts a memslot whose gfns end exactly at Number.MAX_SAFE_INTEGER', () => {
    const zaps: Array<[number, number]> = [];
    const kvm = kvmNotifierOps(
      options({
        memslots: [{ userspaceAddr: 0, baseGfn: Number.MAX_SAFE_INTEGER - 2, npages: 2 }],
        zap: (s, e) => zaps.push([s, e]),
      }),
    );
    const range = { start: 0, end: 2, blockable: true };
    expect(kvm.invalidateRangeStart(null, range)).toBe(true);
    expect(zaps).toEqual([[Number.MAX_SAFE_INTEGER - 2, Number.MAX_SAFE_INTEGER]]);
  });

  it('refuses a memslot change that is not a function', async () => {
    const kvm = kvmNotifierOps(options());
    await expect(kvm.waitForInvalidations(bad(42))).rejects.toThrow(
      new TypeError('waitForInvalidations: change must be a function, got number'),
    );
    await expect(kvm.waitForInvalidations(() => 'done')).resolves.toBe('done');
    await expect(kvm.waitForInvalidations()).resolves.toBeUndefined();
  });
});

describe('kvmNotifierOps with a lock that throws', () => {
  const throwing = (which: 'tryLock' | 'lock' | 'none', held: { locked: boolean }): UserLock => ({
    tryLock: () => {
      if (which === 'tryLock') throw new Error('tryLock broke');
      if (held.locked) return false;
      held.locked = true;
      return true;
    },
    lock: () => {
      if (which === 'lock') throw new Error('lock broke');
      held.locked = true;
    },
    unlock: () => {
      held.locked = false;
    },
  });

  it('a start whose tryLock() throws drops its count and rethrows', () => {
    const held = { locked: false };
    const kvm = kvmNotifierOps(options({ lock: throwing('tryLock', held) }));
    expect(() => kvm.invalidateRangeStart(null, { start: 100, end: 101, blockable: true })).toThrow(
      'tryLock broke',
    );
    expect(kvm.activeInvalidations).toBe(0);
  });

  it('a blocking start whose lock() throws drops its count and rethrows', () => {
    const held = { locked: true };
    const kvm = kvmNotifierOps(options({ lock: throwing('lock', held) }));
    expect(() => kvm.invalidateRangeStart(null, { start: 100, end: 101, blockable: true })).toThrow(
      'lock broke',
    );
    expect(kvm.activeInvalidations).toBe(0);
  });

  it('a start whose begin() throws releases the lock, drops its count and rethrows', () => {
    const held = { locked: false };
    const tracker = new InvalidationTracker();
    tracker.begin = () => {
      throw new Error('begin broke');
    };
    const kvm = kvmNotifierOps(options({ tracker, lock: throwing('none', held) }));
    expect(() => kvm.invalidateRangeStart(null, { start: 100, end: 101, blockable: true })).toThrow(
      'begin broke',
    );
    expect(held.locked).toBe(false);
    expect(kvm.activeInvalidations).toBe(0);
  });

  it('an end whose lock throws keeps the invalidation open, and can be retried', () => {
    const held = { locked: false };
    const tracker = new InvalidationTracker();
    let breakOn: 'tryLock' | 'lock' | undefined;
    const lock: UserLock = {
      tryLock: () => {
        if (breakOn === 'tryLock') throw new Error('tryLock broke');
        if (held.locked) return false;
        held.locked = true;
        return true;
      },
      lock: () => {
        if (breakOn === 'lock') throw new Error('lock broke');
        held.locked = true;
      },
      unlock: () => {
        held.locked = false;
      },
    };
    const kvm = kvmNotifierOps(options({ tracker, lock }));
    const range = { start: 100, end: 101, blockable: true };
    expect(kvm.invalidateRangeStart(null, range)).toBe(true);
    breakOn = 'tryLock';
    expect(() => kvm.invalidateRangeEnd(null, range)).toThrow('tryLock broke');
    expect(tracker.inProgress).toBe(1);
    expect(kvm.activeInvalidations).toBe(1);
    breakOn = 'lock';
    held.locked = true; // someone else holds it: the end must call lock()
    expect(() => kvm.invalidateRangeEnd(null, range)).toThrow('lock broke');
    expect(tracker.inProgress).toBe(1);
    breakOn = undefined;
    // A blocking lock(): held on return, so the end finishes synchronously.
    kvm.invalidateRangeEnd(null, range);
    expect(tracker.inProgress).toBe(0);
    expect(kvm.activeInvalidations).toBe(0);
    expect(held.locked).toBe(false);
  });
});
