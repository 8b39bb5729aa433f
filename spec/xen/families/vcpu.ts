/**
 * vcpu_op (24): vCPU life cycle, runstate reporting, timers and registration of the
 * vcpu_info, runstate and time areas in guest memory.
 *
 * @see xen/include/public/vcpu.h
 * @see xen/common/domain.c:common_vcpu_op, xen/arch/x86/domain.c:do_vcpu_op,
 *      xen/arch/arm/domain.c:do_vcpu_op, xen/common/compat/domain.c, xen/arch/x86/x86_64/domain.c (RELEASE-4.17.7)
 */
import { arg, err, f, familyBuilder, inlineUnion, use, when, type FamilyModule } from '../../builders.js';

const H = 'xen/include/public/vcpu.h';
const C = 'xen/common/domain.c';
const X = 'xen/arch/x86/domain.c';
const b = familyBuilder('vcpu', H);

// ───────────────────────────── constants ─────────────────────────────

const constants = [
  b.group('RUNSTATE', 'enum', 'Scheduling state of a vCPU, as reported in vcpu_runstate_info.state.', [
    ['RUNSTATE_running', 0, 'The vCPU is running on a physical CPU.'],
    ['RUNSTATE_runnable', 1, 'The vCPU could run but waits for a physical CPU.'],
    ['RUNSTATE_blocked', 2, 'The vCPU waits for an event and is not runnable.'],
    ['RUNSTATE_offline', 3, 'The vCPU is neither running nor waiting for an event: down, paused, or preempted for Xen’s own work.'],
  ], { type: 'int' }),
  b.flags('XEN_RUNSTATE', 'Flag bits carried in vcpu_runstate_info.state_entry_time.', [
    ['XEN_RUNSTATE_UPDATE', 63, 'Set while Xen rewrites a registered runstate area (with VMASST_TYPE_runstate_update_flag enabled): the reader must retry.'],
  ], { type: 'uint64_t' }),
  b.flags('VCPU_SSHOTTMR', 'Flags of VCPUOP_set_singleshot_timer.', [
    ['VCPU_SSHOTTMR_future', 0, 'Ask for an error if the timeout has already passed; Xen 4.17 ignores it and fires the timer at once.'],
  ], { type: 'uint32_t' }),
  b.group('_VCPU_SSHOTTMR', 'values', 'Bit numbers of the VCPU_SSHOTTMR flags.', [
    ['_VCPU_SSHOTTMR_future', 0, 'Bit number of VCPU_SSHOTTMR_future.'],
  ]),
];

// ───────────────────────────── types ─────────────────────────────

const types = [
  b.struct('vcpu_runstate_info', 'Time accounting of a vCPU: its current state and the time spent in each state.', [
    f('state', 'int', 'Current RUNSTATE_* state.', { dir: 'out', values: 'RUNSTATE' }),
    f('state_entry_time', 'uint64_t', 'System time (ns) at which the current state was entered; bit 63 is XEN_RUNSTATE_UPDATE.', { dir: 'out' }),
    f('time', 'uint64_t[4]', 'Nanoseconds spent in each RUNSTATE_*, indexed by state; their sum follows system time.', { dir: 'out' }),
  ], { aliases: ['vcpu_runstate_info_t'] }),
  b.struct('vcpu_register_runstate_memory_area', 'Argument of VCPUOP_register_runstate_memory_area: where Xen keeps a copy of the runstate.', [
    f('addr', inlineUnion([
      f('h', 'handle(vcpu_runstate_info_t)', 'The area as a guest handle.'),
      f('v', 'ptr(struct vcpu_runstate_info)', 'The area as a guest virtual pointer.'),
      f('p', 'uint64_t', 'The raw 64-bit value, which sizes the union on every ABI.'),
    ]), 'Guest virtual address of the area; a 32-bit guest’s compat handle is read from the low 4 bytes only.', { dir: 'in' }),
  ], { aliases: ['vcpu_register_runstate_memory_area_t'] }),
  b.struct('vcpu_set_periodic_timer', 'Argument of VCPUOP_set_periodic_timer.', [
    f('period_ns', 'uint64_t', 'Period in nanoseconds, at least 1 ms.', { dir: 'in' }),
  ], { aliases: ['vcpu_set_periodic_timer_t'] }),
  b.struct('vcpu_set_singleshot_timer', 'Argument of VCPUOP_set_singleshot_timer.', [
    f('timeout_abs_ns', 'uint64_t', 'Absolute system time (ns) at which the timer fires.', { dir: 'in' }),
    f('flags', 'uint32_t', 'VCPU_SSHOTTMR_* flags.', { dir: 'in', values: 'VCPU_SSHOTTMR' }),
  ], { aliases: ['vcpu_set_singleshot_timer_t'] }),
  b.struct('vcpu_register_vcpu_info', 'Argument of VCPUOP_register_vcpu_info: the page and offset of a vCPU’s new vcpu_info.', [
    f('mfn', 'uint64_t', 'Guest frame holding the vcpu_info (a GFN for translated guests, the machine frame for PV).', { dir: 'in' }),
    f('offset', 'uint32_t', 'Byte offset of the vcpu_info within that frame.', { dir: 'in' }),
    f('rsvd', 'uint32_t', 'Reserved; not read.', { dir: 'in' }),
  ], { aliases: ['vcpu_register_vcpu_info_t'] }),
  b.struct('vcpu_get_physid', 'Result of VCPUOP_get_physid: the physical CPU identifiers behind a pinned vCPU.', [
    f('phys_id', 'uint64_t', 'x86: the APIC id in bits 0-31 and the ACPI processor id in bits 32-63.', { dir: 'out' }),
  ], { aliases: ['vcpu_get_physid_t'] }),
  b.struct('vcpu_register_time_memory_area', 'Argument of VCPUOP_register_vcpu_time_memory_area: where Xen keeps a copy of the vCPU’s time info.', [
    f('addr', inlineUnion([
      f('h', 'handle(vcpu_time_info_t)', 'The area as a guest handle.'),
      f('v', 'ptr(struct vcpu_time_info)', 'The area as a guest virtual pointer.'),
      f('p', 'uint64_t', 'The raw 64-bit value, which sizes the union on every ABI.'),
    ]), 'Guest virtual address of the area; a 32-bit guest’s compat handle is read from the low 4 bytes only.', { dir: 'in' }),
  ], { aliases: ['vcpu_register_time_memory_area_t'] }),
];

// ───────────────────────────── operations ─────────────────────────────

const X86 = ['x86'];
const readArg = err('EFAULT', 'The argument struct cannot be read.', when.fault('arg'));
const notCurrent = err('EINVAL', 'vcpuid is not the calling vCPU.', when.state('vcpu-not-current'));
const target = [use('vcpu_id', 'vcpuid')];

const ops = [
  b.op('VCPUOP_initialise', 0,
    'Sets the initial register state of a vCPU that has never run. The argument is a vcpu_guest_context for PV ' +
    'guests and a struct vcpu_hvm_context for HVM and PVH guests. x86 only (Arm: -EINVAL).', {
      arg: 'struct vcpu_guest_context', argDir: 'in',
      abis: X86,
      errors: [
        err('EINVAL', 'The vCPU has no vcpu_info yet (ids of 32 and above must register one first).', when.state('no-vcpu-info')),
        err('ENOMEM', 'Xen cannot allocate memory for the context.', when.state('out-of-memory')),
        readArg,
        err('EEXIST', 'The vCPU is already initialised.', when.state('vcpu-initialised')),
        err('EINVAL', 'The context is not acceptable (bad selectors, control registers, page tables or mode).', when.state('bad-context')),
      ],
      consumes: target,
      ref: { header: H, handler: `${X}:arch_initialise_vcpu` },
    }),
  b.op('VCPUOP_up', 1, 'Marks an initialised vCPU up and wakes it. Returns 0 (also if it was already up). x86 only.', {
    arg: null,
    abis: X86,
    errors: [err('EINVAL', 'The vCPU has not been initialised.', when.state('vcpu-not-initialised'))],
    consumes: target,
    ref: { header: H, handler: `${C}:common_vcpu_op` },
  }),
  b.op('VCPUOP_down', 2,
    'Marks a vCPU down so that it no longer runs. If every other vCPU is already down, the domain is shut down ' +
    'with SHUTDOWN_poweroff instead. Returns 0. x86 only.', {
      arg: null,
      abis: X86,
      consumes: target,
      ref: { header: H, handler: `${C}:common_vcpu_op` },
    }),
  b.op('VCPUOP_is_up', 3, 'Returns 1 if the vCPU is up, 0 if it is down. x86 only.', {
    arg: null,
    abis: X86,
    consumes: target,
    ref: { header: H, handler: `${C}:common_vcpu_op` },
  }),
  b.op('VCPUOP_get_runstate_info', 4, 'Copies the vCPU’s current runstate accounting out. Returns 0. x86 only.', {
    arg: 'struct vcpu_runstate_info', argDir: 'out',
    abis: X86,
    errors: [err('EFAULT', 'The result cannot be written.', when.fault('arg'))],
    consumes: target,
    ref: { header: H, handler: `${C}:common_vcpu_op` },
  }),
  b.op('VCPUOP_register_runstate_memory_area', 5,
    'Registers a guest virtual area that Xen updates with the vCPU’s runstate on every context switch, and fills ' +
    'it immediately. A null address stops the updates. Returns 0.', {
      arg: 'struct vcpu_register_runstate_memory_area', argDir: 'in',
      errors: [
        readArg,
        err('EFAULT', 'x86 PV: the area lies in Xen’s address range (guest_handle_okay checks the address, not the mapping: an unmapped area in the guest’s range is registered, and updates to it fault silently).', when.fault('arg.addr.h'), ['x86_64-pv', 'x86_32-pv']),
      ],
      consumes: target,
      ref: { header: H, handler: `${C}:common_vcpu_op` },
    }),
  b.op('VCPUOP_set_periodic_timer', 6, 'Starts a periodic timer that raises VIRQ_TIMER on the vCPU. Returns 0. x86 only.', {
    arg: 'struct vcpu_set_periodic_timer', argDir: 'in',
    abis: X86,
    errors: [
      readArg,
      err('EINVAL', 'The period is shorter than 1 ms.', when.value('arg.period_ns', 'lt', 1000000)),
      err('EINVAL', 'The period is longer than 2^62 - 1 ns.', when.value('arg.period_ns', 'gt', '0x3fffffffffffffff')),
    ],
    consumes: target,
    ref: { header: H, handler: `${C}:common_vcpu_op` },
  }),
  b.op('VCPUOP_stop_periodic_timer', 7, 'Stops the vCPU’s periodic timer. Returns 0. x86 only.', {
    arg: null,
    abis: X86,
    consumes: target,
    ref: { header: H, handler: `${C}:common_vcpu_op` },
  }),
  b.op('VCPUOP_set_singleshot_timer', 8,
    'Arms the calling vCPU’s single-shot timer at an absolute time; a time already past raises VIRQ_TIMER at once. ' +
    'Returns 0. x86 only.', {
      arg: 'struct vcpu_set_singleshot_timer', argDir: 'in',
      abis: X86,
      errors: [notCurrent, readArg],
      consumes: target,
      ref: { header: H, handler: `${C}:common_vcpu_op` },
    }),
  b.op('VCPUOP_stop_singleshot_timer', 9, 'Cancels the calling vCPU’s single-shot timer. Returns 0. x86 only.', {
    arg: null,
    abis: X86,
    errors: [notCurrent],
    consumes: target,
    ref: { header: H, handler: `${C}:common_vcpu_op` },
  }),
  b.op('VCPUOP_register_vcpu_info', 10,
    'Moves the vCPU’s vcpu_info from shared_info into a guest page (copying its contents), marks every event ' +
    'pending and sends an upcall. Can be done once per vCPU. Returns 0.', {
      arg: 'struct vcpu_register_vcpu_info', argDir: 'in',
      errors: [
        readArg,
        err('ENXIO', 'The vcpu_info would cross the end of the page.', when.state('vcpu-info-crosses-page')),
        err('ENXIO', 'The offset is not a multiple of 4.', when.value('arg.offset', 'mask', 3)),
        err('ENXIO', 'The offset is not a multiple of 8 and the domain uses the 64-bit shared_info layout (every 64-bit and Arm guest).', when.state('offset-misaligned-for-native-vcpu-info')),
        err('EINVAL', 'The vCPU has already registered a vcpu_info.', when.state('vcpu-info-registered')),
        err('EINVAL', 'The target is another vCPU that is not down.', when.state('target-vcpu-running')),
        err('EINVAL', 'The frame is not a page of the domain.', when.resource('arg.mfn', 'gfn', 'unmapped')),
        err('EINVAL', 'The page cannot be made a writable page (e.g. it is a page table).', when.state('page-not-writable')),
        err('ENOMEM', 'Xen cannot map the page.', when.state('out-of-memory')),
      ],
      consumes: [use('vcpu_id', 'vcpuid'), use('gfn', 'arg.mfn')],
      ref: { header: H, handler: `${C}:map_vcpu_info` },
    }),
  b.op('VCPUOP_send_nmi', 11, 'Makes an NMI pending on the vCPU and kicks it. Returns 0. x86 only.', {
    arg: null,
    abis: X86,
    errors: [err('EINVAL', 'The argument pointer is not NULL.', when.value('arg', 'ne', 0))],
    consumes: target,
    ref: { header: H, handler: `${X}:do_vcpu_op` },
  }),
  b.op('VCPUOP_get_physid', 12, 'Reports the APIC and ACPI ids of the physical CPU a hardware-domain vCPU is pinned to. Returns 0. x86 only.', {
    arg: 'struct vcpu_get_physid', argDir: 'out',
    abis: X86,
    privilege: 'hardware-domain',
    errors: [
      err('EINVAL', 'The vCPU is not a vCPU of the hardware domain pinned one-to-one to a physical CPU (dom0_vcpus_pin).', when.state('vcpu-not-hwdom-pinned')),
      err('EFAULT', 'The result cannot be written.', when.fault('arg')),
    ],
    consumes: target,
    ref: { header: H, handler: `${X}:do_vcpu_op` },
  }),
  b.op('VCPUOP_register_vcpu_time_memory_area', 13,
    'Registers a guest virtual area that Xen keeps updated with a copy of the vCPU’s vcpu_time_info, and updates it ' +
    'at once. Returns 0. x86 only.', {
      arg: 'struct vcpu_register_time_memory_area', argDir: 'in',
      abis: X86,
      errors: [
        readArg,
        err('EFAULT', 'x86 PV: the area lies in Xen’s address range (guest_handle_okay checks the address, not the mapping: an unmapped area in the guest’s range is registered, and updates to it fault silently).', when.fault('arg.addr.h'), ['x86_64-pv', 'x86_32-pv']),
      ],
      consumes: target,
      ref: { header: H, handler: `${X}:do_vcpu_op` },
    }),
];

// ───────────────────────────── hypercalls ─────────────────────────────

const hypercalls = [
  b.hypercall('vcpu_op', 24,
    'Operations on one vCPU of the calling domain: bring it up or down, query its runstate, set its timers and ' +
    'register its shared areas. Arm accepts only register_vcpu_info and register_runstate_memory_area.', {
      abis: {
        'x86_64-pv': 'native',
        'x86_32-pv': 'compat',
        'x86_64-hvm': 'native',
        'x86_32-hvm': 'compat',
        arm64: 'native',
        arm32: 'native',
      },
      args: [
        arg('cmd', 'int', 'VCPUOP_* command.', { values: 'VCPUOP' }),
        arg('vcpuid', 'unsigned int', 'The vCPU of the calling domain to act on.'),
        arg('arg', 'ptr(void)', 'The command’s struct, or NULL.', { dir: 'inout' }),
      ],
      returns: { type: 'long', doc: '0 on success (VCPUOP_is_up: 1 or 0), or a negative errno.' },
      subops: { selector: 'cmd', group: 'VCPUOP', argument: 'arg', ops },
      errors: [
        err('ENOENT', 'vcpuid names no vCPU of the calling domain (checked before the command).', when.resource('vcpuid', 'vcpu_id', 'nonexistent')),
        err('ENOSYS', 'x86: the command is not a VCPUOP_* operation.', when.state('unknown-command'), ['x86']),
        err('EINVAL', 'Arm: the command is anything other than register_vcpu_info or register_runstate_memory_area.', when.state('unknown-command-arm'), ['arm']),
      ],
      consumes: [use('vcpu_id', 'vcpuid')],
      ref: { header: H, handler: `${X}:do_vcpu_op` },
    }),
];

export const vcpu: FamilyModule = {
  family: b.family('vcpu_op: vCPU life cycle, runstate, timers and registration of per-vCPU shared areas.', { header: H, handler: C }),
  types,
  constants,
  hypercalls,
  resources: [],
};
