/**
 * Lookups over a spec: types by name or alias, constants by name and arch, ABIs and arches.
 * Indexes are built once per spec object and cached.
 */
import type { Abi, Arch, Constant, ConstantGroup, ConstValue, Field, Hypercall, Operation, Spec, TypeBody, TypeDef } from './model.js';

interface Index {
  types: Map<string, TypeDef>;
  constants: Map<string, { constant: Constant; group: ConstantGroup }>;
  groups: Map<string, ConstantGroup>;
  hypercalls: Map<string, Hypercall>;
  operations: Map<string, { hypercall: Hypercall; op?: Operation }>;
}

const indexes = new WeakMap<Spec, Index>();

function index(spec: Spec): Index {
  let ix = indexes.get(spec);
  if (ix) return ix;
  ix = { types: new Map(), constants: new Map(), groups: new Map(), hypercalls: new Map(), operations: new Map() };
  for (const t of spec.types) {
    if (!ix.types.has(t.name)) ix.types.set(t.name, t);
    for (const a of t.aliases ?? []) if (!ix.types.has(a)) ix.types.set(a, t);
  }
  for (const g of spec.constants) {
    if (!ix.groups.has(g.name)) ix.groups.set(g.name, g);
    for (const c of g.members) if (!ix.constants.has(c.name)) ix.constants.set(c.name, { constant: c, group: g });
  }
  for (const h of spec.hypercalls) {
    if (!ix.hypercalls.has(h.name)) ix.hypercalls.set(h.name, h);
    ix.operations.set(h.name, { hypercall: h });
    for (const op of h.subops?.ops ?? []) ix.operations.set(operationId(h, op), { hypercall: h, op });
  }
  indexes.set(spec, ix);
  return ix;
}

/** The canonical id of an operation: `<hypercall>$<SUBOP>`, or the hypercall name alone. */
export function operationId(h: Hypercall, op?: Operation): string {
  return op ? `${h.name}$${op.name}` : h.name;
}

/** A named type by C name or alias. */
export function findType(spec: Spec, name: string): TypeDef | undefined {
  return index(spec).types.get(name);
}

/** A constant and its group by name. */
export function findConstant(spec: Spec, name: string): { constant: Constant; group: ConstantGroup } | undefined {
  return index(spec).constants.get(name);
}

/** A constant group by name. */
export function findGroup(spec: Spec, name: string): ConstantGroup | undefined {
  return index(spec).groups.get(name);
}

/** A hypercall by name. */
export function findHypercall(spec: Spec, name: string): Hypercall | undefined {
  return index(spec).hypercalls.get(name);
}

/** An operation by id (`event_channel_op$EVTCHNOP_send` or `set_timer_op`). */
export function findOperation(spec: Spec, id: string): { hypercall: Hypercall; op?: Operation } | undefined {
  return index(spec).operations.get(id);
}

/** An arch by its name, or the arch of the ABI of that name. */
export function findArch(spec: Spec, name: string): Arch | undefined {
  const direct = spec.arches.find((a) => a.name === name);
  if (direct) return direct;
  const abi = spec.abis.find((a) => a.name === name);
  return abi ? spec.arches.find((a) => a.name === abi.arch) : undefined;
}

/** An ABI by name. */
export function findAbi(spec: Spec, name: string): Abi | undefined {
  return spec.abis.find((a) => a.name === name);
}

/** Whether a list of arch or family names selects an arch (absent list: every arch). */
export function selects(list: readonly string[] | undefined, arch: Arch): boolean {
  return list === undefined || list.includes(arch.name) || list.includes(arch.family);
}

export function typeAvailableOn(def: TypeDef, arch: Arch): boolean {
  return selects(def.arches, arch);
}

export function fieldPresentOn(f: Field, arch: Arch): boolean {
  return selects(f.arches, arch);
}

/** The body of a type on an arch: an override for the arch, else for its family, else the default. */
export function typeBodyFor(def: TypeDef, arch: Arch): TypeBody {
  return def.overrides?.[arch.name] ?? def.overrides?.[arch.family] ?? def.body;
}

/** The value of a constant on an arch, or undefined when it is not defined there. */
export function constantValueOf(c: Constant, arch?: Arch): ConstValue | undefined {
  if (arch) {
    if (!selects(c.arches, arch)) return undefined;
    const v = c.perArch?.[arch.name] ?? c.perArch?.[arch.family];
    if (v !== undefined) return v;
  }
  return c.value;
}

/** The value of a constant by name on an arch. */
export function constantValue(spec: Spec, name: string, arch?: Arch): ConstValue | undefined {
  const hit = findConstant(spec, name);
  return hit ? constantValueOf(hit.constant, arch) : undefined;
}

/** Every constant defined on an arch, by name, in spec order. */
export function allConstants(spec: Spec, arch: Arch): Record<string, ConstValue> {
  const out: Record<string, ConstValue> = {};
  for (const g of spec.constants) {
    for (const c of g.members) {
      const v = constantValueOf(c, arch);
      if (v !== undefined && !(c.name in out)) out[c.name] = v;
    }
  }
  return out;
}

/** A ConstValue as a bigint. */
export function toBigInt(v: ConstValue): bigint {
  if (typeof v === 'number') return BigInt(v);
  return v.startsWith('-') ? -BigInt(v.slice(1)) : BigInt(v);
}

/** A bigint as a ConstValue: a number when exactly representable, else hex. */
export function fromBigInt(v: bigint): ConstValue {
  if (v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER)) return Number(v);
  return v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
}
