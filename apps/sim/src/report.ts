import { modesOf } from './bug-modes.js';
import { DEFAULT_CONFIG, type RunResult, type ScenarioConfig } from './scenario.js';
import { type SecondaryCounts, Stats } from './stats.js';

function row(label: string, ...cells: (string | number)[]): string {
  return `  ${label.padEnd(34)}${cells.map((c) => String(c).padStart(10)).join('')}`;
}

function fmtRate(n: number, ms: number): string {
  if (ms <= 0) return '-';
  const r = (n * 1000) / ms;
  return r >= 1e6
    ? `${(r / 1e6).toFixed(2)}M`
    : r >= 1e3
      ? `${(r / 1e3).toFixed(1)}k`
      : r.toFixed(0);
}

/** The human-readable report of one run. */
export function formatReport(r: RunResult): string {
  const s = r.stats;
  const c = r.config;
  const lines: string[] = [];
  const secs =
    [c.kvm && 'kvm', c.hmm && 'hmm', c.vhost && 'vhost', ...(r.userSecondaries ?? [])]
      .filter(Boolean)
      .join(', ') || 'none';
  lines.push(
    `mmu-sim run: seed ${c.seed}, ${c.ops} ops, ${c.pages} pages, strategy ${c.strategy}${c.strategy === 'pct' ? ` (d=${c.pctDepth})` : ''}, secondaries: ${secs}, end: ${r.endMode}`,
  );
  lines.push(
    r.ok
      ? 'RESULT: OK — no invariant violated'
      : `RESULT: VIOLATION (${r.violation?.kind}) at step ${r.violation?.step}`,
  );
  lines.push('');
  // A column per path, then one per secondary brought by the user, then the total of all.
  const users = Object.entries(s.secondaries);
  const per = (what: keyof SecondaryCounts, builtIn: (string | number)[]) =>
    row(
      what === 'retries' ? 'retries (collisions)' : what,
      ...builtIn,
      ...users.map(([, n]) => n[what]),
      Stats.overall(s, what),
    );
  lines.push(row('', 'cpu', 'kvm', 'hmm', 'vhost', ...users.map(([name]) => name), 'total'));
  lines.push(per('accesses', [s.accesses.cpu, s.accesses.kvm, s.accesses.hmm, s.accesses.vhost]));
  lines.push(per('faults', [s.faults.cpu, s.faults.kvm, s.faults.hmm, s.faults.vhost]));
  lines.push(per('retries', ['-', s.retries.kvm, s.retries.hmm, s.retries.vhost]));
  lines.push('');
  lines.push('  invalidations by event');
  for (const [event, n] of Object.entries(s.invalidations))
    if (n > 0) lines.push(row(`    ${event}`, n));
  lines.push(row('    of which non-blocking (OOM reaper)', s.nonblockStarts));
  lines.push(row('    EAGAIN (non-blocking start)', s.eagain));
  if (s.callbackErrors > 0) lines.push(row('    callback failures (injected)', s.callbackErrors));
  lines.push(row('    OOM reaper VMAs skipped', s.reapSkips));
  lines.push('');
  lines.push('  waits');
  lines.push(row('    readBegin (collision)', s.waits.readBegin));
  lines.push(row('    device mutex', s.waits.lock));
  lines.push(row('    vhost waits for worker', s.waits.vhostReader));
  lines.push(row('    mmap_lock', s.waits.mmapLock));
  lines.push('');
  lines.push('  primary MMU');
  lines.push(row('    swap-out / swap-in', s.swapOuts, s.swapIns));
  lines.push(row('    aged: kept young / by secondary', s.agedSkips, s.secondaryYoung));
  lines.push(row('    pages migrated', s.migrations));
  lines.push(row('    EFAULT / EPERM to accessors', s.efault, s.eperm));
  lines.push(row('    HMM -EBUSY / timeouts', s.hmmBusy, s.hmmTimeouts));
  lines.push(row('    vhost fast / slow path', s.vhostFast, s.vhostSlow));
  lines.push(row('    interval inserts / removes', s.intervalInserts, s.intervalRemoves));
  lines.push(row('    notifier WARNs', s.warnings.length));
  lines.push('');
  const faults = Stats.overall(s, 'faults');
  lines.push(row('scheduling steps', r.steps));
  lines.push(row('invariant checks', r.checks));
  lines.push(row('trace events / hash', r.traceEvents, r.traceHash));
  lines.push(row('wall time (ms)', r.wallMs.toFixed(0)));
  lines.push(row('faults per second', fmtRate(faults, r.wallMs)));
  lines.push(row('steps per second', fmtRate(r.steps, r.wallMs)));
  lines.push(
    row('final: frames, seq, active', r.final.frames, r.final.invalidateSeq, r.final.activeRanges),
  );
  if (s.warnings.length > 0) {
    lines.push('');
    lines.push('  notifier warnings (first 5):');
    for (const w of s.warnings.slice(0, 5)) lines.push(`    ${w}`);
  }
  if (r.violation !== undefined) {
    lines.push('');
    lines.push(`VIOLATION: ${r.violation.message}`);
    lines.push(
      `  seed ${c.seed}, step ${r.violation.step}; replay: mmu-sim replay --seed ${c.seed}${replayFlags(r)}`,
    );
    lines.push('  last events (step task event a b c):');
    for (const e of r.violation.trace) lines.push(`    ${e}`);
  }
  return lines.join('\n');
}

/**
 * The flags that reproduce a run besides the seed: its config's, and the schedule it followed,
 * if any (a run of `--schedule`, as `explore --exhaustive` prints them).
 */
export function replayFlags(r: RunResult): string {
  const sc = r.config.schedule;
  if (sc === undefined) return configFlags(r.config);
  const bound = sc.preemptionBound === undefined ? '' : ` --preemptions ${sc.preemptionBound}`;
  return `${configFlags(r.config)}${bound} --schedule ${sc.prefix.join(',') || '0'}`;
}

/** The CLI flags (besides `--seed`) that give `c`; the same for every seed of an exploration. */
export function configFlags(c: ScenarioConfig): string {
  const parts = [` --ops ${c.ops}`, ` --pages ${c.pages}`, ` --strategy ${c.strategy}`];
  if (!c.kvm || !c.hmm || !c.vhost) {
    parts.push(
      ` --secondaries ${[c.kvm && 'kvm', c.hmm && 'hmm', c.vhost && 'vhost'].filter(Boolean).join(',') || 'none'}`,
    );
  }
  parts.push(` --end ${c.end}`);
  const d = DEFAULT_CONFIG;
  if (c.cpus !== d.cpus) parts.push(` --cpus ${c.cpus}`);
  if (c.vcpus !== d.vcpus) parts.push(` --vcpus ${c.vcpus}`);
  if (c.devices !== d.devices) parts.push(` --devices ${c.devices}`);
  if (c.strategy === 'pct') parts.push(` --depth ${c.pctDepth}`);
  const mix = Object.entries(c.mix)
    .filter(([k, v]) => DEFAULT_CONFIG.mix[k as keyof typeof c.mix] !== v)
    .map(([k, v]) => `${k}=${v}`);
  if (mix.length > 0) parts.push(` --mix ${mix.join(',')}`);
  if (c.sweepEvery !== DEFAULT_CONFIG.sweepEvery) parts.push(` --sweep ${c.sweepEvery}`);
  if ((c.focus ?? 0) > 0) parts.push(` --focus ${c.focus}`);
  if ((c.rebind ?? 0.02) !== 0.02) parts.push(` --rebind ${c.rebind}`);
  if ((c.arm64Vcpus ?? 0) > 0) parts.push(` --arm64-vcpus ${c.arm64Vcpus}`);
  if (c.pfnCache === true) parts.push(' --pfn-cache');
  if (c.kvmRt === true) parts.push(' --kvm-rt');
  if ((c.memslotUpdates ?? 0) > 0) parts.push(` --memslot-updates ${c.memslotUpdates}`);
  if ((c.kick ?? 0) > 0) parts.push(` --kick ${c.kick}`);
  if ((c.callbackErrors ?? 0) > 0) parts.push(` --callback-errors ${c.callbackErrors}`);
  if ((c.vhostWorkers ?? 1) !== 1) parts.push(` --vhost-workers ${c.vhostWorkers}`);
  for (const name of modesOf(c.bugs)) parts.push(` --bug ${name}`);
  for (const file of c.secondaryFiles ?? []) parts.push(` --secondary ${file}`);
  return parts.join('');
}

/** The JSON form of a run (what --json prints). */
export function toJson(r: RunResult): Record<string, unknown> {
  // Functions are no JSON: the factories given as functions are left out (the files stay).
  const { onProgress: _p, onStart: _s, secondaryFactories: _f, ...config } = r.config;
  return {
    ok: r.ok,
    seed: r.config.seed,
    config,
    endMode: r.endMode,
    ...(r.userSecondaries.length > 0 ? { userSecondaries: r.userSecondaries } : {}),
    violation: r.violation ?? null,
    steps: r.steps,
    checks: r.checks,
    traceEvents: r.traceEvents,
    traceHash: r.traceHash,
    wallMs: Math.round(r.wallMs),
    faultsPerSecond: Math.round(
      (Stats.overall(r.stats, 'faults') * 1000) / Math.max(1e-3, r.wallMs),
    ),
    stats: { ...r.stats },
    final: r.final,
  };
}
