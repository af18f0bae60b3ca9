import { type RunResult, runScenario, type ScenarioConfig } from './scenario.js';

/** What a shrunk failure must keep: the same kind of violation with the same message shape. */
export function violationShape(r: RunResult): string | undefined {
  const v = r.violation;
  if (v === undefined) return undefined;
  return `${v.kind}: ${(v.message.split('\n')[0] ?? '').replace(/\d+/g, 'N')}`;
}

/** Result of {@link shrink}. */
export interface Shrunk {
  /** The smallest config found that still fails the same way (the original if none smaller). */
  config: ScenarioConfig;
  result: RunResult;
  /** Runs tried. */
  runs: number;
}

/**
 * Shrinks a failing run: with the same seed, tries fewer operations (halving, then smaller cuts),
 * fewer tasks of each kind, and fewer secondaries, keeping each cut after which the run still
 * fails with the same violation shape ({@link violationShape}), until nothing smaller fails or
 * `maxRuns` runs were tried. Each try is a whole deterministic run, so the result replays
 * exactly with its config.
 */
export async function shrink(failing: RunResult, maxRuns = 150): Promise<Shrunk> {
  const shape = violationShape(failing);
  if (shape === undefined) throw new Error('shrink: the run did not fail');
  let best = failing;
  let runs = 0;
  const tryConfig = async (c: ScenarioConfig): Promise<boolean> => {
    if (runs >= maxRuns) return false;
    runs++;
    const r = await runScenario({ ...c, fullTrace: false, onProgress: undefined });
    if (violationShape(r) !== shape) return false;
    best = r;
    return true;
  };
  for (let changed = true; changed && runs < maxRuns; ) {
    changed = false;
    // Operations: cut by half, then by smaller shares of what is left.
    for (let div = 2; div <= 16 && best.config.ops > 1; div *= 2) {
      while (best.config.ops > 1) {
        const cut = Math.max(1, Math.floor(best.config.ops / div));
        if (!(await tryConfig({ ...best.config, ops: best.config.ops - cut }))) break;
        changed = true;
      }
    }
    // Tasks of each kind, one fewer at a time.
    for (const key of ['cpus', 'vcpus', 'devices'] as const) {
      while (
        best.config[key] > 0 &&
        (await tryConfig({ ...best.config, [key]: best.config[key] - 1 }))
      ) {
        changed = true;
      }
    }
    // Secondaries the failure does not need.
    for (const key of ['kvm', 'hmm', 'vhost'] as const) {
      if (best.config[key] && (await tryConfig({ ...best.config, [key]: false }))) changed = true;
    }
  }
  return { config: best.config, result: best, runs };
}
