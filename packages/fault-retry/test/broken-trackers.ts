import { InvalidationTracker, type InvalidationTrackerLike } from '../src/index.js';

/**
 * Deliberately broken tracker for negative controls: rangeAdd() replaces the recorded range
 * instead of widening it, so a gfn covered by an earlier invalidation of the same burst is
 * no longer protected. Everything else delegates to a real tracker.
 */
export class NoHullTracker implements InvalidationTrackerLike {
  readonly #real = new InvalidationTracker();
  #start: number | undefined;
  #end: number | undefined;
  get seq() {
    return this.#real.seq;
  }
  get inProgress() {
    return this.#real.inProgress;
  }
  get rangeStart() {
    return this.#start;
  }
  get rangeEnd() {
    return this.#end;
  }
  begin() {
    this.#real.begin();
  }
  rangeAdd(start: number, end: number) {
    this.#real.rangeAdd(start, end);
    this.#start = start; // BUG: forgets the earlier ranges
    this.#end = end;
  }
  end() {
    this.#real.end();
  }
  snapshot() {
    return this.#real.snapshot();
  }
  retry(seq: number) {
    return this.#real.retry(seq);
  }
  retryGfn(seq: number, gfn: number) {
    if (this.inProgress > 0 && this.#start !== undefined && this.#end !== undefined) {
      if (gfn >= this.#start && gfn < this.#end) return true;
    }
    return this.seq !== seq;
  }
  retryGfnUnsafe(seq: number, gfn: number) {
    return this.retryGfn(seq, gfn);
  }
  retryCache(seq: number) {
    return this.#real.retryCache(seq);
  }
}
