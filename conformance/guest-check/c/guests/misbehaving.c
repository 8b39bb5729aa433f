/*
 * A misbehaving C guest: each step below is one violation strict mode must flag (the kind
 * in brackets), then it leaves without closing the port it allocated or revoking its grant.
 * Build: gcc -I<generated headers> -I.. misbehaving.c ../hyperabi_guest.c
 */
#define HYPERABI_TRANSPORT
#include "hyperabi_xen_x86_64-pv.h"
#include "hyperabi_guest.h"

int main(void)
{
    hg_start("x86_64-pv", 16);
    /* [unowned-handle] a send on a port no call gave it */
    struct evtchn_send *s = hg_alloc(sizeof *s, 4);
    s->port = 77;
    hyperabi_event_channel_op_EVTCHNOP_send(s);
    /* [unknown-operation] an EVTCHNOP command that does not exist */
    hyperabi_event_channel_op(99, s);
    /* [invalid-value] VIRQ 5 is no VIRQ_* value */
    struct evtchn_bind_virq *v = hg_alloc(sizeof *v, 4);
    v->virq = 5;
    hyperabi_event_channel_op_EVTCHNOP_bind_virq(v);
    /* [bad-pointer] a struct on the process stack, which is not guest memory */
    struct evtchn_send on_stack = { .port = 1 };
    hyperabi_event_channel_op_EVTCHNOP_send(&on_stack);
    /* [leak-at-shutdown] a port allocated and never closed */
    struct evtchn_alloc_unbound *a = hg_alloc(sizeof *a, 4);
    a->dom = DOMID_SELF;
    a->remote_dom = 0;
    hyperabi_event_channel_op_EVTCHNOP_alloc_unbound(a);
    /* [leak-at-shutdown] a grant offered to domain 0 and never revoked */
    struct gnttab_setup_table *st = hg_alloc(sizeof *st, 8);
    xen_pfn_t *frames = hg_alloc(sizeof *frames, 8);
    st->dom = DOMID_SELF;
    st->nr_frames = 1;
    HG_SET_HANDLE(st->frame_list, frames);
    hyperabi_grant_table_op_GNTTABOP_setup_table(st, 1);
    struct grant_entry_v1 e = { .flags = GTF_permit_access, .domid = 0, .frame = (uint32_t)frames[0] };
    hg_write(hg_grant_table + 9 * sizeof e, &e, sizeof e);
    return hg_end();
}
