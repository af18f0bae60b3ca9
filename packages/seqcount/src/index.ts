export { loadWords, storeWords } from './atomic-words.js';
export {
  NestedWriteError,
  SeqCountError,
  SrcuUnlockError,
  UnlockedReleaseError,
  UnmatchedWriteEndError,
} from './errors.js';
export { checkLockLike, type LockLike } from './lock-like.js';
export { Mutex } from './mutex.js';
export { SeqCount } from './seqcount.js';
export { SeqCountLatch } from './seqcount-latch.js';
export {
  DEFAULT_MAX_OPTIMISTIC_READS,
  SeqLock,
  type SeqLockArgs,
  type SeqLockOptions,
} from './seqlock.js';
export { checkSharedRegion } from './shared-buffer.js';
export { SharedMutex, type SharedMutexOptions } from './shared-mutex.js';
export { SharedSeqCount } from './shared-seqcount.js';
export { SharedSeqLock, type SharedSeqLockOptions } from './shared-seqlock.js';
export { Srcu } from './srcu.js';
