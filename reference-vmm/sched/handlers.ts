/**
 * sched_op handlers (xen/common/sched/core.c:do_sched_op at RELEASE-4.17.7): yield, and
 * shutdown with Xen's latching of the first reason (kept to 8 bits, not validated).
 */
import type { XenHandler } from '../../generated/xen/handler.js';
import type { CallContext } from '../context.js';
import type { ReferenceVmm } from '../vmm.js';

/** Xen keeps only the low 8 bits of a shutdown reason (d->shutdown_code is a uint8_t). */
const SHUTDOWN_CODE_MASK = 0xff;

export function schedHandlers(_vmm: ReferenceVmm): XenHandler<CallContext> {
  return {
    sched_op$SCHEDOP_yield: () => 0,
    sched_op$SCHEDOP_shutdown_code: (c, arg) => {
      const reason = arg.read().reason & SHUTDOWN_CODE_MASK;
      if (c.domain.shutdownCode === undefined) c.domain.shutdownCode = reason;
      return 0;
    },
    sched_op$SCHEDOP_shutdown: (c, arg) => {
      const reason = arg.read().reason & SHUTDOWN_CODE_MASK;
      if (c.domain.shutdownCode === undefined) c.domain.shutdownCode = reason;
      c.domain.shutDown = true;
      return 0;
    },
  };
}
