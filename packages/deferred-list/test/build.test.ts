import { describe, expect, it } from 'vitest';
import { DeferredList, DeferredListApplyError, DeferredListUnderflowError } from '../dist/index.js';

describe('the built package', () => {
  it('queues work while held and applies it FIFO at the last exit', async () => {
    const applied: string[] = [];
    const list = new DeferredList<string>((w) => applied.push(w));
    expect(list.submit('now')).toBe(false);
    list.enter();
    list.enter();
    expect(list.submit('a')).toBe(true);
    expect(list.submit('b')).toBe(true);
    expect(list.submit('c')).toBe(true);
    expect(list.cancel('b')).toBe(true);
    const idle = list.idle();
    list.exit();
    expect(applied).toEqual(['now']);
    list.exit();
    expect(applied).toEqual(['now', 'a', 'c']);
    await idle;
    expect(list.holders).toBe(0);
    expect(list.pending).toBe(0);
  });

  it('exports the error classes used by the API', () => {
    const list = new DeferredList<number>(() => {
      throw new Error('boom');
    });
    expect(() => list.exit()).toThrow(DeferredListUnderflowError);
    expect(() => list.submit(1)).toThrow(DeferredListApplyError);
    expect(() => new DeferredList(42 as never)).toThrow(TypeError);
  });
});
