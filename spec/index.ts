/**
 * hyperabi's specs and the tools over them: the meta-model, the layout engine, lookups,
 * the checker and the exporters.
 */
export * from './model.js';
export { LayoutEngine, LayoutError, allLayouts, type TypeLayout, type FieldLayout } from './layout.js';
export * from './query.js';
export { checkSpec, hasErrors, type Diagnostic } from './check.js';
export { exportSpec, exportFiles, flatLayouts, flatConstants, stableJson, UnknownAbiError } from './export.js';
export { specJsonSchema } from './schema.js';
export { xenSpec, buildXenSpec } from './xen/index.js';
export { vmiSpec, buildVmiSpec } from './vmi/index.js';
export { vmiApi13Spec } from './vmi/api13.js';
export { pvopsSpec } from './pvops/index.js';

import type { Spec } from './model.js';
import { xenSpec } from './xen/index.js';
import { vmiSpec } from './vmi/index.js';
import { vmiApi13Spec } from './vmi/api13.js';
import { pvopsSpec } from './pvops/index.js';

/** Every built-in spec by name. */
export const specs: Readonly<Record<string, Spec>> = {
  xen: xenSpec,
  vmi: vmiSpec,
  'vmi-api13': vmiApi13Spec,
  pvops: pvopsSpec,
};

/** A built-in spec by name, or undefined. */
export function findSpec(name: string): Spec | undefined {
  return Object.hasOwn(specs, name) ? specs[name] : undefined;
}
