import type { WorldResult } from './exhaustive.js';
import { configFlags } from './report.js';

/** The `replay` flags that re-run a world's first violating schedule exactly. */
export function scheduleReplay(r: WorldResult, preemptionBound: number): string | undefined {
  const f = r.first;
  if (f === undefined) return undefined;
  return `mmu-sim replay --seed ${f.seed}${configFlags(f.config)} --preemptions ${preemptionBound} --schedule ${f.choices.join(',') || '0'}`;
}

/** The text report of `explore --exhaustive`: one row per tiny world, then the totals. */
export function formatWorlds(results: readonly WorldResult[], preemptionBound: number): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const lines = [
    `exhaustive: every schedule with at most ${preemptionBound} preemption(s) of each tiny world`,
    '',
    '| world | seeds | schedules | complete | violating schedules | done at (s) |',
    '|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    lines.push(
      `| ${r.world} | ${r.seeds} | ${n(r.schedules)} | ${r.complete ? 'yes' : 'no'} | ${n(r.violations)} | ${(r.wallMs / 1000).toFixed(1)} |`,
    );
  }
  const schedules = results.reduce((a, r) => a + r.schedules, 0);
  const violations = results.reduce((a, r) => a + r.violations, 0);
  const complete = results.every((r) => r.complete);
  lines.push(
    '',
    `${n(schedules)} distinct schedules${complete ? '' : ' (incomplete: --max-schedules or --stop reached)'}, ${n(violations)} violating`,
  );
  for (const r of results) {
    if (r.first === undefined) continue;
    lines.push(
      '',
      `${r.world}: ${r.first.kind.toUpperCase()} at seed ${r.first.seed}: ${r.first.message.split('\n')[0]}`,
      `  replay: ${scheduleReplay(r, preemptionBound)}`,
    );
  }
  return lines.join('\n');
}
