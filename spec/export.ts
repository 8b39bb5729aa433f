/**
 * Export of specs as JSON documents for consumers in any language: the spec data, with
 * every type's computed layout per arch filled in, plus flat layout and constant tables.
 */
import type { ConstValue, Spec, TypeDef } from './model.js';
import { LayoutEngine } from './layout.js';
import { allConstants, findArch, typeAvailableOn } from './query.js';
import { specJsonSchema } from './schema.js';

/** The spec with computed layouts attached to every type, per arch where it exists. */
export function exportSpec(spec: Spec): Spec {
  const engines = spec.arches.map((a) => new LayoutEngine(spec, a));
  const types: TypeDef[] = spec.types.map((def) => {
    const layout: NonNullable<TypeDef['layout']> = {};
    for (const e of engines) {
      if (!typeAvailableOn(def, e.arch)) continue;
      const l = e.named(def.name);
      layout[e.arch.name] = { size: l.size, align: l.align, fields: l.fields };
    }
    return { ...def, layout };
  });
  return { $schema: './spec.schema.json', ...spec, types };
}

/** Flat layouts for an ABI or arch: `{ "struct evtchn_send": { size, align, fields: { port: { offset, size } } } }`. */
export function flatLayouts(
  spec: Spec,
  abiOrArch: string,
): Record<string, { size: number; align: number; fields: Record<string, { offset: number; size: number }> }> {
  const arch = findArch(spec, abiOrArch);
  if (!arch) throw new UnknownAbiError(spec, abiOrArch);
  const e = new LayoutEngine(spec, arch);
  const out: ReturnType<typeof flatLayouts> = {};
  for (const def of spec.types) {
    if (!typeAvailableOn(def, arch)) continue;
    const l = e.named(def.name);
    const fields: Record<string, { offset: number; size: number }> = {};
    for (const [k, v] of Object.entries(l.fields)) fields[k] = { offset: v.offset, size: v.size };
    out[def.name] = { size: l.size, align: l.align, fields };
  }
  return out;
}

/** Flat constants for an ABI or arch: `{ "EVTCHNOP_send": 4 }`; values beyond 2^53 as "0x..." strings. */
export function flatConstants(spec: Spec, abiOrArch: string): Record<string, ConstValue> {
  const arch = findArch(spec, abiOrArch);
  if (!arch) throw new UnknownAbiError(spec, abiOrArch);
  return allConstants(spec, arch);
}

/** An ABI or arch name the spec does not have. */
export class UnknownAbiError extends Error {
  constructor(spec: Spec, name: string) {
    super(
      `unknown ABI '${name}' for spec ${spec.name}; use one of: ${[...spec.abis.map((a) => a.name), ...spec.arches.map((a) => a.name)]
        .filter((v, i, a) => a.indexOf(v) === i)
        .join(', ')}`,
    );
    this.name = 'UnknownAbiError';
  }
}

/** Serialises a document the same way on every run (two-space JSON, trailing newline). */
export function stableJson(doc: unknown): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** The files `spec export` writes: one document per spec and the meta-model's JSON Schema. */
export function exportFiles(specs: readonly Spec[]): Map<string, string> {
  const files = new Map<string, string>();
  files.set('spec.schema.json', stableJson(specJsonSchema()));
  for (const s of specs) files.set(`${s.name}.json`, stableJson(exportSpec(s)));
  return files;
}
