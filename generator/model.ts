/**
 * The generator's one intermediate model of a spec: everything an emitter needs, resolved
 * once (per-arch type bodies and layouts, dependency order, per-ABI argument lists, constant
 * values per arch, operation ids). Emitters are pure functions of this model.
 */
import {
  LayoutEngine,
  constantValueOf,
  findArch,
  operationId,
  selects,
  typeAvailableOn,
  typeBodyFor,
  type Abi,
  type Arch,
  type Arg,
  type Constant,
  type ConstantGroup,
  type ConstValue,
  type Hypercall,
  type Operation,
  type Spec,
  type TypeBody,
  type TypeDef,
  type TypeLayout,
  type TypeRef,
} from '../spec/index.js';

/** One named type on one arch. */
export interface ArchType {
  body: TypeBody;
  layout: TypeLayout;
}

/** A named type with its body and layout on every arch where it exists. */
export interface GenType {
  def: TypeDef;
  /** Per arch name; absent where the type does not exist. */
  arches: Record<string, ArchType>;
  /** Named types this one needs complete (fields by value, typedef targets), any arch. */
  deps: string[];
  /** Named types this one refers to only through handles or pointers. */
  refs: string[];
}

/** A constant with its value on every arch where it exists. */
export interface GenConstant {
  constant: Constant;
  group: ConstantGroup;
  values: Record<string, ConstValue>;
}

/** A hypercall with its argument list resolved per ABI. */
export interface GenHypercall {
  hypercall: Hypercall;
  /** Per ABI name that has the call. */
  args: Record<string, Arg[]>;
  operations: GenOperation[];
}

/** One operation (a sub-op, or a whole non-multiplexed hypercall). */
export interface GenOperation {
  id: string;
  hypercall: Hypercall;
  op?: Operation;
}

/** The whole model of one spec. */
export interface GenModel {
  spec: Spec;
  arches: Arch[];
  abis: Abi[];
  /** Types in dependency order: a type comes after every type it needs complete. */
  types: GenType[];
  constants: GenConstant[];
  hypercalls: GenHypercall[];
  operations: GenOperation[];
}

/** Named types a type reference mentions: by value (needs a complete type) and through handles or pointers. */
export function typeRefNames(t: TypeRef, byValue: Set<string>, byRef: Set<string>, viaPointer = false): void {
  switch (t.kind) {
    case 'name':
      (viaPointer ? byRef : byValue).add(t.name);
      return;
    case 'handle':
    case 'pointer':
      typeRefNames(t.to, byValue, byRef, true);
      return;
    case 'array':
      typeRefNames(t.of, byValue, byRef, viaPointer);
      return;
    case 'struct':
    case 'union':
      for (const f of t.fields) typeRefNames(f.type, byValue, byRef, viaPointer);
      return;
  }
}

/** The argument list of a hypercall under an ABI: per ABI, else per arch, else the native list. */
export function argsFor(h: Hypercall, abi: Abi): Arg[] {
  return h.argsByAbi?.[abi.name] ?? h.argsByAbi?.[abi.arch] ?? h.args;
}

/** Builds the model of a spec, optionally restricted to some ABIs (and so to their arches). */
export function buildModel(spec: Spec, abiNames?: readonly string[]): GenModel {
  const abis = abiNames ? spec.abis.filter((a) => abiNames.includes(a.name) || abiNames.includes(a.arch)) : spec.abis;
  if (abiNames) {
    const unknown = abiNames.filter((n) => !spec.abis.some((a) => a.name === n || a.arch === n));
    if (unknown.length > 0) {
      throw new Error(`unknown ABI ${unknown.map((u) => `'${u}'`).join(', ')} for spec ${spec.name}; use one of: ${spec.abis.map((a) => a.name).join(', ')}`);
    }
  }
  const archNames = new Set(abis.map((a) => a.arch));
  const arches = spec.arches.filter((a) => archNames.has(a.name) || (abis.length === 0 && abiNames === undefined));
  const engines = new Map(arches.map((a) => [a.name, new LayoutEngine(spec, a)]));

  const byName = new Map<string, GenType>();
  for (const def of spec.types) {
    const perArch: Record<string, ArchType> = {};
    const deps = new Set<string>();
    const refs = new Set<string>();
    for (const arch of arches) {
      if (!typeAvailableOn(def, arch)) continue;
      const body = typeBodyFor(def, arch);
      perArch[arch.name] = { body, layout: (engines.get(arch.name) as LayoutEngine).named(def.name) };
      if (body.target) typeRefNames(body.target, deps, refs);
      for (const f of body.fields ?? []) typeRefNames(f.type, deps, refs);
    }
    byName.set(def.name, { def, arches: perArch, deps: [...deps], refs: [...refs] });
  }
  const canonical = (n: string): string | undefined => {
    if (byName.has(n)) return n;
    return spec.types.find((t) => t.aliases?.includes(n))?.name;
  };
  // Depth-first topological order over by-value dependencies, stable in spec order.
  const ordered: GenType[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string) => {
    const s = state.get(name);
    if (s === 'done' || s === 'visiting') return;
    state.set(name, 'visiting');
    const t = byName.get(name) as GenType;
    for (const d of t.deps) {
      const c = canonical(d);
      if (c && c !== name) visit(c);
    }
    state.set(name, 'done');
    if (Object.keys(t.arches).length > 0) ordered.push(t);
  };
  for (const def of spec.types) visit(def.name);

  const constants: GenConstant[] = [];
  for (const group of spec.constants) {
    for (const c of group.members) {
      const values: Record<string, ConstValue> = {};
      for (const arch of arches) {
        const v = constantValueOf(c, arch);
        if (v !== undefined) values[arch.name] = v;
      }
      constants.push({ constant: c, group, values });
    }
  }

  const hypercalls: GenHypercall[] = [];
  const operations: GenOperation[] = [];
  for (const h of spec.hypercalls) {
    const args: Record<string, Arg[]> = {};
    for (const abi of abis) if (abi.name in h.abis) args[abi.name] = argsFor(h, abi);
    const ops: GenOperation[] = h.subops
      ? h.subops.ops.map((op) => ({ id: operationId(h, op), hypercall: h, op }))
      : [{ id: operationId(h), hypercall: h }];
    hypercalls.push({ hypercall: h, args, operations: ops });
    operations.push(...ops);
  }
  return { spec, arches, abis, types: ordered, constants, hypercalls, operations };
}

/** Whether a list of arch or family names includes an arch. */
export function archSelected(list: readonly string[] | undefined, spec: Spec, archName: string): boolean {
  const arch = findArch(spec, archName);
  return arch !== undefined && selects(list, arch);
}
