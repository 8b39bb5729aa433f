/**
 * Native x86 facts the VMI calls are defined against (EFLAGS and CR4 bits, the local APIC
 * base MSR, the keyboard-controller reset): what "does natively what the call means" needs.
 *
 * @see arch/x86/include/asm/processor-flags.h, msr-index.h, apicdef.h (Linux 2.6.32)
 * @see arch/x86/kernel/reboot.c:kb_wait and the 8042 reset pulse (Linux 2.6.32)
 */
import { familyBuilder } from '../builders.js';

const b = familyBuilder('x86', 'arch/x86/include/asm/processor-flags.h');

// ───────────────────────────── constants ─────────────────────────────

const constants = [
  b.group('X86_NATIVE', 'values', 'Architectural x86 values the native meaning of VMI calls refers to.', [
    ['X86_EFLAGS_IF', 0x00000200, 'EFLAGS interrupt flag: GetInterruptMask’s result when enabled.', { probe: false }],
    ['X86_EFLAGS_IOPL', 0x00003000, 'EFLAGS I/O privilege level field: SetIOPLMask’s argument bits.', { probe: false }],
    ['X86_CR4_PGE', 0x00000080, 'CR4 page-global-enable bit: toggling it flushes global TLB entries.', { probe: false }],
    ['MSR_IA32_APICBASE', 0x1b, 'MSR holding the local APIC base address (msr-index.h).', { probe: false }],
    ['MSR_IA32_APICBASE_BASE', 0xfffff000, 'Bits of MSR_IA32_APICBASE holding the base address (msr-index.h).', { probe: false }],
    ['I8042_COMMAND_REG', 0x64, 'Keyboard controller command port.', { probe: false }],
    ['I8042_CMD_PULSE_RESET', 0xfe, 'Keyboard controller command that pulses the CPU reset line.', { probe: false }],
  ]),
];

export const x86 = { family: b.family('Native x86 values the calls are defined against.'), types: [], constants, hypercalls: [] };
