import { Checker, type SecondaryView } from '../src/checker.js';
import { AddressSpace } from '../src/primary/mm.js';
import { type RunResult, runScenario, type ScenarioConfig } from '../src/scenario.js';
import { Scheduler, type StrategyName, type Task } from '../src/scheduler.js';
import { type HmmBugs, HmmMirror } from '../src/secondaries/hmm-mirror.js';
import { Stats } from '../src/stats.js';
import { Timeline } from '../src/timeline.js';
import { Trace } from '../src/trace.js';

/** A small hand-built world for scripted tests: one mm, a checker, optional mirrors. */
export function makeWorld(opts: { seed?: number; pages?: number; strategy?: StrategyName } = {}) {
  const sched = new Scheduler({
    seed: opts.seed ?? 1,
    strategy: opts.strategy ?? 'random',
    maxSteps: 1_000_000,
  });
  const trace = new Trace(64);
  const stats = new Stats();
  const pages = opts.pages ?? 1024;
  const mm = new AddressSpace({ sched, trace, stats }, pages);
  const checker = new Checker(mm, sched, trace, pages);
  mm.checker = checker;
  mm.observe(checker);
  const mirror = (name = 'hmm', bugs: HmmBugs = {}) => {
    const m = new HmmMirror(mm, checker, name, bugs);
    checker.addSecondary(m);
    return m;
  };
  /** Runs the given task bodies to completion; throws if the run stopped with a violation. */
  const run = async (...bodies: ((t: Task) => Promise<void>)[]) => {
    for (const [i, b] of bodies.entries()) sched.spawn(`t${i}`, b);
    const reason = await sched.run();
    if (checker.violation !== undefined) throw new Error(`violation: ${checker.violation.message}`);
    if (reason !== undefined) throw new Error(`stopped: ${reason.message}`);
    checker.sweep();
  };
  return { sched, trace, stats, mm, checker, mirror, run };
}

/** Every live translation of a secondary, as the checker sees it, in its visiting order. */
export function translations(
  view: SecondaryView,
): { page: number; frame: number; writable: boolean }[] {
  const out: { page: number; frame: number; writable: boolean }[] = [];
  view.forEachTranslation((page, frame, _gen, writable) => out.push({ page, frame, writable }));
  return out;
}

/** A run with a timeline attached (what `--trace FILE` and `--report` record). */
export async function runWithTimeline(
  config: Partial<ScenarioConfig>,
): Promise<{ r: RunResult; timeline: Timeline }> {
  const timeline = new Timeline();
  const r = await runScenario({ ...config, onStart: (t, s) => timeline.attach(t, s) });
  return { r, timeline };
}
