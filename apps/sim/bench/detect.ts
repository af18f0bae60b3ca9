/**
 * Time to detect: for each --bug mode and each strategy, how many seeds (and how much wall time)
 * `explore` needs until its first violation, over several independent trials (trial t explores
 * seeds from t * 100000 + 1 on), and how many schedules `explore --exhaustive` walks in the
 * bug's tiny world until its first violating one (deterministic: one trial). Prints a Markdown
 * table of the medians. Run: pnpm detect (in apps/sim). Options (env): TRIALS (default 5), CAP
 * (seeds per trial before giving up, 400), OPS (per run, 2000), DEPTH (PCT depth, 10), BOUND
 * (preemption bound of the exhaustive walk, 2).
 */

import { cpus } from 'node:os';
import { median } from '../../../bench-stats.js';
import { BUG_MODES } from '../src/bug-modes.js';
import { exhaustWorld } from '../src/exhaustive.js';
import { exploreSeed } from '../src/explore.js';
import type { Bugs, ScenarioConfig } from '../src/scenario.js';
import { worldsFor } from '../src/tiny-worlds.js';

const TRIALS = Number(process.env.TRIALS ?? 5);
const CAP = Number(process.env.CAP ?? 400);
const OPS = Number(process.env.OPS ?? 2000);
const DEPTH = Number(process.env.DEPTH ?? 10);
const BOUND = Number(process.env.BOUND ?? 2);

const BUGS: Record<string, Bugs> = BUG_MODES;

/** Seeds explored until the first violation (CAP + 1 if none within CAP), and the wall time. */
async function trial(base: Partial<ScenarioConfig>, t: number): Promise<[number, number]> {
  const t0 = performance.now();
  for (let i = 1; i <= CAP; i++) {
    const o = await exploreSeed(base, t * 100_000 + i);
    if (o.kind !== undefined) return [i, performance.now() - t0];
  }
  return [CAP + 1, performance.now() - t0];
}

function cell(seeds: number[], ms: number[]): string {
  const found = seeds.filter((s) => s <= CAP).length;
  const m = median(seeds);
  const seedsText = m > CAP ? `> ${CAP}` : `${m}`;
  return `${seedsText} seeds, ${(median(ms) / 1000).toFixed(2)} s (${found}/${seeds.length})`;
}

const rows: string[] = [];
for (const [name, bugs] of Object.entries(BUGS)) {
  const cells: string[] = [];
  for (const strategy of ['random', 'pct'] as const) {
    const seeds: number[] = [];
    const ms: number[] = [];
    for (let t = 0; t < TRIALS; t++) {
      const [s, w] = await trial({ ops: OPS, end: 'random', strategy, pctDepth: DEPTH, bugs }, t);
      seeds.push(s);
      ms.push(w);
    }
    cells.push(cell(seeds, ms));
  }
  const [world] = worldsFor(bugs);
  const x = await exhaustWorld(world!, bugs, {
    maxSchedules: 1_000_000,
    preemptionBound: BOUND,
    stop: true,
  });
  cells.push(
    x.violations > 0
      ? `${x.schedules} schedules, ${(x.wallMs / 1000).toFixed(2)} s`
      : `none in ${x.schedules} schedules`,
  );
  rows.push(`| \`${name}\` | ${cells.join(' | ')} |`);
  process.stderr.write(`${rows[rows.length - 1]}\n`);
}

const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
console.log(
  `${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpu} (${cpus().length} logical CPUs); ` +
    `${TRIALS} trials per cell, ${OPS} ops per run, --end random, PCT depth ${DEPTH}, at most ${CAP} seeds per trial; ` +
    `exhaustive: the tiny world of the bug's secondary, at most ${BOUND} preemptions.\n`,
);
console.log(
  '| bug | random: median seeds, wall (trials that found it) | pct | exhaustive: schedules until the first violation, wall |',
);
console.log('| --- | --- | --- | --- |');
for (const r of rows) console.log(r);
