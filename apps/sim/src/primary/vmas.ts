import { type IntervalNode, IntervalTree } from '@mmukit/interval-tree';

/** VMA permission: readable. */
export const PROT_READ = 1;
/** VMA permission: writable. */
export const PROT_WRITE = 2;

/** A virtual memory area: pages `[start, end)` with one protection. */
export interface Vma {
  start: number;
  end: number;
  prot: number;
  /** A stable id, for traces. */
  id: number;
}

/**
 * The address space's VMAs, kept non-overlapping in an @mmukit/interval-tree (keyed by page
 * ranges, inclusive last = end - 1), like the kernel's maple tree of vm_area_structs.
 */
export class VmaSet {
  private readonly tree = new IntervalTree<Vma>();
  private readonly nodes = new Map<Vma, IntervalNode<Vma>>();
  private nextId = 1;
  private cache: Vma[] | undefined;

  constructor(readonly pages: number) {}

  /** Number of VMAs. */
  get size(): number {
    return this.tree.size;
  }

  /** The VMA containing `page`, if any. */
  find(page: number): Vma | undefined {
    return this.tree.iterFirst(page, page)?.value;
  }

  /** True if no VMA overlaps `[start, end)`. */
  isFree(start: number, end: number): boolean {
    return (
      start >= 0 &&
      end <= this.pages &&
      start < end &&
      this.tree.iterFirst(start, end - 1) === undefined
    );
  }

  /** The VMAs overlapping `[start, end)`, in address order (a snapshot array). */
  overlapping(start: number, end: number): Vma[] {
    const out: Vma[] = [];
    this.tree.forEachOverlap(start, end - 1, (n) => {
      out.push(n.value);
    });
    return out;
  }

  /** All VMAs in address order (a cached array, rebuilt after a change: do not mutate). */
  all(): readonly Vma[] {
    if (this.cache === undefined) {
      const out: Vma[] = [];
      for (const n of this.tree) out.push(n.value);
      this.cache = out;
    }
    return this.cache;
  }

  /** Inserts a VMA over a free range. */
  insert(start: number, end: number, prot: number): Vma {
    if (!this.isFree(start, end))
      throw new RangeError(`VMA [${start}, ${end}) overlaps or is out of range`);
    const vma: Vma = { start, end, prot, id: this.nextId++ };
    this.cache = undefined;
    this.nodes.set(vma, this.tree.insert(start, end - 1, vma));
    return vma;
  }

  /** Removes a VMA. */
  remove(vma: Vma): void {
    const node = this.nodes.get(vma);
    if (node === undefined) throw new Error(`VMA ${vma.id} is not in the set`);
    this.tree.remove(node);
    this.nodes.delete(vma);
    this.cache = undefined;
  }

  /**
   * Cuts `[start, end)` out of every VMA (split at the edges) and returns the removed pieces.
   * Used by munmap, mremap and, followed by re-insertion, mprotect.
   */
  carve(start: number, end: number): Vma[] {
    const removed: Vma[] = [];
    for (const v of this.overlapping(start, end)) {
      this.remove(v);
      if (v.start < start) this.insert(v.start, start, v.prot);
      if (v.end > end) this.insert(end, v.end, v.prot);
      removed.push({
        start: Math.max(v.start, start),
        end: Math.min(v.end, end),
        prot: v.prot,
        id: v.id,
      });
    }
    return removed;
  }

  /** A random free gap of `len` pages, tried at `tries` candidate addresses from `rand`. */
  findFree(len: number, rand: (n: number) => number, tries = 8): number | undefined {
    for (let i = 0; i < tries; i++) {
      const s = rand(Math.max(1, this.pages - len + 1));
      if (this.isFree(s, s + len)) return s;
    }
    return undefined;
  }
}
