/**
 * sched_op, sched_op_compat and set_timer_op handlers (xen/common/sched/core.c:do_sched_op,
 * do_set_timer_op, xen/arch/x86/compat.c:do_sched_op_compat at RELEASE-4.17.7): yield,
 * block, poll, shutdown with Xen's latching of the first reason (kept to 8 bits, not
 * validated), remote shutdown, watchdogs, pin override and the single-shot timer. The
 * scheduling state lives in the Scheduler (./ops.ts).
 */
import type { XenHandler } from '../../generated/xen/handler.js';
import { constantValue } from '../../spec/index.js';
import { specNumber, type CallContext } from '../context.js';
import type { Domain } from '../machine.js';
import type { ReferenceVmm } from '../vmm.js';
import { readU32, schedulerOf } from './ops.js';
import { declaredBound } from './state.js';

/**
 * guest_handle_okay on do_poll's port array: the address range only, never the mapping. A
 * 64-bit PV caller's array starts below 2^47 or at HYPERVISOR_VIRT_END and above (__addr_ok: a
 * non-canonical address is -EFAULT, even for no ports). A 32-bit caller's handle is widened to a
 * native one first (compat_poll), which always passes, and translated callers are checked only
 * by the copies. An array that is not mapped faults when its ports are read, after the check for
 * pending events. (Xen also asks count < ~0/4, which nr_ports <= 128 already ensures.)
 * @see xen/common/sched/core.c do_poll, xen/common/sched/compat.c compat_poll,
 *      xen/arch/x86/include/asm/x86_64/uaccess.h (RELEASE-4.17.7)
 */
function arrayOkay(d: Domain, base: bigint, virtEnd: bigint): boolean {
  if (!d.abi.name.endsWith('-pv') || d.arch.wordSize === 4) return true;
  return base < 1n << 47n || base >= virtEnd;
}

export function schedHandlers(vmm: ReferenceVmm): XenHandler<CallContext> {
  const sched = schedulerOf(vmm);
  const E = vmm.machine.errno;
  const num = (n: string) => specNumber(vmm, n);
  const maxPollPorts = Number(declaredBound(vmm.machine.spec, 'sched_op$SCHEDOP_poll', 'arg.nr_ports', 'gt'));
  const YIELD = num('SCHEDOP_yield');
  const BLOCK = num('SCHEDOP_block');
  const SHUTDOWN = num('SCHEDOP_shutdown');
  const firstReserved = num('DOMID_FIRST_RESERVED');
  const virtEnd = BigInt(constantValue(vmm.machine.spec, 'HYPERVISOR_VIRT_END', vmm.machine.spec.arches.find((a) => a.name === 'x86_64')) ?? 0);
  return {
    sched_op$SCHEDOP_yield: () => 0,
    sched_op$SCHEDOP_block: (c) => sched.block(c.domain, c.vcpu),
    sched_op$SCHEDOP_shutdown_code: (c, arg) => {
      const reason = arg.read().reason;
      if (c.domain.shutdownCode === undefined) c.domain.shutdownCode = reason & 0xff;
      return 0;
    },
    sched_op$SCHEDOP_shutdown: (c, arg) => {
      sched.shutdown(c.domain, arg.read().reason);
      return 0;
    },
    sched_op$SCHEDOP_poll: (c, arg) => {
      const a = arg.read();
      const d = c.domain;
      return sched.poll(
        d,
        c.vcpu,
        a.nr_ports,
        a.nr_ports > maxPollPorts || arrayOkay(d, a.ports, virtEnd),
        (i) => readU32(d, a.ports, i),
        a.timeout,
        maxPollPorts,
      );
    },
    sched_op$SCHEDOP_remote_shutdown: (c, arg) => {
      const a = arg.read();
      // rcu_lock_domain_by_id: the id is looked up literally, so DOMID_SELF and the other reserved ids are no domain.
      const target = a.domain_id < firstReserved ? vmm.machine.domain(a.domain_id) : undefined;
      if (!target) return E['ESRCH'] as number;
      // XSM_DM_PRIV under the dummy policy: the control domain (the model has no device-model relations).
      if (!c.domain.privileged) return E['EPERM'] as number;
      sched.shutdown(target, a.reason);
      return 0;
    },
    sched_op$SCHEDOP_watchdog: (c, arg) => {
      const a = arg.read();
      return sched.watchdog(c.domain, a.id, a.timeout);
    },
    sched_op$SCHEDOP_pin_override: (c, arg) => {
      if (!sched.isHardwareDomain(c.domain)) return E['EPERM'] as number;
      return sched.pinOverride(c.domain, c.vcpu, arg.read().pcpu);
    },
    sched_op_compat: (c, cmd, arg) => {
      if (cmd === YIELD) return 0;
      if (cmd === BLOCK) return sched.block(c.domain, c.vcpu);
      if (cmd === SHUTDOWN) {
        sched.shutdown(c.domain, Number(BigInt.asUintN(8, arg)));
        return 0;
      }
      return E['ENOSYS'] as number;
    },
    set_timer_op: (c, timeout) => sched.setTimerOp(c.domain, c.vcpu, timeout),
  };
}
