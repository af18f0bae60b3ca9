import { describe, expect, it } from 'vitest';
import { SeqLock } from '../src/seqlock.js';

const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 1));

describe('SeqLock', () => {
  it('wraps a value: write() mutates it inside an odd section, read() returns a copy', async () => {
    const lock = new SeqLock({ x: 0, y: 0 });
    const seen: number[] = [];
    await lock.write((p) => {
      seen.push(lock.sequence);
      p.x = 1;
      p.y = 2;
    });
    expect(seen).toEqual([1]);
    expect(lock.sequence).toBe(2);
    await expect(lock.read((p) => p.x + p.y)).resolves.toBe(3);
  });

  it('guards external data when constructed without a value', async () => {
    const lock = new SeqLock();
    let external = 0;
    await lock.write(() => {
      external = 5;
    });
    await expect(lock.read(() => external)).resolves.toBe(5);
  });

  it('keeps the sequence odd while a writer awaits inside write(), and readers wait for it', async () => {
    const lock = new SeqLock({ v: 0 });
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const w = lock.write(async (d) => {
      d.v = 1;
      await gate;
      d.v = 2;
    });
    await settle();
    expect(lock.writing).toBe(true);
    expect(lock.sequence).toBe(1);
    let read: number | undefined;
    const r = lock
      .read((d) => d.v)
      .then((v) => {
        read = v;
      });
    await settle();
    expect(read).toBeUndefined();
    release();
    await Promise.all([w, r]);
    expect(read).toBe(2);
    expect(lock.sequence).toBe(2);
  });

  it('serializes writers in FIFO order', async () => {
    const lock = new SeqLock();
    const order: string[] = [];
    await Promise.all(
      ['a', 'b', 'c'].map((name) =>
        lock.write(async () => {
          order.push(`${name}+`);
          await settle();
          order.push(`${name}-`);
        }),
      ),
    );
    expect(order).toEqual(['a+', 'a-', 'b+', 'b-', 'c+', 'c-']);
    expect(lock.sequence).toBe(6);
  });

  it('falls back to the writer mutex after maxOptimisticReads failed attempts (no starvation)', async () => {
    const lock = new SeqLock({ v: 0 }, { maxOptimisticReads: 2 });
    let writes = 0;
    let stop = false;
    // A stream of writers: every optimistic read attempt (which awaits) overlaps one.
    const writer = (async () => {
      while (!stop) {
        await lock.write(async (d) => {
          d.v = ++writes;
          await settle();
        });
      }
    })();
    await settle();
    let calls = 0;
    const value = await lock.read(async (d) => {
      calls++;
      const v = d.v;
      await settle(); // a write always starts during this await
      return v;
    });
    stop = true;
    await writer;
    expect(calls).toBe(3); // 2 failed optimistic attempts + 1 locked attempt
    expect(value).toBeGreaterThan(0);
  });

  it('with maxOptimisticReads 0, every read takes the writer mutex', async () => {
    const lock = new SeqLock({ v: 1 }, { maxOptimisticReads: 0 });
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let wrote = false;
    const r = lock.read(async (d) => {
      await gate;
      return d.v;
    });
    const w = lock.write((d) => {
      d.v = 2;
      wrote = true;
    });
    await settle();
    expect(wrote).toBe(false); // the exclusive reader blocks the writer
    release();
    await expect(r).resolves.toBe(1);
    await w;
    expect(wrote).toBe(true);
  });

  it('retries a reader that throws on torn data, but rethrows an error from a consistent read', async () => {
    const lock = new SeqLock({ items: [1, 2, 3], n: 3 });
    let attempts = 0;
    let tornThrows = 0;
    const w = lock.write(async (d) => {
      d.n = 4; // n already says 4 ...
      await new Promise((r) => setTimeout(r, 20));
      d.items.push(4); // ... before the 4th item exists
    });
    // The reader begins before the writer's section opens, then reads n mid-write.
    const r = lock.read(async (d) => {
      attempts++;
      await settle();
      const n = d.n;
      if (d.items.length < n) {
        tornThrows++;
        throw new Error('index out of range');
      }
      return d.items[n - 1];
    });
    await w;
    await expect(r).resolves.toBe(4);
    expect(tornThrows).toBe(1);
    expect(attempts).toBe(2);
    await expect(
      lock.read(() => {
        throw new Error('bug in reader');
      }),
    ).rejects.toThrow('bug in reader');
  });

  it('closes the write section and releases the mutex when the writer throws', async () => {
    const lock = new SeqLock({ v: 0 });
    await expect(
      lock.write(() => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(lock.sequence).toBe(2);
    expect(lock.writing).toBe(false);
    await lock.write((d) => {
      d.v = 1;
    });
    expect(lock.sequence).toBe(4);
  });

  it('rejects a bad maxOptimisticReads with a RangeError', () => {
    expect(() => new SeqLock(undefined, { maxOptimisticReads: -1 })).toThrow(RangeError);
    expect(() => new SeqLock(undefined, { maxOptimisticReads: 1.5 })).toThrow(
      /non-negative safe integer/,
    );
    expect(() => new SeqLock(undefined, { maxOptimisticReads: Number.NaN })).toThrow(RangeError);
  });

  it('exposes readBegin/readRetry for synchronous hand-written read loops', async () => {
    const lock = new SeqLock();
    const start = lock.readBegin();
    expect(lock.readRetry(start)).toBe(false);
    await lock.write(() => {});
    expect(lock.readRetry(start)).toBe(true);
  });
});
