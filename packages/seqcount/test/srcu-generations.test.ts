import { describe, expect, it } from 'vitest';
import { Srcu } from '../src/srcu.js';

// Exactly which synchronize() calls each readUnlock() completes: a synchronize() waits for the
// readers inside when it was called (its generation and older ones), never for later ones.

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Which of the promises have resolved. */
function tracker(srcu: Srcu) {
  const done: boolean[] = [];
  return {
    sync() {
      const i = done.push(false) - 1;
      void srcu.synchronize().then(() => {
        done[i] = true;
      });
    },
    async done() {
      await flush();
      return [...done];
    },
  };
}

describe('Srcu generations', () => {
  it('a synchronize() does not wait for readers of the generation it opened', async () => {
    const srcu = new Srcu();
    const t = tracker(srcu);
    const a = srcu.readLock(); // generation 0
    t.sync(); // waits for generation 0
    const b = srcu.readLock(); // generation 1
    t.sync(); // waits for generations 0 and 1
    expect(srcu.waiting).toBe(2);
    srcu.readUnlock(a);
    expect(await t.done()).toEqual([true, false]); // b is still inside
    expect(srcu.waiting).toBe(1);
    srcu.readUnlock(b);
    expect(await t.done()).toEqual([true, true]);
    expect(srcu.waiting).toBe(0);
  });

  it('a middle generation that drains first completes nothing until the older ones drain', async () => {
    const srcu = new Srcu();
    const t = tracker(srcu);
    const a = srcu.readLock(); // generation 0
    t.sync();
    const b = srcu.readLock(); // generation 1
    t.sync();
    const c = srcu.readLock(); // generation 2
    t.sync();
    srcu.readUnlock(b);
    expect(await t.done()).toEqual([false, false, false]);
    srcu.readUnlock(a); // generations 0 and 1 are now both drained
    expect(await t.done()).toEqual([true, true, false]);
    srcu.readUnlock(c);
    expect(await t.done()).toEqual([true, true, true]);
  });

  it('keeps counting correctly after readers came and went with nobody synchronizing', async () => {
    const srcu = new Srcu();
    const t = tracker(srcu);
    for (let i = 0; i < 3; i++) srcu.readUnlock(srcu.readLock());
    const a = srcu.readLock();
    const b = srcu.readLock();
    expect(b).toBe(a); // same generation
    t.sync();
    srcu.readUnlock(a);
    expect(await t.done()).toEqual([false]);
    srcu.readUnlock(b);
    expect(await t.done()).toEqual([true]);
    expect(srcu.readers).toBe(0);
    const c = srcu.readLock();
    t.sync();
    srcu.readUnlock(c);
    expect(await t.done()).toEqual([true, true]);
  });
});
