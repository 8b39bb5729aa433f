/**
 * lguest's hypercall numbers, the targets of the lguest implementations in the paravirt-ops
 * spec (lguest has no spec of its own in hyperabi).
 *
 * @see arch/x86/include/asm/lguest_hcall.h (Linux 2.6.32)
 * @see drivers/lguest/hypercalls.c, arch/x86/lguest/boot.c (Linux 2.6.32)
 */
import { familyBuilder } from '../builders.js';

const b = familyBuilder('lguest', 'arch/x86/include/asm/lguest_hcall.h');

// ───────────────────────────── constants ─────────────────────────────

export const lguestConstants = [
  b.group('LHCALL', 'hypercalls', 'lguest hypercall numbers: number in eax, arguments in ebx, ecx, edx, esi, entered with VMCALL (rewritten to INT 0x1f without VT).', [
    ['LHCALL_FLUSH_ASYNC', 0, 'Process the queued asynchronous hypercalls (end of lazy mode).'],
    ['LHCALL_LGUEST_INIT', 1, 'Register struct lguest_data (first call at boot).'],
    ['LHCALL_SHUTDOWN', 2, 'Power off or restart: physical address of a message, LGUEST_SHUTDOWN_POWEROFF or _RESTART.'],
    ['LHCALL_NEW_PGTABLE', 4, 'Switch page directory (CR3).'],
    ['LHCALL_FLUSH_TLB', 5, 'Flush shadow mappings: 1 also kernel (global) ones, 0 user only.'],
    ['LHCALL_LOAD_IDT_ENTRY', 6, 'Install one IDT gate: index, low, high.'],
    ['LHCALL_SET_STACK', 7, 'Kernel stack for traps: segment, sp0, pages.'],
    ['LHCALL_TS', 8, 'Set or clear CR0.TS.'],
    ['LHCALL_SET_CLOCKEVENT', 9, 'One-shot timer in ns (0: stop).'],
    ['LHCALL_HALT', 10, 'Sleep until an interrupt.'],
    ['LHCALL_SET_PMD', 13, 'A PAE middle-level entry changed: page, index.'],
    ['LHCALL_SET_PTE', 14, 'A page-table entry changed: pgdir, address, entry.'],
    ['LHCALL_SET_PGD', 15, 'A top-level entry changed: page, index.'],
    ['LHCALL_LOAD_TLS', 16, 'Load the three TLS descriptors: physical address, cpu.'],
    ['LHCALL_NOTIFY', 17, 'Device notification.'],
    ['LHCALL_LOAD_GDT_ENTRY', 18, 'Install one GDT descriptor: index, low, high.'],
    ['LHCALL_SEND_INTERRUPTS', 19, 'Deliver interrupts that became pending while disabled.'],
  ]),
];
