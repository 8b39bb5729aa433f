/**
 * Normal paths the generic defaults do not reach: what an operation needs set up before it can
 * succeed (a pinned page table, a grant, a second vCPU), keyed by operation id. Each entry is a
 * short list of settings and set-up calls; the expectation stays the spec's (success).
 */
import { DOMU } from './context.js';
import { LIVE, LIVE_WHY } from './live.js';
import { addr, ensureDomain, fresh, takePage } from './plan.js';
import type { NormalRecipe, RecipeArgs } from './recipe.js';

/** Batched MMU calls name their page-table owner; DOMID_SELF is the caller. */
const selfOwner = (x: RecipeArgs) => x.p.params.set('foreigndom', 'DOMID_SELF');

/** A zeroed page of the caller to clear or copy. */
const pageArg = (path: string) => (x: RecipeArgs) => {
  selfOwner(x);
  x.set(path, x.ctx.frame(x.p, x.p.caller).frame);
};

/** A zeroed page of the caller that may become a page table: an empty table of any level. */
const tableArg = (path: string) => (x: RecipeArgs) => {
  selfOwner(x);
  x.set(path, x.ctx.tableFrame(x.p, x.p.caller).frame);
};

/** A vCPU bitmap of the caller naming its vCPU 0 (MMUEXT_*_MULTI). */
const vcpuMask = (x: RecipeArgs) => {
  selfOwner(x);
  const mask = takePage(x.p, x.p.caller);
  x.p.before.push({ write: { domain: x.p.caller, at: addr(mask), u64: [1] }, doc: 'a vCPU bitmap: vCPU 0' });
  x.set('arg.arg2.vcpumask', addr(mask));
};

/** An event pending for the caller's vCPU 0: an IPI port bound to it and sent on; returns `$port`. */
const pendingEvent = (x: RecipeArgs): string => {
  const name = fresh(x.p, 'ipi');
  x.ctx.before(x.p, x.ctx.callOk('event_channel_op$EVTCHNOP_bind_ipi', x.p.caller, { vcpu: 0 }, {}, { [name]: 'arg.port' }));
  x.ctx.before(x.p, x.ctx.callOk('event_channel_op$EVTCHNOP_send', x.p.caller, { port: `$${name}` }));
  return `$${name}`;
};

/** x86 PV: the caller runs on its own page tables; the call under test writes entry 0 of the L1 (linear 0). */
const onPaging = (x: RecipeArgs) => {
  x.ctx.pvPaging(x.p, x.p.caller, true);
  x.set('va', 0);
  x.set('val64', `pte(${takePage(x.p, x.p.caller)}, 0x3)`);
  x.set('flags', 'UVMF_NONE');
};

/** A translated domain for the physmap commands of an x86 PV caller (its own physmap is not editable): dom0 edits a domU's. */
const translatedTarget = (x: RecipeArgs): string | number => {
  if (!x.ctx.is('x86')) return 'DOMID_SELF';
  const hvm = x.ctx.abi.startsWith('x86_32') ? 'x86_32-hvm' : 'x86_64-hvm';
  // An unprivileged caller gets a third domain, which it does not control.
  const target = x.p.caller === DOMU ? DOMU + 1 : DOMU;
  ensureDomain(x.p, { id: target, abi: hvm });
  return target;
};

/** A grant from the other domain to the caller (a fresh page of the granter) at entry 8: the caller maps it for devices. */
const grantToCaller = (x: RecipeArgs, ref = 8, flags = 'GTF_permit_access') => {
  const granter = x.ctx.other(x.p);
  x.ctx.grant(x.p, granter, x.p.caller, ref, flags);
  return granter;
};

/**
 * How a grantee maps a grant without page tables: x86 PV for device access (a bus address, no
 * host mapping); a translated guest (Arm) at a guest-physical address, as it may not ask for
 * device mappings.
 */
export const mapKind = (x: RecipeArgs): { flags: string; host_addr: number } =>
  x.ctx.is('arm') ? { flags: 'GNTMAP_host_map', host_addr: 0x100000 } : { flags: 'GNTMAP_device_map', host_addr: 0 };

/** Maps grant 8 of the other domain and saves the handle and bus address. */
const mapped = (x: RecipeArgs) => {
  const granter = grantToCaller(x);
  const h = fresh(x.p, 'handle');
  const bus = fresh(x.p, 'bus');
  const k = mapKind(x);
  x.ctx.before(x.p, x.ctx.callOk('grant_table_op$GNTTABOP_map_grant_ref', x.p.caller, { ...k, ref: 8, dom: granter }, {}, { [h]: 'arg.handle', [bus]: 'arg.dev_bus_addr' }));
  return { handle: `$${h}`, bus: `$${bus}`, granter, host: k.host_addr };
};

/** A checked write of entry 1 of the caller's pinned L1 (linear 0x1000): a present, writable mapping of a fresh page. */
const ptUpdate = (x: RecipeArgs) => {
  selfOwner(x);
  const { l1 } = x.ctx.pvPaging(x.p, x.p.caller);
  x.set('arg.ptr', `pte(${l1}, 0x8)`);
  x.set('arg.val', `pte(${takePage(x.p, x.p.caller)}, 0x3)`);
};

const NORMAL_: Record<string, NormalRecipe> = {
  'mmu_update$MMU_NORMAL_PT_UPDATE': { apply: ptUpdate },
  'mmu_update$MMU_PT_UPDATE_PRESERVE_AD': { apply: ptUpdate },
  'mmu_update$MMU_PT_UPDATE_NO_TRANSLATE': { apply: ptUpdate },
  'vcpu_op$VCPUOP_initialise': {
    apply: (x) => {
      // A second vCPU, never initialised.
      const d = x.p.domains.find((v) => v.id === x.p.caller);
      if (d) d.vcpus = 2;
      x.set('vcpuid', 1);
    },
  },
  'grant_table_op$GNTTABOP_transfer': {
    none: (ctx) => (ctx.is('arm') ? 'transfers are disabled on Arm: the command always fails (its declared EOPNOTSUPP)' : undefined),
    apply: (x) => {
      // The receiver frees a page, then offers an accept_transfer entry for the same gfn; the caller gives a fresh page.
      const receiver = x.ctx.other(x.p);
      const freed = takePage(x.p, receiver);
      const list = takePage(x.p, receiver);
      x.p.before.push({ write: { domain: receiver, at: addr(list), u64: [`frame(${freed})`] }, doc: 'the extent to free' });
      x.ctx.before(x.p, x.ctx.callOk('memory_op$XENMEM_decrease_reservation', receiver, { domid: 'DOMID_SELF', nr_extents: 1, extent_order: 0, extent_start: addr(list) }));
      x.ctx.grant(x.p, receiver, x.p.caller, 8, 'GTF_accept_transfer', String(freed));
      x.set('arg.mfn', x.ctx.frame(x.p, x.p.caller).frame);
      x.set('arg.domid', receiver);
      x.set('arg.ref', 8);
    },
  },
  'grant_table_op$GNTTABOP_unmap_and_replace': {
    apply: (x) => {
      if (x.ctx.is('arm')) {
        // A mapping at a guest-physical address, replaced by nothing.
        const m = mapped(x);
        x.set('arg.host_addr', m.host);
        x.set('arg.new_addr', 0);
        x.set('arg.handle', m.handle);
        return;
      }
      // A host mapping at linear 0x1000 (entry 1 of the caller's L1), replaced by nothing.
      x.ctx.pvPaging(x.p, x.p.caller, true);
      const granter = grantToCaller(x);
      const h = fresh(x.p, 'handle');
      x.ctx.before(x.p, x.ctx.callOk('grant_table_op$GNTTABOP_map_grant_ref', x.p.caller, { host_addr: 0x1000, flags: 'GNTMAP_host_map', ref: 8, dom: granter }, {}, { [h]: 'arg.handle' }));
      x.set('arg.host_addr', 0x1000);
      x.set('arg.new_addr', 0);
      x.set('arg.handle', `$${h}`);
    },
  },
  // Blocking returns at once with an event pending; without one, nothing in a scenario would wake the vCPU.
  'sched_op$SCHEDOP_block': { only: (x) => void pendingEvent(x), limits: { [LIVE]: LIVE_WHY.upcall } },
  // A poll of a pending port returns at once.
  'sched_op$SCHEDOP_poll': { only: (x) => x.set('arg.ports[]', pendingEvent(x)) },
  'sched_op$SCHEDOP_shutdown': { limits: { [LIVE]: LIVE_WHY.shutdown } },
  // A new watchdog that does not expire during the scenario (timeout 0 would fire at once and shut the domain down).
  'sched_op$SCHEDOP_watchdog': {
    apply: (x) => {
      x.set('arg.id', 0);
      x.set('arg.timeout', 60);
    },
  },
  'vcpu_op$VCPUOP_down': { limits: { [LIVE]: LIVE_WHY.lastVcpuDown } },
  // Valid for every kind of guest (x86 PV, HVM, Arm).
  'vm_assist$VMASST_CMD_enable': { apply: (x) => x.set('type', 'VMASST_TYPE_runstate_update_flag') },
  'vm_assist$VMASST_CMD_disable': { apply: (x) => x.set('type', 'VMASST_TYPE_runstate_update_flag') },
  'update_va_mapping': { apply: onPaging },
  update_va_mapping_otherdomain: {
    apply: (x) => {
      onPaging(x);
      x.set('domid', 'DOMID_SELF');
    },
  },
  'memory_op$XENMEM_add_to_physmap': {
    none: (ctx) =>
      ctx.is('arm') ? 'Arm has only Xen-heap spaces here (shared_info, grant frames), which the reference machine maps at creation: mapping one again is EBUSY' : undefined,
    apply: (x) => {
      const target = translatedTarget(x);
      x.set('arg.domid', target);
      // Arm has no gmfn space: it maps a grant-table frame (frame 1, which grows the table) instead.
      x.set('arg.space', x.ctx.is('arm') ? 'XENMAPSPACE_grant_table' : 'XENMAPSPACE_gmfn');
      x.set('arg.idx', x.ctx.is('arm') ? 1 : 2);
      x.set('arg.gpfn', 0x100);
    },
  },
  'memory_op$XENMEM_remove_from_physmap': {
    apply: (x) => {
      x.set('arg.domid', translatedTarget(x));
      x.set('arg.gpfn', 2);
    },
  },
  'memory_op$XENMEM_add_to_physmap_batch': {
    apply: (x) => {
      x.set('arg.domid', translatedTarget(x));
      if (x.ctx.is('arm')) {
        // Arm: a foreign page (gfn 2 of the other domain), as a privileged backend maps it.
        x.set('arg.space', 'XENMAPSPACE_gmfn_foreign');
        x.set('arg.u.foreign_domid', x.ctx.other(x.p));
      } else x.set('arg.space', 'XENMAPSPACE_gmfn');
      x.set('arg.idxs[]', 2);
      x.set('arg.gpfns[]', 0x100);
      x.set('arg.size', 1);
    },
  },
  'memory_op$XENMEM_memory_map': {
    apply: (x) => {
      // The toolstack (here the caller itself, allowed for its own domain) sets a map of one entry first.
      const map = takePage(x.p, x.p.caller);
      x.p.before.push({ write: { domain: x.p.caller, at: addr(map), u64: [0, 0x10000] }, doc: 'one E820 entry: 64 KiB at 0' });
      x.ctx.before(x.p, x.ctx.callOk('memory_op$XENMEM_set_memory_map', x.p.caller, { domid: 'DOMID_SELF', 'map.nr_entries': 1, 'map.buffer': addr(map) }));
      x.set('arg.nr_entries', 1);
    },
  },
  'memory_op$XENMEM_machine_memory_map': { apply: (x) => x.set('arg.nr_entries', 128) },
  'memory_op$XENMEM_exchange': {
    apply: (x) => {
      x.set('arg.in.domid', 'DOMID_SELF');
      x.set('arg.out.domid', 'DOMID_SELF');
    },
  },
  'xen_version$XENVER_build_id': { none: 'the reference machine’s hypervisor has no build id (a build-time property), so the call cannot succeed there' },
  'xen_version$XENVER_get_features': {},
  'grant_table_op$GNTTABOP_map_grant_ref': {
    apply: (x) => {
      const granter = grantToCaller(x);
      const k = mapKind(x);
      x.set('arg.dom', granter);
      x.set('arg.ref', 8);
      x.set('arg.flags', k.flags);
      x.set('arg.host_addr', k.host_addr);
    },
  },
  'grant_table_op$GNTTABOP_unmap_grant_ref': {
    apply: (x) => {
      const m = mapped(x);
      x.set('arg.handle', m.handle);
      x.set('arg.host_addr', m.host);
      x.set('arg.dev_bus_addr', x.ctx.is('arm') ? 0 : m.bus);
    },
  },
  'grant_table_op$GNTTABOP_dump_table': { none: 'the command has no handler: it always fails (its declared ENOSYS)' },
  'grant_table_op$GNTTABOP_copy': {
    apply: (x) => {
      const src = x.ctx.frame(x.p, x.p.caller).frame;
      const dst = x.ctx.frame(x.p, x.p.caller).frame;
      x.set('arg.source.domid', 'DOMID_SELF');
      x.set('arg.source.u.gmfn', src);
      x.set('arg.dest.domid', 'DOMID_SELF');
      x.set('arg.dest.u.gmfn', dst);
      x.set('arg.len', 8);
      x.set('arg.flags', 0);
    },
  },
  'grant_table_op$GNTTABOP_swap_grant_ref': {
    apply: (x) => {
      x.ctx.before(x.p, x.ctx.callOk('grant_table_op$GNTTABOP_setup_table', x.p.caller, { dom: 'DOMID_SELF', nr_frames: 1, frame_list: addr(takePage(x.p, x.p.caller)) }));
      x.set('arg.ref_a', 8);
      x.set('arg.ref_b', 9);
    },
  },
  'grant_table_op$GNTTABOP_cache_flush': {
    none: (ctx) => (ctx.is('arm') ? 'an Arm guest does not know the machine address of its pages' : undefined),
    apply: (x) => {
      x.set('arg.a.dev_bus_addr', `pte(${takePage(x.p, x.p.caller)}, 0)`);
      x.set('arg.length', 64);
      x.set('arg.op', 'GNTTAB_CACHE_CLEAN');
    },
  },
  'grant_table_op$GNTTABOP_set_version': { apply: (x) => x.set('arg.version', 1) },
  'vcpu_op$VCPUOP_get_physid': {
    apply: (x) => {
      // The hardware domain's vCPU pinned to one physical CPU (a temporary pin override).
      x.ctx.before(x.p, x.ctx.callOk('sched_op$SCHEDOP_pin_override', x.p.caller, { pcpu: 0 }));
    },
  },
  'mmuext_op$MMUEXT_PIN_L1_TABLE': { apply: tableArg('arg.arg1.mfn') },
  'mmuext_op$MMUEXT_PIN_L2_TABLE': { apply: tableArg('arg.arg1.mfn') },
  'mmuext_op$MMUEXT_PIN_L3_TABLE': { apply: tableArg('arg.arg1.mfn') },
  'mmuext_op$MMUEXT_PIN_L4_TABLE': { apply: tableArg('arg.arg1.mfn') },
  'mmuext_op$MMUEXT_UNPIN_TABLE': {
    apply: (x) => {
      tableArg('arg.arg1.mfn')(x);
      x.ctx.before(x.p, x.ctx.callOk('mmuext_op$MMUEXT_PIN_L1_TABLE', x.p.caller, { 'arg1.mfn': x.get('arg.arg1.mfn') as string }, { pdone: 0, foreigndom: 'DOMID_SELF' }));
    },
  },
  // An empty L4 (Xen fills its own slots in) as the base pointer.
  'mmuext_op$MMUEXT_NEW_BASEPTR': { apply: tableArg('arg.arg1.mfn'), limits: { [LIVE]: LIVE_WHY.ownTables } },
  'mmuext_op$MMUEXT_NEW_USER_BASEPTR': { apply: tableArg('arg.arg1.mfn') },
  'mmuext_op$MMUEXT_TLB_FLUSH_MULTI': { apply: vcpuMask },
  'mmuext_op$MMUEXT_INVLPG_MULTI': { apply: vcpuMask },
  'mmuext_op$MMUEXT_CLEAR_PAGE': { apply: pageArg('arg.arg1.mfn') },
  'mmuext_op$MMUEXT_COPY_PAGE': {
    apply: (x) => {
      pageArg('arg.arg1.mfn')(x);
      x.set('arg.arg2.src_mfn', x.ctx.frame(x.p, x.p.caller).frame);
    },
  },
  'mmuext_op$MMUEXT_MARK_SUPER': { none: 'superpages were removed: the command always fails (its declared EOPNOTSUPP)', apply: selfOwner },
  'mmuext_op$MMUEXT_UNMARK_SUPER': { none: 'superpages were removed: the command always fails (its declared EOPNOTSUPP)', apply: selfOwner },
};

// Every other batched MMU operation: DOMID_SELF owns the page tables.
for (const id of [
  'mmu_update$MMU_NORMAL_PT_UPDATE',
  'mmu_update$MMU_MACHPHYS_UPDATE',
  'mmu_update$MMU_PT_UPDATE_PRESERVE_AD',
  'mmu_update$MMU_PT_UPDATE_NO_TRANSLATE',
  'mmuext_op$MMUEXT_TLB_FLUSH_LOCAL',
  'mmuext_op$MMUEXT_INVLPG_LOCAL',
  'mmuext_op$MMUEXT_TLB_FLUSH_MULTI',
  'mmuext_op$MMUEXT_INVLPG_MULTI',
  'mmuext_op$MMUEXT_TLB_FLUSH_ALL',
  'mmuext_op$MMUEXT_INVLPG_ALL',
  'mmuext_op$MMUEXT_FLUSH_CACHE',
  'mmuext_op$MMUEXT_SET_LDT',
  'mmuext_op$MMUEXT_FLUSH_CACHE_GLOBAL',
]) {
  NORMAL_[id] ??= { apply: selfOwner };
}

export const NORMAL: Readonly<Record<string, NormalRecipe>> = NORMAL_;
