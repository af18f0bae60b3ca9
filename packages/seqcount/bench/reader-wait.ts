/**
 * How long a SharedSeqLock reader waits while a writer thread runs write sections back to back
 * (each busy for SECTION_US µs, taking the lock again right after releasing it). This thread does
 * reads of an 8-word record, each after a random pause of up to 100 µs (so it arrives at random
 * points of the writer's sections), and times each read() from call to return. Wall-clock waits
 * include the time the threads were descheduled (a writer preempted inside its section holds the
 * lock meanwhile: the last column shows the longest section); test/fairness-workers.test.ts counts
 * overtaking sections independently of that.
 * Run alone (after `build`: the worker imports dist/): `tsx bench/reader-wait.ts`; bench/run.ts
 * runs it last.
 */
import { Worker } from 'node:worker_threads';
import { SharedSeqLock } from '../dist/index.js';

const WORDS = 8;
const CONTROL_BYTES = 64; // keep in sync with test/workers/record.mjs
const GO = 4;
const STOP = 5;
const SECTION_US = 100;
const ROUNDS = 3;
const ROUND_MS = 1000;
const workerUrl = new URL('./workers/bench-worker.mjs', import.meta.url);

interface Case {
  name: string;
  options: { maxOptimisticReads?: number };
  async: boolean;
}
const CASES: Case[] = [
  { name: 'read() (3 lockless attempts, then the lock)', options: {}, async: false },
  { name: 'readAsync() (3 lockless attempts, then the lock)', options: {}, async: true },
  {
    name: 'read() with maxOptimisticReads 0 (always the lock)',
    options: { maxOptimisticReads: 0 },
    async: false,
  },
];

/** One round: a writer worker for `ms`, this thread reading; the wait of each read in µs. */
async function round(
  c: Case,
  ms: number,
): Promise<{ waits: number[]; sections: number; longest: number }> {
  const sab = new SharedArrayBuffer(CONTROL_BYTES + WORDS * 4);
  const ctl = new Int32Array(sab, 0, CONTROL_BYTES / 4);
  const rec = new Int32Array(sab, CONTROL_BYTES, WORDS);
  const lock = SharedSeqLock.from(sab, 0, c.options);
  const worker = new Worker(workerUrl, {
    workerData: { sab, role: 'seqlock-writer', words: WORDS, gap: 0, sectionUs: SECTION_US },
  });
  const messages: Array<{ writes?: number }> = [];
  const next = () =>
    new Promise<{ writes?: number; longest?: number }>((resolve) => {
      worker.once('message', (m) => resolve(m));
    });
  messages.push(await next()); // ready
  const done = next();
  Atomics.store(ctl, GO, 1);
  Atomics.notify(ctl, GO);
  await new Promise((r) => setTimeout(r, 20)); // let the writer get going
  const out = new Int32Array(WORDS);
  const copy = () => {
    for (let i = 0; i < WORDS; i++) out[i] = rec[i] as number;
    return out[0] as number;
  };
  const waits: number[] = [];
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const pause = performance.now() + Math.random() * 0.1;
    while (performance.now() < pause);
    const t0 = performance.now();
    if (c.async) await lock.readAsync(copy);
    else lock.read(copy);
    waits.push((performance.now() - t0) * 1000);
  }
  Atomics.store(ctl, STOP, 1);
  const { writes, longest } = await done;
  await worker.terminate();
  return { waits, sections: writes ?? 0, longest: longest ?? 0 };
}

/** The reader-wait table: one row per case, over ROUNDS rounds of ROUND_MS. */
export async function readerWaitTable(): Promise<string[]> {
  const lines = [
    `Reader wait while a writer thread runs ${SECTION_US} µs write sections back to back (${ROUNDS} rounds of ${ROUND_MS} ms):`,
    '',
    '| reader (this thread) | reads | median wait µs | p99 µs | worst µs | writer sections/s | longest writer section µs |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const c of CASES) {
    const waits: number[] = [];
    let sections = 0;
    let longest = 0;
    for (let r = 0; r < ROUNDS; r++) {
      const res = await round(c, ROUND_MS);
      waits.push(...res.waits);
      sections += res.sections;
      longest = Math.max(longest, res.longest);
    }
    waits.sort((a, b) => a - b);
    const at = (q: number) =>
      (waits[Math.min(waits.length - 1, Math.floor(q * waits.length))] ?? 0).toFixed(0);
    const perSecond = (sections / ((ROUNDS * ROUND_MS) / 1000)).toFixed(0);
    lines.push(
      `| ${c.name} | ${waits.length} | ${at(0.5)} | ${at(0.99)} | ${(waits.at(-1) ?? 0).toFixed(0)} | ${perSecond} | ${longest.toFixed(0)} |`,
    );
  }
  return lines;
}

if (import.meta.url === new URL(process.argv[1] ?? '', 'file:').href) {
  const { cpus } = await import('node:os');
  console.log(
    `CPU: ${cpus()[0]?.model ?? 'unknown'} (${cpus().length} cores), Node ${process.version}`,
  );
  for (const line of await readerWaitTable()) console.log(line);
}
