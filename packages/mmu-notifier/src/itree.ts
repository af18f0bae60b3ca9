import { addEagain, addError, isThenable, rejectPromise, type WalkFailure } from './failure.js';
import { IntervalNotifier, type IntervalNotifierOps } from './interval-notifier.js';
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
  const sub = new IntervalNotifier(mm, start, last, ops);
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
  const t = mm._tracer;
  if (t !== undefined) t({ type: 'insert', sub, how, invalidateSeq: mm._seq });
  return sub;
}

/**
 * Runs the synchronous part of `sub`'s `invalidate`, with the bookkeeping that `setSeq` and the
 * misuse checks rely on: `_cbRunning`/`_cbSeq` stay set until the result settles (the caller
 * decrements `_cbRunning` itself when a thenable is returned), `_depth` only during the call.
 */
function invokeInvalidate(
  mm: MmState,
  sub: IntervalNotifier,
  range: MmuNotifierRange,
  curSeq: number,
): unknown {
  const t = mm._tracer;
  if (t !== undefined) t({ type: 'invalidate', sub, range, curSeq });
  sub._cbSeq = curSeq;
  sub._cbRunning++;
  mm._depth++;
  let result: unknown;
  try {
    const als = mm._als;
    result =
      als === undefined
        ? sub._ops.invalidate(sub, range, curSeq)
        : als.run(mm, () => sub._ops.invalidate(sub, range, curSeq));
  } catch (error) {
    sub._cbRunning--;
    throw error;
  } finally {
    mm._depth--;
  }
  if (!isThenable(result)) sub._cbRunning--;
  return result;
}

/**
 * `mn_itree_invalidate()` for a blockable range: calls `invalidate` for every overlapping
 * subscription in tree order, awaiting a returned promise before the next. `false` is a misuse
 * here (WARN, continue). A callback that throws or rejects is recorded and the walk goes on;
 * then the range's bookkeeping is undone (`invEnd`) and the failure returned. The walk needs no
 * lock: while it runs `_seq` is odd, so the tree is frozen.
 */
export async function itreeInvalidate(
  mm: MmState,
  range: MmuNotifierRange,
): Promise<WalkFailure | undefined> {
  const start = range.start;
  const last = range.end - 1; // the tree holds closed intervals
  let node = mm.invStartRange(range, last);
  const curSeq = mm._seq;
  let failure: WalkFailure | undefined;
  for (; node !== undefined; node = mm._tree.iterNext(node, start, last)) {
    const sub = node.value;
    let ok: unknown;
    try {
      ok = invokeInvalidate(mm, sub, range, curSeq);
      if (isThenable(ok)) {
        try {
          ok = await ok;
        } finally {
          sub._cbRunning--;
        }
      }
    } catch (error) {
      failure = addError(failure, error);
      continue;
    }
    if (!ok) mm.warn('invalidate() returned false for a blockable range; continuing');
  }
  if (failure !== undefined) mm.invEnd();
  return failure;
}

/**
 * `mn_itree_invalidate()` for a non-blockable range, synchronous. The first callback returning
 * false stops the walk (later subscriptions are not called: EAGAIN); a callback that throws or
 * returns a Promise is recorded and the walk goes on. On any failure the range's bookkeeping is
 * undone here (`invEnd`), because the caller must not call end.
 */
export function itreeInvalidateNonblock(
  mm: MmState,
  range: MmuNotifierRange,
): WalkFailure | undefined {
  const start = range.start;
  const last = range.end - 1;
  let node = mm.invStartRange(range, last);
  const curSeq = mm._seq;
  let failure: WalkFailure | undefined;
  for (; node !== undefined; node = mm._tree.iterNext(node, start, last)) {
    const sub = node.value;
    let ok: unknown;
    try {
      ok = invokeInvalidate(mm, sub, range, curSeq);
    } catch (error) {
      failure = addError(failure, error);
      continue;
    }
    if (isThenable(ok)) {
      sub._cbRunning--;
      failure = addError(failure, rejectPromise(ok, 'invalidate()'));
      continue;
    }
    if (!ok) {
      failure = addEagain(failure);
      break;
    }
  }
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
