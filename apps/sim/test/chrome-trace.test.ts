import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { type ChromeTraceEvent, chromeTraceJson } from '../src/chrome-trace.js';
import { runScenario } from '../src/scenario.js';
import { runWithTimeline } from './world.js';

/**
 * The structural checks of a Chrome trace: every track has a thread_name, every B has its E
 * (same name, in order), every X has dur >= 0, and the X events of a track nest (each lies
 * inside the one it starts in, or after it). Returns the problems found.
 */
function traceProblems(events: readonly ChromeTraceEvent[]): string[] {
  const problems: string[] = [];
  const named = new Set(
    events.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => e.tid),
  );
  const tracks = new Map<number, ChromeTraceEvent[]>();
  for (const e of events) {
    if (e.ph === 'M') continue;
    if (!named.has(e.tid)) problems.push(`tid ${e.tid} has no thread_name`);
    if (typeof e.ts !== 'number' || !(e.ts >= 0)) problems.push(`${e.name}: bad ts ${e.ts}`);
    if (e.ph === 'X' && !(typeof e.dur === 'number' && e.dur >= 0))
      problems.push(`${e.name} at ${e.ts}: dur ${e.dur}`);
    const list = tracks.get(e.tid) ?? [];
    list.push(e);
    tracks.set(e.tid, list);
  }
  for (const [tid, list] of tracks) {
    const open: ChromeTraceEvent[] = [];
    for (const e of list) {
      if (e.ph === 'B') open.push(e);
      if (e.ph === 'E') {
        const b = open.pop();
        if (b === undefined || b.name !== e.name)
          problems.push(`tid ${tid}: E ${e.name} unmatched`);
      }
    }
    for (const b of open) problems.push(`tid ${tid}: B ${b.name} at ${b.ts} has no E`);
    const xs = list.filter((e) => e.ph === 'X').sort((a, b) => a.ts! - b.ts! || b.dur! - a.dur!);
    const stack: ChromeTraceEvent[] = [];
    for (const e of xs) {
      const end = e.ts! + e.dur!;
      while (
        stack.length > 0 &&
        stack[stack.length - 1]!.ts! + stack[stack.length - 1]!.dur! <= e.ts!
      ) {
        stack.pop();
      }
      const parent = stack[stack.length - 1];
      if (parent !== undefined && end > parent.ts! + parent.dur!) {
        problems.push(`tid ${tid}: ${e.name} [${e.ts}, ${end}] overlaps ${parent.name}`);
      }
      stack.push(e);
    }
  }
  return problems;
}

describe('the Chrome trace (--trace FILE)', () => {
  it('the structural checks catch a broken trace (negative control)', () => {
    const meta = (tid: number): ChromeTraceEvent => ({
      name: 'thread_name',
      ph: 'M',
      pid: 1,
      tid,
      args: { name: `t${tid}` },
    });
    const x = (tid: number, ts: number, dur: number): ChromeTraceEvent => ({
      name: `x${ts}`,
      ph: 'X',
      pid: 1,
      tid,
      ts,
      dur,
    });
    const good = [meta(1), x(1, 0, 10), x(1, 2, 3), x(1, 5, 5), x(1, 10, 0), x(1, 11, 4)];
    expect(traceProblems(good)).toEqual([]);
    const cases: [ChromeTraceEvent[], RegExp][] = [
      [[meta(1), x(1, 0, 10), x(1, 5, 10)], /overlaps/],
      [[meta(1), x(1, 0, -1)], /dur -1/],
      [[meta(1), x(2, 0, 1)], /tid 2 has no thread_name/],
      [[meta(1), { name: 'b', ph: 'B', pid: 1, tid: 1, ts: 0 }], /has no E/],
      [[meta(1), { name: 'e', ph: 'E', pid: 1, tid: 1, ts: 0 }], /unmatched/],
    ];
    for (const [events, problem] of cases) {
      expect(
        traceProblems(events).some((p) => problem.test(p)),
        String(problem),
      ).toBe(true);
    }
  });

  it('parses, names every task, and its spans nest per track', async () => {
    const { r, timeline } = await runWithTimeline({ seed: 5, ops: 5000 });
    const trace = JSON.parse(chromeTraceJson(r, timeline)) as {
      traceEvents: ChromeTraceEvent[];
      otherData: Record<string, unknown>;
    };
    const events = trace.traceEvents;
    const names = events
      .filter((e) => e.ph === 'M' && e.name === 'thread_name')
      .map((e) => (e.args as { name: string }).name);
    expect(names).toEqual([
      'cpu0',
      'cpu1',
      'mm',
      'kswapd',
      'vcpu0',
      'vcpu1',
      'dev0',
      'dev1',
      'vhost',
    ]);
    expect(traceProblems(events)).toEqual([]);
    expect(timeline.forcedCloses).toBe(0);
    expect(timeline.unmatchedEnds).toBe(0);
    const spanNames = new Set(events.filter((e) => e.ph === 'X').map((e) => e.name));
    for (const n of [
      'invalidate unmap',
      'fault kvm',
      'fault hmm',
      'fault cpu',
      'fault vhost-map',
      'retry kvm',
      'retry hmm',
      'wait lock:hmm.mutex',
      'wait read:mmap_lock',
      'wait hmm: mmu_interval_read_begin',
    ]) {
      expect(spanNames, n).toContain(n);
    }
    expect(trace.otherData.timeUnit).toMatch(/1 us = 1 scheduling step/);
    expect(events.some((e) => e.ph === 'i' && e.cat === 'violation')).toBe(false);
  });

  it('a violating run (kvm-no-retry) has a violation instant with the message', async () => {
    const { r, timeline } = await runWithTimeline({
      seed: 1,
      ops: 1000,
      end: 'random',
      bugs: { kvm: { skipRetry: true } },
    });
    expect(r.ok).toBe(false);
    const events = (JSON.parse(chromeTraceJson(r, timeline)) as { traceEvents: ChromeTraceEvent[] })
      .traceEvents;
    expect(traceProblems(events)).toEqual([]);
    const v = events.filter((e) => e.ph === 'i' && e.cat === 'violation');
    expect(v).toHaveLength(1);
    expect(v[0]!.ts).toBe(r.violation!.step);
    expect(v[0]!.args!.message).toBe(r.violation!.message);
  });

  it('attaching the timeline changes nothing in the run: the default run keeps its hash', async () => {
    const { r, timeline } = await runWithTimeline({});
    const plain = await runScenario({});
    expect(r.traceHash).toBe(plain.traceHash);
    expect(r.steps).toBe(plain.steps);
    expect(r.traceEvents).toBe(plain.traceEvents);
    timeline.finish(r);
    // The spans agree with the run's own counters.
    const faults = { cpu: 0, kvm: 0, hmm: 0, vhost: 0 };
    for (const f of timeline.faults) if (f.path in faults) faults[f.path as keyof typeof faults]++;
    expect(faults).toEqual({ ...r.stats.faults });
    const count = (pred: (name: string) => boolean) =>
      timeline.spans.filter((s) => s.cat === 'wait' && pred(s.name)).length;
    expect(count((n) => n === 'wait lock:hmm.mutex')).toBe(r.stats.waits.lock);
    expect(count((n) => n.endsWith('mmap_lock'))).toBe(r.stats.waits.mmapLock);
    expect(count((n) => n.endsWith('mmu_interval_read_begin'))).toBe(r.stats.waits.readBegin);
    expect(count((n) => n === 'wait vhost: synchronize_srcu')).toBe(r.stats.waits.vhostReader);
    const invalidations = timeline.spans.filter((s) => s.cat === 'invalidation').length;
    const eagain = timeline.instants.filter((i) => i.name.startsWith('EAGAIN ')).length;
    const total = Object.values(r.stats.invalidations).reduce((a, b) => a + b, 0);
    // release() is no range: it has no inv-start/inv-end.
    expect(invalidations + eagain).toBe(total - r.stats.invalidations.release);
    expect(timeline.forcedCloses).toBe(0);
    expect(timeline.unmatchedEnds).toBe(0);
  });
});

describe('run/replay --trace FILE and --report FILE (dist/cli.js)', () => {
  const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'mmu-sim-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const sim = (...args: string[]) => spawnSync(process.execPath, [cli, ...args]);

  it('writes both files for a violating replay, and the violation is in each', () => {
    const traceFile = join(dir, 'trace.json');
    const reportFile = join(dir, 'report.html');
    const r = sim(
      'replay',
      '--seed',
      '1',
      '--ops',
      '1000',
      '--end',
      'random',
      '--bug',
      'kvm-no-retry',
      '--trace',
      traceFile,
      '--report',
      reportFile,
      '--json',
    );
    expect(r.status).toBe(1);
    const out = JSON.parse(r.stdout.toString()) as { ok: boolean; log?: unknown };
    expect(out.ok).toBe(false);
    expect(out.log).toBeUndefined();
    expect(r.stderr.toString()).toContain(traceFile);
    const events = (
      JSON.parse(readFileSync(traceFile, 'utf8')) as { traceEvents: ChromeTraceEvent[] }
    ).traceEvents;
    expect(traceProblems(events)).toEqual([]);
    expect(events.some((e) => e.ph === 'i' && e.cat === 'violation')).toBe(true);
    const html = readFileSync(reportFile, 'utf8');
    expect(html).toContain('id="violation-message"');
    expect(html).toContain('--bug kvm-no-retry');
  });

  it('--trace with no file still prints the full event log', () => {
    const r = sim('run', '--seed', '2', '--ops', '200', '--trace');
    expect(r.status).toBe(0);
    const text = r.stdout.toString();
    expect(text).toMatch(/^#1 /m);
    expect(text).toContain('RESULT: OK');
  });

  it('names a file it cannot write and exits 2', () => {
    const r = sim('run', '--ops', '100', '--report', join(dir, 'no', 'such', 'dir', 'r.html'));
    expect(r.status).toBe(2);
    expect(r.stderr.toString()).toMatch(/^error: cannot write .*r\.html/m);
  });
});
