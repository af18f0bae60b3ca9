import { ConcurrentModificationError, NodeNotInTreeError } from './errors.js';
import { type IntervalNode, type SlotStore, TreeNode } from './interval-node.js';
import { InOrderIterator, OverlapIterator } from './iterators.js';
import { MAX_SLOTS } from './layout.js';
import { checkInterval } from './validate.js';

const RED = 1;
const BLACK = 0;
const INITIAL_CAPACITY = 16;
/**
 * Stack entries one forEachOverlap call may need: the tree height, which for a red-black tree of
 * at most MAX_SLOTS = 2^28 nodes is at most 2 log2(2^28 + 1) < 58.
 */
const STACK_FRAME = 64;

// Record layout (see layout.ts), written out literally in the hot code below:
//   F[(n << 2) + 0] start, F[(n << 2) + 1] last, F[(n << 2) + 2] subtree max,
//   W[(n << 3) + 6] left, W[(n << 3) + 7] right;  P[n] parent, C[n] colour.

/**
 * An augmented red-black tree of closed intervals `[start, last]` over safe integers, keyed by
 * `start`, each node carrying the largest `last` of its subtree. The kernel's
 * `INTERVAL_TREE_DEFINE()` (include/linux/interval_tree_generic.h) over an `rb_root_cached`.
 *
 * Layout: one 32-byte record per slot in an ArrayBuffer (layout.ts), parent and colour in side
 * arrays; slot 0 is the nil sentinel (start +Infinity, last and subtree max -Infinity, black), so
 * walks need no nil checks. Freed slots are chained through the right-child word. The handle
 * returned to users is a small object holding the owner and the slot.
 *
 * Order: ascending `start`; an equal start descends right, so equal starts keep insertion order
 * (rotations preserve the in-order sequence). Duplicates are separate nodes.
 *
 * Nothing here awaits or waits for anything: every method is synchronous and the caller holds no
 * lock (in one thread, a synchronous method is atomic). The tree must not be modified while a
 * walk is in progress: iterators and `forEachOverlap` detect that with a modification counter
 * (`_mod`); `iterFirst`/`iterNext`, as in the kernel, leave it to the caller (the mmu notifier
 * core defers tree changes while it walks).
 */
export class IntervalTree<T> implements Iterable<IntervalNode<T>>, SlotStore {
  /** @internal records as Float64 words (start, last, max) */
  _f: Float64Array;
  /** @internal the same records as Int32 words (left, right) */
  _w: Int32Array;
  /** @internal parent slot (0 = none) */
  _p: Int32Array;
  /** @internal colour (RED = 1, BLACK = 0) */
  _c: Uint8Array;
  /** @internal handle by slot */
  _nodes: (TreeNode<T> | undefined)[];
  /** @internal root slot */
  _root = 0;
  /** @internal leftmost slot (the kernel's rb_root_cached.rb_leftmost) */
  _leftmost = 0;
  /** @internal first slot never used */
  _used = 1;
  /** @internal head of the free-slot list (chained through the right-child word) */
  _free = 0;
  /** @internal modification counter, bumped by insert, remove and clear */
  _mod = 0;
  /** @internal forEachOverlap's walk stack, shared by nested calls */
  _stack = new Int32Array(2 * STACK_FRAME);
  /** @internal first free entry of `_stack` */
  _sp = 0;
  /**
   * @internal The cursor: where the most recent iterFirst/iterNext/overlaps step stopped (slot 0 =
   * none), for which query and tree version, and the walk's pending ancestors. It is only a
   * shortcut: a walk that does not match it rebuilds the same state from parent links.
   */
  _cStack = new Int32Array(STACK_FRAME);
  /** @internal */
  _cSp = 0;
  /** @internal */
  _cSlot = 0;
  /** @internal the handle of `_cSlot` */
  _cNode: TreeNode<T> | undefined = undefined;
  /** @internal */
  _cStart = 0;
  /** @internal */
  _cLast = 0;
  /** @internal */
  _cMod = -1;
  private _size = 0;

  constructor() {
    this._f = new Float64Array(0);
    this._w = new Int32Array(0);
    this._p = new Int32Array(0);
    this._c = new Uint8Array(0);
    this._nodes = [];
    this._reset();
  }

  /** Number of intervals stored. */
  get size(): number {
    return this._size;
  }

  /**
   * Stores the closed interval `[start, last]` with `value` and returns its handle. O(log n).
   * Duplicates are allowed; among equal starts the new node goes after the existing ones.
   * Like `interval_tree_insert()`.
   * @throws TypeError if an endpoint is not a number; RangeError if it is not a safe integer or
   * `start > last`. Nothing is changed then.
   */
  insert(start: number, last: number, value: T): IntervalNode<T> {
    checkInterval(start, last, 'IntervalTree.insert');
    const s = this._allocSlot();
    const F = this._f;
    const W = this._w;
    F[s << 2] = start;
    F[(s << 2) + 1] = last;
    F[(s << 2) + 2] = last;
    W[(s << 3) + 6] = 0;
    W[(s << 3) + 7] = 0;
    this._c[s] = RED;
    // Walk down raising each ancestor's subtree max on the way, as the kernel does.
    let parent = 0;
    let link = 0; // Int32 index of the child word to set in `parent`
    let n = this._root;
    let leftmost = true;
    while (n !== 0) {
      parent = n;
      const mi = (n << 2) + 2;
      if (F[mi]! < last) F[mi] = last;
      if (start < F[n << 2]!) {
        link = (n << 3) + 6;
      } else {
        link = (n << 3) + 7;
        leftmost = false;
      }
      n = W[link]!;
    }
    this._p[s] = parent;
    if (parent === 0) this._root = s;
    else W[link] = s;
    if (leftmost) this._leftmost = s;
    this._insertFixup(s);
    const node = new TreeNode<T>(this, s, value);
    const nodes = this._nodes;
    if (s === nodes.length) nodes.push(node);
    else nodes[s] = node;
    this._size++;
    this._mod++;
    return node;
  }

  /**
   * Removes `node` from the tree. O(log n). Afterwards the handle keeps its `start`, `last` and
   * `value` but `has(node)` is false. Like `interval_tree_remove()`.
   * @throws TypeError if `node` is not a handle from an IntervalTree; NodeNotInTreeError if it
   * belongs to another tree or was already removed. Nothing is changed then.
   */
  remove(node: IntervalNode<T>): void {
    const z = this._slotOf(node, 'IntervalTree.remove');
    if (z === this._leftmost) this._leftmost = this._successor(z);
    this._erase(z);
    const handle = this._nodes[z]!;
    handle._detach();
    this._nodes[z] = undefined;
    this._w[(z << 3) + 7] = this._free;
    this._free = z;
    this._size--;
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
    const n = this._first(start, last);
    return n === 0 ? undefined : this._nodes[n];
  }

  /**
   * The next stored interval after `node` (in tree order) overlapping `[start, last]`, or
   * undefined. O(log n) worst case per call. `node` is normally the previous result for the same
   * query; the tree must not have been modified since the walk began. Like
   * `interval_tree_iter_next()`.
   * @throws NodeNotInTreeError if `node` is not in this tree; TypeError / RangeError as `insert`.
   */
  iterNext(node: IntervalNode<T>, start: number, last: number): IntervalNode<T> | undefined {
    // Fast path: `node` is the one the cursor stopped at, for this very (already checked) query,
    // on an unmodified tree. Compared by identity so the handle's memory is not touched: the walk
    // then never waits on a cache miss for the node the caller is still looking at.
    if (
      node === this._cNode &&
      this._cSlot !== 0 &&
      start === this._cStart &&
      last === this._cLast &&
      this._mod === this._cMod
    ) {
      const n = this._resume(this._w[(this._cSlot << 3) + 7]!, this._cSp, start, last);
      return n === 0 ? undefined : this._nodes[n];
    }
    const i = this._slotOf(node, 'IntervalTree.iterNext');
    checkInterval(start, last, 'IntervalTree.iterNext');
    const n = this._next(i, start, last);
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
   * stopped at continues the same walk cheaply (the cursor is left there). The kernel's
   * iter_first/iter_next loop with the body inlined, as in mn_itree_invalidate().
   * @throws TypeError / RangeError for bad endpoints; TypeError if `fn` is not a function.
   */
  forEachOverlap(start: number, last: number, fn: (node: IntervalNode<T>) => void | false): number {
    checkInterval(start, last, 'IntervalTree.forEachOverlap');
    if (typeof fn !== 'function') {
      throw new TypeError('IntervalTree.forEachOverlap: fn must be a function');
    }
    const F = this._f;
    if (F[(this._root << 2) + 2]! < start || F[this._leftmost << 2]! > last) return 0;
    // A pruned in-order depth-first walk over an explicit stack: it visits the same nodes in the
    // same order as iterFirst/iterNext but needs no parent links. The stack is shared by nested
    // (re-entrant) calls from inside fn: each call works above `_sp` and restores it on exit.
    const base = this._sp;
    if (base + STACK_FRAME > this._stack.length) this._growStack(base + STACK_FRAME);
    try {
      return this._walk(start, last, fn, base);
    } finally {
      this._sp = base;
    }
  }

  /** The body of forEachOverlap; the stack has room for one frame above `base`. @internal */
  _walk(start: number, last: number, fn: (node: IntervalNode<T>) => void | false, base: number) {
    const F = this._f;
    const W = this._w;
    const nodes = this._nodes;
    const mod = this._mod;
    let stack = this._stack;
    let sp = base;
    let count = 0;
    let n = this._root;
    for (;;) {
      // Descend left while the subtree reaches start (the nil sentinel's max is -Infinity).
      while (start <= F[(n << 2) + 2]!) {
        stack[sp++] = n;
        n = W[(n << 3) + 6]!;
      }
      if (sp === base) return count;
      n = stack[--sp]!;
      // In order, every later node starts at or after this one: nothing more can overlap.
      if (F[n << 2]! > last) return count;
      if (start <= F[(n << 2) + 1]!) {
        count++;
        this._sp = sp;
        if (fn(nodes[n]!) === false) {
          // Leave the cursor here, so iterNext(node) continues this walk without a climb.
          // It records the tree version the walk saw: if fn changed the tree, it won't match.
          this._saveCursor(n, this._stack, base, sp, start, last, mod);
          return count;
        }
        if (this._mod !== mod) {
          throw new ConcurrentModificationError(
            'IntervalTree.forEachOverlap: the callback modified the tree and did not return false',
          );
        }
        stack = this._stack; // a nested call may have grown it
      }
      n = W[(n << 3) + 7]!;
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
    for (let i = 1; i < nodes.length; i++) nodes[i]?._detach();
    this._cSlot = 0;
    this._cNode = undefined;
    this._reset();
    this._mod++;
  }

  // ---------------------------------------------------------------------------------------------
  // Queries over slots (0 = none). Same results and order as the kernel's _iter_first /
  // _iter_next (the property tests compare against a brute-force oracle), walked depth-first.

  /** First overlapping slot, or 0; leaves the cursor on it. @internal */
  _first(start: number, last: number): number {
    const F = this._f;
    const root = this._root;
    // O(1) rejects: nothing reaches start, or everything begins after last.
    if (F[(root << 2) + 2]! < start || F[this._leftmost << 2]! > last) {
      this._cSlot = 0;
      this._cNode = undefined;
      return 0;
    }
    return this._resume(root, 0, start, last);
  }

  /** Points the cursor at slot `n` with the pending ancestors `stack[from, to)`. @internal */
  _saveCursor(
    n: number,
    stack: Int32Array,
    from: number,
    to: number,
    start: number,
    last: number,
    mod: number,
  ): void {
    const c = this._cStack;
    for (let i = from; i < to; i++) c[i - from] = stack[i]!;
    this._cSp = to - from;
    this._cSlot = n;
    this._cNode = this._nodes[n];
    this._cStart = start;
    this._cLast = last;
    this._cMod = mod;
  }

  /**
   * Next overlapping slot after slot `n` in order, or 0. If `n` is where the cursor stopped, for
   * the same query and an unmodified tree, the saved walk resumes; otherwise the walk's stack is
   * rebuilt by climbing from `n` (O(log n)), which gives the same result. @internal
   */
  _next(n: number, start: number, last: number): number {
    if (
      n === this._cSlot &&
      start === this._cStart &&
      last === this._cLast &&
      this._mod === this._cMod
    ) {
      return this._resume(this._w[(n << 3) + 7]!, this._cSp, start, last);
    }
    // The pending ancestors of n in an in-order walk: those whose left subtree holds n, top first.
    const W = this._w;
    const P = this._p;
    const stack = this._cStack;
    let sp = 0;
    for (let c = n, p = P[n]!; p !== 0; c = p, p = P[p]!) {
      if (W[(p << 3) + 6] === c) stack[sp++] = p;
    }
    for (let i = 0, j = sp - 1; i < j; i++, j--) {
      const t = stack[i]!;
      stack[i] = stack[j]!;
      stack[j] = t;
    }
    return this._resume(W[(n << 3) + 7]!, sp, start, last);
  }

  /**
   * The in-order walk over overlaps, from subtree `n` with `sp` pending ancestors on the cursor
   * stack. Descends left while a subtree reaches `start` (the sentinel's max is -Infinity);
   * a popped node is next in order; once one starts after `last`, so does everything after it.
   * Saves the cursor at the hit it returns. The stack never holds more than the tree height.
   * @internal
   */
  _resume(n: number, sp: number, start: number, last: number): number {
    const F = this._f;
    const W = this._w;
    const stack = this._cStack;
    for (;;) {
      while (start <= F[(n << 2) + 2]!) {
        stack[sp++] = n;
        n = W[(n << 3) + 6]!;
      }
      if (sp === 0) break;
      n = stack[--sp]!;
      if (F[n << 2]! > last) break;
      if (start <= F[(n << 2) + 1]!) {
        this._cSlot = n;
        this._cNode = this._nodes[n];
        this._cSp = sp;
        this._cStart = start;
        this._cLast = last;
        this._cMod = this._mod;
        return n;
      }
      n = W[(n << 3) + 7]!;
    }
    this._cSlot = 0;
    this._cNode = undefined;
    return 0;
  }

  /** In-order successor slot of `n`, or 0. @internal */
  _successor(n: number): number {
    const W = this._w;
    const P = this._p;
    let r = W[(n << 3) + 7]!;
    if (r !== 0) {
      for (let l = W[(r << 3) + 6]!; l !== 0; l = W[(r << 3) + 6]!) r = l;
      return r;
    }
    let prev: number;
    do {
      prev = n;
      n = P[n]!;
    } while (n !== 0 && W[(n << 3) + 6] !== prev);
    return n;
  }

  /** Slot of a handle stored in this tree, or throws. @internal */
  _slotOf(node: IntervalNode<T>, what: string): number {
    if (!(node instanceof TreeNode)) {
      throw new TypeError(`${what}: expected a node returned by IntervalTree.insert`);
    }
    if (node._o !== this) {
      throw new NodeNotInTreeError(
        node._i < 0
          ? `${what}: the node [${node.start}, ${node.last}] was already removed from its tree`
          : `${what}: the node [${node.start}, ${node.last}] belongs to another IntervalTree`,
      );
    }
    return node._i;
  }

  // ---------------------------------------------------------------------------------------------
  // Storage.

  /** Empty tree at the initial capacity, with the nil sentinel in slot 0. */
  private _reset(): void {
    this._alloc(INITIAL_CAPACITY);
    const F = this._f;
    F[0] = Number.POSITIVE_INFINITY;
    F[1] = Number.NEGATIVE_INFINITY;
    F[2] = Number.NEGATIVE_INFINITY;
    this._nodes = [undefined];
    this._root = 0;
    this._leftmost = 0;
    this._used = 1;
    this._free = 0;
    this._size = 0;
  }

  /** Replaces the storage by zeroed arrays of `cap` slots. */
  private _alloc(cap: number): void {
    const buf = new ArrayBuffer(cap * 32);
    this._f = new Float64Array(buf);
    this._w = new Int32Array(buf);
    this._p = new Int32Array(cap);
    this._c = new Uint8Array(cap);
  }

  private _growStack(min: number): void {
    const stack = new Int32Array(Math.max(min, this._stack.length * 2));
    stack.set(this._stack);
    this._stack = stack;
  }

  private _allocSlot(): number {
    const f = this._free;
    if (f !== 0) {
      this._free = this._w[(f << 3) + 7]!;
      return f;
    }
    if (this._used === this._p.length) this._grow();
    return this._used++;
  }

  private _grow(): void {
    const cap = this._p.length * 2;
    if (cap > MAX_SLOTS) throw new RangeError(`IntervalTree: more than ${MAX_SLOTS} intervals`);
    const { _f: f, _p: p, _c: c } = this;
    this._alloc(cap);
    this._f.set(f);
    this._p.set(p);
    this._c.set(c);
  }

  // ---------------------------------------------------------------------------------------------
  // Red-black balancing (CLRS, with the kernel's augment callbacks: rotate, copy, propagate).

  /** max(last(n), max(left), max(right)) */
  private _computeMax(n: number): number {
    const F = this._f;
    const W = this._w;
    let m = F[(n << 2) + 1]!;
    const a = F[(W[(n << 3) + 6]! << 2) + 2]!;
    const b = F[(W[(n << 3) + 7]! << 2) + 2]!;
    if (a > m) m = a;
    if (b > m) m = b;
    return m;
  }

  /**
   * Recomputes the subtree max from `n` upwards until `stop`, stopping early at the first node
   * whose value does not change (its ancestors cannot change either). Kernel: augment->propagate.
   */
  private _propagate(n: number, stop: number): void {
    const F = this._f;
    const P = this._p;
    while (n !== stop) {
      const m = this._computeMax(n);
      if (m === F[(n << 2) + 2]) break;
      F[(n << 2) + 2] = m;
      n = P[n]!;
    }
  }

  /** Left rotation at x: y = right(x) takes x's place and x's subtree max (augment->rotate). */
  private _rotateLeft(x: number): void {
    this._rotate(x, 7);
  }

  /** Right rotation at x: the mirror of {@link _rotateLeft}. */
  private _rotateRight(x: number): void {
    this._rotate(x, 6);
  }

  /**
   * One rotation at x. `up` is the child word (6 left, 7 right) whose node y rises into x's
   * place; y's inner child (word `13 - up`) moves under x, and y takes x's subtree max.
   */
  private _rotate(x: number, up: number): void {
    const W = this._w;
    const P = this._p;
    const F = this._f;
    const down = 13 - up;
    const y = W[(x << 3) + up]!;
    const inner = W[(y << 3) + down]!;
    W[(x << 3) + up] = inner;
    if (inner !== 0) P[inner] = x;
    const xp = P[x]!;
    P[y] = xp;
    if (xp === 0) this._root = y;
    else if (W[(xp << 3) + 6] === x) W[(xp << 3) + 6] = y;
    else W[(xp << 3) + 7] = y;
    W[(y << 3) + down] = x;
    P[x] = y;
    F[(y << 2) + 2] = F[(x << 2) + 2]!;
    F[(x << 2) + 2] = this._computeMax(x);
  }

  private _insertFixup(z: number): void {
    const W = this._w;
    const P = this._p;
    const C = this._c;
    for (;;) {
      let p = P[z]!;
      if (C[p] !== RED) break; // also stops at the root (parent 0 is the black sentinel)
      const g = P[p]!;
      if (p === W[(g << 3) + 6]) {
        const u = W[(g << 3) + 7]!;
        if (C[u] === RED) {
          C[p] = BLACK;
          C[u] = BLACK;
          C[g] = RED;
          z = g;
          continue;
        }
        if (z === W[(p << 3) + 7]) {
          z = p;
          this._rotateLeft(z);
          p = P[z]!;
        }
        C[p] = BLACK;
        C[g] = RED;
        this._rotateRight(g);
      } else {
        const u = W[(g << 3) + 6]!;
        if (C[u] === RED) {
          C[p] = BLACK;
          C[u] = BLACK;
          C[g] = RED;
          z = g;
          continue;
        }
        if (z === W[(p << 3) + 6]) {
          z = p;
          this._rotateRight(z);
          p = P[z]!;
        }
        C[p] = BLACK;
        C[g] = RED;
        this._rotateLeft(g);
      }
    }
    C[this._root] = BLACK;
  }

  /** Replaces the subtree at `u` by the one at `v` (v may be the sentinel: its parent is set). */
  private _transplant(u: number, v: number): void {
    const W = this._w;
    const P = this._p;
    const up = P[u]!;
    if (up === 0) this._root = v;
    else if (u === W[(up << 3) + 6]) W[(up << 3) + 6] = v;
    else W[(up << 3) + 7] = v;
    P[v] = up;
  }

  /** Unlinks slot z and rebalances (CLRS RB-DELETE with augment upkeep). */
  private _erase(z: number): void {
    const W = this._w;
    const P = this._p;
    const C = this._c;
    const F = this._f;
    const zl = W[(z << 3) + 6]!;
    const zr = W[(z << 3) + 7]!;
    let x: number;
    let removedColor = C[z]!;
    if (zl === 0 || zr === 0) {
      x = zl === 0 ? zr : zl;
      const zp = P[z]!;
      this._transplant(z, x);
      this._propagate(zp, 0);
    } else {
      // Two children: the successor y (leftmost of the right subtree) takes z's place.
      let y = zr;
      for (let l = W[(y << 3) + 6]!; l !== 0; l = W[(y << 3) + 6]!) y = l;
      removedColor = C[y]!;
      x = W[(y << 3) + 7]!;
      const yp = P[y]!;
      if (yp === z) {
        P[x] = y;
      } else {
        this._transplant(y, x);
        W[(y << 3) + 7] = zr;
        P[zr] = y;
      }
      this._transplant(z, y);
      W[(y << 3) + 6] = zl;
      P[zl] = y;
      C[y] = C[z]!;
      // Kernel's augment->copy: y inherits z's subtree max, so the upward propagation from y
      // may stop as soon as a recomputed value matches what the ancestors already hold.
      F[(y << 2) + 2] = F[(z << 2) + 2]!;
      if (yp !== z) this._propagate(yp, y);
      this._propagate(y, 0);
    }
    if (removedColor === BLACK) this._eraseFixup(x);
  }

  private _eraseFixup(x: number): void {
    const W = this._w;
    const P = this._p;
    const C = this._c;
    while (x !== this._root && C[x] === BLACK) {
      const xp = P[x]!;
      if (x === W[(xp << 3) + 6]) {
        let w = W[(xp << 3) + 7]!;
        if (C[w] === RED) {
          C[w] = BLACK;
          C[xp] = RED;
          this._rotateLeft(xp);
          w = W[(xp << 3) + 7]!;
        }
        if (C[W[(w << 3) + 6]!] === BLACK && C[W[(w << 3) + 7]!] === BLACK) {
          C[w] = RED;
          x = xp;
        } else {
          if (C[W[(w << 3) + 7]!] === BLACK) {
            C[W[(w << 3) + 6]!] = BLACK;
            C[w] = RED;
            this._rotateRight(w);
            w = W[(xp << 3) + 7]!;
          }
          C[w] = C[xp]!;
          C[xp] = BLACK;
          C[W[(w << 3) + 7]!] = BLACK;
          this._rotateLeft(xp);
          x = this._root;
        }
      } else {
        let w = W[(xp << 3) + 6]!;
        if (C[w] === RED) {
          C[w] = BLACK;
          C[xp] = RED;
          this._rotateRight(xp);
          w = W[(xp << 3) + 6]!;
        }
        if (C[W[(w << 3) + 7]!] === BLACK && C[W[(w << 3) + 6]!] === BLACK) {
          C[w] = RED;
          x = xp;
        } else {
          if (C[W[(w << 3) + 6]!] === BLACK) {
            C[W[(w << 3) + 7]!] = BLACK;
            C[w] = RED;
            this._rotateLeft(w);
            w = W[(xp << 3) + 6]!;
          }
          C[w] = C[xp]!;
          C[xp] = BLACK;
          C[W[(w << 3) + 6]!] = BLACK;
          this._rotateRight(xp);
          x = this._root;
        }
      }
    }
    C[x] = BLACK;
  }
}

/**
 * One live instance of every class on the hot paths, so that V8 never collects their hidden
 * classes. Without it, a full GC at a moment when no tree (or node, or iterator) is alive drops
 * the maps, and every optimised function that embedded them is deoptimised ("weak objects") and
 * has to warm up again: measured as a 10x slower insert loop on a fresh tree.
 * The pinned objects must hold the maps later objects get, so their fields are exercised here
 * with their most general values: numbers beyond the small-integer range (a Smi field that
 * later receives a double moves its object to a new map) and a value field that has held both a
 * number and an object. Removing the node also settles its owner field to its general type.
 */
const BIG = 2 ** 40;
const pinned = new IntervalTree<unknown>();
const pinnedNode = pinned.insert(BIG, BIG + 1, 0);
pinnedNode.value = undefined;
pinned.iterFirst(BIG, BIG);
const pinnedOverlaps = pinned.overlaps(BIG + 1, BIG + 1);
pinnedOverlaps.next();
pinned.forEachOverlap(BIG, BIG, () => false);
pinned.remove(pinnedNode);
export const PINNED_FOR_V8: readonly unknown[] = [
  pinned,
  pinnedNode,
  pinnedOverlaps,
  pinned[Symbol.iterator](),
];
