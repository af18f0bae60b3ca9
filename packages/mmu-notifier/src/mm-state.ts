import { DeferredList } from '@mmukit/deferred-list';
import { IntervalTree } from '@mmukit/interval-tree';
import { Srcu } from '@mmukit/seqcount';
import type { MmuNotifier } from './classic-notifier.js';
import { CallbackContextError } from './errors.js';
import type { IntervalNotifier } from './interval-notifier.js';
import type { ItreeWalk } from './itree-walk.js';
import type { MmuNotifierTraceEvent, MmuNotifierTracer } from './trace.js';
import { WaitQueue } from './wait-queue.js';

/** `IntervalNotifier._state`: where the subscription is (kernel: `RB_EMPTY_NODE()` + list). */
export const SUB_PENDING_INSERT = 0; // on the deferred list, not yet in the tree
export const SUB_IN_TREE = 1;
export const SUB_PENDING_REMOVE = 2; // in the tree and on the deferred list
export const SUB_REMOVED = 3;

/**
 * The largest value `invalidateSeq` takes: the largest even safe integer. A busy period adds 2,
 * so once the sequence stands here no start may begin (it could not turn odd and back and stay
 * exact); starts and `release()` are refused with a RangeError and nothing changes. At a million
 * busy periods a second, that is over a century from the default initial value.
 */
export const MAX_INVALIDATE_SEQ: number = Number.MAX_SAFE_INTEGER - 1;

/**
 * Passed by the core to the subscription constructors. Not exported from the package, so users
 * can neither name its type nor pass it: `new IntervalNotifier()` / `new MmuNotifier()` is a
 * type error and throws a TypeError (use `insertInterval` / `register`).
 */
export const INTERNAL: unique symbol = Symbol('mmukit.mmu-notifier.internal');

/** The constructors' guard: a TypeError unless `token` is {@link INTERNAL}. */
export function checkInternal(token: unknown, cls: string, factory: string): void {
  if (token !== INTERNAL) {
    throw new TypeError(`${cls} is not constructible: use MmuNotifierSubscriptions.${factory}()`);
  }
}

/**
 * The part of Node's `AsyncLocalStorage` the core uses to tell whether a call comes from inside a
 * notifier callback even after the callback's first `await` (optional, see the README).
 */
export interface AsyncContextLike {
  /** Runs `fn` with `store` as the current store (`AsyncLocalStorage#run`). */
  run<R>(store: unknown, fn: () => R): R;
  /** The store of the current async context, or `undefined` (`AsyncLocalStorage#getStore`). */
  getStore(): unknown;
}

/**
 * The per-address-space state (the kernel's `struct mmu_notifier_subscriptions`), internal.
 *
 * THE COLLISION-RETRY "LOCK"
 *
 * `_seq` (`invalidate_seq`) and `_active` (`active_invalidate_ranges`) form a read/write scheme
 * like a seqcount, except that any number of writers may hold the write side at once (the
 * primary MMU nests invalidations and runs them in parallel; nothing here may block it). A
 * writer is an invalidation between its start and its end. The write side has two states:
 *
 *   idle                `_active === 0`, `_seq` even.
 *   partially excluded  `_active > 0`,  `_seq` even: ranges are being invalidated but none
 *                       overlaps an interval subscription; the tree may change.
 *   fully excluded      `_active > 0`,  `_seq` odd: some subscription overlaps an active
 *                       range; the tree is frozen (changes go to the deferred list) so the
 *                       callback walks need no lock. We also call this "invalidating".
 *
 * Transitions, each in one synchronous section (the kernel's `subscriptions->lock`):
 *   begin writing   `_seq` even -> odd (`seq |= 1`): a start whose range overlaps a
 *                   subscription, or an insert while partially excluded (`beginWrite`).
 *   release         `_seq` odd -> even (`seq++`): the last end (`invEnd`); then the deferred
 *                   inserts/removes are applied and every waiter is woken.
 *   test            `_seq` odd (`isInvalidating`).
 * One busy period therefore advances `_seq` by exactly 2, however many ranges it held, and all
 * ranges of the period share its odd value as their `curSeq`.
 *
 * The read side is per subscription: `sub._seq` is always odd. An `invalidate` callback sets it
 * to `curSeq` under the user's lock (`setSeq`); a reader that saw another value before resolving
 * the page sees the change under the same lock (`readRetry`) and retries. `readBegin` waits only
 * when `sub._seq === _seq`: this subscription was hit by (or inserted during) the busy period
 * that is still open, so any read begun now would collide.
 *
 * Sequence values are safe integers and never wrap; parity is tested with `% 2`, never with
 * 32-bit bitwise operators. `_seq` never exceeds MAX_INVALIDATE_SEQ: a busy period may begin
 * only while there is room for both of its steps (`checkSeqRoom`), which gives 2^52 busy periods.
 */
export class MmState {
  /** `invalidate_seq`: starts at 2; odd while invalidating. */
  _seq: number;
  /** `active_invalidate_ranges`: starts not yet matched by their end (or undone). */
  _active = 0;
  readonly _tree = new IntervalTree<IntervalNotifier>();
  /** `deferred_list`: one holder per busy period, entered by `beginWrite`, exited by `invEnd`. */
  readonly _deferred: DeferredList<IntervalNotifier>;
  /** `wq`: `readBegin` and `remove` wait here for `_seq` to move on. */
  readonly _wq = new WaitQueue();
  /** Nesting depth of synchronously running notifier callbacks (misuse detection). */
  _depth = 0;
  _als: AsyncContextLike | undefined;
  _tracer: MmuNotifierTracer | undefined;
  _onWarning: (message: string) => void;
  _released = false;
  /** Classic subscribers, newest first (`hlist_add_head_rcu`); replaced, never mutated. */
  _classic: readonly MmuNotifier[] = [];
  /**
   * The SRCU read side of the classic list: walks that may be suspended at an await hold a
   * read-side section; `unregister()` and `release()` wait with `synchronize()` for the walks
   * that began before them only, so overlapping newer walks cannot starve them.
   */
  readonly _srcu = new Srcu();
  /** Items applied by the drain in progress, for the `wake` trace event. */
  _applied = 0;
  /** Reusable tree walkers, one per nesting level of invalidations (see `ItreeWalk`). */
  readonly _walks: ItreeWalk[] = [];
  _walkDepth = 0;

  constructor(
    initialSeq: number,
    onWarning: (message: string) => void,
    tracer: MmuNotifierTracer | undefined,
    als: AsyncContextLike | undefined,
  ) {
    this._seq = initialSeq;
    this._onWarning = onWarning;
    this._tracer = tracer;
    this._als = als;
    this._deferred = new DeferredList<IntervalNotifier>((sub) => this.applyDeferred(sub));
  }

  /** `mn_itree_is_invalidating()`: the write side is fully excluded. */
  isInvalidating(): boolean {
    return this._seq % 2 === 1;
  }

  /** True while a notifier callback of this address space runs (see `CallbackContextError`). */
  insideCallback(): boolean {
    return this._depth !== 0 || (this._als !== undefined && this._als.getStore() === this);
  }

  /**
   * Throws a `CallbackContextError` if called from inside a notifier callback of this address
   * space: `what` (e.g. `'IntervalNotifier.remove()'`) would wait for `waitsFor`, which cannot
   * end before that callback returns.
   */
  assertOutsideCallback(what: string, waitsFor: string): void {
    if (this.insideCallback()) {
      throw new CallbackContextError(
        `${what} called from inside a notifier callback of the same address space (it would wait for ${waitsFor})`,
      );
    }
  }

  /**
   * Throws a RangeError (nothing changed) if a busy period beginning now could pass
   * MAX_INVALIDATE_SEQ. Called by every start and by release before they change anything.
   * An open busy period (odd `_seq`, at most MAX_INVALIDATE_SEQ - 1) can always be joined: its
   * end brings the sequence to at most MAX_INVALIDATE_SEQ. So `beginWrite` never passes it: an
   * insert can begin writing only while a start is active, and no start is active at the ceiling.
   */
  checkSeqRoom(what: string): void {
    if (this._seq === MAX_INVALIDATE_SEQ) {
      throw new RangeError(
        `${what}: invalidateSeq reached MAX_INVALIDATE_SEQ (${MAX_INVALIDATE_SEQ}); no further invalidation can begin`,
      );
    }
  }

  /**
   * Begin writing (`seq |= 1`) if not already: from here until the last end the tree is frozen,
   * so the busy period takes the deferred list's single hold. Pairs with `invEnd`'s exit.
   */
  beginWrite(): void {
    if (this._seq % 2 === 1) return;
    this._seq += 1;
    this._deferred.enter();
  }

  /**
   * `mn_itree_inv_end()`: one range less. The last one out of a fully excluded period releases
   * the write side (`_seq` even), applies the deferred tree changes, then wakes every waiter.
   * Order matters: a woken `remove()` relies on its deferred removal being applied already.
   */
  invEnd(): void {
    // The exit below pairs with the enter() in beginWrite(): one hold per busy period.
    if (--this._active !== 0 || this._seq % 2 === 0) return;
    this._seq += 1;
    this._applied = 0;
    try {
      this._deferred.exit(); // drains: applyDeferred() per item, in FIFO order
    } finally {
      this._wq.wakeAll();
      // Stryker disable next-line ConditionalExpression: equivalent: emit() without a tracer does nothing; the guard only saves building the event.
      if (this._tracer !== undefined)
        this.emit({ type: 'wake', invalidateSeq: this._seq, applied: this._applied });
    }
  }

  /**
   * One deferred tree change, run by the drain in `invEnd` (never while invalidating): a pending
   * insert goes into the tree, a pending removal leaves it. Like the loop body in
   * `mn_itree_inv_end()`, which tells them apart with `RB_EMPTY_NODE()`.
   */
  applyDeferred(sub: IntervalNotifier): void {
    this._applied++;
    if (sub._state === SUB_PENDING_INSERT) {
      sub._node = this._tree.insert(sub.start, sub.last, sub);
      sub._state = SUB_IN_TREE;
    } else if (
      // Stryker disable next-line ConditionalExpression: equivalent: queued items are pending inserts or pending removals only (remove() of a pending insert cancels it off the list).
      sub._state === SUB_PENDING_REMOVE
    ) {
      this._tree.remove(sub._node!);
      sub._markRemoved();
    }
  }

  /** Waits until `_seq !== seq` (`wait_event(wq, ...)`): the busy period of `seq` ended. */
  async waitSeqChange(seq: number): Promise<void> {
    while (this._seq === seq) await this._wq.wait();
  }

  /**
   * Sends `event` to the tracer. Observability must not break the core: a tracer that throws is
   * reported to the warning sink and otherwise ignored. Call sites test `_tracer !== undefined`
   * first, so an unset tracer costs one branch and no event object.
   */
  emit(event: MmuNotifierTraceEvent): void {
    try {
      // Stryker disable next-line OptionalChaining: equivalent: every caller tests `_tracer !== undefined` first.
      this._tracer?.(event);
    } catch (error) {
      this.sink(`the tracer threw on a ${event.type} event: ${String(error)}`);
    }
  }

  /** Reports a rule the kernel only WARNs about, to the tracer and the warning sink. */
  warn(message: string): void {
    // Stryker disable next-line ConditionalExpression: equivalent: emit() without a tracer does nothing; the guard only saves building the event.
    if (this._tracer !== undefined) this.emit({ type: 'warning', message });
    this.sink(message);
  }

  /** Calls the warning sink; one that throws is ignored (it has nowhere else to go). */
  sink(message: string): void {
    try {
      this._onWarning(message);
    } catch {
      // ignored: see above
    }
  }
}
