import { describe, expect, it } from 'vitest';
import {
  DeferredList,
  DeferredListApplyError,
  DeferredListError,
  DeferredListUnderflowError,
} from '../src/index.js';

function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('the errors a caller sees', () => {
  it('names the type of a non-function apply in the TypeError, and says null for null', () => {
    expect(() => new DeferredList(null as never)).toThrow(
      new TypeError('DeferredList: apply must be a function, got null'),
    );
    expect(() => new DeferredList(42 as never)).toThrow(
      new TypeError('DeferredList: apply must be a function, got number'),
    );
    expect(() => new DeferredList({} as never)).toThrow(
      new TypeError('DeferredList: apply must be a function, got object'),
    );
  });

  it('gives the underflow error its own name', () => {
    const error = thrownBy(() => new DeferredList<number>(() => {}).exit());
    expect(error).toBeInstanceOf(DeferredListUnderflowError);
    expect((error as Error).name).toBe('DeferredListUnderflowError');
    expect(String(error)).toMatch(/^DeferredListUnderflowError: DeferredList\.exit\(\) called/);
  });

  it('counts one failed apply call in the singular', () => {
    const list = new DeferredList<number>(() => {
      throw new Error('boom');
    });
    const error = thrownBy(() => list.submit(1)) as DeferredListApplyError;
    expect(error).toBeInstanceOf(DeferredListApplyError);
    expect(error.name).toBe('DeferredListApplyError');
    expect(error.message).toBe(
      'DeferredList.submit(): 1 deferred apply call threw; every other item was applied (see .errors)',
    );
  });

  it('counts several failed apply calls in the plural', () => {
    const list = new DeferredList<number>((n) => {
      if (n !== 2) throw new Error(`boom ${n}`);
    });
    list.enter();
    list.submit(1);
    list.submit(2);
    list.submit(3);
    const error = thrownBy(() => list.exit()) as DeferredListApplyError;
    expect(error.message).toBe(
      'DeferredList.exit(): 2 deferred apply calls threw; every other item was applied (see .errors)',
    );
    expect(error.errors.map((e) => (e as Error).message)).toEqual(['boom 1', 'boom 3']);
  });
});

describe('error classes', () => {
  it('derive from DeferredListError, itself an Error', () => {
    for (const error of [
      new DeferredListUnderflowError(),
      new DeferredListApplyError('exit', [1]),
    ]) {
      expect(error).toBeInstanceOf(DeferredListError);
      expect(error).toBeInstanceOf(Error);
    }
    expect(new DeferredListError('x').name).toBe('DeferredListError');
    expect(new DeferredListApplyError('submit', [1, 2]).errors).toEqual([1, 2]);
  });
});
