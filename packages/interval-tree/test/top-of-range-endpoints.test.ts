/**
 * Endpoints at the top of the safe-integer range, where a double's low 32 bits are the integer's
 * own low bits (2^52 + k has low word k): the tree must order, balance and query them exactly
 * like small ones. Each record holds its endpoints as doubles next to its child links (layout.ts),
 * so a link read from the wrong word would see such an endpoint as a plausible slot number.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type IntervalNode, IntervalTree } from '../src/index.js';
import { checkInvariants } from '../src/invariants.js';
import { type Op, run } from './model.js';

const TOP = 2 ** 52;

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('endpoints near 2^52', () => {
  it('ascending inserts whose lasts are 2^52 + small numbers stay balanced and ordered', () => {
    const t = new IntervalTree<number>();
    const nodes: IntervalNode<number>[] = [];
    for (let i = 1; i <= 64; i++) {
      nodes.push(t.insert(i, TOP + i + 2, i));
      checkInvariants(t);
    }
    expect([...t]).toEqual(nodes);
    expect(nodes.map((n) => n.last - TOP)).toEqual(range(3, 66));
    // [i, 2^52 + i + 2] reaches 2^52 + 40 iff i >= 38.
    expect([...t.overlaps(TOP + 40, TOP + 40)].map((n) => n.value)).toEqual(range(38, 64));
    expect(t.forEachOverlap(0, 10, () => {})).toBe(10);
    for (const n of nodes.slice(0, 32)) t.remove(n);
    checkInvariants(t);
    expect([...t].map((n) => n.value)).toEqual(range(33, 64));
  });

  it('descending inserts whose starts are 2^52 + small numbers stay balanced and ordered', () => {
    const t = new IntervalTree<number>();
    for (let i = 64; i >= 1; i--) {
      t.insert(TOP + i, TOP + i + 2, i);
      checkInvariants(t);
    }
    expect([...t].map((n) => n.value)).toEqual(range(1, 64));
    expect([...t.overlaps(TOP + 10, TOP + 12)].map((n) => n.value)).toEqual(range(8, 12));
  });

  it('matches the oracle over random operations mixing them with small intervals', () => {
    const near = fc.integer({ min: 0, max: 40 }).map((k) => TOP + k);
    const small = fc.integer({ min: 0, max: 40 });
    const iv = fc
      .tuple(fc.oneof(small, near), fc.oneof(small, near))
      .map(([a, b]) => (a <= b ? [a, b] : [b, a]) as [number, number]);
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 5, arbitrary: iv.map((v) => ({ kind: 'insert' as const, iv: v })) },
      { weight: 2, arbitrary: fc.nat().map((pick) => ({ kind: 'remove' as const, pick })) },
      {
        weight: 2,
        arbitrary: fc
          .tuple(iv, fc.nat({ max: 4 }))
          .map(([v, stopAfter]) => ({ kind: 'query' as const, iv: v, stopAfter })),
      },
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => run(ops)),
      { numRuns: 100 },
    );
  });
});
