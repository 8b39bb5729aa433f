/*
 * hyperabi_guest.c: the guest side of the guest protocol (docs/guest-check.md) for C guests
 * built on the generated stubs' transport variant. See hyperabi_guest.h.
 */
#define _GNU_SOURCE
#include "hyperabi_guest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HG_PAGE 4096u
#define HG_BLOCK 64u

uint64_t hg_shared_info;
uint64_t hg_grant_table;
unsigned int hg_domid;

static unsigned char *arena;
static unsigned char *shadow;
static size_t arena_size;
static size_t arena_next = HG_PAGE; /* page 0 stays unused: no object at guest address 0 */
static unsigned long seq;
static char *line;
static size_t line_cap;

static void die(const char *what)
{
    fprintf(stderr, "hyperabi_guest: %s\n", what);
    exit(3);
}

/* Reads the harness's next line (without its newline); skips comments. */
static char *next_line(void)
{
    for (;;) {
        ssize_t n = getline(&line, &line_cap, stdin);
        if (n < 0)
            die("the harness closed the connection");
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n > 0 && line[0] != '#')
            return line;
    }
}

/* Reads the reply to request `s`; returns the text after "<seq> ". */
static char *reply(unsigned long s)
{
    char *l = next_line();
    char *rest;
    unsigned long got = strtoul(l, &rest, 10);
    if (got != s || *rest != ' ')
        die("a reply out of sequence");
    return rest + 1;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static void put_hex(const unsigned char *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        putchar(digits[p[i] >> 4]);
        putchar(digits[p[i] & 15]);
    }
}

void hg_start(const char *abi, unsigned int pages)
{
    arena_size = (size_t)pages * HG_PAGE;
    arena = aligned_alloc(HG_PAGE, arena_size);
    shadow = calloc(1, arena_size);
    if (!arena || !shadow)
        die("out of memory for the arena");
    memset(arena, 0, arena_size);
    printf("hello hyperabi-guest 1 abi=%s pages=%u\n", abi, pages);
    fflush(stdout);
    char *l = next_line();
    if (strncmp(l, "hello hyperabi-guest 1 ", 23) != 0)
        die("the harness did not answer hello");
    char *p;
    if ((p = strstr(l, " dom=")))
        hg_domid = (unsigned int)strtoul(p + 5, NULL, 0);
    if ((p = strstr(l, " shared=")))
        hg_shared_info = strtoull(p + 8, NULL, 0);
    if ((p = strstr(l, " grant=")))
        hg_grant_table = strtoull(p + 7, NULL, 0);
}

void *hg_alloc(size_t size, size_t align)
{
    if (align == 0)
        align = 1;
    size_t at = (arena_next + align - 1) / align * align;
    if (at + size > arena_size)
        die("the arena is full (raise the pages given to hg_start)");
    arena_next = at + size;
    return arena + at;
}

uint64_t hg_gpa(const void *p)
{
    return (uint64_t)((const unsigned char *)p - arena);
}

void *hg_ptr(uint64_t gpa)
{
    return gpa < arena_size ? arena + gpa : NULL;
}

int hg_write(uint64_t gpa, const void *data, size_t len)
{
    unsigned long s = ++seq;
    printf("%lu write 0x%llx ", s, (unsigned long long)gpa);
    if (len == 0)
        putchar('-');
    put_hex(data, len);
    putchar('\n');
    fflush(stdout);
    const char *r = reply(s);
    if (gpa < arena_size && gpa + len <= arena_size && strcmp(r, "ok") == 0) {
        memcpy(arena + gpa, data, len);
        memcpy(shadow + gpa, data, len);
    }
    return strcmp(r, "ok") == 0 ? 0 : -1;
}

int hg_read(uint64_t gpa, void *out, size_t len)
{
    unsigned long s = ++seq;
    printf("%lu read 0x%llx %zu\n", s, (unsigned long long)gpa, len);
    fflush(stdout);
    const char *r = reply(s);
    if (strncmp(r, "bytes ", 6) != 0)
        return -1;
    r += 6;
    for (size_t i = 0; i < len; i++) {
        int hi = hexval(r[2 * i]), lo = hi < 0 ? -1 : hexval(r[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        ((unsigned char *)out)[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

/* Sends the arena blocks the guest changed since the last call. */
static void sync_out(void)
{
    for (size_t b = 0; b < arena_size; b += HG_BLOCK) {
        if (memcmp(arena + b, shadow + b, HG_BLOCK) == 0)
            continue;
        size_t e = b + HG_BLOCK;
        while (e < arena_size && memcmp(arena + e, shadow + e, HG_BLOCK) != 0)
            e += HG_BLOCK;
        unsigned long s = ++seq;
        printf("%lu write 0x%zx ", s, b);
        put_hex(arena + b, e - b);
        putchar('\n');
        fflush(stdout);
        if (strcmp(reply(s), "ok") != 0)
            die("the harness refused a write of the guest's own RAM");
        memcpy(shadow + b, arena + b, e - b);
        b = e - HG_BLOCK;
    }
}

long hyperabi_transport(unsigned long nr, const unsigned long *args, unsigned int nargs)
{
    sync_out();
    unsigned long s = ++seq;
    printf("%lu call 0 0x%lx", s, nr);
    for (unsigned int i = 0; i < nargs; i++) {
        unsigned long w = args[i];
        uintptr_t base = (uintptr_t)arena;
        if (w >= base && w < base + arena_size)
            w -= base; /* a pointer into the arena: its guest-physical address */
        printf(" 0x%lx", w);
    }
    putchar('\n');
    fflush(stdout);
    char *r = reply(s);
    if (strncmp(r, "ret ", 4) != 0) {
        fprintf(stderr, "hyperabi_guest: call %lu: %s\n", s, r);
        exit(3);
    }
    char *p;
    long result = strtol(r + 4, &p, 0);
    /* Then <addr>:<bytes> for each range the call changed. */
    while (*p == ' ') {
        p++;
        unsigned long long addr = strtoull(p, &p, 0);
        if (*p != ':')
            die("a malformed ret line");
        p++;
        for (; hexval(p[0]) >= 0 && hexval(p[1]) >= 0; p += 2, addr++) {
            if (addr < arena_size) {
                arena[addr] = (unsigned char)(hexval(p[0]) << 4 | hexval(p[1]));
                shadow[addr] = arena[addr];
            }
        }
        if (*p == '-')
            p++;
    }
    return result;
}

int hg_end(void)
{
    unsigned long s = ++seq;
    printf("%lu bye\n", s);
    fflush(stdout);
    reply(s);
    return 0;
}
