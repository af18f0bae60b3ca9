import { vi } from 'vitest';

/** One Atomics.wait() call made by the code under test. */
export interface Park {
  words: Int32Array;
  index: number;
  value: number;
  timeout: number;
}

/**
 * Plays another thread on this one, so blocking code can run on the test's thread without
 * blocking it: replaces Atomics.wait so that each time this thread would park, the next of
 * `steps` runs (what the other thread does while this one sleeps), then the wait returns as a
 * real one would: 'not-equal' if the word moved, 'timed-out' for a finite wait on an unchanged
 * word. It throws where a real wait would never return (no step left, or an infinite wait on a
 * word nobody changed). Returns the parks seen, in order. Undo with vi.restoreAllMocks().
 */
export function playOtherThreadOnPark(steps: Array<() => void>): Park[] {
  const parks: Park[] = [];
  const wait = (words: Int32Array, index: number, value: number, timeout = Infinity) => {
    parks.push({ words, index, value, timeout });
    const step = steps.shift();
    if (step === undefined) {
      throw new Error(`parked on word ${index} = ${value} with no other-thread step left`);
    }
    step();
    if (Atomics.load(words, index) !== value) return 'not-equal';
    if (timeout === Number.POSITIVE_INFINITY) {
      throw new Error(`parked for good: word ${index} is still ${value} after the step`);
    }
    return 'timed-out';
  };
  vi.spyOn(Atomics, 'wait').mockImplementation(wait as typeof Atomics.wait);
  return parks;
}
