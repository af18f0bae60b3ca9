import type { MmuNotifier, MmuNotifierOps } from './classic-notifier.js';
import { NotifierCallbackError } from './errors.js';
import {
  addEagain,
  addError,
  append,
  isThenable,
  rejectPromise,
  type WalkFailure,
} from './failure.js';
import type { MmState } from './mm-state.js';
import type { MmuNotifierRange } from './range.js';

type ClassicRangeOp = 'invalidateRangeStart' | 'invalidateRangeEnd' | 'release';
type AgingOp = 'clearFlushYoung' | 'clearYoung' | 'testYoung';
type AnyOp = (this: MmuNotifierOps, ...args: unknown[]) => unknown;

/** What {@link invokeClassic} returns for a subscriber without that op. Private to the module. */
const ABSENT: unique symbol = Symbol('absent');

/**
 * Reads `sub`'s `op` and runs the synchronous part of it (with `this` = the ops object), counted
 * as "inside a callback" for the misuse checks; returns {@link ABSENT} if it has none. Reading
 * the op runs user code too (a getter, a Proxy, a strict mock): call this inside the same
 * try as the call, so a read that throws counts as that callback failing. Walks iterate a
 * snapshot of `mm._classic` (replaced, never mutated, on register/unregister: the RCU list) and
 * skip subscribers unhashed meanwhile.
 */
function invokeClassic(
  mm: MmState,
  sub: MmuNotifier,
  op: ClassicRangeOp,
  range: MmuNotifierRange | undefined,
): unknown {
  const ops = sub._ops;
  const fn = ops[op] as AnyOp | undefined;
  if (fn === undefined) return ABSENT;
  // Stryker disable next-line ConditionalExpression: equivalent: emit() without a tracer does nothing; the guard only saves building the event.
  if (mm._tracer !== undefined) mm.emit({ type: 'classic', op, sub, range });
  mm._depth++;
  try {
    const als = mm._als;
    if (range === undefined) {
      return als === undefined ? fn.call(ops, sub) : als.run(mm, () => fn.call(ops, sub));
    }
    return als === undefined
      ? fn.call(ops, sub, range)
      : als.run(mm, () => fn.call(ops, sub, range));
  } finally {
    mm._depth--;
  }
}

/**
 * `mn_hlist_invalidate_range_start()` for a blockable range: every subscriber with a start is
 * called (awaiting a returned promise). `false` here is a misuse: warn and treat it as success,
 * since the caller will call end (the kernel warns, calls the ends now, and its caller then
 * calls them again). A start that throws or rejects is recorded and the rest still run; then
 * the others with an end get it now (`hlistPairEnds`), and the failure is returned: at once when
 * no start returned a thenable (no promise, no microtask), else a promise of it.
 */
export function hlistInvalidateRangeStart(
  mm: MmState,
  range: MmuNotifierRange,
): WalkFailure | undefined | Promise<WalkFailure | undefined> {
  const subs = mm._classic;
  let failure: WalkFailure | undefined;
  let threw: MmuNotifier[] | undefined;
  const gen = mm._srcu.readLock();
  let rest = false; // the walk goes on in hlistStartRest, which unlocks
  try {
    for (let i = 0; i < subs.length; i++) {
      const sub = subs[i]!;
      if (!sub._hashed) continue;
      let result: unknown;
      try {
        result = invokeClassic(mm, sub, 'invalidateRangeStart', range);
        if (isThenable(result)) {
          rest = true;
          return hlistStartRest(mm, range, subs, i, result, failure, threw, gen);
        }
      } catch (error) {
        failure = addError(failure, error);
        threw = append(threw, sub);
        continue;
      }
      if (result === false) {
        mm.warn('invalidateRangeStart() returned false (EAGAIN) for a blockable range; ignored');
      }
    }
    if (failure !== undefined) failure = hlistPairEnds(mm, subs, range, threw, failure);
  } finally {
    if (!rest) mm._srcu.readUnlock(gen);
  }
  return failure;
}

/**
 * The rest of a blockable classic walk whose start of `subs[i]` returned the thenable `pending`:
 * awaits it, then goes on from `subs[i + 1]` as {@link hlistInvalidateRangeStart} does, awaiting
 * every thenable; leaves the SRCU read section `gen` at the end.
 */
async function hlistStartRest(
  mm: MmState,
  range: MmuNotifierRange,
  subs: readonly MmuNotifier[],
  i: number,
  pending: PromiseLike<unknown>,
  failure: WalkFailure | undefined,
  threw: MmuNotifier[] | undefined,
  gen: number,
): Promise<WalkFailure | undefined> {
  try {
    for (let first = true; i < subs.length; i++, first = false) {
      const sub = subs[i]!;
      let result: unknown;
      try {
        if (first) result = await pending;
        else {
          if (!sub._hashed) continue;
          result = invokeClassic(mm, sub, 'invalidateRangeStart', range);
          // Stryker disable next-line ConditionalExpression: equivalent: awaiting a value that is not a thenable gives that value; it only adds a microtask.
          if (isThenable(result)) result = await result;
        }
      } catch (error) {
        failure = addError(failure, error);
        threw = append(threw, sub);
        continue;
      }
      if (result === false) {
        mm.warn('invalidateRangeStart() returned false (EAGAIN) for a blockable range; ignored');
      }
    }
    if (failure !== undefined) failure = hlistPairEnds(mm, subs, range, threw, failure);
  } finally {
    mm._srcu.readUnlock(gen);
  }
  return failure;
}

/**
 * `mn_hlist_invalidate_range_start()` for a non-blockable range, synchronous. Every subscriber
 * with a start is called even after one failed (`false` = EAGAIN, a throw, or a returned
 * Promise); then, as after the kernel's "ensure range_end() is paired with range_start()" fix,
 * every subscriber with an end gets its end now (see `hlistPairEnds`), and the failure is
 * returned (the caller must not call end).
 */
export function hlistInvalidateRangeStartNonblock(
  mm: MmState,
  range: MmuNotifierRange,
): WalkFailure | undefined {
  const subs = mm._classic;
  let failure: WalkFailure | undefined;
  let threw: MmuNotifier[] | undefined;
  for (const sub of subs) {
    if (!sub._hashed) continue;
    let result: unknown;
    let thenable: boolean;
    try {
      result = invokeClassic(mm, sub, 'invalidateRangeStart', range);
      thenable = isThenable(result); // reading `then` may run user code
    } catch (error) {
      failure = addError(failure, error);
      threw = append(threw, sub);
      continue;
    }
    if (thenable) {
      failure = addError(
        failure,
        rejectPromise(result as PromiseLike<unknown>, 'invalidateRangeStart()'),
      );
      threw = append(threw, sub);
    } else if (result === false) {
      failure = addEagain(failure);
      if (hasOp(sub, 'invalidateRangeEnd')) {
        // Kernel: WARN_ON(ops->invalidate_range_end); it still gets its end below.
        mm.warn('a classic subscriber whose invalidateRangeStart() returned EAGAIN has an end');
      }
    }
  }
  if (failure !== undefined) failure = hlistPairEnds(mm, subs, range, threw, failure);
  return failure;
}

/**
 * After a failed start, as the kernel's pairing loop: every subscriber that has an end gets it
 * (those whose start succeeded expect one, and a subscriber cannot tell whether its own start
 * was the one that failed), including one that returned EAGAIN (warned about above). Only a
 * subscriber whose start threw, rejected or returned a Promise (`threw`, our extension) is
 * skipped: its start did not complete.
 */
function hlistPairEnds(
  mm: MmState,
  subs: readonly MmuNotifier[],
  range: MmuNotifierRange,
  threw: MmuNotifier[] | undefined,
  failure: WalkFailure,
): WalkFailure {
  for (const sub of subs) {
    if (threw?.includes(sub)) continue;
    callEnd(mm, sub, range, failure.errors);
  }
  return failure;
}

/**
 * Calls one subscriber's end if it is hashed and has one. A failure (any thrown value, even
 * `undefined`, or a returned Promise) is appended to `errors`, made on first use; returns it.
 */
function callEnd(
  mm: MmState,
  sub: MmuNotifier,
  range: MmuNotifierRange,
  errors: unknown[] | undefined,
): unknown[] | undefined {
  if (!sub._hashed) return errors;
  try {
    const result = invokeClassic(mm, sub, 'invalidateRangeEnd', range);
    if (isThenable(result)) return append(errors, rejectPromise(result, 'invalidateRangeEnd()'));
  } catch (error) {
    return append(errors, error);
  }
  return errors;
}

/** True if `sub` has `op`; a read that throws counts as absent (its call reports the error). */
function hasOp(sub: MmuNotifier, op: ClassicRangeOp): boolean {
  try {
    return sub._ops[op] !== undefined;
  } /* Stryker disable next-line BlockStatement: equivalent: an empty catch returns undefined, as falsy as the false it returns. */ catch {
    return false;
  }
}

/**
 * `mn_hlist_invalidate_end()`: every subscriber's end, synchronously; one that throws does not
 * stop the others. Returns the failures, or undefined.
 */
export function hlistInvalidateEnd(mm: MmState, range: MmuNotifierRange): unknown[] | undefined {
  let errors: unknown[] | undefined;
  for (const sub of mm._classic) errors = callEnd(mm, sub, range, errors);
  return errors;
}

/**
 * `mn_hlist_release()`: every subscriber's `release` (awaited), then all are unhashed, then
 * wait for walks still running their methods (`synchronize_srcu()`). Returns the failures.
 */
export async function hlistRelease(mm: MmState): Promise<unknown[] | undefined> {
  const subs = mm._classic;
  let errors: unknown[] | undefined;
  const gen = mm._srcu.readLock();
  try {
    for (const sub of subs) {
      if (!sub._hashed) continue;
      try {
        const result = invokeClassic(mm, sub, 'release', undefined);
        // Stryker disable next-line ConditionalExpression: equivalent: awaiting a value that is not a thenable only adds a microtask.
        if (isThenable(result)) await result;
      } catch (error) {
        errors = append(errors, error);
      }
    }
    for (const sub of mm._classic) sub._hashed = false;
    mm._classic = [];
  } finally {
    mm._srcu.readUnlock(gen);
  }
  await mm._srcu.synchronize();
  return errors;
}

/**
 * `mmu_notifier_unregister()`: if still hashed, `release` (awaited) then unhash; then wait for
 * walks still running its methods. Returns the failure of `release`, if any.
 */
export async function hlistUnregister(
  mm: MmState,
  sub: MmuNotifier,
): Promise<unknown[] | undefined> {
  let errors: unknown[] | undefined;
  if (sub._hashed) {
    const gen = mm._srcu.readLock();
    try {
      const result = invokeClassic(mm, sub, 'release', undefined);
      if (isThenable(result)) await result;
    } catch (error) {
      errors = [error];
    } finally {
      mm._srcu.readUnlock(gen);
    }
    // release() of the whole space may have unhashed it meanwhile: then it is already off.
    // Stryker disable next-line ConditionalExpression: equivalent: unhashing it again and filtering it out of a list that no longer holds it (release() emptied it) changes nothing.
    if (sub._hashed) {
      sub._hashed = false;
      mm._classic = mm._classic.filter((s) => s !== sub);
    }
  }
  await mm._srcu.synchronize();
  return errors;
}

/**
 * The aging calls (`__mmu_notifier_clear_flush_young()`, `..._clear_young()`,
 * `..._test_young()`): synchronous; `clear*` call every subscriber and OR the results, `test`
 * stops at the first young one. A callback that throws or returns a Promise does not stop the
 * others; the failures are thrown together afterwards.
 */
export function hlistAge(mm: MmState, op: AgingOp, start: number, end: number): boolean {
  let young = false;
  let errors: unknown[] | undefined;
  for (const sub of mm._classic) {
    if (!sub._hashed) continue;
    let result: unknown;
    let thenable: boolean;
    try {
      const fn = sub._ops[op]; // a getter runs user code: inside the try, as the call
      if (fn === undefined) continue;
      result = fn.call(sub._ops, sub, start, end);
      thenable = isThenable(result); // reading `then` may run user code
    } catch (error) {
      errors = append(errors, error);
      continue;
    }
    if (thenable) {
      errors = append(errors, rejectPromise(result as PromiseLike<unknown>, `${op}()`));
      continue;
    }
    if (result) {
      young = true;
      if (op === 'testYoung') break;
    }
  }
  if (errors !== undefined) throw new NotifierCallbackError(errors, op);
  return young;
}
