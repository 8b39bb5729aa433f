/**
 * The VMI time calls of vmi_time.h (66 to 71): cycle counters, alarms and the wall clock,
 * and their counter and alarm values.
 *
 * @see arch/x86/include/asm/vmi_time.h (Linux 2.6.32)
 * @see arch/x86/kernel/vmiclock_32.c (Linux 2.6.32)
 */
import { familyBuilder } from '../builders.js';
import { r, vmiCallBuilder } from './calls.js';

const H = 'arch/x86/include/asm/vmi_time.h';
const b = familyBuilder('time', H);
const call = vmiCallBuilder('time', H);

// ───────────────────────────── constants ─────────────────────────────

const constants = [
  b.group('VMI_CYCLES', 'enum', 'The cycle counters GetCycleCounter reads and alarms count against.', [
    ['VMI_CYCLES_REAL', 0, 'Real time: advances whenever the virtual machine is not stopped; one for all vCPUs.'],
    ['VMI_CYCLES_AVAILABLE', 1, 'Per vCPU: time spent running or halted.'],
    ['VMI_CYCLES_STOLEN', 2, 'Per vCPU: time spent ready but not running (REAL = AVAILABLE + STOLEN).'],
  ]),
  b.group('VMI_ALARM', 'flags', 'SetAlarm and CancelAlarm flags: counter, wiring and mode.', [
    ['VMI_ALARM_COUNTERS', 2, 'Counters alarms can count against (REAL and AVAILABLE).'],
    ['VMI_ALARM_COUNTER_MASK', 0x000000ff, 'Bits holding the counter index.'],
    ['VMI_ALARM_WIRED_IRQ0', 0x00000000, 'Deliver the alarm as the PIT’s IRQ 0.'],
    ['VMI_ALARM_WIRED_LVTT', 0x00010000, 'Deliver the alarm through the local APIC timer vector.'],
    ['VMI_ALARM_IS_ONESHOT', 0x00000000, 'The alarm fires once.'],
    ['VMI_ALARM_IS_PERIODIC', 0x00000100, 'The alarm fires every period.'],
  ], { type: 'u32' }),
  b.group('CONFIG_VMI', 'values', 'Linux defaults of the VMI timer.', [
    ['CONFIG_VMI_ALARM_HZ', 100, 'Default alarm rate in Hz.'],
  ]),
];

// ───────────────────────────── operations ─────────────────────────────

const hypercalls = [
  call('GetCycleFrequency', 66, 'Returns the rate of every VMI cycle counter. Linux takes its presence as the sign that the ROM has the time calls.', {
    returns: ['u64', 'Cycles per second, in edx:eax.'], linux: 'activate_vmi',
  }),
  call('GetCycleCounter', 67, 'Reads a cycle counter.', {
    args: [r('counter', 'u32', 'eax', 'VMI_CYCLES_REAL, _AVAILABLE or _STOLEN.')], returns: ['u64', 'The count, in edx:eax (0 for an unknown counter).'], linux: 'vmi_sched_clock',
  }),
  call('SetAlarm', 68, 'Arms this vCPU’s alarm on a counter: fires once the counter reaches expiry, then every period if periodic (period 0: one-shot). Re-arming replaces the alarm; the STOLEN counter has none.', {
    args: [
      r('flags', 'u32', 'eax', 'Counter index | VMI_ALARM_WIRED_* | VMI_ALARM_IS_*.'),
      r('expiry', 'u64', 'ecx:edx', 'Absolute counter value of the first expiry.'),
      r('period', 'u64', 'stack[1]:stack[0]', 'Period in counter cycles (0: one-shot).'),
    ],
    linux: 'vmi_timer_set_next_event',
  }),
  call('CancelAlarm', 69, 'Disarms this vCPU’s alarm on a counter. VMware’s text gives the result below; Linux declares the call as returning nothing.', {
    args: [r('flags', 'u32', 'eax', 'Counter index.')], returns: ['u32', '1 if the alarm was armed, else 0.'], linux: 'vmi_timer_set_mode',
  }),
  call('GetWallclockTime', 70, 'Reads the wall clock: nanoseconds since 1970-01-01 00:00 UTC, following the host clock.', {
    returns: ['u64', 'Nanoseconds, in edx:eax.'], linux: 'vmi_get_wallclock',
  }),
  call('WallclockUpdated', 71, 'Says whether the wall clock moved relative to the REAL counter since the last poll (e.g. after a resume). Linux fetches it but never calls it.', {
    returns: ['int', '1 if it moved, else 0.'], linux: 'activate_vmi',
  }),
];

export const time = { family: b.family('The time calls of vmi_time.h.'), types: [], constants, hypercalls };
