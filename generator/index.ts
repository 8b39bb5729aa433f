/**
 * `hyperabi generate`: the registry of targets. Each target is a pure function from the
 * generator model to files; `files.ts` alone writes them.
 */
import { findSpec, specs, type Spec } from '../spec/index.js';
import type { GeneratedFile } from './files.js';
import { buildModel, type GenModel } from './model.js';
import { cTypesHeader } from './c/types-header.js';
import { cStubs } from './c/stubs.js';
import { cVmiGuest } from './c/vmi-stubs.js';
import { cDispatch } from './c/dispatch.js';
import { tsFiles } from './ts/index.js';
import { docsFiles } from './docs/index.js';

export { buildModel, type GenModel } from './model.js';
export { writeFiles, staleFiles, type GeneratedFile } from './files.js';

/** A generation target. */
export interface Target {
  name: string;
  description: string;
  /** Spec names the target supports. */
  specs: readonly string[];
  emit(model: GenModel): GeneratedFile[];
}

const registry = new Map<string, Target>();

/** Adds a target to the registry (each target module registers itself through index). */
export function registerTarget(t: Target): void {
  if (registry.has(t.name)) throw new Error(`target '${t.name}' registered twice`);
  registry.set(t.name, t);
}

/** Every registered target. */
export function targets(): Target[] {
  return [...registry.values()];
}

registerTarget({
  name: 'c-guest',
  description: 'Self-contained C headers: constants, types with static layout assertions, hypercall stubs per ABI.',
  specs: ['xen', 'vmi'],
  // A rom-call spec (VMI) gets a table of entry points resolved through get_reloc and regparm(3) stubs.
  emit: (model) => (model.spec.name === 'vmi' ? cVmiGuest(model) : [cTypesHeader(model), ...cStubs(model)]),
});

registerTarget({
  name: 'c-dispatch',
  description: 'C hypervisor dispatch: handler prototypes with decoded arguments and a dispatch function per ABI.',
  specs: ['xen'],
  emit: (model) => [cTypesHeader(model), ...cDispatch(model)],
});

registerTarget({
  name: 'ts',
  description: 'TypeScript: TypeBox types, codecs per ABI, typed guest stubs, handler interface and dispatcher.',
  specs: ['xen'],
  emit: (model) => tsFiles(model),
});

registerTarget({
  name: 'docs',
  description: 'Markdown reference: a page per hypercall family with arguments, errors and struct layouts per ABI; an index.',
  specs: ['xen', 'vmi'],
  emit: (model) => docsFiles(model),
});

/** A generation request that cannot be served: unknown target, spec or ABI. */
export class GenerateError extends Error {
  override name = 'GenerateError';
}

/** Generates a target's files for a spec and a set of ABIs ('all' or absent: every ABI). */
export function generate(targetName: string, specName: string, abi: string | readonly string[] = 'all'): GeneratedFile[] {
  const target = registry.get(targetName);
  if (!target) throw new GenerateError(`unknown target '${targetName}'; available: ${targets().map((t) => t.name).join(', ')}`);
  const spec: Spec | undefined = findSpec(specName);
  if (!spec) throw new GenerateError(`unknown spec '${specName}'; available: ${Object.keys(specs).join(', ')}`);
  if (!target.specs.includes(specName)) {
    throw new GenerateError(`target '${targetName}' does not support spec '${specName}' (it supports: ${target.specs.join(', ')})`);
  }
  const abis = abi === 'all' ? undefined : typeof abi === 'string' ? [abi] : abi;
  let model: GenModel;
  try {
    model = buildModel(spec, abis);
  } catch (e) {
    throw new GenerateError((e as Error).message);
  }
  return target.emit(model);
}
