import type { MmuNotifier } from './classic-notifier.js';
import type { IntervalNotifier } from './interval-notifier.js';
import type { MmuNotifierRange } from './range.js';

/**
 * What a {@link MmuNotifierTracer} is told. Values are read at the moment of the event.
 *
 * - `start`: an invalidation began: `curSeq` is `invalidateSeq` after the lookup (odd when an
 *   interval subscription overlaps), `hit` whether one did, `active` the count including this one.
 * - `invalidate`: an interval subscription's `invalidate` is about to be called.
 * - `classic`: a classic subscriber's `op` is about to be called.
 * - `start-failed`: the start returned EAGAIN (`eagain`) or callbacks failed (`errors`); its
 *   bookkeeping is already undone.
 * - `end`: `invalidateRangeEnd` finished its interval part (values after `inv_end`).
 * - `wake`: the last active range ended while invalidating: `invalidateSeq` is even again, the
 *   deferred work is applied (`applied` items) and waiters are woken.
 * - `insert` / `remove`: a subscription change; `how` says whether it was applied now, deferred
 *   to the end of the invalidation, or (remove of a pending insert) cancelled.
 * - `wait`: `readBegin` or `remove` is about to wait for `invalidateSeq` to move past `seq`.
 * - `warning`: a rule the kernel only WARNs about was broken (e.g. `invalidate` returned false
 *   for a blockable range); processing continued.
 */
export type MmuNotifierTraceEvent =
  | {
      type: 'start';
      range: MmuNotifierRange;
      curSeq: number;
      hit: boolean;
      active: number;
    }
  | { type: 'invalidate'; sub: IntervalNotifier; range: MmuNotifierRange; curSeq: number }
  | {
      type: 'classic';
      op: 'invalidateRangeStart' | 'invalidateRangeEnd' | 'release';
      sub: MmuNotifier;
      range: MmuNotifierRange | undefined;
    }
  | { type: 'start-failed'; range: MmuNotifierRange; eagain: boolean; errors: number }
  | { type: 'end'; range: MmuNotifierRange; invalidateSeq: number; active: number }
  | { type: 'wake'; invalidateSeq: number; applied: number }
  | {
      type: 'insert' | 'remove';
      sub: IntervalNotifier;
      how: 'now' | 'deferred' | 'cancelled';
      invalidateSeq: number;
    }
  | { type: 'wait'; sub: IntervalNotifier; reason: 'readBegin' | 'remove'; seq: number }
  | { type: 'warning'; message: string };

/**
 * Receives {@link MmuNotifierTraceEvent}s synchronously, at the point where they happen (inside
 * the core's critical sections: it must not call back into the same address space). If it
 * throws, the error goes to the warning sink and the operation continues. When no tracer is
 * set, each trace point costs one branch.
 */
export type MmuNotifierTracer = (event: MmuNotifierTraceEvent) => void;
