/**
 * A stored interval: the handle returned by {@link IntervalTree.insert}, passed back to
 * `remove()`, `has()` and `iterNext()`. `start` and `last` are fixed at insert; `value` is yours.
 * Like the kernel's `struct interval_tree_node` (`last` is inclusive).
 */
export interface IntervalNode<T> {
  /** First point of the closed interval. */
  readonly start: number;
  /** Last point of the closed interval (inclusive). */
  readonly last: number;
  /** The payload given to `insert()`; may be reassigned. */
  value: T;
}
