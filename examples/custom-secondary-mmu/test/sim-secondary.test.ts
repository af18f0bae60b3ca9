import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The built sim and the built modules (`pnpm build` makes both: the sim is a devDependency).
const cli = fileURLToPath(new URL('../../../apps/sim/dist/cli.js', import.meta.url));
const correct = fileURLToPath(new URL('../dist/sim-secondary.js', import.meta.url));
const noRetry = fileURLToPath(new URL('../dist/sim-secondary-no-retry.js', import.meta.url));

function sim(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { timeout: 300_000 });
  return { status: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/** The `explored ...` line's count of seeds with violations. */
const violations = (out: string) => Number(/: (\d+) with violations/.exec(out)?.[1]);

describe('the tutorial device in the sim (--secondary)', () => {
  it('explores 40 seeds of 2,000 ops clean, beside the built-in secondaries', () => {
    const r = sim(
      'explore',
      '--seeds',
      '40',
      '--ops',
      '2000',
      '--jobs',
      '2',
      '--secondary',
      correct,
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(violations(r.stdout)).toBe(0);
    // It does work there: installs traced by the device, and invalidations that zap them.
    const traced = sim('run', '--ops', '2000', '--secondary', correct, '--trace');
    expect(traced.status).toBe(0);
    expect(traced.stdout.match(/ mirror install /g)?.length).toBeGreaterThan(100);
  });

  it('explores 20 seeds clean on its own (--secondaries none)', () => {
    const r = sim(
      'explore',
      '--seeds',
      '20',
      '--ops',
      '2000',
      '--secondaries',
      'none',
      '--secondary',
      correct,
    );
    expect(r.status).toBe(0);
    expect(violations(r.stdout)).toBe(0);
  });

  it('without the retry check it is caught within the first 10 seeds, and replay reproduces it', () => {
    const r = sim(
      'explore',
      '--seeds',
      '10',
      '--ops',
      '2000',
      '--jobs',
      '2',
      '--no-shrink',
      '--secondary',
      noRetry,
    );
    expect(r.status).toBe(1);
    expect(violations(r.stdout)).toBeGreaterThan(0);
    expect(r.stdout).toMatch(/\d+ x mirror-no-retry: (install|after a primary change): page N/);
    const line = /replay the first: mmu-sim (replay .*)/.exec(r.stdout)?.[1];
    expect(line).toContain(`--secondary ${noRetry}`);

    // The replay line, as printed: the same violation at the same step, with its replay line.
    const replay = sim(...line!.split(' '));
    expect(replay.status).toBe(1);
    const violation = /VIOLATION: (mirror-no-retry: .*)\n\s+seed (\d+), step (\d+)/.exec(
      replay.stdout,
    );
    expect(violation).not.toBeNull();
    const seed = Number(violation![2]);
    expect(seed).toBeLessThanOrEqual(10);
    expect(replay.stdout).toContain(`replay: mmu-sim ${line}`);
    const again = sim(...line!.split(' '));
    expect(again.stdout).toContain(
      `VIOLATION: ${violation![1]}\n  seed ${seed}, step ${violation![3]}`,
    );

    // Negative control: the same flags with the correct module run clean.
    const fixed = sim(...line!.replace(noRetry, correct).split(' '));
    expect(fixed.status).toBe(0);
    expect(fixed.stdout).toMatch(/RESULT: OK/);
  });

  it('explore --exhaustive: every schedule of its tiny world is clean, and the planted variant is caught', () => {
    const clean = sim('explore', '--exhaustive', '--preemptions', '1', '--secondary', correct);
    expect(clean.stderr).toBe('');
    expect(clean.status).toBe(0);
    expect(clean.stdout).toMatch(/\| secondary \| 4 \| [\d,]+ \| yes \| 0 \|/);
    const bad = sim(
      'explore',
      '--exhaustive',
      '--preemptions',
      '1',
      '--stop',
      '--secondary',
      noRetry,
    );
    expect(bad.status).toBe(1);
    const found =
      /secondary: VIOLATION at seed \d+: (mirror-no-retry: .*)\n\s+replay: mmu-sim (replay .*)/.exec(
        bad.stdout,
      );
    expect(found).not.toBeNull();
    // The printed schedule replays it; the correct module on the same schedule runs clean.
    const again = sim(...found![2]!.split(' '));
    expect(again.status).toBe(1);
    expect(again.stdout).toContain(`VIOLATION: ${found![1]}`);
    const fixed = sim(...found![2]!.replace(noRetry, correct).split(' '));
    expect(fixed.status).toBe(0);
  });
});
