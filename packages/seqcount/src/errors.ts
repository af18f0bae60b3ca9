/**
 * Base class of every error this package throws for a broken locking protocol
 * (as opposed to bad arguments, which are `TypeError`/`RangeError`).
 * Thrown before any state changes.
 */
export class SeqCountError extends Error {
  override name = 'SeqCountError';
}

/**
 * `writeBegin()` was called while a write section is already open (the sequence is odd), or, for
 * the shared variants, another thread began a write at the same moment. Writers must be
 * serialized by the caller, as in the kernel (seqlock.rst: "Write side critical sections must thus
 * be serialized by an external lock"). The sequence is left unchanged.
 */
export class NestedWriteError extends SeqCountError {
  override name = 'NestedWriteError';
}

/**
 * `writeEnd()` was called with no write section open (the sequence is even).
 * The sequence is left unchanged.
 */
export class UnmatchedWriteEndError extends SeqCountError {
  override name = 'UnmatchedWriteEndError';
}

/**
 * A lock was released by code that does not hold it (for example `SharedMutex.unlock()` on an
 * unlocked mutex). The lock state is left unchanged.
 */
export class UnlockedReleaseError extends SeqCountError {
  override name = 'UnlockedReleaseError';
}

/**
 * `Srcu.readUnlock()` was given a token with no reader inside: a second unlock of the same
 * section, or a value that `readLock()` did not return. Nothing changes.
 */
export class SrcuUnlockError extends SeqCountError {
  override name = 'SrcuUnlockError';
}
