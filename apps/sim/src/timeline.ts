import type { RunResult } from './scenario.js';
import type { Scheduler, SchedulerObserver, Task } from './scheduler.js';
import { FAULT_END, FAULT_GAVE_UP, type Trace, type TraceEvent } from './trace.js';

/** What a span stands for. */
export type SpanCategory = 'invalidation' | 'fault' | 'retry' | 'wait';

/** A closed interval of one task's time, in scheduling steps. */
export interface Span {
  /** Track (1-based task number, see Timeline.tracks). */
  tid: number;
  cat: SpanCategory;
  name: string;
  start: number;
  end: number;
  /** How many spans of the same track enclose it (0 = top level). */
  depth: number;
  args: Record<string, string | number | boolean>;
}

/** A point of one task's time. */
export interface Instant {
  tid: number;
  cat: 'violation' | 'eagain';
  name: string;
  step: number;
  args: Record<string, string | number | boolean>;
}

/** One fault (any path) with what happened inside it. */
export interface FaultRecord {
  /** cpu, kvm, hmm, vhost (the slow path's fault) or vhost-map (the map rebuild). */
  path: string;
  start: number;
  end: number;
  /** Retry spans inside the fault (collisions with an invalidation). */
  retries: number;
  /** Wait spans inside the fault (locks, mmap_lock, readBegin). */
  waits: number;
  /** 0 when it installed, else the -errno (FAULT_GAVE_UP: gave up after a collision). */
  result: number;
  /** Still open when the run stopped. */
  unfinished: boolean;
}

interface Open {
  span: Span;
  /** Closed by the task's next resume (a wait, or a retry's backoff yield). */
  untilResume: boolean;
  fault: FaultRecord | undefined;
}

/**
 * The yields that are a fault's retry backoff (kvm.ts: faultWithRetry's backoff; hmm-mirror.ts:
 * collisionRetry's backoff, `${name} read_retry`): a retry span lasts from that yield to the
 * task's next turn, when the next attempt starts.
 */
function retryOf(label: string): string | undefined {
  if (label === 'kvm fault retry') return 'kvm';
  if (label.endsWith(' read_retry')) return label.slice(0, -' read_retry'.length);
  return undefined;
}

/** The kind of a blocking wait from its label (locks.ts, glue.ts, vhost.ts, ops.ts). */
function waitKind(label: string): string {
  if (label.startsWith('lock:')) return 'lock';
  if (label === 'read:mmap_lock' || label === 'write:mmap_lock') return 'mmap_lock';
  if (label.endsWith('mmu_interval_read_begin')) return 'readBegin';
  return 'other';
}

const ERRNO_NAMES: Record<number, string> = {
  0: 'installed',
  [-1]: 'EPERM',
  [-14]: 'EFAULT',
  [-16]: 'EBUSY',
  [FAULT_GAVE_UP]: 'gave up (collision)',
};

/** A fault's result as a word. */
export function resultName(result: number): string {
  return ERRNO_NAMES[result] ?? `errno ${result}`;
}

/**
 * The spans of a run, per task, built while it runs from what it already reports: the trace's
 * events (invalidation start/end, vhost's map-rebuild collision, violations) and notes (a
 * fault's begin and end), and the scheduler's parks and resumes (blocking waits; the retry
 * backoff yields). Attach it with `onStart` of runScenario; call finish() with the result.
 *
 * Spans of one task nest by construction: each task has a stack of open spans, an end closes
 * the innermost open span of its kind (closing, and counting in `forcedCloses`, any opened
 * after it, which a correct simulation never leaves), and the run's end closes what is left
 * (marked unfinished).
 */
export class Timeline {
  readonly spans: Span[] = [];
  readonly instants: Instant[] = [];
  readonly faults: FaultRecord[] = [];
  /** Track names, by tid - 1: the tasks in spawn order, then '-' (no task running) if used. */
  readonly tracks: string[] = [];
  /** Spans closed because a span that enclosed them ended first (0 in a correct run). */
  forcedCloses = 0;
  /** Ends without a matching open span (0 in a correct run). */
  unmatchedEnds = 0;
  private readonly tids = new Map<string, number>();
  private readonly stacks: Open[][] = [];
  private sched: Scheduler | undefined;
  private finished = false;

  /** Starts listening to a run's trace and scheduler (runScenario's `onStart`). */
  attach(trace: Trace, sched: Scheduler): void {
    this.sched = sched;
    trace.listener = (e) => this.onEvent(e);
    const observer: SchedulerObserver = {
      parked: (t, label, blocked) => this.onPark(t, label, blocked),
      resumed: (t) => this.onResume(t),
    };
    sched.observer = observer;
  }

  /** The track of a task name (tasks get their spawn order; others come after). */
  tidOf(name: string): number {
    if (this.tids.size === 0 && this.sched !== undefined) {
      for (const t of this.sched.allTasks) this.track(t.name);
    }
    return this.tids.get(name) ?? this.track(name);
  }

  private track(name: string): number {
    const known = this.tids.get(name);
    if (known !== undefined) return known;
    this.tracks.push(name);
    this.stacks.push([]);
    const tid = this.tracks.length;
    this.tids.set(name, tid);
    return tid;
  }

  private stackOf(tid: number): Open[] {
    return this.stacks[tid - 1]!;
  }

  private open(
    tid: number,
    cat: SpanCategory,
    name: string,
    step: number,
    args: Span['args'],
    untilResume = false,
    fault?: FaultRecord,
  ): void {
    const stack = this.stackOf(tid);
    const span: Span = { tid, cat, name, start: step, end: step, depth: stack.length, args };
    stack.push({ span, untilResume, fault });
  }

  /** Closes the innermost open span of `tid` that `match` accepts (and any opened after it). */
  private close(tid: number, step: number, match: (o: Open) => boolean): Open | undefined {
    const stack = this.stackOf(tid);
    let i = stack.length - 1;
    while (i >= 0 && !match(stack[i]!)) i--;
    if (i < 0) {
      this.unmatchedEnds++;
      return undefined;
    }
    while (stack.length - 1 > i) {
      this.forcedCloses++;
      this.finish1(stack, stack.pop()!, step, true);
    }
    const o = stack.pop()!;
    this.finish1(stack, o, step, false);
    return o;
  }

  /** Records a closed span and counts it in the fault that encloses it, if any. */
  private finish1(stack: Open[], o: Open, step: number, unfinished: boolean): void {
    const span = o.span;
    span.end = Math.max(span.start, step);
    if (unfinished) span.args.unfinished = true;
    this.spans.push(span);
    if (o.fault !== undefined) {
      o.fault.end = span.end;
      o.fault.unfinished = unfinished;
      this.faults.push(o.fault);
      return;
    }
    if (span.cat !== 'retry' && span.cat !== 'wait') return;
    for (let i = stack.length - 1; i >= 0; i--) {
      const f = stack[i]!.fault;
      if (f === undefined) continue;
      if (span.cat === 'retry') f.retries++;
      else f.waits++;
      return;
    }
  }

  private onEvent(e: Readonly<TraceEvent>): void {
    if (this.finished) return;
    const kind = e.kind;
    const tid = this.tidOf(e.task);
    if (kind.startsWith('fault-begin ')) {
      const path = kind.slice('fault-begin '.length);
      const fault: FaultRecord = {
        path,
        start: e.step,
        end: e.step,
        retries: 0,
        waits: 0,
        result: 0,
        unfinished: false,
      };
      const args: Span['args'] =
        path === 'vhost-map'
          ? { ring: e.a, pages: e.b }
          : { [path === 'kvm' ? 'gfn' : 'page']: e.a, write: e.b === 1 };
      this.open(tid, 'fault', `fault ${path}`, e.step, args, false, fault);
    } else if (kind === FAULT_END) {
      const o = this.close(tid, e.step, (x) => x.fault !== undefined);
      if (o?.fault !== undefined) {
        o.fault.result = e.a;
        o.span.args.result = resultName(e.a);
      }
    } else if (kind.startsWith('inv-start')) {
      // inv-start EVENT, inv-start-nonblock EVENT, inv-start-nonblock EVENT EAGAIN
      const words = kind.split(' ');
      const event = words[1] ?? '?';
      if (words[2] === 'EAGAIN') {
        this.instant(tid, 'eagain', `EAGAIN ${event}`, e.step, { start: e.a, end: e.b });
        return;
      }
      const blockable = words[0] === 'inv-start';
      this.open(tid, 'invalidation', `invalidate ${event}`, e.step, {
        event,
        start: e.a,
        end: e.b,
        blockable,
      });
    } else if (kind.startsWith('inv-end ')) {
      this.close(tid, e.step, (x) => x.span.cat === 'invalidation');
    } else if (kind === 'vhost prefetch retry') {
      // The map rebuild gives up at its first collision (maxRetries 0): a retry of no length.
      this.open(tid, 'retry', 'retry vhost', e.step, { ring: e.a });
      this.close(tid, e.step, (x) => x.span.cat === 'retry');
    } else if (kind.startsWith('VIOLATION')) {
      this.instant(tid, 'violation', kind, e.step, {});
    } else if (kind.endsWith('EAGAIN') || kind.endsWith('trylock failed')) {
      this.instant(tid, 'eagain', kind, e.step, { start: e.a, end: e.b });
    }
  }

  private instant(
    tid: number,
    cat: Instant['cat'],
    name: string,
    step: number,
    args: Instant['args'],
  ): void {
    this.instants.push({ tid, cat, name, step, args });
  }

  private onPark(t: Task, label: string, blocked: boolean): void {
    if (this.finished) return;
    const step = this.sched!.steps;
    if (blocked) {
      this.open(this.tidOf(t.name), 'wait', `wait ${label}`, step, { kind: waitKind(label) }, true);
      return;
    }
    const retry = retryOf(label);
    if (retry !== undefined)
      this.open(this.tidOf(t.name), 'retry', `retry ${retry}`, step, {}, true);
  }

  private onResume(t: Task): void {
    if (this.finished) return;
    const stack = this.stackOf(this.tidOf(t.name));
    const top = stack[stack.length - 1];
    if (top?.untilResume === true)
      this.close(this.tidOf(t.name), this.sched!.steps, (x) => x === top);
  }

  /**
   * Ends the timeline at the run's end: closes what is still open (a run stopped by a violation
   * leaves tasks inside spans) and adds an instant for a stop that the trace did not record
   * (deadlock, livelock, crash). Idempotent.
   */
  finish(r: RunResult): this {
    if (this.finished) return this;
    for (const t of this.sched?.allTasks ?? []) this.tidOf(t.name);
    for (let tid = 1; tid <= this.stacks.length; tid++) {
      const stack = this.stackOf(tid);
      while (stack.length > 0) this.finish1(stack, stack.pop()!, r.steps, true);
    }
    const v = r.violation;
    if (v !== undefined) {
      const recorded = this.instants.find((i) => i.cat === 'violation');
      if (recorded === undefined) {
        this.instant(this.tidOf('-'), 'violation', `VIOLATION ${v.kind}`, v.step, {});
      }
      const target = recorded ?? this.instants[this.instants.length - 1]!;
      target.args.message = v.message.split('\n')[0] ?? '';
    }
    this.finished = true;
    return this;
  }
}
