/**
 * Probes the real C headers: compiles, for one arch, a C file that records the size,
 * alignment, field offsets and field sizes of every spec type and the value of every spec
 * constant, then reads the figures back out of the object file (no need to run it, so the
 * Arm cross compilers work as well as the native one). `compareWithHeaders` sets them
 * against the layout engine's figures.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Arch, Spec, TypeDef } from '../model.js';
import { LayoutEngine } from '../layout.js';
import { constantValue, constantValueOf, toBigInt, typeAvailableOn, typeBodyFor } from '../query.js';
import { elfSection, readInt64s } from './elf.js';

/** How to compile C for an arch. */
export interface Toolchain {
  cc: string;
  flags: string[];
}

/** The compilers the probes use, by arch name (Debian packages gcc-12-multilib, gcc-aarch64-linux-gnu, gcc-arm-linux-gnueabihf). */
export const TOOLCHAINS: Record<string, Toolchain> = {
  x86_64: { cc: 'gcc', flags: ['-m64'] },
  x86_32: { cc: 'gcc', flags: ['-m32'] },
  arm64: { cc: 'aarch64-linux-gnu-gcc', flags: [] },
  arm32: { cc: 'arm-linux-gnueabihf-gcc', flags: [] },
};

/** The host compiler, for headers any compiler can take (xen/foreign). */
export const HOST_TOOLCHAIN: Toolchain = { cc: 'gcc', flags: [] };

/**
 * The host compiler set up as the arch's own headers would be: the foreign headers leave
 * the interface version and x86's XEN_HAVE_PV_UPCALL_MASK to the includer, and without
 * them drop fields (vcpu_time_info.flags, vcpu_info.evtchn_upcall_mask) that the ABI has.
 */
function foreignToolchain(spec: Spec, arch: Arch): Toolchain {
  const flags = [...HOST_TOOLCHAIN.flags];
  const latest = constantValue(spec, '__XEN_LATEST_INTERFACE_VERSION__');
  if (latest !== undefined) flags.push(`-D__XEN_INTERFACE_VERSION__=${String(latest)}`);
  if (arch.family === 'x86') flags.push('-DXEN_HAVE_PV_UPCALL_MASK');
  return { cc: HOST_TOOLCHAIN.cc, flags };
}

/** Defines the probes compile with: the toolstack view, which is the latest interface version. */
export const PROBE_DEFINES = ['-D__XEN_TOOLS__'];

/** Where the Xen public headers live (the directory that contains `xen/`). */
export const XEN_INCLUDE_DIR = process.env['HYPERABI_XEN_INCLUDE'] ?? '/usr/include';

/**
 * For tests: whether the arch's toolchain is here. On a developer machine a missing one
 * skips (with a warning naming the package); under CI it is an error, since .ci/run installs it.
 */
export function needToolchain(arch: string): boolean {
  const tc = toolchainAvailable(arch);
  if (tc.ok) return true;
  if (process.env['CI']) throw new Error(`${arch}: ${tc.why}; .ci/run installs it, so CI must not skip this test`);
  console.warn(`SKIP on ${arch}: ${tc.why} (run .ci/run, or install the package it names)`);
  return false;
}

/** Whether a compiler for the arch and the Xen headers are installed. */
export function toolchainAvailable(arch: string): { ok: boolean; why?: string } {
  const tc = TOOLCHAINS[arch];
  if (!tc) return { ok: false, why: `no toolchain known for ${arch}` };
  const r = spawnSync(tc.cc, ['--version'], { stdio: 'ignore' });
  if (r.status !== 0) return { ok: false, why: `${tc.cc} is not installed` };
  try {
    readFileSync(join(XEN_INCLUDE_DIR, 'xen/xen.h'));
  } catch {
    return { ok: false, why: `Xen headers not found in ${XEN_INCLUDE_DIR}/xen (install libxen-dev)` };
  }
  return { ok: true };
}

export interface Item {
  kind: 'type' | 'constant';
  name: string;
  keys: string[];
  exprs: string[];
}

/** Figures read from the headers for one arch. */
export interface HeaderFigures {
  arch: string;
  mode: 'native' | 'foreign';
  types: Record<string, { size: number; align: number; fields: Record<string, { offset: number; size: number }> }>;
  constants: Record<string, bigint>;
  /** Spec items the headers do not define (compile errors), with the compiler's message. */
  missing: { kind: 'type' | 'constant'; name: string; error: string }[];
}

/**
 * A constant's value as a probe expression. Multiplying by 1 rejects macros that are not
 * arithmetic (a string or an address would otherwise pass as an address constant).
 */
function integerExpr(name: string): string {
  return `(${name}) * 1`;
}

/** The C header for a spec reference path (`xen/include/public/x.h` → `xen/x.h`). */
export function includeFor(header: string, arch?: Arch): string | undefined {
  const m = /^xen\/include\/public\/(.+\.h)$/.exec(header);
  if (!m) return undefined;
  const rel = m[1] as string;
  // Arch headers come in through xen.h; only the other arch headers (xen-mca.h...) are
  // included directly, and only on their own arch family.
  if (arch && /^arch-(x86|arm)/.test(rel) && !rel.startsWith(`arch-${arch.family}`)) return undefined;
  return `xen/${rel}`;
}

function typeItems(spec: Spec, arch: Arch, def: TypeDef, cname: string, engine: LayoutEngine): Item {
  const keys = ['size', 'align'];
  const exprs = [`sizeof(${cname})`, `_Alignof(${cname})`];
  const body = typeBodyFor(def, arch);
  if (body.kind !== 'typedef') {
    const layout = engine.named(def.name);
    for (const [path, fl] of Object.entries(layout.fields)) {
      keys.push(`${path}@offset`, `${path}@size`);
      // A flexible array member (size 0) has no sizeof in C: its offset alone is compared.
      const size = fl.size === 0 ? '0' : `sizeof(((${cname} *)0)->${path})`;
      exprs.push(`__builtin_offsetof(${cname}, ${path})`, size);
    }
  }
  return { kind: 'type', name: def.name, keys, exprs };
}

function collectItems(spec: Spec, arch: Arch, mode: 'native' | 'foreign'): { items: Item[]; includes: string[] } {
  const engine = new LayoutEngine(spec, arch);
  const items: Item[] = [];
  const includes = new Set<string>(['xen/xen.h']);
  for (const def of spec.types) {
    if (def.probe === false || !typeAvailableOn(def, arch)) continue;
    if (mode === 'foreign') {
      const body = typeBodyFor(def, arch);
      if (body.kind === 'typedef') continue;
      items.push(typeItems(spec, arch, def, `${def.name}_${arch.name}`, engine));
      continue;
    }
    const inc = def.ref.header ? includeFor(def.ref.header, arch) : undefined;
    if (inc) includes.add(inc);
    items.push(typeItems(spec, arch, def, def.name, engine));
  }
  if (mode === 'native') {
    for (const g of spec.constants) {
      const inc = g.ref.header ? includeFor(g.ref.header, arch) : undefined;
      let used = false;
      for (const c of g.members) {
        if (c.probe === false || constantValueOf(c, arch) === undefined) continue;
        items.push({ kind: 'constant', name: c.name, keys: ['value'], exprs: [integerExpr(c.name)] });
        used = true;
      }
      if (used && inc) includes.add(inc);
    }
  }
  return { items, includes: mode === 'foreign' ? [`xen/foreign/${arch.name}.h`] : [...includes] };
}

function render(includes: string[], items: Item[]): { source: string; firstLine: number } {
  const head = [
    '/* hyperabi header probe: generated, compiled, never run. */',
    '#include <stdint.h>',
    '#include <stddef.h>',
    ...includes.map((i) => `#include <${i}>`),
    '__attribute__((section(".hyperabi_probe"), used)) const long long hyperabi_probe[] = {',
  ];
  const lines = items.map((it) => `  ${it.exprs.map((e) => `(long long)(${e})`).join(', ')},`);
  return { source: [...head, ...lines, '  0 };', ''].join('\n'), firstLine: head.length + 1 };
}

/**
 * Compiles items for an arch, dropping every item the compiler rejects (and recording why),
 * and returns the values of the items that compiled, in order.
 */
export function compileItems(
  arch: Arch,
  includes: string[],
  all: Item[],
  toolchain: Toolchain | undefined = TOOLCHAINS[arch.name],
): { items: Item[]; values: bigint[]; rejected: { item: Item; error: string }[] } {
  const tc = toolchain;
  if (!tc) throw new Error(`no toolchain for arch ${arch.name}`);
  let items = all;
  const rejected: { item: Item; error: string }[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'hyperabi-probe-'));
  try {
    const src = join(dir, 'probe.c');
    const obj = join(dir, 'probe.o');
    for (let attempt = 0; attempt < 8; attempt++) {
      const { source, firstLine } = render(includes, items);
      writeFileSync(src, source);
      const r = spawnSync(
        tc.cc,
        [...tc.flags, '-std=gnu11', '-O0', '-w', '-fmax-errors=0', ...PROBE_DEFINES, '-idirafter', XEN_INCLUDE_DIR, '-c', src, '-o', obj],
        { encoding: 'utf8' },
      );
      if (r.status === 0) {
        const sec = elfSection(readFileSync(obj), '.hyperabi_probe');
        if (!sec) throw new Error('probe object has no .hyperabi_probe section');
        return { items, values: readInt64s(sec, arch.endianness === 'little'), rejected };
      }
      const bad = new Map<number, string>();
      for (const m of r.stderr.matchAll(/probe\.c:(\d+):\d+: error: (.*)/g)) {
        const idx = Number(m[1]) - firstLine;
        if (idx >= 0 && idx < items.length && !bad.has(idx)) bad.set(idx, m[2] as string);
      }
      if (bad.size === 0) {
        throw new Error(`probe for ${arch.name} does not compile outside its item lines:\n${r.stderr.slice(0, 4000)}`);
      }
      for (const [idx, error] of bad) rejected.push({ item: items[idx] as Item, error });
      items = items.filter((_, i) => !bad.has(i));
    }
    throw new Error(`probe for ${arch.name} did not converge`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Compiles the probe for one arch and reads every figure back. */
export function probeHeaders(spec: Spec, arch: Arch, mode: 'native' | 'foreign' = 'native'): HeaderFigures {
  const { items: all, includes } = collectItems(spec, arch, mode);
  // xen/foreign/<arch>.h is written to be compiled by any compiler: the host's compiles it.
  const tc = mode === 'foreign' ? foreignToolchain(spec, arch) : TOOLCHAINS[arch.name];
  const { items, values, rejected } = compileItems(arch, includes, all, tc);
  // In foreign mode a type the foreign header lacks is simply not covered by it.
  const missing = mode === 'foreign' ? [] : rejected.map((r) => ({ kind: r.item.kind, name: r.item.name, error: r.error }));
  return decode(arch, mode, items, values, missing);
}

/**
 * The integer-valued macros one header defines on an arch, with their values: the
 * candidates for a family's constants (macros that are not integer expressions drop out).
 */
export function integerMacros(arch: Arch, header: string): { name: string; value: bigint }[] {
  const names = [...(headerMacros(arch, [header]).get(header) ?? [])].filter((n) => !/^__.*_H__$|_H_$/.test(n));
  const items: Item[] = names.map((n) => ({ kind: 'constant', name: n, keys: ['value'], exprs: [integerExpr(n)] }));
  const { items: ok, values } = compileItems(arch, ['xen/xen.h', header], items);
  return ok.map((it, i) => ({ name: it.name, value: values[i] as bigint }));
}

function decode(
  arch: Arch,
  mode: 'native' | 'foreign',
  items: Item[],
  values: bigint[],
  missing: HeaderFigures['missing'],
): HeaderFigures {
  const out: HeaderFigures = { arch: arch.name, mode, types: {}, constants: {}, missing };
  let i = 0;
  for (const it of items) {
    const vals = it.keys.map(() => values[i++] as bigint);
    if (it.kind === 'constant') {
      out.constants[it.name] = vals[0] as bigint;
      continue;
    }
    const t = { size: Number(vals[0]), align: Number(vals[1]), fields: {} as Record<string, { offset: number; size: number }> };
    for (let k = 2; k < it.keys.length; k += 2) {
      const path = (it.keys[k] as string).replace(/@offset$/, '');
      t.fields[path] = { offset: Number(vals[k]), size: Number(vals[k + 1]) };
    }
    out.types[it.name] = t;
  }
  return out;
}

/** One disagreement between the spec and the headers. */
export interface Mismatch {
  arch: string;
  item: string;
  what: string;
  spec: string;
  headers: string;
}

/** The result of comparing a spec with header figures. */
export interface Comparison {
  arch: string;
  mode: 'native' | 'foreign';
  structs: number;
  scalarTypes: number;
  fields: number;
  constants: number;
  mismatches: Mismatch[];
  missing: HeaderFigures['missing'];
}

/** Compares the spec's computed layouts and constant values with the figures from the headers. */
export function compareWithHeaders(spec: Spec, arch: Arch, fig: HeaderFigures): Comparison {
  const engine = new LayoutEngine(spec, arch);
  const res: Comparison = {
    arch: arch.name,
    mode: fig.mode,
    structs: 0,
    scalarTypes: 0,
    fields: 0,
    constants: 0,
    mismatches: [],
    missing: fig.missing,
  };
  const mm = (item: string, what: string, s: unknown, h: unknown) =>
    res.mismatches.push({ arch: arch.name, item, what, spec: String(s), headers: String(h) });
  for (const [name, h] of Object.entries(fig.types)) {
    const l = engine.named(name);
    const def = spec.types.find((d) => d.name === name);
    if (def && typeBodyFor(def, arch).kind === 'typedef') res.scalarTypes++;
    else res.structs++;
    if (l.size !== h.size) mm(name, 'size', l.size, h.size);
    if (l.align !== h.align) mm(name, 'align', l.align, h.align);
    for (const [path, hf] of Object.entries(h.fields)) {
      const sf = l.fields[path];
      res.fields++;
      if (!sf) {
        mm(name, `field ${path}`, 'absent', `${hf.offset}:${hf.size}`);
        continue;
      }
      if (sf.offset !== hf.offset) mm(name, `${path} offset`, sf.offset, hf.offset);
      if (sf.size !== hf.size) mm(name, `${path} size`, sf.size, hf.size);
    }
  }
  for (const [name, hv] of Object.entries(fig.constants)) {
    res.constants++;
    const g = spec.constants.find((x) => x.members.some((c) => c.name === name));
    const c = g?.members.find((x) => x.name === name);
    const sv = c ? constantValueOf(c, arch) : undefined;
    if (sv === undefined) {
      mm(name, 'value', 'undefined', hv);
      continue;
    }
    // Header constants may be unsigned or wider than 64 bits' sign: compare modulo 2^64.
    if (BigInt.asIntN(64, toBigInt(sv)) !== hv) mm(name, 'value', sv, `0x${BigInt.asUintN(64, hv).toString(16)}`);
  }
  return res;
}

/** Every integer macro the headers define, by header file, for coverage checks. */
export function headerMacros(arch: Arch, headers: string[]): Map<string, Set<string>> {
  const tc = TOOLCHAINS[arch.name];
  if (!tc) throw new Error(`no toolchain for arch ${arch.name}`);
  const src = ['#include <xen/xen.h>', ...headers.map((h) => `#include <${h}>`), ''].join('\n');
  const out = execFileSync(tc.cc, [...tc.flags, '-std=gnu11', ...PROBE_DEFINES, '-idirafter', XEN_INCLUDE_DIR, '-E', '-dD', '-x', 'c', '-'], {
    input: src,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const byFile = new Map<string, Set<string>>();
  let file = '';
  for (const line of out.split('\n')) {
    const marker = /^# \d+ "([^"]+)"/.exec(line);
    if (marker) {
      file = marker[1] as string;
      continue;
    }
    const def = /^#define ([A-Za-z_][A-Za-z0-9_]*) /.exec(line);
    if (def && file.includes('/xen/')) {
      const rel = file.slice(file.indexOf('/xen/') + 1);
      let set = byFile.get(rel);
      if (!set) byFile.set(rel, (set = new Set()));
      set.add(def[1] as string);
    }
  }
  return byFile;
}

