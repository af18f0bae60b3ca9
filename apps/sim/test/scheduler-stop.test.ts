import { describe, expect, it } from 'vitest';
import { Scheduler, StopSignal } from '../src/scheduler.js';

/**
 * A check that fails inside the step hook (the checker's periodic sweep) runs wherever the
 * scheduler dispatches: inside a task's park, inside a promise handler that finished a task or
 * woke one. It must end the run with its stop reason, never as an exception escaping a handler.
 */
describe('a stop raised inside the step hook', () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  async function runWithHookFailingAt(
    failAt: number,
    error: () => unknown,
  ): Promise<{ reason: Awaited<ReturnType<Scheduler['run']>>; steps: number }> {
    unhandled.length = 0;
    process.on('unhandledRejection', onUnhandled);
    try {
      const sched = new Scheduler({ seed: 1 });
      sched.onStep = () => {
        if (sched.steps === failAt) {
          sched.stop({ kind: 'violation', message: `sweep failed at step ${failAt}` });
          throw error();
        }
      };
      // `short` finishes early: the dispatch after its end runs inside its promise handler.
      sched.spawn('short', async () => {});
      sched.spawn('long', async (t) => {
        for (let i = 0; i < 5; i++) await sched.yield(t, 'loop');
      });
      const reason = await sched.run();
      await new Promise((r) => setImmediate(r));
      return { reason, steps: sched.steps };
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  }

  it('StopSignal at every step: the run ends with the violation, nothing unhandled', async () => {
    for (let failAt = 1; failAt <= 6; failAt++) {
      const { reason } = await runWithHookFailingAt(failAt, () => new StopSignal());
      expect(reason).toEqual({ kind: 'violation', message: `sweep failed at step ${failAt}` });
      expect(unhandled).toEqual([]);
    }
  });

  it('any other error in the hook is a crash of the run, reported, not thrown', async () => {
    const sched = new Scheduler({ seed: 1 });
    sched.onStep = () => {
      if (sched.steps === 2) throw new Error('hook bug');
    };
    sched.spawn('a', async (t) => {
      for (let i = 0; i < 3; i++) await sched.yield(t, 'loop');
    });
    const reason = await sched.run();
    expect(reason?.kind).toBe('crash');
    expect(reason?.message).toBe('step hook threw: Error: hook bug');
  });
});
