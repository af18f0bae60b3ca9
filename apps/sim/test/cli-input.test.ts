import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, LIMITS, runScenario } from '../src/scenario.js';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

/** Runs the built CLI; exit status and both streams. */
function sim(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { timeout: 30_000 });
  return { status: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

describe('the CLI refuses bad input with one clear line, no stack trace', () => {
  const cases: [string[], RegExp][] = [
    [['--pages', '1e12'], /pages must be an integer from 256 to 4194304, got "1e12"/],
    [['--pages', '1000000000'], /pages must be an integer from 256 to 4194304/],
    [['--ops', '1e12'], /ops must be an integer from 0 to 10000000, got "1e12"/],
    [['--seed', ''], /seed must be an integer from 0 to 4294967295, got ""/],
    [['--seed', '4294967296'], /seed must be an integer from 0 to 4294967295/],
    [['--seed', '0x10'], /seed must be an integer/],
    [['--vcpus', '1000'], /vcpus must be an integer from 0 to 64/],
    [['--depth', '0'], /depth must be an integer from 1 to 64/],
    [
      ['--mix', 'mmap=0,munmap=0,mprotect=0,madvise=0,mremap=0,migrate=0,clearRefs=0'],
      /every op weight is 0/,
    ],
    [['--mix', 'mmap='], /bad op mix entry "mmap="/],
    [['frobnicate'], /unknown command 'frobnicate' \(commands: run, replay, explore, merge, lab\)/],
    [['explore', '--seeds', '10', '--from', '4294967290'], /go past the last seed 4294967295/],
  ];
  for (const [args, message] of cases) {
    it(`mmu-sim ${args.join(' ') || "''"}`, () => {
      const r = sim(...args);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(r.stdout).toBe('');
    });
  }
});

describe('explore reports what it explored', () => {
  it('--stop on one thread: counts the seeds it ran, not the ones it was asked for', () => {
    const r = sim(
      'explore',
      '--seeds',
      '50',
      '--stop',
      '--bug',
      'kvm-no-zap',
      '--json',
      '--jobs',
      '1',
    );
    const out = JSON.parse(r.stdout) as { explored: number; violations: { seed: number }[] };
    expect(r.status).toBe(1);
    expect(out.violations).toHaveLength(1);
    expect(out.explored).toBe(out.violations[0]!.seed); // seeds 1..first failing one
    expect(out.explored).toBeLessThan(50);
  });
});

describe('runScenario checks its whole config', () => {
  it('refuses each out-of-range field with its name, before running', async () => {
    const bad: [Parameters<typeof runScenario>[0], string][] = [
      [{ pages: LIMITS.pages + 1 }, 'pages must be an integer from 256 to 4194304, got 4194305'],
      [{ ops: -1 }, 'ops must be an integer from 0 to 10000000, got -1'],
      [{ seed: 1.5 }, 'seed must be an integer from 0 to 4294967295, got 1.5'],
      [{ devices: 65 }, 'devices must be an integer from 0 to 64, got 65'],
      [{ pctDepth: 0 }, 'pctDepth must be an integer from 1 to 64, got 0'],
      [
        { mix: { ...DEFAULT_CONFIG.mix, mmap: Number.NaN } },
        'mix.mmap must be a finite weight >= 0, got NaN',
      ],
      [
        {
          mix: { mmap: 0, munmap: 0, mprotect: 0, madvise: 0, mremap: 0, migrate: 0, clearRefs: 0 },
        },
        'mix: at least one operation needs a weight > 0',
      ],
    ];
    for (const [config, message] of bad) {
      await expect(runScenario(config)).rejects.toThrow(new RangeError(message));
    }
  });
});
