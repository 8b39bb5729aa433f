/**
 * The paravirt-ops spec: Linux 2.6.32's pluggable operation tables and, for each member, the
 * native, VMI, Xen and lguest implementations, with references into the `vmi` and `xen`
 * specs (and lguest's hypercall numbers, kept here).
 *
 * @see arch/x86/include/asm/paravirt_types.h (Linux 2.6.32)
 */
import type { Spec } from '../model.js';
import { arches } from '../vmi/abis.js';
import { lguestConstants } from './lguest.js';
import { interfaces } from './ops.js';

/** The paravirt-ops spec. */
export const pvopsSpec: Spec = {
  name: 'pvops',
  title: 'Linux paravirt-ops',
  version: '2.6.32',
  doc:
    'Linux 2.6.32’s paravirt-ops, the one layer through which a kernel runs on bare hardware, on VMware’s VMI, on Xen ' +
    'or on lguest: each member’s C signature and each backend’s implementation, referring to the other specs’ ' +
    'operations. 32-bit x86 view; 64-bit-only members are marked.',
  ref: { header: 'arch/x86/include/asm/paravirt_types.h', handler: 'arch/x86/kernel/paravirt.c', doc: 'Linux 2.6.32' },
  arches,
  abis: [],
  families: [
    { name: 'pvops', doc: 'The operation tables.', ref: { header: 'arch/x86/include/asm/paravirt_types.h' } },
    { name: 'lguest', doc: 'lguest hypercall numbers.', ref: { header: 'arch/x86/include/asm/lguest_hcall.h' } },
  ],
  types: [],
  constants: lguestConstants,
  hypercalls: [],
  resources: [],
  errorSpaces: [],
  backends: [
    { name: 'native', doc: 'Bare hardware: the instructions themselves.' },
    { name: 'vmi', doc: 'VMware’s VMI ROM (arch/x86/kernel/vmi_32.c).', spec: 'vmi' },
    { name: 'xen', doc: 'Xen paravirtualised guest (arch/x86/xen/).', spec: 'xen' },
    { name: 'lguest', doc: 'lguest guest (arch/x86/lguest/boot.c).', group: 'LHCALL' },
  ],
  interfaces,
};
