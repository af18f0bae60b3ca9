import { Prng } from '../prng.js';
import type { Task } from '../scheduler.js';
import { type LabViolation, NO_ENTRY } from './checker.js';
import {
  configProblem,
  LAB_BUGS,
  type LabBug,
  type LabConfig,
  type LabStrategyName,
} from './config.js';
import { type Percentiles, percentiles } from './metrics.js';
import { STRATEGIES } from './strategies/index.js';
import type { LabStrategy } from './strategy.js';
import { LabWorld } from './world.js';

/** What one strategy did on one workload. Latencies and time are in scheduling steps. */
export interface LabResult {
  strategy: LabStrategyName;
  /** The bug planted in this strategy, if any. */
  bug?: LabBug;
  /** No violation, deadlock, livelock or crash. */
  ok: boolean;
  violation?: LabViolation;
  /** Scheduling steps of the whole run (work stops being started after `config.steps`). */
  steps: number;
  /** Faults that installed an entry. */
  faults: number;
  accesses: number;
  invalidations: number;
  /** Checks the checker made (installs, accesses, PTE changes). */
  checks: number;
  /**
   * Lost attempts over all faults: collisions found by a retry check (and, for kvm-retry, each
   * look while the page's invalidation is in progress), and each look at a held-off page.
   */
  retries: number;
  faultsPer1000Steps: number;
  retriesPerFault: number;
  /** Resolve steps of attempts thrown away (resolved, then not installed). */
  wastedResolveSteps: number;
  /** From calling the start until it returned. */
  invalidationLatency: Percentiles;
  /** From a fault's begin (no entry found) to its install. */
  faultLatency: Percentiles;
}

/** Share of page picks that go to the hot quarter of the table. */
export const HOT_SHARE = 0.8;

/** A page: with chance HOT_SHARE in the first quarter of the table, else anywhere. */
function pickPage(prng: Prng, pages: number): number {
  const hot = Math.max(1, pages >> 2);
  return prng.chance(HOT_SHARE) ? prng.int(hot) : prng.int(pages);
}

/**
 * Runs the workload of `config` under one strategy (with its planted bug if `bug` belongs to
 * it) and measures it. Same config, same result. Throws a RangeError for a bad config.
 */
export async function runStrategy(
  config: LabConfig,
  name: LabStrategyName,
  bug?: LabBug,
): Promise<LabResult> {
  const problem = configProblem(config);
  if (problem !== undefined) throw new RangeError(problem);
  const planted = bug !== undefined && LAB_BUGS[bug] === name;
  const world = new LabWorld(config);
  const strategy = STRATEGIES[name](world, planted);
  const { sched, counters: c } = world;
  // The workload's choices: one stream per task, so each task makes the same choices under
  // every strategy (the scheduler's own stream decides the interleaving).
  const root = new Prng(config.seed + 0x1ab);
  for (let i = 0; i < config.invalidators; i++) {
    const prng = root.fork();
    sched.spawn(`invalidator${i}`, (t) => invalidator(world, t, prng));
  }
  for (let i = 0; i < config.faulters; i++) {
    const prng = root.fork();
    sched.spawn(`fault${i}`, (t) => faulter(world, strategy, t, prng));
  }
  const stop = await sched.run();
  if (stop === undefined) world.checker.sweep();
  const violation =
    world.checker.violation ??
    (stop === undefined
      ? undefined
      : { kind: stop.kind, step: sched.steps, message: stop.message });
  const steps = sched.steps;
  return {
    strategy: name,
    ...(planted ? { bug } : {}),
    ok: violation === undefined,
    ...(violation === undefined ? {} : { violation }),
    steps,
    faults: c.installs,
    accesses: c.accesses,
    invalidations: c.invalidations,
    checks: world.checker.checks,
    retries: c.retries,
    faultsPer1000Steps: round((c.installs * 1000) / Math.max(1, steps)),
    retriesPerFault: round(c.retries / Math.max(1, c.faultLatency.length)),
    wastedResolveSteps: (c.resolves - c.installs) * config.resolveSteps,
    invalidationLatency: percentiles(c.invalidationLatency),
    faultLatency: percentiles(c.faultLatency),
  };
}

/** Runs `config` under each strategy of `names`, one after the other. */
export async function runLab(
  config: LabConfig,
  names: readonly LabStrategyName[],
  bug?: LabBug,
): Promise<LabResult[]> {
  const results: LabResult[] = [];
  for (const name of names) results.push(await runStrategy(config, name, bug));
  return results;
}

/** An invalidator: each turn, with chance invalidationRate, invalidates 1..rangeSize pages. */
async function invalidator(world: LabWorld, t: Task, prng: Prng): Promise<void> {
  const { sched, config } = world;
  while (sched.steps < config.steps) {
    if (prng.chance(config.invalidationRate)) {
      const first = prng.int(config.pages);
      const last = Math.min(config.pages - 1, first + prng.range(1, config.rangeSize) - 1);
      await world.invalidate(t, first, last);
    }
    await sched.yield(t, 'invalidator: next turn');
  }
}

/** A faulter: each turn picks a page; accesses it through its entry, or faults it in. */
async function faulter(world: LabWorld, strategy: LabStrategy, t: Task, prng: Prng): Promise<void> {
  const { sched, config, counters } = world;
  while (sched.steps < config.steps) {
    const page = pickPage(prng, config.pages);
    if (world.spte[page] !== NO_ENTRY) world.access(page);
    else {
      const begin = sched.steps;
      counters.retries += await strategy.fault(t, page);
      counters.faultLatency.push(sched.steps - begin);
    }
    await sched.yield(t, 'faulter: next turn');
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
