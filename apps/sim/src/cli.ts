#!/usr/bin/env node
import { readFileSync, writeFileSync } from 'node:fs';
import cliProgress from 'cli-progress';
import { Command, InvalidArgumentError, Option } from 'commander';
import { BUG_NAMES, type BugMode, bugsOf } from './bug-modes.js';
import { chanceOption, intOption } from './cli-parsers.js';
import { exhaustWorlds } from './exhaust-pool.js';
import { formatWorlds, scheduleReplay } from './exhaustive-report.js';
import { defaultJobs, explore, type SeedOutcome } from './explore.js';
import {
  type ExploreSummary,
  formatSummary,
  mergeSummaries,
  type ShrunkFailure,
  shardRange,
  summarize,
} from './explore-summary.js';
import { registerLabCommand } from './lab/cli-lab.js';
import { configFlags, formatReport, toJson } from './report.js';
import { timelineFor, writeRunOutputs } from './run-outputs.js';
import {
  DEFAULT_CONFIG,
  LIMITS,
  type RunResult,
  runScenario,
  type ScenarioConfig,
} from './scenario.js';
import { loadSecondaryFactory, SecondaryModuleError, secondaryPath } from './secondary-api.js';
import { shrink } from './shrink.js';
import { runThreadsCommand } from './threads/cli-threads.js';
import { defaultThreads, MAX_THREADS } from './threads/run-threads.js';
import { THREAD_BUGS } from './threads/vcpu.js';
import { secondaryWorld, TINY_WORLDS, type TinyWorld, worldsFor } from './tiny-worlds.js';

const int = intOption;
const parseChance = chanceOption;

function parseMix(v: string): Partial<ScenarioConfig['mix']> {
  const mix: Record<string, number> = {};
  for (const part of v.split(',')) {
    const [k, w] = part.split('=');
    if (
      k === undefined ||
      w === undefined ||
      !(k in DEFAULT_CONFIG.mix) ||
      w.trim() === '' ||
      !(Number(w) >= 0 && Number.isFinite(Number(w)))
    ) {
      throw new InvalidArgumentError(
        `bad op mix entry "${part}" (keys: ${Object.keys(DEFAULT_CONFIG.mix).join(', ')})`,
      );
    }
    mix[k] = Number(w);
  }
  const weights = { ...DEFAULT_CONFIG.mix, ...mix };
  if (!Object.values(weights).some((w) => w > 0)) {
    throw new InvalidArgumentError('every op weight is 0: at least one needs a weight > 0');
  }
  return mix;
}

function parseSecondaries(v: string): Pick<ScenarioConfig, 'kvm' | 'hmm' | 'vhost'> {
  const set = new Set(v === 'none' ? [] : v.split(','));
  for (const s of set) {
    if (s !== 'kvm' && s !== 'hmm' && s !== 'vhost')
      throw new InvalidArgumentError(`unknown secondary "${s}"`);
  }
  return { kvm: set.has('kvm'), hmm: set.has('hmm'), vhost: set.has('vhost') };
}

function parseBug(v: string, prev: string[] = []): string[] {
  if (!BUGS.includes(v))
    throw new InvalidArgumentError(`unknown bug "${v}" (one of ${BUGS.join(', ')})`);
  return [...prev, v];
}

const BUGS: readonly string[] = [
  ...BUG_NAMES,
  ...THREAD_BUGS.filter((b) => !BUG_NAMES.includes(b as BugMode)),
];

interface CommonOpts {
  ops: number;
  cpus: number;
  vcpus: number;
  devices: number;
  pages: number;
  secondaries: Pick<ScenarioConfig, 'kvm' | 'hmm' | 'vhost'>;
  strategy: 'random' | 'pct';
  depth: number;
  mix?: Partial<ScenarioConfig['mix']>;
  end: ScenarioConfig['end'];
  bug?: string[];
  json?: boolean;
  trace?: boolean | string;
  report?: string;
  sweep: number;
  focus: number;
  rebind: number;
  arm64Vcpus: number;
  pfnCache?: boolean;
  kvmRt?: boolean;
  memslotUpdates: number;
  kick: number;
  callbackErrors: number;
  vhostWorkers: number;
  secondary?: string[];
}

function addCommon(
  cmd: Command,
  defaultEnd: ScenarioConfig['end'] = DEFAULT_CONFIG.end,
  defaultOps: number = DEFAULT_CONFIG.ops,
): Command {
  return cmd
    .option(
      '--ops <n>',
      'top-level operations over all tasks',
      int('ops', 0, LIMITS.ops),
      defaultOps,
    )
    .option(
      '--pages <n>',
      'address-space size in pages',
      int('pages', 256, LIMITS.pages),
      DEFAULT_CONFIG.pages,
    )
    .addOption(
      new Option('--secondaries <list>', 'comma list of kvm,hmm,vhost (or none)')
        .argParser(parseSecondaries)
        .default({ kvm: true, hmm: true, vhost: true }, 'kvm,hmm,vhost'),
    )
    .addOption(
      new Option('--strategy <s>', 'scheduling strategy')
        .choices(['random', 'pct'])
        .default('random'),
    )
    .option(
      '--depth <d>',
      'PCT bug depth',
      int('depth', 1, LIMITS.pctDepth),
      DEFAULT_CONFIG.pctDepth,
    )
    .option(
      '--cpus <n>',
      'CPU threads of the process',
      int('cpus', 0, LIMITS.tasks),
      DEFAULT_CONFIG.cpus,
    )
    .option('--vcpus <n>', 'KVM vCPUs', int('vcpus', 0, LIMITS.tasks), DEFAULT_CONFIG.vcpus)
    .option(
      '--devices <n>',
      'HMM device queues',
      int('devices', 0, LIMITS.tasks),
      DEFAULT_CONFIG.devices,
    )
    .option(
      '--mix <k=w,...>',
      'op weights: mmap,munmap,mprotect,madvise,mremap,migrate,clearRefs',
      parseMix,
    )
    .addOption(
      new Option('--end <mode>', 'how the process ends (oom = OOM kill + reaper, then exit)')
        .choices(['exit', 'oom', 'random'])
        .default(defaultEnd),
    )
    .option('--bug <name>', `inject a bug (negative control): ${BUGS.join(', ')}`, parseBug)
    .option(
      '--sweep <n>',
      'full invariant sweep every n scheduling steps (0 = end only)',
      int('sweep', 0, Number.MAX_SAFE_INTEGER),
      DEFAULT_CONFIG.sweepEvery,
    )
    .option(
      '--focus <n>',
      'confine operations to the first n pages of each shared region (0 = all)',
      int('focus', 0, LIMITS.pages),
      0,
    )
    .option(
      '--rebind <p>',
      'chance that an operation of the first HMM device closes a buffer and mirrors another',
      parseChance('rebind'),
      0.02,
    )
    .option(
      '--arm64-vcpus <n>',
      'the last n vCPUs fault as arm64 does (the range-agnostic retry check)',
      int('arm64-vcpus', 0, LIMITS.tasks),
      0,
    )
    .option('--pfn-cache', 'a KVM pfn cache over guest frame 0, used by the vCPUs')
    .option('--kvm-rt', "PREEMPT_RT: KVM's mmu_lock sleeps, and a vCPU can be preempted holding it")
    .option(
      '--memslot-updates <p>',
      'chance that an access of vcpu0 is a memslot update instead (waits for invalidations)',
      parseChance('memslot-updates'),
      0,
    )
    .option(
      '--kick <p>',
      'chance that a signal interrupts a vCPU fault after its GUP or between retries',
      parseChance('kick'),
      0,
    )
    .option(
      '--callback-errors <p>',
      'chance that an HMM or KVM invalidation callback fails (the start is undone and retried)',
      parseChance('callback-errors'),
      0,
    )
    .option(
      '--vhost-workers <n>',
      'vhost worker tasks (SRCU readers of the same rings)',
      int('vhost-workers', 1, LIMITS.tasks),
      1,
    )
    .option(
      '--secondary <file>',
      'also run the secondary MMU of this ES module (default export: (ctx) => secondary); repeatable',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('--json', 'machine-readable output')
    .option(
      '--trace [file]',
      'run/replay: print the full event log, or write a Chrome trace JSON to file (Perfetto)',
    );
}

/** The scenario's bugs from `--bug` (a bug of the threaded mode alone is refused). */
function scenarioBugs(o: { bug?: string[] }): ReturnType<typeof bugsOf> {
  const threadOnly = (o.bug ?? []).filter((b) => !BUG_NAMES.includes(b as BugMode));
  if (threadOnly.length > 0) fail(`--bug ${threadOnly[0]} needs run --threads`);
  return bugsOf((o.bug ?? []) as BugMode[]);
}

function toConfig(seed: number, o: CommonOpts): Partial<ScenarioConfig> {
  const bugs = scenarioBugs(o);
  return {
    seed,
    ops: o.ops,
    pages: o.pages,
    ...o.secondaries,
    strategy: o.strategy,
    pctDepth: o.depth,
    cpus: o.cpus,
    vcpus: o.vcpus,
    devices: o.devices,
    mix: { ...DEFAULT_CONFIG.mix, ...o.mix },
    end: o.end,
    bugs,
    sweepEvery: o.sweep,
    focus: o.focus,
    rebind: o.rebind,
    arm64Vcpus: o.arm64Vcpus,
    pfnCache: o.pfnCache === true,
    kvmRt: o.kvmRt === true,
    memslotUpdates: o.memslotUpdates,
    kick: o.kick,
    callbackErrors: o.callbackErrors,
    vhostWorkers: o.vhostWorkers,
    ...(o.secondary === undefined ? {} : { secondaryFiles: o.secondary.map(secondaryPath) }),
    fullTrace: o.trace === true,
  };
}

/**
 * Checks the `--secondary` modules before anything runs: each loads and default-exports a
 * function, and each factory returns a secondary with the required members (a world of 0
 * operations is built once for that). Any problem: one line on stderr, exit status 2.
 */
async function checkSecondaries(config: Partial<ScenarioConfig>): Promise<void> {
  const files = config.secondaryFiles ?? [];
  if (files.length === 0) return;
  try {
    for (const file of files) await loadSecondaryFactory(file);
    await runScenario({ ...config, ops: 0, fullTrace: false, onStart: undefined });
  } catch (error) {
    if (error instanceof SecondaryModuleError) fail(error.message);
    throw error;
  }
}

async function runOne(
  seed: number,
  o: CommonOpts,
  extra: Partial<ScenarioConfig> = {},
): Promise<RunResult> {
  const config = { ...toConfig(seed, o), ...extra };
  const showBar = process.stdout.isTTY === true && o.json !== true && o.ops >= 20_000;
  let bar: cliProgress.SingleBar | undefined;
  if (showBar) {
    bar = new cliProgress.SingleBar(
      {
        format: 'simulating [{bar}] {percentage}% | {value}/{total} ops',
        hideCursor: true,
        clearOnComplete: true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(o.ops, 0);
    config.onProgress = (n) => bar?.update(n);
  }
  const r = await runScenario(config);
  bar?.stop();
  return r;
}

function print(r: RunResult, o: CommonOpts): void {
  if (o.json === true) {
    process.stdout.write(
      `${JSON.stringify({ ...toJson(r), log: o.trace === true ? r.log : undefined })}\n`,
    );
    return;
  }
  if (o.trace === true && r.log !== undefined) process.stdout.write(`${r.log.join('\n')}\n\n`);
  process.stdout.write(`${formatReport(r)}\n`);
}

const REPORT_HELP = 'also write a self-contained HTML report with charts to file';

/** `run` and `replay`: one seed, the report (or JSON), exit status 1 on a violation. */
/** `--schedule c1,c2,...`: the choices of an exhaustive schedule (see ScheduleChoices). */
function parseChoices(v: string): number[] {
  if (!/^\d+(,\d+)*$/.test(v.trim())) {
    throw new InvalidArgumentError(
      `schedule must be comma-separated choices like 0,1,0, got "${v}"`,
    );
  }
  return v.trim().split(',').map(Number);
}

interface RunOpts extends CommonOpts {
  seed: number;
  /** `--threads` alone is `true` (the default count). */
  threads?: number | true;
  schedule?: number[];
  preemptions?: number;
}

/** The options of `run` and `replay` that follow one schedule of `explore --exhaustive`. */
function addScheduleOptions(cmd: Command): Command {
  return cmd
    .option(
      '--schedule <choices>',
      'follow these scheduling choices (from explore --exhaustive) instead of the strategy',
      parseChoices,
    )
    .option(
      '--preemptions <n>',
      'with --schedule: the preemption bound it was found under',
      int('preemptions', 0, 1000),
    );
}

async function runAndPrint(o: RunOpts, cmd: Command): Promise<void> {
  if (o.threads !== undefined) {
    if (o.secondary !== undefined)
      fail('--secondary runs in the full scenario, not with --threads');
    const threads = o.threads === true ? defaultThreads() : o.threads;
    process.exitCode = await runThreadsCommand({ ...o, threads }, cmd);
    return;
  }
  let r: RunResult;
  const { timeline, config } = timelineFor(o);
  if (o.schedule !== undefined) {
    config.schedule = {
      prefix: o.schedule,
      branching: [],
      ...(o.preemptions === undefined ? {} : { preemptionBound: o.preemptions }),
    };
  } else if (o.preemptions !== undefined) fail('--preemptions needs --schedule');
  try {
    await checkSecondaries(toConfig(o.seed, o));
    r = await runOne(o.seed, o, config);
  } catch (error) {
    // A config the parsers let through but the scenario refuses: an error, not a stack trace.
    if (error instanceof RangeError || error instanceof SecondaryModuleError) fail(error.message);
    throw error;
  }
  print(r, o);
  try {
    writeRunOutputs(r, timeline, o);
  } catch (error) {
    fail((error as Error).message);
  }
  process.exitCode = r.ok ? 0 : 1;
}

const program: Command = new Command('mmu-sim')
  .description(
    'mmu-sim: a primary MMU with a KVM-style guest, an HMM mirror and a vhost accessor as secondary MMUs,\n' +
      'interleaved by a seeded scheduler, with an invariant checker. Same seed, same run.',
  )
  .showHelpAfterError();

addCommon(
  addScheduleOptions(program.command('run', { isDefault: true }))
    .description('run one scenario and print a report (exit status 1 on a violation)')
    .option('--seed <n>', 'seed', int('seed', 0, LIMITS.seed), DEFAULT_CONFIG.seed)
    .option('--report <file>', REPORT_HELP)
    .option(
      '--threads [n]',
      `the KVM guest alone, its vCPUs on n worker threads against invalidations on the main thread (default ${defaultThreads()}; bugs ${THREAD_BUGS.join(', ')})`,
      int('threads', 1, MAX_THREADS),
    ),
).action(runAndPrint);

addCommon(
  addScheduleOptions(program.command('replay'))
    .description(
      're-run one seed exactly (same flags as the failing run), with the full trace if --trace',
    )
    .requiredOption('--seed <n>', 'seed to replay', int('seed', 0, LIMITS.seed))
    .option('--report <file>', REPORT_HELP),
).action(runAndPrint);

/** Ends the program with one line on stderr and exit status 2 (no usage text: not a typo). */
function fail(message: string): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(2);
}

/** `--shard i/n`: the i-th (1-based) of n slices of the seed range. */
function parseShard(v: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(v.trim());
  const index = m === null ? Number.NaN : Number(m[1]);
  const count = m === null ? Number.NaN : Number(m[2]);
  if (!(index >= 1 && count >= 1 && index <= count && count <= 100_000)) {
    throw new InvalidArgumentError(`shard must be i/n with 1 <= i <= n <= 100000, got "${v}"`);
  }
  return { index, count };
}

interface ExploreOpts extends CommonOpts {
  seeds: number;
  from: number;
  stop?: boolean;
  jobs: number;
  shard?: { index: number; count: number };
  out?: string;
  shrink: boolean;
  exhaustive?: boolean;
  preemptions: number;
  maxSchedules: number;
  world?: string;
}

/**
 * Shrinks the first violating seed of an exploration (a crash is left as it is: its run throws
 * and has no violation to keep).
 */
async function shrinkFirst(
  base: Partial<ScenarioConfig>,
  outcomes: readonly SeedOutcome[],
): Promise<ShrunkFailure | undefined> {
  const first = outcomes.find((o) => o.kind !== undefined);
  if (first === undefined || first.kind === 'crash') return undefined;
  const failing = await runScenario({ ...base, seed: first.seed, fullTrace: false });
  if (failing.ok) return undefined;
  const s = await shrink(failing);
  return {
    seed: first.seed,
    flags: configFlags(s.config),
    ops: s.config.ops,
    steps: s.result.steps,
    message: s.result.violation?.message.split('\n')[0] ?? '',
  };
}

/** Writes a summary: JSON to `--out` and/or stdout (`--json`), else the text report. */
function emitSummary(summary: ExploreSummary, o: { json?: boolean; out?: string }, jobs?: number) {
  const json = `${JSON.stringify(summary)}\n`;
  if (o.out !== undefined) writeFileSync(o.out, json);
  process.stdout.write(o.json === true ? json : `${formatSummary(summary, jobs)}\n`);
  process.exitCode = summary.violations.length === 0 ? 0 : 1;
}

addCommon(
  program
    .command('explore')
    .description('run many seeds and summarize the violations')
    .option('--seeds <n>', 'number of seeds', int('seeds', 1, LIMITS.seed), 100)
    .option('--from <n>', 'first seed', int('from', 0, LIMITS.seed), 1)
    .option('--stop', 'stop at the first violation')
    .option(
      '--jobs <n>',
      'worker threads running seeds (default: one per core)',
      int('jobs', 1, 256),
      defaultJobs(),
    )
    .option(
      '--shard <i/n>',
      'explore only the i-th of n slices of the seeds (for many machines)',
      parseShard,
    )
    .option('--out <file>', 'also write the JSON summary to this file (for merge)')
    .option('--no-shrink', 'print the first failing seed as found, without shrinking it')
    .option(
      '--exhaustive',
      'instead of seeds: every schedule of the tiny worlds (one per secondary; --bug picks its own; with --secondary, a world of yours alone)',
    )
    .option(
      '--preemptions <n>',
      '--exhaustive: schedules with at most n preemptions',
      int('preemptions', 0, 1000),
      2,
    )
    .option(
      '--max-schedules <n>',
      '--exhaustive: stop after this many schedules',
      int('max-schedules', 1, LIMITS.seed),
      1_000_000,
    )
    .addOption(
      new Option('--world <name>', '--exhaustive: only this tiny world').choices(
        TINY_WORLDS.map((w) => w.name),
      ),
    ),
  'random',
  2000,
).action(async (o: ExploreOpts) => {
  if (o.exhaustive === true) return exploreExhaustive(o);
  if (o.from + o.seeds - 1 > LIMITS.seed) {
    fail(`seeds ${o.from}..${o.from + o.seeds - 1} go past the last seed ${LIMITS.seed}`);
  }
  const slice =
    o.shard === undefined
      ? { from: o.from, seeds: o.seeds }
      : shardRange(o.from, o.seeds, o.shard.index, o.shard.count);
  const showBar = process.stdout.isTTY === true && o.json !== true && slice.seeds > 0;
  const bar = showBar
    ? new cliProgress.SingleBar(
        {
          format: 'exploring [{bar}] {value}/{total} seeds | {bad} violations',
          hideCursor: true,
          clearOnComplete: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(slice.seeds, 0, { bad: 0 });
  const t0 = performance.now();
  let done = 0;
  let bad = 0;
  const base = toConfig(o.from, { ...o, trace: false });
  // Checked here, once: in the workers a bad module would only make every seed a crash.
  await checkSecondaries(base);
  const { outcomes } = await explore({
    base,
    from: slice.from,
    seeds: slice.seeds,
    jobs: o.jobs,
    stop: o.stop === true,
    onOutcome: (r) => {
      done++;
      if (r.kind !== undefined) bad++;
      bar?.update(done, { bad });
    },
  });
  bar?.stop();
  const shrunk = o.shrink ? await shrinkFirst(base, outcomes) : undefined;
  const summary = summarize(outcomes, {
    from: o.from,
    seeds: o.seeds,
    slice,
    ...(o.shard === undefined ? {} : { shard: `${o.shard.index}/${o.shard.count}` }),
    flags: configFlags({ ...DEFAULT_CONFIG, ...base, mix: { ...DEFAULT_CONFIG.mix, ...base.mix } }),
    wallMs: performance.now() - t0,
    shrunk,
  });
  emitSummary(summary, o, o.jobs);
});

/**
 * `explore --exhaustive`: the tiny worlds (every one, or those of the planted bugs' secondaries,
 * or `--world`), each over its data seeds, every schedule within the preemption bound.
 */
async function exploreExhaustive(o: ExploreOpts): Promise<void> {
  if (o.shard !== undefined) fail('--exhaustive explores the tiny worlds: --shard does not apply');
  const bugs = scenarioBugs(o);
  let worlds: TinyWorld[];
  if (o.secondary !== undefined) {
    // The user's secondaries alone: the planted bugs and worlds of the built-ins do not apply.
    if (Object.keys(bugs).length > 0)
      fail('--exhaustive --secondary explores your secondaries alone: --bug does not apply');
    if (o.world !== undefined)
      fail('--exhaustive --secondary explores your secondaries alone: --world does not apply');
    const world = secondaryWorld(o.secondary.map(secondaryPath));
    await checkSecondaries({ ...world.config, seed: 1 });
    worlds = [world];
  } else {
    worlds = worldsFor(bugs).filter((w) => o.world === undefined || w.name === o.world);
    if (worlds.length === 0) fail(`no tiny world of ${o.world} has the secondary the bug is in`);
  }
  const results = await exhaustWorlds(
    worlds,
    bugs,
    { maxSchedules: o.maxSchedules, preemptionBound: o.preemptions, stop: o.stop === true },
    o.jobs,
  );
  if (o.json === true) {
    const rows = results.map((r) => {
      const { first, ...row } = r;
      if (first === undefined) return row;
      const { config: _c, ...found } = first;
      return { ...row, first: { ...found, replay: scheduleReplay(r, o.preemptions) } };
    });
    process.stdout.write(`${JSON.stringify({ preemptions: o.preemptions, worlds: rows })}\n`);
  } else process.stdout.write(`${formatWorlds(results, o.preemptions)}\n`);
  process.exitCode = results.some((r) => r.violations > 0) ? 1 : 0;
}

program
  .command('merge')
  .description('combine the JSON summaries of explore shards (--out files) into one report')
  .argument('<files...>', 'summary files written by explore --shard i/n --out FILE')
  .option('--json', 'machine-readable output')
  .option('--out <file>', 'also write the merged JSON summary to this file')
  .action((files: string[], o: { json?: boolean; out?: string }) => {
    const parts: ExploreSummary[] = [];
    for (const file of files) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        fail(`cannot read ${file}: ${(error as Error).message}`);
      }
      try {
        parts.push(JSON.parse(text) as ExploreSummary);
      } catch {
        fail(`${file} is not a JSON summary of explore`);
      }
    }
    let merged: ExploreSummary;
    try {
      merged = mergeSummaries(parts);
    } catch (error) {
      fail((error as Error).message);
    }
    emitSummary(merged, o);
  });

registerLabCommand(program);

// Output piped into a reader that stops early (`| head`): end quietly, as other CLIs do.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(process.exitCode ?? 0);
});

// With `run` as the default command, a mistyped command would reach `run` as a stray argument.
const first = process.argv[2];
if (
  first !== undefined &&
  !first.startsWith('-') &&
  first !== 'help' &&
  !program.commands.some((c) => c.name() === first)
) {
  program.error(
    `error: unknown command '${first}' (commands: ${program.commands.map((c) => c.name()).join(', ')})`,
  );
}

await program.parseAsync();
