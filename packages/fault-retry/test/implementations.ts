import {
  InvalidationTracker,
  type InvalidationTrackerLike,
  SharedInvalidationTracker,
} from '../src/index.js';

export interface CreateOptions {
  initialSeq?: number;
  /** Called by end() between its two steps (seq bumped, count not yet dropped). */
  betweenEndSteps?: (tracker: InvalidationTrackerLike) => void;
}

type Hook = (t: InvalidationTrackerLike) => void;

/** Test-only subclass: observes the state between the two steps of end(). */
class ObservedTracker extends InvalidationTracker {
  readonly #hook: Hook;
  constructor(initialSeq: number | undefined, hook: Hook) {
    super(initialSeq === undefined ? {} : { initialSeq });
    this.#hook = hook;
  }
  protected override endBumpSeq(): void {
    super.endBumpSeq();
    this.#hook(this);
  }
}

/** The same for the shared tracker, attached to a buffer made by create(). */
class ObservedSharedTracker extends SharedInvalidationTracker {
  readonly #hook: Hook;
  constructor(buffer: SharedArrayBuffer, byteOffset: number, hook: Hook) {
    super(buffer, byteOffset);
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

const seqOption = (initialSeq: number | undefined) =>
  initialSeq === undefined ? {} : { initialSeq };

export const trackerImplementations: Implementation[] = [
  {
    name: 'InvalidationTracker',
    create: ({ initialSeq, betweenEndSteps } = {}) =>
      betweenEndSteps
        ? new ObservedTracker(initialSeq, betweenEndSteps)
        : new InvalidationTracker(seqOption(initialSeq)),
  },
  {
    name: 'SharedInvalidationTracker',
    create: ({ initialSeq, betweenEndSteps } = {}) => {
      const made = SharedInvalidationTracker.create(seqOption(initialSeq));
      return betweenEndSteps ? new ObservedSharedTracker(made.buffer, 0, betweenEndSteps) : made;
    },
  },
  {
    name: 'SharedInvalidationTracker.from(a view at byte 40 of a larger buffer)',
    create: ({ initialSeq, betweenEndSteps } = {}) => {
      // Rebuild from the buffer made by create(), copied into the middle of a bigger one.
      const made = SharedInvalidationTracker.create(seqOption(initialSeq));
      const big = new SharedArrayBuffer(128);
      new Uint8Array(big).fill(0xee);
      new Uint8Array(big, 40, 32).set(new Uint8Array(made.buffer));
      return betweenEndSteps
        ? new ObservedSharedTracker(big, 40, betweenEndSteps)
        : SharedInvalidationTracker.from(big, 40);
    },
  },
];
