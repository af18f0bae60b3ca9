import type { FrameAllocator } from './primary/frames.js';
import type { PrimaryObserver } from './primary/mm.js';
import type { PageTable } from './primary/page-table.js';
import { PTE_PROTNONE, PTE_WRITE } from './primary/page-table.js';
import { type Scheduler, StopSignal } from './scheduler.js';
import type { Trace } from './trace.js';

/** Visits one secondary translation: virtual page -> (frame, generation, writable). */
export type TranslationVisitor = (
  page: number,
  frame: number,
  gen: number,
  writable: boolean,
) => void;

/**
 * The read-only window the checker has on a secondary MMU's translation table. The checker
 * never calls anything else of a secondary, so its verdicts do not depend on their code.
 */
export interface SecondaryView {
  readonly name: string;
  /** Every live translation. */
  forEachTranslation(fn: TranslationVisitor): void;
  /** Every live translation of a virtual page in `[start, end)`. */
  forEachTranslationIn(start: number, end: number, fn: TranslationVisitor): void;
}

/** The primary state the checker reads. */
export interface PrimaryState {
  readonly pt: PageTable;
  readonly frames: FrameAllocator;
}

/** A violation: what, when, and the last events before it. */
export interface Violation {
  kind: 'violation' | 'deadlock' | 'livelock' | 'crash';
  step: number;
  message: string;
  trace: string[];
}

/**
 * The invariant checker. Invariants (page = virtual page, PTE = primary page-table entry):
 *
 * I1 (agreement) — every live secondary translation of a page equals the primary's current
 *    translation: the PTE maps the same frame, the frame is still at the generation the
 *    secondary recorded, the page is accessible (not PROT_NONE), and if the secondary allows
 *    writes the PTE does too. Checked (a) when a secondary installs a translation, (b) when any
 *    path accesses memory through one, (c) when an invalidation window in which the primary
 *    changed PTEs ends (the page table reports them, see PageTableObserver), for every
 *    translation in the changed range (the primary changes PTEs only after
 *    invalidateRangeStart returned, so every secondary must already have dropped them: this is
 *    the kernel's "upon return the caller must stop using any SPTEs in the range"), and (d) in
 *    a full sweep every `sweepEvery` scheduling steps and at the end of the run.
 * I2 (no use after free) — an access goes to a frame that is allocated and at the generation
 *    recorded in the translation used (implied by I1 at access time, reported separately).
 * I3 (coherence) — every read, through any path (CPU, KVM, HMM, vhost), returns the value of
 *    the last write to that virtual page through any path (the logical memory below, updated
 *    by the primary for zap/zero-fill, move and unmap).
 * I4 (teardown) — after release() no secondary holds any translation.
 */
export class Checker implements PrimaryObserver {
  private readonly secondaries: SecondaryView[] = [];
  /** Per secondary (same index), the I1 visitors, made once instead of per check. */
  private readonly afterChangeVisitors: TranslationVisitor[] = [];
  private readonly sweepVisitors: TranslationVisitor[] = [];
  /** Logical contents of every virtual page (what a read must return). */
  readonly expected: Float64Array;
  private writeSeq = 0;
  /** Checks done, by kind (for the report). */
  checks = 0;
  violation: Violation | undefined;

  constructor(
    private readonly primary: PrimaryState,
    private readonly sched: Scheduler,
    private readonly trace: Trace,
    pages: number,
  ) {
    this.expected = new Float64Array(pages);
  }

  /** Registers a secondary's view. */
  addSecondary(view: SecondaryView): void {
    this.secondaries.push(view);
    const who = view.name;
    this.afterChangeVisitors.push((page, frame, gen, writable) =>
      this.agree(who, 'after a primary change', page, frame, gen, writable),
    );
    this.sweepVisitors.push((page, frame, gen, writable) =>
      this.agree(who, 'sweep', page, frame, gen, writable),
    );
  }

  /** Records a violation, stops the scheduler and unwinds the calling task. */
  fail(message: string, kind: Violation['kind'] = 'violation'): never {
    if (this.violation === undefined) {
      this.trace.add(this.sched.steps, this.sched.current?.name ?? '-', `VIOLATION ${kind}`);
      this.violation = { kind, step: this.sched.steps, message, trace: this.trace.tail() };
      this.sched.stop({ kind, message });
    }
    throw new StopSignal();
  }

  /** I1 for one translation; `who` names the secondary, `what` the moment. */
  agree(
    who: string,
    what: string,
    page: number,
    frame: number,
    gen: number,
    writable: boolean,
  ): void {
    this.checks++;
    this.agreeFrame(who, what, page, frame);
    if (this.primary.frames.gen[frame] !== gen || this.primary.frames.used[frame] !== 1) {
      this.fail(
        `${who}: ${what}: page ${page} -> frame ${frame} gen ${gen}, but that frame was freed (now gen ${this.primary.frames.gen[frame]})`,
      );
    }
    this.agreeFlags(who, what, page, writable);
  }

  /** I1's first part: the primary maps `page` to `frame`. */
  private agreeFrame(who: string, what: string, page: number, frame: number): void {
    const f = this.primary.pt.frame[page]!;
    if (f !== frame) {
      this.fail(
        `${who}: ${what}: page ${page} -> frame ${frame} but the primary maps it to ${f < 0 ? 'nothing' : `frame ${f}`}`,
      );
    }
  }

  /** I1's last part: the page is accessible, and writable if the translation is. */
  private agreeFlags(who: string, what: string, page: number, writable: boolean): void {
    const flags = this.primary.pt.flags[page]!;
    if ((flags & PTE_PROTNONE) !== 0)
      this.fail(`${who}: ${what}: page ${page} is PROT_NONE in the primary but mapped`);
    if (writable && (flags & PTE_WRITE) === 0) {
      this.fail(
        `${who}: ${what}: page ${page} writable in the secondary but read-only in the primary`,
      );
    }
  }

  /** I1 at install time. */
  onInstall(who: string, page: number, frame: number, gen: number, writable: boolean): void {
    this.agree(who, 'install', page, frame, gen, writable);
  }

  /** A read through a translation: checks I1/I2 and I3, returns the value. */
  read(who: string, page: number, frame: number, gen: number): number {
    this.checkLive(who, page, frame, gen, 'read');
    // agree(), without its liveness test: checkLive just passed the same (and more).
    this.checks++;
    this.agreeFrame(who, 'read', page, frame);
    this.agreeFlags(who, 'read', page, false);
    const v = this.primary.frames.data[frame]!;
    if (v !== this.expected[page]) {
      this.fail(
        `${who}: read of page ${page} (frame ${frame}) returned ${v}, but the last write stored ${this.expected[page]}`,
      );
    }
    return v;
  }

  /** A write through a translation: checks I1/I2, stores a fresh value, returns it. */
  write(who: string, page: number, frame: number, gen: number): number {
    this.checkLive(who, page, frame, gen, 'write');
    this.checks++; // agree(), without its liveness test (as in read)
    this.agreeFrame(who, 'write', page, frame);
    this.agreeFlags(who, 'write', page, true);
    const v = ++this.writeSeq;
    this.primary.frames.data[frame] = v;
    this.expected[page] = v;
    return v;
  }

  /** The primary dropped the contents of `[start, end)` (a zap): they read as zero now. */
  zeroed(start: number, end: number): void {
    // Mostly one page (a zap reports each page): a loop, not a call into TypedArray#fill.
    const expected = this.expected;
    for (let p = start; p < end; p++) expected[p] = 0;
  }

  /** The primary moved `len` pages from `from` to `to` (mremap). */
  moved(from: number, to: number, len: number): void {
    this.expected.copyWithin(to, from, from + len);
    this.expected.fill(0, from, from + len);
  }

  /** I1(c): the primary changed PTEs of `[start, end)` in an invalidation window now ending. */
  changed(start: number, end: number): void {
    const views = this.secondaries;
    for (let i = 0; i < views.length; i++)
      views[i]!.forEachTranslationIn(start, end, this.afterChangeVisitors[i]!);
  }

  /** I1(d): full sweep. */
  sweep(): void {
    const views = this.secondaries;
    for (let i = 0; i < views.length; i++) views[i]!.forEachTranslation(this.sweepVisitors[i]!);
  }

  /** I4: after release() returned. */
  released(): void {
    for (const s of this.secondaries) {
      s.forEachTranslation((page, frame) => {
        this.fail(`${s.name}: still maps page ${page} -> frame ${frame} after release()`);
      });
    }
  }

  private checkLive(who: string, page: number, frame: number, gen: number, op: string): void {
    if (!this.primary.frames.isLive(frame, gen)) {
      this.fail(
        `${who}: use after free: ${op} of page ${page} through frame ${frame} gen ${gen}; the frame is now ${this.primary.frames.used[frame] === 1 ? `reused (gen ${this.primary.frames.gen[frame]})` : 'free'}`,
      );
    }
  }
}
