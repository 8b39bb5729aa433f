/**
 * The meta-model as a standalone JSON Schema (draft 2020-12) document, for consumers in
 * any language. TypeBox's cyclic types carry local `$defs` and bare `$ref` names; this
 * hoists every definition to the root and rewrites references to `#/$defs/<name>`.
 */
import { Spec } from './model.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** The JSON Schema of a spec document, standalone and deterministic. */
export function specJsonSchema(): Record<string, Json> {
  const defs: Record<string, Json> = {};
  const walk = (node: Json): Json => {
    if (Array.isArray(node)) return node.map(walk);
    if (node === null || typeof node !== 'object') return node;
    const obj = node as Record<string, Json>;
    if (obj['$defs'] && typeof obj['$defs'] === 'object' && !Array.isArray(obj['$defs'])) {
      for (const [k, v] of Object.entries(obj['$defs'] as Record<string, Json>)) {
        if (!(k in defs)) {
          defs[k] = null; // reserve before recursing: definitions refer to each other
          defs[k] = walk(v);
        }
      }
    }
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(obj)) {
      if (k === '$defs' || k === '$id') continue; // definitions live at the root, which alone has an $id
      if (k === '$ref' && typeof v === 'string' && !v.startsWith('#')) out[k] = `#/$defs/${v}`;
      else out[k] = walk(v);
    }
    return out;
  };
  const root = walk(JSON.parse(JSON.stringify(Spec)) as Json) as Record<string, Json>;
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://hyperabi.dev/schema/spec.json',
    ...root,
    $defs: Object.fromEntries(Object.keys(defs).sort().map((k) => [k, defs[k] as Json])),
  };
}
