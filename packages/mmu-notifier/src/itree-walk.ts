import type { IntervalNode } from '@mmukit/interval-tree';
import { addEagain, addError, isThenable, rejectPromise, type WalkFailure } from './failure.js';
import { type IntervalNotifier, REMOVED_SEQ } from './interval-notifier.js';
import type { MmState } from './mm-state.js';
import type { MmuNotifierRange } from './range.js';

/**
 * One synchronous stretch of `mn_itree_invalidate()`: it calls `invalidate` for each overlapping
 * subscription, in tree order, until one returns a promise (blockable: the stretch stops there;
 * the caller awaits it, then starts the next stretch after that node) or `false` (non-blockable:
 * EAGAIN, the walk stops). The first stretch visits through `IntervalTree.forEachOverlap` (the
 * tree's allocation-free walk); later ones continue with `iterNext` (same nodes, same order).
 *
 * The tree cannot change during the walk: the first hit makes `_seq` odd before any callback
 * runs, and while it is odd inserts and removes are deferred (`itreeInsert`, `remove`).
 *
 * Walkers are reused: `mm._walks` holds one per nesting level (a callback may start a nested
 * invalidation of the same address space), so a stretch allocates nothing. A walker is held only
 * for one synchronous stretch: `borrowWalk` and `done` bracket it, strictly LIFO; what the walk
 * needs across an await the caller keeps in locals.
 */
export class ItreeWalk {
  mm: MmState;
  range: MmuNotifierRange | undefined = undefined;
  // Stryker disable next-line BooleanLiteral: equivalent: borrowWalk() sets it before any visit.
  blockable = false;
  // Stryker disable next-line BooleanLiteral: equivalent: invStartRange()/invContinue() set it before any visit.
  hit = false;
  curSeq = 0;
  failure: WalkFailure | undefined = undefined;
  /** The node whose callback returned `pending` (blockable only): resume after it. */
  pendingNode: IntervalNode<IntervalNotifier> | undefined = undefined;
  /** What that callback's promise settles to, through {@link settleInvalidate}. */
  pending: Promise<boolean> | undefined = undefined;

  constructor(mm: MmState) {
    this.mm = mm;
  }

  /** Visits one overlapping node; `false` stops the stretch. Bound once per walker. */
  readonly visit = (node: IntervalNode<IntervalNotifier>): false | undefined => {
    const mm = this.mm;
    if (!this.hit) {
      // The rest of mn_itree_inv_start_range(): an overlap exists, so begin writing before the
      // first callback runs; every callback of the period gets this odd value.
      this.hit = true;
      mm.beginWrite();
      this.curSeq = mm._seq;
      traceStart(mm, this.range!, true);
    }
    let ok: boolean | Promise<boolean>;
    try {
      ok = invokeInvalidate(mm, node.value, this.range!, this.curSeq, this.blockable);
    } catch (error) {
      // A throw, or a promise where the range may not wait: recorded, and the walk goes on.
      this.failure = addError(this.failure, error);
      return undefined;
    }
    if (typeof ok !== 'boolean') {
      this.pending = ok;
      this.pendingNode = node;
      return false;
    }
    if (ok || this.blockable) return undefined; // blockable false: warned, the walk goes on
    this.failure = addEagain(this.failure);
    return false;
  };

  /** Releases the walker (drops its references) for the next stretch at this nesting level. */
  done(): void {
    this.range = undefined;
    this.failure = undefined;
    this.pendingNode = undefined;
    this.pending = undefined;
    this.mm._walkDepth--;
  }
}

/** Takes the walker of the current nesting level for one stretch (see {@link ItreeWalk}). */
function borrowWalk(
  mm: MmState,
  range: MmuNotifierRange,
  blockable: boolean,
  failure: WalkFailure | undefined,
): ItreeWalk {
  let w = mm._walks[mm._walkDepth];
  if (w === undefined) {
    w = new ItreeWalk(mm);
    mm._walks.push(w);
  }
  mm._walkDepth++;
  w.range = range;
  w.blockable = blockable;
  w.failure = failure;
  w.pendingNode = undefined;
  w.pending = undefined;
  return w;
}

/**
 * `mn_itree_inv_start_range()` and the first stretch of the walk: counts the range as active,
 * then visits the overlapping subscriptions. Returns the walker; read it, then call `done()`.
 */
export function invStartRange(mm: MmState, range: MmuNotifierRange, blockable: boolean): ItreeWalk {
  const w = borrowWalk(mm, range, blockable, undefined);
  w.hit = false;
  w.curSeq = mm._seq;
  mm._active++; // counted even when nothing overlaps: the matching invEnd uncounts it
  try {
    mm._tree.forEachOverlap(range.start, range.end - 1, w.visit); // closed intervals
    if (!w.hit) traceStart(mm, range, false);
  } catch (error) {
    walkThrew(w, error);
  }
  return w;
}

/**
 * The next stretch of a blockable walk, after the node whose promise settled. Returns the
 * walker; read it, then call `done()`.
 */
export function invContinue(
  mm: MmState,
  range: MmuNotifierRange,
  curSeq: number,
  after: IntervalNode<IntervalNotifier>,
  failure: WalkFailure | undefined,
): ItreeWalk {
  const w = borrowWalk(mm, range, true, failure);
  w.hit = true;
  w.curSeq = curSeq;
  const start = range.start;
  const last = range.end - 1;
  try {
    let node = mm._tree.iterNext(after, start, last);
    while (node !== undefined && w.visit(node) !== false)
      node = mm._tree.iterNext(node, start, last);
  } /* Stryker disable next-line BlockStatement: equivalent: unreachable: visit() catches callback errors and iterNext() on the frozen tree does not throw (the range was read above, outside the try). */ catch (error) {
    walkThrew(w, error);
  }
  return w;
}

/**
 * Not expected (callback errors are caught in visit, tracer and warning errors in emit and
 * sink); if the walk itself throws, fail the start so the caller undoes the range instead of
 * leaving it active.
 */
function walkThrew(w: ItreeWalk, error: unknown): void {
  w.failure = addError(w.failure, error);
  w.pendingNode = undefined;
  w.pending = undefined;
}

function traceStart(mm: MmState, range: MmuNotifierRange, hit: boolean): void {
  // Stryker disable next-line ConditionalExpression: equivalent: emit() without a tracer does nothing; the guard only saves building the event.
  if (mm._tracer !== undefined)
    mm.emit({ type: 'start', range, curSeq: mm._seq, hit, active: mm._active });
}

/**
 * Runs `sub`'s `invalidate` with the bookkeeping that `setSeq` and the misuse checks rely on:
 * `_cbRunning`/`_cbSeq` are set until the result settles, `_depth` only during the call.
 * `_cbRunning` is decremented in exactly two places: below, when the call completes at once
 * (a value, a throw, or a promise where the range may not wait), and in
 * {@link settleInvalidate} when a blockable callback's promise settles.
 *
 * Returns the result as a boolean (the kernel's `if (!ret)`), or, for a blockable range whose
 * callback returned a thenable, a promise of it. Throws what the callback threw, or a
 * NonBlockablePromiseError for a thenable on a non-blockable range.
 */
function invokeInvalidate(
  mm: MmState,
  sub: IntervalNotifier,
  range: MmuNotifierRange,
  curSeq: number,
  blockable: boolean,
): boolean | Promise<boolean> {
  // Stryker disable next-line ConditionalExpression: equivalent: emit() without a tracer does nothing; the guard only saves building the event.
  if (mm._tracer !== undefined) mm.emit({ type: 'invalidate', sub, range, curSeq });
  sub._cbSeq = curSeq;
  sub._cbRunning++;
  mm._depth++;
  let settlesLater = false;
  try {
    const als = mm._als;
    const result =
      als === undefined
        ? sub._ops.invalidate(sub, range, curSeq)
        : als.run(mm, () => sub._ops.invalidate(sub, range, curSeq));
    // Inside the try: reading `then` runs user code too (a getter may throw).
    if (isThenable(result)) {
      if (!blockable) throw rejectPromise(result, 'invalidate()');
      settlesLater = true;
      return settleInvalidate(mm, sub, range, curSeq, result);
    }
    const ok = Boolean(result);
    checkResult(mm, sub, range, curSeq, ok, blockable);
    return ok;
  } finally {
    mm._depth--;
    if (!settlesLater) sub._cbRunning--;
  }
}

/** A blockable callback's promise: the same checks as a synchronous result, once it settles. */
async function settleInvalidate(
  mm: MmState,
  sub: IntervalNotifier,
  range: MmuNotifierRange,
  curSeq: number,
  result: PromiseLike<unknown>,
): Promise<boolean> {
  try {
    const ok = Boolean(await result);
    checkResult(mm, sub, range, curSeq, ok, true);
    return ok;
  } finally {
    sub._cbRunning--;
  }
}

/** The checks on a callback's result: `false` for a blockable range, and a missing `setSeq`. */
function checkResult(
  mm: MmState,
  sub: IntervalNotifier,
  range: MmuNotifierRange,
  curSeq: number,
  ok: boolean,
  blockable: boolean,
): void {
  if (ok) checkSetSeq(mm, sub, range, curSeq);
  else if (blockable) mm.warn('invalidate() returned false for a blockable range; continuing');
}

/**
 * Warns if `sub`'s `invalidate` settled successfully without `setSeq(curSeq)`: readers that
 * resolved a page before the invalidation would then pass `readRetry` and install it (the
 * kernel cannot check this). All callbacks of one busy period share `curSeq`, so the
 * subscription's seq tells whether it was set. A range with an `owner` is exempt: a device may
 * skip the invalidations its own migration caused (as the kernel's test_hmm driver does).
 */
function checkSetSeq(
  mm: MmState,
  sub: IntervalNotifier,
  range: MmuNotifierRange,
  curSeq: number,
): void {
  // A subscription being removed keeps REMOVED_SEQ whatever its callback does (see setSeq).
  if (sub._seq !== curSeq && sub._seq !== REMOVED_SEQ && range.owner === undefined) {
    mm.warn(
      `invalidate() of the subscription [${sub.start}, ${sub.last}] returned without calling setSeq(${curSeq}): readers will not retry`,
    );
  }
}
