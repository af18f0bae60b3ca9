import { existsSync, statSync } from 'node:fs';
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import type {
  IntervalNotifier,
  MmuNotifierSubscriptions,
  NotifierLock,
} from '@mmukit/mmu-notifier';
import type { Checker, SecondaryView, TranslationVisitor } from './checker.js';
import { SimMutex } from './locks.js';
import { type AddressSpace, PAGE_SIZE, type PageRef } from './primary/mm.js';
import type { Prng } from './prng.js';
import type { Task } from './scheduler.js';
import { checkedRetry, lazyRemoval, readBegin } from './secondaries/glue.js';
import type { SecondaryCounts } from './stats.js';

export type { PageRef } from './primary/mm.js';

/** A region of the address space a secondary may mirror: pages `[start, end)`. */
export interface MirrorRegion {
  /** `guest` (the KVM guest's RAM), `device` (the HMM device's buffers), `ring` (vhost's rings). */
  readonly name: string;
  readonly start: number;
  readonly end: number;
}

/**
 * The checks a secondary reports to, as the built-in secondaries do: the checker verifies each
 * against the primary page table at once (a stale translation fails the run there).
 */
export interface SecondaryChecks {
  /** A translation is being installed (call it right before storing `ref` in the table). */
  install(ref: PageRef): void;
  /** A read of `ref.page` through the translation `ref`: the value it reads (checked). */
  read(ref: PageRef): number;
  /** A write through the translation `ref` (it must be writable): the value it stored. */
  write(ref: PageRef): number;
}

/**
 * What a secondary MMU gets from the simulated world, and nothing more. Every method that may
 * wait acts for the task running now (one of the secondary's own tasks, or the primary's task
 * whose invalidation calls the secondary's callback): its waits are scheduling points, so the
 * seeded scheduler decides every interleaving and a seed replays exactly. A secondary's code
 * must await nothing but these points (and the package helpers driven by them).
 */
export interface SecondaryContext {
  /**
   * The address space's notifier (one per address space): `insertInterval(start, length, ops)`
   * with byte addresses (`page * pageSize`), or `register(ops)` for a classic subscriber.
   */
  readonly subs: MmuNotifierSubscriptions;
  /** Bytes per page: notifier ranges are in bytes, everything else here is in pages. */
  readonly pageSize: number;
  /** Pages in the address space. */
  readonly pages: number;
  /**
   * The regions the process keeps mapped (it re-establishes them after munmap or mprotect) and
   * the primary's operations aim at: what a secondary should mirror to see churn.
   */
  readonly regions: readonly MirrorRegion[];
  /**
   * The secondary's own seeded random stream (the same for the same seed), for the factory; each
   * task also gets a stream of its own (SecondaryTask.turn).
   */
  readonly rng: Prng;
  /** A scheduling point of the running task: another task may run before it goes on. */
  yield(label: string): Promise<void>;
  /**
   * The scheduling point a fault waits at before it retries: pass it as `faultWithRetry`'s
   * `backoff` (the helper's default waits for a macrotask, which is outside the scheduler: the
   * run would stop as a crash). Under PCT the task also drops below the others' priorities, so
   * the invalidation it waits for gets to run.
   */
  backoff(): Promise<void>;
  /**
   * A new sleeping mutex whose waits are scheduling points, usable as the `lock` of
   * `invalidateOps`, `faultWithRetry` and `teardownInterval` (it acts for the running task).
   */
  lock(name: string): NotifierLock;
  /**
   * get_user_pages() of one page, as a secondary's fault resolves it: faults the page in
   * (`write`: writable) under the mmap read lock and returns the translation to install, or a
   * negative errno (EFAULT: no VMA or PROT_NONE, EPERM: a write to a read-only VMA). The page is
   * not pinned, and the caller is preempted after the lookup (a scheduling point): by the time it
   * installs, an invalidation may have taken the page away, which only the retry check can tell.
   */
  resolve(page: number, write: boolean): Promise<PageRef | number>;
  /** The current translation of `page`, or undefined; no fault, no wait (hmm_range_fault without REQ_FAULT). */
  lookup(page: number): PageRef | undefined;
  /**
   * `sub` as the running task uses it: `readBegin()` waits for a running invalidation as a
   * scheduling point, and `remove()` (a deferred removal) too, once awaited. Pass this view, not
   * `sub`, as `faultWithRetry`'s `subscription` and to `teardownInterval`; the invalidate
   * callbacks still get `sub` itself.
   */
  scheduled(sub: IntervalNotifier): IntervalNotifier;
  /** The checker's hooks (see SecondaryChecks). */
  readonly check: SecondaryChecks;
  /** Records an event in the run's trace (shown in a violation report's last events). */
  trace(label: string, a?: number, b?: number, c?: number): void;
  /**
   * Reports a broken rule of the secondary's own (a count that does not add up, a lock still
   * held): the run stops with a violation carrying `message`, reported and replayed as the
   * checker's own. Never returns: it unwinds the running task.
   */
  fail(message: string): never;
}

/** The read-only window the checker has on a secondary's table (SecondaryView without the name). */
export type TranslationView = Pick<SecondaryView, 'forEachTranslation' | 'forEachTranslationIn'>;

/** One task of a secondary (a device queue, a vCPU...). */
export interface SecondaryTask {
  /**
   * The task's name in the trace and the report, unique in the run (prefix it with the
   * secondary's name: the sim's own tasks are `cpu0`, `mm`, `kswapd`, `vcpu0`, `dev0`, `vhost`...).
   */
  name: string;
  /**
   * One turn: one access or fault, drawing from `rng`, the task's own seeded stream (forked when
   * the task is spawned). Called again until the process is gone or the task's share of `--ops`
   * is used up; each turn runs with the address space pinned (mmget_not_zero: the exit waits for
   * it) and is skipped while the process is exiting. Returns the promise of what it started, or
   * nothing when it did not wait.
   */
  turn(rng: Prng): Promise<unknown> | undefined | void;
  /**
   * The rest of the task once its loop is over (the process is gone or its share is used up):
   * run as this task, before the secondary's teardown (which waits for the last task). Optional.
   */
  exit?(): Promise<void>;
}

/** What a secondary factory returns. */
export interface UserSecondary {
  /** Its name in the checker's messages and the trace. */
  name: string;
  /** Its translations, as the checker reads them after every change of the primary and in sweeps. */
  view: TranslationView;
  /**
   * The tasks to spawn. May be empty (a device with no queue running, as `--devices 0`): then
   * nothing runs the teardown, and release() alone must leave the secondary with nothing.
   */
  tasks: readonly SecondaryTask[];
  /**
   * Run once at process exit, after the secondary's tasks stopped: unsubscribe
   * (`teardownInterval`). A subscription left in place is fine too: release() invalidates it.
   */
  teardown?: () => Promise<void>;
  /**
   * Called once after a run that found nothing, when every task has ended: a last check of the
   * secondary's own state (nothing left counted, held or pending), reported with `ctx.fail()`.
   * Optional.
   */
  finish?: () => void;
}

/**
 * A secondary MMU brought by the user: called once per run, before the run starts, with the
 * world's context. `mmu-sim run --secondary <file>` loads an ES module whose default export is
 * one of these.
 */
export type SecondaryFactory = (ctx: SecondaryContext) => UserSecondary | Promise<UserSecondary>;

/** A secondary module or factory that cannot be used: the message is one line, for the CLI. */
export class SecondaryModuleError extends Error {
  override readonly name = 'SecondaryModuleError';
}

/** The absolute path `--secondary <file>` names (relative to the working directory). */
export function secondaryPath(file: string): string {
  return isAbsolute(file) ? file : resolvePath(process.cwd(), file);
}

/**
 * Loads the factory of a secondary module: its default export. Throws SecondaryModuleError when
 * the file is missing, fails to load, or does not default-export a function.
 */
export async function loadSecondaryFactory(file: string): Promise<SecondaryFactory> {
  const path = secondaryPath(file);
  if (!existsSync(path) || !statSync(path).isFile())
    throw new SecondaryModuleError(`--secondary ${file}: no such file`);
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(path).href)) as { default?: unknown };
  } catch (error) {
    const why = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new SecondaryModuleError(`--secondary ${file}: cannot load it as an ES module: ${why}`);
  }
  if (typeof mod.default !== 'function') {
    throw new SecondaryModuleError(
      `--secondary ${file}: the module must default-export a function (ctx) => secondary, its default export is ${mod.default === undefined ? 'missing' : typeof mod.default}`,
    );
  }
  return mod.default as SecondaryFactory;
}

/** Checks what a factory returned; throws SecondaryModuleError naming the first missing member. */
export function checkUserSecondary(value: unknown, source: string): UserSecondary {
  const bad = (what: string): never => {
    throw new SecondaryModuleError(`${source}: the factory returned ${what}`);
  };
  if (typeof value !== 'object' || value === null) return bad(`${String(value)}, not an object`);
  const s = value as Partial<UserSecondary>;
  if (typeof s.name !== 'string' || s.name === '') bad('no name (a non-empty string)');
  if (
    typeof s.view !== 'object' ||
    s.view === null ||
    typeof s.view.forEachTranslation !== 'function' ||
    typeof s.view.forEachTranslationIn !== 'function'
  ) {
    bad('no view with forEachTranslation() and forEachTranslationIn()');
  }
  if (!Array.isArray(s.tasks)) bad('no tasks (an array)');
  for (const t of s.tasks!) {
    if (
      typeof t !== 'object' ||
      t === null ||
      typeof t.name !== 'string' ||
      typeof t.turn !== 'function'
    )
      bad('a task without a name and a turn()');
    if (t.exit !== undefined && typeof t.exit !== 'function')
      bad(`a task ${t.name} whose exit is no function`);
  }
  if (s.teardown !== undefined && typeof s.teardown !== 'function')
    bad('a teardown that is no function');
  if (s.finish !== undefined && typeof s.finish !== 'function') bad('a finish that is no function');
  return s as UserSecondary;
}

/** The world a user secondary is attached to (the scenario's internals). */
export interface SecondaryWorld {
  mm: AddressSpace;
  checker: Checker;
  regions: readonly MirrorRegion[];
  rng: Prng;
}

/**
 * Calls `factory` with a context on `world`, checks what it returns and registers its view with
 * the checker. `source` names the factory in errors (the module's path). With `counted`, what the
 * secondary does through its context (accesses, faults, retries) is counted there, under its
 * name (a second secondary of the same name is refused).
 */
export async function attachSecondary(
  factory: SecondaryFactory,
  world: SecondaryWorld,
  source: string,
  counted?: Record<string, SecondaryCounts>,
): Promise<UserSecondary> {
  const { mm, checker } = world;
  const { sched } = mm.ctx;
  // The name is known once the factory returned; the hooks read it when called.
  let who = source;
  const running = (what: string): Task => {
    const t = sched.current;
    if (t === null) throw new Error(`${who}: ${what} outside any task`);
    return t;
  };
  // Its counts in the run's statistics, under its name once the factory returned it.
  const counts: SecondaryCounts = { accesses: 0, faults: 0, retries: 0 };
  const ctx: SecondaryContext = {
    subs: mm.subs,
    pageSize: PAGE_SIZE,
    pages: mm.pages,
    regions: world.regions,
    rng: world.rng,
    yield: (label) => sched.yield(running('yield'), label),
    backoff: () => {
      const t = running('backoff');
      counts.retries++;
      counts.faults--; // the retry's resolve() counts again: faults are resolves less retries
      return sched.spinYield(t, `${who} retry`);
    },
    lock: (name) =>
      new SimMutex(sched, name).notifierLock(() => {
        mm.ctx.stats.waits.lock++;
      }),
    resolve: async (page, write) => {
      const t = running('resolve');
      counts.faults++;
      const r = mm.gup(t, page, write);
      const ref = r instanceof Promise ? await r : r;
      await sched.yield(t, `${who} resolve`);
      return ref;
    },
    lookup: (page) => mm.lookup(page),
    scheduled: (sub) =>
      scheduledView(
        mm,
        sub,
        () => running('a subscription wait'),
        () => who,
      ),
    check: {
      install: (ref) => checker.onInstall(who, ref.page, ref.frame, ref.gen, ref.writable),
      read: (ref) => {
        counts.accesses++;
        return checker.read(who, ref.page, ref.frame, ref.gen);
      },
      write: (ref) => {
        counts.accesses++;
        return checker.write(who, ref.page, ref.frame, ref.gen);
      },
    },
    trace: (label, a = 0, b = 0, c = 0) => {
      const t = sched.current;
      if (t !== null) mm.ev(t, label, a, b, c);
    },
    fail: (message) => checker.fail(`${who}: ${message}`),
  };
  const secondary = checkUserSecondary(await factory(ctx), source);
  who = secondary.name;
  if (counted !== undefined) {
    if (Object.hasOwn(counted, who))
      throw new SecondaryModuleError(`${source}: a secondary is already named ${who}`);
    counted[who] = counts;
  }
  const view = secondary.view;
  // A view that already carries the secondary's name (the built-ins' own objects) is registered
  // as it is, without a call more per check.
  const named: SecondaryView =
    (view as Partial<SecondaryView>).name === secondary.name
      ? (view as SecondaryView)
      : {
          name: secondary.name,
          forEachTranslation: (fn: TranslationVisitor) => view.forEachTranslation(fn),
          forEachTranslationIn: (start: number, end: number, fn: TranslationVisitor) =>
            view.forEachTranslationIn(start, end, fn),
        };
  checker.addSecondary(named);
  return secondary;
}

/** `sub` with its waits as scheduling points of the running task (SecondaryContext.scheduled). */
function scheduledView(
  mm: AddressSpace,
  sub: IntervalNotifier,
  task: () => Task,
  who: () => string,
): IntervalNotifier {
  const view = {
    get start() {
      return sub.start;
    },
    get last() {
      return sub.last;
    },
    get seq() {
      return sub.seq;
    },
    get state() {
      return sub.state;
    },
    tryReadBegin: () => sub.tryReadBegin(),
    readBegin: () => {
      // A number when no wait is needed: faultWithRetry takes it without an await.
      return readBegin(mm, task(), sub, `${who()}: mmu_interval_read_begin`);
    },
    readRetry: (seq: number) => checkedRetry(mm, sub, seq, sub.readRetry(seq), 'readRetry'),
    checkRetry: (seq: number) => checkedRetry(mm, sub, seq, sub.checkRetry(seq), 'checkRetry'),
    remove: () => lazyRemoval(mm, task(), sub, `${who()}: mmu_interval_notifier_remove`),
  };
  return view as unknown as IntervalNotifier;
}
