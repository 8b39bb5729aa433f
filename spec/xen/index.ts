/**
 * The Xen 4.17 hypercall API spec, assembled from one file per hypercall family.
 *
 * Derived here, so that each value is written once in the family files: the
 * `__HYPERVISOR_*` number group (from the hypercalls) and each multiplexed hypercall's
 * command group (from its operations).
 */
import type { Constant, ConstantGroup, Spec } from '../model.js';
import { subopGroup, type FamilyModule } from '../builders.js';
import { abis, arches } from './abis.js';
import { families } from './families/index.js';

/**
 * The `__HYPERVISOR_<name>` constants, derived from the hypercalls: one group for those
 * in xen.h and one per other header that defines a number (xen-mca.h for mca).
 */
function hypercallNumbers(mods: FamilyModule[]): ConstantGroup[] {
  const calls = mods.flatMap((m) => m.hypercalls).sort((a, b) => a.number - b.number);
  const groups = new Map<string, ConstantGroup>();
  for (const h of calls) {
    const header = h.numberConstant?.header ?? 'xen/include/public/xen.h';
    let g = groups.get(header);
    if (!g) {
      g = {
        name: groups.size === 0 && header.endsWith('/xen.h') ? '__HYPERVISOR' : `__HYPERVISOR@${header.split('/').pop()}`,
        family: 'core',
        kind: 'hypercalls',
        doc: `Hypercall numbers defined in ${header.split('/').pop()}.`,
        members: [],
        ref: { header },
      };
      groups.set(header, g);
    }
    const c: Constant = { name: `__HYPERVISOR_${h.name}`, value: h.number, doc: h.doc };
    if (h.numberConstant?.arches) c.arches = h.numberConstant.arches;
    if (h.numberConstant?.public === false) c.probe = false;
    g.members.push(c);
  }
  return [...groups.values()];
}

/** Builds the Xen spec from its family modules. */
export function buildXenSpec(mods: FamilyModule[] = families): Spec {
  const constants: ConstantGroup[] = hypercallNumbers(mods);
  for (const m of mods) {
    constants.push(...m.constants);
    for (const h of m.hypercalls) {
      const g = subopGroup(h, `Commands of ${h.name}.`);
      if (g) constants.push(g);
    }
  }
  return {
    name: 'xen',
    title: 'Xen hypercall API',
    version: '4.17',
    doc:
      'The hypercall interface of the Xen hypervisor 4.17 (interface version 0x00040e00): hypercall numbers, ' +
      'per-ABI calling conventions and layouts, sub-operations, errors and resources.',
    ref: { header: 'xen/include/public/xen.h', doc: 'xen-project/xen RELEASE-4.17.7' },
    arches,
    abis,
    families: mods.map((m) => m.family),
    types: mods.flatMap((m) => m.types),
    constants,
    hypercalls: mods.flatMap((m) => m.hypercalls).sort((a, b) => a.number - b.number),
    resources: mods.flatMap((m) => m.resources),
    errorSpaces: [
      { via: 'return', group: 'XEN_E', prefix: 'XEN_', negate: true },
      { via: 'status', group: 'GNTST', prefix: '', negate: false },
    ],
  };
}

/** The Xen 4.17 spec. */
export const xenSpec: Spec = buildXenSpec();
