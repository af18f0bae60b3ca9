import { describe, expect, it } from 'vitest';
import { SimMutex } from '../src/locks.js';
import { Prng } from '../src/prng.js';
import { Scheduler, type StrategyName, type Task, WaitQueue } from '../src/scheduler.js';
import { counterWorld } from './counter-world.js';

async function interleaving(seed: number, strategy: StrategyName = 'random'): Promise<string[]> {
  const sched = new Scheduler({ seed, strategy, pctSteps: 30 });
  const order: string[] = [];
  for (const name of ['a', 'b', 'c']) {
    sched.spawn(name, async (t) => {
      for (let i = 0; i < 10; i++) {
        order.push(`${name}${i}`);
        await sched.yield(t, 'step');
      }
    });
  }
  expect(await sched.run()).toBeUndefined();
  return order;
}

/** Two tasks increment a shared counter 5 times each (see counterWorld). */
const racyCounter = (seed: number, locked: boolean) => counterWorld({ seed }, locked, 5);

describe('Scheduler', () => {
  it('replays the same interleaving for the same seed, and another for another seed', async () => {
    expect(await interleaving(3)).toEqual(await interleaving(3));
    expect(await interleaving(3)).not.toEqual(await interleaving(4));
    expect(await interleaving(9, 'pct')).toEqual(await interleaving(9, 'pct'));
  });

  it('runs every task to completion under both strategies', async () => {
    for (const s of ['random', 'pct'] as const) expect((await interleaving(1, s)).length).toBe(30);
  });

  it('PCT runs the highest-priority task until a change point (long runs of one task)', async () => {
    const order = await interleaving(5, 'pct');
    let longest = 1;
    let run = 1;
    for (let i = 1; i < order.length; i++) {
      run = order[i]![0] === order[i - 1]![0] ? run + 1 : 1;
      longest = Math.max(longest, run);
    }
    expect(longest).toBeGreaterThanOrEqual(5);
  });

  it('a mutex keeps a read-yield-write counter exact for every seed', async () => {
    for (let seed = 1; seed <= 30; seed++) expect(await racyCounter(seed, true)).toBe(10);
  });

  it('negative control: without the mutex some seed loses an update (the scheduler interleaves)', async () => {
    const results = [];
    for (let seed = 1; seed <= 30; seed++) results.push(await racyCounter(seed, false));
    expect(results.some((c) => c < 10)).toBe(true);
  });

  it('reports a deadlock with the blocked tasks and where they wait', async () => {
    // Some seed reaches the ABBA deadlock.
    let reason: Awaited<ReturnType<Scheduler['run']>>;
    for (let seed = 1; reason === undefined && seed < 50; seed++) {
      const s = new Scheduler({ seed });
      const ma = new SimMutex(s, 'A');
      const mb = new SimMutex(s, 'B');
      const inOrder = (first: SimMutex, second: SimMutex) => async (t: Task) => {
        await first.lock(t);
        await s.yield(t, 'x');
        await second.lock(t);
        second.unlock(t);
        first.unlock(t);
      };
      s.spawn('t0', inOrder(ma, mb));
      s.spawn('t1', inOrder(mb, ma));
      reason = await s.run();
    }
    expect(reason?.kind).toBe('deadlock');
    expect(reason?.message).toMatch(/t0@lock:[AB]/);
    expect(reason?.message).toMatch(/t1@lock:[AB]/);
  });

  it('wait() resumes a task when an outside promise settles, through the scheduler', async () => {
    const sched = new Scheduler({ seed: 2 });
    let release!: (v: number) => void;
    const p = new Promise<number>((r) => {
      release = r;
    });
    const got: number[] = [];
    sched.spawn('waiter', async (t) => {
      got.push(await sched.wait(t, p, 'outside'));
    });
    sched.spawn('waker', async (t) => {
      await sched.yield(t, 'a');
      release(42);
    });
    expect(await sched.run()).toBeUndefined();
    expect(got).toEqual([42]);
  });

  it('a WaitQueue blocks its waiters until task code wakes them all, in the order they came', async () => {
    for (let seed = 1; seed <= 20; seed++) {
      const sched = new Scheduler({ seed });
      const wq = new WaitQueue(sched);
      let ready = false;
      const order: string[] = [];
      for (const name of ['w0', 'w1']) {
        sched.spawn(name, async (t) => {
          while (!ready) await wq.wait(t, 'ready');
          order.push(name);
        });
      }
      sched.spawn('waker', async (t) => {
        for (let i = 0; i < 3; i++) await sched.yield(t, 'busy');
        expect(sched.allTasks.filter((x) => x.state === 'blocked').length).toBe(wq.size);
        ready = true;
        wq.wakeAll();
        expect(wq.size).toBe(0);
        order.push('woke');
      });
      expect(await sched.run()).toBeUndefined();
      expect(order[0]).toBe('woke'); // the waiters ran only after the wake-up
      expect([...order].sort()).toEqual(['w0', 'w1', 'woke']);
    }
  });

  it('pass() lets another runnable task run first, and returns at once when there is none', async () => {
    for (const strategy of ['random', 'pct'] as const) {
      for (let seed = 1; seed <= 20; seed++) {
        const sched = new Scheduler({ seed, strategy });
        const order: string[] = [];
        const passer = sched.spawn('p', async (t) => {
          await sched.pass(t, 'pass');
          order.push('p');
        });
        sched.spawn('o', async (t) => {
          order.push('o');
          await sched.yield(t, 'o');
          order.push('o');
        });
        expect(await sched.run()).toBeUndefined();
        // Whoever ran first, another turn than p's own came between p's pass and p's next turn.
        expect(order.indexOf('p')).toBeGreaterThan(0);
        expect(passer.state).toBe('done');
      }
      const alone = new Scheduler({ seed: 1, strategy });
      let done = false;
      alone.spawn('p', async (t) => {
        await alone.pass(t, 'pass');
        done = true;
      });
      expect(await alone.run()).toBeUndefined();
      expect(done).toBe(true);
    }
  });

  it('a loop task (spawnLoop) runs exactly as the same loop written with await yield', async () => {
    // Two loops: sync turns, turns that yield inside (a promise), then a tail that yields too.
    const world = async (seed: number, strategy: StrategyName, asLoop: boolean) => {
      const sched = new Scheduler({ seed, strategy, pctSteps: 60 });
      const order: string[] = [];
      const op = async (t: Task, name: string, i: number) => {
        order.push(`${name}${i}a`);
        await sched.yield(t, 'inside');
        order.push(`${name}${i}b`);
      };
      for (const name of ['p', 'q']) {
        const turn = (t: Task, i: number): Promise<void> | undefined => {
          if (i % 3 === 1) return op(t, name, i);
          order.push(`${name}${i}`);
          return undefined;
        };
        const tail = async (t: Task) => {
          await sched.yield(t, 'tail');
          order.push(`${name} tail`);
        };
        if (asLoop) {
          let i = 0;
          sched.spawnLoop(name, 'turn', (t) => (i < 8 ? turn(t, i++) : false), tail);
        } else {
          sched.spawn(name, async (t) => {
            for (let i = 0; i < 8; i++) {
              const p = turn(t, i);
              if (p !== undefined) await p;
              await sched.yield(t, 'turn');
            }
            await tail(t);
          });
        }
      }
      sched.spawn('r', async (t) => {
        for (let i = 0; i < 10; i++) {
          order.push(`r${i}`);
          await sched.yield(t, 'r');
        }
      });
      expect(await sched.run()).toBeUndefined();
      return { order, steps: sched.steps };
    };
    for (const strategy of ['random', 'pct'] as const) {
      for (let seed = 1; seed <= 15; seed++) {
        const plain = await world(seed, strategy, false);
        expect(plain.order).toContain('p tail');
        expect(await world(seed, strategy, true)).toEqual(plain);
      }
    }
  });

  it("a loop task's turn never runs inside another task's code, and a throwing turn is a crash", async () => {
    const sched = new Scheduler({ seed: 3 });
    let inside = false;
    let turns = 0;
    sched.spawn('a', async (t) => {
      for (let i = 0; i < 20; i++) {
        inside = true; // as a task parking inside a package's callback
        const p = sched.yield(t, 'a');
        inside = false;
        await p;
      }
    });
    sched.spawnLoop('l', 'l', () => {
      expect(inside).toBe(false);
      return ++turns < 20 ? undefined : false;
    });
    expect(await sched.run()).toBeUndefined();
    expect(turns).toBe(20);

    const bad = new Scheduler({ seed: 1 });
    bad.spawnLoop('bad', 'l', () => {
      throw new Error('boom');
    });
    const reason = await bad.run();
    expect(reason?.kind).toBe('crash');
    expect(reason?.message).toMatch(/task bad threw: Error: boom/);
  });

  it('reports a task that throws as a crash, and a run without end as a livelock', async () => {
    const s1 = new Scheduler({ seed: 1 });
    s1.spawn('bad', async () => {
      throw new Error('boom');
    });
    expect((await s1.run())?.kind).toBe('crash');
    const s2 = new Scheduler({ seed: 1, maxSteps: 100 });
    s2.spawn('spin', async (t) => {
      for (;;) await s2.yield(t, 'spin');
    });
    expect((await s2.run())?.kind).toBe('livelock');
  });

  it('rejects an unknown strategy', () => {
    expect(() => new Scheduler({ seed: 1, strategy: 'fifo' as StrategyName })).toThrow(RangeError);
  });
});

describe('Prng', () => {
  it('is deterministic and roughly uniform', () => {
    const a = new Prng(7);
    const b = new Prng(7);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) {
      const x = a.int(4);
      expect(b.int(4)).toBe(x);
      counts[x]!++;
    }
    for (const c of counts) expect(c).toBeGreaterThan(850);
    expect(new Prng(8).next()).not.toBe(new Prng(7).next());
    expect(() => new Prng(1.5)).toThrow(RangeError);
  });
});
