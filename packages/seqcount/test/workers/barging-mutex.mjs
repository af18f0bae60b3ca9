// The negative control of test/fairness-workers.test.ts: a futex mutex that lets an unlocking
// thread take the lock again before the waiter it woke (U. Drepper, "Futexes Are Tricky", mutex
// "take 3": 0 free, 1 held, 2 held with waiters). Same lock()/lockAsync()/unlock() shape as
// SharedMutex, over one Int32 word at byte 0 of `sab`.

export class BargingMutex {
  constructor(sab) {
    this.w = new Int32Array(sab, 0, 1);
  }

  lock() {
    const w = this.w;
    let c = Atomics.compareExchange(w, 0, 0, 1);
    if (c === 0) return;
    if (c !== 2) c = Atomics.exchange(w, 0, 2);
    while (c !== 0) {
      Atomics.wait(w, 0, 2);
      c = Atomics.exchange(w, 0, 2);
    }
  }

  async lockAsync() {
    const w = this.w;
    let c = Atomics.compareExchange(w, 0, 0, 1);
    if (c === 0) return;
    if (c !== 2) c = Atomics.exchange(w, 0, 2);
    while (c !== 0) {
      const r = Atomics.waitAsync(w, 0, 2);
      if (r.async) await r.value;
      c = Atomics.exchange(w, 0, 2);
    }
  }

  unlock() {
    if (Atomics.exchange(this.w, 0, 0) === 2) Atomics.notify(this.w, 0, 1);
  }
}
