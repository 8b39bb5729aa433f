/**
 * VMI's data models and its one ABI: 32-bit x86 (System V i386), entered by near CALLs into
 * the option ROM, arguments in GCC regparm(3) registers.
 *
 * Two data models, because a Linux VMI kernel is built either with 2-level (non-PAE) or with
 * 3-level (PAE) page tables, and a few VMI values (VMI_PAGE_L1, VMI_PAGE_L2) depend on that.
 *
 * @see arch/x86/include/asm/vmi.h, arch/x86/kernel/vmi_32.c (Linux 2.6.32)
 */
import type { Abi, Arch } from '../model.js';
import { ILP32_I386 } from '../scalars.js';

const i386 = (name: string, doc: string): Arch => ({
  name,
  family: 'x86',
  doc,
  endianness: 'little',
  wordSize: 4,
  pointerSize: 4,
  scalars: ILP32_I386,
  handle: { size: 4, align: 4 },
  handle64: { size: 8, align: 8 },
  emptyStructSize: 0,
  ref: { header: 'arch/x86/include/asm/vmi.h' },
});

export const arches: Arch[] = [
  i386('x86_32', 'System V i386 (ILP32, 64-bit integers 4-aligned in structs), 2-level page tables (32-bit entries).'),
  i386('x86_32_pae', 'System V i386 with PAE: the same C data model, 3-level page tables with 64-bit entries (CONFIG_X86_PAE).'),
];

/** The regparm(3) registers, in argument order. */
export const REGPARM_REGS = ['eax', 'edx', 'ecx'];

const convention = (doc: string): Abi['convention'] => ({
  number: 'eax',
  args: REGPARM_REGS,
  result: 'eax',
  clobbers: ['eax', 'ecx', 'edx', 'eflags'],
  entry: {
    kind: 'rom-call',
    instruction: 'call',
    encoding: [0xe8],
    doc:
      'A near CALL (E8 rel32, or an indirect call through a pointer) to the address the ROM’s get_reloc entry returns for ' +
      'the call number; a JUMP_REL answer means a near JMP instead (IRET, SYSEXIT). The number itself never travels with ' +
      'the call: it is get_reloc’s argument, in eax.',
  },
  split64: 'lo-hi',
  doc:
    'GCC regparm(3): the first three 32-bit arguments in eax, edx, ecx, the rest on the stack (pushed right to left, ' +
    'popped by the caller). A 64-bit argument takes two consecutive registers, low half first, when two remain; else it ' +
    'goes on the stack and the remaining register is not used. 32-bit results in eax, 64-bit results in edx:eax. ' +
    doc,
});

export const abis: Abi[] = [
  {
    name: 'vmi-i386',
    arch: 'x86_32',
    doc: 'VMI API 3.0 for a non-PAE 32-bit x86 guest kernel.',
    convention: convention('Non-PAE kernels use SetPxE and UpdatePxE.'),
    ref: { header: 'arch/x86/include/asm/vmi.h', handler: 'arch/x86/kernel/vmi_32.c' },
  },
  {
    name: 'vmi-i386-pae',
    arch: 'x86_32_pae',
    doc: 'VMI API 3.0 for a PAE 32-bit x86 guest kernel.',
    convention: convention('PAE kernels use SetPxELong and UpdatePxELong.'),
    ref: { header: 'arch/x86/include/asm/vmi.h', handler: 'arch/x86/kernel/vmi_32.c' },
  },
];

export const VMI_ABIS = abis.map((a) => a.name);
