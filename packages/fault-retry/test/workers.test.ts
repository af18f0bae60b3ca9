import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { SharedInvalidationTracker, SharedMmuLock } from '../dist/index.js';

const VCPU = new URL('./workers/vcpu.mjs', import.meta.url);
const GFNS = 16;
const RUN_MS = 700;
// The negative control keeps going (up to MAX_CONTROL_MS) until it has seen a stale install,
// so a heavily loaded machine makes it slower, not flaky.
const MAX_CONTROL_MS = 4000;

interface Totals {
  installs: number;
  stale: number;
  retries: number;
  faults: number;
  invalidations: number;
}

function spin(n: number): number {
  let x = 0;
  for (let i = 0; i < n; i++) x += i;
  return x;
}

function once(worker: Worker, message: string, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not say ${message}`)), ms);
    worker.on('message', (m) => {
      if (m === message) {
        clearTimeout(timer);
        resolve();
      }
    });
    worker.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/**
 * Two vCPU workers fault random gfns while this thread invalidates random ranges the way KVM's
 * notifier does, replacing the backing page (a generation number) of every gfn in the range
 * between begin() and end().
 */
async function race(check: boolean): Promise<Totals> {
  const tracker = SharedInvalidationTracker.create();
  const lock = SharedMmuLock.create();
  const backing = new Int32Array(new SharedArrayBuffer(GFNS * 4));
  const control = new Int32Array(new SharedArrayBuffer(8));
  const stats = new Int32Array(new SharedArrayBuffer(2 * 16));
  const workers = [0, 1].map(
    (index) =>
      new Worker(VCPU, {
        workerData: {
          trackerBuffer: tracker.buffer,
          lockBuffer: lock.buffer,
          backingBuffer: backing.buffer,
          controlBuffer: control.buffer,
          statsBuffer: stats.buffer,
          index,
          check,
          seed: 0x9e3779b9 + index,
        },
      }),
  );
  try {
    await Promise.all(workers.map((w) => once(w, 'ready', 10_000)));
    const done = workers.map((w) => once(w, 'done', 10_000));
    Atomics.store(control, 0, 1);
    Atomics.notify(control, 0); // a worker not yet waiting sees go = 1 and does not wait

    let invalidations = 0;
    let seed = 12345;
    const random = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed >>> 8;
    };
    const startedAt = Date.now();
    const staleSeen = () => stats[1]! + stats[5]! > 0;
    const running = () => {
      const elapsed = Date.now() - startedAt;
      return elapsed < RUN_MS || (!check && !staleSeen() && elapsed < MAX_CONTROL_MS);
    };
    while (running()) {
      const start = random() % GFNS;
      const end = Math.min(GFNS, start + 1 + (random() % 8));
      let release = await lock.acquire();
      tracker.begin();
      tracker.rangeAdd(start, end);
      release();
      for (let g = start; g < end; g++) {
        Atomics.add(backing, g, 1); // the primary MMU replaces the page...
        spin(random() % 1000); // ...and takes its time doing so
      }
      release = await lock.acquire();
      tracker.end();
      release();
      invalidations++;
      await new Promise((resolve) => setImmediate(resolve)); // let the vCPUs in
    }
    Atomics.store(control, 1, 1);
    await Promise.all(done);
    const sum = (field: number) => stats[field]! + stats[4 + field]!;
    return {
      installs: sum(0),
      stale: sum(1),
      retries: sum(2),
      faults: sum(3),
      invalidations,
    };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

describe('worker threads: 2 vCPUs fault while the main thread invalidates', () => {
  it('installs no stale page with retryGfn', { timeout: 20_000 }, async () => {
    const t = await race(true);
    expect(t.stale).toBe(0);
    expect(t.installs).toBe(t.faults);
    expect(t.installs).toBeGreaterThan(500);
    expect(t.invalidations).toBeGreaterThan(500);
    expect(t.retries).toBeGreaterThan(0); // the races were real
  });

  it('negative control: without the check, stale pages are installed', {
    timeout: 20_000,
  }, async () => {
    const t = await race(false);
    expect(t.installs).toBeGreaterThan(500);
    expect(t.stale).toBeGreaterThan(0);
  });
});
