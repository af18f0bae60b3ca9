import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sim-cli-secondary-'));

/** Runs the built CLI in `dir`; exit status and both streams. */
function sim(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: dir, timeout: 120_000 });
  return { status: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

function module(name: string, text: string): string {
  writeFileSync(join(dir, name), text);
  return name;
}

// Reads each page through the primary's current translation, at once: never stale.
const reader = module(
  'reader.mjs',
  `export default (ctx) => {
  const r = ctx.regions[1];
  let reads = 0;
  return {
    name: 'reader',
    view: { forEachTranslation() {}, forEachTranslationIn() {} },
    tasks: [{ name: 'reader.q', turn() {
      const ref = ctx.lookup(r.start + ctx.rng.int(r.end - r.start));
      if (ref !== undefined) { ctx.check.read(ref); reads++; }
      return ctx.yield('reader think');
    } }],
    teardown: async () => { if (reads === 0) throw new Error('reader read nothing'); },
  };
};
`,
);

// The reader without its own check that it read something (a tiny world may map nothing).
const looker = module(
  'looker.mjs',
  `export default (ctx) => {
  const r = ctx.regions[1];
  return {
    name: 'looker',
    view: { forEachTranslation() {}, forEachTranslationIn() {} },
    tasks: [0, 1].map((i) => ({ name: 'looker.q' + i, async turn() {
      await ctx.yield('looker think');
      const ref = ctx.lookup(r.start + ctx.rng.int(r.end - r.start));
      if (ref !== undefined) ctx.check.read(ref);
    } })),
  };
};
`,
);

// Keeps every page it resolved and never subscribes: stale after the first change.
const hoarder = module(
  'hoarder.mjs',
  `export default (ctx) => {
  const r = ctx.regions[1];
  const table = new Map();
  return {
    name: 'hoarder',
    view: {
      forEachTranslation(fn) { for (const [p, x] of table) fn(p, x.frame, x.gen, x.writable); },
      forEachTranslationIn(s, e, fn) {
        for (const [p, x] of table) if (p >= s && p < e) fn(p, x.frame, x.gen, x.writable);
      },
    },
    tasks: [{ name: 'hoarder.q', async turn() {
      const page = r.start + ctx.rng.int(r.end - r.start);
      const ref = await ctx.resolve(page, false);
      if (typeof ref !== 'number') { ctx.check.install(ref); table.set(page, ref); }
    } }],
  };
};
`,
);

describe('--secondary <file>', () => {
  it('run: runs the module beside the built-ins, and alone with --secondaries none', () => {
    const both = sim('run', '--ops', '3000', '--secondary', reader);
    expect(both.stderr).toBe('');
    expect(both.status).toBe(0);
    expect(both.stdout).toMatch(/secondaries: kvm, hmm, vhost, reader,/);
    const alone = sim('run', '--ops', '3000', '--secondaries', 'none', '--secondary', reader);
    expect(alone.status).toBe(0);
    expect(alone.stdout).toMatch(/secondaries: reader,/);
    const json = JSON.parse(sim('run', '--ops', '500', '--json', '--secondary', reader).stdout) as {
      userSecondaries: string[];
      config: { secondaryFiles: string[] };
    };
    expect(json.userSecondaries).toEqual(['reader']);
    expect(json.config.secondaryFiles).toEqual([join(dir, reader)]);
    // the default run without it is the same as ever
    const plain = sim('run', '--ops', '3000');
    expect(plain.stdout).toMatch(/secondaries: kvm, hmm, vhost,/);
    const hash = (s: string) => /trace events \/ hash\s+\d+\s+(\w+)/.exec(s)?.[1];
    expect(hash(plain.stdout)).not.toBe(hash(both.stdout));
  });

  it('a violation prints a replay line with the absolute path, and replay reproduces it', () => {
    const r = sim('run', '--ops', '3000', '--secondaries', 'none', '--secondary', hoarder);
    expect(r.status).toBe(1);
    const message = /VIOLATION: (hoarder: .*)/.exec(r.stdout)?.[1];
    expect(message).toMatch(/^hoarder: (after a primary change|sweep|install): page \d+/);
    const line = /replay: mmu-sim (replay .*)/.exec(r.stdout)?.[1];
    expect(line).toContain(`--secondary ${join(dir, hoarder)}`);
    const again = sim(...line!.split(' '));
    expect(again.status).toBe(1);
    expect(again.stdout).toContain(`VIOLATION: ${message}`);
    // negative control: the same replay without the module finds nothing
    const without = sim(...line!.replace(/ --secondary \S+/, '').split(' '));
    expect(without.status).toBe(0);
  });

  it('explore: the workers load the module too', () => {
    const clean = sim(
      'explore',
      '--seeds',
      '4',
      '--ops',
      '1000',
      '--jobs',
      '2',
      '--secondary',
      reader,
    );
    expect(clean.stderr).toBe('');
    expect(clean.stdout).toMatch(
      /explored 4 seed\(s\) of 1..4 on 2 thread\(s\): 0 with violations/,
    );
    const bad = sim(
      'explore',
      '--seeds',
      '4',
      '--ops',
      '1000',
      '--jobs',
      '2',
      '--no-shrink',
      '--secondaries',
      'none',
      '--secondary',
      hoarder,
    );
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/4 with violations/);
    expect(bad.stdout).toContain(`--secondary ${join(dir, hoarder)}`);
    expect(bad.stdout).not.toMatch(/crash/);
  });

  const wrong = (name: string, text: string) => module(name, text);
  const cases: [string, string, RegExp][] = [
    ['missing.mjs', '', /--secondary \S+\/missing\.mjs: no such file/],
    [wrong('number.mjs', 'export default 42;'), '', /default export is number/],
    [wrong('named.mjs', 'export const f = () => 1;'), '', /default export is missing/],
    [wrong('syntax.mjs', 'export default (;'), '', /cannot load it as an ES module/],
    [wrong('empty.mjs', 'export default () => ({ name: "e" });'), '', /returned no view/],
    [
      wrong(
        'notasks.mjs',
        'export default () => ({ name: "e", view: { forEachTranslation() {}, forEachTranslationIn() {} }, tasks: 3 });',
      ),
      '',
      /returned no tasks/,
    ],
  ];
  for (const [file, , message] of cases) {
    for (const command of ['run', 'replay', 'explore']) {
      it(`${command} --secondary ${file}: one line, exit 2`, () => {
        const seed = command === 'explore' ? ['--seeds', '2'] : ['--seed', '1'];
        const r = sim(command, ...seed, '--ops', '100', '--secondary', file);
        expect(r.status).toBe(2);
        expect(r.stderr).toMatch(message);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.stdout).toBe('');
      });
    }
  }

  it('is refused with --threads', () => {
    expect(sim('run', '--threads', '1', '--secondary', reader).stderr).toMatch(
      /not with --threads/,
    );
  });

  it('explore --exhaustive walks a tiny world of the module alone; a violation replays', () => {
    const clean = sim('explore', '--exhaustive', '--preemptions', '1', '--secondary', looker);
    expect(clean.stderr).toBe('');
    expect(clean.status).toBe(0);
    expect(clean.stdout).toMatch(/\| secondary \| 4 \| [\d,]+ \| yes \| 0 \|/);
    const schedules = Number(
      /\| secondary \| 4 \| ([\d,]+) \|/.exec(clean.stdout)![1]!.replace(/,/g, ''),
    );
    expect(schedules).toBeGreaterThan(50); // the module's awaits branch the walk
    const bad = sim('explore', '--exhaustive', '--preemptions', '1', '--secondary', hoarder);
    expect(bad.status).toBe(1);
    const message = /secondary: VIOLATION at seed \d+: (hoarder: .*)/.exec(bad.stdout)?.[1];
    expect(message).toBeDefined();
    const line = /replay: mmu-sim (replay .*)/.exec(bad.stdout)?.[1];
    expect(line).toContain(`--secondary ${join(dir, hoarder)}`);
    expect(line).toMatch(/ --secondaries none .* --schedule [\d,]+$/);
    // The printed schedule replays the same violation, and its own replay line carries it too.
    const again = sim(...line!.split(' '));
    expect(again.status).toBe(1);
    expect(again.stdout).toContain(`VIOLATION: ${message}`);
    const schedule = / --preemptions 1 --schedule [\d,]+/.exec(line!)![0];
    expect(again.stdout).toContain(`${schedule}\n`);
  });

  it('explore --exhaustive --secondary: bugs and worlds of the built-ins are refused', () => {
    for (const extra of [
      ['--bug', 'kvm-no-retry'],
      ['--world', 'kvm'],
    ]) {
      const r = sim('explore', '--exhaustive', ...extra, '--secondary', reader);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(
        new RegExp(`explores your secondaries alone: ${extra[0]} does not apply`),
      );
    }
    const missing = sim('explore', '--exhaustive', '--secondary', 'missing.mjs');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/missing\.mjs: no such file/);
  });
});
