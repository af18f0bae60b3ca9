/*
 * @mmukit/fault-retry's invalidation tracker as KVM uses it across threads (the
 * SharedInvalidationTracker of `run --threads`): mmu_invalidate_seq, the in-progress count and
 * the merged range, written under mmu_lock by invalidations, read by a vCPU's fault (lockless
 * hints, then the decisive check under mmu_lock) and by a pfn cache whose refresh decides
 * without mmu_lock. Each statement is atomic and any interleaving of them is possible: that
 * stands in for the lack of ordering between threads, the lock for the order it gives.
 *
 * Two guest frames; invalidation X covers frame 0, Y covers frame 1, and they overlap in time.
 *
 * Property: no stale mapping: a shadow PTE is absent or the primary's current page, and the pfn
 * cache, while valid, holds the current page of frame 0 (the monitor below).
 *
 * Mutants (spin -D<NAME>), each must give a counterexample:
 *   LATEST_RANGE       rangeAdd keeps only the latest range instead of the hull
 *   COUNT_BEFORE_SEQ   end() drops the in-progress count before it bumps the sequence
 */

#define NONE  0
#define NO_RANGE  255

byte seq = 0;              /* mmu_invalidate_seq */
byte in_progress = 0;      /* mmu_invalidate_in_progress */
byte range_start = NO_RANGE;  /* the merged range [range_start, range_end) */
byte range_end = 0;
bool mmu_lock = 0;
bool gpc_lock = 0;         /* the pfn cache's own lock */
byte pte[2];               /* the primary: frame -> version (a new version per change) */
byte spte[2];              /* the shadow page table: frame -> version, or NONE */
byte gpc = NONE;           /* the pfn cache of frame 0 */
bool gpc_valid = 0;

#define LOCK(l)    atomic { l == 0 -> l = 1 }
#define UNLOCK(l)  l = 0

/* retryGfn(snap, g), under mmu_lock: in progress over g, or the sequence moved. */
#define RETRY_GFN(snap, g) \
  ((in_progress > 0 && (g) >= range_start && (g) < range_end) || seq != (snap))

/* An invalidation of frame g: start (lock, begin, rangeAdd, zap), the primary's change, end. */
proctype invalidation(byte g) {
  LOCK(mmu_lock);
  in_progress++;                             /* begin() */
  if
  :: in_progress == 1 -> range_start = NO_RANGE; range_end = 0
  :: else -> skip
  fi;
#ifdef LATEST_RANGE
  range_start = g; range_end = g + 1;        /* rangeAdd(g, g + 1) */
#else
  if
  :: range_start == NO_RANGE -> range_start = g; range_end = g + 1
  :: else ->
    if :: g < range_start -> range_start = g :: else -> skip fi;
    if :: g + 1 > range_end -> range_end = g + 1 :: else -> skip fi
  fi;
#endif
  spte[g] = NONE;                            /* the zap */
  if
  :: g == 0 -> LOCK(gpc_lock); gpc_valid = 0; UNLOCK(gpc_lock)
  :: else -> skip
  fi;
  UNLOCK(mmu_lock);
  pte[g]++;                                  /* the primary moves the page */
  LOCK(mmu_lock);
#ifdef COUNT_BEFORE_SEQ
  in_progress--;
  seq++;
#else
  seq++;                                     /* end(): the sequence first, */
  in_progress--;                             /* then the count */
#endif
  UNLOCK(mmu_lock)
}

/* A vCPU's fault on frame 0 (faultWithRetry): snapshot, lockless check, resolve, lockless
 * check, then the decisive check and the install under mmu_lock. */
proctype vcpu() {
  byte snap; byte v; bool hint;
  do
  :: snap = seq;
     hint = (in_progress > 0 && 0 >= range_start && 0 < range_end) || seq != snap;
     if
     :: hint -> skip                          /* retryGfnUnsafe: try again */
     :: else ->
       v = pte[0];                            /* resolve (GUP): no lock */
       LOCK(mmu_lock);
       if
       :: RETRY_GFN(snap, 0) -> UNLOCK(mmu_lock)
       :: else -> spte[0] = v; UNLOCK(mmu_lock); break
       fi
     fi
  od
}

/* The pfn cache's refresh of frame 0 (hva_to_pfn_retry): snapshot, resolve, then under the
 * cache's lock only, retryCache reads the count, then the sequence, and decides. */
proctype refresh() {
  byte snap; byte v; byte count; byte now;
  do
  :: snap = seq;
     v = pte[0];
     LOCK(gpc_lock);
     count = in_progress;
     now = seq;
     if
     :: count > 0 || now != snap -> UNLOCK(gpc_lock)
     :: else -> gpc = v; gpc_valid = 1; UNLOCK(gpc_lock); break
     fi
  od
}

bool stale_mapping = 0;     /* set by the monitor when the property fails */

active proctype monitor() {
  end: atomic {
    !((spte[0] == NONE || spte[0] == pte[0]) && (spte[1] == NONE || spte[1] == pte[1]) &&
      (!gpc_valid || gpc == pte[0])) -> stale_mapping = 1; assert(!stale_mapping)
  }
}

init {
  atomic {
    pte[0] = 1; pte[1] = 1;
    run invalidation(0);
    run invalidation(1);
    run vcpu();
    run refresh()
  }
}
