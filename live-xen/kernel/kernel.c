/*
 * The live test kernel: a 64-bit PV dom0 of real Xen that interprets lowered conformance
 * programs (the module format of live-xen/format.ts, handed over as its initrd) and prints
 * what each instruction produced on the Xen console (console_io CONSOLEIO_write), one line
 * per result, for the harness (live-xen/serial.ts):
 *
 *   @@HX B <data base> <data pages> <shared_info va> <unmapped> <nr_pages>   boot facts
 *   @@HX P <prog>                        a program starts
 *   @@HX R <prog> <instr> <hex>          a call's result register
 *   @@HX M <prog> <instr> <hex bytes>    a read's bytes
 *   @@HX M <prog> <instr> fault          a read of memory the kernel does not map
 *   @@HX A <prog> <instr> <ns>           an advance: the kernel spun that long on Xen's clock
 *   @@HX W <prog> <instr>                still spinning in a long advance (a heartbeat)
 *   @@HX X <prog> <instr> <reason>       the program cannot go on (the rest is not run)
 *   @@HX E <prog>                        the program is complete
 *   @@HX T <prog> <what>                 the program changed dom0 for good: the boot ends here
 *   @@HX Z <count>                       every program ran; the kernel shuts down
 *
 * Writes and stores print nothing (their result is `done`). Between programs the kernel
 * puts back what programs change (reset()), so that each starts from the same state.
 *
 * Programs of two domains (PRG2 records) run their domain-1 instructions in a domain 1 the kernel
 * builds and serves through a mailbox (domu.c, included below); domain 1 runs this same image.
 *
 * Every Xen number comes from the generated headers (hyperabi_xen.h and the x86_64-pv stubs);
 * the numbers typed here are x86 paging facts and the kernel's own choices (hx_layout.h).
 */
#include "hyperabi_xen_x86_64-pv.h"
#include "hx_format.h"
#include "hx_layout.h"

/* x86 page-table entry bits (hardware facts). */
#define PTE_P 0x1ull
#define PTE_RW 0x2ull
#define PTE_US 0x4ull
#define PTE_A 0x20ull
#define PTE_D 0x40ull
#define PTE_DATA (PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D)
#define PTE_READONLY (PTE_P | PTE_US | PTE_A)

typedef uint64_t u64;
typedef uint32_t u32;
typedef uint8_t u8;

void kmain(start_info_t *si);
long hx_hypercall(const u64 regs[6]);

/* The data area the programs address as @offset, the page where shared_info is mapped, and
   a window page for writes into pages the kernel maps read-only. Page-aligned, in .bss. */
u8 hx_data[HX_MAX_PAGES * HX_PAGE_SIZE] __attribute__((aligned(HX_PAGE_SIZE)));
u8 hx_shinfo[HX_PAGE_SIZE] __attribute__((aligned(HX_PAGE_SIZE)));
u8 hx_window[HX_PAGE_SIZE] __attribute__((aligned(HX_PAGE_SIZE)));
/* Where the kernel maps its grant table's shared frames and (version 2) its status frames. */
u8 hx_gnttab[HX_GNT_FRAMES * HX_PAGE_SIZE] __attribute__((aligned(HX_PAGE_SIZE)));
u8 hx_gntstatus[HX_GNT_STATUS_FRAMES * HX_PAGE_SIZE] __attribute__((aligned(HX_PAGE_SIZE)));

static start_info_t *start;
static shared_info_t *shinfo;
static const unsigned long *p2m;
static unsigned long data_pfn0;
static unsigned long window_mfn;
/* Machine-to-physical entries of the data pages at boot, put back between programs. */
static unsigned long m2p_boot[HX_MAX_PAGES];

/* ───────────── freestanding helpers ───────────── */

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n)
{
  u8 *p = d;
  while (n--) *p++ = (u8)c;
  return d;
}
void *memcpy(void *d, const void *s, size_t n)
{
  u8 *p = d;
  const u8 *q = s;
  while (n--) *p++ = *q++;
  return d;
}

/* ───────────── output ───────────── */

static char line[HX_LINE_MAX];
static unsigned int used;

static void flush(void)
{
  if (used) hyperabi_console_io_CONSOLEIO_write(used, line);
  used = 0;
}
static void putch(char c)
{
  if (used == sizeof(line)) flush();
  line[used++] = c;
}
static void puts_(const char *s)
{
  while (*s) putch(*s++);
}
static void puthex(u64 v)
{
  char b[16];
  int i = 0;
  do {
    b[i++] = "0123456789abcdef"[v & 15];
    v >>= 4;
  } while (v);
  while (i) putch(b[--i]);
}
static void putdec(u64 v)
{
  char b[20];
  int i = 0;
  do {
    b[i++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (i) putch(b[--i]);
}
static void putbyte(u8 v)
{
  putch("0123456789abcdef"[v >> 4]);
  putch("0123456789abcdef"[v & 15]);
}
/* A protocol line starts on a line of its own, whatever a program wrote to the console. */
static void begin(char tag, u32 prog)
{
  puts_("\n@@HX ");
  putch(tag);
  putch(' ');
  putdec(prog);
}
static void end(void)
{
  putch('\n');
  flush();
}

/* ───────────── hypercalls of the kernel itself ───────────── */

static long map_va(unsigned long va, u64 pte)
{
  return hyperabi_update_va_mapping(va, pte, UVMF_INVLPG);
}

static unsigned long data_mfn(unsigned long page)
{
  return p2m[data_pfn0 + page];
}

/* ───────────── the clock (vcpu_time_info of vCPU 0) ───────────── */

static u64 rdtsc(void)
{
  u32 lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return ((u64)hi << 32) | lo;
}

static u64 system_time(void)
{
  volatile vcpu_time_info_t *t = &shinfo->vcpu_info[0].time;
  u32 v;
  u64 now;
  do {
    v = t->version;
    __asm__ volatile("" ::: "memory");
    u64 delta = rdtsc() - t->tsc_timestamp;
    int shift = t->tsc_shift;
    if (shift < 0) delta >>= -shift;
    else delta <<= shift;
    now = t->system_time + (u64)(((unsigned __int128)delta * t->tsc_to_system_mul) >> 32);
    __asm__ volatile("" ::: "memory");
  } while ((v & 1) || v != t->version);
  return now;
}

/* ───────────── the grant table windows ───────────── */

/* Frames of each window mapped now. */
static unsigned int gnt_mapped, gnt_status_mapped;

/*
 * Maps the grant table's frames at hx_gnttab (as many as it has now: GNTTABOP_query_size, then
 * GNTTABOP_setup_table for that many, which neither grows the table nor changes its version)
 * and, in version 2, its status frames at hx_gntstatus. Frames beyond stay unmapped.
 */
static void grant_windows(void)
{
  struct gnttab_query_size q = { .dom = DOMID_SELF };
  unsigned int n = 0, ns = 0;
  static xen_pfn_t frames[HX_GNT_FRAMES];
  static uint64_t sframes[HX_GNT_STATUS_FRAMES];
  if (!hyperabi_grant_table_op_GNTTABOP_query_size(&q, 1) && q.status == GNTST_okay) n = q.nr_frames;
  if (n > HX_GNT_FRAMES) n = HX_GNT_FRAMES;
  if (n) {
    struct gnttab_setup_table st = { .dom = DOMID_SELF, .nr_frames = n };
    st.frame_list.p = frames;
    if (hyperabi_grant_table_op_GNTTABOP_setup_table(&st, 1) || st.status != GNTST_okay) n = 0;
  }
  for (unsigned int i = 0; i < HX_GNT_FRAMES; i++) {
    unsigned long va = (unsigned long)(hx_gnttab + i * HX_PAGE_SIZE);
    if (i < n) map_va(va, ((u64)frames[i] << 12) | PTE_DATA);
    else if (i < gnt_mapped) map_va(va, 0);
  }
  gnt_mapped = n;
  struct gnttab_get_version gv = { .dom = DOMID_SELF };
  if (n && !hyperabi_grant_table_op_GNTTABOP_get_version(&gv, 1) && gv.version == 2) {
    /* Status frames for n shared frames of version 2 entries (16 bytes each; 2-byte status words). */
    ns = (n * (HX_PAGE_SIZE / 16) + HX_PAGE_SIZE / 2 - 1) / (HX_PAGE_SIZE / 2);
    if (ns > HX_GNT_STATUS_FRAMES) ns = HX_GNT_STATUS_FRAMES;
    struct gnttab_get_status_frames gs = { .nr_frames = ns, .dom = DOMID_SELF };
    gs.frame_list.p = sframes;
    if (hyperabi_grant_table_op_GNTTABOP_get_status_frames(&gs, 1) || gs.status != GNTST_okay) ns = 0;
  }
  for (unsigned int i = 0; i < HX_GNT_STATUS_FRAMES; i++) {
    unsigned long va = (unsigned long)(hx_gntstatus + i * HX_PAGE_SIZE);
    if (i < ns) {
      if (map_va(va, (sframes[i] << 12) | PTE_DATA)) map_va(va, (sframes[i] << 12) | PTE_READONLY);
    } else if (i < gnt_status_mapped) {
      map_va(va, 0);
    }
  }
  gnt_status_mapped = ns;
}

static void grant_unmap_windows(void)
{
  for (unsigned int i = 0; i < gnt_mapped; i++) map_va((unsigned long)(hx_gnttab + i * HX_PAGE_SIZE), 0);
  for (unsigned int i = 0; i < gnt_status_mapped; i++) map_va((unsigned long)(hx_gntstatus + i * HX_PAGE_SIZE), 0);
  gnt_mapped = gnt_status_mapped = 0;
}

/* ───────────── program state ───────────── */

static u32 prog_pages;

/* Which data pages the kernel maps read-only (the table pages, hx_layout.h). */
static int page_readonly(unsigned long page)
{
  return page >= HX_TABLE_FIRST && page < HX_TABLE_FIRST + HX_TABLE_PAGES;
}

static int within(u64 va, u64 len, const void *base, u64 size)
{
  u64 b = (u64)(unsigned long)base;
  return va >= b && len <= size && va - b <= size - len;
}

/*
 * Where an access of len bytes at va lands: 1 in the program's data area, 2 in shared_info,
 * 3 in the grant table's frames, 4 in its status frames; 0 elsewhere (a fault). The grant
 * windows are mapped afresh first, so they hold as many frames as the table has now.
 */
static int region(u64 va, u64 len)
{
  if (len == 0) len = 1;
  if (within(va, len, hx_data, (u64)prog_pages * HX_PAGE_SIZE)) return 1;
  if (within(va, len, hx_shinfo, HX_PAGE_SIZE)) return 2;
  if (within(va, len, hx_gnttab, sizeof(hx_gnttab)) || within(va, len, hx_gntstatus, sizeof(hx_gntstatus))) {
    grant_windows();
    if (within(va, len, hx_gnttab, (u64)gnt_mapped * HX_PAGE_SIZE)) return 3;
    if (within(va, len, hx_gntstatus, (u64)gnt_status_mapped * HX_PAGE_SIZE)) return 4;
  }
  return 0;
}

/* Writes bytes into the data area or shared_info; table pages go through the window page. 0 on success. */
static int poke(u64 va, const u8 *src, u64 len)
{
  int where = region(va, len);
  if (!where) return -1;
  while (len) {
    u64 off = va & (HX_PAGE_SIZE - 1);
    u64 n = HX_PAGE_SIZE - off;
    if (n > len) n = len;
    unsigned long page = (unsigned long)((va - (u64)(unsigned long)hx_data) / HX_PAGE_SIZE);
    if (where == 1 && page_readonly(page)) {
      /* A writable alias; Xen refuses it when the page has become a page table. */
      if (map_va((unsigned long)hx_window, ((u64)data_mfn(page) << 12) | PTE_DATA)) return -2;
      memcpy(hx_window + off, src, n);
      map_va((unsigned long)hx_window, 0);
    } else {
      memcpy((void *)(unsigned long)va, src, n);
    }
    va += n;
    src += n;
    len -= n;
  }
  return 0;
}

struct operand {
  u8 kind;
  u8 aux;
  uint16_t dom;
  u32 page;
  u64 a;
  u64 add;
  u64 or_;
};
_Static_assert(sizeof(struct operand) == HX_OPERAND_BYTES, "operand size");

/* ───────────── a second domain (domain 1) ───────────── */

static void reset(void);
static const char *changes_for_good(const u64 regs[HX_CALL_REGS], u64 result, int pirq);
/* shared_info's arch part as at boot (reset() puts it back). */
static struct arch_shared_info arch_boot;

/* The frames of a domain's grant table (GNTTABOP_query_size), or -1. Xen never shrinks a table. */
static long grant_frames(domid_t id)
{
  struct gnttab_query_size q = { .dom = id };
  if (hyperabi_grant_table_op_GNTTABOP_query_size(&q, 1) || q.status != GNTST_okay) return -1;
  return q.nr_frames;
}

/* The pages a domain has (XENMEM_current_reservation), or a negative errno. */
static long reservation(domid_t id)
{
  struct xen_memory_domain md = { .domid = id };
  return hyperabi_memory_op_XENMEM_current_reservation(&md);
}

#include "domu.c"

/* Whether the running program has a domain 1 (a PRG2 record). */
static int two_domains;

static const char *resolve(const struct operand *o, u64 *out)
{
  if (o->kind != HX_OPND_CONST && o->dom != 0 && (o->dom != 1 || !two_domains)) return "operand-of-a-domain-not-in-the-machine";
  switch (o->kind) {
  case HX_OPND_CONST:
    *out = o->a;
    return 0;
  case HX_OPND_FRAME: {
    u64 mfn;
    if (o->dom == 1) {
      const char *why = domu_frame(o->page, &mfn);
      if (why) return why;
    } else if (o->page < prog_pages) mfn = data_mfn(o->page);
    else if (o->page == prog_pages) mfn = start->shared_info >> 12;
    else return "frame-beyond-data-area";
    *out = (o->aux < 64 ? (mfn << o->aux) : 0) | o->or_;
    return 0;
  }
  case HX_OPND_LOAD: {
    u64 v = 0;
    if (o->dom == 1) {
      u8 b[8] = { 0 };
      int fault;
      const char *why = o->aux > 8 ? "bad-load-size" : domu_read(o->a, b, o->aux, &fault);
      if (why) return why;
      if (fault) return "load-outside-mapped-memory";
      for (int i = o->aux - 1; i >= 0; i--) v = (v << 8) | b[i];
      *out = (v + o->add) | o->or_;
      return 0;
    }
    if (!region(o->a, o->aux)) return "load-outside-mapped-memory";
    const volatile u8 *p = (const volatile u8 *)(unsigned long)o->a;
    for (int i = o->aux - 1; i >= 0; i--) v = (v << 8) | p[i];
    *out = (v + o->add) | o->or_;
    return 0;
  }
  }
  return "bad-operand-kind";
}

/* ───────────── reset between programs ───────────── */

static void reset(void)
{
  /* Event channels: close every port. */
  struct evtchn_reset er = { .dom = DOMID_SELF };
  hyperabi_event_channel_op_EVTCHNOP_reset(&er);
  /* Timers and watchdogs. */
  hyperabi_set_timer_op(0);
  /* The periodic timer back to the period a PV vCPU starts with. */
  struct vcpu_set_periodic_timer pt = { .period_ns = HX_DEFAULT_PERIOD_NS };
  hyperabi_vcpu_op_VCPUOP_set_periodic_timer(0, &pt);
  hyperabi_vcpu_op_VCPUOP_stop_singleshot_timer(0);
  for (u32 id = 1; id <= HX_WATCHDOGS; id++) {
    struct sched_watchdog w = { .id = id, .timeout = 0 };
    hyperabi_sched_op_SCHEDOP_watchdog(&w);
  }
  /* The vCPU's guest-kernel entry state as at boot: no virtual IDT, no callbacks (64-bit
     PV: event, failsafe, syscall; NMI apart), no debug breakpoints, FPU usable, no segment
     bases. A program may have set any of these; the kernel itself never takes a trap. */
  hyperabi_set_trap_table(NULL);
  hyperabi_set_callbacks(0, 0, 0);
  static const uint16_t callbacks[] = { CALLBACKTYPE_syscall32, CALLBACKTYPE_sysenter };
  for (unsigned int i = 0; i < sizeof(callbacks) / sizeof(callbacks[0]); i++) {
    struct callback_register cb = { .type = callbacks[i] };
    hyperabi_callback_op_CALLBACKOP_register(&cb);
  }
  hyperabi_nmi_op_XENNMI_unregister_callback();
  hyperabi_set_debugreg(7, 0);
  for (int r = 0; r < 4; r++) hyperabi_set_debugreg(r, 0);
  /* DR6 back to its reset value (X86_DR6_DEFAULT: the architectural reserved-one bits). */
  hyperabi_set_debugreg(6, 0xffff0ff0ul);
  hyperabi_fpu_taskswitch(0);
  hyperabi_set_segment_base(SEGBASE_FS, 0);
  hyperabi_set_segment_base(SEGBASE_GS_USER, 0);
  /* No I/O bitmap. */
  struct physdev_set_iobitmap iob = { .nr_ports = 0 };
  hyperabi_physdev_op_PHYSDEVOP_set_iobitmap(&iob);
  /* No temporary pinning of vCPU 0 to a CPU. */
  struct sched_pin_override po = { .pcpu = -1 };
  hyperabi_sched_op_SCHEDOP_pin_override(&po);
  /* Memory areas registered for vCPU 0. */
  struct vcpu_register_runstate_memory_area ra = { .addr = { .p = 0 } };
  hyperabi_vcpu_op_VCPUOP_register_runstate_memory_area(0, &ra);
  struct vcpu_register_time_memory_area ta = { .addr = { .p = 0 } };
  hyperabi_vcpu_op_VCPUOP_register_vcpu_time_memory_area(0, &ta);
  /* Page tables made of data pages: unpin them; no user base pointer, no LDT. */
  for (unsigned long p = 0; p < HX_MAX_PAGES; p++) {
    struct mmuext_op op = { .cmd = MMUEXT_UNPIN_TABLE, .arg1 = { .mfn = data_mfn(p) } };
    hyperabi_mmuext_op(&op, 1, NULL, DOMID_SELF);
  }
  struct mmuext_op ops[2] = {
    { .cmd = MMUEXT_NEW_USER_BASEPTR, .arg1 = { .mfn = 0 } },
    { .cmd = MMUEXT_SET_LDT, .arg1 = { .linear_addr = 0 }, .arg2 = { .nr_ents = 0 } },
  };
  hyperabi_mmuext_op(ops, 2, NULL, DOMID_SELF);
  /* The data area's own mappings, and the machine-to-physical entries of its frames. */
  for (unsigned long p = 0; p < HX_MAX_PAGES; p++) {
    u64 pte = ((u64)data_mfn(p) << 12) | (page_readonly(p) ? PTE_READONLY : PTE_DATA);
    map_va((unsigned long)(hx_data + p * HX_PAGE_SIZE), pte);
    const unsigned long *m2p = (const unsigned long *)(unsigned long)MACH2PHYS_VIRT_START;
    if (m2p[data_mfn(p)] != m2p_boot[p]) {
      struct mmu_update u = { .ptr = ((u64)data_mfn(p) << 12) | MMU_MACHPHYS_UPDATE, .val = m2p_boot[p] };
      hyperabi_mmu_update(&u, 1, NULL, DOMID_SELF);
    }
  }
  map_va((unsigned long)hx_window, 0);
  /* Zero the data area (read-only pages through the window). */
  for (unsigned long p = 0; p < HX_MAX_PAGES; p++) {
    if (!page_readonly(p)) {
      memset(hx_data + p * HX_PAGE_SIZE, 0, HX_PAGE_SIZE);
    } else if (!map_va((unsigned long)hx_window, ((u64)data_mfn(p) << 12) | PTE_DATA)) {
      memset(hx_window, 0, HX_PAGE_SIZE);
      map_va((unsigned long)hx_window, 0);
    }
  }
  /* Assists back to the boot state. */
  static const unsigned int assists[] = { HX_VMASST_TYPES };
  for (unsigned int t = 0; t < sizeof(assists) / sizeof(assists[0]); t++) hyperabi_vm_assist_VMASST_CMD_disable(assists[t]);
  /* The grant table: no entries, version 1 (its status frames unmapped first, or Xen keeps them). */
  grant_windows();
  memset(hx_gnttab, 0, (u64)gnt_mapped * HX_PAGE_SIZE);
  grant_unmap_windows();
  struct gnttab_set_version gv = { .version = 1 };
  hyperabi_grant_table_op_GNTTABOP_set_version(&gv, 1);
  /* Event bitmaps and vCPU 0's event state as at boot (delivery masked). */
  memset(shinfo->evtchn_pending, 0, sizeof(shinfo->evtchn_pending));
  memset(shinfo->evtchn_mask, 0, sizeof(shinfo->evtchn_mask));
  shinfo->vcpu_info[0].evtchn_pending_sel = 0;
  shinfo->vcpu_info[0].evtchn_upcall_pending = 0;
  shinfo->vcpu_info[0].evtchn_upcall_mask = 1;
  /* The page past struct shared_info, zero at boot (Xen clears the page): programs place
     arguments there, and Xen writes results into them. */
  memset(hx_shinfo + sizeof(*shinfo), 0, HX_PAGE_SIZE - sizeof(*shinfo));
  /* Its arch part (max_pfn, nmi_reason, the p2m fields) as at boot: the guest's to write, and a
     non-zero nmi_reason makes the next XENNMI_register_callback raise an NMI at once. */
  shinfo->arch = arch_boot;
}

/* ───────────── what reset() cannot undo ───────────── */

/*
 * Calls that change dom0 for good when they succeed: a vcpu_info moved out of shared_info,
 * a PIRQ EOI map registered, a pseudo-physical memory map set, a shutdown code latched, made
 * directly or as a multicall's entry (changes_for_good()). After a program made one, the
 * kernel ends the boot (the harness boots again for the programs after it); domain 1 is built
 * again for the next program instead. So does a program that leaves dom0 with other pages or a
 * grown grant table (kmain).
 */
static const char *taints(const u64 regs[HX_CALL_REGS], u64 result)
{
  if (result != 0) return 0;
  if (regs[0] == __HYPERVISOR_vcpu_op && (u32)regs[1] == VCPUOP_register_vcpu_info) return "vcpu-info-registered";
  if (regs[0] == __HYPERVISOR_physdev_op && ((u32)regs[1] == PHYSDEVOP_pirq_eoi_gmfn_v1 || (u32)regs[1] == PHYSDEVOP_pirq_eoi_gmfn_v2))
    return "pirq-eoi-map-registered";
  if (regs[0] == __HYPERVISOR_memory_op && regs[1] == XENMEM_set_memory_map) return "memory-map-set";
  /* A latched shutdown code is what any later shutdown of the domain reports. */
  if (regs[0] == __HYPERVISOR_sched_op && (u32)regs[1] == SCHEDOP_shutdown_code) return "shutdown-code-latched";
  return 0;
}

/*
 * taints() of a call, or of a call a multicall made (its entries, when the list lies in the
 * program's data area or shared_info: a list elsewhere Xen could not read either). With `pirq`,
 * a PIRQ allocated counts too (domain 1 has few, and reset() does not know them).
 */
static const char *changes_for_good(const u64 regs[HX_CALL_REGS], u64 result, int pirq)
{
  const char *t = taints(regs, result);
  if (t) return t;
  if (pirq && result == 0 && regs[0] == __HYPERVISOR_physdev_op && (u32)regs[1] == PHYSDEVOP_get_free_pirq) return "pirq-allocated";
  /* (A multicall within a multicall fails, so this goes one level deep.) */
  if (result != 0 || regs[0] != __HYPERVISOR_multicall) return 0;
  const struct multicall_entry *e = (const struct multicall_entry *)(unsigned long)regs[1];
  u64 nr = regs[2], len = nr * sizeof(*e);
  if (nr == 0 || nr > HX_MAX_PAGES * HX_PAGE_SIZE / sizeof(*e)) return 0;
  if (!within(regs[1], len, hx_data, (u64)prog_pages * HX_PAGE_SIZE) && !within(regs[1], len, hx_shinfo, HX_PAGE_SIZE)) return 0;
  for (u64 i = 0; i < nr; i++) {
    u64 er[HX_CALL_REGS] = { e[i].op };
    for (unsigned int j = 1; j < HX_CALL_REGS && j <= sizeof(e[i].args) / sizeof(e[i].args[0]); j++) er[j] = e[i].args[j - 1];
    t = changes_for_good(er, e[i].result, pirq);
    if (t) return t;
  }
  return 0;
}

static const char *tainted;

/*
 * dom0's pages when the programs start: a program that leaves it with more (pages it
 * populated) or fewer (pages it gave back) changed dom0 for good too, as reset() cannot know
 * which frames they were; the next program would find less room, or a data page gone.
 */
static long dom0_pages;
/* Likewise dom0's grant-table frames: a table grown by a program stays grown (more references valid). */
static long dom0_grant_frames;

/* ───────────── the interpreter ───────────── */

struct reader {
  const u8 *p;
  const u8 *end;
};

static int take(struct reader *r, void *out, u64 n)
{
  if ((u64)(r->end - r->p) < n) return -1;
  memcpy(out, r->p, n);
  r->p += n;
  return 0;
}

static void fail(u32 prog, u32 k, const char *why)
{
  begin('X', prog);
  putch(' ');
  putdec(k);
  putch(' ');
  puts_(why);
  end();
}

/* Runs one program; returns -1 when the module is malformed (the run stops). */
static int run_program(struct reader *r)
{
  u32 head[4], dom1[2] = { 0, 0 };
  if (take(r, head, sizeof(head)) || (head[0] != HX_PROG_TAG && head[0] != HX_PROG2_TAG)) return -1;
  two_domains = head[0] == HX_PROG2_TAG;
  if (two_domains && take(r, dom1, sizeof(dom1))) return -1;
  u32 prog = head[1], count = head[2];
  prog_pages = head[3] > HX_MAX_PAGES ? HX_MAX_PAGES : head[3];
  begin('P', prog);
  end();
  int broken = head[3] > HX_MAX_PAGES || dom1[0] > HX_MAX_PAGES;
  if (broken) fail(prog, 0, "too-many-data-pages");
  if (two_domains && !broken) {
    const char *why = domu_begin(dom1[0], dom1[1]);
    if (why) {
      fail(prog, 0, why);
      broken = 1;
    }
  }
  for (u32 k = 0; k < count; k++) {
    struct {
      u8 op, size;
      uint16_t dom;
      u32 n;
    } ih;
    if (take(r, &ih, sizeof(ih))) return -1;
    u64 addr = 0, ns = 0;
    const char *why = 0;
    if (!broken && ih.op != HX_OP_ADVANCE && ih.dom != 0 && (ih.dom != 1 || !two_domains)) why = "instruction-of-a-domain-not-in-the-machine";
    switch (ih.op) {
    case HX_OP_WRITE: {
      if (take(r, &addr, 8)) return -1;
      u64 padded = (ih.n + 7) & ~7ull;
      if ((u64)(r->end - r->p) < padded) return -1;
      const u8 *bytes = r->p;
      r->p += padded;
      if (broken || why) break;
      if (ih.dom == 1) {
        why = domu_write(addr, bytes, ih.n, 0);
        break;
      }
      int rc = poke(addr, bytes, ih.n);
      if (rc == -1) why = "write-outside-mapped-memory";
      else if (rc) why = "write-to-a-page-table-page";
      break;
    }
    case HX_OP_STORE: {
      struct operand o;
      if (take(r, &addr, 8) || take(r, &o, sizeof(o))) return -1;
      if (broken || why) break;
      u64 v = 0;
      why = resolve(&o, &v);
      if (!why && (ih.size == 1 || ih.size == 2 || ih.size == 4 || ih.size == 8)) {
        u8 b[8];
        for (int i = 0; i < 8; i++) b[i] = (u8)(v >> (8 * i));
        if (ih.dom == 1) {
          why = domu_write(addr, b, ih.size, 1);
          break;
        }
        int rc = poke(addr, b, ih.size);
        if (rc == -1) why = "store-outside-mapped-memory";
        else if (rc) why = "store-to-a-page-table-page";
      } else if (!why) {
        why = "bad-store-size";
      }
      break;
    }
    case HX_OP_CALL: {
      struct operand o[HX_CALL_REGS];
      if (ih.n != HX_CALL_REGS || take(r, o, sizeof(o))) return -1;
      if (broken || why) break;
      u64 regs[HX_CALL_REGS];
      for (unsigned int i = 0; i < HX_CALL_REGS && !why; i++) why = resolve(&o[i], &regs[i]);
      if (why) break;
      u64 result;
      if (ih.dom == 1) {
        why = domu_call(regs, &result);
        if (why) break;
        /* A call that changed domain 1 for good (domu_stale, judged by domain 1 itself, where a
           multicall's list is) gets the next program a new domain 1. */
      } else {
        result = (u64)hx_hypercall(regs);
        if (!tainted) tainted = changes_for_good(regs, result, 0);
      }
      begin('R', prog);
      putch(' ');
      putdec(k);
      putch(' ');
      puthex(result);
      end();
      break;
    }
    case HX_OP_READ: {
      if (take(r, &addr, 8)) return -1;
      if (broken || why) break;
      if (ih.dom == 1) {
        why = domu_print_read(prog, k, addr, ih.n);
        break;
      }
      begin('M', prog);
      putch(' ');
      putdec(k);
      putch(' ');
      if (!region(addr, ih.n)) puts_("fault");
      else {
        const volatile u8 *p = (const volatile u8 *)(unsigned long)addr;
        for (u32 i = 0; i < ih.n; i++) putbyte(p[i]);
      }
      end();
      break;
    }
    case HX_OP_ADVANCE: {
      if (take(r, &ns, 8)) return -1;
      if (broken) break;
      /* Xen's clock cannot be moved: spin until it has advanced this far (timers fire meanwhile). */
      u64 now = system_time(), until = now + ns, beat = now + HX_HEARTBEAT_NS;
      while ((now = system_time()) < until) {
        hyperabi_sched_op_SCHEDOP_yield();
        if (now >= beat) {
          /* A long advance says it is alive, so that the harness does not take it for a hang. */
          begin('W', prog);
          putch(' ');
          putdec(k);
          end();
          beat = now + HX_HEARTBEAT_NS;
        }
      }
      begin('A', prog);
      putch(' ');
      putdec(k);
      putch(' ');
      putdec(ns);
      end();
      break;
    }
    default:
      return -1;
    }
    /* The kernel's own mappings of grant frames are dropped at once: a mapped status frame
       would make Xen refuse a switch back to version 1. */
    if (gnt_mapped || gnt_status_mapped) grant_unmap_windows();
    if (why && !broken) {
      fail(prog, k, why);
      broken = 1;
    }
  }
  if (two_domains) domu_end();
  two_domains = 0;
  begin('E', prog);
  end();
  return 0;
}

void kmain(start_info_t *si)
{
  start = si;
  p2m = (const unsigned long *)si->mfn_list;
  data_pfn0 = ((unsigned long)hx_data - HX_VIRT_BASE) >> 12;
  window_mfn = p2m[((unsigned long)hx_window - HX_VIRT_BASE) >> 12];
  /* shared_info at hx_shinfo (its own frame there stays the kernel's, unmapped). */
  map_va((unsigned long)hx_shinfo, (si->shared_info & ~(u64)(HX_PAGE_SIZE - 1)) | PTE_DATA);
  shinfo = (shared_info_t *)hx_shinfo;
  arch_boot = shinfo->arch;
  map_va((unsigned long)hx_window, 0);
  /* The grant windows start unmapped (their own frames stay the kernel's). */
  gnt_mapped = HX_GNT_FRAMES;
  gnt_status_mapped = HX_GNT_STATUS_FRAMES;
  grant_unmap_windows();
  const unsigned long *m2p = (const unsigned long *)(unsigned long)MACH2PHYS_VIRT_START;
  for (unsigned long p = 0; p < HX_MAX_PAGES; p++) m2p_boot[p] = m2p[data_mfn(p)];
  reset();
  /* Domain 1, built by dom0 (domu.c): it serves dom0's requests for good. */
  if (!(si->flags & SIF_INITDOMAIN)) domu_serve();

  begin('B', 0);
  puts_(" ");
  puthex((unsigned long)hx_data);
  putch(' ');
  putdec(HX_MAX_PAGES);
  putch(' ');
  puthex((unsigned long)hx_shinfo);
  putch(' ');
  puthex(HX_UNMAPPED);
  putch(' ');
  putdec(si->nr_pages);
  end();

  dom0_pages = reservation(DOMID_SELF);
  dom0_grant_frames = grant_frames(DOMID_SELF);
  struct reader r = { (const u8 *)si->mod_start, (const u8 *)si->mod_start + si->mod_len };
  u32 head[4];
  u32 ran = 0;
  if (!si->mod_start || take(&r, head, sizeof(head)) || head[0] != HX_MAGIC || head[1] != HX_VERSION || head[3] > si->mod_len) {
    fail(0, 0, "no-program-module");
  } else {
    r.end = (const u8 *)si->mod_start + head[3];
    for (; ran < head[2]; ran++) {
      if (run_program(&r)) {
        fail(ran, 0, "malformed-module");
        break;
      }
      if (!tainted && reservation(DOMID_SELF) != dom0_pages) tainted = "dom0-pages-changed";
      if (!tainted && grant_frames(DOMID_SELF) != dom0_grant_frames) tainted = "grant-table-grown";
      if (tainted) {
        begin('T', ran);
        putch(' ');
        puts_(tainted);
        end();
        ran++;
        break;
      }
      reset();
    }
  }
  begin('Z', ran);
  end();
  struct sched_shutdown sd = { .reason = SHUTDOWN_poweroff };
  for (;;) hyperabi_sched_op_SCHEDOP_shutdown(&sd);
}
