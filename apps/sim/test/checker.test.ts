import { describe, expect, it } from 'vitest';
import type { SecondaryView, TranslationVisitor } from '../src/checker.js';
import { PTE_WRITE } from '../src/primary/page-table.js';
import { StopSignal } from '../src/scheduler.js';
import { makeWorld } from './world.js';

/** A secondary whose table the test writes directly. */
class FakeSecondary implements SecondaryView {
  readonly name = 'fake';
  entries = new Map<number, { frame: number; gen: number; writable: boolean }>();
  forEachTranslation(fn: TranslationVisitor): void {
    for (const [p, e] of this.entries) fn(p, e.frame, e.gen, e.writable);
  }
  forEachTranslationIn(start: number, end: number, fn: TranslationVisitor): void {
    for (const [p, e] of this.entries) if (p >= start && p < end) fn(p, e.frame, e.gen, e.writable);
  }
}

function setup() {
  const w = makeWorld({ pages: 256 });
  const fake = new FakeSecondary();
  w.checker.addSecondary(fake);
  // Map page 10 -> a fresh frame, writable.
  const f = w.mm.frames.alloc();
  w.mm.pt.frame[10] = f;
  w.mm.pt.flags[10] = PTE_WRITE;
  return { w, fake, f, gen: w.mm.frames.gen[f]! };
}

describe('Checker', () => {
  it('accepts a translation equal to the primary one, and a read of the last write', () => {
    const { w, fake, f, gen } = setup();
    fake.entries.set(10, { frame: f, gen, writable: true });
    w.checker.sweep();
    const v = w.checker.write('fake', 10, f, gen);
    expect(w.checker.read('fake', 10, f, gen)).toBe(v);
    expect(w.checker.violation).toBeUndefined();
  });

  it('flags a translation to a frame the primary does not map there (I1)', () => {
    const { w, fake, gen } = setup();
    const other = w.mm.frames.alloc();
    fake.entries.set(10, { frame: other, gen, writable: false });
    expect(() => w.checker.sweep()).toThrow(StopSignal);
    expect(w.checker.violation?.message).toMatch(
      /fake: sweep: page 10 -> frame 1 but the primary maps it to frame 0/,
    );
    expect(w.sched.isStopped).toBe(true);
  });

  it('flags write permission the primary does not give (I1)', () => {
    const { w, fake, f, gen } = setup();
    w.mm.pt.flags[10] = 0;
    fake.entries.set(10, { frame: f, gen, writable: true });
    expect(() => w.checker.changed(0, 256)).toThrow(StopSignal);
    expect(w.checker.violation?.message).toMatch(
      /writable in the secondary but read-only in the primary/,
    );
  });

  it('flags an access through a freed and reused frame (I2)', () => {
    const { w, f, gen } = setup();
    w.mm.pt.frame[10] = -1;
    w.mm.frames.free(f);
    const again = w.mm.frames.alloc(); // LIFO: the same frame, next generation
    expect(again).toBe(f);
    expect(() => w.checker.read('fake', 10, f, gen)).toThrow(StopSignal);
    expect(w.checker.violation?.message).toMatch(
      /use after free: read of page 10 through frame 0 gen 0; the frame is now reused \(gen 1\)/,
    );
  });

  it('flags a read that does not return the last write (I3)', () => {
    const { w, f, gen } = setup();
    w.checker.write('fake', 10, f, gen);
    w.mm.frames.data[f] = 12345; // someone wrote behind everyone's back
    expect(() => w.checker.read('cpu', 10, f, gen)).toThrow(StopSignal);
    expect(w.checker.violation?.message).toMatch(/returned 12345, but the last write stored 1/);
  });

  it('flags a translation that survives release() (I4)', () => {
    const { w, fake, f, gen } = setup();
    fake.entries.set(10, { frame: f, gen, writable: false });
    expect(() => w.checker.released()).toThrow(StopSignal);
    expect(w.checker.violation?.message).toMatch(/still maps page 10 -> frame 0 after release/);
  });

  it('keeps the first violation', () => {
    const { w, f, gen } = setup();
    expect(() => w.checker.fail('first')).toThrow(StopSignal);
    expect(() => w.checker.read('cpu', 11, f, gen + 1)).toThrow(StopSignal);
    expect(w.checker.violation?.message).toBe('first');
  });
});
