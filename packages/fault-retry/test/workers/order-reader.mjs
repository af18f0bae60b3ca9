// Reads, in this order, the number of begun invalidations, inProgress and seq, like a fault
// checking after the invalidator's begin() was published. If inProgress is 0, every begun
// invalidation has ended, so seq must be at least the number begun: else end() dropped the
// count before it bumped seq. Control: [2] begun (written by main), [3] violations.
import { attach, runUntilStop } from './reader-harness.mjs';

const { tracker, control } = attach();
let checks = 0;
let idleChecks = 0;
let violations = 0;
runUntilStop(
  control,
  () => {
    for (let i = 0; i < 256; i++) {
      const begun = Atomics.load(control, 2);
      const inProgress = tracker.inProgress;
      const seq = tracker.seq;
      checks++;
      if (inProgress === 0) {
        idleChecks++;
        if (seq < begun) {
          violations++;
          Atomics.add(control, 3, 1);
        }
      }
    }
  },
  () => ({ checks, idleChecks, violations }),
);
