import { describe, expect, it } from 'vitest';
import { PAGE_SIZE } from '../src/primary/mm.js';
import { mmapOp, munmapOp, oomReapOp, reclaimOp } from '../src/primary/ops.js';
import { PROT_READ, PROT_WRITE } from '../src/primary/vmas.js';
import { awaitRemoval } from '../src/secondaries/glue.js';
import { KvmGuest } from '../src/secondaries/kvm.js';
import { VhostDev } from '../src/secondaries/vhost.js';
import { makeWorld, translations } from './world.js';

const RW = PROT_READ | PROT_WRITE;

function withKvm() {
  const w = makeWorld();
  const kvm = new KvmGuest(w.mm, w.checker, [{ gfn: 0, hva: 100, npages: 32 }]);
  w.checker.addSecondary(kvm);
  return { w, kvm };
}

describe('KVM guest', () => {
  it('reclaim honours the shadow young bit (clearFlushYoung), then swaps out and the guest re-faults the data', async () => {
    const { w, kvm } = withKvm();
    await w.run(async (t) => {
      await mmapOp(w.mm, t, 100, 132, RW);
      await kvm.access(t, 3, true); // gfn 3 -> hva 103, written through the shadow PTE
      const written = w.checker.expected[103];
      // First pass: the PTE is young (the fault) and so is the SPTE (the access): kept, both
      // bits cleared. Second pass: old everywhere: swapped out.
      await reclaimOp(w.mm, t, 103, 104);
      expect(w.stats.swapOuts).toBe(0);
      expect(w.stats.secondaryYoung).toBe(1); // kept because the guest used it
      await reclaimOp(w.mm, t, 103, 104);
      expect(w.stats.swapOuts).toBe(1);
      expect(translations(kvm)).toHaveLength(0); // zapped by the 'clear' invalidation
      await kvm.access(t, 3, false); // swap-in via GUP, data checked by the checker
      expect(w.stats.swapIns).toBe(1);
      expect(w.checker.expected[103]).toBe(written);
    });
    expect(kvm.tracker.seq).toBe(1); // one invalidation of a memslot page ended: the swap-out
  });

  it('reports its accessed bits through testYoung/clearYoung (test does not clear, clear does)', async () => {
    const { w, kvm } = withKvm();
    const P = 4096;
    await w.run(async (t) => {
      await mmapOp(w.mm, t, 100, 132, RW);
      await kvm.access(t, 5, false); // hva 105
    });
    expect(w.mm.subs.testYoung(105 * P, 106 * P)).toBe(true);
    expect(w.mm.subs.testYoung(105 * P, 106 * P)).toBe(true);
    expect(w.mm.subs.testYoung(106 * P, 110 * P)).toBe(false);
    expect(w.mm.subs.clearYoung(100 * P, 132 * P)).toBe(true);
    expect(w.mm.subs.testYoung(105 * P, 106 * P)).toBe(false);
    expect(w.mm.subs.clearFlushYoung(100 * P, 132 * P)).toBe(false);
  });

  it('leaves the tracker alone for ranges outside every memslot', async () => {
    const { w, kvm } = withKvm();
    await w.run(async (t) => {
      await mmapOp(w.mm, t, 300, 310, RW);
      await munmapOp(w.mm, t, 300, 310);
    });
    expect(kvm.tracker.seq).toBe(0);
    expect(kvm.ops.activeInvalidations).toBe(0);
  });
});

describe('OOM reaper', () => {
  it('gets EAGAIN while the vhost worker is inside its map, skips the VMA, and reaps on a later pass', async () => {
    let eagainRuns = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const w = makeWorld({ seed });
      const vhost = new VhostDev(w.mm, w.checker, [{ start: 200, npages: 1 }]);
      w.checker.addSecondary(vhost);
      const ring = vhost.rings[0]!;
      let done = false;
      await w.run(
        async (t) => {
          await mmapOp(w.mm, t, 200, 208, RW);
          await vhost.access(t, ring, 0, true); // slow path + map prefetch
          await vhost.access(t, ring, 0, false); // fast path: inside the map across a yield
          done = true;
        },
        async (t) => {
          // The reaper strikes while the worker is inside its map section (if it catches it).
          while (vhost.srcu.readers === 0 && !done) await w.sched.yield(t, 'wait for the worker');
          await oomReapOp(w.mm, t);
        },
      );
      if (w.stats.eagain > 0) eagainRuns++;
      expect(w.stats.reapSkips).toBe(w.stats.eagain);
      expect(ring.mapped).toBe(false);
      expect(w.mm.pt.frame[200]).toBe(-1); // reaped in the end
    }
    expect(eagainRuns).toBeGreaterThan(0);
  });
});

describe('waits for a package promise (glue)', () => {
  it('a deferred removal wakes when the invalidation ends; a package promise that settles earlier is a violation', async () => {
    for (const early of [false, true]) {
      const w = makeWorld();
      const sub = w.mm.subs.insertInterval(0, 16 * PAGE_SIZE, {
        invalidate: (s, _range, seq) => {
          s.setSeq(seq);
          return true;
        },
      });
      const order: string[] = [];
      const runs = w.run(
        async (t) => {
          const range = await w.mm.invStart(t, 0, 4, 'clear');
          order.push('started');
          for (let i = 0; i < 4; i++) await w.sched.yield(t, 'inside');
          order.push('ended');
          w.mm.invEnd(t, range);
        },
        async (t) => {
          while (!order.includes('started')) await w.sched.yield(t, 'before');
          const removal = sub.remove();
          expect(sub.state).toBe('pending-remove');
          await awaitRemoval(w.mm, t, sub, early ? Promise.resolve() : removal, 'remove');
          order.push('removed');
          expect(sub.state).toBe('removed');
        },
      );
      if (early) await expect(runs).rejects.toThrow(/remove settled before the invalidation/);
      else {
        await runs;
        expect(order).toEqual(['started', 'ended', 'removed']);
      }
    }
  });
});
