/**
 * The base class of this package's errors (a bad `apply` is a plain `TypeError`): `catch (e) {
 * if (e instanceof DeferredListError) ... }` catches both. Each message names the method.
 */
export class DeferredListError extends Error {
  override readonly name: string = 'DeferredListError';
}

/**
 * Thrown by {@link DeferredList.exit} when no holder is inside (an `exit()` without a matching
 * `enter()`). Nothing has changed when it is thrown: the holder count stays 0 and the queue is
 * left as it was.
 *
 * The kernel has no check here (an unbalanced `mmu_notifier_invalidate_range_end()` would
 * underflow `active_invalidate_ranges`); a counting bug should fail loudly instead of draining
 * the queue while a real holder is still inside.
 */
export class DeferredListUnderflowError extends DeferredListError {
  override readonly name = 'DeferredListUnderflowError';

  constructor() {
    super('DeferredList.exit() called with no holder inside (exit without a matching enter)');
  }
}

/**
 * Thrown by the call that applied the work ({@link DeferredList.exit} for the last holder out, or
 * {@link DeferredList.submit} when it applied at once) when one or more `apply` calls threw.
 *
 * Every other item was still applied: `errors` holds each thrown value in the order the failing
 * items were applied. By the time it is thrown the list is consistent: the holder count is
 * already decremented and the queue is empty (unless `apply` itself called `enter()`, in which
 * case the rest waits for that holder, see the README).
 */
export class DeferredListApplyError extends DeferredListError {
  override readonly name = 'DeferredListApplyError';
  /** Each value `apply` threw, in the order the failing items were applied (never empty). */
  readonly errors: unknown[];

  /**
   * @param method - the call that applied the work and throws: `'exit'` or `'submit'`.
   * @param errors - what `apply` threw, in order.
   */
  constructor(method: 'exit' | 'submit', errors: unknown[]) {
    super(
      `DeferredList.${method}(): ${errors.length} deferred apply call${errors.length === 1 ? '' : 's'} threw; ` +
        'every other item was applied (see .errors)',
    );
    this.errors = errors;
  }
}
