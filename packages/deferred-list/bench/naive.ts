/**
 * The obvious array-based implementation, the benchmark's peer: `Array#push` to queue,
 * `Array#shift` to drain, `splice` to cancel. It has no error aggregation and no re-entrancy
 * guard (an apply that submits during the drain is applied at once, nested, ahead of older
 * work): the interleaving property test keeps it as a negative control.
 */
export class NaiveDeferredList<W> {
  holders = 0;
  readonly #queue: W[] = [];

  constructor(private readonly apply: (work: W) => void) {}

  get pending(): number {
    return this.#queue.length;
  }

  enter(): void {
    this.holders++;
  }

  exit(): void {
    if (--this.holders === 0) {
      while (this.#queue.length > 0) this.apply(this.#queue.shift() as W);
    }
  }

  submit(work: W): boolean {
    if (this.holders === 0) {
      this.apply(work);
      return false;
    }
    this.#queue.push(work);
    return true;
  }

  cancel(work: W): boolean {
    const i = this.#queue.indexOf(work);
    if (i === -1) return false;
    this.#queue.splice(i, 1);
    return true;
  }

  idle(): Promise<void> {
    return Promise.resolve();
  }
}
