/**
 * The x86 PV MMU and CPU hypercalls: mmu_update, mmuext_op, update_va_mapping, multicall, trap tables, descriptors.
 *
 * @see xen/include/public/xen.h
 */
import { familyBuilder, type FamilyModule } from '../../builders.js';

const H = 'xen/include/public/xen.h';
const b = familyBuilder('x86_pv', H);

export const x86Pv: FamilyModule = {
  family: b.family('The x86 PV MMU and CPU hypercalls: mmu_update, mmuext_op, update_va_mapping, multicall, trap tables, descriptors.'),
  types: [],
  constants: [],
  hypercalls: [],
  resources: [],
};
