/**
 * The reference model for the property tests: the DeferredList contract written as plainly as
 * possible (array queue, Array#shift, Array#splice), with no error handling. Not a peer for the
 * benchmark (see bench/naive.ts for that).
 */
export class ModelDeferredList<W> {
  holders = 0;
  protected queue: W[] = [];
  #applying = false;

  constructor(private readonly apply: (work: W) => void) {}

  get pending(): number {
    return this.queue.length;
  }

  enter(): void {
    this.holders++;
  }

  exit(): void {
    if (this.holders === 0) throw new RangeError('underflow');
    this.holders--;
    this.drain();
  }

  submit(work: W): boolean {
    if (this.holders > 0 || this.#applying) {
      this.queue.push(work);
      return true;
    }
    this.#applying = true;
    this.apply(work);
    this.#applying = false;
    this.drain();
    return false;
  }

  cancel(work: W): boolean {
    const i = this.queue.findIndex((x) => Object.is(x, work) || (x === 0 && work === 0));
    if (i === -1) return false;
    this.queue.splice(i, 1);
    return true;
  }

  idle(): Promise<void> {
    return Promise.resolve();
  }

  /** Which queued item runs next; the LIFO negative control overrides it. */
  protected take(): W {
    return this.queue.shift() as W;
  }

  private drain(): void {
    if (this.#applying) return;
    this.#applying = true;
    while (this.holders === 0 && this.queue.length > 0) this.apply(this.take());
    this.#applying = false;
  }
}
