/*
 * hyperabi example testee in C: a small Xen-compatible hypervisor model that speaks the
 * testee protocol (docs/protocol.md) on stdin and stdout, to show a non-TypeScript
 * implementation certified end to end.
 *
 * Hypercalls reach it through the GENERATED dispatch (hyperabi_xen_dispatch.c, from
 * `hyperabi generate c-dispatch --abi x86_64-pv`): the dispatch decodes the registers,
 * selects the sub-operation and calls the handlers below; every handler this file does not
 * define is the generated weak default, -ENOSYS. Constants, struct layouts and errno values
 * all come from the generated headers.
 *
 * It implements x86_64-pv domains only, and declares its subset in its hello: most of
 * xen_version, console_io's write, and the 2-level event channels between domains
 * (alloc_unbound, bind_interdomain, bind_ipi, send, close, status, unmask), with pending,
 * mask and selector bits in each domain's shared_info page, following Xen 4.17's
 * xen/common/event_channel.c, event_2l.c, kernel.c and drivers/char/console.c.
 *
 * Each domain's guest address space has the data area at DATA_BASE and the shared_info page
 * at SHARED_BASE; everything else faults (-EFAULT for hypercalls, `fault` for reads).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hyperabi_xen.h"
#include "hyperabi_xen_dispatch.h"

#define TESTEE_NAME "hyperabi-c-testee"
#define PROTOCOL "hyperabi-testee"
#define PROTOCOL_VERSION 1

/* What this testee claims: the operation ids it implements. */
static const char *const IMPLEMENTED =
    "xen_version$XENVER_version,xen_version$XENVER_extraversion,xen_version$XENVER_compile_info,"
    "xen_version$XENVER_capabilities,xen_version$XENVER_changeset,xen_version$XENVER_platform_parameters,"
    "xen_version$XENVER_get_features,xen_version$XENVER_pagesize,xen_version$XENVER_guest_handle,"
    "console_io$CONSOLEIO_write,"
    "event_channel_op$EVTCHNOP_alloc_unbound,event_channel_op$EVTCHNOP_bind_interdomain,"
    "event_channel_op$EVTCHNOP_bind_ipi,event_channel_op$EVTCHNOP_send,event_channel_op$EVTCHNOP_close,"
    "event_channel_op$EVTCHNOP_status,event_channel_op$EVTCHNOP_unmask";

/* This implementation's identity, as XENVER_* reports it: a Xen 4.17-compatible model. */
#define IMPL_MAJOR 4
#define IMPL_MINOR 17
#define IMPL_EXTRAVERSION ".0-c-testee"
#define IMPL_CAPABILITIES "xen-3.0-x86_64"
#define IMPL_CHANGESET "hyperabi example testee"

/* The guest address space of every domain. */
#define PAGE_BYTES 4096u
#define SHARED_BASE 0x1000ull
#define DATA_BASE 0x400000ull
#define UNMAPPED 0xdead00000000ull
/* Machine frames: page p of domain slot s is frame FRAME_BASE * (s + 1) + p. */
#define FRAME_BASE 0x100000ull

#define MAX_DOMAINS 64
/* Ports become valid (operations may look at them) in buckets of this many, as in Xen 4.17 x86_64. */
#define PORTS_PER_BUCKET 64u
/* A domain's port limit when the machine does not say (the toolstack's default, 1023). */
#define DEFAULT_MAX_PORT 1023u

/* Xen's internal port states (ECS_*). */
enum port_state { ECS_FREE, ECS_RESERVED, ECS_UNBOUND, ECS_INTERDOMAIN, ECS_PIRQ, ECS_VIRQ, ECS_IPI };

struct port {
    uint8_t state;
    uint16_t remote_dom;  /* unbound: who may bind; interdomain: the peer */
    uint32_t remote_port; /* interdomain: the peer's port */
    uint32_t notify_vcpu;
};

struct domain {
    uint16_t id;
    int privileged;
    uint32_t vcpus;
    uint64_t pages;
    uint8_t *mem;
    uint8_t shared[PAGE_BYTES] __attribute__((aligned(64)));
    uint32_t max_port; /* highest port it may use */
    uint32_t valid;    /* ports below this have a bucket */
    struct port *ports;
};

static struct domain *domains[MAX_DOMAINS];
static unsigned ndomains;

struct hyperabi_ctx {
    struct domain *d;
    uint32_t vcpu;
};

/* ───────────────────────────── output ───────────────────────────── */

static char *out;
static size_t out_len, out_cap;

static void out_flush(void) {
    size_t done = 0;
    while (done < out_len) {
        ssize_t n = write(1, out + done, out_len - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            exit(0); /* the harness went away */
        }
        done += (size_t)n;
    }
    out_len = 0;
}

static void out_reserve(size_t n) {
    if (out_len + n <= out_cap) return;
    while (out_len + n > out_cap) out_cap = out_cap ? out_cap * 2 : 1 << 16;
    out = realloc(out, out_cap);
    if (!out) abort();
}

static void out_str(const char *s) {
    size_t n = strlen(s);
    out_reserve(n);
    memcpy(out + out_len, s, n);
    out_len += n;
}

static void out_u64(uint64_t v, int hex) {
    char buf[24];
    int i = sizeof buf;
    do {
        buf[--i] = "0123456789abcdef"[hex ? v & 15 : v % 10];
        v = hex ? v >> 4 : v / 10;
    } while (v);
    out_reserve(sizeof buf + 2);
    if (hex) {
        out[out_len++] = '0';
        out[out_len++] = 'x';
    }
    memcpy(out + out_len, buf + i, sizeof buf - (size_t)i);
    out_len += sizeof buf - (size_t)i;
}

static int out_seq(uint64_t seq, const char *kind) {
    out_u64(seq, 0);
    out_str(" ");
    out_str(kind);
    return 0;
}

static int reply_error(uint64_t seq, const char *code, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20) *p = ' ';
    out_seq(seq, "error ");
    out_str(code);
    out_str(" ");
    out_str(msg[0] ? msg : "-");
    out_str("\n");
    return 0;
}

/* ───────────────────────────── parsing ───────────────────────────── */

/* Parses an unsigned integer (decimal or 0x hex) of exactly [s, end); 0 when it is not one. */
static int parse_uint(const char *s, const char *end, uint64_t *v) {
    uint64_t x = 0;
    if (s >= end) return 0;
    if (end - s > 2 && s[0] == '0' && s[1] == 'x') {
        s += 2;
        if (end - s > 16) return 0;
        for (; s < end; s++) {
            int c = *s, d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (d < 0) return 0;
            x = x << 4 | (uint64_t)d;
        }
    } else {
        for (; s < end; s++) {
            if (*s < '0' || *s > '9') return 0;
            uint64_t nx = x * 10 + (uint64_t)(*s - '0');
            if (nx / 10 != x) return 0;
            x = nx;
        }
    }
    *v = x;
    return 1;
}

static int parse_sint(const char *s, const char *end, uint64_t *v) {
    if (s < end && *s == '-') {
        if (!parse_uint(s + 1, end, v)) return 0;
        *v = (uint64_t)0 - *v;
        return 1;
    }
    return parse_uint(s, end, v);
}

static int parse_u32(const char *s, uint64_t *v) {
    return parse_uint(s, s + strlen(s), v) && *v <= 0xffffffffu;
}

static struct domain *find_domain(uint64_t id) {
    for (unsigned i = 0; i < ndomains; i++)
        if (domains[i]->id == id) return domains[i];
    return NULL;
}

static unsigned slot_of(const struct domain *d) {
    for (unsigned i = 0; i < ndomains; i++)
        if (domains[i] == d) return i;
    return 0;
}

/* A pointer to len bytes at guest address ga of d, or NULL when they are not all mapped. */
static uint8_t *guest(struct domain *d, uint64_t ga, uint64_t len) {
    uint64_t data = d->pages * PAGE_BYTES;
    if (ga >= DATA_BASE && len <= data && ga - DATA_BASE <= data - len) return d->mem + (ga - DATA_BASE);
    if (ga >= SHARED_BASE && len <= PAGE_BYTES && ga - SHARED_BASE <= PAGE_BYTES - len) return d->shared + (ga - SHARED_BASE);
    return NULL;
}

/*
 * Resolves an operand token: an integer, frame(dom:page)[<<shift][|or] or
 * loadN(dom:addr)[+add][|or]. Returns NULL or an error message.
 */
static const char *operand(const char *s, uint64_t *v) {
    const char *end = s + strlen(s);
    if (*s == '-' || (*s >= '0' && *s <= '9')) return parse_sint(s, end, v) ? NULL : "not an integer";
    uint64_t a, b, x;
    const char *p;
    if (!strncmp(s, "frame(", 6)) {
        const char *colon = strchr(s, ':'), *close = strchr(s, ')');
        if (!colon || !close || colon > close || !parse_uint(s + 6, colon, &a) || !parse_uint(colon + 1, close, &b)) return "bad frame()";
        struct domain *d = find_domain(a);
        if (!d) return "frame() of a domain the machine does not have";
        if (b >= d->pages) return "frame() of a page beyond the data area";
        x = FRAME_BASE * (slot_of(d) + 1) + b;
        p = close + 1;
        if (!strncmp(p, "<<", 2)) {
            const char *q = p + 2;
            while (*q >= '0' && *q <= '9') q++;
            uint64_t sh;
            if (!parse_uint(p + 2, q, &sh) || sh > 63) return "bad shift";
            x <<= sh;
            p = q;
        }
        if (*p == '|') {
            if (!parse_sint(p + 1, end, &b)) return "bad |";
            x |= b;
        } else if (*p) return "junk after frame()";
        *v = x;
        return NULL;
    }
    if (!strncmp(s, "load", 4)) {
        char *q;
        unsigned long bits = strtoul(s + 4, &q, 10);
        if ((bits != 8 && bits != 16 && bits != 32 && bits != 64) || *q != '(') return "bad load size";
        const char *colon = strchr(q, ':'), *close = strchr(q, ')');
        if (!colon || !close || colon > close || !parse_uint(q + 1, colon, &a) || !parse_uint(colon + 1, close, &b)) return "bad load()";
        struct domain *d = find_domain(a);
        if (!d) return "load() from a domain the machine does not have";
        uint8_t *m = guest(d, b, bits / 8);
        if (!m) return "load() from an address the domain does not map";
        x = 0;
        for (unsigned long k = bits / 8; k-- > 0;) x = x << 8 | m[k];
        p = close + 1;
        if (*p == '+') {
            const char *q2 = strchr(p, '|');
            if (!q2) q2 = end;
            if (!parse_sint(p + 1, q2, &b)) return "bad +";
            x += b;
            p = q2;
        }
        if (*p == '|') {
            if (!parse_sint(p + 1, end, &b)) return "bad |";
            x |= b;
        } else if (*p) return "junk after load()";
        *v = x;
        return NULL;
    }
    return "not an operand";
}

/* ───────────────────────────── guest copies ───────────────────────────── */

static int copy_from_guest(struct domain *d, void *dst, uint64_t ga, size_t n) {
    uint8_t *p = guest(d, ga, n);
    if (!p) return -XEN_EFAULT;
    memcpy(dst, p, n);
    return 0;
}

static int copy_to_guest(struct domain *d, uint64_t ga, const void *src, size_t n) {
    uint8_t *p = guest(d, ga, n);
    if (!p) return -XEN_EFAULT;
    memcpy(p, src, n);
    return 0;
}

/* ───────────────────────────── xen_version ───────────────────────────── */

#define H(name) hyperabi_xen_handle_x86_64_pv__##name

int64_t H(xen_version__XENVER_version)(struct hyperabi_ctx *ctx, int32_t cmd, hyperabi_gaddr_t arg) {
    (void)ctx, (void)cmd, (void)arg;
    return IMPL_MAJOR << 16 | IMPL_MINOR;
}

/* Copies a string into a zeroed buffer of n bytes (NUL-terminated, truncated) and out to the guest. */
static int64_t put_string(struct domain *d, uint64_t ga, const char *s, size_t n) {
    char buf[XEN_CAPABILITIES_INFO_LEN];
    if (n > sizeof buf) abort();
    memset(buf, 0, n);
    strncpy(buf, s, n - 1);
    return copy_to_guest(d, ga, buf, n);
}

int64_t H(xen_version__XENVER_extraversion)(struct hyperabi_ctx *ctx, int32_t cmd, hyperabi_gaddr_t arg) {
    (void)cmd;
    return put_string(ctx->d, arg, IMPL_EXTRAVERSION, sizeof(xen_extraversion_t));
}

int64_t H(xen_version__XENVER_compile_info)(struct hyperabi_ctx *ctx, int32_t cmd, hyperabi_gaddr_t arg) {
    (void)cmd;
    struct xen_compile_info info;
    memset(&info, 0, sizeof info);
    strncpy(info.compiler, "gcc " __VERSION__, sizeof info.compiler - 1);
    strncpy(info.compile_by, "hyperabi", sizeof info.compile_by - 1);
    strncpy(info.compile_domain, "example.invalid", sizeof info.compile_domain - 1);
    strncpy(info.compile_date, __DATE__, sizeof info.compile_date - 1);
    return copy_to_guest(ctx->d, arg, &info, sizeof info);
}

int64_t H(xen_version__XENVER_capabilities)(struct hyperabi_ctx *ctx, int32_t cmd, hyperabi_gaddr_t arg) {
    (void)cmd;
    return put_string(ctx->d, arg, IMPL_CAPABILITIES, sizeof(xen_capabilities_info_t));
}

int64_t H(xen_version__XENVER_changeset)(struct hyperabi_ctx *ctx, int32_t cmd, hyperabi_gaddr_t arg) {
    (void)cmd;
    return put_string(ctx->d, arg, IMPL_CHANGESET, sizeof(xen_changeset_info_t));
}

int64_t H(xen_version__XENVER_platform_parameters)(struct hyperabi_ctx *ctx, int32_t cmd, hyperabi_gaddr_t arg) {
    (void)cmd;
    struct xen_platform_parameters p = { .virt_start = HYPERVISOR_VIRT_START };
    return copy_to_guest(ctx->d, arg, &p, sizeof p);
}

int64_t H(xen_version__XENVER_get_features)(struct hyperabi_ctx *ctx, int32_t cmd, hyperabi_gaddr_t arg) {
    (void)cmd;
    struct xen_feature_info fi;
    if (copy_from_guest(ctx->d, &fi, arg, sizeof fi)) return -XEN_EFAULT;
    if (fi.submap_idx != 0) return -XEN_EINVAL;
    /* A 64-bit PV domain: not translated, so direct-mapped page tables the guest writes through Xen. */
    fi.submap = 1u << XENFEAT_memory_op_vnode_supported | 1u << XENFEAT_mmu_pt_update_preserve_ad | 1u << XENFEAT_highmem_assist |
                1u << XENFEAT_gnttab_map_avail_bits | 1u << XENFEAT_direct_mapped;
    if (ctx->d->privileged) fi.submap |= 1u << XENFEAT_dom0;
    return copy_to_guest(ctx->d, arg, &fi, sizeof fi);
}

int64_t H(xen_version__XENVER_pagesize)(struct hyperabi_ctx *ctx, int32_t cmd, hyperabi_gaddr_t arg) {
    (void)ctx, (void)cmd;
    return arg != 0 ? -XEN_EINVAL : (int64_t)PAGE_BYTES;
}

int64_t H(xen_version__XENVER_guest_handle)(struct hyperabi_ctx *ctx, int32_t cmd, hyperabi_gaddr_t arg) {
    (void)cmd;
    xen_domain_handle_t h;
    memset(h, 0, sizeof h); /* no toolstack here: every domain's handle is all zero */
    return copy_to_guest(ctx->d, arg, h, sizeof h);
}

/* ───────────────────────────── console_io ───────────────────────────── */

int64_t H(console_io__CONSOLEIO_write)(struct hyperabi_ctx *ctx, uint32_t cmd, uint32_t count, hyperabi_gaddr_t buffer) {
    (void)cmd;
    if (!ctx->d->privileged) return -XEN_EPERM;
    /* The text goes to stderr, one line per write (its first 256 bytes, non-printable ones as '?'). */
    char chunk[256];
    uint64_t at = buffer;
    uint32_t total = count;
    fprintf(stderr, "console d%u: ", ctx->d->id);
    while (count > 0) {
        uint32_t n = count < sizeof chunk ? count : (uint32_t)sizeof chunk;
        if (copy_from_guest(ctx->d, chunk, at, n)) {
            fputs(" [fault]\n", stderr);
            return -XEN_EFAULT;
        }
        if (at == buffer) {
            for (uint32_t i = 0; i < n; i++)
                if (chunk[i] < 0x20 || chunk[i] >= 0x7f) chunk[i] = chunk[i] == '\n' ? ' ' : '?';
            fwrite(chunk, 1, n, stderr);
        }
        at += n;
        count -= n;
    }
    if (total > sizeof chunk) fprintf(stderr, " [%u bytes in all]", total);
    fputc('\n', stderr);
    return 0;
}

/* ───────────────────────────── event channels (2-level) ───────────────────────────── */

static int port_valid(const struct domain *d, uint64_t port) {
    return port < d->valid;
}

/* Xen's evtchn_allocate_port: 0, -ENOSPC, or -EBUSY for a port in use. */
static int allocate_port(struct domain *d, uint32_t port) {
    if (port > d->max_port || port >= EVTCHN_2L_NR_CHANNELS) return -XEN_ENOSPC;
    if (port_valid(d, port)) return d->ports[port].state != ECS_FREE ? -XEN_EBUSY : 0;
    while (port >= d->valid) d->valid += PORTS_PER_BUCKET;
    return 0;
}

/* Xen's get_free_port: the lowest free port (its bucket allocated), or -ENOSPC. */
static int64_t get_free_port(struct domain *d) {
    for (uint32_t port = 0; port <= d->max_port; port++) {
        int rc = allocate_port(d, port);
        if (rc == 0) return port;
        if (rc != -XEN_EBUSY) return rc;
    }
    return -XEN_ENOSPC;
}

/* Bits of shared_info: bitmaps of xen_ulong_t words, little-endian, so bit n is byte n/8, bit n%8. */
static int test_and_set(uint8_t *bitmap, uint64_t bit) {
    uint8_t m = (uint8_t)(1u << (bit & 7));
    int was = (bitmap[bit >> 3] & m) != 0;
    bitmap[bit >> 3] |= m;
    return was;
}

static int test_and_clear(uint8_t *bitmap, uint64_t bit) {
    uint8_t m = (uint8_t)(1u << (bit & 7));
    int was = (bitmap[bit >> 3] & m) != 0;
    bitmap[bit >> 3] &= (uint8_t)~m;
    return was;
}

#define SI_PENDING(d) ((d)->shared + offsetof(struct shared_info, evtchn_pending))
#define SI_MASK(d) ((d)->shared + offsetof(struct shared_info, evtchn_mask))
#define BITS_PER_WORD (8 * sizeof(xen_ulong_t))

/* The vcpu_info of a vCPU in shared_info (the legacy slots), or NULL beyond them. */
static uint8_t *vcpu_info(struct domain *d, uint32_t v) {
    if (v >= XEN_LEGACY_MAX_VCPUS) return NULL;
    return d->shared + offsetof(struct shared_info, vcpu_info) + v * sizeof(struct vcpu_info);
}

/* Marks the selector word of a port in a vCPU's vcpu_info, and the upcall flag when it was clear. */
static void mark_selector(struct domain *d, uint32_t v, uint32_t port) {
    uint8_t *vi = vcpu_info(d, v);
    if (!vi) return;
    if (!test_and_set(vi + offsetof(struct vcpu_info, evtchn_pending_sel), port / BITS_PER_WORD))
        vi[offsetof(struct vcpu_info, evtchn_upcall_pending)] = 1;
}

/* Xen's evtchn_port_set_pending with the 2-level ABI (only usable ports, i.e. bound ones). */
static void set_pending(struct domain *d, uint32_t port) {
    struct port *p = &d->ports[port];
    if (p->state <= ECS_RESERVED) return;
    if (test_and_set(SI_PENDING(d), port)) return;
    if (!(SI_MASK(d)[port >> 3] & (1u << (port & 7)))) mark_selector(d, p->notify_vcpu, port);
}

/* Xen's evtchn_free: the pending bit is cleared, the port goes back to vCPU 0. */
static void free_port(struct domain *d, uint32_t port) {
    struct port *p = &d->ports[port];
    if (p->state > ECS_RESERVED) test_and_clear(SI_PENDING(d), port);
    memset(p, 0, sizeof *p);
}

static struct domain *domain_by_any_id(struct domain *caller, uint32_t id) {
    return id == DOMID_SELF ? caller : find_domain(id);
}

/* The default XSM policy for a target domain: the caller itself, or a privileged caller. */
static int may_target(const struct domain *caller, const struct domain *d) {
    return caller == d || caller->privileged;
}

#define COPY_IN(a) \
    if (copy_from_guest(ctx->d, &(a), arg, sizeof(a))) return -XEN_EFAULT
#define COPY_OUT(a) (copy_to_guest(ctx->d, arg, &(a), sizeof(a)) ? -XEN_EFAULT : 0)

int64_t H(event_channel_op__EVTCHNOP_alloc_unbound)(struct hyperabi_ctx *ctx, int32_t cmd, hyperabi_gaddr_t arg) {
    (void)cmd;
    struct evtchn_alloc_unbound a;
    COPY_IN(a);
    struct domain *d = domain_by_any_id(ctx->d, a.dom);
    if (!d) return -XEN_ESRCH;
    int64_t port = get_free_port(d);
    if (port < 0) return port;
    if (!may_target(ctx->d, d)) return -XEN_EPERM;
    d->ports[port].state = ECS_UNBOUND;
    d->ports[port].remote_dom = a.remote_dom == DOMID_SELF ? ctx->d->id : a.remote_dom;
    a.port = (evtchn_port_t)port;
    return COPY_OUT(a);
}

int64_t H(event_channel_op__EVTCHNOP_bind_interdomain)(struct hyperabi_ctx *ctx, int32_t cmd, hyperabi_gaddr_t arg) {
    (void)cmd;
    struct evtchn_bind_interdomain a;
    COPY_IN(a);
    struct domain *ld = ctx->d, *rd = domain_by_any_id(ld, a.remote_dom);
    if (!rd) return -XEN_ESRCH;
    int64_t lport = get_free_port(ld);
    if (lport < 0) return lport;
    uint32_t rport = a.remote_port;
    if (!port_valid(rd, rport)) return -XEN_EINVAL;
    struct port *r = &rd->ports[rport];
    if (r->state != ECS_UNBOUND || r->remote_dom != ld->id) return -XEN_EINVAL;
    struct port *l = &ld->ports[lport];
    l->state = ECS_INTERDOMAIN;
    l->remote_dom = rd->id;
    l->remote_port = rport;
    r->state = ECS_INTERDOMAIN;
    r->remote_dom = ld->id;
    r->remote_port = (uint32_t)lport;
    /* Events sent while the remote port was unbound were dropped: Xen always marks the new port pending. */
    set_pending(ld, (uint32_t)lport);
    a.local_port = (evtchn_port_t)lport;
    return COPY_OUT(a);
}

int64_t H(event_channel_op__EVTCHNOP_bind_ipi)(struct hyperabi_ctx *ctx, int32_t cmd, hyperabi_gaddr_t arg) {
    (void)cmd;
    struct evtchn_bind_ipi a;
    COPY_IN(a);
    struct domain *d = ctx->d;
    if (a.vcpu >= d->vcpus) return -XEN_ENOENT;
    int64_t port = get_free_port(d);
    if (port < 0) return port;
    d->ports[port].state = ECS_IPI;
    d->ports[port].notify_vcpu = a.vcpu;
    a.port = (evtchn_port_t)port;
    return COPY_OUT(a);
}

int64_t H(event_channel_op__EVTCHNOP_close)(struct hyperabi_ctx *ctx, int32_t cmd, hyperabi_gaddr_t arg) {
    (void)cmd;
    struct evtchn_close a;
    COPY_IN(a);
    struct domain *d1 = ctx->d;
    if (!port_valid(d1, a.port)) return -XEN_EINVAL;
    struct port *p = &d1->ports[a.port];
    switch (p->state) {
    case ECS_FREE:
    case ECS_RESERVED:
        return -XEN_EINVAL;
    case ECS_INTERDOMAIN: {
        struct domain *d2 = find_domain(p->remote_dom);
        uint32_t rport = p->remote_port;
        free_port(d1, a.port);
        if (d2) {
            d2->ports[rport].state = ECS_UNBOUND;
            d2->ports[rport].remote_dom = d1->id;
            d2->ports[rport].remote_port = 0;
        }
        return 0;
    }
    default:
        free_port(d1, a.port);
        return 0;
    }
}

int64_t H(event_channel_op__EVTCHNOP_send)(struct hyperabi_ctx *ctx, int32_t cmd, hyperabi_gaddr_t arg) {
    (void)cmd;
    struct evtchn_send a;
    COPY_IN(a);
    struct domain *ld = ctx->d;
    if (!port_valid(ld, a.port)) return -XEN_EINVAL;
    struct port *p = &ld->ports[a.port];
    switch (p->state) {
    case ECS_INTERDOMAIN: {
        struct domain *rd = find_domain(p->remote_dom);
        if (rd) set_pending(rd, p->remote_port);
        return 0;
    }
    case ECS_IPI:
        set_pending(ld, a.port);
        return 0;
    case ECS_UNBOUND:
        return 0; /* dropped */
    default:
        return -XEN_EINVAL;
    }
}

int64_t H(event_channel_op__EVTCHNOP_status)(struct hyperabi_ctx *ctx, int32_t cmd, hyperabi_gaddr_t arg) {
    (void)cmd;
    struct evtchn_status a;
    COPY_IN(a);
    struct domain *d = domain_by_any_id(ctx->d, a.dom);
    if (!d) return -XEN_ESRCH;
    if (!port_valid(d, a.port)) return -XEN_EINVAL;
    if (!may_target(ctx->d, d)) return -XEN_EPERM;
    struct port *p = &d->ports[a.port];
    switch (p->state) {
    case ECS_UNBOUND:
        a.status = EVTCHNSTAT_unbound;
        a.u.unbound.dom = p->remote_dom;
        break;
    case ECS_INTERDOMAIN:
        a.status = EVTCHNSTAT_interdomain;
        a.u.interdomain.dom = p->remote_dom;
        a.u.interdomain.port = p->remote_port;
        break;
    case ECS_IPI:
        a.status = EVTCHNSTAT_ipi;
        break;
    default: /* free and reserved; this testee binds no VIRQs or PIRQs */
        a.status = EVTCHNSTAT_closed;
        break;
    }
    a.vcpu = p->notify_vcpu;
    return COPY_OUT(a);
}

int64_t H(event_channel_op__EVTCHNOP_unmask)(struct hyperabi_ctx *ctx, int32_t cmd, hyperabi_gaddr_t arg) {
    (void)cmd;
    struct evtchn_unmask a;
    COPY_IN(a);
    struct domain *d = ctx->d;
    if (!port_valid(d, a.port)) return -XEN_EINVAL;
    struct port *p = &d->ports[a.port];
    if (p->state <= ECS_RESERVED) return 0;
    if (test_and_clear(SI_MASK(d), a.port) && (SI_PENDING(d)[a.port >> 3] & (1u << (a.port & 7))))
        mark_selector(d, p->notify_vcpu, a.port);
    return 0;
}

/* ───────────────────────────── the machine ───────────────────────────── */

static void destroy_machine(void) {
    for (unsigned i = 0; i < ndomains; i++) {
        free(domains[i]->mem);
        free(domains[i]->ports);
        free(domains[i]);
    }
    ndomains = 0;
}

/* Reads `key=value` from a comma-separated token; returns a pointer to the value (ended by ',' or NUL) or NULL. */
static const char *field(const char *tok, const char *key, size_t *len) {
    size_t k = strlen(key);
    for (const char *p = tok; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
        if (!strncmp(p, key, k) && p[k] == '=') {
            const char *v = p + k + 1, *e = strchr(v, ',');
            *len = e ? (size_t)(e - v) : strlen(v);
            return v;
        }
    }
    return NULL;
}

static int field_uint(const char *tok, const char *key, uint64_t *v) {
    size_t n;
    const char *s = field(tok, key, &n);
    return s && parse_uint(s, s + n, v);
}

static int cmd_machine(uint64_t seq, char **tok, int ntok) {
    destroy_machine();
    if (ntok < 3) return reply_error(seq, "bad-request", "machine needs domains");
    if (ntok - 2 > MAX_DOMAINS) return reply_error(seq, "unsupported", "at most %d domains", MAX_DOMAINS);
    for (int i = 2; i < ntok; i++) {
        uint64_t id, pages, vcpus = 1, priv = 0, maxport = DEFAULT_MAX_PORT;
        size_t n;
        const char *abi = field(tok[i], "abi", &n);
        if (!field_uint(tok[i], "id", &id) || id >= DOMID_FIRST_RESERVED || !field_uint(tok[i], "pages", &pages) || !abi) {
            destroy_machine();
            return reply_error(seq, "bad-request", "domain '%s' needs id, abi and pages", tok[i]);
        }
        if (n != strlen("x86_64-pv") || strncmp(abi, "x86_64-pv", n)) {
            destroy_machine();
            return reply_error(seq, "unsupported", "this testee implements x86_64-pv only, not %.*s", (int)n, abi);
        }
        if (field(tok[i], "vcpus", &n) && !field_uint(tok[i], "vcpus", &vcpus)) vcpus = 0;
        if (field(tok[i], "privileged", &n)) field_uint(tok[i], "privileged", &priv);
        if (field(tok[i], "maxport", &n) && !field_uint(tok[i], "maxport", &maxport)) maxport = 0;
        if (pages == 0 || pages > 65536 || vcpus == 0 || vcpus > 128 || find_domain(id)) {
            destroy_machine();
            return reply_error(seq, "bad-request", "domain '%s': pages 1..65536, vcpus 1..128, ids unique", tok[i]);
        }
        struct domain *d = calloc(1, sizeof *d);
        if (!d) abort();
        d->id = (uint16_t)id;
        d->privileged = priv != 0;
        d->vcpus = (uint32_t)vcpus;
        d->pages = pages;
        d->mem = calloc(pages, PAGE_BYTES);
        d->max_port = maxport < EVTCHN_2L_NR_CHANNELS - 1 ? (uint32_t)maxport : EVTCHN_2L_NR_CHANNELS - 1;
        d->ports = calloc((size_t)d->max_port + PORTS_PER_BUCKET + 1, sizeof *d->ports);
        if (!d->mem || !d->ports) abort();
        /* Event delivery starts masked on every vCPU slot, as Xen's dom0 builder and the toolstack leave it. */
        for (uint32_t v = 0; v < XEN_LEGACY_MAX_VCPUS; v++) vcpu_info(d, v)[offsetof(struct vcpu_info, evtchn_upcall_mask)] = 1;
        /* Port 0 is reserved, and its bucket makes ports 0..63 valid from the start. */
        allocate_port(d, 0);
        d->ports[0].state = ECS_RESERVED;
        domains[ndomains++] = d;
    }
    out_seq(seq, "machine");
    for (unsigned i = 0; i < ndomains; i++) {
        out_str(" id=");
        out_u64(domains[i]->id, 0);
        out_str(",data=");
        out_u64(DATA_BASE, 1);
        out_str(",unmapped=");
        out_u64(UNMAPPED, 1);
        out_str(",shared=");
        out_u64(SHARED_BASE, 1);
    }
    out_str("\n");
    return 0;
}

static struct domain *domain_arg(uint64_t seq, const char *s) {
    uint64_t id;
    struct domain *d;
    if (!ndomains) return reply_error(seq, "no-machine", "no machine: send machine first"), NULL;
    if (!parse_u32(s, &id) || !(d = find_domain(id))) return reply_error(seq, "bad-domain", "no domain %s in the machine", s), NULL;
    return d;
}

static int hexval(int c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int cmd_write(uint64_t seq, char **tok, int ntok) {
    uint64_t addr;
    if (ntok != 5 || !parse_uint(tok[3], tok[3] + strlen(tok[3]), &addr)) return reply_error(seq, "bad-request", "write <dom> <addr> <hex>");
    struct domain *d = domain_arg(seq, tok[2]);
    if (!d) return 0;
    const char *h = tok[4];
    size_t n = strcmp(h, "-") ? strlen(h) : 0;
    if (n % 2) return reply_error(seq, "bad-request", "odd hex length");
    uint8_t *p = guest(d, addr, n / 2);
    if (!p) return reply_error(seq, "bad-address", "domain %u does not map %zu bytes at 0x%llx", d->id, n / 2, (unsigned long long)addr);
    for (size_t i = 0; i < n; i += 2) {
        int hi = hexval(h[i]), lo = hexval(h[i + 1]);
        if (hi < 0 || lo < 0) return reply_error(seq, "bad-request", "not hex");
        p[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    return out_seq(seq, "ok\n");
}

static int cmd_store(uint64_t seq, char **tok, int ntok) {
    uint64_t addr, size, v;
    if (ntok != 6 || !parse_uint(tok[3], tok[3] + strlen(tok[3]), &addr) || !parse_u32(tok[4], &size) || (size != 1 && size != 2 && size != 4 && size != 8))
        return reply_error(seq, "bad-request", "store <dom> <addr> <1|2|4|8> <operand>");
    struct domain *d = domain_arg(seq, tok[2]);
    if (!d) return 0;
    const char *err = operand(tok[5], &v);
    if (err) return reply_error(seq, "bad-operand", "%s: %s", tok[5], err);
    uint8_t *p = guest(d, addr, size);
    if (!p) return reply_error(seq, "bad-address", "domain %u does not map %llu bytes at 0x%llx", d->id, (unsigned long long)size, (unsigned long long)addr);
    for (unsigned i = 0; i < size; i++) p[i] = (uint8_t)(v >> (8 * i));
    return out_seq(seq, "ok\n");
}

static int cmd_call(uint64_t seq, char **tok, int ntok) {
    uint64_t vcpu;
    if (ntok < 4) return reply_error(seq, "bad-request", "call <dom> <vcpu> <reg>=<operand>...");
    struct domain *d = domain_arg(seq, tok[2]);
    if (!d) return 0;
    if (!parse_u32(tok[3], &vcpu) || vcpu >= d->vcpus) return reply_error(seq, "bad-request", "domain %u has no vCPU %s", d->id, tok[3]);
    struct hyperabi_xen_regs_x86_64_pv regs;
    memset(&regs, 0, sizeof regs);
    for (int i = 4; i < ntok; i++) {
        char *eq = strchr(tok[i], '=');
        uint64_t v;
        if (!eq) return reply_error(seq, "bad-request", "'%s' is not register=operand", tok[i]);
        *eq = 0;
        const char *err = operand(eq + 1, &v);
        if (err) return reply_error(seq, "bad-operand", "%s: %s", eq + 1, err);
        if (!strcmp(tok[i], "rax")) regs.rax = v;
        else if (!strcmp(tok[i], "rdi")) regs.rdi = v;
        else if (!strcmp(tok[i], "rsi")) regs.rsi = v;
        else if (!strcmp(tok[i], "rdx")) regs.rdx = v;
        else if (!strcmp(tok[i], "r10")) regs.r10 = v;
        else if (!strcmp(tok[i], "r8")) regs.r8 = v;
        else return reply_error(seq, "bad-request", "x86_64-pv has no argument register %s", tok[i]);
    }
    struct hyperabi_ctx ctx = { .d = d, .vcpu = (uint32_t)vcpu };
    int64_t r = hyperabi_xen_dispatch_x86_64_pv(&ctx, &regs);
    out_seq(seq, "ret ");
    if (r < 0) {
        out_str("-");
        out_u64((uint64_t)0 - (uint64_t)r, 1);
    } else out_u64((uint64_t)r, 1);
    out_str("\n");
    return 0;
}

static int cmd_read(uint64_t seq, char **tok, int ntok) {
    uint64_t addr, len;
    if (ntok != 5 || !parse_uint(tok[3], tok[3] + strlen(tok[3]), &addr) || !parse_u32(tok[4], &len)) return reply_error(seq, "bad-request", "read <dom> <addr> <length>");
    struct domain *d = domain_arg(seq, tok[2]);
    if (!d) return 0;
    uint8_t *p = guest(d, addr, len);
    if (!p) return out_seq(seq, "fault\n");
    out_seq(seq, len ? "bytes " : "bytes -");
    out_reserve(2 * len + 1);
    for (uint64_t i = 0; i < len; i++) {
        out[out_len++] = "0123456789abcdef"[p[i] >> 4];
        out[out_len++] = "0123456789abcdef"[p[i] & 15];
    }
    out_str("\n");
    return 0;
}

/* ───────────────────────────── the loop ───────────────────────────── */

static int handle(char *line) {
    char *tok[64 + 8];
    int ntok = 0;
    if (line[0] == '#') return 1;
    for (char *p = line; *p && ntok < (int)(sizeof tok / sizeof tok[0]);) {
        tok[ntok++] = p;
        char *sp = strchr(p, ' ');
        if (!sp) break;
        *sp = 0;
        p = sp + 1;
    }
    if (ntok == 0) return 1;
    if (!strcmp(tok[0], "hello")) {
        int ok = 0;
        for (int i = 2; i < ntok; i++) ok |= !strcmp(tok[i], "1");
        if (ntok < 3 || strcmp(tok[1], PROTOCOL) || !ok) {
            out_str("# this testee speaks " PROTOCOL " version 1 only\n");
            return 0;
        }
        out_str("hello " PROTOCOL " 1 name=" TESTEE_NAME " abis=x86_64-pv ops=");
        out_str(IMPLEMENTED);
        out_str("\n");
        return 1;
    }
    uint64_t seq;
    if (!parse_uint(tok[0], tok[0] + strlen(tok[0]), &seq) || (tok[0][0] == '0' && tok[0][1] == 'x') || ntok < 2) {
        out_str("# cannot read a request without a sequence number\n");
        return 1;
    }
    const char *k = tok[1];
    if (!strcmp(k, "machine")) cmd_machine(seq, tok, ntok);
    else if (!strcmp(k, "write")) cmd_write(seq, tok, ntok);
    else if (!strcmp(k, "store")) cmd_store(seq, tok, ntok);
    else if (!strcmp(k, "call")) cmd_call(seq, tok, ntok);
    else if (!strcmp(k, "read")) cmd_read(seq, tok, ntok);
    else if (!strcmp(k, "advance")) out_seq(seq, "skipped this testee has no clock\n");
    else if (!strcmp(k, "destroy")) {
        destroy_machine();
        out_seq(seq, "ok\n");
    } else if (!strcmp(k, "bye")) {
        out_seq(seq, "bye\n");
        return 0;
    } else reply_error(seq, "bad-request", "unknown request '%s'", k);
    return 1;
}

int main(void) {
    size_t cap = 1 << 16, len = 0, start = 0;
    char *buf = malloc(cap);
    if (!buf) return 1;
    for (;;) {
        /* Answer every complete line already read, then flush before blocking on more input. */
        char *nl;
        while ((nl = memchr(buf + start, '\n', len - start))) {
            *nl = 0;
            if (!handle(buf + start)) {
                out_flush();
                return 0;
            }
            start = (size_t)(nl - buf) + 1;
        }
        out_flush();
        if (start > 0) {
            memmove(buf, buf + start, len - start);
            len -= start;
            start = 0;
        }
        if (len == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            if (!buf) return 1;
        }
        ssize_t n = read(0, buf + len, cap - len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return 0;
        len += (size_t)n;
    }
}
