/**
 * The small hypercalls of the reference VMM (xen_version's remaining commands, vm_assist,
 * physdev_op queries, callbacks, trap table, PV vCPU registers, console_io), through hypercall().
 *
 * Not exercised, because the model cannot produce them: PHYSDEVOP_get_free_pirq's ENOMEM
 * and PHYSDEVOP_pirq_eoi_gmfn_*'s ENOSPC (no allocation fails), set_debugreg's CR4.DE
 * cases (no hypercall sets the virtual CR4 in the model), vm_assist's ENOSYS (the
 * generated dispatcher answers an unknown command itself), CONSOLEIO_read's EFAULT (the
 * serial input ring is always empty, so nothing is copied out), and the EFAULT of the
 * argument-less XENNMI_unregister_callback and PHYSDEVOP_IRQ_UNMASK_NOTIFY.
 */
import { describe, expect, it } from 'vitest';
import { XenGuest } from '../../generated/xen/guest.js';
import { constantValue, LayoutEngine, xenSpec } from '../../spec/index.js';
import { expectError } from '../../test/vmm-errors.js';
import { gaddr, gfn } from '../addr.js';
import { VmmTransport } from '../transport.js';
import { ReferenceVmm } from '../vmm.js';
import { schedulerOf } from '../sched/ops.js';

const C = (n: string): number => constantValue(xenSpec, n) as number;
const S = (r: bigint): bigint => BigInt.asIntN(64, r);
const NR = (n: string) => BigInt(C(`__HYPERVISOR_${n}`));

function setup(abi = 'x86_64-pv', buildId?: string) {
  const vmm = new ReferenceVmm(
    {
      domains: [
        { id: 0, abi, memoryPages: 16, privileged: true },
        { id: 1, abi, memoryPages: 16, handle: [0xde, 0xad, 0xbe, 0xef] },
      ],
    },
    { version: { commandline: 'console=com1 dom0_mem=1G', ...(buildId ? { buildId } : {}) } },
  );
  const g = (domid: number) => new XenGuest(new VmmTransport(vmm, domid));
  const d = (id: number) => vmm.machine.domain(id)!;
  const bytes = (domid: number, at: number, n: number) => {
    const b = new Uint8Array(n);
    expect(d(domid).memory.read(gaddr(at), b)).toBe(true);
    return [...b];
  };
  return { vmm, g, d, bytes };
}

describe('reference-vmm xen_version (remaining commands)', () => {
  it('xen_version$XENVER_platform_parameters: HYPERVISOR_VIRT_START for the caller’s ABI', () => {
    expect(setup().g(1).xen_version$XENVER_platform_parameters({ virt_start: 0n } as never).arg).toEqual({ virt_start: BigInt(constantValue(xenSpec, 'HYPERVISOR_VIRT_START') as string) });
    expect(setup('x86_32-pv').g(1).xen_version$XENVER_platform_parameters({ virt_start: 0n } as never).arg).toEqual({ virt_start: BigInt(C('__HYPERVISOR_VIRT_START_PAE')) });
    const { vmm } = setup();
    expectError('xen_version$XENVER_platform_parameters', 'EFAULT', vmm.hypercallSigned(1, 0, { rax: NR('xen_version'), rdi: BigInt(C('XENVER_platform_parameters')), rsi: 0x7fff_0000n }));
  });

  it('xen_version$XENVER_extraversion, compile_info, capabilities, changeset: EFAULT when the result cannot be written', () => {
    const { vmm } = setup();
    const call = (cmd: string, at: bigint) => vmm.hypercallSigned(1, 0, { rax: NR('xen_version'), rdi: BigInt(C(cmd)), rsi: at });
    expect(call('XENVER_extraversion', 0x2000n)).toBe(0n);
    expectError('xen_version$XENVER_extraversion', 'EFAULT', call('XENVER_extraversion', 0x7fff_0000n));
    expectError('xen_version$XENVER_compile_info', 'EFAULT', call('XENVER_compile_info', 0x7fff_0000n));
    expectError('xen_version$XENVER_capabilities', 'EFAULT', call('XENVER_capabilities', 0x7fff_0000n));
    expectError('xen_version$XENVER_changeset', 'EFAULT', call('XENVER_changeset', 0x7fff_0000n));
  });

  it('xen_version$XENVER_get_features: submap 0 only (EINVAL otherwise); EFAULT for an unreadable argument', () => {
    const { vmm, g } = setup();
    expect(g(1).xen_version$XENVER_get_features({ submap_idx: 0, submap: 0 }).result).toBe(0n);
    expectError('xen_version$XENVER_get_features', 'EINVAL', S(g(1).xen_version$XENVER_get_features({ submap_idx: 1, submap: 0 }).result));
    expectError('xen_version$XENVER_get_features', 'EFAULT', vmm.hypercallSigned(1, 0, { rax: NR('xen_version'), rdi: BigInt(C('XENVER_get_features')), rsi: 0x7fff_0000n }));
  });

  it('xen_version$XENVER_pagesize: 4096 for a NULL argument, EINVAL for any other', () => {
    const { vmm, g } = setup();
    expect(g(1).xen_version$XENVER_pagesize()).toBe(4096n);
    expectError('xen_version$XENVER_pagesize', 'EINVAL', vmm.hypercallSigned(1, 0, { rax: NR('xen_version'), rdi: BigInt(C('XENVER_pagesize')), rsi: 0x2000n }));
    const x32 = setup('x86_32-pv').vmm;
    expectError('xen_version$XENVER_pagesize', 'EINVAL', BigInt.asIntN(32, x32.hypercall(1, 0, { eax: NR('xen_version'), ebx: BigInt(C('XENVER_pagesize')), ecx: 0x2000n })));
  });

  it('xen_version$XENVER_guest_handle: the domain’s handle, zero-padded', () => {
    const { g, vmm } = setup();
    const r = g(1).xen_version$XENVER_guest_handle(new Array(16).fill(7));
    expect(r.result).toBe(0n);
    expect(r.arg).toEqual([0xde, 0xad, 0xbe, 0xef, ...new Array(12).fill(0)]);
    expectError('xen_version$XENVER_guest_handle', 'EFAULT', vmm.hypercallSigned(1, 0, { rax: NR('xen_version'), rdi: BigInt(C('XENVER_guest_handle')), rsi: 0x7fff_0000n }));
  });

  it('xen_version$XENVER_commandline: the whole buffer for dom0, "<denied>" (9 bytes only) for others', () => {
    const { vmm, d, bytes } = setup();
    const call = (domid: number, at: bigint) => vmm.hypercallSigned(domid, 0, { rax: NR('xen_version'), rdi: BigInt(C('XENVER_commandline')), rsi: at });
    expect(call(0, 0x2000n)).toBe(0n);
    expect(new TextDecoder().decode(new Uint8Array(bytes(0, 0x2000, 25)))).toBe('console=com1 dom0_mem=1G\0');
    d(1).memory.write(gaddr(0x2000), new Uint8Array(16).fill(0x55));
    expect(call(1, 0x2000n)).toBe(0n);
    expect(bytes(1, 0x2000, 10)).toEqual([...new TextEncoder().encode('<denied>'), 0, 0x55]);
    expectError('xen_version$XENVER_commandline', 'EFAULT', call(1, 0x7fff_0000n));
  });

  it('xen_version$XENVER_build_id: length for NULL, bytes after len; EPERM, EINVAL, ENOBUFS, ENODATA, EFAULT', () => {
    const { vmm, bytes } = setup('x86_64-pv', 'c0ffee0102');
    const call = (domid: number, at: bigint) => vmm.hypercallSigned(domid, 0, { rax: NR('xen_version'), rdi: BigInt(C('XENVER_build_id')), rsi: at });
    const putLen = (n: number) => vmm.machine.domain(0)!.memory.write(gaddr(0x2000), new Uint8Array([n, 0, 0, 0]));
    expect(call(0, 0n)).toBe(5n);
    putLen(16);
    expect(call(0, 0x2000n)).toBe(5n);
    expect(bytes(0, 0x2004, 5)).toEqual([0xc0, 0xff, 0xee, 0x01, 0x02]);
    expectError('xen_version$XENVER_build_id', 'EPERM', call(1, 0x2000n));
    putLen(4);
    expectError('xen_version$XENVER_build_id', 'ENOBUFS', call(0, 0x2000n));
    putLen(0);
    expectError('xen_version$XENVER_build_id', 'EINVAL', call(0, 0x2000n));
    expectError('xen_version$XENVER_build_id', 'EFAULT', call(0, 0x7fff_0000n));
    expectError('xen_version$XENVER_build_id', 'ENODATA', setup().vmm.hypercallSigned(0, 0, { rax: NR('xen_version'), rdi: BigInt(C('XENVER_build_id')), rsi: 0n }));
  });
});

describe('reference-vmm vm_assist', () => {
  it('vm_assist$VMASST_CMD_enable / disable: valid types per kind of guest; EINVAL otherwise', () => {
    const pv64 = setup().g(1);
    expect(pv64.vm_assist$VMASST_CMD_enable(C('VMASST_TYPE_m2p_strict'))).toBe(0n);
    expect(pv64.vm_assist$VMASST_CMD_disable(C('VMASST_TYPE_writable_pagetables'))).toBe(0n);
    expectError('vm_assist$VMASST_CMD_enable', 'EINVAL', S(pv64.vm_assist$VMASST_CMD_enable(33)));
    expectError('vm_assist', 'EINVAL', S(pv64.vm_assist$VMASST_CMD_enable(6)));
    const pv32 = setup('x86_32-pv');
    expectError('vm_assist', 'EINVAL', BigInt.asIntN(32, pv32.g(1).vm_assist$VMASST_CMD_enable(C('VMASST_TYPE_m2p_strict'))));
    for (const abi of ['x86_64-hvm', 'arm64']) {
      const h = setup(abi).g(1);
      expect(h.vm_assist$VMASST_CMD_enable(C('VMASST_TYPE_runstate_update_flag'))).toBe(0n);
      expectError('vm_assist$VMASST_CMD_disable', 'EINVAL', S(h.vm_assist$VMASST_CMD_disable(C('VMASST_TYPE_writable_pagetables'))));
    }
  });
});

describe('reference-vmm physdev_op queries', () => {
  it('physdev_op$PHYSDEVOP_get_free_pirq, eoi, irq_status_query: PIRQs of a domain without devices', () => {
    const { g, vmm } = setup();
    const gsi = g(1).physdev_op$PHYSDEVOP_get_free_pirq({ type: C('MAP_PIRQ_TYPE_GSI'), pirq: 0 });
    expect(gsi.result).toBe(0n);
    expect(gsi.arg.pirq).toBe(16);
    const msi = g(1).physdev_op$PHYSDEVOP_get_free_pirq({ type: C('MAP_PIRQ_TYPE_MSI'), pirq: 0 });
    expect(msi.arg.pirq).toBeGreaterThan(16);
    expect(g(1).physdev_op$PHYSDEVOP_eoi({ irq: 16 }).result).toBe(0n);
    expectError('physdev_op$PHYSDEVOP_eoi', 'EINVAL', S(g(1).physdev_op$PHYSDEVOP_eoi({ irq: 17 }).result));
    expectError('physdev_op$PHYSDEVOP_eoi', 'EINVAL', S(g(1).physdev_op$PHYSDEVOP_eoi({ irq: 100000 }).result));
    const q = g(1).physdev_op$PHYSDEVOP_irq_status_query({ irq: 3, flags: 0xff });
    expect(q.result).toBe(0n);
    expect(q.arg.flags).toBe(C('XENIRQSTAT_needs_eoi'));
    expectError('physdev_op$PHYSDEVOP_irq_status_query', 'EINVAL', S(g(1).physdev_op$PHYSDEVOP_irq_status_query({ irq: 100000, flags: 0 }).result));
    expect(g(1).physdev_op$PHYSDEVOP_IRQ_UNMASK_NOTIFY()).toBe(0n);
    // Exhaust the PIRQs: ENOSPC.
    let r = 0n;
    for (let i = 0; i < 100 && r === 0n; i++) r = S(g(1).physdev_op$PHYSDEVOP_get_free_pirq({ type: C('MAP_PIRQ_TYPE_MSI'), pirq: 0 }).result);
    expectError('physdev_op$PHYSDEVOP_get_free_pirq', 'ENOSPC', r);
    const hvm = setup('x86_64-hvm').g(1);
    expectError('physdev_op$PHYSDEVOP_get_free_pirq', 'ENOSYS', S(hvm.physdev_op$PHYSDEVOP_get_free_pirq({ type: 0, pirq: 0 }).result));
    expectError('physdev_op$PHYSDEVOP_eoi', 'ENOSYS', S(hvm.physdev_op$PHYSDEVOP_eoi({ irq: 16 }).result));
    expectError('physdev_op$PHYSDEVOP_irq_status_query', 'ENOSYS', S(hvm.physdev_op$PHYSDEVOP_irq_status_query({ irq: 1, flags: 0 }).result));
    expectError('physdev_op$PHYSDEVOP_eoi', 'EFAULT', vmm.hypercallSigned(1, 0, { rax: NR('physdev_op'), rdi: BigInt(C('PHYSDEVOP_eoi')), rsi: 0x7fff_0000n }));
    expectError('physdev_op$PHYSDEVOP_get_free_pirq', 'EFAULT', vmm.hypercallSigned(1, 0, { rax: NR('physdev_op'), rdi: BigInt(C('PHYSDEVOP_get_free_pirq')), rsi: 0x7fff_0000n }));
    expectError('physdev_op$PHYSDEVOP_irq_status_query', 'EFAULT', vmm.hypercallSigned(1, 0, { rax: NR('physdev_op'), rdi: BigInt(C('PHYSDEVOP_irq_status_query')), rsi: 0x7fff_0000n }));
  });

  it('the PIRQ count follows the host: xen/common/domain.c:domain_create and xen/arch/x86/io_apic.c:arch_hwdom_irqs (RELEASE-4.17.7)', () => {
    // Highest free PIRQ = nr_pirqs - 1 (get_free_pirq searches MSI PIRQs from the top).
    const top = (hostCpus: number, dom0Vcpus: number, domid: number): bigint => {
      const vmm = new ReferenceVmm({ domains: [{ id: 0, abi: 'x86_64-pv', memoryPages: 16, privileged: true, vcpus: dom0Vcpus }, { id: 1, abi: 'x86_64-pv', memoryPages: 16 }] }, { hostCpus });
      const r = new XenGuest(new VmmTransport(vmm, domid)).physdev_op$PHYSDEVOP_get_free_pirq({ type: C('MAP_PIRQ_TYPE_MSI'), pirq: 0 });
      expect(r.result).toBe(0n);
      return BigInt(r.arg.pirq);
    };
    // One CPU (QEMU -smp 1), 24 GSIs: nr_irqs = max(1 * 208 dynamic vectors, 8 * 24) = 208; dom0 gets
    // min(24 + fls(1) * 208, nr_irqs) = 208: Xen 4.17 under QEMU hands out PIRQ 207 (0xcf) first.
    expect(top(1, 1, 0)).toBe(207n);
    // Two CPUs: nr_irqs = 416; a one-vCPU dom0 counts one CPU's vectors (232), a two-vCPU dom0 both (440, bounded by 416).
    expect(top(2, 1, 0)).toBe(231n);
    expect(top(2, 2, 0)).toBe(415n);
    // A domU: the GSIs and extra_domU_irqs (32), whatever the host.
    expect(top(1, 1, 1)).toBe(55n);
    expect(top(2, 2, 1)).toBe(55n);
    expect(() => new ReferenceVmm({ domains: [{ id: 0, abi: 'x86_64-pv', memoryPages: 16 }] }, { hostCpus: 0 })).toThrow(/hostCpus must be an integer from 1 to 256/);
  });

  it('physdev_op$PHYSDEVOP_set_iopl, set_iobitmap, pirq_eoi_gmfn: EFAULT for an unreadable struct; ENOSYS through the HVM filter and on Arm', () => {
    const { vmm } = setup();
    const pv = (op: string) => vmm.hypercallSigned(1, 0, { rax: NR('physdev_op'), rdi: BigInt(C(op)), rsi: 0x7fff_0000n });
    expectError('physdev_op$PHYSDEVOP_set_iopl', 'EFAULT', pv('PHYSDEVOP_set_iopl'));
    expectError('physdev_op$PHYSDEVOP_set_iobitmap', 'EFAULT', pv('PHYSDEVOP_set_iobitmap'));
    expectError('physdev_op$PHYSDEVOP_pirq_eoi_gmfn_v1', 'EFAULT', pv('PHYSDEVOP_pirq_eoi_gmfn_v1'));
    expectError('physdev_op$PHYSDEVOP_pirq_eoi_gmfn_v2', 'EFAULT', pv('PHYSDEVOP_pirq_eoi_gmfn_v2'));
    // hvm_physdev_op lets only PIRQ and hardware-domain PCI commands through.
    const hvm = setup('x86_64-hvm').vmm;
    const h = (op: string) => hvm.hypercallSigned(1, 0, { rax: NR('physdev_op'), rdi: BigInt(C(op)), rsi: 0x1000n });
    expectError('physdev_op$PHYSDEVOP_set_iopl', 'ENOSYS', h('PHYSDEVOP_set_iopl'));
    expectError('physdev_op$PHYSDEVOP_set_iobitmap', 'ENOSYS', h('PHYSDEVOP_set_iobitmap'));
    expectError('physdev_op$PHYSDEVOP_pirq_eoi_gmfn_v1', 'ENOSYS', h('PHYSDEVOP_pirq_eoi_gmfn_v1'));
    expectError('physdev_op$PHYSDEVOP_pirq_eoi_gmfn_v2', 'ENOSYS', h('PHYSDEVOP_pirq_eoi_gmfn_v2'));
    expectError('physdev_op$PHYSDEVOP_IRQ_UNMASK_NOTIFY', 'ENOSYS', h('PHYSDEVOP_IRQ_UNMASK_NOTIFY'));
    // Arm implements none of these.
    const arm = setup('arm64').vmm;
    expectError('physdev_op$PHYSDEVOP_set_iopl', 'ENOSYS', arm.hypercallSigned(1, 0, { x16: NR('physdev_op'), x0: BigInt(C('PHYSDEVOP_set_iopl')), x1: 0x1000n }));
  });

  it('physdev_op$PHYSDEVOP_set_iopl, set_iobitmap: EINVAL for IOPL above 3, a bad bitmap or too many ports', () => {
    const { g } = setup();
    expect(g(1).physdev_op$PHYSDEVOP_set_iopl({ iopl: 3 }).result).toBe(0n);
    expectError('physdev_op$PHYSDEVOP_set_iopl', 'EINVAL', S(g(1).physdev_op$PHYSDEVOP_set_iopl({ iopl: 4 }).result));
    expect(g(1).physdev_op$PHYSDEVOP_set_iobitmap({ bitmap: 0x2000n, nr_ports: 1024 }).result).toBe(0n);
    expectError('physdev_op$PHYSDEVOP_set_iobitmap', 'EINVAL', S(g(1).physdev_op$PHYSDEVOP_set_iobitmap({ bitmap: 0x2000n, nr_ports: 65537 }).result));
    // guest_handle_okay checks the address range only, never the mapping (xen/arch/x86/physdev.c,
    // asm/x86_64/uaccess.h __addr_ok): unmapped guest memory is accepted, Xen's range is not.
    expect(g(1).physdev_op$PHYSDEVOP_set_iobitmap({ bitmap: 0x7fff_0000n, nr_ports: 8 }).result).toBe(0n);
    expectError('physdev_op$PHYSDEVOP_set_iobitmap', 'EINVAL', S(g(1).physdev_op$PHYSDEVOP_set_iobitmap({ bitmap: 0xffff_8000_0000_0000n, nr_ports: 8 }).result));
    expectError('physdev_op$PHYSDEVOP_set_iobitmap', 'EINVAL', S(g(1).physdev_op$PHYSDEVOP_set_iobitmap({ bitmap: 1n << 47n, nr_ports: 8 }).result));
    // A 32-bit caller: the bitmap's last byte (8 KiB on) must lie below HYPERVISOR_COMPAT_VIRT_START (compat_array_access_ok).
    const g32 = setup('x86_32-pv').g;
    expect(g32(1).physdev_op$PHYSDEVOP_set_iobitmap({ bitmap: 0xf57f_e000n, nr_ports: 8 }).result).toBe(0n);
    expectError('physdev_op$PHYSDEVOP_set_iobitmap', 'EINVAL', S(g32(1).physdev_op$PHYSDEVOP_set_iobitmap({ bitmap: 0xf57f_e001n, nr_ports: 8 }).result));
  });

  it('physdev_op$PHYSDEVOP_pirq_eoi_gmfn_v2: a writable page once; EINVAL, EBUSY', () => {
    const { g, vmm, d } = setup();
    expectError('physdev_op$PHYSDEVOP_pirq_eoi_gmfn_v2', 'EINVAL', S(g(1).physdev_op$PHYSDEVOP_pirq_eoi_gmfn_v2({ gmfn: 4000n } as never).result));
    // A PV guest's gmfn is a machine frame it owns (xen/arch/x86/include/asm/p2m.h
    // get_page_from_gfn: non-translated guests see 1:1 mappings, get_page(page, d)): domain 1's
    // page 3 by its frame, not by its page number (frame 3 is dom0's).
    const own = BigInt(d(1).memory.lookup(gfn(3))!);
    expect(own).not.toBe(3n);
    expect(vmm.machine.frames.owner[3]).toBe(0);
    expectError('physdev_op$PHYSDEVOP_pirq_eoi_gmfn_v2', 'EINVAL', S(g(1).physdev_op$PHYSDEVOP_pirq_eoi_gmfn_v2({ gmfn: 3n } as never).result));
    expect(g(1).physdev_op$PHYSDEVOP_pirq_eoi_gmfn_v2({ gmfn: own } as never).result).toBe(0n);
    const own4 = BigInt(d(1).memory.lookup(gfn(4))!);
    expectError('physdev_op$PHYSDEVOP_pirq_eoi_gmfn_v2', 'EBUSY', S(g(1).physdev_op$PHYSDEVOP_pirq_eoi_gmfn_v2({ gmfn: own4 } as never).result));
    expectError('physdev_op$PHYSDEVOP_pirq_eoi_gmfn_v1', 'EBUSY', S(g(1).physdev_op$PHYSDEVOP_pirq_eoi_gmfn_v1({ gmfn: own4 } as never).result));
    expectError('physdev_op$PHYSDEVOP_pirq_eoi_gmfn_v1', 'EINVAL', S(g(0).physdev_op$PHYSDEVOP_pirq_eoi_gmfn_v1({ gmfn: 4000n } as never).result));
    expect(vmm.machine.invariants()).toEqual([]);
  });
});

describe('reference-vmm callbacks and PV registers', () => {
  it('callback_op$CALLBACKOP_register / unregister: kinds, EINVAL for non-canonical, ENOSYS for unknown types', () => {
    const { g } = setup();
    const reg = (type: number, address: bigint) => S(g(1).callback_op$CALLBACKOP_register({ type, flags: 0, address }).result);
    expect(reg(C('CALLBACKTYPE_event'), 0xffff_8800_0000_1000n)).toBe(0n);
    expect(reg(C('CALLBACKTYPE_nmi'), 0x1000n)).toBe(0n);
    expectError('callback_op$CALLBACKOP_register', 'EINVAL', reg(C('CALLBACKTYPE_event'), 0x8000_0000_0000n));
    expectError('callback_op$CALLBACKOP_register', 'ENOSYS', reg(C('CALLBACKTYPE_sysenter_deprecated'), 0x1000n));
    const un = (type: number) => S(g(1).callback_op$CALLBACKOP_unregister({ type, _unused: 0 }).result);
    expect(un(C('CALLBACKTYPE_nmi'))).toBe(0n);
    expectError('callback_op$CALLBACKOP_unregister', 'EINVAL', un(C('CALLBACKTYPE_event')));
    expectError('callback_op$CALLBACKOP_unregister', 'ENOSYS', un(6));
    // 32-bit callers have no 64-bit syscall callback.
    const x32 = setup('x86_32-pv').g(1);
    expectError('callback_op$CALLBACKOP_register', 'ENOSYS', BigInt.asIntN(32, x32.callback_op$CALLBACKOP_register({ type: C('CALLBACKTYPE_syscall'), flags: 0, address: { cs: 0x61n, eip: 0xc0001000n } }).result));
    expectError('callback_op$CALLBACKOP_unregister', 'ENOSYS', BigInt.asIntN(32, x32.callback_op$CALLBACKOP_unregister({ type: C('CALLBACKTYPE_syscall'), _unused: 0 }).result));
  });

  it('callback_op: ENOSYS for an unknown command and EFAULT for an unreadable struct (64-bit)', () => {
    const { vmm } = setup();
    expectError('callback_op', 'ENOSYS', vmm.hypercallSigned(1, 0, { rax: NR('callback_op'), rdi: 2n, rsi: 0x1000n }));
    expectError('callback_op$CALLBACKOP_register', 'EFAULT', vmm.hypercallSigned(1, 0, { rax: NR('callback_op'), rdi: BigInt(C('CALLBACKOP_register')), rsi: 0x7fff_0000n }));
    expectError('callback_op$CALLBACKOP_unregister', 'EFAULT', vmm.hypercallSigned(1, 0, { rax: NR('callback_op'), rdi: BigInt(C('CALLBACKOP_unregister')), rsi: 0x7fff_0000n }));
  });

  it('set_callbacks, nmi_op$XENNMI_register_callback: always 0 / EINVAL for a non-canonical handler', () => {
    const { g, vmm } = setup();
    expect(vmm.hypercallSigned(1, 0, { rax: NR('set_callbacks'), rdi: 0x1000n, rsi: 0x8000_0000_0000n, rdx: 0x3000n })).toBe(0n);
    expect(g(1).nmi_op$XENNMI_register_callback({ handler_address: 0x1000n, pad: 0n }).result).toBe(0n);
    expectError('nmi_op$XENNMI_register_callback', 'EINVAL', S(g(1).nmi_op$XENNMI_register_callback({ handler_address: 0x8000_0000_0000n, pad: 0n }).result));
    expect(g(1).nmi_op$XENNMI_unregister_callback()).toBe(0n);
    expectError('nmi_op', 'ENOSYS', vmm.hypercallSigned(1, 0, { rax: NR('nmi_op'), rdi: 2n }));
    expectError('nmi_op$XENNMI_register_callback', 'EFAULT', vmm.hypercallSigned(1, 0, { rax: NR('nmi_op'), rdi: 0n, rsi: 0x7fff_0000n }));
  });

  it('nmi_op$XENNMI_register_callback on vCPU 0 with a non-zero nmi_reason in shared_info makes an NMI pending (live Xen, fuzz seed 2314)', () => {
    for (const abi of ['x86_64-pv', 'x86_32-pv']) {
      const vmm = new ReferenceVmm({ domains: [{ id: 0, abi, memoryPages: 16, privileged: true }, { id: 1, abi, memoryPages: 16, vcpus: 2 }] });
      const g = (vcpu: number) => new XenGuest(new VmmTransport(vmm, 1, vcpu));
      const d1 = vmm.machine.domain(1)!;
      const sched = schedulerOf(vmm);
      const le = new LayoutEngine(xenSpec, d1.arch);
      const at = le.named('struct shared_info').fields['arch']!.offset + le.named('struct arch_shared_info').fields['nmi_reason']!.offset;
      const register = (vcpu: number) => g(vcpu).nmi_op$XENNMI_register_callback({ handler_address: 0x1000n, pad: 0n }).result;
      expect(register(0)).toBe(0n);
      expect(sched.vcpu(d1, 0).nmiPending).toBe(false);
      // The guest writes nmi_reason (a field of its own shared_info); registering again re-asserts the NMI, on vCPU 0 only.
      vmm.machine.frames.write(d1.sharedInfoFrame)[at] = 1;
      expect(register(1)).toBe(0n);
      expect(sched.vcpu(d1, 1).nmiPending).toBe(false);
      expect(register(0)).toBe(0n);
      expect(sched.vcpu(d1, 0).nmiPending).toBe(true);
      expect(vmm.internalErrors).toEqual([]);
    }
  });

  it('set_trap_table: loads entries up to the zero-address one; EINVAL for non-canonical; EFAULT; NULL clears', () => {
    const { vmm, d } = setup();
    const put = (at: number, entries: [number, bigint][]) => {
      const b = new Uint8Array(16 * entries.length);
      const v = new DataView(b.buffer);
      entries.forEach(([vec, addr], i) => {
        v.setUint8(i * 16, vec);
        v.setUint16(i * 16 + 2, 0xe033, true);
        v.setBigUint64(i * 16 + 8, addr, true);
      });
      d(1).memory.write(gaddr(at), b);
    };
    const call = (at: bigint) => vmm.hypercallSigned(1, 0, { rax: NR('set_trap_table'), rdi: at });
    put(0x2000, [[14, 0x1000n], [3, 0x2000n], [0, 0n]]);
    expect(call(0x2000n)).toBe(0n);
    put(0x2000, [[14, 0x1000n], [6, 0x8000_0000_0000n], [0, 0n]]);
    expectError('set_trap_table', 'EINVAL', call(0x2000n));
    expectError('set_trap_table', 'EFAULT', call(0x7fff_0000n));
    expect(call(0n)).toBe(0n);
  });

  it('set_segment_base: bases and the user GS selector; EINVAL; ENOSYS for 32-bit callers', () => {
    const { vmm } = setup();
    const call = (which: number, base: bigint, domid = 1, v = vmm) => v.hypercallSigned(domid, 0, { rax: NR('set_segment_base'), rdi: BigInt(which), rsi: base });
    expect(call(C('SEGBASE_FS'), 0x7f00_0000_0000n)).toBe(0n);
    expect(call(C('SEGBASE_GS_USER_SEL'), 0x2bn)).toBe(0n);
    expectError('set_segment_base', 'EINVAL', call(C('SEGBASE_GS_KERNEL'), 0x8000_0000_0000n));
    expectError('set_segment_base', 'EINVAL', call(4, 0n));
    const x32 = setup('x86_32-pv').vmm;
    expectError('set_segment_base', 'ENOSYS', BigInt.asIntN(32, x32.hypercall(1, 0, { eax: NR('set_segment_base'), ebx: 0n, ecx: 0n })));
  });

  it('set_debugreg, get_debugreg: reserved bits, EPERM, EINVAL and ENODEV as Xen 4.17 gives them', () => {
    const { vmm } = setup();
    const set = (reg: number, value: bigint) => vmm.hypercallSigned(1, 0, { rax: NR('set_debugreg'), rdi: BigInt(reg), rsi: value });
    const get = (reg: number) => vmm.hypercallSigned(1, 0, { rax: NR('get_debugreg'), rdi: BigInt(reg) });
    expect(set(0, 0x1000n)).toBe(0n);
    expect(get(0)).toBe(0x1000n);
    expectError('set_debugreg', 'EPERM', set(1, 0xffff_8000_0000_0000n));
    expect(set(6, 0n)).toBe(0n);
    expect(get(6)).toBe(0xffff0ff0n);
    expect(get(4)).toBe(0xffff0ff0n); // DR4 aliases DR6 while CR4.DE is clear
    expectError('set_debugreg', 'EINVAL', set(7, 1n << 32n));
    expectError('set_debugreg', 'EPERM', set(7, 0x2000n));
    expectError('set_debugreg', 'EPERM', set(7, 0x1n | (2n << 16n))); // I/O breakpoint without CR4.DE
    expect(set(7, 0x1n)).toBe(0n);
    expect(get(7)).toBe(0x401n);
    expectError('set_debugreg', 'ENODEV', set(8, 0n));
    expectError('get_debugreg', 'ENODEV', get(8));
    expect(vmm.hypercallSigned(1, 0, { rax: NR('fpu_taskswitch'), rdi: 1n })).toBe(0n);
    expect(vmm.hypercallSigned(1, 0, { rax: NR('stack_switch'), rdi: 0xe02bn, rsi: 0x5000n })).toBe(0n);
  });
});

describe('reference-vmm console_io', () => {
  it('console_io$CONSOLEIO_write: the control domain’s bytes reach its console; EPERM for others; EFAULT for an unreadable buffer', () => {
    const { vmm, d } = setup();
    const con = (domid: number, cmd: string, count: bigint, at: bigint) => vmm.hypercallSigned(domid, 0, { rax: NR('console_io'), rdi: BigInt(C(cmd)), rsi: count, rdx: at });
    d(0).memory.write(gaddr(0x2000), new Uint8Array([0x68, 0x69]));
    expect(con(0, 'CONSOLEIO_write', 2n, 0x2000n)).toBe(0n);
    expect(d(0).console.slice(-2)).toEqual([0x68, 0x69]);
    expectError('console_io$CONSOLEIO_write', 'EPERM', con(1, 'CONSOLEIO_write', 2n, 0x2000n));
    expect(d(1).console).toEqual([]);
    expectError('console_io$CONSOLEIO_write', 'EFAULT', con(0, 'CONSOLEIO_write', 4n, 0x7fff_0000n));
  });

  it('console_io$CONSOLEIO_read: 0 bytes (the input ring is empty); EPERM for others; E2BIG for a count above INT_MAX', () => {
    const { vmm } = setup();
    const con = (domid: number, count: bigint) => vmm.hypercallSigned(domid, 0, { rax: NR('console_io'), rdi: BigInt(C('CONSOLEIO_read')), rsi: count, rdx: 0x2000n });
    expect(con(0, 16n)).toBe(0n);
    expectError('console_io$CONSOLEIO_read', 'EPERM', con(1, 16n));
    expectError('console_io$CONSOLEIO_read', 'E2BIG', con(0, 0x8000_0000n));
  });
});
