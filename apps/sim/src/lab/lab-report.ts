import { writeFileSync } from 'node:fs';
import { uplotAssets } from '../html-report.js';
import type { LabConfig } from './config.js';
import { describeConfig, formatLab, type LabRow, METRICS } from './format.js';
import { LAB_CHARTS_SCRIPT } from './lab-report-script.js';
import { flagOf, type Vary } from './vary.js';

/** One line chart of the report: a metric over the varied parameter, a line per strategy. */
export interface LabChart {
  id: string;
  title: string;
  xLabel: string;
  yLabel: string;
  /** The varied parameter's values, ascending. */
  xs: number[];
  /** Per strategy, the metric at each x (null where that run stopped on a violation). */
  series: { label: string; values: (number | null)[] }[];
}

/**
 * The charts of a sweep: one per metric (METRICS order). Points are sorted by value; a value
 * given twice is drawn once (its first run).
 */
export function labCharts(vary: Vary, rows: readonly LabRow[]): LabChart[] {
  const points = vary.values
    .map((value, i) => ({ value, row: rows[i]! }))
    .filter((p, i) => vary.values.indexOf(p.value) === i)
    .sort((a, b) => a.value - b.value);
  const strategies = points[0]?.row.results.map((r) => r.strategy) ?? [];
  return METRICS.map((m, k) => ({
    id: `lab-chart-${k}`,
    title: m.title,
    xLabel: flagOf(vary.param),
    yLabel: m.head,
    xs: points.map((p) => p.value),
    series: strategies.map((name, j) => ({
      label: name,
      values: points.map((p) => {
        const r = p.row.results[j]!;
        return r.ok ? m.value(r) : null;
      }),
    })),
  }));
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const PAGE_CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px auto; max-width: 1000px; color: #202124; }
h1 { font-size: 20px; } h2 { font-size: 17px; margin-top: 28px; }
.chart { margin: 12px 0 24px; min-height: 280px; }
pre { background: #f6f8fa; padding: 8px; overflow-x: auto; font-size: 12px; }
`;

/**
 * The lab's HTML report of a sweep: one self-contained page (uPlot, its CSS, the data and the
 * drawing script inlined; a Content-Security-Policy that forbids any load) with a line chart
 * per metric, a line per strategy over the varied parameter, and the text table.
 */
export function labReportHtml(config: LabConfig, vary: Vary, rows: readonly LabRow[]): string {
  const charts = labCharts(vary, rows);
  const { js, css } = uplotAssets();
  // JSON in a script element: '<' escaped so no string in it can close the element.
  const data = JSON.stringify({ charts }).replace(/</g, '\\u003c');
  const command = `mmu-sim lab ${describeConfig(config, vary)}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>mmu-sim lab: ${escapeHtml(flagOf(vary.param))}</title>
<style>${css}</style>
<style>${PAGE_CSS}</style>
</head>
<body>
<h1>mmu-sim strategy lab over ${escapeHtml(flagOf(vary.param))}</h1>
<p><code>${escapeHtml(command)}</code><br>
Time is logical: one scheduling step. A strategy's point is missing where its run stopped on a
violation.</p>
${charts.map((ch) => `<div class="chart" id="${ch.id}"></div>`).join('\n')}
<h2>Table</h2>
<pre id="lab-table">${escapeHtml(formatLab(config, rows, vary))}</pre>
<script id="lab-data" type="application/json">${data}</script>
<script>${js}</script>
<script>${LAB_CHARTS_SCRIPT}</script>
</body>
</html>
`;
}

/** Writes the report of a sweep to `file`. */
export function writeLabReport(
  file: string,
  config: LabConfig,
  vary: Vary,
  rows: readonly LabRow[],
): void {
  writeFileSync(file, labReportHtml(config, vary, rows));
}
