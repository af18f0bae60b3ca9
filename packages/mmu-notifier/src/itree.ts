import { addError, type WalkFailure } from './failure.js';
import { IntervalNotifier, type IntervalNotifierOps } from './interval-notifier.js';
import { type ItreeWalk, invContinue, invStartRange } from './itree-walk.js';
import { type MmState, SUB_PENDING_INSERT } from './mm-state.js';
import { MAX_ADDRESS, type MmuNotifierRange } from './range.js';

/**
 * `__mmu_interval_notifier_insert()`: makes and subscribes `[start, last]` (already checked).
 *
 * If an invalidation is active we cannot know which ranges it covers, so the new subscription
 * counts as hit: its seq is the current odd value, and its first `readBegin` waits for the end.
 * When the tree is frozen (fully excluded) the insert is deferred to the last end instead of
 * retried, which keeps this deterministic; when partially excluded the state is promoted to
 * fully excluded (the period now has a subscription to protect) and the node goes in at once.
 * When idle the seq is `_seq - 1`: odd, and never equal to the current value.
 */
export function itreeInsert(
  mm: MmState,
  start: number,
  last: number,
  ops: IntervalNotifierOps,
): IntervalNotifier {
  const sub = IntervalNotifier._create(mm, start, last, ops);
  let how: 'now' | 'deferred' = 'now';
  if (mm._active !== 0) {
    if (mm.isInvalidating()) {
      sub._state = SUB_PENDING_INSERT;
      mm._deferred.submit(sub); // queued: the busy period holds the list (see beginWrite)
      how = 'deferred';
    } else {
      mm.beginWrite();
      sub._node = mm._tree.insert(start, last, sub);
    }
    sub._seq = mm._seq;
  } else {
    sub._seq = mm._seq - 1;
    sub._node = mm._tree.insert(start, last, sub);
  }
  // Stryker disable next-line ConditionalExpression: equivalent: emit() without a tracer does nothing; the guard only saves building the event.
  if (mm._tracer !== undefined) mm.emit({ type: 'insert', sub, how, invalidateSeq: mm._seq });
  return sub;
}

/**
 * `mn_itree_invalidate()` for a blockable range: calls `invalidate` for every overlapping
 * subscription in tree order, awaiting a returned promise before the next (`false` is a misuse
 * here: WARN, continue). A callback that throws or rejects is recorded and the walk goes on; then
 * the range's bookkeeping is undone (`invEnd`) and the failure returned. The walk needs no lock:
 * while it runs `_seq` is odd, so the tree is frozen. Callbacks that return at once are called
 * in one synchronous stretch; each promise ends a stretch, and the next one starts after its
 * node (see `ItreeWalk`). Returns the failure at once when no callback returned a promise (the
 * common case: no promise, no microtask), else a promise of it.
 */
export function itreeInvalidate(
  mm: MmState,
  range: MmuNotifierRange,
): WalkFailure | undefined | Promise<WalkFailure | undefined> {
  const w = invStartRange(mm, range, true);
  // Stryker disable next-line LogicalOperator,ConditionalExpression: equivalent: visit() sets pending and pendingNode together and borrowWalk()/walkThrew() clear them together, so either test decides.
  if (w.pending === undefined || w.pendingNode === undefined) {
    const failure = w.failure;
    w.done();
    if (failure !== undefined) mm.invEnd();
    return failure;
  }
  return itreeInvalidateRest(mm, range, w);
}

/** The rest of a blockable walk whose stretch ended at a callback's promise (see above). */
async function itreeInvalidateRest(
  mm: MmState,
  range: MmuNotifierRange,
  w: ItreeWalk,
): Promise<WalkFailure | undefined> {
  const curSeq = w.curSeq;
  for (;;) {
    let failure = w.failure;
    const node = w.pendingNode;
    const pending = w.pending;
    w.done();
    // Stryker disable next-line LogicalOperator,ConditionalExpression: equivalent: visit() sets pending and pendingNode together and borrowWalk()/walkThrew() clear them together, so either test decides.
    if (pending === undefined || node === undefined) {
      if (failure !== undefined) mm.invEnd();
      return failure;
    }
    try {
      await pending; // the callback's own checks ran when it settled
    } catch (error) {
      failure = addError(failure, error);
    }
    w = invContinue(mm, range, curSeq, node, failure);
  }
}

/**
 * `mn_itree_invalidate()` for a non-blockable range, synchronous. The first callback returning
 * false stops the walk (later subscriptions are not called: EAGAIN); a callback that throws or
 * returns a Promise is recorded and the walk goes on. On any failure the range's bookkeeping is
 * undone here (`invEnd`: `out_would_block` in the kernel), because the caller must not call end.
 */
export function itreeInvalidateNonblock(
  mm: MmState,
  range: MmuNotifierRange,
): WalkFailure | undefined {
  const w = invStartRange(mm, range, false);
  const failure = w.failure;
  w.done();
  if (failure !== undefined) mm.invEnd();
  return failure;
}

/**
 * `mn_itree_release()`: one blockable `'release'` invalidation of the whole space, so every
 * subscription is called once (they stay subscribed: owners still `remove()` them).
 */
export async function itreeRelease(mm: MmState): Promise<WalkFailure | undefined> {
  const range: MmuNotifierRange = { start: 0, end: MAX_ADDRESS, event: 'release', blockable: true };
  const failure = await itreeInvalidate(mm, range);
  if (failure === undefined) mm.invEnd();
  return failure;
}
