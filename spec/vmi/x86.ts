/**
 * Native x86 and PC facts the VMI calls are defined against (EFLAGS and CR4 bits, the local
 * APIC base MSR and timer registers, the keyboard-controller reset, the PIT and the CMOS
 * real-time clock): what "does natively what the call means" needs.
 *
 * @see arch/x86/include/asm/processor-flags.h, msr-index.h, apicdef.h (Linux 2.6.32)
 * @see arch/x86/kernel/reboot.c:kb_wait and the 8042 reset pulse (Linux 2.6.32)
 * @see arch/x86/kernel/tsc.c:pit_calibrate_tsc, include/linux/mc146818rtc.h, arch/x86/kernel/rtc.c:mach_get_cmos_time (Linux 2.6.32)
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
  b.group('X86_APIC_TIMER', 'values', 'Local APIC timer registers (offsets from the APIC base) and LVT timer bits: what SetAlarm and CancelAlarm program natively.', [
    ['APIC_LVTT', 0x320, 'LVT timer register: vector, mask and timer mode.', { probe: false }],
    ['APIC_TMICT', 0x380, 'Timer initial count; writing it starts the timer, 0 stops it.', { probe: false }],
    ['APIC_TMCCT', 0x390, 'Timer current count (0 once a one-shot count has run out).', { probe: false }],
    ['APIC_TDCR', 0x3e0, 'Timer divide configuration.', { probe: false }],
    ['APIC_TDR_DIV_1', 0xb, 'Divide configuration value: count at the full timer clock.', { probe: false }],
    ['APIC_LVT_TIMER_PERIODIC', 0x20000, 'LVT timer mode bits 17–18 = 01: periodic (00 is one-shot).', { probe: false }],
    ['APIC_LVT_TIMER_MODE_MASK', 0x60000, 'LVT timer mode field, bits 17–18 (10 is TSC-deadline on CPUs that have it).', { probe: false }],
  ], { ref: { header: 'arch/x86/include/asm/apicdef.h' } }),
  b.group('X86_PIT', 'values', 'The 8254 PIT channel 2 and the port-B gate/status bits, as Linux uses them to calibrate the TSC.', [
    ['PIT_TICK_RATE', 1193182, 'PIT input clock in Hz.', { probe: false }],
    ['PIT_MODE', 0x43, 'PIT mode/command port.', { probe: false }],
    ['PIT_CH2', 0x42, 'PIT channel 2 data port.', { probe: false }],
    ['PIT_CH2_ONESHOT_LOHI', 0xb0, 'Command byte: channel 2, low then high byte, mode 0 (interrupt on terminal count), binary.', { probe: false }],
    ['NMI_REASON_PORT', 0x61, 'Port B (NMI status and control): the channel-2 gate, the speaker data bit and the channel-2 output.', { probe: false }],
    ['PORTB_TIMER2_GATE', 0x01, 'Port B bit 0: channel-2 gate.', { probe: false }],
    ['PORTB_SPEAKER_DATA', 0x02, 'Port B bit 1: speaker data (kept off so that calibration is silent).', { probe: false }],
    ['PORTB_TIMER2_OUT', 0x20, 'Port B bit 5: channel-2 output, high once the count has run out.', { probe: false }],
  ], { ref: { header: 'arch/x86/include/asm/i8253.h', handler: 'arch/x86/kernel/tsc.c:pit_calibrate_tsc' } }),
  b.group('X86_RTC', 'values', 'The MC146818 CMOS real-time clock: ports, registers and status bits.', [
    ['RTC_PORT_INDEX', 0x70, 'Register index port.', { probe: false }],
    ['RTC_PORT_DATA', 0x71, 'Register data port.', { probe: false }],
    ['RTC_SECONDS', 0, 'Seconds register.', { probe: false }],
    ['RTC_MINUTES', 2, 'Minutes register.', { probe: false }],
    ['RTC_HOURS', 4, 'Hours register (bit 7: PM in 12-hour mode).', { probe: false }],
    ['RTC_DAY_OF_MONTH', 7, 'Day-of-month register.', { probe: false }],
    ['RTC_MONTH', 8, 'Month register.', { probe: false }],
    ['RTC_YEAR', 9, 'Year register (two digits).', { probe: false }],
    ['RTC_FREQ_SELECT', 10, 'Register A; bit 7 is update-in-progress.', { probe: false }],
    ['RTC_UIP', 0x80, 'Register A: an update is in progress (registers unsafe to read).', { probe: false }],
    ['RTC_CONTROL', 11, 'Register B: data mode and hour format.', { probe: false }],
    ['RTC_DM_BINARY', 0x04, 'Register B: values are binary (else BCD).', { probe: false }],
    ['RTC_24H', 0x02, 'Register B: 24-hour mode (else 12-hour with the PM bit).', { probe: false }],
    ['RTC_HOURS_PM', 0x80, 'Hours register bit 7 in 12-hour mode: PM.', { probe: false }],
  ], { ref: { header: 'include/linux/mc146818rtc.h', handler: 'arch/x86/kernel/rtc.c:mach_get_cmos_time' } }),
];

export const x86 = { family: b.family('Native x86 values the calls are defined against.'), types: [], constants, hypercalls: [] };
