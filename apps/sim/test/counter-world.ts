import { SimMutex } from '../src/locks.js';
import { Scheduler, type SchedulerOptions, type Task } from '../src/scheduler.js';

/**
 * Two tasks each add 1 to a shared counter `rounds` times, reading and writing around a
 * scheduling point, with or without a lock around the pair. Returns the final counter
 * (`2 * rounds` unless an update was lost).
 */
export async function counterWorld(
  opts: SchedulerOptions,
  locked: boolean,
  rounds: number,
): Promise<number> {
  const sched = new Scheduler(opts);
  const m = new SimMutex(sched, 'm');
  let counter = 0;
  for (let k = 0; k < 2; k++) {
    sched.spawn(`inc${k}`, async (t: Task) => {
      for (let i = 0; i < rounds; i++) {
        if (locked) await m.lock(t);
        const v = counter;
        await sched.yield(t, 'between read and write');
        counter = v + 1;
        if (locked) m.unlock(t);
        await sched.yield(t, 'loop');
      }
    });
  }
  await sched.run();
  return counter;
}
