/**
 * The generated C hypercall stubs: every ABI's header compiles warning-free with a translation
 * unit calling every stub and sub-op wrapper (both variants); the compiled calls put the number
 * and each argument where the spec's convention says and enter through the spec's instruction
 * (read back with objdump); the transport variant runs on x86_64 and i386 and hands every
 * number and argument over in order; bad spec items give errors naming them.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { needToolchain, TOOLCHAINS } from '../../spec/probe/headers.js';
import { xenSpec, type Abi, type Arch, type Spec } from '../../spec/index.js';
import { generate } from '../index.js';
import { argsFor, buildModel } from '../model.js';
import { checkStubCall, parseObjdump } from './stub-disasm.js';
import { cStubs, CStubError, HYPERCALL_PAGE_SYMBOL, stubPlan, stubsHeaderPath, TRANSPORT_MACRO, type StubFunction } from './stubs.js';

const dir = mkdtempSync(join(tmpdir(), 'hyperabi-cstubs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const files = generate('c-guest', 'xen');
for (const f of files) writeFileSync(join(dir, f.path), f.content);
const model = buildModel(xenSpec);

const STRICT = ['-std=c11', '-Wall', '-Wextra', '-Werror'];


function archOf(abi: Abi): Arch {
  const a = xenSpec.arches.find((x) => x.name === abi.arch);
  if (!a) throw new Error(`no arch ${abi.arch}`);
  return a;
}

function toolchain(abi: Abi): { cc: string; flags: string[]; objdump: string[] } {
  const tc = TOOLCHAINS[abi.arch];
  if (!tc) throw new Error(`no toolchain for ${abi.arch}`);
  // binutils of the same target: gcc → objdump, aarch64-linux-gnu-gcc → aarch64-linux-gnu-objdump.
  const objdump = [tc.cc.replace(/gcc$/, 'objdump'), '-d', '-r', '-w', ...(archOf(abi).family === 'arm' ? ['-M', 'reg-names-raw'] : [])];
  return { cc: tc.cc, flags: tc.flags, objdump };
}

function compile(abi: Abi, name: string, source: string, extra: string[], link = false): { ok: boolean; stderr: string; out: string } {
  const tc = toolchain(abi);
  const src = join(dir, `${name}.c`);
  const out = join(dir, link ? name : `${name}.o`);
  writeFileSync(src, source);
  const r = spawnSync(tc.cc, [...tc.flags, ...STRICT, ...extra, '-I', dir, ...(link ? [] : ['-c']), src, '-o', out], { encoding: 'utf8' });
  return { ok: r.status === 0, stderr: r.stderr, out };
}

/** A call of a generated function with the given argument values, cast to its parameter types. */
function callOf(f: StubFunction, values: readonly bigint[]): string {
  return `${f.cName}(${f.params.map((p, i) => `(${p.cType})${(values[i] as bigint) < 0n ? `-0x${(-(values[i] as bigint)).toString(16)}` : `0x${(values[i] as bigint).toString(16)}`}`).join(', ')})`;
}

/** Distinct argument values that differ from every number the call also loads (hypercall number, selector). */
function distinctValues(n: number, avoid: readonly number[]): bigint[] {
  const out: bigint[] = [];
  for (let v = 0x81; out.length < n; v += 0x11) if (!avoid.includes(v)) out.push(BigInt(v));
  return out;
}

/** Every generated function of an ABI with the values a test passes and the register words the spec says must result. */
function callsFor(abi: Abi, signedNegative: boolean): { f: StubFunction; values: bigint[]; words: bigint[] }[] {
  const plan = stubPlan(model, abi);
  const bits = BigInt(8 * archOf(abi).wordSize);
  const word = (v: bigint) => BigInt.asUintN(Number(bits), v);
  const out: { f: StubFunction; values: bigint[]; words: bigint[] }[] = [];
  for (const s of plan.stubs) {
    const h = model.hypercalls.find((g) => g.hypercall.name === s.id)?.hypercall;
    if (!h) throw new Error(s.id);
    const args = argsFor(h, abi);
    const values = distinctValues(args.length, [h.number]).map((v, i) => (signedNegative && s.params[i]?.cType === 'int' ? -v : v));
    // Expected from the spec's argument list, by name: the i-th register carries the i-th argument.
    const byName = new Map(s.params.map((p, i) => [p.name, values[i] as bigint]));
    out.push({ f: s, values, words: args.map((a) => word(byName.get(a.name) as bigint)) });
  }
  for (const w of plan.wrappers) {
    const [hName, opName] = w.id.split('$') as [string, string];
    const h = model.hypercalls.find((g) => g.hypercall.name === hName)?.hypercall;
    const op = h?.subops?.ops.find((o) => o.name === opName);
    if (!h || !op || !h.subops) throw new Error(w.id);
    const values = distinctValues(w.params.length, [h.number, op.value]).map((v, i) => (signedNegative && w.params[i]?.cType === 'int' ? -v : v));
    const byName = new Map(w.params.map((p, i) => [p.name, values[i] as bigint]));
    const words = argsFor(h, abi).map((a) => {
      if (a.name === h.subops?.selector) return BigInt(op.value);
      if (a.name === h.subops?.argument && op.arg === null) return 0n;
      const v = byName.get(a.name);
      if (v === undefined) throw new Error(`${w.id}: no parameter ${a.name}`);
      return word(v);
    });
    out.push({ f: w, values, words });
  }
  return out;
}

const abis = model.abis;

describe('c-guest stubs: one header per ABI', () => {
  it('emits hyperabi_xen_<abi>.h for every ABI, each marked generated and naming its spec items', () => {
    const stubFiles = files.filter((f) => f.path !== 'hyperabi_xen.h');
    expect(stubFiles.map((f) => f.path)).toEqual(abis.map((a) => stubsHeaderPath(model, a)));
    for (const abi of abis) {
      const f = stubFiles.find((x) => x.path === stubsHeaderPath(model, abi));
      const plan = stubPlan(model, abi);
      const lines = f?.content.split('\n') ?? [];
      expect(lines[3]).toBe(` * @generated by hyperabi (generator/c/stubs.ts) from spec 'xen' 4.17, ABI '${abi.name}'.`);
      expect(lines[4]).toMatch(/Do not edit/);
      // Every function is preceded by a comment naming its spec item.
      const named = [...(f?.content ?? '').matchAll(/^ \* xen:(\S+) \(__HYPERVISOR_\w+ = \d+\)\n(?: \*.*\n)* \*\/\nstatic inline long (\w+)\(/gm)];
      expect(named.map((m) => [m[1], m[2]])).toEqual([...plan.stubs, ...plan.wrappers].map((s) => [s.id, s.cName]));
      // Every hypercall the spec gives this ABI has a stub.
      const want = xenSpec.hypercalls.filter((h) => abi.name in h.abis && !h.noReturn).map((h) => h.name);
      expect(plan.stubs.map((s) => s.id)).toEqual(want);
    }
  });

  it('is deterministic: the same bytes on every run', () => {
    expect(generate('c-guest', 'xen')).toEqual(files);
    expect(cStubs(buildModel(xenSpec, ['arm32']))).toEqual(files.filter((f) => f.path === 'hyperabi_xen_arm32.h'));
  });

  it('event_channel_op$EVTCHNOP_send: the wrapper fixes the selector and types the argument (const: the spec says in)', () => {
    const plan = stubPlan(model, abis[0] as Abi);
    const w = plan.wrappers.find((x) => x.id === 'event_channel_op$EVTCHNOP_send');
    expect(w?.cName).toBe('hyperabi_event_channel_op_EVTCHNOP_send');
    expect(w?.params).toEqual([{ name: 'arg', cType: 'const struct evtchn_send *', pointer: true }]);
    expect(w?.call).toEqual(['4 /* EVTCHNOP_send */', '(void *)(arg)']);
  });
});

describe('c-guest stubs: compile for every ABI', () => {
  for (const abi of abis) {
    for (const variant of ['trapping', 'transport'] as const) {
      it(`${abi.name}: the ${variant} header compiles warning-free at -O0 and -O2 with every stub and wrapper called`, (ctx) => {
        if (!needToolchain(abi.arch)) return ctx.skip();
        const calls = callsFor(abi, false);
        expect(calls.length).toBeGreaterThan(20);
        const src = [
          ...(variant === 'transport' ? [`#define ${TRANSPORT_MACRO}`] : []),
          `#include "${stubsHeaderPath(model, abi)}"`,
          'long hyperabi_use_all(void);',
          'long hyperabi_use_all(void)',
          '{',
          '    long r = 0;',
          ...calls.map((c) => `    r += ${callOf(c.f, c.values)};`),
          '    return r;',
          '}',
          '',
        ].join('\n');
        for (const opt of ['-O0', '-O2']) {
          const r = compile(abi, `all-${abi.name}-${variant}${opt}`, src, [opt]);
          expect(r.stderr).toBe('');
          expect(r.ok).toBe(true);
        }
      });
    }
  }

  it('two stub headers in one translation unit are refused with a clear error', (ctx) => {
    const abi = abis.find((a) => a.name === 'x86_64-pv') as Abi;
    if (!needToolchain(abi.arch)) return ctx.skip();
    const r = compile(abi, 'two', '#include "hyperabi_xen_x86_64-pv.h"\n#include "hyperabi_xen_x86_64-hvm.h"\n', []);
    expect(r.ok).toBe(false);
    expect(r.stderr).toMatch(/hyperabi_xen_x86_64-hvm.h: the stubs of another ABI are already included/);
  });

  it('a header for another arch is refused with a clear error', (ctx) => {
    const abi = abis.find((a) => a.name === 'x86_64-pv') as Abi;
    if (!needToolchain(abi.arch)) return ctx.skip();
    const r = compile(abi, 'wrongarch', '#include "hyperabi_xen_arm64.h"\n', []);
    expect(r.ok).toBe(false);
    expect(r.stderr).toMatch(/hyperabi_xen_arm64.h is for arch arm64 \(ABI arm64\)/);
  });
});

/** Compiles one probe function per call (constant arguments, -O2), disassembles it, and checks every call against `abi`. */
function disassemblyProblems(abi: Abi, header: string, calls: { f: StubFunction; values: bigint[]; words: bigint[] }[], tag: string): string[] {
  writeFileSync(join(dir, `probe-${tag}.h`), header);
  const src = [
    `#include "probe-${tag}.h"`,
    ...calls.flatMap((c, i) => [`long probe_${i}(void);`, `long probe_${i}(void) { return ${callOf(c.f, c.values)}; }`]),
    '',
  ].join('\n');
  const r = compile(abi, `probe-${tag}`, src, ['-O2']);
  if (!r.ok) throw new Error(r.stderr);
  const fns = parseObjdump(execFileSync(toolchain(abi).objdump[0] as string, [...toolchain(abi).objdump.slice(1), r.out], { encoding: 'utf8' }));
  const problems: string[] = [];
  calls.forEach((c, i) => {
    const fn = fns.get(`probe_${i}`);
    if (!fn) {
      problems.push(`${c.f.id}: probe_${i} not found in the disassembly`);
      return;
    }
    for (const p of checkStubCall(fn, abi, archOf(abi), { number: c.f.number, args: c.words }, HYPERCALL_PAGE_SYMBOL)) problems.push(`${c.f.id}: ${p}`);
  });
  return problems;
}

function headerOf(abi: Abi): string {
  const f = files.find((x) => x.path === stubsHeaderPath(model, abi));
  if (!f) throw new Error(abi.name);
  return f.content;
}

/** The stub header of `abi` generated from a copy of the spec changed by `change`. */
function brokenHeader(abi: Abi, change: (a: Abi) => void): string {
  const copy = structuredClone(xenSpec) as Spec;
  const a = copy.abis.find((x) => x.name === abi.name) as Abi;
  change(a);
  const [f] = cStubs(buildModel(copy, [abi.name]));
  if (!f) throw new Error(abi.name);
  return f.content;
}

describe('c-guest stubs: disassembly matches the spec convention', () => {
  for (const abi of abis) {
    const entry = abi.convention.entry;
    const how = entry.kind === 'hypercall-page' ? `call ${HYPERCALL_PAGE_SYMBOL}+nr*${entry.stubSize}` : `${entry.instruction} with the number in ${abi.convention.number}`;
    it(`${abi.name}: every stub and wrapper puts its arguments in ${abi.convention.args.join(', ')} and enters with ${how}`, (ctx) => {
      if (!needToolchain(abi.arch)) return ctx.skip();
      const calls = callsFor(abi, false);
      expect(disassemblyProblems(abi, headerOf(abi), calls, abi.name)).toEqual([]);
    });

    it(`${abi.name}: the same check catches swapped argument registers and a wrong entry`, (ctx) => {
      if (!needToolchain(abi.arch)) return ctx.skip();
      const calls = callsFor(abi, false).filter((c) => c.f.id === 'event_channel_op' || c.f.id === 'xen_version');
      expect(calls.length).toBe(2);
      const swapped = brokenHeader(abi, (a) => {
        const [r0, r1] = a.convention.args as [string, string];
        a.convention.args[0] = r1;
        a.convention.args[1] = r0;
      });
      const p1 = disassemblyProblems(abi, swapped, calls, `${abi.name}-swapped`);
      expect(p1).toContain(`event_channel_op: argument 0 register ${abi.convention.args[0]} holds 0x92, expected 0x81`);
      expect(p1).toContain(`event_channel_op: argument 1 register ${abi.convention.args[1]} holds 0x81, expected 0x92`);
      const wrongEntry = brokenHeader(abi, (a) => {
        if (a.convention.entry.kind === 'hypercall-page') a.convention.entry.stubSize = (a.convention.entry.stubSize ?? 0) * 2;
        else a.convention.entry.instruction = a.convention.entry.instruction.replace(/0x[0-9a-f]+/i, (m) => `0x${(parseInt(m, 16) + 1).toString(16)}`);
      });
      const p2 = disassemblyProblems(abi, wrongEntry, calls, `${abi.name}-entry`);
      expect(p2.length).toBeGreaterThanOrEqual(2);
      expect(p2.every((p) => /^(event_channel_op|xen_version): (call hypercall_page\+0x[0-9a-f]+, expected|hvc #\S+: immediate 0xea2, expected 0xea1)/.test(p))).toBe(true);
      const wrongNumber = brokenHeader(abi, (a) => {
        if (a.convention.entry.kind === 'trap') a.convention.number = a.convention.args[4] as string;
        else a.convention.entry.stubSize = (a.convention.entry.stubSize ?? 0) + 1;
      });
      expect(disassemblyProblems(abi, wrongNumber, calls, `${abi.name}-number`).length).toBeGreaterThanOrEqual(2);
    });
  }
});

/** Builds and runs a program whose hyperabi_transport records each call; returns the mismatches with the spec. */
function transportMismatches(abi: Abi, header: string, tag: string): string[] {
  const calls = callsFor(abi, true);
  writeFileSync(join(dir, `transport-${tag}.h`), header);
  const src = [
    `#define ${TRANSPORT_MACRO}`,
    `#include "transport-${tag}.h"`,
    '#include <stdio.h>',
    'static unsigned long seen_nr, seen_args[8];',
    'static unsigned int seen_n;',
    'long hyperabi_transport(unsigned long nr, const unsigned long *args, unsigned int nargs)',
    '{',
    '    seen_nr = nr;',
    '    seen_n = nargs;',
    '    for (unsigned int i = 0; i < nargs && i < 8; i++) seen_args[i] = args[i];',
    '    return -(long)nr - 1;',
    '}',
    'static void report(const char *name, long ret)',
    '{',
    '    printf("%s|%lu|%u|", name, seen_nr, seen_n);',
    '    for (unsigned int i = 0; i < seen_n; i++) printf("%s%lx", i ? "," : "", seen_args[i]);',
    '    printf("|%ld\\n", ret);',
    '}',
    'int main(void)',
    '{',
    ...calls.map((c) => `    report("${c.f.cName}", ${callOf(c.f, c.values)});`),
    '    return 0;',
    '}',
    '',
  ].join('\n');
  const r = compile(abi, `transport-${tag}`, src, ['-O2'], true);
  if (!r.ok) throw new Error(r.stderr);
  const got = execFileSync(r.out, { encoding: 'utf8' }).trimEnd().split('\n');
  const want = calls.map((c) => `${c.f.cName}|${c.f.number}|${c.words.length}|${c.words.map((w) => w.toString(16)).join(',')}|${-c.f.number - 1}`);
  const out: string[] = [];
  want.forEach((w, i) => {
    if (got[i] !== w) out.push(`expected ${w}, got ${got[i] ?? 'nothing'}`);
  });
  if (got.length !== want.length) out.push(`${got.length} lines for ${want.length} calls`);
  return out;
}

describe('c-guest stubs: transport variant', () => {
  for (const abi of abis.filter((a) => archOf(a).family === 'x86')) {
    it(`${abi.name}: each stub and wrapper passes its number and arguments in order to hyperabi_transport and returns its result`, (ctx) => {
      if (!needToolchain(abi.arch)) return ctx.skip();
      expect(transportMismatches(abi, headerOf(abi), abi.name)).toEqual([]);
    });
  }

  it('x86_64-pv: a transport stub with a wrong number or swapped arguments is caught', (ctx) => {
    const abi = abis.find((a) => a.name === 'x86_64-pv') as Abi;
    if (!needToolchain(abi.arch)) return ctx.skip();
    const good = headerOf(abi);
    const wrongNr = good.replace('return hyperabi_transport(32, args_, 2);', 'return hyperabi_transport(33, args_, 2);');
    expect(wrongNr).not.toBe(good);
    const bad1 = transportMismatches(abi, wrongNr, 'wrong-nr');
    expect(bad1.length).toBeGreaterThan(0);
    expect(bad1.every((m) => m.includes('hyperabi_event_channel_op'))).toBe(true);
    const swapped = good.replace(
      'const unsigned long args_[3] = { (unsigned long)(cmd), (unsigned long)(uintptr_t)(uop), (unsigned long)(count) };',
      'const unsigned long args_[3] = { (unsigned long)(cmd), (unsigned long)(count), (unsigned long)(uintptr_t)(uop) };',
    );
    expect(swapped).not.toBe(good);
    expect(transportMismatches(abi, swapped, 'swapped').some((m) => m.startsWith('expected hyperabi_grant_table_op|20|3|'))).toBe(true);
  });
});

describe('c-guest stubs: spec items the emitter cannot express', () => {
  const change = (f: (s: Spec) => void): Spec => {
    const copy = structuredClone(xenSpec) as Spec;
    f(copy);
    return copy;
  };

  it('set_timer_op: a 64-bit argument on a 32-bit ABI without a split list is an error naming the hypercall and argument', () => {
    const s = change((c) => {
      const h = c.hypercalls.find((x) => x.name === 'set_timer_op');
      if (h) delete h.argsByAbi;
    });
    expect(() => cStubs(buildModel(s, ['x86_32-pv']))).toThrow(CStubError);
    expect(() => cStubs(buildModel(s, ['x86_32-pv']))).toThrow(/hypercall set_timer_op under ABI x86_32-pv: argument 'timeout' \(s_time_t, 8 bytes\) is wider than a register/);
    expect(() => cStubs(buildModel(s, ['x86_64-pv']))).not.toThrow();
  });

  it('argo_op: more arguments than the ABI has registers is an error naming the hypercall', () => {
    const s = change((c) => {
      const h = c.hypercalls.find((x) => x.name === 'argo_op');
      h?.args.push({ name: 'arg5', type: { kind: 'name', name: 'unsigned long' }, doc: 'extra' });
    });
    expect(() => cStubs(buildModel(s, ['arm64']))).toThrow(/hypercall argo_op under ABI arm64 has 6 arguments; the ABI passes 5 in registers/);
  });

  it('an entry the emitter cannot express (rom-call) is an error naming the ABI', () => {
    const s = change((c) => {
      const a = c.abis.find((x) => x.name === 'x86_32-pv');
      if (a) a.convention.entry = { kind: 'rom-call', instruction: 'call *%eax', doc: 'test' };
    });
    expect(() => cStubs(buildModel(s, ['x86_32-pv']))).toThrow(/ABI x86_32-pv: entry kind 'rom-call' is not expressible as an inline C stub/);
  });

  it('a pointer argument to a type the arch lacks is an error naming the hypercall, argument and type', () => {
    const s = change((c) => {
      const h = c.hypercalls.find((x) => x.name === 'multicall');
      const a = h?.args[0];
      if (a) a.type = { kind: 'pointer', to: { kind: 'name', name: 'struct no_such_thing' } };
    });
    expect(() => cStubs(buildModel(s, ['arm32']))).toThrow(/hypercall multicall under ABI arm32: argument 'call_list': type 'struct no_such_thing' is not defined on arch arm32/);
  });

  it('iret: a hypercall marked noReturn gets no stub, and the header says why', () => {
    // The spec marks iret noReturn; a copy without the mark gets a stub, so the mark is what decides.
    const s = change((c) => {
      const h = c.hypercalls.find((x) => x.name === 'iret');
      if (h) delete h.noReturn;
    });
    const m = buildModel(s, ['x86_64-pv']);
    const real = buildModel(model.spec, ['x86_64-pv']);
    expect(stubPlan(real, real.abis[0] as Abi).stubs.map((x) => x.id)).not.toContain('iret');
    expect(stubPlan(m, m.abis[0] as Abi).stubs.map((x) => x.id)).toContain('iret');
    expect(cStubs(real)[0]?.content).toContain('/* xen:iret: no stub: it does not return to its caller (noReturn)');
  });

  it('an unknown ABI is refused naming it', () => {
    expect(() => generate('c-guest', 'xen', 'x86_16-pv')).toThrow(/unknown ABI 'x86_16-pv'/);
  });
});
