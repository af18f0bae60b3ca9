/**
 * Why the primary MMU invalidates a range, as the kernel's `enum mmu_notifier_event`
 * (include/linux/mmu_notifier.h), in the kernel's order:
 *
 * - `'unmap'`: the range is unmapped (munmap, mremap move).
 * - `'clear'`: page table entries are cleared (madvise, page replacement, ...).
 * - `'protection-vma'`: the VMA's permissions change (mprotect); they describe the whole range.
 * - `'protection-page'`: per-page permission change; look at the primary page table afterwards.
 * - `'soft-dirty'`: soft-dirty accounting; the pages and their flags stay the same.
 * - `'release'`: the address space is torn down ({@link MmuNotifierSubscriptions.release}).
 * - `'migrate'`: pages are being migrated; a driver may ignore ranges whose `owner` is its own.
 * - `'exclusive'`: a device loses exclusive access; `owner` as given when it was granted.
 */
export type MmuNotifierEvent =
  | 'unmap'
  | 'clear'
  | 'protection-vma'
  | 'protection-page'
  | 'soft-dirty'
  | 'release'
  | 'migrate'
  | 'exclusive';

/** Every {@link MmuNotifierEvent}, in the kernel's enum order (`MMU_NOTIFY_UNMAP` = 0 first). */
export const MMU_NOTIFIER_EVENTS: readonly MmuNotifierEvent[] = Object.freeze([
  'unmap',
  'clear',
  'protection-vma',
  'protection-page',
  'soft-dirty',
  'release',
  'migrate',
  'exclusive',
]);

/** True if `value` is one of the {@link MMU_NOTIFIER_EVENTS}. */
export function isMmuNotifierEvent(value: unknown): value is MmuNotifierEvent {
  switch (value) {
    case 'unmap':
    case 'clear':
    case 'protection-vma':
    case 'protection-page':
    case 'soft-dirty':
    case 'release':
    case 'migrate':
    case 'exclusive':
      return true;
    default:
      return false;
  }
}
