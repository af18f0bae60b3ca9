import { type MmuNotifierRange, MmuNotifierSubscriptions } from '@mmukit/mmu-notifier';
import { Mutex } from '@mmukit/seqcount';
import { describe, expect, it, vi } from 'vitest';
import {
  InvalidationTracker,
  type KvmMemslot,
  type KvmNotifierOptions,
  type KvmNotifierRange,
  kvmNotifierOps,
  type UserLock,
} from '../src/index.js';

/**
 * kvmNotifierOps(): the classic notifier ops of a KVM-style secondary, following
 * kvm_mmu_notifier_invalidate_range_start/end: count every start, take the lock and begin() +
 * rangeAdd() + zap per overlapping memslot only when one overlaps, end() under the lock, drop
 * the count, wake a memslot change waiting for 0.
 */

// Two memslots: host pages [100, 110) -> gfns [0, 10), host pages [200, 204) -> gfns [50, 54).
const SLOTS: KvmMemslot[] = [
  { userspaceAddr: 100, baseGfn: 0, npages: 10 },
  { userspaceAddr: 200, baseGfn: 50, npages: 4 },
];

function setup(overrides: Partial<KvmNotifierOptions> = {}) {
  const tracker = new InvalidationTracker();
  const mutex = new Mutex();
  const zaps: Array<[number, number, boolean]> = [];
  const lock: UserLock = {
    tryLock: vi.fn(() => mutex.tryLock()),
    lock: vi.fn(() => mutex.lock()),
    unlock: vi.fn(() => mutex.unlock()),
  };
  const memslots = SLOTS.map((s) => ({ ...s }));
  const kvm = kvmNotifierOps({
    tracker,
    lock,
    memslots,
    zap: (s, e) => zaps.push([s, e, mutex.locked]),
    ...overrides,
  });
  const range = (start: number, end: number, blockable = true): KvmNotifierRange => ({
    start,
    end,
    blockable,
  });
  return { tracker, mutex, lock, zaps, memslots, kvm, range };
}

const state = (t: InvalidationTracker) => ({
  seq: t.seq,
  inProgress: t.inProgress,
  rangeStart: t.rangeStart,
  rangeEnd: t.rangeEnd,
});

describe('kvmNotifierOps: start and end', () => {
  it('a range inside one memslot: begin, rangeAdd of its gfns, zap under the lock; end: seq++', () => {
    const { tracker, mutex, zaps, kvm, range } = setup();
    const r = range(102, 105);
    expect(kvm.invalidateRangeStart(undefined, r)).toBe(true);
    expect(kvm.activeInvalidations).toBe(1);
    expect(state(tracker)).toEqual({ seq: 0, inProgress: 1, rangeStart: 2, rangeEnd: 5 });
    expect(zaps).toEqual([[2, 5, true]]);
    expect(mutex.locked).toBe(false);
    kvm.invalidateRangeEnd(undefined, r);
    expect(state(tracker)).toEqual({ seq: 1, inProgress: 0, rangeStart: 2, rangeEnd: 5 });
    expect(kvm.activeInvalidations).toBe(0);
    expect(mutex.locked).toBe(false);
  });

  it('a range over both memslots: one begin, rangeAdd + zap per slot (hull), one end', () => {
    const { tracker, zaps, kvm, range } = setup();
    const r = range(108, 202);
    kvm.invalidateRangeStart(undefined, r);
    expect(zaps).toEqual([
      [8, 10, true],
      [50, 52, true],
    ]);
    expect(state(tracker)).toEqual({ seq: 0, inProgress: 1, rangeStart: 8, rangeEnd: 52 });
    kvm.invalidateRangeEnd(undefined, r);
    expect(tracker.inProgress).toBe(0);
    expect(tracker.seq).toBe(1);
  });

  it('a range overlapping no memslot: counted, but no lock, no begin(), no zap (as KVM)', () => {
    const { tracker, lock, zaps, kvm, range } = setup();
    const r = range(0, 100);
    expect(kvm.invalidateRangeStart(undefined, r)).toBe(true);
    expect(kvm.activeInvalidations).toBe(1);
    kvm.invalidateRangeEnd(undefined, r);
    expect(kvm.activeInvalidations).toBe(0);
    expect(state(tracker)).toEqual({
      seq: 0,
      inProgress: 0,
      rangeStart: undefined,
      rangeEnd: undefined,
    });
    expect(zaps).toEqual([]);
    expect(lock.tryLock).not.toHaveBeenCalled();
  });

  it('pageSize: addresses in bytes; a partial page at either end covers its whole gfn', () => {
    const { tracker, zaps, kvm } = setup({
      pageSize: 4096,
      memslots: [{ userspaceAddr: 0x10000, baseGfn: 0x100, npages: 16 }],
    });
    kvm.invalidateRangeStart(undefined, { start: 0x10000 + 4095, end: 0x10000 + 8193 });
    expect(zaps).toEqual([[0x100, 0x103, true]]); // pages 0, 1 and 2 of the slot
    expect(tracker.rangeStart).toBe(0x100);
    expect(tracker.rangeEnd).toBe(0x103);
  });

  it('accepts a function returning the current memslots', () => {
    let slots: KvmMemslot[] = [];
    const { zaps, kvm, range } = setup({ memslots: () => slots });
    kvm.invalidateRangeStart(undefined, range(100, 101));
    expect(zaps).toEqual([]);
    slots = SLOTS;
    kvm.invalidateRangeStart(undefined, range(100, 101));
    expect(zaps).toEqual([[0, 1, true]]);
  });

  it('concurrent invalidations: in progress until the last end; each end bumps seq', () => {
    const { tracker, kvm, range } = setup();
    const a = range(100, 102);
    const b = range(203, 204);
    kvm.invalidateRangeStart(undefined, a);
    kvm.invalidateRangeStart(undefined, b);
    expect(state(tracker)).toEqual({ seq: 0, inProgress: 2, rangeStart: 0, rangeEnd: 54 });
    kvm.invalidateRangeEnd(undefined, a);
    expect(tracker.inProgress).toBe(1);
    kvm.invalidateRangeEnd(undefined, b);
    expect(state(tracker)).toMatchObject({ seq: 2, inProgress: 0 });
    expect(kvm.activeInvalidations).toBe(0);
  });

  it('the same range object started twice: each end pairs with one start', () => {
    const { tracker, kvm, range } = setup();
    const r = range(100, 101);
    kvm.invalidateRangeStart(undefined, r);
    kvm.invalidateRangeStart(undefined, r);
    kvm.invalidateRangeEnd(undefined, r);
    expect(tracker.inProgress).toBe(1);
    kvm.invalidateRangeEnd(undefined, r);
    expect(tracker.inProgress).toBe(0);
    expect(kvm.activeInvalidations).toBe(0);
  });
});

describe('kvmNotifierOps: the lock', () => {
  it('non-blockable and the lock is held: false (EAGAIN), nothing changed', async () => {
    const { tracker, mutex, zaps, kvm, range } = setup();
    await mutex.lock();
    const r = range(100, 101, false);
    expect(kvm.invalidateRangeStart(undefined, r)).toBe(false);
    expect(kvm.activeInvalidations).toBe(0);
    expect(tracker.inProgress).toBe(0);
    expect(zaps).toEqual([]);
    // The mmu-notifier core still calls the end of a subscriber whose start said EAGAIN (as the
    // kernel does): it changes nothing.
    kvm.invalidateRangeEnd(undefined, r);
    expect(state(tracker)).toMatchObject({ seq: 0, inProgress: 0 });
    expect(kvm.activeInvalidations).toBe(0);
    mutex.unlock();
  });

  it('an EAGAIN start of a range object that another start of it is still active for', async () => {
    const { tracker, mutex, kvm, range } = setup();
    const r = range(100, 101, true);
    kvm.invalidateRangeStart(undefined, r); // active
    await mutex.lock();
    r.blockable = false;
    expect(kvm.invalidateRangeStart(undefined, r)).toBe(false);
    kvm.invalidateRangeEnd(undefined, r); // the core's end after EAGAIN: consumes only that
    expect(tracker.inProgress).toBe(1);
    expect(kvm.activeInvalidations).toBe(1);
    mutex.unlock();
    kvm.invalidateRangeEnd(undefined, r);
    expect(tracker.inProgress).toBe(0);
    expect(tracker.seq).toBe(1);
  });

  it('blockable and the lock is held: waits in lock() (counted meanwhile), then begins', async () => {
    const { tracker, mutex, zaps, kvm, range } = setup();
    await mutex.lock();
    const r = range(100, 101);
    const started = kvm.invalidateRangeStart(undefined, r);
    expect(started).toBeInstanceOf(Promise);
    expect(kvm.activeInvalidations).toBe(1); // blocks memslot changes while it waits
    expect(tracker.inProgress).toBe(0);
    mutex.unlock();
    await expect(started).resolves.toBe(true);
    expect(tracker.inProgress).toBe(1);
    expect(zaps).toEqual([[0, 1, true]]);
    expect(mutex.locked).toBe(false);
  });

  it('a blocking lock (lock() returns undefined, held): the start stays synchronous', () => {
    let held = true;
    const lock: UserLock = {
      tryLock: () => {
        if (held) return false;
        held = true;
        return true;
      },
      lock: () => {
        held = true; // "blocked" until the other thread let go, now ours
      },
      unlock: () => {
        held = false;
      },
    };
    const { tracker, kvm, range } = setup({ lock });
    expect(kvm.invalidateRangeStart(undefined, range(100, 101))).toBe(true);
    expect(tracker.inProgress).toBe(1);
    expect(held).toBe(false);
  });

  it('an end with the lock held: end() runs when the lock is ours; counted until then', async () => {
    const { tracker, mutex, kvm, range } = setup();
    const r = range(100, 101);
    kvm.invalidateRangeStart(undefined, r);
    await mutex.lock(); // e.g. a fault checking under the lock
    kvm.invalidateRangeEnd(undefined, r); // synchronous: cannot wait
    expect(tracker.inProgress).toBe(1); // faults keep retrying meanwhile (safe)
    expect(kvm.activeInvalidations).toBe(1);
    const waited = kvm.waitForInvalidations(() => tracker.inProgress);
    mutex.unlock();
    await expect(waited).resolves.toBe(0); // the change ran after the end
    expect(tracker.seq).toBe(1);
    expect(mutex.locked).toBe(false);
  });

  it('a throwing zap: the start fails with that error, undone (begin + end), lock free', () => {
    const boom = new Error('zap');
    const { tracker, mutex, kvm, range } = setup({
      zap: () => {
        throw boom;
      },
    });
    const r = range(100, 101);
    expect(() => kvm.invalidateRangeStart(undefined, r)).toThrow(boom);
    expect(state(tracker)).toMatchObject({ seq: 1, inProgress: 0 });
    expect(kvm.activeInvalidations).toBe(0);
    expect(mutex.locked).toBe(false);
    kvm.invalidateRangeEnd(undefined, r); // the core would not call it; if called: nothing
    expect(tracker.inProgress).toBe(0);
  });

  it('a lock() that rejects: the start rejects, nothing counted', async () => {
    const boom = new Error('lock');
    const lock: UserLock = {
      tryLock: () => false,
      lock: () => Promise.reject(boom),
      unlock: () => {},
    };
    const { tracker, kvm, range } = setup({ lock });
    await expect(kvm.invalidateRangeStart(undefined, range(100, 101))).rejects.toBe(boom);
    expect(kvm.activeInvalidations).toBe(0);
    expect(tracker.inProgress).toBe(0);
  });

  it('an end whose start these ops never saw changes nothing', () => {
    const { tracker, kvm, range } = setup();
    kvm.invalidateRangeEnd(undefined, range(100, 101));
    expect(tracker.inProgress).toBe(0);
    expect(kvm.activeInvalidations).toBe(0);
  });
});

describe('kvmNotifierOps: waitForInvalidations (memslot changes)', () => {
  it('with nothing active: runs the change synchronously and resolves to its result', async () => {
    const { kvm } = setup();
    let ran = false;
    const p = kvm.waitForInvalidations(() => {
      ran = true;
      return 'swapped';
    });
    expect(ran).toBe(true);
    await expect(p).resolves.toBe('swapped');
    await expect(kvm.waitForInvalidations()).resolves.toBeUndefined();
  });

  it('waits for the count to reach 0; the change runs with the count at 0', async () => {
    const { kvm, memslots, range } = setup();
    const a = range(100, 101);
    const b = range(0, 1); // no memslot: counted all the same
    kvm.invalidateRangeStart(undefined, a);
    kvm.invalidateRangeStart(undefined, b);
    const seen: number[] = [];
    const change = kvm.waitForInvalidations(() => {
      seen.push(kvm.activeInvalidations);
      memslots.push({ userspaceAddr: 300, baseGfn: 90, npages: 1 });
    });
    kvm.invalidateRangeEnd(undefined, a);
    await Promise.resolve();
    expect(seen).toEqual([]);
    kvm.invalidateRangeEnd(undefined, b);
    await change;
    expect(seen).toEqual([0]);
    expect(memslots).toHaveLength(3);
  });

  it('a start while the change waits delays it (counted), as in KVM; it runs at the next 0', async () => {
    const { kvm, range } = setup();
    const a = range(100, 101);
    const b = range(101, 102);
    kvm.invalidateRangeStart(undefined, a);
    const order: string[] = [];
    const change = kvm.waitForInvalidations(() => order.push('change'));
    kvm.invalidateRangeStart(undefined, b); // new starts are not held back
    order.push('b started');
    kvm.invalidateRangeEnd(undefined, a);
    await new Promise((r) => setTimeout(r, 1));
    expect(order).toEqual(['b started']);
    kvm.invalidateRangeEnd(undefined, b);
    await change;
    expect(order).toEqual(['b started', 'change']);
  });

  it('a start in the same step as the last end: woken, sees the count up again, waits on', async () => {
    const { kvm, range } = setup();
    const a = range(100, 101);
    const b = range(102, 103);
    kvm.invalidateRangeStart(undefined, a);
    let ran = false;
    const change = kvm.waitForInvalidations(() => {
      ran = true;
    });
    kvm.invalidateRangeEnd(undefined, a); // count 0: the waiter is woken...
    kvm.invalidateRangeStart(undefined, b); // ...but before it runs, a new start counts
    await new Promise((r) => setTimeout(r, 1));
    expect(ran).toBe(false);
    kvm.invalidateRangeEnd(undefined, b);
    await change;
    expect(ran).toBe(true);
  });

  it('a change that throws rejects its promise; a non-function change is a TypeError', async () => {
    const { kvm } = setup();
    const boom = new Error('slot');
    await expect(
      kvm.waitForInvalidations(() => {
        throw boom;
      }),
    ).rejects.toBe(boom);
    await expect(kvm.waitForInvalidations(42 as never)).rejects.toThrow(TypeError);
  });
});

describe('kvmNotifierOps: bad input', () => {
  const badOptions: Array<[string, Record<string, unknown>, RegExp]> = [
    ['tracker missing', { tracker: undefined }, /tracker/],
    ['tracker without end', { tracker: { begin() {}, rangeAdd() {} } }, /tracker.end/],
    [
      'lock without tryLock',
      { lock: { lock() {}, unlock() {} } },
      /tryLock\(\), lock\(\) and unlock/,
    ],
    ['memslots a number', { memslots: 3 }, /memslots must be an iterable or a function/],
    ['zap missing', { zap: undefined }, /zap must be a function/],
    ['pageSize 0', { pageSize: 0 }, /pageSize/],
    ['pageSize 1.5', { pageSize: 1.5 }, /pageSize/],
  ];
  it.each(badOptions)('rejects %s', (_name, patch, message) => {
    const base = {
      tracker: new InvalidationTracker(),
      lock: new Mutex(),
      memslots: SLOTS,
      zap: () => {},
    };
    expect(() => kvmNotifierOps({ ...base, ...patch } as KvmNotifierOptions)).toThrow(message);
  });

  const badRanges: Array<[string, unknown, ErrorConstructor]> = [
    ['null', null, TypeError],
    ['start > end', { start: 5, end: 4 }, RangeError],
    ['empty', { start: 4, end: 4 }, RangeError],
    ['fractional', { start: 1.5, end: 4 }, RangeError],
    ['string end', { start: 1, end: '4' }, TypeError],
  ];
  it.each(badRanges)('start and end reject a range %s, nothing changed', (_name, r, type) => {
    const { tracker, kvm } = setup();
    expect(() => kvm.invalidateRangeStart(undefined, r as KvmNotifierRange)).toThrow(type);
    expect(() => kvm.invalidateRangeEnd(undefined, r as KvmNotifierRange)).toThrow(type);
    expect(kvm.activeInvalidations).toBe(0);
    expect(tracker.inProgress).toBe(0);
  });

  const badSlots: Array<[string, unknown, ErrorConstructor]> = [
    ['null', null, TypeError],
    ['npages 0', { userspaceAddr: 100, baseGfn: 0, npages: 0 }, RangeError],
    ['baseGfn -1', { userspaceAddr: 100, baseGfn: -1, npages: 1 }, RangeError],
    ['userspaceAddr "1"', { userspaceAddr: '1', baseGfn: 0, npages: 1 }, TypeError],
    ['past 2^53', { userspaceAddr: 2 ** 53 - 2, baseGfn: 0, npages: 4 }, RangeError],
  ];
  it.each(badSlots)('a start with a memslot %s throws, nothing changed', (_name, slot, type) => {
    const { tracker, lock, kvm, range } = setup({ memslots: [SLOTS[0]!, slot as KvmMemslot] });
    expect(() => kvm.invalidateRangeStart(undefined, range(100, 101))).toThrow(type);
    expect(kvm.activeInvalidations).toBe(0);
    expect(tracker.inProgress).toBe(0);
    expect(lock.tryLock).not.toHaveBeenCalled();
  });

  it('a userspaceAddr that is not page aligned is a RangeError', () => {
    const { kvm } = setup({
      pageSize: 16,
      memslots: [{ userspaceAddr: 8, baseGfn: 0, npages: 1 }],
    });
    expect(() => kvm.invalidateRangeStart(undefined, { start: 0, end: 100 })).toThrow(
      /not a multiple of the page size 16/,
    );
  });
});

describe('kvmNotifierOps registered with mmu-notifier', () => {
  function setupMm() {
    const warnings: string[] = [];
    const subs = new MmuNotifierSubscriptions({ onWarning: (m) => warnings.push(m) });
    const s = setup();
    subs.register(s.kvm); // structurally an MmuNotifierOps
    const range = (start: number, end: number): MmuNotifierRange => ({
      start,
      end,
      event: 'clear',
      blockable: true,
    });
    return { ...s, subs, warnings, mmRange: range };
  }

  it('a blockable invalidation through the core: begin/zap at start, end at end', async () => {
    const { tracker, zaps, kvm, subs, mmRange } = setupMm();
    const r = mmRange(103, 104);
    await subs.invalidateRangeStart(r);
    expect(state(tracker)).toMatchObject({ inProgress: 1, rangeStart: 3, rangeEnd: 4 });
    expect(zaps).toEqual([[3, 4, true]]);
    subs.invalidateRangeEnd(r);
    expect(state(tracker)).toMatchObject({ seq: 1, inProgress: 0 });
    expect(kvm.activeInvalidations).toBe(0);
  });

  it('a non-blockable invalidation while the lock is held: EAGAIN, tracker balanced', async () => {
    const { tracker, mutex, kvm, subs, warnings, mmRange } = setupMm();
    await mutex.lock();
    expect(subs.invalidateRangeStartNonblock(mmRange(103, 104))).toBe(false);
    // The core called our end after the EAGAIN (and warned that a subscriber that can fail its
    // start has an end, as the kernel does): it changed nothing.
    expect(warnings.join('\n')).toMatch(/EAGAIN/);
    expect(state(tracker)).toMatchObject({ seq: 0, inProgress: 0 });
    expect(kvm.activeInvalidations).toBe(0);
    mutex.unlock();
    const r = mmRange(103, 104);
    r.blockable = false;
    expect(subs.invalidateRangeStartNonblock(r)).toBe(true);
    subs.invalidateRangeEnd(r);
    expect(state(tracker)).toMatchObject({ seq: 1, inProgress: 0 });
  });
});
