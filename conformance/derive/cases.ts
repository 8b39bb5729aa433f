/**
 * From a declared error's trigger to a recipe: generic ones for value, fault and privilege
 * triggers, a table per resource kind and state, the named machine states (states.ts), and the
 * few operation-specific cases where the generic one would exercise another check first.
 */
import type { ErrorDecl } from '../../spec/model.js';
import { NoRecipe, type Ctx } from './context.js';
import { countPath, type OpInfo } from './ops.js';
import { addr, fresh, takePage } from './plan.js';
import type { Recipe, RecipeArgs } from './recipe.js';
import { STATES } from './states.js';
import { triggerKey, valueFor } from './values.js';
import { NO_DOMAIN, NO_GFN, NON_CANONICAL, OVERRIDES } from './overrides.js';

/** A frame beyond the reference machine's RAM that Xen treats as I/O memory (below 2^40 - 1, which it reserves as invalid). */
export const IO_FRAME = '0x10000000';
/** A frame number no host has (2^40 - 1 frames: far above the reference machine's memory). */
export const NO_FRAME = '0xffffffffff';
/** A canonical linear address inside the range Xen reserves for itself on x86_64. */
export const XEN_RANGE = '0xffff800000000000';

export function caseRecipe(ctx: Ctx, info: OpInfo, e: ErrorDecl): Recipe {
  const key = triggerKey(e.trigger);
  const special = OVERRIDES[`${info.id}|${e.code}|${key}`] ?? OVERRIDES[`${info.h.name}|${e.code}|${key}`];
  if (special) {
    if (typeof special === 'string') throw new NoRecipe(special);
    return special;
  }
  const t = e.trigger;
  if (!t) throw new NoRecipe('the error has no machine-usable trigger', 'no-recipe');
  switch (t.kind) {
    case 'value':
      return { apply: (x) => x.set(t.path, valueFor(x, t)) };
    case 'fault':
      return { how: `${t.path} points at memory the caller cannot access`, apply: (x) => fault(x, t.path) };
    case 'privilege':
      return privilege(t.need);
    case 'resource': {
      const r = RESOURCES[`${t.resource}:${t.state}`];
      if (!r) throw new NoRecipe(`no recipe for a ${t.resource} in state ${t.state}`, 'no-recipe');
      return r(t.path);
    }
    case 'state': {
      if (t.state.startsWith('xsm-denies')) throw new NoRecipe('needs a non-default XSM policy; the default (dummy) policy allows the operation');
      const entry = STATES[t.state];
      if (!entry) throw new NoRecipe(`no recipe for the state '${t.state}'`, 'no-recipe');
      const r = typeof entry === 'function' ? entry(ctx, info) : entry;
      if (typeof r === 'string') throw new NoRecipe(r);
      return r;
    }
  }
}

/** Points a path at unmapped memory; a handle with a count gets one element. */
export function fault(x: RecipeArgs, path: string): void {
  const { info, p } = x;
  if (path === info.argument?.name || (path === 'arg' && !info.struct)) {
    x.set(info.argument?.name ?? path, 'unmapped');
    return;
  }
  x.set(path, 'unmapped');
  const countOf = path.startsWith('arg.') ? countPath(info, path.slice(4)) : info.args.find((a) => a.name === path)?.count;
  if (countOf) {
    if (info.fields.some((f) => f.path === countOf)) {
      if (!p.arg.get(countOf)) p.arg.set(countOf, 1);
    } else if (info.params.some((a) => a.name === countOf)) {
      if (!p.params.get(countOf)) p.params.set(countOf, 1);
    }
  }
}

/** The first domain reference of an operation: a consumed domid, or a domid register argument. */
function domainPath(x: RecipeArgs): string | undefined {
  const u = x.ctx.uses(x.info, 'consumes').find((c) => c.resource === 'domid');
  if (u) return u.path;
  return x.info.params.find((a) => a.name === 'foreigndom' || a.name === 'domid' || (a.type.kind === 'name' && a.type.name === 'domid_t'))?.name;
}

function privilege(need: string): Recipe {
  switch (need) {
    case 'control-domain':
    case 'hardware-domain':
      return { privileged: false, how: 'called by an unprivileged domain' };
    case 'device-model':
    case 'target-or-privileged':
      return {
        privileged: false,
        how: 'an unprivileged domain names another domain',
        apply: (x) => {
          const path = domainPath(x);
          if (path) x.set(path, x.ctx.other(x.p));
        },
      };
    case 'cache-flush':
      return { privileged: false, how: 'called by a domain without I/O memory or port access' };
    case 'iomem-access':
      return {
        privileged: false,
        how: 'an unprivileged domain maps a frame beyond RAM (I/O memory it has no access to)',
        apply: (x) => {
          const io = `${IO_FRAME}000 | 0x3`;
          if (x.info.id.startsWith('mmu_update$')) return x.set('arg.val', io);
          if (x.info.id.startsWith('update_va_mapping')) return x.set('val64', io);
          if (x.info.id === 'mmuext_op$MMUEXT_PIN_L1_TABLE') {
            const table = x.get('arg.arg1.mfn');
            const m = typeof table === 'string' ? /^frame\((\d+)\)$/.exec(table) : null;
            if (!m) throw new NoRecipe('no table page in the plan');
            x.p.before.push({ write: { domain: x.p.caller, at: addr(Number(m[1])), u64: [io] }, doc: 'entry 0 of the table to pin' });
            return;
          }
          throw new NoRecipe('only L1 entries map data frames; higher levels reference tables');
        },
      };
    default:
      throw new NoRecipe(`no recipe for lacking the privilege '${need}'`, 'no-recipe');
  }
}

type ResourceRecipe = (path: string) => Recipe;

/**
 * A frame in the form the path takes: a page-table entry where the spec says the frame is in
 * bits 51:12 (present and writable), a machine address for an address field, else the number.
 */
export function frameValue(x: RecipeArgs, path: string, dom: number, page: number | 'none'): string {
  const use = x.ctx.uses(x.info, 'consumes').find((u) => u.path === path);
  const frame = page === 'none' ? NO_FRAME : `frame(${dom}:${page})`;
  if (use?.doc && /bits 51:12/.test(use.doc)) return page === 'none' ? `${NO_FRAME}000 | 0x3` : `pte(${dom}:${page}, 0x3)`;
  if (/addr$/.test(path)) return page === 'none' ? `${NO_FRAME}000` : `pte(${dom}:${page}, 0)`;
  return frame;
}

/** The operation that frees a resource, and where it takes it. */
const RELEASE: Record<string, { op: string; field: string }> = {
  evtchn_port: { op: 'event_channel_op$EVTCHNOP_close', field: 'port' },
  grant_handle: { op: 'grant_table_op$GNTTABOP_unmap_grant_ref', field: 'handle' },
};

/** Recipes per resource kind and state: the value (and set-up) that puts the resource in that state. */
export const RESOURCES: Record<string, ResourceRecipe> = {
  'domid:nonexistent': (path) => ({ how: 'a domain id no domain has', apply: (x) => x.set(path, NO_DOMAIN) }),
  'domid:foreign': (path) => ({ privileged: false, how: 'an unprivileged domain names another domain', apply: (x) => x.set(path, x.ctx.other(x.p)) }),
  'vcpu_id:nonexistent': (path) => ({
    how: 'a vCPU id the domain does not have',
    apply: (x) => x.set(path, x.p.domains.find((d) => d.id === x.p.caller)?.vcpus ?? 1),
  }),
  'evtchn_port:out-of-range': (path) => ({ how: 'port EVTCHN_2L_NR_CHANNELS, beyond every 2-level port', apply: (x) => x.set(path, 'EVTCHN_2L_NR_CHANNELS') }),
  'evtchn_port:free': (path) => ({
    how: 'a port allocated and then closed',
    apply: (x) => {
      const port = x.ctx.port(x.p, x.p.caller);
      x.ctx.before(x.p, x.ctx.callOk(RELEASE['evtchn_port']!.op, x.p.caller, { port }));
      x.set(path, port);
    },
  }),
  'evtchn_port:wrong-state': (path) => ({
    how: 'an IPI port',
    apply: (x) => {
      const name = fresh(x.p, 'ipi');
      x.ctx.before(x.p, x.ctx.callOk('event_channel_op$EVTCHNOP_bind_ipi', x.p.caller, { vcpu: 0 }, {}, { [name]: 'arg.port' }));
      x.set(path, `$${name}`);
    },
  }),
  'grant_ref:out-of-range': (path) => ({ how: 'a reference far beyond the table', apply: (x) => x.set(path, 0xfffffff) }),
  'grant_handle:out-of-range': (path) => ({ how: 'a handle far beyond the mapping table', apply: (x) => x.set(path, 0xfffffff) }),
  'grant_handle:free': (path) => ({
    how: 'a handle already unmapped',
    apply: (x) => {
      const h = x.get(path);
      if (h === undefined) throw new NoRecipe('the plan maps nothing');
      // Unmap it once first, with the fields the call under test has.
      const fields: Record<string, string | number> = {};
      for (const [k, v] of x.p.arg) if (['host_addr', 'dev_bus_addr', 'handle'].includes(k)) fields[k] = v;
      x.ctx.before(x.p, x.ctx.callOk(RELEASE['grant_handle']!.op, x.p.caller, fields));
    },
  }),
  'mfn:foreign': (path) => ({
    how: 'a frame of another domain',
    apply: (x) => {
      const other = x.ctx.other(x.p);
      x.set(path, frameValue(x, path, other, takePage(x.p, other)));
    },
  }),
  'maddr:foreign': (path) => ({
    how: 'an address in a frame of another domain',
    apply: (x) => {
      const other = x.ctx.other(x.p);
      x.set(path, `pte(${other}:${takePage(x.p, other)}, 0)`);
    },
  }),
  'mfn:unallocated': (path) => ({ how: 'a frame number beyond the host’s memory', apply: (x) => x.set(path, frameValue(x, path, x.p.caller, 'none')) }),
  'mfn:out-of-range': (path) => ({ how: 'a frame number beyond the host’s memory', apply: (x) => x.set(path, frameValue(x, path, x.p.caller, 'none')) }),
  'gfn:unmapped': (path) => ({ how: 'a frame number beyond the domain’s memory', apply: (x) => x.set(path, NO_GFN) }),
  'linear_address:non-canonical': (path) => ({ how: 'a non-canonical address', apply: (x) => x.set(path, NON_CANONICAL) }),
  'linear_address:out-of-range': (path) => ({ how: 'an address in Xen’s range', apply: (x) => x.set(path, XEN_RANGE) }),
  'linear_address:unmapped': (path) => ({ how: 'an address no L1 table of the caller covers', apply: (x) => x.set(path, '0x40000000') }),
  'watchdog:free': (path) => ({ how: 'a watchdog id never allocated', apply: (x) => x.set(path, 1) }),
  'pirq:unmapped': (path) => ({ how: 'PIRQ 1, never set up', apply: (x) => x.set(path, 1) }),
  'pirq:out-of-range': (path) => ({ how: 'a PIRQ far beyond the domain’s', apply: (x) => x.set(path, 0xfffffff) }),
  'mfn:pinned': (path) => ({
    how: 'a frame already pinned',
    apply: (x) => {
      const fr = x.get(path);
      if (fr === undefined) throw new NoRecipe('no frame in the plan');
      x.ctx.before(x.p, x.ctx.callOk(x.info.id, x.p.caller, { 'arg1.mfn': fr }, { pdone: 0, foreigndom: 'DOMID_SELF' }));
    },
  }),
  'mfn:unpinned': (path) => ({ how: 'a frame never pinned', apply: (x) => x.set(path, x.ctx.frame(x.p, x.p.caller).frame) }),
  'mfn:wrong-type': (path) => ({
    how: 'a frame pinned as a page table of another level',
    apply: (x) => {
      const fr = x.ctx.tableFrame(x.p, x.p.caller).frame;
      const pin = x.info.id === 'mmuext_op$MMUEXT_PIN_L1_TABLE' ? 'mmuext_op$MMUEXT_PIN_L2_TABLE' : 'mmuext_op$MMUEXT_PIN_L1_TABLE';
      x.ctx.before(x.p, x.ctx.callOk(pin, x.p.caller, { 'arg1.mfn': fr }, { pdone: 0, foreigndom: 'DOMID_SELF' }));
      x.set(path, fr);
    },
  }),
};

