const sabByteLength = Object.getOwnPropertyDescriptor(SharedArrayBuffer.prototype, 'byteLength')
  ?.get as (this: unknown) => number;

/**
 * Brand check: true for a real SharedArrayBuffer, also one from another realm (vm context), where
 * `instanceof` would fail; false for look-alikes (the byteLength getter checks the internal slot).
 */
function isSharedArrayBuffer(x: unknown): x is SharedArrayBuffer {
  if (typeof x !== 'object' || x === null) return false;
  try {
    sabByteLength.call(x);
    return true;
  } catch {
    return false;
  }
}

/**
 * Validate `(buffer, byteOffset)` for a shared structure of `bytes` bytes made of Int32 words and
 * return an Int32Array view over exactly those words. Throws before anything is created.
 * @throws TypeError if `buffer` is not a SharedArrayBuffer or `byteOffset` is not a number.
 * @throws RangeError if `byteOffset` is negative, not an integer, not a multiple of 4, or leaves
 *   fewer than `bytes` bytes.
 */
export function int32View(
  who: string,
  buffer: unknown,
  byteOffset: unknown,
  bytes: number,
): Int32Array {
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
    throw new RangeError(`${who}: byteOffset must be a non-negative integer, got ${byteOffset}`);
  }
  if (byteOffset % 4 !== 0) {
    throw new RangeError(
      `${who}: byteOffset ${byteOffset} is not a multiple of 4 (Int32 alignment)`,
    );
  }
  const sab = buffer as SharedArrayBuffer;
  if (byteOffset + bytes > sab.byteLength) {
    throw new RangeError(
      `${who}: needs ${bytes} bytes at byteOffset ${byteOffset}, but the buffer has only ${sab.byteLength} bytes`,
    );
  }
  return new Int32Array(sab, byteOffset, bytes / 4);
}

/**
 * Resolve once `words[index]` may no longer equal `value` (woken by Atomics.notify or a timeout).
 * Uses Atomics.waitAsync when the runtime has it (Node >= 16), else polls with a 1 ms timer.
 */
export async function waitWhileEqual(
  words: Int32Array,
  index: number,
  value: number,
): Promise<void> {
  if (typeof Atomics.waitAsync === 'function') {
    const r = Atomics.waitAsync(words, index, value);
    if (r.async) await r.value;
    return;
  }
  await new Promise<void>((resolve) => setTimeout(resolve, 1));
}
