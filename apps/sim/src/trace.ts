/** One recorded event: logical step, task, event kind and up to three numbers. */
export interface TraceEvent {
  step: number;
  task: string;
  kind: string;
  a: number;
  b: number;
  c: number;
}

/**
 * The run's event trace: a fixed ring buffer of the last `capacity` events (always on, cheap:
 * the slots are reused objects), a running 32-bit FNV-1a hash of every event (so two runs can
 * be compared without keeping their logs), and optionally the full log as text lines.
 * Capacity 0 turns tracing off entirely (no ring, no hash: for benchmarks).
 */
export class Trace {
  private readonly ring: TraceEvent[];
  private head = 0;
  private count = 0;
  private h = 0x811c9dc5;
  private readonly kindIds = new Map<string, number>();
  /** Total events recorded. */
  events = 0;
  /** Every event as a line, when constructed with `full: true`. */
  readonly log: string[] | undefined;
  /**
   * False when constructed with capacity 0: add() records nothing, so callers may skip building
   * an event's arguments (labels are precomputed strings; nothing is formatted per event).
   */
  readonly on: boolean;
  /**
   * An observer (the timeline behind `--trace FILE` and `--report`): called with every event
   * add() records and every note(). The event object is reused: copy what you keep. It changes
   * nothing in the run, the ring, the hash or the log.
   */
  listener: ((e: Readonly<TraceEvent>) => void) | undefined = undefined;

  constructor(capacity = 64, full = false) {
    this.ring = [];
    for (let i = 0; i < capacity; i++)
      this.ring.push({ step: 0, task: '', kind: '', a: 0, b: 0, c: 0 });
    this.log = full ? [] : undefined;
    this.on = capacity > 0;
  }

  /** Records an event. */
  add(step: number, task: string, kind: string, a = 0, b = 0, c = 0): void {
    if (!this.on) return; // tracing off
    const slot = this.ring[this.head]!;
    slot.step = step;
    slot.task = task;
    slot.kind = kind;
    slot.a = a;
    slot.b = b;
    slot.c = c;
    this.head = (this.head + 1) % this.ring.length;
    if (this.count < this.ring.length) this.count++;
    this.events++;
    let id = this.kindIds.get(kind);
    if (id === undefined) {
      id = hashString(kind);
      this.kindIds.set(kind, id);
    }
    this.mix(step);
    this.mix(task.length);
    this.mix(id);
    this.mix(a);
    this.mix(b);
    this.mix(c);
    if (this.log !== undefined) this.log.push(formatEvent(slot));
    if (this.listener !== undefined) this.listener(slot);
  }

  /**
   * A side event for the listener only (a fault's begin and end, which the trace itself does not
   * record): not in the ring, the hash, the event count or the log, so notes never change a
   * run's trace. Nothing happens without a listener or with tracing off.
   */
  note(step: number, task: string, kind: string, a = 0, b = 0, c = 0): void {
    if (this.listener === undefined || !this.on) return;
    this.listener({ step, task, kind, a, b, c });
  }

  /** FNV-1a hash of the whole event stream so far, as 8 hex digits. */
  get hash(): string {
    return (this.h >>> 0).toString(16).padStart(8, '0');
  }

  /** The last events, oldest first, formatted. */
  tail(): string[] {
    const out: string[] = [];
    const n = this.ring.length;
    for (let i = 0; i < this.count; i++) {
      out.push(formatEvent(this.ring[(this.head - this.count + i + n) % n]!));
    }
    return out;
  }

  private mix(x: number): void {
    let v = x | 0;
    for (let i = 0; i < 4; i++) {
      this.h ^= v & 0xff;
      this.h = Math.imul(this.h, 0x01000193);
      v >>>= 8;
    }
    // Numbers beyond 32 bits (rare): fold the high part too.
    if (x > 0xffffffff || x < -0x80000000) this.mix(Math.floor(x / 0x100000000));
  }
}

function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Kinds of the notes (Trace.note) the simulation sends, the events a timeline needs that the
 * trace does not record: the begin of a fault on each path (a = the page, or the gfn for kvm,
 * or the first page of the ring for vhost-map, the map rebuild) and its end (a = 0 when the
 * fault installed, else the -errno, or FAULT_GAVE_UP).
 */
export const FAULT_BEGIN = {
  cpu: 'fault-begin cpu',
  kvm: 'fault-begin kvm',
  hmm: 'fault-begin hmm',
  vhost: 'fault-begin vhost',
  vhostMap: 'fault-begin vhost-map',
} as const;
/** See FAULT_BEGIN. */
export const FAULT_END = 'fault-end';
/** FAULT_END's result when a fault gave up after a collision (vhost's map rebuild). */
export const FAULT_GAVE_UP = -11;

/** `#step task kind a b c` with page ranges shown as numbers. */
export function formatEvent(e: TraceEvent): string {
  return `#${e.step} ${e.task.padEnd(8)} ${e.kind} ${e.a} ${e.b} ${e.c}`;
}
