/**
 * TypeScript target: TypeBox types, codecs per arch, typed guest stubs, a handler interface
 * and a dispatcher per ABI, and the runtime they share. Pure: model in, files out.
 */
import { StructureKind } from 'ts-morph';
import type { GeneratedFile } from '../files.js';
import type { GenModel } from '../model.js';
import { abiFile } from './abi.js';
import { codecFiles } from './codecs.js';
import { dispatchFiles } from './dispatch.js';
import { TsPrinter } from './emit.js';
import { guestFile } from './guest.js';
import { runtimeFile } from './runtime.js';
import { TsModel } from './shapes.js';
import { typesFile } from './types.js';

export { TsEmitError, TsModel } from './shapes.js';

/** The TypeScript files of a spec, paths relative to the output directory (`generated/<spec>/`). */
export function tsFiles(model: GenModel): GeneratedFile[] {
  const ts = new TsModel(model);
  const printer = new TsPrinter(model);
  const files = [runtimeFile(printer), typesFile(ts, printer), abiFile(ts, printer), ...codecFiles(ts, printer), ...dispatchFiles(ts, printer), guestFile(ts, printer)];
  const index = printer.file(
    'index.ts',
    'generator/ts/index.ts',
    `The TypeScript bindings of spec '${model.spec.name}': types, codec tables, guest stubs, handler interface and dispatchers.`,
    ['runtime', 'types', 'abi', 'codecs', 'handler', 'dispatch', 'guest'].map((m) => ({ kind: StructureKind.ExportDeclaration, moduleSpecifier: `./${m}.js` })),
  );
  return [...files, index].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
