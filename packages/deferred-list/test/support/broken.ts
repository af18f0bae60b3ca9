import { DeferredList } from '../../src/index.js';
import { ModelDeferredList } from './model.js';

/**
 * Negative controls: deliberately broken variants that the interleaving property must reject.
 */

/** Drains on every exit, not only the last: applies work while other holders are inside. */
export class DrainsOnEveryExit<W> extends DeferredList<W> {
  override exit(): void {
    super.exit();
    const others = this.holders;
    // Let the holder count drop to 0 for a moment so the base class drains, then restore it.
    for (let i = 0; i < others; i++) super.exit();
    for (let i = 0; i < others; i++) this.enter();
  }
}

/** Ignores cancel: the cancelled work is still applied. */
export class IgnoresCancel<W> extends DeferredList<W> {
  override cancel(_work: W): boolean {
    return false;
  }
}

/** Applies the queue last-in first-out (the kernel's hlist order), not in submit order. */
export class LifoDeferredList<W> extends ModelDeferredList<W> {
  protected override take(): W {
    return this.queue.pop() as W;
  }
}
