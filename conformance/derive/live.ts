/**
 * Why some derived scenarios cannot run on the live target (live-xen: real Xen 4.17 under QEMU
 * with our test kernel as dom0, docs/live-xen.md). Each is a fact of that machine, not of the
 * spec: the scenario stays valid, and runs everywhere else. They go into the scenario's
 * `limits` under the target's name.
 */

/** The live target's name in `limits`. */
export const LIVE = 'live-xen';

export const LIVE_WHY = {
  /** A tree of a few data pages maps nothing of the kernel (xen/arch/x86/mm.c new_guest_cr3 switches at once). */
  ownTables:
    'makes page tables it built dom0’s base pointer: they map nothing of the live test kernel’s code (linked at 0xffffffff80000000), which would fault on return from the call',
  /** do_vcpu_op VCPUOP_down (xen/common/domain.c): the last vCPU up going down is domain_shutdown(d, SHUTDOWN_poweroff). */
  lastVcpuDown: 'takes down dom0’s only vCPU: Xen shuts the domain down instead (poweroff), which ends the live test kernel',
  /** The caller is dom0 itself. */
  shutdown: 'shuts the calling domain down: on the live target that is dom0, the test kernel, and the run ends with it',
  /** vcpu_block_enable_events clears the upcall mask; the return path (test_guest_events) bounces to the event callback. */
  upcall:
    'SCHEDOP_block enables event delivery, so with the event pending Xen enters the guest’s event callback on return; the live test kernel registers none (it runs with events masked)',
  /** is_hwdom_pinned_vcpu (xen/include/xen/sched.h): a hard affinity of one CPU counts as pinned. */
  oneCpuPinned:
    'the live host has one physical CPU (QEMU -smp 1), so dom0’s vCPU has a hard affinity of one CPU, which Xen counts as pinned (is_hwdom_pinned_vcpu) even without an override',
} as const;
