import { describe, expect, it } from 'vitest';

/**
 * Importing the package runs one step of its own (README "On import"; src/v8-maps.ts): it builds
 * a tiny tree and drives it through insert, iterFirst, overlaps, forEachOverlap and remove, so a
 * fault in any of those (an argument check that refuses good input, a handle that cannot be
 * removed, an iterator that throws) makes the import itself throw. The import is done inside the
 * test, not at the top of the file: a file that fails to load reports no failed test (vitest
 * records the error on the file), and the mutation run would count it as passing.
 */
describe('importing the package', () => {
  it('succeeds and exports exactly the public API', async () => {
    const pkg = await import('../src/index.js');
    expect(Object.keys(pkg).sort()).toEqual([
      'ConcurrentModificationError',
      'IntervalTree',
      'IntervalTreeError',
      'NodeNotInTreeError',
    ]);
  });

  it('leaves nothing a new tree can see: it starts empty and works at the pinned endpoints', async () => {
    const { IntervalTree } = await import('../src/index.js');
    const t = new IntervalTree<string>();
    expect(t.size).toBe(0);
    expect([...t]).toEqual([]);
    expect(t.iterFirst(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)).toBeUndefined();
    // The endpoints the import-time tree used (2^40, 2^40 + 1) are not in any other tree.
    const BIG = 2 ** 40;
    expect(t.forEachOverlap(BIG, BIG + 1, () => {})).toBe(0);
    const n = t.insert(BIG, BIG + 1, 'x');
    expect([...t.overlaps(BIG + 1, BIG + 1)]).toEqual([n]);
    t.remove(n);
    expect(t.size).toBe(0);
  });
});
