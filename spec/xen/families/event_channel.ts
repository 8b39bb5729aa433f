/**
 * Event channels: the hypercall event_channel_op (32), its legacy form (16), the
 * structures its operations carry and the FIFO ABI's shared layouts.
 *
 * @see xen/include/public/event_channel.h
 * @see xen/common/event_channel.c, xen/common/event_2l.c, xen/common/event_fifo.c (RELEASE-4.17.7)
 */
import { arg, err, f, familyBuilder, inlineStruct, inlineUnion, use, when, type FamilyModule } from '../../builders.js';
import { ALL_ABIS } from '../abis.js';

const H = 'xen/include/public/event_channel.h';
const C = 'xen/common/event_channel.c';
const b = familyBuilder('event_channel', H);

// ───────────────────────────── constants ─────────────────────────────

const constants = [
  b.group('EVTCHNSTAT', 'enum', 'State of a port as reported by EVTCHNOP_status.', [
    ['EVTCHNSTAT_closed', 0, 'The port is not in use.'],
    ['EVTCHNSTAT_unbound', 1, 'The port waits for a remote domain to bind to it.'],
    ['EVTCHNSTAT_interdomain', 2, 'The port is connected to a port of another (or the same) domain.'],
    ['EVTCHNSTAT_pirq', 3, 'The port is bound to a physical IRQ.'],
    ['EVTCHNSTAT_virq', 4, 'The port is bound to a virtual IRQ.'],
    ['EVTCHNSTAT_ipi', 5, 'The port is bound to an inter-processor interrupt of the domain.'],
  ], { type: 'uint32_t' }),
  b.group('BIND_PIRQ', 'flags', 'Flags of EVTCHNOP_bind_pirq.', [
    ['BIND_PIRQ__WILL_SHARE', 1, 'The guest is willing to share the IRQ line with other domains.'],
  ], { type: 'uint32_t' }),
  b.group('EVTCHN_2L', 'values', 'Limits of the 2-level event channel ABI.', [
    ['EVTCHN_2L_NR_CHANNELS', 4096, 'Ports of the 2-level ABI: bits in the pending bitmap of shared_info (word size squared times 64).', {
      perArch: { x86_32: 1024 },
    }],
  ]),
  b.group('EVTCHN_FIFO', 'values', 'Priorities, event-word bits and limits of the FIFO event channel ABI.', [
    ['EVTCHN_FIFO_PRIORITY_MAX', 0, 'Highest FIFO priority.'],
    ['EVTCHN_FIFO_PRIORITY_DEFAULT', 7, 'Priority of a newly bound port.'],
    ['EVTCHN_FIFO_PRIORITY_MIN', 15, 'Lowest FIFO priority.'],
    ['EVTCHN_FIFO_MAX_QUEUES', 16, 'Number of priority queues per vCPU.'],
    ['EVTCHN_FIFO_PENDING', 31, 'Bit number of the pending flag in an event word.'],
    ['EVTCHN_FIFO_MASKED', 30, 'Bit number of the mask flag in an event word.'],
    ['EVTCHN_FIFO_LINKED', 29, 'Bit number of the linked flag (the event is on a queue).'],
    ['EVTCHN_FIFO_BUSY', 28, 'Bit number of the busy flag (Xen is updating the word).'],
    ['EVTCHN_FIFO_LINK_BITS', 17, 'Width of the link field of an event word.'],
    ['EVTCHN_FIFO_LINK_MASK', 0x1ffff, 'Mask of the link field of an event word.'],
    ['EVTCHN_FIFO_NR_CHANNELS', 131072, 'Ports of the FIFO ABI.'],
  ]),
];

// ───────────────────────────── structs ─────────────────────────────

const port = (name: string, doc: string, dir: 'in' | 'out' | 'inout') => f(name, 'evtchn_port_t', doc, { dir });

const types = [
  b.typedef('evtchn_port_t', 'uint32_t', 'An event channel port number, local to a domain.'),
  b.typedef('event_word_t', 'uint32_t', 'One FIFO event word: pending, masked, linked and busy bits plus a link.'),
  b.struct('evtchn_alloc_unbound', 'Allocates a port in a domain that a remote domain may later bind to.', [
    f('dom', 'domid_t', 'Domain to allocate the port in (DOMID_SELF or, with privilege, another).', { dir: 'in' }),
    f('remote_dom', 'domid_t', 'Domain allowed to bind to the port (DOMID_SELF: the caller).', { dir: 'in' }),
    port('port', 'The allocated port.', 'out'),
  ], { aliases: ['evtchn_alloc_unbound_t'] }),
  b.struct('evtchn_bind_interdomain', 'Connects a new local port to an unbound port of a remote domain.', [
    f('remote_dom', 'domid_t', 'The remote domain (DOMID_SELF: loopback).', { dir: 'in' }),
    port('remote_port', 'The remote domain’s unbound port.', 'in'),
    port('local_port', 'The new local port, connected to the remote one.', 'out'),
  ], { aliases: ['evtchn_bind_interdomain_t'] }),
  b.struct('evtchn_bind_virq', 'Binds a virtual IRQ of a vCPU to a new port.', [
    f('virq', 'uint32_t', 'The VIRQ_* number.', { dir: 'in', values: 'VIRQ' }),
    f('vcpu', 'uint32_t', 'The vCPU to deliver to (0 for a global VIRQ).', { dir: 'in' }),
    port('port', 'The new port.', 'out'),
  ], { aliases: ['evtchn_bind_virq_t'] }),
  b.struct('evtchn_bind_pirq', 'Binds a physical IRQ to a new port.', [
    f('pirq', 'uint32_t', 'The physical IRQ number.', { dir: 'in' }),
    f('flags', 'uint32_t', 'BIND_PIRQ__* flags.', { dir: 'in', values: 'BIND_PIRQ' }),
    port('port', 'The new port.', 'out'),
  ], { aliases: ['evtchn_bind_pirq_t'] }),
  b.struct('evtchn_bind_ipi', 'Allocates a port for inter-processor notifications within the domain.', [
    f('vcpu', 'uint32_t', 'The vCPU to notify.', { dir: 'in' }),
    port('port', 'The new port.', 'out'),
  ], { aliases: ['evtchn_bind_ipi_t'] }),
  b.struct('evtchn_close', 'Closes a port; an interdomain peer becomes unbound.', [port('port', 'The port to close.', 'in')], {
    aliases: ['evtchn_close_t'],
  }),
  b.struct('evtchn_send', 'Notifies the other end of a port.', [port('port', 'The local port to signal.', 'in')], {
    aliases: ['evtchn_send_t'],
  }),
  b.struct('evtchn_status', 'Reports the state of a port of a domain.', [
    f('dom', 'domid_t', 'The domain owning the port.', { dir: 'in' }),
    port('port', 'The port to query.', 'in'),
    f('status', 'uint32_t', 'EVTCHNSTAT_* state.', { dir: 'out', values: 'EVTCHNSTAT' }),
    f('vcpu', 'uint32_t', 'The vCPU notifications are delivered to.', { dir: 'out' }),
    f('u', inlineUnion([
      f('unbound', inlineStruct([f('dom', 'domid_t', 'The domain allowed to bind.')]), 'For EVTCHNSTAT_unbound.'),
      f('interdomain', inlineStruct([
        f('dom', 'domid_t', 'The peer domain.'),
        f('port', 'evtchn_port_t', 'The peer port.'),
      ]), 'For EVTCHNSTAT_interdomain.'),
      f('pirq', 'uint32_t', 'For EVTCHNSTAT_pirq: the IRQ.'),
      f('virq', 'uint32_t', 'For EVTCHNSTAT_virq: the VIRQ.'),
    ]), 'State-specific details.', { dir: 'out' }),
  ], { aliases: ['evtchn_status_t'] }),
  b.struct('evtchn_bind_vcpu', 'Changes the vCPU a port notifies.', [
    port('port', 'The port.', 'in'),
    f('vcpu', 'uint32_t', 'The new vCPU.', { dir: 'in' }),
  ], { aliases: ['evtchn_bind_vcpu_t'] }),
  b.struct('evtchn_unmask', 'Clears the mask bit of a port and redelivers a pending event.', [port('port', 'The port.', 'in')], {
    aliases: ['evtchn_unmask_t'],
  }),
  b.struct('evtchn_reset', 'Closes every port of a domain.', [f('dom', 'domid_t', 'The domain (DOMID_SELF or, with privilege, another).', { dir: 'in' })], {
    aliases: ['evtchn_reset_t'],
  }),
  b.struct('evtchn_init_control', 'Registers a vCPU’s FIFO control block and switches the domain to the FIFO ABI.', [
    f('control_gfn', 'uint64_t', 'Guest frame of the control block.', { dir: 'in' }),
    f('offset', 'uint32_t', 'Offset of the control block within the frame.', { dir: 'in' }),
    f('vcpu', 'uint32_t', 'The vCPU.', { dir: 'in' }),
    f('link_bits', 'uint8_t', 'Width of the link field (EVTCHN_FIFO_LINK_BITS).', { dir: 'out' }),
    f('_pad', 'uint8_t[7]', 'Padding.'),
  ], { aliases: ['evtchn_init_control_t'] }),
  b.struct('evtchn_expand_array', 'Adds a page of event words to the FIFO event array.', [
    f('array_gfn', 'uint64_t', 'Guest frame of the new array page.', { dir: 'in' }),
  ], { aliases: ['evtchn_expand_array_t'] }),
  b.struct('evtchn_set_priority', 'Sets a port’s FIFO priority.', [
    port('port', 'The port.', 'in'),
    f('priority', 'uint32_t', 'Priority, EVTCHN_FIFO_PRIORITY_MAX to _MIN.', { dir: 'in' }),
  ], { aliases: ['evtchn_set_priority_t'] }),
  b.struct('evtchn_op', 'The argument of the legacy event_channel_op_compat: a command and its struct.', [
    f('cmd', 'uint32_t', 'EVTCHNOP_* command (0 to 9).', { dir: 'in', values: 'EVTCHNOP' }),
    f('u', inlineUnion([
      f('alloc_unbound', 'evtchn_alloc_unbound_t', 'EVTCHNOP_alloc_unbound.'),
      f('bind_interdomain', 'evtchn_bind_interdomain_t', 'EVTCHNOP_bind_interdomain.'),
      f('bind_virq', 'evtchn_bind_virq_t', 'EVTCHNOP_bind_virq.'),
      f('bind_pirq', 'evtchn_bind_pirq_t', 'EVTCHNOP_bind_pirq.'),
      f('bind_ipi', 'evtchn_bind_ipi_t', 'EVTCHNOP_bind_ipi.'),
      f('close', 'evtchn_close_t', 'EVTCHNOP_close.'),
      f('send', 'evtchn_send_t', 'EVTCHNOP_send.'),
      f('status', 'evtchn_status_t', 'EVTCHNOP_status.'),
      f('bind_vcpu', 'evtchn_bind_vcpu_t', 'EVTCHNOP_bind_vcpu.'),
      f('unmask', 'evtchn_unmask_t', 'EVTCHNOP_unmask.'),
    ]), 'The command’s struct.', { dir: 'inout' }),
  ], { aliases: ['evtchn_op_t'] }),
  b.struct('evtchn_fifo_control_block', 'Per-vCPU FIFO control block: ready bits and queue heads.', [
    f('ready', 'uint32_t', 'Bit per priority queue that has events.'),
    f('_rsvd', 'uint32_t', 'Reserved.'),
    f('head', 'uint32_t[EVTCHN_FIFO_MAX_QUEUES]', 'Head port of each priority queue.'),
  ], { aliases: ['evtchn_fifo_control_block_t'] }),
];

// ───────────────────────────── operations ─────────────────────────────

const badPort = (path: string) =>
  err('EINVAL', 'The port is beyond the domain’s allocated ports.', when.resource(path, 'evtchn_port', 'out-of-range'));
const noDomain = (path: string) => err('ESRCH', 'The domain does not exist.', when.resource(path, 'domid', 'nonexistent'));
const notTarget = (path: string) =>
  err('EPERM', 'The domain is neither the caller nor one the caller controls.', when.resource(path, 'domid', 'foreign'));
const noSpace = err('ENOSPC', 'Every port up to the domain’s limit is in use.', when.state('ports-exhausted'));
const noVcpu = (path: string) => err('ENOENT', 'The vCPU does not exist.', when.resource(path, 'vcpu_id', 'nonexistent'));

const ops = [
  b.op('EVTCHNOP_bind_interdomain', 0, 'Connects a new local port to an unbound port of a remote domain; the new port is set pending.', {
    arg: 'struct evtchn_bind_interdomain', argDir: 'inout',
    errors: [
      noDomain('arg.remote_dom'),
      noSpace,
      err('EINVAL', 'The remote port is invalid.', when.resource('arg.remote_port', 'evtchn_port', 'out-of-range')),
      err('EINVAL', 'The remote port is not unbound, or is reserved for another domain.', when.resource('arg.remote_port', 'evtchn_port', 'wrong-state')),
    ],
    consumes: [use('domid', 'arg.remote_dom'), use('evtchn_port', 'arg.remote_port', 'a port of the remote domain')],
    produces: [use('evtchn_port', 'arg.local_port')],
    ref: { header: H, handler: `${C}:evtchn_bind_interdomain` },
  }),
  b.op('EVTCHNOP_bind_virq', 1, 'Binds a virtual IRQ to a new port on a vCPU.', {
    arg: 'struct evtchn_bind_virq', argDir: 'inout',
    errors: [
      err('EINVAL', 'The VIRQ number is not below NR_VIRQS.', when.value('arg.virq', 'ge', 24)),
      err('EINVAL', 'A global VIRQ is bound to a vCPU other than 0.', when.state('global-virq-on-nonzero-vcpu')),
      noVcpu('arg.vcpu'),
      err('EEXIST', 'The VIRQ is already bound on that vCPU.', when.state('virq-already-bound')),
      noSpace,
    ],
    consumes: [use('vcpu_id', 'arg.vcpu')],
    produces: [use('evtchn_port', 'arg.port')],
    ref: { header: H, handler: `${C}:evtchn_bind_virq` },
  }),
  b.op('EVTCHNOP_bind_pirq', 2, 'Binds a physical IRQ to a new port (hardware or driver domains).', {
    referenceVmm: { implemented: false, reason: 'physical IRQs are not modelled (no devices)' },
    arg: 'struct evtchn_bind_pirq', argDir: 'inout',
    errors: [
      err('EINVAL', 'The PIRQ is not below the domain’s nr_pirqs.', when.state('pirq-out-of-range')),
      err('EPERM', 'The domain has no access to the IRQ.', when.privilege('irq-access')),
      err('EEXIST', 'The PIRQ is already bound.', when.state('pirq-already-bound')),
      noSpace,
    ],
    produces: [use('evtchn_port', 'arg.port')],
    ref: { header: H, handler: `${C}:evtchn_bind_pirq` },
  }),
  b.op('EVTCHNOP_close', 3, 'Closes a port. An interdomain peer port becomes unbound, open to the closer’s domain.', {
    arg: 'struct evtchn_close', argDir: 'in',
    errors: [
      badPort('arg.port'),
      err('EINVAL', 'The port is free or reserved (port 0), or used by Xen itself.', when.resource('arg.port', 'evtchn_port', 'free')),
    ],
    consumes: [use('evtchn_port', 'arg.port')],
    ref: { header: H, handler: `${C}:evtchn_close` },
  }),
  b.op('EVTCHNOP_send', 4, 'Signals the remote end of an interdomain port, or the port itself for an IPI port; unbound ports drop the event.', {
    arg: 'struct evtchn_send', argDir: 'in',
    errors: [
      badPort('arg.port'),
      err('EINVAL', 'The port is free, reserved, or bound to a VIRQ or PIRQ.', when.resource('arg.port', 'evtchn_port', 'free')),
    ],
    consumes: [use('evtchn_port', 'arg.port')],
    ref: { header: H, handler: `${C}:evtchn_send` },
  }),
  b.op('EVTCHNOP_status', 5, 'Reports the state, vCPU and binding of a port.', {
    arg: 'struct evtchn_status', argDir: 'inout',
    errors: [noDomain('arg.dom'), badPort('arg.port'), notTarget('arg.dom')],
    consumes: [use('domid', 'arg.dom'), use('evtchn_port', 'arg.port')],
    ref: { header: H, handler: `${C}:evtchn_status` },
  }),
  b.op('EVTCHNOP_alloc_unbound', 6, 'Allocates an unbound port in a domain, to be bound by a named remote domain.', {
    arg: 'struct evtchn_alloc_unbound', argDir: 'inout',
    errors: [noDomain('arg.dom'), notTarget('arg.dom'), noSpace],
    consumes: [use('domid', 'arg.dom'), use('domid', 'arg.remote_dom')],
    produces: [use('evtchn_port', 'arg.port')],
    ref: { header: H, handler: `${C}:evtchn_alloc_unbound` },
  }),
  b.op('EVTCHNOP_bind_ipi', 7, 'Allocates a port that notifies a vCPU of the caller.', {
    arg: 'struct evtchn_bind_ipi', argDir: 'inout',
    errors: [noVcpu('arg.vcpu'), noSpace],
    consumes: [use('vcpu_id', 'arg.vcpu')],
    produces: [use('evtchn_port', 'arg.port')],
    ref: { header: H, handler: `${C}:evtchn_bind_ipi` },
  }),
  b.op('EVTCHNOP_bind_vcpu', 8, 'Sets the vCPU a port notifies.', {
    arg: 'struct evtchn_bind_vcpu', argDir: 'in',
    errors: [
      noVcpu('arg.vcpu'),
      badPort('arg.port'),
      err('EINVAL', 'The port is free, reserved, an IPI port, or bound to a per-vCPU VIRQ.', when.resource('arg.port', 'evtchn_port', 'wrong-state')),
    ],
    consumes: [use('evtchn_port', 'arg.port'), use('vcpu_id', 'arg.vcpu')],
    ref: { header: H, handler: `${C}:evtchn_bind_vcpu` },
  }),
  b.op('EVTCHNOP_unmask', 9, 'Clears a port’s mask bit; a pending event is then delivered to the port’s vCPU.', {
    arg: 'struct evtchn_unmask', argDir: 'in',
    errors: [badPort('arg.port')],
    consumes: [use('evtchn_port', 'arg.port')],
    ref: { header: H, handler: `${C}:evtchn_unmask` },
  }),
  b.op('EVTCHNOP_reset', 10, 'Closes every port of a domain and returns it to the 2-level ABI.', {
    arg: 'struct evtchn_reset', argDir: 'in',
    errors: [
      noDomain('arg.dom'),
      notTarget('arg.dom'),
      err('EINVAL', 'The target is another domain that its controller has not paused.', when.state('target-not-paused')),
      err('EBUSY', 'A reset of the domain is already in progress.', when.state('reset-in-progress')),
      err('EAGAIN', 'Channels used by Xen itself are still active after the reset.', when.state('xen-consumers-active')),
    ],
    consumes: [use('domid', 'arg.dom')],
    ref: { header: H, handler: `${C}:evtchn_reset` },
  }),
  b.op('EVTCHNOP_init_control', 11, 'Registers a vCPU’s FIFO control block; the first call switches the domain to the FIFO ABI.', {
    referenceVmm: { implemented: false, reason: 'the FIFO event-channel ABI is not modelled (2-level only)' },
    arg: 'struct evtchn_init_control', argDir: 'inout',
    errors: [
      noVcpu('arg.vcpu'),
      err('EINVAL', 'The offset leaves no room for the control block in the page.', when.value('arg.offset', 'gt', 4096 - 72)),
      err('EINVAL', 'The offset is not 8-byte aligned.', when.value('arg.offset', 'mask', 7)),
      err('EINVAL', 'The control frame cannot be mapped.', when.resource('arg.control_gfn', 'gfn', 'unmapped')),
    ],
    consumes: [use('gfn', 'arg.control_gfn'), use('vcpu_id', 'arg.vcpu')],
    ref: { header: H, handler: 'xen/common/event_fifo.c:evtchn_fifo_init_control' },
  }),
  b.op('EVTCHNOP_expand_array', 12, 'Adds a page of FIFO event words.', {
    referenceVmm: { implemented: false, reason: 'the FIFO event-channel ABI is not modelled (2-level only)' },
    arg: 'struct evtchn_expand_array', argDir: 'in',
    errors: [
      err('EOPNOTSUPP', 'The domain does not use the FIFO ABI.', when.state('abi-2l')),
      err('EINVAL', 'The array frame cannot be mapped.', when.resource('arg.array_gfn', 'gfn', 'unmapped')),
    ],
    consumes: [use('gfn', 'arg.array_gfn')],
    ref: { header: H, handler: 'xen/common/event_fifo.c:evtchn_fifo_expand_array' },
  }),
  b.op('EVTCHNOP_set_priority', 13, 'Sets a port’s FIFO priority.', {
    referenceVmm: { implemented: false, reason: 'the FIFO event-channel ABI is not modelled (2-level only)' },
    arg: 'struct evtchn_set_priority', argDir: 'in',
    errors: [
      badPort('arg.port'),
      err('ENOSYS', 'The domain uses the 2-level ABI, which has no priorities.', when.state('abi-2l')),
      err('EINVAL', 'The priority is lower than EVTCHN_FIFO_PRIORITY_MIN.', when.value('arg.priority', 'gt', 15)),
    ],
    consumes: [use('evtchn_port', 'arg.port')],
    ref: { header: H, handler: `${C}:evtchn_set_priority` },
  }),
];

const hypercalls = [
  b.hypercall('event_channel_op', 32, 'Event channel operations: allocate, bind, signal, query and close ports.', {
    abis: Object.fromEntries(ALL_ABIS.map((a) => [a, 'native'])),
    args: [
      arg('cmd', 'int', 'EVTCHNOP_* command.', { values: 'EVTCHNOP' }),
      arg('arg', 'ptr(void)', 'The command’s struct.', { dir: 'inout' }),
    ],
    subops: { selector: 'cmd', group: 'EVTCHNOP', argument: 'arg', ops },
    errors: [
      err('ENOSYS', 'The command is not an EVTCHNOP_* operation.', when.state('unknown-command')),
      err('EFAULT', 'The argument struct cannot be read or written.', when.fault('arg')),
    ],
    ref: { header: H, handler: `${C}:do_event_channel_op` },
  }),
  b.hypercall('event_channel_op_compat', 16, 'Legacy form of event_channel_op: a struct evtchn_op carrying the command and its argument.', {
    referenceVmm: { implemented: false, reason: 'not implemented yet: the legacy wrapper (struct evtchn_op) of event_channel_op' },
    abis: { 'x86_64-pv': 'native', 'x86_32-pv': 'native' },
    args: [arg('uop', 'ptr(struct evtchn_op)', 'Command and argument.', { dir: 'inout' })],
    deprecated: { since: '0x00030202', replacedBy: 'event_channel_op', doc: 'Only commands 0 to 9 are accepted.' },
    errors: [
      err('EFAULT', 'The struct cannot be read or written.', when.fault('uop')),
      err('ENOSYS', 'The command is not one of EVTCHNOP 0 to 9.', when.value('uop.cmd', 'gt', 9)),
    ],
    ref: { header: 'xen/include/public/xen.h', handler: 'xen/arch/x86/compat.c:do_event_channel_op_compat' },
  }),
];

const resources = [
  b.resource('evtchn_port', 'evtchn_port_t', 'An event channel port of a domain. Port 0 is reserved and never allocated.'),
];

export const eventChannel: FamilyModule = {
  family: b.family('Event channels: asynchronous notifications between domains, vCPUs, VIRQs and PIRQs.', { header: H, handler: C }),
  types,
  constants,
  hypercalls,
  resources,
};
