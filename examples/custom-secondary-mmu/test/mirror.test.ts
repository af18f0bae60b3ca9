import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as tutorial from '../mirror.js';

type Tutorial = typeof tutorial;

/** Mulberry32: a small seeded PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PAGES = 8;

/**
 * One seeded run: 4 tasks fault device pages and map, unmap, migrate and write-protect the
 * primary's, with a seeded number of turns at every lookup, so faults and invalidations
 * interleave differently per seed. The checker runs at every lookup and after every operation:
 * whenever no invalidation is active, each device entry must equal the primary's entry for that
 * page (a stale translation otherwise). Returns the number of stale observations.
 */
async function runSeed(mod: Tutorial, seed: number): Promise<{ stale: number; faults: number }> {
  const rand = prng(seed);
  let stale = 0;
  let faults = 0;
  let primary: tutorial.Primary;
  let device: tutorial.Device;
  const check = () => {
    if (primary.mm.activeInvalidateRanges !== 0) return;
    for (const [page, pte] of device.table) {
      const now = primary.table.get(page);
      if (now?.frame !== pte.frame || now.writable !== pte.writable) stale++;
    }
  };
  const sleep = async () => {
    check();
    const turns = Math.floor(rand() * 4);
    for (let i = 0; i < turns; i++) await Promise.resolve();
    if (rand() < 0.2) await new Promise(setImmediate);
  };
  primary = new mod.Primary(sleep);
  for (let page = 0; page < PAGES; page++) primary.map(page);
  device = new mod.Device(primary, 0, PAGES);
  const task = async () => {
    for (let i = 0; i < 40; i++) {
      const page = Math.floor(rand() * PAGES);
      const op = rand();
      if (op < 0.5) {
        await device.fault(page);
        faults++;
      } else if (op < 0.65) await primary.migrate(page);
      else if (op < 0.8) await primary.unmap(page);
      else if (op < 0.9) await primary.protect(page);
      else if (!primary.table.has(page)) primary.map(page); // a new mapping needs no invalidation
      check();
    }
  };
  await Promise.all([task(), task(), task(), task()]);
  check();
  await device.close();
  expect(device.table.size).toBe(0);
  return { stale, faults };
}

async function explore(mod: Tutorial, seeds: number) {
  let stale = 0;
  let faults = 0;
  for (let seed = 1; seed <= seeds; seed++) {
    const r = await runSeed(mod, seed);
    stale += r.stale;
    faults += r.faults;
  }
  return { stale, faults };
}

const mutantPath = join(import.meta.dirname, '..', 'mirror.no-retry.ts');
afterAll(() => rmSync(mutantPath, { force: true }));

describe('the tutorial secondary MMU', () => {
  it('keeps no stale translation over 200 seeds', async () => {
    const { stale, faults } = await explore(tutorial, 200);
    expect(faults).toBeGreaterThan(5000);
    expect(stale).toBe(0);
  });

  it('negative control: the same program with the retry check removed is caught', async () => {
    const source = readFileSync(join(import.meta.dirname, '..', 'mirror.ts'), 'utf8');
    const needle = 'subscription: this.sub,';
    expect(source).toContain(needle);
    // A subscription whose readRetry never reports a collision: the fault installs what it
    // resolved even when an invalidation ran in between.
    const mutant = source.replace(
      needle,
      'subscription: { readBegin: () => this.sub.readBegin(), readRetry: () => false },',
    );
    writeFileSync(mutantPath, mutant);
    const mod = (await import(/* @vite-ignore */ mutantPath)) as Tutorial;
    const { stale } = await explore(mod, 200);
    expect(stale).toBeGreaterThan(0);
  });

  it('main() runs the demo to completion', async () => {
    const log = console.log;
    const lines: unknown[][] = [];
    console.log = (...args: unknown[]) => lines.push(args);
    try {
      await tutorial.main();
    } finally {
      console.log = log;
    }
    expect(lines[0]?.[0]).toBe('device table');
  });
});
