/**
 * xen_version (17): the hypervisor's version, build information, capabilities, feature
 * bits, page size and the caller's domain handle.
 *
 * @see xen/include/public/version.h
 * @see xen/common/kernel.c:do_xen_version, xen/common/compat/kernel.c, xen/include/xsm/dummy.h:xsm_xen_version (RELEASE-4.17.7)
 */
import { arg, err, f, familyBuilder, when, type FamilyModule } from '../../builders.js';

const H = 'xen/include/public/version.h';
const C = 'xen/common/kernel.c';
const b = familyBuilder('version', H);

// ───────────────────────────── constants ─────────────────────────────

const constants = [
  b.group('XEN_VERSION_LEN', 'values', 'Sizes in bytes of the fixed string buffers of xen_version.', [
    ['XEN_EXTRAVERSION_LEN', 16, 'Size of xen_extraversion_t.'],
    ['XEN_CAPABILITIES_INFO_LEN', 1024, 'Size of xen_capabilities_info_t.'],
    ['XEN_CHANGESET_INFO_LEN', 64, 'Size of xen_changeset_info_t.'],
  ]),
];

// ───────────────────────────── types ─────────────────────────────

const types = [
  b.typedef('xen_extraversion_t', 'char[16]', 'Buffer for the version suffix (e.g. ".7"), NUL-terminated and zero-padded.'),
  b.struct('xen_compile_info', 'Who built Xen, where, when and with which compiler: NUL-terminated, zero-padded strings.', [
    f('compiler', 'char[64]', 'The compiler and its version.', { dir: 'out' }),
    f('compile_by', 'char[16]', 'The user who built Xen.', { dir: 'out' }),
    f('compile_domain', 'char[32]', 'The DNS domain of the build host.', { dir: 'out' }),
    f('compile_date', 'char[32]', 'The build date.', { dir: 'out' }),
  ], { aliases: ['xen_compile_info_t'] }),
  b.typedef('xen_capabilities_info_t', 'char[1024]', 'Buffer for the space-separated list of guest ABIs Xen can run (e.g. "xen-3.0-x86_64 hvm-3.0-x86_32").'),
  b.typedef('xen_changeset_info_t', 'char[64]', 'Buffer for the source revision Xen was built from.'),
  b.struct('xen_platform_parameters', 'Layout parameters of the hypervisor as a guest sees it.', [
    f('virt_start', 'xen_ulong_t', 'Lowest virtual address Xen reserves in a PV guest’s address space (0 where none is reserved).', { dir: 'out' }),
  ], { aliases: ['xen_platform_parameters_t'] }),
  b.struct('xen_feature_info', 'Argument of XENVER_get_features: one 32-bit word of XENFEAT_* bits.', [
    f('submap_idx', 'unsigned int', 'Index of the 32-bit word to return (only 0 exists).', { dir: 'in' }),
    f('submap', 'uint32_t', 'The XENFEAT_* bits of that word for the calling domain.', { dir: 'out', values: 'XENFEAT' }),
  ], { aliases: ['xen_feature_info_t'] }),
  b.typedef('xen_commandline_t', 'char[1024]', 'Buffer for Xen’s boot command line.'),
  b.struct('xen_build_id', 'Argument of XENVER_build_id: a caller-sized buffer for the build id (a flexible array member).', [
    f('len', 'uint32_t', 'Size of buf in bytes; must not be 0.', { dir: 'in' }),
    f('buf', 'unsigned char[0]', 'The build id bytes (GNU ld note), as many as the result says; a flexible array.', { dir: 'out', count: 'len' }),
  ], {
    aliases: ['xen_build_id_t'],
    // The trailing flexible array member is written as a zero-length array; the probe
    // compares its offset (C has no sizeof for it).
  }),
];

// ───────────────────────────── operations ─────────────────────────────

const writeArg = err('EFAULT', 'The result cannot be written.', when.fault('arg'));

const ops = [
  b.op('XENVER_version', 0, 'Returns the version as major << 16 | minor (0x00040011 for 4.17). The argument is ignored.', {
    arg: null,
    ref: { header: H, handler: `${C}:do_xen_version` },
  }),
  b.op('XENVER_extraversion', 1, 'Writes the version suffix. Returns 0.', {
    arg: 'xen_extraversion_t', argDir: 'out',
    errors: [writeArg],
    ref: { header: H, handler: `${C}:do_xen_version` },
  }),
  b.op('XENVER_compile_info', 2, 'Writes the compiler, builder, build domain and build date. Returns 0.', {
    arg: 'struct xen_compile_info', argDir: 'out',
    errors: [writeArg],
    ref: { header: H, handler: `${C}:do_xen_version` },
  }),
  b.op('XENVER_capabilities', 3, 'Writes the list of guest ABIs this Xen supports. Returns 0.', {
    arg: 'xen_capabilities_info_t', argDir: 'out',
    errors: [writeArg],
    ref: { header: H, handler: `${C}:do_xen_version` },
  }),
  b.op('XENVER_changeset', 4, 'Writes the source revision of the build. Returns 0.', {
    arg: 'xen_changeset_info_t', argDir: 'out',
    errors: [writeArg],
    ref: { header: H, handler: `${C}:do_xen_version` },
  }),
  b.op('XENVER_platform_parameters', 5,
    'Writes where Xen’s reserved virtual area starts: on x86 the PV hypervisor hole (for 32-bit guests the ' +
    'domain’s compat boundary), on Arm Xen’s own virtual base. Returns 0.', {
      arg: 'struct xen_platform_parameters', argDir: 'out',
      errors: [writeArg],
      ref: { header: H, handler: `${C}:do_xen_version` },
    }),
  b.op('XENVER_get_features', 6, 'Reads a word index and writes that word of the XENFEAT_* bits that apply to the calling domain. Returns 0.', {
    arg: 'struct xen_feature_info', argDir: 'inout',
    errors: [
      err('EFAULT', 'The argument cannot be read or written.', when.fault('arg')),
      err('EINVAL', 'submap_idx is not 0 (XENFEAT_NR_SUBMAPS is 1).', when.value('arg.submap_idx', 'ne', 0)),
    ],
    ref: { header: H, handler: `${C}:do_xen_version` },
  }),
  b.op('XENVER_pagesize', 7, 'Returns Xen’s page size in bytes (4096). The argument must be NULL.', {
    arg: null,
    errors: [err('EINVAL', 'The argument pointer is not NULL.', when.value('arg', 'ne', 0))],
    ref: { header: H, handler: `${C}:do_xen_version` },
  }),
  b.op('XENVER_guest_handle', 8, 'Writes the calling domain’s 16-byte handle (the UUID the toolstack gave it). Returns 0.', {
    arg: 'xen_domain_handle_t', argDir: 'out',
    errors: [writeArg],
    ref: { header: H, handler: `${C}:do_xen_version` },
  }),
  b.op('XENVER_commandline', 9,
    'Writes Xen’s boot command line (the whole 1024-byte buffer). A caller other than the control domain gets ' +
    'the string "<denied>" (9 bytes written) instead of an error. Returns 0.', {
      arg: 'xen_commandline_t', argDir: 'out',
      errors: [writeArg],
      ref: { header: H, handler: `${C}:do_xen_version` },
    }),
  b.op('XENVER_build_id', 10,
    'Writes Xen’s build id into buf and returns its length in bytes. With a NULL argument, only returns the ' +
    'length. Only the control domain may call it.', {
      arg: 'struct xen_build_id', argDir: 'inout',
      privilege: 'control-domain',
      errors: [
        err('EPERM', 'The caller is not the control domain.', when.privilege('control-domain')),
        err('EFAULT', 'The argument cannot be read, or buf cannot be written.', when.fault('arg')),
        err('EINVAL', 'A buffer is given with len 0.', when.value('arg.len', 'eq', 0)),
        err('ENODATA', 'Xen was built without a build id.', when.state('no-build-id')),
        err('ENOBUFS', 'len is smaller than the build id.', when.state('build-id-longer-than-len')),
      ],
      ref: { header: H, handler: `${C}:do_xen_version` },
    }),
];

// ───────────────────────────── hypercalls ─────────────────────────────

const hypercalls = [
  b.hypercall('xen_version', 17, 'Queries the hypervisor: version, build information, capabilities, features, page size, domain handle.', {
    abis: {
      'x86_64-pv': 'native',
      'x86_32-pv': 'compat',
      'x86_64-hvm': 'native',
      'x86_32-hvm': 'compat',
      arm64: 'native',
      arm32: 'native',
    },
    args: [
      arg('cmd', 'int', 'XENVER_* command.', { values: 'XENVER' }),
      arg('arg', 'ptr(void)', 'The command’s buffer or struct, or NULL.', { dir: 'inout' }),
    ],
    returns: {
      type: 'long',
      doc: 'XENVER_version: major << 16 | minor; XENVER_pagesize: the page size; XENVER_build_id: the id’s length; others 0; or a negative errno.',
    },
    subops: { selector: 'cmd', group: 'XENVER', argument: 'arg', ops },
    errors: [err('ENOSYS', 'The command is not a XENVER_* operation.', when.state('unknown-command'))],
    ref: { header: H, handler: `${C}:do_xen_version` },
  }),
];

export const version: FamilyModule = {
  family: b.family('xen_version: version, build and feature information about the hypervisor.', { header: H, handler: C }),
  types,
  constants,
  hypercalls,
  resources: [],
};
