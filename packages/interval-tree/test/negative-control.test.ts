import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { IntervalTree } from '../src/index.js';
import { op, run } from './model.js';
import { mutant, removeMutants } from './mutant.js';

/**
 * Negative controls: the same model-based property, run against deliberately broken trees
 * (copies of src/ with one edit each), must find a counterexample. This proves the property (and
 * the invariant checker it calls) can fail.
 */
function findsBug(make: () => IntervalTree<number>): boolean {
  const out = fc.check(
    fc.property(fc.array(op, { maxLength: 120 }), (ops) => run(ops, make)),
    { numRuns: 300, seed: 42 },
  );
  return out.failed;
}

async function brokenTree(file: string, find: string, replace: string) {
  const { IntervalTree: Broken } = await mutant(file, find, replace);
  return () => new Broken<number>();
}

describe('negative controls: the oracle property catches broken trees', () => {
  afterAll(removeMutants);

  it('passes on the real tree with the same seed', () => {
    expect(findsBug(() => new IntervalTree<number>())).toBe(false);
  });

  it('catches intervals treated as half-open (touching ends missed by iterFirst/iterNext)', async () => {
    // The cursor's walk (not forEachOverlap's) misses an interval ending exactly at `start`.
    const broken = await brokenTree(
      'cursor.ts',
      'if (start <= F[(n << F64.SHIFT) + F64.LAST]!) {',
      'if (start < F[(n << F64.SHIFT) + F64.LAST]!) {',
    );
    expect(findsBug(broken)).toBe(true);
  });

  it('catches a delete that skips red-black rebalancing (invariant checker)', async () => {
    const broken = await brokenTree(
      'red-black.ts',
      'if (removedColor === Color.BLACK) eraseFixup(t, x);',
      '',
    );
    expect(findsBug(broken)).toBe(true);
  });

  it('catches subtree maxima that are not recomputed after a removal', async () => {
    const broken = await brokenTree(
      'red-black.ts',
      'function propagate<T>(t: IntervalTree<T>, n: number, stop: number): void {',
      'function propagate<T>(t: IntervalTree<T>, n: number, stop: number): void {\n  return;',
    );
    expect(findsBug(broken)).toBe(true);
  });

  it('the broken copies really differ from src/ (a mutant of nothing is refused)', async () => {
    await expect(mutant('cursor.ts', 'no such code', '')).rejects.toThrow(/found 0/);
  });
});
