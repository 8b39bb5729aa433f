/**
 * Grant-table operations with Xen 4.17's semantics (xen/common/grant_table.c,
 * xen/common/compat/grant_table.c, xen/arch/x86/pv/grant_table.c, xen/arch/x86/hvm/grant_table.c,
 * xen/arch/arm/mm.c at RELEASE-4.17.7): each element operation takes the caller and its
 * decoded element, fills the element's out fields, and returns a GNTST_* status; the
 * whole-call operations return 0 or a negated errno. Checks run in Xen's order, so the same
 * bad input gives the same status.
 *
 * Model choices (guest-visible where noted):
 * - PV grant entries and frame arguments carry machine frames (PV guests deal in MFNs, as in
 *   Xen); translated guests (x86 HVM, Arm) carry guest frames.
 * - A PV host mapping is an L1 entry written through the PV MMU's page tables: at the machine
 *   address host_addr (GNTMAP_contains_pte) or in the L1 that maps the linear address host_addr
 *   in the vCPU's kernel page tables. The entry holds the page (and writable type) references
 *   the mapping took, and the MMU counts them there; unmap checks that the entry still maps the
 *   frame with the granted access (XSA-234) before clearing it.
 * - A translated host mapping is a p2m entry: the grantee reads the granted page at host_addr.
 * - No paging, sharing, I/O memory, IOMMU or XSM policy: GNTST_eagain, the iomem and IOMMU
 *   failures and GNTST_permission_denied from XSM never happen.
 */
import type { GnttabCacheFlush, GnttabCopy, GnttabCopyPtr, GnttabMapGrantRef, GnttabTransfer } from '../../generated/xen/types.js';
import { findConstant, LayoutEngine, type Arch } from '../../spec/index.js';
import { PAGE_SHIFT, PAGE_SIZE, gfn, type Mfn } from '../addr.js';
import { statuses } from '../errno.js';
import type { Domain, Machine } from '../machine.js';
import { MAX_GFNS } from '../memory/guest.js';
import { PageType } from '../memory/frames.js';
import type { PvMmu } from '../mm/ops.js';
import { isPv32, PAGE_GNTTAB, PTE, PTE_EMPTY, type Pte, pteFlags, pteFrom, pteMfn } from '../mm/pagetables.js';
import {
  type Active,
  DEFAULT_MAX_GRANT_FRAMES,
  DEFAULT_MAX_MAPTRACK_FRAMES,
  getWritableType,
  type GrantLimits,
  GrantState,
  type GrantTable,
  MAPTRACK_PER_PAGE,
  MAPTRACK_TAIL,
  PIN,
  putType,
} from './state.js';

/** How a domain reaches grant_table_op, from the spec's ABI table and the ABI's kind. */
export interface GrantAbi {
  /** PV: frames are machine frames, host mappings are PTEs. */
  pv: boolean;
  /** x86_32 PV and HVM callers go through compat_grant_table_op. */
  compat: boolean;
  /** x86 HVM: only the audited commands. */
  hvmFilter: boolean;
  arm: boolean;
}

/** A page held for a copy: the frame, the granted byte range, what to give back. */
interface CopyBuf {
  mfn: number;
  off: number;
  len: number;
  grant?: { rd: Domain; ref: number };
  hasType: boolean;
}

const NO_DOMAIN = -1;

/** The grant tables of a machine. */
export class GrantTables {
  readonly state: GrantState;
  /** GNTST_* by name. */
  readonly st: Readonly<Record<string, number>>;
  private readonly k: Record<string, number>;
  private readonly E: Machine['errno'];
  private readonly v1: { size: number; flags: number; domid: number; frame: number };
  private readonly v2: { size: number; frame: number; pageOff: number; length: number; transDomid: number; gref: number };
  private readonly statusSize: number;
  private readonly abiMode: Record<string, string>;
  private readonly layouts = new Map<string, LayoutEngine>();
  /** The PV MMU whose page tables PV host mappings are written into (set by the handlers; none: PV host maps fail). */
  mmu: () => PvMmu | undefined = () => undefined;

  constructor(readonly m: Machine) {
    this.E = m.errno;
    this.st = statuses(m.spec);
    const names = [
      'GTF_type_mask', 'GTF_invalid', 'GTF_permit_access', 'GTF_accept_transfer', 'GTF_transitive', 'GTF_readonly', 'GTF_reading', 'GTF_writing',
      'GTF_PWT', 'GTF_PCD', 'GTF_PAT', 'GTF_sub_page', 'GTF_transfer_committed', 'GTF_transfer_completed',
      'GNTMAP_device_map', 'GNTMAP_host_map', 'GNTMAP_readonly', 'GNTMAP_application_map', 'GNTMAP_contains_pte',
      'GNTCOPY_source_gref', 'GNTCOPY_dest_gref', 'GNTTAB_CACHE_CLEAN', 'GNTTAB_CACHE_INVAL', 'GNTTAB_CACHE_SOURCE_GREF',
      'GNTTAB_NR_RESERVED_ENTRIES', 'DOMID_SELF', 'GNTTABOP_cache_flush', '_GNTMAP_guest_avail0',
    ];
    this.k = {};
    for (const n of names) {
      const c = findConstant(m.spec, n)?.constant;
      if (!c || typeof c.value !== 'number') throw new Error(`spec has no numeric constant ${n}`);
      this.k[n] = c.value;
    }
    const e = new LayoutEngine(m.spec, m.spec.arches[0] as Arch);
    const l1 = e.named('struct grant_entry_v1');
    const l2 = e.named('union grant_entry_v2');
    const off = (l: typeof l1, f: string) => (l.fields[f] as { offset: number }).offset;
    this.v1 = { size: l1.size, flags: off(l1, 'flags'), domid: off(l1, 'domid'), frame: off(l1, 'frame') };
    this.v2 = {
      size: l2.size,
      frame: off(l2, 'full_page.frame'),
      pageOff: off(l2, 'sub_page.page_off'),
      length: off(l2, 'sub_page.length'),
      transDomid: off(l2, 'transitive.trans_domid'),
      gref: off(l2, 'transitive.gref'),
    };
    this.statusSize = e.named('grant_status_t').size;
    const hc = m.spec.hypercalls.find((h) => h.name === 'grant_table_op');
    if (!hc) throw new Error('spec has no grant_table_op');
    this.abiMode = Object.fromEntries(Object.entries(hc.abis).map(([a, h]) => [a, typeof h === 'string' ? h : JSON.stringify(h)]));
    this.state = new GrantState(m, (d) => ({
      maxGrantFrames: DEFAULT_MAX_GRANT_FRAMES,
      maxMaptrackFrames: DEFAULT_MAX_MAPTRACK_FRAMES,
      maxVersion: this.abi(d).arm ? 1 : 2,
    }));
  }

  /** A spec constant used by the operations. */
  K(name: string): number {
    const v = this.k[name];
    if (v === undefined) throw new Error(`grant: constant ${name} not loaded`);
    return v;
  }

  private s(name: string): number {
    const v = this.st[name];
    if (v === undefined) throw new Error(`spec has no status ${name}`);
    return v;
  }

  /** A negated errno from the spec. */
  err(code: string): number {
    const v = this.E[code];
    if (v === undefined) throw new Error(`spec has no errno ${code}`);
    return v;
  }

  /** Sets a domain's limits (host configuration, before the domain's first grant operation). */
  configure(domid: number, limits: Partial<GrantLimits>): void {
    if (this.state.tables.has(domid)) throw new Error(`domain ${domid}: grant table in use, configure it before its first grant operation`);
    this.state.configured.set(domid, { ...this.state.configured.get(domid), ...limits });
  }

  abi(d: Domain): GrantAbi {
    const mode = this.abiMode[d.abi.name] ?? 'native';
    const arm = d.arch.name.startsWith('arm');
    return { pv: d.abi.name.endsWith('-pv'), compat: mode === 'compat' || (mode === 'hvm-filter' && d.arch.wordSize === 4), hvmFilter: mode === 'hvm-filter', arm };
  }

  layout(d: Domain): LayoutEngine {
    let l = this.layouts.get(d.arch.name);
    if (!l) {
      l = new LayoutEngine(this.m.spec, d.arch);
      this.layouts.set(d.arch.name, l);
    }
    return l;
  }

  // ───────────── table geometry and entry access (through the machine frames) ─────────────

  perFrame(t: GrantTable): number {
    return PAGE_SIZE / (t.version === 1 ? this.v1.size : this.v2.size);
  }

  nrEntries(t: GrantTable): number {
    return t.nrFrames * this.perFrame(t);
  }

  /** Xen's grant_to_status_frames. */
  statusFrames(nr: number): number {
    return Math.ceil((nr * (PAGE_SIZE / this.v2.size) * this.statusSize) / PAGE_SIZE);
  }

  /** The table of a domain with its frames in place. */
  table(d: Domain): GrantTable {
    const t = this.state.table(d);
    if (t.shared.length < t.nrFrames && !this.state.materialize(d, t, (n) => this.statusFrames(n))) {
      throw new Error(`domain ${d.id}: no host frame left for its grant table (raise hostFrames)`);
    }
    return t;
  }

  /** Byte offset in the machine buffer of entry `ref`'s first byte. */
  private entryAt(t: GrantTable, ref: number): number {
    const per = this.perFrame(t);
    const size = t.version === 1 ? this.v1.size : this.v2.size;
    return (t.shared[Math.floor(ref / per)] as number) * PAGE_SIZE + (ref % per) * size;
  }

  private statusAt(t: GrantTable, ref: number): number {
    const per = PAGE_SIZE / this.statusSize;
    return (t.status[Math.floor(ref / per)] as number) * PAGE_SIZE + (ref % per) * this.statusSize;
  }

  private u16(at: number): number {
    return this.m.frames.view.getUint16(at, true);
  }

  private setU16(at: number, v: number): void {
    this.m.frames.touch(Math.floor(at / PAGE_SIZE));
    this.m.frames.view.setUint16(at, v & 0xffff, true);
  }

  /** Header flags of an entry. */
  flags(t: GrantTable, ref: number): number {
    return this.u16(this.entryAt(t, ref) + this.v1.flags);
  }

  private setFlags(t: GrantTable, ref: number, v: number): void {
    this.setU16(this.entryAt(t, ref) + this.v1.flags, v);
  }

  private domidOf(t: GrantTable, ref: number): number {
    return this.u16(this.entryAt(t, ref) + this.v1.domid);
  }

  /** The frame of a v1 entry or a v2 full_page/sub_page entry (same offset for both). */
  private frameOf(t: GrantTable, ref: number): bigint {
    const at = this.entryAt(t, ref);
    return t.version === 1 ? BigInt(this.m.frames.view.getUint32(at + this.v1.frame, true)) : this.m.frames.view.getBigUint64(at + this.v2.frame, true);
  }

  private setFrame(t: GrantTable, ref: number, f: bigint): void {
    const at = this.entryAt(t, ref);
    this.m.frames.touch(Math.floor(at / PAGE_SIZE));
    if (t.version === 1) this.m.frames.view.setUint32(at + this.v1.frame, Number(BigInt.asUintN(32, f)), true);
    else this.m.frames.view.setBigUint64(at + this.v2.frame, BigInt.asUintN(64, f), true);
  }

  /** The word holding GTF_reading/GTF_writing: the flags (v1) or the status entry (v2). */
  private statusWord(t: GrantTable, ref: number): number {
    return t.version === 1 ? this.entryAt(t, ref) + this.v1.flags : this.statusAt(t, ref);
  }

  /** The reading/writing bits of an entry, for invariants (undefined: table not materialized). */
  readBits(t: GrantTable, ref: number): number | undefined {
    if (t.shared.length < t.nrFrames || ref >= this.nrEntries(t)) return undefined;
    if (t.version === 2 && t.status.length < this.statusFrames(t.nrFrames)) return undefined;
    return this.u16(this.statusWord(t, ref));
  }

  /** Xen's reduce_status_for_pin: drop the access bits the remaining pins no longer need. */
  private reduceStatus(at: number | undefined, pin: number, readonly: boolean): void {
    if (at === undefined) return;
    let clear = pin ? 0 : this.K('GTF_reading');
    if (!readonly && !(pin & PIN.writeMask)) clear |= this.K('GTF_writing');
    if (clear) this.setU16(at, this.u16(at) & ~clear);
  }

  /** Xen's _set_status (v1 and v2): checks the entry and sets the access bits. */
  private setStatus(t: GrantTable, ref: number, pin: number, readonly: boolean, mapflag: boolean, ldomid: number): number {
    const mask = this.K('GTF_type_mask') | (mapflag ? this.K('GTF_sub_page') : 0);
    const f = this.flags(t, ref);
    const dom = this.domidOf(t, ref);
    const permit = this.K('GTF_permit_access');
    const kindOk = (f & mask) === permit || (t.version === 2 && !mapflag && (f & mask) === this.K('GTF_transitive'));
    if (!pin && (!kindOk || dom !== ldomid)) return this.s('GNTST_general_error');
    if (!readonly && (f & this.K('GTF_readonly'))) return this.s('GNTST_general_error');
    const bits = this.K('GTF_reading') | (readonly ? 0 : this.K('GTF_writing'));
    const at = this.statusWord(t, ref);
    this.setU16(at, this.u16(at) | bits);
    return 0;
  }

  /** Xen's get_paged_frame: the frame a grant names, with a page reference taken. */
  private getPagedFrame(rd: Domain, frame: bigint): { mfn: number } | number {
    const bad = this.s('GNTST_bad_page');
    if (frame > BigInt(Number.MAX_SAFE_INTEGER)) return bad;
    const f = Number(frame);
    let mfn: number;
    if (this.abi(rd).pv) {
      mfn = f;
    } else {
      const m = rd.memory.lookup(gfn(f));
      if (m === undefined) return bad;
      mfn = m;
    }
    const fr = this.m.frames;
    if (!fr.valid(mfn) || fr.owner[mfn] !== rd.id || (fr.refCount[mfn] as number) <= 0) return bad;
    fr.refCount[mfn] = (fr.refCount[mfn] as number) + 1;
    return { mfn };
  }

  private putPage(mfn: number): void {
    this.m.frames.refCount[mfn] = (this.m.frames.refCount[mfn] as number) - 1;
  }

  /** gnttab_host_mapping_get_page_type (x86; Arm never types grant mappings). */
  private hostType(readonly: boolean, ld: Domain, rd: Domain): boolean {
    if (this.abi(ld).arm) return false;
    return !readonly && (ld === rd || this.abi(rd).pv);
  }

  // ───────────── maptrack (Xen's per-vCPU free lists) ─────────────

  private takeFree(t: GrantTable, v: number): number {
    const head = t.mtHead[v] as number;
    if (head === MAPTRACK_TAIL) return MAPTRACK_TAIL;
    const next = t.mtRef[head] as number;
    if (next === MAPTRACK_TAIL) return MAPTRACK_TAIL;
    t.mtHead[v] = next;
    return head;
  }

  private steal(t: GrantTable, curr: number): number {
    // Xen starts at a random vCPU; the model starts at vCPU 0 so runs are reproducible.
    for (let i = 0; i < t.mtHead.length; i++) {
      const h = this.takeFree(t, i);
      if (h !== MAPTRACK_TAIL) {
        t.mtVcpu[h] = curr;
        return h;
      }
    }
    return MAPTRACK_TAIL;
  }

  private getHandle(t: GrantTable, v: number): number {
    const h = this.takeFree(t, v);
    if (h !== MAPTRACK_TAIL) return h;
    if (t.mtFlags.length / MAPTRACK_PER_PAGE >= t.limits.maxMaptrackFrames) {
      if (t.mtTail[v] === MAPTRACK_TAIL) {
        const s = this.steal(t, v);
        if (s === MAPTRACK_TAIL) return s;
        t.mtRef[s] = MAPTRACK_TAIL;
        t.mtTail[v] = s;
        if (t.mtHead[v] === MAPTRACK_TAIL) t.mtHead[v] = s;
      }
      return this.steal(t, v);
    }
    const base = t.mtFlags.length;
    for (let i = 0; i < MAPTRACK_PER_PAGE; i++) {
      t.mtRef.push(base + i + 1);
      t.mtFlags.push(0);
      t.mtDomid.push(0);
      t.mtVcpu.push(v);
    }
    if (t.mtTail[v] === MAPTRACK_TAIL) t.mtTail[v] = base + MAPTRACK_PER_PAGE - 1;
    t.mtRef[base + MAPTRACK_PER_PAGE - 1] = t.mtHead[v] as number;
    t.mtHead[v] = base + 1;
    return base;
  }

  private putHandle(t: GrantTable, h: number): void {
    t.mtRef[h] = MAPTRACK_TAIL;
    const v = t.mtVcpu[h] as number;
    const tail = t.mtTail[v] as number;
    t.mtTail[v] = h;
    if (tail !== MAPTRACK_TAIL) t.mtRef[tail] = h;
  }

  // ───────────── host mappings ─────────────

  /** grant_to_pte_flags (no cache attributes: the model has no I/O memory, the only frames that get them). */
  private grantPteFlags(flags: number): number {
    let f = PTE.P | PTE.A | PTE.D | PAGE_GNTTAB | PTE.NX;
    if (flags & this.K('GNTMAP_application_map')) f |= PTE.US;
    if (!(flags & this.K('GNTMAP_readonly'))) f |= PTE.RW;
    return f | (((flags >>> this.K('_GNTMAP_guest_avail0')) << 9) & PTE.AVAIL);
  }

  /**
   * The L1 slot a PV host mapping names: the machine address of the entry (contains_pte, which
   * must be 8-byte aligned), or the entry map_guest_l1e finds for a linear address.
   */
  private hostL1(mmu: PvMmu, ld: Domain, vcpu: number, addr: bigint, containsPte: boolean): { frame: number; slot: number } | undefined {
    if (containsPte) {
      if (addr % 8n !== 0n || addr >> BigInt(PAGE_SHIFT) > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
      return { frame: Number(addr >> BigInt(PAGE_SHIFT)), slot: Number(addr & BigInt(PAGE_SIZE - 1)) / 8 };
    }
    if (isPv32(ld) && addr > 0xffffffffn) return undefined;
    return mmu.mapGuestL1e(ld, mmu.vcpu(ld, vcpu), addr);
  }

  /**
   * Replaces entry `at` of the caller's L1 (get_page_from_mfn, page_lock, an L1 type, then
   * UPDATE_ENTRY) when `check` accepts the old entry; returns the old entry, or undefined.
   */
  private swapL1(mmu: PvMmu, ld: Domain, at: { frame: number; slot: number }, n: Pte, check: (o: Pte) => boolean): Pte | undefined {
    const pt = mmu.pt;
    if (!pt.getPage(at.frame, ld)) return undefined;
    let o: Pte | undefined;
    if (pt.lockable(at.frame) && this.m.frames.type[at.frame] === PageType.L1) {
      o = pt.read(at.frame, at.slot);
      if (check(o)) pt.write(at.frame, at.slot, n);
      else o = undefined;
    }
    pt.putPage(at.frame);
    return o;
  }

  /** create_grant_host_mapping: a p2m entry (translated) or an L1 entry (PV, create_grant_pv_mapping). */
  private createHostMapping(ld: Domain, vcpu: number, addr: bigint, mfn: number, flags: number): number {
    const bad = this.s('GNTST_general_error');
    const a = this.abi(ld);
    const lt = this.state.table(ld);
    if (!a.pv) {
      if ((flags & ~this.K('GNTMAP_readonly')) >>> 0 !== this.K('GNTMAP_host_map')) return bad;
      const g = addr >> BigInt(PAGE_SHIFT);
      if (g >= BigInt(MAX_GFNS)) return bad;
      const gn = Number(g);
      // x86 p2m_add_page refuses to replace a grant mapping; Arm's p2m simply overwrites it.
      if (lt.p2mGrants.has(gn) && !a.arm) return bad;
      ld.memory.set(gfn(gn), mfn as Mfn);
      lt.p2mGrants.set(gn, { mfn, ro: (flags & this.K('GNTMAP_readonly')) !== 0 });
      return 0;
    }
    const mmu = this.mmu();
    if (!mmu) return bad;
    const at = this.hostL1(mmu, ld, vcpu, addr, (flags & this.K('GNTMAP_contains_pte')) !== 0);
    if (!at) return bad;
    const o = this.swapL1(mmu, ld, at, mmu.pt.adjustL1(pteFrom(mfn, this.grantPteFlags(flags)), ld), () => true);
    if (!o) return bad;
    // What the overwritten entry held is dropped (a grant entry among them: see putPageFromL1e).
    mmu.pt.putPageFromL1e(o, ld);
    return 0;
  }

  /**
   * replace_grant_host_mapping: removes a host mapping of `mfn` at `addr`; for PV
   * (replace_grant_pv_mapping) the entry must map the frame, present, with the granted write
   * access (XSA-234), and a non-zero `newAddr` (unmap_and_replace) moves the entry at that
   * linear address into its place (steal_linear_address).
   */
  private replaceHostMapping(ld: Domain, vcpu: number, addr: bigint, mfn: number, newAddr: bigint, flags: number): number {
    const bad = this.s('GNTST_general_error');
    const a = this.abi(ld);
    const lt = this.state.table(ld);
    const containsPte = (flags & this.K('GNTMAP_contains_pte')) !== 0;
    if (!a.pv) {
      if (newAddr !== 0n || containsPte) return bad;
      const g = Number(addr >> BigInt(PAGE_SHIFT));
      const pm = lt.p2mGrants.get(g);
      if (!pm || pm.mfn !== mfn) return bad;
      lt.p2mGrants.delete(g);
      ld.memory.set(gfn(g), undefined);
      return 0;
    }
    const mmu = this.mmu();
    if (!mmu) return bad;
    if (containsPte ? newAddr !== 0n : isPv32(ld) && (addr > 0xffffffffn || newAddr > 0xffffffffn)) return bad;
    let n: Pte = PTE_EMPTY;
    if (newAddr !== 0n) {
      const from = this.hostL1(mmu, ld, vcpu, newAddr, false);
      const stolen = from && this.swapL1(mmu, ld, from, PTE_EMPTY, () => true);
      if (!stolen) return bad;
      n = stolen;
    }
    const want = this.grantPteFlags(flags);
    const at = this.hostL1(mmu, ld, vcpu, addr, containsPte);
    const matches = (o: Pte) => pteMfn(o) === mfn && ((pteFlags(o) ^ want) & (PTE.P | PTE.RW)) === 0;
    if (at && this.swapL1(mmu, ld, at, n, matches)) return 0;
    // A stolen entry that could not be put in place is dropped, with what it held.
    mmu.pt.putPageFromL1e(n, ld);
    return bad;
  }

  // ───────────── GNTTABOP_map_grant_ref ─────────────

  /** One element of GNTTABOP_map_grant_ref (Xen's map_grant_ref). */
  map(ld: Domain, vcpu: number, op: GnttabMapGrantRef): void {
    const G = (n: string) => this.K(n);
    const ro = (op.flags & G('GNTMAP_readonly')) !== 0;
    let pinIncr = 0;
    if (op.flags & G('GNTMAP_device_map')) pinIncr += ro ? PIN.devRead : PIN.devWrite;
    if (op.flags & G('GNTMAP_host_map')) pinIncr += ro ? PIN.hostRead : PIN.hostWrite;
    if (!pinIncr) {
      op.status = this.s('GNTST_bad_gntref');
      return;
    }
    if (!this.abi(ld).pv && op.flags & (G('GNTMAP_device_map') | G('GNTMAP_application_map') | G('GNTMAP_contains_pte'))) {
      op.status = this.s('GNTST_general_error');
      return;
    }
    const rd = this.m.domain(op.dom);
    if (!rd) {
      op.status = this.s('GNTST_bad_domain');
      return;
    }
    const lt = this.state.table(ld);
    const handle = this.getHandle(lt, vcpu);
    if (handle === MAPTRACK_TAIL) {
      op.status = this.s('GNTST_no_space');
      return;
    }
    const fail = (rc: number) => {
      op.status = rc;
      this.putHandle(lt, handle);
    };
    const rt = this.table(rd);
    const ref = op.ref;
    if (ref >= this.nrEntries(rt)) return fail(this.s('GNTST_bad_gntref'));
    let act = rt.active.get(ref);
    const pin = act?.pin ?? 0;
    if (act && pin && (act.domid !== ld.id || overflows(pin, pinIncr) || act.isSubPage)) return fail(this.s('GNTST_general_error'));
    const statusAt = this.statusWord(rt, ref);
    let pageRef = false;
    if (!pin || (!ro && !(pin & PIN.writeMask))) {
      const rc = this.setStatus(rt, ref, pin, ro, true, ld.id);
      if (rc) return fail(rc);
      if (!pin) {
        const r = this.getPagedFrame(rd, this.frameOf(rt, ref));
        if (typeof r === 'number') {
          this.reduceStatus(statusAt, 0, ro);
          return fail(r);
        }
        pageRef = true;
        act = { pin: 0, domid: ld.id, mfn: r.mfn, start: 0, length: PAGE_SIZE, isSubPage: false, transDom: rd.id, transRef: ref };
        rt.active.set(ref, act);
      }
    }
    const a = act as Active;
    a.pin += pinIncr;
    const mfn = a.mfn;
    const fr = this.m.frames;
    let refcnt = 0;
    let typecnt = 0;
    let hostMapped = false;
    const undo = (rc: number) => {
      if (hostMapped) this.replaceHostMapping(ld, vcpu, op.host_addr, mfn, 0n, op.flags);
      while (typecnt-- > 0) putType(this.m, mfn);
      while (refcnt-- > 0) this.putPage(mfn);
      a.pin -= pinIncr;
      this.reduceStatus(statusAt, a.pin, ro);
      if (a.pin === 0) rt.active.delete(ref);
      fail(rc);
    };
    if (pageRef) refcnt++;
    else if (fr.owner[mfn] === rd.id && (fr.refCount[mfn] as number) > 0) {
      fr.refCount[mfn] = (fr.refCount[mfn] as number) + 1;
      refcnt++;
    }
    if (fr.owner[mfn] !== rd.id) return undo(this.s('GNTST_general_error'));
    if (op.flags & G('GNTMAP_device_map') && !ro) {
      if (!getWritableType(this.m, mfn)) return undo(this.s('GNTST_general_error'));
      typecnt++;
    }
    if (op.flags & G('GNTMAP_host_map')) {
      if (op.flags & G('GNTMAP_device_map')) {
        fr.refCount[mfn] = (fr.refCount[mfn] as number) + 1;
        refcnt++;
      }
      if (this.hostType(ro, ld, rd)) {
        if (!getWritableType(this.m, mfn)) return undo(this.s('GNTST_general_error'));
        typecnt++;
      }
      const rc = this.createHostMapping(ld, vcpu, op.host_addr, mfn, op.flags);
      if (rc) return undo(rc);
      hostMapped = true;
    }
    lt.mtDomid[handle] = op.dom;
    lt.mtRef[handle] = op.ref;
    lt.mtFlags[handle] = op.flags & 0xffff; // struct grant_mapping keeps 16 bits of flags
    op.dev_bus_addr = BigInt(mfn) << BigInt(PAGE_SHIFT);
    op.handle = handle;
    op.status = 0;
  }

  // ───────────── GNTTABOP_unmap_grant_ref / unmap_and_replace ─────────────

  /** One element of unmap_grant_ref or unmap_and_replace (Xen's unmap_common and its completion). */
  unmap(ld: Domain, vcpu: number, op: { host_addr: bigint; dev_bus_addr: bigint; new_addr: bigint; handle: number }): number {
    const G = (n: string) => this.K(n);
    const lt = this.state.table(ld);
    const h = op.handle;
    if (h >= lt.mtFlags.length) return this.s('GNTST_bad_handle');
    const flags = lt.mtFlags[h] as number;
    if (!flags) return this.s('GNTST_bad_handle');
    const rd = this.m.domain(lt.mtDomid[h] as number);
    // Xen crashes the caller when the granter is gone; domains never go away in this model.
    if (!rd) return this.s('GNTST_general_error');
    const rt = this.table(rd);
    const ref = lt.mtRef[h] as number;
    if (ref >= this.nrEntries(rt)) return this.s('GNTST_bad_handle');
    const act = rt.active.get(ref);
    if (!act) return this.s('GNTST_bad_handle');
    const mfn = act.mfn;
    const mapRo = flags & G('GNTMAP_readonly');
    if (op.dev_bus_addr && flags & G('GNTMAP_device_map') && op.dev_bus_addr !== BigInt(mfn) << BigInt(PAGE_SHIFT)) return this.s('GNTST_bad_dev_addr');
    let done = 0;
    if (op.host_addr && flags & G('GNTMAP_host_map')) {
      const rc = this.replaceHostMapping(ld, vcpu, op.host_addr, mfn, op.new_addr, flags);
      if (rc) return rc;
      lt.mtFlags[h] = (lt.mtFlags[h] as number) & ~G('GNTMAP_host_map');
      done |= G('GNTMAP_host_map') | mapRo;
    }
    if (op.dev_bus_addr && flags & G('GNTMAP_device_map')) {
      lt.mtFlags[h] = (lt.mtFlags[h] as number) & ~G('GNTMAP_device_map');
      done |= G('GNTMAP_device_map') | mapRo;
    }
    if (!((lt.mtFlags[h] as number) & (G('GNTMAP_device_map') | G('GNTMAP_host_map')))) {
      lt.mtFlags[h] = 0;
      this.putHandle(lt, h);
    }
    if (!done) return 0;
    // unmap_common_complete.
    const ro = (done & G('GNTMAP_readonly')) !== 0;
    if (done & G('GNTMAP_device_map')) {
      if (!ro) putType(this.m, mfn);
      this.putPage(mfn);
      act.pin -= ro ? PIN.devRead : PIN.devWrite;
    }
    if (done & G('GNTMAP_host_map')) {
      if (this.hostType(ro, ld, rd)) putType(this.m, mfn);
      this.putPage(mfn);
      act.pin -= ro ? PIN.hostRead : PIN.hostWrite;
    }
    this.reduceStatus(this.statusWord(rt, ref), act.pin, ro);
    if (act.pin === 0) rt.active.delete(ref);
    return 0;
  }

  // ───────────── GNTTABOP_setup_table, query_size, get_status_frames ─────────────

  /** Whether a guest array passes Xen's guest_handle_okay (address range only, never the mapping). */
  handleOkay(d: Domain, addr: bigint, count: number, size: number): boolean {
    const a = this.abi(d);
    if (!a.pv) return true;
    if (a.compat) {
      // compat_array_access_ok: below HYPERVISOR_COMPAT_VIRT_START (0xF5800000 by default).
      if (size && count >= Math.floor(0xffffffff / size)) return false;
      const end = addr + BigInt(count * size) - (count * size ? 1n : 0n);
      return end < 0xf5800000n;
    }
    // x86_64 __addr_ok: the start lies below 2^47 or above HYPERVISOR_VIRT_END.
    return addr < 1n << 47n || addr >= 0xffff880000000000n;
  }

  /** The frame number a guest sees for one of its table frames: MFN for PV, GFN for translated. */
  private frameNumber(d: Domain, t: GrantTable, status: boolean, i: number): bigint {
    if (this.abi(d).pv) return BigInt((status ? t.status : t.shared)[i] as number);
    return BigInt(status ? this.state.statusGfn(d, t, i) : this.state.sharedGfn(d, t, i));
  }

  /** The domain an element names (by any id), or undefined with the element's status set. */
  private targetOf(caller: Domain, op: { dom: number; status: number }): Domain | undefined {
    const d = this.m.domainByAnyId(caller, op.dom);
    if (!d) op.status = this.s('GNTST_bad_domain');
    else if (!this.m.mayTarget(caller, d)) op.status = this.s('GNTST_permission_denied');
    else return d;
    return undefined;
  }

  /** GNTTABOP_setup_table after the struct is read: fills status, writes frame_list. */
  setupTable(caller: Domain, op: { dom: number; nr_frames: number; status: number; frame_list: bigint }, pfnSize: number, limitMax: number): void {
    const d = this.targetOf(caller, op);
    if (!d) return;
    const t = this.table(d);
    if (op.nr_frames > t.limits.maxGrantFrames || op.nr_frames > limitMax) {
      op.status = this.s('GNTST_general_error');
      return;
    }
    const needStatus = t.version > 1 && this.statusFrames(op.nr_frames) > t.status.length;
    if ((op.nr_frames > t.nrFrames || needStatus) && !this.state.grow(d, t, op.nr_frames, (n) => this.statusFrames(n))) {
      op.status = this.s('GNTST_general_error');
      return;
    }
    op.status = 0;
    for (let i = 0; i < op.nr_frames; i++) {
      const bytes = encodeUint(this.frameNumber(d, t, false, i), pfnSize);
      if (!caller.memory.write((Number(op.frame_list) + i * pfnSize) as never, bytes)) op.status = this.s('GNTST_bad_virt_addr');
    }
  }

  /** GNTTABOP_query_size after the struct is read. */
  querySize(caller: Domain, op: { dom: number; nr_frames: number; max_nr_frames: number; status: number }): void {
    const d = this.targetOf(caller, op);
    if (!d) return;
    const t = this.state.table(d);
    op.nr_frames = t.nrFrames;
    op.max_nr_frames = t.limits.maxGrantFrames;
    op.status = 0;
  }

  /** GNTTABOP_get_status_frames after the struct is read. */
  getStatusFrames(caller: Domain, op: { dom: number; nr_frames: number; status: number; frame_list: bigint }, limitMax: number): void {
    const d = this.targetOf(caller, op);
    if (!d) return;
    const t = this.table(d);
    op.status = 0;
    if (op.nr_frames > t.status.length || op.nr_frames > limitMax) {
      op.status = this.s('GNTST_general_error');
      return;
    }
    for (let i = 0; i < op.nr_frames; i++) {
      if (!caller.memory.write((Number(op.frame_list) + i * 8) as never, encodeUint(this.frameNumber(d, t, true, i), 8))) op.status = this.s('GNTST_bad_virt_addr');
    }
  }

  // ───────────── GNTTABOP_set_version / get_version ─────────────

  /** GNTTABOP_set_version: returns the result; `op.version` is the version in effect afterwards. */
  setVersion(d: Domain, op: { version: number }): number {
    const t = this.state.table(d);
    const v = op.version;
    let res = 0;
    if (v !== 1 && v !== 2) res = this.err('EINVAL');
    else if (v === 2 && t.limits.maxVersion === 1) res = this.err('ENOSYS');
    else if (t.version !== v) res = this.switchVersion(d, this.table(d), v);
    op.version = t.version;
    return res;
  }

  private switchVersion(d: Domain, t: GrantTable, v: number): number {
    const reserved = this.K('GNTTAB_NR_RESERVED_ENTRIES');
    for (const [ref, a] of t.active) if (ref >= reserved && a.pin) return this.err('EBUSY');
    const reading = this.K('GTF_reading');
    const writing = this.K('GTF_writing');
    const typeMask = this.K('GTF_type_mask');
    if (t.version === 1) {
      for (let j = t.status.length; j < this.statusFrames(t.nrFrames); j++) {
        const m = this.m.frames.alloc(d.id);
        if (m === undefined) {
          while (t.status.length > 0) {
            const f = t.status.pop() as Mfn;
            d.memory.set(this.state.statusGfn(d, t, t.status.length), undefined);
            this.m.frames.release(f);
          }
          return this.err('ENOMEM');
        }
        t.status.push(m);
        d.memory.set(this.state.statusGfn(d, t, j), m);
      }
    } else {
      // No v2 copy is ever in flight between hypercalls here, so EAGAIN cannot arise.
      for (let i = 0; i < reserved; i++) {
        const f = this.flags(t, i) & typeMask;
        if ((f === this.K('GTF_permit_access') && this.frameOf(t, i) >> 32n) || f === this.K('GTF_transitive')) return this.err('ERANGE');
      }
    }
    // Keep the reserved entries as v1 records (flags with access bits, domid, frame).
    const saved: { flags: number; domid: number; frame: bigint }[] = [];
    for (let i = 0; i < reserved; i++) {
      if (t.version === 1) saved.push({ flags: this.flags(t, i), domid: this.domidOf(t, i), frame: this.frameOf(t, i) });
      else if ((this.flags(t, i) & typeMask) === this.K('GTF_permit_access')) {
        saved.push({ flags: this.flags(t, i) | this.u16(this.statusAt(t, i)), domid: this.domidOf(t, i), frame: BigInt.asUintN(32, this.frameOf(t, i)) });
      } else saved.push({ flags: 0, domid: 0, frame: 0n });
    }
    if (v < 2 && t.version === 2) {
      // gnttab_unpopulate_status_frames: a status frame the guest still maps (an extra reference) keeps v2 (XSA-255).
      if (t.status.some((m) => (this.m.frames.refCount[m] as number) > 1)) return this.err('EBUSY');
      this.state.dropStatus(d, t);
    }
    for (const m of t.shared) this.m.frames.write(m as Mfn).fill(0);
    t.version = v;
    saved.forEach((e, i) => {
      const at = this.entryAt(t, i);
      if (v === 1) {
        this.setU16(at + this.v1.flags, e.flags);
      } else {
        this.setU16(this.statusAt(t, i), e.flags & (reading | writing));
        this.setU16(at + this.v1.flags, e.flags & ~(reading | writing));
      }
      this.setU16(at + this.v1.domid, e.domid);
      this.setFrame(t, i, e.frame);
    });
    return 0;
  }

  /** GNTTABOP_get_version. */
  getVersion(caller: Domain, op: { dom: number; version: number }): number {
    const d = this.m.domainByAnyId(caller, op.dom);
    if (!d) return this.err('ESRCH');
    if (!this.m.mayTarget(caller, d)) return this.err('EPERM');
    op.version = this.state.table(d).version;
    return 0;
  }

  // ───────────── GNTTABOP_swap_grant_ref ─────────────

  /** One element of GNTTABOP_swap_grant_ref. */
  swap(d: Domain, a: number, b: number): number {
    const t = this.table(d);
    const n = this.nrEntries(t);
    if (a >= n || b >= n) return this.s('GNTST_bad_gntref');
    if (a === b) return 0;
    if (t.active.get(a)?.pin || t.active.get(b)?.pin) return this.s('GNTST_eagain');
    const size = t.version === 1 ? this.v1.size : this.v2.size;
    const bytes = this.m.frames.bytes;
    const pa = this.entryAt(t, a);
    const pb = this.entryAt(t, b);
    this.m.frames.touch(Math.floor(pa / PAGE_SIZE));
    this.m.frames.touch(Math.floor(pb / PAGE_SIZE));
    const tmp = bytes.slice(pa, pa + size);
    bytes.copyWithin(pa, pb, pb + size);
    bytes.set(tmp, pb);
    if (t.version === 2) {
      const sa = this.statusAt(t, a);
      const sb = this.statusAt(t, b);
      const x = this.u16(sa);
      this.setU16(sa, this.u16(sb));
      this.setU16(sb, x);
    }
    return 0;
  }

  // ───────────── GNTTABOP_copy ─────────────

  /** Xen's acquire_grant_for_copy: pins `ref` of `rd` for `ldom`, with one page reference. */
  private acquire(rd: Domain, ref: number, ldom: number, ro: boolean, allowTransitive: boolean): { mfn: number; off: number; len: number } | number {
    const gen = this.s('GNTST_general_error');
    const rt = this.table(rd);
    if (ref >= this.nrEntries(rt)) return this.s('GNTST_bad_gntref');
    const pinIncr = ro ? PIN.hostRead : PIN.hostWrite;
    let act = rt.active.get(ref);
    const oldPin = act?.pin ?? 0;
    if (act && oldPin && (act.domid !== ldom || overflows(oldPin, pinIncr))) return gen;
    const statusAt = this.statusWord(rt, ref);
    const fl = this.flags(rt, ref);
    const needStatus = !oldPin || (!ro && !(oldPin & PIN.writeMask));
    const clearOut = (rc: number) => {
      this.reduceStatus(statusAt, act?.pin ?? 0, ro);
      return rc;
    };
    let mfn: number;
    let off: number;
    let len: number;
    if (rt.version === 2 && (fl & this.K('GTF_type_mask')) === this.K('GTF_transitive')) {
      if (needStatus) {
        const rc = this.setStatus(rt, ref, oldPin, ro, false, ldom);
        if (rc) return rc;
      }
      if (!allowTransitive) return clearOut(gen);
      const at = this.entryAt(rt, ref);
      const transDom = this.u16(at + this.v2.transDomid);
      const transRef = this.m.frames.view.getUint32(at + this.v2.gref, true);
      if (transDom === rd.id) return clearOut(gen);
      const td = this.m.domain(transDom);
      if (!td) return clearOut(gen);
      const r = this.acquire(td, transRef, rd.id, ro, false);
      if (typeof r === 'number') return clearOut(r);
      ({ mfn, off, len } = r);
      if (!oldPin) {
        act = { pin: 0, domid: ldom, mfn, start: off, length: len, isSubPage: true, transDom: td.id, transRef };
        rt.active.set(ref, act);
      }
    } else if (needStatus) {
      const rc = this.setStatus(rt, ref, oldPin, ro, false, ldom);
      if (rc) return rc;
      const sub = rt.version === 2 && (fl & this.K('GTF_sub_page')) !== 0;
      const r = this.getPagedFrame(rd, this.frameOf(rt, ref));
      if (typeof r === 'number') return clearOut(r);
      mfn = r.mfn;
      const at = this.entryAt(rt, ref);
      off = sub ? this.u16(at + this.v2.pageOff) : 0;
      len = sub ? this.u16(at + this.v2.length) : PAGE_SIZE;
      if (!act) {
        act = { pin: 0, domid: ldom, mfn, start: off, length: len, isSubPage: sub, transDom: rd.id, transRef: ref };
        rt.active.set(ref, act);
      } else if (act.mfn !== mfn || act.transDom !== rd.id || act.transRef !== ref || (act.isSubPage && (!sub || act.start !== off || act.length !== len))) {
        this.putPage(mfn);
        return clearOut(gen);
      }
    } else {
      const a = act as Active;
      const fr = this.m.frames;
      if (fr.owner[a.mfn] !== rd.id) return clearOut(this.s('GNTST_bad_domain'));
      fr.refCount[a.mfn] = (fr.refCount[a.mfn] as number) + 1;
    }
    const a = act as Active;
    a.pin += pinIncr;
    return { mfn: a.mfn, off: a.start, len: a.length };
  }

  /** Xen's release_grant_for_copy. */
  private release(rd: Domain, ref: number, ro: boolean): void {
    const rt = this.state.table(rd);
    const act = rt.active.get(ref);
    if (!act) throw new Error(`grant: releasing entry ${ref} of domain ${rd.id}, which is not pinned`);
    const transitive = rt.version === 2 && act.transDom !== rd.id;
    act.pin -= ro ? PIN.hostRead : PIN.hostWrite;
    this.reduceStatus(this.statusWord(rt, ref), act.pin, ro);
    const td = transitive ? this.m.domain(act.transDom) : undefined;
    const transRef = act.transRef;
    if (act.pin === 0) rt.active.delete(ref);
    if (td) this.release(td, transRef, ro);
  }

  private claim(ld: Domain, dom: Domain, ptr: GnttabCopyPtr, isGref: boolean, ro: boolean): CopyBuf | number {
    let buf: CopyBuf;
    if (isGref) {
      const ref = ptr.u.ref as number;
      const r = this.acquire(dom, ref, ld.id, ro, true);
      if (typeof r === 'number') return r;
      buf = { mfn: r.mfn, off: r.off, len: r.len, grant: { rd: dom, ref }, hasType: false };
    } else {
      const r = this.getPagedFrame(dom, BigInt(ptr.u.gmfn ?? 0n));
      if (typeof r === 'number') return r;
      buf = { mfn: r.mfn, off: 0, len: PAGE_SIZE, hasType: false };
    }
    if (!ro) {
      if (!getWritableType(this.m, buf.mfn)) {
        this.dropBuf(buf, ro);
        return this.s('GNTST_general_error');
      }
      buf.hasType = true;
    }
    return buf;
  }

  private dropBuf(b: CopyBuf, ro: boolean): void {
    if (b.grant) this.release(b.grant.rd, b.grant.ref, ro);
    if (b.hasType) putType(this.m, b.mfn);
    this.putPage(b.mfn);
  }

  /** One element of GNTTABOP_copy; returns its status. Grants are held only for the element. */
  copy(ld: Domain, op: GnttabCopy): number {
    const self = this.K('DOMID_SELF');
    const srcGref = (op.flags & this.K('GNTCOPY_source_gref')) !== 0;
    const dstGref = (op.flags & this.K('GNTCOPY_dest_gref')) !== 0;
    const lock = (p: GnttabCopyPtr, gref: boolean): Domain | number => {
      if (p.domid !== self && !gref) return this.s('GNTST_permission_denied');
      return this.m.domainByAnyId(ld, p.domid) ?? this.s('GNTST_bad_domain');
    };
    const sd = lock(op.source, srcGref);
    if (typeof sd === 'number') return sd;
    const dd = lock(op.dest, dstGref);
    if (typeof dd === 'number') return dd;
    const src = this.claim(ld, sd, op.source, srcGref, true);
    if (typeof src === 'number') return src;
    const dst = this.claim(ld, dd, op.dest, dstGref, false);
    if (typeof dst === 'number') {
      this.dropBuf(src, true);
      return dst;
    }
    let rc = 0;
    if (op.source.offset + op.len > PAGE_SIZE || op.dest.offset + op.len > PAGE_SIZE) rc = this.s('GNTST_bad_copy_arg');
    else if (op.source.offset < src.off || op.source.offset + op.len > src.off + src.len) rc = this.s('GNTST_general_error');
    else if (op.dest.offset < dst.off || op.dest.offset + op.len > dst.off + dst.len) rc = this.s('GNTST_general_error');
    else {
      const fr = this.m.frames;
      fr.touch(dst.mfn);
      const from = src.mfn * PAGE_SIZE + op.source.offset;
      fr.bytes.copyWithin(dst.mfn * PAGE_SIZE + op.dest.offset, from, from + op.len);
    }
    this.dropBuf(src, true);
    this.dropBuf(dst, false);
    return rc;
  }

  // ───────────── GNTTABOP_transfer ─────────────

  /** Frames Xen would not let a guest give away (xenheap pages: shared_info, grant frames). */
  private special(d: Domain, mfn: number): boolean {
    if (mfn === d.sharedInfoFrame) return true;
    const t = this.state.tables.get(d.id);
    return t !== undefined && (t.shared.includes(mfn) || t.status.includes(mfn));
  }

  /** One element of GNTTABOP_transfer (x86 PV callers); returns its status. */
  transfer(d: Domain, op: GnttabTransfer, ram?: { owner: Int32Array }): number {
    const fr = this.m.frames;
    const mfn = op.mfn > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(op.mfn);
    if (!fr.valid(mfn)) return this.s('GNTST_bad_page');
    // steal_page: only a page of the caller with no reference beyond its allocation.
    if (fr.owner[mfn] !== d.id || this.special(d, mfn) || fr.refCount[mfn] !== 1 || fr.typeCount[mfn] !== 0) return this.s('GNTST_bad_page');
    const g = d.memory.gfnsOf(mfn)[0];
    if (g !== undefined) d.memory.set(g, undefined);
    // The page leaves the sender (tot_pages drops at once); on a later failure it is freed, lost to both.
    fr.owner[mfn] = NO_DOMAIN;
    if (ram) ram.owner[mfn] = NO_DOMAIN;
    const dc = counted(d);
    if (dc) dc.totPages -= 1;
    const lose = (rc: number) => {
      fr.owner[mfn] = d.id;
      fr.release(mfn as Mfn);
      return rc;
    };
    const e = this.m.domain(op.domid);
    if (!e) return lose(this.s('GNTST_bad_domain'));
    const ec = counted(e);
    if (ec && ec.totPages >= ec.maxPages) return lose(this.s('GNTST_general_error'));
    const et = this.table(e);
    // gnttab_prepare_for_transfer: exactly an accept_transfer grant naming the sender.
    if (op.ref >= this.nrEntries(et) || this.flags(et, op.ref) !== this.K('GTF_accept_transfer') || this.domidOf(et, op.ref) !== d.id) {
      return lose(this.s('GNTST_general_error'));
    }
    this.setFlags(et, op.ref, this.flags(et, op.ref) | this.K('GTF_transfer_committed'));
    fr.owner[mfn] = e.id;
    if (ram) ram.owner[mfn] = e.id;
    if (ec) ec.totPages += 1;
    fr.type[mfn] = PageType.Writable;
    fr.typeCount[mfn] = 0;
    fr.refCount[mfn] = 1;
    const target = this.frameOf(et, op.ref);
    let rc = 0;
    if (this.abi(e).pv) {
      // guest_physmap_add_page only sets the m2p for PV; the model maps an empty gfn so the receiver reaches the page.
      if (target < BigInt(MAX_GFNS) && e.memory.lookup(gfn(Number(target))) === undefined) e.memory.set(gfn(Number(target)), mfn as Mfn);
      this.setFrame(et, op.ref, BigInt(mfn));
    } else if (target < BigInt(MAX_GFNS)) {
      e.memory.set(gfn(Number(target)), mfn as Mfn);
    } else {
      rc = this.s('GNTST_general_error');
    }
    this.setFlags(et, op.ref, this.flags(et, op.ref) | this.K('GTF_transfer_completed'));
    return rc;
  }

  /**
   * Frame references grant mappings hold (one per host or device mapping, a type reference per
   * writable one), except a PV host mapping's: its L1 entry holds them and the MMU counts them there.
   */
  *heldFrames(): Iterable<{ frame: number; refs: number; typeRefs: number }> {
    const G = (n: string) => this.K(n);
    for (const lt of this.state.tables.values()) {
      const ld = this.m.domain(lt.domid);
      if (!ld) continue;
      for (let h = 0; h < lt.mtFlags.length; h++) {
        const f = lt.mtFlags[h] as number;
        if (!f) continue;
        const rd = this.m.domain(lt.mtDomid[h] as number);
        const a = rd ? this.state.tables.get(rd.id)?.active.get(lt.mtRef[h] as number) : undefined;
        if (!rd || !a) continue;
        const ro = (f & G('GNTMAP_readonly')) !== 0;
        if (f & G('GNTMAP_device_map')) yield { frame: a.mfn, refs: 1, typeRefs: ro ? 0 : 1 };
        if (f & G('GNTMAP_host_map') && !this.abi(ld).pv) yield { frame: a.mfn, refs: 1, typeRefs: this.hostType(ro, ld, rd) ? 1 : 0 };
      }
    }
  }

  // ───────────── GNTTABOP_cache_flush ─────────────

  /** One element of GNTTABOP_cache_flush (Xen's _cache_flush, x86 or Arm cache primitives); 0 or a negated errno. */
  cacheFlush(d: Domain, op: GnttabCacheFlush, curRef: number): number {
    const clean = this.K('GNTTAB_CACHE_CLEAN');
    const inval = this.K('GNTTAB_CACHE_INVAL');
    if (op.offset >= PAGE_SIZE || op.length > PAGE_SIZE || op.offset + op.length > PAGE_SIZE || (op.op & ~(inval | clean)) >>> 0 !== 0) return this.err('EINVAL');
    if (op.length === 0 || op.op === 0) return !curRef ? 0 : this.err('EILSEQ');
    if (op.op & this.K('GNTTAB_CACHE_SOURCE_GREF')) return this.err('EOPNOTSUPP'); // unreachable: rejected above, as in Xen
    const addr = BigInt(op.a.dev_bus_addr ?? 0n);
    const mfn = addr >> BigInt(PAGE_SHIFT) > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(addr >> BigInt(PAGE_SHIFT));
    const fr = this.m.frames;
    if (!fr.valid(mfn)) return this.err('EINVAL');
    const owner = this.m.domain(fr.owner[mfn] as number);
    if (!owner) return this.err('EPERM');
    if (owner !== d) {
      // grant_map_exists, from the resume position, without preemption.
      const ot = this.state.table(owner);
      let found = false;
      for (const [ref, a] of ot.active) if (ref >= curRef && a.pin && a.domid === d.id && a.mfn === mfn) found = true;
      if (!found) return this.err('EINVAL');
    }
    if (this.abi(d).arm) return 0;
    // x86: invalidate alone is not supported; clean (with or without invalidate) writes back and invalidates.
    return op.op & clean ? 0 : this.err('EOPNOTSUPP');
  }
}

/** A domain's page accounting (tot_pages, max_pages), kept by the memory subsystem when it is present. */
function counted(d: Domain): { totPages: number; maxPages: number } | undefined {
  const x = d as unknown as { totPages?: unknown; maxPages?: unknown };
  return typeof x.totPages === 'number' && typeof x.maxPages === 'number' ? (x as { totPages: number; maxPages: number }) : undefined;
}

function overflows(pin: number, incr: number): boolean {
  // GNTPIN_incr2oflow_mask: the top bit of each counter being incremented.
  return (pin & (incr << 7)) !== 0;
}

function encodeUint(v: bigint, size: number): Uint8Array {
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  if (size === 8) dv.setBigUint64(0, BigInt.asUintN(64, v), true);
  else dv.setUint32(0, Number(BigInt.asUintN(32, v)), true);
  return out;
}

/** The GTF_* bits the invariants look at. */
export function accessBits(g: GrantTables): { reading: number; writing: number } {
  return { reading: g.K('GTF_reading'), writing: g.K('GTF_writing') };
}

export type { GnttabMapGrantRef };
