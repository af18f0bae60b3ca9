/**
 * Reads the report of `pnpm mutation` (reports/mutation/mutation.json) and prints the sim's
 * mutation score over the packages three ways: over every mutant, over the mutants in code the
 * sim runs (covered), and over the covered mutants that change what valid input does, i.e.
 * leaving out those on input checks (the body of a validation function `check*` that throws or
 * warns, a guard (on one line or several) whose branch throws a TypeError/RangeError or a named error, the text of such
 * an error, and the text a validation helper such as checkIndex() puts in its message): the sim
 * only ever passes valid input, so no run of it can tell those apart. Run: pnpm mutation:score
 * (after pnpm mutation).
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Mutant {
  mutatorName: string;
  status: string;
  location: { start: { line: number }; end: { line: number } };
}
interface Report {
  files: Record<string, { source: string; mutants: Mutant[] }>;
}

const here = import.meta.dirname;
const report = JSON.parse(
  readFileSync(join(here, '../reports/mutation/mutation.json'), 'utf8'),
) as Report;

const THROW = /\bthrow\b/;

/** A function or method header, and its name. */
const HEADER =
  /^(?:export )?(?:async )?function (\w+)|^ {2}(?:private |protected |static |async |readonly )*#?(\w+)\(.*\)(?:: [^=]+)? \{$/;
/**
 * A call of a validation helper (checkIndex, checkFunction, assertOutsideCallback,
 * prepareStarts, ...): a string passed to it is the text of its error message.
 */
const VALIDATION_CALL = /\b(?:check|assert|prepare)[A-Z]\w*\(|\bcheck\w*\(/;

/**
 * True if line `i` lies in the condition of an `if (` spread over several lines (found within
 * six lines above) whose block throws.
 */
function inThrowingCondition(lines: string[], i: number): boolean {
  for (let j = i; j >= Math.max(0, i - 6); j--) {
    const line = lines[j] ?? '';
    if (j < i && /[;{}]\s*$/.test(line)) return false;
    if (/^\s*(?:\} else )?if \($/.test(line)) {
      for (let k = i; k < Math.min(lines.length, i + 8); k++) {
        if (/^\s*\) \{$/.test(lines[k] ?? '')) {
          return [1, 2, 3].some((d) => /\bthrow\b/.test(lines[k + d] ?? ''));
        }
      }
      return false;
    }
  }
  return false;
}

/**
 * True if line `i` lies in a validation function: one named check* (the nearest header above
 * the line) whose body throws or warns, i.e. reports bad input or API misuse (a check* that
 * only answers a question, like checkRetry, is behaviour).
 */
function inValidationFunction(lines: string[], i: number): boolean {
  for (let j = i; j >= 0; j--) {
    const m = HEADER.exec(lines[j] ?? '');
    if (m === null) continue;
    if (!/^check[A-Z]/.test(m[1] ?? m[2] ?? '')) return false;
    for (let k = j + 1; k < lines.length && !HEADER.test(lines[k] ?? ''); k++) {
      if (/\bthrow\b|\.warn\(/.test(lines[k] ?? '')) return true;
    }
    return false;
  }
  return false;
}

/**
 * True if the mutant sits on an input check: inside a validation function (check*), a throwing
 * guard, a thrown error's text, or the text a validation helper puts in its error message.
 */
function onInputCheck(lines: string[], m: Mutant): boolean {
  const first = m.location.start.line - 1;
  const last = m.location.end.line - 1;
  const at = (i: number) => lines[i] ?? '';
  if (inValidationFunction(lines, first) || inThrowingCondition(lines, first)) return true;
  if (
    (m.mutatorName === 'StringLiteral' || m.mutatorName === 'TemplateLiteral') &&
    VALIDATION_CALL.test(at(first))
  ) {
    return true;
  }
  // Inside a throw statement (its message, possibly over several lines).
  for (let i = first; i >= Math.max(0, first - 4); i--) {
    if (THROW.test(at(i))) return true;
    if (/[;{}]\s*$/.test(at(i)) && i < first) break;
  }
  // The condition of a guard whose body throws (same line or the next ones).
  if (/^\s*(if|else if)\b|^\s*\|\||^\s*&&/.test(at(first)) || /\bif\s*\(/.test(at(first))) {
    for (let i = last; i <= last + 3; i++) if (THROW.test(at(i))) return true;
  }
  return false;
}

const detected = new Set(['Killed', 'Timeout']);
const rows: string[] = [];
const sum = { all: 0, killed: 0, covered: 0, coveredKilled: 0, behaviour: 0, behaviourKilled: 0 };
for (const [file, { source, mutants }] of Object.entries(report.files)) {
  const lines = source.split('\n');
  const s = { all: 0, killed: 0, covered: 0, behaviour: 0, behaviourKilled: 0 };
  for (const m of mutants) {
    if (m.status === 'Ignored' || m.status === 'CompileError') continue;
    const killed = detected.has(m.status);
    s.all++;
    if (killed) s.killed++;
    if (m.status === 'NoCoverage') continue;
    s.covered++;
    if (onInputCheck(lines, m)) continue;
    s.behaviour++;
    if (killed) s.behaviourKilled++;
  }
  sum.all += s.all;
  sum.killed += s.killed;
  sum.covered += s.covered;
  sum.coveredKilled += s.killed;
  sum.behaviour += s.behaviour;
  sum.behaviourKilled += s.behaviourKilled;
  if (s.behaviour > 0) {
    const pct = ((100 * s.behaviourKilled) / s.behaviour).toFixed(1);
    const name = file.replace(/^.*packages\/([^/]+)\/src\/(.*)$/, '@mmukit/$1 $2');
    rows.push(
      `| ${name} | ${s.all} | ${s.covered} | ${s.behaviour} | ${s.behaviourKilled} | ${pct}% |`,
    );
  }
}
const pct = (a: number, b: number) => `${((100 * a) / Math.max(1, b)).toFixed(1)}%`;
console.log(
  '| file | mutants | in code the sim runs | of them not on input checks | detected | score |',
);
console.log('|---|---|---|---|---|---|');
for (const r of rows.sort()) console.log(r);
console.log(
  `\nall mutants: ${pct(sum.killed, sum.all)} of ${sum.all}; ` +
    `in code the sim runs: ${pct(sum.coveredKilled, sum.covered)} of ${sum.covered}; ` +
    `of those, not on input checks: ${pct(sum.behaviourKilled, sum.behaviour)} of ${sum.behaviour}`,
);
