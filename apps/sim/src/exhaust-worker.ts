import { parentPort } from 'node:worker_threads';
import { type ExhaustOptions, exhaustSeed } from './exhaustive.js';
import type { Bugs } from './scenario.js';
import { TINY_WORLDS } from './tiny-worlds.js';

/** One unit of `explore --exhaustive --jobs n`: every schedule of one seed of one tiny world. */
export interface SeedUnit {
  world: string;
  seed: number;
  bugs: Bugs;
  opts: ExhaustOptions;
}

// An exhaustive-explore worker: walks each unit it is posted and posts back the SeedWalk. It
// holds no state between units.
parentPort?.on('message', (u: SeedUnit) => {
  const world = TINY_WORLDS.find((w) => w.name === u.world);
  if (world === undefined) throw new Error(`no tiny world ${u.world}`);
  void exhaustSeed(world, u.seed, u.bugs, u.opts).then((walk) => parentPort?.postMessage(walk));
});
