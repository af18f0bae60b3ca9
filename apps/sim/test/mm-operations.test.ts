import { describe, expect, it } from 'vitest';
import { defaultMix, MM_OPERATIONS, type OpMix } from '../src/mm-operations.js';
import { DEFAULT_CONFIG, runScenario } from '../src/scenario.js';

/** The trace event each operation starts with (the primary's own label for it). */
const FIRST_EVENT: Record<keyof OpMix, RegExp> = {
  mmap: / mmap /,
  munmap: / munmap /,
  mprotect: / mprotect /,
  madvise: / madvise DONTNEED /,
  mremap: / mremap /,
  migrate: / migrate(_vma| \(rmap\)) /,
  clearRefs: / clear_refs soft-dirty /,
};

describe('the mm operation table', () => {
  it('is the default mix, by name and weight', () => {
    expect(DEFAULT_CONFIG.mix).toEqual(defaultMix());
    expect(Object.keys(defaultMix())).toEqual(MM_OPERATIONS.map((op) => op.name));
  });

  it.each(MM_OPERATIONS.map((op) => op.name))(
    'a mix of only %s runs that operation and no other',
    async (name) => {
      const mix = Object.fromEntries(MM_OPERATIONS.map((op) => [op.name, 0])) as OpMix;
      mix[name] = 1;
      const r = await runScenario({ seed: 3, ops: 1500, mix, fullTrace: true, end: 'exit' });
      expect(r.ok).toBe(true);
      const mmLines = r.log!.filter((l) => / mm +/.test(l));
      expect(mmLines.some((l) => FIRST_EVENT[name].test(l))).toBe(true);
      for (const [other, re] of Object.entries(FIRST_EVENT)) {
        // The restore step after an operation maps holes and mprotects back to read-write.
        if (other !== name && other !== 'mmap' && other !== 'mprotect')
          expect(mmLines.filter((l) => re.test(l))).toEqual([]);
      }
    },
  );
});
