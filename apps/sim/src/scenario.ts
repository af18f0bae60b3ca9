import { Checker, type Violation } from './checker.js';

import { defaultMix, MM_OPERATIONS, type OpMix } from './mm-operations.js';
import { AddressSpace } from './primary/mm.js';
import { exitOp, mmapOp, mprotectOp, oomReapOp, reclaimOp } from './primary/ops.js';
import { PROT_READ, PROT_WRITE, type Vma } from './primary/vmas.js';
import { Prng } from './prng.js';
import {
  type LoopTurn,
  type ScheduleChoices,
  Scheduler,
  type StrategyName,
  type Task,
} from './scheduler.js';
import { type HmmBugs, HmmMirror, type MirrorBuffer } from './secondaries/hmm-mirror.js';
import type { KvmBugs } from './secondaries/kvm.js';
import { kvmSecondary } from './secondaries/kvm-secondary.js';
import { type VhostBugs, vhostSecondary } from './secondaries/vhost.js';
import {
  attachSecondary,
  loadSecondaryFactory,
  type MirrorRegion,
  type SecondaryFactory,
  SecondaryModuleError,
  type SecondaryTask,
  type UserSecondary,
} from './secondary-api.js';
import { Stats } from './stats.js';
import { Trace } from './trace.js';

export type { OpMix } from './mm-operations.js';

/** Which deliberate bugs to inject (negative controls of the checker). */
export interface Bugs {
  kvm?: KvmBugs;
  hmm?: HmmBugs;
  vhost?: VhostBugs;
}

/** Everything that defines a run. Same config, same run. */
export interface ScenarioConfig {
  seed: number;
  /** Top-level operations over all tasks. */
  ops: number;
  /** Size of the address space in pages. */
  pages: number;
  kvm: boolean;
  hmm: boolean;
  vhost: boolean;
  strategy: StrategyName;
  pctDepth: number;
  mix: OpMix;
  /** CPU threads of the process, vCPUs, device queues. */
  cpus: number;
  vcpus: number;
  devices: number;
  /** How the process ends: plain exit, OOM kill (reaper with non-blocking starts) then exit. */
  end: 'exit' | 'oom' | 'random';
  bugs: Bugs;
  /** Ring-buffer size of the trace; `fullTrace` keeps every event as a line. */
  traceSize: number;
  fullTrace: boolean;
  /** Full I1 sweep every this many scheduling steps (0 = only at the end). */
  sweepEvery: number;
  /**
   * Confine the operations to the first `focus` pages of each shared region (guest RAM, the
   * first mirrored buffer, the first vhost ring), so that in a tiny world (a few operations,
   * explored exhaustively) they collide. 0 (the default) = the whole address space.
   */
  focus?: number;
  /**
   * Chance that an operation of the first HMM device closes a mirrored buffer and opens another
   * (interval removes and inserts while invalidations run); default 0.02.
   */
  rebind?: number;
  /**
   * vCPUs (the last this many) that fault as arm64 does, with the tracker's range-agnostic
   * retry(seq) instead of x86's retryGfn; default 0.
   */
  arm64Vcpus?: number;
  /** A KVM pfn cache (gfn_to_pfn_cache) over guest frame 0, used by the vCPUs; default off. */
  pfnCache?: boolean;
  /**
   * PREEMPT_RT: KVM's mmu_lock is a sleeping lock and a vCPU can be preempted while it holds it
   * (invalidations then wait for it, fail with EAGAIN when they cannot wait, or end later).
   */
  kvmRt?: boolean;
  /**
   * Chance that a vCPU access is instead a memslot update of vcpu0 (flags only: it waits for
   * the invalidations counted, then swaps the memslots); default 0.
   */
  memslotUpdates?: number;
  /** Chance that a signal interrupts a vCPU's fault after its GUP or between retries; default 0. */
  kick?: number;
  /**
   * Chance that an invalidation callback of the HMM device or of KVM fails (throws) while the
   * process is alive (the core undoes the start and the primary tries it again), and that a KVM
   * fault's install fails (-ENOMEM: the fault must release the lock and the page). Default 0.
   */
  callbackErrors?: number;
  /**
   * vhost worker tasks (vhost_worker per virtqueue): readers of the same SRCU and users of the
   * same rings; default 1.
   */
  vhostWorkers?: number;
  /**
   * Secondary modules (absolute paths of ES modules that default-export a SecondaryFactory), run
   * beside the built-in secondaries. Plain data: posted to explore's worker threads, printed in
   * the replay line as `--secondary <file>`.
   */
  secondaryFiles?: readonly string[];
  /**
   * Secondary factories given as functions (programmatic use; not in the replay line), attached
   * after those of `secondaryFiles`.
   */
  secondaryFactories?: readonly SecondaryFactory[];
  /** Follow this schedule instead of the strategy (exhaustive exploration; see Scheduler). */
  schedule?: ScheduleChoices;
  /** Called every 1024 steps with the ops done so far (progress bar). */
  onProgress?: (ops: number) => void;
  /**
   * Called once before the run starts with its trace and scheduler, to attach observers (the
   * timeline of `--trace FILE` and `--report`: `Trace.listener`, `Scheduler.observer`). Not
   * part of the run's identity: observers change nothing in it.
   */
  onStart?: (trace: Trace, sched: Scheduler) => void;
}

/** The defaults of `mmu-sim run` (and `pnpm sim`). */
export const DEFAULT_CONFIG: ScenarioConfig = {
  seed: 1,
  ops: 60_000,
  pages: 4096,
  kvm: true,
  hmm: true,
  vhost: true,
  strategy: 'random',
  pctDepth: 3,
  mix: defaultMix(),
  cpus: 2,
  vcpus: 2,
  devices: 2,
  end: 'oom',
  bugs: {},
  traceSize: 40,
  fullTrace: false,
  sweepEvery: 256,
};

/**
 * The largest values a run accepts. Larger ones would not finish in reasonable time or fit in
 * memory (the primary's page tables and the checker take about 12 bytes per page), and seeds
 * are 32-bit (every seed up to the limit gives a different run).
 */
export const LIMITS = {
  seed: 0xffff_ffff,
  ops: 10_000_000,
  pages: 1 << 22,
  /** CPU threads, vCPUs and device queues, each. */
  tasks: 64,
  pctDepth: 64,
} as const;

/**
 * Checks a whole config; RangeError naming the field for a value out of range, before anything
 * runs.
 */
function checkConfig(config: ScenarioConfig): void {
  const intIn = (name: string, v: number, min: number, max: number) => {
    if (!Number.isSafeInteger(v) || v < min || v > max) {
      throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${v}`);
    }
  };
  intIn('seed', config.seed, 0, LIMITS.seed);
  intIn('ops', config.ops, 0, LIMITS.ops);
  intIn('pages', config.pages, 256, LIMITS.pages);
  intIn('cpus', config.cpus, 0, LIMITS.tasks);
  intIn('vcpus', config.vcpus, 0, LIMITS.tasks);
  intIn('devices', config.devices, 0, LIMITS.tasks);
  intIn('pctDepth', config.pctDepth, 1, LIMITS.pctDepth);
  intIn('sweepEvery', config.sweepEvery, 0, Number.MAX_SAFE_INTEGER);
  intIn('focus', config.focus ?? 0, 0, config.pages);
  const rebind = config.rebind ?? 0.02;
  if (!(rebind >= 0 && rebind <= 1))
    throw new RangeError(`rebind must be a chance from 0 to 1, got ${rebind}`);
  intIn('arm64Vcpus', config.arm64Vcpus ?? 0, 0, config.vcpus);
  intIn('vhostWorkers', config.vhostWorkers ?? 1, 1, LIMITS.tasks);
  const callbackErrors = config.callbackErrors ?? 0;
  if (!(callbackErrors >= 0 && callbackErrors <= 1)) {
    throw new RangeError(`callbackErrors must be a chance from 0 to 1, got ${callbackErrors}`);
  }
  const kick = config.kick ?? 0;
  if (!(kick >= 0 && kick <= 1))
    throw new RangeError(`kick must be a chance from 0 to 1, got ${kick}`);
  const memslotUpdates = config.memslotUpdates ?? 0;
  if (!(memslotUpdates >= 0 && memslotUpdates <= 1)) {
    throw new RangeError(`memslotUpdates must be a chance from 0 to 1, got ${memslotUpdates}`);
  }
  let total = 0;
  for (const [name, w] of Object.entries(config.mix)) {
    if (!(Number.isFinite(w) && w >= 0)) {
      throw new RangeError(`mix.${name} must be a finite weight >= 0, got ${w}`);
    }
    total += w;
  }
  if (!(total > 0)) throw new RangeError('mix: at least one operation needs a weight > 0');
}

/** What a turn returned, as the scheduler takes it: a promise, or undefined (done at once). */
function promiseOf(x: unknown): Promise<unknown> | undefined {
  return x instanceof Promise ? x : undefined;
}

/** What a run returns. */
export interface RunResult {
  config: ScenarioConfig;
  ok: boolean;
  violation: Violation | undefined;
  stats: Stats;
  steps: number;
  traceEvents: number;
  /** FNV-1a hash of the whole event stream (equal for equal seeds). */
  traceHash: string;
  /** Every event, if `fullTrace`. */
  log: string[] | undefined;
  checks: number;
  endMode: 'exit' | 'oom';
  /** The names of the secondaries brought by the user (`secondaryFiles`, `secondaryFactories`). */
  userSecondaries: string[];
  wallMs: number;
  final: { frames: number; invalidateSeq: number; activeRanges: number; vmas: number };
}

/**
 * A task's budget of top-level operations (each task gets an equal share of `ops`, a fixed
 * program as PCT assumes), counted also in the run's total for the progress bar.
 */
class Budget {
  used = 0;
  constructor(
    readonly total: number,
    private readonly run: { used: number },
  ) {}
  take(): boolean {
    if (this.used >= this.total) return false;
    this.used++;
    this.run.used++;
    return true;
  }
}

/** Runs one scenario to completion (or to the first violation). */
export async function runScenario(partial: Partial<ScenarioConfig> = {}): Promise<RunResult> {
  const config: ScenarioConfig = {
    ...DEFAULT_CONFIG,
    ...partial,
    mix: { ...DEFAULT_CONFIG.mix, ...partial.mix },
  };
  checkConfig(config);
  const t0 = performance.now();
  const rng = new Prng(config.seed);
  // Operations issued so far, over all tasks (each task's Budget counts into it).
  const budget = { used: 0 };
  // Hot closures read these, not `config` (see sched.onStep below).
  const plannedOps = Math.max(1, config.ops);
  const sched = new Scheduler({
    seed: rng.next(),
    strategy: config.strategy,
    pctDepth: config.pctDepth,
    // PCT spreads its change points over the operations, the run's real length.
    progress: () => budget.used / plannedOps,
    ...(config.schedule === undefined ? {} : { schedule: config.schedule }),
    maxSteps: config.ops * 400 + 100_000,
  });
  const trace = new Trace(config.traceSize, config.fullTrace);
  config.onStart?.(trace, sched);
  const stats = new Stats();
  const mm = new AddressSpace({ sched, trace, stats }, config.pages);
  const checker = new Checker(mm, sched, trace, config.pages);
  mm.checker = checker;
  mm.observe(checker);
  // Forked only when used, so that runs without it draw the same numbers as before.
  if ((config.callbackErrors ?? 0) > 0) mm.injectCallbackErrors(config.callbackErrors!, rng.fork());
  const endMode: 'exit' | 'oom' =
    config.end === 'random' ? (rng.chance(0.7) ? 'oom' : 'exit') : config.end;

  // ---- initial layout: guest RAM, device buffers, vhost rings, a few anonymous areas ---------
  const P = config.pages;
  const guestPages = Math.min(256, P >> 3);
  const guestBase = 16;
  mm.vmas.insert(guestBase, guestBase + guestPages, PROT_READ | PROT_WRITE);
  const devBase = guestBase + guestPages + 16;
  const devPages = Math.min(128, P >> 4);
  mm.vmas.insert(devBase, devBase + devPages, PROT_READ | PROT_WRITE);
  const ringBase = devBase + devPages + 16;
  mm.vmas.insert(ringBase, ringBase + 8, PROT_READ | PROT_WRITE);
  for (let i = 0; i < 4; i++) {
    const len = rng.range(4, 64);
    const s = mm.vmas.findFree(len, (n) => rng.int(n));
    if (s !== undefined)
      mm.vmas.insert(s, s + len, rng.chance(0.8) ? PROT_READ | PROT_WRITE : PROT_READ);
  }

  const mirrorRegions: MirrorRegion[] = [
    { name: 'guest', start: guestBase, end: guestBase + guestPages },
    { name: 'device', start: devBase, end: devBase + devPages },
    { name: 'ring', start: ringBase, end: ringBase + 8 },
  ];
  const world = { mm, checker, regions: mirrorRegions, rng };
  // KVM, HMM and vhost go through the same interface as the secondaries users bring
  // (SecondaryFactory), with the run's own stream: each draws nothing when made (KVM forks one
  // only for the pfn cache or kicks), and each task forks its stream when spawned, where it
  // always did.
  const kvm = config.kvm
    ? await attachSecondary(
        kvmSecondary(mm, checker, config.bugs.kvm, {
          vcpus: config.vcpus,
          arm64Vcpus: config.arm64Vcpus ?? 0,
          memslotUpdates: config.memslotUpdates ?? 0,
          kick: config.kick ?? 0,
          pfnCache: config.pfnCache === true,
          rt: config.kvmRt === true,
          focus: config.focus ?? 0,
        }),
        world,
        'kvm',
      )
    : undefined;
  const focus = config.focus ?? 0;
  /**
   * The HMM device (dmirror) as a SecondaryFactory: three buffers over the `device` region, one
   * task per device queue (`dev0`, ...) reading and writing buffer ranges, taking snapshots and,
   * for `dev0`, rebinding buffers; `dev0` releases the file (closes every buffer) once its loop
   * is over. A built-in: it reports to the checker and pins the address space itself.
   */
  const hmmSecondary: SecondaryFactory = (ctx) => {
    const dev = new HmmMirror(mm, checker, 'hmm', config.bugs.hmm);
    const region = ctx.regions.find((r) => r.name === 'device')!;
    const q = (region.end - region.start) >> 2;
    for (let i = 0; i < 3; i++) dev.open(region.start + i * q, region.start + (i + 1) * q);
    const running = (): Task => sched.current!;
    const rebindChance = config.rebind ?? 0.02;
    // Close one buffer and mirror another range: inserts/removes while invalidations run.
    const rebind = async (t: Task, r: Prng): Promise<void> => {
      if (dev.buffers.length > 0 && r.chance(0.5)) await dev.close(t, r.pick(dev.buffers));
      if (dev.buffers.length < 4) {
        const len = r.range(4, 32);
        const base = r.chance(0.5) ? devBase : guestBase;
        const span = r.chance(0.5) ? devPages : guestPages;
        const s = base + r.int(Math.max(1, span - len));
        if (dev.buffers.every((b) => b.end <= s || b.start >= s + len) && mm.get()) {
          dev.open(s, s + len); // mmu_interval_notifier_insert() needs mm_users held
          mm.put();
        }
      }
    };
    const turn = (i: number, r: Prng): Promise<unknown> | undefined => {
      const t = running();
      if (i === 0 && r.chance(rebindChance)) return rebind(t, r);
      if (r.chance(0.03)) {
        // A snapshot with its own short-lived subscription over a shared region.
        const [s, e] = sharedRange(r, 16);
        return dev.snapshot(t, s, e);
      }
      if (dev.buffers.length === 0) return undefined;
      const buf: MirrorBuffer = focus > 0 ? dev.buffers[0]! : r.pick(dev.buffers);
      const size = focus > 0 ? Math.min(focus, buf.end - buf.start) : buf.end - buf.start;
      const len = Math.min(size, r.range(1, 8));
      const s = buf.start + r.int(size - len + 1);
      const done = dev.access(t, buf, s, s + len, r.chance(0.4));
      return typeof done === 'number' ? undefined : done;
    };
    // dmirror_fops_release(): remove every subscription (after exit they get nothing).
    const release = async (): Promise<void> => {
      const t = running();
      for (const b of [...dev.buffers]) await dev.close(t, b);
    };
    return {
      name: dev.name,
      view: dev,
      tasks: Array.from({ length: config.devices }, (_, i) => ({
        name: `dev${i}`,
        turn: (r: Prng) => turn(i, r),
        ...(i === 0 ? { exit: release } : {}),
      })),
    };
  };
  const hmm = config.hmm ? await attachSecondary(hmmSecondary, world, 'hmm') : undefined;
  const vhost = config.vhost
    ? await attachSecondary(
        vhostSecondary(mm, checker, config.bugs.vhost, config.vhostWorkers ?? 1, focus),
        world,
        'vhost',
      )
    : undefined;

  // ---- secondaries brought by the user (see secondary-api.ts) -------------------------------
  const sources: [SecondaryFactory, string][] = [];
  for (const file of config.secondaryFiles ?? [])
    sources.push([await loadSecondaryFactory(file), `--secondary ${file}`]);
  for (const [i, f] of (config.secondaryFactories ?? []).entries())
    sources.push([f, `secondary factory ${i}`]);
  const users: UserSecondary[] = [];
  // Their callbacks may answer EAGAIN without telling the audit (refuse()).
  if (sources.length > 0) mm.audit.refusalsKnown = false;
  // Their own streams, the factories' and their tasks' (see spawnSecondary), apart from the
  // run's: the built-ins draw the same numbers with or without them.
  const seeds = new Prng(config.seed ^ 0x5ec0_4da7);
  for (const [factory, source] of sources)
    users.push(
      await attachSecondary(
        factory,
        { mm, checker, regions: mirrorRegions, rng: seeds.fork() },
        source,
        stats.secondaries,
      ),
    );

  const nTasks =
    users.reduce((n, u) => n + u.tasks.length, 0) +
    config.cpus +
    2 +
    (kvm !== undefined ? kvm.tasks.length : 0) +
    (hmm !== undefined ? hmm.tasks.length : 0) +
    (vhost !== undefined ? vhost.tasks.length : 0);
  const share = Math.ceil(config.ops / nTasks);
  const newBudget = (): Budget => new Budget(share, budget);
  /**
   * A task's fixed program, as the turn of a loop task (Scheduler.spawnLoop): `op` once per
   * operation of its budget until `stop()` says the process is gone, with a scheduling point
   * (the loop's label) after each. `op` returns the promise of what it started, or undefined
   * when it is done (then the turn costs no promise at all).
   */
  const program = (
    stop: () => boolean,
    op: (t: Task) => Promise<unknown> | undefined,
  ): LoopTurn => {
    const mine = newBudget();
    return (t) => {
      if (stop() || !mine.take()) return false;
      stats.ops++;
      return op(t);
    };
  };
  const dying = (): boolean => mm.dying;
  const dead = (): boolean => mm.dead;
  // The process dies (exit or OOM kill) with 3% of its ops left, so the secondaries are still
  // busy with their last operations while the reaper and exit_mmap run.
  const endAt = Math.floor(share * 0.97);
  let lastProgress = 0;
  // Read once: the hook runs at every step, and `config` (a spread of the caller's object) may
  // have another hidden class in each run, which would deoptimize the scheduler's dispatch.
  const { sweepEvery, onProgress } = config;
  sched.onStep = () => {
    const steps = sched.steps;
    if (sweepEvery > 0 && steps % sweepEvery === 0) checker.sweep();
    if ((steps & 1023) === 0 && onProgress !== undefined && budget.used !== lastProgress) {
      lastProgress = budget.used;
      onProgress(budget.used);
    }
  };

  // A random page of a random VMA (biased to the shared regions so secondaries see churn).
  const pickRange = (r: Prng, maxLen: number): [number, number] | undefined => {
    if (focus > 0) return sharedRange(r, maxLen);
    const n = mm.vmas.size;
    if (n === 0) return undefined;
    const v: Vma = mm.vmas.at(r.int(n)); // as r.pick(mm.vmas.all()), without a snapshot
    const len = Math.min(v.end - v.start, r.range(1, maxLen));
    const s = v.start + r.int(v.end - v.start - len + 1);
    return [s, s + len];
  };
  // A focused world aims only at the regions of the secondaries it has.
  const mirrored = [config.kvm, config.hmm, config.vhost].flatMap((on, i) => (on ? [i] : []));
  const regions = focus > 0 && mirrored.length > 0 ? mirrored : [0, 1, 2];
  const sharedRange = (r: Prng, maxLen: number): [number, number] => {
    const which = regions.length === 3 ? r.int(3) : r.pick(regions);
    const base = which === 0 ? guestBase : which === 1 ? devBase : ringBase;
    const whole = which === 0 ? guestPages : which === 1 ? devPages : 8;
    const size = focus > 0 ? Math.min(whole, focus) : whole;
    const len = Math.min(size, r.range(1, maxLen));
    const s = base + r.int(size - len + 1);
    return [s, s + len];
  };

  // ---- tasks ---------------------------------------------------------------------------------
  for (let i = 0; i < config.cpus; i++) {
    const r = rng.fork();
    sched.spawnLoop(
      `cpu${i}`,
      'cpu',
      program(dying, (t) => {
        const range = r.chance(0.6) ? sharedRange(r, 1) : pickRange(r, 1);
        return range !== undefined ? mm.cpuAccess(t, range[0], r.chance(0.5)) : undefined;
      }),
    );
  }

  // The mix as weights in table order (the order the draw depends on).
  const mixWeights = MM_OPERATIONS.map((op) => config.mix[op.name]);
  {
    const r = rng.fork();
    const mine = newBudget();
    sched.spawnLoop(
      'mm',
      'mm',
      (t) => {
        if (!(!mm.dying && mine.used < endAt && mine.take())) return false;
        stats.ops++;
        return mmTurn(t);
      },
      async (t) => {
        if (endMode === 'oom') await oomReapOp(mm, t);
        await exitOp(mm, t);
      },
    );
    const mmTurn = async (t: Task): Promise<void> => {
      await mmOp(t, r);
      // The process (think QEMU) keeps re-establishing its shared regions, so the
      // secondaries keep something to mirror: fill holes, make them read-write again.
      if (r.chance(0.35)) await restore(t, r.int(3));
    };
    const restore = async (t: Task, which: number): Promise<void> => {
      const base = which === 0 ? guestBase : which === 1 ? devBase : ringBase;
      const end = base + (which === 0 ? guestPages : which === 1 ? devPages : 8);
      // Mostly there is nothing to restore: one scan of the region's pages says so.
      if (mm.vmas.coveredWith(base, end, PROT_READ | PROT_WRITE)) return;
      let p = base;
      const vmas = mm.vmas.overlapping(base, end);
      for (let i = 0; i < vmas.length; i++) {
        const v = vmas[i]!;
        if (v.start > p) await mmapOp(mm, t, p, v.start, PROT_READ | PROT_WRITE);
        if (v.prot !== (PROT_READ | PROT_WRITE)) {
          await mprotectOp(
            mm,
            t,
            Math.max(v.start, base),
            Math.min(v.end, end),
            PROT_READ | PROT_WRITE,
          );
        }
        p = Math.max(p, v.end);
      }
      if (p < end) await mmapOp(mm, t, p, end, PROT_READ | PROT_WRITE);
    };
    const mmOp = (t: Task, r: Prng): Promise<void> => {
      const op = MM_OPERATIONS[r.weighted(mixWeights)]!;
      const range = r.chance(0.6) ? sharedRange(r, 16) : pickRange(r, 32);
      return op.run({ mm, t, r, range });
    };
  }

  {
    const r = rng.fork();
    sched.spawnLoop(
      'kswapd',
      'kswapd',
      program(dying, (t) => {
        const range = r.chance(0.6) ? sharedRange(r, 16) : pickRange(r, 32);
        return range !== undefined ? reclaimOp(mm, t, range[0], range[1]) : undefined;
      }),
    );
  }

  /**
   * Spawns the tasks of a secondary of the SecondaryFactory interface, each with its stream
   * forked from `streams` (in task order) and its share of the operations; the teardown runs
   * once the last of them stopped. `pin`: each turn holds mm_users (mmget_not_zero) and is
   * skipped while the process exits; without it the secondary pins the address space itself.
   */
  const spawnSecondary = (
    sec: UserSecondary,
    streams: Prng,
    pin: boolean,
    label = sec.name,
  ): void => {
    let running = sec.tasks.length;
    const teardown = sec.teardown;
    // The teardown once every task of the secondary has stopped.
    const last = (): Promise<void> =>
      --running === 0 && teardown !== undefined ? teardown() : Promise.resolve();
    for (const task of sec.tasks) {
      const r = streams.fork();
      if (sched.allTasks.some((x) => x.name === task.name))
        throw new SecondaryModuleError(`${sec.name}: a task is already named ${task.name}`);
      const exit = task.exit;
      sched.spawnLoop(
        task.name,
        label,
        program(dead, pin ? () => pinnedTurn(task, r) : () => promiseOf(task.turn(r))),
        // The rest of the task once its loop is over: its exit, then (the last) the teardown.
        exit !== undefined
          ? () => exit.call(task).then(last)
          : teardown !== undefined
            ? last
            : undefined,
      );
    }
  };
  /** A turn with the address space pinned (mmget_not_zero/mmput around it). */
  const pinnedTurn = (task: SecondaryTask, r: Prng): Promise<unknown> | undefined => {
    if (!mm.get()) return undefined; // the process is exiting
    let turn: Promise<unknown> | undefined;
    try {
      turn = promiseOf(task.turn(r));
    } catch (error) {
      mm.put();
      throw error;
    }
    if (turn !== undefined) return turn.finally(() => mm.put());
    mm.put(); // done without waiting
    return undefined;
  };
  if (kvm !== undefined) spawnSecondary(kvm, rng, false, 'vcpu');
  if (hmm !== undefined) spawnSecondary(hmm, rng, false, 'device');
  if (vhost !== undefined) spawnSecondary(vhost, rng, false);
  for (const u of users) spawnSecondary(u, seeds, true);

  await sched.run();
  if (checker.violation === undefined && sched.stopReason !== undefined) {
    const reason = sched.stopReason;
    checker.violation = {
      kind: reason.kind,
      step: sched.steps,
      message:
        reason.kind === 'crash' && reason.error instanceof Error && reason.error.stack !== undefined
          ? `${reason.message}\n${reason.error.stack}`
          : reason.message,
      trace: trace.tail(),
    };
  }
  if (checker.violation === undefined) {
    try {
      checker.sweep();
      mm.audit.finish();
      for (const sec of [kvm, hmm, vhost, ...users]) sec?.finish?.();
    } catch (error) {
      // checker.fail() recorded its violation; anything else thrown is a crash of the check.
      if (checker.violation === undefined) {
        checker.violation = {
          kind: 'crash',
          step: sched.steps,
          message: `the end-of-run checks threw: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
          trace: trace.tail(),
        };
      }
    }
  }
  return {
    config,
    ok: checker.violation === undefined,
    violation: checker.violation,
    stats,
    steps: sched.steps,
    traceEvents: trace.events,
    traceHash: trace.hash,
    log: trace.log,
    checks: checker.checks,
    endMode,
    userSecondaries: users.map((u) => u.name),
    wallMs: performance.now() - t0,
    final: {
      frames: mm.frames.allocated,
      invalidateSeq: mm.subs.invalidateSeq,
      activeRanges: mm.subs.activeInvalidateRanges,
      vmas: mm.vmas.size,
    },
  };
}
