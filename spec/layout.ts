/**
 * The layout engine: size, alignment and field offsets of every type under an
 * architecture's C data model, computed from the spec by the C rules (System V i386,
 * x86-64 psABI, AAPCS64, AAPCS with Xen's 8-byte handles).
 *
 * Rules: a struct field sits at the next multiple of its alignment; a struct's alignment is
 * its largest field alignment (1 when packed) raised by any aligned attribute; its size is
 * rounded up to its alignment. A union is as large as its largest member, rounded likewise.
 * An array has its element's alignment. Scalar sizes and in-struct alignments come from the
 * arch's `scalars` table (i386 aligns 64-bit integers to 4 inside structs).
 */
import type { Arch, Field, Spec, TypeBody, TypeDef, TypeRef } from './model.js';
import { constantValue, findArch, findType, typeBodyFor, typeAvailableOn, fieldPresentOn } from './query.js';

/** Offset and size of one member. */
export interface FieldLayout {
  offset: number;
  size: number;
  align: number;
}

/** Size, alignment and members of one type. Inline anonymous members appear as dotted paths. */
export interface TypeLayout {
  size: number;
  align: number;
  fields: Record<string, FieldLayout>;
}

/** A layout problem: the spec is malformed for this arch. */
export class LayoutError extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(`${path}: ${message}`);
    this.name = 'LayoutError';
  }
}

const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

/** Computes layouts of one spec for one arch, caching named types. */
export class LayoutEngine {
  readonly arch: Arch;
  private readonly cache = new Map<string, TypeLayout>();
  private readonly inProgress = new Set<string>();

  constructor(
    readonly spec: Spec,
    arch: string | Arch,
  ) {
    this.arch = typeof arch === 'string' ? findArchOrThrow(spec, arch) : arch;
  }

  /** Layout of a named type (C spelling, or one of its aliases). */
  named(name: string): TypeLayout {
    const cached = this.cache.get(name);
    if (cached) return cached;
    const scalar = this.arch.scalars[name];
    if (scalar) return { size: scalar.size, align: scalar.align, fields: {} };
    const def = findType(this.spec, name);
    if (!def) throw new LayoutError(`unknown type '${name}'`, name);
    if (!typeAvailableOn(def, this.arch)) {
      throw new LayoutError(`type is not defined on ${this.arch.name}`, def.name);
    }
    if (this.inProgress.has(def.name)) throw new LayoutError('type contains itself', def.name);
    this.inProgress.add(def.name);
    try {
      const layout = this.body(typeBodyFor(def, this.arch), def.name);
      this.cache.set(name, layout);
      this.cache.set(def.name, layout);
      return layout;
    } finally {
      this.inProgress.delete(def.name);
    }
  }

  /** Whether a named type exists on this arch. */
  has(name: string): boolean {
    if (this.arch.scalars[name]) return true;
    const def = findType(this.spec, name);
    return def !== undefined && typeAvailableOn(def, this.arch);
  }

  /** Layout of any type reference. */
  ref(ref: TypeRef, path: string): TypeLayout {
    switch (ref.kind) {
      case 'name':
        return this.named(ref.name);
      case 'handle': {
        const h = ref.width === 64 ? this.arch.handle64 : this.arch.handle;
        return { size: h.size, align: h.align, fields: {} };
      }
      case 'pointer':
        return { size: this.arch.pointerSize, align: this.arch.pointerSize, fields: {} };
      case 'array': {
        const n = typeof ref.length === 'number' ? ref.length : this.lengthOf(ref.length, path);
        const el = this.ref(ref.of, path);
        return { size: el.size * n, align: el.align, fields: {} };
      }
      case 'struct':
      case 'union':
        return this.aggregate(ref.kind, ref.fields, ref.packed ?? false, ref.align, path);
    }
  }

  private lengthOf(name: string, path: string): number {
    const v = constantValue(this.spec, name, this.arch);
    if (v === undefined) throw new LayoutError(`array length names unknown constant '${name}'`, path);
    if (typeof v !== 'number') throw new LayoutError(`array length '${name}' is too large`, path);
    return v;
  }

  private body(body: TypeBody, path: string): TypeLayout {
    if (body.kind === 'typedef') {
      if (!body.target) throw new LayoutError('typedef has no target', path);
      const t = this.ref(body.target, path);
      const align = body.align ?? t.align;
      return { size: t.size, align, fields: t.fields };
    }
    return this.aggregate(body.kind, body.fields ?? [], body.packed ?? false, body.align, path);
  }

  private aggregate(
    kind: 'struct' | 'union',
    fields: readonly Field[],
    packed: boolean,
    explicitAlign: number | undefined,
    path: string,
  ): TypeLayout {
    const out: Record<string, FieldLayout> = {};
    let offset = 0;
    let size = 0;
    let align = 1;
    for (const f of fields) {
      if (!fieldPresentOn(f, this.arch)) continue;
      const fpath = `${path}.${f.name}`;
      const l = this.ref(f.type, fpath);
      let fa = packed ? 1 : l.align;
      if (f.align !== undefined) fa = Math.max(fa, f.align);
      const at = kind === 'struct' ? alignUp(offset, fa) : 0;
      // An anonymous member (C11) contributes its members directly; a named inline
      // aggregate's members are reachable by a dotted path.
      if (f.name !== '') out[f.name] = { offset: at, size: l.size, align: fa };
      if (f.type.kind === 'struct' || f.type.kind === 'union') {
        const prefix = f.name === '' ? '' : `${f.name}.`;
        for (const [sub, sl] of Object.entries(l.fields)) {
          out[`${prefix}${sub}`] = { offset: at + sl.offset, size: sl.size, align: sl.align };
        }
      }
      align = Math.max(align, fa);
      if (kind === 'struct') {
        offset = at + l.size;
        size = offset;
      } else {
        size = Math.max(size, l.size);
      }
    }
    if (explicitAlign !== undefined) align = Math.max(align, explicitAlign);
    if (size === 0 && align === 1) {
      return { size: this.arch.emptyStructSize, align: explicitAlign ?? 1, fields: {} };
    }
    return { size: alignUp(size, align), align, fields: out };
  }
}

function findArchOrThrow(spec: Spec, name: string): Arch {
  const a = findArch(spec, name);
  if (!a) throw new LayoutError(`unknown arch or ABI '${name}' (have: ${spec.arches.map((x) => x.name).join(', ')})`, name);
  return a;
}

/** Layouts of every named type of a spec available on an arch, keyed by C name. */
export function allLayouts(spec: Spec, arch: string | Arch): Record<string, TypeLayout> {
  const engine = new LayoutEngine(spec, arch);
  const out: Record<string, TypeLayout> = {};
  for (const def of spec.types) {
    if (!typeAvailableOn(def, engine.arch)) continue;
    out[def.name] = engine.named(def.name);
  }
  return out;
}

/** Whether a type is a struct or union on the given arch (not a typedef of a scalar). */
export function isAggregate(def: TypeDef, arch: Arch): boolean {
  const b = typeBodyFor(def, arch);
  return b.kind !== 'typedef';
}
