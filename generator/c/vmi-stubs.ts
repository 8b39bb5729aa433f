/**
 * C guest bindings of VMI (a spec whose ABIs enter by `rom-call`): per ABI, a header with a
 * table of entry points, one per call, resolved once through the ROM's `get_reloc`, and a
 * `static inline` stub per call that calls through the table.
 *
 * A call whose registers are GCC's regparm(3) placement of its C signature (the spec's
 * `register` of each argument equals the convention's assignment), that leaves nothing in
 * registers besides its result and clobbers no more than the convention, is a plain C call
 * through a `regparm(3)` function pointer: the compiler places the arguments. A call that
 * keeps a native instruction's registers (CPUID, RDMSR, RDPMC) gets an inline-assembly stub
 * that pins each argument and result to the register the spec names. A call that does not
 * return (IRET, SYSEXIT) gets its table entry but no stub.
 *
 * Every register, number, relocation type, offset and size comes from the spec; this module
 * knows C and GCC facts only (regparm's register order, i386 register constraints).
 */
import Handlebars from 'handlebars';
import type { Abi, Arch, Arg, TypeRef } from '../../spec/index.js';
import { registerAssignment, resultRegister } from '../../spec/vmi/registers.js';
import type { GeneratedFile } from '../files.js';
import type { GenHypercall, GenModel } from '../model.js';
import { archConditionFor, isPaeArch, PAE_MACRO, type ArchCondition } from './arch-conditions.js';
import { cTypesHeaderWith, typesHeaderGuard, typesHeaderPath } from './types-header-core.js';
import { TypeScope } from './type-scope.js';

/** This module, as generated files name it. */
export const VMI_GENERATOR = 'generator/c/vmi-stubs.ts';

/** GCC's regparm register order on i386: a compiler fact, checked against the spec's convention. */
const GCC_REGPARM_ORDER = ['eax', 'edx', 'ecx'];

/** GCC's i386 register constraint letters: compiler facts. */
const I386_CONSTRAINT: Readonly<Record<string, string>> = { eax: 'a', ebx: 'b', ecx: 'c', edx: 'd', esi: 'S', edi: 'D' };

/** The flags register's name in a spec clobber list, and GCC's clobber for it. */
const FLAGS_REGISTER = 'eflags';

/** The ROM header field holding get_reloc's code, and the record it returns (VMI protocol names). */
export const GET_RELOC_FIELD = 'get_reloc';
export const RELOCATION_TYPE = 'struct vmi_relocation_info';
/** The relocation types, by what the resolver does with them; each must be a constant of the spec. */
export const RELOCATION = {
  none: 'VMI_RELOCATION_NONE',
  call: 'VMI_RELOCATION_CALL_REL',
  jump: 'VMI_RELOCATION_JUMP_REL',
  nop: 'VMI_RELOCATION_NOP',
} as const;

const C_KEYWORDS = new Set(
  ('auto break case char const continue default do double else enum extern float for goto if inline int long register ' +
    'restrict return short signed sizeof static struct switch typedef union unsigned void volatile while').split(' '),
);

/** A spec item the VMI binding generator cannot express; the message names the item and the ABI. */
export class VmiStubError extends Error {
  override name = 'VmiStubError';
}

/** Where a value travels: one register, a hi:lo register pair, or stack words. */
export type Placement = { kind: 'reg'; reg: string } | { kind: 'pair'; hi: string; lo: string } | { kind: 'stack'; slots: number[] };

/** Parses a spec `register` string (`eax`, `ecx:edx`, `stack[0]`, `stack[1]:stack[0]`). */
export function parsePlacement(s: string, what: string): Placement {
  const parts = s.split(':');
  const stack = parts.map((p) => /^stack\[(\d+)\]$/.exec(p)?.[1]);
  if (stack.every((x) => x !== undefined)) return { kind: 'stack', slots: stack.map(Number).reverse() };
  if (parts.length === 1 && /^[a-z][a-z0-9]*$/.test(s)) return { kind: 'reg', reg: s };
  if (parts.length === 2 && parts.every((p) => /^[a-z][a-z0-9]*$/.test(p))) return { kind: 'pair', hi: parts[0] as string, lo: parts[1] as string };
  throw new VmiStubError(`${what}: register '${s}' is neither a register, a hi:lo pair nor stack words`);
}

/** The registers of a placement (none for stack words). */
function registersOf(p: Placement): string[] {
  return p.kind === 'reg' ? [p.reg] : p.kind === 'pair' ? [p.hi, p.lo] : [];
}

/** One C parameter of a stub. */
export interface VmiParam {
  name: string;
  /** C type: `u32`, `const void *`, `u32 *`. */
  cType: string;
}

/** One value in registers: an argument going in or a result coming out. */
export interface VmiValue {
  name: string;
  cType: string;
  /** The spec's placement string. */
  register: string;
  placement: Placement;
  /** Size in bytes on the arch. */
  size: number;
}

/** One call of the spec under one ABI. */
export interface VmiCall {
  /** Spec item: the call's operation id (`CPUID`). */
  id: string;
  name: string;
  number: number;
  /** The constant naming the number (`VMI_CALL_CPUID`). */
  numberMacro: string;
  /**
   * regparm: a C call through a regparm(3) pointer; asm: an inline-assembly call with the
   * spec's registers; no-return: a table entry and no stub.
   */
  kind: 'regparm' | 'asm' | 'no-return';
  /** Why a call is not regparm (asm, no-return). */
  why?: string;
  /** The table entry's function-pointer type. */
  fnType: string;
  /** The stub's C name. */
  stub: string;
  returnType: string;
  /** Where the result travels (undefined: void). */
  returnRegister?: string;
  args: VmiValue[];
  results: VmiValue[];
  clobbers: string[];
  doc: string;
}

/** What one ABI's header holds. */
export interface VmiPlan {
  abi: Abi;
  arch: Arch;
  calls: VmiCall[];
  /** `hyperabi_<spec>`: the prefix of every generated name, and the table's name. */
  prefix: string;
  /** The struct holding the ROM header's get_reloc entry. */
  romHeader: string;
  /** One past the largest call number. */
  ncalls: number;
}

/** Where a VMI stub header lives. */
export function vmiStubsHeaderPath(model: GenModel, abi: Abi): string {
  return `hyperabi_${model.spec.name}_${abi.name}.h`;
}

function cIdent(name: string, what: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || C_KEYWORDS.has(name)) throw new VmiStubError(`${what}: '${name}' is not usable as a C identifier`);
  return name;
}

function macroName(s: string): string {
  return s.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}

/** A doc string as comment lines, safe inside a C comment. */
function commentLines(doc: string, width = 96): string[] {
  const words = doc.replace(/\*\//g, '* /').split(/\s+/).filter((w) => w.length > 0);
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line.length > 0 && line.length + 1 + w.length > width) {
      lines.push(line);
      line = w;
    } else line = line.length > 0 ? `${line} ${w}` : w;
  }
  if (line.length > 0) lines.push(line);
  return lines;
}

/** The VMI emitter's type scope: the shared one, plus the C type of a register value. */
class Scope extends TypeScope {
  /** The C type and size of a register value (a scalar or a pointer). */
  value(t: TypeRef, dir: Arg['dir'], what: string): { cType: string; size: number } {
    if (t.kind === 'pointer') {
      if (t.to.kind !== 'name') throw new VmiStubError(`${what}: a pointer to a ${t.to.kind} has no C spelling in a stub`);
      const to = t.to.name;
      if (to !== 'void' && this.sizeOf(to) === undefined) throw new VmiStubError(`${what}: type '${to}' is not defined on arch ${this.arch.name}`);
      return { cType: `${dir === 'in' ? 'const ' : ''}${to} *`, size: this.arch.pointerSize };
    }
    if (t.kind !== 'name') throw new VmiStubError(`${what} is a ${t.kind}, which cannot travel in registers`);
    const size = this.sizeOf(t.name);
    if (size === undefined || t.name === 'void') throw new VmiStubError(`${what}: type '${t.name}' is not defined on arch ${this.arch.name}`);
    if (this.isAggregate(t.name)) throw new VmiStubError(`${what}: a ${t.name} by value cannot travel in registers`);
    if (size > 2 * this.arch.wordSize) throw new VmiStubError(`${what}: ${t.name} is wider than two registers`);
    return { cType: t.name, size };
  }
}

/** The constant that names a call's number: a member of a `hypercalls` group with that value. */
function numberMacro(model: GenModel, g: GenHypercall, what: string): string {
  const c = model.constants.find((k) => k.group.kind === 'hypercalls' && k.constant.value === g.hypercall.number);
  if (!c) throw new VmiStubError(`${what}: no constant of a 'hypercalls' group names number ${g.hypercall.number}`);
  return c.constant.name;
}

function callFor(model: GenModel, scope: Scope, abi: Abi, g: GenHypercall): VmiCall {
  const h = g.hypercall;
  const what = `call ${h.name} under ABI ${abi.name}`;
  const conv = abi.convention;
  const args = g.args[abi.name] ?? [];
  const expected = registerAssignment(model.spec, abi, args);
  const argValues: VmiValue[] = args.map((a, i) => {
    const where = `${what}: argument '${a.name}'`;
    const register = a.register ?? (expected[i] as string);
    return { name: cIdent(a.name, what), register, placement: parsePlacement(register, where), ...scope.value(a.type, a.dir, where) };
  });
  const results: VmiValue[] = (h.results ?? []).map((r) => {
    const where = `${what}: result '${r.name}'`;
    if (r.register === undefined) throw new VmiStubError(`${where} has no register`);
    const placement = parsePlacement(r.register, where);
    if (placement.kind === 'stack') throw new VmiStubError(`${where} comes back on the stack, which a stub cannot read`);
    return { name: cIdent(r.name, what), register: r.register, placement, ...scope.value(r.type, 'out', where) };
  });
  const names = [...argValues, ...results].map((v) => v.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new VmiStubError(`${what}: '${dup}' names two parameters`);
  const ret = h.returns.type;
  const isVoid = ret.kind === 'name' && ret.name === 'void';
  const returnType = isVoid ? 'void' : scope.value(ret, undefined, `${what}: the result`).cType;
  const returnRegister = isVoid ? undefined : resultRegister(model.spec, abi, ret);
  const clobbers = h.clobbers ?? conv.clobbers;
  const base = {
    id: g.operations[0]?.id ?? h.name,
    name: h.name,
    number: h.number,
    numberMacro: numberMacro(model, g, what),
    fnType: `hyperabi_${model.spec.name}_${cIdent(h.name, what)}_fn`,
    stub: `hyperabi_${model.spec.name}_${h.name}`,
    returnType,
    ...(returnRegister ? { returnRegister } : {}),
    args: argValues,
    results,
    clobbers,
    doc: h.doc,
  };
  if (h.noReturn) return { ...base, kind: 'no-return', why: 'it does not return to its caller (noReturn): a guest jumps to its table entry itself' };
  const moved = argValues.filter((v, i) => v.register !== expected[i]);
  const extra = clobbers.filter((c) => !conv.clobbers.includes(c));
  const reasons = [
    ...moved.map((v) => `'${v.name}' travels in ${v.register}, not where regparm(3) puts it`),
    ...(results.length > 0 ? [`it leaves ${results.map((r) => r.register).join(', ')} besides its result`] : []),
    ...(extra.length > 0 ? [`it also changes ${extra.join(', ')}`] : []),
  ];
  if (reasons.length === 0) return { ...base, kind: 'regparm' };
  const stacked = argValues.find((v) => v.placement.kind === 'stack');
  if (stacked) throw new VmiStubError(`${what}: '${stacked.name}' is on the stack while the call is not regparm(3) (${reasons.join('; ')}): not expressible`);
  const pinned = [...argValues, ...results].flatMap((v) => registersOf(v.placement));
  if (returnRegister) pinned.push(...registersOf(parsePlacement(returnRegister, what)));
  const bad = [...pinned, ...clobbers.filter((c) => c !== FLAGS_REGISTER)].find((r) => !I386_CONSTRAINT[r]);
  if (bad) throw new VmiStubError(`${what}: register '${bad}' has no i386 GCC constraint`);
  return { ...base, kind: 'asm', why: `native registers: ${reasons.join('; ')}` };
}

/** The calls of one ABI's header, in spec order. */
export function vmiPlan(model: GenModel, abi: Abi): VmiPlan {
  const arch = model.arches.find((a) => a.name === abi.arch);
  if (!arch) throw new VmiStubError(`ABI ${abi.name}: arch '${abi.arch}' is not in the model`);
  const conv = abi.convention;
  if (conv.entry.kind !== 'rom-call') throw new VmiStubError(`ABI ${abi.name}: entry kind '${conv.entry.kind}' is not a rom-call; use the stubs of generator/c/stubs.ts`);
  if (conv.split64 !== 'lo-hi') throw new VmiStubError(`ABI ${abi.name}: split64 '${conv.split64}' is not regparm's lo-hi`);
  if (conv.args.some((r, i) => GCC_REGPARM_ORDER[i] !== r)) {
    throw new VmiStubError(`ABI ${abi.name}: argument registers ${conv.args.join(', ')} are not GCC's regparm order (${GCC_REGPARM_ORDER.join(', ')})`);
  }
  if (conv.number !== conv.args[0]) throw new VmiStubError(`ABI ${abi.name}: get_reloc's argument travels in ${conv.number}, not regparm's first register`);
  const disc = model.spec.discovery?.find((d) => model.types.some((t) => t.def.name === d.header && t.arches[arch.name]?.layout.fields[GET_RELOC_FIELD]));
  if (!disc) throw new VmiStubError(`spec ${model.spec.name}: no discovery header has a '${GET_RELOC_FIELD}' field on arch ${arch.name}`);
  const reloc = model.types.find((t) => t.def.name === RELOCATION_TYPE)?.arches[arch.name]?.layout;
  if (!reloc || !reloc.fields['eip'] || !reloc.fields['type']) throw new VmiStubError(`spec ${model.spec.name}: ${RELOCATION_TYPE} with fields eip and type is not defined on arch ${arch.name}`);
  if (reloc.size !== 2 * arch.wordSize) throw new VmiStubError(`${RELOCATION_TYPE} is ${reloc.size} bytes; get_reloc returns two registers (${2 * arch.wordSize})`);
  for (const name of Object.values(RELOCATION)) {
    if (!model.constants.some((c) => c.constant.name === name)) throw new VmiStubError(`spec ${model.spec.name} has no constant ${name}`);
  }
  const scope = new Scope(model, arch);
  const calls = model.hypercalls.filter((g) => abi.name in g.hypercall.abis).map((g) => callFor(model, scope, abi, g));
  return { abi, arch, calls, prefix: `hyperabi_${model.spec.name}`, romHeader: disc.header, ncalls: Math.max(-1, ...calls.map((c) => c.number)) + 1 };
}

// ───────────────────────────── rendering ─────────────────────────────

function paramList(ps: readonly VmiParam[]): string {
  return ps.length === 0 ? 'void' : ps.map((p) => (p.cType.endsWith('*') ? `${p.cType}${p.name}` : `${p.cType} ${p.name}`)).join(', ');
}

function argParams(c: VmiCall): VmiParam[] {
  return c.args.map((a) => ({ name: a.name, cType: a.cType }));
}

/** The stub's parameters: the arguments, then a pointer per register result. */
function stubParams(c: VmiCall): VmiParam[] {
  return [...argParams(c), ...c.results.map((r) => ({ name: r.name, cType: `${r.cType} *` }))];
}

function typedefLine(plan: VmiPlan, c: VmiCall, regparm: string): string {
  if (c.kind !== 'regparm') return `typedef void (*${c.fnType})(void);`;
  return `typedef ${c.returnType} ${regparm} (*${c.fnType})(${paramList(argParams(c))});`;
}

/** A register value as a 32-bit word expression. */
function wordOf(v: VmiValue, half?: 'hi' | 'lo'): string {
  const x = v.cType.endsWith('*') ? `(uintptr_t)(${v.name})` : `(${v.name})`;
  if (half === 'hi') return `(uint32_t)(${x} >> 32)`;
  return `(uint32_t)${x}`;
}

/** The body of an inline-assembly stub: every register the spec names, pinned. */
function asmBody(plan: VmiPlan, c: VmiCall): string[] {
  const what = `call ${c.name} under ABI ${plan.abi.name}`;
  const local = (reg: string) => `r_${reg}_`;
  const taken = new Set(stubParams(c).map((p) => p.name));
  const inputs = new Map<string, string>();
  const pin = (reg: string, expr: string) => {
    if (!I386_CONSTRAINT[reg]) throw new VmiStubError(`${what}: register '${reg}' has no i386 GCC constraint`);
    if (inputs.has(reg)) throw new VmiStubError(`${what}: two arguments travel in ${reg}`);
    if (taken.has(local(reg))) throw new VmiStubError(`${what}: a parameter is named ${local(reg)}`);
    inputs.set(reg, expr);
  };
  for (const a of c.args) {
    const p = a.placement;
    if (p.kind === 'reg') pin(p.reg, wordOf(a));
    else if (p.kind === 'pair') {
      pin(p.lo, wordOf(a, 'lo'));
      pin(p.hi, wordOf(a, 'hi'));
    } else throw new VmiStubError(`${what}: '${a.name}' is on the stack`);
  }
  const outRegs = new Set<string>([...c.results.flatMap((r) => registersOf(r.placement)), ...(c.returnRegister ? registersOf(parsePlacement(c.returnRegister, what)) : [])]);
  const changed = new Set([...c.clobbers.filter((r) => r !== FLAGS_REGISTER), ...outRegs]);
  const lines: string[] = [];
  const outs: string[] = [];
  const ins: string[] = [];
  const order = Object.keys(I386_CONSTRAINT).filter((r) => inputs.has(r) || changed.has(r));
  for (const reg of order) {
    const letter = I386_CONSTRAINT[reg] as string;
    const input = inputs.get(reg);
    if (input !== undefined) {
      lines.push(`uint32_t ${local(reg)} = ${input};`);
      (changed.has(reg) ? outs : ins).push(`"${changed.has(reg) ? '+' : ''}${letter}"(${local(reg)})`);
    } else if (outRegs.has(reg)) {
      lines.push(`uint32_t ${local(reg)};`);
      outs.push(`"=${letter}"(${local(reg)})`);
    }
  }
  const clobberOnly = order.filter((r) => !inputs.has(r) && !outRegs.has(r));
  const clobbers = ['"memory"', ...(c.clobbers.includes(FLAGS_REGISTER) ? ['"cc"'] : []), ...clobberOnly.map((r) => `"${r}"`)];
  const pad = ' '.repeat('__asm__ __volatile__('.length);
  lines.push(
    `__asm__ __volatile__("call *%[fn_]"`,
    `${pad}: ${outs.join(', ')}`.trimEnd(),
    `${pad}: ${[...ins, `[fn_] "rm"(${plan.prefix}.${c.name})`].join(', ')}`,
    `${pad}: ${clobbers.join(', ')});`,
  );
  const valueOf = (p: Placement, cType: string) =>
    p.kind === 'pair' ? `(${cType})(((uint64_t)${local(p.hi)} << 32) | ${local(p.lo)})` : `(${cType})${local((p as { reg: string }).reg)}`;
  for (const r of c.results) lines.push(`*${r.name} = ${valueOf(r.placement, r.cType)};`);
  if (c.returnRegister) lines.push(`return ${valueOf(parsePlacement(c.returnRegister, what), c.returnType)};`);
  return lines;
}

function regparmBody(plan: VmiPlan, c: VmiCall): string[] {
  const call = `${plan.prefix}.${c.name}(${c.args.map((a) => a.name).join(', ')});`;
  return [c.returnType === 'void' ? call : `return ${call}`];
}

/** Where each argument and result travels, for the stub's comment. */
function registersNote(c: VmiCall): string {
  const parts = c.args.map((a) => `${a.name} in ${a.register}`);
  if (c.returnRegister) parts.push(`result in ${c.returnRegister}`);
  for (const r of c.results) parts.push(`${r.name} out of ${r.register}`);
  return `${parts.length > 0 ? parts.join(', ') : 'no registers'}; changes ${c.clobbers.join(', ')}.`;
}

const fileTemplate = Handlebars.compile(
  `/*
 * {{file}}: the calls of the {{title}} {{version}} spec for ABI {{abi}}.
 *
 * @generated by hyperabi ({{generator}}) from spec '{{name}}' {{version}}, ABI '{{abi}}'.
 * Do not edit: regenerate with \`hyperabi generate c-guest --spec {{name}} --abi {{abi}}\`.
 *
 * ABI {{abi}}:
{{#each abiDoc}}
 *   {{this}}
{{/each}}
 *
{{#each usage}}
 * {{this}}
{{/each}}
 */
#ifndef {{guard}}
#define {{guard}}
{{#if pae}}

/* ABI {{abi}} uses the {{arch}} data model: select it in the types header. */
#if defined({{typesGuard}}) && !defined({{paeMacro}})
#error "{{file}}: {{typesHeader}} was included before it without {{paeMacro}}; include this header first or define {{paeMacro}}"
#endif
#ifndef {{paeMacro}}
#define {{paeMacro}} 1
#endif
{{/if}}

#include <stddef.h>
#include <stdint.h>
#include "{{typesHeader}}"

#if !({{archCondition}})
#error "{{file}} is for arch {{arch}} (ABI {{abi}}){{#unless pae}}: do not define {{paeMacro}}{{/unless}}"
#endif
#ifdef {{abiMacro}}
#error "{{file}}: the header of another ABI is already included; include one per translation unit"
#endif
#define {{abiMacro}} "{{abi}}"

/* GCC's regparm({{nregs}}): the convention's {{nregs}} argument registers ({{regs}}). */
#define {{regparmMacro}} __attribute__((__regparm__({{nregs}})))
/* One past the largest call number. */
#define {{ncallsMacro}} {{ncalls}}

/* ───────────────────────────── entry points ───────────────────────────── */
{{#each calls}}

/* {{../name}}:{{id}} ({{numberMacro}} = {{number}}){{#if why}}: {{why}}{{/if}} */
{{{typedef}}}
{{/each}}

/* get_reloc: the relocation record ({{relocType}}) of a call number, in edx:eax. */
typedef uint64_t {{regparmMacro}} (*{{prefix}}_get_reloc_fn)(uint32_t call);

/* The entry point of every call (NULL: not provided), and the {{relocGroup}}* type get_reloc gave. */
struct {{prefix}}_table {
{{#each calls}}
    {{fnType}} {{name}}; /* {{../name}}:{{id}} */
{{/each}}
    unsigned char relocation[{{ncallsMacro}}];
};
{{#each asserts}}
_Static_assert({{{this}}});
{{/each}}
_Static_assert(sizeof({{relocType}}) == sizeof(uint64_t), "get_reloc returns {{relocType}} in two registers");

/* The table, filled by {{prefix}}_resolve. */
extern struct {{prefix}}_table {{prefix}};

/* Asks the ROM at rom_base for every call; returns how many calls it left unresolved (NULL). */
int {{prefix}}_resolve(const void *rom_base);

/* ───────────────────────────── stubs ───────────────────────────── */
{{{stubs}}}
/* ───────────────────────────── table and resolver ───────────────────────────── */
#ifdef {{implMacro}}
#ifndef {{hookMacro}}
#define {{hookMacro}}(nr, name, type) ((void)(nr), (void)(name), (void)(type))
#endif

struct {{prefix}}_table {{prefix}};
{{{nops}}}
/*
 * The code address of call nr: CALL_REL (and JUMP_REL when jump_ok) give the ROM's code, NOP
 * gives nop (0: not acceptable), anything else 0, counted in *unresolved and reported.
 */
static uintptr_t {{prefix}}_lookup_({{prefix}}_get_reloc_fn get_reloc, unsigned int nr, const char *name, int jump_ok,
                                    uintptr_t nop, int *unresolved)
{
    union {
        uint64_t word;
        {{relocType}} info;
    } r;
    r.word = get_reloc(nr);
    {{prefix}}.relocation[nr] = r.info.type;
    if (r.info.type == {{reloc.call}} || (jump_ok && r.info.type == {{reloc.jump}}))
        return (uintptr_t)r.info.eip;
    if (r.info.type == {{reloc.nop}} && nop != 0)
        return nop;
    ++*unresolved;
    {{hookMacro}}(nr, name, r.info.type);
    return 0;
}

int {{prefix}}_resolve(const void *rom_base)
{
    const {{prefix}}_get_reloc_fn get_reloc =
        ({{prefix}}_get_reloc_fn)((uintptr_t)rom_base + offsetof({{romHeader}}, {{getRelocField}}));
    int unresolved = 0;
    unsigned int nr;
    for (nr = 0; nr < {{ncallsMacro}}; nr++)
        {{prefix}}.relocation[nr] = {{reloc.none}};
{{#each resolves}}
    {{{this}}}
{{/each}}
    return unresolved;
}
#endif /* {{implMacro}} */

#endif /* {{guard}} */
`,
  { noEscape: true },
);

const stubTemplate = Handlebars.compile(
  `
/*
 * {{spec}}:{{id}} ({{numberMacro}} = {{number}}): {{registers}}
{{#each doc}}
 * {{this}}
{{/each}}
 */
static inline {{returnType}} {{stub}}({{params}})
{
{{#each body}}
    {{this}}
{{/each}}
}
`,
  { noEscape: true },
);

/** The resolver line of one call. */
function resolveLine(plan: VmiPlan, c: VmiCall): string {
  const nop = c.kind === 'regparm' ? `(uintptr_t)${plan.prefix}_nop_${c.name}` : c.kind === 'asm' ? `(uintptr_t)${plan.prefix}_nop` : '0';
  const jump = c.kind === 'no-return' ? 1 : 0;
  return `${plan.prefix}.${c.name} = (${c.fnType})${plan.prefix}_lookup_(get_reloc, ${c.numberMacro}, "${c.name}", ${jump}, ${nop}, &unresolved);`;
}

/** The no-op stand-ins for NOP relocations: one per regparm signature, one for the native-register calls. */
function nops(plan: VmiPlan, regparm: string): string {
  let out = '';
  for (const c of plan.calls.filter((x) => x.kind === 'regparm')) {
    const body = [...c.args.map((a) => `(void)${a.name};`), ...(c.returnType === 'void' ? [] : ['return 0;'])];
    out += `\n/* {{spec}}:${c.id} under a NOP relocation: does nothing${c.returnType === 'void' ? '' : ', returns 0'}. */\n`;
    out += `static ${c.returnType} ${regparm} ${plan.prefix}_nop_${c.name}(${paramList(argParams(c))})\n{\n${body.map((l) => `    ${l}\n`).join('')}}\n`;
  }
  if (plan.calls.some((c) => c.kind === 'asm')) {
    out += `\n/* A native-register call under a NOP relocation: returns with every register as it was. */\nstatic void ${plan.prefix}_nop(void)\n{\n}\n`;
  }
  return out;
}

/** The stub header of one ABI. */
export function vmiStubsHeader(model: GenModel, abi: Abi, cond: ArchCondition = archConditionFor(model.spec)): GeneratedFile {
  const plan = vmiPlan(model, abi);
  const file = vmiStubsHeaderPath(model, abi);
  const conv = abi.convention;
  const P = macroName(plan.prefix);
  const regparmMacro = `${P}_REGPARM`;
  const ncallsMacro = `${P}_NCALLS`;
  const ptr = plan.arch.pointerSize;
  const asserts = [
    ...plan.calls.map((c, i) => `offsetof(struct ${plan.prefix}_table, ${c.name}) == ${i * ptr}, "entry of ${c.name}"`),
    `offsetof(struct ${plan.prefix}_table, relocation) == ${plan.calls.length * ptr}, "relocation types"`,
  ];
  const stubs = plan.calls
    .map((c) => {
      if (c.kind === 'no-return') return `\n/* ${model.spec.name}:${c.id}: no stub: ${c.why}. */\n`;
      return stubTemplate({
        spec: model.spec.name,
        id: c.id,
        numberMacro: c.numberMacro,
        number: c.number,
        registers: registersNote(c),
        doc: [...commentLines(c.doc), ...(c.why ? commentLines(`Inline assembly: ${c.why}.`) : [])],
        returnType: c.returnType,
        stub: c.stub,
        params: paramList(stubParams(c)),
        body: c.kind === 'regparm' ? regparmBody(plan, c) : asmBody(plan, c),
      });
    })
    .join('');
  const relocGroup = RELOCATION.none.replace(/NONE$/, '');
  const content = fileTemplate({
    file,
    title: model.spec.title,
    version: model.spec.version,
    name: model.spec.name,
    generator: VMI_GENERATOR,
    abi: abi.name,
    arch: plan.arch.name,
    abiDoc: commentLines(`${abi.doc} ${conv.doc} Entry: ${conv.entry.doc}`, 90),
    usage: commentLines(
      `Use: find the ROM (the spec's discovery rules) and call ${plan.prefix}_resolve(rom) once: it asks the ROM's get_reloc ` +
        `about every call and fills ${plan.prefix}, the table of entry points; then call ${plan.prefix}_<Call>(...). Define ` +
        `${P}_IMPLEMENTATION in exactly one translation unit before including this header to get the table and the resolver. ` +
        `A call the ROM does not provide stays NULL (do not call its stub); define ${P}_UNRESOLVED(nr, name, type) before ` +
        'the implementation to hear of each one.',
      92,
    ),
    prefix: plan.prefix,
    implMacro: `${P}_IMPLEMENTATION`,
    hookMacro: `${P}_UNRESOLVED`,
    guard: macroName(file),
    pae: isPaeArch(plan.arch.name),
    paeMacro: PAE_MACRO,
    typesHeader: typesHeaderPath(model),
    typesGuard: typesHeaderGuard(model),
    archCondition: cond([plan.arch.name]),
    abiMacro: `${P}_STUBS_ABI`,
    nregs: conv.args.length,
    regs: conv.args.join(', '),
    regparmMacro,
    ncallsMacro,
    ncalls: plan.ncalls,
    calls: plan.calls.map((c) => ({ ...c, typedef: typedefLine(plan, c, regparmMacro) })),
    relocType: RELOCATION_TYPE,
    relocGroup,
    reloc: RELOCATION,
    romHeader: plan.romHeader,
    getRelocField: GET_RELOC_FIELD,
    asserts,
    stubs,
    nops: nops(plan, regparmMacro).replace(/\{\{spec\}\}/g, model.spec.name),
    resolves: plan.calls.map((c) => resolveLine(plan, c)),
  });
  return { path: file, content };
}

/** The c-guest files of a rom-call spec: its types header (arch conditions that tell PAE apart) and a stub header per ABI. */
export function cVmiGuest(model: GenModel): GeneratedFile[] {
  const cond = archConditionFor(model.spec);
  return [cTypesHeaderWith(model, { archCondition: cond, generator: VMI_GENERATOR }), ...model.abis.map((abi) => vmiStubsHeader(model, abi, cond))];
}
