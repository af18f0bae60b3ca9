/** PTE flag: the mapping allows writes. */
export const PTE_WRITE = 1;
/** PTE flag: accessed since the last aging pass (the "young"/accessed bit). */
export const PTE_YOUNG = 2;
/** PTE flag: written since it was mapped. */
export const PTE_DIRTY = 4;
/** PTE flag: PROT_NONE (the frame stays, but no access is allowed). */
export const PTE_PROTNONE = 8;

/**
 * The primary page table, one entry per virtual page, in typed arrays: the frame (or -1), its
 * flags, and the swap slot of a swapped-out page (or -1). A page is mapped iff `frame >= 0`;
 * accessible iff mapped and not PROT_NONE.
 */
export class PageTable {
  readonly frame: Int32Array;
  readonly flags: Uint8Array;
  readonly swap: Int32Array;

  constructor(readonly pages: number) {
    this.frame = new Int32Array(pages).fill(-1);
    this.flags = new Uint8Array(pages);
    this.swap = new Int32Array(pages).fill(-1);
  }

  /** True if `page` maps a frame that may be accessed. */
  accessible(page: number): boolean {
    return this.frame[page]! >= 0 && (this.flags[page]! & PTE_PROTNONE) === 0;
  }

  /**
   * change_pte_range() for [start, end): every present PTE gets `(flags & ~clear) | set`
   * (mprotect, clear_refs soft-dirty). Call only inside an invalidation window of the range.
   */
  protect(start: number, end: number, clear: number, set: number): void {
    for (let p = start; p < end; p++)
      if (this.frame[p]! >= 0) this.flags[p] = (this.flags[p]! & ~clear) | set;
  }

  /** True if `page` maps a frame that may be written through this PTE. */
  writable(page: number): boolean {
    return this.frame[page]! >= 0 && (this.flags[page]! & (PTE_WRITE | PTE_PROTNONE)) === PTE_WRITE;
  }
}

/** Swap space: slots holding the contents of swapped-out pages, reused LIFO. */
export class SwapSpace {
  private data: number[] = [];
  private readonly freeSlots: number[] = [];
  /** Slots in use. */
  used = 0;

  /** Stores a value, returns its slot. */
  store(value: number): number {
    this.used++;
    const s = this.freeSlots.pop();
    if (s !== undefined) {
      this.data[s] = value;
      return s;
    }
    this.data.push(value);
    return this.data.length - 1;
  }

  /** The value in a slot. */
  load(slot: number): number {
    return this.data[slot]!;
  }

  /** Frees a slot. */
  free(slot: number): void {
    this.used--;
    this.freeSlots.push(slot);
  }
}
