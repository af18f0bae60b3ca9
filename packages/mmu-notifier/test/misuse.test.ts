import { AsyncLocalStorage } from 'node:async_hooks';
import { describe, expect, it } from 'vitest';
import {
  CallbackContextError,
  IntervalNotifier,
  MmuNotifier,
  type MmuNotifierTraceEvent,
  SetSeqError,
  UnbalancedEndError,
} from '../src/index.js';
import {
  type Call,
  deferred,
  flush,
  invalidateOnceBlocking,
  makeSubs,
  range,
  recordingOps,
  track,
} from './helpers.js';

function snapshot(subs: ReturnType<typeof makeSubs>['subs']) {
  return {
    seq: subs.invalidateSeq,
    active: subs.activeInvalidateRanges,
    size: subs.size,
    pending: subs.pendingDeferred,
  };
}

describe('misuse is a typed error with state unchanged', () => {
  it('remove() and readBegin() from inside an invalidate callback of the same address space', async () => {
    const { subs } = makeSubs();
    const errors: unknown[] = [];
    let other: IntervalNotifier | undefined;
    const sub = subs.insertInterval(0, 10, {
      invalidate(s, _r, cur) {
        s.setSeq(cur);
        s.remove().catch((e) => errors.push(e));
        other!.remove().catch((e) => errors.push(e));
        s.readBegin().catch((e) => errors.push(e));
        other!.readBegin().catch((e) => errors.push(e));
        return true;
      },
    });
    other = subs.insertInterval(100, 10, recordingOps([]));
    const r = range(0, 10);
    subs.invalidateRangeStartNonblock(r);
    await flush();
    expect(errors).toHaveLength(4);
    for (const e of errors) expect(e).toBeInstanceOf(CallbackContextError);
    expect(sub.state).toBe('active');
    expect(other.state).toBe('active');
    expect(subs.pendingDeferred).toBe(0);
    subs.invalidateRangeEnd(r);
    // The same calls from outside a callback are fine.
    expect(await other.readBegin()).toBe(1);
    await other.remove();
  });

  it('unregister() from inside a callback', async () => {
    const { subs } = makeSubs();
    const errors: unknown[] = [];
    const a = subs.register({
      invalidateRangeStart: () => void a.unregister().catch((e) => errors.push(e)),
    });
    await invalidateOnceBlocking(subs, 0, 10);
    await flush();
    expect(errors[0]).toBeInstanceOf(CallbackContextError);
    expect(a.registered).toBe(true);
  });

  it('counts only the synchronous part of a callback as inside, unless an AsyncLocalStorage is given', async () => {
    for (const als of [undefined, new AsyncLocalStorage()]) {
      const { subs } = makeSubs({ asyncContext: als });
      let result: unknown = 'unset';
      const other = subs.insertInterval(100, 10, recordingOps([]));
      const sub = subs.insertInterval(0, 10, {
        async invalidate(s, _r, cur) {
          await Promise.resolve();
          s.setSeq(cur);
          result = await other.readBegin().then(
            (v) => v,
            (e: unknown) => e,
          );
          return true;
        },
      });
      await invalidateOnceBlocking(subs, 0, 10);
      if (als === undefined) expect(result).toBe(1);
      else expect(result).toBeInstanceOf(CallbackContextError);
      expect(sub.seq).toBe(3);
    }
  });

  it('setSeq outside a callback, with a foreign value, on another subscription, or after the callback settled', async () => {
    const { subs } = makeSubs();
    const errors: unknown[] = [];
    let late: (() => void) | undefined;
    const other = subs.insertInterval(100, 10, recordingOps([]));
    const sub = subs.insertInterval(0, 10, {
      invalidate(s, _r, cur) {
        try {
          s.setSeq(cur + 2);
        } catch (e) {
          errors.push(e);
        }
        try {
          other.setSeq(cur);
        } catch (e) {
          errors.push(e);
        }
        late = () => s.setSeq(cur);
        return true;
      },
    });
    expect(() => sub.setSeq(3)).toThrow(SetSeqError);
    expect(sub.seq).toBe(1);
    const r = range(0, 10);
    subs.invalidateRangeStartNonblock(r);
    expect(errors).toHaveLength(2);
    for (const e of errors) expect(e).toBeInstanceOf(SetSeqError);
    expect(sub.seq).toBe(1);
    expect(other.seq).toBe(1);
    expect(late).toThrow(SetSeqError);
    subs.invalidateRangeEnd(r);
  });

  it('invalidateRangeEnd without a start, after EAGAIN, twice, or before the blockable start resolved', async () => {
    const { subs } = makeSubs();
    const r = range(0, 10);
    expect(() => subs.invalidateRangeEnd(r)).toThrow(UnbalancedEndError);
    expect(snapshot(subs)).toEqual({ seq: 2, active: 0, size: 0, pending: 0 });
    subs.insertInterval(0, 10, recordingOps([], false));
    expect(subs.invalidateRangeStartNonblock(r)).toBe(false);
    expect(() => subs.invalidateRangeEnd(r)).toThrow(UnbalancedEndError);
    expect(snapshot(subs)).toEqual({ seq: 4, active: 0, size: 1, pending: 0 });

    const { subs: s2 } = makeSubs();
    const gate = deferred<boolean>();
    s2.insertInterval(0, 10, { invalidate: () => gate.promise });
    const start = track(s2.invalidateRangeStart(r));
    expect(() => s2.invalidateRangeEnd(r)).toThrow(UnbalancedEndError);
    expect(snapshot(s2)).toEqual({ seq: 3, active: 1, size: 1, pending: 0 });
    gate.resolve(true);
    await flush();
    expect(start.settled).toBe(true);
    s2.invalidateRangeEnd(r);
    expect(() => s2.invalidateRangeEnd(r)).toThrow(UnbalancedEndError);
    expect(snapshot(s2)).toEqual({ seq: 4, active: 0, size: 1, pending: 0 });
  });

  it('invalidateRangeEnd of a range not started (or already ended) is rejected while other ranges are active', async () => {
    const { subs } = makeSubs();
    const calls: Call[] = [];
    const sub = subs.insertInterval(0, 10, recordingOps(calls));
    const a = range(0, 10);
    expect(subs.invalidateRangeStartNonblock(a)).toBe(true);
    const stranger = range(0, 10); // equal, but never started
    expect(() => subs.invalidateRangeEnd(stranger)).toThrow(UnbalancedEndError);
    expect(snapshot(subs)).toEqual({ seq: 3, active: 1, size: 1, pending: 0 });
    // A blockable start still walking is not ended by an early end either.
    const gate = deferred<boolean>();
    subs.insertInterval(0, 10, { invalidate: (_s, r) => (r.blockable ? gate.promise : true) });
    expect(snapshot(subs)).toEqual({ seq: 3, active: 1, size: 1, pending: 1 });
    subs.invalidateRangeEnd(a);
    const b = range(0, 10);
    const bStart = track(subs.invalidateRangeStart(b));
    const c = range(0, 10);
    expect(subs.invalidateRangeStartNonblock(c)).toBe(true);
    expect(() => subs.invalidateRangeEnd(b)).toThrow(UnbalancedEndError);
    subs.invalidateRangeEnd(c);
    expect(() => subs.invalidateRangeEnd(c)).toThrow(UnbalancedEndError); // a second end
    expect(snapshot(subs)).toEqual({ seq: 5, active: 1, size: 2, pending: 0 });
    expect(sub.tryReadBegin()).toBeUndefined(); // still invalidating: b's walk runs
    gate.resolve(true);
    await flush();
    expect(bStart.settled).toBe(true);
    subs.invalidateRangeEnd(b);
    expect(snapshot(subs)).toEqual({ seq: 6, active: 0, size: 2, pending: 0 });
  });

  it.each([
    ['a non-number start', 'x', 1, TypeError],
    ['a fractional start', 1.5, 1, RangeError],
    ['a negative start', -1, 1, RangeError],
    ['NaN length', 0, Number.NaN, RangeError],
    ['length 0', 0, 0, RangeError],
    ['a negative length', 5, -1, RangeError],
    ['an unsafe start', 2 ** 53, 1, RangeError],
    ['overflow past MAX_ADDRESS', Number.MAX_SAFE_INTEGER - 5, 6, RangeError],
  ])('insertInterval rejects %s', (_name, start, length, type) => {
    const { subs } = makeSubs();
    expect(() => subs.insertInterval(start as number, length as number, recordingOps([]))).toThrow(
      type,
    );
    expect(snapshot(subs)).toEqual({ seq: 2, active: 0, size: 0, pending: 0 });
  });

  it('a sealed or frozen range is a TypeError before anything changes (the core records its starts on it)', async () => {
    const { subs } = makeSubs();
    const calls: Call[] = [];
    subs.insertInterval(0, 10, recordingOps(calls));
    const sealed = Object.seal(range(0, 10));
    expect(() => subs.invalidateRangeStartNonblock(sealed)).toThrow(TypeError);
    await expect(subs.invalidateRangeStart(Object.freeze(range(0, 10)))).rejects.toThrow(TypeError);
    expect(calls).toHaveLength(0);
    expect(snapshot(subs)).toEqual({ seq: 2, active: 0, size: 1, pending: 0 });
  });

  it('subscriptions are made only by insertInterval/register: their constructors throw for users', () => {
    const { subs } = makeSubs();
    const sub = subs.insertInterval(0, 10, recordingOps([]));
    const classic = subs.register({});
    const Interval = IntervalNotifier as unknown as new (...args: unknown[]) => unknown;
    const Classic = MmuNotifier as unknown as new (...args: unknown[]) => unknown;
    expect(() => new Interval()).toThrow(/insertInterval/);
    expect(() => new Interval(undefined, 0, 9, recordingOps([]))).toThrow(TypeError);
    expect(() => new Classic({})).toThrow(/register/);
    // The classes still identify real subscriptions.
    expect(sub).toBeInstanceOf(IntervalNotifier);
    expect(classic).toBeInstanceOf(MmuNotifier);
    expect(snapshot(subs)).toEqual({ seq: 2, active: 0, size: 1, pending: 0 });
  });

  it('insertInterval accepts the last possible address and rejects ops without invalidate', () => {
    const { subs } = makeSubs();
    const sub = subs.insertInterval(Number.MAX_SAFE_INTEGER - 5, 5, recordingOps([]));
    expect(sub.last).toBe(Number.MAX_SAFE_INTEGER - 1);
    expect(() => subs.insertInterval(0, 1, {} as never)).toThrow(TypeError);
    expect(subs.size).toBe(1);
  });

  it.each([
    ['end == start', { start: 5, end: 5, event: 'unmap' }, RangeError],
    ['end < start', { start: 5, end: 4, event: 'unmap' }, RangeError],
    ['a negative start', { start: -1, end: 4, event: 'unmap' }, RangeError],
    ['an unsafe end', { start: 0, end: 2 ** 53, event: 'unmap' }, RangeError],
    ['a string end', { start: 0, end: '9', event: 'unmap' }, TypeError],
    ['an unknown event', { start: 0, end: 9, event: 'zap' }, TypeError],
    ['null', null, TypeError],
  ])('invalidations reject a range with %s, state unchanged', async (_name, bad, type) => {
    const { subs } = makeSubs();
    const calls: never[] = [];
    subs.insertInterval(0, 100, recordingOps(calls));
    const r = bad as never;
    expect(() => subs.invalidateRangeStartNonblock(r)).toThrow(type);
    await expect(subs.invalidateRangeStart(r)).rejects.toBeInstanceOf(type);
    expect(() => subs.invalidateRangeEnd(r)).toThrow(type);
    expect(snapshot(subs)).toEqual({ seq: 2, active: 0, size: 1, pending: 0 });
    expect(calls).toHaveLength(0);
  });

  it('aging rejects bad spans', () => {
    const { subs } = makeSubs();
    expect(() => subs.clearYoung(3, 3)).toThrow(RangeError);
    expect(() => subs.clearFlushYoung(0.5, 3)).toThrow(RangeError);
    expect(() => subs.testYoung('0' as never, 3)).toThrow(TypeError);
  });
});

describe('tracing', () => {
  it('reports start, invalidate, insert, remove, wait, wake and end; nothing once cleared', async () => {
    const events: MmuNotifierTraceEvent[] = [];
    const { subs } = makeSubs({ tracer: (e) => events.push(e) });
    const sub = subs.insertInterval(0, 10, recordingOps([]));
    const r = range(0, 10);
    subs.invalidateRangeStartNonblock(r);
    const late = subs.insertInterval(0, 5, recordingOps([]));
    const read = late.readBegin();
    const removal = sub.remove();
    subs.invalidateRangeEnd(r);
    await read;
    await removal;
    expect(events.map((e) => e.type)).toEqual([
      'insert',
      'start',
      'invalidate',
      'insert',
      'wait',
      'remove',
      'wait',
      'wake',
      'end',
    ]);
    expect(events[1]).toMatchObject({ type: 'start', curSeq: 3, hit: true, active: 1 });
    expect(events[3]).toMatchObject({ how: 'deferred', invalidateSeq: 3 });
    expect(events[7]).toMatchObject({ type: 'wake', invalidateSeq: 4, applied: 2 });
    subs.setTracer(undefined);
    const n = events.length;
    subs.invalidateRangeStartNonblock(r);
    subs.invalidateRangeEnd(r);
    expect(events).toHaveLength(n);
    expect(() => subs.setTracer(5 as never)).toThrow(TypeError);
  });
});
