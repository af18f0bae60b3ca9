import type { IntervalNode } from '../src/index.js';

/** Brute-force reference: a list kept in tree order (start, then insertion sequence). */
export interface OracleEntry {
  start: number;
  last: number;
  seq: number;
  node: IntervalNode<number>;
}

export class Oracle {
  entries: OracleEntry[] = [];
  private seq = 0;

  add(start: number, last: number, node: IntervalNode<number>): void {
    const e = { start, last, seq: this.seq++, node };
    // insert after every entry with start <= e.start (equal starts keep insertion order)
    let i = this.entries.length;
    while (i > 0 && this.entries[i - 1]!.start > start) i--;
    this.entries.splice(i, 0, e);
  }

  delete(node: IntervalNode<number>): void {
    const i = this.entries.findIndex((e) => e.node === node);
    if (i < 0) throw new Error('oracle: node not present');
    this.entries.splice(i, 1);
  }

  overlaps(start: number, last: number): IntervalNode<number>[] {
    return this.entries.filter((e) => e.start <= last && e.last >= start).map((e) => e.node);
  }

  all(): IntervalNode<number>[] {
    return this.entries.map((e) => e.node);
  }
}
