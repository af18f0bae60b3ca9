import { NonBlockablePromiseError } from './errors.js';

/**
 * How a start walk failed: EAGAIN (a callback said it would block) and/or callbacks that threw,
 * rejected or returned a Promise where they must not. Allocated only on failure: a walk that
 * succeeds returns `undefined`.
 */
export class WalkFailure {
  eagain = false;
  readonly errors: unknown[] = [];
}

/** Records `error` in `failure` (made on first use) and returns it. */
export function addError(failure: WalkFailure | undefined, error: unknown): WalkFailure {
  const f = failure ?? new WalkFailure();
  f.errors.push(error);
  return f;
}

/** Records EAGAIN in `failure` (made on first use) and returns it. */
export function addEagain(failure: WalkFailure | undefined): WalkFailure {
  const f = failure ?? new WalkFailure();
  f.eagain = true;
  return f;
}

/** True for any thenable (what `await` would wait for). Cheap for booleans and undefined. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

const ignore = (): void => {};

/**
 * A callback returned `promise` where it must not wait: let the promise settle unobserved (a
 * rejection is swallowed: it was already reported as this error) and return the error.
 */
export function rejectPromise(
  promise: PromiseLike<unknown>,
  what: string,
): NonBlockablePromiseError {
  Promise.resolve(promise).then(ignore, ignore);
  return new NonBlockablePromiseError(
    `${what} returned a Promise where it must not wait (non-blockable range, end or aging callback)`,
  );
}

/** Appends `item` to `list`, making the list on first use; returns it. */
export function append<T>(list: T[] | undefined, item: T): T[] {
  if (list === undefined) return [item];
  list.push(item);
  return list;
}
