/**
 * Node record layout. Every tree slot s owns one 32-byte record in a shared ArrayBuffer, read
 * through two views of the same bytes:
 *
 *   Float64Array F, words [s << F64.SHIFT, (s + 1) << F64.SHIFT):
 *     F[(s << F64.SHIFT) + F64.START]  first point of the interval
 *     F[(s << F64.SHIFT) + F64.LAST]   last point (inclusive)
 *     F[(s << F64.SHIFT) + F64.MAX]    largest `last` in the subtree rooted at s
 *     (word 3 is unused: it is the same 8 bytes as Int32 words 6 and 7)
 *
 *   Int32Array W, words [s << I32.SHIFT, (s + 1) << I32.SHIFT):
 *     W[(s << I32.SHIFT) + I32.LEFT]   left child slot (0 = none)
 *     W[(s << I32.SHIFT) + I32.RIGHT]  right child slot; in a free slot, the next free slot
 *
 * The record is aligned to 32 bytes, so it never straddles a 64-byte cache line: a query step
 * reads exactly one. Parent slot and colour live in separate arrays (P[s], C[s]) because only
 * insert, remove and the upward climb of a rebuilt walk read them.
 *
 * Slot 0 is the nil sentinel: start +Infinity, last and max -Infinity, children 0, black. Walks
 * compare against it instead of testing for nil: its max of -Infinity ends every descent, and
 * as the leftmost slot of an empty tree its start of +Infinity rejects every query.
 *
 * Why enums: when the package is bundled (tsup/esbuild), each use of a TypeScript enum member
 * is replaced by its literal value, across files (dist/index.js reads `W[(s << 3) + 6]`, with
 * the member's name in a comment), so V8 compiles the same constant offsets as hand-written
 * literals. A top-level `const` would instead become a `var` of the bundle's module scope, which
 * V8 reloads from memory at every use. (Run from source one file at a time, as the tests do, each
 * use is a property load of the imported enum; the benchmark therefore measures dist/.)
 */

/** Float64 words of a record, and the shift from a slot to its first Float64 word. */
export enum F64 {
  START = 0,
  LAST = 1,
  MAX = 2,
  // biome-ignore lint/suspicious/noDuplicateEnumValues: a shift, not a word (4 words per record)
  SHIFT = 2,
}

/** Int32 words of a record, and the shift from a slot to its first Int32 word. */
export enum I32 {
  LEFT = 6,
  RIGHT = 7,
  // 8 words per record
  SHIFT = 3,
}

/** Bytes per record. */
export const RECORD_BYTES = 32;

/** Largest slot count: Int32 word indexes (slot << I32.SHIFT) must stay below 2^31. */
export const MAX_SLOTS = 2 ** 28;
