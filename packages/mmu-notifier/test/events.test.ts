import { describe, expect, it } from 'vitest';
import { isMmuNotifierEvent, MMU_NOTIFIER_EVENTS, type MmuNotifierEvent } from '../src/index.js';
import { makeSubs, recordingOps } from './helpers.js';

/** `enum mmu_notifier_event` of include/linux/mmu_notifier.h, in the kernel's order. */
const KERNEL_ORDER = [
  'unmap', // MMU_NOTIFY_UNMAP = 0
  'clear',
  'protection-vma',
  'protection-page',
  'soft-dirty',
  'release',
  'migrate',
  'exclusive',
];

describe('MMU_NOTIFIER_EVENTS', () => {
  it("lists every event once, in the kernel's enum order", () => {
    expect([...MMU_NOTIFIER_EVENTS]).toEqual(KERNEL_ORDER);
  });

  it('is frozen: a caller cannot add or change an event', () => {
    expect(Object.isFrozen(MMU_NOTIFIER_EVENTS)).toBe(true);
    const list = MMU_NOTIFIER_EVENTS as MmuNotifierEvent[];
    expect(() => list.push('unmap')).toThrow(TypeError);
    expect(() => {
      list[0] = 'clear';
    }).toThrow(TypeError);
    expect(MMU_NOTIFIER_EVENTS[0]).toBe('unmap');
    expect(MMU_NOTIFIER_EVENTS).toHaveLength(8);
  });
});

describe('isMmuNotifierEvent', () => {
  it.each(KERNEL_ORDER)('accepts %s', (event) => {
    expect(isMmuNotifierEvent(event)).toBe(true);
  });

  it.each([
    ['the empty string', ''],
    ['another spelling', 'Unmap'],
    ['the kernel constant', 'MMU_NOTIFY_UNMAP'],
    ['an underscore for the dash', 'soft_dirty'],
    ['the enum index', 0],
    ['undefined', undefined],
    ['null', null],
    ['a boxed event', new String('unmap')],
    ['the list itself', MMU_NOTIFIER_EVENTS],
  ])('rejects %s with false', (_name, value) => {
    expect(isMmuNotifierEvent(value)).toBe(false);
  });

  it('agrees with the list', () => {
    for (const event of MMU_NOTIFIER_EVENTS) expect(isMmuNotifierEvent(event)).toBe(true);
  });
});

describe('invalidations accept every event', () => {
  it.each(KERNEL_ORDER)('%s: the callback sees the event of the range', (event) => {
    const { subs, warnings } = makeSubs();
    const calls: Parameters<typeof recordingOps>[0] = [];
    subs.insertInterval(0, 10, recordingOps(calls));
    const r = { start: 0, end: 10, event: event as MmuNotifierEvent };
    expect(subs.invalidateRangeStartNonblock(r)).toBe(true);
    subs.invalidateRangeEnd(r);
    expect(calls.map((c) => c.event)).toEqual([event]);
    expect(warnings).toEqual([]);
  });
});
