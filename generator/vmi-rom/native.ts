/**
 * What each VMI call does on bare hardware: the implementations of the "native VMI ROM".
 * Keyed by the spec's call names; every value comes from the spec through symbols
 * (`$VMI_FLUSH_GLOBAL`, `$X86_EFLAGS_IF`), never typed here. Each implementation runs under
 * the call's register convention (arguments in eax, edx, ecx, then the stack above the
 * return address) and may clobber only what the convention allows.
 *
 * Relocation kinds: `call` (CALL_REL to the code), `jump` (JUMP_REL: entered by JMP, does not
 * return), `nop` (NOP: nothing to do natively), `none` (NONE: no native meaning; the guest
 * keeps its own native code).
 */

/** One call's native implementation. */
export interface NativeImpl {
  reloc: 'call' | 'jump' | 'nop' | 'none';
  /** AT&T lines; the entry label is added by the generator. */
  asm?: string[];
  doc: string;
}

const code = (doc: string, ...asm: string[]): NativeImpl => ({ reloc: 'call', asm, doc });
const nop = (doc: string): NativeImpl => ({ reloc: 'nop', doc });
const none = (doc: string): NativeImpl => ({ reloc: 'none', doc });

/** A dispatch on the debug register number in eax: `mov` to or from %dbN for N = 0..7. */
function debugRegs(name: string, move: (n: number) => string, tail: string[]): string[] {
  const lines: string[] = [];
  for (let n = 0; n < 8; n++) {
    if (n === 4 || n === 5) continue; // DR4 and DR5 alias DR6 and DR7 (CR4.DE clear) or fault
    lines.push(`cmp $${n}, %eax`, `jne ${name}_not${n}`, move(n), ...tail, `${name}_not${n}:`);
  }
  lines.push('xor %eax, %eax', 'ret');
  return lines;
}

/** The native implementation of every VMI API 3.0 call, by spec name. */
export const NATIVE: Record<string, NativeImpl> = {
  CPUID: code('cpuid with the native registers.', 'cpuid', 'ret'),
  WRMSR: code('wrmsr: value in edx:eax, MSR in ecx.', 'wrmsr', 'ret'),
  RDMSR: code('rdmsr: MSR in ecx, value in edx:eax.', 'rdmsr', 'ret'),
  SetGDT: code('lgdt from the pseudo-descriptor.', 'lgdt (%eax)', 'ret'),
  SetLDT: code('lldt from the selector.', 'lldt %ax', 'ret'),
  SetIDT: code('lidt from the pseudo-descriptor.', 'lidt (%eax)', 'ret'),
  SetTR: code('ltr from the selector.', 'ltr %ax', 'ret'),
  GetGDT: code('sgdt into the buffer.', 'sgdt (%eax)', 'ret'),
  GetLDT: code('sldt into eax.', 'sldt %eax', 'ret'),
  GetIDT: code('sidt into the buffer.', 'sidt (%eax)', 'ret'),
  GetTR: code('str into eax.', 'str %eax', 'ret'),
  WriteGDTEntry: code('Two stores into the table: low dword at base + 8·index, high dword (first stack argument) after it.',
    'mov %ecx, (%eax,%edx,8)', 'mov 4(%esp), %ecx', 'mov %ecx, 4(%eax,%edx,8)', 'ret'),
  WriteLDTEntry: code('As WriteGDTEntry.', 'mov %ecx, (%eax,%edx,8)', 'mov 4(%esp), %ecx', 'mov %ecx, 4(%eax,%edx,8)', 'ret'),
  WriteIDTEntry: code('As WriteGDTEntry.', 'mov %ecx, (%eax,%edx,8)', 'mov 4(%esp), %ecx', 'mov %ecx, 4(%eax,%edx,8)', 'ret'),
  UpdateKernelStack: nop('The CPU reads ss0:esp0 from the TSS, which the guest writes itself: nothing to tell.'),
  SetCR0: code('mov to CR0.', 'mov %eax, %cr0', 'ret'),
  SetCR2: code('mov to CR2.', 'mov %eax, %cr2', 'ret'),
  SetCR3: code('mov to CR3.', 'mov %eax, %cr3', 'ret'),
  SetCR4: code('mov to CR4.', 'mov %eax, %cr4', 'ret'),
  GetCR0: code('mov from CR0.', 'mov %cr0, %eax', 'ret'),
  GetCR2: code('mov from CR2.', 'mov %cr2, %eax', 'ret'),
  GetCR3: code('mov from CR3.', 'mov %cr3, %eax', 'ret'),
  GetCR4: code('mov from CR4.', 'mov %cr4, %eax', 'ret'),
  WBINVD: code('wbinvd.', 'wbinvd', 'ret'),
  SetDR: code('mov to DRn, n in eax (0 to 3, 6, 7).', ...debugRegs('setdr', (n) => `mov %edx, %db${n}`, ['ret'])),
  GetDR: code('mov from DRn, n in eax (0 to 3, 6, 7; others read 0).', ...debugRegs('getdr', (n) => `mov %db${n}, %eax`, ['ret'])),
  RDPMC: code('rdpmc: counter in ecx.', 'rdpmc', 'ret'),
  RDTSC: code('rdtsc.', 'rdtsc', 'ret'),
  CLTS: code('clts.', 'clts', 'ret'),
  EnableInterrupts: code('sti.', 'sti', 'ret'),
  DisableInterrupts: code('cli.', 'cli', 'ret'),
  GetInterruptMask: code('pushf; pop; keep IF.', 'pushf', 'pop %eax', 'and $X86_EFLAGS_IF, %eax', 'ret'),
  SetInterruptMask: code('sti if the mask has IF, else cli.', 'test $X86_EFLAGS_IF, %eax', 'jz setmask_off', 'sti', 'ret', 'setmask_off:', 'cli', 'ret'),
  IRET: { reloc: 'jump', asm: ['iret'], doc: 'iret with the frame the guest left on the stack.' },
  SYSEXIT: { reloc: 'jump', asm: ['sti', 'sysexit'], doc: 'sti; sysexit with the user eip in edx and esp in ecx.' },
  Halt: code('sti; hlt: a safe halt.', 'sti', 'hlt', 'ret'),
  Reboot: code('Pulse the reset line through the keyboard controller, then halt.',
    'mov $I8042_CMD_PULSE_RESET, %al', 'out %al, $I8042_COMMAND_REG', 'reboot_wait:', 'hlt', 'jmp reboot_wait'),
  Shutdown: code('cli; hlt for good.', 'cli', 'shutdown_wait:', 'hlt', 'jmp shutdown_wait'),
  SetPxE: code('Store the entry.', 'mov %eax, (%edx)', 'ret'),
  SetPxELong: code('Store the 64-bit entry, high half first so that no half-written entry is present.', 'mov %edx, 4(%ecx)', 'mov %eax, (%ecx)', 'ret'),
  UpdatePxE: nop('The entry is already in memory, where the MMU reads it.'),
  UpdatePxELong: nop('The entry is already in memory, where the MMU reads it.'),
  MachineToPhysical: code('Identity: on bare hardware machine and physical addresses are the same.', 'ret'),
  PhysicalToMachine: code('Identity.', 'ret'),
  AllocatePage: nop('Bare hardware needs no page-table registration.'),
  ReleasePage: nop('Bare hardware needs no page-table registration.'),
  InvalPage: code('invlpg.', 'invlpg (%eax)', 'ret'),
  FlushTLB: code('Reload CR3; with VMI_FLUSH_GLOBAL, toggle CR4.PGE first to drop global entries.',
    'test $VMI_FLUSH_GLOBAL, %eax', 'jz flush_user', 'mov %cr4, %eax', 'mov %eax, %edx', 'and $~X86_CR4_PGE, %edx',
    'mov %edx, %cr4', 'mov %eax, %cr4', 'flush_user:', 'mov %cr3, %eax', 'mov %eax, %cr3', 'ret'),
  SetLinearMapping: nop('Bare hardware needs no virtual-to-physical hints.'),
  SetIOPLMask: code('Replace EFLAGS.IOPL through pushf/popf.', 'pushf', 'pop %edx', 'and $~X86_EFLAGS_IOPL, %edx',
    'and $X86_EFLAGS_IOPL, %eax', 'or %eax, %edx', 'push %edx', 'popf', 'ret'),
  SetInitialAPState: nop('A native AP starts from its STARTUP IPI vector as usual; there is no state to hand over.'),
  APICWrite: code('Store at the local APIC base (from MSR_IA32_APICBASE) + register.', 'push %edx', 'push %eax',
    'mov $MSR_IA32_APICBASE, %ecx', 'rdmsr', 'and $MSR_IA32_APICBASE_BASE, %eax', 'pop %ecx', 'add %ecx, %eax', 'pop %edx',
    'mov %edx, (%eax)', 'ret'),
  APICRead: code('Load from the local APIC base + register.', 'push %eax', 'mov $MSR_IA32_APICBASE, %ecx', 'rdmsr',
    'and $MSR_IA32_APICBASE_BASE, %eax', 'pop %ecx', 'add %ecx, %eax', 'mov (%eax), %eax', 'ret'),
  IODelay: nop('No delay is needed: a NOP relocation, as the issue asks.'),
  GetCycleFrequency: none('Bare hardware has no fixed, known counter rate; NONE keeps Linux on its native timers (it probes this call for the whole time API).'),
  GetCycleCounter: code('REAL and AVAILABLE read the TSC; STOLEN (and unknown counters) read 0.', 'cmp $VMI_CYCLES_STOLEN, %eax',
    'jae cycles_zero', 'rdtsc', 'ret', 'cycles_zero:', 'xor %eax, %eax', 'xor %edx, %edx', 'ret'),
  SetAlarm: none('Needs a timer programmed in counter cycles, which needs the rate: not provided natively.'),
  CancelAlarm: none('See SetAlarm.'),
  GetWallclockTime: none('The RTC gives calendar time, not nanoseconds since 1970, without date arithmetic: not provided natively.'),
  WallclockUpdated: code('The wall clock never jumps relative to the TSC on bare hardware: 0.', 'xor %eax, %eax', 'ret'),
  SetLazyMode: nop('Nothing is batched on bare hardware.'),
};
