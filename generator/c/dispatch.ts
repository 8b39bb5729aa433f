/**
 * C hypervisor dispatch: per ABI, a register-file struct, a dispatch function that reads the
 * number register, checks the call exists for that ABI, decodes the argument registers into
 * typed values and calls a handler; a second-level dispatch on the sub-op of multiplexed
 * calls; the argument count per hypercall number; and weak default handlers returning
 * -ENOSYS, so a hypervisor that implements a subset still links.
 *
 * The generated C is independent of the host it is compiled for: decoded values use
 * fixed-width types sized by the guest ABI's data model (a 64-bit hypervisor can dispatch
 * for a 32-bit guest, as Xen's compat layer does), and pointer arguments are guest
 * addresses (`hyperabi_gaddr_t`), never host pointers. Register names, numbers, sizes and
 * error codes all come from the spec; this module knows only C.
 */
import Handlebars from 'handlebars';
import {
  findType,
  fromBigInt,
  operationId,
  selects,
  toBigInt,
  typeBodyFor,
  typeAvailableOn,
  type Abi,
  type Arch,
  type Arg,
  type ErrorDecl,
  type Hypercall,
  type Operation,
  type Spec,
  type TypeRef,
} from '../../spec/index.js';
import type { GeneratedFile } from '../files.js';
import type { GenModel } from '../model.js';
import { literal } from './declare.js';

/** A spec item the dispatch generator cannot express as C; the message names the item and the ABI. */
export class DispatchError extends Error {
  override name = 'DispatchError';
}

/** The C type of guest addresses: pointer arguments are passed as values, never dereferenced by dispatch. */
export const GADDR_TYPE = 'hyperabi_gaddr_t';
/** The hypervisor's own context type, declared incomplete: the user defines it. */
export const CTX_TYPE = 'struct hyperabi_ctx';
/** Defined before compiling the dispatch source, leaves out the weak default handlers. */
export const NO_DEFAULTS_MACRO_SUFFIX = 'NO_DEFAULT_HANDLERS';

const C_KEYWORDS = new Set(
  ('auto break case char const continue default do double else enum extern float for goto if inline int long register ' +
    'restrict return short signed sizeof static struct switch typedef union unsigned void volatile while _Alignas _Alignof ' +
    '_Atomic _Bool _Complex _Generic _Imaginary _Noreturn _Static_assert _Thread_local ctx regs').split(' '),
);

/** Scalar names whose C type is signed; everything else in an arch's scalar table that is an integer is unsigned. */
const SIGNED_SCALARS = new Set(['signed char', 'short', 'int', 'long', 'long long', 'int8_t', 'int16_t', 'int32_t', 'int64_t']);
const UNSIGNED_SCALARS = new Set([
  'unsigned char',
  'unsigned short',
  'unsigned int',
  'unsigned long',
  'unsigned long long',
  'uint8_t',
  'uint16_t',
  'uint32_t',
  'uint64_t',
]);

/** An integer C type of the guest ABI, as a fixed-width host type. */
export interface IntType {
  ctype: string;
  size: number;
  signed: boolean;
}

/** One decoded handler parameter: a register argument under one ABI. */
export interface DecodedParam {
  /** The spec's argument name. */
  name: string;
  /** The C parameter name (the spec's, suffixed when it is a C keyword). */
  cName: string;
  /** The register it is read from. */
  register: string;
  /** The host C type it is decoded to. */
  ctype: string;
  /** Bytes of the value under the ABI (guest addresses: the arch's pointer size). */
  size: number;
  signed: boolean;
  /** A guest address (a pointer or handle argument). */
  pointer: boolean;
  /** The spec's type, in C spelling, for the comment: `domid_t`, `trap_info_t *`. */
  specType: string;
  /** For a guest address: what it points to, in C spelling (`trap_info_t`). */
  pointee?: string;
  dir?: string;
}

/** One operation of a register-multiplexed call, as an ABI has it. */
export interface OpPlan {
  id: string;
  op: Operation;
  handler: string;
  /** The spec type the operation's pointer argument carries (for the comment); null: the operation takes none. */
  carries?: string | null;
}

/** How a call answers a command it does not have. */
export interface UnknownCommand {
  code: string;
  /** The result value (negated per the spec's error space). */
  value: bigint;
  when: string;
}

/** One hypercall as one ABI dispatches it. */
export interface CallPlan {
  id: string;
  hypercall: Hypercall;
  params: DecodedParam[];
  returns: IntType;
  /** direct: one handler; subops: second-level dispatch on a register; batched: one handler, the selector lives in guest memory. */
  kind: 'direct' | 'subops' | 'batched';
  /** The hypercall-level handler (direct and batched calls). */
  handler?: string;
  /** The second-level dispatch function (subops). */
  subdispatch?: string;
  selector?: DecodedParam;
  mask?: bigint;
  ops: OpPlan[];
  unknown?: UnknownCommand;
}

/** Everything one ABI's dispatch needs. */
export interface AbiPlan {
  abi: Abi;
  arch: Arch;
  ident: string;
  regType: string;
  /** Register-file members in order: the number register, the argument registers, the result register (each once). */
  regs: { name: string; roles: string[] }[];
  resultType: IntType;
  enosys: { value: bigint; constant: string };
  calls: CallPlan[];
  /** Argument count per hypercall number (index), -1 where the ABI has no call. */
  nargs: number[];
  dispatch: string;
  regsStruct: string;
  nargsTable: string;
  enosysMacro: string;
}

/** A C identifier for an ABI name: `x86_64-pv` → `x86_64_pv`. */
export function abiIdent(abi: Abi): string {
  return abi.name.replace(/[^A-Za-z0-9_]+/g, '_');
}

function prefix(spec: Spec): string {
  return `hyperabi_${spec.name.replace(/[^A-Za-z0-9_]+/g, '_')}`;
}

/** The handler of a hypercall (or of one of its operations) under an ABI: `hyperabi_xen_handle_x86_64_pv__event_channel_op__EVTCHNOP_send`. */
export function handlerName(spec: Spec, abi: Abi, h: Hypercall, op?: Operation): string {
  return `${prefix(spec)}_handle_${abiIdent(abi)}__${h.name}${op ? `__${op.name}` : ''}`;
}

/** The dispatch function of an ABI: `hyperabi_xen_dispatch_x86_64_pv`. */
export function dispatchName(spec: Spec, abi: Abi): string {
  return `${prefix(spec)}_dispatch_${abiIdent(abi)}`;
}

/** The register-file struct tag of an ABI: `struct hyperabi_xen_regs_x86_64_pv`. */
export function regsStructName(spec: Spec, abi: Abi): string {
  return `struct ${prefix(spec)}_regs_${abiIdent(abi)}`;
}

/** The argument-count table of an ABI: `hyperabi_xen_nargs_x86_64_pv`. */
export function nargsTableName(spec: Spec, abi: Abi): string {
  return `${prefix(spec)}_nargs_${abiIdent(abi)}`;
}

/** Where the dispatch header and source live in the output. */
export function dispatchPaths(model: GenModel): { header: string; source: string } {
  const base = `hyperabi_${model.spec.name}_dispatch`;
  return { header: `${base}.h`, source: `${base}.c` };
}

/** One past the largest hypercall number of the spec: the length of the argument-count tables. */
export function hypercallCount(spec: Spec): number {
  return spec.hypercalls.reduce((m, h) => Math.max(m, h.number + 1), 0);
}

function intType(size: number, signed: boolean, what: string): IntType {
  if (![1, 2, 4, 8].includes(size)) throw new DispatchError(`${what}: no fixed-width C integer of ${size} bytes`);
  return { ctype: `${signed ? 'int' : 'uint'}${size * 8}_t`, size, signed };
}

/** The integer type a named type has under an arch, following typedefs (`domid_t` → uint16_t). */
function resolveInt(spec: Spec, arch: Arch, name: string, what: string, seen: string[] = []): IntType | 'pointer' {
  const scalar = arch.scalars[name];
  if (scalar) {
    if (name === 'void *') return 'pointer';
    if (SIGNED_SCALARS.has(name)) return intType(scalar.size, true, what);
    if (UNSIGNED_SCALARS.has(name)) return intType(scalar.size, false, what);
    throw new DispatchError(`${what}: the scalar '${name}' has no fixed-width decoding (plain char and _Bool are not register arguments)`);
  }
  const def = findType(spec, name);
  if (!def) throw new DispatchError(`${what}: unknown type '${name}'`);
  if (!typeAvailableOn(def, arch)) throw new DispatchError(`${what}: type '${name}' is not defined on ${arch.name}`);
  if (seen.includes(def.name)) throw new DispatchError(`${what}: typedef cycle through '${def.name}'`);
  const body = typeBodyFor(def, arch);
  if (body.kind !== 'typedef' || !body.target) {
    throw new DispatchError(`${what}: a ${body.kind} ('${name}') passed by value in a register cannot be decoded`);
  }
  const t = body.target;
  if (t.kind === 'pointer' || t.kind === 'handle') return 'pointer';
  if (t.kind !== 'name') throw new DispatchError(`${what}: typedef '${name}' of a ${t.kind} cannot be decoded from a register`);
  return resolveInt(spec, arch, t.name, what, [...seen, def.name]);
}

function typeSpelling(t: TypeRef): string {
  switch (t.kind) {
    case 'name':
      return t.name;
    case 'pointer':
      return `${typeSpelling(t.to)} *`;
    case 'handle':
      return `XEN_GUEST_HANDLE${t.width === 64 ? '_64' : ''}(${typeSpelling(t.to)})`;
    case 'array':
      return `${typeSpelling(t.of)}[${t.length}]`;
    case 'struct':
    case 'union':
      return `${t.kind} { ... }`;
  }
}

/** Whether an operation exists under an ABI (its `abis` lists ABI names, arches or families). */
export function operationOnAbi(op: Operation, abi: Abi, arch: Arch): boolean {
  return op.abis === undefined || op.abis.includes(abi.name) || selects(op.abis, arch);
}

function errnoResult(spec: Spec, arch: Arch, code: string, what: string): bigint {
  const space = spec.errorSpaces.find((s) => s.via === 'return');
  if (!space) throw new DispatchError(`${what}: the spec declares no error space for returned codes`);
  const name = `${space.prefix}${code}`;
  const group = spec.constants.find((g) => g.name === space.group);
  const c = group?.members.find((m) => m.name === name);
  if (!c || !selects(c.arches, arch)) throw new DispatchError(`${what}: no constant ${name} in group ${space.group} on ${arch.name}`);
  const v = toBigInt(c.perArch?.[arch.name] ?? c.perArch?.[arch.family] ?? c.value);
  return space.negate ? -v : v;
}

/**
 * What the spec says a multiplexed call returns for a command it lacks: a returned error
 * whose trigger is the state `unknown-command-<abi|arch|family>` (most specific first) or
 * `unknown-command`, else a value trigger on the selector; undefined when none is declared.
 */
export function unknownCommandError(h: Hypercall, abi: Abi, arch: Arch): ErrorDecl | undefined {
  // Errors limited to other ABIs (`abis`) do not apply to this one.
  const applies = (e: ErrorDecl) => e.abis === undefined || e.abis.some((a) => a === abi.name || a === arch.name || a === arch.family);
  const returned = h.errors.filter((e) => (e.via ?? 'return') === 'return' && applies(e));
  for (const state of [`unknown-command-${abi.name}`, `unknown-command-${arch.name}`, `unknown-command-${arch.family}`, 'unknown-command']) {
    const hit = returned.find((e) => e.trigger?.kind === 'state' && e.trigger.state === state);
    if (hit) return hit;
  }
  const selector = h.subops?.selector;
  return returned.find((e) => e.trigger?.kind === 'value' && e.trigger.path === selector);
}

function cIdent(name: string): string {
  const base = name.replace(/[^A-Za-z0-9_]/g, '_');
  return C_KEYWORDS.has(base) ? `${base}_` : base;
}

function decodeParams(spec: Spec, abi: Abi, arch: Arch, h: Hypercall, args: readonly Arg[]): DecodedParam[] {
  const conv = abi.convention;
  const item = `${spec.name}:hypercalls/${h.name} (${abi.name})`;
  if (args.length > conv.args.length) {
    throw new DispatchError(`${item}: ${args.length} arguments, but the convention has ${conv.args.length} argument registers`);
  }
  return args.map((a, i) => {
    const what = `${item} argument '${a.name}'`;
    let register = conv.args[i] as string;
    if (a.register !== undefined) {
      if (!conv.args.includes(a.register)) {
        throw new DispatchError(`${what}: travels in '${a.register}', not one argument register of the convention (${conv.args.join(', ')})`);
      }
      register = a.register;
    }
    const base = { name: a.name, cName: cIdent(a.name), register, ...(a.dir ? { dir: a.dir } : {}) };
    if (a.type.kind === 'pointer' || a.type.kind === 'handle') {
      return { ...base, ctype: GADDR_TYPE, size: arch.pointerSize, signed: false, pointer: true, specType: typeSpelling(a.type), pointee: typeSpelling(a.type.to) };
    }
    if (a.type.kind !== 'name') throw new DispatchError(`${what}: a ${a.type.kind} cannot travel in a register`);
    const t = resolveInt(spec, arch, a.type.name, what);
    if (t === 'pointer') return { ...base, ctype: GADDR_TYPE, size: arch.pointerSize, signed: false, pointer: true, specType: a.type.name, pointee: `what ${a.type.name} points to` };
    if (t.size > arch.wordSize) {
      throw new DispatchError(
        `${what}: ${a.type.name} is ${t.size} bytes, wider than the ${arch.wordSize}-byte register; the spec must list the split (argsByAbi)`,
      );
    }
    return { ...base, ...t, pointer: false, specType: a.type.name };
  });
}

function callPlan(model: GenModel, abi: Abi, arch: Arch, h: Hypercall, args: readonly Arg[]): CallPlan {
  const spec = model.spec;
  const item = `${spec.name}:hypercalls/${h.name} (${abi.name})`;
  if (h.results && h.results.length > 0) throw new DispatchError(`${item}: results in registers besides the return value cannot be dispatched`);
  const params = decodeParams(spec, abi, arch, h, args);
  if (h.returns.type.kind !== 'name') throw new DispatchError(`${item}: the return type must be an integer`);
  const returns = resolveInt(spec, arch, h.returns.type.name, `${item} return value`);
  if (returns === 'pointer' || returns.size > arch.wordSize) {
    throw new DispatchError(`${item}: the return type ${h.returns.type.name} does not fit the result register`);
  }
  const base = { id: operationId(h), hypercall: h, params, returns, ops: [] as OpPlan[] };
  const sub = h.subops;
  if (!sub) return { ...base, kind: 'direct', handler: handlerName(spec, abi, h) };
  const selector = params.find((p) => p.name === sub.selector);
  if (!selector) {
    if (/[[.]/.test(sub.selector)) return { ...base, kind: 'batched', handler: handlerName(spec, abi, h) };
    throw new DispatchError(`${item}: sub-op selector '${sub.selector}' is not a register argument (${params.map((p) => p.name).join(', ')})`);
  }
  if (selector.pointer) throw new DispatchError(`${item}: sub-op selector '${sub.selector}' is a pointer`);
  const mask = sub.mask === undefined ? undefined : BigInt(sub.mask);
  const seen = new Map<bigint, string>();
  const ops: OpPlan[] = [];
  const carrier = sub.argument;
  for (const op of sub.ops) {
    if (!operationOnAbi(op, abi, arch)) continue;
    const v = BigInt(op.value);
    if (mask !== undefined && (v & ~mask) !== 0n) throw new DispatchError(`${item}: ${op.name} = ${op.value} has bits outside the selector mask ${sub.mask}`);
    const range = selector.signed ? [-(1n << BigInt(selector.size * 8 - 1)), (1n << BigInt(selector.size * 8 - 1)) - 1n] : [0n, (1n << BigInt(selector.size * 8)) - 1n];
    if (v < (range[0] as bigint) || v > (range[1] as bigint)) throw new DispatchError(`${item}: ${op.name} = ${op.value} does not fit the selector's ${selector.ctype}`);
    const clash = seen.get(v);
    if (clash) throw new DispatchError(`${item}: ${op.name} and ${clash} share the command value ${op.value}`);
    seen.set(v, op.name);
    const carries = carrier && op.arg !== undefined ? (op.arg === null ? null : typeSpelling(op.arg)) : undefined;
    ops.push({ id: operationId(h, op), op, handler: handlerName(spec, abi, h, op), ...(carries ? { carries } : {}) });
  }
  const decl = unknownCommandError(h, abi, arch);
  const unknown: UnknownCommand = decl
    ? { code: decl.code, value: errnoResult(spec, arch, decl.code, item), when: decl.when }
    : { code: 'ENOSYS', value: errnoResult(spec, arch, 'ENOSYS', item), when: 'No error for unknown commands is declared: -ENOSYS, as for an unknown hypercall.' };
  return {
    ...base,
    kind: 'subops',
    subdispatch: `${prefix(spec)}_subdispatch_${abiIdent(abi)}__${h.name}`,
    selector,
    ...(mask !== undefined ? { mask } : {}),
    ops,
    unknown,
  };
}

/** The dispatch plan of one ABI: every decision the C text is rendered from. */
export function abiPlan(model: GenModel, abi: Abi): AbiPlan {
  const spec = model.spec;
  const arch = model.arches.find((a) => a.name === abi.arch);
  if (!arch) throw new DispatchError(`${spec.name}: ABI '${abi.name}' names arch '${abi.arch}', which the model does not have`);
  const conv = abi.convention;
  const regs: { name: string; roles: string[] }[] = [];
  const addReg = (name: string, role: string) => {
    const r = regs.find((x) => x.name === name);
    if (r) r.roles.push(role);
    else regs.push({ name, roles: [role] });
  };
  addReg(conv.number, 'number');
  conv.args.forEach((r, i) => addReg(r, `argument ${i + 1}`));
  addReg(conv.result, 'result');
  for (const r of regs) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(r.name)) throw new DispatchError(`${spec.name}: ABI '${abi.name}' register '${r.name}' is not a C identifier`);
  }
  const nargs = new Array<number>(hypercallCount(spec)).fill(-1);
  const calls: CallPlan[] = [];
  for (const gh of model.hypercalls) {
    const args = gh.args[abi.name];
    if (!args) continue;
    calls.push(callPlan(model, abi, arch, gh.hypercall, args));
    nargs[gh.hypercall.number] = args.length;
  }
  const ident = abiIdent(abi);
  return {
    abi,
    arch,
    ident,
    regType: intType(arch.wordSize, false, `${spec.name}: ABI '${abi.name}' registers`).ctype,
    regs,
    resultType: intType(arch.wordSize, true, `${spec.name}: ABI '${abi.name}' result`),
    enosys: { value: errnoResult(spec, arch, 'ENOSYS', `${spec.name}: ABI '${abi.name}'`), constant: 'ENOSYS' },
    calls,
    nargs,
    dispatch: dispatchName(spec, abi),
    regsStruct: regsStructName(spec, abi),
    nargsTable: nargsTableName(spec, abi),
    enosysMacro: `${prefix(spec).toUpperCase()}_${ident.toUpperCase()}_ENOSYS`,
  };
}

// ───────────────────────────── C text ─────────────────────────────

/** Text safe inside a C block comment, on one line. */
function commentText(s: string): string {
  return s.replace(/\*\//g, '* /').replace(/\s+/g, ' ').trim();
}

function firstSentence(s: string): string {
  const one = commentText(s);
  const m = /^(.*?[.!?])(\s|$)/.exec(one);
  return m ? (m[1] as string) : one;
}

function paramDecl(p: DecodedParam, carries?: string | null): string {
  const what = !p.pointer
    ? p.specType
    : carries === null
      ? 'unused: the operation takes no argument'
      : `guest address of ${carries ?? p.pointee ?? p.specType}`;
  return `${p.ctype} ${p.cName} /* ${commentText(what)}${p.dir ? `, ${p.dir}` : ''} */`;
}

function paramList(params: readonly DecodedParam[], carrierArg?: string, carries?: string | null): string {
  return [`${CTX_TYPE} *ctx`, ...params.map((p) => paramDecl(p, p.name === carrierArg ? carries : undefined))].join(', ');
}

interface HandlerView {
  comment: string;
  ret: string;
  name: string;
  params: string;
  unused: string;
}

function handlerViews(plan: AbiPlan): HandlerView[] {
  const out: HandlerView[] = [];
  const unused = (ps: readonly DecodedParam[]) => ['ctx', ...ps.map((p) => p.cName)].map((n) => `(void)${n};`).join(' ');
  for (const c of plan.calls) {
    const h = c.hypercall;
    if (c.handler) {
      const note =
        c.kind === 'batched'
          ? ` Batched: each element's ${h.subops?.selector} selects a ${h.subops?.group}_* operation in guest memory, so this handler dispatches them itself.`
          : '';
      out.push({
        comment: `${c.id} (hypercall ${h.number}, ${h.abis[plan.abi.name]} handler in Xen): ${firstSentence(h.doc)}${note}`,
        ret: c.returns.ctype,
        name: c.handler,
        params: paramList(c.params),
        unused: unused(c.params),
      });
    }
    for (const o of c.ops) {
      out.push({
        comment: `${o.id} (${h.subops?.selector} = ${o.op.value}): ${firstSentence(o.op.doc)}`,
        ret: c.returns.ctype,
        name: o.handler,
        params: paramList(c.params, h.subops?.argument, o.carries),
        unused: unused(c.params),
      });
    }
  }
  return out;
}

function bigLiteral(v: bigint): string {
  return literal(fromBigInt(v));
}

function castTo(p: DecodedParam): string {
  return `(${p.ctype})regs->${p.register}`;
}

interface SubdispatchView {
  comment: string;
  ret: string;
  name: string;
  params: string;
  switchOn: string;
  cases: { value: string; id: string; handler: string; args: string }[];
  unknownResult: string;
  unknownComment: string;
}

function subdispatchViews(plan: AbiPlan): SubdispatchView[] {
  return plan.calls
    .filter((c) => c.kind === 'subops')
    .map((c) => {
      const sel = c.selector as DecodedParam;
      const u = c.unknown as UnknownCommand;
      const args = ['ctx', ...c.params.map((p) => p.cName)].join(', ');
      return {
        comment: `${c.id} on ${plan.abi.name}: second-level dispatch on ${sel.name}${c.mask !== undefined ? ` & ${bigLiteral(c.mask)}` : ''} over the ${c.hypercall.subops?.group}_* commands of this ABI.`,
        ret: c.returns.ctype,
        name: c.subdispatch as string,
        params: paramList(c.params),
        switchOn: c.mask !== undefined ? `${sel.cName} & ${bigLiteral(c.mask)}` : sel.cName,
        cases: c.ops.map((o) => ({ value: literal(o.op.value), id: o.id, handler: o.handler, args })),
        unknownResult: bigLiteral(u.value),
        unknownComment: `-${u.code}: ${commentText(u.when)}`,
      };
    });
}

interface DispatchCaseView {
  number: number;
  id: string;
  call: string;
}

function dispatchCases(plan: AbiPlan): DispatchCaseView[] {
  return plan.calls.map((c) => {
    const args = ['ctx', ...c.params.map(castTo)].join(', ');
    const fn = c.kind === 'subops' ? (c.subdispatch as string) : (c.handler as string);
    return { number: c.hypercall.number, id: c.id, call: `${fn}(${args})` };
  });
}

const banner = `/*
 * {{file}}: {{what}}
 * {{title}} {{version}}, for the ABIs {{abiList}}.
 *
 * @generated by hyperabi (generator/c/dispatch.ts) from spec '{{name}}' {{version}}.
 * Do not edit: regenerate with \`hyperabi generate c-dispatch --spec {{name}}\`.
 */`;

const headerTemplate = Handlebars.compile(
  `${banner}
#ifndef {{guard}}
#define {{guard}}

#include <stdint.h>

/*
 * How to use: define struct hyperabi_ctx (passed through to every handler untouched), fill
 * the register struct of the guest's ABI from its saved registers, call the ABI's dispatch
 * function, and write the result to the result register. Define the handlers you
 * implement; the others default to weak functions returning -ENOSYS. To require every
 * handler instead, compile the source with -D{{noDefaults}}.
 * Values are decoded with the guest ABI's sizes into fixed-width types, so the code is the
 * same on any host; pointer arguments arrive as guest addresses, to be translated and
 * copied, never dereferenced.
 */

/* The hypervisor's per-call context, defined by the user of this header. */
${CTX_TYPE};

/* A guest address (a pointer or guest handle argument), zero-extended from its register. */
typedef uint64_t ${GADDR_TYPE};

/* One past the largest hypercall number of spec '{{name}}': the length of every argument-count table. */
#define {{nrMacro}} {{nr}}
/* The argument-count entry of a number an ABI does not have. */
#define {{absentMacro}} (-1)
{{#each abis}}

/* ═════════════════════════════ {{abi.name}} ═════════════════════════════ */
/* {{abiDoc}} */

/* The registers of a hypercall under {{abi.name}}: {{convDoc}} */
{{regsStruct}} {
{{#each regs}}
    {{../regType}} {{name}}; /* {{roles}} */
{{/each}}
};

/* The result of a number or command {{abi.name}} does not have: -{{enosysConstant}}. */
#define {{enosysMacro}} {{enosysLiteral}}

/* Argument count per hypercall number under {{abi.name}}; {{../absentMacro}} where it has none. */
extern const int8_t {{nargsTable}}[{{../nrMacro}}];

/* Dispatches the hypercall in *regs: returns the value for {{resultReg}}. Numbers {{abi.name}} lacks return {{enosysMacro}}. */
{{resultType}} {{dispatch}}(${CTX_TYPE} *ctx, const {{regsStruct}} *regs);
{{#each subdispatches}}

/* {{{comment}}} */
{{ret}} {{name}}({{{params}}});
{{/each}}

/* Handlers under {{abi.name}}. */
{{#each handlers}}

/* {{{comment}}} */
{{ret}} {{name}}({{{params}}});
{{/each}}
{{/each}}

#endif /* {{guard}} */
`,
  { noEscape: true },
);

const sourceTemplate = Handlebars.compile(
  `${banner}
#include "{{header}}"

#ifndef {{noDefaults}}
#define HYPERABI_DEFAULT_HANDLER __attribute__((__weak__))
#endif
{{#each abis}}

/* ═════════════════════════════ {{abi.name}} ═════════════════════════════ */

const int8_t {{nargsTable}}[{{../nrMacro}}] = {
{{#each nargs}}
    {{this}},
{{/each}}
};

{{resultType}} {{dispatch}}(${CTX_TYPE} *ctx, const {{regsStruct}} *regs)
{
    switch (regs->{{numberReg}}) {
{{#each cases}}
    case {{number}}: /* {{id}} */
        return {{call}};
{{/each}}
    default:
        return {{enosysMacro}};
    }
}
{{#each subdispatches}}

/* {{{comment}}} */
{{ret}} {{name}}({{{params}}})
{
    switch ({{switchOn}}) {
{{#each cases}}
    case {{value}}: /* {{id}} */
        return {{handler}}({{args}});
{{/each}}
    default: /* {{{unknownComment}}} */
        return {{unknownResult}};
    }
}
{{/each}}

#ifndef {{../noDefaults}}
/* Default handlers: weak, returning -ENOSYS until the hypervisor defines its own. */
{{#each handlers}}

/* {{{comment}}} */
HYPERABI_DEFAULT_HANDLER {{ret}} {{name}}({{{params}}})
{
    {{unused}}
    return {{../enosysMacro}};
}
{{/each}}
#endif /* {{../noDefaults}} */
{{/each}}
`,
  { noEscape: true },
);

/** The dispatch header and source of a spec, for every ABI of the model. */
export function cDispatch(model: GenModel): GeneratedFile[] {
  const spec = model.spec;
  const paths = dispatchPaths(model);
  const P = prefix(spec).toUpperCase();
  const plans = model.abis.map((abi) => abiPlan(model, abi));
  const abis = plans.map((p) => ({
    abi: p.abi,
    abiDoc: commentText(p.abi.doc),
    convDoc: commentText(p.abi.convention.doc),
    regsStruct: p.regsStruct,
    regType: p.regType,
    regs: p.regs.map((r) => ({ name: r.name, roles: r.roles.join(', ') })),
    enosysMacro: p.enosysMacro,
    enosysLiteral: bigLiteral(p.enosys.value),
    enosysConstant: `${spec.errorSpaces.find((s) => s.via === 'return')?.prefix ?? ''}${p.enosys.constant}`,
    nargsTable: p.nargsTable,
    nargs: p.nargs,
    resultType: p.resultType.ctype,
    resultReg: p.abi.convention.result,
    numberReg: p.abi.convention.number,
    dispatch: p.dispatch,
    cases: dispatchCases(p),
    subdispatches: subdispatchViews(p),
    handlers: handlerViews(p),
  }));
  const common = {
    title: spec.title,
    version: spec.version,
    name: spec.name,
    abiList: plans.map((p) => p.abi.name).join(', '),
    nrMacro: `${P}_NR_HYPERCALLS`,
    nr: hypercallCount(spec),
    absentMacro: `${P}_NARGS_ABSENT`,
    noDefaults: `${P}_${NO_DEFAULTS_MACRO_SUFFIX}`,
    abis,
  };
  const header = headerTemplate({
    ...common,
    file: paths.header,
    what: 'hypervisor-side dispatch: register files, dispatch functions, argument counts and handler prototypes per ABI.',
    guard: `${P}_DISPATCH_H`,
  });
  const source = sourceTemplate({
    ...common,
    file: paths.source,
    what: 'hypervisor-side dispatch: argument-count tables, dispatch functions and weak default handlers per ABI.',
    header: paths.header,
  });
  return [
    { path: paths.header, content: header },
    { path: paths.source, content: source },
  ];
}
