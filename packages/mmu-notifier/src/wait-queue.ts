/**
 * A kernel wait queue reduced to what `wake_up_all()` needs in one thread: every waiter shares
 * one promise, made on demand and resolved by the next `wakeAll()`. Waiters re-check their
 * condition after waking (`wait_event()` semantics), so spurious wakes are harmless.
 */
export class WaitQueue {
  #promise: Promise<void> | undefined = undefined;
  #wake: (() => void) | undefined = undefined;

  /** A promise resolved by the next {@link wakeAll}. */
  wait(): Promise<void> {
    if (this.#promise === undefined) {
      this.#promise = new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
    return this.#promise;
  }

  /** Resolves the current waiters' promise (they resume on later microtasks). */
  wakeAll(): void {
    const wake = this.#wake;
    if (wake === undefined) return;
    this.#wake = undefined;
    this.#promise = undefined;
    wake();
  }
}
