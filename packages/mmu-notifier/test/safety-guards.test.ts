import { describe, expect, it } from 'vitest';
import {
  MAX_INVALIDATE_SEQ,
  type MmuNotifierOps,
  NotifierCallbackError,
  REMOVED_SEQ,
  SubscriptionRemovedError,
  UnbalancedEndError,
} from '../src/index.js';
import {
  type Call,
  deferred,
  expectIdle,
  flush,
  invalidateOnce,
  invalidateOnceBlocking,
  makeSubs,
  range,
  recordingOps,
  track,
} from './helpers.js';

function state(subs: ReturnType<typeof makeSubs>['subs']) {
  return { seq: subs.invalidateSeq, active: subs.activeInvalidateRanges };
}

describe('an end handed to the address space that did not start the range', () => {
  it('is an UnbalancedEndError and changes nothing in either address space', () => {
    const a = makeSubs().subs;
    const b = makeSubs().subs;
    a.insertInterval(0, 10, recordingOps([]));
    b.insertInterval(0, 10, recordingOps([]));
    const rA = range(0, 10);
    const rB = range(0, 10);
    expect(a.invalidateRangeStartNonblock(rA)).toBe(true);
    expect(b.invalidateRangeStartNonblock(rB)).toBe(true);
    expect(() => b.invalidateRangeEnd(rA)).toThrow(UnbalancedEndError);
    expect(() => a.invalidateRangeEnd(rB)).toThrow(UnbalancedEndError);
    // B is still invalidating: its page-table change is under way.
    expect(state(a)).toEqual({ seq: 3, active: 1 });
    expect(state(b)).toEqual({ seq: 3, active: 1 });
    // Each real end still works.
    b.invalidateRangeEnd(rB);
    a.invalidateRangeEnd(rA);
    expect(state(a)).toEqual({ seq: 4, active: 0 });
    expect(state(b)).toEqual({ seq: 4, active: 0 });
  });

  it('keeps a fault on the other address space retrying until its own end', async () => {
    const a = makeSubs().subs;
    const b = makeSubs().subs;
    const subB = b.insertInterval(0, 10, recordingOps([]));
    const seq = await subB.readBegin();
    const rA = range(0, 10);
    const rB = range(0, 10);
    a.invalidateRangeStartNonblock(rA);
    b.invalidateRangeStartNonblock(rB);
    expect(() => b.invalidateRangeEnd(rA)).toThrow(UnbalancedEndError);
    expect(subB.readRetry(seq)).toBe(true);
    expect(subB.tryReadBegin()).toBeUndefined(); // B's busy period is still open
  });

  it('a range object belongs to one address space until its ends, as the kernel range->mm', () => {
    const a = makeSubs().subs;
    const b = makeSubs().subs;
    const calls: Call[] = [];
    a.insertInterval(0, 10, recordingOps([]));
    b.insertInterval(0, 10, recordingOps(calls));
    const r = range(0, 10);
    a.invalidateRangeStartNonblock(r);
    expect(() => b.invalidateRangeStartNonblock(r)).toThrow(/another address space/);
    expect(calls).toHaveLength(0);
    expect(state(b)).toEqual({ seq: 2, active: 0 });
    a.invalidateRangeEnd(r);
    expect(() => a.invalidateRangeEnd(r)).toThrow(UnbalancedEndError);
    // Ended: free for another address space.
    expect(b.invalidateRangeStartNonblock(r)).toBe(true);
    b.invalidateRangeEnd(r);
    expectIdle(a);
    expectIdle(b);
  });
});

/** Ops whose `name` property throws when read, as a strict mock or a Proxy may. */
function throwingGetter(name: keyof MmuNotifierOps, message: string): MmuNotifierOps {
  let armed = false;
  const ops: MmuNotifierOps = {};
  Object.defineProperty(ops, name, {
    enumerable: true,
    get() {
      if (armed) throw new Error(message);
      return undefined;
    },
  });
  // Armed after register() read it once to validate it.
  queueMicrotask(() => {
    armed = true;
  });
  return ops;
}

describe('a classic ops object whose property read throws', () => {
  it.each([
    ['invalidateRangeStart', 'blockable'],
    ['invalidateRangeStart', 'non-blockable'],
  ] as const)(
    'counts as that callback failing on a %s (%s) start and undoes the interval side',
    async (name, kind) => {
      const { subs } = makeSubs();
      const calls: Call[] = [];
      const sub = subs.insertInterval(0, 10, recordingOps(calls));
      subs.register(throwingGetter(name, 'getter'));
      await flush();
      const r = range(0, 10);
      const error =
        kind === 'blockable'
          ? await subs.invalidateRangeStart(r).then(
              () => undefined,
              (e: unknown) => e,
            )
          : (() => {
              try {
                subs.invalidateRangeStartNonblock(r);
              } catch (e) {
                return e;
              }
              return undefined;
            })();
      expect(error).toBeInstanceOf(NotifierCallbackError);
      expect(((error as NotifierCallbackError).errors[0] as Error).message).toBe('getter');
      expectIdle(subs);
      expect(subs.invalidateSeq).toBe(4);
      expect(calls).toHaveLength(1);
      expect(sub.tryReadBegin()).toBe(3); // readBegin returns, not wedged
      subs.insertInterval(20, 5, recordingOps([]));
      expect(subs.pendingDeferred).toBe(0);
    },
  );

  it('register() reading a getter that throws fails the register and changes nothing', () => {
    const { subs } = makeSubs();
    const log: string[] = [];
    subs.register({ invalidateRangeEnd: () => void log.push('older') });
    const ops: MmuNotifierOps = {
      invalidateRangeStart: () => undefined,
    };
    Object.defineProperty(ops, 'invalidateRangeEnd', {
      get() {
        throw new Error('end getter');
      },
    });
    // register() validates what it can read; a getter that throws there fails the register.
    expect(() => subs.register(ops)).toThrow('end getter');
    expect(subs.classicCount).toBe(1);
  });

  it('on an end or an aging call after registration: reported, the others still run', async () => {
    const { subs } = makeSubs();
    subs.insertInterval(0, 10, recordingOps([]));
    const log: string[] = [];
    subs.register({
      invalidateRangeEnd: () => void log.push('older:end'),
      clearYoung: () => {
        log.push('older:young');
        return true;
      },
    });
    subs.register(throwingGetter('invalidateRangeEnd', 'end getter'));
    subs.register(throwingGetter('clearYoung', 'young getter'));
    await flush();
    const r = range(0, 10);
    expect(subs.invalidateRangeStartNonblock(r)).toBe(true);
    expect(() => subs.invalidateRangeEnd(r)).toThrow(NotifierCallbackError);
    expect(log).toEqual(['older:end']);
    expectIdle(subs);
    expect(() => subs.clearYoung(0, 10)).toThrow(NotifierCallbackError);
    expect(log).toEqual(['older:end', 'older:young']);
  });

  it('on release: reported, every subscriber is still unregistered', async () => {
    const { subs } = makeSubs();
    const a = subs.register(throwingGetter('release', 'release getter'));
    const b = subs.register({});
    await flush();
    await expect(subs.release()).rejects.toThrow(NotifierCallbackError);
    expect(a.registered).toBe(false);
    expect(b.registered).toBe(false);
    expect(subs.classicCount).toBe(0);
  });
});

describe('the sequence near Number.MAX_SAFE_INTEGER', () => {
  it('MAX_INVALIDATE_SEQ is the largest even safe integer', () => {
    expect(MAX_INVALIDATE_SEQ).toBe(Number.MAX_SAFE_INTEGER - 1);
    expect(MAX_INVALIDATE_SEQ % 2).toBe(0);
  });

  it('refuses an initialSeq above the ceiling', () => {
    expect(() => makeSubs({ initialSeq: MAX_INVALIDATE_SEQ + 2 })).toThrow(RangeError);
    expect(() => makeSubs({ initialSeq: 2 ** 53 })).toThrow(RangeError);
    expect(makeSubs({ initialSeq: MAX_INVALIDATE_SEQ }).subs.invalidateSeq).toBe(
      MAX_INVALIDATE_SEQ,
    );
  });

  it('runs the last busy period, then refuses every start with a RangeError and changes nothing', async () => {
    const { subs } = makeSubs({ initialSeq: MAX_INVALIDATE_SEQ - 2 });
    const calls: Call[] = [];
    const sub = subs.insertInterval(0, 10, recordingOps(calls));
    const seq = await sub.readBegin();
    invalidateOnce(subs, 0, 10);
    expect(calls[0]?.curSeq).toBe(MAX_INVALIDATE_SEQ - 1);
    expect(subs.invalidateSeq).toBe(MAX_INVALIDATE_SEQ);
    expect(sub.readRetry(seq)).toBe(true);
    const r = range(0, 10);
    expect(() => subs.invalidateRangeStartNonblock(r)).toThrow(RangeError);
    await expect(subs.invalidateRangeStart(r)).rejects.toThrow(RangeError);
    await expect(subs.release()).rejects.toThrow(RangeError);
    expect(subs.released).toBe(false);
    expect(calls).toHaveLength(1);
    expect(state(subs)).toEqual({ seq: MAX_INVALIDATE_SEQ, active: 0 });
    expect(() => subs.invalidateRangeEnd(r)).toThrow(UnbalancedEndError);
    // Reads still work: the subscription's seq never equals the even ceiling.
    expect(sub.tryReadBegin()).toBe(MAX_INVALIDATE_SEQ - 1);
  });

  it('a start joining a busy period that is already open at the ceiling is allowed', () => {
    const { subs } = makeSubs({ initialSeq: MAX_INVALIDATE_SEQ - 2 });
    subs.insertInterval(0, 10, recordingOps([]));
    const r1 = range(0, 10);
    const r2 = range(5, 20);
    expect(subs.invalidateRangeStartNonblock(r1)).toBe(true);
    expect(subs.invalidateRangeStartNonblock(r2)).toBe(true);
    subs.invalidateRangeEnd(r1);
    subs.invalidateRangeEnd(r2);
    expect(state(subs)).toEqual({ seq: MAX_INVALIDATE_SEQ, active: 0 });
  });
});

describe('a classic end or aging callback that throws undefined', () => {
  it('is reported from a normal end', () => {
    const { subs } = makeSubs();
    subs.register({
      invalidateRangeEnd: () => {
        throw undefined;
      },
    });
    const r = range(0, 10);
    subs.invalidateRangeStartNonblock(r);
    let error: unknown;
    try {
      subs.invalidateRangeEnd(r);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NotifierCallbackError);
    expect((error as NotifierCallbackError).errors).toEqual([undefined]);
    expectIdle(subs);
  });

  it('is reported from the pairing ends after a failed non-blockable start', () => {
    const { subs } = makeSubs();
    subs.register({
      invalidateRangeEnd: () => {
        throw undefined;
      },
    });
    subs.register({ invalidateRangeStart: () => false });
    const r = range(0, 10);
    let error: unknown;
    try {
      subs.invalidateRangeStartNonblock(r);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NotifierCallbackError);
    expect((error as NotifierCallbackError).errors).toEqual([undefined]);
    expectIdle(subs);
  });

  it('is reported from an aging call', () => {
    const { subs } = makeSubs();
    subs.register({
      clearFlushYoung: () => {
        throw undefined;
      },
    });
    expect(() => subs.clearFlushYoung(0, 10)).toThrow(NotifierCallbackError);
  });
});

describe('a read begun before remove()', () => {
  it('retries once remove() has taken the subscription out (idle remove)', async () => {
    const { subs } = makeSubs();
    const sub = subs.insertInterval(0, 10, recordingOps([]));
    const seq = await sub.readBegin();
    await sub.remove();
    expect(sub.readRetry(seq)).toBe(true);
    expect(sub.checkRetry(seq)).toBe(true);
  });

  it('retries once a deferred removal was applied', async () => {
    const { subs } = makeSubs();
    const sub = subs.insertInterval(0, 10, recordingOps([]));
    const other = subs.insertInterval(20, 10, recordingOps([]));
    const seq = await sub.readBegin();
    const r = range(20, 30); // does not touch `sub`
    subs.invalidateRangeStartNonblock(r);
    const removal = track(sub.remove());
    subs.invalidateRangeEnd(r);
    await flush();
    expect(removal.settled).toBe(true);
    expect(sub.readRetry(seq)).toBe(true);
    expect(sub.checkRetry(seq)).toBe(true);
    expect(other.readRetry(await other.readBegin())).toBe(false);
  });

  it('retires reads from the remove() call on, even while the removal is deferred', async () => {
    const { subs, warnings } = makeSubs();
    const calls: Call[] = [];
    const sub = subs.insertInterval(0, 10, recordingOps(calls));
    subs.insertInterval(20, 10, recordingOps([]));
    const seq = await sub.readBegin();
    const r = range(20, 30); // freezes the tree without touching `sub`
    subs.invalidateRangeStartNonblock(r);
    const removal = track(sub.remove());
    expect(sub.state).toBe('pending-remove');
    expect(sub.readRetry(seq)).toBe(true);
    expect(() => sub.tryReadBegin()).toThrow(SubscriptionRemovedError);
    await expect(sub.readBegin()).rejects.toThrow(SubscriptionRemovedError);
    // A callback of the pending removal calls setSeq: the seq stays retired, no warning.
    const r2 = range(0, 10);
    subs.invalidateRangeStartNonblock(r2);
    expect(calls).toHaveLength(1);
    expect(sub.seq).toBe(REMOVED_SEQ);
    expect(sub.readRetry(seq)).toBe(true);
    subs.invalidateRangeEnd(r2);
    subs.invalidateRangeEnd(r);
    await flush();
    expect(removal.settled).toBe(true);
    expect(warnings).toEqual([]);
  });

  it('retries once a pending insert was cancelled by remove()', async () => {
    const { subs } = makeSubs();
    subs.insertInterval(0, 10, recordingOps([]));
    const r = range(0, 10);
    subs.invalidateRangeStartNonblock(r);
    const late = subs.insertInterval(0, 10, recordingOps([]));
    const seq = late.seq;
    await late.remove();
    expect(late.readRetry(seq)).toBe(true);
    subs.invalidateRangeEnd(r);
  });
});

describe('an invalidate callback that settles without calling setSeq', () => {
  it('is reported through onWarning (sync and async callbacks)', async () => {
    const { subs, warnings } = makeSubs();
    subs.insertInterval(0, 10, { invalidate: () => true });
    subs.insertInterval(10, 10, {
      invalidate: async () => {
        await Promise.resolve();
        return true;
      },
    });
    await invalidateOnceBlocking(subs, 0, 20);
    expect(warnings.filter((w) => /setSeq/.test(w))).toHaveLength(2);
    invalidateOnce(subs, 0, 10);
    expect(warnings.filter((w) => /setSeq/.test(w))).toHaveLength(3);
  });

  it('is not reported when setSeq was called, also after an await', async () => {
    const { subs, warnings } = makeSubs();
    const gate = deferred();
    subs.insertInterval(0, 10, recordingOps([]));
    subs.insertInterval(10, 10, {
      invalidate: async (sub, _r, curSeq) => {
        await gate.promise;
        sub.setSeq(curSeq);
        return true;
      },
    });
    const r = range(0, 20);
    const start = subs.invalidateRangeStart(r);
    gate.resolve();
    await start;
    subs.invalidateRangeEnd(r);
    expect(warnings).toEqual([]);
  });

  it('is not reported for EAGAIN, nor for a range its own device caused (range.owner set)', () => {
    const { subs, warnings } = makeSubs();
    const owner = {};
    subs.insertInterval(0, 10, {
      invalidate: (_sub, r) => r.owner === owner || r.blockable,
    });
    expect(subs.invalidateRangeStartNonblock(range(0, 10))).toBe(false);
    const mine = { ...range(0, 10, 'migrate'), owner };
    expect(subs.invalidateRangeStartNonblock(mine)).toBe(true);
    subs.invalidateRangeEnd(mine);
    expect(warnings).toEqual([]);
  });
});
