/*
 * A well-behaved C guest: a loopback event channel (alloc_unbound, bind_interdomain, send,
 * close both ends), its grant table set up and one grant offered to domain 0 and revoked,
 * a query of the Xen version, and a clean shutdown. Strict mode finds nothing. Build: gcc -I<generated headers> -I.. well-behaved.c ../hyperabi_guest.c
 */
#define HYPERABI_TRANSPORT
#include "hyperabi_xen_x86_64-pv.h"
#include "hyperabi_guest.h"

#include <stdio.h>

int main(void)
{
    hg_start("x86_64-pv", 16);
    struct evtchn_alloc_unbound *a = hg_alloc(sizeof *a, 4);
    a->dom = DOMID_SELF;
    a->remote_dom = DOMID_SELF;
    if (hyperabi_event_channel_op_EVTCHNOP_alloc_unbound(a) != 0)
        return 1;
    struct evtchn_bind_interdomain *b = hg_alloc(sizeof *b, 4);
    b->remote_dom = DOMID_SELF;
    b->remote_port = a->port;
    if (hyperabi_event_channel_op_EVTCHNOP_bind_interdomain(b) != 0)
        return 1;
    struct evtchn_send *s = hg_alloc(sizeof *s, 4);
    s->port = b->local_port;
    if (hyperabi_event_channel_op_EVTCHNOP_send(s) != 0)
        return 1;
    struct evtchn_close *c = hg_alloc(sizeof *c, 4);
    c->port = b->local_port;
    if (hyperabi_event_channel_op_EVTCHNOP_close(c) != 0)
        return 1;
    c->port = a->port;
    if (hyperabi_event_channel_op_EVTCHNOP_close(c) != 0)
        return 1;
    /* The grant table: set it up (frame_list is a guest handle: a guest address), offer entry
     * 8 to domain 0 with plain stores to the table, read it back, revoke it. */
    struct gnttab_setup_table *st = hg_alloc(sizeof *st, 8);
    xen_pfn_t *frames = hg_alloc(sizeof *frames, 8);
    st->dom = DOMID_SELF;
    st->nr_frames = 1;
    HG_SET_HANDLE(st->frame_list, frames);
    if (hyperabi_grant_table_op_GNTTABOP_setup_table(st, 1) != 0 || st->status != 0)
        return 1;
    struct grant_entry_v1 e = { .flags = GTF_permit_access, .domid = 0, .frame = (uint32_t)frames[0] };
    uint64_t entry8 = hg_grant_table + 8 * sizeof e;
    struct grant_entry_v1 back;
    if (hg_write(entry8, &e, sizeof e) != 0 || hg_read(entry8, &back, sizeof back) != 0 || back.domid != 0)
        return 1;
    e.flags = GTF_invalid;
    if (hg_write(entry8, &e, sizeof e) != 0)
        return 1;
    long v = hyperabi_xen_version(XENVER_version, NULL);
    fprintf(stderr, "well-behaved: Xen %ld.%ld\n", v >> 16, v & 0xffff);
    struct sched_shutdown *sd = hg_alloc(sizeof *sd, 4);
    sd->reason = SHUTDOWN_poweroff;
    hyperabi_sched_op_SCHEDOP_shutdown(sd);
    return hg_end();
}
