import { MMU_NOTIFIER_EVENTS, type MmuNotifierEvent } from '@mmukit/mmu-notifier';

/**
 * A record with one entry per notifier event, in the kernel's enum order (`unmap` =
 * MMU_NOTIFY_UNMAP = 0 first); `value` gets the event and its enum value.
 */
export function perEvent<T>(
  value: (event: MmuNotifierEvent, code: number) => T,
): Record<MmuNotifierEvent, T> {
  const out = {} as Record<MmuNotifierEvent, T>;
  MMU_NOTIFIER_EVENTS.forEach((e, code) => {
    out[e] = value(e, code);
  });
  return out;
}
