import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  CallbackContextError,
  IntervalNotifier,
  type IntervalNotifierOps,
  MAX_INVALIDATE_SEQ,
  MAX_NESTED_INVALIDATIONS,
  type MmuNotifierRange,
  MmuNotifierSubscriptions,
  NotifierCallbackError,
  ReleasedError,
  SetSeqError,
} from '../src/index.js';
import {
  expectIdle,
  flush,
  invalidateOnceBlocking,
  makeSubs,
  range,
  recordingOps,
} from './helpers.js';

// Every error names the method that refused (errors.ts): a caller reading a log must be able to
// tell which call failed and why. These tests pin the exact messages of the checks made by the
// address space, its subscriptions and the sequence ceiling.

/** What `fn` threw (fails the test if it returned). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

/** What `promise` rejected with (fails the test if it resolved). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

function expectError(
  error: unknown,
  cls: abstract new (...args: never[]) => Error,
  message: string,
): void {
  expect(error).toBeInstanceOf(cls);
  expect((error as Error).message).toBe(message);
}

const CEILING = `invalidateSeq reached MAX_INVALIDATE_SEQ (${MAX_INVALIDATE_SEQ}); no further invalidation can begin`;

describe('constructor options', () => {
  it('names the bad option', () => {
    expectError(
      thrown(() => new MmuNotifierSubscriptions({ tracer: 1 as never })),
      TypeError,
      'MmuNotifierSubscriptions: tracer must be a function',
    );
    expectError(
      thrown(() => new MmuNotifierSubscriptions({ onWarning: 'x' as never })),
      TypeError,
      'MmuNotifierSubscriptions: onWarning must be a function',
    );
    expectError(
      thrown(() => new MmuNotifierSubscriptions({ initialSeq: 3 })),
      RangeError,
      `MmuNotifierSubscriptions: initialSeq must be an even integer from 2 to MAX_INVALIDATE_SEQ (${MAX_INVALIDATE_SEQ}), got 3`,
    );
  });

  it('asyncContext needs both run and getStore (null is not one either)', () => {
    const message = 'MmuNotifierSubscriptions: asyncContext must be an AsyncLocalStorage';
    const candidates = [
      null,
      {},
      { run: (_s: unknown, fn: () => unknown) => fn() }, // no getStore
      { getStore: () => undefined }, // no run
    ];
    for (const asyncContext of candidates) {
      expectError(
        thrown(() => new MmuNotifierSubscriptions({ asyncContext: asyncContext as never })),
        TypeError,
        message,
      );
    }
    // Both present: accepted.
    const ok = new MmuNotifierSubscriptions({
      asyncContext: { run: (_s, fn) => fn(), getStore: () => undefined },
    });
    expect(ok.invalidateSeq).toBe(2);
  });
});

describe('the default warning sink', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('is console.warn with the package prefix', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const subs = new MmuNotifierSubscriptions();
    subs.insertInterval(0, 10, {
      invalidate(s, _r, cur) {
        s.setSeq(cur);
        return false; // a misuse for a blockable range: warned about
      },
    });
    await invalidateOnceBlocking(subs, 0, 10);
    expect(warn.mock.calls).toEqual([
      ['[@mmukit/mmu-notifier] invalidate() returned false for a blockable range; continuing'],
    ]);
  });
});

describe('setTracer', () => {
  it('installs a function tracer and rejects anything else but undefined', () => {
    const { subs } = makeSubs();
    const types: string[] = [];
    subs.setTracer((e) => types.push(e.type));
    subs.insertInterval(0, 10, recordingOps([]));
    expect(types).toEqual(['insert']);
    expectError(
      thrown(() => subs.setTracer('x' as never)),
      TypeError,
      'setTracer: tracer must be a function or undefined',
    );
    // The bad call changed nothing: the tracer still receives events.
    subs.insertInterval(20, 10, recordingOps([]));
    expect(types).toEqual(['insert', 'insert']);
  });
});

describe('insertInterval and register', () => {
  it('insertInterval names itself in interval errors and requires an ops object with invalidate', () => {
    const { subs } = makeSubs();
    expectError(
      thrown(() => subs.insertInterval(0, 0, recordingOps([]))),
      RangeError,
      'insertInterval: length must be > 0, got 0',
    );
    for (const ops of [undefined, null, {}, 5, { invalidate: 'no' }]) {
      expectError(
        thrown(() => subs.insertInterval(0, 10, ops as never)),
        TypeError,
        'insertInterval: ops.invalidate must be a function',
      );
    }
    expect(subs.size).toBe(0);
  });

  it('register requires an object (null, undefined and primitives are refused, nothing registered)', () => {
    const { subs } = makeSubs();
    for (const ops of [undefined, null, 5, 'ops']) {
      expectError(
        thrown(() => subs.register(ops as never)),
        TypeError,
        'register: ops must be an object',
      );
    }
    expect(subs.classicCount).toBe(0);
  });

  it('IntervalNotifier is not constructible by users', () => {
    const Interval = IntervalNotifier as unknown as new (...args: unknown[]) => unknown;
    expectError(
      thrown(() => new Interval()),
      TypeError,
      'IntervalNotifier is not constructible: use MmuNotifierSubscriptions.insertInterval()',
    );
  });

  it('a subscription exposes the ops it was inserted with', () => {
    const { subs } = makeSubs();
    const ops = recordingOps([]);
    expect(subs.insertInterval(0, 10, ops).ops).toBe(ops);
  });
});

describe('range and span checks name the caller', () => {
  const empty = (): MmuNotifierRange => range(5, 5);
  const emptyMessage = (what: string) => `${what}: end (5) must be greater than start (5)`;

  it('invalidateRangeStart, invalidateRangeStartNonblock and invalidateRangeEnd', async () => {
    const { subs } = makeSubs();
    expectError(
      await rejection(subs.invalidateRangeStart(empty())),
      RangeError,
      emptyMessage('invalidateRangeStart'),
    );
    expectError(
      thrown(() => subs.invalidateRangeStartNonblock(empty())),
      RangeError,
      emptyMessage('invalidateRangeStartNonblock'),
    );
    expectError(
      thrown(() => subs.invalidateRangeEnd(empty())),
      RangeError,
      emptyMessage('invalidateRangeEnd'),
    );
    expectIdle(subs);
  });

  it('the aging calls', () => {
    const { subs } = makeSubs();
    expectError(
      thrown(() => subs.clearFlushYoung(5, 5)),
      RangeError,
      emptyMessage('clearFlushYoung'),
    );
    expectError(
      thrown(() => subs.clearYoung(5, 5)),
      RangeError,
      emptyMessage('clearYoung'),
    );
    expectError(
      thrown(() => subs.testYoung(5, 5)),
      RangeError,
      emptyMessage('testYoung'),
    );
  });

  it('a frozen range is refused by the start that was called', async () => {
    const { subs } = makeSubs();
    const message = (what: string) =>
      `${what}: the range object must be extensible (not sealed or frozen): its starts are counted on it`;
    expectError(
      await rejection(subs.invalidateRangeStart(Object.freeze(range(0, 10)))),
      TypeError,
      message('invalidateRangeStart'),
    );
    expectError(
      thrown(() => subs.invalidateRangeStartNonblock(Object.freeze(range(0, 10)))),
      TypeError,
      message('invalidateRangeStartNonblock'),
    );
    expectIdle(subs);
  });
});

describe('the sequence ceiling', () => {
  it('names the start or release it refuses', async () => {
    const { subs } = makeSubs({ initialSeq: MAX_INVALIDATE_SEQ });
    expectError(
      await rejection(subs.invalidateRangeStart(range(0, 10))),
      RangeError,
      `invalidateRangeStart: ${CEILING}`,
    );
    expectError(
      thrown(() => subs.invalidateRangeStartNonblock(range(0, 10))),
      RangeError,
      `invalidateRangeStartNonblock: ${CEILING}`,
    );
    expectError(await rejection(subs.release()), RangeError, `release: ${CEILING}`);
    expect(subs.released).toBe(false); // refused before anything changed
    expect(subs.invalidateSeq).toBe(MAX_INVALIDATE_SEQ);
  });
});

describe('release', () => {
  it('runs once: the second call is a ReleasedError', async () => {
    const { subs } = makeSubs();
    await subs.release();
    expectError(await rejection(subs.release()), ReleasedError, 'release: already called');
  });
});

describe('nesting limit', () => {
  /** Ops whose invalidate starts a nested invalidation of the same range through `start`. */
  function recursing(start: () => void): IntervalNotifierOps {
    return {
      invalidate(s, _r, cur) {
        s.setSeq(cur);
        start();
        return true;
      },
    };
  }
  const message = (what: string) =>
    `${what}: invalidations nested more than ${MAX_NESTED_INVALIDATIONS} deep from inside callbacks (runaway recursion?)`;

  it('names the non-blockable start that was refused', () => {
    const { subs } = makeSubs();
    const refused: unknown[] = [];
    subs.insertInterval(
      0,
      10,
      recursing(() => {
        const inner = range(0, 10);
        try {
          if (subs.invalidateRangeStartNonblock(inner)) subs.invalidateRangeEnd(inner);
        } catch (error) {
          refused.push(error);
        }
      }),
    );
    const r = range(0, 10);
    expect(subs.invalidateRangeStartNonblock(r)).toBe(true);
    subs.invalidateRangeEnd(r);
    expect(refused).toHaveLength(1); // only the deepest start; the others succeeded
    expectError(refused[0], CallbackContextError, message('invalidateRangeStartNonblock'));
    expectIdle(subs);
  });

  it('names the blockable start that was refused', async () => {
    const { subs } = makeSubs();
    const refused: unknown[] = [];
    const nested: Promise<void>[] = [];
    subs.insertInterval(
      0,
      10,
      recursing(() => {
        const inner = range(0, 10);
        nested.push(
          subs.invalidateRangeStart(inner).then(
            () => subs.invalidateRangeEnd(inner),
            (error: unknown) => void refused.push(error),
          ),
        );
      }),
    );
    const r = range(0, 10);
    await subs.invalidateRangeStart(r);
    await Promise.all(nested);
    subs.invalidateRangeEnd(r);
    expect(refused).toHaveLength(1);
    expectError(refused[0], CallbackContextError, message('invalidateRangeStart'));
    expectIdle(subs);
  });
});

describe('callback failures name the operation', () => {
  const fail = (message: string): IntervalNotifierOps => ({
    invalidate() {
      throw new Error(message);
    },
  });

  it('starts: one or more callbacks', async () => {
    const { subs } = makeSubs();
    subs.insertInterval(0, 10, fail('a'));
    const blocking = await rejection(subs.invalidateRangeStart(range(0, 10)));
    expectError(
      blocking,
      NotifierCallbackError,
      'invalidateRangeStart: 1 callback failed (see .errors)',
    );
    subs.insertInterval(10, 10, fail('b'));
    const nonblocking = thrown(() => subs.invalidateRangeStartNonblock(range(0, 20)));
    expectError(
      nonblocking,
      NotifierCallbackError,
      'invalidateRangeStartNonblock: 2 callbacks failed (see .errors)',
    );
    expect((nonblocking as NotifierCallbackError).errors.map((e) => (e as Error).message)).toEqual([
      'a',
      'b',
    ]);
    expectIdle(subs);
  });

  it('end and release', async () => {
    const { subs } = makeSubs();
    subs.register({
      invalidateRangeEnd() {
        throw new Error('end');
      },
      release() {
        throw new Error('release');
      },
    });
    const r = range(0, 10);
    expect(subs.invalidateRangeStartNonblock(r)).toBe(true);
    expectError(
      thrown(() => subs.invalidateRangeEnd(r)),
      NotifierCallbackError,
      'invalidateRangeEnd: 1 callback failed (see .errors)',
    );
    const released = await rejection(subs.release());
    expectError(released, NotifierCallbackError, 'release: 1 callback failed (see .errors)');
    expect(((released as NotifierCallbackError).cause as Error).message).toBe('release');
  });
});

describe('interval subscription misuse', () => {
  it('readBegin() and remove() from inside their own invalidate say what they would wait for', async () => {
    const { subs } = makeSubs();
    const errors: unknown[] = [];
    const sub = subs.insertInterval(0, 10, {
      invalidate(s, _r, cur) {
        s.setSeq(cur);
        s.readBegin().catch((e: unknown) => errors.push(e));
        s.remove().catch((e: unknown) => errors.push(e));
        return true;
      },
    });
    await invalidateOnceBlocking(subs, 0, 10);
    await flush();
    expect(errors).toHaveLength(2);
    expectError(
      errors[0],
      CallbackContextError,
      'IntervalNotifier.readBegin() called from inside a notifier callback of the same address space (it would wait for its own invalidation)',
    );
    expectError(
      errors[1],
      CallbackContextError,
      'IntervalNotifier.remove() called from inside a notifier callback of the same address space (it would wait for its own invalidation)',
    );
    expect(sub.state).toBe('active'); // nothing changed
  });

  it('setSeq() with another value than the running callback was given names both', async () => {
    const { subs } = makeSubs();
    const errors: unknown[] = [];
    subs.insertInterval(0, 10, {
      invalidate(s, _r, cur) {
        try {
          s.setSeq(cur + 2);
        } catch (error) {
          errors.push(error);
        }
        s.setSeq(cur);
        return true;
      },
    });
    await invalidateOnceBlocking(subs, 0, 10);
    expect(errors).toHaveLength(1);
    expectError(
      errors[0],
      SetSeqError,
      'IntervalNotifier.setSeq(5): the running invalidate() was given curSeq 3',
    );
  });
});
