/**
 * Feature flags reported by XENVER_get_features.
 *
 * @see xen/include/public/features.h
 */
import { familyBuilder, type FamilyModule } from '../../builders.js';

const H = 'xen/include/public/features.h';
const b = familyBuilder('features', H);

export const features: FamilyModule = {
  family: b.family('Feature flags reported by XENVER_get_features.'),
  types: [],
  constants: [],
  hypercalls: [],
  resources: [],
};
