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

/** Most VMAs in one block of VmaSet's list; a fuller block is split in two. */
const BLOCK_MAX = 64;

/**
 * The address space's VMAs, kept non-overlapping (the kernel keeps them in a maple tree): in
 * address order in a list of small blocks (the VMAs overlapping a range are one run found by
 * binary search, as the VMAs do not overlap, so their ends are sorted too; an insert or a
 * removal moves at most one block's entries, however many VMAs there are), and, per page, which
 * VMA holds it (find() is one array read, isFree() a scan of the range's pages).
 */
export class VmaSet {
  private nextId = 1;
  /** For each page, the slot of `slots` holding its VMA, 0 for none. */
  private readonly slotAt: Int32Array;
  /** The VMAs by slot (slot 0 stays empty); the slots of removed VMAs are reused. */
  private readonly slots: (Vma | undefined)[] = [undefined];
  private readonly freeSlots: number[] = [];
  /** The VMAs in address order: the blocks one after the other; no block is empty. */
  private readonly blocks: Vma[][] = [];
  private count = 0;
  /** Where locate() found the first VMA ending after a page: block, index in it. */
  private atBlock = 0;
  private atIndex = 0;

  constructor(readonly pages: number) {
    this.slotAt = new Int32Array(pages);
  }

  /** Number of VMAs. */
  get size(): number {
    return this.count;
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

  /** True if every page of `[start, end)` is in a VMA with protection `prot` (no hole). */
  coveredWith(start: number, end: number, prot: number): boolean {
    const slotAt = this.slotAt;
    let last = -1;
    for (let p = start; p < end; p++) {
      const slot = slotAt[p];
      if (slot === last) continue;
      if (slot === undefined || slot === 0 || this.slots[slot]!.prot !== prot) return false;
      last = slot;
    }
    return true;
  }

  /** True if some VMA overlaps `[start, end)`. */
  overlaps(start: number, end: number): boolean {
    checkRange(start, end, 'overlaps');
    this.locate(start);
    const v = this.blocks[this.atBlock]?.[this.atIndex];
    return v !== undefined && v.start < end;
  }

  /** The VMAs overlapping `[start, end)`, in address order (a snapshot array). */
  overlapping(start: number, end: number): Vma[] {
    checkRange(start, end, 'overlapping');
    const out: Vma[] = [];
    this.locate(start);
    const blocks = this.blocks;
    for (let b = this.atBlock, i = this.atIndex; b < blocks.length; b++, i = 0) {
      const block = blocks[b]!;
      for (; i < block.length; i++) {
        const v = block[i]!;
        if (v.start >= end) return out;
        out.push(v);
      }
    }
    return out;
  }

  /** The `i`-th VMA in address order (0 <= i < size). */
  at(i: number): Vma {
    const blocks = this.blocks;
    for (let b = 0; b < blocks.length; b++) {
      const block = blocks[b]!;
      if (i < block.length) return block[i]!;
      i -= block.length;
    }
    throw new RangeError(`VmaSet.at: no VMA ${i} past the last`);
  }

  /** All VMAs in address order (a snapshot: later changes do not alter it; do not mutate). */
  all(): readonly Vma[] {
    const out: Vma[] = [];
    for (const block of this.blocks) for (const v of block) out.push(v);
    return out;
  }

  /** Inserts a VMA over a free range. */
  insert(start: number, end: number, prot: number): Vma {
    if (!this.isFree(start, end))
      throw new RangeError(`VMA [${start}, ${end}) overlaps or is out of range`);
    const vma: Vma = { start, end, prot, id: this.nextId++ };
    // Before the first VMA ending after `start` (it starts at `end` or later), or last.
    this.locate(start);
    const blocks = this.blocks;
    let b = this.atBlock;
    let i = this.atIndex;
    if (b === blocks.length) {
      if (b === 0) blocks.push([]);
      else {
        b--;
        i = blocks[b]!.length;
      }
    }
    const block = blocks[b]!;
    // block.splice(i, 0, vma), without the splice's result array.
    for (let j = block.length; j > i; j--) block[j] = block[j - 1]!;
    block[i] = vma;
    if (block.length > BLOCK_MAX) blocks.splice(b + 1, 0, block.splice(BLOCK_MAX >> 1));
    this.count++;
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
    this.locate(vma.start);
    const block = this.blocks[this.atBlock];
    if (block?.[this.atIndex] !== vma) throw new Error(`VMA ${vma.id} is not in the set`);
    // block.splice(atIndex, 1), without the splice's result array.
    for (let j = this.atIndex + 1; j < block.length; j++) block[j - 1] = block[j]!;
    block.pop();
    if (block.length === 0) this.blocks.splice(this.atBlock, 1);
    this.count--;
    const slotAt = this.slotAt;
    const slot = slotAt[vma.start]!;
    this.slots[slot] = undefined;
    this.freeSlots.push(slot);
    for (let p = vma.start; p < vma.end; p++) slotAt[p] = 0;
  }

  /**
   * Finds the first VMA that ends after `page` (the one containing it, or the next one after
   * it): its block in `atBlock` and its index there in `atIndex`; `atBlock` = the number of
   * blocks if there is none.
   */
  private locate(page: number): void {
    const blocks = this.blocks;
    let lo = 0;
    let hi = blocks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const block = blocks[mid]!;
      if (block[block.length - 1]!.end <= page) lo = mid + 1;
      else hi = mid;
    }
    this.atBlock = lo;
    if (lo === blocks.length) {
      this.atIndex = 0;
      return;
    }
    const block = blocks[lo]!;
    let l = 0;
    let h = block.length;
    while (l < h) {
      const mid = (l + h) >>> 1;
      if (block[mid]!.end <= page) l = mid + 1;
      else h = mid;
    }
    this.atIndex = l;
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
