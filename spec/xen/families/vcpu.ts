/**
 * vcpu_op: vCPU life cycle, timers, runstate and vcpu_info registration.
 *
 * @see xen/include/public/vcpu.h
 */
import { familyBuilder, type FamilyModule } from '../../builders.js';

const H = 'xen/include/public/vcpu.h';
const b = familyBuilder('vcpu', H);

export const vcpu: FamilyModule = {
  family: b.family('vcpu_op: vCPU life cycle, timers, runstate and vcpu_info registration.'),
  types: [],
  constants: [],
  hypercalls: [],
  resources: [],
};
