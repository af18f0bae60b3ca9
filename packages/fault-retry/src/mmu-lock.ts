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
