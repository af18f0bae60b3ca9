import type { Task } from '../scheduler.js';
import type { LabWorld } from './world.js';

/**
 * One synchronization strategy of a secondary MMU, built on a {@link LabWorld}: at creation it
 * subscribes to `world.subs` (so every invalidation reaches it through the notifier), and
 * `fault` brings one page into the secondary page table.
 */
export interface LabStrategy {
  /**
   * Faults `page` in for task `t`: resolves it (`world.resolve`) and installs it
   * (`world.install`) by the strategy's rule. Resolves to the number of lost attempts (retries
   * after a collision, or polls while the page was held off); returns right after the install.
   */
  fault(t: Task, page: number): Promise<number>;
}

/** Builds a strategy on `world`; `bug` plants the strategy's negative control. */
export type StrategyFactory = (world: LabWorld, bug: boolean) => LabStrategy;
