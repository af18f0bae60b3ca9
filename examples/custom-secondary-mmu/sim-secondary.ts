// The tutorial's device (mirror.ts) on the simulated address space of @mmukit/sim, as a module
// the sim loads: `mmu-sim run --secondary examples/custom-secondary-mmu/dist/sim-secondary.js`.
import { type FaultSubscription, faultWithRetry } from '@mmukit/fault-retry';
import { invalidateOps, teardownInterval } from '@mmukit/mmu-notifier';
import type { PageRef, SecondaryContext, SecondaryFactory, UserSecondary } from '@mmukit/sim';

/**
 * The device: its own table over the sim's `device` region, one interval subscription, one lock.
 * `retryCheck: false` plants the bug of the tutorial's negative control: the fault installs what
 * it resolved even when an invalidation ran in between.
 */
export function mirrorDevice(
  ctx: SecondaryContext,
  { retryCheck = true }: { retryCheck?: boolean } = {},
): UserSecondary {
  const name = retryCheck ? 'mirror' : 'mirror-no-retry';
  const region = ctx.regions.find((r) => r.name === 'device') ?? ctx.regions[0]!;
  const size = ctx.pageSize;
  const table = new Map<number, PageRef>(); // page -> what the device may use
  const lock = ctx.lock(`${name}.lock`); // serialises the fault's check + install against the zap
  const zap = (first: number, last: number) => {
    for (let page = first / size; page <= Math.floor(last / size); page++) table.delete(page);
  };
  // invalidate(): lock (or EAGAIN if it may not wait), setSeq(curSeq), zap, unlock.
  const sub = ctx.subs.insertInterval(
    region.start * size,
    (region.end - region.start) * size,
    invalidateOps({ lock, zap }),
  );
  const scheduled = ctx.scheduled(sub); // its waits are the scheduler's
  const subscription: FaultSubscription = retryCheck
    ? scheduled
    : { readBegin: () => scheduled.readBegin(), readRetry: () => false }; // BUG: never retries

  /** Device page fault: resolve without the lock, install under it unless an invalidation raced. */
  const fault = (page: number, write: boolean) =>
    faultWithRetry({
      subscription,
      lock,
      resolve: () => ctx.resolve(page, write),
      backoff: ctx.backoff, // a retry waits at a scheduling point
      install: (ref) => {
        if (typeof ref === 'number') return; // EFAULT / EPERM: nothing to map
        ctx.check.install(ref); // the checker compares it with the primary's PTE
        table.set(page, ref);
        ctx.trace(`${name} install`, page, ref.frame);
      },
    });

  /** One device access: through the table, faulting first if the entry is missing or read-only. */
  const access = async (page: number, write: boolean): Promise<void> => {
    let ref = table.get(page);
    if (ref === undefined || (write && !ref.writable)) {
      await fault(page, write);
      ref = table.get(page);
      if (ref === undefined || (write && !ref.writable)) return;
    }
    if (write) ctx.check.write(ref);
    else ctx.check.read(ref);
  };

  const queue = (n: number) => ({
    name: `${name}.q${n}`,
    turn: () => access(region.start + ctx.rng.int(region.end - region.start), ctx.rng.chance(0.4)),
  });
  return {
    name,
    view: {
      forEachTranslation: (fn) => {
        for (const [page, r] of table) fn(page, r.frame, r.gen, r.writable);
      },
      forEachTranslationIn: (start, end, fn) => {
        for (const [page, r] of table)
          if (page >= start && page < end) fn(page, r.frame, r.gen, r.writable);
      },
    },
    tasks: [queue(0), queue(1)],
    // Stop mirroring: faults still in flight fail; nothing is left in the device's table.
    teardown: () => teardownInterval(scheduled, { lock, zap }),
  };
}

const factory: SecondaryFactory = (ctx) => mirrorDevice(ctx);
export default factory;
