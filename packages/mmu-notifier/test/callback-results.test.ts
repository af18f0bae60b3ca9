import { describe, expect, it } from 'vitest';
import {
  type IntervalNotifier,
  type MmuNotifierTraceEvent,
  NonBlockablePromiseError,
  NotifierCallbackError,
} from '../src/index.js';
import { expectIdle, flush, logged, makeSubs, range, track } from './helpers.js';

/**
 * What callback results count as "a Promise": any thenable (an object or a function with a
 * callable `then`), as `await` sees it; nothing else, whatever its truthiness.
 */

const WHERE = '(non-blockable range, end or aging callback)';

/** A thenable that is a function, resolved with `value` when `release()` is called. */
function functionThenable(value: unknown) {
  let resolveIt: ((v: unknown) => void) | undefined;
  let released = false;
  const thenable = Object.assign(() => {}, {
    // biome-ignore lint/suspicious/noThenProperty: a thenable function is the point of the test
    then(resolve: (v: unknown) => void) {
      if (released) resolve(value);
      else resolveIt = resolve;
    },
  });
  return {
    thenable,
    release() {
      released = true;
      resolveIt?.(value);
    },
  };
}

/** The only failure of a NotifierCallbackError thrown by `fn`. */
function onlyFailure(fn: () => unknown): unknown {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(NotifierCallbackError);
  const { errors } = caught as NotifierCallbackError;
  expect(errors).toHaveLength(1);
  return errors[0];
}

function expectNonBlockable(error: unknown, what: string): void {
  expect(error).toBeInstanceOf(NonBlockablePromiseError);
  expect((error as Error).message).toBe(
    `${what} returned a Promise where it must not wait ${WHERE}`,
  );
}

/** Interval ops that set the seq and return `result`. */
function returning(result: unknown) {
  return {
    invalidate(sub: IntervalNotifier, _r: unknown, curSeq: number) {
      sub.setSeq(curSeq);
      return result as boolean;
    },
  };
}

describe('interval invalidate results', () => {
  it('a function with a then method is a Promise: refused for a non-blockable range', async () => {
    const { subs, warnings } = makeSubs();
    const { thenable } = functionThenable(true);
    subs.insertInterval(0, 10, returning(thenable));
    const failure = onlyFailure(() => subs.invalidateRangeStartNonblock(range(0, 10)));
    expectNonBlockable(failure, 'invalidate()');
    expectIdle(subs);
    expect(warnings).toEqual([]);
  });

  it('a function with a then method is awaited for a blockable range', async () => {
    const { subs } = makeSubs();
    const { thenable, release } = functionThenable(true);
    subs.insertInterval(0, 10, returning(thenable));
    const r = range(0, 10);
    const start = track(subs.invalidateRangeStart(r));
    await flush();
    expect(start.settled).toBe(false);
    release();
    await flush();
    expect(start.settled).toBe(true);
    expect(start.error).toBeUndefined();
    subs.invalidateRangeEnd(r);
    expectIdle(subs);
  });

  it.each([
    ['a plain object', {}],
    // biome-ignore lint/suspicious/noThenProperty: a then that is not callable, on purpose
    ['an object whose then is not callable', { then: 1 }],
    ['a function without then', () => false],
    ['a non-empty string', 'yes'],
  ])('%s is not a Promise: a truthy result, success', (_name, result) => {
    const { subs, warnings } = makeSubs();
    const sub = subs.insertInterval(0, 10, returning(result));
    const r = range(0, 10);
    expect(subs.invalidateRangeStartNonblock(r)).toBe(true);
    expect(sub.seq).toBe(3);
    subs.invalidateRangeEnd(r);
    expect(warnings).toEqual([]);
  });

  it('null is not a Promise: a falsy result, EAGAIN for a non-blockable range', () => {
    const { subs, warnings } = makeSubs();
    subs.insertInterval(0, 10, returning(null));
    const events: MmuNotifierTraceEvent[] = [];
    subs.setTracer((e) => events.push(e));
    expect(subs.invalidateRangeStartNonblock(range(0, 10))).toBe(false);
    expectIdle(subs);
    expect(events.filter((e) => e.type === 'start-failed')).toMatchObject([
      { eagain: true, errors: 0 },
    ]);
    expect(warnings).toEqual([]);
  });

  it('null is not a Promise: for a blockable range it is the warned-about false', async () => {
    const { subs, warnings } = makeSubs();
    subs.insertInterval(0, 10, returning(null));
    const r = range(0, 10);
    await subs.invalidateRangeStart(r);
    subs.invalidateRangeEnd(r);
    expect(warnings).toEqual(['invalidate() returned false for a blockable range; continuing']);
  });
});

describe('classic results', () => {
  it('null from a start is success, blockable or not; null from an end or aging is fine', async () => {
    const { subs, warnings } = makeSubs();
    const log: string[] = [];
    subs.register({
      invalidateRangeStart: () => logged(log, 'start', null) as never,
      invalidateRangeEnd: () => logged(log, 'end', null) as never,
      clearYoung: () => logged(log, 'young', null) as never,
    });
    const r = range(0, 10);
    expect(subs.invalidateRangeStartNonblock(r)).toBe(true);
    subs.invalidateRangeEnd(r);
    const b = range(0, 10);
    await subs.invalidateRangeStart(b);
    subs.invalidateRangeEnd(b);
    expect(subs.clearYoung(0, 10)).toBe(false);
    expect(log).toEqual(['start', 'end', 'start', 'end', 'young']);
    expect(warnings).toEqual([]);
    expectIdle(subs);
  });

  it('a plain object from a non-blockable start is success, not a Promise', () => {
    const { subs } = makeSubs();
    // biome-ignore lint/suspicious/noThenProperty: a then that is not callable, on purpose
    subs.register({ invalidateRangeStart: () => ({ then: 'later' }) as never });
    const r = range(0, 10);
    expect(subs.invalidateRangeStartNonblock(r)).toBe(true);
    subs.invalidateRangeEnd(r);
  });

  it('a function thenable is a Promise where the callback must not wait, named by op', () => {
    const { subs } = makeSubs();
    const { thenable } = functionThenable(undefined);
    subs.register({ invalidateRangeStart: () => thenable as never });
    expectNonBlockable(
      onlyFailure(() => subs.invalidateRangeStartNonblock(range(0, 10))),
      'invalidateRangeStart()',
    );
    expectIdle(subs);

    const ends = makeSubs().subs;
    ends.register({ invalidateRangeEnd: () => thenable as never });
    const r = range(0, 10);
    ends.invalidateRangeStartNonblock(r);
    expectNonBlockable(
      onlyFailure(() => ends.invalidateRangeEnd(r)),
      'invalidateRangeEnd()',
    );
    expectIdle(ends);

    const aging = makeSubs().subs;
    aging.register({ testYoung: () => thenable as never });
    expectNonBlockable(
      onlyFailure(() => aging.testYoung(0, 10)),
      'testYoung()',
    );
  });

  it('a blockable start awaits a function thenable', async () => {
    const { subs } = makeSubs();
    const { thenable, release } = functionThenable(undefined);
    subs.register({ invalidateRangeStart: () => thenable as never });
    const r = range(0, 10);
    const start = track(subs.invalidateRangeStart(r));
    await flush();
    expect(start.settled).toBe(false);
    release();
    await flush();
    expect(start.settled).toBe(true);
    expect(start.error).toBeUndefined();
    subs.invalidateRangeEnd(r);
  });
});

describe('the start-failed trace event says why', () => {
  function failedStarts(events: MmuNotifierTraceEvent[]) {
    return events
      .filter((e) => e.type === 'start-failed')
      .map((e) => {
        const { eagain, errors } = e as { eagain: boolean; errors: number };
        return { eagain, errors };
      });
  }

  it('EAGAIN only: eagain true, no errors', () => {
    const events: MmuNotifierTraceEvent[] = [];
    const { subs } = makeSubs({ tracer: (e) => events.push(e) });
    subs.register({ invalidateRangeStart: () => false });
    expect(subs.invalidateRangeStartNonblock(range(0, 10))).toBe(false);
    expect(failedStarts(events)).toEqual([{ eagain: true, errors: 0 }]);
  });

  it('a throw only: eagain false, one error', async () => {
    const events: MmuNotifierTraceEvent[] = [];
    const { subs } = makeSubs({ tracer: (e) => events.push(e) });
    subs.insertInterval(0, 10, {
      invalidate: () => {
        throw new Error('x');
      },
    });
    expect(() => subs.invalidateRangeStartNonblock(range(0, 10))).toThrow(NotifierCallbackError);
    await expect(subs.invalidateRangeStart(range(0, 10))).rejects.toThrow(NotifierCallbackError);
    expect(failedStarts(events)).toEqual([
      { eagain: false, errors: 1 },
      { eagain: false, errors: 1 },
    ]);
  });

  it('EAGAIN and a throw: both reported (the error wins for the caller)', () => {
    const events: MmuNotifierTraceEvent[] = [];
    const { subs } = makeSubs({ tracer: (e) => events.push(e) });
    subs.register({
      invalidateRangeStart: () => {
        throw new Error('x');
      },
    });
    subs.register({ invalidateRangeStart: () => false });
    expect(() => subs.invalidateRangeStartNonblock(range(0, 10))).toThrow(NotifierCallbackError);
    expect(failedStarts(events)).toEqual([{ eagain: true, errors: 1 }]);
  });
});
