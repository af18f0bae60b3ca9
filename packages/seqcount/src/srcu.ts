import { SrcuUnlockError } from './errors.js';

/**
 * Wait for readers, without letting late readers starve the waiter: the kernel's sleepable RCU
 * (`srcu_read_lock()` / `srcu_read_unlock()` / `synchronize_srcu()`) for one thread of async
 * code. Readers mark a section that may await; `synchronize()` resolves once every reader that
 * was inside when it was called has left. Readers that enter after it was called are not
 * waited for, so a steady stream of overlapping readers cannot hold it off forever (a plain
 * "wait until nobody is inside" could wait forever).
 *
 * The writer's side of the pattern: first make the old state unreachable for new readers (swap a
 * pointer, unhash a subscriber), then `await synchronize()`, then free the old state. Readers
 * never wait and never retry.
 *
 * Readers are counted per grace-period generation: `readLock()` counts the reader in the
 * current generation and returns it as a token; `synchronize()` closes the current generation
 * (later readers count in a new one) and waits until it and every older one has drained.
 * `readLock`/`readUnlock` are synchronous and allocate nothing.
 */
export class Srcu {
  /** `#counts[i]`: readers inside of generation `#base + i`; the last entry is the current one. */
  readonly #counts: number[] = [0];
  #base = 0;
  #readers = 0;
  readonly #waiters: Array<{ gen: number; resolve: () => void }> = [];

  /** Readers inside now, over every generation. */
  get readers(): number {
    return this.#readers;
  }

  /** Number of `synchronize()` calls waiting. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /**
   * Enters a read-side section, which may await. Returns the token to pass to
   * {@link readUnlock}. Never waits. Like `srcu_read_lock()`.
   */
  readLock(): number {
    const last = this.#counts.length - 1;
    this.#counts[last]!++;
    this.#readers++;
    return this.#base + last;
  }

  /**
   * Leaves the section entered with `token`. Like `srcu_read_unlock()`.
   * @throws SrcuUnlockError if `token` is not a generation with a reader inside (a second unlock,
   *   or a value `readLock` did not return); nothing changes.
   */
  readUnlock(token: number): void {
    const i = token - this.#base;
    const n = Number.isInteger(i) ? this.#counts[i] : undefined;
    if (n === undefined || n === 0) {
      throw new SrcuUnlockError(
        `readUnlock(${String(token)}): no reader of that generation is inside (unlocked twice, or not a token from readLock())`,
      );
    }
    this.#counts[i] = n - 1;
    this.#readers--;
    // Stryker disable next-line LogicalOperator: equivalent: #retire() changes nothing unless the oldest generation just drained; calling it more often only costs time.
    if (i === 0 && n === 1) this.#retire();
  }

  /**
   * Resolves once every reader inside at the time of the call has left (at once if none).
   * Readers that enter later do not delay it. Like `synchronize_srcu()`.
   */
  synchronize(): Promise<void> {
    if (this.#readers === 0) return Promise.resolve();
    const gen = this.#base + this.#counts.length - 1;
    this.#counts.push(0); // later readers count in the next generation
    return new Promise<void>((resolve) => {
      this.#waiters.push({ gen, resolve });
    });
  }

  /** Drops drained generations from the front and wakes the waiters whose generation is gone. */
  #retire(): void {
    const counts = this.#counts;
    while (counts.length > 1 && counts[0] === 0) {
      counts.shift();
      this.#base++;
    }
    const waiters = this.#waiters;
    // Waiters are in generation order: wake the prefix that has fully drained.
    while (waiters.length > 0 && waiters[0]!.gen < this.#base) waiters.shift()!.resolve();
  }
}
