/**
 * The TypeBox schema and static type of every named type of a spec, in dependency order,
 * and the map from C names (and aliases) to TS names.
 */
import { StructureKind, VariableDeclarationKind } from 'ts-morph';
import type { GeneratedFile } from '../files.js';
import { docText, importTypebox, type Statement, type TsPrinter } from './emit.js';
import { typeboxText, type Shape, type TsModel } from './shapes.js';

const MODULE = 'generator/ts/types.ts';

/** The types module: `types.ts`. */
export function typesFile(ts: TsModel, printer: TsPrinter): GeneratedFile {
  const statements: Statement[] = [importTypebox()];
  for (const t of ts.model.types) {
    const name = ts.nameOf(t.def.name);
    const shape = ts.shapes.get(t.def.name) as Shape;
    const arches = Object.keys(t.arches);
    const where = arches.length === ts.model.arches.length ? '' : ` Defined on ${arches.join(', ')} only.`;
    const doc = docText(`${t.def.name}: ${t.def.doc}${where}${t.def.ref.header ? `\n@see ${t.def.ref.header}` : ''}`);
    statements.push(
      {
        kind: StructureKind.VariableStatement,
        isExported: true,
        declarationKind: VariableDeclarationKind.Const,
        docs: [doc],
        declarations: [{ name, initializer: typeboxText(ts, shape, '') }],
      },
      { kind: StructureKind.TypeAlias, isExported: true, name, type: `Static<typeof ${name}>`, docs: [docText(`The value of ${t.def.name}.`)] },
    );
  }
  const entries = [...ts.tsName.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  statements.push({
    kind: StructureKind.VariableStatement,
    isExported: true,
    declarationKind: VariableDeclarationKind.Const,
    docs: ['TS name of every C type name and alias of the spec.'],
    declarations: [
      {
        name: 'TS_NAMES',
        type: 'Readonly<Record<string, string>>',
        initializer: `{\n${entries.map(([c, n]) => `  ${JSON.stringify(c)}: ${JSON.stringify(n)},`).join('\n')}\n}`,
      },
    ],
  });
  return printer.file('types.ts', MODULE, 'TypeBox schemas and static types of every struct, union and typedef.', statements);
}
