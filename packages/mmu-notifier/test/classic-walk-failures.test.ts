import { describe, expect, it } from 'vitest';
import {
  type MmuNotifier,
  type MmuNotifierOps,
  NonBlockablePromiseError,
  NotifierCallbackError,
  UnbalancedEndError,
} from '../src/index.js';
import {
  type Call,
  deferred,
  expectIdle,
  flush,
  invalidateOnce,
  makeSubs,
  range,
  recordingOps,
  track,
} from './helpers.js';

// The classic list walk (hlist.ts): what each subscriber is called with, and what a failing,
// EAGAIN-returning or promise-returning subscriber changes for the others.

const promiseMessage = (what: string) =>
  `${what}() returned a Promise where it must not wait (non-blockable range, end or aging callback)`;

/** Ops logging `name:start` / `name:end`; the start returns `start()`. */
function logging(
  log: string[],
  name: string,
  start: () => unknown = () => undefined,
): MmuNotifierOps {
  return {
    invalidateRangeStart: () => {
      log.push(`${name}:start`);
      return start() as boolean | undefined;
    },
    invalidateRangeEnd: () => {
      log.push(`${name}:end`);
    },
  };
}

describe('the arguments of classic callbacks', () => {
  it('start and end get (sub, range), release gets (sub) only; `this` is the ops object', async () => {
    const { subs } = makeSubs();
    const seen: { op: string; self: unknown; args: unknown[] }[] = [];
    const ops = {
      invalidateRangeStart(this: unknown, ...args: unknown[]): undefined {
        seen.push({ op: 'start', self: this, args });
        return undefined;
      },
      invalidateRangeEnd(this: unknown, ...args: unknown[]): void {
        seen.push({ op: 'end', self: this, args });
      },
      release(this: unknown, ...args: unknown[]): void {
        seen.push({ op: 'release', self: this, args });
      },
    };
    const sub = subs.register(ops);
    const blocking = range(0, 10);
    await subs.invalidateRangeStart(blocking);
    subs.invalidateRangeEnd(blocking);
    const nonblocking = range(20, 30);
    expect(subs.invalidateRangeStartNonblock(nonblocking)).toBe(true);
    subs.invalidateRangeEnd(nonblocking);
    await sub.unregister();
    expect(seen).toEqual([
      { op: 'start', self: ops, args: [sub, blocking] },
      { op: 'end', self: ops, args: [sub, blocking] },
      { op: 'start', self: ops, args: [sub, nonblocking] },
      { op: 'end', self: ops, args: [sub, nonblocking] },
      { op: 'release', self: ops, args: [sub] },
    ]);
    expect(seen[4]?.args).toHaveLength(1);
  });

  it('release of the whole address space also gets (sub) only', async () => {
    const { subs } = makeSubs();
    const seen: unknown[][] = [];
    const sub = subs.register({
      release: (...args: unknown[]) => void seen.push(args),
    });
    await subs.release();
    expect(seen).toEqual([[sub]]);
    expect(seen[0]).toHaveLength(1);
  });
});

describe('a blockable classic start', () => {
  it('warns only for false, with the kernel WARN text; any other result is plain success', async () => {
    const { subs, warnings } = makeSubs();
    const log: string[] = [];
    subs.register(logging(log, 'undefined'));
    subs.register(logging(log, 'true', () => true));
    subs.register(logging(log, 'zero', () => 0));
    subs.register(logging(log, 'false', () => false));
    const r = range(0, 10);
    await subs.invalidateRangeStart(r);
    expect(warnings).toEqual([
      'invalidateRangeStart() returned false (EAGAIN) for a blockable range; ignored',
    ]);
    subs.invalidateRangeEnd(r); // the start succeeded: it must be ended
    expect(log.filter((l) => l.endsWith(':end'))).toEqual([
      'false:end',
      'zero:end',
      'true:end',
      'undefined:end',
    ]);
    expectIdle(subs);
  });
});

describe('a non-blockable classic start', () => {
  it('returning a Promise is a NonBlockablePromiseError: no end for it, the others end, all undone', () => {
    const { subs } = makeSubs();
    const log: string[] = [];
    const calls: Call[] = [];
    const sub = subs.insertInterval(0, 10, recordingOps(calls));
    subs.register(logging(log, 'A'));
    subs.register(logging(log, 'P', () => Promise.resolve(true)));
    subs.register(logging(log, 'C'));
    const r = range(0, 10);
    let caught: unknown;
    try {
      subs.invalidateRangeStartNonblock(r);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(NotifierCallbackError);
    const errors = (caught as NotifierCallbackError).errors;
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(NonBlockablePromiseError);
    expect((errors[0] as Error).message).toBe(promiseMessage('invalidateRangeStart'));
    expect(log).toEqual(['C:start', 'P:start', 'A:start', 'C:end', 'A:end']);
    // The interval side is undone too: the busy period is over, the subscription was hit.
    expect(calls).toHaveLength(1);
    expectIdle(subs);
    expect(subs.invalidateSeq).toBe(4);
    expect(sub.tryReadBegin()).toBe(3);
    expect(() => subs.invalidateRangeEnd(r)).toThrow(UnbalancedEndError);
  });

  it('EAGAIN from a subscriber that has an end: the kernel WARN text', () => {
    const { subs, warnings } = makeSubs();
    const log: string[] = [];
    subs.register(logging(log, 'A', () => false));
    expect(subs.invalidateRangeStartNonblock(range(0, 10))).toBe(false);
    expect(log).toEqual(['A:start', 'A:end']);
    expect(warnings).toEqual([
      'a classic subscriber whose invalidateRangeStart() returned EAGAIN has an end',
    ]);
  });

  it('EAGAIN from a subscriber whose end cannot be read: no warning, the read failure is the error', () => {
    const { subs, warnings } = makeSubs();
    const broken = new Error('end getter');
    let armed = false; // register() reads every op once: throw only afterwards
    const ops = {
      invalidateRangeStart: () => false,
      get invalidateRangeEnd() {
        if (armed) throw broken;
        return () => undefined;
      },
    };
    subs.register(ops);
    armed = true;
    let caught: unknown;
    try {
      subs.invalidateRangeStartNonblock(range(0, 10));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(NotifierCallbackError);
    expect((caught as NotifierCallbackError).errors).toEqual([broken]);
    expect(warnings).toEqual([]);
    expectIdle(subs);
  });

  it('a subscriber unregistered while the walk runs (here from the warning sink) is skipped: no start, no end', async () => {
    const log: string[] = [];
    let older: MmuNotifier | undefined;
    let unregistering: Promise<void> | undefined;
    const { subs } = makeSubs({
      onWarning: () => {
        unregistering ??= older?.unregister();
      },
    });
    older = subs.register(logging(log, 'older'));
    subs.register(logging(log, 'newer', () => false)); // called first; its EAGAIN warns
    expect(subs.invalidateRangeStartNonblock(range(0, 10))).toBe(false);
    expect(log).toEqual(['newer:start', 'newer:end']);
    expect(older.registered).toBe(false);
    await unregistering;
    expectIdle(subs);
  });
});

describe('a classic end', () => {
  it('returning a Promise is reported after the other ends ran', () => {
    const { subs } = makeSubs();
    const log: string[] = [];
    subs.register(logging(log, 'A'));
    subs.register({
      invalidateRangeEnd: () => {
        log.push('P:end');
        return Promise.resolve() as unknown as undefined;
      },
    });
    const r = range(0, 10);
    expect(subs.invalidateRangeStartNonblock(r)).toBe(true);
    let caught: unknown;
    try {
      subs.invalidateRangeEnd(r);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(NotifierCallbackError);
    expect((caught as Error).message).toBe('invalidateRangeEnd: 1 callback failed (see .errors)');
    const [error] = (caught as NotifierCallbackError).errors;
    expect(error).toBeInstanceOf(NonBlockablePromiseError);
    expect((error as Error).message).toBe(promiseMessage('invalidateRangeEnd'));
    expect(log).toEqual(['A:start', 'P:end', 'A:end']);
    expectIdle(subs);
  });

  it('a subscriber unregistered during a suspended blockable walk gets no pairing end', async () => {
    const { subs } = makeSubs();
    const log: string[] = [];
    const gate = deferred();
    const thrower = subs.register({
      invalidateRangeStart: () => {
        log.push('thrower:start');
        throw new Error('start');
      },
      invalidateRangeEnd: () => void log.push('thrower:end'),
    });
    const leaving = subs.register(logging(log, 'leaving'));
    subs.register({
      invalidateRangeStart: async () => {
        log.push('slow:start');
        await gate.promise;
      },
      invalidateRangeEnd: () => void log.push('slow:end'),
    });
    const r = range(0, 10);
    const start = track(subs.invalidateRangeStart(r));
    await flush();
    expect(log).toEqual(['slow:start']);
    const unregistering = track(leaving.unregister()); // off the list now, waits for the walk
    expect(leaving.registered).toBe(false);
    gate.resolve();
    await flush();
    expect(start.error).toBeInstanceOf(NotifierCallbackError);
    // `leaving` is skipped by the rest of the walk and by the pairing ends; the thrower gets none.
    expect(log).toEqual(['slow:start', 'thrower:start', 'slow:end']);
    expect(unregistering.settled).toBe(true);
    expect(thrower.registered).toBe(true);
    expectIdle(subs);
  });
});

describe('release of the address space', () => {
  it('skips a subscriber unregistered while an earlier release was pending: its release runs once', async () => {
    const { subs } = makeSubs();
    const log: string[] = [];
    const gate = deferred();
    const older = subs.register({ release: () => void log.push('older:release') });
    subs.register({
      release: async () => {
        log.push('newer:release');
        await gate.promise;
      },
    });
    const releasing = subs.release();
    await flush();
    expect(log).toEqual(['newer:release']);
    const unregistering = older.unregister();
    expect(log).toEqual(['newer:release', 'older:release']);
    gate.resolve();
    await releasing;
    await unregistering;
    expect(log).toEqual(['newer:release', 'older:release']);
    expect(subs.classicCount).toBe(0);
  });

  it('with no classic subscriber left, does not wait for a classic walk still running', async () => {
    const { subs } = makeSubs();
    const gate = deferred();
    const a = subs.register({
      invalidateRangeStart: async () => {
        await gate.promise;
      },
    });
    const r = range(0, 10);
    const start = track(subs.invalidateRangeStart(r));
    await flush();
    const unregistering = track(a.unregister()); // waits for the walk (SRCU)
    await flush();
    expect(subs.classicCount).toBe(0);
    expect(unregistering.settled).toBe(false);
    const releasing = track(subs.release());
    await flush();
    expect(releasing.settled).toBe(true); // as the kernel: mn_hlist_release() only for a non-empty list
    expect(releasing.error).toBeUndefined();
    gate.resolve();
    await flush();
    expect(start.settled).toBe(true);
    subs.invalidateRangeEnd(r);
    await flush();
    expect(unregistering.settled).toBe(true);
    expectIdle(subs);
  });
});

describe('unregister', () => {
  it('with a synchronous release, takes the subscriber off the list during the call', async () => {
    const { subs } = makeSubs();
    const log: string[] = [];
    const a = subs.register({
      ...logging(log, 'A'),
      release: () => void log.push('A:release'),
    });
    const unregistering = a.unregister();
    expect(a.registered).toBe(false);
    expect(subs.classicCount).toBe(0);
    invalidateOnce(subs, 0, 10); // a walk begun after the call cannot see it
    await unregistering;
    expect(log).toEqual(['A:release']);
  });

  it('a release that throws is reported; the subscriber is unregistered anyway', async () => {
    const { subs } = makeSubs();
    const failure = new Error('release');
    const a = subs.register({
      release: () => {
        throw failure;
      },
    });
    const error = await a.unregister().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NotifierCallbackError);
    expect((error as Error).message).toBe(
      'MmuNotifier.unregister: 1 callback failed (see .errors)',
    );
    expect((error as NotifierCallbackError).errors).toEqual([failure]);
    expect(a.registered).toBe(false);
    expect(subs.classicCount).toBe(0);
  });

  it('awaits an async release: resolves after it, and reports its rejection', async () => {
    const { subs } = makeSubs();
    const gate = deferred();
    const failure = new Error('async release');
    const a = subs.register({
      release: async () => {
        await gate.promise;
        throw failure;
      },
    });
    const unregistering = track(a.unregister());
    await flush();
    expect(unregistering.settled).toBe(false);
    expect(a.registered).toBe(true); // taken off only once release settled
    gate.resolve();
    await flush();
    expect(unregistering.error).toBeInstanceOf(NotifierCallbackError);
    expect((unregistering.error as NotifierCallbackError).errors).toEqual([failure]);
    expect(a.registered).toBe(false);
  });
});

describe('aging', () => {
  it('skips subscribers without that op (no error)', () => {
    const { subs } = makeSubs();
    subs.register({});
    subs.register({ clearYoung: () => true });
    subs.register({ testYoung: () => false });
    expect(subs.clearYoung(0, 10)).toBe(true);
    expect(subs.clearFlushYoung(0, 10)).toBe(false);
    expect(subs.testYoung(0, 10)).toBe(false);
  });

  it('a callback returning a Promise is reported under the op name; the others still run', () => {
    const ops = ['clearFlushYoung', 'clearYoung', 'testYoung'] as const;
    for (const op of ops) {
      const { subs } = makeSubs();
      const log: string[] = [];
      subs.register({ [op]: () => Boolean(log.push('older')) });
      subs.register({ [op]: () => Promise.resolve(true) });
      let caught: unknown;
      try {
        subs[op](0, 10);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(NotifierCallbackError);
      expect((caught as Error).message).toBe(`${op}: 1 callback failed (see .errors)`);
      const [error] = (caught as NotifierCallbackError).errors;
      expect(error).toBeInstanceOf(NonBlockablePromiseError);
      expect((error as Error).message).toBe(promiseMessage(op));
      expect(log).toEqual(['older']);
    }
  });

  it('a subscriber unregistered by an earlier aging callback of the same call is not aged', async () => {
    const { subs } = makeSubs();
    const log: string[] = [];
    const older = subs.register({ clearYoung: () => Boolean(log.push('older')) });
    let unregistering: Promise<void> | undefined;
    subs.register({
      clearYoung: () => {
        log.push('newer');
        unregistering = older.unregister(); // allowed from aging callbacks (README)
        return false;
      },
    });
    expect(subs.clearYoung(0, 10)).toBe(false);
    expect(log).toEqual(['newer']);
    await unregistering;
    expect(older.registered).toBe(false);
  });
});
