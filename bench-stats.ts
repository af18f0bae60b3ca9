/**
 * Statistics for the benchmark scripts (the bench/ folders of the packages and of apps/sim): the
 * median, min and max of repeated timings, and their `median (min–max)` text. Dev-only: bench files
 * import it by relative path (`../../../bench-stats.js`); they are not published.
 */

/** The median, minimum and maximum of a set of samples (see {@link summarize}). */
export interface Summary {
  /** The middle sample; for an even count, the mean of the two middle samples. */
  readonly median: number;
  /** The smallest sample. */
  readonly min: number;
  /** The largest sample. */
  readonly max: number;
}

/**
 * How {@link formatRange} prints one number: a count of digits after the decimal point (passed to
 * `toFixed`), or a function that formats the value itself (for digits that depend on the
 * magnitude, or unit suffixes such as `1.2k`).
 */
export type ValueFormat = number | ((value: number) => string);

/** The samples sorted in ascending numeric order, as a copy; throws on an empty array. */
function sortedCopy(samples: readonly number[], caller: string): number[] {
  if (samples.length === 0) throw new RangeError(`${caller}: no samples`);
  return [...samples].sort((a, b) => a - b);
}

/** The median of non-empty, ascending `sorted` (even count: the mean of the two middle values). */
function middle(sorted: readonly number[]): number {
  const m = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[m]! : (sorted[m - 1]! + sorted[m]!) / 2;
}

/**
 * The median, minimum and maximum of `samples`, in any order. The input is not modified.
 *
 * @param samples - The measurements, e.g. ns per operation of each round.
 * @returns The median (for an even count, the mean of the two middle samples), min and max.
 * @throws RangeError if `samples` is empty.
 */
export function summarize(samples: readonly number[]): Summary {
  const s = sortedCopy(samples, 'summarize()');
  return { median: middle(s), min: s[0]!, max: s[s.length - 1]! };
}

/**
 * The median of `samples`, in any order: the middle sample, or for an even count the mean of the
 * two middle samples. The input is not modified.
 *
 * @param samples - The measurements.
 * @returns The median.
 * @throws RangeError if `samples` is empty.
 */
export function median(samples: readonly number[]): number {
  return middle(sortedCopy(samples, 'median()'));
}

/**
 * A summary as table text, `median (min–max)`, e.g. `12.3 (11.9–14.0)`.
 *
 * @param summary - What {@link summarize} returned.
 * @param format - Digits after the decimal point for each of the three numbers (default 1), or a
 *   function formatting each number.
 * @param separator - Between min and max (default an en dash, `–`).
 * @returns The formatted text.
 */
export function formatRange(summary: Summary, format: ValueFormat = 1, separator = '–'): string {
  const f = typeof format === 'number' ? (x: number) => x.toFixed(format) : format;
  return `${f(summary.median)} (${f(summary.min)}${separator}${f(summary.max)})`;
}

/** A count with a k/M suffix: 950, 12.3k, 4.56M (for rates in bench tables). */
export function formatCount(x: number): string {
  return x >= 1e6
    ? `${(x / 1e6).toFixed(2)}M`
    : x >= 1e3
      ? `${(x / 1e3).toFixed(1)}k`
      : x.toFixed(0);
}
