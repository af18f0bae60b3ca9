/**
 * mmu-sim A/B benchmark: simulated faults per CPU-second of the current source against a
 * baseline build of an older revision, in one process, interleaved (after warm-up, every round
 * runs both, in alternating order), so the machine's noise hits both alike. Run from apps/sim:
 *
 *   git worktree add /tmp/sim-base b249bc0   # once: the revision to compare against
 *   (cd /tmp/sim-base && pnpm install --frozen-lockfile --offline && pnpm build)
 *   pnpm build                               # the current packages (and dist, for FROM=dist)
 *   BASELINE=/tmp/sim-base pnpm bench        # or: BASELINE=/tmp/sim-base pnpm exec tsx bench/baseline.ts
 *
 * FROM=src (default) loads both revisions' TypeScript sources through tsx, as `pnpm bench` does;
 * FROM=dist loads both builds (apps/sim/dist/index.js of each tree; the current one must be
 * rebuilt after a change). Either way each revision uses its own tree's packages (their dist).
 * WARMUP (default 4) runs of each before measuring, ROUNDS (default 10) measured rounds.
 *
 * Only the CPU time of the process (process.cpuUsage: user + system, every thread, so the JIT
 * and GC helpers too) is used. No GC is forced between runs: a full GC throws away optimized code
 * that embeds the previous run's objects, and the next run would be measured re-optimizing.
 * Before measuring, one traced run of each must give the same trace hash, and every measured
 * pair the same steps and faults: the two builds must simulate the same thing, or the
 * comparison means nothing. SAME=0 skips these checks, for a baseline whose interleavings differ
 * (a change to the scheduling): the rate (faults per CPU-second) is then what compares, and the
 * table also shows each build's steps and faults, so the reader sees how far the runs differ.
 */

import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { formatCount, formatRange, median, summarize } from '../../../bench-stats.js';
import type { RunResult, ScenarioConfig } from '../src/scenario.js';

type RunScenario = (config?: Partial<ScenarioConfig>) => Promise<RunResult>;

const BASELINE = process.env.BASELINE;
const FROM = process.env.FROM ?? 'src';
const WARMUP = Number(process.env.WARMUP ?? 4);
const ROUNDS = Number(process.env.ROUNDS ?? 10);
const SAME = process.env.SAME !== '0';

const fmt = formatCount;

async function load(path: string): Promise<RunScenario> {
  const mod = (await import(path)) as { runScenario?: RunScenario };
  if (typeof mod.runScenario !== 'function') throw new Error(`${path} exports no runScenario`);
  return mod.runScenario;
}

function faultsOf(r: RunResult): number {
  const f = r.stats.faults;
  return f.cpu + f.kvm + f.hmm + f.vhost;
}

/** One run's CPU seconds. */
async function timed(run: RunScenario, config: Partial<ScenarioConfig>) {
  const c0 = process.cpuUsage();
  const r = await run(config);
  const c = process.cpuUsage(c0);
  if (!r.ok) throw new Error(`violation: ${r.violation?.message}`);
  return { cpu: (c.user + c.system) / 1e6, steps: r.steps, faults: faultsOf(r) };
}

export async function compareWithBaseline(baseline: string): Promise<void> {
  const root = baseline.replace(/\/$/, '');
  const [curPath, basePath] =
    FROM === 'dist'
      ? [new URL('../dist/index.js', import.meta.url).href, `${root}/apps/sim/dist/index.js`]
      : [new URL('../src/scenario.ts', import.meta.url).href, `${root}/apps/sim/src/scenario.ts`];
  const builds: [string, RunScenario][] = [
    ['current', await load(curPath)],
    [`baseline (${root})`, await load(basePath)],
  ];
  const config: Partial<ScenarioConfig> = { seed: 1, traceSize: 0 };

  // The same simulation: one traced run of each must hash the same.
  const hashes: string[] = [];
  for (const [, run] of builds) hashes.push((await run({ seed: 1 })).traceHash);
  if (SAME && hashes[0] !== hashes[1]) {
    throw new Error(`not the same simulation: trace hash ${hashes[0]} (current) vs ${hashes[1]}`);
  }
  for (let i = 0; i < WARMUP; i++) for (const [, run] of builds) await timed(run, config);

  const rates: number[][] = [[], []];
  const speedups: number[] = [];
  const runs: { steps: number; faults: number }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which build goes first, so neither always runs right after the other's GC debt.
    const order = round % 2 === 0 ? [0, 1] : [1, 0];
    const res: { cpu: number; steps: number; faults: number }[] = [];
    for (const i of order) res[i] = await timed(builds[i]![1], config);
    const [cur, base] = res as [(typeof res)[0], (typeof res)[0]];
    if (SAME && (cur.steps !== base.steps || cur.faults !== base.faults)) {
      throw new Error(
        `not the same simulation: ${cur.steps} steps / ${cur.faults} faults (current) vs ${base.steps} / ${base.faults}`,
      );
    }
    runs[0] = cur;
    runs[1] = base;
    rates[0]!.push(cur.faults / cur.cpu);
    rates[1]!.push(base.faults / base.cpu);
    speedups.push(base.cpu / cur.cpu);
  }

  console.log(
    `mmu-sim A/B bench: node ${process.version}, default scenario (seed 1, 60k ops, tracing off), ` +
      `${FROM} of each tree, ${SAME ? `trace hash ${hashes[0]}` : `trace hashes ${hashes[0]} (current) and ${hashes[1]} (baseline), not compared (SAME=0)`}; ` +
      `${WARMUP} warm-up runs of each, then ${ROUNDS} interleaved rounds; CPU time (process.cpuUsage); median (min..max)\n`,
  );
  console.log('| build | steps | faults | faults/CPU-s | CPU time: baseline / build (per round) |');
  console.log('|---|---|---|---|---|');
  const s = summarize(speedups);
  const row = (i: number, speedup: string) =>
    console.log(
      `| ${builds[i]![0]} | ${runs[i]!.steps} | ${runs[i]!.faults} | ${formatRange(summarize(rates[i]!), fmt, '..')} | ${speedup} |`,
    );
  row(0, `${s.median.toFixed(2)}x (${s.min.toFixed(2)}..${s.max.toFixed(2)})`);
  row(1, '1.00x');
  console.log(`\nratio of the medians: ${(median(rates[0]!) / median(rates[1]!)).toFixed(2)}x`);
}

// Run directly (tsx bench/baseline.ts) or from run.ts when BASELINE is set.
if (
  process.argv[1] !== undefined &&
  import.meta.url === pathToFileURL(resolve(process.argv[1])).href
) {
  if (BASELINE === undefined) {
    console.error('set BASELINE to a worktree of the revision to compare against (see the header)');
    process.exit(2);
  }
  await compareWithBaseline(BASELINE);
}
