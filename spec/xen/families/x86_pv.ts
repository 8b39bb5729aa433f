/**
 * The x86 PV MMU and CPU hypercalls: page-table updates (mmu_update, mmuext_op,
 * update_va_mapping), batching (multicall), the virtual IDT, GDT and descriptors, debug
 * registers, segment bases, the kernel stack and the PV iret.
 *
 * @see xen/include/public/xen.h, xen/include/public/arch-x86/xen.h,
 *      xen/include/public/arch-x86/xen-x86_64.h
 * @see xen/arch/x86/mm.c, xen/arch/x86/x86_64/compat/mm.c, xen/arch/x86/pv/misc-hypercalls.c,
 *      xen/arch/x86/pv/descriptor-tables.c, xen/arch/x86/pv/callback.c, xen/arch/x86/pv/iret.c,
 *      xen/common/multicall.c, xen/include/hypercall-defs.c (RELEASE-4.17.7)
 */
import { arg, err, f, familyBuilder, inlineUnion, use, when, type FamilyModule } from '../../builders.js';
import type { ErrorDecl } from '../../model.js';

const H = 'xen/include/public/xen.h';
const HX = 'xen/include/public/arch-x86/xen.h';
const H64 = 'xen/include/public/arch-x86/xen-x86_64.h';
const MM = 'xen/arch/x86/mm.c';
const CMM = 'xen/arch/x86/x86_64/compat/mm.c';
const MISC = 'xen/arch/x86/pv/misc-hypercalls.c';
const DT = 'xen/arch/x86/pv/descriptor-tables.c';
const b = familyBuilder('x86_pv', H);

/** Both x86 PV ABIs, with the handler kind each uses. */
const PV = (pv32: 'native' | 'compat') => ({ 'x86_64-pv': 'native' as const, 'x86_32-pv': pv32 });

// ───────────────────────────── constants ─────────────────────────────

const constants = [
  b.group('UVMF', 'flags', 'The flags word of update_va_mapping: which TLB flush follows the update, and on which vCPUs.', [
    ['UVMF_NONE', 0, 'Flush type: no flush at all.'],
    ['UVMF_TLB_FLUSH', 1, 'Flush type: flush whole TLBs.'],
    ['UVMF_INVLPG', 2, 'Flush type: flush only the entry of the updated address.'],
    ['UVMF_FLUSHTYPE_MASK', 3, 'Mask of the flush-type bits (bits 0-1).'],
    ['UVMF_MULTI', 0, 'Scope: the vCPUs of a bitmap whose guest address is ORed into the flags (bits 2 and up).'],
    ['UVMF_LOCAL', 0, 'Scope: only the calling vCPU (a MULTI scope with a null bitmap address).'],
    ['UVMF_ALL', 4, 'Scope: every vCPU of the domain.', { bit: 2 }],
  ], { type: 'unsigned long' }),
  b.group('SEGBASE', 'enum', 'Which segment base set_segment_base changes (64-bit PV only).', [
    ['SEGBASE_FS', 0, 'The %fs base.', { arches: ['x86_64'] }],
    ['SEGBASE_GS_USER', 1, 'The user-mode %gs base (the inactive GS base while the kernel runs).', { arches: ['x86_64'] }],
    ['SEGBASE_GS_KERNEL', 2, 'The kernel-mode %gs base.', { arches: ['x86_64'] }],
    ['SEGBASE_GS_USER_SEL', 3, 'Load the user %gs selector given in bits 15:0 of the base argument.', { arches: ['x86_64'] }],
  ], { type: 'unsigned int', ref: { header: H64 } }),
  b.group('VGCF_in_syscall', 'flags', 'The flag of an iret_context saying the guest entered the kernel by SYSCALL (64-bit PV).', [
    ['_VGCF_in_syscall', 8, 'Bit number of VGCF_in_syscall.', { arches: ['x86_64'] }],
    ['VGCF_in_syscall', 0x100, 'Return as from SYSCALL: restore only rax, rip, rflags and rsp.', { arches: ['x86_64'], bit: 8 }],
    ['VGCF_IN_SYSCALL', 0x100, 'Upper-case spelling of VGCF_in_syscall.', { arches: ['x86_64'], bit: 8 }],
  ], { type: 'uint64_t', ref: { header: H64 } }),
];

// ───────────────────────────── structs ─────────────────────────────

const types = [
  b.struct('mmu_update', 'One request of mmu_update: a machine address whose low bits select the request type, and a value.', [
    f('ptr', 'uint64_t', 'Machine address of the page-table entry (or, for MMU_MACHPHYS_UPDATE, of the frame); bits 2:0 carry the MMU_* request type.', { dir: 'in' }),
    f('val', 'uint64_t', 'The new entry (page-table requests) or the guest frame number to record (MMU_MACHPHYS_UPDATE).', { dir: 'in' }),
  ], { aliases: ['mmu_update_t'] }),
  b.struct('mmuext_op', 'One command of mmuext_op: a command number and two argument unions whose member depends on it.', [
    f('cmd', 'unsigned int', 'MMUEXT_* command.', { dir: 'in', values: 'MMUEXT' }),
    f('arg1', inlineUnion([
      f('mfn', 'xen_pfn_t', 'Frame to pin, unpin, install as a base pointer, clear, or copy into.'),
      f('linear_addr', 'unsigned long', 'Virtual address for INVLPG_LOCAL, INVLPG_MULTI, INVLPG_ALL, or the LDT base for SET_LDT.'),
    ]), 'First argument.', { dir: 'in' }),
    f('arg2', inlineUnion([
      f('nr_ents', 'unsigned int', 'SET_LDT: number of LDT entries.'),
      f('vcpumask', 'handle(void)', 'TLB_FLUSH_MULTI, INVLPG_MULTI: guest address of a bitmap of vCPUs (a const void handle; a raw pointer before interface 0x00030205).'),
      f('src_mfn', 'xen_pfn_t', 'COPY_PAGE: the source frame.'),
    ]), 'Second argument.', { dir: 'in' }),
  ], { aliases: ['mmuext_op_t'] }),
  b.struct('multicall_entry', 'One call of a multicall batch: a hypercall number, its arguments, and the slot Xen stores its result in.', [
    f('op', 'xen_ulong_t', 'Hypercall number.', { dir: 'in' }),
    f('result', 'xen_ulong_t', 'The call’s return value, written by Xen (truncated to 32 bits for 32-bit callers).', { dir: 'out' }),
    f('args', 'xen_ulong_t[6]', 'Arguments; only the first five are passed. Xen may rewrite them when a call is preempted, and debug builds scribble over everything but result.', { dir: 'inout' }),
  ], { aliases: ['multicall_entry_t'] }),
  b.struct('trap_info', 'One entry of the virtual IDT given to set_trap_table.', [
    f('vector', 'uint8_t', 'Exception or interrupt vector.', { dir: 'in' }),
    f('flags', 'uint8_t', 'Bits 1:0: the lowest privilege level that may raise the vector with a software interrupt; bit 2: mask events on entry.', { dir: 'in' }),
    f('cs', 'uint16_t', 'Code selector of the handler (its RPL is forced to the guest kernel’s ring).', { dir: 'in' }),
    f('address', 'unsigned long', 'Handler offset; 0 ends the table.', { dir: 'in' }),
  ], { aliases: ['trap_info_t'], arches: ['x86'], ref: { header: HX } }),
  b.struct('iret_context', 'The frame a 64-bit PV kernel pushes before jumping to the iret hypercall, lowest address first.', [
    f('rax', 'uint64_t', 'Value of rax after the return.', { dir: 'in' }),
    f('r11', 'uint64_t', 'Value of r11 (ignored when VGCF_in_syscall is set).', { dir: 'in' }),
    f('rcx', 'uint64_t', 'Value of rcx (ignored when VGCF_in_syscall is set).', { dir: 'in' }),
    f('flags', 'uint64_t', 'VGCF_in_syscall or 0.', { dir: 'in' }),
    f('rip', 'uint64_t', 'Return address.', { dir: 'in' }),
    f('cs', 'uint64_t', 'Return code selector; RPL 3 returns to user mode, any other RPL to kernel mode.', { dir: 'in' }),
    f('rflags', 'uint64_t', 'Return flags; IF gives the new event mask, IOPL and VM are not taken.', { dir: 'in' }),
    f('rsp', 'uint64_t', 'Return stack pointer.', { dir: 'in' }),
    f('ss', 'uint64_t', 'Return stack selector.', { dir: 'in' }),
  ], { arches: ['x86_64'], ref: { header: H64 } }),
];

// ───────────────────────────── shared errors ─────────────────────────────

/** Errors of validating and writing one L1 entry (mod_l1_entry, get_page_from_l1e). */
const l1EntryErrors = (val: string): ErrorDecl[] => [
  err('EINVAL', 'The new entry is present and sets a flag not allowed in an L1 entry (e.g. cache attributes without I/O or cache-flush rights).', when.state('l1-flags-disallowed')),
  err('EINVAL', 'The data-page owner is translated and the frame in the new entry is not one of its pages.', when.resource(val, 'gfn', 'unmapped')),
  err('ENOENT', 'The data-page owner is translated and the frame in the new entry is paged out; paging-in has started.', when.state('target-paged-out')),
  err('ENOMEM', 'A writable mapping of a shared page of a translated owner needs unsharing, and it failed.', when.state('unshare-failed')),
  err('EPERM', 'The entry maps I/O memory (a non-RAM frame or one of DOMID_IO) that the owner may not access.', when.privilege('iomem-access')),
  err('EBUSY', 'The target frame belongs neither to the data-page owner nor to a domain it may map for, or is a shared page mapped writable.', when.resource(val, 'mfn', 'foreign')),
  err('EBUSY', 'A writable mapping is asked for a frame that currently has a page-table or descriptor type.', when.state('frame-typed-not-writable')),
  err('EACCES', 'The entry maps a Xen heap page with cache attributes other than write-back.', when.state('xen-page-non-wb')),
  err('EBUSY', 'The entry changed concurrently while being replaced.', when.state('entry-race')),
];

/** Errors of updating a higher-level entry (mod_l2/l3/l4_entry). */
const upperEntryErrors: ErrorDecl[] = [
  err('EPERM', 'The L2 slot belongs to Xen (32-bit PV high L2).', when.state('l2-xen-slot'), ['x86_32-pv']),
  err('EINVAL', 'The L3 slot is 3 or above in a 32-bit PV L3, or the L4 slot belongs to Xen.', when.state('upper-xen-slot')),
  err('EINVAL', 'The new entry sets a flag not allowed at that level (e.g. PSE).', when.state('upper-flags-disallowed')),
  err('EINVAL', 'The referenced frame does not validate as a table of the next lower level and is not an allowed read-only linear mapping.', when.state('lower-table-invalid')),
  err('EINVAL', 'The data-page owner differs from the page-table owner.', when.state('owner-mismatch')),
  err('EBUSY', 'An L2 entry changed concurrently.', when.state('entry-race')),
  err('EFAULT', 'An L3 or L4 entry changed concurrently.', when.state('entry-race')),
];

const ptUpdateErrors: ErrorDecl[] = [
  err('EOPNOTSUPP', 'The page-table owner’s pages are reference-counted by its paging mode (not a plain PV domain).', when.state('pt-owner-refcounted')),
  err('EINVAL', 'The frame addressed by ptr is not ordinary RAM of the page-table owner.', when.resource('arg.ptr', 'maddr', 'foreign')),
  err('ENOENT', 'The frame addressed by ptr is paged out; paging-in has started.', when.state('frame-paged-out')),
  err('EINVAL', 'The frame addressed by ptr is neither a page table nor a page that may be written (e.g. a descriptor page).', when.state('frame-wrong-type')),
  ...l1EntryErrors('arg.val'),
  ...upperEntryErrors,
];

const notSelf = (what: string) =>
  err('EPERM', `${what} works on the caller only, and foreigndom names another domain.`, when.resource('foreigndom', 'domid', 'foreign'));

/** Errors of validating a frame as a page table of some level (get_page_type). */
const typeErrors = (path: string): ErrorDecl[] => [
  err('EINVAL', 'The frame is not a page of the owner domain.', when.resource(path, 'mfn', 'foreign')),
  err('EINVAL', 'The frame is in use with another type (e.g. mapped writable), or one of its entries fails validation.', when.resource(path, 'mfn', 'wrong-type')),
  err('EBUSY', 'An entry of the table maps a frame of another domain, or maps writable a frame in use as a table.', when.state('frame-typed-not-writable')),
  err('EPERM', 'An entry of the table maps I/O memory the domain may not access.', when.privilege('iomem-access')),
  err('EACCES', 'An entry of the table maps a Xen heap page with non-write-back cache attributes.', when.state('xen-page-non-wb')),
];

// ───────────────────────────── mmu_update ─────────────────────────────

const mmuRef = { header: H, handler: `${MM}:do_mmu_update` };

const mmuOps = [
  b.op('MMU_NORMAL_PT_UPDATE', 0, 'Checked write of one page-table entry; a write to a page that is not a page table is a plain 8-byte store.', {
    arg: 'struct mmu_update', argDir: 'in',
    errors: ptUpdateErrors,
    consumes: [use('maddr', 'arg.ptr', 'the entry to write'), use('mfn', 'arg.val', 'frame in bits 51:12 of the new entry (a gfn of a translated data owner)')],
    ref: { header: H, handler: `${MM}:mod_l1_entry` },
  }),
  b.op('MMU_MACHPHYS_UPDATE', 1, 'Records in the machine-to-physical table that the frame at ptr holds guest frame val.', {
    arg: 'struct mmu_update', argDir: 'in',
    errors: [
      err('EPERM', 'A page-table owner other than the caller is named in foreigndom.', when.state('pt-owner-foreign')),
      err('EINVAL', 'The data-page owner is translated (it has no machine-to-physical entries to set).', when.state('owner-translated')),
      err('EINVAL', 'The frame at ptr is not a page of the data-page owner.', when.resource('arg.ptr', 'maddr', 'foreign')),
    ],
    consumes: [use('maddr', 'arg.ptr', 'an address within the frame whose entry is set'), use('gfn', 'arg.val')],
    ref: mmuRef,
  }),
  b.op('MMU_PT_UPDATE_PRESERVE_AD', 2, 'As MMU_NORMAL_PT_UPDATE, keeping the accessed and dirty bits the entry has at the time of the write.', {
    arg: 'struct mmu_update', argDir: 'in',
    errors: ptUpdateErrors,
    consumes: [use('maddr', 'arg.ptr', 'the entry to write'), use('mfn', 'arg.val', 'frame in bits 51:12 of the new entry (a gfn of a translated data owner)')],
    ref: mmuRef,
  }),
  b.op('MMU_PT_UPDATE_NO_TRANSLATE', 3, 'As MMU_NORMAL_PT_UPDATE, but the frame in val is a machine frame even when the data-page owner is translated.', {
    arg: 'struct mmu_update', argDir: 'in',
    errors: ptUpdateErrors.filter(
      (e) => !(e.trigger?.kind === 'resource' && e.trigger.resource === 'gfn') && !(e.trigger?.kind === 'state' && ['target-paged-out', 'unshare-failed'].includes(e.trigger.state)),
    ),
    consumes: [use('maddr', 'arg.ptr', 'the entry to write'), use('mfn', 'arg.val', 'frame in bits 51:12 of the new entry (always a machine frame)')],
    ref: mmuRef,
  }),
];

// ───────────────────────────── mmuext_op ─────────────────────────────

const extRef = (fn = 'do_mmuext_op') => ({ header: H, handler: `${MM}:${fn}` });
const pin = (name: string, value: number, level: number) =>
  b.op(name, value, `Pins arg1.mfn as an L${level} table: validates it and keeps its type until unpinned.${level === 4 ? ' Ignored (success) for a 32-bit PV owner.' : ''}`, {
    arg: 'struct mmuext_op', argDir: 'in',
    errors: [
      ...typeErrors('arg.arg1.mfn'),
      err('EINVAL', 'The frame is already pinned.', when.resource('arg.arg1.mfn', 'mfn', 'pinned')),
    ],
    consumes: [use('mfn', 'arg.arg1.mfn')],
    ref: extRef(),
  });

const mmuextOps = [
  pin('MMUEXT_PIN_L1_TABLE', 0, 1),
  pin('MMUEXT_PIN_L2_TABLE', 1, 2),
  pin('MMUEXT_PIN_L3_TABLE', 2, 3),
  pin('MMUEXT_PIN_L4_TABLE', 3, 4),
  b.op('MMUEXT_UNPIN_TABLE', 4, 'Unpins the table at arg1.mfn; its type goes when no other reference holds it.', {
    arg: 'struct mmuext_op', argDir: 'in',
    errors: [
      err('EINVAL', 'The frame is not a page of the owner domain.', when.resource('arg.arg1.mfn', 'mfn', 'foreign')),
      err('EINVAL', 'The frame is not pinned.', when.resource('arg.arg1.mfn', 'mfn', 'unpinned')),
    ],
    consumes: [use('mfn', 'arg.arg1.mfn')],
    ref: extRef(),
  }),
  b.op('MMUEXT_NEW_BASEPTR', 5, 'Installs arg1.mfn as the vCPU’s kernel root table (L4; for a 32-bit guest, the L3 in slot 0 of its hidden L4).', {
    arg: 'struct mmuext_op', argDir: 'in',
    errors: [
      notSelf('Installing a base pointer'),
      err('EINVAL', 'The caller is translated (HVM).', when.state('caller-translated')),
      ...typeErrors('arg.arg1.mfn'),
    ],
    consumes: [use('mfn', 'arg.arg1.mfn')],
    ref: { header: H, handler: `${MM}:new_guest_cr3` },
  }),
  b.op('MMUEXT_TLB_FLUSH_LOCAL', 6, 'Flushes the calling vCPU’s TLB.', {
    arg: 'struct mmuext_op', argDir: 'in',
    errors: [notSelf('A TLB flush')],
    ref: extRef(),
  }),
  b.op('MMUEXT_INVLPG_LOCAL', 7, 'Flushes the calling vCPU’s TLB entry for arg1.linear_addr.', {
    arg: 'struct mmuext_op', argDir: 'in',
    errors: [notSelf('An INVLPG')],
    consumes: [use('linear_address', 'arg.arg1.linear_addr')],
    ref: extRef(),
  }),
  b.op('MMUEXT_TLB_FLUSH_MULTI', 8, 'Flushes the TLBs of the vCPUs in the bitmap at arg2.vcpumask.', {
    arg: 'struct mmuext_op', argDir: 'in',
    errors: [
      notSelf('A TLB flush'),
      err('EINVAL', 'The vCPU bitmap cannot be read.', when.fault('arg.arg2.vcpumask')),
    ],
    ref: extRef(),
  }),
  b.op('MMUEXT_INVLPG_MULTI', 9, 'Flushes the entry for arg1.linear_addr from the TLBs of the vCPUs in the bitmap at arg2.vcpumask; a non-canonical or Xen address is skipped.', {
    arg: 'struct mmuext_op', argDir: 'in',
    errors: [
      notSelf('An INVLPG'),
      err('EINVAL', 'The vCPU bitmap cannot be read.', when.fault('arg.arg2.vcpumask')),
    ],
    consumes: [use('linear_address', 'arg.arg1.linear_addr')],
    ref: extRef(),
  }),
  b.op('MMUEXT_TLB_FLUSH_ALL', 10, 'Flushes the TLBs of every vCPU of the caller.', {
    arg: 'struct mmuext_op', argDir: 'in',
    errors: [notSelf('A TLB flush')],
    ref: extRef(),
  }),
  b.op('MMUEXT_INVLPG_ALL', 11, 'Flushes the entry for arg1.linear_addr from every vCPU’s TLB; a non-canonical or Xen address is skipped.', {
    arg: 'struct mmuext_op', argDir: 'in',
    errors: [notSelf('An INVLPG')],
    consumes: [use('linear_address', 'arg.arg1.linear_addr')],
    ref: extRef(),
  }),
  b.op('MMUEXT_FLUSH_CACHE', 12, 'Writes back and invalidates the caches of the current physical CPU.', {
    arg: 'struct mmuext_op', argDir: 'in',
    errors: [
      notSelf('A cache flush'),
      err('EACCES', 'The caller may not flush caches (it has no I/O memory or port access).', when.privilege('cache-flush')),
    ],
    ref: extRef(),
  }),
  b.op('MMUEXT_SET_LDT', 13, 'Sets the vCPU’s LDT to arg2.nr_ents entries at arg1.linear_addr (0 entries: no LDT).', {
    arg: 'struct mmuext_op', argDir: 'in',
    errors: [
      notSelf('Setting the LDT'),
      err('EINVAL', 'The caller’s paging is external (HVM).', when.state('caller-translated')),
      err('EINVAL', 'More than 8192 entries.', when.value('arg.arg2.nr_ents', 'gt', 8192)),
      err('EINVAL', 'Entries are given and the base is not page aligned.', when.value('arg.arg1.linear_addr', 'mask', 0xfff)),
      err('EINVAL', 'Entries are given and the base is non-canonical or inside Xen’s range (64-bit callers; a 32-bit caller’s base always passes this check).', when.resource('arg.arg1.linear_addr', 'linear_address', 'out-of-range')),
    ],
    consumes: [use('linear_address', 'arg.arg1.linear_addr')],
    ref: extRef(),
  }),
  b.op('MMUEXT_NEW_USER_BASEPTR', 15, 'Installs arg1.mfn as the vCPU’s user-mode root table (64-bit PV); 0 removes it.', {
    arg: 'struct mmuext_op', argDir: 'in',
    errors: [
      err('EINVAL', 'The caller is a 32-bit guest (rejected by the compat translation).', when.state('caller-32bit')),
      notSelf('Installing a base pointer'),
      err('EINVAL', 'The caller is translated (HVM).', when.state('caller-translated')),
      ...typeErrors('arg.arg1.mfn'),
    ],
    consumes: [use('mfn', 'arg.arg1.mfn')],
    ref: extRef(),
  }),
  b.op('MMUEXT_CLEAR_PAGE', 16, 'Zeroes the frame arg1.mfn of the owner domain.', {
    arg: 'struct mmuext_op', argDir: 'in',
    errors: [
      err('EINVAL', 'The frame is not ordinary RAM of the owner domain.', when.resource('arg.arg1.mfn', 'mfn', 'foreign')),
      err('EINVAL', 'The frame cannot be written (it is in use as a page table or descriptor page).', when.resource('arg.arg1.mfn', 'mfn', 'wrong-type')),
    ],
    consumes: [use('mfn', 'arg.arg1.mfn')],
    ref: extRef(),
  }),
  b.op('MMUEXT_COPY_PAGE', 17, 'Copies frame arg2.src_mfn to frame arg1.mfn, both of the owner domain.', {
    arg: 'struct mmuext_op', argDir: 'in',
    errors: [
      err('EINVAL', 'The source frame is not ordinary RAM of the owner domain.', when.resource('arg.arg2.src_mfn', 'mfn', 'foreign')),
      err('EINVAL', 'The destination is not ordinary RAM of the owner domain.', when.resource('arg.arg1.mfn', 'mfn', 'foreign')),
      err('EINVAL', 'The destination cannot be written (it is in use as a page table or descriptor page).', when.resource('arg.arg1.mfn', 'mfn', 'wrong-type')),
    ],
    consumes: [use('mfn', 'arg.arg1.mfn'), use('mfn', 'arg.arg2.src_mfn')],
    ref: extRef(),
  }),
  b.op('MMUEXT_FLUSH_CACHE_GLOBAL', 18, 'Writes back and invalidates the caches of every physical CPU (one thread per core).', {
    arg: 'struct mmuext_op', argDir: 'in',
    errors: [
      notSelf('A cache flush'),
      err('EINVAL', 'The caller may not flush caches (note: EINVAL here, EACCES for MMUEXT_FLUSH_CACHE).', when.privilege('cache-flush')),
    ],
    ref: extRef(),
  }),
  b.op('MMUEXT_MARK_SUPER', 19, 'Was: mark a frame as the start of a superpage. Superpage support is gone.', {
    arg: 'struct mmuext_op', argDir: 'in',
    errors: [err('EOPNOTSUPP', 'Always.', when.state('unimplemented'))],
    deprecated: { doc: 'PV superpages were removed; the command always fails.' },
    ref: extRef(),
  }),
  b.op('MMUEXT_UNMARK_SUPER', 20, 'Was: clear a superpage mark. Superpage support is gone.', {
    arg: 'struct mmuext_op', argDir: 'in',
    errors: [err('EOPNOTSUPP', 'Always.', when.state('unimplemented'))],
    deprecated: { doc: 'PV superpages were removed; the command always fails.' },
    ref: extRef(),
  }),
];

// ───────────────────────────── hypercalls ─────────────────────────────

const uvaErrors = (va: string, val: string, flags: string): ErrorDecl[] => [
  err('EINVAL', 'The address is not mapped by an L1 table of the caller (non-canonical, unmapped, or a superpage).', when.resource(va, 'linear_address', 'unmapped')),
  ...l1EntryErrors(val),
  err('EFAULT', 'The vCPU bitmap named by the flags cannot be read; the entry has already been written.', when.fault(flags)),
];

const hypercalls = [
  b.hypercall('set_trap_table', 0, 'Loads entries of the vCPU’s virtual IDT from a table ended by an entry with address 0; a null table clears the whole IDT. Long tables are processed across continuations.', {
    abis: PV('compat'),
    args: [arg('traps', 'ptr(trap_info_t)', 'The table, ended by an entry whose address is 0; null clears the IDT.', { dir: 'in' })],
    errors: [
      err('EFAULT', 'An entry cannot be read.', when.fault('traps')),
      err('EINVAL', 'A handler address is non-canonical (64-bit callers only; earlier entries stay loaded).', when.resource('traps[].address', 'linear_address', 'non-canonical')),
    ],
    ref: { header: HX, handler: 'xen/arch/x86/pv/callback.c:do_set_trap_table' },
  }),
  b.hypercall('mmu_update', 1, 'Applies a batch of page-table writes and machine-to-physical updates, in order, stopping at the first failure. foreigndom bits 15:0 name the owner of the mapped frames (DOMID_SELF: the caller), bits 31:16 the owner of the page tables plus one (0: the caller). Long batches continue transparently; a count with bit 31 set is Xen’s own continuation marker and makes it read back pdone.', {
    abis: PV('native'),
    args: [
      arg('ureqs', 'ptr(mmu_update_t)', 'The requests.', { dir: 'in', count: 'count' }),
      arg('count', 'unsigned int', 'Number of requests.'),
      arg('pdone', 'ptr(unsigned int)', 'If not null, receives the number of requests completed, also on failure.', { dir: 'out' }),
      arg('foreigndom', 'unsigned int', 'Data-page owner (bits 15:0) and page-table owner plus one (bits 31:16).'),
    ],
    subops: { selector: 'ureqs[].ptr', mask: 7, group: 'MMU', argument: 'ureqs', ops: mmuOps },
    errors: [
      err('EFAULT', 'The request array is not accessible, or a request cannot be read.', when.fault('ureqs')),
      err('ESRCH', 'The page-table owner (bits 31:16 minus one) is not a domain.', when.state('pt-owner-nonexistent')),
      err('EINVAL', 'The page-table owner is another domain that has no vCPU 0.', when.state('pt-owner-no-vcpu')),
      err('ESRCH', 'The data-page owner is not a domain, or is the caller named by its own id instead of DOMID_SELF.', when.resource('foreigndom', 'domid', 'nonexistent')),
      err('EPERM', 'A named owner is another domain the caller neither is privileged over nor is the device model of.', when.privilege('target-or-privileged')),
      err('ENOSYS', 'Bits 2:0 of ptr are not an MMU_* type (bit 2 set).', when.value('ureqs[].ptr', 'mask', 4)),
    ],
    consumes: [use('domid', 'foreigndom', 'bits 15:0; bits 31:16 hold a second domid plus one')],
    ref: mmuRef,
  }),
  b.hypercall('set_gdt', 2, 'Replaces the vCPU’s GDT with the frames listed (512 descriptors per frame); the frames become descriptor pages and must not be writable mappings.', {
    referenceVmm: { implemented: false, reason: 'descriptor tables (GDT frames, descriptor validation) are outside the reference VMM’s PV MMU model' },
    abis: PV('compat'),
    args: [
      arg('frame_list', 'ptr(xen_ulong_t)', 'Frames of the new GDT; entries/512 rounded up are read.', { dir: 'in' }),
      arg('entries', 'unsigned int', 'Number of descriptors.'),
    ],
    errors: [
      err('EINVAL', 'More than FIRST_RESERVED_GDT_ENTRY (7168) descriptors.', when.value('entries', 'gt', 7168)),
      err('EFAULT', 'The frame list cannot be read.', when.fault('frame_list')),
      err('EINVAL', 'A frame is not the caller’s, is in use with another type (e.g. mapped writable), or holds an unsafe descriptor.', when.resource('frame_list', 'mfn', 'wrong-type')),
    ],
    consumes: [use('mfn', 'frame_list')],
    ref: { header: HX, handler: `${DT}:do_set_gdt` },
  }),
  b.hypercall('stack_switch', 3, 'Sets the kernel stack (selector and pointer) that Xen switches to when the guest enters its kernel; the selector’s RPL is forced to the kernel’s ring.', {
    abis: PV('native'),
    args: [
      arg('ss', 'unsigned long', 'Kernel stack selector.'),
      arg('esp', 'unsigned long', 'Kernel stack pointer.'),
    ],
    returns: { type: 'long', doc: 'Always 0.' },
    ref: { header: HX, handler: `${MISC}:do_stack_switch` },
  }),
  b.hypercall('fpu_taskswitch', 5, 'Sets (non-zero) or clears (0) the vCPU’s virtual CR0.TS, for lazy FPU switching.', {
    abis: PV('native'),
    args: [arg('set', 'int', 'Non-zero sets TS, 0 clears it.')],
    returns: { type: 'long', doc: 'Always 0.' },
    ref: { header: H, handler: `${MISC}:do_fpu_taskswitch` },
  }),
  b.hypercall('set_debugreg', 8, 'Writes debug register reg (0-7) of the vCPU.', {
    abis: PV('native'),
    args: [
      arg('reg', 'int', 'Register number.'),
      arg('value', 'unsigned long', 'New value.'),
    ],
    errors: [
      err('EPERM', 'DR0-DR3: the address is not a guest address (non-canonical or in Xen’s range).', when.state('breakpoint-address-not-guest')),
      err('ENODEV', 'DR4 or DR5 while the guest’s virtual CR4.DE is set.', when.state('cr4-de-set')),
      err('EINVAL', 'DR4-DR7: bits 63:32 of the value are not zero.', when.value('value', 'ge', 0x100000000)),
      err('EPERM', 'DR7: general detect (bit 13) is set.', when.value('value', 'mask', 0x2000)),
      err('EPERM', 'DR7: an I/O breakpoint is enabled while the guest’s virtual CR4.DE is clear.', when.state('io-breakpoint-without-de')),
      err('ENODEV', 'The register number is not 0 to 7.', when.value('reg', 'gt', 7)),
    ],
    ref: { header: H, handler: `${MISC}:set_debugreg` },
  }),
  b.hypercall('get_debugreg', 9, 'Reads debug register reg (0-7) of the vCPU; DR4 and DR5 alias DR6 and DR7 while CR4.DE is clear.', {
    abis: PV('native'),
    args: [arg('reg', 'int', 'Register number.')],
    returns: { type: 'long', doc: 'The register value itself; a value that looks like a negative errno is ambiguous.' },
    errors: [
      err('ENODEV', 'The register number is not 0 to 7, or is 4 or 5 while the virtual CR4.DE is set.', when.value('reg', 'gt', 7)),
    ],
    ref: { header: H, handler: `${MISC}:do_get_debugreg` },
  }),
  b.hypercall('update_descriptor', 10, 'Writes one checked 8-byte descriptor at a guest-physical address (of a GDT/LDT page or an ordinary writable page).', {
    referenceVmm: { implemented: false, reason: 'descriptor tables (GDT/LDT descriptor validation) are outside the reference VMM’s PV MMU model' },
    abis: PV('compat'),
    args: [
      arg('gaddr', 'uint64_t', 'Guest-physical (machine, for PV) address of the descriptor.'),
      arg('desc', 'uint64_t', 'The descriptor (Xen’s seg_desc_t, passed as one 64-bit value).'),
    ],
    argsByAbi: {
      'x86_32-pv': [
        arg('pa_lo', 'uint32_t', 'Bits 31:0 of the address.'),
        arg('pa_hi', 'uint32_t', 'Bits 63:32 of the address.'),
        arg('desc_lo', 'uint32_t', 'Bits 31:0 of the descriptor.'),
        arg('desc_hi', 'uint32_t', 'Bits 63:32 of the descriptor.'),
      ],
    },
    errors: [
      err('EINVAL', 'The address is not 8-byte aligned.', when.value('gaddr', 'mask', 7)),
      err('EINVAL', 'The descriptor is unsafe (a system descriptor other than a call gate, a bad gate selector, a 64-bit code segment for a 32-bit guest, or reserved bits set).', when.state('descriptor-unsafe')),
      err('EINVAL', 'The frame is not the caller’s.', when.resource('gaddr', 'maddr', 'foreign')),
      err('EINVAL', 'The frame is in use as something other than a descriptor page or a writable page (e.g. a page table).', when.resource('gaddr', 'maddr', 'wrong-type')),
    ],
    consumes: [use('maddr', 'gaddr')],
    ref: { header: H, handler: `${DT}:do_update_descriptor` },
  }),
  b.hypercall('multicall', 13, 'Runs a batch of hypercalls in order, storing each one’s return value in its entry. A failing call does not stop the batch. iret ends the batch at once; if a call leaves the vCPU in user mode, the rest continue later. Long batches continue transparently. On Arm an unknown hypercall number gives -ENOSYS in its entry, and a 32-bit guest whose used arguments have bits 63:32 set is crashed.', {
    abis: { 'x86_64-pv': 'native', 'x86_32-pv': 'compat', 'x86_64-hvm': 'native', 'x86_32-hvm': 'compat', arm64: 'native', arm32: 'native' },
    args: [
      arg('call_list', 'ptr(multicall_entry_t)', 'The calls; results are written back (32-bit callers use the 32-bit entry layout).', { dir: 'inout', count: 'nr_calls' }),
      arg('nr_calls', 'unsigned int', 'Number of entries.'),
    ],
    returns: { type: 'long', doc: '0 when the batch ran (per-call results are in the entries); for a batch ended by iret, that call’s result.' },
    errors: [
      err('EINVAL', 'Called from within a multicall (nesting is refused; this is the nested entry’s result).', when.state('in-multicall')),
      err('EFAULT', 'The list is not accessible, an entry cannot be read, or a result cannot be written back.', when.fault('call_list')),
    ],
    ref: { header: H, handler: 'xen/common/multicall.c:do_multicall' },
  }),
  b.hypercall('update_va_mapping', 14, 'Writes the L1 entry that maps the virtual address va of the current address space, with the checks of MMU_NORMAL_PT_UPDATE, then flushes TLBs as the flags ask.', {
    abis: PV('compat'),
    args: [
      arg('va', 'unsigned long', 'Virtual address whose mapping changes.'),
      arg('val64', 'uint64_t', 'The new L1 entry.'),
      arg('flags', 'unsigned long', 'UVMF_* flush type and scope, or a flush type ORed with the address of a vCPU bitmap.', { values: 'UVMF' }),
    ],
    argsByAbi: {
      'x86_32-pv': [
        arg('va', 'unsigned int', 'Virtual address whose mapping changes.'),
        arg('lo', 'uint32_t', 'Bits 31:0 of the new entry.'),
        arg('hi', 'uint32_t', 'Bits 63:32 of the new entry.'),
        arg('flags', 'unsigned int', 'UVMF_* flush type and scope, or a flush type ORed with the address of a vCPU bitmap.'),
      ],
    },
    errors: uvaErrors('va', 'val64', 'flags'),
    consumes: [use('linear_address', 'va'), use('mfn', 'val64', 'frame in bits 51:12')],
    ref: { header: H, handler: `${MM}:do_update_va_mapping` },
  }),
  b.hypercall('update_va_mapping_otherdomain', 22, 'As update_va_mapping, with the mapped frame owned by domain domid (the caller’s own page tables are updated).', {
    abis: PV('compat'),
    args: [
      arg('va', 'unsigned long', 'Virtual address whose mapping changes.'),
      arg('val64', 'uint64_t', 'The new L1 entry, mapping a frame of domid.'),
      arg('flags', 'unsigned long', 'UVMF_* flush type and scope, or a flush type ORed with the address of a vCPU bitmap.'),
      arg('domid', 'domid_t', 'Owner of the mapped frame.'),
    ],
    argsByAbi: {
      'x86_32-pv': [
        arg('va', 'unsigned int', 'Virtual address whose mapping changes.'),
        arg('lo', 'uint32_t', 'Bits 31:0 of the new entry.'),
        arg('hi', 'uint32_t', 'Bits 63:32 of the new entry.'),
        arg('flags', 'unsigned int', 'UVMF_* flush type and scope, or a flush type ORed with the address of a vCPU bitmap.'),
        arg('domid', 'domid_t', 'Owner of the mapped frame.'),
      ],
    },
    errors: [
      err('ESRCH', 'domid is not a domain, or is the caller named by its own id.', when.resource('domid', 'domid', 'nonexistent')),
      err('EPERM', 'domid is another domain the caller neither is privileged over nor is the device model of.', when.privilege('target-or-privileged')),
      ...uvaErrors('va', 'val64', 'flags'),
    ],
    consumes: [use('domid', 'domid'), use('linear_address', 'va'), use('mfn', 'val64', 'frame in bits 51:12')],
    ref: { header: H, handler: `${MM}:do_update_va_mapping_otherdomain` },
  }),
  b.hypercall('iret', 23, 'Returns from the guest kernel to the context in the frame on the guest stack (struct iret_context on 64-bit; eax, eip, cs, eflags[, esp, ss] on 32-bit). Must be jumped to, not called; on success it does not return to the caller. A frame that cannot be read, or a return to user mode without user page tables, crashes the domain.', {
    referenceVmm: { implemented: false, reason: 'returning to a guest context (a frame on the guest stack, kernel/user mode switches) is outside the model of guests' },
    abis: PV('compat'),
    noReturn: true,
    args: [],
    returns: { type: 'long', doc: 'None on success: execution resumes at the frame’s return address with rax (eax) taken from the frame.' },
    ref: { header: H64, handler: 'xen/arch/x86/pv/iret.c:do_iret' },
  }),
  b.hypercall('set_segment_base', 25, 'Sets the %fs base, a %gs base, or the user %gs selector of a 64-bit PV vCPU.', {
    abis: PV('native'),
    args: [
      arg('which', 'unsigned int', 'SEGBASE_* selection.', { values: 'SEGBASE' }),
      arg('base', 'unsigned long', 'The new base, or the selector in bits 15:0 for SEGBASE_GS_USER_SEL.'),
    ],
    errors: [
      err('ENOSYS', 'The caller is a 32-bit PV guest.', when.state('caller-32bit')),
      err('EINVAL', 'SEGBASE_FS, _GS_USER or _GS_KERNEL with a non-canonical base.', when.resource('base', 'linear_address', 'non-canonical')),
      err('EINVAL', 'which is not a SEGBASE_* value.', when.value('which', 'gt', 3)),
    ],
    consumes: [use('linear_address', 'base')],
    ref: { header: H64, handler: `${MISC}:do_set_segment_base` },
  }),
  b.hypercall('mmuext_op', 26, 'Runs a batch of extended MMU commands (pinning, base pointers, TLB and cache flushes, LDT, page clear and copy) in order, stopping at the first failure. HVM callers may only pin and unpin tables of a PV domain. Long batches continue transparently; a count with bit 31 set is Xen’s own continuation marker.', {
    abis: { 'x86_64-pv': 'native', 'x86_32-pv': 'compat', 'x86_64-hvm': 'native', 'x86_32-hvm': 'compat' },
    args: [
      arg('uops', 'ptr(mmuext_op_t)', 'The commands.', { dir: 'in', count: 'count' }),
      arg('count', 'unsigned int', 'Number of commands.'),
      arg('pdone', 'ptr(unsigned int)', 'If not null, receives the number of commands completed, also on failure.', { dir: 'out' }),
      arg('foreigndom', 'unsigned int', 'Owner of the frames the commands name (DOMID_SELF: the caller).'),
    ],
    subops: { selector: 'uops[].cmd', group: 'MMUEXT', argument: 'uops', ops: mmuextOps },
    errors: [
      err('EFAULT', 'The command array is not accessible, or a command cannot be read.', when.fault('uops')),
      err('ESRCH', 'foreigndom is not a domain, or is the caller named by its own id.', when.resource('foreigndom', 'domid', 'nonexistent')),
      err('EINVAL', 'foreigndom’s domain is not PV (e.g. an HVM caller naming itself).', when.state('owner-not-pv')),
      err('EPERM', 'foreigndom is another domain the caller neither is privileged over nor is the device model of.', when.privilege('target-or-privileged')),
      err('EOPNOTSUPP', 'The caller is HVM and the command is not a pin or unpin command.', when.state('caller-hvm')),
      err('ENOSYS', 'The command is not an MMUEXT_* command (14, or above 20).', when.state('unknown-command')),
    ],
    consumes: [use('domid', 'foreigndom')],
    ref: { header: H, handler: `${MM}:do_mmuext_op`, doc: `${CMM}:compat_mmuext_op` },
  }),
];

// ───────────────────────────── resources ─────────────────────────────

const resources = [
  b.resource('linear_address', 'unsigned long', 'A virtual address of a PV guest’s address space.'),
  b.resource('maddr', 'uint64_t', 'A machine address: a machine frame number times the page size, plus an offset within the frame.'),
];

export const x86Pv: FamilyModule = {
  family: b.family('The x86 PV MMU and CPU hypercalls: mmu_update, mmuext_op, update_va_mapping, multicall, trap tables, descriptors.', { header: H, handler: MM }),
  types,
  constants,
  hypercalls,
  resources,
};
