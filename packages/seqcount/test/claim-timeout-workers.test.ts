import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { SharedMutex } from '../dist/index.js';

// A turn that its waiter does not claim within claimTimeoutMs is skipped by a waiter behind it,
// so a thread terminated while it waits cannot block the mutex for good, and a stalled waiter
// queues again instead of holding up the line.

const ORDER = 4; // keep in sync with test/workers/turn-worker.mjs
const COUNTER = 5;
const GO = 6;
const workerUrl = new URL('./workers/turn-worker.mjs', import.meta.url);
const live = new Set<Worker>();

afterEach(async () => {
  await Promise.all([...live].map((w) => w.terminate()));
  live.clear();
});

interface Message {
  started?: boolean;
  rank?: number;
  done?: boolean;
  rounds?: number;
}

function start(workerData: Record<string, unknown>) {
  const w = new Worker(workerUrl, { workerData });
  live.add(w);
  const messages: Message[] = [];
  const waiters: Array<() => void> = [];
  w.on('message', (m: Message) => {
    messages.push(m);
    for (const wake of waiters.splice(0)) wake();
  });
  /** Resolves with the first message that has `key`. */
  const said = (key: keyof Message) =>
    new Promise<Message>((resolve, reject) => {
      w.once('error', reject);
      const check = () => {
        const m = messages.find((x) => x[key] !== undefined);
        if (m) resolve(m);
        else waiters.push(check);
      };
      check();
    });
  return { worker: w, said };
}

/** Threads holding or waiting for the mutex (src/ticket-turn.ts). */
const queued = (word: Int32Array) => {
  const v = Atomics.load(word, 0);
  return ((v >>> 16) - ((v >>> 1) & 0x7fff)) & 0x7fff;
};

async function until(cond: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 2));
  return cond();
}

describe('SharedMutex: a turn nobody claims', () => {
  it('a worker terminated while it waits does not block the mutex for good', async () => {
    const mutex = SharedMutex.from(new SharedArrayBuffer(64)); // control words follow the lock
    const word = new Int32Array(mutex.buffer);
    mutex.lock();
    const waiter = start({ sab: mutex.buffer, role: 'lock', claimTimeoutMs: 1000 });
    await waiter.said('started');
    expect(await until(() => queued(word) === 2)).toBe(true); // it waits with ticket 1
    await waiter.worker.terminate();
    mutex.unlock(); // the turn passes to the terminated thread's ticket
    expect(mutex.locked).toBe(true);
    expect(mutex.tryLock()).toBe(false);
    const patient = SharedMutex.from(mutex.buffer, 0, { claimTimeoutMs: 50 });
    const t0 = performance.now();
    await patient.lockAsync(); // behind the dead ticket: skips it after 50 ms
    expect(performance.now() - t0).toBeGreaterThanOrEqual(45);
    patient.unlock();
    expect(mutex.locked).toBe(false);
  }, 20_000);

  it('a waiter whose event loop is busy is skipped, then queues again and gets the mutex', async () => {
    const mutex = SharedMutex.from(new SharedArrayBuffer(64)); // control words follow the lock
    const word = new Int32Array(mutex.buffer);
    mutex.lock();
    // Ticket 1: an async waiter that will be busy when its turn comes.
    const slow = start({ sab: mutex.buffer, role: 'lockAsync-busy', busyMs: 1500 });
    await slow.said('started');
    expect(queued(word)).toBe(2);
    // Ticket 2: a blocking waiter that skips a turn left unclaimed for 50 ms.
    const next = start({ sab: mutex.buffer, role: 'lock', claimTimeoutMs: 50 });
    await next.said('started');
    expect(await until(() => queued(word) === 3)).toBe(true);
    mutex.unlock();
    expect((await next.said('rank')).rank).toBe(1); // took ticket 1's turn
    expect((await slow.said('rank')).rank).toBe(2); // then the skipped thread, queued again
    expect(await until(() => !mutex.locked)).toBe(true);
  }, 20_000);

  // Mutual exclusion rests on the claim bit alone, whatever the ticket order: with claimTimeoutMs
  // 0 (skip any unclaimed turn at once) or 0.02 ms, waiters skip each other all the time, claims
  // and skips race, and threads keep queueing again.
  for (const claimTimeoutMs of [0, 0.02, 1000]) {
    it(`excludes under contention with claimTimeoutMs ${claimTimeoutMs} (no lost update)`, async () => {
      const sab = new SharedArrayBuffer(64);
      const ctl = new Int32Array(sab);
      const rounds = 3000;
      const workers = [0, 1, 2].map(() => start({ sab, role: 'stress', claimTimeoutMs, rounds }));
      await Promise.all(workers.map((w) => w.said('started')));
      Atomics.store(ctl, GO, 1);
      Atomics.notify(ctl, GO); // they re-check GO every 10 ms: an early notify is harmless
      const done = await Promise.all(workers.map((w) => w.said('done')));
      const total = done.reduce((n, m) => n + (m.rounds ?? 0), 0);
      expect(total).toBeGreaterThanOrEqual(3 * rounds * (2 / 3)); // lock and lockAsync rounds
      expect(ctl[COUNTER]).toBe(total);
      expect(SharedMutex.from(sab).locked).toBe(false);
      expect(ctl[ORDER]).toBe(0);
    }, 30_000);
  }
});
