import { describe, expect, it, vi } from 'vitest';
import {
  type FaultLock,
  faultWithRetry,
  SharedInvalidationTracker,
  SharedMmuLock,
} from '../src/index.js';

/**
 * faultWithRetry() takes a free SharedMmuLock with a synchronous tryLock() and drops it with
 * unlock() (no acquire() promise); these tests pin down that this fast path
 * keeps the contract of the acquire() path.
 */
function setup<L extends FaultLock & { readonly locked: boolean } = SharedMmuLock>(
  lock: L = SharedMmuLock.create() as unknown as L,
) {
  const tracker = SharedInvalidationTracker.create();
  const log: string[] = [];
  return {
    lock,
    tracker,
    log,
    opts: {
      tracker,
      lock,
      gfn: 7,
      backoff: () => {},
      resolve: async () => {
        log.push('resolve');
        return 'page';
      },
      install: (p: string) => log.push(`install ${p}, locked ${lock.locked}`),
      put: (p: string) => log.push(`put ${p}`),
    },
  };
}

describe('faultWithRetry with a SharedMmuLock (synchronous fast path)', () => {
  it('a free lock: installs under it and leaves it free', async () => {
    const { lock, log, opts } = setup();
    const acquire = vi.spyOn(lock, 'acquire');
    await expect(faultWithRetry(opts)).resolves.toEqual({ page: 'page', retries: 0 });
    expect(log).toEqual(['resolve', 'install page, locked true']);
    expect(lock.locked).toBe(false);
    expect(acquire).not.toHaveBeenCalled(); // taken with tryLock()
  });

  it('a held lock: waits for the holder (acquire path), then installs and releases', async () => {
    const { lock, log, opts } = setup();
    const holder = await lock.acquire();
    const acquire = vi.spyOn(lock, 'acquire');
    const fault = faultWithRetry(opts);
    await new Promise((r) => setTimeout(r, 10));
    expect(log).toEqual(['resolve']); // resolved, waiting for the lock
    expect(acquire).toHaveBeenCalledTimes(1);
    holder();
    await expect(fault).resolves.toEqual({ page: 'page', retries: 0 });
    expect(log).toEqual(['resolve', 'install page, locked true']);
    expect(lock.locked).toBe(false);
  });

  it('a throwing install: the lock is released, the page put, the error reaches the caller', async () => {
    const { lock, log, opts } = setup();
    const boom = new Error('install failed');
    const fault = faultWithRetry({
      ...opts,
      install: () => {
        throw boom;
      },
    });
    await expect(fault).rejects.toBe(boom);
    expect(log).toEqual(['resolve', 'put page']);
    expect(lock.locked).toBe(false);
  });

  it('a lost race under the fast path: unlocks, puts the page and retries', async () => {
    const { lock, tracker, log, opts } = setup();
    let first = true;
    const result = await faultWithRetry({
      ...opts,
      precheck: false,
      resolve: async () => {
        log.push('resolve');
        if (first) {
          first = false;
          tracker.begin(); // an invalidation of gfn 7 ends while the page is resolved
          tracker.rangeAdd(0, 10);
          tracker.end();
        }
        return 'page';
      },
    });
    expect(result).toEqual({ page: 'page', retries: 1 });
    expect(log).toEqual(['resolve', 'put page', 'resolve', 'install page, locked true']);
    expect(lock.locked).toBe(false);
  });

  it('a wrapper that exposes only acquire() sees every acquisition', async () => {
    const calls: string[] = [];
    const inner = new SharedMmuLock(new SharedArrayBuffer(4));
    const traced = {
      get locked() {
        return inner.locked;
      },
      async acquire(): Promise<() => void> {
        const release = await inner.acquire();
        calls.push('acquire');
        return () => {
          calls.push('release');
          release();
        };
      },
    };
    const { opts } = setup(traced);
    await faultWithRetry(opts);
    expect(calls).toEqual(['acquire', 'release']);
    expect(traced.locked).toBe(false);
  });
});
