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

/**
 * Where a live node's endpoints are kept: the owning tree's records (layout.ts: start at Float64
 * word slot*4, last at slot*4 + 1). The array is replaced when the tree grows, so nodes read it
 * through the owner every time.
 * @internal
 */
export interface SlotStore {
  _f: Float64Array;
}

/**
 * The endpoints of a node that left its tree (removed or cleared): its slot may be reused, so
 * the values are copied out here.
 * @internal
 */
export class Detached {
  constructor(
    readonly start: number,
    readonly last: number,
  ) {}
}

/**
 * The concrete handle. It holds only its owner and slot index (plus the value), so the tree's
 * numeric data stays in its typed-array records. `_i >= 0` means live in `_o`; `_i === -1` means detached
 * and `_o` holds the copied endpoints.
 * @internal
 */
export class TreeNode<T> implements IntervalNode<T> {
  /** @internal */
  _o: SlotStore | Detached;
  /** @internal */
  _i: number;
  value: T;

  constructor(owner: SlotStore, slot: number, value: T) {
    this._o = owner;
    this._i = slot;
    this.value = value;
  }

  get start(): number {
    const i = this._i;
    return i >= 0 ? (this._o as SlotStore)._f[i << 2]! : (this._o as Detached).start;
  }

  get last(): number {
    const i = this._i;
    return i >= 0 ? (this._o as SlotStore)._f[(i << 2) + 1]! : (this._o as Detached).last;
  }

  /** Copies the endpoints out of the owner and unlinks the handle from its slot. @internal */
  _detach(): void {
    const o = this._o as SlotStore;
    const i = this._i;
    this._o = new Detached(o._f[i << 2]!, o._f[(i << 2) + 1]!);
    this._i = -1;
  }
}
