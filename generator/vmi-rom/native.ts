/**
 * What each VMI call does on bare hardware: the implementations of the "native VMI ROM".
 * Keyed by the spec's call names. ABI and hardware values come from the spec through symbols
 * (`$VMI_FLUSH_GLOBAL`, `$X86_EFLAGS_IF`, `$APIC_TMICT`), never typed here; the arithmetic
 * constants of an algorithm (calendar, calibration interval) are named in the
 * implementation's own `symbols`. Each implementation runs under the call's register
 * convention (arguments in eax, edx, ecx, then the stack above the return address) and may
 * clobber only what the convention allows (eax, ecx, edx, flags; ebx, esi, edi and ebp are
 * saved where used).
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
  /** Named arithmetic constants of the algorithm (not ABI facts), usable as `$NAME`. */
  symbols?: Record<string, number>;
}

const code = (doc: string, ...asm: string[]): NativeImpl => ({ reloc: 'call', asm, doc });
const nop = (doc: string): NativeImpl => ({ reloc: 'nop', doc });

/** PIT channel-2 ticks GetCycleFrequency calibrates over: about 10 ms. */
const CAL_LATCH = 11932;

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
  GetCycleFrequency: {
    reloc: 'call',
    doc: 'Calibrates the TSC against PIT channel 2 on every call (no ROM storage to keep the answer in): interrupts off, ' +
      'the channel counts CAL_LATCH ticks of PIT_TICK_RATE (about 10 ms) in mode 0, rdtsc before and after its output ' +
      'goes high; Hz = cycles × PIT_TICK_RATE ÷ CAL_LATCH as a 64-bit quotient. 0 when the output never rises (no PIT).',
    symbols: { CAL_LATCH: CAL_LATCH, CAL_LATCH_LO: CAL_LATCH & 0xff, CAL_LATCH_HI: CAL_LATCH >> 8, CAL_MAX_POLLS: 1 << 22 },
    asm: [
      'push %ebx', 'push %esi', 'pushf', 'cli',
      'in $NMI_REASON_PORT, %al', 'and $~PORTB_SPEAKER_DATA, %eax', 'or $PORTB_TIMER2_GATE, %eax', 'out %al, $NMI_REASON_PORT',
      'mov $PIT_CH2_ONESHOT_LOHI, %al', 'out %al, $PIT_MODE',
      'mov $CAL_LATCH_LO, %al', 'out %al, $PIT_CH2', 'mov $CAL_LATCH_HI, %al', 'out %al, $PIT_CH2',
      'rdtsc', 'mov %eax, %esi', 'mov %edx, %ebx',
      'mov $CAL_MAX_POLLS, %ecx',
      'cycfreq_poll:', 'in $NMI_REASON_PORT, %al', 'test $PORTB_TIMER2_OUT, %eax', 'jnz cycfreq_done',
      'sub $1, %ecx', 'jnz cycfreq_poll',
      'xor %eax, %eax', 'xor %edx, %edx', 'jmp cycfreq_out',
      'cycfreq_done:', 'rdtsc', 'sub %esi, %eax', // cycles in the interval (below 2^32 for any TSC under 400 GHz)
      'mov $PIT_TICK_RATE, %ecx', 'mul %ecx', // edx:eax = cycles × PIT rate
      'mov %eax, %esi', 'mov %edx, %eax', 'xor %edx, %edx', 'mov $CAL_LATCH, %ecx', 'div %ecx', // high quotient
      'mov %eax, %ebx', 'mov %esi, %eax', 'div %ecx', 'mov %ebx, %edx', // low quotient, remainder carried in edx
      'cycfreq_out:', 'popf', 'pop %esi', 'pop %ebx', 'ret',
    ],
  },
  GetCycleCounter: code('REAL and AVAILABLE read the TSC; STOLEN (and unknown counters) read 0.', 'cmp $VMI_CYCLES_STOLEN, %eax',
    'jae cycles_zero', 'rdtsc', 'ret', 'cycles_zero:', 'xor %eax, %eax', 'xor %edx, %edx', 'ret'),
  SetAlarm: {
    reloc: 'call',
    doc: 'Arms the local APIC timer (MMIO at the base MSR_IA32_APICBASE gives) for an alarm wired to LVTT: the vector and ' +
      'mask the guest put in LVTT stay, the mode becomes one-shot, or periodic when VMI_ALARM_IS_PERIODIC is set with a ' +
      'non-zero period. Counter cycles (TSC) become timer ticks (divide by 1) by a ratio measured on each call: the timer ' +
      'counts down from 2^32−1 while the TSC advances ALARM_SAMPLE cycles (started before and read after the TSC, so ' +
      'every error makes the alarm late, never early), rounded up plus 1/32. One-shot: the delay is expiry − rdtsc (1 tick ' +
      'if already past). Periodic: the period, and the first expiry one period after the call (the APIC timer cannot ' +
      'start a period elsewhere; Linux always asks for now + period). Counts saturate at 2^32−1 ticks. STOLEN and unknown ' +
      'counters have no alarm: nothing is armed. Not native: VMI_ALARM_WIRED_IRQ0 would need PIT channel 0, which is not ' +
      'programmed, so an IRQ0-wired alarm is not armed either.',
    symbols: { ALARM_SAMPLE: 1 << 20, ALARM_SAMPLE_ROUND: (1 << 20) - 1, ALARM_SAMPLE_SHIFT: 20, ALARM_MARGIN_SHIFT: 5, ALARM_MAX_COUNT: 0xffffffff },
    asm: [
      'push %ebx', 'push %esi', 'push %edi', 'push %ebp', 'pushf', 'cli', // period: 24(%esp) low, 28(%esp) high
      'mov %eax, %ebp',
      'mov %eax, %ebx', 'and $VMI_ALARM_COUNTER_MASK, %ebx', 'cmp $VMI_ALARM_COUNTERS, %ebx', 'jae alarm_out',
      'test $VMI_ALARM_WIRED_LVTT, %ebp', 'jz alarm_out',
      'test $VMI_ALARM_IS_PERIODIC, %ebp', 'jz alarm_oneshot',
      'mov 24(%esp), %edi', 'mov 28(%esp), %esi', 'mov %edi, %eax', 'or %esi, %eax', 'jnz alarm_wide',
      'and $~VMI_ALARM_IS_PERIODIC, %ebp', // a zero period is a one-shot alarm
      'alarm_oneshot:', 'mov %edx, %edi', 'mov %ecx, %esi', 'rdtsc', 'sub %eax, %edi', 'sbb %edx, %esi', 'jae alarm_wide',
      'mov $1, %edi', 'xor %esi, %esi', // already due
      'alarm_wide:', 'test %esi, %esi', 'jz alarm_cycles', 'mov $ALARM_MAX_COUNT, %edi',
      'alarm_cycles:', 'test %edi, %edi', 'jnz alarm_base', 'mov $1, %edi',
      'alarm_base:', 'call apic_base', 'mov %eax, %ebx',
      'mov $APIC_TDR_DIV_1, %eax', 'mov %eax, APIC_TDCR(%ebx)',
      'mov APIC_LVTT(%ebx), %eax', 'and $~APIC_LVT_TIMER_MODE_MASK, %eax', 'mov %eax, APIC_LVTT(%ebx)',
      'mov $ALARM_MAX_COUNT, %eax', 'mov %eax, APIC_TMICT(%ebx)', 'rdtsc', 'mov %eax, %esi',
      'alarm_sample:', 'rdtsc', 'sub %esi, %eax', 'cmp $ALARM_SAMPLE, %eax', 'jb alarm_sample',
      'mov APIC_TMCCT(%ebx), %eax', 'mov $ALARM_MAX_COUNT, %ecx', 'sub %eax, %ecx', // ticks in ALARM_SAMPLE cycles
      'mov %edi, %eax', 'mul %ecx', 'add $ALARM_SAMPLE_ROUND, %eax', 'adc $0, %edx',
      'shrd $ALARM_SAMPLE_SHIFT, %edx, %eax', 'shr $ALARM_SAMPLE_SHIFT, %edx', 'test %edx, %edx', 'jnz alarm_saturate',
      'mov %eax, %ecx', 'shr $ALARM_MARGIN_SHIFT, %ecx', 'add %ecx, %eax', 'jb alarm_saturate', 'test %eax, %eax', 'jnz alarm_program',
      'mov $1, %eax', 'jmp alarm_program',
      'alarm_saturate:', 'mov $ALARM_MAX_COUNT, %eax',
      'alarm_program:', 'mov %eax, %edi',
      'mov APIC_LVTT(%ebx), %eax', 'and $~APIC_LVT_TIMER_MODE_MASK, %eax', 'test $VMI_ALARM_IS_PERIODIC, %ebp', 'jz alarm_mode',
      'or $APIC_LVT_TIMER_PERIODIC, %eax',
      'alarm_mode:', 'mov %eax, APIC_LVTT(%ebx)', 'mov %edi, APIC_TMICT(%ebx)',
      'alarm_out:', 'popf', 'pop %ebp', 'pop %edi', 'pop %esi', 'pop %ebx', 'ret',
    ],
  },
  CancelAlarm: code('Stops the local APIC timer (initial count 0); returns 1 if it was still counting (an alarm pending), else 0. ' +
    'STOLEN and unknown counters have no alarm: 0.',
  'and $VMI_ALARM_COUNTER_MASK, %eax', 'cmp $VMI_ALARM_COUNTERS, %eax', 'jae cancel_none',
  'push %ebx', 'call apic_base', 'mov %eax, %ebx', 'mov APIC_TMCCT(%ebx), %ecx', 'xor %eax, %eax', 'mov %eax, APIC_TMICT(%ebx)',
  'test %ecx, %ecx', 'jz cancel_ret', 'mov $1, %eax', 'cancel_ret:', 'pop %ebx', 'ret',
  'cancel_none:', 'xor %eax, %eax', 'ret'),
  GetWallclockTime: {
    reloc: 'call',
    doc: 'Reads the CMOS RTC as Linux’s mach_get_cmos_time does: waits (bounded) for update-in-progress to clear, reads ' +
      'seconds to year with interrupts off, converts BCD unless RTC_DM_BINARY and 12-hour unless RTC_24H, takes a two-digit ' +
      'year below 70 as 20yy and else as 19yy (no century register: valid 1970 to 2069), treats the RTC as UTC, and counts ' +
      'days with the proleptic Gregorian rule (365y + y/4 − y/100 + y/400 on a March-based year). Result: seconds × 10^9.',
    symbols: {
      RTC_MAX_POLLS: 1 << 20, HOURS_HALF_DAY: 12, SECS_PER_MIN: 60, SECS_PER_HOUR: 3600,
      SECS_PER_DAY: 86400, NSEC_PER_SEC: 1_000_000_000, YEAR_BASE: 1900, EPOCH_YEAR: 1970, YEARS_PER_CENTURY: 100,
      MONTHS: 12, FEBRUARY: 2, MARCH: 3, DAYS_PER_YEAR: 365, YEARS_LEAP: 2, YEARS_CENTURY: 100, YEARS_CYCLE: 400,
      MONTH_DAYS_MUL: 153, MONTH_DAYS_ADD: 2, MONTH_DAYS_DIV: 5,
      // Days from 0000-03-01 to 1970-01-01 (719468), plus one because the day of the month counts from 1.
      EPOCH_DAYS: 719469,
    },
    asm: [
      'push %ebx', 'push %esi', 'push %edi', 'push %ebp', 'pushf', 'cli',
      'mov $RTC_MAX_POLLS, %ecx',
      'wall_uip:', 'mov $RTC_FREQ_SELECT, %eax', 'call rtc_read', 'test $RTC_UIP, %eax', 'jz wall_read', 'sub $1, %ecx', 'jnz wall_uip',
      'wall_read:', 'mov $RTC_CONTROL, %eax', 'call rtc_read', 'mov %eax, %ebp', // ebp: register B, for rtc_value
      'mov $RTC_SECONDS, %eax', 'call rtc_read', 'call rtc_value', 'mov %eax, %edi', // edi: seconds of the day
      'mov $RTC_MINUTES, %eax', 'call rtc_read', 'call rtc_value', 'mov $SECS_PER_MIN, %ecx', 'mul %ecx', 'add %eax, %edi',
      'mov $RTC_HOURS, %eax', 'call rtc_read', 'mov %eax, %ebx',
      'test $RTC_24H, %ebp', 'jnz wall_h24',
      'and $~RTC_HOURS_PM, %eax', 'call rtc_value', 'cmp $HOURS_HALF_DAY, %eax', 'jne wall_h12', 'xor %eax, %eax',
      'wall_h12:', 'test $RTC_HOURS_PM, %ebx', 'jz wall_hours', 'add $HOURS_HALF_DAY, %eax', 'jmp wall_hours',
      'wall_h24:', 'call rtc_value',
      'wall_hours:', 'mov $SECS_PER_HOUR, %ecx', 'mul %ecx', 'add %eax, %edi',
      'mov $RTC_DAY_OF_MONTH, %eax', 'call rtc_read', 'call rtc_value', 'mov %eax, %esi', // esi: day, then days
      'mov $RTC_MONTH, %eax', 'call rtc_read', 'call rtc_value', 'mov %eax, %ebx', // ebx: month
      'mov $RTC_YEAR, %eax', 'call rtc_read', 'call rtc_value', 'add $YEAR_BASE, %eax', 'cmp $EPOCH_YEAR, %eax', 'jae wall_year',
      'add $YEARS_PER_CENTURY, %eax',
      'wall_year:', 'cmp $FEBRUARY, %ebx', 'ja wall_march', 'sub $1, %eax', 'add $MONTHS, %ebx', // January, February: months 13, 14 of the year before
      'wall_march:', 'sub $MARCH, %ebx', 'mov %eax, %ebp', // ebp: March-based year, ebx: months since March
      'mov $DAYS_PER_YEAR, %ecx', 'mul %ecx', 'add %eax, %esi',
      'mov %ebp, %eax', 'shr $YEARS_LEAP, %eax', 'add %eax, %esi',
      'mov %ebp, %eax', 'xor %edx, %edx', 'mov $YEARS_CENTURY, %ecx', 'div %ecx', 'sub %eax, %esi',
      'mov %ebp, %eax', 'xor %edx, %edx', 'mov $YEARS_CYCLE, %ecx', 'div %ecx', 'add %eax, %esi',
      'mov %ebx, %eax', 'mov $MONTH_DAYS_MUL, %ecx', 'mul %ecx', 'add $MONTH_DAYS_ADD, %eax', 'xor %edx, %edx',
      'mov $MONTH_DAYS_DIV, %ecx', 'div %ecx', 'add %eax, %esi',
      'sub $EPOCH_DAYS, %esi', // days since 1970-01-01
      'mov %esi, %eax', 'mov $SECS_PER_DAY, %ecx', 'mul %ecx', 'add %edi, %eax',
      'mov $NSEC_PER_SEC, %ecx', 'mul %ecx',
      'popf', 'pop %ebp', 'pop %edi', 'pop %esi', 'pop %ebx', 'ret',
    ],
  },
  WallclockUpdated: code('The wall clock never jumps relative to the TSC on bare hardware: 0.', 'xor %eax, %eax', 'ret'),
  SetLazyMode: nop('Nothing is batched on bare hardware.'),
};

/**
 * Subroutines the implementations share, assembled once after them: `apic_base` (eax = the
 * local APIC base; clobbers ecx, edx), `rtc_read` (eax = CMOS register eax), `rtc_value`
 * (eax from BCD to binary unless register B, in ebp, has RTC_DM_BINARY; clobbers edx).
 */
export const NATIVE_HELPERS: NativeImpl = {
  reloc: 'call',
  doc: 'Shared subroutines.',
  symbols: { BCD_SHIFT: 4, BCD_DIGIT: 0xf },
  asm: [
    'apic_base:', 'mov $MSR_IA32_APICBASE, %ecx', 'rdmsr', 'and $MSR_IA32_APICBASE_BASE, %eax', 'ret',
    'rtc_read:', 'out %al, $RTC_PORT_INDEX', 'in $RTC_PORT_DATA, %al', 'movzbl %al, %eax', 'ret',
    'rtc_value:', 'test $RTC_DM_BINARY, %ebp', 'jnz rtc_value_done',
    'mov %eax, %edx', 'shr $BCD_SHIFT, %edx', 'and $BCD_DIGIT, %eax', 'lea (%edx,%edx,4), %edx', 'add %edx, %edx', 'add %edx, %eax',
    'rtc_value_done:', 'ret',
  ],
};
