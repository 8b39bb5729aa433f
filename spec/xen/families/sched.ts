/**
 * sched_op, sched_op_compat and set_timer_op.
 *
 * @see xen/include/public/sched.h
 */
import { familyBuilder, type FamilyModule } from '../../builders.js';

const H = 'xen/include/public/sched.h';
const b = familyBuilder('sched', H);

export const sched: FamilyModule = {
  family: b.family('sched_op, sched_op_compat and set_timer_op.'),
  types: [],
  constants: [],
  hypercalls: [],
  resources: [],
};
