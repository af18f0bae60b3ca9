import { Mutex } from 'async-mutex';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as dist from '../dist/index.js';
import * as src from '../src/index.js';

/**
 * `install` runs under the MMU lock and is not awaited, so an install that returns a promise (any
 * thenable) would finish its work after the lock is dropped, outside the retry check. The fault
 * must refuse it: AsyncInstallError, lock released, page put once, nothing installed, and the
 * stray promise left to settle without an unhandled rejection. Every way faultWithRetry() takes
 * the lock is covered, against the sources and against the built package.
 */

type Pkg = typeof src;

/** A fault's lock, seen from the test: is it free, and run something while another holds it. */
interface LockCase {
  lock: src.MmuLock;
  isLocked(): boolean;
  /** Runs `fault` the way this case wants the lock taken; settles as the fault does. */
  start<T>(fault: () => Promise<T>): Promise<T>;
}

const LOCKS: Array<[string, (pkg: Pkg) => LockCase]> = [
  [
    'async-mutex Mutex (acquire path)',
    () => {
      const mutex = new Mutex();
      return {
        lock: mutex,
        isLocked: () => mutex.isLocked(),
        start: (fault) => fault(),
      };
    },
  ],
  [
    'free SharedMmuLock (tryLock fast path)',
    (pkg) => {
      const lock = pkg.SharedMmuLock.create();
      const tryLock = vi.spyOn(lock, 'tryLock');
      const acquire = vi.spyOn(lock, 'acquire');
      return {
        lock,
        isLocked: () => lock.locked,
        start: async (fault) => {
          const p = fault();
          await p.catch(() => {});
          expect(tryLock).toHaveBeenCalled();
          expect(acquire).not.toHaveBeenCalled();
          return p;
        },
      };
    },
  ],
  [
    'held SharedMmuLock (acquire path, waits for the holder)',
    (pkg) => {
      const lock = pkg.SharedMmuLock.create();
      const acquire = vi.spyOn(lock, 'acquire');
      return {
        lock,
        isLocked: () => lock.locked,
        start: async (fault) => {
          const holder = await lock.acquire();
          acquire.mockClear();
          const p = fault();
          await new Promise((r) => setTimeout(r, 5));
          expect(acquire).toHaveBeenCalledTimes(1); // resolved, now waiting for the lock
          holder();
          return p;
        },
      };
    },
  ],
  [
    'SharedMmuLock wrapped as { acquire } (no fast path)',
    (pkg) => {
      const inner = pkg.SharedMmuLock.create();
      return {
        lock: { acquire: () => inner.acquire() },
        isLocked: () => inner.locked,
        start: (fault) => fault(),
      };
    },
  ],
];

const GFN = 7;

function setup(pkg: Pkg, makeLock: (pkg: Pkg) => LockCase, shared: boolean) {
  const c = makeLock(pkg);
  const tracker = shared ? pkg.SharedInvalidationTracker.create() : new pkg.InvalidationTracker();
  const put = vi.fn((_page: string) => {});
  const opts = {
    tracker,
    lock: c.lock,
    gfn: GFN,
    backoff: () => {},
    resolve: async () => 'page',
    put,
  };
  /** A fault with `install`, the lock taken the way this case wants; settles as the fault. */
  const fault = (install: (page: string) => unknown) =>
    c.start(() => pkg.faultWithRetry({ ...opts, install: install as (page: string) => void }));
  /** The lock is free: a second fault with a plain install takes it and installs. */
  const expectLockFree = async () => {
    expect(c.isLocked()).toBe(false);
    const installed: string[] = [];
    const again = pkg.faultWithRetry({
      ...opts,
      lock: c.lock,
      put: () => {},
      install: (page) => {
        installed.push(page);
      },
    });
    await expect(again).resolves.toEqual({ page: 'page', retries: 0 });
    expect(installed).toEqual(['page']);
    expect(c.isLocked()).toBe(false);
  };
  return { c, put, fault, expectLockFree };
}

/** Collects process 'unhandledRejection' events while a test runs. */
let unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => {
  unhandled.push(reason);
};
beforeEach(() => {
  unhandled = [];
  process.on('unhandledRejection', onUnhandled);
});
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
});

/** A few macrotasks, so that late rejections settle and Node reports unhandled ones. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 2));
}

describe.each([
  ['sources', src],
  ['built package', dist as unknown as Pkg],
] as const)('faultWithRetry refuses an async install (%s)', (_which, pkg) => {
  it('exports AsyncInstallError, an Error with its own name', () => {
    expect(typeof pkg.AsyncInstallError).toBe('function');
    const e = new pkg.AsyncInstallError(3);
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('AsyncInstallError');
    expect(e.gfn).toBe(3);
  });

  describe.each([
    ['InvalidationTracker', false],
    ['SharedInvalidationTracker', true],
  ] as const)('%s', (_tracker, shared) => {
    describe.each(LOCKS)('%s', (_lockName, makeLock) => {
      it('an async install: AsyncInstallError, lock free, page put once', async () => {
        const { c, put, fault, expectLockFree } = setup(pkg, makeLock, shared);
        let lockedDuringInstall: boolean | undefined;
        const fp = fault(async () => {
          lockedDuringInstall = c.isLocked();
        });
        const error = await fp.then(
          () => 'resolved',
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(pkg.AsyncInstallError);
        expect(error).toMatchObject({ name: 'AsyncInstallError', gfn: GFN });
        expect((error as Error).message).toMatch(
          /faultWithRetry\(\): install\(\) for gfn 7 returned a Promise \(a thenable\)/,
        );
        expect((error as Error).message).toMatch(/must be synchronous/);
        expect(lockedDuringInstall).toBe(true); // it did run, under the lock
        expect(put.mock.calls).toEqual([['page']]);
        await expectLockFree();
        await settle();
        expect(unhandled).toEqual([]);
      });

      it('a thenable that is not a Promise is refused the same way; its then() never runs under the lock', async () => {
        const { c, put, fault, expectLockFree } = setup(pkg, makeLock, shared);
        const thenCalls: Array<{ locked: boolean; args: unknown[] }> = [];
        const thenable = {
          // biome-ignore lint/suspicious/noThenProperty: a foreign thenable is the point of the test
          then(...args: unknown[]) {
            thenCalls.push({ locked: c.isLocked(), args });
          },
        };
        const fp = fault(() => thenable);
        await expect(fp).rejects.toBeInstanceOf(pkg.AsyncInstallError);
        expect(put.mock.calls).toEqual([['page']]);
        await expectLockFree();
        await settle();
        // Left to settle unobserved: then() is given two (no-op) handlers, once, without the lock.
        expect(thenCalls).toHaveLength(1);
        expect(thenCalls[0]!.locked).toBe(false);
        expect(thenCalls[0]!.args.map((a) => typeof a)).toEqual(['function', 'function']);
        expect(unhandled).toEqual([]);
      });

      it('a thenable whose then getter throws counts as install throwing', async () => {
        const { put, fault, expectLockFree } = setup(pkg, makeLock, shared);
        const boom = new Error('then getter');
        let reads = 0;
        const hostile = {
          // biome-ignore lint/suspicious/noThenProperty: a hostile then getter is the point of the test
          get then(): never {
            reads++;
            throw boom;
          },
        };
        const fp = fault(() => hostile);
        await expect(fp).rejects.toBe(boom);
        expect(put.mock.calls).toEqual([['page']]);
        await expectLockFree();
        await settle();
        expect(reads).toBe(1);
        expect(unhandled).toEqual([]);
      });

      it('the stray promise may reject, at once or later: no unhandled rejection', async () => {
        const { put, fault, expectLockFree } = setup(pkg, makeLock, shared);
        const early = fault(async () => {
          throw new Error('rejected at once');
        });
        await expect(early).rejects.toBeInstanceOf(pkg.AsyncInstallError);
        const late = fault(async () => {
          await new Promise((r) => setTimeout(r, 1));
          throw new Error('rejected after the lock was dropped');
        });
        await expect(late).rejects.toBeInstanceOf(pkg.AsyncInstallError);
        expect(put.mock.calls).toEqual([['page'], ['page']]);
        await settle();
        expect(unhandled).toEqual([]);
        await expectLockFree();
      });

      it('a put() that throws after the refusal: AggregateError of both, lock free', async () => {
        const { c, expectLockFree } = setup(pkg, makeLock, shared);
        const putError = new Error('put');
        const fp = c.start(() =>
          pkg.faultWithRetry({
            tracker: shared
              ? pkg.SharedInvalidationTracker.create()
              : new pkg.InvalidationTracker(),
            lock: c.lock,
            gfn: GFN,
            backoff: () => {},
            resolve: async () => 'page',
            install: (async () => {}) as unknown as (page: string) => void,
            put: () => {
              throw putError;
            },
          }),
        );
        const error = await fp.catch((e: unknown) => e);
        expect(error).toBeInstanceOf(AggregateError);
        const [first, second] = (error as AggregateError).errors;
        expect(first).toBeInstanceOf(pkg.AsyncInstallError);
        expect(second).toBe(putError);
        await expectLockFree();
      });

      it('a synchronous install still works, whatever it returns', async () => {
        const returns: unknown[] = [
          undefined,
          42,
          'x',
          null,
          new Map([[1, 2]]),
          // biome-ignore lint/suspicious/noThenProperty: a then that is not callable, on purpose
          { then: 1 },
          () => {},
        ];
        for (const value of returns) {
          const { put, fault, expectLockFree } = setup(pkg, makeLock, shared);
          const installed: string[] = [];
          const fp = fault((page) => {
            installed.push(page);
            return value;
          });
          await expect(fp).resolves.toEqual({ page: 'page', retries: 0 });
          expect(installed).toEqual(['page']);
          expect(put).not.toHaveBeenCalled();
          await expectLockFree();
        }
      });
    });
  });

  it('a lost race never calls install, so nothing is refused; the retry that installs is checked', async () => {
    const tracker = new pkg.InvalidationTracker();
    const lock = pkg.SharedMmuLock.create();
    let n = 0;
    const put = vi.fn();
    const install = vi.fn(async () => {});
    const error = await pkg
      .faultWithRetry({
        tracker,
        lock,
        gfn: GFN,
        backoff: () => {},
        precheck: false,
        resolve: async () => {
          if (n++ === 0) {
            tracker.begin(); // the first attempt loses the race under the lock
            tracker.rangeAdd(0, 16);
            tracker.end();
          }
          return `p${n}`;
        },
        install: install as unknown as (page: string) => void,
        put,
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(pkg.AsyncInstallError);
    expect(install.mock.calls).toEqual([['p2']]);
    expect(put.mock.calls).toEqual([['p1'], ['p2']]);
    expect(lock.tryLock()).toBe(true);
    lock.unlock();
  });
});
