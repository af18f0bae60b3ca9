import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

describe('the built CLI (dist/cli.js)', () => {
  it('runs a small scenario with --json and reports success', () => {
    const out = execFileSync(process.execPath, [
      cli,
      'run',
      '--seed',
      '7',
      '--ops',
      '500',
      '--json',
    ]).toString();
    const r = JSON.parse(out) as Record<string, unknown> & { stats: Record<string, unknown> };
    expect(r.ok).toBe(true);
    expect(r.seed).toBe(7);
    expect(r.violation).toBeNull();
    expect(typeof r.traceHash).toBe('string');
    expect((r.stats.faults as Record<string, number>).kvm).toBeGreaterThan(0);
    expect((r.final as Record<string, number>).frames).toBe(0);
  });

  it('gives the same trace hash for the same seed, another for another seed', () => {
    const run = (seed: string) =>
      JSON.parse(
        execFileSync(process.execPath, [
          cli,
          'run',
          '--seed',
          seed,
          '--ops',
          '300',
          '--json',
        ]).toString(),
      ).traceHash as string;
    expect(run('3')).toBe(run('3'));
    expect(run('3')).not.toBe(run('4'));
  });

  it('exits non-zero and names the seed when a bug is injected', () => {
    const r = spawnSync(process.execPath, [
      cli,
      'explore',
      '--seeds',
      '30',
      '--ops',
      '1500',
      '--bug',
      'vhost-no-wait',
      '--secondaries',
      'vhost',
      '--stop',
      '--json',
    ]);
    expect(r.status).toBe(1);
    const out = JSON.parse(r.stdout.toString()) as {
      violations: { seed: number; message: string }[];
    };
    expect(out.violations.length).toBeGreaterThan(0);
    expect(out.violations[0]?.message).toMatch(/vhost/);
  });

  it('replay reproduces the violation that explore found, at the same step', () => {
    const explore = spawnSync(process.execPath, [
      cli,
      'explore',
      '--seeds',
      '10',
      '--bug',
      'kvm-no-zap',
      '--stop',
      '--json',
    ]);
    const found = JSON.parse(explore.stdout.toString()) as {
      violations: { seed: number; step: number; message: string }[];
    };
    const first = found.violations[0]!;
    const replay = spawnSync(process.execPath, [
      cli,
      'replay',
      '--seed',
      String(first.seed),
      '--ops',
      '2000',
      '--end',
      'random',
      '--bug',
      'kvm-no-zap',
      '--json',
    ]);
    expect(replay.status).toBe(1);
    const r = JSON.parse(replay.stdout.toString()) as {
      violation: { step: number; message: string };
    };
    expect(r.violation.step).toBe(first.step);
    expect(r.violation.message).toBe(first.message);
  });
});
