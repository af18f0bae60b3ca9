import { describe, expect, it } from 'vitest';
import {
  AsyncInstallError,
  FaultAbortedError,
  FaultDeadlineError,
  FaultError,
  FaultRetryError,
  FaultRetryLimitError,
  InvalidationEndWithoutBeginError,
  InvalidationTracker,
  LockNotHeldError,
  RangeAddOutsideInvalidationError,
} from '../src/index.js';
import { checkFunction, checkIndex, checkRange } from '../src/validate.js';

describe('error names and messages', () => {
  it('names each error class after itself, except the DOM-style AbortError and TimeoutError', () => {
    expect(new InvalidationEndWithoutBeginError().name).toBe('InvalidationEndWithoutBeginError');
    expect(new RangeAddOutsideInvalidationError().name).toBe('RangeAddOutsideInvalidationError');
    expect(new FaultRetryLimitError(1, 0).name).toBe('FaultRetryLimitError');
    expect(new FaultAbortedError(1, 0, 'r').name).toBe('AbortError');
    expect(new FaultDeadlineError(1, 0, 5).name).toBe('TimeoutError');
    expect(new AsyncInstallError(1).name).toBe('AsyncInstallError');
    expect(new LockNotHeldError().name).toBe('LockNotHeldError');
  });

  it('derives every error class from FaultRetryError, itself an Error', () => {
    const errors = [
      new InvalidationEndWithoutBeginError(),
      new RangeAddOutsideInvalidationError(),
      new FaultRetryLimitError(1, 0),
      new FaultAbortedError(1, 0, 'r'),
      new FaultDeadlineError(1, 0, 5),
      new AsyncInstallError(1),
      new LockNotHeldError(),
    ];
    for (const error of errors) {
      expect(error).toBeInstanceOf(FaultRetryError);
      expect(error).toBeInstanceOf(Error);
    }
    expect(new FaultRetryError('x').name).toBe('FaultRetryError');
  });

  it('gives the four fault errors FaultError, which says which fault it was', () => {
    const faults = [
      new FaultRetryLimitError(7, 0),
      new FaultAbortedError(7, 0, 'r'),
      new FaultDeadlineError(7, 0, 5),
      new AsyncInstallError(7),
    ];
    for (const error of faults) {
      expect(error).toBeInstanceOf(FaultError);
      expect(error).toMatchObject({ gfn: 7, address: undefined });
    }
    const bySubscription = new FaultRetryLimitError(Number.NaN, 0, 4096);
    expect(bySubscription.gfn).toBeNaN();
    expect(bySubscription.address).toBe(4096);
    expect(new AsyncInstallError(Number.NaN, 8192).address).toBe(8192);
    expect(new LockNotHeldError()).not.toBeInstanceOf(FaultError);
    expect(new FaultAbortedError(1, 0, 'why').cause).toBe('why');
  });

  it('says which misuse of the tracker happened', () => {
    const tracker = new InvalidationTracker();
    expect(() => tracker.end()).toThrow(
      'end() called without a matching begin(): no invalidation is in progress',
    );
    expect(() => tracker.rangeAdd(0, 1)).toThrow(
      'rangeAdd() called outside begin()/end(): no invalidation is in progress',
    );
  });

  it('names the gfn, else the address, else "a subscription" as the fault target', () => {
    expect(new FaultRetryLimitError(7, 2).message).toBe(
      'faultWithRetry() on gfn 7 gave up: 3 attempt(s) all raced with an invalidation (maxRetries = 2)',
    );
    expect(new FaultRetryLimitError(Number.NaN, 0, 4096).message).toBe(
      'faultWithRetry() on address 4096 gave up: 1 attempt(s) all raced with an invalidation (maxRetries = 0)',
    );
    expect(new FaultRetryLimitError(Number.NaN, 0).message).toBe(
      'faultWithRetry() on a subscription gave up: 1 attempt(s) all raced with an invalidation (maxRetries = 0)',
    );
    expect(new FaultRetryLimitError(7, 2).attempts).toBe(3);
  });

  it('counts retries in the singular for one and in the plural otherwise', () => {
    expect(new FaultAbortedError(3, 1, 'stop').message).toBe(
      'faultWithRetry() on gfn 3 aborted after 1 retry',
    );
    expect(new FaultAbortedError(3, 2, 'stop').message).toBe(
      'faultWithRetry() on gfn 3 aborted after 2 retries',
    );
    expect(new FaultAbortedError(3, 0, 'stop').message).toBe(
      'faultWithRetry() on gfn 3 aborted after 0 retries',
    );
    expect(new FaultDeadlineError(3, 1, 99).message).toBe(
      'faultWithRetry() on gfn 3 passed its deadline (99) after 1 retry',
    );
    expect(new FaultDeadlineError(3, 4, 99).message).toBe(
      'faultWithRetry() on gfn 3 passed its deadline (99) after 4 retries',
    );
  });

  it('keeps the abort reason as the cause and the deadline on the error', () => {
    const reason = new Error('cancelled');
    const aborted = new FaultAbortedError(3, 1, reason, 8192);
    expect(aborted.cause).toBe(reason);
    expect(aborted.reason).toBe(reason);
    expect(aborted.address).toBe(8192);
    expect(new FaultDeadlineError(3, 1, 99).deadline).toBe(99);
  });

  it('explains why an async install is refused', () => {
    expect(new AsyncInstallError(5).message).toBe(
      'faultWithRetry(): install() for gfn 5 returned a Promise (a thenable): install must be synchronous, as it ' +
        'runs under the MMU lock and is not awaited; the fault failed and its page does not ' +
        'count as installed',
    );
  });

  it('names the call that found the SharedMmuLock unlocked, unlock() by default', () => {
    expect(new LockNotHeldError().message).toBe(
      'unlock() called on a SharedMmuLock that is not locked',
    );
    expect(new LockNotHeldError('release()').message).toBe(
      'release() called on a SharedMmuLock that is not locked',
    );
  });
});

describe('argument checks', () => {
  it('reports the type of a non-number index, and the value of a bad number', () => {
    expect(() => checkIndex('1', 'gfn')).toThrow(new TypeError('gfn must be a number, got string'));
    expect(() => checkIndex(-1, 'gfn')).toThrow(
      new RangeError('gfn must be a non-negative safe integer, got -1'),
    );
    expect(() => checkIndex(1.5, 'gfn')).toThrow(RangeError);
    expect(() => checkIndex(2 ** 53, 'gfn')).toThrow(RangeError);
    expect(() => checkIndex(0, 'gfn')).not.toThrow();
  });

  it('rejects an empty or reversed range, naming both ends', () => {
    expect(() => checkRange(4, 4)).toThrow(
      new RangeError('empty or negative range [4, 4): start must be < end'),
    );
    expect(() => checkRange(5, 4)).toThrow(RangeError);
    expect(() => checkRange(4, 5)).not.toThrow();
    expect(() => checkRange(-1, 5)).toThrow('range start must be');
    expect(() => checkRange(1, -5)).toThrow('range end must be');
  });

  it('reports null apart from other non-functions', () => {
    expect(() => checkFunction(null, 'install')).toThrow(
      new TypeError('install must be a function, got null'),
    );
    expect(() => checkFunction(3, 'install')).toThrow(
      new TypeError('install must be a function, got number'),
    );
    expect(() => checkFunction(() => {}, 'install')).not.toThrow();
  });
});
