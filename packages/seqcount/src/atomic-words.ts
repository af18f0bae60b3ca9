/**
 * Copy `target.length` Int32 words from `source`, starting at `sourceIndex`, into `target`, each
 * with `Atomics.load`. Use it inside a shared read section: SeqCst loads of the data are what
 * make a read that passes `readRetry()` provably untorn under the ECMAScript memory model
 * (README, "Why this is correct"). On x86-64 an Atomics.load compiles to a plain load.
 * Allocates nothing.
 * @throws RangeError if the words are out of `source`'s bounds (before copying anything).
 */
export function loadWords(source: Int32Array, sourceIndex: number, target: Int32Array): void {
  const n = target.length;
  if (!(sourceIndex >= 0 && sourceIndex + n <= source.length) || !Number.isInteger(sourceIndex)) {
    throw new RangeError(
      `loadWords: words [${sourceIndex}, ${sourceIndex + n}) are outside the source of length ${source.length}`,
    );
  }
  for (let i = 0; i < n; i++) target[i] = Atomics.load(source, sourceIndex + i);
}

/**
 * Store every word of `source` into `target` starting at `targetIndex`, each with
 * `Atomics.store`: the writer half of {@link loadWords}. Allocates nothing.
 * @throws RangeError if the words are out of `target`'s bounds (before storing anything).
 */
export function storeWords(
  target: Int32Array,
  targetIndex: number,
  source: ArrayLike<number>,
): void {
  const n = source.length;
  if (!(targetIndex >= 0 && targetIndex + n <= target.length) || !Number.isInteger(targetIndex)) {
    throw new RangeError(
      `storeWords: words [${targetIndex}, ${targetIndex + n}) are outside the target of length ${target.length}`,
    );
  }
  for (let i = 0; i < n; i++) Atomics.store(target, targetIndex + i, source[i] as number);
}
