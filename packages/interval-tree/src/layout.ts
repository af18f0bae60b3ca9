/**
 * Node record layout. Each slot s owns one 32-byte record in a shared ArrayBuffer, aligned to
 * 32 bytes so it never straddles a 64-byte cache line, holding everything a query reads:
 *
 *   Float64 words (index s*4 + k):   0 start   1 last   2 subtree max of last
 *   Int32 words   (index s*8 + k):   6 left child slot   7 right child slot
 *
 * Parent slot and colour live in separate arrays (only insert/remove and the upward climb of
 * iterNext read them). Slot 0 is the nil sentinel: start +Infinity, last and max -Infinity,
 * children 0, black; walks compare against it instead of testing for nil.
 * @internal
 */
export const F_START = 0;
/** @internal */
export const F_LAST = 1;
/** @internal */
export const F_MAX = 2;
/** @internal */
export const I_LEFT = 6;
/** @internal */
export const I_RIGHT = 7;
/** Float64 words per record (record = 32 bytes). @internal */
export const F_SHIFT = 2;
/** Int32 words per record, as a shift. @internal */
export const I_SHIFT = 3;
/** Largest slot count: Int32 word indexes must stay below 2^31. @internal */
export const MAX_SLOTS = 2 ** 28;
