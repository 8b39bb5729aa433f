/**
 * Scheduling state of the reference VMM, per vCPU and per domain: the runstate accounting
 * Xen keeps in `struct vcpu` (state, entry time, time per state), the blocked and polling
 * flags (_VPF_blocked, the domain's poll_mask and the vCPU's poll_evtchn), the vCPU timers
 * (single-shot, periodic, poll timeout) and the domain's two watchdogs
 * (xen/common/sched/core.c at RELEASE-4.17.7). Plain values, cheap to copy for snapshots.
 */
import { findOperation, type Spec } from '../../spec/index.js';

/** The model host's physical CPUs by default (VmmOptions.hostCpus; pin_override accepts 0 up to this minus one). */
export const HOST_CPUS = 2;
/** Xen's build-time CPU limit NR_CPUS (4.17 x86 default); a pcpu at or above it is -EINVAL. Xen-internal. */
export const NR_CPUS = 256;
/** Xen's default periodic timer of a PV vCPU (pv_vcpu_initialise: MILLISECS(10)). Xen-internal. */
export const PV_DEFAULT_PERIOD_NS = 10_000_000n;
/** set_timer_op: a timeout this far ahead (2^50 ns) or negative arms the timer 100 ms from now instead. Xen-internal. */
export const SET_TIMER_HUGE_SHIFT = 50n;
/** set_timer_op's replacement delay for a huge timeout (MILLISECS(100)). Xen-internal. */
export const SET_TIMER_FALLBACK_NS = 100_000_000n;
/** SECONDS(1): watchdog timeouts are in seconds. */
export const NS_PER_SECOND = 1_000_000_000n;

/** One vCPU's scheduling state. */
export interface VcpuSched {
  /** Current RUNSTATE_* value. */
  state: number;
  /** System time the current state was entered (only moved when time has passed, as in Xen). */
  entry: bigint;
  /** Nanoseconds spent in each RUNSTATE_*, by state value. */
  time: bigint[];
  /** _VPF_blocked: SCHEDOP_block or SCHEDOP_poll put it to sleep until an event. */
  blocked: boolean;
  /** The vCPU's bit in the domain's poll_mask. */
  polling: boolean;
  /** poll_evtchn: 0 not polling, -1 any port wakes, else the one port polled. */
  pollPort: number;
  /** Deadline of the poll timer (stays armed after a wake, as Xen's does). */
  pollDeadline: bigint | undefined;
  /** Deadline of the single-shot timer. */
  singleshot: bigint | undefined;
  /** Period of the periodic timer (0: off). */
  period: bigint;
  /** periodic_last_event. */
  periodicLast: bigint;
  /** Deadline of the periodic timer (armed only while the vCPU runs: Xen stops it on a switch away). */
  periodicNext: bigint | undefined;
  /** VCPUOP_initialise (or the domain builder, for vCPU 0) has given it a context. */
  initialised: boolean;
  /** An NMI is pending (VCPUOP_send_nmi, or re-raised by an NMI callback registration). */
  nmiPending: boolean;
  /** SCHEDOP_pin_override in force: the pCPU. */
  pinned: number | undefined;
  /** Guest address of the registered runstate area (VCPUOP_register_runstate_memory_area). */
  runstateArea: bigint | undefined;
}

/** One domain's scheduling state. */
export interface DomainSched {
  vcpus: VcpuSched[];
  /** Watchdog timers 1 and 2: undefined when free, else the deadline (null once fired). */
  watchdogs: (bigint | null | undefined)[];
}

/** A copy of a domain's scheduling state (for snapshots). */
export function cloneDomainSched(s: DomainSched): DomainSched {
  return { vcpus: s.vcpus.map((v) => ({ ...v, time: v.time.slice() })), watchdogs: s.watchdogs.slice() };
}

/**
 * A bound the spec declares in an error trigger of an operation (e.g. the 1 ms minimum
 * period of VCPUOP_set_periodic_timer), so the VMM reads it rather than re-typing it.
 */
export function declaredBound(spec: Spec, id: string, path: string, op: string): bigint {
  const hit = findOperation(spec, id);
  const errors = [...(hit?.op?.errors ?? []), ...(hit?.hypercall.errors ?? [])];
  for (const e of errors) {
    const t = e.trigger;
    if (t?.kind === 'value' && t.path === path && t.op === op) return BigInt(t.value);
  }
  throw new Error(`spec: ${id} declares no '${op}' bound on ${path}`);
}
