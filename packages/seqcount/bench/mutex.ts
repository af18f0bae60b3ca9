/**
 * Mutex benchmark: one acquire + release of an uncontended lock, and a hand-off between tasks,
 * for this package's `Mutex` and async-mutex 0.5 (the common npm choice), measured in the same
 * process, round-robin (each round times every case once, so load from other processes falls on
 * all of them alike). Prints a Markdown table: ns per acquire + release, median (min–max).
 *
 *   pnpm --filter @mmukit/seqcount bench:mutex
 */
import os from 'node:os';
import { Mutex as AsyncMutex } from 'async-mutex';
import { formatRange, summarize } from '../../../bench-stats.js';
import { Mutex } from '../src/mutex.js';

const ITER = 100_000;
const ROUNDS = 15;

type Case = { name: string; run: (n: number) => Promise<void>; ns: number[] };
const cases: Case[] = [];
const add = (name: string, run: (n: number) => Promise<void>) => cases.push({ name, run, ns: [] });

const m = new Mutex();
const am = new AsyncMutex();
const noop = () => {};

add('Mutex: tryLock() + unlock() (synchronous)', async (n) => {
  for (let i = 0; i < n; i++) {
    m.tryLock();
    m.unlock();
  }
});
add('Mutex: await lock() + unlock()', async (n) => {
  for (let i = 0; i < n; i++) {
    await m.lock();
    m.unlock();
  }
});
add('Mutex: tryLock() or await lock(), + unlock()', async (n) => {
  for (let i = 0; i < n; i++) {
    if (!m.tryLock()) await m.lock();
    m.unlock();
  }
});
add('Mutex: release = await acquire(); release()', async (n) => {
  for (let i = 0; i < n; i++) (await m.acquire())();
});
add('Mutex: await runExclusive(fn)', async (n) => {
  for (let i = 0; i < n; i++) await m.runExclusive(noop);
});
add('async-mutex: release = await acquire(); release()', async (n) => {
  for (let i = 0; i < n; i++) (await am.acquire())();
});
add('async-mutex: await runExclusive(fn)', async (n) => {
  for (let i = 0; i < n; i++) await am.runExclusive(noop);
});
add('floor: await of a resolved promise (no lock)', async (n) => {
  for (let i = 0; i < n; i++) await undefined;
});

/** Two tasks alternate: every acquire waits for the other task's release (a hand-off). */
function handOff(lock: () => Promise<void>, unlock: () => void) {
  return async (n: number) => {
    const task = async () => {
      for (let i = 0; i < n / 2; i++) {
        await lock();
        await undefined; // hold it across an await, so the other task queues
        unlock();
      }
    };
    await Promise.all([task(), task()]);
  };
}
add(
  'Mutex: contended hand-off between 2 tasks',
  handOff(
    () => m.lock(),
    () => m.unlock(),
  ),
);
let amRelease: () => void = noop;
add(
  'async-mutex: contended hand-off between 2 tasks',
  handOff(
    async () => {
      amRelease = await am.acquire();
    },
    () => amRelease(),
  ),
);

for (const c of cases) await c.run(ITER); // warm-up (JIT)
for (let r = 0; r < ROUNDS; r++) {
  for (const c of cases) {
    const t0 = process.hrtime.bigint();
    await c.run(ITER);
    c.ns.push(Number(process.hrtime.bigint() - t0) / ITER);
  }
}

console.log(
  `Node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${new Date().toISOString().slice(0, 10)}\n`,
);
console.log('| case | ns per acquire + release, median (min–max) |');
console.log('|---|---|');
for (const c of cases) console.log(`| ${c.name} | ${formatRange(summarize(c.ns), 1)} |`);
