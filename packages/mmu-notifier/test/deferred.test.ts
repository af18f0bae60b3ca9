import { describe, expect, it } from 'vitest';
import type { IntervalNotifier } from '../src/index.js';
import {
  type Call,
  flush,
  invalidateOnce,
  makeSubs,
  range,
  recordingOps,
  track,
} from './helpers.js';

describe('inserts and removes during an invalidation', () => {
  it('defers an insert made while the tree is invalidating; it is not called for it and its first readBegin waits for the end', async () => {
    const { subs } = makeSubs();
    subs.insertInterval(0, 100, recordingOps([]));
    const r = range(0, 100);
    subs.invalidateRangeStartNonblock(r);
    expect(subs.invalidateSeq).toBe(3);
    const calls: Call[] = [];
    const late = subs.insertInterval(10, 10, recordingOps(calls));
    expect(late.state).toBe('pending-insert');
    expect(late.seq).toBe(3);
    expect(subs.size).toBe(1);
    expect(subs.pendingDeferred).toBe(1);
    // A second overlapping invalidation in the same period does not see it either.
    const r2 = range(0, 50);
    subs.invalidateRangeStartNonblock(r2);
    expect(calls).toHaveLength(0);
    expect(late.tryReadBegin()).toBeUndefined();
    const read = track(late.readBegin());
    subs.invalidateRangeEnd(r);
    await flush();
    expect(read.settled).toBe(false);
    expect(late.state).toBe('pending-insert');
    subs.invalidateRangeEnd(r2);
    expect(late.state).toBe('active');
    expect(subs.size).toBe(2);
    expect(subs.pendingDeferred).toBe(0);
    await flush();
    expect(read.value).toBe(3);
    expect(late.readRetry(3)).toBe(false);
    // From now on it is called.
    invalidateOnce(subs, 15, 16);
    expect(calls.map((c) => c.curSeq)).toEqual([5]);
  });

  it('insert while active > 0 but not invalidating marks the tree invalidating and inserts at once', async () => {
    const { subs } = makeSubs();
    const r = range(1000, 2000); // overlaps nothing: partially excluded
    subs.invalidateRangeStartNonblock(r);
    expect(subs.invalidateSeq).toBe(2);
    const calls: Call[] = [];
    const sub = subs.insertInterval(0, 10, recordingOps(calls));
    expect(subs.invalidateSeq).toBe(3);
    expect(subs.isInvalidating).toBe(true);
    expect(sub.state).toBe('active');
    expect(subs.size).toBe(1);
    expect(sub.seq).toBe(3);
    const read = track(sub.readBegin());
    await flush();
    expect(read.settled).toBe(false);
    // Now frozen: a further insert is deferred.
    const other = subs.insertInterval(50, 10, recordingOps([]));
    expect(other.state).toBe('pending-insert');
    subs.invalidateRangeEnd(r);
    expect(subs.invalidateSeq).toBe(4);
    expect(other.state).toBe('active');
    await flush();
    expect(read.value).toBe(3);
    expect(calls).toHaveLength(0);
  });

  it('defers a remove made while invalidating; the promise resolves only after the end', async () => {
    const { subs } = makeSubs();
    const calls: Call[] = [];
    const sub = subs.insertInterval(0, 10, recordingOps(calls));
    const r = range(0, 10);
    subs.invalidateRangeStartNonblock(r);
    const removal = track(sub.remove());
    expect(sub.state).toBe('pending-remove');
    expect(subs.size).toBe(1);
    await flush();
    expect(removal.settled).toBe(false);
    // Still in the tree: a new overlapping invalidation of the same period still calls it.
    const r2 = range(5, 6);
    subs.invalidateRangeStartNonblock(r2);
    expect(calls).toHaveLength(2);
    subs.invalidateRangeEnd(r);
    await flush();
    expect(removal.settled).toBe(false);
    subs.invalidateRangeEnd(r2);
    expect(sub.state).toBe('removed');
    expect(subs.size).toBe(0);
    await flush();
    expect(removal.settled).toBe(true);
    expect(removal.error).toBeUndefined();
    invalidateOnce(subs, 0, 10);
    expect(calls).toHaveLength(2);
    expect(subs.invalidateSeq).toBe(4);
  });

  it('removes at once when not invalidating, even with active disjoint ranges', async () => {
    const { subs } = makeSubs();
    const sub = subs.insertInterval(0, 10, recordingOps([]));
    const r = range(100, 200);
    subs.invalidateRangeStartNonblock(r);
    const removal = track(sub.remove());
    expect(sub.state).toBe('removed');
    expect(subs.size).toBe(0);
    await flush();
    expect(removal.settled).toBe(true);
    subs.invalidateRangeEnd(r);
    expect(subs.invalidateSeq).toBe(2);
  });

  it('remove of a still-deferred insert cancels it without waiting', async () => {
    const { subs } = makeSubs();
    subs.insertInterval(0, 100, recordingOps([]));
    const r = range(0, 100);
    subs.invalidateRangeStartNonblock(r);
    const calls: Call[] = [];
    const late = subs.insertInterval(10, 10, recordingOps(calls));
    expect(subs.pendingDeferred).toBe(1);
    const removal = track(late.remove());
    await flush();
    expect(removal.settled).toBe(true);
    expect(late.state).toBe('removed');
    expect(subs.pendingDeferred).toBe(0);
    expect(() => late.tryReadBegin()).toThrow(/removed/); // even though its seq is the odd one
    subs.invalidateRangeEnd(r);
    expect(subs.size).toBe(1);
    expect([...subs.intervals()]).not.toContain(late);
    invalidateOnce(subs, 0, 100);
    expect(calls).toHaveLength(0);
  });

  it('an insert from inside an invalidate callback is deferred and not called by that walk', () => {
    const { subs } = makeSubs();
    const calls: Call[] = [];
    let inner: IntervalNotifier | undefined;
    subs.insertInterval(0, 10, {
      invalidate(s, _r, cur) {
        s.setSeq(cur);
        inner ??= subs.insertInterval(20, 10, recordingOps(calls)); // after us in tree order
        return true;
      },
    });
    const r = range(0, 100);
    subs.invalidateRangeStartNonblock(r);
    expect(inner!.state).toBe('pending-insert');
    expect(inner!.seq).toBe(3);
    expect(calls).toHaveLength(0);
    subs.invalidateRangeEnd(r);
    expect(inner!.state).toBe('active');
  });

  it('applies deferred work in FIFO order: equal starts iterate in insert-call order', () => {
    const { subs } = makeSubs();
    const first = subs.insertInterval(0, 100, recordingOps([]));
    const r = range(0, 100);
    subs.invalidateRangeStartNonblock(r);
    const names = new Map<IntervalNotifier, string>([[first, 'first']]);
    for (const name of ['a', 'b', 'c'])
      names.set(subs.insertInterval(0, 100, recordingOps([])), name);
    const removal = first.remove();
    subs.invalidateRangeEnd(r);
    expect([...subs.intervals()].map((s) => names.get(s))).toEqual(['a', 'b', 'c']);
    return removal;
  });

  it('rejects a second remove and readBegin after remove, state unchanged', async () => {
    const { subs } = makeSubs();
    const sub = subs.insertInterval(0, 10, recordingOps([]));
    const r = range(0, 10);
    subs.invalidateRangeStartNonblock(r);
    const removal = sub.remove();
    await expect(sub.remove()).rejects.toMatchObject({ name: 'SubscriptionRemovedError' });
    expect(sub.state).toBe('pending-remove');
    expect(subs.pendingDeferred).toBe(1);
    subs.invalidateRangeEnd(r);
    await removal;
    await expect(sub.remove()).rejects.toMatchObject({ name: 'SubscriptionRemovedError' });
    await expect(sub.readBegin()).rejects.toMatchObject({ name: 'SubscriptionRemovedError' });
    expect(() => sub.tryReadBegin()).toThrow(/removed/);
    expect(subs.invalidateSeq).toBe(4);
  });
});
