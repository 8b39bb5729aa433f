/*
 * A second domain for the live kernel (included by kernel.c, whose helpers it uses).
 *
 * dom0 side: the kernel builds domain 1, an unprivileged 64-bit PV domain running this same
 * image, the way a toolstack does (XEN_DOMCTL_createdomain, max_vcpus, max_mem; its memory
 * populated with XENMEM_populate_physmap on the new domain; the image, a start_info page, a
 * p2m page and four page-table frames written through a foreign mapping; the L4 pinned; the
 * hypercall page initialised; vCPU 0's context set; unpause). It then hands domain 1 the
 * instructions of a program that are domain 1's, through a mailbox page in domain 1's image
 * that dom0 maps: dom0 writes a request and yields until domain 1 has answered.
 *
 * domain 1 side: kmain (kernel.c) sets up as for dom0 (shared_info, windows, reset()) and,
 * seeing no SIF_INITDOMAIN in its start_info, serves the mailbox for good: writes, reads and
 * hypercalls in its own address space, and the kernel's reset() between programs.
 *
 * Operands are resolved by dom0: a frame of domain 1 comes from the p2m dom0 built, a load
 * from domain 1's memory is a read through the mailbox.
 *
 * The domctl layouts and command numbers are toolstack facts of Xen 4.17
 * (xen/include/public/domctl.h, interface version 0x15): the spec does not describe the
 * per-command domctl union, so they are named here, like the ELF notes of boot.S.
 */

#define DOMCTL_INTERFACE_VERSION 0x15
#define DOMCTL_createdomain 1
#define DOMCTL_destroydomain 2
#define DOMCTL_unpausedomain 4
#define DOMCTL_getdomaininfo 5
#define DOMCTL_max_mem 11
#define DOMCTL_setvcpucontext 12
#define DOMCTL_max_vcpus 15
#define DOMCTL_hypercall_init 22
/* xen_domctl_createdomain.grant_opts: the highest grant-table version the domain may use (low 4 bits). */
#define DOMCTL_GRANT_version(v) ((v) & 0xf)
/* x86 debug registers at reset (hardware facts; the toolstack starts a vCPU with them). */
#define DR6_DEFAULT 0xffff0ff0ull
#define DR7_DEFAULT 0x400ull
/* RFLAGS.IF (hardware fact). */
#define RFLAGS_IF 0x200ull

/* The kernel's own choices. */
#define DOMU_ID 1
/* How long dom0 waits for domain 1 to answer a request (ns of Xen's clock). */
#define DOMU_TIMEOUT_NS 2000000000ull
/* The longest read of domain 1's memory a program may make (bytes). */
#define DOMU_READ_MAX (4 * HX_PAGE_SIZE)
/* What domain 1 writes into the mailbox once it serves it. */
#define DOMU_READY 0x55444d48u /* "HMDU" */

struct domctl {
  u32 cmd;
  u32 interface_version;
  uint16_t domain;
  uint16_t pad[3];
  union {
    struct {
      u32 ssidref;
      u8 handle[16];
      u32 flags;
      u32 iommu_opts;
      u32 max_vcpus;
      u32 max_evtchn_port;
      int32_t max_grant_frames;
      int32_t max_maptrack_frames;
      u32 grant_opts;
      u32 vmtrace_size;
      u32 cpupool_id;
      u32 emulation_flags;
      u32 misc_flags;
    } createdomain;
    struct {
      uint16_t domain;
      uint16_t pad1;
      u32 flags;
      u64 tot_pages, max_pages, outstanding_pages, shr_pages, paged_pages;
      u64 shared_info_frame;
    } getdomaininfo;
    struct {
      u64 max_memkb;
    } max_mem;
    struct {
      u32 max;
    } max_vcpus;
    struct {
      u32 vcpu;
      u32 pad;
      u64 ctxt;
    } vcpucontext;
    struct {
      u64 gmfn;
    } hypercall_init;
    u8 raw[256];
  } u;
};

/* The mailbox: one page of domain 1's image. */
enum { MB_BEGIN = 1, MB_WRITE, MB_READ, MB_CALL, MB_RESET };
struct mbox {
  volatile u32 ready;
  volatile u32 req;
  volatile u32 ack;
  u32 cmd;
  int32_t status;
  u32 pad;
  u64 addr;
  u64 len;
  u64 regs[HX_CALL_REGS];
  u64 result;
  /* MB_CALL: the call changed domain 1 for good (changes_for_good(), judged where its memory is). */
  u64 stale;
};
#define MB_DATA (HX_PAGE_SIZE - sizeof(struct mbox))

/* Domain 1's mailbox (in its image), the page where dom0 maps it, and a window for the build. */
u8 hx_mbox[HX_PAGE_SIZE] __attribute__((aligned(HX_PAGE_SIZE)));
u8 hx_domu_mbox[HX_PAGE_SIZE] __attribute__((aligned(HX_PAGE_SIZE)));
u8 hx_domu_window[HX_PAGE_SIZE] __attribute__((aligned(HX_PAGE_SIZE)));

extern char _start[], hypercall_page[], hx_stack_top[], hx_bss_start[], hx_image_end[];

#define DOMU_MAX_PAGES (HX_PAGE_SIZE / 8)
static unsigned long domu_p2m[DOMU_MAX_PAGES];
static unsigned long domu_nr_pages;
static unsigned long domu_shinfo_mfn;
/* 0: not built; 1: serving; -1: broken (why in domu_broken), -2: cannot be built. */
static int domu_state;
/* The max_evtchn_port domain 1 was created with (fixed at creation). */
static u32 domu_max_port;
static const char *domu_broken;
/* A call of domain 1 changed it for good (kernel.c taints()): the next program gets a new domain 1. */
static int domu_stale;
/* Domain 1's grant-table frames once built: a program that grew the table leaves it stale. */
static long domu_grant_frames;
static u32 domu_seq;
static u32 domu_pages;
static vcpu_guest_context_t domu_ctx;

static void barrier(void)
{
  __asm__ volatile("" ::: "memory");
}

static long domctl(struct domctl *d, u32 cmd)
{
  d->cmd = cmd;
  d->interface_version = DOMCTL_INTERFACE_VERSION;
  d->domain = DOMU_ID;
  return hyperabi_domctl(d);
}

static long map_foreign(void *va, unsigned long mfn)
{
  return hyperabi_update_va_mapping_otherdomain((unsigned long)va, ((u64)mfn << 12) | PTE_DATA, UVMF_INVLPG, DOMU_ID);
}

/* Writes one page of domain 1 (len bytes of src, zeros after). */
static long domu_fill(unsigned long pfn, const void *src, u64 len)
{
  long rc = map_foreign(hx_domu_window, domu_p2m[pfn]);
  if (rc) return rc;
  memset(hx_domu_window, 0, HX_PAGE_SIZE);
  if (len) memcpy(hx_domu_window, src, len);
  map_va((unsigned long)hx_domu_window, 0);
  return 0;
}

#define VA_INDEX(va, level) ((((u64)(va)) >> (12 + 9 * (level))) & 511)

/* Builds domain 1 and waits until it serves its mailbox. Returns why it failed, or 0. */
static const char *domu_build(u32 max_port)
{
  static struct domctl d;
  unsigned long img = ((unsigned long)hx_image_end - HX_VIRT_BASE + HX_PAGE_SIZE - 1) / HX_PAGE_SIZE;
  unsigned long copied = (unsigned long)hx_bss_start - HX_VIRT_BASE;
  /* pfns: the image, start_info, the p2m, then L4, L3, L2, L1 (mapped nowhere in domain 1). */
  unsigned long si_pfn = img, p2m_pfn = img + 1, pt_pfn = img + 2;
  unsigned long n = img + 6;
  if (n > DOMU_MAX_PAGES || p2m_pfn >= 512) return "domain-1-image-too-large";

  /* A domain 1 destroyed just before goes away once its last reference is dropped: until then its id is taken. */
  u64 until = system_time() + DOMU_TIMEOUT_NS;
  for (;;) {
    memset(&d, 0, sizeof(d));
    d.u.createdomain.max_vcpus = 1;
    d.u.createdomain.max_evtchn_port = max_port;
    d.u.createdomain.max_grant_frames = -1;
    d.u.createdomain.max_maptrack_frames = -1;
    d.u.createdomain.grant_opts = DOMCTL_GRANT_version(2);
    long rc = domctl(&d, DOMCTL_createdomain);
    if (!rc) break;
    if (rc != -XEN_EEXIST || system_time() > until) return "domain-1-createdomain-failed";
    hyperabi_sched_op_SCHEDOP_yield();
  }
  domu_max_port = max_port;
  memset(&d.u, 0, sizeof(d.u));
  d.u.max_vcpus.max = 1;
  if (domctl(&d, DOMCTL_max_vcpus)) return "domain-1-max-vcpus-failed";
  memset(&d.u, 0, sizeof(d.u));
  d.u.max_mem.max_memkb = (u64)(n + HX_DOMU_SLACK_PAGES) * (HX_PAGE_SIZE / 1024);
  if (domctl(&d, DOMCTL_max_mem)) return "domain-1-max-mem-failed";

  for (unsigned long i = 0; i < n; i++) domu_p2m[i] = i;
  struct xen_memory_reservation r = { .nr_extents = n, .extent_order = 0, .domid = DOMU_ID };
  r.extent_start.p = (xen_pfn_t *)domu_p2m;
  if (hyperabi_memory_op_XENMEM_populate_physmap(&r) != (long)n) return "domain-1-populate-physmap-failed";
  domu_nr_pages = n;

  memset(&d.u, 0, sizeof(d.u));
  if (domctl(&d, DOMCTL_getdomaininfo)) return "domain-1-getdomaininfo-failed";
  domu_shinfo_mfn = d.u.getdomaininfo.shared_info_frame;

  /* The image: what the kernel was loaded with up to its .bss, zeros after. */
  for (unsigned long p = 0; p < img; p++) {
    u64 off = (u64)p * HX_PAGE_SIZE;
    u64 len = off >= copied ? 0 : (copied - off < HX_PAGE_SIZE ? copied - off : HX_PAGE_SIZE);
    if (domu_fill(p, (const void *)(unsigned long)(HX_VIRT_BASE + off), len)) return "domain-1-image-copy-failed";
  }

  /* start_info. */
  static start_info_t si;
  memset(&si, 0, sizeof(si));
  static const char magic[] = "xen-3.0-x86_64";
  memcpy(si.magic, magic, sizeof(magic));
  si.nr_pages = n;
  si.shared_info = domu_shinfo_mfn << 12;
  si.flags = 0;
  si.pt_base = HX_VIRT_BASE + pt_pfn * HX_PAGE_SIZE;
  si.nr_pt_frames = 4;
  si.mfn_list = HX_VIRT_BASE + p2m_pfn * HX_PAGE_SIZE;
  if (domu_fill(si_pfn, &si, sizeof(si))) return "domain-1-start-info-failed";
  if (domu_fill(p2m_pfn, domu_p2m, n * sizeof(domu_p2m[0]))) return "domain-1-p2m-failed";

  /* Page tables: L4 -> L3 -> L2 -> L1 mapping the image, start_info and the p2m at HX_VIRT_BASE. */
  static u64 table[512];
  for (int level = 3; level >= 0; level--) {
    unsigned long pfn = pt_pfn + (unsigned long)(3 - level);
    memset(table, 0, sizeof(table));
    if (level > 0) {
      table[VA_INDEX(HX_VIRT_BASE, level)] = ((u64)domu_p2m[pfn + 1] << 12) | PTE_DATA;
    } else {
      for (unsigned long p = 0; p <= p2m_pfn; p++) table[VA_INDEX(HX_VIRT_BASE, 0) + p] = ((u64)domu_p2m[p] << 12) | PTE_DATA;
    }
    if (domu_fill(pfn, table, sizeof(table))) return "domain-1-page-table-write-failed";
  }
  struct mmuext_op pin = { .cmd = MMUEXT_PIN_L4_TABLE, .arg1 = { .mfn = domu_p2m[pt_pfn] } };
  if (hyperabi_mmuext_op(&pin, 1, NULL, DOMU_ID)) return "domain-1-pin-l4-failed";

  memset(&d.u, 0, sizeof(d.u));
  d.u.hypercall_init.gmfn = domu_p2m[((unsigned long)hypercall_page - HX_VIRT_BASE) >> 12];
  if (domctl(&d, DOMCTL_hypercall_init)) return "domain-1-hypercall-init-failed";

  /* Event upcalls masked on every vCPU slot of shared_info, as a toolstack leaves them. */
  if (map_foreign(hx_domu_window, domu_shinfo_mfn)) return "domain-1-shared-info-map-failed";
  shared_info_t *s = (shared_info_t *)hx_domu_window;
  for (unsigned int v = 0; v < sizeof(s->vcpu_info) / sizeof(s->vcpu_info[0]); v++) s->vcpu_info[v].evtchn_upcall_mask = 1;
  map_va((unsigned long)hx_domu_window, 0);

  /* The mailbox, mapped in dom0 for good. */
  unsigned long mb_pfn = ((unsigned long)hx_mbox - HX_VIRT_BASE) >> 12;
  if (map_foreign(hx_domu_mbox, domu_p2m[mb_pfn])) return "domain-1-mailbox-map-failed";

  memset(&domu_ctx, 0, sizeof(domu_ctx));
  domu_ctx.flags = VGCF_in_kernel | VGCF_online;
  domu_ctx.user_regs.rip = (unsigned long)_start;
  domu_ctx.user_regs.rsp = (unsigned long)hx_stack_top;
  domu_ctx.user_regs.rsi = HX_VIRT_BASE + si_pfn * HX_PAGE_SIZE;
  domu_ctx.user_regs.rflags = RFLAGS_IF;
  domu_ctx.user_regs.cs = FLAT_KERNEL_CS;
  domu_ctx.user_regs.ss = FLAT_KERNEL_SS;
  domu_ctx.user_regs.ds = domu_ctx.user_regs.es = domu_ctx.user_regs.fs = domu_ctx.user_regs.gs = FLAT_KERNEL_DS;
  domu_ctx.kernel_ss = FLAT_KERNEL_SS;
  domu_ctx.kernel_sp = (unsigned long)hx_stack_top;
  domu_ctx.ctrlreg[3] = (u64)domu_p2m[pt_pfn] << 12;
  domu_ctx.debugreg[6] = DR6_DEFAULT;
  domu_ctx.debugreg[7] = DR7_DEFAULT;
  memset(&d.u, 0, sizeof(d.u));
  d.u.vcpucontext.vcpu = 0;
  d.u.vcpucontext.ctxt = (u64)(unsigned long)&domu_ctx;
  if (domctl(&d, DOMCTL_setvcpucontext)) return "domain-1-setvcpucontext-failed";
  memset(&d.u, 0, sizeof(d.u));
  if (domctl(&d, DOMCTL_unpausedomain)) return "domain-1-unpause-failed";

  volatile struct mbox *m = (volatile struct mbox *)hx_domu_mbox;
  until = system_time() + DOMU_TIMEOUT_NS;
  while (m->ready != DOMU_READY) {
    if (system_time() > until) return "domain-1-never-started";
    hyperabi_sched_op_SCHEDOP_yield();
  }
  domu_seq = m->ack;
  domu_grant_frames = grant_frames(DOMU_ID);
  return 0;
}

/* One request to domain 1: 0 once it answered, or why not (domain 1 is then given up). */
static const char *domu_request(void)
{
  volatile struct mbox *m = (volatile struct mbox *)hx_domu_mbox;
  if (domu_state != 1) return domu_broken ? domu_broken : "domain-1-not-built";
  barrier();
  m->req = ++domu_seq;
  u64 until = system_time() + DOMU_TIMEOUT_NS;
  while (m->ack != domu_seq) {
    if (system_time() > until) {
      domu_state = -1;
      domu_broken = "domain-1-stopped-answering";
      return domu_broken;
    }
    hyperabi_sched_op_SCHEDOP_yield();
  }
  barrier();
  return 0;
}

/* Destroys domain 1 (dom0's mapping of its mailbox first, which holds a reference to it). */
static void domu_destroy(void)
{
  static struct domctl d;
  map_va((unsigned long)hx_domu_mbox, 0);
  memset(&d, 0, sizeof(d));
  domctl(&d, DOMCTL_destroydomain);
  domu_state = 0;
  domu_broken = 0;
  domu_stale = 0;
}

/*
 * A program of dom0 and domain 1 starts: domain 1 exists with that many data pages. It is
 * built on first use, and built again when the program wants another max_evtchn_port (fixed
 * at creation), when the one before stopped answering, or when a call of domain 1 changed it
 * for good (what ends the boot when dom0 does it: kernel.c taints()).
 */
static const char *domu_begin(u32 pages, u32 max_port)
{
  if (domu_state == -1 || (domu_state == 1 && (domu_max_port != max_port || domu_stale))) domu_destroy();
  if (domu_state == 0) {
    const char *why = domu_build(max_port);
    domu_state = why ? -2 : 1;
    domu_broken = why;
    if (why) return why;
  }
  struct mbox *m = (struct mbox *)hx_domu_mbox;
  if (domu_state != 1) return domu_broken;
  m->cmd = MB_BEGIN;
  m->len = pages;
  domu_pages = pages;
  return domu_request();
}

static void domu_end(void)
{
  struct mbox *m = (struct mbox *)hx_domu_mbox;
  if (domu_state != 1) return;
  /* Pages populated or given back: reset() cannot undo that, the next program gets a new domain 1. */
  if (reservation(DOMU_ID) != (long)domu_nr_pages || grant_frames(DOMU_ID) != domu_grant_frames) domu_stale = 1;
  m->cmd = MB_RESET;
  domu_request();
}

/* Writes (or, `store`, stores) into domain 1's memory: 0, or why not (the reasons of poke()). */
static const char *domu_write(u64 addr, const u8 *src, u64 len, int store)
{
  struct mbox *m = (struct mbox *)hx_domu_mbox;
  u8 *data = (u8 *)(m + 1);
  do {
    u64 n = len < MB_DATA ? len : MB_DATA;
    m->cmd = MB_WRITE;
    m->addr = addr;
    m->len = n;
    memcpy(data, src, n);
    const char *why = domu_request();
    if (why) return why;
    if (m->status == -1) return store ? "store-outside-mapped-memory" : "write-outside-mapped-memory";
    if (m->status) return store ? "store-to-a-page-table-page" : "write-to-a-page-table-page";
    addr += n;
    src += n;
    len -= n;
  } while (len);
  return 0;
}

/* Reads domain 1's memory; *fault when it does not map it. 0, or why domain 1 did not answer. */
static const char *domu_read(u64 addr, u8 *dst, u64 len, int *fault)
{
  struct mbox *m = (struct mbox *)hx_domu_mbox;
  const u8 *data = (const u8 *)(m + 1);
  *fault = 0;
  do {
    u64 n = len < MB_DATA ? len : MB_DATA;
    m->cmd = MB_READ;
    m->addr = addr;
    m->len = n;
    const char *why = domu_request();
    if (why) return why;
    if (m->status) {
      *fault = 1;
      return 0;
    }
    memcpy(dst, data, n);
    addr += n;
    dst += n;
    len -= n;
  } while (len);
  return 0;
}

/* A read instruction of domain 1: prints its `M` line (bytes or fault), or returns why it could not. */
static const char *domu_print_read(u32 prog, u32 k, u64 addr, u32 len)
{
  static u8 buf[DOMU_READ_MAX];
  int fault = 0;
  if (len > sizeof(buf)) return "read-of-domain-1-too-long";
  const char *why = domu_read(addr, buf, len, &fault);
  if (why) return why;
  begin('M', prog);
  putch(' ');
  putdec(k);
  putch(' ');
  if (fault) puts_("fault");
  else
    for (u32 i = 0; i < len; i++) putbyte(buf[i]);
  end();
  return 0;
}

static const char *domu_call(const u64 regs[HX_CALL_REGS], u64 *result)
{
  struct mbox *m = (struct mbox *)hx_domu_mbox;
  m->cmd = MB_CALL;
  for (unsigned int i = 0; i < HX_CALL_REGS; i++) m->regs[i] = regs[i];
  const char *why = domu_request();
  if (!why) {
    *result = m->result;
    if (m->stale) domu_stale = 1;
  }
  return why;
}

/* The machine frame of page `page` of domain 1's data area (the page after it: shared_info). */
static const char *domu_frame(u32 page, u64 *mfn)
{
  if (domu_state != 1) return domu_broken ? domu_broken : "domain-1-not-built";
  if (page < domu_pages) *mfn = domu_p2m[data_pfn0 + page];
  else if (page == domu_pages) *mfn = domu_shinfo_mfn;
  else return "frame-beyond-data-area";
  return 0;
}

/* ───────────── domain 1: serve the mailbox for good ───────────── */

static void domu_serve(void)
{
  struct mbox *m = (struct mbox *)hx_mbox;
  u8 *data = (u8 *)(m + 1);
  u32 seen = m->ack;
  barrier();
  m->ready = DOMU_READY;
  for (;;) {
    while (m->req == seen) hyperabi_sched_op_SCHEDOP_yield();
    seen = m->req;
    barrier();
    m->status = 0;
    switch (m->cmd) {
    case MB_BEGIN:
      prog_pages = m->len > HX_MAX_PAGES ? HX_MAX_PAGES : (u32)m->len;
      break;
    case MB_WRITE:
      m->status = poke(m->addr, data, m->len);
      break;
    case MB_READ:
      if (m->len > MB_DATA || !region(m->addr, m->len)) m->status = -1;
      else memcpy(data, (const void *)(unsigned long)m->addr, m->len);
      break;
    case MB_CALL:
      m->result = (u64)hx_hypercall(m->regs);
      m->stale = changes_for_good(m->regs, m->result, 1) != 0;
      break;
    case MB_RESET:
      reset();
      break;
    default:
      m->status = -3;
    }
    if (gnt_mapped || gnt_status_mapped) grant_unmap_windows();
    barrier();
    m->ack = seen;
  }
}
