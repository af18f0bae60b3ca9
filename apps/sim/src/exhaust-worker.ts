import { parentPort } from 'node:worker_threads';
import { type ExhaustOptions, exhaustSeed } from './exhaustive.js';
import type { Bugs } from './scenario.js';
import type { TinyWorld } from './tiny-worlds.js';

/** One unit of `explore --exhaustive --jobs n`: every schedule of one seed of one tiny world. */
export interface SeedUnit {
  /** The world itself (plain data: its config names secondary modules by path). */
  world: TinyWorld;
  seed: number;
  bugs: Bugs;
  opts: ExhaustOptions;
}

// An exhaustive-explore worker: walks each unit it is posted and posts back the SeedWalk. It
// holds no state between units.
parentPort?.on('message', (u: SeedUnit) => {
  void exhaustSeed(u.world, u.seed, u.bugs, u.opts).then((walk) => parentPort?.postMessage(walk));
});
