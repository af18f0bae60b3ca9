import { writeFileSync } from 'node:fs';
import { chromeTraceJson } from './chrome-trace.js';
import { htmlReport } from './html-report.js';
import type { RunResult, ScenarioConfig } from './scenario.js';
import { Timeline } from './timeline.js';

/** The file options of `run` and `replay`: `--trace [file]` and `--report <file>`. */
export interface RunOutputOptions {
  /** true: print every event (no file); a file name: write the Chrome trace JSON there. */
  trace?: boolean | string;
  report?: string;
}

/**
 * The timeline a run needs for its output files (undefined if it writes none) and the config
 * that attaches it.
 */
export function timelineFor(o: RunOutputOptions): {
  timeline: Timeline | undefined;
  config: Partial<ScenarioConfig>;
} {
  if (typeof o.trace !== 'string' && o.report === undefined)
    return { timeline: undefined, config: {} };
  const timeline = new Timeline();
  return { timeline, config: { onStart: (trace, sched) => timeline.attach(trace, sched) } };
}

/**
 * Writes `--trace FILE` (Chrome trace JSON) and `--report FILE` (HTML) of a finished run; one
 * line per file on stderr (stdout keeps the report or the JSON). Throws an Error naming the
 * file it could not write.
 */
export function writeRunOutputs(
  r: RunResult,
  timeline: Timeline | undefined,
  o: RunOutputOptions,
): void {
  if (timeline === undefined) return;
  const write = (file: string, text: string, what: string): void => {
    try {
      writeFileSync(file, text);
    } catch (error) {
      throw new Error(`cannot write ${file}: ${(error as Error).message}`);
    }
    process.stderr.write(`${what}: ${file}\n`);
  };
  if (typeof o.trace === 'string') {
    write(o.trace, chromeTraceJson(r, timeline), 'Chrome trace (Perfetto, chrome://tracing)');
  }
  if (o.report !== undefined) write(o.report, htmlReport(r, timeline), 'HTML report');
}
