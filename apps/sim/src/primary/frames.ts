/**
 * Physical frames. Each frame holds one number (its "contents") and a generation that is bumped
 * every time the frame is freed, so a translation that remembers (frame, generation) can tell
 * whether the frame it points to is still the one it mapped. Freed frames go on a LIFO stack
 * and are handed out again first: a use after free almost always hits a reused frame at once.
 */
export class FrameAllocator {
  /** Generation of each frame (bumped at free). */
  gen: Float64Array;
  /** Contents of each frame. */
  data: Float64Array;
  /** 1 while allocated. */
  used: Uint8Array;
  private freeStack: Int32Array;
  private freeTop = 0;
  private next = 0;
  /** Frames currently allocated. */
  allocated = 0;
  /** Total allocations. */
  allocations = 0;

  constructor(initialCapacity = 1024) {
    const n = Math.max(16, initialCapacity);
    this.gen = new Float64Array(n);
    this.data = new Float64Array(n);
    this.used = new Uint8Array(n);
    this.freeStack = new Int32Array(n);
  }

  /** Allocates a frame (LIFO reuse), zero-filled. */
  alloc(): number {
    let f: number;
    if (this.freeTop > 0) {
      f = this.freeStack[--this.freeTop]!;
    } else {
      if (this.next === this.gen.length) this.grow();
      f = this.next++;
    }
    this.used[f] = 1;
    this.data[f] = 0;
    this.allocated++;
    this.allocations++;
    return f;
  }

  /** Frees a frame: its generation changes, so stale (frame, gen) pairs are detectable. */
  free(f: number): void {
    if (this.used[f] !== 1) throw new Error(`double free of frame ${f}`);
    this.used[f] = 0;
    this.gen[f] = this.gen[f]! + 1;
    this.freeStack[this.freeTop++] = f;
    this.allocated--;
  }

  /** True if `f` is allocated and still at generation `g`. */
  isLive(f: number, g: number): boolean {
    return f >= 0 && f < this.next && this.used[f] === 1 && this.gen[f] === g;
  }

  private grow(): void {
    const n = this.gen.length * 2;
    const gen = new Float64Array(n);
    gen.set(this.gen);
    const data = new Float64Array(n);
    data.set(this.data);
    const used = new Uint8Array(n);
    used.set(this.used);
    const stack = new Int32Array(n);
    stack.set(this.freeStack);
    this.gen = gen;
    this.data = data;
    this.used = used;
    this.freeStack = stack;
  }
}
