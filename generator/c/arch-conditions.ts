/**
 * Preprocessor conditions that select a spec arch in generated C, for specs whose arches
 * share a compiler: VMI's `x86_32` and `x86_32_pae` are both `__i386__`, told apart by a
 * build-configuration macro (PAE page tables are a kernel's choice, not the compiler's).
 * Arches that have their own compiler macro get the plain `defined(__i386__)` of declare.ts.
 */
import type { Spec } from '../../spec/index.js';
import { ARCH_MACRO, archCondition } from './declare.js';

/**
 * The macro a guest defines to select the PAE variant of an arch (`x86_32_pae`), the way
 * Linux's CONFIG_X86_PAE selects 3-level page tables. The PAE ABIs' stub headers define it.
 */
export const PAE_MACRO = 'HYPERABI_X86_PAE';

/** The suffix of an arch name that marks its PAE variant (`x86_32_pae` of `x86_32`). */
const PAE_SUFFIX = '_pae';

/** Whether an arch is the PAE variant of another (selected by PAE_MACRO). */
export function isPaeArch(name: string): boolean {
  return name.endsWith(PAE_SUFFIX);
}

/** A function from arch names to a C condition that is true on exactly those arches. */
export type ArchCondition = (arches: readonly string[]) => string;

/**
 * The arch conditions of a spec: an arch `<base>_pae` is `<base>`'s compiler macro and
 * PAE_MACRO; `<base>` itself, when the spec also has its PAE variant, adds `!defined(PAE_MACRO)`.
 */
export function archConditionFor(spec: Spec): ArchCondition {
  const names = new Set(spec.arches.map((a) => a.name));
  const one = (a: string): string => {
    if (isPaeArch(a)) {
      const base = a.slice(0, -PAE_SUFFIX.length);
      if (!ARCH_MACRO[base]) throw new Error(`no C predefined macro known for arch '${base}' (of '${a}')`);
      return `(${archCondition([base])} && defined(${PAE_MACRO}))`;
    }
    if (names.has(`${a}${PAE_SUFFIX}`)) return `(${archCondition([a])} && !defined(${PAE_MACRO}))`;
    return archCondition([a]);
  };
  return (arches) => arches.map(one).join(' || ');
}
