/** The q-quantile (0..1) of sorted numbers: the value at index floor(q * n) (0 if empty). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** p50 and p99 of a latency sample, in scheduling steps. */
export interface Percentiles {
  p50: number;
  p99: number;
}

/** The raw counts of one run, filled in as it goes. */
export class LabCounters {
  /** Faults that installed an entry. */
  faults = 0;
  /** Accesses through a secondary entry. */
  accesses = 0;
  /** Invalidations whose end was called. */
  invalidations = 0;
  /** Lost attempts of all faults (see LabResult.retries). */
  retries = 0;
  /** Resolves that completed, and installs: each install uses one resolve, the rest were wasted. */
  resolves = 0;
  installs = 0;
  /** Steps from a fault's begin to its install, per fault. */
  readonly faultLatency: number[] = [];
  /** Steps from calling the start to its return, per invalidation. */
  readonly invalidationLatency: number[] = [];
}

/** The p50 and p99 of `values` (sorted in place). */
export function percentiles(values: number[]): Percentiles {
  values.sort((a, b) => a - b);
  return { p50: quantile(values, 0.5), p99: quantile(values, 0.99) };
}
