/**
 * Type names of a generator model on one arch: scalars, declared types and their aliases,
 * with sizes and whether a name is an aggregate. Shared by the C stub emitters.
 */
import type { Arch } from '../../spec/index.js';
import type { GenModel, GenType } from '../model.js';

/** Resolves type names against the model for one arch: scalars, then named types and aliases. */
export class TypeScope {
  private readonly named = new Map<string, GenType>();

  constructor(
    model: GenModel,
    readonly arch: Arch,
  ) {
    for (const t of model.types) {
      this.named.set(t.def.name, t);
      for (const a of t.def.aliases ?? []) this.named.set(a, t);
    }
  }

  /** Size of a named type on the arch, or undefined when the type does not exist there. */
  sizeOf(name: string): number | undefined {
    if (name !== 'void' && Object.hasOwn(this.arch.scalars, name)) return this.arch.scalars[name]?.size;
    return this.named.get(name)?.arches[this.arch.name]?.layout.size;
  }

  /** Whether a name is a struct or union (by its C name or through a typedef alias of one). */
  isAggregate(name: string): boolean {
    const body = this.named.get(name)?.arches[this.arch.name]?.body;
    return body !== undefined && body.kind !== 'typedef';
  }
}
