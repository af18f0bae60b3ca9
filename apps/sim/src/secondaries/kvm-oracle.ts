import type { FaultTracker, InvalidationTracker, KvmNotifierTracker } from '@mmukit/fault-retry';

/** The tracker checks the oracle judges. */
export type TrackerCheck = 'retryGfn' | 'retryGfnUnsafe' | 'retry' | 'retryCache';

/**
 * The sim's own account of KVM's invalidation bookkeeping (mmu_invalidate_seq, _in_progress and
 * the merged range), kept from the calls kvmNotifierOps makes, against which every state and
 * every answer of the real tracker is checked exactly. The rules it encodes are KVM's:
 * - begin() raises the count; the first of a burst (0 -> 1) forgets the merged range;
 * - rangeAdd() widens the merged range to the hull of the burst's ranges;
 * - end() bumps the sequence once and drops the count; the range stays until the next burst;
 * - retryGfn(seq, gfn) is true iff something is in progress and its merged range is unset or
 *   holds gfn, or an invalidation ended since the snapshot; retryGfnUnsafe() the same, but false
 *   for an unset range; retry(seq) and retryCache(seq) ignore the range.
 * A check that says "no retry" where the rules say "retry" can install a stale page; one that
 * says "retry" where they say "no" only costs a fault, but it is a wrong answer all the same.
 */
export class TrackerOracle {
  private inProgress = 0;
  private ends = 0;
  private hullStart = -1;
  private hullEnd = -1;
  private readonly seq0: number;
  private touched = 0;

  constructor(
    private readonly real: InvalidationTracker,
    private readonly fail: (message: string) => never,
  ) {
    this.seq0 = real.seq;
  }

  /** The tracker kvmNotifierOps drives: each call goes to the real one, then both must agree. */
  notifierSide(): KvmNotifierTracker {
    return {
      begin: () => {
        this.touched++;
        this.real.begin();
        if (++this.inProgress === 1) this.hullStart = this.hullEnd = -1;
        this.agree('begin');
        this.probe();
      },
      rangeAdd: (start, end) => {
        this.touched++;
        this.real.rangeAdd(start, end);
        if (this.hullStart < 0) {
          this.hullStart = start;
          this.hullEnd = end;
        } else {
          this.hullStart = Math.min(this.hullStart, start);
          this.hullEnd = Math.max(this.hullEnd, end);
        }
        this.agree('rangeAdd', start, end);
        this.probe();
      },
      end: () => {
        this.touched++;
        this.real.end();
        this.ends++;
        this.inProgress--;
        this.agree('end');
        this.probe();
      },
    };
  }

  /** Calls of begin/rangeAdd/end so far. */
  get calls(): number {
    return this.touched;
  }

  /** Invalidations in progress, by the sim's count. */
  get running(): number {
    return this.inProgress;
  }

  /** True if `[g0, g1)` lies inside the merged range of the running burst. */
  inHull(g0: number, g1: number): boolean {
    return this.inProgress > 0 && this.hullStart >= 0 && g0 >= this.hullStart && g1 <= this.hullEnd;
  }

  /**
   * Asks the real tracker every check at the edges of the merged range (or at gfn 0 without
   * one), with a current and a stale snapshot, and judges each answer: the checks are pure
   * reads, so the probes change nothing, and a wrong edge is found whether or not a fault
   * happens to ask about it.
   */
  private probe(): void {
    const r = this.real;
    // Two snapshots: the current one and, if there is one, the one before the last end.
    for (let k = 0; k < (r.seq > 0 ? 2 : 1); k++) {
      const seq = r.seq - k;
      const at = this.ends - k;
      if (this.hullStart < 0) this.probeGfn(seq, at, 0);
      else {
        // The edges of the merged range, in this order, those >= 0.
        if (this.hullStart >= 1) this.probeGfn(seq, at, this.hullStart - 1);
        this.probeGfn(seq, at, this.hullStart);
        if (this.hullEnd >= 1) this.probeGfn(seq, at, this.hullEnd - 1);
        if (this.hullEnd >= 0) this.probeGfn(seq, at, this.hullEnd);
      }
      this.judge('retry', 0, r.retry(seq), this.expect('any', at, 0), at);
      this.judge('retryCache', 0, r.retryCache(seq), this.expect('any', at, 0), at);
    }
  }

  /** probe()'s two gfn checks of `g` with the snapshot `seq` (taken when `at` had ended). */
  private probeGfn(seq: number, at: number, g: number): void {
    const r = this.real;
    this.judge('retryGfn', g, r.retryGfn(seq, g), this.expect('gfn', at, g), at);
    this.judge('retryGfnUnsafe', g, r.retryGfnUnsafe(seq, g), this.expect('unsafe', at, g), at);
  }

  /**
   * The real tracker's visible state against the sim's, after a call of `after` (rangeAdd's
   * arguments `start`, `end`; the message is only formatted on a failure).
   */
  private agree(after: 'begin' | 'rangeAdd' | 'end', start = 0, end = 0): void {
    const r = this.real;
    const hullStart = this.hullStart < 0 ? undefined : this.hullStart;
    const hullEnd = this.hullEnd < 0 ? undefined : this.hullEnd;
    if (
      r.inProgress !== this.inProgress ||
      r.seq !== this.seq0 + this.ends ||
      r.rangeStart !== hullStart ||
      r.rangeEnd !== hullEnd
    ) {
      const call = after === 'rangeAdd' ? `rangeAdd(${start}, ${end})` : `${after}()`;
      this.fail(
        `kvm: after tracker.${call} the tracker reads in progress ${r.inProgress}, seq ${r.seq}, range [${r.rangeStart}, ${r.rangeEnd}); expected ${this.inProgress}, ${this.seq0 + this.ends}, [${hullStart}, ${hullEnd})`,
      );
    }
  }

  /**
   * A fault's view of the tracker (one per vCPU: a vCPU has one fault at a time): snapshot()
   * notes how many invalidations had ended, and every check is compared with the rules.
   */
  faultSide(): OracleFaultTracker {
    return new OracleFaultTracker(this);
  }

  /** @internal the expected answers, for OracleFaultTracker. */
  expect(kind: 'gfn' | 'unsafe' | 'any', endsAt: number, gfn: number): boolean {
    if (this.ends !== endsAt) return true;
    if (this.inProgress === 0) return false;
    if (kind === 'any') return true;
    if (this.hullStart < 0) return kind === 'gfn';
    return gfn >= this.hullStart && gfn < this.hullEnd;
  }

  /** @internal */
  get ended(): number {
    return this.ends;
  }

  /** @internal the real tracker, for OracleFaultTracker. */
  get tracker(): InvalidationTracker {
    return this.real;
  }

  /**
   * @internal fails unless `got` is the rules' answer to the check `what` (of `gfn`, for the
   * gfn checks), asked with a snapshot taken when `endsAt` invalidations had ended.
   */
  judge(what: TrackerCheck, gfn: number, got: boolean, expected: boolean, endsAt: number): boolean {
    if (got !== expected) {
      const call =
        what === 'retry' || what === 'retryCache' ? `${what}(seq)` : `${what}(seq, ${gfn})`;
      this.fail(
        `kvm: tracker.${call} = ${got}, expected ${expected} (in progress ${this.inProgress}, merged range [${this.hullStart}, ${this.hullEnd}), ${this.ends - endsAt} ended since the snapshot)`,
      );
    }
    return got;
  }
}

/** The checks a vCPU's faults make, each judged by the oracle. */
export class OracleFaultTracker implements FaultTracker {
  private endsAt = 0;
  constructor(private readonly o: TrackerOracle) {}

  snapshot(): number {
    this.endsAt = this.o.ended;
    return this.o.tracker.snapshot();
  }

  /** What retryGfnUnsafe(seq, gfn) must answer now, for the snapshot taken last (not a call). */
  expectsUnsafeRetry(gfn: number): boolean {
    return this.o.expect('unsafe', this.endsAt, gfn);
  }

  retryGfn(seq: number, gfn: number): boolean {
    return this.judged('retryGfn', this.o.tracker.retryGfn(seq, gfn), 'gfn', gfn);
  }

  retryGfnUnsafe(seq: number, gfn: number): boolean {
    const got = this.o.tracker.retryGfnUnsafe(seq, gfn);
    return this.judged('retryGfnUnsafe', got, 'unsafe', gfn);
  }

  /** mmu_invalidate_retry(): range-agnostic, under the lock (arm64's fault). */
  retry(seq: number): boolean {
    return this.judged('retry', this.o.tracker.retry(seq), 'any', 0);
  }

  /** mmu_notifier_retry_cache(): range-agnostic, lockless (the pfn cache's refresh). */
  retryCache(seq: number): boolean {
    return this.judged('retryCache', this.o.tracker.retryCache(seq), 'any', 0);
  }

  /** `got` if it is the rules' answer for this snapshot, else a failed run. */
  private judged(
    what: TrackerCheck,
    got: boolean,
    kind: 'gfn' | 'unsafe' | 'any',
    gfn: number,
  ): boolean {
    return this.o.judge(what, gfn, got, this.o.expect(kind, this.endsAt, gfn), this.endsAt);
  }
}
