/**
 * event_channel_op handlers: copy the struct in, run the 2-level operation, copy out on
 * success (xen/common/event_channel.c:do_event_channel_op at RELEASE-4.17.7). FIFO
 * operations (init_control, expand_array, set_priority) and PIRQs are declared
 * unimplemented in the spec: -ENOSYS.
 */
import type { XenHandler } from '../../generated/xen/handler.js';
import { inOut, type CallContext } from '../context.js';
import type { ReferenceVmm } from '../vmm.js';

export function evtchnHandlers(vmm: ReferenceVmm): XenHandler<CallContext> {
  const ev = vmm.evtchn;
  return {
    event_channel_op$EVTCHNOP_alloc_unbound: (c, arg) => inOut(arg, (a) => ev.allocUnbound(c.domain, a)),
    event_channel_op$EVTCHNOP_bind_interdomain: (c, arg) => inOut(arg, (a) => ev.bindInterdomain(c.domain, a)),
    event_channel_op$EVTCHNOP_bind_virq: (c, arg) => inOut(arg, (a) => ev.bindVirq(c.domain, a)),
    event_channel_op$EVTCHNOP_bind_ipi: (c, arg) => inOut(arg, (a) => ev.bindIpi(c.domain, a)),
    event_channel_op$EVTCHNOP_close: (c, arg) => ev.close(c.domain, arg.read()),
    event_channel_op$EVTCHNOP_send: (c, arg) => ev.send(c.domain, arg.read()),
    event_channel_op$EVTCHNOP_status: (c, arg) =>
      inOut(arg, (a) => ev.statusOf(c.domain, a as unknown as Parameters<typeof ev.statusOf>[1])),
    event_channel_op$EVTCHNOP_bind_vcpu: (c, arg) => ev.bindVcpu(c.domain, arg.read()),
    event_channel_op$EVTCHNOP_unmask: (c, arg) => ev.unmask(c.domain, arg.read()),
    event_channel_op$EVTCHNOP_reset: (c, arg) => ev.reset(c.domain, arg.read()),
  };
}
