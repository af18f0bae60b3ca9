#!/usr/bin/env node
// Consumer smoke test: what a stranger gets from npm. Packs every publishable package (packages/*
// and the sim, apps/sim) and checks
// each tarball's contents (dist/ with source maps that embed the sources, no src/, the package's
// own LICENSE, identical to the root one), installs the tarballs with plain npm into a scratch
// project outside the workspace (plus whatever each README's Install section names), then compiles
// every `ts` code block of every package README and the tutorial with `tsc --strict` (module
// nodenext) and runs each one. It compiles them again with the minimum TypeScript version each
// README's Install section states ("TypeScript X.Y or newer", or "or later"; a file needs the
// highest minimum of the packages it imports), installed under an npm alias, with `--noEmit` and
// `skipLibCheck` off. The installed `mmu-sim` then explores the tutorial's device modules,
// compiled there against the published types: clean, and its planted bug caught and replayed.
// Finally require()s every package from a CommonJS file. Needs the packages built (`pnpm build`).
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
const LICENSE = readFileSync(join(root, 'LICENSE'), 'utf8');

const run = (cmd, args, cwd, extra = {}) =>
  execFileSync(cmd, args, {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    ...extra,
  });

/** The publishable packages: packages/* and apps/* that are not private. */
function packages() {
  return ['packages', 'apps']
    .flatMap((group) => readdirSync(join(root, group)).map((name) => join(root, group, name)))
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

/** The README's Install section. */
const installSection = (markdown) => markdown.split(/^## Install\n/m)[1]?.split(/^## /m)[0] ?? '';

/** Package names from the `npm install ...` lines of the README's Install section. */
function installNames(markdown) {
  const names = [];
  for (const sh of blocks(installSection(markdown), 'sh')) {
    for (const line of sh.split('\n')) {
      const m = line.match(/^npm (?:install|i) (.+)$/);
      if (m) names.push(...m[1].split(/\s+/).filter((w) => !w.startsWith('-')));
    }
  }
  return names;
}

/** The minimum TypeScript version the Install section states ("TypeScript 5.7 or newer/later"). */
const minTypeScript = (markdown) =>
  installSection(markdown).match(/\bTypeScript\s+(\d+\.\d+)\s+or\s+(?:newer|later)\b/)?.[1];

/** The @mmukit packages a source file imports. */
const importedPackages = (code) =>
  new Set(
    [...code.matchAll(/(?:from|import\()\s*['"](@mmukit\/[a-z0-9-]+)['"]/g)].map((m) => m[1]),
  );

/** Compares two `major.minor` versions. */
const compareVersions = (a, b) => {
  const [am, an] = a.split('.').map(Number);
  const [bm, bn] = b.split('.').map(Number);
  return am - bm || an - bn;
};

/** What a packed tarball should hold, as a list of problems (empty: fine). */
function tarballProblems(tgz) {
  const problems = [];
  const entries = new Set(run('tar', ['tzf', tgz], root).split('\n').filter(Boolean));
  for (const f of ['LICENSE', 'README.md', 'package.json', 'dist/index.js', 'dist/index.d.ts']) {
    if (!entries.has(`package/${f}`)) problems.push(`no ${f}`);
  }
  if ([...entries].some((e) => e.startsWith('package/src/'))) {
    problems.push('ships src/ (the sources travel inside the source maps)');
  }
  if (
    entries.has('package/LICENSE') &&
    run('tar', ['xzOf', tgz, 'package/LICENSE'], root) !== LICENSE
  ) {
    problems.push('its LICENSE is not the root LICENSE');
  }
  for (const map of [...entries].filter((e) => e.endsWith('.js.map'))) {
    const {
      sources = [],
      sourcesContent = [],
      mappings = '',
    } = JSON.parse(run('tar', ['xzOf', tgz, map], root));
    // An entry that only re-exports shared chunks maps no code of its own: nothing to embed.
    if (sources.length === 0 && mappings === '') continue;
    if (
      sources.length === 0 ||
      sourcesContent.length !== sources.length ||
      sourcesContent.some((c) => typeof c !== 'string')
    ) {
      problems.push(`${map.slice('package/'.length)} does not embed its sources (sourcesContent)`);
    }
  }
  if (![...entries].some((e) => e.endsWith('.js.map'))) problems.push('no source map in dist/');
  return problems;
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
  const sources = []; // [name, code, the package whose README it is from]
  const minTs = {}; // package name -> the minimum TypeScript version its README states
  const sourceMinTs = new Map(); // source name -> the minimum TypeScript version it needs
  for (const pkgDir of packages()) {
    const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
    run('pnpm', ['pack', '--pack-destination', tarballs], pkgDir);
    const file = readdirSync(tarballs).find(
      (f) => f.startsWith(`${pkg.name.replace('@', '').replace('/', '-')}-`) && f.endsWith('.tgz'),
    );
    if (file === undefined) throw new Error(`no tarball for ${pkg.name}`);
    local[pkg.name] = `file:./tarballs/${file}`;
    const problems = tarballProblems(join(tarballs, file));
    if (problems.length === 0) {
      console.log(`ok   ${file}: dist/ with embedded sources, LICENSE, no src/`);
      passed++;
    } else {
      console.log(`FAIL ${file}: ${problems.join('; ')}`);
      failures++;
    }
    const readme = readFileSync(join(pkgDir, 'README.md'), 'utf8');
    minTs[pkg.name] = minTypeScript(readme);
    if (minTs[pkg.name] === undefined) {
      console.log(
        `FAIL ${pkg.name}: its README's Install section states no "TypeScript X.Y or newer/later"`,
      );
      failures++;
    }
    const names = installNames(readme);
    if (!names.includes(pkg.name)) {
      console.log(`FAIL ${pkg.name}: its README's Install section does not install it`);
      failures++;
    }
    for (const n of names) if (!n.startsWith('@mmukit/')) peers.add(n);
    blocks(readme, 'ts').forEach((code, i) => {
      sources.push([`${basename(pkgDir)}-readme-${i + 1}`, code, pkg.name]);
    });
  }
  // The tutorial, as its README tells a user to copy it: its files side by side in one folder
  // (they import each other), the sim's secondary modules included.
  const tutorial = existsSync(TUTORIAL) ? readdirSync(TUTORIAL) : [];
  const copied = (f) => f.endsWith('.ts') && !/\.(test|config)\.ts$/.test(f);
  for (const f of tutorial.filter(copied)) {
    sources.push([`tutorial/${basename(f, '.ts')}`, readFileSync(join(TUTORIAL, f), 'utf8')]);
  }
  // The TypeScript each file must compile with: the highest minimum of the packages it uses.
  for (const [name, code, own] of sources) {
    const used = new Set(importedPackages(code));
    if (own !== undefined) used.add(own);
    const versions = [...used].map((n) => minTs[n]).filter((v) => v !== undefined);
    if (versions.length > 0) sourceMinTs.set(name, versions.sort(compareVersions).at(-1));
  }
  const minVersions = [...new Set(sourceMinTs.values())].sort(compareVersions);

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
        devDependencies: {
          typescript: TYPESCRIPT,
          '@types/node': TYPES_NODE,
          ...Object.fromEntries(
            minVersions.map((v) => [`typescript-${v}`, `npm:typescript@${v}.x`]),
          ),
        },
        overrides: local,
      },
      null,
      2,
    ),
  );
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], dir);

  // 3. Compile every block with --strict, module nodenext.
  mkdirSync(join(dir, 'src', 'tutorial'), { recursive: true });
  for (const [name, code] of sources) writeFileSync(join(dir, 'src', `${name}.ts`), code);
  const compilerOptions = {
    strict: true,
    module: 'nodenext',
    moduleResolution: 'nodenext',
    target: 'es2022',
    types: ['node'],
    skipLibCheck: false,
  };
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { ...compilerOptions, outDir: 'dist', rootDir: 'src' },
      include: ['src'],
    }),
  );
  // Each TypeScript by its package directory: the aliases install a `tsc` bin too.
  const tsc = (pkg) => join(dir, 'node_modules', pkg, 'bin', 'tsc');
  try {
    run(process.execPath, [tsc('typescript'), '-p', '.'], dir);
    console.log(`ok   tsc --strict (nodenext): ${sources.length} files`);
    passed++;
  } catch (error) {
    console.log(`FAIL tsc --strict (nodenext):\n${error.stdout}${error.stderr}`);
    failures++;
  }

  // 3b. The same files with the oldest TypeScript each one's packages claim to support.
  for (const v of minVersions) {
    const files = sources.filter(([name]) => sourceMinTs.get(name) === v).map(([name]) => name);
    const config = `tsconfig.ts-${v}.json`;
    writeFileSync(
      join(dir, config),
      JSON.stringify({
        compilerOptions: { ...compilerOptions, noEmit: true },
        files: files.map((name) => `src/${name}.ts`),
      }),
    );
    const label = `tsc ${v} --noEmit (the README minimum)`;
    try {
      const version = run(process.execPath, [tsc(`typescript-${v}`), '--version'], dir).trim();
      run(process.execPath, [tsc(`typescript-${v}`), '-p', config], dir);
      console.log(`ok   ${label}, ${version}: ${files.join(', ')}`);
      passed++;
    } catch (error) {
      console.log(`FAIL ${label}: ${files.join(', ')}\n${error.stdout}${error.stderr}`);
      failures++;
    }
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

  // 4b. The installed `mmu-sim` explores the tutorial's device, compiled in this project against
  // the published types: clean over a few seeds, and its planted variant (no retry check) caught,
  // with a replay line that reproduces the same violation at the same step.
  if (local['@mmukit/sim'] !== undefined && existsSync(join(dir, 'dist', 'tutorial'))) {
    const mmuSim = (...args) => {
      try {
        return { status: 0, out: run(join(dir, 'node_modules', '.bin', 'mmu-sim'), args, dir) };
      } catch (error) {
        return { status: error.status, out: `${error.stdout}${error.stderr}` };
      }
    };
    const module = (name) => join('dist', 'tutorial', `${name}.js`);
    const clean = mmuSim(
      'explore',
      '--seeds',
      '8',
      '--ops',
      '1000',
      '--secondary',
      module('sim-secondary'),
    );
    if (clean.status === 0 && /: 0 with violations/.test(clean.out)) {
      console.log('ok   mmu-sim explore --secondary (the tutorial device): 8 seeds clean');
      passed++;
    } else {
      console.log(`FAIL mmu-sim explore --secondary (the tutorial device):\n${clean.out}`);
      failures++;
    }
    const planted = mmuSim(
      'explore',
      '--seeds',
      '20',
      '--ops',
      '2000',
      '--stop',
      '--no-shrink',
      '--json',
      '--secondary',
      module('sim-secondary-no-retry'),
    );
    let summary;
    try {
      summary = JSON.parse(planted.out);
    } catch {
      summary = undefined;
    }
    const v = summary?.violations?.[0];
    const replay =
      v === undefined
        ? undefined
        : mmuSim('replay', '--seed', String(v.seed), ...summary.flags.trim().split(' '));
    const expected = v && `VIOLATION: ${v.message}\n  seed ${v.seed}, step ${v.step};`;
    if (planted.status === 1 && replay?.status === 1 && replay.out.includes(expected)) {
      console.log(`ok   mmu-sim replay reproduces the planted bug: seed ${v.seed}, ${v.message}`);
      passed++;
    } else {
      console.log(
        `FAIL the planted tutorial bug, caught and replayed:\n${planted.out}\n${replay?.out ?? '(nothing caught)'}`,
      );
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
