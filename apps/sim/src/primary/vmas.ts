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
  /**
   * The same VMAs in address order, kept up to date by insert/remove (binary search + splice)
   * instead of re-walking the tree after every change. all() hands it out; the next change
   * then copies it first (copy on write), so a handed-out array never changes under its reader.
   */
  private list: Vma[] = [];
  private listShared = false;

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

  /** True if some VMA overlaps `[start, end)`. */
  overlaps(start: number, end: number): boolean {
    return this.tree.iterFirst(start, end - 1) !== undefined;
  }

  /** The VMAs overlapping `[start, end)`, in address order (a snapshot array). */
  overlapping(start: number, end: number): Vma[] {
    const out: Vma[] = [];
    this.tree.forEachOverlap(start, end - 1, (n) => {
      out.push(n.value);
    });
    return out;
  }

  /** All VMAs in address order (a snapshot: later changes do not alter it; do not mutate). */
  all(): readonly Vma[] {
    this.listShared = true;
    return this.list;
  }

  /** Inserts a VMA over a free range. */
  insert(start: number, end: number, prot: number): Vma {
    if (!this.isFree(start, end))
      throw new RangeError(`VMA [${start}, ${end}) overlaps or is out of range`);
    const vma: Vma = { start, end, prot, id: this.nextId++ };
    this.nodes.set(vma, this.tree.insert(start, end - 1, vma));
    this.ownList().splice(this.rank(start), 0, vma);
    return vma;
  }

  /** Removes a VMA. */
  remove(vma: Vma): void {
    const node = this.nodes.get(vma);
    if (node === undefined) throw new Error(`VMA ${vma.id} is not in the set`);
    this.tree.remove(node);
    this.nodes.delete(vma);
    this.ownList().splice(this.rank(vma.start), 1);
  }

  /** Index in `list` of the first VMA starting at or after `start`. */
  private rank(start: number): number {
    const list = this.list;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid]!.start < start) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** `list`, copied first if all() handed it out. */
  private ownList(): Vma[] {
    if (this.listShared) {
      this.list = this.list.slice();
      this.listShared = false;
    }
    return this.list;
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
