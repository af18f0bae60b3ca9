import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeqCount } from '../src/seqcount.js';
import { SeqLock } from '../src/seqlock.js';

/**
 * A three-field record written by async writers that await between field writes. A consistent
 * state has a === b === c; anything else is a torn record.
 */
interface Rec {
  a: number;
  b: number;
  c: number;
}
const isTorn = (r: Rec) => r.a !== r.b || r.b !== r.c;

type Tick = () => Promise<unknown>;

async function writeRecord(rec: Rec, value: number, tick: Tick): Promise<void> {
  rec.a = value;
  await tick();
  rec.b = value;
  await tick();
  rec.c = value;
}

async function readFields(rec: Rec, tick: Tick): Promise<Rec> {
  const a = rec.a;
  await tick();
  const b = rec.b;
  await tick();
  const c = rec.c;
  return { a, b, c };
}

/**
 * The reader loop under test: readBegin / copy / readRetry, at most `maxTries` times.
 * `checkRetry: false` is the broken variant used as the negative control.
 */
async function seqReader(
  seq: SeqCount,
  rec: Rec,
  tick: Tick,
  checkRetry: boolean,
  maxTries = 8,
): Promise<Rec | undefined> {
  for (let i = 0; i < maxTries; i++) {
    const start = seq.readBegin();
    const copy = await readFields(rec, tick);
    if (!checkRetry || !seq.readRetry(start)) return copy;
    await tick();
  }
  return undefined;
}

/** Two serialized async writers and two readers, all interleaved by fast-check's scheduler. */
function seqCountProperty(checkRetry: boolean, stats = { returned: 0 }) {
  return fc.asyncProperty(fc.scheduler(), async (s) => {
    const tick: Tick = () => s.schedule(Promise.resolve());
    const rec: Rec = { a: 0, b: 0, c: 0 };
    const seq = new SeqCount();
    const lock = new SeqLock(); // only its write() serialization is used here
    const writer = (v: number) =>
      lock.write(async () => {
        seq.writeBegin();
        try {
          await writeRecord(rec, v, tick);
        } finally {
          seq.writeEnd();
        }
      });
    const tasks = Promise.all([
      writer(1),
      seqReader(seq, rec, tick, checkRetry),
      writer(2),
      seqReader(seq, rec, tick, checkRetry),
    ]);
    const [, r1, , r2] = await s.waitFor(tasks);
    for (const r of [r1, r2]) {
      if (r === undefined) continue;
      stats.returned++;
      if (isTorn(r)) throw new Error(`torn read ${JSON.stringify(r)}`);
    }
  });
}

describe('interleavings of async writers and readers (fast-check scheduler)', () => {
  it('never returns a torn record from a readBegin/readRetry loop', async () => {
    const stats = { returned: 0 };
    await fc.assert(seqCountProperty(true, stats), { numRuns: 300 });
    expect(stats.returned).toBeGreaterThan(300); // most readers do complete a read
  });

  it('negative control: the same reader without readRetry is caught returning a torn record', async () => {
    const out = await fc.check(seqCountProperty(false), { numRuns: 300 });
    expect(out.failed).toBe(true);
  });

  it('SeqLock.read() of an async reader never returns a torn record, and always completes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.integer({ min: 0, max: 3 }),
        async (s, maxOptimisticReads) => {
          const tick: Tick = () => s.schedule(Promise.resolve());
          const lock = new SeqLock<Rec>({ a: 0, b: 0, c: 0 }, { maxOptimisticReads });
          const results = await s.waitFor(
            Promise.all([
              lock.write((r) => writeRecord(r, 1, tick)),
              lock.read((r) => readFields(r, tick)),
              lock.write((r) => writeRecord(r, 2, tick)),
              lock.read((r) => readFields(r, tick)),
              lock.write((r) => writeRecord(r, 3, tick)),
            ]),
          );
          for (const r of [results[1], results[3]]) expect(isTorn(r)).toBe(false);
          expect(lock.writing).toBe(false);
          expect(lock.sequence).toBe(6);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('negative control: a reader that ignores the sequence sees torn SeqLock data', async () => {
    const out = await fc.check(
      fc.asyncProperty(fc.scheduler(), async (s) => {
        const tick: Tick = () => s.schedule(Promise.resolve());
        const lock = new SeqLock<Rec>({ a: 0, b: 0, c: 0 });
        const value: Rec = await lock.read((r) => r); // the guarded object itself
        const [, r] = await s.waitFor(
          Promise.all([lock.write((w) => writeRecord(w, 1, tick)), readFields(value, tick)]),
        );
        expect(isTorn(r)).toBe(false);
      }),
      { numRuns: 300 },
    );
    expect(out.failed).toBe(true);
  });
});
