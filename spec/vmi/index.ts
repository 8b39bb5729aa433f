/**
 * The VMI spec: VMware's Virtual Machine Interface, API 3.0, the revision Linux 2.6.21 to
 * 2.6.36 used. A guest finds an option ROM in 0xC0000–0xE0000, asks its get_reloc entry
 * where each numbered call is, and calls it with regparm(3) registers.
 *
 * Derived here so that each number is written once: the VMI_CALL_* group, from the calls.
 *
 * @see arch/x86/include/asm/vmi.h, vmi_time.h, arch/x86/kernel/vmi_32.c, vmiclock_32.c (Linux 2.6.32)
 */
import type { ConstantGroup, Hypercall, Spec } from '../model.js';
import { abis, arches } from './abis.js';
import { calls } from './calls.js';
import { discovery, rom } from './rom.js';
import { time } from './time.js';
import { x86 } from './x86.js';

const modules = [rom, calls, time, x86];

/** The VMI_CALL_* numbers of one header, from its calls. */
function callNumbers(hs: Hypercall[], header: string, family: string): ConstantGroup {
  return {
    name: `VMI_CALL${family === 'calls' ? '' : `_${family.toUpperCase()}`}`,
    family,
    kind: 'hypercalls',
    doc: `Call numbers of ${header.split('/').pop() ?? header}.`,
    members: hs.map((h) => ({ name: `VMI_CALL_${h.name}`, value: h.number, doc: h.doc })),
    ref: { header },
  };
}

/** Builds the VMI spec. */
export function buildVmiSpec(): Spec {
  const constants: ConstantGroup[] = [
    callNumbers(calls.hypercalls, 'arch/x86/include/asm/vmi.h', 'calls'),
    callNumbers(time.hypercalls, 'arch/x86/include/asm/vmi_time.h', 'time'),
    ...modules.flatMap((m) => m.constants),
  ];
  return {
    name: 'vmi',
    title: 'VMware Virtual Machine Interface (VMI)',
    version: '3.0',
    doc:
      'VMI API 3.0: the paravirtualisation interface VMware’s hypervisors offered 32-bit x86 guests through an option ' +
      'ROM, used by Linux 2.6.21 to 2.6.36. The ROM header, the discovery rules, every call with its registers, and every ' +
      'value of vmi.h and vmi_time.h. The older API 13.0 generation, with its own numbering, is the separate spec vmi-api13.',
    ref: { header: 'arch/x86/include/asm/vmi.h', handler: 'arch/x86/kernel/vmi_32.c', doc: 'Linux 2.6.32' },
    arches,
    abis,
    families: modules.map((m) => m.family),
    types: modules.flatMap((m) => m.types),
    constants,
    hypercalls: [...calls.hypercalls, ...time.hypercalls].sort((a, b) => a.number - b.number),
    resources: [],
    errorSpaces: [],
    discovery,
  };
}

/** The VMI API 3.0 spec. */
export const vmiSpec: Spec = buildVmiSpec();
