import { describe, expect, it } from 'vitest';
import { type MmuNotifierTraceEvent, NotifierCallbackError } from '../src/index.js';
import { type Call, deferred, makeSubs, range, recordingOps, track } from './helpers.js';

// The tracer sees each trace point once, with the values of that moment (trace.ts). These tests
// pin the fields of the events a user's tracing relies on.

function traced() {
  const events: MmuNotifierTraceEvent[] = [];
  const made = makeSubs({ tracer: (e) => events.push(e) });
  const of = <T extends MmuNotifierTraceEvent['type']>(type: T) =>
    events.filter((e): e is Extract<MmuNotifierTraceEvent, { type: T }> => e.type === type);
  return { ...made, events, of };
}

describe('start events', () => {
  it('one per invalidation, even when the walk resumes after an async callback', async () => {
    const { subs, of } = traced();
    const calls: Call[] = [];
    const gate = deferred();
    subs.insertInterval(0, 10, recordingOps(calls));
    subs.insertInterval(10, 10, {
      async invalidate(s, _r, cur) {
        await gate.promise;
        s.setSeq(cur);
        return true;
      },
    });
    subs.insertInterval(20, 10, recordingOps(calls));
    const r = range(0, 30);
    const start = subs.invalidateRangeStart(r);
    gate.resolve();
    await start;
    subs.invalidateRangeEnd(r);
    expect(calls).toHaveLength(2);
    expect(of('start')).toEqual([{ type: 'start', range: r, curSeq: 3, hit: true, active: 1 }]);
    expect(of('invalidate').map((e) => [e.sub.start, e.curSeq])).toEqual([
      [0, 3],
      [10, 3],
      [20, 3],
    ]);
  });

  it('says hit: false for a range that overlaps no subscription (invalidateSeq stays even)', () => {
    const { subs, of } = traced();
    subs.insertInterval(0, 10, recordingOps([]));
    const r = range(10, 20); // touches the subscription's end only: [start, end) is half-open
    expect(subs.invalidateRangeStartNonblock(r)).toBe(true);
    expect(of('start')).toEqual([{ type: 'start', range: r, curSeq: 2, hit: false, active: 1 }]);
    subs.invalidateRangeEnd(r);
    expect(of('end')).toEqual([{ type: 'end', range: r, invalidateSeq: 2, active: 0 }]);
  });
});

describe('insert and remove events', () => {
  it('report how the change was made and invalidateSeq after it', async () => {
    const { subs, of } = traced();
    const idle = subs.insertInterval(0, 10, recordingOps([]));
    const disjoint = range(100, 110);
    expect(subs.invalidateRangeStartNonblock(disjoint)).toBe(true); // partially excluded
    const promoted = subs.insertInterval(20, 10, recordingOps([])); // goes in now, seq odd
    const deferredInsert = subs.insertInterval(40, 10, recordingOps([])); // tree frozen now
    subs.invalidateRangeEnd(disjoint);
    await idle.remove();
    expect(of('insert')).toEqual([
      { type: 'insert', sub: idle, how: 'now', invalidateSeq: 2 },
      { type: 'insert', sub: promoted, how: 'now', invalidateSeq: 3 },
      { type: 'insert', sub: deferredInsert, how: 'deferred', invalidateSeq: 3 },
    ]);
    expect(of('remove')).toEqual([{ type: 'remove', sub: idle, how: 'now', invalidateSeq: 4 }]);
  });
});

describe('wait events', () => {
  it('only when readBegin really waits; remove of a hit subscription waits on the odd value', async () => {
    const { subs, of } = traced();
    const hit = subs.insertInterval(0, 10, recordingOps([]));
    const missed = subs.insertInterval(50, 10, recordingOps([]));
    const r = range(0, 10);
    expect(subs.invalidateRangeStartNonblock(r)).toBe(true);
    expect(await missed.readBegin()).toBe(1); // not hit: no wait, even while invalidating
    expect(of('wait')).toEqual([]);
    const read = track(hit.readBegin());
    const removal = track(missed.remove());
    expect(of('wait')).toEqual([
      { type: 'wait', sub: hit, reason: 'readBegin', seq: 3 },
      { type: 'wait', sub: missed, reason: 'remove', seq: 3 },
    ]);
    subs.invalidateRangeEnd(r);
    await new Promise((resolve) => setImmediate(resolve));
    expect(read.value).toBe(3);
    expect(removal.settled).toBe(true);
  });
});

describe('warning events', () => {
  it('carry the message that also goes to onWarning', async () => {
    const { subs, warnings, of } = traced();
    subs.insertInterval(0, 10, {
      invalidate(s, _r, cur) {
        s.setSeq(cur);
        return false;
      },
    });
    const r = range(0, 10);
    await subs.invalidateRangeStart(r);
    subs.invalidateRangeEnd(r);
    const message = 'invalidate() returned false for a blockable range; continuing';
    expect(of('warning')).toEqual([{ type: 'warning', message }]);
    expect(warnings).toEqual([message]);
  });
});

describe('start-failed events', () => {
  it('report EAGAIN and the number of errors; no end follows', async () => {
    const { subs, of } = traced();
    const eagain = subs.insertInterval(0, 10, { invalidate: () => false });
    const r1 = range(0, 10);
    expect(subs.invalidateRangeStartNonblock(r1)).toBe(false);
    expect(of('start-failed')).toEqual([
      { type: 'start-failed', range: r1, eagain: true, errors: 0 },
    ]);
    await eagain.remove();

    subs.insertInterval(0, 10, {
      invalidate() {
        throw new Error('one');
      },
    });
    subs.insertInterval(10, 10, {
      async invalidate() {
        throw new Error('two');
      },
    });
    const r2 = range(0, 20);
    await expect(subs.invalidateRangeStart(r2)).rejects.toBeInstanceOf(NotifierCallbackError);
    // Errors and EAGAIN together: both are reported (errors win for the caller).
    subs.insertInterval(20, 10, { invalidate: () => false });
    const r3 = range(0, 30);
    expect(() => subs.invalidateRangeStartNonblock(r3)).toThrow(NotifierCallbackError);
    expect(of('start-failed').slice(1)).toEqual([
      { type: 'start-failed', range: r2, eagain: false, errors: 2 },
      { type: 'start-failed', range: r3, eagain: true, errors: 2 },
    ]);
    expect(of('end')).toEqual([]);
  });

  it('a classic EAGAIN is reported the same way', () => {
    const { subs, of } = traced();
    subs.register({ invalidateRangeStart: () => false });
    const r = range(0, 10);
    expect(subs.invalidateRangeStartNonblock(r)).toBe(false);
    expect(of('start-failed')).toEqual([
      { type: 'start-failed', range: r, eagain: true, errors: 0 },
    ]);
  });
});

describe('classic events', () => {
  it('name the op, the subscriber and the range (none for release), just before the call', async () => {
    const { subs, events, of } = traced();
    const log: string[] = [];
    const a = subs.register({
      invalidateRangeStart: () => void log.push(`start after ${events.length} events`),
      invalidateRangeEnd: () => void log.push(`end after ${events.length} events`),
      release: () => void log.push(`release after ${events.length} events`),
    });
    subs.register({}); // no ops: nothing to call, nothing traced
    const r = range(0, 10);
    await subs.invalidateRangeStart(r);
    subs.invalidateRangeEnd(r);
    await a.unregister();
    expect(of('classic')).toEqual([
      { type: 'classic', op: 'invalidateRangeStart', sub: a, range: r },
      { type: 'classic', op: 'invalidateRangeEnd', sub: a, range: r },
      { type: 'classic', op: 'release', sub: a, range: undefined },
    ]);
    expect(events.map((e) => e.type)).toEqual(['start', 'classic', 'end', 'classic', 'classic']);
    expect(log).toEqual(['start after 2 events', 'end after 4 events', 'release after 5 events']);
  });
});
