import { DeferredListApplyError, DeferredListUnderflowError } from './errors.js';
import { RingQueue } from './ring-queue.js';

/** Returned by `idle()` when the list is already idle; shared, so that call allocates nothing. */
const RESOLVED: Promise<void> = Promise.resolve();

/**
 * Deferred work on unlock: while at least one holder is inside, submitted work is queued; the
 * last holder to leave applies the queue in FIFO order, each item exactly once.
 *
 * This is the scheme of the kernel's interval notifier (`mn_itree_inv_end()` drains the
 * `deferred_list` of tree inserts/removes requested while `invalidate_seq` was odd) and of RTNL
 * (`rtnl_unlock()` runs the netdev todo list). Unlike the kernel's hlist (LIFO), the order here
 * is FIFO: the order the work was submitted in.
 *
 * The rules (each is relied on in one place below and stated there):
 * 1. `apply` is called only while `holders === 0`.
 * 2. `apply` is never re-entered: work submitted while an `apply` runs is queued, and the call
 *    that is already applying (the outermost `submit()` or `exit()`) applies it afterwards.
 * 3. Applied order is submit order; an item is applied at most once, and exactly once unless
 *    cancelled first.
 * 4. Whenever `holders === 0` and no `apply` is running, the queue is empty.
 *
 * Single thread: the methods are synchronous, so each one is atomic with respect to `await`s.
 *
 * @typeParam W - the work item type; `cancel` compares items with SameValueZero (identity for
 *   objects), so submit distinct objects when the same work may be queued twice.
 */
export class DeferredList<W> {
  readonly #apply: (work: W) => void;
  readonly #queue = new RingQueue<W>();
  #holders = 0;
  /** True while an `apply` call (or a drain) runs: see rule 2. */
  #applying = false;
  /** Shared promise for every `idle()` caller of the current busy period, made on demand. */
  #idle: Promise<void> | undefined = undefined;
  #wake: (() => void) | undefined = undefined;

  /**
   * @param apply - performs one work item. Called synchronously, only while no holder is inside,
   *   never re-entrantly. It may call `submit`, `cancel`, `enter` and `exit` (see the README for
   *   what each does from there). If it throws, the rest is still applied and the errors are
   *   rethrown together as a {@link DeferredListApplyError}.
   * @throws TypeError if `apply` is not a function.
   */
  constructor(apply: (work: W) => void) {
    if (typeof apply !== 'function') {
      throw new TypeError(
        `DeferredList: apply must be a function, got ${apply === null ? 'null' : typeof apply}`,
      );
    }
    this.#apply = apply;
  }

  /** Number of holders inside (`enter()` calls not yet matched by `exit()`). */
  get holders(): number {
    return this.#holders;
  }

  /** Number of queued, not yet applied items (the one being applied is not counted). */
  get pending(): number {
    return this.#queue.size;
  }

  /**
   * One more holder: from now until the matching `exit()`, submitted work is queued, and a
   * drain in progress stops before its next item (like `active_invalidate_ranges++` in
   * `mn_itree_inv_start_range()`). Never waits, never throws.
   */
  enter(): void {
    this.#holders++;
  }

  /**
   * One less holder. The last holder out applies the queue, in submit order, before `exit()`
   * returns (like `mn_itree_inv_end()`), then resolves the `idle()` promise.
   *
   * Called from inside `apply` (after an `enter()` there), it only decrements: the drain that
   * is already running continues with the next item (rule 2).
   *
   * @throws DeferredListUnderflowError if no holder is inside; nothing changes.
   * @throws DeferredListApplyError if `apply` threw for some items; every item was still
   *   applied, the holder count is already decremented and the queue is empty.
   */
  exit(): void {
    if (this.#holders === 0) throw new DeferredListUnderflowError();
    if (--this.#holders !== 0 || this.#applying) return;
    this.#drain('exit', undefined);
  }

  /**
   * Applies `work` now if no holder is inside and no `apply` is running, and returns `false`;
   * otherwise queues it at the tail and returns `true`. Allocates nothing on the apply-now path.
   *
   * When it applies at once, work that `apply` submits meanwhile is applied too, in order,
   * before `submit()` returns. Like the deferral in `__mmu_interval_notifier_insert()` (queue on
   * `deferred_list` while the tree is invalidating, insert at once otherwise).
   *
   * @throws DeferredListApplyError if `apply` threw (for this item or for work it submitted);
   *   the rest was still applied.
   */
  submit(work: W): boolean {
    // Rules 1 and 2: queue while a holder is inside or while an apply is running.
    if (this.#holders !== 0 || this.#applying) {
      this.#queue.push(work);
      return true;
    }
    this.#applying = true;
    let errors: unknown[] | undefined;
    try {
      this.#apply(work);
    } catch (error) {
      errors = [error];
    }
    // Fast path: apply queued nothing, failed not, and nobody waits in idle().
    // Stryker disable next-line ConditionalExpression,BlockStatement: equivalent: skipping the fast path, #drain() does the same with no errors, no queue and no waiter.
    if (errors === undefined && this.#queue.size === 0 && this.#wake === undefined) {
      this.#applying = false;
      return false;
    }
    this.#drain('submit', errors);
    return false;
  }

  /**
   * Removes the oldest queued item equal to `work` (SameValueZero, as `Array#includes`) and
   * returns `true`; returns `false` if no equal item is queued (never submitted, already
   * applied, being applied right now, or already cancelled). Later duplicates stay queued.
   * O(pending). Like the kernel's `hlist_del()` of a pending insert in
   * `mmu_interval_notifier_remove()`.
   */
  cancel(work: W): boolean {
    return this.#queue.removeFirst(work);
  }

  /**
   * Resolves once no holder is inside and the queue is drained. When that is already true it
   * returns an already-resolved promise (an `await` continues on the next microtask, by which
   * time someone may have entered again). Otherwise every caller shares one promise, resolved by
   * the call that finishes the drain (after the last `apply`, before that call returns or throws
   * its {@link DeferredListApplyError}); it never rejects, apply errors go to that caller.
   * Like the `wait_event(subscriptions->wq, ...)` in `mmu_interval_notifier_remove()`, which
   * waits for the last invalidation to end and apply the deferred removal.
   */
  idle(): Promise<void> {
    // Rule 4: holders === 0 and not applying implies an empty queue.
    if (this.#holders === 0 && !this.#applying) return RESOLVED;
    if (this.#idle === undefined) {
      this.#idle = new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
    return this.#idle;
  }

  /**
   * Applies queued work while no holder is inside, then wakes `idle()` waiters if the list is
   * idle, then throws the collected errors. The caller has already set up rule 2 (`submit`) or
   * holds the only right to drain (`exit` saw holders go to 0 with no apply running).
   */
  #drain(method: 'exit' | 'submit', errors: unknown[] | undefined): void {
    this.#applying = true;
    const queue = this.#queue;
    // Rule 1: re-check holders before every item; an apply that calls enter() stops the drain
    // and the rest waits for that holder's exit().
    while (this.#holders === 0 && queue.size !== 0) {
      const work = queue.shift();
      try {
        this.#apply(work);
      } catch (error) {
        if (errors === undefined) errors = [error];
        else errors.push(error);
      }
    }
    this.#applying = false;
    // Rule 4 holds again here: either a holder is inside, or the queue is empty.
    if (this.#holders === 0) this.#wakeIdle();
    if (errors !== undefined) throw new DeferredListApplyError(method, errors);
  }

  #wakeIdle(): void {
    const wake = this.#wake;
    if (wake === undefined) return;
    this.#wake = undefined;
    this.#idle = undefined;
    wake();
  }
}
