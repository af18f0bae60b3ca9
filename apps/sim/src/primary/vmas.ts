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
 * The address space's VMAs, kept non-overlapping (the kernel keeps them in a maple tree): sorted
 * by address in one array, where the VMAs overlapping a range are one run found by binary search
 * (the VMAs do not overlap, so their ends are sorted too), and, per page, which VMA holds it
 * (find() is one array read, isFree() a scan of the range's pages).
 */
export class VmaSet {
  private nextId = 1;
  /** For each page, the slot of `slots` holding its VMA, 0 for none. */
  private readonly slotAt: Int32Array;
  /** The VMAs by slot (slot 0 stays empty); the slots of removed VMAs are reused. */
  private readonly slots: (Vma | undefined)[] = [undefined];
  private readonly freeSlots: number[] = [];
  /**
   * The VMAs in address order, changed in place by insert/remove (binary search + splice).
   * all() hands it out; the next change then copies it first (copy on write), so a handed-out
   * array never changes under its reader.
   */
  private list: Vma[] = [];
  private listShared = false;

  constructor(readonly pages: number) {
    this.slotAt = new Int32Array(pages);
  }

  /** Number of VMAs. */
  get size(): number {
    return this.list.length;
  }

  /** The VMA containing `page`, if any. */
  find(page: number): Vma | undefined {
    const slot = this.slotAt[page];
    return slot === undefined ? undefined : this.slots[slot];
  }

  /** True if no VMA overlaps `[start, end)`. */
  isFree(start: number, end: number): boolean {
    if (!(start >= 0 && end <= this.pages && start < end)) return false;
    const slotAt = this.slotAt;
    for (let p = start; p < end; p++) if (slotAt[p] !== 0) return false;
    return true;
  }

  /** True if some VMA overlaps `[start, end)`. */
  overlaps(start: number, end: number): boolean {
    checkRange(start, end, 'overlaps');
    const v = this.list[this.firstEndingAfter(start)];
    return v !== undefined && v.start < end;
  }

  /** The VMAs overlapping `[start, end)`, in address order (a snapshot array). */
  overlapping(start: number, end: number): Vma[] {
    checkRange(start, end, 'overlapping');
    const out: Vma[] = [];
    const list = this.list;
    for (let i = this.firstEndingAfter(start); i < list.length; i++) {
      const v = list[i]!;
      if (v.start >= end) break;
      out.push(v);
    }
    return out;
  }

  /** The `i`-th VMA in address order (0 <= i < size). */
  at(i: number): Vma {
    return this.list[i]!;
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
    this.ownList().splice(this.firstEndingAfter(start), 0, vma);
    let slot = this.freeSlots.pop();
    if (slot === undefined) {
      slot = this.slots.length;
      this.slots.push(vma);
    } else this.slots[slot] = vma;
    const slotAt = this.slotAt;
    for (let p = start; p < end; p++) slotAt[p] = slot;
    return vma;
  }

  /** Removes a VMA. */
  remove(vma: Vma): void {
    const i = this.firstEndingAfter(vma.start);
    if (this.list[i] !== vma) throw new Error(`VMA ${vma.id} is not in the set`);
    this.ownList().splice(i, 1);
    const slotAt = this.slotAt;
    const slot = slotAt[vma.start]!;
    this.slots[slot] = undefined;
    this.freeSlots.push(slot);
    for (let p = vma.start; p < vma.end; p++) slotAt[p] = 0;
  }

  /**
   * Index in `list` of the first VMA that ends after `page` (the one containing it, or the next
   * one after it); `list.length` if none.
   */
  private firstEndingAfter(page: number): number {
    const list = this.list;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid]!.end <= page) lo = mid + 1;
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
    const hit = this.overlapping(start, end);
    for (let i = 0; i < hit.length; i++) {
      const v = hit[i]!;
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

/** A query over an empty range is a bug of the caller (as the interval tree said before). */
function checkRange(start: number, end: number, what: string): void {
  if (!(start < end)) throw new RangeError(`VmaSet.${what}: empty range [${start}, ${end})`);
}
