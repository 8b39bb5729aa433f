/**
 * xen_version.
 *
 * @see xen/include/public/version.h
 */
import { familyBuilder, type FamilyModule } from '../../builders.js';

const H = 'xen/include/public/version.h';
const b = familyBuilder('version', H);

export const version: FamilyModule = {
  family: b.family('xen_version.'),
  types: [],
  constants: [],
  hypercalls: [],
  resources: [],
};
