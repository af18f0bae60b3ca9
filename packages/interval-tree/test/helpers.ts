import { IntervalTree } from '../src/index.js';
import { checkInvariants } from '../src/invariants.js';

/** Everything observable about a tree, to assert that a failed call changed nothing. */
export function snapshot<T>(t: IntervalTree<T>): unknown {
  checkInvariants(t);
  return {
    size: t.size,
    nodes: [...t].map((n) => [n, n.start, n.last, n.value]),
    internals: [t._root, t._leftmost, t._used, t._free, t._mod, [...t._c.slice(0, t._used)]],
  };
}

/** A small tree of three intervals: [1,5] 'a', [3,3] 'b', [10,20] 'c'. */
export function sample(): IntervalTree<string> {
  const t = new IntervalTree<string>();
  t.insert(1, 5, 'a');
  t.insert(3, 3, 'b');
  t.insert(10, 20, 'c');
  return t;
}
