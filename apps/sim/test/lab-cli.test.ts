import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { STRATEGY_NAMES } from '../src/lab/config.js';
import type { LabResult } from '../src/lab/run-lab.js';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

/** Runs `mmu-sim lab ...args` from the build; exit status and both streams. */
function lab(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, 'lab', ...args], { timeout: 60_000 });
  return { status: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

describe('mmu-sim lab', () => {
  it('prints one table row per strategy, every run OK (status 0)', () => {
    const r = lab('--steps', '2000');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^mmu-sim lab --seed 1 --steps 2000 --faulters 4 /);
    expect(lines[3]).toMatch(/^strategy\s+faults\/1k steps\s+retries\/fault\s+wasted resolve/);
    const rows = lines.slice(4);
    expect(rows.map((l) => l.split(/\s+/)[0])).toEqual([...STRATEGY_NAMES]);
    for (const row of rows) expect(row).toMatch(/\sOK$/);
  });

  it('--json: the config and one result per strategy asked for, same seed same output', () => {
    const args = ['--steps', '2000', '--seed', '9', '--strategies', 'mutex,kvm-retry', '--json'];
    const r = lab(...args);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { config: { seed: number }; results: LabResult[] };
    expect(out.config.seed).toBe(9);
    expect(out.results.map((x) => x.strategy)).toEqual(['mutex', 'kvm-retry']);
    for (const x of out.results) {
      expect(x.ok).toBe(true);
      expect(x.faults).toBeGreaterThan(0);
      expect(x.faultLatency.p99).toBeGreaterThanOrEqual(x.faultLatency.p50);
    }
    expect(lab(...args).stdout).toBe(r.stdout);
  });

  it('--bug: the planted bug is reported as a violation (status 1)', () => {
    const r = lab('--steps', '2000', '--bug', 'grace-period-no-synchronize');
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/grace-period \(bug grace-period-no-synchronize\).*VIOLATION/);
    expect(r.stdout).toMatch(
      /grace-period: violation at step \d+: install of page \d+ inside an open invalidation window/,
    );
    // The other strategies ran clean.
    expect(r.stdout.match(/\sOK\n/g)).toHaveLength(4);
  });

  it('--vary: rows per value, and the JSON carries each point', () => {
    const r = lab('--steps', '1000', '--vary', 'faulters=1,3', '--strategies', 'mutex', '--json');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as {
      vary: { param: string; values: number[] };
      runs: { value: number; results: LabResult[] }[];
    };
    expect(out.vary).toEqual({ param: 'faulters', values: [1, 3] });
    expect(out.runs.map((x) => x.value)).toEqual([1, 3]);
    // One faulter never waits for another: its faults are quicker.
    const [one, three] = out.runs.map((x) => x.results[0]!);
    expect(one!.faultLatency.p50).toBeLessThan(three!.faultLatency.p50);
    const table = lab('--steps', '1000', '--vary', 'resolve-steps=2,4', '--strategies', 'mutex');
    expect(table.stdout).toMatch(/--vary resolve-steps=2,4/);
    expect(table.stdout).toMatch(/\nresolve-steps=2\s+mutex\s/);
    expect(table.stdout).toMatch(/\nresolve-steps=4\s+mutex\s/);
  });
});

describe('mmu-sim lab refuses bad input with one line and status 2', () => {
  const cases: [string[], RegExp][] = [
    [['--steps', '1e3'], /steps must be an integer from 100 to 10000000, got "1e3"/],
    [['--seed', '-1'], /seed must be an integer from 0 to 4294967295, got "-1"/],
    [['--faulters', '0'], /faulters must be an integer from 1 to 64, got "0"/],
    [['--pages', '3'], /pages must be an integer from 4 to 1048576, got "3"/],
    [['--resolve-steps', 'x'], /resolve-steps must be an integer from 1 to 10000, got "x"/],
    [['--invalidation-rate', '1.5'], /invalidation-rate must be a number from 0 to 1, got "1.5"/],
    [['--range-size', '100'], /range-size \(100\) must not exceed pages \(64\)/],
    [['--strategies', 'mutex,rcu'], /unknown strategy "rcu" \(strategies: collision-retry,/],
    [['--bug', 'nope'], /unknown bug "nope" \(one of collision-no-read-retry,/],
    [
      ['--bug', 'mutex-install-after-unlock', '--strategies', 'kvm-retry'],
      /--bug mutex-install-after-unlock is planted in mutex, which --strategies leaves out/,
    ],
    [['--vary', 'colour=1,2'], /--vary takes param=v1,v2,\.\.\. with param one of faulters,/],
    [['--vary', 'pages='], /--vary pages= needs at least one value/],
    [['--vary', 'pages=8,2'], /pages must be an integer from 4 to 1048576, got "2"/],
    [['--vary', 'range-size=4,65'], /range-size \(65\) must not exceed pages \(64\)/],
    [['--vary', 'pages=8', '--pages', '16'], /--vary pages and --pages both set it/],
    [['--report', 'x.html'], /--report draws each metric over a sweep: it needs --vary/],
    [['--frobnicate'], /unknown option '--frobnicate'/],
  ];
  for (const [args, message] of cases) {
    it(`lab ${args.join(' ')}`, () => {
      const r = lab(...args);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stdout).toBe('');
    });
  }
});

describe('mmu-sim lab --report', () => {
  it('writes the HTML page of the sweep next to the table', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmu-sim-lab-cli-'));
    try {
      const file = join(dir, 'sweep.html');
      const r = lab('--steps', '1000', '--vary', 'pages=16,32', '--report', file);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/\npages=32\s+grace-period\s/);
      const html = readFileSync(file, 'utf8');
      expect(html).toMatch(/^<!doctype html>/);
      expect(html.match(/<div class="chart" id="lab-chart-\d"><\/div>/g)).toHaveLength(7);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an unwritable file is one line and status 2', () => {
    const r = lab('--steps', '1000', '--vary', 'pages=16', '--report', '/nonexistent/dir/x.html');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^error: cannot write \/nonexistent\/dir\/x\.html: ENOENT/);
  });
});
