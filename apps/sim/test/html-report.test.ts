import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { htmlReport, reportCharts } from '../src/html-report.js';
import { CHARTS_SCRIPT } from '../src/html-report-script.js';
import type { RunResult, ScenarioConfig } from '../src/scenario.js';
import { checkPage, launchChromium } from './page-check.js';
import { runWithTimeline } from './world.js';

/** A violating run: kvm-no-retry, seed 1 (found by `explore --bug kvm-no-retry --ops 1000`). */
const VIOLATING: Partial<ScenarioConfig> = {
  seed: 1,
  ops: 1000,
  end: 'random',
  bugs: { kvm: { skipRetry: true } },
};

/** The text of `<pre id="id">` in `html`, its character references decoded. */
function pre(html: string, id: string): string | undefined {
  const m = new RegExp(`<pre id="${id}">([\\s\\S]*?)</pre>`).exec(html);
  return m?.[1]?.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)));
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe('the HTML report (--report)', () => {
  let dir: string;
  let browser: Browser;
  let okPage: string;
  let badPage: string;
  let badRun: RunResult;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mmu-sim-report-'));
    browser = await launchChromium();
    const ok = await runWithTimeline({ seed: 3, ops: 4000 });
    expect(ok.r.ok).toBe(true);
    okPage = htmlReport(ok.r, ok.timeline);
    const bad = await runWithTimeline(VIOLATING);
    badRun = bad.r;
    badPage = htmlReport(bad.r, bad.timeline);
  });

  afterAll(async () => {
    await browser?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  /** Writes `html` to the temp dir and checks it in Chromium, with a screenshot. */
  const check = async (name: string, html: string) => {
    const file = join(dir, `${name}.html`);
    writeFileSync(file, html);
    const shot = join(dir, `${name}.png`);
    const result = await checkPage(browser, pathToFileURL(file).href, shot);
    return { ...result, shot };
  };

  it('is one self-contained page: uPlot and its CSS inlined, nothing loaded', () => {
    expect(okPage).toContain('https://github.com/leeoniya/uPlot (v1.6.32)');
    expect(okPage).toContain('.uplot');
    expect(okPage).not.toMatch(/<script[^>]*\ssrc=/i);
    expect(okPage).not.toMatch(/<link[^>]*\shref=/i);
    expect(okPage).toContain("default-src 'none'");
  });

  it('has the three charts: retries and waits per fault, invalidations per event, latency', async () => {
    const { r, timeline } = await runWithTimeline({ seed: 3, ops: 4000 });
    const charts = reportCharts(r, timeline);
    expect(charts.map((c) => c.id)).toEqual([
      'chart-per-fault',
      'chart-invalidations',
      'chart-latency',
    ]);
    const [perFault, inv, latency] = charts;
    // Every fault is in each histogram once.
    const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);
    const faults = timeline.faults.length;
    expect(faults).toBeGreaterThan(0);
    expect(sum(perFault!.series[0]!.values)).toBe(faults);
    expect(sum(perFault!.series[1]!.values)).toBe(faults);
    expect(sum(latency!.series[0]!.values)).toBe(faults);
    expect(sum(inv!.series[0]!.values)).toBe(
      Object.values(r.stats.invalidations).reduce((a, b) => a + b, 0),
    );
    expect(inv!.labels).toContain('unmap');
  });

  it('loads in Chromium with no error, every chart drawn, and a screenshot', async () => {
    const { problems, charts, shot } = await check('ok', okPage);
    expect(problems).toEqual([]);
    expect(charts.map((c) => c.id)).toEqual([
      'chart-per-fault',
      'chart-invalidations',
      'chart-latency',
    ]);
    for (const c of charts) {
      expect(c.drawn).toBe(true);
      expect(c.canvasWidth).toBeGreaterThan(0);
      expect(c.canvasHeight).toBeGreaterThan(0);
    }
    const png = readFileSync(shot);
    expect(statSync(shot).size).toBeGreaterThan(1000);
    expect(png.subarray(0, 8)).toEqual(PNG_SIGNATURE);
  });

  it('shows a violation with its message and trace excerpt, charts drawn', async () => {
    expect(badRun.ok).toBe(false);
    const v = badRun.violation!;
    expect(pre(badPage, 'violation-message')).toBe(v.message);
    expect(v.trace.length).toBeGreaterThan(0);
    expect(pre(badPage, 'violation-trace')).toBe(v.trace.join('\n'));
    expect(v.trace[v.trace.length - 1]).toMatch(/VIOLATION/);
    expect(badPage).toContain('--bug kvm-no-retry');
    const { problems } = await check('violation', badPage);
    expect(problems).toEqual([]);
  });

  // Negative controls: the same checks must catch a broken page.
  it.each([
    {
      name: 'a chart script that throws before the last chart',
      broken: (html: string) =>
        html.replace(
          CHARTS_SCRIPT,
          CHARTS_SCRIPT.replace(
            'new uPlot(opts',
            "if (c.id === 'chart-latency') throw new Error('broken chart'); new uPlot(opts",
          ),
        ),
      expected: [/page error: .*broken chart/, /chart-latency: not drawn/, /did not finish/],
    },
    {
      name: 'the charting library missing',
      broken: (html: string) =>
        html.replace(/<script>\/\*! https:\/\/github\.com\/leeoniya\/uPlot[\s\S]*?<\/script>/, ''),
      expected: [/page error: .*uPlot/, /chart-per-fault: not drawn/],
    },
    {
      name: 'a chart that draws nothing (an empty canvas)',
      broken: (html: string) =>
        html.replace(
          CHARTS_SCRIPT,
          CHARTS_SCRIPT.replace(
            'new uPlot(opts, ',
            "if (c.id === 'chart-invalidations') { opts.title = ''; opts.axes = [{ show: false }, " +
              '{ show: false }]; opts.series = opts.series.slice(0, 1); new uPlot(opts, [xs], el); ' +
              'return; } new uPlot(opts, ',
          ),
        ),
      expected: [/chart-invalidations: blank canvas/],
    },
  ])('detects $name', async ({ name, broken, expected }) => {
    const html = broken(okPage);
    expect(html).not.toBe(okPage);
    const { problems, shot } = await check(`broken-${name.replace(/\W+/g, '-')}`, html);
    for (const e of expected) expect(problems.some((p) => e.test(p))).toBe(true);
    expect(statSync(shot).size).toBeGreaterThan(0);
  });
});
