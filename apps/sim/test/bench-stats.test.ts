import { describe, expect, it } from 'vitest';
import { formatCount, formatRange, median, summarize } from '../../../bench-stats.js';

// The statistics helpers shared by every package's bench/ scripts (root bench-stats.ts).
describe('bench-stats', () => {
  it('summarize: odd count, unsorted input', () => {
    expect(summarize([5, 1, 4, 2, 3])).toEqual({ median: 3, min: 1, max: 5 });
  });

  it('summarize: even count takes the mean of the two middle samples', () => {
    expect(summarize([10, 1, 4, 2])).toEqual({ median: 3, min: 1, max: 10 });
    expect(summarize([7, 8])).toEqual({ median: 7.5, min: 7, max: 8 });
  });

  it('summarize: one sample', () => {
    expect(summarize([42])).toEqual({ median: 42, min: 42, max: 42 });
  });

  it('sorts numerically, not as strings', () => {
    expect(summarize([100, 9, 20])).toEqual({ median: 20, min: 9, max: 100 });
    expect(median([-1, -10, 2])).toBe(-1);
  });

  it('median: odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('does not modify its input', () => {
    const xs = [3, 1, 2, 5, 4, 0];
    const copy = [...xs];
    summarize(xs);
    median(xs);
    expect(xs).toEqual(copy);
  });

  it('throws RangeError on an empty array', () => {
    expect(() => summarize([])).toThrow(RangeError);
    expect(() => median([])).toThrow(RangeError);
  });

  it('formatRange: median (min–max), digits and custom formats', () => {
    const s = summarize([12.34, 11.96, 14]);
    expect(formatRange(s)).toBe('12.3 (12.0–14.0)');
    expect(formatRange(s, 2)).toBe('12.34 (11.96–14.00)');
    expect(formatRange(s, 0)).toBe('12 (12–14)');
    expect(formatRange(s, (x) => `${Math.round(x)}k`, '..')).toBe('12k (12k..14k)');
  });

  it('formatCount: plain below a thousand, then k and M with their decimals', () => {
    expect([950, 12_345, 4_560_000, 0].map(formatCount)).toEqual(['950', '12.3k', '4.56M', '0']);
  });
});
