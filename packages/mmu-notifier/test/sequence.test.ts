import { describe, expect, it } from 'vitest';
import { MmuNotifierSubscriptions } from '../src/index.js';
import {
  type Call,
  deferred,
  flush,
  invalidateOnce,
  makeSubs,
  range,
  recordingOps,
  track,
} from './helpers.js';

describe('sequence values', () => {
  it('starts idle at invalidateSeq 2 and gives an idle insert invalidateSeq - 1', async () => {
    const { subs } = makeSubs();
    expect(subs.invalidateSeq).toBe(2);
    expect(subs.activeInvalidateRanges).toBe(0);
    const sub = subs.insertInterval(0, 10, recordingOps([]));
    expect(sub.seq).toBe(1);
    expect(sub.state).toBe('active');
    expect(sub.tryReadBegin()).toBe(1);
    expect(await sub.readBegin()).toBe(1);
    expect(sub.readRetry(1)).toBe(false);
    expect(sub.checkRetry(1)).toBe(false);
  });

  it('makes invalidateSeq odd for an overlapping invalidation and passes it as curSeq', async () => {
    const { subs } = makeSubs();
    const calls: Call[] = [];
    const sub = subs.insertInterval(0, 10, recordingOps(calls));
    const seq = sub.tryReadBegin()!;
    const r = range(5, 6);
    expect(subs.invalidateRangeStartNonblock(r)).toBe(true);
    expect(subs.invalidateSeq).toBe(3);
    expect(subs.activeInvalidateRanges).toBe(1);
    expect(calls).toEqual([{ sub, start: 5, end: 6, event: 'unmap', blockable: false, curSeq: 3 }]);
    expect(sub.seq).toBe(3);
    expect(sub.readRetry(seq)).toBe(true);
    expect(sub.tryReadBegin()).toBeUndefined();
    subs.invalidateRangeEnd(r);
    expect(subs.invalidateSeq).toBe(4);
    expect(subs.activeInvalidateRanges).toBe(0);
    expect(sub.tryReadBegin()).toBe(3);
    expect(sub.readRetry(3)).toBe(false);
  });

  it('treats [start, end) as half-open: end touching the subscription does not hit it', () => {
    const { subs } = makeSubs();
    const calls: Call[] = [];
    subs.insertInterval(10, 10, recordingOps(calls)); // [10, 19]
    const below = range(0, 10);
    subs.invalidateRangeStartNonblock(below);
    expect(subs.invalidateSeq).toBe(2);
    subs.invalidateRangeEnd(below);
    invalidateOnce(subs, 20, 30);
    expect(calls).toHaveLength(0);
    invalidateOnce(subs, 19, 20);
    expect(calls).toHaveLength(1);
    expect(subs.invalidateSeq).toBe(4);
  });

  it('readBegin waits during an overlapping invalidation and returns the odd seq after the end', async () => {
    const { subs } = makeSubs();
    const sub = subs.insertInterval(0, 10, recordingOps([]));
    const r = range(0, 10);
    await subs.invalidateRangeStart(r);
    const read = track(sub.readBegin());
    await flush();
    expect(read.settled).toBe(false);
    subs.invalidateRangeEnd(r);
    await flush();
    expect(read.settled).toBe(true);
    expect(read.value).toBe(3);
    expect(subs.invalidateSeq).toBe(4);
    expect(sub.readRetry(3)).toBe(false);
  });

  it('readBegin does not loop: a new invalidation between the wake and the return makes readRetry true at once', async () => {
    const { subs } = makeSubs();
    const sub = subs.insertInterval(0, 10, recordingOps([]));
    const r1 = range(0, 10);
    subs.invalidateRangeStartNonblock(r1);
    const read = sub.readBegin(); // waits: sub.seq 3 == invalidateSeq 3
    subs.invalidateRangeEnd(r1); // 4, wakes the reader (it resumes on a later microtask)
    const r2 = range(0, 10);
    subs.invalidateRangeStartNonblock(r2); // 5 before the reader runs again
    const seq = await read;
    expect(seq).toBe(3);
    expect(sub.seq).toBe(5);
    expect(sub.readRetry(seq)).toBe(true);
    subs.invalidateRangeEnd(r2);
  });

  it('readBegin does not wait during a disjoint invalidation (state partially excluded)', async () => {
    const { subs } = makeSubs();
    const calls: Call[] = [];
    const sub = subs.insertInterval(0, 10, recordingOps(calls));
    const r = range(100, 200);
    await subs.invalidateRangeStart(r);
    expect(subs.activeInvalidateRanges).toBe(1);
    expect(subs.invalidateSeq).toBe(2);
    expect(subs.isInvalidating).toBe(false);
    const read = track(sub.readBegin());
    await flush();
    expect(read.value).toBe(1);
    subs.invalidateRangeEnd(r);
    expect(subs.invalidateSeq).toBe(2);
    expect(calls).toHaveLength(0);
  });

  it('readBegin does not wait for an invalidation of another subscription, but does not loop', async () => {
    const { subs } = makeSubs();
    const a = subs.insertInterval(0, 10, recordingOps([]));
    const b = subs.insertInterval(100, 10, recordingOps([]));
    const r = range(0, 10);
    subs.invalidateRangeStartNonblock(r);
    expect(subs.invalidateSeq).toBe(3);
    // b was not hit: its seq (1) differs from the odd global value, so no wait.
    expect(b.tryReadBegin()).toBe(1);
    expect(await b.readBegin()).toBe(1);
    expect(a.tryReadBegin()).toBeUndefined();
    subs.invalidateRangeEnd(r);
    expect(b.readRetry(1)).toBe(false);
  });

  it('a read begun before the invalidation retries even if it checks after the end', async () => {
    const { subs } = makeSubs();
    const sub = subs.insertInterval(0, 10, recordingOps([]));
    const seq = await sub.readBegin();
    invalidateOnce(subs, 3, 4);
    expect(sub.readRetry(seq)).toBe(true);
    // The next read is clean.
    const seq2 = await sub.readBegin();
    expect(seq2).toBe(3);
    expect(sub.readRetry(seq2)).toBe(false);
  });

  it('overlapping invalidations share one odd curSeq and one busy period advances by exactly 2', () => {
    const { subs } = makeSubs();
    const calls: Call[] = [];
    subs.insertInterval(0, 100, recordingOps(calls));
    const outer = range(0, 100);
    const inner = range(10, 20);
    subs.invalidateRangeStartNonblock(outer);
    subs.invalidateRangeStartNonblock(inner);
    expect(subs.activeInvalidateRanges).toBe(2);
    expect(calls.map((c) => c.curSeq)).toEqual([3, 3]);
    subs.invalidateRangeEnd(outer);
    expect(subs.invalidateSeq).toBe(3);
    expect(subs.isInvalidating).toBe(true);
    expect(subs.activeInvalidateRanges).toBe(1);
    subs.invalidateRangeEnd(inner);
    expect(subs.invalidateSeq).toBe(4);
    expect(subs.activeInvalidateRanges).toBe(0);
    // A disjoint range active across the period keeps it open too.
    const disjointFirst = range(500, 600);
    subs.invalidateRangeStartNonblock(disjointFirst);
    expect(subs.invalidateSeq).toBe(4);
    subs.invalidateRangeStartNonblock(outer);
    expect(subs.invalidateSeq).toBe(5);
    subs.invalidateRangeEnd(outer);
    expect(subs.invalidateSeq).toBe(5);
    subs.invalidateRangeEnd(disjointFirst);
    expect(subs.invalidateSeq).toBe(6);
  });

  it('readBegin waits until every overlapping invalidation of the period ended', async () => {
    const { subs } = makeSubs();
    const sub = subs.insertInterval(0, 100, recordingOps([]));
    const a = range(0, 50);
    const b = range(40, 60);
    subs.invalidateRangeStartNonblock(a);
    subs.invalidateRangeStartNonblock(b);
    const read = track(sub.readBegin());
    subs.invalidateRangeEnd(a);
    await flush();
    expect(read.settled).toBe(false);
    subs.invalidateRangeEnd(b);
    await flush();
    expect(read.value).toBe(3);
  });

  it('calls overlapping subscriptions in tree order (start, then insertion order)', () => {
    const { subs } = makeSubs();
    const order: string[] = [];
    const ops = (name: string) => ({
      invalidate: (s: { setSeq(n: number): void }, _r: unknown, cur: number) => {
        order.push(name);
        s.setSeq(cur);
        return true;
      },
    });
    subs.insertInterval(50, 10, ops('c'));
    subs.insertInterval(10, 10, ops('a1'));
    subs.insertInterval(10, 5, ops('a2'));
    subs.insertInterval(30, 10, ops('b'));
    subs.insertInterval(200, 10, ops('miss'));
    invalidateOnce(subs, 0, 100);
    expect(order).toEqual(['a1', 'a2', 'b', 'c']);
  });

  it('handles sequence values beyond 2^32 (no 32-bit arithmetic)', async () => {
    const big = 2 ** 40;
    const { subs } = makeSubs({ initialSeq: big });
    const sub = subs.insertInterval(0, 10, recordingOps([]));
    expect(sub.seq).toBe(big - 1);
    const r = range(0, 10);
    subs.invalidateRangeStartNonblock(r);
    expect(subs.invalidateSeq).toBe(big + 1);
    expect(sub.seq).toBe(big + 1);
    subs.invalidateRangeEnd(r);
    expect(subs.invalidateSeq).toBe(big + 2);
    expect(await sub.readBegin()).toBe(big + 1);
  });

  it('rejects bad options', () => {
    expect(() => new MmuNotifierSubscriptions({ initialSeq: 3 })).toThrow(RangeError);
    expect(() => new MmuNotifierSubscriptions({ initialSeq: 0 })).toThrow(RangeError);
    expect(() => new MmuNotifierSubscriptions({ initialSeq: 2 ** 53 })).toThrow(RangeError);
    expect(() => new MmuNotifierSubscriptions({ tracer: 1 as never })).toThrow(TypeError);
    expect(() => new MmuNotifierSubscriptions({ onWarning: 'x' as never })).toThrow(TypeError);
    expect(() => new MmuNotifierSubscriptions({ asyncContext: {} as never })).toThrow(TypeError);
  });

  it('blockable start awaits an async callback; the state stays invalidating meanwhile', async () => {
    const { subs } = makeSubs();
    const gate = deferred();
    const sub = subs.insertInterval(0, 10, {
      async invalidate(s, _r, cur) {
        await gate.promise;
        s.setSeq(cur); // still "inside" the callback until its promise settles
        return true;
      },
    });
    const r = range(0, 10);
    const start = track(subs.invalidateRangeStart(r));
    await flush();
    expect(start.settled).toBe(false);
    expect(subs.invalidateSeq).toBe(3);
    expect(subs.activeInvalidateRanges).toBe(1);
    expect(sub.seq).toBe(1);
    gate.resolve();
    await flush();
    expect(start.settled).toBe(true);
    expect(start.error).toBeUndefined();
    expect(sub.seq).toBe(3);
    subs.invalidateRangeEnd(r);
    expect(subs.invalidateSeq).toBe(4);
  });
});

describe('the range passed to the start functions', () => {
  it('may leave blockable out: each start sets it before any callback', async () => {
    const { subs } = makeSubs();
    const seen: boolean[] = [];
    subs.insertInterval(0, 10, {
      invalidate(sub, r, curSeq) {
        seen.push(r.blockable);
        sub.setSeq(curSeq);
        return true;
      },
    });
    const a = { start: 0, end: 5, event: 'unmap' as const };
    await subs.invalidateRangeStart(a);
    subs.invalidateRangeEnd(a);
    const b = { start: 0, end: 5, event: 'clear' as const };
    expect(subs.invalidateRangeStartNonblock(b)).toBe(true);
    subs.invalidateRangeEnd(b);
    expect(seen).toEqual([true, false]);
  });
});
