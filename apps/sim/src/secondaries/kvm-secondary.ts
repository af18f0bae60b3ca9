import type { Checker } from '../checker.js';
import type { AddressSpace } from '../primary/mm.js';
import type { Prng } from '../prng.js';
import type { Task } from '../scheduler.js';
import type { SecondaryFactory } from '../secondary-api.js';
import { type KvmBugs, type KvmFeatures, KvmGuest } from './kvm.js';

/** How the reference world runs its KVM guest (the scenario's `--vcpus`, `--arm64-vcpus`...). */
export interface KvmWorkload {
  /** vCPU tasks (`vcpu0`, ...). */
  vcpus: number;
  /** The last this many vCPUs fault as arm64 does; the others as x86. */
  arm64Vcpus: number;
  /** Chance per turn that vCPU 0 updates the memslots instead of accessing guest memory. */
  memslotUpdates: number;
  /** Chance that a signal kicks a faulting vCPU (-EINTR). */
  kick: number;
  /** The gfn_to_pfn_cache over guest frame 0. */
  pfnCache: boolean;
  /** PREEMPT_RT's sleeping mmu_lock. */
  rt: boolean;
  /** > 0: the vCPUs touch only the first `focus` guest frames. */
  focus: number;
}

/**
 * The KVM guest as a SecondaryFactory: two memslots over the `guest` region, one vCPU task per
 * `workload.vcpus`, each turn one guest access (mostly to the low quarter of guest memory, the
 * working set) or, for vCPU 0, now and then a memslot update. It has no teardown: the VM outlives
 * the process's address space (kvm_destroy_vm() unregisters long after exit_mmap(), whose
 * release() flushed every shadow PTE). A built-in: it reports to the checker and keeps the
 * primary's statistics itself, so it gets the address space and the checker beside the context.
 */
export function kvmSecondary(
  mm: AddressSpace,
  checker: Checker,
  bugs: KvmBugs | undefined,
  workload: KvmWorkload,
): SecondaryFactory {
  return (ctx) => {
    const region = ctx.regions.find((r) => r.name === 'guest')!;
    const pages = region.end - region.start;
    const half = pages >> 1;
    const features: KvmFeatures = {
      pfnCache: workload.pfnCache,
      rt: workload.rt,
      memslotUpdates: workload.memslotUpdates > 0,
      kick: workload.kick,
      // Forked only when used, so that runs without them draw the same numbers.
      ...(workload.pfnCache || workload.kick > 0 ? { rng: ctx.rng.fork() } : {}),
    };
    const guest = new KvmGuest(
      mm,
      checker,
      [
        { gfn: 0, hva: region.start, npages: half },
        { gfn: half, hva: region.start + half, npages: pages - half },
      ],
      bugs,
      features,
    );
    const running = (): Task => mm.ctx.sched.current!;
    const arm64From = workload.vcpus - workload.arm64Vcpus;
    const { focus, memslotUpdates } = workload;
    return {
      name: guest.name,
      view: guest,
      finish: () => guest.finish(),
      tasks: Array.from({ length: workload.vcpus }, (_, i) => {
        let first = true;
        return {
          name: `vcpu${i}`,
          turn: (r: Prng) => {
            const t = running();
            if (first) {
              first = false;
              if (i >= arm64From) guest.faultsAsArm64(t);
            }
            // Drawn only when on, so that runs without updates draw the same numbers.
            if (i === 0 && memslotUpdates > 0 && r.chance(memslotUpdates))
              return guest.updateMemslots(t);
            const gfn =
              focus > 0
                ? r.int(Math.min(focus, guest.guestPages))
                : r.chance(0.7)
                  ? r.int(guest.guestPages >> 2)
                  : r.int(guest.guestPages);
            return guest.access(t, gfn, r.chance(0.4));
          },
        };
      }),
    };
  };
}
