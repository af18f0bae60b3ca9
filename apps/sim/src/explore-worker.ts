import { parentPort, workerData } from 'node:worker_threads';
import { type ExploreBase, exploreSeed } from './explore.js';

// One explore worker: runs each seed it is posted with the exploration's base config and posts
// back the outcome. It holds no state between seeds.
const base = workerData as ExploreBase;
parentPort?.on('message', (seed: number) => {
  void exploreSeed(base, seed).then((o) => parentPort?.postMessage(o));
});
