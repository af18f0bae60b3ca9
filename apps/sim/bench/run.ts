/**
 * mmu-sim benchmark: simulated faults per second of the default scenario with tracing off, and
 * ops per second against the size of the address space. Seeded: every run of a row simulates
 * exactly the same thing, so the spread is the machine's noise. Run: pnpm bench (in apps/sim).
 */
import { runScenario } from '../src/scenario.js';
import { Stats } from '../src/stats.js';

const RUNS = Number(process.env.RUNS ?? 5);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function fmt(x: number): string {
  return x >= 1e6
    ? `${(x / 1e6).toFixed(2)}M`
    : x >= 1e3
      ? `${(x / 1e3).toFixed(1)}k`
      : x.toFixed(0);
}

async function measure(label: string, config: Parameters<typeof runScenario>[0]) {
  const faults: number[] = [];
  const ops: number[] = [];
  const steps: number[] = [];
  await runScenario(config); // warm-up: one full run of the same config (JIT, heap)
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint();
    const r = await runScenario(config);
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (!r.ok) throw new Error(`${label}: violation ${r.violation?.message}`);
    faults.push(Stats.total(r.stats.faults) / s);
    ops.push(r.stats.ops / s);
    steps.push(r.steps / s);
  }
  const row = (xs: number[]) =>
    `${fmt(median(xs))} (${fmt(Math.min(...xs))}..${fmt(Math.max(...xs))})`;
  console.log(`| ${label} | ${row(faults)} | ${row(ops)} | ${row(steps)} |`);
}

console.log(`mmu-sim bench: node ${process.version}, ${RUNS} runs per row, median (min..max)\n`);
console.log('| scenario | faults/s | ops/s | scheduling steps/s |');
console.log('|---|---|---|---|');
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
