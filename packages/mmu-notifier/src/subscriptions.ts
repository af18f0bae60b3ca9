import { MmuNotifier, type MmuNotifierOps } from './classic-notifier.js';
import {
  CallbackContextError,
  NotifierCallbackError,
  ReleasedError,
  UnbalancedEndError,
} from './errors.js';
import type { WalkFailure } from './failure.js';
import {
  hlistAge,
  hlistInvalidateEnd,
  hlistInvalidateRangeStart,
  hlistInvalidateRangeStartNonblock,
  hlistRelease,
} from './hlist.js';
import type { IntervalNotifier, IntervalNotifierOps } from './interval-notifier.js';
import { itreeInsert, itreeInvalidate, itreeInvalidateNonblock, itreeRelease } from './itree.js';
import { type AsyncContextLike, MAX_INVALIDATE_SEQ, MmState } from './mm-state.js';
import {
  checkInterval,
  checkRange,
  checkSpan,
  type MmuNotifierRange,
  type MmuNotifierRangeInit,
  markStarted,
  prepareStarts,
  takeStarted,
} from './range.js';
import type { MmuNotifierTracer } from './trace.js';

/** Options of {@link MmuNotifierSubscriptions}. */
export interface MmuNotifierSubscriptionsOptions {
  /** Receives trace events; see {@link MmuNotifierSubscriptions.setTracer}. */
  tracer?: MmuNotifierTracer;
  /**
   * Receives the messages of rules the kernel only WARNs about (e.g. `invalidate` returned false
   * for a blockable range). Default: `console.warn`.
   */
  onWarning?: (message: string) => void;
  /**
   * An `AsyncLocalStorage` (from `node:async_hooks`) to recognise calls made from inside a
   * callback even after it awaited. Without it, only the synchronous part of a callback counts
   * as inside (see the README). Costs one `run()` per callback when set.
   */
  asyncContext?: AsyncContextLike;
  /**
   * First `invalidateSeq`: an even integer from 2 to {@link MAX_INVALIDATE_SEQ}. Default 2 (the
   * kernel's). For tests.
   */
  initialSeq?: number;
}

/**
 * How deep invalidations may nest: an invalidation started from inside a notifier callback is
 * one level deeper than the one running that callback. A start at this depth is refused with a
 * `CallbackContextError` (nothing changed), so a callback that recurses without bound fails
 * cleanly instead of overflowing the stack in the middle of the core's bookkeeping (which would
 * leave ranges counted as active forever). The kernel nests at most a level or two.
 */
export const MAX_NESTED_INVALIDATIONS = 16;

function defaultWarning(message: string): void {
  console.warn(`[@mmukit/mmu-notifier] ${message}`);
}

/**
 * The notifier state of one address space (an "mm"): its interval subscriptions, classic
 * subscribers, and the hooks the primary MMU calls around every change of its page tables.
 * Like the kernel's `struct mmu_notifier_subscriptions` and the `mmu_notifier_*` /
 * `mmu_interval_notifier_*` functions of mm/mmu_notifier.c (v5.5 and later).
 *
 * Primary MMU side, for every page table change of `[start, end)`:
 * ```ts
 * await subs.invalidateRangeStart(range);   // may wait for blockable callbacks
 * changePageTables(range);
 * subs.invalidateRangeEnd(range);
 * ```
 */
export class MmuNotifierSubscriptions {
  readonly #mm: MmState;

  /**
   * @throws RangeError if `initialSeq` is not an even integer in `[2, MAX_INVALIDATE_SEQ]`; TypeError if `tracer` or
   *   `onWarning` is not a function, or `asyncContext` lacks `run`/`getStore`.
   */
  constructor(options: MmuNotifierSubscriptionsOptions = {}) {
    const { tracer, onWarning, asyncContext } = options;
    if (tracer !== undefined && typeof tracer !== 'function') {
      throw new TypeError('MmuNotifierSubscriptions: tracer must be a function');
    }
    if (onWarning !== undefined && typeof onWarning !== 'function') {
      throw new TypeError('MmuNotifierSubscriptions: onWarning must be a function');
    }
    if (
      asyncContext !== undefined &&
      (typeof asyncContext?.run !== 'function' || typeof asyncContext.getStore !== 'function')
    ) {
      throw new TypeError('MmuNotifierSubscriptions: asyncContext must be an AsyncLocalStorage');
    }
    const seq = options.initialSeq ?? 2;
    if (
      !Number.isSafeInteger(seq) ||
      seq < 2 ||
      // Stryker disable next-line ConditionalExpression: equivalent: the one safe integer above MAX_INVALIDATE_SEQ is Number.MAX_SAFE_INTEGER, odd: refused by the parity test.
      seq > MAX_INVALIDATE_SEQ ||
      seq % 2 !== 0
    ) {
      throw new RangeError(
        `MmuNotifierSubscriptions: initialSeq must be an even integer from 2 to MAX_INVALIDATE_SEQ (${MAX_INVALIDATE_SEQ}), got ${String(seq)}`,
      );
    }
    this.#mm = new MmState(
      seq,
      options.onWarning ?? defaultWarning,
      options.tracer,
      options.asyncContext,
    );
  }

  /** `invalidate_seq`: 2 at first, odd while an interval subscription is being invalidated. */
  get invalidateSeq(): number {
    return this.#mm._seq;
  }

  /** `active_invalidate_ranges`: invalidations started (or starting) and not ended. */
  get activeInvalidateRanges(): number {
    return this.#mm._active;
  }

  /** True while `invalidateSeq` is odd: the tree is frozen, inserts and removes are deferred. */
  get isInvalidating(): boolean {
    return this.#mm.isInvalidating();
  }

  /** Number of interval subscriptions in the tree (deferred inserts not counted yet). */
  get size(): number {
    return this.#mm._tree.size;
  }

  /** Number of deferred inserts and removes waiting for the current invalidation to end. */
  get pendingDeferred(): number {
    return this.#mm._deferred.pending;
  }

  /** True once {@link release} was called. */
  get released(): boolean {
    return this.#mm._released;
  }

  /** Number of registered classic subscribers. */
  get classicCount(): number {
    return this.#mm._classic.length;
  }

  /** The interval subscriptions in the tree, in tree order (start, then insertion order). */
  *intervals(): IterableIterator<IntervalNotifier> {
    for (const node of this.#mm._tree) yield node.value;
  }

  /**
   * Sets (or with `undefined` clears) the tracer: a function called synchronously at each trace
   * point. It must not call back into this address space. One branch per point when unset.
   */
  setTracer(tracer: MmuNotifierTracer | undefined): void {
    if (tracer !== undefined && typeof tracer !== 'function') {
      throw new TypeError('setTracer: tracer must be a function or undefined');
    }
    this.#mm._tracer = tracer;
  }

  /**
   * Subscribes `ops.invalidate` to invalidations overlapping `[start, start + length)`. Takes
   * effect at once, or, while an invalidation is walking the tree, when it ends; either way the
   * new subscription's first `readBegin` waits for any invalidation active now. Establish
   * secondary mappings only through `readBegin`/`readRetry`. Never waits. Like
   * `mmu_interval_notifier_insert()`.
   * @throws TypeError / RangeError for bad `start`/`length` (length <= 0, overflow past
   *   MAX_ADDRESS) or ops without `invalidate`; ReleasedError after {@link release}.
   */
  insertInterval(start: number, length: number, ops: IntervalNotifierOps): IntervalNotifier {
    const last = checkInterval(start, length, 'insertInterval');
    if (typeof ops !== 'object' || ops === null || typeof ops.invalidate !== 'function') {
      throw new TypeError('insertInterval: ops.invalidate must be a function');
    }
    if (this.#mm._released) {
      throw new ReleasedError('insertInterval: the address space was released');
    }
    return itreeInsert(this.#mm, start, last, ops);
  }

  /**
   * Starts a blockable invalidation of `[range.start, range.end)` (sets `range.blockable =
   * true`): calls `invalidate` of every overlapping interval subscription in tree order, then
   * `invalidateRangeStart` of every classic subscriber, awaiting each callback that returns a
   * promise. On success the caller changes its page tables, then calls
   * {@link invalidateRangeEnd} with the same range. Like `mmu_notifier_invalidate_range_start()`.
   *
   * If callbacks throw or reject, the others still run, the invalidation is undone (classic
   * subscribers that started get their end) and the promise rejects with a
   * NotifierCallbackError: then do not change the page tables and do not call end.
   * @throws TypeError / RangeError for a bad range (TypeError also for a sealed or frozen range
   *   object, or one with a start not ended on another address space: starts are counted on
   *   it); RangeError once `invalidateSeq` stands at
   *   {@link MAX_INVALIDATE_SEQ}; CallbackContextError when nested
   *   {@link MAX_NESTED_INVALIDATIONS} deep in callbacks (rejections; nothing changed).
   */
  async invalidateRangeStart(init: MmuNotifierRangeInit): Promise<void> {
    const range = init as MmuNotifierRange; // `blockable` is set below, before any callback
    checkRange(range, 'invalidateRangeStart');
    const mm = this.#mm;
    checkNesting(mm, 'invalidateRangeStart');
    mm.checkSeqRoom('invalidateRangeStart');
    prepareStarts(range, mm, 'invalidateRangeStart');
    range.blockable = true;
    // Each walk answers at once unless a callback returned a promise: only then is it awaited.
    let walked = itreeInvalidate(mm, range);
    let failure = walked instanceof Promise ? await walked : walked;
    if (
      failure === undefined &&
      // Stryker disable next-line ConditionalExpression: equivalent: the walk of an empty list returns undefined at once.
      mm._classic.length !== 0
    ) {
      walked = hlistInvalidateRangeStart(mm, range);
      failure = walked instanceof Promise ? await walked : walked;
      if (failure !== undefined) mm.invEnd(); // undo the interval side too (the kernel leaks it)
    }
    if (failure === undefined) {
      markStarted(range, mm);
      return;
    }
    this.#startFailed(range, failure);
    throw new NotifierCallbackError(failure.errors, 'invalidateRangeStart');
  }

  /**
   * Starts a non-blockable invalidation (sets `range.blockable = false`), synchronously.
   * Returns true on success (then change the page tables and call {@link invalidateRangeEnd}).
   * Returns false for EAGAIN: an interval callback returned false (later overlapping ones are not
   * called, nor any classic one) or a classic start returned false (all classic ones are still
   * called, and those that started get their end); everything is already undone and the caller
   * must not change its page tables nor call end. Like
   * `mmu_notifier_invalidate_range_start_nonblock()`.
   * @throws TypeError / RangeError for a bad range (TypeError also for a sealed or frozen range
   *   object, or one with a start not ended on another address space);
   *   RangeError once `invalidateSeq` stands at {@link MAX_INVALIDATE_SEQ}; CallbackContextError
   *   when nested {@link MAX_NESTED_INVALIDATIONS} deep in callbacks (nothing changed); NotifierCallbackError if
   *   callbacks threw or returned a Promise (undone as for EAGAIN; it wins over EAGAIN).
   */
  invalidateRangeStartNonblock(init: MmuNotifierRangeInit): boolean {
    const range = init as MmuNotifierRange; // `blockable` is set below, before any callback
    checkRange(range, 'invalidateRangeStartNonblock');
    const mm = this.#mm;
    checkNesting(mm, 'invalidateRangeStartNonblock');
    mm.checkSeqRoom('invalidateRangeStartNonblock');
    prepareStarts(range, mm, 'invalidateRangeStartNonblock');
    range.blockable = false;
    let failure = itreeInvalidateNonblock(mm, range);
    if (
      failure === undefined &&
      // Stryker disable next-line ConditionalExpression: equivalent: the walk of an empty list returns undefined.
      mm._classic.length !== 0
    ) {
      failure = hlistInvalidateRangeStartNonblock(mm, range);
      if (failure !== undefined) mm.invEnd(); // undo the interval side too (the kernel leaks it)
    }
    if (failure === undefined) {
      markStarted(range, mm);
      return true;
    }
    this.#startFailed(range, failure);
    if (failure.errors.length !== 0) {
      throw new NotifierCallbackError(failure.errors, 'invalidateRangeStartNonblock');
    }
    return false;
  }

  #startFailed(range: MmuNotifierRange, failure: WalkFailure): void {
    // Stryker disable next-line ConditionalExpression: equivalent: emit() without a tracer does nothing; the guard only saves building the event.
    if (this.#mm._tracer !== undefined) {
      this.#mm.emit({
        type: 'start-failed',
        range,
        eagain: failure.eagain,
        errors: failure.errors.length,
      });
    }
  }

  /**
   * Ends an invalidation whose start succeeded, after the page tables changed: the last end of
   * a busy period makes `invalidateSeq` even, applies the deferred inserts/removes and wakes
   * `readBegin`/`remove` waiters; then every classic `invalidateRangeEnd` runs. Synchronous.
   * Like `mmu_notifier_invalidate_range_end()`.
   * Pass the same range object that was started, to the same address space.
   * @throws TypeError / RangeError for a bad range; UnbalancedEndError if this range object has no
   *   successful start on this address space left to end (nothing changed, here or anywhere);
   *   NotifierCallbackError if classic ends threw (after all ran).
   */
  invalidateRangeEnd(init: MmuNotifierRangeInit): void {
    const range = init as MmuNotifierRange; // started: `blockable` was set by the start
    checkRange(range, 'invalidateRangeEnd');
    const mm = this.#mm;
    if (!takeStarted(range, mm)) {
      throw new UnbalancedEndError(
        'invalidateRangeEnd() without a matching successful invalidateRangeStart() of this range object on this address space',
      );
    }
    let errors: unknown[] | undefined;
    try {
      mm.invEnd();
    } /* Stryker disable next-line BlockStatement: equivalent: unreachable: invEnd() throws only if the deferred drain does, and applyDeferred() (a tree insert or removal of a checked node) does not throw. */ catch (error) {
      // Stryker disable next-line ArrayDeclaration: equivalent: unreachable, as the catch above.
      errors = [error]; // only if the deferred drain failed: a bug, reported with the rest
    }
    // Stryker disable next-line ConditionalExpression: equivalent: emit() without a tracer does nothing; the guard only saves building the event.
    if (mm._tracer !== undefined)
      mm.emit({ type: 'end', range, invalidateSeq: mm._seq, active: mm._active });
    // Stryker disable next-line ConditionalExpression: equivalent: the ends of an empty list return undefined.
    if (mm._classic.length !== 0) {
      const classicErrors = hlistInvalidateEnd(mm, range);
      if (classicErrors !== undefined) errors = (errors ?? []).concat(classicErrors);
    }
    if (errors !== undefined) throw new NotifierCallbackError(errors, 'invalidateRangeEnd');
  }

  /**
   * Tears the address space down (process exit): every interval subscription gets one blockable
   * `invalidate` with event `'release'` over `[0, MAX_ADDRESS)` (they stay subscribed; owners
   * still `remove()` them), then every classic subscriber's `release`, after which they are
   * unregistered. Later inserts and registrations fail. Runs once. Like
   * `__mmu_notifier_release()`.
   * @throws ReleasedError if already called; RangeError once `invalidateSeq` stands at
   *   {@link MAX_INVALIDATE_SEQ} (nothing changed); NotifierCallbackError if callbacks failed
   *   (after all ran and the bookkeeping is complete).
   */
  async release(): Promise<void> {
    const mm = this.#mm;
    if (mm._released) throw new ReleasedError('release: already called');
    mm.checkSeqRoom('release');
    mm._released = true;
    let errors: unknown[] = [];
    const failure = await itreeRelease(mm);
    if (failure !== undefined) errors = errors.concat(failure.errors);
    if (mm._classic.length !== 0) {
      const classicErrors = await hlistRelease(mm);
      if (classicErrors !== undefined) errors = errors.concat(classicErrors);
    }
    if (errors.length !== 0) throw new NotifierCallbackError(errors, 'release');
  }

  /**
   * Registers a classic subscriber (all ops optional). It is called before older subscribers and
   * after every interval subscription. Registered during an invalidation, it may get that
   * invalidation's end without its start, as in the kernel. Like `mmu_notifier_register()`.
   * @throws TypeError if `ops` is not an object or a given op is not a function; ReleasedError
   *   after {@link release}.
   */
  register(ops: MmuNotifierOps): MmuNotifier {
    if (typeof ops !== 'object' || ops === null) {
      throw new TypeError('register: ops must be an object');
    }
    for (const key of OP_NAMES) {
      const fn = ops[key];
      if (fn !== undefined && typeof fn !== 'function') {
        throw new TypeError(`register: ops.${key} must be a function when given`);
      }
    }
    const mm = this.#mm;
    if (mm._released) throw new ReleasedError('register: the address space was released');
    const sub = MmuNotifier._create(mm, ops);
    mm._classic = [sub, ...mm._classic]; // newest first, as hlist_add_head_rcu()
    return sub;
  }

  /**
   * Asks every classic subscriber to clear the accessed bits of `[start, end)` and flush;
   * returns true if any was young (all are called: results are OR'd). Synchronous. Like
   * `mmu_notifier_clear_flush_young()`.
   * @throws TypeError / RangeError for a bad span; NotifierCallbackError if callbacks threw or
   *   returned a Promise (after all ran).
   */
  clearFlushYoung(start: number, end: number): boolean {
    checkSpan(start, end, 'clearFlushYoung');
    return hlistAge(this.#mm, 'clearFlushYoung', start, end);
  }

  /** As {@link clearFlushYoung} without the flush. Like `mmu_notifier_clear_young()`. */
  clearYoung(start: number, end: number): boolean {
    checkSpan(start, end, 'clearYoung');
    return hlistAge(this.#mm, 'clearYoung', start, end);
  }

  /**
   * True if a classic subscriber reports `[start, end)` young; stops at the first that does
   * (later ones are not called). Like `mmu_notifier_test_young()`.
   * @throws as {@link clearFlushYoung}.
   */
  testYoung(start: number, end: number): boolean {
    checkSpan(start, end, 'testYoung');
    return hlistAge(this.#mm, 'testYoung', start, end);
  }
}

const OP_NAMES = [
  'release',
  'invalidateRangeStart',
  'invalidateRangeEnd',
  'clearFlushYoung',
  'clearYoung',
  'testYoung',
] as const;

/** Refuses a start nested {@link MAX_NESTED_INVALIDATIONS} deep in callbacks (nothing changed). */
function checkNesting(mm: MmState, what: string): void {
  if (mm._depth >= MAX_NESTED_INVALIDATIONS) {
    throw new CallbackContextError(
      `${what}: invalidations nested more than ${MAX_NESTED_INVALIDATIONS} deep from inside callbacks (runaway recursion?)`,
    );
  }
}
