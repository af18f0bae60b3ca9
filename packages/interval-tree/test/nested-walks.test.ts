/**
 * forEachOverlap is re-entrant: a callback may start other walks of the same tree, each of which
 * works on the shared walk stack above the caller's part of it (growing it when a walk could run
 * out of room), and a nested walk stopped with `false` can be continued with iterNext.
 */
import { describe, expect, it } from 'vitest';
import { type IntervalNode, IntervalTree } from '../src/index.js';

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('nested forEachOverlap walks', () => {
  it('a nested whole-range walk reports exactly the whole tree, at every depth of nesting', () => {
    // Each level calls the next from its first node, the leftmost, with the whole left spine of
    // the tree still pending on the shared stack: 40 levels need several times its initial room.
    const N = 2048;
    const DEPTH = 40;
    const t = new IntervalTree<number>();
    for (let i = 0; i < N; i++) t.insert(i, i, i);
    const initialStack = t._stack.length;
    const depthsChecked: number[] = [];
    const walk = (depth: number): number[] => {
      const got: number[] = [];
      const count = t.forEachOverlap(0, N, (n) => {
        got.push(n.value);
        if (got.length === 1 && depth < DEPTH) expect(walk(depth + 1)).toEqual(range(0, N - 1));
      });
      expect(count).toBe(N);
      depthsChecked.push(depth);
      return got;
    };
    expect(walk(0)).toEqual(range(0, N - 1));
    expect(depthsChecked).toEqual(range(0, DEPTH).reverse());
    expect(t._sp).toBe(0);
    expect(t._stack.length).toBeGreaterThan(initialStack);
    // The tree is unchanged and the stack is reused by later walks.
    expect(t.size).toBe(N);
    expect(t.forEachOverlap(100, 199, () => {})).toBe(100);
  });

  it('a nested walk ends with its own query, not with the nodes its caller still has pending', () => {
    const t = new IntervalTree<number>();
    for (let i = 0; i < 300; i++) t.insert(i, i + 1, i);
    const outer: number[] = [];
    const inner: number[][] = [];
    t.forEachOverlap(0, 1000, (n) => {
      outer.push(n.value);
      if (n.value % 50 === 0) {
        const got: number[] = [];
        // The whole line: this walk ends by running out of nodes, not by passing `last`.
        const count = t.forEachOverlap(n.value, Number.MAX_SAFE_INTEGER, (m) => {
          got.push(m.value);
        });
        expect(count).toBe(got.length);
        inner.push(got);
      }
    });
    expect(outer).toEqual(range(0, 299));
    expect(inner).toEqual([0, 50, 100, 150, 200, 250].map((v) => range(Math.max(0, v - 1), 299)));
  });

  it('iterNext continues a nested walk stopped with false, inside the outer walk and after it', () => {
    const t = new IntervalTree<number>();
    for (let i = 0; i < 200; i++) t.insert(i, i + 1, i);
    // Node i overlaps [50, 120] iff i + 1 >= 50 and i <= 120: values 49..120.
    const stopAt = (value: number): IntervalNode<number> => {
      let stop: IntervalNode<number> | undefined;
      const count = t.forEachOverlap(50, 120, (n) => {
        if (n.value !== value) return undefined;
        stop = n;
        return false;
      });
      expect(count).toBe(value - 48);
      return stop!;
    };
    const continueFrom = (node: IntervalNode<number>): number[] => {
      const out: number[] = [];
      for (let n = t.iterNext(node, 50, 120); n; n = t.iterNext(n, 50, 120)) out.push(n.value);
      return out;
    };
    let inside: number[] = [];
    let later: IntervalNode<number> | undefined;
    const outer = t.forEachOverlap(0, 1000, (n) => {
      // From the outer walk's first node, the leftmost: its ancestors are pending below.
      if (n.value === 0) inside = continueFrom(stopAt(60));
      if (n.value === 150) later = stopAt(100);
    });
    expect(outer).toBe(200);
    expect(inside).toEqual(range(61, 120));
    // The outer walk went on without stopping, so the cursor is still where the nested one left
    // it, and iterNext continues from there.
    expect(continueFrom(later!)).toEqual(range(101, 120));
    expect(t._sp).toBe(0);
  });
});
