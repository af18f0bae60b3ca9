import { expect } from 'vitest';
import {
  type IntervalNotifier,
  type IntervalNotifierOps,
  type MmuNotifierEvent,
  type MmuNotifierRange,
  MmuNotifierSubscriptions,
  type MmuNotifierSubscriptionsOptions,
} from '../src/index.js';

/** A range `[start, end)`; `blockable` is set by the start call. */
export function range(
  start: number,
  end: number,
  event: MmuNotifierEvent = 'unmap',
): MmuNotifierRange {
  return { start, end, event, blockable: true };
}

/** One complete non-blockable invalidation of `[start, end)`: a start that must succeed, then end. */
export function invalidateOnce(subs: MmuNotifierSubscriptions, start: number, end: number): void {
  const r = range(start, end);
  if (!subs.invalidateRangeStartNonblock(r)) throw new Error('invalidateOnce: the start failed');
  subs.invalidateRangeEnd(r);
}

/** One complete blockable invalidation of `[start, end)`: start (awaited), then end. */
export async function invalidateOnceBlocking(
  subs: MmuNotifierSubscriptions,
  start: number,
  end: number,
): Promise<void> {
  const r = range(start, end);
  await subs.invalidateRangeStart(r);
  subs.invalidateRangeEnd(r);
}

/** The address space is idle again: `invalidateSeq` even and no active range. */
export function expectIdle(subs: MmuNotifierSubscriptions): void {
  expect(subs.invalidateSeq % 2).toBe(0);
  expect(subs.activeInvalidateRanges).toBe(0);
}

/** Pushes `entry` to `log` and returns `value`. */
export function logged<T>(log: string[], entry: string, value: T): T {
  log.push(entry);
  return value;
}

/** Subscriptions that collect warnings instead of printing them. */
export function makeSubs(options: MmuNotifierSubscriptionsOptions = {}): {
  subs: MmuNotifierSubscriptions;
  warnings: string[];
} {
  const warnings: string[] = [];
  const subs = new MmuNotifierSubscriptions({
    onWarning: (m) => warnings.push(m),
    ...options,
  });
  return { subs, warnings };
}

export interface Call {
  sub: IntervalNotifier;
  start: number;
  end: number;
  event: MmuNotifierEvent;
  blockable: boolean;
  curSeq: number;
}

/**
 * Ops that record every call, set the seq (the protocol) and return `result` (a value or a
 * function of the call).
 */
export function recordingOps(
  calls: Call[],
  result: boolean | ((call: Call) => boolean | Promise<boolean>) = true,
): IntervalNotifierOps {
  return {
    invalidate(sub, r, curSeq) {
      const call = {
        sub,
        start: r.start,
        end: r.end,
        event: r.event,
        blockable: r.blockable,
        curSeq,
      };
      calls.push(call);
      sub.setSeq(curSeq);
      return typeof result === 'function' ? result(call) : result;
    },
  };
}

/** Tracks whether a promise has settled; `flush()` lets pending microtasks and timers run. */
export function track<T>(p: Promise<T>): {
  readonly settled: boolean;
  readonly value: T | undefined;
  readonly error: unknown;
} {
  const state = { settled: false, value: undefined as T | undefined, error: undefined as unknown };
  p.then(
    (v) => {
      state.settled = true;
      state.value = v;
    },
    (e) => {
      state.settled = true;
      state.error = e;
    },
  );
  return state;
}

export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A promise with its resolve function exposed. */
export function deferred<T = void>(): {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
} {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A minimal FIFO user lock for the tests (async `lock()`), counting how often it was taken. */
export class TestLock {
  held = false;
  taken = 0;
  readonly #waiters: (() => void)[] = [];

  tryLock(): boolean {
    if (this.held) return false;
    this.held = true;
    this.taken++;
    return true;
  }

  lock(): Promise<void> {
    if (this.tryLock()) return Promise.resolve();
    return new Promise((resolve) => {
      this.#waiters.push(() => {
        this.taken++;
        resolve();
      });
    });
  }

  unlock(): void {
    if (!this.held) throw new Error('TestLock: unlock of a free lock');
    const next = this.#waiters.shift();
    if (next === undefined) this.held = false;
    else next(); // handed over: stays held
  }
}
