import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { main } from '../examples/plugin-registry.js';

describe('the README example (examples/plugin-registry.ts)', () => {
  it('runs: changes made mid-dispatch wait for the last dispatch, a queued add is cancelled', async () => {
    const lines: string[] = [];
    const names = await main((line) => lines.push(line));
    expect(lines).toEqual([
      'loader got boot',
      'loader got config',
      'audit got boot', // unregistered during 'boot', but the walk in progress is stable
      'audit got config',
      'after boot: loader, late', // 'short-lived' was cancelled before it was ever added
      'loader got tick',
      'late got tick',
    ]);
    expect(names).toEqual(['loader', 'late']);
  });

  it('is the code shown in the README, except for the import path', () => {
    const example = readFileSync(
      new URL('../examples/plugin-registry.ts', import.meta.url),
      'utf8',
    );
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const block = /## Usage[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    expect(block!.replace("from '@mmukit/deferred-list'", "from '../src/index.js'")).toBe(example);
  });
});
