import { describe, expect, it } from 'vitest';
import * as built from '../dist/index.js';

describe('the built package', () => {
  it('runs the collision-retry protocol from dist', async () => {
    const subs = new built.MmuNotifierSubscriptions();
    const sub = subs.insertInterval(0, 16, {
      invalidate(s, _range, curSeq) {
        s.setSeq(curSeq);
        return true;
      },
    });
    const seq = await sub.readBegin();
    const range: built.MmuNotifierRange = { start: 4, end: 8, event: 'clear', blockable: true };
    await subs.invalidateRangeStart(range);
    expect(subs.invalidateSeq).toBe(3);
    subs.invalidateRangeEnd(range);
    expect(sub.readRetry(seq)).toBe(true);
    expect(subs.invalidateSeq).toBe(4);
    expect(() => subs.invalidateRangeEnd(range)).toThrow(built.UnbalancedEndError);
    expect(new built.SetSeqError('x')).toBeInstanceOf(built.MmuNotifierError);
    expect(built.MMU_NOTIFIER_EVENTS).toHaveLength(8);
  });
});
