import { addError, type WalkFailure } from './failure.js';
import { IntervalNotifier, type IntervalNotifierOps } from './interval-notifier.js';
import { checkSetSeq, invokeInvalidate, invStartRange } from './itree-walk.js';
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
  if (mm._tracer !== undefined) mm.emit({ type: 'insert', sub, how, invalidateSeq: mm._seq });
  return sub;
}

/**
 * `mn_itree_invalidate()` for a blockable range: calls `invalidate` for every overlapping
 * subscription in tree order, awaiting a returned promise before the next. `false` is a misuse
 * here (WARN, continue). A callback that throws or rejects is recorded and the walk goes on;
 * then the range's bookkeeping is undone (`invEnd`) and the failure returned. The walk needs no
 * lock: while it runs `_seq` is odd, so the tree is frozen. Callbacks that return at once are
 * called in one synchronous pass (`invStartRange` in itree-walk.ts); after the first promise
 * the walk continues with `iterNext`, awaiting each promise.
 */
export async function itreeInvalidate(
  mm: MmState,
  range: MmuNotifierRange,
): Promise<WalkFailure | undefined> {
  const start = range.start;
  const last = range.end - 1; // the tree holds closed intervals
  const w = invStartRange(mm, range, true);
  const curSeq = w.curSeq;
  let failure = w.failure;
  let node = w.pendingNode;
  let pending = w.pending;
  w.done();
  while (node !== undefined) {
    const sub = node.value;
    try {
      if (await pending) checkSetSeq(mm, sub, range, curSeq);
      else mm.warn('invalidate() returned false for a blockable range; continuing');
    } catch (error) {
      failure = addError(failure, error);
    } finally {
      sub._cbRunning--;
    }
    pending = undefined;
    for (node = mm._tree.iterNext(node, start, last); node !== undefined; ) {
      let ok: boolean | PromiseLike<unknown>;
      try {
        ok = invokeInvalidate(mm, node.value, range, curSeq);
      } catch (error) {
        failure = addError(failure, error);
        node = mm._tree.iterNext(node, start, last);
        continue;
      }
      if (typeof ok !== 'boolean') {
        pending = ok;
        break;
      }
      if (!ok) mm.warn('invalidate() returned false for a blockable range; continuing');
      node = mm._tree.iterNext(node, start, last);
    }
  }
  if (failure !== undefined) mm.invEnd();
  return failure;
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
