/**
 * Base class of the errors this package defines: catch it to catch any of them. Bad arguments
 * are reported with the built-in `TypeError` and `RangeError` instead. The tree throws only the
 * subclasses below, always before it changes anything. Every message starts with the method
 * that refused, e.g. `IntervalTree.remove: ...`.
 */
export class IntervalTreeError extends Error {
  override readonly name: string = 'IntervalTreeError';
}

/**
 * Thrown by {@link IntervalTree.remove} and {@link IntervalTree.iterNext} when the node handle is
 * not currently stored in this tree: it was created by another tree, or it was already removed
 * (or dropped by `clear()`). Nothing is changed when it is thrown.
 *
 * The kernel leaves this undefined (`interval_tree_remove()` of a node that is not linked
 * corrupts the rbtree); the mmu notifier core avoids it by tracking membership with
 * `RB_EMPTY_NODE()`. Here it is a checked, recoverable error.
 */
export class NodeNotInTreeError extends IntervalTreeError {
  override readonly name = 'NodeNotInTreeError';
}

/**
 * Thrown by an iterator from {@link IntervalTree.overlaps} or `[Symbol.iterator]()`, on its next
 * step, when the tree was modified (insert, remove or clear) after the iterator was created; and
 * by {@link IntervalTree.forEachOverlap} when its callback modified the tree without stopping the
 * walk.
 *
 * The kernel requires that the tree is not modified between `interval_tree_iter_first()` and the
 * last `interval_tree_iter_next()` (the mmu notifier core defers changes while it walks); here a
 * violation is detected with a modification counter instead of silently skipping or repeating.
 */
export class ConcurrentModificationError extends IntervalTreeError {
  override readonly name = 'ConcurrentModificationError';
}
