import { first, next } from './cursor.js';
import { ConcurrentModificationError } from './errors.js';
import type { IntervalNode } from './interval-node.js';
import type { IntervalTree } from './interval-tree.js';
import { successor } from './red-black.js';

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/**
 * Lazy walk over the overlaps of one query (`IntervalTree.overlaps()`). Each step is one cursor
 * step (cursor.ts) from the previous slot, so the tree must not change between steps: the
 * modification counter captured at creation is compared on every step.
 */
export class OverlapIterator<T> implements IterableIterator<IntervalNode<T>> {
  private readonly _tree: IntervalTree<T>;
  private readonly _start: number;
  private readonly _last: number;
  private readonly _mod: number;
  /** -1 before the first step, 0 once exhausted, else the slot last returned. */
  private _slot = -1;

  constructor(tree: IntervalTree<T>, start: number, last: number) {
    this._tree = tree;
    this._start = start;
    this._last = last;
    this._mod = tree._mod;
  }

  next(): IteratorResult<IntervalNode<T>, undefined> {
    const prev = this._slot;
    if (prev === 0) return DONE;
    const tree = this._tree;
    if (tree._mod !== this._mod) {
      throw new ConcurrentModificationError(
        'IntervalTree.overlaps() iterator.next: the tree was modified during the iteration',
      );
    }
    // Stryker disable EqualityOperator: equivalent: prev is not 0 here (0 returned DONE above), so < 0 and <= 0 agree.
    const n =
      prev < 0 ? first(tree, this._start, this._last) : next(tree, prev, this._start, this._last);
    // Stryker restore EqualityOperator
    this._slot = n;
    if (n === 0) return DONE;
    return { done: false, value: tree._nodes[n]! };
  }

  [Symbol.iterator](): this {
    return this;
  }
}

/**
 * In-order walk over every node (`IntervalTree[Symbol.iterator]()`), with the same modification
 * check as OverlapIterator.
 */
export class InOrderIterator<T> implements IterableIterator<IntervalNode<T>> {
  private readonly _tree: IntervalTree<T>;
  private readonly _mod: number;
  /** -1 before the first step, 0 once exhausted, else the slot last returned. */
  private _slot = -1;

  constructor(tree: IntervalTree<T>) {
    this._tree = tree;
    this._mod = tree._mod;
  }

  next(): IteratorResult<IntervalNode<T>, undefined> {
    const prev = this._slot;
    if (prev === 0) return DONE;
    const tree = this._tree;
    if (tree._mod !== this._mod) {
      throw new ConcurrentModificationError(
        'IntervalTree[Symbol.iterator]() iterator.next: the tree was modified during the iteration',
      );
    }
    // Stryker disable next-line EqualityOperator: equivalent: prev is not 0 here (0 returned DONE above), so < 0 and <= 0 agree.
    const n = prev < 0 ? tree._leftmost : successor(tree, prev);
    this._slot = n;
    if (n === 0) return DONE;
    return { done: false, value: tree._nodes[n]! };
  }

  [Symbol.iterator](): this {
    return this;
  }
}
