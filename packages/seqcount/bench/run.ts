/**
 * Benchmarks for @mmukit/seqcount (run: `pnpm --filter @mmukit/seqcount bench`, after `build`:
 * the worker threads import dist/).
 *
 * 1. One thread: a read of an 8-word record bare, and wrapped in readBegin/readRetry, for
 *    SeqCount (plain Int32Array) and SharedSeqCount (Atomics.load data, and plain data).
 * 2. The protected shared read (approach A and B, see README) while a writer worker rewrites the
 *    record (gap of 64 loads between sections), or while another reader worker reads it.
 * 3. Writer throughput (SharedSeqCount write sections of the 8-word record) with 0 and 1 reader
 *    workers.
 * 4. Allocation check: GCs observed during 10^7 readBegin/readRetry pairs (0 means the hot path
 *    allocates nothing).
 * 5. Reader wait: how long SharedSeqLock reads wait while a writer thread runs 100 µs write
 *    sections back to back (bench/reader-wait.ts; `tsx bench/reader-wait.ts` runs it alone).
 * Inputs are deterministic (the record holds the checksum state of counter 12345); every number
 * is the median of ROUNDS rounds, reported with min and max.
 */
import { cpus } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { median, summarize } from '../../../bench-stats.js';
import { loadWords, SeqCount, SharedSeqCount } from '../dist/index.js';
import { readerWaitTable } from './reader-wait.js';

const WORDS = 8;
const ROUNDS = 9;
const ITER = 2_000_000;
const CONTROL_BYTES = 64; // keep in sync with test/workers/record.mjs
const GO = 4;
const STOP = 5;
const K = 0x9e3779b1 | 0;

function fillRecord(rec: Int32Array, c: number): void {
  rec[0] = c;
  for (let i = 1; i < rec.length; i++) rec[i] = (Math.imul(c, K) + i) | 0;
}

interface Row {
  name: string;
  nsPerOp: number[];
  note?: string;
}
const rows: Row[] = [];
let sink = 0;

/**
 * Register a single-thread case. All cases are timed together by runSingleThreadCases(): after a
 * warm-up round of each, every round times each case once (round-robin), so load from other
 * processes on this shared machine falls on all cases alike. ns per iteration.
 */
const pending: Array<{ row: Row; fn: (n: number) => number }> = [];
function measure(name: string, fn: (n: number) => number, note?: string): Row {
  const row: Row = { name, nsPerOp: [], ...(note === undefined ? {} : { note }) };
  rows.push(row);
  pending.push({ row, fn });
  return row;
}
function runSingleThreadCases(): void {
  for (const { fn } of pending) sink += fn(ITER); // warm-up (JIT)
  for (let r = 0; r < ROUNDS; r++) {
    for (const { row, fn } of pending) {
      const t0 = process.hrtime.bigint();
      sink += fn(ITER);
      row.nsPerOp.push(Number(process.hrtime.bigint() - t0) / ITER);
    }
  }
}

// ---- 1. one thread, no writer
// Each read loop below is written out on purpose, though many differ only in the counter, the data
// access or the retry call: closures made by one shared helper would share V8's type feedback, so
// every call site in them would be polymorphic and the numbers would measure that dispatch rather
// than the protocol.
// Sums are kept in int32 (`| 0`): a float accumulator reset inside the retry loop makes V8
// box it, and the benchmark would measure that instead of the protocol. --------------------------------------------------------------
const plain = new Int32Array(WORDS);
fillRecord(plain, 12345);
const seq = new SeqCount();
const sabOne = new SharedArrayBuffer(CONTROL_BYTES + WORDS * 4);
const sseq = SharedSeqCount.from(sabOne, 0);
const shared = new Int32Array(sabOne, CONTROL_BYTES, WORDS);
fillRecord(shared, 12345);
const copy = new Int32Array(WORDS);

const bareLocal = measure('bare read, Int32Array (unsynchronized)', (n) => {
  let s = 0;
  for (let k = 0; k < n; k++) for (let i = 0; i < WORDS; i++) s = (s + (plain[i] as number)) | 0;
  return s;
});
measure('SeqCount readBegin + read + readRetry', (n) => {
  let s = 0;
  for (let k = 0; k < n; k++) {
    let start: number;
    let t: number;
    do {
      start = seq.readBegin();
      t = 0;
      for (let i = 0; i < WORDS; i++) t = (t + (plain[i] as number)) | 0;
    } while (seq.readRetry(start));
    s = (s + t) | 0;
  }
  return s;
});
const bareShared = measure('bare read, shared Int32Array, plain loads (unsynchronized)', (n) => {
  let s = 0;
  for (let k = 0; k < n; k++) for (let i = 0; i < WORDS; i++) s = (s + (shared[i] as number)) | 0;
  return s;
});
measure('bare read, shared Int32Array, Atomics.load (unsynchronized)', (n) => {
  let s = 0;
  for (let k = 0; k < n; k++) for (let i = 0; i < WORDS; i++) s = (s + Atomics.load(shared, i)) | 0;
  return s;
});
measure('SharedSeqCount A: readBegin + Atomics.load read + readRetry', (n) => {
  let s = 0;
  for (let k = 0; k < n; k++) {
    let start: number;
    let t: number;
    do {
      start = sseq.readBegin();
      t = 0;
      for (let i = 0; i < WORDS; i++) t = (t + Atomics.load(shared, i)) | 0;
    } while (sseq.readRetry(start));
    s = (s + t) | 0;
  }
  return s;
});
measure('SharedSeqCount A: readBegin + loadWords(copy) + readRetry', (n) => {
  let s = 0;
  for (let k = 0; k < n; k++) {
    let start: number;
    do {
      start = sseq.readBegin();
      loadWords(shared, 0, copy);
    } while (sseq.readRetry(start));
    s = (s + (copy[7] as number)) | 0;
  }
  return s;
});
measure('SharedSeqCount B: readBegin + plain read + readRetryFenced', (n) => {
  let s = 0;
  for (let k = 0; k < n; k++) {
    let start: number;
    let t: number;
    do {
      start = sseq.readBegin();
      t = 0;
      for (let i = 0; i < WORDS; i++) t = (t + (shared[i] as number)) | 0;
    } while (sseq.readRetryFenced(start));
    s = (s + t) | 0;
  }
  return s;
});
measure('SharedSeqCount readBegin + plain read + readRetry (NOT guaranteed, see README)', (n) => {
  let s = 0;
  for (let k = 0; k < n; k++) {
    let start: number;
    let t: number;
    do {
      start = sseq.readBegin();
      t = 0;
      for (let i = 0; i < WORDS; i++) t = (t + (shared[i] as number)) | 0;
    } while (sseq.readRetry(start));
    s = (s + t) | 0;
  }
  return s;
});

// The same three shared reads of a 64-word record: the fixed cost of the two Atomics calls on
// the sequence (readBegin, retry) is amortized over more data.
const W64 = 64;
const sab64 = new SharedArrayBuffer(CONTROL_BYTES + W64 * 4);
const sseq64 = SharedSeqCount.from(sab64, 0);
const shared64 = new Int32Array(sab64, CONTROL_BYTES, W64);
fillRecord(shared64, 12345);
const bareShared64 = measure('64 words: bare read, shared, plain loads (unsynchronized)', (n) => {
  let s = 0;
  for (let k = 0; k < n; k++) for (let i = 0; i < W64; i++) s = (s + (shared64[i] as number)) | 0;
  return s;
});
measure('64 words: SharedSeqCount A (Atomics.load data + readRetry)', (n) => {
  let s = 0;
  for (let k = 0; k < n; k++) {
    let start: number;
    let t: number;
    do {
      start = sseq64.readBegin();
      t = 0;
      for (let i = 0; i < W64; i++) t = (t + Atomics.load(shared64, i)) | 0;
    } while (sseq64.readRetry(start));
    s = (s + t) | 0;
  }
  return s;
});
measure('64 words: SharedSeqCount B (plain data + readRetryFenced)', (n) => {
  let s = 0;
  for (let k = 0; k < n; k++) {
    let start: number;
    let t: number;
    do {
      start = sseq64.readBegin();
      t = 0;
      for (let i = 0; i < W64; i++) t = (t + (shared64[i] as number)) | 0;
    } while (sseq64.readRetryFenced(start));
    s = (s + t) | 0;
  }
  return s;
});

runSingleThreadCases();

// ---- 2./3. with worker threads ---------------------------------------------------------------
interface WorkerCounts {
  writes: number;
  reads: number;
  retries: number;
}
const workerUrl = new URL('./workers/bench-worker.mjs', import.meta.url);

/** Run `roles` as workers for `ms` while `main(deadline)` runs on this thread. */
async function withWorkers<T>(
  roles: Array<'writer' | 'reader-a' | 'reader-b'>,
  sab: SharedArrayBuffer,
  gap: number,
  main: () => T,
): Promise<{ main: T; counts: WorkerCounts[] }> {
  const ctl = new Int32Array(sab, 0, CONTROL_BYTES / 4);
  Atomics.store(ctl, GO, 0);
  Atomics.store(ctl, STOP, 0);
  const workers = roles.map(
    (role) => new Worker(workerUrl, { workerData: { sab, role, words: WORDS, gap } }),
  );
  const ready = workers.map((w) => new Promise<void>((r) => w.once('message', () => r())));
  const done = workers.map(
    (w) =>
      new Promise<WorkerCounts>((r) =>
        ready[0]?.then(() => w.on('message', (m: WorkerCounts) => r(m))),
      ),
  );
  await Promise.all(ready);
  Atomics.store(ctl, GO, 1);
  Atomics.notify(ctl, GO);
  const result = main();
  Atomics.store(ctl, STOP, 1);
  const counts = await Promise.all(done);
  await Promise.all(workers.map((w) => w.terminate()));
  return { main: result, counts };
}

type Approach = 'A' | 'B';

/** Spin for `ms` doing protected reads; returns ns per validated read and the retry count. */
function protectedReadsFor(ms: number, approach: Approach, s: SharedSeqCount, rec: Int32Array) {
  const out = new Int32Array(WORDS);
  const end = performance.now() + ms;
  let reads = 0;
  let retries = 0;
  const t0 = process.hrtime.bigint();
  while (performance.now() < end) {
    for (let k = 0; k < 1000; k++) {
      const start = s.readBegin();
      let retry: boolean;
      if (approach === 'A') {
        loadWords(rec, 0, out);
        retry = s.readRetry(start);
      } else {
        for (let i = 0; i < WORDS; i++) out[i] = rec[i] as number;
        retry = s.readRetryFenced(start);
      }
      if (retry) retries++;
      else reads++;
    }
  }
  return { ns: Number(process.hrtime.bigint() - t0) / Math.max(reads, 1), reads, retries };
}

/** Spin for `ms` doing write sections (A: Atomics.store data, B: plain stores); ns per section. */
function writesFor(ms: number, approach: Approach, s: SharedSeqCount, rec: Int32Array) {
  const end = performance.now() + ms;
  let writes = 0;
  const t0 = process.hrtime.bigint();
  while (performance.now() < end) {
    for (let k = 0; k < 1000; k++) {
      s.writeBegin();
      const m = Math.imul(writes, K);
      if (approach === 'A') {
        Atomics.store(rec, 0, writes);
        for (let i = 1; i < WORDS; i++) Atomics.store(rec, i, (m + i) | 0);
      } else {
        rec[0] = writes;
        for (let i = 1; i < WORDS; i++) rec[i] = (m + i) | 0;
      }
      s.writeEnd();
      writes++;
    }
  }
  return { ns: Number(process.hrtime.bigint() - t0) / writes, writes };
}

const WROUNDS = 5;
const WMS = 300;
const freshRecord = () => {
  const sab = new SharedArrayBuffer(CONTROL_BYTES + WORDS * 4);
  const rec = new Int32Array(sab, CONTROL_BYTES, WORDS);
  fillRecord(rec, 0);
  return { sab, rec };
};
for (const approach of ['A', 'B'] as const) {
  for (const peer of ['writer', 'reader'] as const) {
    const ns: number[] = [];
    let retries = 0;
    let reads = 0;
    for (let r = 0; r < WROUNDS; r++) {
      const { sab, rec } = freshRecord();
      const role = peer === 'writer' ? 'writer' : approach === 'A' ? 'reader-a' : 'reader-b';
      const { main } = await withWorkers([role], sab, 64, () =>
        protectedReadsFor(WMS, approach, SharedSeqCount.from(sab, 0), rec),
      );
      ns.push(main.ns);
      retries += main.retries;
      reads += main.reads;
    }
    rows.push({
      name: `SharedSeqCount ${approach} protected read, while a ${peer} worker runs`,
      nsPerOp: ns,
      note: `${((100 * retries) / (retries + reads)).toFixed(1)}% of attempts retried`,
    });
  }
}
for (const approach of ['A', 'B'] as const) {
  for (const readers of [0, 1]) {
    const ns: number[] = [];
    for (let r = 0; r < WROUNDS; r++) {
      const { sab, rec } = freshRecord();
      const role: 'reader-a' | 'reader-b' = approach === 'A' ? 'reader-a' : 'reader-b';
      const roles = Array.from({ length: readers }, () => role);
      const { main } = await withWorkers(roles, sab, 0, () =>
        writesFor(WMS, approach, SharedSeqCount.from(sab, 0), rec),
      );
      ns.push(main.ns);
    }
    rows.push({
      name: `SharedSeqCount ${approach} write section (8 words), ${readers} reader worker(s)`,
      nsPerOp: ns,
    });
  }
}

// ---- 4. allocation check ------------------------------------------------------------------------
async function gcsDuring(fn: () => void): Promise<number> {
  let gcs = 0;
  const obs = new PerformanceObserver((list) => {
    gcs += list.getEntries().length;
  });
  obs.observe({ entryTypes: ['gc'] });
  fn();
  await new Promise((r) => setTimeout(r, 50)); // gc entries are delivered asynchronously
  obs.disconnect();
  return gcs;
}
const N_ALLOC = 10_000_000;
const gcSeq = await gcsDuring(() => {
  for (let k = 0; k < N_ALLOC; k++) if (seq.readRetry(seq.readBegin())) sink++;
});
const gcShared = await gcsDuring(() => {
  for (let k = 0; k < N_ALLOC; k++) {
    const start = sseq.readBegin();
    loadWords(shared, 0, copy);
    if (sseq.readRetry(start)) sink++;
  }
});
const gcAlloc = await gcsDuring(() => {
  let o: { k: number } | undefined;
  for (let k = 0; k < N_ALLOC; k++) {
    o = { k }; // control: allocates, so GCs must show up here
    if (o.k < 0) sink++;
  }
  sink += o?.k ?? 0;
});

// ---- report ---------------------------------------------------------------------------------------
const fmt = (x: number) => x.toFixed(2);
console.log(
  `CPU: ${cpus()[0]?.model ?? 'unknown'} (${cpus().length} cores), Node ${process.version}`,
);
console.log('| benchmark | median ns/op | min | max | vs bare | note |');
console.log('|---|---:|---:|---:|---:|---|');
for (const r of rows) {
  const { median: m, min, max } = summarize(r.nsPerOp);
  const base =
    r.name.includes('(unsynchronized)') || r.name.includes('write section')
      ? null
      : r.name.startsWith('SeqCount')
        ? bareLocal
        : r.name.startsWith('64 words')
          ? bareShared64
          : bareShared;
  const rel = base === null ? '' : `${((100 * median(base.nsPerOp)) / m).toFixed(0)}%`;
  console.log(`| ${r.name} | ${fmt(m)} | ${fmt(min)} | ${fmt(max)} | ${rel} | ${r.note ?? ''} |`);
}
console.log('');
console.log(`GCs during ${N_ALLOC} SeqCount readBegin/readRetry pairs: ${gcSeq}`);
console.log(`GCs during ${N_ALLOC} SharedSeqCount readBegin/loadWords/readRetry: ${gcShared}`);
console.log(`GCs during ${N_ALLOC} iterations allocating one object (control): ${gcAlloc}`);
console.log(`(sink ${sink & 1})`);

// ---- 5. reader wait behind back-to-back writer sections ------------------------------------------
console.log('');
for (const line of await readerWaitTable()) console.log(line);
