/**
 * physdev_op and physdev_op_compat.
 *
 * @see xen/include/public/physdev.h
 */
import { familyBuilder, type FamilyModule } from '../../builders.js';

const H = 'xen/include/public/physdev.h';
const b = familyBuilder('physdev', H);

export const physdev: FamilyModule = {
  family: b.family('physdev_op and physdev_op_compat.'),
  types: [],
  constants: [],
  hypercalls: [],
  resources: [],
};
