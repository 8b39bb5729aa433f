/**
 * Guest callbacks of x86 PV guests: callback_op (30), set_callbacks (4) and nmi_op (28),
 * the callback address type and the NMI reason bits.
 *
 * @see xen/include/public/callback.h, xen/include/public/nmi.h,
 *      xen/include/public/arch-x86/xen-x86_64.h, arch-x86/xen-x86_32.h, arch-arm.h (xen_callback_t)
 * @see xen/arch/x86/pv/callback.c (RELEASE-4.17.7)
 */
import { arg, err, f, familyBuilder, when, type FamilyModule } from '../../builders.js';

const H = 'xen/include/public/callback.h';
const N = 'xen/include/public/nmi.h';
const C = 'xen/arch/x86/pv/callback.c';
const b = familyBuilder('callback', H);

const PV_ABIS = { 'x86_64-pv': 'native', 'x86_32-pv': 'compat' } as const;

// ───────────────────────────── constants ─────────────────────────────

const constants = [
  b.group('CALLBACKTYPE', 'enum', 'Kinds of guest entry point registered with CALLBACKOP_register (x86 PV).', [
    ['CALLBACKTYPE_event', 0, 'Event-channel upcall entry point.'],
    ['CALLBACKTYPE_failsafe', 1, 'Entry point used when Xen cannot restore the guest’s segment state on return.'],
    ['CALLBACKTYPE_syscall', 2, 'SYSCALL entry from 64-bit guest user space (64-bit guests only).'],
    ['CALLBACKTYPE_sysenter_deprecated', 3, 'Former SYSENTER type of 32-bit Xen; not accepted by 4.17.', {
      deprecated: 'Only meaningful on 32-bit hypervisors, which no longer exist; register returns ENOSYS.',
    }],
    ['CALLBACKTYPE_nmi', 4, 'NMI entry point; the only type that can be unregistered.'],
    ['CALLBACKTYPE_sysenter', 5, 'SYSENTER entry from 32-bit guest user space (Intel CPUs).'],
    ['CALLBACKTYPE_syscall32', 7, 'SYSCALL entry from 32-bit guest user space (AMD CPUs).'],
  ], { type: 'uint16_t' }),
  b.group('CALLBACKF', 'flags', 'Flags of CALLBACKOP_register.', [
    ['CALLBACKF_mask_events', 1, 'Mask event delivery while the callback runs (implied for event and NMI callbacks).', { bit: 0 }],
  ], { type: 'uint16_t' }),
  b.group('_CALLBACKF', 'values', 'Bit numbers of the CALLBACKF_* flags.', [
    ['_CALLBACKF_mask_events', 0, 'Bit number of CALLBACKF_mask_events.'],
  ]),
  b.group('XEN_NMIREASON', 'flags', 'Why an NMI was raised, as bits of arch_shared_info.nmi_reason (x86).', [
    ['XEN_NMIREASON_io_error', 1, 'I/O check error (system port 0x61 bit 6).', { bit: 0 }],
    ['XEN_NMIREASON_pci_serr', 2, 'PCI SERR (system port 0x61 bit 7).', { bit: 1 }],
    ['XEN_NMIREASON_unknown', 4, 'Hardware NMI of unknown origin.', { bit: 2 }],
  ], { type: 'unsigned long', ref: { header: N } }),
  b.group('_XEN_NMIREASON', 'values', 'Bit numbers of the XEN_NMIREASON_* flags.', [
    ['_XEN_NMIREASON_io_error', 0, 'Bit number of XEN_NMIREASON_io_error.'],
    ['_XEN_NMIREASON_pci_serr', 1, 'Bit number of XEN_NMIREASON_pci_serr.'],
    ['_XEN_NMIREASON_unknown', 2, 'Bit number of XEN_NMIREASON_unknown.'],
  ], { ref: { header: N } }),
];

// ───────────────────────────── types ─────────────────────────────

const types = [
  b.typedef('xen_callback_t', 'unsigned long', 'A guest callback address: a virtual address on x86_64 and Arm, a code selector and offset on x86_32.', {
    overrides: {
      x86_32: { kind: 'typedef', target: { kind: 'name', name: 'struct xen_callback' } },
      arm: { kind: 'typedef', target: { kind: 'name', name: 'uint64_t' } },
    },
    ref: { header: 'xen/include/public/arch-x86/xen.h' },
  }),
  b.struct('xen_callback', 'A 32-bit callback address: code segment selector and entry offset.', [
    f('cs', 'unsigned long', 'Code segment selector (a ring-0 selector is turned into the ring-1 one).'),
    f('eip', 'unsigned long', 'Entry point offset.'),
  ], { arches: ['x86_32'], ref: { header: 'xen/include/public/arch-x86/xen-x86_32.h' } }),
  b.struct('callback_register', 'Registers a guest entry point of a given kind.', [
    f('type', 'uint16_t', 'CALLBACKTYPE_* kind.', { dir: 'in', values: 'CALLBACKTYPE' }),
    f('flags', 'uint16_t', 'CALLBACKF_* flags.', { dir: 'in', values: 'CALLBACKF' }),
    f('address', 'xen_callback_t', 'The entry point.', { dir: 'in' }),
  ], { aliases: ['callback_register_t'] }),
  b.struct('callback_unregister', 'Removes a registered guest entry point.', [
    f('type', 'uint16_t', 'CALLBACKTYPE_* kind.', { dir: 'in' }),
    f('_unused', 'uint16_t', 'Unused.'),
  ], { aliases: ['callback_unregister_t'] }),
  b.struct('xennmi_callback', 'The NMI entry point of the calling vCPU.', [
    f('handler_address', 'unsigned long', 'Virtual address of the NMI handler.', { dir: 'in' }),
    f('pad', 'unsigned long', 'Unused.'),
  ], { aliases: ['xennmi_callback_t'], ref: { header: N } }),
];

// ───────────────────────────── operations ─────────────────────────────

const nonCanonical = err('EINVAL', 'The address is not canonical (64-bit callers; 32-bit offsets always are).', when.state('non-canonical-address'));

const callbackOps = [
  b.op('CALLBACKOP_register', 0, 'Registers the calling vCPU’s entry point of one kind; for NMI, a pending NMI of vCPU 0 is re-raised.', {
    arg: 'struct callback_register', argDir: 'in',
    errors: [
      nonCanonical,
      err('ENOSYS', 'The type is unknown (3, 6, above 7); 32-bit callers also get it for CALLBACKTYPE_syscall.', when.state('unknown-callback-type')),
    ],
    ref: { header: H, handler: `${C}:register_guest_callback` },
  }),
  b.op('CALLBACKOP_unregister', 1, 'Removes the calling vCPU’s entry point of one kind; only the NMI callback can be removed.', {
    arg: 'struct callback_unregister', argDir: 'in',
    errors: [
      err('EINVAL', 'The type is event, failsafe, syscall (64-bit callers), syscall32 or sysenter, which cannot be unregistered.', when.value('arg.type', 'ne', 4)),
      err('ENOSYS', 'The type is unknown; 32-bit callers also get it for CALLBACKTYPE_syscall.', when.state('unknown-callback-type')),
    ],
    ref: { header: H, handler: `${C}:unregister_guest_callback` },
  }),
];

const nmiOps = [
  b.op('XENNMI_register_callback', 0, 'Sets the calling vCPU’s NMI entry point; a pending NMI of vCPU 0 is re-raised.', {
    arg: 'struct xennmi_callback', argDir: 'in',
    errors: [nonCanonical],
    ref: { header: N, handler: `${C}:register_guest_nmi_callback` },
  }),
  b.op('XENNMI_unregister_callback', 1, 'Clears the calling vCPU’s NMI entry point.', {
    arg: null,
    ref: { header: N, handler: `${C}:unregister_guest_nmi_callback` },
  }),
];

const hypercalls = [
  b.hypercall('set_callbacks', 4, 'Sets the event, failsafe and (64-bit) syscall entry points of the calling vCPU at once.', {
    abis: { ...PV_ABIS },
    args: [
      arg('event_address', 'unsigned long', 'Event upcall entry point.'),
      arg('failsafe_address', 'unsigned long', 'Failsafe entry point.'),
      arg('syscall_address', 'unsigned long', 'SYSCALL entry point for 64-bit user space.'),
    ],
    argsByAbi: {
      'x86_32-pv': [
        arg('event_selector', 'unsigned long', 'Code selector of the event upcall entry point.'),
        arg('event_address', 'unsigned long', 'Offset of the event upcall entry point.'),
        arg('failsafe_selector', 'unsigned long', 'Code selector of the failsafe entry point.'),
        arg('failsafe_address', 'unsigned long', 'Offset of the failsafe entry point.'),
      ],
    },
    returns: { type: 'long', doc: 'Always 0: a non-canonical address is silently not installed.' },
    ref: { header: 'xen/include/public/xen.h', handler: `${C}:do_set_callbacks` },
  }),
  b.hypercall('nmi_op', 28, 'Registers or clears the NMI entry point of the calling vCPU.', {
    abis: { ...PV_ABIS },
    args: [
      arg('cmd', 'unsigned int', 'XENNMI_* command.', { values: 'XENNMI' }),
      arg('arg', 'ptr(void)', 'The command’s struct (NULL for unregister).', { dir: 'in' }),
    ],
    subops: { selector: 'cmd', group: 'XENNMI', argument: 'arg', ops: nmiOps },
    errors: [
      err('ENOSYS', 'The command is not an XENNMI_* command.', when.value('cmd', 'gt', 1)),
      err('EFAULT', 'The argument struct cannot be read.', when.fault('arg')),
    ],
    ref: { header: N, handler: `${C}:do_nmi_op` },
  }),
  b.hypercall('callback_op', 30, 'Registers or removes guest entry points (event, failsafe, syscall, sysenter, NMI) of the calling vCPU.', {
    abis: { ...PV_ABIS },
    args: [
      arg('cmd', 'int', 'CALLBACKOP_* command.', { values: 'CALLBACKOP' }),
      arg('arg', 'ptr(void)', 'The command’s struct (read only).', { dir: 'in' }),
    ],
    subops: { selector: 'cmd', group: 'CALLBACKOP', argument: 'arg', ops: callbackOps },
    errors: [
      err('ENOSYS', 'The command is unknown (64-bit callers).', when.value('cmd', 'gt', 1), ['x86_64']),
      err('EINVAL', 'The command is unknown (32-bit callers: the compat handler differs).', when.value('cmd', 'gt', 1), ['x86_32']),
      err('EFAULT', 'The argument struct cannot be read.', when.fault('arg')),
    ],
    ref: { header: H, handler: `${C}:do_callback_op` },
  }),
];

export const callback: FamilyModule = {
  family: b.family('x86 PV guest entry points: event, failsafe, syscall, sysenter and NMI callbacks.', { header: H, handler: C }),
  types,
  constants,
  hypercalls,
  resources: [],
};
