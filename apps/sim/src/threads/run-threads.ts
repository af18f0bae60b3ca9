import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { kvmNotifierOps } from '@mmukit/fault-retry';
import { type MmuNotifierRangeInit, MmuNotifierSubscriptions } from '@mmukit/mmu-notifier';
import { Prng } from '../prng.js';
import { counted, makeWorld, STAT, stop, views, type WorldViews } from './layout.js';
import { busy, type ThreadBug, type VcpuData } from './vcpu.js';

/** A run of the threaded mode: vCPUs on worker threads, the primary on the main thread. */
export interface ThreadsConfig {
  /** Seeds the invalidations drawn here and each vCPU's accesses (the interleaving is real). */
  seed: number;
  /** vCPU worker threads. */
  threads: number;
  /** Invalidations the main thread makes. */
  ops: number;
  /** Guest pages (= host pages of the one memslot). */
  pages: number;
  bug?: ThreadBug;
  /** Busy-work iterations in a vCPU's resolve(), and in each half of an invalidation's window. */
  resolveWork?: number;
  windowWork?: number;
}

/** What a threaded run found and did. */
export interface ThreadsResult {
  config: ThreadsConfig;
  ok: boolean;
  /** The first stale shadow entry the checker saw, if any. */
  violation: { kind: 'stale'; invalidation: number; message: string } | undefined;
  invalidations: number;
  /** Sums over the vCPUs. */
  accesses: number;
  faults: number;
  retries: number;
  /** Sweeps of the shadow table (one after each invalidation's end). */
  checks: number;
  wallMs: number;
}

/** The largest thread count `run --threads` takes. */
export const MAX_THREADS = 64;
/** The most pages the threaded mode takes: its checker sweeps every page after each end. */
export const MAX_THREAD_PAGES = 65_536;

/** The default: one vCPU per core but one (the main thread invalidates on its own). */
export function defaultThreads(): number {
  return Math.max(1, availableParallelism() - 1);
}

/**
 * The KVM guest with its vCPUs truly in parallel: `threads` workers fault over a shadow page
 * table, a SharedInvalidationTracker and a SharedMmuLock in shared memory, while the main
 * thread runs the primary MMU's invalidations through the notifier core and kvmNotifierOps
 * (start: mmu_lock, begin, rangeAdd, zap; the primary's PTEs change between start and end;
 * end: mmu_lock, end). After every end the main thread takes mmu_lock and checks every shadow
 * entry against the primary: a stale one is a violation. The workers' resolve() reads the
 * primary's PTE without any lock, as GUP does.
 */
export async function runThreads(config: ThreadsConfig): Promise<ThreadsResult> {
  checkConfig(config);
  const t0 = performance.now();
  const world = makeWorld(config.pages, config.threads);
  const v = views(world);
  const url = new URL('./vcpu-worker.js', import.meta.url);
  const workers = Array.from({ length: config.threads }, (_, index) => {
    const data: VcpuData = {
      world,
      index,
      seed: (config.seed + 0x9e37_79b9 * (index + 1)) >>> 0,
      bug: config.bug,
      resolveWork: config.resolveWork ?? 200,
    };
    return new Worker(url, { workerData: data });
  });
  const ended = workers.map(
    (w) =>
      new Promise<void>((resolve, reject) => {
        w.on('message', (m) => {
          if (m === 'done') resolve();
        });
        w.on('error', reject);
        w.on('exit', (code) => {
          if (code !== 0) reject(new Error(`a vCPU worker exited with code ${code}`));
        });
      }),
  );
  await Promise.all(workers.map((w) => new Promise((ok) => w.once('message', ok))));
  let result: Omit<ThreadsResult, 'accesses' | 'faults' | 'retries' | 'wallMs'>;
  try {
    result = await invalidate(config, v);
  } finally {
    stop(v);
    await Promise.all(ended).finally(() => Promise.all(workers.map((w) => w.terminate())));
  }
  let accesses = 0;
  let faults = 0;
  let retries = 0;
  for (let w = 0; w < config.threads; w++) {
    accesses += counted(v, w, STAT.accesses);
    faults += counted(v, w, STAT.faults);
    retries += counted(v, w, STAT.retries);
  }
  return { ...result, accesses, faults, retries, wallMs: performance.now() - t0 };
}

/** RangeError unless the config's numbers are in range (nothing is started then). */
function checkConfig(c: ThreadsConfig): void {
  const within = (name: string, v: number, lo: number, hi: number) => {
    if (!Number.isSafeInteger(v) || v < lo || v > hi) {
      throw new RangeError(`${name} must be an integer from ${lo} to ${hi}, got ${v}`);
    }
  };
  within('threads', c.threads, 1, MAX_THREADS);
  within('pages', c.pages, 16, MAX_THREAD_PAGES);
  within('ops', c.ops, 0, Number.MAX_SAFE_INTEGER);
  within('seed', c.seed, 0, 0xffff_ffff);
}

/**
 * The main thread's part: `ops` invalidations of random ranges, each moving its pages to new
 * frames between start and end, each followed by the check under mmu_lock.
 */
async function invalidate(
  config: ThreadsConfig,
  v: WorldViews,
): Promise<Omit<ThreadsResult, 'accesses' | 'faults' | 'retries' | 'wallMs'>> {
  const { pte, spte, pages, lock } = v;
  const subs = new MmuNotifierSubscriptions();
  subs.register(
    kvmNotifierOps({
      tracker: v.tracker,
      // mmu_lock taken blocking: Node lets the main thread wait (Atomics.wait).
      lock: { tryLock: () => lock.tryLock(), lock: () => lock.lock(), unlock: () => lock.unlock() },
      memslots: [{ userspaceAddr: 0, baseGfn: 0, npages: pages }],
      zap: (g0, g1) => {
        for (let g = g0; g < g1; g++) Atomics.store(spte, g, -1);
      },
    }),
  );
  const r = new Prng(config.seed);
  const windowWork = config.windowWork ?? 400;
  let frame = pages + 1;
  let checks = 0;
  const done = (n: number, violation: ThreadsResult['violation']) => ({
    config,
    ok: violation === undefined,
    violation,
    invalidations: n,
    checks,
  });
  for (let n = 0; n < config.ops; n++) {
    // Mostly inside the vCPUs' working set (the low quarter), a few pages long.
    const len = r.range(1, 16);
    const hot = Math.max(1, pages >> 2);
    const start = Math.min(pages - len, r.chance(0.7) ? r.int(hot) : r.int(pages));
    const range: MmuNotifierRangeInit = { start, end: start + len, event: 'clear' };
    await subs.invalidateRangeStart(range);
    busy(windowWork); // the rest of the primary's work before it changes the PTEs
    for (let p = start; p < start + len; p++) Atomics.store(pte, p, frame++);
    busy(windowWork);
    subs.invalidateRangeEnd(range);
    // The check: under mmu_lock no fault is between its retry check and its install.
    lock.lock();
    checks++;
    let stale = -1;
    for (let g = 0; g < pages; g++) {
      const s = spte[g]!;
      if (s !== -1 && s !== pte[g]) {
        stale = g;
        break;
      }
    }
    lock.unlock();
    if (stale >= 0) {
      return done(n + 1, {
        kind: 'stale',
        invalidation: n + 1,
        message: `stale translation: gfn ${stale} maps frame ${spte[stale]}, the primary maps frame ${pte[stale]} (after invalidation ${n + 1} of [${start}, ${start + len}))`,
      });
    }
  }
  return done(config.ops, undefined);
}
