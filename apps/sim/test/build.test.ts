import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('the built CLI', () => {
  it('runs from dist', () => {
    const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
    expect(execFileSync(process.execPath, [cli, '--help']).toString()).toContain('mmu-sim');
  });
});
