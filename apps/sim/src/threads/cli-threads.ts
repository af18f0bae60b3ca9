import type { Command } from 'commander';
import { runThreads, type ThreadsResult } from './run-threads.js';
import { THREAD_BUGS, type ThreadBug } from './vcpu.js';

/** The options of `run` that `--threads` reads; every other one set on the command line is refused. */
const APPLIES = new Set(['threads', 'seed', 'ops', 'pages', 'bug', 'json']);

/** What `run --threads` reads from the parsed options. */
export interface ThreadsOpts {
  threads: number;
  seed: number;
  ops: number;
  pages: number;
  bug?: string[];
  json?: boolean;
}

/**
 * `run --threads n`: checks that only the options of the threaded mode were given, runs it and
 * prints its report (or JSON). Returns the exit status: 0 clean, 1 on a violation, 2 for options
 * that do not apply (with a message on stderr).
 */
export async function runThreadsCommand(o: ThreadsOpts, cmd: Command): Promise<number> {
  const other = cmd.options
    .map((opt) => opt.attributeName())
    .filter((name) => !APPLIES.has(name) && cmd.getOptionValueSource(name) === 'cli');
  if (other.length > 0) {
    const flags = other.map((name) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
    return refuse(
      `--threads runs the KVM guest alone (--seed, --ops, --pages, --bug, --json): ${flags.join(', ')} does not apply`,
    );
  }
  const bugs = o.bug ?? [];
  const unknown = bugs.filter((b) => !(THREAD_BUGS as readonly string[]).includes(b));
  if (unknown.length > 0 || bugs.length > 1) {
    return refuse(`--threads takes at most one --bug, one of ${THREAD_BUGS.join(', ')}`);
  }
  let r: ThreadsResult;
  try {
    r = await runThreads({
      seed: o.seed,
      threads: o.threads,
      ops: o.ops,
      pages: o.pages,
      ...(bugs.length === 1 ? { bug: bugs[0] as ThreadBug } : {}),
    });
  } catch (error) {
    if (error instanceof RangeError) return refuse(`--threads: ${error.message}`);
    throw error;
  }
  process.stdout.write(o.json === true ? `${JSON.stringify(r)}\n` : `${formatThreads(r)}\n`);
  return r.ok ? 0 : 1;
}

function refuse(message: string): number {
  process.stderr.write(`error: ${message}\n`);
  return 2;
}

/** The report of a threaded run. */
export function formatThreads(r: ThreadsResult): string {
  const c = r.config;
  const n = (x: number) => x.toLocaleString('en-US').padStart(14);
  const lines = [
    `mmu-sim run --threads ${c.threads}: seed ${c.seed}, ${c.ops} invalidations, ${c.pages} pages` +
      (c.bug === undefined ? '' : `, bug ${c.bug}`),
    r.ok
      ? 'RESULT: OK — no stale translation'
      : `RESULT: VIOLATION (${r.violation!.kind}) — ${r.violation!.message}`,
    '',
    `  invalidations (main thread)   ${n(r.invalidations)}`,
    `  checks under mmu_lock         ${n(r.checks)}`,
    `  vCPU accesses                 ${n(r.accesses)}`,
    `  vCPU faults                   ${n(r.faults)}`,
    `  fault retries                 ${n(r.retries)}`,
    `  wall time (ms)                ${n(Math.round(r.wallMs))}`,
    '',
    'The vCPUs run truly in parallel: the seed fixes what each thread does, not how the threads',
    'interleave, so two runs with the same seed differ.',
  ];
  return lines.join('\n');
}
