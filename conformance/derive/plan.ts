/**
 * A plan: one call of an operation under test, with the machine it runs on and the steps that
 * set the state up. Recipes (normal paths, resource states, machine states) edit plans; the
 * derivation turns a finished plan into scenario steps, as a typed call when the stub can
 * express it, else as a raw hypercall over the struct written into guest memory.
 */
import type { CallStep, ScenarioDomain, Step, Value } from '../scenario.js';
import { fieldAt } from '../lower.js';
import type { Spec } from '../../spec/model.js';
import type { OpInfo } from './ops.js';

export const PAGE = 4096;
// Pages 12 to 15 of the default 16-page machine are lowering's, for typed-call arguments.
/**
 * The data-area pages a plan makes page tables of (8 to 11), and only those. A PV kernel maps its
 * own memory, and Xen refuses to type as a page table a frame the guest maps writable; a kernel
 * that lets a program build page tables maps a few pages read-only for it (the live target's
 * test kernel maps these four: live-xen/build.ts KERNEL_LAYOUT). So the page tables and pinned
 * frames of a plan come from these pages, and nothing else does: no hypercall writes its output
 * into them.
 */
export const TABLE_FIRST = 8;
export const TABLE_PAGES = 4;
/** Where a raw call's struct goes (an ordinary page, below the table pages). */
const RAW_PAGE = TABLE_FIRST - 1;
/** Ordinary data pages a plan hands out: 1 up to the raw call's page. */
const DATA_PAGES_END = RAW_PAGE;

/** A PV page-table tree a plan built (pages of its table pages), and whether it is the caller's base pointer. */
export interface PvTree {
  l4: number;
  l3: number;
  l2: number;
  l1: number;
  installed: boolean;
}

export interface Plan {
  domains: ScenarioDomain[];
  /** The domain making the call under test. */
  caller: number;
  vcpu?: number;
  /** Steps that set the state up. */
  before: Step[];
  /** The struct argument's fields by dotted path (numbers or expressions). */
  arg: Map<string, Value>;
  /** The stub's own parameters by spec argument name. */
  params: Map<string, Value>;
  /** Register values that the typed stub cannot express (selector, count, the struct pointer): a raw call. */
  raw: Map<string, Value>;
  /** Values the call under test saves (name → arg.<field>). */
  save?: Record<string, string>;
  /** Next free data-area page of each domain. */
  nextPage: Map<number, number>;
  /** Next free table page of each domain (TABLE_FIRST onwards). */
  nextTable: Map<number, number>;
  /** The PV page-table tree of each domain, once built. */
  trees: Map<number, PvTree>;
  /** Targets the scenario cannot run on, with the reason (the scenario's `limits`). */
  limits?: Record<string, string>;
  /** Saved-name counter. */
  names: number;
}

/** A deep copy of a plan. */
export function clonePlan(p: Plan): Plan {
  return {
    domains: p.domains.map((d) => ({ ...d })),
    caller: p.caller,
    ...(p.vcpu !== undefined ? { vcpu: p.vcpu } : {}),
    before: structuredClone(p.before),
    arg: new Map(p.arg),
    params: new Map(p.params),
    raw: new Map(p.raw),
    ...(p.save ? { save: { ...p.save } } : {}),
    nextPage: new Map(p.nextPage),
    nextTable: new Map(p.nextTable),
    trees: new Map([...p.trees].map(([d, t]) => [d, { ...t }])),
    ...(p.limits ? { limits: { ...p.limits } } : {}),
    names: p.names,
  };
}

/** A fresh data-area page of domain `dom`: its page number. */
export function takePage(p: Plan, dom: number): number {
  // Page 0 is skipped: on a target whose data area starts at 0 its address is NULL (and its frame may be 0).
  const n = p.nextPage.get(dom) ?? 1;
  if (n >= DATA_PAGES_END) throw new Error(`domain ${dom} has no free data page left (pages 1 to ${DATA_PAGES_END - 1})`);
  p.nextPage.set(dom, n + 1);
  return n;
}

/** A fresh page of domain `dom` that may become a page table (see TABLE_FIRST): its page number. */
export function takeTablePage(p: Plan, dom: number): number {
  const n = p.nextTable.get(dom) ?? TABLE_FIRST;
  if (n >= TABLE_FIRST + TABLE_PAGES) throw new Error(`domain ${dom} has no free table page left (pages ${TABLE_FIRST} to ${TABLE_FIRST + TABLE_PAGES - 1})`);
  p.nextTable.set(dom, n + 1);
  return n;
}

/** Marks the plan's scenario as not runnable on a target, saying why (the scenario's `limits`). */
export function limit(p: Plan, target: string, why: string): void {
  p.limits = { ...p.limits, [target]: why };
}

/** The address expression of byte `off` of page `page` of `dom`'s data area (seen by `dom`). */
export function addr(page: number, off = 0, dom?: number): string {
  const a = `0x${(page * PAGE + off).toString(16)}`;
  return dom === undefined ? `@${a}` : `@${dom}:${a}`;
}

/** A new name for a saved value. */
export function fresh(p: Plan, base: string): string {
  p.names += 1;
  return `${base}${p.names}`;
}

/** Ensures the machine has a domain with this id (added with the given properties when missing). */
export function ensureDomain(p: Plan, d: ScenarioDomain): void {
  const have = p.domains.find((x) => x.id === d.id);
  if (have) Object.assign(have, d);
  else {
    p.domains.push({ ...d });
    p.domains.sort((a, b) => a.id - b.id);
  }
}

/** Nested fields from dotted paths (numeric segments become list positions, earlier ones 0). */
export function unflatten(flat: ReadonlyMap<string, Value>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [path, v] of [...flat.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
    const parts = path.split('.');
    let cur: Record<string, unknown> | unknown[] = out;
    parts.forEach((k, i) => {
      const last = i === parts.length - 1;
      const nextIsIndex = !last && /^\d+$/.test(parts[i + 1] as string);
      if (Array.isArray(cur)) {
        const idx = Number(k);
        while (cur.length < idx) cur.push(0);
        if (last) cur[idx] = v;
        else {
          if (typeof cur[idx] !== 'object' || cur[idx] === null) cur[idx] = nextIsIndex ? [] : {};
          cur = cur[idx] as Record<string, unknown> | unknown[];
        }
      } else {
        if (last) cur[k] = v;
        else {
          if (typeof cur[k] !== 'object' || cur[k] === null) cur[k] = nextIsIndex ? [] : {};
          cur = cur[k] as Record<string, unknown> | unknown[];
        }
      }
    });
  }
  return out;
}

/** A typed call step of an operation from plan-like parts. */
export function callStep(info: OpInfo, parts: { dom: number; vcpu?: number; arg: ReadonlyMap<string, Value>; params: ReadonlyMap<string, Value>; save?: Record<string, string>; doc?: string }): CallStep {
  const step: CallStep = { call: info.id, domain: parts.dom };
  if (parts.vcpu !== undefined && parts.vcpu !== 0) step.vcpu = parts.vcpu;
  if (info.struct) step.arg = unflatten(parts.arg);
  const args = info.params.map((a) => parts.params.get(a.name) ?? 0);
  if (args.length > 0) step.args = args;
  if (parts.save && Object.keys(parts.save).length > 0) step.save = parts.save;
  if (parts.doc) step.doc = parts.doc;
  return step;
}

/**
 * The call under test as steps: a typed call, or, when the plan sets registers the stub cannot
 * (a selector with extra bits, a count, the struct pointer itself), writes of the struct's fields
 * into guest memory followed by a raw hypercall.
 */
export function callSteps(spec: Spec, info: OpInfo, p: Plan, expect: CallStep['expect']): Step[] {
  if (p.raw.size === 0) {
    const step = callStep(info, { dom: p.caller, ...(p.vcpu !== undefined ? { vcpu: p.vcpu } : {}), arg: p.arg, params: p.params, ...(p.save ? { save: p.save } : {}) });
    if (expect !== undefined) step.expect = expect;
    return [step];
  }
  if (p.save) throw new Error(`${info.id}: a raw call cannot save values`);
  const steps: Step[] = [];
  const at = addr(RAW_PAGE);
  const fields = new Map(p.arg);
  if (info.batch && info.op && !fields.has(info.batch.field)) fields.set(info.batch.field, info.op.value);
  const width = (path: string) => {
    const fl = info.struct ? fieldAt(spec, info.engine, info.struct, path) : undefined;
    if (!fl) throw new Error(`${info.id}: ${info.struct ?? 'no struct'} has no field ${path}`);
    const key = ({ 1: 'u8', 2: 'u16', 4: 'u32', 8: 'u64' } as const)[fl.size as 1 | 2 | 4 | 8];
    if (!key) throw new Error(`${info.id}: field ${path} is ${fl.size} bytes`);
    return { offset: fl.offset, key };
  };
  // The struct goes to memory unless the plan points the argument elsewhere (at memory the caller cannot access).
  if (info.struct && !(info.argument && p.raw.has(info.argument.name))) {
    const lay = info.engine.named(info.struct);
    steps.push({ write: { domain: p.caller, at, hex: '00'.repeat(lay.size) } });
    for (const [path, v] of fields) {
      const { offset, key } = width(path);
      steps.push({ write: { domain: p.caller, at: addr(RAW_PAGE, offset), [key]: [v] } });
    }
  }
  const regs: Value[] = info.args.map((a) => {
    const given = p.raw.get(a.name) ?? p.params.get(a.name);
    if (given !== undefined) return given;
    if (a === info.selector) return info.op ? info.op.value : 0;
    if (a === info.argument) return info.struct ? at : 0;
    if (a === info.count) return 1;
    return 0;
  });
  const raw: Step = { hypercall: { nr: `__HYPERVISOR_${info.h.name}`, args: regs }, domain: p.caller };
  if (p.vcpu !== undefined && p.vcpu !== 0) raw.vcpu = p.vcpu;
  const result = typeof expect === 'object' ? expect.result : expect;
  if (result !== undefined) raw.expect = result;
  steps.push(raw);
  // Expected fields of the struct: read back from guest memory.
  if (typeof expect === 'object' && expect.arg) {
    for (const [path, v] of Object.entries(expect.arg)) {
      const { offset, key } = width(path);
      steps.push({ memory: { domain: p.caller, at: addr(RAW_PAGE, offset), [key]: [v as Value] } });
    }
  }
  return steps;
}
