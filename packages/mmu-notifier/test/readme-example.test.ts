import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runExample } from '../examples/mirror.js';

describe('the README example', () => {
  it('runs and leaves only the mapping that is still valid', async () => {
    const device = await runExample();
    expect([...device]).toEqual([[0, 100]]);
  });

  it('is the same code as examples/mirror.ts', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const file = readFileSync(new URL('../examples/mirror.ts', import.meta.url), 'utf8');
    const block = readme.match(/```ts\n([\s\S]*?)```/)?.[1];
    expect(block).toBe(file);
  });
});
