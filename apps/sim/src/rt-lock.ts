import type { NotifierLock } from '@mmukit/mmu-notifier';
import type { Scheduler, Task } from './scheduler.js';

/** The holder of a {@link SimRtLock} handed to a detached wait (a continuation, not a task). */
const DETACHED = 'detached';

/**
 * KVM's mmu_lock under PREEMPT_RT, where a spinlock_t is a sleeping rt_mutex: its holder can be
 * preempted while it holds it, and whoever wants it then sleeps. Waits are scheduler points of
 * the waiting task; unlock() hands the lock to the first waiter (FIFO).
 *
 * A wait can also be detached: a lock() inside {@link detachedWaits} parks no task, and the lock
 * is handed to the returned promise's continuation, which must unlock it. That is how
 * kvmNotifierOps' invalidateRangeEnd waits: it is synchronous, so on a held lock it returns at
 * once and leaves its end() to run when the lock is handed over. While a detached continuation
 * holds the lock, only it may unlock it (no task's code runs before it does: the hand-off
 * resolves its promise, and the continuation is the next microtask of that chain).
 */
export class SimRtLock {
  private owner: Task | typeof DETACHED | null = null;
  private readonly waiters: Array<Task | (() => void)> = [];
  private detach = false;
  private readonly waitLabel: string;
  /** lock() calls that had to wait (by a task or detached). */
  contended = 0;

  /** The lock as the packages' helpers take it: every call acts for the running task. */
  readonly notifierLock: NotifierLock = {
    tryLock: () => this.tryLock(),
    lock: () => this.lock(),
    unlock: () => this.unlock(),
  };

  constructor(
    private readonly sched: Scheduler,
    readonly name: string,
  ) {
    this.waitLabel = `lock:${name}`;
  }

  /** The holding task, `'detached'`, or null. */
  get holder(): Task | typeof DETACHED | null {
    return this.owner;
  }

  /** Runs `fn`; a lock() it makes on a held lock waits detached (see the class). */
  detachedWaits<T>(fn: () => T): T {
    this.detach = true;
    try {
      return fn();
    } finally {
      this.detach = false;
    }
  }

  /** spin_trylock(): takes the lock for the running task if it is free. */
  tryLock(): boolean {
    if (this.owner !== null) return false;
    this.owner = this.running();
    return true;
  }

  /** spin_lock(): undefined if taken at once, else the wait (parks the task unless detached). */
  lock(): Promise<void> | undefined {
    if (this.detach) {
      if (this.owner === null) {
        this.owner = DETACHED;
        return undefined;
      }
      this.contended++;
      return new Promise<void>((resolve) => {
        this.waiters.push(() => {
          this.owner = DETACHED;
          resolve();
        });
      });
    }
    const t = this.running();
    if (this.owner === null) {
      this.owner = t;
      return undefined;
    }
    if (this.owner === t) throw new Error(`${t.name} takes ${this.name} twice (self-deadlock)`);
    this.contended++;
    this.waiters.push(t);
    return this.sched.park(t, this.waitLabel);
  }

  /** spin_unlock(): by the holding task, or by the detached continuation that holds it. */
  unlock(): void {
    if (this.owner !== DETACHED) {
      const t = this.running();
      if (this.owner !== t) {
        throw new Error(`${t.name} unlocks ${this.name} held by ${this.owner?.name ?? 'nobody'}`);
      }
    }
    const next = this.waiters.shift();
    if (next === undefined) {
      this.owner = null;
    } else if (typeof next === 'function') {
      next();
    } else {
      this.owner = next;
      this.sched.unpark(next);
    }
  }

  private running(): Task {
    const t = this.sched.current;
    if (t === null) throw new Error(`${this.name} taken outside any task`);
    return t;
  }
}
