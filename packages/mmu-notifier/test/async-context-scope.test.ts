import { AsyncLocalStorage } from 'node:async_hooks';
import { describe, expect, it } from 'vitest';
import { CallbackContextError, type IntervalNotifier } from '../src/index.js';
import {
  expectIdle,
  flush,
  invalidateOnceBlocking,
  makeSubs,
  range,
  recordingOps,
} from './helpers.js';

// With `asyncContext`, "inside a callback" covers a callback's continuations after `await`
// (README, "What counts as inside a callback"), for classic callbacks as for interval ones, and
// only for callbacks of the same address space.

/** What `readBegin()` of `sub` gives: its seq, or the error it rejected with. */
function readOf(sub: IntervalNotifier): Promise<unknown> {
  return sub.readBegin().then(
    (seq) => seq,
    (error: unknown) => error,
  );
}

describe('asyncContext', () => {
  it('calls made outside every callback are allowed', async () => {
    const { subs } = makeSubs({ asyncContext: new AsyncLocalStorage() });
    const sub = subs.insertInterval(0, 10, recordingOps([]));
    const classic = subs.register({});
    expect(await sub.readBegin()).toBe(1);
    await invalidateOnceBlocking(subs, 0, 10);
    expect(await sub.readBegin()).toBe(3);
    await sub.remove();
    await classic.unregister();
    expect(sub.state).toBe('removed');
    expect(classic.registered).toBe(false);
  });

  it('a classic start continuing after an await is still inside (only with asyncContext)', async () => {
    for (const asyncContext of [undefined, new AsyncLocalStorage()]) {
      const { subs } = makeSubs({ asyncContext });
      const other = subs.insertInterval(100, 10, recordingOps([])); // not hit: no wait
      let result: unknown = 'unset';
      subs.register({
        invalidateRangeStart: async () => {
          await Promise.resolve();
          result = await readOf(other);
        },
      });
      await invalidateOnceBlocking(subs, 0, 10);
      if (asyncContext === undefined) expect(result).toBe(1);
      else expect(result).toBeInstanceOf(CallbackContextError);
      expectIdle(subs);
    }
  });

  it('a classic release continuing after an await is still inside, from unregister() and release()', async () => {
    for (const how of ['unregister', 'release'] as const) {
      const { subs } = makeSubs({ asyncContext: new AsyncLocalStorage() });
      const other = subs.insertInterval(100, 10, recordingOps([]));
      let result: unknown = 'unset';
      const sub = subs.register({
        release: async () => {
          await Promise.resolve();
          result = await readOf(other);
        },
      });
      if (how === 'unregister') await sub.unregister();
      else await subs.release();
      expect(result).toBeInstanceOf(CallbackContextError);
      expect(sub.registered).toBe(false);
    }
  });

  it('only callbacks of the same address space count, even with one AsyncLocalStorage for both', async () => {
    const als = new AsyncLocalStorage();
    const a = makeSubs({ asyncContext: als }).subs;
    const b = makeSubs({ asyncContext: als }).subs;
    const onB = b.insertInterval(0, 10, recordingOps([]));
    const onA = a.insertInterval(100, 10, recordingOps([]));
    const results: unknown[] = [];
    a.insertInterval(0, 10, {
      async invalidate(s, _r, cur) {
        await Promise.resolve();
        s.setSeq(cur);
        results.push(await readOf(onB)); // another address space: allowed
        results.push(await readOf(onA)); // this one: inside
        return true;
      },
    });
    const r = range(0, 10);
    await a.invalidateRangeStart(r);
    a.invalidateRangeEnd(r);
    await flush();
    expect(results[0]).toBe(1);
    expect(results[1]).toBeInstanceOf(CallbackContextError);
    expectIdle(a);
    expectIdle(b);
  });
});
