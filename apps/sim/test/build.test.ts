import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

/** Runs the built CLI with `args` (plus --json); its exit status and its parsed output. */
function cliJson<T>(...args: string[]): { status: number | null; out: T } {
  const r = spawnSync(process.execPath, [cli, ...args, '--json']);
  return { status: r.status, out: JSON.parse(r.stdout.toString()) as T };
}

describe('the built CLI (dist/cli.js)', () => {
  it('runs a small scenario with --json and reports success', () => {
    const { status, out: r } = cliJson<
      Record<string, unknown> & { stats: Record<string, unknown> }
    >('run', '--seed', '7', '--ops', '500');
    expect(status).toBe(0);
    expect(r.ok).toBe(true);
    expect(r.seed).toBe(7);
    expect(r.violation).toBeNull();
    expect(typeof r.traceHash).toBe('string');
    expect((r.stats.faults as Record<string, number>).kvm).toBeGreaterThan(0);
    expect((r.final as Record<string, number>).frames).toBe(0);
  });

  it('gives the same trace hash for the same seed, another for another seed', () => {
    const run = (seed: string) =>
      cliJson<{ traceHash: string }>('run', '--seed', seed, '--ops', '300').out.traceHash;
    expect(run('3')).toBe(run('3'));
    expect(run('3')).not.toBe(run('4'));
  });

  it('exits non-zero and names the seed when a bug is injected', () => {
    const { status, out } = cliJson<{ violations: { seed: number; message: string }[] }>(
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
    );
    expect(status).toBe(1);
    expect(out.violations.length).toBeGreaterThan(0);
    expect(out.violations[0]?.message).toMatch(/vhost/);
  });

  it('replay reproduces the violation that explore found, at the same step', () => {
    const found = cliJson<{ violations: { seed: number; step: number; message: string }[] }>(
      'explore',
      '--seeds',
      '10',
      '--bug',
      'kvm-no-zap',
      '--stop',
    ).out;
    const first = found.violations[0]!;
    const replay = cliJson<{ violation: { step: number; message: string } }>(
      'replay',
      '--seed',
      String(first.seed),
      '--ops',
      '2000',
      '--end',
      'random',
      '--bug',
      'kvm-no-zap',
    );
    expect(replay.status).toBe(1);
    const r = replay.out;
    expect(r.violation.step).toBe(first.step);
    expect(r.violation.message).toBe(first.message);
  });
});
