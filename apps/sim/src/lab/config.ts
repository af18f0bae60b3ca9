/** The synchronization strategies of the lab, in the order the table lists them. */
export const STRATEGY_NAMES = [
  'collision-retry',
  'kvm-retry',
  'mutex',
  'reader-count',
  'grace-period',
] as const;

/** One of {@link STRATEGY_NAMES}. */
export type LabStrategyName = (typeof STRATEGY_NAMES)[number];

/**
 * The planted bug of each strategy (its negative control), by name: the checker must catch
 * each one. `--bug name` plants it in its own strategy; the other strategies run unchanged.
 */
export const LAB_BUGS = {
  /** collision-retry: the fault installs without the readRetry check under the lock. */
  'collision-no-read-retry': 'collision-retry',
  /** kvm-retry: the fault's checks look at the sequence only, never at inProgress. */
  'kvm-ignore-in-progress': 'kvm-retry',
  /** mutex: the fault releases the device mutex, then installs what it resolved. */
  'mutex-install-after-unlock': 'mutex',
  /** reader-count: the start marks and zaps without waiting for the readers inside. */
  'reader-count-no-wait': 'reader-count',
  /** grace-period: the start marks and zaps without synchronize(). */
  'grace-period-no-synchronize': 'grace-period',
} as const satisfies Record<string, LabStrategyName>;

/** One of the keys of {@link LAB_BUGS}. */
export type LabBug = keyof typeof LAB_BUGS;

/** The bug names, for help texts and parsers. */
export const LAB_BUG_NAMES = Object.keys(LAB_BUGS) as LabBug[];

/** The workload of one lab run (the same for every strategy). Time is scheduling steps. */
export interface LabConfig {
  /** Seed of the scheduler and of the workload's choices. */
  seed: number;
  /** Tasks stop starting new work after this many scheduling steps. */
  steps: number;
  /** Fault tasks. */
  faulters: number;
  /** Invalidator tasks. */
  invalidators: number;
  /** Pages of the primary page table. */
  pages: number;
  /** Scheduling points a resolve takes (the GUP / device latency). */
  resolveSteps: number;
  /** Chance that an invalidator's turn invalidates a range (else it yields). */
  invalidationRate: number;
  /** Largest invalidated range, in pages (each range is 1..rangeSize pages). */
  rangeSize: number;
}

/** The defaults of `mmu-sim lab`. */
export const DEFAULT_LAB_CONFIG: Readonly<LabConfig> = Object.freeze({
  seed: 1,
  steps: 20_000,
  faulters: 4,
  invalidators: 1,
  pages: 64,
  resolveSteps: 8,
  invalidationRate: 0.05,
  rangeSize: 8,
});

/** Bounds of each integer parameter (the CLI refuses values outside them). */
export const LAB_LIMITS = {
  seed: [0, 0xffff_ffff],
  steps: [100, 10_000_000],
  faulters: [1, 64],
  invalidators: [1, 16],
  pages: [4, 1 << 20],
  resolveSteps: [1, 10_000],
  rangeSize: [1, 1 << 20],
} as const satisfies Record<string, readonly [number, number]>;

/** The workload parameters `--vary` can sweep. */
export const VARY_PARAMS = [
  'faulters',
  'invalidators',
  'pages',
  'resolveSteps',
  'invalidationRate',
  'rangeSize',
] as const;

/** One of {@link VARY_PARAMS}. */
export type VaryParam = (typeof VARY_PARAMS)[number];

/**
 * Checks a whole config (parsers check each flag; this also catches combinations and configs
 * built in code). Returns the first problem as one line, or undefined.
 */
export function configProblem(c: LabConfig): string | undefined {
  for (const [key, [min, max]] of Object.entries(LAB_LIMITS)) {
    const v = c[key as keyof typeof LAB_LIMITS];
    if (!Number.isSafeInteger(v) || v < min || v > max) {
      return `${key} must be an integer from ${min} to ${max}, got ${v}`;
    }
  }
  if (!(c.invalidationRate >= 0 && c.invalidationRate <= 1)) {
    return `invalidationRate must be a number from 0 to 1, got ${c.invalidationRate}`;
  }
  if (c.rangeSize > c.pages) return `rangeSize (${c.rangeSize}) must not exceed pages (${c.pages})`;
  return undefined;
}
