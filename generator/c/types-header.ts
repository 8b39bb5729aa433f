/**
 * The self-contained C header of a spec's constants and types: every constant as a macro,
 * every struct, union and typedef in dependency order, guest-handle types shaped by each
 * arch's handle size, and `_Static_assert`s on every size, alignment and field offset per
 * arch, so a compiler proves the header equals the spec's layouts.
 *
 * The emitter itself is `types-header-core.ts`; this module selects arches by the
 * compiler's predefined macros (declare.ts's `archCondition`), as Xen's arches need.
 */
import type { GeneratedFile } from '../files.js';
import type { GenModel } from '../model.js';
import { archCondition } from './declare.js';
import { cTypesHeaderWith, typesHeaderPath } from './types-header-core.js';

export { typesHeaderPath };

/** Generates the types header of a spec whose arches each have their own compiler macro. */
export function cTypesHeader(model: GenModel): GeneratedFile {
  return cTypesHeaderWith(model, { archCondition, generator: 'generator/c/types-header.ts' });
}
