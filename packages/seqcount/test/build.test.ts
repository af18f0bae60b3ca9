import { describe, expect, it } from 'vitest';
import * as built from '../dist/index.js';

describe('the built package (dist/index.js)', () => {
  it('runs a SeqCount write and a validated read', () => {
    const seq = new built.SeqCount();
    const start = seq.readBegin();
    seq.writeBegin();
    expect(() => seq.writeBegin()).toThrow(built.NestedWriteError);
    seq.writeEnd();
    expect(seq.readRetry(start)).toBe(true);
    expect(seq.sequence).toBe(2);
    expect(() => seq.writeEnd()).toThrow(built.UnmatchedWriteEndError);
  });

  it('runs a SeqLock write and read', async () => {
    const lock = new built.SeqLock({ a: 0, b: 0 });
    await lock.write((r) => {
      r.a = 1;
      r.b = 1;
    });
    await expect(lock.read((r) => r.a + r.b)).resolves.toBe(2);
  });
});

describe('the built package: shared-memory classes', () => {
  it('runs a SharedSeqLock write and read over a record in the same buffer', () => {
    const sab = new SharedArrayBuffer(built.SharedSeqLock.BYTES + 4 * 4);
    const lock = built.SharedSeqLock.from(sab);
    const rec = new Int32Array(sab, built.SharedSeqLock.BYTES, 4);
    lock.write(() => built.storeWords(rec, 0, [1, 2, 3, 4]));
    const out = new Int32Array(4);
    lock.read(() => built.loadWords(rec, 0, out));
    expect([...out]).toEqual([1, 2, 3, 4]);
    expect(lock.sequence).toBe(2);
    expect(() =>
      built.SharedSeqCount.from(new ArrayBuffer(8) as unknown as SharedArrayBuffer),
    ).toThrow(TypeError);
  });

  it('runs a SeqCountLatch update', async () => {
    const latch = new built.SeqCountLatch({ v: 0 }, { v: 0 });
    await latch.write((c) => {
      c.v = 9;
    });
    expect(latch.read((c) => c.v)).toBe(9);
    expect(latch.sequence).toBe(2);
  });
});
