/**
 * Handlers of the x86 PV MMU hypercalls: mmu_update and mmuext_op as whole batches (their
 * pdone, foreigndom and stop-at-first-failure rules are the hypercall's, not a sub-op's),
 * update_va_mapping and update_va_mapping_otherdomain. Creating them registers the MMU's
 * state with the machine as subsystem `mm`.
 */
import type { XenHandler } from '../../generated/xen/handler.js';
import type { CallContext } from '../context.js';
import type { ReferenceVmm } from '../vmm.js';
import { PvMmu } from './ops.js';

const mmus = new WeakMap<ReferenceVmm, PvMmu>();

/** The PV MMU of a VMM (for hosts and tests: its m2p entries, invariants, holders). */
export function pvMmu(vmm: ReferenceVmm): PvMmu | undefined {
  return mmus.get(vmm);
}

export function mmHandlers(vmm: ReferenceVmm): XenHandler<CallContext> {
  // One MMU per VMM, even when its handler object is built again (it registers state).
  const mm = mmus.get(vmm) ?? new PvMmu(vmm.machine);
  mmus.set(vmm, mm);
  return {
    mmu_update: (c, ureqs, count, pdone, foreigndom) => mm.mmuUpdate(c, ureqs, count, pdone, foreigndom),
    mmuext_op: (c, uops, count, pdone, foreigndom) => mm.mmuextOp(c, uops, count, pdone, foreigndom),
    update_va_mapping: (c, va, val, flags) => mm.updateVaMapping(c, va, val, flags, c.domain),
    update_va_mapping_otherdomain: (c, va, val, flags, domid) => mm.updateVaMappingOtherdomain(c, va, val, flags, domid),
  };
}
