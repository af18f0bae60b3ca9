import { afterEach, describe, expect, it, vi } from 'vitest';
import { ACQUIRED, isFree, passTurn, Turn, tryClaimFree } from '../src/ticket-turn.js';

// One waiter's steps (src/ticket-turn.ts), driven on this thread: the other threads are played by
// writing the lock word the way they would (taking a ticket is adding TICKET, claiming sets bit
// 0, unlock() is passTurn), and performance.now() is a fake clock, so every claim-timeout
// decision is exact.

/** A lock word: next ticket (16 bits), ticket served (15 bits), claimed. */
const word = (next: number, serving: number, held = false) =>
  ((next & 0xffff) << 16) | ((serving & 0x7fff) << 1) | (held ? 1 : 0);

function fields(w: Int32Array) {
  const v = Atomics.load(w, 0);
  return { next: v >>> 16, serving: (v >>> 1) & 0x7fff, held: (v & 1) === 1 };
}

/** A lock word in shared memory holding `v`. */
function lockWord(v: number): Int32Array {
  const w = new Int32Array(new SharedArrayBuffer(4));
  w[0] = v;
  return w;
}

let clock = 0;
function fakeClock(start: number) {
  clock = start;
  vi.spyOn(performance, 'now').mockImplementation(() => clock);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('Turn.step(): waiting behind a holder', () => {
  it('parks until notified (Infinity) while the turn ahead is claimed, even with claimTimeoutMs 0', () => {
    fakeClock(0);
    const w = lockWord(word(1, 0, true)); // ticket 0 holds the lock
    const turn = new Turn(w, 0);
    turn.queue(); // ticket 1
    expect(turn.step()).toBe(Number.POSITIVE_INFINITY);
    expect(turn.ahead).toBe(1);
    expect(turn.observed).toBe(word(2, 0, true));
    clock = 1e6; // a holder is never skipped, however long it holds the lock
    expect(turn.step()).toBe(Number.POSITIVE_INFINITY);
    expect(fields(w)).toEqual({ next: 2, serving: 0, held: true });
  });

  it('claims its turn once the holder passes it on', () => {
    const w = lockWord(word(1, 0, true));
    const turn = new Turn(w, 1000);
    turn.queue();
    expect(turn.step()).toBe(Number.POSITIVE_INFINITY);
    w[0] = passTurn(w[0] as number); // the holder's unlock()
    expect(fields(w)).toEqual({ next: 2, serving: 1, held: false });
    expect(turn.step()).toBe(ACQUIRED);
    expect(fields(w)).toEqual({ next: 2, serving: 1, held: true });
  });
});

describe('Turn.step(): a turn nobody claims', () => {
  it('waits out claimTimeoutMs from when it first saw the unclaimed turn, then skips it', () => {
    fakeClock(0);
    const w = lockWord(word(1, 0)); // ticket 0 was served but its thread never claims it
    const turn = new Turn(w, 10);
    turn.queue(); // ticket 1
    expect(turn.step()).toBe(10);
    expect(turn.ahead).toBe(1);
    expect(turn.observed).toBe(word(2, 0));
    clock = 4;
    expect(turn.step()).toBe(6);
    clock = 9;
    const ms = turn.step();
    expect(ms).toBe(1); // a 1 ms wait is a wait, not the lock
    expect(ms).not.toBe(ACQUIRED);
    expect(fields(w)).toEqual({ next: 2, serving: 0, held: false });
    clock = 10; // exactly claimTimeoutMs: skip ticket 0, and ticket 1 is served
    expect(turn.step()).toBe(ACQUIRED);
    expect(fields(w)).toEqual({ next: 2, serving: 1, held: true });
  });

  it('restarts the timer when the turn passes to another unclaimed ticket', () => {
    fakeClock(0);
    const w = lockWord(word(2, 0)); // tickets 0 and 1 taken, ticket 0 served, unclaimed
    const turn = new Turn(w, 10);
    turn.queue(); // ticket 2
    expect(turn.step()).toBe(10);
    clock = 8;
    w[0] = passTurn(w[0] as number); // ticket 0 claimed and unlocked (or was skipped) at 8
    expect(turn.step()).toBe(10); // ticket 1 gets its own 10 ms, from 8
    expect(turn.ahead).toBe(1);
    clock = 17;
    expect(turn.step()).toBe(1);
    clock = 18;
    expect(turn.step()).toBe(ACQUIRED);
    expect(fields(w)).toEqual({ next: 3, serving: 2, held: true });
  });

  it('does not count time spent behind a holder toward the next unclaimed turn (also across the wrap of served to 0)', () => {
    fakeClock(100);
    // Ticket 0x7fff holds the lock, ticket 0 (0x8000: tickets count modulo 2^15) waits and will
    // never claim; this Turn takes ticket 1.
    const w = lockWord(word(0x8001, 0x7fff, true));
    const turn = new Turn(w, 10);
    turn.queue();
    expect(turn.step()).toBe(Number.POSITIVE_INFINITY);
    expect(turn.ahead).toBe(2);
    w[0] = passTurn(w[0] as number); // the holder unlocks at 100: ticket 0 is served
    expect(fields(w)).toEqual({ next: 0x8002, serving: 0, held: false });
    expect(turn.step()).toBe(10);
    clock = 110;
    expect(turn.step()).toBe(ACQUIRED);
    expect(fields(w)).toEqual({ next: 0x8002, serving: 1, held: true });
  });

  it('with claimTimeoutMs 0 skips an unclaimed turn at once', () => {
    const w = lockWord(word(1, 0));
    const turn = new Turn(w, 0);
    turn.queue();
    expect(turn.step()).toBe(ACQUIRED);
    expect(fields(w)).toEqual({ next: 2, serving: 1, held: true });
  });

  it('a skip wakes the threads parked on the word', async () => {
    fakeClock(0);
    const w = lockWord(word(2, 0)); // ticket 0 unclaimed; ticket 1 another waiter, parked
    const parked = Atomics.waitAsync(w, 0, word(2, 0), 2000);
    expect(parked.async).toBe(true);
    const turn = new Turn(w, 10);
    turn.queue(); // ticket 2
    expect(turn.step()).toBe(10);
    clock = 10;
    // Skips ticket 0, then times ticket 1, whose thread must wake to claim its turn.
    expect(turn.step()).toBe(10);
    expect(fields(w)).toEqual({ next: 3, serving: 1, held: false });
    expect(await parked.value).toBe('ok');
  });
});

describe('Turn.step(): a ticket that is no longer in line queues again', () => {
  it('after a waiter behind it skipped its turn', () => {
    const w = lockWord(word(0, 0));
    const turn = new Turn(w, 1000);
    turn.queue(); // ticket 0
    // Ticket 1's thread skipped ticket 0 and claimed the lock.
    w[0] = word(2, 1, true);
    expect(turn.step()).toBe(Number.POSITIVE_INFINITY);
    expect(fields(w)).toEqual({ next: 3, serving: 1, held: true }); // took ticket 2
    expect(turn.ahead).toBe(1);
  });

  it('when its number is served but claimed by another thread (tickets wrap at 2^15)', () => {
    const w = lockWord(word(0, 0));
    const turn = new Turn(w, 1000);
    turn.queue(); // ticket 0
    w[0] = (w[0] as number) | 1; // claimed by the thread whose ticket also reads 0
    expect(turn.step()).toBe(Number.POSITIVE_INFINITY);
    expect(fields(w)).toEqual({ next: 2, serving: 0, held: true });
    expect(turn.ahead).toBe(1);
  });

  it('when its number is a whole lap (2^15 tickets) behind', () => {
    const w = lockWord(word(0, 0));
    const turn = new Turn(w, 1000);
    turn.queue(); // ticket 0
    // Skipped long ago: tickets 0x7ffe (holding) and 0x7fff are in line, and the next ticket to
    // hand out reads 0 again. Ticket 0 looks 2 ahead of the served one but is not in line.
    w[0] = word(0x8000, 0x7ffe, true);
    expect(turn.step()).toBe(Number.POSITIVE_INFINITY);
    expect(fields(w)).toEqual({ next: 0x8001, serving: 0x7ffe, held: true });
    expect(turn.ahead).toBe(2);
  });
});

describe('isFree / tryClaimFree', () => {
  it('a claimed lock is never free, even when the ticket fields read "nobody queued" (2^15 tickets out)', () => {
    const v = word(0x8000, 0, true); // 0x8000 tickets handed out since ticket 0: queued reads 0
    expect(isFree(v)).toBe(false);
    const w = lockWord(v);
    expect(tryClaimFree(w)).toBe(false);
    expect(w[0]).toBe(v);
    expect(isFree(word(5, 5))).toBe(true);
  });
});
