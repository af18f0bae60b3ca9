import { Mutex } from '@mmukit/seqcount';
import { describe, expect, it } from 'vitest';
import {
  AsyncInstallError,
  type FaultOptions,
  type FaultSubscription,
  faultWithRetry,
  InvalidationTracker,
} from '../src/index.js';

const bad = (value: unknown) => value as never;

/** A lock with every method, recording which ones a fault calls. */
function recordingLock() {
  const mutex = new Mutex();
  const calls: string[] = [];
  return {
    calls,
    lock: {
      tryLock: () => {
        calls.push('tryLock');
        return mutex.tryLock();
      },
      unlock: () => {
        calls.push('unlock');
        mutex.unlock();
      },
      acquire: async () => {
        calls.push('acquire');
        return mutex.acquire();
      },
    },
  };
}

function trackerOptions(overrides: Partial<FaultOptions<string>> = {}): FaultOptions<string> {
  return {
    tracker: new InvalidationTracker(),
    lock: new Mutex(),
    gfn: 5,
    resolve: async () => 'page',
    install: () => {},
    ...overrides,
  };
}

function subscription(overrides: Partial<FaultSubscription> = {}): FaultSubscription {
  return { readBegin: () => 0, readRetry: () => false, ...overrides };
}

describe('faultWithRetry option checks name what is wrong', () => {
  it.each([
    ['no options', null, TypeError, 'faultWithRetry() needs an options object'],
    ['a number as options', 7, TypeError, 'faultWithRetry() needs an options object'],
    [
      'a tracker that is not an object',
      trackerOptions({ tracker: bad(5) }),
      TypeError,
      'tracker must be an InvalidationTracker-like object',
    ],
    [
      'a null tracker',
      trackerOptions({ tracker: bad(null) }),
      TypeError,
      'tracker must be an InvalidationTracker-like object',
    ],
    [
      'a tracker without snapshot()',
      trackerOptions({ tracker: bad({ retryGfn() {}, retryGfnUnsafe() {} }) }),
      TypeError,
      'tracker.snapshot must be a function, got undefined',
    ],
    [
      'a tracker without retryGfnUnsafe()',
      trackerOptions({ tracker: bad({ snapshot() {}, retryGfn() {} }) }),
      TypeError,
      'tracker.retryGfnUnsafe must be a function, got undefined',
    ],
    [
      'a subscription that is not an object',
      { ...trackerOptions(), tracker: undefined, gfn: undefined, subscription: 5 },
      TypeError,
      'subscription must be an object with readBegin() and readRetry()',
    ],
    [
      'a subscription whose tryReadBegin is not a function',
      {
        ...trackerOptions(),
        tracker: undefined,
        gfn: undefined,
        subscription: subscription({ tryReadBegin: bad(5) }),
      },
      TypeError,
      'subscription.tryReadBegin must be a function, got number',
    ],
    [
      'a lock that is not an object',
      trackerOptions({ lock: bad(5) }),
      TypeError,
      'lock must be an object: { acquire(): Promise<() => void> } or { tryLock(), lock(), unlock() }',
    ],
    [
      'a deadline that is not a number',
      trackerOptions({ deadline: bad('soon') }),
      TypeError,
      'deadline must be a number (Date.now() ms), got string',
    ],
    [
      'a NaN deadline',
      trackerOptions({ deadline: Number.NaN }),
      RangeError,
      'deadline must not be NaN',
    ],
  ])('rejects %s', async (_name, opts, type, message) => {
    const p = faultWithRetry(opts as never);
    await expect(p).rejects.toThrow(type);
    await expect(p).rejects.toThrow(message);
  });

  it('rejects a subscription whose readBegin() gives no number', async () => {
    const opts = {
      ...trackerOptions(),
      tracker: undefined,
      gfn: undefined,
      subscription: subscription({ readBegin: () => bad('0') }),
    };
    await expect(faultWithRetry(opts as never)).rejects.toThrow(
      new TypeError('subscription.readBegin() must give a number, got string'),
    );
  });

  it('rejects a lock whose acquire() resolves to no release function', async () => {
    const opts = trackerOptions({ lock: { acquire: async () => bad(42) } });
    await expect(faultWithRetry(opts)).rejects.toThrow(
      new TypeError('lock.acquire() must resolve to a release function'),
    );
  });
});

describe('how faultWithRetry takes the lock', () => {
  it('a plain object with tryLock(), unlock() and acquire() takes the tryLock() fast path', async () => {
    const { calls, lock } = recordingLock();
    await faultWithRetry(trackerOptions({ lock }));
    expect(calls).toEqual(['tryLock', 'unlock']);
  });

  it('a subclass that does not override acquire() keeps the tryLock() fast path', async () => {
    const mutex = new Mutex();
    const calls: string[] = [];
    class Base {
      tryLock() {
        calls.push('tryLock');
        return mutex.tryLock();
      }
      unlock() {
        calls.push('unlock');
        mutex.unlock();
      }
      async acquire() {
        calls.push('acquire');
        return mutex.acquire();
      }
    }
    class Traced extends Base {
      traced = true;
    }
    await faultWithRetry(trackerOptions({ lock: new Traced() }));
    expect(calls).toEqual(['tryLock', 'unlock']);
  });

  it('a lock with tryLock() but no unlock() is taken with acquire()', async () => {
    const { calls, lock } = recordingLock();
    const { unlock: _unlock, ...withoutUnlock } = lock;
    await faultWithRetry(trackerOptions({ lock: withoutUnlock as never }));
    expect(calls).toEqual(['acquire']);
  });

  it('skips the lock when an invalidation of the gfn begins while resolve() runs', async () => {
    const tracker = new InvalidationTracker();
    const { calls, lock } = recordingLock();
    let resolves = 0;
    const result = await faultWithRetry(
      trackerOptions({
        tracker,
        lock,
        resolve: async () => {
          if (resolves++ === 0) {
            tracker.begin();
            tracker.rangeAdd(5, 6);
          }
          return 'page';
        },
        backoff: () => {
          if (tracker.inProgress !== 0) tracker.end();
        },
      }),
    );
    expect(result.retries).toBe(1);
    // Only the second attempt took the lock: the first saw the invalidation without it.
    expect(calls).toEqual(['tryLock', 'unlock']);
  });

  it('finishes a fault whose readBegin() resolves before a future deadline', async () => {
    const opts = {
      ...trackerOptions(),
      tracker: undefined,
      gfn: undefined,
      deadline: Date.now() + 60_000,
      subscription: subscription({ readBegin: () => bad(Promise.resolve(3)) }),
    };
    await expect(faultWithRetry(opts as never)).resolves.toEqual({ page: 'page', retries: 0 });
  });
});

describe('install() results and errors', () => {
  it('accepts an install() that returns null or a plain value', async () => {
    await expect(
      faultWithRetry(trackerOptions({ install: () => bad(null) })),
    ).resolves.toMatchObject({ page: 'page' });
    await expect(faultWithRetry(trackerOptions({ install: () => bad(3) }))).resolves.toMatchObject({
      page: 'page',
    });
  });

  it('refuses an install() that returns a thenable function', async () => {
    // biome-ignore lint/suspicious/noThenProperty: the thenable function under test.
    const thenable = Object.assign(() => {}, { then: () => {} });
    await expect(
      faultWithRetry(trackerOptions({ install: () => bad(thenable) })),
    ).rejects.toBeInstanceOf(AsyncInstallError);
  });

  it('without put(), rejects with the install error itself', async () => {
    const boom = new Error('install broke');
    await expect(
      faultWithRetry(
        trackerOptions({
          install: () => {
            throw boom;
          },
        }),
      ),
    ).rejects.toBe(boom);
  });

  it('when put() throws too, rejects with both errors together', async () => {
    const boom = new Error('install broke');
    const putBoom = new Error('put broke');
    const p = faultWithRetry(
      trackerOptions({
        install: () => {
          throw boom;
        },
        put: () => {
          throw putBoom;
        },
      }),
    );
    const error = await p.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AggregateError);
    expect((error as AggregateError).message).toBe('fault failed, and put() of its page failed');
    expect((error as AggregateError).errors).toEqual([boom, putBoom]);
  });
});
