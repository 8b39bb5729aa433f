/**
 * What the guest checker reads from the spec, resolved once per ABI: which hypercalls and
 * operations an ABI has, how registers carry each argument (the TS generator's call plans),
 * the flattened fields of every struct (offset, size, direction, value group, pointer
 * targets), constant groups as flag masks and enum sets, and the resources operations
 * produce and consume. Nothing here knows a particular hypercall.
 */
import { callModels, type AbiPlan, type CallModel } from '../../generator/ts/calls.js';
import { buildModel } from '../../generator/model.js';
import { TsModel } from '../../generator/ts/shapes.js';
import {
  LayoutEngine,
  constantValueOf,
  fieldPresentOn,
  findGroup,
  findType,
  operationId,
  toBigInt,
  typeBodyFor,
  type Abi,
  type Arch,
  type Arg,
  type Constant,
  type Direction,
  type Field,
  type Hypercall,
  type Operation,
  type Spec,
  type TypeRef,
} from '../../spec/index.js';

/** One leaf member of a struct, flattened: where it is and what the spec says of it. */
export interface FieldInfo {
  /** Dotted path from the struct (`u.interdomain.port`); anonymous members add no segment. */
  path: string;
  offset: number;
  size: number;
  field: Field;
  /** The field's direction, or the nearest enclosing member's. */
  dir?: Direction;
  /** Inside a union member: which member is live is not known from the bytes. */
  inUnion: boolean;
  kind: 'scalar' | 'handle' | 'pointer' | 'array';
  signed: boolean;
  /** For a handle or pointer: what it points to. */
  target?: TypeRef;
}

/** A decoded call's unit of work: one operation applied to zero or more argument structs. */
export interface Unit {
  id: string;
  h: Hypercall;
  op?: Operation;
  /** Struct instances in guest memory the operation works on (the `arg` of its paths). */
  elements: { addr: bigint; type: TypeRef }[];
  /** For an element-selected batch (mmuext_op): this unit's index in the batch. */
  index?: number;
}

const SIGNED = /^(int|long|short|signed char|char|long long|int(8|16|32|64)_t)$/;

/** Whether a list of ABI names, arch names or arch families selects an ABI (absent: all). */
export function abiSelected(list: readonly string[] | undefined, abi: Abi, arch: Arch): boolean {
  return list === undefined || list.includes(abi.name) || list.includes(arch.name) || list.includes(arch.family);
}

/** The spec as one ABI sees it. */
export class AbiView {
  readonly arch: Arch;
  readonly engine: LayoutEngine;
  readonly wordBits: number;
  private readonly plans = new Map<string, { cm: CallModel; plan: AbiPlan }>();
  private readonly fieldCache = new Map<string, FieldInfo[]>();
  private readonly byNumber = new Map<number, Hypercall>();

  constructor(
    readonly spec: Spec,
    readonly abi: Abi,
    cms: readonly CallModel[],
  ) {
    const arch = spec.arches.find((a) => a.name === abi.arch);
    if (!arch) throw new Error(`spec ${spec.name}: ABI ${abi.name} names unknown arch ${abi.arch}`);
    this.arch = arch;
    this.engine = new LayoutEngine(spec, arch);
    this.wordBits = arch.wordSize * 8;
    for (const h of spec.hypercalls) if (!this.byNumber.has(h.number)) this.byNumber.set(h.number, h);
    for (const cm of cms) {
      const plan = cm.plans.get(abi.name);
      if (plan) this.plans.set(cm.h.name, { cm, plan });
    }
  }

  /** The hypercall of this number, if the spec has one (on any ABI). */
  hypercallByNumber(nr: bigint): Hypercall | undefined {
    return nr <= BigInt(Number.MAX_SAFE_INTEGER) ? this.byNumber.get(Number(nr)) : undefined;
  }

  /** Whether this ABI has the hypercall (the spec's `abis` map names it). */
  has(h: Hypercall): boolean {
    return this.abi.name in h.abis && this.plans.has(h.name);
  }

  /** The argument values of a call by argument name, each at its C type's width and signedness. */
  args(h: Hypercall, regs: Readonly<Record<string, bigint>>): Map<string, bigint> {
    const p = this.plans.get(h.name);
    const out = new Map<string, bigint>();
    if (!p) return out;
    const list = p.plan.kind === 'own' ? p.plan.args : p.cm.args;
    for (const s of p.plan.slots) {
      const a = list[s.index];
      if (!a) continue;
      let v = 0n;
      s.regs.forEach((r, k) => {
        v |= BigInt.asUintN(this.wordBits, regs[r] ?? 0n) << BigInt(k * this.wordBits);
      });
      v = BigInt.asUintN(s.size * 8, v);
      out.set(a.arg.name, s.signed ? BigInt.asIntN(s.size * 8, v) : v);
    }
    return out;
  }

  /** The argument list of a hypercall on this ABI. */
  argList(h: Hypercall): readonly Arg[] {
    const p = this.plans.get(h.name);
    if (!p) return h.args;
    return p.plan.kind === 'own' ? p.plan.args.map((a) => a.arg) : p.cm.args.map((a) => a.arg);
  }

  /** Size and alignment of a type reference (void: 1 byte). */
  sizeOf(t: TypeRef): { size: number; align: number } {
    if (t.kind === 'name' && t.name === 'void') return { size: 1, align: 1 };
    const l = this.engine.ref(t, 'guest-check');
    return { size: l.size, align: l.align };
  }

  /** Whether a type exists on this arch. */
  available(t: TypeRef): boolean {
    if (t.kind !== 'name') return true;
    return t.name === 'void' || this.engine.has(t.name);
  }

  /** The scalar a type reference resolves to through typedefs, if it is one. */
  scalarOf(t: TypeRef): string | undefined {
    if (t.kind !== 'name') return undefined;
    if (this.arch.scalars[t.name]) return t.name;
    const def = findType(this.spec, t.name);
    if (!def) return undefined;
    const body = typeBodyFor(def, this.arch);
    return body.kind === 'typedef' && body.target ? this.scalarOf(body.target) : undefined;
  }

  /** The leaf members of a struct or union type, flattened (cached per named type). */
  fields(t: TypeRef): FieldInfo[] {
    const key = t.kind === 'name' ? t.name : JSON.stringify(t);
    let out = this.fieldCache.get(key);
    if (!out) {
      out = [];
      this.flatten(t, 0, '', undefined, false, out);
      this.fieldCache.set(key, out);
    }
    return out;
  }

  private flatten(t: TypeRef, base: number, prefix: string, dir: Direction | undefined, inUnion: boolean, out: FieldInfo[]): void {
    let fields: readonly Field[];
    let union: boolean;
    let rec: Record<string, { offset: number }>;
    if (t.kind === 'name') {
      const def = findType(this.spec, t.name);
      if (!def) return;
      const body = typeBodyFor(def, this.arch);
      if (body.kind === 'typedef') {
        if (body.target) this.flatten(body.target, base, prefix, dir, inUnion, out);
        return;
      }
      fields = body.fields ?? [];
      union = body.kind === 'union';
      rec = this.engine.named(t.name).fields;
    } else if (t.kind === 'struct' || t.kind === 'union') {
      fields = t.fields;
      union = t.kind === 'union';
      rec = this.engine.ref(t, prefix).fields;
    } else return;
    this.aggregateMembers(fields, union, rec, '', base, prefix, dir, inUnion, out);
  }

  /** Members of one aggregate whose layout record `rec` keys them as `recPrefix + name`. */
  private aggregateMembers(
    fields: readonly Field[],
    union: boolean,
    rec: Record<string, { offset: number }>,
    recPrefix: string,
    base: number,
    prefix: string,
    dir: Direction | undefined,
    inUnion: boolean,
    out: FieldInfo[],
  ): void {
    for (const f of fields) {
      if (!fieldPresentOn(f, this.arch)) continue;
      const d = f.dir ?? dir;
      const u = inUnion || union;
      const ft = f.type;
      if (f.name === '') {
        // C11 anonymous member: its members sit in this aggregate's record under their own names.
        if (ft.kind === 'struct' || ft.kind === 'union') this.aggregateMembers(ft.fields, ft.kind === 'union', rec, recPrefix, base, prefix, d, u, out);
        continue;
      }
      const at = rec[`${recPrefix}${f.name}`];
      if (!at) continue;
      const off = base + at.offset;
      const path = `${prefix}${f.name}`;
      if (ft.kind === 'struct' || ft.kind === 'union') {
        this.aggregateMembers(ft.fields, ft.kind === 'union', rec, `${recPrefix}${f.name}.`, base, `${path}.`, d, u, out);
        continue;
      }
      if (ft.kind === 'name' && this.scalarOf(ft) === undefined) {
        this.flatten(ft, off, `${path}.`, d, u, out);
        continue;
      }
      const { size } = this.sizeOf(ft);
      const kind = ft.kind === 'handle' ? 'handle' : ft.kind === 'pointer' ? 'pointer' : ft.kind === 'array' ? 'array' : 'scalar';
      const scalar = this.scalarOf(ft);
      out.push({
        path,
        offset: off,
        size,
        field: f,
        ...(d ? { dir: d } : {}),
        inUnion: u,
        kind,
        signed: scalar !== undefined && SIGNED.test(scalar),
        ...(ft.kind === 'handle' || ft.kind === 'pointer' ? { target: ft.to } : {}),
      });
    }
  }

  /** A field of a struct by dotted path. */
  field(t: TypeRef, path: string): FieldInfo | undefined {
    return this.fields(t).find((f) => f.path === path);
  }

  /** The members of a constant group defined on this arch, with their values. */
  members(group: string): { c: Constant; v: bigint }[] {
    const g = findGroup(this.spec, group);
    if (!g) return [];
    const out: { c: Constant; v: bigint }[] = [];
    for (const c of g.members) {
      const v = constantValueOf(c, this.arch);
      if (v !== undefined) out.push({ c, v: toBigInt(v) });
    }
    return out;
  }

  /** A group's kind (flags, enum, ...), if the spec has it. */
  groupKind(group: string): string | undefined {
    return findGroup(this.spec, group)?.kind;
  }

  /** The value of a constant on this arch. */
  constant(name: string): bigint | undefined {
    for (const g of this.spec.constants) {
      const c = g.members.find((m) => m.name === name);
      if (c) {
        const v = constantValueOf(c, this.arch);
        return v === undefined ? undefined : toBigInt(v);
      }
    }
    return undefined;
  }

  /**
   * The units of work of a call: the operation(s) its selector picks and the structs they
   * work on. `read` reads guest memory (undefined: not known). `unknownOp` receives a
   * selector value the hypercall has no operation for on this ABI (for the finding).
   */
  units(
    h: Hypercall,
    args: ReadonlyMap<string, bigint>,
    read: (addr: bigint, size: number) => Uint8Array | undefined,
    unknownOp: (value: bigint, index: number | undefined) => void,
    maxElements: number,
  ): Unit[] {
    const t = h.subops;
    if (!t) return [{ id: operationId(h), h, elements: [] }];
    const argList = this.argList(h);
    const pick = (value: bigint, index: number | undefined): Operation | undefined => {
      const v = t.mask !== undefined ? value & BigInt(t.mask) : value;
      const op = t.ops.find((o) => BigInt(o.value) === v && abiSelected(o.abis, this.abi, this.arch));
      if (!op) unknownOp(v, index);
      return op;
    };
    const m = /^([A-Za-z_][A-Za-z0-9_]*)\[\]\.(.+)$/.exec(t.selector);
    if (m) {
      // Batched, each element selecting its own operation (mmuext_op, mmu_update).
      const array = argList.find((a) => a.name === m[1]);
      if (!array || (array.type.kind !== 'pointer' && array.type.kind !== 'handle')) return [];
      const elType = array.type.to;
      const addr = args.get(array.name) ?? 0n;
      const n = Math.min(Number(array.count !== undefined ? (args.get(array.count) ?? 1n) : 1n), maxElements);
      const sel = this.field(elType, m[2] as string);
      if (!sel) return [];
      const size = BigInt(this.sizeOf(elType).size);
      const out: Unit[] = [];
      for (let i = 0; i < n; i++) {
        const at = addr + BigInt(i) * size;
        const b = read(at + BigInt(sel.offset), sel.size);
        if (!b) continue;
        const op = pick(readUint(b), i);
        if (op) out.push({ id: operationId(h, op), h, op, elements: [{ addr: at, type: elType }], index: i });
      }
      return out;
    }
    const value = args.get(t.selector);
    if (value === undefined) return [];
    const op = pick(value, undefined);
    if (!op) return [];
    const unit: Unit = { id: operationId(h, op), h, op, elements: [] };
    const ptr = t.argument ? argList.find((a) => a.name === t.argument) : undefined;
    const type = op.arg === null ? undefined : (op.arg ?? (ptr && (ptr.type.kind === 'pointer' || ptr.type.kind === 'handle') ? ptr.type.to : undefined));
    if (ptr && type && !(type.kind === 'name' && type.name === 'void') && this.available(type)) {
      const addr = args.get(ptr.name) ?? 0n;
      const n = Math.min(Number(ptr.count !== undefined ? (args.get(ptr.count) ?? 1n) : 1n), maxElements);
      const size = BigInt(this.sizeOf(type).size);
      for (let i = 0; i < n; i++) unit.elements.push({ addr: addr + BigInt(i) * size, type });
    }
    return [unit];
  }
}

/** An unsigned little-endian value. */
export function readUint(b: Uint8Array): bigint {
  let v = 0n;
  for (let k = b.length - 1; k >= 0; k--) v = (v << 8n) | BigInt(b[k] as number);
  return v;
}

/** Per spec object: its views by ABI (built once; views only read the spec). */
const cache = new WeakMap<Spec, Map<string, AbiView>>();

/** The spec, per ABI. */
export class SpecView {
  private readonly views: Map<string, AbiView>;

  constructor(readonly spec: Spec) {
    let v = cache.get(spec);
    if (!v) {
      v = new Map();
      cache.set(spec, v);
    }
    this.views = v;
  }

  abi(name: string): AbiView {
    let v = this.views.get(name);
    if (!v) {
      const abi = this.spec.abis.find((a) => a.name === name);
      if (!abi) throw new Error(`unknown ABI '${name}' (spec ${this.spec.name} has ${this.spec.abis.map((a) => a.name).join(', ')})`);
      const cms = callModelsOf(this.spec);
      v = new AbiView(this.spec, abi, cms);
      this.views.set(name, v);
    }
    return v;
  }
}

const callModelCache = new WeakMap<Spec, CallModel[]>();

function callModelsOf(spec: Spec): CallModel[] {
  let cms = callModelCache.get(spec);
  if (!cms) {
    cms = callModels(new TsModel(buildModel(spec)));
    callModelCache.set(spec, cms);
  }
  return cms;
}
