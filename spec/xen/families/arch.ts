/**
 * Shared memory structures and per-arch state: the shared_info page with its per-vCPU
 * vcpu_info and time records, the x86 PV start_info page, the dom0 VGA console record,
 * CPU register files and vCPU contexts for x86 and Arm, the arch parts of domain creation,
 * and the integer constants of the arch headers (flat selectors, virtual address layout,
 * Arm guest memory map, PSR bits, CPUID leaves).
 *
 * No hypercalls: these are the layouts the reference VMM places in guest memory or passes
 * through vcpu_op / domctl, whose own families own the calls.
 *
 * @see xen/include/public/xen.h, xen/include/public/arch-x86/xen.h,
 *      xen/include/public/arch-x86/xen-x86_64.h, xen/include/public/arch-x86/xen-x86_32.h,
 *      xen/include/public/arch-x86/cpuid.h, xen/include/public/arch-arm.h (RELEASE-4.17.7)
 */
import { f, familyBuilder, inlineStruct, inlineUnion, type FamilyModule } from '../../builders.js';
import type { Field, Reference, TypeBody } from '../../model.js';

const H = 'xen/include/public/xen.h';
const X86 = 'xen/include/public/arch-x86/xen.h';
const ARM = 'xen/include/public/arch-arm.h';
const CPUID = 'xen/include/public/arch-x86/cpuid.h';
const b = familyBuilder('arch', H);

/**
 * Items defined in the per-width x86 headers are referenced through arch-x86/xen.h, which
 * includes the right one for the compiler's target; the exact file is named in `doc`.
 */
const X86_SPLIT: Reference = {
  header: X86,
  doc: 'x86_64: xen/include/public/arch-x86/xen-x86_64.h; x86_32: xen/include/public/arch-x86/xen-x86_32.h',
};

const x86 = { arches: ['x86'] };
const x86_64 = { arches: ['x86_64'] };
const x86_32 = { arches: ['x86_32'] };
const arm = { arches: ['arm'] };
const armTools = { arches: ['arm'], tools: true };
const x86Tools = { arches: ['x86'], tools: true };

// ───────────────────────────── constants ─────────────────────────────

const constants = [
  // xen.h
  b.flags('XEN_PVCLOCK', 'Bits of vcpu_time_info.flags.', [
    ['XEN_PVCLOCK_TSC_STABLE_BIT', 0, 'The TSC runs at the same rate and in step on every pCPU, so time may be read without per-vCPU correction.'],
    ['XEN_PVCLOCK_GUEST_STOPPED', 1, 'The guest was paused by the toolstack since the last update; watchdogs should not fire.'],
  ], { type: 'uint8_t' }),
  b.group('START_INFO', 'values', 'Sizes of the x86 PV start_info page.', [
    ['MAX_GUEST_CMDLINE', 1024, 'Bytes of start_info.cmd_line, including the terminating NUL.', x86],
  ]),
  b.group('SIF', 'flags', 'Bits of start_info.flags, describing the domain and its boot modules.', [
    ['SIF_PRIVILEGED', 1, 'The domain has hardware/control privilege.', { bit: 0 }],
    ['SIF_INITDOMAIN', 2, 'The domain is the initial domain (dom0).', { bit: 1 }],
    ['SIF_MULTIBOOT_MOD', 4, 'The boot module is a multiboot-style package of modules (xen_multiboot_mod_list at its start).', { bit: 2 }],
    ['SIF_MOD_START_PFN', 8, 'start_info.mod_start is a frame number, not a virtual address.', { bit: 3 }],
    ['SIF_VIRT_P2M_4TOOLS', 16, 'The toolstack understands a virtually mapped P2M list (no 3-level frame tree needed).', { bit: 4 }],
    ['SIF_PM_MASK', 0xff00, 'Byte reserved for power-management options (bits 8 to 15).'],
  ], { type: 'uint32_t' }),
  b.group('XEN_VGATYPE', 'enum', 'Kinds of dom0 console in dom0_vga_console_info.video_type.', [
    ['XEN_VGATYPE_TEXT_MODE_3', 0x03, 'VGA text mode 3; the text_mode_3 member is valid.'],
    ['XEN_VGATYPE_VESA_LFB', 0x23, 'VESA linear frame buffer; the vesa_lfb member is valid.'],
    ['XEN_VGATYPE_EFI_LFB', 0x70, 'EFI GOP linear frame buffer; the vesa_lfb member is valid.'],
  ], { type: 'uint8_t' }),

  // arch-x86/xen.h and arch-arm.h
  b.group('XEN_ARCH', 'values', 'Per-architecture parameters of the guest interface.', [
    ['XEN_LEGACY_MAX_VCPUS', 32, 'vcpu_info slots in shared_info; vCPUs beyond them must register their own vcpu_info.', {
      perArch: { arm: 1 },
    }],
    ['XEN_HAVE_PV_GUEST_ENTRY', 1, 'Defined where PV guests boot with a start_info page (x86).', x86],
    ['XEN_HAVE_PV_UPCALL_MASK', 1, 'Defined where vcpu_info has evtchn_upcall_mask (x86).', x86],
    ['XEN_HVM_DEBUGCONS_IOPORT', 0xe9, 'I/O port whose writes go to the hypervisor console (the "port E9 hack").', x86],
    ['XEN_HYPERCALL_TAG', 0xea1, 'HVC immediate that marks a hypercall on Arm.', arm],
  ], { ref: { header: X86, doc: 'Arm values: xen/include/public/arch-arm.h' } }),
  b.group('FIRST_RESERVED_GDT', 'values', 'Where the GDT entries reserved by Xen start (the top of the GDT).', [
    ['FIRST_RESERVED_GDT_PAGE', 14, 'First GDT page owned by Xen.', x86],
    ['FIRST_RESERVED_GDT_BYTE', 57344, 'Byte offset of the first Xen-owned GDT entry (page 14 times 4096).', x86],
    ['FIRST_RESERVED_GDT_ENTRY', 7168, 'Index of the first Xen-owned GDT entry (byte offset divided by 8).', x86],
  ], { ref: { header: X86 } }),
  b.group('VGCF', 'flags', 'Bits of vcpu_guest_context.flags.', [
    ['VGCF_i387_valid', 1, 'fpu_ctxt holds valid FPU state.', { bit: 0, ...x86 }],
    ['VGCF_I387_VALID', 1, 'Old spelling of VGCF_i387_valid.', { bit: 0, ...x86 }],
    ['VGCF_in_kernel', 4, 'The vCPU is in guest kernel mode.', { bit: 2, ...x86 }],
    ['VGCF_IN_KERNEL', 4, 'Old spelling of VGCF_in_kernel.', { bit: 2, ...x86 }],
    ['VGCF_failsafe_disables_events', 8, 'Entering the failsafe callback masks event delivery.', { bit: 3, ...x86 }],
    ['VGCF_syscall_disables_events', 16, 'Entering the syscall callback masks event delivery.', { bit: 4, ...x86 }],
    ['VGCF_online', 32, 'The vCPU is brought up by the context load (bit 5 on x86, bit 0 on Arm).', { bit: 5, perArch: { arm: 1 } }],
  ], { ref: { header: X86, doc: 'Arm values: xen/include/public/arch-arm.h' } }),
  b.group('_VGCF', 'values', 'Bit numbers of the VGCF_* flags.', [
    ['_VGCF_i387_valid', 0, 'Bit number of VGCF_i387_valid.', x86],
    ['_VGCF_in_kernel', 2, 'Bit number of VGCF_in_kernel.', x86],
    ['_VGCF_failsafe_disables_events', 3, 'Bit number of VGCF_failsafe_disables_events.', x86],
    ['_VGCF_syscall_disables_events', 4, 'Bit number of VGCF_syscall_disables_events.', x86],
    ['_VGCF_online', 5, 'Bit number of VGCF_online.', { perArch: { arm: 0 } }],
  ], { ref: { header: X86, doc: 'Arm values: xen/include/public/arch-arm.h' } }),
  b.group('XEN_X86_EMU', 'flags', 'Bits of xen_arch_domainconfig.emulation_flags (x86): the devices Xen emulates for the domain.', [
    ['XEN_X86_EMU_LAPIC', 0x1, 'Local APIC.', { bit: 0, ...x86Tools }],
    ['XEN_X86_EMU_HPET', 0x2, 'HPET.', { bit: 1, ...x86Tools }],
    ['XEN_X86_EMU_PM', 0x4, 'ACPI power-management timer and registers.', { bit: 2, ...x86Tools }],
    ['XEN_X86_EMU_RTC', 0x8, 'Real-time clock.', { bit: 3, ...x86Tools }],
    ['XEN_X86_EMU_IOAPIC', 0x10, 'I/O APIC.', { bit: 4, ...x86Tools }],
    ['XEN_X86_EMU_PIC', 0x20, '8259 interrupt controllers.', { bit: 5, ...x86Tools }],
    ['XEN_X86_EMU_VGA', 0x40, 'Standard VGA I/O ports.', { bit: 6, ...x86Tools }],
    ['XEN_X86_EMU_IOMMU', 0x80, 'Virtual IOMMU.', { bit: 7, ...x86Tools }],
    ['XEN_X86_EMU_PIT', 0x100, '8254 interval timer.', { bit: 8, ...x86Tools }],
    ['XEN_X86_EMU_USE_PIRQ', 0x200, 'Route legacy interrupts to event channels through PIRQs.', { bit: 9, ...x86Tools }],
    ['XEN_X86_EMU_VPCI', 0x400, 'Virtual PCI configuration space handling.', { bit: 10, ...x86Tools }],
    ['XEN_X86_EMU_ALL', 0x7ff, 'Every emulated device above.', x86Tools],
  ], { type: 'uint32_t', ref: { header: X86 } }),
  b.group('_XEN_X86_EMU', 'values', 'Bit numbers of the XEN_X86_EMU_* flags.', [
    ['_XEN_X86_EMU_LAPIC', 0, 'Bit number of XEN_X86_EMU_LAPIC.', x86Tools],
    ['_XEN_X86_EMU_HPET', 1, 'Bit number of XEN_X86_EMU_HPET.', x86Tools],
    ['_XEN_X86_EMU_PM', 2, 'Bit number of XEN_X86_EMU_PM.', x86Tools],
    ['_XEN_X86_EMU_RTC', 3, 'Bit number of XEN_X86_EMU_RTC.', x86Tools],
    ['_XEN_X86_EMU_IOAPIC', 4, 'Bit number of XEN_X86_EMU_IOAPIC.', x86Tools],
    ['_XEN_X86_EMU_PIC', 5, 'Bit number of XEN_X86_EMU_PIC.', x86Tools],
    ['_XEN_X86_EMU_VGA', 6, 'Bit number of XEN_X86_EMU_VGA.', x86Tools],
    ['_XEN_X86_EMU_IOMMU', 7, 'Bit number of XEN_X86_EMU_IOMMU.', x86Tools],
    ['_XEN_X86_EMU_PIT', 8, 'Bit number of XEN_X86_EMU_PIT.', x86Tools],
    ['_XEN_X86_EMU_USE_PIRQ', 9, 'Bit number of XEN_X86_EMU_USE_PIRQ.', x86Tools],
    ['_XEN_X86_EMU_VPCI', 10, 'Bit number of XEN_X86_EMU_VPCI.', x86Tools],
  ], { ref: { header: X86 } }),
  b.group('XEN_X86_MSR', 'flags', 'Bits of xen_arch_domainconfig.misc_flags (x86).', [
    ['XEN_X86_MSR_RELAXED', 0x1, 'Reads and writes of MSRs Xen does not handle are ignored instead of raising #GP.', { bit: 0, ...x86Tools }],
    ['XEN_X86_MISC_FLAGS_MAX', 0x1, 'Highest defined misc flag, for validity checks.', x86Tools],
  ], { type: 'uint32_t', ref: { header: X86 } }),
  b.group('XEN_CPUID_LEAF', 'values', 'Values of xen_cpuid_leaf fields.', [
    ['XEN_CPUID_NO_SUBLEAF', 0xffffffff, 'Subleaf value of a CPUID leaf that has no subleaves.', x86],
  ], { type: 'uint32_t', ref: { header: X86 } }),

  // arch-x86/cpuid.h
  b.group('XEN_CPUID', 'values', 'Xen’s CPUID leaves at 0x40000000 (x86): signature, limits and leaf-specific fields.', [
    ['XEN_CPUID_FIRST_LEAF', 0x40000000, 'First hypervisor CPUID leaf (Xen may be offset by multiples of 0x100 when Viridian is on).', x86],
    ['XEN_CPUID_SIGNATURE_EBX', 0x566e6558, 'EBX of the first leaf: "XenV".', x86],
    ['XEN_CPUID_SIGNATURE_ECX', 0x65584d4d, 'ECX of the first leaf: "MMXe".', x86],
    ['XEN_CPUID_SIGNATURE_EDX', 0x4d4d566e, 'EDX of the first leaf: "nVMM".', x86],
    ['_XEN_CPUID_FEAT1_MMU_PT_UPDATE_PRESERVE_AD', 0, 'Bit number of XEN_CPUID_FEAT1_MMU_PT_UPDATE_PRESERVE_AD.', x86],
    ['XEN_CPUID_FEAT1_MMU_PT_UPDATE_PRESERVE_AD', 0x1, 'Leaf 2 ECX: MMU_PT_UPDATE_PRESERVE_AD is available to this guest.', { bit: 0, ...x86 }],
    ['XEN_CPUID_MACHINE_ADDRESS_WIDTH_MASK', 0xff, 'Leaf 5 EAX: mask of the maximum machine address width in bits.', x86],
    ['XEN_CPUID_MAX_NUM_LEAVES', 5, 'Number of Xen CPUID leaves after the first.', x86],
  ], { type: 'uint32_t', ref: { header: CPUID } }),
  b.group('XEN_HVM_CPUID', 'flags', 'Leaf 4 EAX bits (x86 HVM): hardware assistance and fields Xen offers the guest.', [
    ['XEN_HVM_CPUID_APIC_ACCESS_VIRT', 0x1, 'APIC register accesses are virtualised.', { bit: 0, ...x86 }],
    ['XEN_HVM_CPUID_X2APIC_VIRT', 0x2, 'x2APIC accesses are virtualised.', { bit: 1, ...x86 }],
    ['XEN_HVM_CPUID_IOMMU_MAPPINGS', 0x4, 'Foreign memory mapped into the guest has valid IOMMU entries.', { bit: 2, ...x86 }],
    ['XEN_HVM_CPUID_VCPU_ID_PRESENT', 0x8, 'EBX of the leaf holds the vCPU id.', { bit: 3, ...x86 }],
    ['XEN_HVM_CPUID_DOMID_PRESENT', 0x10, 'ECX of the leaf holds the domain id.', { bit: 4, ...x86 }],
    ['XEN_HVM_CPUID_EXT_DEST_ID', 0x20, 'MSI address bits 11:5 extend the destination id to 15 bits.', { bit: 5, ...x86 }],
    ['XEN_HVM_CPUID_UPCALL_VECTOR', 0x40, 'HVMOP_set_evtchn_upcall_vector is available.', { bit: 6, ...x86 }],
  ], { type: 'uint32_t', ref: { header: CPUID } }),

  // arch-x86/xen-x86_64.h, xen-x86_32.h
  b.group('FLAT', 'values', 'Flat segment selectors Xen provides in its reserved GDT entries for PV guests (x86).', [
    ['FLAT_RING3_CS32', 0xe023, 'Ring-3 32-bit code segment (x86_64).', x86_64],
    ['FLAT_RING3_CS64', 0xe033, 'Ring-3 64-bit code segment (x86_64).', x86_64],
    ['FLAT_RING3_DS32', 0xe02b, 'Ring-3 32-bit data segment (x86_64).', x86_64],
    ['FLAT_RING3_DS64', 0x0000, 'Ring-3 64-bit data segment: the null selector (x86_64).', x86_64],
    ['FLAT_RING3_SS32', 0xe02b, 'Ring-3 32-bit stack segment (x86_64).', x86_64],
    ['FLAT_RING3_SS64', 0xe02b, 'Ring-3 64-bit stack segment (x86_64).', x86_64],
    ['FLAT_KERNEL_DS64', 0x0000, 'Kernel 64-bit data segment (x86_64; the kernel runs in ring 3).', x86_64],
    ['FLAT_KERNEL_DS32', 0xe02b, 'Kernel 32-bit data segment (x86_64).', x86_64],
    ['FLAT_KERNEL_CS64', 0xe033, 'Kernel 64-bit code segment (x86_64).', x86_64],
    ['FLAT_KERNEL_CS32', 0xe023, 'Kernel 32-bit code segment (x86_64).', x86_64],
    ['FLAT_KERNEL_SS64', 0xe02b, 'Kernel 64-bit stack segment (x86_64).', x86_64],
    ['FLAT_KERNEL_SS32', 0xe02b, 'Kernel 32-bit stack segment (x86_64).', x86_64],
    ['FLAT_USER_DS64', 0x0000, 'User 64-bit data segment (x86_64).', x86_64],
    ['FLAT_USER_DS32', 0xe02b, 'User 32-bit data segment (x86_64).', x86_64],
    ['FLAT_USER_CS64', 0xe033, 'User 64-bit code segment (x86_64).', x86_64],
    ['FLAT_USER_CS32', 0xe023, 'User 32-bit code segment (x86_64).', x86_64],
    ['FLAT_USER_SS64', 0xe02b, 'User 64-bit stack segment (x86_64).', x86_64],
    ['FLAT_USER_SS32', 0xe02b, 'User 32-bit stack segment (x86_64).', x86_64],
    ['FLAT_RING1_CS', 0xe019, 'Ring-1 code segment (x86_32; the kernel runs in ring 1).', x86_32],
    ['FLAT_RING1_DS', 0xe021, 'Ring-1 data segment (x86_32).', x86_32],
    ['FLAT_RING1_SS', 0xe021, 'Ring-1 stack segment (x86_32).', x86_32],
    ['FLAT_RING3_CS', 0xe02b, 'Ring-3 code segment (x86_32).', x86_32],
    ['FLAT_RING3_DS', 0xe033, 'Ring-3 data segment (x86_32).', x86_32],
    ['FLAT_RING3_SS', 0xe033, 'Ring-3 stack segment (x86_32).', x86_32],
    ['FLAT_KERNEL_CS', 0xe033, 'Kernel code segment of the guest’s own width.', { ...x86, perArch: { x86_32: 0xe019 } }],
    ['FLAT_KERNEL_DS', 0x0000, 'Kernel data segment of the guest’s own width.', { ...x86, perArch: { x86_32: 0xe021 } }],
    ['FLAT_KERNEL_SS', 0xe02b, 'Kernel stack segment of the guest’s own width.', { ...x86, perArch: { x86_32: 0xe021 } }],
    ['FLAT_USER_CS', 0xe033, 'User code segment of the guest’s own width.', { ...x86, perArch: { x86_32: 0xe02b } }],
    ['FLAT_USER_DS', 0x0000, 'User data segment of the guest’s own width.', { ...x86, perArch: { x86_32: 0xe033 } }],
    ['FLAT_USER_SS', 0xe02b, 'User stack segment of the guest’s own width.', { ...x86, perArch: { x86_32: 0xe033 } }],
  ], { type: 'uint16_t', ref: X86_SPLIT }),
  b.group('VIRT_LAYOUT', 'values', 'Virtual address ranges Xen reserves in PV guests (x86): the hypervisor hole and the read-only M2P table.', [
    ['__HYPERVISOR_VIRT_START', '0xffff800000000000', 'Start of the range reserved for Xen.', { ...x86, perArch: { x86_32: 0xf5800000 } }],
    ['HYPERVISOR_VIRT_START', '0xffff800000000000', 'Start of the range reserved for Xen, as an unsigned long.', { ...x86, perArch: { x86_32: 0xf5800000 } }],
    ['__HYPERVISOR_VIRT_END', '0xffff880000000000', 'End of the range reserved for Xen (x86_64; on x86_32 it runs to the top of memory).', x86_64],
    ['HYPERVISOR_VIRT_END', '0xffff880000000000', 'End of the range reserved for Xen, as an unsigned long (x86_64).', x86_64],
    ['__MACH2PHYS_VIRT_START', '0xffff800000000000', 'Start of the machine-to-physical table mapping.', { ...x86, perArch: { x86_32: 0xf5800000 } }],
    ['__MACH2PHYS_VIRT_END', '0xffff804000000000', 'End of the machine-to-physical table mapping.', { ...x86, perArch: { x86_32: 0xf6800000 } }],
    ['MACH2PHYS_VIRT_START', '0xffff800000000000', 'Start of the M2P table, as an unsigned long.', { ...x86, perArch: { x86_32: 0xf5800000 } }],
    ['MACH2PHYS_VIRT_END', '0xffff804000000000', 'End of the M2P table, as an unsigned long.', { ...x86, perArch: { x86_32: 0xf6800000 } }],
    ['MACH2PHYS_NR_ENTRIES', 0x800000000, 'Entries of the M2P table (one unsigned long per machine frame).', { ...x86, perArch: { x86_32: 0x400000 } }],
    ['__HYPERVISOR_VIRT_START_PAE', 0xf5800000, 'Start of Xen’s range for PAE guests (x86_32).', x86_32],
    ['__MACH2PHYS_VIRT_START_PAE', 0xf5800000, 'Start of the M2P table for PAE guests (x86_32).', x86_32],
    ['__MACH2PHYS_VIRT_END_PAE', 0xf6800000, 'End of the M2P table for PAE guests (x86_32).', x86_32],
    ['HYPERVISOR_VIRT_START_PAE', 0xf5800000, 'HYPERVISOR_VIRT_START for PAE guests, as an unsigned long (x86_32).', x86_32],
    ['MACH2PHYS_VIRT_START_PAE', 0xf5800000, 'M2P start for PAE guests, as an unsigned long (x86_32).', x86_32],
    ['MACH2PHYS_VIRT_END_PAE', 0xf6800000, 'M2P end for PAE guests, as an unsigned long (x86_32).', x86_32],
    ['__HYPERVISOR_VIRT_START_NONPAE', 0xfc000000, 'Start of Xen’s range for the obsolete non-PAE guests (x86_32).', x86_32],
    ['__MACH2PHYS_VIRT_START_NONPAE', 0xfc000000, 'M2P start for the obsolete non-PAE guests (x86_32).', x86_32],
    ['__MACH2PHYS_VIRT_END_NONPAE', 0xfc400000, 'M2P end for the obsolete non-PAE guests (x86_32).', x86_32],
    ['HYPERVISOR_VIRT_START_NONPAE', 0xfc000000, 'Non-PAE HYPERVISOR_VIRT_START as an unsigned long (x86_32).', x86_32],
    ['MACH2PHYS_VIRT_START_NONPAE', 0xfc000000, 'Non-PAE M2P start as an unsigned long (x86_32).', x86_32],
    ['MACH2PHYS_VIRT_END_NONPAE', 0xfc400000, 'Non-PAE M2P end as an unsigned long (x86_32).', x86_32],
  ], { ref: X86_SPLIT }),

  // arch-arm.h (all but XEN_HYPERCALL_TAG and XEN_LEGACY_MAX_VCPUS are toolstack-only)
  b.group('XEN_DOMCTL_CONFIG_GIC', 'enum', 'Interrupt controller versions of xen_arch_domainconfig.gic_version (Arm).', [
    ['XEN_DOMCTL_CONFIG_GIC_NATIVE', 0, 'Use the host’s GIC version; the chosen one is written back.', armTools],
    ['XEN_DOMCTL_CONFIG_GIC_V2', 1, 'GICv2.', armTools],
    ['XEN_DOMCTL_CONFIG_GIC_V3', 2, 'GICv3.', armTools],
  ], { type: 'uint8_t', ref: { header: ARM } }),
  b.group('XEN_DOMCTL_CONFIG_TEE', 'enum', 'Trusted execution environment mediators of xen_arch_domainconfig.tee_type (Arm).', [
    ['XEN_DOMCTL_CONFIG_TEE_NONE', 0, 'No TEE access.', armTools],
    ['XEN_DOMCTL_CONFIG_TEE_OPTEE', 1, 'OP-TEE, mediated by Xen.', armTools],
  ], { type: 'uint16_t', ref: { header: ARM } }),
  b.group('PSR', 'flags', 'Bits of the Arm program status register (cpsr of vcpu_guest_core_regs) and initial values.', [
    ['PSR_THUMB', 0x20, 'Thumb state.', { bit: 5, ...armTools }],
    ['PSR_FIQ_MASK', 0x40, 'FIQs masked.', { bit: 6, ...armTools }],
    ['PSR_IRQ_MASK', 0x80, 'IRQs masked.', { bit: 7, ...armTools }],
    ['PSR_ABT_MASK', 0x100, 'Asynchronous aborts masked.', { bit: 8, ...armTools }],
    ['PSR_BIG_ENDIAN', 0x200, 'AArch32: big-endian data accesses.', { bit: 9, ...armTools }],
    ['PSR_DBG_MASK', 0x200, 'AArch64: debug exceptions masked.', { bit: 9, ...armTools }],
    ['PSR_IT_MASK', 0x0600fc00, 'AArch32: Thumb If-Then state bits.', armTools],
    ['PSR_JAZELLE', 0x1000000, 'AArch32: Jazelle state.', { bit: 24, ...armTools }],
    ['PSR_Z', 0x40000000, 'Zero condition flag.', { bit: 30, ...armTools }],
    ['PSR_GUEST32_INIT', 0x400001d3, 'Initial cpsr of an AArch32 guest: SVC mode, Z set, aborts/IRQs/FIQs masked.', armTools],
    ['PSR_GUEST64_INIT', 0x1c5, 'Initial cpsr of an AArch64 guest: EL1h, aborts/IRQs/FIQs masked.', armTools],
    ['SCTLR_GUEST_INIT', 0xc50078, 'Initial SCTLR of a guest (MMU and caches off).', armTools],
  ], { ref: { header: ARM } }),
  b.group('PSR_MODE', 'values', 'Processor mode field of the Arm PSR (low 5 bits).', [
    ['PSR_MODE_USR', 0x10, 'AArch32 User.', armTools],
    ['PSR_MODE_FIQ', 0x11, 'AArch32 FIQ.', armTools],
    ['PSR_MODE_IRQ', 0x12, 'AArch32 IRQ.', armTools],
    ['PSR_MODE_SVC', 0x13, 'AArch32 Supervisor.', armTools],
    ['PSR_MODE_MON', 0x16, 'AArch32 Monitor.', armTools],
    ['PSR_MODE_ABT', 0x17, 'AArch32 Abort.', armTools],
    ['PSR_MODE_HYP', 0x1a, 'AArch32 Hypervisor.', armTools],
    ['PSR_MODE_UND', 0x1b, 'AArch32 Undefined.', armTools],
    ['PSR_MODE_SYS', 0x1f, 'AArch32 System.', armTools],
    ['PSR_MODE_BIT', 0x10, 'Set exactly when the mode is an AArch32 one.', armTools],
    ['PSR_MODE_EL3h', 0x0d, 'AArch64 EL3 using SP_EL3.', armTools],
    ['PSR_MODE_EL3t', 0x0c, 'AArch64 EL3 using SP_EL0.', armTools],
    ['PSR_MODE_EL2h', 0x09, 'AArch64 EL2 using SP_EL2.', armTools],
    ['PSR_MODE_EL2t', 0x08, 'AArch64 EL2 using SP_EL0.', armTools],
    ['PSR_MODE_EL1h', 0x05, 'AArch64 EL1 using SP_EL1.', armTools],
    ['PSR_MODE_EL1t', 0x04, 'AArch64 EL1 using SP_EL0.', armTools],
    ['PSR_MODE_EL0t', 0x00, 'AArch64 EL0.', armTools],
  ], { ref: { header: ARM } }),
  b.group('GUEST_MEMORY_MAP', 'values', 'Fixed guest physical memory map of Arm guests built by the toolstack (bases and sizes in bytes).', [
    ['GUEST_VIRTIO_MMIO_BASE', 0x02000000, 'Base of the virtio-mmio device window.', armTools],
    ['GUEST_VIRTIO_MMIO_SIZE', 0x00100000, 'Size of the virtio-mmio device window.', armTools],
    ['GUEST_GICD_BASE', 0x03001000, 'GICv2 distributor base.', armTools],
    ['GUEST_GICD_SIZE', 0x00001000, 'GICv2 distributor size.', armTools],
    ['GUEST_GICC_BASE', 0x03002000, 'GICv2 CPU interface base.', armTools],
    ['GUEST_GICC_SIZE', 0x00002000, 'GICv2 CPU interface size.', armTools],
    ['GUEST_GICV3_GICD_BASE', 0x03001000, 'GICv3 distributor base.', armTools],
    ['GUEST_GICV3_GICD_SIZE', 0x00010000, 'GICv3 distributor size.', armTools],
    ['GUEST_GICV3_RDIST_REGIONS', 1, 'Number of GICv3 redistributor regions.', armTools],
    ['GUEST_GICV3_GICR0_BASE', 0x03020000, 'Base of the first GICv3 redistributor region (vCPUs 0 to 127).', armTools],
    ['GUEST_GICV3_GICR0_SIZE', 0x01000000, 'Size of the first GICv3 redistributor region.', armTools],
    ['GUEST_VPCI_ECAM_BASE', 0x10000000, 'Virtual PCI ECAM configuration space base.', armTools],
    ['GUEST_VPCI_ECAM_SIZE', 0x10000000, 'Virtual PCI ECAM configuration space size.', armTools],
    ['GUEST_ACPI_BASE', 0x20000000, 'Base of the ACPI tables region.', armTools],
    ['GUEST_ACPI_SIZE', 0x02000000, 'Size of the ACPI tables region.', armTools],
    ['GUEST_PL011_BASE', 0x22000000, 'Emulated PL011 UART base.', armTools],
    ['GUEST_PL011_SIZE', 0x00001000, 'Emulated PL011 UART size.', armTools],
    ['GUEST_VPCI_ADDR_TYPE_MEM', 0x02000000, 'PCI address-space code of the 32-bit memory window (device-tree ranges).', armTools],
    ['GUEST_VPCI_MEM_ADDR', 0x23000000, 'Base of the virtual PCI 32-bit memory window.', armTools],
    ['GUEST_VPCI_MEM_SIZE', 0x10000000, 'Size of the virtual PCI 32-bit memory window.', armTools],
    ['GUEST_GNTTAB_BASE', 0x38000000, 'Where the grant table frames are mapped.', armTools],
    ['GUEST_GNTTAB_SIZE', 0x01000000, 'Size of the grant table region.', armTools],
    ['GUEST_MAGIC_BASE', 0x39000000, 'Base of the special pages (xenstore, console rings...).', armTools],
    ['GUEST_MAGIC_SIZE', 0x01000000, 'Size of the special pages region.', armTools],
    ['GUEST_RAM_BANKS', 2, 'Number of guest RAM banks.', armTools],
    ['GUEST_RAM0_BASE', 0x40000000, 'Base of RAM bank 0 (low RAM at 1 GiB).', armTools],
    ['GUEST_RAM0_SIZE', 0xc0000000, 'Size of RAM bank 0 (3 GiB).', armTools],
    ['GUEST_VPCI_ADDR_TYPE_PREFETCH_MEM', 0x42000000, 'PCI address-space code of the 64-bit prefetchable memory window.', armTools],
    ['GUEST_VPCI_PREFETCH_MEM_ADDR', 0x100000000, 'Base of the virtual PCI prefetchable memory window.', armTools],
    ['GUEST_VPCI_PREFETCH_MEM_SIZE', 0x100000000, 'Size of the virtual PCI prefetchable memory window.', armTools],
    ['GUEST_RAM1_BASE', 0x0200000000, 'Base of RAM bank 1 (high RAM at 8 GiB).', armTools],
    ['GUEST_RAM1_SIZE', 0xfe00000000, 'Size of RAM bank 1 (1016 GiB).', armTools],
    ['GUEST_RAM_BASE', 0x40000000, 'Lowest guest RAM address.', armTools],
    ['GUEST_RAM_MAX', 0xfec0000000, 'Total RAM the two banks can hold.', armTools],
    ['GUEST_MAX_VCPUS', 128, 'Most vCPUs the memory map has redistributor room for.', armTools],
  ], { ref: { header: ARM } }),
  b.group('GUEST_IRQ', 'values', 'Interrupt numbers of the virtual devices of Arm guests.', [
    ['GUEST_TIMER_VIRT_PPI', 27, 'Virtual timer PPI.', armTools],
    ['GUEST_TIMER_PHYS_S_PPI', 29, 'Secure physical timer PPI.', armTools],
    ['GUEST_TIMER_PHYS_NS_PPI', 30, 'Non-secure physical timer PPI.', armTools],
    ['GUEST_EVTCHN_PPI', 31, 'PPI that signals pending event channels.', armTools],
    ['GUEST_VPL011_SPI', 32, 'SPI of the emulated PL011 UART.', armTools],
    ['GUEST_VIRTIO_MMIO_SPI_FIRST', 33, 'First SPI for virtio-mmio devices.', armTools],
    ['GUEST_VIRTIO_MMIO_SPI_LAST', 43, 'Last SPI for virtio-mmio devices.', armTools],
  ], { ref: { header: ARM } }),
  b.group('PSCI', 'enum', 'PSCI 0.1 function indexes Xen advertises to Arm guests in the device tree.', [
    ['PSCI_cpu_suspend', 0, 'CPU_SUSPEND.', armTools],
    ['PSCI_cpu_off', 1, 'CPU_OFF.', armTools],
    ['PSCI_cpu_on', 2, 'CPU_ON.', armTools],
    ['PSCI_migrate', 3, 'MIGRATE.', armTools],
  ], { ref: { header: ARM } }),
];

// ───────────────────────────── register-file helpers ─────────────────────────────

/** x86_64 `__DECL_REG_HI(n)`: r<n> with its 32-, 16- and 8-bit views. */
const hi64 = (n: number): Field =>
  f('', inlineUnion([
    f(`r${n}`, 'uint64_t', `R${n}.`),
    f(`r${n}d`, 'uint32_t', `Low 32 bits of R${n}.`),
    f(`r${n}w`, 'uint16_t', `Low 16 bits of R${n}.`),
    f(`r${n}b`, 'uint8_t', `Low 8 bits of R${n}.`),
  ]), `Register R${n} and its narrower views.`);

/** x86_64 `__DECL_REG_LOHI(w)`: r<w>x, e<w>x, <w>x and the <w>l/<w>h bytes. */
const lohi64 = (w: string): Field => {
  const R = `R${w.toUpperCase()}X`;
  return f('', inlineUnion([
    f(`r${w}x`, 'uint64_t', `${R}.`),
    f(`e${w}x`, 'uint32_t', `Low 32 bits of ${R}.`),
    f(`${w}x`, 'uint16_t', `Low 16 bits of ${R}.`),
    f('', inlineStruct([
      f(`${w}l`, 'uint8_t', `Bits 0 to 7 of ${R}.`),
      f(`${w}h`, 'uint8_t', `Bits 8 to 15 of ${R}.`),
    ]), `The two low bytes of ${R}.`),
  ]), `Register ${R} and its narrower views.`);
};

/** x86_64 `__DECL_REG_LO8(n)`: r<n>, e<n>, <n> and the <n>l byte. */
const lo8x64 = (n: string): Field => {
  const R = `R${n.toUpperCase()}`;
  return f('', inlineUnion([
    f(`r${n}`, 'uint64_t', `${R}.`),
    f(`e${n}`, 'uint32_t', `Low 32 bits of ${R}.`),
    f(n, 'uint16_t', `Low 16 bits of ${R}.`),
    f(`${n}l`, 'uint8_t', `Low 8 bits of ${R}.`),
  ]), `Register ${R} and its narrower views.`);
};

/** x86_64 `__DECL_REG_LO16(n)`: r<n>, e<n> and <n>. */
const lo16x64 = (n: string): Field => {
  const R = `R${n.toUpperCase()}`;
  return f('', inlineUnion([
    f(`r${n}`, 'uint64_t', `${R}.`),
    f(`e${n}`, 'uint32_t', `Low 32 bits of ${R}.`),
    f(n, 'uint16_t', `Low 16 bits of ${R}.`),
  ]), `Register ${R} and its narrower views.`);
};

/** x86_32 `__DECL_REG_LO8(w)`: e<w>x, <w>x and the <w>l/<w>h bytes. */
const lo8x32 = (w: string): Field => {
  const R = `E${w.toUpperCase()}X`;
  return f('', inlineUnion([
    f(`e${w}x`, 'uint32_t', `${R}.`),
    f(`${w}x`, 'uint16_t', `Low 16 bits of ${R}.`),
    f('', inlineStruct([
      f(`${w}l`, 'uint8_t', `Bits 0 to 7 of ${R}.`),
      f(`${w}h`, 'uint8_t', `Bits 8 to 15 of ${R}.`),
    ]), `The two low bytes of ${R}.`),
  ]), `Register ${R} and its narrower views.`);
};

/** x86_32 `__DECL_REG_LO16(n)`: e<n>, _e<n> and <n>. */
const lo16x32 = (n: string): Field => {
  const R = `E${n.toUpperCase()}`;
  return f('', inlineUnion([
    f(`e${n}`, 'uint32_t', `${R}.`),
    f(`_e${n}`, 'uint32_t', `${R} (alternative name).`),
    f(n, 'uint16_t', `Low 16 bits of ${R}.`),
  ]), `Register ${R} and its narrower views.`);
};

/** Arm `__DECL_REG(n64, n32)`: one 64-bit slot named for AArch64, its low half named for AArch32. */
const armReg = (n64: string, n32: string, doc: string): Field =>
  f('', inlineUnion([
    f(n64, 'uint64_t', `AArch64 ${n64}.`),
    f(n32, 'uint32_t', `AArch32 ${n32}.`),
  ]), doc);

const seg = (name: string, pad: string, padType: string, doc: string): Field[] => [
  f(name, 'uint16_t', doc),
  f(pad, padType, 'Padding.'),
];

// ───────────────────────────── types ─────────────────────────────

const cpuUserRegs32: TypeBody = {
  kind: 'struct',
  fields: [
    lo8x32('b'),
    lo8x32('c'),
    lo8x32('d'),
    lo16x32('si'),
    lo16x32('di'),
    lo16x32('bp'),
    lo8x32('a'),
    f('error_code', 'uint16_t', 'Error code of the exception being delivered (Xen-private).'),
    f('entry_vector', 'uint16_t', 'Vector the context was entered through (Xen-private).'),
    lo16x32('ip'),
    f('cs', 'uint16_t', 'Code segment selector.'),
    f('saved_upcall_mask', 'uint8_t', 'Event upcall mask saved on exception entry; EFLAGS.IF reads as its inverse.'),
    f('_pad0', 'uint8_t', 'Padding.'),
    lo16x32('flags'),
    lo16x32('sp'),
    ...seg('ss', '_pad1', 'uint16_t', 'Stack segment selector.'),
    ...seg('es', '_pad2', 'uint16_t', 'ES selector.'),
    ...seg('ds', '_pad3', 'uint16_t', 'DS selector.'),
    ...seg('fs', '_pad4', 'uint16_t', 'FS selector.'),
    ...seg('gs', '_pad5', 'uint16_t', 'GS selector.'),
  ],
};

const vcpuGuestCoreRegsFields: Field[] = [
  armReg('x0', 'r0_usr', 'General register 0.'),
  armReg('x1', 'r1_usr', 'General register 1.'),
  armReg('x2', 'r2_usr', 'General register 2.'),
  armReg('x3', 'r3_usr', 'General register 3.'),
  armReg('x4', 'r4_usr', 'General register 4.'),
  armReg('x5', 'r5_usr', 'General register 5.'),
  armReg('x6', 'r6_usr', 'General register 6.'),
  armReg('x7', 'r7_usr', 'General register 7.'),
  armReg('x8', 'r8_usr', 'General register 8.'),
  armReg('x9', 'r9_usr', 'General register 9.'),
  armReg('x10', 'r10_usr', 'General register 10.'),
  armReg('x11', 'r11_usr', 'General register 11.'),
  armReg('x12', 'r12_usr', 'General register 12.'),
  armReg('x13', 'sp_usr', 'X13; AArch32 user-mode SP.'),
  armReg('x14', 'lr_usr', 'X14; AArch32 user-mode LR.'),
  armReg('x15', '__unused_sp_hyp', 'X15; unused AArch32 slot (the hypervisor SP is not guest state).'),
  armReg('x16', 'lr_irq', 'X16; AArch32 IRQ-mode LR.'),
  armReg('x17', 'sp_irq', 'X17; AArch32 IRQ-mode SP.'),
  armReg('x18', 'lr_svc', 'X18; AArch32 supervisor-mode LR.'),
  armReg('x19', 'sp_svc', 'X19; AArch32 supervisor-mode SP.'),
  armReg('x20', 'lr_abt', 'X20; AArch32 abort-mode LR.'),
  armReg('x21', 'sp_abt', 'X21; AArch32 abort-mode SP.'),
  armReg('x22', 'lr_und', 'X22; AArch32 undefined-mode LR.'),
  armReg('x23', 'sp_und', 'X23; AArch32 undefined-mode SP.'),
  armReg('x24', 'r8_fiq', 'X24; AArch32 FIQ-mode R8.'),
  armReg('x25', 'r9_fiq', 'X25; AArch32 FIQ-mode R9.'),
  armReg('x26', 'r10_fiq', 'X26; AArch32 FIQ-mode R10.'),
  armReg('x27', 'r11_fiq', 'X27; AArch32 FIQ-mode R11.'),
  armReg('x28', 'r12_fiq', 'X28; AArch32 FIQ-mode R12.'),
  armReg('x29', 'sp_fiq', 'X29 (frame pointer); AArch32 FIQ-mode SP.'),
  armReg('x30', 'lr_fiq', 'X30 (link register); AArch32 FIQ-mode LR.'),
  armReg('pc64', 'pc32', 'Program counter to resume at (ELR_EL2).'),
  f('cpsr', 'uint64_t', 'Saved program status (SPSR_EL2): mode and PSR_* bits.'),
  f('', inlineUnion([
    f('spsr_el1', 'uint64_t', 'AArch64 SPSR_EL1.'),
    f('spsr_svc', 'uint32_t', 'AArch32 supervisor-mode SPSR.'),
  ]), 'Saved status register of the guest kernel mode.'),
  f('spsr_fiq', 'uint32_t', 'AArch32 FIQ-mode SPSR.'),
  f('spsr_irq', 'uint32_t', 'AArch32 IRQ-mode SPSR.'),
  f('spsr_und', 'uint32_t', 'AArch32 undefined-mode SPSR.'),
  f('spsr_abt', 'uint32_t', 'AArch32 abort-mode SPSR.'),
  f('sp_el0', 'uint64_t', 'AArch64 SP_EL0.'),
  f('sp_el1', 'uint64_t', 'AArch64 SP_EL1.'),
  f('elr_el1', 'uint64_t', 'AArch64 ELR_EL1.'),
];

const types = [
  // xen.h: time and shared info
  b.struct('vcpu_time_info', 'Per-vCPU system time parameters Xen publishes; readers retry while version is odd or changes.', [
    f('version', 'uint32_t', 'Update counter: odd while Xen is writing, bumped before and after each update.'),
    f('pad0', 'uint32_t', 'Padding.'),
    f('tsc_timestamp', 'uint64_t', 'TSC (or Arm counter) value at the last update.'),
    f('system_time', 'uint64_t', 'Nanoseconds since boot at the last update.'),
    f('tsc_to_system_mul', 'uint32_t', 'Multiplier (32.32 fixed point) turning shifted TSC ticks into nanoseconds.'),
    f('tsc_shift', 'int8_t', 'Shift applied to the TSC delta before the multiplication (negative: right shift).'),
    f('flags', 'uint8_t', 'XEN_PVCLOCK_* bits.', { values: 'XEN_PVCLOCK' }),
    f('pad1', 'uint8_t[2]', 'Padding.'),
  ], { aliases: ['vcpu_time_info_t'] }),
  b.struct('arch_vcpu_info', 'Arch part of vcpu_info: the x86 PV fault address and padding to 64 bytes; empty on Arm.', [
    f('cr2', 'unsigned long', 'Faulting linear address of the last page fault delivered to a PV guest.'),
    f('pad', 'unsigned long', 'Padding that keeps vcpu_info at 64 bytes.'),
  ], {
    aliases: ['arch_vcpu_info_t'],
    overrides: {
      x86_32: {
        kind: 'struct',
        fields: [
          f('cr2', 'unsigned long', 'Faulting linear address of the last page fault delivered to a PV guest.'),
          f('pad', 'unsigned long[5]', 'Padding that keeps vcpu_info at 64 bytes.'),
        ],
      },
      arm: { kind: 'struct', fields: [] },
    },
    ref: { header: X86, doc: 'x86: arch-x86/xen-x86_64.h, arch-x86/xen-x86_32.h; Arm: arch-arm.h' },
  }),
  b.struct('vcpu_info', 'Per-vCPU event and time state shared with Xen (in shared_info or a registered area).', [
    f('evtchn_upcall_pending', 'uint8_t', 'Set by Xen when an event is pending for the vCPU; the guest clears it before scanning.'),
    f('evtchn_upcall_mask', 'uint8_t', 'Non-zero: Xen does not make event upcalls to this vCPU (x86 PV upcall mask).', x86),
    f('pad0', 'uint8_t', 'Padding where the upcall mask does not exist (Arm).', arm),
    f('evtchn_pending_sel', 'xen_ulong_t', 'Selector: bit i set when word i of evtchn_pending may have a pending unmasked port.'),
    f('arch', 'struct arch_vcpu_info', 'Arch-specific state.'),
    f('time', 'vcpu_time_info_t', 'System time parameters of this vCPU.'),
  ], { aliases: ['vcpu_info_t'] }),
  b.struct('arch_shared_info', 'Arch part of shared_info: the x86 PV P2M description and NMI reason; empty on Arm.', [
    f('max_pfn', 'unsigned long', 'Number of valid entries in the P2M.'),
    f('pfn_to_mfn_frame_list_list', 'xen_pfn_t', 'Top frame of the 3-level P2M frame tree (0: not set, all ones: unusable, use p2m_vaddr).'),
    f('nmi_reason', 'unsigned long', 'Why the last NMI was raised (XEN_NMIREASON_* bits).', { values: 'XEN_NMIREASON' }),
    f('p2m_cr3', 'unsigned long', 'Page-table root (CR3 format) of the address space holding the linear P2M list; 0: none.'),
    f('p2m_vaddr', 'unsigned long', 'Virtual address of the linear P2M list.'),
    f('p2m_generation', 'unsigned long', 'Counter the guest bumps around P2M mapping changes; odd while an update is in progress.'),
    f('wc_sec_hi', 'uint32_t', 'High 32 bits of the wall-clock seconds (x86_32, where shared_info has no room).', x86_32),
  ], {
    aliases: ['arch_shared_info_t'],
    overrides: { arm: { kind: 'struct', fields: [] } },
    ref: { header: X86, doc: 'Arm: xen/include/public/arch-arm.h' },
  }),
  b.struct('shared_info', 'The page Xen shares with every domain: legacy vcpu_info slots, 2-level event bitmaps and wall-clock time.', [
    f('vcpu_info', 'struct vcpu_info[XEN_LEGACY_MAX_VCPUS]', 'vcpu_info of the first XEN_LEGACY_MAX_VCPUS vCPUs.'),
    f('evtchn_pending', 'xen_ulong_t[64]', '2-level ABI pending bits, one per port (sizeof(xen_ulong_t)*8 words).'),
    f('evtchn_mask', 'xen_ulong_t[64]', '2-level ABI mask bits, one per port (sizeof(xen_ulong_t)*8 words).'),
    f('wc_version', 'uint32_t', 'Wall-clock update counter, used like vcpu_time_info.version.'),
    f('wc_sec', 'uint32_t', 'Wall-clock seconds since the Unix epoch at system time 0 (low 32 bits).'),
    f('wc_nsec', 'uint32_t', 'Nanoseconds part of the wall-clock time.'),
    f('wc_sec_hi', 'uint32_t', 'High 32 bits of the wall-clock seconds.'),
    f('arch', 'struct arch_shared_info', 'Arch-specific shared state.'),
  ], {
    aliases: ['shared_info_t'],
    overrides: {
      x86_32: {
        kind: 'struct',
        fields: [
          f('vcpu_info', 'struct vcpu_info[XEN_LEGACY_MAX_VCPUS]', 'vcpu_info of the first XEN_LEGACY_MAX_VCPUS vCPUs.'),
          f('evtchn_pending', 'xen_ulong_t[32]', '2-level ABI pending bits, one per port (sizeof(xen_ulong_t)*8 words).'),
          f('evtchn_mask', 'xen_ulong_t[32]', '2-level ABI mask bits, one per port (sizeof(xen_ulong_t)*8 words).'),
          f('wc_version', 'uint32_t', 'Wall-clock update counter, used like vcpu_time_info.version.'),
          f('wc_sec', 'uint32_t', 'Wall-clock seconds since the Unix epoch at system time 0 (low 32 bits; the high half is arch.wc_sec_hi).'),
          f('wc_nsec', 'uint32_t', 'Nanoseconds part of the wall-clock time.'),
          f('arch', 'struct arch_shared_info', 'Arch-specific shared state.'),
        ],
      },
    },
  }),

  // xen.h: start of day
  b.struct('start_info', 'Start-of-day information Xen or the domain builder places in an x86 PV guest; its address is in RSI/ESI at entry.', [
    f('magic', 'char[32]', 'NUL-terminated "xen-<version>-<platform>" string.'),
    f('nr_pages', 'unsigned long', 'Pages allocated to the domain.'),
    f('shared_info', 'unsigned long', 'Machine address of the shared_info page.'),
    f('flags', 'uint32_t', 'SIF_* flags.', { values: 'SIF' }),
    f('store_mfn', 'xen_pfn_t', 'Frame of the xenstore ring page.'),
    f('store_evtchn', 'uint32_t', 'Event channel port of xenstore.'),
    f('console', inlineUnion([
      f('domU', inlineStruct([
        f('mfn', 'xen_pfn_t', 'Frame of the console ring page.'),
        f('evtchn', 'uint32_t', 'Event channel port of the console.'),
      ]), 'Console of an ordinary domain: a shared ring.'),
      f('dom0', inlineStruct([
        f('info_off', 'uint32_t', 'Offset of the dom0_vga_console_info record within this page.'),
        f('info_size', 'uint32_t', 'Size of that record.'),
      ]), 'Console of the initial domain: the firmware console description.'),
    ]), 'Console description; which member applies depends on SIF_INITDOMAIN.'),
    f('pt_base', 'unsigned long', 'Virtual address of the bootstrap top-level page table.'),
    f('nr_pt_frames', 'unsigned long', 'Number of bootstrap page-table frames.'),
    f('mfn_list', 'unsigned long', 'Virtual address of the initial P2M array.'),
    f('mod_start', 'unsigned long', 'Virtual address (or frame number with SIF_MOD_START_PFN) of the boot module, e.g. the initrd.'),
    f('mod_len', 'unsigned long', 'Size of the boot module in bytes.'),
    f('cmd_line', 'int8_t[MAX_GUEST_CMDLINE]', 'NUL-terminated kernel command line.'),
    f('first_p2m_pfn', 'unsigned long', 'First frame of the initial P2M table (when placed separately).'),
    f('nr_p2m_frames', 'unsigned long', 'Number of frames of the initial P2M table.'),
  ], { aliases: ['start_info_t'], arches: ['x86'] }),
  b.struct('xen_multiboot_mod_list', 'One module descriptor at the start of a SIF_MULTIBOOT_MOD package; a zero mod_start ends the list.', [
    f('mod_start', 'uint32_t', 'Offset of the module’s first byte from the package start.'),
    f('mod_end', 'uint32_t', 'Offset of the module’s last byte (inclusive).'),
    f('cmdline', 'uint32_t', 'Offset of the module’s NUL-terminated command line.'),
    f('pad', 'uint32_t', 'Must be zero.'),
  ]),
  b.struct('dom0_vga_console_info', 'Firmware console of the initial domain (text mode or linear frame buffer).', [
    f('video_type', 'uint8_t', 'XEN_VGATYPE_* kind, selecting the member of u.', { values: 'XEN_VGATYPE' }),
    f('u', inlineUnion([
      f('text_mode_3', inlineStruct([
        f('font_height', 'uint16_t', 'Character cell height in pixels.'),
        f('cursor_x', 'uint16_t', 'Cursor column.'),
        f('cursor_y', 'uint16_t', 'Cursor row.'),
        f('rows', 'uint16_t', 'Text rows.'),
        f('columns', 'uint16_t', 'Text columns.'),
      ]), 'For XEN_VGATYPE_TEXT_MODE_3.'),
      f('vesa_lfb', inlineStruct([
        f('width', 'uint16_t', 'Width in pixels.'),
        f('height', 'uint16_t', 'Height in pixels.'),
        f('bytes_per_line', 'uint16_t', 'Bytes per scan line.'),
        f('bits_per_pixel', 'uint16_t', 'Bits per pixel.'),
        f('lfb_base', 'uint32_t', 'Physical address of the frame buffer (low 32 bits).'),
        f('lfb_size', 'uint32_t', 'Frame buffer size in 64 KiB units.'),
        f('red_pos', 'uint8_t', 'Bit position of the red field.'),
        f('red_size', 'uint8_t', 'Width of the red field.'),
        f('green_pos', 'uint8_t', 'Bit position of the green field.'),
        f('green_size', 'uint8_t', 'Width of the green field.'),
        f('blue_pos', 'uint8_t', 'Bit position of the blue field.'),
        f('blue_size', 'uint8_t', 'Width of the blue field.'),
        f('rsvd_pos', 'uint8_t', 'Bit position of the reserved field.'),
        f('rsvd_size', 'uint8_t', 'Width of the reserved field.'),
        f('gbl_caps', 'uint32_t', 'VBE controller capabilities.'),
        f('mode_attrs', 'uint16_t', 'VBE mode attributes.'),
        f('pad', 'uint16_t', 'Padding.'),
        f('ext_lfb_base', 'uint32_t', 'High 32 bits of the frame buffer address.'),
      ]), 'For XEN_VGATYPE_VESA_LFB and XEN_VGATYPE_EFI_LFB.'),
    ]), 'Mode-specific description.'),
  ], { aliases: ['dom0_vga_console_info_t', 'xen_vga_console_info_t'] }),

  // x86 CPU state
  b.typedef('tsc_timestamp_t', 'uint64_t', 'A raw RDTSC value.', { arches: ['x86'], ref: { header: X86 } }),
  b.struct('cpu_user_regs', 'Saved general-purpose, instruction-pointer, flags and segment registers of an x86 vCPU (toolstack view with every register alias).', [
    hi64(15),
    hi64(14),
    hi64(13),
    hi64(12),
    lo8x64('bp'),
    lohi64('b'),
    hi64(11),
    hi64(10),
    hi64(9),
    hi64(8),
    lohi64('a'),
    lohi64('c'),
    lohi64('d'),
    lo8x64('si'),
    lo8x64('di'),
    f('error_code', 'uint32_t', 'Error code of the exception being delivered (Xen-private).'),
    f('entry_vector', 'uint32_t', 'Vector the context was entered through (Xen-private).'),
    lo16x64('ip'),
    f('cs', 'uint16_t', 'Code segment selector.'),
    f('_pad0', 'uint16_t[1]', 'Padding.'),
    f('saved_upcall_mask', 'uint8_t', 'Event upcall mask saved on exception entry; RFLAGS.IF reads as its inverse.'),
    f('_pad1', 'uint8_t[3]', 'Padding.'),
    lo16x64('flags'),
    lo8x64('sp'),
    ...seg('ss', '_pad2', 'uint16_t[3]', 'Stack segment selector.'),
    ...seg('es', '_pad3', 'uint16_t[3]', 'ES selector.'),
    ...seg('ds', '_pad4', 'uint16_t[3]', 'DS selector.'),
    ...seg('fs', '_pad5', 'uint16_t[3]', 'FS selector.'),
    ...seg('gs', '_pad6', 'uint16_t[3]', 'GS selector.'),
  ], { aliases: ['cpu_user_regs_t'], arches: ['x86'], overrides: { x86_32: cpuUserRegs32 }, ref: X86_SPLIT }),

  // Arm CPU state
  b.struct('vcpu_guest_core_regs', 'Core registers of an Arm vCPU: each 64-bit slot doubles as an AArch32 banked register (toolstack only).', vcpuGuestCoreRegsFields, {
    aliases: ['vcpu_guest_core_regs_t'],
    arches: ['arm'],
    ref: { header: ARM },
  }),

  // vCPU context
  b.struct('vcpu_guest_context', 'Full register context of a vCPU, as loaded by VCPUOP_initialise (PV, Arm) and get/set by domctl.', [
    f('fpu_ctxt', inlineStruct([f('x', 'char[512]', 'FXSAVE image (or FSAVE without FXSR).')]), 'User FPU/SSE state, first so it can be 16-byte aligned.'),
    f('flags', 'unsigned long', 'VGCF_* flags.', { values: 'VGCF' }),
    f('user_regs', 'struct cpu_user_regs', 'General registers.'),
    f('trap_ctxt', 'struct trap_info[256]', 'Virtual IDT: one trap_info per vector.'),
    f('ldt_base', 'unsigned long', 'Linear address of the LDT.'),
    f('ldt_ents', 'unsigned long', 'Number of LDT entries.'),
    f('gdt_frames', 'unsigned long[16]', 'Machine frames of the GDT.'),
    f('gdt_ents', 'unsigned long', 'Number of GDT entries.'),
    f('kernel_ss', 'unsigned long', 'Kernel stack segment (the virtual TSS SS1, or SS0 on x86_64).'),
    f('kernel_sp', 'unsigned long', 'Kernel stack pointer.'),
    f('ctrlreg', 'unsigned long[8]', 'CR0 to CR7; CR3 holds the page-table base (xen_pfn_to_cr3), CR1 the x86_64 user page table.'),
    f('debugreg', 'unsigned long[8]', 'DR0 to DR7.'),
    f('event_callback_cs', 'unsigned long', 'Code segment of the event upcall handler (x86_32).', x86_32),
    f('event_callback_eip', 'unsigned long', 'Address of the event upcall handler.'),
    f('failsafe_callback_cs', 'unsigned long', 'Code segment of the failsafe handler (x86_32).', x86_32),
    f('failsafe_callback_eip', 'unsigned long', 'Address of the failsafe handler, entered when Xen cannot restore segment state.'),
    f('syscall_callback_eip', 'unsigned long', 'Address of the SYSCALL entry handler (x86_64).', x86_64),
    f('vm_assist', 'unsigned long', 'Bitmap of enabled VMASST_TYPE_* assists.', { values: 'VMASST_TYPE' }),
    f('fs_base', 'uint64_t', 'FS base address (x86_64).', x86_64),
    f('gs_base_kernel', 'uint64_t', 'Kernel-mode GS base address (x86_64).', x86_64),
    f('gs_base_user', 'uint64_t', 'User-mode GS base address (x86_64).', x86_64),
  ], {
    aliases: ['vcpu_guest_context_t'],
    overrides: {
      arm: {
        kind: 'struct',
        fields: [
          f('flags', 'uint32_t', 'VGCF_* flags.'),
          f('user_regs', 'struct vcpu_guest_core_regs', 'Core registers.'),
          f('sctlr', 'uint64_t', 'System control register.'),
          f('ttbcr', 'uint64_t', 'Translation table base control register (TCR).'),
          f('ttbr0', 'uint64_t', 'Translation table base register 0.'),
          f('ttbr1', 'uint64_t', 'Translation table base register 1.'),
        ],
      },
    },
    ref: { header: X86, doc: 'Arm: xen/include/public/arch-arm.h (toolstack only there)' },
  }),

  // Domain creation (toolstack only)
  b.struct('xen_arch_domainconfig', 'Arch part of the domain-creation configuration (toolstack only; XEN_DOMCTL_createdomain).', [
    f('emulation_flags', 'uint32_t', 'XEN_X86_EMU_* devices to emulate.', { dir: 'in', values: 'XEN_X86_EMU' }),
    f('misc_flags', 'uint32_t', 'XEN_X86_MSR_RELAXED and future flags.', { dir: 'in' }),
  ], {
    overrides: {
      arm: {
        kind: 'struct',
        fields: [
          f('gic_version', 'uint8_t', 'XEN_DOMCTL_CONFIG_GIC_* version; NATIVE is replaced by the one chosen.', { dir: 'inout' }),
          f('tee_type', 'uint16_t', 'XEN_DOMCTL_CONFIG_TEE_* mediator.', { dir: 'in' }),
          f('nr_spis', 'uint32_t', 'Number of shared peripheral interrupts to provide.', { dir: 'in' }),
          f('clock_frequency', 'uint32_t', 'Timer frequency to put in the guest device tree (0: firmware sets CNTFRQ correctly).', { dir: 'out' }),
        ],
      },
    },
    ref: { header: X86, doc: 'Arm: xen/include/public/arch-arm.h' },
  }),

  // x86 CPUID / MSR serialisation (domctl, sysctl)
  b.struct('xen_cpuid_leaf', 'One CPUID leaf in the serialised CPU policy (x86).', [
    f('leaf', 'uint32_t', 'EAX input.'),
    f('subleaf', 'uint32_t', 'ECX input, or XEN_CPUID_NO_SUBLEAF.'),
    f('a', 'uint32_t', 'EAX output.'),
    f('b', 'uint32_t', 'EBX output.'),
    f('c', 'uint32_t', 'ECX output.'),
    f('d', 'uint32_t', 'EDX output.'),
  ], { aliases: ['xen_cpuid_leaf_t'], arches: ['x86'], ref: { header: X86 } }),
  b.struct('xen_msr_entry', 'One MSR in the serialised CPU policy (x86).', [
    f('idx', 'uint32_t', 'MSR index.'),
    f('flags', 'uint32_t', 'Reserved, must be zero.'),
    f('val', 'uint64_t', 'MSR value.'),
  ], { aliases: ['xen_msr_entry_t'], arches: ['x86'], ref: { header: X86 } }),

  // Arm PMU placeholder
  b.struct('xen_pmu_arch', 'Arch part of the shared PMU page on Arm: a placeholder (PMU virtualisation is x86 only).', [
    f('dummy', 'uint8_t', 'Unused.'),
  ], { aliases: ['xen_pmu_arch_t'], arches: ['arm'], ref: { header: ARM } }),
];

export const arch: FamilyModule = {
  family: b.family(
    'Shared memory structures and per-arch state: shared_info, vcpu_info, start_info, time info, CPU registers and vCPU context.',
  ),
  types,
  constants,
  hypercalls: [],
  resources: [],
};
