const sabByteLength = Object.getOwnPropertyDescriptor(SharedArrayBuffer.prototype, 'byteLength')
  ?.get as (this: unknown) => number;

/**
 * Brand check: true for a real SharedArrayBuffer, also one from another realm (vm context), where
 * `instanceof` would fail; false for look-alikes (the byteLength getter checks the internal slot).
 */
function isSharedArrayBuffer(x: unknown): x is SharedArrayBuffer {
  // Stryker disable next-line ConditionalExpression,LogicalOperator: equivalent: the byteLength getter below throws for primitives and null too.
  if (typeof x !== 'object' || x === null) return false;
  try {
    sabByteLength.call(x);
    return true;
    // Stryker disable next-line BlockStatement: equivalent: the caller only tests the result for truthiness, and undefined is falsy.
  } catch {
    return false;
  }
}

/**
 * Validate the `(buffer, byteOffset)` arguments of a `from()` factory for a shared structure of
 * `byteLength` bytes whose words need `alignment`-byte alignment (4 for Int32 words, 8 when
 * Float64 words are stored there too). Throws before anything is created or written; the
 * messages start with `who`. Used by every Shared* class here and by `@mmukit/fault-retry`.
 * @throws TypeError if `buffer` is not a SharedArrayBuffer (any realm) or `byteOffset` is not a
 *   number.
 * @throws RangeError if `byteOffset` is negative, not a safe integer, not a multiple of
 *   `alignment`, or leaves fewer than `byteLength` bytes.
 */
export function checkSharedRegion(
  who: string,
  buffer: unknown,
  byteOffset: unknown,
  byteLength: number,
  alignment: number,
): asserts buffer is SharedArrayBuffer {
  if (!isSharedArrayBuffer(buffer)) {
    const got =
      buffer === null
        ? 'null'
        : typeof buffer === 'object'
          ? buffer.constructor?.name
          : typeof buffer;
    throw new TypeError(`${who}: buffer must be a SharedArrayBuffer, got ${String(got)}`);
  }
  if (typeof byteOffset !== 'number') {
    throw new TypeError(`${who}: byteOffset must be a number, got ${typeof byteOffset}`);
  }
  if (!Number.isSafeInteger(byteOffset) || byteOffset < 0) {
    throw new RangeError(
      `${who}: byteOffset must be a non-negative integer multiple of ${alignment}, got ${byteOffset}`,
    );
  }
  if (byteOffset % alignment !== 0) {
    throw new RangeError(`${who}: byteOffset ${byteOffset} is not a multiple of ${alignment}`);
  }
  const available = sabByteLength.call(buffer);
  if (byteOffset + byteLength > available) {
    throw new RangeError(
      `${who}: needs ${byteLength} bytes at byteOffset ${byteOffset}, but the buffer has only ${available} bytes`,
    );
  }
}

/**
 * {@link checkSharedRegion} for a structure made of Int32 words (alignment 4), returning an
 * Int32Array view over exactly those `bytes` bytes.
 */
export function int32View(
  who: string,
  buffer: unknown,
  byteOffset: unknown,
  bytes: number,
): Int32Array {
  checkSharedRegion(who, buffer, byteOffset, bytes, 4);
  return new Int32Array(buffer, byteOffset as number, bytes / 4);
}

/** Interval of the keep-alive timer in {@link waitWhileEqual}; it never fires in practice. */
const KEEP_ALIVE_MS = 2 ** 30;
const noop = () => {};

/**
 * Resolve once `words[index]` may no longer equal `value` (woken by Atomics.notify, or at once if
 * it already differs), or after `timeoutMs`. Uses Atomics.waitAsync when the runtime has it
 * (Node >= 16), else polls with a 1 ms timer.
 *
 * A pending Atomics.waitAsync does not keep Node's event loop alive: a worker whose only work is
 * this wait would exit instead of being woken. So while it waits, a ref'd interval timer (which
 * never fires) keeps the loop alive; it is created only when the wait really parks.
 */
export async function waitWhileEqual(
  words: Int32Array,
  index: number,
  value: number,
  timeoutMs = Number.POSITIVE_INFINITY,
): Promise<void> {
  // Stryker disable next-line ConditionalExpression,EqualityOperator,StringLiteral,BlockStatement: equivalent under Node 20+, which has Atomics.waitAsync; the fallback polls every 1 ms and every caller checks again.
  if (typeof Atomics.waitAsync === 'function') {
    const r = Atomics.waitAsync(words, index, value, timeoutMs);
    if (!r.async) return;
    const keepAlive = setInterval(noop, KEEP_ALIVE_MS);
    try {
      await r.value;
    } finally {
      clearInterval(keepAlive);
    }
    return;
  }
  // Stryker disable next-line ArrowFunction: the fallback for runtimes without Atomics.waitAsync; Node never takes it.
  await new Promise<void>((resolve) => setTimeout(resolve, 1));
}
