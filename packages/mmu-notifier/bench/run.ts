/**
 * Benchmarks for @mmukit/mmu-notifier. Run with `pnpm bench` (node --expose-gc with tsx).
 * Inputs are seeded: the same ranges every run.
 *
 *   1. tryReadBegin + readRetry: ns per pair, and heap growth / GC count over 10^7 pairs.
 *   2. One invalidation (start + end) hitting k of n subscriptions, n = 10^3 .. 10^6, against the
 *      bare tree query (IntervalTree.forEachOverlap over the same intervals) and a plain linked-list
 *      notifier that visits every subscriber.
 *
 * Options: --quick (n up to 10^5, fewer samples), --n=1000,10000 (only these sizes).
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { IntervalTree } from '@mmukit/interval-tree';
import { formatRange, type Summary, summarize } from '../../../bench-stats.js';
import {
  type IntervalNotifier,
  type MmuNotifierRange,
  MmuNotifierSubscriptions,
} from '../src/index.js';
import { ListNotifier } from './list-notifier.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc (pnpm bench does)');
const quick = process.argv.includes('--quick');
const SAMPLES = quick ? 7 : 15;

/** Mulberry32: a small seeded PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const nowNs = (): number => Number(process.hrtime.bigint());

/** Runs `batch(iterations)` SAMPLES times after a warm-up; returns ns per iteration. */
function measure(batch: (iterations: number) => void, iterations: number): Summary {
  batch(Math.max(1, iterations >> 2));
  const per: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const t0 = nowNs();
    batch(iterations);
    per.push((nowNs() - t0) / iterations);
  }
  return summarize(per);
}

/** `median (min–max)` of ns: one decimal below 100, none from 100 up. */
const fmt = (s: Summary): string => formatRange(s, (x) => x.toFixed(x < 100 ? 1 : 0));

// ---------------------------------------------------------------------------------------------
// 1. tryReadBegin + readRetry

let sink = 0;

const tick = (ms = 50): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Heap growth and number of GCs while `fn` runs, after a full collection. GC entries are
 * delivered asynchronously, so the counter is read after a pause on both sides.
 */
async function allocationCheck(fn: () => void): Promise<{ growth: number; gcs: number }> {
  let gcs = 0;
  const obs = new PerformanceObserver((list) => {
    gcs += list.getEntries().length;
  });
  gc!();
  await tick();
  obs.observe({ entryTypes: ['gc'] });
  const before = process.memoryUsage().heapUsed;
  fn();
  const after = process.memoryUsage().heapUsed;
  await tick();
  obs.disconnect();
  return { growth: after - before, gcs };
}

async function benchReadSide(): Promise<void> {
  const subs = new MmuNotifierSubscriptions();
  const sub = subs.insertInterval(0, 16, {
    invalidate(s, _r, cur) {
      s.setSeq(cur);
      return true;
    },
  });
  const pair = (iterations: number): void => {
    let acc = 0;
    for (let i = 0; i < iterations; i++) {
      const seq = sub.tryReadBegin();
      if (seq !== undefined && !sub.readRetry(seq)) acc++;
    }
    sink += acc;
  };
  const base = (iterations: number): void => {
    let acc = 0;
    for (let i = 0; i < iterations; i++) acc += i & 1;
    sink += acc;
  };
  const N = 10_000_000;
  const t = measure(pair, N);
  const loop = measure(base, N);
  const pairAlloc = await allocationCheck(() => pair(N));

  // The same check for 10^6 non-blockable invalidations (start + end) hitting 4 of 1000.
  const inv = new MmuNotifierSubscriptions();
  const ops = {
    invalidate(s: IntervalNotifier, _r: MmuNotifierRange, cur: number) {
      s.setSeq(cur);
      return true;
    },
  };
  for (let i = 0; i < 1000; i++) inv.insertInterval(i * STRIDE, STRIDE, ops);
  const invRanges = makeRanges(1000, 4, 1024);
  const invalidate = (iterations: number): void => {
    for (let i = 0; i < iterations; i++) {
      const r = invRanges[i & 1023]!;
      inv.invalidateRangeStartNonblock(r);
      inv.invalidateRangeEnd(r);
    }
  };
  invalidate(100_000);
  const invAlloc = await allocationCheck(() => invalidate(1_000_000));

  console.log(
    '\n## Read side (ns per pair, median (min–max) of',
    SAMPLES,
    'samples) and allocation\n',
  );
  console.log('| case | ns/op | heap growth | GCs during the run |');
  console.log('|---|---|---|---|');
  console.log(
    `| 10^7 × tryReadBegin + readRetry | ${fmt(t)} | ${pairAlloc.growth} B | ${pairAlloc.gcs} |`,
  );
  console.log(`| empty loop (baseline) | ${fmt(loop)} | | |`);
  console.log(
    `| 10^6 × nonblock invalidation start + end (k=4 of n=1000) | | ${invAlloc.growth} B | ${invAlloc.gcs} |`,
  );
}

// ---------------------------------------------------------------------------------------------
// 2. invalidation hitting k of n

/**
 * Warms every batch up, then takes SAMPLES rounds, each running every batch once, so that load
 * from other processes hits all of them alike. Returns ns per iteration for each.
 */
async function interleaved(
  batches: Record<string, [(it: number) => void | Promise<void>, number]>,
): Promise<{ stat: Record<string, Summary>; raw: Record<string, number[]> }> {
  const per: Record<string, number[]> = {};
  for (const [name, [fn, it]] of Object.entries(batches)) {
    await fn(Math.max(1, it >> 1));
    per[name] = [];
  }
  for (let round = 0; round < SAMPLES; round++) {
    for (const [name, [fn, it]] of Object.entries(batches)) {
      const t0 = nowNs();
      await fn(it);
      per[name]!.push((nowNs() - t0) / it);
    }
  }
  const out: Record<string, Summary> = {};
  for (const [name, xs] of Object.entries(per)) out[name] = summarize(xs);
  return { stat: out, raw: per };
}

const STRIDE = 16; // each subscription covers 16 pages; they tile the space without overlap

function makeRanges(n: number, k: number, count: number): MmuNotifierRange[] {
  const rand = prng(0xc0ffee ^ (n * 31 + k));
  const out: MmuNotifierRange[] = [];
  for (let i = 0; i < count; i++) {
    const first = Math.floor(rand() * (n - k + 1));
    out.push({
      start: first * STRIDE + 3,
      end: (first + k - 1) * STRIDE + 9,
      event: 'clear',
      blockable: false,
    });
  }
  return out;
}

async function benchInvalidation(): Promise<void> {
  const nArg = process.argv.find((a) => a.startsWith('--n='))?.slice(4);
  const sizes = nArg
    ? nArg.split(',').map(Number)
    : quick
      ? [10, 100, 1e3, 1e4, 1e5]
      : [10, 100, 1e3, 1e4, 1e5, 1e6];
  const ks = [1, 16];
  console.log(
    '\n## One invalidation hitting k of n subscriptions (ns per invalidation, median (min–max))\n',
  );
  console.log(
    '| n | k | nonblock start+end | blockable start+end (await) | bare tree forEachOverlap | nonblock / bare (paired) | linked list (all n) | setup |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  for (const n of sizes) {
    gc!();
    const t0 = nowNs();
    const subs = new MmuNotifierSubscriptions();
    const tree = new IntervalTree<number>();
    const list = new ListNotifier();
    let hits = 0;
    const ops = {
      invalidate(s: IntervalNotifier, _r: MmuNotifierRange, cur: number) {
        s.setSeq(cur);
        hits++;
        return true;
      },
    };
    for (let i = 0; i < n; i++) {
      subs.insertInterval(i * STRIDE, STRIDE, ops);
      tree.insert(i * STRIDE, i * STRIDE + STRIDE - 1, i);
      list.insert(i * STRIDE, i * STRIDE + STRIDE - 1);
    }
    const setupMs = (nowNs() - t0) / 1e6;
    for (const k of ks) {
      if (k > n) continue;
      const ranges = makeRanges(n, k, 4096);
      const mask = ranges.length - 1;
      let seqSink = 0;
      const visit = (node: { value: number }): void => {
        seqSink += node.value;
      };
      const batches: Record<string, [(it: number) => void | Promise<void>, number]> = {
        nonblock: [
          (it) => {
            for (let i = 0; i < it; i++) {
              const r = ranges[i & mask]!;
              subs.invalidateRangeStartNonblock(r);
              subs.invalidateRangeEnd(r);
            }
          },
          10_000,
        ],
        blockable: [
          async (it) => {
            for (let i = 0; i < it; i++) {
              const r = ranges[i & mask]!;
              await subs.invalidateRangeStart(r);
              subs.invalidateRangeEnd(r);
            }
          },
          5_000,
        ],
        bare: [
          (it) => {
            for (let i = 0; i < it; i++) {
              const r = ranges[i & mask]!;
              tree.forEachOverlap(r.start, r.end - 1, visit);
            }
          },
          10_000,
        ],
        linked: [
          (it) => {
            for (let i = 0; i < it; i++) {
              const r = ranges[i & mask]!;
              seqSink += list.invalidate(r.start, r.end);
            }
          },
          Math.max(3, Math.floor(1e7 / n)),
        ],
      };
      const { stat: res, raw } = await interleaved(batches);
      // Paired ratio: nonblock / bare within each round (they run back to back), then the median.
      const ratio = summarize(raw.nonblock!.map((x, i) => x / raw.bare![i]!));
      const nonblock = res.nonblock!;
      const block = res.blockable!;
      const bare = res.bare!;
      const linked = res.linked!;
      sink += seqSink + hits;
      console.log(
        `| ${n >= 1000 ? n.toExponential(0) : n} | ${k} | ${fmt(nonblock)} | ${fmt(block)} | ${fmt(bare)} | ${formatRange(ratio, 2)} | ${fmt(linked)} | ${setupMs.toFixed(0)} ms |`,
      );
    }
  }
  if (sink === 42) console.log('');
}

console.log(
  `Node ${process.version}, ${new Date().toISOString().slice(0, 10)}${quick ? ' (quick)' : ''}`,
);
await benchReadSide();
await benchInvalidation();
