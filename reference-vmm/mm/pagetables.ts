/**
 * Xen's page-table bookkeeping for PV guests, as a guest observes it: general references
 * and typed references of frames (get_page/put_page, get_page_type/put_page_type), promotion
 * of a frame to an L1..L4 table by validating every entry (and demotion dropping what the
 * entries held), and checked updates of one entry at each level (mod_l1..l4_entry), with the
 * flag policy, ownership rules and linear (recursive) page tables of Xen 4.17.
 *
 * The order of checks is Xen's, so the same bad entry gives the same error. Written from the
 * behaviour of xen/arch/x86/mm.c and xen/arch/x86/pv/mm.h at RELEASE-4.17.7; simplifications:
 * validation is never preempted (no -ERESTART/old_guest_table: a failed validation is undone
 * at once, which is the state Xen reaches after its continuation), the hardware is not
 * L1TF-vulnerable, and Xen's own L4 slots (256-271) and PAE-L2 slots are not filled with
 * Xen's mappings (the guest's bytes there are left as they were).
 */
import { PAGE_SIZE } from '../addr.js';
import type { Domain, Machine } from '../machine.js';
import { NO_OWNER, PageType } from '../memory/frames.js';
import type { MmState } from './state.js';

// x86 page-table entry bits in Xen's 24-bit flag word (get_pte_flags: entry bits 0-11, and
// bits 52-63 as 12-23). Hardware layout and Xen-internal policy, not public ABI: not in the spec.
// @see xen/arch/x86/include/asm/page.h, asm/x86_64/page.h
export const PTE = {
  P: 0x001,
  RW: 0x002,
  US: 0x004,
  PWT: 0x008,
  PCD: 0x010,
  A: 0x020,
  D: 0x040,
  PSE: 0x080, // PAT in an L1 entry
  G: 0x100,
  AVAIL: 0xe00,
  GUEST_KERNEL: 0x1000, // entry bit 52
  AVAIL_HIGH: 0x7ff000, // entry bits 52-62
  NX: 0x800000, // entry bit 63
} as const;
/**
 * _PAGE_GNTTAB, the mark Xen puts on a grant mapping's entry (entry bit 62) and forbids in
 * guest-written L1 entries: only in debug builds. Release builds (NDEBUG, as Debian's Xen and
 * every distribution's is built) redefine it as 0, so bit 62 is an ordinary available bit, grant
 * mappings carry no mark, and removing one implicitly is not caught.
 * @see xen/arch/x86/include/asm/page.h (#ifdef NDEBUG / #undef _PAGE_GNTTAB), RELEASE-4.17.7
 */
export const PAGE_GNTTAB = 0;
const CACHE_ATTRS = PTE.PWT | PTE.PCD | PTE.PSE;
/** arch_init_memory: what no guest entry may set. */
const BASE_DISALLOW = ~(PTE.P | PTE.RW | PTE.US | PTE.A | PTE.D | PTE.AVAIL | PTE.AVAIL_HIGH | PTE.NX) & 0xffffff;
const L1_DISALLOW = (BASE_DISALLOW | PAGE_GNTTAB) & ~PTE.G;
/** l3_disallow_mask of a 32-bit PV guest (0xFFFFF198 in the flag word). */
const L3_DISALLOW_PAE = 0xfff198;
/** Flags a guest may change without revalidation (FASTPATH_FLAG_WHITELIST; with linear page tables enabled, the PDE list is the same). */
const FASTPATH = PTE.NX | PTE.AVAIL_HIGH | PTE.AVAIL | PTE.G | PTE.D | PTE.A | PTE.US;
/** The frame field of an entry that is all ones (INVALID_MFN as a PTE frame: PADDR_MASK >> PAGE_SHIFT). */
const INVALID_PTE_MFN = 2 ** 40 - 1;
const ENTRIES = PAGE_SIZE / 8;
/**
 * The host the model describes, for the hardware domain's I/O memory: QEMU's q35 PC with its
 * emulated CPU (`-cpu max` under TCG), which the live-Xen target boots on, as Xen 4.17 sets it up.
 * - dom0_setup_permissions permits every frame below the physical address width (paddr_bits,
 *   40 from CPUID 0x80000008), then denies the MSI window 0xFEE00000-0xFEEFFFFF
 *   (MSI_ADDR_BASE_LO with MSI_ADDR_DEST_ID_MASK; the local APIC lies in it) and, on an AMD
 *   CPU, the HyperTransport range, the 12 GiB below 2^40.
 * - The I/O APIC (0xFEC00000) and the HPET (0xFED00000) are in mmio_ro_ranges: dom0 may map
 *   them, read-only (ioapic_init_mappings; dom0_setup_permissions with ro_hpet).
 * Checked on Xen 4.17 under QEMU (conformance/scenarios/live/mmu.yaml, dom0-io-memory). Not
 * public ABI: the host's, not in the spec.
 * @see xen/arch/x86/dom0_build.c dom0_setup_permissions, xen/arch/x86/io_apic.c, asm/msi.h
 */
const HOST_FRAMES = 2 ** (40 - 12);
const IO_DENIED: readonly (readonly [number, number])[] = [
  [0xfee00, 0xfeeff], // MSI window
  [HOST_FRAMES - 3 * 2 ** 20, HOST_FRAMES - 1], // HyperTransport
];
const MMIO_RO = new Set([0xfec00, 0xfed00]);

/** A page-table entry as two 32-bit halves (lo: bits 0-31, hi: bits 32-63), unsigned. */
export interface Pte {
  lo: number;
  hi: number;
}

/** The flag word of an entry. */
export const pteFlags = (e: Pte): number => (e.lo & 0xfff) | ((e.hi >>> 20) << 12);
/** The frame an entry names (bits 51:12). */
export const pteMfn = (e: Pte): number => (e.lo >>> 12) + (e.hi & 0xfffff) * 0x100000;
/** An entry with flags added. */
const addFlags = (e: Pte, f: number): Pte => ({ lo: (e.lo | (f & 0xfff)) >>> 0, hi: (e.hi | ((f >>> 12) << 20)) >>> 0 });
/** An entry with flags removed. */
const removeFlags = (e: Pte, f: number): Pte => ({ lo: (e.lo & ~(f & 0xfff)) >>> 0, hi: (e.hi & ~((f >>> 12) << 20)) >>> 0 });
/** An entry with flags flipped. */
const flipFlags = (e: Pte, f: number): Pte => ({ lo: (e.lo ^ (f & 0xfff)) >>> 0, hi: (e.hi ^ ((f >>> 12) << 20)) >>> 0 });
/** l1e_has_changed: whether the frame or a flag outside `keep` differs. */
const hasChanged = (o: Pte, n: Pte, keep: number): boolean => {
  const mask = ~keep & 0xffffff;
  return ((o.lo ^ n.lo) & (0xfffff000 | (mask & 0xfff))) !== 0 || ((o.hi ^ n.hi) & (0xfffff | ((mask >>> 12) << 20))) !== 0;
};
/** An entry from a 64-bit value. */
export const pteOf = (v: bigint): Pte => ({ lo: Number(v & 0xffffffffn), hi: Number((v >> 32n) & 0xffffffffn) });
/** An entry's 64-bit value. */
export const pteValue = (e: Pte): bigint => (BigInt(e.hi) << 32n) | BigInt(e.lo);
/** l1e_from_mfn: an entry naming frame `mfn` with the flag word `flags`. */
export const pteFrom = (mfn: number, flags: number): Pte => ({
  lo: (((mfn % 0x100000) << 12) | (flags & 0xfff)) >>> 0,
  hi: (Math.floor(mfn / 0x100000) | ((flags >>> 12) << 20)) >>> 0,
});
/** An entry that maps nothing (l1e_empty). */
export const PTE_EMPTY: Readonly<Pte> = { lo: 0, hi: 0 };

/** A page owner that is not a guest domain: DOMID_IO (I/O memory) or DOMID_XEN. */
export type SystemOwner = 'io' | 'xen';
/** The owner of the frames an operation maps (Xen's pg_owner). */
export type PgOwner = Domain | SystemOwner;

const isPt = (t: number): boolean => t >= PageType.L1 && t <= PageType.L4;

/** Whether a domain is a 32-bit PV guest (compat: PAE page tables, 3 levels). */
export const isPv32 = (d: Domain): boolean => d.abi.name === 'x86_32-pv';
/** Whether a domain's paging is external/translated (HVM; every non-PV ABI). */
export const isTranslated = (d: PgOwner): boolean => typeof d !== 'string' && !d.abi.name.endsWith('-pv');

/** Xen's PV page-table bookkeeping over one machine. */
export class PageTables {
  private readonly E: Machine['errno'];
  private readonly view: DataView;
  /** Frames whose validation is under way (type count 1, PGT_validated not yet set). */
  private readonly validating = new Set<number>();
  /** First Xen slot of a 64-bit PV L4 and the last (ROOT_PAGETABLE_FIRST/LAST_XEN_SLOT). */
  private readonly xenL4First: number;
  private readonly xenL4Last: number;
  /** First Xen slot of a PAE L2 in L3 slot 3 (COMPAT_L2_PAGETABLE_FIRST_XEN_SLOT). */
  private readonly compatL2First: number;
  /** pv-linear-pt (Xen's default: on). */
  linearPageTables = true;

  constructor(
    readonly m: Machine,
    readonly s: MmState,
    layout: { virtStart: bigint; virtEnd: bigint; compatVirtStart: number },
  ) {
    this.E = m.errno;
    this.view = m.frames.view;
    this.xenL4First = Number((layout.virtStart >> 39n) & 511n);
    this.xenL4Last = Number(((layout.virtEnd - 1n) >> 39n) & 511n);
    this.compatL2First = (layout.compatVirtStart >>> 21) & 511;
  }

  private err(code: string): number {
    return this.E[code] as number;
  }

  // ───────────── entries in frames ─────────────

  /** Reads entry `slot` of frame `f`. */
  read(f: number, slot: number): Pte {
    const o = f * PAGE_SIZE + slot * 8;
    return { lo: this.view.getUint32(o, true), hi: this.view.getUint32(o + 4, true) };
  }

  /** Writes entry `slot` of frame `f` (saving the page for the snapshot first). */
  write(f: number, slot: number, e: Pte): void {
    this.m.frames.touch(f);
    const o = f * PAGE_SIZE + slot * 8;
    this.view.setUint32(o, e.lo, true);
    this.view.setUint32(o + 4, e.hi, true);
  }

  // ───────────── owners and permissions ─────────────

  /** The domain owning a frame, if any. */
  ownerOf(f: number): Domain | undefined {
    const id = this.m.frames.owner[f] as number;
    return id === NO_OWNER ? undefined : this.m.domains.get(id);
  }

  /** Xen's dummy XSM_TARGET rule, with system owners never privileged. */
  mayTarget(src: PgOwner, target: PgOwner): boolean {
    if (src === target) return true;
    return typeof src !== 'string' && src.privileged;
  }

  /** Whether a domain has I/O memory access (iomem_caps non-empty): the model grants it to privileged domains. */
  iomem(d: PgOwner): boolean {
    return typeof d !== 'string' && d.privileged;
  }

  /**
   * iomem_access_permitted(d, mfn, mfn): the hardware domain's I/O memory as
   * dom0_setup_permissions leaves it on the host the model describes (HOST_FRAMES above). A
   * frame beyond what the host can address (a random entry's frame, as a rule) is refused.
   */
  iomemPermitted(d: PgOwner, mfn: number): boolean {
    if (!this.iomem(d) || mfn >= HOST_FRAMES) return false;
    return !IO_DENIED.some(([lo, hi]) => mfn >= lo && mfn <= hi);
  }

  /** l1_disallow_mask: cache attributes only for domains with I/O capabilities. */
  l1DisallowMask(d: Domain): number {
    return this.iomem(d) ? L1_DISALLOW & ~CACHE_ATTRS : L1_DISALLOW;
  }

  /** A Xen heap page shared with a guest (is_special_page): the shared_info frames. */
  isSpecial(f: number): boolean {
    const d = this.ownerOf(f);
    return d !== undefined && d.sharedInfoFrame === f;
  }

  /** is_guest_l4_slot. */
  isGuestL4Slot(d: Domain, slot: number): boolean {
    return isPv32(d) ? slot === 0 : slot < this.xenL4First || slot > this.xenL4Last;
  }

  /** is_guest_l2_slot. */
  isGuestL2Slot(f: number, slot: number): boolean {
    return !this.s.paeL2.has(f) || slot < this.compatL2First;
  }

  // ───────────── references ─────────────

  /** get_page: a general reference to a frame of `owner` (false when it is not one). */
  getPage(f: number, owner: PgOwner): boolean {
    const fr = this.m.frames;
    if (typeof owner === 'string' || !fr.valid(f) || fr.owner[f] !== owner.id || (fr.refCount[f] as number) <= 0) return false;
    fr.refCount[f]!++;
    return true;
  }

  /** put_page: drops a general reference; the last one frees the frame (never below 0: the invariants report a miscount). */
  putPage(f: number): void {
    const fr = this.m.frames;
    if ((fr.refCount[f] as number) <= 0) return;
    if (--fr.refCount[f]! === 0 && fr.owner[f] !== NO_OWNER) fr.release(f as never);
  }

  /** Whether a frame is a validated page table (PGT_validated with a type count). */
  validated(f: number): boolean {
    const fr = this.m.frames;
    return isPt(fr.type[f] as number) && (fr.typeCount[f] as number) > 0 && !this.validating.has(f);
  }

  /** page_lock: succeeds on a validated frame with a type reference. */
  lockable(f: number): boolean {
    const fr = this.m.frames;
    if ((fr.typeCount[f] as number) === 0) return false;
    return !isPt(fr.type[f] as number) || !this.validating.has(f);
  }

  /** _get_page_type: 0, or the negated errno of a type conflict or a failed validation. */
  getPageType(f: number, type: PageType, pae = false): number {
    const fr = this.m.frames;
    // A shared Xen heap page keeps a writable type reference for life (share_xen_page_with_guest).
    if (type !== PageType.Writable && this.isSpecial(f)) return this.err('EINVAL');
    if (fr.typeCount[f] === 0) {
      fr.type[f] = type;
      fr.typeCount[f] = 1;
      if (pae) this.s.paeL2.add(f);
      if (!isPt(type)) return 0;
      this.validating.add(f);
      const rc = this.promote(f, type);
      this.validating.delete(f);
      if (rc !== 0) {
        fr.type[f] = PageType.None;
        fr.typeCount[f] = 0;
        this.s.paeL2.delete(f);
      }
      return rc;
    }
    if (fr.type[f] !== type || this.s.paeL2.has(f) !== pae) return this.err('EINVAL');
    // Xen waits for a concurrent validation; one vCPU at a time cannot get here.
    if (this.validating.has(f)) return this.err('EINVAL');
    fr.typeCount[f]!++;
    return 0;
  }

  /**
   * _put_page_type: drops a type reference; the last one of a page table demotes it. `ptpg` is
   * the table whose entry held the reference (for linear-page-table accounting), or -1.
   */
  putPageType(f: number, ptpg = -1): void {
    const fr = this.m.frames;
    const t = fr.type[f] as number;
    const linear = ptpg >= 0 && isPt(t) && fr.type[ptpg] === t;
    if (linear) {
      this.decLinear(f, +1);
      this.decLinear(ptpg, -1);
    }
    if (fr.typeCount[f] === 1 && isPt(t)) {
      fr.typeCount[f] = 0;
      this.demote(f, t);
      this.s.paeL2.delete(f);
      return;
    }
    fr.typeCount[f]!--;
    if (fr.typeCount[f] === 0) this.s.paeL2.delete(f);
  }

  /** get_page_and_type_from_mfn: a reference and a type reference, or an errno with neither. */
  getPageAndType(f: number, type: PageType, d: Domain, pae = false): number {
    if (!this.getPage(f, d)) return this.err('EINVAL');
    const rc = this.getPageType(f, type, pae);
    if (rc !== 0) this.putPage(f);
    return rc;
  }

  private linearCount(f: number): number {
    return this.s.linear.get(f) ?? 0;
  }

  private setLinear(f: number, v: number): void {
    if (v === 0) this.s.linear.delete(f);
    else this.s.linear.set(f, v);
  }

  /** Undoes one linear entry (sign -1, on the containing table) or use (sign +1, on the mapped table). */
  private decLinear(f: number, sign: 1 | -1): void {
    this.setLinear(f, this.linearCount(f) + sign);
  }

  /**
   * get_lN_linear_pagetable: accepts an entry of a level-N table naming a level-N table: only
   * read-only, only a validated table of the same domain, and a table is either one that holds
   * linear entries or one mapped linearly, never both. A table mapping itself takes no reference.
   */
  private getLinear(level: PageType, e: Pte, table: number, d: Domain): boolean {
    if (!this.linearPageTables || (pteFlags(e) & PTE.RW) !== 0) return false;
    const f = pteMfn(e);
    if (f === table) return true;
    if (this.m.frames.owner[table] !== d.id || !this.getPage(f, d)) return false;
    if (this.linearCount(table) < 0) {
      this.putPage(f);
      return false;
    }
    this.setLinear(table, this.linearCount(table) + 1);
    if (this.linearCount(f) > 0) {
      this.decLinear(table, -1);
      this.putPage(f);
      return false;
    }
    this.setLinear(f, this.linearCount(f) - 1);
    if (this.m.frames.type[f] !== level || !this.validated(f)) {
      this.decLinear(f, +1);
      this.decLinear(table, -1);
      this.putPage(f);
      return false;
    }
    this.m.frames.typeCount[f]!++;
    return true;
  }

  // ───────────── validating one entry ─────────────

  /**
   * get_page_from_l1e: the references a present L1 entry holds. Returns a negated errno, 0, or
   * (I/O memory) the flags to flip in the entry: cache attributes, and RW of read-only MMIO.
   */
  getPageFromL1e(e: Pte, l1Owner: Domain, pgOwner: PgOwner, caller: Domain): number {
    const fl = pteFlags(e);
    if ((fl & this.l1DisallowMask(l1Owner)) !== 0) return this.err('EINVAL');
    const f = pteMfn(e);
    if (!this.m.frames.valid(f)) {
      // I/O memory: DOMID_IO reverts to the caller for the permission checks.
      const po = pgOwner === 'io' ? caller : pgOwner;
      const denied = f === INVALID_PTE_MFN ? this.err('EINVAL') : this.err('EPERM');
      if (!this.iomemPermitted(po, f)) return denied;
      if (po !== l1Owner && !this.iomemPermitted(l1Owner, f)) return denied;
      // Read-only MMIO (mmio_ro_ranges) loses RW; the rest keeps it (opt_mmio_relax off).
      const ro = MMIO_RO.has(f) ? fl & PTE.RW : 0;
      switch (fl & CACHE_ATTRS) {
        case 0:
          return ro | PTE.PWT | PTE.PCD; // write-back MMIO becomes uncached
        case PTE.PWT:
        case PTE.PWT | PTE.PSE:
          return ro | PTE.PCD | (fl & PTE.PSE);
        default:
          return ro;
      }
    }
    const fr = this.m.frames;
    const real = (fr.refCount[f] as number) > 0 ? this.ownerOf(f) : undefined;
    if (real) fr.refCount[f]!++;
    // A frame of another domain than the data owner: only a privileged data owner may pass on its right to map it.
    if (real !== pgOwner && (!real || pgOwner === l1Owner || !this.mayTarget(pgOwner, real))) {
      if (real) this.putPage(f);
      return this.err('EBUSY');
    }
    const write = this.l1TakesType(fl, l1Owner, real as Domain);
    if (write && this.getPageType(f, PageType.Writable) !== 0) {
      this.putPage(f);
      return this.err('EBUSY');
    }
    if ((fl & CACHE_ATTRS) !== 0 && this.isSpecial(f)) {
      if (write) this.putPageType(f);
      this.putPage(f);
      return this.err('EACCES');
    }
    return 0;
  }

  /**
   * Whether a present L1 entry with flag word `fl`, in a table of `l1Owner`, holds a writable
   * type reference to a frame of `pgOwner`: a writable entry does, except a foreign mapping of
   * a translated (paging-external) domain's frame.
   */
  l1TakesType(fl: number, l1Owner: Domain | undefined, pgOwner: Domain | undefined): boolean {
    return (fl & PTE.RW) !== 0 && (l1Owner === pgOwner || pgOwner === undefined || !isTranslated(pgOwner));
  }

  /**
   * put_page_from_l1e: drops what a present entry of an L1 table of `l1Owner` holds. A grant
   * mapping's entry drops the references its grant mapping took (a release build does not mark
   * the entry, PAGE_GNTTAB, so nothing injects #GP into a guest removing one this way), and
   * the grant's later unmap then finds no matching entry.
   */
  putPageFromL1e(e: Pte, l1Owner: Domain | undefined): void {
    const fl = pteFlags(e);
    const f = pteMfn(e);
    if ((fl & PTE.P) === 0 || !this.m.frames.valid(f)) return;
    if (this.l1TakesType(fl, l1Owner, this.ownerOf(f))) this.putPageType(f);
    this.putPage(f);
  }

  /** get_page_from_l2e/l3e/l4e: the next lower table, or a linear mapping of this level. */
  getPageFromUpper(level: PageType, e: Pte, table: number, d: Domain): number {
    const disallow = level === PageType.L3 && isPv32(d) ? L3_DISALLOW_PAE : BASE_DISALLOW;
    if ((pteFlags(e) & disallow) !== 0) return this.err('EINVAL');
    const rc = this.getPageAndType(pteMfn(e), level - 1, d);
    const linearOk = !(level === PageType.L3 && isPv32(d));
    if (rc === this.err('EINVAL') && linearOk && this.getLinear(level, e, table, d)) return 0;
    return rc;
  }

  /** put_page_from_l2e/l3e/l4e. */
  putPageFromUpper(e: Pte, table: number): void {
    const f = pteMfn(e);
    if ((pteFlags(e) & PTE.P) === 0 || f === table) return;
    this.putPageType(f, table);
    this.putPage(f);
  }

  // ───────────── adjusting entries as Xen stores them ─────────────

  /** adjust_guest_l1e: an L1 entry of `d` as Xen stores it. */
  adjustL1(e: Pte, d: Domain): Pte {
    return this.adjust(PageType.L1, e, d);
  }

  private adjust(level: PageType, e: Pte, d: Domain): Pte {
    const fl = pteFlags(e);
    if ((fl & PTE.P) === 0) return e;
    const pv32 = isPv32(d);
    switch (level) {
      case PageType.L1:
        if (pv32) return e;
        // 64-bit PV kernels run in ring 3: kernel mappings get USER and Xen's GUEST_KERNEL mark, user mappings GLOBAL.
        if ((fl & PTE.US) === 0) e = addFlags(e, PTE.GUEST_KERNEL | PTE.US);
        if ((pteFlags(e) & PTE.GUEST_KERNEL) === 0) e = addFlags(e, PTE.G | PTE.US);
        return e;
      case PageType.L2:
        return pv32 ? e : addFlags(e, PTE.US);
      case PageType.L3:
        return addFlags(e, pv32 ? PTE.US | PTE.RW : PTE.US);
      default:
        return addFlags(e, pv32 ? PTE.A : PTE.A | PTE.US);
    }
  }

  // ───────────── promotion and demotion ─────────────

  /** promote_lN_table: validates every guest entry of frame `f` as a level-`level` table. */
  private promote(f: number, level: number): number {
    const d = this.ownerOf(f) as Domain;
    if (level === PageType.L1) {
      for (let i = 0; i < ENTRIES; i++) {
        let e = this.read(f, i);
        if ((pteFlags(e) & PTE.P) === 0) continue;
        const rc = this.getPageFromL1e(e, d, d, d);
        if (rc < 0) {
          while (i-- > 0) this.putPageFromL1e(this.read(f, i), d);
          return rc;
        }
        if (rc > 0) e = flipFlags(e, rc);
        this.write(f, i, this.adjust(PageType.L1, e, d));
      }
      return 0;
    }
    const pv32L3 = level === PageType.L3 && isPv32(d);
    if (pv32L3) {
      // The compat L3 is a full page to the MMU: Xen clears all but the 4 PAE entries.
      for (let i = 4; i < ENTRIES; i++) this.write(f, i, { lo: 0, hi: 0 });
    }
    const last = pv32L3 ? 4 : ENTRIES;
    for (let i = 0; i < last; i++) {
      if (level === PageType.L2 && !this.isGuestL2Slot(f, i)) continue;
      if (level === PageType.L4 && !this.isGuestL4Slot(d, i)) continue;
      const e = this.read(f, i);
      let rc: number;
      if (pv32L3 && i === 3) {
        // Slot 3 must hold an L2 of its own (it also carries Xen's mappings).
        if ((pteFlags(e) & PTE.P) === 0 || (pteFlags(e) & L3_DISALLOW_PAE) !== 0) rc = this.err('EINVAL');
        else {
          const l2 = pteMfn(e);
          rc = this.getPageAndType(l2, PageType.L2, d, true);
          if (rc === 0 && this.m.frames.typeCount[l2] !== 1) {
            this.putPageType(l2, f);
            this.putPage(l2);
            rc = this.err('EINVAL');
          }
        }
      } else if ((pteFlags(e) & PTE.P) === 0) continue;
      else rc = this.getPageFromUpper(level, e, f, d);
      if (rc !== 0) {
        for (let j = i - 1; j >= 0; j--) {
          if (level === PageType.L2 && !this.isGuestL2Slot(f, j)) continue;
          if (level === PageType.L4 && !this.isGuestL4Slot(d, j)) continue;
          const o = this.read(f, j);
          this.putPageFromUpper(o, f);
          if (pv32L3 && (pteFlags(o) & PTE.P) !== 0) this.write(f, j, removeFlags(o, PTE.US | PTE.RW | PTE.A));
        }
        return rc;
      }
      this.write(f, i, this.adjust(level, e, d));
    }
    return 0;
  }

  /** demote_lN_table: drops what every guest entry of a table held. */
  private demote(f: number, level: number): void {
    const d = this.ownerOf(f);
    for (let i = 0; i < ENTRIES; i++) {
      const e = this.read(f, i);
      if ((pteFlags(e) & PTE.P) === 0) continue;
      if (level === PageType.L1) this.putPageFromL1e(e, d);
      else {
        if (level === PageType.L2 && !this.isGuestL2Slot(f, i)) continue;
        if (level === PageType.L4 && d && !this.isGuestL4Slot(d, i)) continue;
        this.putPageFromUpper(e, f);
      }
    }
  }

  // ───────────── checked updates of one entry ─────────────

  /** Stores an entry, OR-ing in the old accessed/dirty bits when asked (update_intpte). */
  private store(f: number, slot: number, o: Pte, n: Pte, preserveAd: boolean): void {
    this.write(f, slot, preserveAd ? addFlags(n, pteFlags(o) & (PTE.A | PTE.D)) : n);
  }

  /**
   * mod_l1_entry: replaces entry `slot` of L1 table `f` of `ptDom`, mapping a frame of `pgOwner`.
   * `translate` looks the frame up in a translated owner's p2m (false: MMU_PT_UPDATE_NO_TRANSLATE).
   */
  modL1(f: number, slot: number, n: Pte, preserveAd: boolean, translate: boolean, ptDom: Domain, pgOwner: PgOwner, caller: Domain): number {
    const o = this.read(f, slot);
    if ((pteFlags(n) & PTE.P) !== 0) {
      if ((pteFlags(n) & this.l1DisallowMask(ptDom)) !== 0) return this.err('EINVAL');
      if (translate && typeof pgOwner !== 'string' && isTranslated(pgOwner)) {
        const m = pgOwner.memory.lookup(pteMfn(n) as never);
        if (m === undefined) return this.err('EINVAL');
        n = { lo: ((n.lo & 0xfff) | ((m % 0x100000) << 12)) >>> 0, hi: ((n.hi & 0xfff00000) | Math.floor(m / 0x100000)) >>> 0 };
      }
      n = this.adjust(PageType.L1, n, ptDom);
      if (!hasChanged(o, n, FASTPATH)) {
        this.store(f, slot, o, n, preserveAd);
        return 0;
      }
      const rc = this.getPageFromL1e(n, ptDom, pgOwner, caller);
      if (rc < 0) return rc;
      if (rc > 0) n = flipFlags(n, rc);
    }
    this.store(f, slot, o, n, preserveAd);
    this.putPageFromL1e(o, ptDom);
    return 0;
  }

  /** mod_l2/l3/l4_entry: replaces entry `slot` of the level-`level` table `f` of `d`. */
  modUpper(level: PageType, f: number, slot: number, n: Pte, preserveAd: boolean, d: Domain): number {
    if (level === PageType.L2 && !this.isGuestL2Slot(f, slot)) return this.err('EPERM');
    if (level === PageType.L3 && isPv32(d) && slot >= 3) return this.err('EINVAL');
    if (level === PageType.L4 && !this.isGuestL4Slot(d, slot)) return this.err('EINVAL');
    const o = this.read(f, slot);
    if ((pteFlags(n) & PTE.P) !== 0) {
      const disallow = level === PageType.L3 && isPv32(d) ? L3_DISALLOW_PAE : BASE_DISALLOW;
      if ((pteFlags(n) & disallow) !== 0) return this.err('EINVAL');
      n = this.adjust(level, n, d);
      if (!hasChanged(o, n, FASTPATH)) {
        this.store(f, slot, o, n, preserveAd);
        return 0;
      }
      const rc = this.getPageFromUpper(level, n, f, d);
      if (rc < 0) return rc;
    }
    this.store(f, slot, o, n, preserveAd);
    this.putPageFromUpper(o, f);
    return 0;
  }
}
