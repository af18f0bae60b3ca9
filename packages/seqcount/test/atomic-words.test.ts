import { describe, expect, it } from 'vitest';
import { loadWords, storeWords } from '../src/atomic-words.js';

describe('loadWords / storeWords', () => {
  it('copy words in and out of a shared Int32Array at an index', () => {
    const shared = new Int32Array(new SharedArrayBuffer(6 * 4));
    storeWords(shared, 2, [7, -8, 9]);
    expect([...shared]).toEqual([0, 0, 7, -8, 9, 0]);
    const out = new Int32Array(3);
    loadWords(shared, 2, out);
    expect([...out]).toEqual([7, -8, 9]);
  });

  it('throw a RangeError for words out of bounds, before copying anything', () => {
    const shared = new Int32Array(4);
    const out = new Int32Array(3).fill(5);
    expect(() => loadWords(shared, 2, out)).toThrow(RangeError);
    expect(() => loadWords(shared, -1, out)).toThrow(/outside the source of length 4/);
    expect(() => loadWords(shared, 0.5, out)).toThrow(RangeError);
    expect([...out]).toEqual([5, 5, 5]);
    expect(() => storeWords(shared, 3, [1, 2])).toThrow(/outside the target of length 4/);
    expect(() => storeWords(shared, Number.NaN, [1])).toThrow(RangeError);
    expect(() => storeWords(shared, -1, [1])).toThrow(/words \[-1, 0\) are outside the target/);
    expect([...shared]).toEqual([0, 0, 0, 0]);
  });
});
