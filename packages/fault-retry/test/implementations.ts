import { InvalidationTracker, type InvalidationTrackerLike } from '../src/index.js';

export interface CreateOptions {
  initialSeq?: number;
  /** Called by end() between its two steps (seq bumped, count not yet dropped). */
  betweenEndSteps?: (tracker: InvalidationTrackerLike) => void;
}

/** Test-only subclass: observes the state between the two steps of end(). */
class ObservedTracker extends InvalidationTracker {
  readonly #hook: (t: InvalidationTrackerLike) => void;
  constructor(initialSeq: number | undefined, hook: (t: InvalidationTrackerLike) => void) {
    super({ initialSeq });
    this.#hook = hook;
  }
  protected override endBumpSeq(): void {
    super.endBumpSeq();
    this.#hook(this);
  }
}

export interface Implementation {
  name: string;
  create(options?: CreateOptions): InvalidationTrackerLike;
}

export const trackerImplementations: Implementation[] = [
  {
    name: 'InvalidationTracker',
    create: ({ initialSeq, betweenEndSteps } = {}) =>
      betweenEndSteps
        ? new ObservedTracker(initialSeq, betweenEndSteps)
        : new InvalidationTracker(initialSeq === undefined ? {} : { initialSeq }),
  },
];
