import type { NotifierLock } from '@mmukit/mmu-notifier';
import type { Scheduler, Task } from './scheduler.js';

/** What the mutex and the spinlock share: one owning task, trylock, and the unlock check. */
abstract class OwnedLock {
  protected owner: Task | null = null;

  constructor(
    protected readonly sched: Scheduler,
    readonly name: string,
  ) {}

  /** The holder, or null. */
  get holder(): Task | null {
    return this.owner;
  }

  /** mutex_trylock() / spin_trylock(): takes the lock if free. */
  tryLock(t: Task): boolean {
    if (this.owner !== null) return false;
    this.owner = t;
    return true;
  }

  /** Takes the lock for `t`: undefined if it got it at once, else a wait (scheduler points). */
  abstract lock(t: Task): Promise<void> | undefined;

  /** Releases the lock `t` holds. */
  abstract unlock(t: Task): void;

  /**
   * The lock as the packages' helpers take it (`NotifierLock` of @mmukit/mmu-notifier,
   * `UserLock` of @mmukit/fault-retry: `tryLock`/`lock`/`unlock` without a task argument): every
   * call acts for the task running now (`sched.current`), and `lock()` waits with scheduler
   * points of that task. `onWait` counts the waits.
   */
  notifierLock(onWait?: () => void): NotifierLock {
    const running = (): Task => {
      const t = this.sched.current;
      if (t === null) throw new Error(`${this.name} taken outside any task`);
      return t;
    };
    return {
      tryLock: () => this.tryLock(running()),
      lock: () => {
        const w = this.lock(running());
        if (w !== undefined) onWait?.();
        return w;
      },
      unlock: () => this.unlock(running()),
    };
  }

  /** Throws unless `t` holds the lock (an unlock by a non-holder is a bug in the model). */
  protected checkHolder(t: Task): void {
    if (this.owner !== t)
      throw new Error(`${t.name} unlocks ${this.name} held by ${this.owner?.name ?? 'nobody'}`);
  }
}

/**
 * A sleeping mutex (kernel `struct mutex`) whose waits are scheduler points. FIFO hand-off:
 * unlock() gives the lock to the first waiter, which then runs when the scheduler picks it.
 */
export class SimMutex extends OwnedLock {
  private readonly waiters: Task[] = [];
  /** Number of lock() calls that had to wait. */
  contended = 0;
  private readonly waitLabel: string;

  constructor(sched: Scheduler, name: string) {
    super(sched, name);
    this.waitLabel = `lock:${name}`;
  }

  /** mutex_lock(): resolves once `t` holds the lock. */
  lock(t: Task): Promise<void> | undefined {
    if (this.owner === null) {
      this.owner = t;
      return undefined;
    }
    if (this.owner === t) throw new Error(`${t.name} takes ${this.name} twice (self-deadlock)`);
    this.contended++;
    this.waiters.push(t);
    return this.sched.park(t, this.waitLabel);
  }

  /** mutex_unlock(). */
  unlock(t: Task): void {
    this.checkHolder(t);
    const next = this.waiters.shift();
    if (next === undefined) {
      this.owner = null;
      return;
    }
    this.owner = next;
    this.sched.unpark(next);
  }
}

/**
 * A reader/writer semaphore (the mmap_lock). Writers are preferred once queued, so a stream of
 * readers cannot starve munmap. Waits are scheduler points.
 */
export class SimRwSem {
  private readers = 0;
  private writer: Task | null = null;
  private readonly queue: { t: Task; write: boolean }[] = [];
  private readonly readLabel: string;
  private readonly writeLabel: string;

  constructor(
    private readonly sched: Scheduler,
    readonly name: string,
  ) {
    this.readLabel = `read:${name}`;
    this.writeLabel = `write:${name}`;
  }

  /** Number of current readers (for assertions). */
  get readCount(): number {
    return this.readers;
  }

  /** True while a writer holds it. */
  get writeLocked(): boolean {
    return this.writer !== null;
  }

  /** down_read(). */
  read(t: Task): Promise<void> | undefined {
    if (this.writer === null && this.queue.length === 0) {
      this.readers++;
      return undefined;
    }
    this.queue.push({ t, write: false });
    return this.sched.park(t, this.readLabel);
  }

  /** down_read_trylock(). */
  tryRead(): boolean {
    if (this.writer !== null || this.queue.length > 0) return false;
    this.readers++;
    return true;
  }

  /** up_read(). */
  readUnlock(): void {
    if (this.readers <= 0) throw new Error(`up_read of ${this.name} without readers`);
    this.readers--;
    this.grant();
  }

  /** down_write(). */
  write(t: Task): Promise<void> | undefined {
    if (this.writer === null && this.readers === 0 && this.queue.length === 0) {
      this.writer = t;
      return undefined;
    }
    this.queue.push({ t, write: true });
    return this.sched.park(t, this.writeLabel);
  }

  /** up_write(). */
  writeUnlock(t: Task): void {
    if (this.writer !== t) throw new Error(`up_write of ${this.name} by a non-holder`);
    this.writer = null;
    this.grant();
  }

  private grant(): void {
    while (this.writer === null && this.queue.length > 0) {
      const head = this.queue[0]!;
      if (head.write) {
        if (this.readers > 0) return;
        this.queue.shift();
        this.writer = head.t;
        this.sched.unpark(head.t);
        return;
      }
      this.queue.shift();
      this.readers++;
      this.sched.unpark(head.t);
    }
  }
}

/**
 * A spinlock (KVM's mmu_lock): taken only for synchronous sections, so a holder never parks
 * while holding it, and whoever wants it finds it free: one task runs at a time, so a held
 * spinlock means its holder slept holding it ("scheduling while atomic"), which `lock()`
 * reports by throwing (the run stops as a crash).
 */
export class SimSpinLock extends OwnedLock {
  /** spin_unlock(). */
  unlock(t: Task): void {
    this.checkHolder(t);
    this.owner = null;
  }

  /** spin_lock(): takes it (undefined); throws if it is held (by a sleeping holder). */
  lock(t: Task): undefined {
    if (this.tryLock(t)) return undefined;
    throw new Error(`${t.name}: ${this.name} held by ${this.owner?.name} across a sleep`);
  }
}
