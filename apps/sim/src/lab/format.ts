import { type LabConfig, VARY_PARAMS } from './config.js';
import type { LabResult } from './run-lab.js';
import { flagOf, type Vary } from './vary.js';

/** One metric column of the table and of the report's charts. */
export interface MetricColumn {
  /** Column head in the terminal table. */
  head: string;
  /** Title of the report's chart. */
  title: string;
  value: (r: LabResult) => number;
}

/** The metrics, in table order. */
export const METRICS: readonly MetricColumn[] = [
  {
    head: 'faults/1k steps',
    title: 'Faults completed per 1000 steps',
    value: (r) => r.faultsPer1000Steps,
  },
  { head: 'retries/fault', title: 'Retries per fault', value: (r) => r.retriesPerFault },
  { head: 'wasted resolve', title: 'Wasted resolve steps', value: (r) => r.wastedResolveSteps },
  {
    head: 'inval p50',
    title: 'Invalidation latency p50 (steps)',
    value: (r) => r.invalidationLatency.p50,
  },
  {
    head: 'inval p99',
    title: 'Invalidation latency p99 (steps)',
    value: (r) => r.invalidationLatency.p99,
  },
  { head: 'fault p50', title: 'Fault latency p50 (steps)', value: (r) => r.faultLatency.p50 },
  { head: 'fault p99', title: 'Fault latency p99 (steps)', value: (r) => r.faultLatency.p99 },
];

/** The workload in one line, as the flags that give it (the varied one as its --vary). */
export function describeConfig(c: LabConfig, vary?: Vary): string {
  const flags = [
    `--seed ${c.seed}`,
    `--steps ${c.steps}`,
    ...VARY_PARAMS.map((p) =>
      p === vary?.param ? `--vary ${flagOf(p)}=${vary.values.join(',')}` : `--${flagOf(p)} ${c[p]}`,
    ),
  ];
  return flags.join(' ');
}

/** One sweep point (or the single run): the value of the varied parameter, and its results. */
export interface LabRow {
  /** `param=value`, or undefined without --vary. */
  point?: string;
  results: LabResult[];
}

/**
 * The terminal table: one row per strategy (per sweep point with --vary), the metrics, and the
 * result; each violation is spelled out below the table.
 */
export function formatLab(config: LabConfig, rows: readonly LabRow[], vary?: Vary): string {
  const withPoint = rows.some((r) => r.point !== undefined);
  const head = [
    ...(withPoint ? ['point'] : []),
    'strategy',
    ...METRICS.map((m) => m.head),
    'result',
  ];
  const body: string[][] = [];
  const problems: string[] = [];
  for (const row of rows) {
    for (const r of row.results) {
      const where = `${row.point === undefined ? '' : `${row.point}, `}${r.strategy}`;
      body.push([
        ...(withPoint ? [row.point ?? ''] : []),
        r.strategy + (r.bug === undefined ? '' : ` (bug ${r.bug})`),
        ...METRICS.map((m) => num(m.value(r))),
        r.ok ? 'OK' : r.violation!.kind.toUpperCase(),
      ]);
      if (!r.ok) {
        const v = r.violation!;
        problems.push(`${where}: ${v.kind} at step ${v.step}: ${v.message}`);
      }
    }
  }
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const text = (cells: string[]) =>
    cells
      .map((c, i) => (i < (withPoint ? 2 : 1) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [
    `mmu-sim lab ${describeConfig(config, vary)}`,
    'time is scheduling steps; latencies are p50/p99 in steps',
    '',
    text(head),
    ...body.map(text),
    ...(problems.length === 0 ? [] : ['', ...problems]),
  ].join('\n');
}

/** A metric as the table shows it: integers as is, others with up to 3 decimals. */
function num(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(3).replace(/0+$/, '');
}
