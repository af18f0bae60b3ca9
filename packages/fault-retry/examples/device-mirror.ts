import { pathToFileURL } from 'node:url';
import { faultWithRetry } from '@mmukit/fault-retry';
import {
  invalidateOps,
  type MmuNotifierRange,
  MmuNotifierSubscriptions,
  teardownInterval,
} from '@mmukit/mmu-notifier';
import { Mutex } from '@mmukit/seqcount';

/** A device mirroring pages 0 and 1 of an address space through an interval subscription. */
export async function runExample(): Promise<{ device: Map<number, number>; after: unknown }> {
  const mm = new MmuNotifierSubscriptions();
  const primary = new Map([
    [0, 100],
    [1, 101],
  ]); // page -> frame, owned by the primary MMU
  const device = new Map<number, number>(); // the secondary page table
  const lock = new Mutex(); // the user lock: install vs zap
  const zap = (first: number, last: number) => {
    for (let page = first; page <= last; page++) device.delete(page);
  };
  const mirror = mm.insertInterval(0, 2, invalidateOps({ lock, zap }));

  // readBegin (may wait) -> resolve without the lock -> lock, readRetry, install -> unlock.
  const fault = (page: number) =>
    faultWithRetry({
      subscription: mirror,
      address: page,
      lock,
      resolve: async () => primary.get(page),
      install: (frame) => {
        if (frame !== undefined) device.set(page, frame);
      },
    });

  async function unmap(page: number): Promise<void> {
    const range: MmuNotifierRange = { start: page, end: page + 1, event: 'unmap', blockable: true };
    await mm.invalidateRangeStart(range);
    primary.delete(page);
    mm.invalidateRangeEnd(range);
  }

  await fault(0);
  await Promise.all([fault(1), unmap(1)]); // races: the device never keeps a stale frame
  const kept = new Map(device);
  await teardownInterval(mirror, { lock, zap }); // remove, then zap everything it mapped
  const after = await fault(0).catch((error: unknown) => error); // SubscriptionRemovedError
  return { device: kept, after };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(await runExample()); // { device: Map(1) { 0 => 100 }, after: SubscriptionRemovedError ... }
}
