import type { LockLike } from '@mmukit/seqcount';

/**
 * The MMU lock the fault path takes around its final check and the install, and the invalidator
 * takes around begin()/rangeAdd() and end() (KVM's `kvm->mmu_lock`).
 *
 * Any exclusive lock whose `acquire()` resolves to a release function fits: async-mutex's
 * `Mutex` and `Semaphore(1)` do, and so does {@link SharedMmuLock} across worker threads.
 * The release function must be called exactly once.
 */
export interface MmuLock {
  /** Waits until the lock is free, takes it, and resolves to the function that releases it. */
  acquire(): Promise<() => void>;
}

/**
 * A lock with `tryLock()` / `lock()` / `unlock()`: `@mmukit/seqcount`'s `LockLike`, the shape of
 * its `Mutex` (async `lock()`) and `SharedMutex` (blocking `lock()`), of {@link SharedMmuLock},
 * and of the user lock of an mmu-notifier interval subscription. Structural: any object with
 * these three methods fits.
 *
 * - {@link faultWithRetry} takes a free one with `tryLock()`, synchronously (no promise, no
 *   await), and drops it with `unlock()`. A held one is waited for with `acquire()` if the object
 *   also has one (as SharedMmuLock does), else with `lock()`.
 * - {@link kvmNotifierOps} takes it around `begin()`/`rangeAdd()`/zap and around `end()`.
 *
 * The lock must be exclusive: while one holder has it, `tryLock()` is false and `lock()` waits.
 */
export type UserLock = LockLike;

/**
 * Every lock {@link faultWithRetry} accepts: an {@link MmuLock} (`acquire()` resolving to a
 * release function, e.g. async-mutex) or a {@link UserLock} (`tryLock()` / `lock()` /
 * `unlock()`); an object may have both (SharedMmuLock, seqcount's `Mutex`).
 */
export type FaultLock = MmuLock | UserLock;
