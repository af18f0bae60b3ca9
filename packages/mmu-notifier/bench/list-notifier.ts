/**
 * The peer: a plain linked-list notifier in the classic hlist style, as drivers wrote them before
 * the interval notifier (vhost, gntdev, hmm): every subscriber is visited on every invalidation
 * and checks the overlap itself. O(n) per invalidation, no tree to maintain.
 */
export interface ListSub {
  start: number;
  last: number;
  seq: number;
  next: ListSub | undefined;
}

export class ListNotifier {
  head: ListSub | undefined = undefined;
  seq = 2;

  insert(start: number, last: number): ListSub {
    const sub: ListSub = { start, last, seq: this.seq - 1, next: this.head };
    this.head = sub;
    return sub;
  }

  /** Calls every subscriber overlapping `[start, end)`; returns how many. */
  invalidate(start: number, end: number): number {
    const cur = this.seq + 1;
    let hits = 0;
    for (let s = this.head; s !== undefined; s = s.next) {
      if (s.start < end && s.last >= start) {
        s.seq = cur;
        hits++;
      }
    }
    this.seq += 2;
    return hits;
  }
}
