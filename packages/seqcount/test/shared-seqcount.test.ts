import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { SharedSeqCount } from '../src/shared-seqcount.js';

describe('SharedSeqCount (shared-memory specifics)', () => {
  it('create() allocates BYTES bytes at offset 0', () => {
    const seq = SharedSeqCount.create();
    expect(seq.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(seq.buffer.byteLength).toBe(SharedSeqCount.BYTES);
    expect(seq.byteOffset).toBe(0);
  });

  it('from() views the same words: two views share one counter', () => {
    const a = SharedSeqCount.create();
    const b = SharedSeqCount.from(a.buffer);
    const start = b.rawBegin();
    a.writeBegin();
    expect(b.writing).toBe(true);
    expect(() => b.writeBegin()).toThrow(/already open/);
    a.writeEnd();
    expect(b.sequence).toBe(2);
    expect(b.readRetry(start)).toBe(true);
  });

  it('stores the sequence in word 0 at byteOffset and touches nothing else', () => {
    const sab = new SharedArrayBuffer(32);
    const words = new Int32Array(sab);
    words.fill(7);
    words[2] = 0;
    words[3] = 0;
    const seq = SharedSeqCount.from(sab, 8);
    seq.writeBegin();
    expect([...words]).toEqual([7, 7, 1, 0, 7, 7, 7, 7]);
    seq.writeEnd();
    seq.invalidate();
    expect([...words]).toEqual([7, 7, 4, 0, 7, 7, 7, 7]);
  });

  it('readBegin() returns at once when no write is in progress', () => {
    const seq = SharedSeqCount.create();
    seq.invalidate();
    expect(seq.readBegin()).toBe(2);
  });

  it('wraps at 2^32 like an unsigned 32-bit counter, and reads stay correct across the wrap', () => {
    const seq = SharedSeqCount.create();
    new Int32Array(seq.buffer)[0] = -2; // 0xfffffffe
    expect(seq.sequence).toBe(2 ** 32 - 2);
    const start = seq.readBegin();
    expect(start).toBe(2 ** 32 - 2);
    expect(seq.readRetry(start)).toBe(false);
    seq.writeBegin();
    expect(seq.sequence).toBe(2 ** 32 - 1);
    expect(seq.rawBegin()).toBe(2 ** 32 - 2);
    seq.writeEnd();
    expect(seq.sequence).toBe(0);
    expect(seq.readRetry(start)).toBe(true);
    expect(seq.readRetry(seq.readBegin())).toBe(false);
  });

  it('readRetryFenced() answers like readRetry() and leaves the sequence unchanged', () => {
    const seq = SharedSeqCount.create();
    const start = seq.readBegin();
    expect(seq.readRetryFenced(start)).toBe(false);
    expect(seq.sequence).toBe(0);
    seq.writeBegin();
    expect(seq.readRetryFenced(start)).toBe(true);
    expect(seq.readRetryFenced(seq.rawBegin())).toBe(true);
    expect(seq.sequence).toBe(1);
    seq.writeEnd();
    expect(seq.readRetryFenced(start)).toBe(true);
    expect(seq.readRetryFenced(seq.readBegin())).toBe(false);
    expect(seq.sequence).toBe(2);
    new Int32Array(seq.buffer)[0] = -2; // unsigned values above 2^31 compare correctly too
    expect(seq.readRetryFenced(2 ** 32 - 2)).toBe(false);
  });

  it('readBeginAsync() is readBeginWait()', async () => {
    const seq = SharedSeqCount.create();
    seq.writeBegin();
    const p = seq.readBeginAsync();
    seq.writeEnd();
    await expect(p).resolves.toBe(2);
  });

  describe('from() rejects bad buffers before creating anything', () => {
    it('TypeError for a non-shared ArrayBuffer, a typed array, or no buffer', () => {
      expect(() => SharedSeqCount.from(new ArrayBuffer(8) as unknown as SharedArrayBuffer)).toThrow(
        TypeError,
      );
      expect(() => SharedSeqCount.from(new ArrayBuffer(8) as unknown as SharedArrayBuffer)).toThrow(
        /must be a SharedArrayBuffer, got ArrayBuffer/,
      );
      expect(() => SharedSeqCount.from(new Int32Array(2) as unknown as SharedArrayBuffer)).toThrow(
        TypeError,
      );
      expect(() => SharedSeqCount.from(undefined as unknown as SharedArrayBuffer)).toThrow(
        TypeError,
      );
      expect(() => SharedSeqCount.from(null as unknown as SharedArrayBuffer)).toThrow(/got null/);
    });

    it('accepts a SharedArrayBuffer from another realm, rejects look-alike objects', () => {
      const foreign = runInNewContext('new SharedArrayBuffer(8)') as SharedArrayBuffer;
      expect(SharedSeqCount.from(foreign).sequence).toBe(0);
      const lookAlike = {
        byteLength: 8,
        constructor: SharedArrayBuffer,
      } as unknown as SharedArrayBuffer;
      expect(() => SharedSeqCount.from(lookAlike)).toThrow(TypeError);
      const tagged = {
        byteLength: 8,
        [Symbol.toStringTag]: 'SharedArrayBuffer',
      } as unknown as SharedArrayBuffer;
      expect(() => SharedSeqCount.from(tagged)).toThrow(TypeError);
    });

    it('TypeError for a non-number byteOffset', () => {
      expect(() => SharedSeqCount.from(new SharedArrayBuffer(8), '0' as unknown as number)).toThrow(
        TypeError,
      );
    });

    it('RangeError for a misaligned, negative or fractional byteOffset', () => {
      const sab = new SharedArrayBuffer(64);
      expect(() => SharedSeqCount.from(sab, 2)).toThrow(RangeError);
      expect(() => SharedSeqCount.from(sab, 2)).toThrow(/not a multiple of 4/);
      expect(() => SharedSeqCount.from(sab, -4)).toThrow(/non-negative integer/);
      expect(() => SharedSeqCount.from(sab, 4.5)).toThrow(RangeError);
      expect(() => SharedSeqCount.from(sab, Number.NaN)).toThrow(RangeError);
    });

    it('RangeError for a buffer too short for the counter at that offset', () => {
      expect(() => SharedSeqCount.from(new SharedArrayBuffer(4))).toThrow(RangeError);
      expect(() => SharedSeqCount.from(new SharedArrayBuffer(16), 12)).toThrow(
        /needs 8 bytes at byteOffset 12, but the buffer has only 16 bytes/,
      );
      expect(SharedSeqCount.from(new SharedArrayBuffer(16), 8).byteOffset).toBe(8);
    });
  });
});
