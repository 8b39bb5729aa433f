/**
 * C guest hypercall stubs, one header per ABI: a `static inline` function per hypercall the
 * ABI has, with typed arguments, entering the hypervisor as the ABI's calling convention
 * says (a call into the hypercall page, or a trap instruction), and a transport variant
 * (`#define HYPERABI_TRANSPORT`) whose stubs call a user-supplied function instead, so
 * guests build and run in user space. Multiplexed hypercalls get a wrapper per sub-op.
 *
 * Every register name, instruction, number and stub size comes from the spec's ABI; this
 * module knows only C and assembler facts (how GCC pins a variable to a register, that
 * `unsigned long` is what a register holds, the directive GAS needs for an instruction).
 */
import Handlebars from 'handlebars';
import type { Abi, Arch, Arg, Operation, TypeRef } from '../../spec/index.js';
import type { GeneratedFile } from '../files.js';
import type { GenHypercall, GenModel } from '../model.js';
import { archCondition } from './declare.js';
import { typesHeaderPath } from './types-header.js';
import { TypeScope } from './type-scope.js';

/** The symbol of the hypercall page, which the guest provides (page-aligned, filled by the hypervisor). */
export const HYPERCALL_PAGE_SYMBOL = 'hypercall_page';
/** The macro that selects the transport variant when defined before the header is included. */
export const TRANSPORT_MACRO = 'HYPERABI_TRANSPORT';
/** The user-supplied function the transport variant calls. */
export const TRANSPORT_FUNCTION = 'hyperabi_transport';

/**
 * Assembler directives an arch needs before the ABI's instruction. Toolchain knowledge, not
 * ABI knowledge: ARMv7 GAS accepts HVC only with the virtualisation extension enabled.
 */
const ASM_DIRECTIVES: Readonly<Record<string, readonly string[]>> = {
  arm32: ['.arch_extension virt'],
};

const C_KEYWORDS = new Set(
  ('auto break case char const continue default do double else enum extern float for goto if inline int long register ' +
    'restrict return short signed sizeof static struct switch typedef union unsigned void volatile while _Alignas _Alignof ' +
    '_Atomic _Bool _Complex _Generic _Imaginary _Noreturn _Static_assert _Thread_local').split(' '),
);

/** A spec item the stub generator cannot express as C; the message names the item and the ABI. */
export class CStubError extends Error {
  override name = 'CStubError';
}

/** One parameter of a generated function. */
export interface StubParam {
  name: string;
  /** The C type, e.g. `unsigned int`, `struct evtchn_send *`, `const trap_info_t *`. */
  cType: string;
  pointer: boolean;
}

/** One generated function: a hypercall stub or a sub-op wrapper. */
export interface StubFunction {
  /** C name: `hyperabi_<hypercall>` or `hyperabi_<hypercall>_<SUBOP>`. */
  cName: string;
  /** The spec item: the hypercall name, or the operation id `<hypercall>$<SUBOP>`. */
  id: string;
  /** The hypercall number. */
  number: number;
  params: StubParam[];
  doc: string;
}

/** A hypercall stub: its function and where each argument travels. */
export interface HypercallStub extends StubFunction {
  kind: 'stub';
  /** Per parameter, in order: the register it travels in under the ABI. */
  registers: string[];
  /** Registers the call may change (the hypercall's own list, else the convention's). */
  clobbers: string[];
}

/** A sub-op wrapper: calls its hypercall's stub with the selector fixed. */
export interface SubopWrapper extends StubFunction {
  kind: 'wrapper';
  /** The stub it calls. */
  target: string;
  /** The C argument expressions of the call, in the stub's parameter order. */
  call: string[];
}

/** What a header for one ABI holds. */
export interface StubPlan {
  abi: Abi;
  arch: Arch;
  stubs: HypercallStub[];
  wrappers: SubopWrapper[];
  /** Hypercalls of the ABI that get no function, and why. */
  skipped: { id: string; why: string }[];
}

/** Where the stub header of an ABI lives in the output. */
export function stubsHeaderPath(model: GenModel, abi: Abi): string {
  return `hyperabi_${model.spec.name}_${abi.name}.h`;
}

function macroName(s: string): string {
  return s.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}

/** A doc string as comment lines of at most `width` characters, safe inside a C comment. */
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

function cIdent(name: string, what: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || C_KEYWORDS.has(name)) {
    throw new CStubError(`${what}: '${name}' is not usable as a C identifier`);
  }
  return name;
}

/** The stub emitter's type scope: the shared one, plus the C spelling of pointer targets. */
class StubScope extends TypeScope {
  /** The C spelling of the element type behind a pointer (void, a scalar or a type of this arch). */
  pointee(t: TypeRef, what: string): string {
    if (t.kind !== 'name') throw new CStubError(`${what}: a pointer to a ${t.kind} has no C spelling in a stub`);
    if (t.name === 'void' || this.sizeOf(t.name) !== undefined) return t.name;
    throw new CStubError(`${what}: type '${t.name}' is not defined on arch ${this.arch.name}`);
  }
}

/** A register argument as a C parameter, checked to fit in one register of the ABI. */
function paramOf(scope: StubScope, a: Arg, what: string): StubParam {
  const name = cIdent(a.name, what);
  const where = `${what}: argument '${a.name}'`;
  if (a.type.kind === 'pointer') {
    const cv = a.dir === 'in' ? 'const ' : '';
    return { name, cType: `${cv}${scope.pointee(a.type.to, where)} *`, pointer: true };
  }
  if (a.type.kind !== 'name') throw new CStubError(`${where} is a ${a.type.kind}, which cannot travel in a register`);
  const size = scope.sizeOf(a.type.name);
  if (size === undefined || a.type.name === 'void') throw new CStubError(`${where}: type '${a.type.name}' is not defined on arch ${scope.arch.name}`);
  if (scope.isAggregate(a.type.name)) throw new CStubError(`${where}: a ${a.type.name} by value cannot travel in a register`);
  if (size > scope.arch.wordSize) {
    throw new CStubError(
      `${where} (${a.type.name}, ${size} bytes) is wider than a register of ${scope.arch.name} (${scope.arch.wordSize} bytes), ` +
        'and the spec gives no split argument list for this ABI (argsByAbi)',
    );
  }
  return { name, cType: a.type.name, pointer: false };
}

/** Whether an operation exists under an ABI (its `abis` lists ABIs, arches or families). */
function opOnAbi(op: Operation, abi: Abi, arch: Arch): boolean {
  return op.abis === undefined || op.abis.includes(abi.name) || op.abis.includes(arch.name) || op.abis.includes(arch.family);
}

function stubFor(scope: StubScope, abi: Abi, g: GenHypercall): HypercallStub {
  const h = g.hypercall;
  const what = `hypercall ${h.name} under ABI ${abi.name}`;
  const args = g.args[abi.name] ?? [];
  const conv = abi.convention;
  if (h.results && h.results.length > 0) throw new CStubError(`${what}: results in registers besides the return value are not expressible as a C stub`);
  if (args.length > conv.args.length) {
    throw new CStubError(`${what} has ${args.length} arguments; the ABI passes ${conv.args.length} in registers`);
  }
  const registers = args.map((a, i) => {
    const positional = conv.args[i] as string;
    if (a.register === undefined || a.register === positional) return positional;
    if (!/^[a-z][a-z0-9]*$/.test(a.register)) {
      throw new CStubError(`${what}: argument '${a.name}' travels in '${a.register}', which a C stub cannot express`);
    }
    return a.register;
  });
  return {
    kind: 'stub',
    cName: `hyperabi_${cIdent(h.name, what)}`,
    id: h.name,
    number: h.number,
    params: args.map((a) => paramOf(scope, a, what)),
    doc: h.doc,
    registers,
    clobbers: h.clobbers ?? conv.clobbers,
  };
}

/** The per-sub-op wrappers of a multiplexed hypercall under an ABI (none when the selector is inside a batch element). */
function wrappersFor(scope: StubScope, abi: Abi, g: GenHypercall, stub: HypercallStub): SubopWrapper[] {
  const h = g.hypercall;
  const table = h.subops;
  const args = g.args[abi.name] ?? [];
  if (!table || !args.some((a) => a.name === table.selector)) return [];
  const out: SubopWrapper[] = [];
  for (const o of g.operations) {
    const op = o.op;
    if (!op || !opOnAbi(op, abi, scope.arch)) continue;
    const what = `operation ${o.id} under ABI ${abi.name}`;
    const params: StubParam[] = [];
    const call: string[] = [];
    args.forEach((a, i) => {
      const base = stub.params[i] as StubParam;
      if (a.name === table.selector) {
        call.push(`${op.value} /* ${op.name} */`);
      } else if (a.name === table.argument && op.arg !== undefined) {
        if (op.arg === null) {
          call.push('NULL');
          return;
        }
        const cv = op.argDir === 'in' ? 'const ' : '';
        params.push({ name: base.name, cType: `${cv}${scope.pointee(op.arg, `${what}: the argument`)} *`, pointer: true });
        call.push(`(${base.cType})(${base.name})`);
      } else {
        params.push(base);
        call.push(base.name);
      }
    });
    out.push({
      kind: 'wrapper',
      cName: `${stub.cName}_${cIdent(op.name, what)}`,
      id: o.id,
      number: h.number,
      params,
      doc: op.doc,
      target: stub.cName,
      call,
    });
  }
  return out;
}

/** The functions of one ABI's header, in spec order. */
export function stubPlan(model: GenModel, abi: Abi): StubPlan {
  const arch = model.arches.find((a) => a.name === abi.arch);
  if (!arch) throw new CStubError(`ABI ${abi.name}: arch '${abi.arch}' is not in the model`);
  const ulong = arch.scalars['unsigned long'];
  if (!ulong || ulong.size !== arch.wordSize) {
    throw new CStubError(`ABI ${abi.name}: 'unsigned long' is not register-sized on ${arch.name}; the C stubs assume it is`);
  }
  const scope = new StubScope(model, arch);
  const stubs: HypercallStub[] = [];
  const wrappers: SubopWrapper[] = [];
  const skipped: { id: string; why: string }[] = [];
  for (const g of model.hypercalls) {
    if (!(abi.name in g.hypercall.abis)) continue;
    if (g.hypercall.noReturn) {
      skipped.push({ id: g.hypercall.name, why: 'it does not return to its caller (noReturn), so it cannot be a C function call' });
      continue;
    }
    const stub = stubFor(scope, abi, g);
    stubs.push(stub);
    wrappers.push(...wrappersFor(scope, abi, g, stub));
  }
  return { abi, arch, stubs, wrappers, skipped };
}

// ───────────────────────────── rendering ─────────────────────────────

/** A C string literal of assembler lines (the caller doubles any literal `%` for extended asm). */
function asmText(lines: readonly string[]): string {
  return `"${lines.map((l) => l.replace(/\\/g, '\\\\').replace(/"/g, '\\"')).join('\\n\\t')}"`;
}

/** The value of a parameter as a register word. */
function word(p: StubParam): string {
  return p.pointer ? `(unsigned long)(uintptr_t)(${p.name})` : `(unsigned long)(${p.name})`;
}

/** The body of an inline-assembly stub, derived from the ABI's convention. */
function asmBody(plan: StubPlan, s: HypercallStub): string[] {
  const conv = plan.abi.convention;
  const entry = conv.entry;
  const lines: string[] = [];
  const operands: { v: string; reg: string }[] = [];
  let text: string;
  const inputs: string[] = [];
  if (entry.kind === 'hypercall-page') {
    if (entry.stubSize === undefined) throw new CStubError(`ABI ${plan.abi.name}: a hypercall-page entry without a stubSize`);
    // The page's stub for nr loads the number register itself; the call's offset selects it.
    text = asmText([`call ${HYPERCALL_PAGE_SYMBOL} + %c[offset]`]);
    inputs.push(`[offset] "i"(${s.number} * ${entry.stubSize})`);
  } else if (entry.kind === 'trap') {
    lines.push(`register unsigned long nr_ __asm__("${conv.number}") = ${s.number};`);
    operands.push({ v: 'nr_', reg: conv.number });
    // The spec's instruction is assembler text: any literal % is doubled for extended asm.
    text = asmText([...(ASM_DIRECTIVES[plan.arch.name] ?? []), entry.instruction.replace(/%/g, '%%')]);
  } else {
    throw new CStubError(`ABI ${plan.abi.name}: entry kind '${entry.kind}' is not expressible as an inline C stub`);
  }
  s.params.forEach((p, i) => {
    const reg = s.registers[i] as string;
    lines.push(`register unsigned long a${i}_ __asm__("${reg}") = ${word(p)};`);
    operands.push({ v: `a${i}_`, reg });
  });
  let result = operands.find((o) => o.reg === conv.result)?.v;
  if (result === undefined) {
    lines.unshift(`register unsigned long res_ __asm__("${conv.result}");`);
    result = 'res_';
  }
  const changed = new Set([...s.clobbers, conv.result]);
  const outputs = result === 'res_' ? ['"=r"(res_)'] : [];
  for (const o of operands) {
    if (changed.has(o.reg)) outputs.push(`"+r"(${o.v})`);
    else inputs.push(`"r"(${o.v})`);
  }
  const used = new Set(operands.map((o) => o.reg));
  const clobbers = ['"memory"', ...s.clobbers.filter((r) => !used.has(r) && r !== conv.result).map((r) => `"${r}"`)];
  const pad = ' '.repeat('__asm__ __volatile__('.length);
  lines.push(
    `__asm__ __volatile__(${text}`,
    `${pad}: ${outputs.join(', ')}`.trimEnd(),
    `${pad}: ${inputs.join(', ')}`.trimEnd(),
    `${pad}: ${clobbers.join(', ')});`,
    `return (long)${result};`,
  );
  return lines;
}

/** The body of a transport stub: the argument words in order, handed to hyperabi_transport. */
function transportBody(s: HypercallStub): string[] {
  if (s.params.length === 0) return [`return ${TRANSPORT_FUNCTION}(${s.number}, NULL, 0);`];
  return [
    `const unsigned long args_[${s.params.length}] = { ${s.params.map(word).join(', ')} };`,
    `return ${TRANSPORT_FUNCTION}(${s.number}, args_, ${s.params.length});`,
  ];
}

const fnTemplate = Handlebars.compile(
  `
/*
 * {{spec}}:{{id}} ({{numberMacro}} = {{number}})
{{#each doc}}
 * {{this}}
{{/each}}
 */
static inline long {{cName}}({{params}})
{
{{#each body}}
{{this}}
{{/each}}
}
`,
  { noEscape: true },
);

const fileTemplate = Handlebars.compile(
  `/*
 * {{file}}: hypercall stubs of the {{title}} {{version}} spec for ABI {{abi}}.
 *
 * @generated by hyperabi (generator/c/stubs.ts) from spec '{{name}}' {{version}}, ABI '{{abi}}'.
 * Do not edit: regenerate with \`hyperabi generate c-guest --spec {{name}} --abi {{abi}}\`.
 *
 * ABI {{abi}}:
{{#each abiDoc}}
 *   {{this}}
{{/each}}
{{#if page}}
 * The stubs call into {{pageSymbol}}[], which the guest provides. A call pushes below the
 * stack pointer: build code that makes hypercalls without a red zone (-mno-red-zone on
 * x86_64), as every kernel already does.
{{/if}}
 *
 * One function per hypercall of the ABI, hyperabi_<hypercall>(...), returning the result
 * register; for multiplexed hypercalls, one wrapper per sub-op, hyperabi_<hypercall>_<SUBOP>.
 * Define {{transportMacro}} before including this header to build every stub on a user-supplied
 *     long {{transportFunction}}(unsigned long nr, const unsigned long *args, unsigned int nargs);
 * which receives the hypercall number and the argument registers' words in order.
 */
#ifndef {{guard}}
#define {{guard}}

#include <stddef.h>
#include <stdint.h>
#include "{{typesHeader}}"

#if !({{archCondition}})
#error "{{file}} is for arch {{arch}} (ABI {{abi}})"
#endif
#ifdef {{abiMacro}}
#error "{{file}}: the stubs of another ABI are already included; include one stub header per translation unit"
#endif
#define {{abiMacro}} "{{abi}}"

/* ───────────────────────────── hypercalls ───────────────────────────── */
#if defined({{transportMacro}})
long {{transportFunction}}(unsigned long nr, const unsigned long *args, unsigned int nargs);
{{#if page}}
#else
extern char {{pageSymbol}}[];
{{/if}}
#endif
{{#each skipped}}

/* {{../name}}:{{id}}: no stub: {{why}}. */
{{/each}}
{{{stubs}}}

/* ───────────────────────────── sub-operations ───────────────────────────── */
{{{wrappers}}}
#endif /* {{guard}} */
`,
  { noEscape: true },
);

function signature(params: readonly StubParam[]): string {
  return params.length === 0 ? 'void' : params.map((p) => (p.cType.endsWith('*') ? `${p.cType}${p.name}` : `${p.cType} ${p.name}`)).join(', ');
}

function renderFn(model: GenModel, f: StubFunction, body: string[]): string {
  return fnTemplate({
    spec: model.spec.name,
    id: f.id,
    numberMacro: `__HYPERVISOR_${f.id.split('$')[0]}`,
    number: f.number,
    doc: commentLines(f.doc),
    cName: f.cName,
    params: signature(f.params),
    body: body.map((l) => (l.startsWith('#') ? l : `    ${l}`)),
  });
}

/** A stub's body: the transport variant and the trapping one, chosen by the preprocessor. */
function stubBody(plan: StubPlan, s: HypercallStub): string[] {
  return [`#if defined(${TRANSPORT_MACRO})`, ...transportBody(s), '#else', ...asmBody(plan, s), `#endif`];
}

/** The stub header of one ABI. */
export function cStubsHeader(model: GenModel, abi: Abi): GeneratedFile {
  const plan = stubPlan(model, abi);
  const file = stubsHeaderPath(model, abi);
  const conv = abi.convention;
  const content = fileTemplate({
    file,
    title: model.spec.title,
    version: model.spec.version,
    name: model.spec.name,
    abi: abi.name,
    arch: plan.arch.name,
    abiDoc: commentLines(`${abi.doc} ${conv.doc} Entry: ${conv.entry.doc}`, 90),
    page: conv.entry.kind === 'hypercall-page',
    pageSymbol: HYPERCALL_PAGE_SYMBOL,
    transportMacro: TRANSPORT_MACRO,
    transportFunction: TRANSPORT_FUNCTION,
    guard: macroName(file),
    abiMacro: `HYPERABI_${macroName(model.spec.name)}_STUBS_ABI`,
    typesHeader: typesHeaderPath(model),
    archCondition: archCondition([plan.arch.name]),
    skipped: plan.skipped,
    stubs: plan.stubs.map((s) => renderFn(model, s, stubBody(plan, s))).join(''),
    wrappers: plan.wrappers.map((w) => renderFn(model, w, [`return ${w.target}(${w.call.join(', ')});`])).join(''),
  });
  return { path: file, content };
}

/** The stub headers, one per ABI of the model. */
export function cStubs(model: GenModel): GeneratedFile[] {
  return model.abis.map((abi) => cStubsHeader(model, abi));
}
