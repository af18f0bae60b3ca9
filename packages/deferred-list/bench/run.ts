/**
 * DeferredList benchmark: `pnpm --filter @mmukit/deferred-list bench` (or `pnpm bench` at the root).
 *
 * 1. Throughput (tinybench), DeferredList vs NaiveDeferredList (Array push/shift/splice), same
 *    seeded inputs, same process: idle submits (apply at once), held batches (enter, submit 64,
 *    exit = drain), held batches with 8 cancels. Each task runs a batch; the table gives the
 *    median ns per operation and the median absolute deviation (MAD) across samples.
 * 2. Allocation: heap growth and GC count over 1e6 operations after a warm-up, with the GC
 *    exposed at run time (v8.setFlagsFromString('--expose-gc')) and counted by a
 *    PerformanceObserver. A control that allocates one small object per op shows that the
 *    measurement does see allocation.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Bench } from 'tinybench';
import { DeferredList } from '../src/index.js';
import { NaiveDeferredList } from './naive.js';

let sink = 0;
const apply = (work: number): void => {
  sink = (sink + work) | 0;
};

/** Seeded inputs (xorshift32), identical run to run. */
function seeded(n: number, seed: number): Int32Array {
  const out = new Int32Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x;
  }
  return out;
}

const IDLE_BATCH = 1024;
const HELD_BATCH = 64;
const CANCELS = 8;
const works = seeded(IDLE_BATCH, 0x9e3779b9);
/** Which of the 64 held items each batch cancels (seeded, distinct). */
const cancelIdx = (() => {
  const idx = new Set<number>();
  const r = seeded(1000, 12345);
  for (let i = 0; idx.size < CANCELS; i++) idx.add(Math.abs(r[i]!) % HELD_BATCH);
  return [...idx];
})();

/*
 * The loops are written out once per implementation so that every call site in them sees one
 * class only (monomorphic); one shared loop would measure a polymorphic inline cache instead.
 */
interface Loops {
  idle: () => void;
  held: () => void;
  heldCancel: () => void;
}

function deferredListLoops(list: DeferredList<number>): Loops {
  return {
    idle() {
      for (let i = 0; i < IDLE_BATCH; i++) list.submit(works[i]!);
    },
    held() {
      list.enter();
      for (let i = 0; i < HELD_BATCH; i++) list.submit(works[i]!);
      list.exit();
    },
    heldCancel() {
      list.enter();
      for (let i = 0; i < HELD_BATCH; i++) list.submit(i);
      for (let j = 0; j < CANCELS; j++) list.cancel(cancelIdx[j]!);
      list.exit();
    },
  };
}

function naiveLoops(list: NaiveDeferredList<number>): Loops {
  return {
    idle() {
      for (let i = 0; i < IDLE_BATCH; i++) list.submit(works[i]!);
    },
    held() {
      list.enter();
      for (let i = 0; i < HELD_BATCH; i++) list.submit(works[i]!);
      list.exit();
    },
    heldCancel() {
      list.enter();
      for (let i = 0; i < HELD_BATCH; i++) list.submit(i);
      for (let j = 0; j < CANCELS; j++) list.cancel(cancelIdx[j]!);
      list.exit();
    },
  };
}

/** The floor for the idle scenario: the same calls to apply with no list in between. */
function directApplyLoop(): void {
  for (let i = 0; i < IDLE_BATCH; i++) apply(works[i]!);
}

/** Control for the allocation measurement: allocates one small object per op, kept reachable. */
let kept: { work: number } | undefined;
function allocatingControlLoop(): void {
  for (let i = 0; i < IDLE_BATCH; i++) kept = { work: works[i]! };
}

const impls: [string, () => Loops][] = [
  ['DeferredList', () => deferredListLoops(new DeferredList<number>(apply))],
  ['naive array', () => naiveLoops(new NaiveDeferredList<number>(apply))],
];

const scenarios: [string, keyof Loops, number][] = [
  ['submit, nobody holding (apply at once)', 'idle', IDLE_BATCH],
  [`held: enter, submit x${HELD_BATCH}, exit (drain)`, 'held', HELD_BATCH],
  [`held: same + ${CANCELS} cancels`, 'heldCancel', HELD_BATCH + CANCELS],
];

async function throughput(): Promise<string[]> {
  const rows = [
    '| scenario | implementation | median ns/op | MAD ns/op | ops/s (median) | samples |',
    '|---|---|---:|---:|---:|---:|',
  ];
  for (const [scenario, run, opsPerBatch] of scenarios) {
    const bench = new Bench({ time: 400, warmupIterations: 200 });
    for (const [name, make] of impls) bench.add(name, make()[run]);
    if (run === 'idle') bench.add('floor: apply() called directly', directApplyLoop);
    await bench.run();
    for (const task of bench.tasks) {
      const r = task.result;
      if (r.state !== 'completed') throw new Error(`${scenario} ${task.name}: ${r.state}`);
      const median = (r.latency.p50 * 1e6) / opsPerBatch;
      const mad = (r.latency.mad * 1e6) / opsPerBatch;
      rows.push(
        `| ${scenario} | ${task.name} | ${median.toFixed(2)} | ${mad.toFixed(2)} | ` +
          `${(1e9 / median / 1e6).toFixed(1)} M | ${r.latency.samplesCount} |`,
      );
    }
  }
  return rows;
}

async function allocation(): Promise<string[]> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  let gcs = 0;
  const observer = new PerformanceObserver((list) => {
    gcs += list.getEntries().length;
  });
  observer.observe({ entryTypes: ['gc'] });
  const OPS = 1_000_000;
  const dl = deferredListLoops(new DeferredList<number>(apply));
  const naive = naiveLoops(new NaiveDeferredList<number>(apply));
  const cases: [string, string, () => void, number][] = [
    ['submit, nobody holding', 'DeferredList', dl.idle, IDLE_BATCH],
    ['submit, nobody holding', 'naive array', naive.idle, IDLE_BATCH],
    ['submit, nobody holding', 'control: 1 object/op', allocatingControlLoop, IDLE_BATCH],
    [`held x${HELD_BATCH} + drain`, 'DeferredList', dl.held, HELD_BATCH],
    [`held x${HELD_BATCH} + drain`, 'naive array', naive.held, HELD_BATCH],
  ];
  const rows = [
    '| 1e6 ops of | implementation | heap growth (bytes) | bytes/op | GCs during run |',
    '|---|---|---:|---:|---:|',
  ];
  for (const [scenario, name, run, perBatch] of cases) {
    const batches = OPS / perBatch;
    for (let i = 0; i < 2000; i++) run(); // warm up: JIT, ring growth
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
    gcs = 0;
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < batches; i++) run();
    const after = process.memoryUsage().heapUsed;
    await new Promise((resolve) => setTimeout(resolve, 10)); // let the observer report
    const growth = after - before;
    rows.push(`| ${scenario} | ${name} | ${growth} | ${(growth / OPS).toFixed(3)} | ${gcs} |`);
  }
  observer.disconnect();
  return rows;
}

console.log(`node ${process.version}, ${new Date().toISOString().slice(0, 10)}`);
console.log('\nThroughput\n');
console.log((await throughput()).join('\n'));
console.log('\nAllocation\n');
console.log((await allocation()).join('\n'));
console.log(`\n(sink ${sink}, kept ${kept?.work})`);
