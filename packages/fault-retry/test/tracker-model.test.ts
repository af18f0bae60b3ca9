import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  InvalidationEndWithoutBeginError,
  type InvalidationTrackerLike,
  RangeAddOutsideInvalidationError,
} from '../src/index.js';
import { trackerImplementations } from './implementations.js';

/**
 * Random operation sequences checked against a plain model of KVM's bookkeeping: the merged
 * range is the hull of every range added since the burst began, or none.
 */
class Model {
  seq = 0;
  inProgress = 0;
  ranges: Array<[number, number]> = [];
  get hull(): [number, number] | undefined {
    if (this.ranges.length === 0) return undefined;
    return [Math.min(...this.ranges.map((r) => r[0])), Math.max(...this.ranges.map((r) => r[1]))];
  }
  retryGfnUnsafe(snap: number, gfn: number): boolean {
    const h = this.hull;
    if (this.inProgress > 0 && h !== undefined && gfn >= h[0] && gfn < h[1]) return true;
    return this.seq !== snap;
  }
  retryGfn(snap: number, gfn: number): boolean {
    if (this.inProgress > 0) {
      const h = this.hull;
      if (h === undefined || (gfn >= h[0] && gfn < h[1])) return true;
    }
    return this.seq !== snap;
  }
}

type Op =
  | { kind: 'begin' }
  | { kind: 'end' }
  | { kind: 'rangeAdd'; start: number; length: number }
  | { kind: 'snapshot' }
  | { kind: 'check'; gfn: number; snap: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.constant({ kind: 'begin' as const }),
  fc.constant({ kind: 'end' as const }),
  fc.record({
    kind: fc.constant('rangeAdd' as const),
    start: fc.nat(40),
    length: fc.integer({ min: 1, max: 10 }),
  }),
  fc.constant({ kind: 'snapshot' as const }),
  fc.record({ kind: fc.constant('check' as const), gfn: fc.nat(55), snap: fc.nat(7) }),
);

describe.each(trackerImplementations)('$name matches the model', ({ create }) => {
  it('for random begin/rangeAdd/end/check sequences, errors included', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const t: InvalidationTrackerLike = create();
        const m = new Model();
        const snaps = [0];
        for (const o of ops) {
          switch (o.kind) {
            case 'begin':
              t.begin();
              if (++m.inProgress === 1) m.ranges = [];
              break;
            case 'end':
              if (m.inProgress === 0) {
                expect(() => t.end()).toThrow(InvalidationEndWithoutBeginError);
              } else {
                t.end();
                m.seq++;
                m.inProgress--;
              }
              break;
            case 'rangeAdd':
              if (m.inProgress === 0) {
                expect(() => t.rangeAdd(o.start, o.start + o.length)).toThrow(
                  RangeAddOutsideInvalidationError,
                );
              } else {
                t.rangeAdd(o.start, o.start + o.length);
                m.ranges.push([o.start, o.start + o.length]);
              }
              break;
            case 'snapshot':
              snaps.push(t.snapshot());
              break;
            case 'check': {
              const snap = snaps[o.snap % snaps.length]!;
              expect(t.retryGfn(snap, o.gfn)).toBe(m.retryGfn(snap, o.gfn));
              expect(t.retry(snap)).toBe(m.inProgress > 0 || m.seq !== snap);
              expect(t.retryCache(snap)).toBe(m.inProgress > 0 || m.seq !== snap);
              // The lockless check agrees when nothing races, except that a burst without a
              // range yet does not force a retry (INVALID_GPA contains no gfn).
              expect(t.retryGfnUnsafe(snap, o.gfn)).toBe(m.retryGfnUnsafe(snap, o.gfn));
              break;
            }
          }
          expect(t.seq).toBe(m.seq);
          expect(t.inProgress).toBe(m.inProgress);
          // The range is reset only by the next burst's begin(): after the burst it stays.
          const h = m.hull;
          expect([t.rangeStart, t.rangeEnd]).toEqual(h === undefined ? [undefined, undefined] : h);
        }
      }),
      { numRuns: 300 },
    );
  });
});
