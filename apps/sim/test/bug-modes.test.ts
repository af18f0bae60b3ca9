import { describe, expect, it } from 'vitest';
import { BUG_NAMES, bugsOf, modesOf } from '../src/bug-modes.js';
import { configFlags } from '../src/report.js';
import { DEFAULT_CONFIG } from '../src/scenario.js';

describe('bug modes', () => {
  it('each name maps to its flags and back; several merge per secondary', () => {
    for (const name of BUG_NAMES) expect(modesOf(bugsOf([name]))).toEqual([name]);
    expect(bugsOf(['kvm-no-retry', 'kvm-no-zap'])).toEqual({
      kvm: { skipRetry: true, skipZap: true },
    });
    expect(modesOf(bugsOf(['hmm-no-set-seq', 'kvm-no-zap']))).toEqual([
      'kvm-no-zap',
      'hmm-no-set-seq',
    ]);
    expect(modesOf({})).toEqual([]);
  });

  it('the replay flags name every planted bug', () => {
    const flags = configFlags({
      ...DEFAULT_CONFIG,
      bugs: bugsOf(['vhost-no-wait', 'hmm-no-read-retry']),
    });
    expect(flags).toMatch(/ --bug hmm-no-read-retry --bug vhost-no-wait$/);
  });
});
