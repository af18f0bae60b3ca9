import type { AddressSpace } from './primary/mm.js';
import {
  clearRefsOp,
  madviseDontneedOp,
  migrateOp,
  mmapOp,
  mprotectOp,
  mremapOp,
  munmapOp,
} from './primary/ops.js';
import { PROT_READ, PROT_WRITE } from './primary/vmas.js';
import type { Prng } from './prng.js';
import type { Task } from './scheduler.js';

/** What an operation of the `mm` task gets to work with. */
export interface MmOpContext {
  mm: AddressSpace;
  /** The task running it. */
  t: Task;
  /** The task's own random stream (draw from it only: runs stay reproducible). */
  r: Prng;
  /**
   * A range drawn for the operation before it was picked (a page span of a VMA, biased to the
   * regions the secondaries mirror), or undefined when no VMA exists. Operations that need no
   * range ignore it.
   */
  range: [number, number] | undefined;
}

/** One address-space operation: its `--mix` name, default weight, and what it does. */
export interface MmOperation {
  readonly name: string;
  readonly weight: number;
  run(c: MmOpContext): Promise<void>;
}

/**
 * The operations of the `mm` task, drawn by weight (`--mix name=w` overrides a weight). To add
 * one, add a row: the mix, the CLI and the replay flags read this table. Every page-table
 * change an operation makes reaches the checker through the page table itself.
 */
export const MM_OPERATIONS = [
  {
    name: 'mmap',
    weight: 3,
    async run({ mm, t, r }) {
      const len = r.range(1, 32);
      const s = mm.vmas.findFree(len, (n) => r.int(n));
      if (s !== undefined)
        await mmapOp(mm, t, s, s + len, r.chance(0.85) ? PROT_READ | PROT_WRITE : PROT_READ);
    },
  },
  {
    name: 'munmap',
    weight: 2,
    async run({ mm, t, r, range }) {
      if (range === undefined) return;
      const [s, e] = range;
      await munmapOp(mm, t, s, e);
      // Re-map the hole sometimes, so shared regions come back (with fresh, zeroed memory).
      if (r.chance(0.7)) await mmapOp(mm, t, s, e, PROT_READ | PROT_WRITE);
    },
  },
  {
    name: 'mprotect',
    weight: 3,
    async run({ mm, t, r, range }) {
      if (range === undefined) return;
      const prot = r.pick([PROT_READ, PROT_READ | PROT_WRITE, PROT_READ | PROT_WRITE, 0]);
      await mprotectOp(mm, t, range[0], range[1], prot);
    },
  },
  {
    name: 'madvise',
    weight: 3,
    async run({ mm, t, range }) {
      if (range !== undefined) await madviseDontneedOp(mm, t, range[0], range[1]);
    },
  },
  {
    name: 'mremap',
    weight: 1,
    async run({ mm, t, r, range }) {
      if (range === undefined) return;
      const [s, e] = range;
      const to = mm.vmas.findFree(e - s, (n) => r.int(n));
      if (to === undefined) return;
      await mremapOp(mm, t, s, e, to);
      if (r.chance(0.8)) await mremapOp(mm, t, to, to + (e - s), s); // and back, usually
    },
  },
  {
    name: 'migrate',
    weight: 3,
    async run({ mm, t, r, range }) {
      if (range !== undefined)
        await migrateOp(mm, t, range[0], range[1], r.chance(0.5) ? 'rmap' : 'vma');
    },
  },
  {
    name: 'clearRefs',
    weight: 1,
    async run({ mm, t, range }) {
      if (range !== undefined) await clearRefsOp(mm, t, range[0], range[1]);
    },
  },
] as const satisfies readonly MmOperation[];

/** The name of an operation of {@link MM_OPERATIONS}. */
export type MmOpName = (typeof MM_OPERATIONS)[number]['name'];

/** Relative weights of the address-space operations of the `mm` task, by name. */
export type OpMix = Record<MmOpName, number>;

/** The default weights of {@link MM_OPERATIONS}. */
export function defaultMix(): OpMix {
  return Object.fromEntries(MM_OPERATIONS.map((op) => [op.name, op.weight])) as OpMix;
}
