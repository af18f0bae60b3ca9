import { pathToFileURL } from 'node:url';
import {
  invalidateOps,
  type MmuNotifierRange,
  MmuNotifierSubscriptions,
  teardownInterval,
} from '@mmukit/mmu-notifier';
import { Mutex } from '@mmukit/seqcount';

/** A device that mirrors pages of one address space through an interval subscription. */
export async function runExample(): Promise<Map<number, number>> {
  const mm = new MmuNotifierSubscriptions(); // one per address space
  const primary = new Map<number, number>([
    [0, 100],
    [1, 101],
  ]); // page -> frame, owned by the primary MMU
  const device = new Map<number, number>(); // the secondary page table
  const lock = new Mutex(); // the user lock: serialises "install" against "zap"
  const zap = (first: number, last: number) => {
    for (let p = first; p <= last; p++) device.delete(p);
  };

  // Write side: invalidateOps() takes the lock (EAGAIN if it may not wait), calls
  // setSeq(curSeq), zaps the part of the range the subscription covers, and unlocks.
  const mirror = mm.insertInterval(0, 2, invalidateOps({ lock, zap }));

  // Read side: resolve without the lock, then install under it unless an invalidation collided.
  async function fault(page: number): Promise<void> {
    for (;;) {
      const seq = await mirror.readBegin();
      const frame = await Promise.resolve(primary.get(page)); // may sleep (no lock held)
      await lock.lock();
      try {
        if (mirror.readRetry(seq)) continue; // collided: drop `frame` and retry
        if (frame !== undefined) device.set(page, frame);
        return;
      } finally {
        lock.unlock();
      }
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
  const result = new Map(device);
  await teardownInterval(mirror, { lock, zap }); // remove, then zap what is left
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(await runExample()); // Map(1) { 0 => 100 }
}
