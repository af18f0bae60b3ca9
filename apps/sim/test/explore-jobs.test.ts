import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

interface Summary {
  explored: number;
  violations: { seed: number; kind: string; step: number; message: string }[];
  steps: number;
  faults: number;
}

function explore(...args: string[]): { status: number | null; out: Summary } {
  const r = spawnSync(process.execPath, [cli, 'explore', '--json', ...args], { timeout: 120_000 });
  return { status: r.status, out: JSON.parse(r.stdout.toString()) as Summary };
}

describe('explore on worker threads (--jobs)', () => {
  it('finds the same violations, steps and faults on 1 and on 3 threads', () => {
    const args = ['--seeds', '24', '--ops', '600', '--bug', 'kvm-no-retry'];
    const one = explore(...args, '--jobs', '1');
    const three = explore(...args, '--jobs', '3');
    expect(one.status).toBe(1);
    expect(three.status).toBe(1);
    expect(one.out.violations.length).toBeGreaterThan(0);
    expect(three.out.violations).toEqual(one.out.violations);
    expect([three.out.explored, three.out.steps, three.out.faults]).toEqual([
      one.out.explored,
      one.out.steps,
      one.out.faults,
    ]);
  });

  it('--stop on threads: stops handing out seeds after a violation and counts what ran', () => {
    const r = explore(
      '--seeds',
      '200',
      '--ops',
      '600',
      '--bug',
      'kvm-no-zap',
      '--stop',
      '--jobs',
      '2',
    );
    expect(r.status).toBe(1);
    expect(r.out.violations.length).toBeGreaterThanOrEqual(1);
    expect(r.out.explored).toBeLessThan(200);
  });
});
