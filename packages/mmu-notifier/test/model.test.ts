import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type IntervalNotifier, MmuNotifierSubscriptions, REMOVED_SEQ } from '../src/index.js';

/**
 * Model-based test: random sequences of inserts, removes, non-blockable starts (some callbacks
 * answer EAGAIN) and ends, checked step by step against a direct transcription of the kernel's
 * algorithm (mm/mmu_notifier.c) over plain arrays: invalidate_seq, active count, every
 * subscription's seq and state, which callbacks ran in which order with which cur_seq, and what
 * tryReadBegin returns. The intended differences are modelled too: the deferred list's order is
 * FIFO, and a removed subscription's seq becomes REMOVED_SEQ (every earlier read retries).
 */
interface MSub {
  id: number;
  start: number;
  last: number;
  ok: boolean; // what its callback returns
  seq: number;
  state: 'pending-insert' | 'active' | 'pending-remove' | 'removed';
  treeOrder: number; // insertion order into the tree (equal starts keep it)
}

class Model {
  seq = 2;
  active = 0;
  subs: MSub[] = [];
  deferred: MSub[] = [];
  treeCounter = 0;
  open = 0; // successful starts not ended

  inTree(): MSub[] {
    return this.subs
      .filter((s) => s.state === 'active' || s.state === 'pending-remove')
      .sort((a, b) => a.start - b.start || a.treeOrder - b.treeOrder);
  }

  insert(id: number, start: number, last: number, ok: boolean): void {
    const s: MSub = { id, start, last, ok, seq: 0, state: 'active', treeOrder: 0 };
    this.subs.push(s);
    if (this.active !== 0) {
      if (this.seq % 2 === 1) {
        s.state = 'pending-insert';
        this.deferred.push(s);
      } else {
        this.seq += 1;
        s.treeOrder = this.treeCounter++;
      }
      s.seq = this.seq;
    } else {
      s.seq = this.seq - 1;
      s.treeOrder = this.treeCounter++;
    }
  }

  /** Returns false if remove() must reject (already removed or being removed). */
  remove(s: MSub): boolean {
    if (s.state === 'removed' || s.state === 'pending-remove') return false;
    if (this.seq % 2 === 1) {
      if (s.state === 'pending-insert') {
        this.deferred.splice(this.deferred.indexOf(s), 1);
        removed(s);
      } else {
        s.state = 'pending-remove';
        s.seq = REMOVED_SEQ; // not in the kernel: retired from the call on
        this.deferred.push(s);
      }
    } else {
      removed(s);
    }
    return true;
  }

  /** mn_itree_invalidate() for a non-blockable range; returns [ok, calls]. */
  start(start: number, end: number): [boolean, [number, number][]] {
    this.active++;
    const hits = this.inTree().filter((s) => s.start <= end - 1 && s.last >= start);
    if (hits.length !== 0 && this.seq % 2 === 0) this.seq += 1;
    const calls: [number, number][] = [];
    for (const s of hits) {
      calls.push([s.id, this.seq]);
      // The callback calls setSeq unconditionally; a retired subscription keeps REMOVED_SEQ.
      if (s.state !== 'pending-remove') s.seq = this.seq;
      if (!s.ok) {
        this.invEnd();
        return [false, calls];
      }
    }
    this.open++;
    return [true, calls];
  }

  end(): void {
    this.open--;
    this.invEnd();
  }

  invEnd(): void {
    if (--this.active !== 0 || this.seq % 2 === 0) return;
    this.seq += 1;
    for (const s of this.deferred) {
      if (s.state === 'pending-insert') {
        s.state = 'active';
        s.treeOrder = this.treeCounter++;
      } else if (s.state === 'pending-remove') {
        removed(s);
      }
    }
    this.deferred = [];
  }
}

/** Not in the kernel: once out, the subscription's seq never matches an earlier read. */
function removed(s: MSub): void {
  s.state = 'removed';
  s.seq = REMOVED_SEQ;
}

const opArb = fc.oneof(
  {
    arbitrary: fc.record({
      op: fc.constant('insert' as const),
      start: fc.nat(40),
      len: fc.integer({ min: 1, max: 12 }),
      ok: fc.integer({ min: 0, max: 4 }).map((x) => x !== 0), // mostly true
    }),
    weight: 3,
  },
  { arbitrary: fc.record({ op: fc.constant('remove' as const), pick: fc.nat() }), weight: 2 },
  {
    arbitrary: fc.record({
      op: fc.constant('start' as const),
      start: fc.nat(50),
      len: fc.integer({ min: 1, max: 15 }),
    }),
    weight: 3,
  },
  { arbitrary: fc.record({ op: fc.constant('end' as const) }), weight: 3 },
);

describe('model-based: the core follows the kernel algorithm step by step', () => {
  it('matches the model on random operation sequences', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 60 }), async (ops) => {
        const subs = new MmuNotifierSubscriptions({ onWarning: () => {} });
        const model = new Model();
        const real = new Map<number, IntervalNotifier>();
        const calls: [number, number][] = [];
        const ranges: { start: number; end: number; event: 'clear'; blockable: boolean }[] = [];
        let nextId = 0;
        for (const o of ops) {
          if (o.op === 'insert') {
            const id = nextId++;
            const ok = o.ok;
            const sub = subs.insertInterval(o.start, o.len, {
              invalidate(s, _r, cur) {
                calls.push([id, cur]);
                s.setSeq(cur);
                return ok;
              },
            });
            real.set(id, sub);
            model.insert(id, o.start, o.start + o.len - 1, ok);
          } else if (o.op === 'remove') {
            if (model.subs.length === 0) continue;
            const m = model.subs[o.pick % model.subs.length]!;
            const p = real.get(m.id)!.remove();
            let rejected = false;
            p.catch(() => {
              rejected = true;
            });
            const allowed = model.remove(m);
            // remove()'s checks and state changes happen before its first await.
            expect(real.get(m.id)!.state).toBe(m.state);
            await null; // lets the catch handler of an already rejected remove() run
            expect(rejected).toBe(!allowed);
          } else if (o.op === 'start') {
            const r = {
              start: o.start,
              end: o.start + o.len,
              event: 'clear' as const,
              blockable: false,
            };
            calls.length = 0;
            const ok = subs.invalidateRangeStartNonblock(r);
            const [mok, mcalls] = model.start(r.start, r.end);
            expect(ok).toBe(mok);
            expect(calls).toEqual(mcalls);
            if (ok) ranges.push(r);
          } else {
            const r = ranges.shift();
            if (r === undefined) {
              expect(() =>
                subs.invalidateRangeEnd({ start: 0, end: 1, event: 'clear', blockable: false }),
              ).toThrow();
              continue;
            }
            subs.invalidateRangeEnd(r);
            model.end();
          }
          expect(subs.invalidateSeq).toBe(model.seq);
          expect(subs.activeInvalidateRanges).toBe(model.active);
          expect(subs.pendingDeferred).toBe(model.deferred.length);
          expect([...subs.intervals()].map((s) => [...real].find(([, v]) => v === s)![0])).toEqual(
            model.inTree().map((s) => s.id),
          );
          for (const m of model.subs) {
            const s = real.get(m.id)!;
            expect(s.seq).toBe(m.seq);
            expect(s.state).toBe(m.state);
            if (m.state === 'active' || m.state === 'pending-insert') {
              expect(s.tryReadBegin()).toBe(m.seq === model.seq ? undefined : m.seq);
            }
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
