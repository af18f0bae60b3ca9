import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { faultWithRetry } from '@mmukit/fault-retry';
import { invalidateOps, teardownInterval } from '@mmukit/mmu-notifier';
import { describe, expect, it } from 'vitest';
import {
  checkUserSecondary,
  formatReport,
  loadSecondaryFactory,
  type PageRef,
  type Prng,
  runScenario,
  type SecondaryContext,
  type SecondaryFactory,
  SecondaryModuleError,
  type UserSecondary,
} from '../src/index.js';

/** What a test secondary did, counted by its own code. */
interface Counts {
  installs: number;
  zaps: number;
  retries: number;
  accesses: number;
  teardowns: number;
  /** Accesses through a translation (check.read/write calls) and faultWithRetry calls. */
  checked: number;
  faults: number;
  /** ctx.resolve() and ctx.backoff() calls. */
  resolves: number;
  backoffs: number;
}

/**
 * A small secondary on the package helpers over the `device` region, with switches that plant
 * one bug each: no retry check, a zap that drops nothing, a zap that ignores release().
 */
function device(
  counts: Counts,
  bug: { noRetry?: boolean; noZap?: boolean; keepAtRelease?: boolean; noTeardown?: boolean } = {},
): SecondaryFactory {
  return (ctx: SecondaryContext) => {
    const region = ctx.regions.find((r) => r.name === 'device')!;
    const table = new Map<number, PageRef>();
    const lock = ctx.lock('dev.lock');
    const ops = invalidateOps({
      lock,
      zap: (first, last, range) => {
        counts.zaps++;
        if (bug.noZap || (bug.keepAtRelease && range.event === 'release')) return;
        for (let p = first / ctx.pageSize; p <= Math.floor(last / ctx.pageSize); p++) {
          table.delete(p);
        }
      },
    });
    const len = region.end - region.start;
    const sub = ctx.subs.insertInterval(region.start * ctx.pageSize, len * ctx.pageSize, ops);
    const scheduled = ctx.scheduled(sub);
    const access = async (page: number, write: boolean) => {
      counts.accesses++;
      let ref = table.get(page);
      if (ref === undefined || (write && !ref.writable)) {
        counts.faults++;
        const { retries } = await faultWithRetry({
          subscription: bug.noRetry
            ? { readBegin: () => scheduled.readBegin(), readRetry: () => false }
            : scheduled,
          lock,
          resolve: () => {
            counts.resolves++;
            return ctx.resolve(page, write);
          },
          install: (r) => {
            if (typeof r === 'number') return;
            counts.installs++;
            ctx.check.install(r);
            table.set(page, r);
          },
          backoff: () => {
            counts.backoffs++;
            return ctx.backoff();
          },
        });
        counts.retries += retries;
        ref = table.get(page);
        if (ref === undefined || (write && !ref.writable)) return;
      }
      counts.checked++;
      if (write) ctx.check.write(ref);
      else ctx.check.read(ref);
    };
    // Each task draws from its own stream (the turn's argument).
    const task = (name: string) => ({
      name,
      turn: (r: Prng) => access(region.start + r.int(len), r.chance(0.4)),
    });
    return {
      name: 'testdev',
      view: {
        forEachTranslation: (fn) => {
          for (const [p, r] of table) fn(p, r.frame, r.gen, r.writable);
        },
        forEachTranslationIn: (s, e, fn) => {
          for (const [p, r] of table) if (p >= s && p < e) fn(p, r.frame, r.gen, r.writable);
        },
      },
      tasks: [task('testdev.q0'), task('testdev.q1')],
      ...(bug.noTeardown
        ? {}
        : {
            teardown: async () => {
              counts.teardowns++;
              await teardownInterval(scheduled, { lock, zap: () => table.clear() });
            },
          }),
    };
  };
}

const zero = (): Counts => ({
  installs: 0,
  zaps: 0,
  retries: 0,
  accesses: 0,
  teardowns: 0,
  checked: 0,
  faults: 0,
  resolves: 0,
  backoffs: 0,
});

/** Runs `seeds` seeds of a secondary; the first violation's message, if any. */
async function explore(seeds: number, factory: (c: Counts) => SecondaryFactory, only = false) {
  const counts = zero();
  const failures: { seed: number; message: string }[] = [];
  for (let seed = 1; seed <= seeds; seed++) {
    const r = await runScenario({
      seed,
      ops: 2000,
      end: 'random',
      secondaryFactories: [factory(counts)],
      ...(only ? { kvm: false, hmm: false, vhost: false } : {}),
    });
    expect(r.userSecondaries).toEqual(['testdev']);
    if (!r.ok) failures.push({ seed, message: r.violation!.message });
  }
  return { counts, failures };
}

describe('a secondary brought through the SecondaryContext', () => {
  it('runs clean over 20 seeds beside the built-ins, faulting, retrying, zapping, tearing down', async () => {
    const { counts, failures } = await explore(20, (c) => device(c));
    expect(failures).toEqual([]);
    expect(counts.installs).toBeGreaterThan(1000);
    expect(counts.zaps).toBeGreaterThan(100);
    expect(counts.retries).toBeGreaterThan(0);
    expect(counts.teardowns).toBe(20);
  });

  it('runs alone (no built-in secondary) and clean', async () => {
    const { counts, failures } = await explore(10, (c) => device(c), true);
    expect(failures).toEqual([]);
    expect(counts.installs).toBeGreaterThan(500);
  });

  it('without a teardown, release() still leaves nothing (the zap sees it)', async () => {
    const { counts, failures } = await explore(5, (c) => device(c, { noTeardown: true }));
    expect(failures).toEqual([]);
    expect(counts.teardowns).toBe(0);
  });

  it('negative control: no retry check is caught (install or after a primary change)', async () => {
    const { failures } = await explore(20, (c) => device(c, { noRetry: true }));
    expect(failures.length).toBeGreaterThan(2);
    for (const f of failures)
      expect(f.message).toMatch(/^testdev: (install|after a primary change|read|write|sweep): /);
  });

  it('negative control: a zap that drops nothing is caught after the primary change', async () => {
    const { failures } = await explore(3, (c) => device(c, { noZap: true }));
    expect(failures).toHaveLength(3);
    expect(failures.some((f) => f.message.startsWith('testdev: after a primary change'))).toBe(
      true,
    );
  });

  it('negative control: translations kept through release() are caught (I4)', async () => {
    const { failures } = await explore(5, (c) => device(c, { keepAtRelease: true }));
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.some((f) => / still maps page \d+ .* after release\(\)/.test(f.message))).toBe(
      true,
    );
  });

  it("runs each task's exit as that task once its loop is over, and the teardown after the last", async () => {
    const events: string[] = [];
    const factory: SecondaryFactory = (ctx) => {
      const task = (name: string) => ({
        name,
        turn: () => ctx.yield(`${name} idle`),
        exit: async () => {
          events.push(`exit ${name}`);
          await ctx.yield(`${name} exiting`); // a scheduling point of the exiting task
          events.push(`exited ${name}`);
        },
      });
      return {
        name: 'exits',
        view: { forEachTranslation: () => {}, forEachTranslationIn: () => {} },
        tasks: [task('exits.a'), task('exits.b'), { name: 'exits.c', turn: () => undefined }],
        teardown: async () => {
          events.push('teardown');
        },
      };
    };
    const r = await runScenario({ seed: 2, ops: 500, secondaryFactories: [factory] });
    expect(r.ok).toBe(true);
    expect(events.filter((e) => e.startsWith('exit ')).sort()).toEqual([
      'exit exits.a',
      'exit exits.b',
    ]);
    expect(events.filter((e) => e === 'teardown')).toHaveLength(1);
    expect(events.at(-1)).toBe('teardown'); // after both exits finished
    expect(events.indexOf('teardown')).toBeGreaterThan(events.indexOf('exited exits.a'));
    expect(events.indexOf('teardown')).toBeGreaterThan(events.indexOf('exited exits.b'));
  });

  it("counts the secondary's accesses, faults and retries in the run's statistics and report", async () => {
    const counts = zero();
    const r = await runScenario({ seed: 5, ops: 3000, secondaryFactories: [device(counts)] });
    expect(r.ok).toBe(true);
    // What the device did by its own count, seen through its context's hooks: a fault is a
    // resolve that is not a retry, a retry a backoff.
    expect(r.stats.secondaries).toEqual({
      testdev: {
        accesses: counts.checked,
        faults: counts.resolves - counts.backoffs,
        retries: counts.backoffs,
      },
    });
    expect(counts.backoffs).toBeGreaterThanOrEqual(counts.retries); // failed faults retried too
    expect(counts.retries).toBeGreaterThan(0);
    // Every fault started is one, but those cut short before they resolved (at teardown).
    const faults = r.stats.secondaries.testdev!.faults;
    expect(faults).toBeLessThanOrEqual(counts.faults);
    expect(faults).toBeGreaterThan(counts.faults - 10);
    const report = formatReport(r);
    const header = report.split('\n').find((l) => /^\s+cpu\s+kvm\s+hmm\s+vhost/.test(l))!;
    expect(header.trim().split(/\s+/)).toEqual(['cpu', 'kvm', 'hmm', 'vhost', 'testdev', 'total']);
    const line = report.split('\n').find((l) => /^\s+faults\s/.test(l))!;
    const cells = line.trim().split(/\s+/).slice(1).map(Number);
    expect(cells[4]).toBe(faults);
    expect(cells[5]).toBe(cells.slice(0, 5).reduce((a, b) => a + b, 0));
    // Built-ins are not counted twice: without the device the built-in columns alone.
    const plain = await runScenario({ seed: 5, ops: 3000 });
    expect(plain.stats.secondaries).toEqual({});
  });

  it("runs finish() once after a clean run; ctx.fail() there is the run's violation", async () => {
    let finished = 0;
    const withFinish =
      (fn: (ctx: SecondaryContext) => void): SecondaryFactory =>
      (ctx) => ({
        ...(device(zero())(ctx) as UserSecondary),
        finish: () => {
          finished++;
          fn(ctx);
        },
      });
    const clean = await runScenario({
      seed: 6,
      ops: 1000,
      secondaryFactories: [withFinish(() => {})],
    });
    expect(clean.ok).toBe(true);
    expect(finished).toBe(1);
    const failed = await runScenario({
      seed: 6,
      ops: 1000,
      secondaryFactories: [withFinish((ctx) => ctx.fail('2 faults still counted'))],
    });
    expect(failed.ok).toBe(false);
    expect(failed.violation).toMatchObject({
      kind: 'violation',
      message: 'testdev: 2 faults still counted',
    });
    const threw = await runScenario({
      seed: 6,
      ops: 1000,
      secondaryFactories: [
        withFinish(() => {
          throw new TypeError('oops');
        }),
      ],
    });
    expect(threw.violation).toMatchObject({
      kind: 'crash',
      message: 'the end-of-run checks threw: TypeError: oops',
    });
    // Not called after a run that already failed (the planted bug stops it first).
    finished = 0;
    const factory = withFinish(() => {});
    const bad: SecondaryFactory = (ctx) => ({
      ...(factory(ctx) as UserSecondary),
      ...(() => {
        const d = device(zero(), { noZap: true })(ctx) as UserSecondary;
        return { view: d.view, tasks: d.tasks };
      })(),
    });
    const broken = await runScenario({ seed: 6, ops: 1000, secondaryFactories: [bad] });
    expect(broken.ok).toBe(false);
    expect(finished).toBe(0);
  });

  it('refuses two secondaries of the same name', async () => {
    await expect(
      runScenario({ ops: 10, secondaryFactories: [device(zero()), device(zero())] }),
    ).rejects.toThrow(/secondary factory 1: a secondary is already named testdev/);
  });

  it('is deterministic: the same seed gives the same trace hash, and another seed another', async () => {
    const run = (seed: number) =>
      runScenario({ seed, ops: 2000, secondaryFactories: [device(zero())] });
    const [a, b, c] = await Promise.all([run(3), run(3), run(4)]);
    expect(a.traceHash).toBe(b.traceHash);
    expect(c.traceHash).not.toBe(a.traceHash);
    // and the secondary changes the run (its tasks interleave with the others)
    const without = await runScenario({ seed: 3, ops: 2000 });
    expect(without.traceHash).not.toBe(a.traceHash);
  });
});

describe('checking what a factory or module gives', () => {
  const good = {
    name: 'x',
    view: { forEachTranslation: () => {}, forEachTranslationIn: () => {} },
    tasks: [{ name: 't', turn: (): undefined => undefined }],
  };

  it('accepts a secondary with every required member', () => {
    expect(checkUserSecondary(good, 'src')).toBe(good);
    expect(checkUserSecondary({ ...good, teardown: async () => {} }, 'src').name).toBe('x');
    expect(checkUserSecondary({ ...good, tasks: [] }, 'src').tasks).toEqual([]); // --devices 0
  });

  it.each([
    ['null', null, /returned null, not an object/],
    ['no name', { ...good, name: '' }, /no name/],
    ['no view', { ...good, view: undefined }, /no view/],
    [
      'a view without forEachTranslationIn',
      { ...good, view: { forEachTranslation() {} } },
      /no view/,
    ],
    ['no tasks', { ...good, tasks: undefined }, /no tasks/],
    ['tasks that are no array', { ...good, tasks: { name: 't' } }, /no tasks/],
    [
      'a task without turn',
      { ...good, tasks: [{ name: 't' }] },
      /a task without a name and a turn/,
    ],
    ['a teardown that is no function', { ...good, teardown: 1 }, /teardown that is no function/],
    ['a finish that is no function', { ...good, finish: 'yes' }, /finish that is no function/],
    [
      'a task whose exit is no function',
      { ...good, tasks: [{ name: 't', turn: (): undefined => undefined, exit: 1 }] },
      /a task t whose exit is no function/,
    ],
  ])('refuses %s', (_what, value, message) => {
    expect(() => checkUserSecondary(value, 'src')).toThrow(SecondaryModuleError);
    expect(() => checkUserSecondary(value, 'src')).toThrow(message);
  });

  it('refuses a factory that returns something incomplete, before the run starts', async () => {
    const bad = (() => ({ name: 'x' })) as unknown as SecondaryFactory;
    await expect(runScenario({ ops: 10, secondaryFactories: [bad] })).rejects.toThrow(
      /secondary factory 0: the factory returned no view/,
    );
  });

  it('refuses a task named as another task of the run', async () => {
    const clash = ((ctx: SecondaryContext) => ({
      ...device(zero())(ctx),
      tasks: [{ name: 'kswapd', turn: () => undefined }],
    })) as SecondaryFactory;
    await expect(runScenario({ ops: 10, secondaryFactories: [clash] })).rejects.toThrow(
      /testdev: a task is already named kswapd/,
    );
    // negative control: the same factory with its own task name runs
    const own = ((ctx: SecondaryContext) => ({
      ...device(zero())(ctx),
      tasks: [{ name: 'testdev.idle', turn: () => undefined }],
    })) as SecondaryFactory;
    expect((await runScenario({ ops: 10, secondaryFactories: [own] })).ok).toBe(true);
  });

  it('loads a module that default-exports a function, and refuses the others', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sim-secondary-'));
    const write = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    const ok = write('ok.mjs', 'export default (ctx) => ctx;');
    expect(typeof (await loadSecondaryFactory(ok))).toBe('function');
    await expect(loadSecondaryFactory(join(dir, 'missing.mjs'))).rejects.toThrow(/no such file/);
    await expect(loadSecondaryFactory(dir)).rejects.toThrow(/no such file/);
    await expect(loadSecondaryFactory(write('n.mjs', 'export default 5;'))).rejects.toThrow(
      /default export is number/,
    );
    await expect(loadSecondaryFactory(write('m.mjs', 'export const a = 1;'))).rejects.toThrow(
      /default export is missing/,
    );
    await expect(loadSecondaryFactory(write('s.mjs', 'export default (;'))).rejects.toThrow(
      /cannot load it as an ES module/,
    );
  });
});
