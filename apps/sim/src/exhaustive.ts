import {
  type Bugs,
  DEFAULT_CONFIG,
  type RunResult,
  runScenario,
  type ScenarioConfig,
} from './scenario.js';
import type { ScheduleChoices } from './scheduler.js';
import type { TinyWorld } from './tiny-worlds.js';

/** Options of {@link exhaust}. */
export interface ExhaustOptions {
  /** Stop after this many schedules (the exploration is then incomplete). */
  maxSchedules: number;
  /** Only schedules with at most this many preemptions (default: every schedule). */
  preemptionBound?: number;
  /** Stop at the first violating schedule. */
  stop?: boolean;
}

/** What {@link exhaust} found. */
export interface ExhaustResult {
  /** Distinct schedules run. */
  schedules: number;
  /** True if every schedule (within the preemption bound) was run. */
  complete: boolean;
  /** Violating schedules: the choices that replay each, and its run. */
  violations: { choices: number[]; result: RunResult }[];
  /** The longest schedule, in decisions with more than one choice. */
  maxDecisions: number;
}

/**
 * The depth-first walk over schedules, for any world run by a {@link Scheduler}: `run` performs
 * one run following the given choices and says whether it failed. Each run follows a prefix of
 * choices, then takes choice 0 at every later decision while recording how many choices each
 * had; the next prefix is the last decision that still has an untried choice, bumped by one. So
 * every leaf of the decision tree is run exactly once.
 */
export async function walkSchedules<R>(
  run: (schedule: ScheduleChoices) => Promise<{ failed: boolean; result: R }>,
  opts: ExhaustOptions,
): Promise<{
  schedules: number;
  complete: boolean;
  violations: { choices: number[]; result: R }[];
  maxDecisions: number;
}> {
  const violations: { choices: number[]; result: R }[] = [];
  let prefix: number[] = [];
  let schedules = 0;
  let maxDecisions = 0;
  for (;;) {
    if (schedules >= opts.maxSchedules)
      return { schedules, complete: false, violations, maxDecisions };
    const branching: number[] = [];
    const { failed, result } = await run({
      prefix,
      branching,
      ...(opts.preemptionBound === undefined ? {} : { preemptionBound: opts.preemptionBound }),
    });
    schedules++;
    maxDecisions = Math.max(maxDecisions, branching.length);
    const choices = branching.map((_, k) => (k < prefix.length ? (prefix[k] as number) : 0));
    if (failed) {
      violations.push({ choices, result });
      if (opts.stop === true) return { schedules, complete: false, violations, maxDecisions };
    }
    let k = choices.length - 1;
    while (k >= 0 && (choices[k] as number) + 1 >= (branching[k] as number)) k--;
    if (k < 0) return { schedules, complete: true, violations, maxDecisions };
    prefix = [...choices.slice(0, k), (choices[k] as number) + 1];
  }
}

/**
 * Runs every schedule of one small configuration (same seed, so the same operations), with
 * {@link walkSchedules}: `schedules` counts distinct interleavings at the scheduler's decision
 * points. With `preemptionBound`, only the schedules that switch away from a runnable task at
 * most that many times (the CHESS bound: most concurrency bugs need very few).
 */
export function exhaust(
  config: Partial<ScenarioConfig>,
  opts: ExhaustOptions,
): Promise<ExhaustResult> {
  return walkSchedules(async (schedule) => {
    const result = await runScenario({ ...config, fullTrace: false, schedule });
    return { failed: !result.ok, result };
  }, opts);
}

/** The first violating schedule found: its seed, the choices that replay it, what it reported. */
export interface FirstViolation {
  seed: number;
  choices: number[];
  kind: string;
  message: string;
  config: ScenarioConfig;
}

/** What {@link exhaustSeed} found over the schedules of one data seed of a tiny world. */
export interface SeedWalk {
  seed: number;
  /** Distinct schedules run. */
  schedules: number;
  /** True if every schedule within the bound was run. */
  complete: boolean;
  /** Violating schedules found (with `stop`, at most one). */
  violations: number;
  first?: FirstViolation;
}

/** What {@link exhaustWorld} found in one tiny world over its data seeds. */
export interface WorldResult {
  world: TinyWorld['name'];
  /** Data seeds walked. */
  seeds: number;
  /** Distinct schedules run, over all its seeds. */
  schedules: number;
  /** True if every schedule within the bound of every seed was run. */
  complete: boolean;
  /** Violating schedules found. */
  violations: number;
  /** The first violation, of the lowest seed that had one. */
  first?: FirstViolation;
  wallMs: number;
}

/** What one violating schedule left: its kind, message, and config (undefined for a crash). */
interface Found {
  kind: string | undefined;
  message: string | undefined;
  config: ScenarioConfig | undefined;
}

/**
 * Every schedule (within `preemptionBound`) of one data seed of `world`, with `bugs` planted. A
 * run that throws counts as a violating schedule of kind `crash`.
 */
export async function exhaustSeed(
  world: TinyWorld,
  seed: number,
  bugs: Bugs,
  opts: ExhaustOptions,
): Promise<SeedWalk> {
  const config = { ...world.config, seed, bugs, fullTrace: false };
  const r = await walkSchedules<Found>(async (schedule) => {
    try {
      const result = await runScenario({ ...config, schedule });
      return {
        failed: !result.ok,
        result: {
          kind: result.violation?.kind,
          message: result.violation?.message,
          config: result.config,
        },
      };
    } catch (error) {
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      return { failed: true, result: { kind: 'crash', message, config: undefined } };
    }
  }, opts);
  const v = r.violations[0];
  const walk: SeedWalk = {
    seed,
    schedules: r.schedules,
    complete: r.complete,
    violations: r.violations.length,
  };
  if (v !== undefined) {
    const { schedule: _s, ...runConfig } = v.result.config ?? { ...DEFAULT_CONFIG, ...config };
    walk.first = {
      seed,
      choices: v.choices,
      kind: v.result.kind ?? 'violation',
      message: v.result.message ?? '',
      config: runConfig,
    };
  }
  return walk;
}

/** One world's result from the walks of its seeds (in seed order). */
export function worldResult(
  world: TinyWorld,
  walks: readonly SeedWalk[],
  wallMs: number,
): WorldResult {
  const sorted = [...walks].sort((a, b) => a.seed - b.seed);
  const first = sorted.find((w) => w.first !== undefined)?.first;
  return {
    world: world.name,
    seeds: sorted.length,
    schedules: sorted.reduce((a, w) => a + w.schedules, 0),
    complete: sorted.length === world.seeds && sorted.every((w) => w.complete),
    violations: sorted.reduce((a, w) => a + w.violations, 0),
    ...(first === undefined ? {} : { first }),
    wallMs,
  };
}

/**
 * Every schedule (within `preemptionBound`) of every data seed of `world`, seed after seed, with
 * `bugs` planted; `maxSchedules` bounds the total.
 */
export async function exhaustWorld(
  world: TinyWorld,
  bugs: Bugs,
  opts: ExhaustOptions,
): Promise<WorldResult> {
  const t0 = performance.now();
  const walks: SeedWalk[] = [];
  let used = 0;
  for (let seed = 1; seed <= world.seeds; seed++) {
    const w = await exhaustSeed(world, seed, bugs, {
      ...opts,
      maxSchedules: opts.maxSchedules - used,
    });
    walks.push(w);
    used += w.schedules;
    if (!w.complete) break;
  }
  return worldResult(world, walks, performance.now() - t0);
}
