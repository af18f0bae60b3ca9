/**
 * The kernel's tools/testing/selftests/mm/hmm-tests.c cases that are about mirroring and
 * invalidation, re-expressed against the simulated dmirror device. Every device read is also
 * checked by the invariant checker (agreement with the primary page table, no freed frame,
 * coherent data), so "the device read returns the data" is enforced page by page.
 */
import { describe, expect, it } from 'vitest';
import { EFAULT, EPERM } from '../src/primary/mm.js';
import { exitOp, migrateOp, mmapOp, mprotectOp, munmapOp } from '../src/primary/ops.js';
import { PROT_READ, PROT_WRITE } from '../src/primary/vmas.js';
import { SNAP_ERROR, SNAP_NONE, SNAP_READ, SNAP_WRITE } from '../src/secondaries/hmm-mirror.js';
import { makeWorld, translations } from './world.js';

const RW = PROT_READ | PROT_WRITE;
const N = 16;
const BASE = 64;

/** A world with one mirror and one buffer mirroring [BASE, BASE + N) (nothing mapped yet). */
function mirrored() {
  const w = makeWorld();
  const dev = w.mirror();
  const buf = dev.open(BASE, BASE + N);
  return { w, dev, buf };
}

describe('hmm selftests on the simulated mirror', () => {
  it('open_close: a mirror is an interval subscription, inserted and removed', async () => {
    const { w, dev, buf } = mirrored();
    expect(w.mm.subs.size).toBe(1);
    await w.run(async (t) => {
      await dev.close(t, buf);
    });
    expect(w.mm.subs.size).toBe(0);
    expect(w.stats.intervalRemoves).toBe(1);
  });

  it('anon_read: the device reads what the CPU wrote, with one fault', async () => {
    const { w, dev, buf } = mirrored();
    const out: number[] = [];
    let r = 1;
    await w.run(async (t) => {
      await mmapOp(w.mm, t, BASE, BASE + N, RW);
      for (let p = BASE; p < BASE + N; p += 2) await w.mm.cpuAccess(t, p, true); // half written, half never touched
      r = await dev.access(t, buf, BASE, BASE + N, false, out);
    });
    expect(r).toBe(0);
    expect(out).toHaveLength(N); // cpages == npages
    expect(out.filter((v, i) => i % 2 === 0 && v > 0)).toHaveLength(N / 2);
    expect(out.filter((v, i) => i % 2 === 1 && v === 0)).toHaveLength(N / 2);
    expect(w.stats.faults.hmm).toBe(1);
  });

  it('anon_read_prot: PROT_NONE makes the device read fail with EFAULT and map nothing', async () => {
    const { w, dev, buf } = mirrored();
    let r = 0;
    await w.run(async (t) => {
      await mmapOp(w.mm, t, BASE, BASE + N, RW);
      await w.mm.cpuAccess(t, BASE, true);
      await mprotectOp(w.mm, t, BASE, BASE + N, 0);
      r = await dev.access(t, buf, BASE, BASE + N, false);
    });
    expect(r).toBe(EFAULT);
    expect(translations(dev)).toHaveLength(0);
  });

  it('anon_write: device writes are seen by the CPU, with one fault', async () => {
    const { w, dev, buf } = mirrored();
    const written: number[] = [];
    let r = 1;
    await w.run(async (t) => {
      await mmapOp(w.mm, t, BASE, BASE + N, RW);
      r = await dev.access(t, buf, BASE, BASE + N, true, written);
      for (let p = BASE; p < BASE + N; p++) await w.mm.cpuAccess(t, p, false); // checked against `written`
    });
    expect(r).toBe(0);
    expect(written).toHaveLength(N);
    for (let i = 0; i < N; i++) expect(w.checker.expected[BASE + i]).toBe(written[i]);
    expect(w.stats.faults.hmm).toBe(1);
  });

  it('anon_write_prot: read-only mapping: device read works, write fails with EPERM; after mprotect RW it works', async () => {
    const { w, dev, buf } = mirrored();
    const results: number[] = [];
    await w.run(async (t) => {
      await mmapOp(w.mm, t, BASE, BASE + N, PROT_READ);
      results.push(await dev.access(t, buf, BASE, BASE + N, false));
      results.push(await dev.access(t, buf, BASE, BASE + N, true));
      await mprotectOp(w.mm, t, BASE, BASE + N, RW);
      results.push(await dev.access(t, buf, BASE, BASE + N, true));
    });
    expect(results).toEqual([0, EPERM, 0]);
    expect(translations(dev).filter((x) => x.writable)).toHaveLength(N);
  });

  it('anon_read_multiple: each fresh buffer is read with exactly one fault', async () => {
    const w = makeWorld();
    const dev = w.mirror();
    await w.run(async (t) => {
      for (let i = 0; i < 5; i++) {
        const s = BASE + i * N;
        await mmapOp(w.mm, t, s, s + N, RW);
        const buf = dev.open(s, s + N);
        const before = w.stats.faults.hmm;
        expect(await dev.access(t, buf, s, s + N, false)).toBe(0);
        expect(w.stats.faults.hmm - before).toBe(1);
        await munmapOp(w.mm, t, s, s + N);
        await dev.close(t, buf);
      }
    });
  });

  it('partial unmap: only the unmapped part loses its device entries; reading it fails', async () => {
    const { w, dev, buf } = mirrored();
    let r = 0;
    await w.run(async (t) => {
      await mmapOp(w.mm, t, BASE, BASE + N, RW);
      expect(await dev.access(t, buf, BASE, BASE + N, true)).toBe(0);
      await munmapOp(w.mm, t, BASE + N / 2, BASE + N);
      r = await dev.access(t, buf, BASE + N / 2, BASE + N, false);
    });
    const mapped = translations(dev).map((x) => x.page);
    expect(mapped.sort((a, b) => a - b)).toEqual(Array.from({ length: N / 2 }, (_, i) => BASE + i));
    expect(r).toBe(EFAULT);
    expect(w.stats.invalidations.unmap).toBe(1);
  });

  it('mprotect: write-protecting drops device write access; reads re-fault, writes get EPERM', async () => {
    const { w, dev, buf } = mirrored();
    const results: number[] = [];
    await w.run(async (t) => {
      await mmapOp(w.mm, t, BASE, BASE + N, RW);
      results.push(await dev.access(t, buf, BASE, BASE + N, true));
      await mprotectOp(w.mm, t, BASE, BASE + N, PROT_READ);
      results.push(translations(dev).length);
      results.push(await dev.access(t, buf, BASE, BASE + N, false));
      results.push(await dev.access(t, buf, BASE, BASE + N, true));
    });
    expect(results).toEqual([0, 0, 0, EPERM]);
    expect(w.stats.invalidations['protection-vma']).toBe(1);
  });

  for (const kind of ['rmap', 'vma'] as const) {
    it(`migrate (${kind}): after the primary migrates the pages the device re-faults onto the new frames, data intact`, async () => {
      const { w, dev, buf } = mirrored();
      const before: number[] = [];
      const after: number[] = [];
      const frames: number[][] = [[], []];
      await w.run(async (t) => {
        await mmapOp(w.mm, t, BASE, BASE + N, RW);
        await dev.access(t, buf, BASE, BASE + N, true, before);
        frames[0] = translations(dev).map((x) => x.frame);
        await migrateOp(w.mm, t, BASE, BASE + N, kind);
        await dev.access(t, buf, BASE, BASE + N, false, after);
        frames[1] = translations(dev).map((x) => x.frame);
      });
      expect(after).toEqual(before);
      expect(w.stats.migrations).toBe(N);
      expect(w.stats.invalidations[kind === 'rmap' ? 'clear' : 'migrate']).toBe(1);
      expect(w.stats.faults.hmm).toBe(2);
      expect(frames[1]).toHaveLength(N);
      for (const f of frames[1]!) expect(frames[0]).not.toContain(f);
    });
  }

  it('double_map: two mirrors of the same memory both stay coherent across a migration', async () => {
    const w = makeWorld();
    const a = w.mirror('hmm0');
    const b = w.mirror('hmm1');
    const ba = a.open(BASE, BASE + N);
    const bb = b.open(BASE, BASE + N);
    const ra: number[] = [];
    const rb: number[] = [];
    await w.run(async (t) => {
      await mmapOp(w.mm, t, BASE, BASE + N, RW);
      await a.access(t, ba, BASE, BASE + N, true);
      await b.access(t, bb, BASE, BASE + N, false, rb);
      await migrateOp(w.mm, t, BASE, BASE + N);
      await a.access(t, ba, BASE, BASE + N, false, ra);
    });
    expect(ra).toEqual(rb);
  });

  it('snapshot (hmm2.snapshot without device memory): ERROR for PROT_NONE and holes, NONE, READ, WRITE', async () => {
    const w = makeWorld();
    const dev = w.mirror();
    const got: { snap?: Uint8Array | number } = {};
    await w.run(async (t) => {
      await mmapOp(w.mm, t, BASE, BASE + 2, 0); // [0,2) PROT_NONE
      // [2,4) hole
      await mmapOp(w.mm, t, BASE + 4, BASE + 6, RW); // [4,6) never touched
      await mmapOp(w.mm, t, BASE + 6, BASE + 8, PROT_READ); // [6,8) read-only, populated
      await w.mm.cpuAccess(t, BASE + 6, false);
      await w.mm.cpuAccess(t, BASE + 7, false);
      await mmapOp(w.mm, t, BASE + 8, BASE + 10, RW); // [8,10) read-write, populated
      await w.mm.cpuAccess(t, BASE + 8, true);
      await w.mm.cpuAccess(t, BASE + 9, true);
      got.snap = await dev.snapshot(t, BASE, BASE + 10);
    });
    expect(got.snap).toBeInstanceOf(Uint8Array);
    expect(Array.from(got.snap as Uint8Array)).toEqual([
      SNAP_ERROR,
      SNAP_ERROR,
      SNAP_ERROR,
      SNAP_ERROR,
      SNAP_NONE,
      SNAP_NONE,
      SNAP_READ,
      SNAP_READ,
      SNAP_WRITE,
      SNAP_WRITE,
    ]);
    // Nothing was faulted in, and the temporary subscription is gone.
    expect(w.mm.pt.frame[BASE + 4]).toBe(-1);
    expect(w.mm.subs.size).toBe(0);
    expect(w.stats.intervalInserts).toBe(1);
    expect(w.stats.intervalRemoves).toBe(1);
  });

  it('anon_teardown: munmap at a random time during device reads: each read succeeds or fails cleanly', async () => {
    const outcomes = new Set<number>();
    for (let seed = 1; seed <= 40; seed++) {
      const w = makeWorld({ seed });
      const dev = w.mirror();
      const buf = dev.open(BASE, BASE + 4 * N);
      await w.run(
        async (t) => {
          await mmapOp(w.mm, t, BASE, BASE + 4 * N, RW);
          for (let i = 0; i < 3; i++) {
            outcomes.add(await dev.access(t, buf, BASE, BASE + 4 * N, i === 1));
            await w.sched.yield(t, 'between reads');
          }
        },
        async (t) => {
          for (let i = 0; i < seed % 7; i++) await w.sched.yield(t, 'wait');
          await munmapOp(w.mm, t, BASE + 2 * N, BASE + 4 * N);
        },
      );
    }
    // Both outcomes happen across the seeds, and nothing else does.
    expect([...outcomes].sort()).toEqual([EFAULT, 0].sort());
  });

  it('teardown while faulting: exit waits for the in-flight fault, then release leaves no translation', async () => {
    for (let seed = 1; seed <= 20; seed++) {
      const w = makeWorld({ seed });
      const dev = w.mirror();
      const buf = dev.open(BASE, BASE + 4 * N);
      const results: number[] = [];
      await w.run(
        async (t) => {
          await mmapOp(w.mm, t, BASE, BASE + 4 * N, RW);
          results.push(await dev.access(t, buf, BASE, BASE + 4 * N, true));
          results.push(await dev.access(t, buf, BASE, BASE + 4 * N, false));
        },
        async (t) => {
          for (let i = 0; i < seed; i++) await w.sched.yield(t, 'wait');
          await exitOp(w.mm, t);
          await dev.close(t, buf);
        },
      );
      for (const r of results) expect([0, EFAULT]).toContain(r);
      expect(translations(dev)).toHaveLength(0);
      expect(w.mm.frames.allocated).toBe(0);
      expect(w.stats.invalidations.release + w.stats.invalidations.unmap).toBeGreaterThan(0);
    }
  });
});
