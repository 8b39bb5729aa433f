/**
 * Straight-line codecs: for every named type and every arch of the model, an
 * `encode<T>_<arch>(view, offset, value)` and a `decode<T>_<arch>(view, offset)` that read and
 * write a DataView at the offsets the layout engine computes, in the arch's byte order;
 * arrays as loops, named members through their own codecs, no reflection at run time.
 * Plus a size constant and a `Codec` object per type per arch, and a table per arch.
 */
import { StructureKind, VariableDeclarationKind } from 'ts-morph';
import { LayoutEngine, type Arch, type Field, type TypeLayout, type TypeRef } from '../../spec/index.js';
import type { GeneratedFile } from '../files.js';
import type { GenType } from '../model.js';
import { fieldsOn } from '../c/declare.js';
import { docText, importFrom, type Statement, type TsPrinter } from './emit.js';
import { isSigned, TsEmitError, tsTypeText, type Shape, type TsModel } from './shapes.js';

const MODULE = 'generator/ts/codecs.ts';

/** Function and constant names of a type's codec on an arch. */
export const codecNames = (tsName: string, arch: string) => ({
  encode: `encode${tsName}_${arch}`,
  decode: `decode${tsName}_${arch}`,
  size: `SIZEOF_${tsName}_${arch}`,
  codec: `${tsName}_${arch}`,
});

/** The name of a spec's codec table interface: `XenCodecs`. */
export const codecsInterface = (ts: TsModel): string => `${specPrefix(ts)}Codecs`;
export const specPrefix = (ts: TsModel): string => ts.model.spec.name.charAt(0).toUpperCase() + ts.model.spec.name.slice(1).replace(/[^A-Za-z0-9]/g, '');

/** An offset expression: `o + i0 * 4 + 16`. */
interface Off {
  terms: string[];
  k: number;
}
const offText = (o: Off): string => [...o.terms, ...(o.k !== 0 || o.terms.length === 0 ? [String(o.k)] : [])].join(' + ');

/** Emission state of one codec function. */
class Fn {
  private n = 0;
  /** Named types whose codecs this function calls. */
  readonly calls = new Set<string>();
  /** Runtime helpers it uses. */
  readonly helpers = new Set<string>();
  /** TS type names it mentions. */
  readonly typeNames = new Set<string>();
  constructor(
    readonly ts: TsModel,
    readonly arch: Arch,
    readonly engine: LayoutEngine,
    readonly layout: TypeLayout,
    readonly item: string,
  ) {}
  local(prefix: string): string {
    return `${prefix}${this.n++}`;
  }
  get le(): string {
    return this.arch.endianness === 'little' ? 'true' : 'false';
  }
}

type Need = { k: 'num' } | { k: 'big' } | { k: 'array' } | { k: 'object' } | { k: 'named'; cName: string };

/** The value expression `expr`, declared with shape `declared`, as the kind the arch needs. */
function coerce(fn: Fn, expr: string, declared: Shape | undefined, need: Need, what: string): string {
  const d = declared ? (declared.k === 'named' && need.k !== 'named' ? fn.ts.resolved(declared) : declared) : undefined;
  if (d && need.k === 'named' && d.k === 'named' && d.cName === need.cName) return expr;
  if (d && need.k !== 'named' && d.k === need.k) return expr;
  const msg = JSON.stringify(what);
  switch (need.k) {
    case 'num':
      fn.helpers.add('asNumber');
      return `asNumber(${expr}, ${msg})`;
    case 'big':
      fn.helpers.add('asBigInt');
      return `asBigInt(${expr}, ${msg})`;
    case 'array':
      fn.helpers.add('asArray');
      return `asArray(${expr}, ${msg})`;
    case 'object':
      fn.helpers.add('asObject');
      return `asObject(${expr}, ${msg})`;
    case 'named': {
      const tsName = fn.ts.nameOf(need.cName);
      fn.typeNames.add(tsName);
      const r = fn.ts.resolved({ k: 'named', cName: need.cName });
      const h = r.k === 'array' ? 'asArray' : r.k === 'object' ? 'asObject' : r.k === 'num' ? 'asNumber' : r.k === 'big' ? 'asBigInt' : undefined;
      if (!h) throw new TsEmitError(what, `cannot narrow a value to ${need.cName}, whose shape differs between arches`);
      fn.helpers.add(h);
      return `${h}(${expr}, ${msg}) as ${tsName}`;
    }
  }
}

/** A scalar on an arch: the C scalar a name resolves to through typedefs, or undefined for an aggregate. */
export function scalarOf(ts: TsModel, t: TypeRef, arch: Arch): string | undefined {
  if (t.kind === 'handle' || t.kind === 'pointer') return undefined;
  if (t.kind !== 'name') return undefined;
  if (ts.isScalar(t.name)) return t.name;
  const gt = ts.typeOf(t.name);
  const body = gt.arches[arch.name]?.body;
  if (!body) throw new TsEmitError(t.name, `not defined on ${arch.name}`);
  if (body.kind === 'typedef' && body.target?.kind === 'name') return scalarOf(ts, body.target, arch);
  return undefined;
}

/** The setter call writing a scalar of `size` bytes. */
function setScalar(fn: Fn, size: number, signed: boolean, big: boolean, off: string, v: string): string {
  const s = signed ? 'Int' : 'Uint';
  const le = size > 1 ? `, ${fn.le}` : '';
  if (size === 8) {
    if (!big) throw new TsEmitError(fn.item, 'an 8-byte scalar held as a number');
    return `view.setBig${s}64(${off}, ${v}${le});`;
  }
  if (![1, 2, 4].includes(size)) throw new TsEmitError(fn.item, `no DataView accessor for a ${size}-byte scalar`);
  const val = big ? `Number(BigInt.as${s}N(${size * 8}, ${v}))` : v;
  return `view.set${s}${size * 8}(${off}, ${val}${le});`;
}

function getScalar(fn: Fn, size: number, signed: boolean, big: boolean, off: string): string {
  const s = signed ? 'Int' : 'Uint';
  const le = size > 1 ? `, ${fn.le}` : '';
  if (size === 8) return `view.getBig${s}64(${off}${le})`;
  if (![1, 2, 4].includes(size)) throw new TsEmitError(fn.item, `no DataView accessor for a ${size}-byte scalar`);
  const g = `view.get${s}${size * 8}(${off}${le})`;
  return big ? `BigInt(${g})` : g;
}

/** Size and signedness of what a handle, pointer or scalar occupies on the arch. */
function scalarSpec(fn: Fn, t: TypeRef): { size: number; signed: boolean; big: boolean } | undefined {
  if (t.kind === 'handle') return { size: (t.width === 64 ? fn.arch.handle64 : fn.arch.handle).size, signed: false, big: true };
  if (t.kind === 'pointer') return { size: fn.arch.pointerSize, signed: false, big: true };
  const s = scalarOf(fn.ts, t, fn.arch);
  if (s === undefined) return undefined;
  const l = fn.arch.scalars[s];
  if (!l) throw new TsEmitError(fn.item, `scalar '${s}' has no layout on ${fn.arch.name}`);
  return { size: l.size, signed: isSigned(s), big: fn.ts.scalarShape(s, fn.item).k === 'big' };
}

function arrayLength(fn: Fn, t: TypeRef & { kind: 'array' }): number {
  const l = fn.engine.ref(t, fn.item);
  const el = fn.engine.ref(t.of, fn.item);
  return el.size === 0 ? 0 : l.size / el.size;
}

function fieldShape(declared: Shape | undefined, name: string): Shape | undefined {
  if (declared?.k !== 'object') return undefined;
  return declared.fields.find((f) => f.name === name)?.shape;
}
function fieldOptional(declared: Shape | undefined, name: string): boolean {
  if (declared?.k !== 'object') return true;
  return declared.fields.find((f) => f.name === name)?.optional ?? true;
}

/** Statements encoding `expr` (of TS shape `declared`) of arch type `t` at `off`. */
function encodeRef(fn: Fn, t: TypeRef, expr: string, declared: Shape | undefined, off: Off, lpath: string, what: string, depth: number): string[] {
  const sc = scalarSpec(fn, t);
  if (sc) return [setScalar(fn, sc.size, sc.signed, sc.big, offText(off), coerce(fn, expr, declared, { k: sc.big ? 'big' : 'num' }, what))];
  switch (t.kind) {
    case 'name': {
      const gt = fn.ts.typeOf(t.name);
      fn.calls.add(gt.def.name);
      const names = codecNames(fn.ts.nameOf(gt.def.name), fn.arch.name);
      return [`${names.encode}(view, ${offText(off)}, ${coerce(fn, expr, declared, { k: 'named', cName: gt.def.name }, what)});`];
    }
    case 'array': {
      const n = arrayLength(fn, t);
      const el = fn.engine.ref(t.of, what).size;
      const a = fn.local('a');
      const i = `i${depth}`;
      fn.helpers.add('checkLength');
      const elDeclared = declared?.k === 'array' ? declared.of : undefined;
      const inner = encodeRef(fn, t.of, `${a}[${i}]!`, elDeclared, { terms: [...off.terms, `${i} * ${el}`], k: off.k }, lpath, `${what}[]`, depth + 1);
      return [
        `const ${a} = ${coerce(fn, expr, declared, { k: 'array' }, what)};`,
        `checkLength(${a}, ${n}, ${JSON.stringify(what)});`,
        `for (let ${i} = 0; ${i} < ${n}; ${i}++) {`,
        ...inner.map((l) => `  ${l}`),
        '}',
      ];
    }
    case 'struct':
    case 'union': {
      const obj = coerce(fn, expr, declared, { k: 'object' }, what);
      const d = obj === expr ? declared : undefined;
      let base = obj;
      const out: string[] = [];
      if (obj !== expr) {
        base = fn.local('s');
        out.push(`const ${base} = ${obj};`);
      }
      out.push(...encodeFields(fn, t.fields, base, d, lpath, what, depth));
      return out;
    }
    default:
      throw new TsEmitError(what, `cannot encode a ${t.kind}`);
  }
}

function encodeFields(fn: Fn, fields: readonly Field[], base: string, declared: Shape | undefined, lpath: string, what: string, depth: number): string[] {
  const out: string[] = [];
  for (const f of fieldsOn(fields, fn.arch)) {
    if (f.name === '') {
      if (f.type.kind !== 'struct' && f.type.kind !== 'union') throw new TsEmitError(what, 'anonymous member is not an aggregate');
      out.push(...encodeFields(fn, f.type.fields, base, declared, lpath, what, depth));
      continue;
    }
    const path = lpath === '' ? f.name : `${lpath}.${f.name}`;
    const fl = fn.layout.fields[path];
    if (!fl) throw new TsEmitError(`${fn.item}.${path}`, `no layout on ${fn.arch.name}`);
    const fwhat = `${fn.item}.${path}`;
    const sub = fieldShape(declared, f.name);
    const off: Off = { terms: ['o'], k: fl.offset };
    if (fieldOptional(declared, f.name)) {
      const v = fn.local('v');
      out.push(`const ${v} = ${base}.${f.name};`, `if (${v} !== undefined) {`);
      out.push(...encodeRef(fn, f.type, v, sub, off, path, fwhat, depth).map((l) => `  ${l}`), '}');
    } else {
      out.push(...encodeRef(fn, f.type, `${base}.${f.name}`, sub, off, path, fwhat, depth));
    }
  }
  return out;
}

/** An expression decoding arch type `t` at `off`; statements it needs go to `pre`. */
function decodeRef(fn: Fn, t: TypeRef, off: Off, lpath: string, what: string, pre: string[], depth: number): string {
  const sc = scalarSpec(fn, t);
  if (sc) return getScalar(fn, sc.size, sc.signed, sc.big, offText(off));
  switch (t.kind) {
    case 'name': {
      const gt = fn.ts.typeOf(t.name);
      fn.calls.add(gt.def.name);
      return `${codecNames(fn.ts.nameOf(gt.def.name), fn.arch.name).decode}(view, ${offText(off)})`;
    }
    case 'array': {
      const n = arrayLength(fn, t);
      const el = fn.engine.ref(t.of, what).size;
      const a = fn.local('a');
      const i = `i${depth}`;
      const inner: string[] = [];
      const elShape = fn.ts.refShape(t.of, fn.arch, what);
      const elType = tsTypeText(fn.ts, elShape);
      if (elShape.k === 'named') fn.typeNames.add(elType);
      const e = decodeRef(fn, t.of, { terms: [...off.terms, `${i} * ${el}`], k: off.k }, lpath, `${what}[]`, inner, depth + 1);
      pre.push(`const ${a}: ${elType}[] = [];`, `for (let ${i} = 0; ${i} < ${n}; ${i}++) {`, ...inner.map((l) => `  ${l}`), `  ${a}.push(${e});`, '}');
      return a;
    }
    case 'struct':
    case 'union':
      return `{ ${decodeFields(fn, t.fields, lpath, what, pre, depth).join(', ')} }`;
    default:
      throw new TsEmitError(what, `cannot decode a ${t.kind}`);
  }
}

function decodeFields(fn: Fn, fields: readonly Field[], lpath: string, what: string, pre: string[], depth: number): string[] {
  const out: string[] = [];
  for (const f of fieldsOn(fields, fn.arch)) {
    if (f.name === '') {
      if (f.type.kind !== 'struct' && f.type.kind !== 'union') throw new TsEmitError(what, 'anonymous member is not an aggregate');
      out.push(...decodeFields(fn, f.type.fields, lpath, what, pre, depth));
      continue;
    }
    const path = lpath === '' ? f.name : `${lpath}.${f.name}`;
    const fl = fn.layout.fields[path];
    if (!fl) throw new TsEmitError(`${fn.item}.${path}`, `no layout on ${fn.arch.name}`);
    out.push(`${f.name}: ${decodeRef(fn, f.type, { terms: ['o'], k: fl.offset }, path, `${fn.item}.${path}`, pre, depth)}`);
  }
  return out;
}

/** The codec functions of one named type on one arch. */
function typeCodec(ts: TsModel, t: GenType | { scalar: string }, arch: Arch, engine: LayoutEngine): { statements: Statement[]; fn: Fn; tsName: string } {
  const cName = 'scalar' in t ? t.scalar : t.def.name;
  const tsName = ts.nameOf(cName);
  const names = codecNames(tsName, arch.name);
  const layout = 'scalar' in t ? { size: arch.scalars[t.scalar]?.size ?? 0, align: arch.scalars[t.scalar]?.align ?? 1, fields: {} } : (t.arches[arch.name] as { layout: TypeLayout }).layout;
  const fn = new Fn(ts, arch, engine, layout, cName);
  const declared: Shape = 'scalar' in t ? ts.scalarShape(t.scalar, cName) : (ts.shapes.get(cName) as Shape);
  const tsType = 'scalar' in t ? tsTypeText(ts, declared) : tsName;
  let enc: string[];
  let dec: string[];
  const pre: string[] = [];
  if ('scalar' in t) {
    const ref: TypeRef = { kind: 'name', name: t.scalar };
    enc = encodeRef(fn, ref, 'v', declared, { terms: ['o'], k: 0 }, '', cName, 0);
    dec = [...pre, `return ${decodeRef(fn, ref, { terms: ['o'], k: 0 }, '', cName, pre, 0)};`];
  } else {
    const body = (t.arches[arch.name] as { body: import('../../spec/index.js').TypeBody }).body;
    if (body.kind === 'typedef') {
      const target = body.target as TypeRef;
      enc = encodeRef(fn, target, 'v', declared, { terms: ['o'], k: 0 }, '', cName, 0);
      const e = decodeRef(fn, target, { terms: ['o'], k: 0 }, '', cName, pre, 0);
      dec = [...pre, `return ${e};`];
    } else {
      enc = encodeFields(fn, body.fields ?? [], 'v', declared, '', cName, 0);
      const fields = decodeFields(fn, body.fields ?? [], '', cName, pre, 0);
      dec = [...pre, fields.length === 0 ? 'return {};' : `return {\n  ${fields.join(',\n  ')},\n};`];
    }
  }
  const used = (body: string[], name: string) => body.some((l) => new RegExp(`\\b${name}\\b`).test(l));
  const p = (body: string[], name: string) => (used(body, name) ? name : `_${name}`);
  const doc = 'scalar' in t ? `the scalar ${cName}` : `${cName}`;
  const statements: Statement[] = [
    {
      kind: StructureKind.VariableStatement,
      isExported: true,
      declarationKind: VariableDeclarationKind.Const,
      docs: [`sizeof(${cName}) on ${arch.name}.`],
      declarations: [{ name: names.size, initializer: String(layout.size) }],
    },
    {
      kind: StructureKind.Function,
      isExported: true,
      name: names.encode,
      docs: [docText(`Writes ${doc} for ${arch.name} at \`o\` (from spec item ${cName}).`)],
      parameters: [
        { name: p(enc, 'view'), type: 'DataView' },
        { name: p(enc, 'o'), type: 'number' },
        { name: p(enc, 'v'), type: tsType },
      ],
      returnType: 'void',
      statements: enc.join('\n'),
    },
    {
      kind: StructureKind.Function,
      isExported: true,
      name: names.decode,
      docs: [docText(`Reads ${doc} for ${arch.name} at \`o\` (from spec item ${cName}).`)],
      parameters: [
        { name: p(dec, 'view'), type: 'DataView' },
        { name: p(dec, 'o'), type: 'number' },
      ],
      returnType: tsType,
      statements: dec.join('\n'),
    },
    {
      kind: StructureKind.VariableStatement,
      isExported: true,
      declarationKind: VariableDeclarationKind.Const,
      docs: [docText(`The codec of ${cName} on ${arch.name}.`)],
      declarations: [
        {
          name: names.codec,
          type: `Codec<${tsType}>`,
          initializer: `{ type: ${JSON.stringify(cName)}, arch: ${JSON.stringify(arch.name)}, size: ${layout.size}, align: ${layout.align}, encode: ${names.encode}, decode: ${names.decode} }`,
        },
      ],
    },
  ];
  if (!('scalar' in t)) fn.typeNames.add(tsName);
  return { statements, fn, tsName };
}

/** Every codec entry of the table: named types, then pointee scalars. */
export function codecEntries(ts: TsModel): { key: string; cName: string; tsType: string; scalar: boolean }[] {
  return [
    ...ts.model.types.map((t) => ({ key: ts.nameOf(t.def.name), cName: t.def.name, tsType: ts.nameOf(t.def.name), scalar: false })),
    ...[...ts.pointeeScalars].sort().map((s) => ({ key: ts.nameOf(s), cName: s, tsType: tsTypeText(ts, ts.scalarShape(s, s)), scalar: true })),
  ];
}

/** The codec module of one arch: `codecs/<arch>.ts`. */
function archFile(ts: TsModel, printer: TsPrinter, arch: Arch): GeneratedFile {
  const engine = new LayoutEngine(ts.model.spec, arch);
  const body: Statement[] = [];
  const helpers = new Set<string>(['unavailableCodec']);
  const typeNames = new Set<string>();
  for (const t of ts.model.types) {
    if (!t.arches[arch.name]) continue;
    const c = typeCodec(ts, t, arch, engine);
    body.push(...c.statements);
    for (const h of c.fn.helpers) helpers.add(h);
    for (const n of c.fn.typeNames) typeNames.add(n);
  }
  for (const s of [...ts.pointeeScalars].sort()) {
    if (!arch.scalars[s]) continue;
    const c = typeCodec(ts, { scalar: s }, arch, engine);
    body.push(...c.statements);
    for (const h of c.fn.helpers) helpers.add(h);
  }
  const iface = codecsInterface(ts);
  const entries = codecEntries(ts).map((e) => {
    const present = e.scalar ? arch.scalars[e.cName] !== undefined : ts.typeOf(e.cName).arches[arch.name] !== undefined;
    if (!present) typeNames.add(e.tsType);
    return `${e.key}: ${present ? codecNames(e.key, arch.name).codec : `unavailableCodec<${e.tsType}>(${JSON.stringify(e.cName)}, ${JSON.stringify(arch.name)})`},`;
  });
  body.push({
    kind: StructureKind.VariableStatement,
    isExported: true,
    declarationKind: VariableDeclarationKind.Const,
    docs: [`Every codec for ${arch.name}, by TS type name (types not defined on ${arch.name} throw when used).`],
    declarations: [{ name: `codecs_${arch.name}`, type: iface, initializer: `{\n${entries.map((l) => `  ${l}`).join('\n')}\n}` }],
  });
  const imports: Statement[] = [
    importFrom('../runtime.js', ['Codec'], true),
    importFrom('../runtime.js', [...helpers]),
    importFrom('../codecs.js', [iface], true),
  ];
  const types = [...typeNames].filter((n) => !/^(number|bigint)$/.test(n));
  if (types.length > 0) imports.push(importFrom('../types.js', types, true));
  return printer.file(`codecs/${arch.name}.ts`, MODULE, `Codecs of every type for ${arch.name} (${arch.doc.split('.')[0]}).`, [...imports, ...body]);
}

/** The codec index: the table interface and the tables by arch. */
function indexFile(ts: TsModel, printer: TsPrinter): GeneratedFile {
  const iface = codecsInterface(ts);
  const entries = codecEntries(ts);
  const statements: Statement[] = [
    importFrom('./runtime.js', ['Codec'], true),
    importFrom('./types.js', entries.filter((e) => !e.scalar).map((e) => e.tsType), true),
    ...ts.model.arches.map((a) => importFrom(`./codecs/${a.name}.js`, [`codecs_${a.name}`])),
    {
      kind: StructureKind.Interface,
      isExported: true,
      name: iface,
      docs: [`The codecs of one arch, by TS type name.`],
      properties: entries.map((e) => ({ name: e.key, isReadonly: true, type: `Codec<${e.tsType}>`, docs: [docText(`${e.cName}`)] })),
    },
    {
      kind: StructureKind.VariableStatement,
      isExported: true,
      declarationKind: VariableDeclarationKind.Const,
      docs: ['The codec tables by arch name.'],
      declarations: [
        {
          name: `codecsByArch`,
          type: `Readonly<Record<${ts.model.arches.map((a) => JSON.stringify(a.name)).join(' | ')}, ${iface}>>`,
          initializer: `{ ${ts.model.arches.map((a) => `${a.name}: codecs_${a.name}`).join(', ')} }`,
        },
      ],
    },
  ];
  return printer.file('codecs.ts', MODULE, 'The codec table interface and the codec tables of every arch.', statements);
}

/** The codec files of a model. */
export function codecFiles(ts: TsModel, printer: TsPrinter): GeneratedFile[] {
  return [indexFile(ts, printer), ...ts.model.arches.map((a) => archFile(ts, printer, a))];
}
