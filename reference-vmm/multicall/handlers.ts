/**
 * multicall handler: the batch runs through the VMM's own dispatcher for the caller's ABI
 * (see ops.ts for what ends a batch in Xen 4.17).
 */
import type { XenHandler } from '../../generated/xen/handler.js';
import type { CallContext } from '../context.js';
import type { ReferenceVmm } from '../vmm.js';
import { Multicalls } from './ops.js';

export function multicallHandlers(vmm: ReferenceVmm): XenHandler<CallContext> {
  const mc = new Multicalls(vmm);
  return {
    multicall: (c, list, nr) => mc.run(c, list, nr),
  };
}
