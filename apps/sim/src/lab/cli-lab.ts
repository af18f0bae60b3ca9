import { type Command, type CommanderError, InvalidArgumentError } from 'commander';
import { chanceOption, intOption } from '../cli-parsers.js';
import {
  configProblem,
  DEFAULT_LAB_CONFIG,
  LAB_BUG_NAMES,
  LAB_BUGS,
  LAB_LIMITS,
  type LabBug,
  type LabConfig,
  type LabStrategyName,
  STRATEGY_NAMES,
  type VaryParam,
} from './config.js';
import { formatLab, type LabRow } from './format.js';
import { writeLabReport } from './lab-report.js';
import { runLab } from './run-lab.js';
import { configAt, flagOf, parseVary, type Vary } from './vary.js';

/** A parser of an integer option within LAB_LIMITS (decimal digits only: no '', 1e3, 0x10). */
function int(name: keyof typeof LAB_LIMITS): (v: string) => number {
  const [min, max] = LAB_LIMITS[name];
  return intOption(flagOf(name as VaryParam), min, max);
}

const chance = chanceOption;

/** The parser of each parameter `--vary` can sweep: that of its own flag. */
function parserOf(param: VaryParam): (v: string) => number {
  return param === 'invalidationRate' ? chance('invalidation-rate') : int(param);
}

function parseStrategies(v: string): LabStrategyName[] {
  const names = v.split(',').map((s) => s.trim());
  for (const n of names) {
    if (!(STRATEGY_NAMES as readonly string[]).includes(n)) {
      throw new InvalidArgumentError(
        `unknown strategy "${n}" (strategies: ${STRATEGY_NAMES.join(', ')})`,
      );
    }
  }
  return [...new Set(names as LabStrategyName[])];
}

function parseBug(v: string): LabBug {
  if (!(LAB_BUG_NAMES as string[]).includes(v)) {
    throw new InvalidArgumentError(`unknown bug "${v}" (one of ${LAB_BUG_NAMES.join(', ')})`);
  }
  return v as LabBug;
}

function parseVaryOption(v: string): Vary {
  try {
    return parseVary(v, parserOf);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

/** What `lab` reads from the command line. */
interface LabOpts extends LabConfig {
  strategies: LabStrategyName[];
  bug?: LabBug;
  vary?: Vary;
  json?: boolean;
  report?: string;
}

/** Ends the program with one line on stderr and exit status 2 (bad input). */
function fail(message: string): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(2);
}

/** Checks what no single flag's parser can: combinations, and each sweep point's config. */
function checkOptions(o: LabOpts, cmd: Command, base: LabConfig): void {
  if (o.bug !== undefined && !o.strategies.includes(LAB_BUGS[o.bug])) {
    fail(`--bug ${o.bug} is planted in ${LAB_BUGS[o.bug]}, which --strategies leaves out`);
  }
  if (o.vary !== undefined && cmd.getOptionValueSource(o.vary.param) === 'cli') {
    fail(`--vary ${flagOf(o.vary.param)} and --${flagOf(o.vary.param)} both set it: give one`);
  }
  if (o.report !== undefined && o.vary === undefined) {
    fail('--report draws each metric over a sweep: it needs --vary');
  }
  const points =
    o.vary === undefined ? [base] : o.vary.values.map((v) => configAt(base, o.vary!, v));
  for (const c of points) {
    const problem = configProblem(c);
    if (problem !== undefined) fail(problem.replace(/^(\w+)/, (k) => flagOf(k as VaryParam)));
  }
}

/**
 * Registers `mmu-sim lab`: one seeded workload under each strategy, a table (or `--json`) of
 * who wins on what; `--vary` sweeps one parameter, `--report` draws the sweep. Exit status 0
 * when every run kept the secondary coherent, 1 on a violation (a planted bug's, say), 2 for
 * bad input (one line on stderr).
 */
export function registerLabCommand(program: Command): void {
  const d = DEFAULT_LAB_CONFIG;
  const cmd = program
    .command('lab')
    .description(
      'strategy lab: one seeded workload under each synchronization strategy, with metrics (exit status 1 on a violation)',
    )
    .option('--seed <n>', 'seed', int('seed'), d.seed)
    .option(
      '--steps <n>',
      'scheduling steps after which tasks stop starting work',
      int('steps'),
      d.steps,
    )
    .option('--strategies <list>', `comma list of ${STRATEGY_NAMES.join(',')}`, parseStrategies, [
      ...STRATEGY_NAMES,
    ])
    .option('--faulters <n>', 'fault tasks', int('faulters'), d.faulters)
    .option('--invalidators <n>', 'invalidator tasks', int('invalidators'), d.invalidators)
    .option('--pages <n>', 'pages of the primary page table', int('pages'), d.pages)
    .option(
      '--resolve-steps <n>',
      'scheduling points a resolve takes',
      int('resolveSteps'),
      d.resolveSteps,
    )
    .option(
      '--invalidation-rate <p>',
      "chance that an invalidator's turn invalidates a range",
      chance('invalidation-rate'),
      d.invalidationRate,
    )
    .option(
      '--range-size <n>',
      'largest invalidated range, in pages',
      int('rangeSize'),
      d.rangeSize,
    )
    .option('--bug <name>', `plant a bug in its strategy: ${LAB_BUG_NAMES.join(', ')}`, parseBug)
    .option(
      '--vary <param=v1,v2,...>',
      'run every value of one workload parameter',
      parseVaryOption,
    )
    .option('--json', 'machine-readable output')
    .option('--report <file>', 'with --vary: write a self-contained HTML page charting the sweep')
    .showHelpAfterError(false)
    // Bad input: commander has printed its one-line error; the status is 2, as for fail().
    .exitOverride((error: CommanderError) => {
      process.exit(error.exitCode === 0 ? 0 : 2);
    })
    .action(async (o: LabOpts) => {
      const base: LabConfig = {
        seed: o.seed,
        steps: o.steps,
        faulters: o.faulters,
        invalidators: o.invalidators,
        pages: o.pages,
        resolveSteps: o.resolveSteps,
        invalidationRate: o.invalidationRate,
        rangeSize: o.rangeSize,
      };
      checkOptions(o, cmd, base);
      const rows: LabRow[] = [];
      if (o.vary === undefined) rows.push({ results: await runLab(base, o.strategies, o.bug) });
      else {
        for (const value of o.vary.values) {
          const results = await runLab(configAt(base, o.vary, value), o.strategies, o.bug);
          rows.push({ point: `${flagOf(o.vary.param)}=${value}`, results });
        }
      }
      if (o.report !== undefined && o.vary !== undefined) {
        try {
          writeLabReport(o.report, base, o.vary, rows);
        } catch (error) {
          fail(`cannot write ${o.report}: ${(error as Error).message}`);
        }
      }
      if (o.json === true) {
        const out =
          o.vary === undefined
            ? { config: base, results: rows[0]!.results }
            : {
                config: base,
                vary: o.vary,
                runs: rows.map((r, i) => ({ value: o.vary!.values[i], results: r.results })),
              };
        process.stdout.write(`${JSON.stringify(out)}\n`);
      } else process.stdout.write(`${formatLab(base, rows, o.vary)}\n`);
      process.exitCode = rows.some((r) => r.results.some((x) => !x.ok)) ? 1 : 0;
    });
}
