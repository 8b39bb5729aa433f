/**
 * hvm_op and HVM parameters.
 *
 * @see xen/include/public/hvm/hvm_op.h
 */
import { familyBuilder, type FamilyModule } from '../../builders.js';

const H = 'xen/include/public/hvm/hvm_op.h';
const b = familyBuilder('hvm', H);

export const hvm: FamilyModule = {
  family: b.family('hvm_op and HVM parameters.'),
  types: [],
  constants: [],
  hypercalls: [],
  resources: [],
};
