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
