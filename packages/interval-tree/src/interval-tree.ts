import { ConcurrentModificationError, NodeNotInTreeError } from './errors.js';
import { type IntervalNode, type SlotStore, TreeNode } from './interval-node.js';
import { InOrderIterator, OverlapIterator } from './iterators.js';
import { checkInterval } from './validate.js';

const RED = 1;
const BLACK = 0;
const INITIAL_CAPACITY = 16;

/**
 * An augmented red-black tree of closed intervals `[start, last]` over safe integers, keyed by
 * `start`, each node carrying the largest `last` of its subtree. The kernel's
 * `INTERVAL_TREE_DEFINE()` (include/linux/interval_tree_generic.h) over an `rb_root_cached`.
 *
 * Layout: structure of arrays. Node data lives in typed arrays indexed by a slot number; slot 0 is
 * the nil sentinel (start +Infinity, last and subtree max -Infinity, black), so walks need no nil
 * checks. Freed slots are chained through the right-child array. The handle returned to users is
 * a small object holding the owner and the slot.
 *
 * Order: ascending `start`; an equal start descends right, so equal starts keep insertion order
 * (rotations preserve the in-order sequence). Duplicates are separate nodes.
 *
 * Nothing here awaits; every method is synchronous. The tree must not be modified while a walk is
 * in progress: iterators and `forEachOverlap` detect that with a modification counter (`_mod`).
 */
export class IntervalTree<T> implements Iterable<IntervalNode<T>>, SlotStore {
  /** @internal starts, by slot */
  _st: Float64Array;
  /** @internal lasts, by slot */
  _la: Float64Array;
  /** @internal subtree max of `last`, by slot */
  _mx: Float64Array;
  /** @internal left child slot (0 = nil) */
  _l: Int32Array;
  /** @internal right child slot (0 = nil); next free slot for freed slots */
  _r: Int32Array;
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
  /** @internal head of the free-slot list */
  _free = 0;
  /** @internal modification counter, bumped by insert, remove and clear */
  _mod = 0;
  private _size = 0;

  constructor() {
    this._st = new Float64Array(INITIAL_CAPACITY);
    this._la = new Float64Array(INITIAL_CAPACITY);
    this._mx = new Float64Array(INITIAL_CAPACITY);
    this._l = new Int32Array(INITIAL_CAPACITY);
    this._r = new Int32Array(INITIAL_CAPACITY);
    this._p = new Int32Array(INITIAL_CAPACITY);
    this._c = new Uint8Array(INITIAL_CAPACITY);
    this._nodes = [undefined];
    this._initSentinel();
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
    const st = this._st;
    const mx = this._mx;
    const L = this._l;
    const R = this._r;
    st[s] = start;
    this._la[s] = last;
    mx[s] = last;
    L[s] = 0;
    R[s] = 0;
    this._c[s] = RED;
    // Walk down raising each ancestor's subtree max on the way, as the kernel does.
    let parent = 0;
    let n = this._root;
    let goLeft = false;
    let leftmost = true;
    while (n !== 0) {
      parent = n;
      if (mx[n]! < last) mx[n] = last;
      if (start < st[n]!) {
        goLeft = true;
        n = L[n]!;
      } else {
        goLeft = false;
        leftmost = false;
        n = R[n]!;
      }
    }
    this._p[s] = parent;
    if (parent === 0) this._root = s;
    else if (goLeft) L[parent] = s;
    else R[parent] = s;
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
    this._r[z] = this._free;
    this._free = z;
    this._size--;
    this._mod++;
  }

  /** True if `node` is currently stored in this tree. O(1). Never throws. */
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
    const i = this._slotOf(node, 'IntervalTree.iterNext');
    checkInterval(start, last, 'IntervalTree.iterNext');
    const n = this._next(i, start, last);
    return n === 0 ? undefined : this._nodes[n];
  }

  /**
   * Iterates every stored interval overlapping `[start, last]`, in tree order. The endpoints are
   * checked now; the walk is lazy. If the tree is modified before the iterator is exhausted, its
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
   * otherwise ConcurrentModificationError is thrown after it returns.
   * @throws TypeError / RangeError for bad endpoints; TypeError if `fn` is not a function.
   */
  forEachOverlap(start: number, last: number, fn: (node: IntervalNode<T>) => void | false): number {
    checkInterval(start, last, 'IntervalTree.forEachOverlap');
    if (typeof fn !== 'function') {
      throw new TypeError('IntervalTree.forEachOverlap: fn must be a function');
    }
    const mod = this._mod;
    const nodes = this._nodes;
    let count = 0;
    let n = this._first(start, last);
    while (n !== 0) {
      count++;
      if (fn(nodes[n]!) === false) break;
      if (this._mod !== mod) {
        throw new ConcurrentModificationError(
          'IntervalTree.forEachOverlap: the callback modified the tree and did not return false',
        );
      }
      n = this._next(n, start, last);
    }
    return count;
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
    this._st = new Float64Array(INITIAL_CAPACITY);
    this._la = new Float64Array(INITIAL_CAPACITY);
    this._mx = new Float64Array(INITIAL_CAPACITY);
    this._l = new Int32Array(INITIAL_CAPACITY);
    this._r = new Int32Array(INITIAL_CAPACITY);
    this._p = new Int32Array(INITIAL_CAPACITY);
    this._c = new Uint8Array(INITIAL_CAPACITY);
    this._nodes = [undefined];
    this._initSentinel();
    this._root = 0;
    this._leftmost = 0;
    this._used = 1;
    this._free = 0;
    this._size = 0;
    this._mod++;
  }

  // ---------------------------------------------------------------------------------------------
  // Queries over slots (0 = none). The kernel's _subtree_search / _iter_first / _iter_next.

  /** First overlapping slot, or 0. @internal */
  _first(start: number, last: number): number {
    const root = this._root;
    // O(1) rejects: nothing reaches start, or everything begins after last.
    if (this._mx[root]! < start || this._st[this._leftmost]! > last) return 0;
    return this._search(root, start, last);
  }

  /**
   * Leftmost overlapping slot in the subtree at `n`, or 0; requires `start <= mx[n]`.
   * If the left subtree reaches `start`, the leftmost overlap (if any) is there: any node further
   * right starts no earlier than the left subtree's nodes. @internal
   */
  _search(n: number, start: number, last: number): number {
    const st = this._st;
    const la = this._la;
    const mx = this._mx;
    const L = this._l;
    const R = this._r;
    for (;;) {
      const left = L[n]!;
      if (start <= mx[left]!) {
        n = left;
      } else if (st[n]! <= last) {
        if (start <= la[n]!) return n;
        n = R[n]!; // mx[n] >= start and neither n nor its left reach: the right subtree does
      } else {
        return 0; // n and everything right of it start after last (sentinel: +Infinity)
      }
    }
  }

  /** Next overlapping slot after slot `n` in order, or 0. @internal */
  _next(n: number, start: number, last: number): number {
    const st = this._st;
    const la = this._la;
    const mx = this._mx;
    const L = this._l;
    const R = this._r;
    const P = this._p;
    for (;;) {
      const right = R[n]!;
      if (start <= mx[right]!) return this._search(right, start, last);
      // Climb until we arrive from a left child: that ancestor is next in order.
      let prev: number;
      do {
        prev = n;
        n = P[n]!;
        if (n === 0) return 0;
      } while (L[n] !== prev);
      if (last < st[n]!) return 0;
      if (start <= la[n]!) return n;
    }
  }

  /** In-order successor slot of `n`, or 0. @internal */
  _successor(n: number): number {
    const L = this._l;
    const R = this._r;
    const P = this._p;
    let r = R[n]!;
    if (r !== 0) {
      while (L[r] !== 0) r = L[r]!;
      return r;
    }
    let prev: number;
    do {
      prev = n;
      n = P[n]!;
    } while (n !== 0 && L[n] !== prev);
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

  private _initSentinel(): void {
    this._st[0] = Number.POSITIVE_INFINITY;
    this._la[0] = Number.NEGATIVE_INFINITY;
    this._mx[0] = Number.NEGATIVE_INFINITY;
    this._c[0] = BLACK;
  }

  private _allocSlot(): number {
    const f = this._free;
    if (f !== 0) {
      this._free = this._r[f]!;
      return f;
    }
    if (this._used === this._st.length) this._grow();
    return this._used++;
  }

  private _grow(): void {
    const cap = this._st.length * 2;
    if (cap > 0x7fffffff) throw new RangeError('IntervalTree: too many intervals');
    const st = new Float64Array(cap);
    st.set(this._st);
    this._st = st;
    const la = new Float64Array(cap);
    la.set(this._la);
    this._la = la;
    const mx = new Float64Array(cap);
    mx.set(this._mx);
    this._mx = mx;
    const l = new Int32Array(cap);
    l.set(this._l);
    this._l = l;
    const r = new Int32Array(cap);
    r.set(this._r);
    this._r = r;
    const p = new Int32Array(cap);
    p.set(this._p);
    this._p = p;
    const c = new Uint8Array(cap);
    c.set(this._c);
    this._c = c;
  }

  // ---------------------------------------------------------------------------------------------
  // Red-black balancing (CLRS, with the kernel's augment callbacks: rotate, copy, propagate).

  /** Recomputes the subtree max from `n` upwards until `stop`, stopping early when unchanged. */
  private _propagate(n: number, stop: number): void {
    const la = this._la;
    const mx = this._mx;
    const L = this._l;
    const R = this._r;
    const P = this._p;
    while (n !== stop) {
      let m = la[n]!;
      const a = mx[L[n]!]!;
      const b = mx[R[n]!]!;
      if (a > m) m = a;
      if (b > m) m = b;
      if (m === mx[n]) break;
      mx[n] = m;
      n = P[n]!;
    }
  }

  /** Recomputes one node's subtree max from its children. */
  private _recompute(n: number): void {
    const mx = this._mx;
    let m = this._la[n]!;
    const a = mx[this._l[n]!]!;
    const b = mx[this._r[n]!]!;
    if (a > m) m = a;
    if (b > m) m = b;
    mx[n] = m;
  }

  private _rotateLeft(x: number): void {
    const L = this._l;
    const R = this._r;
    const P = this._p;
    const y = R[x]!;
    const yl = L[y]!;
    R[x] = yl;
    if (yl !== 0) P[yl] = x;
    const xp = P[x]!;
    P[y] = xp;
    if (xp === 0) this._root = y;
    else if (L[xp] === x) L[xp] = y;
    else R[xp] = y;
    L[y] = x;
    P[x] = y;
    // y now spans x's old subtree; x lost y's right part.
    this._mx[y] = this._mx[x]!;
    this._recompute(x);
  }

  private _rotateRight(x: number): void {
    const L = this._l;
    const R = this._r;
    const P = this._p;
    const y = L[x]!;
    const yr = R[y]!;
    L[x] = yr;
    if (yr !== 0) P[yr] = x;
    const xp = P[x]!;
    P[y] = xp;
    if (xp === 0) this._root = y;
    else if (R[xp] === x) R[xp] = y;
    else L[xp] = y;
    R[y] = x;
    P[x] = y;
    this._mx[y] = this._mx[x]!;
    this._recompute(x);
  }

  private _insertFixup(z: number): void {
    const L = this._l;
    const R = this._r;
    const P = this._p;
    const c = this._c;
    for (;;) {
      let p = P[z]!;
      if (c[p] !== RED) break; // also stops at the root (parent 0 is the black sentinel)
      const g = P[p]!;
      if (p === L[g]) {
        const u = R[g]!;
        if (c[u] === RED) {
          c[p] = BLACK;
          c[u] = BLACK;
          c[g] = RED;
          z = g;
          continue;
        }
        if (z === R[p]) {
          z = p;
          this._rotateLeft(z);
          p = P[z]!;
        }
        c[p] = BLACK;
        c[g] = RED;
        this._rotateRight(g);
      } else {
        const u = L[g]!;
        if (c[u] === RED) {
          c[p] = BLACK;
          c[u] = BLACK;
          c[g] = RED;
          z = g;
          continue;
        }
        if (z === L[p]) {
          z = p;
          this._rotateRight(z);
          p = P[z]!;
        }
        c[p] = BLACK;
        c[g] = RED;
        this._rotateLeft(g);
      }
    }
    c[this._root] = BLACK;
  }

  /** Replaces the subtree at `u` by the one at `v` (v may be the sentinel: its parent is set). */
  private _transplant(u: number, v: number): void {
    const P = this._p;
    const up = P[u]!;
    if (up === 0) this._root = v;
    else if (u === this._l[up]) this._l[up] = v;
    else this._r[up] = v;
    P[v] = up;
  }

  /** Unlinks slot z and rebalances (CLRS RB-DELETE with augment upkeep). */
  private _erase(z: number): void {
    const L = this._l;
    const R = this._r;
    const P = this._p;
    const c = this._c;
    let x: number;
    let removedColor = c[z]!;
    if (L[z] === 0) {
      x = R[z]!;
      const zp = P[z]!;
      this._transplant(z, x);
      this._propagate(zp, 0);
    } else if (R[z] === 0) {
      x = L[z]!;
      const zp = P[z]!;
      this._transplant(z, x);
      this._propagate(zp, 0);
    } else {
      // Two children: the successor y (leftmost of the right subtree) takes z's place.
      let y = R[z]!;
      while (L[y] !== 0) y = L[y]!;
      removedColor = c[y]!;
      x = R[y]!;
      const yp = P[y]!;
      if (yp === z) {
        P[x] = y;
      } else {
        this._transplant(y, x);
        R[y] = R[z]!;
        P[R[y]!] = y;
      }
      this._transplant(z, y);
      L[y] = L[z]!;
      P[L[y]!] = y;
      c[y] = c[z]!;
      // Kernel's augment->copy: y inherits z's subtree max, so the upward propagation from y
      // may stop as soon as a recomputed value matches what the ancestors already hold.
      this._mx[y] = this._mx[z]!;
      if (yp !== z) this._propagate(yp, y);
      this._propagate(y, 0);
    }
    if (removedColor === BLACK) this._eraseFixup(x);
  }

  private _eraseFixup(x: number): void {
    const L = this._l;
    const R = this._r;
    const P = this._p;
    const c = this._c;
    while (x !== this._root && c[x] === BLACK) {
      const xp = P[x]!;
      if (x === L[xp]) {
        let w = R[xp]!;
        if (c[w] === RED) {
          c[w] = BLACK;
          c[xp] = RED;
          this._rotateLeft(xp);
          w = R[xp]!;
        }
        if (c[L[w]!] === BLACK && c[R[w]!] === BLACK) {
          c[w] = RED;
          x = xp;
        } else {
          if (c[R[w]!] === BLACK) {
            c[L[w]!] = BLACK;
            c[w] = RED;
            this._rotateRight(w);
            w = R[xp]!;
          }
          c[w] = c[xp]!;
          c[xp] = BLACK;
          c[R[w]!] = BLACK;
          this._rotateLeft(xp);
          x = this._root;
        }
      } else {
        let w = L[xp]!;
        if (c[w] === RED) {
          c[w] = BLACK;
          c[xp] = RED;
          this._rotateRight(xp);
          w = L[xp]!;
        }
        if (c[R[w]!] === BLACK && c[L[w]!] === BLACK) {
          c[w] = RED;
          x = xp;
        } else {
          if (c[L[w]!] === BLACK) {
            c[R[w]!] = BLACK;
            c[w] = RED;
            this._rotateLeft(w);
            w = L[xp]!;
          }
          c[w] = c[xp]!;
          c[xp] = BLACK;
          c[L[w]!] = BLACK;
          this._rotateRight(xp);
          x = this._root;
        }
      }
    }
    c[x] = BLACK;
  }
}
