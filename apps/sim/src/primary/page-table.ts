/** PTE flag: the mapping allows writes. */
export const PTE_WRITE = 1;
/** PTE flag: accessed since the last aging pass (the "young"/accessed bit). */
export const PTE_YOUNG = 2;
/** PTE flag: written since it was mapped. */
export const PTE_DIRTY = 4;
/** PTE flag: PROT_NONE (the frame stays, but no access is allowed). */
export const PTE_PROTNONE = 8;

/**
 * What the primary reports about its page tables, to the one observer that subscribes (the
 * checker). Every mutation of a {@link PageTable} goes through its methods, which report here,
 * so an operation cannot change a PTE without the observer hearing of it.
 */
export interface PageTableObserver {
  /** The contents of `[start, end)` are gone: the pages read as zero from now on. At once. */
  zeroed(start: number, end: number): void;
  /** The contents of `len` pages moved from `from` to `to` (mremap). At once. */
  moved(from: number, to: number, len: number): void;
  /**
   * PTEs inside `[start, end)` were taken away or restricted (unmap, swap-out, migration,
   * protection change, move). Reported when an invalidation window ends ({@link PageTable.flush},
   * right before invalidateRangeEnd): by then every secondary must have dropped what it cached
   * of those pages. The range may cover pages that did not change.
   */
  changed(start: number, end: number): void;
}

const NO_OBSERVER: PageTableObserver = { zeroed() {}, moved() {}, changed() {} };

/**
 * The primary page table, one entry per virtual page, in typed arrays: the frame (or -1), its
 * flags, and the swap slot of a swapped-out page (or -1). A page is mapped iff `frame >= 0`;
 * accessible iff mapped and not PROT_NONE.
 *
 * The arrays are for reading. Every write goes through a method: those that add a mapping or
 * access (`map`, `touch`, `clearYoung`) need no notifier; those that take one away (`unmap`,
 * `swapOut`, `replace`, `protect`, `move`) are allowed only inside an open invalidation window
 * (`windows > 0`, kept by the address space) and are reported to the observer.
 */
export class PageTable {
  readonly frame: Int32Array;
  readonly flags: Uint8Array;
  readonly swap: Int32Array;
  /** Open invalidation windows (between a successful range start and its end), all tasks. */
  windows = 0;
  /** Who hears of changes (see {@link PageTableObserver}). */
  observer: PageTableObserver = NO_OBSERVER;
  /** Pages changed since the last flush: [dirtyStart, dirtyEnd), empty when start >= end. */
  private dirtyStart = Number.POSITIVE_INFINITY;
  private dirtyEnd = 0;

  constructor(readonly pages: number) {
    this.frame = new Int32Array(pages).fill(-1);
    this.flags = new Uint8Array(pages);
    this.swap = new Int32Array(pages).fill(-1);
  }

  /** True if `page` maps a frame that may be accessed. */
  accessible(page: number): boolean {
    return this.frame[page]! >= 0 && (this.flags[page]! & PTE_PROTNONE) === 0;
  }

  /** True if `page` maps a frame that may be written through this PTE. */
  writable(page: number): boolean {
    return this.frame[page]! >= 0 && (this.flags[page]! & (PTE_WRITE | PTE_PROTNONE)) === PTE_WRITE;
  }

  // ---- adding mappings or access: no notifier ----------------------------------------------

  /** Maps an unmapped `page` to `frame` (a fault; a swap-in frees the page's slot first). */
  map(page: number, frame: number, flags: number): void {
    if (this.frame[page]! >= 0) throw new Error(`page table: page ${page} is already mapped`);
    this.frame[page] = frame;
    this.flags[page] = flags;
    this.swap[page] = -1;
  }

  /**
   * An access through the PTE of a mapped page: sets the young bit (and dirty for a write);
   * `upgrade` also makes it writable and clears PROT_NONE (do_wp_page reusing the page, a fault
   * after mprotect gave access back). Only ever gives more access.
   */
  touch(page: number, write: boolean, upgrade: boolean): void {
    let f = this.flags[page]! | PTE_YOUNG;
    if (write) f |= PTE_DIRTY | (upgrade ? PTE_WRITE : 0);
    this.flags[page] = upgrade ? f & ~PTE_PROTNONE : f;
  }

  /** Page aging: clears the young bit. */
  clearYoung(page: number): void {
    this.flags[page] = this.flags[page]! & ~PTE_YOUNG;
  }

  // ---- taking mappings away: inside an invalidation window, reported -----------------------

  /** Unmaps `page` (frame, flags and swap slot dropped): its contents are gone. */
  unmap(page: number): void {
    this.changing(page, page + 1);
    this.frame[page] = -1;
    this.flags[page] = 0;
    this.swap[page] = -1;
    this.observer.zeroed(page, page + 1);
  }

  /** Swap-out: the page is unmapped, its contents kept in swap `slot`. */
  swapOut(page: number, slot: number): void {
    this.changing(page, page + 1);
    this.frame[page] = -1;
    this.flags[page] = 0;
    this.swap[page] = slot;
  }

  /** Migration: `page` now maps `frame` (a copy), flags unchanged. */
  replace(page: number, frame: number): void {
    this.changing(page, page + 1);
    this.frame[page] = frame;
  }

  /**
   * change_pte_range() for [start, end): every present PTE gets `(flags & ~clear) | set`
   * (mprotect, clear_refs soft-dirty).
   */
  protect(start: number, end: number, clear: number, set: number): void {
    this.changing(start, end);
    for (let p = start; p < end; p++)
      if (this.frame[p]! >= 0) this.flags[p] = (this.flags[p]! & ~clear) | set;
  }

  /** move_page_tables(): the PTEs of `len` pages from `from` move to the free `to`. */
  move(from: number, to: number, len: number): void {
    this.changing(from, from + len);
    this.changing(to, to + len);
    for (let i = 0; i < len; i++) {
      this.frame[to + i] = this.frame[from + i]!;
      this.flags[to + i] = this.flags[from + i]!;
      this.swap[to + i] = this.swap[from + i]!;
      this.frame[from + i] = -1;
      this.flags[from + i] = 0;
      this.swap[from + i] = -1;
    }
    this.observer.moved(from, to, len);
  }

  /**
   * Reports the pages changed since the last flush to the observer (`changed`). The address
   * space calls it when an invalidation window ends, before invalidateRangeEnd.
   */
  flush(): void {
    if (this.dirtyStart >= this.dirtyEnd) return;
    const [s, e] = [this.dirtyStart, this.dirtyEnd];
    this.dirtyStart = Number.POSITIVE_INFINITY;
    this.dirtyEnd = 0;
    this.observer.changed(s, e);
  }

  // Taking a translation away is only sound while every secondary has been told to drop it
  // (between invalidateRangeStart and End): the window count enforces it for every caller.
  private changing(start: number, end: number): void {
    if (this.windows <= 0) {
      throw new Error(`page table: [${start}, ${end}) changed outside an invalidation window`);
    }
    if (start < this.dirtyStart) this.dirtyStart = start;
    if (end > this.dirtyEnd) this.dirtyEnd = end;
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
