import type { FaultOptions } from '../src/index.js';
import { InvalidationTracker } from '../src/index.js';

/**
 * Options of a fault on gfn 5 that logs `resolve`, `install <page>` (with `installNote()`
 * appended when given) and `put <page>`, retrying at once. Shared by the faultWithRetry tests.
 */
export function loggingFault(
  lock: FaultOptions<string>['lock'],
  tracker = new InvalidationTracker(),
  installNote?: () => string,
): { tracker: InvalidationTracker; log: string[]; opts: FaultOptions<string> } {
  const log: string[] = [];
  const opts: FaultOptions<string> = {
    tracker,
    lock,
    gfn: 5,
    backoff: () => {},
    resolve: async () => {
      log.push('resolve');
      return 'page';
    },
    install: (p) => log.push(installNote ? `install ${p}, ${installNote()}` : `install ${p}`),
    put: (p) => log.push(`put ${p}`),
  };
  return { tracker, log, opts };
}
