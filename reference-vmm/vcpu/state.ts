/**
 * vCPU records of the reference VMM beyond scheduling: the context VCPUOP_initialise gave a
 * vCPU, the guest frame holding a registered vcpu_info (with the type and general reference
 * Xen takes on it, map_vcpu_info), and the time-info area. The vcpu_info location itself
 * lives in the domain's SharedInfo, which event delivery reads; it is saved here for snapshots.
 */
import type { VcpuGuestContext } from '../../generated/xen/types.js';
import type { Mfn } from '../addr.js';
import type { VcpuInfoLocation } from '../shared-info.js';

/** What VCPUOP_* recorded about one vCPU. */
export interface VcpuRecord {
  /** The context of VCPUOP_initialise, as decoded (the model keeps it; it does not run guests). */
  context: VcpuGuestContext | undefined;
  /** The frame of a registered vcpu_info (it holds a writable-type and a general reference). */
  vcpuInfoFrame: Mfn | undefined;
  /** The vcpu_info frame is another domain's page the domain maps through gmfn_foreign (a translated domain may register one). */
  vcpuInfoForeign?: boolean;
  /** Guest address of the registered time-info area (VCPUOP_register_vcpu_time_memory_area). */
  timeArea: bigint | undefined;
}

/** Saved vCPU records: per domain, the records and the registered vcpu_info locations. */
export type VcpuSnapshot = Map<number, { records: VcpuRecord[]; vcpuInfo: ReadonlyMap<number, VcpuInfoLocation> }>;

/** A fresh record. */
export function emptyRecord(): VcpuRecord {
  return { context: undefined, vcpuInfoFrame: undefined, timeArea: undefined };
}
