import type { MmuNotifierEvent } from '@mmukit/mmu-notifier';
import { perEvent } from './events.js';

/** Per-path counters. */
export interface PathCounts {
  cpu: number;
  kvm: number;
  hmm: number;
  vhost: number;
}

function paths(): PathCounts {
  return { cpu: 0, kvm: 0, hmm: 0, vhost: 0 };
}

/** What a secondary brought by the user did (counted by its context's hooks). */
export interface SecondaryCounts {
  /** `check.read()` and `check.write()` calls: accesses through a translation. */
  accesses: number;
  /** Faults: `resolve()` calls that were not retries. */
  faults: number;
  /** Retries: `backoff()` calls (a fault that lost the race waits there before it retries). */
  retries: number;
}

/** Counters of one run; all plain numbers, reported in the summary table and in --json. */
export class Stats {
  /** Top-level operations executed (all tasks). */
  ops = 0;
  /** Accesses (reads + writes) that reached a frame, per path. */
  accesses = paths();
  /** Faults taken (a missing/insufficient translation that had to be resolved), per path. */
  faults = paths();
  /** Faults that lost the race with an invalidation and were retried, per secondary. */
  retries = paths();
  /** The secondaries brought by the user (`--secondary`), by name, in the order attached. */
  secondaries: Record<string, SecondaryCounts> = {};
  /** Invalidation ranges started, by event (EAGAIN attempts included). */
  invalidations: Record<MmuNotifierEvent, number> = perEvent(() => 0);
  /** invalidateRangeStartNonblock() calls (the OOM reaper), and those that returned false. */
  nonblockStarts = 0;
  /** invalidateRangeStartNonblock() that returned false (EAGAIN): the change was skipped. */
  eagain = 0;
  /** Injected callback failures reported by blockable starts (each start then tried again). */
  callbackErrors = 0;
  /** Times a task had to sleep: readBegin waits, lock contention, vhost waiting for its reader. */
  waits = { readBegin: 0, lock: 0, vhostReader: 0, mmapLock: 0 };
  /** Primary MMU events. */
  swapOuts = 0;
  swapIns = 0;
  agedSkips = 0;
  secondaryYoung = 0;
  migrations = 0;
  /** Errors returned to accessors (no VMA / no permission / HMM timeout). */
  efault = 0;
  eperm = 0;
  hmmTimeouts = 0;
  /** HMM: hmm_range_fault returned -EBUSY (check_retry saw the collision early). */
  hmmBusy = 0;
  /** vhost: accesses served through a cached map vs. the copy_user slow path. */
  vhostFast = 0;
  vhostSlow = 0;
  /** Interval subscriptions inserted/removed while the run went on. */
  intervalInserts = 0;
  intervalRemoves = 0;
  /** Warnings the notifier core reported (the kernel would WARN). */
  warnings: string[] = [];
  /** OOM reaper VMAs skipped because of EAGAIN. */
  reapSkips = 0;

  /** Sum of a per-path record (the built-in paths). */
  static total(p: PathCounts): number {
    return p.cpu + p.kvm + p.hmm + p.vhost;
  }

  /** Sum of one counter over every path, the user's secondaries included. */
  static overall(s: Stats, what: keyof SecondaryCounts): number {
    let n = Stats.total(s[what]);
    for (const c of Object.values(s.secondaries)) n += c[what];
    return n;
  }
}
