/**
 * Small builders for writing spec files by hand. They only shorten the source: what they
 * return is the plain data of `model.ts`, and the assembled spec is validated against it.
 *
 * A family file calls `familyBuilder(name, header)` and uses the returned functions, so
 * every item carries its family and upstream header without repeating them.
 */
import type {
  Arg,
  ConstantGroup,
  Constant,
  ConstValue,
  Deprecation,
  Direction,
  ErrorDecl,
  Family,
  Handler,
  Field,
  Hypercall,
  Operation,
  ReferenceVmmStatus,
  Privilege,
  Reference,
  Resource,
  ResourceUse,
  SubopTable,
  Trigger,
  TypeBody,
  TypeDef,
  TypeRef,
} from './model.js';

type HandlerName = Handler;

/**
 * Parses a type shorthand into a TypeRef:
 * `uint32_t`, `struct evtchn_send`, `handle(uint8_t)`, `handle64(xen_pfn_t)`, `ptr(void)`,
 * `uint8_t[16]`, `char[XEN_EXTRAVERSION_LEN]`, `xen_pfn_t[2][3]`.
 */
export function t(src: string | TypeRef): TypeRef {
  if (typeof src !== 'string') return src;
  const s = src.trim();
  const arr = /^(.*)\[([A-Za-z0-9_]+)\]$/.exec(s);
  if (arr) {
    const inner = arr[1] as string;
    const len = arr[2] as string;
    return { kind: 'array', of: t(inner), length: /^\d+$/.test(len) ? Number(len) : len };
  }
  const call = /^(handle|handle64|ptr)\((.*)\)$/.exec(s);
  if (call) {
    const to = t(call[2] as string);
    if (call[1] === 'ptr') return { kind: 'pointer', to };
    return call[1] === 'handle64' ? { kind: 'handle', to, width: 64 } : { kind: 'handle', to };
  }
  if (!/^[A-Za-z_][A-Za-z0-9_ ]*$/.test(s)) throw new Error(`bad type shorthand '${src}'`);
  return { kind: 'name', name: s };
}

export interface FieldOpts {
  dir?: Direction;
  count?: string;
  values?: string;
  align?: number;
  arches?: string[];
}

/** A struct or union field. */
export function f(name: string, type: string | TypeRef, doc: string, opts: FieldOpts = {}): Field {
  return { name, type: t(type), doc, ...opts };
}

/** An anonymous inline struct, as a field type. */
export function inlineStruct(fields: Field[], opts: { align?: number; packed?: boolean } = {}): TypeRef {
  return { kind: 'struct', fields, ...opts };
}

/** An anonymous inline union, as a field type. */
export function inlineUnion(fields: Field[], opts: { align?: number } = {}): TypeRef {
  return { kind: 'union', fields, ...opts };
}

export interface TypeOpts {
  aliases?: string[];
  arches?: string[];
  overrides?: Record<string, TypeBody>;
  packed?: boolean;
  align?: number;
  declaredSize?: Record<string, number>;
  probe?: boolean;
  ref?: Reference;
}

/** A constant member: [name, value, doc, options]. */
export type ConstSpec = [string, ConstValue, string, Partial<Omit<Constant, 'name' | 'value' | 'doc'>>?];

export interface OpOpts {
  arg?: string | TypeRef | null;
  argDir?: Direction;
  errors?: ErrorDecl[];
  produces?: ResourceUse[];
  consumes?: ResourceUse[];
  privilege?: Privilege;
  abis?: string[];
  arches?: string[];
  tools?: boolean;
  deprecated?: Deprecation;
  /** Declared unimplemented in the reference VMM (which answers -ENOSYS), with the reason. */
  referenceVmm?: ReferenceVmmStatus;
  ref?: Reference;
}

export interface HypercallOpts {
  abis: Record<string, HandlerName>;
  args: Arg[];
  argsByAbi?: Record<string, Arg[]>;
  returns?: { type: string | TypeRef; doc: string };
  privilege?: Privilege;
  deprecated?: Deprecation;
  interface?: { min?: number; max?: number; doc: string };
  numberConstant?: { header?: string; arches?: string[]; public?: boolean };
  noReturn?: boolean;
  subops?: { selector: string; mask?: number; group: string; argument?: string; groupDoc?: string; ops: Operation[] };
  errors?: ErrorDecl[];
  produces?: ResourceUse[];
  consumes?: ResourceUse[];
  /** Declared unimplemented in the reference VMM (which answers -ENOSYS), with the reason. */
  referenceVmm?: ReferenceVmmStatus;
  ref?: Reference;
}

/** An error returned as the hypercall result: `err('EINVAL', 'port is out of range', trigger)`. */
export function err(code: string, when: string, trigger?: Trigger, abis?: string[]): ErrorDecl {
  const e: ErrorDecl = trigger ? { code, when, trigger } : { code, when };
  if (abis) e.abis = abis;
  return e;
}

/** An error reported in a status field (GNTST_*). */
export function status(code: string, when: string, trigger?: Trigger, abis?: string[]): ErrorDecl {
  const e: ErrorDecl = trigger ? { code, via: 'status', when, trigger } : { code, via: 'status', when };
  if (abis) e.abis = abis;
  return e;
}

/** Trigger shorthands. */
export const when = {
  value: (path: string, op: 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge' | 'mask', value: ConstValue, doc?: string): Trigger =>
    doc ? { kind: 'value', path, op, value, doc } : { kind: 'value', path, op, value },
  resource: (path: string, resource: string, state: string): Trigger => ({ kind: 'resource', path, resource, state }),
  fault: (path: string): Trigger => ({ kind: 'fault', path }),
  privilege: (need: string): Trigger => ({ kind: 'privilege', need }),
  state: (state: string): Trigger => ({ kind: 'state', state }),
};

/** A resource use: `use('evtchn_port', 'arg.port')`. */
export function use(resource: string, path: string, doc?: string): ResourceUse {
  return doc ? { resource, path, doc } : { resource, path };
}

/** A register argument. */
export function arg(name: string, type: string | TypeRef, doc: string, opts: { dir?: Direction; count?: string; values?: string } = {}): Arg {
  return { name, type: t(type), doc, ...opts };
}

/** What one family file contributes to a spec. */
export interface FamilyModule {
  family: Family;
  types: TypeDef[];
  constants: ConstantGroup[];
  hypercalls: Hypercall[];
  resources: Resource[];
}

/** Builders bound to one family and its default header. */
export function familyBuilder(family: string, header: string) {
  const defRef = (ref?: Reference): Reference => ref ?? { header };
  const body = (kind: 'struct' | 'union', fields: Field[], o: TypeOpts): TypeBody => {
    const b: TypeBody = { kind, fields };
    if (o.packed) b.packed = true;
    if (o.align !== undefined) b.align = o.align;
    return b;
  };
  const typeDef = (name: string, doc: string, b: TypeBody, o: TypeOpts): TypeDef => {
    const d: TypeDef = { name, family, doc, body: b, ref: defRef(o.ref) };
    if (o.aliases) d.aliases = o.aliases;
    if (o.arches) d.arches = o.arches;
    if (o.overrides) d.overrides = o.overrides;
    if (o.declaredSize) d.declaredSize = o.declaredSize;
    if (o.probe !== undefined) d.probe = o.probe;
    return d;
  };
  return {
    /** `struct <name>`; pass the tag without `struct `. Adds alias `<name>_t` unless aliases given. */
    struct(name: string, doc: string, fields: Field[], o: TypeOpts = {}): TypeDef {
      return typeDef(`struct ${name}`, doc, body('struct', fields, o), o);
    },
    /** `union <name>`. */
    union(name: string, doc: string, fields: Field[], o: TypeOpts = {}): TypeDef {
      return typeDef(`union ${name}`, doc, body('union', fields, o), o);
    },
    /** `typedef <target> <name>`. */
    typedef(name: string, target: string | TypeRef, doc: string, o: TypeOpts = {}): TypeDef {
      const b: TypeBody = { kind: 'typedef', target: t(target) };
      if (o.align !== undefined) b.align = o.align;
      return typeDef(name, doc, b, o);
    },
    /** A constant group. */
    group(
      name: string,
      kind: ConstantGroup['kind'],
      doc: string,
      members: ConstSpec[],
      o: { type?: string; ref?: Reference } = {},
    ): ConstantGroup {
      const g: ConstantGroup = {
        name,
        family,
        kind,
        doc,
        members: members.map(([n, value, d, extra]) => ({ name: n, value, doc: d, ...(extra ?? {}) })),
        ref: defRef(o.ref),
      };
      if (o.type) g.type = o.type;
      return g;
    },
    /** A flag group from bit numbers: each member [name, bit, doc] gets value 1<<bit. */
    flags(name: string, doc: string, members: [string, number, string][], o: { type?: string; ref?: Reference } = {}): ConstantGroup {
      const g: ConstantGroup = {
        name,
        family,
        kind: 'flags',
        doc,
        members: members.map(([n, bit, d]) => ({ name: n, value: bitValue(bit), bit, doc: d })),
        ref: defRef(o.ref),
      };
      if (o.type) g.type = o.type;
      return g;
    },
    /** One operation of a multiplexed hypercall. */
    op(name: string, value: number, doc: string, o: OpOpts = {}): Operation {
      const r: Operation = { name, value, doc, errors: o.errors ?? [], ref: defRef(o.ref) };
      if (o.arg !== undefined) r.arg = o.arg === null ? null : t(o.arg);
      if (o.argDir) r.argDir = o.argDir;
      if (o.produces) r.produces = o.produces;
      if (o.consumes) r.consumes = o.consumes;
      if (o.privilege) r.privilege = o.privilege;
      if (o.abis) r.abis = o.abis;
      if (o.arches) r.arches = o.arches;
      if (o.tools) r.tools = true;
      if (o.deprecated) r.deprecated = o.deprecated;
      if (o.referenceVmm) r.referenceVmm = o.referenceVmm;
      return r;
    },
    /** A hypercall. Sub-op command constants are derived from its operations. */
    hypercall(name: string, number: number, doc: string, o: HypercallOpts): Hypercall {
      const h: Hypercall = {
        name,
        number,
        family,
        doc,
        abis: o.abis,
        args: o.args,
        returns: o.returns ? { type: t(o.returns.type), doc: o.returns.doc } : { type: t('long'), doc: '0 on success, or a negative errno' },
        privilege: o.privilege ?? 'any',
        errors: o.errors ?? [],
        ref: defRef(o.ref),
      };
      if (o.argsByAbi) h.argsByAbi = o.argsByAbi;
      if (o.deprecated) h.deprecated = o.deprecated;
      if (o.interface) h.interface = o.interface;
      if (o.numberConstant) h.numberConstant = o.numberConstant;
      if (o.noReturn) h.noReturn = true;
      if (o.subops) {
        const s: SubopTable = { selector: o.subops.selector, group: o.subops.group, ops: o.subops.ops };
        if (o.subops.mask !== undefined) s.mask = o.subops.mask;
        if (o.subops.argument !== undefined) s.argument = o.subops.argument;
        h.subops = s;
      }
      if (o.produces) h.produces = o.produces;
      if (o.consumes) h.consumes = o.consumes;
      if (o.referenceVmm) h.referenceVmm = o.referenceVmm;
      return h;
    },
    /** A resource kind. */
    resource(name: string, type: string, doc: string, special?: { name: string; doc: string }[]): Resource {
      const r: Resource = { name, family, type, doc };
      if (special) r.special = special;
      return r;
    },
    /** The family record itself. */
    family(doc: string, ref?: Reference): Family {
      return { name: family, doc, ref: defRef(ref) };
    },
  };
}

/** 1<<bit as a ConstValue (hex string beyond 2^53). */
export function bitValue(bit: number): ConstValue {
  return bit < 53 ? 2 ** bit : `0x${(1n << BigInt(bit)).toString(16)}`;
}

/**
 * The constant group of a multiplexed hypercall's command values, derived from its
 * operations so that each value is written once.
 */
export function subopGroup(h: Hypercall, doc: string): ConstantGroup | undefined {
  if (!h.subops) return undefined;
  return {
    name: h.subops.group,
    family: h.family,
    kind: 'subops',
    doc,
    members: h.subops.ops.map((op) => {
      const c: Constant = { name: op.name, value: op.value, doc: op.doc };
      if (op.tools) c.tools = true;
      if (op.deprecated) c.deprecated = op.deprecated.doc;
      // Where the headers define the command is `arches`; `abis` says only where the
      // operation is available.
      if (op.arches) c.arches = op.arches;
      return c;
    }),
    ref: h.subops.ops[0]?.ref ?? h.ref,
  };
}
