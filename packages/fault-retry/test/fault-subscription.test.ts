import {
  invalidateOps,
  MmuNotifierSubscriptions,
  SubscriptionRemovedError,
} from '@mmukit/mmu-notifier';
import { Mutex } from '@mmukit/seqcount';
import { describe, expect, it, vi } from 'vitest';
import {
  AsyncInstallError,
  FaultAbortedError,
  FaultRetryLimitError,
  type FaultSubscription,
  faultWithRetry,
  InvalidationTracker,
  type SubscriptionFaultOptions,
} from '../src/index.js';

/**
 * faultWithRetry() over an interval subscription: readBegin (may wait) instead of snapshot,
 * checkRetry as the lockless precheck, readRetry under the lock. The fake follows mmu-notifier's
 * read side: the sequence changes when an invalidation sets it; readRetry compares.
 */
function fakeSubscription() {
  const state = { seq: 1 };
  const sub = {
    readBegin: vi.fn((): number | Promise<number> => state.seq),
    readRetry: vi.fn((seq: number) => seq !== state.seq),
    checkRetry: vi.fn((seq: number) => seq !== state.seq),
  };
  /** An invalidation of the subscription (as its invalidate callback's setSeq would do). */
  const invalidate = () => {
    state.seq += 2;
  };
  return { state, sub, invalidate };
}

function base() {
  const { state, sub, invalidate } = fakeSubscription();
  const lock = new Mutex();
  const log: string[] = [];
  const opts: SubscriptionFaultOptions<string> = {
    subscription: sub,
    address: 0x1000,
    lock,
    backoff: () => {},
    resolve: async () => {
      log.push('resolve');
      return 'page';
    },
    install: (p) => log.push(`install ${p}, locked ${lock.locked}`),
    put: (p) => log.push(`put ${p}`),
  };
  return { state, sub, invalidate, lock, log, opts };
}

describe('faultWithRetry with a subscription', () => {
  it('installs under the lock after readBegin, readRetry false: 0 retries', async () => {
    const { sub, lock, log, opts } = base();
    expect(await faultWithRetry(opts)).toEqual({ page: 'page', retries: 0 });
    expect(log).toEqual(['resolve', 'install page, locked true']);
    expect(sub.readBegin).toHaveBeenCalledTimes(1);
    expect(sub.readRetry).toHaveBeenCalledWith(1);
    expect(lock.locked).toBe(false);
  });

  it('awaits a readBegin that returns a promise (it may wait)', async () => {
    const { sub, log, opts } = base();
    let release!: () => void;
    sub.readBegin.mockImplementationOnce(() => new Promise<number>((r) => (release = () => r(1))));
    const fault = faultWithRetry(opts);
    await new Promise((r) => setTimeout(r, 5));
    expect(log).toEqual([]); // still in readBegin: nothing resolved
    release();
    await expect(fault).resolves.toEqual({ page: 'page', retries: 0 });
  });

  it('uses tryReadBegin when it has a value, readBegin when it says "would wait"', async () => {
    const { sub, opts } = base();
    const tryReadBegin = vi.fn<() => number | undefined>(() => 1);
    await faultWithRetry({ ...opts, subscription: { ...sub, tryReadBegin } });
    expect(tryReadBegin).toHaveBeenCalledTimes(1);
    expect(sub.readBegin).not.toHaveBeenCalled();
    tryReadBegin.mockReturnValueOnce(undefined);
    await faultWithRetry({ ...opts, subscription: { ...sub, tryReadBegin } });
    expect(sub.readBegin).toHaveBeenCalledTimes(1);
  });

  it('loses when an invalidation set the sequence during resolve: puts, retries, installs', async () => {
    const { invalidate, sub, log, opts } = base();
    let n = 0;
    const result = await faultWithRetry({
      ...opts,
      precheck: false,
      resolve: async () => {
        log.push('resolve');
        if (n++ === 0) invalidate();
        return `p${n}`;
      },
    });
    expect(result).toEqual({ page: 'p2', retries: 1 });
    expect(log).toEqual(['resolve', 'put p1', 'resolve', 'install p2, locked true']);
    expect(sub.readBegin).toHaveBeenCalledTimes(2); // a new read for the retry
    expect(sub.readRetry.mock.calls).toEqual([[1], [3]]);
  });

  it('prechecks with checkRetry before resolving and before locking (lockless)', async () => {
    const { invalidate, sub, log, lock, opts } = base();
    const lockedDuringCheck: boolean[] = [];
    sub.checkRetry.mockImplementation((seq) => {
      lockedDuringCheck.push(lock.locked);
      return seq !== 3;
    });
    // Attempt 1: an invalidation sets the sequence right after readBegin: the precheck sees it
    // and the attempt ends without resolving. Attempt 2 passes both prechecks and installs.
    sub.readBegin.mockImplementationOnce(() => {
      invalidate();
      return 1;
    });
    const result = await faultWithRetry(opts);
    expect(result.retries).toBe(1);
    expect(log).toEqual(['resolve', 'install page, locked true']);
    expect(sub.checkRetry.mock.calls.map((c) => c[0])).toEqual([1, 3, 3]);
    expect(lockedDuringCheck).toEqual([false, false, false]);
  });

  it('precheck: false skips checkRetry; a subscription without checkRetry is fine', async () => {
    const { sub, opts } = base();
    await faultWithRetry({ ...opts, precheck: false });
    expect(sub.checkRetry).not.toHaveBeenCalled();
    const { checkRetry: _none, ...noPrecheck } = sub;
    expect(await faultWithRetry({ ...opts, subscription: noPrecheck })).toMatchObject({
      retries: 0,
    });
  });

  it('a readBegin that throws: the very error reaches the caller, nothing resolved or put', async () => {
    const { sub, log, lock, opts } = base();
    const removed = new Error('removed');
    sub.readBegin.mockImplementationOnce(() => {
      throw removed;
    });
    await expect(faultWithRetry(opts)).rejects.toBe(removed);
    sub.readBegin.mockImplementationOnce(() => Promise.reject(removed));
    await expect(faultWithRetry(opts)).rejects.toBe(removed);
    expect(log).toEqual([]);
    expect(lock.locked).toBe(false);
  });

  it('a readBegin that throws on the retry: the lost page was put first, nothing installed', async () => {
    const { invalidate, sub, log, opts } = base();
    const removed = new Error('removed');
    sub.readBegin
      .mockImplementationOnce(() => 1)
      .mockImplementationOnce(() => {
        throw removed;
      });
    const fault = faultWithRetry({
      ...opts,
      precheck: false,
      resolve: async () => {
        invalidate();
        return 'stale';
      },
    });
    await expect(fault).rejects.toBe(removed);
    expect(log).toEqual(['put stale']);
  });

  it('a readBegin that gives a non-number is a TypeError', async () => {
    const { sub, log, opts } = base();
    sub.readBegin.mockImplementationOnce(() => Promise.resolve('1' as unknown as number));
    await expect(faultWithRetry(opts)).rejects.toThrow(TypeError);
    expect(log).toEqual([]);
  });

  it('a throwing readRetry releases the lock and puts the page', async () => {
    const { sub, log, lock, opts } = base();
    const boom = new Error('readRetry');
    sub.readRetry.mockImplementationOnce(() => {
      throw boom;
    });
    await expect(faultWithRetry(opts)).rejects.toBe(boom);
    expect(log).toEqual(['resolve', 'put page']);
    expect(lock.locked).toBe(false);
  });

  it('maxRetries, signal and AsyncInstallError carry the address (gfn is NaN)', async () => {
    const { invalidate, opts } = base();
    const limit = await faultWithRetry({
      ...opts,
      maxRetries: 1,
      resolve: async () => {
        invalidate();
        return 'p';
      },
    }).catch((e: unknown) => e);
    expect(limit).toBeInstanceOf(FaultRetryLimitError);
    expect(limit).toMatchObject({ address: 0x1000, retries: 1 });
    expect((limit as FaultRetryLimitError).gfn).toBeNaN();
    expect((limit as Error).message).toMatch(/faultWithRetry\(\) on address 4096 gave up/);

    const controller = new AbortController();
    controller.abort('stop');
    const aborted = await faultWithRetry({ ...opts, signal: controller.signal }).catch((e) => e);
    expect(aborted).toBeInstanceOf(FaultAbortedError);
    expect(aborted).toMatchObject({ name: 'AbortError', address: 0x1000, reason: 'stop' });

    const { address: _a, ...noAddress } = opts;
    const asyncInstall = await faultWithRetry({
      ...noAddress,
      install: async () => {},
    }).catch((e) => e);
    expect(asyncInstall).toBeInstanceOf(AsyncInstallError);
    expect(asyncInstall).toMatchObject({ address: undefined });
    expect((asyncInstall as Error).message).toMatch(/install\(\) for a subscription returned/);
  });

  it('an abort while readBegin waits is seen before resolving', async () => {
    const { sub, log, opts } = base();
    const controller = new AbortController();
    sub.readBegin.mockImplementationOnce(async () => {
      controller.abort('gone');
      return 1;
    });
    const error = await faultWithRetry({ ...opts, signal: controller.signal }).catch((e) => e);
    expect(error).toMatchObject({ name: 'AbortError', reason: 'gone', retries: 0 });
    expect(log).toEqual([]);
  });

  const bad: Array<[string, Record<string, unknown>, ErrorConstructor, RegExp]> = [
    [
      'tracker and subscription',
      { tracker: new InvalidationTracker(), gfn: 1 },
      TypeError,
      /not both/,
    ],
    ['neither', { subscription: undefined }, TypeError, /needs a tracker .* or a subscription/],
    ['subscription null', { subscription: null }, TypeError, /subscription must be an object/],
    ['no readBegin', { subscription: { readRetry() {} } }, TypeError, /readBegin/],
    ['no readRetry', { subscription: { readBegin() {} } }, TypeError, /readRetry/],
    [
      'checkRetry not a function',
      { subscription: { readBegin() {}, readRetry() {}, checkRetry: 1 } },
      TypeError,
      /checkRetry/,
    ],
    [
      'tryReadBegin not a function',
      { subscription: { readBegin() {}, readRetry() {}, tryReadBegin: 'x' } },
      TypeError,
      /tryReadBegin/,
    ],
    ['a gfn with a subscription', { gfn: 3 }, TypeError, /gfn is for a tracker fault/],
    ['address -1', { address: -1 }, RangeError, /address/],
    ['address "1"', { address: '1' }, TypeError, /address must be a number/],
  ];
  it.each(bad)('rejects %s before doing anything', async (_name, patch, type, message) => {
    const { sub, log, lock, opts } = base();
    const p = faultWithRetry({ ...opts, ...patch } as SubscriptionFaultOptions<string>);
    await expect(p).rejects.toThrow(type);
    await expect(p).rejects.toThrow(message);
    expect(log).toEqual([]);
    expect(sub.readBegin).not.toHaveBeenCalled();
    expect(lock.locked).toBe(false);
  });

  it('rejects an address with a tracker', async () => {
    const tracker = new InvalidationTracker();
    const p = faultWithRetry({
      tracker,
      gfn: 1,
      address: 4,
      lock: new Mutex(),
      resolve: async () => 1,
      install: () => {},
    } as never);
    await expect(p).rejects.toThrow(/address is for a subscription fault/);
  });

  it('accepts any structural subscription type (compile-time)', () => {
    const s: FaultSubscription = { readBegin: async () => 1, readRetry: () => false };
    expect(typeof s.readBegin).toBe('function');
  });
});

describe('faultWithRetry with an mmu-notifier IntervalNotifier', () => {
  function setup() {
    const mm = new MmuNotifierSubscriptions();
    const lock = new Mutex();
    const primary = new Map<number, number>([
      [3, 100],
      [4, 200],
    ]);
    const device = new Map<number, number>();
    const sub = mm.insertInterval(
      0,
      16,
      invalidateOps({
        lock,
        zap: (first, last) => {
          for (let a = first; a <= last; a++) device.delete(a);
        },
      }),
    );
    const fault = (address: number, onResolve?: () => Promise<void>) =>
      faultWithRetry({
        subscription: sub,
        address,
        lock,
        backoff: () => {},
        resolve: async () => {
          const page = primary.get(address)!;
          await onResolve?.();
          return page;
        },
        install: (page) => device.set(address, page),
      });
    return { mm, lock, primary, device, sub, fault };
  }

  it('an invalidation during resolve makes the fault retry and install the new page', async () => {
    const { mm, primary, device, fault } = setup();
    let first = true;
    const result = await fault(3, async () => {
      if (!first) return;
      first = false;
      const range = { start: 3, end: 4, event: 'clear' as const, blockable: true };
      await mm.invalidateRangeStart(range);
      primary.set(3, 101);
      mm.invalidateRangeEnd(range);
    });
    expect(result).toEqual({ page: 101, retries: 1 });
    expect(device.get(3)).toBe(101);
  });

  it('after remove(), a fault fails with SubscriptionRemovedError and installs nothing', async () => {
    const { sub, device, fault } = setup();
    await sub.remove();
    await expect(fault(4)).rejects.toBeInstanceOf(SubscriptionRemovedError);
    expect(device.size).toBe(0);
  });

  it('a remove() while the page is resolved: the fault loses, then gets SubscriptionRemovedError', async () => {
    const { sub, device, lock, fault } = setup();
    const error = await fault(4, () => sub.remove()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SubscriptionRemovedError);
    expect(device.size).toBe(0);
    expect(lock.locked).toBe(false);
  });
});
