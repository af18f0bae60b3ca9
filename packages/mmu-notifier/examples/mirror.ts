import { pathToFileURL } from 'node:url';
import { type MmuNotifierRange, MmuNotifierSubscriptions } from '@mmukit/mmu-notifier';
import { Mutex } from 'async-mutex';

/** A device that mirrors pages of one address space through an interval subscription. */
export async function runExample(): Promise<Map<number, number>> {
  const mm = new MmuNotifierSubscriptions(); // one per address space
  const primary = new Map<number, number>([
    [0, 100],
    [1, 101],
  ]); // page -> frame, owned by the primary MMU
  const device = new Map<number, number>(); // the secondary page table
  const lock = new Mutex(); // the user lock: serialises "install" against "zap"

  const zap = (range: MmuNotifierRange) => {
    for (let p = range.start; p < range.end; p++) device.delete(p);
  };
  const mirror = mm.insertInterval(0, 2, {
    invalidate(sub, range, curSeq) {
      if (!range.blockable) {
        if (lock.isLocked()) return false; // would have to wait: EAGAIN
        sub.setSeq(curSeq); // lock free + synchronous code = nobody can be installing now
        zap(range);
        return true;
      }
      return lock.runExclusive(() => {
        sub.setSeq(curSeq); // every read begun before now will retry
        zap(range);
        return true;
      });
    },
  });

  // Read side: resolve without the lock, then install under it unless an invalidation collided.
  async function fault(page: number): Promise<void> {
    for (;;) {
      const seq = await mirror.readBegin();
      const frame = await Promise.resolve(primary.get(page)); // may sleep (no lock held)
      const done = await lock.runExclusive(() => {
        if (mirror.readRetry(seq)) return false; // collided: drop `frame` and retry
        if (frame !== undefined) device.set(page, frame);
        return true;
      });
      if (done) return;
    }
  }

  // Primary side: start, change the page tables, end.
  async function unmap(page: number): Promise<void> {
    const range: MmuNotifierRange = { start: page, end: page + 1, event: 'unmap', blockable: true };
    await mm.invalidateRangeStart(range);
    primary.delete(page);
    mm.invalidateRangeEnd(range);
  }

  await fault(0);
  await Promise.all([fault(1), unmap(1)]); // races: the device never keeps a stale frame
  return device;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(await runExample()); // Map(1) { 0 => 100 }
}
