import { describe, expect, it } from 'vitest';
import { walkSchedules } from '../src/exhaustive.js';
import { type ScheduleChoices, Scheduler } from '../src/scheduler.js';
import { counterWorld } from './counter-world.js';

/** The counter world of two tasks with 2 rounds each, following `schedule`. */
async function counterRun(schedule: ScheduleChoices, locked: boolean) {
  const counter = await counterWorld({ seed: 1, schedule }, locked, 2);
  return { failed: counter !== 4, result: counter };
}

describe('walkSchedules (exhaustive exploration)', () => {
  it('runs every interleaving once: two tasks of 2 steps each give C(4,2) = 6 orders', async () => {
    const orders = new Set<string>();
    const r = await walkSchedules(
      async (schedule) => {
        const sched = new Scheduler({ seed: 1, schedule });
        const order: string[] = [];
        for (const name of ['a', 'b']) {
          sched.spawn(name, async (t) => {
            for (let i = 0; i < 2; i++) {
              order.push(name);
              await sched.yield(t, 'step');
            }
          });
        }
        await sched.run();
        orders.add(order.join(''));
        return { failed: false, result: order.join('') };
      },
      { maxSchedules: 1000 },
    );
    expect(r.complete).toBe(true);
    expect([...orders].sort()).toEqual(['aabb', 'abab', 'abba', 'baab', 'baba', 'bbaa']);
    // Every schedule is distinct at the decision points (more schedules than orders: the last
    // yields of a task also decide).
    expect(r.schedules).toBeGreaterThanOrEqual(orders.size);
  });

  it('finds the lost update of an unlocked counter, and proves the locked one clean', async () => {
    const racy = await walkSchedules((s) => counterRun(s, false), { maxSchedules: 100_000 });
    expect(racy.complete).toBe(true);
    expect(racy.violations.length).toBeGreaterThan(0);
    expect(Math.min(...racy.violations.map((v) => v.result))).toBe(2); // both rounds lost one
    const safe = await walkSchedules((s) => counterRun(s, true), { maxSchedules: 100_000 });
    expect(safe.complete).toBe(true);
    expect(safe.violations).toEqual([]);
    expect(safe.schedules).toBeGreaterThan(1);
  });

  it('a violating schedule replays from its choices', async () => {
    const racy = await walkSchedules((s) => counterRun(s, false), {
      maxSchedules: 100_000,
      stop: true,
    });
    const first = racy.violations[0]!;
    const again = await counterRun({ prefix: first.choices, branching: [] }, false);
    expect(again).toEqual({ failed: true, result: first.result });
  });

  it('a preemption bound of 0 runs only the non-preemptive schedules and misses the race', async () => {
    const r0 = await walkSchedules((s) => counterRun(s, false), {
      maxSchedules: 100_000,
      preemptionBound: 0,
    });
    expect(r0.complete).toBe(true);
    expect(r0.violations).toEqual([]);
    const r1 = await walkSchedules((s) => counterRun(s, false), {
      maxSchedules: 100_000,
      preemptionBound: 1,
    });
    expect(r1.violations.length).toBeGreaterThan(0);
    const all = await walkSchedules((s) => counterRun(s, false), { maxSchedules: 100_000 });
    expect(r0.schedules).toBeLessThan(r1.schedules);
    expect(r1.schedules).toBeLessThanOrEqual(all.schedules);
  });

  it('stops at maxSchedules and says it is incomplete', async () => {
    const r = await walkSchedules((s) => counterRun(s, true), { maxSchedules: 3 });
    expect(r).toMatchObject({ schedules: 3, complete: false });
  });
});
