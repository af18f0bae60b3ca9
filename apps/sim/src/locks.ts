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

  /** An `MmuLock` view for faultWithRetry(): acquire() resolves to the release function. */
  asMmuLock(t: Task): { acquire(): Promise<() => void> } {
    const release = (): void => this.unlock(t);
    return {
      acquire: async () => {
        const p = this.lock(t);
        if (p !== undefined) await p;
        return release;
      },
    };
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
 * while holding it. tryLock() from synchronous code (a notifier callback) always succeeds unless
 * someone slept holding it, which is reported as a bug. The async acquire() used by
 * faultWithRetry "spins" by yielding to the scheduler.
 */
export class SimSpinLock extends OwnedLock {
  private readonly spinLabel: string;

  constructor(sched: Scheduler, name: string) {
    super(sched, name);
    this.spinLabel = `spin:${name}`;
  }

  /** spin_unlock(). */
  unlock(t: Task): void {
    this.checkHolder(t);
    this.owner = null;
  }

  /** An `MmuLock` for faultWithRetry(): spins (yielding) until it gets the lock. */
  asMmuLock(t: Task): { acquire(): Promise<() => void> } {
    const release = (): void => this.unlock(t);
    return {
      acquire: async () => {
        while (!this.tryLock(t)) await this.sched.yield(t, this.spinLabel);
        return release;
      },
    };
  }
}
