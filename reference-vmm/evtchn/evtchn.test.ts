/**
 * Event channels of the reference VMM, driven only through hypercall() (by the generated
 * guest stubs over an in-process transport) and guest memory (the shared_info page the
 * guest sees at its sharedInfoGfn).
 */
import { describe, expect, it } from 'vitest';
import { XenGuest } from '../../generated/xen/guest.js';
import { constantValue, LayoutEngine, xenSpec } from '../../spec/index.js';
import { PAGE_SIZE } from '../addr.js';
import { expectError } from '../../test/vmm-errors.js';
import { VmmTransport } from '../transport.js';
import { ReferenceVmm } from '../vmm.js';

const C = (n: string): number => constantValue(xenSpec, n) as number;
const SELF = C('DOMID_SELF');

function setup(abi = 'x86_64-pv') {
  const vmm = new ReferenceVmm({
    domains: [
      { id: 0, abi, memoryPages: 16, privileged: true },
      { id: 1, abi, memoryPages: 16, vcpus: 2, maxEvtchnPort: 70 },
      { id: 2, abi, memoryPages: 16 },
    ],
  });
  const g = (domid: number, vcpu = 0) => new XenGuest(new VmmTransport(vmm, domid, vcpu));
  const d = (id: number) => vmm.machine.domain(id)!;
  // Reads a bit of the guest's shared_info through guest memory.
  const siBit = (domid: number, field: 'evtchn_pending' | 'evtchn_mask', port: number): boolean => {
    const dom = d(domid);
    const off = new LayoutEngine(xenSpec, dom.arch).named('struct shared_info').fields[field]!.offset;
    const buf = new Uint8Array(1);
    dom.memory.read((dom.sharedInfoGfn * PAGE_SIZE + off + (port >> 3)) as never, buf);
    return (buf[0]! & (1 << (port & 7))) !== 0;
  };
  const setBit = (domid: number, field: 'evtchn_mask', port: number) => {
    const dom = d(domid);
    const off = new LayoutEngine(xenSpec, dom.arch).named('struct shared_info').fields[field]!.offset;
    const addr = dom.sharedInfoGfn * PAGE_SIZE + off + (port >> 3);
    const buf = new Uint8Array(1);
    dom.memory.read(addr as never, buf);
    buf[0] = buf[0]! | (1 << (port & 7));
    dom.memory.write(addr as never, buf);
  };
  return { vmm, g, d, siBit, setBit };
}

const status0 = { status: 0, vcpu: 0, u: { unbound: { dom: 0 }, interdomain: { dom: 0, port: 0 }, pirq: 0, virq: 0 } };

describe('reference-vmm event channels (2-level ABI)', () => {
  it('event_channel_op$EVTCHNOP_alloc_unbound: lowest free port from 1; DOMID_SELF stored as the caller', () => {
    const { g, vmm } = setup();
    const r = g(1).event_channel_op$EVTCHNOP_alloc_unbound({ dom: SELF, remote_dom: SELF, port: 0 });
    expect(r.result).toBe(0n);
    expect(r.arg.port).toBe(1);
    const s = g(1).event_channel_op$EVTCHNOP_status({ dom: SELF, port: 1, ...status0 });
    expect(s.result).toBe(0n);
    expect(s.arg.status).toBe(C('EVTCHNSTAT_unbound'));
    expect(s.arg.u.unbound?.dom).toBe(1);
    expect(vmm.internalErrors).toEqual([]);
  });

  it('event_channel_op$EVTCHNOP_alloc_unbound: ESRCH for a missing domain, EPERM for another domain, ENOSPC when full', () => {
    const { g } = setup();
    expectError('event_channel_op$EVTCHNOP_alloc_unbound', 'ESRCH', g(1).event_channel_op$EVTCHNOP_alloc_unbound({ dom: 9, remote_dom: 0, port: 0 }).result);
    expectError('event_channel_op$EVTCHNOP_alloc_unbound', 'EPERM', g(1).event_channel_op$EVTCHNOP_alloc_unbound({ dom: 2, remote_dom: 0, port: 0 }).result);
    // dom0 is privileged: it may allocate in domain 2.
    expect(g(0).event_channel_op$EVTCHNOP_alloc_unbound({ dom: 2, remote_dom: 0, port: 0 }).result).toBe(0n);
    // Domain 1 may use ports up to 70: 70 allocations succeed (1..70), the next is ENOSPC.
    for (let i = 1; i <= 70; i++) expect(g(1).event_channel_op$EVTCHNOP_alloc_unbound({ dom: SELF, remote_dom: 0, port: 0 }).arg.port).toBe(i);
    const full = g(1).event_channel_op$EVTCHNOP_alloc_unbound({ dom: SELF, remote_dom: 0, port: 0 });
    expectError('event_channel_op$EVTCHNOP_alloc_unbound', 'ENOSPC', full.result);
    expect(full.arg.port).toBe(0);
  });

  it('event_channel_op$EVTCHNOP_bind_interdomain: connects both ends and marks the new local port pending', () => {
    const { g, siBit } = setup();
    const a = g(0).event_channel_op$EVTCHNOP_alloc_unbound({ dom: SELF, remote_dom: 1, port: 0 }).arg.port;
    const b = g(1).event_channel_op$EVTCHNOP_bind_interdomain({ remote_dom: 0, remote_port: a, local_port: 0 });
    expect(b.result).toBe(0n);
    expect(siBit(1, 'evtchn_pending', b.arg.local_port)).toBe(true);
    const s = g(0).event_channel_op$EVTCHNOP_status({ dom: 0, port: a, ...status0 });
    expect(s.arg.status).toBe(C('EVTCHNSTAT_interdomain'));
    expect(s.arg.u.interdomain).toEqual({ dom: 1, port: b.arg.local_port });
  });

  it('event_channel_op$EVTCHNOP_bind_interdomain: ESRCH, EINVAL for an invalid or wrongly-reserved remote port', () => {
    const { g } = setup();
    expectError('event_channel_op$EVTCHNOP_bind_interdomain', 'ESRCH', g(1).event_channel_op$EVTCHNOP_bind_interdomain({ remote_dom: 9, remote_port: 1, local_port: 0 }).result);
    expectError('event_channel_op$EVTCHNOP_bind_interdomain', 'EINVAL', g(1).event_channel_op$EVTCHNOP_bind_interdomain({ remote_dom: 0, remote_port: 5000, local_port: 0 }).result);
    // A port reserved for domain 2 cannot be bound by domain 1.
    const a = g(0).event_channel_op$EVTCHNOP_alloc_unbound({ dom: SELF, remote_dom: 2, port: 0 }).arg.port;
    expectError('event_channel_op$EVTCHNOP_bind_interdomain', 'EINVAL', g(1).event_channel_op$EVTCHNOP_bind_interdomain({ remote_dom: 0, remote_port: a, local_port: 0 }).result);
    // The failed binds leave no port behind: the next allocation in domain 1 still gets port 1.
    expect(g(1).event_channel_op$EVTCHNOP_alloc_unbound({ dom: SELF, remote_dom: 0, port: 0 }).arg.port).toBe(1);
  });

  it('event_channel_op$EVTCHNOP_send: sets the peer pending, the selector word and the upcall flag; unbound drops; free is EINVAL', () => {
    const { g, d, siBit } = setup();
    const a = g(0).event_channel_op$EVTCHNOP_alloc_unbound({ dom: SELF, remote_dom: 1, port: 0 }).arg.port;
    const lp = g(1).event_channel_op$EVTCHNOP_bind_interdomain({ remote_dom: 0, remote_port: a, local_port: 0 }).arg.local_port;
    expect(siBit(0, 'evtchn_pending', a)).toBe(false);
    expect(g(1).event_channel_op$EVTCHNOP_send({ port: lp }).result).toBe(0n);
    expect(siBit(0, 'evtchn_pending', a)).toBe(true);
    expect(d(0).sharedInfo.upcallPending(0)).toBe(1);
    const u = g(2).event_channel_op$EVTCHNOP_alloc_unbound({ dom: SELF, remote_dom: 0, port: 0 }).arg.port;
    expect(g(2).event_channel_op$EVTCHNOP_send({ port: u }).result).toBe(0n);
    expect(siBit(2, 'evtchn_pending', u)).toBe(false);
    expectError('event_channel_op$EVTCHNOP_send', 'EINVAL', g(2).event_channel_op$EVTCHNOP_send({ port: 0 }).result);
    expectError('event_channel_op$EVTCHNOP_send', 'EINVAL', g(2).event_channel_op$EVTCHNOP_send({ port: 40 }).result);
    expectError('event_channel_op$EVTCHNOP_send', 'EINVAL', g(2).event_channel_op$EVTCHNOP_send({ port: 100000 }).result);
  });

  it('event_channel_op$EVTCHNOP_bind_virq: binds per vCPU; EINVAL, ENOENT and EEXIST as Xen orders them', () => {
    const { g } = setup();
    const timer = C('VIRQ_TIMER');
    const r = g(1).event_channel_op$EVTCHNOP_bind_virq({ virq: timer, vcpu: 1, port: 0 });
    expect(r.result).toBe(0n);
    expectError('event_channel_op$EVTCHNOP_bind_virq', 'EEXIST', g(1).event_channel_op$EVTCHNOP_bind_virq({ virq: timer, vcpu: 1, port: 0 }).result);
    expectError('event_channel_op$EVTCHNOP_bind_virq', 'EINVAL', g(1).event_channel_op$EVTCHNOP_bind_virq({ virq: C('NR_VIRQS'), vcpu: 0, port: 0 }).result);
    expectError('event_channel_op$EVTCHNOP_bind_virq', 'EINVAL', g(1).event_channel_op$EVTCHNOP_bind_virq({ virq: C('VIRQ_CONSOLE'), vcpu: 1, port: 0 }).result);
    expectError('event_channel_op$EVTCHNOP_bind_virq', 'ENOENT', g(1).event_channel_op$EVTCHNOP_bind_virq({ virq: timer, vcpu: 5, port: 0 }).result);
    const s = g(1).event_channel_op$EVTCHNOP_status({ dom: SELF, port: r.arg.port, ...status0 });
    expect(s.arg).toMatchObject({ status: C('EVTCHNSTAT_virq'), vcpu: 1, u: { virq: timer } });
    // Closing frees the VIRQ for binding again.
    expect(g(1).event_channel_op$EVTCHNOP_close({ port: r.arg.port }).result).toBe(0n);
    expect(g(1).event_channel_op$EVTCHNOP_bind_virq({ virq: timer, vcpu: 1, port: 0 }).result).toBe(0n);
  });

  it('event_channel_op$EVTCHNOP_bind_ipi: an IPI port notifies its own vCPU; ENOENT for a missing vCPU', () => {
    const { g, siBit } = setup();
    const r = g(1).event_channel_op$EVTCHNOP_bind_ipi({ vcpu: 1, port: 0 });
    expect(r.result).toBe(0n);
    expect(g(1).event_channel_op$EVTCHNOP_send({ port: r.arg.port }).result).toBe(0n);
    expect(siBit(1, 'evtchn_pending', r.arg.port)).toBe(true);
    expectError('event_channel_op$EVTCHNOP_bind_ipi', 'ENOENT', g(1).event_channel_op$EVTCHNOP_bind_ipi({ vcpu: 2, port: 0 }).result);
  });

  it('event_channel_op$EVTCHNOP_close: the peer becomes unbound to the closer; EINVAL for free, reserved and invalid ports', () => {
    const { g } = setup();
    const a = g(0).event_channel_op$EVTCHNOP_alloc_unbound({ dom: SELF, remote_dom: 1, port: 0 }).arg.port;
    const lp = g(1).event_channel_op$EVTCHNOP_bind_interdomain({ remote_dom: 0, remote_port: a, local_port: 0 }).arg.local_port;
    expect(g(1).event_channel_op$EVTCHNOP_close({ port: lp }).result).toBe(0n);
    const s = g(0).event_channel_op$EVTCHNOP_status({ dom: 0, port: a, ...status0 });
    expect(s.arg.status).toBe(C('EVTCHNSTAT_unbound'));
    expect(s.arg.u.unbound?.dom).toBe(1);
    expectError('event_channel_op$EVTCHNOP_close', 'EINVAL', g(1).event_channel_op$EVTCHNOP_close({ port: lp }).result);
    expectError('event_channel_op$EVTCHNOP_close', 'EINVAL', g(1).event_channel_op$EVTCHNOP_close({ port: 0 }).result);
    expectError('event_channel_op$EVTCHNOP_close', 'EINVAL', g(1).event_channel_op$EVTCHNOP_close({ port: 4096 }).result);
    // The peer can bind again.
    expect(g(1).event_channel_op$EVTCHNOP_bind_interdomain({ remote_dom: 0, remote_port: a, local_port: 0 }).result).toBe(0n);
  });

  it('event_channel_op$EVTCHNOP_status: ESRCH, EINVAL beyond the allocated ports, EPERM for another domain; closed inside', () => {
    const { g } = setup();
    expectError('event_channel_op$EVTCHNOP_status', 'ESRCH', g(1).event_channel_op$EVTCHNOP_status({ dom: 9, port: 0, ...status0 }).result);
    expectError('event_channel_op$EVTCHNOP_status', 'EINVAL', g(1).event_channel_op$EVTCHNOP_status({ dom: SELF, port: 64, ...status0 }).result);
    expectError('event_channel_op$EVTCHNOP_status', 'EPERM', g(1).event_channel_op$EVTCHNOP_status({ dom: 2, port: 0, ...status0 }).result);
    const s = g(1).event_channel_op$EVTCHNOP_status({ dom: SELF, port: 63, ...status0 });
    expect(s.result).toBe(0n);
    expect(s.arg.status).toBe(C('EVTCHNSTAT_closed'));
  });

  it('event_channel_op$EVTCHNOP_bind_vcpu: moves an interdomain port; EINVAL for IPI and per-vCPU VIRQ; ENOENT', () => {
    const { g } = setup();
    const u = g(1).event_channel_op$EVTCHNOP_alloc_unbound({ dom: SELF, remote_dom: 0, port: 0 }).arg.port;
    expect(g(1).event_channel_op$EVTCHNOP_bind_vcpu({ port: u, vcpu: 1 }).result).toBe(0n);
    expect(g(1).event_channel_op$EVTCHNOP_status({ dom: SELF, port: u, ...status0 }).arg.vcpu).toBe(1);
    const ipi = g(1).event_channel_op$EVTCHNOP_bind_ipi({ vcpu: 0, port: 0 }).arg.port;
    expectError('event_channel_op$EVTCHNOP_bind_vcpu', 'EINVAL', g(1).event_channel_op$EVTCHNOP_bind_vcpu({ port: ipi, vcpu: 1 }).result);
    const t = g(1).event_channel_op$EVTCHNOP_bind_virq({ virq: C('VIRQ_TIMER'), vcpu: 0, port: 0 }).arg.port;
    expectError('event_channel_op$EVTCHNOP_bind_vcpu', 'EINVAL', g(1).event_channel_op$EVTCHNOP_bind_vcpu({ port: t, vcpu: 1 }).result);
    expectError('event_channel_op$EVTCHNOP_bind_vcpu', 'ENOENT', g(1).event_channel_op$EVTCHNOP_bind_vcpu({ port: u, vcpu: 7 }).result);
    expectError('event_channel_op$EVTCHNOP_bind_vcpu', 'EINVAL', g(1).event_channel_op$EVTCHNOP_bind_vcpu({ port: 5000, vcpu: 0 }).result);
  });

  it('event_channel_op$EVTCHNOP_unmask: a masked pending event is delivered on unmask; EINVAL beyond the ports', () => {
    const { g, d, setBit, siBit } = setup();
    const ipi = g(1).event_channel_op$EVTCHNOP_bind_ipi({ vcpu: 0, port: 0 }).arg.port;
    setBit(1, 'evtchn_mask', ipi);
    expect(g(1).event_channel_op$EVTCHNOP_send({ port: ipi }).result).toBe(0n);
    expect(siBit(1, 'evtchn_pending', ipi)).toBe(true);
    expect(d(1).sharedInfo.upcallPending(0)).toBe(0);
    expect(g(1).event_channel_op$EVTCHNOP_unmask({ port: ipi }).result).toBe(0n);
    expect(siBit(1, 'evtchn_mask', ipi)).toBe(false);
    expect(d(1).sharedInfo.upcallPending(0)).toBe(1);
    expectError('event_channel_op$EVTCHNOP_unmask', 'EINVAL', g(1).event_channel_op$EVTCHNOP_unmask({ port: 64 }).result);
  });

  it('event_channel_op$EVTCHNOP_reset: closes every port of the caller; peers become unbound; ESRCH, EPERM, EINVAL', () => {
    const { g } = setup();
    const a = g(0).event_channel_op$EVTCHNOP_alloc_unbound({ dom: SELF, remote_dom: 1, port: 0 }).arg.port;
    const lp = g(1).event_channel_op$EVTCHNOP_bind_interdomain({ remote_dom: 0, remote_port: a, local_port: 0 }).arg.local_port;
    const ipi = g(1).event_channel_op$EVTCHNOP_bind_ipi({ vcpu: 0, port: 0 }).arg.port;
    expect(g(1).event_channel_op$EVTCHNOP_reset({ dom: SELF }).result).toBe(0n);
    for (const port of [lp, ipi]) {
      expect(g(1).event_channel_op$EVTCHNOP_status({ dom: SELF, port, ...status0 }).arg.status).toBe(C('EVTCHNSTAT_closed'));
    }
    const peer = g(0).event_channel_op$EVTCHNOP_status({ dom: 0, port: a, ...status0 });
    expect(peer.arg.status).toBe(C('EVTCHNSTAT_unbound'));
    expect(peer.arg.u.unbound?.dom).toBe(1);
    // Ports are allocated from 1 again.
    expect(g(1).event_channel_op$EVTCHNOP_bind_ipi({ vcpu: 0, port: 0 }).arg.port).toBe(1);
    expectError('event_channel_op$EVTCHNOP_reset', 'ESRCH', g(1).event_channel_op$EVTCHNOP_reset({ dom: 9 }).result);
    expectError('event_channel_op$EVTCHNOP_reset', 'EPERM', g(1).event_channel_op$EVTCHNOP_reset({ dom: 2 }).result);
    // dom0 may target domain 1, but a running (unpaused) domain cannot be reset by another.
    expectError('event_channel_op$EVTCHNOP_reset', 'EINVAL', g(0).event_channel_op$EVTCHNOP_reset({ dom: 1 }).result);
  });

  it('event_channel_op: EFAULT for an argument outside guest memory, ENOSYS for an unknown command', () => {
    const { vmm } = setup();
    const nr = BigInt(C('__HYPERVISOR_event_channel_op'));
    expectError('event_channel_op', 'EFAULT', vmm.hypercallSigned(1, 0, { rax: nr, rdi: BigInt(C('EVTCHNOP_send')), rsi: 0x7fff_0000n }));
    expectError('event_channel_op', 'ENOSYS', vmm.hypercallSigned(1, 0, { rax: nr, rdi: 99n, rsi: 0n }));
    expect(vmm.internalErrors).toEqual([]);
  });

  it('event_channel_op works the same on every ABI (x86_32-pv, arm64, arm32), with 32-bit bitmaps on x86_32', () => {
    for (const abi of ['x86_32-pv', 'arm64', 'arm32', 'x86_64-hvm']) {
      const { g, siBit } = setup(abi);
      const a = g(0).event_channel_op$EVTCHNOP_alloc_unbound({ dom: SELF, remote_dom: 1, port: 0 }).arg.port;
      const lp = g(1).event_channel_op$EVTCHNOP_bind_interdomain({ remote_dom: 0, remote_port: a, local_port: 0 }).arg.local_port;
      expect(g(1).event_channel_op$EVTCHNOP_send({ port: lp }).result).toBe(0n);
      expect(siBit(0, 'evtchn_pending', a)).toBe(true);
    }
  });
});
