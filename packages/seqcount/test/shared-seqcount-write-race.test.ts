import { afterEach, describe, expect, it, vi } from 'vitest';
import { NestedWriteError } from '../src/errors.js';
import { SharedSeqCount } from '../src/shared-seqcount.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('SharedSeqCount.writeBegin() racing another thread', () => {
  it('throws NestedWriteError when another writeBegin() lands between its load and its compareExchange', () => {
    const seq = SharedSeqCount.create();
    const other = SharedSeqCount.from(seq.buffer); // another thread's view
    const compareExchange = Atomics.compareExchange;
    vi.spyOn(Atomics, 'compareExchange').mockImplementationOnce(((
      ...args: [Int32Array, number, number, number]
    ) => {
      other.writeBegin(); // the other thread wins the race
      return compareExchange(...args);
    }) as typeof Atomics.compareExchange);
    let error: unknown;
    try {
      seq.writeBegin();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NestedWriteError);
    expect((error as Error).message).toBe(
      'writeBegin(): another thread changed the sequence concurrently; writers must be serialized',
    );
    expect(seq.sequence).toBe(1); // the other thread's section, untouched
    other.writeEnd();
    expect(seq.sequence).toBe(2);
  });
});
