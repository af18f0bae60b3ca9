import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { munmapOp } from '../src/primary/ops.js';
import { PageTable, type PageTableObserver, PTE_WRITE } from '../src/primary/page-table.js';
import { PROT_READ, PROT_WRITE } from '../src/primary/vmas.js';
import { makeWorld } from './world.js';

/** An observer that writes down what it hears. */
function recorder(): PageTableObserver & { heard: string[] } {
  const heard: string[] = [];
  return {
    heard,
    zeroed: (s, e) => heard.push(`zeroed ${s}-${e}`),
    moved: (f, t, n) => heard.push(`moved ${f}->${t} x${n}`),
    changed: (s, e) => heard.push(`changed ${s}-${e}`),
  };
}

describe('PageTable: every change reported through one hook', () => {
  it('refuses to take a mapping away outside an invalidation window, changing nothing', () => {
    const pt = new PageTable(16);
    pt.map(3, 7, PTE_WRITE);
    expect(() => pt.unmap(3)).toThrow(/\[3, 4\) changed outside an invalidation window/);
    expect(() => pt.protect(0, 16, PTE_WRITE, 0)).toThrow(/outside an invalidation window/);
    expect(() => pt.swapOut(3, 0)).toThrow(/outside/);
    expect(() => pt.replace(3, 8)).toThrow(/outside/);
    expect(() => pt.move(3, 10, 1)).toThrow(/outside/);
    expect([pt.frame[3], pt.flags[3], pt.frame[10]]).toEqual([7, PTE_WRITE, -1]);
    expect(() => pt.map(3, 9, 0)).toThrow(/page 3 is already mapped/);
  });

  it('reports contents at once and changed PTEs as one range when the window ends', () => {
    const pt = new PageTable(32);
    const obs = recorder();
    pt.observer = obs;
    pt.map(2, 1, PTE_WRITE);
    pt.map(5, 2, PTE_WRITE);
    pt.windows = 1;
    pt.unmap(2);
    pt.move(5, 20, 2);
    expect(obs.heard).toEqual(['zeroed 2-3', 'moved 5->20 x2']);
    pt.flush();
    expect(obs.heard.at(-1)).toBe('changed 2-22');
    pt.flush(); // nothing new
    expect(obs.heard).toHaveLength(3);
    expect([pt.frame[20], pt.frame[5], pt.frame[2]]).toEqual([2, -1, -1]);
  });

  it("munmap's zap reaches the checker through the hook at invalidate_range_end", async () => {
    const w = makeWorld({ pages: 256 });
    const obs = recorder();
    const checker = w.checker;
    w.mm.observe({
      zeroed: (s, e) => {
        obs.zeroed(s, e);
        checker.zeroed(s, e);
      },
      moved: obs.moved,
      changed: obs.changed,
      released: () => obs.heard.push('released'),
    });
    w.mm.vmas.insert(10, 20, PROT_READ | PROT_WRITE);
    await w.run(async (t) => {
      await w.mm.cpuAccess(t, 12, true);
      await munmapOp(w.mm, t, 10, 14);
    });
    expect(obs.heard).toEqual([
      'zeroed 10-11',
      'zeroed 11-12',
      'zeroed 12-13',
      'zeroed 13-14',
      'changed 10-14',
    ]);
    expect(w.mm.pt.windows).toBe(0);
  });

  it('no source file outside the page table writes its arrays', () => {
    const src = join(import.meta.dirname, '../src');
    const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter(
      (f) => f.endsWith('.ts') && !f.endsWith('page-table.ts'),
    );
    const write = /\bpt\.(frame|flags|swap)\[[^\]]*\]\s*(=[^=]|[|&+-]=)/;
    const offenders = files.filter((f) => write.test(readFileSync(join(src, f), 'utf8')));
    expect(files.length).toBeGreaterThan(20);
    expect(offenders).toEqual([]);
    // The pattern does catch such a write (so an empty list means something).
    expect(write.test('    mm.pt.frame[p] = -1;')).toBe(true);
    expect(write.test('    pt.flags[p] |= 4;')).toBe(true);
  });
});
