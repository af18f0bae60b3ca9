import { describe, expect, it } from 'vitest';
import {
  DeferredList,
  DeferredListApplyError,
  DeferredListError,
  DeferredListUnderflowError,
} from '../src/index.js';

function recorder<W>() {
  const applied: W[] = [];
  const holdersSeen: number[] = [];
  const list: DeferredList<W> = new DeferredList<W>((w) => {
    applied.push(w);
    holdersSeen.push(list.holders);
  });
  return { list, applied, holdersSeen };
}

/** Runs `fn`, asserts that it threw a DeferredListApplyError, and returns that error. */
function applyErrorFrom(fn: () => unknown): DeferredListApplyError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(DeferredListApplyError);
  return caught as DeferredListApplyError;
}

describe('DeferredList basics', () => {
  it('applies at once and returns false when nobody holds it', () => {
    const { list, applied } = recorder<number>();
    expect(list.submit(1)).toBe(false);
    expect(applied).toEqual([1]);
    expect(list.pending).toBe(0);
  });

  it('exposes holders and pending as read-only', () => {
    const { list } = recorder<number>();
    expect(() => {
      (list as { holders: number }).holders = 5;
    }).toThrow(TypeError);
    expect(() => {
      (list as { pending: number }).pending = 5;
    }).toThrow(TypeError);
    expect(list.holders).toBe(0);
    expect(list.pending).toBe(0);
  });

  it('queues while held and returns true', () => {
    const { list, applied } = recorder<number>();
    list.enter();
    expect(list.holders).toBe(1);
    expect(list.submit(1)).toBe(true);
    expect(list.submit(2)).toBe(true);
    expect(applied).toEqual([]);
    expect(list.pending).toBe(2);
  });

  it('drains only at the last exit, in FIFO order, with no holder inside', () => {
    const { list, applied, holdersSeen } = recorder<number>();
    list.enter();
    list.enter();
    for (let i = 0; i < 20; i++) list.submit(i);
    list.exit();
    expect(applied).toEqual([]);
    expect(list.pending).toBe(20);
    list.exit();
    expect(applied).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(holdersSeen.every((h) => h === 0)).toBe(true);
    expect(list.pending).toBe(0);
    expect(list.holders).toBe(0);
  });

  it('applies each item once: a second busy period does not re-apply the first', () => {
    const { list, applied } = recorder<string>();
    list.enter();
    list.submit('a');
    list.exit();
    list.enter();
    list.submit('b');
    list.exit();
    expect(applied).toEqual(['a', 'b']);
  });

  it('keeps order across ring-buffer growth and wrap-around', () => {
    const { list, applied } = recorder<number>();
    let next = 0;
    const expected: number[] = [];
    for (let round = 0; round < 5; round++) {
      list.enter();
      const n = 3 + round * 7;
      for (let i = 0; i < n; i++) {
        expected.push(next);
        list.submit(next++);
      }
      list.exit();
    }
    expect(applied).toEqual(expected);
  });
});

describe('DeferredList.cancel', () => {
  it('drops a queued item and returns true', () => {
    const { list, applied } = recorder<string>();
    list.enter();
    list.submit('insert');
    expect(list.cancel('insert')).toBe(true);
    expect(list.pending).toBe(0);
    list.exit();
    expect(applied).toEqual([]);
  });

  it('returns false for an item that is not queued (never submitted or already applied)', () => {
    const { list } = recorder<string>();
    expect(list.cancel('x')).toBe(false);
    list.submit('y'); // applied at once
    expect(list.cancel('y')).toBe(false);
    list.enter();
    list.submit('z');
    expect(list.cancel('z')).toBe(true);
    expect(list.cancel('z')).toBe(false);
    list.exit();
  });

  it('cancels the oldest of duplicate items and leaves the later ones queued', () => {
    const { list, applied } = recorder<string>();
    list.enter();
    list.submit('a');
    list.submit('dup');
    list.submit('b');
    list.submit('dup');
    list.submit('c');
    expect(list.cancel('dup')).toBe(true);
    expect(list.pending).toBe(4);
    list.exit();
    expect(applied).toEqual(['a', 'b', 'dup', 'c']);
  });

  it('matches with SameValueZero: objects by identity, NaN equals NaN', () => {
    const { list, applied } = recorder<unknown>();
    const obj = { id: 1 };
    list.enter();
    list.submit(obj);
    list.submit(Number.NaN);
    list.submit(-0);
    expect(list.cancel({ id: 1 })).toBe(false);
    expect(list.cancel(Number.NaN)).toBe(true);
    expect(list.cancel(0)).toBe(true);
    list.exit();
    expect(applied).toEqual([obj]);
  });

  it('cannot cancel the item being applied right now', () => {
    const results: boolean[] = [];
    const list: DeferredList<string> = new DeferredList<string>((w) => {
      results.push(list.cancel(w));
    });
    list.enter();
    list.submit('a');
    list.exit();
    expect(results).toEqual([false]);
  });
});

describe('DeferredList.idle', () => {
  it('is already resolved when idle (continues on a microtask)', async () => {
    const { list } = recorder<number>();
    let resumed = false;
    const p = list.idle().then(() => {
      resumed = true;
    });
    expect(resumed).toBe(false); // never synchronous
    await p;
    expect(resumed).toBe(true);
  });

  it('resolves after the last exit has applied the queue', async () => {
    const { list, applied } = recorder<number>();
    list.enter();
    list.enter();
    list.submit(1);
    let seen: number[] | undefined;
    const p = list.idle().then(() => {
      seen = [...applied];
    });
    list.exit();
    await Promise.resolve();
    await Promise.resolve();
    expect(seen).toBeUndefined();
    list.exit();
    await p;
    expect(seen).toEqual([1]);
  });

  it('resolves at the last exit even when nothing was queued', async () => {
    const { list } = recorder<number>();
    list.enter();
    const p = list.idle();
    list.exit();
    await expect(p).resolves.toBeUndefined();
  });

  it('gives every caller of one busy period the same promise, and a new one for the next', () => {
    const { list } = recorder<number>();
    list.enter();
    const a = list.idle();
    expect(list.idle()).toBe(a);
    list.exit();
    list.enter();
    expect(list.idle()).not.toBe(a);
    list.exit();
  });

  it('does not resolve while a holder that entered inside apply is still inside', async () => {
    let entered = false;
    const list: DeferredList<string> = new DeferredList<string>((w) => {
      if (w === 'enter' && !entered) {
        entered = true;
        list.enter();
      }
    });
    list.enter();
    list.submit('enter');
    list.submit('later');
    const p = list.idle();
    let done = false;
    p.then(() => {
      done = true;
    });
    list.exit();
    await Promise.resolve();
    expect(done).toBe(false);
    expect(list.pending).toBe(1);
    list.exit();
    await p;
    expect(done).toBe(true);
  });

  it('never rejects when apply throws; the error goes to the exit() caller', async () => {
    const list = new DeferredList<number>(() => {
      throw new Error('boom');
    });
    list.enter();
    list.submit(1);
    const p = list.idle();
    expect(() => list.exit()).toThrow(DeferredListApplyError);
    await expect(p).resolves.toBeUndefined();
  });
});

describe('DeferredList errors', () => {
  it.each([
    ['undefined', undefined],
    ['null', null],
    ['a number', 1],
    ['an object', {}],
  ])('rejects %s as apply with a TypeError', (_, bad) => {
    expect(() => new DeferredList(bad as never)).toThrow(TypeError);
    expect(() => new DeferredList(bad as never)).toThrow(/apply must be a function/);
  });

  it('exit() without enter() throws DeferredListUnderflowError and changes nothing', async () => {
    const { list, applied } = recorder<number>();
    expect(() => list.exit()).toThrow(DeferredListUnderflowError);
    expect(() => list.exit()).toThrow(DeferredListError);
    expect(list.holders).toBe(0);
    expect(list.pending).toBe(0);
    // Still fully usable afterwards.
    list.enter();
    list.submit(1);
    list.exit();
    expect(() => list.exit()).toThrow(/without a matching enter/);
    expect(applied).toEqual([1]);
    await list.idle();
  });

  it('a throwing apply during the drain loses nothing and exit() throws them all', () => {
    const applied: number[] = [];
    const list = new DeferredList<number>((w) => {
      applied.push(w);
      if (w % 2 === 1) throw new Error(`odd ${w}`);
    });
    list.enter();
    for (let i = 0; i < 6; i++) list.submit(i);
    const caught = applyErrorFrom(() => list.exit());
    expect(caught).toBeInstanceOf(DeferredListError);
    const errors = caught.errors.map((e) => (e as Error).message);
    expect(errors).toEqual(['odd 1', 'odd 3', 'odd 5']);
    expect(applied).toEqual([0, 1, 2, 3, 4, 5]);
    expect(list.holders).toBe(0);
    expect(list.pending).toBe(0);
    // The list works normally afterwards.
    expect(list.submit(8)).toBe(false);
  });

  it('a throwing apply in submit() applies at once, then throws a DeferredListApplyError', () => {
    const thrown = new Error('nope');
    const list = new DeferredList<number>(() => {
      throw thrown;
    });
    const caught = applyErrorFrom(() => list.submit(1));
    expect(caught.errors).toEqual([thrown]);
    expect(list.holders).toBe(0);
    expect(list.pending).toBe(0);
  });

  it('submit() applying at once also applies and reports the work its apply submitted', () => {
    const applied: string[] = [];
    const list: DeferredList<string> = new DeferredList<string>((w) => {
      applied.push(w);
      if (w === 'outer') {
        list.submit('child-fails');
        list.submit('child-ok');
      }
      if (w.endsWith('fails')) throw new Error(w);
    });
    const caught = applyErrorFrom(() => list.submit('outer'));
    expect(caught.errors.map((e) => (e as Error).message)).toEqual(['child-fails']);
    expect(applied).toEqual(['outer', 'child-fails', 'child-ok']);
    expect(list.pending).toBe(0);
  });

  it('an apply that enters and then throws: the error is thrown, the rest waits for the holder', () => {
    const applied: string[] = [];
    const list: DeferredList<string> = new DeferredList<string>((w) => {
      applied.push(w);
      if (w === 'enters') {
        list.enter();
        throw new Error('after enter');
      }
    });
    list.enter();
    list.submit('enters');
    list.submit('rest');
    expect(() => list.exit()).toThrow(DeferredListApplyError);
    expect(applied).toEqual(['enters']);
    expect(list.holders).toBe(1);
    expect(list.pending).toBe(1);
    list.exit();
    expect(applied).toEqual(['enters', 'rest']);
  });

  it('keeps non-Error throw values in .errors', () => {
    const list = new DeferredList<number>((w) => {
      throw w;
    });
    list.enter();
    list.submit(7);
    list.submit(9);
    expect(() => list.exit()).toThrow(expect.objectContaining({ errors: [7, 9] }));
  });
});

describe('DeferredList re-entrancy (calls made from inside apply)', () => {
  it('submit from apply during a drain appends to the same drain (FIFO), never nests apply', () => {
    const applied: string[] = [];
    let depth = 0;
    let maxDepth = 0;
    const returns: boolean[] = [];
    const list: DeferredList<string> = new DeferredList<string>((w) => {
      depth++;
      maxDepth = Math.max(maxDepth, depth);
      applied.push(w);
      if (w === 'a') returns.push(list.submit('a-child'));
      depth--;
    });
    list.enter();
    list.submit('a');
    list.submit('b');
    list.exit();
    expect(applied).toEqual(['a', 'b', 'a-child']);
    expect(returns).toEqual([true]);
    expect(maxDepth).toBe(1);
    expect(list.pending).toBe(0);
  });

  it('submit from an apply-at-once queues and is applied before the outer submit returns', () => {
    const applied: string[] = [];
    let depth = 0;
    let maxDepth = 0;
    const list: DeferredList<string> = new DeferredList<string>((w) => {
      depth++;
      maxDepth = Math.max(maxDepth, depth);
      applied.push(w);
      if (w === 'outer') {
        expect(list.submit('inner-1')).toBe(true);
        expect(list.submit('inner-2')).toBe(true);
        expect(list.pending).toBe(2);
      }
      depth--;
    });
    expect(list.submit('outer')).toBe(false);
    expect(applied).toEqual(['outer', 'inner-1', 'inner-2']);
    expect(maxDepth).toBe(1);
  });

  it('enter from apply makes the later queued items wait for that holder', () => {
    const { applied, holdersSeen } = { applied: [] as string[], holdersSeen: [] as number[] };
    const list: DeferredList<string> = new DeferredList<string>((w) => {
      holdersSeen.push(list.holders);
      applied.push(w);
      if (w === 'opens') list.enter();
    });
    list.enter();
    list.submit('first');
    list.submit('opens');
    list.submit('third');
    list.exit();
    expect(applied).toEqual(['first', 'opens']);
    expect(list.holders).toBe(1);
    expect(list.pending).toBe(1);
    expect(list.submit('fourth')).toBe(true);
    list.exit();
    expect(applied).toEqual(['first', 'opens', 'third', 'fourth']);
    expect(holdersSeen.every((h) => h === 0)).toBe(true);
  });

  it('enter then exit inside one apply: the running drain just continues', () => {
    const applied: string[] = [];
    const list: DeferredList<string> = new DeferredList<string>((w) => {
      applied.push(w);
      if (w === 'walks') {
        list.enter();
        expect(list.submit('queued-by-walker')).toBe(true);
        list.exit(); // holders back to 0; does not start a nested drain
        expect(applied).toEqual(['walks']);
      }
    });
    list.enter();
    list.submit('walks');
    list.submit('next');
    list.exit();
    expect(applied).toEqual(['walks', 'next', 'queued-by-walker']);
  });

  it('exit from apply without a matching enter is an underflow, reported with the apply errors', () => {
    const applied: string[] = [];
    const list: DeferredList<string> = new DeferredList<string>((w) => {
      applied.push(w);
      if (w === 'bad') list.exit();
    });
    list.enter();
    list.submit('bad');
    list.submit('good');
    const caught = applyErrorFrom(() => list.exit());
    expect(caught.errors[0]).toBeInstanceOf(DeferredListUnderflowError);
    expect(applied).toEqual(['bad', 'good']);
    expect(list.holders).toBe(0);
    expect(list.pending).toBe(0);
  });

  it('cancel from apply removes a later queued item from the running drain', () => {
    const applied: string[] = [];
    const list: DeferredList<string> = new DeferredList<string>((w) => {
      applied.push(w);
      if (w === 'a') expect(list.cancel('c')).toBe(true);
    });
    list.enter();
    list.submit('a');
    list.submit('b');
    list.submit('c');
    list.submit('d');
    list.exit();
    expect(applied).toEqual(['a', 'b', 'd']);
  });

  it('idle() from inside apply is not yet resolved; it resolves when the drain ends', async () => {
    let p: Promise<void> | undefined;
    const list: DeferredList<string> = new DeferredList<string>(() => {
      p ??= list.idle();
    });
    let done = false;
    list.submit('x');
    expect(p).toBeDefined();
    await p!.then(() => {
      done = true;
    });
    expect(done).toBe(true);
  });
});
