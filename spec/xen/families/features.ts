/**
 * Feature flags reported by XENVER_get_features: bit numbers within the 32-bit feature
 * words, and the number of feature words.
 *
 * `XENFEAT_grant_map_identity` (12) appears in the header only inside a comment (it is
 * withdrawn), so it is not defined and not listed here.
 *
 * @see xen/include/public/features.h
 */
import { familyBuilder, type FamilyModule } from '../../builders.js';

const H = 'xen/include/public/features.h';
const b = familyBuilder('features', H);

// ───────────────────────────── constants ─────────────────────────────

const constants = [
  b.group('XENFEAT', 'values', 'Feature bit numbers; bit N of the feature words says whether feature N is present.', [
    ['XENFEAT_writable_page_tables', 0, 'The guest may update its page tables with plain writes instead of write-protecting them.'],
    ['XENFEAT_writable_descriptor_tables', 1, 'The guest may update its segment descriptor tables with plain writes.'],
    ['XENFEAT_auto_translated_physmap', 2, 'Xen translates guest frame numbers to machine frames for the guest (no P2M kept by the guest).'],
    ['XENFEAT_supervisor_mode_kernel', 3, 'The guest kernel runs in supervisor mode (ring 0 on x86).'],
    ['XENFEAT_pae_pgdir_above_4gb', 4, 'x86 PAE page directories need not be allocated below 4 GiB.'],
    ['XENFEAT_mmu_pt_update_preserve_ad', 5, 'x86: mmu_update accepts MMU_PT_UPDATE_PRESERVE_AD requests.'],
    ['XENFEAT_highmem_assist', 6, 'x86: the MMUEXT_CLEAR_PAGE and MMUEXT_COPY_PAGE operations are available.'],
    ['XENFEAT_gnttab_map_avail_bits', 7, 'Grant map operations carry flags into the software-available bits of the guest PTE.'],
    ['XENFEAT_hvm_callback_vector', 8, 'x86 HVM: event upcalls may be delivered through a callback interrupt vector.'],
    ['XENFEAT_hvm_safe_pvclock', 9, 'x86 HVM: the PV clock algorithm is safe to use.'],
    ['XENFEAT_hvm_pirqs', 10, 'x86 HVM: physical IRQs may be delivered through event channels (PIRQs).'],
    ['XENFEAT_dom0', 11, 'The hypervisor supports running this guest as the initial domain.'],
    ['XENFEAT_memory_op_vnode_supported', 13, 'memory_op accepts a virtual NUMA node (XENMEMF_vnode) in its memory flags.'],
    ['XENFEAT_ARM_SMCCC_supported', 14, 'Arm: the hypervisor follows the SMC calling convention.'],
    ['XENFEAT_linux_rsdp_unrestricted', 15, 'x86 PVH, Linux guests: the ACPI RSDP may be placed anywhere rather than only in the first MiB.'],
    ['XENFEAT_not_direct_mapped', 16, 'The domain’s memory is not identity mapped (guest frame differs from machine frame).'],
    ['XENFEAT_direct_mapped', 17, 'The domain’s memory is identity mapped (guest frame equals machine frame).'],
  ], { type: 'uint32_t' }),
  b.group('XENFEAT_SUBMAPS', 'values', 'Size of the feature map.', [
    ['XENFEAT_NR_SUBMAPS', 1, 'Number of 32-bit feature words (submap indices) that XENVER_get_features serves.'],
  ]),
];

export const features: FamilyModule = {
  family: b.family('Feature flags reported by XENVER_get_features.'),
  types: [],
  constants,
  hypercalls: [],
  resources: [],
};
