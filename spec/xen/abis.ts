/**
 * Xen's architectures (C data models) and ABIs (a data model plus a register convention).
 *
 * @see xen/include/public/arch-x86/xen-x86_64.h, arch-x86/xen-x86_32.h, arch-arm.h
 * @see docs/guest-guide/x86/hypercall-abi.rst
 */
import type { Abi, Arch } from '../model.js';
import { ILP32_AAPCS, ILP32_I386, LP64 } from '../scalars.js';

export const arches: Arch[] = [
  {
    name: 'x86_64',
    family: 'x86',
    doc: 'x86-64 psABI (LP64). Guest handles are plain pointers, 8 bytes.',
    endianness: 'little',
    wordSize: 8,
    pointerSize: 8,
    scalars: LP64,
    handle: { size: 8, align: 8 },
    handle64: { size: 8, align: 8 },
    emptyStructSize: 0,
    ref: { header: 'xen/include/public/arch-x86/xen-x86_64.h' },
  },
  {
    name: 'x86_32',
    family: 'x86',
    doc:
      'System V i386 (ILP32): 64-bit integers are 4-aligned inside structs. Guest handles are 4-byte pointers; ' +
      'XEN_GUEST_HANDLE_64 and uint64_aligned_t are 8 bytes, 8-aligned. Xen calls this the compat ABI.',
    endianness: 'little',
    wordSize: 4,
    pointerSize: 4,
    scalars: ILP32_I386,
    handle: { size: 4, align: 4 },
    handle64: { size: 8, align: 8 },
    emptyStructSize: 0,
    ref: { header: 'xen/include/public/arch-x86/xen-x86_32.h' },
  },
  {
    name: 'arm64',
    family: 'arm',
    doc: 'AAPCS64 (LP64). Guest handles in structs are 8 bytes, 8-aligned.',
    endianness: 'little',
    wordSize: 8,
    pointerSize: 8,
    scalars: LP64,
    handle: { size: 8, align: 8 },
    handle64: { size: 8, align: 8 },
    emptyStructSize: 0,
    ref: { header: 'xen/include/public/arch-arm.h' },
  },
  {
    name: 'arm32',
    family: 'arm',
    doc:
      'AAPCS (ILP32, 64-bit integers 8-aligned). Guest handles in structs are a union of a pointer and a ' +
      'uint64_t: 8 bytes, 8-aligned; xen_ulong_t and xen_pfn_t are 64-bit.',
    endianness: 'little',
    wordSize: 4,
    pointerSize: 4,
    scalars: ILP32_AAPCS,
    handle: { size: 8, align: 8 },
    handle64: { size: 8, align: 8 },
    emptyStructSize: 0,
    ref: { header: 'xen/include/public/arch-arm.h' },
  },
];

const X86_64_REGS = ['rdi', 'rsi', 'rdx', 'r10', 'r8'];
const X86_32_REGS = ['ebx', 'ecx', 'edx', 'esi', 'edi'];

export const abis: Abi[] = [
  {
    name: 'x86_64-pv',
    arch: 'x86_64',
    doc: '64-bit paravirtualised guest. The kernel runs in ring 3 and enters Xen with SYSCALL through the hypercall page.',
    convention: {
      number: 'rax',
      args: X86_64_REGS,
      result: 'rax',
      clobbers: ['rcx', 'r11', ...X86_64_REGS],
      entry: {
        kind: 'hypercall-page',
        instruction: 'syscall',
        encoding: [0x0f, 0x05],
        stubSize: 32,
        doc: 'call hypercall_page + nr*32; each stub saves rcx and r11, loads eax with the number and executes SYSCALL.',
      },
      split64: 'none',
      doc: 'Number in rax; arguments in rdi, rsi, rdx, r10, r8; result in rax.',
    },
    ref: { header: 'xen/include/public/arch-x86/xen-x86_64.h', handler: 'xen/arch/x86/pv/hypercall.c' },
  },
  {
    name: 'x86_32-pv',
    arch: 'x86_32',
    doc: '32-bit paravirtualised guest (ring 1 kernel), entering Xen with INT 0x82 through the hypercall page.',
    convention: {
      number: 'eax',
      args: X86_32_REGS,
      result: 'eax',
      clobbers: X86_32_REGS,
      entry: {
        kind: 'hypercall-page',
        instruction: 'int $0x82',
        encoding: [0xcd, 0x82],
        stubSize: 32,
        doc: 'call hypercall_page + nr*32; each stub loads eax with the number and executes INT 0x82.',
      },
      split64: 'lo-hi',
      doc: 'Number in eax; arguments in ebx, ecx, edx, esi, edi; result in eax. 64-bit values travel as lo, hi pairs.',
    },
    ref: { header: 'xen/include/public/arch-x86/xen-x86_32.h', handler: 'xen/arch/x86/pv/hypercall.c' },
  },
  {
    name: 'x86_64-hvm',
    arch: 'x86_64',
    doc: 'HVM or PVH guest in 64-bit mode, entering Xen with VMCALL (Intel) or VMMCALL (AMD) from CPL 0.',
    convention: {
      number: 'rax',
      args: X86_64_REGS,
      result: 'rax',
      clobbers: X86_64_REGS,
      entry: {
        kind: 'hypercall-page',
        instruction: 'vmcall',
        encoding: [0x0f, 0x01, 0xc1],
        stubSize: 32,
        doc: 'call hypercall_page + nr*32; the page is filled through the MSR the Xen CPUID leaves name; VMMCALL (0f 01 d9) on AMD.',
      },
      split64: 'none',
      doc: 'Number in rax; arguments in rdi, rsi, rdx, r10, r8; result in rax.',
    },
    ref: { handler: 'xen/arch/x86/hvm/hypercall.c' },
  },
  {
    name: 'x86_32-hvm',
    arch: 'x86_32',
    doc: 'HVM guest in 32-bit protected mode (or real mode): the 32-bit register set and compat layouts.',
    convention: {
      number: 'eax',
      args: X86_32_REGS,
      result: 'eax',
      clobbers: X86_32_REGS,
      entry: {
        kind: 'hypercall-page',
        instruction: 'vmcall',
        encoding: [0x0f, 0x01, 0xc1],
        stubSize: 32,
        doc: 'call hypercall_page + nr*32 (VMCALL on Intel, VMMCALL on AMD).',
      },
      split64: 'lo-hi',
      doc: 'Number in eax; arguments in ebx, ecx, edx, esi, edi; result in eax.',
    },
    ref: { handler: 'xen/arch/x86/hvm/hypercall.c' },
  },
  {
    name: 'arm64',
    arch: 'arm64',
    doc: 'AArch64 guest: HVC #0xEA1.',
    convention: {
      number: 'x16',
      args: ['x0', 'x1', 'x2', 'x3', 'x4'],
      result: 'x0',
      clobbers: ['x16', 'x1', 'x2', 'x3', 'x4'],
      entry: {
        kind: 'trap',
        instruction: 'hvc #0xEA1',
        immediate: 0xea1,
        doc: 'HVC with immediate 0xEA1 (XEN_HYPERCALL_TAG); another immediate is not a hypercall.',
      },
      split64: 'none',
      doc: 'Number in x16; arguments in x0 to x4; result in x0.',
    },
    ref: { header: 'xen/include/public/arch-arm.h', handler: 'xen/arch/arm/traps.c' },
  },
  {
    name: 'arm32',
    arch: 'arm32',
    doc: 'AArch32 guest: HVC #0xEA1.',
    convention: {
      number: 'r12',
      args: ['r0', 'r1', 'r2', 'r3', 'r4'],
      result: 'r0',
      clobbers: ['r12', 'r1', 'r2', 'r3', 'r4'],
      entry: {
        kind: 'trap',
        instruction: 'hvc #0xEA1',
        immediate: 0xea1,
        doc: 'HVC with immediate 0xEA1 (XEN_HYPERCALL_TAG).',
      },
      split64: 'lo-hi',
      doc: 'Number in r12; arguments in r0 to r4; result in r0.',
    },
    ref: { header: 'xen/include/public/arch-arm.h', handler: 'xen/arch/arm/traps.c' },
  },
];

/** Shorthands for hypercall availability tables. */
export const ALL_ABIS = abis.map((a) => a.name);
