import type { FaultLock, MmuLock, UserLock } from './mmu-lock.js';

/**
 * Takes the fault's lock: returns the function that releases it, at once when the lock was free
 * and could be taken synchronously, else a promise of it. Every way of taking a lock ends in
 * this one shape, so the fault has one path: take, check, install, call the release function.
 */
export type TakeLock = () => (() => void) | Promise<() => void>;

const NOT_OBJECT =
  'lock must be an object: { acquire(): Promise<() => void> } or { tryLock(), lock(), unlock() }';
const NO_METHODS =
  'lock.acquire must be a function (an MmuLock), or the lock must have tryLock(), lock() and unlock() (a UserLock)';

/**
 * How {@link faultWithRetry} takes `lock`, decided once per call from the lock's shape only
 * (its own and inherited methods; no class is special):
 * - `tryLock()` and `unlock()`: a free lock is taken with `tryLock()`, synchronously (no promise),
 *   and released with `unlock()`. A held one is waited for with `acquire()` if the lock has one
 *   (released with the function it resolves to: SharedMmuLock's waits with Atomics.waitAsync and
 *   never blocks the thread), else with `lock()` (awaited if it returns a thenable; a blocking
 *   `lock()` returns with the lock held), released with `unlock()`;
 * - only `acquire()` (an {@link MmuLock}, e.g. async-mutex): `await acquire()`, released with the
 *   function it resolves to.
 * @throws TypeError if `lock` has neither shape.
 */
export function lockTakerOf(lock: FaultLock): TakeLock {
  if (typeof lock !== 'object' || lock === null) throw new TypeError(NOT_OBJECT);
  const l = lock as Partial<MmuLock & UserLock>;
  const hasAcquire = typeof l.acquire === 'function';
  if (typeof l.tryLock !== 'function' || typeof l.unlock !== 'function') {
    if (!hasAcquire) throw new TypeError(NO_METHODS);
    return () => acquireFrom(l as MmuLock);
  }
  if (!hasAcquire && typeof l.lock !== 'function') throw new TypeError(NO_METHODS);
  const user = l as UserLock;
  const unlock = (): void => user.unlock();
  const wait: TakeLock = hasAcquire
    ? () => acquireFrom(l as MmuLock)
    : () => {
        const waiting = user.lock();
        return waiting === undefined ? unlock : Promise.resolve(waiting).then(() => unlock);
      };
  return () => (user.tryLock() ? unlock : wait());
}

/** `await lock.acquire()`, checked to have resolved to a release function. */
async function acquireFrom(lock: MmuLock): Promise<() => void> {
  const release = await lock.acquire();
  if (typeof release !== 'function') {
    throw new TypeError('lock.acquire() must resolve to a release function');
  }
  return release;
}
