/**
 * The generated C types header, compiled for every ABI's compiler (all static assertions
 * must hold, warning-free), and run as a layout-printing program next to a second program
 * built from Debian's libxen-dev headers: the two translation units and the spec agree.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { needToolchain, includeFor, TOOLCHAINS, XEN_INCLUDE_DIR } from '../../spec/probe/headers.js';
import { findArch, flatLayouts, typeAvailableOn, xenSpec } from '../../spec/index.js';
import { generate } from '../index.js';

const dir = mkdtempSync(join(tmpdir(), 'hyperabi-ctypes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const header = generate('c-guest', 'xen').find((f) => f.path === 'hyperabi_xen.h');
if (!header) throw new Error('c-guest did not produce hyperabi_xen.h');
writeFileSync(join(dir, header.path), header.content);


const STRICT = ['-std=c11', '-Wall', '-Wextra', '-Werror'];

describe('c-guest: hyperabi_xen.h', () => {
  for (const arch of ['x86_64', 'x86_32', 'arm64', 'arm32']) {
    it(`compiles warning-free for ${arch} with every static assertion holding`, (ctx) => {
      if (!needToolchain(arch)) return ctx.skip();
      const tc = TOOLCHAINS[arch] as { cc: string; flags: string[] };
      const src = join(dir, `use-${arch}.c`);
      writeFileSync(src, '#include "hyperabi_xen.h"\nint hyperabi_header_used;\n');
      const r = spawnSync(tc.cc, [...tc.flags, ...STRICT, '-I', dir, '-c', src, '-o', join(dir, `use-${arch}.o`)], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    });
  }

  it('a wrong layout assertion in the header fails to compile (the assertions are live)', (ctx) => {
    if (!needToolchain('x86_64')) return ctx.skip();
    const broken = header.content.replace('_Static_assert(sizeof(struct evtchn_send) == 4,', '_Static_assert(sizeof(struct evtchn_send) == 8,');
    expect(broken).not.toBe(header.content);
    writeFileSync(join(dir, 'broken.h'), broken);
    writeFileSync(join(dir, 'broken.c'), '#include "broken.h"\n');
    const r = spawnSync('gcc', [...STRICT, '-I', dir, '-c', join(dir, 'broken.c'), '-o', '/dev/null'], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/static assertion failed: "size of struct evtchn_send \(x86_64\)"/);
  });

  /** A program printing `type|size|align` and `type|field|offset|size` for the types it is given. */
  function layoutProgram(includes: string[], types: { name: string; fields: string[] }[]): string {
    const lines = types.flatMap((t) => [
      `  printf("%s|%zu|%zu\\n", "${t.name}", sizeof(${t.name}), _Alignof(${t.name}));`,
      ...t.fields.map((f) => `  printf("%s.%s|%zu|%zu\\n", "${t.name}", "${f}", offsetof(${t.name}, ${f}), sizeof(((${t.name} *)0)->${f}));`),
    ]);
    return ['#include <stdint.h>', '#include <stdio.h>', '#include <stddef.h>', ...includes.map((i) => `#include ${i}`), 'int main(void) {', ...lines, '  return 0;', '}', ''].join('\n');
  }

  for (const arch of ['x86_64', 'x86_32']) {
    it(`${arch}: a program built from the generated header and one built from libxen-dev print the spec's layouts`, (ctx) => {
      if (!needToolchain(arch)) return ctx.skip();
      const a = findArch(xenSpec, arch);
      if (!a) throw new Error(arch);
      const spec = flatLayouts(xenSpec, arch);
      // The types both sides define: every spec type the headers have (probe !== false), with its fields.
      const defs = xenSpec.types.filter((t) => typeAvailableOn(t, a) && t.probe !== false);
      const types = defs.map((t) => ({
        name: t.name,
        fields: Object.entries(spec[t.name]?.fields ?? {})
          .filter(([, fl]) => fl.size > 0)
          .map(([f]) => f),
      }));
      const xenIncludes = [...new Set(['xen/xen.h', ...defs.map((t) => (t.ref.header ? includeFor(t.ref.header, a) : undefined)).filter((x): x is string => !!x)])];
      const tc = TOOLCHAINS[arch] as { cc: string; flags: string[] };
      const build = (name: string, source: string, extra: string[]) => {
        writeFileSync(join(dir, `${name}.c`), source);
        execFileSync(tc.cc, [...tc.flags, '-std=gnu11', '-w', ...extra, join(dir, `${name}.c`), '-o', join(dir, name)]);
        return execFileSync(join(dir, name), { encoding: 'utf8' });
      };
      const ours = build(`ours-${arch}`, layoutProgram(['"hyperabi_xen.h"'], types), ['-I', dir]);
      const theirs = build(
        `theirs-${arch}`,
        layoutProgram(xenIncludes.map((i) => `<${i}>`), types),
        ['-D__XEN_TOOLS__', '-idirafter', XEN_INCLUDE_DIR],
      );
      const expected = types.flatMap((t) => {
        const l = spec[t.name] as { size: number; align: number; fields: Record<string, { offset: number; size: number }> };
        return [`${t.name}|${l.size}|${l.align}`, ...t.fields.map((f) => `${t.name}.${f}|${l.fields[f]?.offset}|${l.fields[f]?.size}`)];
      });
      const oursLines = ours.trimEnd().split('\n');
      console.log(`${arch}: ${types.length} types, ${oursLines.length} lines compared across two translation units and the spec`);
      expect(oursLines).toEqual(expected);
      expect(theirs.trimEnd().split('\n')).toEqual(oursLines);
      expect(types.length).toBeGreaterThanOrEqual(100);
    });
  }
});
