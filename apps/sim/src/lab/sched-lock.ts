import type { UserLock } from '@mmukit/fault-retry';
import type { Mutex } from '@mmukit/seqcount';
import type { Scheduler, Task } from '../scheduler.js';

/**
 * A package `Mutex` as the notifier side takes it: `tryLock()` at once; `lock()` parks the
 * running task (the invalidator whose start called the callback) until the mutex is its own,
 * through `sched.wait`.
 */
export function notifierLock(sched: Scheduler, mutex: Mutex, label: string): UserLock {
  return {
    tryLock: () => mutex.tryLock(),
    lock: () => sched.wait(running(sched), mutex.lock(), label),
    unlock: () => mutex.unlock(),
  };
}

/**
 * A package `Mutex` as a fault of task `t` takes it in `faultWithRetry`: asking for it is always
 * a scheduling point (`tryLock()` says no, `lock()` yields first), so an invalidation can land
 * between the fault's lockless re-check and its decisive check under the lock. After the
 * yield it takes the mutex at once if free, else waits for it through `sched.wait`.
 */
export function faultLock(sched: Scheduler, t: Task, mutex: Mutex, label: string): UserLock {
  return {
    tryLock: () => false,
    lock: () =>
      sched
        .yield(t, label)
        .then(() => (mutex.tryLock() ? undefined : sched.wait(t, mutex.lock(), label))),
    unlock: () => mutex.unlock(),
  };
}

/** Takes `mutex` for task `t` (a scheduler wait if it is held). */
export function lockFor(sched: Scheduler, t: Task, mutex: Mutex, label: string): Promise<void> {
  return mutex.tryLock() ? Promise.resolve() : sched.wait(t, mutex.lock(), label);
}

/** The task whose code is running (a callback runs on the task that called the start). */
export function running(sched: Scheduler): Task {
  const t = sched.current;
  if (t === null) throw new Error('lab: a lock was asked for with no task running');
  return t;
}
