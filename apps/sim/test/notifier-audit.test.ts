import { type IntervalNotifier, MmuNotifierSubscriptions } from '@mmukit/mmu-notifier';
import { describe, expect, it } from 'vitest';
import { NotifierAudit } from '../src/notifier-audit.js';

/** An address space whose trace is audited; `failures` collects what the audit reported. */
function audited() {
  const failures: string[] = [];
  const subs = new MmuNotifierSubscriptions({ onWarning: () => {} });
  const audit = new NotifierAudit(subs, (message) => {
    failures.push(message);
    throw new Error(message);
  });
  subs.setTracer(audit.tracer);
  return { subs, audit, failures };
}

const setSeqOps = {
  invalidate: (sub: IntervalNotifier, _r: unknown, cur: number) => {
    sub.setSeq(cur);
    return true;
  },
};

describe('NotifierAudit', () => {
  it('finds nothing wrong in a real core: hits, misses, deferred inserts and removals, waits', async () => {
    const { subs, audit, failures } = audited();
    const a = subs.insertInterval(0, 4096, setSeqOps);
    const r1 = { start: 0, end: 4096, event: 'unmap' as const };
    await subs.invalidateRangeStart(r1);
    const b = subs.insertInterval(8192, 4096, setSeqOps); // deferred: invalidating
    const removal = a.remove(); // deferred too
    const reading = b.readBegin(); // inserted in this busy period: waits for its end
    expect(audit.readBeginWaits).toBe(1);
    const miss = { start: 1 << 20, end: (1 << 20) + 4096, event: 'clear' as const };
    await subs.invalidateRangeStart(miss);
    subs.invalidateRangeEnd(miss);
    subs.invalidateRangeEnd(r1); // wake: applies 2
    await removal;
    await reading;
    const r2 = { start: 8192, end: 12288, event: 'clear' as const };
    await subs.invalidateRangeStart(r2);
    const waiting = b.readBegin(); // invalidated in this busy period: waits
    expect(audit.readBeginWaits).toBe(2);
    subs.invalidateRangeEnd(r2);
    await waiting;
    const c = subs.insertInterval(0, 4096, setSeqOps); // idle: at once
    await c.remove();
    expect(failures).toEqual([]);
  });

  // Negative controls: events that do not match the core's state are reported.
  it.each([
    [
      'a start with the wrong curSeq',
      { type: 'start', range: { event: 'unmap' }, curSeq: 7, hit: false, active: 1 },
      /curSeq 7/,
    ],
    [
      'a start that hit with an even seq',
      { type: 'start', range: { event: 'unmap' }, curSeq: 2, hit: true, active: 1 },
      /even/,
    ],
    [
      'an invalidate without a start that hit',
      { type: 'invalidate', sub: {}, range: {}, curSeq: 2 },
      /hit nothing/,
    ],
    [
      'a wake that applied what was not deferred',
      { type: 'wake', invalidateSeq: 2, applied: 1 },
      /applied 1, 0/,
    ],
    [
      'an end with another seq',
      { type: 'end', range: {}, invalidateSeq: 4, active: 0 },
      /invalidateSeq 4/,
    ],
    [
      'a failed start without a cause',
      { type: 'start-failed', range: {}, eagain: false, errors: 0 },
      /neither EAGAIN nor an error/,
    ],
    [
      'a start with an unknown event',
      { type: 'start', range: { event: 'bogus' }, curSeq: 2, hit: false, active: 1 },
      /with the event bogus/,
    ],
    ['a wait with an even seq', { type: 'wait', sub: {}, reason: 'remove', seq: 2 }, /for seq 2/],
  ] as const)('reports %s', (_name, event, message) => {
    const { audit, failures } = audited();
    expect(() => audit.tracer(event as never)).toThrow();
    expect(failures[0]).toMatch(message);
  });

  it('reports a removal traced as done at once while invalidating, and a wrong state', async () => {
    const { subs, audit, failures } = audited();
    const a = subs.insertInterval(0, 4096, setSeqOps);
    await subs.invalidateRangeStart({ start: 0, end: 4096, event: 'unmap' });
    expect(() =>
      audit.tracer({ type: 'remove', sub: a, how: 'now', invalidateSeq: subs.invalidateSeq }),
    ).toThrow();
    expect(failures[0]).toMatch(/now while invalidating/);
  });
});
