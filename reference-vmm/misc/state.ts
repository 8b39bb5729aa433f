/**
 * State of the small hypercalls, per domain and per vCPU: VM assists, PIRQs reserved with
 * PHYSDEVOP_get_free_pirq, the PIRQ EOI bitmap frame, and the x86 PV vCPU registers the
 * guest sets through hypercalls (callbacks, virtual IDT, kernel stack, segment bases, debug
 * registers, CR0.TS, IOPL and I/O bitmap). Plain values, copied for snapshots.
 */
import type { TrapInfo } from '../../generated/xen/types.js';
import type { Mfn } from '../addr.js';

/** The model host's GSIs (nr_irqs_gsi: one 24-pin IO-APIC). Host-specific, not ABI. */
export const HOST_NR_IRQS_GSI = 24;
/** Xen's extra_domU_irqs default: PIRQs a domU has beyond the GSIs. Xen-internal. */
export const EXTRA_DOMU_PIRQS = 32;
/** Vectors an x86 CPU has for device IRQs (NR_DYNAMIC_VECTORS: 0x20 to 0xef, asm/mach-default/irq_vectors.h). Xen-internal. */
export const NR_DYNAMIC_VECTORS = 0xef - 0x20 + 1;

/**
 * PIRQs a domain has (d->nr_pirqs, xen/common/domain.c:domain_create at RELEASE-4.17.7), on
 * a host of `hostCpus` CPUs and the model's GSIs, without `extra_guest_irqs=`: a domU gets
 * the GSIs and extra_domU_irqs; the hardware domain what arch_hwdom_irqs gives it
 * (xen/arch/x86/io_apic.c: the GSIs and a CPU's dynamic vectors for each bit of the CPU count,
 * at most as many vCPUs as dom0 has, bounded by nr_irqs and by the bits of its EOI map page);
 * both at most nr_irqs (init_ioapic_mappings: a CPU's dynamic vectors per CPU, at least 8 per
 * GSI). Host-specific.
 */
export function nrPirqs(hostCpus: number, hardwareDomain: boolean, vcpus: number): number {
  const nrIrqs = Math.max(hostCpus * NR_DYNAMIC_VECTORS, 8 * HOST_NR_IRQS_GSI);
  let n: number;
  if (!hardwareDomain) n = HOST_NR_IRQS_GSI + EXTRA_DOMU_PIRQS;
  else {
    const cpus = Math.min(32 - Math.clz32(hostCpus), vcpus);
    n = Math.min(HOST_NR_IRQS_GSI + cpus * NR_DYNAMIC_VECTORS, Math.min(nrIrqs, 4096 * 8));
  }
  return Math.min(n, nrIrqs);
}
/** Legacy ISA IRQs: get_free_pirq's GSI search starts above them. */
export const NR_ISA_IRQS = 16;
/** Bytes of a full I/O-port bitmap (65536 ports, one bit each): IOBMP_BYTES. Xen-internal. */
export const IOBMP_BYTES = 8192;
/** %dr6 and %dr7 after reset (X86_DR6_DEFAULT, X86_DR7_DEFAULT). */
export const DR6_DEFAULT = 0xffff0ff0n;
export const DR7_DEFAULT = 0x400n;

/** A registered guest entry point. */
export interface Callback {
  cs: number | undefined;
  address: bigint;
  maskEvents: boolean;
}

/** x86 PV registers of one vCPU set through hypercalls. */
export interface PvVcpu {
  /** By CALLBACKTYPE_* value. */
  callbacks: Record<number, Callback>;
  /** Virtual IDT entries by vector (only loaded ones). */
  traps: Record<number, TrapInfo>;
  kernelSs: bigint;
  kernelSp: bigint;
  /** Virtual CR0.TS. */
  ts: boolean;
  fsBase: bigint;
  gsBaseKernel: bigint;
  gsBaseUser: bigint;
  gsUserSel: number;
  /** DR0-DR3, DR6, DR7 (indices 4 and 5 unused: they alias 6 and 7). */
  dr: bigint[];
  /** DR7 I/O breakpoint enables emulated by Xen (dr7_emul). */
  dr7Emul: bigint;
  /** Virtual CR4 (DE is what the debug registers look at). */
  cr4: bigint;
  iopl: number;
  iobitmap: bigint;
  iobitmapPorts: number;
}

/** Per-domain state. */
export interface MiscDomain {
  /** Enabled VMASST_TYPE_* bits. */
  vmAssist: bigint;
  /** PIRQs with a pirq record (allocated by get_free_pirq). */
  pirqs: number[];
  /** The PIRQ EOI bitmap frame, when registered. */
  eoiMapFrame: Mfn | undefined;
  /** PHYSDEVOP_pirq_eoi_gmfn_v1 was used: EOI also unmasks. */
  autoUnmask: boolean;
  vcpus: PvVcpu[];
}

/** A fresh vCPU record. */
export function newPvVcpu(): PvVcpu {
  return {
    callbacks: {},
    traps: {},
    kernelSs: 0n,
    kernelSp: 0n,
    ts: false,
    fsBase: 0n,
    gsBaseKernel: 0n,
    gsBaseUser: 0n,
    gsUserSel: 0,
    dr: [0n, 0n, 0n, 0n, 0n, 0n, DR6_DEFAULT, DR7_DEFAULT],
    dr7Emul: 0n,
    cr4: 0n,
    iopl: 0,
    iobitmap: 0n,
    iobitmapPorts: 0,
  };
}

/** A deep copy of a domain's state. */
export function cloneMiscDomain(d: MiscDomain): MiscDomain {
  return {
    ...d,
    pirqs: d.pirqs.slice(),
    vcpus: d.vcpus.map((v) => ({
      ...v,
      callbacks: Object.fromEntries(Object.entries(v.callbacks).map(([k, c]) => [k, { ...c }])),
      traps: Object.fromEntries(Object.entries(v.traps).map(([k, t]) => [k, { ...t }])),
      dr: v.dr.slice(),
    })),
  };
}
