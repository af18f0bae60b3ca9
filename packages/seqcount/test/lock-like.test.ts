import { describe, expect, it } from 'vitest';
import { checkLockLike, Mutex, SharedMutex } from '../src/index.js';

describe('checkLockLike', () => {
  it('accepts Mutex, SharedMutex and any object with the three methods', () => {
    const plain = { tryLock: () => true, lock: () => {}, unlock: () => {} };
    for (const lock of [new Mutex(), SharedMutex.create(), plain]) {
      expect(() => checkLockLike(lock, 'f()')).not.toThrow();
    }
  });

  it('names the caller and the missing shape for anything else', () => {
    const partial = [
      { lock: () => {}, unlock: () => {} },
      { tryLock: () => true, unlock: () => {} },
      { tryLock: () => true, lock: () => {} },
      { tryLock: true, lock: () => {}, unlock: () => {} },
    ];
    for (const bad of [undefined, null, 1, 'lock', () => {}, ...partial]) {
      expect(() => checkLockLike(bad, 'invalidateOps()')).toThrow(
        new TypeError('invalidateOps(): lock must have tryLock(), lock() and unlock()'),
      );
    }
  });
});
