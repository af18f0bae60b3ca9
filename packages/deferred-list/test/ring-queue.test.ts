import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RingQueue } from '../src/ring-queue.js';

type Cmd = { kind: 'push'; value: number } | { kind: 'shift' } | { kind: 'remove'; value: number };

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('push' as const), value: fc.nat(9) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('shift' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('remove' as const), value: fc.nat(9) }) },
);

describe('RingQueue', () => {
  it('behaves like an array queue through growth, wrap-around and removals', () => {
    fc.assert(
      fc.property(fc.array(cmdArb, { maxLength: 200 }), (cmds) => {
        const q = new RingQueue<number>();
        const model: number[] = [];
        for (const cmd of cmds) {
          if (cmd.kind === 'push') {
            q.push(cmd.value);
            model.push(cmd.value);
          } else if (cmd.kind === 'shift') {
            if (model.length === 0) continue;
            expect(q.shift()).toBe(model.shift());
          } else {
            const i = model.indexOf(cmd.value);
            expect(q.removeFirst(cmd.value)).toBe(i !== -1);
            if (i !== -1) model.splice(i, 1);
          }
          expect(q.size).toBe(model.length);
          expect(q.toArray()).toEqual(model);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('grows in powers of two and never shrinks', () => {
    const q = new RingQueue<number>();
    expect(q.capacity).toBe(8);
    for (let i = 0; i < 9; i++) q.push(i);
    expect(q.capacity).toBe(16);
    while (q.size > 0) q.shift();
    expect(q.capacity).toBe(16);
  });

  it('does not keep shifted or removed items reachable', async () => {
    const gc = exposeGc();
    const q = new RingQueue<object>();
    const refs = ((): WeakRef<object>[] => {
      const shifted = { name: 'shifted' };
      const removed = { name: 'removed' };
      const kept = { name: 'kept' };
      q.push(shifted);
      q.push(removed);
      q.push(kept);
      q.shift();
      q.removeFirst(removed);
      return [new WeakRef(shifted), new WeakRef(removed), new WeakRef(kept)];
    })();
    // WeakRef targets stay alive until the current job ends: collect on a later macrotask.
    await new Promise((resolve) => setTimeout(resolve, 0));
    gc();
    const [shifted, removed, kept] = refs.map((r) => r.deref());
    expect(shifted).toBeUndefined();
    expect(removed).toBeUndefined();
    expect(kept).toEqual({ name: 'kept' }); // control: a queued item is still reachable
    expect(q.size).toBe(1);
  });
});

function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}
