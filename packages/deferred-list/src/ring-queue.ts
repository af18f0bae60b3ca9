const MIN_CAPACITY = 8;

/** `SameValueZero`, as `Array.prototype.includes` uses: `===` except that NaN equals NaN. */
function sameValueZero(a: unknown, b: unknown): boolean {
  // biome-ignore lint/suspicious/noSelfCompare: x !== x is the NaN test.
  return a === b || (a !== a && b !== b);
}

/**
 * A FIFO queue on a power-of-two ring buffer. `push` and `shift` are O(1) and allocate nothing
 * once the buffer has grown to the largest size the queue reached (it never shrinks);
 * `removeFirst` is O(n) and moves the shorter side of the ring. Slots are cleared when an item
 * leaves, so the queue does not keep dead items reachable.
 *
 * Internal to {@link DeferredList} (not re-exported from the package index).
 */
export class RingQueue<T> {
  #items: (T | undefined)[];
  #mask: number;
  #head = 0;
  #size = 0;

  constructor() {
    this.#items = new Array<T | undefined>(MIN_CAPACITY).fill(undefined);
    this.#mask = MIN_CAPACITY - 1;
  }

  /** Number of queued items. */
  get size(): number {
    return this.#size;
  }

  /** Current capacity of the ring (a power of two, at least 8). */
  get capacity(): number {
    return this.#items.length;
  }

  /** Appends `item` at the tail. */
  push(item: T): void {
    if (this.#size === this.#items.length) this.#grow();
    this.#items[(this.#head + this.#size) & this.#mask] = item;
    this.#size++;
  }

  /** Removes and returns the head. The caller must check `size !== 0` first. */
  shift(): T {
    const head = this.#head;
    const item = this.#items[head] as T;
    this.#items[head] = undefined;
    this.#head = (head + 1) & this.#mask;
    this.#size--;
    return item;
  }

  /**
   * Removes the oldest item equal to `item` (SameValueZero) and keeps the order of the others.
   * Returns whether one was found.
   */
  removeFirst(item: T): boolean {
    const items = this.#items;
    const mask = this.#mask;
    const head = this.#head;
    const size = this.#size;
    let i = 0;
    while (i < size && !sameValueZero(items[(head + i) & mask], item)) i++;
    if (i === size) return false;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent: either side of the ring gives the same queue; the shorter move is only faster.
    if (i < size >>> 1) {
      // Closer to the head: move items [0, i) one slot towards the tail, then advance head.
      // Stryker disable next-line EqualityOperator: equivalent: j >= 0 also copies into items[head], which the next line clears.
      for (let j = i; j > 0; j--) items[(head + j) & mask] = items[(head + j - 1) & mask];
      items[head] = undefined;
      this.#head = (head + 1) & mask;
    } else {
      // Closer to the tail: move items (i, size) one slot towards the head.
      // Stryker disable next-line EqualityOperator: equivalent: j <= size - 1 also writes the last slot, which the next line clears.
      for (let j = i; j < size - 1; j++) items[(head + j) & mask] = items[(head + j + 1) & mask];
      items[(head + size - 1) & mask] = undefined;
    }
    this.#size = size - 1;
    return true;
  }

  /** Items from head to tail (for tests and debugging; allocates). */
  toArray(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.#size; i++) out.push(this.#items[(this.#head + i) & this.#mask] as T);
    return out;
  }

  #grow(): void {
    const old = this.#items;
    const next = new Array<T | undefined>(old.length * 2).fill(undefined);
    // Stryker disable next-line EqualityOperator: equivalent: grow() runs only when full, so i <= size copies the head into next[size], which push() overwrites at once.
    for (let i = 0; i < this.#size; i++) next[i] = old[(this.#head + i) & this.#mask];
    this.#items = next;
    this.#mask = next.length - 1;
    this.#head = 0;
  }
}
