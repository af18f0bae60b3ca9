import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** Chromium to drive: $CHROMIUM_PATH, else Debian's (.ci/run installs it when missing). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Launches headless Chromium (no sandbox: CI runs as root). */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `no Chromium at ${CHROMIUM}: install Debian's chromium (.ci/run does) or set CHROMIUM_PATH`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], headless: true });
}

/** What one chart element looked like once the page settled. */
export interface ChartState {
  id: string;
  /** uPlot's draw hook ran (the page's `data-drawn`). */
  drawn: boolean;
  canvasWidth: number;
  canvasHeight: number;
  /** Pixels of the canvas that are not fully transparent. */
  inkPixels: number;
}

/** The result of loading a page: everything that went wrong, and the charts' states. */
export interface PageCheck {
  problems: string[];
  charts: ChartState[];
}

/** A chart counts as drawn with at least this many painted pixels (axes alone give thousands). */
const MIN_INK = 500;

/**
 * Opens `url` in a fresh page and checks it: no console error, no page error, no request but the
 * page itself (it must be self-contained), the chart script finished (`data-charts` on the
 * body), and every `.chart` element drew (uPlot's hook ran, a canvas of non-zero size with
 * painted pixels). Takes a full-page screenshot to `screenshot`.
 */
export async function checkPage(
  browser: Browser,
  url: string,
  screenshot: string,
): Promise<PageCheck> {
  const problems: string[] = [];
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (req) => {
    if (req.url() !== url) problems.push(`request: ${req.url()}`);
  });
  try {
    await page.goto(url, { waitUntil: 'load' });
    try {
      await page.waitForSelector('body[data-charts]', { state: 'attached', timeout: 3000 });
    } catch {
      problems.push('the chart script did not finish (no data-charts on the body)');
    }
    const charts = await page.$$eval('.chart', (els) =>
      els.map((el) => {
        const canvas = el.querySelector('canvas');
        let ink = 0;
        if (canvas !== null && canvas.width > 0 && canvas.height > 0) {
          const px = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
          for (let i = 3; i < px.length; i += 4) if (px[i]! > 0) ink++;
        }
        return {
          id: el.id,
          drawn: el.getAttribute('data-drawn') === 'true',
          canvasWidth: canvas?.width ?? 0,
          canvasHeight: canvas?.height ?? 0,
          inkPixels: ink,
        };
      }),
    );
    if (charts.length === 0) problems.push('no chart on the page');
    for (const c of charts) {
      if (!c.drawn) problems.push(`${c.id}: not drawn`);
      if (c.canvasWidth === 0 || c.canvasHeight === 0) problems.push(`${c.id}: no canvas`);
      else if (c.inkPixels < MIN_INK) problems.push(`${c.id}: blank canvas (${c.inkPixels} px)`);
    }
    await page.screenshot({ path: screenshot, fullPage: true });
    return { problems, charts };
  } finally {
    await page.close();
  }
}
