import type { Bugs, ScenarioConfig } from './scenario.js';

/**
 * A configuration small enough to explore every interleaving: one secondary with one task, the
 * `mm` task doing one operation before the process ends, kswapd, and every operation confined
 * to one page of the secondary's region (`focus`), so that they collide.
 */
export interface TinyWorld {
  /** Its `--world` name: the secondary it holds (`secondary` for the user's modules). */
  readonly name: string;
  /** The config, besides the seed. */
  readonly config: Partial<ScenarioConfig>;
  /** Its data seeds: which operation the `mm` task draws and where (1..seeds). */
  readonly seeds: number;
}

const tiny = {
  cpus: 0,
  ops: 6,
  pages: 256,
  focus: 1,
  end: 'oom',
  sweepEvery: 0,
  kvm: false,
  hmm: false,
  vhost: false,
  vcpus: 0,
  devices: 0,
} as const satisfies Partial<ScenarioConfig>;

/** The tiny worlds `explore --exhaustive` walks, one per secondary. */
export const TINY_WORLDS: readonly TinyWorld[] = [
  { name: 'kvm', config: { ...tiny, kvm: true, vcpus: 1 }, seeds: 4 },
  // Two device queues, the first closing and reopening buffers at every other operation, so
  // that faults race with closes.
  { name: 'hmm', config: { ...tiny, hmm: true, devices: 2, rebind: 0.5 }, seeds: 4 },
  { name: 'vhost', config: { ...tiny, vhost: true }, seeds: 4 },
];

/** The tiny worlds a set of planted bugs can show in (all of them without bugs). */
export function worldsFor(bugs: Bugs): TinyWorld[] {
  const planted = (['kvm', 'hmm', 'vhost'] as const).filter((s) => bugs[s] !== undefined);
  return planted.length === 0
    ? [...TINY_WORLDS]
    : TINY_WORLDS.filter((w) => (planted as readonly string[]).includes(w.name));
}

/**
 * The tiny world of the secondaries brought with `--secondary` (absolute paths): theirs alone,
 * no built-in, beside `mm` and kswapd, with the user's tasks taking their share of the six
 * operations. Every await of theirs that is a scheduling point is a branch of the walk.
 */
export function secondaryWorld(files: readonly string[]): TinyWorld {
  return { name: 'secondary', config: { ...tiny, secondaryFiles: [...files] }, seeds: 4 };
}
