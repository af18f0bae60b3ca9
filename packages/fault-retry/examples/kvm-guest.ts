import { pathToFileURL } from 'node:url';
import {
  faultWithRetry,
  InvalidationTracker,
  type KvmMemslot,
  kvmNotifierOps,
} from '@mmukit/fault-retry';
import { type MmuNotifierRange, MmuNotifierSubscriptions } from '@mmukit/mmu-notifier';
import { Mutex } from '@mmukit/seqcount';

/** A guest whose memory is host pages 16..19, mapped by a secondary MMU (its "SPTEs"). */
export async function runExample(): Promise<{ sptes: Map<number, string>; retries: number }> {
  const mm = new MmuNotifierSubscriptions(); // the host address space's notifiers
  const hostPages = new Map([
    [16, 'A'],
    [17, 'B'],
    [18, 'C'],
    [19, 'D'],
  ]); // host page -> frame, owned by the primary MMU
  const sptes = new Map<number, string>(); // gfn -> frame: the secondary MMU
  const tracker = new InvalidationTracker(); // kvm->mmu_invalidate_*
  const mmuLock = new Mutex(); // kvm->mmu_lock
  const memslots: KvmMemslot[] = [{ userspaceAddr: 16, baseGfn: 0, npages: 4 }];

  // The notifier side: begin + rangeAdd + zap at the start, end at the end, under mmuLock.
  const kvm = kvmNotifierOps({
    tracker,
    lock: mmuLock,
    memslots,
    zap: (gfnStart, gfnEnd) => {
      for (let gfn = gfnStart; gfn < gfnEnd; gfn++) sptes.delete(gfn);
    },
  });
  mm.register(kvm);

  const gfnToHva = (gfn: number): number => {
    const slot = memslots.find((s) => gfn >= s.baseGfn && gfn < s.baseGfn + s.npages);
    if (slot === undefined) throw new RangeError(`gfn ${gfn} is in no memslot`);
    return slot.userspaceAddr + (gfn - slot.baseGfn);
  };

  // A guest page fault: resolve without the lock (may sleep), install only if nothing raced.
  const fault = (gfn: number, whileResolving?: () => Promise<void>) =>
    faultWithRetry({
      tracker,
      gfn,
      lock: mmuLock,
      async resolve() {
        const frame = hostPages.get(gfnToHva(gfn))!;
        await whileResolving?.();
        return frame;
      },
      install: (frame) => sptes.set(gfn, frame),
    });

  // The host moves a page to a new frame: start, change the page table, end.
  async function migrate(hva: number, frame: string): Promise<void> {
    const range: MmuNotifierRange = { start: hva, end: hva + 1, event: 'migrate', blockable: true };
    await mm.invalidateRangeStart(range);
    hostPages.set(hva, frame);
    mm.invalidateRangeEnd(range);
  }

  await fault(0); // maps gfn 0 -> 'A'
  let first = true;
  const { retries } = await fault(1, async () => {
    if (first) await migrate(17, 'B2'); // gfn 1's page moves while the fault sleeps...
    first = false;
  });
  // ...so the fault lost the race once, and mapped the new frame: sptes.get(1) === 'B2'
  await migrate(16, 'A2'); // zaps gfn 0; the guest would simply fault it in again

  // A memslot change waits until no invalidation is in flight, then happens at once.
  hostPages.set(20, 'E');
  await kvm.waitForInvalidations(() => memslots.push({ userspaceAddr: 20, baseGfn: 4, npages: 1 }));
  await fault(4);
  return { sptes, retries };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(await runExample()); // { sptes: Map(2) { 1 => 'B2', 4 => 'E' }, retries: 1 }
}
