/**
 * Shared memory structures and per-arch state: shared_info, vcpu_info, start_info, time info, CPU registers and vCPU context.
 *
 * @see xen/include/public/xen.h
 */
import { familyBuilder, type FamilyModule } from '../../builders.js';

const H = 'xen/include/public/xen.h';
const b = familyBuilder('arch', H);

export const arch: FamilyModule = {
  family: b.family('Shared memory structures and per-arch state: shared_info, vcpu_info, start_info, time info, CPU registers and vCPU context.'),
  types: [],
  constants: [],
  hypercalls: [],
  resources: [],
};
