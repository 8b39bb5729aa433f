/**
 * memory_op with Xen 4.17's semantics (xen/common/memory.c, xen/arch/x86/mm.c,
 * xen/arch/x86/x86_64/mm.c, xen/arch/x86/x86_64/compat/mm.c, xen/arch/x86/mm/p2m.c,
 * xen/arch/arm/mm.c at RELEASE-4.17.7): reservations (counts of extents, never errnos),
 * exchange, the reservation and gpfn queries, memory maps, the machine-to-phys queries and the
 * physmap of translated domains. Each operation takes the caller, the start extent from the
 * continuation bits of cmd, and its decoded argument, and returns what the guest sees; the
 * order of checks is Xen's, so the same bad input gives the same answer.
 *
 * Model notes:
 * - Guest addresses are guest-physical, so Xen's guest_handle_okay range checks become "every
 *   page of the range is the caller's memory".
 * - The p2m is the VMM's for every domain. For PV domains Xen keeps none (the guest does), and
 *   the numbers in decrease_reservation and exchange input lists are MFNs; populate_physmap
 *   and exchange outputs still place the new frames at the guest's gpfns in our p2m, standing
 *   in for the guest's own p2m update (Xen updates only its M2P there).
 * - Which owned frames are RAM (counted in tot_pages) and which are Xen-heap frames shared with
 *   the domain (shared_info, grant frames) is this subsystem's `ramOwner` table: Xen's
 *   PGC_xen_heap, seen from the other side.
 * - One NUMA node (0); no PoD cache, no MMIO, no IOMMU, no memory sharing or paging; Xen is
 *   never preempted, so a call runs to the end from its start extent.
 */
import { codecsByArch, type XenCodecs } from '../../generated/xen/codecs.js';
import { GuestFault, GuestRef, type Codec, type HypercallResult } from '../../generated/xen/runtime.js';
import type {
  XenAddToPhysmap,
  XenAddToPhysmapBatch,
  XenForeignMemoryMap,
  XenMachphysMapping,
  XenMachphysMfnList,
  XenMemoryDomain,
  XenMemoryExchange,
  XenMemoryMap,
  XenMemoryReservation,
  XenRemoveFromPhysmap,
} from '../../generated/xen/types.js';
import { constantValue, LayoutEngine } from '../../spec/index.js';
import { type Gfn, type Mfn, gaddr, gfn, mfn, PAGE_SHIFT, PAGE_SIZE } from '../addr.js';
import type { GrantTables } from '../grant/ops.js';
import type { Domain, E820Entry, Machine } from '../machine.js';
import { freeTail, NO_OWNER } from './frames.js';
import { MAX_GFNS } from './guest.js';

/**
 * Xen-internal numbers (not in the public headers, so not in the spec), RELEASE-4.17.7:
 * MEMOP_EXTENT_SHIFT (xen/include/xen/hypercall.h); the memop max orders of
 * xen/arch/{x86,arm}/include/asm/config.h (DOMU 9; control domain PAGEALLOC_MAX_ORDER 18;
 * hardware domain 12 on x86, 10 on Arm; all capped by MAX_ORDER 18), E820MAX and the E820
 * types (xen/arch/x86/include/asm/e820.h), NR of NUMA nodes (CONFIG_NR_NUMA_NODES default),
 * the compat M2P end (asm/config.h MACH2PHYS_COMPAT_VIRT_END) and the 2 MiB M2P chunks of
 * machphys_mfn_list (L2_PAGETABLE_SHIFT).
 */
export const MEMOP_EXTENT_SHIFT = 6n;
const DOMU_MAX_ORDER = 9;
const CTLDOM_MAX_ORDER = 18;
const MAX_ORDER = 18;
const E820MAX = 1024;
export const E820_RAM = 1;
const E820_ENTRY_SIZE = 20;
const MAX_NUMNODES = 64;
const NUMA_NO_NODE = 0xff;
const MACH2PHYS_COMPAT_VIRT_END = 0xffe00000n;
const M2P_CHUNK = 1 << 21;
const INT_MAX = 0x7fffffff;

/** Whether the domain is translated (HVM, PVH, Arm): Xen keeps its p2m; x86 PV domains keep their own. */
export const isTranslated = (d: Domain): boolean => !d.abi.name.endsWith('-pv');

/** Which frames are a domain's RAM (counted in its tot_pages), by frame: the domain id, or -1 (free, or a Xen-heap frame such as shared_info or a grant frame). A subsystem that moves RAM between domains moves it here too. */
export class RamFrames {
  owner: Int32Array;
  constructor(count: number) {
    this.owner = new Int32Array(count).fill(NO_OWNER);
  }
}

/** The XENMEM max extent order for a caller (Xen's max_order(current->domain)). */
export const maxOrder = (caller: Domain): number => Math.min(caller.privileged ? CTLDOM_MAX_ORDER : DOMU_MAX_ORDER, MAX_ORDER);

type Ref<T> = GuestRef<T>;

/**
 * Preemption and continuation for one call (Xen's hypercall_preempt_check and
 * hypercall_create_continuation(__HYPERVISOR_memory_op, "lh", cmd, arg)).
 */
export interface Continuation {
  preempt(): boolean;
  /** Restarts memory_op with this cmd and the same argument pointer; returns what the handler returns meanwhile. */
  restart(cmd: bigint): HypercallResult;
}

/** Never preempted (a host calling the operations directly). */
export const RUN_TO_END: Continuation = {
  preempt: () => false,
  restart: () => {
    throw new Error('RUN_TO_END never preempts');
  },
};

/** memory_op bound to one machine. */
export class MemoryOps {
  private readonly E: Machine['errno'];
  /** gmfn_foreign mappings: domain → gfn → the other domain's frame (each holds a reference on it). */
  foreign = new Map<number, Map<number, number>>();
  private readonly c: (name: string) => number;

  constructor(
    private readonly m: Machine,
    readonly ram: RamFrames,
    /** The grant subsystem's tables, when the VMM has one (for XENMAPSPACE_grant_table). */
    private readonly grants?: () => GrantTables | undefined,
  ) {
    this.E = m.errno;
    this.c = (name) => {
      const v = constantValue(m.spec, name);
      if (typeof v !== 'number') throw new Error(`spec has no numeric constant ${name}`);
      return v;
    };
  }

  private err(code: string): number {
    const v = this.E[code];
    if (v === undefined) throw new Error(`spec has no errno ${code}`);
    return v;
  }

  private codecs(d: Domain): XenCodecs {
    return codecsByArch[d.arch.name as keyof typeof codecsByArch];
  }

  // ───────────────────────────── frames and the p2m ─────────────────────────────

  /** Xen's max_page: one past the highest machine frame. */
  get maxPage(): number {
    return this.m.frames.count;
  }

  /** Whether frame f is RAM of d (counted in its tot_pages), not a Xen-heap frame shared with it. */
  isRam(d: Domain, f: number): boolean {
    return this.ram.owner[f] === d.id && this.m.frames.owner[f] === d.id;
  }

  /** Allocates a RAM extent to d (Xen's alloc_domheap_pages + assign_pages); undefined when over max_pages or out of memory. */
  private allocRam(d: Domain, order: number, limit: number, countIt = true): Mfn | undefined {
    const n = 2 ** order;
    if (countIt && d.totPages + n > d.maxPages) return undefined;
    const base = this.m.frames.allocExtent(d.id, order, limit);
    if (base === undefined) return undefined;
    for (let i = 0; i < n; i++) this.ram.owner[base + i] = d.id;
    if (countIt) d.totPages += n;
    return base;
  }

  /** Frees a RAM frame of d (tot_pages goes down); `counted` false for frames tot_pages never had. */
  private freeRam(d: Domain, f: Mfn, counted = true): void {
    this.ram.owner[f] = NO_OWNER;
    this.m.frames.release(f);
    if (counted) d.totPages -= 1;
  }

  /** Every gfn at which d's p2m maps frame f (the M2P, found the slow way). */
  private gfnsOf(d: Domain, f: number): Gfn[] {
    return d.memory.gfnsOf(f);
  }

  /** Maps 2^order frames from `base` at gfn `g` onwards; false when beyond the model's p2m. */
  private mapExtent(d: Domain, g: bigint, base: Mfn, order: number): boolean {
    const n = 2 ** order;
    if (g + BigInt(n) > BigInt(MAX_GFNS)) return false;
    // p2m_add_page refuses to replace a grant or foreign mapping (p2m_is_special).
    for (let i = 0; i < n && isTranslated(d); i++) {
      const cur = d.memory.lookup(gfn(Number(g) + i));
      if (cur !== undefined && this.m.frames.owner[cur] !== d.id) return false;
    }
    // A PV domain's addresses go through its own page tables, which Xen leaves alone:
    // guest_physmap_add_page only records the M2P entry (xen/arch/x86/mm/physmap.c,
    // RELEASE-4.17.7). The model maps the new frames where the guest has nothing yet, and keeps
    // what it has at the others (a populate naming a gpfn in use does not move the guest's page).
    for (let i = 0; i < n; i++) {
      const at = gfn(Number(g) + i);
      if (!isTranslated(d) && d.memory.lookup(at) !== undefined) continue;
      d.memory.set(at, mfn(base + i));
    }
    return true;
  }

  /**
   * Xen's guest_remove_page: 0, or why the page at `g` (an MFN for PV domains) cannot go:
   * -ENOENT nothing there, -EINVAL no such frame, -ENXIO not the domain's, -EBUSY (the model's
   * own) still referenced elsewhere. RAM is freed; a Xen-heap frame is only unhooked from the physmap.
   */
  private removePage(d: Domain, g: bigint): number {
    let f: number;
    if (isTranslated(d)) {
      const m = g < BigInt(MAX_GFNS) ? d.memory.lookup(gfn(Number(g))) : undefined;
      if (m === undefined) return this.err('ENOENT');
      f = m;
    } else {
      if (g >= BigInt(this.m.frames.count)) return this.err('EINVAL');
      f = Number(g);
    }
    const frames = this.m.frames;
    if (frames.owner[f] !== d.id) return this.err('ENXIO');
    if (!this.isRam(d, f)) {
      if (isTranslated(d)) d.memory.set(gfn(Number(g)), undefined);
      return 0;
    }
    // Xen drops the allocation reference and frees the frame when the last other reference
    // goes (a page-table type, a grant mapping). The model frees only frames nobody else
    // holds, and stops at the others (as if they could not be removed): no subsystem here
    // frees a frame when its own last reference goes.
    if (frames.refCount[f] !== 1 || frames.typeCount[f] !== 0 || frames.pinned[f] !== 0) return this.err('EBUSY');
    for (const at of isTranslated(d) ? [gfn(Number(g))] : this.gfnsOf(d, f)) d.memory.set(at, undefined);
    this.freeRam(d, mfn(f));
    return 0;
  }

  // ───────────────────────────── guest lists ─────────────────────────────

  /** Whether `bytes` bytes at guest address `addr` are all the caller's memory. */
  private accessible(caller: Domain, addr: bigint, bytes: bigint): boolean {
    if (bytes <= 0n) return true;
    const end = addr + bytes;
    if (end > BigInt(Number.MAX_SAFE_INTEGER)) return false;
    const first = Number(addr >> BigInt(PAGE_SHIFT));
    const last = Number((end - 1n) >> BigInt(PAGE_SHIFT));
    for (let g = first; g <= last; g++) if (caller.memory.lookup(gfn(g)) === undefined) return false;
    return true;
  }

  /** guest_handle_subrange_okay(list, first, last) for elements of `size` bytes. */
  private subrangeOkay(caller: Domain, list: bigint, first: bigint, last: bigint, size: number): boolean {
    if (last < first) return true;
    return this.accessible(caller, list + first * BigInt(size), (last - first + 1n) * BigInt(size));
  }

  private readAt<T>(caller: Domain, codec: Codec<T>, list: bigint, i: bigint): T | undefined {
    try {
      return new GuestRef(caller.memory, list + i * BigInt(codec.size), codec).read();
    } catch (e) {
      if (e instanceof GuestFault) return undefined;
      throw e;
    }
  }

  private writeAt<T>(caller: Domain, codec: Codec<T>, list: bigint, i: bigint, v: T): boolean {
    try {
      new GuestRef(caller.memory, list + i * BigInt(codec.size), codec).write(v);
      return true;
    } catch (e) {
      if (e instanceof GuestFault) return false;
      throw e;
    }
  }

  /** An MFN as the caller's xen_pfn_t (a bigint on every arch of the spec). */
  private pfnValue(v: number): bigint {
    return BigInt(v);
  }

  // ───────────────────────────── reservations ─────────────────────────────

  /** The frame limit of an address width (MEMF_bits), Infinity when unrestricted, undefined when refused. */
  private addressLimit(memFlags: number, strict: boolean): number | undefined {
    const bits = memFlags & 0xff;
    let order = 0;
    while (2 ** order < this.maxPage) order++;
    if (bits === 0 || bits >= order + PAGE_SHIFT) return Infinity;
    if (bits <= PAGE_SHIFT) return strict ? undefined : 0;
    return 2 ** (bits - PAGE_SHIFT);
  }

  /** Xen's propagate_node: false to refuse; `exactElsewhere` when the request pins a node this one-node host lacks. */
  private node(caller: Domain, memFlags: number): { ok: boolean; exactElsewhere: boolean } {
    const node = (((memFlags >> 8) & 0xff) - 1) & 0xff;
    if (node === NUMA_NO_NODE) return { ok: true, exactElsewhere: false };
    const exact = (memFlags & this.c('XENMEMF_exact_node_request')) !== 0;
    if (caller.privileged) {
      if (node >= MAX_NUMNODES) return { ok: false, exactElsewhere: false };
      return { ok: true, exactElsewhere: exact && node !== 0 };
    }
    return { ok: !exact, exactElsewhere: false };
  }

  /**
   * increase_reservation, decrease_reservation and populate_physmap (do_memory_op's common
   * part): the number of extents done, counting from `start`.
   */
  reservation(caller: Domain, kind: 'increase' | 'decrease' | 'populate', start: bigint, ref: Ref<XenMemoryReservation>, k: Continuation = RUN_TO_END): HypercallResult {
    let r: XenMemoryReservation;
    try {
      r = ref.read();
    } catch (e) {
      if (e instanceof GuestFault) return start;
      throw e;
    }
    const nr = BigInt(r.nr_extents);
    if (nr > 0xffffffffn >> MEMOP_EXTENT_SHIFT) return start;
    // The compat translation (32-bit x86 callers) checks the whole list, from extent 0.
    const list = BigInt(r.extent_start);
    if (caller.arch.name === 'x86_32' && list !== 0n && !this.subrangeOkay(caller, list, 0n, nr - 1n, this.codecs(caller).XenPfn.size)) return start;
    if (start >= nr) return start;
    const d = this.m.domainByAnyId(caller, r.domid);
    if (!d) return start;
    const limit = this.addressLimit(r.mem_flags, true);
    if (limit === undefined) return start;
    const vnode = (r.mem_flags & this.c('XENMEMF_vnode')) !== 0;
    // XENMEMF_vnode: the domain has no vNUMA topology in this model, so nothing is checked.
    const node = vnode ? { ok: true, exactElsewhere: false } : this.node(caller, r.mem_flags);
    if (!node.ok) return start;
    const pod = kind === 'populate' && (r.mem_flags & this.c('XENMEMF_populate_on_demand')) !== 0;
    if (!this.m.mayTarget(caller, d)) return start;
    const a = { caller, d, list: BigInt(r.extent_start), nr, order: r.extent_order, limit: node.exactElsewhere ? 0 : limit, pod, k, preempted: false };
    const done = kind === 'increase' ? this.increase(a, start) : kind === 'decrease' ? this.decrease(a, start) : this.populate(a, start);
    if (!a.preempted) return done;
    return k.restart(BigInt(this.c(`XENMEM_${kind === 'populate' ? 'populate_physmap' : `${kind}_reservation`}`)) | (done << MEMOP_EXTENT_SHIFT));
  }

  private preempted(a: MemopArgs): boolean {
    a.preempted = a.k.preempt();
    return a.preempted;
  }

  private increase(a: MemopArgs, start: bigint): bigint {
    const pfn = this.codecs(a.caller).XenPfn;
    if (a.list !== 0n && !this.subrangeOkay(a.caller, a.list, start, a.nr - 1n, pfn.size)) return start;
    if (a.order > maxOrder(a.caller)) return start;
    let i = start;
    for (; i < a.nr; i++) {
      if (i !== start && this.preempted(a)) break;
      const base = this.allocRam(a.d, a.order, a.limit);
      if (base === undefined) break;
      // Inform a PV domain of the new extent's machine address.
      if (!isTranslated(a.d) && a.list !== 0n && !this.writeAt(a.caller, pfn, a.list, i, this.pfnValue(base))) break;
    }
    return i;
  }

  private populate(a: MemopArgs, start: bigint): bigint {
    const pfn = this.codecs(a.caller).XenPfn;
    if (!this.subrangeOkay(a.caller, a.list, start, a.nr - 1n, pfn.size)) return start;
    if (a.order > (a.pod ? MAX_ORDER : maxOrder(a.caller))) return start;
    let i = start;
    for (; i < a.nr; i++) {
      if (i !== start && this.preempted(a)) break;
      const g = this.readAt(a.caller, pfn, a.list, i);
      if (g === undefined) break;
      if (a.pod) {
        // Populate-on-demand never on oneself; an HVM target would get PoD entries (not
        // modelled: counted as done, nothing mapped), Arm has none, a PV target ignores it.
        if (a.d === a.caller) break;
        if (isTranslated(a.d) && a.d.arch.family === 'arm') break;
        continue;
      }
      const base = this.allocRam(a.d, a.order, a.limit);
      if (base === undefined) break;
      const mapped = this.mapExtent(a.d, BigInt(g), base, a.order);
      if (!mapped && isTranslated(a.d)) break;
      if (!isTranslated(a.d) && !this.writeAt(a.caller, pfn, a.list, i, this.pfnValue(base))) break;
    }
    return i;
  }

  private decrease(a: MemopArgs, start: bigint): bigint {
    const pfn = this.codecs(a.caller).XenPfn;
    if (!this.subrangeOkay(a.caller, a.list, start, a.nr - 1n, pfn.size) || a.order > maxOrder(a.caller)) return start;
    let i = start;
    extents: for (; i < a.nr; i++) {
      if (i !== start && this.preempted(a)) break;
      const g = this.readAt(a.caller, pfn, a.list, i);
      if (g === undefined) break;
      for (let j = 0n; j < 1n << BigInt(a.order); j++) if (this.removePage(a.d, BigInt(g) + j) !== 0) break extents;
    }
    return i;
  }

  // ───────────────────────────── exchange ─────────────────────────────

  /** XENMEM_exchange (xen/common/memory.c:memory_exchange). */
  exchange(caller: Domain, start: bigint, ref: Ref<XenMemoryExchange>, k: Continuation = RUN_TO_END): HypercallResult {
    if (start !== 0n) return this.err('EINVAL');
    let x: XenMemoryExchange;
    try {
      x = ref.read();
    } catch (e) {
      if (e instanceof GuestFault) return this.err('EFAULT');
      throw e;
    }
    const done = (nrExchanged: bigint, rc: number): number => {
      try {
        const now = ref.read();
        now.nr_exchanged = nrExchanged;
        ref.write(now);
      } catch (e) {
        if (e instanceof GuestFault) return this.err('EFAULT');
        throw e;
      }
      return rc;
    };
    const inN = BigInt(x.in.nr_extents);
    const outN = BigInt(x.out.nr_extents);
    const exchanged = BigInt(x.nr_exchanged);
    const inOrder = x.in.extent_order;
    const outOrder = x.out.extent_order;
    if (Math.max(inOrder, outOrder) > maxOrder(caller)) return done(exchanged, this.err('EPERM'));
    const ulongMax = (1n << 64n) - 1n;
    if (
      exchanged > inN ||
      x.in.domid !== x.out.domid ||
      ulongMax >> BigInt(inOrder) < inN ||
      ulongMax >> BigInt(outOrder) < outN ||
      inN << BigInt(inOrder) !== outN << BigInt(outOrder)
    ) {
      return done(exchanged, this.err('EINVAL'));
    }
    if (exchanged === inN) return 0;
    const pfn = this.codecs(caller).XenPfn;
    const inList = BigInt(x.in.extent_start);
    const outList = BigInt(x.out.extent_start);
    if (!this.subrangeOkay(caller, inList, exchanged, inN - 1n, pfn.size)) return done(exchanged, this.err('EFAULT'));
    const inChunk = inOrder <= outOrder ? BigInt(outOrder - inOrder) : 0n;
    const outChunk = inOrder <= outOrder ? 0n : BigInt(inOrder - outOrder);
    const outFirst = inOrder <= outOrder ? exchanged >> inChunk : exchanged << outChunk;
    if (!this.subrangeOkay(caller, outList, outFirst, outN - 1n, pfn.size)) return done(exchanged, this.err('EFAULT'));
    const node = this.node(caller, x.out.mem_flags);
    if (!node.ok) return done(exchanged, this.err('EINVAL'));
    const d = this.m.domainByAnyId(caller, x.in.domid);
    if (!d) return done(exchanged, this.err('ESRCH'));
    if (!this.m.mayTarget(caller, d)) return done(exchanged, this.err('EPERM'));
    const limit = node.exactElsewhere ? 0 : (this.addressLimit(x.out.mem_flags, false) as number);

    const first = exchanged >> inChunk;
    for (let i = first; i < inN >> inChunk; i++) {
      if (i !== first && k.preempt()) {
        const rc = done(i << inChunk, 0);
        return rc === 0 ? k.restart(BigInt(this.c('XENMEM_exchange'))) : rc;
      }
      // Steal a chunk's worth of input pages (checked now, taken only when the chunk succeeds).
      const stolen: number[] = [];
      let rc = 0;
      steal: for (let j = 0n; j < 1n << inChunk; j++) {
        const g = this.readAt(caller, pfn, inList, (i << inChunk) + j);
        if (g === undefined) {
          rc = this.err('EFAULT');
          break;
        }
        for (let k = 0n; k < 1n << BigInt(inOrder); k++) {
          rc = this.stealable(d, BigInt(g) + k, stolen);
          if (rc !== 0) break steal;
        }
      }
      if (rc !== 0) return done(i << inChunk, rc);
      // Allocate a chunk's worth of output pages (not counted against max_pages).
      const fresh: Mfn[] = [];
      for (let j = 0n; j < 1n << outChunk; j++) {
        const base = this.allocRam(d, outOrder, limit, false);
        if (base === undefined) {
          for (const f of fresh) for (let p = 0; p < 2 ** outOrder; p++) this.freeRam(d, mfn(f + p), false);
          return done(i << inChunk, this.err('ENOMEM'));
        }
        fresh.push(base);
      }
      // Success: free the input pages, hand the output pages over.
      // (steal_page and assign_page leave tot_pages alone: as many pages come in as go out.)
      for (const f of stolen) {
        for (const at of this.gfnsOf(d, f)) d.memory.set(at, undefined);
        this.freeRam(d, mfn(f), false);
      }
      fresh.forEach((base, j) => {
        const at = (i << outChunk) + BigInt(j);
        const g = this.readAt(caller, pfn, outList, at);
        if (g === undefined) {
          rc = this.err('EFAULT');
          return;
        }
        this.mapExtent(d, BigInt(g), base, outOrder);
        if (!this.writeAt(caller, pfn, outList, at, this.pfnValue(base))) rc = this.err('EFAULT');
      });
      if (rc !== 0) return done(i << inChunk, rc);
    }
    return done(inN, 0);
  }

  /** Xen's steal_page (after the gfn lookup), for frame `g` of the input list; 0 or an errno. */
  private stealable(d: Domain, g: bigint, stolen: number[]): number {
    if (isTranslated(d)) {
      // x86 HVM: get_gfn_unshare finds no frame → -EINVAL; steal_page refuses external paging.
      const m = g < BigInt(MAX_GFNS) ? d.memory.lookup(gfn(Number(g))) : undefined;
      return m === undefined ? this.err('EINVAL') : this.err('EOPNOTSUPP');
    }
    if (g >= BigInt(this.m.frames.count)) return this.err('EINVAL');
    const f = Number(g);
    const frames = this.m.frames;
    if (stolen.includes(f) || !this.isRam(d, f) || frames.refCount[f] !== 1 || frames.typeCount[f] !== 0 || frames.pinned[f] !== 0) {
      return this.err('EINVAL');
    }
    stolen.push(f);
    return 0;
  }

  // ───────────────────────────── queries ─────────────────────────────

  /** XENMEM_maximum_ram_page. */
  maximumRamPage(caller: Domain, start: bigint): number {
    if (start !== 0n) return this.err('EINVAL');
    return caller.arch.name === 'x86_32' ? Math.min(this.maxPage, INT_MAX) : this.maxPage;
  }

  /** XENMEM_current_reservation, XENMEM_maximum_reservation, XENMEM_maximum_gpfn. */
  domainQuery(caller: Domain, what: 'current' | 'maximum' | 'gpfn', start: bigint, ref: Ref<XenMemoryDomain>): number {
    if (start !== 0n) return this.err('EINVAL');
    const arg = ref.read();
    const d = this.m.domainByAnyId(caller, arg.domid);
    if (!d) return this.err('ESRCH');
    if (!this.m.mayTarget(caller, d)) return this.err('EPERM');
    if (what === 'current') return d.totPages;
    if (what === 'maximum') return d.maxPages;
    return this.maximumGpfn(d);
  }

  /** domain_get_maximum_gpfn: translated, the highest mapped gfn; PV, shared_info's arch.max_pfn (the guest's own) less one. */
  private maximumGpfn(d: Domain): number {
    if (isTranslated(d)) return Math.max(0, d.memory.highestMapped());
    const e = new LayoutEngine(this.m.spec, d.arch);
    const at = (e.named('struct shared_info').fields['arch']?.offset ?? 0) + (e.named('struct arch_shared_info').fields['max_pfn']?.offset ?? 0);
    const page = this.m.frames.read(d.sharedInfoFrame);
    const view = new DataView(page.buffer, page.byteOffset, page.byteLength);
    const maxPfn = d.arch.wordSize === 8 ? Number(view.getBigUint64(at, true)) : view.getUint32(at, true);
    return (maxPfn || 1) - 1;
  }

  // ───────────────────────────── memory maps ─────────────────────────────

  /** XENMEM_set_memory_map (x86): the toolstack sets a domain's pseudo-physical E820 map. */
  setMemoryMap(caller: Domain, start: bigint, ref: Ref<XenForeignMemoryMap>): number {
    if (start !== 0n) return this.err('ENOSYS');
    const f = ref.read();
    if (f.map.nr_entries > E820MAX) return this.err('EINVAL');
    const d = this.m.domainByAnyId(caller, f.domid);
    if (!d) return this.err('ESRCH');
    if (!this.m.mayTarget(caller, d)) return this.err('EPERM');
    const n = f.map.nr_entries;
    const bytes = new Uint8Array(n * E820_ENTRY_SIZE);
    // Copying no entries never faults, whatever the buffer (an empty map is set): live Xen, fuzz seeds 2516, 2617.
    if (n > 0 && (!this.accessible(caller, BigInt(f.map.buffer), BigInt(bytes.length)) || !caller.memory.read(gaddr(Number(f.map.buffer)), bytes))) {
      return this.err('EFAULT');
    }
    const view = new DataView(bytes.buffer);
    const map: E820Entry[] = [];
    for (let i = 0; i < n; i++) {
      const o = i * E820_ENTRY_SIZE;
      map.push({ addr: view.getBigUint64(o, true), size: view.getBigUint64(o + 8, true), type: view.getUint32(o + 16, true) });
    }
    d.e820 = map;
    return 0;
  }

  /** XENMEM_memory_map (x86): the caller's own map, up to nr_entries entries. */
  memoryMap(caller: Domain, start: bigint, ref: Ref<XenMemoryMap>): number {
    if (start !== 0n) return this.err('ENOSYS');
    const map = ref.read();
    const e820 = caller.e820;
    if (!e820 || e820.length === 0) return this.err('ENOSYS');
    const n = Math.min(map.nr_entries, e820.length);
    if (!this.writeE820(caller, BigInt(map.buffer), e820.slice(0, n))) return this.err('EFAULT');
    map.nr_entries = n;
    ref.write(map);
    return 0;
  }

  /** XENMEM_machine_memory_map (x86 PV, privileged): the host map, one RAM range in this model (no I/O memory). */
  machineMemoryMap(caller: Domain, start: bigint, ref: Ref<XenMemoryMap>): number {
    if (start !== 0n || isTranslated(caller)) return this.err('ENOSYS');
    // The compat path copies the struct in before arch_memory_op's privilege check.
    const compat = caller.arch.name === 'x86_32';
    let map: XenMemoryMap | undefined = compat ? ref.read() : undefined;
    if (!caller.privileged) return this.err('EPERM');
    map ??= ref.read();
    const host: E820Entry[] = [{ addr: 0n, size: BigInt(this.maxPage * PAGE_SIZE), type: E820_RAM }];
    const buffer = BigInt(map.buffer);
    const store = buffer !== 0n;
    if (store && map.nr_entries < host.length + 1) return this.err('EINVAL');
    if (store && !this.accessible(caller, buffer, BigInt(map.nr_entries) * BigInt(E820_ENTRY_SIZE))) return this.err('EFAULT');
    if (store && !this.writeE820(caller, buffer, host)) return this.err('EFAULT');
    map.nr_entries = host.length;
    ref.write(map);
    return 0;
  }

  private writeE820(caller: Domain, at: bigint, entries: readonly E820Entry[]): boolean {
    const bytes = new Uint8Array(entries.length * E820_ENTRY_SIZE);
    const view = new DataView(bytes.buffer);
    entries.forEach((e, i) => {
      const o = i * E820_ENTRY_SIZE;
      view.setBigUint64(o, BigInt.asUintN(64, e.addr), true);
      view.setBigUint64(o + 8, BigInt.asUintN(64, e.size), true);
      view.setUint32(o + 16, e.type >>> 0, true);
    });
    if (bytes.length === 0) return true;
    if (!this.accessible(caller, at, BigInt(bytes.length))) return false;
    return caller.memory.write(gaddr(Number(at)), bytes);
  }

  // ───────────────────────────── machine-to-phys ─────────────────────────────

  /** XENMEM_machphys_mapping (x86 PV): where the read-only M2P sits, native or compat. */
  machphysMapping(caller: Domain, start: bigint, ref: Ref<XenMachphysMapping>): number {
    if (start !== 0n || isTranslated(caller)) return this.err('ENOSYS');
    const big = (name: string): bigint => BigInt(constantValue(this.m.spec, name, caller.arch) as number | string);
    let v: XenMachphysMapping;
    if (caller.arch.name === 'x86_32') {
      // compat_arch_memory_op: the compat M2P runs from the domain's hv_compat_vstart
      // (__HYPERVISOR_COMPAT_VIRT_START by default, the spec's 32-bit MACH2PHYS_VIRT_START) to 0xFFE00000.
      const vStart = big('MACH2PHYS_VIRT_START');
      v = { v_start: vStart, v_end: MACH2PHYS_COMPAT_VIRT_END, max_mfn: ((MACH2PHYS_COMPAT_VIRT_END - vStart) >> 2n) - 1n };
    } else {
      // Without memory hotplug the hardware domain is told the real highest frame.
      const maxMfn = caller.privileged ? BigInt(this.maxPage - 1) : big('MACH2PHYS_NR_ENTRIES') - 1n;
      v = { v_start: big('MACH2PHYS_VIRT_START'), v_end: big('MACH2PHYS_VIRT_END'), max_mfn: maxMfn };
    }
    ref.write(v);
    return 0;
  }

  /**
   * XENMEM_machphys_mfn_list (x86): the base MFN of each 2 MiB chunk of the M2P. The M2P is
   * Xen's memory, outside the frames guests are given: this model places chunk i at MFN
   * max_page + 512 i (2 MiB apart), which no guest frame can be.
   */
  machphysMfnList(caller: Domain, start: bigint, ref: Ref<XenMachphysMfnList>): number {
    if (start !== 0n) return this.err('ENOSYS');
    const list = ref.read();
    const compat = caller.arch.name === 'x86_32';
    const entryBytes = compat ? 4 : 8;
    const chunks = Math.ceil((this.maxPage * entryBytes) / M2P_CHUNK);
    const pfn = this.codecs(caller).XenPfn;
    const per = M2P_CHUNK / PAGE_SIZE;
    let i = 0;
    for (; i !== list.max_extents && i < chunks; i++) {
      if (!this.writeAt(caller, pfn, BigInt(list.extent_start), BigInt(i), this.pfnValue(this.maxPage + i * per))) return this.err('EFAULT');
    }
    list.nr_extents = i;
    ref.write(list);
    return 0;
  }

  // ───────────────────────────── the physmap of translated domains ─────────────────────────────

  /** xatp_permission_check: 0, -EACCES or -EPERM. */
  private physmapPermission(caller: Domain, d: Domain, space: number): number {
    if (!isTranslated(d)) return this.err('EACCES');
    if (space === this.c('XENMAPSPACE_dev_mmio') && (!d.privileged || d !== caller)) return this.err('EACCES');
    return this.m.mayTarget(caller, d) ? 0 : this.err('EPERM');
  }

  /** XENMEM_add_to_physmap. */
  addToPhysmap(caller: Domain, start: bigint, ref: Ref<XenAddToPhysmap>, k: Continuation = RUN_TO_END): HypercallResult {
    if (start > 0xffffn) return this.err('EDOM');
    const x = ref.read();
    if (x.space === this.c('XENMAPSPACE_gmfn_foreign')) return this.err('ENOSYS');
    const d = this.m.domainByAnyId(caller, x.domid);
    if (!d) return this.err('ESRCH');
    const perm = this.physmapPermission(caller, d, x.space);
    if (perm !== 0) return perm;
    const gpfn = BigInt(x.gpfn);
    if (gpfn === this.invalidGfn()) return this.err('EINVAL');
    if (x.space !== this.c('XENMAPSPACE_gmfn_range')) return this.addOne(caller, d, x.space, BigInt(x.idx), gpfn);
    const size = BigInt(x.size);
    if (size < start) return this.err('EILSEQ');
    const wrap = 1n << 64n;
    if (gpfn + size >= wrap || BigInt(x.idx) + size >= wrap) return this.err('EOVERFLOW');
    for (let j = start; j < size; j++) {
      const rc = this.addOne(caller, d, this.c('XENMAPSPACE_gmfn'), BigInt(x.idx) + j, gpfn + j);
      if (rc < 0) return rc;
      if (j + 1n < size && k.preempt()) return k.restart(BigInt(this.c('XENMEM_add_to_physmap')) | ((j + 1n) << MEMOP_EXTENT_SHIFT));
    }
    return 0;
  }

  /** INVALID_GFN as the native unsigned long (~0). */
  private invalidGfn(): bigint {
    return (1n << 64n) - 1n;
  }

  /** XENMEM_add_to_physmap_batch: per-entry results in errs, 0 for the call. */
  addToPhysmapBatch(caller: Domain, start: bigint, ref: Ref<XenAddToPhysmapBatch>, k: Continuation = RUN_TO_END): HypercallResult {
    if (start > 0xffffn) return this.err('EDOM');
    const x = ref.read();
    if (x.space === this.c('XENMAPSPACE_gmfn_range')) return this.err('EOPNOTSUPP');
    const d = this.m.domainByAnyId(caller, x.domid);
    if (!d) return this.err('ESRCH');
    const perm = this.physmapPermission(caller, d, x.space);
    if (perm !== 0) return perm;
    const size = BigInt(x.size);
    if (size < start) return this.err('EILSEQ');
    if (size === start) return start !== 0n ? this.err('EILSEQ') : 0;
    const cs = this.codecs(caller);
    const idxs = BigInt(x.idxs);
    const gpfns = BigInt(x.gpfns);
    const errs = BigInt(x.errs);
    if (
      !this.subrangeOkay(caller, idxs, start, size - 1n, cs.XenUlong.size) ||
      !this.subrangeOkay(caller, gpfns, start, size - 1n, cs.XenPfn.size) ||
      !this.subrangeOkay(caller, errs, start, size - 1n, cs.Int.size)
    ) {
      return this.err('EFAULT');
    }
    if (x.space === this.c('XENMAPSPACE_dev_mmio') && (x.u.res0 ?? 0) !== 0) return this.err('EOPNOTSUPP');
    for (let j = start; j < size; j++) {
      const idx = this.readAt(caller, cs.XenUlong, idxs, j);
      const g = this.readAt(caller, cs.XenPfn, gpfns, j);
      if (idx === undefined || g === undefined) return this.err('EFAULT');
      if (BigInt(g) === this.invalidGfn()) return this.err('EINVAL');
      const rc =
        x.space === this.c('XENMAPSPACE_gmfn_foreign')
          ? this.addForeign(caller, d, x.u.foreign_domid ?? x.u.res0 ?? 0, BigInt(idx), BigInt(g))
          : this.addOne(caller, d, x.space, BigInt(idx), BigInt(g));
      if (!this.writeAt(caller, cs.Int, errs, j, rc)) return this.err('EFAULT');
      if (j + 1n < size && k.preempt()) return k.restart(BigInt(this.c('XENMEM_add_to_physmap_batch')) | ((j + 1n) << MEMOP_EXTENT_SHIFT));
    }
    return 0;
  }

  /** xenmem_add_to_physmap_one for the spaces this model has (x86 p2m.c, Arm mm.c). */
  private addOne(caller: Domain, d: Domain, space: number, idx: bigint, gpfn: bigint): number {
    const arm = d.arch.family === 'arm';
    let f: number | undefined;
    if (space === this.c('XENMAPSPACE_shared_info')) {
      if (idx === 0n) f = d.sharedInfoFrame;
      else if (arm) return this.err('EINVAL');
    } else if (space === this.c('XENMAPSPACE_grant_table')) {
      return this.grantFrame(d, idx, gpfn);
    } else if (space === this.c('XENMAPSPACE_dev_mmio') && arm) {
      // map_dev_mmio_page: the hardware domain has no I/O memory here, which Xen answers with 0 and no mapping.
      return 0;
    } else if (space === this.c('XENMAPSPACE_gmfn') && !arm) {
      const m = idx < BigInt(MAX_GFNS) ? d.memory.lookup(gfn(Number(idx))) : undefined;
      if (m !== undefined && this.m.frames.owner[m] === d.id) f = m;
    } else if (arm) {
      return this.err('ENOSYS');
    }
    if (f === undefined) return this.err('EINVAL');
    if (gpfn >= BigInt(MAX_GFNS)) return this.err('EINVAL');
    const at = gfn(Number(gpfn));
    const old = this.gfnsOf(d, f);
    if (arm) {
      // A Xen-heap page is mapped at one gfn at most: unmap it first.
      if (old.length > 0) return this.err('EBUSY');
      d.memory.set(at, f as Mfn);
      return 0;
    }
    if (space === this.c('XENMAPSPACE_gmfn') && !old.includes(gfn(Number(idx)))) return this.err('EXDEV');
    const prev = d.memory.lookup(at);
    if (prev !== undefined && prev !== f) {
      // Special (Xen-heap) pages are unhooked; normal memory is freed (a foreign frame there, a grant mapping, cannot be: -ENXIO).
      if (this.m.frames.owner[prev] === d.id && !this.isRam(d, prev)) d.memory.set(at, undefined);
      else {
        const rc = this.removePage(d, gpfn);
        if (rc !== 0) return rc;
      }
    }
    for (const o of old) if (o !== at) d.memory.set(o, undefined);
    d.memory.set(at, f as Mfn);
    return 0;
  }

  /**
   * XENMAPSPACE_grant_table (gnttab_map_frame_begin): a frame of the domain's grant table. The
   * grant subsystem keeps its frames at gfns of its own (see grant/state.ts), where the domain
   * already sees them: on Arm a Xen-heap page mapped somewhere is -EBUSY, on x86 asking for the
   * gfn the frame is at is a no-op. Not modelled: moving a frame to another gfn (x86; answered
   * -EBUSY), and growing the table to reach idx (answered -EINVAL as when idx is beyond the maximum).
   */
  private grantFrame(d: Domain, idx: bigint, gpfn: bigint): number {
    const tables = this.grants?.();
    if (!tables) return this.err('EINVAL');
    const t = tables.state.table(d);
    const statusBit = BigInt(this.c('XENMAPIDX_grant_table_status'));
    let f: number | undefined;
    let at: Gfn | undefined;
    if (t.version === 2 && (idx & statusBit) !== 0n) {
      const j = Number(idx & ~statusBit);
      f = idx - statusBit < BigInt(t.status.length) ? t.status[j] : undefined;
      if (f !== undefined) at = tables.state.statusGfn(d, t, j);
    } else {
      f = idx < BigInt(t.shared.length) ? t.shared[Number(idx)] : undefined;
      if (f !== undefined) at = tables.state.sharedGfn(d, t, Number(idx));
    }
    if (f === undefined || at === undefined) return this.err('EINVAL');
    if (d.arch.family === 'arm') return this.gfnsOf(d, f).length > 0 ? this.err('EBUSY') : this.err('EINVAL');
    return BigInt(at) === gpfn && d.memory.lookup(at) === f ? 0 : this.err('EBUSY');
  }

  /**
   * XENMAPSPACE_gmfn_foreign (x86 p2m_add_foreign, Arm xenmem_add_to_physmap_one): maps frame
   * `idx` of domain `fdomid` (a gfn of a translated one, an MFN of a PV one) at `gpfn` of d,
   * holding a reference on it until remove_from_physmap. x86 allows it to the hardware domain
   * only and wants a remote domain by id; Arm takes any domain but d itself.
   */
  private addForeign(caller: Domain, d: Domain, fdomid: number, idx: bigint, gpfn: bigint): number {
    const arm = d.arch.family === 'arm';
    let fd: Domain | undefined;
    if (arm) {
      fd = fdomid === this.m.domidSelf ? caller : fdomid === caller.id ? undefined : this.m.domain(fdomid);
      if (!fd) return this.err('ESRCH');
    } else {
      if (!d.privileged) return this.err('EPERM');
      fd = this.m.domain(fdomid);
      if (!fd) return this.err('ESRCH');
      if (fd === caller) return this.err('EPERM');
    }
    if (fd === d) return this.err('EINVAL');
    if (!this.m.mayTarget(d, fd)) return this.err('EPERM');
    let f: number | undefined;
    if (isTranslated(fd)) f = idx < BigInt(MAX_GFNS) ? fd.memory.lookup(gfn(Number(idx))) : undefined;
    else f = idx < BigInt(this.m.frames.count) ? Number(idx) : undefined;
    if (f === undefined || this.m.frames.owner[f] !== fd.id || this.isForeign(fd, Number(idx))) return this.err('EINVAL');
    if (gpfn >= BigInt(MAX_GFNS)) return this.err('EINVAL');
    const at = gfn(Number(gpfn));
    const prev = d.memory.lookup(at);
    if (prev !== undefined) {
      if (this.isForeign(d, at)) this.dropForeign(d, at);
      else if (this.m.frames.owner[prev] === d.id && !this.isRam(d, prev)) d.memory.set(at, undefined);
      else if (!arm) {
        const rc = this.removePage(d, gpfn);
        if (rc !== 0) return rc;
      } else if (this.m.frames.owner[prev] !== d.id) return this.err('EINVAL');
    }
    d.memory.set(at, f as Mfn);
    this.m.frames.refCount[f] = (this.m.frames.refCount[f] as number) + 1;
    let mine = this.foreign.get(d.id);
    if (!mine) this.foreign.set(d.id, (mine = new Map()));
    mine.set(at, f);
    return 0;
  }

  /** Whether gfn g of d maps another domain's frame through gmfn_foreign. */
  isForeign(d: Domain, g: number): boolean {
    return this.foreign.get(d.id)?.has(g) ?? false;
  }

  private dropForeign(d: Domain, g: Gfn): void {
    const f = this.foreign.get(d.id)?.get(g);
    if (f === undefined) return;
    this.foreign.get(d.id)?.delete(g);
    d.memory.set(g, undefined);
    this.m.frames.refCount[f] = (this.m.frames.refCount[f] as number) - 1;
  }

  /** XENMEM_remove_from_physmap: unmaps (never frees) the page at gpfn; a foreign page's reference goes. */
  removeFromPhysmap(caller: Domain, start: bigint, ref: Ref<XenRemoveFromPhysmap>): number {
    if (start !== 0n) return this.err('EINVAL');
    const x = ref.read();
    const d = this.m.domainByAnyId(caller, x.domid);
    if (!d) return this.err('ESRCH');
    if (!isTranslated(d)) return this.err('EACCES');
    if (!this.m.mayTarget(caller, d)) return this.err('EPERM');
    const g = BigInt(x.gpfn);
    const m = g < BigInt(MAX_GFNS) ? d.memory.lookup(gfn(Number(g))) : undefined;
    if (m !== undefined && this.isForeign(d, Number(g))) {
      this.dropForeign(d, gfn(Number(g)));
      return 0;
    }
    if (m === undefined || this.m.frames.owner[m] !== d.id) return this.err('ENOENT');
    d.memory.set(gfn(Number(g)), undefined);
    return 0;
  }

  // ───────────────────────────── invariants ─────────────────────────────

  /**
   * tot_pages is the domain's RAM frames; a RAM frame is owned by the domain it counts for; the
   * shared_info frame is no RAM; a translated domain maps a frame at one gfn at most.
   */
  invariants(): string[] {
    const out: string[] = [];
    const frames = this.m.frames;
    const n = frames.count;
    const ramOwner = this.ram.owner;
    const owner = frames.owner;
    // RAM frames per domain: slot[domid] is 1 + the domain's index in `count` (0: no domain).
    const slot = this.slotScratch;
    const doms = this.m.domains;
    if (this.countScratch.length < doms.size) this.countScratch = new Int32Array(doms.size);
    const count = this.countScratch;
    count.fill(0);
    let k = 0;
    for (const d of doms.values()) if (d.id >= 0 && d.id < slot.length) slot[d.id] = ++k;
    if (this.seen.length !== n) this.seen = new Int32Array(n);
    // Frames above the high-water mark were never allocated: nothing to count when none is RAM.
    const hw = frames.highWater < n && freeTail(ramOwner, frames.highWater) ? frames.highWater : n;
    for (let f = 0; f < hw; f++) {
      const o = ramOwner[f] as number;
      if (o === NO_OWNER) continue;
      if (owner[f] !== o) out.push(`frame ${f} is RAM of domain ${o} but owned by ${owner[f]}`);
      else {
        const i = (slot[o] ?? 0) - 1;
        if (i >= 0) count[i]!++;
      }
    }
    for (const d of doms.values()) if (d.id >= 0 && d.id < slot.length) slot[d.id] = 0;
    k = 0;
    for (const d of doms.values()) {
      const c = d.id >= 0 && d.id < slot.length ? (count[k++] as number) : 0;
      if (c !== d.totPages) out.push(`domain ${d.id}: tot_pages ${d.totPages} but ${c} RAM frames`);
      if (ramOwner[d.sharedInfoFrame] !== NO_OWNER) out.push(`domain ${d.id}: shared_info frame ${d.sharedInfoFrame} counted as RAM`);
      const foreign = this.foreign.get(d.id);
      if (foreign) {
        for (const [g, f] of foreign) {
          if (d.memory.lookup(gfn(g)) !== f) out.push(`domain ${d.id}: foreign mapping at gfn ${g} is not in the p2m`);
          if ((frames.refCount[f] as number) < 2) out.push(`domain ${d.id}: foreign frame ${f} at gfn ${g} holds no reference`);
        }
      }
      if (!isTranslated(d)) continue;
      const seen = this.seen;
      const stamp = ++this.stamp;
      const p2m = d.memory.p2m;
      const check = (g: number, m: number): void => {
        // A gfn where the domain maps a grant (its own, too) is not its RAM mapping.
        if (m < 0 || owner[m] !== d.id || this.m.foreignMapped(d.id, g)) return;
        if (seen[m] === stamp) out.push(`domain ${d.id}: frame ${m} mapped twice (again at gfn ${g})`);
        seen[m] = stamp;
      };
      for (let g = 0; g < p2m.length; g++) check(g, p2m[g] as number);
      for (const [g, m] of d.memory.sparse) check(g, m);
    }
    return out;
  }

  /** Domain ids (below 2^15) to their index in countScratch, 0 between calls. */
  private readonly slotScratch = new Int32Array(0x8000);
  private countScratch = new Int32Array(8);
  private seen = new Int32Array(0);
  private stamp = 0;
}

interface MemopArgs {
  caller: Domain;
  d: Domain;
  list: bigint;
  nr: bigint;
  order: number;
  limit: number;
  pod: boolean;
  k: Continuation;
  preempted: boolean;
}

/** Marks the RAM a domain was built with: every populated frame but its shared_info. */
export function markBuiltRam(ram: RamFrames, d: Domain): void {
  d.memory.forEachMapped((_g, f) => {
    if (f !== d.sharedInfoFrame) ram.owner[f] = d.id;
  });
}
