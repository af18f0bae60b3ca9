import { describe, expect, it } from 'vitest';
import {
  CallbackContextError,
  MmuNotifierError,
  NonBlockablePromiseError,
  NotifierCallbackError,
  ReleasedError,
  SetSeqError,
  SubscriptionRemovedError,
  UnbalancedEndError,
} from '../src/index.js';
import { makeSubs, range, recordingOps } from './helpers.js';

/** What `fn` threw (synchronously or as a rejection); fails if it did not throw. */
async function caught(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('error classes', () => {
  it.each([
    [MmuNotifierError, 'MmuNotifierError'],
    [CallbackContextError, 'CallbackContextError'],
    [SetSeqError, 'SetSeqError'],
    [UnbalancedEndError, 'UnbalancedEndError'],
    [NonBlockablePromiseError, 'NonBlockablePromiseError'],
    [ReleasedError, 'ReleasedError'],
    [SubscriptionRemovedError, 'SubscriptionRemovedError'],
  ])('%o is named %s, extends MmuNotifierError and shows its name first', (Class, name) => {
    const error = new Class('f(): went wrong');
    expect(error.name).toBe(name);
    expect(error).toBeInstanceOf(MmuNotifierError);
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toBe('f(): went wrong');
    expect(String(error)).toBe(`${name}: f(): went wrong`);
  });

  it('the misuse errors the core throws carry their class name', async () => {
    const { subs } = makeSubs();
    const sub = subs.insertInterval(0, 10, {
      invalidate: (s, _r, cur) => {
        s.setSeq(cur);
        return Promise.resolve(true);
      },
    });
    const setSeq = await caught(() => sub.setSeq(1));
    expect(setSeq).toBeInstanceOf(SetSeqError);
    expect((setSeq as Error).name).toBe('SetSeqError');

    const end = await caught(() => subs.invalidateRangeEnd(range(0, 10)));
    expect(end).toBeInstanceOf(UnbalancedEndError);
    expect((end as Error).name).toBe('UnbalancedEndError');

    const nonblock = (await caught(() =>
      subs.invalidateRangeStartNonblock(range(0, 10)),
    )) as NotifierCallbackError;
    expect(nonblock.name).toBe('NotifierCallbackError');
    expect(nonblock.errors).toHaveLength(1);
    expect((nonblock.errors[0] as Error).name).toBe('NonBlockablePromiseError');

    const inside = makeSubs().subs;
    let fromCallback: unknown;
    const victim = inside.insertInterval(0, 10, {
      invalidate: (s, _r, cur) => {
        s.setSeq(cur);
        fromCallback = victim.remove();
        return true;
      },
    });
    const r = range(0, 10);
    inside.invalidateRangeStartNonblock(r);
    inside.invalidateRangeEnd(r);
    const context = await caught(() => fromCallback);
    expect(context).toBeInstanceOf(CallbackContextError);
    expect((context as Error).name).toBe('CallbackContextError');
  });
});

describe('NotifierCallbackError', () => {
  it('one failure: singular message, the failure is the cause and the only entry of errors', () => {
    const failure = new Error('boom');
    const error = new NotifierCallbackError([failure], 'invalidateRangeEnd');
    expect(error.name).toBe('NotifierCallbackError');
    expect(error).toBeInstanceOf(MmuNotifierError);
    expect(error.message).toBe('invalidateRangeEnd: 1 callback failed (see .errors)');
    expect(error.cause).toBe(failure);
    expect(error.errors).toEqual([failure]);
  });

  it('several failures: plural message, the first is the cause, errors in call order', () => {
    const errors = [new Error('a'), 'b', undefined];
    const error = new NotifierCallbackError(errors, 'release');
    expect(error.message).toBe('release: 3 callbacks failed (see .errors)');
    expect(error.cause).toBe(errors[0]);
    expect(error.errors).toBe(errors);
  });

  it('a thrown undefined is still the cause (the property exists)', () => {
    const error = new NotifierCallbackError([undefined, 1], 'clearYoung');
    expect(error.message).toBe('clearYoung: 2 callbacks failed (see .errors)');
    expect(Object.hasOwn(error, 'cause')).toBe(true);
    expect(error.cause).toBeUndefined();
  });

  it('as thrown by the core: names the call, counts the failures, cause is the first', async () => {
    const { subs } = makeSubs();
    const first = new Error('first');
    const second = new Error('second');
    subs.insertInterval(0, 10, {
      invalidate: () => {
        throw first;
      },
    });
    subs.insertInterval(5, 10, {
      invalidate: () => {
        throw second;
      },
    });
    const two = (await caught(() =>
      subs.invalidateRangeStartNonblock(range(0, 20)),
    )) as NotifierCallbackError;
    expect(two).toBeInstanceOf(NotifierCallbackError);
    expect(two.message).toBe('invalidateRangeStartNonblock: 2 callbacks failed (see .errors)');
    expect(two.cause).toBe(first);
    expect(two.errors).toEqual([first, second]);

    const one = (await caught(() =>
      subs.invalidateRangeStart(range(0, 3)),
    )) as NotifierCallbackError;
    expect(one.message).toBe('invalidateRangeStart: 1 callback failed (see .errors)');
    expect(one.cause).toBe(first);
    expect(one.errors).toEqual([first]);
  });

  it('aging failures name the aging call', async () => {
    const { subs } = makeSubs();
    const failure = new Error('young');
    subs.register({
      clearYoung: () => {
        throw failure;
      },
    });
    subs.insertInterval(0, 10, recordingOps([]));
    const error = (await caught(() => subs.clearYoung(0, 10))) as NotifierCallbackError;
    expect(error.message).toBe('clearYoung: 1 callback failed (see .errors)');
    expect(error.cause).toBe(failure);
  });
});
