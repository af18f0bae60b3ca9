import { NotifierCallbackError, SubscriptionRemovedError } from './errors.js';
import { hlistUnregister } from './hlist.js';
import { checkInternal, INTERNAL, type MmState } from './mm-state.js';
import type { MmuNotifierRange } from './range.js';

/**
 * A classic subscriber's callbacks, all optional. Like the kernel's `struct mmu_notifier_ops`
 * (without the kernel-only ones). Subscribers are called newest first (the kernel's
 * `hlist_add_head_rcu()`), after every interval subscription.
 */
export interface MmuNotifierOps {
  /**
   * The address space is torn down ({@link MmuNotifierSubscriptions.release}) or this subscriber
   * unregisters: drop every secondary mapping and make no new ones. May await. Called once,
   * except that an `unregister()` racing a `release()` of the address space (while an async
   * `release` is pending) may call it a second time, as in the kernel: make it idempotent.
   */
  release?(sub: MmuNotifier): void | Promise<void>;
  /**
   * Before the primary MMU changes `[range.start, range.end)`. May await only when
   * `range.blockable`. Returning `false` means EAGAIN ("would block") and is allowed only for a
   * non-blockable range; any other result (including none) is success. A subscriber whose start
   * can fail should not also have an end (it cannot tell whether its end pairs with a start).
   */
  invalidateRangeStart?(
    sub: MmuNotifier,
    range: MmuNotifierRange,
  ): boolean | undefined | Promise<boolean | undefined>;
  /** After the change; pairs with a successful start. Synchronous (must not return a Promise). */
  invalidateRangeEnd?(sub: MmuNotifier, range: MmuNotifierRange): void;
  /** Clear the accessed bits of `[start, end)` and flush; return whether any was set. */
  clearFlushYoung?(sub: MmuNotifier, start: number, end: number): boolean;
  /** Clear the accessed bits of `[start, end)` (no flush needed); return whether any was set. */
  clearYoung?(sub: MmuNotifier, start: number, end: number): boolean;
  /** Return whether any page of `[start, end)` was accessed, without clearing. */
  testYoung?(sub: MmuNotifier, start: number, end: number): boolean;
}

/**
 * A classic subscriber, made by {@link MmuNotifierSubscriptions.register}. Like the kernel's
 * `struct mmu_notifier` (`mmu_notifier_register()` / `mmu_notifier_unregister()`).
 */
export class MmuNotifier {
  /** @internal */
  readonly _mm: MmState;
  /** @internal */
  readonly _ops: MmuNotifierOps;
  /** @internal on the list (`!hlist_unhashed()`) */
  _hashed = true;
  /** @internal `unregister()` was called */
  _unregistered = false;

  /** @internal Made by `register` (subscriptions.ts) only. */
  static _create(mm: MmState, ops: MmuNotifierOps): MmuNotifier {
    return new MmuNotifier(INTERNAL, mm, ops);
  }

  /**
   * Not constructible by users (a type error, and a TypeError at run time): subscribers are
   * made by {@link MmuNotifierSubscriptions.register}. `token` is private to the package.
   */
  private constructor(token: typeof INTERNAL, mm: MmState, ops: MmuNotifierOps) {
    checkInternal(token, 'MmuNotifier', 'register');
    this._mm = mm;
    this._ops = ops;
  }

  /** The operations given at registration. */
  get ops(): MmuNotifierOps {
    return this._ops;
  }

  /** True until it is unregistered or the address space is released. */
  get registered(): boolean {
    return this._hashed;
  }

  /**
   * Unsubscribes: if still registered, calls `release` (the only way it learns to drop its
   * mappings) and takes it off the list; then waits until every classic callback walk begun
   * before that has ended (walks begun later cannot see it). Afterwards none of its methods runs or will run.
   * Call it exactly once, also after the address space was released. Like
   * `mmu_notifier_unregister()`.
   * @throws CallbackContextError from inside a callback; SubscriptionRemovedError when called
   *   twice; NotifierCallbackError if `release` failed (it is unregistered anyway).
   */
  async unregister(): Promise<void> {
    const mm = this._mm;
    mm.assertOutsideCallback('MmuNotifier.unregister()', 'its own walk');
    if (this._unregistered) {
      throw new SubscriptionRemovedError('MmuNotifier.unregister(): already unregistered');
    }
    this._unregistered = true;
    const errors = await hlistUnregister(mm, this);
    if (errors !== undefined) throw new NotifierCallbackError(errors, 'MmuNotifier.unregister');
  }
}
