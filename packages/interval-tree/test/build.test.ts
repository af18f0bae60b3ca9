import { describe, expect, it } from 'vitest';
import * as built from '../dist/index.js';

describe('the built package (dist)', () => {
  it('exports the API and it works end to end', () => {
    const { IntervalTree, IntervalTreeError, NodeNotInTreeError, ConcurrentModificationError } =
      built;
    const t = new IntervalTree<string>();
    const a = t.insert(10, 19, 'a');
    const b = t.insert(15, 15, 'b');
    t.insert(30, 39, 'c');
    expect(t.size).toBe(3);
    expect([...t.overlaps(15, 30)].map((n) => n.value)).toEqual(['a', 'b', 'c']);
    expect(t.iterNext(t.iterFirst(15, 15)!, 15, 15)).toBe(b);
    expect(t.forEachOverlap(0, 100, () => {})).toBe(3);
    t.remove(a);
    expect(t.has(a)).toBe(false);
    expect(() => t.remove(a)).toThrow(NodeNotInTreeError);
    expect(() => t.remove(a)).toThrow(IntervalTreeError);
    expect(() => t.remove(a)).toThrow(/^IntervalTree\.remove: /);
    const it2 = t.overlaps(0, 100);
    t.insert(1, 1, 'd');
    expect(() => it2.next()).toThrow(ConcurrentModificationError);
    expect(() => t.insert(2, 1, 'bad')).toThrow(RangeError);
    t.clear();
    expect(t.size).toBe(0);
    expect(Object.keys(built).sort()).toEqual([
      'ConcurrentModificationError',
      'IntervalTree',
      'IntervalTreeError',
      'NodeNotInTreeError',
    ]);
  });
});
