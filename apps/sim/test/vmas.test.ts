import { describe, expect, it } from 'vitest';
import { type Vma, VmaSet } from '../src/primary/vmas.js';
import { Prng } from '../src/prng.js';

/** A VMA's shape (carve() makes new VMA objects for the pieces it keeps). */
const shape = (v: Vma) => [v.start, v.end, v.prot];

/** The VMAs as a plain array sorted by address: what VmaSet must answer, done the slow way. */
class Reference {
  list: number[][] = [];
  insert(start: number, end: number, prot: number): void {
    this.list.push([start, end, prot]);
    this.list.sort((a, b) => a[0]! - b[0]!);
  }
  overlapping(start: number, end: number): number[][] {
    return this.list.filter((v) => v[0]! < end && v[1]! > start);
  }
  coveredWith(start: number, end: number, prot: number): boolean {
    for (let p = start; p < end; p++) {
      if (!this.list.some((v) => v[0]! <= p && p < v[1]! && v[2] === prot)) return false;
    }
    return true;
  }
  carve(start: number, end: number): void {
    for (const [s, e, prot] of this.overlapping(start, end)) {
      this.list = this.list.filter((v) => v[0] !== s);
      if (s! < start) this.insert(s!, start, prot!);
      if (e! > end) this.insert(end, e!, prot!);
    }
  }
}

describe('VmaSet', () => {
  it('answers as a sorted array would through thousands of random changes (blocks split and empty)', () => {
    for (let seed = 1; seed <= 6; seed++) {
      const r = new Prng(seed);
      const pages = 2048;
      const set = new VmaSet(pages);
      const ref = new Reference();
      let coveredSeen = 0;
      for (let step = 0; step < 4000; step++) {
        const op = r.int(10);
        if (op < 5 || set.size === 0) {
          const len = r.range(1, 6);
          const prot = r.int(4);
          const s = set.findFree(len, (n) => r.int(n));
          if (s !== undefined) {
            set.insert(s, s + len, prot);
            ref.insert(s, s + len, prot);
          }
        } else if (op < 7) {
          const v = set.at(r.int(set.size));
          set.remove(v);
          ref.list = ref.list.filter((x) => x[0] !== v.start);
        } else if (op < 9) {
          const start = r.int(pages - 40);
          const end = start + r.range(1, 40);
          set.carve(start, end);
          ref.carve(start, end);
        } else {
          const start = r.int(pages - 1);
          const end = start + r.range(1, Math.min(300, pages - start));
          expect(set.overlapping(start, end).map(shape)).toEqual(ref.overlapping(start, end));
          expect(set.overlaps(start, end)).toBe(ref.overlapping(start, end).length > 0);
          const prot = r.int(4);
          const small = Math.min(pages, start + r.range(1, 6)); // often covered by one VMA
          const covered = ref.coveredWith(start, small, prot);
          expect(set.coveredWith(start, small, prot)).toBe(covered);
          if (covered) coveredSeen++;
          expect(set.coveredWith(start, end, prot)).toBe(ref.coveredWith(start, end, prot));
        }
        expect(set.size).toBe(ref.list.length);
        if (step % 50 === 0) {
          expect(set.all().map(shape)).toEqual(ref.list);
          for (let i = 0; i < ref.list.length; i++) expect(shape(set.at(i))).toEqual(ref.list[i]);
          for (const [s, e] of ref.list) expect(set.find(s!)).toBe(set.find(e! - 1));
        }
      }
      expect(set.size).toBeGreaterThan(64); // more than one block
      expect(coveredSeen).toBeGreaterThan(0);
      expect(set.all().map(shape)).toEqual(ref.list);
    }
  });

  it('keeps many VMAs in order (more than one block) and finds each by page', () => {
    const set = new VmaSet(4096);
    const made: Vma[] = [];
    // Every other page, inserted from the top down and from the middle out.
    for (let p = 4094; p >= 2048; p -= 2) made.push(set.insert(p, p + 1, 1));
    for (let p = 0; p < 2048; p += 2) made.push(set.insert(p, p + 1, 3));
    made.sort((a, b) => a.start - b.start);
    expect(set.size).toBe(2048);
    expect(set.all()).toEqual(made);
    for (let i = 0; i < made.length; i += 97) expect(set.at(i)).toBe(made[i]);
    expect(set.overlapping(100, 110).map((v) => v.start)).toEqual([100, 102, 104, 106, 108]);
    expect(set.find(2050)).toBe(made[1025]);
    expect(set.find(2051)).toBeUndefined();
    for (const v of made.filter((_, i) => i % 3 !== 0)) set.remove(v);
    const left = made.filter((_, i) => i % 3 === 0);
    expect(set.all()).toEqual(left);
    expect(set.overlapping(0, 4096)).toEqual(left);
    expect(() => set.remove(made[1]!)).toThrow(/not in the set/);
  });
});
