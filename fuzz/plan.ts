/**
 * What the fuzzer knows about each operation, derived from the spec alone: for one operation
 * id and one calling ABI, the registers it takes (selector, struct pointer, counts, 64-bit
 * values split over two registers), the argument struct as a tree of fields with their
 * layout on the caller's arch, and per path the resource a value names (from `consumes` and
 * `produces`, else from the field's C type), the error triggers that mention it, the
 * constant group it takes values from, and the declared errors the operation can return.
 *
 * Nothing here is written per operation: every plan comes from the same walk of the spec.
 */
import { codecsByArch, type XenCodecs } from '../generated/xen/codecs.js';
import type { Codec } from '../generated/xen/runtime.js';
import { TS_NAMES } from '../generated/xen/types.js';
import { implementedIds } from '../reference-vmm/coverage.js';
import type { Abi, Arch, Arg, ConstantGroup, Direction, ErrorDecl, Field, Hypercall, Operation, Spec, Trigger, TypeRef } from '../spec/model.js';
import { LayoutEngine } from '../spec/layout.js';
import { constantValueOf, findAbi, findArch, findGroup, findType, selects, toBigInt, typeBodyFor, fieldPresentOn, operationId } from '../spec/query.js';

/** A type as the fuzzer walks it: a tree of integers, pointers, aggregates and arrays, with sizes on one arch. */
export interface TNode {
  k: 'int' | 'ptr' | 'struct' | 'union' | 'array';
  size: number;
  align: number;
  /** int: signed C type. */
  signed?: boolean;
  /** int: the C name it was declared with before typedefs resolved (evtchn_port_t, domid_t). */
  cname?: string;
  /** struct, union: members with offsets. */
  fields?: FNode[];
  /** array: element and length. */
  of?: TNode;
  length?: number;
  /** ptr: what it points to. */
  to?: TypeRef;
}

export interface FNode {
  name: string;
  node: TNode;
  offset: number;
  dir?: Direction;
  values?: string;
  /** For a guest handle: the sibling field holding its element count. */
  count?: string;
}

const SIGNED = new Set(['char', 'signed char', 'short', 'int', 'long', 'long long', 'int8_t', 'int16_t', 'int32_t', 'int64_t']);

/** Compiles type references of one spec on one arch (cached by name). */
export class TypeCompiler {
  readonly engine: LayoutEngine;
  private readonly cache = new Map<string, TNode>();

  constructor(
    readonly spec: Spec,
    readonly arch: Arch,
  ) {
    this.engine = new LayoutEngine(spec, arch);
  }

  named(name: string): TNode {
    const hit = this.cache.get(name);
    if (hit) return hit;
    const node = this.resolve(name, name);
    this.cache.set(name, node);
    return node;
  }

  private resolve(name: string, cname: string): TNode {
    const sc = this.arch.scalars[name];
    if (sc) return { k: 'int', size: sc.size, align: sc.align, signed: SIGNED.has(name), cname };
    const def = findType(this.spec, name);
    if (!def) throw new Error(`fuzz: unknown type '${name}'`);
    const body = typeBodyFor(def, this.arch);
    if (body.kind === 'typedef') {
      if (!body.target) throw new Error(`fuzz: typedef ${name} has no target`);
      if (body.target.kind === 'name') {
        const inner = this.resolve(body.target.name, cname);
        return body.align ? { ...inner, align: body.align } : inner;
      }
      const n = this.ref(body.target);
      return n.k === 'int' ? { ...n, cname } : n;
    }
    const lay = this.engine.named(name);
    return { k: body.kind, size: lay.size, align: lay.align, fields: this.fields(body.fields ?? [], lay.fields) };
  }

  private fields(fields: readonly Field[], offsets: Record<string, { offset: number }>, prefix = '', base = 0): FNode[] {
    const out: FNode[] = [];
    for (const f of fields) {
      if (!fieldPresentOn(f, this.arch)) continue;
      const at = f.name === '' ? undefined : offsets[`${prefix}${f.name}`];
      if (f.name === '') {
        // A C11 anonymous member: its fields are the parent's.
        if (f.type.kind === 'struct' || f.type.kind === 'union') out.push(...this.fields(f.type.fields, offsets, prefix, base));
        continue;
      }
      if (!at) continue;
      let node: TNode;
      if (f.type.kind === 'struct' || f.type.kind === 'union') {
        const lay = this.engine.ref(f.type, f.name);
        node = { k: f.type.kind, size: lay.size, align: lay.align, fields: this.fields(f.type.fields, lay.fields) };
      } else node = this.ref(f.type);
      out.push({ name: f.name, node, offset: at.offset - base, ...(f.dir ? { dir: f.dir } : {}), ...(f.values ? { values: f.values } : {}), ...(f.count ? { count: f.count } : {}) });
    }
    return out;
  }

  ref(ref: TypeRef): TNode {
    switch (ref.kind) {
      case 'name':
        return this.named(ref.name);
      case 'handle':
      case 'pointer': {
        const l = this.engine.ref(ref, 'ptr');
        return { k: 'ptr', size: l.size, align: l.align, to: ref.to };
      }
      case 'array': {
        const l = this.engine.ref(ref, 'array');
        const of = this.ref(ref.of);
        return { k: 'array', size: l.size, align: l.align, of, length: of.size > 0 ? l.size / of.size : 0 };
      }
      case 'struct':
      case 'union': {
        const l = this.engine.ref(ref, 'inline');
        return { k: ref.kind, size: l.size, align: l.align, fields: this.fields(ref.fields, l.fields) };
      }
    }
  }
}

/** One register argument of a plan. */
export interface RegSlot {
  name: string;
  role: 'selector' | 'argument' | 'pointer' | 'scalar' | 'count' | 'lo' | 'hi';
  /** scalar, count, selector: the value's type; pointer: the pointee. */
  node?: TNode;
  to?: TypeRef;
  dir?: Direction;
  values?: string;
  /** pointer: the register argument giving its element count; count: the pointer it counts. */
  count?: string;
  countOf?: string;
  /** lo, hi: the 64-bit argument these halves carry. */
  whole?: Arg;
  wholeNode?: TNode;
}

/** A declared error with the value a guest sees. */
export interface ErrorInfo {
  code: string;
  via: 'return' | 'status';
  /** The signed result (return) or the status value. */
  value: number;
}

/** Everything the fuzzer needs to make one operation's calls from one ABI. */
export interface OpPlan {
  id: string;
  hypercall: Hypercall;
  op?: Operation;
  abi: Abi;
  arch: Arch;
  nr: number;
  bits: number;
  family: string;
  implemented: boolean;
  regs: RegSlot[];
  /** The operation's struct (what the argument register points to). */
  arg?: { type: string; node: TNode; codec: Codec<unknown>; template: unknown; batched: boolean };
  /** Batched operations: the element field that selects the operation (ureqs[].ptr), and its command mask. */
  elementSelector?: { field: string; path: string; mask: bigint };
  /** The selector's command mask (bits above it are a continuation's or reserved). */
  selectorMask?: bigint;
  /** Resource named at a path (arg.port, vcpuid, arg.ports[]). */
  consumes: Map<string, string>;
  produces: Map<string, string>;
  /** Value triggers by path. */
  triggers: Map<string, Trigger[]>;
  /** Declared errors (the operation's, then its hypercall's), distinct by code and via. */
  errors: ErrorInfo[];
  /** Paths of fields that carry a status code (their constant group is a status error space). */
  statusPaths: Set<string>;
  /** Whether the whole call may be repeated harmlessly in a multicall (no nested multicall). */
  nestable: boolean;
}

/** Every plan of a spec for a set of ABIs, plus lookups the generator needs. */
export class SpecPlans {
  readonly byAbi = new Map<string, OpPlan[]>();
  readonly compilers = new Map<string, TypeCompiler>();
  readonly implemented: Set<string>;
  readonly errnoValue = new Map<string, number>();
  readonly statusGroups = new Set<string>();
  readonly resourceByType = new Map<string, string>();
  readonly specials = new Map<string, bigint[]>();

  constructor(
    readonly spec: Spec,
    abis: readonly string[],
  ) {
    this.implemented = implementedIds(spec);
    for (const sp of spec.errorSpaces) {
      const g = findGroup(spec, sp.group);
      if (!g) continue;
      if (sp.via === 'status') this.statusGroups.add(g.name);
      for (const c of g.members) {
        if (typeof c.value !== 'number') continue;
        const code = c.name.startsWith(sp.prefix) ? c.name.slice(sp.prefix.length) : c.name;
        if (sp.via === 'return') this.errnoValue.set(code, sp.negate ? -c.value : c.value);
        else this.errnoValue.set(`status:${c.name}`, c.value);
      }
    }
    const typeCount = new Map<string, number>();
    for (const r of spec.resources) typeCount.set(r.type, (typeCount.get(r.type) ?? 0) + 1);
    for (const r of spec.resources) {
      // A resource is recognised by its C type only when that type names nothing else (not uint32_t, not xen_pfn_t for gfn and mfn).
      if (typeCount.get(r.type) === 1 && !/^(u?int\d+_t|unsigned|int|long|char)/.test(r.type)) this.resourceByType.set(r.type, r.name);
      this.specials.set(
        r.name,
        (r.special ?? []).flatMap((s) => {
          const c = spec.constants.flatMap((g) => g.members).find((m) => m.name === s.name);
          return c ? [toBigInt(c.value)] : [];
        }),
      );
    }
    for (const name of abis) {
      const abi = findAbi(spec, name);
      if (!abi) throw new Error(`fuzz: spec ${spec.name} has no ABI ${name}`);
      const arch = findArch(spec, abi.arch) as Arch;
      let tc = this.compilers.get(arch.name);
      if (!tc) this.compilers.set(arch.name, (tc = new TypeCompiler(spec, arch)));
      this.byAbi.set(name, this.plansFor(abi, arch, tc));
    }
  }

  /** The numeric value of a constant on an arch. */
  constant(name: string, arch: Arch): bigint | undefined {
    const key = `${arch.name}\0${name}`;
    if (this.constantCache.has(key)) return this.constantCache.get(key);
    const c = this.spec.constants.flatMap((g) => g.members).find((m) => m.name === name);
    const cv = c ? constantValueOf(c, arch) : undefined;
    const v = cv === undefined ? undefined : toBigInt(cv);
    this.constantCache.set(key, v);
    return v;
  }

  private readonly constantCache = new Map<string, bigint | undefined>();

  group(name: string): ConstantGroup | undefined {
    return findGroup(this.spec, name);
  }

  private plansFor(abi: Abi, arch: Arch, tc: TypeCompiler): OpPlan[] {
    const out: OpPlan[] = [];
    const codecs = codecsByArch[arch.name as keyof typeof codecsByArch] as XenCodecs | undefined;
    for (const h of this.spec.hypercalls) {
      if (!h.abis[abi.name]) continue;
      const ops: (Operation | undefined)[] = h.subops ? h.subops.ops : [undefined];
      for (const op of ops) {
        if (op?.abis && !op.abis.some((a) => a === abi.name || a === arch.name || a === arch.family)) continue;
        const plan = this.plan(h, op, abi, arch, tc, codecs);
        if (plan) out.push(plan);
      }
    }
    return out;
  }

  private plan(h: Hypercall, op: Operation | undefined, abi: Abi, arch: Arch, tc: TypeCompiler, codecs: XenCodecs | undefined): OpPlan | undefined {
    const id = operationId(h, op);
    const args = h.argsByAbi?.[abi.name] ?? h.argsByAbi?.[arch.name] ?? h.argsByAbi?.[arch.family] ?? h.args;
    const sub = h.subops;
    const elemSel = sub && sub.selector.includes('[].') ? sub.selector.split('[].') : undefined;
    const regs: RegSlot[] = [];
    const unmatched = h.args.filter((b) => !args.some((a) => a.name === b.name));
    let splitIdx = -1;
    let current: Arg | undefined;
    for (const a of args) {
      const isLo = a.name === 'lo' || a.name.endsWith('_lo');
      const isHi = a.name === 'hi' || a.name.endsWith('_hi');
      if ((isLo || isHi) && unmatched.length > 0) {
        if (isLo || current === undefined) current = unmatched[++splitIdx];
        if (current) {
          regs.push({ name: a.name, role: isLo ? 'lo' : 'hi', whole: current, wholeNode: this.scalarNode(tc, current.type) });
          continue;
        }
      }
      const counted = args.find((x) => x.count === a.name);
      if (sub && !elemSel && a.name === sub.selector) regs.push({ name: a.name, role: 'selector', node: this.scalarNode(tc, a.type), ...(a.values ? { values: a.values } : {}) });
      else if (sub && a.name === (sub.argument ?? elemSel?.[0])) regs.push({ name: a.name, role: 'argument', ...(a.count ? { count: a.count } : {}), ...(a.dir ? { dir: a.dir } : {}) });
      else if (counted) regs.push({ name: a.name, role: 'count', node: this.scalarNode(tc, a.type), countOf: counted.name });
      else if (a.type.kind === 'pointer' || a.type.kind === 'handle') regs.push({ name: a.name, role: 'pointer', to: a.type.to, ...(a.count ? { count: a.count } : {}), ...(a.dir ? { dir: a.dir } : {}) });
      else regs.push({ name: a.name, role: 'scalar', node: this.scalarNode(tc, a.type), ...(a.values ? { values: a.values } : {}), ...(a.dir ? { dir: a.dir } : {}) });
    }
    let arg: OpPlan['arg'];
    if (op?.arg && op.arg.kind === 'name' && codecs) {
      const ts = TS_NAMES[op.arg.name];
      const codec = ts ? (codecs as unknown as Record<string, Codec<unknown>>)[ts] : undefined;
      if (codec && codec.size > 0) {
        let node: TNode;
        try {
          node = tc.named(op.arg.name);
        } catch {
          return undefined;
        }
        const argReg = regs.find((r) => r.role === 'argument');
        const zero = new DataView(new ArrayBuffer(codec.size));
        arg = { type: op.arg.name, node, codec, template: codec.decode(zero, 0), batched: argReg?.count !== undefined };
      }
    }
    const consumes = new Map<string, string>();
    const produces = new Map<string, string>();
    for (const u of [...(h.consumes ?? []), ...(op?.consumes ?? [])]) consumes.set(u.path, u.resource);
    for (const u of [...(h.produces ?? []), ...(op?.produces ?? [])]) produces.set(u.path, u.resource);
    const triggers = new Map<string, Trigger[]>();
    const declared: ErrorDecl[] = [...(op?.errors ?? []), ...h.errors];
    const errors: ErrorInfo[] = [];
    for (const e of declared) {
      if (e.abis && !e.abis.some((a) => a === abi.name || a === arch.name || a === arch.family)) continue;
      const t = e.trigger;
      if (t && 'path' in t) {
        const list = triggers.get(t.path) ?? [];
        list.push(t);
        triggers.set(t.path, list);
      }
      const via = e.via ?? 'return';
      const value = via === 'return' ? this.errnoValue.get(e.code) : this.errnoValue.get(`status:${e.code}`);
      if (value === undefined) continue;
      if (!errors.some((x) => x.code === e.code && x.via === via)) errors.push({ code: e.code, via, value });
    }
    const statusPaths = new Set<string>();
    const hasStatusErrors = errors.some((e) => e.via === 'status');
    if (arg) {
      this.walkPaths(arg.node, 'arg', (p, f) => {
        // A status field: its constant group is a status error space, or (the spec's convention) it is named status.
        if ((f.values && this.statusGroups.has(f.values)) || (hasStatusErrors && f.name === 'status' && f.node.k === 'int')) statusPaths.add(p);
      });
    }
    const reason = op?.referenceVmm ?? h.referenceVmm;
    return {
      id,
      hypercall: h,
      ...(op ? { op } : {}),
      abi,
      arch,
      nr: h.number,
      bits: arch.wordSize * 8,
      family: h.family,
      implemented: this.implemented.has(id) && !(reason && !reason.implemented),
      regs,
      ...(arg ? { arg } : {}),
      ...(elemSel ? { elementSelector: { field: elemSel[1] as string, path: `arg.${elemSel[1] as string}`, mask: sub?.mask !== undefined ? BigInt(sub.mask) : (1n << 64n) - 1n } } : {}),
      ...(sub?.mask !== undefined && !elemSel ? { selectorMask: BigInt(sub.mask) } : {}),
      consumes,
      produces,
      triggers,
      errors,
      statusPaths,
      nestable: h.name !== 'multicall',
    };
  }

  private scalarNode(tc: TypeCompiler, t: TypeRef): TNode {
    try {
      const n = tc.ref(t);
      if (n.k === 'int' || n.k === 'ptr') return n;
    } catch {
      // fall through: a type the arch lacks is a machine word
    }
    return { k: 'int', size: tc.arch.wordSize, align: tc.arch.wordSize, signed: false, cname: 'unsigned long' };
  }

  /** Calls `f` for every field of a node with its dotted path. */
  walkPaths(node: TNode, path: string, f: (path: string, field: FNode) => void): void {
    for (const fl of node.fields ?? []) {
      const p = `${path}.${fl.name}`;
      f(p, fl);
      if (fl.node.fields) this.walkPaths(fl.node, p, f);
    }
  }
}

/** Whether a list of ABI, arch or family names selects this ABI. */
export function abiSelected(list: readonly string[] | undefined, abi: Abi, arch: Arch): boolean {
  return list === undefined || list.includes(abi.name) || selects(list, arch);
}
