/*
 * A 32-bit multiboot test kernel for the native VMI ROM. It finds the ROM the way Linux's
 * probe_vmi_rom did (the spec's scan region and step, then its discovery rules, all from the
 * generated vmi_rom.h), asks get_reloc about every call number, calls a set of calls through
 * the relocation targets with GCC's regparm(3) convention, compares each with what the native
 * instruction gives, and prints machine-readable lines on COM1 (see harness.ts).
 *
 * Every VMI number comes from vmi_rom.h; the numbers typed here are PC and x86 facts (the
 * UART, the PIC masks, page-table bits) and the test's own choices.
 */
#include "vmi_rom.h"

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

/* PC and x86 facts the test itself needs. */
#define PIC1_DATA 0x21
#define PIC2_DATA 0xa1
#define APIC_SPIV 0xf0
#define APIC_SPIV_ENABLE 0x100
#define APIC_EOI 0xb0
#define CR0_PG 0x80000000u
#define PTE_PRESENT 0x001u
#define PTE_RW 0x002u
#define PTE_GLOBAL 0x100u
#define CPUID_1_EDX_PGE (1u << 13)

/* The test's choices. */
#define ALARM_VECTOR 0x40
#define SPURIOUS_VECTOR 0xff
#define TEST_VA 0x3ff000u /* the last 4 KiB page below 4 MiB, remapped by the TLB trials */
#define ALARM_DELAY 2000000u /* cycles */
#define ALARM_PERIOD 1000000u
#define WAIT_LIMIT 4000000000ull /* cycles any wait may take before giving up */

#define REGPARM __attribute__((regparm(3)))

#include "serial.h"


/* `CALL <name> ok|fail <rom> <native>` */
static int report(const char *name, int ok, u64 rom, u64 native)
{
  puts("CALL ");
  puts(name);
  puts(ok ? " ok " : " fail ");
  puthex(rom);
  putc(' ');
  puthex(native);
  putc('\n');
  return ok;
}

/* ───────────── native instructions ───────────── */

static inline u32 read_cr0(void) { u32 v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline u32 read_cr3(void) { u32 v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline u32 read_cr4(void) { u32 v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static inline void write_cr0(u32 v) { __asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory"); }
static inline void write_cr3(u32 v) { __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }
static inline void write_cr4(u32 v) { __asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory"); }
static inline u64 rdtsc(void) { u64 v; __asm__ volatile("rdtsc" : "=A"(v)); return v; }
static inline u32 eflags(void) { u32 v; __asm__ volatile("pushf; pop %0" : "=r"(v)); return v; }
static inline void invlpg(u32 va) { __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory"); }
static inline void cpuid(u32 leaf, u32 sub, u32 r[4])
{
  __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "0"(leaf), "2"(sub));
}
static inline u64 rdmsr(u32 msr) { u64 v; __asm__ volatile("rdmsr" : "=A"(v) : "c"(msr)); return v; }

/* ───────────── interrupts ───────────── */

struct gate {
  u16 off_lo, sel;
  u8 zero, type;
  u16 off_hi;
} __attribute__((packed));
static struct gate idt[256];
static struct {
  u16 limit;
  u32 base;
} __attribute__((packed)) idtr;

extern char alarm_isr[], fault_isr[];
static volatile u32 alarm_count;
static volatile u64 alarm_tsc;
static u32 apic;

void alarm_handler(void);
void alarm_handler(void)
{
  if (!alarm_count) alarm_tsc = rdtsc();
  alarm_count++;
  *(volatile u32 *)(apic + APIC_EOI) = 0;
}

void fault_handler(void);
void fault_handler(void)
{
  puts("FAULT\n");
  leave();
}

static void set_gate(int n, char *isr)
{
  u16 cs;
  __asm__ volatile("mov %%cs, %0" : "=r"(cs));
  idt[n].off_lo = (u16)(u32)isr;
  idt[n].off_hi = (u16)((u32)isr >> 16);
  idt[n].sel = cs;
  idt[n].zero = 0;
  idt[n].type = 0x8e; /* present, ring 0, 32-bit interrupt gate */
}

static void interrupts_init(void)
{
  int i;
  for (i = 0; i < 256; i++) set_gate(i, fault_isr);
  set_gate(ALARM_VECTOR, alarm_isr);
  set_gate(SPURIOUS_VECTOR, alarm_isr);
  idtr.limit = sizeof idt - 1;
  idtr.base = (u32)idt;
  __asm__ volatile("lidt %0" : : "m"(idtr));
  outb(PIC1_DATA, 0xff); /* only the local APIC timer may interrupt */
  outb(PIC2_DATA, 0xff);
  apic = (u32)rdmsr(MSR_IA32_APICBASE) & MSR_IA32_APICBASE_BASE;
  *(volatile u32 *)(apic + APIC_SPIV) = APIC_SPIV_ENABLE | SPURIOUS_VECTOR;
  *(volatile u32 *)(apic + APIC_LVTT) = ALARM_VECTOR; /* one-shot, unmasked: SetAlarm keeps the vector */
}

/* ───────────── the ROM ───────────── */

static const volatile u8 *rom;
static u32 reloc_eip[VMI_MAX_CALL + 1];
static u8 reloc_type[VMI_MAX_CALL + 1];

static void warn(const char *rule)
{
  puts("WARN ");
  puts(rule);
  putc('\n');
}

static void ignore(const char *rule) { (void)rule; }

static int find_rom(void)
{
  u32 a;
  const char *last = "no-candidate";
  for (a = VMI_SCAN_START; a < VMI_SCAN_END; a += VMI_SCAN_STEP) {
    const volatile u8 *p = (const volatile u8 *)a;
    const char *why = vmi_discovery_check(p, ignore);
    if (why) {
      if (vmi_rd(p, 2) == OPTION_ROM_SIGNATURE) last = why;
      continue;
    }
    vmi_discovery_check(p, warn);
    rom = p;
    puts("FOUND ");
    puthex(a);
    putc('\n');
    return 1;
  }
  puts("NOTFOUND ");
  puts(last);
  putc('\n');
  return 0;
}

typedef u64 REGPARM (*get_reloc_fn)(u32 call);

static void read_relocs(void)
{
  get_reloc_fn get_reloc = (get_reloc_fn)(rom + VROM_HEADER_GET_RELOC_OFF);
  u32 n;
  for (n = 0; n <= VMI_MAX_CALL; n++) {
    u64 info = get_reloc(n);
    /* struct vmi_relocation_info comes back in edx:eax: byte i of the struct is bits 8i.. */
    reloc_eip[n] = (u32)(info >> (8 * VMI_RELOCATION_INFO_EIP_OFF));
    reloc_type[n] = (u8)(info >> (8 * VMI_RELOCATION_INFO_TYPE_OFF));
    puts("RELOC ");
    putdec(n);
    putc(' ');
    putdec(reloc_type[n]);
    putc(' ');
    puthex(reloc_eip[n]);
    putc('\n');
  }
}

/* The call's target when get_reloc says CALL_REL, else 0 (and a failed line). */
static void *target(u32 n, const char *name)
{
  if (reloc_type[n] == VMI_RELOCATION_CALL_REL) return (void *)reloc_eip[n];
  report(name, 0, reloc_type[n], VMI_RELOCATION_CALL_REL);
  return 0;
}

typedef u32 REGPARM (*fn_u32_void)(void);
typedef u64 REGPARM (*fn_u64_void)(void);
typedef u64 REGPARM (*fn_u64_u32)(u32);
typedef u32 REGPARM (*fn_u32_u32)(u32);
typedef void REGPARM (*fn_void_u32)(u32);
typedef void REGPARM (*fn_alarm)(u32 flags, u64 expiry, u64 period);

/* ───────────── CPU calls ───────────── */

static void rom_cpuid(void *f, u32 leaf, u32 sub, u32 r[4])
{
  __asm__ volatile("call *%4" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "S"(f), "0"(leaf), "2"(sub) : "memory", "cc");
}

static void test_cpuid(void)
{
  void *f = target(VMI_CALL_CPUID, "CPUID");
  u32 leaf;
  if (!f) return;
  for (leaf = 0; leaf < 2; leaf++) {
    u32 a[4], b[4];
    rom_cpuid(f, leaf, 0, a);
    cpuid(leaf, 0, b);
    report(leaf ? "CPUID.1" : "CPUID.0", a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3],
           ((u64)a[0] << 32) | a[3], ((u64)b[0] << 32) | b[3]);
  }
}

static void test_control_registers(void)
{
  fn_u32_void f;
  if ((f = (fn_u32_void)target(VMI_CALL_GetCR0, "GetCR0"))) {
    u32 r = f(), n = read_cr0();
    report("GetCR0", r == n, r, n);
  }
  if ((f = (fn_u32_void)target(VMI_CALL_GetCR4, "GetCR4"))) {
    u32 r = f(), n = read_cr4();
    report("GetCR4", r == n, r, n);
  }
}

static void test_rdtsc(void)
{
  fn_u64_void f = (fn_u64_void)target(VMI_CALL_RDTSC, "RDTSC");
  u64 before, r, after;
  if (!f) return;
  before = rdtsc();
  r = f();
  after = rdtsc();
  /* The TSC moves on between the reads: the ROM's value must lie between the native ones. */
  report("RDTSC", before <= r && r <= after, r, before);
}

static void test_interrupt_mask(void)
{
  fn_u32_void get = (fn_u32_void)target(VMI_CALL_GetInterruptMask, "GetInterruptMask");
  fn_void_u32 set = (fn_void_u32)target(VMI_CALL_SetInterruptMask, "SetInterruptMask");
  if (get) {
    u32 r0, n0, r1, n1;
    __asm__ volatile("cli");
    r0 = get();
    n0 = eflags() & X86_EFLAGS_IF;
    __asm__ volatile("sti");
    r1 = get();
    n1 = eflags() & X86_EFLAGS_IF;
    __asm__ volatile("cli");
    report("GetInterruptMask.off", r0 == n0, r0, n0);
    report("GetInterruptMask.on", r1 == n1 && r1 == X86_EFLAGS_IF, r1, n1);
  }
  if (set) {
    u32 on, off;
    set(X86_EFLAGS_IF);
    on = eflags() & X86_EFLAGS_IF;
    set(0);
    off = eflags() & X86_EFLAGS_IF;
    report("SetInterruptMask.on", on == X86_EFLAGS_IF, on, X86_EFLAGS_IF);
    report("SetInterruptMask.off", off == 0, off, 0);
  }
}

/* ───────────── time calls ───────────── */

/* The kernel's own TSC calibration over PIT channel 2 (about 50 ms), for reading beside the ROM's. */
static u64 native_cycle_frequency(void)
{
  const u32 latch = 59659; /* PIT ticks: 50 ms */
  u64 t0, t1;
  u32 polls = 0;
  outb(NMI_REASON_PORT, (u8)((inb(NMI_REASON_PORT) & ~PORTB_SPEAKER_DATA) | PORTB_TIMER2_GATE));
  outb(PIT_MODE, PIT_CH2_ONESHOT_LOHI);
  outb(PIT_CH2, (u8)latch);
  outb(PIT_CH2, (u8)(latch >> 8));
  t0 = rdtsc();
  while (!(inb(NMI_REASON_PORT) & PORTB_TIMER2_OUT))
    if (++polls == 0x4000000) return 0;
  t1 = rdtsc();
  /* cycles × rate ÷ latch, in 32-bit steps (no libgcc): cycles stay below 2^32 for 50 ms. */
  {
    u64 p = (u64)(u32)(t1 - t0) * PIT_TICK_RATE;
    u32 hi = (u32)(p >> 32), lo = (u32)p, qhi = hi / latch, rem = hi % latch, qlo;
    __asm__("divl %2" : "=a"(qlo), "=d"(rem) : "r"(latch), "0"(lo), "1"(rem));
    return ((u64)qhi << 32) | qlo;
  }
}

static void test_cycle_frequency(void)
{
  fn_u64_void f = (fn_u64_void)target(VMI_CALL_GetCycleFrequency, "GetCycleFrequency");
  u64 r;
  if (!f) return;
  r = f();
  /* A rate is a value the hardware decides: ok when the ROM measured one (non-zero). */
  report("GetCycleFrequency", r != 0, r, native_cycle_frequency());
}

static u32 cmos(u32 reg)
{
  outb(RTC_PORT_INDEX, (u8)reg);
  return inb(RTC_PORT_DATA);
}

/* The wall clock read natively, written independently of the ROM's code: a month table. */
static u64 native_wallclock(void)
{
  static const u32 before_month[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
  u32 b, s, mi, h, d, mo, y, pm = 0, days, i;
  while (cmos(RTC_FREQ_SELECT) & RTC_UIP) {
  }
  b = cmos(RTC_CONTROL);
  s = cmos(RTC_SECONDS);
  mi = cmos(RTC_MINUTES);
  h = cmos(RTC_HOURS);
  d = cmos(RTC_DAY_OF_MONTH);
  mo = cmos(RTC_MONTH);
  y = cmos(RTC_YEAR);
  if (!(b & RTC_24H)) {
    pm = h & RTC_HOURS_PM;
    h &= ~RTC_HOURS_PM;
  }
  if (!(b & RTC_DM_BINARY)) {
#define BCD(x) x = (x >> 4) * 10 + (x & 15)
    BCD(s); BCD(mi); BCD(h); BCD(d); BCD(mo); BCD(y);
  }
  if (!(b & RTC_24H)) h = h % 12 + (pm ? 12 : 0);
  y += y < 70 ? 2000 : 1900;
  days = before_month[mo - 1] + d - 1;
  if (mo > 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) days++;
  for (i = 1970; i < y; i++) days += (i % 4 == 0 && (i % 100 != 0 || i % 400 == 0)) ? 366 : 365;
  return (u64)(days * 86400u + h * 3600u + mi * 60u + s) * 1000000000u;
}

static void test_wallclock(void)
{
  fn_u64_void f = (fn_u64_void)target(VMI_CALL_GetWallclockTime, "GetWallclockTime");
  u64 r, n, diff;
  if (!f) return;
  r = f();
  n = native_wallclock();
  diff = r > n ? r - n : n - r;
  /* The RTC may tick between the two reads: equal within two seconds. */
  report("GetWallclockTime", diff <= 2000000000ull, r, n);
}

/* Waits until `count` alarms have arrived, at most `limit` cycles. */
static void wait_for(u32 count, u64 limit)
{
  u64 from = rdtsc();
  while (alarm_count < count && rdtsc() - from < limit) {
  }
}

static void test_alarms(void)
{
  fn_alarm set = (fn_alarm)target(VMI_CALL_SetAlarm, "SetAlarm");
  fn_u32_u32 cancel = (fn_u32_u32)target(VMI_CALL_CancelAlarm, "CancelAlarm");
  u64 now, expiry;
  u32 c1, c2, after, tmcct;
  if (!set || !cancel) return;
  __asm__ volatile("sti");

  /* One-shot: exactly one interrupt, not before the expiry. */
  alarm_count = 0;
  now = rdtsc();
  expiry = now + ALARM_DELAY;
  set(VMI_ALARM_WIRED_LVTT | VMI_CYCLES_REAL | VMI_ALARM_IS_ONESHOT, expiry, 0);
  wait_for(1, WAIT_LIMIT);
  wait_for(2, 4 * (u64)ALARM_DELAY); /* a while longer: a second interrupt would be wrong */
  report("SetAlarm.oneshot", alarm_count == 1 && alarm_tsc >= expiry, ((u64)alarm_count << 32) | (alarm_count ? (u32)(alarm_tsc - expiry) : 0), 1ull << 32);

  /* Periodic: keeps firing until cancelled; CancelAlarm says it was armed, then that it is not. */
  alarm_count = 0;
  now = rdtsc();
  set(VMI_ALARM_WIRED_LVTT | VMI_CYCLES_REAL | VMI_ALARM_IS_PERIODIC, now + ALARM_PERIOD, ALARM_PERIOD);
  wait_for(3, WAIT_LIMIT);
  c1 = cancel(VMI_CYCLES_REAL);
  c2 = cancel(VMI_CYCLES_REAL);
  tmcct = *(volatile u32 *)(apic + APIC_TMCCT);
  after = alarm_count;
  wait_for(after + 1, 4 * (u64)ALARM_PERIOD); /* none may come after the cancel */
  report("SetAlarm.periodic", after >= 3, after, 3);
  report("CancelAlarm", c1 == 1 && c2 == 0 && tmcct == 0 && alarm_count == after, ((u64)c1 << 32) | c2, 1ull << 32);

  /* Not native: an alarm wired to IRQ 0 would need PIT channel 0, which the ROM does not
     program (native.ts, SetAlarm): it leaves the APIC timer alone. */
  set(VMI_ALARM_WIRED_IRQ0 | VMI_CYCLES_REAL | VMI_ALARM_IS_ONESHOT, rdtsc() + ALARM_DELAY, 0);
  tmcct = *(volatile u32 *)(apic + APIC_TMCCT);
  report("SetAlarm.irq0-not-armed", tmcct == 0, tmcct, 0);

  /* The STOLEN counter has no alarm: nothing is armed, and cancelling says so. */
  set(VMI_ALARM_WIRED_LVTT | VMI_CYCLES_STOLEN | VMI_ALARM_IS_ONESHOT, rdtsc(), 0);
  tmcct = *(volatile u32 *)(apic + APIC_TMCCT);
  c1 = cancel(VMI_CYCLES_STOLEN);
  report("SetAlarm.stolen", tmcct == 0 && c1 == 0, tmcct, 0);
  __asm__ volatile("cli");
}

/* ───────────── TLB calls, under paging ───────────── */

static u32 page_dir[1024] __attribute__((aligned(4096)));
static u32 page_table[1024] __attribute__((aligned(4096)));
static u32 page_a[1024] __attribute__((aligned(4096)));
static u32 page_b[1024] __attribute__((aligned(4096)));
static fn_void_u32 rom_inval, rom_flush;

/* Maps TEST_VA to page A and reads it (the TLB now holds A), points the entry at page B
   behind the TLB's back, runs `op`, and reads again: B once the entry has been dropped. */
static u32 tlb_trial(void (*op)(void), u32 global)
{
  /* Volatile both: the page walk reads the entry, so no store to it may move across a read of TEST_VA. */
  volatile u32 *va = (volatile u32 *)TEST_VA;
  volatile u32 *pte = &page_table[TEST_VA >> 12 & 1023];
  *pte = (u32)page_a | PTE_PRESENT | PTE_RW | global;
  invlpg(TEST_VA);
  (void)*va;
  *pte = (u32)page_b | PTE_PRESENT | PTE_RW | global;
  op();
  return *va;
}

static void op_none(void) {}
static void op_rom_inval(void) { rom_inval(TEST_VA); }
static void op_native_inval(void) { invlpg(TEST_VA); }
static void op_rom_flush(void) { rom_flush(VMI_FLUSH_TLB); }
static void op_native_flush(void) { write_cr3(read_cr3()); }
static void op_rom_flush_global(void) { rom_flush(VMI_FLUSH_TLB | VMI_FLUSH_GLOBAL); }
static void op_native_flush_global(void)
{
  u32 cr4 = read_cr4();
  write_cr4(cr4 & ~X86_CR4_PGE);
  write_cr4(cr4);
}

static void test_tlb(void)
{
  u32 i, r, n, cr4, id[4];
  rom_inval = (fn_void_u32)target(VMI_CALL_InvalPage, "InvalPage");
  rom_flush = (fn_void_u32)target(VMI_CALL_FlushTLB, "FlushTLB");
  if (!rom_inval || !rom_flush) return;
  page_a[0] = 0xaaaaaaaa;
  page_b[0] = 0xbbbbbbbb;
  for (i = 0; i < 1024; i++) page_table[i] = (i << 12) | PTE_PRESENT | PTE_RW;
  page_dir[0] = (u32)page_table | PTE_PRESENT | PTE_RW;
  write_cr3((u32)page_dir);
  write_cr0(read_cr0() | CR0_PG);

  /* Without a flush the stale entry shows: the trials below can tell a flush from none. */
  puts("INFO stale ");
  puthex(tlb_trial(op_none, 0));
  putc('\n');

  r = tlb_trial(op_rom_inval, 0);
  n = tlb_trial(op_native_inval, 0);
  report("InvalPage", r == n && r == page_b[0], r, n);
  r = tlb_trial(op_rom_flush, 0);
  n = tlb_trial(op_native_flush, 0);
  report("FlushTLB", r == n && r == page_b[0], r, n);

  cpuid(1, 0, id);
  if (id[3] & CPUID_1_EDX_PGE) {
    write_cr4(read_cr4() | X86_CR4_PGE);
    cr4 = read_cr4();
    r = tlb_trial(op_rom_flush_global, PTE_GLOBAL);
    /* The ROM toggles CR4.PGE and must leave CR4 as it found it. */
    report("FlushTLB.global-cr4", read_cr4() == cr4, read_cr4(), cr4);
    n = tlb_trial(op_native_flush_global, PTE_GLOBAL);
    report("FlushTLB.global", r == n && r == page_b[0], r, n);
    write_cr4(cr4 & ~X86_CR4_PGE);
  } else {
    puts("INFO no-pge 0\n");
  }
  write_cr0(read_cr0() & ~CR0_PG);
}

void kmain(void);
void kmain(void)
{
  serial_init();
  puts("\nBOOT\n");
  interrupts_init();
  if (find_rom()) {
    read_relocs();
    test_cpuid();
    test_control_registers();
    test_rdtsc();
    test_interrupt_mask();
    test_cycle_frequency();
    test_wallclock();
    test_alarms();
    test_tlb();
  }
  puts("DONE\n");
  leave();
}
