import { describe, expect, it } from 'vitest';
import { SeqCount } from '../src/seqcount.js';

describe('SeqCount (in-thread specifics)', () => {
  it('readBegin() never waits: during a write it returns sequence - 1', () => {
    const seq = new SeqCount();
    seq.writeBegin();
    expect(seq.readBegin()).toBe(0);
    seq.writeEnd();
    seq.writeBegin();
    expect(seq.readBegin()).toBe(2);
    expect(seq.readRetry(seq.readBegin())).toBe(true);
  });

  it('wakes every reader waiting in readBeginWait() at writeEnd()', async () => {
    const seq = new SeqCount();
    seq.writeBegin();
    const waits = [seq.readBeginWait(), seq.readBeginWait(), seq.readBeginWait()];
    seq.writeEnd();
    await expect(Promise.all(waits)).resolves.toEqual([2, 2, 2]);
  });
});
