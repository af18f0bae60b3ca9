/**
 * mmu-sim benchmark: simulated faults per second of the default scenario with tracing off, and
 * ops per second against the size of the address space. Seeded: every run of a row simulates
 * exactly the same thing, so the spread is the machine's noise. Run: pnpm bench (in apps/sim).
 *
 * Two clocks: wall time (hrtime), and the process's CPU time (process.cpuUsage, user + system).
 * On a shared machine the wall time also counts the time the process waited for a core; the
 * CPU time does not (it does count GC helper threads, so it is slightly pessimistic).
 *
 * With BASELINE set to a worktree of an older revision, it measures that revision against the
 * current source instead, side by side in this process (see bench/baseline.ts).
 */

import { formatCount, formatRange, summarize } from '../../../bench-stats.js';
import { runScenario } from '../src/scenario.js';
import { Scheduler } from '../src/scheduler.js';
import { Stats } from '../src/stats.js';
import { compareWithBaseline } from './baseline.js';

// BASELINE=<worktree of an older revision>: only the A/B table of bench/baseline.ts.
if (process.env.BASELINE !== undefined) {
  await compareWithBaseline(process.env.BASELINE);
  process.exit(0);
}

const RUNS = Number(process.env.RUNS ?? 5);
const WARMUP = Number(process.env.WARMUP ?? 3);

const fmt = formatCount;

async function measure(label: string, config: Parameters<typeof runScenario>[0]) {
  const faults: number[] = [];
  const faultsCpu: number[] = [];
  const ops: number[] = [];
  const steps: number[] = [];
  // Warm-up: full runs of the same config until the JIT has settled (a 60k-op run takes about
  // three runs to reach steady speed: 1st ~8x, 2nd ~4x, 3rd ~2x slower than the later ones).
  for (let i = 0; i < WARMUP; i++) await runScenario(config);
  for (let i = 0; i < RUNS; i++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const r = await runScenario(config);
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    const c = process.cpuUsage(c0);
    const cpu = (c.user + c.system) / 1e6;
    if (!r.ok) throw new Error(`${label}: violation ${r.violation?.message}`);
    faults.push(Stats.total(r.stats.faults) / s);
    faultsCpu.push(Stats.total(r.stats.faults) / cpu);
    ops.push(r.stats.ops / s);
    steps.push(r.steps / s);
  }
  const row = (xs: number[]) => formatRange(summarize(xs), fmt, '..');
  console.log(`| ${label} | ${row(faults)} | ${row(faultsCpu)} | ${row(ops)} | ${row(steps)} |`);
}

console.log(
  `mmu-sim bench: node ${process.version}, ${WARMUP} warm-up + ${RUNS} runs per row, median (min..max)\n`,
);
console.log('| scenario | faults/s | faults/CPU-s | ops/s | scheduling steps/s |');
console.log('|---|---|---|---|---|');
await measure('default (60k ops, 4096 pages, tracing off)', { seed: 1, traceSize: 0 });
await measure('default, tracing on (40-event ring + hash)', { seed: 1 });
await measure('default, no sweeps (incremental checks only)', {
  seed: 1,
  traceSize: 0,
  sweepEvery: 0,
});
await measure('kvm only', { seed: 1, traceSize: 0, hmm: false, vhost: false });
for (const pages of [1e3, 1e4, 1e5, 1e6]) {
  await measure(`20k ops, ${fmt(pages)} pages`, { seed: 1, ops: 20_000, pages, traceSize: 0 });
}

// The scheduler alone: 10 tasks that only yield, as many steps as the default scenario takes.
// The gap between this and the scenario's steps/s is the simulated work done per step.
{
  const rates: number[] = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const sched = new Scheduler({ seed: 1 });
    for (let k = 0; k < 10; k++) {
      sched.spawn(`t${k}`, async (t) => {
        for (let j = 0; j < 11_000; j++) await sched.yield(t, 'step');
      });
    }
    const t0 = process.hrtime.bigint();
    await sched.run();
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (i >= WARMUP) rates.push(sched.steps / s);
  }
  const s = summarize(rates);
  console.log(
    `\nscheduler alone (10 tasks that only yield, 110k steps): ${fmt(s.median)} steps/s (${fmt(s.min)}..${fmt(s.max)})`,
  );
}
