import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type IntervalNode, IntervalTree } from '../src/index.js';
import { interval, op, run } from './model.js';
import { Oracle } from './oracle.js';

describe('IntervalTree against a brute-force oracle', () => {
  it('matches the oracle and keeps its invariants over random operation sequences', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => run(ops)),
      { numRuns: 250 },
    );
  });

  it('matches the oracle on long insert-heavy then remove-heavy sequences', () => {
    const insertHeavy = fc.oneof(
      { weight: 6, arbitrary: interval.map((iv) => ({ kind: 'insert' as const, iv })) },
      { weight: 1, arbitrary: fc.nat().map((pick) => ({ kind: 'remove' as const, pick })) },
      {
        weight: 1,
        arbitrary: interval.map((iv) => ({ kind: 'query' as const, iv, stopAfter: 2 })),
      },
    );
    const removeHeavy = fc.oneof(
      { weight: 4, arbitrary: fc.nat().map((pick) => ({ kind: 'remove' as const, pick })) },
      { weight: 1, arbitrary: interval.map((iv) => ({ kind: 'insert' as const, iv })) },
      {
        weight: 1,
        arbitrary: interval.map((iv) => ({ kind: 'query' as const, iv, stopAfter: 0 })),
      },
    );
    fc.assert(
      fc.property(
        fc.array(insertHeavy, { minLength: 100, maxLength: 300 }),
        fc.array(removeHeavy, { minLength: 100, maxLength: 300 }),
        (a, b) => run([...a, ...b]),
      ),
      { numRuns: 25 },
    );
  });

  it('iterNext continues in order from any node, overlapping the query or not', () => {
    fc.assert(
      fc.property(fc.array(interval, { minLength: 1, maxLength: 60 }), interval, (ivs, q) => {
        const t = new IntervalTree<number>();
        const o = new Oracle();
        for (const [i, [s, l]] of ivs.entries()) o.add(s, l, t.insert(s, l, i));
        const order = o.all();
        const want = o.overlaps(q[0], q[1]);
        for (let i = 0; i < order.length; i++) {
          const after = order.slice(i + 1).filter((n) => want.includes(n));
          expect(t.iterNext(order[i]!, q[0], q[1])).toBe(after[0]);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('interleaved iterFirst/iterNext walks (which defeat the cursor) still match the oracle', () => {
    fc.assert(
      fc.property(
        fc.array(interval, { minLength: 1, maxLength: 80 }),
        fc.array(interval, { minLength: 2, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 200 }),
        (ivs, queries, schedule) => {
          const t = new IntervalTree<number>();
          const o = new Oracle();
          for (const [i, [s, l]] of ivs.entries()) o.add(s, l, t.insert(s, l, i));
          // One walk per query, advanced in the order `schedule` picks.
          const walks = queries.map(([s, l]) => ({
            s,
            l,
            at: t.iterFirst(s, l),
            got: [] as unknown[],
          }));
          for (const w of walks) if (w.at) w.got.push(w.at);
          for (const k of schedule) {
            const w = walks[k % walks.length]!;
            if (!w.at) continue;
            w.at = t.iterNext(w.at, w.s, w.l);
            if (w.at) w.got.push(w.at);
          }
          for (const w of walks) {
            while (w.at) {
              w.at = t.iterNext(w.at, w.s, w.l);
              if (w.at) w.got.push(w.at);
            }
            expect(w.got).toEqual(o.overlaps(w.s, w.l));
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('a forEachOverlap stopped with false continues with iterNext from the node it stopped at', () => {
    fc.assert(
      fc.property(
        fc.array(interval, { minLength: 1, maxLength: 80 }),
        interval,
        fc.nat({ max: 10 }),
        fc.boolean(),
        (ivs, [s, l], k, mutate) => {
          const t = new IntervalTree<number>();
          const o = new Oracle();
          for (const [i, [a, b]] of ivs.entries()) o.add(a, b, t.insert(a, b, i));
          const want = o.overlaps(s, l);
          let stop: IntervalNode<number> | undefined;
          let seen = 0;
          t.forEachOverlap(s, l, (n) => {
            if (seen++ < k) return undefined;
            stop = n;
            // A callback may change the tree if it stops the walk; the cursor must not survive:
            // remove the node the walk would visit next (a stale walk would still return it)
            // and add one it would have to find.
            if (mutate) {
              const next = want[want.indexOf(n) + 1];
              if (next) {
                t.remove(next);
                o.delete(next);
              }
              o.add(s, l, t.insert(s, l, -1));
            }
            return false;
          });
          if (stop === undefined) return;
          const rest: IntervalNode<number>[] = [];
          for (let n = t.iterNext(stop, s, l); n; n = t.iterNext(n, s, l)) rest.push(n);
          const all = o.overlaps(s, l);
          expect(rest).toEqual(all.slice(all.indexOf(stop) + 1));
          if (!mutate) expect(all).toEqual(want);
        },
      ),
      { numRuns: 200 },
    );
  });
});
