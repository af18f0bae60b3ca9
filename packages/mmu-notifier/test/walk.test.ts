import { describe, expect, it } from 'vitest';
import {
  CallbackContextError,
  type IntervalNotifierOps,
  MAX_NESTED_INVALIDATIONS,
  NotifierCallbackError,
} from '../src/index.js';
import {
  deferred,
  expectIdle,
  flush,
  invalidateOnce,
  invalidateOnceBlocking,
  makeSubs,
  range,
  track,
} from './helpers.js';

describe('the invalidation walk', () => {
  it('calls callbacks one at a time in tree order, mixing sync and async ones', async () => {
    const { subs, warnings } = makeSubs();
    const log: string[] = [];
    const gate = deferred<boolean>();
    const mk = (name: string, body: () => boolean | Promise<boolean>): IntervalNotifierOps => ({
      invalidate(s, _r, cur) {
        log.push(`${name}:${cur}`);
        s.setSeq(cur);
        return body();
      },
    });
    subs.insertInterval(
      0,
      10,
      mk('s0', () => true),
    );
    subs.insertInterval(
      10,
      10,
      mk('s1', () => gate.promise),
    );
    subs.insertInterval(
      20,
      10,
      mk('s2', () => false),
    ); // misuse for blockable: warn, continue
    subs.insertInterval(
      30,
      10,
      mk('s3', () => Promise.reject(new Error('s3'))),
    );
    subs.insertInterval(
      40,
      10,
      mk('s4', () => Promise.resolve(true)),
    );
    subs.insertInterval(
      50,
      10,
      mk('s5', () => true),
    );
    const start = track(subs.invalidateRangeStart(range(0, 60)));
    await flush();
    expect(log).toEqual(['s0:3', 's1:3']);
    gate.resolve(true);
    await flush();
    expect(log).toEqual(['s0:3', 's1:3', 's2:3', 's3:3', 's4:3', 's5:3']);
    expect(start.error).toBeInstanceOf(NotifierCallbackError);
    expect(warnings).toHaveLength(1);
    expect(subs.invalidateSeq).toBe(4);
    expect(subs.activeInvalidateRanges).toBe(0);
  });

  it('supports a nested invalidation started from inside a callback (same period, same curSeq)', () => {
    const { subs } = makeSubs();
    const log: string[] = [];
    subs.insertInterval(0, 10, {
      invalidate(s, _r, cur) {
        log.push(`a:${cur}`);
        s.setSeq(cur);
        const inner = range(100, 110);
        if (!subs.invalidateRangeStartNonblock(inner)) throw new Error('EAGAIN');
        subs.invalidateRangeEnd(inner);
        return true;
      },
    });
    subs.insertInterval(5, 10, {
      invalidate(s, _r, cur) {
        log.push(`b:${cur}`);
        s.setSeq(cur);
        return true;
      },
    });
    subs.insertInterval(100, 10, {
      invalidate(s, _r, cur) {
        log.push(`c:${cur}`);
        s.setSeq(cur);
        return true;
      },
    });
    const r = range(0, 20);
    expect(subs.invalidateRangeStartNonblock(r)).toBe(true);
    expect(log).toEqual(['a:3', 'c:3', 'b:3']);
    expect(subs.activeInvalidateRanges).toBe(1);
    expect(subs.invalidateSeq).toBe(3);
    subs.invalidateRangeEnd(r);
    expect(subs.invalidateSeq).toBe(4);
    // The walkers were released: the next walks work the same.
    log.length = 0;
    expect(subs.invalidateRangeStartNonblock(r)).toBe(true);
    subs.invalidateRangeEnd(r);
    expect(log).toEqual(['a:5', 'c:5', 'b:5']);
  });

  it('a nested blockable invalidation from inside a callback shares the period and both walks finish', async () => {
    const { subs } = makeSubs();
    const log: string[] = [];
    let nested: Promise<void> | undefined;
    let nestedStarted = false;
    const inner = range(0, 30);
    subs.insertInterval(0, 10, {
      invalidate(s, r, cur) {
        log.push(`a:${r.start}-${r.end}:${cur}`);
        s.setSeq(cur);
        // Not awaited here (a callback may not wait for its own walk); it suspends on b.
        if (!nestedStarted) {
          nestedStarted = true; // before the call: the nested walk calls us again at once
          nested = subs.invalidateRangeStart(inner);
        }
        return true;
      },
    });
    subs.insertInterval(20, 10, {
      invalidate: async (s, r, cur) => {
        log.push(`b:${r.start}-${r.end}:${cur}`);
        await Promise.resolve();
        s.setSeq(cur); // still valid after the await, until the promise settles
        return true;
      },
    });
    const outer = range(0, 30);
    await subs.invalidateRangeStart(outer);
    await nested;
    expect(log).toEqual(['a:0-30:3', 'a:0-30:3', 'b:0-30:3', 'b:0-30:3']);
    expect(subs.activeInvalidateRanges).toBe(2);
    subs.invalidateRangeEnd(outer);
    expect(subs.invalidateSeq).toBe(3);
    subs.invalidateRangeEnd(inner);
    expect(subs.invalidateSeq).toBe(4);
    expect(subs.activeInvalidateRanges).toBe(0);
  });

  it('runaway nested invalidations from a callback fail at a depth limit and leave the address space idle', () => {
    const { subs } = makeSubs();
    let deepest = 0;
    let level = 0;
    let recurse = true;
    subs.insertInterval(0, 10, {
      invalidate(s, _r, cur) {
        s.setSeq(cur);
        deepest = Math.max(deepest, ++level);
        try {
          const inner = range(0, 10);
          // Recurses until the core refuses; never ends (it fails) so nothing stays open.
          if (recurse && subs.invalidateRangeStartNonblock(inner)) subs.invalidateRangeEnd(inner);
        } finally {
          level--;
        }
        return true;
      },
    });
    let caught: unknown;
    try {
      subs.invalidateRangeStartNonblock(range(0, 10));
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(NotifierCallbackError);
    let root = caught;
    while (root instanceof NotifierCallbackError) root = root.errors[0];
    expect(root).toBeInstanceOf(CallbackContextError);
    expect(String(root)).toMatch(/nested/);
    expect(deepest).toBe(MAX_NESTED_INVALIDATIONS);
    expectIdle(subs);
    expect(subs.invalidateSeq).toBe(4);
    recurse = false;
    invalidateOnce(subs, 0, 10); // later invalidations work
    expect(subs.invalidateSeq).toBe(4 + 2);
  });

  it('a non-blockable walk stops at the first false even with an error before it', () => {
    const { subs } = makeSubs();
    const log: string[] = [];
    const mk = (name: string, result: () => boolean): IntervalNotifierOps => ({
      invalidate(s, _r, cur) {
        log.push(name);
        s.setSeq(cur);
        return result();
      },
    });
    subs.insertInterval(
      0,
      10,
      mk('t', () => {
        throw new Error('t');
      }),
    );
    subs.insertInterval(
      10,
      10,
      mk('f', () => false),
    );
    subs.insertInterval(
      20,
      10,
      mk('never', () => true),
    );
    expect(() => subs.invalidateRangeStartNonblock(range(0, 30))).toThrow(NotifierCallbackError);
    expect(log).toEqual(['t', 'f']);
    expect(subs.activeInvalidateRanges).toBe(0);
    expect(subs.invalidateSeq).toBe(4);
  });
});

describe('a throwing tracer or warning sink', () => {
  it('is reported and ignored: the operations complete normally', async () => {
    const warnings: string[] = [];
    const { subs } = makeSubs({
      tracer: (e) => {
        if (e.type !== 'warning') throw new Error(`tracer ${e.type}`);
      },
      onWarning: (m) => warnings.push(m),
    });
    const sub = subs.insertInterval(0, 10, {
      invalidate(s, _r, cur) {
        s.setSeq(cur);
        return true;
      },
    });
    const r = range(0, 10);
    expect(subs.invalidateRangeStartNonblock(r)).toBe(true);
    subs.invalidateRangeEnd(r);
    await sub.remove();
    expect(subs.invalidateSeq).toBe(4);
    expect(subs.size).toBe(0);
    expect(warnings.map((w) => w.match(/on a (\S+) event/)?.[1])).toEqual([
      'insert',
      'start',
      'invalidate',
      'wake',
      'end',
      'remove',
    ]);
  });

  it('a throwing onWarning does not break the walk', async () => {
    const { subs } = makeSubs({
      onWarning: () => {
        throw new Error('sink');
      },
    });
    const calls: number[] = [];
    for (const i of [0, 1]) {
      subs.insertInterval(i * 10, 10, {
        invalidate(s, _r, cur) {
          calls.push(i);
          s.setSeq(cur);
          return false; // blockable: a warning, then continue
        },
      });
    }
    await invalidateOnceBlocking(subs, 0, 20);
    expect(calls).toEqual([0, 1]);
    expect(subs.activeInvalidateRanges).toBe(0);
  });
});
