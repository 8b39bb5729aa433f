/*
 * A second multiboot test kernel: a guest built on the generated C bindings of the vmi spec
 * (`hyperabi generate c-guest --spec vmi`). It finds the ROM by the spec's discovery rules
 * (vmi_discovery.h), resolves every call once through hyperabi_vmi_resolve, and calls a few
 * through the generated stubs hyperabi_vmi_<Call>, comparing each with the native
 * instruction. Serial lines as kernel.c's (harness.ts), plus
 *   INFO reloc.<nr> <type>        the relocation type the table kept for each call number
 *   INFO entry.<i> <address>      the i-th entry of the table (spec order)
 *   INFO unresolved.<name> <type> each call the resolver left NULL (its report hook)
 *   INFO unresolved <count>       the resolver's result
 *
 * Every VMI number comes from the generated headers; the numbers typed here are PC and x86
 * facts and the test's own choices.
 */
#define HYPERABI_VMI_IMPLEMENTATION
#define HYPERABI_VMI_UNRESOLVED(nr, name, type) unresolved_line(name, type)
static void unresolved_line(const char *name, unsigned int type);
#include "hyperabi_vmi_vmi-i386.h"
#include "vmi_discovery.h"

/* The test's choices (PC facts, the UART and the exit port, are in serial.h). */
#define PTE_VALUE 0x8000000012345067ull /* a PAE entry: NX, frame 0x12345, flags 0x67 */
#define GDT_LOW 0x0000ffffu
#define GDT_HIGH 0x00cf9a00u
#define GDT_INDEX 3

#include "serial.h"


static void report(const char *name, int ok, uint64_t rom, uint64_t native)
{
  puts("CALL ");
  puts(name);
  puts(ok ? " ok " : " fail ");
  puthex(rom);
  putc(' ');
  puthex(native);
  putc('\n');
}

static void info(const char *what, uint32_t index, int indexed, uint64_t value)
{
  puts("INFO ");
  puts(what);
  if (indexed) {
    putc('.');
    putdec(index);
  }
  putc(' ');
  puthex(value);
  putc('\n');
}

static void unresolved_line(const char *name, unsigned int type)
{
  puts("INFO unresolved.");
  puts(name);
  putc(' ');
  puthex(type);
  putc('\n');
}

/* ───────────── interrupts: every vector reports a fault ───────────── */

struct gate {
  uint16_t off_lo, sel;
  uint8_t zero, type;
  uint16_t off_hi;
} __attribute__((packed));
static struct gate idt[256];
static struct {
  uint16_t limit;
  uint32_t base;
} __attribute__((packed)) idtr;

extern char alarm_isr[], fault_isr[];

void alarm_handler(void);
void alarm_handler(void) {}

void fault_handler(void);
void fault_handler(void)
{
  puts("FAULT\n");
  leave();
}

static void interrupts_init(void)
{
  uint16_t cs;
  int i;
  __asm__ volatile("mov %%cs, %0" : "=r"(cs));
  for (i = 0; i < 256; i++) {
    idt[i].off_lo = (uint16_t)(uint32_t)fault_isr;
    idt[i].off_hi = (uint16_t)((uint32_t)fault_isr >> 16);
    idt[i].sel = cs;
    idt[i].zero = 0;
    idt[i].type = 0x8e;
  }
  idtr.limit = sizeof idt - 1;
  idtr.base = (uint32_t)idt;
  __asm__ volatile("lidt %0" : : "m"(idtr));
  /* Mask every legacy PIC line: with interrupts enabled by SetInterruptMask, the PIT's
   * IRQ 0 would otherwise arrive (at a time that varies from run to run) and end the test. */
  outb(0x21, 0xff);
  outb(0xa1, 0xff);
}

/* ───────────── native instructions ───────────── */

static inline uint32_t read_cr0(void) { uint32_t v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline uint64_t rdtsc(void) { uint64_t v; __asm__ volatile("rdtsc" : "=A"(v)); return v; }
static inline uint64_t rdmsr(uint32_t msr) { uint64_t v; __asm__ volatile("rdmsr" : "=A"(v) : "c"(msr)); return v; }
static inline uint32_t eflags(void) { uint32_t v; __asm__ volatile("pushf; pop %0" : "=r"(v)); return v; }
static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
  __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "0"(leaf), "2"(sub));
}

/* ───────────── the ROM, found by the spec's rules ───────────── */

static void ignore(const char *rule) { (void)rule; }

static void warn(const char *rule)
{
  puts("WARN ");
  puts(rule);
  putc('\n');
}

static const volatile unsigned char *find_rom(void)
{
  uint32_t a;
  for (a = VMI_SCAN_START; a < VMI_SCAN_END; a += VMI_SCAN_STEP) {
    const volatile unsigned char *p = (const volatile unsigned char *)a;
    if (vmi_discovery_check(p, ignore)) continue;
    vmi_discovery_check(p, warn);
    puts("FOUND ");
    puthex(a);
    putc('\n');
    return p;
  }
  puts("NOTFOUND no-candidate\n");
  return 0;
}

/* The table as the resolver left it: relocation types by number, entries in spec order. */
static void dump_table(void)
{
  const unsigned char *t = (const unsigned char *)&hyperabi_vmi;
  uint32_t i;
  for (i = 0; i < HYPERABI_VMI_NCALLS; i++) info("reloc", i, 1, hyperabi_vmi.relocation[i]);
  for (i = 0; i < offsetof(struct hyperabi_vmi_table, relocation) / sizeof(uintptr_t); i++) {
    uintptr_t v;
    __builtin_memcpy(&v, t + i * sizeof v, sizeof v);
    info("entry", i, 1, v);
  }
}

/* ───────────── calls through the generated stubs ───────────── */

static void test_cpuid(void)
{
  uint32_t leaf;
  for (leaf = 0; leaf < 2; leaf++) {
    uint32_t a[4], b[4];
    hyperabi_vmi_CPUID(leaf, 0, &a[0], &a[1], &a[2], &a[3]);
    cpuid(leaf, 0, b);
    report(leaf ? "CPUID.1" : "CPUID.0", a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3],
           ((uint64_t)a[0] << 32) | a[3], ((uint64_t)b[0] << 32) | b[3]);
  }
}

static void test_cr0_rdtsc_rdmsr(void)
{
  uint32_t r = hyperabi_vmi_GetCR0(), n = read_cr0();
  uint64_t before, t, after, m, nm;
  report("GetCR0", r == n, r, n);
  before = rdtsc();
  t = hyperabi_vmi_RDTSC();
  after = rdtsc();
  report("RDTSC", before <= t && t <= after, t, before);
  m = hyperabi_vmi_RDMSR(MSR_IA32_APICBASE);
  nm = rdmsr(MSR_IA32_APICBASE);
  report("RDMSR", m == nm, m, nm);
}

static void test_interrupt_mask(void)
{
  uint32_t r0, n0, r1, n1, on, off;
  __asm__ volatile("cli");
  r0 = hyperabi_vmi_GetInterruptMask();
  n0 = eflags() & X86_EFLAGS_IF;
  hyperabi_vmi_SetInterruptMask(X86_EFLAGS_IF);
  on = eflags() & X86_EFLAGS_IF;
  r1 = hyperabi_vmi_GetInterruptMask();
  n1 = eflags() & X86_EFLAGS_IF;
  hyperabi_vmi_SetInterruptMask(0);
  off = eflags() & X86_EFLAGS_IF;
  report("GetInterruptMask.off", r0 == n0 && r0 == 0, r0, n0);
  report("SetInterruptMask.on", on == X86_EFLAGS_IF, on, X86_EFLAGS_IF);
  report("GetInterruptMask.on", r1 == n1 && r1 == X86_EFLAGS_IF, r1, n1);
  report("SetInterruptMask.off", off == 0, off, 0);
}

/* Stack arguments and a 64-bit register pair: the ROM stores what the stub passed. */
static void test_stores(void)
{
  static uint64_t pte;
  static uint32_t gdt[8];
  hyperabi_vmi_SetPxELong(PTE_VALUE, &pte, VMI_PAGE_PT);
  report("SetPxELong", pte == PTE_VALUE, pte, PTE_VALUE);
  hyperabi_vmi_WriteGDTEntry(gdt, GDT_INDEX, GDT_LOW, GDT_HIGH);
  report("WriteGDTEntry", gdt[2 * GDT_INDEX] == GDT_LOW && gdt[2 * GDT_INDEX + 1] == GDT_HIGH,
         ((uint64_t)gdt[2 * GDT_INDEX + 1] << 32) | gdt[2 * GDT_INDEX], ((uint64_t)GDT_HIGH << 32) | GDT_LOW);
}

/* A NOP relocation: the stub calls the resolver's no-op stand-in (harness: outside the ROM). */
static void test_nop(void)
{
  uintptr_t at = (uintptr_t)hyperabi_vmi.IODelay;
  hyperabi_vmi_IODelay();
  report("IODelay.nop", hyperabi_vmi.relocation[VMI_CALL_IODelay] == VMI_RELOCATION_NOP && at != 0, at,
         hyperabi_vmi.relocation[VMI_CALL_IODelay]);
}

void kmain(void);
void kmain(void)
{
  const volatile unsigned char *rom;
  serial_init();
  puts("\nBOOT\n");
  interrupts_init();
  rom = find_rom();
  if (rom) {
    int unresolved = hyperabi_vmi_resolve((const void *)rom);
    info("unresolved", 0, 0, (uint32_t)unresolved);
    dump_table();
    test_cpuid();
    test_cr0_rdtsc_rdmsr();
    test_interrupt_mask();
    test_stores();
    test_nop();
  }
  puts("DONE\n");
  leave();
}
