/**
 * memory_op: reservations, exchanges, physmap and memory maps.
 *
 * @see xen/include/public/memory.h
 */
import { familyBuilder, type FamilyModule } from '../../builders.js';

const H = 'xen/include/public/memory.h';
const b = familyBuilder('memory', H);

export const memory: FamilyModule = {
  family: b.family('memory_op: reservations, exchanges, physmap and memory maps.'),
  types: [],
  constants: [],
  hypercalls: [],
  resources: [],
};
