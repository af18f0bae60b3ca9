import { describe, expect, it } from 'vitest';
import {
  type IntervalNotifierOps,
  type MmuNotifierRange,
  NonBlockablePromiseError,
  NotifierCallbackError,
  SetSeqError,
} from '../src/index.js';
import {
  deferred,
  expectIdle,
  flush,
  invalidateOnce,
  invalidateOnceBlocking,
  makeSubs,
  range,
  recordingOps,
  track,
} from './helpers.js';

// The interval tree walk (itree-walk.ts) runs in synchronous stretches: a blockable callback's
// promise ends one, and the walk resumes after that node once it settled.

/** Ops that log `name`, set the seq and return `result`. */
function named(
  log: string[],
  name: string,
  result: () => boolean | Promise<boolean> = () => true,
): IntervalNotifierOps {
  return {
    invalidate(s, _r, cur) {
      log.push(name);
      s.setSeq(cur);
      return result();
    },
  };
}

describe('a resumed blockable walk', () => {
  it('still stops at the end of the range: subscriptions from range.end on are not called', async () => {
    const { subs } = makeSubs();
    const log: string[] = [];
    subs.insertInterval(
      0,
      5,
      named(log, 'async', async () => true),
    );
    subs.insertInterval(5, 5, named(log, 'last page'));
    subs.insertInterval(10, 5, named(log, 'at end'));
    subs.insertInterval(11, 5, named(log, 'after end'));
    await invalidateOnceBlocking(subs, 0, 10);
    expect(log).toEqual(['async', 'last page']);
    expectIdle(subs);
  });
});

describe('a callback returning false for a blockable range', () => {
  const message = 'invalidate() returned false for a blockable range; continuing';

  it('is warned about when it returns false at once', async () => {
    const { subs, warnings } = makeSubs();
    const log: string[] = [];
    subs.insertInterval(
      0,
      10,
      named(log, 'sync', () => false),
    );
    subs.insertInterval(5, 10, named(log, 'next'));
    await invalidateOnceBlocking(subs, 0, 10);
    expect(log).toEqual(['sync', 'next']);
    expect(warnings).toEqual([message]);
  });

  it('is warned about when its promise resolves to false', async () => {
    const { subs, warnings } = makeSubs();
    const log: string[] = [];
    subs.insertInterval(
      0,
      10,
      named(log, 'async', async () => false),
    );
    subs.insertInterval(5, 10, named(log, 'next'));
    await invalidateOnceBlocking(subs, 0, 10);
    expect(log).toEqual(['async', 'next']);
    expect(warnings).toEqual([message]);
  });
});

describe('setSeq after an async callback settled', () => {
  const message =
    'IntervalNotifier.setSeq() called while no invalidate() callback of this subscription is running';

  it('works until the promise settles, then throws SetSeqError (resolved or rejected)', async () => {
    for (const outcome of ['resolve', 'reject'] as const) {
      const { subs } = makeSubs();
      const gate = deferred();
      let late: (() => void) | undefined;
      const sub = subs.insertInterval(0, 10, {
        async invalidate(s, _r, cur) {
          await gate.promise;
          s.setSeq(cur); // still running: allowed
          late = () => s.setSeq(cur);
          if (outcome === 'reject') throw new Error('late failure');
          return true;
        },
      });
      const r = range(0, 10);
      const start = track(subs.invalidateRangeStart(r));
      gate.resolve();
      await flush();
      expect(start.settled).toBe(true);
      if (outcome === 'resolve') subs.invalidateRangeEnd(r);
      else expect(start.error).toBeInstanceOf(NotifierCallbackError);
      expect(sub.seq).toBe(3);
      let caught: unknown;
      try {
        late?.();
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(SetSeqError);
      expect((caught as Error).message).toBe(message);
      expect(sub.seq).toBe(3);
      expectIdle(subs);
    }
  });
});

describe('a non-blockable walk', () => {
  it('reports a Promise from invalidate as a NonBlockablePromiseError naming invalidate()', () => {
    const { subs } = makeSubs();
    subs.insertInterval(0, 10, { invalidate: async () => true });
    let caught: unknown;
    try {
      subs.invalidateRangeStartNonblock(range(0, 10));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(NotifierCallbackError);
    const [error] = (caught as NotifierCallbackError).errors;
    expect(error).toBeInstanceOf(NonBlockablePromiseError);
    expect((error as Error).message).toBe(
      'invalidate() returned a Promise where it must not wait (non-blockable range, end or aging callback)',
    );
    expectIdle(subs);
  });
});

describe('a walk that throws by itself', () => {
  /** A range whose `end` can be read once (by the argument checks); later reads throw. */
  function brittleRange(failure: Error): MmuNotifierRange {
    let reads = 0;
    return {
      start: 0,
      get end(): number {
        if (++reads > 1) throw failure;
        return 10;
      },
      event: 'unmap',
      blockable: true,
    };
  }

  it('fails the start with that error and leaves nothing active (non-blockable and blockable)', async () => {
    const { subs } = makeSubs();
    const log: string[] = [];
    subs.insertInterval(0, 10, named(log, 'sub'));
    const failure = new Error('range read');
    let caught: unknown;
    try {
      subs.invalidateRangeStartNonblock(brittleRange(failure));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(NotifierCallbackError);
    expect((caught as NotifierCallbackError).errors).toEqual([failure]);
    expectIdle(subs);
    const rejected = await subs.invalidateRangeStart(brittleRange(failure)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(rejected).toBeInstanceOf(NotifierCallbackError);
    expect((rejected as NotifierCallbackError).errors).toEqual([failure]);
    expectIdle(subs);
    expect(log).toEqual([]);
    expect(subs.invalidateSeq).toBe(2);
    invalidateOnce(subs, 0, 10); // later invalidations work
    expect(log).toEqual(['sub']);
  });
});

describe('walkers', () => {
  // The walk allocates nothing per invalidation: one reusable walker per nesting level, which
  // drops its references (range, failure, pending promise) when its stretch is done.
  it('are reused per nesting level and keep no range alive', async () => {
    const { subs } = makeSubs();
    let nest = true;
    const sub = subs.insertInterval(0, 10, {
      invalidate(s, _r, cur) {
        s.setSeq(cur);
        if (nest) {
          nest = false;
          invalidateOnce(subs, 0, 10); // one nested level
        }
        return true;
      },
    });
    subs.insertInterval(
      5,
      10,
      recordingOps([], (call) => (call.blockable ? Promise.resolve(true) : true)),
    );
    const mm = sub._mm;
    for (let i = 0; i < 20; i++) {
      invalidateOnce(subs, 0, 10);
      await invalidateOnceBlocking(subs, 0, 10);
    }
    expect(mm._walkDepth).toBe(0);
    expect(mm._walks).toHaveLength(2);
    for (const w of mm._walks) {
      expect(w.range).toBeUndefined();
      expect(w.failure).toBeUndefined();
      expect(w.pending).toBeUndefined();
      expect(w.pendingNode).toBeUndefined();
    }
    expectIdle(subs);
  });
});
