import type { IntervalTree } from './interval-tree.js';

/**
 * Keeps V8's hidden classes (maps) of the hot-path objects alive: a tree, a node handle and both
 * iterators. When no instance of a class is alive at a full GC, V8 may collect its maps, and every
 * optimised function that embedded them is deoptimised ("weak objects") and has to warm up again:
 * measured as a 10x slower insert loop on a fresh tree, in a program that had dropped its last
 * tree. IntervalTree calls this once, from a static field initialiser (`#pinned`), and holds the
 * result in that field: a static field lives as long as the class, whereas an unexported
 * top-level variable of the bundled dist/index.js is unreachable once the module has run.
 *
 * The pinned objects must hold the maps later objects get, so their fields are exercised here with
 * their most general values: numbers beyond the small-integer range (a Smi field that later
 * receives a double moves its object to a new map) and a value field that has held both a number
 * and something else. Removing the node also settles its owner field to its general type.
 *
 * This runs on import, yet package.json says `"sideEffects": false`, and that is correct: the pin
 * matters only to code that uses IntervalTree, and it is part of the class itself, so a bundler
 * keeps it exactly when it keeps the class. (It must not move into a module imported only for its
 * side effect: `sideEffects: false` allows a bundler to drop such a module.)
 */
// Stryker disable next-line BlockStatement: equivalent: speed only: the pin keeps V8's hidden classes alive; no behaviour depends on it.
export function pinMaps(tree: IntervalTree<unknown>): readonly unknown[] {
  const BIG = 2 ** 40;
  const node = tree.insert(BIG, BIG + 1, 0);
  node.value = undefined;
  tree.iterFirst(BIG, BIG);
  const overlaps = tree.overlaps(BIG + 1, BIG + 1);
  overlaps.next();
  // Stryker disable next-line ArrowFunction,BooleanLiteral: equivalent: speed only: the walk has one node, so stopping at it or not makes the same call.
  tree.forEachOverlap(BIG, BIG, () => false);
  tree.remove(node);
  // Stryker disable next-line ArrayDeclaration: equivalent: speed only: the objects are held to keep their hidden classes alive, never read.
  return [tree, node, overlaps, tree[Symbol.iterator]()];
}
