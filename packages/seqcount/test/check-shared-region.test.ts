import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { checkSharedRegion } from '../src/index.js';

describe('checkSharedRegion (the from() validation, exported for fault-retry)', () => {
  it('accepts an aligned region that fits, also a SharedArrayBuffer from another realm', () => {
    expect(() => checkSharedRegion('T', new SharedArrayBuffer(64), 56, 8, 8)).not.toThrow();
    const foreign = runInNewContext('new SharedArrayBuffer(16)') as SharedArrayBuffer;
    expect(foreign instanceof SharedArrayBuffer).toBe(false);
    expect(() => checkSharedRegion('T', foreign, 8, 8, 8)).not.toThrow();
  });

  it.each([
    [new ArrayBuffer(8), 0, TypeError, /^T: buffer must be a SharedArrayBuffer, got ArrayBuffer$/],
    [{ byteLength: 64 }, 0, TypeError, /got Object/],
    [null, 0, TypeError, /got null/],
    [new SharedArrayBuffer(64), '8', TypeError, /^T: byteOffset must be a number, got string$/],
    [new SharedArrayBuffer(64), -8, RangeError, /non-negative integer multiple of 8, got -8/],
    [new SharedArrayBuffer(64), 1.5, RangeError, /non-negative integer multiple of 8, got 1.5/],
    [new SharedArrayBuffer(64), 4, RangeError, /^T: byteOffset 4 is not a multiple of 8$/],
    [new SharedArrayBuffer(64), 40, RangeError, /needs 32 bytes at byteOffset 40, but .* 64 bytes/],
  ])('throws for (%o, %o)', (buffer, offset, type, message) => {
    const check = () => checkSharedRegion('T', buffer, offset, 32, 8);
    expect(check).toThrow(type);
    expect(check).toThrow(message);
  });
});
