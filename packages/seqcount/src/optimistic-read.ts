/** Returned by {@link ReadSide.begin} when writers run back to back (see there). */
// Stryker disable next-line UnaryOperator: equivalent: it only has to differ from the even sequences begin() returns, and 1 is odd too.
export const OVERTAKEN = -1;

/**
 * The read side of a seqlock as the optimistic read loop sees it (internal). {@link SeqLock} and
 * {@link SharedSeqLock} each build one per lock, so the loop itself allocates no closures.
 */
export interface ReadSide<T> {
  /** The value handed to readers (`undefined` for a lock guarding external data). */
  readonly value: T;
  /**
   * An even sequence to begin an attempt with, or a promise of one once the write in progress
   * ends; or {@link OVERTAKEN} if, by the time that write ended and this reader looked again,
   * another had begun: the reader then stops trying locklessly and takes the writer lock.
   */
  begin(): number | Promise<number>;
  /** True if the attempt begun at `start` overlapped a write and must be discarded. */
  retry(start: number): boolean;
  /** Run `fn` once holding the writer lock (cannot fail validation); the fallback. */
  exclusive<R>(fn: (value: T) => R | PromiseLike<R>): Promise<R>;
}

/**
 * `read_seqbegin_or_lock()` for async readers: up to `attempts` lockless attempts, each waiting
 * for a write in progress to end, running `fn` (awaiting it if it returns a promise) and
 * accepting the result only if `side.retry(start)` is false; then one attempt under the writer
 * lock, so a reader cannot be starved by a stream of writers. If `side.begin()` reports
 * {@link OVERTAKEN}, the remaining lockless attempts are skipped.
 *
 * Rule: an error thrown (or a rejection) by an attempt that overlapped a write is treated as a
 * symptom of torn data and discarded with the attempt; an error from an attempt that did not
 * overlap a write is the reader's own and propagates.
 *
 * A synchronous `fn` is validated without yielding in between, so no writer on this thread can
 * slip in between its reads and the check.
 */
export async function readOptimistically<T, R>(
  side: ReadSide<T>,
  attempts: number,
  fn: (value: T) => R | PromiseLike<R>,
): Promise<R> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    let start = side.begin();
    // Stryker disable next-line ConditionalExpression,StringLiteral: equivalent: awaiting a number only adds a microtask.
    if (typeof start !== 'number') start = await start;
    if (start === OVERTAKEN) break;
    let result: R;
    try {
      const r = fn(side.value);
      result = isPromiseLike(r) ? await r : r;
    } catch (error) {
      if (side.retry(start)) continue;
      throw error;
    }
    if (!side.retry(start)) return result;
  }
  return side.exclusive(fn);
}

/** True for promises and other thenables. */
export function isPromiseLike<R>(r: R | PromiseLike<R>): r is PromiseLike<R> {
  return typeof (r as { then?: unknown } | null)?.then === 'function';
}
