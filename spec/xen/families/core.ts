/**
 * Core types and constants of xen.h and the arch headers: domain ids, machine words,
 * frame numbers, special domain ids, virtual IRQ numbers, VM-assist types, the reserved
 * architecture hypercall slots, the interface version, and the resources most operations use.
 *
 * Not here: MMU_*, MMUEXT_*, UVMF_* and their structs (x86_pv), SIF_*, start_info,
 * shared_info, vcpu_info, vcpu_time_info and dom0_vga_console_info (arch), CONSOLEIO_* and
 * VMASST_CMD_* (console, as command groups of console_io and vm_assist). The
 * `__HYPERVISOR_<name>` numbers are derived from the hypercalls of every family.
 *
 * @see xen/include/public/xen.h, xen/include/public/xen-compat.h,
 *      xen/include/public/arch-x86/xen.h, xen/include/public/arch-arm.h
 */
import { f, familyBuilder, inlineStruct, type FamilyModule } from '../../builders.js';

const H = 'xen/include/public/xen.h';
const b = familyBuilder('core', H);

// ───────────────────────────── constants ─────────────────────────────

const constants = [
  b.group('DOMID', 'values', 'Domain ids with a special meaning.', [
    ['DOMID_FIRST_RESERVED', 0x7ff0, 'First domain id that names no real domain.'],
    ['DOMID_SELF', 0x7ff0, 'The calling domain.'],
    ['DOMID_IO', 0x7ff1, 'Owner of I/O memory; used to map device memory.'],
    ['DOMID_XEN', 0x7ff2, 'Xen itself, owner of Xen heap pages shared with guests.'],
    ['DOMID_COW', 0x7ff3, 'Owner of shared copy-on-write pages.'],
    ['DOMID_INVALID', 0x7ff4, 'No domain.'],
    ['DOMID_IDLE', 0x7fff, 'The idle domain.'],
    ['DOMID_MASK', 0x7fff, 'Mask of the significant bits of a domain id.'],
  ], { type: 'domid_t' }),
  b.group('VIRQ', 'enum', 'Virtual IRQ numbers that EVTCHNOP_bind_virq binds to a port. Per-vCPU ones are bound on each vCPU; global ones once per domain, on any vCPU.', [
    ['VIRQ_TIMER', 0, 'Per-vCPU: the vCPU’s one-shot timer fired or system time was updated.'],
    ['VIRQ_DEBUG', 1, 'Per-vCPU: the guest is asked to dump debugging state.'],
    ['VIRQ_CONSOLE', 2, 'Global, control domain: input arrived on Xen’s emergency console.'],
    ['VIRQ_DOM_EXC', 3, 'Global, control domain: some domain hit an exceptional event (crash, shutdown, death).'],
    ['VIRQ_TBUF', 4, 'Global, control domain: the trace buffers hold records to collect.'],
    ['VIRQ_DEBUGGER', 6, 'Global, control domain: a domain paused for a debugger.'],
    ['VIRQ_XENOPROF', 7, 'Per-vCPU: a new Xenoprof sample is available.'],
    ['VIRQ_CON_RING', 8, 'Global, control domain: new output arrived in Xen’s console ring.'],
    ['VIRQ_PCPU_STATE', 9, 'Global, control domain: a physical CPU changed state (online, offline).'],
    ['VIRQ_MEM_EVENT', 10, 'Global, control domain: a memory event is waiting.'],
    ['VIRQ_ARGO', 11, 'Global: an Argo message notification.'],
    ['VIRQ_ENOMEM', 12, 'Global, control domain: Xen’s heap is running low.'],
    ['VIRQ_XENPMU', 13, 'Per-vCPU: a performance counter interrupt.'],
    ['VIRQ_ARCH_0', 16, 'First architecture-defined VIRQ (x86: VIRQ_MCA, machine-check reports for the control domain).'],
    ['VIRQ_ARCH_1', 17, 'Architecture-defined VIRQ 1.'],
    ['VIRQ_ARCH_2', 18, 'Architecture-defined VIRQ 2.'],
    ['VIRQ_ARCH_3', 19, 'Architecture-defined VIRQ 3.'],
    ['VIRQ_ARCH_4', 20, 'Architecture-defined VIRQ 4.'],
    ['VIRQ_ARCH_5', 21, 'Architecture-defined VIRQ 5.'],
    ['VIRQ_ARCH_6', 22, 'Architecture-defined VIRQ 6.'],
    ['VIRQ_ARCH_7', 23, 'Last architecture-defined VIRQ.'],
  ], { type: 'uint32_t' }),
  b.group('NR_VIRQS', 'values', 'Size of the VIRQ number space.', [
    ['NR_VIRQS', 24, 'Number of VIRQ numbers; a VIRQ must be below it.'],
  ]),
  b.group('VMASST_TYPE', 'values', 'VM-assist types: bit numbers of the per-domain assist mask that vm_assist sets and clears.', [
    ['VMASST_TYPE_4gb_segments', 0, 'x86/32 PV: emulate segments with full 4 GiB limits.'],
    ['VMASST_TYPE_4gb_segments_notify', 1, 'x86/32 PV: raise a trap (vector 15) whenever that emulation is used.'],
    ['VMASST_TYPE_writable_pagetables', 2, 'x86 PV: the guest may write its bottom-level page-table entries directly; Xen traps and validates each write.'],
    ['VMASST_TYPE_pae_extended_cr3', 3, 'x86/32 PAE PV: page-directory-pointer tables may lie above 4 GiB.'],
    ['VMASST_TYPE_architectural_iopl', 4, 'x86 PV: architectural virtual IOPL: iret updates it, exception frames report it, and the kernel counts as privilege level 0 in IOPL checks.'],
    ['VMASST_TYPE_runstate_update_flag', 5, 'Xen sets XEN_RUNSTATE_UPDATE in the guest’s mapped runstate area while it rewrites it.'],
    ['VMASST_TYPE_m2p_strict', 32, 'x86/64 PV: keep the read-only M2P table mapped only in kernel page tables, never in user ones.'],
  ], { type: 'unsigned int' }),
  b.group('__HYPERVISOR_arch', 'values', 'Hypercall numbers reserved for each architecture’s own hypercalls.', [
    ['__HYPERVISOR_arch_0', 48, 'Architecture hypercall slot 0 (x86: mca).'],
    ['__HYPERVISOR_arch_1', 49, 'Architecture hypercall slot 1 (x86: Xen-internal paging domctl continuation).'],
    ['__HYPERVISOR_arch_2', 50, 'Architecture hypercall slot 2 (unused).'],
    ['__HYPERVISOR_arch_3', 51, 'Architecture hypercall slot 3 (unused).'],
    ['__HYPERVISOR_arch_4', 52, 'Architecture hypercall slot 4 (unused).'],
    ['__HYPERVISOR_arch_5', 53, 'Architecture hypercall slot 5 (unused).'],
    ['__HYPERVISOR_arch_6', 54, 'Architecture hypercall slot 6 (unused).'],
    ['__HYPERVISOR_arch_7', 55, 'Architecture hypercall slot 7 (unused).'],
  ]),
  b.group('XEN_INTERFACE_VERSION', 'values', 'Interface version of the public headers.', [
    ['__XEN_LATEST_INTERFACE_VERSION__', 0x00040e00, 'Newest interface version the headers describe (the 4.14 interface, unchanged through 4.17). Xen and toolstack builds use it; a guest picks its version by defining __XEN_INTERFACE_VERSION__, and gets 0 when it does not.'],
  ], { ref: { header: 'xen/include/public/xen-compat.h' } }),
];

// ───────────────────────────── types ─────────────────────────────

const types = [
  b.typedef('domid_t', 'uint16_t', 'A domain id.'),
  b.typedef('xen_ulong_t', 'unsigned long', 'An unsigned machine word; 64-bit on Arm for both guest widths.', {
    overrides: { arm: { kind: 'typedef', target: { kind: 'name', name: 'uint64_t' } } },
    ref: { header: 'xen/include/public/arch-x86/xen.h' },
  }),
  b.typedef('xen_pfn_t', 'unsigned long', 'A guest or machine frame number; 64-bit on Arm.', {
    overrides: { arm: { kind: 'typedef', target: { kind: 'name', name: 'uint64_t' } } },
    ref: { header: 'xen/include/public/arch-x86/xen.h' },
  }),
  b.typedef('uint64_aligned_t', 'uint64_t', 'A 64-bit integer aligned to 8 bytes on every ABI (the toolstack view of i386).', {
    align: 8,
    probe: false,
  }),
  b.typedef('int64_aligned_t', 'int64_t', 'A signed 64-bit integer aligned to 8 bytes on every ABI (the toolstack view of i386); a macro in the headers.', {
    align: 8,
    probe: false,
  }),
  b.typedef('xen_domain_handle_t', 'uint8_t[16]', 'A domain’s 16-byte handle (a UUID the toolstack assigns).'),
  b.typedef('xen_uuid_t', inlineStruct([f('a', 'uint8_t[16]', 'The 16 bytes of the UUID, most significant first.')]),
    'A UUID, wrapped in a struct so that it can be assigned and passed by value.'),
  b.struct('xenctl_bitmap', 'A bitmap in guest memory, as the toolstack interfaces pass CPU and node masks.', [
    f('bitmap', 'handle64(uint8_t)', 'The bitmap bytes, bit 0 in the least significant bit of byte 0; (nr_bits + 7) / 8 bytes long.'),
    f('nr_bits', 'uint32_t', 'Number of valid bits in the bitmap.'),
  ], { aliases: ['xenctl_bitmap_t'] }),
];

const resources = [
  b.resource('domid', 'domid_t', 'A domain.', [
    { name: 'DOMID_SELF', doc: 'The caller.' },
    { name: 'DOMID_IO', doc: 'I/O memory owner.' },
    { name: 'DOMID_XEN', doc: 'Xen.' },
  ]),
  b.resource('vcpu_id', 'uint32_t', 'A vCPU of a domain, numbered from 0.'),
  b.resource('gfn', 'xen_pfn_t', 'A guest frame number: a page of the domain’s physical address space.'),
  b.resource('mfn', 'xen_pfn_t', 'A machine frame number: a page of host memory.'),
];

export const core: FamilyModule = {
  family: b.family('Core types and constants of the hypercall interface: domain ids, machine words, frame numbers, VIRQ numbers, VM-assist types, reserved architecture hypercall slots and the interface version.'),
  types,
  constants,
  hypercalls: [],
  resources,
};
