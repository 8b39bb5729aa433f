/**
 * memory_op (12): memory reservations, page exchange, the physmap of translated guests,
 * memory maps, populate-on-demand targets, the toolstack's paging, access and sharing
 * controls, claims, vNUMA information and resource mapping.
 *
 * `cmd` packs two things: bits 0-5 select the XENMEM_* command, the bits above carry the
 * extent to resume from when Xen continues a preempted call (Xen-internal MEMOP_CMD_MASK
 * and MEMOP_EXTENT_SHIFT = 6, not in the public headers). A fresh call passes 0 there.
 *
 * Results: the three reservation commands return how many extents were done (never an
 * errno; a failure shows as a short count). maximum_ram_page, current/maximum_reservation,
 * maximum_gpfn and get_sharing_* return a number. The others return 0 or a negative errno.
 *
 * @see xen/include/public/memory.h
 * @see xen/common/memory.c, xen/common/compat/memory.c, xen/arch/x86/mm.c,
 *      xen/arch/x86/x86_64/mm.c, xen/arch/x86/x86_64/compat/mm.c, xen/arch/x86/mm/p2m.c,
 *      xen/arch/x86/hvm/hypercall.c, xen/arch/arm/mm.c, xen/common/mem_access.c,
 *      xen/arch/x86/mm/mem_paging.c, xen/arch/x86/mm/mem_sharing.c (RELEASE-4.17.7)
 */
import { arg, err, f, familyBuilder, inlineUnion, use, when, type FamilyModule } from '../../builders.js';
import type { ErrorDecl } from '../../model.js';

const H = 'xen/include/public/memory.h';
const C = 'xen/common/memory.c';
const X = 'xen/arch/x86/mm.c';
const X64 = 'xen/arch/x86/x86_64/mm.c';
const b = familyBuilder('memory', H);

// ───────────────────────────── constants ─────────────────────────────

const constants = [
  b.flags('XENMEMF', 'Flag bits of the mem_flags word of a reservation (bits 0-7 hold an address width, bits 8-15 a NUMA node plus one).', [
    ['XENMEMF_populate_on_demand', 16, 'populate_physmap: mark the frames populate-on-demand instead of backing them now (not allowed on the caller itself).'],
    ['XENMEMF_exact_node_request', 17, 'Allocate only from the node given in bits 8-15, never fall back to another node.'],
    ['XENMEMF_vnode', 18, 'The node in bits 8-15 is a virtual NUMA node of the target domain, not a host node.'],
  ], { type: 'unsigned int' }),
  b.group('XENMAPSPACE', 'enum', 'Where the frame that add_to_physmap places comes from.', [
    ['XENMAPSPACE_shared_info', 0, 'The domain’s shared_info page (idx must be 0).'],
    ['XENMAPSPACE_grant_table', 1, 'A frame of the domain’s grant table; idx is the frame number, OR XENMAPIDX_grant_table_status for a v2 status frame.'],
    ['XENMAPSPACE_gmfn', 2, 'A frame of the domain itself, named by its current gfn in idx (x86 only).'],
    ['XENMAPSPACE_gmfn_range', 3, 'size consecutive frames starting at gfn idx (add_to_physmap only, x86 only).'],
    ['XENMAPSPACE_gmfn_foreign', 4, 'A frame of another domain, named by its gfn there (add_to_physmap_batch only).'],
    ['XENMAPSPACE_dev_mmio', 5, 'Device MMIO at machine frame idx, mapped cacheable into the hardware domain itself (Arm only).'],
  ], { type: 'unsigned int' }),
  b.flags('XENMAPIDX', 'Flag bits of the idx of add_to_physmap.', [
    ['XENMAPIDX_grant_table_status', 31, 'With XENMAPSPACE_grant_table on a v2 table: map a status frame instead of a shared frame.'],
  ], { type: 'xen_ulong_t' }),
  b.group('XENMEM_paging_op', 'enum', 'Commands of XENMEM_paging_op, in xen_mem_paging_op.op.', [
    ['XENMEM_paging_op_nominate', 0, 'Mark a gfn as a candidate for paging out.', { tools: true }],
    ['XENMEM_paging_op_evict', 1, 'Drop the frame behind a nominated gfn; the pager holds its contents.', { tools: true }],
    ['XENMEM_paging_op_prep', 2, 'Allocate a frame for a paged-out gfn, optionally filling it from the buffer.', { tools: true }],
  ], { type: 'uint8_t' }),
  b.group('XENMEM_access_op', 'enum', 'Commands of XENMEM_access_op, in xen_mem_access_op.op (2 and 3 were used once and stay reserved).', [
    ['XENMEM_access_op_set_access', 0, 'Set the access rights of nr frames from pfn (pfn ~0: the domain default).', { tools: true }],
    ['XENMEM_access_op_get_access', 1, 'Read the access rights of one frame (pfn ~0: the domain default).', { tools: true }],
    ['XENMEM_access_op_set_access_multi', 4, 'Set per-frame access rights from the pfn_list and access_list arrays.', { tools: true }],
  ], { type: 'uint8_t' }),
  b.group('XENMEM_access', 'enum', 'Access rights of a guest frame for the monitoring (vm_event) interface.', [
    ['XENMEM_access_n', 0, 'No access.', { tools: true }],
    ['XENMEM_access_r', 1, 'Read only.', { tools: true }],
    ['XENMEM_access_w', 2, 'Write only.', { tools: true }],
    ['XENMEM_access_rw', 3, 'Read and write.', { tools: true }],
    ['XENMEM_access_x', 4, 'Execute only.', { tools: true }],
    ['XENMEM_access_rx', 5, 'Read and execute.', { tools: true }],
    ['XENMEM_access_wx', 6, 'Write and execute.', { tools: true }],
    ['XENMEM_access_rwx', 7, 'Full access.', { tools: true }],
    ['XENMEM_access_rx2rw', 8, 'Read and execute; the first write turns it into read-write.', { tools: true }],
    ['XENMEM_access_n2rwx', 9, 'No access; the first access turns it into full access and raises an event without pausing the vCPU.', { tools: true }],
    ['XENMEM_access_default', 10, 'Whatever the domain’s default access is.', { tools: true }],
  ], { type: 'xenmem_access_t' }),
  b.group('XENMEM_sharing_op', 'enum', 'Commands of XENMEM_sharing_op, in xen_mem_sharing_op.op.', [
    ['XENMEM_sharing_op_nominate_gfn', 0, 'Make a gfn shareable and get a handle for it.', { tools: true }],
    ['XENMEM_sharing_op_nominate_gref', 1, 'Make the frame behind a grant reference shareable and get a handle for it.', { tools: true }],
    ['XENMEM_sharing_op_share', 2, 'Merge a client page into a source page, both named by gfn (or gref) and handle.', { tools: true }],
    ['XENMEM_sharing_op_debug_gfn', 3, 'Log the sharing state of a gfn.', { tools: true }],
    ['XENMEM_sharing_op_debug_mfn', 4, 'Log the sharing state of an mfn (not implemented in 4.17: ENOSYS).', { tools: true }],
    ['XENMEM_sharing_op_debug_gref', 5, 'Log the sharing state of the frame behind a grant reference.', { tools: true }],
    ['XENMEM_sharing_op_add_physmap', 6, 'Map a shared source page into a client gfn that has no page.', { tools: true }],
    ['XENMEM_sharing_op_audit', 7, 'Check the consistency of all sharing state (only in audit builds).', { tools: true }],
    ['XENMEM_sharing_op_range_share', 8, 'Share every sharable page of a gfn range between two paused domains.', { tools: true }],
    ['XENMEM_sharing_op_fork', 9, 'Make the domain a fork of a parent domain, sharing its memory.', { tools: true }],
    ['XENMEM_sharing_op_fork_reset', 10, 'Reset a fork’s state and/or memory to its parent’s.', { tools: true }],
  ], { type: 'uint8_t' }),
  b.group('XENMEM_SHARING_OP', 'values', 'Special results of XENMEM_sharing_op share and add_physmap (numerically -XEN_ECHILD and -XEN_EBADF).', [
    ['XENMEM_SHARING_OP_S_HANDLE_INVALID', -10, 'The source handle no longer names the source page.', { tools: true }],
    ['XENMEM_SHARING_OP_C_HANDLE_INVALID', -9, 'The client handle no longer names the client page.', { tools: true }],
  ], { type: 'int' }),
  b.group('XENMEM_SHARING_OP_FIELD', 'flags', 'Marker in a 64-bit gfn field of a sharing op.', [
    ['XENMEM_SHARING_OP_FIELD_IS_GREF_FLAG', '0x4000000000000000', 'The field holds a grant reference (low bits) instead of a gfn.', { bit: 62, tools: true }],
  ], { type: 'uint64_t' }),
  b.group('XENMEM_FORK', 'flags', 'Flags of the fork and fork_reset sharing commands.', [
    ['XENMEM_FORK_WITH_IOMMU_ALLOWED', 1, 'fork: allow a fork even though the parent has an IOMMU context.', { bit: 0, tools: true }],
    ['XENMEM_FORK_BLOCK_INTERRUPTS', 2, 'fork: deliver no interrupts to the fork.', { bit: 1, tools: true }],
    ['XENMEM_FORK_RESET_STATE', 4, 'fork_reset: reset the vCPU and device state.', { bit: 2, tools: true }],
    ['XENMEM_FORK_RESET_MEMORY', 8, 'fork_reset: drop the pages the fork has populated.', { bit: 3, tools: true }],
  ], { type: 'uint16_t' }),
  b.group('XENMEM_RDM', 'flags', 'Flags of reserved_device_memory_map.', [
    ['XENMEM_RDM_ALL', 1, 'Report the regions of every device, ignoring dev.', { bit: 0, tools: true }],
  ], { type: 'uint32_t' }),
  b.group('XENMEM_resource', 'enum', 'Kinds of resource acquire_resource maps.', [
    ['XENMEM_resource_ioreq_server', 0, 'The pages of an ioreq server; id is the server id.'],
    ['XENMEM_resource_grant_table', 1, 'Grant table frames; id is XENMEM_resource_grant_table_id_*.'],
    ['XENMEM_resource_vmtrace_buf', 2, 'The processor trace buffer of a vCPU; id is the vCPU.'],
  ], { type: 'uint16_t' }),
  b.group('XENMEM_resource_grant_table_id', 'enum', 'Ids of the grant table resource.', [
    ['XENMEM_resource_grant_table_id_shared', 0, 'The shared (entry) frames.'],
    ['XENMEM_resource_grant_table_id_status', 1, 'The v2 status frames.'],
  ], { type: 'uint32_t' }),
  b.group('XENMEM_resource_ioreq_server_frame', 'values', 'Frame indices of the ioreq server resource (frame 1 + n is ioreq page n).', [
    ['XENMEM_resource_ioreq_server_frame_bufioreq', 0, 'The buffered ioreq ring.'],
  ], { type: 'uint64_t' }),
];

// ───────────────────────────── types ─────────────────────────────

const domid = (doc: string, dir: 'in' | 'out' | 'inout' = 'in') => f('domid', 'domid_t', doc, { dir });
const handle64Pad = (h: string, doc: string) =>
  inlineUnion([f('h', h, doc), f('pad', 'uint64_t', 'Widens the member to 8 bytes on every ABI.')]);

const types = [
  b.struct('xen_memory_reservation', 'A batch of extents (2^extent_order pages each) to allocate, free or populate for a domain; also the argument of claim_pages.', [
    f('extent_start', 'handle(xen_pfn_t)', 'Array of extent base frames: gfns to free or populate, MFNs written back to PV callers; may be NULL for increase_reservation and must be NULL for claim_pages.', { dir: 'inout', count: 'nr_extents' }),
    f('nr_extents', 'xen_ulong_t', 'Number of extents (claim_pages: the number of pages to claim).', { dir: 'in' }),
    f('extent_order', 'unsigned int', 'log2 of the pages per extent.', { dir: 'in' }),
    f('mem_flags', 'unsigned int', 'XENMEMF_* flags, address width (bits 0-7) and node + 1 (bits 8-15); ignored by decrease_reservation.', { dir: 'in', values: 'XENMEMF' }),
    domid('Domain whose memory changes (DOMID_SELF, or one the caller controls).'),
  ], { aliases: ['xen_memory_reservation_t'] }),
  b.struct('xen_memory_exchange', 'Trades a set of the domain’s frames for newly allocated ones of another size or placement.', [
    f('in', 'struct xen_memory_reservation', 'The extents given up, by gfn.', { dir: 'in' }),
    f('out', 'struct xen_memory_reservation', 'The extents wanted: gfns to place them at; PV callers get the new MFNs written back.', { dir: 'inout' }),
    f('nr_exchanged', 'xen_ulong_t', 'Input extents done so far; the caller must pass 0, Xen reports progress even on failure.', { dir: 'inout' }),
  ], { aliases: ['xen_memory_exchange_t'] }),
  b.struct('xen_memory_domain', 'Names the domain for the reservation and gpfn queries.', [
    domid('The domain queried (DOMID_SELF allowed).'),
  ]),
  b.struct('xen_machphys_mfn_list', 'Buffer for the machine frames that hold the machine-to-phys table, one per 2 MiB of table.', [
    f('max_extents', 'unsigned int', 'Capacity of extent_start.', { dir: 'in' }),
    f('extent_start', 'handle(xen_pfn_t)', 'Receives the base MFN of each 2 MiB chunk of the table; a hole repeats the previous MFN.', { dir: 'out', count: 'max_extents' }),
    f('nr_extents', 'unsigned int', 'Entries written.', { dir: 'out' }),
  ], { aliases: ['xen_machphys_mfn_list_t'] }),
  b.struct('xen_machphys_mapping', 'Where the read-only machine-to-phys table is mapped in a PV guest’s address space.', [
    f('v_start', 'xen_ulong_t', 'First virtual address of the table.', { dir: 'out' }),
    f('v_end', 'xen_ulong_t', 'End virtual address of the table.', { dir: 'out' }),
    f('max_mfn', 'xen_ulong_t', 'Highest MFN the table can translate.', { dir: 'out' }),
  ], { aliases: ['xen_machphys_mapping_t'] }),
  b.struct('xen_add_to_physmap', 'Places one frame (or a run of frames) of a given space at a gfn of a translated domain.', [
    domid('The translated domain whose physmap changes.'),
    f('size', 'uint16_t', 'XENMAPSPACE_gmfn_range: number of frames.', { dir: 'in' }),
    f('space', 'unsigned int', 'XENMAPSPACE_* source of the frame.', { dir: 'in', values: 'XENMAPSPACE' }),
    f('idx', 'xen_ulong_t', 'Index in the space: frame number of the grant table (with XENMAPIDX_* flags), source gfn, or 0 for shared_info.', { dir: 'in' }),
    f('gpfn', 'xen_pfn_t', 'Gfn at which the frame appears.', { dir: 'in' }),
  ], { aliases: ['xen_add_to_physmap_t'] }),
  b.union('xen_add_to_physmap_batch_extra', 'The space-specific word of add_to_physmap_batch.', [
    f('foreign_domid', 'domid_t', 'XENMAPSPACE_gmfn_foreign: the domain owning the source frames.'),
    f('res0', 'uint16_t', 'Other spaces: must be 0.'),
  ]),
  b.struct('xen_add_to_physmap_batch', 'Places a list of frames of one space at a list of gfns, with an error code per entry.', [
    domid('The translated domain whose physmap changes.'),
    f('space', 'uint16_t', 'XENMAPSPACE_* source of the frames (not gmfn_range).', { dir: 'in', values: 'XENMAPSPACE' }),
    f('size', 'uint16_t', 'Number of entries in idxs, gpfns and errs.', { dir: 'in' }),
    f('u', 'union xen_add_to_physmap_batch_extra', 'Foreign domain id, or 0.', { dir: 'in' }),
    f('idxs', 'handle(xen_ulong_t)', 'Index of each frame in the space (a gfn of the foreign domain for gmfn_foreign).', { dir: 'in', count: 'size' }),
    f('gpfns', 'handle(xen_pfn_t)', 'Gfn at which each frame appears.', { dir: 'in', count: 'size' }),
    f('errs', 'handle(int)', 'Receives 0 or a negative errno per entry.', { dir: 'out', count: 'size' }),
  ], { aliases: ['xen_add_to_physmap_batch_t'] }),
  b.struct('xen_remove_from_physmap', 'Removes the page at a gfn of a translated domain.', [
    domid('The translated domain whose physmap changes.'),
    f('gpfn', 'xen_pfn_t', 'The gfn to unmap.', { dir: 'in' }),
  ], { aliases: ['xen_remove_from_physmap_t'] }),
  b.struct('xen_memory_map', 'A buffer of E820-style entries (64-bit addr, 64-bit size, 32-bit type, packed: 20 bytes each).', [
    f('nr_entries', 'unsigned int', 'In: capacity of buffer in entries (set_memory_map: the count supplied). Out: entries written, or needed.', { dir: 'inout' }),
    f('buffer', 'handle(void)', 'The entries: written by memory_map and machine_memory_map, read by set_memory_map.', { dir: 'inout', count: 'nr_entries' }),
  ], { aliases: ['xen_memory_map_t'] }),
  b.struct('xen_foreign_memory_map', 'A memory map for a named domain (set_memory_map).', [
    domid('The domain whose pseudo-physical map is set.'),
    f('map', 'struct xen_memory_map', 'The entries.', { dir: 'in' }),
  ], { aliases: ['xen_foreign_memory_map_t'] }),
  b.struct('xen_pod_target', 'Populate-on-demand target and counters of an HVM domain.', [
    f('target_pages', 'uint64_t', 'set_pod_target: the memory target in pages.', { dir: 'in' }),
    f('tot_pages', 'uint64_t', 'Pages the domain has.', { dir: 'out' }),
    f('pod_cache_pages', 'uint64_t', 'Pages held in the PoD cache.', { dir: 'out' }),
    f('pod_entries', 'uint64_t', 'Gfns still marked populate-on-demand.', { dir: 'out' }),
    domid('The HVM domain.'),
  ], { aliases: ['xen_pod_target_t'] }),
  b.struct('xen_mem_paging_op', 'A command for the memory pager of a domain.', [
    f('op', 'uint8_t', 'XENMEM_paging_op_* command.', { dir: 'in' }),
    f('domain', 'domid_t', 'The paged domain (not the caller; DOMID_SELF not accepted).', { dir: 'in' }),
    f('buffer', 'handle64(uint8_t)', 'prep: optional page of contents to load (NULL: leave the new frame uninitialised).', { dir: 'in' }),
    f('gfn', 'uint64_aligned_t', 'The gfn operated on.', { dir: 'in' }),
  ], { aliases: ['xen_mem_paging_op_t'] }),
  b.typedef('xenmem_access_t', 'unsigned int', 'A C enum of XENMEM_access_* rights (4 bytes).'),
  b.struct('xen_mem_access_op', 'Sets or reads the access rights the monitoring interface enforces on guest frames.', [
    f('op', 'uint8_t', 'XENMEM_access_op_* command.', { dir: 'in' }),
    f('access', 'uint8_t', 'XENMEM_access_* rights: set by set_access, returned by get_access.', { dir: 'inout' }),
    f('domid', 'domid_t', 'The monitored domain (not the caller; DOMID_SELF not accepted).', { dir: 'in' }),
    f('nr', 'uint32_t', 'set_access: frames from pfn; set_access_multi: entries of the lists.', { dir: 'in' }),
    f('pfn', 'uint64_aligned_t', 'First (or only) gfn; ~0 names the domain default.', { dir: 'in' }),
    f('pfn_list', 'handle(uint64_t)', 'set_access_multi: the gfns.', { dir: 'in', count: 'nr' }),
    f('access_list', 'handle(uint8_t)', 'set_access_multi: the rights for each gfn.', { dir: 'in', count: 'nr' }),
  ], { aliases: ['xen_mem_access_op_t'] }),
  b.struct('mem_sharing_op_nominate', 'Arguments of nominate_gfn and nominate_gref.', [
    f('u', inlineUnion([
      f('gfn', 'uint64_aligned_t', 'nominate_gfn: the gfn.'),
      f('grant_ref', 'uint32_t', 'nominate_gref: the grant reference.'),
    ]), 'The page to nominate.', { dir: 'in' }),
    f('handle', 'uint64_aligned_t', 'The sharing handle of the nominated page.', { dir: 'out' }),
  ]),
  b.struct('mem_sharing_op_share', 'Arguments of share and add_physmap.', [
    f('source_gfn', 'uint64_aligned_t', 'Gfn (or gref with XENMEM_SHARING_OP_FIELD_IS_GREF_FLAG) of the source page.', { dir: 'in' }),
    f('source_handle', 'uint64_aligned_t', 'Handle the source page got when nominated.', { dir: 'in' }),
    f('client_gfn', 'uint64_aligned_t', 'Gfn (or flagged gref) of the client page.', { dir: 'in' }),
    f('client_handle', 'uint64_aligned_t', 'Handle of the client page (share only).', { dir: 'in' }),
    f('client_domain', 'domid_t', 'The client domain.', { dir: 'in' }),
  ]),
  b.struct('mem_sharing_op_range', 'Arguments of range_share.', [
    f('first_gfn', 'uint64_aligned_t', 'First gfn of the range.', { dir: 'in' }),
    f('last_gfn', 'uint64_aligned_t', 'Last gfn of the range.', { dir: 'in' }),
    f('opaque', 'uint64_aligned_t', 'Progress marker Xen uses across continuations; pass 0.', { dir: 'inout' }),
    f('client_domain', 'domid_t', 'The client domain.', { dir: 'in' }),
    f('_pad', 'uint16_t[3]', 'Must be 0.', { dir: 'in' }),
  ]),
  b.struct('mem_sharing_op_debug', 'Arguments of the debug commands.', [
    f('u', inlineUnion([
      f('gfn', 'uint64_aligned_t', 'debug_gfn: the gfn.'),
      f('mfn', 'uint64_aligned_t', 'debug_mfn: the mfn.'),
      f('gref', 'uint32_t', 'debug_gref: the grant reference.'),
    ]), 'The page to report on.', { dir: 'in' }),
  ]),
  b.struct('mem_sharing_op_fork', 'Arguments of fork and fork_reset.', [
    f('parent_domain', 'domid_t', 'fork: the parent domain.', { dir: 'in' }),
    f('flags', 'uint16_t', 'XENMEM_FORK_* flags.', { dir: 'in', values: 'XENMEM_FORK' }),
    f('pad', 'uint32_t', 'Must be 0.', { dir: 'in' }),
  ]),
  b.struct('xen_mem_sharing_op', 'A memory sharing command and its arguments.', [
    f('op', 'uint8_t', 'XENMEM_sharing_op_* command.', { dir: 'in' }),
    f('domain', 'domid_t', 'The (source) domain; not the caller, DOMID_SELF not accepted.', { dir: 'in' }),
    f('u', inlineUnion([
      f('nominate', 'struct mem_sharing_op_nominate', 'nominate_gfn, nominate_gref.'),
      f('share', 'struct mem_sharing_op_share', 'share, add_physmap.'),
      f('range', 'struct mem_sharing_op_range', 'range_share.'),
      f('debug', 'struct mem_sharing_op_debug', 'debug_gfn, debug_mfn, debug_gref.'),
      f('fork', 'struct mem_sharing_op_fork', 'fork, fork_reset.'),
    ]), 'Command-specific arguments; written back on success.', { dir: 'inout' }),
  ], { aliases: ['xen_mem_sharing_op_t'] }),
  b.struct('xen_reserved_device_memory', 'A guest-physical range a device needs kept free (identity-mapped for DMA).', [
    f('start_pfn', 'xen_pfn_t', 'First frame of the range.'),
    f('nr_pages', 'xen_ulong_t', 'Frames in the range.'),
  ], { aliases: ['xen_reserved_device_memory_t'] }),
  b.struct('xen_reserved_device_memory_map', 'Buffer and filter for reserved_device_memory_map.', [
    f('flags', 'uint32_t', 'XENMEM_RDM_* flags.', { dir: 'in', values: 'XENMEM_RDM' }),
    f('nr_entries', 'unsigned int', 'In: capacity of buffer. Out: entries that exist (more than the capacity: ENOBUFS).', { dir: 'inout' }),
    f('buffer', 'handle(xen_reserved_device_memory_t)', 'Receives the ranges.', { dir: 'out', count: 'nr_entries' }),
    f('dev', inlineUnion([f('pci', 'physdev_pci_device_t', 'The PCI device (segment, bus, devfn).')]), 'The device whose ranges are wanted (ignored with XENMEM_RDM_ALL).', { dir: 'in' }),
  ], { aliases: ['xen_reserved_device_memory_map_t'] }),
  b.struct('xen_mem_acquire_resource', 'Maps frames of a resource of another domain into the caller (or asks for the resource size).', [
    f('domid', 'domid_t', 'The domain owning the resource (not the caller; DOMID_SELF not accepted).', { dir: 'in' }),
    f('type', 'uint16_t', 'XENMEM_resource_* kind.', { dir: 'in' }),
    f('id', 'uint32_t', 'Kind-specific id: ioreq server id, XENMEM_resource_grant_table_id_*, or vCPU id.', { dir: 'in' }),
    f('nr_frames', 'uint32_t', 'Frames to map; with frame_list NULL and 0 here, Xen returns the resource size in frames.', { dir: 'inout' }),
    f('pad', 'uint32_t', 'Must be 0.', { dir: 'in' }),
    f('frame', 'uint64_t', 'First frame of the resource to map.', { dir: 'in' }),
    f('frame_list', 'handle(xen_pfn_t)', 'PV caller: receives the MFNs. Translated caller: the gfns of the caller to map them at.', { dir: 'inout', count: 'nr_frames' }),
  ], { aliases: ['xen_mem_acquire_resource_t'] }),
  b.struct('xen_vmemrange', 'A memory range of a virtual NUMA node.', [
    f('start', 'uint64_t', 'First guest-physical address.'),
    f('end', 'uint64_t', 'End guest-physical address (exclusive).'),
    f('flags', 'unsigned int', 'Reserved, 0.'),
    f('nid', 'unsigned int', 'The virtual node.'),
  ], { aliases: ['xen_vmemrange_t'] }),
  b.struct('xen_vnuma_topology_info', 'Buffers for a domain’s virtual NUMA topology.', [
    domid('The domain queried (DOMID_SELF allowed).'),
    f('pad', 'uint16_t', 'Must be 0.', { dir: 'in' }),
    f('nr_vnodes', 'unsigned int', 'In: room for nodes (vdistance holds nr_vnodes squared entries). Out: the domain’s node count.', { dir: 'inout' }),
    f('nr_vcpus', 'unsigned int', 'In: entries of vcpu_to_vnode. Out: the domain’s vCPU count.', { dir: 'inout' }),
    f('nr_vmemranges', 'unsigned int', 'In: entries of vmemrange. Out: the domain’s range count.', { dir: 'inout' }),
    f('vdistance', handle64Pad('handle(unsigned int)', 'Receives the node distance matrix, nr_vnodes by nr_vnodes.'), 'Distance table buffer.', { dir: 'out' }),
    f('vcpu_to_vnode', handle64Pad('handle(unsigned int)', 'Receives the node of each vCPU (nr_vcpus entries).'), 'vCPU placement buffer.', { dir: 'out' }),
    f('vmemrange', handle64Pad('handle(xen_vmemrange_t)', 'Receives the memory ranges (nr_vmemranges entries).'), 'Memory range buffer.', { dir: 'out' }),
  ], { aliases: ['xen_vnuma_topology_info_t'] }),
];

// ───────────────────────────── errors ─────────────────────────────

const restarted = err('EINVAL', 'The continuation bits of cmd (bit 6 and up) are not 0.', when.value('cmd', 'ge', 64, 'start extent = cmd >> 6'));
const fault = err('EFAULT', 'The argument struct cannot be read or written.', when.fault('arg'));
const noDom = (path: string) => err('ESRCH', 'The domain does not exist.', when.resource(path, 'domid', 'nonexistent'));
const notTarget = (path: string) =>
  err('EPERM', 'The domain is not the caller, and the caller neither controls it nor is its device model.', when.resource(path, 'domid', 'foreign'));
const remoteDom = (path: string): ErrorDecl[] => [
  err('ESRCH', 'The domain does not exist, or is DOMID_SELF (not accepted here).', when.resource(path, 'domid', 'nonexistent')),
  err('EPERM', 'The domain is the caller itself.', when.resource(path, 'domid', 'self')),
  err('EINVAL', 'The domain is being destroyed.', when.resource(path, 'domid', 'dying')),
];
const dmPriv = err('EPERM', 'The caller is neither the control domain nor the device model of the domain.', when.privilege('device-model'));
const notTranslated = err('EACCES', 'The target domain is not translated (an x86 PV domain has no physmap to edit).', when.state('target-not-translated'));
const devMmio = err('EACCES', 'XENMAPSPACE_dev_mmio is used by a domain other than the hardware domain, or for another domain.', when.state('dev-mmio-not-hwdom-self'));
/** x86's arch_memory_op and subarch_memory_op match the whole cmd: continuation bits make the command unknown. */
const archRestarted = err('ENOSYS', 'The continuation bits of cmd (bit 6 and up) are not 0: the arch handler, which matches the whole cmd, knows no such command.', when.value('cmd', 'ge', 64), ['x86']);
const pv32Off = err('EOPNOTSUPP', '32-bit caller (compat path) while Xen runs without 32-bit PV support.', when.state('pv32-disabled'));

// ───────────────────────────── operations ─────────────────────────────

const reservationDoc =
  ' Returns the number of extents done (0 to nr_extents), never an errno: an unreadable struct, nr_extents above 0x3ffffff, ' +
  'an unknown domain, a domain the caller does not control, an address width of 1 to 12 bits, a bad node request, ' +
  'extent_order above the caller’s limit (9 for an ordinary domU) or an inaccessible list all give 0, and a failure ' +
  'partway gives the count so far.';

const ops = [
  b.op('XENMEM_increase_reservation', 0, 'Allocates nr_extents extents to a domain without mapping them; PV domains get each extent’s base MFN in extent_start (which may be NULL).' + reservationDoc, {
    arg: 'struct xen_memory_reservation', argDir: 'inout',
    consumes: [use('domid', 'arg.domid')],
    produces: [use('mfn', 'arg.extent_start', 'PV domains only: base MFN of each new extent')],
    ref: { header: H, handler: `${C}:increase_reservation` },
  }),
  b.op('XENMEM_decrease_reservation', 1, 'Frees the pages behind nr_extents gfn extents of a domain; stops at the first page that cannot be removed (not populated, MMIO, not owned).' + reservationDoc, {
    arg: 'struct xen_memory_reservation', argDir: 'in',
    consumes: [use('domid', 'arg.domid'), use('gfn', 'arg.extent_start', 'the extents to free')],
    ref: { header: H, handler: `${C}:decrease_reservation` },
  }),
  b.op('XENMEM_maximum_ram_page', 2, 'Returns one past the highest machine frame of RAM (max_page); a 32-bit caller gets it clamped to INT_MAX.', {
    arg: null,
    errors: [restarted],
    ref: { header: H, handler: `${C}:do_memory_op` },
  }),
  b.op('XENMEM_current_reservation', 3, 'Returns the number of pages a domain currently has.', {
    arg: 'struct xen_memory_domain', argDir: 'in',
    errors: [restarted, fault, noDom('arg.domid'), notTarget('arg.domid')],
    consumes: [use('domid', 'arg.domid')],
    ref: { header: H, handler: `${C}:do_memory_op` },
  }),
  b.op('XENMEM_maximum_reservation', 4, 'Returns the most pages a domain may have (max_pages).', {
    arg: 'struct xen_memory_domain', argDir: 'in',
    errors: [restarted, fault, noDom('arg.domid'), notTarget('arg.domid')],
    consumes: [use('domid', 'arg.domid')],
    ref: { header: H, handler: `${C}:do_memory_op` },
  }),
  b.op('XENMEM_machphys_mfn_list', 5, 'Lists the MFNs backing the machine-to-phys table, one per 2 MiB, up to max_extents; 32-bit callers get the compat table.', {
    arg: 'struct xen_machphys_mfn_list', argDir: 'inout', abis: ['x86'],
    errors: [archRestarted, fault, err('EFAULT', 'extent_start cannot be written.', when.fault('arg.extent_start')), pv32Off],
    produces: [use('mfn', 'arg.extent_start')],
    ref: { header: H, handler: `${X64}:subarch_memory_op` },
  }),
  b.op('XENMEM_populate_physmap', 6, 'Backs nr_extents gfn extents of a domain with new memory (or marks them populate-on-demand); PV domains get the MFNs written back.' + reservationDoc, {
    arg: 'struct xen_memory_reservation', argDir: 'inout',
    consumes: [use('domid', 'arg.domid'), use('gfn', 'arg.extent_start', 'where each extent goes')],
    produces: [use('gfn', 'arg.extent_start', 'populated extents (PV: the MFNs are written back)')],
    ref: { header: H, handler: `${C}:populate_physmap` },
  }),
  b.op('XENMEM_add_to_physmap', 7, 'Maps a frame of a space (shared_info, a grant table frame, an own gfn or a run of gfns) at a gfn of a translated domain; returns 0.', {
    arg: 'struct xen_add_to_physmap', argDir: 'in',
    errors: [
      err('EDOM', 'The continuation bits of cmd hold a start above 0xffff.', when.value('cmd', 'ge', 0x400000)),
      fault,
      err('ENOSYS', 'space is XENMAPSPACE_gmfn_foreign (only add_to_physmap_batch takes it).', when.value('arg.space', 'eq', 4)),
      noDom('arg.domid'),
      notTranslated,
      devMmio,
      notTarget('arg.domid'),
      err('EINVAL', 'gpfn is INVALID_GFN (all ones).', when.value('arg.gpfn', 'eq', '0xffffffffffffffff', 'not reachable with a 32-bit xen_pfn_t')),
      err('EINVAL', 'shared_info with idx other than 0; a grant frame beyond the table’s maximum; an idx that is not a page of the domain; x86: an unknown space.', when.state('bad-map-index')),
      err('ENOSYS', 'Arm: space gmfn, gmfn_range or unknown.', when.state('space-unsupported-on-arm')),
      err('EILSEQ', 'gmfn_range: the continuation start exceeds size.', when.state('range-start-beyond-size')),
      err('EOVERFLOW', 'gmfn_range: idx + size or gpfn + size wraps.', when.state('range-wraps')),
      err('EXDEV', 'x86 gmfn: the frame is not currently at gfn idx.', when.state('gmfn-moved')),
      err('ENXIO', 'The target gfn holds a page the domain does not own (a grant or foreign mapping), so it cannot be removed first (guest_remove_page).', when.state('gfn-holds-foreign-page')),
      err('EPERM', 'x86: the target gfn holds a direct MMIO mapping.', when.state('gfn-is-mmio')),
      err('ENOMEM', 'x86 gmfn: the page is shared and cannot be unshared.', when.state('page-shared')),
      err('EBUSY', 'A grant frame cannot be referenced, or (Arm) the Xen-heap page is already mapped at another gfn.', when.state('frame-busy')),
    ],
    consumes: [use('domid', 'arg.domid'), use('gfn', 'arg.idx', 'the source gfn for gmfn and gmfn_range')],
    produces: [use('gfn', 'arg.gpfn')],
    ref: { header: H, handler: `${C}:xenmem_add_to_physmap` },
  }),
  b.op('XENMEM_memory_map', 9, 'Copies the caller’s pseudo-physical E820 map (as set by the toolstack), up to nr_entries entries, and sets nr_entries to the count copied.', {
    arg: 'struct xen_memory_map', argDir: 'inout', abis: ['x86'],
    errors: [
      archRestarted,
      fault,
      err('ENOSYS', 'No memory map was set for the caller.', when.state('no-memory-map')),
      err('EFAULT', 'buffer cannot be written.', when.fault('arg.buffer')),
    ],
    ref: { header: H, handler: `${X}:arch_memory_op` },
  }),
  b.op('XENMEM_machine_memory_map', 10, 'Copies the host E820 map, with the caller’s I/O memory holes added as reserved; a NULL buffer only returns the entry count. x86 PV only (HVM: ENOSYS).', {
    arg: 'struct xen_memory_map', argDir: 'inout', abis: ['x86'], privilege: 'control-domain',
    errors: [
      archRestarted,
      err('ENOSYS', 'The caller is an HVM or PVH guest.', when.state('hvm-caller')),
      err('EPERM', 'The caller is not the control domain.', when.privilege('control-domain')),
      fault,
      err('EINVAL', 'buffer is not NULL and nr_entries is too small for the map.', when.state('buffer-too-small')),
      err('EFAULT', 'buffer cannot be written.', when.fault('arg.buffer')),
    ],
    ref: { header: H, handler: `${X}:arch_memory_op` },
  }),
  b.op('XENMEM_exchange', 11, 'Atomically trades in.nr_extents extents of a PV domain for out extents of another order or placement; returns 0 when all are done, else an errno with nr_exchanged telling how far it got.', {
    arg: 'struct xen_memory_exchange', argDir: 'inout',
    errors: [
      restarted,
      fault,
      err('EPERM', 'in or out extent_order is above the caller’s limit.', when.state('extent-order-above-max')),
      err('EINVAL', 'nr_exchanged exceeds in.nr_extents, in.domid differs from out.domid, or the two sides do not cover the same number of pages.', when.state('exchange-mismatch')),
      err('EFAULT', 'The remaining in or out extent list is not accessible.', when.fault('arg.in.extent_start')),
      err('EINVAL', 'out.mem_flags names a node an unprivileged caller may not demand, or a node that does not exist.', when.state('bad-node')),
      noDom('arg.in.domid'),
      notTarget('arg.in.domid'),
      err('EINVAL', 'An input gfn has no valid frame, or its page has extra references or another owner.', when.resource('arg.in.extent_start', 'gfn', 'unmapped')),
      err('EOPNOTSUPP', 'The domain is translated (HVM, PVH, Arm): pages cannot be stolen from it.', when.state('translated-domain')),
      err('ENOMEM', 'x86: an input page is shared, or the new pages cannot be allocated.', when.state('out-of-memory')),
      err('E2BIG', '32-bit caller: the order difference is too large for the translation buffer.', when.state('compat-xlat-too-small')),
    ],
    consumes: [use('domid', 'arg.in.domid'), use('gfn', 'arg.in.extent_start')],
    produces: [use('gfn', 'arg.out.extent_start', 'PV callers get the new MFNs written back')],
    ref: { header: H, handler: `${C}:memory_exchange` },
  }),
  b.op('XENMEM_machphys_mapping', 12, 'Reports the virtual range and MFN limit of the machine-to-phys table mapped into PV guests. x86 PV only (HVM: ENOSYS).', {
    arg: 'struct xen_machphys_mapping', argDir: 'out', abis: ['x86'],
    errors: [
      archRestarted,
      err('ENOSYS', 'The caller is an HVM or PVH guest.', when.state('hvm-caller')),
      err('EFAULT', 'The struct cannot be written.', when.fault('arg')),
      pv32Off,
    ],
    ref: { header: H, handler: `${X}:arch_memory_op` },
  }),
  b.op('XENMEM_set_memory_map', 13, 'Sets the pseudo-physical E820 map a domain later reads with memory_map.', {
    arg: 'struct xen_foreign_memory_map', argDir: 'in', abis: ['x86'],
    errors: [
      archRestarted,
      fault,
      err('EINVAL', 'map.nr_entries is above E820MAX (1024).', when.value('arg.map.nr_entries', 'gt', 1024)),
      noDom('arg.domid'),
      notTarget('arg.domid'),
      err('ENOMEM', 'Xen cannot allocate the copy.', when.state('out-of-memory')),
      err('EFAULT', 'The entries cannot be read.', when.fault('arg.map.buffer')),
    ],
    consumes: [use('domid', 'arg.domid')],
    ref: { header: H, handler: `${X}:arch_memory_op` },
  }),
  b.op('XENMEM_maximum_gpfn', 14, 'Returns the highest gfn a domain has mapped.', {
    arg: 'struct xen_memory_domain', argDir: 'in',
    errors: [restarted, fault, noDom('arg.domid'), notTarget('arg.domid')],
    consumes: [use('domid', 'arg.domid')],
    ref: { header: H, handler: `${C}:do_memory_op` },
  }),
  b.op('XENMEM_remove_from_physmap', 15, 'Removes the page at a gfn of a translated domain; returns 0.', {
    arg: 'struct xen_remove_from_physmap', argDir: 'in',
    errors: [
      restarted,
      fault,
      noDom('arg.domid'),
      notTranslated,
      notTarget('arg.domid'),
      err('ENOENT', 'No page is mapped at gpfn.', when.resource('arg.gpfn', 'gfn', 'unmapped')),
    ],
    consumes: [use('domid', 'arg.domid'), use('gfn', 'arg.gpfn')],
    ref: { header: H, handler: `${C}:do_memory_op` },
  }),
  b.op('XENMEM_set_pod_target', 16, 'Sets the populate-on-demand memory target of an HVM domain and returns its PoD counters.', {
    referenceVmm: { implemented: false, reason: 'populate-on-demand is a toolstack interface for HVM guests; the model has no PoD cache' },
    arg: 'struct xen_pod_target', argDir: 'inout', abis: ['x86'], privilege: 'control-domain',
    errors: [
      archRestarted,
      fault,
      noDom('arg.domid'),
      err('EINVAL', 'The domain is not HVM.', when.state('not-hvm')),
      err('EPERM', 'The caller is not the control domain.', when.privilege('control-domain')),
      err('EINVAL', 'target_pages is above the domain’s max_pages.', when.state('target-above-max')),
      err('ENOTEMPTY', 'The domain has passthrough devices or cache-flush rights, which PoD cannot serve.', when.state('has-passthrough')),
      err('ENOMEM', 'The PoD cache cannot be grown.', when.state('out-of-memory')),
    ],
    consumes: [use('domid', 'arg.domid')],
    ref: { header: H, handler: `${X}:arch_memory_op` },
  }),
  b.op('XENMEM_get_pod_target', 17, 'Returns the populate-on-demand counters of an HVM domain.', {
    referenceVmm: { implemented: false, reason: 'populate-on-demand is a toolstack interface for HVM guests; the model has no PoD cache' },
    arg: 'struct xen_pod_target', argDir: 'inout', abis: ['x86'], privilege: 'control-domain',
    errors: [
      archRestarted,
      fault,
      noDom('arg.domid'),
      err('EINVAL', 'The domain is not HVM.', when.state('not-hvm')),
      err('EPERM', 'The caller is not the control domain.', when.privilege('control-domain')),
    ],
    consumes: [use('domid', 'arg.domid')],
    ref: { header: H, handler: `${X}:arch_memory_op` },
  }),
  b.op('XENMEM_get_sharing_freed_pages', 18, 'Returns how many frames memory sharing has saved (0 without sharing support, always 0 on Arm); no permission check.', {
    referenceVmm: { implemented: false, reason: 'memory sharing (CONFIG_MEM_SHARING) is not modelled' },
    arg: null, tools: true,
    errors: [archRestarted],
    ref: { header: H, handler: `${X64}:subarch_memory_op` },
  }),
  b.op('XENMEM_get_sharing_shared_pages', 19, 'Returns how many frames are currently shared (0 without sharing support, always 0 on Arm); no permission check.', {
    referenceVmm: { implemented: false, reason: 'memory sharing (CONFIG_MEM_SHARING) is not modelled' },
    arg: null, tools: true,
    errors: [archRestarted],
    ref: { header: H, handler: `${X64}:subarch_memory_op` },
  }),
  b.op('XENMEM_paging_op', 20, 'Runs a XENMEM_paging_op_* command of the memory pager on another domain (Xen built with MEM_PAGING).', {
    referenceVmm: { implemented: false, reason: 'memory paging (CONFIG_MEM_PAGING) is not modelled' },
    arg: 'struct xen_mem_paging_op', argDir: 'inout', abis: ['x86'], tools: true, privilege: 'device-model',
    errors: [
      archRestarted,
      err('ENOSYS', 'Xen was built without memory paging, or op is not a XENMEM_paging_op_* command.', when.value('arg.op', 'gt', 2)),
      fault,
      ...remoteDom('arg.domain'),
      dmPriv,
      err('ENODEV', 'The domain has no paging ring set up.', when.state('no-paging-ring')),
      err('EINVAL', 'The gfn is in the wrong paging state for the command.', when.resource('arg.gfn', 'gfn', 'wrong-state')),
    ],
    consumes: [use('domid', 'arg.domain'), use('gfn', 'arg.gfn')],
    ref: { header: H, handler: 'xen/arch/x86/mm/mem_paging.c:mem_paging_memop' },
  }),
  b.op('XENMEM_access_op', 21, 'Sets or reads the access rights enforced on frames of a monitored domain (XENMEM_access_op_* in op).', {
    referenceVmm: { implemented: false, reason: 'mem_access (VM introspection) is not modelled' },
    arg: 'struct xen_mem_access_op', argDir: 'inout', tools: true, privilege: 'device-model',
    errors: [
      fault,
      ...remoteDom('arg.domid'),
      err('EINVAL', 'The domain cannot have access rights (e.g. x86: not HVM with hardware-assisted paging).', when.state('no-mem-access')),
      dmPriv,
      err('ENODEV', 'The domain has no monitor ring set up.', when.state('no-monitor-ring')),
      err('EINVAL', 'set_access: the range wraps or goes past the highest gfn; get_access: pfn is past the highest gfn.', when.state('range-beyond-max-gfn')),
      err('ENOSYS', 'op is not a XENMEM_access_op_* command, get_access with continuation bits set, or Xen built without MEM_ACCESS.', when.value('arg.op', 'gt', 4)),
    ],
    consumes: [use('domid', 'arg.domid'), use('gfn', 'arg.pfn')],
    ref: { header: H, handler: 'xen/common/mem_access.c:mem_access_memop' },
  }),
  b.op('XENMEM_sharing_op', 22, 'Runs a XENMEM_sharing_op_* command: nominate, share, range-share, fork or debug pages of domains (Xen built with MEM_SHARING).', {
    referenceVmm: { implemented: false, reason: 'memory sharing (CONFIG_MEM_SHARING) is not modelled' },
    arg: 'struct xen_mem_sharing_op', argDir: 'inout', abis: ['x86'], tools: true, privilege: 'device-model',
    errors: [
      archRestarted,
      err('ENOSYS', 'Xen was built without memory sharing; op is unknown or debug_mfn; fork_reset on a domain that is not a fork.', when.value('arg.op', 'gt', 10)),
      fault,
      ...remoteDom('arg.domain'),
      dmPriv,
      err('EINVAL', 'The client domain has sharing disabled; range_share padding not 0, opaque out of range, a domain not paused or a gfn past the highest; fork pad or flags invalid or vCPU counts differ.', when.state('bad-sharing-request')),
      err('ECHILD', 'share/add_physmap: the source handle is stale (XENMEM_SHARING_OP_S_HANDLE_INVALID).', when.resource('arg.u.share.source_handle', 'sharing_handle', 'stale')),
      err('EBADF', 'share: the client handle is stale (XENMEM_SHARING_OP_C_HANDLE_INVALID).', when.resource('arg.u.share.client_handle', 'sharing_handle', 'stale')),
      err('ENOMEM', 'Sharing metadata cannot be allocated.', when.state('out-of-memory')),
    ],
    consumes: [
      use('domid', 'arg.domain'),
      use('domid', 'arg.u.share.client_domain'),
      use('gfn', 'arg.u.nominate.u.gfn'),
      use('sharing_handle', 'arg.u.share.source_handle'),
      use('sharing_handle', 'arg.u.share.client_handle'),
    ],
    produces: [use('sharing_handle', 'arg.u.nominate.handle')],
    ref: { header: H, handler: 'xen/arch/x86/mm/mem_sharing.c:mem_sharing_memop' },
  }),
  b.op('XENMEM_add_to_physmap_batch', 23, 'Maps size frames of one space (often foreign gfns) at size gfns of a translated domain; the per-entry result goes to errs and the call returns 0.', {
    arg: 'struct xen_add_to_physmap_batch', argDir: 'in',
    errors: [
      err('EDOM', 'The continuation bits of cmd hold a start above 0xffff.', when.value('cmd', 'ge', 0x400000)),
      fault,
      err('EOPNOTSUPP', 'space is XENMAPSPACE_gmfn_range.', when.value('arg.space', 'eq', 3)),
      noDom('arg.domid'),
      notTranslated,
      devMmio,
      notTarget('arg.domid'),
      err('EILSEQ', 'The continuation start is past size.', when.state('range-start-beyond-size')),
      err('EFAULT', 'idxs, gpfns or errs is not accessible for size entries.', when.fault('arg.idxs')),
      err('EOPNOTSUPP', 'XENMAPSPACE_dev_mmio with u.res0 not 0.', when.state('dev-mmio-res0-set')),
      err('EINVAL', 'A gpfn is INVALID_GFN (all ones).', when.state('gpfn-invalid')),
    ],
    consumes: [use('domid', 'arg.domid'), use('domid', 'arg.u.foreign_domid'), use('gfn', 'arg.idxs', 'gfns of the foreign domain for gmfn_foreign')],
    produces: [use('gfn', 'arg.gpfns')],
    ref: { header: H, handler: `${C}:xenmem_add_to_physmap_batch` },
  }),
  b.op('XENMEM_claim_pages', 24, 'Reserves nr_extents pages of free host memory for a domain’s future allocations (0 cancels the claim); one claim per domain. Not in the 32-bit compat table (ENOSYS).', {
    referenceVmm: { implemented: false, reason: 'toolstack memory claims are not modelled' },
    arg: 'struct xen_memory_reservation', argDir: 'in', tools: true, privilege: 'control-domain',
    errors: [
      err('ENOSYS', 'The caller is a 32-bit x86 guest: the compat translation has no claim_pages.', when.state('compat-caller')),
      restarted,
      fault,
      err('EINVAL', 'extent_start is not NULL, extent_order is not 0 or mem_flags is not 0.', when.state('claim-args-not-zero')),
      err('EINVAL', 'The domain does not exist (DOMID_SELF is not accepted).', when.resource('arg.domid', 'domid', 'nonexistent')),
      err('EPERM', 'The caller is not the control domain.', when.privilege('control-domain')),
      err('EINVAL', 'A claim is already outstanding, or the count is not above the domain’s pages or is above max_pages.', when.state('claim-invalid')),
      err('ENOMEM', 'Not enough unclaimed free memory.', when.state('out-of-memory')),
    ],
    consumes: [use('domid', 'arg.domid')],
    ref: { header: H, handler: 'xen/common/page_alloc.c:domain_set_outstanding_pages' },
  }),
  b.op('XENMEM_machphys_compat_mfn_list', 25, 'Like machphys_mfn_list, for the table 32-bit PV guests see.', {
    referenceVmm: { implemented: false, reason: 'the read-only compat M2P table is not modelled' },
    arg: 'struct xen_machphys_mfn_list', argDir: 'inout', abis: ['x86'],
    errors: [
      archRestarted,
      err('EOPNOTSUPP', 'Xen runs without 32-bit PV support.', when.state('pv32-disabled')),
      fault,
      err('EFAULT', 'extent_start cannot be written.', when.fault('arg.extent_start')),
    ],
    produces: [use('mfn', 'arg.extent_start')],
    ref: { header: H, handler: `${X64}:subarch_memory_op` },
  }),
  b.op('XENMEM_get_vnumainfo', 26, 'Copies a domain’s virtual NUMA topology into the caller’s buffers; returns 0.', {
    referenceVmm: { implemented: false, reason: 'vNUMA topology is not modelled' },
    arg: 'struct xen_vnuma_topology_info', argDir: 'inout',
    errors: [
      restarted,
      fault,
      err('EINVAL', 'pad is not 0.', when.value('arg.pad', 'ne', 0)),
      noDom('arg.domid'),
      notTarget('arg.domid'),
      err('EOPNOTSUPP', 'The domain has no vNUMA topology.', when.state('no-vnuma')),
      err('ENOBUFS', 'A buffer count is below the domain’s; the needed counts are written back.', when.state('vnuma-buffers-too-small')),
      err('ENOMEM', 'Xen cannot allocate bounce buffers.', when.state('out-of-memory')),
      err('ESRCH', 'The domain is being destroyed.', when.resource('arg.domid', 'domid', 'dying')),
      err('EAGAIN', 'The topology grew while being copied; retry.', when.state('vnuma-changed')),
      err('EFAULT', 'An output buffer cannot be written.', when.fault('arg.vmemrange')),
    ],
    consumes: [use('domid', 'arg.domid')],
    ref: { header: H, handler: `${C}:do_memory_op` },
  }),
  b.op('XENMEM_reserved_device_memory_map', 27, 'Lists the guest-physical ranges devices need reserved (all devices, or one PCI device); no permission check.', {
    referenceVmm: { implemented: false, reason: 'no passthrough devices: there is no reserved device memory' },
    arg: 'struct xen_reserved_device_memory_map', argDir: 'inout', tools: true,
    errors: [
      restarted,
      fault,
      err('EFAULT', 'buffer is not accessible for nr_entries entries.', when.fault('arg.buffer')),
      err('EINVAL', 'flags has bits other than XENMEM_RDM_ALL.', when.value('arg.flags', 'mask', '0xfffffffe')),
      err('ENOBUFS', 'nr_entries is too small; the needed count is written back.', when.state('buffer-too-small')),
      err('ERANGE', '32-bit caller: a range does not fit the 32-bit fields.', when.state('compat-range')),
    ],
    ref: { header: H, handler: `${C}:do_memory_op` },
  }),
  b.op('XENMEM_acquire_resource', 28, 'Maps frames of another domain’s resource (ioreq server pages, grant table frames, vCPU trace buffer) into the caller, or returns the resource size.', {
    referenceVmm: { implemented: false, reason: 'mapping of Xen resources by the toolstack or a device model (ioreq servers, vmtrace, grant frames) is not modelled' },
    arg: 'struct xen_mem_acquire_resource', argDir: 'inout', privilege: 'device-model',
    errors: [
      err('EACCES', 'x86: the caller is translated (HVM, PVH) and not the hardware domain.', when.state('translated-caller')),
      fault,
      err('EINVAL', 'pad is not 0.', when.value('arg.pad', 'ne', 0)),
      err('EINVAL', 'frame, or frame + nr_frames, does not fit 32 bits.', when.value('arg.frame', 'ge', 0x100000000)),
      ...remoteDom('arg.domid').slice(0, 2),
      dmPriv,
      err('EINVAL', 'The resource has no frames (e.g. ioreq server of a non-HVM domain, no trace buffer, unknown grant table id).', when.state('resource-empty')),
      err('EINVAL', 'Size query with nr_frames or continuation bits not 0.', when.state('bad-size-query')),
      err('EINVAL', 'nr_frames is above 0x3ffffff, or the continuation start is not below it.', when.value('arg.nr_frames', 'gt', 0x3ffffff)),
      err('EOPNOTSUPP', 'type is not a XENMEM_resource_* kind (mapping request; a size query wrongly succeeds).', when.value('arg.type', 'gt', 2)),
      err('EINVAL', 'The frame range is beyond the resource, or the grant status frames are asked for on a v1 table.', when.state('frame-beyond-resource')),
      err('ENOENT', 'ioreq server: no server with that id; vmtrace_buf: no such vCPU.', when.resource('arg.id', 'vcpu_id', 'nonexistent')),
      err('EPERM', 'ioreq server: the caller is not the server’s emulator.', when.state('not-emulator')),
      err('EFAULT', 'frame_list cannot be read or written.', when.fault('arg.frame_list')),
      err('EIO', 'Translated caller: a frame after the first failed to map; frame_list is partly mapped.', when.state('partial-map')),
      err('ERANGE', '32-bit PV caller: an MFN does not fit 32 bits.', when.state('compat-range')),
    ],
    consumes: [use('domid', 'arg.domid'), use('gfn', 'arg.frame_list', 'translated callers: where to map')],
    produces: [use('mfn', 'arg.frame_list', 'PV callers: the resource frames')],
    ref: { header: H, handler: `${C}:acquire_resource` },
  }),
];

// ───────────────────────────── hypercalls ─────────────────────────────

const cmdDoc = 'XENMEM_* command in bits 0-5; bits 6 and up are the extent a continuation resumes from (0 on a fresh call).';
const argDoc = 'The command’s struct, or NULL.';

const hypercalls = [
  b.hypercall('memory_op', 12, 'Memory reservation, physmap and memory information commands.', {
    abis: {
      'x86_32-pv': 'compat',
      'x86_64-pv': 'native',
      'x86_32-hvm': 'hvm-filter',
      'x86_64-hvm': 'hvm-filter',
      arm64: 'native',
      arm32: 'native',
    },
    args: [arg('cmd', 'unsigned long', cmdDoc, { values: 'XENMEM' }), arg('arg', 'ptr(void)', argDoc, { dir: 'inout' })],
    argsByAbi: {
      'x86_32-pv': [arg('cmd', 'unsigned int', cmdDoc, { values: 'XENMEM' }), arg('arg', 'ptr(void)', argDoc, { dir: 'inout' })],
      'x86_32-hvm': [arg('cmd', 'unsigned int', cmdDoc, { values: 'XENMEM' }), arg('arg', 'ptr(void)', argDoc, { dir: 'inout' })],
    },
    returns: {
      type: 'long',
      doc: 'Reservation commands: extents done (never negative). maximum_ram_page, current/maximum_reservation, maximum_gpfn, get_sharing_*: the value. Others: 0, or a negative errno.',
    },
    subops: { selector: 'cmd', mask: 63, group: 'XENMEM', argument: 'arg', ops },
    errors: [
      err('ENOSYS', 'The command is not a XENMEM_* command of this ABI (8 was removed; HVM: machine_memory_map, machphys_mapping; Arm: the x86 ones).', when.state('unknown-command')),
    ],
    ref: { header: H, handler: `${C}:do_memory_op` },
  }),
];

// ───────────────────────────── resources ─────────────────────────────

const resources = [
  b.resource('sharing_handle', 'uint64_t', 'A handle to a page nominated for sharing; it goes stale when the page changes.'),
];

export const memory: FamilyModule = {
  family: b.family('memory_op: reservations, exchanges, physmap and memory maps.', { header: H, handler: C }),
  types,
  constants,
  hypercalls,
  resources,
};
