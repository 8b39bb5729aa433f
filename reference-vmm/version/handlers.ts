/**
 * xen_version handlers (xen/common/kernel.c:do_xen_version at RELEASE-4.17.7): fixed-size
 * string buffers are zero-filled and NUL-terminated; the feature word follows the domain's
 * kind (PV or translated, x86 or Arm, hardware domain).
 */
import type { XenHandler } from '../../generated/xen/handler.js';
import { LayoutEngine, type Arch } from '../../spec/index.js';
import { PAGE_SIZE } from '../addr.js';
import { cString, inOut, specNumber, type CallContext } from '../context.js';
import type { ReferenceVmm } from '../vmm.js';

export function versionHandlers(vmm: ReferenceVmm): XenHandler<CallContext> {
  const spec = vmm.machine.spec;
  const E = vmm.machine.errno;
  const num = (n: string) => specNumber(vmm, n);
  const [major, minor] = spec.version.split('.').map(Number) as [number, number];
  // Buffer sizes from the spec: constants where the headers name them, else the struct layout.
  const compileInfo = new LayoutEngine(spec, spec.arches[0] as Arch).named('struct xen_compile_info').fields;
  const sizeOf = (f: string) => (compileInfo[f] as { size: number }).size;
  const len = {
    extraversion: num('XEN_EXTRAVERSION_LEN'),
    capabilities: num('XEN_CAPABILITIES_INFO_LEN'),
    changeset: num('XEN_CHANGESET_INFO_LEN'),
  };
  const feat = (name: string) => 1 << num(name);
  return {
    xen_version$XENVER_version: () => (major << 16) | minor,
    xen_version$XENVER_extraversion: (_c, arg) => {
      arg.write(cString(vmm.version.extraversion, len.extraversion));
      return 0;
    },
    xen_version$XENVER_compile_info: (_c, arg) => {
      arg.write({
        compiler: cString(vmm.version.compiler, sizeOf('compiler')),
        compile_by: cString(vmm.version.compileBy, sizeOf('compile_by')),
        compile_domain: cString(vmm.version.compileDomain, sizeOf('compile_domain')),
        compile_date: cString(vmm.version.compileDate, sizeOf('compile_date')),
      });
      return 0;
    },
    xen_version$XENVER_capabilities: (_c, arg) => {
      arg.write(cString(vmm.version.capabilities, len.capabilities));
      return 0;
    },
    xen_version$XENVER_changeset: (_c, arg) => {
      arg.write(cString(vmm.version.changeset, len.changeset));
      return 0;
    },
    xen_version$XENVER_get_features: (c, arg) =>
      inOut(arg, (fi) => {
        if (fi.submap_idx !== 0) return E['EINVAL'] as number;
        const pv = c.domain.abi.name.endsWith('-pv');
        const x86 = c.domain.arch.family === 'x86';
        const translated = !pv;
        let submap = feat('XENFEAT_memory_op_vnode_supported');
        if (translated) submap |= feat('XENFEAT_writable_page_tables') | feat('XENFEAT_auto_translated_physmap');
        if (c.domain.privileged) submap |= feat('XENFEAT_dom0');
        if (!x86) submap |= feat('XENFEAT_ARM_SMCCC_supported');
        if (x86 && pv) submap |= feat('XENFEAT_mmu_pt_update_preserve_ad') | feat('XENFEAT_highmem_assist') | feat('XENFEAT_gnttab_map_avail_bits');
        if (x86 && !pv) submap |= feat('XENFEAT_hvm_safe_pvclock') | feat('XENFEAT_hvm_callback_vector');
        submap |= translated ? feat('XENFEAT_not_direct_mapped') : feat('XENFEAT_direct_mapped');
        fi.submap = submap >>> 0;
        return 0;
      }),
    // A non-NULL argument is -EINVAL; the dispatcher hands this arg-less command no pointer, so read the register.
    xen_version$XENVER_pagesize: (c) => (BigInt.asUintN(c.domain.arch.wordSize * 8, vmm.callRegs[c.domain.abi.convention.args[1] as string] ?? 0n) !== 0n ? (E['EINVAL'] as number) : PAGE_SIZE),
  };
}
