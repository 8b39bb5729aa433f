/**
 * The ABI module (`abi.ts`): every ABI of the model with its arch and register convention
 * (names straight from the spec), a register-file interface per ABI, and the errno values
 * the dispatchers return.
 */
import { StructureKind, VariableDeclarationKind } from 'ts-morph';
import type { Abi, Arch } from '../../spec/index.js';
import type { GeneratedFile } from '../files.js';
import type { GenModel } from '../model.js';
import { docText, ident, type Statement, type TsPrinter } from './emit.js';
import { TsEmitError } from './shapes.js';
import { specPrefix } from './codecs.js';
import type { TsModel } from './shapes.js';

const MODULE = 'generator/ts/abi.ts';

/** The name of an ABI's register-file interface: `Registers_x86_64_pv`. */
export const regsInterface = (abi: Abi): string => `Registers_${ident(abi.name)}`;

/** Every register an ABI's dispatcher reads or a stub writes: number, arguments, result. */
export function abiRegisters(abi: Abi): string[] {
  return [...new Set([abi.convention.number, ...abi.convention.args, abi.convention.result])];
}

export function archOf(model: GenModel, abi: Abi): Arch {
  const a = model.arches.find((x) => x.name === abi.arch);
  if (!a) throw new TsEmitError(abi.name, `arch '${abi.arch}' is not in the model`);
  return a;
}

/** The negated value of an errno of the spec's return error space on an arch (e.g. ENOSYS → -38). */
export function errnoValue(model: GenModel, code: string, arch: Arch): number {
  const space = model.spec.errorSpaces.find((s) => s.via === 'return');
  if (!space) throw new TsEmitError(model.spec.name, 'the spec has no return error space');
  const name = `${space.prefix}${code}`;
  const c = model.constants.find((x) => x.group.name === space.group && x.constant.name === name);
  const v = c?.values[arch.name];
  if (typeof v !== 'number') throw new TsEmitError(name, `no value on ${arch.name} in error group ${space.group}`);
  return space.negate ? -v : v;
}

/** The ABI module. */
export function abiFile(ts: TsModel, printer: TsPrinter): GeneratedFile {
  const model = ts.model;
  const P = specPrefix(ts);
  const statements: Statement[] = [];
  const entries = model.abis.map((abi) => {
    const arch = archOf(model, abi);
    const c = abi.convention;
    return `${JSON.stringify(abi.name)}: { name: ${JSON.stringify(abi.name)}, arch: ${JSON.stringify(arch.name)}, number: ${JSON.stringify(c.number)}, args: [${c.args.map((r) => JSON.stringify(r)).join(', ')}], result: ${JSON.stringify(c.result)}, wordBits: ${arch.wordSize * 8}, split64: ${JSON.stringify(c.split64)}, instruction: ${JSON.stringify(c.entry.instruction)} },`;
  });
  statements.push(
    {
      kind: StructureKind.TypeAlias,
      isExported: true,
      name: `${P}ArchName`,
      type: model.arches.map((a) => JSON.stringify(a.name)).join(' | '),
      docs: ['An arch (C data model) name.'],
    },
    {
      kind: StructureKind.Interface,
      isExported: true,
      name: `${P}AbiInfo`,
      docs: ['An ABI: its arch and register convention, from the spec.'],
      properties: [
        { name: 'name', isReadonly: true, type: 'string' },
        { name: 'arch', isReadonly: true, type: `${P}ArchName` },
        { name: 'number', isReadonly: true, type: 'string', docs: ['Register carrying the hypercall number.'] },
        { name: 'args', isReadonly: true, type: 'readonly string[]', docs: ['Argument registers in order.'] },
        { name: 'result', isReadonly: true, type: 'string' },
        { name: 'wordBits', isReadonly: true, type: 'number' },
        { name: 'split64', isReadonly: true, type: "'none' | 'lo-hi'" },
        { name: 'instruction', isReadonly: true, type: 'string', docs: ['The trap or call instruction of the entry mechanism.'] },
      ],
    },
    {
      kind: StructureKind.VariableStatement,
      isExported: true,
      declarationKind: VariableDeclarationKind.Const,
      docs: [`The ABIs of spec '${model.spec.name}'.`],
      declarations: [{ name: `${P.toUpperCase()}_ABIS`, initializer: `{\n${entries.map((e) => `  ${e}`).join('\n')}\n} as const satisfies Record<string, ${P}AbiInfo>` }],
    },
    { kind: StructureKind.TypeAlias, isExported: true, name: `${P}AbiName`, type: `keyof typeof ${P.toUpperCase()}_ABIS`, docs: ['An ABI name.'] },
  );
  for (const abi of model.abis) {
    statements.push({
      kind: StructureKind.Interface,
      isExported: true,
      name: regsInterface(abi),
      docs: [docText(`The registers of ${abi.name} that a hypercall reads and writes: ${abi.convention.doc}`)],
      properties: abiRegisters(abi).map((r) => ({ name: r, type: 'bigint' })),
    });
  }
  for (const code of ['ENOSYS', 'EFAULT']) {
    const values = new Map(model.arches.map((a) => [a.name, errnoValue(model, code, a)]));
    statements.push({
      kind: StructureKind.VariableStatement,
      isExported: true,
      declarationKind: VariableDeclarationKind.Const,
      docs: [`-${code} by arch, as a hypercall returns it (from the spec's return error space).`],
      declarations: [{ name: `${code}_BY_ARCH`, initializer: `{ ${[...values].map(([a, v]) => `${a}: ${v}`).join(', ')} } as const` }],
    });
  }
  return printer.file('abi.ts', MODULE, 'ABIs, register files and dispatcher errno values.', statements);
}
