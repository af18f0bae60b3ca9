export {
  Checker,
  type PrimaryState,
  type SecondaryView,
  type TranslationVisitor,
  type Violation,
} from './checker.js';
export { type ChromeTraceEvent, chromeTrace, chromeTraceJson } from './chrome-trace.js';
export { htmlReport } from './html-report.js';
export { SimMutex, SimRwSem, SimSpinLock } from './locks.js';
export {
  defaultMix,
  MM_OPERATIONS,
  type MmOpContext,
  type MmOperation,
  type MmOpName,
} from './mm-operations.js';
export { FrameAllocator } from './primary/frames.js';
export {
  AddressSpace,
  EBUSY,
  EFAULT,
  EPERM,
  PAGE_SIZE,
  type PageRef,
  type SimContext,
} from './primary/mm.js';
export * as ops from './primary/ops.js';
export {
  PageTable,
  PTE_DIRTY,
  PTE_PROTNONE,
  PTE_WRITE,
  PTE_YOUNG,
  SwapSpace,
} from './primary/page-table.js';
export { PROT_READ, PROT_WRITE, type Vma, VmaSet } from './primary/vmas.js';
export { Prng } from './prng.js';
export { formatReport, replayFlags, toJson } from './report.js';
export {
  type Bugs,
  DEFAULT_CONFIG,
  type OpMix,
  type RunResult,
  runScenario,
  type ScenarioConfig,
} from './scenario.js';
export {
  Scheduler,
  type SchedulerOptions,
  StopSignal,
  type StrategyName,
  Task,
} from './scheduler.js';
export {
  HMM_TIMEOUT_STEPS,
  type HmmBugs,
  HmmMirror,
  type MirrorBuffer,
  SNAP_ERROR,
  SNAP_NONE,
  SNAP_READ,
  SNAP_WRITE,
} from './secondaries/hmm-mirror.js';
export { type KvmBugs, KvmGuest, type Memslot } from './secondaries/kvm.js';
export { type VhostBugs, VhostDev, type VhostRing } from './secondaries/vhost.js';
export {
  attachSecondary,
  checkUserSecondary,
  loadSecondaryFactory,
  type MirrorRegion,
  type SecondaryChecks,
  type SecondaryContext,
  type SecondaryFactory,
  SecondaryModuleError,
  type SecondaryTask,
  type SecondaryWorld,
  secondaryPath,
  type TranslationView,
  type UserSecondary,
} from './secondary-api.js';
export { Stats } from './stats.js';
export {
  defaultThreads,
  MAX_THREADS,
  runThreads,
  type ThreadsConfig,
  type ThreadsResult,
} from './threads/run-threads.js';
export { THREAD_BUGS, type ThreadBug } from './threads/vcpu.js';
export { type FaultRecord, type Instant, type Span, Timeline } from './timeline.js';
export { formatEvent, Trace, type TraceEvent } from './trace.js';
