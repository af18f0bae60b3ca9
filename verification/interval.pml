/*
 * The collision-retry protocol of @mmukit/mmu-notifier's interval subscriptions, as a Promela
 * model for SPIN. Two pages, two subscriptions: A covers pages 0-1 and is in the tree from the
 * start; B covers page 1 and is inserted, faulted through and removed by its owner while
 * invalidations run. An `atomic` block is one synchronous stretch of the TypeScript (the
 * kernel's subscriptions->lock); everything else interleaves statement by statement.
 *
 * Properties:
 *   - no stale mapping: while a subscription is in the tree (or waiting to enter it), each of
 *     its mappings is absent or the primary's current page (the monitor below);
 *   - no callback after remove() returned (assert in the callback);
 *   - no lost wake-up: every process ends (a waiter left asleep is an invalid end state).
 *
 * Mutants (spin -D<NAME>), each must give a counterexample:
 *   NO_READ_RETRY       the fault installs without readRetry under the user lock
 *   NO_SET_SEQ          the invalidate callback zaps but does not setSeq
 *   REMOVE_DURING_WALK  remove() takes the subscription out of the tree at once and returns,
 *                       even while a walk may still call it (the tree changed during a walk)
 *   SEQ_PER_RANGE       every end of an odd period bumps the sequence, not only the last one
 *   WAKE_BEFORE_SEQ     the last end wakes the waiters before it moves the sequence on
 */

#define NONE     0
#define REMOVED  255
#define A        0
#define B        1

/* Subscription states (IntervalNotifier.state). */
#define ABSENT          0
#define PENDING_INSERT  1
#define IN_TREE         2
#define PENDING_REMOVE  3
#define GONE            4

byte inv_seq = 2;          /* MmState._seq: odd while invalidating */
byte nactive = 0;           /* MmState._active: ranges between start and end */
byte wq_gen = 0;           /* MmState._wq: bumped by every wakeAll() */
byte sub_seq[2];           /* IntervalNotifier._seq */
byte state[2];             /* IntervalNotifier._state */
bool ulock = 0;            /* the device's user lock (invalidateOps' lock) */
byte pte[2];               /* the primary page table: page -> version (a new version per change) */
byte spte[4];              /* the device's mappings: spte[s * 2 + page], NONE or a version */
bool removed_ret[2];       /* remove() of the subscription returned */
byte running = 0;          /* processes not finished yet (the monitor stops with them) */

/* Which pages each subscription covers: A [0, 1], B [1, 1]. */
#define FIRST(s)  ((s) == A -> 0 : 1)
#define COVERS(s, p)  ((p) >= FIRST(s))
/* A node of the tree: in it, or leaving it at the end of the busy period. */
#define IN_THE_TREE(s)  (state[s] == IN_TREE || state[s] == PENDING_REMOVE)
#define OVERLAPS(s, lo, hi)  (IN_THE_TREE(s) && (hi) >= FIRST(s))

/* Out of the tree, a subscription gets no invalidation: its owner tears its mappings down. */
#define COHERENT(s, p)  (spte[(s) * 2 + (p)] == NONE || spte[(s) * 2 + (p)] == pte[p] || state[s] == GONE)

/* MmState.waitSeqChange(seq): wait_event(wq, invalidate_seq != seq). */
inline wait_seq_change(seq) {
  do
  :: atomic { inv_seq != seq -> break }
  :: atomic { inv_seq == seq -> g = wq_gen }; (wq_gen != g)
  od
}

/* MmState.invEnd(): the last end of an odd period moves the sequence on, applies the
 * deferred inserts and removals, then wakes every waiter. */
inline inv_end() {
#ifdef WAKE_BEFORE_SEQ
  atomic {
    nactive--;
    release = (nactive == 0 && inv_seq % 2 == 1)
  };
  if
  :: release -> wq_gen++
  :: else -> skip
  fi;
#endif
  atomic {
#ifndef WAKE_BEFORE_SEQ
    nactive--;
#endif
#ifdef SEQ_PER_RANGE
    if
    :: inv_seq % 2 == 1 ->
#else
    if
    :: nactive == 0 && inv_seq % 2 == 1 ->
#endif
      inv_seq++;
      if                                     /* the deferred inserts and removals */
      :: state[A] == PENDING_INSERT -> state[A] = IN_TREE
      :: state[A] == PENDING_REMOVE -> state[A] = GONE
      :: else -> skip
      fi;
      if
      :: state[B] == PENDING_INSERT -> state[B] = IN_TREE
      :: state[B] == PENDING_REMOVE -> state[B] = GONE
      :: else -> skip
      fi
    :: else -> skip
    fi
  };
#ifndef WAKE_BEFORE_SEQ
  wq_gen++
#endif
}

/* invalidateOps' invalidate(sub, range, curSeq) for a blockable range: user lock, setSeq, zap
 * the subscription's part of [lo, hi], unlock. */
inline callback(s, lo, hi, cur) {
  atomic { ulock == 0 -> ulock = 1 };
  assert(!removed_ret[s]);
#ifndef NO_SET_SEQ
  if
  :: sub_seq[s] != REMOVED -> sub_seq[s] = cur
  :: else -> skip
  fi;
#endif
  d_step {                                   /* the zap: under the user lock */
    z = lo;
    do
    :: z <= hi -> if :: COVERS(s, z) -> spte[s * 2 + z] = NONE :: else -> skip fi; z++
    :: else -> break
    od;
    z = 0
  };
  ulock = 0
}

/* A blockable invalidation of pages [lo, hi]: start (the walk), the primary's change, end. */
proctype invalidator(byte lo; byte hi) {
  byte cur; byte s; byte p; byte z; bool release;
  atomic {                                   /* invStartRange */
    nactive++;
    if
    :: OVERLAPS(A, lo, hi) || OVERLAPS(B, lo, hi) -> inv_seq = inv_seq | 1
    :: else -> skip
    fi;
    cur = inv_seq
  };
  s = 0;                                     /* the walk: no lock, the tree is frozen */
  do
  :: s < 2 ->
    if
    :: OVERLAPS(s, lo, hi) -> callback(s, lo, hi, cur)
    :: else -> skip
    fi;
    s++
  :: else -> break
  od;
  p = lo;                                    /* the primary changes the PTEs */
  do
  :: p <= hi -> pte[p]++; p++
  :: else -> break
  od;
  inv_end();
  running--
}

/* A non-blockable invalidation of page 1 (the OOM reaper): a callback that finds the user lock
 * taken returns false (EAGAIN), the walk stops, the start is undone and nothing changes. */
proctype nonblock_invalidator() {
  byte cur; byte s; bool failed = 0; bool got; bool release;
  atomic {
    nactive++;
    if
    :: OVERLAPS(A, 1, 1) || OVERLAPS(B, 1, 1) -> inv_seq = inv_seq | 1
    :: else -> skip
    fi;
    cur = inv_seq
  };
  s = 0;
  do
  :: s < 2 && !failed ->
    if
    :: OVERLAPS(s, 1, 1) ->
      atomic {
        if
        :: ulock == 0 -> ulock = 1; got = 1
        :: else -> got = 0
        fi
      };
      if
      :: got ->
        assert(!removed_ret[s]);
#ifndef NO_SET_SEQ
        if :: sub_seq[s] != REMOVED -> sub_seq[s] = cur :: else -> skip fi;
#endif
        spte[s * 2 + 1] = NONE;
        ulock = 0
      :: else -> failed = 1
      fi
    :: else -> skip
    fi;
    s++
  :: else -> break
  od;
  if
  :: failed -> skip                          /* EAGAIN: only the bookkeeping is undone */
  :: else -> pte[1]++
  fi;
  inv_end();
  running--
}

/* faultWithRetry on subscription s for page p: readBegin, resolve, user lock, readRetry,
 * install. */
inline fault(s, p) {
  do
  :: atomic { seq = sub_seq[s]; wait = (seq == inv_seq) };   /* readBegin */
    if
    :: wait -> wait_seq_change(seq)
    :: else -> skip
    fi;
    v = pte[p];                                                 /* resolve: no lock */
    atomic { ulock == 0 -> ulock = 1 };
#ifdef NO_READ_RETRY
    spte[s * 2 + p] = v; ulock = 0; break
#else
    if
    :: sub_seq[s] != seq -> ulock = 0                          /* readRetry: collided */
    :: else -> spte[s * 2 + p] = v; ulock = 0; break
    fi
#endif
  od
}

proctype faulter(byte s; byte p) {
  byte seq; byte v; bool wait; byte g;
  fault(s, p);
  running--
}

/* B's owner: insert B, fault page 1 through it, remove it, then tear its mappings down. */
proctype owner() {
  byte seq; byte v; bool wait; byte g; byte rseq;
  atomic {                                   /* itreeInsert */
    if
    :: nactive != 0 ->
      if
      :: inv_seq % 2 == 1 -> state[B] = PENDING_INSERT
      :: else -> inv_seq = inv_seq | 1; state[B] = IN_TREE
      fi;
      sub_seq[B] = inv_seq
    :: else -> sub_seq[B] = inv_seq - 1; state[B] = IN_TREE
    fi
  };
  fault(B, 1);
  rseq = 0;
  atomic {                                   /* IntervalNotifier.remove */
#ifdef REMOVE_DURING_WALK
    state[B] = GONE; sub_seq[B] = REMOVED
#else
    if
    :: inv_seq % 2 == 0 -> state[B] = GONE; sub_seq[B] = REMOVED
    :: else ->
      if
      :: state[B] == PENDING_INSERT -> state[B] = GONE
      :: else -> state[B] = PENDING_REMOVE; rseq = inv_seq
      fi;
      sub_seq[B] = REMOVED
    fi
#endif
  };
  if
  :: rseq != 0 -> wait_seq_change(rseq)
  :: else -> skip
  fi;
  removed_ret[B] = 1;
  atomic { ulock == 0 -> ulock = 1 };        /* teardown: zap what B still maps */
  spte[B * 2 + 1] = NONE;
  ulock = 0;
  running--
}

bool stale_mapping = 0;     /* set by the monitor when the property fails */

active proctype monitor() {
  end: atomic {
    !(COHERENT(A, 0) && COHERENT(A, 1) && COHERENT(B, 1)) -> stale_mapping = 1; assert(!stale_mapping)
  }
}

init {
  atomic {
    pte[0] = 1; pte[1] = 1;
    sub_seq[A] = 1; state[A] = IN_TREE;      /* inserted while idle: seq 2 - 1 */
#ifdef EAGAIN
    /* The non-blockable start that fails, against a blockable one and a fault. */
    running = 4;
    run invalidator(0, 1);
    run nonblock_invalidator();
    run faulter(A, 1);
    run owner()
#else
    /* Two overlapping invalidations of one busy period, a fault, and B coming and going. */
    running = 4;
    run invalidator(0, 1);
    run invalidator(1, 1);
    run faulter(A, 1);
    run owner()
#endif
  }
}
