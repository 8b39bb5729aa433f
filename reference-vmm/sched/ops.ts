/**
 * The scheduler of the reference VMM, with Xen 4.17's guest-visible rules
 * (xen/common/sched/core.c, xen/common/domain.c at RELEASE-4.17.7): runstates and their
 * accounting, block and poll with their wake-ups, the vCPU timers (single-shot, periodic,
 * poll timeout) and the domain watchdogs on the machine's virtual clock, and shutdown.
 *
 * The model has a physical CPU for every vCPU: a vCPU that is up, not blocked and whose
 * domain has not shut down is running. A call that would block returns at once with the
 * result Xen gives on wake-up (0) and leaves the vCPU blocked; an event for it, or the host
 * advancing the clock past a timeout, wakes it.
 */
import { codecsByArch } from '../../generated/xen/codecs.js';
import { GuestFault, GuestRef } from '../../generated/xen/runtime.js';
import { gaddr } from '../addr.js';
import { PortState } from '../evtchn/state.js';
import { specNumber } from '../context.js';
import type { Clocked, Domain, Subsystem } from '../machine.js';
import type { ReferenceVmm } from '../vmm.js';
import {
  cloneDomainSched,
  type DomainSched,
  NR_CPUS,
  NS_PER_SECOND,
  PV_DEFAULT_PERIOD_NS,
  SET_TIMER_FALLBACK_NS,
  SET_TIMER_HUGE_SHIFT,
  type VcpuSched,
} from './state.js';

/** Xen keeps only the low 8 bits of a shutdown reason (d->shutdown_code is a uint8_t). */
export const SHUTDOWN_CODE_MASK = 0xff;

/** The vCPU scheduler, timers and watchdogs of one VMM. */
export class Scheduler implements Clocked, Subsystem<Map<number, DomainSched>> {
  private doms = new Map<number, DomainSched>();
  private readonly E: Readonly<Record<string, number>>;
  readonly RUNNING: number;
  readonly BLOCKED: number;
  readonly OFFLINE: number;
  private readonly virqTimer: number;
  private readonly watchdogReason: number;
  private readonly poweroff: number;
  /** Watchdog timers per domain (NR_DOMAIN_WATCHDOG_TIMERS): the largest id the spec allows. */
  readonly watchdogCount: number;

  constructor(private readonly vmm: ReferenceVmm) {
    const num = (n: string) => specNumber(vmm, n);
    this.E = vmm.machine.errno;
    this.RUNNING = num('RUNSTATE_running');
    this.BLOCKED = num('RUNSTATE_blocked');
    this.OFFLINE = num('RUNSTATE_offline');
    this.virqTimer = num('VIRQ_TIMER');
    this.watchdogReason = num('SHUTDOWN_watchdog');
    this.poweroff = num('SHUTDOWN_poweroff');
    this.watchdogCount = 2;
    for (const d of vmm.machine.domains.values()) this.attach(d);
    vmm.machine.domainCreated.push((d) => this.attach(d));
    vmm.machine.clocked.push(this);
  }

  private err(code: string): number {
    const v = this.E[code];
    if (v === undefined) throw new Error(`spec has no errno ${code}`);
    return v;
  }

  /** Starts tracking a domain: vCPU 0 running and initialised, the others down; event hooks on its shared_info. */
  private attach(d: Domain): void {
    const now = this.vmm.machine.now;
    const pv = d.abi.name.endsWith('-pv');
    const vcpus = d.vcpus.map(
      (v): VcpuSched => ({
        state: this.OFFLINE,
        entry: now,
        time: [0n, 0n, 0n, 0n],
        blocked: false,
        polling: false,
        pollPort: 0,
        pollDeadline: undefined,
        singleshot: undefined,
        period: pv ? PV_DEFAULT_PERIOD_NS : 0n,
        periodicLast: 0n,
        periodicNext: undefined,
        initialised: v.id === 0,
        nmiPending: false,
        pinned: undefined,
        runstateArea: undefined,
      }),
    );
    this.doms.set(d.id, { vcpus, watchdogs: new Array<undefined>(this.watchdogCount).fill(undefined) });
    d.sharedInfo.onUpcall = (v) => this.kick(d, v);
    d.sharedInfo.onPending = (port) => this.checkPollers(d, port);
    for (const v of d.vcpus) this.sync(d, v.id);
  }

  /** A vCPU's scheduling state. */
  vcpu(d: Domain, v: number): VcpuSched {
    const s = this.doms.get(d.id)?.vcpus[v];
    if (!s) throw new Error(`scheduler: domain ${d.id} has no vCPU ${v}`);
    return s;
  }

  private domain(d: Domain): DomainSched {
    const s = this.doms.get(d.id);
    if (!s) throw new Error(`scheduler: domain ${d.id} is not tracked`);
    return s;
  }

  /** Whether the hardware domain (Xen's hardware_domid, 0 by default) is `d`. */
  isHardwareDomain(d: Domain): boolean {
    return d.privileged && d.id === 0;
  }

  // ─────────────── runstate ───────────────

  /** The state a vCPU is in now, from its flags. */
  private desired(d: Domain, v: number): number {
    const vc = d.vcpus[v];
    if (!vc?.online || d.shutDown) return this.OFFLINE;
    return this.vcpu(d, v).blocked ? this.BLOCKED : this.RUNNING;
  }

  /**
   * Brings a vCPU's runstate up to date after its flags changed (Xen's vcpu_runstate_change
   * at the switch), restarts its periodic timer when it starts running, and refreshes a
   * registered runstate area.
   */
  sync(d: Domain, v: number): void {
    const s = this.vcpu(d, v);
    const want = this.desired(d, v);
    if (want === s.state) return;
    const now = this.vmm.machine.now;
    const delta = now - s.entry;
    if (delta > 0n) {
      s.time[s.state] = (s.time[s.state] as bigint) + delta;
      s.entry = now;
    }
    const was = s.state;
    s.state = want;
    if (want === this.RUNNING) this.periodicWork(d, v);
    else if (was === this.RUNNING) s.periodicNext = undefined;
    this.writeRunstateArea(d, v);
  }

  /** Xen's vcpu_runstate_get: the accounting with the time in the current state added. */
  runstate(d: Domain, v: number): { state: number; state_entry_time: bigint; time: bigint[] } {
    this.sync(d, v);
    const s = this.vcpu(d, v);
    const time = s.time.slice();
    const delta = this.vmm.machine.now - s.entry;
    if (delta > 0n) time[s.state] = (time[s.state] as bigint) + delta;
    return { state: s.state, state_entry_time: s.entry, time };
  }

  /** Bytes of a vcpu_runstate_info in the domain's layout. */
  runstateSize(d: Domain): number {
    return codecsByArch[d.arch.name as keyof typeof codecsByArch].VcpuRunstateInfo.size;
  }

  /** Copies the runstate to the registered area; a fault there is ignored, as Xen's __copy_to_guest result is. */
  writeRunstateArea(d: Domain, v: number): void {
    const at = this.vcpu(d, v).runstateArea;
    if (at === undefined) return;
    const codec = codecsByArch[d.arch.name as keyof typeof codecsByArch].VcpuRunstateInfo;
    try {
      new GuestRef(d.memory, at, codec).write(this.runstate(d, v));
    } catch (e) {
      if (!(e instanceof GuestFault)) throw e;
    }
    d.memory.flush();
  }

  // ─────────────── blocking and waking ───────────────

  /** Xen's local_events_need_delivery: the upcall is pending and not masked. */
  eventsNeedDelivery(d: Domain, v: number): boolean {
    return (d.sharedInfo.upcallPending(v) & 1) !== 0 && d.sharedInfo.upcallMask(v) === 0;
  }

  /** SCHEDOP_block: enable event delivery, then block unless an event is already deliverable. */
  block(d: Domain, v: number): number {
    const s = this.vcpu(d, v);
    // A vCPU the model left asleep (an earlier block or poll returned at once) that calls again
    // ran in between: in Xen only a wake-up lets it, and vcpu_unblock ends a poll with it (the
    // poll mask bit is cleared). Without that, Xen's vcpu_block below clears _VPF_blocked alone
    // and would leave it in the poll mask.
    if (s.blocked) this.unblock(d, v);
    d.sharedInfo.setUpcallMask(v, false);
    s.blocked = !this.eventsNeedDelivery(d, v);
    this.sync(d, v);
    return 0;
  }

  /** Xen's vcpu_unblock: clear _VPF_blocked; a poll ends with it. */
  unblock(d: Domain, v: number): void {
    const s = this.vcpu(d, v);
    if (!s.blocked) return;
    s.blocked = false;
    if (s.pollPort !== 0) {
      s.pollPort = 0;
      s.polling = false;
    }
    this.sync(d, v);
  }

  /** Xen's vcpu_kick (from vcpu_mark_events_pending or an NMI): wakes a blocked vCPU. */
  kick(d: Domain, v: number): void {
    if (this.doms.has(d.id)) this.unblock(d, v);
  }

  /** Xen's evtchn_check_pollers: a newly pending port wakes the vCPUs polling any port or that one. */
  checkPollers(d: Domain, port: number): void {
    const ds = this.doms.get(d.id);
    if (!ds) return;
    ds.vcpus.forEach((s, v) => {
      if (s.polling && (s.pollPort <= 0 || s.pollPort === port)) {
        s.polling = false;
        s.pollPort = 0;
        this.unblock(d, v);
      }
    });
  }

  /**
   * SCHEDOP_poll (do_poll), after the struct was read: `ports` reads element i of the port
   * array (undefined: a fault), `arrayOk` is guest_handle_okay on the whole array.
   */
  poll(d: Domain, v: number, nrPorts: number, arrayOk: boolean, ports: (i: number) => number | undefined, timeout: bigint, maxPorts: number): number {
    if (nrPorts > maxPorts) return this.err('EINVAL');
    if (!arrayOk) return this.err('EFAULT');
    const s = this.vcpu(d, v);
    s.blocked = true;
    s.pollPort = -1;
    s.polling = true;
    const out = (rc: number) => {
      s.pollPort = 0;
      s.polling = false;
      s.blocked = false;
      return rc;
    };
    if (this.eventsNeedDelivery(d, v)) return out(0);
    let port = 0;
    for (let i = 0; i < nrPorts; i++) {
      const p = ports(i);
      if (p === undefined) return out(this.err('EFAULT'));
      port = p;
      // evtchn_port_poll: -EINVAL for an invalid or unusable port, pending ends the poll.
      if (!d.ports.isValid(port) || (d.ports.state[port] as PortState) <= PortState.Reserved) return out(this.err('EINVAL'));
      if (d.sharedInfo.isPending(port)) return out(0);
    }
    if (nrPorts === 1) s.pollPort = port;
    // The timeout is an s_time_t: a value with bit 63 set is in the past and fires at once.
    if (timeout !== 0n) s.pollDeadline = BigInt.asIntN(64, timeout);
    this.sync(d, v);
    this.fireDue();
    return 0;
  }

  // ─────────────── timers ───────────────

  /** Raises VIRQ_TIMER on a vCPU (send_timer_event), if the guest bound it. */
  sendTimerEvent(d: Domain, v: number): void {
    const port = d.vcpus[v]?.virqToPort[this.virqTimer] ?? 0;
    if (port !== 0) this.vmm.evtchn.setPending(d, port);
  }

  /** set_timer_op: 0 stops the single-shot timer; a negative or huge timeout becomes now + 100 ms. */
  setTimerOp(d: Domain, v: number, timeout: bigint): number {
    const s = this.vcpu(d, v);
    const t = BigInt.asIntN(64, timeout);
    const now = this.vmm.machine.now;
    const offset = t - now;
    if (t === 0n) s.singleshot = undefined;
    else if (t < 0n || (offset > 0n && BigInt.asUintN(32, offset >> SET_TIMER_HUGE_SHIFT) !== 0n)) s.singleshot = now + SET_TIMER_FALLBACK_NS;
    else s.singleshot = t;
    this.fireDue();
    return 0;
  }

  /** VCPUOP_set_singleshot_timer on the calling vCPU: a timeout already past fires at once. */
  setSingleshot(d: Domain, v: number, timeoutAbs: bigint): void {
    const s = this.vcpu(d, v);
    if (timeoutAbs < this.vmm.machine.now) {
      s.singleshot = undefined;
      this.sendTimerEvent(d, v);
      return;
    }
    s.singleshot = BigInt.asIntN(64, timeoutAbs);
    this.fireDue();
  }

  /** Stops the single-shot timer. */
  stopSingleshot(d: Domain, v: number): void {
    this.vcpu(d, v).singleshot = undefined;
  }

  /** vcpu_set_periodic_timer (0 stops it). */
  setPeriodic(d: Domain, v: number, period: bigint): void {
    const s = this.vcpu(d, v);
    s.periodicNext = undefined;
    s.period = period;
    if (period !== 0n) this.periodicWork(d, v);
  }

  /** vcpu_periodic_timer_work: fire if overdue, then arm for the next period. */
  private periodicWork(d: Domain, v: number): void {
    const s = this.vcpu(d, v);
    if (s.period === 0n) return;
    const now = this.vmm.machine.now;
    let next = s.periodicLast + s.period;
    if (now >= next) {
      s.periodicLast = now;
      next = now + s.period;
      this.sendTimerEvent(d, v);
    }
    s.periodicNext = next;
  }

  /** SCHEDOP_watchdog (domain_watchdog). */
  watchdog(d: Domain, id: number, timeout: number): number {
    const w = this.domain(d).watchdogs;
    if (id > this.watchdogCount) return this.err('EINVAL');
    const deadline = this.vmm.machine.now + BigInt(timeout) * NS_PER_SECOND;
    if (id === 0) {
      const free = w.findIndex((x) => x === undefined);
      // Xen returns -ENOSPC through its unsigned id variable (id == NR ? -ENOSPC : id + 1 is an
      // unsigned int expression): the guest sees it zero-extended from 32 bits, 2^32 - ENOSPC.
      if (free < 0) return 2 ** 32 + this.err('ENOSPC');
      w[free] = deadline;
      this.fireDue();
      return free + 1;
    }
    if (w[id - 1] === undefined) return this.err('EINVAL');
    w[id - 1] = timeout === 0 ? undefined : deadline;
    this.fireDue();
    return 0;
  }

  /** Fires what is due at the current time (Xen runs expired timers before returning to the guest). */
  private fireDue(): void {
    const now = this.vmm.machine.now;
    for (let t = this.next(); t !== undefined && t <= now; t = this.next()) this.fire(now);
  }

  next(): bigint | undefined {
    let best: bigint | undefined;
    const take = (t: bigint | null | undefined) => {
      if (t !== undefined && t !== null && (best === undefined || t < best)) best = t;
    };
    for (const ds of this.doms.values()) {
      for (const s of ds.vcpus) {
        take(s.singleshot);
        take(s.pollDeadline);
        take(s.periodicNext);
      }
      for (const w of ds.watchdogs) take(w);
    }
    return best;
  }

  fire(now: bigint): void {
    for (const [id, ds] of this.doms) {
      const d = this.vmm.machine.domain(id);
      if (!d) continue;
      ds.vcpus.forEach((s, v) => {
        if (s.singleshot !== undefined && s.singleshot <= now) {
          s.singleshot = undefined;
          this.sendTimerEvent(d, v);
        }
        if (s.pollDeadline !== undefined && s.pollDeadline <= now) {
          s.pollDeadline = undefined;
          // poll_timer_fn: only a vCPU still in the poll mask is woken.
          if (s.polling) {
            s.polling = false;
            this.unblock(d, v);
          }
        }
        if (s.periodicNext !== undefined && s.periodicNext <= now) this.periodicWork(d, v);
      });
      ds.watchdogs.forEach((w, i) => {
        if (w === undefined || w === null || w > now) return;
        // A fired watchdog stays allocated (its id still re-arms or frees it).
        ds.watchdogs[i] = null;
        if (!d.shutDown) this.shutdown(d, this.watchdogReason);
      });
    }
  }

  // ─────────────── shutdown and affinity ───────────────

  /** domain_shutdown: latch the reason unless one is latched, stop every vCPU. */
  shutdown(d: Domain, reason: number): void {
    if (d.shutdownCode === undefined) d.shutdownCode = reason & SHUTDOWN_CODE_MASK;
    d.shutDown = true;
    for (const v of d.vcpus) this.sync(d, v.id);
  }

  /** VCPUOP_down's rule: the last vCPU up shuts the domain down (poweroff) instead of going down. */
  down(d: Domain, v: number): void {
    if (!d.vcpus.some((o) => o.id !== v && o.online)) {
      this.shutdown(d, this.poweroff);
      return;
    }
    const vc = d.vcpus[v];
    if (vc) vc.online = false;
    this.sync(d, v);
  }

  /**
   * vcpu_temporary_affinity for SCHEDOP_pin_override (pcpu < 0: release). A CPU the host does
   * not have (nr_cpu_ids) is -EINVAL before a pin in force is -EBUSY (live Xen, fuzz seed 1910).
   */
  pinOverride(d: Domain, v: number, pcpu: number): number {
    if (pcpu >= NR_CPUS) return this.err('EINVAL');
    const s = this.vcpu(d, v);
    if (pcpu < 0) {
      if (s.pinned === undefined) return this.err('EINVAL');
      s.pinned = undefined;
      return 0;
    }
    if (pcpu >= this.vmm.hostCpus) return this.err('EINVAL');
    if (s.pinned !== undefined) return this.err('EBUSY');
    s.pinned = pcpu;
    return 0;
  }

  // ─────────────── snapshots ───────────────

  snapshot(): Map<number, DomainSched> {
    const out = new Map<number, DomainSched>();
    for (const [id, s] of this.doms) out.set(id, cloneDomainSched(s));
    return out;
  }

  restore(s: Map<number, DomainSched>): void {
    this.doms = new Map();
    for (const [id, ds] of s) this.doms.set(id, cloneDomainSched(ds));
  }

  invariants(): string[] {
    const out: string[] = [];
    for (const [id, ds] of this.doms) {
      const d = this.vmm.machine.domain(id);
      if (!d) {
        out.push(`domain ${id} is scheduled but does not exist`);
        continue;
      }
      ds.vcpus.forEach((s, v) => {
        if (s.polling && !s.blocked) out.push(`domain ${id} vCPU ${v}: in the poll mask but not blocked`);
        if (s.state === this.RUNNING && (s.blocked || !d.vcpus[v]?.online || d.shutDown)) out.push(`domain ${id} vCPU ${v}: running while it cannot run`);
        if (s.entry > this.vmm.machine.now) out.push(`domain ${id} vCPU ${v}: runstate entered in the future`);
      });
    }
    return out;
  }
}

const schedulers = new WeakMap<ReferenceVmm, Scheduler>();

/** The scheduler of a VMM, created (and registered with its machine) on first use. */
export function schedulerOf(vmm: ReferenceVmm): Scheduler {
  let s = schedulers.get(vmm);
  if (!s) {
    s = new Scheduler(vmm);
    schedulers.set(vmm, s);
    vmm.machine.register('sched', s as Subsystem);
  }
  return s;
}

/** Reads element `i` of a guest array of 32-bit words, or undefined on a fault. */
export function readU32(d: Domain, base: bigint, i: number): number | undefined {
  const a = base + BigInt(i * 4);
  if (a > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  const b = new Uint8Array(4);
  if (!d.memory.read(gaddr(Number(a)), b)) return undefined;
  return new DataView(b.buffer).getUint32(0, true);
}
