import { describe, expect, it } from 'vitest';
import { loadWords, SeqCount, SeqLock, SharedSeqLock, storeWords } from '../src/index.js';

describe('the README usage examples', () => {
  it('in one thread: SeqLock over a value, and the raw SeqCount loop', async () => {
    const range = new SeqLock({ start: 0, last: 0 });
    let midWrite: Promise<{ start: number; last: number }> | undefined;
    await range.write(async (r) => {
      r.start = 0x1000;
      midWrite = range.read((x) => ({ ...x })); // begins while the section is open
      await Promise.resolve();
      r.last = 0x1fff;
    });
    const copy = await range.read((r) => ({ ...r }));
    expect(copy).toEqual({ start: 0x1000, last: 0x1fff });
    await expect(midWrite).resolves.toEqual({ start: 0x1000, last: 0x1fff });

    const seq = new SeqCount();
    const page = { pfn: 7, writable: false };
    let start: number;
    let snapshot: typeof page;
    do {
      start = seq.readBegin();
      snapshot = { ...page };
    } while (seq.readRetry(start));
    expect(snapshot).toEqual({ pfn: 7, writable: false });
  });

  it('across threads: lock and record in one buffer (both halves in this thread)', async () => {
    const WORDS = 8;
    const sab = new SharedArrayBuffer(SharedSeqLock.BYTES + WORDS * 4);
    const lock = SharedSeqLock.from(sab);
    const rec = new Int32Array(sab, SharedSeqLock.BYTES, WORDS);
    await lock.writeAsync(() => storeWords(rec, 0, [1, 2, 3, 4, 5, 6, 7, 8]));
    const readerLock = SharedSeqLock.from(sab);
    const readerRec = new Int32Array(sab, SharedSeqLock.BYTES, 8);
    const out = new Int32Array(8);
    readerLock.read(() => loadWords(readerRec, 0, out));
    expect([...out]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});

describe('the README examples kept as files', () => {
  it.each(['shared-record.ts', 'grace-period.ts'])(
    'shows examples/%s as is (the consumer smoke test runs it from the tarball)',
    async (name) => {
      const { readFileSync } = await import('node:fs');
      const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
      const file = readFileSync(new URL(`../examples/${name}`, import.meta.url), 'utf8');
      const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
      expect(blocks).toContain(file);
    },
  );
});
