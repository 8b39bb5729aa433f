/**
 * The reference VMM's implementation of the generated handler interface, assembled from one
 * handler module per subsystem. Each module reads its argument structs from guest memory
 * (copy in), runs the operation, and writes them back only on success (copy out), as Xen's
 * do_*_op wrappers do. Operations no module implements are answered -ENOSYS by the generated
 * dispatcher.
 */
import type { XenHandler } from '../generated/xen/handler.js';
import type { CallContext } from './context.js';
import { consoleHandlers } from './console/handlers.js';
import { evtchnHandlers } from './evtchn/handlers.js';
import { grantHandlers } from './grant/handlers.js';
import { memoryHandlers } from './memory/handlers.js';
import { multicallHandlers } from './multicall/handlers.js';
import { miscHandlers } from './misc/handlers.js';
import { mmHandlers } from './mm/handlers.js';
import { schedHandlers } from './sched/handlers.js';
import { vcpuHandlers } from './vcpu/handlers.js';
import { versionHandlers } from './version/handlers.js';
import type { ReferenceVmm } from './vmm.js';

export type { CallContext } from './context.js';

/** Every subsystem's handlers (add a subsystem here: one import, one entry). */
const MODULES: ((vmm: ReferenceVmm) => XenHandler<CallContext>)[] = [
  evtchnHandlers,
  versionHandlers,
  consoleHandlers,
  schedHandlers,
  vcpuHandlers,
  miscHandlers,
  multicallHandlers,
  grantHandlers,
  memoryHandlers,
  mmHandlers,
];

/** Builds the handler object of a VMM; two modules implementing one method is an error. */
export function xenHandler(vmm: ReferenceVmm): XenHandler<CallContext> {
  const out: Record<string, unknown> = {};
  for (const make of MODULES) {
    for (const [k, v] of Object.entries(make(vmm))) {
      if (k in out) throw new Error(`handler ${k} is implemented by two subsystems`);
      out[k] = v;
    }
  }
  return out as XenHandler<CallContext>;
}
