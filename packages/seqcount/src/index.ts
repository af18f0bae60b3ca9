export {
  NestedWriteError,
  SeqCountError,
  UnlockedReleaseError,
  UnmatchedWriteEndError,
} from './errors.js';
export { SeqCount } from './seqcount.js';
export { DEFAULT_MAX_OPTIMISTIC_READS, SeqLock, type SeqLockOptions } from './seqlock.js';
