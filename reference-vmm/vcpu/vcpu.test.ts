/**
 * vcpu_op of the reference VMM, driven through hypercall() and guest memory.
 *
 * Not exercised, because the model cannot produce them: ENOMEM of VCPUOP_initialise and
 * VCPUOP_register_vcpu_info (the model never runs out of memory for a mapping). Not claimed:
 * the hypercall's ENOSYS (x86: not a VCPUOP_* command) on any sub-op id, which no sub-op gives.
 */
import { describe, expect, it } from 'vitest';
import { codecsByArch } from '../../generated/xen/codecs.js';
import { XenGuest } from '../../generated/xen/guest.js';
import { constantValue, LayoutEngine, xenSpec } from '../../spec/index.js';
import { expectError } from '../../test/vmm-errors.js';
import { gaddr, PAGE_SIZE } from '../addr.js';
import { PageType } from '../memory/frames.js';
import { VmmTransport } from '../transport.js';
import { ReferenceVmm } from '../vmm.js';

const C = (n: string): number => constantValue(xenSpec, n) as number;
const S = (r: bigint): bigint => BigInt.asIntN(64, r);
const S32 = (r: bigint): bigint => BigInt.asIntN(32, r);
const MS = 1_000_000n;
const rs0 = { state: 0, state_entry_time: 0n, time: [0n, 0n, 0n, 0n] };

function setup(abi = 'x86_64-pv', vcpus = 3) {
  const vmm = new ReferenceVmm({
    domains: [
      { id: 0, abi, memoryPages: 16, privileged: true, vcpus: 2 },
      { id: 1, abi, memoryPages: 16, vcpus },
    ],
  });
  const g = (domid: number, vcpu = 0) => new XenGuest(new VmmTransport(vmm, domid, vcpu));
  const d = (id: number) => vmm.machine.domain(id)!;
  const nr = BigInt(C('__HYPERVISOR_vcpu_op'));
  const raw = (domid: number, cmd: string, vcpuid: number, arg: bigint) =>
    vmm.hypercallSigned(domid, 0, { rax: nr, rdi: BigInt(C(cmd)), rsi: BigInt(vcpuid), rdx: arg });
  /** Writes a vcpu_guest_context (CR3 naming guest frame `cr3Frame`) at guest address `at`. */
  const putContext = (at: number, cr3Frame: number) => {
    const codec = codecsByArch.x86_64.VcpuGuestContext;
    const bytes = new Uint8Array(codec.size);
    const off = new LayoutEngine(xenSpec, d(1).arch).named('struct vcpu_guest_context').fields['ctrlreg']!.offset;
    new DataView(bytes.buffer).setBigUint64(off + 3 * 8, BigInt(cr3Frame) << 12n, true);
    expect(d(1).memory.write(gaddr(at), bytes)).toBe(true);
  };
  return { vmm, g, d, raw, putContext };
}

describe('reference-vmm vcpu_op', () => {
  it('vcpu_op$VCPUOP_initialise, up, is_up, down: the life cycle of a secondary vCPU', () => {
    const { vmm, g, d, raw, putContext } = setup();
    expect(g(1).vcpu_op$VCPUOP_is_up(1)).toBe(0n);
    expectError('vcpu_op$VCPUOP_up', 'EINVAL', S(g(1).vcpu_op$VCPUOP_up(1)));
    putContext(0x2000, 3);
    expect(raw(1, 'VCPUOP_initialise', 1, 0x2000n)).toBe(0n);
    expectError('vcpu_op$VCPUOP_initialise', 'EEXIST', raw(1, 'VCPUOP_initialise', 1, 0x2000n));
    expect(g(1).vcpu_op$VCPUOP_up(1)).toBe(0n);
    expect(g(1).vcpu_op$VCPUOP_is_up(1)).toBe(1n);
    vmm.machine.advance(4n * MS);
    expect(g(1).vcpu_op$VCPUOP_down(1)).toBe(0n);
    expect(g(1).vcpu_op$VCPUOP_is_up(1)).toBe(0n);
    const r = g(1).vcpu_op$VCPUOP_get_runstate_info(1, rs0).arg;
    expect(r.state).toBe(C('RUNSTATE_offline'));
    expect(r.time[C('RUNSTATE_running')]).toBe(4n * MS);
    expect(d(1).shutDown).toBe(false);
    // The last vCPU up going down powers the domain off instead.
    expect(g(1).vcpu_op$VCPUOP_down(0)).toBe(0n);
    expect(d(1).shutDown).toBe(true);
    expect(d(1).shutdownCode).toBe(C('SHUTDOWN_poweroff'));
  });

  it('vcpu_op$VCPUOP_initialise: EFAULT, EINVAL for a bad context and for a vCPU without vcpu_info', () => {
    const { raw, putContext } = setup('x86_64-pv', 34);
    expectError('vcpu_op$VCPUOP_initialise', 'EFAULT', raw(1, 'VCPUOP_initialise', 1, 0x7fff_0000n));
    putContext(0x2000, 4000); // CR3 names no frame of the domain
    expectError('vcpu_op$VCPUOP_initialise', 'EINVAL', raw(1, 'VCPUOP_initialise', 1, 0x2000n));
    putContext(0x2000, 3);
    expectError('vcpu_op$VCPUOP_initialise', 'EINVAL', raw(1, 'VCPUOP_initialise', 33, 0x2000n));
  });

  it('vcpu_op: ENOENT for a vCPU the domain does not have, before the command', () => {
    const { g, raw } = setup();
    expectError('vcpu_op$VCPUOP_initialise', 'ENOENT', raw(1, 'VCPUOP_initialise', 3, 0x1000n));
    expectError('vcpu_op$VCPUOP_up', 'ENOENT', raw(1, 'VCPUOP_up', 3, 0x1000n));
    expectError('vcpu_op$VCPUOP_down', 'ENOENT', raw(1, 'VCPUOP_down', 3, 0x1000n));
    expectError('vcpu_op$VCPUOP_is_up', 'ENOENT', raw(1, 'VCPUOP_is_up', 3, 0x1000n));
    expectError('vcpu_op$VCPUOP_get_runstate_info', 'ENOENT', raw(1, 'VCPUOP_get_runstate_info', 3, 0x1000n));
    expectError('vcpu_op$VCPUOP_register_runstate_memory_area', 'ENOENT', raw(1, 'VCPUOP_register_runstate_memory_area', 3, 0x1000n));
    expectError('vcpu_op$VCPUOP_set_periodic_timer', 'ENOENT', raw(1, 'VCPUOP_set_periodic_timer', 3, 0x1000n));
    expectError('vcpu_op$VCPUOP_stop_periodic_timer', 'ENOENT', raw(1, 'VCPUOP_stop_periodic_timer', 3, 0x1000n));
    expectError('vcpu_op$VCPUOP_set_singleshot_timer', 'ENOENT', raw(1, 'VCPUOP_set_singleshot_timer', 3, 0x1000n));
    expectError('vcpu_op$VCPUOP_stop_singleshot_timer', 'ENOENT', raw(1, 'VCPUOP_stop_singleshot_timer', 3, 0x1000n));
    expectError('vcpu_op$VCPUOP_register_vcpu_info', 'ENOENT', raw(1, 'VCPUOP_register_vcpu_info', 3, 0x1000n));
    expectError('vcpu_op$VCPUOP_send_nmi', 'ENOENT', raw(1, 'VCPUOP_send_nmi', 3, 0x1000n));
    expectError('vcpu_op$VCPUOP_get_physid', 'ENOENT', raw(1, 'VCPUOP_get_physid', 3, 0x1000n));
    expectError('vcpu_op$VCPUOP_register_vcpu_time_memory_area', 'ENOENT', raw(1, 'VCPUOP_register_vcpu_time_memory_area', 3, 0x1000n));
    expectError('vcpu_op$VCPUOP_is_up', 'ENOENT', S(g(1).vcpu_op$VCPUOP_is_up(3)));
    expectError('vcpu_op$VCPUOP_up', 'ENOENT', S(g(1).vcpu_op$VCPUOP_up(3)));
    expectError('vcpu_op$VCPUOP_down', 'ENOENT', S(g(1).vcpu_op$VCPUOP_down(3)));
    expectError('vcpu_op$VCPUOP_send_nmi', 'ENOENT', raw(1, 'VCPUOP_send_nmi', 7, 0n));
    expectError('vcpu_op$VCPUOP_get_runstate_info', 'ENOENT', raw(1, 'VCPUOP_get_runstate_info', 7, 0x1000n));
    expectError('vcpu_op$VCPUOP_register_vcpu_info', 'ENOENT', raw(1, 'VCPUOP_register_vcpu_info', 7, 0x1000n));
  });

  it('vcpu_op$VCPUOP_down: Arm answers every command but register_vcpu_info and register_runstate_memory_area with EINVAL, after the vCPU check', () => {
    const { vmm } = setup('arm64');
    const arm = (cmd: string, vcpuid: number) =>
      vmm.hypercallSigned(1, 0, { x16: BigInt(C('__HYPERVISOR_vcpu_op')), x0: BigInt(C(cmd)), x1: BigInt(vcpuid), x2: 0x1000n });
    expectError('vcpu_op$VCPUOP_down', 'EINVAL', arm('VCPUOP_down', 0));
    expectError('vcpu_op$VCPUOP_is_up', 'EINVAL', arm('VCPUOP_is_up', 0));
    expectError('vcpu_op$VCPUOP_get_runstate_info', 'EINVAL', arm('VCPUOP_get_runstate_info', 0));
    expectError('vcpu_op$VCPUOP_stop_periodic_timer', 'EINVAL', arm('VCPUOP_stop_periodic_timer', 0));
    expectError('vcpu_op$VCPUOP_register_vcpu_time_memory_area', 'EINVAL', arm('VCPUOP_register_vcpu_time_memory_area', 0));
    expectError('vcpu_op$VCPUOP_down', 'ENOENT', arm('VCPUOP_down', 7));
    expect(vmm.machine.domain(1)!.vcpus[0]!.online).toBe(true);
    expect(arm('VCPUOP_register_runstate_memory_area', 0)).toBe(0n);
  });

  it('vcpu_op: ENOSYS for an unknown command', () => {
    const { vmm } = setup();
    expectError('vcpu_op', 'ENOSYS', vmm.hypercallSigned(1, 0, { rax: BigInt(C('__HYPERVISOR_vcpu_op')), rdi: 99n, rsi: 0n }));
  });

  it('vcpu_op$VCPUOP_get_runstate_info: times per state sum to system time; EFAULT', () => {
    const { vmm, g, raw } = setup();
    vmm.machine.advance(7n * MS);
    const r = g(1).vcpu_op$VCPUOP_get_runstate_info(0, rs0).arg;
    expect(r.state).toBe(C('RUNSTATE_running'));
    expect(r.time.reduce((a, b) => a + b, 0n)).toBe(7n * MS);
    expectError('vcpu_op$VCPUOP_get_runstate_info', 'EFAULT', raw(1, 'VCPUOP_get_runstate_info', 0, 0x7fff_0000n));
  });

  it('vcpu_op$VCPUOP_register_runstate_memory_area: filled at once and on every change; EFAULT', () => {
    const { vmm, g, d, raw } = setup();
    expect(g(1).vcpu_op$VCPUOP_register_runstate_memory_area(0, { addr: { p: 0x3000n } }).result).toBe(0n);
    const codec = codecsByArch.x86_64.VcpuRunstateInfo;
    const read = () => {
      const b = new Uint8Array(codec.size);
      expect(d(1).memory.read(gaddr(0x3000), b)).toBe(true);
      return codec.decode(new DataView(b.buffer), 0);
    };
    expect(read().state).toBe(C('RUNSTATE_running'));
    vmm.machine.advance(2n * MS);
    g(1).sched_op$SCHEDOP_block();
    expect(read()).toMatchObject({ state: C('RUNSTATE_blocked'), state_entry_time: 2n * MS });
    expectError('vcpu_op$VCPUOP_register_runstate_memory_area', 'EFAULT', raw(1, 'VCPUOP_register_runstate_memory_area', 0, 0x7fff_0000n));
    // guest_handle_okay checks the address range, not the mapping (xen/common/domain.c do_vcpu_op at RELEASE-4.17.7:
    // the __copy_to_guest result is ignored): an unmapped area below 2^47 is registered; one in Xen's range is -EFAULT.
    expect(g(1).vcpu_op$VCPUOP_register_runstate_memory_area(0, { addr: { p: 0x7fff_0000n } }).result).toBe(0n);
    expectError('vcpu_op$VCPUOP_register_runstate_memory_area', 'EFAULT', S(g(1).vcpu_op$VCPUOP_register_runstate_memory_area(0, { addr: { p: 0xffff_8000_0000_0000n } }).result));
    expect(g(1).vcpu_op$VCPUOP_register_runstate_memory_area(0, { addr: { p: 0xffff_8800_0000_0000n } }).result).toBe(0n);
    // Updates into the unmapped area fault silently.
    vmm.machine.advance(MS);
    g(1).sched_op$SCHEDOP_yield();
  });

  it('vcpu_op$VCPUOP_register_runstate_memory_area, register_vcpu_time_memory_area: a 32-bit caller’s area ends below HYPERVISOR_COMPAT_VIRT_START (xen/arch/x86/x86_64/domain.c compat_vcpu_op)', () => {
    const { g } = setup('x86_32-pv');
    expect(g(1).vcpu_op$VCPUOP_register_runstate_memory_area(0, { addr: { p: 0x7fff_0000n } }).result).toBe(0n);
    expectError('vcpu_op$VCPUOP_register_runstate_memory_area', 'EFAULT', S32(g(1).vcpu_op$VCPUOP_register_runstate_memory_area(0, { addr: { p: 0xf57f_fff0n } }).result));
    expect(g(1).vcpu_op$VCPUOP_register_vcpu_time_memory_area(0, { addr: { p: 0xf57f_ffe0n } }).result).toBe(0n);
    expectError('vcpu_op$VCPUOP_register_vcpu_time_memory_area', 'EFAULT', S32(g(1).vcpu_op$VCPUOP_register_vcpu_time_memory_area(0, { addr: { p: 0xf57f_ffe1n } }).result));
  });

  it('vcpu_op$VCPUOP_set_periodic_timer: VIRQ_TIMER every period; EINVAL below 1 ms and above 2^62-1 ns; stop', () => {
    const { vmm, g, d, raw } = setup('x86_64-hvm');
    const port = g(1).event_channel_op$EVTCHNOP_bind_virq({ virq: C('VIRQ_TIMER'), vcpu: 0, port: 0 }).arg.port;
    expectError('vcpu_op$VCPUOP_set_periodic_timer', 'EINVAL', S(g(1).vcpu_op$VCPUOP_set_periodic_timer(0, { period_ns: MS - 1n }).result));
    expectError('vcpu_op$VCPUOP_set_periodic_timer', 'EINVAL', S(g(1).vcpu_op$VCPUOP_set_periodic_timer(0, { period_ns: 1n << 62n }).result));
    expectError('vcpu_op$VCPUOP_set_periodic_timer', 'EFAULT', raw(1, 'VCPUOP_set_periodic_timer', 0, 0x7fff_0000n));
    expect(g(1).vcpu_op$VCPUOP_set_periodic_timer(0, { period_ns: 2n * MS }).result).toBe(0n);
    d(1).sharedInfo.clearPending(port); // the first period was already overdue (periodic_last_event 0)
    vmm.machine.advance(2n * MS);
    expect(d(1).sharedInfo.isPending(port)).toBe(true);
    d(1).sharedInfo.clearPending(port);
    expect(g(1).vcpu_op$VCPUOP_stop_periodic_timer(0)).toBe(0n);
    vmm.machine.advance(10n * MS);
    expect(d(1).sharedInfo.isPending(port)).toBe(false);
  });

  it('vcpu_op$VCPUOP_set_singleshot_timer: fires at the deadline, at once when past; EINVAL for another vCPU', () => {
    const { vmm, g, d, raw } = setup('x86_64-hvm');
    const port = g(1).event_channel_op$EVTCHNOP_bind_virq({ virq: C('VIRQ_TIMER'), vcpu: 0, port: 0 }).arg.port;
    expectError('vcpu_op$VCPUOP_set_singleshot_timer', 'EINVAL', S(g(1).vcpu_op$VCPUOP_set_singleshot_timer(1, { timeout_abs_ns: 1n, flags: 0 }).result));
    expectError('vcpu_op$VCPUOP_stop_singleshot_timer', 'EINVAL', S(g(1).vcpu_op$VCPUOP_stop_singleshot_timer(1)));
    expectError('vcpu_op$VCPUOP_set_singleshot_timer', 'EFAULT', raw(1, 'VCPUOP_set_singleshot_timer', 0, 0x7fff_0000n));
    expect(g(1).vcpu_op$VCPUOP_set_singleshot_timer(0, { timeout_abs_ns: 3n * MS, flags: 0 }).result).toBe(0n);
    vmm.machine.advance(3n * MS);
    expect(d(1).sharedInfo.isPending(port)).toBe(true);
    d(1).sharedInfo.clearPending(port);
    expect(g(1).vcpu_op$VCPUOP_set_singleshot_timer(0, { timeout_abs_ns: 1n, flags: C('VCPU_SSHOTTMR_future') }).result).toBe(0n);
    expect(d(1).sharedInfo.isPending(port)).toBe(true);
    d(1).sharedInfo.clearPending(port);
    g(1).vcpu_op$VCPUOP_set_singleshot_timer(0, { timeout_abs_ns: vmm.machine.now + MS, flags: 0 });
    expect(g(1).vcpu_op$VCPUOP_stop_singleshot_timer(0)).toBe(0n);
    vmm.machine.advance(5n * MS);
    expect(d(1).sharedInfo.isPending(port)).toBe(false);
  });

  it('vcpu_op$VCPUOP_register_vcpu_info: moves vcpu_info, copies it, marks all pending; event delivery writes there', () => {
    const { vmm, g, d } = setup();
    // A PV guest names the page by its machine frame (get_page_from_gfn: non-translated guests see 1:1 mappings).
    const m = d(1).memory.lookup(5 as never)!;
    const info = { mfn: BigInt(m), offset: 64, rsvd: 0 };
    expect(g(1).vcpu_op$VCPUOP_register_vcpu_info(0, info).result).toBe(0n);
    expect(d(1).sharedInfo.vcpuInfoLocation(0)).toEqual({ frame: m, offset: 64 });
    expect(d(1).sharedInfo.upcallPending(0)).toBe(1);
    expect(d(1).sharedInfo.upcallMask(0)).toBe(1); // copied from the legacy slot
    const sel = new Uint8Array(8);
    const lay = d(1).sharedInfo.layout;
    d(1).memory.read(gaddr(5 * PAGE_SIZE + 64 + lay.pendingSel), sel);
    expect([...sel]).toEqual(new Array(8).fill(0xff));
    // Xen holds a writable type reference on the page while it is the vcpu_info.
    expect(vmm.machine.frames.type[m]).toBe(PageType.Writable);
    expect(vmm.machine.frames.typeCount[m]).toBe(1);
    // Delivery now lands in the registered area: clear it and send an IPI.
    d(1).memory.write(gaddr(5 * PAGE_SIZE + 64 + lay.upcallPending), new Uint8Array([0]));
    d(1).memory.write(gaddr(5 * PAGE_SIZE + 64 + lay.pendingSel), new Uint8Array(8));
    const ipi = g(1).event_channel_op$EVTCHNOP_bind_ipi({ vcpu: 0, port: 0 }).arg.port;
    g(1).event_channel_op$EVTCHNOP_send({ port: ipi });
    expect(d(1).sharedInfo.upcallPending(0)).toBe(1);
    const legacy = new Uint8Array(1);
    d(1).memory.read(gaddr(d(1).sharedInfoGfn * PAGE_SIZE + lay.vcpuInfo + lay.upcallPending), legacy);
    expect(legacy[0]).toBe(0);
  });

  it('vcpu_op$VCPUOP_register_vcpu_info: ENXIO, EINVAL and EFAULT in Xen’s order', () => {
    const { vmm, g, raw } = setup();
    // Domain 1's page p by its machine frame, as a PV guest names it (xen/common/domain.c map_vcpu_info: get_page_from_gfn).
    const fr = (p: number) => BigInt(vmm.machine.frameOf(1, p as never)!);
    const reg = (vcpu: number, page: bigint, offset: number) => S(g(1).vcpu_op$VCPUOP_register_vcpu_info(vcpu, { mfn: page < 16n ? fr(Number(page)) : page, offset, rsvd: 0 }).result);
    // A frame that is not the domain's: its page number (frame 5 is dom0's), or no frame at all.
    expect(fr(5)).not.toBe(5n);
    expectError('vcpu_op$VCPUOP_register_vcpu_info', 'EINVAL', S(g(1).vcpu_op$VCPUOP_register_vcpu_info(0, { mfn: 5n, offset: 0, rsvd: 0 }).result));
    expectError('vcpu_op$VCPUOP_register_vcpu_info', 'ENXIO', reg(0, 5n, PAGE_SIZE - 8));
    expectError('vcpu_op$VCPUOP_register_vcpu_info', 'ENXIO', reg(0, 5n, 2));
    expectError('vcpu_op$VCPUOP_register_vcpu_info', 'ENXIO', reg(0, 5n, 4)); // 64-bit layout needs 8
    expectError('vcpu_op$VCPUOP_register_vcpu_info', 'EINVAL', reg(0, 4000n, 0));
    // A frame in use as a page table (pinned as an L1 by the guest) cannot be a vcpu_info.
    const op = codecsByArch.x86_64.MmuextOp;
    const buf = new Uint8Array(op.size);
    op.encode(new DataView(buf.buffer), 0, { cmd: C('MMUEXT_PIN_L1_TABLE'), arg1: { mfn: BigInt(vmm.machine.frameOf(1, 6 as never)!) }, arg2: { nr_ents: 0 } } as never);
    vmm.machine.domain(1)!.memory.write(gaddr(0x1000), buf);
    expect(vmm.hypercallSigned(1, 0, { rax: BigInt(C('__HYPERVISOR_mmuext_op')), rdi: 0x1000n, rsi: 1n, rdx: 0n, r10: BigInt(C('DOMID_SELF')) })).toBe(0n);
    expectError('vcpu_op$VCPUOP_register_vcpu_info', 'EINVAL', reg(0, 6n, 0));
    expect(reg(0, 5n, 0)).toBe(0n);
    expectError('vcpu_op$VCPUOP_register_vcpu_info', 'EINVAL', reg(0, 7n, 0)); // already registered
    const v2 = g(1, 2);
    // vCPU 1 is down: vCPU 2 may register for it. A running other vCPU may not be targeted.
    expect(S(v2.vcpu_op$VCPUOP_register_vcpu_info(1, { mfn: fr(7), offset: 0, rsvd: 0 }).result)).toBe(0n);
    vmm.machine.domain(1)!.vcpus[2]!.online = true;
    expectError('vcpu_op$VCPUOP_register_vcpu_info', 'EINVAL', S(g(1).vcpu_op$VCPUOP_register_vcpu_info(2, { mfn: fr(8), offset: 0, rsvd: 0 }).result));
    expectError('vcpu_op$VCPUOP_register_vcpu_info', 'EFAULT', raw(1, 'VCPUOP_register_vcpu_info', 0, 0x7fff_0000n));
    // A 32-bit guest may use 4-byte alignment.
    const x32 = setup('x86_32-pv');
    expect(x32.g(1).vcpu_op$VCPUOP_register_vcpu_info(0, { mfn: BigInt(x32.vmm.machine.frameOf(1, 5 as never)!), offset: 4, rsvd: 0 }).result).toBe(0n);
    expect(vmm.machine.invariants()).toEqual([]);
  });

  it('vcpu_op$VCPUOP_send_nmi: 0 with a NULL argument, EINVAL otherwise', () => {
    const { raw } = setup();
    expect(raw(1, 'VCPUOP_send_nmi', 0, 0n)).toBe(0n);
    expectError('vcpu_op$VCPUOP_send_nmi', 'EINVAL', raw(1, 'VCPUOP_send_nmi', 0, 0x1000n));
  });

  it('vcpu_op$VCPUOP_get_physid: only for a pinned hardware-domain vCPU; EINVAL, EFAULT', () => {
    const { g, raw } = setup();
    expectError('vcpu_op$VCPUOP_get_physid', 'EINVAL', S(g(1).vcpu_op$VCPUOP_get_physid(0, { phys_id: 0n }).result));
    expectError('vcpu_op$VCPUOP_get_physid', 'EINVAL', S(g(0).vcpu_op$VCPUOP_get_physid(0, { phys_id: 0n }).result));
    expect(g(0).sched_op$SCHEDOP_pin_override({ pcpu: 1 }).result).toBe(0n);
    const r = g(0, 1).vcpu_op$VCPUOP_get_physid(0, { phys_id: 7n });
    expect(r.result).toBe(0n);
    expect(r.arg.phys_id).toBe(0n);
    expectError('vcpu_op$VCPUOP_get_physid', 'EFAULT', raw(0, 'VCPUOP_get_physid', 0, 0x7fff_0000n));
  });

  it('vcpu_op$VCPUOP_register_vcpu_time_memory_area: 0 for an area in the guest’s range (mapped or not: xen/arch/x86/domain.c), EFAULT in Xen’s range or for an unreadable struct', () => {
    const { g, raw } = setup();
    expect(g(1).vcpu_op$VCPUOP_register_vcpu_time_memory_area(0, { addr: { p: 0x3000n } }).result).toBe(0n);
    expect(g(1).vcpu_op$VCPUOP_register_vcpu_time_memory_area(0, { addr: { p: 0x7fff_0000n } }).result).toBe(0n);
    expectError('vcpu_op$VCPUOP_register_vcpu_time_memory_area', 'EFAULT', S(g(1).vcpu_op$VCPUOP_register_vcpu_time_memory_area(0, { addr: { p: 0xffff_8000_0000_1000n } }).result));
    expectError('vcpu_op$VCPUOP_register_vcpu_time_memory_area', 'EFAULT', raw(1, 'VCPUOP_register_vcpu_time_memory_area', 0, 0x7fff_0000n));
  });
});
