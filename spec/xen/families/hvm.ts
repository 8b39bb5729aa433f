/**
 * HVM operations: the hypercall hvm_op (34), its structures, the altp2m sub-interface and
 * the HVM parameter space of HVMOP_set_param / HVMOP_get_param.
 *
 * @see xen/include/public/hvm/hvm_op.h, xen/include/public/hvm/params.h
 * @see xen/arch/x86/hvm/hvm.c:do_hvm_op, xen/arch/arm/hvm.c:do_hvm_op (RELEASE-4.17.7)
 */
import { ALL_ABIS } from '../abis.js';
import { arg, err, f, familyBuilder, inlineUnion, use, when, type FamilyModule } from '../../builders.js';

const H = 'xen/include/public/hvm/hvm_op.h';
const P = 'xen/include/public/hvm/params.h';
const C = 'xen/arch/x86/hvm/hvm.c';
const A = 'xen/arch/arm/hvm.c';
const b = familyBuilder('hvm', H);

/** Commands only x86 handles (the header defines most of them on Arm too). */
const X86 = ['x86'];
const deprecatedParam = { tools: true, deprecated: 'Deprecated: its meaning is undefined; Xen rejects it with EINVAL.' };

// ───────────────────────────── constants ─────────────────────────────

const constants = [
  b.group('HVMMEM', 'enum', 'Memory types HVMOP_get_mem_type reports for a guest frame.', [
    ['HVMMEM_ram_rw', 0, 'Ordinary read/write RAM.'],
    ['HVMMEM_ram_ro', 1, 'Read-only RAM: writes are dropped.'],
    ['HVMMEM_mmio_dm', 2, 'Emulated MMIO: reads and writes go to the device model.'],
    ['HVMMEM_unused', 3, 'Placeholder for a retired type; setting it fails.'],
    ['HVMMEM_ioreq_server', 4, 'RAM claimed by an ioreq server, which receives the writes.'],
  ], { type: 'hvmmem_type_t' }),
  b.group('HVM_IOREQSRV_BUFIOREQ', 'enum', 'Buffered-ioreq modes of an ioreq server (toolstack view, kept for compatibility).', [
    ['HVM_IOREQSRV_BUFIOREQ_OFF', 0, 'No buffered ioreq ring.', { tools: true }],
    ['HVM_IOREQSRV_BUFIOREQ_LEGACY', 1, 'Buffered ring whose pointers are updated non-atomically.', { tools: true }],
    ['HVM_IOREQSRV_BUFIOREQ_ATOMIC', 2, 'Buffered ring whose read and write pointers are read and updated atomically.', { tools: true }],
  ]),
  b.group('HVMOP_ALTP2M_INTERFACE', 'values', 'Version of the altp2m argument layout.', [
    ['HVMOP_ALTP2M_INTERFACE_VERSION', 0x00000001, 'Value the version field of xen_hvm_altp2m_op must hold.'],
  ], { type: 'uint32_t' }),
  b.group('HVMOP_altp2m', 'values', 'Commands of HVMOP_altp2m, carried in the cmd field of xen_hvm_altp2m_op.', [
    ['HVMOP_altp2m_get_domain_state', 1, 'Reports whether altp2m is active for the domain (u.domain_state).'],
    ['HVMOP_altp2m_set_domain_state', 2, 'Turns altp2m on or off for the domain (u.domain_state).'],
    ['HVMOP_altp2m_vcpu_enable_notify', 3, 'Enables #VE notification for a vCPU, with the gfn of its info page (u.enable_notify).'],
    ['HVMOP_altp2m_create_p2m', 4, 'Creates a view with a default access; returns its index (u.view).'],
    ['HVMOP_altp2m_destroy_p2m', 5, 'Destroys a view (u.view).'],
    ['HVMOP_altp2m_switch_p2m', 6, 'Switches every vCPU of the domain to a view (u.view).'],
    ['HVMOP_altp2m_set_mem_access', 7, 'Sets the access of one page in a view (u.mem_access).'],
    ['HVMOP_altp2m_change_gfn', 8, 'Remaps a gfn in a view to the frame of another gfn, or reverts it (u.change_gfn).'],
    ['HVMOP_altp2m_set_mem_access_multi', 9, 'Sets the access of a list of pages in a view (u.set_mem_access_multi).'],
    ['HVMOP_altp2m_set_suppress_ve', 10, 'Sets the suppress-#VE bit of a page in a view (u.suppress_ve).'],
    ['HVMOP_altp2m_get_suppress_ve', 11, 'Reads the suppress-#VE bit of a page in a view (u.suppress_ve).'],
    ['HVMOP_altp2m_get_mem_access', 12, 'Reads the access of one page in a view (u.mem_access).'],
    ['HVMOP_altp2m_vcpu_disable_notify', 13, 'Disables #VE notification for a vCPU (u.disable_notify).'],
    ['HVMOP_altp2m_get_p2m_idx', 14, 'Reports the view a vCPU currently uses (u.get_vcpu_p2m_idx).'],
    ['HVMOP_altp2m_set_suppress_ve_multi', 15, 'Sets the suppress-#VE bit over a gfn range in a view (u.suppress_ve_multi).'],
    ['HVMOP_altp2m_set_visibility', 16, 'Makes a view selectable, or not, by the guest’s VMFUNC (u.set_visibility).'],
  ], { type: 'uint32_t' }),

  // params.h
  b.group('HVM_PARAM', 'values', 'Indexes of the HVM parameter space read and written with HVMOP_get_param and HVMOP_set_param.', [
    ['HVM_PARAM_CALLBACK_IRQ', 0, 'How event-channel upcalls for vCPU 0 are delivered: type in bits 63:56 (HVM_PARAM_CALLBACK_TYPE_*), 0 disables.'],
    ['HVM_PARAM_STORE_PFN', 1, 'Guest frame of the xenstore ring.'],
    ['HVM_PARAM_STORE_EVTCHN', 2, 'Event channel port of the xenstore ring.'],
    ['HVM_PARAM_PAE_ENABLED', 4, 'Retired (PAE switch).', deprecatedParam],
    ['HVM_PARAM_IOREQ_PFN', 5, 'Guest frame of the synchronous ioreq page of the default ioreq server.'],
    ['HVM_PARAM_BUFIOREQ_PFN', 6, 'Guest frame of the buffered ioreq page of the default ioreq server.'],
    ['HVM_PARAM_VIRIDIAN', 9, 'Mask of Hyper-V (Viridian) enlightenments to expose (HVMPV_*); settable once.', { arches: ['x86'] }],
    ['HVM_PARAM_TIMER_MODE', 10, 'Virtual timer mode for missed ticks (HVMPTM_*).'],
    ['HVM_PARAM_HPET_ENABLED', 11, 'Boolean: emulate an HPET.'],
    ['HVM_PARAM_IDENT_PT', 12, 'Guest physical address of the identity-map page table Intel EPT needs while paging is off.'],
    ['HVM_PARAM_DM_DOMAIN', 13, 'Retired (device-model domain).', deprecatedParam],
    ['HVM_PARAM_ACPI_S_STATE', 14, 'ACPI sleep state: 0 (S0, running) or 3 (S3, suspended to RAM).'],
    ['HVM_PARAM_VM86_TSS', 15, 'Guest physical address of the TSS Intel VT-x uses while protected mode is off (128-byte size assumed).'],
    ['HVM_PARAM_VPT_ALIGN', 16, 'Boolean: align periodic virtual timers to reduce interrupts.'],
    ['HVM_PARAM_CONSOLE_PFN', 17, 'Guest frame of the PV console ring.'],
    ['HVM_PARAM_CONSOLE_EVTCHN', 18, 'Event channel port of the PV console ring.'],
    ['HVM_PARAM_ACPI_IOPORTS_LOCATION', 19, 'Which I/O ports the emulated ACPI PM1a and timer blocks use: 0 old, 1 new (QEMU) layout.'],
    ['HVM_PARAM_MEMORY_EVENT_CR0', 20, 'Retired (CR0 write events).', deprecatedParam],
    ['HVM_PARAM_MEMORY_EVENT_CR3', 21, 'Retired (CR3 write events).', deprecatedParam],
    ['HVM_PARAM_MEMORY_EVENT_CR4', 22, 'Retired (CR4 write events).', deprecatedParam],
    ['HVM_PARAM_MEMORY_EVENT_INT3', 23, 'Retired (INT3 events).', deprecatedParam],
    ['HVM_PARAM_NESTEDHVM', 24, 'Retired (nested HVM switch).', deprecatedParam],
    ['HVM_PARAM_MEMORY_EVENT_SINGLE_STEP', 25, 'Retired (single-step events).', deprecatedParam],
    ['HVM_PARAM_BUFIOREQ_EVTCHN', 26, 'Retired (buffered ioreq event channel).', deprecatedParam],
    ['HVM_PARAM_PAGING_RING_PFN', 27, 'Guest frame of the mem-paging event ring.'],
    ['HVM_PARAM_MONITOR_RING_PFN', 28, 'Guest frame of the monitor (vm_event) ring.'],
    ['HVM_PARAM_SHARING_RING_PFN', 29, 'Guest frame of the mem-sharing event ring.'],
    ['HVM_PARAM_MEMORY_EVENT_MSR', 30, 'Retired (MSR write events).', deprecatedParam],
    ['HVM_PARAM_TRIPLE_FAULT_REASON', 31, 'SHUTDOWN_* reason to use when the guest triple-faults.'],
    ['HVM_PARAM_IOREQ_SERVER_PFN', 32, 'First guest frame of the pool ioreq servers take their pages from; settable once.'],
    ['HVM_PARAM_NR_IOREQ_SERVER_PAGES', 33, 'Number of frames in that pool (1 to the bitmap width); settable once.'],
    ['HVM_PARAM_VM_GENERATION_ID_ADDR', 34, 'Guest physical address of the VM Generation ID.'],
    ['HVM_PARAM_ALTP2M', 35, 'altp2m mode (XEN_ALTP2M_*); settable once.'],
    ['HVM_PARAM_X87_FIP_WIDTH', 36, 'Width of the x87 FIP/FDP registers Xen saves: 0 (let Xen choose), 4 or 8.'],
    ['HVM_PARAM_VM86_TSS_SIZED', 37, 'Like VM86_TSS with the TSS size in the high 32 bits.'],
    ['HVM_PARAM_MCA_CAP', 38, 'Machine-check capabilities exposed to the guest (XEN_HVM_MCA_CAP_*); settable once.'],
    ['HVM_NR_PARAMS', 39, 'Number of parameter indexes; an index at or above it is invalid.'],
  ], { type: 'uint32_t', ref: { header: P } }),
  b.group('HVM_PARAM_CALLBACK', 'values', 'Encoding of HVM_PARAM_CALLBACK_IRQ: delivery type in bits 63:56, details below.', [
    ['HVM_PARAM_CALLBACK_IRQ_TYPE_MASK', '0xff00000000000000', 'Mask of the delivery-type bits of the parameter value.'],
    ['HVM_PARAM_CALLBACK_TYPE_GSI', 0, 'Deliver through a GSI given in bits 55:0 (GSI 0 is unusable).'],
    ['HVM_PARAM_CALLBACK_TYPE_PCI_INTX', 1, 'Deliver through a PCI INTx line: segment 47:32, bus 31:16, devfn 15:8, pin 1:0.'],
    ['HVM_PARAM_CALLBACK_TYPE_VECTOR', 2, 'x86: deliver as a vector given in bits 7:0 (see XENFEAT_hvm_callback_vector).', { arches: ['x86'] }],
    ['HVM_PARAM_CALLBACK_TYPE_PPI', 2, 'Arm: deliver as a PPI given in bits 7:0, with trigger flags in bits 15:8.', { arches: ['arm'] }],
    ['HVM_PARAM_CALLBACK_TYPE_PPI_FLAG_MASK', 0xff00, 'Arm: mask of the PPI flag bits.', { arches: ['arm'] }],
    ['HVM_PARAM_CALLBACK_TYPE_PPI_FLAG_LOW_LEVEL', 2, 'Arm: the PPI is active-low level triggered.', { arches: ['arm'] }],
  ], { ref: { header: P } }),
  b.group('HVMPV', 'flags', 'Hyper-V (Viridian) enlightenment bits of HVM_PARAM_VIRIDIAN (x86).', [
    ['HVMPV_base_freq', 1, 'Base set: hypercall, APIC access, VP index and timer-frequency MSRs; required in every valid mask.', { bit: 0, arches: ['x86'] }],
    ['HVMPV_no_freq', 2, 'Hide the timer-frequency MSRs (the pre-4.4 base set).', { bit: 1, arches: ['x86'] }],
    ['HVMPV_time_ref_count', 4, 'Partition reference counter MSR.', { bit: 2, arches: ['x86'] }],
    ['HVMPV_reference_tsc', 8, 'Reference TSC page.', { bit: 3, arches: ['x86'] }],
    ['HVMPV_hcall_remote_tlb_flush', 16, 'Remote TLB flush hypercalls.', { bit: 4, arches: ['x86'] }],
    ['HVMPV_apic_assist', 32, 'APIC assist page.', { bit: 5, arches: ['x86'] }],
    ['HVMPV_crash_ctl', 64, 'Crash control MSRs.', { bit: 6, arches: ['x86'] }],
    ['HVMPV_synic', 128, 'Synthetic interrupt controller MSRs.', { bit: 7, arches: ['x86'] }],
    ['HVMPV_stimer', 256, 'Synthetic timer MSRs.', { bit: 8, arches: ['x86'] }],
    ['HVMPV_hcall_ipi', 512, 'Synthetic cluster IPI hypercall.', { bit: 9, arches: ['x86'] }],
    ['HVMPV_ex_processor_masks', 1024, 'Extended processor masks in hypercalls.', { bit: 10, arches: ['x86'] }],
    ['HVMPV_no_vp_limit', 2048, 'Allow more than 64 virtual processors.', { bit: 11, arches: ['x86'] }],
    ['HVMPV_cpu_hotplug', 4096, 'vCPU hotplug.', { bit: 12, arches: ['x86'] }],
    ['HVMPV_feature_mask', 0x1fff, 'Every defined HVMPV_* bit; others make HVM_PARAM_VIRIDIAN invalid.', { arches: ['x86'] }],
  ], { type: 'uint64_t', ref: { header: P } }),
  b.group('_HVMPV', 'values', 'Bit numbers of the HVMPV_* flags (x86).', [
    ['_HVMPV_base_freq', 0, 'Bit of HVMPV_base_freq.', { arches: ['x86'] }],
    ['_HVMPV_no_freq', 1, 'Bit of HVMPV_no_freq.', { arches: ['x86'] }],
    ['_HVMPV_time_ref_count', 2, 'Bit of HVMPV_time_ref_count.', { arches: ['x86'] }],
    ['_HVMPV_reference_tsc', 3, 'Bit of HVMPV_reference_tsc.', { arches: ['x86'] }],
    ['_HVMPV_hcall_remote_tlb_flush', 4, 'Bit of HVMPV_hcall_remote_tlb_flush.', { arches: ['x86'] }],
    ['_HVMPV_apic_assist', 5, 'Bit of HVMPV_apic_assist.', { arches: ['x86'] }],
    ['_HVMPV_crash_ctl', 6, 'Bit of HVMPV_crash_ctl.', { arches: ['x86'] }],
    ['_HVMPV_synic', 7, 'Bit of HVMPV_synic.', { arches: ['x86'] }],
    ['_HVMPV_stimer', 8, 'Bit of HVMPV_stimer.', { arches: ['x86'] }],
    ['_HVMPV_hcall_ipi', 9, 'Bit of HVMPV_hcall_ipi.', { arches: ['x86'] }],
    ['_HVMPV_ex_processor_masks', 10, 'Bit of HVMPV_ex_processor_masks.', { arches: ['x86'] }],
    ['_HVMPV_no_vp_limit', 11, 'Bit of HVMPV_no_vp_limit.', { arches: ['x86'] }],
    ['_HVMPV_cpu_hotplug', 12, 'Bit of HVMPV_cpu_hotplug.', { arches: ['x86'] }],
  ], { ref: { header: P } }),
  b.group('HVMPTM', 'enum', 'Virtual timer modes of HVM_PARAM_TIMER_MODE.', [
    ['HVMPTM_delay_for_missed_ticks', 0, 'Default: missed ticks are delivered late and guest time advances tick by tick.'],
    ['HVMPTM_no_delay_for_missed_ticks', 1, 'Missed ticks are delivered, but guest time follows wall-clock time.'],
    ['HVMPTM_no_missed_ticks_pending', 2, 'Missed ticks are dropped; the tick keeps running while the vCPU is descheduled.'],
    ['HVMPTM_one_missed_tick_pending', 3, 'Missed ticks collapse into one late tick; guest time follows wall-clock time.'],
  ], { ref: { header: P } }),
  b.group('XEN_ALTP2M', 'enum', 'altp2m modes of HVM_PARAM_ALTP2M.', [
    ['XEN_ALTP2M_disabled', 0, 'No altp2m (default).'],
    ['XEN_ALTP2M_mixed', 1, 'Both the guest and external tools may use every altp2m operation.'],
    ['XEN_ALTP2M_external', 2, 'Only external privileged tools may use altp2m operations.'],
    ['XEN_ALTP2M_limited', 3, 'The guest may only enable #VE notification and use VMFUNC; the rest is external.'],
  ], { ref: { header: P } }),
  b.group('XEN_HVM_MCA_CAP', 'flags', 'Machine-check capabilities of HVM_PARAM_MCA_CAP.', [
    ['XEN_HVM_MCA_CAP_LMCE', 1, 'Local machine-check exceptions.', { bit: 0 }],
    ['XEN_HVM_MCA_CAP_MASK', 1, 'Every defined capability bit.'],
  ], { type: 'uint64_t', ref: { header: P } }),
];

// ───────────────────────────── structs ─────────────────────────────

const types = [
  b.typedef('hvmmem_type_t', 'unsigned int', 'An HVMMEM_* memory type (a C enum).'),
  b.struct('xen_hvm_param', 'Selects an HVM parameter of a domain and carries its value.', [
    f('domid', 'domid_t', 'The domain (DOMID_SELF allowed).', { dir: 'in' }),
    f('pad', 'uint16_t', 'Padding.'),
    f('index', 'uint32_t', 'HVM_PARAM_* index.', { dir: 'in', values: 'HVM_PARAM' }),
    f('value', 'uint64_t', 'The value to set, or the value read.', { dir: 'inout' }),
  ], { aliases: ['xen_hvm_param_t'] }),
  b.struct('xen_hvm_altp2m_suppress_ve', 'The suppress-#VE bit of one page in an altp2m view.', [
    f('view', 'uint16_t', 'The view index.', { dir: 'in' }),
    f('suppress_ve', 'uint8_t', 'Boolean: #VE suppressed for the page (set, or read back).', { dir: 'inout' }),
    f('pad1', 'uint8_t', 'Must be zero.'),
    f('pad2', 'uint32_t', 'Must be zero.'),
    f('gfn', 'uint64_t', 'The page.', { dir: 'in' }),
  ]),
  b.struct('xen_hvm_altp2m_suppress_ve_multi', 'The suppress-#VE bit over a range of pages in an altp2m view.', [
    f('view', 'uint16_t', 'The view index.', { dir: 'in' }),
    f('suppress_ve', 'uint8_t', 'Boolean: suppress #VE for the range.', { dir: 'in' }),
    f('pad1', 'uint8_t', 'Must be zero.'),
    f('first_error', 'int32_t', 'Error of the first page that failed; must be 0 on entry.', { dir: 'inout' }),
    f('first_gfn', 'uint64_t', 'First page; advanced as the operation progresses.', { dir: 'inout' }),
    f('last_gfn', 'uint64_t', 'Last page (clamped to the guest’s physical address width).', { dir: 'in' }),
    f('first_error_gfn', 'uint64_t', 'The page that produced first_error.', { dir: 'out' }),
  ]),
  b.struct('xen_hvm_pagetable_dying', 'Hint that a guest page table is about to be freed (helps shadow paging).', [
    f('domid', 'domid_t', 'The domain; must be the caller.', { dir: 'in' }),
    f('pad', 'uint16_t[3]', 'Padding.'),
    f('gpa', 'uint64_t', 'Guest physical address of the top-level page table.', { dir: 'in' }),
  ], { aliases: ['xen_hvm_pagetable_dying_t'] }),
  b.struct('xen_hvm_get_time', 'Receives Xen’s system time.', [
    f('now', 'uint64_t', 'Nanoseconds since the host booted.', { dir: 'out' }),
  ], { aliases: ['xen_hvm_get_time_t'] }),
  b.struct('xen_hvm_xentrace', 'A trace record the guest adds to Xen’s trace buffers.', [
    f('event', 'uint16_t', 'Event number; only the low 12 bits (below the subclass) may be set.', { dir: 'in' }),
    f('extra_bytes', 'uint16_t', 'Bytes of extra used, at most 28.', { dir: 'in' }),
    f('extra', 'uint8_t[28]', 'Extra data: TRACE_EXTRA_MAX (7) 32-bit words.', { dir: 'in' }),
  ], { aliases: ['xen_hvm_xentrace_t'] }),
  b.struct('xen_hvm_get_mem_type', 'Asks the memory type of a guest frame.', [
    f('domid', 'domid_t', 'The domain (DOMID_SELF allowed).', { dir: 'in' }),
    f('mem_type', 'uint16_t', 'HVMMEM_* type of the frame.', { dir: 'out', values: 'HVMMEM' }),
    f('pad', 'uint16_t[2]', 'Padding.'),
    f('pfn', 'uint64_t', 'The guest frame.', { dir: 'in' }),
  ], { aliases: ['xen_hvm_get_mem_type_t'] }),
  b.struct('xen_hvm_evtchn_upcall_vector', 'Sets the vector a vCPU receives event-channel upcalls on (x86).', [
    f('vcpu', 'uint32_t', 'The vCPU of the caller.', { dir: 'in' }),
    f('vector', 'uint8_t', 'The vector, 0x10 or above.', { dir: 'in' }),
  ], { aliases: ['xen_hvm_evtchn_upcall_vector_t'], arches: ['x86'] }),
  b.struct('xen_hvm_altp2m_domain_state', 'Whether altp2m is active for a domain.', [
    f('state', 'uint8_t', 'Boolean: active (set, or read back).', { dir: 'inout' }),
  ], { aliases: ['xen_hvm_altp2m_domain_state_t'] }),
  b.struct('xen_hvm_altp2m_vcpu_enable_notify', 'Enables #VE for a vCPU.', [
    f('vcpu_id', 'uint32_t', 'The vCPU.', { dir: 'in' }),
    f('pad', 'uint32_t', 'Must be zero.'),
    f('gfn', 'uint64_t', 'Guest frame of the #VE information area.', { dir: 'in' }),
  ], { aliases: ['xen_hvm_altp2m_vcpu_enable_notify_t'] }),
  b.struct('xen_hvm_altp2m_vcpu_disable_notify', 'Disables #VE for a vCPU.', [
    f('vcpu_id', 'uint32_t', 'The vCPU.', { dir: 'in' }),
  ], { aliases: ['xen_hvm_altp2m_vcpu_disable_notify_t'] }),
  b.struct('xen_hvm_altp2m_view', 'An altp2m view and its default access.', [
    f('view', 'uint16_t', 'The view index (returned by create_p2m).', { dir: 'inout' }),
    f('hvmmem_default_access', 'uint16_t', 'Default xenmem_access_t of a new view’s pages.', { dir: 'in' }),
  ], { aliases: ['xen_hvm_altp2m_view_t'] }),
  b.struct('xen_hvm_altp2m_mem_access', 'The access of one page in an altp2m view.', [
    f('view', 'uint16_t', 'The view index.', { dir: 'in' }),
    f('access', 'uint16_t', 'xenmem_access_t to set, or the access read.', { dir: 'inout' }),
    f('pad', 'uint32_t', 'Must be zero.'),
    f('gfn', 'uint64_t', 'The page.', { dir: 'in' }),
  ], { aliases: ['xen_hvm_altp2m_mem_access_t'] }),
  b.struct('xen_hvm_altp2m_set_mem_access_multi', 'The access of a list of pages in an altp2m view.', [
    f('view', 'uint16_t', 'The view index.', { dir: 'in' }),
    f('pad', 'uint16_t', 'Must be zero.'),
    f('nr', 'uint32_t', 'Number of pages in the lists.', { dir: 'in' }),
    f('opaque', 'uint64_t', 'Continuation cursor: 0 on the first call, updated when Xen preempts.', { dir: 'inout' }),
    f('pfn_list', 'handle(uint64_t)', 'The pages (read only).', { dir: 'in', count: 'nr' }),
    f('access_list', 'handle(uint8_t)', 'The xenmem_access_t of each page (read only).', { dir: 'in', count: 'nr' }),
  ]),
  b.struct('xen_hvm_altp2m_change_gfn', 'Remaps a gfn of an altp2m view onto the frame behind another gfn.', [
    f('view', 'uint16_t', 'The view index.', { dir: 'in' }),
    f('pad1', 'uint16_t', 'Must be zero.'),
    f('pad2', 'uint32_t', 'Must be zero.'),
    f('old_gfn', 'uint64_t', 'The gfn to remap.', { dir: 'in' }),
    f('new_gfn', 'uint64_t', 'The gfn whose frame it should show; all ones reverts the remapping.', { dir: 'in' }),
  ], { aliases: ['xen_hvm_altp2m_change_gfn_t'] }),
  b.struct('xen_hvm_altp2m_get_vcpu_p2m_idx', 'Asks which altp2m view a vCPU uses.', [
    f('vcpu_id', 'uint32_t', 'The vCPU.', { dir: 'in' }),
    f('altp2m_idx', 'uint16_t', 'Its current view index.', { dir: 'out' }),
  ]),
  b.struct('xen_hvm_altp2m_set_visibility', 'Whether the guest may switch to an altp2m view with VMFUNC.', [
    f('altp2m_idx', 'uint16_t', 'The view index.', { dir: 'in' }),
    f('visible', 'uint8_t', 'Boolean: the view is selectable.', { dir: 'in' }),
    f('pad', 'uint8_t', 'Must be zero.'),
  ]),
  b.struct('xen_hvm_altp2m_op', 'The argument of HVMOP_altp2m: version, command, target domain and the command’s struct.', [
    f('version', 'uint32_t', 'HVMOP_ALTP2M_INTERFACE_VERSION.', { dir: 'in' }),
    f('cmd', 'uint32_t', 'HVMOP_altp2m_* command.', { dir: 'in' }),
    f('domain', 'domid_t', 'The target domain (DOMID_SELF allowed).', { dir: 'in' }),
    f('pad1', 'uint16_t', 'Must be zero.'),
    f('pad2', 'uint32_t', 'Must be zero.'),
    f('u', inlineUnion([
      f('domain_state', 'struct xen_hvm_altp2m_domain_state', 'get_domain_state, set_domain_state.'),
      f('enable_notify', 'struct xen_hvm_altp2m_vcpu_enable_notify', 'vcpu_enable_notify.'),
      f('view', 'struct xen_hvm_altp2m_view', 'create_p2m, destroy_p2m, switch_p2m.'),
      f('mem_access', 'struct xen_hvm_altp2m_mem_access', 'set_mem_access, get_mem_access.'),
      f('change_gfn', 'struct xen_hvm_altp2m_change_gfn', 'change_gfn.'),
      f('set_mem_access_multi', 'struct xen_hvm_altp2m_set_mem_access_multi', 'set_mem_access_multi.'),
      f('suppress_ve', 'struct xen_hvm_altp2m_suppress_ve', 'set_suppress_ve, get_suppress_ve.'),
      f('suppress_ve_multi', 'struct xen_hvm_altp2m_suppress_ve_multi', 'set_suppress_ve_multi.'),
      f('disable_notify', 'struct xen_hvm_altp2m_vcpu_disable_notify', 'vcpu_disable_notify.'),
      f('get_vcpu_p2m_idx', 'struct xen_hvm_altp2m_get_vcpu_p2m_idx', 'get_p2m_idx.'),
      f('set_visibility', 'struct xen_hvm_altp2m_set_visibility', 'set_visibility.'),
      f('pad', 'uint8_t[64]', 'Reserves 64 bytes for the union.'),
    ]), 'The command’s struct.', { dir: 'inout' }),
  ], { aliases: ['xen_hvm_altp2m_op_t'] }),
];

// ───────────────────────────── operations ─────────────────────────────

const ref = (fn: string, file = C) => ({ header: H, handler: `${file}:${fn}` });
const noDomain = (path: string) => err('ESRCH', 'The domain does not exist.', when.resource(path, 'domid', 'nonexistent'));
const notTarget = err('EPERM', 'The domain is neither the caller nor one it is device model for, and the caller is not the control domain.', when.privilege('target-or-privileged'));
const notHvm = (path: string) => err('EINVAL', 'The domain is not an HVM domain.', when.resource(path, 'domid', 'not-hvm'));
const mustBeNull = err('EINVAL', 'The argument pointer is not NULL.', when.value('arg', 'ne', 0));

const paramErrors = (set: boolean) => [
  err('EINVAL', 'The index is not below HVM_NR_PARAMS (x86).', when.value('arg.index', 'ge', 39)),
  noDomain('arg.domid'),
  notHvm('arg.domid'),
  notTarget,
  err('EINVAL', 'The index names a retired parameter (x86), or on Arm any parameter other than the callback, store, console and (toolstack) monitor ring ones.', when.state('param-not-available')),
  err('EPERM', `A domain ${set ? 'sets' : 'reads'} one of its own parameters that only the toolstack may ${set ? 'set' : 'read'}.`, when.state('param-toolstack-only')),
  ...(set
    ? [
        err('EEXIST', 'A set-once parameter (VIRIDIAN, IOREQ_PFN, BUFIOREQ_PFN, IOREQ_SERVER_PFN, NR_IOREQ_SERVER_PAGES, ALTP2M, MCA_CAP) already has a different non-zero value.', when.state('param-already-set')),
        err('EINVAL', 'The value is invalid for the parameter (timer mode above 3, Viridian mask without base or with unknown bits, ACPI S state other than 0 or 3, altp2m mode above 3 or with nested HVM, shutdown reason above SHUTDOWN_MAX, ioreq page count 0 or too large, FIP width other than 0, 4 or 8, VM86 TSS address above 4 GiB or size too small, DM_DOMAIN other than DOMID_SELF, unsupported MCA capability, ACPI ports location change other than between 0 and 1).', when.state('param-value-invalid')),
        err('EPERM', 'HVM_PARAM_ALTP2M set by a caller that is not the control domain.', when.privilege('control-domain')),
        err('ENODEV', 'HVM_PARAM_ACPI_IOPORTS_LOCATION for a domain without an emulated PM timer.', when.state('no-vpm')),
      ]
    : []),
];

const ops = [
  b.op('HVMOP_set_param', 0, 'Sets an HVM parameter of a domain.', {
    arg: 'struct xen_hvm_param', argDir: 'in',
    privilege: 'target-or-privileged',
    errors: paramErrors(true),
    consumes: [use('domid', 'arg.domid')],
    ref: ref('hvmop_set_param'),
  }),
  b.op('HVMOP_get_param', 1, 'Reads an HVM parameter of a domain.', {
    arg: 'struct xen_hvm_param', argDir: 'inout',
    privilege: 'target-or-privileged',
    errors: paramErrors(false),
    consumes: [use('domid', 'arg.domid')],
    ref: ref('hvmop_get_param'),
  }),
  b.op('HVMOP_flush_tlbs', 5, 'Flushes the TLBs of every vCPU of the calling HVM domain.', {
    arg: null,
    abis: X86,
    errors: [mustBeNull, err('EINVAL', 'The caller is not an HVM domain.', when.state('caller-not-hvm'))],
    ref: ref('hvmop_flush_tlb_all'),
  }),
  b.op('HVMOP_pagetable_dying', 9, 'Tells Xen a page table of the caller is about to be freed, so shadow paging can drop it early.', {
    arg: 'struct xen_hvm_pagetable_dying', argDir: 'in',
    abis: X86,
    errors: [
      noDomain('arg.domid'),
      err('EOPNOTSUPP', 'The domain is not the caller.', when.resource('arg.domid', 'domid', 'foreign')),
      err('EINVAL', 'The caller is not an HVM domain using shadow paging.', when.state('not-shadow-hvm')),
    ],
    consumes: [use('domid', 'arg.domid')],
    ref: ref('do_hvm_op'),
  }),
  b.op('HVMOP_get_time', 10, 'Returns Xen’s system time in nanoseconds since boot.', {
    arg: 'struct xen_hvm_get_time', argDir: 'out',
    abis: X86,
    ref: ref('do_hvm_op'),
  }),
  b.op('HVMOP_xentrace', 11, 'Adds a guest-defined record to Xen’s trace buffers.', {
    arg: 'struct xen_hvm_xentrace', argDir: 'in',
    abis: X86,
    errors: [
      err('EINVAL', 'extra_bytes exceeds the 28-byte extra array.', when.value('arg.extra_bytes', 'gt', 28)),
      err('EINVAL', 'The event sets bits at or above the subclass shift (bit 12).', when.value('arg.event', 'mask', 0xf000)),
    ],
    ref: ref('do_hvm_op'),
  }),
  b.op('HVMOP_set_mem_access', 12, 'Retired toolstack command (replaced by XENMEM_access_op); Xen 4.17 has no handler.', {
    arg: null,
    tools: true,
    deprecated: { replacedBy: 'XENMEM_access_op_set_access', doc: 'Unhandled: always ENOSYS.' },
    errors: [err('ENOSYS', 'Xen 4.17 does not implement this command.', when.state('unimplemented'))],
    ref: ref('do_hvm_op'),
  }),
  b.op('HVMOP_get_mem_access', 13, 'Retired toolstack command (replaced by XENMEM_access_op); Xen 4.17 has no handler.', {
    arg: null,
    tools: true,
    deprecated: { replacedBy: 'XENMEM_access_op_get_access', doc: 'Unhandled: always ENOSYS.' },
    errors: [err('ENOSYS', 'Xen 4.17 does not implement this command.', when.state('unimplemented'))],
    ref: ref('do_hvm_op'),
  }),
  b.op('HVMOP_get_mem_type', 15, 'Reports the HVMMEM_* type of a guest frame of an HVM domain.', {
    arg: 'struct xen_hvm_get_mem_type', argDir: 'inout',
    abis: X86,
    privilege: 'target-or-privileged',
    errors: [noDomain('arg.domid'), notTarget, notHvm('arg.domid')],
    consumes: [use('domid', 'arg.domid'), use('gfn', 'arg.pfn')],
    ref: ref('hvmop_get_mem_type'),
  }),
  b.op('HVMOP_set_evtchn_upcall_vector', 23, 'Sets a per-vCPU vector for event-channel upcalls, preferred over HVM_PARAM_CALLBACK_IRQ.', {
    arg: 'struct xen_hvm_evtchn_upcall_vector', argDir: 'in',
    abis: X86,
    arches: ['x86'],
    errors: [
      err('EINVAL', 'The caller is not an HVM domain.', when.state('caller-not-hvm')),
      err('EINVAL', 'The vector is below 0x10.', when.value('arg.vector', 'lt', 0x10)),
      err('ENOENT', 'The vCPU does not exist.', when.resource('arg.vcpu', 'vcpu_id', 'nonexistent')),
    ],
    consumes: [use('vcpu_id', 'arg.vcpu')],
    ref: ref('hvmop_set_evtchn_upcall_vector'),
  }),
  b.op('HVMOP_guest_request_vm_event', 24, 'Sends a guest-request event to the domain’s monitor (vm_event), if one listens.', {
    arg: null,
    errors: [mustBeNull],
    ref: ref('do_hvm_op'),
  }),
  b.op('HVMOP_altp2m', 25, 'Alternate p2m (altp2m) views: the HVMOP_altp2m_* command in the argument struct selects the action.', {
    arg: 'struct xen_hvm_altp2m_op', argDir: 'inout',
    abis: X86,
    privilege: 'target-or-privileged',
    errors: [
      err('EOPNOTSUPP', 'The hardware or Xen build does not support altp2m.', when.state('altp2m-unsupported')),
      err('EINVAL', 'pad1 or pad2 is non-zero, or the version is not HVMOP_ALTP2M_INTERFACE_VERSION.', when.value('arg.version', 'ne', 1)),
      err('EOPNOTSUPP', 'The command is not an HVMOP_altp2m_* command.', when.value('arg.cmd', 'gt', 16)),
      noDomain('arg.domain'),
      err('EOPNOTSUPP', 'The domain is not HVM, or altp2m is not active and the command is not get/set_domain_state.', when.state('altp2m-inactive')),
      err('EINVAL', 'HVM_PARAM_ALTP2M of the domain is XEN_ALTP2M_disabled.', when.state('altp2m-mode-disabled')),
      err('EPERM', 'The altp2m mode does not let the caller use this command (mixed: target; external: device model; limited: only enable_notify for the guest).', when.privilege('target-or-privileged')),
      err('EINVAL', 'set_domain_state on a domain with nested HVM.', when.state('nested-hvm')),
      err('EINVAL', 'A pad field of the command struct is non-zero, or a vCPU id is out of range (enable/disable_notify, get_p2m_idx), or first_gfn > last_gfn (set_suppress_ve_multi), or opaque > nr (set_mem_access_multi).', when.state('altp2m-bad-arguments')),
      err('EOPNOTSUPP', 'vcpu_enable_notify or vcpu_disable_notify without #VE support in hardware.', when.state('no-virt-exceptions')),
      err('EINVAL', 'The view index is invalid or the view does not exist (view commands).', when.resource('arg.u.view.view', 'altp2m_view', 'nonexistent')),
      err('EBUSY', 'destroy_p2m of a view that is in use.', when.resource('arg.u.view.view', 'altp2m_view', 'in-use')),
      err('EINVAL', 'create_p2m with no free view slot, or an unknown default access.', when.state('altp2m-views-exhausted')),
    ],
    consumes: [use('domid', 'arg.domain'), use('altp2m_view', 'arg.u.view.view', 'destroy_p2m, switch_p2m')],
    produces: [use('altp2m_view', 'arg.u.view.view', 'create_p2m')],
    ref: ref('do_altp2m_op'),
  }),
];

const hypercalls = [
  b.hypercall('hvm_op', 34, 'HVM operations: HVM parameters, time, TLB flush, memory types, upcall vectors and altp2m views.', {
    abis: Object.fromEntries(ALL_ABIS.map((a) => [a, 'native'])),
    args: [
      arg('op', 'unsigned long', 'HVMOP_* command.', { values: 'HVMOP' }),
      arg('arg', 'ptr(void)', 'The command’s struct (NULL for commands without one).', { dir: 'inout' }),
    ],
    subops: { selector: 'op', group: 'HVMOP', argument: 'arg', ops },
    errors: [
      err('ENOSYS', 'The command is unknown (on Arm: anything but set_param, get_param and guest_request_vm_event).', when.state('unknown-command')),
      err('EFAULT', 'The argument struct cannot be read or written.', when.fault('arg')),
    ],
    ref: { header: H, handler: `${C}:do_hvm_op, ${A}:do_hvm_op` },
  }),
];

const resources = [
  b.resource('altp2m_view', 'uint16_t', 'An alternate p2m view of a domain; view 0 is the host p2m and always exists while altp2m is active.'),
];

export const hvm: FamilyModule = {
  family: b.family('HVM operations: the HVM parameter space, memory types, time, tracing and altp2m views.', { header: H, handler: C }),
  types,
  constants,
  hypercalls,
  resources,
};
