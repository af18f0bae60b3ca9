import {
  type FaultTracker,
  faultWithRetry,
  type SharedInvalidationTracker,
} from '@mmukit/fault-retry';
import { Prng } from '../prng.js';
import { count, type SharedWorld, STAT, stopping, views } from './layout.js';

/** The planted bugs of the threaded mode (negative controls), by `--bug` name. */
export const THREAD_BUGS = ['kvm-no-retry', 'kvm-no-in-progress'] as const;
/** A `--bug` name the threaded mode takes. */
export type ThreadBug = (typeof THREAD_BUGS)[number];

/** What the main thread posts to a vCPU worker. */
export interface VcpuData {
  world: SharedWorld;
  /** The worker's index (its row of counters) and its random stream's seed. */
  index: number;
  seed: number;
  bug: ThreadBug | undefined;
  /** Busy-work iterations in resolve() (the GUP's cost: the window an invalidation can hit). */
  resolveWork: number;
}

/** Spins `n` iterations of work the JIT cannot drop; returns a value to keep it alive. */
export function busy(n: number): number {
  let x = 0;
  for (let i = 0; i < n; i++) x = (x * 31 + i) | 0;
  return x;
}

/**
 * The tracker as a buggy vCPU reads it: `kvm-no-retry` never retries; `kvm-no-in-progress`
 * compares the sequence only, so a fault that snapshots while an invalidation is in progress
 * and takes the lock before its end installs what it resolved before the primary changed.
 */
function trackerFor(t: SharedInvalidationTracker, bug: ThreadBug | undefined): FaultTracker {
  if (bug === undefined) return t;
  const seqOnly = (seq: number) => bug === 'kvm-no-in-progress' && t.seq !== seq;
  return { snapshot: () => t.snapshot(), retryGfn: seqOnly, retryGfnUnsafe: seqOnly };
}

/**
 * One vCPU: accesses random guest frames until told to stop; a frame without a shadow entry
 * faults through faultWithRetry (snapshot, resolve = read the primary PTE, mmu_lock, retryGfn,
 * install). mmu_lock is taken blocking (tryLock/lock/unlock), as a worker may.
 */
export async function runVcpu(data: VcpuData): Promise<void> {
  const v = views(data.world);
  const r = new Prng(data.seed);
  const { pte, spte, pages, lock } = v;
  const w = data.index;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const options = {
    tracker: trackerFor(v.tracker, data.bug),
    lock: { tryLock: () => lock.tryLock(), lock: () => lock.lock(), unlock: () => lock.unlock() },
    gfn: 0,
    resolve: async () => {
      busy(data.resolveWork);
      return Atomics.load(pte, options.gfn);
    },
    install: (frame: number) => {
      Atomics.store(spte, options.gfn, frame);
    },
    // The guest re-enters and faults again; the pause (a futex sleep of a few µs) leaves the
    // core to the invalidating thread instead of spinning on it.
    backoff: () => {
      Atomics.wait(pause, 0, 0, 0.005);
    },
  };
  let accesses = 0;
  while (!stopping(v)) {
    // A working set: mostly the low quarter of guest memory, as the seeded sim's vCPUs.
    const gfn = r.chance(0.7) ? r.int(Math.max(1, pages >> 2)) : r.int(pages);
    accesses++;
    if (Atomics.load(spte, gfn) !== -1) continue;
    options.gfn = gfn;
    const { retries } = await faultWithRetry(options);
    count(v, w, STAT.faults);
    if (retries > 0) count(v, w, STAT.retries, retries);
  }
  count(v, w, STAT.accesses, accesses);
}
