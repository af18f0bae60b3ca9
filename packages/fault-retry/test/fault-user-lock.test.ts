import { Mutex } from '@mmukit/seqcount';
import { describe, expect, it, vi } from 'vitest';
import { type FaultOptions, faultWithRetry, SharedMmuLock, type UserLock } from '../src/index.js';
import { loggingFault } from './fault-options.js';

/**
 * faultWithRetry() with a UserLock (tryLock()/lock()/unlock()): a free lock is taken with a
 * synchronous tryLock(), a held one with lock() (awaited when it returns a promise, not awaited
 * when it blocks and returns undefined), and it is always dropped with unlock().
 */

/** A UserLock (no acquire()) over seqcount's Mutex, recording every call. */
function tracedUserLock() {
  const mutex = new Mutex();
  const calls: string[] = [];
  const lock: UserLock & { readonly locked: boolean } = {
    tryLock: () => {
      const ok = mutex.tryLock();
      calls.push(`tryLock ${ok}`);
      return ok;
    },
    lock: () => {
      calls.push('lock');
      return mutex.lock();
    },
    unlock: () => {
      calls.push('unlock');
      mutex.unlock();
    },
    get locked() {
      return mutex.locked;
    },
  };
  return { mutex, lock, calls };
}

function base(lock: FaultOptions<string>['lock'], locked: () => boolean) {
  return loggingFault(lock, undefined, () => `locked ${locked()}`);
}

describe('faultWithRetry with a UserLock', () => {
  it('a free lock: tryLock(), install, unlock(); lock() is not called', async () => {
    const { lock, calls } = tracedUserLock();
    const { log, opts } = base(lock, () => lock.locked);
    await expect(faultWithRetry(opts)).resolves.toEqual({ page: 'page', retries: 0 });
    expect(calls).toEqual(['tryLock true', 'unlock']);
    expect(log).toEqual(['resolve', 'install page, locked true']);
    expect(lock.locked).toBe(false);
  });

  it('takes a free lock synchronously: nothing runs between tryLock() and install', async () => {
    const mutex = new Mutex();
    let microtaskRan = false;
    const lock: UserLock = {
      tryLock: () => {
        queueMicrotask(() => {
          microtaskRan = true;
        });
        return mutex.tryLock();
      },
      lock: () => mutex.lock(),
      unlock: () => mutex.unlock(),
    };
    let ranBeforeInstall: boolean | undefined;
    const { opts } = base(lock, () => mutex.locked);
    await faultWithRetry({
      ...opts,
      install: () => {
        ranBeforeInstall = microtaskRan;
      },
    });
    expect(ranBeforeInstall).toBe(false); // no promise, no await: the microtask came after
    expect(microtaskRan).toBe(true);
  });

  it('a held lock: waits in lock() (a promise), then installs and unlocks', async () => {
    const { mutex, lock, calls } = tracedUserLock();
    const { log, opts } = base(lock, () => lock.locked);
    await mutex.lock(); // someone else holds it
    const fault = faultWithRetry(opts);
    await new Promise((r) => setTimeout(r, 5));
    expect(log).toEqual(['resolve']);
    expect(calls).toEqual(['tryLock false', 'lock']);
    mutex.unlock(); // hands it to the fault
    await expect(fault).resolves.toMatchObject({ retries: 0 });
    expect(calls).toEqual(['tryLock false', 'lock', 'unlock']);
    expect(log).toEqual(['resolve', 'install page, locked true']);
    expect(mutex.locked).toBe(false);
  });

  it('a blocking lock (lock() returns undefined with the lock held) is not awaited', async () => {
    let held = true; // held by "another thread" that lets go while we block in lock()
    const calls: string[] = [];
    const lock: UserLock = {
      tryLock: () => {
        if (held) return false;
        held = true;
        return true;
      },
      lock: () => {
        calls.push('lock (blocks until the other thread unlocks)');
        held = true;
      },
      unlock: () => {
        calls.push('unlock');
        held = false;
      },
    };
    const { log, opts } = base(lock, () => held);
    await expect(faultWithRetry(opts)).resolves.toMatchObject({ retries: 0 });
    expect(calls).toEqual(['lock (blocks until the other thread unlocks)', 'unlock']);
    expect(log).toEqual(['resolve', 'install page, locked true']);
  });

  it('a lost race: unlock(), put, retry', async () => {
    const { lock, calls } = tracedUserLock();
    const { tracker, log, opts } = base(lock, () => lock.locked);
    let first = true;
    const result = await faultWithRetry({
      ...opts,
      precheck: false,
      resolve: async () => {
        log.push('resolve');
        if (first) {
          first = false;
          tracker.begin();
          tracker.rangeAdd(0, 10);
          tracker.end();
        }
        return 'page';
      },
    });
    expect(result.retries).toBe(1);
    expect(calls).toEqual(['tryLock true', 'unlock', 'tryLock true', 'unlock']);
    expect(log).toEqual(['resolve', 'put page', 'resolve', 'install page, locked true']);
  });

  it('a throwing install: unlock(), put, the error reaches the caller', async () => {
    const { lock, calls } = tracedUserLock();
    const { log, opts } = base(lock, () => lock.locked);
    const boom = new Error('install');
    await expect(
      faultWithRetry({
        ...opts,
        install: () => {
          throw boom;
        },
      }),
    ).rejects.toBe(boom);
    expect(calls).toEqual(['tryLock true', 'unlock']);
    expect(log).toEqual(['resolve', 'put page']);
  });

  it('a throwing tryLock() or rejecting lock(): the page is put, the error reaches the caller', async () => {
    const boom = new Error('lock broken');
    const throwing: UserLock = {
      tryLock: () => {
        throw boom;
      },
      lock: () => {},
      unlock: () => {},
    };
    const a = base(throwing, () => false);
    await expect(faultWithRetry(a.opts)).rejects.toBe(boom);
    expect(a.log).toEqual(['resolve', 'put page']);
    const rejecting: UserLock = {
      tryLock: () => false,
      lock: () => Promise.reject(boom),
      unlock: vi.fn(),
    };
    const b = base(rejecting, () => false);
    await expect(faultWithRetry(b.opts)).rejects.toBe(boom);
    expect(b.log).toEqual(['resolve', 'put page']);
    expect(rejecting.unlock).not.toHaveBeenCalled();
  });

  it('rejects a lock with neither acquire() nor tryLock()/lock()/unlock()', async () => {
    const { log, opts } = base({ tryLock: () => true, unlock: () => {} } as never, () => false);
    await expect(faultWithRetry(opts)).rejects.toThrow(
      /lock.acquire must be a function .* or the lock must have tryLock\(\), lock\(\) and unlock\(\)/,
    );
    expect(log).toEqual([]);
  });
});

describe('faultWithRetry with a lock that has acquire() and tryLock()', () => {
  it("seqcount's Mutex: tryLock() when free (acquire() not called), acquire() when held", async () => {
    const mutex = new Mutex();
    const acquire = vi.spyOn(mutex, 'acquire');
    const { opts } = base(mutex, () => mutex.locked);
    await faultWithRetry(opts);
    expect(acquire).not.toHaveBeenCalled();
    await mutex.lock();
    const fault = faultWithRetry(opts);
    await new Promise((r) => setTimeout(r, 5));
    expect(acquire).toHaveBeenCalledTimes(1);
    mutex.unlock();
    await expect(fault).resolves.toMatchObject({ retries: 0 });
    expect(mutex.locked).toBe(false);
  });

  it('only the methods decide: a subclass overriding acquire() still takes the free lock with tryLock()', async () => {
    const calls: string[] = [];
    class Traced extends Mutex {
      override async acquire(): Promise<() => void> {
        calls.push('acquire');
        return super.acquire();
      }
    }
    const lock = new Traced();
    const { opts } = base(lock, () => lock.locked);
    await faultWithRetry(opts);
    expect(calls).toEqual([]);
    await lock.lock();
    const fault = faultWithRetry(opts);
    await new Promise((r) => setTimeout(r, 5));
    expect(calls).toEqual(['acquire']);
    lock.unlock();
    await expect(fault).resolves.toMatchObject({ retries: 0 });
    expect(lock.locked).toBe(false);
  });

  it('a subclass that overrides tryLock() takes the fast path with its tryLock()', async () => {
    const calls: string[] = [];
    class Traced extends SharedMmuLock {
      override tryLock(): boolean {
        calls.push('tryLock');
        return super.tryLock();
      }
      override async acquire(): Promise<() => void> {
        calls.push('acquire');
        return super.acquire();
      }
    }
    const lock = new Traced(new SharedArrayBuffer(4));
    const { opts } = base(lock, () => lock.locked);
    await faultWithRetry(opts);
    expect(calls).toEqual(['tryLock']);
    expect(lock.locked).toBe(false);
  });

  it('an object with acquire() and no tryLock() goes through acquire()', async () => {
    const inner = new Mutex();
    const lock = { acquire: vi.fn(() => inner.acquire()), unlock: () => inner.unlock() };
    const { opts } = base(lock, () => inner.locked);
    await faultWithRetry(opts);
    expect(lock.acquire).toHaveBeenCalledTimes(1);
    expect(inner.locked).toBe(false);
  });
});
