import { describe, expect, it } from 'vitest';
import { Scheduler } from '../src/scheduler.js';

describe('PCT change points', () => {
  /** Three tasks of 20 steps each; returns how many change points the run reached. */
  async function changesReached(
    seed: number,
    depth: number,
    length: { progress: true } | { pctSteps: number },
  ): Promise<number> {
    let done = 0;
    const total = 60;
    const sched = new Scheduler({
      seed,
      strategy: 'pct',
      pctDepth: depth,
      ...('progress' in length ? { progress: () => done / total } : length),
    });
    for (const name of ['a', 'b', 'c']) {
      sched.spawn(name, async (t) => {
        for (let i = 0; i < 20; i++) {
          done++;
          await sched.yield(t, 'step');
        }
      });
    }
    expect(await sched.run()).toBeUndefined();
    return sched.priorityChanges;
  }

  it('spread over the run by its progress: every run reaches all d - 1 of them', async () => {
    for (let seed = 1; seed <= 50; seed++) {
      expect(await changesReached(seed, 4, { progress: true })).toBe(3);
    }
  });

  it('control: spread over a step count 6 times the real length, most runs miss some', async () => {
    let missed = 0;
    for (let seed = 1; seed <= 50; seed++) {
      if ((await changesReached(seed, 4, { pctSteps: 6 * 63 })) < 3) missed++;
    }
    expect(missed).toBeGreaterThan(40);
  });
});

describe('PCT and spinning retries', () => {
  /** `spinner` retries until `worker` has set a flag; both start runnable. */
  async function spinWorld(seed: number, spin: 'spinYield' | 'yield') {
    const sched = new Scheduler({ seed, strategy: 'pct', pctDepth: 1, maxSteps: 10_000 });
    let flag = false;
    sched.spawn('spinner', async (t) => {
      while (!flag) await sched[spin](t, 'retry');
    });
    sched.spawn('worker', async (t) => {
      await sched.yield(t, 'work');
      flag = true;
    });
    return sched.run();
  }

  it('a spinning task drops below the others, so the one it waits for runs', async () => {
    for (let seed = 1; seed <= 20; seed++)
      expect(await spinWorld(seed, 'spinYield')).toBeUndefined();
  });

  it('control: spinning with a plain yield livelocks whenever the spinner has the higher priority', async () => {
    const kinds = [];
    for (let seed = 1; seed <= 20; seed++) kinds.push((await spinWorld(seed, 'yield'))?.kind);
    expect(kinds.filter((k) => k === 'livelock').length).toBeGreaterThan(0);
  });
});
