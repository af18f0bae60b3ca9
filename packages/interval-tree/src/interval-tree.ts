import { compact, shouldCompact } from './compact.js';
import { clearCursor, first, next, resume } from './cursor.js';
import type { ConcurrentModificationError } from './errors.js';
import type { IntervalNode } from './interval-node.js';
import { InOrderIterator, OverlapIterator } from './iterators.js';
import { F64, I32 } from './layout.js';
import { eraseSlot, insertSlot, successor } from './red-black.js';
import { allocSlot, freeSlot, resetStorage, slotOf, TreeNode } from './storage.js';
import { pinMaps } from './v8-maps.js';
import { checkInterval } from './validate.js';
import { growStack, STACK_FRAME, walkNodes, walkValues } from './walk.js';

/**
 * An augmented red-black tree of closed intervals `[start, last]` over safe integers, ordered by
 * `start` (equal starts in insertion order), each node carrying the largest `last` of its
 * subtree. The Linux kernel's `INTERVAL_TREE_DEFINE()` (include/linux/interval_tree_generic.h).
 * Duplicates are separate nodes.
 *
 * Every method is synchronous. The tree must not be modified while a walk is in progress:
 * `overlaps()`, `[Symbol.iterator]()` and `forEachOverlap` detect it and throw
 * {@link ConcurrentModificationError}; `iterFirst`/`iterNext`, as in the kernel, leave it to the
 * caller.
 */
export class IntervalTree<T> implements Iterable<IntervalNode<T>> {
  // How it works: one 32-byte record per slot in an ArrayBuffer (layout.ts), parent and colour
  // in side arrays, values and handles in arrays by slot, slot 0 the nil sentinel; storage.ts
  // allocates and frees slots and makes the handles, red-black.ts links and unlinks them,
  // compact.ts moves them back into tree order, walk.ts and cursor.ts walk them. The fields are
  // declared here, in one object, so that every walk reaches them with one load.

  // Storage (storage.ts): records, handles, free list.
  /** @internal records as Float64 words (start, last, max) */
  _f: Float64Array;
  /** @internal the same records as Int32 words (left, right) */
  _w: Int32Array;
  /** @internal parent slot (0 = none) */
  _p: Int32Array;
  /** @internal colour (red-black.ts Color) */
  _c: Uint8Array;
  /** @internal handle by slot */
  _nodes: (TreeNode<T> | undefined)[];
  /** @internal value by slot */
  _vals: (T | undefined)[];
  // Tree shape (red-black.ts).
  /** @internal root slot */
  _root = 0;
  /** @internal leftmost slot (the kernel's rb_root_cached.rb_leftmost) */
  _leftmost = 0;
  // Storage, continued (declaration order is the order of the fields in the object).
  /** @internal first slot never used */
  _used = 1;
  /** @internal head of the free-slot list (chained through the right-child word) */
  _free = 0;
  /** @internal modification counter, bumped by insert, remove, clear and compaction */
  _mod = 0;
  /** @internal inserts since the last compaction (compact.ts) */
  _inserted = 0;
  // forEachOverlap.
  /** @internal forEachOverlap's walk stack, shared by nested calls */
  _stack = new Int32Array(2 * STACK_FRAME);
  /** @internal first free entry of `_stack` */
  _sp = 0;
  // The walk cursor (cursor.ts).
  /** @internal the pending ancestors of the cursor's walk */
  _curStack = new Int32Array(STACK_FRAME);
  /** @internal how many entries of `_curStack` are pending */
  _curSp = 0;
  /** @internal the slot where the cursor stopped (0 = none) */
  _curSlot = 0;
  /** @internal the handle of `_curSlot` */
  _curNode: TreeNode<T> | undefined = undefined;
  /** @internal the cursor's query: start */
  _curStart = 0;
  /** @internal the cursor's query: last */
  _curLast = 0;
  /** @internal the `_mod` the cursor's walk saw */
  _curMod = -1;
  /** Number of intervals stored (`size`). */
  #size = 0;

  /**
   * A tiny tree, node and iterators kept alive for as long as this class is, so that V8 keeps
   * their hidden classes (v8-maps.ts). A static field: whatever loads the class creates it, and
   * it stays reachable (an unexported top-level variable of the bundle would be collected).
   */
  // biome-ignore lint/correctness/noUnusedPrivateClassMembers: held, never read, on purpose
  static readonly #pinned: readonly unknown[] = pinMaps(new IntervalTree<unknown>());

  /** An empty tree. */
  constructor() {
    this._f = new Float64Array(0);
    this._w = new Int32Array(0);
    this._p = new Int32Array(0);
    this._c = new Uint8Array(0);
    // Stryker disable next-line ArrayDeclaration: equivalent: resetStorage() replaces it at once.
    this._nodes = [];
    // Stryker disable next-line ArrayDeclaration: equivalent: resetStorage() replaces it at once.
    this._vals = [];
    resetStorage(this);
  }

  /** Number of intervals stored. */
  get size(): number {
    return this.#size;
  }

  /**
   * Stores the closed interval `[start, last]` with `value` and returns its handle. O(log n).
   * Duplicates are allowed; among equal starts the new node goes after the existing ones.
   * Like `interval_tree_insert()`.
   * @throws TypeError if an endpoint is not a number; RangeError if it is not a safe integer,
   * if `start > last`, or if the tree already holds 2^28 - 1 intervals. Nothing is changed then.
   */
  insert(start: number, last: number, value: T): IntervalNode<T> {
    checkInterval(start, last, 'IntervalTree.insert');
    const s = allocSlot(this);
    insertSlot(this, s, start, last);
    const node = new TreeNode<T>(this, s);
    const nodes = this._nodes;
    // Stryker disable next-line ConditionalExpression: equivalent: assigning nodes[nodes.length] appends, as push() does.
    if (s === nodes.length) {
      nodes.push(node);
      this._vals.push(value);
    } else {
      nodes[s] = node;
      this._vals[s] = value;
    }
    this.#size++;
    this._mod++;
    this._inserted++;
    if (shouldCompact(this)) compact(this);
    return node;
  }

  /**
   * Removes `node` from the tree. O(log n). Afterwards the handle keeps its `start`, `last` and
   * `value` but `has(node)` is false. Like `interval_tree_remove()`.
   * @throws TypeError if `node` is not a handle from an IntervalTree; NodeNotInTreeError if it
   * belongs to another tree or was already removed. Nothing is changed then.
   */
  remove(node: IntervalNode<T>): void {
    const z = slotOf(this, node, 'IntervalTree.remove');
    if (z === this._leftmost) this._leftmost = successor(this, z);
    eraseSlot(this, z);
    freeSlot(this, z);
    this.#size--;
    this._mod++;
  }

  /**
   * True if `node` is currently stored in this tree. O(1). Never throws. The kernel's callers
   * track this themselves with `RB_EMPTY_NODE()` (mmu_notifier.c).
   */
  has(node: IntervalNode<T>): boolean {
    return node instanceof TreeNode && node._o === this;
  }

  /**
   * The first stored interval (lowest start, earliest inserted among equal starts) overlapping
   * `[start, last]`, or undefined. O(log n); O(1) when the query lies left of every start or
   * right of every last. Like `interval_tree_iter_first()`.
   * @throws TypeError / RangeError for bad endpoints, as `insert`.
   */
  iterFirst(start: number, last: number): IntervalNode<T> | undefined {
    checkInterval(start, last, 'IntervalTree.iterFirst');
    const n = first(this, start, last);
    // Stryker disable next-line ConditionalExpression: equivalent: _nodes[0] is undefined (slot 0, the sentinel, has no handle), so both arms give undefined.
    return n === 0 ? undefined : this._nodes[n];
  }

  /**
   * The next stored interval after `node` (in tree order) overlapping `[start, last]`, or
   * undefined. O(log n) worst case per call. `node` is normally the previous result for the same
   * query, but may be any node of this tree; the tree must not have been modified since the walk
   * began. Like `interval_tree_iter_next()`.
   * @throws NodeNotInTreeError if `node` is not in this tree; TypeError if it is not a node
   * handle; TypeError / RangeError for bad endpoints, as `insert`.
   */
  iterNext(node: IntervalNode<T>, start: number, last: number): IntervalNode<T> | undefined {
    // Fast path: `node` is the one the cursor stopped at, for this very (already checked) query,
    // on an unmodified tree. Compared by identity so the handle's memory is not touched: the walk
    // then never waits on a cache miss for the node the caller is still looking at.
    // Stryker disable BlockStatement: equivalent: a shortcut: the general path below gives the same node.
    if (
      node === this._curNode &&
      this._curSlot !== 0 &&
      start === this._curStart &&
      last === this._curLast &&
      this._mod === this._curMod
    ) {
      const right = this._w[(this._curSlot << I32.SHIFT) + I32.RIGHT]!;
      const n = resume(this, right, this._curSp, start, last);
      // Stryker disable next-line ConditionalExpression: equivalent: _nodes[0] is undefined (slot 0, the sentinel, has no handle), so both arms give undefined.
      return n === 0 ? undefined : this._nodes[n];
    }
    // Stryker restore BlockStatement
    const i = slotOf(this, node, 'IntervalTree.iterNext');
    checkInterval(start, last, 'IntervalTree.iterNext');
    const n = next(this, i, start, last);
    // Stryker disable next-line ConditionalExpression: equivalent: _nodes[0] is undefined (slot 0, the sentinel, has no handle), so both arms give undefined.
    return n === 0 ? undefined : this._nodes[n];
  }

  /**
   * Iterates every stored interval overlapping `[start, last]`, in tree order: the kernel's
   * `for (n = iter_first(); n; n = iter_next(n))` loop as an iterator. The endpoints are checked
   * now; the walk is lazy. If the tree is modified before the iterator is exhausted, its
   * next step throws ConcurrentModificationError.
   * @throws TypeError / RangeError for bad endpoints, as `insert`.
   */
  overlaps(start: number, last: number): IterableIterator<IntervalNode<T>> {
    checkInterval(start, last, 'IntervalTree.overlaps');
    return new OverlapIterator(this, start, last);
  }

  /**
   * Calls `fn` for every stored interval overlapping `[start, last]`, in tree order, allocating
   * nothing. If `fn` returns `false` the walk stops. Returns the number of calls made (including
   * the one that returned false). `fn` may modify the tree only if it then returns `false`;
   * otherwise ConcurrentModificationError is thrown after it returns. `fn` may start other walks
   * of this tree (re-entrant). After a stop, `iterNext(node, start, last)` with the node `fn`
   * stopped at continues the same walk cheaply. The kernel's iter_first/iter_next loop with the
   * body inlined, as in mn_itree_invalidate().
   * @throws TypeError / RangeError for bad endpoints; TypeError if `fn` is not a function.
   */
  forEachOverlap(start: number, last: number, fn: (node: IntervalNode<T>) => void | false): number {
    checkInterval(start, last, 'IntervalTree.forEachOverlap');
    if (typeof fn !== 'function') {
      throw new TypeError('IntervalTree.forEachOverlap: fn must be a function');
    }
    const F = this._f;
    // Stryker disable ConditionalExpression,LogicalOperator,BlockStatement: equivalent: a shortcut: the walk finds nothing in the same cases.
    if (
      F[(this._root << F64.SHIFT) + F64.MAX]! < start ||
      F[(this._leftmost << F64.SHIFT) + F64.START]! > last
    ) {
      return 0;
    }
    // Stryker restore ConditionalExpression,LogicalOperator,BlockStatement
    // The stack is shared by nested (re-entrant) calls from inside fn: each call works above
    // `_sp` and restores it on exit.
    const base = this._sp;
    // Stryker disable next-line EqualityOperator: equivalent: growing when exactly one frame is left changes no walk.
    if (base + STACK_FRAME > this._stack.length) growStack(this, base + STACK_FRAME);
    try {
      return walkNodes(this, start, last, fn, base);
    } finally {
      this._sp = base;
    }
  }

  /**
   * Calls `fn(start, last, value)` for every stored interval overlapping `[start, last]`, in tree
   * order, allocating nothing and touching no handle: the fastest way to read hits. Otherwise the
   * same contract as {@link IntervalTree.forEachOverlap}: returning `false` stops the walk, the
   * result is the number of calls made, `fn` may modify the tree only if it then returns `false`
   * (else ConcurrentModificationError), and `fn` may start other walks of this tree. Use
   * `forEachOverlap` instead when you need the handle, e.g. to remove what you find.
   * @throws TypeError / RangeError for bad endpoints; TypeError if `fn` is not a function.
   */
  forEachOverlapValue(
    start: number,
    last: number,
    fn: (start: number, last: number, value: T) => void | false,
  ): number {
    checkInterval(start, last, 'IntervalTree.forEachOverlapValue');
    if (typeof fn !== 'function') {
      throw new TypeError('IntervalTree.forEachOverlapValue: fn must be a function');
    }
    const F = this._f;
    // Stryker disable ConditionalExpression,LogicalOperator,BlockStatement: equivalent: a shortcut: the walk finds nothing in the same cases.
    if (
      F[(this._root << F64.SHIFT) + F64.MAX]! < start ||
      F[(this._leftmost << F64.SHIFT) + F64.START]! > last
    ) {
      return 0;
    }
    // Stryker restore ConditionalExpression,LogicalOperator,BlockStatement
    const base = this._sp;
    // Stryker disable next-line EqualityOperator: equivalent: growing when exactly one frame is left changes no walk.
    if (base + STACK_FRAME > this._stack.length) growStack(this, base + STACK_FRAME);
    try {
      return walkValues(this, start, last, fn, base);
    } finally {
      this._sp = base;
    }
  }

  /**
   * Iterates all stored intervals in tree order (ascending start, insertion order among equal
   * starts). Modification before the iterator is exhausted makes its next step throw
   * ConcurrentModificationError.
   */
  [Symbol.iterator](): IterableIterator<IntervalNode<T>> {
    return new InOrderIterator(this);
  }

  /**
   * Removes every interval. O(n): each handle is detached (keeps start, last and value;
   * `has()` becomes false) and storage shrinks back to its initial capacity.
   */
  clear(): void {
    const nodes = this._nodes;
    // Stryker disable next-line EqualityOperator: equivalent: nodes[nodes.length] is undefined, which ?. skips.
    for (let i = 1; i < nodes.length; i++) nodes[i]?._detach();
    clearCursor(this);
    resetStorage(this);
    this._root = 0;
    this._leftmost = 0;
    this.#size = 0;
    this._mod++;
  }
}
