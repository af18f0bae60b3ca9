import type { Bugs } from './scenario.js';

/**
 * The planted bugs (negative controls) by their `--bug` name: each is one flag of one secondary.
 * The CLI, the replay flags, the time-to-detect bench and the tests all read this one table.
 */
export const BUG_MODES = {
  'kvm-no-retry': { kvm: { skipRetry: true } },
  'kvm-no-zap': { kvm: { skipZap: true } },
  'hmm-no-read-retry': { hmm: { skipReadRetry: true } },
  'hmm-no-set-seq': { hmm: { skipSetSeq: true } },
  'hmm-install-unlocked': { hmm: { installUnlocked: true } },
  'hmm-teardown-zap-first': { hmm: { teardownZapFirst: true } },
  'hmm-teardown-remove-first': { hmm: { teardownRemoveFirst: true } },
  'vhost-no-wait': { vhost: { noWait: true } },
  'vhost-no-prefetch-retry': { vhost: { noPrefetchRetry: true } },
} as const satisfies Record<string, Bugs>;

/** A `--bug` name. */
export type BugMode = keyof typeof BUG_MODES;

/** The names of the bug modes. */
export const BUG_NAMES = Object.keys(BUG_MODES) as BugMode[];

/** The bugs of several modes together (flags of one secondary merged). */
export function bugsOf(names: readonly BugMode[]): Bugs {
  const bugs: Bugs = {};
  for (const name of names) {
    const mode: Bugs = BUG_MODES[name];
    bugs.kvm = mode.kvm === undefined ? bugs.kvm : { ...bugs.kvm, ...mode.kvm };
    bugs.hmm = mode.hmm === undefined ? bugs.hmm : { ...bugs.hmm, ...mode.hmm };
    bugs.vhost = mode.vhost === undefined ? bugs.vhost : { ...bugs.vhost, ...mode.vhost };
  }
  return JSON.parse(JSON.stringify(bugs)) as Bugs; // drops the undefined secondaries
}

/** The modes whose flags are all set in `bugs`, in table order. */
export function modesOf(bugs: Bugs): BugMode[] {
  return BUG_NAMES.filter((name) => {
    const mode: Bugs = BUG_MODES[name];
    return (['kvm', 'hmm', 'vhost'] as const).every((s) => {
      const flags = mode[s] as Record<string, boolean> | undefined;
      const set = bugs[s] as Record<string, boolean | undefined> | undefined;
      return flags === undefined || Object.keys(flags).every((k) => set?.[k] === true);
    });
  });
}
