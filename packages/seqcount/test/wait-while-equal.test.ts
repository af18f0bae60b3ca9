import { describe, expect, it } from 'vitest';
import { waitWhileEqual } from '../src/shared-buffer.js';

/** Timers (setTimeout/setInterval) that keep Node's event loop alive. */
const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('waitWhileEqual', () => {
  it('holds a keep-alive timer only while parked: released when woken', async () => {
    const words = new Int32Array(new SharedArrayBuffer(4));
    const before = timers();
    const waiting = waitWhileEqual(words, 0, 0);
    expect(timers()).toBe(before + 1);
    Atomics.store(words, 0, 1);
    Atomics.notify(words, 0);
    await waiting;
    expect(timers()).toBe(before);
  });

  it('... and when its timeout expires', async () => {
    const words = new Int32Array(new SharedArrayBuffer(4));
    const before = timers();
    await waitWhileEqual(words, 0, 0, 5);
    expect(timers()).toBe(before);
  });

  it('creates no timer when the word already differs', async () => {
    const words = new Int32Array(new SharedArrayBuffer(4));
    const before = timers();
    const waiting = waitWhileEqual(words, 0, 1);
    expect(timers()).toBe(before);
    await waiting;
  });
});
