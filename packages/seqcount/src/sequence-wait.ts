import { waitWhileEqual } from './shared-buffer.js';

/** Int32 word of a SharedSeqCount holding the sequence. */
export const SEQ = 0;
/** Int32 word of a SharedSeqCount counting readers parked in Atomics.wait/waitAsync on SEQ. */
export const WAITERS = 1;
/** How many times waitSequenceMove() re-reads the sequence before parking in Atomics.wait. */
const SPINS = 100;

// Parking rule: a reader registers in WAITERS before it parks on SEQ; writeEnd() increments SEQ
// and then loads WAITERS. All four are SeqCst: either writeEnd() sees the reader and notifies, or
// the reader's Atomics.wait sees the new SEQ value (!== s) and returns "not-equal" at once. No
// lost wake-up.

/**
 * Block until the sequence in `w` is no longer `s` (the write section that made it odd ended):
 * re-read it {@link SPINS} times, then park in `Atomics.wait`. Returns the new raw Int32 value.
 */
export function waitSequenceMove(w: Int32Array, s: number): number {
  for (let i = 0; i < SPINS; i++) {
    const now = Atomics.load(w, SEQ);
    if (now !== s) return now;
  }
  Atomics.add(w, WAITERS, 1);
  Atomics.wait(w, SEQ, s);
  Atomics.sub(w, WAITERS, 1);
  return Atomics.load(w, SEQ);
}

/** {@link waitSequenceMove} with `Atomics.waitAsync`: never blocks the thread. */
export async function waitSequenceMoveAsync(w: Int32Array, s: number): Promise<number> {
  Atomics.add(w, WAITERS, 1);
  try {
    await waitWhileEqual(w, SEQ, s);
  } finally {
    Atomics.sub(w, WAITERS, 1);
  }
  return Atomics.load(w, SEQ);
}
