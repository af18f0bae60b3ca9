import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LAB_CONFIG, type LabConfig, STRATEGY_NAMES } from '../src/lab/config.js';
import type { LabRow } from '../src/lab/format.js';
import { labCharts, labReportHtml } from '../src/lab/lab-report.js';
import { LAB_CHARTS_SCRIPT } from '../src/lab/lab-report-script.js';
import { runLab } from '../src/lab/run-lab.js';
import type { Vary } from '../src/lab/vary.js';
import { checkPage, launchChromium } from './page-check.js';

const BASE: LabConfig = { ...DEFAULT_LAB_CONFIG, steps: 1500 };
/** Unsorted, with a repeat: the charts sort the points and draw a value once. */
const VARY: Vary = { param: 'resolveSteps', values: [8, 2, 4, 2] };

describe('the lab HTML report (--report)', () => {
  let dir: string;
  let browser: Browser;
  let rows: LabRow[];
  let page: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mmu-sim-lab-report-'));
    browser = await launchChromium();
    rows = [];
    for (const v of VARY.values) {
      rows.push({ results: await runLab({ ...BASE, resolveSteps: v }, STRATEGY_NAMES) });
    }
    // A violating run too: its strategy has no point at that value.
    rows[1] = {
      results: await runLab({ ...BASE, resolveSteps: 2 }, STRATEGY_NAMES, 'reader-count-no-wait'),
    };
    page = labReportHtml(BASE, VARY, rows);
  });

  afterAll(async () => {
    await browser?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('has a chart per metric, a line per strategy over the sorted values', () => {
    const charts = labCharts(VARY, rows);
    expect(charts).toHaveLength(7);
    expect(charts.map((c) => c.title)).toContain('Invalidation latency p99 (steps)');
    for (const c of charts) {
      expect(c.xs).toEqual([2, 4, 8]);
      expect(c.series.map((s) => s.label)).toEqual([...STRATEGY_NAMES]);
    }
    const wasted = charts.find((c) => c.title === 'Wasted resolve steps')!;
    // x = 8 is rows[0]; x = 2 is rows[1] (the first run of 2), where reader-count violated.
    expect(wasted.series[1]!.values[2]).toBe(rows[0]!.results[1]!.wastedResolveSteps);
    expect(rows[1]!.results[3]!.ok).toBe(false);
    expect(wasted.series[3]!.values[0]).toBeNull();
    expect(wasted.series[3]!.values[1]).toBe(0);
  });

  it('is one self-contained page: uPlot inlined, nothing loaded, the table included', () => {
    expect(page).toContain('https://github.com/leeoniya/uPlot (v1.6.32)');
    expect(page).not.toMatch(/<script[^>]*\ssrc=/i);
    expect(page).not.toMatch(/<link[^>]*\shref=/i);
    expect(page).toContain("default-src 'none'");
    expect(page).toContain('--vary resolve-steps=8,2,4,2');
    expect(page).toMatch(/reader-count: violation at step \d+/);
  });

  it('loads in Chromium with no error and every chart drawn', async () => {
    const file = join(dir, 'lab.html');
    writeFileSync(file, page);
    const { problems, charts } = await checkPage(
      browser,
      pathToFileURL(file).href,
      join(dir, 'lab.png'),
    );
    expect(problems).toEqual([]);
    expect(charts.map((c) => c.id)).toEqual(labCharts(VARY, rows).map((c) => c.id));
    expect(readFileSync(join(dir, 'lab.png')).length).toBeGreaterThan(1000);
  });

  it('the same check catches a chart script that throws (negative control)', async () => {
    const broken = page.replace(
      LAB_CHARTS_SCRIPT,
      LAB_CHARTS_SCRIPT.replace(
        'new uPlot(opts',
        "if (c.id === 'lab-chart-3') throw new Error('broken chart'); new uPlot(opts",
      ),
    );
    expect(broken).not.toBe(page);
    const file = join(dir, 'broken.html');
    writeFileSync(file, broken);
    const { problems } = await checkPage(
      browser,
      pathToFileURL(file).href,
      join(dir, 'broken.png'),
    );
    expect(problems.some((p) => /page error: .*broken chart/.test(p))).toBe(true);
    expect(problems).toContain('lab-chart-3: not drawn');
  });
});
