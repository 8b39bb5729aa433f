/**
 * Hypercalls outside the guest ABI families: toolstack, device-model and platform interfaces.
 *
 * @see xen/include/public/xen.h
 */
import { familyBuilder, type FamilyModule } from '../../builders.js';

const H = 'xen/include/public/xen.h';
const b = familyBuilder('toolstack', H);

export const toolstack: FamilyModule = {
  family: b.family('Hypercalls outside the guest ABI families: toolstack, device-model and platform interfaces.'),
  types: [],
  constants: [],
  hypercalls: [],
  resources: [],
};
