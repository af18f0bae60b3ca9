import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IntervalTree } from '../src/index.js';
import { op, run } from './model.js';

/**
 * Negative controls: the same model-based property, run against deliberately broken trees, must
 * find a counterexample. This proves the property (and the invariant checker it calls) can fail.
 */
function findsBug(make: () => IntervalTree<number>): boolean {
  const out = fc.check(
    fc.property(fc.array(op, { maxLength: 120 }), (ops) => run(ops, make)),
    { numRuns: 300, seed: 42 },
  );
  return out.failed;
}

/** A subclass whose prototype method `name` is replaced (bypassing `private`). */
function brokenTree(name: string, impl: (this: IntervalTree<number>, ...a: number[]) => unknown) {
  class Broken extends IntervalTree<number> {}
  Object.defineProperty(Broken.prototype, name, { value: impl });
  return () => new Broken();
}

describe('negative controls: the oracle property catches broken trees', () => {
  it('passes on the real tree with the same seed', () => {
    expect(findsBug(() => new IntervalTree<number>())).toBe(false);
  });

  it('catches intervals treated as half-open (touching ends missed by iterFirst/iterNext)', () => {
    const broken = brokenTree('_resume', function (n, sp, start, last) {
      const F = this._f;
      const W = this._w;
      const stack = this._cStack;
      for (;;) {
        while (start <= F[(n << 2) + 2]!) {
          stack[sp++] = n;
          n = W[(n << 3) + 6]!;
        }
        if (sp === 0) break;
        n = stack[--sp]!;
        if (F[n << 2]! > last) break;
        if (start < F[(n << 2) + 1]!) {
          // bug: should be <=, so an interval ending exactly at `start` is missed
          this._cSlot = n;
          this._cSp = sp;
          this._cStart = start;
          this._cLast = last;
          this._cMod = this._mod;
          return n;
        }
        n = W[(n << 3) + 7]!;
      }
      this._cSlot = 0;
      return 0;
    });
    expect(findsBug(broken)).toBe(true);
  });

  it('catches a delete that skips red-black rebalancing (invariant checker)', () => {
    expect(findsBug(brokenTree('_eraseFixup', () => {}))).toBe(true);
  });

  it('catches subtree maxima that are not recomputed after a removal', () => {
    expect(findsBug(brokenTree('_propagate', () => {}))).toBe(true);
  });
});
