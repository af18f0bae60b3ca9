import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SrcuUnlockError } from '../src/errors.js';
import { Srcu } from '../src/srcu.js';

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

function track(p: Promise<void>): { done: boolean } {
  const state = { done: false };
  p.then(() => {
    state.done = true;
  });
  return state;
}

describe('Srcu', () => {
  it('synchronize resolves at once with no reader inside', async () => {
    const srcu = new Srcu();
    const sync = track(srcu.synchronize());
    await flush();
    expect(sync.done).toBe(true);
  });

  it('waits for readers inside at the call, not for readers that enter later', async () => {
    const srcu = new Srcu();
    const early = srcu.readLock();
    const sync = track(srcu.synchronize());
    const late = srcu.readLock();
    await flush();
    expect(sync.done).toBe(false);
    srcu.readUnlock(early);
    await flush();
    expect(sync.done).toBe(true);
    expect(srcu.readers).toBe(1);
    srcu.readUnlock(late);
    expect(srcu.readers).toBe(0);
  });

  /** Keeps one reader inside at all times for 100 turns; true if `synchronize` finished. */
  async function survivesStream(synchronize: (srcu: Srcu) => Promise<void>): Promise<boolean> {
    const srcu = new Srcu();
    let token = srcu.readLock();
    const sync = track(synchronize(srcu));
    for (let i = 0; i < 100 && !sync.done; i++) {
      const next = srcu.readLock(); // always someone inside
      srcu.readUnlock(token);
      token = next;
      await flush();
    }
    srcu.readUnlock(token);
    return sync.done;
  }

  it('a stream of overlapping readers cannot starve it', async () => {
    expect(await survivesStream((srcu) => srcu.synchronize())).toBe(true);
  });

  it('negative control: "wait until nobody is inside" is starved by the same stream', async () => {
    const naive = async (srcu: Srcu) => {
      while (srcu.readers !== 0) await flush();
    };
    expect(await survivesStream(naive)).toBe(false);
  });

  it('several synchronize calls each wait for their own readers', async () => {
    const srcu = new Srcu();
    const a = srcu.readLock();
    const s1 = track(srcu.synchronize());
    const b = srcu.readLock();
    const s2 = track(srcu.synchronize());
    srcu.readUnlock(b);
    await flush();
    expect([s1.done, s2.done]).toEqual([false, false]); // s2 also waits for `a`
    srcu.readUnlock(a);
    await flush();
    expect([s1.done, s2.done]).toEqual([true, true]);
    expect(srcu.waiting).toBe(0);
  });

  it('an unlock without a reader is an SrcuUnlockError and changes nothing', () => {
    const srcu = new Srcu();
    const t = srcu.readLock();
    srcu.readUnlock(t);
    expect(() => srcu.readUnlock(t)).toThrow(SrcuUnlockError);
    expect(() => srcu.readUnlock(42)).toThrow(SrcuUnlockError);
    expect(() => srcu.readUnlock(0.5)).toThrow(SrcuUnlockError);
    expect(srcu.readers).toBe(0);
    const u = srcu.readLock();
    expect(srcu.readers).toBe(1);
    srcu.readUnlock(u);
  });

  interface WaitForReaders {
    readLock(): number;
    readUnlock(token: number): void;
    synchronize(): Promise<void>;
  }

  /**
   * Readers with sections that await, and one writer that unpublishes, synchronizes, then
   * frees. Oracle: no reader that saw the old state is still inside when it is freed, and the
   * writer finishes even though readers keep entering.
   */
  function gracePeriod(make: () => WaitForReaders) {
    return fc.asyncProperty(fc.scheduler(), async (s) => {
      const srcu = make();
      let state: { freed: boolean } = { freed: false };
      const readers = async (n: number) => {
        for (let i = 0; i < n; i++) {
          const t = srcu.readLock();
          const seen = state;
          await s.schedule(Promise.resolve());
          if (seen.freed) throw new Error('a reader used state after it was freed');
          srcu.readUnlock(t);
        }
      };
      const writer = async () => {
        await s.schedule(Promise.resolve());
        const old = state;
        state = { freed: false }; // unpublish
        await srcu.synchronize();
        old.freed = true;
      };
      await s.waitFor(Promise.all([readers(6), readers(6), writer()]));
    });
  }

  it('never frees what a reader inside still uses (explored interleavings)', async () => {
    await fc.assert(
      gracePeriod(() => new Srcu()),
      { numRuns: 300 },
    );
  });

  it('negative control: a synchronize that does not wait is caught', async () => {
    const broken = (): WaitForReaders => {
      const srcu = new Srcu();
      return {
        readLock: () => srcu.readLock(),
        readUnlock: (t) => srcu.readUnlock(t),
        synchronize: () => Promise.resolve(),
      };
    };
    const out = await fc.check(gracePeriod(broken), { numRuns: 300 });
    expect(out.failed).toBe(true);
  });
});
