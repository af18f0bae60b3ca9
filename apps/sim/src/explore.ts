import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { replayFlags } from './report.js';
import { runScenario, type ScenarioConfig } from './scenario.js';
import { Stats } from './stats.js';

/** What exploring one seed found, small enough to post from a worker thread. */
export interface SeedOutcome {
  seed: number;
  /** `undefined`: the seed ran clean; else the violation's kind, or `crash` if the run threw. */
  kind: string | undefined;
  step: number | undefined;
  message: string | undefined;
  /** Scheduling steps and faults of the run (0 for a run that threw). */
  steps: number;
  faults: number;
  /** The flags that reproduce the run besides `--seed` (empty for a run that threw). */
  replay: string;
}

/** A config for every seed of an exploration: plain data (it is posted to worker threads). */
export type ExploreBase = Omit<Partial<ScenarioConfig>, 'seed' | 'onProgress'>;

/**
 * Runs one seed. A run that throws (a bug in the simulation, not a violation it found) is that
 * seed's `crash`: it never ends the exploration.
 */
export async function exploreSeed(base: ExploreBase, seed: number): Promise<SeedOutcome> {
  try {
    const r = await runScenario({ ...base, seed, fullTrace: false });
    return {
      seed,
      kind: r.violation?.kind,
      step: r.violation?.step,
      message: r.violation?.message,
      steps: r.steps,
      faults: Stats.overall(r.stats, 'faults'),
      replay: replayFlags(r),
    };
  } catch (error) {
    const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return {
      seed,
      kind: 'crash',
      step: undefined,
      message: `run threw ${what}`,
      steps: 0,
      faults: 0,
      replay: '',
    };
  }
}

/** Options of {@link explore}. */
export interface ExploreOptions {
  base: ExploreBase;
  /** First seed and how many. */
  from: number;
  seeds: number;
  /** Worker threads (1: run in this thread). Default: one per core. */
  jobs?: number;
  /** Stop handing out seeds after the first violation (seeds already running finish). */
  stop?: boolean;
  /** Called once per finished seed, in completion order (for a progress bar). */
  onOutcome?: (o: SeedOutcome) => void;
}

/** Every explored seed's outcome, sorted by seed (the same whatever the number of jobs). */
export interface ExploreResult {
  outcomes: SeedOutcome[];
  failures: SeedOutcome[];
}

/** The default number of jobs: one per core. */
export function defaultJobs(): number {
  return availableParallelism();
}

/**
 * Explores `seeds` seeds from `from`: in this thread (`jobs` 1), or on `jobs` worker threads
 * that each take the next seed when they finish one, so a slow seed does not hold the others.
 * Seeds are independent runs, so the outcome of each is the same either way; only which seeds
 * run after a violation differs with `stop`.
 */
export async function explore(opts: ExploreOptions): Promise<ExploreResult> {
  const jobs = Math.max(1, Math.min(opts.jobs ?? defaultJobs(), opts.seeds));
  const outcomes: SeedOutcome[] = [];
  let next = 0;
  let stopped = false;
  const record = (o: SeedOutcome) => {
    outcomes.push(o);
    if (o.kind !== undefined && opts.stop === true) stopped = true;
    opts.onOutcome?.(o);
  };
  const take = (): number | undefined =>
    stopped || next >= opts.seeds ? undefined : opts.from + next++;

  if (jobs === 1) {
    for (let seed = take(); seed !== undefined; seed = take()) {
      record(await exploreSeed(opts.base, seed));
    }
  } else {
    const url = new URL('./explore-worker.js', import.meta.url);
    await Promise.all(Array.from({ length: jobs }, () => runWorker(url, opts.base, take, record)));
  }
  outcomes.sort((a, b) => a.seed - b.seed);
  return { outcomes, failures: outcomes.filter((o) => o.kind !== undefined) };
}

/** One worker: posts it a seed, records the outcome, repeats until `take` has none left. */
function runWorker(
  url: URL,
  base: ExploreBase,
  take: () => number | undefined,
  record: (o: SeedOutcome) => void,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const worker = new Worker(url, { workerData: base });
    let running: number | undefined;
    const feed = () => {
      running = take();
      if (running === undefined) void worker.terminate().then(() => resolve());
      else worker.postMessage(running);
    };
    worker.on('message', (o: SeedOutcome) => {
      record(o);
      feed();
    });
    worker.on('error', (error) => {
      // The worker itself died (not a run: exploreSeed catches those): its seed is a crash.
      if (running !== undefined) {
        record({
          seed: running,
          kind: 'crash',
          step: undefined,
          message: `worker died: ${error.message}`,
          steps: 0,
          faults: 0,
          replay: '',
        });
      }
      // Carry on with a fresh worker: one dead worker never loses the other seeds.
      runWorker(url, base, take, record).then(resolve, reject);
    });
    feed();
  });
}
