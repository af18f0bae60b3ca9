import { describe, expect, it } from 'vitest';
import {
  checkSharedRegion,
  loadWords,
  Mutex,
  NestedWriteError,
  SeqCountError,
  SeqCountLatch,
  SeqLock,
  SharedMutex,
  SharedSeqCount,
  SharedSeqLock,
  Srcu,
  SrcuUnlockError,
  storeWords,
  UnlockedReleaseError,
  UnmatchedWriteEndError,
} from '../src/index.js';

const bad = (value: unknown) => value as never;

describe('error classes', () => {
  it.each([
    ['SeqCountError', SeqCountError],
    ['NestedWriteError', NestedWriteError],
    ['UnmatchedWriteEndError', UnmatchedWriteEndError],
    ['UnlockedReleaseError', UnlockedReleaseError],
    ['SrcuUnlockError', SrcuUnlockError],
  ] as const)('%s carries its own name and is a SeqCountError', (name, ErrorClass) => {
    const error = new ErrorClass('message');
    expect(error.name).toBe(name);
    expect(String(error)).toBe(`${name}: message`);
    expect(error).toBeInstanceOf(SeqCountError);
  });
});

describe('error messages name the call and the bad value', () => {
  it('Mutex: unlock() of a free mutex, runExclusive() without a function', async () => {
    const mutex = new Mutex();
    expect(() => mutex.unlock()).toThrow(
      new UnlockedReleaseError('unlock(): the mutex is not locked'),
    );
    await expect(mutex.runExclusive(bad(5))).rejects.toThrow(
      new TypeError('runExclusive: fn must be a function'),
    );
    expect(mutex.locked).toBe(false);
  });

  it('SeqLock and SharedSeqLock: a maxOptimisticReads that is not a number', () => {
    expect(() => new SeqLock(undefined, { maxOptimisticReads: bad('3') })).toThrow(
      new TypeError('SeqLock: maxOptimisticReads must be a number, got string'),
    );
    const buffer = new SharedArrayBuffer(SharedSeqLock.BYTES);
    expect(() => SharedSeqLock.from(buffer, 0, { maxOptimisticReads: bad('3') })).toThrow(
      new TypeError('SharedSeqLock.from: maxOptimisticReads must be a number, got string'),
    );
    expect(() => SharedSeqLock.from(buffer, 0, { claimTimeoutMs: bad('3') })).toThrow(
      new TypeError('SharedSeqLock.from: claimTimeoutMs must be a number, got string'),
    );
    expect(() => SharedSeqLock.from(bad(5))).toThrow(
      new TypeError('SharedSeqLock.from: buffer must be a SharedArrayBuffer, got number'),
    );
  });

  it('SharedMutex and SharedSeqCount: the factory that was called', () => {
    expect(() => SharedMutex.create({ claimTimeoutMs: bad('1') })).toThrow(
      new TypeError('SharedMutex.create: claimTimeoutMs must be a number, got string'),
    );
    expect(() => SharedMutex.create({ claimTimeoutMs: -1 })).toThrow(
      new RangeError('SharedMutex.create: claimTimeoutMs must be a non-negative number, got -1'),
    );
    const buffer = new SharedArrayBuffer(64);
    expect(() => SharedMutex.from(buffer, 0, { claimTimeoutMs: bad(true) })).toThrow(
      new TypeError('SharedMutex.from: claimTimeoutMs must be a number, got boolean'),
    );
    expect(() => SharedMutex.from(bad(new ArrayBuffer(8)))).toThrow(
      new TypeError('SharedMutex.from: buffer must be a SharedArrayBuffer, got ArrayBuffer'),
    );
    expect(() => SharedSeqCount.from(bad(null))).toThrow(
      new TypeError('SharedSeqCount.from: buffer must be a SharedArrayBuffer, got null'),
    );
  });

  it('checkSharedRegion: the type of a primitive, the constructor name of an object', () => {
    const check = (buffer: unknown) => () => checkSharedRegion('T', buffer, 0, 4, 4);
    expect(check(5)).toThrow(new TypeError('T: buffer must be a SharedArrayBuffer, got number'));
    expect(check('x')).toThrow(new TypeError('T: buffer must be a SharedArrayBuffer, got string'));
    expect(check(Object.create(null))).toThrow(
      new TypeError('T: buffer must be a SharedArrayBuffer, got undefined'),
    );
    expect(check(new Uint8Array(4))).toThrow(
      new TypeError('T: buffer must be a SharedArrayBuffer, got Uint8Array'),
    );
    expect(check(new SharedArrayBuffer(4))).not.toThrow();
  });

  it('loadWords and storeWords: the word range and the length', () => {
    expect(() => loadWords(new Int32Array(2), 1, new Int32Array(3))).toThrow(
      new RangeError('loadWords: words [1, 4) are outside the source of length 2'),
    );
    const target = new Int32Array(3);
    expect(() => storeWords(target, 2, [1, 2])).toThrow(
      new RangeError('storeWords: words [2, 4) are outside the target of length 3'),
    );
    storeWords(target, 1, [7, 8]);
    expect([...target]).toEqual([0, 7, 8]);
  });

  it('Srcu: readUnlock() of a token with no reader inside', () => {
    const srcu = new Srcu();
    expect(() => srcu.readUnlock(99)).toThrow(
      new SrcuUnlockError(
        'readUnlock(99): no reader of that generation is inside (unlocked twice, or not a token from readLock())',
      ),
    );
  });

  it('SeqCountLatch: latch() inside write()', async () => {
    const latch = new SeqCountLatch({ v: 0 }, { v: 0 });
    let inside: unknown;
    await latch.write(() => {
      try {
        latch.latch();
      } catch (error) {
        inside = error;
      }
    });
    expect(inside).toEqual(new NestedWriteError('latch(): a write() is in progress on this latch'));
  });
});

describe('SeqCountLatch.read()', () => {
  it('reads again when the writer latched during the read', () => {
    const latch = new SeqCountLatch({ v: 'first' }, { v: 'second' });
    let calls = 0;
    const seen = latch.read((c) => {
      if (calls++ === 0) latch.latch();
      return c.v;
    });
    expect(calls).toBe(2);
    expect(seen).toBe('second');
  });
});
