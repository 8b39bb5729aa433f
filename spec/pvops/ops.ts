/**
 * The paravirt-ops tables of Linux 2.6.32 (32-bit x86 view): every member's C signature and
 * how each backend implements it: native hardware, VMware's VMI ROM, Xen, lguest. A
 * backend not listed for a member keeps the native implementation.
 *
 * References name operations of other specs: `vmi:<call>`, `xen:<hypercall>` or
 * `xen:<hypercall>$<SUBOP>`, `lguest:LHCALL_*`; `spec check` resolves every one.
 *
 * @see arch/x86/include/asm/paravirt_types.h, arch/x86/kernel/paravirt.c, paravirt_patch_32.c (Linux 2.6.32)
 * @see arch/x86/kernel/vmi_32.c, arch/x86/xen/{enlighten,mmu,irq,time,smp,spinlock}.c, arch/x86/lguest/boot.c (Linux 2.6.32)
 */
import type { Implementation, ImplCall, InterfaceGroup, InterfaceMember } from '../model.js';

const PT = 'arch/x86/include/asm/paravirt_types.h';

// ───────────────────────────── implementation shorthands ─────────────────────────────

type Opt = { patched?: boolean };
const callOf = (backend: string, spec: string | [string, string[]] | ImplCall): ImplCall => {
  if (typeof spec === 'string') return { ref: `${backend}:${spec}` };
  if (Array.isArray(spec)) return { ref: `${backend}:${spec[0]}`, args: spec[1] };
  return spec;
};
const impl = (backend: string, kind: Implementation['kind'], doc: string, extra: Partial<Implementation> = {}): Implementation => ({
  backend,
  kind,
  doc,
  ...extra,
});

/** Native: an instruction sequence (AT&T syntax). */
const ins = (instructions: string[], doc = 'The instruction itself.'): Implementation => impl('native', 'instructions', doc, { instructions });
/** Native: other code, described. */
const nat = (doc: string): Implementation => impl('native', 'code', doc);
const natNop = (doc = 'Nothing to do on bare hardware.'): Implementation => impl('native', 'nop', doc);
const natVal = (value: number | string, doc: string): Implementation => impl('native', 'value', doc, { value });

const calls = (backend: string) => (refs: (string | [string, string[]] | ImplCall)[], doc: string, o: Opt = {}): Implementation =>
  impl(backend, 'call', doc, { calls: refs.map((x) => callOf(backend, x)), ...(o.patched ? { patched: true } : {}) });
const vmi = calls('vmi');
const xen = calls('xen');
const lg = calls('lguest');
const shm = (backend: string) => (doc: string): Implementation => impl(backend, 'shared-memory', doc);
const xenShm = shm('xen');
const lgShm = shm('lguest');
const nop = (backend: string, doc: string): Implementation => impl(backend, 'nop', doc);
const code = (backend: string, doc: string): Implementation => impl(backend, 'code', doc);
const val = (backend: string, value: number | string, doc: string): Implementation => impl(backend, 'value', doc, { value });

const fn = (name: string, signature: string, doc: string, implementations: Implementation[], o: Partial<InterfaceMember> = {}): InterfaceMember => ({
  name,
  kind: 'function',
  signature,
  doc,
  implementations,
  ...o,
});
const data = (name: string, signature: string, doc: string, implementations: Implementation[]): InterfaceMember => ({
  name,
  kind: 'data',
  signature,
  doc,
  implementations,
});
const only64 = { arches: ['x86_64'] };
const pae = { arches: ['x86_32_pae', 'x86_64'] };

// ───────────────────────────── pv_info ─────────────────────────────

const pvInfo: InterfaceGroup = {
  name: 'pv_info',
  doc: 'What kind of platform the kernel runs on.',
  ref: { header: PT },
  members: [
    data('kernel_rpl', 'unsigned int', 'Privilege level the kernel runs at.', [
      natVal(0, 'Ring 0.'),
      code('vmi', 'CS & 3, read after VMI_Init returns.'),
      val('xen', 1, 'Ring 1 (0 with XENFEAT_supervisor_mode_kernel).'),
      val('lguest', 1, 'Ring 1.'),
    ]),
    data('shared_kernel_pmd', 'int', 'Whether page directories share the kernel PMD.', [natVal(1, 'Shared.'), val('xen', 0, 'Not shared: each pgd has its own, pinned.'), val('lguest', 1, 'Shared.')]),
    data('paravirt_enabled', 'int', 'Whether a hypervisor backend is active.', [natVal(0, 'No.'), val('vmi', 1, 'Yes.'), val('xen', 1, 'Yes.'), val('lguest', 1, 'Yes.')]),
    data('name', 'const char *', 'Backend name.', [
      natVal('bare hardware', 'Native.'),
      val('vmi', 'vmi [deprecated]', '2.6.32 name ("vmi" in 2.6.21 to 2.6.31).'),
      val('xen', 'Xen', 'Xen.'),
      val('lguest', 'lguest', 'lguest.'),
    ]),
  ],
};

// ───────────────────────────── pv_init_ops ─────────────────────────────

const pvInit: InterfaceGroup = {
  name: 'pv_init_ops',
  doc: 'Boot-time hooks: the call-site patcher.',
  ref: { header: PT },
  members: [
    fn('patch', 'unsigned (u8 type, u16 clobber, void *insnbuf, unsigned long addr, unsigned len)', 'Rewrites one paravirt call site; returns the bytes used.', [
      nat('native_patch: inline the native sequences of paravirt_patch_32.c, else a direct call.'),
      vmi(['GetInterruptMask', 'SetInterruptMask', 'DisableInterrupts', 'EnableInterrupts', 'IRET', 'SYSEXIT'], 'vmi_patch: for the IRQ, IRET and SYSEXIT sites, ask get_reloc and write CALL or JMP rel32 to the ROM, nothing (NOP) or keep native (NONE).', { patched: true }),
      code('xen', 'xen_patch: inline snippets on the per-CPU vcpu_info mask byte for the four IRQ operations; else default.'),
      code('lguest', 'lguest_patch: irq_disable stores 0 to lguest_data.irq_enabled, save_fl loads it; else default.'),
    ]),
  ],
};

// ───────────────────────────── pv_time_ops ─────────────────────────────

const pvTime: InterfaceGroup = {
  name: 'pv_time_ops',
  doc: 'Time: the scheduler clock.',
  ref: { header: PT },
  members: [
    fn('sched_clock', 'unsigned long long (void)', 'Nanoseconds of CPU time for the scheduler.', [
      nat('native_sched_clock: TSC scaled to ns.'),
      vmi([['GetCycleCounter', ['VMI_CYCLES_AVAILABLE']]], 'The AVAILABLE counter scaled to ns, so stolen time does not count.'),
      xenShm('pvclock time from vcpu_time_info minus stolen time from the runstate area.'),
    ]),
    fn('get_tsc_khz', 'unsigned long (void)', 'TSC frequency; no backend sets it in 2.6.32 (they use x86_platform.calibrate_tsc).', [
      nat('PIT calibration.'),
      vmi(['GetCycleFrequency'], 'Through x86_platform.calibrate_tsc: GetCycleFrequency / 1000.'),
      xenShm('From vcpu_time_info.'),
      lgShm('lguest_data.tsc_khz.'),
    ]),
  ],
};

// ───────────────────────────── pv_cpu_ops ─────────────────────────────

const crRead = (name: string, cr: number, vmiCall: string, xenImpl: Implementation, lgImpl?: Implementation) =>
  fn(name, 'unsigned long (void)', `Reads CR${cr}.`, [ins([`mov %cr${cr},%eax`]), vmi([vmiCall], `${vmiCall}.`), xenImpl, ...(lgImpl ? [lgImpl] : [])]);
const crWrite = (name: string, cr: number, vmiCall: string, xenImpl: Implementation, lgImpl?: Implementation) =>
  fn(name, 'void (unsigned long)', `Writes CR${cr}.`, [ins([`mov %eax,%cr${cr}`]), vmi([[vmiCall, ['x']]], `${vmiCall}.`), xenImpl, ...(lgImpl ? [lgImpl] : [])]);

const pvCpu: InterfaceGroup = {
  name: 'pv_cpu_ops',
  doc: 'Privileged CPU operations: control and debug registers, descriptor tables, MSRs, TSC, return to user mode.',
  ref: { header: PT },
  members: [
    fn('get_debugreg', 'unsigned long (int regno)', 'Reads DRn.', [ins(['mov %dbN,%eax'], 'mov from DRn.'), vmi([['GetDR', ['regno']]], 'GetDR.'), xen([['get_debugreg', ['regno']]], 'get_debugreg hypercall.')]),
    fn('set_debugreg', 'void (int regno, unsigned long value)', 'Writes DRn.', [ins(['mov %eax,%dbN'], 'mov to DRn.'), vmi([['SetDR', ['regno', 'value']]], 'SetDR.'), xen([['set_debugreg', ['regno', 'value']]], 'set_debugreg hypercall.'), nop('lguest', 'Ignored.')]),
    fn('clts', 'void (void)', 'Clears CR0.TS.', [ins(['clts']), vmi(['CLTS'], 'CLTS.'), xen([['fpu_taskswitch', ['0']]], 'fpu_taskswitch(0), batched in a multicall in lazy mode.'), lg([['LHCALL_TS', ['0']]], 'LHCALL_TS(0), queued in lazy mode.')]),
    crRead('read_cr0', 0, 'GetCR0', code('xen', 'Cached value, no hypercall.'), code('lguest', 'Cached value.')),
    crWrite('write_cr0', 0, 'SetCR0', xen([['fpu_taskswitch', ['x & X86_CR0_TS']]], 'fpu_taskswitch with the TS bit (multicall).'), lg([['LHCALL_TS', ['x & X86_CR0_TS']]], 'LHCALL_TS with the TS bit (lazy).')),
    crRead('read_cr4', 4, 'GetCR4', code('xen', 'Native; Xen emulates it.'), val('lguest', 0, 'Returns 0.')),
    fn('read_cr4_safe', 'unsigned long (void)', 'Reads CR4, 0 if the CPU has none.', [nat('mov from CR4 with an exception fixup.')]),
    crWrite('write_cr4', 4, 'SetCR4', code('xen', 'Native with PGE and PSE cleared; Xen emulates it.'), nop('lguest', 'Ignored.')),
    fn('load_tr_desc', 'void (void)', 'Loads the task register.', [ins(['ltr %ax'], 'ltr with GDT_ENTRY_TSS*8.'), vmi([['SetTR', ['GDT_ENTRY_TSS*8']]], 'Wrapper passing the TSS selector.'), nop('xen', 'Nothing.'), nop('lguest', 'Nothing.')]),
    fn('load_gdt', 'void (const struct desc_ptr *)', 'Loads the GDT.', [ins(['lgdt (%eax)']), vmi([['SetGDT', ['desc']]], 'SetGDT.'), xen(['set_gdt'], 'set_gdt with the machine frames of the GDT, whose pages become read-only.'), lg(['LHCALL_LOAD_GDT_ENTRY'], 'LHCALL_LOAD_GDT_ENTRY for every entry.')]),
    fn('load_idt', 'void (const struct desc_ptr *)', 'Loads the IDT.', [ins(['lidt (%eax)']), vmi([['SetIDT', ['desc']]], 'SetIDT.'), xen(['set_trap_table'], 'set_trap_table with the IDT converted to trap_info.'), lg(['LHCALL_LOAD_IDT_ENTRY'], 'LHCALL_LOAD_IDT_ENTRY for every entry.')]),
    fn('store_gdt', 'void (struct desc_ptr *)', 'Stores the GDT register.', [ins(['sgdt (%eax)']), vmi([['GetGDT', ['desc']]], 'GetGDT.')]),
    fn('store_idt', 'void (struct desc_ptr *)', 'Stores the IDT register.', [ins(['sidt (%eax)']), vmi([['GetIDT', ['desc']]], 'GetIDT.')]),
    fn('set_ldt', 'void (const void *desc, unsigned entries)', 'Installs an LDT.', [
      nat('Write the LDT descriptor into GDT slot GDT_ENTRY_LDT, then lldt.'),
      vmi(['WriteGDTEntry', ['SetLDT', ['entries ? GDT_ENTRY_LDT*8 : 0']]], 'Wrapper: writes the descriptor with WriteGDTEntry, then SetLDT.'),
      xen(['mmuext_op$MMUEXT_SET_LDT'], 'MMUEXT_SET_LDT (multicall).'),
      nop('lguest', 'No LDT support.'),
    ]),
    fn('store_tr', 'unsigned long (void)', 'Stores the task register.', [ins(['str %eax']), vmi(['GetTR'], 'GetTR.'), val('xen', 0, 'Returns 0.')]),
    fn('load_tls', 'void (struct thread_struct *t, unsigned int cpu)', 'Copies the three TLS descriptors into the GDT.', [
      nat('Three descriptor stores.'),
      vmi(['WriteGDTEntry'], 'vmi_load_tls: WriteGDTEntry for each changed slot.'),
      xen(['update_descriptor'], 'update_descriptor for each of the three slots (multicall).'),
      lg([['LHCALL_LOAD_TLS', ['__pa(&t->tls_array)', 'cpu']]], 'LHCALL_LOAD_TLS (lazy).'),
    ]),
    fn('write_ldt_entry', 'void (struct desc_struct *ldt, int entrynum, const void *desc)', 'Writes one LDT descriptor.', [nat('Store.'), vmi([['WriteLDTEntry', ['ldt', 'entrynum', 'desc low', 'desc high']]], 'Wrapper splitting the descriptor.'), xen(['update_descriptor'], 'update_descriptor on the entry’s machine address.')]),
    fn('write_gdt_entry', 'void (struct desc_struct *, int entrynum, const void *desc, int type)', 'Writes one GDT descriptor.', [nat('Store.'), vmi([['WriteGDTEntry', ['gdt', 'entrynum', 'desc low', 'desc high']]], 'Wrapper splitting the descriptor.'), xen(['update_descriptor'], 'update_descriptor.'), lg([['LHCALL_LOAD_GDT_ENTRY', ['entrynum', 'low', 'high']]], 'Store, then LHCALL_LOAD_GDT_ENTRY.')]),
    fn('write_idt_entry', 'void (gate_desc *, int entrynum, const gate_desc *gate)', 'Writes one IDT gate.', [nat('Store.'), vmi([['WriteIDTEntry', ['idt', 'entrynum', 'gate low', 'gate high']]], 'Wrapper splitting the gate.'), xen(['set_trap_table'], 'Store, then set_trap_table for that vector if the IDT is live.'), lg([['LHCALL_LOAD_IDT_ENTRY', ['entrynum', 'low', 'high']]], 'Store, then LHCALL_LOAD_IDT_ENTRY.')]),
    fn('alloc_ldt', 'void (struct desc_struct *ldt, unsigned entries)', 'A new LDT is about to be used.', [natNop(), xen(['update_va_mapping'], 'Makes the LDT pages read-only.')]),
    fn('free_ldt', 'void (struct desc_struct *ldt, unsigned entries)', 'An LDT is no longer used.', [natNop(), xen(['update_va_mapping'], 'Makes the LDT pages writable again.')]),
    fn('load_sp0', 'void (struct tss_struct *tss, struct thread_struct *thread)', 'Sets the kernel stack for the next user-to-kernel transition.', [
      nat('Writes tss->sp0 (and the SYSENTER_CS MSR when it changes).'),
      vmi([['UpdateKernelStack', ['__KERNEL_DS', 'thread->sp0']]], 'Wrapper: writes the TSS too, then UpdateKernelStack.'),
      xen([['stack_switch', ['__KERNEL_DS', 'thread->sp0']]], 'stack_switch (multicall).'),
      lg([['LHCALL_SET_STACK', ['__KERNEL_DS | 1', 'thread->sp0', 'THREAD_SIZE / PAGE_SIZE']]], 'LHCALL_SET_STACK (lazy).'),
    ]),
    fn('set_iopl_mask', 'void (unsigned mask)', 'Sets EFLAGS.IOPL.', [nat('pushf; change IOPL; popf.'), vmi([['SetIOPLMask', ['mask']]], 'SetIOPLMask.'), xen(['physdev_op$PHYSDEVOP_set_iopl'], 'PHYSDEVOP_set_iopl.')]),
    fn('wbinvd', 'void (void)', 'Writes back and invalidates caches.', [ins(['wbinvd']), vmi(['WBINVD'], 'WBINVD.'), nop('lguest', 'Nothing.')]),
    fn('io_delay', 'void (void)', 'Legacy I/O delay.', [ins(['outb %al,$0x80'], 'A write to port 0x80.'), vmi(['IODelay'], 'IODelay (typically a NOP relocation).'), nop('xen', 'Nothing.')]),
    fn('cpuid', 'void (unsigned *eax, unsigned *ebx, unsigned *ecx, unsigned *edx)', 'CPU identification.', [
      ins(['cpuid']),
      vmi([['CPUID', ['*eax', '*ecx']]], 'Wrapper vmi_cpuid: the native registers in and out (optionally masking features Linux was told to disable).'),
      code('xen', 'The forced-emulation prefix (ud2a; "xen") before cpuid: Xen traps and emulates it; Linux then masks features.'),
      code('lguest', 'Native cpuid, then masking.'),
    ]),
    fn('read_msr', 'u64 (unsigned msr, int *err)', 'Reads an MSR, catching the fault.', [ins(['rdmsr'], 'rdmsr with a fault fixup.'), code('xen', 'Native; Xen traps and emulates.')]),
    fn('write_msr', 'int (unsigned msr, unsigned low, unsigned high)', 'Writes an MSR, catching the fault.', [ins(['wrmsr'], 'wrmsr with a fault fixup.'), code('xen', 'SYSENTER and SYSCALL MSR writes ignored; FS/GS base through set_segment_base on 64-bit; else native.')]),
    fn('rdmsr_regs', 'int (u32 *regs)', 'rdmsr with all registers (AMD errata work-arounds).', [nat('rdmsr with every register from the array.')]),
    fn('wrmsr_regs', 'int (u32 *regs)', 'wrmsr with all registers.', [nat('wrmsr with every register from the array.')]),
    fn('read_tsc', 'u64 (void)', 'Reads the TSC.', [ins(['rdtsc']), vmi(['RDTSC'], 'RDTSC.')]),
    fn('read_pmc', 'u64 (int counter)', 'Reads a performance counter.', [ins(['rdpmc'])]),
    fn('read_tscp', 'unsigned long long (unsigned int *aux)', 'RDTSCP.', [ins(['rdtscp'])]),
    { ...fn('irq_enable_sysexit', 'void (void)', 'Enables interrupts and returns to user mode with SYSEXIT; jumped to, never called.', [
      ins(['sti', 'sysexit']),
      vmi(['SYSEXIT'], 'Patch sites only (the pointer is poisoned): CALL or JMP to SYSEXIT as get_reloc says.', { patched: true }),
      code('xen', 'xen_sysexit: builds an iret frame and goes through xen_iret.'),
    ]), kind: 'jump-target' },
    { ...fn('iret', 'void (void)', 'Returns from an interrupt; jumped to, never called.', [
      ins(['iret']),
      vmi(['IRET'], 'Patch sites only (the pointer is poisoned): CALL or JMP to IRET as get_reloc says.', { patched: true }),
      xen(['iret'], 'xen_iret: a plain iret when safe, else the iret hypercall.'),
      code('lguest', 'lguest_iret: restore the virtual IF from the frame inside the no-interrupt window, then iret.'),
    ]), kind: 'jump-target' },
    fn('usergs_sysret64', 'void (void)', '64-bit SYSRET with swapgs.', [ins(['swapgs', 'sysretq'])], only64),
    fn('swapgs', 'void (void)', '64-bit swapgs.', [ins(['swapgs'])], only64),
    fn('start_context_switch', 'void (struct task_struct *prev)', 'Start of a context switch: batch CPU state updates.', [
      natNop('Nothing (marks lazy CPU mode).'),
      vmi([['SetLazyMode', ['PARAVIRT_LAZY_CPU']]], 'SetLazyMode(2).'),
      code('xen', 'Enter lazy CPU mode: hypercalls are queued for one multicall.'),
      code('lguest', 'Enter lazy mode: hypercalls are queued in lguest_data.'),
    ]),
    fn('end_context_switch', 'void (struct task_struct *next)', 'End of a context switch: flush batched updates.', [
      natNop('Nothing (leaves lazy CPU mode).'),
      vmi([['SetLazyMode', ['PARAVIRT_LAZY_NONE']]], 'SetLazyMode(0).'),
      xen(['multicall'], 'Issues the queued multicall.'),
      lg(['LHCALL_FLUSH_ASYNC'], 'LHCALL_FLUSH_ASYNC.'),
    ]),
  ],
};

// ───────────────────────────── pv_irq_ops ─────────────────────────────

const pvIrq: InterfaceGroup = {
  name: 'pv_irq_ops',
  doc: 'The interrupt flag and halting. save_fl, restore_fl, irq_disable and irq_enable are callee-save: they preserve every register but eax.',
  ref: { header: PT },
  members: [
    { ...fn('save_fl', 'unsigned long (void)', 'Returns the interrupt flag (EFLAGS.IF position).', [
      ins(['pushf', 'pop %eax']),
      vmi(['GetInterruptMask'], 'GetInterruptMask; sites patched inline.', { patched: true }),
      xenShm('Reads evtchn_upcall_mask of the vcpu_info (inline-patchable).'),
      lgShm('Reads lguest_data.irq_enabled (inline-patched).'),
    ]), kind: 'callee-save' },
    { ...fn('restore_fl', 'void (unsigned long flags)', 'Restores the interrupt flag.', [
      ins(['push %eax', 'popf']),
      vmi([['SetInterruptMask', ['flags']]], 'SetInterruptMask; sites patched inline.', { patched: true }),
      xen([{ ref: 'xen:xen_version$XENVER_version', when: 'unmasking with an event pending, to force the upcall' }], 'Writes the mask; an event pending when unmasking is delivered through a cheap hypercall.'),
      lg([{ ref: 'lguest:LHCALL_SEND_INTERRUPTS', when: 'an interrupt is pending' }], 'Writes irq_enabled; a pending interrupt is delivered with LHCALL_SEND_INTERRUPTS.'),
    ]), kind: 'callee-save' },
    { ...fn('irq_disable', 'void (void)', 'Disables interrupts.', [
      ins(['cli']),
      vmi(['DisableInterrupts'], 'DisableInterrupts; sites patched inline.', { patched: true }),
      xenShm('Sets evtchn_upcall_mask.'),
      lgShm('Stores 0 to lguest_data.irq_enabled (inline-patched).'),
    ]), kind: 'callee-save' },
    { ...fn('irq_enable', 'void (void)', 'Enables interrupts.', [
      ins(['sti']),
      vmi(['EnableInterrupts'], 'EnableInterrupts; sites patched inline.', { patched: true }),
      xen([{ ref: 'xen:xen_version$XENVER_version', when: 'an event is pending' }], 'Clears the mask; a pending event is delivered through a cheap hypercall.'),
      lg([{ ref: 'lguest:LHCALL_SEND_INTERRUPTS', when: 'an interrupt is pending' }], 'Stores X86_EFLAGS_IF to irq_enabled; pending interrupts with LHCALL_SEND_INTERRUPTS.'),
    ]), kind: 'callee-save' },
    fn('safe_halt', 'void (void)', 'Enables interrupts and halts until one arrives.', [
      ins(['sti', 'hlt']),
      vmi(['Halt'], 'Halt (every VMI halt is safe).'),
      xen(['sched_op$SCHEDOP_block'], 'SCHEDOP_block, which re-enables event delivery atomically.'),
      lg(['LHCALL_HALT'], 'LHCALL_HALT.'),
    ]),
    fn('halt', 'void (void)', 'Halts.', [
      ins(['hlt']),
      xen([{ ref: 'xen:vcpu_op$VCPUOP_down', when: 'interrupts are disabled' }, { ref: 'xen:sched_op$SCHEDOP_block', when: 'interrupts are enabled' }], 'With events masked the vCPU goes down; else as safe_halt.'),
    ]),
    fn('adjust_exception_frame', 'void (void)', '64-bit only: adjust the frame Xen pushes.', [natNop()], only64),
  ],
};

// ───────────────────────────── pv_apic_ops ─────────────────────────────

const pvApic: InterfaceGroup = {
  name: 'pv_apic_ops',
  doc: 'Local APIC related hooks (2.6.32: only the SMP start hook; APIC register access went to struct apic, listed here too).',
  ref: { header: PT },
  members: [
    fn('startup_ipi_hook', 'void (int phys_apicid, unsigned long start_eip, unsigned long start_esp)', 'Called between the INIT and STARTUP IPIs of an AP.', [
      natNop(),
      vmi([['SetInitialAPState', ['&ap_state', 'phys_apicid']]], 'Wrapper: fills struct vmi_ap_state, then SetInitialAPState.'),
      xen(['vcpu_op$VCPUOP_initialise', 'vcpu_op$VCPUOP_up'], 'Not this hook: Xen’s own smp_ops start vCPUs with VCPUOP_initialise and VCPUOP_up.'),
    ]),
    fn('apic_write', 'void (u32 reg, u32 v)', 'Writes a local APIC register (2.6.32: apic->write).', [
      nat('MMIO store at the APIC base + reg.'),
      vmi([['APICWrite', ['reg', 'v']]], 'APICWrite.'),
      code('xen', 'A warning stub: a PV guest has no local APIC.'),
      nop('lguest', 'Nothing.'),
    ]),
    fn('apic_read', 'u32 (u32 reg)', 'Reads a local APIC register (2.6.32: apic->read).', [
      nat('MMIO load at the APIC base + reg.'),
      vmi([['APICRead', ['reg']]], 'APICRead.'),
      val('xen', 0, 'Returns 0.'),
      val('lguest', 0, 'Returns 0.'),
    ]),
  ],
};

// ───────────────────────────── pv_mmu_ops ─────────────────────────────

const pteWrite = (name: string, signature: string, doc: string, vmiArgs: string[], xenImpl: Implementation, lgImpl: Implementation | undefined, o: Partial<InterfaceMember> = {}) =>
  fn(name, signature, doc, [
    nat('A store (ordered stores for 64-bit entries).'),
    vmi([['SetPxE', vmiArgs], ['SetPxELong', vmiArgs]], 'Wrapper: SetPxE, or SetPxELong in PAE kernels.'),
    xenImpl,
    ...(lgImpl ? [lgImpl] : []),
  ], o);

const pvMmu: InterfaceGroup = {
  name: 'pv_mmu_ops',
  doc: 'Page tables, TLB and address-space operations.',
  ref: { header: PT },
  members: [
    crRead('read_cr2', 2, 'GetCR2', xenShm('vcpu_info arch.cr2.'), lgShm('lguest_data.cr2.')),
    crWrite('write_cr2', 2, 'SetCR2', xenShm('Writes vcpu_info arch.cr2.')),
    crRead('read_cr3', 3, 'GetCR3', code('xen', 'Cached value.'), lgShm('lguest_data.pgdir.')),
    crWrite('write_cr3', 3, 'SetCR3', xen(['mmuext_op$MMUEXT_NEW_BASEPTR'], 'MMUEXT_NEW_BASEPTR (multicall).'), lg([['LHCALL_NEW_PGTABLE', ['x']]], 'LHCALL_NEW_PGTABLE (lazy).')),
    fn('activate_mm', 'void (struct mm_struct *prev, struct mm_struct *next)', 'A new address space is about to be used.', [natNop(), xen(['update_va_mapping', 'mmuext_op$MMUEXT_PIN_L2_TABLE', 'mmuext_op$MMUEXT_PIN_L3_TABLE'], 'Pins the new page directory: its table pages read-only, then PIN_L2 (PIN_L3 with PAE).')]),
    fn('dup_mmap', 'void (struct mm_struct *oldmm, struct mm_struct *mm)', 'An address space was copied (fork).', [natNop(), xen(['mmuext_op$MMUEXT_PIN_L2_TABLE', 'mmuext_op$MMUEXT_PIN_L3_TABLE'], 'Pins the copy.')]),
    fn('exit_mmap', 'void (struct mm_struct *mm)', 'An address space is torn down.', [natNop(), xen(['mmuext_op$MMUEXT_UNPIN_TABLE'], 'Unpins it and makes its pages writable.')]),
    fn('flush_tlb_user', 'void (void)', 'Flushes non-global TLB entries.', [ins(['mov %cr3,%eax', 'mov %eax,%cr3'], 'Reload CR3.'), vmi([['FlushTLB', ['VMI_FLUSH_TLB']]], 'Wrapper: FlushTLB(VMI_FLUSH_TLB).'), xen(['mmuext_op$MMUEXT_TLB_FLUSH_LOCAL'], 'MMUEXT_TLB_FLUSH_LOCAL (multicall).'), lg([['LHCALL_FLUSH_TLB', ['0']]], 'LHCALL_FLUSH_TLB(0) (lazy).')]),
    fn('flush_tlb_kernel', 'void (void)', 'Flushes every TLB entry, global ones too.', [nat('Toggle CR4.PGE.'), vmi([['FlushTLB', ['VMI_FLUSH_TLB | VMI_FLUSH_GLOBAL']]], 'Wrapper: FlushTLB(TLB | GLOBAL).'), xen(['mmuext_op$MMUEXT_TLB_FLUSH_LOCAL'], 'MMUEXT_TLB_FLUSH_LOCAL.'), lg([['LHCALL_FLUSH_TLB', ['1']]], 'LHCALL_FLUSH_TLB(1).')]),
    fn('flush_tlb_single', 'void (unsigned long addr)', 'Invalidates one page’s TLB entry.', [ins(['invlpg (%eax)']), vmi([['InvalPage', ['addr']]], 'InvalPage.'), xen(['mmuext_op$MMUEXT_INVLPG_LOCAL'], 'MMUEXT_INVLPG_LOCAL (multicall).'), lg([['LHCALL_SET_PTE', ['pgdir', 'addr', '0']]], 'LHCALL_SET_PTE with an empty entry.')]),
    fn('flush_tlb_others', 'void (const struct cpumask *cpus, struct mm_struct *mm, unsigned long va)', 'Flushes other CPUs’ TLBs.', [nat('IPI shoot-down.'), xen(['mmuext_op$MMUEXT_TLB_FLUSH_MULTI', 'mmuext_op$MMUEXT_INVLPG_MULTI'], 'TLB_FLUSH_MULTI or INVLPG_MULTI with a vCPU mask.')]),
    fn('pgd_alloc', 'int (struct mm_struct *mm)', 'Architecture part of page directory allocation.', [natNop('Returns 0.'), code('xen', '64-bit user pgd handling.')]),
    fn('pgd_free', 'void (struct mm_struct *mm, pgd_t *pgd)', 'A page directory is freed.', [natNop(), vmi([['ReleasePage', ['__pa(pgd) >> PAGE_SHIFT', 'VMI_PAGE_L2']]], 'ReleasePage of the directory.')]),
    fn('alloc_pte', 'void (struct mm_struct *mm, unsigned long pfn)', 'A page becomes a page table.', [natNop(), vmi([['AllocatePage', ['pfn', 'VMI_PAGE_L1', '0', '0', '0']]], 'AllocatePage(pfn, VMI_PAGE_L1).'), xen(['update_va_mapping', 'mmuext_op$MMUEXT_PIN_L1_TABLE'], 'If the mm is pinned: the page read-only, then PIN_L1_TABLE.')]),
    fn('alloc_pmd', 'void (struct mm_struct *mm, unsigned long pfn)', 'A page becomes a page directory (PAE: middle directory).', [natNop(), vmi([['AllocatePage', ['pfn', 'VMI_PAGE_L2', '0', '0', '0']]], 'AllocatePage(pfn, VMI_PAGE_L2).'), xen(['update_va_mapping'], 'If the mm is pinned: the page read-only.')]),
    fn('alloc_pmd_clone', 'void (unsigned long pfn, unsigned long clonepfn, unsigned long start, unsigned long count)', 'A new directory copies kernel entries from another (non-PAE).', [natNop(), vmi([['AllocatePage', ['pfn', 'VMI_PAGE_L2 | VMI_PAGE_CLONE', 'clonepfn', 'start', 'count']]], 'AllocatePage with CLONE.'), nop('xen', 'Nothing.')]),
    fn('alloc_pud', 'void (struct mm_struct *mm, unsigned long pfn)', 'A page becomes an upper directory (4 levels).', [natNop()], only64),
    fn('release_pte', 'void (unsigned long pfn)', 'A page table is freed.', [natNop(), vmi([['ReleasePage', ['pfn', 'VMI_PAGE_L1']]], 'ReleasePage(pfn, VMI_PAGE_L1).'), xen(['mmuext_op$MMUEXT_UNPIN_TABLE'], 'UNPIN_TABLE if pinned, then writable again.')]),
    fn('release_pmd', 'void (unsigned long pfn)', 'A page directory is freed.', [natNop(), vmi([['ReleasePage', ['pfn', 'VMI_PAGE_L2']]], 'ReleasePage(pfn, VMI_PAGE_L2).'), code('xen', 'Writable again.')]),
    fn('release_pud', 'void (unsigned long pfn)', 'An upper directory is freed (4 levels).', [natNop()], only64),
    pteWrite('set_pte', 'void (pte_t *ptep, pte_t pteval)', 'Writes a page-table entry.', ['pteval', 'ptep', 'VMI_PAGE_PT'],
      code('xen', 'A plain store: pinned tables are read-only, so it faults and Xen emulates it.'),
      lg([{ ref: 'lguest:LHCALL_FLUSH_TLB', args: ['1'], when: 'CR3 changed since boot' }], 'Store, then LHCALL_FLUSH_TLB(1) if CR3 changed since boot (lazy).')),
    pteWrite('set_pte_at', 'void (struct mm_struct *mm, unsigned long addr, pte_t *ptep, pte_t pteval)', 'Writes the entry mapping addr in mm.', ['pteval', 'ptep', 'VMI_PAGE_PT | VMI_PAGE_CURRENT_AS | (addr & VMI_PAGE_VA_MASK)'],
      xen([{ ref: 'xen:update_va_mapping', when: 'mm is the current or the kernel address space' }], 'update_va_mapping (multicall in lazy mode); else a store.'),
      lg([['LHCALL_SET_PTE', ['__pa(mm->pgd)', 'addr', 'pteval']]], 'Store, then LHCALL_SET_PTE (lazy).')),
    pteWrite('set_pmd', 'void (pmd_t *pmdp, pmd_t pmdval)', 'Writes a directory entry.', ['pmdval', 'pmdp', 'VMI_PAGE_PD'],
      xen([{ ref: 'xen:mmu_update$MMU_NORMAL_PT_UPDATE', when: 'the table is pinned' }], 'MMU_NORMAL_PT_UPDATE if pinned (batched); else a store.'),
      lg([['LHCALL_SET_PMD', ['__pa(pmdp) & PAGE_MASK', 'index']], ['LHCALL_SET_PGD', ['__pa(pmdp) & PAGE_MASK', 'index']]], 'Store, then LHCALL_SET_PMD (PAE) or LHCALL_SET_PGD (2-level) (lazy).')),
    fn('pte_update', 'void (struct mm_struct *mm, unsigned long addr, pte_t *ptep)', 'An entry was changed in place (A/D or protection).', [natNop(), vmi([['UpdatePxE', ['ptep', 'VMI_PAGE_PT | VMI_PAGE_CURRENT_AS | (addr & VMI_PAGE_VA_MASK)']], ['UpdatePxELong', ['ptep', 'VMI_PAGE_PT | VMI_PAGE_CURRENT_AS | (addr & VMI_PAGE_VA_MASK)']]], 'UpdatePxE (UpdatePxELong in PAE kernels).'), nop('xen', 'Nothing.'), lg(['LHCALL_SET_PTE'], 'LHCALL_SET_PTE (lazy).')]),
    fn('pte_update_defer', 'void (struct mm_struct *mm, unsigned long addr, pte_t *ptep)', 'As pte_update; the hypervisor may wait for the next flush.', [natNop(), vmi([['UpdatePxE', ['ptep', 'VMI_PAGE_PT | VMI_PAGE_CURRENT_AS | VMI_PAGE_DEFER | (addr & VMI_PAGE_VA_MASK)']], ['UpdatePxELong', ['ptep', 'VMI_PAGE_PT | VMI_PAGE_CURRENT_AS | VMI_PAGE_DEFER | (addr & VMI_PAGE_VA_MASK)']]], 'UpdatePxE with DEFER.'), nop('xen', 'Nothing.'), lg(['LHCALL_SET_PTE'], 'LHCALL_SET_PTE (lazy).')]),
    fn('ptep_modify_prot_start', 'pte_t (struct mm_struct *mm, unsigned long addr, pte_t *ptep)', 'Starts a protection change: fetch and clear the entry.', [nat('Atomic exchange with 0.'), code('xen', 'Reads the entry (Xen keeps A/D bits).')]),
    fn('ptep_modify_prot_commit', 'void (struct mm_struct *mm, unsigned long addr, pte_t *ptep, pte_t pte)', 'Ends a protection change.', [nat('set_pte_at.'), xen(['mmu_update$MMU_PT_UPDATE_PRESERVE_AD'], 'MMU_PT_UPDATE_PRESERVE_AD.')]),
    fn('pte_val', 'pteval_t (pte_t)', 'Entry to raw value (callee-save).', [natNop('Identity.'), code('xen', 'Machine to pseudo-physical frame translation (m2p table).')]),
    fn('make_pte', 'pte_t (pteval_t)', 'Raw value to entry (callee-save).', [natNop('Identity.'), code('xen', 'Pseudo-physical to machine frame translation (p2m table).')]),
    fn('pgd_val', 'pgdval_t (pgd_t)', 'Directory entry to raw value.', [natNop('Identity.'), code('xen', 'm2p translation.')]),
    fn('make_pgd', 'pgd_t (pgdval_t)', 'Raw value to directory entry.', [natNop('Identity.'), code('xen', 'p2m translation.')]),
    fn('pmd_val', 'pmdval_t (pmd_t)', 'Middle entry to raw value (PAE).', [natNop('Identity.'), code('xen', 'm2p translation.')], pae),
    fn('make_pmd', 'pmd_t (pmdval_t)', 'Raw value to middle entry (PAE).', [natNop('Identity.'), code('xen', 'p2m translation.')], pae),
    pteWrite('set_pte_atomic', 'void (pte_t *ptep, pte_t pteval)', 'Writes a 64-bit entry atomically (PAE).', ['pteval', 'ptep', 'VMI_PAGE_PT'],
      code('xen', 'A 64-bit atomic store.'),
      lg([{ ref: 'lguest:LHCALL_FLUSH_TLB', args: ['1'], when: 'CR3 changed since boot' }], 'Store, then LHCALL_FLUSH_TLB(1) if CR3 changed.'), pae),
    pteWrite('pte_clear', 'void (struct mm_struct *mm, unsigned long addr, pte_t *ptep)', 'Clears an entry (PAE).', ['0', 'ptep', 'VMI_PAGE_PT | VMI_PAGE_CURRENT_AS | (addr & VMI_PAGE_VA_MASK)'],
      code('xen', 'Ordered zero stores.'), undefined, pae),
    pteWrite('pmd_clear', 'void (pmd_t *pmdp)', 'Clears a middle entry (PAE).', ['0', 'pmdp', 'VMI_PAGE_PD'], code('xen', 'Through set_pmd.'), undefined, pae),
    pteWrite('set_pud', 'void (pud_t *pudp, pud_t pudval)', 'Writes an upper entry (PAE: a PDPT entry).', ['pudval', 'pudp', 'VMI_PAGE_PDP'],
      xen([{ ref: 'xen:mmu_update$MMU_NORMAL_PT_UPDATE', when: 'the table is pinned' }], 'mmu_update if pinned.'),
      lg([['LHCALL_SET_PGD', ['__pa(pudp) & PAGE_MASK', 'index']]], 'Store, then LHCALL_SET_PGD.'), pae),
    fn('kmap_atomic_pte', 'void *(struct page *page, enum km_type type)', 'Maps a highmem page table (CONFIG_HIGHPTE).', [
      nat('kmap_atomic.'),
      vmi([['SetLinearMapping', ['type == KM_PTE0 ? 1 : 2', 'va', '1', 'page_to_pfn(page)']]], 'kmap_atomic, then SetLinearMapping of slot 1 or 2.'),
      code('xen', 'kmap_atomic_prot read-only when the page is a pinned table.'),
    ]),
    fn('lazy_mode.enter', 'void (void)', 'Start batching MMU updates.', [natNop(), vmi([['SetLazyMode', ['PARAVIRT_LAZY_MMU']]], 'SetLazyMode(1).'), code('xen', 'Queue hypercalls for one multicall.'), code('lguest', 'Queue hypercalls in lguest_data.')]),
    fn('lazy_mode.leave', 'void (void)', 'Apply batched MMU updates.', [natNop(), vmi([['SetLazyMode', ['PARAVIRT_LAZY_NONE']]], 'SetLazyMode(0).'), xen(['multicall'], 'Issues the queued multicall.'), lg(['LHCALL_FLUSH_ASYNC'], 'LHCALL_FLUSH_ASYNC.')]),
    fn('set_fixmap', 'void (unsigned idx, phys_addr_t phys, pgprot_t flags)', 'Sets a fixmap entry.', [nat('native_set_fixmap.'), code('xen', 'Builds the entry for Xen (machine frames, special pages).')]),
  ],
};

// ───────────────────────────── pv_lock_ops ─────────────────────────────

const lockFn = (name: string, signature: string, doc: string, xenImpl: Implementation) => fn(name, signature, doc, [nat('Ticket spinlock.'), xenImpl]);

const pvLock: InterfaceGroup = {
  name: 'pv_lock_ops',
  doc: 'Spinlocks (CONFIG_PARAVIRT_SPINLOCKS).',
  ref: { header: PT },
  members: [
    lockFn('spin_is_locked', 'int (struct raw_spinlock *lock)', 'Whether the lock is held.', code('xen', 'Reads the byte lock.')),
    lockFn('spin_is_contended', 'int (struct raw_spinlock *lock)', 'Whether others wait.', code('xen', 'Reads the spinner count.')),
    lockFn('spin_lock', 'void (struct raw_spinlock *lock)', 'Takes the lock.', xen([{ ref: 'xen:sched_op$SCHEDOP_poll', when: 'spinning too long' }], 'Byte lock; after a while blocks with SCHEDOP_poll on a per-CPU kicker event channel.')),
    lockFn('spin_lock_flags', 'void (struct raw_spinlock *lock, unsigned long flags)', 'Takes the lock, interrupts restored while waiting.', xen([{ ref: 'xen:sched_op$SCHEDOP_poll', when: 'spinning too long' }], 'As spin_lock.')),
    lockFn('spin_trylock', 'int (struct raw_spinlock *lock)', 'Tries once.', code('xen', 'xchg on the byte lock.')),
    lockFn('spin_unlock', 'void (struct raw_spinlock *lock)', 'Releases the lock.', xen([{ ref: 'xen:event_channel_op$EVTCHNOP_send', when: 'a CPU is waiting' }], 'Release, then kick a waiter through its event channel.')),
  ],
};

/** The paravirt-ops groups of Linux 2.6.32, in paravirt_types.h order. */
export const interfaces: InterfaceGroup[] = [pvInfo, pvInit, pvTime, pvCpu, pvIrq, pvApic, pvMmu, pvLock];
