import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

type Package = typeof import('../src/index.js');

const dirs: string[] = [];

/**
 * A deliberately broken copy of the package: src/ copied to a temporary directory with one edit,
 * `find` replaced by `replace` in `file`, then imported (vitest compiles it like src/). `find`
 * must occur exactly once in that file, so a control that no longer matches the source fails
 * loudly instead of testing an unbroken tree.
 */
export async function mutant(file: string, find: string, replace: string): Promise<Package> {
  const dir = mkdtempSync(join(tmpdir(), 'interval-tree-mutant-'));
  dirs.push(dir);
  cpSync(fileURLToPath(new URL('../src/', import.meta.url)), dir, { recursive: true });
  const path = join(dir, file);
  const text = readFileSync(path, 'utf8');
  const count = text.split(find).length - 1;
  if (count !== 1) {
    throw new Error(`mutant: expected ${JSON.stringify(find)} once in src/${file}, found ${count}`);
  }
  writeFileSync(path, text.replace(find, replace));
  return (await import(pathToFileURL(join(dir, 'index.ts')).href)) as Package;
}

/** Deletes the copies made by {@link mutant}. */
export function removeMutants(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}
