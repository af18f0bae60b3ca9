/** Checks for the `from(buffer, byteOffset)` factories of the Shared* classes (internal). */
export function checkSharedRegion(
  buffer: unknown,
  byteOffset: unknown,
  byteLength: number,
  alignment: number,
  what: string,
): asserts buffer is SharedArrayBuffer {
  if (!(buffer instanceof SharedArrayBuffer)) {
    throw new TypeError(`${what}: buffer must be a SharedArrayBuffer`);
  }
  if (typeof byteOffset !== 'number') {
    throw new TypeError(`${what}: byteOffset must be a number, got ${typeof byteOffset}`);
  }
  if (!Number.isSafeInteger(byteOffset) || byteOffset < 0 || byteOffset % alignment !== 0) {
    throw new RangeError(
      `${what}: byteOffset must be a non-negative multiple of ${alignment}, got ${byteOffset}`,
    );
  }
  if (byteOffset + byteLength > buffer.byteLength) {
    throw new RangeError(
      `${what}: needs ${byteLength} bytes at offset ${byteOffset}, buffer has ${buffer.byteLength}`,
    );
  }
}
