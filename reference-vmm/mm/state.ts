/**
 * State of the x86 PV MMU beyond the frame table: per-vCPU base pointers and LDT settings,
 * Xen's per-frame linear-page-table counts and PAE-L2 marks, and machine-to-physical
 * entries set by MMU_MACHPHYS_UPDATE. Page types, type counts, reference counts and pins
 * live in the machine's FrameTable (its type/typeCount/refCount/pinned arrays), which the
 * machine snapshots itself.
 *
 * Sparse maps and small per-vCPU records: a snapshot copies only what is in use.
 *
 * @see xen/arch/x86/mm.c, xen/arch/x86/include/asm/mm.h (RELEASE-4.17.7)
 */

/** No kernel base pointer (a vCPU the model starts without page tables; Xen's vCPUs always have one). */
export const NO_BASE = -1;

/** One vCPU's MMU registers. */
export interface VcpuMm {
  /** Kernel root table (guest_table): an L4 frame (64-bit PV) or the PAE L3 in slot 0 of Xen's hidden L4 (32-bit PV); NO_BASE when none. */
  kernel: number;
  /** User root table (guest_table_user, 64-bit PV); 0 when none, as in Xen. */
  user: number;
  /** LDT base (linear address) and entries (MMUEXT_SET_LDT); base 0 when no LDT. */
  ldtBase: bigint;
  ldtEnts: number;
}

/** A saved MmState. */
export interface MmSnapshot {
  readonly vcpus: ReadonlyMap<number, readonly VcpuMm[]>;
  readonly linear: ReadonlyMap<number, number>;
  readonly paeL2: ReadonlySet<number>;
  readonly m2p: ReadonlyMap<number, bigint>;
}

/** The PV MMU's own state. */
export class MmState {
  /** Per domain, per vCPU (created on first use). */
  vcpus = new Map<number, VcpuMm[]>();
  /**
   * Xen's linear_pt_count per frame (absent: 0): positive, the number of linear entries the
   * table holds; negative, the number of tables that map it linearly.
   */
  linear = new Map<number, number>();
  /** L2 frames typed with PGT_pae_xen_l2 (the L2 in slot 3 of a 32-bit PV guest's PAE L3). */
  paeL2 = new Set<number>();
  /** Machine-to-physical entries written by MMU_MACHPHYS_UPDATE, by frame. */
  m2p = new Map<number, bigint>();

  /** The MMU registers of vCPU `vcpu` of domain `domid`. */
  vcpu(domid: number, vcpu: number, nrVcpus: number): VcpuMm {
    let list = this.vcpus.get(domid);
    if (!list) {
      list = Array.from({ length: nrVcpus }, () => ({ kernel: NO_BASE, user: 0, ldtBase: 0n, ldtEnts: 0 }));
      this.vcpus.set(domid, list);
    }
    return list[vcpu] as VcpuMm;
  }

  snapshot(): MmSnapshot {
    const vcpus = new Map<number, VcpuMm[]>();
    for (const [d, list] of this.vcpus) vcpus.set(d, list.map((v) => ({ ...v })));
    return { vcpus, linear: new Map(this.linear), paeL2: new Set(this.paeL2), m2p: new Map(this.m2p) };
  }

  restore(s: MmSnapshot): void {
    this.vcpus = new Map();
    for (const [d, list] of s.vcpus) this.vcpus.set(d, list.map((v) => ({ ...v })));
    this.linear = new Map(s.linear);
    this.paeL2 = new Set(s.paeL2);
    this.m2p = new Map(s.m2p);
  }
}
