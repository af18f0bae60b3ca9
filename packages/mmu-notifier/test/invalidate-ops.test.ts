import { describe, expect, it } from 'vitest';
import {
  clipRange,
  type IntervalNotifier,
  invalidateOps,
  NotifierCallbackError,
  SubscriptionRemovedError,
  teardownInterval,
} from '../src/index.js';
import {
  deferred,
  expectIdle,
  flush,
  invalidateOnceBlocking,
  makeSubs,
  range,
  TestLock,
  track,
} from './helpers.js';

/** A device page table over addresses, zapped through `invalidateOps`. */
function device() {
  const table = new Map<number, number>();
  const zaps: [number, number][] = [];
  const zap = (first: number, last: number) => {
    zaps.push([first, last]);
    for (let a = first; a <= last; a++) table.delete(a);
  };
  return { table, zaps, zap };
}

describe('invalidateOps', () => {
  it('non-blockable, lock free: setSeq, zap of the clipped range, unlock', async () => {
    const { subs, warnings } = makeSubs();
    const lock = new TestLock();
    const dev = device();
    const sub = subs.insertInterval(10, 10, invalidateOps({ lock, zap: dev.zap }));
    const seq = await sub.readBegin();
    const r = range(0, 15);
    expect(subs.invalidateRangeStartNonblock(r)).toBe(true);
    expect(dev.zaps).toEqual([[10, 14]]);
    expect(sub.seq).toBe(3);
    expect(sub.readRetry(seq)).toBe(true);
    expect(lock.held).toBe(false);
    subs.invalidateRangeEnd(r);
    expect(warnings).toEqual([]);
  });

  it('non-blockable, lock held: EAGAIN without waiting, zapping or setting the seq', () => {
    const { subs } = makeSubs();
    const lock = new TestLock();
    const dev = device();
    const sub = subs.insertInterval(0, 10, invalidateOps({ lock, zap: dev.zap }));
    lock.tryLock();
    expect(subs.invalidateRangeStartNonblock(range(0, 10))).toBe(false);
    expect(dev.zaps).toEqual([]);
    expect(sub.seq).toBe(1);
    expectIdle(subs);
  });

  it('blockable, lock held: waits for the lock, then zaps; the start resolves after', async () => {
    const { subs } = makeSubs();
    const lock = new TestLock();
    const dev = device();
    subs.insertInterval(0, 10, invalidateOps({ lock, zap: dev.zap }));
    lock.tryLock();
    const r = range(5, 30);
    const start = track(subs.invalidateRangeStart(r));
    await flush();
    expect(start.settled).toBe(false);
    expect(dev.zaps).toEqual([]);
    lock.unlock();
    await flush();
    expect(start.settled).toBe(true);
    expect(dev.zaps).toEqual([[5, 9]]);
    expect(lock.held).toBe(false);
    subs.invalidateRangeEnd(r);
  });

  it('works with a lock whose lock() blocks and returns nothing', async () => {
    const { subs } = makeSubs();
    let held = true;
    const lock = {
      tryLock: () => {
        if (held) return false;
        held = true;
        return true;
      },
      lock: () => {
        held = true; // as if it had waited until free
      },
      unlock: () => {
        held = false;
      },
    };
    const dev = device();
    subs.insertInterval(0, 10, invalidateOps({ lock, zap: dev.zap }));
    await invalidateOnceBlocking(subs, 0, 3);
    expect(dev.zaps).toEqual([[0, 2]]);
    expect(held).toBe(false);
  });

  it('a zap that throws: the lock is released and the start fails with the error', async () => {
    const { subs } = makeSubs();
    const lock = new TestLock();
    subs.insertInterval(
      0,
      10,
      invalidateOps({
        lock,
        zap: () => {
          throw new Error('zap');
        },
      }),
    );
    await expect(subs.invalidateRangeStart(range(0, 10))).rejects.toThrow(NotifierCallbackError);
    expect(lock.held).toBe(false);
    expectIdle(subs);
  });

  it("skips the device's own migrations (owner), not other events or owners", async () => {
    const { subs, warnings } = makeSubs();
    const lock = new TestLock();
    const dev = device();
    const me = {};
    subs.insertInterval(0, 10, invalidateOps({ lock, zap: dev.zap, owner: me }));
    const own = { ...range(0, 10, 'migrate'), owner: me };
    await subs.invalidateRangeStart(own);
    subs.invalidateRangeEnd(own);
    expect(dev.zaps).toEqual([]);
    expect(lock.taken).toBe(0);
    const other = { ...range(0, 10, 'migrate'), owner: {} };
    await subs.invalidateRangeStart(other);
    subs.invalidateRangeEnd(other);
    const unmap = { ...range(0, 10, 'unmap'), owner: me };
    await subs.invalidateRangeStart(unmap);
    subs.invalidateRangeEnd(unmap);
    expect(dev.zaps).toEqual([
      [0, 9],
      [0, 9],
    ]);
    expect(warnings).toEqual([]);
  });

  it('rejects bad options with a TypeError', () => {
    const lock = new TestLock();
    expect(() => invalidateOps({ lock: {} as never, zap: () => {} })).toThrow(/tryLock/);
    expect(() => invalidateOps({ lock, zap: 1 as never })).toThrow(/zap/);
    expect(() => invalidateOps(undefined as never)).toThrow(TypeError);
  });

  it('names the bad option exactly, for anything but an options object', () => {
    const lock = new TestLock();
    const zap = () => {};
    for (const bad of [undefined, null, 5, 'options', true]) {
      expect(() => invalidateOps(bad as never)).toThrow(
        new TypeError('invalidateOps: options must be an object'),
      );
    }
    for (const bad of [undefined, null, {}, { tryLock() {}, lock() {} }]) {
      expect(() => invalidateOps({ lock: bad as never, zap })).toThrow(
        new TypeError('invalidateOps: lock must have tryLock(), lock() and unlock()'),
      );
    }
    for (const bad of [undefined, 1, {}]) {
      expect(() => invalidateOps({ lock, zap: bad as never })).toThrow(
        new TypeError('invalidateOps: zap must be a function'),
      );
    }
    expect(lock.taken).toBe(0);
  });

  it.each(['migrate', 'exclusive'] as const)(
    'without an owner, a %s range without owner is zapped as any other',
    async (event) => {
      const { subs, warnings } = makeSubs();
      const lock = new TestLock();
      const dev = device();
      const sub = subs.insertInterval(0, 10, invalidateOps({ lock, zap: dev.zap }));
      const seq = await sub.readBegin();
      const r = range(2, 4, event);
      expect(subs.invalidateRangeStartNonblock(r)).toBe(true);
      expect(dev.zaps).toEqual([[2, 3]]);
      expect(lock.taken).toBe(1);
      expect(sub.readRetry(seq)).toBe(true); // setSeq was called
      subs.invalidateRangeEnd(r);
      expect(warnings).toEqual([]);
    },
  );

  it("with an owner, both the device's own migrate and exclusive ranges are skipped, nothing else", async () => {
    const { subs, warnings } = makeSubs();
    const lock = new TestLock();
    const dev = device();
    const me = { device: 'me' };
    const sub = subs.insertInterval(0, 10, invalidateOps({ lock, zap: dev.zap, owner: me }));
    for (const event of ['migrate', 'exclusive'] as const) {
      const seq = await sub.readBegin();
      const own = { ...range(0, 10, event), owner: me };
      expect(subs.invalidateRangeStartNonblock(own)).toBe(true);
      subs.invalidateRangeEnd(own);
      expect(sub.readRetry(seq)).toBe(false); // no setSeq: the device's reads stay valid
    }
    expect(dev.zaps).toEqual([]);
    expect(lock.taken).toBe(0);
    for (const event of ['unmap', 'clear', 'protection-vma', 'release'] as const) {
      const r = { ...range(0, 10, event), owner: me };
      expect(subs.invalidateRangeStartNonblock(r)).toBe(true);
      subs.invalidateRangeEnd(r);
    }
    const noOwner = range(0, 10, 'migrate');
    expect(subs.invalidateRangeStartNonblock(noOwner)).toBe(true);
    subs.invalidateRangeEnd(noOwner);
    expect(dev.zaps).toHaveLength(5);
    expect(lock.taken).toBe(5);
    expect(warnings).toEqual([]);
  });

  it('a lock that blocks the thread: the zap runs within the start call, not on a later turn', () => {
    const { subs } = makeSubs();
    let held = true;
    const lock = {
      tryLock: () => false, // busy when asked without waiting
      lock: () => {
        held = true; // as if it had waited until free
      },
      unlock: () => {
        held = false;
      },
    };
    const dev = device();
    const sub = subs.insertInterval(0, 10, invalidateOps({ lock, zap: dev.zap }));
    const r = range(0, 3);
    const start = subs.invalidateRangeStart(r);
    expect(dev.zaps).toEqual([[0, 2]]); // synchronously, under the lock
    expect(held).toBe(false);
    expect(sub.seq).toBe(3);
    return start.then(() => subs.invalidateRangeEnd(r));
  });

  it('the callback it builds answers true at once when it got the lock, false when it may not wait', () => {
    const lock = new TestLock();
    const zaps: unknown[][] = [];
    const ops = invalidateOps({ lock, zap: (...args) => void zaps.push(args) });
    const seqs: number[] = [];
    const sub = { start: 10, last: 19, setSeq: (s: number) => void seqs.push(s) };
    const r = { ...range(0, 15), blockable: false };
    expect(ops.invalidate(sub as never, r, 7)).toBe(true);
    expect(seqs).toEqual([7]);
    expect(zaps).toEqual([[10, 14, r, sub]]);
    expect(lock.held).toBe(false);
    lock.tryLock();
    expect(ops.invalidate(sub as never, r, 9)).toBe(false);
    expect(seqs).toEqual([7]);
    expect(lock.held).toBe(true);
  });

  it('clipRange gives the inclusive overlap of a range and a subscription', () => {
    const { subs } = makeSubs();
    const sub = subs.insertInterval(10, 10, { invalidate: () => true });
    expect(clipRange(sub, range(0, 15))).toEqual([10, 14]);
    expect(clipRange(sub, range(12, 40))).toEqual([12, 19]);
    expect(clipRange(sub, range(0, 100))).toEqual([10, 19]);
  });
});

/** A fault through readBegin/readRetry under `lock`, whose resolve waits for `gate`. */
async function fault(
  sub: IntervalNotifier,
  lock: TestLock,
  table: Map<number, number>,
  addr: number,
  frame: () => number,
  gate: Promise<void>,
): Promise<number> {
  for (let attempts = 1; ; attempts++) {
    const seq = await sub.readBegin();
    const page = frame();
    await gate;
    await lock.lock();
    try {
      if (sub.readRetry(seq)) continue;
      table.set(addr, page);
      return attempts;
    } finally {
      lock.unlock();
    }
  }
}

describe('teardownInterval', () => {
  it('leaves no translation while a fault is in flight: the fault retries and fails', async () => {
    const { subs } = makeSubs();
    const lock = new TestLock();
    const dev = device();
    const sub = subs.insertInterval(0, 10, invalidateOps({ lock, zap: dev.zap }));
    const gate = deferred();
    const inFlight = fault(sub, lock, dev.table, 3, () => 300, gate.promise);
    await flush(); // resolved its page, waiting on the gate
    await teardownInterval(sub, { lock, zap: dev.zap });
    gate.resolve();
    await expect(inFlight).rejects.toThrow(SubscriptionRemovedError);
    expect(dev.table.size).toBe(0);
    expect(sub.state).toBe('removed');
  });

  it('zaps what was installed before the removal', async () => {
    const { subs } = makeSubs();
    const lock = new TestLock();
    const dev = device();
    const sub = subs.insertInterval(0, 10, invalidateOps({ lock, zap: dev.zap }));
    await fault(sub, lock, dev.table, 3, () => 300, Promise.resolve());
    expect(dev.table.get(3)).toBe(300);
    await teardownInterval(sub, { lock, zap: dev.zap });
    expect(dev.table.size).toBe(0);
  });

  /**
   * Tears `sub` down while a fault of it is in flight, an invalidation of another subscription
   * keeps the tree frozen (so remove() is deferred), and the primary moves the faulted page to a
   * new frame under an invalidation. The fault's gate opens after `k` microtask turns (k = -1:
   * it installed before the teardown began), the other
   * invalidation ends after `j`, the page moves after `m`, for every k, j, m < 10: the install
   * and the move land before, between and after the teardown's steps. At every turn the device
   * must not map the page to a frame the primary no longer uses. Returns the (k, j, m) where it
   * did.
   */
  async function staleDuringTeardown(teardown: typeof teardownInterval): Promise<string[]> {
    const bad: string[] = [];
    for (let k = -1; k < 10; k++) {
      for (let j = 0; j < 10; j++) {
        for (let m = 0; m < 10; m++) {
          const { subs } = makeSubs();
          const lock = new TestLock();
          const dev = device();
          const sub = subs.insertInterval(0, 10, invalidateOps({ lock, zap: dev.zap }));
          subs.insertInterval(20, 10, invalidateOps({ lock: new TestLock(), zap: () => {} }));
          let frame = 300; // the primary's frame for page 3
          const gate = deferred();
          const inFlight = fault(sub, lock, dev.table, 3, () => frame, gate.promise).catch(() => 0);
          if (k < 0) gate.resolve(); // k = -1: the fault installs before the teardown begins
          await flush();
          const other = range(20, 30);
          subs.invalidateRangeStartNonblock(other);
          const done = teardown(sub, { lock, zap: dev.zap });
          let stale = false;
          for (let i = 0; i < 30; i++) {
            if (i === k) gate.resolve();
            if (i === j) subs.invalidateRangeEnd(other);
            if (i >= m && frame === 300) {
              const move = range(3, 4);
              if (subs.invalidateRangeStartNonblock(move)) {
                frame = 301;
                subs.invalidateRangeEnd(move);
              } // else EAGAIN (the device lock is held): try again next turn
            }
            await Promise.resolve();
            const mapped = dev.table.get(3);
            stale ||= mapped !== undefined && mapped !== frame;
          }
          await done;
          await inFlight;
          if (stale || dev.table.size !== 0) bad.push(`${k},${j},${m}`);
        }
      }
    }
    return bad;
  }

  it('leaves no stale translation wherever the fault and a move of its page land', async () => {
    expect(await staleDuringTeardown(teardownInterval)).toEqual([]);
  });

  it('negative control: the same exploration catches awaiting remove() before the zap', async () => {
    const removeThenZap: typeof teardownInterval = async (sub, { lock, zap }) => {
      await sub.remove();
      await lock.lock();
      zap(sub.start, sub.last);
      lock.unlock();
    };
    expect((await staleDuringTeardown(removeThenZap)).length).toBeGreaterThan(0);
  });

  it('negative control: the same exploration catches a zap that runs a turn before remove()', async () => {
    const zapThenRemove: typeof teardownInterval = async (sub, { lock, zap }) => {
      await lock.lock();
      zap(sub.start, sub.last);
      lock.unlock();
      for (let i = 0; i < 4; i++) await Promise.resolve(); // lets a fault run before the removal
      await sub.remove();
    };
    expect((await staleDuringTeardown(zapThenRemove)).length).toBeGreaterThan(0);
  });

  it('with the lock free, removes and zaps within the call, before its promise settles', async () => {
    const { subs } = makeSubs();
    const lock = new TestLock();
    const dev = device();
    const sub = subs.insertInterval(0, 10, invalidateOps({ lock, zap: dev.zap }));
    await fault(sub, lock, dev.table, 3, () => 300, Promise.resolve());
    const done = teardownInterval(sub, { lock, zap: dev.zap });
    expect(sub.state).toBe('removed');
    expect(dev.zaps).toEqual([[0, 9]]);
    expect(dev.table.size).toBe(0);
    expect(lock.held).toBe(false);
    await done;
  });

  it('with the lock held, waits for it: nothing removed or zapped until it is released', async () => {
    const { subs } = makeSubs();
    const lock = new TestLock();
    const dev = device();
    const sub = subs.insertInterval(0, 10, invalidateOps({ lock, zap: dev.zap }));
    lock.tryLock();
    const done = track(teardownInterval(sub, { lock, zap: dev.zap }));
    await flush();
    expect(sub.state).toBe('active');
    expect(dev.zaps).toEqual([]);
    expect(done.settled).toBe(false);
    lock.unlock();
    await flush();
    expect(done.settled).toBe(true);
    expect(sub.state).toBe('removed');
    expect(dev.zaps).toEqual([[0, 9]]);
    expect(lock.held).toBe(false);
  });

  it('names the bad option exactly and changes nothing: not removed, lock not taken', async () => {
    const { subs } = makeSubs();
    const sub = subs.insertInterval(0, 10, { invalidate: () => true });
    const lock = new TestLock();
    const zap = () => {};
    for (const bad of [undefined, null, 5, 'options']) {
      await expect(teardownInterval(sub, bad as never)).rejects.toThrow(
        new TypeError('teardownInterval: options must be an object'),
      );
    }
    for (const bad of [undefined, {}, { tryLock() {}, unlock() {} }]) {
      await expect(teardownInterval(sub, { lock: bad as never, zap })).rejects.toThrow(
        new TypeError('teardownInterval: lock must have tryLock(), lock() and unlock()'),
      );
    }
    for (const bad of [undefined, 'zap', {}]) {
      await expect(teardownInterval(sub, { lock, zap: bad as never })).rejects.toThrow(
        new TypeError('teardownInterval: zap must be a function'),
      );
    }
    expect(sub.state).toBe('active');
    expect(lock.taken).toBe(0);
    expect(lock.held).toBe(false);
    await teardownInterval(sub, { lock, zap }); // still possible
    expect(sub.state).toBe('removed');
  });

  it('rejects bad options before removing anything', async () => {
    const { subs } = makeSubs();
    const sub = subs.insertInterval(0, 10, { invalidate: () => true });
    await expect(teardownInterval(sub, { lock: {} as never, zap: () => {} })).rejects.toThrow(
      TypeError,
    );
    expect(sub.state).toBe('active');
  });
});
