import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type ExploreSummary, mergeSummaries, shardRange } from '../src/explore-summary.js';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

function sim(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { timeout: 120_000 });
  return { status: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/** The parts of a summary that do not depend on timing. */
const result = (s: ExploreSummary) => ({ ...s, wallMs: 0 });

describe('shardRange', () => {
  it('n shards cover every seed exactly once, in contiguous slices within one of each other', () => {
    for (const [from, seeds] of [
      [1, 30],
      [0, 7],
      [5, 100],
      [1, 3],
    ] as const) {
      for (let count = 1; count <= 9; count++) {
        const covered: number[] = [];
        const sizes: number[] = [];
        for (let i = 1; i <= count; i++) {
          const s = shardRange(from, seeds, i, count);
          sizes.push(s.seeds);
          for (let k = 0; k < s.seeds; k++) covered.push(s.from + k);
        }
        expect(covered).toEqual(Array.from({ length: seeds }, (_, k) => from + k));
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      }
    }
  });
});

describe('explore --shard i/n + merge', () => {
  it('three shards merged equal one unsharded run over the same seeds', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmu-sim-shards-'));
    const args = [
      'explore',
      '--seeds',
      '30',
      '--ops',
      '600',
      '--bug',
      'kvm-no-retry',
      '--jobs',
      '1',
    ];
    const files = [1, 2, 3].map((i) => {
      const out = join(dir, `shard-${i}.json`);
      const r = sim(...args, '--shard', `${i}/3`, '--out', out, '--json');
      expect(r.stderr).toBe('');
      expect((JSON.parse(r.stdout) as ExploreSummary).shard).toBe(`${i}/3`);
      return out;
    });
    const whole = sim(...args, '--json');
    const merged = sim('merge', ...files, '--json');
    expect(merged.status).toBe(whole.status);
    const m = JSON.parse(merged.stdout) as ExploreSummary;
    const w = JSON.parse(whole.stdout) as ExploreSummary;
    expect(w.violations.length).toBeGreaterThan(0);
    expect(result(m)).toEqual(result(w));
    expect(m.ranges).toEqual([[1, 30]]);
  });

  it('refuses overlapping shards and summaries of other explorations, names missing seeds', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmu-sim-shards-'));
    const a = join(dir, 'a.json');
    const b = join(dir, 'b.json');
    sim('explore', '--seeds', '10', '--ops', '200', '--shard', '1/2', '--out', a, '--json');
    sim('explore', '--seeds', '10', '--ops', '300', '--shard', '2/2', '--out', b, '--json');
    const twice = sim('merge', a, a);
    expect(twice.status).toBe(2);
    expect(twice.stderr).toBe('error: merge: seed ranges overlap (1..5 and 1..5)\n');
    const other = sim('merge', a, b);
    expect(other.status).toBe(2);
    expect(other.stderr).toMatch(/^error: merge: summaries of different explorations/);
    const half = sim('merge', a);
    expect(half.stdout).toMatch(/not covered: seeds 6\.\.10/);
    writeFileSync(join(dir, 'bad.json'), 'not json');
    expect(sim('merge', join(dir, 'bad.json')).stderr).toMatch(/is not a JSON summary of explore/);
    expect(readFileSync(a, 'utf8')).toMatch(/"shard":"1\/2"/);
  });

  it('mergeSummaries joins adjacent ranges and sums the counts', () => {
    const part = (from: number, to: number, seed: number): ExploreSummary => ({
      from: 1,
      seeds: 6,
      ranges: [[from, to]],
      explored: to - from + 1,
      flags: ' --ops 1',
      violations: [{ seed, kind: 'violation', step: 3, message: 'm' }],
      steps: 10,
      faults: 2,
      wallMs: seed,
    });
    const m = mergeSummaries([part(4, 6, 5), part(1, 3, 2)]);
    expect(m.ranges).toEqual([[1, 6]]);
    expect(m.violations.map((v) => v.seed)).toEqual([2, 5]);
    expect([m.explored, m.steps, m.faults, m.wallMs]).toEqual([6, 20, 4, 5]);
    expect(() => mergeSummaries([])).toThrow('merge: no summaries given');
  });
});
