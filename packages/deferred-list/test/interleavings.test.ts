import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NaiveDeferredList } from '../bench/naive.js';
import { DeferredList, DeferredListApplyError } from '../src/index.js';
import { DrainsOnEveryExit, IgnoresCancel, LifoDeferredList } from './support/broken.js';
import { ModelDeferredList } from './support/model.js';

/** The surface the property drives; DeferredList, the model and the broken variants all have it. */
interface ListUnderTest<W> {
  readonly holders: number;
  readonly pending: number;
  enter(): void;
  exit(): void;
  submit(work: W): boolean;
  cancel(work: W): boolean;
  idle(): Promise<void>;
}
type Factory = (apply: (work: Item) => void) => ListUnderTest<Item>;

/**
 * A work item. `spawn` items submit one child item from inside apply (re-entrancy); `fail`
 * items make apply throw (after recording the item and submitting its child).
 */
interface Item {
  readonly id: string;
  readonly spawn: boolean;
  readonly fail: boolean;
}

type Op =
  | { kind: 'submit'; spawn: boolean; fail: boolean }
  | { kind: 'cancel'; pick: number }
  | { kind: 'idle' };
interface Session {
  held: boolean; // enter() before the ops and exit() after them
  ops: Op[];
}

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('submit'),
      spawn: fc.boolean(),
      fail: fc.nat(4).map((n) => n === 0), // one in five applies throws
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('cancel'), pick: fc.nat(50) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('idle') }) },
) as fc.Arbitrary<Op>;
/** Tasks of sessions; without `failures` no apply throws. */
function tasksArb(failures: boolean): fc.Arbitrary<Session[][]> {
  const op = failures ? opArb : opArb.map((o) => (o.kind === 'submit' ? { ...o, fail: false } : o));
  const session = fc.record({
    held: fc.nat(3).map((n) => n !== 0), // three in four sessions hold the list
    ops: fc.array(op, { maxLength: 4 }),
  });
  return fc.array(fc.array(session, { minLength: 1, maxLength: 3 }), {
    minLength: 1,
    maxLength: 4,
  });
}

/**
 * Several async tasks enter/exit/submit/cancel in an order picked by fast-check's scheduler.
 * The list under test and the reference model see the same operations in lockstep; checked:
 * - every submit/cancel returns what the model returns;
 * - a call that applied failing items (submit or the last exit) throws a DeferredListApplyError whose
 *   errors are exactly those items' errors, in apply order, and a call that applied none does
 *   not throw; the failures never stop the other items;
 * - apply is never called while a task is inside (counted by the test, not by the list);
 * - the applied sequence equals the model's: each non-cancelled item exactly once, in submit
 *   order, children (submitted from apply) after the work queued before them;
 * - at the end nothing is pending and every idle() promise has resolved.
 */
function interleavingProperty(factory: Factory, failures = true) {
  return fc.asyncProperty(fc.scheduler(), tasksArb(failures), async (s, tasks) => {
    let inside = 0; // the test's own holder count
    const real = { log: [] as string[], insideAtApply: [] as number[] };
    const model = { log: [] as string[] };
    const submitted: Item[] = [];
    const cancelled = new Set<string>();
    const idles: { done: boolean }[] = [];

    let failedInCall: string[] = []; // ids whose apply threw during the current list call

    const list: ListUnderTest<Item> = factory((item) => {
      real.log.push(item.id);
      real.insideAtApply.push(inside);
      if (item.spawn) list.submit({ id: `${item.id}c`, spawn: false, fail: false });
      if (item.fail) {
        failedInCall.push(item.id);
        throw new Error(item.id);
      }
    });
    const ref: ModelDeferredList<Item> = new ModelDeferredList<Item>((item) => {
      model.log.push(item.id);
      if (item.spawn) ref.submit({ id: `${item.id}c`, spawn: false, fail: false });
    });

    /** Runs a list call that may apply work; checks what it throws. Returns undefined if it threw. */
    const applying = <T>(label: string, call: () => T): T | undefined => {
      failedInCall = [];
      let result: T | undefined;
      let thrown: unknown;
      try {
        result = call();
      } catch (error) {
        thrown = error;
      }
      if (failedInCall.length === 0) {
        if (thrown !== undefined) throw thrown;
        return result;
      }
      if (!(thrown instanceof DeferredListApplyError))
        throw new Error(`${label}: apply errors not thrown`);
      const ids = thrown.errors.map((e) => (e as Error).message);
      if (ids.join() !== failedInCall.join()) throw new Error(`${label}: threw [${ids}]`);
      return undefined;
    };

    const step = (op: Op) => {
      if (op.kind === 'submit') {
        const item = { id: String(submitted.length), spawn: op.spawn, fail: op.fail };
        submitted.push(item);
        const queued = applying(`submit(${item.id})`, () => list.submit(item)) ?? false;
        if (queued !== ref.submit(item)) throw new Error(`submit(${item.id}) returned ${queued}`);
        if (queued !== inside > 0) throw new Error(`submit(${item.id}) queued=${queued}`);
      } else if (op.kind === 'cancel') {
        const item = submitted[op.pick % Math.max(1, submitted.length)];
        if (item === undefined) return;
        const dropped = list.cancel(item);
        if (dropped !== ref.cancel(item)) throw new Error(`cancel(${item.id}) returned ${dropped}`);
        if (dropped) cancelled.add(item.id);
      } else {
        const record = { done: false };
        idles.push(record);
        void list.idle().then(() => {
          record.done = true;
        });
      }
    };

    const runTask = async (sessions: Session[], t: number) => {
      for (const session of sessions) {
        if (session.held) {
          await s.schedule(Promise.resolve(), `t${t} enter`);
          inside++;
          list.enter();
          ref.enter();
        }
        for (const op of session.ops) {
          await s.schedule(Promise.resolve(), `t${t} ${op.kind}`);
          step(op);
        }
        if (session.held) {
          await s.schedule(Promise.resolve(), `t${t} exit`);
          inside--;
          applying('exit', () => list.exit());
          ref.exit();
        }
      }
    };

    await s.waitFor(Promise.all(tasks.map(runTask)));
    await Promise.resolve();
    await Promise.resolve();

    expect(
      real.insideAtApply.filter((n) => n !== 0),
      'applied while a holder was inside',
    ).toEqual([]);
    expect(real.log, 'applied sequence differs from the model').toEqual(model.log);
    // Independent of the model: the top-level items applied are exactly the non-cancelled
    // submissions, in submit order, each once; every spawned child once.
    const expectedTop = submitted.filter((it) => !cancelled.has(it.id)).map((it) => it.id);
    expect(
      real.log.filter((id) => !id.endsWith('c')),
      'top-level items',
    ).toEqual(expectedTop);
    const expectedChildren = submitted.filter((it) => it.spawn && !cancelled.has(it.id)).length;
    expect(real.log.filter((id) => id.endsWith('c'))).toHaveLength(expectedChildren);
    expect(list.holders).toBe(0);
    expect(list.pending).toBe(0);
    expect(idles.filter((r) => !r.done)).toEqual([]);
  });
}

const RUNS = 300;
const real: Factory = (apply) => new DeferredList(apply);

describe('DeferredList under explored interleavings of async holders', () => {
  it('applies each non-cancelled item once, FIFO, never while a holder is inside, losing none to errors', async () => {
    await fc.assert(interleavingProperty(real), { numRuns: RUNS });
  });
});

describe('negative controls: the same property rejects broken variants', () => {
  // Each variant must fail, and for the reason it was broken (the assertion that trips). The
  // ordering variants run without failing applies, so that nothing else trips first.
  it.each<[string, Factory, RegExp, boolean]>([
    [
      'drains on every exit instead of the last',
      (apply) => new DrainsOnEveryExit(apply),
      /applied while a holder was inside/,
      false,
    ],
    [
      'applies the queue LIFO',
      (apply) => new LifoDeferredList(apply),
      /differs from the model/,
      false,
    ],
    ['ignores cancel', (apply) => new IgnoresCancel(apply), /cancel\(\d+\) returned false/, false],
    [
      'lets an apply error escape the drain (the plain model)',
      (apply) => new ModelDeferredList(apply),
      /apply errors not thrown/,
      true,
    ],
    [
      'nests apply for work submitted during the drain (naive)',
      (apply) => new NaiveDeferredList(apply),
      /differs from the model/,
      false,
    ],
  ])('catches a list that %s', async (_, factory, reason, failures) => {
    const property = interleavingProperty(factory, failures);
    const result = await fc.check(property, { numRuns: RUNS, seed: 42 });
    expect(result.failed).toBe(true);
    expect(String(result.errorInstance)).toMatch(reason);
  });
});
