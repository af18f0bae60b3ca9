import { checkLockLike } from '@mmukit/seqcount';
import type { UserLock } from './mmu-lock.js';
import type { InvalidationTrackerLike } from './tracker-like.js';
import { checkFunction, checkIndex } from './validate.js';

/**
 * One memslot: `npages` guest frames from `baseGfn` backed by the host addresses from
 * `userspaceAddr` (KVM's `struct kvm_memory_slot`: `base_gfn`, `npages`, `userspace_addr`).
 * All safe integers >= 0, `npages >= 1`; `userspaceAddr` a multiple of the page size.
 */
export interface KvmMemslot {
  /** First host address of the slot (`userspace_addr`). */
  userspaceAddr: number;
  /** First guest frame number of the slot (`base_gfn`). */
  baseGfn: number;
  /** Number of pages (`npages`). */
  npages: number;
}

/**
 * The invalidation range the ops receive: `[start, end)` in host addresses, and whether the
 * callback may wait. mmu-notifier's `MmuNotifierRange` fits (its `event`/`owner` are ignored,
 * as KVM ignores them). The same object must be passed to the start and to its end.
 */
export interface KvmNotifierRange {
  /** First address of the range. */
  start: number;
  /** One past the last address. */
  end: number;
  /** True when the start may wait (await) for the lock; anything else counts as false. */
  blockable?: boolean;
}

/** What the ops need of a tracker: KVM's `kvm_mmu_invalidate_begin/range_add/end`. */
export type KvmNotifierTracker = Pick<InvalidationTrackerLike, 'begin' | 'rangeAdd' | 'end'>;

/** Options of {@link kvmNotifierOps}. */
export interface KvmNotifierOptions {
  /** The VM's tracker; its mutators are called only with `lock` held. */
  tracker: KvmNotifierTracker;
  /** The MMU lock: the same lock the fault path (faultWithRetry) takes around its check. */
  lock: UserLock;
  /**
   * The memslots: an array (or any iterable that can be walked again), read at every start, or
   * a function returning the current ones. Change them only inside
   * {@link KvmNotifier.waitForInvalidations}'s callback (see there).
   */
  memslots: Iterable<KvmMemslot> | (() => Iterable<KvmMemslot>);
  /**
   * Addresses per page (default 1: addresses are page numbers). A safe integer >= 1. An address
   * range covers the gfns of every page it touches, as KVM rounds `hva_end` up to a page.
   */
  pageSize?: number;
  /**
   * Drops the secondary mappings of the gfns `[gfnStart, gfnEnd)` (KVM's
   * `kvm_unmap_gfn_range()`): called once per overlapping memslot, under the lock, right after
   * that slot's `rangeAdd()`. Synchronous (a returned promise is not awaited). If it throws, the
   * start fails with that error and is undone: `end()` under the same lock hold (which bumps
   * `seq`: harmless), the count dropped, the lock released.
   */
  zap(gfnStart: number, gfnEnd: number, range: KvmNotifierRange): void;
}

/**
 * The classic notifier ops of a KVM-style secondary MMU (structurally an mmu-notifier
 * `MmuNotifierOps`: register it with `subs.register(ops)`), plus the accounting a memslot change
 * needs (KVM's `mn_active_invalidate_count` and `mn_memslots_update_rcuwait`).
 */
export interface KvmNotifier {
  /**
   * `kvm_mmu_notifier_invalidate_range_start()`: counts the invalidation, then, if a memslot
   * overlaps `[range.start, range.end)`, takes the lock and does `begin()`, then per overlapping
   * slot `rangeAdd(gfnStart, gfnEnd)` and `zap(gfnStart, gfnEnd)`, and unlocks. No overlapping
   * slot: the lock is not taken and the tracker is not touched. The lock is taken with
   * `tryLock()`; if it is held, a blockable range waits with `lock()` (a promise is returned when
   * `lock()` returns one), a non-blockable one returns `false` (EAGAIN) with nothing changed.
   * Otherwise returns `true` (or a promise of it).
   * @throws TypeError/RangeError for a bad range or memslot (nothing changed); whatever `zap`,
   *   the tracker or the lock throws (undone, see {@link KvmNotifierOptions.zap}).
   */
  invalidateRangeStart(sub: unknown, range: KvmNotifierRange): boolean | Promise<boolean>;
  /**
   * `kvm_mmu_notifier_invalidate_range_end()`: pairs with the successful start of the same range
   * object: if that start did `begin()`, `end()` under the lock; then the count drops, and a
   * memslot change waiting for 0 is woken. Synchronous: if the lock is held and `lock()` returns
   * a promise, the `end()` (and the count drop) happen once it resolves, so `inProgress` stays
   * raised a little longer (faults retry meanwhile, which is safe). An end for a start that
   * returned `false` (the mmu-notifier core still calls it, as the kernel does) or for a start
   * these ops never saw (registered during an invalidation) changes nothing.
   * @throws TypeError/RangeError for a bad range; what the tracker or the lock throws.
   */
  invalidateRangeEnd(sub: unknown, range: KvmNotifierRange): void;
  /** `mn_active_invalidate_count`: starts that succeeded (or are waiting for the lock), not ended. */
  readonly activeInvalidations: number;
  /**
   * Waits until `activeInvalidations` is 0 (at once if it is), then runs `change`
   * synchronously, before any other start can count itself, and resolves to its result; the
   * promise rejects with what `change` throws. This is where memslots change:
   * kvm_swap_active_memslots() waits for `mn_active_invalidate_count` to be 0 and swaps the
   * memslots under the same spinlock, so that a start and its end see the same memslots (else
   * the begin()/end() pairing and the ranges protected would be wrong).
   *
   * Not fair, as in KVM: new starts are never held back while a change waits; the waiter is
   * woken whenever the count drops to 0 and checks again, so invalidations that keep
   * overlapping postpone it (KVM accepted this, "Losing the rwsem fairness does theoretically
   * allow MMU notifiers to block install_new_memslots forever").
   * @throws TypeError (as a rejection) if `change` is given and is not a function.
   */
  waitForInvalidations(): Promise<void>;
  /**
   * The same wait, then `change()` runs synchronously before any other start can count itself;
   * resolves to its result, or rejects with what it throws.
   */
  waitForInvalidations<T>(change: () => T): Promise<T>;
}

// What a start left for its end, per range object (a stack: one range object may be started
// more than once before its ends). EAGAIN: the start returned false; COUNTED: counted, no
// memslot overlapped; BEGUN: counted and begin() done.
const EAGAIN = 0;
const COUNTED = 1;
const BEGUN = 2;
type StartRecord = typeof EAGAIN | typeof COUNTED | typeof BEGUN;

/** TypeError/RangeError unless `range` is an object with `0 <= start < end` safe integers. */
function checkNotifierRange(range: KvmNotifierRange, what: string): void {
  if (typeof range !== 'object' || range === null) {
    throw new TypeError(`${what}: range must be an object with start and end`);
  }
  checkIndex(range.start, `${what}: range.start`);
  checkIndex(range.end, `${what}: range.end`);
  if (range.start >= range.end) {
    throw new RangeError(`${what}: empty range [${range.start}, ${range.end})`);
  }
}

/**
 * Builds the classic notifier ops that keep a KVM-style tracker in step with the primary MMU,
 * following virt/kvm/kvm_main.c (`kvm_mmu_notifier_invalidate_range_start/end`,
 * `__kvm_handle_hva_range`, `kvm_mmu_unmap_gfn_range`, `kvm_swap_active_memslots`):
 *
 * ```ts
 * const kvm = kvmNotifierOps({ tracker, lock, memslots, zap: (s, e) => sptes.zap(s, e) });
 * subs.register(kvm); // mmu-notifier's MmuNotifierSubscriptions
 * // fault: faultWithRetry({ tracker, lock, gfn, resolve, install })
 * // memslot change: await kvm.waitForInvalidations(() => memslots.push(slot))
 * ```
 * @throws TypeError/RangeError for bad options.
 */
export function kvmNotifierOps(options: KvmNotifierOptions): KvmNotifier {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('kvmNotifierOps: options must be an object');
  }
  const { tracker, lock, memslots, zap } = options;
  if (typeof tracker !== 'object' || tracker === null) {
    throw new TypeError('kvmNotifierOps: tracker must be an InvalidationTracker-like object');
  }
  checkFunction(tracker.begin, 'kvmNotifierOps: tracker.begin');
  checkFunction(tracker.rangeAdd, 'kvmNotifierOps: tracker.rangeAdd');
  checkFunction(tracker.end, 'kvmNotifierOps: tracker.end');
  checkLockLike(lock, 'kvmNotifierOps');
  let readSlots: () => Iterable<KvmMemslot>;
  if (typeof memslots === 'function') readSlots = memslots;
  else if (
    typeof memslots === 'object' &&
    memslots !== null &&
    typeof memslots[Symbol.iterator] === 'function'
  ) {
    readSlots = () => memslots;
  } else {
    throw new TypeError('kvmNotifierOps: memslots must be an iterable or a function');
  }
  checkFunction(zap, 'kvmNotifierOps: zap');
  const pageSize = options.pageSize ?? 1;
  checkIndex(pageSize, 'kvmNotifierOps: pageSize');
  if (pageSize === 0) throw new RangeError('kvmNotifierOps: pageSize must be at least 1');

  const records = new WeakMap<object, StartRecord[]>();
  let active = 0; // mn_active_invalidate_count
  let waiters: Array<() => void> = []; // mn_memslots_update_rcuwait

  const push = (range: object, record: StartRecord): void => {
    const stack = records.get(range);
    if (stack === undefined) records.set(range, [record]);
    else stack.push(record);
  };

  /** One invalidation fewer; wakes the memslot changes waiting for 0 (they check again). */
  const drop = (): void => {
    active--;
    // Stryker disable next-line ConditionalExpression,LogicalOperator: equivalent: a change woken early checks `active` again and waits again.
    if (active === 0 && waiters.length !== 0) {
      const woken = waiters;
      waiters = [];
      for (const wake of woken) wake();
    }
  };

  /**
   * The gfn ranges `[gfnStart, gfnEnd)` of every memslot overlapping the address range, in slot
   * order (`kvm_for_each_memslot_in_hva_range` + `hva_to_gfn_memslot`, with `hva_end` rounded up
   * to a page). Validates every slot it reads; throws before anything changes.
   */
  const overlapping = (range: KvmNotifierRange): number[] => {
    const out: number[] = [];
    for (const slot of readSlots()) {
      if (typeof slot !== 'object' || slot === null) {
        throw new TypeError('kvmNotifierOps: a memslot must be an object');
      }
      const { userspaceAddr, baseGfn, npages } = slot;
      checkIndex(userspaceAddr, 'memslot.userspaceAddr');
      checkIndex(baseGfn, 'memslot.baseGfn');
      checkIndex(npages, 'memslot.npages');
      if (npages === 0) throw new RangeError('memslot.npages must be at least 1');
      if (userspaceAddr % pageSize !== 0) {
        throw new RangeError(
          `memslot.userspaceAddr ${userspaceAddr} is not a multiple of the page size ${pageSize}`,
        );
      }
      const slotEnd = userspaceAddr + npages * pageSize;
      if (!Number.isSafeInteger(slotEnd) || !Number.isSafeInteger(baseGfn + npages)) {
        throw new RangeError('memslot ends past Number.MAX_SAFE_INTEGER');
      }
      const hvaStart = Math.max(range.start, userspaceAddr);
      const hvaEnd = Math.min(range.end, slotEnd);
      if (hvaStart >= hvaEnd) continue;
      out.push(
        baseGfn + Math.floor((hvaStart - userspaceAddr) / pageSize),
        baseGfn + Math.ceil((hvaEnd - userspaceAddr) / pageSize),
      );
    }
    return out;
  };

  /**
   * Under the lock (held on entry, released here): begin(), then rangeAdd + zap per slot
   * (`kvm_mmu_invalidate_begin` as `on_lock`, `kvm_mmu_unmap_gfn_range` as the handler). On a
   * throw the start is undone before the error propagates.
   */
  const startLocked = (range: KvmNotifierRange, gfns: number[]): true => {
    try {
      tracker.begin();
    } catch (error) {
      lock.unlock();
      drop();
      throw error;
    }
    try {
      for (let i = 0; i < gfns.length; i += 2) {
        tracker.rangeAdd(gfns[i]!, gfns[i + 1]!);
        zap(gfns[i]!, gfns[i + 1]!, range);
      }
    } catch (error) {
      try {
        tracker.end(); // pairs with the begin() above; bumps seq, which only causes retries
      } finally {
        lock.unlock();
        drop();
      }
      throw error;
    }
    lock.unlock();
    push(range, BEGUN);
    return true;
  };

  const endLocked = (): void => {
    try {
      tracker.end();
    } finally {
      lock.unlock();
      drop(); // after end(), as KVM drops mn_active_invalidate_count after the locked part
    }
  };

  function invalidateRangeStart(
    _sub: unknown,
    range: KvmNotifierRange,
  ): boolean | Promise<boolean> {
    checkNotifierRange(range, 'invalidateRangeStart');
    const gfns = overlapping(range);
    // Counted before the lock is taken (and kept while waiting for it), so that no memslot
    // change can happen between this start and its end.
    active++;
    if (gfns.length === 0) {
      push(range, COUNTED); // no memslot: no lock, no begin() (KVM skips mmu_lock too)
      return true;
    }
    let free: boolean;
    try {
      free = lock.tryLock();
    } catch (error) {
      drop();
      throw error;
    }
    if (free) return startLocked(range, gfns);
    if (range.blockable !== true) {
      // KVM spins on mmu_lock here and never fails; an async lock cannot be spun on: EAGAIN.
      drop();
      push(range, EAGAIN); // consumed by the end the core calls after a failed start
      return false;
    }
    let waiting: void | PromiseLike<void>;
    try {
      waiting = lock.lock();
    } catch (error) {
      drop();
      throw error;
    }
    if (waiting === undefined) return startLocked(range, gfns); // a blocking lock: held now
    return Promise.resolve(waiting).then(
      () => startLocked(range, gfns),
      (error: unknown) => {
        drop();
        throw error;
      },
    );
  }

  function invalidateRangeEnd(_sub: unknown, range: KvmNotifierRange): void {
    checkNotifierRange(range, 'invalidateRangeEnd');
    const record = records.get(range)?.pop();
    if (record === undefined || record === EAGAIN) return;
    if (record === COUNTED) {
      drop();
      return;
    }
    // If taking the lock throws, nothing changed: the record goes back, the end can be retried.
    let free: boolean;
    try {
      free = lock.tryLock();
    } catch (error) {
      push(range, BEGUN);
      throw error;
    }
    if (free) {
      endLocked();
      return;
    }
    let waiting: void | PromiseLike<void>;
    try {
      waiting = lock.lock();
    } catch (error) {
      push(range, BEGUN);
      throw error;
    }
    if (waiting === undefined) {
      endLocked(); // a blocking lock: held now
      return;
    }
    // An async lock that is held: the end must not wait (it is synchronous), so end() runs once
    // the lock is ours. Until then inProgress stays raised: faults covering the range retry.
    void Promise.resolve(waiting).then(endLocked);
  }

  async function waitForInvalidations<T>(change?: () => T): Promise<T | undefined> {
    if (change !== undefined) checkFunction(change, 'waitForInvalidations: change');
    // kvm_swap_active_memslots(): while (mn_active_invalidate_count) schedule();
    while (active !== 0) await new Promise<void>((wake) => waiters.push(wake));
    return change?.();
  }

  return {
    invalidateRangeStart,
    invalidateRangeEnd,
    get activeInvalidations() {
      return active;
    },
    waitForInvalidations: waitForInvalidations as KvmNotifier['waitForInvalidations'],
  };
}
