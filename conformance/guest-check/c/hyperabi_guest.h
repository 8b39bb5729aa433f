/*
 * hyperabi_guest.h: run a C guest, built on the generated stubs' transport variant, against
 * the strict reference VMM of `hyperabi check-guest --cmd` (docs/guest-check.md).
 *
 *     #define HYPERABI_TRANSPORT
 *     #include "hyperabi_xen_x86_64-pv.h"   (generated: hyperabi generate c-guest)
 *     #include "hyperabi_guest.h"
 *
 *     int main(void) {
 *         hg_start("x86_64-pv", 16);             one domain of 16 pages of RAM
 *         struct evtchn_send *s = hg_alloc(sizeof *s, 4);
 *         s->port = 3;
 *         hyperabi_event_channel_op_EVTCHNOP_send(s);
 *         return hg_end();
 *     }
 *
 * The guest's RAM is an arena in this process; hg_alloc() hands out pieces of it. The
 * transport sends what the guest changed in the arena before each call, passes the call's
 * number and argument words (a word pointing into the arena becomes the guest-physical
 * address of what it points to), and copies back what the call changed. A guest address
 * stored inside a struct must be written as one: HG_SET_HANDLE() for a guest handle,
 * hg_gpa() otherwise. Guest memory outside the arena
 * (shared_info, the grant table) is reached with hg_write() and hg_read().
 */
#ifndef HYPERABI_GUEST_H
#define HYPERABI_GUEST_H

#include <stddef.h>
#include <stdint.h>

/* Guest-physical addresses the harness reports in its hello. */
extern uint64_t hg_shared_info;
extern uint64_t hg_grant_table;
extern unsigned int hg_domid;

/* Says hello (ABI name, pages of RAM); exits with a message if the harness does not answer. */
void hg_start(const char *abi, unsigned int pages);
/* Arena memory for the guest's structs (zeroed); exits when the arena is full. */
void *hg_alloc(size_t size, size_t align);
/* The guest-physical address of arena memory, and back. */
uint64_t hg_gpa(const void *p);
void *hg_ptr(uint64_t gpa);
/* Stores the guest address of arena memory in a guest handle field: HG_SET_HANDLE(st->frame_list, frames). */
#define HG_SET_HANDLE(h, ptr) ((h).p = (__typeof__((h).p))(uintptr_t)hg_gpa(ptr))
/* Guest memory by guest-physical address (for memory beyond the arena); 0 on success, -1 on a fault. */
int hg_write(uint64_t gpa, const void *data, size_t len);
int hg_read(uint64_t gpa, void *out, size_t len);
/* Says bye; returns 0 (the findings are the harness's to report). */
int hg_end(void);

long hyperabi_transport(unsigned long nr, const unsigned long *args, unsigned int nargs);

#endif /* HYPERABI_GUEST_H */
