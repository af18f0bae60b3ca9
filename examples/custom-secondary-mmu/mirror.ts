// A complete secondary MMU: a device that mirrors part of a process's page table.
import { pathToFileURL } from 'node:url';
import { faultWithRetry } from '@mmukit/fault-retry';
import {
  invalidateOps,
  type MmuNotifierEvent,
  MmuNotifierSubscriptions,
  teardownInterval,
} from '@mmukit/mmu-notifier';
import { Mutex } from '@mmukit/seqcount';

/** A page table entry: which frame backs the page, and whether it may be written. */
export type Pte = { frame: number; writable: boolean };

/** The primary MMU: it owns the page table and calls the notifier around every change. */
export class Primary {
  readonly mm = new MmuNotifierSubscriptions(); // one per address space
  readonly table = new Map<number, Pte>();
  #nextFrame = 1;

  /** `sleep` stands for whatever a page lookup may wait on (I/O, a lock, a fault). */
  constructor(readonly sleep: () => Promise<void> = () => new Promise(setImmediate)) {}

  map(page: number): void {
    this.table.set(page, { frame: this.#nextFrame++, writable: true });
  }

  /** Every change of the page table goes between invalidateRangeStart and invalidateRangeEnd. */
  async change(page: number, event: MmuNotifierEvent, edit: () => void): Promise<void> {
    const range = { start: page, end: page + 1, event, blockable: true };
    await this.mm.invalidateRangeStart(range); // secondaries drop their copies first
    edit();
    this.mm.invalidateRangeEnd(range);
  }

  unmap = (page: number) => this.change(page, 'unmap', () => this.table.delete(page));
  migrate = (page: number) => this.change(page, 'migrate', () => this.map(page)); // new frame
  protect = (page: number) =>
    this.change(page, 'protection-page', () => {
      const pte = this.table.get(page);
      if (pte) this.table.set(page, { ...pte, writable: false });
    });

  /** Like get_user_pages(): reads the entry, then may sleep before the caller uses it. */
  async lookup(page: number): Promise<Pte | undefined> {
    const pte = this.table.get(page);
    await this.sleep();
    return pte;
  }
}

/** The secondary MMU: a device with its own page table, kept coherent with the primary's. */
export class Device {
  readonly table = new Map<number, Pte>(); // page -> what the device may use
  readonly lock = new Mutex(); // serialises the fault's check + install against the zap
  readonly #zap = (first: number, last: number) => {
    for (let page = first; page <= last; page++) this.table.delete(page);
  };
  // invalidate(): lock (or EAGAIN if it may not wait), setSeq(curSeq), zap, unlock.
  readonly #ops = invalidateOps({ lock: this.lock, zap: this.#zap });
  readonly primary: Primary;
  readonly sub;

  constructor(primary: Primary, start: number, pages: number) {
    this.primary = primary;
    this.sub = primary.mm.insertInterval(start, pages, this.#ops);
  }

  /** Device page fault: resolve without the lock, install under it unless an invalidation raced. */
  async fault(page: number): Promise<Pte | undefined> {
    const { page: pte } = await faultWithRetry({
      subscription: this.sub,
      lock: this.lock,
      resolve: () => this.primary.lookup(page),
      install: (pte) => {
        if (pte) this.table.set(page, pte);
      },
    });
    return pte;
  }

  /** Stop mirroring: faults still in flight fail; nothing is left in the device's table. */
  close = () => teardownInterval(this.sub, { lock: this.lock, zap: this.#zap });
}

export async function main(): Promise<void> {
  const primary = new Primary();
  for (let page = 0; page < 4; page++) primary.map(page);
  const device = new Device(primary, 0, 4);
  // Faults race a migration, an unmap and a write-protect of the same pages.
  await Promise.all([device.fault(1), primary.migrate(1), device.fault(2), primary.unmap(2)]);
  await Promise.all([device.fault(3), primary.protect(3)]);
  for (const [page, pte] of device.table)
    if (primary.table.get(page)?.frame !== pte.frame) throw new Error(`stale page ${page}`);
  console.log('device table', Object.fromEntries(device.table));
  await device.close();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
