/**
 * Xen error numbers (XEN_E*) returned negated by hypercalls.
 *
 * @see xen/include/public/errno.h
 */
import { familyBuilder, type FamilyModule } from '../../builders.js';

const H = 'xen/include/public/errno.h';
const b = familyBuilder('errno', H);

export const errno: FamilyModule = {
  family: b.family('Xen error numbers (XEN_E*) returned negated by hypercalls.'),
  types: [],
  constants: [],
  hypercalls: [],
  resources: [],
};
