import { configFlags } from './report.js';
import type { RunResult } from './scenario.js';
import type { Timeline } from './timeline.js';

/** One event of the Chrome trace-event format (the subset written here). */
export interface ChromeTraceEvent {
  name: string;
  ph: 'X' | 'B' | 'E' | 'i' | 'M';
  pid: number;
  tid: number;
  ts?: number;
  dur?: number;
  cat?: string;
  s?: 't' | 'p' | 'g';
  args?: Record<string, unknown>;
}

/** The process id every track is under (one simulated process). */
const PID = 1;

/**
 * A run's timeline as Chrome trace-event JSON (what Perfetto and chrome://tracing open): one
 * thread per task (metadata `thread_name`, in spawn order), a complete event (`X`) per span
 * (invalidations, faults, retries, waits) and an instant (`i`) per violation or EAGAIN.
 * Time is logical: `ts` and `dur` count scheduling steps, 1 step = 1 µs.
 */
export function chromeTrace(
  r: RunResult,
  timeline: Timeline,
): {
  traceEvents: ChromeTraceEvent[];
  displayTimeUnit: 'ms';
  otherData: Record<string, string | number | boolean>;
} {
  timeline.finish(r);
  const events: ChromeTraceEvent[] = [
    {
      name: 'process_name',
      ph: 'M',
      pid: PID,
      tid: 0,
      args: { name: `mmu-sim seed ${r.config.seed}` },
    },
  ];
  timeline.tracks.forEach((name, i) => {
    const tid = i + 1;
    const label = name === '-' ? '(no task: end of run)' : name;
    events.push({ name: 'thread_name', ph: 'M', pid: PID, tid, args: { name: label } });
    events.push({ name: 'thread_sort_index', ph: 'M', pid: PID, tid, args: { sort_index: tid } });
  });
  // Parents before children: by start, then by depth (a parent and a child may start together).
  const spans = [...timeline.spans].sort((a, b) => a.start - b.start || a.depth - b.depth);
  for (const s of spans) {
    events.push({
      name: s.name,
      cat: s.cat,
      ph: 'X',
      pid: PID,
      tid: s.tid,
      ts: s.start,
      dur: s.end - s.start,
      args: s.args,
    });
  }
  for (const i of timeline.instants) {
    events.push({
      name: i.name,
      cat: i.cat,
      ph: 'i',
      s: 't',
      pid: PID,
      tid: i.tid,
      ts: i.step,
      args: i.args,
    });
  }
  return {
    traceEvents: events,
    displayTimeUnit: 'ms',
    otherData: {
      timeUnit: '1 us = 1 scheduling step (logical time)',
      seed: r.config.seed,
      replay: `mmu-sim replay --seed ${r.config.seed}${configFlags(r.config)}`,
      ok: r.ok,
      steps: r.steps,
      traceHash: r.traceHash,
    },
  };
}

/** chromeTrace() as text: one event per line, so a large file stays readable and diffable. */
export function chromeTraceJson(r: RunResult, timeline: Timeline): string {
  const { traceEvents, ...rest } = chromeTrace(r, timeline);
  const head = JSON.stringify(rest).slice(1, -1);
  return `{${head},"traceEvents":[\n${traceEvents.map((e) => JSON.stringify(e)).join(',\n')}\n]}\n`;
}
