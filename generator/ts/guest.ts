/**
 * Guest stubs: a class per spec (`XenGuest`) over a `HypercallTransport`. One method per
 * hypercall puts the number and the arguments in the registers the spec names for the
 * transport's ABI (a 64-bit value split lo-hi where the ABI does) and returns the signed
 * result; one method per operation takes the typed struct, marshals it into guest memory
 * with the codec of the ABI's arch (at the given address, or one the transport allocates),
 * makes the call and decodes the struct back when the operation writes it.
 */
import { Scope, StructureKind, type MethodDeclarationStructure, type OptionalKind, type ParameterDeclarationStructure } from 'ts-morph';
import type { Abi, Operation, TypeRef } from '../../spec/index.js';
import type { GeneratedFile } from '../files.js';
import { batchSelector, callModels, modelOps, paramName, rawType, type AbiPlan, type CallModel, type LogicalArg } from './calls.js';
import { codecsInterface, specPrefix } from './codecs.js';
import { archOf } from './abi.js';
import { docText, importFrom, type Statement, type TsPrinter } from './emit.js';
import { TsEmitError, tsTypeText, type TsModel } from './shapes.js';

const MODULE = 'generator/ts/guest.ts';

/** The guest class name: `XenGuest`. */
export const guestClass = (ts: TsModel): string => `${specPrefix(ts)}Guest`;

type Params = OptionalKind<ParameterDeclarationStructure>[];

/** The register values of one ABI plan, as expressions over the parameter names (or `args[i]`). */
function registerValues(plan: AbiPlan, names: string[], wordBits: number): string[] {
  const out: string[] = [];
  for (const s of plan.slots) {
    const v = names[s.index] as string;
    if (s.regs.length === 2) out.push(`toRegister(${v}, 32)`, `toRegister(BigInt(${v}) >> 32n, 32)`);
    else out.push(`toRegister(${v}, ${wordBits})`);
  }
  return out;
}

function rawMethod(ts: TsModel, cm: CallModel): MethodDeclarationStructure {
  const h = cm.h;
  const own = [...new Map([...cm.guestPlans].filter(([, p]) => p.kind === 'own').map(([abi, p]) => [JSON.stringify((p as { args: LogicalArg[] }).args.map((a) => a.arg.name)), { abi, p }])).values()];
  const native = cm.args.map((a) => paramName(a.arg.name));
  const groups = new Map<string, string[]>();
  for (const abi of ts.model.abis) {
    const plan = cm.guestPlans.get(abi.name) as AbiPlan;
    const bits = archOf(ts.model, abi).wordSize * 8;
    let body: string;
    if (own.length === 0) body = `return this.trap(${h.number}, [${registerValues(plan, native, bits).join(', ')}]);`;
    else {
      const list = plan.kind === 'own' ? plan.args : cm.args;
      const names = list.map((_, i) => `args[${i}] as number | bigint`);
      body = [
        `if (args.length !== ${list.length}) throw new TypeError(${JSON.stringify(`${h.name} on `)} + this.abi + ${JSON.stringify(` takes (${list.map((a) => a.arg.name).join(', ')})`)});`,
        `return this.trap(${h.number}, [${registerValues(plan, names, bits).join(', ')}]);`,
      ].join('\n');
    }
    groups.set(body, [...(groups.get(body) ?? []), abi.name]);
  }
  const lines: string[] = ['switch (this.abi) {'];
  for (const [body, abis] of groups) {
    lines.push(...abis.map((a) => `  case ${JSON.stringify(a)}:`), `  {`, ...body.split('\n').map((l) => `    ${l}`), '  }');
  }
  lines.push('}');
  const parameters: Params =
    own.length === 0
      ? cm.args.map((a) => ({ name: paramName(a.arg.name), type: rawType(a) }))
      : [{ name: 'args', isRestParameter: true, type: [cm.args, ...own.map((o) => (o.p as { args: LogicalArg[] }).args)].map((l) => `[${l.map((a) => `${paramName(a.arg.name)}: ${rawType(a)}`).join(', ')}]`).join(' | ') }];
  const abis = Object.keys(h.abis).filter((a) => ts.model.abis.some((x) => x.name === a));
  return {
    kind: StructureKind.Method,
    name: h.name,
    docs: [docText(`${h.name} (hypercall ${h.number}): ${h.doc}\nABIs: ${abis.join(', ') || 'none'}. Returns the signed result.\n@see spec item ${h.name}`)],
    parameters,
    returnType: 'bigint',
    statements: lines.join('\n'),
  };
}

/** The TS value type of an operation argument, and its codec key. */
function opArgType(ts: TsModel, op: Operation, item: string): { type: string; key: string; named: boolean } {
  const ref = op.arg as TypeRef;
  if (ref.kind !== 'name') throw new TsEmitError(item, `an operation argument of kind ${ref.kind} is not supported`);
  if (ts.types.has(ref.name)) return { type: ts.nameOf(ref.name), key: ts.nameOf(ref.name), named: true };
  return { type: tsTypeText(ts, ts.scalarShape(ref.name, item)), key: ts.nameOf(ref.name), named: false };
}

function opMethod(ts: TsModel, cm: CallModel, op: Operation, types: Set<string>): MethodDeclarationStructure {
  const h = cm.h;
  const sub = h.subops as NonNullable<typeof h.subops>;
  const id = `${h.name}$${op.name}`;
  const batch = batchSelector(h);
  const argName = batch ? batch.array : sub.argument;
  const argument = argName ? cm.args.find((a) => a.arg.name === argName) : undefined;
  if (argName && !argument) throw new TsEmitError(id, `argument '${argName}' is not an argument of ${h.name}`);
  const countArg = argument?.arg.count ? cm.args.find((a) => a.arg.name === argument.arg.count) : undefined;
  const selector = batch ? undefined : cm.args.find((a) => a.arg.name === sub.selector);
  if (!batch && !selector) throw new TsEmitError(id, `selector '${sub.selector}' is not an argument`);
  const hasArg = op.arg !== undefined && op.arg !== null && argument !== undefined;
  const t = hasArg ? opArgType(ts, op, id) : undefined;
  if (t?.named) types.add(t.type);
  const many = batch !== undefined || countArg !== undefined;
  const params: Params = [];
  const callArgs: string[] = [];
  const lines: string[] = [];
  for (const a of cm.args) {
    if (a === selector) {
      callArgs.push(a.kind === 'num' ? String(op.value) : `${op.value}n`);
    } else if (a === argument) {
      callArgs.push(hasArg ? 'addr' : '0n');
    } else if (a === countArg && hasArg) {
      callArgs.push(a.kind === 'num' ? 'values.length' : 'BigInt(values.length)');
    } else {
      params.push({ name: paramName(a.arg.name), type: rawType(a) });
      callArgs.push(paramName(a.arg.name));
    }
  }
  const call = `this.${h.name}(${callArgs.join(', ')})`;
  if (!t) {
    return {
      kind: StructureKind.Method,
      name: id,
      docs: [docText(`${id} (${op.value}): ${op.doc}\n@see spec item ${id}`)],
      parameters: params,
      returnType: 'bigint',
      statements: `return ${call};`,
    };
  }
  const valueType = many ? `${t.type}[]` : t.type;
  params.push({ name: 'arg', type: valueType }, { name: 'at', type: 'bigint', hasQuestionToken: true });
  lines.push(`const codec = this.codecs.${t.key};`);
  if (batch) {
    const el = ts.resolved(ts.shapes.get(ts.typeOf((op.arg as { name: string }).name).def.name) ?? { k: 'num' });
    const field = el.k === 'object' ? el.fields.find((f) => f.name === batch.field) : undefined;
    const fk = field ? ts.resolved(field.shape).k : undefined;
    if (!field || (fk !== 'num' && fk !== 'big') || field.optional) throw new TsEmitError(id, `selector field '${batch.field}' is not a required integer member`);
    const f = batch.field;
    const v = fk === 'big' ? `${op.value}n` : String(op.value);
    const m = sub.mask;
    const set = m === undefined ? v : fk === 'big' ? `(e.${f} & ~${m}n) | ${v}` : `((e.${f} & ~${m}) | ${v}) >>> 0`;
    lines.push(`const values = arg.map((e) => ({ ...e, ${f}: ${set} }));`);
  } else lines.push(`const values = ${many ? 'arg' : '[arg]'};`);
  lines.push('const addr = this.place(codec, values, at);', `const result = ${call};`);
  const writes = op.argDir === 'out' || op.argDir === 'inout';
  const back = writes ? `this.fetch(codec, addr, values.length)` : 'values';
  lines.push(many ? `return { result, arg: ${back} };` : `return { result, arg: ${back}[0] as ${t.type} };`);
  return {
    kind: StructureKind.Method,
    name: id,
    docs: [
      docText(
        `${id} (${op.value}): ${op.doc}\nMarshals \`arg\` at \`at\` (or memory the transport allocates)${writes ? ' and decodes it back after the call' : ''}.\n@see spec item ${id}`,
      ),
    ],
    parameters: params,
    returnType: `${specPrefix(ts)}Call<${valueType}>`,
    statements: lines.join('\n'),
  };
}

/** The guest stub file. */
export function guestFile(ts: TsModel, printer: TsPrinter): GeneratedFile {
  const P = specPrefix(ts);
  const cms = callModels(ts);
  const types = new Set<string>();
  const methods: MethodDeclarationStructure[] = [];
  for (const cm of cms) {
    methods.push(rawMethod(ts, cm));
    for (const op of modelOps(ts, cm)) methods.push(opMethod(ts, cm, op, types));
  }
  const C = codecsInterface(ts);
  const ABIS = `${P.toUpperCase()}_ABIS`;
  const names = ts.model.abis.map((a: Abi) => a.name);
  const statements: Statement[] = [
    importFrom('./runtime.js', ['Codec', 'HypercallTransport', 'Registers'], true),
    importFrom('./runtime.js', ['toRegister']),
    importFrom('./abi.js', [`${P}AbiInfo`, `${P}AbiName`], true),
    importFrom('./abi.js', [ABIS]),
    importFrom('./codecs.js', [C], true),
    importFrom('./codecs.js', ['codecsByArch']),
    ...(types.size > 0 ? [importFrom('./types.js', [...types], true)] : []),
    {
      kind: StructureKind.Interface,
      isExported: true,
      name: `${P}Call`,
      typeParameters: ['T'],
      docs: ['The result of an operation stub: the signed hypercall result and the argument as the hypervisor left it.'],
      properties: [
        { name: 'result', type: 'bigint' },
        { name: 'arg', type: 'T' },
      ],
    },
    {
      kind: StructureKind.Class,
      isExported: true,
      name: guestClass(ts),
      docs: [docText(`Typed hypercall stubs of spec '${ts.model.spec.name}' ${ts.model.spec.version} over a transport, for any of its ABIs (${names.join(', ')}).`)],
      properties: [
        { name: 'abi', isReadonly: true, type: `${P}AbiName`, docs: ['The transport’s ABI.'] },
        { name: 'info', isReadonly: true, type: `${P}AbiInfo`, docs: ['Its register convention.'] },
        { name: 'codecs', isReadonly: true, type: C, docs: ['The codecs of its arch.'] },
      ],
      ctors: [
        {
          parameters: [{ name: 'transport', type: 'HypercallTransport', isReadonly: true, scope: Scope.Public }],
          statements: [
            `if (!Object.hasOwn(${ABIS}, transport.abi)) {`,
            `  throw new TypeError(\`unknown ABI '\${transport.abi}' for spec ${ts.model.spec.name}; use one of: ${names.join(', ')}\`);`,
            '}',
            `this.abi = transport.abi as ${P}AbiName;`,
            `this.info = ${ABIS}[this.abi];`,
            `this.codecs = codecsByArch[this.info.arch];`,
          ].join('\n'),
        },
      ],
      methods: [
        {
          name: 'trap',
          docs: ['Makes hypercall `nr` with argument register values in order; returns the signed result.'],
          parameters: [{ name: 'nr', type: 'number' }, { name: 'args', type: 'readonly bigint[]' }],
          returnType: 'bigint',
          statements: [
            'const regs: Registers = { [this.info.number]: BigInt(nr) };',
            'args.forEach((v, i) => {',
            '  const r = this.info.args[i];',
            '  if (r === undefined) throw new TypeError(`${this.abi} has ${this.info.args.length} argument registers, not ${args.length}`);',
            '  regs[r] = v;',
            '});',
            'return BigInt.asIntN(this.info.wordBits, this.transport.hypercall(regs));',
          ].join('\n'),
        },
        {
          name: 'place',
          scope: Scope.Private,
          typeParameters: ['T'],
          parameters: [{ name: 'codec', type: 'Codec<T>' }, { name: 'values', type: 'readonly T[]' }, { name: 'at', type: 'bigint | undefined' }],
          returnType: 'bigint',
          statements: [
            'const size = codec.size * values.length;',
            'const addr = at ?? this.transport.alloc?.(size, codec.align);',
            'if (addr === undefined) throw new TypeError(`no address for ${codec.type}: pass one, or use a transport that allocates`);',
            'const bytes = new Uint8Array(size);',
            'const view = new DataView(bytes.buffer);',
            'values.forEach((v, i) => codec.encode(view, i * codec.size, v));',
            'this.transport.write(addr, bytes);',
            'return addr;',
          ].join('\n'),
        },
        {
          name: 'fetch',
          scope: Scope.Private,
          typeParameters: ['T'],
          parameters: [{ name: 'codec', type: 'Codec<T>' }, { name: 'addr', type: 'bigint' }, { name: 'n', type: 'number' }],
          returnType: 'T[]',
          statements: [
            'const bytes = this.transport.read(addr, codec.size * n);',
            'const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);',
            'return Array.from({ length: n }, (_, i) => codec.decode(view, i * codec.size));',
          ].join('\n'),
        },
        ...methods,
      ],
    },
  ];
  return printer.file('guest.ts', MODULE, 'Typed guest stubs over a hypercall transport.', statements);
}
