/**
 * Storage: the typed-array records (layout.ts), the values and handles by slot, the free-slot
 * list, growth, and the handles returned to users. The fields live on the tree object itself
 * (`_f`, `_w`, `_p`, `_c`, `_nodes`, `_vals`, `_used`, `_free`, declared in interval-tree.ts) so
 * that every walk reaches them with one load; this module and compact.ts are the only ones that
 * allocate, free, move or replace them.
 */
import { NodeNotInTreeError } from './errors.js';
import type { IntervalNode } from './interval-node.js';
import type { IntervalTree } from './interval-tree.js';
import { F64, I32, MAX_SLOTS, RECORD_BYTES } from './layout.js';

/** Slots of a new or cleared tree (slot 0 included). */
const INITIAL_CAPACITY = 16;

/**
 * Where a live node's endpoints are kept: the owning tree's records. The array is replaced when
 * the tree grows, so a handle reads it through its owner every time.
 */
export interface SlotStore<T> {
  _f: Float64Array;
  _vals: (T | undefined)[];
}

/**
 * The endpoints and value of a node that left its tree (removed or cleared): its slot may be
 * reused, so they are copied out here.
 */
export class Detached<T> {
  constructor(
    readonly start: number,
    readonly last: number,
    public value: T,
  ) {}
}

/**
 * The concrete handle behind {@link IntervalNode}. It holds only its owner and slot, so the
 * tree's data stays in its own arrays (records and values by slot), where walks read it without
 * touching the handle. `_i >= 0`: live in tree `_o` at slot `_i` (compact.ts moves records and
 * updates `_i`); `_i === -1`: detached, and `_o` holds the copied endpoints and value.
 */
export class TreeNode<T> implements IntervalNode<T> {
  /** @internal */
  _o: SlotStore<T> | Detached<T>;
  /** @internal */
  _i: number;

  constructor(owner: SlotStore<T>, slot: number) {
    this._o = owner;
    this._i = slot;
  }

  get value(): T {
    const i = this._i;
    return i >= 0 ? ((this._o as SlotStore<T>)._vals[i] as T) : (this._o as Detached<T>).value;
  }

  set value(v: T) {
    const i = this._i;
    if (i >= 0) (this._o as SlotStore<T>)._vals[i] = v;
    else (this._o as Detached<T>).value = v;
  }

  get start(): number {
    const i = this._i;
    // Stryker disable next-line EqualityOperator: equivalent: a live handle's slot is at least 1 (slot 0 is the sentinel) and a detached one's is -1, so 0 never occurs.
    // Stryker disable ArithmeticOperator: equivalent: F64.START is 0, so + and - give the same word.
    return i >= 0
      ? (this._o as SlotStore<T>)._f[(i << F64.SHIFT) + F64.START]!
      : (this._o as Detached<T>).start;
  }

  get last(): number {
    // Stryker restore ArithmeticOperator
    const i = this._i;
    // Stryker disable next-line EqualityOperator: equivalent: a live handle's slot is at least 1 (slot 0 is the sentinel) and a detached one's is -1, so 0 never occurs.
    return i >= 0
      ? (this._o as SlotStore<T>)._f[(i << F64.SHIFT) + F64.LAST]!
      : (this._o as Detached<T>).last;
  }

  /** Copies the endpoints and value out of the owner and unlinks the handle. @internal */
  _detach(): void {
    const o = this._o as SlotStore<T>;
    const F = o._f;
    const i = this._i;
    this._o = new Detached(
      F[(i << F64.SHIFT) + F64.START]!,
      F[(i << F64.SHIFT) + F64.LAST]!,
      o._vals[i] as T,
    );
    this._i = -1;
  }
}

/**
 * Empties the storage of `t`: fresh zeroed arrays at the initial capacity, the nil sentinel in
 * slot 0 (start +Infinity, last and max -Infinity, no children, black), no handles, no free
 * slots. Handles of the old storage must have been detached by the caller.
 */
export function resetStorage<T>(t: IntervalTree<T>): void {
  alloc(t, INITIAL_CAPACITY);
  writeSentinel(t._f);
  // Stryker disable next-line ArrayDeclaration: equivalent: without the entry, slot 0 still has no handle (nodes[0] reads undefined) and slot 1 is stored at index 1.
  t._nodes = [undefined];
  // Stryker disable next-line ArrayDeclaration: equivalent: as for _nodes.
  t._vals = [undefined];
  t._used = 1;
  t._inserted = 0;
  t._free = 0;
}

/**
 * A slot for a new record: the head of the free list (chained through the right-child word),
 * else the first never-used slot, doubling the storage when it is full. The record's contents
 * are left as they were; the caller writes all of them.
 * @throws RangeError (naming IntervalTree.insert) beyond MAX_SLOTS slots.
 */
export function allocSlot<T>(t: IntervalTree<T>): number {
  const f = t._free;
  if (f !== 0) {
    t._free = t._w[(f << I32.SHIFT) + I32.RIGHT]!;
    return f;
  }
  if (t._used === t._p.length) grow(t);
  return t._used++;
}

/**
 * Returns slot `z`, already unlinked from the tree, to the free list: its handle copies its
 * endpoints out and forgets the slot (so it keeps `start`/`last` while the slot is reused).
 */
export function freeSlot<T>(t: IntervalTree<T>, z: number): void {
  t._nodes[z]!._detach();
  t._nodes[z] = undefined;
  t._vals[z] = undefined;
  t._w[(z << I32.SHIFT) + I32.RIGHT] = t._free;
  t._free = z;
}

/**
 * The slot of a handle stored in `t`.
 * @throws TypeError if `node` is not a handle at all; NodeNotInTreeError if it belongs to
 * another tree or was removed. `method` starts the message.
 */
export function slotOf<T>(t: IntervalTree<T>, node: IntervalNode<T>, method: string): number {
  if (!(node instanceof TreeNode)) {
    throw new TypeError(`${method}: expected a node returned by IntervalTree.insert`);
  }
  if (node._o !== t) {
    // Stryker disable EqualityOperator: equivalent: a live handle's slot is at least 1 (slot 0 is the sentinel) and a detached one's is -1, so 0 never occurs.
    throw new NodeNotInTreeError(
      node._i < 0
        ? `${method}: the node [${node.start}, ${node.last}] was already removed from its tree`
        : `${method}: the node [${node.start}, ${node.last}] belongs to another IntervalTree`,
    );
  }
  // Stryker restore EqualityOperator
  return node._i;
}

/** Writes the nil sentinel's endpoints into slot 0 of zeroed records `F`. */
export function writeSentinel(F: Float64Array): void {
  F[F64.START] = Number.POSITIVE_INFINITY;
  F[F64.LAST] = Number.NEGATIVE_INFINITY;
  F[F64.MAX] = Number.NEGATIVE_INFINITY;
}

/** Replaces the records, parents and colours by zeroed arrays of `cap` slots. */
export function alloc<T>(t: IntervalTree<T>, cap: number): void {
  const buf = new ArrayBuffer(cap * RECORD_BYTES);
  t._f = new Float64Array(buf);
  t._w = new Int32Array(buf);
  t._p = new Int32Array(cap);
  t._c = new Uint8Array(cap);
}

/** Doubles the storage, copying every record, parent and colour. */
function grow<T>(t: IntervalTree<T>): void {
  const cap = t._p.length * 2;
  if (cap > MAX_SLOTS) {
    throw new RangeError(`IntervalTree.insert: the tree is full (${MAX_SLOTS - 1} intervals)`);
  }
  const { _f: f, _p: p, _c: c } = t;
  alloc(t, cap);
  t._f.set(f);
  t._p.set(p);
  t._c.set(c);
}
