import type { IntervalNode } from '@mmukit/interval-tree';
import { SetSeqError, SubscriptionRemovedError } from './errors.js';
import {
  checkInternal,
  INTERNAL,
  type MmState,
  SUB_IN_TREE,
  SUB_PENDING_INSERT,
  SUB_PENDING_REMOVE,
  SUB_REMOVED,
} from './mm-state.js';
import type { MmuNotifierRange } from './range.js';

/**
 * What an interval subscription does when the primary MMU invalidates a range overlapping it.
 * Like the kernel's `struct mmu_interval_notifier_ops`.
 */
export interface IntervalNotifierOps {
  /**
   * Stop using every secondary mapping of `sub` inside `range` before returning (or before the
   * returned promise resolves). It must take the user lock that the fault path holds around
   * `readRetry` + install, call `sub.setSeq(curSeq)` under it unconditionally, zap, and unlock.
   *
   * May await only when `range.blockable`. When it would have to wait on a non-blockable range it
   * returns `false` (EAGAIN: the start fails). For a blockable range `false` is a misuse: the
   * core warns and continues, as the kernel does. Any falsy result counts as `false` (the
   * kernel's `if (!ret)`). Throwing or rejecting is reported, never wedges the address space.
   */
  invalidate(
    sub: IntervalNotifier,
    range: MmuNotifierRange,
    curSeq: number,
  ): boolean | Promise<boolean>;
}

/**
 * The `seq` of a removed subscription: a value `readBegin` never returns (it returns odd
 * positive values), so `readRetry` of any seq read before the removal is true.
 */
export const REMOVED_SEQ = -1;

/** Where an {@link IntervalNotifier} is: see {@link IntervalNotifier.state}. */
export type IntervalNotifierState = 'pending-insert' | 'active' | 'pending-remove' | 'removed';

const STATE_NAMES: readonly IntervalNotifierState[] = [
  'pending-insert',
  'active',
  'pending-remove',
  'removed',
];

/**
 * One interval subscription `[start, last]` of an address space, made by
 * {@link MmuNotifierSubscriptions.insertInterval}. Like the kernel's
 * `struct mmu_interval_notifier` with its `mmu_interval_*` functions.
 *
 * The fault path (the read side):
 * ```ts
 * for (;;) {
 *   const seq = await sub.readBegin();     // may wait for an invalidation of sub to end
 *   const page = await resolve(addr);       // no user lock held: may sleep
 *   await userLock.acquire();
 *   if (sub.readRetry(seq)) { userLock.release(); continue; }  // collided: retry
 *   install(addr, page);                    // still under the user lock
 *   userLock.release();
 *   break;
 * }
 * ```
 */
export class IntervalNotifier {
  /** First address covered. */
  readonly start: number;
  /** Last address covered (inclusive: `start + length - 1`). */
  readonly last: number;
  /** @internal `invalidate_seq`: odd, or REMOVED_SEQ once removed. */
  _seq = 1;
  /** @internal */
  readonly _mm: MmState;
  /** @internal */
  readonly _ops: IntervalNotifierOps;
  /** @internal tree handle while in the tree */
  _node: IntervalNode<IntervalNotifier> | undefined = undefined;
  /** @internal one of SUB_* in mm-state.ts */
  _state = SUB_IN_TREE;
  /** @internal number of `invalidate` calls of this subscription not settled yet */
  _cbRunning = 0;
  /** @internal the `curSeq` they were given (all share it: one busy period) */
  _cbSeq = 0;

  /** @internal Made by `insertInterval` (itree.ts) only. */
  static _create(
    mm: MmState,
    start: number,
    last: number,
    ops: IntervalNotifierOps,
  ): IntervalNotifier {
    return new IntervalNotifier(INTERNAL, mm, start, last, ops);
  }

  /**
   * Not constructible by users (a type error, and a TypeError at run time): subscriptions are
   * made by {@link MmuNotifierSubscriptions.insertInterval}. `token` is private to the package.
   */
  private constructor(
    token: typeof INTERNAL,
    mm: MmState,
    start: number,
    last: number,
    ops: IntervalNotifierOps,
  ) {
    checkInternal(token, 'IntervalNotifier', 'insertInterval');
    this._mm = mm;
    this.start = start;
    this.last = last;
    this._ops = ops;
  }

  /**
   * The subscription's own sequence value: odd while subscribed; {@link REMOVED_SEQ} (-1) once
   * `remove()` took it out. Changes only at insert, through `setSeq` and at removal. For tests
   * and tracing; the protocol uses `readBegin`/`readRetry`.
   */
  get seq(): number {
    return this._seq;
  }

  /**
   * `'pending-insert'` (inserted during an invalidation; enters the tree when it ends),
   * `'active'` (in the tree), `'pending-remove'` (`remove()` waits for the invalidation to end;
   * still in the tree and may still be called) or `'removed'`.
   */
  get state(): IntervalNotifierState {
    return STATE_NAMES[this._state]!;
  }

  /** The operations given at insert. */
  get ops(): IntervalNotifierOps {
    return this._ops;
  }

  /**
   * Begins a read of the range: returns the sequence value to pass to `readRetry`. If this
   * subscription is being invalidated right now (its seq equals the current odd
   * `invalidateSeq`), waits until that invalidation period ends first. It does not loop: the
   * returned value may already need a retry (that lets callers bound their time).
   *
   * Call it without holding the user lock (it may wait for callbacks that take it), and never
   * from inside a notifier callback of the same address space. Like `mmu_interval_read_begin()`.
   *
   * @throws CallbackContextError from inside a callback; SubscriptionRemovedError after
   *   `remove()` (both as rejections, nothing changed).
   */
  //   invalidation (primary)            fault (reader)
  //                                     seq = readBegin()    sub._seq == 1, global 2: no wait
  //   start: global 2 -> 3
  //   invalidate(): lock; setSeq(3); zap; unlock
  //                                     resolve page (stale now)
  //   end: global 3 -> 4, wake
  //                                     lock; readRetry(1): sub._seq is 3 -> true, retry
  //                                     seq = readBegin()    3 != 4: no wait; returns 3
  //
  // Had the reader called readBegin between setSeq(3) and the end, it would have found
  // sub._seq == global == 3 and waited for the end: any page it resolved in that window could
  // be stale, and the end is when the primary's change is complete.
  async readBegin(): Promise<number> {
    const mm = this._mm;
    mm.assertOutsideCallback('IntervalNotifier.readBegin()', 'its own invalidation');
    if (this._state >= SUB_PENDING_REMOVE) throw removedError('readBegin');
    const seq = this._seq;
    if (seq === mm._seq) {
      // Stryker disable next-line ConditionalExpression: equivalent: emit() without a tracer does nothing; the guard only saves building the event.
      if (mm._tracer !== undefined) mm.emit({ type: 'wait', sub: this, reason: 'readBegin', seq });
      // Wakes at the last end of the busy period: `mm._seq` is then even, never `seq` again.
      await mm.waitSeqChange(seq);
    }
    return seq;
  }

  /**
   * `readBegin` without waiting: returns the sequence value, or `undefined` when `readBegin`
   * would wait (this subscription is being invalidated now; try again later). Synchronous and
   * allocation-free: the fast path of a fault handler.
   * @throws SubscriptionRemovedError after `remove()`.
   */
  tryReadBegin(): number | undefined {
    if (this._state >= SUB_PENDING_REMOVE) throw removedError('tryReadBegin');
    const seq = this._seq;
    return seq === this._mm._seq ? undefined : seq;
  }

  /**
   * True if an invalidation collided with the read begun with `seq`: the caller must drop what
   * it resolved and start again. Must be called under the user lock that `invalidate` holds
   * while calling `setSeq`, right before installing. Like `mmu_interval_read_retry()`, and one
   * step safer: also true once `remove()` was called (soon nothing would invalidate what the
   * fault installs), so the retry's `readBegin` then throws SubscriptionRemovedError and the
   * fault fails cleanly.
   */
  readRetry(seq: number): boolean {
    // Pairs with the write in setSeq(): both run under the user lock, so either the callback's
    // zap came after our install (it removes what we install) or we see its new seq.
    return this._seq !== seq;
  }

  /**
   * `readRetry` without the user lock, as a hint inside long operations: `true` is reliable
   * (bail out early), `false` may be stale. True once removed, as `readRetry`. Like
   * `mmu_interval_check_retry()`.
   */
  checkRetry(seq: number): boolean {
    return this._seq !== seq;
  }

  /**
   * Records that this subscription's range was invalidated with `curSeq`: makes every read begun
   * before it fail `readRetry`. Call it from this subscription's `invalidate` callback (also after
   * that callback awaited, until its promise settles), unconditionally, under the user lock, with
   * the `curSeq` it was given. Like `mmu_interval_set_seq()`.
   * @throws SetSeqError if no `invalidate` of this subscription is running or `curSeq` is not
   *   its value; nothing changed.
   */
  setSeq(curSeq: number): void {
    if (this._cbRunning === 0) {
      throw new SetSeqError(
        'IntervalNotifier.setSeq() called while no invalidate() callback of this subscription is running',
      );
    }
    if (curSeq !== this._cbSeq) {
      throw new SetSeqError(
        `IntervalNotifier.setSeq(${String(curSeq)}): the running invalidate() was given curSeq ${this._cbSeq}`,
      );
    }
    // Pairs with readRetry() (same user lock) and readBegin()'s compare. Once remove() was
    // called the seq stays REMOVED_SEQ: callbacks of a pending removal must not revive reads.
    if (this._seq !== REMOVED_SEQ) this._seq = curSeq;
  }

  /**
   * @internal The subscription left the tree (or never entered it): no invalidation will reach
   * what a fault installs from now on, so every read begun before must retry. `REMOVED_SEQ` is
   * never returned by `readBegin`, hence `readRetry`/`checkRetry` are true for any earlier seq
   * with no extra test on their path. A deferred removal sets it already when `remove()` is
   * called, and `setSeq` keeps it, so reads are retired from the call on.
   */
  _markRemoved(): void {
    this._node = undefined;
    this._state = SUB_REMOVED;
    this._seq = REMOVED_SEQ;
  }

  /**
   * Unsubscribes. From the call on, `readRetry`/`checkRetry` of every seq read before are true
   * and `readBegin`/`tryReadBegin` throw, so no fault of it can install any more. When no invalidation is walking the tree, the subscription leaves at once. While
   * one is (the tree is frozen), a still-pending insert is simply cancelled, and otherwise the
   * removal is deferred and the promise resolves only after that invalidation period ended and
   * the removal was applied. Once it resolves, `invalidate` is never called for this subscription
   * again, and `readRetry`/`checkRetry` of every seq read before are true. Never from inside a
   * callback of the same address space. Like `mmu_interval_notifier_remove()`.
   * @throws CallbackContextError from inside a callback; SubscriptionRemovedError if already
   *   removed or being removed (as rejections, nothing changed).
   */
  async remove(): Promise<void> {
    const mm = this._mm;
    mm.assertOutsideCallback('IntervalNotifier.remove()', 'its own invalidation');
    if (this._state === SUB_REMOVED || this._state === SUB_PENDING_REMOVE) {
      throw removedError('remove');
    }
    if (!mm.isInvalidating()) {
      // No callback runs while the state is not fully excluded: remove at once.
      mm._tree.remove(this._node!);
      this._markRemoved();
      traceRemove(mm, this, 'now');
      return;
    }
    if (this._state === SUB_PENDING_INSERT) {
      // Never was in the tree, so no callback can be running on it: cancel, no wait.
      mm._deferred.cancel(this);
      this._markRemoved();
      traceRemove(mm, this, 'cancelled');
      return;
    }
    mm._deferred.submit(this); // queued: the holder is the open busy period
    this._state = SUB_PENDING_REMOVE;
    this._seq = REMOVED_SEQ; // retired now: see _markRemoved
    traceRemove(mm, this, 'deferred');
    const seq = mm._seq;
    // Stryker disable next-line ConditionalExpression: equivalent: emit() without a tracer does nothing; the guard only saves building the event.
    if (mm._tracer !== undefined) mm.emit({ type: 'wait', sub: this, reason: 'remove', seq });
    // Pairs with invEnd: it applies the removal before it wakes us (kernel: the seq compare is
    // made under the lock, "Fix race in mmu_interval_notifier_remove()"; here one sync section).
    await mm.waitSeqChange(seq);
  }
}

function removedError(what: string): SubscriptionRemovedError {
  return new SubscriptionRemovedError(`IntervalNotifier.${what}(): the subscription was removed`);
}

function traceRemove(
  mm: MmState,
  sub: IntervalNotifier,
  how: 'now' | 'deferred' | 'cancelled',
): void {
  // Stryker disable next-line ConditionalExpression: equivalent: emit() without a tracer does nothing; the guard only saves building the event.
  if (mm._tracer !== undefined) mm.emit({ type: 'remove', sub, how, invalidateSeq: mm._seq });
}
