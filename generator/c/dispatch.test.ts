/**
 * The generated C dispatch (c-dispatch): compiled warning-free by all four compilers, and run
 * on x86_64 and x86_32 hosts with a harness written here from the spec, which defines every
 * handler to record what it received and then dispatches, for every ABI, every hypercall
 * number and every sub-op of the spec with chosen register values. The expected handler,
 * decoded arguments (truncated and sign-extended per the spec's types) and results are
 * computed in TypeScript from the spec alone; deliberately corrupted dispatch code is caught.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  LayoutEngine,
  constantValue,
  findType,
  toBigInt,
  typeBodyFor,
  xenSpec,
  type Abi,
  type Arch,
  type Arg,
  type Hypercall,
  type Operation,
  type Spec,
} from '../../spec/index.js';
import { needToolchain, TOOLCHAINS } from '../../spec/probe/headers.js';
import { generate } from '../index.js';
import { argsFor, buildModel } from '../model.js';
import { abiPlan, cDispatch, DispatchError, dispatchName, handlerName, nargsTableName, regsStructName } from './dispatch.js';

const STRICT = ['-std=c11', '-Wall', '-Wextra', '-Werror', '-O2'];
const dir = mkdtempSync(join(tmpdir(), 'hyperabi-cdispatch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const files = generate('c-dispatch', 'xen');
const byPath = (p: string) => {
  const f = files.find((x) => x.path === p);
  if (!f) throw new Error(`c-dispatch did not produce ${p}`);
  return f.content;
};
const HEADER = byPath('hyperabi_xen_dispatch.h');
const SOURCE = byPath('hyperabi_xen_dispatch.c');
for (const f of files) writeFileSync(join(dir, f.path), f.content);


function cc(arch: string, args: string[]): { status: number | null; stderr: string } {
  const tc = TOOLCHAINS[arch] as { cc: string; flags: string[] };
  const r = spawnSync(tc.cc, [...tc.flags, ...args], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

// ───────────────────────────── the oracle: expectations from the spec alone ─────────────────────────────

const spec: Spec = xenSpec;
const archOf = (abi: Abi): Arch => spec.arches.find((a) => a.name === abi.arch) as Arch;
const mask = (bits: number) => (1n << BigInt(bits)) - 1n;

/** The scalar a named type comes down to on an arch, through typedefs; 'pointer' for guest addresses. */
function baseScalar(name: string, arch: Arch): string {
  if (arch.scalars[name]) return name;
  const def = findType(spec, name);
  if (!def) throw new Error(`oracle: unknown type ${name}`);
  const t = typeBodyFor(def, arch).target;
  if (!t) throw new Error(`oracle: ${name} is not a typedef`);
  return t.kind === 'name' ? baseScalar(t.name, arch) : 'pointer';
}

/** The value a handler receives for an argument, as the 64-bit pattern of (int64_t)param. */
function decoded(arg: Arg, reg: bigint, arch: Arch): { value: bigint; signedValue: bigint } {
  if (arg.type.kind !== 'name' || baseScalar(arg.type.name, arch) === 'pointer') return { value: reg, signedValue: reg };
  const bits = new LayoutEngine(spec, arch).ref(arg.type, arg.name).size * 8;
  const signed = /^(signed char|short|int|long|long long|int(8|16|32|64)_t)$/.test(baseScalar(arg.type.name, arch));
  const v = signed ? BigInt.asIntN(bits, reg) : BigInt.asUintN(bits, reg);
  return { value: BigInt.asUintN(64, v), signedValue: v };
}

const available = (op: Operation, abi: Abi, arch: Arch) =>
  op.abis === undefined || op.abis.includes(abi.name) || op.abis.includes(arch.name) || op.abis.includes(arch.family);

const registerSelector = (h: Hypercall, abi: Abi) => h.subops !== undefined && argsFor(h, abi).some((a) => a.name === h.subops?.selector);

function errnoResult(code: string, arch: Arch): bigint {
  const space = spec.errorSpaces.find((s) => s.via === 'return');
  const v = constantValue(spec, `${space?.prefix ?? ''}${code}`, arch);
  if (v === undefined || !space) throw new Error(`oracle: no errno ${code}`);
  return space.negate ? -toBigInt(v) : toBigInt(v);
}

/** The spec's result for a command the call lacks: the declared unknown-command error (ABI family first), else ENOSYS. */
function unknownCommand(h: Hypercall, abi: Abi, arch: Arch): bigint {
  // An error limited to other ABIs (`abis`) does not apply to this one.
  const applies = (a: readonly string[] | undefined) => a === undefined || a.includes(abi.name) || a.includes(arch.name) || a.includes(arch.family);
  const errs = h.errors.filter((e) => (e.via ?? 'return') === 'return' && applies(e.abis));
  const hit =
    errs.find((e) => e.trigger?.kind === 'state' && e.trigger.state === `unknown-command-${arch.family}`) ??
    errs.find((e) => e.trigger?.kind === 'state' && e.trigger.state === 'unknown-command') ??
    errs.find((e) => e.trigger?.kind === 'value' && e.trigger.path === h.subops?.selector);
  return errnoResult(hit?.code ?? 'ENOSYS', arch);
}

interface HandlerDef {
  name: string;
  id: number;
  ret: string;
  params: { cName: string; ctype: string }[];
}

interface Case {
  abi: number;
  regs: bigint[]; // number, then one per argument register
  what: string;
  expect: string; // `${id} ${ctxOk} ${ret}` + args
}

const abis = spec.abis;
const model = buildModel(spec);

/** Every leaf handler per ABI, named from the spec (hypercall, or each sub-op the ABI has when the selector is a register). */
function handlersFromSpec(abi: Abi): { name: string; h: Hypercall; op?: Operation }[] {
  const arch = archOf(abi);
  return spec.hypercalls
    .filter((h) => abi.name in h.abis)
    .flatMap((h) =>
      registerSelector(h, abi)
        ? (h.subops?.ops ?? []).filter((op) => available(op, abi, arch)).map((op) => ({ name: handlerName(spec, abi, h, op), h, op }))
        : [{ name: handlerName(spec, abi, h), h }],
    );
}

/** Handlers the harness deliberately leaves undefined: the generated weak default must answer -ENOSYS. */
const evtchnOp = spec.hypercalls.find((h) => h.name === 'event_channel_op') as Hypercall;
const LEFT_OUT = new Set(abis.map((abi) => handlerName(spec, abi, evtchnOp, evtchnOp.subops?.ops.find((o) => o.name === 'EVTCHNOP_bind_vcpu'))));

function buildHandlers(): Map<string, HandlerDef> {
  const defs = new Map<string, HandlerDef>();
  let id = 0;
  for (const abi of abis) {
    // Parameter C types come from the generator's plan (the prototypes the harness must match);
    // the values they must carry are computed by the oracle above.
    const plan = abiPlan(model, abi);
    for (const c of plan.calls) {
      const names = c.handler ? [c.handler] : c.ops.map((o) => o.handler);
      for (const name of names) defs.set(name, { name, id: id++, ret: c.returns.ctype, params: c.params.map((p) => ({ cName: p.cName, ctype: p.ctype })) });
    }
  }
  return defs;
}
const HANDLERS = buildHandlers();

/** A fixed-seed xorshift64 stream of register values. */
function rng(seed: bigint): () => bigint {
  let s = seed;
  return () => {
    s ^= (s << 13n) & mask(64);
    s ^= s >> 7n;
    s ^= (s << 17n) & mask(64);
    return s;
  };
}

function buildCases(): Case[] {
  const cases: Case[] = [];
  const next = rng(0x9e3779b97f4a7c15n);
  abis.forEach((abi, abiIndex) => {
    const arch = archOf(abi);
    const W = arch.wordSize * 8;
    const nregs = abi.convention.args.length;
    const random = () => Array.from({ length: nregs }, () => next() & mask(W));
    const expectFor = (regs: bigint[]): string => {
      const nr = regs[0] as bigint;
      const h = spec.hypercalls.find((x) => BigInt(x.number) === nr && abi.name in x.abis);
      if (!h) return `-1 1 ${errnoResult('ENOSYS', arch)}`;
      const args = argsFor(h, abi);
      const vals = args.map((a, i) => decoded(a, regs[i + 1] as bigint, arch));
      let name = handlerName(spec, abi, h);
      if (registerSelector(h, abi)) {
        const sub = h.subops as NonNullable<Hypercall['subops']>;
        const si = args.findIndex((a) => a.name === sub.selector);
        let sel = (vals[si] as { signedValue: bigint }).signedValue;
        if (sub.mask !== undefined) sel &= BigInt(sub.mask);
        const op = sub.ops.find((o) => BigInt(o.value) === sel && available(o, abi, arch));
        if (!op) return `-1 1 ${unknownCommand(h, abi, arch)}`;
        name = handlerName(spec, abi, h, op);
      }
      const def = HANDLERS.get(name);
      if (!def) return `missing-handler ${name}`;
      if (LEFT_OUT.has(name)) return `-1 1 ${errnoResult('ENOSYS', arch)}`;
      return [`${def.id} 1 ${100000 + def.id}`, ...vals.map((v) => v.value.toString(16).padStart(16, '0'))].join(' ');
    };
    const add = (regs: bigint[], what: string) => cases.push({ abi: abiIndex, regs, what: `${abi.name} ${what}`, expect: expectFor(regs) });

    // Numbers the ABI lacks, within 0..63 and a few large ones (a valid number in the low bits must not alias).
    const have = new Set(spec.hypercalls.filter((h) => abi.name in h.abis).map((h) => BigInt(h.number)));
    for (let n = 0n; n < 64n; n++) if (!have.has(n)) add([n, ...random()], `number ${n} (not defined)`);
    for (const n of [mask(W), (1n << BigInt(W - 1)) | 32n, (1n << 16n) | 32n, ...(W === 64 ? [(1n << 32n) | 32n, (1n << 63n) | 4n] : [])]) {
      add([n, ...random()], `number 0x${n.toString(16)} (not defined)`);
    }

    for (const h of spec.hypercalls.filter((x) => abi.name in x.abis)) {
      const nr = BigInt(h.number);
      add([nr, ...Array.from({ length: nregs }, (_, i) => BigInt((i + 1) * 0x11 + h.number))], `${h.name}: small values`);
      add([nr, ...Array.from({ length: nregs }, (_, i) => mask(W) ^ BigInt(i + 1))], `${h.name}: high bits set`);
      add([nr, ...random()], `${h.name}: random values`);
      if (!registerSelector(h, abi)) continue;
      const sub = h.subops as NonNullable<Hypercall['subops']>;
      const args = argsFor(h, abi);
      const si = args.findIndex((a) => a.name === sub.selector);
      const selBits = new LayoutEngine(spec, arch).ref((args[si] as Arg).type, sub.selector).size * 8;
      const withSel = (v: bigint) => {
        const r = random();
        r[si] = v & mask(W);
        return [nr, ...r];
      };
      for (const op of sub.ops) {
        add(withSel(BigInt(op.value)), `${h.name}$${op.name}`);
        // Garbage above the selector's C type (truncated away) and above the mask (masked away).
        let dirty = BigInt(op.value);
        if (selBits < W) dirty |= (next() & mask(W)) << BigInt(selBits) & mask(W);
        if (sub.mask !== undefined && BigInt(sub.mask) + 1n < mask(selBits)) dirty |= (BigInt(sub.mask) + 1n) << 1n;
        add(withSel(dirty), `${h.name}$${op.name} with bits beyond the command`);
      }
      for (let v = 0n; v < 64n; v++) add(withSel(v), `${h.name} command ${v}`);
      for (const v of [mask(selBits), mask(selBits - 1), 4095n, 4096n]) add(withSel(v), `${h.name} command 0x${v.toString(16)}`);
    }
  });
  return cases;
}
const CASES = buildCases();

/** The harness: every handler records, every case dispatches, and the nargs tables are printed. */
function harnessSource(): string {
  const L: string[] = ['#include <inttypes.h>', '#include <stdio.h>', '#include "hyperabi_xen_dispatch.h"', ''];
  L.push('struct hyperabi_ctx { int tag; };', 'static struct hyperabi_ctx the_ctx = { 42 };');
  L.push('static int last_id, last_ctx, last_n;', 'static uint64_t last_args[8];', '');
  for (const d of HANDLERS.values()) {
    if (LEFT_OUT.has(d.name)) continue;
    const ps = ['struct hyperabi_ctx *ctx', ...d.params.map((p) => `${p.ctype} ${p.cName}`)].join(', ');
    const rec = d.params.map((p, i) => `last_args[${i}] = (uint64_t)(int64_t)${p.cName};`).join(' ');
    L.push(`${d.ret} ${d.name}(${ps}) { last_id = ${d.id}; last_ctx = (ctx == &the_ctx); last_n = ${d.params.length}; ${rec} return 100000 + ${d.id}; }`);
  }
  L.push('');
  abis.forEach((abi, i) => {
    const conv = abi.convention;
    const set = [`r.${conv.number} = v[0];`, ...conv.args.map((reg, k) => `r.${reg} = v[${k + 1}];`)].join(' ');
    L.push(`static int64_t run_${i}(const uint64_t *v) { ${regsStructName(spec, abi)} r = {0}; ${set} return ${dispatchName(spec, abi)}(&the_ctx, &r); }`);
  });
  L.push('', 'static const struct { int abi; uint64_t v[6]; } cases[] = {');
  for (const c of CASES) L.push(`    { ${c.abi}, { ${c.regs.map((r) => `0x${r.toString(16)}ULL`).join(', ')} } },`);
  L.push('};', '', 'int main(void) {');
  L.push('  for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {');
  L.push('    int64_t ret = 0;', '    last_id = -1; last_ctx = 1; last_n = 0;', '    switch (cases[i].abi) {');
  abis.forEach((_, i) => L.push(`    case ${i}: ret = run_${i}(cases[i].v); break;`));
  L.push('    }', '    printf("case %u %d %d %" PRId64, i, last_id, last_ctx, ret);');
  L.push('    for (int k = 0; k < last_n; k++) printf(" %016" PRIx64, last_args[k]);', '    printf("\\n");', '  }');
  for (const abi of abis) {
    L.push(`  for (int n = 0; n < HYPERABI_XEN_NR_HYPERCALLS; n++) printf("nargs ${abi.name} %d %d\\n", n, ${nargsTableName(spec, abi)}[n]);`);
  }
  L.push('  return 0;', '}', '');
  return L.join('\n');
}
const HARNESS = harnessSource();
writeFileSync(join(dir, 'harness.c'), HARNESS);

function expectedNargs(): string[] {
  const nr = Math.max(...spec.hypercalls.map((h) => h.number)) + 1;
  return abis.flatMap((abi) =>
    Array.from({ length: nr }, (_, n) => {
      const h = spec.hypercalls.find((x) => x.number === n && abi.name in x.abis);
      return `nargs ${abi.name} ${n} ${h ? argsFor(h, abi).length : -1}`;
    }),
  );
}

interface Sources {
  header: string;
  source: string;
  harness: string;
}

/** Builds the harness against dispatch sources, runs it, and lists every disagreement with the spec. */
function runHarness(arch: string, srcs: Sources, tag: string): { mismatches: string[]; cases: number } {
  const d = join(dir, tag);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'hyperabi_xen_dispatch.h'), srcs.header);
  writeFileSync(join(d, 'hyperabi_xen_dispatch.c'), srcs.source);
  writeFileSync(join(d, 'harness.c'), srcs.harness);
  const exe = join(d, 'harness');
  const r = cc(arch, [...STRICT, '-I', d, join(d, 'hyperabi_xen_dispatch.c'), join(d, 'harness.c'), '-o', exe]);
  if (r.status !== 0) throw new Error(`harness build failed (${tag}):\n${r.stderr}`);
  const out = execFileSync(exe, { encoding: 'utf8', maxBuffer: 64 << 20 }).trimEnd().split('\n');
  const mismatches: string[] = [];
  const names = new Map([...HANDLERS.values()].map((d) => [String(d.id), d.name]));
  const show = (s: string) => s.replace(/^(-?\d+)/, (id) => names.get(id) ?? (id === '-1' ? 'no handler' : id));
  const caseLines = out.filter((l) => l.startsWith('case '));
  if (caseLines.length !== CASES.length) mismatches.push(`harness printed ${caseLines.length} cases, expected ${CASES.length}`);
  CASES.forEach((c, i) => {
    const got = (caseLines[i] ?? '').replace(/^case \d+ /, '');
    if (got !== c.expect) mismatches.push(`${c.what} [${c.regs.map((x) => `0x${x.toString(16)}`).join(' ')}]: expected ${show(c.expect)}; got ${show(got)}`);
  });
  const nargs = out.filter((l) => l.startsWith('nargs '));
  const want = expectedNargs();
  want.forEach((w, i) => {
    if (nargs[i] !== w) mismatches.push(`argument-count table: expected '${w}', got '${nargs[i]}'`);
  });
  if (nargs.length !== want.length) mismatches.push(`argument-count tables: ${nargs.length} entries, expected ${want.length}`);
  return { mismatches, cases: CASES.length };
}

// ───────────────────────────── tests ─────────────────────────────

describe('c-dispatch: generated text', () => {
  it('gives the same bytes on every run', () => {
    expect(generate('c-dispatch', 'xen')).toEqual(files);
  });

  it('starts each file with the generator module, the spec name and version, and "do not edit"', () => {
    for (const text of [HEADER, SOURCE]) {
      const head = text.split('\n').slice(0, 7).join('\n');
      expect(head).toContain('@generated by hyperabi (generator/c/dispatch.ts)');
      expect(head).toContain(`spec 'xen' ${spec.version}`);
      expect(head).toMatch(/Do not edit/);
    }
  });

  it('names the spec item of every handler, sub-dispatch and case in a comment', () => {
    for (const abi of abis) {
      for (const { name, h, op } of handlersFromSpec(abi)) {
        const id = op ? `${h.name}$${op.name}` : h.name;
        const re = new RegExp(`/\\* ${id.replace(/\$/g, '\\$')} \\([^\\n]*\\*/\\n\\S+ ${name}\\(`);
        expect(HEADER, `${abi.name} ${id}`).toMatch(re);
      }
    }
  });

  it('declares exactly the handlers the spec gives each ABI (hypercalls, and the sub-ops of register-selected calls)', () => {
    const declared = [...HEADER.matchAll(/ (hyperabi_xen_handle_\w+)\(/g)].map((m) => m[1]);
    const fromSpec = abis.flatMap((abi) => handlersFromSpec(abi).map((x) => x.name));
    expect(declared).toEqual(fromSpec);
    expect(fromSpec.length).toBeGreaterThan(600);
  });

  it('emits only the requested ABI with --abi x86_32-pv', () => {
    const only = generate('c-dispatch', 'xen', 'x86_32-pv').find((f) => f.path === 'hyperabi_xen_dispatch.h')?.content ?? '';
    expect(only).toContain('hyperabi_xen_dispatch_x86_32_pv(');
    expect(only).not.toContain('hyperabi_xen_dispatch_x86_64_pv(');
    expect(only).not.toContain('hyperabi_xen_dispatch_arm32(');
  });

  it('rejects an unknown ABI, naming it', () => {
    expect(() => generate('c-dispatch', 'xen', 'x86_99-pv')).toThrow(/x86_99-pv/);
  });

  /** The x86_32-pv dispatch of a copy of the spec with one hypercall changed. */
  const emitWith = (name: string, change: (h: Hypercall) => void) => {
    const copy = structuredClone(xenSpec) as Spec;
    const h = copy.hypercalls.find((x) => x.name === name);
    if (!h) throw new Error(name);
    change(h);
    return () => cDispatch(buildModel(copy, ['x86_32-pv']));
  };

  it('rejects a struct passed by value in a register, naming the hypercall and argument', () => {
    const emit = emitWith('set_gdt', (h) => {
      h.args = [{ name: 'entries', type: { kind: 'name', name: 'struct evtchn_send' }, doc: 'broken' }];
    });
    expect(emit).toThrow(DispatchError);
    expect(emit).toThrow(/xen:hypercalls\/set_gdt \(x86_32-pv\) argument 'entries'.*struct/);
  });

  it('rejects a 64-bit argument on a 32-bit ABI that the spec does not split', () => {
    const emit = emitWith('set_timer_op', (h) => {
      delete h.argsByAbi;
    });
    expect(emit).toThrow(/set_timer_op \(x86_32-pv\) argument 'timeout'.*wider than the 4-byte register/);
  });

  it('rejects more arguments than the convention has registers', () => {
    const emit = emitWith('argo_op', (h) => {
      h.args = [...h.args, { name: 'arg5', type: { kind: 'name', name: 'unsigned int' }, doc: 'one too many' }];
    });
    expect(emit).toThrow(/argo_op \(x86_32-pv\): 6 arguments, but the convention has 5/);
  });

  it('rejects a sub-op selector that is not an argument, and two commands with one value', () => {
    expect(emitWith('sched_op', (h) => ((h.subops as NonNullable<Hypercall['subops']>).selector = 'command'))).toThrow(
      /sched_op \(x86_32-pv\): sub-op selector 'command' is not a register argument/,
    );
    expect(
      emitWith('sched_op', (h) => {
        const ops = (h.subops as NonNullable<Hypercall['subops']>).ops;
        (ops[1] as Operation).value = (ops[0] as Operation).value;
      }),
    ).toThrow(/sched_op \(x86_32-pv\): SCHEDOP_block and SCHEDOP_yield share the command value 0/);
  });

  it('rejects an argument pinned to a register outside the convention', () => {
    const emit = emitWith('set_gdt', (h) => {
      (h.args[0] as Arg).register = 'ebp';
    });
    expect(emit).toThrow(/set_gdt \(x86_32-pv\) argument 'frame_list': travels in 'ebp'/);
  });
});

describe('c-dispatch: compiled', () => {
  for (const arch of ['x86_64', 'x86_32', 'arm64', 'arm32']) {
    it(`header and source compile warning-free for ${arch} (every ABI; with and without default handlers; beside hyperabi_xen.h)`, (ctx) => {
      if (!needToolchain(arch)) return ctx.skip();
      const src = join(dir, 'hyperabi_xen_dispatch.c');
      for (const extra of [[], ['-DHYPERABI_XEN_NO_DEFAULT_HANDLERS']]) {
        const r = cc(arch, [...STRICT, ...extra, '-I', dir, '-c', src, '-o', join(dir, `d-${arch}.o`)]);
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
      }
      writeFileSync(join(dir, `both-${arch}.c`), '#include "hyperabi_xen.h"\n#include "hyperabi_xen_dispatch.h"\nint hyperabi_both_used;\n');
      const both = cc(arch, [...STRICT, '-I', dir, '-c', join(dir, `both-${arch}.c`), '-o', join(dir, `both-${arch}.o`)]);
      expect(both.stderr).toBe('');
      expect(both.status).toBe(0);
    });
  }

  for (const arch of ['arm64', 'arm32']) {
    it(`the harness compiles for ${arch} (compile-only: no Arm host to run it)`, (ctx) => {
      if (!needToolchain(arch)) return ctx.skip();
      const r = cc(arch, [...STRICT, '-I', dir, '-c', join(dir, 'harness.c'), '-o', join(dir, `harness-${arch}.o`)]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    });
  }

  for (const arch of ['x86_64', 'x86_32']) {
    it(`on a ${arch} host, every ABI routes every number and sub-op of the spec to its handler with the spec's decoded arguments, and -ENOSYS elsewhere`, (ctx) => {
      if (!needToolchain(arch)) return ctx.skip();
      const { mismatches, cases } = runHarness(arch, ORIGINAL, arch);
      console.log(`${arch} host: ${cases} dispatch cases over ${abis.length} ABIs, ${HANDLERS.size} handlers (${LEFT_OUT.size} left to weak defaults)`);
      expect(mismatches.slice(0, 20)).toEqual([]);
      expect(cases).toBeGreaterThan(5000);
    });
  }

  const ORIGINAL: Sources = { header: HEADER, source: SOURCE, harness: HARNESS };
  /** Replaces text in some of the sources; each replacement must change something. */
  const corrupt = (where: (keyof Sources)[], from: RegExp, to: string): Sources => {
    const out = { ...ORIGINAL };
    for (const k of where) {
      out[k] = out[k].replace(from, to);
      if (out[k] === ORIGINAL[k]) throw new Error(`corruption did not apply to ${k}: ${from}`);
    }
    return out;
  };
  const corruptions: { what: string; srcs: () => Sources; caught: RegExp }[] = [
    {
      what: 'x86_64-pv event_channel_op with its argument registers swapped',
      srcs: () => corrupt(['source'], /(hyperabi_xen_subdispatch_x86_64_pv__event_channel_op\(ctx, \(int32_t\)regs->)rdi, \(hyperabi_gaddr_t\)regs->rsi/, '$1rsi, (hyperabi_gaddr_t)regs->rdi'),
      caught: /^x86_64-pv event_channel_op\$EVTCHNOP_/,
    },
    {
      // The handler's parameter type is what truncates, so the wrong type must be in the prototype and every definition.
      what: 'x86_32-pv dm_op decoding domid_t to 32 bits instead of 16',
      srcs: () => corrupt(['header', 'source', 'harness'], /(hyperabi_xen_handle_x86_32_pv__dm_op\((?:struct hyperabi_ctx \*ctx, |ctx, \())uint16_t/g, '$1uint32_t'),
      caught: /^x86_32-pv dm_op: high bits set .*expected hyperabi_xen_handle_x86_32_pv__dm_op /,
    },
    {
      what: 'x86_64-pv fpu_taskswitch decoding int as unsigned (no sign extension)',
      srcs: () => corrupt(['header', 'source', 'harness'], /(hyperabi_xen_handle_x86_64_pv__fpu_taskswitch\((?:struct hyperabi_ctx \*ctx, |ctx, \())int32_t/g, '$1uint32_t'),
      caught: /^x86_64-pv fpu_taskswitch: high bits set .*expected hyperabi_xen_handle_x86_64_pv__fpu_taskswitch 1 \d+ fffffffffffffffe; got hyperabi_xen_handle_x86_64_pv__fpu_taskswitch 1 \d+ 00000000fffffffe$/,
    },
    {
      what: 'arm64 EVTCHNOP_send under a wrong command value',
      srcs: () => corrupt(['source'], /(hyperabi_xen_subdispatch_arm64__event_channel_op\([^]*?)case 4: \/\* event_channel_op\$EVTCHNOP_send \*\//, '$1case 40: /* event_channel_op$EVTCHNOP_send */'),
      caught: /^arm64 event_channel_op\$EVTCHNOP_send/,
    },
    {
      what: 'x86_32-hvm returning 0 for numbers it lacks',
      srcs: () => corrupt(['source'], /(hyperabi_xen_dispatch_x86_32_hvm\([^]*?default:\n\s+return )HYPERABI_XEN_X86_32_HVM_ENOSYS/, '$10'),
      caught: /^x86_32-hvm number \d+ \(not defined\)/,
    },
    {
      what: 'x86_64-pv argument-count table with set_trap_table at 2 arguments',
      srcs: () => corrupt(['source'], /(hyperabi_xen_nargs_x86_64_pv\[HYPERABI_XEN_NR_HYPERCALLS\] = \{\n\s+)1,/, '$12,'),
      caught: /^argument-count table: expected 'nargs x86_64-pv 0 1', got 'nargs x86_64-pv 0 2'/,
    },
  ];
  for (const c of corruptions) {
    it(`the harness catches deliberately corrupted dispatch: ${c.what}`, (ctx) => {
      if (!needToolchain('x86_64')) return ctx.skip();
      const { mismatches } = runHarness('x86_64', c.srcs(), 'broken');
      expect(mismatches.length).toBeGreaterThan(0);
      expect(mismatches.some((m) => c.caught.test(m)), mismatches.slice(0, 5).join('\n')).toBe(true);
    });
  }

  it('without default handlers, a missing handler is a link error naming it', (ctx) => {
    if (!needToolchain('x86_64')) return ctx.skip();
    const r = cc('x86_64', [...STRICT, '-DHYPERABI_XEN_NO_DEFAULT_HANDLERS', '-I', dir, join(dir, 'hyperabi_xen_dispatch.c'), join(dir, 'harness.c'), '-o', join(dir, 'nodefaults')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/undefined reference to `hyperabi_xen_handle_x86_64_pv__event_channel_op__EVTCHNOP_bind_vcpu'/);
  });
});
