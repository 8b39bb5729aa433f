/**
 * Grant tables v1 and v2.
 *
 * @see xen/include/public/grant_table.h
 */
import { familyBuilder, type FamilyModule } from '../../builders.js';

const H = 'xen/include/public/grant_table.h';
const b = familyBuilder('grant_table', H);

export const grantTable: FamilyModule = {
  family: b.family('Grant tables v1 and v2.'),
  types: [],
  constants: [],
  hypercalls: [],
  resources: [],
};
