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
/** PIRQs the model gives the hardware domain beyond the GSIs (Xen sizes it from the host). Host-specific. */
export const EXTRA_HWDOM_PIRQS = 256;
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
