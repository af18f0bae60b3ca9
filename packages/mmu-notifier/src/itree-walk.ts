import type { IntervalNode } from '@mmukit/interval-tree';
import { addEagain, addError, isThenable, rejectPromise, type WalkFailure } from './failure.js';
import { type IntervalNotifier, REMOVED_SEQ } from './interval-notifier.js';
import type { MmState } from './mm-state.js';
import type { MmuNotifierRange } from './range.js';

/**
 * The synchronous part of `mn_itree_invalidate()`: one pass of `IntervalTree.forEachOverlap`
 * (the tree's allocation-free walk; same nodes, same order as `iter_first`/`iter_next`) calling
 * `invalidate` for each overlapping subscription until one returns a promise (blockable: the
 * walk suspends there and the caller continues with `iterNext` after awaiting it) or `false`
 * (non-blockable: EAGAIN, the walk stops).
 *
 * The tree cannot change during the pass: the first hit makes `_seq` odd before any callback
 * runs, and while it is odd inserts and removes are deferred (`itreeInsert`, `remove`).
 *
 * Walkers are reused: `mm._walks` holds one per nesting level (a callback may start a nested
 * invalidation of the same address space), so a walk allocates nothing. A walker is held only
 * for the synchronous pass: `invStartRange` and `done` bracket it, strictly LIFO.
 */
export class ItreeWalk {
  mm: MmState;
  range: MmuNotifierRange | undefined = undefined;
  blockable = false;
  hit = false;
  curSeq = 0;
  failure: WalkFailure | undefined = undefined;
  /** The node whose callback returned `pending` (blockable only): resume after it. */
  pendingNode: IntervalNode<IntervalNotifier> | undefined = undefined;
  pending: PromiseLike<unknown> | undefined = undefined;

  constructor(mm: MmState) {
    this.mm = mm;
  }

  /** The `forEachOverlap` visitor, bound once per walker. */
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
    const sub = node.value;
    let ok: boolean | PromiseLike<unknown>;
    try {
      ok = invokeInvalidate(mm, sub, this.range!, this.curSeq);
    } catch (error) {
      this.failure = addError(this.failure, error);
      return undefined;
    }
    if (typeof ok !== 'boolean') {
      if (this.blockable) {
        this.pending = ok;
        this.pendingNode = node;
        return false;
      }
      sub._cbRunning--;
      this.failure = addError(this.failure, rejectPromise(ok, 'invalidate()'));
      return undefined;
    }
    if (ok) return undefined;
    if (this.blockable) {
      mm.warn('invalidate() returned false for a blockable range; continuing');
      return undefined;
    }
    this.failure = addEagain(this.failure);
    return false;
  };

  /** Releases the walker (drops its references) for the next walk at this nesting level. */
  done(): void {
    this.range = undefined;
    this.failure = undefined;
    this.pendingNode = undefined;
    this.pending = undefined;
    this.mm._walkDepth--;
  }
}

/**
 * `mn_itree_inv_start_range()` plus the synchronous walk: counts the range as active, then
 * visits the overlapping subscriptions. Returns the walker; read it, then call `done()`.
 */
export function invStartRange(mm: MmState, range: MmuNotifierRange, blockable: boolean): ItreeWalk {
  let w = mm._walks[mm._walkDepth];
  if (w === undefined) {
    w = new ItreeWalk(mm);
    mm._walks.push(w);
  }
  mm._walkDepth++;
  w.range = range;
  w.blockable = blockable;
  w.hit = false;
  w.curSeq = mm._seq;
  w.failure = undefined;
  w.pendingNode = undefined;
  w.pending = undefined;
  mm._active++; // counted even when nothing overlaps: the matching invEnd uncounts it
  try {
    mm._tree.forEachOverlap(range.start, range.end - 1, w.visit); // closed intervals
    if (!w.hit) traceStart(mm, range, false);
  } catch (error) {
    // Not expected (callback errors are caught in visit, tracer and warning errors in emit and
    // sink); if the walk itself throws, fail the start so the caller undoes the range instead
    // of leaving it active.
    w.failure = addError(w.failure, error);
    w.pendingNode = undefined;
    w.pending = undefined;
  }
  return w;
}

function traceStart(mm: MmState, range: MmuNotifierRange, hit: boolean): void {
  if (mm._tracer !== undefined)
    mm.emit({ type: 'start', range, curSeq: mm._seq, hit, active: mm._active });
}

/**
 * Runs the synchronous part of `sub`'s `invalidate`, with the bookkeeping that `setSeq` and the
 * misuse checks rely on: `_cbRunning`/`_cbSeq` stay set until the result settles (the caller
 * decrements `_cbRunning` itself when a thenable is returned), `_depth` only during the call.
 * Returns the thenable, or any other result as a boolean (the kernel's `if (!ret)`), so callers
 * tell them apart with `typeof` and never read `then` a second time.
 */
export function invokeInvalidate(
  mm: MmState,
  sub: IntervalNotifier,
  range: MmuNotifierRange,
  curSeq: number,
): boolean | PromiseLike<unknown> {
  if (mm._tracer !== undefined) mm.emit({ type: 'invalidate', sub, range, curSeq });
  sub._cbSeq = curSeq;
  sub._cbRunning++;
  mm._depth++;
  try {
    const als = mm._als;
    const result =
      als === undefined
        ? sub._ops.invalidate(sub, range, curSeq)
        : als.run(mm, () => sub._ops.invalidate(sub, range, curSeq));
    // Inside the try: reading `then` runs user code too (a getter may throw).
    if (isThenable(result)) return result;
    sub._cbRunning--;
    const ok = Boolean(result);
    if (ok) checkSetSeq(mm, sub, range, curSeq);
    return ok;
  } catch (error) {
    sub._cbRunning--;
    throw error;
  } finally {
    mm._depth--;
  }
}

/**
 * Warns if `sub`'s `invalidate` settled successfully without `setSeq(curSeq)`: readers that
 * resolved a page before the invalidation would then pass `readRetry` and install it (the
 * kernel cannot check this). All callbacks of one busy period share `curSeq`, so the
 * subscription's seq tells whether it was set. A range with an `owner` is exempt: a device may
 * skip the invalidations its own migration caused (as the kernel's test_hmm driver does).
 */
export function checkSetSeq(
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
