import {
  isMmuNotifierEvent,
  type MmuNotifierSubscriptions,
  type MmuNotifierTraceEvent,
  type MmuNotifierTracer,
} from '@mmukit/mmu-notifier';

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
   * Whether each started range's start hit an interval subscription (until its end). Plain
   * (strong) maps and sets: every entry is removed when its range ends or is acknowledged, and
   * they cost less per lookup than weak ones.
   */
  private readonly hit = new Map<object, boolean>();
  /** Ranges with a start, end or failed-start event not yet acknowledged by saw(). */
  private readonly seen = {
    start: new Set<object>(),
    end: new Set<object>(),
    'start-failed': new Set<object>(),
  };
  /** The last invalidate event's range and subscription (the callback runs right after it). */
  private lastRange: object | undefined;
  private lastSub: object | undefined;
  /** Wakes and remove waits so far. */
  wakes = 0;
  removeWaits = 0;
  /**
   * Ranges an interval callback refused (returned false): no later callback may be called. The
   * refused start fails, and its start-failed event removes the range.
   */
  private readonly refused = new Set<object>();

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
    if (!this.seen[type].delete(range)) {
      this.fail(`notifier trace: ${what} emitted no ${type} event`);
    }
  }

  /** For an interval callback: fails unless the core announced this very call. */
  called(sub: object, range: object, who: string): void {
    if (this.lastRange !== range || this.lastSub !== sub) {
      this.fail(`notifier trace: ${who}'s invalidate was called without an invalidate event`);
    }
    this.lastRange = undefined;
  }

  /** For an interval callback that returned false (EAGAIN): the walk must stop there. */
  refuse(range: object): void {
    this.refused.add(range);
  }

  private check(e: MmuNotifierTraceEvent): void {
    const seq = this.subs.invalidateSeq;
    switch (e.type) {
      case 'start':
        this.seen.start.add(e.range);
        if (this.hit.has(e.range)) this.bad(e, 'for a range already started and not ended');
        if (!isMmuNotifierEvent(e.range.event))
          this.bad(e, `with the event ${String(e.range.event)}`);
        if (e.curSeq !== seq) this.bad(e, `says curSeq ${e.curSeq}, invalidateSeq is ${seq}`);
        if (e.hit && seq % 2 === 0)
          this.bad(e, `says an interval subscription was hit, but seq ${seq} is even`);
        this.hit.set(e.range, e.hit);
        break;
      case 'invalidate':
        this.lastRange = e.range;
        this.lastSub = e.sub;
        if (this.hit.get(e.range) !== true) this.bad(e, 'for a range whose start hit nothing');
        if (this.refused.has(e.range)) this.bad(e, 'after a callback refused the range (EAGAIN)');
        if (e.curSeq !== seq || seq % 2 === 0)
          this.bad(e, `with curSeq ${e.curSeq}, invalidateSeq ${seq}`);
        if (e.sub.start >= e.range.end || e.sub.last < e.range.start) {
          this.bad(
            e,
            `to [${e.sub.start}, ${e.sub.last}], outside [${e.range.start}, ${e.range.end})`,
          );
        }
        break;
      case 'end':
        this.seen.end.add(e.range);
        this.hit.delete(e.range);
        if (e.invalidateSeq !== seq)
          this.bad(e, `says invalidateSeq ${e.invalidateSeq}, it is ${seq}`);
        if (e.active === 0 && seq % 2 !== 0)
          this.bad(e, `ends the last range with an odd seq ${seq}`);
        break;
      case 'start-failed':
        this.seen['start-failed'].add(e.range);
        this.hit.delete(e.range);
        this.refused.delete(e.range);
        if (e.errors === 0 && !e.eagain) this.bad(e, 'with neither EAGAIN nor an error');
        break;
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

  /** Fails with what is wrong with the event `e`. */
  private bad(e: MmuNotifierTraceEvent, what: string): never {
    return this.fail(`notifier trace: ${e.type} event ${what}`);
  }
}
