/**
 * Benchmark: @mmukit/interval-tree against @flatten-js/interval-tree and node-interval-tree, with
 * a static implicit interval tree (static-tree.ts) as the reference for queries.
 * Run with `pnpm bench` (tsx with --expose-gc) after `pnpm build`: it measures the built package,
 * dist/index.js, which is what npm users run. Inputs are seeded (bench/data.ts).
 * Options: --n=100000,1000000  --reps=3,3 (ours and the reference)  --peer-reps=3,1
 *          --quick (N=1e4 only)  --libs=mmukit (ours and the reference; no npm peers)
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { formatRange, median, summarize } from '../../../bench-stats.js';
import { type IntervalNode, IntervalTree } from '../dist/index.js';
import {
  type Adapter,
  Flatten,
  MmukitForEach,
  MmukitIterNext,
  MmukitOverlaps,
  MmukitValues,
  NodeIT,
  type Result,
  StaticRef,
} from './adapters.js';
import { type Intervals, type Workload, workload } from './data.js';
import { FlattenTree, NodeIntervalTree } from './peers.js';
import { StaticIntervalTree } from './static-tree.js';

{
  // dist/ must be built from the current src/ (run from source, the enums of src/layout.ts are
  // property loads rather than the literals the bundle has, and V8 compiles different code).
  const dist = statSync(new URL('../dist/index.js', import.meta.url)).mtimeMs;
  const srcDir = new URL('../src/', import.meta.url);
  for (const f of readdirSync(srcDir)) {
    if (statSync(new URL(f, srcDir)).mtimeMs > dist) {
      throw new Error(`src/${f} is newer than dist/index.js: run \`pnpm build\` first`);
    }
  }
}
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc (pnpm bench does)');
const arg = (name: string): string | undefined =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const quick = process.argv.includes('--quick');
const SIZES = (arg('n') ?? (quick ? '10000' : '100000,1000000')).split(',').map(Number);
const REPS = (arg('reps') ?? '3').split(',').map(Number);
// The peers take tens of seconds per run at N = 1e6; one run each keeps the bench near 3 minutes.
const PEER_REPS = (arg('peer-reps') ?? (quick ? '3' : '3,1')).split(',').map(Number);
const ONLY_OURS = arg('libs') === 'mmukit';
const progress = (msg: string) =>
  process.stderr.write(`[${((now() - t0) / 1000).toFixed(0)}s] ${msg}\n`);
const QUERIES = 100_000;
const CHURN = 100_000;

const now = (): number => Number(process.hrtime.bigint()) / 1e6;
const cpuNow = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
/** Wall-clock ms, process CPU ms (user + system, all threads) and the result of fn. */
function timed<R>(fn: () => R): [number, number, R] {
  const c0 = cpuNow();
  const t0 = now();
  const r = fn();
  const t1 = now();
  return [t1 - t0, cpuNow() - c0, r];
}

type Phase = 'insert' | 'stab' | 'window' | 'churn' | 'remove';
const PHASES: Phase[] = ['insert', 'stab', 'window', 'churn', 'remove'];
const VARIANTS = ['forEachOverlap', 'iterFirst/iterNext', 'overlaps()'] as const;
const VARIANT_CLASSES = [MmukitForEach, MmukitIterNext, MmukitOverlaps] as const;

interface Sample {
  times: Record<string, number[]>;
  results: Record<string, Result>;
}

/**
 * Full GC, then yield to the event loop so V8 finishes its post-GC work (sweeping, finalisers);
 * allocating right after a synchronous gc() was measured to be up to 10x slower.
 */
async function settle(): Promise<void> {
  gc!();
  await new Promise((r) => setTimeout(r, 10));
}

async function runOnce(
  make: () => Adapter,
  w: Workload,
  s: Sample,
  variants: boolean,
): Promise<void> {
  const rec = (k: string, [wall, cpu]: [number, number, ...unknown[]]) => {
    s.times[k] ??= [];
    s.times[k].push(wall);
    s.times[`${k}#cpu`] ??= [];
    s.times[`${k}#cpu`]!.push(cpu);
  };
  const check = (k: string, r: Result) => {
    const prev = s.results[k];
    if (prev && (prev.count !== r.count || prev.hash !== r.hash)) {
      throw new Error(`${k}: results differ between runs`);
    }
    s.results[k] = r;
  };
  await settle();
  const a = make();
  rec(
    'insert',
    timed(() => a.build(w.data, w.n)),
  );
  if (a.size() !== w.n) throw new Error(`${a.name}: size ${a.size()} after insert`);
  for (const [k, q] of [
    ['stab', w.stab],
    ['window', w.window],
  ] as [Phase, Intervals][]) {
    const m = timed(() => a.query(q));
    rec(k, m);
    check(k, m[2]);
  }
  if (variants && a instanceof MmukitValues) {
    for (const [vi, vname] of VARIANTS.entries()) {
      const V = VARIANT_CLASSES[vi]!;
      const v = Object.assign(new V(), { tree: a.tree, nodes: a.nodes });
      for (const [k, q] of [
        ['stab', w.stab],
        ['window', w.window],
      ] as const) {
        const m = timed(() => v.query(q));
        rec(`${k} ${vname}`, m);
        check(k, m[2]);
      }
    }
  }
  if (!a.dynamic) return;
  rec(
    'churn',
    timed(() => a.churn(w.churnPick, w.churnNew)),
  );
  if (a.size() !== w.n) throw new Error(`${a.name}: size ${a.size()} after churn`);
  rec(
    'remove',
    timed(() => a.removeAll(w.removeOrder)),
  );
  if (a.size() !== 0) throw new Error(`${a.name}: size ${a.size()} after remove`);
}

/** Bytes retained per interval: V8 heap plus ArrayBuffer backing stores (typed arrays). */
async function bytesPerInterval(
  n: number,
  d: Intervals,
  build: (d: Intervals, n: number) => unknown,
): Promise<number> {
  const mem = async () => {
    await settle();
    gc!();
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const m0 = await mem();
  const keep = build(d, n);
  const m1 = await mem();
  if (!keep) throw new Error('unreachable');
  return (m1 - m0) / n;
}

const builders: [string, (d: Intervals, n: number) => unknown][] = [
  [
    '@mmukit/interval-tree',
    (d, n) => {
      const t = new IntervalTree<number>();
      for (let i = 0; i < n; i++) t.insert(d.start[i]!, d.last[i]!, i);
      return t;
    },
  ],
  [
    'static',
    (d, n) => {
      const values = new Array<number>(n);
      for (let i = 0; i < n; i++) values[i] = i;
      return new StaticIntervalTree(d.start, d.last, values, n);
    },
  ],
  [
    '@flatten-js/interval-tree',
    (d, n) => {
      const t = new FlattenTree<number>();
      for (let i = 0; i < n; i++) t.insert([d.start[i]!, d.last[i]!], i);
      return t;
    },
  ],
  [
    'node-interval-tree',
    (d, n) => {
      const t = new NodeIntervalTree<number>();
      for (let i = 0; i < n; i++) t.insert(d.start[i]!, d.last[i]!, i);
      return t;
    },
  ],
];

/** Minor/major GCs and heap growth while running `fn`: zero GCs and ~0 bytes = no allocation. */
async function allocationDuring(fn: () => void): Promise<{ gcs: number; bytes: number }> {
  gc!();
  let gcs = 0;
  const obs = new PerformanceObserver((list) => {
    gcs += list.getEntries().length;
  });
  obs.observe({ entryTypes: ['gc'] });
  await new Promise((r) => setImmediate(r));
  gcs = 0;
  const h0 = process.memoryUsage().heapUsed;
  fn();
  const h1 = process.memoryUsage().heapUsed;
  await new Promise((r) => setImmediate(r));
  obs.disconnect();
  return { gcs, bytes: h1 - h0 };
}

const fmt = (x: number): string =>
  x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
const cell = (a: number[] | undefined): string => (a ? formatRange(summarize(a), fmt) : '–');

const LIBS: [string, () => Adapter][] = [
  ['@mmukit/interval-tree', () => new MmukitValues()],
  ['static implicit tree', () => new StaticRef()],
  ['@flatten-js/interval-tree', () => new Flatten()],
  ['node-interval-tree', () => new NodeIT()],
].slice(0, ONLY_OURS ? 2 : 4) as [string, () => Adapter][];
/** Index of the first npm peer in LIBS (0 is ours, 1 the static reference). */
const PEER0 = 2;

const out: string[] = [];
const print = (line: string) => {
  out.push(line);
  console.log(line);
};

const t0 = now();
{
  // What the table was measured with, to print above it.
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    devDependencies: Record<string, string>;
  };
  const peers = LIBS.slice(PEER0).map(([name]) => `${name} ${pkg.devDependencies[name]}`);
  const cpu = cpus();
  print(
    `${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpu[0]?.model} ` +
      `(${cpu.length} logical CPUs)${peers.length ? `; peers: ${peers.join(', ')}` : ''}`,
  );
}
// A small live tree of every library for the whole run: when no instance of a class is alive at a
// full GC, V8 collects its hidden classes and deoptimises the code that embedded them, which would
// penalise whichever library happens to be idle when the harness calls gc().
const keepAlive: Adapter[] = LIBS.map(([, make]) => {
  const a = make();
  a.build(workload(64, 1, 1, 2).data, 64);
  return a;
});
{
  // Warm-up: every code path of every library, untimed, on a small input, until optimised.
  const w = workload(10_000, 10_000, 10_000, 1);
  for (let i = 0; i < 3; i++) {
    for (const [, make] of LIBS) await runOnce(make, w, { times: {}, results: {} }, true);
  }
}
for (const [si, n] of SIZES.entries()) {
  const pick = (a: number[]) => a[si] ?? a[a.length - 1]!;
  const reps = pick(REPS);
  const peerReps = pick(PEER_REPS);
  const w = workload(n, QUERIES, Math.min(CHURN, n));
  const samples = LIBS.map(() => ({ times: {}, results: {} }) as Sample);
  for (let r = 0; r < Math.max(reps, peerReps); r++) {
    // rotate the order each repetition so no library always runs right after another's garbage
    for (let k = 0; k < LIBS.length; k++) {
      const li = (k + r) % LIBS.length;
      if (r >= (li < PEER0 ? reps : peerReps)) continue;
      progress(`N=${n} run ${r + 1}: ${LIBS[li]![0]}`);
      await runOnce(LIBS[li]![1], w, samples[li]!, true);
    }
  }
  // Sanity: every library found the same overlaps.
  for (const k of ['stab', 'window']) {
    const rs = samples.map((s) => s.results[k]!);
    if (!rs.every((r) => r.count === rs[0]!.count && r.hash === rs[0]!.hash)) {
      throw new Error(`${k}: libraries disagree: ${JSON.stringify(rs)}`);
    }
  }
  progress(`N=${n} memory`);
  const mem: number[] = [];
  for (const [, b] of builders.slice(0, LIBS.length))
    mem.push(await bytesPerInterval(n, w.data, b));
  const stabHits = samples[0]!.results.stab!.count;
  const winHits = samples[0]!.results.window!.count;
  print('');
  print(
    `### N = ${n.toLocaleString('en-US')} (wall ms, median (min–max) of ${reps} runs for ours ` +
      `and the static tree, ${peerReps} for each peer; ratios compare medians; ` +
      `stab hits ${stabHits}, window hits ${winHits}, same in every library)`,
  );
  print('');
  print(
    `| workload (wall ms) | ${LIBS.map(([name]) => name).join(' | ')} | ours ÷ static: wall | CPU | speed-up vs fastest peer: wall | CPU |`,
  );
  print(`|---|${LIBS.map(() => '---:').join('|')}|---:|---:|---:|---:|`);
  const label: Record<Phase, string> = {
    insert: `insert ${n.toLocaleString('en-US')}`,
    stab: `${QUERIES.toLocaleString('en-US')} stabbing queries`,
    window: `${QUERIES.toLocaleString('en-US')} window queries`,
    churn: `churn ${Math.min(CHURN, n).toLocaleString('en-US')} × (remove + insert)`,
    remove: `remove all ${n.toLocaleString('en-US')} (random order)`,
  };
  const speedup = (k: string, peerKey: string): string => {
    if (samples.length <= PEER0) return '–'; // --libs=mmukit: no peer to compare with
    const ours = median(samples[0]!.times[k]!);
    const best = Math.min(...samples.slice(PEER0).map((s) => median(s.times[peerKey]!)));
    return `${(best / ours).toFixed(1)}×`;
  };
  const vsStatic = (k: string, refKey: string): string => {
    const ref = samples[1]!.times[refKey];
    if (!ref || (!k.startsWith('stab') && !k.startsWith('window'))) return '–';
    return `${(median(samples[0]!.times[k]!) / median(ref)).toFixed(2)}×`;
  };
  const ratios = (k: string, p: string): string =>
    `${vsStatic(k, p)} | ${vsStatic(`${k}#cpu`, `${p}#cpu`)} | ${speedup(k, p)} | ${speedup(`${k}#cpu`, `${p}#cpu`)}`;
  for (const p of PHASES) {
    print(
      `| ${label[p]} | ${samples.map((s) => cell(s.times[p])).join(' | ')} | ${ratios(p, p)} |`,
    );
  }
  for (const v of VARIANTS) {
    for (const p of ['stab', 'window']) {
      const k = `${p} ${v}`;
      print(
        `| ${label[p as Phase]}, via ${v} | ${cell(samples[0]!.times[k])} |${' |'.repeat(LIBS.length - 1)} ${ratios(k, p)} |`,
      );
    }
  }
  const memStatic = `${(mem[0]! / mem[1]!).toFixed(2)}×`;
  const memRatio =
    mem.length <= PEER0 ? '–' : `${(Math.min(...mem.slice(PEER0)) / mem[0]!).toFixed(1)}× less`;
  print(
    `| bytes per interval (V8 heap + ArrayBuffers) | ${mem.map((b) => b.toFixed(0)).join(' | ')} | ${memStatic} | | ${memRatio} | |`,
  );

  // Allocation check on the hot query paths, over a tree of n intervals.
  const a = new MmukitValues();
  a.build(w.data, n);
  const each = Object.assign(new MmukitForEach(), { tree: a.tree, nodes: a.nodes });
  const iter = Object.assign(new MmukitIterNext(), { tree: a.tree, nodes: a.nodes });
  const ovl = Object.assign(new MmukitOverlaps(), { tree: a.tree, nodes: a.nodes });
  for (let i = 0; i < 3; i++) {
    a.query(w.window);
    each.query(w.window);
    iter.query(w.window);
    ovl.query(w.window);
  }
  const v = await allocationDuring(() => a.query(w.window));
  const f = await allocationDuring(() => each.query(w.window));
  const it = await allocationDuring(() => iter.query(w.window));
  const ov = await allocationDuring(() => ovl.query(w.window));
  print('');
  print(
    `Allocation during ${QUERIES.toLocaleString('en-US')} window queries (${winHits} hits): ` +
      `forEachOverlapValue ${v.gcs} GCs / ${v.bytes} heap bytes; ` +
      `forEachOverlap ${f.gcs} GCs / ${f.bytes} heap bytes; iterFirst/iterNext ${it.gcs} GCs / ` +
      `${it.bytes} bytes; overlaps() ${ov.gcs} GCs / ${ov.bytes} bytes.`,
  );
}
if (keepAlive.length !== LIBS.length) throw new Error('unreachable');
print('');
print(`total bench time ${((now() - t0) / 1000).toFixed(0)} s`);

// keep `IntervalNode` referenced for type-only import hygiene
export type { IntervalNode };
