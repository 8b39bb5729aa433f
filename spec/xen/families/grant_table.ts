/**
 * Grant tables v1 and v2: the hypercall grant_table_op (20), the shared grant entry layouts
 * a granting domain writes, the per-command structs and the GNTST_* status codes.
 *
 * Errors travel two ways. The hypercall result carries errno values for the call as a whole
 * (bad command, bad count, unreadable array, and every error of set_version, get_version and
 * cache_flush). The batched commands report per-element failures in the element's int16
 * `status` field (GNTST_*) while the call itself returns 0.
 *
 * @see xen/include/public/grant_table.h
 * @see xen/common/grant_table.c, xen/common/compat/grant_table.c, xen/arch/x86/pv/grant_table.c,
 *      xen/arch/x86/hvm/grant_table.c, xen/arch/x86/hvm/hypercall.c, xen/arch/arm/mm.c (RELEASE-4.17.7)
 */
import { arg, err, f, familyBuilder, inlineStruct, inlineUnion, status, use, when, type FamilyModule } from '../../builders.js';

const H = 'xen/include/public/grant_table.h';
const C = 'xen/common/grant_table.c';
const b = familyBuilder('grant_table', H);

// ───────────────────────────── constants ─────────────────────────────

const constants = [
  b.group('GNTTAB_RESERVED', 'values', 'Grant references kept for the toolstack across version changes.', [
    ['GNTTAB_NR_RESERVED_ENTRIES', 8, 'Entries 0 to 7 are reserved: set_version keeps them, and they may be filled at domain build.'],
    ['GNTTAB_RESERVED_CONSOLE', 0, 'Entry the toolstack uses to grant the PV console ring.'],
    ['GNTTAB_RESERVED_XENSTORE', 1, 'Entry the toolstack uses to grant the xenstore ring.'],
  ], { type: 'grant_ref_t' }),
  b.group('GTF_type', 'enum', 'Kind of a grant entry, in bits 0-1 of its flags word.', [
    ['GTF_invalid', 0, 'The entry grants nothing.'],
    ['GTF_permit_access', 1, 'The named domain may map or copy the frame.'],
    ['GTF_accept_transfer', 2, 'The named domain may transfer one page into this slot.'],
    ['GTF_transitive', 3, 'v2 only: the named domain may copy from a grant another domain gave to the granter.'],
    ['GTF_type_mask', 3, 'Mask of the kind bits.'],
  ], { type: 'uint16_t' }),
  b.flags('GTF', 'Sub-flags of a permit_access or transitive grant entry.', [
    ['GTF_readonly', 2, 'Written by the granter: only read-only mappings and copies from the frame are allowed.'],
    ['GTF_reading', 3, 'Written by Xen: the grantee currently has the frame mapped or pinned for reading.'],
    ['GTF_writing', 4, 'Written by Xen: the grantee currently has the frame mapped or pinned for writing.'],
    ['GTF_PWT', 5, 'x86: write-through cache attribute for host mappings (used for I/O memory grants).'],
    ['GTF_PCD', 6, 'x86: cache-disable attribute for host mappings (used for I/O memory grants).'],
    ['GTF_PAT', 7, 'x86: PAT-select attribute for host mappings (used for I/O memory grants).'],
    ['GTF_sub_page', 8, 'v2 only: the grant covers a byte range of the page and may only be copied, never mapped.'],
  ], { type: 'uint16_t' }),
  b.flags('GTF_transfer', 'Sub-flags of an accept_transfer grant entry, written by Xen.', [
    ['GTF_transfer_committed', 2, 'Xen has started a transfer into the entry; the granter must not change it until completed.'],
    ['GTF_transfer_completed', 3, 'The transfer is done and the entry’s frame field names the new page.'],
  ], { type: 'uint16_t' }),
  b.group('_GTF', 'values', 'Bit numbers of the GTF_* sub-flags.', [
    ['_GTF_readonly', 2, 'Bit number of GTF_readonly.'],
    ['_GTF_reading', 3, 'Bit number of GTF_reading.'],
    ['_GTF_writing', 4, 'Bit number of GTF_writing.'],
    ['_GTF_PWT', 5, 'Bit number of GTF_PWT.'],
    ['_GTF_PCD', 6, 'Bit number of GTF_PCD.'],
    ['_GTF_PAT', 7, 'Bit number of GTF_PAT.'],
    ['_GTF_sub_page', 8, 'Bit number of GTF_sub_page.'],
    ['_GTF_transfer_committed', 2, 'Bit number of GTF_transfer_committed.'],
    ['_GTF_transfer_completed', 3, 'Bit number of GTF_transfer_completed.'],
  ]),
  b.flags('GNTCOPY', 'Flags of a GNTTABOP_copy element: which sides are grant references.', [
    ['GNTCOPY_source_gref', 0, 'source.u holds a grant reference of source.domid (else a frame of the caller).'],
    ['GNTCOPY_dest_gref', 1, 'dest.u holds a grant reference of dest.domid (else a frame of the caller).'],
  ], { type: 'uint16_t' }),
  b.group('_GNTCOPY', 'values', 'Bit numbers of the GNTCOPY_* flags.', [
    ['_GNTCOPY_source_gref', 0, 'Bit number of GNTCOPY_source_gref.'],
    ['_GNTCOPY_dest_gref', 1, 'Bit number of GNTCOPY_dest_gref.'],
  ]),
  b.flags('GNTTAB_CACHE', 'Cache operations of a GNTTABOP_cache_flush element (its op field).', [
    ['GNTTAB_CACHE_CLEAN', 0, 'Write dirty cache lines of the range back to memory.'],
    ['GNTTAB_CACHE_INVAL', 1, 'Invalidate the cache lines of the range.'],
    ['GNTTAB_CACHE_SOURCE_GREF', 31, 'The element names a grant reference rather than a bus address; rejected by Xen 4.17 (EINVAL).'],
  ], { type: 'uint32_t' }),
  b.group('GNTMAP', 'flags', 'Flags of a GNTTABOP_map_grant_ref element.', [
    ['GNTMAP_device_map', 1, 'Map the frame for device (DMA) access; PV only.', { bit: 0 }],
    ['GNTMAP_host_map', 2, 'Map the frame for CPU access at host_addr.', { bit: 1 }],
    ['GNTMAP_readonly', 4, 'Make the mappings read-only.', { bit: 2 }],
    ['GNTMAP_application_map', 8, 'PV: make the host mapping accessible to user mode as well.', { bit: 3 }],
    ['GNTMAP_contains_pte', 16, 'PV: host_addr is the machine address of the L1 page-table entry to write, not a linear address.', { bit: 4 }],
    ['GNTMAP_guest_avail_mask', 0xffff0000, 'Bits copied into the software-available bits of the PV page-table entry (XENFEAT_gnttab_map_avail_bits).'],
  ], { type: 'uint32_t' }),
  b.group('_GNTMAP', 'values', 'Bit numbers of the GNTMAP_* flags.', [
    ['_GNTMAP_device_map', 0, 'Bit number of GNTMAP_device_map.'],
    ['_GNTMAP_host_map', 1, 'Bit number of GNTMAP_host_map.'],
    ['_GNTMAP_readonly', 2, 'Bit number of GNTMAP_readonly.'],
    ['_GNTMAP_application_map', 3, 'Bit number of GNTMAP_application_map.'],
    ['_GNTMAP_contains_pte', 4, 'Bit number of GNTMAP_contains_pte.'],
    ['_GNTMAP_guest_avail0', 16, 'Lowest bit of GNTMAP_guest_avail_mask.'],
  ]),
  b.group('GNTST', 'status', 'Per-element results written to the int16 status field of grant operations; failures are negative.', [
    ['GNTST_okay', 0, 'Success.'],
    ['GNTST_general_error', -1, 'Any failure without a more specific code.'],
    ['GNTST_bad_domain', -2, 'The domain id names no usable domain.'],
    ['GNTST_bad_gntref', -3, 'The grant reference is out of range, or the map flags request no mapping at all.'],
    ['GNTST_bad_handle', -4, 'The mapping handle is out of range or not in use.'],
    ['GNTST_bad_virt_addr', -5, 'An address supplied for mapping or for returned frame numbers cannot be used.'],
    ['GNTST_bad_dev_addr', -6, 'The device address does not match the mapping.'],
    ['GNTST_no_device_space', -7, 'No I/O MMU slot is left.'],
    ['GNTST_permission_denied', -8, 'The caller may not perform the operation on that domain.'],
    ['GNTST_bad_page', -9, 'The frame is not a valid page for the operation.'],
    ['GNTST_bad_copy_arg', -10, 'A copy range crosses the end of its page.'],
    ['GNTST_address_too_big', -11, 'The transferred page lies above what the receiver can address, and no lower page could be found.'],
    ['GNTST_eagain', -12, 'Nothing was done; retry later (page paged out, or entry in use).'],
    ['GNTST_no_space', -13, 'Out of mapping handles.'],
  ], { type: 'int16_t' }),
];

// ───────────────────────────── types ─────────────────────────────

const statusField = f('status', 'int16_t', 'GNTST_* result of this element.', { dir: 'out' });

const types = [
  b.typedef('grant_ref_t', 'uint32_t', 'Index of an entry in a domain’s grant table.'),
  b.typedef('grant_handle_t', 'uint32_t', 'Handle of a grant mapping, returned by map_grant_ref and presented to unmap.'),
  b.typedef('grant_status_t', 'uint16_t', 'v2: one status word per entry (GTF_reading, GTF_writing), kept in separate status frames.'),
  b.struct('grant_entry_v1', 'A v1 grant table entry, shared between the granting domain and Xen.', [
    f('flags', 'uint16_t', 'GTF_* kind and sub-flags; written by the granter, reading/writing bits by Xen.', { values: 'GTF' }),
    f('domid', 'domid_t', 'The domain the grant is for.'),
    f('frame', 'uint32_t', 'Frame granted (permit_access), slot to fill (accept_transfer), or the transferred frame once completed.'),
  ], { aliases: ['grant_entry_v1_t'] }),
  b.struct('grant_entry_header', 'The flags and domid prefix shared by v1 and v2 entries.', [
    f('flags', 'uint16_t', 'GTF_* kind and sub-flags.', { values: 'GTF' }),
    f('domid', 'domid_t', 'The domain the grant is for.'),
  ], { aliases: ['grant_entry_header_t'] }),
  b.union('grant_entry_v2', 'A v2 grant table entry: one 16-byte shape per grant kind.', [
    f('hdr', 'grant_entry_header_t', 'Common prefix: kind, sub-flags and grantee.'),
    f('full_page', inlineStruct([
      f('hdr', 'grant_entry_header_t', 'Common prefix.'),
      f('pad0', 'uint32_t', 'Padding.'),
      f('frame', 'uint64_t', 'The granted frame, or the slot of an accept_transfer grant.'),
    ]), 'Whole-page permit_access grant, or accept_transfer.'),
    f('sub_page', inlineStruct([
      f('hdr', 'grant_entry_header_t', 'Common prefix (GTF_sub_page set).'),
      f('page_off', 'uint16_t', 'First granted byte within the page.'),
      f('length', 'uint16_t', 'Number of granted bytes.'),
      f('frame', 'uint64_t', 'The granted frame.'),
    ]), 'Copy-only grant of a byte range of a page.'),
    f('transitive', inlineStruct([
      f('hdr', 'grant_entry_header_t', 'Common prefix (kind GTF_transitive).'),
      f('trans_domid', 'domid_t', 'Domain whose grant is passed on.'),
      f('pad0', 'uint16_t', 'Padding.'),
      f('gref', 'grant_ref_t', 'That domain’s grant reference.'),
    ]), 'Copy-only grant passing on a grant the granter received.'),
    f('__spacer', 'uint32_t[4]', 'Pads the entry to 16 bytes.'),
  ], { aliases: ['grant_entry_v2_t'] }),
  b.struct('gnttab_map_grant_ref', 'One element of GNTTABOP_map_grant_ref: maps another domain’s grant.', [
    f('host_addr', 'uint64_t', 'Where to map for CPU access: PV linear address or PTE machine address; translated guests: guest physical address.', { dir: 'in' }),
    f('flags', 'uint32_t', 'GNTMAP_* flags.', { dir: 'in', values: 'GNTMAP' }),
    f('ref', 'grant_ref_t', 'The grant reference in the granting domain’s table.', { dir: 'in' }),
    f('dom', 'domid_t', 'The granting domain (its numeric id; DOMID_SELF is not accepted).', { dir: 'in' }),
    statusField,
    f('handle', 'grant_handle_t', 'Handle of the new mapping.', { dir: 'out' }),
    f('dev_bus_addr', 'uint64_t', 'Machine address of the granted frame (frame number shifted by the page size).', { dir: 'out' }),
  ], { aliases: ['gnttab_map_grant_ref_t'] }),
  b.struct('gnttab_unmap_grant_ref', 'One element of GNTTABOP_unmap_grant_ref: removes mappings made by map_grant_ref.', [
    f('host_addr', 'uint64_t', 'The host mapping to remove (as given to map); 0 keeps it.', { dir: 'in' }),
    f('dev_bus_addr', 'uint64_t', 'The device mapping to remove (as returned by map); 0 keeps it.', { dir: 'in' }),
    f('handle', 'grant_handle_t', 'Handle of the mapping.', { dir: 'in' }),
    statusField,
  ], { aliases: ['gnttab_unmap_grant_ref_t'] }),
  b.struct('gnttab_setup_table', 'Argument of GNTTABOP_setup_table: grows a grant table and lists its frames.', [
    f('dom', 'domid_t', 'The domain whose table to set up (DOMID_SELF, or one the caller controls).', { dir: 'in' }),
    f('nr_frames', 'uint32_t', 'Number of frames wanted, and of frame numbers to return.', { dir: 'in' }),
    statusField,
    f('frame_list', 'handle(xen_pfn_t)', 'Caller buffer receiving nr_frames frame numbers of the table.', { dir: 'out', count: 'nr_frames' }),
  ], { aliases: ['gnttab_setup_table_t'] }),
  b.struct('gnttab_dump_table', 'Argument of GNTTABOP_dump_table (no longer implemented).', [
    f('dom', 'domid_t', 'The domain whose table to dump.', { dir: 'in' }),
    statusField,
  ], { aliases: ['gnttab_dump_table_t'] }),
  b.struct('gnttab_transfer', 'One element of GNTTABOP_transfer: gives a page of the caller to another domain.', [
    f('mfn', 'xen_pfn_t', 'The caller’s frame to give away.', { dir: 'in' }),
    f('domid', 'domid_t', 'The receiving domain.', { dir: 'in' }),
    f('ref', 'grant_ref_t', 'The receiver’s accept_transfer grant naming the caller.', { dir: 'in' }),
    f('status', 'int16_t', 'GNTST_* result of this element.', { dir: 'out', values: 'GNTST' }),
  ], { aliases: ['gnttab_transfer_t'] }),
  b.struct('gnttab_copy_ptr', 'One side of a GNTTABOP_copy element: a grant or a frame, a domain and an offset.', [
    f('u', inlineUnion([
      f('ref', 'grant_ref_t', 'Grant reference, when the side’s GNTCOPY_*_gref flag is set.'),
      f('gmfn', 'xen_pfn_t', 'Frame of the caller, when the flag is clear.'),
    ]), 'The page.'),
    f('domid', 'domid_t', 'Owner of the grant; must be DOMID_SELF for a frame.'),
    f('offset', 'uint16_t', 'Byte offset within the page.'),
  ]),
  b.struct('gnttab_copy', 'One element of GNTTABOP_copy: Xen copies bytes between two pages.', [
    f('source', 'struct gnttab_copy_ptr', 'Where to read.', { dir: 'in' }),
    f('dest', 'struct gnttab_copy_ptr', 'Where to write.', { dir: 'in' }),
    f('len', 'uint16_t', 'Bytes to copy.', { dir: 'in' }),
    f('flags', 'uint16_t', 'GNTCOPY_* flags.', { dir: 'in', values: 'GNTCOPY' }),
    statusField,
  ], { aliases: ['gnttab_copy_t'] }),
  b.struct('gnttab_query_size', 'Argument of GNTTABOP_query_size: current and maximum table size.', [
    f('dom', 'domid_t', 'The domain (DOMID_SELF, or one the caller controls).', { dir: 'in' }),
    f('nr_frames', 'uint32_t', 'Frames the table has now.', { dir: 'out' }),
    f('max_nr_frames', 'uint32_t', 'Frames the table may grow to.', { dir: 'out' }),
    statusField,
  ], { aliases: ['gnttab_query_size_t'] }),
  b.struct('gnttab_unmap_and_replace', 'One element of GNTTABOP_unmap_and_replace: unmaps and moves another PTE into place.', [
    f('host_addr', 'uint64_t', 'The host mapping to remove.', { dir: 'in' }),
    f('new_addr', 'uint64_t', 'PV linear address whose PTE replaces the grant mapping and is then cleared; 0: leave the slot empty.', { dir: 'in' }),
    f('handle', 'grant_handle_t', 'Handle of the mapping.', { dir: 'in' }),
    statusField,
  ], { aliases: ['gnttab_unmap_and_replace_t'] }),
  b.struct('gnttab_set_version', 'Argument of GNTTABOP_set_version.', [
    f('version', 'uint32_t', 'In: the wanted version (1 or 2). Out: the version in effect.', { dir: 'inout' }),
  ], { aliases: ['gnttab_set_version_t'] }),
  b.struct('gnttab_get_status_frames', 'Argument of GNTTABOP_get_status_frames: lists the v2 status frames.', [
    f('nr_frames', 'uint32_t', 'Number of frame numbers wanted.', { dir: 'in' }),
    f('dom', 'domid_t', 'The domain (DOMID_SELF, or one the caller controls).', { dir: 'in' }),
    statusField,
    f('frame_list', 'handle(uint64_t)', 'Caller buffer receiving nr_frames frame numbers.', { dir: 'out', count: 'nr_frames' }),
  ], { aliases: ['gnttab_get_status_frames_t'] }),
  b.struct('gnttab_get_version', 'Argument of GNTTABOP_get_version.', [
    f('dom', 'domid_t', 'The domain (DOMID_SELF, or one the caller controls).', { dir: 'in' }),
    f('pad', 'uint16_t', 'Padding.'),
    f('version', 'uint32_t', 'The domain’s grant table version.', { dir: 'out' }),
  ], { aliases: ['gnttab_get_version_t'] }),
  b.struct('gnttab_swap_grant_ref', 'One element of GNTTABOP_swap_grant_ref: swaps two entries of the caller’s table.', [
    f('ref_a', 'grant_ref_t', 'First entry.', { dir: 'in' }),
    f('ref_b', 'grant_ref_t', 'Second entry.', { dir: 'in' }),
    statusField,
  ], { aliases: ['gnttab_swap_grant_ref_t'] }),
  b.struct('gnttab_cache_flush', 'One element of GNTTABOP_cache_flush: cache maintenance on part of a granted page.', [
    f('a', inlineUnion([
      f('dev_bus_addr', 'uint64_t', 'Machine address of the page, as map_grant_ref returned it.'),
      f('ref', 'grant_ref_t', 'Grant reference (with GNTTAB_CACHE_SOURCE_GREF; not supported).'),
    ]), 'The page.', { dir: 'in' }),
    f('offset', 'uint16_t', 'First byte within the page.', { dir: 'in' }),
    f('length', 'uint16_t', 'Number of bytes.', { dir: 'in' }),
    f('op', 'uint32_t', 'GNTTAB_CACHE_* operations.', { dir: 'in', values: 'GNTTAB_CACHE' }),
  ], { aliases: ['gnttab_cache_flush_t'] }),
];

// ───────────────────────────── operations ─────────────────────────────

const ref = (fn: string) => ({ header: H, handler: `${C}:${fn}` });
const elementFault = err('EFAULT', 'An element cannot be read, or its results cannot be written back; earlier elements stay done.', when.fault('uop'));
const hvmOnly = (what: string) =>
  err('ENOSYS', `x86 HVM and PVH guests may not use ${what}.`, when.state('x86-hvm-guest'));
const xsmDenied = (path: string) =>
  status('GNTST_permission_denied', 'A non-default XSM policy forbids the operation (the default policy allows it).', when.state(`xsm-denies:${path}`));
const countNotOne = err('EINVAL', 'count is not 1 (32-bit callers: count 0 returns 0 and does nothing).', when.value('count', 'ne', 1));
const noDomain = (path: string) =>
  status('GNTST_bad_domain', 'The domain does not exist.', when.resource(path, 'domid', 'nonexistent'));
const notTarget = (path: string) =>
  status('GNTST_permission_denied', 'The domain is neither the caller nor one it controls (device model or control domain).', when.resource(path, 'domid', 'foreign'));

const ops = [
  b.op('GNTTABOP_map_grant_ref', 0, 'Maps grants of other domains for CPU and/or device access; each element gets a handle.', {
    arg: 'struct gnttab_map_grant_ref', argDir: 'inout',
    errors: [
      elementFault,
      status('GNTST_bad_gntref', 'Neither GNTMAP_host_map nor GNTMAP_device_map is set.', when.state('no-mapping-kind')),
      status('GNTST_general_error', 'A translated caller (HVM, PVH, Arm) asks for device_map, application_map or contains_pte.',
        when.value('arg.flags', 'mask', 0x19, 'translated callers only'), ['x86_64-hvm', 'x86_32-hvm', 'arm']),
      status('GNTST_bad_domain', 'dom names no existing domain (DOMID_SELF is not accepted).', when.resource('arg.dom', 'domid', 'nonexistent')),
      xsmDenied('arg.dom'),
      status('GNTST_no_space', 'The caller has no free mapping handle and cannot get more.', when.state('maptrack-exhausted')),
      status('GNTST_bad_gntref', 'ref is beyond the granting domain’s table.', when.resource('arg.ref', 'grant_ref', 'out-of-range')),
      status('GNTST_general_error', 'The entry is already in use by another grantee, its pin count would overflow, or it is a sub-page or transitive grant in use for copying.',
        when.resource('arg.ref', 'grant_ref', 'wrong-state')),
      status('GNTST_general_error', 'The entry is not a whole-page permit_access grant naming the caller.', when.resource('arg.ref', 'grant_ref', 'foreign')),
      status('GNTST_general_error', 'A writable mapping of a GTF_readonly grant.', when.state('readonly-grant-mapped-writable')),
      status('GNTST_general_error', 'The entry’s flags kept changing during the update (five failed attempts).', when.state('grant-entry-unstable')),
      status('GNTST_bad_page', 'The granted frame is not a valid page of the granter.', when.state('granted-frame-invalid')),
      status('GNTST_eagain', 'The granted frame is paged out or shared; retry.', when.state('granted-frame-paged')),
      status('GNTST_general_error', 'The granted frame is I/O memory and the caller is translated or the granter has no access to it.', when.state('granted-iomem-not-permitted')),
      status('GNTST_general_error', 'The granted frame cannot be referenced or typed as needed (owner changed, not writable).', when.state('granted-frame-unpinnable')),
      status('GNTST_general_error', 'PV: host_addr is not mapped by an L1 page table, is above 4 GiB for a 32-bit guest, or (contains_pte) is not an 8-byte aligned entry of an L1 table.',
        when.value('arg.host_addr', 'mask', 7, 'contains_pte: misaligned'), ['x86_64-pv', 'x86_32-pv']),
      status('GNTST_general_error', 'Translated caller: flags other than host_map and readonly (e.g. guest_avail bits), cache attributes on the grant, or the p2m update fails.',
        when.state('p2m-grant-mapping-failed')),
      status('GNTST_general_error', 'PV caller with an I/O MMU: the IOMMU mapping fails.', when.state('iommu-map-failed')),
    ],
    consumes: [use('domid', 'arg.dom', 'the granting domain'), use('grant_ref', 'arg.ref', 'an entry of the granting domain')],
    produces: [use('grant_handle', 'arg.handle'), use('maddr', 'arg.dev_bus_addr', 'device maps: the machine address of the granted frame')],
    ref: ref('map_grant_ref'),
  }),
  b.op('GNTTABOP_unmap_grant_ref', 1, 'Removes the host and/or device mapping of handles; a zero address leaves that part mapped, and a handle is freed once both are gone. Only status is written back. If the granting domain no longer exists, Xen crashes the caller.', {
    arg: 'struct gnttab_unmap_grant_ref', argDir: 'inout',
    errors: [
      elementFault,
      status('GNTST_bad_handle', 'handle is beyond the caller’s mapping table.', when.resource('arg.handle', 'grant_handle', 'out-of-range')),
      status('GNTST_bad_handle', 'handle is not in use, or changed under a concurrent unmap.', when.resource('arg.handle', 'grant_handle', 'free')),
      xsmDenied('arg.handle'),
      status('GNTST_bad_dev_addr', 'dev_bus_addr is non-zero, the mapping has a device part, and the address is not the granted frame’s.', when.state('dev-bus-addr-mismatch')),
      status('GNTST_general_error', 'host_addr is non-zero but no mapping of the granted frame with the grant’s access rights is there (PV PTE or translated p2m entry).',
        when.state('host-mapping-mismatch')),
      status('GNTST_general_error', 'PV caller with an I/O MMU: updating the IOMMU fails.', when.state('iommu-unmap-failed')),
    ],
    consumes: [use('grant_handle', 'arg.handle')],
    ref: ref('unmap_common'),
  }),
  b.op('GNTTABOP_setup_table', 2, 'Grows a grant table to at least nr_frames frames and returns their frame numbers (PV: machine frames; translated: guest frames; 32-bit callers get them truncated to 32 bits). Only status is written back, the whole struct for 32-bit callers.', {
    arg: 'struct gnttab_setup_table', argDir: 'inout',
    errors: [
      countNotOne,
      err('EFAULT', 'The struct cannot be read, frame_list cannot hold nr_frames entries, or status cannot be written.', when.fault('arg.frame_list')),
      noDomain('arg.dom'),
      notTarget('arg.dom'),
      status('GNTST_general_error', 'nr_frames exceeds the domain’s maximum number of grant frames.', when.state('nr-frames-above-max-grant-frames')),
      status('GNTST_general_error', '32-bit callers: nr_frames exceeds the 1021 frame numbers Xen can translate at once.', when.value('arg.nr_frames', 'gt', 1021, 'x86_32 ABIs only'), ['x86_32']),
      status('GNTST_general_error', 'Xen cannot allocate the new frames.', when.state('out-of-memory')),
      status('GNTST_bad_virt_addr', 'Writing a frame number into frame_list fails.', when.fault('arg.frame_list')),
    ],
    consumes: [use('domid', 'arg.dom')],
    produces: [
      use('mfn', 'arg.frame_list', 'PV: machine frames of the shared table'),
      use('gfn', 'arg.frame_list', 'translated guests: guest frames the shared table is mapped at'),
    ],
    ref: ref('gnttab_setup_table'),
  }),
  b.op('GNTTABOP_dump_table', 3, 'Former debugging dump of a grant table to the console; Xen 4.17 no longer implements it.', {
    arg: 'struct gnttab_dump_table', argDir: 'inout',
    errors: [err('ENOSYS', 'Always: the command has no handler.', when.state('unimplemented'))],
    deprecated: { doc: 'Not implemented by Xen 4.17: every call fails with ENOSYS.' },
    ref: ref('do_grant_table_op'),
  }),
  b.op('GNTTABOP_transfer', 4, 'Gives pages of the caller to other domains through their accept_transfer grants; the page is lost to the caller on most failures.', {
    arg: 'struct gnttab_transfer', argDir: 'inout',
    errors: [
      hvmOnly('GNTTABOP_transfer'),
      err('EOPNOTSUPP', 'Transfers are disabled: always on Arm (no PV support), on x86 with the gnttab=no-transfer option.', when.state('grant-transfer-disabled')),
      elementFault,
      status('GNTST_bad_page', 'mfn is not a valid, unshared frame the caller can give away; the page stays with the caller.', when.resource('arg.mfn', 'mfn', 'unallocated')),
      status('GNTST_bad_page', 'The page cannot be taken from the caller: it has references beyond the allocation’s (steal_page gives -EINVAL).', when.state('page-not-stealable')),
      status('GNTST_general_error', 'The page cannot be removed from the caller’s physmap (steal_page fails otherwise).', when.state('page-not-removable')),
      status('GNTST_bad_domain', 'domid names no existing domain (DOMID_SELF is not accepted).', when.resource('arg.domid', 'domid', 'nonexistent')),
      xsmDenied('arg.domid'),
      status('GNTST_address_too_big', 'The receiver can only address lower memory and no page there is free.', when.state('receiver-address-limit')),
      status('GNTST_general_error', 'The receiver is dying or already at its page limit.', when.state('receiver-full')),
      status('GNTST_general_error', 'ref is out of range, not an accept_transfer grant naming the caller, or unstable.', when.resource('arg.ref', 'grant_ref', 'wrong-state')),
      status('GNTST_general_error', 'The receiver changed its grant table version during the transfer.', when.state('version-changed')),
    ],
    consumes: [use('mfn', 'arg.mfn', 'a page of the caller'), use('domid', 'arg.domid'), use('grant_ref', 'arg.ref', 'an entry of the receiver')],
    ref: ref('gnttab_transfer'),
  }),
  b.op('GNTTABOP_copy', 5, 'Copies bytes between pages named by grant references or by the caller’s own frames. Only status is written back.', {
    arg: 'struct gnttab_copy', argDir: 'inout',
    errors: [
      elementFault,
      status('GNTST_permission_denied', 'A side given as a frame has a domid other than DOMID_SELF (even the caller’s own id).', when.state('frame-side-not-domid-self')),
      status('GNTST_bad_domain', 'A side’s domid names no existing domain.', when.resource('arg.source.domid', 'domid', 'nonexistent')),
      xsmDenied('arg.dest.domid'),
      status('GNTST_bad_gntref', 'A grant reference is beyond its domain’s table.', when.resource('arg.source.u.ref', 'grant_ref', 'out-of-range')),
      status('GNTST_general_error', 'A grant is in use by another grantee, its pin count would overflow, it is not a permit_access (or v2 transitive) grant naming the caller, or the destination grant is read-only.',
        when.resource('arg.dest.u.ref', 'grant_ref', 'wrong-state')),
      status('GNTST_general_error', 'A transitive grant points at its own domain, at a missing domain, at another transitive grant, or transitive grants are disabled.', when.state('bad-transitive-grant')),
      status('GNTST_bad_page', 'A frame is not a valid page of its domain.', when.resource('arg.source.u.gmfn', 'gfn', 'unmapped')),
      status('GNTST_eagain', 'A frame is paged out or shared; retry.', when.state('frame-paged')),
      status('GNTST_bad_domain', 'A grant in use has changed owner, or its domain is dying.', when.state('granter-dying')),
      status('GNTST_general_error', 'The destination page cannot be made writable.', when.state('dest-not-writable')),
      status('GNTST_bad_copy_arg', 'offset + len crosses the end of the page on either side.', when.state('copy-beyond-page')),
      status('GNTST_general_error', 'The range lies outside the byte range of a sub-page grant.', when.state('copy-outside-sub-page')),
    ],
    consumes: [
      use('grant_ref', 'arg.source.u.ref', 'with GNTCOPY_source_gref'),
      use('grant_ref', 'arg.dest.u.ref', 'with GNTCOPY_dest_gref'),
      use('gfn', 'arg.source.u.gmfn', 'without GNTCOPY_source_gref'),
      use('gfn', 'arg.dest.u.gmfn', 'without GNTCOPY_dest_gref'),
      use('domid', 'arg.source.domid'),
      use('domid', 'arg.dest.domid'),
    ],
    ref: ref('gnttab_copy'),
  }),
  b.op('GNTTABOP_query_size', 6, 'Reports the current and maximum number of frames of a grant table; the whole struct is written back.', {
    arg: 'struct gnttab_query_size', argDir: 'inout',
    errors: [
      countNotOne,
      err('EFAULT', 'The struct cannot be read or written.', when.fault('uop')),
      noDomain('arg.dom'),
      notTarget('arg.dom'),
    ],
    consumes: [use('domid', 'arg.dom')],
    ref: ref('gnttab_query_size'),
  }),
  b.op('GNTTABOP_unmap_and_replace', 7, 'Removes host mappings like unmap_grant_ref, putting the PTE found at new_addr in their place and clearing new_addr.', {
    arg: 'struct gnttab_unmap_and_replace', argDir: 'inout',
    errors: [
      hvmOnly('GNTTABOP_unmap_and_replace'),
      elementFault,
      status('GNTST_bad_handle', 'handle is beyond the caller’s mapping table.', when.resource('arg.handle', 'grant_handle', 'out-of-range')),
      status('GNTST_bad_handle', 'handle is not in use.', when.resource('arg.handle', 'grant_handle', 'free')),
      xsmDenied('arg.handle'),
      status('GNTST_general_error', 'new_addr is non-zero on Arm or for a contains_pte mapping, is not mapped, or is above 4 GiB for a 32-bit PV guest.',
        when.value('arg.new_addr', 'ne', 0, 'Arm and contains_pte mappings')),
      status('GNTST_general_error', 'No mapping of the granted frame with the grant’s access rights is at host_addr.', when.state('host-mapping-mismatch')),
    ],
    consumes: [use('grant_handle', 'arg.handle')],
    ref: ref('unmap_and_replace'),
  }),
  b.op('GNTTABOP_set_version', 8, 'Switches the caller’s table between v1 and v2; entries 0 to 7 are converted, all others are cleared. count is ignored.', {
    arg: 'struct gnttab_set_version', argDir: 'inout',
    errors: [
      err('EFAULT', 'The struct cannot be read or written.', when.fault('uop')),
      err('EINVAL', 'version is 0.', when.value('arg.version', 'eq', 0)),
      err('EINVAL', 'version is above 2.', when.value('arg.version', 'gt', 2)),
      err('ENOSYS', 'version is 2 but the domain is limited to v1 (always on Arm).', when.value('arg.version', 'eq', 2, 'when the domain’s maximum version is 1')),
      err('EBUSY', 'An entry above the reserved ones is mapped or pinned.', when.state('grants-in-use')),
      err('ENOMEM', 'Switching to v2: the status frames cannot be allocated.', when.state('out-of-memory')),
      err('EAGAIN', 'Switching to v1: v2 copy operations are in progress.', when.state('v2-ops-in-flight')),
      err('ERANGE', 'Switching to v1: a reserved entry is transitive or names a frame at or above 2^32.', when.state('reserved-entry-not-v1')),
      err('EBUSY', 'Switching to v1: the guest still has a status frame mapped.', when.state('status-frame-mapped')),
    ],
    ref: ref('gnttab_set_version'),
  }),
  b.op('GNTTABOP_get_status_frames', 9, 'Returns the frame numbers of a v2 table’s status frames. Only status is written back on 64-bit callers.', {
    arg: 'struct gnttab_get_status_frames', argDir: 'inout',
    errors: [
      hvmOnly('GNTTABOP_get_status_frames'),
      countNotOne,
      err('EFAULT', 'The struct cannot be read, frame_list cannot hold nr_frames entries, or status cannot be written.', when.fault('arg.frame_list')),
      noDomain('arg.dom'),
      notTarget('arg.dom'),
      status('GNTST_general_error', 'nr_frames exceeds the number of status frames (0 for a v1 table).', when.state('nr-frames-above-status-frames')),
      status('GNTST_general_error', '32-bit PV: nr_frames exceeds the 1022 frame numbers Xen can translate at once.', when.value('arg.nr_frames', 'gt', 1022, 'x86_32-pv only'), ['x86_32-pv']),
      status('GNTST_bad_virt_addr', 'Writing a frame number into frame_list fails.', when.fault('arg.frame_list')),
    ],
    consumes: [use('domid', 'arg.dom')],
    produces: [
      use('mfn', 'arg.frame_list', 'PV: machine frames of the status table'),
      use('gfn', 'arg.frame_list', 'translated guests: guest frames the status table is mapped at'),
    ],
    ref: ref('gnttab_get_status_frames'),
  }),
  b.op('GNTTABOP_get_version', 10, 'Reports a domain’s grant table version; only version is written back. count is ignored.', {
    arg: 'struct gnttab_get_version', argDir: 'inout',
    errors: [
      err('EFAULT', 'The struct cannot be read or version cannot be written.', when.fault('uop')),
      err('ESRCH', 'dom names no existing domain.', when.resource('arg.dom', 'domid', 'nonexistent')),
      err('EPERM', 'dom is neither the caller nor a domain it controls.', when.resource('arg.dom', 'domid', 'foreign')),
    ],
    consumes: [use('domid', 'arg.dom')],
    ref: ref('gnttab_get_version'),
  }),
  b.op('GNTTABOP_swap_grant_ref', 11, 'Swaps two entries (and their v2 status words) of the caller’s own table. Only status is written back.', {
    arg: 'struct gnttab_swap_grant_ref', argDir: 'inout',
    errors: [
      elementFault,
      status('GNTST_bad_gntref', 'ref_a or ref_b is beyond the caller’s table.', when.resource('arg.ref_a', 'grant_ref', 'out-of-range')),
      status('GNTST_eagain', 'One of the entries is mapped or pinned; swapping an entry with itself always succeeds.', when.resource('arg.ref_b', 'grant_ref', 'wrong-state')),
    ],
    consumes: [use('grant_ref', 'arg.ref_a', 'an entry of the caller'), use('grant_ref', 'arg.ref_b', 'an entry of the caller')],
    ref: ref('swap_grant_ref'),
  }),
  b.op('GNTTABOP_cache_flush', 12, 'Cleans and/or invalidates the data cache for a range of a page the caller owns or has mapped from a grant. Errors end the batch through the result; there is no status field.', {
    arg: 'struct gnttab_cache_flush', argDir: 'in',
    errors: [
      hvmOnly('GNTTABOP_cache_flush'),
      err('EFAULT', 'An element cannot be read.', when.fault('uop')),
      err('EINVAL', 'offset is not below the page size, or offset + length exceeds it.', when.value('arg.offset', 'ge', 4096)),
      err('EINVAL', 'op has bits other than CLEAN and INVAL (GNTTAB_CACHE_SOURCE_GREF included).', when.value('arg.op', 'mask', 0xfffffffc)),
      err('EILSEQ', 'length or op is 0 while the high bits of cmd carry a non-zero resume position.', when.value('cmd', 'mask', 0xfffff000)),
      err('EINVAL', 'dev_bus_addr is not in a valid machine frame.', when.resource('arg.a.dev_bus_addr', 'mfn', 'out-of-range')),
      err('EPERM', 'The frame has no owner, or its owner has no grant table.', when.state('frame-unowned')),
      err('EINVAL', 'The frame belongs to another domain and the caller has no mapping of it from that domain’s grants.', when.resource('arg.a.dev_bus_addr', 'mfn', 'foreign')),
      err('EOPNOTSUPP', 'x86: GNTTAB_CACHE_INVAL without GNTTAB_CACHE_CLEAN (x86 can only write back and invalidate together).', when.value('arg.op', 'eq', 2, 'x86 only'), ['x86']),
    ],
    ref: ref('gnttab_cache_flush'),
  }),
];

const hypercalls = [
  b.hypercall('grant_table_op', 20, 'Grant table operations: map, unmap, copy and transfer grants; set up, size and version the table. Each call carries an array of count structs of the command’s type.', {
    abis: {
      'x86_64-pv': 'native',
      'x86_32-pv': 'compat',
      'x86_64-hvm': 'hvm-filter',
      'x86_32-hvm': 'hvm-filter',
      arm64: 'native',
      arm32: 'native',
    },
    args: [
      arg('cmd', 'unsigned int', 'GNTTABOP_* command in bits 0-11; bits 12-31 must be 0 (cache_flush: resume position of a continued call).', { values: 'GNTTABOP' }),
      arg('uop', 'ptr(void)', 'Array of count structs of the command’s type.', { dir: 'inout', count: 'count' }),
      arg('count', 'unsigned int', 'Number of elements; 1 for setup_table, query_size and get_status_frames; ignored by set_version and get_version.'),
    ],
    returns: { type: 'long', doc: '0 when every element was processed (per-element results are in their status fields), or a negative errno.' },
    subops: { selector: 'cmd', mask: 0xfff, group: 'GNTTABOP', argument: 'uop', ops },
    errors: [
      err('EINVAL', 'count does not fit in a signed int.', when.value('count', 'ge', 0x80000000)),
      err('EINVAL', 'Bits 12-31 of cmd are set for a command other than cache_flush.', when.value('cmd', 'mask', 0xfffff000)),
      err('ENOSYS', 'The command is not a GNTTABOP_* operation, or is one the caller’s ABI lacks (x86 HVM accepts only query_size, setup_table, set_version, get_version, copy, map_grant_ref, unmap_grant_ref and swap_grant_ref).',
        when.state('unknown-command')),
      err('EFAULT', 'The array of count elements is not accessible.', when.fault('uop')),
    ],
    ref: { header: H, handler: `${C}:do_grant_table_op` },
  }),
];

// ───────────────────────────── resources ─────────────────────────────

const resources = [
  b.resource('grant_ref', 'grant_ref_t', 'An entry of a domain’s grant table, by index. Entries 0 to 7 are reserved for the toolstack (console 0, xenstore 1).'),
  b.resource('grant_handle', 'grant_handle_t', 'A mapping of another domain’s grant, by index in the mapping domain’s table of mappings; made by map_grant_ref, freed once its host and device mappings are gone.'),
];

export const grantTable: FamilyModule = {
  family: b.family('Grant tables v1 and v2: sharing, copying and transferring page frames between domains.', { header: H, handler: C }),
  types,
  constants,
  hypercalls,
  resources,
};
