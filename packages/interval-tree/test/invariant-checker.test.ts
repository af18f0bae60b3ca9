/**
 * The invariant checker (src/invariants.ts, used by every other test through checkInvariants)
 * must report each kind of corruption, with the exact problem. Each test builds a valid tree,
 * confirms the checker accepts it, breaks one thing by writing into the tree's storage (the
 * typed-array records of src/layout.ts, the parent and colour arrays, the handle array or the
 * tree's bookkeeping fields) and asserts the message of the first violation found.
 */
import { describe, expect, it } from 'vitest';
import { type IntervalNode, IntervalTree } from '../src/index.js';
import { checkInvariants } from '../src/invariants.js';
import { F64, I32 } from '../src/layout.js';
import { Color } from '../src/red-black.js';
import type { TreeNode } from '../src/storage.js';

const { BLACK, RED } = Color;

/** The checker's message for `t`, or undefined if it accepts the tree. */
function violation(t: IntervalTree<unknown>): string | undefined {
  try {
    checkInvariants(t);
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(Error);
    return (e as Error).message;
  }
}

const violated = (what: string) => `interval tree invariant violated: ${what}`;

/** Index of Float64 word `word` of slot `s`; of Int32 word `word` of slot `s`. */
const f = (s: number, word: F64) => (s << F64.SHIFT) + word;
const w = (s: number, word: I32) => (s << I32.SHIFT) + word;
const slotOf = (n: IntervalNode<unknown>) => (n as TreeNode<unknown>)._i;

/** Slots of the three-node tree built by {@link threeNodes}. */
const A = 1;
const B = 2;
const C = 3;

/**
 * A valid tree of three nodes whose shape the tests rely on: slot A = [10, 40] is the black
 * root, slot B = [5, 8] its red left child, slot C = [15, 30] its red right child (inserted in
 * that order, no rotation). The root's subtree max, 40, is its own last.
 */
function threeNodes(): IntervalTree<string> {
  const t = new IntervalTree<string>();
  const a = t.insert(10, 40, 'a');
  const b = t.insert(5, 8, 'b');
  const c = t.insert(15, 30, 'c');
  expect([slotOf(a), slotOf(b), slotOf(c)]).toEqual([A, B, C]);
  expect([t._root, t._leftmost, t._c[A], t._c[B], t._c[C]]).toEqual([A, B, BLACK, RED, RED]);
  expect(violation(t)).toBeUndefined();
  return t;
}

/**
 * {@link threeNodes} plus slot 4 = [50, 60], removed again: all three nodes are black now and
 * slot 4 is the only free slot (`_free` 4, `_used` 5).
 */
function withFreeSlot(): IntervalTree<string> {
  const t = threeNodes();
  const d = t.insert(50, 60, 'd');
  expect(slotOf(d)).toBe(4);
  t.remove(d);
  expect([t._free, t._used, t._c[A], t._c[B], t._c[C]]).toEqual([4, 5, BLACK, BLACK, BLACK]);
  expect(violation(t)).toBeUndefined();
  return t;
}

/** {@link threeNodes} plus a fourth node, red, under B (black after the recolouring). */
function withRedUnderB(start: number, last: number): IntervalTree<string> {
  const t = threeNodes();
  const d = t.insert(start, last, 'd');
  expect(slotOf(d)).toBe(4);
  expect([t._c[A], t._c[B], t._c[C], t._c[4], t._p[4]]).toEqual([BLACK, BLACK, BLACK, RED, B]);
  expect(violation(t)).toBeUndefined();
  return t;
}

describe('the invariant checker accepts valid trees', () => {
  it('accepts empty, single-node, rebalanced and emptied trees', () => {
    const t = new IntervalTree<number>();
    expect(violation(t)).toBeUndefined();
    const nodes = [];
    for (let i = 0; i < 100; i++) {
      nodes.push(t.insert(i % 17, (i % 17) + (i % 5), i));
      expect(violation(t)).toBeUndefined();
    }
    for (const n of nodes) {
      t.remove(n);
      expect(violation(t)).toBeUndefined();
    }
    t.clear();
    expect(violation(t)).toBeUndefined();
  });

  it('ignores the sentinel parent word, which balancing uses as scratch space', () => {
    const empty = new IntervalTree<string>();
    empty._p[0] = 3;
    expect(violation(empty)).toBeUndefined();
    const t = threeNodes();
    t._p[0] = A;
    expect(violation(t)).toBeUndefined();
  });
});

describe('the invariant checker reports a broken sentinel (slot 0)', () => {
  type Words = Float64Array | Int32Array | Uint8Array;
  // What changed, which array, which word of it, the value written, the message.
  const cases: [string, (t: IntervalTree<string>) => Words, number, number, string][] = [
    ['its start', (t) => t._f, f(0, F64.START), 0, 'sentinel values changed'],
    ['its subtree max', (t) => t._f, f(0, F64.MAX), 0, 'sentinel values changed'],
    ['its last', (t) => t._f, f(0, F64.LAST), 0, 'sentinel last/colour changed'],
    ['its colour', (t) => t._c, 0, RED, 'sentinel last/colour changed'],
    ['a left child', (t) => t._w, w(0, I32.LEFT), A, 'sentinel has children'],
    ['a right child', (t) => t._w, w(0, I32.RIGHT), A, 'sentinel has children'],
  ];
  for (const [what, words, index, value, message] of cases) {
    it(`reports ${what} changed: "${message}"`, () => {
      const t = threeNodes();
      words(t)[index] = value;
      expect(violation(t)).toBe(violated(message));
    });
  }
});

describe('the invariant checker reports a broken root', () => {
  it('reports a root with a parent', () => {
    const t = threeNodes();
    t._p[A] = B;
    expect(violation(t)).toBe(violated('root has a parent'));
  });

  it('reports a red root', () => {
    const t = threeNodes();
    t._c[A] = RED;
    expect(violation(t)).toBe(violated('root is red'));
  });

  it('reports an empty tree with a leftmost slot', () => {
    const t = new IntervalTree<string>();
    t._leftmost = 1;
    expect(violation(t)).toBe(violated('empty tree has a leftmost'));
  });
});

describe('the invariant checker reports broken links', () => {
  it('reports a slot reachable twice', () => {
    const t = threeNodes();
    t._w[w(A, I32.RIGHT)] = B; // B, whose parent is A, is now both children of A
    expect(violation(t)).toBe(violated('slot 2 reachable twice'));
  });

  it('reports a left child whose parent link points elsewhere', () => {
    const t = threeNodes();
    t._p[B] = C;
    expect(violation(t)).toBe(violated('left child 2 of 1 has parent 3'));
  });

  it('reports a right child whose parent link points elsewhere', () => {
    const t = threeNodes();
    t._p[C] = B;
    expect(violation(t)).toBe(violated('right child 3 of 1 has parent 2'));
  });
});

describe('the invariant checker reports broken red-black rules', () => {
  it('reports a red node with a red left child', () => {
    const t = withRedUnderB(1, 2); // [1, 2] goes left of B
    expect(t._w[w(B, I32.LEFT)]).toBe(4);
    t._c[B] = RED;
    expect(violation(t)).toBe(violated('red node 2 has a red child'));
  });

  it('reports a red node with a red right child', () => {
    const t = withRedUnderB(7, 7); // [7, 7] goes right of B
    expect(t._w[w(B, I32.RIGHT)]).toBe(4);
    t._c[B] = RED;
    expect(violation(t)).toBe(violated('red node 2 has a red child'));
  });

  it('reports a colour that is neither red nor black', () => {
    const t = threeNodes();
    t._c[C] = 2;
    expect(violation(t)).toBe(violated('bad colour at 3'));
  });

  it('reports unequal black heights, with both heights', () => {
    const t = threeNodes();
    t._c[B] = BLACK; // left path: B and nil (2 black); right path: red C, nil (1 black)
    expect(violation(t)).toBe(violated('black heights differ at 1: 2 vs 1'));
  });

  it('reports unequal black heights deeper down', () => {
    const t = withRedUnderB(1, 2);
    t._c[4] = BLACK; // under B: [1, 2] and nil (2 black) against nil (1 black)
    expect(violation(t)).toBe(violated('black heights differ at 2: 2 vs 1'));
  });
});

describe('the invariant checker reports broken interval data', () => {
  it('reports starts out of order', () => {
    const t = threeNodes();
    t._f[f(C, F64.START)] = 9; // C follows A (start 10) in order
    expect(violation(t)).toBe(violated('start order broken at slot 3'));
  });

  it('reports a start greater than its last', () => {
    const t = threeNodes();
    t._f[f(C, F64.START)] = 31; // still after A's start, but past C's last (30)
    expect(violation(t)).toBe(violated('start > last at slot 3'));
  });

  it('reports a wrong subtree max, with the stored and the true value', () => {
    const t = threeNodes();
    t._f[f(A, F64.MAX)] = 35;
    expect(violation(t)).toBe(violated('subtree max at 1 is 35, expected 40'));
  });

  it('reports a wrong subtree max at a leaf', () => {
    const t = threeNodes();
    t._f[f(C, F64.MAX)] = 31;
    expect(violation(t)).toBe(violated('subtree max at 3 is 31, expected 30'));
  });

  it('reports a cached leftmost that is not the first node', () => {
    const t = threeNodes();
    t._leftmost = A;
    expect(violation(t)).toBe(violated('leftmost is 1, not 2'));
  });
});

describe('the invariant checker reports broken handles and counts', () => {
  it('reports a slot without a handle', () => {
    const t = threeNodes();
    t._nodes[C] = undefined;
    expect(violation(t)).toBe(violated('handle of slot 3'));
  });

  it("reports a handle that names another slot (another node's handle)", () => {
    const t = threeNodes();
    t._nodes[C] = t._nodes[A];
    expect(violation(t)).toBe(violated('handle of slot 3'));
  });

  it('reports a handle of the same slot in another tree', () => {
    const t = threeNodes();
    const other = threeNodes();
    t._nodes[C] = other._nodes[C];
    expect(violation(t)).toBe(violated('handle of slot 3'));
  });

  it('reports a size that does not match the nodes reachable from the root', () => {
    const t = threeNodes();
    t._w[w(A, I32.RIGHT)] = 0; // C unlinked; A's max (its own last, 40) and black heights hold
    expect(violation(t)).toBe(violated('size is 3, counted 2'));
  });
});

describe('the invariant checker reports a broken free list', () => {
  it('reports a free slot that is still in the tree', () => {
    const t = withFreeSlot();
    t._free = B;
    expect(violation(t)).toBe(violated('free slot 2 is also in the tree'));
  });

  it('reports a free slot that still has a handle', () => {
    const t = withFreeSlot();
    t._nodes[4] = t._nodes[A];
    expect(violation(t)).toBe(violated('free slot 4 still has a handle'));
  });

  it('reports a free slot that still holds a value', () => {
    const t = withFreeSlot();
    t._vals[4] = 'stale' as never;
    expect(violation(t)).toBe(violated('free slot 4 still holds a value'));
  });

  it('reports a free list that cycles', () => {
    const t = withFreeSlot();
    t._w[w(4, I32.RIGHT)] = 4;
    expect(violation(t)).toBe(violated('free list cycles'));
  });

  it('reports a used slot that is neither live nor free (a leaked slot)', () => {
    const t = withFreeSlot();
    t._free = 0;
    expect(violation(t)).toBe(violated('slots: 3 live + 0 free != 4 used'));
  });

  it('reports a free list longer than the unused slots', () => {
    const t = withFreeSlot();
    t._used = 4; // slot 4 is free but lies beyond the used slots
    expect(violation(t)).toBe(violated('slots: 3 live + 1 free != 3 used'));
  });
});
