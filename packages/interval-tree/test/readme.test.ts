import { expect, it } from 'vitest';
import { IntervalTree } from '../src/index.js';

it('runs the README usage example with the outputs it shows', () => {
  const out: string[] = [];
  const tree = new IntervalTree<string>();
  const a = tree.insert(0x1000, 0x1fff, 'text');
  tree.insert(0x2000, 0x2fff, 'data');
  tree.insert(0x1800, 0x27ff, 'mirror');
  for (const node of tree.overlaps(0x1f00, 0x2000)) out.push(node.value);
  expect(out).toEqual(['text', 'mirror', 'data']);
  const kernel: string[] = [];
  for (let n = tree.iterFirst(0x2000, 0x2000); n; n = tree.iterNext(n, 0x2000, 0x2000)) {
    kernel.push(`${n.start.toString(16)} ${n.last.toString(16)} ${n.value}`);
  }
  expect(kernel).toEqual(['1800 27ff mirror', '2000 2fff data']);
  let first: string | undefined;
  const visited = tree.forEachOverlap(0, Number.MAX_SAFE_INTEGER, (n) => {
    first = n.value;
    return false;
  });
  expect([visited, first]).toEqual([1, 'text']);
  const names: string[] = [];
  const hits = tree.forEachOverlapValue(0x2000, 0x2000, (start, last, value) => {
    names.push(`${value} [${start.toString(16)}, ${last.toString(16)}]`);
  });
  expect([hits, names]).toEqual([2, ['mirror [1800, 27ff]', 'data [2000, 2fff]']]);
  tree.remove(a);
  expect(tree.has(a)).toBe(false);
});
