import type { SeedOutcome } from './explore.js';

/** One violation (or crash) of an exploration, as its JSON summary lists it. */
export interface SummaryViolation {
  seed: number;
  kind: string;
  step: number | undefined;
  message: string | undefined;
}

/**
 * The JSON summary of an exploration, or of one shard of it (`explore --json`, `--out`): what
 * `merge` combines. `flags` are the run options every seed shared (the replay flags without
 * `--seed`), so that only shards of one exploration can be merged.
 */
export interface ExploreSummary {
  /** The exploration's seed range `[from, from + seeds)` (all shards together). */
  from: number;
  seeds: number;
  /** The seeds this summary covers, as `[first, last]` ranges (one per merged shard). */
  ranges: [number, number][];
  /** Seeds that ran (fewer than the ranges hold after `--stop`). */
  explored: number;
  /** `"i/n"`: which shard; omitted for a whole exploration or a merge. */
  shard?: string;
  flags: string;
  violations: SummaryViolation[];
  /**
   * The first violating seed, shrunk (fewer operations, tasks, secondaries; same violation
   * shape): the flags that replay it. Omitted with `--no-shrink` or without a violation.
   */
  shrunk?: ShrunkFailure;
  steps: number;
  faults: number;
  wallMs: number;
}

/** The first failure of an exploration after shrinking. */
export interface ShrunkFailure {
  seed: number;
  /** Replay flags besides `--seed`. */
  flags: string;
  ops: number;
  steps: number;
  message: string;
}

/**
 * The slice of `[from, from + seeds)` that shard `index` (1-based) of `count` takes: contiguous
 * slices whose sizes differ by at most one, so `count` shards cover every seed exactly once.
 */
export function shardRange(
  from: number,
  seeds: number,
  index: number,
  count: number,
): { from: number; seeds: number } {
  const start = Math.floor(((index - 1) * seeds) / count);
  const end = Math.floor((index * seeds) / count);
  return { from: from + start, seeds: end - start };
}

/** The summary of explored outcomes (already sorted by seed). */
export function summarize(
  outcomes: readonly SeedOutcome[],
  meta: {
    from: number;
    seeds: number;
    slice: { from: number; seeds: number };
    shard?: string;
    flags: string;
    wallMs: number;
    shrunk?: ShrunkFailure | undefined;
  },
): ExploreSummary {
  let steps = 0;
  let faults = 0;
  const violations: SummaryViolation[] = [];
  for (const o of outcomes) {
    steps += o.steps;
    faults += o.faults;
    if (o.kind !== undefined) {
      violations.push({ seed: o.seed, kind: o.kind, step: o.step, message: o.message });
    }
  }
  const ranges: [number, number][] =
    meta.slice.seeds === 0 ? [] : [[meta.slice.from, meta.slice.from + meta.slice.seeds - 1]];
  return {
    from: meta.from,
    seeds: meta.seeds,
    ranges,
    explored: outcomes.length,
    ...(meta.shard === undefined ? {} : { shard: meta.shard }),
    flags: meta.flags,
    violations,
    ...(meta.shrunk === undefined ? {} : { shrunk: meta.shrunk }),
    steps,
    faults,
    wallMs: Math.round(meta.wallMs),
  };
}

/**
 * Combines shard summaries into one, equal to the summary of one run over the same seeds
 * (wall time: the slowest shard, as shards run in parallel).
 * @throws Error if the summaries belong to different explorations or their ranges overlap.
 */
export function mergeSummaries(parts: readonly ExploreSummary[]): ExploreSummary {
  const first = parts[0];
  if (first === undefined) throw new Error('merge: no summaries given');
  for (const p of parts) {
    if (p.from !== first.from || p.seeds !== first.seeds || p.flags !== first.flags) {
      throw new Error(
        `merge: summaries of different explorations (seeds ${p.from}+${p.seeds} "${p.flags}" vs ${first.from}+${first.seeds} "${first.flags}")`,
      );
    }
  }
  const sorted = parts.flatMap((p) => p.ranges).sort((a, b) => a[0] - b[0]);
  // Adjacent slices join, so shards covering every seed give the one range of an unsharded run.
  const ranges: [number, number][] = [];
  for (const [a, b] of sorted) {
    const last = ranges[ranges.length - 1];
    if (last !== undefined && a <= last[1]) {
      throw new Error(`merge: seed ranges overlap (${last.join('..')} and ${a}..${b})`);
    }
    if (last !== undefined && a === last[1] + 1) last[1] = b;
    else ranges.push([a, b]);
  }
  const violations = parts.flatMap((p) => p.violations).sort((a, b) => a.seed - b.seed);
  // Each shard shrank its own first failure; the merged report keeps the overall first one's.
  const shrunk = parts.find((p) => p.shrunk?.seed === violations[0]?.seed)?.shrunk;
  return {
    from: first.from,
    seeds: first.seeds,
    ranges,
    explored: parts.reduce((n, p) => n + p.explored, 0),
    flags: first.flags,
    violations,
    ...(shrunk === undefined ? {} : { shrunk }),
    steps: parts.reduce((n, p) => n + p.steps, 0),
    faults: parts.reduce((n, p) => n + p.faults, 0),
    wallMs: Math.max(...parts.map((p) => p.wallMs)),
  };
}

/** Seeds of the exploration that no part covered, as text (`''` when complete). */
export function missingSeeds(s: ExploreSummary): string {
  const gaps: string[] = [];
  let next = s.from;
  for (const [a, b] of s.ranges) {
    if (a > next) gaps.push(`${next}..${a - 1}`);
    next = Math.max(next, b + 1);
  }
  if (next < s.from + s.seeds) gaps.push(`${next}..${s.from + s.seeds - 1}`);
  return gaps.join(', ');
}

/** The human-readable report of a summary. */
export function formatSummary(s: ExploreSummary, jobs?: number): string {
  const lines: string[] = [];
  const covered = s.ranges.map(([a, b]) => (a === b ? `${a}` : `${a}..${b}`)).join(', ');
  const stopped = s.explored < s.ranges.reduce((n, [a, b]) => n + b - a + 1, 0);
  lines.push(
    `explored ${s.explored} seed(s) of ${covered || 'none'}${s.shard === undefined ? '' : ` (shard ${s.shard})`}` +
      `${stopped ? ', stopped at the first violation' : ''}${jobs === undefined ? '' : ` on ${jobs} thread(s)`}: ` +
      `${s.violations.length} with violations; ${s.steps} steps, ${s.faults} faults in ${(s.wallMs / 1000).toFixed(1)} s`,
  );
  const missing = missingSeeds(s);
  if (missing !== '') lines.push(`  not covered: seeds ${missing}`);
  const byMessage = new Map<string, number[]>();
  for (const v of s.violations) {
    const key = (v.message ?? '').replace(/\d+/g, 'N').split('\n')[0] ?? '';
    byMessage.set(key, [...(byMessage.get(key) ?? []), v.seed]);
  }
  for (const [msg, seeds] of byMessage) {
    lines.push(`  ${seeds.length} x ${msg}`);
    lines.push(`    seeds: ${seeds.slice(0, 10).join(', ')}${seeds.length > 10 ? ', ...' : ''}`);
  }
  const v = s.violations[0];
  if (v !== undefined) {
    const x = s.shrunk;
    if (x !== undefined && x.seed === v.seed) {
      lines.push(`replay the first, shrunk to ${x.ops} ops and ${x.steps} steps: ${x.message}`);
      lines.push(`  mmu-sim replay --seed ${x.seed}${x.flags}`);
      lines.push(`unshrunk: mmu-sim replay --seed ${v.seed}${s.flags}`);
    } else {
      lines.push(`replay the first: mmu-sim replay --seed ${v.seed}${s.flags}`);
    }
  }
  return lines.join('\n');
}
