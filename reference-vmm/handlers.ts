/**
 * The reference VMM's implementation of the generated handler interface: each method reads
 * its argument struct from guest memory (copy in), calls the subsystem, and writes the struct
 * back only on success (copy out), as Xen's do_*_op wrappers do. Operations without a method
 * here are answered -ENOSYS by the generated dispatcher; `coverage.ts` lists them.
 *
 * Xen 4.17.7 handlers are the reference: xen/common/event_channel.c (do_event_channel_op),
 * xen/common/kernel.c (do_xen_version), xen/drivers/char/console.c (do_console_io),
 * xen/common/sched/core.c (do_sched_op).
 */
import type { XenHandler } from '../generated/xen/handler.js';
import type { GuestArrayRef, GuestRef } from '../generated/xen/runtime.js';
import { constantValue, LayoutEngine, type Arch } from '../spec/index.js';
import { PAGE_SIZE } from './addr.js';
import type { Domain } from './machine.js';
import type { ReferenceVmm } from './vmm.js';

/** What the dispatcher passes to every handler method. */
export interface CallContext {
  vmm: ReferenceVmm;
  domain: Domain;
  vcpu: number;
}

/** Copy in, run, copy out on success (Xen's pattern for every struct-carrying sub-op). */
function inOut<T>(ref: GuestRef<T>, run: (v: T) => number): number {
  const v = ref.read();
  const rc = run(v);
  if (rc === 0) ref.write(v);
  return rc;
}

/** A NUL-terminated, zero-padded byte array of `size` bytes holding `s` (truncated to fit). */
function cString(s: string, size: number): number[] {
  const out = new Array<number>(size).fill(0);
  const bytes = new TextEncoder().encode(s);
  for (let i = 0; i < Math.min(bytes.length, size - 1); i++) out[i] = bytes[i] as number;
  return out;
}

/** Builds the handler object of a VMM. */
export function xenHandler(vmm: ReferenceVmm): XenHandler<CallContext> {
  const spec = vmm.machine.spec;
  const E = vmm.machine.errno;
  const num = (name: string): number => {
    const v = constantValue(spec, name);
    if (typeof v !== 'number') throw new Error(`spec has no numeric constant ${name}`);
    return v;
  };
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
  const ev = vmm.evtchn;
  const shutdownCodeMask = 0xff;

  return {
    // ───────── event_channel_op ─────────
    event_channel_op$EVTCHNOP_alloc_unbound: (c, arg) => inOut(arg, (a) => ev.allocUnbound(c.domain, a)),
    event_channel_op$EVTCHNOP_bind_interdomain: (c, arg) => inOut(arg, (a) => ev.bindInterdomain(c.domain, a)),
    event_channel_op$EVTCHNOP_bind_virq: (c, arg) => inOut(arg, (a) => ev.bindVirq(c.domain, a)),
    event_channel_op$EVTCHNOP_bind_ipi: (c, arg) => inOut(arg, (a) => ev.bindIpi(c.domain, a)),
    event_channel_op$EVTCHNOP_close: (c, arg) => ev.close(c.domain, arg.read()),
    event_channel_op$EVTCHNOP_send: (c, arg) => ev.send(c.domain, arg.read()),
    event_channel_op$EVTCHNOP_status: (c, arg) =>
      inOut(arg, (a) => ev.statusOf(c.domain, a as unknown as Parameters<typeof ev.statusOf>[1])),
    event_channel_op$EVTCHNOP_bind_vcpu: (c, arg) => ev.bindVcpu(c.domain, arg.read()),
    event_channel_op$EVTCHNOP_unmask: (c, arg) => ev.unmask(c.domain, arg.read()),

    // ───────── xen_version ─────────
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
    xen_version$XENVER_pagesize: () => PAGE_SIZE,

    // ───────── console_io ─────────
    console_io$CONSOLEIO_write: (c, count, buffer: GuestArrayRef<number>) => {
      if (!c.domain.privileged) return E['EPERM'] as number;
      for (let i = 0; i < count; i++) c.domain.console.push(buffer.read(i) & 0xff);
      return 0;
    },
    console_io$CONSOLEIO_read: (c, count) => {
      if (!c.domain.privileged) return E['EPERM'] as number;
      if (count > 0x7fffffff) return E['E2BIG'] as number;
      return 0;
    },

    // ───────── sched_op ─────────
    sched_op$SCHEDOP_yield: () => 0,
    sched_op$SCHEDOP_shutdown_code: (c, arg) => {
      const reason = arg.read().reason & shutdownCodeMask;
      if (c.domain.shutdownCode === undefined) c.domain.shutdownCode = reason;
      return 0;
    },
    sched_op$SCHEDOP_shutdown: (c, arg) => {
      const reason = arg.read().reason & shutdownCodeMask;
      if (c.domain.shutdownCode === undefined) c.domain.shutdownCode = reason;
      c.domain.shutDown = true;
      return 0;
    },
  };
}
