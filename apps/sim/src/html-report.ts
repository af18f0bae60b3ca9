import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { CHARTS_SCRIPT } from './html-report-script.js';
import { configFlags, formatReport } from './report.js';
import type { RunResult } from './scenario.js';
import { type FaultRecord, resultName, type Span, type Timeline } from './timeline.js';

/** One bar chart of the page: a bar per label and series. */
export interface ChartSpec {
  id: string;
  title: string;
  xLabel: string;
  yLabel: string;
  labels: string[];
  series: { label: string; values: number[] }[];
  /** y on an asinh scale (counts over orders of magnitude). */
  log: boolean;
}

/** Retries and waits above this many in one fault share the last bar ("16+"). */
const PER_FAULT_CAP = 16;

/** Faults with 0, 1, ... retries and waits (the last bar: PER_FAULT_CAP or more). */
function perFaultChart(faults: readonly FaultRecord[]): ChartSpec {
  let top = 0;
  for (const f of faults) top = Math.max(top, f.retries, f.waits);
  const n = Math.min(top, PER_FAULT_CAP) + 1;
  const retries = new Array<number>(n).fill(0);
  const waits = new Array<number>(n).fill(0);
  for (const f of faults) {
    retries[Math.min(f.retries, n - 1)]!++;
    waits[Math.min(f.waits, n - 1)]!++;
  }
  const labels = Array.from({ length: n }, (_, i) => (i === PER_FAULT_CAP ? `${i}+` : String(i)));
  return {
    id: 'chart-per-fault',
    title: 'Retries and waits per fault',
    xLabel: 'retries or waits in one fault',
    yLabel: 'faults',
    labels,
    series: [
      { label: 'faults with n retries', values: retries },
      { label: 'faults with n waits', values: waits },
    ],
    log: true,
  };
}

/** Power-of-two latency bucket: 0, 1, 2-3, 4-7, ... */
function bucketOf(steps: number): number {
  return steps <= 0 ? 0 : Math.floor(Math.log2(steps)) + 1;
}

function bucketLabel(b: number): string {
  if (b <= 1) return String(b);
  const lo = 2 ** (b - 1);
  return `${lo}-${2 * lo - 1}`;
}

/** Fault latency (end - begin, in scheduling steps) as a histogram of power-of-two buckets. */
function latencyChart(faults: readonly FaultRecord[]): ChartSpec {
  let top = 0;
  for (const f of faults) top = Math.max(top, bucketOf(f.end - f.start));
  const counts = new Array<number>(top + 1).fill(0);
  for (const f of faults) counts[bucketOf(f.end - f.start)]!++;
  return {
    id: 'chart-latency',
    title: 'Fault latency (scheduling steps, begin to install or give-up)',
    xLabel: 'steps',
    yLabel: 'faults',
    labels: counts.map((_, b) => bucketLabel(b)),
    series: [{ label: 'faults', values: counts }],
    log: true,
  };
}

/** Invalidation ranges started per notifier event (the run's counters; events never sent: out). */
function invalidationChart(r: RunResult): ChartSpec {
  const all = Object.entries(r.stats.invalidations);
  const sent = all.filter(([, n]) => n > 0);
  const shown = sent.length > 0 ? sent : all;
  return {
    id: 'chart-invalidations',
    title: 'Invalidations per event type',
    xLabel: 'event',
    yLabel: 'ranges',
    labels: shown.map(([e]) => e),
    series: [{ label: 'invalidation ranges', values: shown.map(([, n]) => n) }],
    log: false,
  };
}

/** The charts of the page, in order. */
export function reportCharts(r: RunResult, timeline: Timeline): ChartSpec[] {
  timeline.finish(r);
  return [perFaultChart(timeline.faults), invalidationChart(r), latencyChart(timeline.faults)];
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The q-quantile (0..1) of sorted numbers. */
function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function table(head: string[], rows: (string | number)[][]): string {
  const th = head.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const trs = rows
    .map((row) => `<tr>${row.map((c) => `<td>${escapeHtml(String(c))}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${trs}\n</tbody></table>`;
}

/** Per fault path: counts, outcomes, retries, waits and latency quantiles. */
function faultTable(faults: readonly FaultRecord[]): string {
  const paths = [...new Set(faults.map((f) => f.path))].sort();
  const rows = paths.map((path) => {
    const mine = faults.filter((f) => f.path === path);
    const lat = mine.map((f) => f.end - f.start).sort((a, b) => a - b);
    const outcomes = new Map<string, number>();
    for (const f of mine) {
      const k = f.unfinished ? 'unfinished' : resultName(f.result);
      outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
    }
    return [
      path,
      mine.length,
      [...outcomes].map(([k, n]) => `${k} ${n}`).join(', '),
      mine.reduce((s, f) => s + f.retries, 0),
      mine.reduce((s, f) => s + f.waits, 0),
      quantile(lat, 0.5),
      quantile(lat, 0.9),
      quantile(lat, 0.99),
      lat[lat.length - 1] ?? 0,
    ];
  });
  return table(
    ['path', 'faults', 'outcome', 'retries', 'waits', 'p50', 'p90', 'p99', 'max (steps)'],
    rows,
  );
}

/** Spans of one category grouped by name: count, total and longest duration. */
function spanTable(spans: readonly Span[], cat: Span['cat'], first: string): string {
  const by = new Map<string, { n: number; total: number; max: number }>();
  for (const s of spans) {
    if (s.cat !== cat) continue;
    const d = s.end - s.start;
    const e = by.get(s.name) ?? { n: 0, total: 0, max: 0 };
    e.n++;
    e.total += d;
    e.max = Math.max(e.max, d);
    by.set(s.name, e);
  }
  const rows = [...by]
    .sort((a, b) => b[1].n - a[1].n)
    .map(([name, e]) => [name, e.n, (e.total / e.n).toFixed(1), e.max]);
  return table([first, 'count', 'mean (steps)', 'max (steps)'], rows);
}

/** uPlot's built script and stylesheet, read from its package (inlined: the page loads nothing). */
export function uplotAssets(): { js: string; css: string } {
  const require = createRequire(import.meta.url);
  const js = readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8');
  const css = readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8');
  if (/<\/script/i.test(js) || /<\/style/i.test(css)) {
    throw new Error('uPlot assets contain a closing tag: they cannot be inlined as they are');
  }
  return { js, css };
}

const PAGE_CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px auto; max-width: 1000px; color: #202124; }
h1 { font-size: 20px; } h2 { font-size: 17px; margin-top: 28px; }
.ok { color: #188038; } .bad { color: #c5221f; }
.chart { margin: 12px 0 24px; min-height: 300px; }
table { border-collapse: collapse; margin: 8px 0; } td, th { padding: 2px 10px; text-align: right; }
td:first-child, th:first-child { text-align: left; } thead th { border-bottom: 1px solid #999; }
pre { background: #f6f8fa; padding: 8px; overflow-x: auto; font-size: 12px; }
`;

/**
 * The HTML report of one run: a self-contained page (uPlot, its CSS, the data and the drawing
 * script inlined; a Content-Security-Policy that forbids any load) with the charts of
 * reportCharts(), tables of faults, invalidations and waits, the violation with its trace
 * excerpt if there was one, and the text report.
 */
export function htmlReport(r: RunResult, timeline: Timeline): string {
  const charts = reportCharts(r, timeline);
  const { js, css } = uplotAssets();
  const c = r.config;
  const replay = `mmu-sim replay --seed ${c.seed}${configFlags(c)}`;
  // JSON in a script element: '<' escaped so no string in it can close the element.
  const data = JSON.stringify({ charts }).replace(/</g, '\\u003c');
  const v = r.violation;
  const violation =
    v === undefined
      ? ''
      : `<h2 class="bad">Violation (${escapeHtml(v.kind)}) at step ${v.step}</h2>
<pre id="violation-message">${escapeHtml(v.message)}</pre>
<p>Replay: <code>${escapeHtml(replay)}</code></p>
<h3>Last trace events (step task event a b c)</h3>
<pre id="violation-trace">${escapeHtml(v.trace.join('\n'))}</pre>`;
  const spans = timeline.spans;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>mmu-sim report: seed ${c.seed}${r.ok ? '' : ' (violation)'}</title>
<style>${css}</style>
<style>${PAGE_CSS}</style>
</head>
<body>
<h1>mmu-sim run, seed ${c.seed}: <span class="${r.ok ? 'ok' : 'bad'}">${r.ok ? 'OK' : 'VIOLATION'}</span></h1>
<p><code>${escapeHtml(replay)}</code><br>
${r.steps} scheduling steps, ${r.traceEvents} trace events (hash ${escapeHtml(r.traceHash)}).
Time is logical: one scheduling step.</p>
${violation}
<h2>Charts</h2>
${charts.map((ch) => `<div class="chart" id="${ch.id}"></div>`).join('\n')}
<h2>Faults by path</h2>
${faultTable(timeline.faults)}
<h2>Invalidations (timeline spans, start to end)</h2>
${spanTable(spans, 'invalidation', 'event')}
<h2>Waits</h2>
${spanTable(spans, 'wait', 'wait')}
<details><summary>Text report</summary>
<pre>${escapeHtml(formatReport(r))}</pre>
</details>
<script id="report-data" type="application/json">${data}</script>
<script>${js}</script>
<script>${CHARTS_SCRIPT}</script>
</body>
</html>
`;
}
