/**
 * C declarations of spec types: declarators for type references, struct and union bodies,
 * guest-handle typedefs derived from each arch's handle size, constant literals and the
 * preprocessor conditions that select an arch. Pure string functions.
 */
import type { Arch, ConstValue, Field, TypeBody, TypeRef } from '../../spec/index.js';
import { toBigInt } from '../../spec/index.js';

/**
 * The compiler's predefined macro that identifies each arch. This is knowledge of C
 * compilers (GCC, Clang), not of any ABI, so it lives in the C generator.
 */
export const ARCH_MACRO: Readonly<Record<string, string>> = {
  x86_64: '__x86_64__',
  x86_32: '__i386__',
  arm64: '__aarch64__',
  arm32: '__arm__',
};

/** `defined(__x86_64__) || defined(__i386__)` for a list of arch names. */
export function archCondition(arches: readonly string[]): string {
  return arches
    .map((a) => {
      const m = ARCH_MACRO[a];
      if (!m) throw new Error(`no C predefined macro known for arch '${a}'`);
      return `defined(${m})`;
    })
    .join(' || ');
}

/** A C identifier for a type name: `struct evtchn_send` → `struct_evtchn_send`. */
export function ident(cName: string): string {
  return cName.replace(/[^A-Za-z0-9_]+/g, '_');
}

/** The typedef name of the guest handle to an element type. */
export function handleTypeName(to: TypeRef, width?: 64): string {
  return `hyperabi_handle${width === 64 ? '64' : ''}_${ident(plainTypeName(to))}_t`;
}

/** The C spelling of a type that has a plain name (a scalar, a declared type or void). */
export function plainTypeName(t: TypeRef): string {
  if (t.kind === 'name') return t.name;
  if (t.kind === 'pointer') return `${plainTypeName(t.to)} *`;
  throw new Error(`a guest handle or pointer to a ${t.kind} has no plain C name`);
}

/** The C declarator of `name` with type `t`: `uint32_t port`, `char s[16]`, `hyperabi_handle_xen_pfn_t_t list`. */
export function declare(t: TypeRef, name: string, indent: string): string {
  switch (t.kind) {
    case 'name':
      return `${t.name} ${name}`.trimEnd();
    case 'handle':
      return `${handleTypeName(t.to, t.width)} ${name}`.trimEnd();
    case 'pointer':
      return `${plainTypeName(t.to)} *${name}`;
    case 'array':
      return declare(t.of, `${name}[${t.length}]`, indent);
    case 'struct':
    case 'union': {
      const attrs = attributes(t.packed, t.align);
      return `${t.kind} {\n${fieldLines(t.fields, `${indent}    `)}${indent}}${attrs} ${name}`.trimEnd();
    }
  }
}

function attributes(packed?: boolean, align?: number): string {
  const a: string[] = [];
  if (packed) a.push('__packed__');
  if (align !== undefined) a.push(`__aligned__(${align})`);
  return a.length > 0 ? ` __attribute__((${a.join(', ')}))` : '';
}

/** The member lines of a struct or union body. */
export function fieldLines(fields: readonly Field[], indent: string): string {
  return fields
    .map((f) => {
      if (f.arches) throw new Error(`field '${f.name}' is limited to arches ${f.arches.join(', ')}: emit per-arch bodies`);
      const attr = f.align !== undefined ? ` __attribute__((__aligned__(${f.align})))` : '';
      return `${indent}${declare(f.type, f.name, indent)}${attr};\n`;
    })
    .join('');
}

/** The fields of a body as present on an arch. */
export function fieldsOn(fields: readonly Field[], arch: Arch): Field[] {
  return fields
    .filter((f) => f.arches === undefined || f.arches.includes(arch.name) || f.arches.includes(arch.family))
    .map((f) => {
      const { arches: _unused, ...rest } = f;
      if (rest.type.kind === 'struct' || rest.type.kind === 'union') {
        return { ...rest, type: { ...rest.type, fields: fieldsOn(rest.type.fields, arch) } };
      }
      return rest;
    });
}

/** The full definition of a named type with a given body: `struct x { ... };` or `typedef ... x;`. */
export function definition(cName: string, body: TypeBody): string {
  if (body.kind === 'typedef') {
    if (!body.target) throw new Error(`typedef ${cName} has no target`);
    const attr = body.align !== undefined ? ` __attribute__((__aligned__(${body.align})))` : '';
    return `typedef ${declare(body.target, cName, '')}${attr};\n`;
  }
  const attrs = attributes(body.packed, body.align);
  return `${cName} {\n${fieldLines(body.fields ?? [], '    ')}}${attrs};\n`;
}

/** A constant as a C literal: hex for large values, with U/ULL suffixes where needed. */
export function literal(v: ConstValue): string {
  const n = toBigInt(v);
  if (n < 0n) {
    if (n >= -0x80000000n) return `(${n.toString()})`;
    return `(-0x${(-n).toString(16)}LL)`;
  }
  if (n <= 0x7fffffffn) return n > 0xffffn ? `0x${n.toString(16)}` : n.toString();
  if (n <= 0xffffffffn) return `0x${n.toString(16)}U`;
  return `0x${n.toString(16)}ULL`;
}
