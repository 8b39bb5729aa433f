/**
 * The xen_version commands beyond ../version/handlers.ts (xen/common/kernel.c and
 * compat/kernel.c:do_xen_version at RELEASE-4.17.7): platform_parameters, guest_handle,
 * commandline and build_id. Under the dummy XSM policy only commandline ("<denied>") and
 * build_id (-EPERM) treat callers other than the control domain differently.
 */
import type { XenHandler } from '../../generated/xen/handler.js';
import { constantValue, LayoutEngine, type Arch } from '../../spec/index.js';
import { gaddr } from '../addr.js';
import { cString, type CallContext } from '../context.js';
import type { Domain } from '../machine.js';
import type { ReferenceVmm } from '../vmm.js';

/** Arm's XEN_VIRT_START in 4.17 (asm/config.h), what Arm callers get as virt_start. Xen-internal. */
const ARM_XEN_VIRT_START = 0x00200000n;
/** What a caller other than the control domain reads for the command line (xen_deny()). */
const DENIED = '<denied>';

export function versionExtraHandlers(vmm: ReferenceVmm): XenHandler<CallContext> {
  const m = vmm.machine;
  const e = (n: string) => m.errno[n] as number;
  const layout = (arch: Arch) => new LayoutEngine(m.spec, arch);
  const first = m.spec.arches[0] as Arch;
  const handleSize = layout(first).named('xen_domain_handle_t').size;
  const cmdlineSize = layout(first).named('xen_commandline_t').size;
  const buildIdBuf = layout(first).named('struct xen_build_id').fields['buf']?.offset;
  if (buildIdBuf === undefined) throw new Error('spec: struct xen_build_id has no buf');

  /** HYPERVISOR_VIRT_START as the caller's handler sees it (compat: the domain's boundary, 0 for HVM). */
  const virtStart = (d: Domain): bigint => {
    if (d.arch.family !== 'x86') return ARM_XEN_VIRT_START;
    const pv = d.abi.name.endsWith('-pv');
    if (d.arch.wordSize === 4 && !pv) return 0n;
    const v = constantValue(m.spec, 'HYPERVISOR_VIRT_START', d.arch);
    if (v === undefined) throw new Error(`spec has no HYPERVISOR_VIRT_START on ${d.arch.name}`);
    return BigInt(v);
  };

  return {
    xen_version$XENVER_platform_parameters: (c, arg) => {
      arg.write({ virt_start: virtStart(c.domain) } as never);
      return 0;
    },
    xen_version$XENVER_guest_handle: (c, arg) => {
      const h = new Array<number>(handleSize).fill(0);
      c.domain.handle.slice(0, handleSize).forEach((b, i) => (h[i] = b & 0xff));
      arg.write(h);
      return 0;
    },
    xen_version$XENVER_commandline: (c, arg) => {
      if (c.domain.privileged) {
        arg.write(cString(vmm.version.commandline, cmdlineSize));
        return 0;
      }
      // Only strlen("<denied>") + 1 bytes are copied; the rest of the guest's buffer is untouched.
      const bytes = new Uint8Array(cString(DENIED, DENIED.length + 1));
      const ok = arg.addr <= BigInt(Number.MAX_SAFE_INTEGER) && c.domain.memory.write(gaddr(Number(arg.addr)), bytes);
      return ok ? 0 : e('EFAULT');
    },
    xen_version$XENVER_build_id: (c, arg) => {
      if (!c.domain.privileged) return e('EPERM');
      const isNull = arg.addr === 0n;
      let len = 0;
      if (!isNull) {
        len = arg.read().len;
        if (len === 0) return e('EINVAL');
      }
      const hex = vmm.version.buildId;
      if (hex === undefined || hex.length === 0) return e('ENODATA');
      const id = Uint8Array.from(hex.match(/../g) ?? [], (b) => parseInt(b, 16));
      if (isNull) return id.length;
      if (id.length > len) return e('ENOBUFS');
      const at = arg.addr + BigInt(buildIdBuf);
      const ok = at <= BigInt(Number.MAX_SAFE_INTEGER) && c.domain.memory.write(gaddr(Number(at)), id);
      return ok ? id.length : e('EFAULT');
    },
  };
}
