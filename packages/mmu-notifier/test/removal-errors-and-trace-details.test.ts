import { describe, expect, it } from 'vitest';
import { type MmuNotifierTraceEvent, SubscriptionRemovedError } from '../src/index.js';
import { makeSubs, range, recordingOps } from './helpers.js';

describe('a removed subscription', () => {
  it('names the method called on it', async () => {
    const { subs } = makeSubs();
    const sub = subs.insertInterval(0, 10, recordingOps([]));
    await sub.remove();
    await expect(sub.readBegin()).rejects.toThrow(
      new SubscriptionRemovedError('IntervalNotifier.readBegin(): the subscription was removed'),
    );
    expect(() => sub.tryReadBegin()).toThrow(
      new SubscriptionRemovedError('IntervalNotifier.tryReadBegin(): the subscription was removed'),
    );
    await expect(sub.remove()).rejects.toThrow(
      new SubscriptionRemovedError('IntervalNotifier.remove(): the subscription was removed'),
    );
  });
});

describe('trace event details', () => {
  it('says why a caller waits and how each removal was done', async () => {
    const events: MmuNotifierTraceEvent[] = [];
    const { subs } = makeSubs({ tracer: (e) => events.push(e) });
    const now = subs.insertInterval(20, 30, recordingOps([]));
    await now.remove();
    const sub = subs.insertInterval(0, 10, recordingOps([]));
    const r = range(0, 10);
    subs.invalidateRangeStartNonblock(r);
    const cancelled = subs.insertInterval(40, 50, recordingOps([]));
    const cancelling = cancelled.remove();
    const late = subs.insertInterval(0, 5, recordingOps([]));
    const read = late.readBegin();
    const removal = sub.remove();
    subs.invalidateRangeEnd(r);
    await Promise.all([read, removal, cancelling]);
    const details = events
      .filter((e) => e.type === 'wait' || e.type === 'remove')
      .map((e) => ('reason' in e ? `wait ${e.reason}` : `remove ${(e as { how: string }).how}`));
    expect(details).toEqual([
      'remove now',
      'remove cancelled',
      'wait readBegin',
      'remove deferred',
      'wait remove',
    ]);
  });
});
