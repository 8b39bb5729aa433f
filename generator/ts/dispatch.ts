/**
 * The dispatch side: a typed handler interface per spec (one optional method per hypercall
 * and per operation, named by the operation id, with decoded arguments) and, per ABI, a
 * dispatcher that reads the spec's number and argument registers, checks the call and the
 * operation exist for the ABI, selects the operation (selector and mask), hands typed
 * references into guest memory to the handler (decoded through the ABI's codecs only when
 * the handler reads them), and returns its result; anything unknown, unavailable or not
 * implemented gives -ENOSYS, an unreadable guest address -EFAULT.
 */
import { StructureKind, VariableDeclarationKind, type ParameterDeclarationStructure } from 'ts-morph';
import type { Abi, Arch, Field, Operation, TypeRef } from '../../spec/index.js';
import type { GeneratedFile } from '../files.js';
import { archOf, errnoValue, regsInterface } from './abi.js';
import { batchSelector, callModels, modelOps, opOnAbi, paramName, type AbiPlan, type CallModel, type LogicalArg, type Slot } from './calls.js';
import { codecNames, scalarOf, specPrefix } from './codecs.js';
import { docText, ident, importFrom, type Statement, type TsPrinter } from './emit.js';
import { isSigned, TsEmitError, tsTypeText, type TsModel } from './shapes.js';

const MODULE = 'generator/ts/dispatch.ts';

/** The handler interface name: `XenHandler`. */
export const handlerInterface = (ts: TsModel): string => `${specPrefix(ts)}Handler`;
/** The dispatcher of an ABI: `dispatch_x86_64_pv`. */
export const dispatcherName = (abi: Abi): string => `dispatch_${ident(abi.name)}`;

/** A handler parameter: its name, TS type, and how a dispatcher computes it from the decoded locals. */
interface Param {
  name: string;
  type: string;
  /** Expression over the locals `_<arg>` and `mem`, for an arch. */
  value: (arch: Arch) => string;
  /** Type and codec imports it needs. */
  types: string[];
  codecs: (arch: Arch) => string[];
  runtime: string[];
}

/** The TS value type of a pointee (declared type or scalar). */
function pointeeType(ts: TsModel, cName: string): string {
  return ts.types.has(cName) ? ts.nameOf(cName) : tsTypeText(ts, ts.scalarShape(cName, cName));
}

function codecFor(ts: TsModel, cName: string, arch: Arch, item: string): string {
  if (ts.types.has(cName)) {
    if (!ts.typeOf(cName).arches[arch.name]) throw new TsEmitError(item, `${cName} is not defined on ${arch.name}`);
  } else if (!arch.scalars[cName]) throw new TsEmitError(item, `scalar ${cName} has no layout on ${arch.name}`);
  return codecNames(ts.nameOf(cName), arch.name).codec;
}

const local = (a: LogicalArg): string => `_${a.arg.name}`;

/** The parameter of a logical argument: a number, a bigint, or a typed reference into guest memory. */
function argParam(ts: TsModel, a: LogicalArg, all: readonly LogicalArg[], item: string, as?: { name: string; pointee: string; single?: boolean }): Param {
  const name = paramName(as?.name ?? a.arg.name);
  const pointee = as?.pointee ?? a.pointee;
  if (a.kind !== 'addr' || !pointee) {
    return { name, type: a.kind === 'num' ? 'number' : 'bigint', value: () => local(a), types: [], codecs: () => [], runtime: [] };
  }
  const t = pointeeType(ts, pointee);
  const count = a.arg.count && !as?.single ? all.find((x) => x.arg.name === a.arg.count) : undefined;
  if (count) {
    const n = count.kind === 'num' ? local(count) : `Number(${local(count)})`;
    return {
      name,
      type: `GuestArrayRef<${t}>`,
      value: (arch) => `new GuestArrayRef(mem, ${local(a)}, ${n}, ${codecFor(ts, pointee, arch, item)})`,
      types: ts.types.has(pointee) ? [t] : [],
      codecs: (arch) => [codecFor(ts, pointee, arch, item)],
      runtime: ['GuestArrayRef'],
    };
  }
  return {
    name,
    type: `GuestRef<${t}>`,
    value: (arch) => `new GuestRef(mem, ${local(a)}, ${codecFor(ts, pointee, arch, item)})`,
    types: ts.types.has(pointee) ? [t] : [],
    codecs: (arch) => [codecFor(ts, pointee, arch, item)],
    runtime: ['GuestRef'],
  };
}

/** The typed reference to an operation's argument struct (one, or `count` of them). */
function opArgParam(ts: TsModel, cm: CallModel, op: Operation, argument: LogicalArg, all: readonly LogicalArg[], elementOnly: boolean): Param {
  const item = `${cm.h.name}$${op.name}`;
  const ref = op.arg as TypeRef;
  if (ref.kind !== 'name') throw new TsEmitError(item, `an operation argument of kind ${ref.kind} is not supported`);
  return argParam(ts, argument, all, item, { name: elementOnly ? 'element' : 'arg', pointee: ref.name, single: elementOnly });
}

/** The methods of the handler interface (name, parameter lists) for one hypercall. */
interface Method {
  name: string;
  doc: string;
  /** One list, or several (an ABI passing its own arguments). */
  variants: Param[][];
}

function hypercallMethod(ts: TsModel, cm: CallModel): Method {
  const variants: Param[][] = [cm.args.map((a) => argParam(ts, a, cm.args, cm.h.name))];
  for (const p of new Set([...cm.plans.values()].filter((x): x is AbiPlan & { kind: 'own' } => x.kind === 'own'))) {
    variants.push(p.args.map((a) => argParam(ts, a, p.args, cm.h.name)));
  }
  return { name: cm.h.name, doc: `${cm.h.name} (hypercall ${cm.h.number}): ${cm.h.doc}`, variants };
}

/** Parameters of an operation's method, and the argument it replaces. */
function opParams(ts: TsModel, cm: CallModel, op: Operation): Param[] {
  const sub = cm.h.subops;
  if (!sub) throw new TsEmitError(cm.h.name, 'not multiplexed');
  const batch = batchSelector(cm.h);
  if (batch) {
    const array = cm.args.find((a) => a.arg.name === batch.array);
    if (!array) throw new TsEmitError(cm.h.name, `selector names unknown argument '${batch.array}'`);
    const others = cm.args.filter((a) => a !== array && a.arg.name !== array.arg.count);
    return [opArgParam(ts, cm, op, array, cm.args, true), ...others.map((a) => argParam(ts, a, cm.args, cm.h.name))];
  }
  const argument = sub.argument ? cm.args.find((a) => a.arg.name === sub.argument) : undefined;
  const out: Param[] = [];
  for (const a of cm.args) {
    if (a.arg.name === sub.selector) continue;
    if (argument && argument.arg.count && a.arg.name === argument.arg.count) continue;
    if (a === argument) {
      if (op.arg) out.push(opArgParam(ts, cm, op, argument, cm.args, false));
      continue;
    }
    out.push(argParam(ts, a, cm.args, cm.h.name));
  }
  return out;
}

/** The parameters of a handler method: the context, then one list, or a rest parameter over the lists of every ABI. */
function methodParams(variants: Param[][], C: string): ParameterDeclarationStructure[] {
  const ctx: ParameterDeclarationStructure = { kind: StructureKind.Parameter, name: 'ctx', type: C };
  if (variants.length === 1) return [ctx, ...(variants[0] as Param[]).map((p) => ({ kind: StructureKind.Parameter as const, name: p.name, type: p.type }))];
  const tuples = variants.map((ps) => `[${ps.map((p) => `${p.name}: ${p.type}`).join(', ')}]`).join(' | ');
  return [ctx, { kind: StructureKind.Parameter, name: 'args', isRestParameter: true, type: tuples }];
}

/** The handler interface file. */
function handlerFile(ts: TsModel, printer: TsPrinter, cms: CallModel[]): GeneratedFile {
  const types = new Set<string>();
  const runtime = new Set<string>(['HypercallResult']);
  const members: { name: string; docs: string[]; params: ParameterDeclarationStructure[] }[] = [];
  const note = (ps: Param[]) => {
    for (const p of ps) {
      for (const t of p.types) types.add(t);
      for (const r of p.runtime) runtime.add(r);
    }
  };
  for (const cm of cms) {
    const m = hypercallMethod(ts, cm);
    m.variants.forEach(note);
    const role = cm.h.subops
      ? batchSelector(cm.h)
        ? 'Handles the whole batch when present; otherwise the dispatcher calls the operation methods element by element, stopping at the first nonzero result.'
        : 'Called for an operation of this ABI whose own method is absent.'
      : '';
    members.push({ name: m.name, docs: [docText(`${m.doc}${role ? `\n${role}` : ''}\n@see spec item ${cm.h.name}`)], params: methodParams(m.variants, 'C') });
    for (const op of modelOps(ts, cm)) {
      const ps = opParams(ts, cm, op);
      note(ps);
      const id = `${cm.h.name}$${op.name}`;
      members.push({ name: id, docs: [docText(`${id} (${op.value}): ${op.doc}\n@see spec item ${id}`)], params: methodParams([ps], 'C') });
    }
  }
  const statements: Statement[] = [
    importFrom('./runtime.js', [...runtime], true),
    ...(types.size > 0 ? [importFrom('./types.js', [...types], true)] : []),
    {
      kind: StructureKind.Interface,
      isExported: true,
      name: handlerInterface(ts),
      typeParameters: ['C = unknown'],
      docs: [
        docText(
          `What a hypervisor implements for spec '${ts.model.spec.name}': one optional method per hypercall and per operation ` +
            '(named by its id), with arguments decoded for the caller’s ABI; `ctx` is whatever the caller of the dispatcher passes. ' +
            'A missing method makes the call return -ENOSYS.',
        ),
      ],
      methods: members.map((m) => ({ name: m.name, hasQuestionToken: true, docs: m.docs, parameters: m.params, returnType: 'HypercallResult' })),
    },
  ];
  return printer.file('handler.ts', MODULE, 'The typed handler interface of the dispatch side.', statements);
}

/** The expression of a logical argument from its slot's registers. */
function slotValue(a: LogicalArg, s: Slot): string {
  const reg = (r: string) => `regs.${r}`;
  let big: string;
  if (s.regs.length === 2) {
    const [lo, hi] = s.regs as [string, string];
    const joined = `(BigInt.asUintN(32, ${reg(hi)}) << 32n) | BigInt.asUintN(32, ${reg(lo)})`;
    big = s.signed ? `BigInt.asIntN(64, ${joined})` : joined;
  } else {
    big = `BigInt.as${s.signed ? 'Int' : 'Uint'}N(${s.size * 8}, ${reg(s.regs[0] as string)})`;
  }
  return a.kind === 'num' ? `Number(${big})` : big;
}

/** Reads a top-level field of a struct at `o` in `mem.view` (for batched selectors). */
function readField(ts: TsModel, cName: string, field: string, arch: Arch, item: string): { expr: string; big: boolean } {
  const gt = ts.typeOf(cName);
  const at = gt.arches[arch.name];
  if (!at) throw new TsEmitError(item, `${cName} is not defined on ${arch.name}`);
  const f = (at.body.fields ?? []).find((x: Field) => x.name === field);
  const fl = at.layout.fields[field];
  if (!f || !fl) throw new TsEmitError(item, `selector field '${field}' is not a member of ${cName}`);
  const s = scalarOf(ts, f.type, arch);
  if (!s) throw new TsEmitError(item, `selector field '${field}' is not a scalar`);
  const size = arch.scalars[s]?.size ?? 0;
  const sg = isSigned(s) ? 'Int' : 'Uint';
  const le = size > 1 ? `, ${arch.endianness === 'little'}` : '';
  const off = fl.offset === 0 ? 'o' : `o + ${fl.offset}`;
  if (size === 8) return { expr: `mem.view.getBig${sg}64(${off}${le})`, big: true };
  return { expr: `mem.view.get${sg}${size * 8}(${off}${le})`, big: false };
}

/** One ABI's dispatcher file. */
function dispatchFile(ts: TsModel, printer: TsPrinter, cms: CallModel[], abi: Abi): GeneratedFile {
  const arch = archOf(ts.model, abi);
  const H = handlerInterface(ts);
  const R = regsInterface(abi);
  const runtime = new Set<string>(['GuestFault']);
  const runtimeTypes = new Set<string>(['GuestMemory', 'HypercallResult']);
  const codecs = new Set<string>();
  const use = (ps: Param[]) => {
    for (const p of ps) {
      for (const r of p.runtime) runtime.add(r);
      for (const c of p.codecs(arch)) codecs.add(c);
    }
  };
  const args = (ps: Param[]) => ps.map((p) => p.value(arch)).join(', ');
  const helpers: Statement[] = [];
  const cases: string[] = [];
  for (const cm of cms) {
    const plan = cm.plans.get(abi.name);
    if (!plan) continue;
    const h = cm.h;
    const fnName = `hc_${h.name}`;
    const logical = plan.kind === 'own' ? plan.args : cm.args;
    const lines: string[] = logical.map((a, i) => {
      const slot = plan.slots.find((s) => s.index === i) as Slot;
      return `const ${local(a)} = ${slotValue(a, slot)};`;
    });
    const hcParams = logical.map((a) => argParam(ts, a, logical, h.name));
    use(hcParams);
    const whole = `h.${h.name}?.(ctx${hcParams.length ? `, ${args(hcParams)}` : ''})`;
    const sub = h.subops;
    if (!sub) {
      lines.push(`return ${whole} ?? ENOSYS;`);
    } else {
      const batch = batchSelector(h);
      const ops = modelOps(ts, cm).filter((op) => opOnAbi(op, abi, arch) && (!op.arg || op.arg.kind !== 'name' || !ts.types.has(op.arg.name) || ts.typeOf(op.arg.name).arches[arch.name]));
      const seen = new Map<number, string>();
      for (const op of ops) {
        const prev = seen.get(op.value);
        if (prev) throw new TsEmitError(`${h.name}$${op.name}`, `has the value ${op.value} of ${prev} on ${abi.name}`);
        seen.set(op.value, op.name);
      }
      const mask = sub.mask;
      if (batch) {
        const array = cm.args.find((a) => a.arg.name === batch.array) as LogicalArg;
        const count = cm.args.find((a) => a.arg.name === array.arg.count);
        if (!array.pointee || !count) throw new TsEmitError(h.name, `batched argument '${batch.array}' needs a typed pointer and a count`);
        const elem = codecFor(ts, array.pointee, arch, h.name);
        codecs.add(elem);
        const sel = readField(ts, array.pointee, batch.field, arch, h.name);
        const selExpr = mask === undefined ? sel.expr : sel.big ? `${sel.expr} & ${mask}n` : `${sel.expr} & ${mask}`;
        const n = count.kind === 'num' ? local(count) : `Number(${local(count)})`;
        lines.push(
          `if (h.${h.name} !== undefined) return ${whole} ?? ENOSYS;`,
          `for (let i = 0; i < ${n}; i++) {`,
          `  const at = ${local(array)} + BigInt(i * ${elem}.size);`,
          `  const o = mem.locate(at, ${elem}.size);`,
          `  if (o < 0) throw new GuestFault(at, ${elem}.size);`,
          `  let r: HypercallResult | undefined;`,
          `  switch (${sel.big ? `Number(${selExpr})` : selExpr}) {`,
        );
        for (const op of ops) {
          const ps = opParams(ts, cm, op);
          use(ps);
          const rest = ps.slice(1).map((p) => p.value(arch));
          const opCodec = codecFor(ts, (op.arg as { name: string }).name, arch, `${h.name}$${op.name}`);
          codecs.add(opCodec);
          lines.push(`    case ${op.value}:`, `      r = h.${h.name}$${op.name}?.(ctx, ${[`new GuestRef(mem, at, ${opCodec})`, ...rest].join(', ')});`, '      break;');
          runtime.add('GuestRef');
        }
        lines.push('    default:', '      return ENOSYS;', '  }', '  if (r === undefined) return ENOSYS;', '  if (r !== 0 && r !== 0n) return r;', '}', 'return 0;');
      } else {
        const selector = logical.find((a) => a.arg.name === sub.selector);
        if (!selector) throw new TsEmitError(h.name, `selector '${sub.selector}' is not an argument`);
        const s = local(selector);
        const sel = selector.kind === 'num' ? (mask === undefined ? s : `${s} & ${mask}`) : `Number(${mask === undefined ? s : `${s} & ${mask}n`})`;
        lines.push(`switch (${sel}) {`);
        for (const op of ops) {
          const ps = opParams(ts, cm, op);
          use(ps);
          lines.push(`  case ${op.value}:`, `    return h.${h.name}$${op.name}?.(ctx${ps.length ? `, ${args(ps)}` : ''}) ?? ${whole} ?? ENOSYS;`);
        }
        // An unknown command goes to the hypercall-level method when there is one, so an
        // implementation can give the error Xen gives (vcpu_op checks the vCPU first, Arm
        // answers -EINVAL); without one, -ENOSYS.
        lines.push('  default:', `    return ${whole} ?? ENOSYS;`, '}');
      }
    }
    helpers.push({
      kind: StructureKind.Function,
      name: fnName,
      typeParameters: ['C'],
      docs: [docText(`${h.name} (${h.number}) on ${abi.name}.`)],
      parameters: [
        { name: 'h', type: `${H}<C>` },
        { name: 'ctx', type: 'C' },
        { name: lines.some((l) => l.includes('regs.')) ? 'regs' : '_regs', type: `Readonly<${R}>` },
        { name: lines.some((l) => /\bmem\b/.test(l)) ? 'mem' : '_mem', type: 'GuestMemory' },
      ],
      returnType: 'HypercallResult',
      statements: lines.join('\n'),
    });
    cases.push(`case ${h.number}:`, `  return ${fnName}(h, ctx, regs, mem);`);
  }
  const numberReg = abi.convention.number;
  const main: Statement = {
    kind: StructureKind.Function,
    isExported: true,
    name: dispatcherName(abi),
    typeParameters: ['C'],
    docs: [
      docText(
        `Dispatches a hypercall made under ${abi.name}: the number in ${numberReg}, arguments in ${abi.convention.args.join(', ')}; ` +
          `returns what goes into ${abi.convention.result} (-ENOSYS for a number ${abi.name} does not have, -EFAULT for an unreadable argument).`,
      ),
    ],
    parameters: [
      { name: 'h', type: `${H}<C>` },
      { name: 'ctx', type: 'C' },
      { name: 'regs', type: `Readonly<${R}>` },
      { name: 'mem', type: 'GuestMemory' },
    ],
    returnType: 'HypercallResult',
    statements: ['try {', `  switch (Number(regs.${numberReg})) {`, ...cases.map((c) => `    ${c}`), '    default:', '      return ENOSYS;', '  }', '} catch (e) {', '  if (e instanceof GuestFault) return EFAULT;', '  throw e;', '}'].join('\n'),
  };
  const consts: Statement[] = (['ENOSYS', 'EFAULT'] as const).map((code) => ({
    kind: StructureKind.VariableStatement,
    declarationKind: VariableDeclarationKind.Const,
    docs: [`-${code} on ${arch.name} (spec errno ${ts.model.spec.errorSpaces.find((s) => s.via === 'return')?.prefix ?? ''}${code}).`],
    declarations: [{ name: code, initializer: String(errnoValue(ts.model, code, arch)) }],
  }));
  const statements: Statement[] = [
    importFrom('../runtime.js', [...runtimeTypes], true),
    importFrom('../runtime.js', [...runtime]),
    importFrom('../abi.js', [R], true),
    importFrom('../handler.js', [H], true),
    ...(codecs.size > 0 ? [importFrom(`../codecs/${arch.name}.js`, [...codecs])] : []),
    ...consts,
    ...helpers,
    main,
  ];
  return printer.file(`dispatch/${abi.name}.ts`, MODULE, `The hypercall dispatcher of ${abi.name}.`, statements);
}

/** The dispatcher index: every ABI's dispatcher by name. */
function indexFile(ts: TsModel, printer: TsPrinter): GeneratedFile {
  const statements: Statement[] = [
    ...ts.model.abis.map((abi) => importFrom(`./dispatch/${abi.name}.js`, [dispatcherName(abi)])),
    { kind: StructureKind.ExportDeclaration, namedExports: ts.model.abis.map((abi) => dispatcherName(abi)) },
    {
      kind: StructureKind.VariableStatement,
      isExported: true,
      declarationKind: VariableDeclarationKind.Const,
      docs: ['Every dispatcher by ABI name.'],
      declarations: [{ name: 'dispatchers', initializer: `{\n${ts.model.abis.map((a) => `  ${JSON.stringify(a.name)}: ${dispatcherName(a)},`).join('\n')}\n} as const` }],
    },
  ];
  return printer.file('dispatch.ts', MODULE, 'The dispatchers of every ABI.', statements);
}

/** The dispatch-side files. */
export function dispatchFiles(ts: TsModel, printer: TsPrinter): GeneratedFile[] {
  const cms = callModels(ts);
  return [handlerFile(ts, printer, cms), indexFile(ts, printer), ...ts.model.abis.map((abi) => dispatchFile(ts, printer, cms, abi))];
}
