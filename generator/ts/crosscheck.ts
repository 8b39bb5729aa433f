/**
 * Support of the cross-language codec test: the flattened scalar leaves of every type on an
 * arch (C access path, TS path, width, union choices), values built from leaves, and a C
 * program over the generated `hyperabi_<spec>.h` that encodes leaves to bytes and decodes
 * bytes to leaves, so the generated C and TS sides can be compared value for value.
 */
import type { Arch, Field, TypeRef } from '../../spec/index.js';
import { LayoutEngine } from '../../spec/index.js';
import { fieldsOn } from '../c/declare.js';
import { scalarOf } from './codecs.js';
import { isSigned, TsEmitError, type TsModel } from './shapes.js';

/** A union instance and the member chosen in it. */
export interface Choice {
  union: string;
  member: number;
}

/** One scalar of a type's value. */
export interface Leaf {
  /** C access suffix after the variable: `.u.interdomain.port`, `[3]`, `.h`. */
  c: string;
  /** Path into the TS value. */
  ts: (string | number)[];
  size: number;
  signed: boolean;
  /** TS holds it as a bigint. */
  big: boolean;
  /** Copied as bytes in C (a guest handle or pointer). */
  bytes: boolean;
  /** The union members this leaf lies in. */
  choices: Choice[];
}

/** An array in the TS value, which exists (maybe empty) whenever its union choices hold. */
export interface Container {
  ts: (string | number)[];
  choices: Choice[];
}

export interface Flat {
  leaves: Leaf[];
  containers: Container[];
  /** Union instances with their member counts. */
  unions: Map<string, number>;
}

/** The leaves of a named type on an arch. */
export function flatten(ts: TsModel, cName: string, arch: Arch): Flat {
  const engine = new LayoutEngine(ts.model.spec, arch);
  const out: Flat = { leaves: [], containers: [], unions: new Map() };
  walk(ts, engine, arch, { kind: 'name', name: cName }, '', [], [], out, cName);
  return out;
}

function walk(ts: TsModel, engine: LayoutEngine, arch: Arch, t: TypeRef, c: string, p: (string | number)[], choices: Choice[], out: Flat, item: string): void {
  if (t.kind === 'handle' || t.kind === 'pointer') {
    const size = t.kind === 'pointer' ? arch.pointerSize : (t.width === 64 ? arch.handle64 : arch.handle).size;
    out.leaves.push({ c, ts: p, size, signed: false, big: true, bytes: true, choices });
    return;
  }
  const s = scalarOf(ts, t, arch);
  if (s !== undefined) {
    const l = arch.scalars[s];
    if (!l) throw new TsEmitError(item, `no scalar ${s} on ${arch.name}`);
    out.leaves.push({ c, ts: p, size: l.size, signed: isSigned(s), big: ts.scalarShape(s, item).k === 'big', bytes: false, choices });
    return;
  }
  switch (t.kind) {
    case 'name': {
      const gt = ts.typeOf(t.name);
      const a = gt.arches[arch.name];
      if (!a) throw new TsEmitError(item, `${t.name} not on ${arch.name}`);
      if (a.body.kind === 'typedef') return walk(ts, engine, arch, a.body.target as TypeRef, c, p, choices, out, gt.def.name);
      return fields(ts, engine, arch, a.body.kind, a.body.fields ?? [], c, p, choices, out, gt.def.name);
    }
    case 'array': {
      const n = engine.ref(t, item).size / Math.max(1, engine.ref(t.of, item).size);
      out.containers.push({ ts: p, choices });
      for (let i = 0; i < n; i++) walk(ts, engine, arch, t.of, `${c}[${i}]`, [...p, i], choices, out, item);
      return;
    }
    case 'struct':
    case 'union':
      return fields(ts, engine, arch, t.kind, t.fields, c, p, choices, out, item);
  }
}

function fields(ts: TsModel, engine: LayoutEngine, arch: Arch, kind: 'struct' | 'union', fs: readonly Field[], c: string, p: (string | number)[], choices: Choice[], out: Flat, item: string): void {
  const present = fieldsOn(fs, arch);
  const id = `${item}${c}#${p.join('.')}`;
  if (kind === 'union') out.unions.set(id, present.length);
  present.forEach((f, i) => {
    const ch = kind === 'union' ? [...choices, { union: id, member: i }] : choices;
    if (f.name === '') return walk(ts, engine, arch, f.type, c, p, ch, out, item);
    walk(ts, engine, arch, f.type, `${c}.${f.name}`, [...p, f.name], ch, out, item);
  });
}

/** Whether a leaf or container lies in the chosen members. */
export function chosen(choices: readonly Choice[], picks: ReadonlyMap<string, number>): boolean {
  return choices.every((c) => picks.get(c.union) === c.member);
}

/** Builds a TS value from leaf values (undefined: not chosen) and union picks. */
export function build(flat: Flat, values: readonly (number | bigint | undefined)[], picks: ReadonlyMap<string, number>): unknown {
  const root: { v?: unknown } = {};
  const set = (path: (string | number)[], v: unknown, overwrite: boolean) => {
    let cur: Record<string | number, unknown> = root as Record<string, unknown>;
    const full: (string | number)[] = ['v', ...path];
    for (let i = 0; i < full.length - 1; i++) {
      const k = full[i] as string | number;
      if (cur[k] === undefined) cur[k] = typeof full[i + 1] === 'number' ? [] : {};
      cur = cur[k] as Record<string | number, unknown>;
    }
    const last = full[full.length - 1] as string | number;
    if (overwrite || cur[last] === undefined) cur[last] = v;
  };
  for (const c of flat.containers) if (chosen(c.choices, picks)) set(c.ts, [], false);
  flat.leaves.forEach((l, i) => {
    const v = values[i];
    if (v !== undefined && chosen(l.choices, picks)) set(l.ts, v, true);
  });
  return root.v ?? {};
}

/** The leaves of a TS value as decimal text (`_` where absent). */
export function leafText(flat: Flat, value: unknown): string[] {
  return flat.leaves.map((l) => {
    let cur: unknown = value;
    for (const k of l.ts) cur = cur === undefined || cur === null ? undefined : (cur as Record<string | number, unknown>)[k];
    return cur === undefined ? '_' : String(cur);
  });
}

/** The C program: `E <i>` then one leaf per line → hex bytes; `D <i> x<hex>` → one leaf per line. */
export function cProgram(header: string, types: { cName: string; flat: Flat }[]): string {
  const fns: string[] = [];
  types.forEach((t, i) => {
    const enc: string[] = [];
    const dec: string[] = [];
    for (const l of t.flat.leaves) {
      const w = l.size * 8;
      if (l.bytes) {
        enc.push(`  { const char *x = next(); if (x[0] != '_') { uint${w}_t u = (uint${w}_t)strtoull(x, 0, 10); memcpy(&s${l.c}, &u, sizeof u); } }`);
        dec.push(`  { uint${w}_t u; memcpy(&u, &s${l.c}, sizeof u); printf("%llu\\n", (unsigned long long)u); }`);
      } else {
        enc.push(`  { const char *x = next(); if (x[0] != '_') s${l.c} = (__typeof__(s${l.c}))(${l.signed ? `int${w}_t)strtoll` : `uint${w}_t)strtoull`}(x, 0, 10); }`);
        dec.push(l.signed ? `  printf("%lld\\n", (long long)(int${w}_t)s${l.c});` : `  printf("%llu\\n", (unsigned long long)(uint${w}_t)s${l.c});`);
      }
    }
    fns.push(
      `static void enc_${i}(void) { /* ${t.cName} */`,
      `  ${t.cName} s; memset(&s, 0, sizeof s);`,
      ...enc,
      '  hex(&s, sizeof s);',
      '}',
      `static void dec_${i}(const char *h) {`,
      `  ${t.cName} s; memset(&s, 0, sizeof s); unhex(h + 1, &s, sizeof s);`,
      ...dec,
      '}',
    );
  });
  return [
    '#include <stdint.h>',
    '#include <stdio.h>',
    '#include <stdlib.h>',
    '#include <string.h>',
    `#include "${header}"`,
    'static char line[1 << 20];',
    'static const char *next(void) { if (!fgets(line, sizeof line, stdin)) exit(2); line[strcspn(line, "\\n")] = 0; return line; }',
    'static void hex(const void *p, size_t n) { const unsigned char *b = p; for (size_t i = 0; i < n; i++) printf("%02x", b[i]); printf("\\n"); }',
    'static void unhex(const char *h, void *p, size_t n) { unsigned char *b = p; for (size_t i = 0; i < n; i++) { unsigned v; sscanf(h + 2 * i, "%2x", &v); b[i] = (unsigned char)v; } }',
    ...fns,
    'int main(void) {',
    '  char cmd[8]; int i;',
    '  while (scanf("%7s %d", cmd, &i) == 2) {',
    '    if (cmd[0] == \'E\') { next(); switch (i) {',
    ...types.map((_, i) => `      case ${i}: enc_${i}(); break;`),
    '    } } else { static char h[1 << 20]; if (scanf("%s", h) != 1) return 3; switch (i) {',
    ...types.map((_, i) => `      case ${i}: dec_${i}(h); break;`),
    '    } }',
    '    fflush(stdout);',
    '  }',
    '  return 0;',
    '}',
    '',
  ].join('\n');
}
