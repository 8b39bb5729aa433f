/**
 * Hypercall results from the spec's error spaces: `-XEN_EINVAL` and friends as the guest
 * sees them, looked up once by name from the spec (never typed here).
 */
import { constantValue, type Spec } from '../spec/index.js';

/** The negated errno values a hypercall returns, by code name (EINVAL → -22). */
export type Errnos = Readonly<Record<string, number>>;

/** The errno table of a spec, negated as its `return` error space says. */
export function errnos(spec: Spec): Errnos {
  const space = spec.errorSpaces.find((s) => s.via === 'return');
  if (!space) throw new Error(`spec ${spec.name} has no return error space`);
  const group = spec.constants.find((g) => g.name === space.group);
  if (!group) throw new Error(`spec ${spec.name}: error space group ${space.group} is missing`);
  const out: Record<string, number> = {};
  for (const c of group.members) {
    const v = constantValue(spec, c.name);
    if (typeof v !== 'number' || !c.name.startsWith(space.prefix)) continue;
    out[c.name.slice(space.prefix.length)] = space.negate ? -v : v;
  }
  return out;
}

/** The status codes a spec reports in status fields (GNTST_okay → 0), by name. */
export function statuses(spec: Spec): Readonly<Record<string, number>> {
  const space = spec.errorSpaces.find((s) => s.via === 'status');
  const group = space ? spec.constants.find((g) => g.name === space.group) : undefined;
  const out: Record<string, number> = {};
  for (const c of group?.members ?? []) {
    const v = constantValue(spec, c.name);
    if (typeof v === 'number') out[c.name] = v;
  }
  return out;
}
