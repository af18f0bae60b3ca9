/**
 * Checks one interval endpoint pair: both must be numbers holding safe integers, start <= last.
 * Throws TypeError (not a number) or RangeError (NaN, infinite, fractional, beyond 2^53 - 1, or
 * start > last). `what` names the caller in the message.
 */
export function checkInterval(start: number, last: number, what: string): void {
  if (typeof start !== 'number' || typeof last !== 'number') {
    throw new TypeError(
      `${what}: start and last must be numbers, got ${typeof start} and ${typeof last}`,
    );
  }
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(last)) {
    throw new RangeError(`${what}: start and last must be safe integers, got [${start}, ${last}]`);
  }
  if (start > last) {
    throw new RangeError(`${what}: start (${start}) is greater than last (${last})`);
  }
}
