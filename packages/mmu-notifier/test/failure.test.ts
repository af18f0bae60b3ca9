import { describe, expect, it } from 'vitest';
import {
  type IntervalNotifierOps,
  NonBlockablePromiseError,
  NotifierCallbackError,
} from '../src/index.js';
import {
  type Call,
  expectIdle,
  flush,
  invalidateOnceBlocking,
  logged,
  makeSubs,
  range,
  recordingOps,
  track,
} from './helpers.js';

const boom = (msg: string): IntervalNotifierOps => ({
  invalidate() {
    throw new Error(msg);
  },
});

describe('failing callbacks never wedge the address space', () => {
  it('a throwing invalidate: the rest still run, the start rejects with every error, state idle, waiters woken', async () => {
    const { subs } = makeSubs();
    const calls: Call[] = [];
    const ok = subs.insertInterval(0, 10, recordingOps(calls));
    subs.insertInterval(10, 10, boom('one'));
    subs.insertInterval(20, 10, recordingOps(calls));
    subs.insertInterval(30, 10, {
      invalidate: async () => {
        await Promise.resolve();
        throw new Error('two');
      },
    });
    const log: string[] = [];
    subs.register({ invalidateRangeStart: () => void log.push('classic') });
    // A reader that was waiting on `ok` from an earlier period sees the period end.
    const r = range(0, 40);
    const start = subs.invalidateRangeStart(r);
    const read = track(ok.readBegin());
    const error = await start.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NotifierCallbackError);
    expect((error as NotifierCallbackError).errors.map((e) => (e as Error).message)).toEqual([
      'one',
      'two',
    ]);
    expect(calls).toHaveLength(2);
    expect(log).toEqual([]); // classic not called when the interval pass failed
    expectIdle(subs);
    expect(subs.invalidateSeq).toBe(4);
    await flush();
    expect(read.value).toBe(3);
    expect(() => subs.invalidateRangeEnd(r)).toThrow(/without a matching/);
    // Later invalidations work.
    await invalidateOnceBlocking(subs, 0, 10);
    expect(subs.invalidateSeq).toBe(6);
  });

  it('a deferred remove waiting on a failed invalidation resolves', async () => {
    const { subs } = makeSubs();
    const victim = subs.insertInterval(0, 10, recordingOps([]));
    const r = range(0, 20);
    subs.invalidateRangeStartNonblock(r);
    const removal = track(victim.remove());
    subs.insertInterval(10, 10, boom('x'));
    const r2 = range(0, 20);
    subs.invalidateRangeEnd(r); // the thrower is inserted at this end
    expect(subs.invalidateSeq).toBe(4);
    await flush();
    expect(removal.settled).toBe(true);
    expect(() => subs.invalidateRangeStartNonblock(r2)).toThrow(NotifierCallbackError);
    expectIdle(subs);
  });

  it('a non-blockable invalidate returning a Promise is a NonBlockablePromiseError, undone like EAGAIN', async () => {
    const { subs } = makeSubs();
    const calls: Call[] = [];
    subs.insertInterval(0, 10, { invalidate: () => Promise.reject(new Error('late')) });
    subs.insertInterval(10, 10, recordingOps(calls));
    const r = range(0, 20);
    let caught: unknown;
    try {
      subs.invalidateRangeStartNonblock(r);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(NotifierCallbackError);
    expect((caught as NotifierCallbackError).errors[0]).toBeInstanceOf(NonBlockablePromiseError);
    expect(calls).toHaveLength(1); // the others still ran
    expectIdle(subs);
    await flush(); // the rejected promise was handled: no unhandled rejection
  });

  it('a result whose `then` getter throws is that callback failing: nothing stays active or in a callback', () => {
    const evil = () => ({
      // biome-ignore lint/suspicious/noThenProperty: the point of the test
      get then(): never {
        throw new Error('then');
      },
    });
    // Interval: the start is undone and the subscription is not left "inside invalidate".
    const one = makeSubs();
    const calls: Call[] = [];
    const sub = one.subs.insertInterval(0, 10, { invalidate: evil as never });
    one.subs.insertInterval(5, 10, recordingOps(calls));
    expect(() => one.subs.invalidateRangeStartNonblock(range(0, 20))).toThrow(
      NotifierCallbackError,
    );
    expect(calls).toHaveLength(1); // the others still ran
    expectIdle(one.subs);
    expect(() => sub.setSeq(3)).toThrow(/no invalidate\(\) callback/);
    // Classic: every start still runs, the interval side is undone (no wedge).
    const two = makeSubs();
    const log: string[] = [];
    two.subs.insertInterval(0, 10, recordingOps([]));
    two.subs.register({ invalidateRangeStart: () => void log.push('older') });
    two.subs.register({ invalidateRangeStart: evil as never });
    expect(() => two.subs.invalidateRangeStartNonblock(range(0, 10))).toThrow(
      NotifierCallbackError,
    );
    expect(log).toEqual(['older']);
    expectIdle(two.subs);
    // Aging: the others are still called.
    const three = makeSubs();
    three.subs.register({ clearYoung: () => logged(log, 'young', true) });
    three.subs.register({ clearYoung: evil as never });
    expect(() => three.subs.clearYoung(0, 10)).toThrow(NotifierCallbackError);
    expect(log).toEqual(['older', 'young']);
  });

  it('errors win over EAGAIN in a non-blockable start', () => {
    const { subs } = makeSubs();
    subs.insertInterval(0, 10, boom('first'));
    subs.insertInterval(10, 10, recordingOps([], false));
    expect(() => subs.invalidateRangeStartNonblock(range(0, 20))).toThrow(NotifierCallbackError);
    expectIdle(subs);
  });

  it('blockable false from invalidate is warned about and the walk continues', async () => {
    const { subs, warnings } = makeSubs();
    const calls: Call[] = [];
    subs.insertInterval(0, 10, recordingOps(calls, false));
    subs.insertInterval(10, 10, recordingOps(calls));
    const r = range(0, 20);
    await subs.invalidateRangeStart(r);
    expect(calls).toHaveLength(2);
    expect(warnings).toHaveLength(1);
    expect(subs.activeInvalidateRanges).toBe(1);
    subs.invalidateRangeEnd(r);
    expectIdle(subs);
  });

  it('a classic start that throws after the interval pass succeeded undoes the interval side', async () => {
    const { subs } = makeSubs();
    const log: string[] = [];
    subs.register({
      invalidateRangeStart: () => void log.push('A:start'),
      invalidateRangeEnd: () => void log.push('A:end'),
    });
    subs.register({
      invalidateRangeStart: () => {
        throw new Error('classic');
      },
    });
    const sub = subs.insertInterval(0, 10, recordingOps([]));
    const r = range(0, 10);
    await expect(subs.invalidateRangeStart(r)).rejects.toBeInstanceOf(NotifierCallbackError);
    expect(log).toEqual(['A:start', 'A:end']);
    expectIdle(subs);
    expect(subs.invalidateSeq).toBe(4);
    expect(sub.seq).toBe(3);
    expect(await sub.readBegin()).toBe(3);
  });

  it('a classic end that throws does not stop the other ends; the state is already consistent', () => {
    const { subs } = makeSubs();
    const log: string[] = [];
    subs.register({ invalidateRangeEnd: () => void log.push('A:end') });
    subs.register({
      invalidateRangeEnd: () => {
        throw new Error('end');
      },
    });
    subs.register({ invalidateRangeEnd: () => Promise.resolve() as never });
    subs.insertInterval(0, 10, recordingOps([]));
    const r = range(0, 10);
    subs.invalidateRangeStartNonblock(r);
    let caught: unknown;
    try {
      subs.invalidateRangeEnd(r);
    } catch (e) {
      caught = e;
    }
    expect((caught as NotifierCallbackError).errors).toHaveLength(2);
    expect(log).toEqual(['A:end']);
    expectIdle(subs);
  });

  it('release reports failures after calling everyone and still ends the period', async () => {
    const { subs } = makeSubs();
    const calls: Call[] = [];
    const log: string[] = [];
    subs.insertInterval(0, 10, boom('r1'));
    subs.insertInterval(10, 10, recordingOps(calls));
    subs.register({
      release: () => {
        throw new Error('r2');
      },
    });
    subs.register({ release: () => void log.push('B') });
    const error = await subs.release().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as NotifierCallbackError).errors.map((e) => (e as Error).message)).toEqual([
      'r1',
      'r2',
    ]);
    expect(calls).toHaveLength(1);
    expect(log).toEqual(['B']);
    expectIdle(subs);
    expect(subs.classicCount).toBe(0);
  });
});
