import { describe, expect, it } from 'vitest';
import { WaitQueue } from '../src/wait-queue.js';
import { flush, track } from './helpers.js';

// The core's wait queue (`wq`): readBegin and remove wait on it, the last end wakes it.
describe('WaitQueue', () => {
  it('keeps every waiter parked until the next wakeAll(), then wakes them all', async () => {
    const wq = new WaitQueue();
    const first = track(wq.wait());
    const second = track(wq.wait());
    await flush();
    expect([first.settled, second.settled]).toEqual([false, false]);
    wq.wakeAll();
    await flush();
    expect([first.settled, second.settled]).toEqual([true, true]);
  });

  it('every waiter of one round shares one promise; a wake starts a new round', async () => {
    const wq = new WaitQueue();
    const a = wq.wait();
    expect(wq.wait()).toBe(a);
    wq.wakeAll();
    const b = wq.wait();
    expect(b).not.toBe(a);
    const later = track(b);
    await flush();
    expect(later.settled).toBe(false); // the earlier wake does not count for it
    wq.wakeAll();
    await flush();
    expect(later.settled).toBe(true);
  });

  it('a wake with nobody waiting changes nothing', async () => {
    const wq = new WaitQueue();
    wq.wakeAll();
    const waiter = track(wq.wait());
    await flush();
    expect(waiter.settled).toBe(false);
    wq.wakeAll();
    await flush();
    expect(waiter.settled).toBe(true);
  });
});
