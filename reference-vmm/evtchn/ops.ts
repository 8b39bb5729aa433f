/**
 * Event-channel operations of the 2-level ABI with Xen 4.17's semantics
 * (xen/common/event_channel.c, event_2l.c at RELEASE-4.17.7): each takes the caller and its
 * decoded argument struct, fills the struct's out fields on success, and returns 0 or a
 * negated errno from the spec. The order of checks is Xen's, so the same bad input gives the
 * same error.
 */
import { findConstant } from '../../spec/query.js';
import type { Domain, Machine } from '../machine.js';
import { PortState } from './state.js';

/** The argument structs, with the C field names of the spec. */
export interface EvtchnAllocUnbound {
  dom: number;
  remote_dom: number;
  port: number;
}
export interface EvtchnBindInterdomain {
  remote_dom: number;
  remote_port: number;
  local_port: number;
}
export interface EvtchnBindVirq {
  virq: number;
  vcpu: number;
  port: number;
}
export interface EvtchnBindIpi {
  vcpu: number;
  port: number;
}
export interface EvtchnPort {
  port: number;
}
export interface EvtchnBindVcpu {
  port: number;
  vcpu: number;
}
export interface EvtchnStatus {
  dom: number;
  port: number;
  status: number;
  vcpu: number;
  u: { unbound?: { dom: number }; interdomain?: { dom: number; port: number }; pirq?: number; virq?: number };
}
export interface EvtchnReset {
  dom: number;
}

/** The guest-visible EVTCHNSTAT_* value of each internal state, by the spec's constant names. */
const STATUS_NAME: Record<PortState, string> = {
  [PortState.Free]: 'EVTCHNSTAT_closed',
  [PortState.Reserved]: 'EVTCHNSTAT_closed',
  [PortState.Unbound]: 'EVTCHNSTAT_unbound',
  [PortState.Interdomain]: 'EVTCHNSTAT_interdomain',
  [PortState.Pirq]: 'EVTCHNSTAT_pirq',
  [PortState.Virq]: 'EVTCHNSTAT_virq',
  [PortState.Ipi]: 'EVTCHNSTAT_ipi',
};

/** VIRQs bound per vCPU rather than per domain (Xen's virq_is_global is false for these). */
const PER_VCPU_VIRQS = ['VIRQ_TIMER', 'VIRQ_DEBUG', 'VIRQ_XENOPROF', 'VIRQ_XENPMU'];

/** Event-channel operations bound to one machine, with the spec's values looked up once. */
export class EventChannels {
  private readonly status: number[];
  private readonly perVcpuVirqs: Set<number>;
  private readonly E: Machine['errno'];

  constructor(private readonly m: Machine) {
    this.E = m.errno;
    const value = (n: string) => {
      const c = findConstant(m.spec, n)?.constant;
      if (!c || typeof c.value !== 'number') throw new Error(`spec has no constant ${n}`);
      return c.value;
    };
    this.status = Object.values(STATUS_NAME).map(value);
    this.perVcpuVirqs = new Set(PER_VCPU_VIRQS.map(value));
  }

  private err(code: string): number {
    const v = this.E[code];
    if (v === undefined) throw new Error(`spec has no errno ${code}`);
    return v;
  }

  private virqIsGlobal(virq: number): boolean {
    return !this.perVcpuVirqs.has(virq);
  }

  /** Marks a port pending for its notify vCPU (2-level delivery). */
  setPending(d: Domain, port: number): void {
    d.sharedInfo.setPending(port, d.ports.notifyVcpu[port] as number);
  }

  private freePort(d: Domain, port: number): void {
    d.sharedInfo.clearPending(port);
    d.ports.free(port);
  }

  /** EVTCHNOP_alloc_unbound. */
  allocUnbound(caller: Domain, a: EvtchnAllocUnbound): number {
    const d = this.m.domainByAnyId(caller, a.dom);
    if (!d) return this.err('ESRCH');
    const port = d.ports.allocateFree();
    if (port === undefined) return this.err('ENOSPC');
    if (!this.m.mayTarget(caller, d)) return this.err('EPERM');
    d.ports.state[port] = PortState.Unbound;
    d.ports.remoteDom[port] = a.remote_dom === this.m.domidSelf ? caller.id : a.remote_dom;
    a.port = port;
    return 0;
  }

  /** EVTCHNOP_bind_interdomain. */
  bindInterdomain(ld: Domain, a: EvtchnBindInterdomain): number {
    const rd = this.m.domainByAnyId(ld, a.remote_dom);
    if (!rd) return this.err('ESRCH');
    const lport = ld.ports.allocateFree();
    if (lport === undefined) return this.err('ENOSPC');
    const rport = a.remote_port;
    if (!rd.ports.isValid(rport)) return this.err('EINVAL');
    if (rd.ports.state[rport] !== PortState.Unbound || rd.ports.remoteDom[rport] !== ld.id) return this.err('EINVAL');
    ld.ports.state[lport] = PortState.Interdomain;
    ld.ports.remoteDom[lport] = rd.id;
    ld.ports.remotePort[lport] = rport;
    rd.ports.state[rport] = PortState.Interdomain;
    rd.ports.remoteDom[rport] = ld.id;
    rd.ports.remotePort[rport] = lport;
    // Notifications sent while the remote port was unbound were dropped: Xen always marks the new port pending.
    this.setPending(ld, lport);
    a.local_port = lport;
    return 0;
  }

  /** EVTCHNOP_bind_virq. */
  bindVirq(d: Domain, a: EvtchnBindVirq): number {
    const virq = a.virq | 0;
    const vcpu = a.vcpu | 0;
    if (virq < 0 || virq >= this.m.nrVirqs) return this.err('EINVAL');
    if (this.virqIsGlobal(virq) && vcpu !== 0) return this.err('EINVAL');
    const v = vcpu >= 0 ? d.vcpus[vcpu] : undefined;
    if (!v) return this.err('ENOENT');
    if (v.virqToPort[virq] !== 0) return this.err('EEXIST');
    const port = d.ports.allocateFree();
    if (port === undefined) return this.err('ENOSPC');
    d.ports.state[port] = PortState.Virq;
    d.ports.notifyVcpu[port] = vcpu;
    d.ports.virq[port] = virq;
    v.virqToPort[virq] = port;
    a.port = port;
    return 0;
  }

  /** EVTCHNOP_bind_ipi. */
  bindIpi(d: Domain, a: EvtchnBindIpi): number {
    const vcpu = a.vcpu;
    if (d.vcpus[vcpu] === undefined) return this.err('ENOENT');
    const port = d.ports.allocateFree();
    if (port === undefined) return this.err('ENOSPC');
    d.ports.state[port] = PortState.Ipi;
    d.ports.notifyVcpu[port] = vcpu;
    a.port = port;
    return 0;
  }

  /** EVTCHNOP_close. */
  close(d1: Domain, a: EvtchnPort): number {
    const port = a.port | 0;
    if (!d1.ports.isValid(port)) return this.err('EINVAL');
    const p = d1.ports;
    switch (p.state[port] as PortState) {
      case PortState.Free:
      case PortState.Reserved:
        return this.err('EINVAL');
      case PortState.Virq: {
        const virq = p.virq[port] as number;
        const v = d1.vcpus[this.virqIsGlobal(virq) ? 0 : (p.notifyVcpu[port] as number)];
        if (v) v.virqToPort[virq] = 0;
        break;
      }
      case PortState.Interdomain: {
        const d2 = this.m.domain(p.remoteDom[port] as number);
        const rport = p.remotePort[port] as number;
        this.freePort(d1, port);
        if (d2) {
          d2.ports.state[rport] = PortState.Unbound;
          d2.ports.remoteDom[rport] = d1.id;
          d2.ports.remotePort[rport] = 0;
        }
        return 0;
      }
      case PortState.Pirq:
      case PortState.Unbound:
      case PortState.Ipi:
        break;
    }
    this.freePort(d1, port);
    return 0;
  }

  /** EVTCHNOP_send. */
  send(ld: Domain, a: EvtchnPort): number {
    const port = a.port;
    if (!ld.ports.isValid(port)) return this.err('EINVAL');
    switch (ld.ports.state[port] as PortState) {
      case PortState.Interdomain: {
        const rd = this.m.domain(ld.ports.remoteDom[port] as number);
        if (rd) this.setPending(rd, ld.ports.remotePort[port] as number);
        return 0;
      }
      case PortState.Ipi:
        this.setPending(ld, port);
        return 0;
      case PortState.Unbound:
        return 0;
      default:
        return this.err('EINVAL');
    }
  }

  /** EVTCHNOP_status. */
  statusOf(caller: Domain, a: EvtchnStatus): number {
    const d = this.m.domainByAnyId(caller, a.dom);
    if (!d) return this.err('ESRCH');
    const port = a.port;
    if (!d.ports.isValid(port)) return this.err('EINVAL');
    if (!this.m.mayTarget(caller, d)) return this.err('EPERM');
    const st = d.ports.state[port] as PortState;
    a.status = this.status[st] as number;
    a.vcpu = d.ports.notifyVcpu[port] as number;
    // Only the member of the state is written; the other bytes of the union keep what the
    // guest passed, as Xen copies the whole struct back.
    if (st === PortState.Unbound) a.u = { unbound: { dom: d.ports.remoteDom[port] as number } };
    else if (st === PortState.Interdomain) a.u = { interdomain: { dom: d.ports.remoteDom[port] as number, port: d.ports.remotePort[port] as number } };
    else if (st === PortState.Pirq) a.u = { pirq: d.ports.virq[port] as number };
    else if (st === PortState.Virq) a.u = { virq: d.ports.virq[port] as number };
    else a.u = {};
    return 0;
  }

  /** EVTCHNOP_bind_vcpu. */
  bindVcpu(d: Domain, a: EvtchnBindVcpu): number {
    const v = d.vcpus[a.vcpu];
    if (!v) return this.err('ENOENT');
    const port = a.port;
    if (!d.ports.isValid(port)) return this.err('EINVAL');
    switch (d.ports.state[port] as PortState) {
      case PortState.Virq:
        if (!this.virqIsGlobal(d.ports.virq[port] as number)) return this.err('EINVAL');
        d.ports.notifyVcpu[port] = v.id;
        return 0;
      case PortState.Unbound:
      case PortState.Interdomain:
      case PortState.Pirq:
        d.ports.notifyVcpu[port] = v.id;
        return 0;
      default:
        return this.err('EINVAL');
    }
  }

  /**
   * EVTCHNOP_reset: closes every port of the domain from 1 up (port 0 stays reserved).
   * Another domain may be reset only while its controller has it paused, which the model
   * never does: -EINVAL. The model has no channels of Xen's own, so nothing stays active
   * (no -EAGAIN), and it runs the loop in one go (no continuation, so no -EBUSY).
   */
  reset(caller: Domain, a: EvtchnReset): number {
    const d = this.m.domainByAnyId(caller, a.dom);
    if (!d) return this.err('ESRCH');
    if (!this.m.mayTarget(caller, d)) return this.err('EPERM');
    if (d !== caller) return this.err('EINVAL');
    for (let port = 1; d.ports.isValid(port); port++) {
      const st = d.ports.state[port] as PortState;
      if (st !== PortState.Free && st !== PortState.Reserved) this.close(d, { port });
    }
    return 0;
  }

  /** EVTCHNOP_unmask. */
  unmask(d: Domain, a: EvtchnPort): number {
    const port = a.port;
    if (!d.ports.isValid(port)) return this.err('EINVAL');
    if ((d.ports.state[port] as PortState) > PortState.Reserved) d.sharedInfo.unmask(port, d.ports.notifyVcpu[port] as number);
    return 0;
  }
}
