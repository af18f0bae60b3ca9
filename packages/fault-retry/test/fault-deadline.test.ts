import { Mutex } from '@mmukit/seqcount';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FaultDeadlineError, faultWithRetry, type SubscriptionFaultOptions } from '../src/index.js';
import { loggingFault } from './fault-options.js';

/**
 * `deadline`: an absolute `Date.now()` time in ms. Checked before each attempt, after a
 * readBegin() that waited and after each resolve() (the page is put), never under the lock.
 * The clock is a fake here (`Date.now` mocked), so the tests do not depend on timing.
 */
let now = 1_000;
afterEach(() => {
  vi.restoreAllMocks();
});
function fakeClock() {
  now = 1_000;
  vi.spyOn(Date, 'now').mockImplementation(() => now);
}

function base() {
  fakeClock();
  const lock = new Mutex();
  return { lock, ...loggingFault(lock) };
}

describe('faultWithRetry deadline', () => {
  it('a deadline in the future does not get in the way', async () => {
    const { opts } = base();
    expect(await faultWithRetry({ ...opts, deadline: now + 10 })).toEqual({
      page: 'page',
      retries: 0,
    });
  });

  it('a deadline already passed: FaultDeadlineError before anything runs', async () => {
    const { log, lock, opts } = base();
    const lockSpy = vi.spyOn(lock, 'tryLock');
    const error = await faultWithRetry({ ...opts, deadline: now }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FaultDeadlineError);
    expect(error).toMatchObject({ name: 'TimeoutError', gfn: 5, retries: 0, deadline: 1_000 });
    expect((error as Error).message).toMatch(
      /faultWithRetry\(\) on gfn 5 passed its deadline \(1000\)/,
    );
    expect(log).toEqual([]);
    expect(lockSpy).not.toHaveBeenCalled();
  });

  it('passing during resolve(): the page is put, the lock never taken', async () => {
    const { log, lock, opts } = base();
    const lockSpy = vi.spyOn(lock, 'tryLock');
    const error = await faultWithRetry({
      ...opts,
      deadline: now + 5,
      resolve: async () => {
        now += 5;
        return 'late';
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FaultDeadlineError);
    expect(log).toEqual(['put late']);
    expect(lockSpy).not.toHaveBeenCalled();
  });

  it('passing while retrying: stops before the next attempt, with the retries made', async () => {
    const { tracker, log, opts } = base();
    tracker.begin();
    tracker.rangeAdd(0, 10); // gfn 5 is being invalidated: every attempt loses the precheck
    const error = await faultWithRetry({
      ...opts,
      deadline: now + 3,
      backoff: () => {
        now++;
      },
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'TimeoutError', retries: 3 });
    expect(log).toEqual([]);
  });

  it('Infinity is no deadline; Date.now() is not even read', async () => {
    const { opts } = base();
    await faultWithRetry({ ...opts, deadline: Number.POSITIVE_INFINITY });
    expect(Date.now).not.toHaveBeenCalled();
  });

  it('a subscription fault: checked after a readBegin() that waited; the error has the address', async () => {
    fakeClock();
    const log: string[] = [];
    const opts: SubscriptionFaultOptions<string> = {
      subscription: {
        readBegin: async () => {
          now += 10; // waited for an invalidation of the subscription to end
          return 1;
        },
        readRetry: () => false,
      },
      address: 77,
      lock: new Mutex(),
      deadline: now + 10,
      resolve: async () => {
        log.push('resolve');
        return 'p';
      },
      install: () => log.push('install'),
    };
    const error = await faultWithRetry(opts).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FaultDeadlineError);
    expect(error).toMatchObject({ address: 77, retries: 0 });
    expect((error as FaultDeadlineError).gfn).toBeNaN();
    expect(log).toEqual([]);
  });

  it.each([
    ['"soon"', 'soon', TypeError],
    ['NaN', Number.NaN, RangeError],
  ] as const)('rejects deadline %s before doing anything', async (_n, deadline, type) => {
    const { log, opts } = base();
    await expect(faultWithRetry({ ...opts, deadline: deadline as number })).rejects.toThrow(type);
    expect(log).toEqual([]);
  });
});
