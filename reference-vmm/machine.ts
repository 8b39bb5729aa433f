/**
 * The reference machine: host frames, domains with their ABI, memory, vCPUs, shared_info
 * and event channels, a virtual clock the host advances, per-domain console buffers, and
 * snapshots that restore in time proportional to the machine's size (a few typed-array
 * copies) while page contents are shared copy-on-write.
 */
import { constantValue, findAbi, findArch, type Abi, type Arch, type Spec } from '../spec/index.js';
import { type Gfn, type Mfn, gfn } from './addr.js';
import { type Errnos, errnos } from './errno.js';
import { PortTable, PortState, type PortTableSnapshot } from './evtchn/state.js';
import { FrameTable, type FramesSnapshot } from './memory/frames.js';
import { GuestMemory } from './memory/guest.js';
import { SharedInfo, sharedInfoLayout } from './shared-info.js';

/** How a domain is created. */
export interface DomainConfig {
  id: number;
  /** ABI name from the spec, e.g. x86_64-pv. */
  abi: string;
  /** Pages of guest memory, populated at gfn 0 upwards. */
  memoryPages: number;
  vcpus?: number;
  /** A control domain (dom0-like): passes XSM_PRIV and XSM_TARGET checks on other domains. */
  privileged?: boolean;
  /** Highest event-channel port (the toolstack's max_event_channels - 1; Xen's default for guests is 1023). */
  maxEvtchnPort?: number;
  /** The domain handle (toolstack UUID) XENVER_guest_handle reports, as bytes (default all zero). */
  handle?: number[];
  /** Most pages the domain may own (Xen's max_pages, the toolstack's maxmem; default memoryPages). */
  maxPages?: number;
  /** The pseudo-physical E820 map XENMEM_memory_map reports, as the toolstack's XENMEM_set_memory_map leaves it (default none: -ENOSYS, as Xen gives without one). */
  memoryMap?: E820Entry[];
}

/** An E820-style memory map entry (Xen's struct e820entry: 20 bytes packed). */
export interface E820Entry {
  addr: bigint;
  size: bigint;
  type: number;
}

/** How a machine is created. */
export interface MachineConfig {
  /** Host frames (default: what the domains need plus 1024). */
  hostFrames?: number;
  domains: DomainConfig[];
}

/** A vCPU's guest-visible scheduling state. */
export interface Vcpu {
  id: number;
  online: boolean;
  /** VIRQ number → bound port (0: none), per vCPU as in Xen. */
  virqToPort: Int32Array;
}

/** A domain of the machine. */
export interface Domain {
  readonly id: number;
  readonly abi: Abi;
  readonly arch: Arch;
  readonly privileged: boolean;
  readonly memory: GuestMemory;
  readonly vcpus: Vcpu[];
  readonly ports: PortTable;
  readonly sharedInfo: SharedInfo;
  readonly sharedInfoFrame: Mfn;
  /** The guest frame where the domain sees its shared_info page. */
  readonly sharedInfoGfn: Gfn;
  console: number[];
  /** The latched shutdown code (SCHEDOP_shutdown_code, or the first SCHEDOP_shutdown). */
  shutdownCode: number | undefined;
  /** Whether the domain has shut down. */
  shutDown: boolean;
  /** The toolstack's handle (UUID) of the domain, as bytes. */
  readonly handle: readonly number[];
  /** Pages the domain owns, Xen's tot_pages (RAM only: not the Xen-heap frames shared with it). Snapshotted by the memory subsystem. */
  totPages: number;
  /** Xen's max_pages. Snapshotted by the memory subsystem. */
  maxPages: number;
  /** The pseudo-physical E820 map (undefined: none set). Snapshotted by the memory subsystem. */
  e820: readonly E820Entry[] | undefined;
}

/**
 * A subsystem that keeps state of its own (grant tables, timers, page-table bookkeeping):
 * the machine snapshots and restores it with everything else, and asks it for invariant
 * violations.
 */
export interface Subsystem<S = unknown> {
  snapshot(): S;
  restore(s: S): void;
  /** Broken invariants, in words naming the item (empty when all hold). */
  invariants?(): string[];
}

/**
 * Something with deadlines on the virtual clock (vCPU timers, watchdogs): `advance` steps
 * the clock to each deadline in order and lets it fire there.
 */
export interface Clocked {
  /** The earliest pending deadline, or undefined. */
  next(): bigint | undefined;
  /** Fires whatever is due at `now` (the machine's clock already reads `now`). */
  fire(now: bigint): void;
}

/** A problem with a machine or domain configuration. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

interface DomainSnapshot {
  p2m: Int32Array;
  /** The sparse part of the p2m (none when empty). */
  sparse: Map<number, number> | undefined;
  ports: PortTableSnapshot;
  vcpus: { online: boolean; virqToPort: Int32Array }[];
  consoleLength: number;
  console: number[];
  shutdownCode: number | undefined;
  shutDown: boolean;
}

/** A saved machine. */
export interface MachineSnapshot {
  readonly frames: FramesSnapshot;
  readonly domains: ReadonlyMap<number, DomainSnapshot>;
  readonly now: bigint;
  readonly subsystems: ReadonlyMap<string, unknown>;
}

/** The reference machine for one spec. */
export class Machine {
  readonly frames: FrameTable;
  readonly domains = new Map<number, Domain>();
  readonly errno: Errnos;
  /** Virtual system time in nanoseconds; only the host advances it. */
  now = 0n;
  /** DOMID_SELF from the spec. */
  readonly domidSelf: number;
  /** NR_VIRQS from the spec. */
  readonly nrVirqs: number;
  /** Subsystems with state of their own, by name. */
  readonly subsystems = new Map<string, Subsystem>();
  /** Whether gfn `g` of domain `domid` may map another domain's frame (a grant mapping of a translated guest); set by the grant subsystem. */
  foreignMapped: (domid: number, g: number) => boolean = () => false;
  /** Whether gfn `g` of domain `domid` maps another domain's frame through XENMAPSPACE_gmfn_foreign (not a grant); set by the memory subsystem. */
  gmfnForeign: (domid: number, g: number) => boolean = () => false;
  /** Timer owners the clock drives (see `advance`). */
  readonly clocked: Clocked[] = [];
  /** Called with every domain created after a subsystem registered here (to attach its hooks). */
  readonly domainCreated: ((d: Domain) => void)[] = [];

  constructor(
    readonly spec: Spec,
    config: MachineConfig,
  ) {
    this.errno = errnos(spec);
    this.domidSelf = numberConstant(spec, 'DOMID_SELF');
    this.nrVirqs = numberConstant(spec, 'NR_VIRQS');
    const need = config.domains.reduce((n, d) => n + d.memoryPages + 1, 0);
    this.frames = new FrameTable(config.hostFrames ?? need + 1024);
    for (const d of config.domains) this.createDomain(d);
  }

  /** Adds a domain: populates its memory, allocates shared_info, reserves event port 0. */
  createDomain(c: DomainConfig): Domain {
    const firstReserved = numberConstant(this.spec, 'DOMID_FIRST_RESERVED');
    if (!Number.isInteger(c.id) || c.id < 0 || c.id >= firstReserved) {
      throw new ConfigError(`domain id ${c.id} must be an integer from 0 to ${firstReserved - 1}`);
    }
    if (this.domains.has(c.id)) throw new ConfigError(`domain ${c.id} exists already`);
    const abi = findAbi(this.spec, c.abi);
    if (!abi) throw new ConfigError(`domain ${c.id}: unknown ABI '${c.abi}' (have: ${this.spec.abis.map((a) => a.name).join(', ')})`);
    const arch = findArch(this.spec, abi.arch) as Arch;
    const vcpus = c.vcpus ?? 1;
    if (!Number.isInteger(vcpus) || vcpus < 1) throw new ConfigError(`domain ${c.id}: vcpus must be a positive integer`);
    if (!Number.isInteger(c.memoryPages) || c.memoryPages < 1) throw new ConfigError(`domain ${c.id}: memoryPages must be a positive integer`);
    if (this.frames.free < c.memoryPages + 1) {
      throw new ConfigError(`domain ${c.id}: ${c.memoryPages + 1} frames needed, ${this.frames.free} free (raise hostFrames)`);
    }
    // RAM at gfn 0..memoryPages-1, then the shared_info frame at gfn memoryPages, where
    // the guest reaches it (as after XENMEM_add_to_physmap(XENMAPSPACE_shared_info)).
    const memory = new GuestMemory(this.frames, c.memoryPages + 1);
    for (let g = 0; g < c.memoryPages; g++) memory.set(gfn(g), this.frames.alloc(c.id) as Mfn);
    const siFrame = this.frames.alloc(c.id) as Mfn;
    memory.set(gfn(c.memoryPages), siFrame);
    const layout = sharedInfoLayout(this.spec, arch);
    const abiPorts = numberConstant(this.spec, 'EVTCHN_2L_NR_CHANNELS', arch);
    const ports = new PortTable(Math.min(c.maxEvtchnPort ?? 1023, abiPorts - 1), abiPorts);
    ports.allocate(0);
    ports.state[0] = PortState.Reserved;
    const d: Domain = {
      id: c.id,
      abi,
      arch,
      privileged: c.privileged ?? false,
      memory,
      vcpus: Array.from({ length: vcpus }, (_, i) => ({ id: i, online: i === 0, virqToPort: new Int32Array(this.nrVirqs) })),
      ports,
      sharedInfo: new SharedInfo(this.frames, siFrame, layout),
      sharedInfoFrame: siFrame,
      sharedInfoGfn: gfn(c.memoryPages),
      console: [],
      shutdownCode: undefined,
      shutDown: false,
      handle: c.handle ?? [],
      totPages: c.memoryPages,
      maxPages: c.maxPages ?? c.memoryPages,
      e820: c.memoryMap?.map((e) => ({ ...e })),
    };
    // Event delivery starts masked on every vCPU, as the domain builders leave it
    // (xen/arch/x86/pv/dom0_build.c for dom0, the toolstack for other domains).
    for (const v of d.vcpus) d.sharedInfo.setUpcallMask(v.id, true);
    this.domains.set(c.id, d);
    for (const hook of this.domainCreated) hook(d);
    return d;
  }

  /** A domain by id, or undefined. */
  domain(id: number): Domain | undefined {
    return this.domains.get(id);
  }

  /** Xen's rcu_lock_domain_by_any_id: DOMID_SELF is the caller. */
  domainByAnyId(caller: Domain, id: number): Domain | undefined {
    return id === this.domidSelf ? caller : this.domains.get(id);
  }

  /** The default (dummy) XSM_TARGET rule: the caller itself, or a privileged caller. */
  mayTarget(caller: Domain, target: Domain): boolean {
    return caller === target || caller.privileged;
  }

  /** Advances the virtual clock, firing every timer that falls due, in deadline order, at its deadline. */
  advance(ns: bigint): void {
    if (ns < 0n) throw new RangeError('time only moves forward');
    const target = this.now + ns;
    for (;;) {
      let due: Clocked | undefined;
      let at = target + 1n;
      for (const c of this.clocked) {
        const t = c.next();
        if (t !== undefined && t < at) {
          at = t;
          due = c;
        }
      }
      if (due === undefined) break;
      if (at > this.now) this.now = at;
      due.fire(this.now);
    }
    this.now = target;
  }

  /** Saves the whole machine. */
  snapshot(): MachineSnapshot {
    const domains = new Map<number, DomainSnapshot>();
    for (const d of this.domains.values()) {
      domains.set(d.id, {
        p2m: d.memory.p2m.slice(),
        sparse: d.memory.sparse.size > 0 ? new Map(d.memory.sparse) : undefined,
        ports: d.ports.snapshot(),
        vcpus: d.vcpus.map((v) => ({ online: v.online, virqToPort: v.virqToPort.slice() })),
        consoleLength: d.console.length,
        console: d.console,
        shutdownCode: d.shutdownCode,
        shutDown: d.shutDown,
      });
    }
    const subsystems = new Map<string, unknown>();
    for (const [name, sub] of this.subsystems) subsystems.set(name, sub.snapshot());
    return { frames: this.frames.snapshot(), domains, now: this.now, subsystems };
  }

  /** Restores a snapshot of this machine (domains created after it are removed). */
  restore(s: MachineSnapshot): void {
    this.frames.restore(s.frames);
    for (const id of [...this.domains.keys()]) if (!s.domains.has(id)) this.domains.delete(id);
    for (const [id, ds] of s.domains) {
      const d = this.domains.get(id);
      if (!d) throw new Error(`snapshot names domain ${id}, which this machine never had`);
      // The dense p2m in place when its size is unchanged (the usual case), else a copy.
      if (d.memory.p2m.length === ds.p2m.length) d.memory.p2m.set(ds.p2m);
      else d.memory.p2m = ds.p2m.slice();
      d.memory.maxFrames = ds.p2m.length;
      if (ds.sparse) d.memory.sparse = new Map(ds.sparse);
      else if (d.memory.sparse.size > 0) d.memory.sparse = new Map();
      d.ports.restore(ds.ports);
      ds.vcpus.forEach((v, i) => {
        const live = d.vcpus[i] as Vcpu;
        live.online = v.online;
        live.virqToPort.set(v.virqToPort);
      });
      d.console = ds.console.slice(0, ds.consoleLength);
      d.shutdownCode = ds.shutdownCode;
      d.shutDown = ds.shutDown;
    }
    this.now = s.now;
    for (const [name, sub] of this.subsystems) {
      if (!s.subsystems.has(name)) throw new Error(`snapshot has no state of subsystem ${name} (registered after it)`);
      sub.restore(s.subsystems.get(name));
    }
  }

  /** Adds a subsystem (before the first snapshot). */
  register(name: string, sub: Subsystem): void {
    if (this.subsystems.has(name)) throw new Error(`subsystem ${name} registered twice`);
    this.subsystems.set(name, sub);
  }

  /** Every broken invariant of the machine and its subsystems, in words. */
  invariants(): string[] {
    const out: string[] = [];
    // Core: every populated guest frame is a frame of this machine owned by that domain.
    const owner = this.frames.owner;
    const nFrames = this.frames.count;
    for (const d of this.domains.values()) {
      const p2m = d.memory.p2m;
      for (let g = 0; g < p2m.length; g++) {
        const m = p2m[g] as number;
        if (m < 0) continue;
        if (m >= nFrames) out.push(`domain ${d.id}: gfn ${g} maps to frame ${m}, which does not exist`);
        else if (owner[m] !== d.id && !this.foreignMapped(d.id, g)) out.push(`domain ${d.id}: gfn ${g} maps to frame ${m}, owned by ${owner[m]}`);
      }
      for (const [g, m] of d.memory.sparse) {
        if (m < 0 || m >= nFrames) out.push(`domain ${d.id}: gfn ${g} maps to frame ${m}, which does not exist`);
        else if (owner[m] !== d.id && !this.foreignMapped(d.id, g)) out.push(`domain ${d.id}: gfn ${g} maps to frame ${m}, owned by ${owner[m]}`);
      }
      const state = d.ports.state;
      for (let p = 0; p < d.ports.valid; p++) {
        if (state[p] !== PortState.Interdomain) continue;
        const peer = this.domains.get(d.ports.remoteDom[p] as number);
        const rp = d.ports.remotePort[p] as number;
        if (!peer || !peer.ports.isValid(rp) || peer.ports.state[rp] !== PortState.Interdomain || peer.ports.remoteDom[rp] !== d.id || peer.ports.remotePort[rp] !== p) {
          out.push(`domain ${d.id}: interdomain port ${p} is not mirrored by its peer`);
        }
      }
    }
    for (const [name, sub] of this.subsystems) for (const v of sub.invariants?.() ?? []) out.push(`${name}: ${v}`);
    return out;
  }

  /** A guest frame's machine frame, for hosts and tests. */
  frameOf(domid: number, g: Gfn): Mfn | undefined {
    return this.domains.get(domid)?.memory.lookup(g);
  }

  /**
   * The frame a domain names by a "gfn" in a call, when it may use it (Xen's get_page_from_gfn,
   * p2m_get_page_from_gfn in xen/arch/x86/mm/p2m.c and xen/arch/arm/p2m.c, RELEASE-4.17.7): a
   * translated domain's through its p2m, RAM it owns or another domain's page it maps through
   * gmfn_foreign (whose owner's reference is taken), never a grant mapping (get_page fails on
   * the granting domain's page, on x86 and Arm alike); a PV domain's is a machine frame
   * ("non-translated guests see 1-1 RAM"), which must exist and belong to it (mfn_valid &&
   * get_page(page, d)).
   */
  pageFromGfn(d: Domain, frameNo: bigint): Mfn | undefined {
    if (frameNo < 0n || frameNo > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
    const f = Number(frameNo);
    if (!d.abi.name.endsWith('-pv')) {
      const m = d.memory.lookup(gfn(f));
      return m !== undefined && (this.frames.owner[m] === d.id || this.gmfnForeign(d.id, f)) ? m : undefined;
    }
    return f < this.frames.count && this.frames.owner[f] === d.id ? (f as Mfn) : undefined;
  }
}

function numberConstant(spec: Spec, name: string, arch?: Arch): number {
  const v = constantValue(spec, name, arch);
  if (typeof v !== 'number') throw new Error(`spec ${spec.name} has no numeric constant ${name}${arch ? ` on ${arch.name}` : ''}`);
  return v;
}
