#!/usr/bin/env node
// Consumer smoke test: what a stranger gets from npm. Packs every publishable package, installs
// the tarballs with plain npm into a scratch project outside the workspace (plus whatever each
// README's Install section names), then compiles every `ts` code block of every package README
// and the tutorial with `tsc --strict` (module nodenext) and runs each one; finally require()s
// every package from a CommonJS file. Needs the packages built (`pnpm build`).
//
//   node scripts/consumer-smoke.mjs [--keep]    (--keep leaves the scratch project for a look)
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const keep = process.argv.includes('--keep');
const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const TYPESCRIPT = rootPkg.devDependencies.typescript;
const TYPES_NODE = rootPkg.devDependencies['@types/node'];
const TUTORIAL = join(root, 'examples', 'custom-secondary-mmu');

const run = (cmd, args, cwd, extra = {}) =>
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', ...extra });

/** The publishable packages: packages/* that are not private. */
function packages() {
  return readdirSync(join(root, 'packages'))
    .map((name) => join(root, 'packages', name))
    .filter((dir) => {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      return pkg.private !== true;
    });
}

/** The fenced blocks of `lang` in a Markdown file, in order. */
function blocks(markdown, lang) {
  const out = [];
  const re = new RegExp(`^\`\`\`${lang}\\n([\\s\\S]*?)^\`\`\`$`, 'gm');
  for (const m of markdown.matchAll(re)) out.push(m[1]);
  return out;
}

/** Package names from the `npm install ...` lines of the README's Install section. */
function installNames(markdown) {
  const section = markdown.split(/^## Install\n/m)[1]?.split(/^## /m)[0] ?? '';
  const names = [];
  for (const sh of blocks(section, 'sh')) {
    for (const line of sh.split('\n')) {
      const m = line.match(/^npm (?:install|i) (.+)$/);
      if (m) names.push(...m[1].split(/\s+/).filter((w) => !w.startsWith('-')));
    }
  }
  return names;
}

const dir = mkdtempSync(join(tmpdir(), 'mmukit-consumer-'));
let failures = 0;
let passed = 0;
try {
  // 1. Pack (pnpm rewrites workspace: ranges to versions), as `pnpm publish` would.
  const tarballs = join(dir, 'tarballs');
  mkdirSync(tarballs);
  const local = {};
  const peers = new Set();
  const sources = []; // [name, code]
  for (const pkgDir of packages()) {
    const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
    run('pnpm', ['pack', '--pack-destination', tarballs], pkgDir);
    const file = readdirSync(tarballs).find(
      (f) => f.startsWith(`${pkg.name.replace('@', '').replace('/', '-')}-`) && f.endsWith('.tgz'),
    );
    if (file === undefined) throw new Error(`no tarball for ${pkg.name}`);
    local[pkg.name] = `file:./tarballs/${file}`;
    const readme = readFileSync(join(pkgDir, 'README.md'), 'utf8');
    const names = installNames(readme);
    if (!names.includes(pkg.name)) {
      console.log(`FAIL ${pkg.name}: its README's Install section does not install it`);
      failures++;
    }
    for (const n of names) if (!n.startsWith('@mmukit/')) peers.add(n);
    blocks(readme, 'ts').forEach((code, i) => {
      sources.push([`${basename(pkgDir)}-readme-${i + 1}`, code]);
    });
  }
  // The tutorial, as its README tells a user to copy it.
  const tutorial = existsSync(TUTORIAL) ? readdirSync(TUTORIAL) : [];
  for (const f of tutorial.filter((f) => f.endsWith('.ts') && !/\.(test|config)\.ts$/.test(f))) {
    sources.push([`tutorial-${basename(f, '.ts')}`, readFileSync(join(TUTORIAL, f), 'utf8')]);
  }

  // 2. A scratch project outside the workspace: plain npm, tarballs only (overrides keep npm
  // from looking for our unpublished versions on the registry), plus the READMEs' peers.
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify(
      {
        name: 'mmukit-consumer',
        private: true,
        type: 'module',
        dependencies: { ...local, ...Object.fromEntries([...peers].map((p) => [p, 'latest'])) },
        devDependencies: { typescript: TYPESCRIPT, '@types/node': TYPES_NODE },
        overrides: local,
      },
      null,
      2,
    ),
  );
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], dir);

  // 3. Compile every block with --strict, module nodenext.
  mkdirSync(join(dir, 'src'));
  for (const [name, code] of sources) writeFileSync(join(dir, 'src', `${name}.ts`), code);
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        module: 'nodenext',
        moduleResolution: 'nodenext',
        target: 'es2022',
        outDir: 'dist',
        rootDir: 'src',
        types: ['node'],
        skipLibCheck: false,
      },
      include: ['src'],
    }),
  );
  try {
    run(join(dir, 'node_modules', '.bin', 'tsc'), ['-p', '.'], dir);
    console.log(`ok   tsc --strict (nodenext): ${sources.length} files`);
    passed++;
  } catch (error) {
    console.log(`FAIL tsc --strict (nodenext):\n${error.stdout}${error.stderr}`);
    failures++;
  }

  // 4. Run each one (a README example must finish on its own: no elided steps that hang).
  for (const [name] of sources) {
    const js = join(dir, 'dist', `${name}.js`);
    try {
      run(process.execPath, [js], dir, { timeout: 60_000 });
      console.log(`ok   node ${name}.js`);
      passed++;
    } catch (error) {
      const why = error.signal === 'SIGTERM' ? 'did not finish in 60 s' : `${error.stderr}`;
      console.log(`FAIL node ${name}.js: ${why.trim().split('\n').slice(0, 8).join('\n')}`);
      failures++;
    }
  }

  // 5. CommonJS consumers: require() of each package (Node >= 20.19 loads ESM synchronously).
  const cjs = Object.keys(local)
    .map(
      (n) =>
        `if (Object.keys(require(${JSON.stringify(n)})).length === 0) throw new Error(${JSON.stringify(`${n}: no exports`)});`,
    )
    .join('\n');
  writeFileSync(join(dir, 'require.cjs'), `${cjs}\n`);
  try {
    run(process.execPath, ['require.cjs'], dir);
    console.log(`ok   require() from CommonJS: ${Object.keys(local).length} packages`);
    passed++;
  } catch (error) {
    console.log(`FAIL require() from CommonJS: ${error.stderr}`);
    failures++;
  }
} finally {
  if (keep) console.log(`scratch project kept in ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
console.log(`consumer smoke test: ${passed} ok, ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
