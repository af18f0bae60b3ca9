import type { FaultSubscription } from '@mmukit/fault-retry';
import {
  type IntervalNotifier,
  type NotifierLock,
  type TeardownOptions,
  teardownInterval,
} from '@mmukit/mmu-notifier';
import type { AddressSpace } from '../primary/mm.js';
import type { Scheduler, Task } from '../scheduler.js';

/**
 * mmu_interval_read_begin() for task `t`: the sequence at once when no invalidation of the
 * subscription is running (tryReadBegin), else the wait for that invalidation's end, a blocking
 * point of `t` (`label`, counted in `stats.waits.readBegin`). Returns a number or a promise of
 * one, so the common case costs no await.
 */
export function readBegin(
  mm: AddressSpace,
  t: Task,
  sub: IntervalNotifier,
  label: string,
): number | Promise<number> {
  const seq = sub.tryReadBegin();
  if (seq !== undefined) return seq;
  mm.ctx.stats.waits.readBegin++;
  // The package's readBegin waits for the same end; `t` is woken by the task that ends the busy
  // period (see waitSeqChange) and then takes the package's value, settled within microtasks.
  // tryReadBegin said it would wait: readBegin announces its wait (synchronously).
  const waits = mm.audit.readBeginWaits;
  const begun = sub.readBegin();
  if (mm.audit.readBeginWaits !== waits + 1) {
    mm.checker.fail(`${t.name}: ${label} did not wait although tryReadBegin() said it must`);
  }
  return afterSeqChange(mm, t, mm.subs.invalidateSeq, begun, label);
}

/**
 * Waits (as `t`, at `label`) for the busy period `seq` to end, then for `p`, a package promise
 * that settles at that end: what the package says happened at the end, without letting its
 * promise decide when `t` runs again. A `p` that settles while the period is still open is a
 * bug of the package (its wait ended early): a violation once `t` is woken.
 */
async function afterSeqChange<T>(
  mm: AddressSpace,
  t: Task,
  seq: number,
  p: Promise<T>,
  label: string,
): Promise<T> {
  let early = false;
  const settled = (): void => {
    if (mm.subs.invalidateSeq === seq) early = true;
  };
  p.then(settled, settled); // a rejection is taken below, after the wait
  await mm.waitSeqChange(t, seq, label);
  if (early) {
    mm.checker.fail(`${t.name}: ${label} settled before the invalidation it waits for ended`);
  }
  return p;
}

function ignore(): void {}

/**
 * `answer`, the result of `sub.readRetry(seq)` or `sub.checkRetry(seq)`, checked against the
 * rule: true exactly when the subscription's sequence is no longer the one readBegin gave.
 */
export function checkedRetry(
  mm: AddressSpace,
  sub: IntervalNotifier,
  seq: number,
  answer: boolean,
  what: string,
): boolean {
  if (answer !== (sub.seq !== seq)) {
    mm.checker.fail(`${what}(${seq}) = ${answer}, but the subscription's seq is ${sub.seq}`);
  }
  return answer;
}

/**
 * `sub` as task `t` hands it to faultWithRetry: `readBegin()` waits as a blocking point of `t`
 * (the other calls go to `sub`). A plain object: `sub` itself is never made a prototype.
 */
export function faultSubscription(
  mm: AddressSpace,
  t: Task,
  sub: IntervalNotifier,
  label: string,
): Required<FaultSubscription> {
  return {
    tryReadBegin: () => sub.tryReadBegin(),
    readBegin: () => readBegin(mm, t, sub, label),
    readRetry: (seq) => checkedRetry(mm, sub, seq, sub.readRetry(seq), 'readRetry'),
    checkRetry: (seq) => checkedRetry(mm, sub, seq, sub.checkRetry(seq), 'checkRetry'),
  };
}

/**
 * `sub.remove()`, checked: a removal deferred by a running invalidation (state
 * 'pending-remove') announces its wait in the core's trace, one done at once does not.
 */
export function startRemoval(mm: AddressSpace, sub: IntervalNotifier): Promise<void> {
  const waits = mm.audit.removeWaits;
  const removal = sub.remove();
  const deferred = sub.state === 'pending-remove';
  if ((mm.audit.removeWaits === waits + 1) !== deferred) {
    mm.checker.fail(
      `mmu_interval_notifier_remove: a ${deferred ? 'deferred' : 'done'} removal ${deferred ? 'announced no' : 'announced a'} wait`,
    );
  }
  return removal;
}

/**
 * The wait for a removal `sub.remove()` just returned (`removal`), by task `t` at `label`. A
 * removal deferred by a running invalidation (state 'pending-remove') ends with that busy
 * period: `t` blocks until the task that ends it wakes it (see waitSeqChange). One done at once
 * still blocks `t` for a turn of another task (Scheduler.pass). Then `t` takes the package's promise (settled by the end:
 * within microtasks). Call it at once after `remove()` (it reads the state remove() left).
 */
export function awaitRemoval(
  mm: AddressSpace,
  t: Task,
  sub: IntervalNotifier,
  removal: Promise<void>,
  label: string,
): Promise<void> {
  if (sub.state === 'pending-remove')
    return afterSeqChange(mm, t, mm.subs.invalidateSeq, removal, label);
  return afterPass(mm, t, removal, label);
}

async function afterPass(
  mm: AddressSpace,
  t: Task,
  removal: Promise<void>,
  label: string,
): Promise<void> {
  removal.catch(ignore); // a rejection is taken below, after the scheduling point
  await mm.ctx.sched.pass(t, label);
  return removal;
}

/**
 * teardownInterval(sub) by task `t`, through a view of `sub` (its range and `remove()`). The
 * helper calls `remove()` while it holds the lock and awaits the removal only after unlocking;
 * the view's `remove()` starts the removal at once but becomes a wait of `t` (awaitRemoval) only
 * when awaited, so `t` never parks holding the lock.
 */
export function teardownOnTask(
  mm: AddressSpace,
  t: Task,
  sub: IntervalNotifier,
  options: TeardownOptions,
): Promise<void> {
  // What teardownInterval uses of the subscription (its range and remove()), as a plain object:
  // `sub` itself is never made a prototype (that would slow every later access to it).
  const remove = () => lazyRemoval(mm, t, sub, 'mmu_interval_notifier_remove');
  const view = { start: sub.start, last: sub.last, remove };
  return teardownInterval(view as unknown as IntervalNotifier, options);
}

/**
 * `sub.remove()` by task `t`, started at once, whose wait (awaitRemoval's, at `label`) begins
 * only when the result is awaited: a caller that removes while holding a lock and awaits after
 * unlocking (teardownInterval) never parks `t` holding the lock.
 */
export function lazyRemoval(
  mm: AddressSpace,
  t: Task,
  sub: IntervalNotifier,
  label: string,
): Promise<void> {
  const removal = startRemoval(mm, sub);
  const deferred = sub.state === 'pending-remove';
  const seq = mm.subs.invalidateSeq;
  return {
    // biome-ignore lint/suspicious/noThenProperty: a lazy thenable, by design (see above)
    then: (ok: () => void, fail: (e: unknown) => void) =>
      (deferred
        ? afterSeqChange(mm, t, seq, removal, label)
        : afterPass(mm, t, removal, label)
      ).then(ok, fail),
  } as Promise<void>;
}

/**
 * `lock` as task `t`'s fault path hands it to faultWithRetry: the same lock, but taking it is
 * always a scheduling point of `t` (`label`), even when it is free. A task can be preempted
 * right before it takes a lock (a sleeping mutex, or a spinlock on a preemptible kernel), that is
 * after faultWithRetry's lockless re-check and before its decisive check under the lock: an
 * invalidation that runs there is seen only by the check under the lock. Made once per task and
 * lock (its methods are the class's: no closure per fault).
 */
export class PreemptibleLock implements NotifierLock {
  constructor(
    private readonly sched: Scheduler,
    private readonly t: Task,
    private readonly inner: NotifierLock,
    private readonly label: string,
    /**
     * Run when the lock is asked for, before the scheduling point: faultWithRetry asks for it
     * right after its lockless re-check, so a secondary can check here that the re-check passed.
     */
    private readonly onLock?: () => void,
    /**
     * If set, a second scheduling point of `t` right after it took the lock, still holding it
     * (`holdingLabel`): a sleeping lock's holder preempted inside its critical section.
     */
    private readonly holdingLabel?: string,
  ) {}

  /** Never at once: lock() is the scheduling point. */
  tryLock(): boolean {
    return false;
  }

  lock(): Promise<void> {
    this.onLock?.();
    const taken = this.sched.yield(this.t, this.label).then(this.take);
    return this.holdingLabel === undefined ? taken : taken.then(this.preempted);
  }

  unlock(): void {
    this.inner.unlock();
  }

  /** After the scheduling point: the lock at once if free, else its wait. */
  private readonly take = (): void | PromiseLike<void> =>
    this.inner.tryLock() ? undefined : this.inner.lock();

  /** Preempted while holding the lock (only with `holdingLabel`). */
  private readonly preempted = (): Promise<void> => this.sched.yield(this.t, this.holdingLabel!);
}

/**
 * A -errno thrown out of a package helper's callback (faultWithRetry's resolve or install) to
 * the secondary that called it. One instance per code, made once: no stack trace per throw.
 */
export class Errno extends Error {
  private static readonly made = new Map<number, Errno>();
  private constructor(readonly code: number) {
    super(`errno ${code}`);
  }

  static of(code: number): Errno {
    let e = Errno.made.get(code);
    if (e === undefined) {
      e = new Errno(code);
      Errno.made.set(code, e);
    }
    return e;
  }
}

/** The -errno `error` carries, or `error` rethrown if it is no Errno. */
export function errnoOf(error: unknown): number {
  if (error instanceof Errno) return error.code;
  throw error;
}

/**
 * Calls `probe` with V8's stack capture off. For the probes that provoke a package's error on
 * purpose and check only its class (setSeq outside a callback, readBegin inside one): capturing
 * the stack of an error made only to be caught cost more than the rest of the probe.
 */
export function withoutStacks<T>(probe: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return probe();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** The stack-trace limit to restore at the end of the step that turned capture off (or -1). */
let savedStackLimit = -1;

function restoreStacks(): void {
  Error.stackTraceLimit = savedStackLimit;
  savedStackLimit = -1;
}

/**
 * `sub` for a fault that gives up at its first collision (maxRetries 0): once a check says the
 * read collided, faultWithRetry throws FaultRetryLimitError within the same synchronous step,
 * and the caller only catches and counts it. Capturing that error's stack cost about as much as
 * the rest of the fault, so from such a check to the end of the current microtask V8 captures
 * no stacks: a microtask queued there restores the limit (a no-op job: the other microtasks keep
 * their order, so the run is unchanged).
 */
export function giveUpSubscription(sub: Required<FaultSubscription>): FaultSubscription {
  const collided = (lost: boolean): boolean => {
    if (lost && savedStackLimit < 0) {
      savedStackLimit = Error.stackTraceLimit;
      Error.stackTraceLimit = 0;
      queueMicrotask(restoreStacks);
    }
    return lost;
  };
  // One literal of a fixed shape (a spread would make a new hidden class per run, and
  // faultWithRetry, which reads these members, would deoptimize at each).
  return {
    tryReadBegin: sub.tryReadBegin,
    readBegin: sub.readBegin,
    readRetry: (seq) => collided(sub.readRetry(seq)),
    checkRetry: (seq) => collided(sub.checkRetry(seq)),
  };
}
