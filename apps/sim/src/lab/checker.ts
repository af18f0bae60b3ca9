import { type Scheduler, StopSignal } from '../scheduler.js';

/** What stopped a lab run: the checker's message, or the scheduler's (deadlock, livelock...). */
export interface LabViolation {
  kind: 'violation' | 'deadlock' | 'livelock' | 'crash';
  /** The scheduling step at which it was found. */
  step: number;
  message: string;
}

/** Marks a secondary page-table slot with no entry. */
export const NO_ENTRY = -1;

/**
 * The lab's invariant checker, the same for every strategy. It reads the primary page table
 * (`pte`) and the secondary one (`spte`) and knows which pages lie in an open invalidation
 * window (from the start returning to the end being called):
 *
 * - right before the primary changes a range, no secondary entry of it exists;
 * - an install is outside every open window and installs the current PTE;
 * - every access through a secondary entry sees the current PTE (else: a stale translation).
 *
 * A violation stops the run (the first one wins) and unwinds the task that found it.
 */
export class LabChecker {
  /** Per page: how many open invalidation windows cover it. */
  private readonly open: Int32Array;
  violation: LabViolation | undefined;
  /** Checks made, for the report (a checker that checks nothing would show 0). */
  checks = 0;

  constructor(
    private readonly sched: Scheduler,
    private readonly pte: Int32Array,
    private readonly spte: Int32Array,
  ) {
    this.open = new Int32Array(pte.length);
  }

  /** The start of `[first, last]` returned: its window is open. */
  opened(first: number, last: number): void {
    for (let p = first; p <= last; p++) this.open[p]!++;
  }

  /** The end of `[first, last]` is about to be called: its window closes. */
  closed(first: number, last: number): void {
    for (let p = first; p <= last; p++) this.open[p]!--;
  }

  /** The primary is about to change `[first, last]`: no secondary entry may be left in it. */
  beforeChange(first: number, last: number): void {
    this.checks++;
    for (let p = first; p <= last; p++) {
      if (this.spte[p] !== NO_ENTRY) {
        this.fail(
          `page ${p} still has a secondary entry (frame ${this.spte[p]}) when its PTE changes`,
        );
      }
    }
  }

  /** A secondary entry `page -> frame` is about to be installed. */
  install(page: number, frame: number): void {
    this.checks++;
    if (this.open[page]! > 0) {
      this.fail(`install of page ${page} inside an open invalidation window`);
    }
    if (frame !== this.pte[page]) {
      this.fail(
        `stale install: page ${page} -> frame ${frame}, the PTE maps frame ${this.pte[page]}`,
      );
    }
  }

  /** An access through the secondary entry of `page`. */
  access(page: number): void {
    this.checks++;
    if (this.spte[page] !== this.pte[page]) {
      this.fail(
        `stale translation: page ${page} accessed through frame ${this.spte[page]}, the PTE maps frame ${this.pte[page]}`,
      );
    }
  }

  /** At the end of a run: every secondary entry equals the primary's. */
  sweep(): void {
    for (let p = 0; p < this.spte.length; p++) {
      if (this.spte[p] !== NO_ENTRY) this.access(p);
    }
  }

  /** Records the violation, stops the run and unwinds the calling task. */
  fail(message: string): never {
    if (this.violation === undefined) {
      this.violation = { kind: 'violation', step: this.sched.steps, message };
    }
    this.sched.stop({ kind: 'violation', message });
    throw new StopSignal();
  }
}
