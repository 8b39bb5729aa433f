/**
 * console_io and vm_assist.
 *
 * @see xen/include/public/xen.h
 */
import { familyBuilder, type FamilyModule } from '../../builders.js';

const H = 'xen/include/public/xen.h';
const b = familyBuilder('console', H);

export const console: FamilyModule = {
  family: b.family('console_io and vm_assist.'),
  types: [],
  constants: [],
  hypercalls: [],
  resources: [],
};
