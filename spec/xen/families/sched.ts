/**
 * Scheduling: sched_op (29) with its SCHEDOP_* operations, the legacy sched_op_compat (6)
 * and the single-shot timer hypercall set_timer_op (15).
 *
 * @see xen/include/public/sched.h
 * @see xen/common/sched/core.c, xen/common/sched/compat.c, xen/arch/x86/compat.c (RELEASE-4.17.7)
 */
import { arg, err, f, familyBuilder, use, when, type FamilyModule } from '../../builders.js';

const H = 'xen/include/public/sched.h';
const C = 'xen/common/sched/core.c';
const b = familyBuilder('sched', H);

// ───────────────────────────── constants ─────────────────────────────

const constants = [
  b.group('SHUTDOWN', 'enum', 'Reasons a domain gives for shutting down; the toolstack acts on the latched reason.', [
    ['SHUTDOWN_poweroff', 0, 'The domain has finished: tear it down.'],
    ['SHUTDOWN_reboot', 1, 'Tear the domain down and start it again.'],
    ['SHUTDOWN_suspend', 2, 'Save the domain’s state for a later resume, then tear it down.'],
    ['SHUTDOWN_crash', 3, 'The domain crashed; the toolstack applies its on-crash policy.'],
    ['SHUTDOWN_watchdog', 4, 'A domain watchdog timer expired; Xen itself uses this reason.'],
    ['SHUTDOWN_soft_reset', 5, 'Reset the domain’s state in place while keeping its memory (used for kexec-style restarts).'],
    ['SHUTDOWN_MAX', 5, 'The largest defined reason.'],
  ], { type: 'unsigned int' }),
];

// ───────────────────────────── types ─────────────────────────────

const types = [
  b.typedef('s_time_t', 'int64_t', 'Xen system time in nanoseconds, signed. Xen’s own type: the public headers do not declare it.', {
    probe: false,
    ref: { handler: 'xen/include/xen/time.h' },
  }),
  b.struct('sched_shutdown', 'Argument of SCHEDOP_shutdown and SCHEDOP_shutdown_code.', [
    f('reason', 'unsigned int', 'SHUTDOWN_* reason; Xen keeps only the low 8 bits and does not check the value.', { dir: 'in', values: 'SHUTDOWN' }),
  ], { aliases: ['sched_shutdown_t'] }),
  b.struct('sched_poll', 'Argument of SCHEDOP_poll: the ports to wait on and a deadline.', [
    f('ports', 'handle(evtchn_port_t)', 'Array of local ports to wait on.', { dir: 'in', count: 'nr_ports' }),
    f('nr_ports', 'unsigned int', 'Number of ports in the array (at most 128).', { dir: 'in' }),
    f('timeout', 'uint64_t', 'Absolute system time (ns) at which to stop waiting; 0 waits without a deadline.', { dir: 'in' }),
  ], { aliases: ['sched_poll_t'] }),
  b.struct('sched_remote_shutdown', 'Argument of SCHEDOP_remote_shutdown: another domain and the reason to shut it down with.', [
    f('domain_id', 'domid_t', 'The domain to shut down, by its numeric id (DOMID_SELF is not accepted).', { dir: 'in' }),
    f('reason', 'unsigned int', 'SHUTDOWN_* reason, kept to 8 bits.', { dir: 'in', values: 'SHUTDOWN' }),
  ], { aliases: ['sched_remote_shutdown_t'] }),
  b.struct('sched_watchdog', 'Argument of SCHEDOP_watchdog: creates, re-arms or destroys a domain watchdog timer.', [
    f('id', 'uint32_t', '0 to allocate a new timer; otherwise the id of an existing timer (1 or 2).', { dir: 'in' }),
    f('timeout', 'uint32_t', 'Seconds until expiry; 0 with a non-zero id destroys the timer.', { dir: 'in' }),
  ], { aliases: ['sched_watchdog_t'] }),
  b.struct('sched_pin_override', 'Argument of SCHEDOP_pin_override: pins the calling vCPU to one physical CPU, or releases the pin.', [
    f('pcpu', 'int32_t', 'Physical CPU to pin to; a negative value removes the override.', { dir: 'in' }),
  ], { aliases: ['sched_pin_override_t'] }),
];

// ───────────────────────────── operations ─────────────────────────────

const readArg = err('EFAULT', 'The argument struct cannot be read.', when.fault('arg'));

const ops = [
  b.op('SCHEDOP_yield', 0, 'Gives up the physical CPU to other runnable vCPUs; the caller stays runnable. Returns 0.', {
    arg: null,
    ref: { header: H, handler: `${C}:vcpu_yield` },
  }),
  b.op('SCHEDOP_block', 1,
    'Enables event delivery for the calling vCPU and blocks it until an event is pending for it; returns at once ' +
    'if one already is. Returns 0. The Arm header asks guests to prefer WFI, but Xen handles the call there too.', {
      arg: null,
      ref: { header: H, handler: `${C}:vcpu_block_enable_events` },
    }),
  b.op('SCHEDOP_shutdown', 2,
    'Shuts the calling domain down: latches the reason unless one is already latched, pauses every vCPU and tells ' +
    'the toolstack. Returns 0 (the vCPU normally does not run again). For SHUTDOWN_suspend an x86 PV guest also ' +
    'passes the frame of its start_info in the third argument register, for the toolstack to read.', {
      arg: 'struct sched_shutdown', argDir: 'in',
      errors: [readArg],
      ref: { header: H, handler: 'xen/common/domain.c:domain_shutdown' },
    }),
  b.op('SCHEDOP_poll', 3,
    'Blocks the calling vCPU until one of the given ports is pending or the deadline passes, even with events ' +
    'masked. Returns 0 at once when an event is already deliverable or a polled port is pending.', {
      arg: 'struct sched_poll', argDir: 'in',
      errors: [
        readArg,
        err('EINVAL', 'More than 128 ports are given.', when.value('arg.nr_ports', 'gt', 128)),
        err('EFAULT', 'The port array is not accessible to the guest, or an element cannot be read.', when.fault('arg.ports')),
        err('EINVAL', 'A port is beyond the domain’s allocated ports.', when.resource('arg.ports[]', 'evtchn_port', 'out-of-range')),
        err('EINVAL', 'A port is free, reserved, or used by Xen itself.', when.resource('arg.ports[]', 'evtchn_port', 'free')),
      ],
      consumes: [use('evtchn_port', 'arg.ports[]', 'ports of the calling domain')],
      ref: { header: H, handler: `${C}:do_poll` },
    }),
  b.op('SCHEDOP_remote_shutdown', 4, 'Shuts another domain down with a reason (the caller must control it). Returns 0.', {
    arg: 'struct sched_remote_shutdown', argDir: 'in',
    privilege: 'device-model',
    errors: [
      readArg,
      err('ESRCH', 'No domain has this id.', when.resource('arg.domain_id', 'domid', 'nonexistent')),
      err('ESRCH', 'A reserved id such as DOMID_SELF is given: the id is looked up literally.', when.value('arg.domain_id', 'ge', 0x7ff0)),
      err('EPERM', 'The caller is neither the control domain nor the device model of the target.', when.privilege('device-model')),
    ],
    consumes: [use('domid', 'arg.domain_id')],
    ref: { header: H, handler: `${C}:do_sched_op` },
  }),
  b.op('SCHEDOP_shutdown_code', 5,
    'Latches a shutdown reason without shutting down, unless one is already latched; a later shutdown reports the ' +
    'latched reason. Returns 0.', {
      arg: 'struct sched_shutdown', argDir: 'in',
      errors: [readArg],
      ref: { header: H, handler: `${C}:do_sched_op` },
    }),
  b.op('SCHEDOP_watchdog', 6,
    'Manages the domain’s two watchdog timers. With id 0, allocates a timer, arms it and returns its id (1 or 2); ' +
    'with an id, re-arms the timer or (timeout 0) destroys it and returns 0. An expired timer shuts the domain ' +
    'down with SHUTDOWN_watchdog.', {
      arg: 'struct sched_watchdog', argDir: 'in',
      errors: [
        readArg,
        err('EINVAL', 'The id is above 2.', when.value('arg.id', 'gt', 2)),
        err('EINVAL', 'The id names a timer that is not allocated.', when.resource('arg.id', 'watchdog', 'free')),
        err('ENOSPC', 'id is 0 and both timers are in use. Xen 4.17 converts the -ENOSPC to its unsigned 32-bit id type on the way out (a bug), so a 64-bit caller reads 2^32 - ENOSPC (0xffffffe4), a positive result; 32-bit callers see -ENOSPC.', when.state('watchdogs-exhausted')),
      ],
      consumes: [use('watchdog', 'arg.id', 'when non-zero')],
      ref: { header: H, handler: `${C}:domain_watchdog` },
    }),
  b.op('SCHEDOP_pin_override', 7,
    'Temporarily pins the calling vCPU to a physical CPU, overriding its affinity, or (negative pcpu) restores the ' +
    'saved affinity. Meant for the hardware domain calling firmware that must run on a given CPU. Returns 0.', {
      arg: 'struct sched_pin_override', argDir: 'in',
      privilege: 'hardware-domain',
      errors: [
        err('EPERM', 'The caller is not the hardware domain (checked before the argument is read).', when.privilege('hardware-domain')),
        readArg,
        err('EINVAL', 'pcpu is not below Xen’s build-time CPU limit (NR_CPUS).', when.state('pcpu-above-nr-cpus')),
        err('EINVAL', 'pcpu names no CPU present, or one outside the vCPU’s cpupool.', when.state('pcpu-not-online')),
        err('EINVAL', 'pcpu is negative but no override is in force.', when.state('no-pin-override')),
        err('EBUSY', 'An override is already in force (or affinity is broken for another reason and pcpu differs from the current CPU).', when.state('pin-override-active')),
      ],
      ref: { header: H, handler: `${C}:vcpu_temporary_affinity` },
    }),
];

// ───────────────────────────── hypercalls ─────────────────────────────

const hypercalls = [
  b.hypercall('sched_op_compat', 6,
    'Legacy scheduler call: cmd is SCHEDOP_yield, SCHEDOP_block or SCHEDOP_shutdown, and for shutdown the reason is ' +
    'passed directly in arg (no struct). Returns 0.', {
      abis: { 'x86_64-pv': 'native', 'x86_32-pv': 'native' },
      args: [
        arg('cmd', 'int', 'SCHEDOP_yield (0), SCHEDOP_block (1) or SCHEDOP_shutdown (2).'),
        arg('arg', 'unsigned long', 'For SCHEDOP_shutdown: the SHUTDOWN_* reason (low 8 bits kept); ignored otherwise.', { values: 'SHUTDOWN' }),
      ],
      deprecated: { since: '0x00030101', replacedBy: 'sched_op', doc: 'Superseded by sched_op; only the first three commands exist.' },
      errors: [
        err('ENOSYS', 'cmd is not 0, 1 or 2.', when.value('cmd', 'gt', 2, 'also for negative values')),
      ],
      ref: { header: 'xen/include/public/xen.h', handler: 'xen/arch/x86/compat.c:do_sched_op_compat' },
    }),
  b.hypercall('set_timer_op', 15,
    'Sets (or with 0 cancels) the calling vCPU’s single-shot timer to an absolute system time; expiry raises ' +
    'VIRQ_TIMER on the vCPU. A negative time, or one more than 2^50 ns ahead, arms the timer 100 ms from now ' +
    'instead. Always returns 0.', {
      abis: { 'x86_64-pv': 'native', 'x86_32-pv': 'compat', 'x86_64-hvm': 'native', 'x86_32-hvm': 'compat' },
      args: [arg('timeout', 's_time_t', 'Absolute system time in ns; 0 stops the timer.')],
      argsByAbi: {
        'x86_32-pv': [
          arg('lo', 'uint32_t', 'Low 32 bits of the absolute timeout.'),
          arg('hi', 'uint32_t', 'High 32 bits of the absolute timeout.'),
        ],
        'x86_32-hvm': [
          arg('lo', 'uint32_t', 'Low 32 bits of the absolute timeout.'),
          arg('hi', 'uint32_t', 'High 32 bits of the absolute timeout.'),
        ],
      },
      returns: { type: 'long', doc: 'Always 0.' },
      ref: { header: 'xen/include/public/xen.h', handler: `${C}:do_set_timer_op` },
    }),
  b.hypercall('sched_op', 29, 'Scheduler operations on the calling vCPU or domain: yield, block, poll, shut down, watchdogs.', {
    abis: {
      'x86_64-pv': 'native',
      'x86_32-pv': 'compat',
      'x86_64-hvm': 'native',
      'x86_32-hvm': 'compat',
      arm64: 'native',
      arm32: 'native',
    },
    args: [
      arg('cmd', 'int', 'SCHEDOP_* command.', { values: 'SCHEDOP' }),
      arg('arg', 'ptr(void)', 'The command’s struct, or NULL for yield and block.', { dir: 'in' }),
    ],
    returns: { type: 'long', doc: '0 on success (SCHEDOP_watchdog with id 0: the new timer id), or a negative errno.' },
    subops: { selector: 'cmd', group: 'SCHEDOP', argument: 'arg', ops },
    errors: [err('ENOSYS', 'The command is not a SCHEDOP_* operation.', when.state('unknown-command'))],
    ref: { header: H, handler: `${C}:do_sched_op` },
  }),
];

const resources = [
  b.resource('watchdog', 'uint32_t', 'A watchdog timer of a domain, numbered 1 and 2; SCHEDOP_watchdog with id 0 returns a new one as its result.'),
];

export const sched: FamilyModule = {
  family: b.family('Scheduling: yield, block, poll, shutdown, watchdogs and the single-shot timer.', { header: H, handler: C }),
  types,
  constants,
  hypercalls,
  resources,
};
