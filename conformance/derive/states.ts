/**
 * Named machine states (the spec's `state` triggers) and how a scenario reaches each: a short
 * recipe per state name, some depending on the operation (its id picks the table or field). A
 * string entry says why the state has no recipe: it needs something no scenario machine has
 * (paging, sharing, an IOMMU, a concurrent vCPU, a hypervisor build option).
 */
import { NoRecipe, type Ctx } from './context.js';
import type { OpInfo } from './ops.js';
import { addr, ensureDomain, fresh, takePage, type PvTree } from './plan.js';
import { LIVE, LIVE_WHY } from './live.js';
import type { Recipe, RecipeArgs } from './recipe.js';
import { NO_DOMAIN, NO_GFN, NON_CANONICAL } from './overrides.js';
import { mapKind } from './normal.js';

export type StateRecipe = Recipe | string | ((ctx: Ctx, info: OpInfo) => Recipe | string);

/** The x86 ABI of the same width for another kind of guest (hvm, or 32-bit pv); none on Arm. */
function x86(ctx: Ctx, kind: 'hvm' | 'pv32'): string {
  if (!ctx.is('x86')) throw new NoRecipe(`an x86 ${kind === 'hvm' ? 'HVM' : '32-bit PV'} caller`);
  if (kind === 'pv32') return 'x86_32-pv';
  return ctx.abi.startsWith('x86_32') ? 'x86_32-hvm' : 'x86_64-hvm';
}

/** Drops the set-up and the values it saved: for states where the call fails before it looks at them. */
function bare(x: RecipeArgs): void {
  x.p.before = [];
  // The steps that built page tables are gone: so are the tables.
  x.p.trees.clear();
  x.p.nextTable.clear();
  for (const [k, v] of x.p.arg) if (typeof v === 'string' && v.includes('$')) x.p.arg.set(k, 0);
  for (const [k, v] of x.p.params) if (typeof v === 'string' && v.includes('$')) x.p.params.set(k, 0);
}

/** An HVM caller (privileged, so that naming other domains passes). */
const hvmCaller =
  (how: string, apply?: (x: RecipeArgs) => void) =>
  (ctx: Ctx): Recipe => ({
    abi: x86(ctx, 'hvm'),
    how,
    apply: (x) => apply?.(x),
  });

/** Writes one 8-byte entry into a page of the caller. */
const entry = (x: RecipeArgs, page: number, slot: number, value: string) =>
  x.p.before.push({ write: { domain: x.p.caller, at: addr(page, slot * 8), u64: [value] }, doc: 'a page-table entry, written by the guest' });

/** The field of a PT-update operation holding the new entry, and the one naming where it goes. */
function entryFields(info: OpInfo): { val: string; ptr?: string } {
  if (info.id.startsWith('mmu_update$')) return { val: 'arg.val', ptr: 'arg.ptr' };
  if (info.id.startsWith('update_va_mapping')) return { val: 'val64' };
  throw new NoRecipe(`${info.id} writes no single entry`);
}

/** The pinned page-table tree the normal path of a PT update built (context.ts pvPaging). */
function pinnedTree(x: RecipeArgs): PvTree {
  const tree = x.p.trees.get(x.p.caller);
  if (!tree) throw new NoRecipe('the normal path builds no page tables');
  return tree;
}

/** The PIN command of the same level as a pin operation (itself), for recipes that build a table to pin. */
function pinLevel(info: OpInfo): number | undefined {
  const m = /MMUEXT_PIN_L(\d)_TABLE$/.exec(info.id);
  return m ? Number(m[1]) : undefined;
}

const noRecipe = {
  paging: 'needs memory paging (a pager and paged-out frames), which the reference machine does not model',
  sharing: 'needs memory sharing, which the reference machine does not model',
  race: 'needs another vCPU changing the entry during the update; a scenario runs one call at a time',
  memory: 'needs the hypervisor to run out of memory',
  xsm: 'needs a non-default XSM policy; the default (dummy) policy allows the operation',
  iommu: 'needs an IOMMU, which the reference machine does not have',
};

const watchdogsExhausted: Recipe = {
  how: 'both watchdog timers already allocated',
  apply: (x) => {
    for (let i = 0; i < 2; i++) {
      const s = x.ctx.callOk(x.info.id, x.p.caller, { id: 0, timeout: 10 });
      s.expect = 'any';
      x.ctx.before(x.p, s);
    }
    x.set('arg.id', 0);
    x.set('arg.timeout', 10);
  },
};

/** States that hold for every call on some ABIs: an operation in such a state fails before its own other checks. */
export const ALWAYS: Record<string, (ctx: Ctx) => boolean> = {
  unimplemented: () => true,
  'grant-transfer-disabled': (ctx) => ctx.is('arm'),
};

export const STATES: Record<string, StateRecipe> = {
  unimplemented: { how: 'any call: the command always fails' },
  'unknown-command': {
    how: 'a command number no operation of the hypercall has',
    apply: (x) => {
      const { info } = x;
      const values = new Set((info.h.subops?.ops ?? []).map((o) => o.value));
      let v = Math.max(...values) + 1;
      while (values.has(v)) v++;
      if (info.batch) x.set(`${info.batch.array}[].${info.batch.field}`, v);
      else if (info.selector) x.set(info.selector.name, v);
      else throw new NoRecipe('the hypercall has no selector');
    },
  },
  'unknown-command-arm': (ctx) => {
    if (!ctx.is('arm')) return 'an Arm caller';
    return STATES['unknown-command'] as Recipe;
  },

  // ───────────── who calls ─────────────
  'owner-not-pv': (ctx) => {
    if (!ctx.is('x86')) return 'PV page-table owners exist on x86 only';
    return {
      how: 'foreigndom names an HVM domain',
      apply: (x) => {
        ensureDomain(x.p, { id: 1, abi: x86(ctx, 'hvm') });
        x.set('foreigndom', 1);
      },
    };
  },
  'caller-hvm': (ctx, info) => {
    if (pinLevel(info) !== undefined || info.id === 'mmuext_op$MMUEXT_UNPIN_TABLE') return 'pin and unpin are the commands an HVM caller may use';
    return hvmCaller('a privileged HVM caller names a PV domain as the page owner', (x) => {
      ensureDomain(x.p, { id: 1, abi: ctx.abi });
      x.set('foreigndom', 1);
    })(ctx);
  },
  'caller-translated': 'unreachable for an HVM caller: mmuext_op refuses every command but pin and unpin first (EOPNOTSUPP), and a PV caller is never translated',
  'hvm-caller': hvmCaller('called by an HVM guest'),
  'x86-hvm-guest': hvmCaller('called by an HVM guest', bare),
  'hvm-without-pirqs': hvmCaller('called by an HVM guest created without PIRQ support', bare),
  'caller-32bit': (ctx) => ({ abi: x86(ctx, 'pv32'), how: 'called by a 32-bit PV guest' }),
  'translated-domain': (ctx) => {
    if (ctx.is('arm')) return { how: 'an Arm domain (always translated) exchanges one extent', apply: (x) => (x.set('arg.in.nr_extents', 1), x.set('arg.out.nr_extents', 1)) };
    return hvmCaller('an HVM domain exchanges one extent of its own memory', (x) => (x.set('arg.in.nr_extents', 1), x.set('arg.out.nr_extents', 1)))(ctx);
  },
  'target-not-translated': (ctx) => {
    if (!ctx.is('x86')) return 'every Arm domain is translated';
    return { how: 'a PV domain names itself', apply: (x) => x.set('arg.domid', 'DOMID_SELF') };
  },

  // ───────────── PV page tables ─────────────
  'frame-typed-not-writable': (_ctx, info) => {
    if (pinLevel(info) === 1) {
      return {
        how: 'an entry of the table maps writable a frame pinned as an L1 table',
        apply: (x) => {
          const table = x.get('arg.arg1.mfn');
          const m = typeof table === 'string' ? /^frame\((\d+)\)$/.exec(table) : null;
          if (!m) throw new NoRecipe('no table page in the plan');
          const other = x.ctx.tableFrame(x.p, x.p.caller);
          x.ctx.before(x.p, x.ctx.callOk('mmuext_op$MMUEXT_PIN_L1_TABLE', x.p.caller, { 'arg1.mfn': other.frame }, { pdone: 0, foreigndom: 'DOMID_SELF' }));
          entry(x, Number(m[1]), 0, `pte(${other.page}, 0x3)`);
        },
      };
    }
    if (pinLevel(info) !== undefined || info.id.includes('BASEPTR')) return 'a writable mapping in a table of that level needs a whole valid lower tree first';
    const { val } = entryFields(info);
    return {
      how: 'the new entry maps writable the caller’s own L1 table',
      apply: (x) => {
        x.set(val, `pte(${pinnedTree(x).l1}, 0x3)`);
      },
    };
  },
  'l1-flags-disallowed': (_ctx, info) => {
    const { val } = entryFields(info);
    return {
      privileged: false,
      how: 'a domain without I/O memory or cache-flush rights sets PCD in a present entry',
      apply: (x) => x.set(val, `pte(${takePage(x.p, x.p.caller)}, 0x13)`),
    };
  },
  'xen-page-non-wb': 'needs the machine frame of a Xen heap page (shared_info), which scenarios cannot name portably',
  'pt-owner-nonexistent': {
    how: 'bits 31:16 of foreigndom name a domain that does not exist',
    apply: (x) => x.set('foreigndom', `0x${(((NO_DOMAIN + 1) << 16) >>> 0).toString(16)} | DOMID_SELF`),
  },
  'pt-owner-refcounted': (ctx) => ({
    how: 'bits 31:16 of foreigndom name an HVM domain as the page-table owner',
    apply: (x) => {
      ensureDomain(x.p, { id: 1, abi: x86(ctx, 'hvm') });
      x.set('foreigndom', `0x${((1 + 1) << 16).toString(16)} | DOMID_SELF`);
    },
  }),
  'pt-owner-foreign': {
    privileged: true,
    how: 'bits 31:16 of foreigndom name another domain',
    apply: (x) => x.set('foreigndom', `0x${((x.ctx.other(x.p) + 1) << 16).toString(16)} | DOMID_SELF`),
  },
  'owner-translated': (ctx) => ({
    how: 'a privileged PV caller names an HVM domain as the data-page owner',
    apply: (x) => {
      ensureDomain(x.p, { id: 1, abi: x86(ctx, 'hvm') });
      x.set('foreigndom', 1);
    },
  }),
  'upper-xen-slot': (ctx) => {
    if (!ctx.abi.startsWith('x86_64')) return 'the 64-bit recipe writes an L4 slot';
    return {
      how: 'an update of L4 slot 256, inside the range Xen keeps for itself',
      apply: (x) => {
        x.set('arg.ptr', `pte(${pinnedTree(x).l4}, 0x800)`);
        x.set('arg.val', `pte(${takePage(x.p, x.p.caller)}, 0x3)`);
      },
    };
  },
  'upper-flags-disallowed': {
    how: 'an L2 entry with PSE set',
    apply: (x) => {
      x.set('arg.ptr', `pte(${pinnedTree(x).l2}, 0x8)`);
      x.set('arg.val', `pte(${takePage(x.p, x.p.caller)}, 0x83)`);
    },
  },
  'lower-table-invalid': {
    how: 'an L2 entry that points writable at the caller’s L4 table',
    apply: (x) => {
      const tree = pinnedTree(x);
      x.set('arg.ptr', `pte(${tree.l2}, 0x8)`);
      x.set('arg.val', `pte(${tree.l4}, 0x3)`);
    },
  },
  'owner-mismatch': {
    how: 'a privileged caller updates its own L2 naming another domain as the data-page owner',
    apply: (x) => {
      x.set('arg.ptr', `pte(${pinnedTree(x).l2}, 0x8)`);
      x.set('foreigndom', x.ctx.other(x.p));
    },
  },
  'frame-wrong-type': 'needs a descriptor-table page (set_gdt), which the reference machine does not model',
  'l2-xen-slot': '32-bit PV only: the high L2 Xen keeps',
  'entry-race': noRecipe.race,
  'frame-paged-out': noRecipe.paging,
  'target-paged-out': noRecipe.paging,
  'unshare-failed': noRecipe.sharing,
  'pt-owner-no-vcpu': 'every domain of a scenario has vCPU 0',

  // ───────────── debug registers, callbacks, assists ─────────────
  'breakpoint-address-not-guest': { how: 'DR0 set to an address in Xen’s range', apply: (x) => (x.set('reg', 0), x.set('value', '0xffff800000000000')) },
  'io-breakpoint-without-de': { how: 'DR7 enabling breakpoint 0 as an I/O breakpoint (R/W0 = 10b)', apply: (x) => (x.set('reg', 7), x.set('value', '0x20001')) },
  'cr4-de-set': 'needs the guest’s virtual CR4.DE set, which no hypercall sets',
  'non-canonical-address': (ctx, info) => {
    if (!ctx.abi.startsWith('x86_64')) return '64-bit callers only';
    const field = info.fields.find((f) => /address$/.test(f.path));
    if (!field) return `${info.id} has no address field`;
    return {
      how: 'a non-canonical entry point',
      apply: (x) => {
        if (info.id === 'callback_op$CALLBACKOP_register') x.set('arg.type', 'CALLBACKTYPE_event');
        x.set(`arg.${field.path}`, NON_CANONICAL);
      },
    };
  },
  'unknown-callback-type': { how: 'callback type 3, which is unused', apply: (x) => x.set('arg.type', 3) },
  'vm-assist-type-not-valid-for-guest': (ctx) => ({
    how: ctx.is('arm') ? 'type 0, valid only for x86 PV' : 'type 6, valid for no guest kind',
    apply: (x) => x.set('type', ctx.is('arm') ? 0 : 6),
  }),
  'in-multicall': {
    how: 'a multicall whose one entry is itself a multicall',
    apply: (x) => {
      const list = x.get('call_list');
      if (typeof list !== 'string') throw new NoRecipe('no call list in the plan');
      x.p.before.push({ write: { domain: x.p.caller, at: list, u64: ['__HYPERVISOR_multicall', 0, list, 1] }, doc: 'entry 0: multicall(call_list, 1)' });
      x.set('nr_calls', 1);
    },
    reportedIn: (x, expected) => ({ memory: { domain: x.p.caller, at: `${x.get('call_list') as string} + 8`, u64: [expected] }, doc: 'the nested multicall’s result in entry 0' }),
  },

  // ───────────── event channels ─────────────
  'ports-exhausted': {
    how: 'the domain’s port limit is already used up',
    apply: (x) => {
      const mine = x.p.before.filter((s) => 'call' in s && (s.domain ?? 0) === x.p.caller && /EVTCHNOP_(alloc_unbound|bind_)/.test(s.call)).length;
      const d = x.p.domains.find((v) => v.id === x.p.caller);
      if (!d) throw new NoRecipe('no caller domain');
      d.maxEvtchnPort = Math.max(mine, 1);
      if (mine === 0) x.ctx.port(x.p, x.p.caller);
    },
  },
  'global-virq-on-nonzero-vcpu': {
    how: 'VIRQ_DOM_EXC (global) bound on vCPU 1',
    apply: (x) => {
      const d = x.p.domains.find((v) => v.id === x.p.caller);
      if (d) d.vcpus = 2;
      x.set('arg.virq', 'VIRQ_DOM_EXC');
      x.set('arg.vcpu', 1);
    },
  },
  'virq-already-bound': {
    how: 'the same VIRQ bound twice on the vCPU',
    apply: (x) => x.ctx.before(x.p, x.ctx.callOk(x.info.id, x.p.caller, { virq: x.get('arg.virq') ?? 0, vcpu: x.get('arg.vcpu') ?? 0 })),
  },
  'target-not-paused': {
    how: 'the control domain resets a domain it has not paused',
    apply: (x) => x.set('arg.dom', x.ctx.other(x.p)),
  },
  'reset-in-progress': 'needs a reset of the domain still running (a continuation between two calls)',
  'xen-consumers-active': 'needs channels Xen itself uses (e.g. for a device model), which scenarios cannot open',

  // ───────────── vCPUs ─────────────
  'vcpu-not-current': {
    how: 'vCPU 1 of a two-vCPU domain, from vCPU 0',
    apply: (x) => {
      const d = x.p.domains.find((v) => v.id === x.p.caller);
      if (d) d.vcpus = 2;
      x.set('vcpuid', 1);
    },
  },
  'vcpu-not-initialised': {
    how: 'vCPU 1 of a two-vCPU domain, never initialised',
    apply: (x) => {
      const d = x.p.domains.find((v) => v.id === x.p.caller);
      if (d) d.vcpus = 2;
      x.set('vcpuid', 1);
    },
  },
  'vcpu-initialised': { how: 'vCPU 0, which runs', apply: (x) => x.set('vcpuid', 0) },
  'no-vcpu-info': {
    how: 'vCPU 32 of a 33-vCPU domain, which has no vcpu_info in shared_info',
    apply: (x) => {
      const d = x.p.domains.find((v) => v.id === x.p.caller);
      if (d) d.vcpus = 33;
      x.set('vcpuid', 32);
    },
  },
  'vcpu-info-crosses-page': { how: 'an offset 32 bytes before the end of the page (a vcpu_info is 64 bytes)', apply: (x) => x.set('arg.offset', 4096 - 32) },
  'offset-misaligned-for-native-vcpu-info': (ctx) => {
    if (ctx.abi.startsWith('x86_32')) return '32-bit x86 guests use the compat layout';
    return { how: 'offset 4: a multiple of 4, not of 8', apply: (x) => x.set('arg.offset', 4) };
  },
  'vcpu-info-registered': {
    how: 'a second registration for the vCPU',
    apply: (x) => {
      const mfn = x.ctx.frame(x.p, x.p.caller).frame;
      x.ctx.before(x.p, x.ctx.callOk(x.info.id, x.p.caller, { mfn, offset: 0 }, { vcpuid: 0 }));
    },
  },
  'page-not-writable': (ctx) => {
    if (!ctx.is('x86')) return 'page-table frames are x86 PV’s';
    return {
      how: 'the frame is pinned as an L1 page table',
      apply: (x) => {
        const f = x.ctx.tableFrame(x.p, x.p.caller).frame;
        x.ctx.before(x.p, x.ctx.callOk('mmuext_op$MMUEXT_PIN_L1_TABLE', x.p.caller, { 'arg1.mfn': f }, { pdone: 0, foreigndom: 'DOMID_SELF' }));
        x.set('arg.mfn', f);
      },
    };
  },
  'target-vcpu-running': 'needs a second vCPU brought up (initialised with a full context), beyond what derived scenarios set up',
  'vcpu-not-hwdom-pinned': { how: 'no pin override in force', limits: { [LIVE]: LIVE_WHY.oneCpuPinned }, apply: (x) => (x.p.before = x.p.before.filter((s) => !('call' in s && s.call === 'sched_op$SCHEDOP_pin_override'))) },
  'bad-context': 'an unacceptable context needs architecture knowledge (selectors, control registers) outside the spec',

  // ───────────── scheduler ─────────────
  'watchdogs-exhausted': (ctx) => {
    if (ctx.abi.startsWith('x86_64') || ctx.abi === 'arm64') return 'Xen 4.17 returns this ENOSPC through its unsigned id: a 64-bit caller reads 2^32 - ENOSPC (the spec says so), not the errno a derived expectation can state';
    return watchdogsExhausted;
  },
  'host-mapping-mismatch': (ctx) => {
    if (!ctx.is('x86')) return 'the recipe uses a PV host mapping';
    return {
      how: 'a host mapping at linear 0x1000, unmapped at 0x2000',
      apply: (x) => {
        bare(x);
        x.ctx.pvPaging(x.p, x.p.caller, true);
        const granter = x.ctx.other(x.p);
        x.ctx.grant(x.p, granter, x.p.caller, 8);
        const h = fresh(x.p, 'handle');
        x.ctx.before(x.p, x.ctx.callOk('grant_table_op$GNTTABOP_map_grant_ref', x.p.caller, { host_addr: 0x1000, flags: 'GNTMAP_host_map', ref: 8, dom: granter }, {}, { [h]: 'arg.handle' }));
        x.set('arg.handle', `$${h}`);
        x.set('arg.host_addr', 0x2000);
        x.set('arg.dev_bus_addr', 0);
      },
    };
  },
  'no-pin-override': { how: 'pcpu -1 without an override in force', apply: (x) => x.set('arg.pcpu', -1) },
  'pin-override-active': {
    how: 'a second override while one is in force (CPU 0 both times: every host has it)',
    apply: (x) => {
      x.ctx.before(x.p, x.ctx.callOk(x.info.id, x.p.caller, { pcpu: 0 }));
      x.set('arg.pcpu', 0);
    },
  },
  'pcpu-above-nr-cpus': { how: 'pcpu 0x7fffffff', apply: (x) => x.set('arg.pcpu', 0x7fffffff) },
  'pcpu-not-online': 'which CPUs are online below NR_CPUS is a property of the host',

  // ───────────── memory ─────────────
  'no-memory-map': {
    how: 'no map was set',
    apply: (x) => (x.p.before = x.p.before.filter((s) => !('call' in s && s.call === 'memory_op$XENMEM_set_memory_map'))),
  },
  'buffer-too-small': { how: 'a buffer with room for no entry', apply: (x) => x.set('arg.nr_entries', 0) },
  'exchange-mismatch': { how: 'one extent in, none out', apply: (x) => (x.set('arg.in.nr_extents', 1), x.set('arg.out.nr_extents', 0)) },
  'extent-order-above-max': { how: 'in.extent_order 20', apply: (x) => (x.set('arg.in.nr_extents', 1), x.set('arg.out.nr_extents', 1), x.set('arg.in.extent_order', 20), x.set('arg.out.extent_order', 20)) },
  'bad-map-index': {
    how: 'XENMAPSPACE_shared_info with idx 1',
    apply: (x) => (x.set('arg.space', 'XENMAPSPACE_shared_info'), x.set('arg.idx', 1)),
  },
  'gpfn-invalid': { how: 'a gpfn of all ones', apply: (x) => x.set('arg.gpfns[]', '0xffffffffffffffff') },
  'range-wraps': {
    how: 'gmfn_range with idx + size beyond the largest frame number',
    apply: (x) => (x.set('arg.space', 'XENMAPSPACE_gmfn_range'), x.set('arg.size', 2), x.set('arg.idx', '0xffffffffffffffff')),
  },
  'space-unsupported-on-arm': (ctx) => (ctx.is('arm') ? { how: 'XENMAPSPACE_gmfn on Arm', apply: (x) => x.set('arg.space', 'XENMAPSPACE_gmfn') } : 'Arm only'),
  'out-of-memory': noRecipe.memory,
  'page-shared': noRecipe.sharing,
  'pv32-disabled': 'a hypervisor build without 32-bit PV support',
  'compat-xlat-too-small': '32-bit callers with a large order difference: the compat translation area is a build property',
  'bad-node': 'which NUMA nodes exist is a property of the host',
  'gmfn-moved': 'needs the frame to move between the lookup and the update (a concurrent change)',
  'gfn-holds-foreign-page': 'needs a foreign or grant mapping at the target gfn of a translated domain',
  'gfn-is-mmio': 'needs a direct MMIO mapping, which scenarios cannot create',
  'frame-busy': 'needs a grant frame that cannot be referenced',
  'dev-mmio-not-hwdom-self': 'needs device MMIO, which the reference machine does not have',
  'dev-mmio-res0-set': 'needs device MMIO, which the reference machine does not have',
  'range-start-beyond-size': (_ctx, info) => ({
    how: 'one frame of a range, resumed at frame 2 (the start is cmd >> 6)',
    apply: (x) => {
      if (info.id === 'memory_op$XENMEM_add_to_physmap') x.set('arg.space', 'XENMAPSPACE_gmfn_range');
      x.set('arg.size', 1);
      x.set('cmd', `${info.op?.name ?? 'XENMEM_add_to_physmap'} | 0x80`);
    },
  }),

  // ───────────── grant tables ─────────────
  'no-mapping-kind': { how: 'neither GNTMAP_host_map nor GNTMAP_device_map', apply: (x) => x.set('arg.flags', 0) },
  'readonly-grant-mapped-writable': {
    how: 'a GTF_readonly grant mapped for writing',
    apply: (x) => {
      const granter = x.get('arg.dom');
      if (typeof granter !== 'number') throw new NoRecipe('no granter in the plan');
      x.ctx.grant(x.p, granter, x.p.caller, 9, 'GTF_permit_access | GTF_readonly');
      x.set('arg.ref', 9);
    },
  },
  'granted-frame-invalid': {
    how: 'the grant names a frame number beyond the host’s memory',
    apply: (x) => {
      const granter = x.get('arg.dom');
      if (typeof granter !== 'number') throw new NoRecipe('no granter in the plan');
      x.ctx.grant(x.p, granter, x.p.caller, 9, 'GTF_permit_access', NO_GFN);
      x.set('arg.ref', 9);
    },
  },
  'dev-bus-addr-mismatch': (ctx) =>
    ctx.is('arm') ? 'Arm guests make no device mappings' : { how: 'dev_bus_addr of another frame', apply: (x) => x.set('arg.dev_bus_addr', `pte(${takePage(x.p, x.p.caller)}, 0)`) },
  'nr-frames-above-max-grant-frames': { how: 'nr_frames 0x10000', apply: (x) => x.set('arg.nr_frames', 0x10000) },
  'nr-frames-above-status-frames': { how: 'a v1 table has no status frames', apply: (x) => x.set('arg.nr_frames', 1) },
  'grants-in-use': {
    how: 'the domain’s grant is mapped by another domain',
    apply: (x) => {
      if (x.ctx.is('arm')) throw new NoRecipe('Arm tables are v1 only: there is no version to switch to');
      const grantee = x.ctx.other(x.p);
      x.ctx.grant(x.p, x.p.caller, grantee, 8);
      x.ctx.before(x.p, x.ctx.callOk('grant_table_op$GNTTABOP_map_grant_ref', grantee, { ...mapKind(x), ref: 8, dom: x.p.caller }));
      x.set('arg.version', 2);
    },
  },
  'receiver-full': {
    how: 'the receiver is at its page limit (it freed no page first)',
    apply: (x) => (x.p.before = x.p.before.filter((s) => !('call' in s && s.call === 'memory_op$XENMEM_decrease_reservation'))),
  },
  'page-not-stealable': (ctx) => {
    if (!ctx.is('x86')) return 'page-table frames are x86 PV’s';
    return {
      how: 'the page is pinned as an L1 table (it has references beyond its allocation)',
      apply: (x) => {
        const f = x.ctx.tableFrame(x.p, x.p.caller).frame;
        x.ctx.before(x.p, x.ctx.callOk('mmuext_op$MMUEXT_PIN_L1_TABLE', x.p.caller, { 'arg1.mfn': f }, { pdone: 0, foreigndom: 'DOMID_SELF' }));
        x.set('arg.mfn', f);
      },
    };
  },
  'dest-not-writable': (ctx) => {
    if (!ctx.is('x86')) return 'page-table frames are x86 PV’s';
    return {
      how: 'the destination frame is pinned as an L1 table',
      apply: (x) => {
        const f = x.ctx.tableFrame(x.p, x.p.caller).frame;
        x.ctx.before(x.p, x.ctx.callOk('mmuext_op$MMUEXT_PIN_L1_TABLE', x.p.caller, { 'arg1.mfn': f }, { pdone: 0, foreigndom: 'DOMID_SELF' }));
        x.set('arg.dest.u.gmfn', f);
      },
    };
  },
  'frame-side-not-domid-self': { how: 'a frame side names the caller by its own id', apply: (x) => x.set('arg.source.domid', x.p.caller) },
  'copy-beyond-page': { how: 'offset + len crosses the end of the page', apply: (x) => (x.set('arg.source.offset', 4092), x.set('arg.len', 8)) },
  'frame-unowned': 'needs a valid frame no domain owns, which scenarios cannot name',
  'maptrack-exhausted': 'needs the caller’s mapping-handle limit (a toolstack setting) reached',
  'grant-entry-unstable': noRecipe.race,
  'granted-frame-paged': noRecipe.paging,
  'frame-paged': noRecipe.paging,
  'granted-iomem-not-permitted': 'needs a grant of I/O memory, which the reference machine does not have',
  'granted-frame-unpinnable': 'needs a granted frame whose owner changed under the grant',
  'p2m-grant-mapping-failed': 'needs a failing p2m update',
  'iommu-map-failed': noRecipe.iommu,
  'iommu-unmap-failed': noRecipe.iommu,
  'bad-transitive-grant': 'needs v2 transitive grants, beyond what derived scenarios set up',
  'copy-outside-sub-page': 'needs a v2 sub-page grant, beyond what derived scenarios set up',
  'granter-dying': 'needs a dying domain, which scenarios cannot create',
  'version-changed': 'needs the receiver to change its table version during the transfer (a concurrent change)',
  'receiver-address-limit': 'needs a receiver that can address only low memory with no page free there',
  'page-not-removable': 'needs a page that cannot be removed from the physmap',
  'grant-transfer-disabled': (ctx) => (ctx.is('arm') ? { how: 'any transfer on Arm' } : 'x86 needs the gnttab=no-transfer boot option'),
  'v2-ops-in-flight': 'needs a v2 copy in flight during the call (a concurrent operation)',
  'reserved-entry-not-v1': 'needs a v2 reserved entry that v1 cannot hold, beyond what derived scenarios set up',
  'status-frame-mapped': 'needs the guest to map a status frame, beyond what derived scenarios set up',

  // ───────────── physdev, build ─────────────
  'eoi-map-registered': {
    how: 'a second registration',
    apply: (x) => x.ctx.before(x.p, x.ctx.callOk(x.info.id, x.p.caller, { gmfn: x.ctx.frame(x.p, x.p.caller).frame })),
  },
  'map-failed': 'needs Xen to fail mapping the page',
  'pirqs-exhausted': 'needs every PIRQ of the range in use (hundreds of calls)',
  'no-build-id': 'a hypervisor built without a build id (a build-time property)',
  'build-id-longer-than-len': 'needs a hypervisor with a build id; the reference machine has none',
};

