import { Mutex } from 'async-mutex';
import { describe, expect, it } from 'vitest';
import * as built from '../dist/index.js';

describe('the built package (dist/index.js)', () => {
  it('exports the tracker, the fault loop and the error classes', () => {
    expect(typeof built.InvalidationTracker).toBe('function');
    expect(typeof built.faultWithRetry).toBe('function');
    expect(typeof built.kvmNotifierOps).toBe('function');
    const errors = [
      built.AsyncInstallError,
      built.FaultAbortedError,
      built.FaultDeadlineError,
      built.FaultRetryLimitError,
      built.InvalidationEndWithoutBeginError,
      built.LockNotHeldError,
      built.RangeAddOutsideInvalidationError,
    ];
    for (const ErrorClass of errors) expect(ErrorClass.prototype).toBeInstanceOf(Error);
  });

  it('retries a fault that raced an invalidation and installs the fresh page', async () => {
    const tracker = new built.InvalidationTracker();
    const lock = new Mutex();
    const backing = [10, 20, 30];
    const installed: number[] = [];
    let resolves = 0;
    const result = await built.faultWithRetry({
      tracker,
      lock,
      gfn: 1,
      backoff: () => {},
      resolve: async () => {
        const page = backing[1]!;
        if (resolves++ === 0) {
          // An invalidation of [0, 2) runs entirely while the first resolve sleeps.
          tracker.begin();
          tracker.rangeAdd(0, 2);
          backing[1] = 21;
          tracker.end();
        }
        return page;
      },
      install: (page) => installed.push(page),
    });
    expect(result).toEqual({ page: 21, retries: 1 });
    expect(installed).toEqual([21]);
    expect(tracker.seq).toBe(1);
  });

  it('faults through a subscription with a UserLock', async () => {
    let seq = 1;
    const subscription = { readBegin: async () => seq, readRetry: (s: number) => s !== seq };
    const held = { value: false };
    const lock = {
      tryLock: () => {
        if (held.value) return false;
        held.value = true;
        return true;
      },
      lock: () => {
        held.value = true;
      },
      unlock: () => {
        held.value = false;
      },
    };
    let resolves = 0;
    const result = await built.faultWithRetry({
      subscription,
      lock,
      backoff: () => {},
      resolve: async () => {
        if (resolves++ === 0) seq = 3; // invalidated while resolving
        return resolves;
      },
      install: () => {},
    });
    expect(result).toEqual({ page: 2, retries: 1 });
    expect(held.value).toBe(false);
  });
});
