/**
 * callback_op, set_callbacks and nmi_op.
 *
 * @see xen/include/public/callback.h
 */
import { familyBuilder, type FamilyModule } from '../../builders.js';

const H = 'xen/include/public/callback.h';
const b = familyBuilder('callback', H);

export const callback: FamilyModule = {
  family: b.family('callback_op, set_callbacks and nmi_op.'),
  types: [],
  constants: [],
  hypercalls: [],
  resources: [],
};
