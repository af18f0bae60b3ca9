import type { Task } from '../scheduler.js';
import type { AddressSpace } from './mm.js';
import { PTE_PROTNONE, PTE_WRITE, PTE_YOUNG } from './page-table.js';
import { PROT_READ, PROT_WRITE } from './vmas.js';

// Every op below takes and drops mmap_lock inline (await lock; try { ... } finally { unlock })
// instead of through a withLock(body) helper: such a helper adds a microtask per op, which moves
// wake-ups relative to the scheduler's picks and changes the interleavings (it changed the trace
// hash of 45 of 110 compared runs), so same-seed runs would no longer match older logs.

/** Pages zapped between two scheduling points inside a long zap (cond_resched()). */
const ZAP_BATCH = 16;

/** Zaps [start, end) inside an open window, yielding every ZAP_BATCH pages. */
async function zapRange(mm: AddressSpace, t: Task, start: number, end: number): Promise<void> {
  mm.gather.enter();
  try {
    for (let p = start; p < end; p++) {
      mm.zapPage(p);
      if ((p - start) % ZAP_BATCH === ZAP_BATCH - 1 && p + 1 < end)
        await mm.ctx.sched.yield(t, 'zap cond_resched');
    }
  } finally {
    mm.gather.exit(); // tlb_finish_mmu(): frees the batch if we are the last zapper
  }
}

/** mmap(MAP_ANONYMOUS | MAP_PRIVATE) at a free address. No notifier: nothing was mapped there. */
export async function mmapOp(
  mm: AddressSpace,
  t: Task,
  start: number,
  end: number,
  prot: number,
): Promise<boolean> {
  await mm.writeLock(t);
  try {
    if (!mm.vmas.isFree(start, end)) return false;
    mm.vmas.insert(start, end, prot); // a hole's pages read as zero: their unmap said so
    mm.ev(t, 'mmap', start, end, prot);
    return true;
  } finally {
    mm.mmapLock.writeUnlock(t);
  }
}

/** munmap(): notifier event 'unmap', blockable (unmap_region under the mmap write lock). */
export async function munmapOp(
  mm: AddressSpace,
  t: Task,
  start: number,
  end: number,
): Promise<void> {
  await mm.writeLock(t);
  try {
    if (!mm.vmas.overlaps(start, end)) return;
    mm.ev(t, 'munmap', start, end);
    const range = await mm.invStart(t, start, end, 'unmap');
    await zapRange(mm, t, start, end);
    mm.vmas.carve(start, end);
    mm.invEnd(t, range);
  } finally {
    mm.mmapLock.writeUnlock(t);
  }
}

/**
 * mprotect(): event 'protection-vma' (change_protection), blockable. Removing write clears the
 * PTE write bit; PROT_NONE keeps the frame but makes it inaccessible. Only over mapped pages
 * (a hole gives ENOMEM in the kernel; here the op is skipped).
 */
export async function mprotectOp(
  mm: AddressSpace,
  t: Task,
  start: number,
  end: number,
  prot: number,
): Promise<void> {
  await mm.writeLock(t);
  try {
    const vmas = mm.vmas.overlapping(start, end);
    let covered = 0;
    for (let i = 0; i < vmas.length; i++) {
      const v = vmas[i]!;
      covered += Math.min(v.end, end) - Math.max(v.start, start);
    }
    if (covered !== end - start) return;
    mm.ev(t, 'mprotect', start, end, prot);
    const range = await mm.invStart(t, start, end, 'protection-vma');
    const pieces = mm.vmas.carve(start, end);
    for (let i = 0; i < pieces.length; i++) mm.vmas.insert(pieces[i]!.start, pieces[i]!.end, prot);
    const read = (prot & PROT_READ) !== 0;
    mm.pt.protect(
      start,
      end,
      ((prot & PROT_WRITE) === 0 ? PTE_WRITE : 0) | (read ? PTE_PROTNONE : 0),
      read ? 0 : PTE_PROTNONE,
    );
    mm.invEnd(t, range);
  } finally {
    mm.mmapLock.writeUnlock(t);
  }
}

/** madvise(MADV_DONTNEED): event 'clear', blockable, under the mmap read lock. */
export async function madviseDontneedOp(
  mm: AddressSpace,
  t: Task,
  start: number,
  end: number,
): Promise<void> {
  await mm.readLock(t);
  try {
    const vmas = mm.vmas.overlapping(start, end);
    for (let i = 0; i < vmas.length; i++) {
      const v = vmas[i]!;
      const s = Math.max(v.start, start);
      const e = Math.min(v.end, end);
      mm.ev(t, 'madvise DONTNEED', s, e);
      const range = await mm.invStart(t, s, e, 'clear');
      await zapRange(mm, t, s, e);
      mm.invEnd(t, range);
    }
  } finally {
    mm.mmapLock.readUnlock();
  }
}

/**
 * mremap(MREMAP_MAYMOVE | MREMAP_FIXED) of [start, end) (inside one VMA) to a free `to`:
 * event 'unmap' over the old range (move_page_tables), blockable. The frames move with their
 * PTEs: same frame, same generation, new virtual address.
 */
export async function mremapOp(
  mm: AddressSpace,
  t: Task,
  start: number,
  end: number,
  to: number,
): Promise<void> {
  await mm.writeLock(t);
  try {
    const len = end - start;
    const v = mm.vmas.find(start);
    if (v === undefined || v.end < end || !mm.vmas.isFree(to, to + len)) return;
    mm.ev(t, 'mremap', start, end, to);
    const range = await mm.invStart(t, start, end, 'unmap');
    mm.pt.move(start, to, len);
    mm.vmas.carve(start, end);
    mm.vmas.insert(to, to + len, v.prot);
    mm.invEnd(t, range);
  } finally {
    mm.mmapLock.writeUnlock(t);
  }
}

/** Who asked for a migrate_vma (MMU_NOTIFY_MIGRATE carries it as `range.owner`). */
export const MIGRATE_VMA_OWNER: unique symbol = Symbol('migrate_vma caller');

/**
 * Page migration of the present pages of [start, end): each page gets a new frame with a copy
 * of its contents and the old frame is freed through the gather. Runs under the mmap read lock.
 *
 * `kind` picks the kernel path being modelled, which decides the notifier event:
 * - 'rmap' (move_pages()/compaction -> try_to_migrate_one()): event 'clear', no owner;
 * - 'vma' (a driver's migrate_vma_setup() -> migrate_vma_collect()): event 'migrate' with
 *   `owner` = MIGRATE_VMA_OWNER. No simulated device owns it (device-private memory is not
 *   modelled; the pages land in new system frames), so every secondary must invalidate.
 */
export async function migrateOp(
  mm: AddressSpace,
  t: Task,
  start: number,
  end: number,
  kind: 'rmap' | 'vma' = 'rmap',
): Promise<void> {
  await mm.readLock(t);
  try {
    if (!mm.vmas.overlaps(start, end)) return;
    mm.ev(t, kind === 'rmap' ? 'migrate (rmap)' : 'migrate_vma', start, end);
    const range =
      kind === 'rmap'
        ? await mm.invStart(t, start, end, 'clear')
        : await mm.invStart(t, start, end, 'migrate', MIGRATE_VMA_OWNER);
    const pt = mm.pt;
    mm.gather.enter();
    try {
      for (let p = start; p < end; p++) {
        const f = pt.frame[p]!;
        if (f < 0) continue;
        const nf = mm.frames.alloc();
        mm.frames.data[nf] = mm.frames.data[f]!;
        pt.replace(p, nf);
        mm.freeFrame(f);
        mm.ctx.stats.migrations++;
        if ((p - start) % 8 === 7) await mm.ctx.sched.yield(t, 'migrate copy');
      }
    } finally {
      mm.gather.exit();
    }
    mm.invEnd(t, range);
  } finally {
    mm.mmapLock.readUnlock();
  }
}

/**
 * Reclaim (shrink_folio_list + try_to_unmap) of up to `scan` present pages of one VMA from
 * `from`: page aging first (folio_referenced: the primary young bit OR every secondary's
 * clearFlushYoung, both always evaluated, as ptep_clear_flush_young_notify does); young pages
 * get a second chance. Old pages are swapped out under a blockable 'clear' invalidation of
 * that single page (try_to_unmap_one sleeps in its rmap walk, so the blockable start is used).
 * The mmap read lock is taken with trylock and only to keep this model simple (the kernel
 * reaches pages through the rmap, not the mm).
 */
export function reclaimOp(
  mm: AddressSpace,
  t: Task,
  from: number,
  to: number,
): Promise<void> | undefined {
  if (!mm.mmapLock.tryRead()) return undefined;
  let p: number;
  try {
    p = reclaimScan(mm, t, from, to);
  } catch (error) {
    mm.mmapLock.readUnlock();
    throw error;
  }
  if (p < to) return reclaimFrom(mm, t, p, to);
  mm.mmapLock.readUnlock();
  return undefined;
}

/**
 * Ages the present pages of [p, to) (young ones get their second chance) up to the first old
 * one, which is returned for swap-out; `to` if there is none. Synchronous: no notifier call.
 */
function reclaimScan(mm: AddressSpace, t: Task, p: number, to: number): number {
  const pt = mm.pt;
  const stats = mm.ctx.stats;
  for (; p < to; p++) {
    if (pt.frame[p]! < 0 || (pt.flags[p]! & PTE_PROTNONE) !== 0) continue;
    const young = (pt.flags[p]! & PTE_YOUNG) !== 0;
    pt.clearYoung(p);
    mm.youngReported = false;
    const expected = mm.youngWitness?.(p, p + 1) ?? false;
    const secYoung = mm.subs.clearFlushYoung(p * 4096, (p + 1) * 4096);
    // The OR of what the subscribers answered (each tells mm.youngReported), which is what
    // their tables said before the call.
    if (secYoung !== mm.youngReported || secYoung !== expected) {
      mm.checker.fail(
        `clearFlushYoung(page ${p}) = ${secYoung}; the subscribers answered ${mm.youngReported}, their tables held a young translation: ${expected}`,
      );
    }
    if (secYoung) stats.secondaryYoung++;
    if (!young && !secYoung) return p;
    stats.agedSkips++;
    mm.ev(t, 'age: young, keep', p, young ? 1 : 0, secYoung ? 1 : 0);
  }
  return to;
}

/** Reclaim from the old page `p` on (mmapLock held for read; dropped at the end). */
async function reclaimFrom(mm: AddressSpace, t: Task, p: number, to: number): Promise<void> {
  try {
    const pt = mm.pt;
    while (p < to) {
      const f = pt.frame[p]!;
      const gen = mm.frames.gen[f]!;
      const range = await mm.invStart(t, p, p + 1, 'clear');
      // pte_same(): the page may have been zapped or migrated while we slept in the start.
      if (pt.frame[p] === f && mm.frames.gen[f] === gen) {
        pt.swapOut(p, mm.swap.store(mm.frames.data[f]!));
        mm.freeFrame(f);
        mm.ctx.stats.swapOuts++;
        mm.ev(t, 'swap-out', p, f);
      }
      mm.invEnd(t, range);
      p = reclaimScan(mm, t, p + 1, to);
    }
  } finally {
    mm.mmapLock.readUnlock();
  }
}

/** clear_refs soft-dirty: event 'soft-dirty', write-protects every present page of the range. */
export async function clearRefsOp(
  mm: AddressSpace,
  t: Task,
  start: number,
  end: number,
): Promise<void> {
  await mm.writeLock(t);
  try {
    if (!mm.vmas.overlaps(start, end)) return;
    mm.ev(t, 'clear_refs soft-dirty', start, end);
    const range = await mm.invStart(t, start, end, 'soft-dirty');
    mm.pt.protect(start, end, PTE_WRITE, 0);
    mm.invEnd(t, range);
  } finally {
    mm.mmapLock.writeUnlock(t);
  }
}

/** MAX_OOM_REAP_RETRIES in mm/oom_kill.c. */
export const MAX_OOM_REAP_RETRIES = 10;

/**
 * OOM kill + the OOM reaper (__oom_reap_task_mm): the process is marked dying, then every VMA
 * is zapped under invalidateRangeStartNonblock (event 'unmap'); a VMA whose start returns
 * EAGAIN is skipped and the whole pass retried later, up to MAX_OOM_REAP_RETRIES times. The
 * mmap lock is taken with trylock, as the reaper does.
 */
export async function oomReapOp(mm: AddressSpace, t: Task): Promise<void> {
  mm.dying = true;
  mm.unstable = true; // set_bit(MMF_UNSTABLE) before the first zap
  mm.ev(t, 'oom kill');
  for (let attempt = 0; attempt < MAX_OOM_REAP_RETRIES; attempt++) {
    if (attempt > 0) await mm.ctx.sched.yield(t, 'oom_reaper sleep');
    if (!mm.mmapLock.tryRead()) continue;
    let done = true;
    try {
      for (const v of mm.vmas.all()) {
        const range = mm.tryInvStart(t, v.start, v.end, 'unmap');
        if (range === undefined) {
          mm.ctx.stats.reapSkips++;
          done = false;
          continue;
        }
        // unmap_page_range() in a non-blocking context: no cond_resched, no await.
        mm.gather.enter();
        for (let p = v.start; p < v.end; p++) mm.zapPage(p);
        mm.gather.exit();
        mm.invEnd(t, range);
      }
    } finally {
      mm.mmapLock.readUnlock();
    }
    mm.ev(t, done ? 'oom reaped' : 'oom reap incomplete', attempt);
    if (done) return;
  }
}

/**
 * Process exit (exit_mmap): waits for the last mm_users reference, then mmu_notifier_release()
 * (every subscriber drops everything), checks that no secondary translation is left, then
 * unmaps every VMA (event 'unmap'; interval subscriptions are still registered and see it).
 */
export async function exitOp(mm: AddressSpace, t: Task): Promise<void> {
  mm.dying = true;
  mm.ev(t, 'exit: wait for mm_users', mm.users);
  await mm.waitUsers(t);
  mm.ev(t, 'exit_mmap: release');
  mm.ctx.stats.invalidations.release++;
  await mm.release(); // and the checker sees that nothing is left (I4)
  await mm.writeLock(t);
  try {
    for (const v of mm.vmas.all()) {
      const range = await mm.invStart(t, v.start, v.end, 'unmap');
      await zapRange(mm, t, v.start, v.end);
      mm.vmas.remove(v);
      mm.invEnd(t, range);
    }
  } finally {
    mm.mmapLock.writeUnlock(t);
  }
  mm.dead = true;
  mm.ev(t, 'exit done', mm.frames.allocated);
  if (mm.frames.allocated !== 0 || mm.gather.pending !== 0 || mm.gather.holders !== 0) {
    mm.checker.fail(
      `exit leaked ${mm.frames.allocated} frames (${mm.gather.pending} still in the gather)`,
    );
  }
}
