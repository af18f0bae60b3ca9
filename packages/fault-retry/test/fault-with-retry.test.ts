import { Mutex } from 'async-mutex';
import { describe, expect, it, vi } from 'vitest';
import {
  FaultAbortedError,
  type FaultOptions,
  FaultRetryLimitError,
  faultWithRetry,
  InvalidationTracker,
} from '../src/index.js';
import { loggingFault } from './fault-options.js';

/** A lock that records acquire/release, to check the fault never leaves it held. */
function countingLock() {
  const mutex = new Mutex();
  const counts = { acquired: 0, released: 0 };
  return {
    counts,
    isLocked: () => mutex.isLocked(),
    async acquire() {
      const release = await mutex.acquire();
      counts.acquired++;
      return () => {
        counts.released++;
        release();
      };
    },
  };
}

function base(tracker = new InvalidationTracker()) {
  const lock = countingLock();
  return { lock, ...loggingFault(lock, tracker) };
}

/** Runs one whole invalidation of [start, end) synchronously. */
function invalidate(t: InvalidationTracker, start: number, end: number): void {
  t.begin();
  t.rangeAdd(start, end);
  t.end();
}

describe('faultWithRetry', () => {
  it('installs under the lock when nothing races, with 0 retries', async () => {
    const { lock, log, opts } = base();
    let lockedDuringInstall = false;
    const result = await faultWithRetry({
      ...opts,
      install: () => {
        lockedDuringInstall = lock.isLocked();
        log.push('install');
      },
    });
    expect(result).toEqual({ page: 'page', retries: 0 });
    expect(log).toEqual(['resolve', 'install']);
    expect(lockedDuringInstall).toBe(true);
    expect(lock.counts).toEqual({ acquired: 1, released: 1 });
  });

  it('resolves without the lock', async () => {
    const { lock, opts } = base();
    let lockedDuringResolve = true;
    await faultWithRetry({
      ...opts,
      resolve: async () => {
        lockedDuringResolve = lock.isLocked();
        return 'p';
      },
    });
    expect(lockedDuringResolve).toBe(false);
  });

  it('puts the page and retries when an invalidation ended after the snapshot', async () => {
    const { tracker, log, opts } = base();
    let n = 0;
    const result = await faultWithRetry({
      ...opts,
      precheck: false,
      resolve: async () => {
        n++;
        if (n <= 2) invalidate(tracker, 100, 101); // elsewhere: only the seq bump catches it
        return `p${n}`;
      },
    });
    expect(result).toEqual({ page: 'p3', retries: 2 });
    expect(log).toEqual(['put p1', 'put p2', 'install p3']);
  });

  it('retries (without resolving) while an invalidation covering gfn is in progress', async () => {
    const { tracker, log, opts } = base();
    tracker.begin();
    tracker.rangeAdd(0, 10);
    const backoff = vi.fn((retries: number) => {
      if (retries === 3) tracker.end();
    });
    const result = await faultWithRetry({ ...opts, backoff });
    expect(result.retries).toBe(3);
    expect(backoff.mock.calls.map((c) => c[0])).toEqual([1, 2, 3]);
    expect(log).toEqual(['resolve', 'install page']); // the precheck skipped resolve 3 times
  });

  it('without the precheck, resolves and then loses under the lock', async () => {
    const { tracker, log, opts } = base();
    tracker.begin();
    tracker.rangeAdd(0, 10);
    const result = await faultWithRetry({
      ...opts,
      precheck: false,
      backoff: () => tracker.end(),
    });
    expect(result.retries).toBe(1);
    expect(log).toEqual(['resolve', 'put page', 'resolve', 'install page']);
  });

  it('is not disturbed by an invalidation of other gfns that is still in progress', async () => {
    const { tracker, opts } = base();
    tracker.begin();
    tracker.rangeAdd(6, 10); // gfn 5 is outside
    expect(await faultWithRetry(opts)).toEqual({ page: 'page', retries: 0 });
  });

  it('throws FaultRetryLimitError after maxRetries retries, with every page put', async () => {
    const { tracker, log, lock, opts } = base();
    const error = await faultWithRetry({
      ...opts,
      maxRetries: 2,
      resolve: async () => {
        invalidate(tracker, 0, 10);
        return 'p';
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FaultRetryLimitError);
    expect(error).toMatchObject({ gfn: 5, retries: 2, attempts: 3 });
    expect(log).toEqual(['put p', 'put p', 'put p']);
    expect(lock.counts.acquired).toBe(lock.counts.released);
  });

  it('maxRetries 0 allows exactly one attempt', async () => {
    const { tracker, opts } = base();
    tracker.begin();
    tracker.rangeAdd(5, 6);
    await expect(faultWithRetry({ ...opts, maxRetries: 0 })).rejects.toMatchObject({
      name: 'FaultRetryLimitError',
      retries: 0,
    });
  });

  it('yields a macrotask between retries by default', async () => {
    const { tracker, opts } = base();
    tracker.begin();
    tracker.rangeAdd(0, 10);
    // Only a timer ends the invalidation: a microtask-only retry loop would never see it.
    setTimeout(() => tracker.end(), 5);
    const { backoff: _unused, ...rest } = opts;
    const result = await faultWithRetry(rest);
    expect(result.retries).toBeGreaterThan(0);
  });

  it('a throwing resolve() reaches the caller; nothing is installed or put', async () => {
    const { log, lock, opts } = base();
    const boom = new Error('gup failed');
    await expect(
      faultWithRetry({
        ...opts,
        resolve: async () => {
          throw boom;
        },
      }),
    ).rejects.toBe(boom);
    expect(log).toEqual([]);
    expect(lock.counts).toEqual({ acquired: 0, released: 0 });
  });

  it('a throwing install() reaches the caller; the lock is released and the page put', async () => {
    const { log, lock, opts } = base();
    const boom = new Error('no memory for the spte');
    await expect(
      faultWithRetry({
        ...opts,
        install: () => {
          throw boom;
        },
      }),
    ).rejects.toBe(boom);
    expect(log).toEqual(['resolve', 'put page']);
    expect(lock.counts).toEqual({ acquired: 1, released: 1 });
    expect(lock.isLocked()).toBe(false);
  });

  it('a rejecting lock.acquire() reaches the caller and the page is put', async () => {
    const { log, opts } = base();
    const boom = new Error('lock broken');
    const lock = {
      acquire: async (): Promise<() => void> => {
        throw boom;
      },
    };
    await expect(faultWithRetry({ ...opts, lock })).rejects.toBe(boom);
    expect(log).toEqual(['resolve', 'put page']);
  });

  it('a throwing retryGfn() releases the lock and puts the page', async () => {
    const { log, lock, tracker, opts } = base();
    const boom = new Error('tracker broken');
    const broken = {
      snapshot: () => tracker.snapshot(),
      retryGfnUnsafe: () => false,
      retryGfn: (): boolean => {
        throw boom;
      },
    };
    await expect(faultWithRetry({ ...opts, tracker: broken })).rejects.toBe(boom);
    expect(log).toEqual(['resolve', 'put page']);
    expect(lock.counts).toEqual({ acquired: 1, released: 1 });
  });

  it('a throwing put() after a throwing install() reports both', async () => {
    const { opts } = base();
    const e1 = new Error('install');
    const e2 = new Error('put');
    const error = await faultWithRetry({
      ...opts,
      install: () => {
        throw e1;
      },
      put: () => {
        throw e2;
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AggregateError);
    expect((error as AggregateError).errors).toEqual([e1, e2]);
  });

  it('an already aborted signal throws FaultAbortedError before resolving', async () => {
    const { log, opts } = base();
    const controller = new AbortController();
    controller.abort(new Error('vcpu exiting'));
    const error = await faultWithRetry({ ...opts, signal: controller.signal }).catch((e) => e);
    expect(error).toBeInstanceOf(FaultAbortedError);
    expect(error).toMatchObject({ name: 'AbortError', gfn: 5, retries: 0 });
    expect((error as FaultAbortedError).reason).toEqual(new Error('vcpu exiting'));
    expect(log).toEqual([]);
  });

  it('an abort during resolve() puts the page and throws without taking the lock', async () => {
    const { log, lock, opts } = base();
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    const error = await faultWithRetry({
      ...opts,
      signal: controller.signal,
      resolve: async (signal) => {
        seen = signal;
        controller.abort();
        return 'p';
      },
    }).catch((e) => e);
    expect(seen).toBe(controller.signal);
    expect(error).toBeInstanceOf(FaultAbortedError);
    expect(log).toEqual(['put p']);
    expect(lock.counts.acquired).toBe(0);
  });

  it('an abort during the backoff stops the retry loop', async () => {
    const { tracker, opts } = base();
    tracker.begin();
    tracker.rangeAdd(0, 10);
    const controller = new AbortController();
    const error = await faultWithRetry({
      ...opts,
      signal: controller.signal,
      backoff: (n) => {
        if (n === 2) controller.abort('stop');
      },
    }).catch((e) => e);
    expect(error).toMatchObject({ name: 'AbortError', retries: 2, reason: 'stop' });
  });

  it('passes a never-aborting signal to resolve() when none is given', async () => {
    const { opts } = base();
    let seen: AbortSignal | undefined;
    await faultWithRetry({
      ...opts,
      resolve: async (s) => {
        seen = s;
        return 'p';
      },
    });
    expect(seen).toBeInstanceOf(AbortSignal);
    expect(seen?.aborted).toBe(false);
  });

  it('works with a lock whose release is async-mutex style', async () => {
    const { opts } = base();
    const result = await faultWithRetry({ ...opts, lock: new Mutex() });
    expect(result.page).toBe('page');
  });

  it('rejects a lock that does not resolve to a release function, and puts the page', async () => {
    const { log, opts } = base();
    const lock = { acquire: async () => 42 as unknown as () => void };
    await expect(faultWithRetry({ ...opts, lock })).rejects.toThrow(TypeError);
    expect(log).toEqual(['resolve', 'put page']);
  });

  const bad: Array<[string, Record<string, unknown>, ErrorConstructor, RegExp]> = [
    ['gfn -1', { gfn: -1 }, RangeError, /gfn must be a non-negative safe integer/],
    ['gfn 1.5', { gfn: 1.5 }, RangeError, /gfn/],
    ['gfn 2^53', { gfn: 2 ** 53 }, RangeError, /gfn/],
    ['gfn "1"', { gfn: '1' }, TypeError, /gfn must be a number/],
    ['maxRetries -1', { maxRetries: -1 }, RangeError, /maxRetries/],
    ['maxRetries 0.5', { maxRetries: 0.5 }, RangeError, /maxRetries/],
    ['maxRetries NaN', { maxRetries: Number.NaN }, RangeError, /maxRetries/],
    ['resolve missing', { resolve: undefined }, TypeError, /resolve must be a function/],
    ['install not a function', { install: 1 }, TypeError, /install must be a function/],
    ['put not a function', { put: 'x' }, TypeError, /put must be a function/],
    ['backoff not a function', { backoff: {} }, TypeError, /backoff must be a function/],
    ['lock null', { lock: null }, TypeError, /lock must be an object/],
    ['lock without acquire', { lock: {} }, TypeError, /lock.acquire must be a function/],
    ['tracker missing', { tracker: undefined }, TypeError, /tracker/],
    ['tracker without retryGfn', { tracker: { snapshot() {} } }, TypeError, /retryGfn/],
    ['signal not a signal', { signal: {} }, TypeError, /signal must be an AbortSignal/],
    ['precheck not boolean', { precheck: 1 }, TypeError, /precheck/],
  ];
  it.each(bad)('rejects %s before doing anything', async (_name, patch, type, message) => {
    const { log, lock, tracker, opts } = base();
    const before = tracker.snapshot();
    const p = faultWithRetry({ ...opts, ...patch } as FaultOptions<string>);
    await expect(p).rejects.toThrow(type);
    await expect(p).rejects.toThrow(message);
    expect(log).toEqual([]);
    expect(lock.counts.acquired).toBe(0);
    expect(tracker.snapshot()).toBe(before);
  });

  it('accepts maxRetries Infinity', async () => {
    const { opts } = base();
    expect((await faultWithRetry({ ...opts, maxRetries: Number.POSITIVE_INFINITY })).retries).toBe(
      0,
    );
  });
});
