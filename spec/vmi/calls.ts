/**
 * The VMI API 3.0 calls of vmi.h (0 to 48, 61 to 65, 73) and the page, flush and lazy-mode
 * values they take. Each call's number is its VMI_CALL_* value; arguments carry the
 * register they travel in under the regparm(3) convention of `vmi-i386`.
 *
 * @see arch/x86/include/asm/vmi.h (Linux 2.6.32)
 * @see arch/x86/kernel/vmi_32.c (Linux 2.6.32): how Linux calls each one
 */
import { familyBuilder } from '../builders.js';
import type { Arg, Hypercall } from '../model.js';
import { t } from '../builders.js';
import { VMI_ABIS } from './abis.js';

const H = 'arch/x86/include/asm/vmi.h';
const C = 'arch/x86/kernel/vmi_32.c';

/** An argument with its register: `r('value', 'u32', 'eax', 'The new value.')`. */
export function r(name: string, type: string, register: string, doc: string, dir?: Arg['dir']): Arg {
  const a: Arg = { name, type: t(type), register, doc };
  if (dir) a.dir = dir;
  return a;
}

/** Options of one VMI call. */
export interface CallOpts {
  args?: Arg[];
  returns?: [string, string];
  results?: Arg[];
  clobbers?: string[];
  noReturn?: boolean;
  /** Linux's use (the function in vmi_32.c), for the handler reference. */
  linux?: string;
}

/** Builds the VMI calls of one header. */
export function vmiCallBuilder(family: string, header: string) {
  const b = familyBuilder(family, header);
  return (name: string, number: number, doc: string, o: CallOpts = {}): Hypercall => {
    const h = b.hypercall(name, number, doc, {
      abis: Object.fromEntries(VMI_ABIS.map((a) => [a, 'native' as const])),
      args: o.args ?? [],
      returns: o.returns ? { type: o.returns[0], doc: o.returns[1] } : { type: 'void', doc: 'Nothing.' },
      ref: o.linux ? { header, handler: `${C}:${o.linux}` } : { header },
    });
    if (o.results) h.results = o.results;
    if (o.clobbers) h.clobbers = o.clobbers;
    if (o.noReturn) h.noReturn = true;
    return h;
  };
}

/**
 * Calls whose registers are those of the native instruction rather than regparm(3): the
 * ROM code behaves like the instruction it replaces.
 */
export const NATIVE_REGISTER_CALLS = ['CPUID', 'RDMSR', 'RDPMC', 'IRET', 'SYSEXIT'];

const b = familyBuilder('calls', H);
const call = vmiCallBuilder('calls', H);

// ───────────────────────────── constants ─────────────────────────────

const constants = [
  b.group('VMI_PAGE_LEVEL', 'flags', 'Page-table level of a page or entry: AllocatePage, ReleasePage, SetPxE, UpdatePxE flags (low bits).', [
    ['VMI_PAGE_PT', 0x01, 'A page table (level 1).'],
    ['VMI_PAGE_PD', 0x02, 'A page directory (level 2).'],
    ['VMI_PAGE_PDP', 0x04, 'A PAE page-directory-pointer table (level 3).'],
    ['VMI_PAGE_PML4', 0x08, 'A level-4 table (never used by 32-bit guests).'],
    ['VMI_PAGE_NORMAL', 0x00, 'Not a page table (debugging aid).'],
  ]),
  b.group('VMI_PAGE_ALLOC', 'flags', 'AllocatePage and ReleasePage flags above the level bits.', [
    ['VMI_PAGE_PAE', 0x10, 'The table is a PAE table.'],
    ['VMI_PAGE_CLONE', 0x20, 'Copy entries from the table given as clone source.'],
    ['VMI_PAGE_ZEROED', 0x40, 'The page is already zero.'],
    ['VMI_PAGE_L1', 0x41, 'A new level-1 table as Linux allocates it: PT | ZEROED, with PAE: PT | PAE | ZEROED (0x51).', {
      perArch: { x86_32_pae: 0x51 },
    }],
    ['VMI_PAGE_L2', 0x42, 'A new level-2 table as Linux allocates it: PD | ZEROED, with PAE: PD | PAE | ZEROED (0x52).', {
      perArch: { x86_32_pae: 0x52 },
    }],
  ]),
  b.group('VMI_PAGE_UPDATE', 'flags', 'SetPxE and UpdatePxE flags above the level bits (the same bit values as PAE and CLONE mean something else here).', [
    ['VMI_PAGE_CURRENT_AS', 0x10, 'The entry belongs to the current address space; the VA bits are valid.'],
    ['VMI_PAGE_DEFER', 0x20, 'The hypervisor may queue the update until the next TLB flush or invalidation.'],
    ['VMI_PAGE_VA_MASK', 0xfffff000, 'Bits carrying the virtual address the entry maps.'],
  ]),
  b.group('VMI_FLUSH', 'flags', 'FlushTLB flags.', [
    ['VMI_FLUSH_TLB', 0x01, 'Flush non-global TLB entries (always set).'],
    ['VMI_FLUSH_GLOBAL', 0x02, 'Flush global entries too.'],
  ]),
  b.group('PARAVIRT_LAZY', 'enum', 'SetLazyMode modes. vmi.h names none; Linux passes its enum paravirt_lazy_mode values.', [
    ['PARAVIRT_LAZY_NONE', 0, 'Leave batching mode and apply every queued update.'],
    ['PARAVIRT_LAZY_MMU', 1, 'Batch page-table updates.'],
    ['PARAVIRT_LAZY_CPU', 2, 'Batch CPU state updates (context switch).'],
  ], { ref: { header: 'arch/x86/include/asm/paravirt_types.h', handler: `${C}:vmi_start_context_switch` } }),
  b.group('VMI_REBOOT', 'values', 'Reboot argument, from VMware’s 2006 VMI specification (no Linux header defines it).', [
    ['VMI_REBOOT_SOFT', 0, 'Soft reboot (INIT-like).', { probe: false }],
    ['VMI_REBOOT_HARD', 1, 'Hard reset.', { probe: false }],
  ], { ref: { doc: 'VMware, Paravirtualization API Version 2.0 (LKML, 13 March 2006), Appendix A' } }),
];

// ───────────────────────────── operations ─────────────────────────────

const u32 = (name: string, register: string, doc: string) => r(name, 'u32', register, doc);
const ptr = (name: string, to: string, register: string, doc: string, dir: Arg['dir']) => r(name, `ptr(${to})`, register, doc, dir);
const descLoad = (name: string, n: number, what: string, linux: string) =>
  call(name, n, `Loads the ${what} register from a 6-byte pseudo-descriptor (16-bit limit, 32-bit base), like L${what.slice(0, 1)}DT.`, {
    args: [ptr('desc', 'void', 'eax', 'The pseudo-descriptor.', 'in')], linux,
  });
const descStore = (name: string, n: number, what: string, linux: string) =>
  call(name, n, `Stores the ${what} register into a 6-byte pseudo-descriptor, like S${what.slice(0, 1)}DT (which a guest kernel cannot trust).`, {
    args: [ptr('desc', 'void', 'eax', 'Where the pseudo-descriptor goes.', 'out')], linux,
  });
const writeEntry = (name: string, n: number, table: string, linux: string) =>
  call(name, n, `Writes one 8-byte ${table} descriptor; the hypervisor may adjust it, so the guest must not expect the stored bits back.`, {
    args: [
      ptr('table', 'void', 'eax', `Linear base of the ${table}.`, 'in'),
      u32('index', 'edx', 'Entry index.'),
      u32('low', 'ecx', 'Low 32 bits of the descriptor.'),
      u32('high', 'stack[0]', 'High 32 bits of the descriptor.'),
    ],
    linux,
  });
const setCr = (n: number, cr: number, linux: string, doc: string) =>
  call(`SetCR${cr}`, n, `Writes CR${cr}. ${doc}`, { args: [u32('value', 'eax', 'The new value.')], linux });
const getCr = (n: number, cr: number, linux: string) =>
  call(`GetCR${cr}`, n, `Reads CR${cr}.`, { returns: ['u32', `CR${cr}.`], linux });
const flagsOnly = ['eflags'];

const hypercalls = [
  call('CPUID', 0, 'Executes CPUID as the hypervisor presents it: the native instruction’s registers in and out, features the hypervisor does not support masked.', {
    args: [u32('leaf', 'eax', 'The leaf.'), u32('subleaf', 'ecx', 'The sub-leaf.')],
    results: [u32('eax', 'eax', 'CPUID word a.'), u32('ebx', 'ebx', 'CPUID word b.'), u32('ecx', 'ecx', 'CPUID word c.'), u32('edx', 'edx', 'CPUID word d.')],
    clobbers: ['eax', 'ebx', 'ecx', 'edx', 'eflags'],
    linux: 'vmi_cpuid',
  }),
  call('WRMSR', 1, 'Writes a model-specific register, as WRMSR does (Linux leaves MSRs to trap and emulate and never calls it).', {
    args: [r('value', 'u64', 'edx:eax', 'The value.'), u32('msr', 'ecx', 'The MSR index.')],
  }),
  call('RDMSR', 2, 'Reads a model-specific register, as RDMSR does (unused by Linux).', {
    args: [u32('msr', 'ecx', 'The MSR index.')], returns: ['u64', 'The value, in edx:eax.'],
  }),
  descLoad('SetGDT', 3, 'GDT', 'activate_vmi'),
  call('SetLDT', 4, 'Loads the LDT register from a GDT selector (0: no LDT), like LLDT; segment registers are reloaded.', {
    args: [u32('selector', 'eax', 'GDT selector of the LDT descriptor, or 0.')], linux: 'vmi_set_ldt',
  }),
  descLoad('SetIDT', 5, 'IDT', 'activate_vmi'),
  call('SetTR', 6, 'Loads the task register from a GDT selector, like LTR.', {
    args: [u32('selector', 'eax', 'GDT selector of the TSS descriptor.')], linux: 'vmi_set_tr',
  }),
  descStore('GetGDT', 7, 'GDT', 'activate_vmi'),
  call('GetLDT', 8, 'Returns the LDT selector, like SLDT (unused by Linux).', { returns: ['u32', 'The LDT selector.'] }),
  descStore('GetIDT', 9, 'IDT', 'activate_vmi'),
  call('GetTR', 10, 'Returns the task register selector, like STR.', { returns: ['u32', 'The TR selector.'], linux: 'activate_vmi' }),
  writeEntry('WriteGDTEntry', 11, 'GDT', 'vmi_write_gdt_entry'),
  writeEntry('WriteLDTEntry', 12, 'LDT', 'vmi_write_ldt_entry'),
  writeEntry('WriteIDTEntry', 13, 'IDT', 'vmi_write_idt_entry'),
  call('UpdateKernelStack', 14, 'Tells the hypervisor the stack a user-to-kernel transition switches to (TSS ss0:esp0). The 2006 VMware text passes a TSS pointer first; Linux passes the kernel stack segment.', {
    args: [u32('ss0', 'eax', 'Kernel stack segment selector.'), u32('esp0', 'edx', 'Kernel stack pointer.')], linux: 'vmi_load_sp0',
  }),
  setCr(15, 0, 'activate_vmi', 'Features may be turned on, not off.'),
  setCr(16, 2, 'activate_vmi', 'Sets the page-fault address.'),
  setCr(17, 3, 'activate_vmi', 'Switches the page directory and flushes non-global TLB entries; may be queued in lazy mode.'),
  setCr(18, 4, 'activate_vmi', 'PGE, PSE and PAE may be turned on, not off.'),
  getCr(19, 0, 'activate_vmi'),
  getCr(20, 2, 'activate_vmi'),
  getCr(21, 3, 'activate_vmi'),
  getCr(22, 4, 'activate_vmi'),
  call('WBINVD', 23, 'Writes back and invalidates the caches.', { linux: 'activate_vmi' }),
  call('SetDR', 24, 'Writes debug register DRn.', {
    args: [u32('regno', 'eax', 'Debug register number, 0 to 7.'), u32('value', 'edx', 'The value.')], linux: 'activate_vmi',
  }),
  call('GetDR', 25, 'Reads debug register DRn (0 where unsupported).', {
    args: [u32('regno', 'eax', 'Debug register number, 0 to 7.')], returns: ['u32', 'The value.'], linux: 'activate_vmi',
  }),
  call('RDPMC', 26, 'Reads a performance counter, as RDPMC does (unused by Linux).', {
    args: [u32('counter', 'ecx', 'The counter.')], returns: ['u64', 'The count, in edx:eax.'],
  }),
  call('RDTSC', 27, 'Reads the time-stamp counter as the kernel sees it.', { returns: ['u64', 'The TSC, in edx:eax.'], linux: 'activate_vmi' }),
  call('CLTS', 28, 'Clears CR0.TS.', { linux: 'activate_vmi' }),
  call('EnableInterrupts', 29, 'Sets the (virtual) interrupt flag and delivers pending interrupts, like STI. Only the flags change; only CS and SS need be flat.', {
    clobbers: flagsOnly, linux: 'vmi_patch',
  }),
  call('DisableInterrupts', 30, 'Clears the (virtual) interrupt flag, like CLI. Only the flags change.', { clobbers: flagsOnly, linux: 'vmi_patch' }),
  call('GetInterruptMask', 31, 'Returns the interrupt flag in its EFLAGS position, like PUSHF; POP restricted to IF.', {
    returns: ['u32', 'X86_EFLAGS_IF when interrupts are enabled, else 0.'], clobbers: ['eax', 'eflags'], linux: 'vmi_patch',
  }),
  call('SetInterruptMask', 32, 'Sets the interrupt flag from a saved mask, like PUSH; POPF restricted to IF; delivers pending interrupts when enabling.', {
    args: [u32('mask', 'eax', 'A value GetInterruptMask returned: X86_EFLAGS_IF or 0.')], clobbers: flagsOnly, linux: 'vmi_patch',
  }),
  call('IRET', 33, 'Returns from an interrupt with the native IRET frame on the stack; restores IF from the frame, never IOPL. Reached by JMP or CALL as get_reloc says; only CS and SS need be valid.', {
    noReturn: true, linux: 'vmi_patch',
  }),
  call('SYSEXIT', 34, 'Enables interrupts and returns to user mode atomically, like STI; SYSEXIT.', {
    args: [u32('user_eip', 'edx', 'User instruction pointer.'), u32('user_esp', 'ecx', 'User stack pointer.')], noReturn: true, linux: 'vmi_patch',
  }),
  call('Halt', 35, 'Halts until an interrupt, with interrupts enabled (every VMI halt is a safe halt, like STI; HLT).', { linux: 'activate_vmi' }),
  call('Reboot', 36, 'Reboots the virtual machine (unused by Linux).', { args: [u32('how', 'eax', 'VMI_REBOOT_SOFT or VMI_REBOOT_HARD.')] }),
  call('Shutdown', 37, 'Halts this CPU for good, with interrupts disabled (unused by Linux).'),
  call('SetPxE', 38, 'Writes a 32-bit page-table or directory entry (non-PAE).', {
    args: [u32('value', 'eax', 'The new entry.'), ptr('ptep', 'u32', 'edx', 'The entry.', 'out'), u32('flags', 'ecx', 'VMI_PAGE_PT or _PD, optionally | VMI_PAGE_CURRENT_AS with the VA in VMI_PAGE_VA_MASK | VMI_PAGE_DEFER.')],
    linux: 'vmi_set_pte',
  }),
  call('SetPxELong', 39, 'Writes a 64-bit (PAE) entry without ever exposing a half-written present entry.', {
    args: [r('value', 'u64', 'edx:eax', 'The new entry.'), ptr('ptep', 'u64', 'ecx', 'The entry.', 'out'), u32('flags', 'stack[0]', 'As for SetPxE, and VMI_PAGE_PDP for a PDPT entry.')],
    linux: 'vmi_set_pte',
  }),
  call('UpdatePxE', 40, 'Tells the hypervisor the guest changed a 32-bit entry in place (e.g. an atomic A/D or protection change).', {
    args: [ptr('ptep', 'u32', 'eax', 'The entry.', 'in'), u32('flags', 'edx', 'Level, optionally | CURRENT_AS with the VA | DEFER.')], linux: 'vmi_update_pte',
  }),
  call('UpdatePxELong', 41, 'As UpdatePxE, for a 64-bit (PAE) entry.', {
    args: [ptr('ptep', 'u64', 'eax', 'The entry.', 'in'), u32('flags', 'edx', 'Level, optionally | CURRENT_AS with the VA | DEFER.')], linux: 'vmi_update_pte',
  }),
  call('MachineToPhysical', 42, 'Translates a machine address into a guest-physical one. The number is defined but no source documents the signature; hyperabi takes a 32-bit value in eax and returns one in eax (identity on bare hardware). Unused by Linux.', {
    args: [u32('addr', 'eax', 'Machine address.')], returns: ['u32', 'Guest-physical address.'],
  }),
  call('PhysicalToMachine', 43, 'Translates a guest-physical address into a machine one; signature as MachineToPhysical (hyperabi’s reading). Unused by Linux.', {
    args: [u32('addr', 'eax', 'Guest-physical address.')], returns: ['u32', 'Machine address.'],
  }),
  call('AllocatePage', 44, 'Registers a guest page as a page table or directory, optionally cloning entries from another one.', {
    args: [
      u32('pfn', 'eax', 'The page.'),
      u32('flags', 'edx', 'VMI_PAGE_L1 or VMI_PAGE_L2, optionally | VMI_PAGE_CLONE.'),
      u32('clone_pfn', 'ecx', 'Page to clone from (CLONE).'),
      u32('start', 'stack[0]', 'First entry cloned.'),
      u32('count', 'stack[1]', 'Number of entries cloned.'),
    ],
    linux: 'vmi_allocate_pte',
  }),
  call('ReleasePage', 45, 'Says a page is no longer a page table or directory.', {
    args: [u32('pfn', 'eax', 'The page.'), u32('flags', 'edx', 'VMI_PAGE_L1 or VMI_PAGE_L2.')], linux: 'vmi_release_pte',
  }),
  call('InvalPage', 46, 'Invalidates the TLB entry of one virtual address, like INVLPG.', {
    args: [u32('va', 'eax', 'The virtual address.')], linux: 'activate_vmi',
  }),
  call('FlushTLB', 47, 'Flushes the TLB (and applies deferred updates): non-global entries, or all with VMI_FLUSH_GLOBAL.', {
    args: [u32('flags', 'eax', 'VMI_FLUSH_TLB, optionally | VMI_FLUSH_GLOBAL.')], linux: 'vmi_flush_tlb_user',
  }),
  call('SetLinearMapping', 48, 'Gives the hypervisor a virtual-to-physical hint: a range of virtual pages maps consecutive frames. Hypervisors that need no hint may make it a NOP.', {
    args: [u32('slot', 'eax', 'Mapping slot (Linux: 0 lowmem, 1 and 2 the kmap_atomic page-table windows).'), u32('va', 'edx', 'First virtual address.'), u32('pages', 'ecx', 'Number of pages.'), u32('pfn', 'stack[0]', 'First frame.')],
    linux: 'vmi_bringup',
  }),
  call('SetIOPLMask', 61, 'Sets the I/O privilege level, which POPF and IRET cannot change.', {
    args: [u32('mask', 'eax', 'IOPL in its EFLAGS position (IOPL 3: 0x3000).')], linux: 'activate_vmi',
  }),
  call('SetInitialAPState', 62, 'Gives the full initial state of an application processor, between the INIT and STARTUP IPIs. Linux 2.6.32 passes the linear address of the state; 2.6.21 passed its physical address.', {
    args: [ptr('state', 'struct vmi_ap_state', 'eax', 'The state.', 'in'), u32('apic_id', 'edx', 'Physical APIC id of the processor.')],
    linux: 'vmi_startup_ipi_hook',
  }),
  call('APICWrite', 63, 'Writes a local APIC register without an MMIO trap.', {
    args: [u32('reg', 'eax', 'Register offset from the APIC base.'), u32('value', 'edx', 'The value.')], linux: 'activate_vmi',
  }),
  call('APICRead', 64, 'Reads a local APIC register.', {
    args: [u32('reg', 'eax', 'Register offset from the APIC base.')], returns: ['u32', 'The value.'], linux: 'activate_vmi',
  }),
  call('IODelay', 65, 'The port 0x80 delay of legacy drivers: nothing to do in a virtual machine.', { linux: 'activate_vmi' }),
  call('SetLazyMode', 73, 'Enters or leaves a batching mode; leaving (PARAVIRT_LAZY_NONE) applies every queued update.', {
    args: [u32('mode', 'eax', 'PARAVIRT_LAZY_NONE, _MMU or _CPU.')], linux: 'vmi_start_context_switch',
  }),
];

export const calls = { family: b.family('The CPU, descriptor, MMU, APIC and lazy-mode calls of vmi.h.'), types: [], constants, hypercalls };
