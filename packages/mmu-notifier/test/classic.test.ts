import { describe, expect, it } from 'vitest';
import {
  CallbackContextError,
  MmuNotifier,
  type MmuNotifierOps,
  NonBlockablePromiseError,
  NotifierCallbackError,
  SubscriptionRemovedError,
} from '../src/index.js';
import {
  deferred,
  flush,
  invalidateOnceBlocking,
  logged,
  makeSubs,
  range,
  recordingOps,
  track,
} from './helpers.js';

/** Classic ops that log `name:op` for each call; `start` gives the start result. */
function logOps(
  log: string[],
  name: string,
  start: boolean | undefined = undefined,
): MmuNotifierOps {
  return {
    invalidateRangeStart: () => {
      log.push(`${name}:start`);
      return start;
    },
    invalidateRangeEnd: () => {
      log.push(`${name}:end`);
    },
    release: () => {
      log.push(`${name}:release`);
    },
  };
}

describe('classic subscribers', () => {
  it('are called newest first, after every interval subscription, and end pairs with start', async () => {
    const { subs } = makeSubs();
    const log: string[] = [];
    subs.register(logOps(log, 'A'));
    subs.register(logOps(log, 'B'));
    subs.insertInterval(0, 10, {
      invalidate: (s, _r, cur) => {
        log.push('interval');
        s.setSeq(cur);
        return true;
      },
    });
    const r = range(0, 10);
    await subs.invalidateRangeStart(r);
    expect(log).toEqual(['interval', 'B:start', 'A:start']);
    subs.invalidateRangeEnd(r);
    expect(log.slice(3)).toEqual(['B:end', 'A:end']);
    expect(subs.invalidateSeq).toBe(4);
  });

  it('non-blockable EAGAIN: every start still called, those that started get their end, interval side undone', () => {
    const { subs, warnings } = makeSubs();
    const log: string[] = [];
    subs.register({ invalidateRangeEnd: () => void log.push('D:end') }); // end only
    subs.register(logOps(log, 'C'));
    subs.register({ invalidateRangeStart: () => logged(log, 'B:start', false) }); // fails, no end
    subs.register(logOps(log, 'A'));
    const sub = subs.insertInterval(0, 10, recordingOps([]));
    const r = range(0, 10);
    expect(subs.invalidateRangeStartNonblock(r)).toBe(false);
    expect(log).toEqual(['A:start', 'B:start', 'C:start', 'A:end', 'C:end', 'D:end']);
    expect(subs.invalidateSeq).toBe(4); // the interval pass made it 3, the undo made it 4
    expect(subs.activeInvalidateRanges).toBe(0);
    expect(sub.seq).toBe(3);
    expect(() => subs.invalidateRangeEnd(r)).toThrow(/without a matching/);
    expect(warnings).toEqual([]);
  });

  it('EAGAIN pairing as the kernel: a failing subscriber that has an end gets it (with a warning); a throwing one does not', () => {
    const { subs, warnings } = makeSubs();
    const log: string[] = [];
    subs.register(logOps(log, 'T'));
    subs.register({
      ...logOps(log, 'X'),
      invalidateRangeStart: () => {
        log.push('X:start');
        throw new Error('x');
      },
    });
    subs.register(logOps(log, 'E', false));
    expect(() => subs.invalidateRangeStartNonblock(range(0, 1))).toThrow(NotifierCallbackError);
    expect(log).toEqual(['E:start', 'X:start', 'T:start', 'E:end', 'T:end']);
    expect(warnings).toHaveLength(1);
    expect(subs.activeInvalidateRanges).toBe(0);
  });

  it('non-blockable interval EAGAIN: later subscriptions and every classic one are not called', () => {
    const { subs } = makeSubs();
    const log: string[] = [];
    subs.register(logOps(log, 'A'));
    const names: string[] = [];
    for (const [i, ok] of [true, false, true].entries()) {
      subs.insertInterval(i * 10, 10, {
        invalidate: (s, _r, cur) => {
          names.push(`s${i}`);
          s.setSeq(cur);
          return ok;
        },
      });
    }
    const r = range(0, 30);
    expect(subs.invalidateRangeStartNonblock(r)).toBe(false);
    expect(names).toEqual(['s0', 's1']);
    expect(log).toEqual([]);
    expect(subs.invalidateSeq).toBe(4);
    expect(subs.activeInvalidateRanges).toBe(0);
    expect(subs.isInvalidating).toBe(false);
  });

  it('blockable false from a classic start is warned about and treated as success', async () => {
    const { subs, warnings } = makeSubs();
    const log: string[] = [];
    subs.register(logOps(log, 'A', false));
    await invalidateOnceBlocking(subs, 0, 10);
    expect(log).toEqual(['A:start', 'A:end']);
    expect(warnings).toHaveLength(1);
  });

  it('ages with OR semantics: clear* call everyone, testYoung stops at the first young', () => {
    const { subs } = makeSubs();
    const log: string[] = [];
    const aging = (name: string, young: boolean): MmuNotifierOps => ({
      clearFlushYoung: (_s, start, end) => logged(log, `${name}:cfy:${start}-${end}`, young),
      clearYoung: () => logged(log, `${name}:cy`, young),
      testYoung: () => logged(log, `${name}:ty`, young),
    });
    subs.register(aging('A', false));
    subs.register(aging('B', true));
    subs.register(aging('C', false)); // called first
    expect(subs.clearFlushYoung(4, 8)).toBe(true);
    expect(log).toEqual(['C:cfy:4-8', 'B:cfy:4-8', 'A:cfy:4-8']);
    log.length = 0;
    expect(subs.clearYoung(0, 1)).toBe(true);
    expect(log).toEqual(['C:cy', 'B:cy', 'A:cy']);
    log.length = 0;
    expect(subs.testYoung(0, 1)).toBe(true);
    expect(log).toEqual(['C:ty', 'B:ty']);
    log.length = 0;
    const { subs: none } = makeSubs();
    expect(none.clearFlushYoung(0, 1)).toBe(false);
    none.register(aging('Z', false));
    expect(none.testYoung(0, 1)).toBe(false);
    expect(none.clearYoung(0, 1)).toBe(false);
  });

  it('a throwing aging callback does not stop the others', () => {
    const { subs } = makeSubs();
    const log: string[] = [];
    subs.register({ clearYoung: () => logged(log, 'A', true) });
    subs.register({
      clearYoung: () => {
        throw new Error('boom');
      },
    });
    subs.register({
      clearYoung: () => logged(log, 'C', false),
      testYoung: () => Promise.resolve(true) as never,
    });
    expect(() => subs.clearYoung(0, 1)).toThrow(NotifierCallbackError);
    expect(log).toEqual(['C', 'A']);
    let caught: unknown;
    try {
      subs.testYoung(0, 1);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(NotifierCallbackError);
    expect((caught as NotifierCallbackError).errors[0]).toBeInstanceOf(NonBlockablePromiseError);
  });

  it('unregister calls release once, stops every later call, and a second unregister fails', async () => {
    const { subs } = makeSubs();
    const log: string[] = [];
    const a = subs.register(logOps(log, 'A'));
    await a.unregister();
    expect(log).toEqual(['A:release']);
    expect(a.registered).toBe(false);
    expect(subs.classicCount).toBe(0);
    await invalidateOnceBlocking(subs, 0, 10);
    expect(log).toEqual(['A:release']);
    await expect(a.unregister()).rejects.toMatchObject({ name: 'SubscriptionRemovedError' });
  });

  it('a second unregister names the call and the reason', async () => {
    const { subs } = makeSubs();
    const a = subs.register({});
    await a.unregister();
    const error = await a.unregister().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SubscriptionRemovedError);
    expect((error as Error).message).toBe('MmuNotifier.unregister(): already unregistered');
  });

  it('unregister from inside its own walk is refused, names what it would wait for, and changes nothing', async () => {
    const { subs } = makeSubs();
    const log: string[] = [];
    let attempt: Promise<void> | undefined;
    const a: MmuNotifier = subs.register({
      ...logOps(log, 'A'),
      invalidateRangeStart: () => {
        log.push('A:start');
        attempt ??= a.unregister();
      },
    });
    const r = range(0, 10);
    await subs.invalidateRangeStart(r);
    const error = await attempt!.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CallbackContextError);
    expect((error as Error).message).toBe(
      'MmuNotifier.unregister() called from inside a notifier callback of the same address space (it would wait for its own walk)',
    );
    expect(a.registered).toBe(true);
    subs.invalidateRangeEnd(r);
    expect(log).toEqual(['A:start', 'A:end']);
    await a.unregister(); // the refused call did not count: this one is the first
    expect(log).toEqual(['A:start', 'A:end', 'A:release']);
    expect(a.registered).toBe(false);
  });

  it('a release that throws during unregister: it rejects with the failure, and is unregistered anyway', async () => {
    const { subs } = makeSubs();
    const failure = new Error('release failed');
    const log: string[] = [];
    const a = subs.register({
      release: () => {
        throw failure;
      },
      invalidateRangeStart: () => void log.push('A:start'),
    });
    const error = await a.unregister().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NotifierCallbackError);
    expect((error as NotifierCallbackError).message).toBe(
      'MmuNotifier.unregister: 1 callback failed (see .errors)',
    );
    expect((error as NotifierCallbackError).errors).toEqual([failure]);
    expect((error as NotifierCallbackError).cause).toBe(failure);
    expect(a.registered).toBe(false);
    expect(subs.classicCount).toBe(0);
    await invalidateOnceBlocking(subs, 0, 10);
    expect(log).toEqual([]);
  });

  it('a release that rejects during unregister is reported the same way', async () => {
    const { subs } = makeSubs();
    const failure = new Error('async release failed');
    const a = subs.register({ release: () => Promise.reject(failure) });
    await expect(a.unregister()).rejects.toMatchObject({
      name: 'NotifierCallbackError',
      errors: [failure],
    });
    expect(a.registered).toBe(false);
  });

  it('ops gives back the very object registered', () => {
    const { subs } = makeSubs();
    const ops: MmuNotifierOps = { clearYoung: () => false };
    const a = subs.register(ops);
    expect(a.ops).toBe(ops);
    expect(subs.register({}).ops).not.toBe(ops);
  });

  it('is not constructible by users: the TypeError names the factory', () => {
    const Classic = MmuNotifier as unknown as new (...args: unknown[]) => unknown;
    expect(() => new Classic()).toThrow(
      new TypeError('MmuNotifier is not constructible: use MmuNotifierSubscriptions.register()'),
    );
    expect(() => new Classic(Symbol('mmukit.mmu-notifier.internal'), {}, {})).toThrow(TypeError);
  });

  it('unregister waits for a suspended classic walk (synchronize_srcu) and the walk skips it', async () => {
    const { subs } = makeSubs();
    const log: string[] = [];
    const gate = deferred();
    const b = subs.register(logOps(log, 'B'));
    subs.register({
      async invalidateRangeStart() {
        log.push('A:start');
        await gate.promise;
      },
    });
    const r = range(0, 10);
    const start = track(subs.invalidateRangeStart(r));
    await flush();
    expect(log).toEqual(['A:start']);
    const unreg = track(b.unregister());
    await flush();
    expect(log).toEqual(['A:start', 'B:release']);
    expect(unreg.settled).toBe(false);
    gate.resolve();
    await flush();
    expect(start.settled).toBe(true);
    expect(unreg.settled).toBe(true);
    expect(log).toEqual(['A:start', 'B:release']); // B was unhashed before the walk reached it
    subs.invalidateRangeEnd(r);
    expect(log).toEqual(['A:start', 'B:release']);
  });

  it('unregister waits only for walks begun before it (an SRCU grace period): newer walks cannot starve it', async () => {
    const { subs } = makeSubs();
    const gates: Array<() => void> = [];
    subs.register({
      invalidateRangeStart: () =>
        new Promise<undefined>((resolve) => gates.push(() => resolve(undefined))),
    });
    const victim = subs.register({});
    const ranges = [range(0, 10)];
    const starts = [track(subs.invalidateRangeStart(ranges[0]!))];
    await flush();
    const unreg = track(victim.unregister());
    await flush();
    expect(unreg.settled).toBe(false); // the walk begun before it is still running
    // Overlapping walks keep starting: at every moment one is in progress.
    for (let i = 1; i <= 3; i++) {
      ranges.push(range(0, 10));
      starts.push(track(subs.invalidateRangeStart(ranges[i]!)));
      await flush();
      gates.shift()!(); // the oldest walk finishes
      await flush();
      expect(starts[i - 1]!.settled).toBe(true);
      expect(unreg.settled).toBe(true); // kernel: synchronize_srcu() ignores later readers
    }
    gates.shift()!();
    await flush();
    for (const r of ranges) subs.invalidateRangeEnd(r);
    expect(subs.activeInvalidateRanges).toBe(0);
  });

  it('an unregister racing release() may run release twice (as in the kernel) and waits for the walk', async () => {
    const { subs } = makeSubs();
    const gate = deferred();
    let releases = 0;
    const a = subs.register({
      async release() {
        releases++;
        await gate.promise;
      },
    });
    const rel = track(subs.release());
    await flush();
    expect(releases).toBe(1);
    const unreg = track(a.unregister());
    await flush();
    expect(releases).toBe(2);
    expect(unreg.settled).toBe(false);
    gate.resolve();
    await flush();
    expect(rel.settled).toBe(true);
    expect(unreg.settled).toBe(true);
    expect(a.registered).toBe(false);
    expect(subs.classicCount).toBe(0);
  });

  it('a subscriber registered during an invalidation gets its end without a start (as in the kernel)', () => {
    const { subs } = makeSubs();
    const log: string[] = [];
    const r = range(0, 10);
    subs.invalidateRangeStartNonblock(r);
    subs.register(logOps(log, 'late'));
    subs.invalidateRangeEnd(r);
    expect(log).toEqual(['late:end']);
  });

  it('register rejects bad ops', () => {
    const { subs } = makeSubs();
    expect(() => subs.register(null as never)).toThrow(TypeError);
    expect(() => subs.register({ clearYoung: 5 } as never)).toThrow(/clearYoung/);
    expect(subs.classicCount).toBe(0);
  });

  it('release does not call a subscription whose insert is still deferred (as in the kernel: it walks the tree)', async () => {
    const { subs } = makeSubs();
    const calls: Parameters<typeof recordingOps>[0] = [];
    const inTree = subs.insertInterval(0, 10, recordingOps(calls));
    const r = range(0, 10);
    expect(subs.invalidateRangeStartNonblock(r)).toBe(true);
    const late = subs.insertInterval(20, 10, recordingOps(calls));
    expect(late.state).toBe('pending-insert');
    calls.length = 0;
    await subs.release();
    expect(calls.map((c) => [c.sub, c.event, c.curSeq])).toEqual([[inTree, 'release', 3]]);
    subs.invalidateRangeEnd(r);
    expect(late.state).toBe('active'); // inserted at the end of the period, never told
    expect(subs.released).toBe(true);
  });

  it('release calls every interval invalidate once with event release, then classic release', async () => {
    const { subs } = makeSubs();
    const log: string[] = [];
    const classic: MmuNotifier = subs.register(logOps(log, 'A'));
    const calls: Parameters<typeof recordingOps>[0] = [];
    const s1 = subs.insertInterval(0, 10, recordingOps(calls));
    const s2 = subs.insertInterval(Number.MAX_SAFE_INTEGER - 10, 10, recordingOps(calls));
    await subs.release();
    expect(calls.map((c) => [c.sub, c.start, c.end, c.event, c.blockable, c.curSeq])).toEqual([
      [s1, 0, Number.MAX_SAFE_INTEGER, 'release', true, 3],
      [s2, 0, Number.MAX_SAFE_INTEGER, 'release', true, 3],
    ]);
    expect(log).toEqual(['A:release']);
    expect(classic.registered).toBe(false);
    expect(subs.invalidateSeq).toBe(4);
    expect(subs.activeInvalidateRanges).toBe(0);
    expect(subs.released).toBe(true);
    expect(subs.size).toBe(2); // still subscribed; owners remove them
    expect(() => subs.insertInterval(0, 1, recordingOps([]))).toThrow(/released/);
    expect(() => subs.register({})).toThrow(/released/);
    await expect(subs.release()).rejects.toMatchObject({ name: 'ReleasedError' });
    await classic.unregister(); // still required, no second release call
    expect(log).toEqual(['A:release']);
    await s1.remove();
    await s2.remove();
    expect(subs.size).toBe(0);
  });
});
