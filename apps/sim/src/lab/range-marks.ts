/**
 * Per-page counts of the invalidations that hold the page off (reader-count and grace-period):
 * a start marks its range before it waits for the readers, the end unmarks it. Overlapping
 * invalidations count, so a page is free again only when the last of them ended.
 */
export class RangeMarks {
  private readonly marks: Int32Array;

  constructor(pages: number) {
    this.marks = new Int32Array(pages);
  }

  /** Marks `[first, last]`. */
  mark(first: number, last: number): void {
    for (let p = first; p <= last; p++) this.marks[p]!++;
  }

  /** Unmarks `[first, last]`. */
  unmark(first: number, last: number): void {
    for (let p = first; p <= last; p++) this.marks[p]!--;
  }

  /** True while an invalidation holds `page` off. */
  marked(page: number): boolean {
    return this.marks[page]! > 0;
  }
}
