import { Worker } from 'node:worker_threads';
import type { SeedUnit } from './exhaust-worker.js';
import {
  type ExhaustOptions,
  exhaustSeed,
  type SeedWalk,
  type WorldResult,
  worldResult,
} from './exhaustive.js';
import type { Bugs } from './scenario.js';
import type { TinyWorld } from './tiny-worlds.js';

/**
 * Every schedule of every data seed of `worlds` (`explore --exhaustive`), on `jobs` worker
 * threads that each take the next (world, seed) when they finish one (`jobs` 1: in this thread,
 * in order). The walks are deterministic, so every world's result is the same whatever `jobs`,
 * except that with `stop` or `maxSchedules` the units already running finish: a few more
 * schedules may be walked. `maxSchedules` is the budget of all worlds together.
 */
export async function exhaustWorlds(
  worlds: readonly TinyWorld[],
  bugs: Bugs,
  opts: ExhaustOptions,
  jobs: number,
): Promise<WorldResult[]> {
  const units = worlds.flatMap((w) =>
    Array.from({ length: w.seeds }, (_, i) => ({ world: w, seed: i + 1 })),
  );
  const walks = new Map<TinyWorld, SeedWalk[]>(worlds.map((w) => [w, []]));
  const t0 = performance.now();
  const wall = new Map<TinyWorld, number>();
  let next = 0;
  let used = 0;
  let stopped = false;
  const take = (): { world: TinyWorld; seed: number } | undefined =>
    stopped || used >= opts.maxSchedules || next >= units.length ? undefined : units[next++];
  const record = (world: TinyWorld, w: SeedWalk): void => {
    walks.get(world)!.push(w);
    wall.set(world, performance.now() - t0);
    used += w.schedules;
    if (!w.complete) stopped = true; // the budget ran out, or stop found a violation
  };
  const budget = (): ExhaustOptions => ({ ...opts, maxSchedules: opts.maxSchedules - used });

  if (jobs <= 1) {
    for (let u = take(); u !== undefined; u = take()) {
      record(u.world, await exhaustSeed(u.world, u.seed, bugs, budget()));
    }
  } else {
    const url = new URL('./exhaust-worker.js', import.meta.url);
    const n = Math.min(jobs, units.length);
    await Promise.all(Array.from({ length: n }, () => runWorker(url, bugs, take, budget, record)));
  }
  // Worlds in the given order; each world's time is until its last seed finished.
  return worlds
    .filter((w) => walks.get(w)!.length > 0)
    .map((w) => worldResult(w, walks.get(w)!, wall.get(w) ?? 0));
}

/** One worker: posts it a unit, records the walk, repeats until `take` has none left. */
function runWorker(
  url: URL,
  bugs: Bugs,
  take: () => { world: TinyWorld; seed: number } | undefined,
  budget: () => ExhaustOptions,
  record: (world: TinyWorld, w: SeedWalk) => void,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const worker = new Worker(url);
    let running: { world: TinyWorld; seed: number } | undefined;
    const feed = (): void => {
      running = take();
      if (running === undefined) {
        void worker.terminate().then(() => resolve());
        return;
      }
      const unit: SeedUnit = {
        world: running.world,
        seed: running.seed,
        bugs,
        opts: budget(),
      };
      worker.postMessage(unit);
    };
    worker.on('message', (w: SeedWalk) => {
      record(running!.world, w);
      feed();
    });
    worker.on('error', reject);
    feed();
  });
}
