/**
 * Per-domain event-channel port table, in typed arrays (cheap to snapshot). States follow
 * Xen's ECS_* and map to the guest-visible EVTCHNSTAT_* of EVTCHNOP_status.
 *
 * Ports are allocated in buckets, as Xen does: a port is "valid" when its bucket exists,
 * which is what decides -EINVAL for an operation on a never-allocated port.
 */

/** Xen's internal port states (ECS_*, xen/include/xen/sched.h). */
export enum PortState {
  Free = 0,
  Reserved = 1,
  Unbound = 2,
  Interdomain = 3,
  Pirq = 4,
  Virq = 5,
  Ipi = 6,
}

/**
 * Ports per allocation bucket: Xen's EVTCHNS_PER_BUCKET, PAGE_SIZE divided by the power of
 * two above sizeof(struct evtchn). It is Xen-internal (64 with the 4.17 x86_64 build); it
 * shows only in which never-used ports give -EINVAL, and the live-Xen comparison checks it.
 */
export const PORTS_PER_BUCKET = 64;

/** A saved port table. */
export interface PortTableSnapshot {
  readonly valid: number;
  readonly state: Uint8Array;
  readonly remoteDom: Int32Array;
  readonly remotePort: Int32Array;
  readonly notifyVcpu: Int32Array;
  readonly virq: Int32Array;
}

/** The ports of one domain. */
export class PortTable {
  /** Ports below this bound have an allocated bucket (Xen's valid_evtchns). */
  valid = 0;
  state = new Uint8Array(0);
  /** Unbound: the domain allowed to bind; interdomain: the peer domain. */
  remoteDom = new Int32Array(0);
  /** Interdomain: the peer port. */
  remotePort = new Int32Array(0);
  notifyVcpu = new Int32Array(0);
  /** Virq: the VIRQ number; Pirq: the IRQ. */
  virq = new Int32Array(0);

  constructor(
    /** Highest port the domain may use (Xen's max_evtchn_port, set by the toolstack). */
    readonly maxPort: number,
    /** Ports the event ABI can address (EVTCHN_2L_NR_CHANNELS for the domain's width). */
    readonly abiPorts: number,
  ) {}

  /** Whether an operation may look at the port (its bucket exists). */
  isValid(port: number): boolean {
    return Number.isInteger(port) && port >= 0 && port < this.valid;
  }

  private grow(toValid: number): void {
    const cap = this.state.length;
    if (toValid > cap) {
      const n = Math.max(toValid, cap * 2);
      const copy = <T extends Uint8Array | Int32Array>(a: T, make: (n: number) => T): T => {
        const b = make(n);
        b.set(a);
        return b;
      };
      this.state = copy(this.state, (k) => new Uint8Array(k));
      this.remoteDom = copy(this.remoteDom, (k) => new Int32Array(k));
      this.remotePort = copy(this.remotePort, (k) => new Int32Array(k));
      this.notifyVcpu = copy(this.notifyVcpu, (k) => new Int32Array(k));
      this.virq = copy(this.virq, (k) => new Int32Array(k));
    }
    this.valid = toValid;
  }

  /** Allocates a specific port (Xen's evtchn_allocate_port): 0, or 'nospace' / 'busy'. */
  allocate(port: number): 'ok' | 'nospace' | 'busy' {
    if (port > this.maxPort || port >= this.abiPorts) return 'nospace';
    if (this.isValid(port)) {
      if (this.state[port] !== PortState.Free) return 'busy';
    } else {
      let v = this.valid;
      while (port >= v) v += PORTS_PER_BUCKET;
      this.grow(v);
    }
    return 'ok';
  }

  /** The lowest free port, allocated, or undefined when none is left (-ENOSPC). */
  allocateFree(): number | undefined {
    for (let p = 0; p <= this.maxPort; p++) {
      const r = this.allocate(p);
      if (r === 'ok') return p;
      if (r === 'nospace') return undefined;
    }
    return undefined;
  }

  /** Frees a port: state free, notification back to vCPU 0. */
  free(port: number): void {
    this.state[port] = PortState.Free;
    this.notifyVcpu[port] = 0;
    this.remoteDom[port] = 0;
    this.remotePort[port] = 0;
    this.virq[port] = 0;
  }

  snapshot(): PortTableSnapshot {
    return {
      valid: this.valid,
      state: this.state.slice(0, this.valid),
      remoteDom: this.remoteDom.slice(0, this.valid),
      remotePort: this.remotePort.slice(0, this.valid),
      notifyVcpu: this.notifyVcpu.slice(0, this.valid),
      virq: this.virq.slice(0, this.valid),
    };
  }

  restore(s: PortTableSnapshot): void {
    this.state = s.state.slice();
    this.remoteDom = s.remoteDom.slice();
    this.remotePort = s.remotePort.slice();
    this.notifyVcpu = s.notifyVcpu.slice();
    this.virq = s.virq.slice();
    this.valid = s.valid;
  }
}
