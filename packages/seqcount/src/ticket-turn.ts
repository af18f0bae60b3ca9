/**
 * The lock word of {@link SharedMutex}: a ticket lock (FIFO, like the kernel's ticket spinlock and
 * its queued successor) in one Int32, plus one waiting thread's place in line.
 *
 * Bits of the word (all zero = free):
 * - 16..31: the next ticket to hand out (taking one is `Atomics.add(word, TICKET)`; the carry out
 *   of bit 31 is dropped, so it counts modulo 2^16);
 * - 1..15: the ticket being served (modulo 2^15: tickets compare modulo 2^15);
 * - 0 (HELD): the thread holding the served ticket has claimed the lock.
 *
 * Locking rule. Mutual exclusion rests on HELD alone: it is set only by a compareExchange from a
 * value where it is clear (a claim), and cleared only by unlock() of a held lock. Tickets decide
 * only who may try to claim: the holder of the served ticket, once the previous holder passed the
 * turn on (served + 1, HELD clear). A turn that stays unclaimed while others wait behind it (its
 * thread was terminated, or its event loop is busy) is skipped by a waiter behind it after
 * `claimTimeoutMs` (a compareExchange on the same unclaimed value, so a claim and a skip of one
 * turn cannot both succeed); a skipped thread finds its ticket no longer in line and takes a new
 * one. Every transition is an Atomics read-modify-write, so a claim reads from a chain of them
 * that starts at the previous holder's unlock: all the previous holder did happens-before the
 * new holder's section. A waiter parks on the word value it last saw: unlock() and a skip change
 * the word before they notify, so a waiter that has not parked yet finds the word changed.
 */

/** Adds one to the next-ticket field. */
export const TICKET = 0x10000;
/** The served ticket's holder has claimed the lock. */
export const HELD = 1;
/** Tickets count modulo 2^15. */
const MASK = 0x7fff;
/** Returned by {@link Turn.step} once the lock is ours. */
export const ACQUIRED = -1;

const servingOf = (v: number) => (v >>> 1) & MASK;
/** Tickets handed out and not yet served past: the served one (held or not) and the waiters'. */
const queuedOf = (v: number) => ((v >>> 16) - servingOf(v)) & MASK;

/** True if nobody holds the lock and nobody waits for it. */
export function isFree(v: number): boolean {
  return queuedOf(v) === 0 && (v & HELD) === 0;
}

/** The word with the turn passed on to the next ticket, unclaimed. */
export function passTurn(v: number): number {
  return (v & ~0xffff) | (((servingOf(v) + 1) & MASK) << 1);
}

/** True if somebody waits behind the served ticket. */
export function hasWaitersAfterTurn(v: number): boolean {
  return queuedOf(v) !== 0;
}

/** If the lock is free, take the next ticket and claim it in one compareExchange. */
export function tryClaimFree(w: Int32Array): boolean {
  const v = Atomics.load(w, 0);
  return isFree(v) && Atomics.compareExchange(w, 0, v, (v + TICKET) | HELD) === v;
}

const takeTicket = (w: Int32Array) => (Atomics.add(w, 0, TICKET) >>> 16) & MASK;

/** A lock()/lockAsync() call waiting in line: its ticket and what it last saw. */
export class Turn {
  /** The word value to park on (valid after step() returned a wait). */
  observed = 0;
  /** Tickets ahead of ours, the served one included (valid after step() returned a wait). */
  ahead = 0;
  #ticket = 0;
  readonly #w: Int32Array;
  readonly #claimTimeoutMs: number;
  /** The unclaimed served ticket we are timing, and since when (performance.now(); -1: none). */
  #stuckTicket = 0;
  // Stryker disable next-line UnaryOperator: equivalent: queue() sets it before any step() reads it.
  #stuckSince = -1;

  constructor(w: Int32Array, claimTimeoutMs: number) {
    this.#w = w;
    this.#claimTimeoutMs = claimTimeoutMs;
  }

  /** Take a ticket: from here on, later callers queue behind this one. */
  queue(): void {
    this.#ticket = takeTicket(this.#w);
    this.#stuckSince = -1;
  }

  /**
   * Claim the lock if it is our turn, skip a turn nobody claimed within `claimTimeoutMs`, or say how
   * long to park on {@link observed}: {@link ACQUIRED}, or milliseconds (Infinity: until notified).
   */
  step(): number {
    const w = this.#w;
    for (;;) {
      const v = Atomics.load(w, 0);
      const serving = servingOf(v);
      const ahead = (this.#ticket - serving) & MASK;
      if (ahead === 0 && (v & HELD) === 0) {
        if (Atomics.compareExchange(w, 0, v, v | HELD) === v) return ACQUIRED;
        continue; // the word moved (a ticket was taken, or our turn was skipped): look again
      }
      if (ahead === 0 || ahead >= queuedOf(v)) {
        // Our ticket is out of line: a waiter behind skipped it (or, past 2^15 waiters, another
        // thread claimed the same number). Queue again at the back.
        this.queue();
        continue;
      }
      this.observed = v;
      this.ahead = ahead;
      if ((v & HELD) !== 0) {
        this.#stuckSince = -1;
        return Number.POSITIVE_INFINITY; // the holder's unlock() notifies
      }
      // The turn was passed to a ticket ahead of ours whose thread has not claimed it yet.
      const now = performance.now();
      if (this.#stuckSince < 0 || this.#stuckTicket !== serving) {
        this.#stuckTicket = serving;
        this.#stuckSince = now;
      }
      const left = this.#stuckSince + this.#claimTimeoutMs - now;
      if (left > 0) return left;
      if (Atomics.compareExchange(w, 0, v, passTurn(v)) === v) Atomics.notify(w, 0);
      this.#stuckSince = -1;
    }
  }
}
