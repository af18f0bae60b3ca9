/** Argument checks shared by the trackers and faultWithRetry (internal, not exported). */

/** Sentinel for "no range recorded", like the kernel's INVALID_GPA. Never a valid gfn. */
export const INVALID_GFN = -1;

/** Throws TypeError/RangeError unless `value` is a safe integer >= 0. */
export function checkIndex(value: unknown, what: string): asserts value is number {
  if (typeof value !== 'number') {
    throw new TypeError(`${what} must be a number, got ${typeof value}`);
  }
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${what} must be a non-negative safe integer, got ${value}`);
  }
}

/** Throws unless `[start, end)` is a non-empty range of safe non-negative integers. */
export function checkRange(start: unknown, end: unknown): asserts start is number {
  checkIndex(start, 'range start');
  checkIndex(end, 'range end');
  if ((start as number) >= end) {
    throw new RangeError(`empty or negative range [${start}, ${end}): start must be < end`);
  }
}

/** Throws TypeError unless `value` is a function. */
export function checkFunction(value: unknown, what: string): void {
  if (typeof value !== 'function') {
    throw new TypeError(
      `${what} must be a function, got ${value === null ? 'null' : typeof value}`,
    );
  }
}
