import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NestedWriteError } from '../src/errors.js';
import { SeqCountLatch } from '../src/seqcount-latch.js';

interface Rec {
  a: number;
  b: number;
}
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 1));

describe('SeqCountLatch', () => {
  it('directs readers to the copy the writer is not modifying, and never makes them wait', async () => {
    const latch = new SeqCountLatch<Rec>({ a: 0, b: 0 }, { a: 0, b: 0 });
    const seen: Array<[number, Rec]> = [];
    const w = latch.write(async (copy, index) => {
      copy.a = 1;
      await settle(); // readers run here, mid-update
      seen.push([index, latch.read((c) => ({ ...c }))]);
      copy.b = 1;
    });
    await w;
    // While copy 0 was half-written, readers used copy 1 (old); while copy 1 was, copy 0 (new).
    expect(seen).toEqual([
      [0, { a: 0, b: 0 }],
      [1, { a: 1, b: 1 }],
    ]);
    expect(latch.sequence).toBe(2);
    expect(latch.read((c) => c.a + c.b)).toBe(2);
  });

  it('exposes the kernel-style loop: readBegin() may be odd, copyFor() picks copy[seq & 1]', async () => {
    const c0 = { v: 0 };
    const c1 = { v: 0 };
    const latch = new SeqCountLatch(c0, c1);
    expect(latch.copyFor(latch.readBegin())).toBe(c0);
    latch.latch();
    const start = latch.readBegin();
    expect(start).toBe(1);
    expect(latch.copyFor(start)).toBe(c1);
    latch.latch();
    expect(latch.readRetry(start)).toBe(true);
    expect(latch.readRetry(latch.readBegin())).toBe(false);
  });

  it('serializes writers and refuses a raw latch() in the middle of write(), state unchanged', async () => {
    const latch = new SeqCountLatch({ v: 0 }, { v: 0 });
    const order: number[] = [];
    const w1 = latch.write(async (c, i) => {
      order.push(i);
      await settle();
      c.v += 1;
    });
    const w2 = latch.write((c, i) => {
      order.push(10 + i);
      c.v += 10;
    });
    await settle();
    const before = latch.sequence;
    expect(() => latch.latch()).toThrow(NestedWriteError);
    expect(latch.sequence).toBe(before);
    await Promise.all([w1, w2]);
    expect(order).toEqual([0, 1, 10, 11]);
    expect(latch.sequence).toBe(4);
    expect(latch.read((c) => c.v)).toBe(11);
  });

  it('leaves the sequence even when update throws', async () => {
    const latch = new SeqCountLatch({ v: 0 }, { v: 0 });
    await expect(
      latch.write(() => {
        throw new Error('bad update');
      }),
    ).rejects.toThrow('bad update');
    expect(latch.sequence % 2).toBe(0);
    await latch.write((c) => {
      c.v = 1;
    });
    expect(latch.read((c) => c.v)).toBe(1);
  });

  /** Async readers that await between fields; `checkRetry: false` is the negative control. */
  const latchProperty = (checkRetry: boolean) =>
    fc.asyncProperty(fc.scheduler(), async (s) => {
      const tick = () => s.schedule(Promise.resolve());
      const latch = new SeqCountLatch<Rec>({ a: 0, b: 0 }, { a: 0, b: 0 });
      const writer = (v: number) =>
        latch.write(async (c) => {
          c.a = v;
          await tick();
          c.b = v;
        });
      const reader = async (): Promise<Rec> => {
        for (let attempt = 0; attempt < 50; attempt++) {
          const start = latch.readBegin();
          const copy = latch.copyFor(start);
          const a = copy.a;
          await tick();
          const b = copy.b;
          if (!checkRetry || !latch.readRetry(start)) return { a, b };
        }
        throw new Error('a latch reader needed more than 50 attempts');
      };
      const out = await s.waitFor(Promise.all([writer(1), reader(), writer(2), reader()]));
      for (const r of [out[1], out[3]]) expect(r.a).toBe(r.b);
    });

  it('async readers with readBegin/copyFor/readRetry never see a torn copy (explored interleavings)', async () => {
    await fc.assert(latchProperty(true), { numRuns: 300 });
  });

  it('negative control: the same async reader without readRetry sees a torn copy', async () => {
    const out = await fc.check(latchProperty(false), { numRuns: 300 });
    expect(out.failed).toBe(true);
  });
});
