/**
 * The TypeScript shape of every spec type: what value a TS program holds for it, merged over
 * every arch of the model, and the names the generated code gives it.
 *
 * Choices (documented in generated/README.md):
 * - an integer is a `number` when its C type is at most 4 bytes on every arch of the model,
 *   else a `bigint` (so `unsigned long` and `xen_pfn_t` are `bigint` everywhere, and round-trip
 *   exactly on both 32- and 64-bit arches); `char` is a byte (0 to 255);
 * - guest handles and pointers are guest addresses, `bigint`;
 * - arrays are JS arrays; inline structs are nested objects; a C11 anonymous member's
 *   members sit in the enclosing object;
 * - every member of a union is optional (encode writes the members present, in order; decode
 *   returns every member), and so is a field absent on some arch;
 * - a field whose shape differs between arches gets the union of its shapes.
 */
import type { Arch, Field, TypeRef } from '../../spec/index.js';
import type { GenModel, GenType } from '../model.js';
import { fieldsOn } from '../c/declare.js';

/** A TS value shape. */
export type Shape =
  | { k: 'num' }
  | { k: 'big' }
  | { k: 'array'; of: Shape }
  | { k: 'named'; cName: string }
  | { k: 'object'; fields: ShapeField[] }
  | { k: 'union'; of: Shape[] };

export interface ShapeField {
  name: string;
  shape: Shape;
  optional: boolean;
}

/** A type the emitter cannot express, named by its spec item. */
export class TsEmitError extends Error {
  override name = 'TsEmitError';
  constructor(item: string, message: string) {
    super(`${item}: ${message}`);
  }
}

const SIGNED = new Set(['signed char', 'short', 'int', 'long', 'long long', 'int8_t', 'int16_t', 'int32_t', 'int64_t']);

/** Whether a C scalar name is signed (`char` counts as a byte: unsigned). */
export function isSigned(scalar: string): boolean {
  return SIGNED.has(scalar);
}

export const shapeKey = (s: Shape): string => JSON.stringify(s);

/** PascalCase TS name of a C type name: `struct evtchn_send` → `EvtchnSend`, `domid_t` → `Domid`. */
export function pascal(cName: string): string {
  const bare = cName.replace(/^(struct|union) /, '').replace(/_t$/, '');
  return bare
    .split(/[^A-Za-z0-9]+/)
    .filter((p) => p !== '')
    .map((p) => p[0]?.toUpperCase() + p.slice(1))
    .join('');
}

/** Names the generated runtime and modules use, which a type must not take. */
const RESERVED = new Set(['Codec', 'GuestRef', 'GuestArrayRef', 'GuestMemory', 'GuestFault', 'HypercallTransport', 'Type', 'Static']);

/** Everything the TS emitters share about a model: type names, merged shapes, scalar kinds. */
export class TsModel {
  /** C name (and every alias) → TS name. */
  readonly tsName = new Map<string, string>();
  /** Canonical C name → merged shape. */
  readonly shapes = new Map<string, Shape>();
  /** Canonical C name → the type. */
  readonly types = new Map<string, GenType>();
  /** Scalar C names used behind pointers or as operation arguments, which get codecs of their own. */
  readonly pointeeScalars = new Set<string>();

  constructor(readonly model: GenModel) {
    const taken = new Map<string, string>();
    const ordered = [...model.types].sort((a, b) => rank(a) - rank(b));
    for (const t of ordered) {
      let n = pascal(t.def.name);
      if (n === '' || /^[0-9]/.test(n)) n = `T${n}`;
      if (taken.has(n) || RESERVED.has(n)) n = `${n}T`;
      if (taken.has(n)) throw new TsEmitError(t.def.name, `TS name ${n} is already used by ${taken.get(n)}`);
      taken.set(n, t.def.name);
      this.tsName.set(t.def.name, n);
      for (const a of t.def.aliases ?? []) this.tsName.set(a, n);
      this.types.set(t.def.name, t);
      for (const a of t.def.aliases ?? []) this.types.set(a, t);
    }
    for (const t of model.types) this.shapes.set(t.def.name, this.typeShape(t));
    for (const h of model.hypercalls) {
      const refs = [...h.hypercall.args, ...Object.values(h.hypercall.argsByAbi ?? {}).flat()].map((a) => a.type);
      for (const op of h.hypercall.subops?.ops ?? []) if (op.arg) refs.push(op.arg);
      for (const r of refs) {
        const to = r.kind === 'pointer' || r.kind === 'handle' ? r.to : r;
        if (to.kind === 'name' && this.isScalar(to.name) && to.name !== 'void') this.pointeeScalars.add(to.name);
      }
    }
  }

  /** Whether a name is a scalar of the arches' tables (and not a declared type). */
  isScalar(name: string): boolean {
    return !this.types.has(name) && this.model.arches.some((a) => a.scalars[name] !== undefined);
  }

  /** The TS name of a declared type or pointee scalar. */
  nameOf(cName: string): string {
    const n = this.tsName.get(cName);
    if (n) return n;
    if (this.isScalar(cName)) return pascal(cName.replace(/ /g, '_'));
    throw new TsEmitError(cName, 'unknown type');
  }

  /** The canonical type of a C name or alias. */
  typeOf(cName: string): GenType {
    const t = this.types.get(cName);
    if (!t) throw new TsEmitError(cName, 'unknown type');
    return t;
  }

  /** num or big for a scalar C name: big when it is wider than 4 bytes on any arch of the model. */
  scalarShape(name: string, item: string): Shape {
    let max = 0;
    for (const a of this.model.arches) max = Math.max(max, a.scalars[name]?.size ?? 0);
    if (max === 0) throw new TsEmitError(item, `unknown scalar '${name}'`);
    if (name === 'void') throw new TsEmitError(item, 'void used by value');
    return max > 4 ? { k: 'big' } : { k: 'num' };
  }

  /** The shape of a type reference on one arch. */
  refShape(t: TypeRef, arch: Arch, item: string): Shape {
    switch (t.kind) {
      case 'name':
        if (this.types.has(t.name)) return { k: 'named', cName: this.typeOf(t.name).def.name };
        return this.scalarShape(t.name, item);
      case 'handle':
      case 'pointer':
        return { k: 'big' };
      case 'array':
        return { k: 'array', of: this.refShape(t.of, arch, item) };
      case 'struct':
      case 'union':
        return { k: 'object', fields: this.fieldShapes(t.kind, t.fields, arch, item) };
    }
  }

  private fieldShapes(kind: 'struct' | 'union', fields: readonly Field[], arch: Arch, item: string): ShapeField[] {
    const out: ShapeField[] = [];
    for (const f of fieldsOn(fields, arch)) {
      const path = `${item}.${f.name}`;
      if (f.name === '') {
        if (f.type.kind !== 'struct' && f.type.kind !== 'union') throw new TsEmitError(path, 'an anonymous member must be a struct or union');
        for (const sub of this.fieldShapes(f.type.kind, f.type.fields, arch, item)) {
          out.push({ ...sub, optional: sub.optional || kind === 'union' });
        }
        continue;
      }
      out.push({ name: f.name, shape: this.refShape(f.type, arch, path), optional: kind === 'union' });
    }
    return out;
  }

  private typeShape(t: GenType): Shape {
    let merged: Shape | undefined;
    for (const arch of this.model.arches) {
      const a = t.arches[arch.name];
      if (!a) continue;
      const s: Shape =
        a.body.kind === 'typedef'
          ? this.refShape(a.body.target ?? fail(t.def.name, 'typedef without target'), arch, t.def.name)
          : { k: 'object', fields: this.fieldShapes(a.body.kind, a.body.fields ?? [], arch, t.def.name) };
      merged = merged ? mergeShapes(merged, s) : s;
    }
    return merged ?? fail(t.def.name, 'type exists on no arch of the model');
  }

  /** The shape a named type's values have, following named typedefs (for scalar checks). */
  resolved(s: Shape): Shape {
    return s.k === 'named' ? this.resolved(this.shapes.get(s.cName) ?? fail(s.cName, 'no shape')) : s;
  }
}

function rank(t: GenType): number {
  return /^(struct|union) /.test(t.def.name) ? 0 : 1;
}

function fail(item: string, message: string): never {
  throw new TsEmitError(item, message);
}

/** Merges the shapes of one value on two arches. */
export function mergeShapes(a: Shape, b: Shape): Shape {
  if (shapeKey(a) === shapeKey(b)) return a;
  if (a.k === 'object' && b.k === 'object') {
    const names = [...new Set([...a.fields.map((f) => f.name), ...b.fields.map((f) => f.name)])];
    return {
      k: 'object',
      fields: names.map((n) => {
        const fa = a.fields.find((f) => f.name === n);
        const fb = b.fields.find((f) => f.name === n);
        if (fa && fb) return { name: n, shape: mergeShapes(fa.shape, fb.shape), optional: fa.optional || fb.optional };
        return { ...((fa ?? fb) as ShapeField), optional: true };
      }),
    };
  }
  if (a.k === 'array' && b.k === 'array') return { k: 'array', of: mergeShapes(a.of, b.of) };
  const parts = [...(a.k === 'union' ? a.of : [a]), ...(b.k === 'union' ? b.of : [b])];
  const seen = new Map<string, Shape>();
  for (const p of parts) if (!seen.has(shapeKey(p))) seen.set(shapeKey(p), p);
  return { k: 'union', of: [...seen.values()] };
}

/** The TS type text of a shape. */
export function tsTypeText(ts: TsModel, s: Shape): string {
  switch (s.k) {
    case 'num':
      return 'number';
    case 'big':
      return 'bigint';
    case 'array': {
      const inner = tsTypeText(ts, s.of);
      return s.of.k === 'union' ? `(${inner})[]` : `${inner}[]`;
    }
    case 'named':
      return ts.nameOf(s.cName);
    case 'union':
      return s.of.map((x) => tsTypeText(ts, x)).join(' | ');
    case 'object':
      return `{ ${s.fields.map((f) => `${f.name}${f.optional ? '?' : ''}: ${tsTypeText(ts, f.shape)}`).join('; ')} }`;
  }
}

/** The TypeBox expression of a shape. */
export function typeboxText(ts: TsModel, s: Shape, indent: string): string {
  switch (s.k) {
    case 'num':
      return 'Type.Integer()';
    case 'big':
      return 'Type.BigInt()';
    case 'array':
      return `Type.Array(${typeboxText(ts, s.of, indent)})`;
    case 'named':
      return ts.nameOf(s.cName);
    case 'union':
      return `Type.Union([${s.of.map((x) => typeboxText(ts, x, indent)).join(', ')}])`;
    case 'object': {
      if (s.fields.length === 0) return 'Type.Object({})';
      const inner = `${indent}  `;
      const lines = s.fields.map((f) => {
        const t = typeboxText(ts, f.shape, inner);
        return `${inner}${f.name}: ${f.optional ? `Type.Optional(${t})` : t},`;
      });
      return `Type.Object({\n${lines.join('\n')}\n${indent}})`;
    }
  }
}
