/**
 * The derivation's working context for one ABI: operation facts, and the helpers recipes use to
 * set state up through other operations of the spec (a port from the operation that produces
 * one, a grant entry written into the granter's table, a PV page-table tree).
 */
import type { ResourceUse, Spec } from '../../spec/model.js';
import { constantValue, findAbi, findArch, findOperation, findGroup, selects } from '../../spec/query.js';
import type { CallStep, Value } from '../scenario.js';
import { addr, callStep, ensureDomain, fresh, limit, takePage, takeTablePage, type Plan, type PvTree } from './plan.js';
import { available, isPointer, opInfo, typeName, type OpInfo } from './ops.js';
import { LIVE, LIVE_WHY } from './live.js';

/** A recipe cannot be applied here: why (the case is listed as not derived). */
export class NoRecipe extends Error {
  override name = 'NoRecipe';
  constructor(
    message: string,
    /** table: a recipe table says why there is none; rule: the derivation's rules exclude the case; no-recipe: nobody wrote one. */
    readonly because: 'table' | 'rule' | 'no-recipe' = 'table',
  ) {
    super(message);
  }
}

/**
 * Of the operations that produce a resource, the one derived scenarios use: an unbound port can
 * be sent on, closed, queried and bound to (a VIRQ or IPI port cannot be bound interdomain), and
 * get_free_pirq needs no device.
 */
const PRODUCERS: Record<string, string> = {
  evtchn_port: 'event_channel_op$EVTCHNOP_alloc_unbound',
  pirq: 'physdev_op$PHYSDEVOP_get_free_pirq',
};

/** The ids the plans use: the privileged domain and the unprivileged one. */
export const DOM0 = 0;
export const DOMU = 1;

export class Ctx {
  private readonly infos = new Map<string, OpInfo>();
  constructor(
    readonly spec: Spec,
    readonly abi: string,
  ) {}

  info(id: string): OpInfo {
    let i = this.infos.get(id);
    if (!i) {
      const f = findOperation(this.spec, id);
      if (!f) throw new Error(`unknown operation ${id}`);
      i = opInfo(this.spec, f.hypercall, f.op, this.abi);
      this.infos.set(id, i);
    }
    return i;
  }

  has(id: string): boolean {
    const f = findOperation(this.spec, id);
    return f !== undefined && available(this.spec, f.hypercall, f.op, this.abi);
  }

  /** A constant's value on this ABI's arch. */
  constant(name: string): bigint {
    const abi = findAbi(this.spec, this.abi);
    const v = constantValue(this.spec, name, abi ? findArch(this.spec, abi.arch) : undefined);
    if (v === undefined) throw new Error(`no constant ${name} on ${this.abi}`);
    return BigInt(v);
  }

  /** Whether the caller's ABI is of this arch family or name (x86, arm, x86_64...). */
  is(archOrFamily: string): boolean {
    const abi = findAbi(this.spec, this.abi);
    const arch = abi ? findArch(this.spec, abi.arch) : undefined;
    return arch !== undefined && selects([archOrFamily], arch);
  }

  /** The constant name of the status group's success value (GNTST_okay). */
  statusOk(): string | undefined {
    const space = this.spec.errorSpaces.find((s) => s.via === 'status');
    const g = space ? findGroup(this.spec, space.group) : undefined;
    return g?.members.find((m) => m.value === 0)?.name;
  }

  /** The status field of an operation's struct: the field taking the status group's values, else `status`. */
  statusField(info: OpInfo): string | undefined {
    const space = this.spec.errorSpaces.find((s) => s.via === 'status');
    const byValues = info.fields.find((f) => f.values !== undefined && f.values === space?.group);
    if (byValues) return byValues.path;
    if (!info.errors.some((e) => e.decl.via === 'status')) return undefined;
    return info.fields.find((f) => f.path === 'status')?.path;
  }

  /** A step that calls `id` from `dom` with these fields and parameters, expecting success. */
  callOk(id: string, dom: number, arg: Record<string, Value>, params: Record<string, Value> = {}, save?: Record<string, string>): CallStep {
    const info = this.info(id);
    const step = callStep(info, { dom, arg: new Map(Object.entries(arg)), params: new Map(Object.entries(params)), ...(save ? { save } : {}) });
    const sf = this.statusField(info);
    const ok = this.statusOk();
    step.expect = sf && ok ? { result: 'ok', arg: { [sf]: ok } } : 'ok';
    return step;
  }

  /** Adds a step to the plan's setup. */
  before(p: Plan, step: CallStep | CallStep[]): void {
    p.before.push(...(Array.isArray(step) ? step : [step]));
  }

  /** Makes sure the unprivileged domain exists (vCPUs and options merged in). */
  domU(p: Plan, extra: { vcpus?: number; maxEvtchnPort?: number } = {}): number {
    const have = p.domains.find((d) => d.id === DOMU);
    ensureDomain(p, { id: DOMU, abi: have?.abi ?? this.abi, ...(have?.privileged ? { privileged: true } : {}), ...extra });
    return DOMU;
  }

  /** The domain that is not the caller (added, unprivileged, when missing). */
  other(p: Plan): number {
    if (p.caller === DOMU) {
      if (!p.domains.some((d) => d.id === DOM0)) ensureDomain(p, { id: DOM0, abi: this.abi, privileged: true });
      return DOM0;
    }
    return this.domU(p);
  }

  /**
   * The operation that produces a resource, from the spec's `produces`: of the producers, the one
   * this table prefers (the one whose product every consumer accepts and that needs nothing else),
   * and the field it writes the resource to.
   */
  producer(resource: string): { id: string; field: string } {
    const prefer = PRODUCERS[resource];
    for (const h of this.spec.hypercalls) {
      for (const op of h.subops?.ops ?? []) {
        const id = `${h.name}$${op.name}`;
        if (prefer && id !== prefer) continue;
        const use = op.produces?.find((u) => u.resource === resource && /^arg\.[a-z_]+$/.test(u.path));
        if (use) return { id, field: use.path };
      }
    }
    throw new NoRecipe(`the spec names no operation that produces a ${resource}${prefer ? ` as ${prefer}` : ''}`);
  }

  /** Runs the producer of a resource as `dom` with these fields, saving what it produces; returns `$name`. */
  produce(p: Plan, resource: string, dom: number, arg: Record<string, Value>): string {
    const { id, field } = this.producer(resource);
    const name = fresh(p, resource.replace(/_.*/, ''));
    this.before(p, this.callOk(id, dom, arg, {}, { [name]: field }));
    return `$${name}`;
  }

  /** An event channel port of `dom`, unbound (its producer allocates one for a remote domain). */
  port(p: Plan, dom: number, remote: Value = 'DOMID_SELF'): string {
    return this.produce(p, 'evtchn_port', dom, { dom: 'DOMID_SELF', remote_dom: remote });
  }

  /** A PIRQ of `dom` (its producer hands out a free one). */
  pirq(p: Plan, dom: number): string {
    return this.produce(p, 'pirq', dom, { type: 'MAP_PIRQ_TYPE_MSI' });
  }

  /** A fresh page of `dom` and its frame expression (frame(n): the machine frame of a PV guest, the guest frame of a translated one). */
  frame(p: Plan, dom: number): { page: number; frame: string } {
    const page = takePage(p, dom);
    return { page, frame: `frame(${page})` };
  }

  /**
   * A fresh page of `dom` that may become a page table (plan.ts TABLE_FIRST), and its frame: for
   * every frame a scenario pins, makes a table of, or has Xen type as one.
   */
  tableFrame(p: Plan, dom: number): { page: number; frame: string } {
    const page = takeTablePage(p, dom);
    return { page, frame: `frame(${page})` };
  }

  /**
   * A 4-level PV page-table tree of `dom` (L4 → L3 → L2 → one empty L1 covering linear 0 to
   * 2 MiB), pinned, as a PV kernel sets itself up; built once per plan. Pinning the L4 types the
   * whole tree, which is all a checked page-table write needs.
   *
   * `install` also makes it the vCPU's base pointer, for calls that walk the caller's current
   * address space (update_va_mapping, host mappings). A real PV kernel cannot do that: the tree
   * maps nothing of its own code, so switching to it leaves the kernel nothing to return to. The
   * scenario is then limited on the live target.
   */
  pvPaging(p: Plan, dom: number, install = false): PvTree {
    if (!this.is('x86')) throw new NoRecipe('PV page tables exist on x86 only');
    let tree = p.trees.get(dom);
    if (!tree) {
      const [l4, l3, l2, l1] = [takeTablePage(p, dom), takeTablePage(p, dom), takeTablePage(p, dom), takeTablePage(p, dom)];
      tree = { l4, l3, l2, l1, installed: false };
      p.trees.set(dom, tree);
      const w = (page: number, v: string) => p.before.push({ write: { domain: dom, at: addr(page), u64: [v] }, doc: 'a page-table entry, written by the guest' });
      w(l2, `pte(${l1}, 0x3)`);
      w(l3, `pte(${l2}, 0x3)`);
      w(l4, `pte(${l3}, 0x3)`);
      this.before(p, this.callOk('mmuext_op$MMUEXT_PIN_L4_TABLE', dom, { 'arg1.mfn': `frame(${l4})` }, { pdone: 0, foreigndom: 'DOMID_SELF' }));
    }
    if (install && !tree.installed) {
      tree.installed = true;
      this.before(p, this.callOk('mmuext_op$MMUEXT_NEW_BASEPTR', dom, { 'arg1.mfn': `frame(${tree.l4})` }, { pdone: 0, foreigndom: 'DOMID_SELF' }));
      limit(p, LIVE, LIVE_WHY.ownTables);
    }
    return tree;
  }

  /**
   * Grant entry `ref` of `granter` (v1), giving `grantee` access to a fresh page of the granter
   * with these GTF flags. The granter first sets its table up (GNTTABOP_setup_table), then writes
   * the entry as guests do: a plain store into its table frame, which the reference VMM maps
   * right above shared_info.
   */
  grant(p: Plan, granter: number, grantee: Value, ref: number, flags = 'GTF_permit_access', frame?: string): { frame: string } {
    const fr = frame ?? this.frame(p, granter).frame;
    if (!p.before.some((s) => 'call' in s && s.call === 'grant_table_op$GNTTABOP_setup_table' && s.domain === granter)) {
      const list = takePage(p, granter);
      this.before(p, this.callOk('grant_table_op$GNTTABOP_setup_table', granter, { dom: 'DOMID_SELF', nr_frames: 1, frame_list: addr(list) }));
    }
    // The entry's fields where the spec's layout puts them (the same on every arch).
    const lay = this.info('grant_table_op$GNTTABOP_setup_table').engine.named('struct grant_entry_v1');
    const at = (f: string) => `grant_table + ${ref * lay.size + (lay.fields[f]?.offset ?? 0)}`;
    p.before.push({ write: { domain: granter, at: at('flags'), u16: [flags] }, doc: `grant entry ${ref}: flags` });
    p.before.push({ write: { domain: granter, at: at('domid'), u16: [grantee] }, doc: `grant entry ${ref}: grantee` });
    p.before.push({ write: { domain: granter, at: at('frame'), u32: [fr] }, doc: `grant entry ${ref}: frame` });
    return { frame: fr };
  }

  /** The operation's uses of a resource at a path. */
  uses(info: OpInfo, kind: 'consumes' | 'produces'): ResourceUse[] {
    return (info.op?.[kind] ?? info.h[kind] ?? []) as ResourceUse[];
  }

  /** Whether a path names a pointer (a handle field of the struct, or a pointer register argument). */
  pointerPath(info: OpInfo, path: string): boolean {
    if (path.startsWith('arg.')) {
      const f = info.fields.find((x) => x.path === path.slice(4));
      return f !== undefined && isPointer(this.spec, f.type);
    }
    const a = info.args.find((x) => x.name === path);
    return a !== undefined && isPointer(this.spec, a.type);
  }

  /** The spec type name at a path (domid_t, evtchn_port_t...). */
  typeAt(info: OpInfo, path: string): string | undefined {
    if (path.startsWith('arg.')) {
      const f = info.fields.find((x) => x.path === path.slice(4));
      return f ? typeName(f.type) : undefined;
    }
    const a = info.args.find((x) => x.name === path);
    return a ? typeName(a.type) : undefined;
  }
}
