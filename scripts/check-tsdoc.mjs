#!/usr/bin/env node
// TSDoc check: every symbol a published package exports has a doc comment. For each non-private
// packages/*/src/index.ts, resolves every export (re-exports followed to their declaration) with
// the workspace's TypeScript and fails, listing `package: symbol`, for each one without a TSDoc
// summary: classes, functions, interfaces, type aliases, enums, variables/consts, and the public
// members of exported classes (properties, methods, accessors, static ones included; not the
// constructor). A member counts as documented when it inherits a doc comment from the class or
// interface it overrides or implements (as TypeDoc and editors show it); one that overrides a
// member of a built-in declaration (`Error.name`, `[Symbol.iterator]`, ...) is exempt.
// Declarations tagged `@internal` are skipped: they are not public (`stripInternal` removes them
// from dist/index.d.ts). Interface members and parameters are not checked. Needs no build.
//
//   node scripts/check-tsdoc.mjs [package-dir-name ...]     (default: every published package)
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';

const root = resolve(import.meta.dirname, '..');
const only = process.argv.slice(2);

/** The published packages: packages/* that are not private, as [dir, name]. */
function packages() {
  return readdirSync(join(root, 'packages'))
    .filter((dir) => only.length === 0 || only.includes(dir))
    .map((dir) => [join(root, 'packages', dir), dir])
    .filter(([dir]) => existsSync(join(dir, 'src', 'index.ts')))
    .map(([dir]) => [dir, JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))])
    .filter(([, pkg]) => pkg.private !== true)
    .map(([dir, pkg]) => [dir, pkg.name]);
}

/** Compiler options from the package's tsconfig.json (only the index is a root file). */
function compilerOptions(dir) {
  const file = join(dir, 'tsconfig.json');
  const parsed = ts.getParsedCommandLineOfConfigFile(
    file,
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  );
  return { ...parsed.options, noEmit: true };
}

const isInternal = (decl) => ts.getJSDocTags(decl).some((t) => t.tagName.text === 'internal');

const hasDoc = (symbol, checker) =>
  symbol
    .getDocumentationComment(checker)
    .map((part) => part.text)
    .join('')
    .trim() !== '';

/** True if the file is not part of this repository's sources (a lib or an installed package). */
const isExternal = (program, file) =>
  program.isSourceFileDefaultLibrary(file) || /[\\/]node_modules[\\/]/.test(file.fileName);

/** The property of `type` with this escaped name (symbol-keyed ones included). */
const propertyOf = (type, escapedName) =>
  type?.getProperties().find((p) => p.escapedName === escapedName);

/**
 * The members that a member named `escapedName` of the class overrides or implements: those of
 * its base class (instance or static side) and of the interfaces it implements.
 */
function overridden(classDecl, escapedName, isStatic, checker) {
  const out = [];
  for (const clause of classDecl.heritageClauses ?? []) {
    const isExtends = clause.token === ts.SyntaxKind.ExtendsKeyword;
    if (isStatic && !isExtends) continue;
    for (const node of clause.types) {
      const type = isStatic
        ? checker.getTypeAtLocation(node.expression)
        : checker.getTypeAtLocation(node);
      const prop = propertyOf(type, escapedName);
      if (prop !== undefined) out.push(prop);
    }
  }
  return out;
}

/**
 * True if a member that the class declares without a doc comment gets one from what it overrides
 * or implements (up the chain), or overrides a member of a built-in declaration.
 */
function inherits(classDecl, escapedName, isStatic, checker, program, depth = 0) {
  if (depth > 20) return false;
  for (const base of overridden(classDecl, escapedName, isStatic, checker)) {
    if (hasDoc(base, checker)) return true;
    const decls = base.declarations ?? [];
    if (decls.length > 0 && decls.every((d) => isExternal(program, d.getSourceFile()))) return true;
    for (const d of decls) {
      const owner = d.parent;
      if (owner !== undefined && ts.isClassLike(owner) && owner !== classDecl) {
        if (inherits(owner, escapedName, isStatic, checker, program, depth + 1)) return true;
      }
    }
  }
  return false;
}

const isPublicMember = (decl) => {
  if (decl.name !== undefined && ts.isPrivateIdentifier(decl.name)) return false;
  const flags = ts.getCombinedModifierFlags(decl);
  return (flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) === 0;
};

/** `package: symbol` for every undocumented export of one package. */
function check(dir, name) {
  const program = ts.createProgram([join(dir, 'src', 'index.ts')], compilerOptions(dir));
  const checker = program.getTypeChecker();
  const index = program.getSourceFile(join(dir, 'src', 'index.ts'));
  const moduleSymbol = checker.getSymbolAtLocation(index);
  const missing = [];
  const seenMembers = new Set();
  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    const symbol =
      exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const decls = symbol.declarations ?? [];
    if (decls.length === 0 || decls.some(isInternal)) continue;
    if (!hasDoc(symbol, checker)) missing.push(exported.name);
    const classDecl = decls.find(ts.isClassDeclaration);
    if (classDecl === undefined) continue;
    for (const member of classDecl.members) {
      if (ts.isConstructorDeclaration(member) || ts.isClassStaticBlockDeclaration(member)) continue;
      if (ts.isIndexSignatureDeclaration(member) || ts.isSemicolonClassElement(member)) continue;
      if (!isPublicMember(member) || isInternal(member)) continue;
      const memberSymbol = checker.getSymbolAtLocation(member.name) ?? member.symbol;
      if (memberSymbol === undefined || seenMembers.has(memberSymbol)) continue;
      seenMembers.add(memberSymbol);
      if (memberSymbol.declarations?.some(isInternal)) continue;
      if (hasDoc(memberSymbol, checker)) continue;
      const isStatic = (ts.getCombinedModifierFlags(member) & ts.ModifierFlags.Static) !== 0;
      if (inherits(classDecl, memberSymbol.escapedName, isStatic, checker, program)) continue;
      const memberName = ts.isComputedPropertyName(member.name)
        ? `[${member.name.expression.getText()}]`
        : memberSymbol.name;
      missing.push(`${exported.name}${isStatic ? '.' : '#'}${memberName}`);
    }
  }
  return missing.map((s) => `${name}: ${s}`);
}

let failures = 0;
for (const [dir, name] of packages()) {
  const missing = check(dir, name);
  failures += missing.length;
  if (missing.length === 0) console.log(`ok   ${name}: every export has TSDoc`);
  else for (const line of missing) console.log(`FAIL ${line}`);
}
console.log(
  failures === 0 ? 'tsdoc check: ok' : `tsdoc check: ${failures} exported symbols without TSDoc`,
);
process.exit(failures === 0 ? 0 : 1);
