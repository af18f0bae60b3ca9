import {
  isMmuNotifierEvent,
  type MmuNotifierSubscriptions,
  type MmuNotifierTraceEvent,
  type MmuNotifierTracer,
} from '@mmukit/mmu-notifier';

/** NotifierAudit's per-range bits: the start hit an interval subscription, or hit none. */
const RANGE_HIT = 1;
const RANGE_MISSED = 2;
/** A start, end or failed-start event not yet acknowledged by saw(). */
const RANGE_SEEN_START = 4;
const RANGE_SEEN_END = 8;
const RANGE_SEEN_FAILED = 16;
/** A callback refused the range (EAGAIN): no later callback may be called. */
const RANGE_REFUSED = 32;

/**
 * A range object that keeps the audit's bits for itself (the primary makes its ranges so, and
 * reuses them): `auditBits` starts at 0 and only the audit writes it.
 */
export interface AuditedRange {
  auditBits: number;
}

/**
 * Checks the notifier core's trace events against its public state at the moment each is
 * emitted (the tracer runs synchronously inside the core), so that what the core says it did
 * matches what it did:
 * - `start`: `curSeq` is `invalidateSeq` now, odd when an interval subscription was hit;
 * - `invalidate`: only for a range whose start hit, to a subscription overlapping it, with the
 *   current odd `curSeq`;
 * - `end`: `invalidateSeq` as now; the last end of a busy period leaves it even;
 * - `wake`: `invalidateSeq` even, and `applied` is the number of inserts and removals deferred
 *   during the busy period (not counting cancelled ones);
 * - `insert`/`remove`: deferred (or a pending insert cancelled) only while invalidating, done
 *   at once only while not, and the subscription's `state` says which
 *   ('pending-insert', 'pending-remove'; 'active' or 'removed' when done at once); an insert
 *   while a range is active takes the odd `invalidateSeq` as its sequence, one made idle the
 *   value one below it;
 * - `wait`: a readBegin wait is for the subscription's own sequence, equal to the odd
 *   `invalidateSeq`; every readBegin the sim expects to wait announces one (see readBeginWaits);
 * - `start-failed`: for EAGAIN or failed callbacks, never for nothing (what failed is checked
 *   where the start returns, see AddressSpace.invStart).
 * And nothing is left out: every start, end and failed start the sim makes, every callback it
 * receives, every end of a busy period and every deferred removal emit their event (saw(),
 * called(), wakes, removeWaits); no callback is called after one refused the range.
 */
export class NotifierAudit {
  /** readBegin waits announced so far (the sim's readBegin checks one per wait it expects). */
  readBeginWaits = 0;
  /** Inserts and removals deferred in the current busy period. */
  private deferred = 0;
  /**
   * What the audit knows of each range, as RANGE_* bits: whether its start hit an interval
   * subscription (until its end), its start, end or failed-start events not yet acknowledged
   * by saw(), and whether a callback refused it. One plain map, whose entries are cleared to 0
   * rather than deleted: the primary reuses its range objects, so it stays small, and a table
   * that neither shrinks nor grows allocates nothing per range (cheaper than weak collections
   * or sets emptied and refilled at every start and end). The primary's own ranges carry their
   * bits themselves (AuditedRange): only the ranges made elsewhere (the core's own, a test's)
   * go through the map.
   */
  private readonly ranges = new Map<object, number>();
  /** A warning event whose message has not reached the onWarning sink yet. */
  private pendingWarning: string | undefined;
  /** The last invalidate event's range and subscription (the callback runs right after it). */
  private lastRange: object | undefined;
  private lastSub: object | undefined;
  /** Wakes and remove waits so far. */
  wakes = 0;
  removeWaits = 0;

  constructor(
    private readonly subs: MmuNotifierSubscriptions,
    private readonly fail: (message: string) => never,
  ) {}

  /**
   * Whether the core was invalidating after the last event: every change of that state emits
   * one (a start that hits, an insert during an active range, the wake at the last end).
   */
  private wasBusy = false;

  readonly tracer: MmuNotifierTracer = (e) => {
    this.check(e);
    this.wasBusy = this.subs.isInvalidating;
  };

  /**
   * For the sim, after a call into the core: fails unless a `type` event about `range` was
   * emitted and not yet acknowledged (a start, end or failed start must announce itself).
   */
  saw(type: 'start' | 'end' | 'start-failed', range: object, what: string): void {
    const bits = this.bitsOf(range);
    const bit =
      type === 'start' ? RANGE_SEEN_START : type === 'end' ? RANGE_SEEN_END : RANGE_SEEN_FAILED;
    if ((bits & bit) === 0) this.fail(`notifier trace: ${what} emitted no ${type} event`);
    this.setBits(range, bits & ~bit);
  }

  /** For an interval callback: fails unless the core announced this very call. */
  called(sub: object, range: object, who: string): void {
    if (this.lastRange !== range || this.lastSub !== sub) {
      this.fail(`notifier trace: ${who}'s invalidate was called without an invalidate event`);
    }
    this.lastRange = undefined;
  }

  /**
   * Whether every callback that can answer false reports it (refuse()): the built-in
   * secondaries do; a secondary brought by the user does not, and turns this off.
   */
  refusalsKnown = true;

  /**
   * For a callback (interval or classic) that returned false (EAGAIN): an interval walk must stop
   * there, and the failed start's EAGAIN must come from such a refusal.
   */
  refuse(range: object): void {
    this.setBits(range, this.bitsOf(range) | RANGE_REFUSED);
  }

  /** The RANGE_* bits of `range`: its own (an AuditedRange) or the map's. */
  private bitsOf(range: object): number {
    const own = (range as Partial<AuditedRange>).auditBits;
    return own !== undefined ? own : (this.ranges.get(range) ?? 0);
  }

  private setBits(range: object, bits: number): void {
    if ((range as Partial<AuditedRange>).auditBits !== undefined)
      (range as AuditedRange).auditBits = bits;
    else this.ranges.set(range, bits);
  }

  private check(e: MmuNotifierTraceEvent): void {
    const seq = this.subs.invalidateSeq;
    switch (e.type) {
      case 'start': {
        const bits = this.bitsOf(e.range) | RANGE_SEEN_START;
        this.setBits(e.range, bits); // seen even if a check below fails
        if ((bits & (RANGE_HIT | RANGE_MISSED)) !== 0)
          this.bad(e, 'for a range already started and not ended');
        if (!isMmuNotifierEvent(e.range.event))
          this.bad(e, `with the event ${String(e.range.event)}`);
        if (e.curSeq !== seq) this.bad(e, `says curSeq ${e.curSeq}, invalidateSeq is ${seq}`);
        if (e.hit && seq % 2 === 0)
          this.bad(e, `says an interval subscription was hit, but seq ${seq} is even`);
        this.setBits(e.range, bits | (e.hit ? RANGE_HIT : RANGE_MISSED));
        break;
      }
      case 'invalidate': {
        this.lastRange = e.range;
        this.lastSub = e.sub;
        const bits = this.bitsOf(e.range);
        if ((bits & RANGE_HIT) === 0) this.bad(e, 'for a range whose start hit nothing');
        if ((bits & RANGE_REFUSED) !== 0)
          this.bad(e, 'after a callback refused the range (EAGAIN)');
        if (e.curSeq !== seq || seq % 2 === 0)
          this.bad(e, `with curSeq ${e.curSeq}, invalidateSeq ${seq}`);
        if (e.sub.start >= e.range.end || e.sub.last < e.range.start) {
          this.bad(
            e,
            `to [${e.sub.start}, ${e.sub.last}], outside [${e.range.start}, ${e.range.end})`,
          );
        }
        break;
      }
      case 'end': {
        const bits = this.bitsOf(e.range);
        this.setBits(e.range, (bits & ~(RANGE_HIT | RANGE_MISSED)) | RANGE_SEEN_END);
        if (e.invalidateSeq !== seq)
          this.bad(e, `says invalidateSeq ${e.invalidateSeq}, it is ${seq}`);
        if (e.active === 0 && seq % 2 !== 0)
          this.bad(e, `ends the last range with an odd seq ${seq}`);
        break;
      }
      case 'start-failed': {
        const bits = this.bitsOf(e.range);
        const cleared = bits & ~(RANGE_HIT | RANGE_MISSED | RANGE_REFUSED);
        this.setBits(e.range, cleared | RANGE_SEEN_FAILED);
        if (e.errors === 0 && !e.eagain) this.bad(e, 'with neither EAGAIN nor an error');
        // EAGAIN comes from a callback that answered false (each secondary calls refuse()).
        if (e.eagain && this.refusalsKnown && (bits & RANGE_REFUSED) === 0)
          this.bad(e, 'says EAGAIN, but no callback refused the range');
        break;
      }
      case 'wake':
        if (e.invalidateSeq !== seq || seq % 2 !== 0)
          this.bad(e, `with invalidateSeq ${e.invalidateSeq}`);
        if (e.applied !== this.deferred)
          this.bad(e, `applied ${e.applied}, ${this.deferred} were deferred`);
        this.deferred = 0;
        this.wakes++;
        break;
      case 'insert':
      case 'remove': {
        const busy = this.subs.isInvalidating;
        const want = {
          now: e.type === 'insert' ? 'active' : 'removed',
          deferred: e.type === 'insert' ? 'pending-insert' : 'pending-remove',
          cancelled: 'removed',
        }[e.how];
        // Deferred or cancelled only while invalidating; a removal done at once only while not
        // (an insert done at once during an active range makes the sequence odd itself).
        const ok = e.how === 'now' ? !this.wasBusy && (e.type === 'insert' || !busy) : busy;
        if (!ok) this.bad(e, `${e.how} while ${busy ? '' : 'not '}invalidating`);
        if (e.sub.state !== want) this.bad(e, `${e.how}, but the subscription is ${e.sub.state}`);
        // An insert while a range is active joins (or opens) the busy period: its sequence is
        // the odd invalidateSeq, so its first readBegin waits for the end; idle, one below it.
        if (e.type === 'insert') {
          const active = this.subs.activeInvalidateRanges !== 0;
          if (active ? !busy || e.sub.seq !== seq : e.sub.seq !== seq - 1) {
            this.bad(e, `leaves the subscription's seq ${e.sub.seq} with invalidateSeq ${seq}`);
          }
        }
        if (e.how === 'deferred') this.deferred++;
        else if (e.how === 'cancelled') this.deferred--;
        break;
      }
      case 'warning':
        // The core emits the event, then calls onWarning with the same message (warned()).
        if (this.pendingWarning !== undefined)
          this.bad(e, `came before the previous warning reached onWarning`);
        this.pendingWarning = e.message;
        break;
      case 'wait':
        if (e.seq !== seq || seq % 2 === 0)
          this.bad(e, `for seq ${e.seq}, invalidateSeq is ${seq}`);
        if (e.reason === 'readBegin') {
          if (e.sub.seq !== e.seq)
            this.bad(e, `for seq ${e.seq}, the subscription's seq is ${e.sub.seq}`);
          this.readBeginWaits++;
        } else if (e.reason === 'remove') this.removeWaits++;
        else this.bad(e, `with the reason ${String(e.reason)}`);
        break;
      default:
        break;
    }
  }

  /** For the onWarning sink: its message must be the warning event's, just emitted. */
  warned(message: string): void {
    if (this.pendingWarning !== message) {
      this.fail(`notifier trace: the warning "${message}" reached onWarning without its event`);
    }
    this.pendingWarning = undefined;
  }

  /** At the end of a run: every warning event reached onWarning. */
  finish(): void {
    if (this.pendingWarning !== undefined) {
      this.fail(`notifier trace: the warning "${this.pendingWarning}" never reached onWarning`);
    }
  }

  /** Fails with what is wrong with the event `e`. */
  private bad(e: MmuNotifierTraceEvent, what: string): never {
    return this.fail(`notifier trace: ${e.type} event ${what}`);
  }
}
