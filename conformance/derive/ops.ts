/**
 * What the derivation needs to know about one operation on one ABI, read from the spec: how its
 * stub is called (register arguments, the selector, the struct argument and its count), the
 * fields of its struct (handles and their counts, status fields), and its declared errors.
 */
import { LayoutEngine } from '../../spec/layout.js';
import type { Abi, Arch, Arg, ErrorDecl, Field, Hypercall, Operation, Spec, TypeRef } from '../../spec/model.js';
import { findAbi, findArch, findType, selects, typeBodyFor } from '../../spec/query.js';

/** A scalar leaf of a struct argument: its dotted path and its spec type. */
export interface FieldInfo {
  path: string;
  type: TypeRef;
  /** A sibling field giving the element count behind this handle. */
  count?: string;
  values?: string;
  dir?: string;
  /** Inside a union (only one member of a union is set at a time). */
  inUnion: boolean;
}

export interface OpInfo {
  /** `<hypercall>$<SUBOP>` or the hypercall name. */
  id: string;
  h: Hypercall;
  op: Operation | undefined;
  abi: Abi;
  arch: Arch;
  engine: LayoutEngine;
  /** The register arguments of the hypercall on this ABI, in order. */
  args: Arg[];
  /** The argument that selects the operation (cmd), for a multiplexed call whose selector is a register. */
  selector?: Arg;
  /** The argument that points at the operation's struct (or is NULL for operations without one). */
  argument?: Arg;
  /** The argument giving the number of structs (grant_table_op's count), when the struct argument has one. */
  count?: Arg;
  /** Batched calls: the element field that selects the operation (mmu_update's ptr, mmuext_op's cmd). */
  batch?: { array: string; field: string };
  /** The struct the operation carries, in its C spelling. */
  struct?: string;
  /** The stub's own parameters (everything but selector, struct argument and its count), in order. */
  params: Arg[];
  /** The struct's scalar leaves. */
  fields: FieldInfo[];
  /** Errors of the operation, then of its hypercall, that callers of this ABI can get. */
  errors: { decl: ErrorDecl; level: 'op' | 'hypercall' }[];
}

/** Whether an ABI has the hypercall and the operation. */
export function available(spec: Spec, h: Hypercall, op: Operation | undefined, abiName: string): boolean {
  const abi = findAbi(spec, abiName);
  const arch = abi ? findArch(spec, abi.arch) : undefined;
  if (!abi || !arch || !(abiName in h.abis)) return false;
  if (op?.abis && !op.abis.includes(abiName) && !selects(op.abis, arch)) return false;
  return true;
}

/** Whether an error applies to callers of an ABI (its `abis` list names the ABI, its arch or its family). */
export function errorApplies(e: ErrorDecl, abi: Abi, arch: Arch): boolean {
  return e.abis === undefined || e.abis.includes(abi.name) || selects(e.abis, arch);
}

export function argsFor(h: Hypercall, abi: Abi, arch: Arch): Arg[] {
  const by = h.argsByAbi ?? {};
  return by[abi.name] ?? by[arch.name] ?? by[arch.family] ?? h.args;
}

const engines = new Map<string, LayoutEngine>();

export function opInfo(spec: Spec, h: Hypercall, op: Operation | undefined, abiName: string): OpInfo {
  const abi = findAbi(spec, abiName);
  const arch = abi ? findArch(spec, abi.arch) : undefined;
  if (!abi || !arch) throw new Error(`unknown ABI ${abiName}`);
  let engine = engines.get(arch.name);
  if (!engine) engines.set(arch.name, (engine = new LayoutEngine(spec, arch)));
  const args = argsFor(h, abi, arch);
  const m = /^([A-Za-z_][A-Za-z0-9_]*)\[\]\.(.+)$/.exec(h.subops?.selector ?? '');
  const batch = m ? { array: m[1] as string, field: m[2] as string } : undefined;
  const selector = h.subops && !batch ? args.find((a) => a.name === h.subops?.selector) : undefined;
  const argName = batch ? batch.array : h.subops?.argument;
  const argument = argName ? args.find((a) => a.name === argName) : undefined;
  const struct = op?.arg && op.arg.kind === 'name' ? op.arg.name : undefined;
  const count = argument?.count && struct ? args.find((a) => a.name === argument.count) : undefined;
  const params = args.filter((a) => a !== selector && a !== argument && a !== count);
  const fields = struct ? leaves(spec, arch, struct) : [];
  const errors = [
    ...(op?.errors ?? []).map((decl) => ({ decl, level: 'op' as const })),
    ...h.errors.map((decl) => ({ decl, level: 'hypercall' as const })),
  ].filter((e) => errorApplies(e.decl, abi, arch));
  return {
    id: op ? `${h.name}$${op.name}` : h.name,
    h,
    op,
    abi,
    arch,
    engine,
    args,
    ...(selector ? { selector } : {}),
    ...(argument ? { argument } : {}),
    ...(count ? { count } : {}),
    ...(batch ? { batch } : {}),
    ...(struct ? { struct } : {}),
    params,
    fields,
    errors,
  };
}

/** The scalar leaves of a named struct on an arch, following inline structs and unions and named member structs. */
export function leaves(spec: Spec, arch: Arch, typeName: string, prefix = '', inUnion = false, depth = 0): FieldInfo[] {
  const def = findType(spec, typeName);
  if (!def || depth > 6) return [];
  const body = typeBodyFor(def, arch);
  if (body.kind === 'typedef') {
    const t = body.target;
    if (t?.kind === 'name' && findType(spec, t.name)) return leaves(spec, arch, t.name, prefix, inUnion, depth + 1);
    return prefix ? [{ path: prefix.slice(0, -1), type: t ?? { kind: 'name', name: typeName }, inUnion }] : [];
  }
  return fieldLeaves(spec, arch, body.fields ?? [], prefix, inUnion || body.kind === 'union', depth);
}

function fieldLeaves(spec: Spec, arch: Arch, fields: readonly Field[], prefix: string, inUnion: boolean, depth: number): FieldInfo[] {
  const out: FieldInfo[] = [];
  for (const f of fields) {
    if (!selects(f.arches, arch)) continue;
    const path = `${prefix}${f.name}`;
    const t = f.type;
    if (t.kind === 'struct' || t.kind === 'union') {
      out.push(...fieldLeaves(spec, arch, t.fields, `${path}.`, inUnion || t.kind === 'union', depth + 1));
      continue;
    }
    if (t.kind === 'name') {
      const def = findType(spec, t.name);
      const body = def ? typeBodyFor(def, arch) : undefined;
      if (body && body.kind !== 'typedef') {
        out.push(...leaves(spec, arch, t.name, `${path}.`, inUnion, depth + 1));
        continue;
      }
    }
    out.push({ path, type: t, ...(f.count ? { count: f.count } : {}), ...(f.values ? { values: f.values } : {}), ...(f.dir ? { dir: f.dir } : {}), inUnion });
  }
  return out;
}

/** Whether a type is a guest handle or pointer (after typedefs). */
export function isPointer(spec: Spec, t: TypeRef, depth = 0): boolean {
  if (t.kind === 'handle' || t.kind === 'pointer') return true;
  if (t.kind === 'name' && depth < 6) {
    const def = findType(spec, t.name);
    if (def?.body.kind === 'typedef' && def.body.target) return isPointer(spec, def.body.target, depth + 1);
  }
  return false;
}

/** The named scalar a type ends in (domid_t, evtchn_port_t...), for choosing values. */
export function typeName(t: TypeRef): string | undefined {
  return t.kind === 'name' ? t.name : undefined;
}

/** The field giving the element count behind a handle field: its sibling, at the same depth. */
export function countPath(info: OpInfo, handle: string): string | undefined {
  const c = info.fields.find((f) => f.path === handle)?.count;
  if (!c) return undefined;
  const dot = handle.lastIndexOf('.');
  return dot < 0 ? c : `${handle.slice(0, dot + 1)}${c}`;
}
