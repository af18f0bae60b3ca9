import type { IntervalNotifier } from '@mmukit/mmu-notifier';
import type { SimContext } from '../primary/mm.js';
import type { Task } from '../scheduler.js';

/**
 * mmu_interval_read_begin() for task `t`: the sequence at once when no invalidation of the
 * subscription is running (tryReadBegin), else the wait for it as a scheduling point of `t`
 * (counted in `stats.waits.readBegin`). Returns a number or a promise of one, so the common
 * case costs no await: `let seq = readBegin(...); if (typeof seq !== 'number') seq = await seq;`.
 */
export function readBegin(
  ctx: SimContext,
  t: Task,
  sub: IntervalNotifier,
  label: string,
): number | Promise<number> {
  const seq = sub.tryReadBegin();
  if (seq !== undefined) return seq;
  ctx.stats.waits.readBegin++;
  return ctx.sched.wait(t, sub.readBegin(), label);
}
