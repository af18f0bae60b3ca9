import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BUG_MODES, BUG_NAMES } from '../src/bug-modes.js';
import { exhaustWorld } from '../src/exhaustive.js';
import { runScenario } from '../src/scenario.js';
import { TINY_WORLDS, worldsFor } from '../src/tiny-worlds.js';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

/** The bound the tests walk: every schedule with at most one preemption. */
const BOUND = 1;

describe('explore --exhaustive: the tiny worlds', () => {
  it.each(TINY_WORLDS.map((w) => [w.name, w] as const))(
    'the %s world is clean in every schedule within the bound',
    async (_name, world) => {
      const r = await exhaustWorld(world, {}, { maxSchedules: 100_000, preemptionBound: BOUND });
      expect(r.complete).toBe(true);
      expect(r.seeds).toBe(world.seeds);
      expect(r.first?.message).toBeUndefined();
      expect(r.violations).toBe(0);
      // Enough interleavings that the operations really race, not one fixed order.
      expect(r.schedules).toBeGreaterThan(50 * world.seeds);
    },
    60_000,
  );

  it.each(BUG_NAMES)(
    '%s is caught in its secondary world',
    async (name) => {
      const bugs = BUG_MODES[name];
      const [world, ...others] = worldsFor(bugs);
      expect(others).toEqual([]);
      const r = await exhaustWorld(world!, bugs, {
        maxSchedules: 100_000,
        preemptionBound: BOUND,
        stop: true,
      });
      expect(r.first?.kind).toBe('violation');
      expect(r.first?.message).toMatch(new RegExp(`^${world!.name}: `));
    },
    60_000,
  );

  it('the CLI prints the count, and a violation with the replay that reproduces it', () => {
    const clean = spawnSync(process.execPath, [
      cli,
      'explore',
      '--exhaustive',
      '--world',
      'kvm',
      '--preemptions',
      `${BOUND}`,
    ]);
    expect(clean.status).toBe(0);
    expect(clean.stdout.toString()).toMatch(/\| kvm \| 4 \| [\d,]+ \| yes \| 0 \|/);
    expect(clean.stdout.toString()).toMatch(/[\d,]+ distinct schedules, 0 violating/);

    const bad = spawnSync(process.execPath, [
      cli,
      'explore',
      '--exhaustive',
      '--bug',
      'kvm-no-zap',
      '--stop',
      '--json',
    ]);
    expect(bad.status).toBe(1);
    const out = JSON.parse(bad.stdout.toString()) as {
      worlds: { world: string; first: { replay: string; message: string } }[];
    };
    const { replay, message } = out.worlds[0]!.first;
    expect(replay).toMatch(/^mmu-sim replay --seed \d+ .* --focus 1 .*--schedule [\d,]+$/);
    const again = spawnSync(process.execPath, [cli, ...replay.split(' ').slice(1), '--json']);
    expect(again.status).toBe(1);
    expect(JSON.parse(again.stdout.toString()).violation.message).toBe(message);
  });

  it('refuses --shard with --exhaustive, and a schedule choice out of range', () => {
    const r = spawnSync(process.execPath, [cli, 'explore', '--exhaustive', '--shard', '1/2']);
    expect(r.status).toBe(2);
    expect(r.stderr.toString()).toMatch(/--shard does not apply/);
    const s = spawnSync(process.execPath, [cli, 'run', '--ops', '6', '--schedule', '99']);
    expect(s.status).toBe(2);
    expect(s.stderr.toString()).toMatch(/schedule: choice 99 at decision 0 of \d/);
    const p = spawnSync(process.execPath, [cli, 'run', '--preemptions', '1']);
    expect(p.stderr.toString()).toMatch(/--preemptions needs --schedule/);
  });

  it('refuses a focus beyond the address space or a rebind chance outside 0..1', async () => {
    await expect(runScenario({ pages: 256, focus: 257 })).rejects.toThrow(
      /focus must be an integer from 0 to 256, got 257/,
    );
    await expect(runScenario({ rebind: 1.5 })).rejects.toThrow(
      /rebind must be a chance from 0 to 1, got 1.5/,
    );
    await expect(runScenario({ rebind: Number.NaN })).rejects.toThrow(RangeError);
  });

  it('a focused world aims every operation at the first page of its region', async () => {
    const installs: string[] = [];
    for (let seed = 1; seed <= 8; seed++) {
      const r = await runScenario({ ...TINY_WORLDS[0]!.config, seed, fullTrace: true });
      installs.push(...r.log!.filter((l) => / kvm install /.test(l)));
    }
    expect(installs.length).toBeGreaterThan(0);
    // gfn 0 only (the event's first number is the guest frame).
    expect(installs.every((l) => / kvm install 0 /.test(l))).toBe(true);
  });

  it('--jobs 2 walks the same schedules and finds the same first violations as --jobs 1', () => {
    interface Row {
      world: string;
      schedules: number;
      violations: number;
      wallMs?: number;
    }
    const walk = (...args: string[]) => {
      const r = spawnSync(process.execPath, [cli, 'explore', '--exhaustive', '--json', ...args]);
      const out = JSON.parse(r.stdout.toString()) as { worlds: Row[] };
      for (const w of out.worlds) delete w.wallMs;
      return { status: r.status, worlds: out.worlds };
    };
    for (const args of [
      ['--preemptions', '1'],
      ['--preemptions', '1', '--bug', 'vhost-no-wait'],
    ]) {
      const one = walk(...args, '--jobs', '1');
      const two = walk(...args, '--jobs', '2');
      expect(two).toEqual(one);
      expect(one.worlds.length).toBeGreaterThan(0);
    }
  }, 60_000);
});
