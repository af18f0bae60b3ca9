import { describe, expect, it } from 'vitest';
import { SharedInvalidationTracker } from '../dist/index.js';
import { raceReader } from './reader-race.js';

const READER = new URL('./workers/order-reader.mjs', import.meta.url);

/** Negative control: end() drops the count before it bumps seq. */
class CountFirstTracker extends SharedInvalidationTracker {
  protected override endBumpSeq(): void {
    super.endDropCount();
    super.endBumpSeq();
  }
  protected override endDropCount(): void {}
}

interface Result {
  checks: number;
  idleChecks: number;
  violations: number;
}

/**
 * This thread runs begin(); publish "begun = k" (control[2]); end() in a tight loop while a
 * worker reads begun, inProgress, seq and counts violations (control[3]). Runs for at least `minMs`, and up to `maxMs` until a violation is seen
 * when `untilViolation` is set.
 */
async function litmus(
  tracker: SharedInvalidationTracker,
  minMs: number,
  maxMs: number,
  untilViolation: boolean,
): Promise<Result> {
  return raceReader<Result>(READER, tracker, (control) => {
    const start = Date.now();
    let begun = 0;
    for (;;) {
      const elapsed = Date.now() - start;
      if (elapsed >= maxMs || (elapsed >= minMs && !untilViolation)) break;
      for (let i = 0; i < 1000; i++) {
        tracker.begin();
        Atomics.store(control, 2, ++begun);
        tracker.end();
      }
      if (untilViolation && elapsed >= minMs && Atomics.load(control, 3) > 0) break;
    }
  });
}

describe('end() ordering across threads (seq bump before count drop)', () => {
  it('a reader that sees inProgress 0 always sees the bumped seq', {
    timeout: 20_000,
  }, async () => {
    const r = await litmus(SharedInvalidationTracker.create(), 400, 400, false);
    expect(r.violations).toBe(0);
    expect(r.idleChecks).toBeGreaterThan(1000); // the reader really raced the writer
  });

  it('negative control: dropping the count first is observed', { timeout: 20_000 }, async () => {
    const r = await litmus(new CountFirstTracker(new SharedArrayBuffer(32)), 400, 2000, true);
    expect(r.violations).toBeGreaterThan(0);
  });
});
