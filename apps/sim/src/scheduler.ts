import { Prng } from './prng.js';

/** How the scheduler picks the next task among the runnable ones. */
export type StrategyName = 'random' | 'pct';

/** Scheduler options. */
export interface SchedulerOptions {
  /** Seed of the scheduler's own PRNG stream. */
  seed: number;
  /** 'random': uniform choice at every step; 'pct': priority change points (Burckhardt 2010). */
  strategy?: StrategyName;
  /** PCT bug depth d: d - 1 priority change points (default 3). */
  pctDepth?: number;
  /**
   * PCT: the run's length k in steps over which the change points are spread (default 10000),
   * when there is no `progress`.
   */
  pctSteps?: number;
  /**
   * PCT: how much of the run is done, from 0 to 1 (e.g. operations issued / operations planned).
   * With it, each change point is drawn as a fraction of the run and taken at the first step at
   * which `progress()` reaches it: the points spread over the run's real length, however many
   * steps an operation takes, instead of over a guessed `pctSteps`.
   */
  progress?: () => number;
  /** Abort with a livelock report after this many steps (default Infinity). */
  maxSteps?: number;
  /** A schedule to follow instead of the strategy, for exhaustive exploration. */
  schedule?: ScheduleChoices;
}

/**
 * A schedule given as choices, for exhaustive exploration. At every decision with more than one
 * allowed choice, the k-th such decision takes choice `prefix[k]` (0 once the prefix is used up)
 * and appends its number of allowed choices to `branching`. The allowed choices, in order: the
 * task that ran last, if it is still runnable (going on costs no preemption), then every other
 * runnable task (each a preemption), these only while fewer than `preemptionBound` preemptions
 * were made; when the last task blocked or ended, every runnable task, at no cost.
 */
export interface ScheduleChoices {
  prefix: readonly number[];
  branching: number[];
  /** The most preemptions a schedule may make (default: no bound). */
  preemptionBound?: number;
}

/** Life cycle of a task as the scheduler sees it. */
export type TaskState = 'runnable' | 'running' | 'blocked' | 'done';

/** One simulated thread of control (a CPU thread, a vCPU, a device queue, kswapd...). */
export class Task {
  state: TaskState = 'runnable';
  /** The label of the await point where the task is parked (or last was). */
  label = 'start';
  /** PCT priority (higher runs first). */
  priority = 0;
  /** @internal resolver of the promise the task is parked on. */
  resume: (() => void) | null = null;
  /** @internal A loop task's turn, label and tail (see Scheduler.spawnLoop); null for others. */
  loop: Loop | null = null;
  /** @internal A loop task waiting for its next turn: dispatch calls `turn` (no promise). */
  atTurn = false;
  constructor(
    readonly id: number,
    readonly name: string,
  ) {}
}

/**
 * One turn of a loop task (see Scheduler.spawnLoop): `false` ends the loop; undefined means the
 * turn is done; a promise means it goes on until the promise settles. After a done turn the task
 * waits at its label for the next one (a scheduling point, as `yield`).
 */
export type LoopTurn = (t: Task) => Promise<unknown> | false | undefined;

/** A loop task's turn function and what follows its loop. */
export interface Loop {
  turn: LoopTurn;
  label: string;
  tail: ((t: Task) => Promise<void>) | undefined;
  /** Callbacks of a turn's promise, made once per task. */
  done: () => void;
  threw: (error: unknown) => void;
}

/**
 * Watches the tasks park and resume (the timeline behind `--trace FILE` and `--report` derives
 * its wait and retry spans from it). It only records: it must not call into the scheduler.
 */
export interface SchedulerObserver {
  /** `t` parked at `label`: `blocked` (park, wait) or still runnable (yield). */
  parked(t: Task, label: string, blocked: boolean): void;
  /** `t` was picked and is about to run again (the step is `steps`). */
  resumed(t: Task): void;
}

/** Thrown into nothing: a run that stops leaves its tasks parked forever; this marks why. */
export interface StopReason {
  kind: 'violation' | 'deadlock' | 'livelock' | 'crash';
  message: string;
  error?: unknown;
}

const NEVER: Promise<never> = new Promise<never>(() => {});
const RESOLVED: Promise<void> = Promise.resolve();

/**
 * One executor shared by every park: it only hands the resolver out through `captured`, so a
 * scheduling point allocates the promise and its resolving functions but no closure of its own.
 */
let captured: (() => void) | null = null;
function capture(resolve: () => void): void {
  captured = resolve;
}
function same(): void {}

/** A promise that `t.resume()` settles. */
function parkPromise(t: Task): Promise<void> {
  const p = new Promise<void>(capture);
  t.resume = captured;
  captured = null;
  return p;
}

/**
 * A deterministic cooperative scheduler. Every task parks at its await points
 * (`yield`, `park`, `wait`); the scheduler resumes exactly one parked task at a time, chosen by
 * a seeded PRNG. Runs are made only of microtasks, so nothing but the seed decides the order:
 * when the microtask queue drains (observed with one setImmediate) and no task is runnable while
 * some are still alive, that is a deadlock.
 *
 * Rules: a task's own code runs only between its resume and its next park, and a blocked task
 * is made runnable only by task code (unpark, a WaitQueue's wakeAll), never by a promise
 * settling. A package's wait (an invalidation's end, a grace period) is a WaitQueue woken by the
 * simulation where the package's state says the event happened; the task takes the package's
 * promise only after it runs again, while it is the running task. So which task runs when
 * depends only on the seed, not on how many microtasks any promise chain takes.
 *
 * A loop task (spawnLoop) is resumed without a promise: the scheduler calls its turn, after the
 * code of the task that parked has returned (turns run one after the other in runTurns, or from
 * a microtask when a task parks inside other code). Code that a task runs after a park call and
 * before awaiting its promise may therefore run after other tasks' turns: it must only go on to
 * that await.
 */
export class Scheduler {
  /** Logical time: the number of scheduling decisions made so far. */
  steps = 0;
  /** The task whose code is running now, or null while the scheduler is idle. */
  current: Task | null = null;
  /** Set when the run stopped early (violation, deadlock...). */
  stopReason: StopReason | undefined;
  /** Called after every scheduling decision, before the chosen task runs. */
  onStep: ((task: Task) => void) | undefined;
  /** Sees every park and resume; changes nothing in the run. */
  observer: SchedulerObserver | undefined;
  /**
   * For tests: how many extra microtasks pass before `t`'s code goes on after a scheduling point
   * (a promise chain of that length). Changes nothing in the run (see the class rules).
   */
  resumeDelay: ((t: Task) => number) | undefined;

  private readonly prng: Prng;
  private readonly strategy: StrategyName;
  private readonly runnable: Task[] = [];
  private readonly tasks: Task[] = [];
  private live = 0;
  private finished = false;
  private stopped = false;
  private readonly maxSteps: number;
  /** PCT change points, ascending: step numbers, or fractions of `progress` when it is set. */
  private readonly changePoints: number[] = [];
  private readonly progress: (() => number) | undefined;
  private nextChange = 0;
  private readonly pctDepth: number;
  private lastDispatched: Task | null = null;
  /** A task in pass(): runnable again once the next pick is made. */
  private passing: Task | null = null;
  /** A loop task dispatched while turns are running: its turn runs next (see runTurns). */
  private nextTurn: Task | null = null;
  private turning = false;
  private readonly schedule: ScheduleChoices | undefined;
  private preemptions = 0;
  /** PCT: the next priority for a task that spins (below change points, which are >= 1). */
  private spinFloor = 0;

  constructor(opts: SchedulerOptions) {
    this.prng = new Prng(opts.seed);
    this.strategy = opts.strategy ?? 'random';
    if (this.strategy !== 'random' && this.strategy !== 'pct') {
      throw new RangeError(`unknown strategy ${String(this.strategy)}`);
    }
    this.maxSteps = opts.maxSteps ?? Number.POSITIVE_INFINITY;
    this.pctDepth = Math.max(1, opts.pctDepth ?? 3);
    this.progress = opts.progress;
    this.schedule = opts.schedule;
    if (this.strategy === 'pct') {
      const k = Math.max(1, opts.pctSteps ?? 10_000);
      for (let i = 0; i < this.pctDepth - 1; i++) {
        this.changePoints.push(
          this.progress === undefined ? 1 + this.prng.int(k) : this.prng.float(),
        );
      }
      this.changePoints.sort((a, b) => a - b);
    }
  }

  /** PCT: how many of the d - 1 priority change points the run has reached so far. */
  get priorityChanges(): number {
    return this.nextChange;
  }

  /** All tasks ever spawned. */
  get allTasks(): readonly Task[] {
    return this.tasks;
  }

  /** True once stop() was called or the run ended. */
  get isStopped(): boolean {
    return this.stopped;
  }

  /** Creates a task; its body starts at the task's first turn. */
  spawn(name: string, body: (t: Task) => Promise<void>): Task {
    const t = new Task(this.tasks.length, name);
    // PCT: distinct random initial priorities above every change-point priority.
    t.priority = this.pctDepth + this.prng.float();
    this.tasks.push(t);
    this.live++;
    parkPromise(t)
      .then(() => body(t))
      .then(
        () => this.finish(t),
        (error: unknown) => this.threw(t, error),
      );
    this.runnable.push(t);
    return t;
  }

  /**
   * Creates a loop task: at each of its turns the scheduler calls `turn(t)` itself, so a turn
   * that finishes without sleeping costs no promise and no microtask; between turns the task
   * waits at `label`, a scheduling point exactly as `await yield(t, label)` at the end of each
   * pass of `while (...) { ...; await yield(t, label) }` would be. When `turn` returns false the
   * loop is over: `tail` (if any) runs as the rest of the task, then the task ends.
   */
  spawnLoop(name: string, label: string, turn: LoopTurn, tail?: (t: Task) => Promise<void>): Task {
    const t = new Task(this.tasks.length, name);
    t.priority = this.pctDepth + this.prng.float();
    this.tasks.push(t);
    this.live++;
    t.atTurn = true;
    t.loop = {
      turn,
      label,
      tail,
      done: () => this.turnDone(t),
      threw: (error: unknown) => this.threw(t, error),
    };
    this.runnable.push(t);
    return t;
  }

  private readonly runTurnsTask = (): void => this.runTurns();

  /** Runs the turns dispatch handed over, one after the other (never nested). */
  private runTurns(): void {
    this.turning = true;
    try {
      for (let t = this.nextTurn; t !== null; t = this.nextTurn) {
        this.nextTurn = null;
        this.runTurn(t);
      }
    } finally {
      this.turning = false;
    }
  }

  private runTurn(t: Task): void {
    t.atTurn = false;
    const loop = t.loop as Loop;
    let r: Promise<unknown> | false | undefined;
    try {
      r = loop.turn(t);
    } catch (error) {
      this.threw(t, error);
      return;
    }
    if (r === undefined) this.turnDone(t);
    else if (r === false) this.endLoop(t, loop);
    else r.then(loop.done, loop.threw);
  }

  /** A turn is done: `t` waits at its label for the next one (a scheduling point). */
  private turnDone(t: Task): void {
    if (this.stopped) return;
    const label = (t.loop as Loop).label;
    t.atTurn = true;
    t.label = label;
    t.state = 'runnable';
    if (this.observer !== undefined) this.observer.parked(t, label, false);
    this.runnable.push(t);
    if (this.current === t || this.current === null) {
      this.current = null;
      this.dispatch(true);
    }
  }

  /** The loop of `t` is over: its tail runs, then it ends. */
  private endLoop(t: Task, loop: Loop): void {
    if (loop.tail === undefined) {
      this.finish(t);
      return;
    }
    let rest: Promise<void>;
    try {
      rest = loop.tail(t);
    } catch (error) {
      this.threw(t, error);
      return;
    }
    rest.then(() => this.finish(t), loop.threw);
  }

  /** `t` threw (or its promise rejected): it ends, and the run stops as a crash. */
  private threw(t: Task, error: unknown): void {
    this.finish(t);
    if (error instanceof StopSignal) return;
    this.stop({ kind: 'crash', message: `task ${t.name} threw: ${describe(error)}`, error });
  }

  /** A scheduling point: `t` stays runnable, another task (or `t` again) is picked. */
  yield(t: Task, label: string): Promise<void> {
    return this.suspend(t, label, 'runnable');
  }

  /**
   * A scheduling point inside a retry loop that waits for another task to make progress (a
   * fault's backoff before it retries). The same as `yield` for `random`; under `pct`, `t` also
   * drops below every priority given so far, as at a change point. Otherwise a spinning task of
   * high priority would keep the scheduler's only turn while the task it waits for (an
   * invalidation that must end) never runs: a livelock of the strategy, not of the code, since
   * real CPUs run both at once.
   */
  spinYield(t: Task, label: string): Promise<void> {
    if (this.strategy === 'pct' && this.schedule === undefined) t.priority = this.spinFloor--;
    return this.suspend(t, label, 'runnable');
  }

  /**
   * A scheduling point at which `t` lets another task run first: `t` sits out the next pick and
   * is runnable again right after it (at once if no other task is runnable). For a wait that
   * ends on its own, without anyone's help, but not at once (a removal with no invalidation to
   * wait for, a grace period with no reader inside): the task blocks, and the others get a turn.
   */
  pass(t: Task, label: string): Promise<void> {
    if (this.stopped) return NEVER;
    if (this.runnable.length === 0) return this.suspend(t, label, 'runnable');
    this.passing = t;
    return this.suspend(t, label, 'blocked');
  }

  /** Blocks `t` until someone calls unpark(t). */
  park(t: Task, label: string): Promise<void> {
    return this.suspend(t, label, 'blocked');
  }

  /**
   * Parks `t` at `label`, runnable (a yield: it goes back into the pool) or blocked (until
   * unpark), and, if `t` was the running task (or none was), picks the next one.
   */
  private suspend(t: Task, label: string, state: 'runnable' | 'blocked'): Promise<void> {
    if (this.stopped) return NEVER;
    let p = parkPromise(t);
    if (this.resumeDelay !== undefined) {
      for (let n = this.resumeDelay(t); n > 0; n--) p = p.then(same);
    }
    t.label = label;
    t.state = state;
    if (this.observer !== undefined) this.observer.parked(t, label, state === 'blocked');
    if (state === 'runnable') this.runnable.push(t);
    if (this.current === t || this.current === null) {
      this.current = null;
      this.dispatch();
    }
    return p;
  }

  /** Makes a parked task runnable again (it runs when the scheduler picks it). */
  unpark(t: Task): void {
    if (this.stopped) return;
    if (t.state !== 'blocked') throw new Error(`unpark of ${t.name}, which is ${t.state}`);
    t.state = 'runnable';
    this.runnable.push(t);
    if (this.current === null && !this.stopped) this.dispatch();
  }

  /**
   * Awaits a promise from outside the scheduler as a blocking point of `t`, made runnable when
   * `p` settles. The simulation does not use it: when `t` becomes runnable then depends on the
   * microtasks before `p`'s callbacks, relative to the scheduler's picks (see the class rules).
   */
  async wait<T>(t: Task, p: Promise<T>, label: string): Promise<T> {
    let ok = false;
    let value: T | undefined;
    let error: unknown;
    p.then(
      (v) => {
        ok = true;
        value = v;
        this.unpark(t);
      },
      (e: unknown) => {
        error = e;
        this.unpark(t);
      },
    );
    await this.park(t, label);
    if (!ok) throw error;
    return value as T;
  }

  /** The runnable index the given schedule picks among `n` runnable tasks (see ScheduleChoices). */
  private scheduledChoice(sc: ScheduleChoices, n: number): number {
    const last = this.lastDispatched;
    const j = last === null || last.state !== 'runnable' ? -1 : this.runnable.indexOf(last);
    const mayPreempt = this.preemptions < (sc.preemptionBound ?? Number.POSITIVE_INFINITY);
    const allowed = j < 0 || mayPreempt ? n : 1;
    if (allowed === 1) return Math.max(j, 0); // the last task goes on, or the only one
    const k = sc.branching.length;
    sc.branching.push(allowed);
    const c = k < sc.prefix.length ? (sc.prefix[k] as number) : 0;
    if (!(Number.isInteger(c) && c >= 0 && c < allowed)) {
      throw new RangeError(`schedule: choice ${c} at decision ${k} of ${allowed}`);
    }
    if (j < 0) return c;
    if (c === 0) return j; // the last task goes on
    this.preemptions++;
    return c <= j ? c - 1 : c; // the others, in runnable order, skipping j
  }

  /** Stops the run: no task is resumed any more. The first reason wins. */
  stop(reason: StopReason): void {
    if (this.stopReason === undefined) this.stopReason = reason;
    this.stopped = true;
    this.finished = true;
  }

  /** Runs until every task finished, or the run stopped. */
  async run(): Promise<StopReason | undefined> {
    if (this.live === 0) return undefined;
    this.dispatch(true);
    while (!this.finished) {
      // Reached only when the microtask queue is empty: nothing can happen any more unless the
      // scheduler resumes someone.
      await new Promise<void>((r) => setImmediate(r));
      if (this.finished) break;
      if (this.current !== null) {
        // The running task awaits something that is not a scheduler point: count it as blocked.
        this.current.state = 'blocked';
        this.current = null;
      }
      if (this.runnable.length > 0) {
        this.dispatch(true);
        continue;
      }
      const blocked = this.tasks.filter((t) => t.state === 'blocked');
      this.stop({
        kind: 'deadlock',
        message: `deadlock: no runnable task; blocked: ${blocked.map((t) => `${t.name}@${t.label}`).join(', ')}`,
      });
    }
    return this.stopReason;
  }

  private finish(t: Task): void {
    if (t.state === 'done') return;
    t.state = 'done';
    this.live--;
    if (this.current === t) this.current = null;
    if (this.live === 0) {
      this.finished = true;
      return;
    }
    if (this.current === null) this.dispatch(true);
  }

  /**
   * Picks the next task and lets it run. `clean`: called with no task code on the stack (from a
   * promise callback, or between turns), where a loop task's turn may run at once; elsewhere
   * (a task parking, maybe deep in a package's callback) the turn runs from a microtask.
   */
  private dispatch(clean = false): void {
    if (this.stopped || this.current !== null) return;
    const n = this.runnable.length;
    if (n === 0) return; // idle: a wake-up (unpark) or the run loop continues
    this.steps++;
    if (this.steps > this.maxSteps) {
      this.stop({ kind: 'livelock', message: `no end after ${this.maxSteps} scheduling steps` });
      return;
    }
    let i: number;
    if (this.schedule !== undefined) {
      i = this.scheduledChoice(this.schedule, n);
    } else if (this.strategy === 'random') {
      i = n === 1 ? 0 : this.prng.int(n);
    } else {
      if (
        this.nextChange < this.changePoints.length &&
        (this.progress === undefined ? this.steps : this.progress()) >=
          (this.changePoints[this.nextChange] as number)
      ) {
        // Priority change point: the task that ran last drops below every initial priority.
        if (this.lastDispatched !== null)
          this.lastDispatched.priority = this.pctDepth - 1 - this.nextChange;
        this.nextChange++;
      }
      i = 0;
      let best = (this.runnable[0] as Task).priority;
      for (let j = 1; j < n; j++) {
        const p = (this.runnable[j] as Task).priority;
        if (p > best) {
          best = p;
          i = j;
        }
      }
    }
    const t = this.runnable[i] as Task;
    this.runnable[i] = this.runnable[n - 1] as Task;
    this.runnable.pop();
    if (this.passing !== null) {
      this.passing.state = 'runnable';
      this.runnable.push(this.passing);
      this.passing = null;
    }
    this.current = t;
    this.lastDispatched = t;
    t.state = 'running';
    // dispatch() runs wherever a task parks, finishes or is woken, often inside a promise
    // handler: what the hook throws must become the run's stop reason, never escape from here
    // (it would reject a handler's promise nobody awaits and crash the process).
    if (this.onStep !== undefined) {
      try {
        this.onStep(t);
      } catch (error) {
        // A StopSignal follows the stop() that recorded its reason (the first reason wins).
        this.stop(
          error instanceof StopSignal
            ? { kind: 'crash', message: 'step hook threw StopSignal without stopping the run' }
            : { kind: 'crash', message: `step hook threw: ${describe(error)}`, error },
        );
      }
    }
    if (this.stopped) return;
    if (this.observer !== undefined) this.observer.resumed(t);
    if (t.atTurn) {
      // A loop task's turn: called by the scheduler, not through a promise. Turns run one after
      // the other in runTurns (a turn that ends dispatches the next task: no recursion), never
      // inside another task's code: a task that parks may be inside a package's callback, which
      // the turn must not run in (the package would see a call from inside its callback).
      this.nextTurn = t;
      if (!this.turning) {
        if (clean) this.runTurns();
        else RESOLVED.then(this.runTurnsTask); // a microtask (queueMicrotask costs more in Node)
      }
      return;
    }
    const r = t.resume;
    t.resume = null;
    r?.();
  }
}

/**
 * A wait queue woken by the simulation itself (the kernel's `wait_event` / `wake_up_all`): a task
 * parks on it until the code that makes its condition true (an invalidation's end, a reader
 * leaving) calls `wakeAll()`, which makes every waiter runnable, in the order they came. The
 * wake-up is a step of the task that wakes, never a promise callback: where a package's promise
 * announces the same event, the simulation wakes its waiters from its own code at the moment the
 * package's state says the event happened, so the run does not depend on when the package's
 * promises settle. Waiters re-check their condition after waking.
 */
export class WaitQueue {
  private waiters: Task[] = [];

  constructor(private readonly sched: Scheduler) {}

  /** Number of parked waiters. */
  get size(): number {
    return this.waiters.length;
  }

  /** Parks `t` (blocked, at `label`) until the next wakeAll(). */
  wait(t: Task, label: string): Promise<void> {
    this.waiters.push(t);
    return this.sched.park(t, label);
  }

  /** Makes every waiter runnable again, in the order they came. */
  wakeAll(): void {
    const woken = this.waiters;
    if (woken.length === 0) return;
    this.waiters = [];
    for (const t of woken) this.sched.unpark(t);
  }
}

/** Thrown to unwind a task after the run was stopped (never reported as a crash). */
export class StopSignal extends Error {
  constructor() {
    super('simulation stopped');
    this.name = 'StopSignal';
  }
}

/** An error as one line; one that carries others (`errors`, as AggregateError) lists them. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const inner = (error as { errors?: unknown }).errors;
  const causes = Array.isArray(inner) ? ` (${inner.map(describe).join('; ')})` : '';
  return `${error.name}: ${error.message}${causes}`;
}
