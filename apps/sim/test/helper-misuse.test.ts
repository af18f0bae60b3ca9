import { describe, expect, it } from 'vitest';
import { BUG_MODES, type BugMode } from '../src/bug-modes.js';
import { type RunResult, runScenario } from '../src/scenario.js';

/**
 * The bug modes that misuse the packages' composition helpers (faultWithRetry's lock,
 * teardownInterval's order), each against the scenario: the first seed of a small budget whose
 * run has a violation reports the stale translation, the same run without the bug is clean, and
 * the full trace shows the planted path at work before the violation.
 */
const BUDGET = 60;
const base = { ops: 2000, end: 'random' as const };

/** The first run of seeds 1..BUDGET with the mode planted that reports a violation. */
async function firstViolation(mode: BugMode): Promise<RunResult> {
  for (let seed = 1; seed <= BUDGET; seed++) {
    const r = await runScenario({ ...base, seed, bugs: BUG_MODES[mode], fullTrace: true });
    if (!r.ok) return r;
  }
  throw new Error(`${mode}: no violation in seeds 1..${BUDGET}`);
}

/** The virtual page a violation message names. */
function pageOf(message: string): number {
  const m = /page (\d+)/.exec(message);
  if (m === null) throw new Error(`no page in: ${message}`);
  return Number(m[1]);
}

/** Indexes of the log lines of `kind` whose first two numbers are a range holding `page`. */
function eventsOver(log: readonly string[], kind: string, page: number): number[] {
  const re = new RegExp(`^#\\d+ +\\S+ +${kind} (\\d+) (\\d+) `);
  const found: number[] = [];
  log.forEach((line, i) => {
    const m = re.exec(line);
    if (m !== null && Number(m[1]) <= page && page < Number(m[2])) found.push(i);
  });
  return found;
}

/** The same run without the bug (the negative control's pair) is clean. */
async function cleanWithout(r: RunResult): Promise<void> {
  const clean = await runScenario({ ...base, seed: r.config.seed });
  if (!clean.ok)
    throw new Error(`seed ${r.config.seed} without the bug: ${clean.violation?.message}`);
  expect(clean.ok).toBe(true);
}

/** Stale after the primary changed it, or still there after release(). */
const STALE_LATER =
  /^hmm: (after a primary change: page \d+ (-> frame \d+|is PROT_NONE|writable)|still maps page \d+ -> frame \d+ after release\(\))/;

describe('misuse of the composition helpers is caught (and the same run without it is clean)', () => {
  it('hmm-install-unlocked: programs after the lock was dropped, a stale install', async () => {
    const r = await firstViolation('hmm-install-unlocked');
    expect(r.violation!.kind).toBe('violation');
    expect(r.violation!.message).toMatch(/^hmm: install: page \d+ /);
    // The fault passed readRetry, dropped the lock and was preempted before programming.
    const p = pageOf(r.violation!.message);
    expect(eventsOver(r.log!, 'hmm program: allocate table pages', p).length).toBeGreaterThan(0);
    await cleanWithout(r);
  }, 30_000);

  it('hmm-teardown-zap-first: a fault programs after the zap, the translation outlives the close', async () => {
    const r = await firstViolation('hmm-teardown-zap-first');
    expect(r.violation!.kind).toBe('violation');
    expect(r.violation!.message).toMatch(STALE_LATER);
    // The buffer holding the page was zapped, then a fault programmed the page, then the
    // subscription was removed: with nothing left to invalidate it.
    const p = pageOf(r.violation!.message);
    const log = r.log!;
    const zapped = eventsOver(log, 'hmm close: zap', p);
    expect(zapped.length).toBeGreaterThan(0);
    const removed = eventsOver(log, 'hmm close: remove', p).filter((i) => i > zapped[0]!);
    expect(removed.length).toBeGreaterThan(0);
    const programs = eventsOver(log, 'hmm program', p);
    const between = zapped.some((z) =>
      programs.some((i) => i > z && removed.some((rm) => rm > i && rm > z)),
    );
    expect(between).toBe(true);
    await cleanWithout(r);
  }, 30_000);

  it('hmm-teardown-remove-first: the primary changes a page between the removal and the zap', async () => {
    const r = await firstViolation('hmm-teardown-remove-first');
    expect(r.violation!.kind).toBe('violation');
    expect(r.violation!.message).toMatch(STALE_LATER);
    // The subscription over the page was removed and the close had not zapped yet.
    const p = pageOf(r.violation!.message);
    const log = r.log!;
    const removed = eventsOver(log, 'hmm close: remove', p);
    expect(removed.length).toBeGreaterThan(0);
    const last = removed[removed.length - 1]!;
    expect(eventsOver(log, 'hmm close: zap', p).filter((i) => i > last)).toEqual([]);
    await cleanWithout(r);
  }, 30_000);
});
