/**
 * sched_op, sched_op_compat and set_timer_op of the reference VMM, driven through
 * hypercall() (the generated guest stubs over VmmTransport) and guest memory; the clock
 * moves only through the host's machine.advance().
 *
 * Not exercised, because the model cannot produce them: SCHEDOP_pin_override's
 * "pcpu-not-online" beyond the host CPUs is exercised, but a pCPU outside the vCPU's cpupool
 * is not (the model has one pool).
 */
import { describe, expect, it } from 'vitest';
import { XenGuest } from '../../generated/xen/guest.js';
import { constantValue, xenSpec } from '../../spec/index.js';
import { expectError } from '../../test/vmm-errors.js';
import { gaddr } from '../addr.js';
import { VmmTransport } from '../transport.js';
import { ReferenceVmm } from '../vmm.js';
import { schedulerOf } from './ops.js';

const C = (n: string): number => constantValue(xenSpec, n) as number;
const S = (r: bigint): bigint => BigInt.asIntN(64, r);
const SELF = C('DOMID_SELF');
const MS = 1_000_000n;

function setup(abi = 'x86_64-pv') {
  const vmm = new ReferenceVmm({
    domains: [
      { id: 0, abi, memoryPages: 16, privileged: true },
      { id: 1, abi, memoryPages: 16, vcpus: 2 },
      { id: 2, abi, memoryPages: 16 },
    ],
  });
  const g = (domid: number, vcpu = 0) => new XenGuest(new VmmTransport(vmm, domid, vcpu));
  const d = (id: number) => vmm.machine.domain(id)!;
  const runstate = (domid: number, vcpu: number) =>
    g(domid, vcpu).vcpu_op$VCPUOP_get_runstate_info(vcpu, { state: 0, state_entry_time: 0n, time: [0n, 0n, 0n, 0n] }).arg;
  /** Binds VIRQ_TIMER on a vCPU and returns its port. */
  const bindTimer = (domid: number, vcpu = 0) =>
    g(domid, vcpu).event_channel_op$EVTCHNOP_bind_virq({ virq: C('VIRQ_TIMER'), vcpu, port: 0 }).arg.port;
  /** Writes 32-bit ports at a guest address. */
  const putPorts = (domid: number, at: number, ports: number[]) => {
    const b = new Uint8Array(ports.length * 4);
    ports.forEach((p, i) => new DataView(b.buffer).setUint32(i * 4, p, true));
    expect(d(domid).memory.write(gaddr(at), b)).toBe(true);
  };
  return { vmm, g, d, runstate, bindTimer, putPorts };
}

describe('reference-vmm sched_op', () => {
  it('sched_op$SCHEDOP_block: unmasks events and blocks until an event arrives; runstate follows', () => {
    const { vmm, g, d, runstate } = setup();
    const ipi = g(1).event_channel_op$EVTCHNOP_bind_ipi({ vcpu: 0, port: 0 }).arg.port;
    expect(d(1).sharedInfo.upcallMask(0)).toBe(1);
    expect(g(1).sched_op$SCHEDOP_block()).toBe(0n);
    expect(d(1).sharedInfo.upcallMask(0)).toBe(0);
    expect(runstate(1, 0).state).toBe(C('RUNSTATE_blocked'));
    vmm.machine.advance(5n * MS);
    // vCPU 1 sends the IPI port of vCPU 0: delivery wakes it.
    expect(g(1, 1).event_channel_op$EVTCHNOP_send({ port: ipi }).result).toBe(0n);
    const rs = runstate(1, 0);
    expect(rs.state).toBe(C('RUNSTATE_running'));
    expect(rs.time[C('RUNSTATE_blocked')]).toBe(5n * MS);
    expect(rs.state_entry_time).toBe(5n * MS);
  });

  it('sched_op$SCHEDOP_block: returns without blocking when an event is already deliverable', () => {
    const { g, d, runstate } = setup();
    const ipi = g(1).event_channel_op$EVTCHNOP_bind_ipi({ vcpu: 0, port: 0 }).arg.port;
    g(1).event_channel_op$EVTCHNOP_send({ port: ipi });
    expect(d(1).sharedInfo.upcallPending(0)).toBe(1);
    expect(g(1).sched_op$SCHEDOP_block()).toBe(0n);
    expect(runstate(1, 0).state).toBe(C('RUNSTATE_running'));
  });

  it('sched_op$SCHEDOP_poll: a pending polled port returns at once; otherwise a later send wakes the poller', () => {
    const { g, d, runstate, putPorts } = setup();
    const a = g(1).event_channel_op$EVTCHNOP_bind_ipi({ vcpu: 1, port: 0 }).arg.port;
    const b = g(1).event_channel_op$EVTCHNOP_bind_ipi({ vcpu: 1, port: 0 }).arg.port;
    putPorts(1, 0x1000, [a]);
    // Polling works with events masked: a is pending on vCPU 1's behalf, and vCPU 0 polls it.
    expect(g(1).sched_op$SCHEDOP_poll({ ports: 0x1000n, nr_ports: 1, timeout: 0n }).result).toBe(0n);
    expect(runstate(1, 0).state).toBe(C('RUNSTATE_blocked'));
    // Another port (notifying vCPU 1, so no upcall on vCPU 0) does not wake a one-port poll.
    g(1, 1).event_channel_op$EVTCHNOP_send({ port: b });
    expect(runstate(1, 0).state).toBe(C('RUNSTATE_blocked'));
    g(1, 1).event_channel_op$EVTCHNOP_send({ port: a });
    expect(runstate(1, 0).state).toBe(C('RUNSTATE_running'));
    // Now a is pending: polling it returns at once.
    expect(g(1).sched_op$SCHEDOP_poll({ ports: 0x1000n, nr_ports: 1, timeout: 0n }).result).toBe(0n);
    expect(runstate(1, 0).state).toBe(C('RUNSTATE_running'));
    expect(d(1).sharedInfo.isPending(a)).toBe(true);
  });

  it('sched_op$SCHEDOP_block after a poll the model left asleep: the poll ends (found by hyperabi fuzz, seed 12)', () => {
    const { vmm, g, d } = setup();
    // An IPI pending on vCPU 0 with its upcall masked: a poll of no ports sleeps (local_events_need_delivery is false).
    const ipi = g(2).event_channel_op$EVTCHNOP_bind_ipi({ vcpu: 0, port: 0 }).arg.port;
    expect(g(2).event_channel_op$EVTCHNOP_send({ port: ipi }).result).toBe(0n);
    expect(d(2).sharedInfo.upcallMask(0)).toBe(1);
    expect(g(2).sched_op$SCHEDOP_poll({ ports: 0x1000n, nr_ports: 0, timeout: 0n }).result).toBe(0n);
    expect(schedulerOf(vmm).vcpu(d(2), 0)).toMatchObject({ blocked: true, polling: true });
    // The vCPU calls again, so it was woken (vcpu_unblock ends the poll); block unmasks, finds the upcall, returns awake.
    expect(g(2).sched_op$SCHEDOP_block()).toBe(0n);
    expect(schedulerOf(vmm).vcpu(d(2), 0)).toMatchObject({ blocked: false, polling: false, pollPort: 0 });
    expect(vmm.machine.invariants()).toEqual([]);
  });

  it('sched_op$SCHEDOP_poll: the timeout (absolute ns) wakes the poller when the host advances the clock', () => {
    const { vmm, g, runstate, putPorts } = setup();
    const a = g(1).event_channel_op$EVTCHNOP_bind_ipi({ vcpu: 0, port: 0 }).arg.port;
    putPorts(1, 0x1000, [a]);
    expect(g(1).sched_op$SCHEDOP_poll({ ports: 0x1000n, nr_ports: 1, timeout: 3n * MS }).result).toBe(0n);
    vmm.machine.advance(2n * MS);
    expect(runstate(1, 0).state).toBe(C('RUNSTATE_blocked'));
    vmm.machine.advance(2n * MS);
    const rs = runstate(1, 0);
    expect(rs.state).toBe(C('RUNSTATE_running'));
    expect(rs.time[C('RUNSTATE_blocked')]).toBe(3n * MS);
    // A timeout already past (or with bit 63 set, a negative s_time_t) wakes at once.
    expect(g(1).sched_op$SCHEDOP_poll({ ports: 0x1000n, nr_ports: 1, timeout: 1n << 63n }).result).toBe(0n);
    expect(runstate(1, 0).state).toBe(C('RUNSTATE_running'));
  });

  it('sched_op$SCHEDOP_poll: EINVAL for too many ports and for bad ports, EFAULT for the struct or the array', () => {
    const { vmm, g, putPorts } = setup();
    expectError('sched_op$SCHEDOP_poll', 'EINVAL', S(g(1).sched_op$SCHEDOP_poll({ ports: 0x1000n, nr_ports: 129, timeout: 0n }).result));
    expectError('sched_op$SCHEDOP_poll', 'EFAULT', S(g(1).sched_op$SCHEDOP_poll({ ports: 0x7fff_0000n, nr_ports: 2, timeout: 0n }).result));
    putPorts(1, 0x1000, [4000]);
    expectError('sched_op$SCHEDOP_poll', 'EINVAL', S(g(1).sched_op$SCHEDOP_poll({ ports: 0x1000n, nr_ports: 1, timeout: 0n }).result));
    putPorts(1, 0x1000, [5]); // in the first bucket but free
    expectError('sched_op$SCHEDOP_poll', 'EINVAL', S(g(1).sched_op$SCHEDOP_poll({ ports: 0x1000n, nr_ports: 1, timeout: 0n }).result));
    const nr = BigInt(C('__HYPERVISOR_sched_op'));
    expectError('sched_op$SCHEDOP_poll', 'EFAULT', vmm.hypercallSigned(1, 0, { rax: nr, rdi: BigInt(C('SCHEDOP_poll')), rsi: 0x7fff_0000n }));
    expect(vmm.internalErrors).toEqual([]);
  });

  it('sched_op$SCHEDOP_poll: the array check is the address range only (found on live Xen, fuzz seed 303)', () => {
    // Xen 4.17: a 64-bit PV caller's non-canonical array is -EFAULT even for no ports (__addr_ok),
    // an unmapped canonical one only when a port is read, and never once an event is deliverable.
    const { g, d } = setup();
    const poll = (ports: bigint, nr: number) => S(g(2).sched_op$SCHEDOP_poll({ ports, nr_ports: nr, timeout: 0n }).result);
    const wake = () => g(2).sched_op$SCHEDOP_block(); // an IPI pending: block unmasks the upcall and returns
    const ipi = g(2).event_channel_op$EVTCHNOP_bind_ipi({ vcpu: 0, port: 0 }).arg.port;
    g(2).event_channel_op$EVTCHNOP_send({ port: ipi });
    expectError('sched_op$SCHEDOP_poll', 'EFAULT', poll(0xdead_0000_0ffen, 0));
    expectError('sched_op$SCHEDOP_poll', 'EFAULT', poll(0xffff_8000_0000_0000n, 0));
    // With the upcall unmasked and pending, an unmapped array is never read.
    expect(wake()).toBe(0n);
    expect(d(2).sharedInfo.upcallMask(0)).toBe(0);
    expect(poll(0x7fff_0000n, 2)).toBe(0n);
    expect(poll(0x7fff_0000n, 0)).toBe(0n);
    // A 32-bit caller's handle is widened first: any address passes the check.
    const c = setup('x86_32-pv');
    c.g(2).event_channel_op$EVTCHNOP_send({ port: c.g(2).event_channel_op$EVTCHNOP_bind_ipi({ vcpu: 0, port: 0 }).arg.port });
    expect(c.g(2).sched_op$SCHEDOP_block()).toBe(0n);
    expect(S(c.g(2).sched_op$SCHEDOP_poll({ ports: 0xffff_f000n, nr_ports: 1, timeout: 0n }).result)).toBe(0n);
  });

  it('sched_op$SCHEDOP_shutdown: latches the first reason and stops every vCPU; EFAULT for a bad struct', () => {
    const { vmm, g, d, runstate } = setup();
    expect(g(1).sched_op$SCHEDOP_shutdown_code({ reason: C('SHUTDOWN_reboot') }).result).toBe(0n);
    expect(d(1).shutDown).toBe(false);
    expect(g(1).sched_op$SCHEDOP_shutdown({ reason: 0x100 | C('SHUTDOWN_crash') }).result).toBe(0n);
    expect(d(1).shutDown).toBe(true);
    expect(d(1).shutdownCode).toBe(C('SHUTDOWN_reboot'));
    expect(runstate(1, 0).state).toBe(C('RUNSTATE_offline'));
    const nr = BigInt(C('__HYPERVISOR_sched_op'));
    expectError('sched_op$SCHEDOP_shutdown', 'EFAULT', vmm.hypercallSigned(2, 0, { rax: nr, rdi: BigInt(C('SCHEDOP_shutdown')), rsi: 0x7fff_0000n }));
    expectError('sched_op$SCHEDOP_shutdown_code', 'EFAULT', vmm.hypercallSigned(2, 0, { rax: nr, rdi: BigInt(C('SCHEDOP_shutdown_code')), rsi: 0x7fff_0000n }));
    expect(d(2).shutDown).toBe(false);
  });

  it('sched_op$SCHEDOP_remote_shutdown: the control domain shuts another down; ESRCH, EPERM, EFAULT', () => {
    const { vmm, g, d } = setup();
    expectError('sched_op$SCHEDOP_remote_shutdown', 'ESRCH', S(g(0).sched_op$SCHEDOP_remote_shutdown({ domain_id: 9, reason: 0 }).result));
    expectError('sched_op$SCHEDOP_remote_shutdown', 'ESRCH', S(g(0).sched_op$SCHEDOP_remote_shutdown({ domain_id: SELF, reason: 0 }).result));
    // A domU may not shut down even itself this way (XSM_DM_PRIV).
    expectError('sched_op$SCHEDOP_remote_shutdown', 'EPERM', S(g(1).sched_op$SCHEDOP_remote_shutdown({ domain_id: 1, reason: 0 }).result));
    expect(d(1).shutDown).toBe(false);
    expect(g(0).sched_op$SCHEDOP_remote_shutdown({ domain_id: 2, reason: C('SHUTDOWN_reboot') }).result).toBe(0n);
    expect(d(2).shutDown).toBe(true);
    expect(d(2).shutdownCode).toBe(C('SHUTDOWN_reboot'));
    const nr = BigInt(C('__HYPERVISOR_sched_op'));
    expectError('sched_op$SCHEDOP_remote_shutdown', 'EFAULT', vmm.hypercallSigned(0, 0, { rax: nr, rdi: BigInt(C('SCHEDOP_remote_shutdown')), rsi: 0x7fff_0000n }));
  });

  it('sched_op$SCHEDOP_watchdog: ids 1 and 2, re-arm, destroy; expiry shuts the domain down with SHUTDOWN_watchdog', () => {
    const { vmm, g, d } = setup();
    const w = (id: number, timeout: number) => S(g(1).sched_op$SCHEDOP_watchdog({ id, timeout }).result);
    expect(w(0, 10)).toBe(1n);
    expect(w(0, 10)).toBe(2n);
    // Xen 4.17 returns -ENOSPC through an unsigned int: a 64-bit guest reads it zero-extended.
    const full = w(0, 10);
    expect(full).toBe(0xffff_ffe4n);
    expectError('sched_op$SCHEDOP_watchdog', 'ENOSPC', BigInt.asIntN(32, full));
    expectError('sched_op$SCHEDOP_watchdog', 'EINVAL', w(3, 10));
    expect(w(2, 0)).toBe(0n);
    expectError('sched_op$SCHEDOP_watchdog', 'EINVAL', w(2, 5));
    expect(w(1, 20)).toBe(0n); // re-armed: 20 s from now
    vmm.machine.advance(15n * 1000n * MS);
    expect(d(1).shutDown).toBe(false);
    vmm.machine.advance(5n * 1000n * MS);
    expect(d(1).shutDown).toBe(true);
    expect(d(1).shutdownCode).toBe(C('SHUTDOWN_watchdog'));
    const nr = BigInt(C('__HYPERVISOR_sched_op'));
    expectError('sched_op$SCHEDOP_watchdog', 'EFAULT', vmm.hypercallSigned(2, 0, { rax: nr, rdi: BigInt(C('SCHEDOP_watchdog')), rsi: 0x7fff_0000n }));
  });

  it('sched_op$SCHEDOP_pin_override: hardware domain only; EINVAL, EBUSY as vcpu_temporary_affinity gives them', () => {
    const { vmm, g } = setup();
    const p = (domid: number, pcpu: number) => S(g(domid).sched_op$SCHEDOP_pin_override({ pcpu }).result);
    expectError('sched_op$SCHEDOP_pin_override', 'EPERM', p(1, 0));
    expectError('sched_op$SCHEDOP_pin_override', 'EINVAL', p(0, -1)); // nothing to release
    expectError('sched_op$SCHEDOP_pin_override', 'EINVAL', p(0, 4096)); // not below NR_CPUS
    expectError('sched_op$SCHEDOP_pin_override', 'EINVAL', p(0, 64)); // no such CPU online
    expect(p(0, 1)).toBe(0n);
    expectError('sched_op$SCHEDOP_pin_override', 'EBUSY', p(0, 0));
    // With a pin in force, a CPU the host lacks is still -EINVAL (cpu >= nr_cpu_ids comes first; live Xen, fuzz seed 1910).
    expectError('sched_op$SCHEDOP_pin_override', 'EINVAL', p(0, 64));
    expect(p(0, -1)).toBe(0n);
    const nr = BigInt(C('__HYPERVISOR_sched_op'));
    expectError('sched_op$SCHEDOP_pin_override', 'EFAULT', vmm.hypercallSigned(0, 0, { rax: nr, rdi: BigInt(C('SCHEDOP_pin_override')), rsi: 0x7fff_0000n }));
  });

  it('sched_op: ENOSYS for an unknown command', () => {
    const { vmm } = setup();
    expectError('sched_op', 'ENOSYS', vmm.hypercallSigned(1, 0, { rax: BigInt(C('__HYPERVISOR_sched_op')), rdi: 99n }));
  });

  it('sched_op_compat: yield, block, shutdown with the reason in the register; ENOSYS beyond', () => {
    const { g, d, runstate } = setup();
    expect(g(1).sched_op_compat(C('SCHEDOP_yield'), 0n)).toBe(0n);
    expect(g(1).sched_op_compat(C('SCHEDOP_block'), 0n)).toBe(0n);
    expect(runstate(1, 0).state).toBe(C('RUNSTATE_blocked'));
    expectError('sched_op_compat', 'ENOSYS', S(g(1).sched_op_compat(3, 0n)));
    expectError('sched_op_compat', 'ENOSYS', S(g(1).sched_op_compat(-1, 0n)));
    expect(g(2).sched_op_compat(C('SCHEDOP_shutdown'), 0x300n | BigInt(C('SHUTDOWN_suspend')))).toBe(0n);
    expect(d(2).shutdownCode).toBe(C('SHUTDOWN_suspend'));
  });

  it('set_timer_op: the single-shot timer raises VIRQ_TIMER at its deadline; 0 cancels; huge timeouts become 100 ms', () => {
    const { vmm, g, d, bindTimer } = setup('x86_64-hvm'); // HVM: no default periodic timer
    const port = bindTimer(1);
    expect(g(1).set_timer_op(2n * MS)).toBe(0n);
    vmm.machine.advance(1n * MS);
    expect(d(1).sharedInfo.isPending(port)).toBe(false);
    vmm.machine.advance(1n * MS);
    expect(d(1).sharedInfo.isPending(port)).toBe(true);
    d(1).sharedInfo.clearPending(port);
    expect(g(1).set_timer_op(5n * MS)).toBe(0n);
    expect(g(1).set_timer_op(0n)).toBe(0n);
    vmm.machine.advance(10n * MS);
    expect(d(1).sharedInfo.isPending(port)).toBe(false);
    // 2^50 ns ahead: armed 100 ms from now instead.
    expect(g(1).set_timer_op(vmm.machine.now + (1n << 50n))).toBe(0n);
    vmm.machine.advance(99n * MS);
    expect(d(1).sharedInfo.isPending(port)).toBe(false);
    vmm.machine.advance(1n * MS);
    expect(d(1).sharedInfo.isPending(port)).toBe(true);
  });

  it('set_timer_op: a PV vCPU also has Xen’s default 10 ms periodic timer while it runs', () => {
    const { vmm, g, d, bindTimer } = setup();
    const port = bindTimer(1);
    vmm.machine.advance(9n * MS);
    expect(d(1).sharedInfo.isPending(port)).toBe(false);
    vmm.machine.advance(1n * MS);
    expect(d(1).sharedInfo.isPending(port)).toBe(true);
    expect(g(1).vcpu_op$VCPUOP_stop_periodic_timer(0)).toBe(0n);
  });

  it('sched_op: snapshot and restore bring back blocked vCPUs, timers and watchdogs', () => {
    const { vmm, g, d, runstate } = setup();
    const snap = vmm.machine.snapshot();
    g(1).sched_op$SCHEDOP_block();
    g(1).sched_op$SCHEDOP_watchdog({ id: 0, timeout: 1 });
    vmm.machine.restore(snap);
    expect(runstate(1, 0).state).toBe(C('RUNSTATE_running'));
    vmm.machine.advance(2000n * MS);
    expect(d(1).shutDown).toBe(false);
    expect(vmm.machine.invariants()).toEqual([]);
  });
});
