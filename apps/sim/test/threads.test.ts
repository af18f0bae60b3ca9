import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * `run --threads`: the KVM guest's vCPUs on worker threads against invalidations on the main
 * thread, over a SharedInvalidationTracker and a SharedMmuLock (the built CLI: the vCPU worker
 * is a file of dist/). Real parallelism: the runs below check outcomes, not interleavings.
 */
const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

interface ThreadsJson {
  ok: boolean;
  violation?: { kind: string; message: string };
  invalidations: number;
  checks: number;
  accesses: number;
  faults: number;
  retries: number;
}

function threads(...args: string[]): { status: number | null; out: ThreadsJson } {
  const r = spawnSync(process.execPath, [cli, 'run', '--threads', ...args, '--json'], {
    timeout: 60_000,
  });
  return { status: r.status, out: JSON.parse(r.stdout.toString()) as ThreadsJson };
}

describe('run --threads', () => {
  it('two vCPU workers fault while the main thread invalidates: no stale translation', () => {
    const { status, out } = threads('2', '--ops', '100000', '--pages', '1024');
    expect(status).toBe(0);
    expect(out.ok).toBe(true);
    expect(out.invalidations).toBe(100_000);
    expect(out.checks).toBe(100_000);
    // Both sides did real work: faults, and faults that collided with an invalidation.
    expect(out.faults).toBeGreaterThan(1000);
    expect(out.retries).toBeGreaterThan(0);
  });

  it.each(['kvm-no-in-progress', 'kvm-no-retry'])(
    'negative control: --bug %s installs a stale translation, and it is caught',
    (bug) => {
      // The interleaving is the machine's: a few tries, each stopping at the first stale entry.
      let found: ThreadsJson | undefined;
      for (let seed = 1; seed <= 5 && found === undefined; seed++) {
        const { status, out } = threads(
          '2',
          '--ops',
          '20000',
          '--seed',
          String(seed),
          '--bug',
          bug,
        );
        if (!out.ok) {
          expect(status).toBe(1);
          found = out;
        }
      }
      expect(found?.violation?.kind).toBe('stale');
      expect(found?.violation?.message).toMatch(/gfn \d+ maps frame \d+, the primary maps frame/);
    },
  );

  it('refuses the options of the full scenario and the bugs of the other secondaries', () => {
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [cli, 'run', ...args], { timeout: 30_000 });
    const other = run('--threads', '2', '--kvm-rt');
    expect(other.status).toBe(2);
    expect(other.stderr.toString()).toMatch(/--kvm-rt does not apply/);
    const bug = run('--threads', '2', '--bug', 'hmm-no-set-seq');
    expect(bug.status).toBe(2);
    expect(bug.stderr.toString()).toMatch(/one of kvm-no-retry, kvm-no-in-progress/);
    const unthreaded = run('--bug', 'kvm-no-in-progress');
    expect(unthreaded.status).toBe(2);
    expect(unthreaded.stderr.toString()).toMatch(/needs run --threads/);
    expect(run('--threads', '65').stderr.toString()).toMatch(/threads must be an integer from 1/);
    // The checker sweeps the whole shadow table after every invalidation: pages are capped.
    const huge = run('--threads', '2', '--pages', '4194304');
    expect(huge.status).toBe(2);
    expect(huge.stderr.toString()).toMatch(/--threads: pages must be an integer from 16 to 65536/);
  });
});
