import { isMmuNotifierEvent, type MmuNotifierEvent } from './events.js';

/**
 * One invalidation of the primary page tables, as the kernel's `struct mmu_notifier_range`.
 * The same object is passed to the start and to the matching end.
 */
export interface MmuNotifierRange {
  /** First address (or page number) of the range. */
  start: number;
  /** One past the last address: the range is `[start, end)`. */
  end: number;
  /** Why the range is invalidated. */
  event: MmuNotifierEvent;
  /**
   * Whether callbacks may sleep (await). Set by the start call, as the kernel's wrappers set
   * `MMU_NOTIFIER_RANGE_BLOCKABLE`: `true` by `invalidateRangeStart`, `false` by
   * `invalidateRangeStartNonblock`. Callbacks read it to decide whether they may wait.
   */
  blockable: boolean;
  /** Who caused it, for `'migrate'` and `'exclusive'` (`mmu_notifier_range_init_owner()`). */
  owner?: unknown;
}

/**
 * What the primary MMU passes to the start and end functions: a {@link MmuNotifierRange} whose
 * `blockable` may be left out, since the start sets it (`invalidateRangeStart` to true,
 * `invalidateRangeStartNonblock` to false). Like `mmu_notifier_range_init()`'s arguments.
 */
export type MmuNotifierRangeInit = Omit<MmuNotifierRange, 'blockable'> & {
  /** Ignored on input: the start overwrites it (see {@link MmuNotifierRange.blockable}). */
  blockable?: boolean;
};

/**
 * One past the highest address: addresses are safe integers in `[0, MAX_ADDRESS)`, so the
 * exclusive end of any range, and `start + length` of any subscription, is at most
 * `Number.MAX_SAFE_INTEGER`. (The kernel's space is `[0, ULONG_MAX]`; its release range
 * `[0, ULONG_MAX)` misses an interval ending at `ULONG_MAX`. Ours cannot express one.)
 */
export const MAX_ADDRESS: number = Number.MAX_SAFE_INTEGER;

/**
 * Checks `[start, end)`: numbers (else TypeError) holding safe integers with
 * `0 <= start < end <= MAX_ADDRESS` (else RangeError). `what` names the caller.
 */
export function checkSpan(start: number, end: number, what: string): void {
  if (typeof start !== 'number' || typeof end !== 'number') {
    throw new TypeError(
      `${what}: start and end must be numbers, got ${typeof start}, ${typeof end}`,
    );
  }
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end)) {
    throw new RangeError(`${what}: start and end must be safe integers, got [${start}, ${end})`);
  }
  if (start < 0) throw new RangeError(`${what}: start must be >= 0, got ${start}`);
  if (end <= start) {
    throw new RangeError(`${what}: end (${end}) must be greater than start (${start})`);
  }
}

/** Checks an invalidation range: an object with a valid span and a known event. */
export function checkRange(range: MmuNotifierRange, what: string): void {
  if (typeof range !== 'object' || range === null) {
    throw new TypeError(
      `${what}: range must be an object, got ${range === null ? 'null' : typeof range}`,
    );
  }
  checkSpan(range.start, range.end, what);
  if (!isMmuNotifierEvent(range.event)) {
    throw new TypeError(`${what}: unknown event ${String(range.event)}`);
  }
}

/**
 * Checks a subscription's `start` and `length` and returns its inclusive `last`
 * (`start + length - 1`). The kernel returns -EOVERFLOW for length 0 or overflow; here those
 * (and negative or fractional values) are RangeErrors.
 */
export function checkInterval(start: number, length: number, what: string): number {
  if (typeof start !== 'number' || typeof length !== 'number') {
    throw new TypeError(
      `${what}: start and length must be numbers, got ${typeof start}, ${typeof length}`,
    );
  }
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(length)) {
    throw new RangeError(
      `${what}: start and length must be safe integers, got ${start}, ${length}`,
    );
  }
  if (start < 0) throw new RangeError(`${what}: start must be >= 0, got ${start}`);
  if (length <= 0) throw new RangeError(`${what}: length must be > 0, got ${length}`);
  if (length > MAX_ADDRESS - start) {
    throw new RangeError(
      `${what}: start + length (${start} + ${length}) overflows past MAX_ADDRESS (${MAX_ADDRESS})`,
    );
  }
  return start + length - 1;
}

/**
 * Per-range bookkeeping of successful starts not ended yet, kept on the range object itself under
 * module-private symbols (non-enumerable, so they do not show in keys, JSON or equality checks),
 * so that counting them allocates nothing: `STARTED` counts them and `STARTED_ON` names the
 * address space they were made on. A range object belongs to one address space while it has
 * starts to end, as the kernel's `range->mm` binds a range to its mm. This lets
 * `invalidateRangeEnd` reject an end of a range that was never started, failed, was already
 * ended, or was started on another address space, even while other ranges are active. The
 * kernel has no such check.
 */
const STARTED: unique symbol = Symbol('mmukit.started');
const STARTED_ON: unique symbol = Symbol('mmukit.startedOn');

interface CountedRange {
  [STARTED]?: number;
  [STARTED_ON]?: object | undefined;
}

/**
 * Makes `range` ready to count a start on the address space `mm`, before the start changes
 * anything: a range that cannot take the count (sealed, frozen or otherwise not extensible) or
 * still has a start to end on another address space is a TypeError here, not after the walk ran.
 */
export function prepareStarts(range: MmuNotifierRange, mm: object, what: string): void {
  const r = range as CountedRange;
  if (r[STARTED] === undefined) {
    if (!Object.isExtensible(r)) {
      throw new TypeError(
        `${what}: the range object must be extensible (not sealed or frozen): its starts are counted on it`,
      );
    }
    Object.defineProperty(r, STARTED, { value: 0, writable: true });
    Object.defineProperty(r, STARTED_ON, { value: undefined, writable: true });
  } else if (r[STARTED] !== 0 && r[STARTED_ON] !== mm) {
    throw new TypeError(
      `${what}: the range object has a start not ended yet on another address space (a range belongs to one address space until its ends)`,
    );
  }
}

/** Records a successful start of `range` (prepared by {@link prepareStarts}) on `mm`. */
export function markStarted(range: MmuNotifierRange, mm: object): void {
  const r = range as CountedRange;
  r[STARTED] = (r[STARTED] ?? 0) + 1;
  r[STARTED_ON] = mm;
}

/**
 * Consumes one successful start of `range` on `mm`; false if it has none there (nothing
 * changed, on `mm` or on the address space that started it).
 */
export function takeStarted(range: MmuNotifierRange, mm: object): boolean {
  const r = range as CountedRange;
  const n = r[STARTED];
  if (r[STARTED_ON] !== mm) return false;
  // Stryker disable next-line ConditionalExpression,LogicalOperator,BooleanLiteral: equivalent: never true here, as a count of undefined or 0 comes with STARTED_ON undefined (markStarted sets both, the last end clears both), refused above; it narrows `n` and guards the invariant.
  if (n === undefined || n === 0) return false;
  r[STARTED] = n - 1;
  if (n === 1) r[STARTED_ON] = undefined; // free to start on any address space again
  return true;
}
