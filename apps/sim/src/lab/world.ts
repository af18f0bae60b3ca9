import { MmuNotifierSubscriptions } from '@mmukit/mmu-notifier';
import { Scheduler, type Task } from '../scheduler.js';
import { LabChecker, NO_ENTRY } from './checker.js';
import type { LabConfig } from './config.js';
import { LabCounters } from './metrics.js';

/** The scheduling-point label of one step of a resolve. */
export const RESOLVE_LABEL = 'resolve (GUP / device latency)';

/**
 * The lab's world, shared by every strategy: the scheduler, the primary page table (a frame id
 * per page; a change moves the page to a brand-new frame id), the secondary page table the
 * strategies fill and zap, the notifier the invalidations go through, the checker and the
 * counters. Addresses are page numbers.
 */
export class LabWorld {
  readonly sched: Scheduler;
  /** The address space's notifier: every strategy subscribes here, every invalidation goes here. */
  readonly subs: MmuNotifierSubscriptions;
  /** Primary PTEs: page -> frame id. */
  readonly pte: Int32Array;
  /** Secondary entries: page -> frame id, or NO_ENTRY. */
  readonly spte: Int32Array;
  readonly checker: LabChecker;
  readonly counters = new LabCounters();
  private nextFrame: number;

  constructor(readonly config: LabConfig) {
    this.sched = new Scheduler({ seed: config.seed, maxSteps: config.steps * 50 + 100_000 });
    this.pte = new Int32Array(config.pages);
    for (let p = 0; p < config.pages; p++) this.pte[p] = p;
    this.nextFrame = config.pages;
    this.spte = new Int32Array(config.pages).fill(NO_ENTRY);
    this.checker = new LabChecker(this.sched, this.pte, this.spte);
    this.subs = new MmuNotifierSubscriptions({
      // A WARN of the core is a misuse by the strategy: a violation, not a console line.
      onWarning: (message) => this.checker.fail(`notifier warning: ${message}`),
    });
  }

  /**
   * Resolves `page` for task `t`: `resolveSteps` scheduling points (the GUP or device latency),
   * then the PTE as it is at that moment.
   */
  async resolve(t: Task, page: number): Promise<number> {
    for (let i = 0; i < this.config.resolveSteps; i++) await this.sched.yield(t, RESOLVE_LABEL);
    this.counters.resolves++;
    return this.pte[page]!;
  }

  /** Installs the secondary entry `page -> frame`, checked first. */
  install(page: number, frame: number): void {
    this.checker.install(page, frame);
    this.spte[page] = frame;
    this.counters.installs++;
  }

  /** Drops the secondary entries of the inclusive range `[first, last]`. */
  zap(first: number, last: number): void {
    this.spte.fill(NO_ENTRY, first, last + 1);
  }

  /** An access through the secondary entry of `page` (which exists), checked. */
  access(page: number): void {
    this.checker.access(page);
    this.counters.accesses++;
  }

  /**
   * One invalidation of `[first, last]` by task `t`: the strategy's start (through the notifier;
   * it may wait), a scheduling point, the check and the PTE change, a scheduling point, the
   * strategy's end. Records how long the start took.
   */
  async invalidate(t: Task, first: number, last: number): Promise<void> {
    const range = { start: first, end: last + 1, event: 'clear' as const };
    const called = this.sched.steps;
    await this.subs.invalidateRangeStart(range);
    this.counters.invalidationLatency.push(this.sched.steps - called);
    this.checker.opened(first, last);
    await this.sched.yield(t, 'invalidate: before the PTE change');
    this.checker.beforeChange(first, last);
    for (let p = first; p <= last; p++) this.pte[p] = this.nextFrame++;
    await this.sched.yield(t, 'invalidate: before the end');
    this.checker.closed(first, last);
    this.subs.invalidateRangeEnd(range);
    this.counters.invalidations++;
  }
}
