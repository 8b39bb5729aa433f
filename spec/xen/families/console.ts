/**
 * console_io (18): write to and read from Xen's console; vm_assist (21): switch
 * per-domain VM-assist modes on and off. Neither carries a struct: the command, a count or
 * type, and (for console_io) a character buffer travel in registers.
 *
 * @see xen/include/public/xen.h
 * @see xen/drivers/char/console.c:do_console_io, xen/common/domain.c:do_vm_assist,
 *      xen/include/xsm/dummy.h:xsm_console_io (RELEASE-4.17.7)
 */
import { arg, err, familyBuilder, when, type FamilyModule } from '../../builders.js';
import { ALL_ABIS } from '../abis.js';

const H = 'xen/include/public/xen.h';
const CON = 'xen/drivers/char/console.c';
const DOM = 'xen/common/domain.c';
const b = familyBuilder('console', H);

const allNative = Object.fromEntries(ALL_ABIS.map((a) => [a, 'native' as const]));

// ───────────────────────────── operations ─────────────────────────────

const consoleOps = [
  b.op('CONSOLEIO_write', 0, 'Writes count characters from the buffer to Xen’s console. The control domain’s text goes out as is; other callers’ text is filtered to printable characters and logged per line. Long writes continue transparently.', {
    arg: null,
    privilege: 'control-domain',
    errors: [
      err('EFAULT', 'The buffer cannot be read over count bytes.', when.fault('buffer')),
    ],
    ref: { header: H, handler: `${CON}:guest_console_write` },
  }),
  b.op('CONSOLEIO_read', 1, 'Copies up to count pending characters of Xen’s serial input ring into the buffer and returns how many were copied (0 when none are waiting).', {
    arg: null,
    privilege: 'control-domain',
    errors: [
      err('E2BIG', 'count is above INT_MAX, so a byte count could not be told apart from an error.', when.value('count', 'gt', 0x7fffffff)),
      err('EFAULT', 'The buffer cannot be written.', when.fault('buffer')),
    ],
    ref: { header: H, handler: `${CON}:do_console_io` },
  }),
];

const vmAssistOps = [
  b.op('VMASST_CMD_enable', 0, 'Turns the VM-assist mode named by type on for the calling domain.', {
    arg: null,
    ref: { header: H, handler: `${DOM}:do_vm_assist` },
  }),
  b.op('VMASST_CMD_disable', 1, 'Turns the VM-assist mode named by type off for the calling domain.', {
    arg: null,
    ref: { header: H, handler: `${DOM}:do_vm_assist` },
  }),
];

// ───────────────────────────── hypercalls ─────────────────────────────

const hypercalls = [
  b.hypercall('console_io', 18, 'Console access: write text to Xen’s console or read characters typed on its serial line.', {
    abis: allNative,
    args: [
      arg('cmd', 'unsigned int', 'CONSOLEIO_* command.', { values: 'CONSOLEIO' }),
      arg('count', 'unsigned int', 'Bytes to write, or the most bytes to read.'),
      arg('buffer', 'ptr(char)', 'The characters: read by Xen for a write, filled by Xen for a read (not NUL-terminated).', {
        dir: 'inout',
        count: 'count',
      }),
    ],
    returns: { type: 'long', doc: 'CONSOLEIO_write: 0; CONSOLEIO_read: bytes copied; or a negative errno.' },
    privilege: 'control-domain',
    subops: { selector: 'cmd', group: 'CONSOLEIO', ops: consoleOps },
    errors: [
      err('EPERM', 'The caller is not the control domain. Exceptions: a domain marked as a console domain (Arm dom0less) may use both commands, and debug builds (CONFIG_VERBOSE_DEBUG) let any domain write.', when.privilege('control-domain')),
      err('ENOSYS', 'The command is not a CONSOLEIO_* command (checked after the privilege test).', when.value('cmd', 'gt', 1)),
    ],
    ref: { header: H, handler: `${CON}:do_console_io` },
  }),
  b.hypercall('vm_assist', 21, 'Enables or disables a VM-assist mode (VMASST_TYPE_*) for the calling domain.', {
    abis: allNative,
    args: [
      arg('cmd', 'unsigned int', 'VMASST_CMD_* command.', { values: 'VMASST_CMD' }),
      arg('type', 'unsigned int', 'VMASST_TYPE_* mode to change.', { values: 'VMASST_TYPE' }),
    ],
    subops: { selector: 'cmd', group: 'VMASST_CMD', ops: vmAssistOps },
    errors: [
      err('EINVAL', 'The type is beyond every assist type any guest may use (the largest is VMASST_TYPE_m2p_strict, 32).', when.value('type', 'gt', 32)),
      err('EINVAL', 'The type is not valid for this kind of guest. Valid types: x86/32 PV 0-5; x86/64 PV 0-5 and 32; x86 HVM/PVH and Arm only 5 (runstate_update_flag). Checked before the command.', when.state('vm-assist-type-not-valid-for-guest')),
      err('ENOSYS', 'The command is neither VMASST_CMD_enable nor VMASST_CMD_disable (only reached when the type is valid).', when.value('cmd', 'gt', 1)),
    ],
    ref: { header: H, handler: `${DOM}:do_vm_assist` },
  }),
];

export const console: FamilyModule = {
  family: b.family('console_io and vm_assist: Xen console access and per-domain VM-assist modes.', {
    header: H,
    handler: `${CON}, ${DOM}`,
  }),
  types: [],
  constants: [],
  hypercalls,
  resources: [],
};
