// The stress-test record: `words` Int32 words, all derived from one counter c, so every state a
// writer leaves behind satisfies a checksum: word 0 = c, word i = imul(c, K) + i for i >= 1.
// Plain JS (not TS) because worker_threads load it directly; shared by the workers and the bench.

const K = 0x9e3779b1 | 0;

/** Byte layout of the shared buffer used by the workers. */
export const CONTROL_BYTES = 64; // [0, 12) seqlock words, [16, 32) control words, rest padding
export const GO = 4; // Int32 index: main sets 1 to start all workers together
export const STOP = 5; // Int32 index: main sets 1 to stop them

/** Word i of the record for counter c. */
export function wordFor(c, i) {
  return i === 0 ? c : (Math.imul(c, K) + i) | 0;
}

/** Writer side: store the whole record for counter c with Atomics.store. */
export function storeRecord(rec, c) {
  const m = Math.imul(c, K);
  Atomics.store(rec, 0, c);
  for (let i = 1; i < rec.length; i++) Atomics.store(rec, i, (m + i) | 0);
}

/** Writer side with plain (non-Atomics) stores, for readers that validate with readRetryFenced. */
export function storeRecordPlain(rec, c) {
  const m = Math.imul(c, K);
  rec[0] = c;
  for (let i = 1; i < rec.length; i++) rec[i] = (m + i) | 0;
}

/** True if `copy` is not a state any writer left behind (a torn read). */
export function isTorn(copy) {
  const m = Math.imul(copy[0], K);
  for (let i = 1; i < copy.length; i++) if (copy[i] !== ((m + i) | 0)) return true;
  return false;
}

/** Park until main sets GO (re-checking every 10 ms, so a notify sent too early is harmless). */
export function waitForGo(ctl) {
  while (Atomics.load(ctl, GO) === 0) Atomics.wait(ctl, GO, 0, 10);
}
