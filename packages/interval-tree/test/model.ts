/** The model-based property shared by the property tests and their negative controls. */
import fc from 'fast-check';
import { expect } from 'vitest';
import { type IntervalNode, IntervalTree } from '../src/index.js';
import { checkInvariants } from '../src/invariants.js';
import { Oracle } from './oracle.js';

const MAX = Number.MAX_SAFE_INTEGER;
const MIN = Number.MIN_SAFE_INTEGER;

/** Endpoints that collide often, plus huge values near +-2^53 and negatives. */
export const endpoint = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -12, max: 12 }) },
  { weight: 1, arbitrary: fc.integer({ min: MAX - 6, max: MAX }) },
  { weight: 1, arbitrary: fc.integer({ min: MIN, max: MIN + 6 }) },
  { weight: 1, arbitrary: fc.integer({ min: -(2 ** 40), max: 2 ** 40 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), 2 ** 32) },
);
/** A closed interval; a third of them zero-length [x, x]. */
export const interval = fc.oneof(
  fc.tuple(endpoint, endpoint).map(([a, b]) => (a <= b ? [a, b] : [b, a]) as [number, number]),
  endpoint.map((a) => [a, a] as [number, number]),
);

export type Op =
  | { kind: 'insert'; iv: [number, number] }
  | { kind: 'dup'; pick: number }
  | { kind: 'remove'; pick: number }
  | { kind: 'query'; iv: [number, number]; stopAfter: number };

export const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: interval.map((iv) => ({ kind: 'insert' as const, iv })) },
  { weight: 1, arbitrary: fc.nat().map((pick) => ({ kind: 'dup' as const, pick })) },
  { weight: 3, arbitrary: fc.nat().map((pick) => ({ kind: 'remove' as const, pick })) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(interval, fc.nat({ max: 6 }))
      .map(([iv, stopAfter]) => ({ kind: 'query' as const, iv, stopAfter })),
  },
);

/** Same nodes, same order (identity), without one expect() per element. */
function expectSameNodes(got: IntervalNode<number>[], want: IntervalNode<number>[]): void {
  if (got.length !== want.length || got.some((n, i) => n !== want[i])) {
    const show = (a: IntervalNode<number>[]) => a.map((n) => [n.start, n.last, n.value]);
    expect(show(got)).toEqual(show(want));
    expect.fail('same endpoints and values but different node objects');
  }
}

function viaIterNext(t: IntervalTree<number>, s: number, l: number): IntervalNode<number>[] {
  const out: IntervalNode<number>[] = [];
  for (let n = t.iterFirst(s, l); n !== undefined; n = t.iterNext(n, s, l)) out.push(n);
  return out;
}

function checkQuery(
  t: IntervalTree<number>,
  o: Oracle,
  s: number,
  l: number,
  stopAfter: number,
): void {
  const want = o.overlaps(s, l);
  expectSameNodes(viaIterNext(t, s, l), want);
  expectSameNodes([...t.overlaps(s, l)], want);
  const seen: IntervalNode<number>[] = [];
  const count = t.forEachOverlap(s, l, (n) => {
    seen.push(n);
  });
  expect(count).toBe(want.length);
  expectSameNodes(seen, want);
  // Early stop: return false on the stopAfter-th node (1-based); count includes that call.
  const early: IntervalNode<number>[] = [];
  const k = stopAfter + 1;
  const c2 = t.forEachOverlap(s, l, (n) => {
    early.push(n);
    return early.length === k ? false : undefined;
  });
  expect(c2).toBe(Math.min(k, want.length));
  expectSameNodes(early, want.slice(0, k));
  // The handle-free walk: the same hits, as endpoints and values.
  const entries: [number, number, number][] = [];
  const c3 = t.forEachOverlapValue(s, l, (start, last, value) => {
    entries.push([start, last, value]);
  });
  expect(c3).toBe(want.length);
  expect(entries).toEqual(want.map((n) => [n.start, n.last, n.value]));
  let c4 = 0;
  expect(t.forEachOverlapValue(s, l, () => (++c4 === k ? false : undefined))).toBe(
    Math.min(k, want.length),
  );
  // The first overlap alone.
  expect(t.iterFirst(s, l)).toBe(want[0]);
}

/**
 * Applies `ops` to a fresh tree from `make` and to the oracle, checking after every step: query
 * results and order through every walk, size, membership and the tree's internal invariants.
 */
export function run(ops: Op[], make: () => IntervalTree<number> = () => new IntervalTree()): void {
  const t = make();
  const o = new Oracle();
  const live: IntervalNode<number>[] = [];
  const removed: IntervalNode<number>[] = [];
  let nextValue = 0;
  for (const step of ops) {
    switch (step.kind) {
      case 'insert':
      case 'dup': {
        let iv = step.kind === 'insert' ? step.iv : undefined;
        if (step.kind === 'dup') {
          const src = live[step.pick % Math.max(1, live.length)];
          if (src === undefined) continue;
          iv = [src.start, src.last];
        }
        const [s, l] = iv!;
        const v = nextValue++;
        const n = t.insert(s, l, v);
        expect([n.start, n.last, n.value]).toEqual([s, l, v]);
        o.add(s, l, n);
        live.push(n);
        break;
      }
      case 'remove': {
        if (live.length === 0) continue;
        const i = step.pick % live.length;
        const n = live[i]!;
        const [s, l, v] = [n.start, n.last, n.value];
        t.remove(n);
        o.delete(n);
        live.splice(i, 1);
        removed.push(n);
        // The handle survives removal with its data, and is no longer a member.
        expect([n.start, n.last, n.value]).toEqual([s, l, v]);
        expect(t.has(n)).toBe(false);
        break;
      }
      case 'query':
        checkQuery(t, o, step.iv[0], step.iv[1], step.stopAfter);
        break;
    }
    checkInvariants(t);
    expect(t.size).toBe(live.length);
    expectSameNodes([...t], o.all());
    if (!live.every((n) => t.has(n))) expect.fail('a live node is not a member');
  }
  // Removed handles keep their endpoints even after their slots were reused.
  if (removed.some((n) => t.has(n))) expect.fail('a removed node is a member');
  // A whole-line query and a few probes at the end.
  checkQuery(t, o, MIN, MAX, 3);
  for (const e of o.entries.slice(0, 5)) checkQuery(t, o, e.start, e.start, 1);
}
