/**
 * Benchmarks for @mmukit/fault-retry. Run with `pnpm bench` (builds first; workers import dist).
 *
 * 1. Per-fault overhead of the check, synchronous part only: a bare install vs snapshot +
 *    retryGfn + install (and with the lockless precheck), for both trackers. GC events seen
 *    during each timed loop are counted: 0 over millions of iterations means no allocation.
 * 2. The async loop: faultWithRetry() vs a hand-written resolve + lock + install, same lock;
 *    also with a UserLock (seqcount's Mutex) and over an mmu-notifier interval subscription.
 * 3. Shared tracker operations per second from 1 and 2 worker threads (lockless precheck,
 *    and locked check under SharedMmuLock).
 *
 * Inputs are deterministic (a fixed gfn walk), so runs differ only by machine noise.
 */
import { execFileSync } from 'node:child_process';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { MmuNotifierSubscriptions } from '@mmukit/mmu-notifier';
import { Mutex as SeqcountMutex } from '@mmukit/seqcount';
import { Mutex } from 'async-mutex';
import { type Summary, summarize } from '../../../bench-stats.js';
import {
  type FaultLock,
  faultWithRetry,
  InvalidationTracker,
  type InvalidationTrackerLike,
  type MmuLock,
  SharedInvalidationTracker,
  SharedMmuLock,
  type UserLock,
} from '../dist/index.js';

const ROUNDS = 7;
let gcEvents = 0;
new PerformanceObserver((list) => {
  gcEvents += list.getEntries().length;
}).observe({ entryTypes: ['gc'] });
const settle = () => new Promise((r) => setTimeout(r, 20));

const fmt = (x: number, digits = 1) => x.toFixed(digits);

/** One table row: a case's median, min and max, in `unit`. */
interface Row extends Summary {
  name: string;
  unit: string;
  extra?: string;
}
const rows: Row[] = [];

// ---- 1. synchronous per-fault cost ------------------------------------------------------------
const TABLE = new Int32Array(1024);
let sink = 0;

type Body = (n: number) => void;
function bareInstall(n: number) {
  let gfn = 0;
  for (let i = 0; i < n; i++) {
    gfn = (gfn + 13) & 1023;
    TABLE[gfn] = i;
  }
}
function checked(t: InvalidationTrackerLike): Body {
  return (n) => {
    let gfn = 0;
    for (let i = 0; i < n; i++) {
      gfn = (gfn + 13) & 1023;
      const seq = t.snapshot();
      if (!t.retryGfn(seq, gfn)) TABLE[gfn] = i;
      else sink++;
    }
  };
}
function checkedWithPrecheck(t: InvalidationTrackerLike): Body {
  return (n) => {
    let gfn = 0;
    for (let i = 0; i < n; i++) {
      gfn = (gfn + 13) & 1023;
      const seq = t.snapshot();
      if (!t.retryGfnUnsafe(seq, gfn) && !t.retryGfn(seq, gfn)) TABLE[gfn] = i;
      else sink++;
    }
  };
}

/** A tracker with an invalidation of [512, 520) in progress: the range test is taken. */
function busy<T extends InvalidationTrackerLike>(t: T): T {
  t.begin();
  t.rangeAdd(512, 520);
  return t;
}

async function timeSync(name: string, body: Body, n = 2_000_000) {
  body(n); // warm up
  const samples: number[] = [];
  await settle();
  const gc0 = gcEvents;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    body(n);
    samples.push(Number(process.hrtime.bigint() - t0) / n);
  }
  await settle();
  const gcs = gcEvents - gc0;
  rows.push({
    name,
    ...summarize(samples),
    unit: 'ns/fault',
    extra: `${gcs} GC events in ${(ROUNDS * n) / 1e6}M faults`,
  });
}

// ---- 2. async loop ----------------------------------------------------------------------------
/**
 * Times several async fault loops with interleaved rounds (A, B, C, A, B, C, ...), so that load
 * drift on the shared machine hits every case alike.
 */
async function timeAsyncInterleaved(
  cases: Array<[string, (gfn: number) => Promise<unknown>]>,
  n = 50_000,
): Promise<Row[]> {
  const run = async (one: (gfn: number) => Promise<unknown>) => {
    let gfn = 0;
    for (let i = 0; i < n; i++) {
      gfn = (gfn + 13) & 1023;
      await one(gfn);
    }
  };
  for (const [, one] of cases) await run(one); // warm up every case first
  const samples = cases.map((): number[] => []);
  for (let r = 0; r < ROUNDS; r++) {
    for (let c = 0; c < cases.length; c++) {
      const t0 = process.hrtime.bigint();
      await run(cases[c]![1]);
      samples[c]!.push(Number(process.hrtime.bigint() - t0) / n);
    }
  }
  return cases.map(([name], c) => ({ name, ...summarize(samples[c]!), unit: 'ns/fault' }));
}

const resolvePage = async () => 1;
function handWritten(lock: MmuLock) {
  return async (gfn: number) => {
    const page = await resolvePage();
    const release = await lock.acquire();
    TABLE[gfn] = page;
    release();
  };
}
function handWrittenChecked(lock: MmuLock, t: InvalidationTrackerLike) {
  return async (gfn: number) => {
    const seq = t.snapshot();
    const page = await resolvePage();
    const release = await lock.acquire();
    if (!t.retryGfn(seq, gfn)) TABLE[gfn] = page;
    release();
  };
}
/** handWrittenChecked plus the two lockless prechecks faultWithRetry() makes by default. */
function handWrittenPrechecked(lock: MmuLock, t: InvalidationTrackerLike) {
  return async (gfn: number) => {
    const seq = t.snapshot();
    if (t.retryGfnUnsafe(seq, gfn)) return;
    const page = await resolvePage();
    if (t.retryGfnUnsafe(seq, gfn)) return;
    const release = await lock.acquire();
    if (!t.retryGfn(seq, gfn)) TABLE[gfn] = page;
    release();
  };
}
/**
 * The library case builds its options object per fault, as a caller does, but not a new install
 * closure: tsx runs this file with esbuild's keepNames, which wraps every closure created in a
 * named position (`install: (page) => ...`) in a `__name()` call that redefines its `name`
 * property. That cost (about 1 µs per fault here, and a slow-mode function that makes the
 * install call site megamorphic) belongs to the harness, not to faultWithRetry(). Faults run one
 * at a time, so one install function reading the current gfn is equivalent.
 */
function library(lock: FaultLock, tracker: InvalidationTrackerLike, precheck = true) {
  let current = 0;
  const install = (page: number) => {
    TABLE[current] = page;
  };
  return (gfn: number) => {
    current = gfn;
    return faultWithRetry({ tracker, lock, gfn, resolve: resolvePage, install, precheck });
  };
}

/** handWrittenPrechecked with a UserLock taken as faultWithRetry() takes it. */
function handWrittenUserLock(lock: UserLock, t: InvalidationTrackerLike) {
  return async (gfn: number) => {
    const seq = t.snapshot();
    if (t.retryGfnUnsafe(seq, gfn)) return;
    const page = await resolvePage();
    if (t.retryGfnUnsafe(seq, gfn)) return;
    if (!lock.tryLock()) await lock.lock();
    if (!t.retryGfn(seq, gfn)) TABLE[gfn] = page;
    lock.unlock();
  };
}

/** An mmu-notifier interval subscription over all of TABLE, never invalidated. */
function subscription() {
  const mm = new MmuNotifierSubscriptions();
  return mm.insertInterval(0, TABLE.length, { invalidate: () => true });
}
type Subscription = ReturnType<typeof subscription>;
/** The read side by hand: tryReadBegin, checkRetry twice, then readRetry under the lock. */
function handWrittenSubscription(lock: UserLock, sub: Subscription) {
  return async (gfn: number) => {
    const seq = sub.tryReadBegin() ?? (await sub.readBegin());
    if (sub.checkRetry(seq)) return;
    const page = await resolvePage();
    if (sub.checkRetry(seq)) return;
    if (!lock.tryLock()) await lock.lock();
    if (!sub.readRetry(seq)) TABLE[gfn] = page;
    lock.unlock();
  };
}
function librarySubscription(lock: UserLock, sub: Subscription) {
  let current = 0;
  const install = (page: number) => {
    TABLE[current] = page;
  };
  return (gfn: number) => {
    current = gfn;
    return faultWithRetry({ subscription: sub, address: gfn, lock, resolve: resolvePage, install });
  };
}

// ---- 3. workers ---------------------------------------------------------------------------------
const OPS_WORKER = new URL('./workers/ops.mjs', import.meta.url);
async function workerOps(workers: number, mode: 'lockless' | 'locked', ms = 300) {
  const tracker = busy(SharedInvalidationTracker.create());
  const lock = SharedMmuLock.create();
  const samples: number[] = [];
  for (let r = 0; r < 5; r++) {
    const control = new Int32Array(new SharedArrayBuffer(8));
    const counts = new Float64Array(new SharedArrayBuffer(8 * workers));
    const ws = Array.from(
      { length: workers },
      (_, index) =>
        new Worker(OPS_WORKER, {
          workerData: {
            trackerBuffer: tracker.buffer,
            lockBuffer: lock.buffer,
            controlBuffer: control.buffer,
            countsBuffer: counts.buffer,
            index,
            mode,
          },
        }),
    );
    const said = (w: Worker, what: 'ready' | 'done') =>
      new Promise<void>((resolve, reject) => {
        w.on('message', (m) => {
          if ((what === 'ready') === (m === 'ready')) resolve();
        });
        w.on('error', reject);
      });
    const done = ws.map((w) => said(w, 'done'));
    await Promise.all(ws.map((w) => said(w, 'ready')));
    Atomics.store(control, 0, 1);
    Atomics.notify(control, 0);
    const t0 = process.hrtime.bigint();
    await new Promise((r) => setTimeout(r, ms));
    Atomics.store(control, 1, 1);
    await Promise.all(done);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    samples.push(counts.reduce((a, b) => a + b, 0) / seconds / 1e6);
    await Promise.all(ws.map((w) => w.terminate()));
  }
  rows.push({
    name: `${workers} worker${workers > 1 ? 's' : ''}: snapshot + ${
      mode === 'lockless' ? 'retryGfnUnsafe (no lock)' : 'lock() + retryGfn + unlock()'
    }`,
    ...summarize(samples),
    unit: 'M ops/s (all workers)',
  });
}

// Each lock kind runs in its own process: a program uses one lock type, and sharing the JIT
// feedback of faultWithRetry() between two would measure a polymorphic call site nobody has.
const ASYNC_KINDS = {
  'async-mutex + InvalidationTracker': [() => new Mutex(), () => new InvalidationTracker()],
  'SharedMmuLock + SharedInvalidationTracker': [
    () => SharedMmuLock.create(),
    () => SharedInvalidationTracker.create(),
  ],
  "seqcount's Mutex (UserLock)": [() => new SeqcountMutex(), () => new InvalidationTracker()],
} as const;
type AsyncKind = keyof typeof ASYNC_KINDS;

async function asyncRows(kind: AsyncKind): Promise<Row[]> {
  const [makeLock, makeTracker] = ASYNC_KINDS[kind];
  if (kind === "seqcount's Mutex (UserLock)") {
    const userLock = makeLock as () => SeqcountMutex;
    return timeAsyncInterleaved([
      [
        `async, ${kind} + InvalidationTracker: snapshot + 2 prechecks + resolve + tryLock + retryGfn + install, by hand`,
        handWrittenUserLock(userLock(), makeTracker()),
      ],
      [
        `async, ${kind} + InvalidationTracker: faultWithRetry()`,
        library(userLock(), makeTracker()),
      ],
      [
        `async, ${kind} + IntervalNotifier: tryReadBegin + 2 checkRetry + resolve + tryLock + readRetry + install, by hand`,
        handWrittenSubscription(userLock(), subscription()),
      ],
      [
        `async, ${kind} + IntervalNotifier: faultWithRetry({ subscription })`,
        librarySubscription(userLock(), subscription()),
      ],
    ]);
  }
  const cases: Array<[string, (gfn: number) => Promise<unknown>]> = [
    [`async, ${kind}: resolve + lock + install, no check`, handWritten(makeLock())],
    [
      `async, ${kind}: snapshot + resolve + lock + retryGfn + install, by hand`,
      handWrittenChecked(makeLock(), makeTracker()),
    ],
    [
      `async, ${kind}: the same + 2 retryGfnUnsafe prechecks, by hand`,
      handWrittenPrechecked(makeLock(), makeTracker()),
    ],
    [`async, ${kind}: faultWithRetry()`, library(makeLock(), makeTracker())],
    [
      `async, ${kind}: faultWithRetry({ precheck: false })`,
      library(makeLock(), makeTracker(), false),
    ],
  ];
  if (kind === 'SharedMmuLock + SharedInvalidationTracker') {
    // The same lock seen only through MmuLock, so faultWithRetry() cannot use tryLock()/unlock().
    const inner = makeLock();
    const wrapped: MmuLock = { acquire: () => inner.acquire() };
    cases.push([
      `async, ${kind}: faultWithRetry(), lock wrapped as { acquire } (no tryLock fast path)`,
      library(wrapped, makeTracker()),
    ]);
  }
  return timeAsyncInterleaved(cases);
}

if (process.argv[2] === '--async-child') {
  console.log(JSON.stringify(await asyncRows(process.argv[3] as AsyncKind)));
  process.exit(0);
}

// ---- run ----------------------------------------------------------------------------------------
await timeSync('bare install (no check)', bareInstall);
await timeSync(
  'InvalidationTracker: snapshot + retryGfn + install',
  checked(new InvalidationTracker()),
);
await timeSync(
  'InvalidationTracker, invalidation in progress: same',
  checked(busy(new InvalidationTracker())),
);
await timeSync(
  'InvalidationTracker: + retryGfnUnsafe precheck',
  checkedWithPrecheck(busy(new InvalidationTracker())),
);
await timeSync(
  'SharedInvalidationTracker: snapshot + retryGfn + install',
  checked(SharedInvalidationTracker.create()),
);
await timeSync(
  'SharedInvalidationTracker, invalidation in progress: same',
  checked(busy(SharedInvalidationTracker.create())),
);
await timeSync(
  'SharedInvalidationTracker: + retryGfnUnsafe precheck',
  checkedWithPrecheck(busy(SharedInvalidationTracker.create())),
);

for (const kind of Object.keys(ASYNC_KINDS) as AsyncKind[]) {
  const out = execFileSync(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), '--async-child', kind],
    { encoding: 'utf8' },
  );
  rows.push(...(JSON.parse(out.trim().split('\n').pop()!) as Row[]));
}

for (const mode of ['lockless', 'locked'] as const) {
  await workerOps(1, mode);
  await workerOps(2, mode);
}

console.log(`| case | median | min | max | unit | notes |`);
console.log(`|---|---:|---:|---:|---|---|`);
for (const r of rows) {
  const d = r.unit.startsWith('M') ? 2 : 1;
  console.log(
    `| ${r.name} | ${fmt(r.median, d)} | ${fmt(r.min, d)} | ${fmt(r.max, d)} | ${r.unit} | ${r.extra ?? ''} |`,
  );
}
if (sink < 0) console.log(sink);
