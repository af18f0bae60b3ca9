import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import {
  type IntervalNotifierOps,
  MAX_ADDRESS,
  type MmuNotifierRange,
  MmuNotifierSubscriptions,
  UnbalancedEndError,
} from '../src/index.js';
import { type Call, logged, makeSubs, range, recordingOps } from './helpers.js';

type Subs = ReturnType<typeof makeSubs>['subs'];

function snapshot(subs: Subs) {
  return {
    seq: subs.invalidateSeq,
    active: subs.activeInvalidateRanges,
    size: subs.size,
    pending: subs.pendingDeferred,
  };
}

/** What `fn` threw synchronously; fails if it did not throw. */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

/** Expects `fn` to throw exactly `Class` (not a subclass, not a sibling) with `message`. */
function expectThrows(fn: () => unknown, Class: typeof TypeError, message: string): void {
  const error = thrown(fn);
  expect(error.constructor).toBe(Class);
  expect(error.message).toBe(message);
}

describe('invalidation ranges are checked before anything changes', () => {
  const MAX = Number.MAX_SAFE_INTEGER;
  it.each([
    ['null', null, TypeError, 'range must be an object, got null'],
    ['undefined', undefined, TypeError, 'range must be an object, got undefined'],
    ['a number', 5, TypeError, 'range must be an object, got number'],
    ['a string', 'unmap', TypeError, 'range must be an object, got string'],
    [
      'a string start',
      { start: '0', end: 9, event: 'unmap' },
      TypeError,
      'start and end must be numbers, got string, number',
    ],
    [
      'a string end',
      { start: 0, end: '9', event: 'unmap' },
      TypeError,
      'start and end must be numbers, got number, string',
    ],
    [
      'no end',
      { start: 0, event: 'unmap' },
      TypeError,
      'start and end must be numbers, got number, undefined',
    ],
    [
      'a fractional start',
      { start: 0.5, end: 3, event: 'unmap' },
      RangeError,
      'start and end must be safe integers, got [0.5, 3)',
    ],
    [
      'a NaN start',
      { start: Number.NaN, end: 3, event: 'unmap' },
      RangeError,
      'start and end must be safe integers, got [NaN, 3)',
    ],
    [
      'an unsafe end',
      { start: 0, end: 2 ** 53, event: 'unmap' },
      RangeError,
      `start and end must be safe integers, got [0, ${2 ** 53})`,
    ],
    [
      'a negative start',
      { start: -1, end: 4, event: 'unmap' },
      RangeError,
      'start must be >= 0, got -1',
    ],
    [
      'end == start',
      { start: 5, end: 5, event: 'unmap' },
      RangeError,
      'end (5) must be greater than start (5)',
    ],
    [
      'end < start',
      { start: 5, end: 4, event: 'unmap' },
      RangeError,
      'end (4) must be greater than start (5)',
    ],
    ['an unknown event', { start: 0, end: 9, event: 'zap' }, TypeError, 'unknown event zap'],
    ['no event', { start: 0, end: 9 }, TypeError, 'unknown event undefined'],
    [
      'a symbol event',
      { start: 0, end: 9, event: Symbol('unmap') },
      TypeError,
      'unknown event Symbol(unmap)',
    ],
  ])('%s: each call names itself and the fault', async (_name, bad, Class, message) => {
    const { subs } = makeSubs();
    const calls: Call[] = [];
    const log: string[] = [];
    subs.insertInterval(0, 100, recordingOps(calls));
    subs.register({
      invalidateRangeStart: () => void log.push('start'),
      invalidateRangeEnd: () => void log.push('end'),
    });
    const r = bad as never;
    expectThrows(
      () => subs.invalidateRangeStartNonblock(r),
      Class,
      `invalidateRangeStartNonblock: ${message}`,
    );
    const rejection = await subs.invalidateRangeStart(r).then(
      () => new Error('resolved'),
      (error: Error) => error,
    );
    expect(rejection.constructor).toBe(Class);
    expect(rejection.message).toBe(`invalidateRangeStart: ${message}`);
    expectThrows(() => subs.invalidateRangeEnd(r), Class, `invalidateRangeEnd: ${message}`);
    expect(snapshot(subs)).toEqual({ seq: 2, active: 0, size: 1, pending: 0 });
    expect(calls).toEqual([]);
    expect(log).toEqual([]);
  });

  it('the largest range [0, MAX_ADDRESS) is accepted', () => {
    const { subs } = makeSubs();
    const calls: Call[] = [];
    subs.insertInterval(MAX - 2, 1, recordingOps(calls));
    const r = range(0, MAX_ADDRESS);
    expect(subs.invalidateRangeStartNonblock(r)).toBe(true);
    subs.invalidateRangeEnd(r);
    expect(calls.map((c) => [c.start, c.end])).toEqual([[0, MAX]]);
  });
});

describe('aging spans are checked before any callback runs', () => {
  it.each([
    ['a string start', '0', 3, TypeError, 'start and end must be numbers, got string, number'],
    [
      'a missing end',
      0,
      undefined,
      TypeError,
      'start and end must be numbers, got number, undefined',
    ],
    ['a fractional end', 0, 2.5, RangeError, 'start and end must be safe integers, got [0, 2.5)'],
    ['a negative start', -3, 3, RangeError, 'start must be >= 0, got -3'],
    ['an empty span', 3, 3, RangeError, 'end (3) must be greater than start (3)'],
  ])('%s', (_name, start, end, Class, message) => {
    const { subs } = makeSubs();
    const log: string[] = [];
    subs.register({
      clearFlushYoung: () => logged(log, 'cfy', true),
      clearYoung: () => logged(log, 'cy', true),
      testYoung: () => logged(log, 'ty', true),
    });
    for (const op of ['clearFlushYoung', 'clearYoung', 'testYoung'] as const) {
      expectThrows(() => subs[op](start as number, end as number), Class, `${op}: ${message}`);
    }
    expect(log).toEqual([]);
  });
});

describe('insertInterval checks start and length', () => {
  const MAX = Number.MAX_SAFE_INTEGER;
  it.each([
    ['a string start', 'x', 1, TypeError, 'start and length must be numbers, got string, number'],
    ['a string length', 0, '5', TypeError, 'start and length must be numbers, got number, string'],
    [
      'no length',
      0,
      undefined,
      TypeError,
      'start and length must be numbers, got number, undefined',
    ],
    [
      'a fractional start',
      1.5,
      1,
      RangeError,
      'start and length must be safe integers, got 1.5, 1',
    ],
    [
      'a NaN length',
      0,
      Number.NaN,
      RangeError,
      'start and length must be safe integers, got 0, NaN',
    ],
    [
      'an infinite length',
      0,
      Number.POSITIVE_INFINITY,
      RangeError,
      'start and length must be safe integers, got 0, Infinity',
    ],
    [
      'an unsafe start',
      2 ** 53,
      1,
      RangeError,
      `start and length must be safe integers, got ${2 ** 53}, 1`,
    ],
    ['a negative start', -1, 1, RangeError, 'start must be >= 0, got -1'],
    ['length 0', 0, 0, RangeError, 'length must be > 0, got 0'],
    ['a negative length', 5, -1, RangeError, 'length must be > 0, got -1'],
    [
      'overflow past MAX_ADDRESS',
      MAX - 5,
      6,
      RangeError,
      `start + length (${MAX - 5} + 6) overflows past MAX_ADDRESS (${MAX})`,
    ],
  ])('rejects %s: nothing subscribed', (_name, start, length, Class, message) => {
    const { subs } = makeSubs();
    expectThrows(
      () => subs.insertInterval(start as number, length as number, recordingOps([])),
      Class,
      `insertInterval: ${message}`,
    );
    expect(snapshot(subs)).toEqual({ seq: 2, active: 0, size: 0, pending: 0 });
  });

  it('the subscription covers [start, start + length - 1]', () => {
    const { subs } = makeSubs();
    const sub = subs.insertInterval(10, 5, recordingOps([]));
    expect([sub.start, sub.last]).toEqual([10, 14]);
    const one = subs.insertInterval(0, 1, recordingOps([]));
    expect([one.start, one.last]).toEqual([0, 0]);
    const top = subs.insertInterval(MAX - 1, 1, recordingOps([]));
    expect([top.start, top.last]).toEqual([MAX - 1, MAX - 1]);
  });
});

describe('starts are counted on the range object', () => {
  it('a sealed, frozen or non-extensible range is refused with a TypeError, nothing changed', async () => {
    const { subs } = makeSubs();
    const calls: Call[] = [];
    subs.insertInterval(0, 10, recordingOps(calls));
    const message =
      'the range object must be extensible (not sealed or frozen): its starts are counted on it';
    expectThrows(
      () => subs.invalidateRangeStartNonblock(Object.seal(range(0, 10))),
      TypeError,
      `invalidateRangeStartNonblock: ${message}`,
    );
    expectThrows(
      () => subs.invalidateRangeStartNonblock(Object.preventExtensions(range(0, 10))),
      TypeError,
      `invalidateRangeStartNonblock: ${message}`,
    );
    const rejection = await subs.invalidateRangeStart(Object.freeze(range(0, 10))).then(
      () => new Error('resolved'),
      (error: Error) => error,
    );
    expect(rejection.constructor).toBe(TypeError);
    expect(rejection.message).toBe(`invalidateRangeStart: ${message}`);
    expect(calls).toEqual([]);
    expect(snapshot(subs)).toEqual({ seq: 2, active: 0, size: 1, pending: 0 });
  });

  it('the count is invisible: keys, JSON and equality of the range are unchanged', () => {
    const { subs } = makeSubs();
    const r = range(0, 10);
    expect(subs.invalidateRangeStartNonblock(r)).toBe(true);
    expect(Object.keys(r)).toEqual(['start', 'end', 'event', 'blockable']);
    expect(JSON.stringify(r)).toBe('{"start":0,"end":10,"event":"unmap","blockable":false}');
    expect(r).toEqual({ start: 0, end: 10, event: 'unmap', blockable: false });
    subs.invalidateRangeEnd(r);
  });

  it('one range object started twice on one address space needs two ends, and a third is refused', async () => {
    const { subs } = makeSubs();
    const calls: Call[] = [];
    subs.insertInterval(0, 10, recordingOps(calls));
    const r = range(0, 10);
    expect(subs.invalidateRangeStartNonblock(r)).toBe(true);
    await subs.invalidateRangeStart(r);
    expect(snapshot(subs)).toEqual({ seq: 3, active: 2, size: 1, pending: 0 });
    subs.invalidateRangeEnd(r);
    expect(snapshot(subs)).toEqual({ seq: 3, active: 1, size: 1, pending: 0 });
    subs.invalidateRangeEnd(r);
    expect(snapshot(subs)).toEqual({ seq: 4, active: 0, size: 1, pending: 0 });
    expect(() => subs.invalidateRangeEnd(r)).toThrow(UnbalancedEndError);
    expect(snapshot(subs)).toEqual({ seq: 4, active: 0, size: 1, pending: 0 });
    expect(calls.map((c) => c.curSeq)).toEqual([3, 3]);
  });

  it('three starts of one range object: each end consumes exactly one', () => {
    const { subs } = makeSubs();
    const r = range(0, 10);
    for (let i = 0; i < 3; i++) expect(subs.invalidateRangeStartNonblock(r)).toBe(true);
    for (let left = 2; left >= 0; left--) {
      subs.invalidateRangeEnd(r);
      expect(subs.activeInvalidateRanges).toBe(left);
    }
    expect(() => subs.invalidateRangeEnd(r)).toThrow(UnbalancedEndError);
  });

  it('a range object can be used again, on the same address space or, once ended, on another', () => {
    const a = makeSubs().subs;
    const b = makeSubs().subs;
    const r = range(0, 10);
    for (let i = 0; i < 2; i++) {
      expect(a.invalidateRangeStartNonblock(r)).toBe(true);
      a.invalidateRangeEnd(r);
    }
    expect(a.invalidateSeq).toBe(2); // nothing subscribed: the ranges overlapped nobody
    expect(b.invalidateRangeStartNonblock(r)).toBe(true);
    expect(() => a.invalidateRangeEnd(r)).toThrow(UnbalancedEndError);
    b.invalidateRangeEnd(r);
    expect(a.activeInvalidateRanges).toBe(0);
    expect(b.activeInvalidateRanges).toBe(0);
  });

  it('while one of two starts is left, the range still belongs to its address space', () => {
    const a = makeSubs().subs;
    const b = makeSubs().subs;
    const r = range(0, 10);
    a.invalidateRangeStartNonblock(r);
    a.invalidateRangeStartNonblock(r);
    a.invalidateRangeEnd(r);
    expectThrows(
      () => b.invalidateRangeStartNonblock(r),
      TypeError,
      'invalidateRangeStartNonblock: the range object has a start not ended yet on another address space (a range belongs to one address space until its ends)',
    );
    expect(() => b.invalidateRangeEnd(r)).toThrow(UnbalancedEndError);
    a.invalidateRangeEnd(r);
    expect(b.invalidateRangeStartNonblock(r)).toBe(true);
    b.invalidateRangeEnd(r);
    expect(b.activeInvalidateRanges).toBe(0);
  });

  it('a failed start counts nothing: the same range object can be started again', () => {
    const { subs } = makeSubs();
    let eagain = true;
    subs.insertInterval(0, 10, {
      invalidate: (s, _r, cur) => {
        if (eagain) return false;
        s.setSeq(cur);
        return true;
      },
    });
    const r = range(0, 10);
    expect(subs.invalidateRangeStartNonblock(r)).toBe(false);
    expect(() => subs.invalidateRangeEnd(r)).toThrow(UnbalancedEndError);
    eagain = false;
    expect(subs.invalidateRangeStartNonblock(r)).toBe(true);
    subs.invalidateRangeEnd(r);
    expect(subs.activeInvalidateRanges).toBe(0);
  });
});

describe('an ended range object does not keep its address space alive', () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;

  /** Starts `r` on a fresh address space (ending it if `end`); a weak ref to a subscriber's ops. */
  function startOnFreshSpace(r: MmuNotifierRange, end: boolean): WeakRef<IntervalNotifierOps> {
    const subs = new MmuNotifierSubscriptions();
    const ops: IntervalNotifierOps = {
      invalidate: (s, _r, cur) => {
        s.setSeq(cur);
        return true;
      },
    };
    subs.insertInterval(0, 10, ops);
    if (!subs.invalidateRangeStartNonblock(r)) throw new Error('the start failed');
    if (end) subs.invalidateRangeEnd(r);
    return new WeakRef(ops);
  }

  async function collected(ref: WeakRef<object>): Promise<boolean> {
    for (let i = 0; i < 10; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      gc();
      if (ref.deref() === undefined) return true;
    }
    return false;
  }

  it('after its last end the range drops the address space (a started one holds it)', async () => {
    const ended = range(0, 10);
    const open = range(0, 10);
    const endedRef = startOnFreshSpace(ended, true);
    const openRef = startOnFreshSpace(open, false);
    expect(await collected(endedRef)).toBe(true);
    // The control: an open start keeps its address space, whose tree holds the subscription.
    expect(await collected(openRef)).toBe(false);
    expect([ended.start, open.start]).toEqual([0, 0]); // both ranges stay alive to here
  });
});
