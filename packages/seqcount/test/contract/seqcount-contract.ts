import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NestedWriteError, UnmatchedWriteEndError } from '../../src/errors.js';

/** What SeqCount and SharedSeqCount have in common (the shared test suite runs against it). */
export interface SeqCountLike {
  readonly sequence: number;
  readonly writing: boolean;
  rawRead(): number;
  rawBegin(): number;
  readBeginWait(): Promise<number>;
  readRetry(start: number): boolean;
  writeBegin(): void;
  writeEnd(): void;
  invalidate(): void;
}

/** Lets queued tasks (including Atomics.waitAsync wake-ups) run. */
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 5));

/**
 * The common seqcount contract, run against every implementation (the async-mutex habit of one
 * shared suite for several classes).
 */
export function describeSeqCountContract(name: string, make: () => SeqCountLike): void {
  describe(`${name}: common seqcount contract`, () => {
    it('starts at sequence 0 with no write in progress', () => {
      const seq = make();
      expect(seq.sequence).toBe(0);
      expect(seq.writing).toBe(false);
      expect(seq.rawBegin()).toBe(0);
      expect(seq.readRetry(0)).toBe(false);
    });

    it('makes the sequence odd inside a write section and even (+2) after it', () => {
      const seq = make();
      seq.writeBegin();
      expect(seq.sequence).toBe(1);
      expect(seq.writing).toBe(true);
      expect(seq.rawRead()).toBe(1);
      seq.writeEnd();
      expect(seq.sequence).toBe(2);
      expect(seq.writing).toBe(false);
    });

    it('fails a read that overlaps a write, both during and after the write', () => {
      const seq = make();
      const start = seq.rawBegin();
      seq.writeBegin();
      expect(seq.readRetry(start)).toBe(true);
      seq.writeEnd();
      expect(seq.readRetry(start)).toBe(true);
      expect(seq.readRetry(seq.rawBegin())).toBe(false);
    });

    it('returns sequence - 1 from rawBegin() during a write, which never validates', () => {
      const seq = make();
      seq.writeBegin();
      const start = seq.rawBegin();
      expect(start).toBe(0);
      expect(seq.readRetry(start)).toBe(true);
      seq.writeEnd();
      expect(seq.readRetry(start)).toBe(true);
    });

    it('invalidate() adds 2 without an odd phase and fails every open read', () => {
      const seq = make();
      const start = seq.rawBegin();
      seq.invalidate();
      expect(seq.sequence).toBe(2);
      expect(seq.writing).toBe(false);
      expect(seq.readRetry(start)).toBe(true);
      seq.writeBegin();
      seq.invalidate();
      expect(seq.sequence).toBe(5);
      expect(seq.writing).toBe(true);
    });

    it('throws NestedWriteError on a nested writeBegin() and leaves the sequence unchanged', () => {
      const seq = make();
      seq.writeBegin();
      expect(() => seq.writeBegin()).toThrow(NestedWriteError);
      expect(() => seq.writeBegin()).toThrow(/already open/);
      expect(seq.sequence).toBe(1);
      seq.writeEnd();
      expect(seq.sequence).toBe(2);
    });

    it('throws UnmatchedWriteEndError on writeEnd() without writeBegin(), sequence unchanged', () => {
      const seq = make();
      expect(() => seq.writeEnd()).toThrow(UnmatchedWriteEndError);
      seq.writeBegin();
      seq.writeEnd();
      expect(() => seq.writeEnd()).toThrow(/no write section is open/);
      expect(seq.sequence).toBe(2);
    });

    it('readBeginWait() resolves at once to the even sequence when no write is open', async () => {
      const seq = make();
      seq.invalidate();
      await expect(seq.readBeginWait()).resolves.toBe(2);
    });

    it('readBeginWait() waits for writeEnd(), and keeps waiting if a new write opens first', async () => {
      const seq = make();
      seq.writeBegin();
      let resolved: number | undefined;
      const waiting = seq.readBeginWait().then((s) => {
        resolved = s;
      });
      await settle();
      expect(resolved).toBeUndefined();
      seq.writeEnd();
      seq.writeBegin(); // synchronously re-opened: the waiter must not see an odd value
      await settle();
      expect(resolved).toBeUndefined();
      seq.writeEnd();
      await waiting;
      expect(resolved).toBe(4);
    });

    it('matches a counter model over any sequence of operations', () => {
      type Op = 'begin' | 'end' | 'invalidate' | 'read';
      const op = fc.constantFrom<Op>('begin', 'end', 'invalidate', 'read');
      fc.assert(
        fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
          const seq = make();
          let model = 0;
          const openReads: number[] = [];
          for (const o of ops) {
            if (o === 'begin') {
              if (model % 2 === 1) expect(() => seq.writeBegin()).toThrow(NestedWriteError);
              else {
                seq.writeBegin();
                model += 1;
              }
            } else if (o === 'end') {
              if (model % 2 === 0) expect(() => seq.writeEnd()).toThrow(UnmatchedWriteEndError);
              else {
                seq.writeEnd();
                model += 1;
              }
            } else if (o === 'invalidate') {
              seq.invalidate();
              model += 2;
            } else {
              openReads.push(seq.rawBegin());
            }
            expect(seq.sequence).toBe(model);
            expect(seq.writing).toBe(model % 2 === 1);
            for (const start of openReads) {
              // A read validates iff it began while even and nothing happened since.
              expect(seq.readRetry(start)).toBe(start !== model);
            }
          }
        }),
        { numRuns: 200 },
      );
    });
  });
}
