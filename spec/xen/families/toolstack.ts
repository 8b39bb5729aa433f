/**
 * Hypercalls outside the guest ABI families: the toolstack, platform, device-model,
 * profiling, security-module and diagnostic interfaces. Each one carries its own versioned
 * struct or command space (domctl.h, sysctl.h, platform.h, dm_op.h, hypfs.h, xen-mca.h,
 * pmu.h, xenoprof.h, kexec.h, argo.h); their command tables are not described here, only
 * the register interface, who may call, and the errors of the common entry path.
 *
 * Availability per ABI follows the table of xen/include/hypercall-defs.c at RELEASE-4.17.7.
 * Several calls exist only when Xen is built with an option (CONFIG_KEXEC, CONFIG_ARGO,
 * CONFIG_IOREQ_SERVER, CONFIG_HYPFS, CONFIG_XENOPROF); without it the call returns -ENOSYS.
 *
 * @see xen/include/public/xen.h, xen/include/hypercall-defs.c, xen/include/xsm/dummy.h
 */
import { arg, err, f, familyBuilder, inlineStruct, use, when, type FamilyModule } from '../../builders.js';
import type { Handler } from '../../model.js';

const H = 'xen/include/public/xen.h';
const b = familyBuilder('toolstack', H);

/** ABI availability from one row of hypercall-defs.c (pv32, pv64, hvm32, hvm64, arm; null: absent). */
function row(pv32: Handler | null, pv64: Handler | null, hvm32: Handler | null, hvm64: Handler | null, arm: Handler | null): Record<string, Handler> {
  const out: Record<string, Handler> = {};
  if (pv32) out['x86_32-pv'] = pv32;
  if (pv64) out['x86_64-pv'] = pv64;
  if (hvm32) out['x86_32-hvm'] = hvm32;
  if (hvm64) out['x86_64-hvm'] = hvm64;
  if (arm) {
    out['arm64'] = arm;
    out['arm32'] = arm;
  }
  return out;
}

const notControl = err('EPERM', 'The caller is not the control domain.', when.privilege('control-domain'));
const notBuilt = (option: string) =>
  err('ENOSYS', `Xen was built without ${option}, so the hypercall is not in the dispatch table.`, when.state(`built-without-${option}`));

// ───────────────────────────── types ─────────────────────────────

/*
 * Only the small argument structs of these calls are described here. xen_platform_op_t,
 * xen_sysctl_t, xen_domctl_t and xen_mc_t are large per-command unions that no family
 * describes yet; their pointer arguments are typed void and named in the docs.
 */
const types = [
  b.struct('xen_pmu_params', 'Argument of xenpmu_op: interface version, a value and a vCPU.', [
    f('version', inlineStruct([
      f('maj', 'uint32_t', 'Major version; must be XENPMU_VER_MAJ.'),
      f('min', 'uint32_t', 'Minor version.'),
    ]), 'Interface version of the caller, and of Xen on XENPMU_mode_get.', { dir: 'inout' }),
    f('val', 'uint64_t', 'The command’s value: a XENPMU_MODE_* mode, XENPMU_FEATURE_* flags, or (init/finish) the guest frame of the PMU data page.', { dir: 'inout' }),
    f('vcpu', 'uint32_t', 'The vCPU the command concerns (init and finish).', { dir: 'in' }),
    f('pad', 'uint32_t', 'Padding.'),
  ], { aliases: ['xen_pmu_params_t'], ref: { header: 'xen/include/public/pmu.h' } }),
  b.struct('xen_dm_op_buf', 'One buffer of a dm_op call: a guest pointer and a byte size.', [
    f('h', 'handle(void)', 'The buffer.', { count: 'size' }),
    f('size', 'xen_ulong_t', 'Size of the buffer in bytes.'),
  ], { aliases: ['xen_dm_op_buf_t'], ref: { header: 'xen/include/public/hvm/dm_op.h' } }),
];

// ───────────────────────────── hypercalls ─────────────────────────────

const hypercalls = [
  b.hypercall('platform_op', 7, 'Platform management for the control domain: time, microcode, firmware tables, physical CPU and power control (struct xen_platform_op).', {
    abis: row('compat', 'native', 'compat', 'native', 'native'),
    args: [arg('u_xenpf_op', 'ptr(void)', 'Points to a xen_platform_op_t (platform.h): the command, its interface version and its argument; results are written back.', { dir: 'inout' })],
    privilege: 'control-domain',
    errors: [
      err('EFAULT', 'The command struct cannot be read (or the results cannot be written back).', when.fault('u_xenpf_op')),
      err('EACCES', 'interface_version is not XENPF_INTERFACE_VERSION (0x03000001).', when.state('interface-version-mismatch')),
      notControl,
      err('ENOSYS', 'The command is not one this architecture implements (Arm has only XENPF_settime64).', when.state('unknown-command')),
    ],
    ref: { header: 'xen/include/public/platform.h', handler: 'xen/arch/x86/platform_hypercall.c:do_platform_op' },
  }),
  b.hypercall('xsm_op', 27, 'Commands of the loaded Xen Security Module (FLASK policy management). Under the default (dummy) policy no command exists.', {
    abis: row('compat', 'native', 'compat', 'native', 'native'),
    args: [arg('op', 'ptr(void)', 'The security module’s command struct.', { dir: 'inout' })],
    errors: [
      err('ENOSYS', 'No security module with its own commands is active (the default policy, or Xen built without CONFIG_XSM).', when.state('dummy-xsm-policy')),
    ],
    ref: { header: 'xen/include/public/xsm/flask_op.h', handler: 'xen/xsm/xsm_core.c:do_xsm_op' },
  }),
  b.hypercall('xenoprof_op', 31, 'Xenoprof system-wide profiling: set up sample buffers, choose profiled domains, start and stop sampling (x86 PV only).', {
    abis: row('compat', 'native', null, null, null),
    args: [
      arg('op', 'int', 'XENOPROF_* command.'),
      arg('arg', 'ptr(void)', 'The command’s argument, if it has one.', { dir: 'inout' }),
    ],
    errors: [
      err('EINVAL', 'The command is negative.', when.value('op', 'lt', 0)),
      err('EINVAL', 'The command is above XENOPROF_last_op (17).', when.value('op', 'gt', 17)),
      err('EPERM', 'The command is one only the primary profiler may issue (all but init, get_buffer, enable_virq and disable_virq), and the caller is not it; or profiling is not yet initialised for it.', when.state('not-primary-profiler')),
      err('EFAULT', 'The argument cannot be read or written.', when.fault('arg')),
      notBuilt('CONFIG_XENOPROF'),
    ],
    ref: { header: 'xen/include/public/xenoprof.h', handler: 'xen/common/xenoprof.c:do_xenoprof_op' },
  }),
  b.hypercall('sysctl', 35, 'System-wide toolstack control: physical host information, scheduling pools, tracing, CPU and NUMA topology, and so on (struct xen_sysctl).', {
    abis: row('native', 'native', 'native', 'native', 'native'),
    args: [arg('u_sysctl', 'ptr(void)', 'Points to a xen_sysctl_t (sysctl.h): the command, its interface version and its argument; results are written back.', { dir: 'inout' })],
    privilege: 'control-domain',
    errors: [
      err('EFAULT', 'The command struct cannot be read (or the results cannot be written back).', when.fault('u_sysctl')),
      err('EACCES', 'interface_version is not XEN_SYSCTL_INTERFACE_VERSION (0x15 in 4.17).', when.state('interface-version-mismatch')),
      notControl,
      err('ENOSYS', 'The command is not a sysctl this Xen implements.', when.state('unknown-command')),
    ],
    ref: { header: 'xen/include/public/sysctl.h', handler: 'xen/common/sysctl.c:do_sysctl' },
  }),
  b.hypercall('domctl', 36, 'Per-domain toolstack control: create, pause, destroy and configure domains (struct xen_domctl).', {
    abis: row('native', 'native', 'native', 'native', 'native'),
    args: [arg('u_domctl', 'ptr(void)', 'Points to a xen_domctl_t (domctl.h): the command, its interface version, the target domain and the argument; results are written back.', { dir: 'inout' })],
    privilege: 'control-domain',
    errors: [
      err('EFAULT', 'The command struct cannot be read (or the results cannot be written back).', when.fault('u_domctl')),
      err('EACCES', 'interface_version is not XEN_DOMCTL_INTERFACE_VERSION (0x15 in 4.17).', when.state('interface-version-mismatch')),
      err('ESRCH', 'The target domain does not exist (createdomain and getdomaininfo excepted).', when.state('target-domain-nonexistent')),
      err('EPERM', 'The caller is not the control domain (a few commands also admit the target’s device model or the xenstore domain).', when.privilege('control-domain')),
      err('ENOSYS', 'The command is not a domctl this Xen implements.', when.state('unknown-command')),
    ],
    ref: { header: 'xen/include/public/domctl.h', handler: 'xen/common/domctl.c:do_domctl' },
  }),
  b.hypercall('kexec_op', 37, 'Load, unload and start a kexec or crash-dump image, and query the memory ranges involved (x86 PV only). An unknown command returns 0 without doing anything.', {
    abis: row('compat', 'native', null, null, null),
    args: [
      arg('op', 'unsigned long', 'KEXEC_CMD_* command.'),
      arg('uarg', 'ptr(void)', 'The command’s struct.', { dir: 'inout' }),
    ],
    privilege: 'control-domain',
    errors: [
      notControl,
      err('EFAULT', 'The command struct cannot be read or written.', when.fault('uarg')),
      notBuilt('CONFIG_KEXEC'),
    ],
    ref: { header: 'xen/include/public/kexec.h', handler: 'xen/common/kexec.c:do_kexec_op_internal' },
  }),
  b.hypercall('tmem_op', 38, 'Transcendent memory. Removed from Xen: the number stays reserved and every caller gets -ENOSYS.', {
    abis: {},
    args: [],
    deprecated: { since: '4.13', doc: 'Transcendent memory was removed; its header content is visible only below interface version 0x00041300.' },
    errors: [err('ENOSYS', 'Always: no ABI has a handler.')],
    ref: { header: 'xen/include/public/tmem.h', handler: 'xen/include/hypercall-defs.c' },
  }),
  b.hypercall('argo_op', 39, 'Argo: hypervisor-mediated message rings between domains (register and unregister rings, send, notify).', {
    abis: row('compat', 'native', 'compat', 'native', 'native'),
    args: [
      arg('cmd', 'unsigned int', 'XEN_ARGO_OP_* command.'),
      arg('arg1', 'ptr(void)', 'First pointer argument of the command.', { dir: 'inout' }),
      arg('arg2', 'ptr(void)', 'Second pointer argument of the command.', { dir: 'inout' }),
      arg('arg3', 'unsigned long', 'First integer argument; must fit in 32 bits.'),
      arg('arg4', 'unsigned long', 'Second integer argument; must fit in 32 bits.'),
    ],
    errors: [
      err('EINVAL', 'arg3 does not fit in 32 bits (64-bit callers).', when.value('arg3', 'gt', 0xffffffff)),
      err('EINVAL', 'arg4 does not fit in 32 bits (64-bit callers).', when.value('arg4', 'gt', 0xffffffff)),
      err('EOPNOTSUPP', 'Argo is built in but not enabled on the Xen command line (the default).', when.state('argo-disabled')),
      err('EOPNOTSUPP', 'The command is not an XEN_ARGO_OP_* command.', when.state('unknown-command')),
      notBuilt('CONFIG_ARGO'),
    ],
    ref: { header: 'xen/include/public/argo.h', handler: 'xen/common/argo.c:do_argo_op' },
  }),
  b.hypercall('xenpmu_op', 40, 'Virtual PMU control: set the profiling mode and features, and register or flush a vCPU’s PMU data page (x86 only).', {
    abis: row('native', 'native', 'native', 'native', null),
    args: [
      arg('op', 'unsigned int', 'XENPMU_* command.'),
      arg('arg', 'ptr(xen_pmu_params_t)', 'Version, value and vCPU of the command; some commands write results back.', { dir: 'inout' }),
    ],
    errors: [
      err('EOPNOTSUPP', 'The virtual PMU is off (the default), or the caller has an emulated local APIC (HVM).', when.state('vpmu-unavailable')),
      err('EPERM', 'The command changes or reads the global mode or features (mode_set, mode_get, feature_set, feature_get) and the caller is not the control domain; init, finish, lvtpc_set and flush are open to every domain.', when.privilege('control-domain')),
      err('EFAULT', 'The parameter struct cannot be read or written.', when.fault('arg')),
      err('EINVAL', 'The parameter struct’s major version is not XENPMU_VER_MAJ (0).', when.value('arg.version.maj', 'ne', 0)),
      err('EINVAL', 'The command is not an XENPMU_* command.', when.value('op', 'gt', 7)),
    ],
    ref: { header: 'xen/include/public/pmu.h', handler: 'xen/arch/x86/cpu/vpmu.c:do_xenpmu_op' },
  }),
  b.hypercall('dm_op', 41, 'Device-model operations on a guest: I/O request servers, interrupt injection, memory type and dirty tracking. The command travels in the first of up to two buffers.', {
    abis: row('compat', 'native', 'compat', 'native', 'native'),
    args: [
      arg('domid', 'domid_t', 'The guest the device model serves.'),
      arg('nr_bufs', 'unsigned int', 'Number of buffer descriptors (1 or 2).'),
      arg('bufs', 'ptr(xen_dm_op_buf_t)', 'Buffer descriptors; the first holds struct xen_dm_op.', { dir: 'in', count: 'nr_bufs' }),
    ],
    privilege: 'device-model',
    errors: [
      err('ENODATA', 'No buffers are given.', when.value('nr_bufs', 'eq', 0)),
      err('E2BIG', 'More than two buffers are given.', when.value('nr_bufs', 'gt', 2)),
      err('EFAULT', 'The buffer descriptors cannot be read.', when.fault('bufs')),
      err('ESRCH', 'The target domain does not exist.', when.resource('domid', 'domid', 'nonexistent')),
      err('EPERM', 'The target is the caller itself.', when.resource('domid', 'domid', 'self')),
      err('EINVAL', 'x86: the target is not an HVM domain.', when.state('target-not-hvm')),
      err('EPERM', 'The caller is neither the target’s device model nor the control domain.', when.privilege('device-model')),
      err('EFAULT', 'The first buffer is too small for the command header or the command’s struct, or cannot be read.', when.state('op-buffer-too-small')),
      err('EOPNOTSUPP', 'The command number is beyond the known XEN_DMOP_* commands.', when.state('unknown-command')),
      err('EINVAL', 'The header’s padding is not zero.', when.state('nonzero-pad')),
      notBuilt('CONFIG_IOREQ_SERVER'),
    ],
    consumes: [use('domid', 'domid')],
    ref: { header: 'xen/include/public/hvm/dm_op.h', handler: 'xen/common/dm.c:do_dm_op' },
  }),
  b.hypercall('hypfs_op', 42, 'Hypervisor file system: read or write the value of a node named by a path, or query the interface version.', {
    abis: row('native', 'native', 'native', 'native', 'native'),
    args: [
      arg('cmd', 'unsigned int', 'XEN_HYPFS_OP_* command.'),
      arg('arg1', 'ptr(char)', 'The node’s path, NUL-terminated, starting with “/”.', { dir: 'in', count: 'arg2' }),
      arg('arg2', 'unsigned long', 'Length of the path including its NUL.'),
      arg('arg3', 'ptr(void)', 'Buffer for the node’s header and contents (read) or the new contents (write).', { dir: 'inout', count: 'arg4' }),
      arg('arg4', 'unsigned long', 'Size of the arg3 buffer in bytes.'),
    ],
    returns: { type: 'long', doc: 'XEN_HYPFS_OP_get_version: the interface version (1); otherwise 0, or a negative errno.' },
    privilege: 'control-domain',
    errors: [
      notControl,
      err('EINVAL', 'get_version with any pointer non-null or any length non-zero.', when.state('get-version-with-arguments')),
      err('EINVAL', 'The path length is above XEN_HYPFS_MAX_PATHLEN (1024).', when.value('arg2', 'gt', 1024)),
      err('EFAULT', 'The path cannot be read.', when.fault('arg1')),
      err('EINVAL', 'The path’s only NUL is not its last byte, or the path does not start with “/”.', when.state('malformed-path')),
      err('ENOENT', 'No node has that path.', when.state('no-such-node')),
      err('ENOBUFS', 'Read: the buffer cannot hold the entry header and the contents.', when.state('read-buffer-too-small')),
      err('EFAULT', 'The arg3 buffer cannot be written (read) or read (write).', when.fault('arg3')),
      err('EACCES', 'Write: the node is read-only.', when.state('node-read-only')),
      err('EOPNOTSUPP', 'The command is not a XEN_HYPFS_OP_* command (checked after the path lookup).', when.value('cmd', 'gt', 2)),
      notBuilt('CONFIG_HYPFS'),
    ],
    ref: { header: 'xen/include/public/hypfs.h', handler: 'xen/common/hypfs.c:do_hypfs_op' },
  }),
  b.hypercall('mca', 48, 'Machine-check architecture: fetch machine-check telemetry, query physical CPU machine-check state, inject MSR values or machine checks (x86 PV, control domain). Architecture slot 0.', {
    abis: row('native', 'native', null, null, null),
    numberConstant: { header: 'xen/include/public/arch-x86/xen-mca.h', arches: ['x86'] },
    args: [arg('u_xen_mc', 'ptr(void)', 'Points to a xen_mc_t (arch-x86/xen-mca.h): the command, its interface version and its argument; results are written back.', { dir: 'inout' })],
    privilege: 'control-domain',
    errors: [
      notControl,
      err('EFAULT', 'The command struct cannot be read or written.', when.fault('u_xen_mc')),
      err('EACCES', 'interface_version is not XEN_MCA_INTERFACE_VERSION (0x01ecc003).', when.state('interface-version-mismatch')),
      err('EINVAL', 'The command is not an XEN_MC_* command, or its flags are not valid.', when.state('unknown-command')),
    ],
    ref: { header: 'xen/include/public/arch-x86/xen-mca.h', handler: 'xen/arch/x86/cpu/mcheck/mce.c:do_mca' },
  }),
  b.hypercall('paging_domctl_cont', 49, 'Xen-internal continuation of a long XEN_DOMCTL_shadow_op (architecture slot 1 on x86); guests reach it only through the continuation Xen itself sets up.', {
    abis: row('native', 'native', 'native', 'native', null),
    numberConstant: { public: false },
    args: [arg('u_domctl', 'ptr(void)', 'Points to the xen_domctl_t (domctl.h) being continued; its shadow_op part is written back.', { dir: 'inout' })],
    privilege: 'control-domain',
    errors: [
      err('EFAULT', 'The domctl cannot be read, or the shadow_op result cannot be written back.', when.fault('u_domctl')),
      err('EOPNOTSUPP', 'interface_version is not XEN_DOMCTL_INTERFACE_VERSION, or the command is not XEN_DOMCTL_shadow_op.', when.state('not-shadow-op-or-version-mismatch')),
      err('ESRCH', 'The target domain does not exist.', when.state('target-domain-nonexistent')),
      notControl,
    ],
    ref: { handler: 'xen/arch/x86/mm/paging.c:do_paging_domctl_cont' },
  }),
];

export const toolstack: FamilyModule = {
  family: b.family('Hypercalls outside the guest ABI families: toolstack, device-model and platform interfaces.', {
    header: H,
    handler: 'xen/include/hypercall-defs.c',
  }),
  types,
  constants: [],
  hypercalls,
  resources: [],
};
